//! Operations on values: field access, indexing, and binary operators.

use super::*;

/// Whether `<` and friends compare these two: numbers, or two of the same ordered kind.
pub(super) fn ordered(a: &V, b: &V) -> bool {
    matches!(
        (a, b),
        (V::Int(_) | V::Float(_), V::Int(_) | V::Float(_))
            | (V::Str(_), V::Str(_))
            | (V::Duration(_), V::Duration(_))
            | (V::Date(_), V::Date(_))
            | (V::DateTime(_), V::DateTime(_))
    )
}

pub(super) fn is_asset(v: &V) -> bool {
    matches!(v, V::Asset(_) | V::AssetAll(_) | V::AssetAny(_))
}

impl Cx<'_> {
    /// `Kind["name"]`: the tenant of that kind with that name. A name read from a config
    /// file that names no tenant is an error there, so config can never drop a dag by
    /// naming a tenant that does not exist.
    fn tenant_named(&mut self, kind: KindId, name: &str, at: Span) -> V {
        let of_kind: Vec<InstanceId> = self
            .prog
            .instances
            .ids()
            .filter(|&i| self.kind_of(i) == Some(kind))
            .collect();
        let found = of_kind
            .iter()
            .copied()
            .find(|&i| self.prog.instances[i].decl.name.name == name);
        if let Some(i) = found {
            return match self.instance(i) {
                Some(_) => V::Tenant(i),
                None => V::Error,
            };
        }
        let d = self.no_such_tenant(kind, name, at);
        self.err(d);
        V::Error
    }

    /// E0104 for a name no tenant of the kind has.
    fn no_such_tenant(&self, kind: KindId, name: &str, at: Span) -> Diagnostic {
        let kind_name = &self.prog.tenants[kind].decl.name.name;
        let names: Vec<&str> = self
            .prog
            .instances
            .ids()
            .filter(|&i| self.kind_of(i) == Some(kind))
            .map(|i| self.prog.instances[i].decl.name.name.as_str())
            .collect();
        Diagnostic::at(
            Code::E0104,
            at,
            format!("there is no `{kind_name}` named `{name}`"),
            "no such tenant",
        )
        .with_suggestion(name, names.iter().copied())
        .or_help(format!("declare it with `{kind_name} {name} {{ ... }}`, or name one of the tenants of `{kind_name}`"))
        .with_note(format!("tenants of `{kind_name}`: {}", abbreviate(&names)))
    }

    /// A string read from a config file compared with a tenant's name (`t.name == x`,
    /// `contains(names, t.name)`) is meant to name a tenant: if no tenant of the kind
    /// has that name, it is a mistake, not a comparison that happens to fail, or a
    /// misspelt name in the config would quietly leave that tenant's dags out.
    pub(super) fn compared_with_tenant_name(&mut self, a: &Value, b: &Value) {
        for (name, other) in [(a, b), (b, a)] {
            let (Some(&kind), V::Str(s)) = (self.tenant_names.get(&name.span), &other.v) else {
                continue;
            };
            if !self.read_from_config(other.span) {
                continue;
            }
            let exists = self.prog.instances.ids().any(|i| {
                self.kind_of(i) == Some(kind) && self.prog.instances[i].decl.name.name == **s
            });
            if !exists {
                let d = self
                    .no_such_tenant(kind, s, other.span)
                    .with_label(name.span, "compared with a tenant's name here");
                self.err(d);
                // The dags the comparison was to select may be missing.
                self.ids_unsure = true;
            }
        }
    }

    /// A record's entry by name (`r.name` or `r["name"]`); a missing one is E0203 with
    /// the names it has.
    fn lookup_key(&mut self, fields: &[(Rc<str>, Value)], key: &str, at: Span, what: &str) -> V {
        if let Some((_, v)) = fields.iter().find(|(k, _)| **k == *key) {
            self.read_data(v);
            return v.v.clone();
        }
        let names: Vec<&str> = fields.iter().map(|(k, _)| &**k).collect();
        self.err(no_such_field(
            at,
            format!("this record has no {what} `{key}`"),
            format!("unknown {what}"),
            key,
            &names,
            format!("use one of its {what}s"),
            &format!("its {what}s"),
        ));
        V::Error
    }

    pub(super) fn field_of(&mut self, b: Value, f: &ast::Ident) -> V {
        self.data_span = None;
        match &b.v {
            V::Error => V::Error,
            V::Tenant(i) => {
                let Some(inst) = self.instance(*i) else {
                    return V::Error;
                };
                let found = match f.name.as_str() {
                    "name" => Some(V::Str(Rc::from(inst.name.as_str()))),
                    "exports" => Some(V::List(Rc::new(inst.exports.clone()))),
                    other => inst
                        .env
                        .iter()
                        .skip(1)
                        .find(|(k, _)| &**k == other)
                        .map(|(_, v)| v.v.clone()),
                };
                found.unwrap_or_else(|| {
                    let mut names: Vec<&str> = vec!["name", "exports"];
                    names.extend(inst.env.iter().skip(1).map(|(k, _)| &**k));
                    self.err(no_such_field(
                        f.span,
                        format!("tenant `{}` has no field `{}`", inst.name, f.name),
                        "unknown field",
                        &f.name,
                        &names,
                        "read one of its fields",
                        "its fields",
                    ));
                    V::Error
                })
            }
            V::Record(fields) => self.lookup_key(fields, &f.name, f.span, "field"),
            V::Item(Item::Module(t)) => {
                let t = *t;
                let in_scope = self.prog.modules[t].scope.contains_key(&f.name);
                if in_scope {
                    self.note_global(t, &f.name, f.span);
                }
                match in_scope.then(|| self.global(t, &f.name)).flatten() {
                    Some(v) => v,
                    None => {
                        let names: Vec<&str> = self.prog.modules[t]
                            .scope
                            .keys()
                            .map(String::as_str)
                            .collect();
                        self.err(
                            Diagnostic::at(
                                Code::E0104,
                                f.span,
                                format!("`{}` declares no `{}`", self.prog.modules[t].path, f.name),
                                "not declared there",
                            )
                            .with_suggestion(&f.name, names)
                            .or_help("only names declared at the top level of that file can be read through its alias"),
                        );
                        V::Error
                    }
                }
            }
            _ => {
                self.err(
                    Diagnostic::at(
                        Code::E0209,
                        f.span,
                        format!("{} has no fields", a_kind(&b)),
                        "no field here",
                    )
                    .with_help("fields are read from records and imported modules"),
                );
                V::Error
            }
        }
    }

    pub(super) fn index(&mut self, b: Value, i: Value) -> V {
        self.data_span = None;
        match (&b.v, &i.v) {
            (V::Error, _) | (_, V::Error) => V::Error,
            (V::List(items), V::Int(n)) => {
                let len = items.len() as i64;
                let idx = if *n < 0 { len + n } else { *n };
                match items.get(idx as usize).filter(|_| idx >= 0) {
                    Some(v) => {
                        self.read_data(v);
                        v.v.clone()
                    }
                    None => {
                        self.err(
                            Diagnostic::at(
                                Code::E0204,
                                i.span,
                                format!("index {n} is outside a list of {len}"),
                                "out of range",
                            )
                            .with_help(
                                "indexes run from 0 to len - 1; negative ones count from the end",
                            ),
                        );
                        V::Error
                    }
                }
            }
            (V::Record(fields), V::Str(k)) => self.lookup_key(fields, k, i.span, "key"),
            (V::Item(Item::Kind(kind)), V::Str(name)) => self.tenant_named(*kind, name, i.span),
            _ => {
                self.err(
                    Diagnostic::at(
                        Code::E0209,
                        i.span,
                        format!("cannot index {} with {}", a_kind(&b), a_kind(&i)),
                        "invalid index",
                    )
                    .with_help("index lists with an int and records with a str"),
                );
                V::Error
            }
        }
    }

    pub(super) fn binary(&mut self, op: BinOp, l: Value, r: Value, span: Span) -> V {
        use V::*;
        let num = |v: &V| -> Option<f64> {
            match v {
                Int(i) => Some(*i as f64),
                Float(f) => Some(*f),
                _ => Option::None,
            }
        };
        let out = match (op, &l.v, &r.v) {
            (_, Error, _) | (_, _, Error) => return Error,
            (_, MapArg(_), _) | (_, _, MapArg(_)) => {
                let at = if matches!(l.v, MapArg(_)) {
                    l.span
                } else {
                    r.span
                };
                self.runtime_item(at, "its value is known only when the group runs");
                return Error;
            }
            (BinOp::Add, Int(a), Int(b)) => a.checked_add(*b).map(Int),
            (BinOp::Sub, Int(a), Int(b)) => a.checked_sub(*b).map(Int),
            (BinOp::Mul, Int(a), Int(b)) => a.checked_mul(*b).map(Int),
            (BinOp::Div, Int(_) | Float(_) | Duration(_), Int(0))
            | (BinOp::Div, Int(_) | Float(_), Float(0.0)) => {
                self.err(
                    Diagnostic::at(Code::E0209, r.span, "division by zero", "this is zero")
                        .with_help("divide by a non-zero number"),
                );
                return Error;
            }
            (BinOp::Div, Int(a), Int(b)) => a.checked_div(*b).map(Int),
            (BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div, a, b)
                if num(a).is_some() && num(b).is_some() =>
            {
                let (x, y) = (num(a).unwrap_or(0.0), num(b).unwrap_or(0.0));
                let z = match op {
                    BinOp::Add => x + y,
                    BinOp::Sub => x - y,
                    BinOp::Mul => x * y,
                    _ => x / y,
                };
                // Floats stay finite: Python's `inf` and `nan` are never written.
                z.is_finite().then_some(Float(z))
            }
            (BinOp::Add, Str(a), Str(b)) => Some(Str(Rc::from(format!("{a}{b}")))),
            (BinOp::Add, List(a), List(b)) => {
                Some(List(Rc::new(a.iter().chain(b.iter()).cloned().collect())))
            }
            (BinOp::Add, Duration(a), Duration(b)) => a.checked_add(*b).map(Duration),
            (BinOp::Sub, Duration(a), Duration(b)) => a.checked_sub(*b).map(Duration),
            (BinOp::Mul, Duration(a), Int(b)) | (BinOp::Mul, Int(b), Duration(a)) => {
                a.checked_mul(*b).map(Duration)
            }
            (BinOp::Div, Duration(a), Int(b)) => a.checked_div(*b).map(Duration),
            (BinOp::Eq | BinOp::Ne, _, _)
                if self.tenant_names.contains_key(&l.span)
                    || self.tenant_names.contains_key(&r.span) =>
            {
                self.compared_with_tenant_name(&l, &r);
                Some(Bool(l.same(&r) == (op == BinOp::Eq)))
            }
            (BinOp::Eq, _, _) => Some(Bool(l.same(&r))),
            (BinOp::Ne, _, _) => Some(Bool(!l.same(&r))),
            (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge, a, b) if ordered(a, b) => {
                let ord = match (a, b) {
                    (Str(x), Str(y)) => Some(x.cmp(y)),
                    (Duration(x), Duration(y)) => Some(x.cmp(y)),
                    (Date(x), Date(y)) => Some(x.cmp(y)),
                    (DateTime(x), DateTime(y)) => Some(x.cmp(y)),
                    _ => num(a).zip(num(b)).and_then(|(x, y)| x.partial_cmp(&y)),
                };
                ord.map(|o| {
                    Bool(match op {
                        BinOp::Lt => o.is_lt(),
                        BinOp::Le => o.is_le(),
                        BinOp::Gt => o.is_gt(),
                        _ => o.is_ge(),
                    })
                })
            }
            (BinOp::All | BinOp::Any, a, b) if is_asset(a) && is_asset(b) => {
                let mut parts = Vec::new();
                for side in [&l, &r] {
                    match (&side.v, op) {
                        (AssetAll(xs), BinOp::All) | (AssetAny(xs), BinOp::Any) => {
                            parts.extend(xs.iter().cloned())
                        }
                        _ => parts.push(side.clone()),
                    }
                }
                Some(if op == BinOp::All {
                    AssetAll(Rc::new(parts))
                } else {
                    AssetAny(Rc::new(parts))
                })
            }
            _ => {
                let sym = match op {
                    BinOp::Add => "+",
                    BinOp::Sub => "-",
                    BinOp::Mul => "*",
                    BinOp::Div => "/",
                    BinOp::Lt => "<",
                    BinOp::Le => "<=",
                    BinOp::Gt => ">",
                    BinOp::Ge => ">=",
                    BinOp::All => "&",
                    BinOp::Any => "|",
                    _ => "==",
                };
                self.err(
                    Diagnostic::at(Code::E0209, span, format!("`{sym}` does not apply to {} and {}", l.kind(), r.kind()), "invalid operation")
                        .with_label(l.span, l.kind())
                        .with_label(r.span, r.kind())
                        .with_help(match op {
                            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                                "`<`, `<=`, `>` and `>=` compare two numbers, strings, durations or dates"
                            }
                            BinOp::All | BinOp::Any => "`&` and `|` combine assets",
                            _ => "`+` adds numbers, durations, strings and lists; `-`, `*` and `/` work on numbers and durations",
                        }),
                );
                return Error;
            }
        };
        match out {
            Some(v) => v,
            Option::None => self.overflow(span),
        }
    }

    /// E0209 for a result that does not fit its type.
    pub(super) fn overflow(&mut self, span: Span) -> V {
        self.err(
            Diagnostic::at(
                Code::E0209,
                span,
                "arithmetic overflow",
                "the result does not fit: integers and durations have 64 bits, floats stay finite",
            )
            .with_help("use smaller numbers"),
        );
        V::Error
    }
}
