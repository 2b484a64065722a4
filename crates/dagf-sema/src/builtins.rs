//! Built-in functions. Pure: no clock, no I/O; `getenv` reads only the variables the
//! caller handed to the compiler.

use crate::value::{V, Value};
use std::rc::Rc;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Builtin {
    Len,
    Lower,
    Upper,
    Trim,
    Replace,
    Join,
    Split,
    Range,
    Str,
    Int,
    Getenv,
    Contains,
    Keys,
    /// The name of a value's type (`"str"`, `"list"`, ...): how a union is told apart.
    TypeOf,
    /// In a mixin's `after` block: the tasks nothing runs before.
    Roots,
    /// In a mixin's `after` block: the tasks nothing runs after.
    Leaves,
}

pub const ALL: &[(&str, Builtin)] = &[
    ("len", Builtin::Len),
    ("lower", Builtin::Lower),
    ("upper", Builtin::Upper),
    ("trim", Builtin::Trim),
    ("replace", Builtin::Replace),
    ("join", Builtin::Join),
    ("split", Builtin::Split),
    ("range", Builtin::Range),
    ("str", Builtin::Str),
    ("int", Builtin::Int),
    ("getenv", Builtin::Getenv),
    ("contains", Builtin::Contains),
    ("keys", Builtin::Keys),
    ("type_of", Builtin::TypeOf),
    ("roots", Builtin::Roots),
    ("leaves", Builtin::Leaves),
];

/// The literal a name most likely means: `True`, `FALSE`, `None`, `null` are how other
/// languages write `true`, `false` and `none`.
pub fn literal_meant(name: &str) -> Option<&'static str> {
    match name {
        "True" | "TRUE" => Some("true"),
        "False" | "FALSE" => Some("false"),
        "None" | "NONE" | "null" | "Null" | "NULL" | "nil" => Some("none"),
        _ => None,
    }
}

pub fn lookup(name: &str) -> Option<Builtin> {
    ALL.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

impl Builtin {
    pub fn name(self) -> &'static str {
        ALL.iter().find(|(_, b)| *b == self).map_or("?", |(n, _)| n)
    }

    /// How many arguments it takes, at least and at most.
    pub fn arity(self) -> (usize, usize) {
        match self {
            Builtin::Roots | Builtin::Leaves => (0, 0),
            Builtin::Len
            | Builtin::Lower
            | Builtin::Upper
            | Builtin::Trim
            | Builtin::Str
            | Builtin::Int
            | Builtin::Keys
            | Builtin::TypeOf => (1, 1),
            Builtin::Join | Builtin::Split | Builtin::Contains => (2, 2),
            Builtin::Replace => (3, 3),
            Builtin::Range | Builtin::Getenv => (1, 2),
        }
    }
}

/// The result, or an error message about argument `usize`.
pub type Outcome = Result<V, (usize, String)>;

pub const MAX_RANGE: i64 = 100_000;

pub fn call(
    b: Builtin,
    args: &[Value],
    env_vars: &std::collections::BTreeMap<String, String>,
) -> Outcome {
    let s = |i: usize| -> Result<&str, (usize, String)> {
        match &args[i].v {
            V::Str(s) => Ok(s),
            _ => Err((i, format!("expected a str, found {}", args[i].kind()))),
        }
    };
    let int = |i: usize| -> Result<i64, (usize, String)> {
        match &args[i].v {
            V::Int(n) => Ok(*n),
            _ => Err((i, format!("expected an int, found {}", args[i].kind()))),
        }
    };
    let text = |x: &str| V::Str(Rc::from(x));
    Ok(match b {
        Builtin::Len => match &args[0].v {
            V::Str(s) => V::Int(s.chars().count() as i64),
            V::List(l) => V::Int(l.len() as i64),
            V::Record(r) => V::Int(r.len() as i64),
            _ => {
                return Err((
                    0,
                    format!("`len` takes a str, list or record, not {}", args[0].kind()),
                ));
            }
        },
        Builtin::Lower => text(&s(0)?.to_lowercase()),
        Builtin::Upper => text(&s(0)?.to_uppercase()),
        Builtin::Trim => text(s(0)?.trim()),
        Builtin::Replace => text(&s(0)?.replace(s(1)?, s(2)?)),
        Builtin::Join => {
            let V::List(items) = &args[0].v else {
                return Err((0, format!("expected a list, found {}", args[0].kind())));
            };
            let sep = s(1)?;
            let mut parts = Vec::with_capacity(items.len());
            for item in items.iter() {
                match crate::words::display(item) {
                    Some(t) => parts.push(t),
                    None => {
                        return Err((
                            0,
                            format!("cannot join a list holding {}", crate::words::a_kind(item)),
                        ));
                    }
                }
            }
            text(&parts.join(sep))
        }
        Builtin::Split => {
            let span = args[0].span;
            let parts = s(0)?
                .split(s(1)?)
                .map(|p| Value::new(text(p), span))
                .collect();
            V::List(Rc::new(parts))
        }
        Builtin::Range => {
            let (lo, hi) = if args.len() == 1 {
                (0, int(0)?)
            } else {
                (int(0)?, int(1)?)
            };
            if hi.saturating_sub(lo) > MAX_RANGE {
                return Err((
                    0,
                    format!(
                        "range of {} numbers is over the limit of {MAX_RANGE}",
                        hi - lo
                    ),
                ));
            }
            let span = args[0].span;
            V::List(Rc::new(
                (lo..hi).map(|i| Value::new(V::Int(i), span)).collect(),
            ))
        }
        Builtin::Str => match crate::words::display(&args[0]) {
            Some(t) => text(&t),
            None => {
                return Err((
                    0,
                    format!("cannot turn {} into a str", crate::words::a_kind(&args[0])),
                ));
            }
        },
        Builtin::Int => match &args[0].v {
            V::Int(n) => V::Int(*n),
            // In range: `as` would saturate a float past the ends of i64.
            V::Float(f) if (-9.223_372_036_854_775e18..9.223_372_036_854_775e18).contains(f) => {
                V::Int(f.trunc() as i64)
            }
            V::Float(f) => return Err((0, format!("{f:e} does not fit in an int's 64 bits"))),
            V::Str(t) => match t.trim().parse::<i64>() {
                Ok(n) => V::Int(n),
                Err(_) => return Err((0, format!("`{t}` is not a whole number"))),
            },
            _ => {
                return Err((
                    0,
                    format!("cannot turn {} into an int", crate::words::a_kind(&args[0])),
                ));
            }
        },
        Builtin::Getenv => {
            let name = s(0)?;
            match env_vars.get(name) {
                Some(v) => text(v),
                None if args.len() == 2 => args[1].v.clone(),
                None => {
                    return Err((
                        0,
                        format!(
                            "environment variable `{name}` is not set and no default was given"
                        ),
                    ));
                }
            }
        }
        Builtin::Contains => match &args[0].v {
            V::Str(h) => V::Bool(h.contains(s(1)?)),
            V::List(l) => V::Bool(l.iter().any(|x| x.same(&args[1]))),
            V::Record(r) => V::Bool(r.iter().any(|(k, _)| &**k == s(1).unwrap_or(""))),
            _ => {
                return Err((
                    0,
                    format!(
                        "`contains` takes a str, list or record, not {}",
                        args[0].kind()
                    ),
                ));
            }
        },
        // Answered by the evaluator, which knows the DAG being built.
        Builtin::Roots | Builtin::Leaves => {
            return Err((
                0,
                "is only available in a mixin's `after` block".to_string(),
            ));
        }
        Builtin::TypeOf => text(match &args[0].v {
            V::Preset(_) => "schedule",
            _ => args[0].kind(),
        }),
        Builtin::Keys => match &args[0].v {
            V::Record(r) => V::List(Rc::new(
                r.iter()
                    .map(|(k, v)| Value::new(V::Str(k.clone()), v.span))
                    .collect(),
            )),
            _ => return Err((0, format!("`keys` takes a record, not {}", args[0].kind()))),
        },
    })
}
