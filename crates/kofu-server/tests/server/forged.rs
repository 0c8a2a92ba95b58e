//! The forged-upload suite: a terminal's upload is re-derived, not trusted. Each case
//! alters one field of one row of a genuine upload (a fee, an issuance, a copy, a void
//! and its reversal) and then re-notarises the whole chain, as whoever holds the
//! terminal's key could: the chain links and every row matches its digest, so only
//! the server's own derivation can catch it. Each forgery is refused whole with the
//! reason named, and changes nothing; the genuine upload is then accepted.
//!
//! Fields the server cannot re-derive are the terminal's record of what it did and
//! move no money, number or right: the request's ID and digest, the request's items
//! (identity documents seen), the PDF's sha256, the subject. They are notarised by the
//! chain and signed by the terminal, and reviewed by the supervisor (offline flags).

use super::*;
use kofu_store::Cell;

/// Re-notarises `batch` after its rows changed: each entry's records take the new
/// keys and digests of the rows (found by their old key), and the chain is re-linked
/// from its first entry, as a forger holding the terminal's key would.
fn renotarise(
    batch: &mut kofu_app::offline::SyncBatch,
    before: &[(String, String)],
    removed: &[(String, String)],
) {
    let tables = [
        &kofu_store::ledger::ISSUANCES,
        &kofu_store::ledger::ISSUED_COPIES,
        &kofu_store::ledger::ISSUANCE_EVENTS,
        &kofu_store::ledger::FEES,
    ];
    // old key → (new key, new digest), or gone.
    let mut now: std::collections::HashMap<String, Option<(String, String)>> = removed
        .iter()
        .map(|(table, key)| (format!("{table}\u{0}{key}"), None))
        .collect();
    for (i, row) in batch.rows.iter().enumerate() {
        let table = tables.iter().find(|t| t.name == row.table).unwrap();
        let (old_table, old_key) = &before[i];
        now.insert(
            format!("{old_table}\u{0}{old_key}"),
            Some((table.key_of(&row.cells), table.digest_of(&row.cells))),
        );
    }
    let mut prev: Option<String> = None;
    for entry in &mut batch.entries {
        // The chain's own shape: `key` before `digest`.
        #[derive(serde::Serialize)]
        struct Record {
            key: String,
            digest: String,
        }
        let records: Vec<Value> = serde_json::from_str(&entry.records).unwrap();
        let records: Vec<Record> = records
            .into_iter()
            .filter_map(|r| {
                let key = r["key"].as_str().unwrap().to_owned();
                let table = key.split('/').next().unwrap().to_owned();
                match now.get(&format!("{table}\u{0}{key}")) {
                    Some(Some((k, d))) => Some(Record {
                        key: k.clone(),
                        digest: d.clone(),
                    }),
                    Some(None) => None,
                    None => Some(Record {
                        digest: r["digest"].as_str().unwrap().to_owned(),
                        key,
                    }),
                }
            })
            .collect();
        entry.records = serde_json::to_string(&records).unwrap();
        if let Some(p) = prev {
            entry.prev_hash = p;
        }
        entry.hash = entry.computed_hash();
        prev = Some(entry.hash.clone());
    }
}

/// One forgery: which row (table and a predicate on its cells), which column, what.
struct Forgery {
    name: &'static str,
    table: &'static str,
    pick: fn(&[Cell], &Ctx) -> bool,
    forge: fn(&mut Vec<Cell>, &Ctx),
    /// A fragment of the refusal's message.
    refused_for: &'static str,
}

/// What the cases refer to.
struct Ctx {
    kept: String,
    voided: String,
    online: String,
    clerk: String,
    gone: String,
    admin: String,
}

fn text(cells: &[Cell], i: usize) -> String {
    match cells.get(i) {
        Some(Cell::Text(t)) => t.clone(),
        _ => String::new(),
    }
}

fn int(cells: &[Cell], i: usize) -> i64 {
    match cells.get(i) {
        Some(Cell::Int(n)) => *n,
        _ => 0,
    }
}

fn is_reversal(cells: &[Cell]) -> bool {
    text(cells, 6).starts_with("void: ")
}

fn forgeries() -> Vec<Forgery> {
    let kept_issuance = |c: &[Cell], x: &Ctx| text(c, 0) == x.kept;
    let kept_copy = |c: &[Cell], x: &Ctx| text(c, 0) == x.kept;
    let kept_fee = |c: &[Cell], x: &Ctx| text(c, 1) == x.kept;
    let reversal = |c: &[Cell], x: &Ctx| text(c, 1) == x.voided && is_reversal(c);
    let void = |c: &[Cell], x: &Ctx| text(c, 1) == x.voided && text(c, 2) == "void";
    let print = |c: &[Cell], x: &Ctx| text(c, 1) == x.kept && text(c, 2) == "print";
    vec![
        // 交付履歴
        Forgery {
            name: "issuance.channel",
            table: "issuances",
            pick: kept_issuance,
            forge: |c, _| c[3] = Cell::Text("kiosk".into()),
            refused_for: "counter one",
        },
        Forgery {
            name: "issuance.point",
            table: "issuances",
            pick: kept_issuance,
            forge: |c, _| c[4] = Cell::Text("支所2/P001".into()),
            refused_for: "not at 本庁1",
        },
        Forgery {
            name: "issuance.staff (unknown)",
            table: "issuances",
            pick: kept_issuance,
            forge: |c, _| c[5] = Cell::Text("nobody".into()),
            refused_for: "no member of staff",
        },
        Forgery {
            name: "issuance.staff (deactivated)",
            table: "issuances",
            pick: kept_issuance,
            forge: |c, x| c[5] = Cell::Text(x.gone.clone()),
            refused_for: "was deactivated",
        },
        Forgery {
            name: "issuance.staff (admin)",
            table: "issuances",
            pick: kept_issuance,
            forge: |c, x| c[5] = Cell::Text(x.admin.clone()),
            refused_for: "may not work offline",
        },
        Forgery {
            name: "issuance.applicant (公用, no fee)",
            table: "issuances",
            pick: kept_issuance,
            forge: |c, _| c[6] = Cell::Text(r#"{"type":"official","office":"警察署"}"#.into()),
            refused_for: "the schedule asks [0]",
        },
        Forgery {
            name: "issuance.kind",
            table: "issuances",
            pick: kept_issuance,
            forge: |c, _| c[8] = Cell::Text("no_such_kind".into()),
            refused_for: "no certificate kind",
        },
        Forgery {
            name: "issuance.copies",
            table: "issuances",
            pick: kept_issuance,
            forge: |c, _| c[10] = Cell::Int(2),
            refused_for: "not 1 to 2",
        },
        Forgery {
            name: "issuance.pages",
            table: "issuances",
            pick: kept_issuance,
            forge: |c, _| c[11] = Cell::Int(int(c, 11) + 1),
            refused_for: "pages",
        },
        Forgery {
            name: "issuance.fee_yen",
            table: "issuances",
            pick: kept_issuance,
            forge: |c, _| c[12] = Cell::Int(0),
            refused_for: "a fee of 0 yen",
        },
        Forgery {
            name: "issuance.issued_at (before the range)",
            table: "issuances",
            pick: kept_issuance,
            forge: |c, _| c[13] = Cell::Text("2020-01-01T00:00:00Z".into()),
            refused_for: "2020",
        },
        Forgery {
            name: "issuance.issued_at (in the future)",
            table: "issuances",
            pick: kept_issuance,
            forge: |c, _| c[13] = Cell::Text("2099-01-01T00:00:00Z".into()),
            refused_for: "2099",
        },
        Forgery {
            name: "issuance.issuance_id",
            table: "issuances",
            pick: kept_issuance,
            forge: |c, _| c[0] = Cell::Text("00000000-0000-4000-8000-00000000f0f0".into()),
            refused_for: "issuance",
        },
        // 発行番号
        Forgery {
            name: "copy.issuance_id",
            table: "issued_copies",
            pick: kept_copy,
            forge: |c, x| c[0] = Cell::Text(x.voided.clone()),
            refused_for: "copies",
        },
        Forgery {
            name: "copy.copy",
            table: "issued_copies",
            pick: kept_copy,
            forge: |c, _| c[1] = Cell::Int(2),
            refused_for: "not 1 to 1",
        },
        Forgery {
            name: "copy.issue_number",
            table: "issued_copies",
            pick: kept_copy,
            forge: |c, _| {
                let n = text(c, 2);
                let (head, _) = n.rsplit_once(' ').unwrap();
                c[2] = Cell::Text(format!("{head} 000001"));
            },
            refused_for: "outside the ranges",
        },
        Forgery {
            name: "copy.pages",
            table: "issued_copies",
            pick: kept_copy,
            forge: |c, _| c[3] = Cell::Int(int(c, 3) + 1),
            refused_for: "pages",
        },
        // 手数料
        Forgery {
            name: "fee.issuance_id",
            table: "fees",
            pick: kept_fee,
            forge: |c, x| c[1] = Cell::Text(x.voided.clone()),
            refused_for: "taken once",
        },
        Forgery {
            name: "fee.kind",
            table: "fees",
            pick: kept_fee,
            forge: |c, _| c[2] = Cell::Text("inkan".into()),
            refused_for: "kind or channel",
        },
        Forgery {
            name: "fee.channel",
            table: "fees",
            pick: kept_fee,
            forge: |c, _| c[3] = Cell::Text("kiosk".into()),
            refused_for: "kind or channel",
        },
        Forgery {
            name: "fee.amount_yen",
            table: "fees",
            pick: kept_fee,
            forge: |c, _| c[4] = Cell::Int(100),
            refused_for: "100 yen",
        },
        Forgery {
            name: "fee.method (exempt)",
            table: "fees",
            pick: kept_fee,
            forge: |c, _| c[5] = Cell::Text("exempt".into()),
            refused_for: "\"exempt\"",
        },
        Forgery {
            name: "fee.method (unknown)",
            table: "fees",
            pick: kept_fee,
            forge: |c, _| c[5] = Cell::Text("voucher".into()),
            refused_for: "\"voucher\"",
        },
        Forgery {
            name: "fee.exemption",
            table: "fees",
            pick: kept_fee,
            forge: |c, _| c[6] = Cell::Text("公用: 警察署".into()),
            refused_for: "yen by \"cash\"",
        },
        Forgery {
            name: "fee.receipt_no",
            table: "fees",
            pick: kept_fee,
            forge: |c, _| c[7] = Cell::Text("2026-05-07-支所2-0001".into()),
            refused_for: "receipt",
        },
        Forgery {
            name: "fee.staff",
            table: "fees",
            pick: kept_fee,
            forge: |c, x| c[8] = Cell::Text(x.clerk.clone()),
            refused_for: "someone else",
        },
        // 取消しの戻し
        Forgery {
            name: "reversal.amount_yen",
            table: "fees",
            pick: reversal,
            forge: |c, _| c[4] = Cell::Int(-1),
            refused_for: "a reversal of -1 yen",
        },
        Forgery {
            name: "reversal.method",
            table: "fees",
            pick: reversal,
            forge: |c, _| c[5] = Cell::Text("cashless".into()),
            refused_for: "by cashless",
        },
        Forgery {
            name: "reversal.staff",
            table: "fees",
            pick: reversal,
            forge: |c, x| c[8] = Cell::Text(x.clerk.clone()),
            refused_for: "a reversal",
        },
        Forgery {
            name: "reversal.exemption (a second fee)",
            table: "fees",
            pick: reversal,
            forge: |c, _| c[6] = Cell::Null,
            refused_for: "taken once",
        },
        // 処分 (void)
        Forgery {
            name: "void.issuance_id (an online issuance)",
            table: "issuance_events",
            pick: void,
            forge: |c, x| c[1] = Cell::Text(x.online.clone()),
            refused_for: "not one this terminal issued offline",
        },
        Forgery {
            name: "void.event",
            table: "issuance_events",
            pick: void,
            forge: |c, _| c[2] = Cell::Text("outcome".into()),
            refused_for: "not an offline event",
        },
        Forgery {
            name: "void.detail",
            table: "issuance_events",
            pick: void,
            forge: |c, _| c[3] = Cell::Text(r#"{"reason":" "}"#.into()),
            refused_for: "needs its reason",
        },
        Forgery {
            name: "void.staff",
            table: "issuance_events",
            pick: void,
            forge: |c, x| c[4] = Cell::Text(x.clerk.clone()),
            refused_for: "may not VoidIssuance",
        },
        // 印刷結果 (print outcome)
        Forgery {
            name: "print.issuance_id (an online issuance)",
            table: "issuance_events",
            pick: print,
            forge: |c, x| c[1] = Cell::Text(x.online.clone()),
            refused_for: "not one this terminal issued offline",
        },
        Forgery {
            name: "print.detail",
            table: "issuance_events",
            pick: print,
            forge: |c, _| c[3] = Cell::Text(r#"{"copy":1,"outcome":"maybe"}"#.into()),
            refused_for: "printed or failed",
        },
        Forgery {
            name: "print.staff",
            table: "issuance_events",
            pick: print,
            forge: |c, x| c[4] = Cell::Text(x.admin.clone()),
            refused_for: "may not work offline",
        },
        Forgery {
            name: "void.at",
            table: "issuance_events",
            pick: void,
            forge: |c, _| c[5] = Cell::Text("2020-01-01T00:00:00Z".into()),
            refused_for: "did not exist yet",
        },
    ]
}

pub(crate) async fn offline_uploads_are_rederived_and_every_forgery_is_refused(db: Db) {
    use kofu_app::staff::Role;
    let boss = enrol(&db, "forge-boss", Role::Supervisor).await;
    let clerk = enrol(&db, "forge-clerk", Role::Clerk).await;
    let gone = enrol(&db, "forge-gone", Role::Clerk).await;
    let admin = enrol(&db, "forge-admin", Role::Admin).await;
    let c = Counter::new(&db).await;
    let token = logged_in(&c, &boss).await;
    // An online issuance the terminal has nothing to do with.
    let (status, online) = c
        .call(
            "POST",
            "/counter/v1/issuances",
            Some(&token),
            Some(&counter_issue_body(
                "00000000043",
                json!({"type": "person"}),
                1,
            )),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{online}");
    let t = offline_terminal(&db, &c, &token, kofu_app::offline::OfflineLimits::default()).await;
    let admin_token = logged_in(&c, &admin).await;
    let (status, answer) = c
        .call(
            "POST",
            &format!("/counter/v1/staff/{}/deactivate", gone.login),
            Some(&admin_token),
            Some(&json!({"reason": "退職"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");

    // Offline: the supervisor issues two, and voids the second.
    let (status, body) = t.router.login(&boss, PASSWORD, 1).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let local = body["token"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for resident in ["00000000019", "00000000043"] {
        let body = counter_issue_body(resident, json!({"type": "person"}), 1);
        let (status, issued) = t
            .router
            .call("POST", "/counter/v1/issuances", Some(&local), Some(&body))
            .await;
        assert_eq!(status, StatusCode::OK, "{issued}");
        ids.push(issued["issuance_id"].as_str().unwrap().to_owned());
    }
    let (status, voided) = t
        .router
        .call(
            "POST",
            &format!("/counter/v1/issuances/{}/voids", ids[1]),
            Some(&local),
            Some(&json!({"reason": "記載誤り"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{voided}");

    // The first issuance's copy went to the printer: its outcome is recorded offline.
    let (status, answer) = t
        .router
        .call(
            "POST",
            &format!("/counter/v1/issuances/{}/print-outcomes", ids[0]),
            Some(&local),
            Some(&json!({"copy": 1, "outcome": "printed", "queue": "kofu-test", "job": "7"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");

    let genuine = kofu_app::offline::sync_batch(&t.store, "本庁1", 500)
        .await
        .unwrap();
    let ctx = Ctx {
        kept: ids[0].clone(),
        voided: ids[1].clone(),
        online: online["issuance_id"].as_str().unwrap().to_owned(),
        clerk: clerk.login.clone(),
        gone: gone.login.clone(),
        admin: admin.login.clone(),
    };
    let tables = [
        &kofu_store::ledger::ISSUANCES,
        &kofu_store::ledger::ISSUED_COPIES,
        &kofu_store::ledger::ISSUANCE_EVENTS,
        &kofu_store::ledger::FEES,
    ];
    let keys: Vec<(String, String)> = genuine
        .rows
        .iter()
        .map(|r| {
            let table = tables.iter().find(|t| t.name == r.table).unwrap();
            (r.table.clone(), table.key_of(&r.cells))
        })
        .collect();
    let state = async || {
        (
            db.count("issuances").await,
            db.count("fees").await,
            db.count("issued_copies").await,
            db.count("audit").await,
        )
    };

    // The terminal's signed upload of a batch.
    let upload = async |batch: &kofu_app::offline::SyncBatch| {
        let body = serde_json::to_value(batch).unwrap();
        c.call_signed(
            &t.id,
            "POST",
            "/counter/v1/offline/sync",
            &token,
            Some(&body),
        )
        .await
    };
    let mut failures = Vec::new();
    let mut cases = forgeries();
    cases.push(Forgery {
        name: "a fee left out",
        table: "fees",
        pick: |c, x| text(c, 1) == x.kept,
        forge: |_, _| {},
        refused_for: "has no fee",
    });
    for case in &cases {
        let mut forged = genuine.clone();
        let at = forged
            .rows
            .iter()
            .position(|r| r.table == case.table && (case.pick)(&r.cells, &ctx))
            .unwrap_or_else(|| panic!("{}: no row to forge", case.name));
        let mut before = keys.clone();
        let mut removed = Vec::new();
        if case.name == "a fee left out" {
            forged.rows.remove(at);
            removed.push(before.remove(at));
        } else {
            (case.forge)(&mut forged.rows[at].cells, &ctx);
            assert_ne!(
                forged.rows[at], genuine.rows[at],
                "{}: nothing forged",
                case.name
            );
        }
        renotarise(&mut forged, &before, &removed);
        let was = state().await;
        let (status, answer) = upload(&forged).await;
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        if status != StatusCode::UNPROCESSABLE_ENTITY
            || answer["error"]["code"] != "sync_rejected"
            || !message.contains(case.refused_for)
        {
            failures.push(format!("{}: {status} {answer}", case.name));
        }
        if state().await != was {
            failures.push(format!(
                "{}: the refused upload changed something",
                case.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} forgeries not refused as expected:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    // The re-notarising itself forges nothing: the genuine batch, re-notarised, lands.
    let mut genuine_again = genuine.clone();
    renotarise(&mut genuine_again, &keys, &[]);
    assert_eq!(genuine_again, genuine);
    let (status, receipt) = upload(&genuine).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt["issuances"], 2, "{receipt}");
    let verdict = db.store.verify_audit().await.unwrap();
    assert!(verdict.problems.is_empty(), "{:?}", verdict.problems);
}
