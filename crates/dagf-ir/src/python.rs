//! Python's rules for the names a generated file writes as code: keyword arguments,
//! module paths in imports, and the attribute an import takes.

/// Python's keywords (3.11 to 3.13), and `__debug__`, which no code may assign either:
/// none of them can be an identifier. Soft keywords (`match`, `case`, `type`, `_`) can.
pub const KEYWORDS: [&str; 36] = [
    "False",
    "None",
    "True",
    "__debug__",
    "and",
    "as",
    "assert",
    "async",
    "await",
    "break",
    "class",
    "continue",
    "def",
    "del",
    "elif",
    "else",
    "except",
    "finally",
    "for",
    "from",
    "global",
    "if",
    "import",
    "in",
    "is",
    "lambda",
    "nonlocal",
    "not",
    "or",
    "pass",
    "raise",
    "return",
    "try",
    "while",
    "with",
    "yield",
];

/// Whether `s` is a Python keyword.
pub fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

/// Whether `s` can be written as a Python name: ASCII letters, digits and `_`, not
/// starting with a digit, and not a keyword. (Python allows more letters; dagf writes
/// ASCII only, so that no name depends on Unicode normalisation.)
pub fn is_identifier(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !is_keyword(s)
}

/// Why `s` cannot be used as a name in Python code, if it cannot.
pub fn name_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("it is empty".to_string());
    }
    if is_keyword(s) {
        return Some(format!("`{s}` is a Python keyword"));
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        return Some(format!("`{s}` starts with a digit"));
    }
    s.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map(|c| format!("`{s}` holds `{}`", c.escape_debug()))
}

/// Why `path` cannot be imported as `from module import name` (it needs a module and a
/// name, each part a Python name), if it cannot.
pub fn path_problem(path: &str) -> Option<String> {
    let part = path.split('.').find_map(|part| match part {
        "" => Some(format!("`{path}` has an empty part")),
        _ => name_problem(part),
    });
    part.or_else(|| (!path.contains('.')).then(|| "it names no module".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_python() {
        assert!(is_identifier("load_2"));
        assert!(is_identifier("_private"));
        assert!(is_identifier("match"));
        for bad in ["", "2x", "class", "None", "__debug__", "a-b", "é"] {
            assert!(!is_identifier(bad), "{bad:?}");
            assert!(name_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn paths_need_a_module_and_python_names() {
        assert_eq!(path_problem("etl.transforms.clean"), None);
        assert_eq!(path_problem("a.match"), None);
        assert_eq!(path_problem("clean").as_deref(), Some("it names no module"));
        assert_eq!(
            path_problem("airflow.providers.class.X").as_deref(),
            Some("`class` is a Python keyword")
        );
        assert_eq!(
            path_problem("a..b").as_deref(),
            Some("`a..b` has an empty part")
        );
        assert_eq!(path_problem("a b.c").as_deref(), Some("`a b` holds ` `"));
    }
}
