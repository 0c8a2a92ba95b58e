//! The reliability suite: each test is named after a public failure of another
//! issuance system (DOMAIN.md §5) and drives real `kofu serve` processes with the
//! simulated relay center to show that kofu does not repeat it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use kofu_e2e::{Serve, databases, feed, kofu, postgres_database, psql};
use kofu_relay_sim::cards::{CardRegistry, card_file_from_feed, parse_card_file, pin_for};
use kofu_relay_sim::http::Endpoint;
use kofu_relay_sim::kiosk::{
    Document, Household, Outcome, SessionPlan, SessionReport, run_session,
};
use serde_json::{Value, json};

/// A weekday morning inside kiosk hours: every request carries the same instant.
const MORNING: &str = "2026-05-07T10:15:00+09:00";

/// Who holds which card, from a registry feed.
struct Holders {
    /// Card serial → (resident ID, household ID, name with spaces removed).
    by_card: BTreeMap<String, (String, String, String)>,
    /// Name (spaces removed) → the households that have someone of that name.
    households_of_name: BTreeMap<String, BTreeSet<String>>,
    /// Household → the names of its members.
    names_in: BTreeMap<String, Vec<String>>,
    cards: Arc<CardRegistry>,
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn holders(feed_text: &str) -> Holders {
    let mut residents = BTreeMap::new();
    let mut households_of_name: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut names_in: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut cards = BTreeMap::new();
    for line in feed_text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        match v["type"].as_str() {
            Some("resident") => {
                let name = squeeze(&format!(
                    "{}{}",
                    v["family"].as_str().unwrap_or_default(),
                    v["given"].as_str().unwrap_or_default()
                ));
                let household = v["household_id"].as_str().unwrap_or_default().to_owned();
                households_of_name
                    .entry(name.clone())
                    .or_default()
                    .insert(household.clone());
                names_in
                    .entry(household.clone())
                    .or_default()
                    .push(name.clone());
                residents.insert(
                    v["resident_id"].as_str().unwrap_or_default().to_owned(),
                    (household, name),
                );
            }
            Some("card") if v["status"] == "active" => {
                cards.insert(
                    v["auth_serial"].as_str().unwrap_or_default().to_owned(),
                    v["resident_id"].as_str().unwrap_or_default().to_owned(),
                );
            }
            _ => {}
        }
    }
    let by_card = cards
        .into_iter()
        .filter_map(|(serial, rid)| {
            let (household, name) = residents.get(&rid)?.clone();
            Some((serial, (rid, household, name)))
        })
        .collect();
    let registry = parse_card_file("feed", &card_file_from_feed(feed_text)).unwrap();
    Holders {
        by_card,
        households_of_name,
        names_in,
        cards: Arc::new(CardRegistry::new(registry)),
    }
}

/// The text of one page of a PDF, by poppler's pdftotext.
fn page_text(pdf: &Path, page: u32) -> String {
    let p = page.to_string();
    let out = Command::new("pdftotext")
        .args(["-f", &p, "-l", &p, "-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap_or_else(|e| panic!("cannot run pdftotext (poppler-utils): {e}"));
    assert!(out.status.success(), "pdftotext {}", pdf.display());
    String::from_utf8(out.stdout).unwrap()
}

fn plan(card: &str, kiosk: usize, household: Household, options: &[&str]) -> SessionPlan {
    SessionPlan {
        kiosk_id: format!("K-{kiosk:05}"),
        chain: "sim-mart".into(),
        card_serial: card.to_owned(),
        pins: vec![pin_for(card)],
        certificate: "juminhyo".into(),
        household,
        options: options.iter().map(|s| (*s).to_owned()).collect(),
        copies: 1,
        outcome: Outcome::Printed,
        requested_at: MORNING.into(),
    }
}

fn endpoint(serve: &Serve) -> Endpoint {
    Endpoint::parse(&format!("http://{}", serve.addr), None).unwrap()
}

fn import(path: &Path, url: &str) {
    let out = kofu(&["import", path.to_str().unwrap(), "--database", url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// 横浜 (next applicant's certificate) and 川崎 (same-second overwrite) and 徳島
/// (foreign page): hundreds of concurrent kiosk sessions for residents of different
/// households, all with the same `requested_at`, spread over two `kofu serve`
/// processes sharing one PostgreSQL. Every page of every PDF names its own applicant,
/// carries its own issue number and page count, and names nobody from another
/// household; no issue number is given twice.
#[test]
fn next_applicants_certificate_never_reaches_a_kiosk() {
    let Some(url) = postgres_database("next_applicant") else {
        eprintln!("KOFU_SKIP_PG=1: skipped (needs PostgreSQL)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let town = dir.path().join("town.jsonl");
    let out = kofu(&[
        "demo-town",
        "--residents",
        "1500",
        "--seed",
        "11",
        "--out",
        town.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    import(&town, &url);
    let h = holders(&std::fs::read_to_string(&town).unwrap());
    let servers = [Serve::start(&url), Serve::start(&url)];
    let endpoints: Vec<Endpoint> = servers.iter().map(endpoint).collect();

    // One card per household, so that each certificate's household is one applicant's.
    let mut seen = BTreeSet::new();
    let applicants: Vec<String> = h
        .by_card
        .iter()
        .filter(|(_, (_, household, _))| seen.insert(household.clone()))
        .map(|(serial, _)| serial.clone())
        .take(300)
        .collect();
    assert!(
        applicants.len() >= 200,
        "the demo town has too few card holders"
    );
    let pdfs = dir.path().join("out");
    std::fs::create_dir_all(&pdfs).unwrap();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let results: Vec<(SessionReport, Vec<Document>)> = runtime.block_on(async {
        // All sessions released at once, in pairs at the same instant on the two
        // servers (川崎: two requests within the same millisecond).
        let gate = Arc::new(tokio::sync::Barrier::new(applicants.len()));
        let mut tasks = Vec::new();
        for (i, serial) in applicants.iter().enumerate() {
            let (ep, cards, gate, pdfs) = (
                endpoints[i % 2].clone(),
                h.cards.clone(),
                gate.clone(),
                pdfs.clone(),
            );
            let household = if i % 3 == 0 {
                Household::All
            } else {
                Household::SelfOnly
            };
            let p = plan(serial, i % 24, household, &["show_relationship"]);
            tasks.push(tokio::spawn(async move {
                let mut conn = ep.connect().await.unwrap();
                gate.wait().await;
                run_session(&mut conn, &cards, &p, Some(&pdfs))
                    .await
                    .unwrap()
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.push(t.await.unwrap());
        }
        all
    });

    let mut numbers = BTreeSet::new();
    let mut issued = 0;
    let mut multi_page = 0;
    for (report, documents) in &results {
        let Some(_) = &report.issuance_id else {
            assert!(report.refused.is_some(), "{report:?}");
            continue;
        };
        issued += 1;
        let (_, household, own_name) = &h.by_card[&report.card_serial];
        let own_household = &h.names_in[household];
        for (doc, path) in documents.iter().zip(&report.printed) {
            assert!(
                numbers.insert(doc.issue_number.clone()),
                "issue number {} given twice",
                doc.issue_number
            );
            if doc.pages > 1 {
                multi_page += 1;
            }
            for page in 1..=doc.pages {
                let text = squeeze(&page_text(path, page));
                let here = format!("{} page {page}/{}", path.display(), doc.pages);
                assert!(
                    text.contains(own_name.as_str()),
                    "{here}: the applicant {own_name} is missing"
                );
                assert!(
                    text.contains(&squeeze(&doc.issue_number)),
                    "{here}: not its issue number {}",
                    doc.issue_number
                );
                assert!(
                    text.contains(&format!("{page}/{}", doc.pages)),
                    "{here}: no page count"
                );
                for (name, households) in &h.households_of_name {
                    // Names shared by several households, or contained in a name of
                    // the applicant's household (福田恵 in 福田恵美), tell nothing apart.
                    if households.len() == 1
                        && !households.contains(household)
                        && !own_household.iter().any(|own| own.contains(name.as_str()))
                        && name.chars().count() >= 3
                    {
                        assert!(
                            !text.contains(name.as_str()),
                            "{here}: names {name} of another household"
                        );
                    }
                }
            }
        }
    }
    assert!(
        issued >= 150,
        "only {issued} of {} sessions issued",
        results.len()
    );
    assert!(multi_page > 0, "some households need more than one page");
    drop(servers);
    let out = kofu(&["audit", "verify", "--database", &url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// 新潟・さいたま・熊本・板野 (stale data): once a change event revoking a seal and
/// moving a resident is acknowledged, the very next kiosk request is refused, or
/// shows the new address. さいたま (旧氏 silently dropped): every option asked for is
/// on the page.
#[test]
fn acknowledged_changes_and_requested_options_are_on_the_next_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let feed_text = std::fs::read_to_string(feed("kiosk-town.jsonl")).unwrap();
    for url in databases(dir.path(), "stale") {
        import(&feed("kiosk-town.jsonl"), &url);
        let serve = Serve::start(&url);
        let h = holders(&feed_text);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let out = dir.path().join(format!("out-{}", url.len()));
        std::fs::create_dir_all(&out).unwrap();
        let ep = endpoint(&serve);
        let run = |p: SessionPlan| {
            runtime.block_on(async {
                let mut conn = ep.connect().await.unwrap();
                run_session(&mut conn, &h.cards, &p, Some(&out))
                    .await
                    .unwrap()
            })
        };
        // 見本 花子 has a former surname (葛󠄂西, with its variation selector).
        let (report, docs) = run(plan(
            "0B0B0B0B",
            1,
            Household::SelfOnly,
            &["show_relationship", "show_honseki", "show_former_surname"],
        ));
        assert!(report.issuance_id.is_some(), "{report:?}");
        let text = squeeze(&page_text(&report.printed[0], 1));
        // Values, not labels: labels are spread out (均等割付) and extract letter by letter.
        for (option, shows) in [
            ("show_relationship", "妻"),
            ("show_honseki", "見本県見本市中央一丁目2番"),
            ("show_former_surname", "葛\u{E0102}西"),
        ] {
            assert!(
                text.contains(shows),
                "{url}: {option} asked, {shows:?} missing:\n{text}"
            );
        }
        assert_eq!(docs[0].pages, 1);

        // The registry revokes 見本 太郎's seal and moves him; `kofu import` acknowledges…
        let mut seal: Value = find(&feed_text, "seal", "00000000019");
        seal["status"] = json!("revoked");
        seal["revoked_on"] = json!("2026-05-07");
        let mut resident: Value = find(&feed_text, "resident", "00000000019");
        resident["address"] = json!("見本県見本市北二丁目5番8号");
        resident["address_since"] = json!("2026-05-01");
        resident["notified_on"] = json!("2026-05-01");
        let changes = dir.path().join("changes.jsonl");
        std::fs::write(
            &changes,
            format!(
                "{}\n{}\n",
                json!({"type": "change", "seq": 1, "at": "2026-05-07T09:00:00+09:00", "op": "upsert", "record": seal}),
                json!({"type": "change", "seq": 2, "at": "2026-05-07T09:00:01+09:00", "op": "upsert", "record": resident}),
            ),
        )
        .unwrap();
        import(&changes, &url);
        // …and the kiosk asks at once, of the server that was running all along.
        let mut inkan = plan("0A1B2C3D", 2, Household::SelfOnly, &[]);
        inkan.certificate = "inkan".into();
        let (refused, _) = run(inkan);
        assert_eq!(
            refused.refused.as_deref(),
            Some("seal_revoked"),
            "{url}: {refused:?}"
        );
        let (moved, _) = run(plan("0A1B2C3D", 3, Household::SelfOnly, &[]));
        assert!(moved.issuance_id.is_some(), "{url}: {moved:?}");
        let text = squeeze(&page_text(&moved.printed[0], 1));
        assert!(
            text.contains("見本県見本市北二丁目5番8号"),
            "{url}: the new address:\n{text}"
        );
    }
}

fn find(feed_text: &str, kind: &str, resident: &str) -> Value {
    feed_text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["type"] == kind && v["resident_id"] == resident)
        .unwrap()
}

/// 横浜 (timeout): a render stalled past the limit answers 503 and issues and numbers
/// nothing; the same request retried on a healthy server gets the first number of
/// the day.
#[test]
fn a_stalled_render_issues_nothing_and_the_retry_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    for url in databases(dir.path(), "stall") {
        import(&feed("kiosk-town.jsonl"), &url);
        let body = json!({"request_id": "5f0c7c1e-3d7b-4b8e-9a51-2b6f0f4f9a10",
            "card_serial": "0A1B2C3D", "certificate": "juminhyo",
            "options": {"household": "self"}, "copies": 1,
            "kiosk": {"id": "K-00077", "chain": "sim-mart"}, "requested_at": MORNING});
        {
            let stalled = Serve::start_with(
                &url,
                &[
                    "--issue-time-limit-ms",
                    "300",
                    "--fault-render-stall-ms",
                    "1500",
                ],
            );
            let (status, answer) = stalled.post("/lgwan/v1/issuances", &body);
            assert_eq!(status, 503, "{url}: {answer}");
            assert_eq!(answer["error"]["code"], "timeout");
        }
        let healthy = Serve::start(&url);
        let (status, answer) = healthy.post("/lgwan/v1/issuances", &body);
        assert_eq!(status, 200, "{url}: {answer}");
        assert_eq!(
            answer["documents"][0]["issue_number"], "20260507 見本市 KIOSK K-00077 000001",
            "{url}: the stalled attempt numbered nothing"
        );
        drop(healthy);
        let out = kofu(&["audit", "verify", "--database", &url]);
        assert!(
            out.status.success(),
            "{url}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// Crash: `kill -9` of the server again and again while kiosks issue and report
/// outcomes, each kiosk retrying its request (same `request_id`) until it is
/// answered. Afterwards every request has exactly one issuance, with its copies, one
/// fee and one outcome; no fee without an issuance; no number twice; and the audit
/// chain verifies.
#[test]
fn a_server_killed_mid_issuance_loses_and_doubles_nothing() {
    let Some(url) = postgres_database("crash") else {
        eprintln!("KOFU_SKIP_PG=1: skipped (needs PostgreSQL)");
        return;
    };
    import(&feed("kiosk-town.jsonl"), &url);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut serve = Some(Serve::start_on(&url, &addr, &[]));
    const KIOSKS: usize = 4;
    const REQUESTS: usize = 50;
    let workers: Vec<_> = (0..KIOSKS)
        .map(|k| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let mut answered = Vec::new();
                for i in 0..REQUESTS {
                    let request_id = format!("00000000-0000-4000-8000-{k:04}{i:08}");
                    let card = if i % 2 == 0 { "0A1B2C3D" } else { "0B0B0B0B" };
                    let body = json!({"request_id": request_id, "card_serial": card,
                        "certificate": "juminhyo", "options": {"household": "self"},
                        "copies": 1 + (i % 2), "kiosk": {"id": format!("K-9{k:04}"), "chain": "sim-mart"},
                        "requested_at": MORNING});
                    let issued = retry(&addr, "/lgwan/v1/issuances", &body);
                    let issuance_id = issued["issuance_id"].as_str().unwrap().to_owned();
                    let outcome = json!({"request_id": request_id, "issuance_id": issuance_id,
                        "outcome": "printed", "pages_printed": issued["documents"].as_array().unwrap().len(),
                        "fee_collected_yen": issued["fee_yen"], "reported_at": MORNING});
                    retry(&addr, "/lgwan/v1/outcomes", &outcome);
                    answered.push((body, issued));
                }
                answered
            })
        })
        .collect();
    // Kill and restart at uneven moments while the kiosks work.
    let mut pause = 173u64;
    let mut kills = 0;
    while workers.iter().any(|w| !w.is_finished()) {
        kills += 1;
        std::thread::sleep(std::time::Duration::from_millis(pause));
        pause = (pause * 7919) % 600 + 100;
        drop(serve.take()); // SIGKILL, then wait
        serve = Some(Serve::start_on(&url, &addr, &[]));
    }
    let answered: Vec<(Value, Value)> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert_eq!(answered.len(), KIOSKS * REQUESTS);
    assert!(
        kills >= 3,
        "the server was killed only {kills} time(s) while the kiosks worked"
    );
    eprintln!(
        "killed the server {kills} times during {} issuances",
        answered.len()
    );
    // A retry now, after all the crashes, still answers the same issuance.
    for (body, issued) in answered.iter().step_by(7) {
        let (status, again) = serve.as_ref().unwrap().post("/lgwan/v1/issuances", body);
        assert_eq!(status, 200, "{again}");
        assert_eq!(again["issuance_id"], issued["issuance_id"]);
        assert_eq!(again["documents"], issued["documents"]);
    }
    drop(serve);
    let n = (KIOSKS * REQUESTS).to_string();
    for (what, sql, expected) in [
        (
            "one issuance per request",
            "SELECT COUNT(*) FROM issuances WHERE channel = 'kiosk'",
            n.as_str(),
        ),
        (
            "no fee without its issuance",
            "SELECT COUNT(*) FROM fees f WHERE NOT EXISTS (SELECT 1 FROM issuances i WHERE i.issuance_id = f.issuance_id)",
            "0",
        ),
        (
            "no issuance without its copies",
            "SELECT COUNT(*) FROM issuances i WHERE (SELECT COUNT(*) FROM issued_copies c WHERE c.issuance_id = i.issuance_id) <> i.copies",
            "0",
        ),
        (
            "one fee per issuance",
            "SELECT COUNT(*) FROM issuances i WHERE (SELECT COUNT(*) FROM fees f WHERE f.issuance_id = i.issuance_id) <> 1",
            "0",
        ),
        (
            "one outcome per issuance",
            "SELECT COUNT(*) FROM issuances i WHERE (SELECT COUNT(*) FROM issuance_events e WHERE e.issuance_id = i.issuance_id AND e.event = 'outcome') <> 1",
            "0",
        ),
        (
            "no number twice",
            "SELECT COUNT(*) - COUNT(DISTINCT issue_number) FROM issued_copies",
            "0",
        ),
    ] {
        assert_eq!(psql(&url, sql), expected, "{what}");
    }
    let out = kofu(&["audit", "verify", "--database", &url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Posts until answered (the server may be down or restarting): a bounded number
/// of attempts, so a server that never comes back fails the test instead of
/// hanging it.
fn retry(addr: &str, path: &str, body: &Value) -> Value {
    for _ in 0..600 {
        match kofu_e2e::post(addr, path, body) {
            Ok((200, answer)) => return answer,
            // 503: timeout or busy, nothing was issued: the same request again.
            Ok((503, _)) | Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
            Ok((status, answer)) => panic!("{path} answered {status}: {answer}"),
        }
    }
    panic!("{path}: no answer after 600 attempts")
}
