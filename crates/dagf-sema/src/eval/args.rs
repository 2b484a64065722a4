//! Binding call arguments to typed parameters (factories, templates, mixins).

use super::*;

/// Arguments matched to parameters: a slot per parameter, and whether all was well.
pub(super) struct Given {
    slots: Vec<Option<(Value, Span)>>,
    ok: bool,
    /// An argument came out of order: "missing" would only guess at what was meant.
    out_of_order: bool,
    /// Parameters a misspelt argument was taken for: not also reported missing.
    meant: Vec<String>,
}

/// E0202 for a parameter or field that has no value, with its declaration as a label.
pub(super) fn missing(
    at: Span,
    message: String,
    what: &str,
    field: &FieldTy,
    help: String,
) -> Diagnostic {
    Diagnostic::at(
        Code::E0202,
        at,
        message,
        format!("`{}` is not {what}", field.name),
    )
    .with_label(
        field.span,
        format!(
            "`{}: {}` is declared here without a default",
            field.name, field.ty
        ),
    )
    .with_help(help)
}

impl Cx<'_> {
    /// Binds call arguments to typed parameters; `None` when an error was reported.
    pub(super) fn bind_args(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        params: &[FieldTy],
        args: &[ast::Arg],
        call: Span,
        callee: &str,
    ) -> Option<Env> {
        self.bind_rest(m, env, params, &[], args, call, callee)
    }

    /// Binds `args` after the arguments a partial factory already carries (`bound`),
    /// then fills defaults; every parameter must end with a value.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn bind_rest(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        params: &[FieldTy],
        bound: &[Bound],
        args: &[ast::Arg],
        call: Span,
        callee: &str,
    ) -> Option<Env> {
        let Given {
            slots,
            mut ok,
            out_of_order,
            meant,
        } = self.given_args(m, env, params, bound, args, callee);
        let mut out = Env::new();
        for (p, g) in params.iter().zip(slots) {
            let v = match g {
                Some((v, _)) => v,
                None => match self.default_of(p) {
                    Some(v) => v,
                    None if out_of_order || meant.contains(&p.name) => {
                        ok = false;
                        continue;
                    }
                    None => {
                        ok = false;
                        self.err(missing(
                            call,
                            format!("missing argument `{}` of `{callee}`", p.name),
                            "given",
                            p,
                            format!("pass `{} = ...`, or give the parameter a default", p.name),
                        ));
                        continue;
                    }
                },
            };
            out.push((Rc::from(p.name.as_str()), v));
        }
        ok.then_some(out)
    }

    /// `factory(args)` in an expression: the factory with these arguments given and the
    /// others left for the `dag` that uses it.
    pub(super) fn partial(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        f: FactoryId,
        bound: &[Bound],
        args: &[ast::Arg],
    ) -> V {
        let prog = self.prog;
        let params = &prog.factories[f].params;
        let callee = &prog.factories[f].decl.name.name;
        let given = self.given_args(m, env, params, bound, args, callee);
        if !given.ok {
            return V::Error;
        }
        let bound = params
            .iter()
            .zip(given.slots)
            .filter_map(|(p, g)| g.map(|(v, at)| (Rc::from(p.name.as_str()), v, at)))
            .collect();
        V::Partial(Rc::new(Partial { factory: f, bound }))
    }

    /// Matches arguments to parameters and checks each value against its type.
    pub(super) fn given_args(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        params: &[FieldTy],
        bound: &[Bound],
        args: &[ast::Arg],
        callee: &str,
    ) -> Given {
        let mut given: Vec<Option<(Value, Span)>> = vec![None; params.len()];
        for (name, v, at) in bound {
            if let Some(slot) = params.iter().position(|p| *p.name == **name) {
                given[slot] = Some((v.clone(), *at));
            }
        }
        let mut ok = true;
        let mut named_seen = false;
        // After an argument out of order, "missing" would only guess at what was meant.
        let mut out_of_order = false;
        // Parameters a misspelt argument was taken for: not also reported missing.
        let mut meant: Vec<String> = Vec::new();
        for (i, arg) in args.iter().enumerate() {
            let slot = match &arg.name {
                Some(n) => {
                    named_seen = true;
                    match params.iter().position(|p| p.name == n.name) {
                        Some(p) => {
                            self.note(crate::refs::Raw::Def {
                                at: n.span,
                                def: params[p].span,
                                kind: crate::refs::DefKind::Param,
                            });
                            p
                        }
                        None => {
                            ok = false;
                            meant.extend(
                                dagf_diag::did_you_mean(
                                    &n.name,
                                    params.iter().map(|p| p.name.as_str()),
                                )
                                .map(str::to_string),
                            );
                            self.err(
                                Diagnostic::at(
                                    Code::E0203,
                                    n.span,
                                    format!("`{callee}` has no parameter `{}`", n.name),
                                    "unknown parameter",
                                )
                                .with_suggestion(&n.name, params.iter().map(|p| p.name.as_str()))
                                .or_help("remove it, or pass one of the parameters")
                                .with_note(format!(
                                    "parameters: {}",
                                    abbreviate(
                                        &params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>()
                                    )
                                )),
                            );
                            continue;
                        }
                    }
                }
                None if named_seen => {
                    ok = false;
                    out_of_order = true;
                    self.err(
                        Diagnostic::at(
                            Code::E0203,
                            arg.span,
                            "positional argument after a named one",
                            "give this one a name too",
                        )
                        .with_help("write `name = value`"),
                    );
                    continue;
                }
                None if i < params.len() => i,
                None => {
                    ok = false;
                    self.err(
                        Diagnostic::at(
                            Code::E0203,
                            arg.span,
                            format!(
                                "`{callee}` takes {} argument{}, this is one too many",
                                params.len(),
                                if params.len() == 1 { "" } else { "s" }
                            ),
                            "extra argument",
                        )
                        .with_help("remove it, or pass it by name"),
                    );
                    continue;
                }
            };
            let v = self.expr(m, env, &arg.value, None);
            if let Some((_, prev)) = &given[slot] {
                ok = false;
                self.err(
                    Diagnostic::at(
                        Code::E0207,
                        arg.span,
                        format!("argument `{}` is given twice", params[slot].name),
                        "given again here",
                    )
                    .with_label(*prev, "first given here")
                    .with_help("remove one of them"),
                );
                continue;
            }
            // A wrong value is already reported; binding goes on with it, so the body is
            // still checked (uses of the value stay quiet).
            let v = self.coerce(v, &params[slot].ty, Some(params[slot].span));
            given[slot] = Some((v, arg.span));
        }
        Given {
            slots: given,
            ok,
            out_of_order,
            meant,
        }
    }

    /// A parameter's default value (type-checked), `none` for an optional one, else nothing.
    pub(super) fn default_of(&mut self, p: &FieldTy) -> Option<Value> {
        match &p.default {
            Some(e) => {
                let mut env = Env::new();
                let v = self.expr(p.module, &mut env, e, None);
                Some(self.coerce(v, &p.ty, Some(p.span)))
            }
            None if p.ty.is_optional() => Some(Value::new(V::None, p.span)),
            None => None,
        }
    }

    /// Parameter values for checking a declaration nothing uses: defaults where there
    /// are, stand-ins (whose uses are not checked) elsewhere.
    pub(super) fn stand_ins(&mut self, params: &[FieldTy]) -> Env {
        let mut env = Env::new();
        for p in params {
            let v = if p.default.is_some() {
                self.default_of(p)
            } else {
                None
            };
            env.push((
                Rc::from(p.name.as_str()),
                v.unwrap_or_else(|| Value::error(p.span)),
            ));
        }
        env
    }
}
