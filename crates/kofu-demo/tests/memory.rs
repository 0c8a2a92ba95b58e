//! Streaming: generating a town holds one household at a time, so peak memory does not
//! grow with the number of residents. Alone in its own test binary so that no other
//! test's allocations disturb the process's peak RSS.

use kofu_demo::{TownConfig, TownRecords, write_town};

/// Peak resident set size of this process (VmHWM), kB; `None` off Linux.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn peak_memory_does_not_grow_with_the_town() {
    // Warm up: allocator arenas, seal images, serializer buffers.
    write_town(&TownConfig::new(5_000, 1), &mut std::io::sink()).expect("writes");
    let Some(before) = peak_rss_kb() else {
        return;
    };
    let summary = write_town(&TownConfig::new(200_000, 1), &mut std::io::sink()).expect("writes");
    assert_eq!(summary.residents, 200_000);
    assert!(
        summary.bytes > 300_000_000,
        "{} bytes streamed",
        summary.bytes
    );
    let after = peak_rss_kb().expect("still readable");
    let growth_mb = (after.saturating_sub(before)) as f64 / 1024.0;
    assert!(
        growth_mb < 16.0,
        "peak RSS grew by {growth_mb:.1} MB while streaming 200,000 residents"
    );
}

#[test]
fn at_most_one_household_is_buffered() {
    let mut records = TownRecords::new(&TownConfig::new(50_000, 9));
    let mut max_buffered = 0;
    let mut n = 0u64;
    while records.next().is_some() {
        max_buffered = max_buffered.max(records.buffered());
        n += 1;
    }
    assert_eq!(n, records.summary().records());
    // The biggest household (12 persons) with every record kind stays well under 100.
    assert!(max_buffered < 100, "{max_buffered} records buffered");
}
