//! The standard library is `.dagf` too: it must parse without a single diagnostic.

#[test]
fn standard_library_parses_cleanly() {
    let text = include_str!("../../dagf-sema/src/std/std.dagf");
    let (module, diags) = dagf_syntax::parse(text, dagf_diag::FileId(0));
    assert!(diags.is_empty(), "{diags:#?}");
    assert!(module.items.len() > 15);
}
