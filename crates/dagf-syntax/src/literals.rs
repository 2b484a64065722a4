//! Literals: what the parser makes of a number, duration, date or datetime token's
//! text, and the error for one that is no value (too large, no day of the calendar).
//!
//! The lexer only says which shape a token has; its value is read here, in one place, so
//! the check before parsing (`invalid_literal`) and the grammar (which makes an `Error`
//! node of the same tokens) cannot disagree. Strings and their escapes are the lexer's
//! (`strings.rs`): a string token already holds its text.

use crate::ast::{Date, DateTime, ExprKind};
use crate::lexer::Tok;
use dagf_diag::{Code, Diagnostic, Span};

/// An integer literal's value (`_` separates digits), if it fits in 64 bits.
pub(crate) fn int_value(s: &str) -> Option<i64> {
    s.replace('_', "").parse::<i64>().ok()
}

/// A float literal's value (`_` separates digits), if it is finite.
pub(crate) fn float_value(s: &str) -> Option<f64> {
    s.replace('_', "")
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
}

/// Literals are checked here, once per token, rather than inside the grammar: an error
/// emitted while parsing would be lost or repeated as the parser backtracks and recovers.
/// The parser turns such a literal into an `Error` node without a word.
pub(crate) fn invalid_literal(t: &Tok, span: Span) -> Option<Diagnostic> {
    let (msg, help) = match t {
        Tok::Int(s) => match int_value(s) {
            Some(_) => return None,
            None => (
                format!("`{s}` does not fit in 64 bits"),
                "integers run from -9223372036854775808 to 9223372036854775807",
            ),
        },
        Tok::Float(s) => match float_value(s) {
            Some(_) => return None,
            None => (
                format!("`{s}` is too large for a float"),
                "floats run up to about 1.8e308 in size",
            ),
        },
        Tok::Duration(s) => (
            parse_duration(s).err()?,
            "a duration must fit in 64 bits of milliseconds (about 292 million years)",
        ),
        Tok::Date(s) => (
            parse_date(s).err()?,
            "write a real calendar date as YYYY-MM-DD, such as 2024-01-31",
        ),
        Tok::DateTime(s) => (
            parse_datetime(s).err()?,
            "write a datetime as YYYY-MM-DDTHH:MM[:SS], hours 00-23, minutes and seconds 00-59, offsets up to +14:00",
        ),
        _ => return None,
    };
    Some(Diagnostic::at(Code::E0004, span, msg, "invalid literal").with_help(help))
}

/// A duration literal such as `90s` or `1h30m`, in milliseconds (for data read from
/// config files, where durations are strings).
pub fn duration_ms(s: &str) -> Option<i64> {
    match parse_duration(s) {
        Ok(ExprKind::Duration(ms)) => Some(ms),
        _ => None,
    }
}

/// A duration literal's value, or what is wrong with it (too large for 64 bits of
/// milliseconds).
pub(crate) fn parse_duration(s: &str) -> Result<ExprKind, String> {
    let mut total: i64 = 0;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = if c == 'm' && chars.peek() == Some(&'s') {
            chars.next();
            "ms"
        } else {
            match c {
                's' => "s",
                'm' => "m",
                'h' => "h",
                'd' => "d",
                _ => "w",
            }
        };
        let n: i64 = num
            .parse()
            .map_err(|_| format!("duration `{s}` is too large"))?;
        num.clear();
        let ms = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => 604_800_000,
        };
        total = n
            .checked_mul(ms)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("duration `{s}` is too large"))?;
    }
    Ok(ExprKind::Duration(total))
}

/// A date literal's value, or why it is no day of the calendar.
pub(crate) fn parse_date(s: &str) -> Result<Date, String> {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(format!("`{s}` is not a date"));
    };
    let (year, month, day) = (
        y.parse::<i32>().unwrap_or(0),
        m.parse::<u32>().unwrap_or(0),
        d.parse::<u32>().unwrap_or(0),
    );
    if dagf_time::days_in_month(year, month).is_none() {
        return Err(format!("`{s}` has no month {month}: months are 01 to 12"));
    }
    Date::new(year, month, day).ok_or_else(|| format!("`{s}` is not a day of the calendar"))
}

/// A datetime literal's value, or why it is no time of day or UTC offset.
pub(crate) fn parse_datetime(s: &str) -> Result<DateTime, String> {
    let (date, rest) = s.split_at(10);
    let date = parse_date(date)?;
    let time = &rest[1..];
    let (clock, offset) = match time.find(['Z', '+', '-']) {
        Some(i) => (&time[..i], Some(&time[i..])),
        None => (time, None),
    };
    let nums: Vec<u32> = clock.split(':').map(|p| p.parse().unwrap_or(99)).collect();
    let (hour, minute, second) = (nums[0], nums[1], nums.get(2).copied().unwrap_or(0));
    if !dagf_time::is_time_of_day(hour, minute, second) {
        return Err(format!("`{s}` is not a time of day"));
    }
    let offset_minutes = match offset {
        None | Some("Z") => 0,
        Some(o) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let hm: Vec<i32> = o[1..].split(':').map(|p| p.parse().unwrap_or(99)).collect();
            if hm[0] > 14 || hm[1] > 59 {
                return Err(format!("`{o}` is not a UTC offset"));
            }
            sign * (hm[0] * 60 + hm[1])
        }
    };
    Ok(DateTime {
        date,
        hour,
        minute,
        second,
        offset_minutes,
    })
}
