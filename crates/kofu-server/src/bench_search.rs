//! `kofu bench search`: the counter's resident search, as the API answers it (the use
//! case with its audit entry), over a generated town: a fresh SQLite database and each
//! `--database` given (empty). Clerks' queries of three kinds, round robin: full name
//! in kanji, family name in kana with the date of birth, and family name alone (many
//! hits, cut at the search limit). Prints one JSON line per database with p50/p95/p99.

use std::io::{BufRead as _, BufReader};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use kofu_app::OfficeSettings;
use kofu_app::counter::ResidentSearch;
use time::OffsetDateTime;

/// One query's inputs, from a resident of the feed.
struct Person {
    family: String,
    given: String,
    family_kana: String,
    birth_date: kofu_domain::Date,
}

/// Runs the benchmark.
pub async fn run(
    residents: u64,
    searches: usize,
    database: Vec<String>,
) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let feed = dir.path().join("town.jsonl");
    crate::bench::write_town(&feed, residents, 1)?;
    let people = sample(&feed, searches)?;
    let fonts = Arc::new(
        kofu_render::FontBook::load(&kofu_render::SystemFonts::from_env())
            .context("cannot load the certificate fonts")?,
    );
    for (i, url) in crate::bench::targets(dir.path(), database)
        .into_iter()
        .enumerate()
    {
        // The clerk's lookups would pass the report's alert threshold: raise it.
        let settings = OfficeSettings {
            lookup_alert: u32::MAX,
            ..OfficeSettings::default()
        };
        let crate::bench::ClerkOffice {
            office,
            session,
            backend,
            ..
        } = crate::bench::clerk_office(&url, &feed, fonts.clone(), &format!("search{i}"), settings)
            .await?;
        let mut kinds: [Vec<f64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        let mut hits = 0usize;
        for (n, p) in people.iter().enumerate() {
            let q = match n % 3 {
                0 => ResidentSearch {
                    name: Some(format!("{} {}", p.family, p.given)),
                    ..ResidentSearch::default()
                },
                1 => ResidentSearch {
                    name: Some(p.family_kana.clone()),
                    birth_date: Some(p.birth_date),
                    ..ResidentSearch::default()
                },
                _ => ResidentSearch {
                    name: Some(p.family.clone()),
                    ..ResidentSearch::default()
                },
            };
            let started = Instant::now();
            let found = office
                .search_residents(&session, &q, OffsetDateTime::now_utc())
                .await?;
            kinds[n % 3].push(started.elapsed().as_secs_f64() * 1000.0);
            hits += found.len();
        }
        let figures = |ms: &mut Vec<f64>| {
            ms.sort_by(f64::total_cmp);
            let at = |q: f64| {
                let i = ((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len().max(1)) - 1;
                ms.get(i).map_or(0.0, |v| (v * 100.0).round() / 100.0)
            };
            serde_json::json!({"n": ms.len(), "p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99)})
        };
        let mut all: Vec<f64> = kinds.iter().flatten().copied().collect();
        println!(
            "{}",
            serde_json::json!({
                "bench": "search",
                "backend": backend,
                "residents": residents,
                "hits": hits,
                "all": figures(&mut all),
                "full_name": figures(&mut kinds[0]),
                "kana_and_birth_date": figures(&mut kinds[1]),
                "family_name_only": figures(&mut kinds[2]),
            })
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `n` residents of the feed, spread over it (every k-th).
fn sample(feed: &std::path::Path, n: usize) -> anyhow::Result<Vec<Person>> {
    let mut all = Vec::new();
    for line in BufReader::new(std::fs::File::open(feed)?).lines() {
        let line = line?;
        if !line.starts_with(r#"{"type":"resident""#) {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line)?;
        let text = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
        let Ok(birth_date) = text("birth_date").parse() else {
            continue;
        };
        all.push(Person {
            family: text("family"),
            given: text("given"),
            family_kana: text("family_kana"),
            birth_date,
        });
    }
    let step = (all.len() / n.max(1)).max(1);
    Ok(all.into_iter().step_by(step).take(n).collect())
}
