//! 住民票記載事項証明書: 住所, 世帯主名, 氏名, 性別, 生年月日, 続柄 of the chosen
//! members, certified as stated in the 住民票.

use kofu_domain::{CertificateKind, CertificateOptions, Household, Resident};

use super::juminhyo::{my_number_spaced, selected};
use super::{CertificateDocument, IssueContext, Item, Section, Subject, date_in};
use crate::error::RenderError;

/// 認証文 of the 記載事項証明書.
pub const CERT: &str = "上記の事項は、住民票に記載されていることを証明する。";

/// Composes a 住民票記載事項証明書.
pub fn compose(
    household: &Household,
    subject: &Resident,
    options: &CertificateOptions,
    ctx: &IssueContext<'_>,
) -> Result<CertificateDocument, RenderError> {
    let members = selected(household, subject, &options.household)?;
    let mut heading = vec![vec![Item::text("address", "住所", &subject.address)]];
    if options.show_relationship {
        let head = household
            .head()
            .ok_or_else(|| RenderError::Invalid("household has no 世帯主".into()))?;
        heading.push(vec![Item::name("head", "世帯主", head.full_name())]);
    }
    let mut sections = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let f = |name: &str| format!("members[{i}].{name}");
        let mut rows = vec![vec![Item::name(f("name"), "氏名", m.full_name())]];
        if options.show_former_surname
            && let Some(former) = &m.former_family
        {
            rows.push(vec![Item::name(f("former_surname"), "旧氏", former)]);
        }
        rows.push(vec![
            Item::text(
                f("birth_date"),
                "生年月日",
                date_in(m.birth_date, m.birth_date_style(), &f("birth_date"))?,
            ),
            Item::text(f("sex"), "性別", m.sex.kanji()),
        ]);
        if options.show_relationship {
            rows.push(vec![Item::text(f("relationship"), "続柄", &m.relationship)]);
        }
        if options.show_my_number
            && let Some(n) = &m.my_number
        {
            rows.push(vec![Item::text(
                f("my_number"),
                "個人番号",
                my_number_spaced(n.expose()),
            )]);
        }
        sections.push(Section { title: None, rows });
    }
    Ok(CertificateDocument {
        kind: CertificateKind::KisaiJiko,
        request_id: ctx.request_id.clone(),
        subject: Subject {
            id: subject.resident_id.clone(),
            label: "氏名".into(),
            name: subject.full_name(),
        },
        heading,
        picture: None,
        sections,
        fixed: ctx.fixed(CERT)?,
    })
}
