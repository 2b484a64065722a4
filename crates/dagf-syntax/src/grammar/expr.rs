//! Expressions: literals, strings with `${}` in them, lists and comprehensions, records,
//! calls and indexing, and the operators by precedence. Declarations used as values
//! (`task t: empty` in a list) come in from the grammar of declarations.
//!
//! Each function builds one piece of the grammar from the pieces it refers to; the
//! expression parser itself is recursive and is handed in where it is needed.

use super::{ParseErr, ident, recovering, seps};
use crate::ast::*;
use crate::lexer::Tok;
use crate::literals::{float_value, int_value, parse_date, parse_datetime, parse_duration};
use chumsky::Boxed;
use chumsky::input::ValueInput;
use chumsky::prelude::*;
use dagf_diag::{FileId, Span};

/// A parser of the grammar, boxed so that its type stays nameable.
pub(super) type P<'t, 'b, I, O, E> = Boxed<'t, 'b, I, O, extra::Err<E>>;

/// One argument, and a list of them in brackets.
pub(super) type Args<'t, 'b, I, E> = (P<'t, 'b, I, Arg, E>, P<'t, 'b, I, Vec<Arg>, E>);

/// Named or positional arguments: one (`a = 1`, or `2`), and a list of them in
/// brackets (`(a = 1, 2)`).
pub(super) fn args<'t: 'b, 'b, I, E>(
    expr: impl Parser<'t, I, Expr, extra::Err<E>> + Clone + 'b,
    file: FileId,
) -> Args<'t, 'b, I, E>
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan> + 'b,
    E: ParseErr<'t, I> + 'b,
{
    let sp = move |s: SimpleSpan| Span::new(file, s.start, s.end);
    let ident = ident(file);
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
    (arg, args)
}

/// A string, maybe interpolated: `Str` or `StrHead expr (StrMid expr)* StrTail`.
pub(super) fn string<'t: 'b, 'b, I, E>(
    expr: impl Parser<'t, I, Expr, extra::Err<E>> + Clone + 'b,
    file: FileId,
) -> P<'t, 'b, I, Expr, E>
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan> + 'b,
    E: ParseErr<'t, I> + 'b,
{
    let sp = move |s: SimpleSpan| Span::new(file, s.start, s.end);
    select! { Tok::Str(s) => vec![StrPart::Text(s)] }
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
        .boxed()
}

/// `name = value` entries of a record literal; `name { ... }` nests a record. A key
/// written as an interpolated string (`"${t}_viewer" = ...`) is computed.
pub(super) fn record_body<'t: 'b, 'b, I, E>(
    expr: impl Parser<'t, I, Expr, extra::Err<E>> + Clone + 'b,
    string: P<'t, 'b, I, Expr, E>,
    file: FileId,
) -> P<'t, 'b, I, ExprKind, E>
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan> + 'b,
    E: ParseErr<'t, I> + 'b,
{
    let sp = move |s: SimpleSpan| Span::new(file, s.start, s.end);
    let ident = ident(file);
    let seps = seps();
    recursive(|record_body| {
        // A keyword names a key when `=` follows (`{ group = "lake" }`): a record
        // holds no declarations, so nothing else could be meant.
        let keyword_key = select! {
            Tok::Group => "group",
            Tok::Type => "type",
            Tok::Task => "task",
            Tok::Dag => "dag",
            Tok::Asset => "asset",
            Tok::Template => "template",
            Tok::Callback => "callback",
            Tok::Operator => "operator",
            Tok::Sensor => "sensor",
        }
        .map_with(move |name: &str, e| Ident {
            name: name.to_string(),
            span: sp(e.span()),
        })
        .then_ignore(just(Tok::Eq).rewind());
        let key =
            ident
                .or(keyword_key)
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
    .boxed()
}

/// Expressions, loosest last: `or`, `and`, comparisons, `|`, `&`, `+ -`, `* /`, unary
/// `-` and `not`, then field access, indexing and calls on an atom.
pub(super) fn expression<'t: 'b, 'b, I, E>(
    expr: impl Parser<'t, I, Expr, extra::Err<E>> + Clone + 'b,
    string: P<'t, 'b, I, Expr, E>,
    record_body: P<'t, 'b, I, ExprKind, E>,
    decl: P<'t, 'b, I, Decl, E>,
    args: P<'t, 'b, I, Vec<Arg>, E>,
    recover: bool,
    file: FileId,
) -> impl Parser<'t, I, Expr, extra::Err<E>> + Clone + 'b
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan> + 'b,
    E: ParseErr<'t, I> + 'b,
{
    let sp = move |s: SimpleSpan| Span::new(file, s.start, s.end);
    let ident = ident(file);
    let recovering = recovering(recover);
    // Invalid literals become `Error` nodes; `invalid_literal` has reported them.
    let number = select! {
        Tok::Int(s) => int_value(&s).map_or(ExprKind::Error, ExprKind::Int),
        Tok::Float(s) => float_value(&s).map_or(ExprKind::Error, ExprKind::Float),
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
