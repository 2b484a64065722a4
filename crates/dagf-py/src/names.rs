//! Python names: identifiers, reserved words, and unique variables for tasks.

use std::borrow::Cow;
use std::collections::HashSet;

pub(crate) fn is_identifier(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !is_reserved(s)
}

/// Python keywords, and names a variable had better not shadow (soft keywords and
/// built-ins a reader expects to mean themselves).
pub(crate) fn is_reserved(name: &str) -> bool {
    dagf_ir::python::is_keyword(name)
        || matches!(
            name,
            "match"
                | "case"
                | "type"
                | "dag"
                | "print"
                | "list"
                | "dict"
                | "str"
                | "int"
                | "id"
                | "input"
                | "open"
                | "range"
                | "set"
                | "len"
                | "max"
                | "min"
                | "sum"
                | "filter"
                | "map"
                | "format"
                | "hash"
        )
}

/// A Python variable name for a task id, unique in the file (borrowed when the id
/// already is one).
pub(crate) fn unique_var<'a>(
    task_id: Cow<'a, str>,
    taken: &mut HashSet<Cow<'a, str>>,
) -> Cow<'a, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut base = if task_id.chars().all(plain) {
        task_id
    } else {
        Cow::Owned(
            task_id
                .chars()
                .map(|c| if plain(c) { c } else { '_' })
                .collect(),
        )
    };
    if base.starts_with(|c: char| c.is_ascii_digit()) || base.is_empty() {
        base = Cow::Owned(format!("t_{base}"));
    }
    if is_reserved(&base) || taken.contains(&*base) {
        base = Cow::Owned(format!("{base}_task"));
    }
    if taken.contains(&*base) {
        let mut n = 2;
        base = loop {
            let name = format!("{base}_{n}");
            if !taken.contains(name.as_str()) {
                break Cow::Owned(name);
            }
            n += 1;
        };
    }
    taken.insert(base.clone());
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_variables_avoid_keywords_and_imports() {
        let mut taken: HashSet<Cow<str>> = [Cow::Borrowed("load")].into_iter().collect();
        assert_eq!(unique_var("load".into(), &mut taken), "load_task");
        assert_eq!(unique_var("load".into(), &mut taken), "load_task_2");
        assert_eq!(unique_var("class".into(), &mut taken), "class_task");
        assert_eq!(unique_var("3-x.y".into(), &mut taken), "t_3_x_y");
        assert!(matches!(
            unique_var("fresh".into(), &mut taken),
            Cow::Borrowed("fresh")
        ));
    }
}
