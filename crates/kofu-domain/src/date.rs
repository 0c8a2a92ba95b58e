//! Calendar values used throughout the domain: civil dates, times of day, and the
//! conversion of an instant to the town's local (JST) wall-clock time.
//!
//! The domain never reads a clock: every rule receives the instant or date it
//! concerns as a parameter.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Month, OffsetDateTime, UtcOffset, Weekday};

/// A civil (Gregorian) date, written `YYYY-MM-DD` on the wire and in the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(time::Date);

/// Why a date or time of day could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DateParseError(String);

impl Date {
    /// The date for a year, month (1–12) and day, or `None` if it does not exist.
    pub fn from_ymd(year: i32, month: u8, day: u8) -> Option<Self> {
        let month = Month::try_from(month).ok()?;
        time::Date::from_calendar_date(year, month, day)
            .ok()
            .map(Date)
    }

    /// The Gregorian year.
    pub fn year(self) -> i32 {
        self.0.year()
    }

    /// The month, 1–12.
    pub fn month(self) -> u8 {
        u8::from(self.0.month())
    }

    /// The day of the month, 1–31.
    pub fn day(self) -> u8 {
        self.0.day()
    }

    /// The day of the week.
    pub fn weekday(self) -> Weekday {
        self.0.weekday()
    }

    /// The next day.
    pub fn next_day(self) -> Option<Self> {
        self.0.next_day().map(Date)
    }

    /// The previous day.
    pub fn previous_day(self) -> Option<Self> {
        self.0.previous_day().map(Date)
    }

    /// The underlying `time::Date`.
    pub fn as_time(self) -> time::Date {
        self.0
    }

    /// Completed years of age on `on` for someone born on `self`.
    ///
    /// Follows 年齢計算ニ関スル法律: a year is completed at the end of the day before
    /// the birthday anniversary, so someone born on 29 February completes a year at the
    /// end of 28 February in common years. In practice that means the age changes on
    /// the anniversary day itself (1 March for 29 February births in common years).
    pub fn age_on(self, on: Date) -> i32 {
        let mut years = on.year() - self.year();
        // (2, 29) compares after (2, 28), so a 29 February birthday completes its year
        // on 1 March in common years, as the law says.
        if (on.month(), on.day()) < (self.month(), self.day()) {
            years -= 1;
        }
        years.max(0)
    }

    /// This date as `YYYYMMDD`, the form used in 発行番号.
    pub fn compact(self) -> String {
        format!("{:04}{:02}{:02}", self.year(), self.month(), self.day())
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.year(),
            self.month(),
            self.day()
        )
    }
}

impl FromStr for Date {
    type Err = DateParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || DateParseError(format!("'{s}' is not a date in the form YYYY-MM-DD"));
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        // Digits only (no sign, no spaces), read by hand: `str::parse` costs more than
        // the rest of a date, and a feed has several on every line.
        let num = |r: std::ops::Range<usize>| -> Result<u32, DateParseError> {
            b[r].iter().try_fold(0u32, |n, &c| {
                c.is_ascii_digit()
                    .then(|| n * 10 + u32::from(c - b'0'))
                    .ok_or_else(bad)
            })
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let year = i32::try_from(y).map_err(|_| bad())?;
        let (month, day) = (
            u8::try_from(m).map_err(|_| bad())?,
            u8::try_from(d).map_err(|_| bad())?,
        );
        Date::from_ymd(year, month, day)
            .ok_or_else(|| DateParseError(format!("'{s}' is not a day of the calendar")))
    }
}

impl From<time::Date> for Date {
    fn from(d: time::Date) -> Self {
        Date(d)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    /// Reads the text where the deserializer has it, without copying it first (serde's
    /// `Cow<str>` always makes a `String`): a feed has several dates on every line.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct DateVisitor;
        impl serde::de::Visitor<'_> for DateVisitor {
            type Value = Date;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a date in the form YYYY-MM-DD")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Date, E> {
                s.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(DateVisitor)
    }
}

/// A wall-clock time of day, `HH:MM`, as used for service hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay {
    minutes: u16,
}

impl TimeOfDay {
    /// The time `hour:minute`, or `None` when out of range. `24:00` is allowed as the
    /// end of a day.
    pub fn from_hm(hour: u8, minute: u8) -> Option<Self> {
        if minute > 59 || hour > 24 || (hour == 24 && minute != 0) {
            return None;
        }
        Some(TimeOfDay {
            minutes: u16::from(hour) * 60 + u16::from(minute),
        })
    }

    /// The time `hour:minute` for constants: an invalid time fails the build where
    /// the constant is evaluated, never at run time.
    pub const fn const_hm(hour: u8, minute: u8) -> Self {
        assert!(minute <= 59 && hour <= 24 && !(hour == 24 && minute != 0));
        TimeOfDay {
            minutes: hour as u16 * 60 + minute as u16,
        }
    }

    /// Minutes since midnight.
    pub fn minutes(self) -> u16 {
        self.minutes
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.minutes / 60, self.minutes % 60)
    }
}

impl FromStr for TimeOfDay {
    type Err = DateParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || DateParseError(format!("'{s}' is not a time of day in the form HH:MM"));
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: u8 = h.parse().map_err(|_| bad())?;
        let m: u8 = m.parse().map_err(|_| bad())?;
        TimeOfDay::from_hm(h, m).ok_or_else(bad)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Japan Standard Time, the offset every local rule is evaluated in.
pub const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// The town's local date and time of day for an instant, whatever offset it came with.
pub fn local_date_time(instant: OffsetDateTime) -> (Date, TimeOfDay) {
    let local = instant.to_offset(JST);
    let minutes = u16::from(local.hour()) * 60 + u16::from(local.minute());
    (Date(local.date()), TimeOfDay { minutes })
}

/// Serde support for RFC 3339 instants (`2026-05-02T10:15:00+09:00`).
pub mod rfc3339 {
    pub use time::serde::rfc3339::*;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_prints_dates() {
        assert_eq!(d("2026-05-02").to_string(), "2026-05-02");
        assert_eq!(d("2026-05-02").compact(), "20260502");
        for bad in [
            "2026-5-2",
            "2026-02-30",
            "20260502",
            "2026-13-01",
            "abcd-ef-gh",
            "",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad}");
        }
    }

    #[test]
    fn ages() {
        let check =
            |born: &str, on: &str, age: i32| assert_eq!(d(born).age_on(d(on)), age, "{born} {on}");
        check("2011-11-23", "2026-11-22", 14);
        check("2011-11-23", "2026-11-23", 15);
        check("2008-02-29", "2023-02-28", 14);
        check("2008-02-29", "2023-03-01", 15);
        check("2008-02-29", "2024-02-29", 16);
        check("2026-01-01", "2025-01-01", 0);
    }

    #[test]
    fn times_of_day() {
        assert_eq!("06:30".parse::<TimeOfDay>().unwrap().minutes(), 390);
        assert_eq!("24:00".parse::<TimeOfDay>().unwrap().minutes(), 1440);
        for bad in ["6:30", "24:01", "12:60", "noon"] {
            assert!(bad.parse::<TimeOfDay>().is_err(), "{bad}");
        }
    }

    #[test]
    fn local_time_is_jst() {
        let t = OffsetDateTime::parse(
            "2026-12-28T14:59:00Z",
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        let (date, tod) = local_date_time(t);
        assert_eq!(date, d("2026-12-28"));
        assert_eq!(tod.to_string(), "23:59");
    }
}
