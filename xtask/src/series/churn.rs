//! The rule that keeps the series the design as it stands: no patch removes or rewrites a line
//! that an earlier patch added.
//!
//! A patch that takes back what an earlier one did is carried by every rebase twice (once in
//! each form), and teaches its reader a design that no longer exists. So every line a patch
//! removes must come from upstream Cargo: the superseded designs live in `docs/`, not in the
//! series. Checked on the commits of `cargo/` with `git blame`: each line a patch removes is
//! traced, in the commit before it, to the commit that last touched it.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;

use anyhow::{Context, Result};
use git2::{BlameOptions, DiffOptions, Oid};

use support::pin::Pin;

use super::stack::Stack;

/// A line that a patch removes though an earlier patch added it.
#[derive(Debug, PartialEq)]
pub struct Churn {
    pub file: PathBuf,
    /// The line as the earlier patch wrote it.
    pub line: String,
    /// Patch numbers, from 1.
    pub added_by: usize,
    pub removed_by: usize,
}

impl fmt::Display for Churn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "patch {} removes a line of {} that patch {} added: {}",
            self.removed_by,
            self.file.display(),
            self.added_by,
            self.line.trim_end()
        )
    }
}

/// Every line that a patch of the stack removes though an earlier patch added it, in the order
/// of the patches.
pub fn churn(stack: &Stack, pin: &Pin) -> Result<Vec<Churn>> {
    let repo = &stack.repo;
    let commits = stack.patch_commits(pin)?;
    let patch_number: HashMap<Oid, usize> = commits
        .iter()
        .enumerate()
        .map(|(index, oid)| (*oid, index + 1))
        .collect();
    let mut found = Vec::new();
    for (index, oid) in commits.iter().enumerate() {
        let commit = repo.find_commit(*oid)?;
        let parent = commit.parent(0)?;
        let diff = repo.diff_tree_to_tree(
            Some(&parent.tree()?),
            Some(&commit.tree()?),
            Some(DiffOptions::new().context_lines(0)),
        )?;
        // The lines it removes, by file: their numbers in the parent, and their text.
        let mut removed: BTreeMap<PathBuf, Vec<(usize, String)>> = BTreeMap::new();
        diff.foreach(
            &mut |_, _| true,
            None,
            None,
            Some(&mut |delta, _, line| {
                if let (Some(path), Some(number)) = (delta.old_file().path(), line.old_lineno())
                    && line.origin() == '-'
                {
                    removed.entry(path.to_path_buf()).or_default().push((
                        number as usize,
                        String::from_utf8_lossy(line.content()).into_owned(),
                    ));
                }
                true
            }),
        )?;
        for (file, lines) in removed {
            let blame = repo
                .blame_file(&file, Some(BlameOptions::new().newest_commit(parent.id())))
                .with_context(|| {
                    format!("blaming {} before patch {}", file.display(), index + 1)
                })?;
            for (number, line) in lines {
                let added_by = blame
                    .get_line(number)
                    .and_then(|hunk| patch_number.get(&hunk.final_commit_id()).copied());
                if let Some(added_by) = added_by {
                    found.push(Churn {
                        file: file.clone(),
                        line,
                        added_by,
                        removed_by: index + 1,
                    });
                }
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use git2::{IndexAddOption, Repository, RepositoryInitOptions};

    use super::*;
    use crate::series::stack::signature;

    fn commit_all(repo: &Repository, message: &str) -> Oid {
        let mut index = repo.index().unwrap();
        index.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = signature(repo).unwrap();
        let parents: Vec<_> = repo
            .head()
            .ok()
            .map(|head| head.peel_to_commit().unwrap())
            .into_iter()
            .collect();
        let parents: Vec<_> = parents.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .unwrap()
    }

    /// A stack of upstream `lib.rs` and one commit per given version of it.
    fn stack_of(dir: &Path, versions: &[&str]) -> (Stack, Pin) {
        let repo =
            Repository::init_opts(dir, RepositoryInitOptions::new().initial_head("main")).unwrap();
        fs::write(dir.join("lib.rs"), "one\ntwo\nthree\n").unwrap();
        let upstream = commit_all(&repo, "upstream");
        let pin = Pin {
            krate: "cargo".into(),
            version: "0.96.0".parse().unwrap(),
            sha256: String::new(),
        };
        repo.tag_lightweight(
            &pin.tag(),
            &repo.find_object(upstream, None).unwrap(),
            false,
        )
        .unwrap();
        for (n, version) in versions.iter().enumerate() {
            fs::write(dir.join("lib.rs"), version).unwrap();
            commit_all(&repo, &format!("patch {}", n + 1));
        }
        (Stack { repo }, pin)
    }

    #[test]
    fn patches_that_add_and_change_upstream_lines_do_not_churn() {
        let dir = tempfile::tempdir().unwrap();
        let (stack, pin) = stack_of(
            dir.path(),
            &["one\nadded\ntwo\nthree\n", "one\nadded\nTWO\nthree\nmore\n"],
        );
        assert_eq!(churn(&stack, &pin).unwrap(), []);
    }

    #[test]
    fn a_patch_that_rewrites_a_line_an_earlier_patch_added_churns() {
        let dir = tempfile::tempdir().unwrap();
        let (stack, pin) = stack_of(
            dir.path(),
            &["one\nadded\ntwo\nthree\n", "one\nrewritten\ntwo\nthree\n"],
        );
        let found = churn(&stack, &pin).unwrap();
        assert_eq!(
            found,
            [Churn {
                file: "lib.rs".into(),
                line: "added\n".into(),
                added_by: 1,
                removed_by: 2,
            }]
        );
        assert_eq!(
            found[0].to_string(),
            "patch 2 removes a line of lib.rs that patch 1 added: added"
        );
    }
}
