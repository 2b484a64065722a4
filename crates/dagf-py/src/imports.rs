//! `from module import name` lines, sorted and grouped the way ruff's isort rule wants.

use crate::fmt::{INDENT, flat_or_exploded, join, pad};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::Write;

/// One `from module import name`.
pub(crate) struct Import<'a> {
    pub(crate) module: &'a str,
    pub(crate) name: &'a str,
    /// Set where a module earlier in the file exports the same name.
    pub(crate) alias: Option<String>,
}

/// `from module import name` lines, grouped and sorted the way ruff's isort rule wants.
#[derive(Default)]
pub(crate) struct Imports<'a> {
    /// Without repeats; once finished, sorted by module, then by name the way isort
    /// sorts names.
    pub(crate) names: Vec<Import<'a>>,
    /// Whether any import has an alias.
    pub(crate) aliased: bool,
}

impl<'a> Imports<'a> {
    pub(crate) fn add(&mut self, module: &'a str, name: &'a str) {
        if !self
            .names
            .iter()
            .any(|i| i.name == name && i.module == module)
        {
            self.names.push(Import {
                module,
                name,
                alias: None,
            });
        }
    }

    /// Sorts the imports, and gives a second import of an already imported name an alias.
    pub(crate) fn finish(&mut self) {
        self.names.sort_unstable_by(|a, b| {
            (a.module, isort_key(a.name)).cmp(&(b.module, isort_key(b.name)))
        });
        for i in 0..self.names.len() {
            let (earlier, rest) = self.names.split_at_mut(i);
            let import = &mut rest[0];
            if earlier.iter().any(|e| e.name == import.name) {
                import.alias = Some(format!(
                    "{}_{}",
                    import.module.replace('.', "_"),
                    import.name
                ));
                self.aliased = true;
            }
        }
    }

    /// The name `module.name` goes by in the file.
    pub(crate) fn local<'s>(&'s self, module: &str, name: &'s str) -> &'s str {
        let alias = self.aliased.then(|| {
            self.names
                .iter()
                .find(|i| i.module == module && i.name == name)
                .and_then(|i| i.alias.as_deref())
        });
        alias.flatten().unwrap_or(name)
    }

    /// The names the imports take in the file.
    pub(crate) fn locals(&self) -> impl Iterator<Item = Cow<'a, str>> + '_ {
        self.names.iter().map(|i| match &i.alias {
            Some(alias) => Cow::Owned(alias.clone()),
            None => Cow::Borrowed(i.name),
        })
    }

    /// Writes the import lines: the standard library's, a blank line, then the others.
    pub(crate) fn write_lines(&self, out: &mut String) {
        // The names of each module, modules in the order isort puts them.
        let mut modules: Vec<&[Import]> =
            self.names.chunk_by(|a, b| a.module == b.module).collect();
        modules.sort_by(|a, b| {
            let (a, b) = (a[0].module, b[0].module);
            (!is_stdlib(a))
                .cmp(&!is_stdlib(b))
                .then_with(|| cmp_lowercase(a, b))
                .then_with(|| a.cmp(b))
        });
        let import = |out: &mut String, i: &Import| {
            out.push_str(i.name);
            if let Some(alias) = &i.alias {
                out.push_str(" as ");
                out.push_str(alias);
            }
        };
        for (n, names) in modules.iter().enumerate() {
            let module = names[0].module;
            if n > 0 && is_stdlib(modules[n - 1][0].module) && !is_stdlib(module) {
                out.push('\n');
            }
            flat_or_exploded(
                out,
                0,
                0,
                |out| {
                    let _ = write!(out, "from {module} import ");
                    join(out, names.iter(), ", ", import);
                },
                |out| {
                    let _ = writeln!(out, "from {module} import (");
                    for i in names.iter() {
                        pad(out, INDENT);
                        import(out, i);
                        out.push_str(",\n");
                    }
                    out.push(')');
                },
            );
            out.push('\n');
        }
    }
}

/// Orders strings as their `str::to_lowercase` forms do, without making them when ASCII.
pub(crate) fn cmp_lowercase(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        let lower = |s| str::bytes(s).map(|c| c.to_ascii_lowercase());
        lower(a).cmp(lower(b))
    } else {
        a.to_lowercase().cmp(&b.to_lowercase())
    }
}

/// isort's "order by type": CONSTANTS, then Classes, then functions and variables.
pub(crate) fn isort_key(name: &str) -> (u8, &str) {
    let rank = if name.len() > 1
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
    {
        0
    } else if name.starts_with(|c: char| c.is_ascii_uppercase()) {
        1
    } else {
        2
    };
    (rank, name)
}

pub(crate) fn is_stdlib(module: &str) -> bool {
    matches!(
        module.split('.').next(),
        Some("datetime" | "functools" | "os" | "json")
    )
}
