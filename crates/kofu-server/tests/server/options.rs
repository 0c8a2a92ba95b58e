//! The option matrix: every option a kind accepts is printed (its item is in the PDF's
//! text, and is not without it), and every option it does not accept is refused,
//! naming the option. Nothing requested is dropped silently (さいたま's 旧氏).

use super::*;
use kofu_app::certificate::{CertificateRequest, SubjectRef};
use kofu_domain::certificate::OptionError;
use kofu_domain::{
    Applicant, CertificateKind, CertificateOption, CertificateOptions, Channel, HouseholdSelection,
};

/// 見本 太郎: head of household, 個人番号 and 本籍 on record, a tax record.
const TARO: &str = "00000000019";
/// 見本 花子: a registered 旧氏 (葛西) and a seal.
const HANAKO: &str = "00000000027";

/// The options with `option` chosen (and a tax year, which a 課税証明書 always needs).
fn with(kind: CertificateKind, option: Option<CertificateOption>) -> CertificateOptions {
    use CertificateOption as O;
    let mut o = CertificateOptions {
        tax_year: (kind == CertificateKind::ShotokuKazei).then_some(2026),
        ..Default::default()
    };
    match option {
        Some(O::Household) => o.household = HouseholdSelection::All,
        Some(O::ShowRelationship) => o.show_relationship = true,
        Some(O::ShowHonseki) => o.show_honseki = true,
        Some(O::ShowMyNumber) => o.show_my_number = true,
        Some(O::ShowFormerSurname) => o.show_former_surname = true,
        Some(O::ShowResidentCode) => o.show_resident_code = true,
        Some(O::TaxYear) => o.tax_year = Some(2026),
        Some(O::OmitSeal) => o.omit_seal = true,
        None => {}
    }
    o
}

fn request(
    kind: CertificateKind,
    subject: &str,
    options: CertificateOptions,
) -> CertificateRequest {
    let applicant = if options.omit_seal {
        Applicant::Official {
            office: "見本税務署".into(),
        }
    } else {
        Applicant::Person
    };
    CertificateRequest {
        request_id: new_id(),
        kind,
        subject: SubjectRef::Resident(subject.into()),
        options,
        channel: Channel::Counter,
        applicant: Some(applicant),
        at: time::OffsetDateTime::parse(MORNING, &time::format_description::well_known::Rfc3339)
            .unwrap(),
        number: kofu_domain::IssueNumber {
            date: "2026-05-07".parse().unwrap(),
            municipality: "見本市".into(),
            point: kofu_domain::IssuePoint::Counter {
                terminal: "本庁1".into(),
                printer: "P001".into(),
            },
            serial: 1,
        },
        card: None,
    }
}

/// A PDF's text as poppler lays it out, without spaces: a label drawn letter-spaced
/// (「続　柄」) reads as one word.
fn layout_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is needed");
    String::from_utf8_lossy(&out.stdout).replace([' ', '\u{3000}'], "")
}

/// How many images a PDF draws (the 電子公印 is one of them).
fn images(pdf: &[u8]) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdfimages")
        .args(["-list", path.to_str().unwrap()])
        .output()
        .expect("pdfimages (poppler-utils) is needed");
    // Two header lines, then one line per image drawn.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .count()
        .saturating_sub(2)
}

pub(super) async fn every_accepted_option_is_printed_and_every_other_refused(db: Db) {
    use CertificateOption as O;
    let fonts = fonts();
    // 花子's seal, revoked in this town, registered again: her 印鑑登録証明書 is the
    // one that shows a 旧氏.
    let feed = std::fs::read_to_string(feed("kiosk-town.jsonl")).unwrap();
    let mut seal: Value = feed
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["type"] == "seal" && r["resident_id"] == HANAKO)
        .unwrap();
    seal["status"] = json!("active");
    super::protected::change(&db, 1, "upsert", &seal).await;
    let mut failures = Vec::new();
    for kind in CertificateKind::ALL {
        let accepted = kind.accepted_options(Channel::Counter);
        for option in CertificateOption::ALL {
            // Whose certificate shows the option's item, and the item's text.
            let (subject, item) = match option {
                O::Household => (TARO, "見本次郎"),
                O::ShowRelationship => (TARO, "続柄"),
                O::ShowHonseki => (TARO, "本籍"),
                O::ShowMyNumber => (TARO, "個人番号"),
                O::ShowFormerSurname => (HANAKO, "旧氏"),
                O::ShowResidentCode => (TARO, "住民票コード"),
                O::TaxYear => (TARO, "令和8年度"),
                O::OmitSeal => (TARO, ""),
            };
            let subject = if kind == CertificateKind::Inkan {
                HANAKO
            } else {
                subject
            };
            let asked = request(kind, subject, with(kind, Some(option)));
            let got = kofu_app::render_certificate(&db.store, &fonts, &asked).await;
            if !accepted.contains(&option) {
                match got {
                    Err(kofu_app::AppError::InvalidOptions(OptionError::NotForKind {
                        option: named,
                        kind: k,
                    })) if named == option.code() && k == kind => {}
                    other => failures.push(format!(
                        "{kind} {}: not accepted, yet {:?}",
                        option.code(),
                        other.map(|_| "issued")
                    )),
                }
                continue;
            }
            let cert = match got {
                Ok(cert) => cert,
                Err(e) => {
                    failures.push(format!("{kind} {}: {e}", option.code()));
                    continue;
                }
            };
            let without = kofu_app::render_certificate(
                &db.store,
                &fonts,
                &request(kind, subject, with(kind, None)),
            )
            .await
            .unwrap();
            if option == O::OmitSeal {
                // 公印省略: one image fewer, the 電子公印.
                if images(&cert.pdf.bytes) + 1 != images(&without.pdf.bytes) {
                    failures.push(format!("{kind} omit_seal: the seal is still drawn"));
                }
                continue;
            }
            let text = layout_text(&cert.pdf.bytes);
            if !text.contains(item) {
                failures.push(format!("{kind} {}: {item} not printed", option.code()));
            }
            if option != O::TaxYear && layout_text(&without.pdf.bytes).contains(item) {
                failures.push(format!(
                    "{kind} {}: {item} printed without the option",
                    option.code()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The counter app's form offers exactly the domain's counter options for each kind:
/// its table (`ui/src/logic/request.ts`, `KIND_OPTIONS`) is compared with the matrix
/// the counter API serves.
#[test]
fn the_counter_app_offers_the_matrix() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/logic/request.ts");
    let source = std::fs::read_to_string(&path).unwrap();
    let start = source
        .find("export const KIND_OPTIONS")
        .expect("KIND_OPTIONS in request.ts");
    let table = &source[start..];
    let table = &table[..table.find("\n};").expect("the table's end")];
    for (kind, options) in kofu_app::counter::counter_option_matrix() {
        let at = table
            .find(&format!("  {}: {{", kind.code()))
            .unwrap_or_else(|| panic!("{kind} missing from KIND_OPTIONS"));
        let entry = &table[at..];
        let entry = &entry[..entry.find("},").or_else(|| entry.find('}')).unwrap()];
        let mut offered: Vec<String> = Vec::new();
        if entry.contains("household: true") {
            offered.push("household".into());
        }
        if entry.contains("taxYear: true") {
            offered.push("tax_year".into());
        }
        let flags = &entry[entry.find("flags: [").expect("flags") + 8..];
        let flags = &flags[..flags.find(']').unwrap()];
        offered.extend(
            flags
                .split(',')
                .map(|f| f.trim().trim_matches('\'').to_owned())
                .filter(|f| !f.is_empty()),
        );
        offered.sort();
        let mut expected: Vec<String> = options.iter().map(|o| o.code().to_owned()).collect();
        expected.sort();
        assert_eq!(
            offered, expected,
            "{kind}: the app's form and the matrix differ"
        );
    }
}
