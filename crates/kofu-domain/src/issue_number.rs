//! 発行番号: the number printed on every page of every copy, binding the page to
//! the day, the town, the terminal (or kiosk), the printer and a serial.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::date::Date;

/// Where a copy was produced.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum IssuePoint {
    /// A counter terminal and its printer, e.g. `本庁1` and `P001`.
    Counter {
        /// Terminal name.
        terminal: String,
        /// Printer name.
        printer: String,
    },
    /// A kiosk, e.g. `K-12345`.
    Kiosk {
        /// Kiosk ID from the relay center.
        kiosk: String,
    },
}

/// The 発行番号 of one copy.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IssueNumber {
    /// Issue date (local).
    pub date: Date,
    /// The town's name.
    pub municipality: String,
    /// Terminal and printer, or kiosk.
    pub point: IssuePoint,
    /// Serial, unique per (date, point) at the counter and per (date, town) at kiosks.
    pub serial: u32,
}

impl IssueNumber {
    /// The number as printed on page `page` of `pages`:
    /// `20260502 見本市 本庁1 P001 011 1/2`, or for a kiosk
    /// `20260502 見本市 KIOSK K-12345 000123 1/1`.
    pub fn on_page(&self, page: u32, pages: u32) -> String {
        format!("{self} {page}/{pages}")
    }
}

impl fmt::Display for IssueNumber {
    /// The number of the copy, without page: the form of the protocol's `issue_number`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.point {
            IssuePoint::Counter { terminal, printer } => {
                write!(
                    f,
                    "{} {} {terminal} {printer} {:03}",
                    self.date.compact(),
                    self.municipality,
                    self.serial
                )
            }
            IssuePoint::Kiosk { kiosk } => {
                write!(
                    f,
                    "{} {} KIOSK {kiosk} {:06}",
                    self.date.compact(),
                    self.municipality,
                    self.serial
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let date: Date = "2026-05-02".parse().unwrap();
        let counter = IssueNumber {
            date,
            municipality: "見本市".into(),
            point: IssuePoint::Counter {
                terminal: "本庁1".into(),
                printer: "P001".into(),
            },
            serial: 11,
        };
        assert_eq!(counter.on_page(1, 2), "20260502 見本市 本庁1 P001 011 1/2");
        let kiosk = IssueNumber {
            date,
            municipality: "見本市".into(),
            point: IssuePoint::Kiosk {
                kiosk: "K-12345".into(),
            },
            serial: 123,
        };
        assert_eq!(kiosk.to_string(), "20260502 見本市 KIOSK K-12345 000123");
    }
}
