//! The counter API client behind `counter_call`: the same `/counter/v1` requests either
//! to the counter router in-process (embedded mode, no socket) or over HTTPS to the
//! town hall's `kofu serve` (server mode).
//!
//! It holds the session: a successful login's `token` is kept here and taken out of
//! the body the UI sees; every later call carries it as `Authorization: Bearer`; a
//! logout or any 401 forgets it. The web view never sees the token.

use std::sync::Mutex;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, header};
use serde::Serialize;
use serde_json::Value;
use tower::ServiceExt as _;

use crate::error::ShellError;

/// The prefix every path must start with.
pub const API_PREFIX: &str = "/counter/v1/";
/// The path of the login request whose answer carries the token.
pub const LOGIN_PATH: &str = "/counter/v1/login";
/// The path of the logout request, after which the token is forgotten.
pub const LOGOUT_PATH: &str = "/counter/v1/logout";
/// The largest answer read (an issuance of ten copies of a long 戸籍 is a few MB).
const MAX_ANSWER: usize = 64 << 20;

/// Makes the extra headers of one request from its method, path (query included),
/// session token and body bytes: a terminal's signature.
pub type RequestSigner<'a> =
    dyn Fn(&str, &str, &str, &[u8]) -> Vec<(&'static str, String)> + Send + Sync + 'a;

/// An answer of the counter API, as `counter_call` hands it to the UI.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CounterAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body (`null` when empty), without a login's token.
    pub body: Value,
}

/// The two methods the counter API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Reads.
    Get,
    /// Everything else.
    Post,
}

impl std::str::FromStr for Method {
    type Err = ShellError;

    fn from_str(s: &str) -> Result<Method, ShellError> {
        match s {
            "GET" => Ok(Method::Get),
            "POST" => Ok(Method::Post),
            other => Err(ShellError::BadCall(format!(
                "method {other:?}: only GET and POST"
            ))),
        }
    }
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// Where the requests go.
enum Transport {
    /// The counter router of kofu-server, called in-process.
    InProcess(axum::Router),
    /// HTTPS (or HTTP on loopback) to a counter server.
    Remote {
        http: reqwest::Client,
        /// For health probes: a fresh connection each time, so that a probe tells
        /// whether the server can be reached now, not whether an old one still holds.
        probe: reqwest::Client,
        /// The base URL, without a trailing `/`.
        base: String,
    },
}

/// A client of the counter API that keeps the session token for the UI.
pub struct CounterClient {
    transport: Transport,
    token: Mutex<Option<String>>,
}

impl std::fmt::Debug for CounterClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CounterClient")
            .field("server", &self.server())
            .finish_non_exhaustive()
    }
}

impl CounterClient {
    /// A client of the counter router, in-process (embedded mode).
    pub fn in_process(router: axum::Router) -> CounterClient {
        CounterClient {
            transport: Transport::InProcess(router),
            token: Mutex::new(None),
        }
    }

    /// A client of the counter server at `base` (checked by the settings), trusting
    /// only `ca_pem` when it is given (the town hall's own CA: a certificate a public
    /// CA issued for the server's name is not accepted), else the public roots.
    pub fn remote(base: &str, ca_pem: Option<&[u8]>) -> Result<CounterClient, ShellError> {
        let certs = match ca_pem {
            Some(pem) => {
                let certs = reqwest::Certificate::from_pem_bundle(pem)
                    .map_err(|e| ShellError::Settings(format!("KOFU_COUNTER_CA: {e}")))?;
                if certs.is_empty() {
                    return Err(ShellError::Settings(
                        "KOFU_COUNTER_CA holds no certificate".into(),
                    ));
                }
                certs
            }
            None => Vec::new(),
        };
        let build = |pooled: bool| {
            let mut builder = reqwest::Client::builder()
                .use_rustls_tls()
                .https_only(!base.starts_with("http://"))
                // Short: an unreachable server must turn the terminal offline quickly.
                .connect_timeout(Duration::from_secs(3))
                .timeout(Duration::from_secs(120))
                .redirect(reqwest::redirect::Policy::none());
            if !pooled {
                builder = builder.pool_max_idle_per_host(0);
            }
            // With the town's CA configured, the public roots are off.
            builder = builder.tls_built_in_root_certs(certs.is_empty());
            for cert in &certs {
                builder = builder.add_root_certificate(cert.clone());
            }
            builder
                .build()
                .map_err(|e| ShellError::Settings(format!("cannot build the HTTPS client: {e}")))
        };
        let (http, probe) = (build(true)?, build(false)?);
        Ok(CounterClient {
            transport: Transport::Remote {
                http,
                probe,
                base: base.trim_end_matches('/').to_owned(),
            },
            token: Mutex::new(None),
        })
    }

    /// Where the requests go: `in-process` or the server's base URL.
    pub fn server(&self) -> &str {
        match &self.transport {
            Transport::InProcess(_) => "in-process",
            Transport::Remote { base, .. } => base,
        }
    }

    /// Whether the server answers its health probe within `within` (in-process: yes).
    pub async fn probe(&self, within: Duration) -> bool {
        match &self.transport {
            Transport::InProcess(_) => true,
            Transport::Remote { probe, base, .. } => probe
                .get(format!("{base}/counter/v1/health"))
                .timeout(within)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success()),
        }
    }

    /// Forgets the session token (the session it names is left to expire).
    pub fn forget_session(&self) {
        *self.token_lock() = None;
    }

    /// Whether a session token is held.
    pub fn logged_in(&self) -> bool {
        self.token_lock().is_some()
    }

    /// Calls the counter API: `method` `path` (under `/counter/v1/`, query included)
    /// with an optional JSON body; answers the status and the JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<CounterAnswer, ShellError> {
        self.call_signed(method, path, body, None).await
    }

    /// [`CounterClient::call`], with the headers `sign` makes for this very request
    /// (method, path, session token, body bytes): a terminal's proof.
    pub async fn call_signed(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        sign: Option<&RequestSigner<'_>>,
    ) -> Result<CounterAnswer, ShellError> {
        let method: Method = method.parse()?;
        check_path(path)?;
        let body = match (method, body) {
            (_, None | Some(Value::Null)) => None,
            (Method::Get, Some(_)) => {
                return Err(ShellError::BadCall("a GET takes no body".into()));
            }
            (Method::Post, Some(b)) => {
                Some(serde_json::to_vec(&b).map_err(|e| ShellError::Internal(e.to_string()))?)
            }
        };
        let is_login = method == Method::Post && path_only(path) == LOGIN_PATH;
        let is_logout = method == Method::Post && path_only(path) == LOGOUT_PATH;
        let token = match (is_login, is_logout) {
            (true, _) => None,
            // Logging out forgets the token even if the server cannot be told.
            (_, true) => self.token_lock().take(),
            _ => self.token_lock().clone(),
        };
        let extra = match sign {
            Some(sign) => sign(
                method.as_str(),
                path,
                token.as_deref().unwrap_or_default(),
                body.as_deref().unwrap_or_default(),
            ),
            None => Vec::new(),
        };
        let (status, bytes) = match &self.transport {
            Transport::InProcess(router) => {
                in_process(router.clone(), method, path, token.clone(), extra, body).await?
            }
            Transport::Remote { http, base, .. } => {
                remote(http, base, method, path, token.clone(), extra, body).await?
            }
        };
        let mut answer = CounterAnswer {
            status,
            body: if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).map_err(|_| ShellError::BadAnswer { status })?
            },
        };
        if is_login && status == 200 {
            let fresh = answer
                .body
                .as_object_mut()
                .and_then(|o| o.remove("token"))
                .and_then(|t| t.as_str().map(str::to_owned));
            *self.token_lock() = fresh;
        } else if status == 401 {
            // The session sent has ended; a login answered meanwhile keeps its own.
            let mut held = self.token_lock();
            if is_login || *held == token {
                *held = None;
            }
        }
        Ok(answer)
    }

    /// The token held, for tests that check it never reaches the UI.
    #[cfg(test)]
    pub(crate) fn token_for_tests(&self) -> Option<String> {
        self.token_lock().clone()
    }

    fn token_lock(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        // A panic while holding this lock cannot leave a half-written token.
        self.token
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The path without its query string.
fn path_only(path: &str) -> &str {
    path.split_once('?').map_or(path, |(p, _)| p)
}

/// Only the counter API, and nothing that could step out of it.
fn check_path(path: &str) -> Result<(), ShellError> {
    let refuse = || ShellError::ForbiddenPath(path.to_owned());
    let route = path_only(path);
    if !route.starts_with(API_PREFIX)
        || route
            .split('/')
            .any(|segment| segment == "." || segment == "..")
        || route.contains("//")
        || path.contains(['#', '\\'])
        || path.chars().any(|c| c.is_whitespace() || c.is_control())
        || path.parse::<axum::http::Uri>().is_err()
    {
        return Err(refuse());
    }
    Ok(())
}

async fn in_process(
    router: axum::Router,
    method: Method,
    path: &str,
    token: Option<String>,
    extra: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
) -> Result<(u16, Vec<u8>), ShellError> {
    let mut request = Request::builder().method(method.as_str()).uri(path);
    if let Some(t) = &token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    for (name, value) in extra {
        request = request.header(name, value);
    }
    let request = match body {
        Some(b) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b)),
        None => request.body(Body::empty()),
    }
    .map_err(|e| ShellError::BadCall(e.to_string()))?;
    // On a task of its own, so that a panic in a handler is an error here, not a
    // dead command.
    let task = tokio::spawn(async move {
        let response = router.oneshot(request).await?;
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER)
            .await
            .map_err(|e| ShellError::Internal(format!("reading the answer: {e}")))?;
        Ok::<_, ShellError>((status, bytes.to_vec()))
    });
    task.await
        .map_err(|e| ShellError::Internal(format!("the counter API failed: {e}")))?
}

impl From<std::convert::Infallible> for ShellError {
    fn from(never: std::convert::Infallible) -> ShellError {
        match never {}
    }
}

async fn remote(
    http: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
    token: Option<String>,
    extra: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
) -> Result<(u16, Vec<u8>), ShellError> {
    let url = format!("{base}{path}");
    let mut request = match method {
        Method::Get => http.get(&url),
        Method::Post => http.post(&url),
    };
    if let Some(t) = &token {
        request = request.bearer_auth(t);
    }
    for (name, value) in extra {
        request = request.header(name, value);
    }
    if let Some(b) = body {
        request = request
            .header(header::CONTENT_TYPE, "application/json")
            .body(b);
    }
    let unreachable = |e: reqwest::Error| {
        // The URL is the base URL and the API path: no secret in it.
        ShellError::Unreachable(format!("{}: {e}", base))
    };
    let response = request.send().await.map_err(unreachable)?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(unreachable)?;
    if bytes.len() > MAX_ANSWER {
        return Err(ShellError::BadAnswer { status });
    }
    Ok((status, bytes.to_vec()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_counter_api_paths_are_called() {
        for ok in [
            "/counter/v1/login",
            "/counter/v1/residents?name=%E8%A6%8B%E6%9C%AC&birth_date=1980-04-01",
            "/counter/v1/issuances/abc-123/voids",
            "/counter/v1/reports/2026-05-07",
        ] {
            check_path(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "/lgwan/v1/issuances",
            "/counter/v2/login",
            "/counter/v1",
            "counter/v1/login",
            "https://evil.example/counter/v1/login",
            "/counter/v1/../../lgwan/v1/inquiries",
            "/counter/v1/./login",
            "/counter/v1//login",
            "/counter/v1/login#x",
            "/counter/v1/residents?name=a b",
            "/counter/v1/\\login",
            "/counter/v1/login\n",
            "",
        ] {
            assert_eq!(
                check_path(bad).unwrap_err().code(),
                "forbidden_path",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn methods_are_get_and_post_only() {
        assert_eq!("GET".parse::<Method>().unwrap(), Method::Get);
        assert_eq!("POST".parse::<Method>().unwrap(), Method::Post);
        for bad in ["get", "PUT", "DELETE", ""] {
            assert_eq!(bad.parse::<Method>().unwrap_err().code(), "bad_call");
        }
    }

    /// A development CA and a server certificate for `localhost` it signed (PEM).
    fn pki() -> (String, String, String) {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca_pem = params.self_signed(&ca_key).unwrap().pem();
        let issuer = rcgen::Issuer::new(params, ca_key);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
        (ca_pem, cert.pem(), key.serialize_pem())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn server_mode_keeps_the_token_over_https_trusting_the_given_ca() {
        use kofu_app::staff::{NewStaff, Role};
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("kofu.sqlite").display());
        let store = kofu_store::Store::open(&url).await.unwrap();
        let password = "counter over https";
        let now = time::OffsetDateTime::now_utc();
        let new = NewStaff {
            login: "madoguchi".into(),
            role: Role::Clerk,
            password: password.into(),
        };
        let enrolment = kofu_app::staff::add_staff(&store, &new, "test", now)
            .await
            .unwrap();
        let fonts = kofu_render::FontBook::load(&kofu_render::SystemFonts::from_env()).unwrap();
        let office = kofu_app::Office::new(
            store,
            std::sync::Arc::new(fonts),
            kofu_app::OfficeSettings::default(),
            "test",
        )
        .await
        .unwrap();
        let (ca_pem, cert, key) = pki();
        let (cert_path, key_path) = (dir.path().join("server.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert_path, cert).unwrap();
        std::fs::write(&key_path, key).unwrap();
        let tls = kofu_server::serve::tls_config(&cert_path, &key_path).unwrap();
        let listener = kofu_server::serve::Listener::bind(
            "127.0.0.1:0".parse().unwrap(),
            kofu_server::serve::Security::Tls(std::sync::Arc::new(tls)),
        )
        .unwrap();
        let base = format!(
            "https://localhost:{}",
            listener.local_addr().unwrap().port()
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(listener.serve(kofu_server::counter::router(office), async {
            let _ = stopped.await;
        }));

        // Without the town's CA the server's certificate is not trusted.
        let stranger = CounterClient::remote(&base, None).unwrap();
        let e = stranger
            .call("GET", "/counter/v1/session", None)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "unreachable", "{e}");

        let client = CounterClient::remote(&base, Some(ca_pem.as_bytes())).unwrap();
        assert_eq!(client.server(), base);
        let answer = client
            .call("GET", "/counter/v1/session", None)
            .await
            .unwrap();
        assert_eq!(answer.status, 401, "{}", answer.body);
        let secret = kofu_app::staff::base32_decode(&enrolment.totp_secret).unwrap();
        let step = u64::try_from(kofu_app::staff::totp_step(now)).unwrap();
        let code = kofu_app::staff::hotp(&secret, step, 6).unwrap();
        let login = serde_json::json!({"login": "madoguchi", "password": password,
                                       "totp": format!("{code:06}")});
        let answer = client
            .call("POST", "/counter/v1/login", Some(login))
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert!(answer.body.get("token").is_none(), "{}", answer.body);
        assert_eq!(answer.body["staff"]["role"], "clerk");
        let token = client.token_for_tests().unwrap();
        let answer = client
            .call("GET", "/counter/v1/session", None)
            .await
            .unwrap();
        assert_eq!(
            answer.status, 200,
            "the bearer token was sent: {}",
            answer.body
        );
        assert!(!answer.body.to_string().contains(&token));
        let answer = client
            .call("POST", "/counter/v1/logout", None)
            .await
            .unwrap();
        assert_eq!(answer.status, 204);
        assert_eq!(answer.body, Value::Null);
        assert!(!client.logged_in());
        let answer = client
            .call("GET", "/counter/v1/session", None)
            .await
            .unwrap();
        assert_eq!(answer.status, 401);

        let _ = stop.send(());
        server.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_rejection_not_an_answer() {
        // A port nothing listens on (bound then released).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = CounterClient::remote(&format!("http://127.0.0.1:{port}"), None).unwrap();
        let e = client
            .call("GET", "/counter/v1/session", None)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "unreachable", "{e}");
        assert_eq!(
            CounterClient::remote("https://x.example", Some(b"not pem"))
                .unwrap_err()
                .code(),
            "invalid_settings"
        );
    }
}
