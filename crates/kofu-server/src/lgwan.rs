//! The LGWAN endpoints the relay center calls (`/lgwan/v1`): health, inquiry,
//! issuance, outcome notice — exactly as `lgwan-protocol.md` version 1 specifies.
//!
//! Handlers are thin: parse and validate the body (every problem is a 4xx with a
//! stable code, naming the field), call one kofu-app use case, map its answer.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use kofu_app::Office;
use kofu_app::kiosk::{InquiryAnswer, Issued, Kiosk, KioskOptions, Outcome, OutcomeNotice};
use kofu_domain::CertificateKind;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use crate::api::{ApiError, MAX_BODY};
use crate::api::{bytes, method_not_allowed, not_found, parse_body};

/// The LGWAN router over an office.
pub fn router(office: Office) -> Router {
    Router::new()
        .route("/lgwan/v1/health", get(health))
        .route("/lgwan/v1/inquiries", post(inquiry))
        .route("/lgwan/v1/issuances", post(issuance))
        .route("/lgwan/v1/outcomes", post(outcome))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(office)
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(json!({"status": "ok"}))
}

fn request_id(s: &str) -> Result<String, ApiError> {
    uuid::Uuid::parse_str(s)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| ApiError::invalid("request_id", "UUID ではありません"))
}

fn card_serial(s: &str) -> Result<String, ApiError> {
    if s.is_empty() || s.len() > 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::invalid(
            "card_serial",
            "16 進数の文字列ではありません",
        ));
    }
    Ok(s.to_owned())
}

fn certificate(s: &str) -> Result<CertificateKind, ApiError> {
    s.parse()
        .map_err(|_| ApiError::invalid("certificate", format!("未知の証明書 {s:?}")))
}

fn instant(field: &str, s: &str) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|_| ApiError::invalid(field, "RFC 3339 の日時ではありません"))
}

fn kiosk(k: KioskBody) -> Result<Kiosk, ApiError> {
    let ok = |s: &str| !s.is_empty() && s.len() <= 64 && !s.chars().any(char::is_control);
    if !ok(&k.id) {
        return Err(ApiError::invalid("kiosk.id", "空または長すぎます"));
    }
    if !ok(&k.chain) {
        return Err(ApiError::invalid("kiosk.chain", "空または長すぎます"));
    }
    Ok(Kiosk {
        id: k.id,
        chain: k.chain,
    })
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KioskBody {
    id: String,
    chain: String,
}

#[derive(Debug, Deserialize)]
struct InquiryBody {
    request_id: String,
    card_serial: String,
    certificate: String,
    kiosk: KioskBody,
    requested_at: String,
}

/// Decodes the body of `POST /lgwan/v1/inquiries` into the use case's request, as the
/// handler does: the content type, the JSON with every field named in the error, then
/// each field's rule. Public so that the fuzz targets (`fuzz/`) exercise this very path.
pub fn decode_inquiry(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<kofu_app::kiosk::Inquiry, ApiError> {
    let b: InquiryBody = parse_body(headers, body)?;
    Ok(kofu_app::kiosk::Inquiry {
        request_id: request_id(&b.request_id)?,
        card_serial: card_serial(&b.card_serial)?,
        kind: certificate(&b.certificate)?,
        kiosk: kiosk(b.kiosk)?,
        requested_at: instant("requested_at", &b.requested_at)?,
    })
}

async fn inquiry(
    State(office): State<Office>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let q = decode_inquiry(&headers, &bytes(body)?)?;
    let answer = office.kiosk_inquiry(&q, OffsetDateTime::now_utc()).await?;
    let body = match answer {
        InquiryAnswer::Available {
            fee_yen,
            household_members,
            options,
            tax_years,
        } => json!({
            "request_id": q.request_id, "available": true, "fee_yen": fee_yen,
            "choices": {"household_members": household_members, "options": options, "tax_years": tax_years},
        }),
        InquiryAnswer::Unavailable { reason, message } => json!({
            "request_id": q.request_id, "available": false, "reason": reason.code(), "message": message,
        }),
    };
    Ok(axum::Json(body).into_response())
}

/// The issuance body. Field order is fixed: its re-serialization is the digest that
/// tells a retry from another request under the same ID.
#[derive(Debug, Serialize, Deserialize)]
struct IssuanceBody {
    request_id: String,
    card_serial: String,
    certificate: String,
    #[serde(default)]
    options: KioskOptions,
    copies: u32,
    kiosk: KioskBody,
    requested_at: String,
}

/// Decodes the body of `POST /lgwan/v1/issuances` into the use case's request, as the
/// handler does (see [`decode_inquiry`]); `body_digest` is the digest of the body's
/// re-serialization, which tells a retry from another request under the same ID.
pub fn decode_issuance(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<kofu_app::kiosk::IssuanceRequest, ApiError> {
    let b: IssuanceBody = parse_body(headers, body)?;
    let body_digest = hex(&Sha256::digest(serde_json::to_vec(&b).unwrap_or_default()));
    if !(1..=10).contains(&b.copies) {
        return Err(ApiError::invalid("copies", "1 から 10 までです"));
    }
    if let Some(y) = b.options.tax_year
        && !(1900..=2200).contains(&y)
    {
        return Err(ApiError::invalid("options.tax_year", "年度が範囲外です"));
    }
    Ok(kofu_app::kiosk::IssuanceRequest {
        request_id: request_id(&b.request_id)?,
        card_serial: card_serial(&b.card_serial)?,
        kind: certificate(&b.certificate)?,
        options: b.options,
        copies: b.copies,
        kiosk: kiosk(b.kiosk)?,
        requested_at: instant("requested_at", &b.requested_at)?,
        body_digest,
    })
}

async fn issuance(
    State(office): State<Office>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req = decode_issuance(&headers, &bytes(body)?)?;
    let Issued {
        request_id,
        issuance_id,
        fee_yen,
        documents,
    } = office.kiosk_issue(&req, OffsetDateTime::now_utc()).await?;
    let engine = base64::engine::general_purpose::STANDARD;
    let documents: Vec<serde_json::Value> = documents
        .iter()
        .map(|d| {
            json!({"copy": d.copy, "issue_number": d.issue_number, "pages": d.pages,
                   "sha256": d.sha256, "pdf_base64": engine.encode(&d.pdf)})
        })
        .collect();
    Ok(axum::Json(json!({
        "request_id": request_id, "issuance_id": issuance_id, "fee_yen": fee_yen, "documents": documents,
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
struct OutcomeBody {
    request_id: String,
    issuance_id: String,
    outcome: Outcome,
    pages_printed: u32,
    fee_collected_yen: u32,
    reported_at: String,
}

/// Decodes the body of `POST /lgwan/v1/outcomes` into the use case's notice, as the
/// handler does (see [`decode_inquiry`]).
pub fn decode_outcome(headers: &HeaderMap, body: &[u8]) -> Result<OutcomeNotice, ApiError> {
    let b: OutcomeBody = parse_body(headers, body)?;
    instant("reported_at", &b.reported_at)?;
    Ok(OutcomeNotice {
        request_id: request_id(&b.request_id)?,
        issuance_id: uuid::Uuid::parse_str(&b.issuance_id)
            .map(|u| u.hyphenated().to_string())
            .map_err(|_| ApiError::invalid("issuance_id", "UUID ではありません"))?,
        outcome: b.outcome,
        pages_printed: b.pages_printed,
        fee_collected_yen: b.fee_collected_yen,
        reported_at: b.reported_at,
    })
}

async fn outcome(
    State(office): State<Office>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let notice = decode_outcome(&headers, &bytes(body)?)?;
    office
        .kiosk_outcome(&notice, OffsetDateTime::now_utc())
        .await?;
    Ok(axum::Json(json!({"request_id": notice.request_id, "recorded": true})).into_response())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
