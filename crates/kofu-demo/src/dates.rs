//! Day arithmetic for the generator: days since 1970-01-01 (`i32`) and back to
//! [`kofu_domain::Date`], without any clock.

use kofu_domain::Date;

/// Days of an average Gregorian year, for "about N years ago".
const YEAR: f64 = 365.2425;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
pub(crate) fn days(y: i32, m: u8, d: u8) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i32::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i32::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number (`civil_from_days`).
pub(crate) fn civil(z: i32) -> (i32, u8, u8) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = yoe + era * 400 + i32::from(m <= 2);
    (y, m, d)
}

/// The domain date of a day number.
pub(crate) fn date(z: i32) -> Date {
    let (y, m, d) = civil(z);
    Date::from_ymd(y, m, d).unwrap_or_else(|| unreachable!("civil() yields calendar dates"))
}

/// The day number of a domain date.
pub(crate) fn from_date(d: Date) -> i32 {
    days(d.year(), d.month(), d.day())
}

/// The Gregorian year of a day number.
pub(crate) fn year(z: i32) -> i32 {
    civil(z).0
}

/// About `n` years as days.
pub(crate) fn years(n: f64) -> i32 {
    (n * YEAR) as i32
}

/// Completed years of age on `on` for someone born on `birth`.
pub(crate) fn age(birth: i32, on: i32) -> i32 {
    let (by, bm, bd) = civil(birth);
    let (oy, om, od) = civil(on);
    let mut a = oy - by;
    if (om, od) < (bm, bd) {
        a -= 1;
    }
    a.max(0)
}

/// The day `n` years after `z` (29 February becomes 28 February in common years).
pub(crate) fn add_years(z: i32, n: i32) -> i32 {
    let (y, m, d) = civil(z);
    let y = y + n;
    let d = if m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) {
        28
    } else {
        d
    };
    days(y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for z in [-30_000, -1, 0, 1, 10_957, 20_574, 40_000] {
            let (y, m, d) = civil(z);
            assert_eq!(days(y, m, d), z);
            assert_eq!(from_date(date(z)), z);
        }
        assert_eq!(days(1970, 1, 1), 0);
        assert_eq!(date(days(2026, 5, 1)).to_string(), "2026-05-01");
        assert_eq!(date(days(2024, 2, 29)).to_string(), "2024-02-29");
    }

    #[test]
    fn ages_and_years() {
        let b = days(2011, 11, 23);
        assert_eq!(age(b, days(2026, 11, 22)), 14);
        assert_eq!(age(b, days(2026, 11, 23)), 15);
        assert_eq!(add_years(days(2024, 2, 29), 1), days(2025, 2, 28));
        assert_eq!(year(days(1999, 12, 31)), 1999);
    }
}
