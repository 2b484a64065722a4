//! Config files as values: JSON and YAML documents parsed into the evaluator's values,
//! every value with the span it has in its file, so that a type error about it points
//! inside the config file like any error in a `.dagf` file.

use crate::value::{V, Value};
use dagf_diag::{CharOffsets, Code, Diagnostic, FileId, Span};
use std::rc::Rc;

/// How deeply a config document may nest.
const MAX_DEPTH: usize = 128;

/// The documents of a file: one for JSON, one or more for YAML (`---` separated).
pub fn parse(format: &str, text: &str, file: FileId) -> Result<Vec<Value>, Box<Diagnostic>> {
    if text.trim().is_empty() {
        return Err(Box::new(
            Diagnostic::at(
                Code::E0501,
                Span::new(file, 0, text.len()),
                format!("the {} file is empty", format.to_uppercase()),
                "no data here",
            )
            .with_help("write the data the source's type asks for, or remove the file"),
        ));
    }
    match format {
        "json" => json(text, file).map(|v| vec![v]),
        _ => yaml(text, file),
    }
}

/// A span of `text` from `start` to `end`, clamped to the text and widened to whole
/// characters (positions from a parser may fall inside one).
fn span_in(text: &str, file: FileId, start: usize, end: usize) -> Span {
    let mut start = start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = end.clamp(start, text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    Span::new(file, start, end)
}

fn syntax_error(
    text: &str,
    file: FileId,
    at: usize,
    len: usize,
    format: &str,
    what: String,
) -> Diagnostic {
    Diagnostic::at(
        Code::E0501,
        span_in(text, file, at, at + len),
        format!("invalid {format}: {what}"),
        what,
    )
    .with_help(format!("fix the {format} syntax here"))
}

/// E0501 for a key given twice in one mapping, at the second, with the first: a parser
/// that kept one of them would drop the other without a word.
fn twice(format: &str, key: &str, again: Span, first: Span) -> Diagnostic {
    Diagnostic::at(
        Code::E0501,
        again,
        format!("invalid {format}: `{key}` is set twice"),
        "set again here",
    )
    .with_label(first, "first set here")
    .with_help("keep one of them")
}

// ---- JSON ----------------------------------------------------------------------------

struct Json<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
    file: FileId,
}

fn json(text: &str, file: FileId) -> Result<Value, Box<Diagnostic>> {
    let mut p = Json {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        file,
    };
    let v = p.value(0)?;
    p.skip_ws();
    if p.pos < p.bytes.len() {
        return Err(p.error(1, "more data after the end of the document".into()));
    }
    Ok(v)
}

impl Json<'_> {
    fn error(&self, len: usize, what: String) -> Box<Diagnostic> {
        let at = self.pos.min(self.bytes.len());
        let len = len.min(self.bytes.len() - at);
        Box::new(syntax_error(self.text, self.file, at, len, "JSON", what))
    }

    fn skip_ws(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, Box<Diagnostic>> {
        if depth > MAX_DEPTH {
            return Err(self.error(1, format!("nested more than {MAX_DEPTH} levels deep")));
        }
        self.skip_ws();
        let start = self.pos;
        let Some(&c) = self.bytes.get(self.pos) else {
            return Err(self.error(0, "the document ends where a value should be".into()));
        };
        let v = match c {
            b'{' => {
                self.pos += 1;
                let mut fields: Vec<(Rc<str>, Value)> = Vec::new();
                // Where each key is written, for a key given twice.
                let mut keys: Vec<Span> = Vec::new();
                self.skip_ws();
                if self.bytes.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        self.skip_ws();
                        if self.bytes.get(self.pos) != Some(&b'"') {
                            return Err(self.error(1, "expected a key in double quotes".into()));
                        }
                        let key_start = self.pos;
                        let key = self.string()?;
                        let key_span = span_in(self.text, self.file, key_start, self.pos);
                        if let Some(i) = fields.iter().position(|(k, _)| **k == *key) {
                            return Err(Box::new(twice("JSON", &key, key_span, keys[i])));
                        }
                        keys.push(key_span);
                        self.skip_ws();
                        if self.bytes.get(self.pos) != Some(&b':') {
                            return Err(self.error(1, "expected `:` after the key".into()));
                        }
                        self.pos += 1;
                        let v = self.value(depth + 1)?;
                        fields.push((Rc::from(key.as_str()), v));
                        self.skip_ws();
                        match self.bytes.get(self.pos) {
                            Some(b',') => self.pos += 1,
                            Some(b'}') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(self.error(1, "expected `,` or `}`".into())),
                        }
                    }
                }
                V::Record(Rc::new(fields))
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.bytes.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                } else {
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.skip_ws();
                        match self.bytes.get(self.pos) {
                            Some(b',') => self.pos += 1,
                            Some(b']') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(self.error(1, "expected `,` or `]`".into())),
                        }
                    }
                }
                V::List(Rc::new(items))
            }
            b'"' => V::Str(Rc::from(self.string()?.as_str())),
            b't' if self.text[self.pos..].starts_with("true") => {
                self.pos += 4;
                V::Bool(true)
            }
            b'f' if self.text[self.pos..].starts_with("false") => {
                self.pos += 5;
                V::Bool(false)
            }
            b'n' if self.text[self.pos..].starts_with("null") => {
                self.pos += 4;
                V::None
            }
            b'-' | b'0'..=b'9' => self.number()?,
            _ => {
                let len = self.text[self.pos..]
                    .chars()
                    .next()
                    .map_or(1, char::len_utf8);
                return Err(self.error(len, "expected a value".into()));
            }
        };
        Ok(Value::new(
            v,
            span_in(self.text, self.file, start, self.pos),
        ))
    }

    fn string(&mut self) -> Result<String, Box<Diagnostic>> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.text[self.pos..].chars().next() else {
                self.pos = start;
                return Err(self.error(1, "this string is never closed".into()));
            };
            self.pos += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let Some(e) = self.text[self.pos..].chars().next() else {
                        continue;
                    };
                    self.pos += e.len_utf8();
                    match e {
                        '"' | '\\' | '/' => out.push(e),
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'u' => {
                            let hex = self.text.get(self.pos..self.pos + 4).unwrap_or("");
                            match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                                Some(ch) => {
                                    out.push(ch);
                                    self.pos += 4;
                                }
                                None => {
                                    self.pos -= 2;
                                    return Err(self.error(6, "invalid \\u escape".into()));
                                }
                            }
                        }
                        _ => {
                            self.pos -= 1 + e.len_utf8();
                            return Err(self.error(2, format!("unknown escape `\\{e}`")));
                        }
                    }
                }
                c if (c as u32) < 0x20 => {
                    self.pos -= 1;
                    return Err(self.error(1, "a control character inside a string".into()));
                }
                c => out.push(c),
            }
        }
    }

    fn number(&mut self) -> Result<V, Box<Diagnostic>> {
        let start = self.pos;
        while self.pos < self.bytes.len()
            && matches!(
                self.bytes[self.pos],
                b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
            )
        {
            self.pos += 1;
        }
        let s = &self.text[start..self.pos];
        if let Ok(i) = s.parse::<i64>() {
            return Ok(V::Int(i));
        }
        match s.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(V::Float(f)),
            _ => {
                self.pos = start;
                Err(self.error(s.len(), format!("`{s}` is not a number")))
            }
        }
    }
}

// ---- YAML ----------------------------------------------------------------------------

/// Builds values from the parser's events. Mapping keys are kept as (key, span)
/// until their value arrives.
struct Builder<'t> {
    text: &'t str,
    file: FileId,
    /// Markers count chars; spans count bytes.
    offsets: CharOffsets,
    stack: Vec<Frame>,
    docs: Vec<Value>,
    error: Option<Diagnostic>,
}

enum Frame {
    List(usize, Vec<Value>),
    /// A mapping: where it starts, its entries with where each key is written, and the
    /// key waiting for its value.
    Map(
        usize,
        Vec<(Rc<str>, Value)>,
        Vec<Span>,
        Option<(Rc<str>, Span)>,
    ),
}

impl Builder<'_> {
    fn byte(&self, char_index: usize) -> usize {
        self.offsets.byte(char_index)
    }

    fn push(&mut self, v: Value) {
        match self.stack.last_mut() {
            Some(Frame::List(_, items)) => items.push(v),
            Some(Frame::Map(_, fields, keys, key)) => match key.take() {
                None => {
                    // A key: only scalars are keys here.
                    match &v.v {
                        V::Str(s) => *key = Some((s.clone(), v.span)),
                        V::Int(_) | V::Float(_) | V::Bool(_) => {
                            let text = &self.text[v.span.start as usize..v.span.end as usize];
                            *key = Some((Rc::from(text), v.span));
                        }
                        _ => {
                            self.error.get_or_insert_with(|| {
                                syntax_error(
                                    self.text,
                                    self.file,
                                    v.span.start as usize,
                                    1,
                                    "YAML",
                                    "a key must be a plain value".into(),
                                )
                            });
                        }
                    }
                }
                Some((k, at)) => {
                    if let Some(i) = fields.iter().position(|(n, _)| *n == k) {
                        let first = keys[i];
                        self.error
                            .get_or_insert_with(|| twice("YAML", &k, at, first));
                    }
                    fields.push((k, v));
                    keys.push(at);
                }
            },
            None => self.docs.push(v),
        }
    }

    fn scalar(
        &self,
        text: String,
        style: yaml_rust2::scanner::TScalarStyle,
        start: usize,
    ) -> Value {
        use yaml_rust2::scanner::TScalarStyle;
        let quoted = !matches!(style, TScalarStyle::Plain);
        let len = if quoted { text.len() + 2 } else { text.len() };
        let span = span_in(self.text, self.file, start, start + len);
        if quoted || matches!(style, TScalarStyle::Literal | TScalarStyle::Folded) {
            return Value::new(V::Str(Rc::from(text.as_str())), span);
        }
        let v = match text.as_str() {
            "~" | "null" | "Null" | "NULL" | "" => V::None,
            "true" | "True" | "TRUE" => V::Bool(true),
            "false" | "False" | "FALSE" => V::Bool(false),
            t => match t.parse::<i64>() {
                Ok(i) => V::Int(i),
                Err(_) => match t.parse::<f64>() {
                    Ok(f) if f.is_finite() && t.chars().any(|c| c.is_ascii_digit()) => V::Float(f),
                    _ => V::Str(Rc::from(t)),
                },
            },
        };
        Value::new(v, span)
    }
}

impl yaml_rust2::parser::MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, ev: yaml_rust2::Event, mark: yaml_rust2::scanner::Marker) {
        use yaml_rust2::Event;
        if self.error.is_some() {
            return;
        }
        let at = self.byte(mark.index());
        match ev {
            Event::Scalar(text, style, _, _) => {
                let v = self.scalar(text, style, at);
                self.push(v);
            }
            Event::SequenceStart(..) | Event::MappingStart(..) if self.stack.len() >= MAX_DEPTH => {
                self.error = Some(syntax_error(
                    self.text,
                    self.file,
                    at,
                    1,
                    "YAML",
                    format!("nested more than {MAX_DEPTH} levels deep"),
                ));
            }
            Event::SequenceStart(..) => self.stack.push(Frame::List(at, Vec::new())),
            Event::MappingStart(..) => {
                self.stack
                    .push(Frame::Map(at, Vec::new(), Vec::new(), None))
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let v = match self.stack.pop() {
                    Some(Frame::List(start, items)) => Value::new(
                        V::List(Rc::new(items)),
                        span_in(self.text, self.file, start, at),
                    ),
                    Some(Frame::Map(start, fields, _, _)) => Value::new(
                        V::Record(Rc::new(fields)),
                        span_in(self.text, self.file, start, at),
                    ),
                    None => return,
                };
                self.push(v);
            }
            Event::Alias(_) => {
                self.error = Some(
                    syntax_error(
                        self.text,
                        self.file,
                        at,
                        1,
                        "YAML",
                        "aliases (`*name`) are not supported".into(),
                    )
                    .with_help("write the value out where it is used"),
                );
            }
            _ => {}
        }
    }
}

fn yaml(text: &str, file: FileId) -> Result<Vec<Value>, Box<Diagnostic>> {
    let mut b = Builder {
        text,
        file,
        offsets: CharOffsets::new(text),
        stack: Vec::new(),
        docs: Vec::new(),
        error: None,
    };
    let mut parser = yaml_rust2::parser::Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut b, true) {
        let at = b.byte(e.marker().index());
        let len = text[at..].chars().next().map_or(0, char::len_utf8);
        return Err(Box::new(syntax_error(
            text,
            file,
            at,
            len,
            "YAML",
            e.info().to_string(),
        )));
    }
    if let Some(e) = b.error {
        return Err(Box::new(e));
    }
    Ok(b.docs)
}

#[cfg(test)]
mod tests {
    use super::parse;
    use dagf_diag::FileId;
    use proptest::prelude::*;

    /// Pieces config files are made of, to build near-valid documents from.
    const PIECES: [&str; 24] = [
        "{", "}", "[", "]", ":", ",", "\"", "'", "-", "\n", "  ", "name", "tables", "1", "2.5",
        "-3e9", "true", "null", "~", "&a", "*a", "---", "#", "\\u12",
    ];

    /// Spans always lie inside the text, on character boundaries.
    fn spans_are_in_bounds(
        text: &str,
        result: &Result<Vec<crate::value::Value>, Box<dagf_diag::Diagnostic>>,
    ) {
        let check = |s: dagf_diag::Span| {
            assert!(
                s.start <= s.end && s.end as usize <= text.len(),
                "{s:?} in {text:?}"
            );
            assert!(
                text.is_char_boundary(s.start as usize) && text.is_char_boundary(s.end as usize)
            );
        };
        match result {
            Ok(docs) => {
                let mut stack: Vec<&crate::value::Value> = docs.iter().collect();
                while let Some(v) = stack.pop() {
                    check(v.span);
                    match &v.v {
                        crate::value::V::List(xs) => stack.extend(xs.iter()),
                        crate::value::V::Record(fs) => stack.extend(fs.iter().map(|(_, x)| x)),
                        _ => {}
                    }
                }
            }
            Err(d) => {
                if let Some(l) = &d.primary {
                    check(l.span);
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn any_text_is_data_or_a_diagnostic(text in "\\PC{0,200}", yaml in any::<bool>()) {
            let format = if yaml { "yaml" } else { "json" };
            let result = parse(format, &text, FileId(0));
            spans_are_in_bounds(&text, &result);
        }

        #[test]
        fn piece_soup_is_data_or_a_diagnostic(
            picks in proptest::collection::vec(0..PIECES.len(), 0..60),
            yaml in any::<bool>(),
        ) {
            let text: String = picks.iter().map(|&i| PIECES[i]).collect::<Vec<_>>().join("");
            let format = if yaml { "yaml" } else { "json" };
            let result = parse(format, &text, FileId(0));
            spans_are_in_bounds(&text, &result);
        }
    }

    #[test]
    fn deep_nesting_is_a_diagnostic() {
        for format in ["json", "yaml"] {
            let text = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
            let err = parse(format, &text, FileId(0)).expect_err("too deep");
            assert!(
                err.message.contains("nested") || err.message.contains("invalid"),
                "{}",
                err.message
            );
        }
    }

    #[test]
    fn a_key_given_twice_is_an_error_at_the_second_key() {
        for (format, text) in [
            ("json", "{\"name\": \"a\", \"retries\": 1, \"name\": \"b\"}"),
            ("yaml", "name: a\nretries: 1\nname: b\n"),
        ] {
            let d = parse(format, text, FileId(0)).expect_err("a key twice");
            assert_eq!(d.code, dagf_diag::Code::E0501, "{format}");
            assert!(d.message.contains("`name` is set twice"), "{}", d.message);
            let at = |s: dagf_diag::Span| &text[s.range()];
            let primary = d.primary.as_ref().expect("a place").span;
            assert!(at(primary).contains("name"), "{format}: {:?}", at(primary));
            assert!(primary.start as usize > text.find("retries").unwrap_or(0));
            let first = d.secondary.first().expect("the first key").span;
            assert!(at(first).contains("name") && first.start < 3, "{format}");
        }
        // Nested mappings keep their own keys.
        assert!(parse("json", "{\"a\": {\"x\": 1}, \"b\": {\"x\": 2}}", FileId(0)).is_ok());
    }

    /// "Billion laughs": nine levels of aliases, each ten times the one before, would
    /// be 10^9 values expanded. Aliases are refused at the first one, in linear time.
    #[test]
    fn an_alias_bomb_is_refused_at_its_first_alias() {
        let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let started = std::time::Instant::now();
        let d = parse("yaml", &text, FileId(0)).expect_err("aliases are refused");
        assert!(d.message.contains("aliases"), "{}", d.message);
        let at = d.primary.expect("a place").span;
        assert_eq!(&text[at.start as usize..at.start as usize + 4], "*a0,");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn non_ascii_spans_are_bytes() {
        let text = "name: \"é\"\nother: ü\n";
        let docs = parse("yaml", text, FileId(0)).expect("valid");
        let crate::value::V::Record(fields) = &docs[0].v else {
            panic!("a record")
        };
        let other = &fields[1].1;
        assert_eq!(
            &text[other.span.start as usize..other.span.end as usize],
            "ü"
        );
    }
}

/// One step into a document: an item of a list, or a key of a record.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Index(usize),
    Key(Rc<str>),
}

/// Whether `gap` can stand between a key and its value: quotes, a colon and blanks.
fn between_key_and_value(gap: &str) -> bool {
    gap.chars()
        .all(|c| matches!(c, '"' | '\'' | ':' | ' ' | '\t' | '\r' | '\n'))
}

/// Where `key` is written just before the value at `value` in `text`: `key: value`,
/// `"key": value` in a config file, `key = value` or `key { ... }` in `.dagf` text
/// (`dagf`), if it is there.
pub fn key_written(text: &str, key: &str, value: Span, dagf: bool) -> Option<Span> {
    let before = text.get(..value.start as usize)?;
    let at = before.rfind(key)?;
    let gap = &before[at + key.len()..];
    let fits = if dagf {
        gap.chars()
            .all(|c| matches!(c, '"' | '=' | ' ' | '\t' | '\r' | '\n'))
            && before[..at].ends_with(|c: char| !(c.is_alphanumeric() || c == '_'))
    } else {
        between_key_and_value(gap)
    };
    fits.then(|| Span::new(value.file, at, at + key.len()))
}

/// The steps from the top of `doc` (parsed from `text`) to the innermost value that
/// holds `span`, or whose key `span` is.
pub fn path_to(doc: &Value, span: Span, text: &str) -> Vec<Step> {
    let inside = |v: &Value| v.span.start <= span.start && span.end <= v.span.end;
    let key_of = |v: &Value| {
        span.end <= v.span.start
            && text
                .get(span.end as usize..v.span.start as usize)
                .is_some_and(between_key_and_value)
    };
    let mut steps = Vec::new();
    let mut at = doc;
    loop {
        let next = match &at.v {
            V::List(xs) => xs
                .iter()
                .enumerate()
                .find(|(_, x)| inside(x))
                .map(|(i, x)| (Step::Index(i), x)),
            V::Record(fields) => fields
                .iter()
                .find(|(_, x)| inside(x))
                .or_else(|| fields.iter().find(|(_, x)| key_of(x)))
                .map(|(k, x)| (Step::Key(k.clone()), x)),
            _ => None,
        };
        match next {
            Some((step, x)) => {
                steps.push(step);
                if !inside(x) {
                    return steps; // the key of `x`
                }
                at = x;
            }
            None => return steps,
        }
    }
}

/// `$.dags[2].schedule`: a path as JSON tools write it.
pub fn json_path(steps: &[Step]) -> String {
    let mut out = String::from("$");
    for s in steps {
        match s {
            Step::Index(i) => out.push_str(&format!("[{i}]")),
            Step::Key(k) if k.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                out.push('.');
                out.push_str(k);
            }
            Step::Key(k) => out.push_str(&format!(
                "[{}]",
                serde_json::to_string(&**k).unwrap_or_default()
            )),
        }
    }
    out
}
