use crate::{Code, Span};

/// Errors stop the build; warnings (lints) do not.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Stops the build: nothing is written (an `E` code).
    Error,
    /// A lint: reported, but the build goes on (a `W` code).
    Warning,
}

/// A span with what to say about it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Label {
    /// The source range the label underlines.
    pub span: Span,
    /// What the label says about it (`does not match`), shown beside the underline.
    pub message: String,
}

impl Label {
    /// A label saying `message` at `span`.
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Label {
            span,
            message: message.into(),
        }
    }
}

/// One problem found in the user's input. Pure data: rendering is elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Diagnostic {
    /// The registry code (`E0205`) that says what kind of problem it is and which `dagfc explain` page covers it.
    pub code: Code,
    /// The one-line headline (`"ERP" does not match the pattern ...`).
    pub message: String,
    /// Where the problem is. Only project-level problems (a missing `dagf.toml`) have none.
    pub primary: Option<Label>,
    /// Other places that explain it (`the pattern is declared here`).
    pub secondary: Vec<Label>,
    /// Extra lines shown after the labels, such as the other dags a mistake was met in.
    pub notes: Vec<String>,
    /// What to do about it: the `Help:` line.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with no place yet: a project-level problem until a primary label is added.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    /// A diagnostic pointing at `span` with `label` as its primary label.
    pub fn at(
        code: Code,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        Diagnostic::new(code, message).with_primary(span, label)
    }

    /// Sets where the problem is, with what to say there.
    pub fn with_primary(mut self, span: Span, label: impl Into<String>) -> Self {
        self.primary = Some(Label::new(span, label));
        self
    }

    /// Adds a secondary label: another place that explains the problem.
    pub fn with_label(mut self, span: Span, label: impl Into<String>) -> Self {
        self.secondary.push(Label::new(span, label));
        self
    }

    /// Adds a note line.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Sets the help line, replacing any there is.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets the help line unless one is already there (such as a "did you mean").
    pub fn or_help(self, help: impl Into<String>) -> Self {
        if self.help.is_some() {
            self
        } else {
            self.with_help(help)
        }
    }

    /// Adds a "did you mean" help line when a close candidate exists.
    pub fn with_suggestion<'a>(
        self,
        name: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        match crate::did_you_mean(name, candidates) {
            Some(c) => self.with_help(format!("did you mean `{c}`?")),
            None => self,
        }
    }

    /// Error or warning, as its code says.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    fn sort_key(&self) -> (Option<Span>, Code) {
        (self.primary.as_ref().map(|l| l.span), self.code)
    }
}

/// The diagnostics of a run, collected rather than thrown. The same diagnostic met
/// twice (a mistake inside a loop) is kept once, so counts match what is shown.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
    seen: std::collections::HashSet<Diagnostic>,
}

impl Diagnostics {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `d`, unless the same diagnostic was added before.
    pub fn push(&mut self, d: Diagnostic) {
        if self.seen.insert(d.clone()) {
            self.items.push(d);
        }
    }

    /// Adds each diagnostic of `ds`, as [`Diagnostics::push`] does.
    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        for d in ds {
            self.push(d);
        }
    }

    /// Whether any is an error, so the build must stop.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity() == Severity::Error)
    }

    /// How many are errors.
    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity() == Severity::Error)
            .count()
    }

    /// How many are warnings.
    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    /// Whether nothing was reported.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How many were reported (each distinct diagnostic once).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Sorted by place (project-level first), duplicates dropped.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by_key(Diagnostic::sort_key);
        self.items.dedup();
        self.items
    }

    /// The diagnostics in the order they were reported.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// One error per mistake: a mistake in a factory's body is met by every dag made
    /// from it, and each reports it, at the same place, with the same code and label
    /// (differing only in the value met, or in the dag named). These are kept once, with
    /// a note naming the other dags; warnings and project-level problems are kept as
    /// they are.
    pub fn one_per_place(self) -> Diagnostics {
        let items = self.into_sorted();
        let mut out = Diagnostics::new();
        let mut groups: Vec<(Diagnostic, Vec<Diagnostic>)> = Vec::new();
        let mut index: std::collections::HashMap<(crate::Code, Label, Option<String>), usize> =
            std::collections::HashMap::new();
        for d in items {
            let Some(primary) = d
                .primary
                .clone()
                .filter(|_| d.severity() == Severity::Error)
            else {
                groups.push((d, Vec::new()));
                continue;
            };
            match index.entry((d.code, primary, d.help.clone())) {
                std::collections::hash_map::Entry::Occupied(e) => groups[*e.get()].1.push(d),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(groups.len());
                    groups.push((d, Vec::new()));
                }
            }
        }
        for (first, more) in groups {
            if more.is_empty() {
                out.push(first);
                continue;
            }
            // The one kept does not depend on the order the dags were made in.
            let mut all = more;
            all.push(first);
            all.sort_by_key(|d| {
                let labels: Vec<(Span, String)> = d
                    .secondary
                    .iter()
                    .map(|l| (l.span, l.message.clone()))
                    .collect();
                (d.message.clone(), labels)
            });
            let kept = all.remove(0);
            let dags: Vec<&str> = all
                .iter()
                .flat_map(|d| &d.secondary)
                .filter_map(|l| l.message.strip_prefix("while making dag `"))
                .filter_map(|m| m.split('`').next())
                .collect();
            let note = if dags.len() == all.len() {
                format!(
                    "the dags {} meet the same mistake",
                    dags.iter()
                        .map(|d| format!("`{d}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                format!("met {} more times, the same mistake", all.len())
            };
            out.push(kept.with_note(note));
        }
        out
    }

    /// Takes out the diagnostics pushed after the first `at` (to add to them and push
    /// them back).
    pub fn take_from(&mut self, at: usize) -> Vec<Diagnostic> {
        let taken = self.items.split_off(at.min(self.items.len()));
        for d in &taken {
            self.seen.remove(d);
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FileId;

    fn met_by(dag: &str, value: &str) -> Diagnostic {
        Diagnostic::at(
            Code::E0201,
            Span::new(FileId(1), 10, 16),
            format!("expected a list<str>, found str {value:?}"),
            "this is a str",
        )
        .with_label(
            Span::new(FileId(1), 40, 46),
            format!("while making dag `{dag}` from `ingest`"),
        )
        .with_help("write a list")
    }

    #[test]
    fn a_mistake_met_by_several_dags_is_kept_once() {
        let mut ds = Diagnostics::new();
        ds.push(met_by("ingest_c", "c"));
        ds.push(met_by("ingest_a", "a"));
        ds.push(met_by("ingest_b", "b"));
        // Elsewhere, or a warning: kept.
        ds.push(Diagnostic::at(
            Code::E0201,
            Span::new(FileId(1), 60, 61),
            "other",
            "x",
        ));
        ds.push(Diagnostic::at(
            Code::W0001,
            Span::new(FileId(1), 10, 16),
            "unused",
            "x",
        ));
        ds.push(Diagnostic::at(
            Code::W0001,
            Span::new(FileId(1), 10, 16),
            "unused 2",
            "x",
        ));
        let kept = ds.one_per_place().into_sorted();
        assert_eq!(kept.len(), 4, "{kept:#?}");
        let first = &kept[0];
        assert!(first.message.ends_with("\"a\""), "{}", first.message);
        assert_eq!(
            first.notes,
            ["the dags `ingest_b`, `ingest_c` meet the same mistake"]
        );
    }
}
