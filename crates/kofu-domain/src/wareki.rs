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

/// Why a date as a clerk typed it was not understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{input:?}: {reason}")]
pub struct DateInputError {
    /// What was typed.
    pub input: String,
    /// Why it is not a date.
    pub reason: String,
}

impl Era {
    /// The era of a letter (`M`, `T`, `S`, `H`, `R`) or a name (`昭和`, `昭`).
    fn parse(name: &str) -> Option<Era> {
        Some(match name {
            "M" | "m" | "明治" | "明" => Era::Meiji,
            "T" | "t" | "大正" | "大" => Era::Taisho,
            "S" | "s" | "昭和" | "昭" => Era::Showa,
            "H" | "h" | "平成" | "平" => Era::Heisei,
            "R" | "r" | "令和" | "令" => Era::Reiwa,
            _ => return None,
        })
    }

    /// The era after this one, if any.
    fn next(self) -> Option<Era> {
        match self {
            Era::Meiji => Some(Era::Taisho),
            Era::Taisho => Some(Era::Showa),
            Era::Showa => Some(Era::Heisei),
            Era::Heisei => Some(Era::Reiwa),
            Era::Reiwa => None,
        }
    }
}

/// A date as a clerk types it: `1975-06-15` (or with `/` or `.`), `S50.6.15`,
/// `s50/6/15`, `昭和50年6月15日`, `令和元年5月1日`, `R1.5.1`, `H31.4.30`, in full-width
/// characters too. An era date outside its era (`H31.5.1`, `昭和64年1月8日`) is refused
/// with the era's last day named, never moved into the next era silently.
pub fn parse_date_as_typed(input: &str) -> Result<Date, DateInputError> {
    let refuse = |reason: String| DateInputError {
        input: input.to_owned(),
        reason,
    };
    // Full-width digits, letters and punctuation as their ASCII forms.
    let text: String = input
        .trim()
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .collect();
    if text.is_empty() {
        return Err(refuse("no date".into()));
    }
    let era_end = text
        .char_indices()
        .find(|(_, c)| c.is_ascii_digit() || *c == '元')
        .map_or(text.len(), |(i, _)| i);
    let (era_name, rest) = text.split_at(era_end);
    let era_name = era_name.trim();
    // 年, 月 and 日 separate like `.`; a trailing 日 ends the date.
    let numbers: Vec<&str> = rest
        .split(['.', '/', '-', '年', '月', '日', ' '])
        .filter(|p| !p.is_empty())
        .collect();
    if numbers.len() != 3 {
        return Err(refuse(
            "a date is a year, a month and a day (e.g. S50.6.15, 昭和50年6月15日, 1975-06-15)"
                .into(),
        ));
    }
    let number = |part: &str, what: &str| -> Result<i32, DateInputError> {
        if part == "元" && what == "year" && !era_name.is_empty() {
            return Ok(1);
        }
        part.parse::<i32>()
            .ok()
            .filter(|n| (1..=9999).contains(n))
            .ok_or_else(|| refuse(format!("the {what} {part:?} is not a number")))
    };
    let (year, month, day) = (
        number(numbers[0], "year")?,
        number(numbers[1], "month")?,
        number(numbers[2], "day")?,
    );
    let (month, day) = (
        u8::try_from(month).map_err(|_| refuse(format!("no month {month}")))?,
        u8::try_from(day).map_err(|_| refuse(format!("no day {day}")))?,
    );
    if era_name.is_empty() {
        return Date::from_ymd(year, month, day)
            .ok_or_else(|| refuse(format!("{year}-{month}-{day} is not a date")));
    }
    let era = Era::parse(era_name).ok_or_else(|| {
        refuse(format!(
            "unknown era {era_name:?} (明治 M, 大正 T, 昭和 S, 平成 H, 令和 R)"
        ))
    })?;
    let gregorian = era.start().0 + year - 1;
    let date = Date::from_ymd(gregorian, month, day).ok_or_else(|| {
        refuse(format!(
            "{}{year}年{month}月{day}日 is not a date",
            era.kanji()
        ))
    })?;
    let key = (date.year(), date.month(), date.day());
    if key < era.start() || key < earliest() {
        return Err(refuse(format!("{} had not begun on that day", era.kanji())));
    }
    if let Some(next) = era.next()
        && key >= next.start()
    {
        let last = Date::from_ymd(next.start().0, next.start().1, next.start().2)
            .and_then(Date::previous_day)
            .map(|d| d.to_string())
            .unwrap_or_default();
        return Err(refuse(format!(
            "{} ended on {last}: that day is in {}",
            era.kanji(),
            next.kanji()
        )));
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dates_are_read_as_clerks_type_them() {
        let check = |input: &str, expected: Result<&str, &str>| {
            let got = parse_date_as_typed(input).map(|d| d.to_string());
            match (got, expected) {
                (Ok(d), Ok(e)) => assert_eq!(d, e, "{input}"),
                (Err(err), Err(fragment)) => {
                    assert!(err.reason.contains(fragment), "{input}: {}", err.reason)
                }
                (got, expected) => panic!("{input}: {got:?}, expected {expected:?}"),
            }
        };
        check("S50.6.15", Ok("1975-06-15"));
        check("s50/6/15", Ok("1975-06-15"));
        check("昭和50年6月15日", Ok("1975-06-15"));
        check("昭和５０年６月１５日", Ok("1975-06-15"));
        check("Ｓ５０．６．１５", Ok("1975-06-15"));
        check("R1.5.1", Ok("2019-05-01"));
        check("令和元年5月1日", Ok("2019-05-01"));
        check("H31.4.30", Ok("2019-04-30"));
        check("平成元年1月8日", Ok("1989-01-08"));
        check("S64.1.7", Ok("1989-01-07"));
        check("T15.12.24", Ok("1926-12-24"));
        check("1975-06-15", Ok("1975-06-15"));
        check("1975/6/15", Ok("1975-06-15"));
        check(" 2026.11.25 ", Ok("2026-11-25"));
        check(
            "H31.5.1",
            Err("平成 ended on 2019-04-30: that day is in 令和"),
        );
        check("昭和64年1月8日", Err("昭和 ended on 1989-01-07"));
        check("R1.4.30", Err("令和 had not begun"));
        check("X5.1.1", Err("unknown era"));
        check("S50.2.30", Err("is not a date"));
        check("S50.6", Err("a year, a month and a day"));
        check("元年5月1日", Err("not a number"));
        check("", Err("no date"));
    }

    proptest! {
        /// Every date this system writes in 和暦 reads back to itself.
        #[test]
        fn written_wareki_reads_back(days in 0i64..60_000) {
            let base = Date::from_ymd(1873, 1, 1).unwrap().as_time();
            let date: Date = (base + time::Duration::days(days)).to_string().parse().unwrap();
            let written = to_wareki(date).unwrap().to_string();
            prop_assert_eq!(parse_date_as_typed(&written).unwrap(), date);
        }
    }

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
