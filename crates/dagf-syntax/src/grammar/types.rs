//! Types: named and generic types (`list<str>`), unions of strings (`"a" | "b"`) and
//! of any types (`str | list<str>`), record types with their rules (`assert`), and the
//! constraints and `?` that follow them (`int in 1..10`, `str matches "..."`, `str?`).
//! A field's default and a rule are expressions, handed in.

use super::{ParseErr, docs, ident, seps};
use crate::ast::*;
use crate::lexer::Tok;
use crate::literals::{float_value, int_value, parse_duration};
use chumsky::input::ValueInput;
use chumsky::prelude::*;
use dagf_diag::{FileId, Span};

/// A type expression.
pub(super) fn type_expr<'t: 'b, 'b, I, E>(
    expr: impl Parser<'t, I, Expr, extra::Err<E>> + Clone + 'b,
    file: FileId,
) -> super::expr::P<'t, 'b, I, TypeExpr, E>
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan> + 'b,
    E: ParseErr<'t, I> + 'b,
{
    let sp = move |s: SimpleSpan| Span::new(file, s.start, s.end);
    let ident = ident(file);
    let docs = docs();
    let seps = seps();
    let plain_str = super::plain_str();
    // `asset`, `task`, `group` and `dag` are keywords but also name types.
    let type_name = ident.or(select! {
        Tok::Asset = e => Ident { name: "asset".into(), span: sp(e.span()) },
        Tok::Task = e => Ident { name: "task".into(), span: sp(e.span()) },
        Tok::Group = e => Ident { name: "group".into(), span: sp(e.span()) },
        Tok::Dag = e => Ident { name: "dag".into(), span: sp(e.span()) },
        Tok::Factory = e => Ident { name: "factory".into(), span: sp(e.span()) },
    });
    recursive(|ty| {
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
        // One string; the members of `"a" | "b"` are joined below.
        let union = plain_str
            .map_with(move |s, e| TypeKind::Union(vec![(s, sp(e.span()))]));
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
        // `assert` is a keyword only at the start of a rule, so a field may still be named so.
        let rule = select! { Tok::Ident(k) if k == "assert" => () }
            .ignore_then(expr.clone())
            .then_ignore(just(Tok::Comma))
            .then(expr.clone())
            .map_with(move |(cond, message), e| Assert {
                cond,
                message,
                span: sp(e.span()),
            })
            .then_ignore(seps.clone());
        enum Entry {
            Field(ParamLite),
            Rule(Assert),
        }
        let record = seps
            .clone()
            .ignore_then(
                choice((rule.map(Entry::Rule), field.map(Entry::Field)))
                    .repeated()
                    .collect::<Vec<_>>(),
            )
            .delimited_by(just(Tok::LBrace), just(Tok::RBrace))
            .map(|entries| {
                let mut fields = Vec::new();
                let mut rules = Vec::new();
                for entry in entries {
                    match entry {
                        Entry::Field(f) => fields.push(f),
                        Entry::Rule(r) => rules.push(r),
                    }
                }
                TypeKind::Record(fields, rules)
            });
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
            Tok::Int(s) = e => Expr { kind: int_value(&s).map_or(ExprKind::Error, ExprKind::Int), span: sp(e.span()) },
            Tok::Float(s) = e => Expr { kind: float_value(&s).map_or(ExprKind::Error, ExprKind::Float), span: sp(e.span()) },
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
            .separated_by(just(Tok::Pipe))
            .at_least(1)
            .collect::<Vec<TypeExpr>>()
            .map_with(move |mut members, e| {
                if members.len() == 1 {
                    members.remove(0)
                } else if members
                    .iter()
                    .all(|m| matches!(m.kind, TypeKind::Union(_)))
                {
                    // Only strings: the string union it always was.
                    let options = members
                        .into_iter()
                        .flat_map(|m| match m.kind {
                            TypeKind::Union(vs) => vs,
                            _ => Vec::new(),
                        })
                        .collect();
                    TypeExpr {
                        kind: TypeKind::Union(options),
                        span: sp(e.span()),
                    }
                } else {
                    TypeExpr {
                        kind: TypeKind::AnyOf(members),
                        span: sp(e.span()),
                    }
                }
            })
            .labelled("type")
    })
    .boxed()
}
