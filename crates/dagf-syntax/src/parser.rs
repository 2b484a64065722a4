//! The parser: chumsky over the lexer's tokens. It never fails: on a syntax error it
//! records a diagnostic, skips to a point it can resume from, and leaves an `Error` node.

use crate::ast::*;
use crate::lexer::{Tok, lex};
use chumsky::input::{Input as _, ValueInput};
use chumsky::prelude::*;
use dagf_diag::{Code, Diagnostic, FileId, Span};

/// What the parser records of a mistake: a `Rich` error for diagnostics, or nothing
/// at all (`EmptyErr`) in the first, fast pass over input that is most likely right.
trait ParseErr<'t, I: chumsky::input::Input<'t>>:
    chumsky::error::LabelError<'t, I, &'static str>
    + chumsky::error::LabelError<'t, I, chumsky::DefaultExpected<'t, Tok>>
    + chumsky::error::Error<'t, I>
    + 't
{
    /// A block left open at the end of the file.
    fn unclosed(open: SimpleSpan) -> Self;
}

impl<'t, I> ParseErr<'t, I> for Rich<'t, Tok, SimpleSpan>
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
{
    fn unclosed(open: SimpleSpan) -> Self {
        Rich::custom(open, UNCLOSED)
    }
}

impl<'t, I: chumsky::input::Input<'t>> ParseErr<'t, I> for EmptyErr {
    fn unclosed(_: SimpleSpan) -> Self {
        EmptyErr::default()
    }
}

/// The lexer's tokens as the parser reads them: without the ones it could not read
/// (already reported), with chumsky's spans.
fn parser_tokens(toks: Vec<(Tok, Span)>) -> Vec<(Tok, SimpleSpan)> {
    toks.into_iter()
        .filter(|(t, _)| *t != Tok::Error)
        .map(|(t, s)| (t, SimpleSpan::from(s.range())))
        .collect()
}

/// Parses one file. Always returns a module (possibly with `Error` nodes) and the
/// diagnostics met while lexing and parsing.
pub fn parse(text: &str, file: FileId) -> (Module, Vec<Diagnostic>) {
    let (toks, diags) = lex(text, file, 0);
    let comments = crate::lexer::comments(text, &toks, file);
    // A text with many characters that are no token is no `.dagf` file with a mistake
    // or two: it is not repaired (see `repair`).
    let lex_errors = diags
        .iter()
        .filter(|d| matches!(d.code.as_str(), "E0002" | "E0003"))
        .count();
    let garbage = lex_errors > MAX_LEX_ERRORS;
    let left_open = diags.iter().filter(|_| !garbage).find_map(|d| {
        let at = d.primary.as_ref()?.span.start as usize;
        (d.code == Code::E0002 && text[at..].starts_with('"') && !text[at..].starts_with("\"\"\""))
            .then_some(at)
    });
    let (toks, mut diags) = left_open
        .and_then(|open| close_string(text, file, open))
        .unwrap_or((toks, diags));
    diags.extend(
        toks.iter()
            .filter_map(|(t, span)| invalid_literal(t, *span)),
    );
    let toks = parser_tokens(toks);
    if let Some(d) = too_deep(&toks, file) {
        diags.push(d);
        return (
            Module {
                file,
                items: Vec::new(),
                comments,
            },
            diags,
        );
    }
    let eoi = SimpleSpan::from(text.len()..text.len());
    // Most files are right: a first pass that keeps no error information is several
    // times cheaper, and only a file it finds wrong is looked at again.
    // Quotes paired wrongly can leave no string open: `"a, "s3://b" }` is a string, a
    // name, and a comment. A line with an odd number of quotes is tried as one.
    let mut closed = clean_parse(&toks, eoi, file);
    let mut toks = toks;
    if closed.is_none()
        && left_open.is_none()
        && !garbage
        && let Some((fixed, ds)) = odd_quote(text).and_then(|open| close_string(text, file, open))
    {
        let parsed = parser_tokens(fixed.clone());
        if let Some(items) = clean_parse(&parsed, eoi, file) {
            diags = ds;
            diags.extend(
                fixed
                    .iter()
                    .filter_map(|(t, span)| invalid_literal(t, *span)),
            );
            closed = Some(items);
            toks = parsed;
        }
    }
    let items = match closed {
        Some(items) => Some(items),
        None => {
            let reported: Vec<std::ops::Range<usize>> = diags
                .iter()
                .filter(|d| d.code == Code::E0002)
                .filter_map(|d| d.primary.as_ref().map(|l| l.span.range()))
                .collect();
            let fixed = repair(text, file, toks, eoi, &reported, garbage);
            diags.extend(fixed.said);
            match fixed.items {
                Some(items) => Some(items),
                None => {
                    let (items, errs) = match fixed.last {
                        Some(done) => done,
                        None => recovering_parse(&fixed.toks, eoi, file),
                    };
                    // An unterminated string or comment swallows the closing brackets
                    // after it: what the parser then misses at the end of the file is
                    // not worth a second error.
                    let swallowed = diags.iter().any(|d| d.code == Code::E0002);
                    diags.extend(
                        errs.into_iter()
                            .filter(|e| {
                                !(swallowed
                                    && (e.span().start >= text.len()
                                        || matches!(e.reason(), chumsky::error::RichReason::Custom(m) if m == UNCLOSED)))
                            })
                            .map(|e| syntax_error(e, file)),
                    );
                    items
                }
            }
        }
    };
    let mut items = items.unwrap_or_default();
    for item in &mut items {
        let (depth, span) = match item {
            Item::Stmt(s) => max_depth([&*s]),
            Item::Factory(f) => max_depth(&f.body),
            _ => continue,
        };
        if depth > MAX_NESTING {
            diags.push(
                Diagnostic::at(
                    Code::E0210,
                    span,
                    format!("nested more than {MAX_NESTING} levels deep"),
                    "the nesting reaches this deep here",
                )
                .with_help("flatten it: bind parts with `let`, or build lists with a loop"),
            );
            let whole = match item {
                Item::Stmt(s) => s.span(),
                Item::Factory(f) => f.span,
                _ => span,
            };
            *item = Item::Stmt(Stmt::Error(whole));
        }
    }
    (
        Module {
            file,
            items,
            comments,
        },
        diags,
    )
}

/// The last `"` of the first line with an odd number of them (not counting `\"`, nor
/// the lines of a `"""` string).
fn odd_quote(text: &str) -> Option<usize> {
    let mut in_triple = false;
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let triples = line.matches("\"\"\"").count();
        if triples % 2 == 1 {
            in_triple = !in_triple;
        }
        if triples == 0 && !in_triple {
            let quotes: Vec<usize> = line
                .match_indices('"')
                .map(|(i, _)| i)
                .filter(|&i| !line[..i].ends_with('\\'))
                .collect();
            if quotes.len() % 2 == 1 {
                return quotes.last().map(|q| start + q);
            }
        }
        start += line.len();
    }
    None
}

/// A file's tokens and the diagnostics met while lexing it.
type Lexed = (Vec<(Tok, Span)>, Vec<Diagnostic>);

/// A `"` string left open swallows the rest of its line, brackets and all. Where the
/// closing quote was most likely meant (before a `,`, a closing bracket or the end of
/// the line, after the opening quote or, when quotes were paired wrongly, before it),
/// the text with that quote added is lexed again; the first place that makes the whole
/// file parse is taken, and the string is reported there once.
fn close_string(text: &str, file: FileId, open: usize) -> Option<Lexed> {
    if text.len() / 4 > MAX_REPAIR_TOKENS {
        return None;
    }
    let line_start = text[..open].rfind('\n').map_or(0, |n| n + 1);
    let line_end = text[open..].find('\n').map_or(text.len(), |n| open + n);
    let line = &text[line_start..line_end];
    let end = line_start + line.trim_end().len();
    // Before a delimiter, and before the blanks ahead of it.
    let mut after = Vec::new();
    let mut before = Vec::new();
    for (i, c) in line.char_indices() {
        let at = line_start + i;
        if at >= end {
            break;
        }
        let places = if at > open { &mut after } else { &mut before };
        if matches!(c, ',' | ')' | ']' | '}' | ';' | ':' | '=' | '{' | '>' | '|') {
            places.push(line_start + line[..i].trim_end().len());
            places.push(at);
        } else if c.is_whitespace() && !line[..i].ends_with(char::is_whitespace) {
            places.push(at);
        }
    }
    after.push(end);
    after.dedup();
    before.dedup();
    // An empty string is the least likely: `",)` is more likely `","` than `""`.
    if let Some(empty) = after.iter().position(|&a| a == open + 1) {
        let a = after.remove(empty);
        after.push(a);
    }
    let eoi = SimpleSpan::from(text.len()..text.len());
    let arithmetic_before = strings_in_arithmetic(&lex(text, file, 0).0);
    // The shortest string first: after the open quote, then (for quotes paired wrongly)
    // from the start of the line.
    for at in after
        .into_iter()
        .chain(before)
        .filter(|&a| a != open)
        .take(32)
    {
        let fixed = format!("{}\"{}", &text[..at], &text[at..]);
        let (toks, ds) = lex(&fixed, file, 0);
        let back = |o: u32| if o as usize > at { o - 1 } else { o };
        let moved = |s: Span| Span {
            file: s.file,
            start: back(s.start),
            end: back(s.end),
        };
        if ds.iter().any(|d| {
            d.code == Code::E0002
                && d.primary
                    .as_ref()
                    .is_some_and(|l| (l.span.start as usize) < line_end + 1)
        }) {
            continue;
        }
        let toks: Vec<(Tok, Span)> = toks.into_iter().map(|(t, s)| (t, moved(s))).collect();
        if strings_in_arithmetic(&toks) > arithmetic_before {
            continue;
        }
        let parsed = parser_tokens(toks.clone());
        if too_deep(&parsed, file).is_some() || clean_parse(&parsed, eoi, file).is_none() {
            continue;
        }
        // The string the quote closes: from its opening quote to the quote added.
        let closing = toks.iter().rposition(|(_, s)| s.end as usize == at)?;
        let mut depth = 0usize;
        let mut start = closing;
        for i in (0..=closing).rev() {
            match &toks[i].0 {
                Tok::StrTail(_) => depth += 1,
                Tok::StrHead(_) if depth <= 1 => {
                    start = i;
                    break;
                }
                Tok::StrHead(_) => depth -= 1,
                Tok::Str(_) if i == closing => {
                    start = i;
                    break;
                }
                _ => {}
            }
        }
        let string = Span::new(file, toks[start].1.start as usize, at);
        let mut out: Vec<Diagnostic> = ds
            .into_iter()
            .map(|mut d| {
                for l in d.primary.iter_mut().chain(d.secondary.iter_mut()) {
                    l.span = moved(l.span);
                }
                d
            })
            .collect();
        // Where the string seems to end, when that is before the end of the line: at
        // the next character that is not a blank.
        let next = text[at..end]
            .char_indices()
            .find(|(_, c)| !c.is_whitespace())
            .map(|(i, c)| Span::new(file, at + i, at + i + c.len_utf8()));
        let mut d = Diagnostic::at(
            Code::E0002,
            string,
            "unterminated string",
            "this string is never closed",
        );
        if let Some(next) = next {
            d = d.with_label(next, "its closing `\"` seems to belong before this");
        }
        out.push(d.with_help(
            "close the string with `\"` on the same line, or use `\"\"\"` for text over several lines",
        ));
        return Some((toks, out));
    }
    None
}

/// Where a statement stands, for [`misplaced`].
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Top,
    Body,
    Task,
}

/// How many statements of a repaired file stand where they are never allowed: fields,
/// dependencies, tasks and groups at the top level, DAGs inside a body, declarations and
/// dependencies in a task's body. Of two edits that make a file parse, the one that
/// leaves fewer is the likelier reading.
fn misplaced(items: &[Item]) -> usize {
    fn count(stmts: &[Stmt], at: Place) -> usize {
        stmts
            .iter()
            .map(|s| match s {
                Stmt::Field { .. } => usize::from(at == Place::Top),
                Stmt::Deps { .. } | Stmt::After { .. } | Stmt::Params { .. } => {
                    usize::from(at != Place::Body)
                }
                Stmt::Decl(d) => {
                    let (wrong, inside) = match (at, d.kind) {
                        (Place::Top, DeclKind::Dag) => (false, Place::Body),
                        (Place::Body, DeclKind::Task) => (false, Place::Task),
                        (Place::Body, DeclKind::Group) => (false, Place::Body),
                        (_, DeclKind::Task) => (true, Place::Task),
                        _ => (true, Place::Body),
                    };
                    usize::from(wrong) + d.body.as_deref().map_or(0, |b| count(b, inside))
                }
                Stmt::For { body, .. } => count(body, at),
                Stmt::If {
                    then, otherwise, ..
                } => count(then, at) + count(otherwise, at),
                Stmt::Let { .. } | Stmt::Error(_) => 0,
            })
            .sum()
    }
    items
        .iter()
        .map(|i| match i {
            Item::Stmt(s) => count(std::slice::from_ref(s), Place::Top),
            Item::Factory(f) => count(&f.body, Place::Body),
            // A source reads from strings; everything else is `name = value`.
            Item::Source(src) => src
                .args
                .iter()
                .filter(|a| a.name.is_none() && !matches!(a.value.kind, ExprKind::Str(_)))
                .count(),
            _ => 0,
        })
        .sum()
}

/// How many times a string literal is an operand of `*`, `/` or `-`, which never
/// applies to text: `"0 6 *" * 1-5` is a string closed in the wrong place.
fn strings_in_arithmetic(toks: &[(Tok, Span)]) -> usize {
    let arithmetic = |t: &Tok| matches!(t, Tok::Star | Tok::Slash | Tok::Minus);
    let string = |t: &Tok| matches!(t, Tok::Str(_) | Tok::StrTail(_) | Tok::StrHead(_));
    toks.windows(2)
        .filter(|w| {
            (string(&w[0].0) && arithmetic(&w[1].0)) || (arithmetic(&w[0].0) && string(&w[1].0))
        })
        .count()
}

/// The items of a token stream with no syntax error in it, from the fast pass.
fn clean_parse(toks: &[(Tok, SimpleSpan)], eoi: SimpleSpan, file: FileId) -> Option<Vec<Item>> {
    let input = toks.map(eoi, |(t, s)| (t, s));
    let fast = module_parser::<_, EmptyErr>(file, false).parse(input);
    if fast.has_errors() {
        None
    } else {
        fast.into_output()
    }
}

/// How many one-token edits a file gets before its remaining mistakes are reported as
/// the parser recovers from them.
const MAX_REPAIRS: usize = 6;
/// How many edits are tried for one mistake.
const MAX_CANDIDATES: usize = 24;
/// How many of those are tried for getting further when none makes the file parse
/// (each such try is a slower, diagnostic parse).
const MAX_PARTIAL: usize = 2;
/// Larger files are not repaired: each try parses the whole file again.
const MAX_REPAIR_TOKENS: usize = 200_000;
/// How many times its own length the tries of one file may parse in all (a diagnostic
/// parse, which recovers from every mistake, counts for several): the cost of a file
/// with many mistakes stays in proportion to its size.
const REPAIR_BUDGET: usize = 80;
/// What a diagnostic parse costs, in fast parses.
const RICH_COST: usize = 6;
/// A text with more characters that are no token (or strings left open) than this is
/// not a `.dagf` file with a mistake or two: it is reported as the parser recovers,
/// without repairs.
const MAX_LEX_ERRORS: usize = 3;

/// The edit that made the file parse with the fewest misfits so far: their count, the
/// edit, the tokens as edited, and their items.
type Best<'c> = (
    usize,
    &'c crate::repair::Candidate,
    Vec<(Tok, SimpleSpan)>,
    Vec<Item>,
);

/// What [`repair`] made of a file with mistakes.
struct Repaired {
    /// The tokens with the edits made.
    toks: Vec<(Tok, SimpleSpan)>,
    /// One diagnostic per edit.
    said: Vec<Diagnostic>,
    /// The items, when the edits left no mistake.
    items: Option<Vec<Item>>,
    /// The recovering parse of `toks`, when one was made last.
    last: Option<Recovered>,
}

/// What a parse that recovers from every mistake gives: the items it could read, and
/// the mistakes.
type Recovered = (Option<Vec<Item>>, Vec<Rich<'static, Tok, SimpleSpan>>);

/// Parses `toks`, recovering from every mistake.
fn recovering_parse(toks: &[(Tok, SimpleSpan)], eoi: SimpleSpan, file: FileId) -> Recovered {
    let input = toks.map(eoi, |(t, s)| (t, s));
    let (items, errs) = module_parser::<_, Rich<Tok>>(file, true)
        .parse(input)
        .into_output_errors();
    (items, errs.into_iter().map(Rich::into_owned).collect())
}

/// Looks for one-token edits (see `crate::repair`) that make the file parse, one
/// mistake at a time, starting with the first.
fn repair(
    text: &str,
    file: FileId,
    toks: Vec<(Tok, SimpleSpan)>,
    eoi: SimpleSpan,
    reported: &[std::ops::Range<usize>],
    garbage: bool,
) -> Repaired {
    use crate::repair::{Candidates, Lines, apply};
    let lines = Lines::new(text);
    let mut work = toks;
    let mut said = Vec::new();
    // The first mistake.
    let first_of = |errs: &[Rich<'static, Tok, SimpleSpan>]| {
        errs.iter().min_by_key(|e| e.span().start).cloned()
    };
    // The recovering parse of `work`, once made: the diagnostics of what is left.
    let mut last: Option<Recovered> = None;
    let mut budget = REPAIR_BUDGET * (work.len() + 1);
    let mut spend = |n: usize| -> bool {
        budget = budget.saturating_sub(n + 1);
        budget > 0
    };
    for _ in 0..MAX_REPAIRS {
        if garbage || work.len() > MAX_REPAIR_TOKENS {
            break;
        }
        let done = match last.take() {
            Some(done) => done,
            None if spend(RICH_COST * work.len()) => recovering_parse(&work, eoi, file),
            None => break,
        };
        let first = first_of(&done.1);
        last = Some(done);
        let Some(first) = first else {
            break;
        };
        let p = work.partition_point(|(_, s)| s.start < first.span().start);
        let error = syntax_error(first, file);
        let candidates = Candidates {
            toks: &work,
            lines: &lines,
            file,
            reported,
        }
        .all(p, &error);
        let mut chosen = None;
        // Of the edits that make the file parse, the one whose brackets agree best with
        // the indentation: `{ task t: empty` and `task t: empty {` both parse with a `}`
        // added at the end of the line, and with the `{` removed.
        let mut best: Option<Best> = None;
        for c in candidates.iter().take(MAX_CANDIDATES) {
            if !spend(work.len()) {
                break;
            }
            let edited = apply(&work, &c.edit);
            if let Some(items) = clean_parse(&edited, eoi, file) {
                let score = lines.misfits(&edited) + misplaced(&items);
                if best.as_ref().is_none_or(|(b, ..)| score < *b) {
                    best = Some((score, c, edited, items));
                }
                if score == 0 {
                    break;
                }
            }
        }
        if let Some((_, c, edited, items)) = best {
            said.extend(c.diag.clone());
            return Repaired {
                toks: edited,
                said,
                items: Some(items),
                last: None,
            };
        }
        // No edit makes the whole file parse: there is more than one mistake. Take an
        // edit that gets the parser well past this one, and go on with the next.
        for c in candidates.iter().take(MAX_PARTIAL) {
            if !spend(RICH_COST * work.len()) {
                break;
            }
            let edited = apply(&work, &c.edit);
            let done = recovering_parse(&edited, eoi, file);
            let next = first_of(&done.1).map_or(usize::MAX, |e| {
                edited.partition_point(|(_, s)| s.start < e.span().start)
            });
            if next > c.edit.at() + 3 && next > p {
                chosen = Some((c, edited, done));
                break;
            }
        }
        match chosen {
            Some((c, edited, done)) => {
                said.extend(c.diag.clone());
                work = edited;
                last = Some(done);
            }
            None => break,
        }
    }
    Repaired {
        toks: work,
        said,
        items: None,
        last,
    }
}

/// How deeply expressions and blocks may nest; deeper input is rejected so that no
/// stage, the parser included, recurses without bound.
pub const MAX_NESTING: usize = 128;

/// Brackets nested past [`MAX_NESTING`] stop the parse before it starts.
fn too_deep(toks: &[(Tok, SimpleSpan)], file: FileId) -> Option<Diagnostic> {
    let mut depth = 0usize;
    for (t, s) in toks {
        match t {
            Tok::LBrace
            | Tok::LParen
            | Tok::LParenLine
            | Tok::LBracket
            | Tok::LBracketLine
            | Tok::StrHead(_) => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(
                        Diagnostic::at(
                            Code::E0210,
                            Span::new(file, s.start, s.end),
                            format!("brackets nested more than {MAX_NESTING} levels deep"),
                            "this bracket is one too deep",
                        )
                        .with_help("flatten it: bind parts with `let`, or build lists with a loop"),
                    );
                }
            }
            Tok::RBrace | Tok::RParen | Tok::RBracket | Tok::StrTail(_) => {
                depth = depth.saturating_sub(1)
            }
            _ => {}
        }
    }
    None
}

/// Literals are checked here, once per token, rather than inside the grammar: an error
/// emitted while parsing would be lost or repeated as the parser backtracks and recovers.
/// The parser turns such a literal into an `Error` node without a word.
fn invalid_literal(t: &Tok, span: Span) -> Option<Diagnostic> {
    let (msg, help) = match t {
        Tok::Int(s) => match s.replace('_', "").parse::<i64>() {
            Ok(_) => return None,
            Err(_) => (
                format!("`{s}` does not fit in 64 bits"),
                "integers run from -9223372036854775808 to 9223372036854775807",
            ),
        },
        Tok::Float(s) => match s.replace('_', "").parse::<f64>() {
            Ok(n) if n.is_finite() => return None,
            _ => (
                format!("`{s}` is too large for a float"),
                "floats run up to about 1.8e308 in size",
            ),
        },
        Tok::Duration(s) => (
            parse_duration(s).err()?,
            "a duration must fit in 64 bits of milliseconds (about 292 million years)",
        ),
        Tok::Date(s) => (
            parse_date(s).err()?,
            "write a real calendar date as YYYY-MM-DD, such as 2024-01-31",
        ),
        Tok::DateTime(s) => (
            parse_datetime(s).err()?,
            "write a datetime as YYYY-MM-DDTHH:MM[:SS], hours 00-23, minutes and seconds 00-59, offsets up to +14:00",
        ),
        _ => return None,
    };
    Some(Diagnostic::at(Code::E0004, span, msg, "invalid literal").with_help(help))
}

/// The error for a block still open at the end of the file, reported at its `{`.
const UNCLOSED: &str = "this block is never closed";

fn syntax_error(e: Rich<'_, Tok, SimpleSpan>, file: FileId) -> Diagnostic {
    let span = Span::new(file, e.span().start, e.span().end);
    // After a complete expression every operator could follow; listing them all would
    // drown the token the user most likely forgot, so they are summed up in one word.
    let continues_expr = e
        .expected()
        .any(|p| matches!(p, chumsky::error::RichPattern::Token(t) if **t == Tok::Plus));
    let mut expected: Vec<String> = e
        .expected()
        .filter_map(|p| match p {
            chumsky::error::RichPattern::Token(t) if continues_expr && continues(t) => None,
            chumsky::error::RichPattern::Token(t) => Some(t.to_string()),
            chumsky::error::RichPattern::Label(l) => Some(with_article(l)),
            chumsky::error::RichPattern::EndOfInput => Some("end of file".to_string()),
            _ => None,
        })
        .collect();
    expected.sort();
    expected.dedup();
    if continues_expr {
        expected.push("an operator".to_string());
    }
    let found = e
        .found()
        .map_or("end of file".to_string(), |t| t.to_string());
    if let chumsky::error::RichReason::Custom(msg) = e.reason() {
        if msg == UNCLOSED {
            return Diagnostic::at(Code::E0001, span, msg.to_string(), "this `{` has no `}`")
                .with_help("add the missing `}` where the block ends");
        }
        return Diagnostic::at(Code::E0001, span, msg.to_string(), "here")
            .with_help("see the language reference in the book for the form this takes");
    }
    let expected_text = match expected.len() {
        0 => "something else".to_string(),
        1 => expected[0].clone(),
        n if n <= 6 => format!("{} or {}", expected[..n - 1].join(", "), expected[n - 1]),
        _ => format!("{}, ...", expected[..6].join(", ")),
    };
    Diagnostic::at(
        Code::E0001,
        span,
        format!("expected {expected_text}, found {found}"),
        format!("unexpected {found}"),
    )
    .with_help(format!("write {expected_text} here"))
}

/// Tokens that continue an expression: binary operators, field access, calls, indexing.
fn continues(t: &Tok) -> bool {
    matches!(
        t,
        Tok::Ne
            | Tok::EqEq
            | Tok::Lt
            | Tok::Le
            | Tok::Gt
            | Tok::Ge
            | Tok::Plus
            | Tok::Minus
            | Tok::Star
            | Tok::Slash
            | Tok::Pipe
            | Tok::Amp
            | Tok::And
            | Tok::Or
            | Tok::Dot
            | Tok::LParen
            | Tok::LBracket
    )
}

/// A grammar label as it reads in a sentence: "expression" becomes "an expression".
fn with_article(label: &str) -> String {
    let article = if label.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {label}")
}

/// The grammar. With `recover`, a mistake is skipped over and parsing goes on (for the
/// diagnostics of every mistake); without, the first mistake ends the parse, which is all
/// a pass that only asks whether a text parses needs (and recovering from text that is
/// not `.dagf` at all is slow).
fn module_parser<'t, I, E>(
    file: FileId,
    recover: bool,
) -> impl Parser<'t, I, Vec<Item>, extra::Err<E>>
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    E: ParseErr<'t, I>,
{
    let sp = move |s: SimpleSpan| Span::new(file, s.start, s.end);
    // Fails unless recovering: the first step of every recovery.
    let recovering = empty().filter(move |_: &()| recover);

    let ident =
        select! { Tok::Ident(name) = e => Ident { name, span: sp(e.span()) } }.labelled("name");
    let docs = select! { Tok::Doc(d) => d }
        .repeated()
        .collect::<Vec<String>>();
    let seps = one_of([Tok::Comma, Tok::Semi]).repeated();

    let plain_str = select! { Tok::Str(s) => s }.labelled("string");
    let shr = just(Tok::GtJoined).then(just(Tok::Gt)).ignored();
    let shl = just(Tok::LtJoined).then(just(Tok::Lt)).ignored();
    let brace_groups = [
        (Tok::LParen, Tok::RParen),
        (Tok::LBracket, Tok::RBracket),
        (Tok::LParenLine, Tok::RParen),
        (Tok::LBracketLine, Tok::RBracket),
    ];

    let mut stmt = Recursive::declare();
    let mut expr = Recursive::declare();

    // A block left open at the end of the file keeps its statements: the error points
    // at its `{` (see `syntax_error`), and the statements are not read as top-level ones.
    let block = just(Tok::LBrace)
        .map_with(|_, e| e.span())
        .then(
            stmt.clone()
                .then_ignore(seps.clone())
                .repeated()
                .collect::<Vec<Stmt>>(),
        )
        .then(just(Tok::RBrace).to(true).or(end().to(false)))
        .validate(|((open, stmts), closed), _, emitter| {
            if !closed {
                emitter.emit(E::unclosed(open));
            }
            stmts
        })
        .recover_with(via_parser(recovering.ignore_then(nested_delimiters(
            Tok::LBrace,
            Tok::RBrace,
            brace_groups.clone(),
            move |s| vec![Stmt::Error(sp(s))],
        ))))
        .boxed();

    // Named or positional arguments: `(a = 1, 2)`.
    let arg = ident
        .then_ignore(just(Tok::Eq))
        .or_not()
        .then(expr.clone())
        .map_with(move |(name, value), e| Arg {
            name,
            value,
            span: sp(e.span()),
        })
        .boxed();
    let args = arg
        .clone()
        .separated_by(just(Tok::Comma))
        .allow_trailing()
        .collect::<Vec<Arg>>()
        .delimited_by(just(Tok::LParen), just(Tok::RParen))
        .boxed();

    // A string, maybe interpolated: `Str` or `StrHead expr (StrMid expr)* StrTail`.
    let string = select! { Tok::Str(s) => vec![StrPart::Text(s)] }
        .or(select! { Tok::StrHead(s) => s }
            .then(expr.clone())
            .then(
                select! { Tok::StrMid(s) => s }
                    .then(expr.clone())
                    .repeated()
                    .collect::<Vec<_>>(),
            )
            .then(select! { Tok::StrTail(s) => s })
            .map(|(((head, first), mids), tail)| {
                let mut parts = vec![StrPart::Text(head), StrPart::Interp(first)];
                for (text, e) in mids {
                    parts.push(StrPart::Text(text));
                    parts.push(StrPart::Interp(e));
                }
                parts.push(StrPart::Text(tail));
                parts.retain(|p| !matches!(p, StrPart::Text(t) if t.is_empty()));
                parts
            }))
        .map_with(move |parts, e| Expr {
            kind: ExprKind::Str(parts),
            span: sp(e.span()),
        })
        .labelled("string")
        .boxed();

    // `name = value` entries of a record literal; `name { ... }` nests a record. A key
    // written as an interpolated string (`"${t}_viewer" = ...`) is computed.
    let record_body = recursive(|record_body| {
        let key = ident
            .map(Ok)
            .or(string.clone().map(|e| match e.as_plain_str() {
                Some(name) => Ok(Ident { name, span: e.span }),
                None => Err(e),
            }));
        let entry = key
            .then(choice((
                just(Tok::Eq).ignore_then(expr.clone()),
                record_body.map_with(move |kind, e| Expr {
                    kind,
                    span: sp(e.span()),
                }),
            )))
            .then_ignore(seps.clone());
        seps.clone()
            .ignore_then(entry.repeated().collect::<Vec<_>>())
            .delimited_by(just(Tok::LBrace), just(Tok::RBrace))
            .map(|entries: Vec<(Result<Ident, Expr>, Expr)>| {
                if entries.iter().all(|(k, _)| k.is_ok()) {
                    ExprKind::Record(
                        entries
                            .into_iter()
                            .filter_map(|(k, v)| Some((k.ok()?, v)))
                            .collect(),
                    )
                } else {
                    ExprKind::DynRecord(
                        entries
                            .into_iter()
                            .map(|(k, v)| {
                                let k = match k {
                                    Ok(i) => Expr {
                                        kind: ExprKind::Str(vec![StrPart::Text(i.name)]),
                                        span: i.span,
                                    },
                                    Err(x) => x,
                                };
                                (k, v)
                            })
                            .collect(),
                    )
                }
            })
    })
    .boxed();

    // `dag|task|group NAME (: TARGET(args))? { body }`
    let decl_kind = choice((
        just(Tok::Dag).to(DeclKind::Dag),
        just(Tok::Task).to(DeclKind::Task),
        just(Tok::Group).to(DeclKind::Group),
    ));
    let decl_name = ident
        .map(|i| Expr {
            kind: ExprKind::Str(vec![StrPart::Text(i.name)]),
            span: i.span,
        })
        .or(string.clone())
        .labelled("name");
    let target = ident
        .map(|i| Expr {
            kind: ExprKind::Name(i.name),
            span: i.span,
        })
        .foldl_with(
            just(Tok::Dot)
                .ignore_then(ident)
                .map(Ok)
                .or(expr
                    .clone()
                    .delimited_by(just(Tok::LBracket), just(Tok::RBracket))
                    .map(Err))
                .repeated(),
            move |base, post, e| Expr {
                kind: match post {
                    Ok(field) => ExprKind::Field(Box::new(base), field),
                    Err(index) => ExprKind::Index(Box::new(base), Box::new(index)),
                },
                span: sp(e.span()),
            },
        )
        .labelled("operator, template or factory");
    // `with m1(args), m2`: mixins.
    let mixins = just(Tok::With)
        .ignore_then(
            target
                .clone()
                .then(args.clone().or_not().map(Option::unwrap_or_default))
                .map_with(move |(target, args), e| MixinUse {
                    target,
                    args,
                    span: sp(e.span()),
                })
                .separated_by(just(Tok::Comma))
                .at_least(1)
                .collect::<Vec<_>>(),
        )
        .or_not()
        .map(Option::unwrap_or_default)
        .boxed();
    let modifier = choice((
        just(Tok::Abstract).to((true, false)),
        just(Tok::Override).to((false, true)),
    ))
    .or_not()
    .map(Option::unwrap_or_default);
    let decl = docs
        .then(modifier)
        .then(decl_kind)
        .then(decl_name.clone())
        .then(
            just(Tok::Colon)
                .ignore_then(target.clone())
                .then(args.clone().or_not())
                .or_not(),
        )
        .then(mixins.clone())
        .then(
            just(Tok::In)
                .ignore_then(expr.clone())
                .map(Box::new)
                .or_not(),
        )
        .then(block.clone().or_not())
        .map_with(
            move |(
                ((((((docs, (is_abstract, is_override)), kind), name), call), mixins), scope),
                body,
            ),
                  e| {
                let (target, args) = match call {
                    Some((t, a)) => (Some(t), a),
                    None => (None, None),
                };
                Decl {
                    docs,
                    mixins,
                    is_abstract,
                    is_override,
                    kind,
                    name,
                    target,
                    args,
                    scope,
                    body,
                    span: sp(e.span()),
                }
            },
        )
        .boxed();

    // Expressions, loosest last.
    expr.define({
        // Invalid literals become `Error` nodes; `invalid_literal` has reported them.
        let number = select! {
            Tok::Int(s) => match s.replace('_', "").parse::<i64>() {
                Ok(n) => ExprKind::Int(n),
                Err(_) => ExprKind::Error,
            },
            Tok::Float(s) => match s.replace('_', "").parse::<f64>() {
                Ok(n) if n.is_finite() => ExprKind::Float(n),
                _ => ExprKind::Error,
            },
        };
        let temporal = select! {
            Tok::Duration(s) => parse_duration(&s).unwrap_or(ExprKind::Error),
            Tok::Date(s) => parse_date(&s).map_or(ExprKind::Error, ExprKind::Date),
            Tok::DateTime(s) => parse_datetime(&s).map_or(ExprKind::Error, ExprKind::DateTime),
        };
        let simple = choice((
            just(Tok::True).to(ExprKind::Bool(true)),
            just(Tok::False).to(ExprKind::Bool(false)),
            just(Tok::None).to(ExprKind::None),
            select! { Tok::Preset(p) => ExprKind::Preset(p) },
            select! { Tok::Ident(n) => ExprKind::Name(n) },
            // `dag` is a keyword, and also the declared name in a tenant's naming convention.
            just(Tok::Dag).to(ExprKind::Name("dag".into())),
            number,
            temporal,
        ))
        .map_with(move |kind, e| Expr {
            kind,
            span: sp(e.span()),
        });

        let list_open = one_of([Tok::LBracket, Tok::LBracketLine]);
        // `for x in xs if cond:`, once or more, then the item.
        let clause = just(Tok::For)
            .ignore_then(ident)
            .then_ignore(just(Tok::In))
            .then(expr.clone())
            .then(just(Tok::If).ignore_then(expr.clone()).or_not())
            .then_ignore(just(Tok::Colon))
            .map_with(move |((var, iter), cond), e| (var, iter, cond, sp(e.span())));
        let comprehension = clause
            .repeated()
            .at_least(1)
            .collect::<Vec<_>>()
            .then(expr.clone())
            .map(|(clauses, body)| {
                let mut body = body;
                let mut flatten = false;
                let mut kind = ExprKind::Error;
                for (var, iter, cond, at) in clauses.into_iter().rev() {
                    let span = at.to(body.span);
                    kind = ExprKind::Comprehension {
                        var,
                        iter: Box::new(iter),
                        cond: cond.map(Box::new),
                        body: Box::new(body),
                        flatten,
                    };
                    body = Expr {
                        kind: kind.clone(),
                        span,
                    };
                    flatten = true;
                }
                kind
            })
            .delimited_by(list_open.clone(), just(Tok::RBracket));
        let list = expr
            .clone()
            .separated_by(just(Tok::Comma))
            .allow_trailing()
            .collect::<Vec<Expr>>()
            .delimited_by(list_open, just(Tok::RBracket))
            .map(ExprKind::List);
        let record = record_body.clone();
        let paren = expr
            .clone()
            .delimited_by(one_of([Tok::LParen, Tok::LParenLine]), just(Tok::RParen))
            .map(Expr::into_kind);
        let if_expr = just(Tok::If)
            .ignore_then(expr.clone())
            .then(
                expr.clone()
                    .delimited_by(just(Tok::LBrace), just(Tok::RBrace)),
            )
            .then_ignore(just(Tok::Else))
            .then(
                expr.clone()
                    .delimited_by(just(Tok::LBrace), just(Tok::RBrace)),
            )
            .map(|((c, a), b)| ExprKind::If(Box::new(c), Box::new(a), Box::new(b)));
        let decl_expr = decl.clone().map(|d| ExprKind::Decl(Box::new(d)));

        let atom = choice((
            string.clone(),
            simple,
            choice((comprehension, list, record, paren, if_expr, decl_expr)).map_with(
                move |kind, e| Expr {
                    kind,
                    span: sp(e.span()),
                },
            ),
        ))
        .recover_with(via_parser(recovering.ignore_then(nested_delimiters(
            Tok::LParen,
            Tok::RParen,
            [(Tok::LBracket, Tok::RBracket), (Tok::LBrace, Tok::RBrace)],
            move |s| Expr::error(sp(s)),
        ))))
        .recover_with(via_parser(recovering.ignore_then(nested_delimiters(
            Tok::LBracket,
            Tok::RBracket,
            [(Tok::LParen, Tok::RParen), (Tok::LBrace, Tok::RBrace)],
            move |s| Expr::error(sp(s)),
        ))))
        .boxed();

        enum Post {
            Field(Ident),
            Index(Expr),
            Call(Vec<Arg>),
        }
        let postfix = atom
            .foldl_with(
                choice((
                    just(Tok::Dot).ignore_then(ident).map(Post::Field),
                    expr.clone()
                        .delimited_by(just(Tok::LBracket), just(Tok::RBracket))
                        .map(Post::Index),
                    args.clone().map(Post::Call),
                ))
                .repeated(),
                move |base, post, e| Expr {
                    kind: match post {
                        Post::Field(f) => ExprKind::Field(Box::new(base), f),
                        Post::Index(i) => ExprKind::Index(Box::new(base), Box::new(i)),
                        Post::Call(a) => ExprKind::Call(Box::new(base), a),
                    },
                    span: sp(e.span()),
                },
            )
            .boxed();

        let unary = choice((just(Tok::Minus).to(UnOp::Neg), just(Tok::Not).to(UnOp::Not)))
            .map_with(move |op, e| (op, sp(e.span())))
            .repeated()
            .foldr_with(postfix, move |(op, _), operand, e| Expr {
                kind: ExprKind::Unary(op, Box::new(operand)),
                span: sp(e.span()),
            })
            .boxed();

        let binary = |lower, ops| binary(lower, ops, file);
        let product = binary(
            unary,
            vec![(Tok::Star, BinOp::Mul), (Tok::Slash, BinOp::Div)],
        );
        let sum = binary(
            product,
            vec![(Tok::Plus, BinOp::Add), (Tok::Minus, BinOp::Sub)],
        );
        let all = binary(sum, vec![(Tok::Amp, BinOp::All)]);
        let any_ = binary(all, vec![(Tok::Pipe, BinOp::Any)]);
        let cmp = binary(
            any_,
            vec![
                (Tok::EqEq, BinOp::Eq),
                (Tok::Ne, BinOp::Ne),
                (Tok::Lt, BinOp::Lt),
                (Tok::Le, BinOp::Le),
                (Tok::Gt, BinOp::Gt),
                (Tok::Ge, BinOp::Ge),
            ],
        );
        let and = binary(cmp, vec![(Tok::And, BinOp::And)]);
        binary(and, vec![(Tok::Or, BinOp::Or)]).labelled("expression")
    });

    // Types.
    // `asset`, `task`, `group` and `dag` are keywords but also name types.
    let type_name = ident.or(select! {
        Tok::Asset = e => Ident { name: "asset".into(), span: sp(e.span()) },
        Tok::Task = e => Ident { name: "task".into(), span: sp(e.span()) },
        Tok::Group = e => Ident { name: "group".into(), span: sp(e.span()) },
        Tok::Dag = e => Ident { name: "dag".into(), span: sp(e.span()) },
        Tok::Factory = e => Ident { name: "factory".into(), span: sp(e.span()) },
    });
    let ty = recursive(|ty| {
        let generic = type_name
            .then(
                ty.clone()
                    .separated_by(just(Tok::Comma))
                    .at_least(1)
                    .collect::<Vec<TypeExpr>>()
                    .delimited_by(just(Tok::Lt), one_of([Tok::Gt, Tok::GtJoined]))
                    .or_not(),
            )
            .map(|(name, args)| TypeKind::Named(name, args.unwrap_or_default()));
        let union = plain_str
            .map_with(move |s, e| (s, sp(e.span())))
            .separated_by(just(Tok::Pipe))
            .at_least(1)
            .collect::<Vec<_>>()
            .map(TypeKind::Union);
        let field = docs
            .then(ident)
            .then_ignore(just(Tok::Colon))
            .then(ty.clone())
            .then(just(Tok::Eq).ignore_then(expr.clone()).or_not())
            .map(|(((docs, name), ty), default)| ParamLite {
                docs,
                name,
                ty,
                default,
            })
            .then_ignore(seps.clone());
        let record = seps
            .clone()
            .ignore_then(field.repeated().collect::<Vec<_>>())
            .delimited_by(just(Tok::LBrace), just(Tok::RBrace))
            .map(TypeKind::Record);
        let atom = choice((
            generic,
            union,
            record,
            ty.clone()
                .delimited_by(one_of([Tok::LParen, Tok::LParenLine]), just(Tok::RParen))
                .map(|t: TypeExpr| t.kind),
        ))
        .map_with(move |kind, e| TypeExpr {
            kind,
            span: sp(e.span()),
        });
        let bound = select! {
            Tok::Int(s) = e => Expr { kind: s.replace('_', "").parse().map_or(ExprKind::Error, ExprKind::Int), span: sp(e.span()) },
            Tok::Float(s) = e => Expr { kind: s.replace('_', "").parse::<f64>().ok().filter(|n| n.is_finite()).map_or(ExprKind::Error, ExprKind::Float), span: sp(e.span()) },
            Tok::Duration(s) = e => Expr { kind: parse_duration(&s).unwrap_or(ExprKind::Error), span: sp(e.span()) },
        };
        let neg_bound = just(Tok::Minus).or_not().then(bound).map_with(move |(neg, b), e| match neg {
            Some(_) => Expr {
                kind: ExprKind::Unary(UnOp::Neg, Box::new(b)),
                span: sp(e.span()),
            },
            None => b,
        });
        enum Constraint {
            Range(Option<Expr>, Option<Expr>, bool),
            Matches(String, Span),
        }
        let constraint = choice((
            just(Tok::In)
                .ignore_then(neg_bound.clone().or_not())
                .then(choice((just(Tok::DotDotEq).to(true), just(Tok::DotDot).to(false))))
                .then(neg_bound.or_not())
                .map(|((lo, inclusive), hi)| Constraint::Range(lo, hi, inclusive)),
            just(Tok::Matches)
                .ignore_then(plain_str.map_with(move |s, e| (s, sp(e.span()))))
                .map(|(s, span)| Constraint::Matches(s, span)),
        ));
        let question = just(Tok::Question).or_not().map(|q| q.is_some());
        atom.then(question.clone())
            .then(constraint.repeated().collect::<Vec<_>>())
            .then(question)
            .map_with(move |(((base, q1), constraints), q2), e| {
                let mut t = base;
                for c in constraints {
                    let kind = match c {
                        Constraint::Range(lo, hi, inclusive) => TypeKind::Range {
                            base: Box::new(t),
                            lo,
                            hi,
                            inclusive,
                        },
                        Constraint::Matches(pattern, pattern_span) => TypeKind::Matches {
                            base: Box::new(t),
                            pattern,
                            pattern_span,
                        },
                    };
                    t = TypeExpr {
                        kind,
                        span: sp(e.span()),
                    };
                }
                if q1 || q2 {
                    t = TypeExpr {
                        kind: TypeKind::Optional(Box::new(t)),
                        span: sp(e.span()),
                    };
                }
                t
            })
            .labelled("type")
    })
    .boxed();

    let param = docs
        .then(ident)
        .then_ignore(just(Tok::Colon))
        .then(ty.clone())
        .then(just(Tok::Eq).ignore_then(expr.clone()).or_not())
        .map_with(move |(((docs, name), ty), default), e| Param {
            docs,
            name,
            ty,
            default,
            span: sp(e.span()),
        })
        .boxed();

    // Statements.
    stmt.define({
        let let_stmt = just(Tok::Let)
            .ignore_then(ident)
            .then_ignore(just(Tok::Eq))
            .then(expr.clone())
            .map_with(move |(name, value), e| Stmt::Let {
                name,
                value,
                span: sp(e.span()),
            });
        let for_stmt = just(Tok::For)
            .ignore_then(ident)
            .then_ignore(just(Tok::In))
            .then(expr.clone())
            .then(block.clone())
            .map_with(move |((var, iter), body), e| Stmt::For {
                var,
                iter,
                body,
                span: sp(e.span()),
            });
        let if_stmt = recursive(|if_stmt| {
            just(Tok::If)
                .ignore_then(expr.clone())
                .then(block.clone())
                .then(
                    just(Tok::Else)
                        .ignore_then(block.clone().or(if_stmt.map(|s| vec![s])))
                        .or_not(),
                )
                .map_with(move |((cond, then), otherwise), e| Stmt::If {
                    cond,
                    then,
                    otherwise: otherwise.unwrap_or_default(),
                    span: sp(e.span()),
                })
        });
        // `after` is a keyword only here, so fields and parameters may still be named so.
        let after = select! { Tok::Ident(k) if k == "after" => () }
            .ignore_then(block.clone())
            .map_with(move |body, e| Stmt::After {
                body,
                span: sp(e.span()),
            });
        let field = just(Tok::Override)
            .or_not()
            .map(|o| o.is_some())
            .then(ident)
            .then(choice((
                just(Tok::Eq).to(false).then(expr.clone()),
                just(Tok::PlusEq).to(true).then(expr.clone()),
                record_body.clone().map_with(move |kind, e| {
                    (
                        false,
                        Expr {
                            kind,
                            span: sp(e.span()),
                        },
                    )
                }),
            )))
            .map_with(
                move |((is_override, name), (append, value)), e| Stmt::Field {
                    is_override,
                    name,
                    append,
                    value,
                    span: sp(e.span()),
                },
            );
        // `params` is a keyword only before a block of typed declarations: `params { x = 1 }`
        // is still the field `params` set to a map.
        let separator = one_of([Tok::Comma, Tok::Semi]).repeated();
        let typed_params = just(Tok::Override)
            .or_not()
            .map(|o| o.is_some())
            .then_ignore(select! { Tok::Ident(k) if k == "params" => () })
            .then_ignore(just(Tok::LBrace))
            .then_ignore(separator.clone())
            .then(
                param
                    .clone()
                    .then_ignore(separator)
                    .repeated()
                    .at_least(1)
                    .collect::<Vec<_>>(),
            )
            .then_ignore(just(Tok::RBrace))
            .map_with(move |(is_override, params), e| Stmt::Params {
                is_override,
                params,
                span: sp(e.span()),
            });
        let dep_op = choice((shr.to(DepOp::Then), shl.to(DepOp::After)));
        let deps = expr
            .clone()
            .then(
                dep_op
                    .clone()
                    .then(expr.clone())
                    .repeated()
                    .at_least(1)
                    .collect::<Vec<_>>(),
            )
            .map_with(move |(first, rest), e| Stmt::Deps {
                first,
                rest,
                span: sp(e.span()),
            });
        // Doc comments may precede any statement; only declarations keep them. A
        // declaration followed by `>>` or `<<` starts a dependency (`task a: empty >> b`);
        // any other is read as a declaration first, so that a syntax error in its body is
        // reported where it is, not at the token after the body (where `deps` would fail).
        choice((
            decl.clone().then_ignore(dep_op.not()).map(Stmt::Decl),
            docs.ignore_then(choice((
                let_stmt,
                for_stmt,
                if_stmt,
                after,
                typed_params,
                field,
                deps,
            ))),
            decl.clone().map(Stmt::Decl),
        ))
        .labelled("statement")
        .recover_with(skip_then_retry_until(
            recovering.ignore_then(
                nested_delimiters(Tok::LBrace, Tok::RBrace, brace_groups.clone(), |_| ())
                    .or(any().and_is(just(Tok::RBrace).not()).ignored()),
            ),
            one_of([
                Tok::RBrace,
                Tok::Dag,
                Tok::Task,
                Tok::Group,
                Tok::Let,
                Tok::For,
            ])
            .ignored()
            .rewind()
            .or(end()),
        ))
    });

    // Top-level items.
    let import = just(Tok::Import)
        .ignore_then(plain_str.map_with(move |s, e| (s, sp(e.span()))))
        .then(just(Tok::As).ignore_then(ident).or_not())
        .map_with(move |((path, path_span), alias), e| {
            Item::Import(Import {
                path,
                path_span,
                alias,
                span: sp(e.span()),
            })
        });
    // `plain` and `branching` are keywords only here, before `operator` or `sensor`.
    let behaviour = select! {
        Tok::Ident(k) if k == "plain" => OpBehaviour::Plain,
        Tok::Ident(k) if k == "branching" => OpBehaviour::Branching,
    }
    .or_not()
    .map(Option::unwrap_or_default);
    let operator = docs
        .then(behaviour)
        .then(choice((
            just(Tok::Operator).to(false),
            just(Tok::Sensor).to(true),
        )))
        .then(ident)
        .then_ignore(just(Tok::Eq))
        .then(plain_str.map_with(move |s, e| (s, sp(e.span()))))
        .then(
            seps.clone()
                .ignore_then(
                    param
                        .clone()
                        .then_ignore(seps.clone())
                        .repeated()
                        .collect::<Vec<_>>(),
                )
                .delimited_by(just(Tok::LBrace), just(Tok::RBrace))
                .or_not(),
        )
        .map_with(
            move |(((((docs, behaviour), is_sensor), name), (class, class_span)), fields), e| {
                Item::Operator(OperatorDecl {
                    docs,
                    behaviour,
                    is_sensor,
                    name,
                    class,
                    class_span,
                    fields: fields.unwrap_or_default(),
                    span: sp(e.span()),
                })
            },
        );
    let type_decl = docs
        .then_ignore(just(Tok::Type))
        .then(ident)
        .then_ignore(just(Tok::Eq))
        .then(ty.clone())
        .map_with(move |((docs, name), ty), e| {
            Item::TypeDecl(TypeDecl {
                docs,
                name,
                ty,
                span: sp(e.span()),
            })
        });
    let factory = docs
        .then(
            just(Tok::Abstract)
                .map_with(move |_, e| sp(e.span()))
                .or_not(),
        )
        .then_ignore(just(Tok::Factory))
        .then(ident)
        .then(
            param
                .clone()
                .separated_by(just(Tok::Comma))
                .allow_trailing()
                .collect::<Vec<_>>()
                .delimited_by(one_of([Tok::LParen, Tok::LParenLine]), just(Tok::RParen))
                .or_not(),
        )
        .then(
            just(Tok::Extends)
                .ignore_then(target.clone())
                .then(args.clone().or_not().map(Option::unwrap_or_default))
                .or_not(),
        )
        .then(mixins.clone())
        .then(block.clone())
        .map_with(
            move |((((((docs, is_abstract), name), params), extends), mixins), body), e| {
                Item::Factory(FactoryDecl {
                    docs,
                    is_abstract,
                    name,
                    params: params.unwrap_or_default(),
                    extends,
                    mixins,
                    body,
                    span: sp(e.span()),
                })
            },
        );
    let params = param
        .clone()
        .separated_by(just(Tok::Comma))
        .allow_trailing()
        .collect::<Vec<_>>()
        .delimited_by(one_of([Tok::LParen, Tok::LParenLine]), just(Tok::RParen))
        .or_not()
        .map(Option::unwrap_or_default)
        .boxed();
    let template_target = just(Tok::Group)
        .to(None)
        .or(target.clone().then(args.clone().or_not()).map(Some));
    let template = docs
        .then_ignore(just(Tok::Template))
        .then(ident)
        .then(params.clone())
        .then_ignore(just(Tok::Colon))
        .then(template_target)
        .then(mixins.clone())
        .then(block.clone())
        .map_with(
            move |(((((docs, name), params), target), mixins), body), e| {
                let (target, target_args) = match target {
                    Some((t, a)) => (Some(t), a),
                    None => (None, None),
                };
                Item::Template(TemplateDecl {
                    docs,
                    name,
                    params,
                    target,
                    target_args,
                    mixins,
                    body,
                    span: sp(e.span()),
                })
            },
        );
    let callback_kind = select! {
        Tok::Ident(k) if k == "python" => CallbackKind::Python,
        Tok::Ident(k) if k == "notifier" => CallbackKind::Notifier,
    }
    .labelled("`python` or `notifier`");
    let callback = docs
        .then_ignore(just(Tok::Callback))
        .then(ident)
        .then(params.clone())
        .then_ignore(just(Tok::Eq))
        .then(callback_kind)
        .then(plain_str.map_with(move |s, e| (s, sp(e.span()))))
        .then(block.clone().or_not())
        .map_with(
            move |(((((docs, name), params), kind), (path, path_span)), body), e| {
                Item::Callback(CallbackDecl {
                    docs,
                    name,
                    params,
                    kind,
                    path,
                    path_span,
                    body: body.unwrap_or_default(),
                    span: sp(e.span()),
                })
            },
        );
    let mixin = docs
        .then_ignore(just(Tok::Mixin))
        .then(ident)
        .then(params.clone())
        .then(block.clone())
        .map_with(move |(((docs, name), params), body), e| {
            Item::Mixin(MixinDecl {
                docs,
                name,
                params,
                body,
                span: sp(e.span()),
            })
        });
    let is_extern = select! { Tok::Ident(k) if k == "extern" => () }
        .or_not()
        .map(|x| x.is_some());
    let asset = docs
        .then(is_extern)
        .then_ignore(just(Tok::Asset))
        .then(ident)
        .then_ignore(just(Tok::Eq))
        .then(expr.clone())
        .map_with(move |(((docs, is_extern), name), uri), e| {
            Item::Asset(AssetDecl {
                docs,
                is_extern,
                name,
                uri,
                span: sp(e.span()),
            })
        });
    // `extern dag "a", "b"`: dags outside the project; `extern` is a keyword only here
    // and before `asset`.
    let extern_dag = docs
        .then_ignore(select! { Tok::Ident(k) if k == "extern" => () })
        .then_ignore(just(Tok::Dag))
        .then(
            expr.clone()
                .separated_by(just(Tok::Comma))
                .at_least(1)
                .collect::<Vec<Expr>>(),
        )
        .map_with(move |(docs, ids), e| {
            Item::ExternDag(ExternDagDecl {
                docs,
                ids,
                span: sp(e.span()),
            })
        });

    // `pool NAME { slots = 8 }`; `pool` is a keyword only here and in a tenant kind,
    // where `pool = ...` stays a setting and `pool: T` a field.
    let pool_decl = docs
        .then(select! { Tok::Ident(k) if k == "extern" => () }.or_not())
        .then_ignore(select! { Tok::Ident(k) if k == "pool" => () })
        .then(decl_name.clone())
        .then(block.clone().or_not())
        .map_with(move |(((docs, is_extern), name), body), e| PoolDecl {
            docs,
            is_extern: is_extern.is_some(),
            name,
            body: body.unwrap_or_default(),
            span: sp(e.span()),
        })
        .boxed();
    let pool = pool_decl.clone().map(Item::Pool);

    // `tenant KIND { field: type = default; setting = expr; policy { ... } }`
    enum Member {
        Field(Box<Param>),
        Setting(Ident, Expr),
        Policy(Span, Vec<Stmt>),
        Pool(PoolDecl),
    }
    // Docs may precede any member; they document fields (settings and the policy are
    // described by the kind's own docs).
    let member = choice((
        docs.ignore_then(select! { Tok::Ident(k) if k == "policy" => () })
            .map_with(move |_, e| sp(e.span()))
            .then(block.clone())
            .map(|(at, b)| Member::Policy(at, b)),
        pool_decl.map(Member::Pool),
        docs.ignore_then(ident)
            .then_ignore(just(Tok::Eq))
            .then(expr.clone())
            .map(|(n, v)| Member::Setting(n, v)),
        param.clone().map(|p| Member::Field(Box::new(p))),
    ));
    // `tenant` is a keyword only here: inside a kind, `tenant` names the tenant.
    let tenant = docs
        .then_ignore(select! { Tok::Ident(k) if k == "tenant" => () })
        .then(ident)
        .then(
            seps.clone()
                .ignore_then(
                    member
                        .then_ignore(seps.clone())
                        .repeated()
                        .collect::<Vec<_>>(),
                )
                .delimited_by(just(Tok::LBrace), just(Tok::RBrace)),
        )
        .map_with(move |((docs, name), members), e| {
            let (mut fields, mut settings, mut policy) = (Vec::new(), Vec::new(), Vec::new());
            let mut pools = Vec::new();
            for m in members {
                match m {
                    Member::Field(p) => fields.push(*p),
                    Member::Setting(n, v) => settings.push((n, v)),
                    Member::Policy(at, b) => policy.push((at, b)),
                    Member::Pool(p) => pools.push(p),
                }
            }
            Item::Tenant(TenantDecl {
                docs,
                name,
                fields,
                settings,
                policy,
                pools,
                span: sp(e.span()),
            })
        });
    // `source NAME: TYPE = yaml("path")`; `source` is a keyword only here.
    let source = docs
        .then_ignore(select! { Tok::Ident(k) if k == "source" => () })
        .then(ident)
        .then_ignore(just(Tok::Colon))
        .then(ty.clone())
        .then_ignore(just(Tok::Eq))
        .then(ident)
        .then(
            arg.separated_by(just(Tok::Comma))
                .allow_trailing()
                .collect::<Vec<Arg>>()
                .delimited_by(one_of([Tok::LParen, Tok::LParenLine]), just(Tok::RParen))
                .map_with(move |args, e| (args, sp(e.span()))),
        )
        .map_with(
            move |((((docs, name), ty), format), (args, args_span)), e| {
                Item::Source(SourceDecl {
                    docs,
                    name,
                    ty,
                    format,
                    args,
                    args_span,
                    span: sp(e.span()),
                })
            },
        );
    // `profile dev { ... }`; `profile` is a keyword only here.
    let profile = docs
        .then_ignore(select! { Tok::Ident(k) if k == "profile" => () })
        .then(ident)
        .then(block.clone())
        .map_with(move |((docs, name), body), e| {
            Item::Profile(ProfileDecl {
                docs,
                name,
                body,
                span: sp(e.span()),
            })
        });
    // `Customer acme { tier = "gold" }`: an instance of a tenant kind (of any kind but
    // `tenant`, so a broken kind declaration is reported as one).
    let instance = docs
        .then(ident.filter(|i: &Ident| !matches!(i.name.as_str(), "tenant" | "profile" | "pool")))
        .then(ident)
        .then(block.clone())
        .map_with(move |(((docs, kind), name), body), e| {
            Item::Instance(InstanceDecl {
                docs,
                kind,
                name,
                body,
                span: sp(e.span()),
            })
        });

    let item = choice((
        import,
        operator,
        type_decl,
        factory,
        template,
        callback,
        mixin,
        asset,
        extern_dag,
        tenant,
        source,
        profile,
        pool,
        instance,
        stmt.clone().map(Item::Stmt),
    ))
    .then_ignore(seps.clone())
    .labelled("item")
    .recover_with(skip_then_retry_until(
        recovering.ignore_then(
            nested_delimiters(Tok::LBrace, Tok::RBrace, brace_groups, |_| ()).or(any().ignored()),
        ),
        one_of([
            Tok::Import,
            Tok::Abstract,
            Tok::Operator,
            Tok::Sensor,
            Tok::Type,
            Tok::Factory,
            Tok::Template,
            Tok::Callback,
            Tok::Mixin,
            Tok::Asset,
            Tok::Dag,
            Tok::Let,
            Tok::For,
        ])
        .ignored()
        .rewind()
        .or(end()),
    ));

    seps.ignore_then(item.repeated().collect::<Vec<Item>>())
        .then_ignore(docs.then(end()))
}

/// One precedence level of left-associative binary operators.
fn binary<'t: 'b, 'b, I, E>(
    lower: chumsky::Boxed<'t, 'b, I, Expr, extra::Err<E>>,
    ops: Vec<(Tok, BinOp)>,
    file: FileId,
) -> chumsky::Boxed<'t, 'b, I, Expr, extra::Err<E>>
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan> + 'b,
    E: ParseErr<'t, I> + 'b,
{
    let op = choice(
        ops.into_iter()
            .map(|(t, o)| just(t).to(o))
            .collect::<Vec<_>>(),
    );
    lower
        .clone()
        .foldl_with(op.then(lower).repeated(), move |a, (op, b), e| Expr {
            kind: ExprKind::Binary(op, Box::new(a), Box::new(b)),
            span: Span::new(file, e.span().start, e.span().end),
        })
        .boxed()
}

/// The duration literal for `ms` milliseconds: `1m30s`, `-5m`, `0s` (what
/// [`duration_ms`] reads back).
pub fn duration_text(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut rest = ms.unsigned_abs();
    if ms < 0 {
        out.push('-');
    }
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

/// A duration literal such as `90s` or `1h30m`, in milliseconds (for data read from
/// config files, where durations are strings).
pub fn duration_ms(s: &str) -> Option<i64> {
    match parse_duration(s) {
        Ok(ExprKind::Duration(ms)) => Some(ms),
        _ => None,
    }
}

fn parse_duration(s: &str) -> Result<ExprKind, String> {
    let mut total: i64 = 0;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = if c == 'm' && chars.peek() == Some(&'s') {
            chars.next();
            "ms"
        } else {
            match c {
                's' => "s",
                'm' => "m",
                'h' => "h",
                'd' => "d",
                _ => "w",
            }
        };
        let n: i64 = num
            .parse()
            .map_err(|_| format!("duration `{s}` is too large"))?;
        num.clear();
        let ms = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => 604_800_000,
        };
        total = n
            .checked_mul(ms)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("duration `{s}` is too large"))?;
    }
    Ok(ExprKind::Duration(total))
}

/// How many days month `month` (1 to 12) of `year` has, in the Gregorian calendar.
pub fn days_in_month(year: i32, month: u32) -> Option<u32> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => Some(31),
        4 | 6 | 9 | 11 => Some(30),
        2 if leap => Some(29),
        2 => Some(28),
        _ => None,
    }
}

fn parse_date(s: &str) -> Result<Date, String> {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(format!("`{s}` is not a date"));
    };
    let (year, month, day) = (
        y.parse::<i32>().unwrap_or(0),
        m.parse::<u32>().unwrap_or(0),
        d.parse::<u32>().unwrap_or(0),
    );
    let Some(days) = days_in_month(year, month) else {
        return Err(format!("`{s}` has no month {month}: months are 01 to 12"));
    };
    if !(1..=days).contains(&day) || year < 1 {
        return Err(format!("`{s}` is not a day of the calendar"));
    }
    Ok(Date { year, month, day })
}

fn parse_datetime(s: &str) -> Result<DateTime, String> {
    let (date, rest) = s.split_at(10);
    let date = parse_date(date)?;
    let time = &rest[1..];
    let (clock, offset) = match time.find(['Z', '+', '-']) {
        Some(i) => (&time[..i], Some(&time[i..])),
        None => (time, None),
    };
    let nums: Vec<u32> = clock.split(':').map(|p| p.parse().unwrap_or(99)).collect();
    let (hour, minute, second) = (nums[0], nums[1], nums.get(2).copied().unwrap_or(0));
    if hour > 23 || minute > 59 || second > 59 {
        return Err(format!("`{s}` is not a time of day"));
    }
    let offset_minutes = match offset {
        None | Some("Z") => None,
        Some(o) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let hm: Vec<i32> = o[1..].split(':').map(|p| p.parse().unwrap_or(99)).collect();
            if hm[0] > 14 || hm[1] > 59 {
                return Err(format!("`{o}` is not a UTC offset"));
            }
            Some(sign * (hm[0] * 60 + hm[1]))
        }
    };
    Ok(DateTime {
        date,
        hour,
        minute,
        second,
        offset_minutes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Module {
        let (m, diags) = parse(text, FileId(0));
        assert!(diags.is_empty(), "{diags:#?}");
        m
    }

    #[test]
    fn parses_the_core_forms() {
        let m = ok(r#"
import "lib/common.dagf" as common
operator bash = "airflow.providers.standard.operators.bash.BashOperator" {
    bash_command: str
    env: map<str>?
}
type Source = { name: str, tables: list<list<str>>, schedule: schedule = @daily }
asset orders = "s3://lake/orders"
/// One ingestion DAG per source.
factory ingest(
    /// Source system.
    source: str matches "^[a-z]+$",
    retries: int in 0..=10 = 3,
    mode: "poke" | "reschedule" = "poke",
) {
    schedule = @daily
    start = 2024-01-01T06:00
    tags += ["x", "${source}"]
    default_args { owner = "analytics", retries = retries, retry_delay = 5m }
    for t in ["a", "b"] { task "load_${t}": bash { bash_command = "load ${t} {{ ds }}" } }
    task publish: empty
    let l = task last: empty
    extract >> [a, b] >> publish
    publish << extract
    schedule = if source == "x" { @hourly } else { none }
}
dag crm: ingest(source = "crm")
for s in ["erp", "billing"] { dag "ingest_${s}": ingest(source = s) }
"#);
        assert_eq!(m.items.len(), 7);
    }

    /// One mistake, one diagnostic, at the mistake, saying what it is; and the rest of
    /// the file read as it was meant (every dag and task still there).
    #[test]
    fn one_token_mistakes_are_repaired_and_reported_once() {
        let cases: &[(&str, &str, &str, usize)] = &[
            // (text, what the message says, the text at the error, how many dags)
            (
                "dag a {\n    task x: empty )\n    task y: empty\n}\ndag b { task z: empty }\n",
                "unexpected `)`",
                ")",
                2,
            ),
            (
                "dag a {\n    task x: empty }\n    task y: empty\n    x >> y\n}\ndag b { task z: empty }\n",
                "unexpected `}`",
                "}",
                2,
            ),
            (
                "dag a {\n    task x: bash {\n        bash_command = \"x\"\n    task y: empty\n}\ndag b { task z: empty }\n",
                "this `{` is never closed",
                "{",
                2,
            ),
            (
                "dag a {\n    tags = [\"a\", \"b\"\n    task y: empty\n}\n",
                "this `[` is never closed",
                "[",
                1,
            ),
            (
                "dag a {\n    taks x: empty\n}\ndag b { task z: empty }\n",
                "`taks` is not a keyword",
                "taks",
                2,
            ),
            (
                "dga a {\n    task x: empty\n}\nfactroy f() { task t: empty }\n",
                "`factroy` is not a keyword",
                "factroy",
                0,
            ),
            (
                "dag a {\n    task x: bash {\n        bash_command: \"x\"\n    }\n}\n",
                "fields are set with `=`, not `:`",
                ":",
                1,
            ),
            (
                "dag a {\n    tags = [\"a\" \"b\"]\n}\ndag b { task z: empty }\n",
                "expected `,` before this string",
                "\"b\"",
                2,
            ),
            (
                "dag a {\n    task x: bash { bash_command = \"x {{ ds }} }\n    task y: empty\n}\n",
                "unterminated string",
                "\"x {{ ds }}",
                1,
            ),
            (
                "dag a {\n    tags = [\"a, \"b\"]\n    task y: empty\n}\n",
                "unterminated string",
                "\"a",
                1,
            ),
        ];
        for (text, says, at, dags) in cases {
            let (m, diags) = parse(text, FileId(0));
            assert_eq!(diags.len(), 1, "{text:?}: {diags:#?}");
            let d = &diags[0];
            assert_eq!(d.message, *says, "{text:?}");
            let span = d.primary.as_ref().expect("a place").span;
            assert_eq!(&text[span.range()], *at, "{text:?}");
            let decls = m
                .items
                .iter()
                .filter(|i| matches!(i, Item::Stmt(Stmt::Decl(d)) if d.kind == DeclKind::Dag))
                .count();
            assert_eq!(decls, *dags, "{text:?}: {:#?}", m.items);
        }
    }

    /// A block still open at the end of the file is reported at its `{`, with the end of
    /// the file labelled.
    #[test]
    fn a_block_open_at_the_end_is_reported_at_its_brace() {
        let text = "dag a {\n    task x: empty\n";
        let (_, diags) = parse(text, FileId(0));
        assert_eq!(diags.len(), 1, "{diags:#?}");
        let d = &diags[0];
        assert_eq!(d.primary.as_ref().map(|l| l.span.start), Some(6));
        assert_eq!(d.secondary.len(), 1);
        assert_eq!(d.secondary[0].span.start as usize, text.len());
        assert_eq!(d.secondary[0].message, "the file ends here");
    }

    #[test]
    fn recovers_and_reports_several_errors() {
        let (m, diags) = parse(
            "dag a {\n  task x: bash { bash_command = }\n  task y: empty\n}\ndag b {\n  schedule = = 3\n}\ndag c { }\n",
            FileId(0),
        );
        assert_eq!(diags.len(), 2, "{diags:#?}");
        assert!(diags.iter().all(|d| d.code == Code::E0001));
        assert_eq!(m.items.len(), 3, "{:#?}", m.items);
    }
}

/// The fast first pass and the diagnostic pass read every input alike: they find a
/// mistake in the same inputs, and build the same tree where there is none.
#[cfg(test)]
mod two_passes {
    use super::*;
    use proptest::prelude::*;

    fn agree(text: &str) {
        let toks = parser_tokens(lex(text, FileId(0), 0).0);
        if too_deep(&toks, FileId(0)).is_some() {
            return;
        }
        let eoi = SimpleSpan::from(text.len()..text.len());
        let input = toks.as_slice().map(eoi, |(t, s)| (t, s));
        let fast = module_parser::<_, EmptyErr>(FileId(0), false).parse(input.clone());
        let rich = module_parser::<_, Rich<Tok>>(FileId(0), true).parse(input);
        assert_eq!(fast.has_errors(), rich.has_errors(), "{text:?}");
        if !fast.has_errors() {
            assert_eq!(
                format!("{:?}", fast.output()),
                format!("{:?}", rich.output()),
                "{text:?}"
            );
        }
    }

    /// Words and marks from every corner of the grammar.
    const PIECES: &[&str] = &[
        "dag d",
        "factory f(",
        "n: int = 1",
        ")",
        "{",
        "}",
        "task t: bash",
        "group g",
        "mixin m",
        "template tp",
        "tenant K {",
        "naming = \"${tenant}\"",
        "in k1",
        "policy {",
        "tags += [\"a\"]",
        "override",
        "default_args {",
        "retries = 3",
        "let x = 1",
        "for i in range(3)",
        "if x > 1 {",
        "} else {",
        "a >> b",
        "[a, b] << c",
        "\"${i}\"",
        "5m",
        "@daily",
        "2024-01-01",
        "x.y",
        "f(a = 1)",
        "|",
        "&",
        ",",
        ";",
        "\n",
        "import \"lib.dagf\"",
        "asset a = \"s3://x\"",
        "extern",
        "extern dag \"up\", \"other\"",
        "source s: T = yaml(\"c.yaml\")",
        "profile prod {",
        "after {",
        "abstract",
        "extends",
        "operator o = \"m.C\" {",
        "plain",
        "branching sensor s = \"m.S\"",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn on_random_pieces(picks in proptest::collection::vec(0..PIECES.len(), 0..60)) {
            let text: Vec<&str> = picks.iter().map(|&i| PIECES[i]).collect();
            agree(&text.join(" "));
        }

        #[test]
        fn on_real_sources_cut_short(cut in 0usize..4000) {
            let text = include_str!("../../../bench/pipeline.dagf");
            let end = text.floor_char_boundary(cut.min(text.len()));
            agree(&text[..end]);
        }
    }

    /// Every `.dagf` file of the examples and the benchmarks, and the standard library.
    #[test]
    fn on_every_real_source() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).expect("readable folder").flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "dagf") {
                    out.push(p);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = Vec::new();
        walk(&root.join("examples"), &mut files);
        walk(&root.join("bench"), &mut files);
        walk(&root.join("crates/dagf-sema/src/std"), &mut files);
        assert!(files.len() > 40, "only {} sources found", files.len());
        for f in files {
            agree(&std::fs::read_to_string(&f).expect("readable source"));
        }
    }
}
