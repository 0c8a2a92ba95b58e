//! What the LGWAN and counter APIs share: the error answer `{"error":{"code","message"}}`
//! with its stable codes, the mapping of every use-case error to it, and reading a
//! JSON body (content type, size, every field named in the error).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kofu_app::AppError;
use serde::de::DeserializeOwned;
use serde_json::json;

/// The largest request body accepted (an issuance request is well under 2 KiB).
pub const MAX_BODY: usize = 64 * 1024;

/// An error answer: `{"error": {"code": …, "message": …}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// What staff alone are told (never set on an LGWAN answer); boxed, since most
    /// errors carry none.
    for_staff: Option<Box<StaffDetail>>,
    /// Seconds to wait before trying again (`Retry-After`), for a 429.
    retry_after: Option<u64>,
}

/// What a counter refusal tells staff beyond its code and message.
#[derive(Debug)]
struct StaffDetail {
    /// What exactly matched (who a support measure protects, which field overflowed).
    detail: Option<String>,
    /// The person a refusal concerns, for the clerk's screen.
    person: Option<kofu_domain::RefusedPerson>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            for_staff: None,
            retry_after: None,
        }
    }

    /// A use case's error as staff at the counter read it: a refusal carries its
    /// detail (who is protected, which suppression), which a kiosk never sees.
    pub(crate) fn for_staff(e: AppError) -> Self {
        let (detail, person) = match &e {
            AppError::Refused(r) => (Some(r.detail.clone()), r.person.clone()),
            AppError::Render(r) => (Some(r.to_string()), None),
            _ => (None, None),
        };
        ApiError {
            for_staff: Some(Box::new(StaffDetail { detail, person })),
            ..ApiError::from(e)
        }
    }

    /// The staff-only detail, if any.
    pub fn detail(&self) -> Option<&str> {
        self.for_staff.as_ref().and_then(|s| s.detail.as_deref())
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable error code (`invalid_request`, `malformed_json`, …).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The human-readable (Japanese) message.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn invalid(field: &str, reason: impl std::fmt::Display) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("リクエストの項目 {field} が不正です: {reason}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(staff) = self.for_staff {
            if let Some(detail) = staff.detail {
                error["detail"] = json!(detail);
            }
            if let Some(person) = staff.person {
                error["person"] = json!(person);
            }
        }
        let body = json!({ "error": error });
        if let Some(secs) = self.retry_after {
            return (
                self.status,
                [(axum::http::header::RETRY_AFTER, secs.to_string())],
                axum::Json(body),
            )
                .into_response();
        }
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        use StatusCode as S;
        match e {
            AppError::Refused(r) => {
                ApiError::new(S::FORBIDDEN, r.reason.code(), r.reason.kiosk_message())
            }
            AppError::InvalidOptions(o) => ApiError::new(
                S::BAD_REQUEST,
                "invalid_options",
                format!("指定された選択項目は使えません: {o}"),
            ),
            AppError::BadRequest { field, reason } => ApiError::invalid(field, reason),
            AppError::Timeout(_) => ApiError::new(
                S::SERVICE_UNAVAILABLE,
                "timeout",
                "時間内に処理できませんでした。証明書は発行されていません。",
            ),
            AppError::Busy => ApiError::new(
                S::SERVICE_UNAVAILABLE,
                "busy",
                "住民記録の更新中です。証明書は発行されていません。もう一度お試しください。",
            ),
            AppError::RequestIdReused => ApiError::new(
                S::CONFLICT,
                "request_id_reused",
                "この request_id は別の内容の要求に使われています。",
            ),
            AppError::NotReproducible(_) => ApiError::new(
                S::CONFLICT,
                "not_reproducible",
                "記録が変わったため、同じ証明書を再送できません。",
            ),
            AppError::UnknownIssuance => ApiError::new(
                S::NOT_FOUND,
                "unknown_issuance",
                "該当する発行がありません。",
            ),
            AppError::InvalidCredentials => ApiError::new(
                S::UNAUTHORIZED,
                "invalid_credentials",
                "ログイン名、パスワードまたはワンタイムコードが違います。",
            ),
            AppError::AccountLocked => ApiError::new(
                S::FORBIDDEN,
                "account_locked",
                "ログインの失敗が続いたため、アカウントはロックされています。30分後にもう一度お試しいただくか、管理者に連絡してください。",
            ),
            AppError::TooManyAttempts(secs) => ApiError {
                retry_after: Some(secs),
                ..ApiError::new(
                    S::TOO_MANY_REQUESTS,
                    "too_many_attempts",
                    format!("ログインの失敗が続いています。{secs} 秒後にもう一度お試しください。"),
                )
            },
            AppError::AccountDisabled => ApiError::new(
                S::FORBIDDEN,
                "account_disabled",
                "このアカウントは無効です。",
            ),
            AppError::Unauthenticated => {
                ApiError::new(S::UNAUTHORIZED, "unauthenticated", "ログインしてください。")
            }
            AppError::SessionExpired => ApiError::new(
                S::UNAUTHORIZED,
                "session_expired",
                "操作がない時間が続いたため、ログアウトしました。もう一度ログインしてください。",
            ),
            AppError::Forbidden(action) => ApiError::new(
                S::FORBIDDEN,
                "forbidden",
                format!("この役割では行えない操作です（{action:?}）。"),
            ),
            AppError::DuplicateLogin(login) => ApiError::new(
                S::CONFLICT,
                "duplicate_login",
                format!("ログイン名 {login} は使われています。"),
            ),
            AppError::WeakPassword(n) => ApiError::new(
                S::BAD_REQUEST,
                "weak_password",
                format!("パスワードは {n} 文字以上にしてください。"),
            ),
            AppError::UnknownStaff(login) => ApiError::new(
                S::NOT_FOUND,
                "unknown_staff",
                format!("職員 {login} は登録されていません。"),
            ),
            AppError::DayClosed(day) => {
                ApiError::new(S::CONFLICT, "day_closed", format!("{day} は締め済みです。"))
            }
            AppError::OfflineLimit(why) => ApiError::new(
                S::CONFLICT,
                "offline_limit",
                format!("オフラインでは発行できません: {why}"),
            ),
            AppError::SyncRejected(why) => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "sync_rejected",
                format!("端末の記録を受け付けられません（何も反映していません）: {why}"),
            ),
            AppError::InvalidSetting(errors) => ApiError::new(
                S::BAD_REQUEST,
                "invalid_setting",
                format!(
                    "設定を保存できません（何も変更していません）: {}",
                    errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            ),
            AppError::SettingConflict { setting, revision } => ApiError::new(
                S::CONFLICT,
                "setting_conflict",
                format!(
                    "設定 {setting} は他の職員が変更しました（現在の版 {revision}）。読み込み直してから変更してください。"
                ),
            ),
            AppError::TerminalRefused(why) => ApiError::new(
                S::FORBIDDEN,
                "terminal_refused",
                format!("この端末では発行できません: {why}"),
            ),
            AppError::RateLimited(secs) => ApiError {
                retry_after: Some(secs),
                ..ApiError::new(
                    S::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!("要求が多すぎます。{secs} 秒後にもう一度お試しください。"),
                )
            },
            AppError::EnrolmentRefused => ApiError::new(
                S::UNAUTHORIZED,
                "enrolment_refused",
                "ログインIDと登録コードが、初回登録を待つアカウントと一致しません。管理者に新しい登録コードを依頼してください。",
            ),
            AppError::TerminalUnverified(why) => ApiError::new(
                S::UNAUTHORIZED,
                "terminal_unverified",
                format!("登録された端末からの要求であることを確認できません: {why}"),
            ),
            AppError::Render(kofu_render::RenderError::MissingGlyph { field, ch }) => {
                ApiError::new(
                    S::UNPROCESSABLE_ENTITY,
                    "missing_glyph",
                    format!(
                        "外字のため印刷できません: 項目 {field} の「{ch}」({})。外字を登録してください。",
                        kofu_render::codepoints(&ch)
                    ),
                )
            }
            AppError::Render(kofu_render::RenderError::Overflow { field }) => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "overflow",
                format!("項目 {field} が欄に収まらないため印刷できません。"),
            ),
            AppError::NotFound(what) => {
                tracing::error!(%what, "a record the service needs is missing");
                ApiError::new(
                    S::SERVICE_UNAVAILABLE,
                    "not_ready",
                    "発行サーバの準備ができていません。",
                )
            }
            other => {
                tracing::error!(error = %other, code = other.code(), "internal error");
                ApiError::new(
                    S::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "発行サーバで障害が発生しました。証明書は発行されていません。",
                )
            }
        }
    }
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "そのような窓口はありません。",
    )
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "このメソッドは使えません。",
    )
}

/// The body, or the answer to a body too large to read.
pub(crate) fn bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("リクエストが大きすぎます（上限 {MAX_BODY} バイト）。"),
            )
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("本文を読めません: {e}"),
            )
        }
    })
}

/// Reads a JSON body: the right content type, valid JSON, every field as specified.
pub(crate) fn parse_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, ApiError> {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json_type {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Content-Type は application/json でなければなりません。",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("JSON として読めません: {inner}"),
            )
        } else {
            ApiError::invalid(if path == "." { "(body)" } else { &path }, inner)
        }
    })
}
