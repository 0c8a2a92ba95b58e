//! The running shell behind the commands: the settings, the counter API client, the
//! printer and (embedded demo mode) the demo accounts; and [`Starting`], which the
//! commands wait on while the embedded database opens (and, on first run, is seeded).

use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::watch;

use crate::client::{CounterAnswer, CounterClient};
use crate::embedded::{self, DemoStaff};
use crate::error::ShellError;
use crate::offline::{Connectivity, Terminal};
use crate::print::Printer;
use crate::settings::Settings;
use crate::terminal::AppInfo;

/// What the commands work with once the app has started.
#[derive(Debug)]
pub struct Shell {
    /// The settings read at start.
    pub settings: Settings,
    /// The counter API, in-process or remote.
    pub client: Arc<CounterClient>,
    /// Server mode: the offline side (watching, replica, upload).
    pub terminal: Option<Arc<Terminal>>,
    /// Server mode: the task watching the server; aborted with the shell.
    watcher: Option<tokio::task::JoinHandle<()>>,
    /// Where documents are printed.
    pub printer: Printer,
    /// The town's name.
    pub town: String,
    /// The demo accounts (embedded demo mode only).
    pub demo: Option<DemoStaff>,
    /// The embedded store (embedded mode only), for the demo accounts' TOTP state.
    store: Option<kofu_store::Store>,
}

impl Shell {
    /// Starts the shell: in server mode a client of the server; in embedded mode the
    /// terminal's database (seeded on first run) behind the in-process counter router.
    pub async fn start(settings: Settings, now: OffsetDateTime) -> Result<Shell, ShellError> {
        let printer = Printer {
            command: settings.lp.clone(),
            queue: settings.queue.clone(),
        };
        let (client, town, demo, store) = match &settings.server {
            Some(base) => {
                let client = Arc::new(CounterClient::remote(base, settings.ca_pem()?.as_deref())?);
                // The counter API does not name the town before a login: the server's
                // host stands for it.
                let town = reqwest::Url::parse(base)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_default();
                (client, town, None, None)
            }
            None => {
                let fonts = tokio::task::spawn_blocking(|| {
                    kofu_render::FontBook::load(&kofu_render::SystemFonts::from_env())
                })
                .await
                .map_err(|e| ShellError::Internal(e.to_string()))??;
                let e =
                    embedded::open(&settings.data_dir, Arc::new(fonts), settings.demo, now).await?;
                let store = e.office.store.clone();
                let client = Arc::new(CounterClient::in_process(kofu_server::counter::router(
                    e.office,
                )));
                (client, e.town, e.demo, Some(store))
            }
        };
        let (terminal, watcher) = if settings.server.is_some() {
            // The replica renders certificates offline with the same fonts.
            let fonts = tokio::task::spawn_blocking(|| {
                kofu_render::FontBook::load(&kofu_render::SystemFonts::from_env())
            })
            .await
            .map_err(|e| ShellError::Internal(e.to_string()))??;
            std::fs::create_dir_all(&settings.data_dir).map_err(|e| {
                ShellError::io(format!("creating {}", settings.data_dir.display()), e)
            })?;
            let terminal = Arc::new(Terminal::new(
                client.clone(),
                &settings.terminal,
                &settings.data_dir,
                Arc::new(fonts),
                now,
            ));
            if let Some(code) = settings.enrolment_code.clone()
                && !terminal.registered()
            {
                // In the background: the server may not answer yet; the clerk can
                // still enter the code in the app.
                let t = terminal.clone();
                tokio::spawn(async move {
                    match t.register(&code).await {
                        Ok(answer) if answer["status"] == 200 => {}
                        Ok(answer) => eprintln!(
                            "kofu-counter: the server refused the enrolment code: {}",
                            answer["body"]["error"]["message"]
                        ),
                        Err(e) => eprintln!("kofu-counter: registering the terminal's key: {e}"),
                    }
                });
            }
            let watcher = tokio::spawn(terminal.clone().watch());
            (Some(terminal), Some(watcher))
        } else {
            (None, None)
        };
        Ok(Shell {
            settings,
            client,
            terminal,
            watcher,
            printer,
            town,
            demo,
            store,
        })
    }

    /// One counter API request: server mode goes through the offline side (the
    /// server, or the replica when it cannot be reached); embedded mode in-process.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<CounterAnswer, ShellError> {
        match &self.terminal {
            Some(t) => t.call(method, path, body).await,
            None => self.client.call(method, path, body).await,
        }
    }

    /// Registers this terminal's key with an enrolment code (server mode only).
    pub async fn register_terminal(&self, code: &str) -> Result<serde_json::Value, ShellError> {
        match &self.terminal {
            Some(t) => t.register(code).await,
            None => Err(ShellError::BadCall(
                "an embedded terminal has no server to register with".into(),
            )),
        }
    }

    /// The connection and replica state (server mode; embedded mode is always online).
    pub async fn connectivity(
        &self,
        now: OffsetDateTime,
    ) -> Result<Option<Connectivity>, ShellError> {
        match &self.terminal {
            Some(t) => t.connectivity(now).await.map(Some),
            None => Ok(None),
        }
    }

    /// The answer of `app_info` at `now`.
    pub async fn app_info(&self, now: OffsetDateTime) -> Result<AppInfo, ShellError> {
        let needs_first_admin = match &self.store {
            Some(store) => store.staff_list().await?.is_empty(),
            None => false,
        };
        Ok(AppInfo::new(
            &self.settings,
            &self.town,
            self.client.server(),
            self.demo.as_ref().map(DemoStaff::shown).unwrap_or_default(),
            needs_first_admin,
            now,
        ))
    }

    /// Enrols the first administrator of an embedded terminal without staff (see
    /// [`embedded::enrol_first_admin`]).
    pub async fn enrol_first_admin(
        &self,
        login: &str,
        password: &str,
        now: OffsetDateTime,
    ) -> Result<serde_json::Value, ShellError> {
        let Some(store) = &self.store else {
            return Err(ShellError::NotFirst);
        };
        let e = embedded::enrol_first_admin(store, login, password, now).await?;
        Ok(
            serde_json::json!({"login": login, "totp_secret": e.totp_secret,
                              "otpauth_uri": e.otpauth_uri}),
        )
    }

    /// The current TOTP code of a demo account (the next step's if the current one
    /// was used already: see [`DemoStaff::totp`]).
    pub async fn demo_totp(&self, login: &str, now: OffsetDateTime) -> Result<String, ShellError> {
        let (Some(demo), Some(store)) = (&self.demo, &self.store) else {
            return Err(ShellError::NotDemo(login.to_owned()));
        };
        let last_used = store.staff(login).await?.map(|row| row.last_totp_step);
        demo.totp(login, now, last_used)
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        if let Some(w) = &self.watcher {
            w.abort();
        }
    }
}

/// The outcome of starting, once known: the shell, or why it failed.
type Outcome = Option<Result<Arc<Shell>, String>>;

/// The shell while it starts: commands wait here until it is ready (or failed).
#[derive(Debug)]
pub struct Starting {
    sender: watch::Sender<Outcome>,
}

impl Default for Starting {
    fn default() -> Self {
        Starting {
            sender: watch::Sender::new(None),
        }
    }
}

impl Starting {
    /// Records how starting ended; commands waiting go on.
    pub fn finish(&self, outcome: Result<Shell, ShellError>) {
        self.sender
            .send_replace(Some(outcome.map(Arc::new).map_err(|e| e.to_string())));
    }

    /// The shell, once started; a failed start is answered to every command.
    pub async fn ready(&self) -> Result<Arc<Shell>, ShellError> {
        let mut receiver = self.sender.subscribe();
        let outcome = receiver
            .wait_for(Option::is_some)
            .await
            .map_err(|_| ShellError::Startup("the app is stopping".into()))?;
        match &*outcome {
            Some(Ok(shell)) => Ok(Arc::clone(shell)),
            Some(Err(why)) => Err(ShellError::Startup(why.clone())),
            None => Err(ShellError::Startup("not started".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::HashMap;

    use serde_json::{Value, json};

    use super::*;
    use crate::terminal::CounterMode;

    fn embedded_settings(dir: &std::path::Path) -> Settings {
        let env: HashMap<&str, &str> = HashMap::from([("KOFU_COUNTER_DEMO", "1")]);
        Settings::from_sources(|k| env.get(k).map(|v| (*v).to_owned()), None, dir).unwrap()
    }

    fn request(resident_id: &str) -> Value {
        json!({"request_id": uuid::Uuid::new_v4().to_string(),
               "applicant": {"type": "person"}, "identity": {"photo": ["運転免許証"]},
               "certificate": "juminhyo", "subject": {"resident_id": resident_id},
               "copies": 1, "terminal": "本庁1", "printer": "P001", "payment": "cash"})
    }

    /// Calls the API and checks that the session token never reaches the answer.
    async fn call(shell: &Shell, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let answer = shell.client.call(method, path, body).await.unwrap();
        if let Some(token) = shell.client.token_for_tests() {
            assert!(
                !answer.body.to_string().contains(&token),
                "{method} {path}: the token is in the body"
            );
        }
        (answer.status, answer.body)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn embedded_demo_terminal_logs_in_searches_previews_and_issues() {
        let dir = tempfile::tempdir().unwrap();
        let now = OffsetDateTime::now_utc();
        let shell = Shell::start(embedded_settings(dir.path()), now)
            .await
            .unwrap();

        // Seeded: the database, the demo town and one account per role.
        assert!(dir.path().join(embedded::DATABASE_FILE).exists());
        let demo_file = dir.path().join(embedded::DEMO_STAFF_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&demo_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
        let info = serde_json::to_value(shell.app_info(now).await.unwrap()).unwrap();
        assert_eq!(info["town"], "見本市");
        assert_eq!(info["mode"], "embedded");
        assert_eq!(info["server"], "in-process");
        let shown: Vec<(&str, &str)> = info["demo_staff"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["login"].as_str().unwrap(), a["role"].as_str().unwrap()))
            .collect();
        assert_eq!(
            shown,
            [
                ("madoguchi", "clerk"),
                ("kakaricho", "supervisor"),
                ("shien", "support_officer"),
                ("kanri", "admin")
            ]
        );
        assert!(!info.to_string().contains("totp"), "no secret in app_info");
        assert_eq!(shell.settings.mode(), CounterMode::Embedded);

        // Not logged in yet; a path outside the counter API is refused here.
        assert_eq!(
            call(&shell, "GET", "/counter/v1/session", None).await.0,
            401
        );
        let e = shell
            .client
            .call("GET", "/lgwan/v1/health", None)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "forbidden_path");

        // Login with the demo clerk and a computed code: the token stays in the shell.
        let demo = shell.demo.as_ref().unwrap();
        let clerk = &demo.accounts[0];
        let code = shell
            .demo_totp("madoguchi", OffsetDateTime::now_utc())
            .await
            .unwrap();
        let (status, body) = call(
            &shell,
            "POST",
            "/counter/v1/login",
            Some(json!({"login": clerk.login, "password": clerk.password, "totp": code})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["staff"],
            json!({"login": "madoguchi", "role": "clerk"})
        );
        assert!(body.get("token").is_none(), "{body}");
        assert!(shell.client.logged_in());
        assert_eq!(shell.client.token_for_tests().unwrap().len(), 64);

        // Search (by address: every demo resident lives in 見本市), preview, issue.
        let (status, found) = call(
            &shell,
            "GET",
            "/counter/v1/residents?address=%E8%A6%8B%E6%9C%AC%E5%B8%82",
            None,
        )
        .await;
        assert_eq!(status, 200, "{found}");
        let residents = found["residents"].as_array().unwrap();
        assert_eq!(residents.len(), 50, "the search limit");
        let plain = residents
            .iter()
            .find(|r| r["flags"].as_object().unwrap().values().all(|f| f == false))
            .unwrap();
        let id = plain["resident_id"].as_str().unwrap();
        let (status, preview) =
            call(&shell, "POST", "/counter/v1/previews", Some(request(id))).await;
        assert_eq!(status, 200, "{preview}");
        assert_eq!(preview["documents"][0]["issue_number"], "");
        let (status, issued) =
            call(&shell, "POST", "/counter/v1/issuances", Some(request(id))).await;
        assert_eq!(status, 200, "{issued}");
        assert_eq!(issued["fee_yen"], 300);
        let number = issued["documents"][0]["issue_number"].as_str().unwrap();
        assert!(number.contains("見本市 本庁1 P001"), "{number}");

        // A clerk may not verify the audit chain; logout forgets the token.
        assert_eq!(call(&shell, "GET", "/counter/v1/audit", None).await.0, 403);
        assert_eq!(
            call(&shell, "POST", "/counter/v1/logout", None).await.0,
            204
        );
        assert!(!shell.client.logged_in());
        assert_eq!(
            call(&shell, "GET", "/counter/v1/session", None).await.0,
            401
        );
        // Logging in again at once: demo_totp gives a code not used yet.
        let code = shell
            .demo_totp("madoguchi", OffsetDateTime::now_utc())
            .await
            .unwrap();
        let again = json!({"login": clerk.login, "password": clerk.password, "totp": code});
        let (status, body) = call(&shell, "POST", "/counter/v1/login", Some(again)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            call(&shell, "POST", "/counter/v1/logout", None).await.0,
            204
        );

        // A restart seeds nothing again: same accounts, same secrets, no new staff.
        let again = embedded::open(
            dir.path(),
            Arc::new(kofu_render::FontBook::load(&kofu_render::SystemFonts::from_env()).unwrap()),
            true,
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
        assert_eq!(again.demo.as_ref(), Some(demo));
        let adds = again
            .office
            .store
            .audit_rows()
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.action == "staff.add")
            .count();
        assert_eq!(adds, 4);

        // A 401 forgets the token: the administrator (on the restarted office)
        // closes the supervisor's account while the supervisor is logged in.
        let boss = &demo.accounts[1];
        let code = shell
            .demo_totp("kakaricho", OffsetDateTime::now_utc())
            .await
            .unwrap();
        let (status, body) = call(
            &shell,
            "POST",
            "/counter/v1/login",
            Some(json!({"login": boss.login, "password": boss.password, "totp": code})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, verdict) = call(&shell, "GET", "/counter/v1/audit", None).await;
        assert_eq!(status, 200, "{verdict}");
        assert_eq!(verdict["problems"], json!([]));
        let admin_client = CounterClient::in_process(kofu_server::counter::router(again.office));
        let admin = &demo.accounts[3];
        let code = demo.totp("kanri", OffsetDateTime::now_utc(), None).unwrap();
        let login = json!({"login": admin.login, "password": admin.password, "totp": code});
        let answer = admin_client
            .call("POST", "/counter/v1/login", Some(login))
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
        let answer = admin_client
            .call(
                "POST",
                "/counter/v1/staff/kakaricho/deactivate",
                Some(json!({"reason": "test"})),
            )
            .await
            .unwrap();
        assert_eq!(answer.status, 204, "{}", answer.body);
        assert!(shell.client.logged_in());
        let (status, body) = call(&shell, "GET", "/counter/v1/session", None).await;
        assert_eq!(status, 401, "{body}");
        assert!(!shell.client.logged_in());
    }

    #[tokio::test]
    async fn commands_wait_for_the_start_and_a_failed_start_is_answered() {
        let starting = Starting::default();
        let waiting = starting.ready();
        starting.finish(Err(ShellError::Settings("KOFU_COUNTER_SERVER: bad".into())));
        let e = waiting.await.unwrap_err();
        assert_eq!(e.code(), "startup_failed");
        assert!(e.to_string().contains("KOFU_COUNTER_SERVER"), "{e}");
    }

    /// Outside demo mode an empty embedded terminal seeds nothing: no demo town, no
    /// demo account; it asks for the first administrator, who sets their own password
    /// and gets their own TOTP secret, once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_first_start_outside_demo_mode_enrols_the_first_administrator() {
        let dir = tempfile::tempdir().unwrap();
        let env: HashMap<&str, &str> = HashMap::new();
        let settings =
            Settings::from_sources(|k| env.get(k).map(|v| (*v).to_owned()), None, dir.path())
                .unwrap();
        assert!(!settings.demo);
        let now = OffsetDateTime::now_utc();
        let shell = Shell::start(settings, now).await.unwrap();
        let info = shell.app_info(now).await.unwrap();
        assert!(
            info.needs_first_admin && info.demo_staff.is_empty(),
            "{info:?}"
        );
        assert!(!dir.path().join(embedded::DEMO_STAFF_FILE).exists());
        let store = shell.store.clone().unwrap();
        assert!(
            store.municipality().await.unwrap().is_none(),
            "no demo town"
        );
        let e = shell
            .enrol_first_admin("kanri", "short", now)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "weak_password");
        let answer = shell
            .enrol_first_admin("kanri", "a first administrator's own password", now)
            .await
            .unwrap();
        assert!(
            answer["otpauth_uri"]
                .as_str()
                .unwrap()
                .starts_with("otpauth://totp/kofu:kanri?")
        );
        assert_eq!(store.staff("kanri").await.unwrap().unwrap().role, "admin");
        assert!(!shell.app_info(now).await.unwrap().needs_first_admin);
        let e = shell
            .enrol_first_admin("other", "another administrator password", now)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "not_first", "only the first");
        // The administrator logs in with what only they know.
        let secret =
            kofu_app::staff::base32_decode(answer["totp_secret"].as_str().unwrap()).unwrap();
        let step = kofu_app::staff::totp_step(now);
        let code = kofu_app::staff::hotp(&secret, u64::try_from(step).unwrap(), 6).unwrap();
        let login = json!({"login": "kanri", "password": "a first administrator's own password",
                           "totp": format!("{code:06}")});
        let (status, body) = call(&shell, "POST", "/counter/v1/login", Some(login)).await;
        assert_eq!(status, 200, "{body}");
    }

    #[tokio::test]
    async fn server_mode_has_no_demo_accounts() {
        let dir = tempfile::tempdir().unwrap();
        let env = HashMap::from([("KOFU_COUNTER_SERVER", "https://counter.kofu.example")]);
        let settings =
            Settings::from_sources(|k| env.get(k).map(|v| (*v).to_owned()), None, dir.path())
                .unwrap();
        let shell = Shell::start(settings, OffsetDateTime::now_utc())
            .await
            .unwrap();
        let info = shell.app_info(OffsetDateTime::now_utc()).await.unwrap();
        assert!(!info.needs_first_admin);
        assert_eq!(info.mode, CounterMode::Server);
        assert_eq!(info.server, "https://counter.kofu.example");
        assert_eq!(info.town, "counter.kofu.example");
        assert!(info.demo_staff.is_empty());
        let e = shell
            .demo_totp("madoguchi", OffsetDateTime::now_utc())
            .await
            .unwrap_err();
        assert_eq!(e.code(), "not_demo");
        assert!(!dir.path().join(embedded::DATABASE_FILE).exists());
    }
}
