//! The standard library is `.dagf` too: it must parse without a single diagnostic, with
//! the promises (`plain`, `branching`) its operator declarations make.

#[test]
fn standard_library_parses_cleanly() {
    let text = include_str!("../../dagf-sema/src/std/std.dagf");
    let (module, diags) = dagf_syntax::parse(text, dagf_diag::FileId(0));
    assert!(diags.is_empty(), "{diags:#?}");
    assert!(module.items.len() > 15);
}

/// `plain` and `branching` before `operator` or `sensor` say what the class promises;
/// anywhere else they are ordinary names.
#[test]
fn operator_promises_are_keywords_only_before_operator_or_sensor() {
    use dagf_syntax::ast::{Item, OpBehaviour};
    let text = r#"
plain operator a = "m.A"
branching operator b = "m.B" { x: int }
plain sensor c = "m.C"
operator d = "m.D"
dag plain {
    let branching = 1
    task plain: empty
}
"#;
    let (module, diags) = dagf_syntax::parse(text, dagf_diag::FileId(0));
    assert!(diags.is_empty(), "{diags:#?}");
    let promises: Vec<(String, bool, OpBehaviour)> = module
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Operator(o) => Some((o.name.name.clone(), o.is_sensor, o.behaviour)),
            _ => None,
        })
        .collect();
    assert_eq!(
        promises,
        vec![
            ("a".to_string(), false, OpBehaviour::Plain),
            ("b".to_string(), false, OpBehaviour::Branching),
            ("c".to_string(), true, OpBehaviour::Plain),
            ("d".to_string(), false, OpBehaviour::Unknown),
        ]
    );
    assert_eq!(module.items.len(), 5);
}
