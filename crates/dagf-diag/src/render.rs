//! Rendering: ariadne for people, JSON for editors and CI. Diagnostics stay data until here.

use crate::{Diagnostic, FileId, Severity, Sources};
use ariadne::{Cache, Color, Config, IndexType, Label, Report, ReportKind, Source};
use std::fmt;

/// Whether [`render_human`] colours its output.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    /// Colour with ANSI escape codes, as for a terminal.
    Always,
    /// Plain text, as for a file or a pipe.
    Never,
}

/// Lazily built ariadne sources over our own source map.
struct AriadneCache<'a> {
    sources: &'a Sources,
    built: Vec<Option<Source<&'a str>>>,
}

impl<'a> Cache<FileId> for AriadneCache<'a> {
    type Storage = &'a str;

    fn fetch(&mut self, id: &FileId) -> Result<&Source<&'a str>, impl fmt::Debug> {
        let i = id.0 as usize;
        if i >= self.built.len() {
            return Err(format!("no file {i}"));
        }
        let sources = self.sources;
        Ok(self.built[i].get_or_insert_with(|| Source::from(sources.get(*id).text.as_str())))
    }

    fn display<'b>(&self, id: &'b FileId) -> Option<impl fmt::Display + 'b> {
        Some(self.sources.get(*id).name.clone())
    }
}

/// Renders diagnostics the way a person reads them, with source excerpts.
pub fn render_human(diags: &[Diagnostic], sources: &Sources, color: ColorChoice) -> String {
    let mut cache = AriadneCache {
        sources,
        built: sources.iter().map(|_| None).collect(),
    };
    let mut out = Vec::new();
    for d in diags {
        render_one(d, &mut cache, color, &mut out);
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn render_one(d: &Diagnostic, cache: &mut AriadneCache<'_>, color: ColorChoice, out: &mut Vec<u8>) {
    let (kind, tint) = match d.severity() {
        Severity::Error => (ReportKind::Error, Color::Red),
        Severity::Warning => (ReportKind::Warning, Color::Yellow),
    };
    let Some(primary) = &d.primary else {
        // Nothing to point at: a plain block in the same shape.
        let head = match d.severity() {
            Severity::Error => "Error",
            Severity::Warning => "Warning",
        };
        out.extend(format!("[{}] {head}: {}\n", d.code, d.message).bytes());
        for n in &d.notes {
            out.extend(format!("    Note: {n}\n").bytes());
        }
        if let Some(h) = &d.help {
            out.extend(format!("    Help: {h}\n").bytes());
        }
        return;
    };
    let config = Config::default()
        .with_index_type(IndexType::Byte)
        .with_color(color == ColorChoice::Always);
    let span = |s: crate::Span| (s.file, s.range());
    // ariadne starts a new excerpt whenever a label sits above the previous one, so
    // labels go in file order (the primary's file first) to share one excerpt per file.
    let mut labels: Vec<(&crate::Label, Color)> = vec![(primary, tint)];
    labels.extend(d.secondary.iter().map(|l| (l, Color::Blue)));
    labels.sort_by_key(|(l, _)| (l.span.file != primary.span.file, l.span.file, l.span.start));
    let mut report = Report::build(kind, span(primary.span))
        .with_config(config)
        .with_code(d.code)
        .with_message(&d.message);
    for (i, (l, color)) in labels.into_iter().enumerate() {
        report = report.with_label(
            Label::new(span(l.span))
                .with_message(&l.message)
                .with_color(color)
                .with_order(i as i32),
        );
    }
    for n in &d.notes {
        report = report.with_note(n);
    }
    if let Some(h) = &d.help {
        report = report.with_help(h);
    }
    // Writing into a Vec cannot fail; a broken span only loses the excerpt.
    let _ = report.finish().write(&mut *cache, &mut *out);
}

/// One JSON object per line, for editors and CI; each says `"type": "diagnostic"`, so
/// that a stream can carry other objects (`dagfc`'s closing summary) too.
pub fn render_json(diags: &[Diagnostic], sources: &Sources) -> String {
    let label = |l: &crate::Label| {
        let f = sources.get(l.span.file);
        let (s, e) = (f.line_col(l.span.start), f.line_col(l.span.end));
        serde_json::json!({
            "file": f.name,
            "byte_start": l.span.start,
            "byte_end": l.span.end,
            "line_start": s.line,
            "column_start": s.col,
            "line_end": e.line,
            "column_end": e.col,
            "message": l.message,
        })
    };
    let mut out = String::new();
    for d in diags {
        let v = serde_json::json!({
            "type": "diagnostic",
            "code": d.code.as_str(),
            "severity": match d.severity() { Severity::Error => "error", Severity::Warning => "warning" },
            "message": d.message,
            "primary": d.primary.as_ref().map(label),
            "secondary": d.secondary.iter().map(label).collect::<Vec<_>>(),
            "notes": d.notes,
            "help": d.help,
        });
        out.push_str(&v.to_string());
        out.push('\n');
    }
    out
}
