//! End-to-end tests of the `kofu` binary, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a failed test

mod architecture;
mod import;
mod kiosk_layer;
mod reliability;
mod render;
mod serve;
