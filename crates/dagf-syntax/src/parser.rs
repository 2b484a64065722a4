//! The parser's passes: a fast one that only asks whether a file parses, and for a file
//! with a mistake, the search for the one-token edit (see `repair.rs`) that makes it
//! parse, then a diagnostic pass that recovers from what is left. It never fails: on a
//! syntax error it records a diagnostic, skips to a point it can resume from, and leaves
//! an `Error` node.
//!
//! The grammar itself is in `grammar.rs`, the values of literals in `literals.rs`, and
//! the wording of the errors in `wording.rs`.

use crate::ast::*;
use crate::grammar::module_parser;
use crate::lexer::{Tok, lex};
use crate::literals::invalid_literal;
use crate::wording::{
    UNCLOSED, brackets_too_deep, nested_too_deep, syntax_error, unterminated_string,
};
use chumsky::input::Input as _;
use chumsky::prelude::*;
use dagf_diag::{Code, Diagnostic, FileId, Span};

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
            Item::Test(t) => max_test_depth(&t.body),
            _ => continue,
        };
        if depth > MAX_NESTING {
            diags.push(nested_too_deep(span));
            let whole = match item {
                Item::Stmt(s) => s.span(),
                Item::Factory(f) => f.span,
                Item::Test(t) => t.span,
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
        // A quote that would make the string the callee of a call parses, but a
        // string is never called: the `(` belongs inside it (`"Job (daily)`).
        .filter(|&a| !text[a..end].trim_start().starts_with('('))
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
        out.push(unterminated_string(string, next));
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
                Stmt::Deps { .. } | Stmt::After { .. } | Stmt::Params { .. } | Stmt::Assert(_) => {
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
                    return Some(brackets_too_deep(Span::new(file, s.start, s.end)));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Module {
        let (m, diags) = parse(text, FileId(0));
        assert!(diags.is_empty(), "{diags:#?}");
        m
    }

    fn type_of_param(m: &Module) -> &TypeKind {
        match m.items.first() {
            Some(Item::TypeDecl(t)) => &t.ty.kind,
            other => panic!("a type declaration, found {other:?}"),
        }
    }

    #[test]
    fn unions_of_types_and_of_strings() {
        let m = ok("type U = str | list<str> | \"a\" | \"b\"");
        let TypeKind::AnyOf(members) = type_of_param(&m) else {
            panic!("a union: {m:?}");
        };
        assert_eq!(members.len(), 4);
        assert!(
            matches!(&members[1].kind, TypeKind::Named(n, args) if n.name == "list" && args.len() == 1)
        );
        // Strings alone are the string union they always were.
        let m = ok("type M = \"poke\" | \"reschedule\"");
        assert!(matches!(type_of_param(&m), TypeKind::Union(vs) if vs.len() == 2));
        // A `?` and constraints belong to one member; parentheses group a union.
        let m = ok("type O = int in 0..=5 | str?");
        assert!(
            matches!(type_of_param(&m), TypeKind::AnyOf(ms) if matches!(ms[1].kind, TypeKind::Optional(_)))
        );
        let m = ok("type P = (int | str)?");
        assert!(
            matches!(type_of_param(&m), TypeKind::Optional(inner) if matches!(inner.kind, TypeKind::AnyOf(_)))
        );
    }

    #[test]
    fn asserts_in_records_and_bodies() {
        let m = ok(r#"
type Sftp = {
    kind: "sftp",
    host: str,
    assert host != "", "a host is named",
    port: int = 22
    assert port > 0, "port ${port}"
}
factory f(n: int) {
    assert n > 0, "n is positive"
    assert = 3
}
"#);
        let TypeKind::Record(fields, rules) = type_of_param(&m) else {
            panic!("a record: {m:?}");
        };
        assert_eq!(fields.len(), 3);
        assert_eq!(rules.len(), 2);
        let Some(Item::Factory(f)) = m.items.get(1) else {
            panic!("a factory: {m:?}");
        };
        assert!(matches!(&f.body[0], Stmt::Assert(_)));
        // `assert` stays a name where no rule can start: a field of that name.
        assert!(matches!(&f.body[1], Stmt::Field { name, .. } if name.name == "assert"));
    }

    #[test]
    fn test_blocks() {
        let m = ok(r#"
/// Builds and checks.
test "builds" expect_error E0205 {
    fixture "configs/a.yaml" = """
        - name: a
        """
    let n = 2
    dag d: f(x = 1)
    assert len(d.task_ids) == n
    assert d.dag_id == "d", "the id"
    snapshot d
}
test "named test" { }
test = 3
"#);
        let Some(Item::Test(t)) = m.items.first() else {
            panic!("a test: {m:?}");
        };
        assert_eq!(t.name, "builds");
        assert_eq!(t.docs, vec![" Builds and checks.".to_string()]);
        assert_eq!(
            t.expect_error.as_ref().map(|c| c.name.as_str()),
            Some("E0205")
        );
        assert!(matches!(&t.body[0], TestStmt::Fixture { path, .. } if path == "configs/a.yaml"));
        assert!(matches!(&t.body[1], TestStmt::Stmt(Stmt::Let { .. })));
        assert!(matches!(&t.body[2], TestStmt::Stmt(Stmt::Decl(_))));
        assert!(matches!(&t.body[3], TestStmt::Assert { message: None, .. }));
        assert!(matches!(
            &t.body[4],
            TestStmt::Assert {
                message: Some(_),
                ..
            }
        ));
        assert!(matches!(&t.body[5], TestStmt::Snapshot { .. }));
        assert!(matches!(m.items.get(1), Some(Item::Test(t)) if t.body.is_empty()));
        // `test` is a keyword only before a name in quotes.
        assert!(matches!(
            m.items.get(2),
            Some(Item::Stmt(Stmt::Field { .. }))
        ));
    }

    #[test]
    fn a_mistake_in_a_test_is_one_error() {
        let (m, diags) = parse(
            "test \"t\" {\n    assert )\n    dag d: f()\n}\ndag x: f()\n",
            FileId(0),
        );
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(
            matches!(m.items.get(1), Some(Item::Stmt(Stmt::Decl(_)))),
            "{m:?}"
        );
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
        "type U = str | list<str>",
        "x: (int | \"a\")?",
        "assert x > 1, \"m\"",
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
