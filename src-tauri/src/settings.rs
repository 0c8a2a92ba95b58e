//! The terminal's settings, read once at start: environment variables first, then the
//! same keys in `counter.json` in the data directory, then the defaults
//! (docs/counter-app-ipc.md).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::ShellError;
use crate::terminal::CounterMode;

/// Base URL of the town hall's counter API; unset: embedded mode.
pub const SERVER: &str = "KOFU_COUNTER_SERVER";
/// The CA that signed the server's certificate: a PEM file's path, or the PEM itself.
pub const CA: &str = "KOFU_COUNTER_CA";
/// The terminal's name (goes into issue numbers and receipts).
pub const TERMINAL: &str = "KOFU_COUNTER_TERMINAL";
/// The printer's ID in issue numbers.
pub const PRINTER: &str = "KOFU_COUNTER_PRINTER";
/// The CUPS queue documents are printed on; unset: CUPS's default destination.
pub const QUEUE: &str = "KOFU_COUNTER_QUEUE";
/// Embedded mode's data directory (and where counter.json is read from).
pub const DATA_DIR: &str = "KOFU_COUNTER_DATA_DIR";
/// Where exported reports are saved; unset: the user's download directory.
pub const EXPORT_DIR: &str = "KOFU_COUNTER_EXPORT_DIR";
/// The `lp` command to print with (environment only; tests point it at a fake).
pub const LP: &str = "KOFU_COUNTER_LP";
/// A one-time enrolment code (`kofu terminal enroll`): a server-mode terminal without a
/// key registers one with it at start. Environment only: a secret, never in a file.
pub const ENROLMENT_CODE: &str = "KOFU_COUNTER_ENROLMENT_CODE";
/// Demo mode (`1`): an embedded terminal's empty database is seeded with the demo
/// town and one demo account per role. Without it, a first start asks for the first
/// administrator instead. `scripts/demo.sh` sets it.
pub const DEMO: &str = "KOFU_COUNTER_DEMO";

/// The settings file in the data directory.
pub const SETTINGS_FILE: &str = "counter.json";

/// The terminal name when none is set (本庁1, "main office, counter 1").
pub const DEFAULT_TERMINAL: &str = "本庁1";
/// The printer ID when none is set.
pub const DEFAULT_PRINTER: &str = "P001";
/// The print command when `KOFU_COUNTER_LP` is unset (CUPS's).
pub const DEFAULT_LP: &str = "lp";

/// The settings of this terminal, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The counter server's base URL (no trailing `/`): server mode. `None`: embedded.
    pub server: Option<String>,
    /// `KOFU_COUNTER_CA` as given (a path or PEM text).
    pub ca: Option<String>,
    /// The terminal's name.
    pub terminal: String,
    /// The printer's ID.
    pub printer: String,
    /// The CUPS queue; `None` for the default destination.
    pub queue: Option<String>,
    /// The data directory.
    pub data_dir: PathBuf,
    /// The print command.
    pub lp: PathBuf,
    /// Where exported reports are saved, if set; else see [`crate::export::directory`].
    pub export_dir: Option<PathBuf>,
    /// The enrolment code to register this terminal's key with at start, if given.
    pub enrolment_code: Option<String>,
    /// Demo mode: seed an empty embedded database with the demo town and accounts.
    pub demo: bool,
}

/// `counter.json`: the same keys as the environment (all optional; unknown keys are
/// refused so that a misspelt one is not silently ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    #[serde(rename = "KOFU_COUNTER_SERVER")]
    server: Option<String>,
    #[serde(rename = "KOFU_COUNTER_CA")]
    ca: Option<String>,
    #[serde(rename = "KOFU_COUNTER_TERMINAL")]
    terminal: Option<String>,
    #[serde(rename = "KOFU_COUNTER_PRINTER")]
    printer: Option<String>,
    #[serde(rename = "KOFU_COUNTER_QUEUE")]
    queue: Option<String>,
    #[serde(rename = "KOFU_COUNTER_EXPORT_DIR")]
    export_dir: Option<String>,
    #[serde(rename = "KOFU_COUNTER_DEMO")]
    demo: Option<String>,
}

impl Settings {
    /// Reads the settings: `env` looks a variable up (empty counts as unset),
    /// `app_data_dir` is Tauri's data directory for the app, used when
    /// `KOFU_COUNTER_DATA_DIR` is unset. A missing counter.json is no error.
    pub fn read(
        env: impl Fn(&str) -> Option<String>,
        app_data_dir: Option<PathBuf>,
    ) -> Result<Settings, ShellError> {
        let data_dir = set(env(DATA_DIR))
            .map(PathBuf::from)
            .or(app_data_dir)
            .ok_or_else(|| ShellError::Settings(format!("no data directory: set {DATA_DIR}")))?;
        let path = data_dir.join(SETTINGS_FILE);
        let file = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(ShellError::io(format!("reading {}", path.display()), e)),
        };
        Settings::from_sources(env, file.as_deref(), &data_dir)
    }

    /// The settings from the environment and the text of counter.json, if any.
    pub fn from_sources(
        env: impl Fn(&str) -> Option<String>,
        counter_json: Option<&str>,
        data_dir: &Path,
    ) -> Result<Settings, ShellError> {
        let file: FileSettings = match counter_json {
            Some(text) => serde_json::from_str(text).map_err(|e| {
                ShellError::Settings(format!("{}: {e}", data_dir.join(SETTINGS_FILE).display()))
            })?,
            None => FileSettings::default(),
        };
        let pick = |key: &str, from_file: Option<String>| set(env(key)).or(set(from_file));
        let server = pick(SERVER, file.server)
            .map(|url| server_url(&url))
            .transpose()?;
        let terminal = pick(TERMINAL, file.terminal).unwrap_or_else(|| DEFAULT_TERMINAL.into());
        let printer = pick(PRINTER, file.printer).unwrap_or_else(|| DEFAULT_PRINTER.into());
        let queue = pick(QUEUE, file.queue);
        for (key, value) in [
            (TERMINAL, Some(&terminal)),
            (PRINTER, Some(&printer)),
            (QUEUE, queue.as_ref()),
        ] {
            if let Some(v) = value
                && v.chars().any(|c| c.is_control())
            {
                return Err(ShellError::Settings(format!(
                    "{key}: control characters in {v:?}"
                )));
            }
        }
        Ok(Settings {
            server,
            ca: pick(CA, file.ca),
            terminal,
            printer,
            queue,
            data_dir: data_dir.to_owned(),
            lp: set(env(LP)).map_or_else(|| PathBuf::from(DEFAULT_LP), PathBuf::from),
            export_dir: pick(EXPORT_DIR, file.export_dir).map(PathBuf::from),
            enrolment_code: set(env(ENROLMENT_CODE)),
            demo: match pick(DEMO, file.demo).as_deref() {
                None | Some("0" | "false" | "no") => false,
                Some("1" | "true" | "yes") => true,
                Some(other) => {
                    return Err(ShellError::Settings(format!(
                        "{DEMO}: {other:?} is not 1 or 0"
                    )));
                }
            },
        })
    }

    /// Embedded or server mode.
    pub fn mode(&self) -> CounterMode {
        match self.server {
            Some(_) => CounterMode::Server,
            None => CounterMode::Embedded,
        }
    }

    /// The PEM bytes of `KOFU_COUNTER_CA`: the text itself when it is PEM, else the
    /// file it names.
    pub fn ca_pem(&self) -> Result<Option<Vec<u8>>, ShellError> {
        match &self.ca {
            None => Ok(None),
            Some(pem) if pem.trim_start().starts_with("-----BEGIN") => {
                Ok(Some(pem.as_bytes().to_vec()))
            }
            Some(path) => std::fs::read(path)
                .map(Some)
                .map_err(|e| ShellError::io(format!("{CA}: reading {path}"), e)),
        }
    }
}

/// A value that is set: present and not blank, trimmed.
fn set(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Checks a server base URL: `https://`, or `http://` to a loopback address (a
/// development server with `--insecure-loopback`); no query or fragment. Answered
/// without a trailing `/`.
fn server_url(url: &str) -> Result<String, ShellError> {
    let bad = |why: &str| ShellError::Settings(format!("{SERVER}: {url:?} {why}"));
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&format!("is not a URL: {e}")))?;
    let host = parsed.host_str().ok_or_else(|| bad("has no host"))?;
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(bad(
                "is plain HTTP to a host that is not loopback: use https",
            ));
        }
        _ => return Err(bad("is not an https:// URL")),
    }
    if parsed.query().is_some() || parsed.fragment().is_some() || !parsed.username().is_empty() {
        return Err(bad("must not carry a query, a fragment or credentials"));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::HashMap;

    use super::*;

    fn env_of<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        move |key| map.get(key).map(|v| (*v).to_owned())
    }

    struct Case {
        name: &'static str,
        env: &'static [(&'static str, &'static str)],
        file: Option<&'static str>,
        server: Option<&'static str>,
        terminal: &'static str,
        printer: &'static str,
        queue: Option<&'static str>,
        mode: CounterMode,
    }

    #[test]
    fn settings_come_from_the_environment_then_counter_json_then_defaults() {
        let cases = [
            Case {
                name: "nothing set: embedded, the sample town's first counter",
                env: &[],
                file: None,
                server: None,
                terminal: "本庁1",
                printer: "P001",
                queue: None,
                mode: CounterMode::Embedded,
            },
            Case {
                name: "environment only",
                env: &[
                    (SERVER, "https://counter.kofu.example/"),
                    (TERMINAL, "支所2"),
                    (PRINTER, "P007"),
                    (QUEUE, "madoguchi-2"),
                ],
                file: None,
                server: Some("https://counter.kofu.example"),
                terminal: "支所2",
                printer: "P007",
                queue: Some("madoguchi-2"),
                mode: CounterMode::Server,
            },
            Case {
                name: "counter.json fills what the environment leaves unset",
                env: &[(TERMINAL, "本庁3"), (PRINTER, "  ")],
                file: Some(
                    r#"{"KOFU_COUNTER_TERMINAL": "本庁9", "KOFU_COUNTER_PRINTER": "P002",
                        "KOFU_COUNTER_SERVER": "https://10.0.0.5:8444/kofu"}"#,
                ),
                server: Some("https://10.0.0.5:8444/kofu"),
                terminal: "本庁3",
                printer: "P002",
                queue: None,
                mode: CounterMode::Server,
            },
            Case {
                name: "plain HTTP to loopback (a development server)",
                env: &[(SERVER, "http://127.0.0.1:8080")],
                file: Some("{}"),
                server: Some("http://127.0.0.1:8080"),
                terminal: "本庁1",
                printer: "P001",
                queue: None,
                mode: CounterMode::Server,
            },
        ];
        for case in cases {
            let s = Settings::from_sources(env_of(case.env), case.file, Path::new("/data"))
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            assert_eq!(s.server.as_deref(), case.server, "{}", case.name);
            assert_eq!(s.terminal, case.terminal, "{}", case.name);
            assert_eq!(s.printer, case.printer, "{}", case.name);
            assert_eq!(s.queue.as_deref(), case.queue, "{}", case.name);
            assert_eq!(s.mode(), case.mode, "{}", case.name);
            assert_eq!(s.data_dir, Path::new("/data"));
            assert_eq!(s.lp, Path::new("lp"));
        }
    }

    #[test]
    fn bad_settings_are_refused_with_the_key() {
        for (env, file, mentions) in [
            (&[(SERVER, "http://counter.kofu.example")][..], None, SERVER),
            (&[(SERVER, "ftp://127.0.0.1")][..], None, SERVER),
            (&[(SERVER, "not a url")][..], None, SERVER),
            (&[(SERVER, "https://u:p@host.example")][..], None, SERVER),
            (&[(SERVER, "https://host.example/?x=1")][..], None, SERVER),
            (&[(TERMINAL, "本庁\u{7}")][..], None, TERMINAL),
            (
                &[][..],
                Some(r#"{"KOFU_COUNTER_TERMINALL": "x"}"#),
                "counter.json",
            ),
            (
                &[][..],
                Some(r#"{"KOFU_COUNTER_DATA_DIR": "/x"}"#),
                "counter.json",
            ),
            (&[][..], Some("[1, 2"), "counter.json"),
        ] {
            let e = Settings::from_sources(env_of(env), file, Path::new("/data")).unwrap_err();
            assert_eq!(e.code(), "invalid_settings", "{env:?} {file:?}");
            assert!(e.to_string().contains(mentions), "{e}");
        }
    }

    #[test]
    fn the_data_directory_and_lp_come_from_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(SETTINGS_FILE),
            r#"{"KOFU_COUNTER_QUEUE": "counter-q"}"#,
        )
        .unwrap();
        let data_dir = dir.path().to_str().unwrap();
        let env = [(DATA_DIR, data_dir), (LP, "/opt/fake-lp")];
        let s = Settings::read(env_of(&env), Some("/elsewhere".into())).unwrap();
        assert_eq!(s.data_dir, dir.path());
        assert_eq!(
            s.queue.as_deref(),
            Some("counter-q"),
            "counter.json was read"
        );
        assert_eq!(s.lp, Path::new("/opt/fake-lp"));
        // Without the variable, Tauri's app data directory (no counter.json there).
        let s = Settings::read(env_of(&[]), Some(dir.path().join("app"))).unwrap();
        assert_eq!(s.data_dir, dir.path().join("app"));
        assert_eq!(s.queue, None);
        assert_eq!(
            Settings::read(env_of(&[]), None).unwrap_err().code(),
            "invalid_settings"
        );
    }

    #[test]
    fn the_ca_is_pem_text_or_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, pem).unwrap();
        let path = path.to_str().unwrap();
        for given in [pem, path] {
            let s = Settings::from_sources(env_of(&[(CA, given)]), None, dir.path()).unwrap();
            let read = String::from_utf8(s.ca_pem().unwrap().unwrap()).unwrap();
            assert_eq!(read.trim(), pem.trim(), "{given}");
        }
        let s =
            Settings::from_sources(env_of(&[(CA, "/no/such/ca.pem")]), None, dir.path()).unwrap();
        assert_eq!(s.ca_pem().unwrap_err().code(), "io_error");
        let s = Settings::from_sources(env_of(&[]), None, dir.path()).unwrap();
        assert_eq!(s.ca_pem().unwrap(), None);
    }
}
