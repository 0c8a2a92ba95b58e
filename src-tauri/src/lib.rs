//! The kofu counter desktop app: a Tauri v2 window showing the `ui/` front end, and
//! the commands it calls over Tauri's IPC (docs/counter-app-ipc.md): `app_info`,
//! `counter_call`, `connectivity`, `register_terminal`, `enrol_first_admin`,
//! `print_document`, `save_export` and `demo_totp`.
//!
//! The commands are thin: each waits for the [`shell::Shell`] to be ready and calls
//! one method of a module here — [`client`] (the counter API, in-process or over
//! HTTPS, holding the session token), [`print`] (CUPS), [`embedded`] (the terminal's
//! own database and demo accounts), [`offline`] (server mode's outage watch, encrypted
//! replica and upload), [`settings`], [`terminal`] (`app_info`, the window title). Every failure reaches the UI as `{code, message}` ([`error::ShellError`]).

pub mod client;
pub mod embedded;
pub mod error;
pub mod export;
pub mod offline;
pub mod print;
pub mod settings;
pub mod shell;
pub mod terminal;

use serde_json::Value;
use tauri::{AppHandle, Manager, State};
use time::OffsetDateTime;

use crate::client::CounterAnswer;
use crate::error::ShellError;
use crate::export::SavedExport;
use crate::offline::Connectivity;
use crate::print::Printed;
use crate::shell::{Shell, Starting};
use crate::terminal::AppInfo;

/// The label of the app's one window, as declared in tauri.conf.json.
pub const MAIN_WINDOW_LABEL: &str = "main";

/// `app_info`: which town, terminal, printer and mode this app runs as, and today.
#[tauri::command]
async fn app_info(starting: State<'_, Starting>) -> Result<AppInfo, ShellError> {
    starting
        .ready()
        .await?
        .app_info(OffsetDateTime::now_utc())
        .await
}

/// `counter_call`: one request of the counter API; the session token stays here.
#[tauri::command]
async fn counter_call(
    starting: State<'_, Starting>,
    method: String,
    path: String,
    body: Option<Value>,
) -> Result<CounterAnswer, ShellError> {
    starting.ready().await?.call(&method, &path, body).await
}

/// `connectivity`: whether the server answers, and the offline replica's state
/// (`null` in embedded mode).
#[tauri::command]
async fn connectivity(starting: State<'_, Starting>) -> Result<Option<Connectivity>, ShellError> {
    starting
        .ready()
        .await?
        .connectivity(OffsetDateTime::now_utc())
        .await
}

/// `register_terminal`: registers this terminal's own key with the one-time code an
/// administrator enrolled it with; answers the server's `{status, body}`.
#[tauri::command]
async fn register_terminal(
    starting: State<'_, Starting>,
    code: String,
) -> Result<Value, ShellError> {
    starting.ready().await?.register_terminal(&code).await
}

/// `print_document`: prints an issued PDF if its SHA-256 is the one given.
#[tauri::command]
async fn print_document(
    starting: State<'_, Starting>,
    pdf_base64: String,
    sha256: String,
    title: String,
) -> Result<Printed, ShellError> {
    let shell = starting.ready().await?;
    shell.printer.print(&pdf_base64, &sha256, &title).await
}

/// `save_export`: saves an exported report (PDF, CSV) in the export directory.
#[tauri::command]
async fn save_export(
    app: AppHandle,
    starting: State<'_, Starting>,
    filename: String,
    content_base64: String,
) -> Result<SavedExport, ShellError> {
    let settings = &starting.ready().await?.settings;
    let dir = export::directory(
        settings.export_dir.as_deref(),
        app.path().download_dir().ok(),
        &settings.data_dir,
    );
    export::save(&dir, &filename, &content_base64)
}

/// `enrol_first_admin`: the first administrator of an embedded terminal without staff
/// sets their own password; answers `{login, totp_secret, otpauth_uri}` once.
#[tauri::command]
async fn enrol_first_admin(
    starting: State<'_, Starting>,
    login: String,
    password: String,
) -> Result<Value, ShellError> {
    starting
        .ready()
        .await?
        .enrol_first_admin(&login, &password, OffsetDateTime::now_utc())
        .await
}

/// `demo_totp`: the current TOTP code of a demo account (embedded demo mode only).
#[tauri::command]
async fn demo_totp(starting: State<'_, Starting>, login: String) -> Result<String, ShellError> {
    let shell = starting.ready().await?;
    shell.demo_totp(&login, OffsetDateTime::now_utc()).await
}

/// Starts the app and runs it until its window is closed.
pub fn run() -> Result<(), ShellError> {
    tauri::Builder::default()
        .manage(Starting::default())
        .invoke_handler(tauri::generate_handler![
            app_info,
            counter_call,
            connectivity,
            register_terminal,
            enrol_first_admin,
            print_document,
            save_export,
            demo_totp
        ])
        .setup(|app| {
            let settings = settings::Settings::read(
                |key| std::env::var(key).ok(),
                app.path().app_data_dir().ok(),
            );
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                // Bad settings too are answered to the UI, which shows them.
                let started = match settings {
                    Ok(settings) => Shell::start(settings, OffsetDateTime::now_utc()).await,
                    Err(e) => Err(e),
                };
                match &started {
                    Ok(shell) => {
                        let title = terminal::window_title(
                            &shell.town,
                            &shell.settings.terminal,
                            shell.settings.mode(),
                        );
                        match (title, handle.get_webview_window(MAIN_WINDOW_LABEL)) {
                            (Ok(title), Some(window)) => {
                                if let Err(e) = window.set_title(&title) {
                                    eprintln!("kofu-counter: cannot set the window title: {e}");
                                }
                            }
                            (Err(e), _) => eprintln!("kofu-counter: {e}"),
                            (Ok(_), None) => {}
                        }
                    }
                    Err(e) => eprintln!("kofu-counter: {e}"),
                }
                handle.state::<Starting>().finish(started);
            });
            Ok(())
        })
        .run(tauri::generate_context!())?;
    Ok(())
}
