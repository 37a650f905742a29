//! `compat/crates.toml`: the published crates `cargo xtask compat` checks, why each is there,
//! and which of them a command line selects.

use anyhow::{Context, Result, bail};
use support::workspace::Workspace;

/// One entry of `compat/crates.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub name: String,
    pub version: String,
    /// Extra `cargo test` arguments, the same in both modes (features, test targets).
    pub args: Vec<String>,
    /// Other published packages (`name@version`) unpacked beside it and joined with it into
    /// one workspace, where they replace their crates.io versions (`[patch.crates-io]`).
    pub members: Vec<(String, String)>,
    /// Part of the quick subset that `cargo xtask test` runs.
    pub quick: bool,
}

impl Entry {
    pub fn label(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// Our lock file for it, relative to `compat/`.
    pub fn lock_file(&self) -> String {
        format!("locks/{}-{}.lock", self.name, self.version)
    }
}

/// Reads the pinned list.
pub fn load(ws: &Workspace) -> Result<Vec<Entry>> {
    let path = ws.compat_list();
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text).with_context(|| format!("in {}", path.display()))
}

fn parse(text: &str) -> Result<Vec<Entry>> {
    let doc: toml_edit::DocumentMut = text.parse()?;
    let tables = doc
        .get("crate")
        .and_then(|c| c.as_array_of_tables())
        .context("no `[[crate]]` entries")?;
    let mut entries = Vec::new();
    for table in tables {
        let string = |key: &str| table.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let strings = |key: &str| -> Vec<String> {
            table
                .get(key)
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        let name = string("name").context("an entry has no `name`")?;
        let version = string("version").with_context(|| format!("`{name}` has no `version`"))?;
        if string("why").is_none() {
            bail!("`{name}` does not say `why` it is on the list");
        }
        let members = strings("members")
            .iter()
            .map(|spec| parse_spec(spec))
            .collect::<Result<Vec<_>>>()?;
        let (name, version) = parse_spec(&format!("{name}@{version}"))?;
        entries.push(Entry {
            name,
            version: version.context("a version is required")?,
            args: strings("args"),
            members: members
                .into_iter()
                .map(|(n, v)| {
                    Ok((
                        n.clone(),
                        v.with_context(|| format!("member `{n}` needs @VERSION"))?,
                    ))
                })
                .collect::<Result<_>>()?,
            quick: table
                .get("quick")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
        });
    }
    Ok(entries)
}

/// `name@version` or `name`.
fn parse_spec(spec: &str) -> Result<(String, Option<String>)> {
    match spec.split_once('@') {
        Some((name, version)) => {
            semver::Version::parse(version)
                .with_context(|| format!("`{spec}`: `{version}` is not an exact version"))?;
            Ok((name.to_owned(), Some(version.to_owned())))
        }
        None if !spec.is_empty() => Ok((spec.to_owned(), None)),
        None => bail!("an empty crate name"),
    }
}

/// Which entries a command line selects: all of them, the quick subset, or those named
/// (`NAME` or `NAME@VERSION`). A `NAME@VERSION` not on the list runs with default settings.
pub fn select(list: &[Entry], specs: &[String], quick: bool) -> Result<Vec<Entry>> {
    if specs.is_empty() {
        return Ok(list.iter().filter(|e| e.quick || !quick).cloned().collect());
    }
    specs
        .iter()
        .map(|spec| {
            let (name, version) = parse_spec(spec)?;
            let listed = list
                .iter()
                .find(|e| e.name == name && version.as_ref().is_none_or(|v| *v == e.version));
            match (listed, version) {
                (Some(entry), _) => Ok(entry.clone()),
                (None, Some(version)) => Ok(Entry {
                    name,
                    version,
                    args: Vec::new(),
                    members: Vec::new(),
                    quick: false,
                }),
                (None, None) => bail!(
                    "`{name}` is not in compat/crates.toml: name a version too (`{name}@1.2.3`)"
                ),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_needs_a_reason_per_crate() {
        let err = parse("[[crate]]\nname = \"itoa\"\nversion = \"1.0.19\"\n").unwrap_err();
        assert!(err.to_string().contains("why"), "{err}");
        let list = parse(
            "[[crate]]\nname = \"serde_json\"\nversion = \"1.0.1\"\nwhy = \"x\"\n\
             members = [\"serde@1.0.2\"]\nquick = true\n",
        )
        .unwrap();
        assert_eq!(list[0].members, [("serde".to_owned(), "1.0.2".to_owned())]);
        assert!(list[0].quick);
    }

    #[test]
    fn names_select_entries_and_unknown_versions_run_with_defaults() {
        let list = parse(
            "[[crate]]\nname = \"itoa\"\nversion = \"1.0.19\"\nwhy = \"x\"\nquick = true\n\
             [[crate]]\nname = \"tokio\"\nversion = \"1.54.1\"\nwhy = \"y\"\nargs = [\"--features\", \"full\"]\n",
        )
        .unwrap();
        assert_eq!(select(&list, &[], true).unwrap().len(), 1);
        assert_eq!(select(&list, &[], false).unwrap().len(), 2);
        assert_eq!(
            select(&list, &["tokio".into()], false).unwrap()[0].args,
            ["--features", "full"]
        );
        assert!(
            select(&list, &["semver@1.0.28".into()], false).unwrap()[0]
                .args
                .is_empty()
        );
        assert!(select(&list, &["semver".into()], false).is_err());
    }
}
