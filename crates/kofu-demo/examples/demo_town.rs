//! Writes a demo town and reports its counts and the time taken:
//! `cargo run --release -p kofu-demo --example demo_town -- RESIDENTS SEED OUT` (`-` as OUT: no file;
//! `--generate-only`: no serialization either).

use std::time::Instant;

use kofu_demo::{TownConfig, write_town};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let residents: u64 = args.next().as_deref().unwrap_or("1000000").parse()?;
    let seed: u64 = args.next().as_deref().unwrap_or("1").parse()?;
    let out = args.next().unwrap_or_else(|| "demo-town.jsonl".to_owned());
    let start = Instant::now();
    let summary = if out == "--generate-only" {
        // Generation alone, no serialization.
        let mut records = kofu_demo::TownRecords::new(&TownConfig::new(residents, seed));
        for r in records.by_ref() {
            std::hint::black_box(r);
        }
        *records.summary()
    } else if out == "-" {
        // Generation and serialization only, no disk.
        write_town(&TownConfig::new(residents, seed), &mut std::io::sink())?
    } else {
        let mut file = std::fs::File::create(&out)?;
        let summary = write_town(&TownConfig::new(residents, seed), &mut file)?;
        file.sync_all()?;
        summary
    };
    let elapsed = start.elapsed();
    println!("{summary:#?}");
    println!(
        "{residents} residents, {} records, {:.1} MB to {out} in {:.2} s",
        summary.records(),
        summary.bytes as f64 / 1e6,
        elapsed.as_secs_f64()
    );
    Ok(())
}
