//! Layers: which part of a program set a value (a template, a parent factory, a mixin,
//! the body, a policy, a profile), and the one merge rule between them.

use crate::ids::{FactoryId, Id, KindId, ProfileId, TemplateId};
use crate::modules::Program;
use crate::value::{V, Value};
use dagf_diag::{Code, Diagnostic, Diagnostics, Span};
use std::collections::HashMap;
use std::rc::Rc;

/// Which layer set a value; a later layer must say `override` to replace an earlier one.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// A task template's body, by template; a template's parent comes before it.
    Template(TemplateId),
    /// The body of a factory the instantiated one extends, by factory.
    Parent(FactoryId),
    /// A mixin's body, by application (one mixin applied twice is two layers): mixins
    /// layer in `with` order.
    Mixin(usize),
    Factory,
    Body,
    /// The policy of the tenant kind the dag is placed in, by kind.
    Policy(KindId),
    /// The profile of the environment built for, by profile: applied last.
    Profile(ProfileId),
}

/// How messages name the layers of one dag, and where each mixin was mixed in.
pub(crate) struct Layers<'a> {
    pub(crate) prog: &'a Program,
    pub(crate) mixins: &'a [(String, Span)],
    /// The factory the dag is made from.
    pub(crate) made_from: Option<&'a str>,
}

impl Layers<'_> {
    pub(crate) fn name(&self, layer: Layer) -> String {
        match layer {
            Layer::Template(t) => {
                format!("the template `{}`", self.prog.templates[t].decl.name.name)
            }
            Layer::Parent(f) => {
                format!(
                    "the parent factory `{}`",
                    self.prog.factories[f].decl.name.name
                )
            }
            Layer::Mixin(a) => match self.mixins.get(a) {
                Some((name, _)) => format!("the mixin `{name}`"),
                None => "the mixin".to_string(),
            },
            Layer::Factory => match self.made_from {
                Some(f) => format!("the factory `{f}`"),
                None => "the factory".to_string(),
            },
            Layer::Body => "the dag body".to_string(),
            Layer::Policy(k) => format!("the policy of `{}`", self.prog.tenants[k].decl.name.name),
            Layer::Profile(p) => format!("the profile `{}`", self.prog.profiles[p].decl.name.name),
        }
    }

    /// Where a mixin layer was mixed in (`with NAME(...)`).
    pub(crate) fn mixed_in(&self, layer: Layer) -> Option<(&str, Span)> {
        match layer {
            Layer::Mixin(a) => self.mixins.get(a).map(|(n, at)| (n.as_str(), *at)),
            _ => None,
        }
    }
}

/// A named value with its layer and the statement that set it.
#[derive(Clone, Debug)]
pub struct Slot {
    pub name: Rc<str>,
    pub value: Value,
    pub layer: Layer,
    pub span: Span,
    /// The earlier layers whose values this one replaced or merged with, oldest first.
    pub history: Vec<(Layer, Span)>,
    /// The list's items by `item_hash`, built on the first `+=`, so that each `+=`
    /// finds the duplicates it drops without reading the whole list.
    pub(crate) items: ItemIndex,
}

impl Slot {
    /// A slot first set by `layer` at `span`.
    pub(crate) fn new(name: &str, value: Value, layer: Layer, span: Span) -> Self {
        Slot {
            name: Rc::from(name),
            value,
            layer,
            span,
            history: Vec::new(),
            items: ItemIndex::default(),
        }
    }

    /// `+=`: appends the items of `value` that the list does not hold yet, in place
    /// (the list is copied only if something else holds it too), so that each costs
    /// the same however long the list is. False if either is not a list.
    fn append(&mut self, value: &Value, layer: Layer, span: Span) -> bool {
        let (V::List(a), V::List(b)) = (&mut self.value.v, &value.v) else {
            return false;
        };
        let items = Rc::make_mut(a);
        self.items.catch_up(items);
        for x in b.iter() {
            if !self.items.holds(items, x) {
                items.push(x.clone());
                self.items.catch_up(items);
            }
        }
        self.value.span = value.span;
        self.history.push((self.layer, self.span));
        self.layer = layer;
        self.span = span;
        true
    }

    /// Takes the value of a later layer, keeping this one in the history: in place,
    /// so a field set or merged many times costs the same each time.
    fn replace(&mut self, value: Value, layer: Layer, span: Span) {
        self.history.push((self.layer, self.span));
        self.value = value;
        self.layer = layer;
        self.span = span;
        self.items = ItemIndex::default();
    }
}

/// Where the items of a list slot are, by a hash that equal items (`Value::same`) share.
#[derive(Clone, Debug, Default)]
pub(crate) struct ItemIndex {
    at: HashMap<u64, Vec<usize>>,
    /// How many of the list's items are indexed.
    len: usize,
}

impl ItemIndex {
    /// Whether `items` (whose first `len` items are indexed) holds an item equal to `x`.
    fn holds(&self, items: &[Value], x: &Value) -> bool {
        self.at
            .get(&item_hash(&x.v))
            .is_some_and(|is| is.iter().any(|&i| items.get(i).is_some_and(|y| y.same(x))))
    }

    /// Indexes the items not indexed yet.
    fn catch_up(&mut self, items: &[Value]) {
        for (i, x) in items.iter().enumerate().skip(self.len) {
            self.at.entry(item_hash(&x.v)).or_default().push(i);
        }
        self.len = items.len();
    }
}

/// A hash of a value that values `Value::same` calls equal share (an int and the float
/// it equals included); values it cannot tell apart cheaply share one. It only finds
/// candidates (`same` decides), but it is the project's one hasher all the same.
fn item_hash(v: &V) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = crate::StableHasher::default();
    let number = |x: f64| if x == 0.0 { 0 } else { x.to_bits() };
    match v {
        V::Int(x) => (1u8, number(*x as f64)).hash(&mut h),
        V::Float(x) => (1u8, number(*x)).hash(&mut h),
        V::Str(s) | V::PyRef(s) | V::Preset(s) => (2u8, &**s).hash(&mut h),
        V::Bool(b) => (3u8, b).hash(&mut h),
        V::Duration(x) => (4u8, x).hash(&mut h),
        V::Date(d) => (9u8, d).hash(&mut h),
        V::DateTime(d) => (10u8, d).hash(&mut h),
        V::Asset(a) => (5u8, &a.uri, a.alias).hash(&mut h),
        V::Task(x) => (6u8, x.index()).hash(&mut h),
        V::Group(x) => (6u8, x.index()).hash(&mut h),
        V::Tenant(x) => (6u8, x).hash(&mut h),
        V::List(xs) | V::AssetAll(xs) | V::AssetAny(xs) => {
            7u8.hash(&mut h);
            for x in xs.iter() {
                item_hash(&x.v).hash(&mut h);
            }
        }
        // `same` on records ignores key order: only their size is shared.
        V::Record(fields) => (8u8, fields.len()).hash(&mut h),
        _ => 0u8.hash(&mut h),
    }
    h.finish()
}

/// Sets a named slot following the layer rules: `+=` appends to lists (duplicates
/// dropped), records merge key by key, and a different value from another layer
/// conflicts unless the later layer says `override`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn set_slot(
    slots: &mut Vec<Slot>,
    name: &str,
    value: Value,
    append: bool,
    is_override: bool,
    layer: Layer,
    span: Span,
    layers: &Layers,
    diags: &mut Diagnostics,
) {
    if value.is_error() {
        // Already reported. Keep the field as set, so that later checks do not also
        // call it missing (a required field, `start` for `catchup`).
        if !slots.iter().any(|s| &*s.name == name) {
            slots.push(Slot::new(name, value, layer, span));
        }
        return;
    }
    let Some(i) = slots.iter().position(|s| &*s.name == name) else {
        if append && !matches!(value.v, V::List(_)) {
            diags.push(not_a_list(name, span, format!("write `{name} = ...`")));
            return;
        }
        // A policy may force a value on every dag, whether or not it set one.
        if is_override && !matches!(layer, Layer::Policy(_) | Layer::Profile(_)) {
            diags.push(
                Diagnostic::at(
                    Code::E0213,
                    span,
                    format!("`override {name}` replaces nothing"),
                    "nothing set this before",
                )
                .with_help(format!("remove `override`: no earlier layer sets `{name}`")),
            );
            return;
        }
        slots.push(Slot::new(name, value, layer, span));
        return;
    };
    let old = &mut slots[i];
    if old.value.is_error() && (append || old.layer != layer) {
        // The earlier value was wrong and reported; there is nothing to merge or conflict with.
        return;
    }
    if append {
        if !old.append(&value, layer, span) {
            diags.push(not_a_list(
                name,
                span,
                format!("set `{name}` once, to the whole value"),
            ));
        }
        return;
    }
    if old.layer == layer {
        let help = "set it once; use `+=` to add to a list";
        diags.push(set_twice(
            &format!("`{name}` is set twice"),
            span,
            old.span,
            help,
        ));
        return;
    }
    if old.value.same(&value) {
        old.replace(value, layer, span);
        return;
    }
    // Records merge key by key, also under `override` (which then wins on each key).
    if let (V::Record(a), V::Record(b)) = (&old.value.v, &value.v) {
        let mut merged: Vec<(Rc<str>, Value)> = a.to_vec();
        let mut ok = true;
        for (k, v) in b.iter() {
            match merged.iter_mut().find(|(n, _)| n == k) {
                // An optional field left out is `none`: it neither conflicts nor replaces.
                Some(_) if matches!(v.v, V::None) => {}
                Some((_, prev)) if matches!(prev.v, V::None) => *prev = v.clone(),
                Some((_, prev)) if !prev.same(v) && is_override => *prev = v.clone(),
                Some((_, prev)) if !prev.same(v) => {
                    ok = false;
                    diags.push(conflict(
                        &format!("{name}.{k}"),
                        v.span,
                        prev.span,
                        old.layer,
                        layer,
                        layers,
                    ));
                }
                Some(_) => {}
                None => merged.push((k.clone(), v.clone())),
            }
        }
        if ok {
            old.replace(
                Value::new(V::Record(Rc::new(merged)), value.span),
                layer,
                span,
            );
        }
        return;
    }
    if is_override {
        old.replace(value, layer, span);
        return;
    }
    diags.push(conflict(name, span, old.span, old.layer, layer, layers));
}

/// `+=` on a field that is not a list.
pub(crate) fn not_a_list(name: &str, span: Span, help: String) -> Diagnostic {
    Diagnostic::at(
        Code::E0209,
        span,
        format!("`+=` appends to lists; `{name}` is not a list"),
        "not a list",
    )
    .with_help(help)
}

/// E0211: a value given a second time, with both places.
pub(crate) fn set_twice(message: &str, here: Span, first: Span, help: &str) -> Diagnostic {
    Diagnostic::at(Code::E0211, here, message, "set again here")
        .with_label(first, "first set here")
        .with_help(help)
}

/// A name declared a second time: a label on each declaration, or, when both come from
/// one declaration run twice by a loop, a note saying so.
pub(crate) fn declared_again(code: Code, here: Span, first: Span, message: String) -> Diagnostic {
    if here == first {
        return Diagnostic::at(code, here, message, "declared more than once here").with_note(
            "this declaration runs more than once (in a loop) and makes the same id each time",
        );
    }
    Diagnostic::at(code, here, message, "declared again here")
        .with_label(first, "first declared here")
}

pub(crate) fn conflict(
    name: &str,
    new: Span,
    old: Span,
    old_layer: Layer,
    new_layer: Layer,
    layers: &Layers,
) -> Diagnostic {
    let (old_name, new_name) = (layers.name(old_layer), layers.name(new_layer));
    let mut d = if old == new {
        // One line run by two layers: one mixin applied twice.
        Diagnostic::at(
            Code::E0212,
            new,
            format!("conflicting values for `{name}`"),
            "each use sets it here, differently",
        )
    } else {
        Diagnostic::at(
            Code::E0212,
            new,
            format!("conflicting values for `{name}`"),
            format!("{new_name} sets it here"),
        )
        .with_label(old, format!("{old_name} set it here"))
    };
    // A mixin's line is the same for every use: show where each was mixed in.
    let uses = [old_layer, new_layer].map(|l| layers.mixed_in(l));
    if let [Some((a, first)), Some((b, again))] = uses
        && a == b
    {
        d = d
            .with_label(first, format!("`{a}` is mixed in here"))
            .with_label(again, format!("`{b}` is mixed in again here"));
    } else {
        for (mixin, at) in uses.into_iter().flatten() {
            d = d.with_label(at, format!("`{mixin}` is mixed in here"));
        }
    }
    if old == new {
        return d.with_help("apply it once, or give both uses the same arguments");
    }
    d.with_help(format!(
        "write `override {}` if {new_name} should win, or remove one of them",
        match name.split_once('.') {
            Some((record, key)) => format!("{record} {{ {key} = ... }}"),
            None => format!("{name} = ..."),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagf_diag::FileId;

    fn list(items: Vec<V>) -> Value {
        let items = items.into_iter().map(|v| Value::new(v, at(0))).collect();
        Value::new(V::List(Rc::new(items)), at(0))
    }

    fn at(n: usize) -> Span {
        Span::new(FileId(0), n, n + 1)
    }

    fn text(s: &str) -> V {
        V::Str(Rc::from(s))
    }

    /// `+=` grows the one list it holds, finds each duplicate among a few candidates
    /// rather than the whole list, and adds one entry to the history.
    #[test]
    fn appending_works_in_place() {
        let mut slot = Slot::new("tags", list(vec![text("t0")]), Layer::Body, at(0));
        let held = |s: &Slot| match &s.value.v {
            V::List(items) => Rc::as_ptr(items),
            _ => std::ptr::null(),
        };
        let first = held(&slot);
        for i in 1..10_000usize {
            // Every item is new except the one a few lines back, which is dropped.
            let items = vec![text(&format!("t{i}")), text(&format!("t{}", i / 2))];
            assert!(slot.append(&list(items), Layer::Body, at(i)));
            assert_eq!(held(&slot), first, "the list was copied at {i}");
        }
        let V::List(items) = &slot.value.v else {
            panic!("not a list: {:?}", slot.value);
        };
        assert_eq!(items.len(), 10_000);
        assert_eq!(slot.history.len(), 9_999);
        assert_eq!(slot.span, at(9_999));
        let largest = slot.items.at.values().map(Vec::len).max();
        assert!(largest <= Some(2), "{largest:?} items share a hash");
    }

    /// Duplicates are what `Value::same` calls equal: an int and the float it equals,
    /// equal lists; a string and a pyref are not.
    #[test]
    fn appending_drops_what_same_calls_equal() {
        let mut slot = Slot::new(
            "xs",
            list(vec![V::Int(1), text("a"), V::Float(0.0)]),
            Layer::Body,
            at(0),
        );
        let more = list(vec![
            V::Float(1.0),
            V::PyRef(Rc::from("a")),
            V::Int(0),
            V::Float(-0.0),
            list(vec![V::Int(2)]).v,
            list(vec![V::Float(2.0)]).v,
            V::Float(f64::NAN),
        ]);
        assert!(slot.append(&more, Layer::Mixin(1), at(1)));
        let V::List(items) = &slot.value.v else {
            panic!("not a list: {:?}", slot.value);
        };
        let kinds: Vec<&str> = items.iter().map(Value::kind).collect();
        assert_eq!(kinds, ["int", "str", "float", "pyref", "list", "float"]);
        assert!(!slot.append(&Value::new(V::Int(3), at(2)), Layer::Body, at(2)));
    }
}
