//! The simulator against a real in-process `kofu` LGWAN server over mutual TLS, on
//! the kiosk-town fixture: sessions, the center's own card checks, the outcome
//! notices, load that stops by itself, and a center the town does not trust.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kofu_relay_sim::cards::{CardRegistry, card_file_from_feed, parse_card_file, pin_for};
use kofu_relay_sim::http::{CenterTls, Endpoint};
use kofu_relay_sim::kiosk::{Household, Outcome, SessionPlan, run_session};
use kofu_relay_sim::load::{LoadPlan, run_load};
use kofu_relay_sim::pki::{DevPki, generate};

const MORNING: &str = "2026-05-07T10:15:00+09:00";

fn feed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/feeds/kiosk-town.jsonl")
}

struct Town {
    store: kofu_store::Store,
    endpoint: Endpoint,
    cards: Arc<CardRegistry>,
    pki: DevPki,
    addr: std::net::SocketAddr,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn town() -> Town {
    let dir = tempfile::tempdir().unwrap();
    let pki = generate(&dir.path().join("pki"), &["localhost".to_owned()]).unwrap();
    let url = format!("sqlite:{}", dir.path().join("town.sqlite").display());
    let store = kofu_store::Store::open(&url).await.unwrap();
    let feed = std::fs::read_to_string(feed_path()).unwrap();
    kofu_app::import_feed(&store, std::io::Cursor::new(feed.clone()))
        .await
        .unwrap();
    let fonts = kofu_render::FontBook::load(&kofu_render::SystemFonts::from_env()).unwrap();
    let office = kofu_app::Office::new(
        store.clone(),
        Arc::new(fonts),
        kofu_app::OfficeSettings::default(),
        "relay-sim-test",
    )
    .await
    .unwrap();
    let config = kofu_server::serve::mtls_config(&kofu_server::serve::TlsFiles {
        cert: pki.server_cert.clone(),
        key: pki.server_key.clone(),
        relay_ca: pki.ca_cert.clone(),
    })
    .unwrap();
    let listener = kofu_server::serve::Listener::bind(
        "127.0.0.1:0".parse().unwrap(),
        kofu_server::serve::Security::Mtls(Arc::new(config)),
    )
    .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(listener.serve(kofu_server::lgwan::router(office), async {
        let _ = stopped.await;
    }));
    let endpoint = center(&pki, addr);
    let cards = parse_card_file("cards", &card_file_from_feed(&feed)).unwrap();
    Town {
        store,
        endpoint,
        cards: Arc::new(CardRegistry::new(cards)),
        pki,
        addr,
        _dir: dir,
        _stop: stop,
    }
}

fn center(pki: &DevPki, addr: std::net::SocketAddr) -> Endpoint {
    Endpoint::parse(
        &format!("https://localhost:{}", addr.port()),
        Some(CenterTls {
            ca_cert: &pki.ca_cert,
            client_cert: &pki.center_cert,
            client_key: &pki.center_key,
        }),
    )
    .unwrap()
}

fn plan(card: &str, certificate: &str, outcome: Outcome) -> SessionPlan {
    SessionPlan {
        kiosk_id: "K-00001".into(),
        chain: "sim-mart".into(),
        card_serial: card.into(),
        pins: vec![pin_for(card)],
        certificate: certificate.into(),
        household: Household::SelfOnly,
        options: vec!["show_relationship".into()],
        copies: 1,
        outcome,
        requested_at: MORNING.into(),
    }
}

async fn audit_count(store: &kofu_store::Store, action: &str, card: &str) -> usize {
    store
        .audit_rows()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.action == action && r.detail.contains(card))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_sessions_over_mutual_tls() {
    let t = town().await;
    let out = tempfile::tempdir().unwrap();
    let mut conn = t.endpoint.connect().await.unwrap();

    // An ordinary session: issued, printed to the output folder, reported.
    let (report, docs) = run_session(
        &mut conn,
        &t.cards,
        &plan("0A1B2C3D", "juminhyo", Outcome::Printed),
        Some(out.path()),
    )
    .await
    .unwrap();
    assert_eq!(report.refused, None, "{report:?}");
    assert_eq!(report.outcome.as_deref(), Some("printed"));
    assert_eq!(report.printed.len(), 1);
    let written = std::fs::read(&report.printed[0]).unwrap();
    assert_eq!(written, docs[0].pdf, "the PDF printed is the one received");
    assert!(
        report.issue_numbers[0].contains("KIOSK K-00001"),
        "{report:?}"
    );
    assert!(
        report.line().contains("outcome printed"),
        "{}",
        report.line()
    );

    // A paper jam: issued, nothing printed, the failure recorded by the town.
    let (jam, _) = run_session(
        &mut conn,
        &t.cards,
        &plan("0B0B0B0B", "juminhyo", Outcome::PaperJam),
        Some(out.path()),
    )
    .await
    .unwrap();
    assert_eq!(jam.outcome.as_deref(), Some("paper_jam"), "{jam:?}");
    assert!(jam.printed.is_empty());
    let events = t
        .store
        .ledger_query(
            "SELECT detail FROM issuance_events WHERE issuance_id = $1 AND event = 'outcome'",
            &[kofu_store::Cell::Text(jam.issuance_id.clone().unwrap())],
            &[false],
        )
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert!(format!("{:?}", events[0]).contains("paper_jam"));

    // A support measure: the town refuses with its reason and message.
    let (refused, _) = run_session(
        &mut conn,
        &t.cards,
        &plan("0C0C0C0C", "juminhyo", Outcome::Printed),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        refused.refused.as_deref(),
        Some("support_measure"),
        "{refused:?}"
    );
    assert!(refused.message.is_some() && refused.issuance_id.is_none());

    // Three wrong PINs lock the card, and the town is never asked.
    let before = audit_count(&t.store, "kiosk.inquiry", "0D0D0D0D").await;
    let mut wrong = plan("0D0D0D0D", "juminhyo", Outcome::Printed);
    let bad_pin = if pin_for("0D0D0D0D") == "0000" {
        "1111"
    } else {
        "0000"
    };
    wrong.pins = vec![bad_pin.into(); 3];
    let (locked, _) = run_session(&mut conn, &t.cards, &wrong, None)
        .await
        .unwrap();
    assert_eq!(locked.refused.as_deref(), Some("card_locked"));
    let (still, _) = run_session(
        &mut conn,
        &t.cards,
        &plan("0D0D0D0D", "juminhyo", Outcome::Printed),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        still.refused.as_deref(),
        Some("card_locked"),
        "the right PIN no longer opens it"
    );
    // A revoked card is refused by the center itself.
    let (revoked, _) = run_session(
        &mut conn,
        &t.cards,
        &plan("0A0A0A0A", "juminhyo", Outcome::Printed),
        None,
    )
    .await
    .unwrap();
    assert_eq!(revoked.refused.as_deref(), Some("card_revoked"));
    assert_eq!(
        audit_count(&t.store, "kiosk.inquiry", "0D0D0D0D").await,
        before
    );
    assert_eq!(audit_count(&t.store, "kiosk.inquiry", "0A0A0A0A").await, 0);
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        1,
        "only the printed copy was written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_runs_at_its_rate_and_stops_by_itself() {
    let t = town().await;
    let figures = run_load(
        std::slice::from_ref(&t.endpoint),
        t.cards.clone(),
        &LoadPlan {
            rate: 40.0,
            duration: Duration::from_secs(1),
            kiosks: 4,
            certificate: "juminhyo".into(),
            requested_at: MORNING.into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(figures.sessions, 40, "{figures:?}");
    assert_eq!(figures.errors, 0, "{figures:?}");
    assert_eq!(figures.issued + figures.refused, 40, "{figures:?}");
    assert!(figures.issued > 0 && figures.p50_ms > 0.0 && figures.p99_ms >= figures.p50_ms);
    let issued = t
        .store
        .ledger_query(
            "SELECT COUNT(*) FROM issuances WHERE channel = 'kiosk'",
            &[],
            &[true],
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&issued).unwrap(),
        serde_json::json!([[figures.issued]]),
        "every issuance counted is in the town's ledger"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_center_the_town_does_not_trust_is_refused() {
    let t = town().await;
    let other = tempfile::tempdir().unwrap();
    let stranger = generate(other.path(), &["localhost".to_owned()]).unwrap();
    // The stranger's client certificate, but the town's CA to check the server.
    let ep = Endpoint::parse(
        &format!("https://localhost:{}", t.addr.port()),
        Some(CenterTls {
            ca_cert: &t.pki.ca_cert,
            client_cert: &stranger.center_cert,
            client_key: &stranger.center_key,
        }),
    )
    .unwrap();
    let refused = match ep.connect().await {
        Err(_) => true,
        Ok(mut conn) => conn.get("/lgwan/v1/health").await.is_err(),
    };
    assert!(
        refused,
        "a client certificate from another CA must not be served"
    );
    // The town's own center is served.
    let mut conn = center(&t.pki, t.addr).connect().await.unwrap();
    let health = conn.get("/lgwan/v1/health").await.unwrap();
    assert_eq!(health.status, 200);
    assert_eq!(health.body, serde_json::json!({"status": "ok"}));
}
