//! Replaying the patch commits onto a newer upstream release, as `git rebase` would: the new
//! release is committed on top of the old pristine commit, then each patch is cherry-picked,
//! a three-way merge whose base is the patch's parent. Used by `cargo xtask rebase` in
//! `cargo/` and by `cargo xtask check-upstream` on scratch copies.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use git2::{CherrypickOptions, Commit, Delta, DiffFindOptions, MergeOptions, Oid, ResetType, Tree};
use support::process::step;
use support::workspace::remove_dir_if_exists;

use super::patch_file::Patch;
use super::stack::{Stack, signature};
use crate::upstream::Downloaded;

/// How many changed files libgit2 examines for renames, in merges and diffs alike. Its default
/// is 200; a release that moves its sources (Cargo 0.100 moved 878 files) needs them all
/// examined, or every patch of a moved file becomes a modify/delete conflict.
const RENAME_LIMIT: u32 = 100_000;

/// What replaying the series stopped on.
pub enum Replay {
    /// Every patch applied (the subjects of those that became empty, upstream having the same
    /// change, were dropped).
    Done { dropped: Vec<String> },
    /// The patch `subject` conflicts in `files`; the work tree holds the conflict markers.
    Conflict { subject: String, files: Vec<String> },
    /// The patch `subject` adds files in folders that the new upstream no longer has. They
    /// were picked at their old paths, where nothing refers to them any more.
    Stranded {
        subject: String,
        files: Vec<Stranded>,
    },
}

/// A file that a patch adds in a folder the new upstream moved or removed.
pub struct Stranded {
    pub file: PathBuf,
    /// Where most of the folder's files went, when rename detection finds them.
    pub moved_to: Option<PathBuf>,
}

impl Stranded {
    /// "src/a/new.rs (upstream moved src/a/ to src/b/)".
    pub fn describe(&self) -> String {
        let folder = self.file.parent().unwrap_or(Path::new(""));
        match &self.moved_to {
            Some(to) => format!(
                "{} (upstream moved {}/ to {}/)",
                self.file.display(),
                folder.display(),
                to.display()
            ),
            None => format!(
                "{} (upstream removed {}/)",
                self.file.display(),
                folder.display()
            ),
        }
    }
}

/// Puts the pristine `package` on top of the old pristine commit `base`.
pub fn onto_new_upstream(stack: &Stack, base: Oid, package: &Downloaded) -> Result<Oid> {
    stack
        .repo
        .reset(&stack.repo.find_object(base, None)?, ResetType::Hard, None)?;
    step(
        "Importing",
        format!("{} on top of the old upstream", package.package_dir()),
    );
    stack.commit_upstream(package, Some(base))
}

/// Writes snapshot files of Cargo's testsuite again from the patched Cargo in the source tree
/// being rebased, given their paths in it (`tests/testsuite/cargo_build/help/stdout.term.svg`).
/// Running the testsuite is the checks' business: the caller passes it in.
pub type Regenerate<'a> = &'a dyn Fn(&[String]) -> Result<()>;

/// Cherry-picks `remaining` (oldest first) onto HEAD, removing each picked commit from it.
/// Stops at the first conflict and leaves it, with markers, in the work tree.
///
/// A conflict confined to snapshot files of Cargo's testsuite (the `--help` pictures, which
/// shift every line below an added option) is not a real one: those files are generated.
/// They are taken from the new upstream, the patch is committed, and `regenerate` writes
/// them again from the patched Cargo, into the same commit.
pub fn replay(stack: &Stack, remaining: &mut Vec<Oid>, regenerate: Regenerate) -> Result<Replay> {
    let repo = &stack.repo;
    let mut dropped = Vec::new();
    while let Some(&oid) = remaining.first() {
        let commit = repo.find_commit(oid)?;
        let subject = commit.summary().unwrap_or_default().to_owned();
        let mut merge = MergeOptions::new();
        merge.find_renames(true).target_limit(RENAME_LIMIT);
        repo.cherrypick(&commit, Some(CherrypickOptions::new().merge_opts(merge)))
            .with_context(|| format!("cherry-picking `{subject}`"))?;
        let files = stack.conflicted_files()?;
        let (snapshots, others): (Vec<_>, Vec<_>) =
            files.into_iter().partition(|f| is_generated_snapshot(f));
        if !others.is_empty() {
            return Ok(Replay::Conflict {
                subject,
                files: others,
            });
        }
        let stranded = stack.stranded_additions(&commit)?;
        if !stranded.is_empty() {
            return Ok(Replay::Stranded {
                subject,
                files: stranded,
            });
        }
        stack.take_from_head(&snapshots)?;
        let picked = stack.commit_work_tree_as(oid)?;
        repo.cleanup_state()?;
        if !snapshots.is_empty() {
            step(
                "Regenerating",
                format!("{} snapshot file(s) for `{subject}`", snapshots.len()),
            );
            regenerate(&snapshots)
                .with_context(|| format!("regenerating the snapshots of `{subject}`"))?;
            stack.amend_with_work_tree()?;
        }
        if picked.is_none() {
            dropped.push(subject.clone());
        }
        remaining.remove(0);
        step("Applied", &subject);
    }
    Ok(Replay::Done { dropped })
}

/// A snapshot that Cargo's testsuite writes itself (`SNAPSHOTS=overwrite`), such as
/// `tests/testsuite/cargo_build/help/stdout.term.svg`.
fn is_generated_snapshot(path: &str) -> bool {
    path.starts_with("tests/testsuite/") && path.ends_with(".term.svg")
}

impl Stack {
    /// Commits the index and work tree (tracked files) with the message and author of `commit`.
    /// Returns `None`, and commits nothing, when that changes nothing.
    pub(super) fn commit_work_tree_as(&self, commit: Oid) -> Result<Option<Oid>> {
        let repo = &self.repo;
        let original = repo.find_commit(commit)?;
        let (tree, head) = self.staged_work_tree()?;
        if tree.id() == head.tree_id() {
            return Ok(None);
        }
        let committer = signature(repo)?;
        let message = original
            .message()
            .context("a commit message that is not UTF-8")?;
        Ok(Some(repo.commit(
            Some("HEAD"),
            &original.author(),
            &committer,
            message,
            &tree,
            &[&head],
        )?))
    }

    /// Resolves `files` to their version in HEAD (deleted where HEAD has none).
    fn take_from_head(&self, files: &[String]) -> Result<()> {
        if files.is_empty() {
            return Ok(());
        }
        let repo = &self.repo;
        let workdir = repo.workdir().context("cargo/ has no work tree")?;
        let head = repo.head()?.peel_to_tree()?;
        let mut index = repo.index()?;
        for file in files {
            let path = Path::new(file);
            match head.get_path(path) {
                Ok(entry) => {
                    fs::write(workdir.join(path), repo.find_blob(entry.id())?.content())?;
                    index.add_path(path)?;
                }
                Err(_) => {
                    let _ = fs::remove_file(workdir.join(path));
                    index.remove_path(path)?;
                }
            }
        }
        index.write()?;
        Ok(())
    }

    /// Folds the changes of the work tree (tracked files) into HEAD.
    fn amend_with_work_tree(&self) -> Result<()> {
        let (tree, head) = self.staged_work_tree()?;
        head.amend(Some("HEAD"), None, None, None, None, Some(&tree))?;
        Ok(())
    }

    /// Stages the work tree's tracked files: their tree, and HEAD's commit.
    fn staged_work_tree(&self) -> Result<(Tree<'_>, Commit<'_>)> {
        let repo = &self.repo;
        let mut index = repo.index()?;
        index.update_all(["*"], None)?;
        index.write()?;
        let tree = repo.find_tree(index.write_tree()?)?;
        let head = repo.find_commit(self.head()?)?;
        Ok((tree, head))
    }

    /// The files that `commit` adds in a folder that its parent has and HEAD has not: a
    /// three-way merge puts them back at their old paths, without a conflict. libgit2 has no
    /// directory-rename detection, so this finds where the folder went: the folder that most
    /// of its files were renamed into between the patch's parent and HEAD.
    fn stranded_additions(&self, commit: &Commit<'_>) -> Result<Vec<Stranded>> {
        let repo = &self.repo;
        let parent = commit.parent(0)?.tree()?;
        let head = repo.find_commit(self.head()?)?.tree()?;
        let added = repo.diff_tree_to_tree(Some(&parent), Some(&commit.tree()?), None)?;
        let mut stranded: Vec<Stranded> = added
            .deltas()
            .filter(|d| d.status() == Delta::Added)
            .filter_map(|d| d.new_file().path().map(Path::to_path_buf))
            .filter(|file| {
                file.parent().is_some_and(|folder| {
                    !folder.as_os_str().is_empty()
                        && parent.get_path(folder).is_ok()
                        && head.get_path(folder).is_err()
                })
            })
            .map(|file| Stranded {
                file,
                moved_to: None,
            })
            .collect();
        if stranded.is_empty() {
            return Ok(stranded);
        }
        let mut moves = repo.diff_tree_to_tree(Some(&parent), Some(&head), None)?;
        moves.find_similar(Some(
            DiffFindOptions::new()
                .renames(true)
                .rename_limit(RENAME_LIMIT as usize),
        ))?;
        for item in &mut stranded {
            let folder = item.file.parent().expect("filtered above");
            let mut votes: BTreeMap<PathBuf, usize> = BTreeMap::new();
            for delta in moves.deltas().filter(|d| d.status() == Delta::Renamed) {
                let (Some(old), Some(new)) = (delta.old_file().path(), delta.new_file().path())
                else {
                    continue;
                };
                let Ok(rest) = old.strip_prefix(folder) else {
                    continue;
                };
                // `a/x/y.rs` -> `b/x/y.rs` votes for `b`.
                let mut target = new.to_path_buf();
                for _ in rest.components() {
                    target.pop();
                }
                if target.join(rest) == new {
                    *votes.entry(target).or_default() += 1;
                }
            }
            item.moved_to = votes.into_iter().max_by_key(|(_, n)| *n).map(|(f, _)| f);
        }
        Ok(stranded)
    }

    pub(super) fn conflicted_files(&self) -> Result<Vec<String>> {
        let index = self.repo.index()?;
        if !index.has_conflicts() {
            return Ok(Vec::new());
        }
        let mut files = Vec::new();
        for conflict in index.conflicts()? {
            let conflict = conflict?;
            let entry = conflict.our.or(conflict.their).or(conflict.ancestor);
            if let Some(entry) = entry {
                files.push(String::from_utf8_lossy(&entry.path).into_owned());
            }
        }
        files.sort();
        files.dedup();
        Ok(files)
    }
}

/// For the scratch copies of `check-upstream`: a repository in `dir` holding the series on
/// the pinned upstream (as `sync` makes it), then moved onto `package`.
pub fn replay_on_scratch(
    pin_package: &Downloaded,
    series: &[Patch],
    package: &Downloaded,
    dir: &Path,
    regenerate: Regenerate,
) -> Result<Replay> {
    remove_dir_if_exists(dir)?;
    let stack = Stack::import(dir, pin_package)?;
    stack.apply(series)?;
    let base = stack
        .tagged_upstream(&pin_package.version)?
        .context("the scratch copy has no upstream tag")?;
    let mut patches = stack.commits_since(base)?;
    if package.version == pin_package.version {
        return Ok(Replay::Done {
            dropped: Vec::new(),
        });
    }
    onto_new_upstream(&stack, base, package)?;
    replay(&stack, &mut patches, regenerate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use git2::Repository;

    /// Commits `files` (path, contents; `None` deletes) on top of `parent`, or as a root.
    fn commit(repo: &Repository, parent: Option<Oid>, files: &[(&str, Option<&str>)]) -> Oid {
        let workdir = repo.workdir().unwrap();
        let mut index = repo.index().unwrap();
        if let Some(parent) = parent {
            index
                .read_tree(&repo.find_commit(parent).unwrap().tree().unwrap())
                .unwrap();
        }
        for (path, contents) in files {
            match contents {
                Some(text) => {
                    let file = workdir.join(path);
                    fs::create_dir_all(file.parent().unwrap()).unwrap();
                    fs::write(file, text).unwrap();
                    index.add_path(Path::new(path)).unwrap();
                }
                None => index.remove_path(Path::new(path)).unwrap(),
            }
        }
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("t", "t@example.com").unwrap();
        let parents: Vec<_> = parent
            .map(|p| repo.find_commit(p).unwrap())
            .into_iter()
            .collect();
        let parents: Vec<_> = parents.iter().collect();
        repo.commit(None, &sig, &sig, "c", &tree, &parents).unwrap()
    }

    #[test]
    fn a_file_added_in_a_folder_upstream_moved_is_stranded_with_the_new_folder() {
        let dir = std::env::temp_dir().join(format!("xtask-rebase-moved-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let repo = Repository::init(&dir).unwrap();
        let module = "pub fn compile() {}\n".repeat(20);
        let units = "pub struct Unit;\n".repeat(20);
        let old = commit(
            &repo,
            None,
            &[
                ("src/core/compiler/mod.rs", Some(&module)),
                ("src/core/compiler/unit.rs", Some(&units)),
            ],
        );
        let patch = commit(
            &repo,
            Some(old),
            &[(
                "src/core/compiler/dynamic.rs",
                Some("pub fn dynamic() {}\n"),
            )],
        );
        let new = commit(
            &repo,
            Some(old),
            &[
                ("src/core/compiler/mod.rs", None),
                ("src/core/compiler/unit.rs", None),
                ("src/compiler/mod.rs", Some(&module)),
                ("src/compiler/unit.rs", Some(&units)),
            ],
        );
        repo.set_head_detached(new).unwrap();
        let stack = Stack { repo };

        let patch = stack.repo.find_commit(patch).unwrap();
        let stranded = stack.stranded_additions(&patch).unwrap();
        let described: Vec<_> = stranded.iter().map(Stranded::describe).collect();
        assert_eq!(
            described,
            ["src/core/compiler/dynamic.rs (upstream moved src/core/compiler/ to src/compiler/)"]
        );

        // On the old upstream, the same patch strands nothing.
        stack.repo.set_head_detached(old).unwrap();
        assert!(stack.stranded_additions(&patch).unwrap().is_empty());
        fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn help_pictures_are_generated_snapshots() {
    assert!(is_generated_snapshot(
        "tests/testsuite/cargo_build/help/stdout.term.svg"
    ));
    assert!(!is_generated_snapshot("tests/testsuite/profile_dynamic.rs"));
    assert!(!is_generated_snapshot(
        "src/doc/man/generated_txt/cargo-build.txt"
    ));
}
