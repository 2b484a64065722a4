//! Typed indexes into the program's tables and a DAG builder's: a `FactoryId` reads
//! `prog.factories` and a `TaskId` `DagB::tasks`, and nothing else, so an index of one
//! table cannot be used for another.

use std::marker::PhantomData;

/// An index into one table.
pub trait Id: Copy {
    /// The id of the table's `i`-th entry.
    fn from_index(i: usize) -> Self;
    /// The position it stands for.
    fn index(self) -> usize;
}

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(
            Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
        )]
        pub struct $name(usize);

        impl Id for $name {
            fn from_index(i: usize) -> Self {
                $name(i)
            }

            fn index(self) -> usize {
                self.0
            }
        }
    )*};
}

ids! {
    /// A loaded file: `Program::modules`.
    ModuleId;
    /// `Program::operators`.
    OperatorId;
    /// `Program::factories`.
    FactoryId;
    /// `Program::templates`.
    TemplateId;
    /// `Program::callbacks`.
    CallbackId;
    /// `Program::mixins`.
    MixinId;
    /// A declared type: `Program::types`.
    TypeId;
    /// `Program::assets`.
    AssetId;
    /// A tenant kind (`tenant Customer { ... }`): `Program::tenants`.
    KindId;
    /// One tenant (`Customer acme { ... }`): `Program::instances`.
    InstanceId;
    /// A config source: `Program::sources`.
    SourceId;
    /// `Program::profiles`.
    ProfileId;
    /// A top-level pool: `Program::pools`.
    PoolId;
    /// A task of the DAG being built: `DagB::tasks`.
    TaskId;
    /// A task group of the DAG being built: `DagB::groups`.
    GroupId;
}

/// A table whose entries are read by one kind of id.
#[derive(Clone, Debug)]
pub struct IdVec<I, T> {
    items: Vec<T>,
    id: PhantomData<fn(I) -> I>,
}

impl<I: Id, T> IdVec<I, T> {
    /// A table of `n` copies of `value`, one per id of another table that long.
    pub fn filled(n: usize, value: T) -> Self
    where
        T: Clone,
    {
        vec![value; n].into_iter().collect()
    }

    /// Adds an entry, returning its id.
    pub fn push(&mut self, item: T) -> I {
        self.items.push(item);
        I::from_index(self.items.len() - 1)
    }

    /// The id the next entry pushed will get.
    pub fn next_id(&self) -> I {
        I::from_index(self.items.len())
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn get(&self, id: I) -> Option<&T> {
        self.items.get(id.index())
    }

    /// The entry `id` reads, to change, if the table has one.
    pub fn get_mut(&mut self, id: I) -> Option<&mut T> {
        self.items.get_mut(id.index())
    }

    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    /// Every id, in order.
    pub fn ids(&self) -> impl DoubleEndedIterator<Item = I> + use<I, T> {
        (0..self.items.len()).map(I::from_index)
    }

    /// Every entry with its id, in order.
    pub fn enumerate(&self) -> impl DoubleEndedIterator<Item = (I, &T)> {
        self.items
            .iter()
            .enumerate()
            .map(|(i, x)| (I::from_index(i), x))
    }
}

impl<I, T> Default for IdVec<I, T> {
    fn default() -> Self {
        IdVec {
            items: Vec::new(),
            id: PhantomData,
        }
    }
}

impl<I: Id, T> std::ops::Index<I> for IdVec<I, T> {
    type Output = T;

    fn index(&self, id: I) -> &T {
        &self.items[id.index()]
    }
}

impl<I: Id, T> std::ops::IndexMut<I> for IdVec<I, T> {
    fn index_mut(&mut self, id: I) -> &mut T {
        &mut self.items[id.index()]
    }
}

impl<I, T> FromIterator<T> for IdVec<I, T> {
    fn from_iter<It: IntoIterator<Item = T>>(items: It) -> Self {
        IdVec {
            items: items.into_iter().collect(),
            id: PhantomData,
        }
    }
}

impl<'a, I, T> IntoIterator for &'a IdVec<I, T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_the_entries_they_were_given_for() {
        let mut t: IdVec<FactoryId, &str> = IdVec::default();
        let a = t.push("a");
        let b = t.push("b");
        assert_eq!((t[a], t[b]), ("a", "b"));
        assert_eq!(t.ids().collect::<Vec<_>>(), vec![a, b]);
        assert_eq!(
            t.enumerate().map(|(i, x)| (i, *x)).next_back(),
            Some((b, "b"))
        );
        assert_eq!(t.get(FactoryId::from_index(2)), None);
    }
}
