//! The counter API's offline endpoints (`/counter/v1/offline/…`) and the health probe
//! terminals watch to notice an outage: the replica feed, the offline kit (cached
//! login and reserved numbers), the upload of a terminal's chain, and the
//! supervisor's review of offline work. Handlers parse, call one use case, answer.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use kofu_app::Office;
use kofu_app::offline::SyncBatch;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::api::{ApiError, bytes, parse_body};
use crate::counter::query_pairs;
use crate::door::{Caller, CounterRoute, Door, Signed};
use kofu_app::staff::Action;

/// The largest upload: a batch of 2,000 entries with their rows is a few MB.
pub const MAX_SYNC_BODY: usize = 32 << 20;

/// The offline routes, rows of the counter's route table.
pub(crate) fn routes() -> Vec<CounterRoute> {
    use Door as D;
    // The replica, the kit and the upload: a staff session on a terminal that signs.
    let offline = D::Terminal(Action::WorkOffline);
    let review_offline = D::Role(Action::ReviewOffline);
    vec![
        CounterRoute::get("/counter/v1/health", D::Open, health),
        CounterRoute::get("/counter/v1/offline/replica", offline, replica),
        CounterRoute::post("/counter/v1/offline/kit", offline, kit),
        CounterRoute::post("/counter/v1/offline/sync", offline, sync)
            .with_body_limit(MAX_SYNC_BODY),
        CounterRoute::get("/counter/v1/offline/review", review_offline, review),
        CounterRoute::post(
            "/counter/v1/offline/flags/{id}/resolution",
            review_offline,
            resolve,
        ),
    ]
}

/// Answers as soon as the service runs: what a terminal probes every few seconds.
async fn health() -> StatusCode {
    StatusCode::NO_CONTENT
}

async fn replica(
    State(office): State<Office>,
    Caller(s): Caller,
    Signed(terminal): Signed,
    uri: Uri,
) -> Result<Response, ApiError> {
    let (mut after, mut loads, mut limit, mut cursor) = (None, None, 5_000usize, None);
    let integer = |field: &'static str, value: &str| {
        value
            .parse::<i64>()
            .map_err(|_| ApiError::invalid(field, "整数ではありません"))
    };
    for (key, value) in query_pairs(uri.query().unwrap_or_default())? {
        match key.as_str() {
            "after" => after = Some(integer("after", &value)?),
            "loads" => loads = Some(integer("loads", &value)?),
            "limit" => limit = usize::try_from(integer("limit", &value)?).unwrap_or(0),
            "cursor" => cursor = Some(value),
            other => return Err(ApiError::invalid(other, "未知の条件です")),
        }
    }
    let feed = office
        .replica_feed(
            &s,
            &terminal,
            after,
            loads,
            limit,
            cursor.as_deref(),
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(axum::Json(feed).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KitBody {
    terminal: String,
    numbers_left: i64,
}

async fn kit(
    State(office): State<Office>,
    Caller(s): Caller,
    signed: Signed,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = signed.body(body)?;
    let b: KitBody = parse_body(&headers, &body)?;
    let now = OffsetDateTime::now_utc();
    let kit = office
        .offline_kit(&s, &signed.0, &b.terminal, b.numbers_left, now)
        .await?;
    Ok(axum::Json(kit).into_response())
}

async fn sync(
    State(office): State<Office>,
    Caller(s): Caller,
    signed: Signed,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = signed.body(body)?;
    let batch: SyncBatch = parse_body(&headers, &body)?;
    let receipt = office
        .accept_sync(&s, &signed.0, &batch, OffsetDateTime::now_utc())
        .await?;
    Ok(axum::Json(receipt).into_response())
}

async fn review(State(office): State<Office>, Caller(s): Caller) -> Result<Response, ApiError> {
    let review = office.offline_review(&s, OffsetDateTime::now_utc()).await?;
    Ok(axum::Json(review).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolutionBody {
    resolution: String,
    #[serde(default)]
    note: String,
}

async fn resolve(
    State(office): State<Office>,
    Caller(s): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = bytes(body)?;
    let b: ResolutionBody = parse_body(&headers, &body)?;
    office
        .resolve_offline_flag(&s, &id, &b.resolution, &b.note, OffsetDateTime::now_utc())
        .await?;
    Ok(axum::Json(serde_json::json!({"flag_id": id, "resolution": b.resolution})).into_response())
}
