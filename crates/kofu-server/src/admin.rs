//! The counter API's administration endpoints (`/counter/v1/admin/…`): the town's
//! settings (fees, kiosk hours, certifier and deputies, official seal) and the counter
//! terminals with their printers. Handlers parse, call one use case, answer.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use kofu_app::Office;
use kofu_app::admin::SettingChange;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::api::{ApiError, bytes, parse_body};
use crate::door::{Caller, CounterRoute, Door};
use kofu_app::staff::Action;

/// The largest setting change: a seal PNG of a few hundred KB, base64.
pub const MAX_SETTING_BODY: usize = 1 << 20;

/// The administration routes, rows of the counter's route table.
pub(crate) fn routes() -> Vec<CounterRoute> {
    vec![
        CounterRoute::get(
            "/counter/v1/admin/settings",
            Door::Role(Action::ManageSettings),
            settings,
        ),
        CounterRoute::post(
            "/counter/v1/admin/settings/{setting}",
            Door::Role(Action::ManageSettings),
            change,
        )
        .with_body_limit(MAX_SETTING_BODY),
    ]
}

async fn settings(State(office): State<Office>, Caller(s): Caller) -> Result<Response, ApiError> {
    let settings = office.settings(&s, OffsetDateTime::now_utc()).await?;
    Ok(axum::Json(settings).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    expected_revision: i64,
    value: serde_json::Value,
    reason: String,
}

async fn change(
    State(office): State<Office>,
    Caller(s): Caller,
    Path(setting): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = bytes(body)?;
    let b: ChangeBody = parse_body(&headers, &body)?;
    let change = SettingChange {
        setting,
        expected_revision: b.expected_revision,
        value: b.value,
        reason: b.reason,
    };
    let saved = office
        .change_setting(&s, &change, OffsetDateTime::now_utc())
        .await?;
    Ok(axum::Json(saved).into_response())
}
