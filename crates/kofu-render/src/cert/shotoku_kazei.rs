//! 所得・課税証明書: 年度, 住所 and 氏名 as of the 賦課期日, 生年月日, 収入金額 and 所得金額
//! each under its own heading, 所得控除, 課税標準額 and the taxes under the town's own
//! names (市民税 / 町民税 … and 県民税 / 都民税 …), 所得割 and 均等割 apart — amounts with
//! thousands separators.

use kofu_domain::wareki::to_wareki;
use kofu_domain::{CertificateKind, CertificateOptions, Date, Resident, TaxRecord};

use super::{CertificateDocument, IssueContext, Item, Section, Subject, date_in, yen};
use crate::error::RenderError;

/// 認証文 of the 所得・課税証明書.
pub const CERT: &str = "上記のとおり証明する。";

/// The era and year (`令和8`, `令和元`) in force on the first of `month` of `year`:
/// June for a 年度 (so fiscal 2019 reads 令和元年度, as the notices did), December
/// for the income year (2019 income is 令和元年分).
fn era_year(year: i32, month: u8, field: &str) -> Result<String, RenderError> {
    let d = Date::from_ymd(year, month, 1)
        .ok_or_else(|| RenderError::Invalid(format!("field `{field}`: year {year}")))?;
    let w = to_wareki(d).map_err(|e| RenderError::Invalid(format!("field `{field}`: {e}")))?;
    Ok(if w.year == 1 {
        format!("{}元", w.era.kanji())
    } else {
        format!("{}{}", w.era.kanji(), w.year)
    })
}

/// Pairs items two to a row.
fn pairs(items: Vec<Item>) -> Vec<Vec<Item>> {
    let mut rows = Vec::new();
    let mut it = items.into_iter();
    while let Some(a) = it.next() {
        match it.next() {
            Some(b) => rows.push(vec![a, b]),
            None => rows.push(vec![a]),
        }
    }
    rows
}

/// Composes a 所得・課税証明書 of `tax` for `resident`.
pub fn compose(
    resident: &Resident,
    tax: &TaxRecord,
    options: &CertificateOptions,
    ctx: &IssueContext<'_>,
) -> Result<CertificateDocument, RenderError> {
    if tax.resident_id != resident.resident_id {
        return Err(RenderError::Invalid(
            "tax record belongs to another resident".into(),
        ));
    }
    if let Some(y) = options.tax_year
        && y != tax.fiscal_year
    {
        return Err(RenderError::Invalid(format!(
            "requested 年度 {y}, record is for {}",
            tax.fiscal_year
        )));
    }
    let fy = tax.fiscal_year;
    let year_label = format!(
        "{}年度（{}年分）",
        era_year(fy, 6, "fiscal_year")?,
        era_year(fy - 1, 12, "fiscal_year")?
    );
    // The name on the 賦課期日, as assessed (a later change of name is not the tax's).
    let name = tax
        .assessed_name
        .clone()
        .unwrap_or_else(|| resident.full_name());
    let heading = vec![
        vec![Item::text("fiscal_year", "年度", year_label)],
        vec![Item::text(
            "assessed_address",
            "住所（1月1日）",
            &tax.assessed_address,
        )],
        vec![Item::name("name", "氏名", &name)],
        vec![Item::text(
            "birth_date",
            "生年月日",
            date_in(
                resident.birth_date,
                resident.birth_date_style(),
                "birth_date",
            )?,
        )],
    ];
    let revenue: Vec<Item> = tax
        .income
        .iter()
        .map(|(k, v)| Item::amount(format!("revenue.{k}"), &format!("{k}収入"), yen(*v)))
        .collect();
    let mut income: Vec<Item> = tax
        .income_amounts
        .iter()
        .flat_map(|m| m.iter())
        .map(|(k, v)| Item::amount(format!("income.{k}"), &format!("{k}所得"), yen(*v)))
        .collect();
    income.push(Item::amount(
        "total_income",
        "合計所得金額",
        yen(tax.total_income),
    ));
    let mut deductions: Vec<Item> = tax
        .deductions
        .iter()
        .map(|(k, v)| Item::amount(format!("deductions.{k}"), k, yen(*v)))
        .collect();
    deductions.push(Item::amount(
        "total_deductions",
        "所得控除合計",
        yen(tax.total_deductions),
    ));
    let town = ctx.municipality;
    let mut taxes = vec![Item::amount(
        "taxable_base",
        "課税標準額",
        yen(tax.taxable_base),
    )];
    for (field, name, total, per_capita) in [
        (
            "municipal_tax",
            town.municipal_tax_name(),
            tax.municipal_tax,
            tax.municipal_per_capita,
        ),
        (
            "prefectural_tax",
            town.prefectural_tax_name(),
            tax.prefectural_tax,
            tax.prefectural_per_capita,
        ),
    ] {
        if let Some(flat) = per_capita {
            taxes.push(Item::amount(
                format!("{field}.income_levy"),
                &format!("{name}所得割"),
                yen(total.saturating_sub(flat)),
            ));
            taxes.push(Item::amount(
                format!("{field}.per_capita"),
                &format!("{name}均等割"),
                yen(flat),
            ));
        }
        taxes.push(Item::amount(field, name, yen(total)));
    }
    taxes.push(Item::amount(
        "total_tax",
        "税額合計",
        yen(tax.municipal_tax.saturating_add(tax.prefectural_tax)),
    ));
    Ok(CertificateDocument {
        kind: CertificateKind::ShotokuKazei,
        request_id: ctx.request_id.clone(),
        subject: Subject {
            id: resident.resident_id.clone(),
            label: "氏名".into(),
            name,
        },
        heading,
        picture: None,
        sections: vec![
            Section {
                title: Some("収入金額".into()),
                rows: pairs(revenue),
            },
            Section {
                title: Some("所得金額".into()),
                rows: pairs(income),
            },
            Section {
                title: Some("所得控除".into()),
                rows: pairs(deductions),
            },
            Section {
                title: Some("税額".into()),
                rows: pairs(taxes),
            },
        ],
        fixed: ctx.fixed(CERT)?,
    })
}
