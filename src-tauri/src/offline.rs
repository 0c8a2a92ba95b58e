//! A server-mode terminal that keeps working when the network does not: it watches
//! the server, keeps an encrypted replica current while online, switches every
//! request to the replica when the server is lost, and uploads what it issued once
//! the server is back.
//!
//! - **Watching.** The server's health is probed every [`PROBE_EVERY`]; two failed
//!   probes in a row (or a request that cannot reach it) make the terminal offline.
//!   A successful probe makes it online again; the offline session then ends, so the
//!   next login is online and uploads.
//! - **The replica** (`replica.sqlite` in the data directory) is SQLCipher-encrypted
//!   under the terminal's key, which the server hands out with each online login's
//!   offline kit. On disk the key exists only wrapped (ChaCha20-Poly1305) under a key
//!   derived (Argon2id) from the password of each member of staff who logged in here
//!   online (`replica-keys.json`): an offline login with that password unwraps it.
//! - **Online**, after each login and then every [`REFRESH_EVERY`], the terminal
//!   fetches its kit (cached account, numbers), brings the replica up to the server's
//!   change events and uploads its unacknowledged audit entries.
//! - **Offline**, requests go to the counter router over an office on the replica
//!   with [`OfflineTerminal`] settings: the same use cases, bounded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use kofu_app::offline::{self, OfflineKit, OfflineLimits, OfflineStatus, OfflineTerminal};
use kofu_app::terminal::TerminalKey;
use kofu_app::{Office, OfficeSettings};
use kofu_store::Store;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::client::{CounterAnswer, CounterClient, LOGIN_PATH, LOGOUT_PATH};
use crate::error::ShellError;

/// How often the server is probed.
pub const PROBE_EVERY: Duration = Duration::from_secs(2);
/// How long a probe may take.
pub const PROBE_WITHIN: Duration = Duration::from_secs(2);
/// How often, online and logged in, the replica is refreshed and the chain uploaded.
pub const REFRESH_EVERY: Duration = Duration::from_secs(30);
/// Audit entries per upload.
const UPLOAD_BATCH: usize = 500;
/// The replica's file in the data directory.
pub const REPLICA_FILE: &str = "replica.sqlite";
/// The wrapped replica keys in the data directory.
pub const KEYS_FILE: &str = "replica-keys.json";
/// The terminal's own key pair in the data directory (owner-only): made here at
/// registration, its private half never sent anywhere.
pub const TERMINAL_KEY_FILE: &str = "terminal-key.json";
/// The path a terminal registers its public key at, with its enrolment code.
pub const REGISTER_PATH: &str = "/counter/v1/terminal/register";

/// `terminal-key.json`.
#[derive(Serialize, Deserialize)]
struct TerminalKeyFile {
    terminal: String,
    secret: String,
}

/// What the UI shows of the terminal's connection (the `connectivity` command).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Connectivity {
    /// Whether the server answers.
    pub online: bool,
    /// Since when (RFC 3339).
    pub since: String,
    /// Whether a replica is unlocked (offline: someone logged in).
    pub replica_unlocked: bool,
    /// The replica's state, when unlocked.
    pub replica: Option<OfflineStatus>,
    /// How the last upload or refresh went (RFC 3339 and outcome), if any.
    pub last_sync: Option<String>,
    /// Whether this terminal registered its key (else it cannot prepare for offline
    /// work: an administrator's enrolment code is needed).
    pub registered: bool,
}

/// `replica-keys.json`: the terminal's replica key wrapped per login, and the bounds.
#[derive(Default, Serialize, Deserialize)]
struct KeysFile {
    limits: Option<OfflineLimits>,
    logins: BTreeMap<String, WrappedKey>,
}

#[derive(Clone, Serialize, Deserialize)]
struct WrappedKey {
    salt: String,
    nonce: String,
    wrapped: String,
}

struct State {
    online: bool,
    since: OffsetDateTime,
    failures: u32,
    replica: Option<Replica>,
    last_sync: Option<String>,
}

#[derive(Clone)]
struct Replica {
    store: Store,
    local: Arc<CounterClient>,
    /// The bounds its office enforces.
    limits: OfflineLimits,
}

/// The offline side of a server-mode terminal. See the module documentation.
pub struct Terminal {
    remote: Arc<CounterClient>,
    terminal: String,
    data_dir: PathBuf,
    fonts: Arc<kofu_render::FontBook>,
    state: Mutex<State>,
    /// Serializes kit, refresh and upload runs.
    sync_lock: tokio::sync::Mutex<()>,
    /// The terminal's key pair, once registered.
    key: Mutex<Option<Arc<TerminalKey>>>,
}

impl std::fmt::Debug for Terminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminal")
            .field("terminal", &self.terminal)
            .finish_non_exhaustive()
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str) -> Result<Vec<u8>, ShellError> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| ShellError::Internal(format!("{KEYS_FILE} is damaged")))
}

/// The key that wraps the replica key for one password.
fn password_key(password: &str, salt: &[u8]) -> Result<[u8; 32], ShellError> {
    let mut out = [0u8; 32];
    argon2::Argon2::default()
        .hash_password_into(password.as_bytes(), salt, &mut out)
        .map_err(|e| ShellError::Internal(format!("argon2: {e}")))?;
    Ok(out)
}

fn wrap(key: &[u8; 32], login: &str, password: &str) -> Result<WrappedKey, ShellError> {
    use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut salt).map_err(|e| ShellError::Internal(e.to_string()))?;
    getrandom::fill(&mut nonce).map_err(|e| ShellError::Internal(e.to_string()))?;
    let cipher = chacha20poly1305::ChaCha20Poly1305::new(&password_key(password, &salt)?.into());
    let wrapped = cipher
        .encrypt(
            &nonce.into(),
            Payload {
                msg: key,
                aad: login.as_bytes(),
            },
        )
        .map_err(|_| ShellError::Internal("cannot wrap the replica key".into()))?;
    Ok(WrappedKey {
        salt: b64(&salt),
        nonce: b64(&nonce),
        wrapped: b64(&wrapped),
    })
}

fn unwrap_key(w: &WrappedKey, login: &str, password: &str) -> Result<[u8; 32], ShellError> {
    use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
    let nonce: [u8; 12] = unb64(&w.nonce)?
        .try_into()
        .map_err(|_| ShellError::Internal(format!("{KEYS_FILE} is damaged")))?;
    let cipher =
        chacha20poly1305::ChaCha20Poly1305::new(&password_key(password, &unb64(&w.salt)?)?.into());
    let key = cipher
        .decrypt(
            &nonce.into(),
            Payload {
                msg: &unb64(&w.wrapped)?,
                aad: login.as_bytes(),
            },
        )
        // Wrong password (or a file altered): indistinguishable, on purpose.
        .map_err(|_| wrong_offline_login())?;
    key.try_into()
        .map_err(|_| ShellError::Internal(format!("{KEYS_FILE} is damaged")))
}

/// Writes `path` readable by its owner only, whole or not at all (a rename).
fn write_owner_only(path: &Path, text: &[u8]) -> Result<(), ShellError> {
    let tmp = path.with_extension("json.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(&tmp)
        .map_err(|e| ShellError::io(format!("writing {}", tmp.display()), e))?;
    std::io::Write::write_all(&mut file, text)
        .and_then(|()| file.sync_all())
        .map_err(|e| ShellError::io(format!("writing {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path)
        .map_err(|e| ShellError::io(format!("writing {}", path.display()), e))
}

fn wrong_offline_login() -> ShellError {
    ShellError::OfflineLocked(
        "login or password is wrong, or this account never logged in online on this terminal"
            .into(),
    )
}

fn hex_key(text: &str) -> Result<[u8; 32], ShellError> {
    let mut key = [0u8; 32];
    hex::decode_to_slice(text, &mut key).map_err(|_| ShellError::BadAnswer { status: 200 })?;
    Ok(key)
}

impl Terminal {
    /// A terminal for the server behind `remote`, keeping its replica in `data_dir`.
    pub fn new(
        remote: Arc<CounterClient>,
        terminal: &str,
        data_dir: &Path,
        fonts: Arc<kofu_render::FontBook>,
        now: OffsetDateTime,
    ) -> Terminal {
        Terminal {
            remote,
            terminal: terminal.to_owned(),
            data_dir: data_dir.to_owned(),
            fonts,
            state: Mutex::new(State {
                online: true,
                since: now,
                failures: 0,
                replica: None,
                last_sync: None,
            }),
            sync_lock: tokio::sync::Mutex::new(()),
            key: Mutex::new(None),
        }
    }

    /// The terminal's key pair: loaded from its file the first time.
    fn key(&self) -> Result<Arc<TerminalKey>, ShellError> {
        let mut held = self
            .key
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(k) = held.as_ref() {
            return Ok(Arc::clone(k));
        }
        let path = self.data_dir.join(TERMINAL_KEY_FILE);
        let file: TerminalKeyFile = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| ShellError::Internal(format!("{}: {e}", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ShellError::TerminalNotRegistered(self.terminal.clone()));
            }
            Err(e) => return Err(ShellError::io(format!("reading {}", path.display()), e)),
        };
        if file.terminal != self.terminal {
            return Err(ShellError::TerminalNotRegistered(self.terminal.clone()));
        }
        let key = Arc::new(
            TerminalKey::from_secret_hex(&file.secret)
                .map_err(|e| ShellError::Internal(format!("{}: {e}", path.display())))?,
        );
        *held = Some(Arc::clone(&key));
        Ok(key)
    }

    /// Whether this terminal has registered its key.
    pub fn registered(&self) -> bool {
        self.key().is_ok()
    }

    /// Registers this terminal with the one-time code an administrator enrolled it
    /// with: a new key pair is made here, its public half sent, its private half
    /// kept in [`TERMINAL_KEY_FILE`] (owner-only) only once the server took it.
    pub async fn register(&self, code: &str) -> Result<Value, ShellError> {
        let key = TerminalKey::generate().map_err(|e| ShellError::Internal(e.to_string()))?;
        let body = json!({"name": self.terminal, "code": code, "public_key": key.public_hex()});
        let answer = self.remote.call("POST", REGISTER_PATH, Some(body)).await?;
        if answer.status != 200 {
            return Ok(serde_json::to_value(&answer).unwrap_or_default());
        }
        let file = TerminalKeyFile {
            terminal: self.terminal.clone(),
            secret: key.secret_hex(),
        };
        let text =
            serde_json::to_vec_pretty(&file).map_err(|e| ShellError::Internal(e.to_string()))?;
        write_owner_only(&self.data_dir.join(TERMINAL_KEY_FILE), &text)?;
        *self
            .key
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(key));
        Ok(serde_json::to_value(&answer).unwrap_or_default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the server is taken to be reachable.
    pub fn online(&self) -> bool {
        self.lock().online
    }

    /// Records a probe's or a request's outcome; answers whether the mode changed.
    pub fn observe(&self, reachable: bool, now: OffsetDateTime) -> bool {
        let mut s = self.lock();
        if reachable {
            s.failures = 0;
            if !s.online {
                s.online = true;
                s.since = now;
                // The offline session ends: the next login is online, and uploads.
                if let Some(r) = &s.replica {
                    r.local.forget_session();
                }
                return true;
            }
        } else {
            s.failures += 1;
            if s.online && s.failures >= 2 {
                drop(s);
                return self.go_offline(now);
            }
        }
        false
    }

    /// Turns the terminal offline (answers whether it was online): the online
    /// session is forgotten, so nobody continues another's session afterwards.
    fn go_offline(&self, now: OffsetDateTime) -> bool {
        let mut s = self.lock();
        s.failures = s.failures.max(2);
        if !s.online {
            return false;
        }
        s.online = false;
        s.since = now;
        self.remote.forget_session();
        true
    }

    /// Probes the server every [`PROBE_EVERY`] and, online and logged in, refreshes
    /// and uploads every [`REFRESH_EVERY`]; runs until the task is aborted.
    pub async fn watch(self: Arc<Self>) {
        let mut since_refresh = Duration::ZERO;
        loop {
            tokio::time::sleep(PROBE_EVERY).await;
            let reachable = self.remote.probe(PROBE_WITHIN).await;
            let changed = self.observe(reachable, OffsetDateTime::now_utc());
            since_refresh += PROBE_EVERY;
            let due = since_refresh >= REFRESH_EVERY || (changed && reachable);
            if reachable && due && self.remote.logged_in() {
                since_refresh = Duration::ZERO;
                let outcome = self.refresh_and_upload().await;
                self.note_sync(outcome);
            }
        }
    }

    fn note_sync(&self, outcome: Result<String, ShellError>) {
        let now = rfc3339(OffsetDateTime::now_utc());
        self.lock().last_sync = Some(match outcome {
            Ok(done) => format!("{now} {done}"),
            Err(e) => format!("{now} failed: {e}"),
        });
    }

    /// One counter API request: to the server while online, to the replica offline.
    pub async fn call(
        self: &Arc<Self>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<CounterAnswer, ShellError> {
        let is_login = method == "POST" && path == LOGIN_PATH;
        if self.online() {
            let credentials = if is_login { body.clone() } else { None };
            match self.remote.call(method, path, body).await {
                Err(ShellError::Unreachable(why)) => {
                    // A request cut on the way is not yet an outage: probe at once, and
                    // go offline only if the server does not answer that either.
                    if !self.remote.probe(PROBE_WITHIN).await {
                        self.go_offline(OffsetDateTime::now_utc());
                    }
                    Err(ShellError::Unreachable(why))
                }
                Ok(answer) => {
                    if let (Some(c), 200) = (credentials, answer.status) {
                        // In the background: the clerk does not wait for an upload.
                        let me = Arc::clone(self);
                        tokio::spawn(async move {
                            let outcome = me.after_online_login(&c).await;
                            me.note_sync(outcome);
                        });
                    }
                    Ok(answer)
                }
                other => other,
            }
        } else {
            if is_login {
                let c = body.clone().unwrap_or_default();
                let (login, password) = (c["login"].as_str(), c["password"].as_str());
                self.unlock(login.unwrap_or_default(), password.unwrap_or_default())
                    .await?;
            }
            let replica = self.lock().replica.clone();
            match replica {
                Some(r) => r.local.call(method, path, body).await,
                None if method == "POST" && path == LOGOUT_PATH => Ok(CounterAnswer {
                    status: 204,
                    body: Value::Null,
                }),
                None => Err(ShellError::OfflineLocked(
                    "the server cannot be reached: log in to work offline".into(),
                )),
            }
        }
    }

    /// Offline: opens the replica with the key wrapped for `login` under `password`.
    async fn unlock(&self, login: &str, password: &str) -> Result<(), ShellError> {
        if self.lock().replica.is_some() {
            return Ok(());
        }
        let keys = self.read_keys()?;
        let wrapped = keys
            .logins
            .get(login)
            .ok_or_else(wrong_offline_login)?
            .clone();
        let (login, password) = (login.to_owned(), password.to_owned());
        // Argon2 is deliberately slow: off the async threads.
        let key = tokio::task::spawn_blocking(move || unwrap_key(&wrapped, &login, &password))
            .await
            .map_err(|e| ShellError::Internal(e.to_string()))??;
        self.open_replica(&key, keys.limits.unwrap_or_default())
            .await
            .map(|_| ())
    }

    async fn open_replica(
        &self,
        key: &[u8; 32],
        limits: OfflineLimits,
    ) -> Result<Replica, ShellError> {
        if let Some(r) = self.lock().replica.clone() {
            return Ok(r);
        }
        let store = Store::open_encrypted(&self.data_dir.join(REPLICA_FILE), key).await?;
        let settings = OfficeSettings {
            offline: Some(OfflineTerminal {
                terminal: self.terminal.clone(),
                limits: limits.clone(),
            }),
            ..OfficeSettings::default()
        };
        let office = Office::new(
            store.clone(),
            self.fonts.clone(),
            settings,
            &uuid::Uuid::new_v4().simple().to_string(),
        )
        .await?;
        let replica = Replica {
            store,
            local: Arc::new(CounterClient::in_process(kofu_server::counter::router(
                office,
            ))),
            limits,
        };
        let mut s = self.lock();
        Ok(s.replica.get_or_insert(replica).clone())
    }

    fn read_keys(&self) -> Result<KeysFile, ShellError> {
        let path = self.data_dir.join(KEYS_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| ShellError::Internal(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(KeysFile::default()),
            Err(e) => Err(ShellError::io(format!("reading {}", path.display()), e)),
        }
    }

    fn write_keys(&self, keys: &KeysFile) -> Result<(), ShellError> {
        let path = self.data_dir.join(KEYS_FILE);
        let text =
            serde_json::to_vec_pretty(keys).map_err(|e| ShellError::Internal(e.to_string()))?;
        write_owner_only(&path, &text)
    }

    /// After an online login: the kit, the replica opened and its key wrapped for this
    /// login, then the refresh and the upload.
    async fn after_online_login(&self, credentials: &Value) -> Result<String, ShellError> {
        let (Some(login), Some(password)) = (
            credentials["login"].as_str(),
            credentials["password"].as_str(),
        ) else {
            return Err(ShellError::BadCall(
                "a login needs login and password".into(),
            ));
        };
        let _running = self.sync_lock.lock().await;
        let open = self.lock().replica.clone();
        let left = match open {
            Some(r) => r.store.offline_numbers_left().await?,
            // Not open yet: ask for the key only, then again with the real count.
            None => i64::MAX,
        };
        let mut kit = self.fetch_kit(left).await?;
        let key = hex_key(&kit.replica_key)?;
        let replica = self.open_replica(&key, kit.limits.clone()).await?;
        if left == i64::MAX {
            let left = replica.store.offline_numbers_left().await?;
            kit = self.fetch_kit(left).await?;
        }
        let now = OffsetDateTime::now_utc();
        offline::install_kit(&replica.store, &kit, now).await?;
        let (login, password, limits) = (login.to_owned(), password.to_owned(), kit.limits.clone());
        let wrapped =
            tokio::task::spawn_blocking(move || wrap(&key, &login, &password).map(|w| (login, w)))
                .await
                .map_err(|e| ShellError::Internal(e.to_string()))??;
        let mut keys = self.read_keys()?;
        keys.limits = Some(limits);
        keys.logins.insert(wrapped.0, wrapped.1);
        self.write_keys(&keys)?;
        self.sync_with(&replica).await
    }

    async fn fetch_kit(&self, numbers_left: i64) -> Result<OfflineKit, ShellError> {
        let body = json!({"terminal": self.terminal, "numbers_left": numbers_left});
        let answer = self
            .remote_ok("POST", "/counter/v1/offline/kit", Some(body))
            .await?;
        serde_json::from_value(answer).map_err(|_| ShellError::BadAnswer { status: 200 })
    }

    /// A request of the offline routes, signed with the terminal's key.
    async fn remote_ok(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, ShellError> {
        let key = self.key()?;
        let terminal = self.terminal.clone();
        let sign = move |method: &str, path: &str, token: &str, body: &[u8]| {
            let proof = key.sign(
                &terminal,
                method,
                path,
                token,
                body,
                OffsetDateTime::now_utc(),
            );
            kofu_server::door::proof_headers(&proof).to_vec()
        };
        let answer = self
            .remote
            .call_signed(method, path, body, Some(&sign))
            .await?;
        if answer.status == 200 {
            Ok(answer.body)
        } else {
            Err(ShellError::Internal(format!(
                "{path}: {} {}",
                answer.status, answer.body["error"]["message"]
            )))
        }
    }

    /// Online: brings the replica up to the server and uploads the chain.
    pub async fn refresh_and_upload(&self) -> Result<String, ShellError> {
        let _running = self.sync_lock.lock().await;
        let replica = self.lock().replica.clone();
        match replica {
            Some(r) => self.sync_with(&r).await,
            None => Ok("no replica yet".into()),
        }
    }

    async fn sync_with(&self, replica: &Replica) -> Result<String, ShellError> {
        // Upload first: the supervisor's view should not wait on a long refresh.
        let mut uploaded = 0usize;
        for _ in 0..10_000 {
            let batch = offline::sync_batch(&replica.store, &self.terminal, UPLOAD_BATCH).await?;
            if batch.entries.is_empty() {
                break;
            }
            let body =
                serde_json::to_value(&batch).map_err(|e| ShellError::Internal(e.to_string()))?;
            let receipt = self
                .remote_ok("POST", "/counter/v1/offline/sync", Some(body))
                .await?;
            let receipt: offline::SyncReceipt = serde_json::from_value(receipt)
                .map_err(|_| ShellError::BadAnswer { status: 200 })?;
            offline::acknowledge(&replica.store, &receipt).await?;
            uploaded += receipt.new_entries;
        }
        let mut applied = 0u64;
        // The next page of a snapshot being loaded, if any.
        let mut cursor: Option<String> = None;
        for _ in 0..10_000 {
            let path = match (&cursor, replica.store.replica_loads().await?) {
                (Some(c), _) => format!("/counter/v1/offline/replica?cursor={c}"),
                (None, None) => "/counter/v1/offline/replica".to_owned(),
                (None, Some(loads)) => {
                    let seq = replica.store.feed_state().await?.map_or(0, |f| f.last_seq);
                    format!("/counter/v1/offline/replica?after={seq}&loads={loads}")
                }
            };
            let feed = self.remote_ok("GET", &path, None).await?;
            let feed: offline::ReplicaFeed =
                serde_json::from_value(feed).map_err(|_| ShellError::BadAnswer { status: 200 })?;
            let report =
                offline::apply_replica_feed(&replica.store, &feed, OffsetDateTime::now_utc())
                    .await?;
            if let Some(keep) = &feed.staff {
                // A deactivated account's wrapped key goes with its cached login.
                let mut keys = self.read_keys()?;
                let before = keys.logins.len();
                keys.logins.retain(|login, _| keep.contains(login));
                if keys.logins.len() != before {
                    self.write_keys(&keys)?;
                }
            }
            applied += report.changes;
            cursor = feed.cursor.clone();
            if !feed.more {
                break;
            }
        }
        Ok(format!(
            "uploaded {uploaded} entries, applied {applied} changes"
        ))
    }

    /// What the UI shows.
    pub async fn connectivity(&self, now: OffsetDateTime) -> Result<Connectivity, ShellError> {
        let (online, since, replica, last_sync) = {
            let s = self.lock();
            (s.online, s.since, s.replica.clone(), s.last_sync.clone())
        };
        let status = match &replica {
            Some(r) => Some(offline::offline_status(&r.store, &r.limits, now).await?),
            None => None,
        };
        Ok(Connectivity {
            online,
            since: rfc3339(since),
            replica_unlocked: replica.is_some(),
            replica: status,
            last_sync,
            registered: self.registered(),
        })
    }

    /// The replica's store, once unlocked (for tests and the status).
    pub fn replica_store(&self) -> Option<Store> {
        self.lock().replica.as_ref().map(|r| r.store.clone())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_replica_key_unwraps_only_with_the_login_and_password_it_was_wrapped_for() {
        let key = [42u8; 32];
        let w = wrap(&key, "sato", "correct horse battery").unwrap();
        assert_eq!(
            unwrap_key(&w, "sato", "correct horse battery").unwrap(),
            key
        );
        for (login, password) in [
            ("sato", "wrong password"),
            ("suzuki", "correct horse battery"),
        ] {
            assert_eq!(
                unwrap_key(&w, login, password).unwrap_err().code(),
                "offline_locked",
                "{login}"
            );
        }
    }

    #[test]
    fn two_failed_probes_turn_the_terminal_offline_and_one_success_back() {
        let remote = Arc::new(CounterClient::remote("http://127.0.0.1:9", None).unwrap());
        let fonts =
            Arc::new(kofu_render::FontBook::load(&kofu_render::SystemFonts::from_env()).unwrap());
        let now = OffsetDateTime::UNIX_EPOCH;
        let t = Terminal::new(remote, "本庁1", Path::new("/nonexistent"), fonts, now);
        assert!(t.online());
        assert!(!t.observe(false, now), "one lost probe is not an outage");
        assert!(t.online());
        assert!(t.observe(false, now));
        assert!(!t.online());
        assert!(!t.observe(false, now));
        assert!(t.observe(true, now));
        assert!(t.online());
    }
}
