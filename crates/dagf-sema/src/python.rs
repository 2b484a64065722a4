//! Names a generated file writes as Python code (import paths, keyword arguments) are
//! checked where they are declared: Python would reject the whole file (E0316).

use dagf_diag::{Code, Diagnostic, Span};
use dagf_ir::python::{is_keyword, path_problem};

/// A dotted path imported as `from module import name`: a class, callable or object.
pub fn check_path(path: &str, at: Span, what: &str, example: &str) -> Option<Diagnostic> {
    let why = path_problem(path)?;
    Some(
        Diagnostic::at(
            Code::E0316,
            at,
            format!("`{path}` is not a Python {what} path: {why}"),
            "Python cannot import this",
        )
        .with_help(format!(
            "name the {what} with its module, each part a Python name, such as \"{example}\""
        )),
    )
}

/// A name written as a keyword argument (`name=...`): not a keyword, and not an
/// argument dagfc writes itself.
pub fn check_kwarg(name: &str, at: Span, owner: &str, own: &[&str]) -> Option<Diagnostic> {
    let (message, help) = if is_keyword(name) {
        (
            format!("`{name}` is a Python keyword, so {owner} cannot take it as an argument"),
            "a Python class cannot have a parameter named after a keyword: check the name in the class's signature".to_string(),
        )
    } else if own.contains(&name) {
        (
            format!("dagfc writes `{name}` itself, so {owner} cannot declare it"),
            format!("remove `{name}`: {}", own_help(name)),
        )
    } else {
        return None;
    };
    Some(
        Diagnostic::at(
            Code::E0316,
            at,
            message,
            "not a keyword argument dagfc can write",
        )
        .with_help(help),
    )
}

fn own_help(name: &str) -> &'static str {
    match name {
        "task_id" => "a task's id is its name in `task NAME: ...`",
        _ => "dagfc sets it from the declaration",
    }
}
