//! The Japanese public calendar: national holidays (国民の祝日, 振替休日, 国民の休日)
//! and the year-end closure (29 December – 3 January), for the service-hours rules.
//!
//! Holidays follow the law as it stands since 2020 (天皇誕生日 on 23 February, スポーツの日);
//! the equinox days use the usual approximation valid for 1980–2099. One-off moves
//! (the 2020/2021 Olympic years) are not modelled: kofu evaluates current dates.

use time::Weekday;

use crate::date::Date;

fn nth_monday(year: i32, month: u8, n: u8) -> u8 {
    let first = Date::from_ymd(year, month, 1).map_or(Weekday::Monday, Date::weekday);
    let offset = (8 - i32::from(first.number_from_monday())) % 7; // days to the first Monday
    1 + offset as u8 + (n - 1) * 7
}

fn equinox_day(year: i32, base: f64) -> u8 {
    let y = f64::from(year - 1980);
    (base + 0.242194 * y - (y / 4.0).floor()).floor() as u8
}

/// Whether `date` is a 国民の祝日 by its own definition (no substitute rules).
fn is_named_holiday(date: Date) -> bool {
    let (y, m, d) = (date.year(), date.month(), date.day());
    match m {
        1 => d == 1 || d == nth_monday(y, 1, 2),
        2 => d == 11 || d == 23,
        3 => d == equinox_day(y, 20.8431),
        4 => d == 29,
        5 => (3..=5).contains(&d),
        7 => d == nth_monday(y, 7, 3),
        8 => d == 11,
        9 => d == nth_monday(y, 9, 3) || d == equinox_day(y, 23.2488),
        10 => d == nth_monday(y, 10, 2),
        11 => d == 3 || d == 23,
        _ => false,
    }
}

/// Whether `date` is a national holiday, including 振替休日 (the first non-holiday
/// after a holiday falling on Sunday) and 国民の休日 (a day between two holidays).
pub fn is_national_holiday(date: Date) -> bool {
    if is_named_holiday(date) {
        return true;
    }
    // 振替休日: walk back over consecutive holidays to find one on a Sunday.
    let mut day = date.previous_day();
    while let Some(d) = day {
        if !is_named_holiday(d) {
            break;
        }
        if d.weekday() == Weekday::Sunday {
            return true;
        }
        day = d.previous_day();
    }
    // 国民の休日.
    date.weekday() != Weekday::Sunday
        && date.previous_day().is_some_and(is_named_holiday)
        && date.next_day().is_some_and(is_named_holiday)
}

/// Saturdays, Sundays and national holidays.
pub fn is_day_off(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) || is_national_holiday(date)
}

/// 29 December – 3 January, when kiosk issuance stops.
pub fn is_year_end_closure(date: Date) -> bool {
    matches!((date.month(), date.day()), (12, 29..=31) | (1, 1..=3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn holidays() {
        let check = |date: &str, expected: bool| {
            assert_eq!(is_national_holiday(d(date)), expected, "{date}")
        };
        check("2026-01-01", true);
        check("2026-01-12", true); // 成人の日
        check("2026-02-23", true);
        check("2026-03-20", true); // 春分の日
        check("2026-05-06", true); // 振替休日 for 5 May? 3 May 2026 is a Sunday
        check("2026-07-20", true); // 海の日
        check("2026-09-21", true); // 敬老の日
        check("2026-09-22", true); // 国民の休日
        check("2026-09-23", true); // 秋分の日
        check("2026-10-12", true); // スポーツの日
        check("2026-11-23", true);
        check("2026-11-24", false);
        check("2025-03-20", true);
        check("2025-09-23", true);
        check("2025-11-24", true); // 振替休日 (23rd is a Sunday)
        check("2027-03-21", true); // 春分の日 2027
        check("2026-06-15", false);
    }

    #[test]
    fn year_end() {
        assert!(is_year_end_closure(d("2026-12-29")));
        assert!(is_year_end_closure(d("2027-01-03")));
        assert!(!is_year_end_closure(d("2027-01-04")));
        assert!(!is_year_end_closure(d("2026-12-28")));
    }

    #[test]
    fn days_off() {
        assert!(is_day_off(d("2026-11-21"))); // Saturday
        assert!(!is_day_off(d("2026-11-25")));
    }
}
