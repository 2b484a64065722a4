//! How messages name values and types.

use crate::types::Ty;
use crate::value::{V, Value};

/// The text a value stands for inside a string, if it has one.
pub fn display(v: &Value) -> Option<String> {
    Some(match &v.v {
        V::Str(s) => s.to_string(),
        V::Int(i) => i.to_string(),
        V::Float(f) => format!("{f}"),
        V::Bool(b) => b.to_string(),
        V::Duration(ms) => dagf_syntax::duration_text(*ms),
        V::Date(d) => d.to_string(),
        V::DateTime(t) => format!("{}T{:02}:{:02}:{:02}", t.date, t.hour, t.minute, t.second),
        V::Preset(p) => format!("@{p}"),
        V::PyRef(p) => p.to_string(),
        V::Asset(a) => a.uri.clone(),
        _ => return None,
    })
}

pub(crate) fn describe(v: &Value) -> String {
    match display(v) {
        Some(t) if matches!(v.v, V::Str(_)) => format!("str \"{t}\""),
        Some(t) => format!("{} {t}", v.kind()),
        None => v.kind().to_string(),
    }
}

pub(crate) fn a_kind(v: &Value) -> String {
    with_article(v.kind())
}

pub(crate) fn help_for(what: &str) -> String {
    match what {
        "a duration" => "write a duration such as 30s, 5m, 2h, 1d or 1h30m".into(),
        "a datetime" | "a date" => {
            "write a date as 2024-01-01, or a datetime as 2024-01-01T06:00".into()
        }
        "a str" => "put the value in double quotes, or interpolate it: \"${value}\"".into(),
        "an int" => "write a whole number such as 3".into(),
        "a bool" => "write `true` or `false`".into(),
        "an asset" => "name an asset declared with `asset name = \"uri\"`".into(),
        list if list.starts_with("a list<") => {
            format!("write {list} in brackets, such as `[x, y]`; `[x]` for one value")
        }
        map if map.starts_with("a map<") => format!("write {map} as a record: `{{ key = value }}`"),
        "data (a value with a Python form)" => {
            "pass a str, number, list or record; a task's id is `\"name\"`, a factory is used by `dag`".into()
        }
        "a factory" => "name a factory, or a factory with some arguments given: `name(param = value)`".into(),
        other => format!("give {other} here"),
    }
}

pub(crate) fn range_text(base: &Ty, lo: Option<f64>, hi: Option<f64>, inclusive: bool) -> String {
    let show = |x: f64| {
        if matches!(base, Ty::Duration) {
            dagf_syntax::duration_text(x as i64)
        } else {
            format!("{x}")
        }
    };
    match (lo, hi) {
        (Some(lo), Some(hi)) if inclusive => format!("from {} to {}", show(lo), show(hi)),
        (Some(lo), Some(hi)) => format!("from {} to below {}", show(lo), show(hi)),
        // The smallest duration there is: said as what it means.
        (Some(lo), None) if lo == 1.0 && matches!(base, Ty::Duration) => "greater than zero".into(),
        (Some(lo), None) => format!("at least {}", show(lo)),
        (None, Some(hi)) if inclusive => format!("at most {}", show(hi)),
        (None, Some(hi)) => format!("below {}", show(hi)),
        (None, None) => "any".into(),
    }
}

pub(crate) fn abbreviate(names: &[&str]) -> String {
    if names.len() <= 12 {
        names.join(", ")
    } else {
        format!("{}, and {} more", names[..12].join(", "), names.len() - 12)
    }
}

/// `a list<str>`, `an ApiSource record`, `an int`: a type's name with its article (the
/// parser's words for what it expected read the same way).
pub(crate) use dagf_syntax::with_article;

pub(crate) trait TakeSuggestion {
    fn take_suggestion(&self) -> Option<String>;
}

impl TakeSuggestion for Option<String> {
    /// Pulls the name out of a "did you mean `x`?" help line.
    fn take_suggestion(&self) -> Option<String> {
        let h = self.as_deref()?;
        let start = h.find('`')? + 1;
        let end = start + h[start..].find('`')?;
        Some(h[start..end].to_string())
    }
}
