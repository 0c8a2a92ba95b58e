//! Protected persons: every person a certificate shows is checked, whatever form the
//! subject was named in (a resident, a whole 戸籍, one member), at the counter and at
//! the kiosk. The town (`tests/feeds/protected-town.jsonl`): 保護 太郎 (the card holder)
//! and their son 次郎 in one household; 太郎's wife 花子, who left and lives at another
//! address in a household of her own, is still member 2 of his 戸籍 K0101 (linked by
//! name and birth date only, as a registry often leaves it).

use super::*;
use kofu_app::certificate::{CertificateRequest, SubjectRef};
use kofu_app::staff::Role;
use kofu_domain::{Applicant, CertificateKind, CertificateOptions, Channel, HouseholdSelection};

const HUSBAND: &str = "00000000116";
const WIFE: &str = "00000000108";
const SON: &str = "00000000124";
/// Where 花子 lives now: the address a support measure exists to hide.
const REFUGE: &str = "新町九丁目9番9号";

/// How the subject is named.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Form {
    /// The resident 太郎 (the kiosk's only form: the card holder).
    Resident,
    /// The whole 戸籍 K0101.
    Koseki,
    /// One member of K0101.
    Member(u32),
}

/// What is on the register for the case.
#[derive(Clone, Copy, Debug)]
enum Protection {
    None,
    Measure(&'static str),
    Suppression(&'static str),
}

impl Protection {
    /// The records the case puts on the register.
    fn record(self) -> Option<Value> {
        match self {
            Protection::None => None,
            Protection::Measure(id) => Some(
                json!({"type": "support_measure", "resident_id": id, "from": "2026-01-10", "to": null}),
            ),
            Protection::Suppression(id) => Some(
                json!({"type": "suppression", "scope": "person", "id": id, "certificates": [],
                       "level": "error", "from": "2026-01-10", "to": null, "reason": "本人からの申出"}),
            ),
        }
    }

    /// The refusal a protected case answers.
    fn reason(self) -> &'static str {
        match self {
            Protection::Suppression(_) => "suppressed",
            _ => "support_measure",
        }
    }
}

use CertificateKind::*;
use Form::*;

/// Every (kind, form) asked: the four resident-only kinds by resident, the 戸籍 kinds in
/// every form that names what they print (a 個人事項証明書 needs one member).
const ASKED: [(CertificateKind, Form); 14] = [
    (Juminhyo, Resident),
    (KisaiJiko, Resident),
    (Inkan, Resident),
    (ShotokuKazei, Resident),
    (KosekiZenbu, Resident),
    (KosekiKojin, Resident),
    (Fuhyo, Resident),
    (KosekiZenbu, Koseki),
    (Fuhyo, Koseki),
    (KosekiKojin, Member(1)),
    (Fuhyo, Member(1)),
    (KosekiKojin, Member(2)),
    (Fuhyo, Member(2)),
    (KosekiZenbu, Member(2)),
];

/// Which of [`ASKED`] are refused when `who` is protected, written out by hand from the
/// rule: refused when the certificate shows the protected person, or shows the address
/// of someone in the protected person's household. 太郎's 住民票 shows his household (so
/// 次郎); a 戸籍全部事項証明書 shows every member; a member's 個人事項証明書 or 附票 shows
/// that member; a whole 戸籍's 附票 shows every member.
fn refused(who: &str) -> Vec<(CertificateKind, Form)> {
    match who {
        // 太郎 and 次郎 share an address: whatever shows either is refused.
        HUSBAND | SON => vec![
            (Juminhyo, Resident),
            (KisaiJiko, Resident),
            (Inkan, Resident),
            (ShotokuKazei, Resident),
            (KosekiZenbu, Resident),
            (KosekiKojin, Resident),
            (Fuhyo, Resident),
            (KosekiZenbu, Koseki),
            (Fuhyo, Koseki),
            (KosekiKojin, Member(1)),
            (Fuhyo, Member(1)),
            (KosekiZenbu, Member(2)),
        ],
        // 花子 is on every certificate of the whole 戸籍 and on her own entries; not
        // on 太郎's 住民票, 印鑑, 課税, nor on his own 個人事項 or 附票.
        WIFE => vec![
            (KosekiZenbu, Resident),
            (KosekiZenbu, Koseki),
            (Fuhyo, Koseki),
            (KosekiKojin, Member(2)),
            (Fuhyo, Member(2)),
            (KosekiZenbu, Member(2)),
        ],
        _ => Vec::new(),
    }
}

fn expected(p: Protection, kind: CertificateKind, form: Form) -> Option<&'static str> {
    match p {
        Protection::None => None,
        Protection::Measure(who) | Protection::Suppression(who) => {
            refused(who).contains(&(kind, form)).then(|| p.reason())
        }
    }
}

/// Applies one change event to the register.
pub(super) async fn change(db: &Db, seq: i64, op: &str, record: &Value) {
    let mut record = record.clone();
    if op == "delete" {
        // A delete names the record by its key only.
        let obj = record.as_object_mut().unwrap();
        obj.retain(|k, _| matches!(k.as_str(), "type" | "resident_id" | "scope" | "id"));
    }
    let line = json!({"type": "change", "seq": seq, "at": "2026-01-10T09:00:00+09:00",
                      "op": op, "record": record});
    kofu_app::import_feed(&db.store, std::io::Cursor::new(format!("{line}\n")))
        .await
        .unwrap();
}

fn request(kind: CertificateKind, form: Form) -> CertificateRequest {
    let subject = match form {
        Resident => SubjectRef::Resident(HUSBAND.into()),
        Koseki => SubjectRef::Koseki {
            koseki_id: "K0101".into(),
            member_no: None,
        },
        Member(n) => SubjectRef::Koseki {
            koseki_id: "K0101".into(),
            member_no: Some(n),
        },
    };
    let options = CertificateOptions {
        household: if kind.is_juminhyo() {
            HouseholdSelection::All
        } else {
            HouseholdSelection::SelfOnly
        },
        tax_year: (kind == ShotokuKazei).then_some(2026),
        ..Default::default()
    };
    counter_certificate(kind, subject, options, Applicant::Person)
}

/// A counter request for `kind` on the morning the tests replay, numbered on 本庁1/P001:
/// what the counter use cases and `kofu render` hand to the rendering use case.
pub(super) fn counter_certificate(
    kind: CertificateKind,
    subject: SubjectRef,
    options: CertificateOptions,
    applicant: Applicant,
) -> CertificateRequest {
    CertificateRequest {
        request_id: new_id(),
        kind,
        subject,
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

const CASES: [Protection; 5] = [
    Protection::None,
    Protection::Measure(HUSBAND),
    Protection::Measure(WIFE),
    Protection::Measure(SON),
    Protection::Suppression(WIFE),
];

/// Kinds × subject forms × who is protected, through the use case every counter path
/// and `kofu render` call. An issued certificate never carries 花子's new address while
/// anything protects her.
pub(super) async fn every_person_shown_is_checked_in_every_form(db: Db) {
    let fonts = fonts();
    let mut seq = 1;
    let mut failures = Vec::new();
    for p in CASES {
        if let Some(r) = p.record() {
            change(&db, seq, "upsert", &r).await;
            seq += 1;
        }
        for (kind, form) in ASKED {
            let want = expected(p, kind, form);
            let got = kofu_app::render_certificate(&db.store, &fonts, &request(kind, form)).await;
            match (&got, want) {
                (Ok(cert), None) => {
                    let text = pdf_text(&cert.pdf.bytes);
                    if matches!(p, Protection::Measure(WIFE) | Protection::Suppression(WIFE))
                        && text.contains(REFUGE)
                    {
                        failures.push(format!("{p:?} {kind} {form:?}: printed {REFUGE}"));
                    }
                }
                (Err(kofu_app::AppError::Refused(r)), Some(reason))
                    if r.reason.code() == reason =>
                {
                    // The clerk is told who: the detail names the protected person.
                    let named = match p {
                        Protection::Measure(id) | Protection::Suppression(id) => id,
                        Protection::None => "",
                    };
                    if !r.detail.contains(named) {
                        failures.push(format!("{p:?} {kind} {form:?}: detail {:?}", r.detail));
                    }
                }
                _ => failures.push(format!(
                    "{p:?} {kind} {form:?}: expected {want:?}, got {:?}",
                    got.as_ref().map(|_| "issued").map_err(|e| e.to_string())
                )),
            }
        }
        if let Some(r) = p.record() {
            change(&db, seq, "delete", &r).await;
            seq += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The kiosk (the card holder's form) answers the same, with the protocol's reasons,
/// on the inquiry and again on the issuance; and a counter request of the whole 戸籍's
/// 附票 stops, names 花子 to the clerk, and issues only on a support officer's
/// override with a reason, which the day's report shows.
pub(super) async fn kiosk_refuses_a_protected_member_of_the_koseki(db: Db) {
    let s = Server::new(&db).await;
    let mut seq = 1;
    let mut failures = Vec::new();
    for p in CASES {
        if let Some(r) = p.record() {
            change(&db, seq, "upsert", &r).await;
            seq += 1;
        }
        for (kind, _) in ASKED.iter().filter(|(_, f)| *f == Resident) {
            let want = expected(p, *kind, Resident);
            let (status, body) = s
                .post(
                    "/lgwan/v1/inquiries",
                    &inquiry(&new_id(), "3A3A3A3A", kind.code(), MORNING),
                )
                .await;
            let got = match body["available"].as_bool() {
                Some(true) => None,
                _ => body["reason"].as_str(),
            };
            if status != StatusCode::OK || got != want {
                failures.push(format!(
                    "inquiry {p:?} {kind}: {status} {got:?}, expected {want:?}"
                ));
            }
            let options = match kind {
                Juminhyo | KisaiJiko => json!({"household": "all"}),
                ShotokuKazei => json!({"tax_year": 2026}),
                _ => json!({}),
            };
            let (status, body) = s
                .post(
                    "/lgwan/v1/issuances",
                    &issuance(&new_id(), "3A3A3A3A", kind.code(), options, 1),
                )
                .await;
            let got = if status == StatusCode::OK {
                None
            } else {
                body["error"]["code"].as_str()
            };
            if got != want {
                failures.push(format!(
                    "issuance {p:?} {kind}: {status} {got:?}, expected {want:?}"
                ));
            } else if status == StatusCode::OK && matches!(p, Protection::Measure(WIFE)) {
                let text = pdf_text(&pdf_of(&body["documents"][0]));
                if text.contains(REFUGE) {
                    failures.push(format!("issuance {p:?} {kind}: printed {REFUGE}"));
                }
            }
        }
        if let Some(r) = p.record() {
            change(&db, seq, "delete", &r).await;
            seq += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // The counter: the whole 戸籍's 附票, asked for by 太郎, while 花子 is protected.
    let measure = Protection::Measure(WIFE).record().unwrap();
    change(&db, seq, "upsert", &measure).await;
    let clerk = enrol(&db, "abe", Role::Clerk).await;
    let officer = enrol(&db, "shien", Role::SupportOfficer).await;
    let boss = enrol(&db, "boss", Role::Supervisor).await;
    let c = Counter::new(&db).await;
    let clerk_token = logged_in(&c, &clerk).await;
    let body = json!({"request_id": new_id(), "applicant": {"type": "person"},
        "identity": {"photo": ["運転免許証"]}, "certificate": "fuhyo",
        "subject": {"koseki_id": "K0101"}, "copies": 1, "terminal": "本庁1",
        "printer": "P001", "payment": "cash"});
    let (status, err) = c
        .call(
            "POST",
            "/counter/v1/issuances",
            Some(&clerk_token),
            Some(&body),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    assert_eq!(err["error"]["code"], "support_measure", "{err}");
    let detail = err["error"]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("保護 花子") && detail.contains(WIFE),
        "the clerk is told who is protected: {err}"
    );
    assert_eq!(
        err["error"]["person"],
        json!({"resident_id": WIFE, "name": "保護 花子", "relation": "shown"}),
        "{err}"
    );
    // The same stop on a preview: nothing of hers is shown before an override.
    let (status, err) = c
        .call(
            "POST",
            "/counter/v1/previews",
            Some(&clerk_token),
            Some(&body),
        )
        .await;
    assert_eq!(err["error"]["code"], "support_measure", "{status} {err}");

    let officer_token = logged_in(&c, &officer).await;
    let mut overriding = body.clone();
    overriding["override_reason"] = json!("支援措置申出者本人の依頼により本人へ交付");
    let (status, issued) = c
        .call(
            "POST",
            "/counter/v1/issuances",
            Some(&officer_token),
            Some(&overriding),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let boss_token = logged_in(&c, &boss).await;
    let report = todays_report(&c, &boss_token).await;
    let overrides = report["overrides"].as_array().unwrap();
    assert_eq!(overrides.len(), 1, "{report}");
    assert_eq!(overrides[0]["reason"], overriding["override_reason"]);
    assert_eq!(overrides[0]["issuance_id"], issued["issuance_id"]);
}
