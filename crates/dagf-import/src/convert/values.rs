//! Values: a YAML node made into a value of the type its field has, as dag-factory and
//! Airflow read it (durations in seconds, dates as pendulum parses them, `timedelta`
//! objects, relative times), or reported when it cannot be carried over.

use super::Conv;
use crate::emit::{self, VK, Val};
use crate::stdlib::{self, Ty};
use crate::yaml::{Node, V};
use dagf_diag::Span;
use dagf_time::{Date, DateTime};

/// The ISO 8601 forms of a date string pendulum reads: `2024-01-01`,
/// `2024-01-01T06:00[:00[.ffffff]][Z|+02:00]` (a space may replace the `T`), and its
/// microseconds.
fn parse_datetime(s: &str) -> Option<(DateTime, u32)> {
    let s = s.trim();
    let (date, time) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(s[i + 1..].trim_start())),
        None => (s, None),
    };
    let mut d = date.split('-');
    let year: i32 = d.next()?.parse().ok()?;
    let month: u32 = d.next()?.parse().ok()?;
    let day: u32 = d.next()?.parse().ok()?;
    if d.next().is_some() || date.len() != 10 {
        return None;
    }
    let date = Date::new(year, month, day)?;
    let Some(time) = time else {
        return Some((DateTime::midnight(date), 0));
    };
    let (clock, offset) = match time.find(['Z', 'z', '+', '-']) {
        Some(i) => (&time[..i], Some(&time[i..])),
        None => (time, None),
    };
    let offset_minutes = match offset {
        None => None,
        Some("Z" | "z") => Some(0),
        Some(o) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let digits: String = o[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 && digits.len() != 2 {
                return None;
            }
            let h: i32 = digits.get(..2)?.parse().ok()?;
            let m: i32 = digits
                .get(2..)
                .filter(|m| !m.is_empty())
                .map_or(Some(0), |m| m.parse().ok())?;
            Some(sign * (h * 60 + m))
        }
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (clock, None),
    };
    let mut parts = hms.split(':');
    let hour: u32 = parts.next()?.parse().ok()?;
    let minute: u32 = parts.next()?.parse().ok()?;
    let second: u32 = match parts.next() {
        Some(p) => p.parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() || !dagf_time::is_time_of_day(hour, minute, second) {
        return None;
    }
    let micro = match frac {
        Some(f) if !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()) => f
            .chars()
            .chain("000000".chars())
            .take(6)
            .collect::<String>()
            .parse()
            .ok()?,
        Some(_) => return None,
        None => 0,
    };
    let at = DateTime {
        date,
        hour,
        minute,
        second,
        offset_minutes: offset_minutes.unwrap_or(0),
    };
    Some((at, micro))
}

/// `utils.get_time_delta`: `1 hours`, `30 minutes`, `2 days`... in milliseconds.
pub(super) fn relative_time(s: &str) -> Option<i64> {
    let re = regex::Regex::new(
        r"(?i)^((?P<hours>\d+?)\s+hour)?((?P<minutes>\d+?)\s+minute)?((?P<seconds>\d+?)\s+second)?((?P<days>\d+?)\s+day)?",
    )
    .ok()?;
    let c = re.captures(s)?;
    let mut ms: i64 = 0;
    let mut any = false;
    for (unit, size) in [
        ("hours", 3_600_000i64),
        ("minutes", 60_000),
        ("seconds", 1_000),
        ("days", 86_400_000),
    ] {
        if let Some(m) = c.name(unit) {
            any = true;
            ms = ms.checked_add(m.as_str().parse::<i64>().ok()?.checked_mul(size)?)?;
        }
    }
    any.then_some(ms)
}

fn is_relative_time(s: &str) -> bool {
    relative_time(s).is_some()
}

impl Conv {
    /// `utils.get_datetime`: a date, a datetime or a date string, made UTC (dag-factory
    /// replaces any offset written with the DAG's time zone).
    pub(super) fn datetime(&mut self, node: &Node, dag_factory_parses: bool) -> Option<Val> {
        let span = node.span;
        let (dt, micro) = match &node.v {
            V::Date(d) => (DateTime::midnight(*d), 0),
            V::DateTime(t, micro) => (*t, *micro),
            V::Str(s) if dag_factory_parses => match parse_datetime(s) {
                Some(t) => t,
                None if is_relative_time(s) => {
                    self.cannot(
                        span,
                        format!("the relative date `{s}` cannot be imported"),
                        "changes every day",
                        "dag-factory computes it from today's date each time it loads the file; write a fixed date such as 2024-01-01",
                    );
                    return None;
                }
                None => {
                    self.invalid(
                        span,
                        format!("`{s}` is not a date dag-factory can read"),
                        "not a date",
                        "write a date such as 2024-01-01 or 2024-01-01T06:00:00",
                    );
                    return None;
                }
            },
            _ => return self.typed(node, &Ty::DateTime),
        };
        if micro != 0 {
            self.cannot(
                span,
                "dagf datetimes have whole seconds",
                "fractions of a second",
                "drop the fraction of a second",
            );
            return None;
        }
        let utc = DateTime {
            offset_minutes: 0,
            ..dt
        };
        Some(Val::new(VK::DateTime(utc), span))
    }

    /// A value for a field of type `ty`, converted as dag-factory and Airflow read it.
    /// `None` when it cannot be (reported).
    pub(super) fn typed(&mut self, node: &Node, ty: &Ty) -> Option<Val> {
        let span = node.span;
        if let V::Unsupported(what) = &node.v {
            self.cannot(
                span,
                format!("{what} cannot be imported"),
                "cannot be imported",
                "write the value as plain YAML (a string, number, list or mapping)",
            );
            return None;
        }
        match (ty, &node.v) {
            (_, V::Null) => Some(Val::new(VK::None, span)),
            (Ty::Duration, V::Int(i)) => self.seconds(*i as f64, span),
            (Ty::Duration, V::Float(f)) => self.seconds(*f, span),
            (Ty::Duration, V::Duration(ms)) => Some(Val::new(VK::Duration(*ms), span)),
            (Ty::DateTime, V::Date(_) | V::DateTime(..)) => self.datetime(node, false),
            (Ty::Schedule, _) => match &node.v {
                V::Str(_) | V::Duration(_) | V::List(_) | V::Map(_) => self.schedule(node),
                _ => self.generic(node),
            },
            (Ty::Pyref, V::PyName(path)) => Some(Val::new(VK::Str(path.clone()), span)),
            (Ty::Callbacks, _) => self.callback(node),
            (Ty::Asset, V::Str(uri)) => Some(self.asset(uri, span, false)),
            (Ty::List(t), V::List(items)) => {
                let mut out = Vec::new();
                for item in items {
                    out.push(self.typed(item, t)?);
                }
                Some(Val::new(VK::List(out), span))
            }
            (Ty::Map(t), V::Map(entries)) => {
                let mut out = Vec::new();
                for (k, v) in entries {
                    out.push((k.text.clone(), self.typed(v, t)?));
                }
                Some(Val::new(VK::Record(out), span))
            }
            (Ty::Record(fields), V::Map(entries)) => {
                let mut out = Vec::new();
                for (k, v) in entries {
                    let t = stdlib::lookup(fields, &k.text).cloned().unwrap_or(Ty::Any);
                    out.push((k.text.clone(), self.typed(v, &t)?));
                }
                Some(Val::new(VK::Record(out), span))
            }
            _ => self.generic(node),
        }
    }

    /// A number of seconds where Airflow takes a timedelta (`retry_delay`, a sensor's
    /// `poke_interval`...).
    fn seconds(&mut self, s: f64, span: Span) -> Option<Val> {
        let ms = s * 1000.0;
        if !ms.is_finite() || (ms - ms.round()).abs() > 1e-6 || ms.abs() > 9.0e15 {
            self.cannot(
                span,
                "this duration cannot be written in dagf",
                "not a whole number of milliseconds",
                "give a whole number of milliseconds",
            );
            return None;
        }
        Some(Val::new(VK::Duration(ms.round() as i64), span))
    }

    /// Any value, as its own type (what dag-factory passes on unchanged).
    pub(super) fn generic(&mut self, node: &Node) -> Option<Val> {
        let span = node.span;
        let kind = match &node.v {
            V::Null => VK::None,
            V::Bool(b) => VK::Bool(*b),
            V::Int(i) => VK::Int(*i),
            V::Float(f) if f.is_finite() => VK::Float(*f),
            V::Float(_) => {
                self.cannot(
                    span,
                    "dagf has no infinite or NaN numbers",
                    "not a finite number",
                    "write a finite number",
                );
                return None;
            }
            V::Str(s) => {
                if let Some(c) = emit::unwritable_char(s) {
                    self.cannot(
                        span,
                        format!("a dagf string cannot hold the control character {:?}", c),
                        "in this string",
                        "remove the control character",
                    );
                    return None;
                }
                VK::Str(s.clone())
            }
            V::Date(d) => VK::Date(*d),
            V::DateTime(..) => return self.datetime(node, false),
            V::Duration(ms) => VK::Duration(*ms),
            V::PyName(path) => {
                self.cannot(
                    span,
                    format!("the Python object `!!python/name:{path}` cannot be imported here"),
                    "a Python object",
                    "only a `python_callable` may name a Python object",
                );
                return None;
            }
            V::List(items) => {
                let mut out = Vec::new();
                for item in items {
                    out.push(self.generic(item)?);
                }
                VK::List(out)
            }
            V::Map(entries) => {
                let mut out = Vec::new();
                for (k, v) in entries {
                    out.push((k.text.clone(), self.generic(v)?));
                }
                VK::Record(out)
            }
            V::Asset(uri) => {
                self.cannot(
                    span,
                    format!("the asset `{uri}` can only be imported in `schedule`, `inlets` and `outlets`"),
                    "an Asset object",
                    "write the value as plain YAML (a string, number, list or mapping)",
                );
                return None;
            }
            V::Unsupported(_) => return self.typed(node, &Ty::Any),
        };
        Some(Val::new(kind, span))
    }

    pub(super) fn datetime_or_none(&mut self, node: &Node) -> Option<Val> {
        if node.is_null() {
            return Some(Val::new(VK::None, node.span));
        }
        self.datetime(node, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_relative_times() {
        let (t, micro) = parse_datetime("2024-03-01T06:30:00.25+02:00").expect("datetime");
        assert_eq!(
            (t.hour, t.minute, t.offset_minutes, micro),
            (6, 30, 120, 250_000)
        );
        assert!(parse_datetime("2024-02-30").is_none());
        assert_eq!(parse_datetime("2024-01-01").map(|(d, _)| d.hour), Some(0));
        assert_eq!(relative_time("1 hours"), Some(3_600_000));
        assert_eq!(relative_time("2 days"), Some(172_800_000));
        assert_eq!(relative_time("soon"), None);
    }
}
