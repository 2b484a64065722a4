//! Data between tasks: each task output a task's fields read is found, becomes an
//! edge from the task it comes from, and is checked the way Airflow would fail on it.

use super::*;
use crate::value::Output;

/// Every task output inside a value, in order.
fn outputs<'v>(v: &'v Value, out: &mut Vec<&'v Rc<Output>>) {
    match &v.v {
        V::Output(o) => out.push(o),
        V::List(items) => items.iter().for_each(|x| outputs(x, out)),
        V::Record(fields) => fields.iter().for_each(|(_, x)| outputs(x, out)),
        _ => {}
    }
}

/// The bool a task sets for `name`, or else its dag's `default_args`, and where.
fn flag(dag: &DagB, t: TaskId, name: &str) -> Option<(bool, Span)> {
    let own = dag.tasks[t].slots.iter().find(|s| &*s.name == name);
    let from_dag = || {
        let args = dag.slots.iter().find(|s| &*s.name == "default_args")?;
        match &args.value.v {
            V::Record(kv) => kv
                .iter()
                .find(|(k, _)| &**k == name)
                .map(|(_, v)| (v.clone(), v.span)),
            _ => None,
        }
    };
    let (v, span) = match own {
        Some(s) => (s.value.clone(), s.span),
        None => from_dag()?,
    };
    match v.v {
        V::Bool(b) => Some((b, span)),
        _ => None,
    }
}

/// The class whose tasks Airflow never runs (the scheduler marks them done), so they
/// push nothing.
const EMPTY_OPERATOR: (&str, &str) = (
    "airflow.providers.standard.operators.empty",
    "EmptyOperator",
);

impl Cx<'_> {
    /// Adds to `edges` an edge from each task whose output a task reads to that task,
    /// finding each output's task and checking that it is there to pull.
    pub(super) fn data_edges(&mut self, dag: &DagB, edges: &mut Vec<(TaskId, TaskId, Span)>) {
        let mut reads: Vec<(TaskId, Rc<Output>)> = Vec::new();
        for t in dag.tasks.ids() {
            let mut found = Vec::new();
            let mapped = dag.tasks[t].mapped.iter().flat_map(|m| &m.slots);
            for s in dag.tasks[t].slots.iter().chain(mapped) {
                outputs(&s.value, &mut found);
            }
            reads.extend(found.into_iter().map(|o| (t, o.clone())));
        }
        for (consumer, o) in reads {
            let producer = match o.producer.get() {
                Some(p) => p.clone(),
                None => {
                    let p = self.producer(dag, consumer, &o);
                    let _ = o.producer.set(p.clone());
                    p
                }
            };
            if let Some((p, _)) = producer {
                edges.push((p, consumer, o.span));
            }
        }
    }

    /// The task an output comes from, checked; `None` when that is reported.
    pub(super) fn producer(
        &mut self,
        dag: &DagB,
        consumer: TaskId,
        o: &Output,
    ) -> Option<(TaskId, Rc<str>)> {
        let p = match self.resolve_endpoint(dag, &o.source)? {
            Node::Task(p) => p,
            Node::Group(_) => {
                self.err(
                    Diagnostic::at(
                        Code::E0334,
                        o.span,
                        "a task group has no output",
                        "a group returns nothing",
                    )
                    .with_help("read the output of a task inside it: `group.task.output`"),
                );
                return None;
            }
        };
        let task = &dag.tasks[p];
        // The generated file names a task after its own statement.
        if p > consumer {
            self.err(
                Diagnostic::at(
                    Code::E0104,
                    o.span,
                    format!(
                        "the output of `{}` is read before `{}` is declared",
                        task.local, task.local
                    ),
                    "read here",
                )
                .with_label(task.name_span, "declared here, later")
                .with_help(format!(
                    "declare `{}` above `{}`, the task that reads its output",
                    task.local, dag.tasks[consumer].local
                )),
            );
            return None;
        }
        let op = &self.prog.operators[task.op];
        if (op.module_path.as_str(), op.class.as_str()) == EMPTY_OPERATOR {
            self.err(
                Diagnostic::at(
                    Code::E0334,
                    o.span,
                    format!(
                        "`{}` is an `{}` task, which pushes no output",
                        task.local, op.name
                    ),
                    "nothing to pull",
                )
                .with_label(task.name_span, "Airflow never runs this task")
                .with_help(
                    "read the output of a task that returns something, such as a `python` task",
                ),
            );
            return None;
        }
        if let Some((false, at)) = flag(dag, p, "do_xcom_push") {
            self.err(
                Diagnostic::at(
                    Code::E0334,
                    o.span,
                    format!(
                        "`{}` pushes no output: its `do_xcom_push` is false",
                        task.local
                    ),
                    "nothing to pull",
                )
                .with_label(at, "set to false here")
                .with_help(format!(
                    "set `do_xcom_push = true` on `{}`, or stop reading its output",
                    task.local
                )),
            );
            return None;
        }
        if let Some(key) = &o.key
            && !matches!(flag(dag, p, "multiple_outputs"), Some((true, _)))
        {
            self.err(
                Diagnostic::at(
                    Code::E0335,
                    o.span,
                    format!("`{}` does not push its output by key, so `{key}` cannot be pulled", task.local),
                    "no such key is pushed",
                )
                .with_label(task.name_span, "returns one value")
                .with_help(format!(
                    "set `multiple_outputs = true` on `{}` (its callable returns a dict), or read the whole `{}.output`",
                    task.local, task.local
                )),
            );
            return None;
        }
        Some((p, Rc::from(task.id.as_str())))
    }
}
