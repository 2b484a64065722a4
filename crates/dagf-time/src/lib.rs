//! Calendar values: the dates, datetimes and durations a `.dagf` file writes, the IR carries and
//! a dag-factory YAML file holds, with the Gregorian calendar's rules for which ones
//! exist. One definition, so a value read by any of them means the same everywhere.

use std::fmt;

pub mod zones;

/// Whether `name` is an IANA time zone (`Europe/Paris`, `UTC`), spelt as the database
/// spells it: the names are case-sensitive, as Airflow's pendulum reads them.
pub fn is_zone(name: &str) -> bool {
    zones::ZONES.binary_search(&name).is_ok()
}

/// A day of the Gregorian calendar, from year 1 on.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// The year, from 1.
    pub year: i32,
    /// The month, 1 to 12.
    pub month: u32,
    /// The day of the month, from 1.
    pub day: u32,
}

/// A point in time, to the second.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    /// The calendar date.
    pub date: Date,
    /// The hour, 0 to 23.
    pub hour: u32,
    /// The minute, 0 to 59.
    pub minute: u32,
    /// The second, 0 to 59 (0 when not written).
    pub second: u32,
    /// Offset from UTC in minutes: 0 when none was written, as UTC is implied.
    pub offset_minutes: i32,
}

/// How many days month `month` (1 to 12) of `year` has, in the Gregorian calendar.
pub fn days_in_month(year: i32, month: u32) -> Option<u32> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => Some(31),
        4 | 6 | 9 | 11 => Some(30),
        2 if leap => Some(29),
        2 => Some(28),
        _ => None,
    }
}

/// Whether `hour:minute:second` is a time of day (no leap seconds).
pub fn is_time_of_day(hour: u32, minute: u32, second: u32) -> bool {
    hour <= 23 && minute <= 59 && second <= 59
}

impl Date {
    /// The date, if the calendar has it (year 1 or later, a month, a day of it).
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let days = days_in_month(year, month)?;
        (year >= 1 && (1..=days).contains(&day)).then_some(Date { year, month, day })
    }
}

/// `2024-01-31`, as `.dagf` and ISO 8601 write it.
impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl DateTime {
    /// The start of `date`, in UTC.
    pub fn midnight(date: Date) -> DateTime {
        DateTime {
            date,
            hour: 0,
            minute: 0,
            second: 0,
            offset_minutes: 0,
        }
    }
}

/// The duration literal for `ms` milliseconds: `1m30s`, `-5m`, `0s` (what dagf-syntax's
/// `duration_ms` reads back).
pub fn duration_text(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut rest = ms.unsigned_abs();
    if ms < 0 {
        out.push('-');
    }
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leap_years_follow_the_gregorian_rule() {
        assert_eq!(days_in_month(2024, 2), Some(29));
        assert_eq!(days_in_month(2023, 2), Some(28));
        assert_eq!(days_in_month(1900, 2), Some(28));
        assert_eq!(days_in_month(2000, 2), Some(29));
        assert_eq!(days_in_month(2024, 13), None);
        assert_eq!(days_in_month(2024, 0), None);
    }

    #[test]
    fn only_calendar_days_are_dates() {
        assert!(Date::new(2024, 2, 29).is_some());
        assert!(Date::new(2023, 2, 29).is_none());
        assert!(Date::new(2024, 4, 31).is_none());
        assert!(Date::new(2024, 1, 0).is_none());
        assert!(Date::new(0, 1, 1).is_none());
        assert_eq!(
            Date::new(7, 3, 9).map(|d| d.to_string()).as_deref(),
            Some("0007-03-09")
        );
    }

    #[test]
    fn zone_names_are_the_databases() {
        assert!(zones::ZONES.windows(2).all(|w| w[0] < w[1]));
        assert!(is_zone("Europe/Paris"));
        assert!(is_zone("UTC"));
        assert!(is_zone("America/Argentina/Buenos_Aires"));
        assert!(!is_zone("europe/paris"));
        assert!(!is_zone("Europe/Pariss"));
        assert!(!is_zone("CEST"));
    }

    #[test]
    fn times_of_day_stop_at_the_last_second() {
        assert!(is_time_of_day(23, 59, 59));
        assert!(!is_time_of_day(24, 0, 0));
        assert!(!is_time_of_day(0, 60, 0));
        assert!(!is_time_of_day(0, 0, 60));
    }
}
