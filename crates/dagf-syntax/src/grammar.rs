//! The grammar of `.dagf`, in chumsky: declarations (`dag`, `task`, `group`),
//! statements, and the top-level items (imports, operators, types, factories, templates,
//! callbacks, mixins, assets, tenants, sources, profiles, pools). Expressions and types
//! are in the submodules.
//!
//! One grammar serves both passes of the parser (see `parser.rs`): generic over the
//! error type, it keeps no detail of a mistake in the fast pass (`EmptyErr`) and all of it
//! in the diagnostic one (`Rich`), and only the diagnostic pass recovers.

mod expr;
mod types;

use crate::ast::*;
use crate::lexer::Tok;
use crate::wording::UNCLOSED;
use chumsky::input::ValueInput;
use chumsky::prelude::*;
use dagf_diag::{FileId, Span};

/// What the parser records of a mistake: a `Rich` error for diagnostics, or nothing
/// at all (`EmptyErr`) in the first, fast pass over input that is most likely right.
pub(crate) trait ParseErr<'t, I: chumsky::input::Input<'t>>:
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

/// A name.
fn ident<'t, I, E>(file: FileId) -> impl Parser<'t, I, Ident, extra::Err<E>> + Copy
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    E: ParseErr<'t, I>,
{
    let sp = move |s: SimpleSpan| Span::new(file, s.start, s.end);
    select! { Tok::Ident(name) = e => Ident { name, span: sp(e.span()) } }.labelled("name")
}

/// The doc comments before a declaration.
fn docs<'t, I, E>() -> impl Parser<'t, I, Vec<String>, extra::Err<E>> + Copy
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    E: ParseErr<'t, I>,
{
    select! { Tok::Doc(d) => d }
        .repeated()
        .collect::<Vec<String>>()
}

/// Separators between statements, entries and members: `,` and `;`, any number.
fn seps<'t, I, E>() -> impl Parser<'t, I, (), extra::Err<E>> + Clone
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    E: ParseErr<'t, I>,
{
    one_of([Tok::Comma, Tok::Semi]).repeated()
}

/// A string with no `${}` in it.
fn plain_str<'t, I, E>() -> impl Parser<'t, I, String, extra::Err<E>> + Copy
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    E: ParseErr<'t, I>,
{
    select! { Tok::Str(s) => s }.labelled("string")
}

/// Fails unless recovering: the first step of every recovery.
fn recovering<'t, I, E>(recover: bool) -> impl Parser<'t, I, (), extra::Err<E>> + Copy
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    E: ParseErr<'t, I>,
{
    empty().filter(move |_: &()| recover)
}

/// `{ item* }` with separators. A block left open at the end of the file keeps its
/// items: the error points at its `{` (see `wording::syntax_error`), and they are not
/// read as the enclosing block's. When recovering, a block that does not parse becomes
/// the one item `error` makes of its span.
fn braced<'t, I, E, T>(
    item: impl Parser<'t, I, T, extra::Err<E>> + Clone + 't,
    recover: bool,
    error: impl Fn(SimpleSpan) -> T + Clone + 't,
) -> impl Parser<'t, I, Vec<T>, extra::Err<E>> + Clone
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    E: ParseErr<'t, I>,
    T: 't,
{
    just(Tok::LBrace)
        .map_with(|_, e| e.span())
        .then(item.then_ignore(seps()).repeated().collect::<Vec<T>>())
        .then(just(Tok::RBrace).to(true).or(end().to(false)))
        .validate(|((open, items), closed), _, emitter| {
            if !closed {
                emitter.emit(E::unclosed(open));
            }
            items
        })
        .recover_with(via_parser(recovering(recover).ignore_then(
            nested_delimiters(Tok::LBrace, Tok::RBrace, BRACE_GROUPS, move |s| {
                vec![error(s)]
            }),
        )))
}

/// The brackets a recovery skips over as wholes.
const BRACE_GROUPS: [(Tok, Tok); 4] = [
    (Tok::LParen, Tok::RParen),
    (Tok::LBracket, Tok::RBracket),
    (Tok::LParenLine, Tok::RParen),
    (Tok::LBracketLine, Tok::RBracket),
];

/// The grammar. With `recover`, a mistake is skipped over and parsing goes on (for the
/// diagnostics of every mistake); without, the first mistake ends the parse, which is all
/// a pass that only asks whether a text parses needs (and recovering from text that is
/// not `.dagf` at all is slow).
pub(crate) fn module_parser<'t, I, E>(
    file: FileId,
    recover: bool,
) -> impl Parser<'t, I, Vec<Item>, extra::Err<E>>
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    E: ParseErr<'t, I>,
{
    let sp = move |s: SimpleSpan| Span::new(file, s.start, s.end);
    let recovering = recovering(recover);
    let ident = ident(file);
    let docs = docs();
    let seps = seps();
    let plain_str = plain_str();
    let shr = just(Tok::GtJoined).then(just(Tok::Gt)).ignored();
    let shl = just(Tok::LtJoined).then(just(Tok::Lt)).ignored();

    let mut stmt = Recursive::declare();
    let mut expr = Recursive::declare();

    let block = braced(stmt.clone(), recover, move |s| Stmt::Error(sp(s))).boxed();

    // Pieces of expressions that declarations and statements use too.
    let (arg, args) = expr::args(expr.clone(), file);
    let string = expr::string(expr.clone(), file);
    let record_body = expr::record_body(expr.clone(), string.clone(), file);

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

    expr.define(expr::expression(
        expr.clone(),
        string,
        record_body.clone(),
        decl.clone(),
        args.clone(),
        recover,
        file,
    ));

    let ty = types::type_expr(expr.clone(), file);

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
            templated: None,
            span: sp(e.span()),
        })
        .boxed();

    // An operator's field may be marked `templated` (a word only here, before the
    // field's name): Airflow renders it when the task runs.
    let templated = select! { Tok::Ident(k) if k == "templated" => () }
        .map_with(move |_, e| sp(e.span()))
        .then_ignore(ident.rewind());
    let op_field = docs
        .then(templated.or_not())
        .then(ident)
        .then_ignore(just(Tok::Colon))
        .then(ty.clone())
        .then(just(Tok::Eq).ignore_then(expr.clone()).or_not())
        .map_with(move |((((docs, templated), name), ty), default), e| Param {
            docs,
            name,
            ty,
            default,
            templated,
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
        // `assert` is a keyword only here, so fields and parameters may still be named so.
        let assert_stmt = select! { Tok::Ident(k) if k == "assert" => () }
            .ignore_then(expr.clone())
            .then_ignore(just(Tok::Comma))
            .then(expr.clone())
            .map_with(move |(cond, message), e| {
                Stmt::Assert(Assert {
                    cond,
                    message,
                    span: sp(e.span()),
                })
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
                assert_stmt,
                field,
                deps,
            ))),
            decl.clone().map(Stmt::Decl),
        ))
        .labelled("statement")
        .recover_with(skip_then_retry_until(
            recovering.ignore_then(
                nested_delimiters(Tok::LBrace, Tok::RBrace, BRACE_GROUPS, |_| ())
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
                    op_field
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
    // `asset alias NAME = ...`: `alias` is a keyword only when a name follows, so an
    // asset may still be called `alias`.
    let asset_name = select! { Tok::Ident(k) if k == "alias" => () }
        .ignore_then(ident)
        .map(|name| (true, name))
        .or(ident.map(|name| (false, name)));
    let asset = docs
        .then(is_extern)
        .then_ignore(just(Tok::Asset))
        .then(asset_name)
        .then_ignore(just(Tok::Eq))
        .then(expr.clone())
        .map_with(move |(((docs, is_extern), (is_alias, name)), uri), e| {
            Item::Asset(AssetDecl {
                docs,
                is_extern,
                is_alias,
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

    // `test "name" expect_error CODE { ... }`; `test`, `expect_error`, `fixture` and
    // `snapshot` are keywords only here.
    let test_stmt = choice((
        select! { Tok::Ident(k) if k == "fixture" => () }
            .ignore_then(
                plain_str
                    .map_with(move |s, e| (false, s, sp(e.span())))
                    .or(ident.map(|i| (true, i.name, i.span))),
            )
            .then_ignore(just(Tok::Eq))
            .then(expr.clone())
            .map_with(
                move |((by_source, path, path_span), value), e| TestStmt::Fixture {
                    by_source,
                    path,
                    path_span,
                    value,
                    span: sp(e.span()),
                },
            ),
        select! { Tok::Ident(k) if k == "snapshot" => () }
            .ignore_then(expr.clone())
            .map_with(move |value, e| TestStmt::Snapshot {
                value,
                span: sp(e.span()),
            }),
        select! { Tok::Ident(k) if k == "project" => () }
            .ignore_then(ident)
            .map_with(move |name, e| TestStmt::Project {
                name,
                span: sp(e.span()),
            }),
        select! { Tok::Ident(k) if k == "run" => () }
            .ignore_then(expr.clone())
            .then(
                just(Tok::LBrace)
                    .ignore_then(seps.clone())
                    .ignore_then(
                        select! { Tok::Ident(k) if k == "expect" => () }
                            .ignore_then(expr.clone())
                            .then_ignore(seps.clone())
                            .repeated()
                            .collect::<Vec<Expr>>(),
                    )
                    .then_ignore(just(Tok::RBrace))
                    .or_not(),
            )
            .map_with(move |(dag, expects), e| TestStmt::Run {
                dag,
                expects: expects.unwrap_or_default(),
                span: sp(e.span()),
            }),
        select! { Tok::Ident(k) if k == "assert" => () }
            .ignore_then(expr.clone())
            .then(just(Tok::Comma).ignore_then(expr.clone()).or_not())
            .map_with(move |(cond, message), e| TestStmt::Assert {
                cond,
                message,
                span: sp(e.span()),
            }),
        stmt.clone().map(TestStmt::Stmt),
    ));
    let test_block = braced(test_stmt, recover, move |s| {
        TestStmt::Stmt(Stmt::Error(sp(s)))
    });
    let test = docs
        .then_ignore(select! { Tok::Ident(k) if k == "test" => () })
        .then(plain_str.map_with(move |s, e| (s, sp(e.span()))))
        .then(
            select! { Tok::Ident(k) if k == "expect_error" => () }
                .ignore_then(ident)
                .or_not(),
        )
        .then(
            select! { Tok::Ident(k) if k == "env" => () }
                .ignore_then(ident)
                .or_not(),
        )
        .then(test_block)
        .map_with(
            move |((((docs, (name, name_span)), expect_error), env), body), e| {
                Item::Test(TestDecl {
                    docs,
                    name,
                    name_span,
                    expect_error,
                    env,
                    body,
                    span: sp(e.span()),
                })
            },
        );

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
        test,
        instance,
        stmt.clone().map(Item::Stmt),
    ))
    .then_ignore(seps.clone())
    .labelled("item")
    .recover_with(skip_then_retry_until(
        recovering.ignore_then(
            nested_delimiters(Tok::LBrace, Tok::RBrace, BRACE_GROUPS, |_| ()).or(any().ignored()),
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
