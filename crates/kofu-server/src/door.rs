//! The door of every counter route: who calls (the staff session, from the bearer
//! token) and whether their role may do what the route does, both checked before
//! anything of the request's body is read or parsed.
//!
//! Every counter route is a row of one table ([`CounterRoute`]): its method, its path,
//! its [`Door`] and its handler. The router is built from the rows, so no route exists
//! without its door, and a test walks the same rows with every role and with no token.
//! The use cases authorize again on their own (they serve the Tauri shell and the CLI
//! too); the door only makes sure a refusal comes first.

use axum::extract::{FromRequestParts, Request, State};
use axum::handler::Handler;
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use kofu_app::Office;
use kofu_app::staff::{Action, StaffSession};
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
        CounterRoute {
            method: Method::GET,
            path,
            door,
            handler: axum::routing::get(handler),
        }
    }

    /// A `POST` row of the table.
    pub fn post<H, T>(path: &'static str, door: Door, handler: H) -> Self
    where
        H: Handler<T, Office>,
        T: 'static,
    {
        CounterRoute {
            method: Method::POST,
            path,
            door,
            handler: axum::routing::post(handler),
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
    if let Door::Role(action) = door
        && let Err(e) = office
            .authorize(&s, action, OffsetDateTime::now_utc())
            .await
    {
        return ApiError::from(e).into_response();
    }
    req.extensions_mut().insert(Caller(s));
    next.run(req).await
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
