//! 戸籍全部事項証明書 and 戸籍個人事項証明書 in the computerised 戸籍 style: 本籍 and
//! 氏名 (筆頭者), 戸籍事項, then for each person 戸籍に記録されている者 with 【名】,
//! 【生年月日】, 【父】【母】【続柄】 and the person's 身分事項.

use kofu_domain::{CertificateKind, Koseki, KosekiEvent, KosekiMember};

use super::{CertificateDocument, IssueContext, Item, Section, Subject, wareki};
use crate::error::RenderError;

/// 認証文 of the 全部事項証明書.
pub const CERT_ZENBU: &str = "これは、戸籍に記録されている事項の全部を証明した書面である。";
/// 認証文 of the 個人事項証明書.
pub const CERT_KOJIN: &str =
    "これは、戸籍中の一部の者について記録されている事項の全部を証明した書面である。";

/// The tag of an event's date as the official form writes it (戸籍法施行規則 付録第二十二号):
/// 【縁組日】 for a 養子縁組, 【離縁日】 for a 養子離縁, else 【<kind>日】 (【出生日】,
/// 【婚姻日】, 【死亡日】 …).
fn date_tag(kind: &str) -> String {
    let stem = match kind {
        "養子縁組" => "縁組",
        "養子離縁" => "離縁",
        other => other,
    };
    format!("【{stem}日】")
}

/// A detail's value as printed: a date (`YYYY-MM-DD`, as the registry sends 【届出日】
/// and the like) in 和暦 like every date of the form, anything else as it is.
fn detail_value(field: &str, v: &str) -> Result<String, RenderError> {
    match v.parse::<kofu_domain::Date>() {
        Ok(d) if v.len() == 10 => wareki(d, field),
        _ => Ok(v.to_owned()),
    }
}

fn event_rows(
    field: &str,
    label: &str,
    ev: &KosekiEvent,
    rows: &mut Vec<Vec<Item>>,
) -> Result<(), RenderError> {
    rows.push(vec![Item::text(
        format!("{field}.date"),
        label,
        format!("{}{}", date_tag(&ev.kind), wareki(ev.date, field)?),
    )]);
    for (k, v) in ev.details.iter() {
        let value = detail_value(&format!("{field}.{k}"), v)?;
        rows.push(vec![Item::text(
            format!("{field}.{k}"),
            "",
            format!("【{k}】{value}"),
        )]);
    }
    Ok(())
}

fn member_section(i: usize, m: &KosekiMember) -> Result<Section, RenderError> {
    let f = |name: &str| format!("members[{i}].{name}");
    // A person removed from the 戸籍 (death, marriage into another …) stays on it,
    // marked 除籍 beside the name as the official form does.
    let mut rows = match m.removed {
        Some(_) => vec![vec![
            Item::name(f("given"), "名", &m.given),
            Item::text(f("removed_mark"), "", "除籍"),
        ]],
        None => vec![vec![Item::name(f("given"), "名", &m.given)]],
    };
    let birth = Item::text(
        f("birth_date"),
        "生年月日",
        wareki(m.birth_date, &f("birth_date"))?,
    );
    match m.role.as_deref() {
        Some(role @ ("夫" | "妻")) => {
            rows.push(vec![birth, Item::text(f("role"), "配偶者区分", role)]);
        }
        _ => rows.push(vec![birth]),
    }
    for (key, label, v) in [
        ("father", "父", &m.father),
        ("mother", "母", &m.mother),
        ("parent_relationship", "続柄", &m.parent_relationship),
        ("adoptive_father", "養父", &m.adoptive_father),
        ("adoptive_mother", "養母", &m.adoptive_mother),
        (
            "adoptive_relationship",
            "養親との続柄",
            &m.adoptive_relationship,
        ),
    ] {
        if let Some(v) = v {
            rows.push(vec![Item::name(f(key), label, v)]);
        }
    }
    rows.push(vec![Item::text(f("events"), "身分事項", "")]);
    for (j, ev) in m.events.iter().enumerate() {
        event_rows(&f(&format!("events[{j}]")), &ev.kind, ev, &mut rows)?;
    }
    if let Some(r) = &m.removed {
        // Headed by what happened (死亡, 婚姻 …), like every other event.
        event_rows(&f("removed"), &r.kind, r, &mut rows)?;
    }
    Ok(Section {
        title: Some("戸籍に記録されている者".into()),
        rows,
    })
}

fn compose_with(
    koseki: &Koseki,
    members: Vec<(usize, &KosekiMember)>,
    kind: CertificateKind,
    subject: Subject,
    ctx: &IssueContext<'_>,
) -> Result<CertificateDocument, RenderError> {
    let heading = vec![
        vec![Item::text("honseki", "本籍", &koseki.honseki)],
        vec![Item::name("hitto", "氏名", &koseki.hitto)],
    ];
    let mut sections = Vec::new();
    if !koseki.events.is_empty() {
        let mut rows = Vec::new();
        for (j, ev) in koseki.events.iter().enumerate() {
            let label = if ev.kind == "編製" {
                "戸籍編製".to_owned()
            } else {
                ev.kind.clone()
            };
            event_rows(&format!("events[{j}]"), &label, ev, &mut rows)?;
        }
        sections.push(Section {
            title: Some("戸籍事項".into()),
            rows,
        });
    }
    for (i, m) in members {
        sections.push(member_section(i, m)?);
    }
    let cert = if kind == CertificateKind::KosekiZenbu {
        CERT_ZENBU
    } else {
        CERT_KOJIN
    };
    Ok(CertificateDocument {
        kind,
        request_id: ctx.request_id.clone(),
        subject,
        heading,
        picture: None,
        sections,
        fixed: ctx.fixed(cert)?,
    })
}

/// 戸籍全部事項証明書: every person in the 戸籍.
pub fn compose_zenbu(
    koseki: &Koseki,
    ctx: &IssueContext<'_>,
) -> Result<CertificateDocument, RenderError> {
    let subject = Subject {
        id: koseki.koseki_id.clone(),
        label: "筆頭者".into(),
        name: koseki.hitto.clone(),
    };
    let members = koseki.members.iter().enumerate().collect();
    compose_with(koseki, members, CertificateKind::KosekiZenbu, subject, ctx)
}

/// 戸籍個人事項証明書: one person of the 戸籍 (by 戸籍 member number).
pub fn compose_kojin(
    koseki: &Koseki,
    member_no: u32,
    ctx: &IssueContext<'_>,
) -> Result<CertificateDocument, RenderError> {
    let (i, m) = koseki
        .members
        .iter()
        .enumerate()
        .find(|(_, m)| m.member_no == member_no)
        .ok_or_else(|| {
            RenderError::Invalid(format!(
                "no member {member_no} in 戸籍 {}",
                koseki.koseki_id
            ))
        })?;
    let subject = Subject {
        id: format!("{}#{member_no}", koseki.koseki_id),
        label: "氏名".into(),
        name: m.full_name(),
    };
    compose_with(
        koseki,
        vec![(i, m)],
        CertificateKind::KosekiKojin,
        subject,
        ctx,
    )
}
