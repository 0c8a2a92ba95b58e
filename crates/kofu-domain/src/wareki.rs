//! 和暦 (Japanese era) and 西暦 formatting of dates as certificates print them.
//!
//! Era boundaries are those of the official 改元 days: 平成 began on 1989-01-08 (so
//! 1989-01-07 is 昭和64年1月7日) and 令和 on 2019-05-01. The first year of an era is
//! written 元年. Dates before 1873-01-01 (明治6年, the adoption of the Gregorian
//! calendar) cannot be converted without the lunisolar calendar and are refused.

use std::fmt;

use crate::date::Date;

/// A Japanese era.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Era {
    /// 明治 (from 1873-01-01 in this system, see the module note).
    Meiji,
    /// 大正 (1912-07-30 – 1926-12-24).
    Taisho,
    /// 昭和 (1926-12-25 – 1989-01-07).
    Showa,
    /// 平成 (1989-01-08 – 2019-04-30).
    Heisei,
    /// 令和 (2019-05-01 –).
    Reiwa,
}

impl Era {
    /// The era's name in kanji.
    pub fn kanji(self) -> &'static str {
        match self {
            Era::Meiji => "明治",
            Era::Taisho => "大正",
            Era::Showa => "昭和",
            Era::Heisei => "平成",
            Era::Reiwa => "令和",
        }
    }

    /// The era's first day and the Gregorian year that is its 元年.
    fn start(self) -> (i32, u8, u8) {
        match self {
            Era::Meiji => (1868, 1, 1),
            Era::Taisho => (1912, 7, 30),
            Era::Showa => (1926, 12, 25),
            Era::Heisei => (1989, 1, 8),
            Era::Reiwa => (2019, 5, 1),
        }
    }
}

/// A date expressed in an era.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wareki {
    /// The era.
    pub era: Era,
    /// The year of the era, 1 for 元年.
    pub year: i32,
    /// Month, 1–12.
    pub month: u8,
    /// Day, 1–31.
    pub day: u8,
}

/// A date that has no 和暦 form in this system.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0} is before 1873-01-01 and cannot be written in 和暦")]
pub struct WarekiError(pub Date);

/// The earliest date this system writes in 和暦.
fn earliest() -> (i32, u8, u8) {
    (1873, 1, 1)
}

/// The era date of a Gregorian date.
pub fn to_wareki(date: Date) -> Result<Wareki, WarekiError> {
    let key = (date.year(), date.month(), date.day());
    if key < earliest() {
        return Err(WarekiError(date));
    }
    let era = [Era::Reiwa, Era::Heisei, Era::Showa, Era::Taisho, Era::Meiji]
        .into_iter()
        .find(|e| key >= e.start())
        .unwrap_or(Era::Meiji);
    Ok(Wareki {
        era,
        year: date.year() - era.start().0 + 1,
        month: date.month(),
        day: date.day(),
    })
}

impl fmt::Display for Wareki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.era.kanji())?;
        if self.year == 1 {
            f.write_str("元")?;
        } else {
            write!(f, "{}", self.year)?;
        }
        write!(f, "年{}月{}日", self.month, self.day)
    }
}

/// How a date is written on a certificate. One certificate item uses one style;
/// the two are never mixed within an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DateStyle {
    /// 和暦: `令和8年11月23日`.
    Wareki,
    /// 西暦: `2026年11月23日` (foreign residents' birth date and 在留期間満了日).
    Seireki,
}

/// Writes a date in the given style.
pub fn format_date(date: Date, style: DateStyle) -> Result<String, WarekiError> {
    match style {
        DateStyle::Wareki => Ok(to_wareki(date)?.to_string()),
        DateStyle::Seireki => Ok(format!(
            "{}年{}月{}日",
            date.year(),
            date.month(),
            date.day()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(date: &str, expected: &str) {
        let d: Date = date.parse().unwrap();
        assert_eq!(
            format_date(d, DateStyle::Wareki).unwrap(),
            expected,
            "{date}"
        );
    }

    #[test]
    fn era_boundaries() {
        check("1989-01-07", "昭和64年1月7日");
        check("1989-01-08", "平成元年1月8日");
        check("2019-04-30", "平成31年4月30日");
        check("2019-05-01", "令和元年5月1日");
        check("2026-11-23", "令和8年11月23日");
        check("1926-12-24", "大正15年12月24日");
        check("1926-12-25", "昭和元年12月25日");
        check("1912-07-29", "明治45年7月29日");
        check("1912-07-30", "大正元年7月30日");
        check("1873-01-01", "明治6年1月1日");
        check("1980-04-01", "昭和55年4月1日");
    }

    #[test]
    fn before_gregorian_adoption_is_refused() {
        let d: Date = "1872-12-31".parse().unwrap();
        assert!(to_wareki(d).is_err());
        assert_eq!(
            format_date(d, DateStyle::Seireki).unwrap(),
            "1872年12月31日"
        );
    }

    #[test]
    fn seireki() {
        let d: Date = "2027-05-01".parse().unwrap();
        assert_eq!(format_date(d, DateStyle::Seireki).unwrap(), "2027年5月1日");
    }

    proptest! {
        /// Converting back from the era form gives the same Gregorian date, the era
        /// is the latest one started on or before the date, and years are >= 1.
        #[test]
        fn round_trips(days in 0i64..(365 * 200)) {
            let start = time::Date::from_calendar_date(1873, time::Month::January, 1).unwrap();
            let date = Date::from(start + time::Duration::days(days));
            let w = to_wareki(date).unwrap();
            prop_assert!(w.year >= 1);
            prop_assert_eq!(w.year + w.era.start().0 - 1, date.year());
            prop_assert_eq!((w.month, w.day), (date.month(), date.day()));
            let key = (date.year(), date.month(), date.day());
            prop_assert!(key >= w.era.start());
            let next = [Era::Taisho, Era::Showa, Era::Heisei, Era::Reiwa]
                .into_iter()
                .find(|e| *e > w.era);
            if let Some(next) = next {
                prop_assert!(key < next.start());
            }
            let text = w.to_string();
            prop_assert!(text.starts_with(w.era.kanji()));
            prop_assert!(text.ends_with('日'));
        }
    }
}
