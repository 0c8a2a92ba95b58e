//! 戸籍の附票の写し: 本籍, 筆頭者, then for each person 氏名, 生年月日 and 性別 (items
//! of the 附票 since the 2019 amendment, in force 2024-05-27) and the address
//! history (住所 and 住所を定めた年月日) in order.

use kofu_domain::{CertificateKind, Fuhyo, Koseki};

use super::{CertificateDocument, IssueContext, Item, Section, Subject, wareki};
use crate::error::RenderError;

/// 認証文 of the 附票の写し.
pub const CERT: &str = "この写しは、戸籍の附票の原本と相違ないことを証明する。";

/// Composes a 戸籍の附票の写し of the given 附票 (one per person) of `koseki`.
pub fn compose(
    koseki: &Koseki,
    fuhyo: &[Fuhyo],
    ctx: &IssueContext<'_>,
) -> Result<CertificateDocument, RenderError> {
    if fuhyo.is_empty() {
        return Err(RenderError::Invalid("no 附票 to certify".into()));
    }
    let heading = vec![
        vec![Item::text("honseki", "本籍", &koseki.honseki)],
        vec![Item::name("hitto", "筆頭者", &koseki.hitto)],
    ];
    let mut sections = Vec::new();
    for (i, fu) in fuhyo.iter().enumerate() {
        if fu.koseki_id != koseki.koseki_id {
            return Err(RenderError::Invalid(format!(
                "附票 of 戸籍 {} given for 戸籍 {}",
                fu.koseki_id, koseki.koseki_id
            )));
        }
        let m = koseki.member(fu.member_no).ok_or_else(|| {
            RenderError::Invalid(format!(
                "no member {} in 戸籍 {}",
                fu.member_no, koseki.koseki_id
            ))
        })?;
        let f = |name: &str| format!("persons[{i}].{name}");
        let mut rows = vec![
            vec![Item::name(f("name"), "氏名", m.full_name())],
            vec![
                Item::text(
                    f("birth_date"),
                    "生年月日",
                    wareki(m.birth_date, &f("birth_date"))?,
                ),
                Item::text(f("sex"), "性別", m.sex.kanji()),
            ],
        ];
        for (j, e) in fu.entries.iter().enumerate() {
            rows.push(vec![Item::text(
                f(&format!("entries[{j}].address")),
                "住所",
                &e.address,
            )]);
            rows.push(vec![Item::text(
                f(&format!("entries[{j}].from")),
                "住所を定めた日",
                wareki(e.from, &f("from"))?,
            )]);
        }
        sections.push(Section { title: None, rows });
    }
    Ok(CertificateDocument {
        kind: CertificateKind::Fuhyo,
        request_id: ctx.request_id.clone(),
        subject: Subject {
            id: koseki.koseki_id.clone(),
            label: "筆頭者".into(),
            name: koseki.hitto.clone(),
        },
        heading,
        picture: None,
        sections,
        fixed: ctx.fixed(CERT)?,
    })
}
