//! `kofu bench sync`: a terminal's offline work uploaded to the server. A demo town is
//! imported into a fresh SQLite database and each `--database` given (empty); a
//! terminal replica is loaded from it, issues `--issuances` 住民票 offline through the
//! counter use case, and its chain (audit entries, issuances, copies, fees) is
//! uploaded in batches as `kofu-counter` does. Prints one JSON line per database.

use std::io::BufReader;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use kofu_app::counter::{CounterRequest, IdentityCheck, Payment};
use kofu_app::offline::{self, OfflineLimits, OfflineTerminal};
use kofu_app::staff::Credentials;
use kofu_app::{Office, OfficeSettings, SubjectRef};
use kofu_domain::{Applicant, CertificateKind, CertificateOptions};
use time::OffsetDateTime;

const TERMINAL: &str = "本庁1";

/// Runs the benchmark.
pub async fn run(
    residents: u64,
    issuances: usize,
    batch: usize,
    database: Vec<String>,
) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let feed = dir.path().join("town.jsonl");
    crate::bench::write_town(&feed, residents, 1)?;
    let resident_ids = residents_of(&feed)?;
    let fonts = Arc::new(
        kofu_render::FontBook::load(&kofu_render::SystemFonts::from_env())
            .context("cannot load the certificate fonts")?,
    );
    for (i, url) in crate::bench::targets(dir.path(), database)
        .into_iter()
        .enumerate()
    {
        let now = OffsetDateTime::now_utc();
        let server_settings = OfficeSettings {
            offline_range_size: u32::try_from(issuances + 10).unwrap_or(u32::MAX),
            ..OfficeSettings::default()
        };
        let crate::bench::ClerkOffice {
            office: server,
            session,
            login,
            totp_secret,
            backend,
        } = crate::bench::clerk_office(
            &url,
            &feed,
            fonts.clone(),
            &format!("bench{i}"),
            server_settings,
        )
        .await?;

        // The terminal: its replica, kit and offline office.
        let replica_path = dir.path().join(format!("replica{i}.sqlite"));
        let replica = kofu_store::Store::open_encrypted(&replica_path, &[1u8; 32]).await?;
        // The terminal's identity: enrolled, its own key registered; each request below
        // is signed and verified as on the wire (the signature's cost is measured).
        let enrolment =
            kofu_app::terminal::enrol_terminal(&server.store, TERMINAL, "bench", now).await?;
        let key = kofu_app::terminal::TerminalKey::generate()?;
        server
            .register_terminal(TERMINAL, &enrolment.code, &key.public_hex(), now)
            .await?;
        let signed = |method: &str, path: &str, body: &[u8]| {
            let now = OffsetDateTime::now_utc();
            let proof = key.sign(TERMINAL, method, path, "bench", body, now);
            let server = server.clone();
            let (method, path) = (method.to_owned(), path.to_owned());
            async move {
                server
                    .verify_terminal(&proof, &method, &path, "bench", now)
                    .await
            }
        };
        // The snapshot, page by page.
        let mut cursor: Option<String> = None;
        loop {
            let verified = signed("GET", "/counter/v1/offline/replica", b"").await?;
            let page = server
                .replica_feed(
                    &session,
                    &verified,
                    None,
                    None,
                    10_000,
                    cursor.as_deref(),
                    now,
                )
                .await?;
            offline::apply_replica_feed(&replica, &page, now).await?;
            cursor = page.cursor;
            if cursor.is_none() {
                break;
            }
        }
        let verified = signed("POST", "/counter/v1/offline/kit", b"").await?;
        let kit = server
            .offline_kit(&session, &verified, TERMINAL, 0, now)
            .await?;
        offline::install_kit(&replica, &kit, now).await?;
        let limits = OfflineLimits {
            max_replica_age_secs: 24 * 3600,
            max_unsynced: u32::try_from(issuances + 1).unwrap_or(u32::MAX),
        };
        let terminal = Office::new(
            replica.clone(),
            fonts.clone(),
            OfficeSettings {
                offline: Some(OfflineTerminal {
                    terminal: TERMINAL.into(),
                    limits,
                }),
                ..OfficeSettings::default()
            },
            "terminal",
        )
        .await?;
        let local = terminal
            .login(
                &Credentials {
                    login,
                    password: crate::bench::CLERK_PASSWORD.into(),
                    totp: crate::bench::totp_code(&totp_secret, now, 1),
                },
                now,
            )
            .await?
            .staff;

        let started = Instant::now();
        let mut issued = 0usize;
        let mut tried = 0usize;
        while issued < issuances {
            let Some(resident) = resident_ids.get(tried % resident_ids.len()) else {
                bail!("the demo town has no residents");
            };
            tried += 1;
            if tried > issuances * 20 {
                bail!("too few residents may obtain a 住民票 at the counter");
            }
            let request = CounterRequest {
                request_id: format!("bench-offline-{tried:08}"),
                applicant: Applicant::Person,
                identity: IdentityCheck {
                    photo: vec!["運転免許証".into()],
                    non_photo: vec![],
                },
                kind: CertificateKind::Juminhyo,
                subject: SubjectRef::Resident(resident.clone()),
                options: CertificateOptions::default(),
                copies: 1,
                terminal: TERMINAL.into(),
                printer: "P001".into(),
                payment: Payment::Cash,
                override_reason: None,
            };
            match terminal
                .counter_issue(&local, &request, OffsetDateTime::now_utc())
                .await
            {
                Ok(_) => issued += 1,
                Err(kofu_app::AppError::Refused(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let issue_secs = started.elapsed().as_secs_f64();

        let started = Instant::now();
        let (mut entries, mut requests) = (0usize, 0usize);
        loop {
            let upload = offline::sync_batch(&replica, TERMINAL, batch).await?;
            if upload.entries.is_empty() {
                break;
            }
            // As on the wire: the terminal serializes, the server parses.
            let body = serde_json::to_vec(&upload)?;
            let verified = signed("POST", "/counter/v1/offline/sync", &body).await?;
            verified.check_body(&body)?;
            let parsed: offline::SyncBatch = serde_json::from_slice(&body)?;
            let receipt = server
                .accept_sync(&session, &verified, &parsed, OffsetDateTime::now_utc())
                .await?;
            offline::acknowledge(&replica, &receipt).await?;
            entries += receipt.new_entries;
            requests += 1;
        }
        let sync_secs = started.elapsed().as_secs_f64();
        let verdict = server.store.verify_audit().await?;
        if !verdict.problems.is_empty() {
            bail!(
                "the server's audit does not verify after the upload: {:?}",
                verdict.problems[0]
            );
        }
        println!(
            "{}",
            serde_json::json!({
                "bench": "sync",
                "backend": backend,
                "issuances": issued,
                "audit_entries": entries,
                "uploads": requests,
                "offline_issue_secs": (issue_secs * 1000.0).round() / 1000.0,
                "sync_secs": (sync_secs * 1000.0).round() / 1000.0,
                "issuances_per_sec_synced": (issued as f64 / sync_secs).round(),
            })
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The resident IDs of a feed, in order.
fn residents_of(feed: &std::path::Path) -> anyhow::Result<Vec<String>> {
    use std::io::BufRead as _;
    let mut ids = Vec::new();
    for line in BufReader::new(std::fs::File::open(feed)?).lines() {
        let line = line?;
        if line.starts_with(r#"{"type":"resident""#) {
            let v: serde_json::Value = serde_json::from_str(&line)?;
            if let Some(id) = v["resident_id"].as_str() {
                ids.push(id.to_owned());
            }
        }
    }
    Ok(ids)
}
