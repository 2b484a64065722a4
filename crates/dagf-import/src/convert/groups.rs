//! A DAG's structure: its tasks and task groups (a mapping by name or a list that names
//! itself), the groups' nesting and settings, and the dependencies between tasks and
//! groups (`build`, `make_task_groups`, `set_dependencies`), laid out as dagf bodies.

use super::Conv;
use crate::emit::{self, Body, Dep, Field, Group, Item, Task, VK, Val};
use crate::stdlib::Ty;
use crate::yaml::{Key, Node, V};
use dagf_diag::{Code, Diagnostic, Span};
use std::collections::HashMap;

/// Where a task or group sits: its group path, and its own name.
#[derive(Clone, Debug)]
struct Place {
    groups: Vec<String>,
    name: String,
}

impl Place {
    fn full(&self) -> Vec<String> {
        let mut p = self.groups.clone();
        p.push(self.name.clone());
        p
    }
}

/// Names as written in the YAML, with their places.
type Names = Vec<(String, Span)>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NodeRef {
    Task(usize),
    Group(usize),
}

/// A task read from the YAML, before it is placed.
struct TaskIn {
    key: Key,
    group: Option<usize>,
    deps: Vec<(String, Span)>,
    task: Option<Task>,
}

struct GroupIn {
    key: Key,
    parent: Option<(String, Span)>,
    parent_index: Option<usize>,
    tooltip: Option<Val>,
    default_args: Vec<Field>,
    deps: Vec<(String, Span)>,
}

impl Conv {
    /// `_normalise_tasks_config` / `_normalise_task_groups_config`: a mapping by name, or
    /// a list of mappings that name themselves with `id_key`.
    fn named_list<'n>(
        &mut self,
        node: Option<&'n Node>,
        id_key: &str,
        what: &str,
    ) -> Vec<(Key, &'n Node, bool)> {
        let Some(node) = node else { return Vec::new() };
        match &node.v {
            V::Null => Vec::new(),
            V::Map(entries) => entries.iter().map(|(k, v)| (k.clone(), v, false)).collect(),
            V::List(items) => {
                let mut out: Vec<(Key, &Node, bool)> = Vec::new();
                for item in items {
                    let Some(id) = item.get(id_key) else {
                        self.invalid(
                            item.span,
                            format!("each entry of a `{what}` list needs `{id_key}`"),
                            format!("no `{id_key}`").as_str(),
                            "name the entry",
                        );
                        continue;
                    };
                    let text = match &id.v {
                        V::Str(s) => s.clone(),
                        V::Int(i) => i.to_string(),
                        _ => {
                            self.invalid(
                                id.span,
                                format!("`{id_key}` must be a string"),
                                "not a name",
                                "write a name",
                            );
                            continue;
                        }
                    };
                    if let Some((first, _, _)) = out.iter().find(|(k, _, _)| k.text == text) {
                        let first = first.span;
                        self.diags.push(
                            Diagnostic::at(
                                Code::E0602,
                                id.span,
                                format!("`{text}` is declared twice in `{what}`"),
                                "again here",
                            )
                            .with_label(first, "first here")
                            .with_help("give each entry its own name"),
                        );
                        continue;
                    }
                    out.push((
                        Key {
                            text,
                            span: id.span,
                        },
                        item,
                        true,
                    ));
                }
                out
            }
            _ => {
                self.invalid(
                    node.span,
                    format!("`{what}` must be a mapping or a list, not {}", node.kind()),
                    "here",
                    "list the entries under it",
                );
                Vec::new()
            }
        }
    }

    /// Tasks, task groups and dependencies (`build`, `make_task_groups`,
    /// `set_dependencies`), laid out as dagf bodies.
    pub(super) fn structure(&mut self, dag_key: &Key, conf: &Node) -> Body {
        let task_list = self.named_list(conf.get("tasks"), "task_id", "tasks");
        let group_list = self.named_list(conf.get("task_groups"), "group_name", "task_groups");

        // Groups.
        let mut groups: Vec<GroupIn> = Vec::new();
        for (key, gconf, _) in &group_list {
            groups.push(self.group(key, gconf));
        }
        for i in 0..groups.len() {
            if let Some((parent, span)) = groups[i].parent.clone() {
                match groups.iter().position(|g| g.key.text == parent) {
                    Some(p) => groups[i].parent_index = Some(p),
                    None => {
                        let names: Vec<&str> = groups.iter().map(|g| g.key.text.as_str()).collect();
                        let d = Diagnostic::at(
                            Code::E0602,
                            span,
                            format!("dag `{}` has no task group `{parent}`", dag_key.text),
                            "unknown task group",
                        )
                        .with_suggestion(&parent, names)
                        .or_help("declare the group under `task_groups`");
                        self.diags.push(d);
                    }
                }
            }
        }
        let mut paths: Vec<Vec<String>> = Vec::new();
        for i in 0..groups.len() {
            let mut chain = vec![groups[i].key.text.clone()];
            let mut at = groups[i].parent_index;
            let mut cyclic = false;
            while let Some(p) = at {
                if p == i || chain.len() > groups.len() {
                    cyclic = true;
                    break;
                }
                chain.push(groups[p].key.text.clone());
                at = groups[p].parent_index;
            }
            if cyclic {
                let span = groups[i].key.span;
                self.invalid(
                    span,
                    format!("task group `{}` is its own ancestor", groups[i].key.text),
                    "in a cycle of `parent_group_name`",
                    "make the groups a tree",
                );
                groups[i].parent_index = None;
                chain.truncate(1);
            }
            chain.reverse();
            paths.push(chain);
        }

        // Tasks.
        let mut tasks: Vec<TaskIn> = Vec::new();
        for (key, tconf, from_list) in &task_list {
            let group = match tconf.get("task_group_name") {
                Some(g) if !g.is_null() => {
                    let name = g.as_str().unwrap_or_default();
                    match groups.iter().position(|x| x.key.text == name) {
                        Some(i) => Some(i),
                        None if groups.is_empty() => {
                            self.ignored(
                                Diagnostic::at(Code::W0601, g.span, "dag-factory 1.1 ignores `task_group_name` in a dag without task groups", "ignored")
                                    .with_help("declare the group under the dag's `task_groups`"),
                            );
                            None
                        }
                        None => {
                            let names: Vec<&str> =
                                groups.iter().map(|x| x.key.text.as_str()).collect();
                            let d = Diagnostic::at(
                                Code::E0602,
                                g.span,
                                format!("dag `{}` has no task group `{name}`", dag_key.text),
                                "unknown task group",
                            )
                            .with_suggestion(name, names)
                            .or_help("declare the group under `task_groups`");
                            self.diags.push(d);
                            None
                        }
                    }
                }
                _ => None,
            };
            let deps = self.dep_names(tconf.get("dependencies"));
            let task = self.task(key, tconf, *from_list);
            tasks.push(TaskIn {
                key: key.clone(),
                group,
                deps,
                task,
            });
        }

        // Group default_args apply to the tasks inside (Airflow's TaskGroup default_args,
        // inner groups over outer ones, the task's own arguments over both).
        for t in &mut tasks {
            let (Some(g), Some(task)) = (t.group, t.task.as_mut()) else {
                continue;
            };
            let mut chain = Vec::new();
            let mut at = Some(g);
            while let Some(i) = at {
                if chain.contains(&i) {
                    break;
                }
                chain.push(i);
                at = groups[i].parent_index;
            }
            for &i in &chain {
                for f in &groups[i].default_args {
                    if !task.fields.iter().any(|x| x.name == f.name) {
                        task.fields.push(f.clone());
                    }
                }
            }
        }

        // Names: tasks and groups share one namespace in `set_dependencies`.
        let mut names: HashMap<String, NodeRef> = HashMap::new();
        for (i, t) in tasks.iter().enumerate() {
            names.insert(t.key.text.clone(), NodeRef::Task(i));
        }
        for (i, g) in groups.iter().enumerate() {
            if let Some(NodeRef::Task(t)) = names.get(&g.key.text) {
                let task_span = tasks[*t].key.span;
                self.diags.push(
                    Diagnostic::at(
                        Code::E0602,
                        g.key.span,
                        format!("a task and a task group are both named `{}`", g.key.text),
                        "the group",
                    )
                    .with_label(task_span, "the task")
                    .with_help("dag-factory looks dependencies up by name; rename one of them"),
                );
            }
            names.insert(g.key.text.clone(), NodeRef::Group(i));
        }
        let place = |r: NodeRef| -> Place {
            match r {
                NodeRef::Task(i) => Place {
                    groups: tasks[i].group.map(|g| paths[g].clone()).unwrap_or_default(),
                    name: tasks[i].key.text.clone(),
                },
                NodeRef::Group(i) => {
                    let mut groups_path = paths[i].clone();
                    let name = groups_path.pop().unwrap_or_default();
                    Place {
                        groups: groups_path,
                        name,
                    }
                }
            }
        };

        // Edges, each written in the innermost body that holds both ends.
        let mut edges: Vec<(NodeRef, Span, NodeRef, Span)> = Vec::new();
        let mut all_names: Vec<&str> = names.keys().map(String::as_str).collect();
        all_names.sort_unstable();
        let downstream: Vec<(NodeRef, Span, Names)> = tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (NodeRef::Task(i), t.key.span, t.deps.clone()))
            .chain(
                groups
                    .iter()
                    .enumerate()
                    .map(|(i, g)| (NodeRef::Group(i), g.key.span, g.deps.clone())),
            )
            .collect();
        for (down, down_span, deps) in downstream {
            for (dep, span) in deps {
                match names.get(&dep) {
                    Some(&up) => edges.push((up, span, down, down_span)),
                    None => {
                        let d = Diagnostic::at(
                            Code::E0602,
                            span,
                            format!("dag `{}` has no task or task group `{dep}`", dag_key.text),
                            "unknown name",
                        )
                        .with_suggestion(&dep, all_names.iter().copied())
                        .or_help("name a task or a task group of the same dag");
                        self.diags.push(d);
                    }
                }
            }
        }
        let mut deps_at: Vec<(Vec<String>, Dep)> = Vec::new();
        for (up, up_span, down, down_span) in edges {
            let (u, d) = (place(up), place(down));
            let common: Vec<String> = u
                .groups
                .iter()
                .zip(&d.groups)
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a.clone())
                .collect();
            let rel = |p: &Place| -> Option<String> {
                let full = p.full();
                let rest = &full[common.len()..];
                match rest {
                    [one] => Some(emit::name_text(one)),
                    many if many.iter().all(|s| emit::is_ident(s)) => Some(many.join(".")),
                    _ => None,
                }
            };
            let (body, ut, dt) = match (rel(&u), rel(&d)) {
                (Some(ut), Some(dt)) => (common.clone(), ut, dt),
                _ => {
                    // A name that is not an identifier cannot be part of a path; it can
                    // still be reached by name from a body inside the one that declares it.
                    let u_outer = d.groups.starts_with(&u.groups) && matches!(up, NodeRef::Task(_));
                    let d_outer =
                        u.groups.starts_with(&d.groups) && matches!(down, NodeRef::Task(_));
                    if u_outer {
                        (
                            d.groups.clone(),
                            emit::name_text(&u.name),
                            emit::name_text(&d.name),
                        )
                    } else if d_outer {
                        (
                            u.groups.clone(),
                            emit::name_text(&u.name),
                            emit::name_text(&d.name),
                        )
                    } else {
                        let bad: Vec<String> = u
                            .full()
                            .into_iter()
                            .chain(d.full())
                            .filter(|s| !emit::is_ident(s))
                            .collect();
                        self.cannot(
                            up_span,
                            format!(
                                "dagf cannot connect `{}` to `{}`: it names a task or group inside \
                                 another group by a path of identifiers, and {} is not one",
                                u.full().join("."),
                                d.full().join("."),
                                bad.iter()
                                    .map(|b| format!("`{b}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                            "cannot be written",
                            "rename the task or group to letters, digits and `_`",
                        );
                        continue;
                    }
                }
            };
            match deps_at
                .iter_mut()
                .find(|(b, dep)| *b == body && dep.downstream.0 == dt)
            {
                Some((_, dep)) => {
                    if !dep.upstream.iter().any(|(x, _)| *x == ut) {
                        dep.upstream.push((ut, up_span));
                    }
                }
                None => deps_at.push((
                    body,
                    Dep {
                        upstream: vec![(ut, up_span)],
                        downstream: (dt, down_span),
                    },
                )),
            }
        }

        let mut task_out: Vec<Option<Task>> = tasks.iter_mut().map(|t| t.task.take()).collect();

        // Layout: each body lists its tasks and groups in the order the tasks appear in
        // the YAML, a group where its first task is.
        let order_of_group = |g: usize| -> usize {
            tasks
                .iter()
                .enumerate()
                .filter(|(_, t)| t.group.is_some_and(|tg| paths[tg].starts_with(&paths[g])))
                .map(|(i, _)| i)
                .min()
                .unwrap_or(tasks.len() + g)
        };
        let mut group_out: Vec<Option<Group>> = groups
            .iter()
            .map(|g| {
                Some(Group {
                    name: g.key.text.clone(),
                    tooltip: g.tooltip.clone(),
                    body: Body::default(),
                    span: g.key.span,
                })
            })
            .collect();
        // Fill bodies from the deepest groups up.
        let mut by_depth: Vec<usize> = (0..groups.len()).collect();
        by_depth.sort_by_key(|&g| std::cmp::Reverse(paths[g].len()));
        let children = |path: &[String]| -> Vec<(usize, NodeRef)> {
            let mut kids: Vec<(usize, NodeRef)> = Vec::new();
            for (i, t) in tasks.iter().enumerate() {
                let tp = t.group.map(|g| paths[g].as_slice()).unwrap_or(&[]);
                if tp == path {
                    kids.push((i, NodeRef::Task(i)));
                }
            }
            for (g, p) in paths.iter().enumerate() {
                if p.len() == path.len() + 1 && p.starts_with(path) {
                    kids.push((order_of_group(g), NodeRef::Group(g)));
                }
            }
            kids.sort_by_key(|(o, _)| *o);
            kids
        };
        let fill = |path: &[String],
                    group_out: &mut Vec<Option<Group>>,
                    task_out: &mut Vec<Option<Task>>,
                    deps_at: &mut Vec<(Vec<String>, Dep)>|
         -> Body {
            let mut body = Body::default();
            for (_, r) in children(path) {
                match r {
                    NodeRef::Task(i) => {
                        if let Some(t) = task_out[i].take() {
                            body.items.push(Item::Task(t));
                        }
                    }
                    NodeRef::Group(g) => {
                        if let Some(gr) = group_out[g].take() {
                            body.items.push(Item::Group(gr));
                        }
                    }
                }
            }
            let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(deps_at)
                .into_iter()
                .partition(|(b, _)| b.as_slice() == path);
            *deps_at = rest;
            body.deps = mine.into_iter().map(|(_, d)| d).collect();
            body
        };
        for g in by_depth {
            let body = fill(&paths[g], &mut group_out, &mut task_out, &mut deps_at);
            if let Some(gr) = group_out[g].as_mut() {
                gr.body = body;
            }
        }
        fill(&[], &mut group_out, &mut task_out, &mut deps_at)
    }

    /// `dependencies`: a list of task or group names.
    fn dep_names(&mut self, node: Option<&Node>) -> Vec<(String, Span)> {
        let Some(node) = node else { return Vec::new() };
        match &node.v {
            V::Null => Vec::new(),
            V::List(items) => items
                .iter()
                .filter_map(|i| match &i.v {
                    V::Str(s) => Some((s.clone(), i.span)),
                    V::Int(n) => Some((n.to_string(), i.span)),
                    _ => {
                        self.invalid(
                            i.span,
                            format!("a dependency is a task or group name, not {}", i.kind()),
                            "not a name",
                            "write the name of a task or task group",
                        );
                        None
                    }
                })
                .collect(),
            _ => {
                self.invalid(
                    node.span,
                    format!(
                        "`dependencies` must be a list of names, not {}",
                        node.kind()
                    ),
                    "not a list",
                    "write `dependencies: [name, ...]`",
                );
                Vec::new()
            }
        }
    }

    /// `make_nested_task_groups`: one task group's settings.
    fn group(&mut self, key: &Key, conf: &Node) -> GroupIn {
        let mut g = GroupIn {
            key: key.clone(),
            parent: None,
            parent_index: None,
            tooltip: None,
            default_args: Vec::new(),
            deps: Vec::new(),
        };
        if !matches!(conf.v, V::Map(_)) {
            self.invalid(
                conf.span,
                format!(
                    "task group `{}` must be a mapping, not {}",
                    key.text,
                    conf.kind()
                ),
                "here",
                "give the group its settings as a mapping (`{}` for none)",
            );
            return g;
        }
        for (k, v) in conf.entries() {
            match k.text.as_str() {
                "group_name" => {}
                "tooltip" => g.tooltip = self.typed(v, &Ty::Str).filter(|t| !matches!(t.kind, VK::None)),
                "parent_group_name" => match &v.v {
                    V::Null => {}
                    V::Str(s) => g.parent = Some((s.clone(), v.span)),
                    _ => self.invalid(v.span, "`parent_group_name` must be a group name", "not a name", "name the parent group"),
                },
                "dependencies" => g.deps = self.dep_names(Some(v)),
                "prefix_group_id" => {
                    if !matches!(v.v, V::Bool(true) | V::Null) {
                        self.cannot(
                            k.span,
                            "dagf task groups always prefix their tasks' ids with the group id",
                            "cannot be imported",
                            "remove `prefix_group_id: false` (the task ids then start with the group id)",
                        );
                    }
                }
                "default_args" => {
                    if let Some(Val { kind: VK::Record(entries), .. }) = self.task_args_record(v, "default_args") {
                        g.default_args = entries
                            .into_iter()
                            .filter(|(_, val)| !matches!(val.kind, VK::None))
                            .map(|(name, value)| Field { span: value.span, name, value, is_override: false })
                            .collect();
                    }
                }
                other => self.cannot(
                    k.span,
                    format!("`{other}` of a task group cannot be imported: a dagf group has only a `tooltip`"),
                    "cannot be imported",
                    "remove it",
                ),
            }
        }
        g
    }
}
