//! `kofu serve`: opens the store and the fonts, builds the office and serves the
//! LGWAN endpoints (and, with `--counter-listen`, the counter API) until interrupted.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use kofu_server::serve::{Listener, Security, TlsFiles, mtls_config, tls_config};

use crate::database;

/// Flags of `kofu serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Database URL (`sqlite:PATH` or `postgres://…`); see `kofu import`.
    #[arg(long)]
    database: Option<String>,
    /// Address of the LGWAN listener (the relay center's side).
    #[arg(long, default_value = "127.0.0.1:8443")]
    lgwan_listen: SocketAddr,
    /// Address of the counter API listener (TLS with --tls-cert/--tls-key, or plain
    /// HTTP on loopback with --insecure-loopback).
    #[arg(long)]
    counter_listen: Option<SocketAddr>,
    /// Seconds a counter session may stay unused before it expires.
    #[arg(long, default_value_t = 900)]
    session_idle_secs: u64,
    /// Seconds after its login a counter session ends however busy (default 10 h).
    #[arg(long, default_value_t = 36_000)]
    session_max_secs: u64,
    /// Seconds an account waits after its second failed login in a row before the
    /// next attempt, doubling with each further failure until the lockout (0: none).
    #[arg(long, default_value_t = 5)]
    login_backoff_secs: u64,
    /// Look-ups by one member of staff in a day past which the report flags them.
    #[arg(long, default_value_t = 100)]
    lookup_alert: u32,
    /// Serials reserved for a counter terminal's offline issuances at a time.
    #[arg(long, default_value_t = 500)]
    offline_range_size: u32,
    /// Offline, a terminal refuses to issue once its registry replica is older than
    /// this (seconds since the server last confirmed it current).
    #[arg(long, default_value_t = 8 * 3600)]
    offline_max_age_secs: u64,
    /// Offline, a terminal refuses to issue once this many issuances are unsynced.
    #[arg(long, default_value_t = 500)]
    offline_max_unsynced: u32,
    /// Terminals' replicas carry residents' 個人番号, so that a 住民票 with 個人番号 can
    /// be issued offline (off by default: a lost terminal then leaks none).
    #[arg(long)]
    offline_my_number: bool,
    /// Development only: plain HTTP, allowed on a loopback address only.
    #[arg(long)]
    insecure_loopback: bool,
    /// The server's certificate chain (PEM).
    #[arg(long, requires_all = ["tls_key", "relay_ca"])]
    tls_cert: Option<PathBuf>,
    /// The server's private key (PEM).
    #[arg(long, requires_all = ["tls_cert", "relay_ca"])]
    tls_key: Option<PathBuf>,
    /// The relay-center CA: only clients with a certificate it issued are accepted.
    #[arg(long, requires_all = ["tls_cert", "tls_key"])]
    relay_ca: Option<PathBuf>,
    /// Time limit of a kiosk issuance, in milliseconds; past it nothing is issued.
    #[arg(long, default_value_t = 3000)]
    issue_time_limit_ms: u64,
    /// How long a kiosk issuance waits for its outcome notice before review flags it.
    #[arg(long, default_value_t = 600)]
    outcome_window_secs: u64,
    /// How far, in seconds, a kiosk request's `requested_at` may be from this
    /// server's clock before it is refused with `clock_skew`; `0` turns the check off
    /// (for tests and demos that replay fixed instants).
    #[arg(long, default_value_t = 300)]
    max_clock_skew_secs: u64,
    /// Fault injection for tests: every render waits this long first.
    #[arg(long, hide = true)]
    fault_render_stall_ms: Option<u64>,
}

/// Runs the server until Ctrl-C or SIGTERM.
pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let security = match (
        &args.tls_cert,
        &args.tls_key,
        &args.relay_ca,
        args.insecure_loopback,
    ) {
        (Some(cert), Some(key), Some(ca), false) => {
            Security::Mtls(Arc::new(mtls_config(&TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
                relay_ca: ca.clone(),
            })?))
        }
        (None, None, None, true) => Security::InsecureLoopback,
        (_, _, _, true) => anyhow::bail!("--insecure-loopback and TLS files exclude each other"),
        _ => return Err(kofu_server::serve::ServeError::NoTls.into()),
    };
    let counter_security = match &security {
        Security::InsecureLoopback => Security::InsecureLoopback,
        _ => match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Security::Tls(Arc::new(tls_config(cert, key)?)),
            _ => return Err(kofu_server::serve::ServeError::NoTls.into()),
        },
    };
    let listener = Listener::bind(args.lgwan_listen, security)?;
    let counter = match args.counter_listen {
        Some(addr) => Some(Listener::bind(addr, counter_security)?),
        None => None,
    };
    let store = database::open(args.database).await?;
    let fonts = kofu_render::FontBook::load(&kofu_render::SystemFonts::from_env()).context(
        "cannot load the certificate fonts (Debian: fonts-ipaexfont, fonts-ipamj-mincho)",
    )?;
    let settings = kofu_app::OfficeSettings {
        issue_time_limit: Duration::from_millis(args.issue_time_limit_ms),
        outcome_window: Duration::from_secs(args.outcome_window_secs),
        render_stall: args.fault_render_stall_ms.map(Duration::from_millis),
        max_clock_skew: (args.max_clock_skew_secs > 0)
            .then(|| Duration::from_secs(args.max_clock_skew_secs)),
        session_idle: Duration::from_secs(args.session_idle_secs),
        session_max: Duration::from_secs(args.session_max_secs),
        login_backoff: Duration::from_secs(args.login_backoff_secs),
        lookup_alert: args.lookup_alert,
        offline_range_size: args.offline_range_size,
        offline_limits: kofu_app::offline::OfflineLimits {
            max_replica_age_secs: args.offline_max_age_secs,
            max_unsynced: args.offline_max_unsynced,
        },
        offline: None,
        offline_my_number: args.offline_my_number,
    };
    let office = kofu_app::Office::new(
        store,
        Arc::new(fonts),
        settings,
        &uuid::Uuid::new_v4().simple().to_string(),
    )
    .await?;
    let addr = listener.local_addr()?;
    let mut ready = serde_json::json!({"lgwan": addr.to_string()});
    if let Some(c) = &counter {
        ready["counter"] = c.local_addr()?.to_string().into();
    }
    // One line on stdout, for scripts and tests that bind port 0.
    println!("{ready}");
    tracing::info!(%addr, "LGWAN listener ready");
    // Kiosk issuances whose outcome never came are flagged for review, never closed.
    let sweeper = office.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            match sweeper
                .flag_missing_outcomes(time::OffsetDateTime::now_utc())
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::warn!(flagged = n, "kiosk issuances without an outcome notice"),
                Err(e) => tracing::error!(error = %e, "cannot flag missing kiosk outcomes"),
            }
        }
    });
    // One signal stops both listeners.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let lgwan = listener.serve(
        kofu_server::lgwan::router(office.clone()),
        until_stopped(stopped.clone()),
    );
    match counter {
        Some(c) => {
            let counter = c.serve(kofu_server::counter::router(office), until_stopped(stopped));
            tokio::try_join!(lgwan, counter)?;
        }
        None => lgwan.await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
