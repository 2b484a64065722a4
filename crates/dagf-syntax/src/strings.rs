//! String literals: escapes, `"""` dedent, and `${...}` interpolation, which is lexed
//! in place so the parser sees `StrHead expr StrMid expr StrTail`. `{{ ... }}` is
//! Airflow's Jinja and passes through untouched.

use crate::lexer::{Tok, lex};
use dagf_diag::{Code, Diagnostic, FileId, Span};

enum Piece {
    Text(std::ops::Range<usize>),
    Interp(std::ops::Range<usize>),
}

/// Splits raw string text (starting at byte `base` of `file`) into tokens appended to `out`.
pub(crate) fn split(
    raw: &str,
    base: usize,
    triple: bool,
    file: FileId,
    out: &mut Vec<(Tok, Span)>,
    diags: &mut Vec<Diagnostic>,
) {
    let mut bad = Vec::new();
    split_into(raw, base, triple, file, out, diags, &mut bad);
    // One string with several bad escapes (a Windows path) is one mistake.
    if let Some(((first, c), rest)) = bad.split_first() {
        let mut d = Diagnostic::at(
            Code::E0004,
            *first,
            format!("unknown escape `\\{c}`"),
            "not an escape",
        );
        if !rest.is_empty() {
            d.message = format!(
                "unknown escapes {}",
                bad.iter()
                    .map(|(_, c)| format!("`\\{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        for (span, _) in rest {
            d = d.with_label(*span, "not an escape either");
        }
        diags.push(d.with_help(
            "the escapes are \\n \\t \\r \\\\ \\\" and \\$; write `\\\\` for a backslash",
        ));
    }
}

/// [`split`], gathering the bad escapes in `bad`.
fn split_into(
    raw: &str,
    base: usize,
    triple: bool,
    file: FileId,
    out: &mut Vec<(Tok, Span)>,
    diags: &mut Vec<Diagnostic>,
    bad: &mut Vec<(Span, char)>,
) {
    let quote = if triple { 3 } else { 1 };
    let pieces = pieces(raw);
    let dropped = if triple {
        dedent_mask(raw)
    } else {
        vec![false; raw.len()]
    };
    let n = pieces
        .iter()
        .filter(|p| matches!(p, Piece::Interp(_)))
        .count();
    if n == 0 {
        let text = unescape(raw, 0..raw.len(), &dropped, base, file, bad);
        out.push((
            Tok::Str(text),
            Span::new(file, base - quote, base + raw.len() + quote),
        ));
        return;
    }
    let mut seen = 0;
    let mut pending_text: Option<(String, Span)> = None;
    let emit_text = |text: String, span: Span, seen: usize, out: &mut Vec<(Tok, Span)>| {
        let tok = if seen == 0 {
            Tok::StrHead(text)
        } else if seen == n {
            Tok::StrTail(text)
        } else {
            Tok::StrMid(text)
        };
        out.push((tok, span));
    };
    for piece in &pieces {
        match piece {
            Piece::Text(r) => {
                let start = if seen == 0 {
                    base - quote
                } else {
                    base + r.start
                };
                let end = if seen == n {
                    base + r.end + quote
                } else {
                    base + r.end
                };
                let text = unescape(raw, r.clone(), &dropped, base, file, bad);
                pending_text = Some((text, Span::new(file, start, end)));
            }
            Piece::Interp(r) => {
                let (text, span) = pending_text.take().unwrap_or_else(|| {
                    (
                        String::new(),
                        Span::new(file, base + r.start - 2, base + r.start),
                    )
                });
                emit_text(text, span, seen, out);
                let (toks, ds) = lex(&raw[r.clone()], file, base + r.start);
                out.extend(toks);
                diags.extend(ds);
                seen += 1;
            }
        }
    }
    let (text, span) = pending_text.unwrap_or_else(|| {
        let end = base + raw.len();
        (String::new(), Span::new(file, end, end + quote))
    });
    emit_text(text, span, seen, out);
}

/// Text and `${...}` ranges of the raw string (the ranges exclude `${` and `}`).
fn pieces(raw: &str) -> Vec<Piece> {
    let bytes = raw.as_bytes();
    let mut out = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i..].starts_with(b"${") {
            let inner = i + 2;
            let mut depth = 1;
            let mut j = inner;
            let mut in_str = false;
            while j < bytes.len() {
                match bytes[j] {
                    b'\\' => j += 1,
                    b'"' => in_str = !in_str,
                    b'{' if !in_str => depth += 1,
                    b'}' if !in_str => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            if text_start < i {
                out.push(Piece::Text(text_start..i));
            }
            out.push(Piece::Interp(inner..j.min(bytes.len())));
            i = j + 1;
            text_start = i.min(bytes.len());
            continue;
        }
        i += 1;
    }
    if text_start < bytes.len() || out.is_empty() {
        out.push(Piece::Text(text_start..bytes.len()));
    }
    out
}

/// Bytes a `"""` string drops: the newline after the opening quotes, the common
/// indentation of its lines, and a last line holding only the closing quotes' indent.
fn dedent_mask(raw: &str) -> Vec<bool> {
    let mut drop = vec![false; raw.len()];
    let lines: Vec<(usize, &str)> = {
        let mut start = 0;
        raw.split('\n')
            .map(|l| {
                let s = start;
                start += l.len() + 1;
                (s, l)
            })
            .collect()
    };
    let indent = lines
        .iter()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(_, l)| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    for (start, line) in &lines {
        let ws = line.len() - line.trim_start_matches([' ', '\t']).len();
        for b in drop.iter_mut().skip(*start).take(indent.min(ws)) {
            *b = true;
        }
    }
    if raw.starts_with('\n') {
        drop[0] = true;
    } else if let Some(nl) = raw.find('\n')
        && raw[..nl].trim().is_empty()
    {
        drop[..=nl].iter_mut().for_each(|b| *b = true);
    }
    if let Some(last_nl) = raw.rfind('\n')
        && raw[last_nl + 1..].trim().is_empty()
    {
        drop[last_nl..].iter_mut().for_each(|b| *b = true);
    }
    drop
}

fn unescape(
    raw: &str,
    range: std::ops::Range<usize>,
    dropped: &[bool],
    base: usize,
    file: FileId,
    bad: &mut Vec<(Span, char)>,
) -> String {
    let mut out = String::with_capacity(range.len());
    let mut chars = raw[range.clone()].char_indices().peekable();
    while let Some((off, c)) = chars.next() {
        let at = range.start + off;
        if dropped.get(at).copied().unwrap_or(false) {
            continue;
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, e)) = chars.next() else {
            out.push('\\');
            break;
        };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            '$' => out.push('$'),
            '\n' => {}
            other => {
                bad.push((
                    Span::new(file, base + at, base + at + 1 + other.len_utf8()),
                    other,
                ));
                out.push(other);
            }
        }
    }
    out
}

/// `s` as a one-line dagf string literal: `\\`, `"`, newlines, tabs, carriage returns
/// and a `$` before `{` escaped (other control characters, which no escape writes, as
/// they are: see [`unwritable_char`]).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The first character of `s` that a dagf string literal cannot write (a control
/// character other than a newline, a tab or a carriage return), if any.
pub fn unwritable_char(s: &str) -> Option<char> {
    s.chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
}
