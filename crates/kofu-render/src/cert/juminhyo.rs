//! 住民票の写し: 世帯全員 or chosen members, with 世帯主・続柄, 本籍・筆頭者, 個人番号,
//! 旧氏 and 住民票コード each shown only when requested, and the foreign residents'
//! items (通称, 国籍・地域, 在留資格, 在留期間・満了日 in 西暦, 在留カード番号, 区分).

use kofu_domain::wareki::DateStyle;
use kofu_domain::{CertificateKind, CertificateOptions, Household, HouseholdSelection, Resident};

use super::{CertificateDocument, IssueContext, Item, Section, Subject, date_in, wareki};
use crate::error::RenderError;

/// 「この写しは、世帯全員の住民票の原本と相違ないことを証明する。」
pub const CERT_ALL: &str = "この写しは、世帯全員の住民票の原本と相違ないことを証明する。";
/// The 認証文 when only some members are shown.
pub const CERT_PART: &str = "この写しは、住民票の原本と相違ないことを証明する。";

/// The members a selection shows, in household order (世帯主 first). A chosen
/// member outside the household is an error, not silently dropped.
pub(crate) fn selected<'h>(
    household: &'h Household,
    subject: &Resident,
    selection: &HouseholdSelection,
) -> Result<Vec<&'h Resident>, RenderError> {
    if subject.household_id != household.household_id {
        return Err(RenderError::Invalid(format!(
            "subject {} is not in household {}",
            subject.resident_id, household.household_id
        )));
    }
    let members: Vec<&Resident> = match selection {
        HouseholdSelection::All => household.active_members().collect(),
        HouseholdSelection::SelfOnly => household
            .members
            .iter()
            .filter(|m| m.resident_id == subject.resident_id)
            .collect(),
        HouseholdSelection::Members(ids) => {
            for id in ids {
                if !household.members.iter().any(|m| &m.resident_id == id) {
                    return Err(RenderError::Invalid(format!(
                        "member {id} is not in household {}",
                        household.household_id
                    )));
                }
            }
            household
                .members
                .iter()
                .filter(|m| ids.contains(&m.resident_id))
                .collect()
        }
    };
    if members.is_empty() {
        return Err(RenderError::Invalid("no household member selected".into()));
    }
    Ok(members)
}

/// `123456789018` → `1234 5678 9018`.
pub(crate) fn my_number_spaced(n: &str) -> String {
    let chars: Vec<char> = n.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Composes a 住民票の写し for `subject` from `household` and the options.
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
    let mut sections = Vec::with_capacity(members.len());
    for (i, m) in members.iter().enumerate() {
        sections.push(person(i, m, options)?);
    }
    let certification = if options.household == HouseholdSelection::All {
        CERT_ALL
    } else {
        CERT_PART
    };
    Ok(CertificateDocument {
        kind: CertificateKind::Juminhyo,
        request_id: ctx.request_id.clone(),
        subject: Subject {
            id: subject.resident_id.clone(),
            label: "氏名".into(),
            name: subject.full_name(),
        },
        heading,
        picture: None,
        sections,
        fixed: ctx.fixed(certification)?,
    })
}

fn person(i: usize, m: &Resident, o: &CertificateOptions) -> Result<Section, RenderError> {
    let f = |name: &str| format!("members[{i}].{name}");
    let mut rows = vec![vec![Item::name(f("name"), "氏名", m.full_name())]];
    if o.show_former_surname
        && let Some(former) = &m.former_family
    {
        rows.push(vec![Item::name(f("former_surname"), "旧氏", former)]);
    }
    let alias = m
        .alias
        .as_ref()
        .or(m.foreign.as_ref().and_then(|x| x.alias.as_ref()));
    if let Some(alias) = alias {
        rows.push(vec![Item::name(f("alias"), "通称", alias)]);
    }
    // Foreign residents: birth date in 西暦; everyone else 和暦. Never mixed.
    let birth = date_in(m.birth_date, m.birth_date_style(), &f("birth_date"))?;
    rows.push(vec![
        Item::text(f("birth_date"), "生年月日", birth),
        Item::text(f("sex"), "性別", m.sex.kanji()),
    ]);
    let since = Item::text(
        f("resident_since"),
        "住民となった日",
        wareki(m.resident_since, &f("resident_since"))?,
    );
    if o.show_relationship {
        rows.push(vec![
            Item::text(f("relationship"), "続柄", &m.relationship),
            since,
        ]);
    } else {
        rows.push(vec![since]);
    }
    rows.push(vec![
        Item::text(
            f("address_since"),
            "住所を定めた日",
            wareki(m.address_since, &f("address_since"))?,
        ),
        Item::text(
            f("notified_on"),
            "届出日",
            wareki(m.notified_on, &f("notified_on"))?,
        ),
    ]);
    if let Some(prev) = &m.previous_address {
        rows.push(vec![Item::text(f("previous_address"), "従前の住所", prev)]);
    }
    if o.show_honseki
        && m.foreign.is_none()
        && let (Some(h), Some(hitto)) = (&m.honseki, &m.hitto)
    {
        rows.push(vec![Item::text(f("honseki"), "本籍", h)]);
        rows.push(vec![Item::name(f("hitto"), "筆頭者", hitto)]);
    }
    if o.show_my_number
        && let Some(n) = &m.my_number
    {
        rows.push(vec![Item::text(
            f("my_number"),
            "個人番号",
            my_number_spaced(n.expose()),
        )]);
    }
    if o.show_resident_code {
        rows.push(vec![Item::text(
            f("resident_code"),
            "住民票コード",
            &m.resident_id,
        )]);
    }
    if let Some(x) = &m.foreign {
        rows.push(vec![
            Item::text(f("nationality"), "国籍・地域", &x.nationality),
            Item::text(f("category"), "在留区分", &x.category),
        ]);
        rows.push(vec![Item::text(
            f("residence_status"),
            "在留資格",
            &x.residence_status,
        )]);
        // 永住者 and 特別永住者 have no period of stay: the row is left out, not blanked.
        if let (Some(period), Some(end)) = (&x.period, x.period_end) {
            rows.push(vec![
                Item::text(f("period"), "在留期間", period),
                Item::text(
                    f("period_end"),
                    "満了日",
                    date_in(end, DateStyle::Seireki, &f("period_end"))?,
                ),
            ]);
        }
        rows.push(vec![Item::text(
            f("card_number"),
            "在留カード番号",
            &x.card_number,
        )]);
    }
    Ok(Section { title: None, rows })
}
