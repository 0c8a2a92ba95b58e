//! The counter API (`/counter/v1`) the counter desktop app calls: login and logout,
//! the session, resident search, issuance, preview and void, the day close, the
//! report, the audit verification and staff management. `docs/counter-api.yaml` is
//! its OpenAPI description.
//!
//! Every endpoint but login needs `Authorization: Bearer <token>`; what the session's
//! role may do is decided in kofu-app (`staff::allowed`), never here. Handlers parse,
//! call one use case and map its answer.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use kofu_app::Office;
use kofu_app::SubjectRef;
use kofu_app::counter::{CounterIssued, CounterRequest, IdentityCheck, Payment, ResidentSearch};
use kofu_app::report::Language;
use kofu_app::staff::{Credentials, StaffSession};
use kofu_domain::{Applicant, CertificateKind, CertificateOptions, HouseholdSelection};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::api::{ApiError, MAX_BODY, bytes, method_not_allowed, not_found, parse_body};
use crate::door::{Caller, CounterRoute, Door, Peer};
use kofu_app::staff::Action;

/// Every counter route with its door: the one table the router is built from (see
/// [`crate::door`]).
pub fn route_table() -> Vec<CounterRoute> {
    use Action as A;
    use Door as D;
    let mut routes = vec![
        CounterRoute::post("/counter/v1/login", D::Open, login),
        // Logout reads its own token: an expired session still ends cleanly.
        CounterRoute::post("/counter/v1/logout", D::Open, logout),
        CounterRoute::get("/counter/v1/session", D::Staff, session_info),
        CounterRoute::post("/counter/v1/session/password", D::Staff, change_password),
        CounterRoute::get("/counter/v1/options", D::Staff, option_matrix),
        CounterRoute::get(
            "/counter/v1/residents",
            D::Role(A::SearchResidents),
            residents,
        ),
        CounterRoute::post(
            "/counter/v1/issuances",
            D::Role(A::IssueCertificate),
            issuance,
        ),
        CounterRoute::get(
            "/counter/v1/issuances",
            D::Role(A::IssueCertificate),
            find_issuances,
        ),
        CounterRoute::post(
            "/counter/v1/previews",
            D::Role(A::PreviewCertificate),
            preview,
        ),
        CounterRoute::post(
            "/counter/v1/issuances/{id}/voids",
            D::Role(A::VoidIssuance),
            void,
        ),
        CounterRoute::post(
            "/counter/v1/issuances/{id}/print-outcomes",
            D::Role(A::IssueCertificate),
            print_outcome,
        ),
        CounterRoute::get("/counter/v1/days/{day}", D::Role(A::CountCash), day_totals),
        CounterRoute::post(
            "/counter/v1/days/{day}/close",
            D::Role(A::SignOffDay),
            close_day,
        ),
        CounterRoute::get("/counter/v1/reports/{day}", D::Role(A::ViewReport), report),
        CounterRoute::get(
            "/counter/v1/reports/{day}/pdf",
            D::Role(A::ViewReport),
            report_pdf,
        ),
        CounterRoute::get("/counter/v1/audit", D::Role(A::VerifyAudit), audit_verify),
        CounterRoute::get("/counter/v1/staff", D::Role(A::ManageStaff), staff_list),
        CounterRoute::post("/counter/v1/staff", D::Role(A::ManageStaff), staff_add),
        // The one-time enrolment code is the credential: no session before the first login.
        CounterRoute::post("/counter/v1/staff/enrol", D::Open, staff_enrol),
        CounterRoute::post(
            "/counter/v1/staff/{login}/unlock",
            D::Role(A::ManageStaff),
            staff_unlock,
        ),
        CounterRoute::post(
            "/counter/v1/staff/{login}/deactivate",
            D::Role(A::ManageStaff),
            staff_deactivate,
        ),
    ];
    routes.extend(crate::offline::routes());
    routes.extend(crate::admin::routes());
    routes.extend(crate::terminal::routes());
    routes
}

/// The counter router over an office: every row of [`route_table`] behind its door.
pub fn router(office: Office) -> Router {
    let mut router = Router::new();
    for route in route_table() {
        let (path, handler) = route.guarded(&office);
        router = router.route(path, handler);
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(office)
}

/// The bearer token of a request.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::from(kofu_app::AppError::Unauthenticated))
}

/// The session a request is made in.
pub(crate) async fn session(
    office: &Office,
    headers: &HeaderMap,
) -> Result<StaffSession, ApiError> {
    Ok(office
        .authenticate(bearer(headers)?, OffsetDateTime::now_utc())
        .await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    login: String,
    password: String,
    totp: String,
}

async fn login(
    State(office): State<Office>,
    Peer(source): Peer,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = bytes(body)?;
    let b: LoginBody = parse_body(&headers, &body)?;
    let started = office
        .login_from(
            &Credentials {
                login: b.login,
                password: b.password,
                totp: b.totp,
            },
            source,
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(axum::Json(json!({
        "token": started.token,
        "staff": {"login": started.staff.login, "role": started.staff.role},
        "expires_idle_secs": started.expires_idle_secs,
    }))
    .into_response())
}

async fn logout(State(office): State<Office>, headers: HeaderMap) -> Result<Response, ApiError> {
    office
        .logout(bearer(&headers)?, OffsetDateTime::now_utc())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// A member of staff changes their own password.
async fn change_password(
    State(office): State<Office>,
    Caller(s): Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = bytes(body)?;
    let b: PasswordBody = parse_body(&headers, &body)?;
    office
        .change_password(
            &s,
            bearer(&headers)?,
            &b.current_password,
            &b.new_password,
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn session_info(Caller(s): Caller) -> Result<Response, ApiError> {
    Ok(axum::Json(json!({"staff": {"login": s.login, "role": s.role}})).into_response())
}

/// The option matrix: which options each kind accepts at the counter.
async fn option_matrix() -> Result<Response, ApiError> {
    let kinds: serde_json::Map<String, serde_json::Value> =
        kofu_app::counter::counter_option_matrix()
            .into_iter()
            .map(|(kind, options)| (kind.code().to_owned(), json!(options)))
            .collect();
    Ok(axum::Json(json!({"kinds": kinds})).into_response())
}

async fn residents(
    State(office): State<Office>,
    Caller(s): Caller,
    uri: Uri,
) -> Result<Response, ApiError> {
    let mut q = ResidentSearch::default();
    for (key, value) in query_pairs(uri.query().unwrap_or_default())? {
        match key.as_str() {
            "name" => q.name = Some(value),
            "birth_date" => {
                // As clerks type it: 1975-06-15, S50.6.15, 昭和50年6月15日 …
                q.birth_date = Some(
                    kofu_domain::wareki::parse_date_as_typed(&value)
                        .map_err(|e| ApiError::invalid("birth_date", e.reason))?,
                );
            }
            "address" => q.address = Some(value),
            other => return Err(ApiError::invalid(other, "未知の検索条件です")),
        }
    }
    let hits = office
        .search_residents(&s, &q, OffsetDateTime::now_utc())
        .await?;
    Ok(axum::Json(json!({"residents": hits})).into_response())
}

/// The pairs of a URL query (`application/x-www-form-urlencoded`: `+` is a space,
/// `%XX` a byte of UTF-8).
pub(crate) fn query_pairs(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((percent_decode(k)?, percent_decode(v)?))
        })
        .collect()
}

pub(crate) fn percent_decode(s: &str) -> Result<String, ApiError> {
    let bad = || ApiError::invalid("(query)", "URL エンコードが不正です");
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.next().and_then(|c| char::from(c).to_digit(16));
                let lo = bytes.next().and_then(|c| char::from(c).to_digit(16));
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push(u8::try_from(h * 16 + l).map_err(|_| bad())?),
                    _ => return Err(bad()),
                }
            }
            b => out.push(b),
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

/// Which household members a 住民票 shows: `"all"`, `"self"` or resident IDs.
#[derive(Deserialize)]
#[serde(untagged)]
enum HouseholdBody {
    Word(String),
    Members(Vec<String>),
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionsBody {
    #[serde(default)]
    household: Option<HouseholdBody>,
    #[serde(default)]
    show_relationship: bool,
    #[serde(default)]
    show_honseki: bool,
    #[serde(default)]
    show_my_number: bool,
    #[serde(default)]
    show_former_surname: bool,
    #[serde(default)]
    show_resident_code: bool,
    #[serde(default)]
    tax_year: Option<i32>,
    #[serde(default)]
    omit_seal: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentityBody {
    #[serde(default)]
    photo: Vec<String>,
    #[serde(default)]
    non_photo: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubjectBody {
    #[serde(default)]
    resident_id: Option<String>,
    #[serde(default)]
    koseki_id: Option<String>,
    #[serde(default)]
    member_no: Option<u32>,
}

fn cash() -> Payment {
    Payment::Cash
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueBody {
    // Required for an issuance (checked there), not for a preview.
    #[serde(default)]
    request_id: String,
    applicant: Applicant,
    identity: IdentityBody,
    certificate: String,
    subject: SubjectBody,
    #[serde(default)]
    options: OptionsBody,
    copies: u32,
    terminal: String,
    printer: String,
    #[serde(default = "cash")]
    payment: Payment,
    #[serde(default)]
    override_reason: Option<String>,
}

fn counter_request(b: IssueBody) -> Result<CounterRequest, ApiError> {
    let kind: CertificateKind = b.certificate.parse().map_err(|_| {
        ApiError::invalid("certificate", format!("未知の証明書 {:?}", b.certificate))
    })?;
    let subject = match (b.subject.resident_id, b.subject.koseki_id) {
        (Some(id), None) => SubjectRef::Resident(id),
        (None, Some(koseki_id)) => SubjectRef::Koseki {
            koseki_id,
            member_no: b.subject.member_no,
        },
        _ => {
            return Err(ApiError::invalid(
                "subject",
                "resident_id か koseki_id のどちらか一つを指定してください",
            ));
        }
    };
    let o = b.options;
    let household = match o.household {
        None => HouseholdSelection::SelfOnly,
        Some(HouseholdBody::Word(w)) if w == "self" => HouseholdSelection::SelfOnly,
        Some(HouseholdBody::Word(w)) if w == "all" => HouseholdSelection::All,
        Some(HouseholdBody::Word(w)) => {
            return Err(ApiError::invalid("options.household", format!("{w:?}")));
        }
        Some(HouseholdBody::Members(ids)) => HouseholdSelection::Members(ids),
    };
    Ok(CounterRequest {
        request_id: b.request_id,
        applicant: b.applicant,
        identity: IdentityCheck {
            photo: b.identity.photo,
            non_photo: b.identity.non_photo,
        },
        kind,
        subject,
        options: CertificateOptions {
            household,
            show_relationship: o.show_relationship,
            show_honseki: o.show_honseki,
            show_my_number: o.show_my_number,
            show_former_surname: o.show_former_surname,
            show_resident_code: o.show_resident_code,
            tax_year: o.tax_year,
            omit_seal: o.omit_seal,
        },
        copies: b.copies,
        terminal: b.terminal,
        printer: b.printer,
        payment: b.payment,
        override_reason: b.override_reason,
    })
}

fn issued_json(i: CounterIssued) -> Response {
    let engine = base64::engine::general_purpose::STANDARD;
    let documents: Vec<serde_json::Value> = i
        .documents
        .iter()
        .map(|d| {
            json!({"copy": d.copy, "issue_number": d.issue_number, "pages": d.pages,
                   "sha256": d.sha256, "pdf_base64": engine.encode(&d.pdf)})
        })
        .collect();
    axum::Json(json!({
        "issuance_id": i.issuance_id, "receipt_no": i.receipt_no, "fee_yen": i.fee_yen,
        "exemption": i.exemption, "warnings": i.warnings, "documents": documents,
        "replayed": i.replayed,
    }))
    .into_response()
}

async fn issuance(
    State(office): State<Office>,
    Caller(s): Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = bytes(body)?;
    let req = counter_request(parse_body(&headers, &body)?)?;
    let issued = office
        .counter_issue(&s, &req, OffsetDateTime::now_utc())
        .await
        .map_err(ApiError::for_staff)?;
    Ok(issued_json(issued))
}

async fn preview(
    State(office): State<Office>,
    Caller(s): Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = bytes(body)?;
    let req = counter_request(parse_body(&headers, &body)?)?;
    let shown = office
        .counter_preview(&s, &req, OffsetDateTime::now_utc())
        .await
        .map_err(ApiError::for_staff)?;
    Ok(issued_json(shown))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
/// A reason, for a void or for closing an account.
struct ReasonBody {
    reason: String,
}

async fn void(
    State(office): State<Office>,
    Caller(s): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = bytes(body)?;
    let b: ReasonBody = parse_body(&headers, &body)?;
    office
        .counter_void(&s, &id, &b.reason, OffsetDateTime::now_utc())
        .await?;
    Ok(axum::Json(json!({"issuance_id": id, "voided": true})).into_response())
}

fn day(s: &str) -> Result<kofu_domain::Date, ApiError> {
    s.parse()
        .map_err(|_| ApiError::invalid("day", "YYYY-MM-DD の日付ではありません"))
}

/// Issuances by 発行番号, receipt number, resident or days (`from`, `to`).
async fn find_issuances(
    State(office): State<Office>,
    Caller(s): Caller,
    uri: Uri,
) -> Result<Response, ApiError> {
    let mut q = kofu_app::find::IssuanceQuery::default();
    for (key, value) in query_pairs(uri.query().unwrap_or_default())? {
        match key.as_str() {
            "number" => q.number = Some(value),
            "receipt" => q.receipt = Some(value),
            "resident" => q.resident = Some(value),
            "from" => q.from = Some(day(&value)?),
            "to" => q.to = Some(day(&value)?),
            other => return Err(ApiError::invalid(other, "未知の検索条件です")),
        }
    }
    let found = office
        .find_issuances(&s, &q, OffsetDateTime::now_utc())
        .await?;
    Ok(axum::Json(json!({ "issuances": found })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrintOutcomeBody {
    copy: u32,
    outcome: String,
    #[serde(default)]
    queue: Option<String>,
    #[serde(default)]
    job: Option<String>,
    #[serde(default)]
    detail: Option<String>,
}

/// The terminal's report of one print job: did the copy reach the printer.
async fn print_outcome(
    State(office): State<Office>,
    Caller(s): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = bytes(body)?;
    let b: PrintOutcomeBody = parse_body(&headers, &body)?;
    let job = match (&b.queue, &b.job) {
        (Some(q), Some(j)) => Some(format!("{q}/{j}")),
        (q, j) => q.clone().or_else(|| j.clone()),
    };
    office
        .record_print_outcome(
            &s,
            &id,
            b.copy,
            &b.outcome,
            job.as_deref(),
            b.detail.as_deref(),
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn day_totals(
    State(office): State<Office>,
    Caller(s): Caller,
    Path(d): Path<String>,
) -> Result<Response, ApiError> {
    let totals = office
        .day_totals(&s, day(&d)?, OffsetDateTime::now_utc())
        .await?;
    Ok(axum::Json(json!({"day": d, "expected": totals})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseBody {
    counted_cash_yen: i64,
}

async fn close_day(
    State(office): State<Office>,
    Caller(s): Caller,
    Path(d): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = bytes(body)?;
    let b: CloseBody = parse_body(&headers, &body)?;
    let closed = office
        .close_day(&s, day(&d)?, b.counted_cash_yen, OffsetDateTime::now_utc())
        .await?;
    Ok(axum::Json(json!(closed)).into_response())
}

async fn report(
    State(office): State<Office>,
    Caller(s): Caller,
    Path(d): Path<String>,
) -> Result<Response, ApiError> {
    let r = office
        .day_report(&s, day(&d)?, OffsetDateTime::now_utc())
        .await?;
    Ok(axum::Json(json!(r)).into_response())
}

/// The report as a PDF: `?lang=ja|en` (default `ja`), answered as JSON with the PDF
/// in base64, as the certificate endpoints do (the desktop shell's IPC carries JSON).
async fn report_pdf(
    State(office): State<Office>,
    Caller(s): Caller,
    Path(d): Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let mut lang = Language::Ja;
    for (key, value) in query_pairs(uri.query().unwrap_or_default())? {
        match key.as_str() {
            "lang" => lang = Language::from_code(&value)?,
            other => return Err(ApiError::invalid(other, "未知のパラメータです")),
        }
    }
    let r = office
        .report_pdf(&s, day(&d)?, lang, OffsetDateTime::now_utc())
        .await?;
    let engine = base64::engine::general_purpose::STANDARD;
    Ok(axum::Json(
        json!({"filename": r.filename, "pdf_base64": engine.encode(&r.pdf),
                         "sha256": r.sha256, "pages": r.pages}),
    )
    .into_response())
}

async fn audit_verify(
    State(office): State<Office>,
    Caller(s): Caller,
) -> Result<Response, ApiError> {
    let verdict = office.verify_audit(&s, OffsetDateTime::now_utc()).await?;
    Ok(axum::Json(json!(verdict)).into_response())
}

async fn staff_list(State(office): State<Office>, Caller(s): Caller) -> Result<Response, ApiError> {
    let staff = office.staff_list(&s, OffsetDateTime::now_utc()).await?;
    Ok(axum::Json(json!({"staff": staff})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StaffBody {
    login: String,
    role: String,
    /// No longer taken: staff set their own password at first login.
    #[serde(default)]
    password: Option<String>,
}

/// Invites a member of staff: the answer's one-time code is what they enrol with at
/// first login (`/counter/v1/staff/enrol`), setting their own password and TOTP.
async fn staff_add(
    State(office): State<Office>,
    Caller(s): Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = bytes(body)?;
    let b: StaffBody = parse_body(&headers, &body)?;
    if b.password.is_some() {
        return Err(ApiError::invalid(
            "password",
            "職員は初回ログイン時に自分でパスワードを設定します（管理者は設定しません）",
        ));
    }
    let invitation = office
        .invite_staff(&s, &b.login, b.role.parse()?, OffsetDateTime::now_utc())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(invitation)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrolBody {
    login: String,
    enrolment_code: String,
    password: String,
}

/// A member of staff's first login: their own password, their own TOTP secret.
async fn staff_enrol(
    State(office): State<Office>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = bytes(body)?;
    let b: EnrolBody = parse_body(&headers, &body)?;
    let e = office
        .enrol_own_account(
            &b.login,
            &b.enrolment_code,
            &b.password,
            OffsetDateTime::now_utc(),
        )
        .await?;
    let answer = json!({"login": b.login, "totp_secret": e.totp_secret,
                        "otpauth_uri": e.otpauth_uri});
    Ok(axum::Json(answer).into_response())
}

async fn staff_unlock(
    State(office): State<Office>,
    Caller(s): Caller,
    Path(login): Path<String>,
) -> Result<Response, ApiError> {
    office
        .unlock_staff(&s, &login, OffsetDateTime::now_utc())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn staff_deactivate(
    State(office): State<Office>,
    Caller(s): Caller,
    Path(login): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = bytes(body)?;
    let b: ReasonBody = parse_body(&headers, &body)?;
    office
        .deactivate_staff(&s, &login, &b.reason, OffsetDateTime::now_utc())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn queries_decode_plus_and_percent_utf8() {
        let pairs = query_pairs("name=%E8%A6%8B%E6%9C%AC+%E5%A4%AA%E9%83%8E&birth_date=1980-04-01")
            .unwrap();
        assert_eq!(
            pairs,
            vec![
                ("name".to_owned(), "見本 太郎".to_owned()),
                ("birth_date".to_owned(), "1980-04-01".to_owned())
            ]
        );
        assert!(query_pairs("name=%E8%A6").is_err());
        assert!(query_pairs("name=%G1").is_err());
    }

    /// `docs/counter-api.yaml` lists exactly the routes of [`route_table`]: every
    /// path (`  /path:`) with each of its methods (`    get:`, `    post:`), and
    /// nothing the server does not answer. Read by indentation, without a YAML parser.
    #[test]
    fn the_openapi_document_describes_every_route() {
        let yaml = include_str!("../../../docs/counter-api.yaml");
        // (path, method) as the document lists them, under `paths:`.
        let mut documented: Vec<(String, String)> = Vec::new();
        let mut in_paths = false;
        let mut path: Option<String> = None;
        for line in yaml.lines() {
            if !line.starts_with(' ') && !line.trim().is_empty() {
                in_paths = line == "paths:";
                path = None;
                continue;
            }
            if !in_paths {
                continue;
            }
            if let Some(p) = line.strip_prefix("  /") {
                path = p.strip_suffix(':').map(|p| format!("/{p}"));
            } else if line.starts_with("  ") && !line.starts_with("   ") {
                path = None;
            } else if let Some(p) = &path
                && let Some(method) = line.strip_prefix("    ")
                && !method.starts_with(' ')
                && let Some(method) = method.strip_suffix(':')
                && matches!(
                    method,
                    "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace"
                )
            {
                documented.push((p.clone(), method.to_owned()));
            }
        }
        let served: Vec<(String, String)> = route_table()
            .iter()
            .map(|r| (r.path.to_owned(), r.method.as_str().to_ascii_lowercase()))
            .collect();
        let mut problems: Vec<String> = served
            .iter()
            .filter(|row| !documented.contains(row))
            .map(|(p, m)| format!("{} {p} is served but not documented", m.to_uppercase()))
            .collect();
        problems.extend(
            documented
                .iter()
                .filter(|row| !served.contains(row))
                .map(|(p, m)| format!("{} {p} is documented but not served", m.to_uppercase())),
        );
        let mut seen = std::collections::HashSet::new();
        problems.extend(
            documented
                .iter()
                .filter(|row| !seen.insert(*row))
                .map(|(p, m)| format!("{} {p} is documented twice", m.to_uppercase())),
        );
        assert!(
            problems.is_empty(),
            "docs/counter-api.yaml and counter::route_table differ:\n{}",
            problems.join("\n")
        );
    }
}
