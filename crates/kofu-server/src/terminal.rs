//! The counter API's terminal identity routes: an administrator enrols, lists and
//! revokes terminals (`/counter/v1/admin/terminals…`); a terminal registers its
//! public key with its one-time code (`/counter/v1/terminal/register`). Handlers
//! parse, call one use case, answer.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use kofu_app::Office;
use kofu_app::staff::Action;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::api::{ApiError, bytes, parse_body};
use crate::door::{Caller, CounterRoute, Door};

/// The terminal routes, rows of the counter's route table.
pub(crate) fn routes() -> Vec<CounterRoute> {
    let manage = Door::Role(Action::ManageSettings);
    vec![
        CounterRoute::get("/counter/v1/admin/terminals", manage, list),
        CounterRoute::post("/counter/v1/admin/terminals", manage, enrol),
        CounterRoute::post("/counter/v1/admin/terminals/{name}/revoke", manage, revoke),
        // The one-time code is the credential: no staff session on a new terminal yet.
        CounterRoute::post("/counter/v1/terminal/register", Door::Open, register),
    ]
}

async fn list(State(office): State<Office>, Caller(s): Caller) -> Result<Response, ApiError> {
    let list = office
        .terminal_identities(&s, OffsetDateTime::now_utc())
        .await?;
    Ok(axum::Json(serde_json::json!({ "terminals": list })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrolBody {
    name: String,
}

async fn enrol(
    State(office): State<Office>,
    Caller(s): Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = bytes(body)?;
    let b: EnrolBody = parse_body(&headers, &body)?;
    let enrolment = office
        .enrol_terminal(&s, &b.name, OffsetDateTime::now_utc())
        .await?;
    Ok(axum::Json(enrolment).into_response())
}

async fn revoke(
    State(office): State<Office>,
    Caller(s): Caller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let info = office
        .revoke_terminal(&s, &name, OffsetDateTime::now_utc())
        .await?;
    Ok(axum::Json(info).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    name: String,
    code: String,
    public_key: String,
}

async fn register(
    State(office): State<Office>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = bytes(body)?;
    let b: RegisterBody = parse_body(&headers, &body)?;
    let info = office
        .register_terminal(&b.name, &b.code, &b.public_key, OffsetDateTime::now_utc())
        .await?;
    Ok(axum::Json(info).into_response())
}
