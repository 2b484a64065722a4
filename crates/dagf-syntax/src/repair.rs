//! One mistake, one error. When a file does not parse, the parser's own recovery skips
//! what it cannot read, and what it skipped then looks missing to every later stage: a
//! stray `}` closes a DAG early and leaves its tasks outside it, a forgotten `}` pulls the
//! next DAG into the open one. Before that, this module looks for the one-token edit that
//! makes the file parse: a stray token removed, a missing bracket added where the
//! indentation says the block ends, a misspelt keyword or a `:` for `=` replaced. An edit
//! is kept only if the parser then reads the whole file (or gets well past the place of
//! the mistake); the mistake is reported once, and the rest of the file is checked as if
//! the edit had been made.

use crate::lexer::Tok;
use chumsky::span::SimpleSpan;
use dagf_diag::{Code, Diagnostic, FileId, Span};

/// How many bracket edits are gathered for one mistake.
const MAX_EDITS: usize = 48;

/// A one-token change of the token stream.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Edit {
    Delete(usize),
    /// Inserts a token before token `i` (`i` may be the length: at the end).
    Insert(usize, Tok),
    Replace(usize, Tok),
}

impl Edit {
    /// Where the edit puts its change, in tokens of the stream before it.
    pub(crate) fn at(&self) -> usize {
        match self {
            Edit::Delete(i) | Edit::Insert(i, _) | Edit::Replace(i, _) => *i,
        }
    }
}

/// A candidate edit and what to say if it is the one kept (`None`: nothing new to say,
/// such as removing the stand-in of a string the lexer already reported).
pub(crate) struct Candidate {
    pub edit: Edit,
    pub diag: Option<Diagnostic>,
}

/// The token stream with `edit` made. An inserted token gets an empty span where the
/// token before it ends, so that every span still lies in the text.
pub(crate) fn apply(toks: &[(Tok, SimpleSpan)], edit: &Edit) -> Vec<(Tok, SimpleSpan)> {
    let mut out = Vec::with_capacity(toks.len() + 1);
    match edit {
        Edit::Delete(i) => {
            let i = (*i).min(toks.len());
            out.extend_from_slice(&toks[..i]);
            out.extend_from_slice(&toks[(i + 1).min(toks.len())..]);
        }
        Edit::Insert(i, tok) => {
            let i = (*i).min(toks.len());
            out.extend_from_slice(&toks[..i]);
            let at = match i {
                0 => toks.first().map_or(0, |(_, s)| s.start),
                _ => toks[i - 1].1.end,
            };
            out.push((tok.clone(), SimpleSpan::from(at..at)));
            out.extend_from_slice(&toks[i..]);
        }
        Edit::Replace(i, tok) => {
            out.extend_from_slice(toks);
            if let Some(slot) = out.get_mut(*i) {
                slot.0 = tok.clone();
            }
        }
    }
    out
}

/// Where a token stands in its line.
struct Place {
    line: usize,
    /// Width of the line's leading blanks (a tab counts 4).
    indent: usize,
    /// Whether nothing but blanks precedes the token on its line.
    first: bool,
}

/// Line facts about the tokens of one text.
pub(crate) struct Lines<'t> {
    text: &'t str,
    /// Byte offset of the start of each line.
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Lines { text, starts }
    }

    fn place(&self, at: usize) -> Place {
        let at = at.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= at).saturating_sub(1);
        let start = self.starts[line];
        let lead = &self.text.as_bytes()[start..at];
        let blanks = lead
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        let indent = lead[..blanks]
            .iter()
            .map(|b| if *b == b'\t' { 4 } else { 1 })
            .sum::<usize>();
        // The indentation of the whole line, not only of what precedes the token.
        let rest = &self.text.as_bytes()[start..];
        let line_blanks = rest
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .map(|b| if *b == b'\t' { 4 } else { 1 })
            .sum::<usize>();
        Place {
            line,
            indent: if blanks == lead.len() {
                indent
            } else {
                line_blanks
            },
            first: blanks == lead.len(),
        }
    }

    /// How many bracket pairs of `toks` disagree with the indentation: a pair over
    /// several lines whose opener is not the last token of its line, or whose closer is
    /// not the first of its line, or is at another indentation. Added tokens (empty
    /// spans) are where the indentation put them, and are not counted.
    pub(crate) fn misfits(&self, toks: &[(Tok, SimpleSpan)]) -> usize {
        let mut stack: Vec<usize> = Vec::new();
        let mut n = 0;
        for (i, (t, s)) in toks.iter().enumerate() {
            if opener(t).is_some() {
                stack.push(i);
                continue;
            }
            if !is_closer(t) {
                continue;
            }
            let Some(o) = stack.pop() else { continue };
            let os = toks[o].1;
            let (po, pc) = (self.place(os.start), self.place(s.start));
            if po.line == pc.line {
                continue;
            }
            let last_on_line = toks
                .get(o + 1)
                .is_none_or(|(_, next)| self.place(next.start).line != po.line);
            if os.start < os.end && !last_on_line {
                n += 1;
            }
            // First on its line among the tokens as edited (a token removed from the
            // line's start is still in the text).
            let first = toks[..i]
                .iter()
                .rev()
                .find(|(_, p)| p.start < p.end)
                .is_none_or(|(_, p)| self.place(p.start).line != pc.line);
            if s.start < s.end && (!first || pc.indent != po.indent) {
                n += 1;
            }
        }
        n
    }

    /// The 1-based line number of byte `at`.
    fn line_no(&self, at: usize) -> usize {
        self.place(at).line + 1
    }
}

fn opener(t: &Tok) -> Option<Tok> {
    match t {
        Tok::LBrace => Some(Tok::RBrace),
        Tok::LParen | Tok::LParenLine => Some(Tok::RParen),
        Tok::LBracket | Tok::LBracketLine => Some(Tok::RBracket),
        _ => None,
    }
}

/// Whether a token starts a value (and so cannot follow one directly).
fn starts_value(t: &Tok) -> bool {
    matches!(
        t,
        Tok::Str(_)
            | Tok::StrHead(_)
            | Tok::Ident(_)
            | Tok::Int(_)
            | Tok::Float(_)
            | Tok::Duration(_)
            | Tok::Date(_)
            | Tok::DateTime(_)
            | Tok::Preset(_)
            | Tok::True
            | Tok::False
            | Tok::None
            | Tok::LParen
            | Tok::LParenLine
            | Tok::LBracket
            | Tok::LBracketLine
            | Tok::LBrace
    )
}

fn is_closer(t: &Tok) -> bool {
    matches!(t, Tok::RBrace | Tok::RParen | Tok::RBracket)
}

fn name(t: &Tok) -> &'static str {
    match t {
        Tok::LBrace => "`{`",
        Tok::RBrace => "`}`",
        Tok::LParen | Tok::LParenLine => "`(`",
        Tok::RParen => "`)`",
        Tok::LBracket | Tok::LBracketLine => "`[`",
        Tok::RBracket => "`]`",
        _ => "bracket",
    }
}

/// Words that start an item or a statement, for "did you mean" on a misspelt one. The
/// contextual ones (`tenant`, `source`, `profile`, `after`, `extern`) are names to the
/// lexer, and stay names.
const KEYWORDS: &[(&str, Tok)] = &[
    ("import", Tok::Import),
    ("operator", Tok::Operator),
    ("sensor", Tok::Sensor),
    ("type", Tok::Type),
    ("factory", Tok::Factory),
    ("template", Tok::Template),
    ("callback", Tok::Callback),
    ("dag", Tok::Dag),
    ("task", Tok::Task),
    ("group", Tok::Group),
    ("asset", Tok::Asset),
    ("let", Tok::Let),
    ("for", Tok::For),
    ("if", Tok::If),
    ("mixin", Tok::Mixin),
    ("abstract", Tok::Abstract),
    ("override", Tok::Override),
    ("tenant", Tok::Error),
    ("source", Tok::Error),
    ("profile", Tok::Error),
    ("after", Tok::Error),
    ("extern", Tok::Error),
];

/// The words that start an item or a statement, for "did you mean" elsewhere (a
/// misspelt `dag` that reads as a tenant of an unknown kind).
pub const START_WORDS: &[&str] = &[
    "import", "operator", "sensor", "type", "factory", "template", "callback", "dag", "task",
    "group", "asset", "let", "for", "if", "mixin", "abstract", "override", "tenant", "source",
    "profile", "after", "extern", "pool",
];

/// The token a keyword is written as.
fn keyword_tok(word: &str) -> Option<Tok> {
    KEYWORDS.iter().find(|(w, _)| *w == word).map(|(w, t)| {
        if *t == Tok::Error {
            Tok::Ident(w.to_string())
        } else {
            t.clone()
        }
    })
}

/// Builds the candidate edits for a file whose first syntax error is at token `p`
/// (`error` is the diagnostic the parser gives there), most likely first.
pub(crate) struct Candidates<'a> {
    pub toks: &'a [(Tok, SimpleSpan)],
    pub lines: &'a Lines<'a>,
    pub file: FileId,
    /// Byte ranges the lexer already reported (an unterminated string swallows the
    /// brackets after it on its line: closing them is no new mistake).
    pub reported: &'a [std::ops::Range<usize>],
}

impl Candidates<'_> {
    /// The repair that writes keyword `tok` for the misspelt word at token `i`.
    fn misspelt_keyword(&self, i: usize, tok: Tok, word: &str, help: String) -> Candidate {
        Candidate {
            edit: Edit::Replace(i, tok),
            diag: Some(
                Diagnostic::at(
                    Code::E0001,
                    self.span(i),
                    format!("`{word}` is not a keyword"),
                    "unknown word",
                )
                .with_help(help),
            ),
        }
    }

    fn span(&self, i: usize) -> Span {
        let s = self.toks.get(i).map_or_else(
            || {
                let end = self.lines.text.len();
                SimpleSpan::from(end..end)
            },
            |(_, s)| *s,
        );
        Span::new(self.file, s.start, s.end)
    }

    fn eof(&self) -> Span {
        let end = self.lines.text.len();
        Span::new(self.file, end, end)
    }

    /// Whether something the lexer reported lies between bytes `from` and `to`.
    fn reported_between(&self, from: usize, to: usize) -> bool {
        self.reported.iter().any(|r| r.start <= to && r.end >= from)
    }

    /// Every candidate, in the order they are tried.
    pub(crate) fn all(&self, p: usize, error: &Diagnostic) -> Vec<Candidate> {
        let mut out = Vec::new();
        self.brackets(&mut out);
        // A file with many brackets at odd indentations gives many edits; the first are
        // the likely ones, and only so many are tried.
        out.truncate(MAX_EDITS);
        self.local(p, error, &mut out);
        let mut seen: Vec<Edit> = Vec::new();
        out.retain(|c| {
            if seen.contains(&c.edit) {
                false
            } else {
                seen.push(c.edit.clone());
                true
            }
        });
        out
    }

    /// Edits the brackets suggest: a closer that matches nothing, or that closes a
    /// block whose indentation says it goes on; an opener never closed.
    fn brackets(&self, out: &mut Vec<Candidate>) {
        let mut stack: Vec<usize> = Vec::new();
        // Edits the indentation points to, and edits only the count of brackets does.
        let mut strong: Vec<Candidate> = Vec::new();
        let mut weak: Vec<Candidate> = Vec::new();
        // Closers matched so far: a stray one closed something early, and the closer
        // meant for it is then the one left over.
        let mut closed: Vec<(usize, usize)> = Vec::new();
        for (i, (t, _)) in self.toks.iter().enumerate() {
            if opener(t).is_some() {
                stack.push(i);
                continue;
            }
            if !is_closer(t) {
                continue;
            }
            if strong.len() + weak.len() > MAX_EDITS {
                break;
            }
            match stack.last() {
                None => {
                    self.extra_closer(i, None, &mut weak);
                    self.stolen(i, &closed, &mut weak);
                }
                Some(&o) if opener(&self.toks[o].0).as_ref() == Some(t) => {
                    stack.pop();
                    closed.push((i, o));
                    if *t == Tok::RBrace {
                        self.check_indent(o, i, &stack, &mut strong);
                    }
                }
                Some(&o) => {
                    // A closer of another kind: either it is stray, or the opener on
                    // top was never closed.
                    self.extra_closer(i, Some(o), &mut weak);
                    let close = opener(&self.toks[o].0).unwrap_or(Tok::RBrace);
                    self.left_open(o, i, &mut weak);
                    weak.push(self.unclosed(o, Edit::Insert(i, close)));
                    self.stolen(i, &closed, &mut weak);
                    if let Some(at) = stack
                        .iter()
                        .rposition(|&x| opener(&self.toks[x].0).as_ref() == Some(t))
                    {
                        stack.truncate(at);
                    }
                }
            }
        }
        // Openers left at the end, innermost first.
        for &o in stack.iter().rev() {
            let close = opener(&self.toks[o].0).unwrap_or(Tok::RBrace);
            self.left_open(o, self.toks.len(), &mut weak);
            weak.push(self.unclosed(o, Edit::Insert(self.toks.len(), close)));
        }
        // In the order met: the first mistake comes first, and so do its edits.
        out.extend(strong);
        out.extend(weak);
    }

    /// For a closer `c` left over: removing one of the same kind before it, which
    /// closed its bracket early (the nearest few).
    fn stolen(&self, c: usize, closed: &[(usize, usize)], out: &mut Vec<Candidate>) {
        let kind = &self.toks[c].0;
        for &(x, o) in closed
            .iter()
            .rev()
            .filter(|(x, _)| self.toks[*x].0 == *kind)
            .take(4)
        {
            out.push(self.stray_closer(x, Some(o)));
        }
    }

    /// A `}` at another indentation than the line of its `{`: either it is a stray one
    /// (deeper than the block), or the block it closes is an inner one left open
    /// (shallower, matching an outer block).
    fn check_indent(&self, o: usize, c: usize, stack: &[usize], found: &mut Vec<Candidate>) {
        let (po, pc) = (
            self.lines.place(self.toks[o].1.start),
            self.lines.place(self.toks[c].1.start),
        );
        if po.line == pc.line || po.indent == pc.indent {
            return;
        }
        if pc.indent > po.indent || !pc.first {
            self.extra_closer(c, Some(o), found);
        }
        if pc.indent < po.indent {
            self.left_open(o, c, found);
        }
        // The `}` may belong to an outer block with its indentation; the inner ones
        // between are left open.
        for &x in stack.iter().rev() {
            let px = self.lines.place(self.toks[x].1.start);
            if px.indent == pc.indent && self.toks[x].0 == Tok::LBrace {
                break;
            }
            if self.toks[x].0 == Tok::LBrace {
                self.left_open(x, c, found);
            }
        }
    }

    /// Edits for the opener `o`, found open at token `upto`: a bracket of its kind
    /// after it is one too many (it took `o`'s closer), or `o`'s closer is missing
    /// where its indentation ends, or `o` itself is one too many.
    fn left_open(&self, o: usize, upto: usize, found: &mut Vec<Candidate>) {
        let kind = &self.toks[o].0;
        let close = opener(kind).unwrap_or(Tok::RBrace);
        let inner: Vec<usize> = (o + 1..upto.min(self.toks.len()))
            .filter(|&x| opener(&self.toks[x].0) == opener(kind))
            .collect();
        // The nearest to either end: a `{` too many is most often on the opener's line,
        // or on a line of its own before the closer.
        let ends = inner.len().min(6);
        let mut picked: Vec<usize> = inner[..ends].to_vec();
        picked.extend(inner[inner.len() - ends..].iter().rev());
        picked.dedup();
        for x in picked {
            found.push(self.unclosed(x, Edit::Delete(x)));
        }
        if let Some(end) = self.block_end(o).filter(|&e| e <= upto) {
            found.push(self.unclosed(o, Edit::Insert(end, close.clone())));
        }
        found.push(self.unclosed(o, Edit::Delete(o)));
    }

    /// Where the block opened by token `o` ends by its indentation: before the first
    /// token after its line that starts a line no deeper than the opener's line.
    fn block_end(&self, o: usize) -> Option<usize> {
        let po = self.lines.place(self.toks[o].1.start);
        (o + 1..self.toks.len()).find(|&j| {
            let pj = self.lines.place(self.toks[j].1.start);
            pj.line > po.line && pj.first && pj.indent <= po.indent
        })
    }

    /// Edits for a closer `c` that closes too much: removing a closer of its kind
    /// earlier on its line that closes too early, or `c` itself. Blocks close at the end
    /// of a line, so a `}` in the middle of one is the likely stray; calls and lists close
    /// mid-line all the time, but not right before a value (`f(a) b`, `f) (a)`).
    fn extra_closer(&self, c: usize, open: Option<usize>, found: &mut Vec<Candidate>) {
        let line = self.lines.place(self.toks[c].1.start).line;
        let kind = &self.toks[c].0;
        let followed = |x: usize, by: &dyn Fn(&Tok) -> bool| {
            self.toks
                .get(x + 1)
                .is_some_and(|(t, s)| self.lines.place(s.start).line == line && by(t))
        };
        let mut earlier = Vec::new();
        let mut x = c;
        while x > 0 {
            x -= 1;
            if self.lines.place(self.toks[x].1.start).line != line {
                break;
            }
            if self.toks[x].0 == *kind {
                earlier.push(x);
            }
        }
        // Between an earlier closer and `c`, nothing but more of the same list: `f(a) ,
        // b = 2)` more likely ends `f(a, b = 2)` than `f(a)` and a field.
        let flat = |x: usize| {
            self.toks[x + 1..c]
                .iter()
                .all(|(t, _)| opener(t).is_none() && !is_closer(t))
        };
        let (likely, rest): (Vec<usize>, Vec<usize>) = earlier.into_iter().partition(|&x| {
            if *kind == Tok::RBrace {
                followed(x, &|t| !is_closer(t))
            } else {
                followed(x, &starts_value) || (followed(x, &|t| *t == Tok::Comma) && flat(x))
            }
        });
        for x in likely {
            let stray = self.stray_closer(x, self.opener_of(x));
            // `f(a = 1) b = 2)`: the `)` may stand for a `,`.
            let comma = (*kind != Tok::RBrace).then(|| Candidate {
                edit: Edit::Replace(x, Tok::Comma),
                diag: stray.diag.clone().map(|d| {
                    d.with_help(format!(
                        "remove this {}, or write `,` if what follows belongs inside",
                        name(kind)
                    ))
                }),
            });
            found.push(stray);
            found.extend(comma);
        }
        found.push(self.stray_closer(c, open));
        if *kind != Tok::RBrace {
            for x in rest {
                found.push(self.stray_closer(x, self.opener_of(x)));
            }
        }
    }

    /// The opener the closer `c` closes, counting brackets back from it.
    fn opener_of(&self, c: usize) -> Option<usize> {
        let mut depth = 0usize;
        for x in (0..c).rev() {
            let t = &self.toks[x].0;
            if is_closer(t) {
                depth += 1;
            } else if opener(t).is_some() {
                if depth == 0 {
                    return Some(x);
                }
                depth -= 1;
            }
        }
        None
    }

    fn stray_closer(&self, c: usize, open: Option<usize>) -> Candidate {
        let t = &self.toks[c].0;
        let at = self.toks[c].1;
        if self.reported_between(at.start, at.end) {
            return Candidate {
                edit: Edit::Delete(c),
                diag: None,
            };
        }
        let mut d = Diagnostic::at(
            Code::E0001,
            self.span(c),
            format!("unexpected {}", name(t)),
            match open {
                None => "nothing is open here for it to close".to_string(),
                Some(o) if opener(&self.toks[o].0).as_ref() == Some(t) => {
                    format!(
                        "this closes the {} of line {} too early",
                        name(&self.toks[o].0),
                        self.lines.line_no(self.toks[o].1.start)
                    )
                }
                Some(o) => format!(
                    "the {} of line {} is open here",
                    name(&self.toks[o].0),
                    self.lines.line_no(self.toks[o].1.start)
                ),
            },
        );
        if let Some(o) = open {
            d = d.with_label(self.span(o), "opened here");
        }
        Candidate {
            edit: Edit::Delete(c),
            diag: Some(d.with_help(format!("remove this {}", name(t)))),
        }
    }

    /// The diagnostic for an opener `o` never closed, repaired by `edit`.
    fn unclosed(&self, o: usize, edit: Edit) -> Candidate {
        let t = &self.toks[o].0;
        let close = opener(t).map_or("`}`", |c| name(&c));
        let at = self.toks[o].1;
        let ends = match &edit {
            Edit::Insert(i, _) => Some(*i),
            _ => None,
        };
        // A string left open on the opener's line swallowed its closer: reported.
        let end_byte = ends
            .and_then(|i| self.toks.get(i))
            .map_or(self.lines.text.len(), |(_, s)| s.start);
        let swallowed = ends.is_some() && self.reported_between(at.start, end_byte);
        if swallowed {
            return Candidate { edit, diag: None };
        }
        let mut d = Diagnostic::at(
            Code::E0001,
            self.span(o),
            format!("this {} is never closed", name(t)),
            format!("this {} has no {close}", name(t)),
        );
        match ends {
            Some(i) if i >= self.toks.len() => {
                d = d
                    .with_label(self.eof(), "the file ends here")
                    .with_help(format!("add the missing {close} where it ends"));
            }
            Some(i) => {
                d = d
                    .with_label(
                        self.span(i.saturating_sub(1)),
                        format!("by the indentation, {close} belongs after this"),
                    )
                    .with_help(format!("add the missing {close}"));
            }
            None => {
                d = d.with_help(format!(
                    "remove it, or add the missing {close} where it ends"
                ))
            }
        }
        Candidate {
            edit,
            diag: Some(d),
        }
    }

    /// Edits at the first error: a misspelt keyword, `:` for `=`, the token removed, a
    /// closer or a comma added.
    fn local(&self, p: usize, error: &Diagnostic, out: &mut Vec<Candidate>) {
        if self.toks.is_empty() {
            return;
        }
        // A misspelt keyword where an item or statement starts; the error is found a
        // token or two after it.
        for i in (p.saturating_sub(2)..=p.min(self.toks.len().saturating_sub(1))).rev() {
            let Tok::Ident(word) = &self.toks[i].0 else {
                continue;
            };
            // `extern` is followed by `asset` or `dag` and nothing else.
            if i > 0 && matches!(&self.toks[i - 1].0, Tok::Ident(k) if k == "extern") {
                if let Some(kw) = dagf_diag::did_you_mean(word, ["asset", "dag"])
                    && let Some(tok) = keyword_tok(kw)
                {
                    out.push(self.misspelt_keyword(
                        i,
                        tok,
                        word,
                        format!("did you mean `{kw}`? `extern` is followed by `asset` or `dag`"),
                    ));
                }
                continue;
            }
            let starts = i == 0
                || self.lines.place(self.toks[i].1.start).first
                || matches!(
                    self.toks[i - 1].0,
                    Tok::LBrace | Tok::RBrace | Tok::Semi | Tok::Doc(_)
                );
            if !starts || keyword_tok(word).is_some() {
                continue;
            }
            let Some(kw) = dagf_diag::did_you_mean(word, START_WORDS.iter().copied()) else {
                continue;
            };
            let Some(tok) = keyword_tok(kw) else { continue };
            out.push(self.misspelt_keyword(i, tok, word, format!("did you mean `{kw}`?")));
        }
        let Some((t, at)) = self.toks.get(p) else {
            return;
        };
        if *t == Tok::Colon && p > 0 && matches!(self.toks[p - 1].0, Tok::Ident(_)) {
            out.push(Candidate {
                edit: Edit::Replace(p, Tok::Eq),
                diag: Some(
                    Diagnostic::at(
                        Code::E0001,
                        self.span(p),
                        "fields are set with `=`, not `:`",
                        "write `=` here",
                    )
                    .with_help(
                        "write `name = value`; `:` gives a parameter its type and a task its operator",
                    ),
                ),
            });
        }
        let reported = self.reported_between(at.start, at.end);
        // Two values side by side in a list or a call: a comma left out.
        let ends_value = p > 0
            && matches!(
                self.toks[p - 1].0,
                Tok::Str(_)
                    | Tok::StrTail(_)
                    | Tok::Ident(_)
                    | Tok::Int(_)
                    | Tok::Float(_)
                    | Tok::Duration(_)
                    | Tok::Date(_)
                    | Tok::DateTime(_)
                    | Tok::Preset(_)
                    | Tok::True
                    | Tok::False
                    | Tok::None
                    | Tok::RBracket
                    | Tok::RBrace
                    | Tok::RParen
            );
        if ends_value && starts_value(t) && !self.lines.place(at.start).first {
            out.push(Candidate {
                edit: Edit::Insert(p, Tok::Comma),
                diag: (!reported).then(|| {
                    Diagnostic::at(
                        Code::E0001,
                        self.span(p),
                        format!("expected `,` before this {t}"),
                        "a `,` is missing before this",
                    )
                    .with_help("separate the items with `,`")
                }),
            });
        }
        out.push(Candidate {
            edit: Edit::Delete(p),
            diag: (!reported).then(|| error.clone().with_help(format!("remove this {t}"))),
        });
        if p > 0 && !is_closer(&self.toks[p - 1].0) && opener(&self.toks[p - 1].0).is_none() {
            let (before, span) = (&self.toks[p - 1].0, self.toks[p - 1].1);
            out.push(Candidate {
                edit: Edit::Delete(p - 1),
                diag: (!self.reported_between(span.start, span.end)).then(|| {
                    Diagnostic::at(
                        Code::E0001,
                        self.span(p - 1),
                        format!("unexpected {before}"),
                        "not expected here",
                    )
                    .with_help(format!("remove this {before}"))
                }),
            });
        }
    }
}
