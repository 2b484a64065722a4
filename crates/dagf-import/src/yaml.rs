//! Reads a dag-factory YAML file the way dag-factory 1.1 does (PyYAML's `FullLoader`,
//! YAML 1.1 scalars), into a tree whose every node keeps its span in the file.
//!
//! What dag-factory does after loading is mirrored too: `__type__` mappings become the
//! values they build (a `datetime.timedelta` is a duration) and `__join__` joins
//! strings. Anything it would build that the import cannot represent is kept as
//! [`V::Unsupported`], reported only where it is used.

use dagf_diag::{CharOffsets, Code, Diagnostic, FileId, Span};
use dagf_time::{Date, DateTime};
use regex::Regex;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Deeper nesting than this is reported, never recursed into.
pub const MAX_DEPTH: usize = 128;
/// Nodes an alias may expand to, in total: a guard against "billion laughs" files.
const MAX_NODES: usize = 1_000_000;

#[derive(Clone, Debug)]
pub struct Node {
    pub v: V,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum V {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Date(Date),
    /// A timestamp, and the microseconds PyYAML keeps in it (which dagf cannot).
    DateTime(DateTime, u32),
    /// `!!python/name:module.name`: the Python object itself.
    PyName(String),
    /// A `__type__: datetime.timedelta` mapping, in milliseconds.
    Duration(i64),
    /// A `__type__: airflow.sdk.Asset` mapping named after its URI: the URI.
    Asset(String),
    List(Vec<Node>),
    Map(Vec<(Key, Node)>),
    /// A value dag-factory would build that the import cannot: why.
    Unsupported(String),
}

#[derive(Clone, Debug)]
pub struct Key {
    pub text: String,
    pub span: Span,
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.v {
            V::Map(entries) => entries.iter().find(|(k, _)| k.text == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(Key, Node)] {
        match &self.v {
            V::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.v, V::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.v {
            V::Str(s) => Some(s),
            _ => None,
        }
    }

    /// What kind of value this is, for messages.
    pub fn kind(&self) -> &'static str {
        match &self.v {
            V::Null => "null",
            V::Bool(_) => "a boolean",
            V::Int(_) => "an integer",
            V::Float(_) => "a number",
            V::Str(_) => "a string",
            V::Date(_) => "a date",
            V::DateTime(..) => "a datetime",
            V::PyName(_) => "a Python name",
            V::Duration(_) => "a timedelta",
            V::Asset(_) => "an Asset",
            V::List(_) => "a list",
            V::Map(_) => "a mapping",
            V::Unsupported(_) => "a Python object",
        }
    }

    /// The value as dag-factory's `str()` would show it inside `__join__`.
    fn python_str(&self) -> Option<String> {
        Some(match &self.v {
            V::Null => "None".into(),
            V::Bool(true) => "True".into(),
            V::Bool(false) => "False".into(),
            V::Int(i) => i.to_string(),
            V::Str(s) => s.clone(),
            _ => return None,
        })
    }
}

/// Parses the file: `Ok(None)` for a file without a document (PyYAML's `None`).
pub fn parse(text: &str, file: FileId) -> Result<Option<Node>, Box<Diagnostic>> {
    let mut b = Builder {
        text,
        file,
        offsets: CharOffsets::new(text),
        stack: Vec::new(),
        docs: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        error: None,
    };
    let mut parser = yaml_rust2::parser::Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut b, true) {
        let at = b.byte(e.marker().index());
        return Err(Box::new(invalid(
            b.span_at(at),
            format!("invalid YAML: {}", e.info()),
            "here",
        )));
    }
    if let Some(e) = b.error {
        return Err(Box::new(e));
    }
    let mut docs = b.docs;
    if docs.len() > 1 {
        let second = docs[1].span;
        return Err(Box::new(
            invalid(
                second,
                "the file holds more than one YAML document",
                "a second document",
            )
            .with_help("dag-factory reads one document per file: move each into a file of its own"),
        ));
    }
    Ok(docs.pop().map(cast))
}

fn invalid(span: Span, message: impl Into<String>, label: impl Into<String>) -> Diagnostic {
    Diagnostic::at(Code::E0602, span, message, label)
}

struct Builder<'t> {
    text: &'t str,
    file: FileId,
    /// Markers count chars; spans count bytes.
    offsets: CharOffsets,
    stack: Vec<Frame>,
    docs: Vec<Node>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    error: Option<Diagnostic>,
}

enum Frame {
    List {
        start: usize,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: usize,
        anchor: usize,
        entries: Vec<(Key, Node)>,
        /// The values of `<<` merge keys, in order.
        merges: Vec<Node>,
        key: Option<Key>,
    },
}

impl Builder<'_> {
    fn byte(&self, char_index: usize) -> usize {
        self.offsets.byte(char_index)
    }

    /// One character at `at` (nothing at the end of the text).
    fn span_at(&self, at: usize) -> Span {
        let at = at.min(self.text.len());
        let len = self.text[at..].chars().next().map_or(0, char::len_utf8);
        Span::new(self.file, at, at + len)
    }

    /// From `start` over `chars` characters, but not past the end of its line.
    fn span_over(&self, start: usize, chars: usize) -> Span {
        let start = start.min(self.text.len());
        let rest = &self.text[start..];
        let line_end = rest.find('\n').unwrap_or(rest.len());
        let len: usize = rest[..line_end]
            .chars()
            .take(chars.max(1))
            .map(char::len_utf8)
            .sum();
        Span::new(self.file, start, start + len)
    }

    fn fail(&mut self, d: Diagnostic) {
        self.error.get_or_insert(d);
    }

    fn count(&mut self, n: usize, at: Span) -> bool {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            self.fail(invalid(
                at,
                format!("the file expands to more than {MAX_NODES} values"),
                "aliases expand too far from here",
            ));
            return false;
        }
        true
    }

    fn push(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let mut problem = None;
        match self.stack.last_mut() {
            Some(Frame::List { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                merges,
                key,
                ..
            }) => match key.take() {
                None => match key_text(&node) {
                    Some(text) => {
                        *key = Some(Key {
                            text,
                            span: node.span,
                        })
                    }
                    None => {
                        problem = Some(invalid(
                            node.span,
                            format!("a mapping key must be a plain value, not {}", node.kind()),
                            "this key",
                        ));
                    }
                },
                Some(k) if k.text == "<<" => merges.push(node),
                Some(k) => {
                    if let Some((first, _)) = entries.iter().find(|(e, _)| e.text == k.text) {
                        problem = Some(
                            invalid(k.span, format!("`{}` is set twice", k.text), "set again here")
                                .with_label(first.span, "first set here")
                                .with_note(
                                    "PyYAML keeps the last value without a word; dag-factory then uses it",
                                )
                                .with_help("keep one of them"),
                        );
                    }
                    entries.push((k, node));
                }
            },
            None => self.docs.push(node),
        }
        if let Some(d) = problem {
            self.fail(d);
        }
    }

    fn scalar(
        &self,
        text: String,
        style: yaml_rust2::scanner::TScalarStyle,
        tag: Option<yaml_rust2::parser::Tag>,
        at: usize,
    ) -> Node {
        use yaml_rust2::scanner::TScalarStyle;
        let plain = matches!(style, TScalarStyle::Plain);
        let quoted = matches!(
            style,
            TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted
        );
        let chars = text.chars().count() + if quoted { 2 } else { 0 };
        let span = self.span_over(at, chars);
        let v = match tag {
            Some(tag) => tagged(&tag, text),
            None if plain => resolve_plain(&text),
            None => V::Str(text),
        };
        Node { v, span }
    }
}

/// The text of a scalar used as a mapping key, as dag-factory sees it as a name.
fn key_text(node: &Node) -> Option<String> {
    match &node.v {
        V::Str(s) => Some(s.clone()),
        V::Int(i) => Some(i.to_string()),
        V::Bool(true) => Some("True".into()),
        V::Bool(false) => Some("False".into()),
        V::Null => Some("None".into()),
        V::Float(f) => Some(f.to_string()),
        V::Date(d) => Some(d.to_string()),
        _ => None,
    }
}

/// A scalar with an explicit tag, as PyYAML's `FullLoader` constructs it.
fn tagged(tag: &yaml_rust2::parser::Tag, text: String) -> V {
    let suffix = if tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!" {
        tag.suffix.as_str()
    } else {
        return V::Unsupported(format!("the YAML tag `{}{}`", tag.handle, tag.suffix));
    };
    match suffix {
        "str" => V::Str(text),
        "null" => V::Null,
        "bool" | "int" | "float" | "timestamp" => match resolve_plain(&text) {
            v @ (V::Bool(_) | V::Int(_) | V::Float(_)) if suffix != "timestamp" => v,
            v @ (V::Date(_) | V::DateTime(..)) if suffix == "timestamp" => v,
            _ => V::Unsupported(format!("`{text}` tagged `!!{suffix}`")),
        },
        s => match s.strip_prefix("python/name:") {
            Some(path) => V::PyName(path.to_string()),
            None => V::Unsupported(format!("the YAML tag `!!{s}`")),
        },
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
            Event::Scalar(text, style, anchor, tag) => {
                let node = self.scalar(text, style, tag, at);
                if self.count(1, node.span) {
                    self.push(node, anchor);
                }
            }
            Event::SequenceStart(..) | Event::MappingStart(..) if self.stack.len() >= MAX_DEPTH => {
                let d = invalid(
                    self.span_at(at),
                    format!("the file is nested more than {MAX_DEPTH} levels deep"),
                    "too deep",
                );
                self.fail(d);
            }
            Event::SequenceStart(anchor, tag) => {
                if let Some(t) = tag.filter(|t| !is_core(t, "seq")) {
                    let d = invalid(
                        self.span_at(at),
                        format!(
                            "the YAML tag `{}{}` is not supported here",
                            t.handle, t.suffix
                        ),
                        "tagged list",
                    );
                    self.fail(d);
                }
                self.stack.push(Frame::List {
                    start: at,
                    anchor,
                    items: Vec::new(),
                });
            }
            Event::MappingStart(anchor, tag) => {
                if let Some(t) = tag.filter(|t| !is_core(t, "map")) {
                    let d = invalid(
                        self.span_at(at),
                        format!(
                            "the YAML tag `{}{}` is not supported here",
                            t.handle, t.suffix
                        ),
                        "tagged mapping",
                    );
                    self.fail(d);
                }
                self.stack.push(Frame::Map {
                    start: at,
                    anchor,
                    entries: Vec::new(),
                    merges: Vec::new(),
                    key: None,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::List {
                        start,
                        anchor,
                        items,
                    }) => (
                        Node {
                            v: V::List(items),
                            span: self.span_at(start),
                        },
                        anchor,
                    ),
                    Some(Frame::Map {
                        start,
                        anchor,
                        entries,
                        merges,
                        ..
                    }) => {
                        let span = self.span_at(start);
                        match merge(entries, merges) {
                            Ok(entries) => (
                                Node {
                                    v: V::Map(entries),
                                    span,
                                },
                                anchor,
                            ),
                            Err(bad) => {
                                let d = invalid(
                                    bad,
                                    "a `<<` merge key takes a mapping or a list of mappings",
                                    "not a mapping",
                                );
                                self.fail(d);
                                return;
                            }
                        }
                    }
                    None => return,
                };
                self.push(node, anchor);
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(node) => {
                    if self.count(size(&node), self.span_at(at)) {
                        self.push(node, 0);
                    }
                }
                None => {
                    let d = invalid(self.span_at(at), "an alias to an unknown anchor", "here");
                    self.fail(d);
                }
            },
            _ => {}
        }
    }
}

fn is_core(tag: &yaml_rust2::parser::Tag, suffix: &str) -> bool {
    (tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!") && tag.suffix == suffix
}

/// How many values a node holds (for the alias guard).
fn size(node: &Node) -> usize {
    let mut n = 0usize;
    let mut stack = vec![node];
    while let Some(x) = stack.pop() {
        n += 1;
        match &x.v {
            V::List(items) => stack.extend(items),
            V::Map(entries) => stack.extend(entries.iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    n
}

/// Applies `<<` merge keys as PyYAML does: the mapping's own keys win, then the merged
/// mappings in the order listed.
fn merge(entries: Vec<(Key, Node)>, merges: Vec<Node>) -> Result<Vec<(Key, Node)>, Span> {
    if merges.is_empty() {
        return Ok(entries);
    }
    let mut sources: Vec<Vec<(Key, Node)>> = Vec::new();
    for m in merges {
        match m.v {
            V::Map(e) => sources.push(e),
            V::List(items) => {
                for item in items {
                    match item.v {
                        V::Map(e) => sources.push(e),
                        _ => return Err(item.span),
                    }
                }
            }
            _ => return Err(m.span),
        }
    }
    let mut out: Vec<(Key, Node)> = Vec::new();
    for (k, v) in sources.into_iter().flatten() {
        if !out.iter().any(|(o, _)| o.text == k.text)
            && !entries.iter().any(|(e, _)| e.text == k.text)
        {
            out.push((k, v));
        }
    }
    out.extend(entries);
    Ok(out)
}

// ---- YAML 1.1 scalars, as PyYAML resolves them ----------------------------------------

struct Resolvers {
    bool_: Option<Regex>,
    int: Option<Regex>,
    float: Option<Regex>,
    timestamp: Option<Regex>,
}

fn is(re: &Option<Regex>, text: &str) -> bool {
    re.as_ref().is_some_and(|r| r.is_match(text))
}

fn resolvers() -> &'static Resolvers {
    static R: OnceLock<Resolvers> = OnceLock::new();
    R.get_or_init(|| {
        let re = |p: &str| Regex::new(p).ok();
        Resolvers {
            bool_: re(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$"),
            int: re(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$"),
            float: re(r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
            timestamp: re(r"^(?:([0-9]{4})-([0-9]{2})-([0-9]{2})|([0-9]{4})-([0-9][0-9]?)-([0-9][0-9]?)(?:[Tt]|[ \t]+)([0-9][0-9]?):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9][0-9]?)(?::([0-9]{2}))?))?)$"),
        }
    })
}

/// A plain (unquoted) scalar, resolved as YAML 1.1 and PyYAML do.
pub fn resolve_plain(text: &str) -> V {
    let r = resolvers();
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return V::Null,
        "=" => return V::Unsupported("the YAML value `=`".into()),
        _ => {}
    }
    if is(&r.bool_, text) {
        return V::Bool(matches!(
            text,
            "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON"
        ));
    }
    if is(&r.int, text) {
        return match parse_int(text) {
            Some(i) => V::Int(i),
            None => V::Unsupported(format!("the integer {text}, too large")),
        };
    }
    if is(&r.float, text) {
        return V::Float(parse_float(text));
    }
    if let Some(c) = r.timestamp.as_ref().and_then(|t| t.captures(text)) {
        return timestamp(&c).unwrap_or_else(|| V::Unsupported(format!("the date `{text}`")));
    }
    V::Str(text.to_string())
}

fn parse_int(text: &str) -> Option<i64> {
    let t: String = text.chars().filter(|c| *c != '_').collect();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, &t[..]),
    };
    let magnitude: i128 = if let Some(b) = digits.strip_prefix("0b") {
        i128::from_str_radix(b, 2).ok()?
    } else if let Some(x) = digits.strip_prefix("0x") {
        i128::from_str_radix(x, 16).ok()?
    } else if digits.contains(':') {
        let mut n: i128 = 0;
        for part in digits.split(':') {
            n = n.checked_mul(60)?.checked_add(part.parse::<i128>().ok()?)?;
        }
        n
    } else if digits.len() > 1 && digits.starts_with('0') {
        i128::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse::<i128>().ok()?
    };
    i64::try_from(if neg { -magnitude } else { magnitude }).ok()
}

fn parse_float(text: &str) -> f64 {
    let t: String = text.chars().filter(|c| *c != '_').collect();
    let lower = t.to_ascii_lowercase();
    let (neg, body) = match lower.as_bytes().first() {
        Some(b'-') => (true, &lower[1..]),
        Some(b'+') => (false, &lower[1..]),
        _ => (false, &lower[..]),
    };
    let v = if body == ".inf" {
        f64::INFINITY
    } else if body == ".nan" {
        f64::NAN
    } else if body.contains(':') {
        let mut n = 0.0;
        for part in body.split(':') {
            n = n * 60.0 + part.parse::<f64>().unwrap_or(0.0);
        }
        n
    } else {
        body.parse::<f64>().unwrap_or(f64::NAN)
    };
    if neg { -v } else { v }
}

fn timestamp(c: &regex::Captures) -> Option<V> {
    let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    if let (Some(y), Some(m), Some(d)) = (num(1), num(2), num(3)) {
        return Some(V::Date(Date::new(y as i32, m, d)?));
    }
    let date = Date::new(num(4)? as i32, num(5)?, num(6)?)?;
    let (hour, minute, second) = (num(7)?, num(8)?, num(9)?);
    if !dagf_time::is_time_of_day(hour, minute, second) {
        return None;
    }
    let micro = match c.get(10).map(|m| m.as_str()) {
        Some(f) if !f.is_empty() => {
            let six: String = f.chars().chain("000000".chars()).take(6).collect();
            six.parse::<u32>().ok()?
        }
        _ => 0,
    };
    let offset = match c.get(11).map(|m| m.as_str()) {
        None => None,
        Some("Z") => Some(0),
        Some(_) => {
            let sign = if c.get(12).map(|m| m.as_str()) == Some("-") {
                -1
            } else {
                1
            };
            let h = num(13)? as i32;
            let m = num(14).unwrap_or(0) as i32;
            Some(sign * (h * 60 + m))
        }
    };
    let at = DateTime {
        date,
        hour,
        minute,
        second,
        offset_minutes: offset.unwrap_or(0),
    };
    Some(V::DateTime(at, micro))
}

// ---- what dag-factory does to the loaded data ----------------------------------------

/// dag-factory's `cast_with_type` and `__join__` (and the asset conditions `__and__` /
/// `__or__`, which the import cannot represent), applied bottom-up without recursion.
fn cast(root: Node) -> Node {
    enum Work {
        Visit(Node),
        List(usize, Span),
        Map(Vec<Key>, Span),
    }
    let mut work = vec![Work::Visit(root)];
    let mut done: Vec<Node> = Vec::new();
    while let Some(w) = work.pop() {
        match w {
            Work::Visit(node) => match node.v {
                V::List(items) => {
                    work.push(Work::List(items.len(), node.span));
                    work.extend(items.into_iter().rev().map(Work::Visit));
                }
                V::Map(entries) => {
                    let (keys, values): (Vec<Key>, Vec<Node>) = entries.into_iter().unzip();
                    work.push(Work::Map(keys, node.span));
                    work.extend(values.into_iter().rev().map(Work::Visit));
                }
                v => done.push(Node { v, span: node.span }),
            },
            Work::List(n, span) => {
                let items = done.split_off(done.len().saturating_sub(n));
                done.push(Node {
                    v: V::List(items),
                    span,
                });
            }
            Work::Map(keys, span) => {
                let values = done.split_off(done.len().saturating_sub(keys.len()));
                done.push(cast_map(Node {
                    v: V::Map(keys.into_iter().zip(values).collect()),
                    span,
                }));
            }
        }
    }
    done.pop().unwrap_or(Node {
        v: V::Null,
        span: Span::default(),
    })
}

fn cast_map(node: Node) -> Node {
    let span = node.span;
    let unsupported = |why: String| Node {
        v: V::Unsupported(why),
        span,
    };
    if let Some(t) = node.get("__type__") {
        let Some(ty) = t.as_str() else {
            return unsupported("a `__type__` that is not a string".into());
        };
        return match ty {
            "builtins.list" => match node.get("items") {
                Some(items @ Node { v: V::List(_), .. }) => items.clone(),
                _ => unsupported("a `builtins.list` without `items`".into()),
            },
            "datetime.timedelta" => timedelta(&node).unwrap_or_else(|| {
                unsupported("a `datetime.timedelta` whose arguments are not plain numbers".into())
            }),
            "airflow.sdk.Asset"
            | "airflow.sdk.definitions.asset.Asset"
            | "airflow.Dataset"
            | "airflow.datasets.Dataset" => asset(&node).unwrap_or_else(|| {
                unsupported(
                    "an Asset with a `name` other than its URI (a dagf asset is named after its URI) or without a `uri`"
                        .into(),
                )
            }),
            other => unsupported(format!("an object of `{other}`")),
        };
    }
    for (op, what) in [("__and__", "&"), ("__or__", "|")] {
        if node.get(op).is_some() {
            return unsupported(format!("an `{op}` condition (assets joined with `{what}`)"));
        }
    }
    if let Some(parts) = node.get("__join__") {
        let V::List(items) = &parts.v else {
            return unsupported("a `__join__` that is not a list".into());
        };
        let mut out = String::new();
        for item in items {
            match item.python_str() {
                Some(s) => out.push_str(&s),
                None => return unsupported(format!("a `__join__` of {}", item.kind())),
            }
        }
        return Node {
            v: V::Str(out),
            span,
        };
    }
    node
}

/// `{__type__: airflow.sdk.Asset, uri: ...}` (its `name`, if given, the same as the URI).
fn asset(node: &Node) -> Option<Node> {
    let uri = match node.get("__args__") {
        Some(Node {
            v: V::List(args), ..
        }) => args.first()?.as_str()?,
        Some(_) => return None,
        None => node.get("uri").or_else(|| node.get("name"))?.as_str()?,
    };
    for (k, v) in node.entries() {
        match k.text.as_str() {
            "__type__" | "__args__" | "uri" => {}
            "name" if v.as_str() == Some(uri) => {}
            _ => return None,
        }
    }
    Some(Node {
        v: V::Asset(uri.to_string()),
        span: node.span,
    })
}

/// `{__type__: datetime.timedelta, hours: 1}` (or `__args__: [days, seconds, ...]`), in
/// milliseconds.
fn timedelta(node: &Node) -> Option<Node> {
    const UNITS: [(&str, f64); 7] = [
        ("days", 86_400_000.0),
        ("seconds", 1_000.0),
        ("microseconds", 0.001),
        ("milliseconds", 1.0),
        ("minutes", 60_000.0),
        ("hours", 3_600_000.0),
        ("weeks", 604_800_000.0),
    ];
    let number = |n: &Node| match n.v {
        V::Int(i) => Some(i as f64),
        V::Float(f) if f.is_finite() => Some(f),
        _ => None,
    };
    let mut ms = 0.0;
    if let Some(args) = node.get("__args__") {
        let V::List(items) = &args.v else { return None };
        if items.len() > UNITS.len() {
            return None;
        }
        for (item, (_, scale)) in items.iter().zip(UNITS) {
            ms += number(item)? * scale;
        }
    }
    for (k, v) in node.entries() {
        match k.text.as_str() {
            "__type__" | "__args__" => {}
            unit => {
                let (_, scale) = UNITS.iter().find(|(u, _)| *u == unit)?;
                ms += number(v)? * scale;
            }
        }
    }
    let whole = ms.round();
    let v = if (ms - whole).abs() > 1e-6 || whole.abs() > 9.0e15 {
        V::Unsupported("a timedelta finer than a millisecond".into())
    } else {
        V::Duration(whole as i64)
    };
    Some(Node { v, span: node.span })
}
