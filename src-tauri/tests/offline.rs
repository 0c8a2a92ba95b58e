//! A server-mode terminal through a loopback proxy that cuts connections: the outage
//! is noticed, the terminal issues offline on its replica, a change made on the
//! server meanwhile is flagged after reconnection, and with connections dropped at
//! random moments during issuance and upload, server totals end equal to the
//! terminal's: nothing lost, nothing doubled, both chains verify.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use kofu_app::staff::{NewStaff, Role};
use kofu_counter::client::CounterClient;
use kofu_counter::offline::Terminal;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

const PASSWORD: &str = "offline counter password";

/// A TCP proxy on loopback: `down` refuses every connection; `chaos` (1 in N) cuts a
/// connection after a random number of bytes, either way.
struct Proxy {
    port: u16,
    down: Arc<AtomicBool>,
    chaos: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

/// A small deterministic generator (xorshift), seeded per test run and printed.
fn next(state: &AtomicU64) -> u64 {
    let mut x = state.load(Ordering::Relaxed);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    state.store(x, Ordering::Relaxed);
    x
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    budget: u64,
) {
    let mut left = budget;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let take = usize::try_from(left.min(n as u64)).unwrap();
        if to.write_all(&buf[..take]).await.is_err() || take < n {
            break; // cut here
        }
        left -= take as u64;
    }
    let _ = to.shutdown().await;
}

impl Proxy {
    async fn start(upstream: u16, seed: u64) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let chaos = Arc::new(AtomicU64::new(0));
        let rng = Arc::new(AtomicU64::new(seed | 1));
        let (d, c) = (down.clone(), chaos.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if d.load(Ordering::Relaxed) {
                    drop(client);
                    continue;
                }
                let (one_in, rng) = (c.load(Ordering::Relaxed), rng.clone());
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                        return;
                    };
                    let mut first = vec![0u8; 16 * 1024];
                    let n = match client.read(&mut first).await {
                        Ok(n) if n > 0 => n,
                        _ => return,
                    };
                    // Health probes pass: the cuts are for issuance and upload.
                    let probe = first[..n].starts_with(b"GET /counter/v1/health");
                    let cut = !probe && one_in > 0 && next(&rng).is_multiple_of(one_in);
                    // A cut falls anywhere in the request or in the answer.
                    let (up, down) = if !cut {
                        (u64::MAX, u64::MAX)
                    } else if next(&rng).is_multiple_of(2) {
                        (next(&rng) % 4000, u64::MAX)
                    } else {
                        (u64::MAX, next(&rng) % 4000)
                    };
                    let sent = usize::try_from(up.min(n as u64)).unwrap();
                    if server.write_all(&first[..sent]).await.is_err() || sent < n {
                        return;
                    }
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::spawn(pump(cr, sw, up - sent as u64));
                    tokio::spawn(pump(sr, cw, down));
                });
            }
        });
        Proxy {
            port,
            down,
            chaos,
            task,
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn code(secret: &[u8], step_offset: i64) -> String {
    let step = kofu_app::staff::totp_step(OffsetDateTime::now_utc()) + step_offset;
    let c = kofu_app::staff::hotp(secret, u64::try_from(step).unwrap(), 6).unwrap();
    format!("{c:06}")
}

fn request(resident: &str, id: &str) -> Value {
    json!({"request_id": id, "applicant": {"type": "person"},
           "identity": {"photo": ["運転免許証"]}, "certificate": "juminhyo",
           "subject": {"resident_id": resident}, "copies": 1,
           "terminal": "本庁1", "printer": "P001", "payment": "cash"})
}

/// Waits (bounded) until `cond` holds.
async fn until(what: &str, mut cond: impl AsyncFnMut() -> bool) {
    for _ in 0..300 {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting until {what}");
}

async fn count(store: &kofu_store::Store, sql: &'static str) -> i64 {
    match store.ledger_query(sql, &[], &[true]).await.unwrap()[0][0] {
        kofu_store::Cell::Int(n) => n,
        _ => -1,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terminal_works_through_an_outage_and_its_upload_survives_cut_connections() {
    let seed = OffsetDateTime::now_utc().unix_timestamp_nanos() as u64;
    eprintln!("proxy seed {seed}");
    // The server: the fixture town, one clerk, the counter API on loopback.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("server.sqlite").display());
    let store = kofu_store::Store::open(&url).await.unwrap();
    let feed =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/feeds/kiosk-town.jsonl");
    kofu_app::import_feed(
        &store,
        std::io::BufReader::new(std::fs::File::open(feed).unwrap()),
    )
    .await
    .unwrap();
    let now = OffsetDateTime::now_utc();
    let new = NewStaff {
        login: "madoguchi".into(),
        role: Role::Clerk,
        password: PASSWORD.into(),
    };
    let enrolment = kofu_app::staff::add_staff(&store, &new, "test", now)
        .await
        .unwrap();
    let secret = kofu_app::staff::base32_decode(&enrolment.totp_secret).unwrap();
    let fonts =
        Arc::new(kofu_render::FontBook::load(&kofu_render::SystemFonts::from_env()).unwrap());
    let office = kofu_app::Office::new(
        store.clone(),
        fonts.clone(),
        kofu_app::OfficeSettings::default(),
        "s",
    )
    .await
    .unwrap();
    let listener = kofu_server::serve::Listener::bind(
        "127.0.0.1:0".parse().unwrap(),
        kofu_server::serve::Security::InsecureLoopback,
    )
    .unwrap();
    let upstream = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(listener.serve(kofu_server::counter::router(office), async {
        let _ = stopped.await;
    }));
    let proxy = Proxy::start(upstream, seed).await;

    // The terminal, through the proxy.
    let data = tempfile::tempdir().unwrap();
    let remote =
        Arc::new(CounterClient::remote(&format!("http://127.0.0.1:{}", proxy.port), None).unwrap());
    let t = Arc::new(Terminal::new(remote, "本庁1", data.path(), fonts, now));
    let watcher = tokio::spawn(t.clone().watch());

    // The terminal's identity: an administrator enrols it; it registers its own key
    // with the code, and keeps the private half in an owner-only file.
    assert!(!t.registered());
    let enrolment = kofu_app::terminal::enrol_terminal(&store, "本庁1", "admin", now)
        .await
        .unwrap();
    let answer = t.register("AAAA-BBBB-CCCC-DDDD").await.unwrap();
    assert_eq!(answer["status"], 401, "a wrong code: {answer}");
    assert!(!t.registered());
    let answer = t.register(&enrolment.code).await.unwrap();
    assert_eq!(answer["status"], 200, "{answer}");
    assert!(t.registered());
    let key_file = data.path().join(kofu_counter::offline::TERMINAL_KEY_FILE);
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let public = store
        .terminal_identity("本庁1")
        .await
        .unwrap()
        .unwrap()
        .public_key;
    assert!(
        !std::fs::read_to_string(&key_file)
            .unwrap()
            .contains(&public),
        "the file keeps the private half; the server only the public one"
    );

    // Online: a login brings the replica, the cached account and a number range.
    let login =
        |offset| json!({"login": "madoguchi", "password": PASSWORD, "totp": code(&secret, offset)});
    let answer = t
        .call("POST", "/counter/v1/login", Some(login(0)))
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    until("the login's kit and refresh are done", async || {
        t.connectivity(OffsetDateTime::now_utc())
            .await
            .unwrap()
            .last_sync
            .is_some()
    })
    .await;
    let c = t.connectivity(OffsetDateTime::now_utc()).await.unwrap();
    assert!(c.online && c.replica_unlocked, "{c:?}");
    assert!(
        c.last_sync
            .as_deref()
            .is_some_and(|s| !s.contains("failed")),
        "{c:?}"
    );
    let replica = t.replica_store().unwrap();
    assert!(replica.offline_numbers_left().await.unwrap() > 0);

    // The network goes; the terminal notices within seconds.
    proxy.down.store(true, Ordering::Relaxed);
    let started = std::time::Instant::now();
    until("the terminal is offline", async || !t.online()).await;
    eprintln!("# measure outage noticed in {:?}", started.elapsed());
    // A change on the server while the terminal is cut off.
    let change = r#"{"type":"change","seq":1,"at":"2026-05-07T09:00:00+09:00","op":"upsert","record":{"type":"support_measure","resident_id":"00000000019","from":"2026-05-01","to":"2027-04-30"}}"#;
    kofu_app::import_feed(&store, std::io::Cursor::new(format!("{change}\n")))
        .await
        .unwrap();

    // Offline: the cached login, then issuance on the replica.
    let answer = t
        .call("POST", "/counter/v1/login", Some(login(1)))
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "offline login: {}", answer.body);
    let mut offline_ids = Vec::new();
    for (i, resident) in ["00000000019", "00000000043", "00000000043", "00000000043"]
        .iter()
        .enumerate()
    {
        let id = format!("offline-request-{i:04}");
        let answer = t
            .call(
                "POST",
                "/counter/v1/issuances",
                Some(request(resident, &id)),
            )
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
        offline_ids.push(answer.body["issuance_id"].as_str().unwrap().to_owned());
    }
    let status = t.connectivity(OffsetDateTime::now_utc()).await.unwrap();
    assert!(!status.online);
    assert_eq!(
        status.replica.as_ref().unwrap().unsynced_issuances,
        4,
        "{status:?}"
    );

    // The network comes back; the clerk logs in online (a TOTP code is good once, so
    // this one request is not cut), then one connection in three is cut at a random
    // moment: the upload the login started, and the issuances that follow.
    proxy.down.store(false, Ordering::Relaxed);
    until("the terminal is online", async || t.online()).await;
    let answer = t
        .call("POST", "/counter/v1/login", Some(login(1)))
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "online again: {}", answer.body);
    proxy.chaos.store(3, Ordering::Relaxed);
    // Online issuances through the cuts: a retry with the same request_id is the same
    // issuance, never a second one.
    for i in 0..6 {
        let id = format!("online-request-{i:04}");
        until("an online issuance is answered", async || {
            matches!(t.call("POST", "/counter/v1/issuances", Some(request("00000000043", &id))).await,
                     Ok(a) if a.status == 200)
        })
        .await;
    }
    // The upload completes despite the cuts (the watcher retries on its own too).
    until("every offline issuance is acknowledged", async || {
        let _ = t.refresh_and_upload().await;
        replica.unsynced_issuances().await.unwrap() == 0
    })
    .await;
    proxy.chaos.store(0, Ordering::Relaxed);

    // Totals: the server holds the terminal's four offline issuances once each and
    // the six online ones once each.
    assert_eq!(count(&store, "SELECT COUNT(*) FROM issuances").await, 10);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM fees").await, 10);
    assert_eq!(
        count(
            &store,
            "SELECT COALESCE(SUM(amount_yen), 0) FROM fees WHERE receipt_no LIKE '%-OFF%'"
        )
        .await,
        count(&replica, "SELECT COALESCE(SUM(amount_yen), 0) FROM fees").await,
        "offline fees: server equals terminal"
    );
    let local_entries = count(&replica, "SELECT COUNT(*) FROM audit_log").await;
    let uploaded = count(&store, "SELECT COUNT(*) FROM terminal_audit").await;
    assert!(
        uploaded > 0 && uploaded <= local_entries,
        "{uploaded} of {local_entries}"
    );
    assert_eq!(
        count(&replica, "SELECT acknowledged FROM terminal_sync").await,
        uploaded,
        "the terminal's acknowledged position is the server's accepted one"
    );
    for s in [&store, &replica] {
        let verdict = s.verify_audit().await.unwrap();
        assert!(verdict.problems.is_empty(), "{:?}", verdict.problems);
    }
    // The change made during the outage flags the offline issuance it concerns.
    let flags = store
        .ledger_query(
            "SELECT issuance_id, changes FROM offline_flags",
            &[],
            &[false, false],
        )
        .await
        .unwrap();
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert_eq!(flags[0][0], kofu_store::Cell::Text(offline_ids[0].clone()));
    let kofu_store::Cell::Text(changes) = &flags[0][1] else {
        panic!()
    };
    assert!(
        changes.contains("\"type\":\"support_measure\""),
        "{changes}"
    );

    watcher.abort();
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
