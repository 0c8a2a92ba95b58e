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
    super::protected::counter_certificate(
        kind,
        SubjectRef::Resident(subject.into()),
        options,
        applicant,
    )
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
            // A 課税証明書 always has its 年度; a 印鑑登録証明書 prints a 旧氏 whenever one
            // is recorded, asked for or not.
            let always = option == O::TaxYear
                || (kind == CertificateKind::Inkan && option == O::ShowFormerSurname);
            if !always && layout_text(&without.pdf.bytes).contains(item) {
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

/// The legal forms' items (戸籍法施行規則 付録第二十二号, the 2019 附票 amendment, a town's
/// 所得・課税証明書, 印鑑登録証明事務処理要領), rendered from the store on each backend:
/// per kind, what the page must show and what it must not.
pub(super) async fn printed_forms_carry_the_legal_items(db: Db) {
    let fonts = fonts();
    let cases: [(CertificateKind, &str, &[&str], &[&str]); 4] = [
        (
            CertificateKind::Fuhyo,
            TARO,
            &["生年月日", "昭和55年4月1日", "性別", "男"],
            &[],
        ),
        (
            CertificateKind::ShotokuKazei,
            TARO,
            &[
                "収入金額",
                "給与収入",
                "所得金額",
                "給与所得",
                "市民税所得割",
                "市民税均等割",
                "県民税所得割",
                "県民税均等割",
            ],
            &["市町村民税", "道府県民税"],
        ),
        (
            CertificateKind::KosekiZenbu,
            TARO,
            &["【婚姻日】平成20年10月10日", "【出生日】昭和55年4月1日"],
            &["【養子縁組日】", "2008-10-10"],
        ),
        (
            CertificateKind::Juminhyo,
            HANAKO,
            &["住民票の写し"],
            &["旧氏"],
        ),
    ];
    let mut failures = Vec::new();
    for (kind, subject, must, must_not) in cases {
        let cert = kofu_app::render_certificate(
            &db.store,
            &fonts,
            &request(kind, subject, with(kind, None)),
        )
        .await
        .unwrap_or_else(|e| panic!("{kind}: {e}"));
        let text = layout_text(&cert.pdf.bytes);
        failures.extend(
            must.iter()
                .filter(|m| !text.contains(&m.replace(' ', "")))
                .map(|m| format!("{kind}: {m} missing")),
        );
        failures.extend(
            must_not
                .iter()
                .filter(|m| text.contains(&m.replace(' ', "")))
                .map(|m| format!("{kind}: {m} printed")),
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The counter app's tests run against the real matrix: the answer of
/// `GET /counter/v1/options` their mocked back end gives (`ui/src/testUtil.ts`,
/// `OPTION_MATRIX`) is the matrix the counter API serves, kind by kind, in order.
#[test]
fn the_counter_apps_tests_use_the_matrix() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/testUtil.ts");
    let source = std::fs::read_to_string(&path).unwrap();
    let start = source
        .find("export const OPTION_MATRIX")
        .expect("OPTION_MATRIX in testUtil.ts");
    let table = &source[start..];
    let table = &table[..table.find("\n};").expect("the table's end")];
    for (kind, options) in kofu_app::counter::counter_option_matrix() {
        let at = table
            .find(&format!("  {}: [", kind.code()))
            .unwrap_or_else(|| panic!("{kind} missing from OPTION_MATRIX"));
        let entry = &table[at + kind.code().len() + 5..];
        let entry = &entry[..entry.find(']').unwrap()];
        let offered: Vec<&str> = entry
            .split(',')
            .map(|o| o.trim().trim_matches('\''))
            .filter(|o| !o.is_empty())
            .collect();
        let expected: Vec<&str> = options.iter().map(|o| o.code()).collect();
        assert_eq!(
            offered, expected,
            "{kind}: OPTION_MATRIX and the matrix differ"
        );
    }
}
