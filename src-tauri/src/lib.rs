//! The kofu counter desktop app: a Tauri v2 window showing the `ui/` front end,
//! which calls the commands registered here over Tauri's IPC.
//!
//! This is the placeholder app: it only tells the UI which terminal it runs on
//! ([`terminal`]); certificate issuing comes later.

pub mod terminal;

use tauri::Manager;

/// The label of the app's one window, as declared in tauri.conf.json.
pub const MAIN_WINDOW_LABEL: &str = "main";

/// Why the app could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The window title could not be built from the Japanese translations.
    #[error("cannot build the window title: {0}")]
    WindowTitle(#[from] terminal::TranslationError),
    /// Tauri failed to start or run the app.
    #[error("tauri: {0}")]
    Tauri(#[from] tauri::Error),
}

/// The Tauri command `app_info`: which town, terminal and mode this app runs as.
#[tauri::command]
fn app_info() -> terminal::AppInfo {
    terminal::current_app_info()
}

/// Starts the app and runs it until its window is closed.
pub fn run() -> Result<(), RunError> {
    let window_title = terminal::window_title(&terminal::current_app_info())?;
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![app_info])
        .setup(move |app| {
            if let Some(main_window) = app.get_webview_window(MAIN_WINDOW_LABEL) {
                main_window.set_title(&window_title)?;
            }
            Ok(())
        })
        .run(tauri::generate_context!())?;
    Ok(())
}
