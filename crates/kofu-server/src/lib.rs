//! kofu-server: the town's issuance server — the LGWAN endpoints the relay center
//! calls, the counter API the counter app calls, and how they are served (mutual TLS, or plain HTTP on loopback in
//! development). The `kofu` binary's command line lives beside it in `main.rs`.

pub mod admin;
pub mod api;
pub mod counter;
pub mod door;
pub mod lgwan;
pub mod offline;
pub mod serve;
pub mod terminal;
