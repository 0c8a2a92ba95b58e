//! kofu-demo: the demo town generator.
//!
//! [`write_town`] writes a deterministic, realistic town (見本市) in the registry feed
//! format (JSON Lines, one [`RegistryRecord`] per line): the municipality, then
//! household after household with residents, seals, cards, 戸籍 and 附票, tax records,
//! support measures and suppressions. The same seed and size give the same bytes on
//! every machine (the generator uses its own SplitMix64 stream, no clock, no hash
//! order). Generation streams: memory does not grow with the number of residents.

mod address;
mod dates;
mod household;
mod names;
mod png;
mod rng;
mod tax;
mod town;

use std::io::Write;

use kofu_domain::Date;
pub use kofu_domain::records::RegistryRecord;

pub use town::TownRecords;

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TownConfig {
    /// Number of resident records (every status counted), exactly.
    pub residents: u64,
    /// The seed: same seed and size, same bytes.
    pub seed: u64,
    /// The day the data describes ("today" for ages, dates and statuses).
    pub as_of: Date,
}

impl TownConfig {
    /// `residents` residents from `seed`, as of [`TownConfig::DEFAULT_AS_OF`].
    pub fn new(residents: u64, seed: u64) -> Self {
        TownConfig {
            residents,
            seed,
            as_of: Self::default_as_of(),
        }
    }

    /// The default "today" of the data: 2026-05-01 (`2026-05-01`).
    pub const DEFAULT_AS_OF: &'static str = "2026-05-01";

    fn default_as_of() -> Date {
        Date::from_ymd(2026, 5, 1).unwrap_or_else(|| unreachable!("2026-05-01 is a date"))
    }
}

/// Counts of what a town holds: records per type and a few facts about residents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TownSummary {
    /// `municipality` records (1).
    pub municipality: u64,
    /// `resident` records.
    pub residents: u64,
    /// `seal` records.
    pub seals: u64,
    /// `card` records.
    pub cards: u64,
    /// `koseki` records.
    pub koseki: u64,
    /// `fuhyo` records.
    pub fuhyo: u64,
    /// `tax` records.
    pub tax: u64,
    /// `support_measure` records.
    pub support_measures: u64,
    /// `suppression` records.
    pub suppressions: u64,
    /// Households.
    pub households: u64,
    /// Foreign residents.
    pub foreign_residents: u64,
    /// Residents whose name (or 旧氏) holds an Ideographic Variation Sequence.
    pub ivs_names: u64,
    /// Households with an address of 60 characters or more.
    pub long_addresses: u64,
    /// Residents who moved out (転出).
    pub moved_out: u64,
    /// Residents who notified a move-out not yet done (転出予定).
    pub moving_out: u64,
    /// Deceased residents.
    pub deceased: u64,
    /// Residents under 15.
    pub minors: u64,
    /// Bytes written (set by [`write_town`]).
    pub bytes: u64,
}

impl TownSummary {
    /// All records.
    pub fn records(&self) -> u64 {
        self.municipality
            + self.residents
            + self.seals
            + self.cards
            + self.koseki
            + self.fuhyo
            + self.tax
            + self.support_measures
            + self.suppressions
    }

    /// Adds another part's counts to these.
    fn add(&mut self, o: &TownSummary) {
        self.municipality += o.municipality;
        self.residents += o.residents;
        self.seals += o.seals;
        self.cards += o.cards;
        self.koseki += o.koseki;
        self.fuhyo += o.fuhyo;
        self.tax += o.tax;
        self.support_measures += o.support_measures;
        self.suppressions += o.suppressions;
        self.households += o.households;
        self.foreign_residents += o.foreign_residents;
        self.ivs_names += o.ivs_names;
        self.long_addresses += o.long_addresses;
        self.moved_out += o.moved_out;
        self.moving_out += o.moving_out;
        self.deceased += o.deceased;
        self.minors += o.minors;
        self.bytes += o.bytes;
    }

    /// The record count for a feed type name (`resident`, `seal`, …).
    pub fn count(&self, type_name: &str) -> u64 {
        match type_name {
            "municipality" => self.municipality,
            "resident" => self.residents,
            "seal" => self.seals,
            "card" => self.cards,
            "koseki" => self.koseki,
            "fuhyo" => self.fuhyo,
            "tax" => self.tax,
            "support_measure" => self.support_measures,
            "suppression" => self.suppressions,
            _ => 0,
        }
    }
}

/// Why a town could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// Writing to the output failed.
    #[error("writing the demo town: {0}")]
    Io(#[from] std::io::Error),
    /// A record could not be serialized.
    #[error("serializing a record: {0}")]
    Json(#[from] serde_json::Error),
}

/// The records of a town, streamed (see [`TownRecords`]).
pub fn town_records(config: &TownConfig) -> TownRecords {
    TownRecords::new(config)
}

/// Households generated and serialized as one unit of work.
const BATCH_HOUSEHOLDS: usize = 256;
/// Serialized batches each worker may have waiting for the writer (bounds memory).
const BATCHES_IN_FLIGHT: usize = 2;

/// A serialized batch of households and its counts.
type Batch = (Vec<u8>, TownSummary);

/// Writes the town as JSON Lines to `out` (buffered internally) and returns its counts.
///
/// Households are generated and serialized in batches by worker threads (as many as
/// the machine has cores, up to 8) and written here in order, so the bytes are those
/// of a single-threaded run ([`TownRecords`]) and memory stays bounded: each worker
/// holds at most a few batches of 256 households.
pub fn write_town(config: &TownConfig, out: &mut impl Write) -> Result<TownSummary, DemoError> {
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(1, 8);
    let town = town::Town::new(config);
    let mut w = CountingWriter {
        inner: std::io::BufWriter::with_capacity(1 << 17, out),
        bytes: 0,
    };
    let mut summary = TownSummary::default();
    let mut line = Vec::with_capacity(4 << 10);
    serde_json::to_writer(&mut line, &town::municipality(&mut summary))?;
    line.push(b'\n');
    w.write_all(&line)?;

    std::thread::scope(|scope| -> Result<(), DemoError> {
        let mut receivers = Vec::with_capacity(workers);
        for worker in 0..workers {
            let (tx, rx) =
                std::sync::mpsc::sync_channel::<Result<Batch, DemoError>>(BATCHES_IN_FLIGHT);
            receivers.push(rx);
            let town = &town;
            scope.spawn(move || {
                let mut households = town::Households::new(config);
                let mut records = std::collections::VecDeque::new();
                for batch_no in 0.. {
                    let batch: Vec<(u64, u64)> =
                        households.by_ref().take(BATCH_HOUSEHOLDS).collect();
                    if batch.is_empty() {
                        break;
                    }
                    if batch_no % workers != worker {
                        continue;
                    }
                    let mut counts = TownSummary::default();
                    let mut bytes = Vec::with_capacity(1 << 20);
                    let mut result = Ok(());
                    for (household_no, size) in batch {
                        town.household(household_no, size, &mut records, &mut counts);
                        for record in records.drain(..) {
                            if result.is_ok() {
                                result = serde_json::to_writer(&mut bytes, &record);
                                bytes.push(b'\n');
                            }
                        }
                    }
                    let message = result.map(|()| (bytes, counts)).map_err(DemoError::from);
                    if tx.send(message).is_err() {
                        // The writer stopped: it reports why.
                        return;
                    }
                }
            });
        }
        // Batches arrive round-robin from the workers; the first missing one ends the town.
        for batch_no in 0.. {
            let Ok(message) = receivers[batch_no % workers].recv() else {
                break;
            };
            let (bytes, counts) = message?;
            w.write_all(&bytes)?;
            summary.add(&counts);
        }
        Ok(())
    })?;
    w.flush()?;
    summary.bytes = w.bytes;
    Ok(summary)
}

struct CountingWriter<W: Write> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
