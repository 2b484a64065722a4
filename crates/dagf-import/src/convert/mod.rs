//! dag-factory 1.1's meaning of a YAML file, as a `.dagf` model ([`crate::emit::Doc`]).
//!
//! Every rule here mirrors a piece of dag-factory's source (`dagfactory.py`,
//! `dagbuilder.py`, `utils.py`); the comments name it. What cannot be carried over is
//! reported (E0601), what dag-factory itself would reject is reported (E0602), and what
//! dag-factory ignores is dropped with a warning (W0601).
//!
//! The converter is one `Conv`, its methods spread over the submodules by what they
//! convert: the file and its DAGs here, a DAG's own settings ([`dag`]), schedules and
//! assets ([`schedule`]), values of a field's type ([`values`]), callbacks
//! ([`callbacks`]), tasks and operators ([`tasks`]), and task groups and dependencies
//! ([`groups`]).

mod callbacks;
mod dag;
mod groups;
mod schedule;
mod tasks;
mod values;

use crate::emit::{self, Dag, Doc, Field, Val};
use crate::stdlib::{self, Std};
use crate::yaml::{Key, Node, V};
use dag::over_mixin;
use dagf_diag::{Code, Diagnostic, Diagnostics, Span};
use std::collections::HashMap;

/// The converter: what has been read of the file so far, and what was found on the way.
pub struct Conv {
    std: &'static Std,
    pub diags: Diagnostics,
    pub doc: Doc,
    /// Custom operator classes: path -> index in `doc.operators`.
    operators: HashMap<String, usize>,
    /// Asset URIs: uri -> index in `doc.assets`.
    assets: HashMap<String, usize>,
    /// Callbacks from `{callback: ..., args}` mappings, by their printed form.
    callbacks: HashMap<String, usize>,
    file_start: Span,
}

impl Conv {
    pub fn new(file_start: Span) -> Conv {
        Conv {
            std: stdlib::get(),
            diags: Diagnostics::new(),
            doc: Doc::default(),
            operators: HashMap::new(),
            assets: HashMap::new(),
            callbacks: HashMap::new(),
            file_start,
        }
    }

    /// Reports what dagf cannot express (E0601).
    fn cannot(&mut self, span: Span, message: impl Into<String>, label: &str, help: &str) {
        self.diags
            .push(Diagnostic::at(Code::E0601, span, message, label).with_help(help.to_string()));
    }

    /// Reports what dag-factory itself would reject (E0602).
    fn invalid(&mut self, span: Span, message: impl Into<String>, label: &str, help: &str) {
        self.diags
            .push(Diagnostic::at(Code::E0602, span, message, label).with_help(help.to_string()));
    }

    /// Reports what dag-factory ignores, and so is dropped (W0601).
    fn ignored(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// `_DagFactory.build_dags`: every top-level key but `default` and `task_groups` is a
    /// DAG, whose config is merged over `default` (`utils.merge_configs`).
    pub fn file(&mut self, root: Option<&Node>) {
        let Some(root) = root else {
            self.invalid(
                self.file_start,
                "the file holds no YAML document",
                "empty",
                "a dag-factory file maps each dag_id to its configuration",
            );
            return;
        };
        let V::Map(entries) = &root.v else {
            self.invalid(
                root.span,
                format!(
                    "a dag-factory file is a mapping of dag ids, not {}",
                    root.kind()
                ),
                "here",
                "a dag-factory file maps each dag_id to its configuration",
            );
            return;
        };
        let default = match root.get("default") {
            Some(d @ Node { v: V::Map(_), .. }) => Some(d),
            Some(d) if d.is_null() => None,
            Some(d) => {
                self.invalid(
                    d.span,
                    format!("`default` must be a mapping, not {}", d.kind()),
                    "here",
                    "write the settings every dag shares under `default:`",
                );
                None
            }
            None => None,
        };
        let dags: Vec<&(Key, Node)> = entries
            .iter()
            .filter(|(k, _)| k.text != "default" && k.text != "task_groups")
            .collect();
        if let Some((k, _)) = entries.iter().find(|(k, _)| k.text == "task_groups") {
            self.ignored(
                Diagnostic::at(
                    Code::W0601,
                    k.span,
                    "dag-factory 1.1 ignores a top-level `task_groups`",
                    "not imported",
                )
                .with_help("task groups belong under a dag's own `task_groups`"),
            );
        }
        if dags.is_empty() {
            self.ignored(
                Diagnostic::at(
                    Code::W0601,
                    root.span,
                    "the file declares no dag",
                    "nothing to import",
                )
                .with_help("dag-factory builds one DAG per top-level key other than `default`"),
            );
            return;
        }
        let mixin: Vec<Field> = match default {
            Some(d) => self.dag_fields(d, None),
            None => Vec::new(),
        };
        for (key, conf) in dags {
            let merged = match (&conf.v, default) {
                (V::Map(_), Some(d)) => merge_configs(conf, d),
                (V::Map(_), None) => conf.clone(),
                _ => {
                    self.invalid(
                        conf.span,
                        format!(
                            "the configuration of dag `{}` must be a mapping, not {}",
                            key.text,
                            conf.kind()
                        ),
                        "here",
                        "give the dag its settings and `tasks` as a mapping",
                    );
                    continue;
                }
            };
            let dag = self.dag(key, &merged, &mixin);
            self.doc.dags.push(dag);
        }
        if !mixin.is_empty() {
            self.doc.mixin = Some(mixin);
        }
    }

    fn dag(&mut self, key: &Key, conf: &Node, mixin: &[Field]) -> Dag {
        let fields = self.dag_fields(conf, Some(key));
        let fields = over_mixin(fields, mixin, key.span);
        let body = self.structure(key, conf);
        Dag {
            name: key.text.clone(),
            span: key.span,
            fields,
            body,
        }
    }
}

fn field(name: &str, value: Val, span: Span) -> Field {
    Field {
        name: name.to_string(),
        value,
        span,
        is_override: false,
    }
}

/// `utils.merge_configs(config, default)`: the DAG's keys win; mappings present on both
/// sides are merged key by key, recursively.
fn merge_configs(config: &Node, default: &Node) -> Node {
    let (V::Map(mine), V::Map(theirs)) = (&config.v, &default.v) else {
        return config.clone();
    };
    let mut out = mine.clone();
    for (k, dv) in theirs {
        match out.iter_mut().find(|(o, _)| o.text == k.text) {
            Some((_, cv)) => {
                if matches!(cv.v, V::Map(_)) && matches!(dv.v, V::Map(_)) {
                    *cv = merge_configs(cv, dv);
                }
            }
            None => out.push((k.clone(), dv.clone())),
        }
    }
    Node {
        v: V::Map(out),
        span: config.span,
    }
}

/// A name for a declaration that no other declaration of the file, no standard operator
/// and no keyword has.
fn unique(base: &str, taken: &[String], std: &Std) -> String {
    let base = if emit::is_ident(base) {
        base.to_string()
    } else {
        format!("imported_{base}")
    };
    let base = if emit::is_ident(&base) {
        base
    } else {
        "imported".to_string()
    };
    let mut name = base.clone();
    let mut n = 2;
    while taken.contains(&name) || std.is_std_name(&name) || name == emit::MIXIN {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

/// `SnowflakeOperator` -> `snowflake_operator`, `S3KeySensor` -> `s3_key_sensor`.
pub fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            let boundary = prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(|p| p.is_ascii_uppercase())
                    && next.is_some_and(|n| n.is_ascii_lowercase()));
            if boundary {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else {
            out.push('_');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_names() {
        assert_eq!(snake("SnowflakeOperator"), "snowflake_operator");
        assert_eq!(snake("S3KeySensor"), "s3_key_sensor");
        assert_eq!(snake("HTTPSensor"), "http_sensor");
        assert_eq!(snake("send_alert"), "send_alert");
    }
}
