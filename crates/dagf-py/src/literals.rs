//! Python literals: strings, floats, timedeltas and datetimes as Python writes them.

use dagf_ir::DateTime;
use std::fmt::Write;

/// A Python string literal in the quotes ruff prefers: double, unless single saves escapes.
pub fn py_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_py_str(&mut out, s);
    out
}

/// Appends `s` as a Python string literal to `out`, the way [`py_str`] writes it.
pub(crate) fn push_py_str(out: &mut String, s: &str) {
    let quote = if s.contains('"') && !s.contains('\'') {
        b'\''
    } else {
        b'"'
    };
    out.push(char::from(quote));
    // Everything to escape is ASCII, so the runs between are whole characters.
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\t' => "\\t",
            b'\r' => "\\r",
            b'"' if quote == b'"' => "\\\"",
            b'\'' if quote == b'\'' => "\\'",
            0..0x20 | 0x7f => "",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        if escaped.is_empty() {
            let _ = write!(out, "\\x{b:02x}");
        } else {
            out.push_str(escaped);
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
    out.push(char::from(quote));
}

/// Writes a float the way Python's `repr` does.
pub(crate) fn push_py_float(out: &mut String, f: f64) {
    if f.is_finite() {
        let start = out.len();
        let _ = write!(out, "{f:?}");
        // Python writes exponents with a sign and two digits: 1e-07.
        if let Some(e) = out[start..].find(['e', 'E']).map(|e| start + e) {
            out.replace_range(e..=e, "e");
            if !out[e + 1..].starts_with('-') {
                out.insert(e + 1, '+');
            }
            if out.len() - (e + 2) < 2 {
                out.insert(e + 2, '0');
            }
        }
    } else if f.is_nan() {
        out.push_str("float(\"nan\")");
    } else if f > 0.0 {
        out.push_str("float(\"inf\")");
    } else {
        out.push_str("float(\"-inf\")");
    }
}

/// Writes `timedelta(...)` for a number of milliseconds.
pub(crate) fn push_py_timedelta(out: &mut String, ms: i64) {
    let sign = if ms < 0 { "-" } else { "" };
    let mut rest = ms.unsigned_abs();
    out.push_str("timedelta(");
    if rest == 0 {
        out.push_str("seconds=0");
    }
    let mut first = true;
    for (unit, size) in [
        ("days", 86_400_000u64),
        ("hours", 3_600_000),
        ("minutes", 60_000),
        ("seconds", 1_000),
        ("milliseconds", 1),
    ] {
        if rest >= size {
            if !first {
                out.push_str(", ");
            }
            first = false;
            let _ = write!(out, "{unit}={sign}{}", rest / size);
            rest %= size;
        }
    }
    out.push(')');
}

/// Writes `datetime(...)` with its time zone.
pub(crate) fn push_py_datetime(out: &mut String, t: &DateTime) {
    let d = &t.date;
    let _ = write!(out, "datetime({}, {}, {}", d.year, d.month, d.day);
    if (t.hour, t.minute, t.second) != (0, 0, 0) {
        let _ = write!(out, ", {}, {}", t.hour, t.minute);
        if t.second != 0 {
            let _ = write!(out, ", {}", t.second);
        }
    }
    if t.offset_minutes == 0 {
        out.push_str(", tzinfo=timezone.utc)");
    } else {
        out.push_str(", tzinfo=timezone(");
        push_py_timedelta(out, i64::from(t.offset_minutes) * 60_000);
        out.push_str("))");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `write` writes.
    fn text(write: impl FnOnce(&mut String)) -> String {
        let mut out = String::new();
        write(&mut out);
        out
    }

    #[test]
    fn strings_use_the_quotes_ruff_prefers() {
        assert_eq!(py_str("plain"), "\"plain\"");
        assert_eq!(py_str("say \"hi\""), "'say \"hi\"'");
        assert_eq!(py_str("both \" and '"), "\"both \\\" and '\"");
        assert_eq!(py_str("a\nb\\"), "\"a\\nb\\\\\"");
        assert_eq!(py_str("é\u{1}\u{7f}ü"), "\"é\\x01\\x7fü\"");
    }

    #[test]
    fn durations_and_floats_read_like_python() {
        let td = |ms| text(|out| push_py_timedelta(out, ms));
        assert_eq!(td(5 * 60_000), "timedelta(minutes=5)");
        assert_eq!(td(5_400_000), "timedelta(hours=1, minutes=30)");
        assert_eq!(td(-5_400_000), "timedelta(hours=-1, minutes=-30)");
        assert_eq!(td(0), "timedelta(seconds=0)");
        let float = |f| text(|out| push_py_float(out, f));
        assert_eq!(float(0.5), "0.5");
        assert_eq!(float(1e-7), "1e-07");
        assert_eq!(float(1e20), "1e+20");
        assert_eq!(float(1.5e300), "1.5e+300");
        assert_eq!(float(f64::NEG_INFINITY), "float(\"-inf\")");
    }
}
