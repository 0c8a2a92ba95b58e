//! The door of every counter route: who calls (the staff session, from the bearer
//! token) and whether their role may do what the route does, both checked before
//! anything of the request's body is read or parsed.
//!
//! Every counter route is a row of one table ([`CounterRoute`]): its method, its path,
//! its [`Door`] and its handler. The router is built from the rows, so no route exists
//! without its door, and a test walks the same rows with every role and with no token.
//! The use cases authorize again on their own (they serve the Tauri shell and the CLI
//! too); the door only makes sure a refusal comes first.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Request, State};
use axum::handler::Handler;
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use kofu_app::Office;
use kofu_app::staff::{Action, StaffSession};
use kofu_app::terminal::{TerminalProof, VerifiedTerminal};
use time::OffsetDateTime;

use crate::api::ApiError;
use crate::counter::session;

/// What a route asks of its caller before it reads the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Door {
    /// Anyone (login, logout, the health probe).
    Open,
    /// Any member of staff with a live session.
    Staff,
    /// A session whose role may perform this action.
    Role(Action),
    /// A session whose role may perform this action, on an enrolled, active terminal
    /// that signed the request with its key (the offline routes; see
    /// [`kofu_app::terminal`]).
    Terminal(Action),
}

/// One counter route.
pub struct CounterRoute {
    /// The HTTP method (the handler answers it alone).
    pub method: Method,
    /// The path, with `{name}` parameters as axum writes them.
    pub path: &'static str,
    /// Who may come in.
    pub door: Door,
    /// The handler, with its own layers (a larger body limit, …).
    pub handler: MethodRouter<Office>,
}

impl CounterRoute {
    /// A `GET` row of the table.
    pub fn get<H, T>(path: &'static str, door: Door, handler: H) -> Self
    where
        H: Handler<T, Office>,
        T: 'static,
    {
        Self::row(Method::GET, path, door, axum::routing::get(handler))
    }

    /// A `POST` row of the table.
    pub fn post<H, T>(path: &'static str, door: Door, handler: H) -> Self
    where
        H: Handler<T, Office>,
        T: 'static,
    {
        Self::row(Method::POST, path, door, axum::routing::post(handler))
    }

    fn row(method: Method, path: &'static str, door: Door, handler: MethodRouter<Office>) -> Self {
        CounterRoute {
            method,
            path,
            door,
            handler,
        }
    }

    /// The row with a larger body limit than the router's (an upload, a seal image).
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.handler = self
            .handler
            .layer(axum::extract::DefaultBodyLimit::max(bytes));
        self
    }

    /// The handler behind its door.
    pub(crate) fn guarded(self, office: &Office) -> (&'static str, MethodRouter<Office>) {
        let door = self.door;
        let guard = axum::middleware::from_fn_with_state(
            office.clone(),
            move |State(office): State<Office>, req: Request, next: Next| {
                let_in(door, office, req, next)
            },
        );
        (self.path, self.handler.route_layer(guard))
    }
}

/// Lets the request in if `door` allows, with the caller's session in its extensions.
async fn let_in(door: Door, office: Office, mut req: Request, next: Next) -> Response {
    if door == Door::Open {
        return next.run(req).await;
    }
    let s = match session(&office, req.headers()).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let now = OffsetDateTime::now_utc();
    if let Door::Role(action) | Door::Terminal(action) = door
        && let Err(e) = office.authorize(&s, action, now).await
    {
        return ApiError::from(e).into_response();
    }
    if let Door::Terminal(_) = door {
        let (method, uri) = (req.method().clone(), req.uri().clone());
        let verified = match terminal_of(&office, req.headers(), &method, &uri, now).await {
            Ok(v) => v,
            Err(e) => return e.into_response(),
        };
        req.extensions_mut().insert(Signed(verified));
    }
    req.extensions_mut().insert(Caller(s));
    next.run(req).await
}

/// The terminal header: its name, percent-encoded (names are Japanese).
pub const TERMINAL_HEADER: &str = "kofu-terminal";
/// The instant of the signature (Unix seconds).
pub const TIMESTAMP_HEADER: &str = "kofu-timestamp";
/// The sha256 (hex) of the body the signature covers.
pub const CONTENT_SHA256_HEADER: &str = "kofu-content-sha256";
/// The Ed25519 signature (hex).
pub const SIGNATURE_HEADER: &str = "kofu-signature";

/// The headers that carry a terminal's proof, for a client to add to its request.
pub fn proof_headers(proof: &TerminalProof) -> [(&'static str, String); 4] {
    let name: String = proof
        .terminal
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    [
        (TERMINAL_HEADER, name),
        (TIMESTAMP_HEADER, proof.unix.to_string()),
        (CONTENT_SHA256_HEADER, proof.body_sha256.clone()),
        (SIGNATURE_HEADER, proof.signature.clone()),
    ]
}

/// Reads and checks a request's terminal proof (headers only: the body is checked
/// against the signed digest when the handler reads it, [`Signed::body`]).
async fn terminal_of(
    office: &Office,
    headers: &axum::http::HeaderMap,
    method: &Method,
    uri: &axum::http::Uri,
    now: OffsetDateTime,
) -> Result<VerifiedTerminal, ApiError> {
    let missing = |header: &str| {
        ApiError::from(kofu_app::AppError::TerminalUnverified(format!(
            "a request from a staff session alone is refused here: the terminal's {header} header is missing or unreadable"
        )))
    };
    let header = |name: &'static str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| missing(name))
    };
    let terminal = crate::counter::percent_decode(header(TERMINAL_HEADER)?)
        .map_err(|_| missing(TERMINAL_HEADER))?;
    let proof = TerminalProof {
        terminal,
        unix: header(TIMESTAMP_HEADER)?
            .parse()
            .map_err(|_| missing(TIMESTAMP_HEADER))?,
        body_sha256: header(CONTENT_SHA256_HEADER)?.to_ascii_lowercase(),
        signature: header(SIGNATURE_HEADER)?.to_ascii_lowercase(),
    };
    let path = uri
        .path_and_query()
        .map_or_else(|| uri.path(), |p| p.as_str());
    let token = crate::counter::bearer(headers)?;
    Ok(office
        .verify_terminal(&proof, method.as_str(), path, token, now)
        .await?)
}

/// The terminal a [`Door::Terminal`] verified, for the handler.
#[derive(Clone, Debug)]
pub struct Signed(pub VerifiedTerminal);

impl Signed {
    /// The request's body, if it is the one the terminal signed.
    pub fn body(&self, body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
        let body = crate::api::bytes(body)?;
        self.0.check_body(&body)?;
        Ok(body)
    }
}

impl FromRequestParts<Office> for Signed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &Office) -> Result<Self, ApiError> {
        // Only a terminal door verifies a proof: a handler behind another door that
        // asks for one is a programming error, refused rather than let through.
        parts.extensions.get::<Signed>().cloned().ok_or_else(|| {
            ApiError::from(kofu_app::AppError::TerminalUnverified(
                "this route does not check a terminal's proof".into(),
            ))
        })
    }
}

/// The session the door let in, for the handler.
#[derive(Clone, Debug)]
pub struct Caller(pub StaffSession);

impl FromRequestParts<Office> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, office: &Office) -> Result<Self, ApiError> {
        // Behind a door the session is known; a handler behind an open door that
        // wants one authenticates here, still before its body is read.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        Ok(Caller(session(office, &parts.headers).await?))
    }
}

/// The address a request came from, when the server knows it (a TCP peer; not a call
/// tunnelled in-process by the counter app's shell).
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}
