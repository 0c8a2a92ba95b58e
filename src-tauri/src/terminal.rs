//! Which terminal the app runs as: the answer of the `app_info` command and the
//! window title built from it.

use std::collections::HashMap;

use serde::Serialize;
use time::OffsetDateTime;

use crate::embedded::ShownDemoAccount;
use crate::error::ShellError;
use crate::settings::Settings;

/// The Japanese translations, shared with the UI (`locales/ja.json`).
const JAPANESE_MESSAGES_JSON: &str = include_str!("../../locales/ja.json");

/// How the counter terminal reaches the town's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CounterMode {
    /// The terminal keeps the data in a database embedded in the app.
    Embedded,
    /// The terminal works against the town hall's server.
    Server,
}

impl CounterMode {
    /// Every mode, for code and tests that must cover them all.
    pub const ALL: [Self; 2] = [Self::Embedded, Self::Server];

    /// The key naming this mode in `locales/*.json`.
    pub fn message_key(self) -> &'static str {
        match self {
            Self::Embedded => "app.mode.embedded",
            Self::Server => "app.mode.server",
        }
    }
}

/// The answer of the `app_info` command; the UI's `AppInfo` type mirrors it
/// (docs/counter-app-ipc.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppInfo {
    /// The town whose hall runs this counter.
    pub town: String,
    /// The counter terminal's name within the town hall (`CounterRequest.terminal`).
    pub terminal: String,
    /// The printer's ID in issue numbers (`CounterRequest.printer`).
    pub printer: String,
    /// The CUPS queue `print_document` sends to; `None` for the default destination.
    pub queue: Option<String>,
    /// How the terminal reaches the town's data.
    pub mode: CounterMode,
    /// `in-process`, or the server's base URL.
    pub server: String,
    /// The app's version (the crate's).
    pub version: String,
    /// The local (JST) business day, `YYYY-MM-DD`.
    pub today: String,
    /// The demo accounts (embedded demo mode only; else empty).
    pub demo_staff: Vec<ShownDemoAccount>,
    /// An embedded terminal without any staff: the UI asks for the first administrator.
    pub needs_first_admin: bool,
}

impl AppInfo {
    /// The terminal's information at `now`.
    pub fn new(
        settings: &Settings,
        town: &str,
        server: &str,
        demo_staff: Vec<ShownDemoAccount>,
        needs_first_admin: bool,
        now: OffsetDateTime,
    ) -> AppInfo {
        AppInfo {
            town: town.to_owned(),
            terminal: settings.terminal.clone(),
            printer: settings.printer.clone(),
            queue: settings.queue.clone(),
            mode: settings.mode(),
            server: server.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            today: kofu_domain::date::local_date_time(now).0.to_string(),
            demo_staff,
            needs_first_admin,
        }
    }
}

/// The window title, in Japanese: 「kofu 窓口 — 町 — 端末 — モード」.
pub fn window_title(town: &str, terminal: &str, mode: CounterMode) -> Result<String, ShellError> {
    let messages: HashMap<String, String> = serde_json::from_str(JAPANESE_MESSAGES_JSON)
        .map_err(|e| ShellError::Translation(format!("not a JSON object of strings: {e}")))?;
    let message = |key: &'static str| {
        messages
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| ShellError::Translation(format!("no message {key:?}")))
    };
    Ok(format!(
        "{} — {town} — {terminal} — {}",
        message("app.title")?,
        message(mode.message_key())?,
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::path::Path;

    use super::*;

    const ENGLISH_MESSAGES_JSON: &str = include_str!("../../locales/en.json");
    const TAURI_CONF_JSON: &str = include_str!("../tauri.conf.json");

    fn settings(env: &[(&str, &str)]) -> Settings {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_sources(|k| env.get(k).cloned(), None, Path::new("/data")).unwrap()
    }

    #[test]
    fn app_info_serializes_to_the_shape_the_ui_reads() {
        // 2026-05-07 23:30 UTC is already the 8th in Japan.
        let now = OffsetDateTime::from_unix_timestamp(1_778_196_600).unwrap();
        let demo = vec![ShownDemoAccount {
            login: "madoguchi".into(),
            role: "clerk".into(),
            password: "madoguchi-demo-2026".into(),
        }];
        let info = AppInfo::new(&settings(&[]), "見本市", "in-process", demo, false, now);
        assert_eq!(
            serde_json::to_value(&info).unwrap(),
            serde_json::json!({
                "town": "見本市",
                "terminal": "本庁1",
                "printer": "P001",
                "queue": null,
                "mode": "embedded",
                "server": "in-process",
                "version": env!("CARGO_PKG_VERSION"),
                "today": "2026-05-08",
                "demo_staff": [{"login": "madoguchi", "role": "clerk",
                                "password": "madoguchi-demo-2026"}],
                "needs_first_admin": false,
            })
        );
        let s = settings(&[
            ("KOFU_COUNTER_SERVER", "https://counter.kofu.example"),
            ("KOFU_COUNTER_QUEUE", "madoguchi"),
        ]);
        let info = AppInfo::new(
            &s,
            "見本市",
            "https://counter.kofu.example",
            vec![],
            true,
            now,
        );
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(json["mode"], "server");
        assert_eq!(json["queue"], "madoguchi");
        assert_eq!(json["demo_staff"], serde_json::json!([]));
        assert_eq!(json["needs_first_admin"], true);
    }

    #[test]
    fn window_title_names_town_terminal_and_mode_in_japanese() {
        for (town, terminal, mode, title) in [
            (
                "見本市",
                "本庁1",
                CounterMode::Embedded,
                "kofu 窓口 — 見本市 — 本庁1 — 組込み",
            ),
            (
                "見本市",
                "支所2",
                CounterMode::Server,
                "kofu 窓口 — 見本市 — 支所2 — サーバ接続",
            ),
        ] {
            assert_eq!(window_title(town, terminal, mode).unwrap(), title);
        }
    }

    #[test]
    fn tauri_conf_window_title_is_the_demo_terminals() {
        let conf: serde_json::Value = serde_json::from_str(TAURI_CONF_JSON).unwrap();
        let conf_title = conf["app"]["windows"][0]["title"].as_str().unwrap();
        assert_eq!(
            conf_title,
            window_title("見本市", "本庁1", CounterMode::Embedded).unwrap()
        );
        assert_eq!(
            conf["app"]["windows"][0]["label"].as_str().unwrap(),
            crate::MAIN_WINDOW_LABEL
        );
    }

    #[test]
    fn every_mode_is_translated_in_both_languages() {
        for catalogue in [JAPANESE_MESSAGES_JSON, ENGLISH_MESSAGES_JSON] {
            let messages: HashMap<String, String> = serde_json::from_str(catalogue).unwrap();
            for mode in CounterMode::ALL {
                assert!(
                    messages.contains_key(mode.message_key()),
                    "{mode:?} has no message {}",
                    mode.message_key()
                );
            }
        }
    }
}
