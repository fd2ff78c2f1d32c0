//! Choosing scenarios and targets by name (as commands are asked for them): every name is
//! checked, and an unknown one is an error that lists the known names.

use crate::{Corpus, Scenario, Target};

/// What kind of thing was asked for by a name the corpus does not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::Display)]
#[strum(serialize_all = "lowercase")]
pub enum NameKind {
    Scenario,
    Target,
}

/// A name the corpus does not have, with the names it does.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{name}`: no such {kind} (known: {})", known.join(", "))]
pub struct UnknownName {
    pub kind: NameKind,
    pub name: String,
    pub known: Vec<String>,
}

/// The items named (all without a name), in corpus order; the first unknown name is an error.
fn named<'a, T>(
    items: &'a [T],
    names: &[String],
    kind: NameKind,
    name_of: impl Fn(&T) -> &String,
) -> Result<Vec<&'a T>, UnknownName> {
    if let Some(unknown) = names
        .iter()
        .find(|name| !items.iter().any(|item| name_of(item) == *name))
    {
        return Err(UnknownName {
            kind,
            name: unknown.clone(),
            known: items.iter().map(|item| name_of(item).clone()).collect(),
        });
    }
    Ok(items
        .iter()
        .filter(|item| names.is_empty() || names.contains(name_of(item)))
        .collect())
}

impl Corpus {
    /// The scenarios named (all without a name), in corpus order.
    pub fn scenarios_named(&self, names: &[String]) -> Result<Vec<&Scenario>, UnknownName> {
        named(&self.scenarios, names, NameKind::Scenario, |s| &s.name)
    }

    /// The targets named (all without a name), in target order.
    pub fn targets_named(&self, names: &[String]) -> Result<Vec<&Target>, UnknownName> {
        named(&self.targets, names, NameKind::Target, |t| &t.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn named_items_keep_corpus_order_and_no_name_means_all() {
        let items = names(&["a", "b", "c"]);
        let chosen = named(&items, &names(&["c", "a"]), NameKind::Target, |s| s).unwrap();
        assert_eq!(chosen, [&items[0], &items[2]]);
        assert_eq!(
            named(&items, &[], NameKind::Target, |s| s).unwrap().len(),
            3
        );
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let items = names(&["a", "b"]);
        let error = named(&items, &names(&["a", "zz"]), NameKind::Scenario, |s| s).unwrap_err();
        assert_eq!(error.name, "zz");
        assert_eq!(error.to_string(), "`zz`: no such scenario (known: a, b)");
    }
}
