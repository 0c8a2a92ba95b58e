//! 印鑑登録証明書: the registered 印影 at its true size, 氏名 (with 旧氏 and 通称
//! whenever recorded), 生年月日, 性別, 住所. A revoked registration is refused, never printed.

use kofu_domain::records::SealStatus;
use kofu_domain::{CertificateKind, CertificateOptions, Resident, Seal};

use super::{CertificateDocument, IssueContext, Item, Picture, Section, Subject, date_in};
use crate::error::RenderError;
use crate::image::PreparedImage;

/// 認証文 of the 印鑑登録証明書.
pub const CERT: &str = "この写しは、登録されている印影と相違ないことを証明する。";

/// Composes a 印鑑登録証明書. The 印影 is decoded here (it differs per resident).
pub fn compose(
    resident: &Resident,
    seal: &Seal,
    options: &CertificateOptions,
    ctx: &IssueContext<'_>,
) -> Result<CertificateDocument, RenderError> {
    if seal.resident_id != resident.resident_id {
        return Err(RenderError::Invalid(format!(
            "seal {} is registered to another resident",
            seal.registration_no
        )));
    }
    if seal.status != SealStatus::Active {
        return Err(RenderError::Invalid(format!(
            "seal registration {} is revoked (廃止)",
            seal.registration_no
        )));
    }
    let size = seal.printed_size_mm();
    if !(5.0..=30.0).contains(&size) {
        return Err(RenderError::Image {
            name: "inei".into(),
            reason: format!("registered seal size {size} mm out of range"),
        });
    }
    let png = seal.image_png().map_err(|e| RenderError::Image {
        name: "inei".into(),
        reason: e.to_string(),
    })?;
    let image = PreparedImage::picture("inei", &png)?;
    // 旧氏 and 通称 are printed whenever they are recorded (印鑑登録証明事務処理要領):
    // the seal may be registered in either, so the certificate must show it.
    // `show_former_surname` is accepted (relay centers send it), and changes nothing.
    let _ = options;
    let mut rows = vec![vec![Item::name("name", "氏名", resident.full_name())]];
    if let Some(former) = &resident.former_family {
        rows.push(vec![Item::name("former_surname", "旧氏", former)]);
    }
    let alias = resident
        .alias
        .as_ref()
        .or(resident.foreign.as_ref().and_then(|x| x.alias.as_ref()));
    if let Some(alias) = alias {
        rows.push(vec![Item::name("alias", "通称", alias)]);
    }
    rows.push(vec![
        Item::text(
            "birth_date",
            "生年月日",
            date_in(
                resident.birth_date,
                resident.birth_date_style(),
                "birth_date",
            )?,
        ),
        Item::text("sex", "性別", resident.sex.kanji()),
    ]);
    rows.push(vec![Item::text("address", "住所", &resident.address)]);
    rows.push(vec![Item::text(
        "registration_no",
        "登録番号",
        &seal.registration_no,
    )]);
    Ok(CertificateDocument {
        kind: CertificateKind::Inkan,
        request_id: ctx.request_id.clone(),
        subject: Subject {
            id: resident.resident_id.clone(),
            label: "氏名".into(),
            name: resident.full_name(),
        },
        heading: Vec::new(),
        picture: Some(Picture {
            label: "印影".into(),
            image,
            size_mm: size,
        }),
        sections: vec![Section { title: None, rows }],
        fixed: ctx.fixed(CERT)?,
    })
}
