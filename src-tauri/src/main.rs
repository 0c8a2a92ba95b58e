//! Entry point of the kofu counter desktop app; everything lives in the library.

// Release builds on Windows get no console window next to the app's.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

fn main() -> ExitCode {
    match kofu_counter::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kofu-counter: {error}");
            ExitCode::FAILURE
        }
    }
}
