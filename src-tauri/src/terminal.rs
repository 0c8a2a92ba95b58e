//! Which terminal the app runs as: the answer of the `app_info` command and
//! the window title built from it.
//!
//! The placeholder app always runs as the sample town's first counter in
//! embedded mode; reading this from the terminal's settings comes later.

use std::collections::HashMap;

use serde::Serialize;

/// The town the placeholder app runs for (見本市, "sample city").
pub const PLACEHOLDER_TOWN: &str = "見本市";

/// The counter terminal the placeholder app runs as (本庁1, "main office, counter 1").
pub const PLACEHOLDER_TERMINAL: &str = "本庁1";

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

/// The answer of the `app_info` command; the UI's `AppInfo` type mirrors it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppInfo {
    /// The town whose hall runs this counter.
    pub town: String,
    /// The counter terminal's name within the town hall.
    pub terminal: String,
    /// How the terminal reaches the town's data.
    pub mode: CounterMode,
    /// The app's version (the crate's).
    pub version: String,
}

/// The terminal this app runs as, and the app's version.
pub fn current_app_info() -> AppInfo {
    AppInfo {
        town: PLACEHOLDER_TOWN.to_owned(),
        terminal: PLACEHOLDER_TERMINAL.to_owned(),
        mode: CounterMode::Embedded,
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

/// Why a message could not be taken from `locales/ja.json`.
#[derive(Debug, thiserror::Error)]
pub enum TranslationError {
    /// The file is not a JSON object whose values are strings.
    #[error("locales/ja.json is not a JSON object of strings: {0}")]
    Malformed(#[from] serde_json::Error),
    /// The file has no message under this key.
    #[error("locales/ja.json has no message {0:?}")]
    MissingKey(&'static str),
}

/// The window title, in Japanese: 「kofu 窓口 — 町 — 端末 — モード」.
pub fn window_title(info: &AppInfo) -> Result<String, TranslationError> {
    let messages: HashMap<String, String> = serde_json::from_str(JAPANESE_MESSAGES_JSON)?;
    let message = |key: &'static str| {
        messages
            .get(key)
            .map(String::as_str)
            .ok_or(TranslationError::MissingKey(key))
    };
    Ok(format!(
        "{} — {} — {} — {}",
        message("app.title")?,
        info.town,
        info.terminal,
        message(info.mode.message_key())?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENGLISH_MESSAGES_JSON: &str = include_str!("../../locales/en.json");
    const TAURI_CONF_JSON: &str = include_str!("../tauri.conf.json");

    #[test]
    fn current_app_info_is_the_sample_towns_first_counter_in_embedded_mode() {
        let info = current_app_info();
        assert_eq!(info.town, "見本市");
        assert_eq!(info.terminal, "本庁1");
        assert_eq!(info.mode, CounterMode::Embedded);
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn app_info_serializes_to_the_shape_the_ui_reads() {
        let json = serde_json::to_value(current_app_info()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "town": "見本市",
                "terminal": "本庁1",
                "mode": "embedded",
                "version": env!("CARGO_PKG_VERSION"),
            })
        );
        assert_eq!(
            serde_json::to_value(CounterMode::Server).unwrap(),
            serde_json::json!("server")
        );
    }

    #[test]
    fn window_title_names_town_terminal_and_mode_in_japanese() {
        let mut info = current_app_info();
        assert_eq!(
            window_title(&info).unwrap(),
            "kofu 窓口 — 見本市 — 本庁1 — 組込み"
        );
        info.mode = CounterMode::Server;
        assert_eq!(
            window_title(&info).unwrap(),
            "kofu 窓口 — 見本市 — 本庁1 — サーバ接続"
        );
    }

    #[test]
    fn tauri_conf_window_title_matches_the_title_set_at_start() {
        let conf: serde_json::Value = serde_json::from_str(TAURI_CONF_JSON).unwrap();
        let conf_title = conf["app"]["windows"][0]["title"].as_str().unwrap();
        assert_eq!(conf_title, window_title(&current_app_info()).unwrap());
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
