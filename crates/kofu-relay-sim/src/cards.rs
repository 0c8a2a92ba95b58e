//! The center's cards: which 利用者証明用電子証明書 serials exist, their PINs and
//! whether they are revoked, and the PIN-failure count that locks a card after three
//! wrong PINs. The center refuses a revoked or locked card itself, before the town is
//! asked, as the real center does.
//!
//! The card file is UTF-8 text, one card per line: `SERIAL<TAB>PIN<TAB>STATUS`, where
//! STATUS is `active` or `revoked`; blank lines and lines starting with `#` are
//! ignored.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use sha2::{Digest as _, Sha256};

use crate::SimError;

/// Wrong PINs after which a card is locked.
pub const PIN_ATTEMPTS: u32 = 3;

/// One card as the center knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Card {
    /// The certificate serial (hex), as sent to the town.
    pub serial: String,
    /// The 4-digit PIN.
    pub pin: String,
    /// Revoked (失効): refused before the town is asked.
    pub revoked: bool,
}

/// Why the center itself refuses a card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardRefusal {
    /// No such card.
    Unknown,
    /// The certificate is revoked.
    Revoked,
    /// Wrong PIN; this many attempts remain before the lock.
    WrongPin {
        /// Attempts left.
        remaining: u32,
    },
    /// Locked after three wrong PINs.
    Locked,
}

impl CardRefusal {
    /// A stable code for reports.
    pub fn code(self) -> &'static str {
        match self {
            CardRefusal::Unknown => "card_unknown_to_center",
            CardRefusal::Revoked => "card_revoked",
            CardRefusal::WrongPin { .. } => "wrong_pin",
            CardRefusal::Locked => "card_locked",
        }
    }
}

/// Parses a card file's text; every bad line is an error naming line and field.
pub fn parse_card_file(path: &str, text: &str) -> Result<Vec<Card>, SimError> {
    let mut cards = Vec::new();
    let bad = |line: usize, field: &'static str, reason: String| SimError::CardFile {
        path: path.to_owned(),
        line,
        field,
        reason,
    };
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = l.split('\t').collect();
        if cols.len() != 3 {
            return Err(bad(
                line,
                "line",
                format!(
                    "expected SERIAL<TAB>PIN<TAB>STATUS, found {} column(s)",
                    cols.len()
                ),
            ));
        }
        let serial = cols[0];
        if serial.is_empty() || !serial.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(
                line,
                "serial",
                format!("{serial:?} is not hexadecimal"),
            ));
        }
        let pin = cols[1];
        if pin.len() != 4 || !pin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(line, "pin", "a PIN is 4 digits".into()));
        }
        let revoked = match cols[2] {
            "active" => false,
            "revoked" => true,
            other => {
                return Err(bad(
                    line,
                    "status",
                    format!("{other:?} is neither active nor revoked"),
                ));
            }
        };
        cards.push(Card {
            serial: serial.to_owned(),
            pin: pin.to_owned(),
            revoked,
        });
    }
    Ok(cards)
}

/// Reads a card file.
pub fn read_card_file(path: &Path) -> Result<Vec<Card>, SimError> {
    let text = std::fs::read_to_string(path).map_err(|e| SimError::io(path, e))?;
    parse_card_file(&path.display().to_string(), &text)
}

/// The PIN the simulator gives a card: 4 digits derived from its serial, so that a
/// card file made twice from one feed is the same.
pub fn pin_for(serial: &str) -> String {
    let d = Sha256::digest(serial.as_bytes());
    let n = u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % 10_000;
    format!("{n:04}")
}

/// A card file for the cards of a registry feed (`{"type":"card",…}` lines), with
/// PINs from [`pin_for`]; the feed's `status` decides active or revoked.
pub fn card_file_from_feed(feed: &str) -> String {
    let mut out = String::from("# serial\tpin\tstatus (made from a registry feed)\n");
    for line in feed.lines().filter(|l| l.contains("\"auth_serial\"")) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let (Some(serial), Some(status)) = (v["auth_serial"].as_str(), v["status"].as_str()) else {
            continue;
        };
        if v["type"] != "card" {
            continue;
        }
        let status = if status == "active" {
            "active"
        } else {
            "revoked"
        };
        out.push_str(&format!("{serial}\t{}\t{status}\n", pin_for(serial)));
    }
    out
}

/// The center's view of its cards, with the PIN failures counted across sessions.
#[derive(Debug)]
pub struct CardRegistry {
    cards: BTreeMap<String, Card>,
    failures: Mutex<BTreeMap<String, u32>>,
}

impl CardRegistry {
    /// Over a set of cards.
    pub fn new(cards: Vec<Card>) -> CardRegistry {
        CardRegistry {
            cards: cards.into_iter().map(|c| (c.serial.clone(), c)).collect(),
            failures: Mutex::new(BTreeMap::new()),
        }
    }

    /// Every card, by serial.
    pub fn cards(&self) -> impl Iterator<Item = &Card> {
        self.cards.values()
    }

    /// Checks a PIN entered at a kiosk. Three wrong PINs in a row lock the card; a
    /// right PIN resets the count (but never unlocks a locked card).
    pub fn verify_pin(&self, serial: &str, pin: &str) -> Result<(), CardRefusal> {
        let card = self.cards.get(serial).ok_or(CardRefusal::Unknown)?;
        if card.revoked {
            return Err(CardRefusal::Revoked);
        }
        // A poisoned lock only means another session panicked; the counts stay valid.
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = failures.entry(serial.to_owned()).or_default();
        if *count >= PIN_ATTEMPTS {
            return Err(CardRefusal::Locked);
        }
        if card.pin == pin {
            *count = 0;
            Ok(())
        } else {
            *count += 1;
            if *count >= PIN_ATTEMPTS {
                Err(CardRefusal::Locked)
            } else {
                Err(CardRefusal::WrongPin {
                    remaining: PIN_ATTEMPTS - *count,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn check(text: &str, expected: Result<usize, &str>) {
        match (parse_card_file("cards.tsv", text), expected) {
            (Ok(cards), Ok(n)) => assert_eq!(cards.len(), n, "{text:?}"),
            (Err(e), Err(message)) => assert_eq!(e.to_string(), message, "{text:?}"),
            (got, want) => panic!("{text:?}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn card_files() {
        check(
            "# comment\n\n0A1B\t1234\tactive\nFF\t0000\trevoked\n",
            Ok(2),
        );
        check(
            "0A1B 1234 active\n",
            Err("cards.tsv:1: line: expected SERIAL<TAB>PIN<TAB>STATUS, found 1 column(s)"),
        );
        check(
            "0A1B\t1234\tactive\nXYZ\t1234\tactive\n",
            Err("cards.tsv:2: serial: \"XYZ\" is not hexadecimal"),
        );
        check(
            "0A1B\t12345\tactive\n",
            Err("cards.tsv:1: pin: a PIN is 4 digits"),
        );
        check(
            "0A1B\t1234\tlost\n",
            Err("cards.tsv:1: status: \"lost\" is neither active nor revoked"),
        );
    }

    #[test]
    fn three_wrong_pins_lock_a_card_and_revoked_cards_are_refused() {
        let registry = CardRegistry::new(vec![
            Card {
                serial: "0A".into(),
                pin: "1234".into(),
                revoked: false,
            },
            Card {
                serial: "0B".into(),
                pin: "1234".into(),
                revoked: true,
            },
        ]);
        assert_eq!(
            registry.verify_pin("0A", "0000"),
            Err(CardRefusal::WrongPin { remaining: 2 })
        );
        assert_eq!(
            registry.verify_pin("0A", "1234"),
            Ok(()),
            "a right PIN resets"
        );
        assert_eq!(
            registry.verify_pin("0A", "0000"),
            Err(CardRefusal::WrongPin { remaining: 2 })
        );
        assert_eq!(
            registry.verify_pin("0A", "0000"),
            Err(CardRefusal::WrongPin { remaining: 1 })
        );
        assert_eq!(registry.verify_pin("0A", "0000"), Err(CardRefusal::Locked));
        assert_eq!(
            registry.verify_pin("0A", "1234"),
            Err(CardRefusal::Locked),
            "stays locked"
        );
        assert_eq!(registry.verify_pin("0B", "1234"), Err(CardRefusal::Revoked));
        assert_eq!(registry.verify_pin("0C", "1234"), Err(CardRefusal::Unknown));
    }

    #[test]
    fn card_files_from_a_feed_keep_status_and_stable_pins() {
        let feed = concat!(
            r#"{"type":"card","resident_id":"1","auth_serial":"0A1B","status":"active"}"#,
            "\n",
            r#"{"type":"card","resident_id":"2","auth_serial":"0C1D","status":"revoked"}"#,
            "\n",
            r#"{"type":"resident","resident_id":"3"}"#,
        );
        let text = card_file_from_feed(feed);
        let cards = parse_card_file("x", &text).unwrap();
        assert_eq!(cards.len(), 2);
        assert_eq!(cards[0].pin, pin_for("0A1B"));
        assert!(!cards[0].revoked && cards[1].revoked);
        assert_eq!(card_file_from_feed(feed), text);
    }
}
