//! The `.dagf` file the import writes: a small model of it, and the printer, which
//! remembers which YAML place every piece of text came from so that a diagnostic about
//! the text can be shown at the YAML.

use dagf_diag::{FileId, Span};
use dagf_syntax::Tok;
use dagf_time::{Date, DateTime};

/// A value, with the YAML place it was read from.
#[derive(Clone, Debug)]
pub struct Val {
    pub kind: VK,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum VK {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// Milliseconds.
    Duration(i64),
    Date(Date),
    /// A UTC date and time (whole seconds).
    DateTime(DateTime),
    /// A name the file declares: a callback or an asset.
    Ref(String),
    List(Vec<Val>),
    Record(Vec<(String, Val)>),
    /// Assets that must all be updated: `a & b`.
    AllOf(Vec<Val>),
}

impl Val {
    pub fn new(kind: VK, span: Span) -> Val {
        Val { kind, span }
    }
}

/// The same value, wherever it was written.
pub fn same(a: &Val, b: &Val) -> bool {
    match (&a.kind, &b.kind) {
        (VK::None, VK::None) => true,
        (VK::Bool(x), VK::Bool(y)) => x == y,
        (VK::Int(x), VK::Int(y)) | (VK::Duration(x), VK::Duration(y)) => x == y,
        (VK::Float(x), VK::Float(y)) => x.to_bits() == y.to_bits(),
        (VK::Str(x), VK::Str(y)) | (VK::Ref(x), VK::Ref(y)) => x == y,
        (VK::Date(x), VK::Date(y)) => x == y,
        (VK::DateTime(x), VK::DateTime(y)) => x == y,
        (VK::List(x), VK::List(y)) | (VK::AllOf(x), VK::AllOf(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (VK::Record(x), VK::Record(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, a), (kb, b))| ka == kb && same(a, b))
        }
        _ => false,
    }
}

/// `name = value` in a dag, mixin or task body.
#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub value: Val,
    /// The YAML key it came from.
    pub span: Span,
    pub is_override: bool,
}

#[derive(Debug)]
pub struct Asset {
    pub name: String,
    pub uri: String,
    pub is_extern: bool,
    pub span: Span,
}

#[derive(Debug)]
pub struct Operator {
    pub name: String,
    pub class: String,
    pub is_sensor: bool,
    /// (field, type) in the order first used.
    pub fields: Vec<(String, &'static str)>,
    pub span: Span,
}

#[derive(Debug)]
pub struct Callback {
    pub name: String,
    pub is_notifier: bool,
    pub path: String,
    pub args: Vec<(String, Val)>,
    pub span: Span,
}

#[derive(Debug)]
pub struct Task {
    pub name: String,
    pub operator: String,
    pub fields: Vec<Field>,
    pub span: Span,
}

#[derive(Debug)]
pub struct Group {
    pub name: String,
    pub tooltip: Option<Val>,
    pub body: Body,
    pub span: Span,
}

#[derive(Debug)]
pub enum Item {
    Task(Task),
    Group(Group),
}

/// `[a, b] >> c`: operands as written in the body that holds the statement.
#[derive(Debug)]
pub struct Dep {
    pub upstream: Vec<(String, Span)>,
    pub downstream: (String, Span),
}

#[derive(Debug, Default)]
pub struct Body {
    pub items: Vec<Item>,
    pub deps: Vec<Dep>,
}

#[derive(Debug)]
pub struct Dag {
    pub name: String,
    pub span: Span,
    pub fields: Vec<Field>,
    pub body: Body,
}

#[derive(Debug, Default)]
pub struct Doc {
    pub assets: Vec<Asset>,
    pub operators: Vec<Operator>,
    pub callbacks: Vec<Callback>,
    /// The fields of the `default` block, as a mixin every dag takes in.
    pub mixin: Option<Vec<Field>>,
    pub dags: Vec<Dag>,
}

pub const MIXIN: &str = "defaults";

/// Whether `name` can be written as a dagf identifier (else it is written as a string).
pub fn is_ident(name: &str) -> bool {
    let mut chars = name.chars();
    let starts = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !starts || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return false;
    }
    // Words that are special in some position, even where the lexer calls them names.
    const CONTEXTUAL: [&str; 11] = [
        "after", "python", "notifier", "extern", "tenant", "source", "profile", "policy", "naming",
        "output", "exports",
    ];
    if CONTEXTUAL.contains(&name) {
        return false;
    }
    let (toks, diags) = dagf_syntax::lex(name, FileId(0), 0);
    diags.is_empty() && matches!(toks.as_slice(), [(Tok::Ident(n), _)] if n == name)
}

/// A name as written where a name or a string may stand.
pub fn name_text(name: &str) -> String {
    if is_ident(name) {
        name.to_string()
    } else {
        quote(name)
    }
}

pub use dagf_syntax::{quote, unwritable_char};

/// A `"""` string for a multi-line text, indented by `indent`, if one reads back as
/// exactly `s` (checked with dagf's own lexer).
fn triple(s: &str, indent: usize) -> Option<String> {
    if !s.contains('\n') || s.contains('\r') || s.starts_with([' ', '\t']) {
        return None;
    }
    let pad = " ".repeat(indent + 4);
    let mut escaped = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            // Only a quote that another follows could end the string.
            '"' if chars.peek() == Some(&'"') => escaped.push_str("\\\""),
            '$' if chars.peek() == Some(&'{') => escaped.push_str("\\$"),
            c => escaped.push(c),
        }
    }
    let body = escaped.strip_suffix('\n').unwrap_or(&escaped);
    let mut lit = String::from("\"\"\"\n");
    for line in body.split('\n') {
        if !line.is_empty() {
            lit.push_str(&pad);
            lit.push_str(line);
        }
        lit.push('\n');
    }
    if s.ends_with('\n') {
        lit.push('\n');
    }
    lit.push_str(&" ".repeat(indent));
    lit.push_str("\"\"\"");
    let (toks, diags) = dagf_syntax::lex(&lit, FileId(0), 0);
    match toks.as_slice() {
        [(Tok::Str(read), _)] if diags.is_empty() && read == s => Some(lit),
        _ => None,
    }
}

pub fn float_text(f: f64) -> String {
    let s = format!("{}", f.abs());
    let s = if s.contains('.') { s } else { format!("{s}.0") };
    if f.is_sign_negative() {
        format!("-{s}")
    } else {
        s
    }
}

fn datetime_text(t: &DateTime) -> String {
    if t.hour == 0 && t.minute == 0 && t.second == 0 {
        return t.date.to_string();
    }
    let mut s = format!("{}T{:02}:{:02}", t.date, t.hour, t.minute);
    if t.second != 0 {
        s.push_str(&format!(":{:02}", t.second));
    }
    s
}

/// The printed file and, for every piece of it, the YAML place it came from.
pub struct Printed {
    pub text: String,
    /// (start, end, YAML span), outer pieces before the pieces inside them.
    pub regions: Vec<(usize, usize, Span)>,
}

impl Printed {
    /// The YAML place of the innermost piece holding `offset`.
    pub fn place(&self, offset: usize) -> Option<Span> {
        self.regions
            .iter()
            .filter(|(s, e, _)| *s <= offset && offset < (*e).max(*s + 1))
            .min_by_key(|(s, e, _)| e - s)
            .map(|(_, _, span)| *span)
    }
}

struct W {
    text: String,
    regions: Vec<(usize, usize, Span)>,
}

impl W {
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }

    fn line(&mut self, indent: usize, s: &str) {
        self.text.push_str(&" ".repeat(indent));
        self.text.push_str(s);
        self.text.push('\n');
    }

    /// Writes with `f`, remembering that the text it wrote came from `span`.
    fn mark(&mut self, span: Span, f: impl FnOnce(&mut W)) {
        let at = self.regions.len();
        let start = self.text.len();
        self.regions.push((start, start, span));
        f(self);
        self.regions[at].1 = self.text.len();
    }

    fn value(&mut self, v: &Val, indent: usize) {
        let inline = inline(v, indent);
        self.mark(v.span, |w| match inline {
            Some(text) if text.len() + indent <= 96 => w.push(&text),
            _ => w.multiline(v, indent),
        });
    }

    fn multiline(&mut self, v: &Val, indent: usize) {
        match &v.kind {
            VK::List(items) if !items.is_empty() => {
                self.push("[\n");
                for item in items {
                    self.push(&" ".repeat(indent + 4));
                    self.value(item, indent + 4);
                    self.push(",\n");
                }
                self.push(&" ".repeat(indent));
                self.push("]");
            }
            VK::Record(entries) if !entries.is_empty() => {
                self.push("{\n");
                self.entries(entries, indent + 4);
                self.push(&" ".repeat(indent));
                self.push("}");
            }
            VK::Str(s) => match triple(s, indent) {
                Some(lit) => self.push(&lit),
                None => self.push(&quote(s)),
            },
            _ => {
                let text = inline(v, indent).unwrap_or_default();
                self.push(&text);
            }
        }
    }

    /// `key = value` lines of a record, at `indent`.
    fn entries(&mut self, entries: &[(String, Val)], indent: usize) {
        for (k, v) in entries {
            self.push(&" ".repeat(indent));
            self.mark(v.span, |w| {
                w.push(&name_text(k));
                w.push(" = ");
                w.value(v, indent);
            });
            self.push("\n");
        }
    }

    fn field(&mut self, f: &Field, indent: usize, block: bool) {
        self.push(&" ".repeat(indent));
        self.mark(f.span, |w| {
            if f.is_override {
                w.push("override ");
            }
            w.push(&f.name);
            match &f.value.kind {
                VK::Record(entries) if block => {
                    let value_span = f.value.span;
                    w.mark(value_span, |w| {
                        if entries.is_empty() {
                            w.push(" {}");
                            return;
                        }
                        w.push(" {\n");
                        w.entries(entries, indent + 4);
                        w.push(&" ".repeat(indent));
                        w.push("}");
                    });
                }
                _ => {
                    w.push(" = ");
                    w.value(&f.value, indent);
                }
            }
        });
        self.push("\n");
    }

    fn body(&mut self, body: &Body, indent: usize, leading: bool) {
        let mut first = !leading;
        for item in &body.items {
            if !first {
                self.push("\n");
            }
            first = false;
            match item {
                Item::Task(t) => self.task(t, indent),
                Item::Group(g) => self.group(g, indent),
            }
        }
        if !body.deps.is_empty() {
            if !first {
                self.push("\n");
            }
            for d in &body.deps {
                self.push(&" ".repeat(indent));
                let span = d.upstream.first().map_or(d.downstream.1, |u| u.1);
                self.mark(span, |w| {
                    match d.upstream.as_slice() {
                        [(one, span)] => w.mark(*span, |w| w.push(one)),
                        many => {
                            w.push("[");
                            for (i, (u, span)) in many.iter().enumerate() {
                                if i > 0 {
                                    w.push(", ");
                                }
                                w.mark(*span, |w| w.push(u));
                            }
                            w.push("]");
                        }
                    }
                    w.push(" >> ");
                    let (down, span) = &d.downstream;
                    w.mark(*span, |w| w.push(down));
                });
                self.push("\n");
            }
        }
    }

    fn task(&mut self, t: &Task, indent: usize) {
        self.push(&" ".repeat(indent));
        self.mark(t.span, |w| {
            w.push(&format!("task {}: {}", name_text(&t.name), t.operator));
            if t.fields.is_empty() {
                return;
            }
            w.push(" {\n");
            for f in &t.fields {
                w.field(f, indent + 4, false);
            }
            w.push(&" ".repeat(indent));
            w.push("}");
        });
        self.push("\n");
    }

    fn group(&mut self, g: &Group, indent: usize) {
        self.push(&" ".repeat(indent));
        self.mark(g.span, |w| {
            w.push(&format!("group {} {{\n", name_text(&g.name)));
            if let Some(t) = &g.tooltip {
                w.push(&" ".repeat(indent + 4));
                w.mark(t.span, |w| {
                    w.push("tooltip = ");
                    w.value(t, indent + 4);
                });
                w.push("\n");
            }
            w.body(&g.body, indent + 4, g.tooltip.is_some());
            w.push(&" ".repeat(indent));
            w.push("}");
        });
        self.push("\n");
    }
}

/// The value as one line of dagf text, wherever it was written.
pub fn text_of(v: &Val) -> String {
    inline(v, 0).unwrap_or_else(|| format!("{:?}", v.kind))
}

/// The value on one line, if it has no multi-line string in it.
fn inline(v: &Val, indent: usize) -> Option<String> {
    Some(match &v.kind {
        VK::None => "none".into(),
        VK::Bool(b) => b.to_string(),
        VK::Int(i) => i.to_string(),
        VK::Float(f) => float_text(*f),
        VK::Str(s) if s.contains('\n') && triple(s, indent).is_some() => return None,
        VK::Str(s) => quote(s),
        VK::Duration(ms) => dagf_syntax::duration_text(*ms),
        VK::Date(d) => d.to_string(),
        VK::DateTime(t) => datetime_text(t),
        VK::Ref(name) => name.clone(),
        VK::List(items) => {
            let parts: Option<Vec<String>> = items.iter().map(|i| inline(i, indent)).collect();
            format!("[{}]", parts?.join(", "))
        }
        VK::Record(entries) if entries.is_empty() => "{}".into(),
        VK::Record(entries) => {
            let parts: Option<Vec<String>> = entries
                .iter()
                .map(|(k, v)| Some(format!("{} = {}", name_text(k), inline(v, indent)?)))
                .collect();
            format!("{{ {} }}", parts?.join(", "))
        }
        VK::AllOf(items) => {
            let parts: Option<Vec<String>> = items.iter().map(|i| inline(i, indent)).collect();
            parts?.join(" & ")
        }
    })
}

/// The pools the file's tasks run in (on a task, or in `default_args`), first use
/// first, without Airflow's own `default_pool`: dag-factory leaves them to be made in
/// Airflow, so the import declares them `extern`.
fn pools_used(doc: &Doc) -> Vec<&str> {
    fn from_fields<'a>(fields: &'a [Field], out: &mut Vec<&'a str>) {
        for f in fields {
            match (f.name.as_str(), &f.value.kind) {
                ("pool", VK::Str(p)) => out.push(p),
                ("default_args", VK::Record(entries)) => {
                    for (k, v) in entries {
                        if let ("pool", VK::Str(p)) = (k.as_str(), &v.kind) {
                            out.push(p);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    fn from_body<'a>(body: &'a Body, out: &mut Vec<&'a str>) {
        for item in &body.items {
            match item {
                Item::Task(t) => from_fields(&t.fields, out),
                Item::Group(g) => from_body(&g.body, out),
            }
        }
    }
    let mut out = Vec::new();
    if let Some(fields) = &doc.mixin {
        from_fields(fields, &mut out);
    }
    for dag in &doc.dags {
        from_fields(&dag.fields, &mut out);
        from_body(&dag.body, &mut out);
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| *p != "default_pool" && seen.insert(*p));
    out
}

/// The dag ids the file's trigger and sensor tasks name that are no dag of the file,
/// each with where it is first named: dagf accepts them only declared `extern dag`.
/// Ids Airflow renders as templates are known only at run time, and left as they are.
fn extern_dags(doc: &Doc) -> Vec<(&str, Span)> {
    fn walk<'d>(body: &'d Body, out: &mut Vec<(&'d str, Span)>) {
        for item in &body.items {
            match item {
                Item::Task(t) => {
                    let field = match t.operator.as_str() {
                        "trigger_dag" => "trigger_dag_id",
                        "external_task" => "external_dag_id",
                        _ => continue,
                    };
                    for f in t.fields.iter().filter(|f| f.name == field) {
                        if let VK::Str(id) = &f.value.kind {
                            out.push((id, f.value.span));
                        }
                    }
                }
                Item::Group(g) => walk(&g.body, out),
            }
        }
    }
    let mut named = Vec::new();
    for dag in &doc.dags {
        walk(&dag.body, &mut named);
    }
    let mut out: Vec<(&str, Span)> = Vec::new();
    for (id, span) in named {
        let ours = doc.dags.iter().any(|d| d.name == id);
        if !ours && !id.contains("{{") && !out.iter().any(|(o, _)| *o == id) {
            out.push((id, span));
        }
    }
    out
}

/// Prints the whole file.
pub fn print(doc: &Doc, source_name: &str) -> Printed {
    let mut w = W {
        text: String::new(),
        regions: Vec::new(),
    };
    w.line(
        0,
        &format!("// Imported from {source_name} by `dagfc import dag-factory` (dag-factory 1.1)."),
    );
    if !doc.assets.is_empty() {
        w.push("\n");
        for a in &doc.assets {
            let ext = if a.is_extern { "extern " } else { "" };
            w.mark(a.span, |w| {
                w.push(&format!("{ext}asset {} = {}", a.name, quote(&a.uri)));
            });
            w.push("\n");
        }
    }
    let pools = pools_used(doc);
    if !pools.is_empty() {
        w.push("\n");
        w.line(0, "// Pools made in Airflow, outside the project.");
        for p in pools {
            w.line(0, &format!("extern pool {}", name_text(p)));
        }
    }
    let outside = extern_dags(doc);
    if !outside.is_empty() {
        w.push("\n");
        w.line(
            0,
            "/// Dags the file triggers or waits for that it does not declare itself.",
        );
        for (id, span) in outside {
            w.mark(span, |w| w.push(&format!("extern dag {}", quote(id))));
            w.push("\n");
        }
    }
    for op in &doc.operators {
        w.push("\n");
        let kind = if op.is_sensor { "sensor" } else { "operator" };
        w.mark(op.span, |w| {
            w.push(&format!("{kind} {} = {} {{", op.name, quote(&op.class)));
            if op.fields.is_empty() {
                w.push("}");
                return;
            }
            w.push("\n");
            for (name, ty) in &op.fields {
                w.line(4, &format!("{name}: {ty}"));
            }
            w.push("}");
        });
        w.push("\n");
    }
    for cb in &doc.callbacks {
        w.push("\n");
        let kind = if cb.is_notifier { "notifier" } else { "python" };
        w.mark(cb.span, |w| {
            w.push(&format!(
                "callback {} = {kind} {}",
                cb.name,
                quote(&cb.path)
            ));
            if cb.args.is_empty() {
                return;
            }
            w.push(" {\n");
            for (k, v) in &cb.args {
                w.push("    ");
                w.mark(v.span, |w| {
                    w.push(&format!("{k} = "));
                    w.value(v, 4);
                });
                w.push("\n");
            }
            w.push("}");
        });
        w.push("\n");
    }
    if let Some(fields) = &doc.mixin {
        w.push("\n");
        w.line(
            0,
            "/// The `default` block of the YAML file: what every dag of the file starts from.",
        );
        w.line(0, &format!("mixin {MIXIN} {{"));
        for f in fields {
            w.field(f, 4, true);
        }
        w.line(0, "}");
    }
    for dag in &doc.dags {
        w.push("\n");
        w.mark(dag.span, |w| {
            w.push(&format!("dag {}", name_text(&dag.name)));
            if doc.mixin.is_some() {
                w.push(&format!(" with {MIXIN}"));
            }
            w.push(" {\n");
            for f in &dag.fields {
                w.field(f, 4, true);
            }
            w.body(&dag.body, 4, !dag.fields.is_empty());
            w.push("}");
        });
        w.push("\n");
    }
    Printed {
        text: w.text,
        regions: w.regions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_strings() {
        assert!(is_ident("load_orders"));
        assert!(!is_ident("load-orders"));
        assert!(!is_ident("task"));
        assert!(!is_ident("after"));
        assert!(!is_ident("1st"));
        assert_eq!(name_text("a.b"), "\"a.b\"");
        assert_eq!(
            quote("echo \"${HOME}\" $x\n"),
            r#""echo \"\${HOME}\" $x\n""#
        );
    }

    #[test]
    fn durations_and_floats() {
        assert_eq!(dagf_syntax::duration_text(0), "0s");
        assert_eq!(dagf_syntax::duration_text(90_000), "1m30s");
        assert_eq!(dagf_syntax::duration_text(90_061_001), "1d1h1m1s1ms");
        assert_eq!(dagf_syntax::duration_text(-300_000), "-5m");
        assert_eq!(float_text(2.5), "2.5");
        assert_eq!(float_text(1e20), "100000000000000000000.0");
        assert_eq!(float_text(-3.0), "-3.0");
    }

    #[test]
    fn multi_line_strings_read_back_exactly() {
        for s in ["a\nb\n", "a\n  b\n\nc", "x = \"${y}\"\n\\n\n"] {
            let lit = triple(s, 8).expect("a triple-quoted form");
            let (toks, _) = dagf_syntax::lex(&lit, FileId(0), 0);
            assert!(
                matches!(toks.as_slice(), [(Tok::Str(r), _)] if r == s),
                "{lit}"
            );
        }
        assert_eq!(triple("one line", 0), None);
    }
}
