//! Import timing, run by hand (not a test):
//!
//! ```sh
//! cargo run --release -p kofu-store --example import_bench -- [URL] [RESIDENTS]
//! ```
//!
//! URL defaults to a fresh SQLite file in the temp directory (removed after); a
//! `postgres://` URL gets a fresh schema (dropped after). RESIDENTS defaults to 200,000.
//! Each resident comes with what a town has per person: 0.3 seals, 0.6 cards, 0.3 tax
//! records, and per household (2.5 persons) a 戸籍 with a 附票 per member. The records
//! are made before the clock starts; the time is `begin_import` + every `upsert` +
//! `commit`, the store's whole share of an import.

use std::error::Error;
use std::time::Instant;

use kofu_domain::koseki::FuhyoEntry;
use kofu_domain::{Fuhyo, KosekiMember, RegistryRecord, sample};
use kofu_store::Store;
use sqlx::Connection as _;

const FAMILIES: &[(&str, &str)] = &[
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("葛\u{E0102}西", "カサイ"),
    ("辻\u{E0100}", "ツジ"),
];
const GIVEN: &[(&str, &str)] = &[
    ("太郎", "タロウ"),
    ("花子", "ハナコ"),
    ("一郎", "イチロウ"),
    ("美咲", "ミサキ"),
    ("翔太", "ショウタ"),
    ("陽菜", "ヒナ"),
    ("蓮", "レン"),
    ("結衣", "ユイ"),
    ("大輔", "ダイスケ"),
    ("恵子", "ケイコ"),
    ("健一", "ケンイチ"),
];

fn town(residents: usize) -> Result<Vec<RegistryRecord>, Box<dyn Error>> {
    let mut records = vec![RegistryRecord::Municipality(sample::municipality())];
    let template = sample::head_of_household();
    let koseki_template = sample::koseki();
    let mut i = 0;
    let mut household = 0;
    while i < residents {
        // Households of 1–4 persons, 2.5 on average.
        let size = (1 + household % 4).min(residents - i);
        let (family, family_kana) = FAMILIES[household % FAMILIES.len()];
        let household_id = format!("H{household:07}");
        let koseki_id = format!("K{household:07}");
        let honseki = format!(
            "見本県見本市中央{}丁目{}番",
            household % 9 + 1,
            household % 50 + 1
        );
        let mut members = Vec::new();
        for m in 0..size {
            let (given, given_kana) = GIVEN[(i * 7 + m) % GIVEN.len()];
            let resident_id = format!("{:011}", 10_000_000 + i);
            let mut r = template.clone();
            r.resident_id = resident_id.clone();
            r.household_id = household_id.clone();
            r.family = family.into();
            r.given = given.into();
            r.family_kana = family_kana.into();
            r.given_kana = given_kana.into();
            r.relationship = if m == 0 { "世帯主" } else { "子" }.into();
            r.address = format!("{honseki}{}号", i % 30 + 1);
            r.honseki = Some(honseki.clone());
            r.my_number = None;
            records.push(RegistryRecord::Resident(r));
            let mut member: KosekiMember = koseki_template.members[m % 3].clone();
            member.member_no = u32::try_from(m + 1)?;
            member.family = family.into();
            member.given = given.into();
            member.resident_id = Some(resident_id.clone());
            members.push(member);
            records.push(RegistryRecord::Fuhyo(Fuhyo {
                koseki_id: koseki_id.clone(),
                member_no: u32::try_from(m + 1)?,
                entries: vec![FuhyoEntry {
                    address: format!("{honseki}{}号", i % 30 + 1),
                    from: template.address_since,
                }],
            }));
            if i % 10 < 3 {
                let mut seal = sample::seal();
                seal.resident_id = resident_id.clone();
                seal.registration_no = format!("S-{i:08}");
                records.push(RegistryRecord::Seal(seal));
                let mut tax = sample::tax();
                tax.resident_id = resident_id.clone();
                records.push(RegistryRecord::Tax(tax));
            }
            if i % 10 < 6 {
                let mut card = sample::card();
                card.resident_id = resident_id.clone();
                card.auth_serial = format!("{:010X}", 0x10_0000_0000_u64 + i as u64);
                records.push(RegistryRecord::Card(card));
            }
            i += 1;
        }
        let mut koseki = koseki_template.clone();
        koseki.koseki_id = koseki_id;
        koseki.honseki = honseki;
        koseki.hitto = format!("{family} {}", members[0].given);
        koseki.members = members;
        records.push(RegistryRecord::Koseki(koseki));
        household += 1;
    }
    Ok(records)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().filter(|u| !u.is_empty());
    let residents: usize = match args.next() {
        Some(n) => n.parse()?,
        None => 200_000,
    };

    let started = Instant::now();
    let records = town(residents)?;
    eprintln!(
        "made {} records for {residents} residents in {:.1} s",
        records.len(),
        started.elapsed().as_secs_f64()
    );

    let temp = std::env::temp_dir().join(format!("kofu-import-bench-{}", std::process::id()));
    let mut pg_schema = None;
    let url = match url {
        None => {
            std::fs::create_dir_all(&temp)?;
            format!("sqlite:{}", temp.join("bench.db").display())
        }
        Some(url) if url.starts_with("postgres") => {
            let schema = format!("bench_{}", std::process::id());
            let mut admin = sqlx::PgConnection::connect(&url).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&mut admin)
                .await?;
            let sep = if url.contains('?') { '&' } else { '?' };
            let with_schema = format!("{url}{sep}options=-c%20search_path%3D{schema}");
            pg_schema = Some((url, schema));
            with_schema
        }
        Some(url) => url,
    };

    // What the store's encoding alone costs: JSON of every record, search keys of every
    // resident (no database).
    let started = Instant::now();
    let mut bytes = std::collections::BTreeMap::<&str, (usize, usize)>::new();
    for record in &records {
        let size = match record {
            RegistryRecord::Resident(r) => {
                serde_json::to_string(r)?.len() + r.name_key().len() + r.reading_key().len()
            }
            other => serde_json::to_string(other)?.len(),
        };
        let entry = bytes.entry(record.type_name()).or_default();
        entry.0 += 1;
        entry.1 += size;
    }
    let total: usize = bytes.values().map(|(_, b)| b).sum();
    eprintln!(
        "encoding alone: {:.2} s ({} MB of JSON)",
        started.elapsed().as_secs_f64(),
        total / 1_000_000
    );
    for (kind, (n, b)) in &bytes {
        eprintln!("  {kind:>12}: {n:>8} records, {:>5} bytes each", b / n);
    }

    let store = Store::open(&url).await?;
    let started = Instant::now();
    let mut tx = store.begin_import().await?;
    for record in &records {
        tx.upsert(record).await?;
    }
    tx.commit().await?;
    let seconds = started.elapsed().as_secs_f64();
    let stats = store.stats().await?;
    println!(
        "{:?}: {residents} residents, {} records in {seconds:.2} s: {:.0} residents/s, {:.0} records/s",
        store.backend(),
        records.len(),
        residents as f64 / seconds,
        records.len() as f64 / seconds
    );
    println!("{}", serde_json::to_string(&stats)?);
    store.close().await;

    if let Some((admin_url, schema)) = pg_schema {
        let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
            .execute(&mut admin)
            .await?;
    }
    let _ = std::fs::remove_dir_all(&temp);
    Ok(())
}
