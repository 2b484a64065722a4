//! Callbacks: declared ones with their arguments bound, and dotted-path strings.

use super::*;

impl Cx<'_> {
    /// A callback declaration with arguments bound: its body's fields, evaluated with the
    /// parameters, become the keyword arguments Airflow's callable gets.
    pub(super) fn bind_callback(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        c: CallbackId,
        args: &[ast::Arg],
        call: Span,
    ) -> V {
        self.used_callbacks.insert(c);
        let info = &self.prog.callbacks[c];
        let (decl, params, module) = (info.decl.clone(), info.params.clone(), info.module);
        let Some(mut cenv) = self.bind_args(m, env, &params, args, call, &decl.name.name) else {
            return V::Error;
        };
        let mut bound: Vec<(Rc<str>, Value)> = Vec::new();
        for s in &decl.body {
            match s {
                Stmt::Field {
                    name,
                    value,
                    append: false,
                    is_override: false,
                    ..
                } => {
                    let v = self.expr(module, &mut cenv, value, None);
                    if v.is_error() {
                        return V::Error;
                    }
                    if bound.iter().any(|(k, _)| **k == *name.name) {
                        self.err(
                            Diagnostic::at(
                                Code::E0211,
                                name.span,
                                format!("`{}` is set twice", name.name),
                                "set again here",
                            )
                            .with_help("set each argument once"),
                        );
                        return V::Error;
                    }
                    bound.push((Rc::from(name.name.as_str()), v));
                }
                Stmt::Let { name, value, .. } => {
                    let v = self.expr(module, &mut cenv, value, None);
                    cenv.push((Rc::from(name.name.as_str()), v));
                }
                Stmt::Error(_) => return V::Error,
                other => {
                    self.not_here(
                        other.span(),
                        "in a callback body",
                        "a callback body holds `name = value` arguments and `let`",
                    );
                    return V::Error;
                }
            }
        }
        V::Callback(Rc::new(Callback {
            kind: decl.kind,
            path: decl.path.clone(),
            args: bound,
        }))
    }

    /// One callback: a declared callback (called or not), or a "module.function" string.
    pub(super) fn callback_value(&mut self, v: Value, decl: Option<Span>) -> Value {
        let span = v.span;
        match &v.v {
            V::Callback(_) | V::Error => v,
            V::Item(Item::Callback(c)) => {
                let c = *c;
                let out = self.bind_callback(
                    self.prog.callbacks[c].module,
                    &mut Env::new(),
                    c,
                    &[],
                    span,
                );
                Value::new(out, span)
            }
            V::Str(_) => match self.coerce(v, &Ty::PyRef, decl).v {
                V::PyRef(p) => Value::new(
                    V::Callback(Rc::new(Callback {
                        kind: CallbackKind::Python,
                        path: p.to_string(),
                        args: Vec::new(),
                    })),
                    span,
                ),
                _ => Value::error(span),
            },
            _ => {
                let mut d = Diagnostic::at(Code::E0201, span, format!("expected a callback, found {}", describe(&v)), format!("this is {}", a_kind(&v)))
                    .with_help("name a `callback` declaration (`alert(channel = \"#ops\")`), or a \"module.function\" string");
                if let Some(decl) = decl {
                    d = d.with_label(decl, "expected a callback because of this declaration");
                }
                self.err(d);
                Value::error(span)
            }
        }
    }
}
