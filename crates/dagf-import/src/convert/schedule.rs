//! Schedules and assets (dag-factory's datasets): `schedule` as `configure_schedule` reads
//! it on Airflow 3, and the asset URIs a schedule waits for or a task produces, each
//! declared once in the file.

use super::{Conv, unique};
use crate::emit::{Asset, VK, Val};
use crate::stdlib::Ty;
use crate::yaml::{Node, V};
use dagf_diag::Span;

impl Conv {
    /// `configure_schedule` on Airflow 3.
    pub(super) fn schedule(&mut self, node: &Node) -> Option<Val> {
        match &node.v {
            V::Str(s) if s.trim().eq_ignore_ascii_case("none") => {
                Some(Val::new(VK::None, node.span))
            }
            V::Str(s) => Some(Val::new(VK::Str(s.clone()), node.span)),
            V::Duration(ms) => Some(Val::new(VK::Duration(*ms), node.span)),
            V::List(items) => {
                let mut assets = Vec::new();
                for item in items {
                    match &item.v {
                        V::Null => {}
                        V::Str(s) if s.trim().is_empty() => {}
                        V::Str(s) | V::Asset(s) => {
                            assets.push(self.asset(s.trim(), item.span, false))
                        }
                        _ => {
                            self.cannot(
                                item.span,
                                format!(
                                    "an asset in `schedule` must be a URI string, not {}",
                                    item.kind()
                                ),
                                "not a URI",
                                "write the asset's URI",
                            );
                            return None;
                        }
                    }
                }
                if assets.is_empty() {
                    self.cannot(
                        node.span,
                        "an empty list of assets cannot be imported as a schedule",
                        "empty",
                        "list the URIs of the assets the DAG waits for, or remove `schedule`",
                    );
                    return None;
                }
                Some(Val::new(VK::AllOf(assets), node.span))
            }
            V::Map(_) => {
                self.cannot(
                    node.span,
                    "a `schedule` with `datasets` or `file` cannot be imported",
                    "cannot be imported",
                    "list the asset URIs the DAG waits for: `schedule: [\"s3://...\", ...]`",
                );
                None
            }
            _ => self.typed(node, &Ty::Schedule),
        }
    }

    pub(super) fn asset(&mut self, uri: &str, span: Span, produced: bool) -> Val {
        if let Some(&i) = self.assets.get(uri) {
            if produced {
                self.doc.assets[i].is_extern = false;
            }
            return Val::new(VK::Ref(self.doc.assets[i].name.clone()), span);
        }
        let after_scheme = uri.split_once("://").map_or(uri, |(_, rest)| rest);
        let mut base: String = after_scheme
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        while base.contains("__") {
            base = base.replace("__", "_");
        }
        let base = base.trim_matches('_');
        let base = if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
            format!("asset_{base}")
        } else {
            base.to_string()
        };
        let taken: Vec<String> = self.doc.assets.iter().map(|a| a.name.clone()).collect();
        let name = unique(&base, &taken, self.std);
        self.assets.insert(uri.to_string(), self.doc.assets.len());
        self.doc.assets.push(Asset {
            name: name.clone(),
            uri: uri.to_string(),
            is_extern: !produced,
            span,
        });
        Val::new(VK::Ref(name), span)
    }

    /// `inlets` / `outlets`: URIs become assets (`adjust_general_task_params`).
    pub(super) fn assets_field(&mut self, node: &Node, produced: bool) -> Option<Val> {
        match &node.v {
            V::Null => None,
            V::List(items) => {
                let mut out = Vec::new();
                for item in items {
                    match &item.v {
                        V::Str(uri) | V::Asset(uri) => {
                            out.push(self.asset(uri, item.span, produced))
                        }
                        _ => {
                            self.cannot(
                                item.span,
                                format!("an asset must be a URI string here, not {}", item.kind()),
                                "not a URI",
                                "write the asset's URI",
                            );
                            return None;
                        }
                    }
                }
                Some(Val::new(VK::List(out), node.span))
            }
            _ => {
                self.cannot(
                    node.span,
                    "only a list of asset URIs can be imported here",
                    "cannot be imported",
                    "list the URIs: `[\"s3://bucket/key\", ...]`",
                );
                None
            }
        }
    }
}
