//! `extern` before `asset` or `dag` declares what lives outside the project; anywhere
//! else `extern` is an ordinary name.

use dagf_syntax::ast::{ExprKind, Item};

#[test]
fn extern_dag_takes_one_or_more_expressions() {
    let text = r#"
/// Outside.
extern dag "a"
extern dag "b", "c", ids
extern asset fx = "s3://fx"
dag extern {
    let extern = 1
    task t: empty
}
"#;
    let (module, diags) = dagf_syntax::parse(text, dagf_diag::FileId(0));
    assert!(diags.is_empty(), "{diags:#?}");
    let externs: Vec<(Vec<String>, usize)> = module
        .items
        .iter()
        .filter_map(|i| match i {
            Item::ExternDag(x) => Some((x.docs.clone(), x.ids.len())),
            _ => None,
        })
        .collect();
    assert_eq!(
        externs,
        vec![(vec![" Outside.".to_string()], 1), (Vec::new(), 3)]
    );
    let Some(Item::ExternDag(second)) = module.items.get(1) else {
        panic!("the second item is an `extern dag`: {:#?}", module.items);
    };
    assert!(matches!(second.ids[2].kind, ExprKind::Name(ref n) if n == "ids"));
    assert!(matches!(module.items.get(2), Some(Item::Asset(a)) if a.is_extern));
    assert_eq!(module.items.len(), 4);
}

#[test]
fn extern_dag_without_an_id_is_one_error() {
    let (_, diags) = dagf_syntax::parse(
        "extern dag\ndag d { task t: empty }\n",
        dagf_diag::FileId(0),
    );
    assert_eq!(diags.len(), 1, "{diags:#?}");
}
