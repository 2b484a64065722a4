//! The lexer. Token kinds that need context (a `[` that may index, a `>` that starts `>>`)
//! are told apart in one pass after logos, so the parser never looks at whitespace.

use dagf_diag::{Code, Diagnostic, FileId, Span};
use logos::Logos;
use std::fmt;

/// A token of `.dagf` text: whitespace and comments are skipped, doc comments are kept,
/// and a string literal becomes one `Str`, or with interpolations `StrHead`, each
/// expression's tokens (with `StrMid` between them) and `StrTail`.
#[derive(Logos, Clone, Debug, PartialEq)]
#[logos(skip r"[ \t\r\n\f]+")]
#[logos(skip(r"//([^/\n][^\n]*)?", allow_greedy = true))]
#[logos(error = LexError)]
pub enum Tok {
    /// A `///` doc comment: the text after `///`.
    #[regex(r"///[^\n]*", callback = |lex| lex.slice()[3..].to_string(), allow_greedy = true)]
    Doc(String),
    /// `/* ... */`: skipped, never a token itself (unterminated, it is E0002).
    #[token("/*", block_comment)]
    BlockComment,

    // Keywords
    /// `import`: starts an import.
    #[token("import")]
    Import,
    /// `as`: names an import's alias.
    #[token("as")]
    As,
    /// `operator`: starts an operator declaration.
    #[token("operator")]
    Operator,
    /// `sensor`: starts a sensor declaration.
    #[token("sensor")]
    Sensor,
    /// `type`: starts a type declaration.
    #[token("type")]
    Type,
    /// `factory`: starts a factory declaration.
    #[token("factory")]
    Factory,
    /// `template`: starts a task or group template.
    #[token("template")]
    Template,
    /// `callback`: starts a callback declaration.
    #[token("callback")]
    Callback,
    /// `dag`: declares a dag (or, alone in an expression, the name `dag`).
    #[token("dag")]
    Dag,
    /// `task`: declares a task.
    #[token("task")]
    Task,
    /// `group`: declares a task group.
    #[token("group")]
    Group,
    /// `asset`: declares an asset.
    #[token("asset")]
    Asset,
    /// `let`: binds a name.
    #[token("let")]
    Let,
    /// `for`: a loop or a comprehension clause.
    #[token("for")]
    For,
    /// `in`: in `for x in xs`, a range constraint, or a dag's tenant (`dag d: f() in acme`).
    #[token("in")]
    In,
    /// `if`: a conditional statement or expression, or a comprehension's filter.
    #[token("if")]
    If,
    /// `else`: the other branch of an `if`.
    #[token("else")]
    Else,
    /// `true`: the boolean.
    #[token("true")]
    True,
    /// `false`: the boolean.
    #[token("false")]
    False,
    /// `none`: the absent value.
    #[token("none")]
    None,
    /// `and`: logical and.
    #[token("and")]
    And,
    /// `or`: logical or.
    #[token("or")]
    Or,
    /// `not`: logical negation.
    #[token("not")]
    Not,
    /// `matches`: a `str` type's pattern constraint.
    #[token("matches")]
    Matches,
    /// `override`: a later layer replaces an earlier one's value or task.
    #[token("override")]
    Override,
    /// `abstract`: a factory that makes no dag, or a task every child factory must declare.
    #[token("abstract")]
    Abstract,
    /// `extends`: names a factory's parent.
    #[token("extends")]
    Extends,
    /// `mixin`: starts a mixin declaration.
    #[token("mixin")]
    Mixin,
    /// `with`: the list of mixins applied.
    #[token("with")]
    With,

    /// A name that is not a keyword: an ASCII letter or `_`, then letters, digits and `_`.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice().to_string())]
    Ident(String),
    /// An integer literal as written (`1_000`), underscores included.
    #[regex(r"[0-9][0-9_]*", |lex| lex.slice().to_string())]
    Int(String),
    /// A float literal as written (`0.5`): digits, `.`, digits.
    #[regex(r"[0-9][0-9_]*\.[0-9][0-9_]*", |lex| lex.slice().to_string())]
    Float(String),
    /// A duration literal as written (`1h30m`, `250ms`).
    #[regex(r"([0-9]+(ms|s|m|h|d|w))+", |lex| lex.slice().to_string())]
    Duration(String),
    /// A date literal as written (`2024-01-31`).
    #[regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", |lex| lex.slice().to_string())]
    Date(String),
    /// A datetime literal as written (`2024-01-01T06:00Z`, `2024-01-01T06:00:30+02:00`).
    #[regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})?", |lex| lex.slice().to_string())]
    DateTime(String),
    /// A schedule preset, the name after `@` (`daily` for `@daily`).
    #[regex(r"@[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice()[1..].to_string())]
    Preset(String),
    /// A `"..."` string as written between the quotes; `lex` replaces it with the tokens below.
    #[token("\"", string)]
    RawStr(String),
    /// A `"""..."""` string as written; `lex` replaces it with the tokens below.
    #[token("\"\"\"", triple_string)]
    RawTripleStr(String),
    /// A string without interpolation, escapes applied (and dedented, for `"""`).
    Str(String),
    /// The text before the first `${` of an interpolated string; the expression's tokens follow.
    StrHead(String),
    /// The text between two interpolations.
    StrMid(String),
    /// The text after the last interpolation.
    StrTail(String),

    /// `{`: opens a block, a record or a record type.
    #[token("{")]
    LBrace,
    /// `}`: closes a block, a record or a record type.
    #[token("}")]
    RBrace,
    /// `(` on the same line as the token before it: may start a call.
    #[token("(")]
    LParen,
    /// `(` at the start of a line: only a grouping.
    LParenLine,
    /// `)`: closes a parameter list, an argument list or a grouping.
    #[token(")")]
    RParen,
    /// `[` on the same line as the token before it: may index.
    #[token("[")]
    LBracket,
    /// `[` at the start of a line: only a list.
    LBracketLine,
    /// `]`: closes a list, a comprehension or an index.
    #[token("]")]
    RBracket,
    /// `,`: separates items, arguments and statements.
    #[token(",")]
    Comma,
    /// `;`: separates statements, like `,`.
    #[token(";")]
    Semi,
    /// `:`: before a type, a declaration's target, or a comprehension's item.
    #[token(":")]
    Colon,
    /// `=`: sets a field, an argument, a `let` or a default.
    #[token("=")]
    Eq,
    /// `+=`: appends to a list field.
    #[token("+=")]
    PlusEq,
    /// `.`: a field or path step.
    #[token(".")]
    Dot,
    /// `..`: a range that leaves its upper bound out.
    #[token("..")]
    DotDot,
    /// `..=`: a range that includes its upper bound.
    #[token("..=")]
    DotDotEq,
    /// A `>` directly followed by another `>`: the first half of `>>`.
    GtJoined,
    /// `>`: greater than, a type argument list's end, or the second half of `>>`.
    #[token(">")]
    Gt,
    /// A `<` directly followed by another `<`: the first half of `<<`.
    LtJoined,
    /// `<`: less than, a type argument list's start, or the second half of `<<`.
    #[token("<")]
    Lt,
    /// `>=`: greater than or equal.
    #[token(">=")]
    Ge,
    /// `<=`: less than or equal.
    #[token("<=")]
    Le,
    /// `==`: equal.
    #[token("==")]
    EqEq,
    /// `!=`: not equal.
    #[token("!=")]
    Ne,
    /// `+`: addition, or joining strings or lists.
    #[token("+")]
    Plus,
    /// `-`: subtraction or negation.
    #[token("-")]
    Minus,
    /// `*`: multiplication.
    #[token("*")]
    Star,
    /// `/`: division.
    #[token("/")]
    Slash,
    /// `?`: makes a type optional.
    #[token("?")]
    Question,
    /// `|`: a string union type, or "any of" assets.
    #[token("|")]
    Pipe,
    /// `&`: "all of" assets.
    #[token("&")]
    Amp,

    /// Stands where the lexer met something it could not read; already reported.
    Error,
}

/// Why logos could not read a token; `lex` turns it into a diagnostic.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum LexError {
    /// A character that starts no token (E0003).
    #[default]
    Invalid,
    /// A string or block comment (the text says which) that never closes (E0002).
    Unterminated(&'static str),
}

type Lexer<'a> = logos::Lexer<'a, Tok>;

fn block_comment(lex: &mut Lexer<'_>) -> logos::FilterResult<(), LexError> {
    match lex.remainder().find("*/") {
        Some(end) => {
            lex.bump(end + 2);
            logos::FilterResult::Skip
        }
        None => {
            lex.bump(lex.remainder().len());
            logos::FilterResult::Error(LexError::Unterminated("block comment"))
        }
    }
}

/// The comments of `text`, whose tokens are `toks` (lexed from offset 0): they are in
/// the gaps between tokens, which hold nothing else but blanks (and, after a stray `#`,
/// the rest of its line, skipped here too).
pub fn comments(text: &str, toks: &[(Tok, Span)], file: FileId) -> Vec<crate::ast::Comment> {
    let mut out = Vec::new();
    let mut from = 0usize;
    let ends = toks
        .iter()
        .map(|(_, s)| (s.start as usize, s.end as usize))
        .chain([(text.len(), text.len())]);
    for (start, end) in ends {
        let Some(gap) = text.get(from..start) else {
            from = from.max(end);
            continue;
        };
        let mut at = 0;
        while at < gap.len() {
            let rest = &gap[at..];
            let line_end = rest.find('\n').unwrap_or(rest.len());
            let len = if rest.starts_with("//") {
                Some(line_end - usize::from(rest[..line_end].ends_with('\r')))
            } else if rest.starts_with("/*") {
                rest.find("*/").map(|e| e + 2)
            } else {
                None
            };
            match len {
                Some(len) => {
                    let (s, e) = (from + at, from + at + len);
                    out.push(crate::ast::Comment {
                        span: Span::new(file, s, e),
                        text: text[s..e].to_string(),
                    });
                    at += len;
                }
                None => match rest.chars().next() {
                    Some(c) if c.is_whitespace() => at += c.len_utf8(),
                    _ => at += line_end.max(1),
                },
            }
            // A step may end inside a character only if the gap does.
            while at < gap.len() && !gap.is_char_boundary(at) {
                at += 1;
            }
        }
        from = from.max(end);
    }
    out
}

/// Finds the closing quote, stepping over escapes and over `${ ... }` with nested strings.
fn scan_string(rest: &str, triple: bool) -> Option<usize> {
    let bytes = rest.as_bytes();
    let mut i = 0;
    let mut depth = 0usize;
    let mut inner_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\\' {
            i += 2;
            continue;
        }
        if depth == 0 {
            if triple && bytes[i..].starts_with(b"\"\"\"") {
                return Some(i);
            }
            if !triple && b == b'"' {
                return Some(i);
            }
            if !triple && b == b'\n' {
                return None;
            }
            if bytes[i..].starts_with(b"${") {
                depth = 1;
                i += 2;
                continue;
            }
        } else if inner_string {
            if b == b'"' {
                inner_string = false;
            } else if b == b'\n' {
                return None;
            }
        } else {
            match b {
                b'"' => inner_string = true,
                b'{' => depth += 1,
                b'}' => depth -= 1,
                b'\n' if !triple => return None,
                _ => {}
            }
        }
        i += 1;
    }
    None
}

fn string(lex: &mut Lexer<'_>) -> Result<String, LexError> {
    let rest = lex.remainder();
    match scan_string(rest, false) {
        Some(end) => {
            lex.bump(end + 1);
            Ok(rest[..end].to_string())
        }
        None => {
            let line_end = rest.find('\n').unwrap_or(rest.len());
            lex.bump(line_end);
            Err(LexError::Unterminated("string"))
        }
    }
}

fn triple_string(lex: &mut Lexer<'_>) -> Result<String, LexError> {
    let rest = lex.remainder();
    match scan_string(rest, true) {
        Some(end) => {
            lex.bump(end + 3);
            Ok(rest[..end].to_string())
        }
        None => {
            lex.bump(rest.len());
            Err(LexError::Unterminated("string"))
        }
    }
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Tok::Doc(_) => "doc comment",
            Tok::BlockComment => "comment",
            Tok::Import => "`import`",
            Tok::As => "`as`",
            Tok::Operator => "`operator`",
            Tok::Sensor => "`sensor`",
            Tok::Type => "`type`",
            Tok::Factory => "`factory`",
            Tok::Template => "`template`",
            Tok::Callback => "`callback`",
            Tok::Dag => "`dag`",
            Tok::Task => "`task`",
            Tok::Group => "`group`",
            Tok::Asset => "`asset`",
            Tok::Let => "`let`",
            Tok::For => "`for`",
            Tok::In => "`in`",
            Tok::If => "`if`",
            Tok::Else => "`else`",
            Tok::True => "`true`",
            Tok::False => "`false`",
            Tok::None => "`none`",
            Tok::And => "`and`",
            Tok::Or => "`or`",
            Tok::Not => "`not`",
            Tok::Matches => "`matches`",
            Tok::Override => "`override`",
            Tok::Abstract => "`abstract`",
            Tok::Extends => "`extends`",
            Tok::Mixin => "`mixin`",
            Tok::With => "`with`",

            Tok::Ident(_) => "name",
            Tok::Int(_) => "integer",
            Tok::Float(_) => "number",
            Tok::Duration(_) => "duration",
            Tok::Date(_) => "date",
            Tok::DateTime(_) => "datetime",
            Tok::Preset(_) => "schedule preset",
            Tok::RawStr(_) | Tok::RawTripleStr(_) | Tok::Str(_) | Tok::StrHead(_) => "string",
            Tok::StrMid(_) | Tok::StrTail(_) => "string",
            Tok::LBrace => "`{`",
            Tok::RBrace => "`}`",
            Tok::LParen | Tok::LParenLine => "`(`",
            Tok::RParen => "`)`",
            Tok::LBracket | Tok::LBracketLine => "`[`",
            Tok::RBracket => "`]`",
            Tok::Comma => "`,`",
            Tok::Semi => "`;`",
            Tok::Colon => "`:`",
            Tok::Eq => "`=`",
            Tok::PlusEq => "`+=`",
            Tok::Dot => "`.`",
            Tok::DotDot => "`..`",
            Tok::DotDotEq => "`..=`",
            Tok::GtJoined => "`>>`",
            Tok::Gt => "`>`",
            Tok::LtJoined => "`<<`",
            Tok::Lt => "`<`",
            Tok::Ge => "`>=`",
            Tok::Le => "`<=`",
            Tok::EqEq => "`==`",
            Tok::Ne => "`!=`",
            Tok::Plus => "`+`",
            Tok::Minus => "`-`",
            Tok::Star => "`*`",
            Tok::Slash => "`/`",
            Tok::Question => "`?`",
            Tok::Pipe => "`|`",
            Tok::Amp => "`&`",
            Tok::Error => "invalid text",
        };
        f.write_str(s)
    }
}

/// Turns text into tokens with their spans. Never fails: what it cannot read becomes
/// a `Tok::Error` token and a diagnostic.
pub fn lex(text: &str, file: FileId, base: usize) -> (Vec<(Tok, Span)>, Vec<Diagnostic>) {
    // About one token in four bytes of source: growing the vector step by step would
    // copy it many times over.
    let mut toks: Vec<(Tok, Span)> = Vec::with_capacity(text.len() / 4 + 16);
    let mut diags = Vec::new();
    let mut lexer = Tok::lexer(text);
    // Brackets nested too deep are an error (see `parse`): the tokens after the first
    // one too deep are not needed, and 10 MB of `[` would be 10 million of them.
    let mut depth = 0usize;
    while let Some(result) = lexer.next() {
        if depth > crate::parser::MAX_NESTING {
            break;
        }
        let range = lexer.span();
        let span = Span::new(file, base + range.start, base + range.end);
        let tok = match result {
            Ok(tok) => tok,
            Err(e) => {
                // An unterminated string still stands where a value is expected, so
                // the statement around it parses and nothing else is reported for it.
                let string = e == LexError::Unterminated("string");
                diags.push(lex_error(e, span, lexer.slice()));
                // A `#` after a blank most likely starts a comment in another language:
                // skip the rest of the line rather than report every word of it. One
                // right after a token is more likely text, of a string whose quotes
                // are paired wrongly.
                let glued =
                    range.start > 0 && !text[..range.start].ends_with(|c: char| c.is_whitespace());
                if lexer.slice() == "#" && !glued {
                    let rest = lexer.remainder();
                    lexer.bump(rest.find('\n').unwrap_or(rest.len()));
                }
                if string {
                    Tok::Str(String::new())
                } else {
                    Tok::Error
                }
            }
        };
        let prev_end = toks.last().map_or(0, |(_, s)| s.end as usize - base);
        let line_start =
            text[prev_end.min(range.start)..range.start].contains('\n') || toks.is_empty();
        let tok = match tok {
            Tok::LParen if line_start => Tok::LParenLine,
            Tok::LBracket if line_start => Tok::LBracketLine,
            Tok::Gt if text[range.end..].starts_with('>') => Tok::GtJoined,
            Tok::Lt if text[range.end..].starts_with('<') => Tok::LtJoined,
            t => t,
        };
        match tok {
            Tok::LBrace | Tok::LParen | Tok::LParenLine | Tok::LBracket | Tok::LBracketLine => {
                depth += 1
            }
            Tok::RBrace | Tok::RParen | Tok::RBracket => depth = depth.saturating_sub(1),
            _ => {}
        }
        match tok {
            Tok::RawStr(raw) => crate::strings::split(
                &raw,
                span.start as usize + 1,
                false,
                file,
                &mut toks,
                &mut diags,
            ),
            Tok::RawTripleStr(raw) => crate::strings::split(
                &raw,
                span.start as usize + 3,
                true,
                file,
                &mut toks,
                &mut diags,
            ),
            tok => toks.push((tok, span)),
        }
    }
    (toks, diags)
}

fn lex_error(e: LexError, span: Span, slice: &str) -> Diagnostic {
    match e {
        LexError::Unterminated(what) => Diagnostic::at(
            Code::E0002,
            span,
            format!("unterminated {what}"),
            format!("this {what} is never closed"),
        )
        .with_help(if what == "string" {
            "close the string with `\"` on the same line, or use `\"\"\"` for text over several lines"
        } else {
            "close the comment with `*/`"
        }),
        LexError::Invalid => {
            let c = slice.chars().next().unwrap_or(' ');
            Diagnostic::at(
                Code::E0003,
                span,
                format!("invalid character `{}`", c.escape_debug()),
                "not part of any token",
            )
            .with_help(if c == '#' {
                "`.dagf` comments start with `//`"
            } else {
                "remove it; `.dagf` uses `//` for comments and `\"` for strings"
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Tok> {
        let (toks, diags) = lex(text, FileId(0), 0);
        assert!(diags.is_empty(), "{diags:?}");
        toks.into_iter().map(|(t, _)| t).collect()
    }

    #[test]
    fn literals() {
        assert_eq!(
            kinds("30s 1h30m 2024-01-01 2024-01-01T06:00 @daily 3 0.5"),
            vec![
                Tok::Duration("30s".into()),
                Tok::Duration("1h30m".into()),
                Tok::Date("2024-01-01".into()),
                Tok::DateTime("2024-01-01T06:00".into()),
                Tok::Preset("daily".into()),
                Tok::Int("3".into()),
                Tok::Float("0.5".into()),
            ]
        );
    }

    #[test]
    fn strings_keep_interpolation_and_jinja_raw() {
        assert_eq!(
            kinds(r#""load ${join(xs, ",")} {{ ds }}""#),
            vec![
                Tok::StrHead("load ".into()),
                Tok::Ident("join".into()),
                Tok::LParen,
                Tok::Ident("xs".into()),
                Tok::Comma,
                Tok::Str(",".into()),
                Tok::RParen,
                Tok::StrTail(" {{ ds }}".into()),
            ]
        );
        assert_eq!(
            kinds("\"\"\"\n    a\n      \"b\"\n    \"\"\""),
            vec![Tok::Str("a\n  \"b\"".into())]
        );
        assert_eq!(
            kinds(r#""tab\t\"q\" \${x}""#),
            vec![Tok::Str("tab\t\"q\" ${x}".into())]
        );
    }

    #[test]
    fn comments_are_kept_beside_the_tokens() {
        let text =
            "// note\n/// doc\nlet x = \"// not one\" /* block\n two */ // end\r\n# stray // no\ny";
        let (toks, _) = lex(text, FileId(0), 0);
        let found: Vec<(String, String)> = comments(text, &toks, FileId(0))
            .into_iter()
            .map(|c| (text[c.span.range()].to_string(), c.text))
            .collect();
        let want = [
            ("// note", "// note"),
            ("/* block\n two */", "/* block\n two */"),
            ("// end", "// end"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(found, want);
        let (module, _) = crate::parse(text, FileId(0));
        assert_eq!(module.comments.len(), 3);
    }

    #[test]
    fn comments_and_docs() {
        assert_eq!(
            kinds("// note\n/// doc\n/* block */ x"),
            vec![Tok::Doc(" doc".into()), Tok::Ident("x".into())]
        );
    }

    #[test]
    fn context_tokens() {
        assert_eq!(
            kinds("a >> b\n[c] >= d(e)"),
            vec![
                Tok::Ident("a".into()),
                Tok::GtJoined,
                Tok::Gt,
                Tok::Ident("b".into()),
                Tok::LBracketLine,
                Tok::Ident("c".into()),
                Tok::RBracket,
                Tok::Ge,
                Tok::Ident("d".into()),
                Tok::LParen,
                Tok::Ident("e".into()),
                Tok::RParen,
            ]
        );
    }

    #[test]
    fn errors_become_tokens_and_diagnostics() {
        let (toks, diags) = lex("a $ \"open", FileId(0), 0);
        assert_eq!(toks.len(), 3);
        assert_eq!(diags.len(), 2);
        assert_eq!(diags[0].code, Code::E0003);
        assert_eq!(diags[1].code, Code::E0002);
    }
}
