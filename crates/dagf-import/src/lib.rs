//! `dagfc import dag-factory`: converts a dag-factory 1.1 YAML file into an equivalent
//! `.dagf` file. Pure: text in, text and diagnostics out.
//!
//! The YAML is read as dag-factory reads it (`yaml`), its meaning is rebuilt as a
//! model of the `.dagf` file (`convert`), which is printed (`emit`) and then
//! checked by the compiler itself; every diagnostic, the compiler's included, points at
//! the place in the YAML file it is about.

mod convert;
mod emit;
mod stdlib;
mod yaml;

use dagf_diag::{Diagnostic, Diagnostics, FileId, Label, Span};

/// What an import produced: the `.dagf` text and what was found on the way. The text is
/// only worth writing when there is no error.
#[derive(Debug)]
pub struct Imported {
    /// The `.dagf` file's text, headed by a comment naming the YAML file.
    pub dagf: String,
    /// What the conversion and the check of its result reported, each pointing into the YAML.
    pub diagnostics: Diagnostics,
}

/// Converts the dag-factory YAML `text` (file `file`, shown as `source_name` in the
/// header of the result).
pub fn dag_factory(text: &str, file: FileId, source_name: &str) -> Imported {
    let start = Span::new(file, 0, text.chars().next().map_or(0, char::len_utf8));
    let root = match yaml::parse(text, file) {
        Ok(root) => root,
        Err(d) => {
            let mut diagnostics = Diagnostics::new();
            diagnostics.push(*d);
            return Imported {
                dagf: String::new(),
                diagnostics,
            };
        }
    };
    let mut conv = convert::Conv::new(start);
    conv.file(root.as_ref());
    let printed = emit::print(&conv.doc, source_name);
    let mut diagnostics = conv.diags;
    if !diagnostics.has_errors() {
        for d in check(&printed, start) {
            diagnostics.push(d);
        }
    }
    Imported {
        dagf: printed.text,
        diagnostics,
    }
}

/// The name the generated text has while it is checked.
const CHECKED_NAME: &str = "imported.dagf";

/// Compiles the generated text and returns the compiler's diagnostics, moved to the
/// YAML places the text came from.
fn check(printed: &emit::Printed, fallback: Span) -> Vec<Diagnostic> {
    let checked = dagf_sema::check_text(CHECKED_NAME, &printed.text);
    let Some(generated) = checked.sources.find(CHECKED_NAME) else {
        return Vec::new();
    };
    let file = checked.sources.get(generated);
    let to_yaml = |label: &Label| -> Option<Label> {
        (label.span.file == generated).then(|| Label {
            span: printed.place(label.span.start as usize).unwrap_or(fallback),
            message: label.message.clone(),
        })
    };
    checked
        .diagnostics
        .into_sorted()
        .into_iter()
        .map(|d| {
            let mut out = Diagnostic::new(d.code, d.message.clone());
            out.notes = d.notes.clone();
            out.help = d.help.clone();
            if let Some(p) = &d.primary {
                if let Some(l) = to_yaml(p) {
                    let at = file.line_col(p.span.start);
                    let line = file
                        .text
                        .lines()
                        .nth(at.line.saturating_sub(1))
                        .unwrap_or("")
                        .trim();
                    out.primary = Some(l);
                    out.notes
                        .push(format!("in the imported .dagf, line {}: {line}", at.line));
                } else {
                    out.primary = Some(Label::new(fallback, p.message.clone()));
                }
            }
            out.secondary = d.secondary.iter().filter_map(to_yaml).collect();
            out
        })
        .collect()
}

#[cfg(test)]
mod tests;
