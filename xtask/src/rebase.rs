//! Moving the series to another upstream release: `cargo xtask rebase --to VERSION` in
//! `cargo/`, and `cargo xtask check-upstream`, which does the same on scratch copies.
//!
//! The new release is committed on top of the old pristine commit (and tagged
//! `upstream-<version>`), then each patch commit is cherry-picked onto it: a three-way merge
//! whose base is the patch's parent, so a patch whose context moved still applies, and a real
//! conflict is left in the work tree with markers, as `git rebase` leaves it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use git2::{
    CherrypickOptions, Commit, Delta, DiffFindOptions, MergeOptions, Oid, Repository, ResetType,
};

use crate::crates_io::{self, Downloaded};
use crate::process::step;
use crate::stack::{self, Stack};
use crate::upstream::Pin;
use crate::workspace::{Workspace, remove_dir_if_exists};

/// How many changed files libgit2 examines for renames, in merges and diffs alike. Its default
/// is 200; a release that moves its sources (Cargo 0.100 moved 878 files) needs them all
/// examined, or every patch of a moved file becomes a modify/delete conflict.
const RENAME_LIMIT: u32 = 100_000;

/// Where a rebase that stopped at a conflict keeps its state, in `cargo/.git/`.
const STATE_FILE: &str = "xtask-rebase";

/// A rebase in progress.
#[derive(Debug, PartialEq)]
struct State {
    version: String,
    sha256: String,
    /// HEAD before the rebase: `--abort` goes back to it.
    original_head: Oid,
    /// The patch commit being resolved, and HEAD before it was picked.
    stopped_at: Option<(Oid, Oid)>,
    /// The patch commits still to pick, oldest first.
    remaining: Vec<Oid>,
}

impl State {
    fn path(repo: &Repository) -> std::path::PathBuf {
        repo.path().join(STATE_FILE)
    }

    fn load(repo: &Repository) -> Result<Option<State>> {
        let Ok(text) = fs::read_to_string(State::path(repo)) else {
            return Ok(None);
        };
        let doc: toml_edit::DocumentMut = text.parse()?;
        let string = |key: &str| -> Result<String> {
            doc.get(key)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
                .with_context(|| format!("{STATE_FILE}: no `{key}`"))
        };
        let oid = |key: &str| -> Result<Oid> { Ok(Oid::from_str(&string(key)?)?) };
        let stopped_at = match (doc.get("stopped_at"), doc.get("head_before")) {
            (Some(_), Some(_)) => Some((oid("stopped_at")?, oid("head_before")?)),
            _ => None,
        };
        let remaining = doc
            .get("remaining")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .map(|v| Ok(Oid::from_str(v.as_str().context("an oid")?)?))
            .collect::<Result<_>>()?;
        Ok(Some(State {
            version: string("version")?,
            sha256: string("sha256")?,
            original_head: oid("original_head")?,
            stopped_at,
            remaining,
        }))
    }

    fn save(&self, repo: &Repository) -> Result<()> {
        let mut doc = toml_edit::DocumentMut::new();
        doc["version"] = toml_edit::value(&self.version);
        doc["sha256"] = toml_edit::value(&self.sha256);
        doc["original_head"] = toml_edit::value(self.original_head.to_string());
        if let Some((commit, head_before)) = self.stopped_at {
            doc["stopped_at"] = toml_edit::value(commit.to_string());
            doc["head_before"] = toml_edit::value(head_before.to_string());
        }
        let mut remaining = toml_edit::Array::new();
        for oid in &self.remaining {
            remaining.push(oid.to_string());
        }
        doc["remaining"] = toml_edit::value(remaining);
        fs::write(State::path(repo), doc.to_string())?;
        Ok(())
    }

    fn clear(repo: &Repository) -> Result<()> {
        fs::remove_file(State::path(repo))?;
        Ok(())
    }
}

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

/// `cargo xtask rebase --to VERSION`.
pub fn start(ws: &Workspace, version: &str) -> Result<()> {
    let pin = Pin::load(ws)?;
    if pin.version.to_string() == version {
        bail!("the series is already on {} {version}", pin.krate);
    }
    // cargo/ must be exactly upstream plus the series; sync refuses to run over local work.
    stack::sync(ws)?;
    let stack = Stack::open(&ws.fork_source())?.context("cargo/ is missing after sync")?;
    if let Some(state) = State::load(&stack.repo)? {
        bail!(
            "a rebase to {} is already in progress in cargo/: finish it with \
             `cargo xtask rebase --continue`, or undo it with `cargo xtask rebase --abort`",
            state.version
        );
    }
    step(
        "Fetching",
        format!("{} {version} from crates.io", pin.krate),
    );
    let package = crates_io::fetch(ws, &pin.krate, version)?;
    step(
        "Verified",
        format!("{} (sha256 {})", package.package_dir(), package.sha256),
    );
    let patches = stack.patch_commits(&pin)?;
    let original_head = stack.head()?;
    let base = stack.upstream_commit(&pin)?.context("no upstream tag")?;
    let state = State {
        version: version.to_owned(),
        sha256: package.sha256.clone(),
        original_head,
        stopped_at: None,
        remaining: patches,
    };
    onto_new_upstream(&stack, base, &package)?;
    state.save(&stack.repo)?;
    proceed(ws, &stack, state)
}

/// Regenerates snapshots in cargo/, with the build cache of the fork.
fn regenerate_in_fork(ws: &Workspace) -> impl Fn(&[String]) -> Result<()> {
    move |modules: &[String]| {
        crate::harness::overwrite_snapshots(
            &ws.fork_source(),
            &ws.fork_target(),
            &crate::process::cargo,
            modules,
        )
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

/// `cargo xtask rebase --continue`: the conflict is resolved in cargo/ (committed or not).
pub fn resume(ws: &Workspace) -> Result<()> {
    let stack = open(ws)?;
    let mut state = State::load(&stack.repo)?.context(
        "no rebase is in progress in cargo/ (start one with `cargo xtask rebase --to VERSION`)",
    )?;
    if let Some((commit, head_before)) = state.stopped_at.take() {
        let conflicts = stack.conflicted_files()?;
        if !conflicts.is_empty() {
            bail!(
                "cargo/ still has conflicts in {}: resolve them (remove the markers and \
                 `git -C cargo add` the files), then run `cargo xtask rebase --continue` again",
                conflicts.join(", ")
            );
        }
        // The user may have committed the resolution; if not, commit the work tree as it is.
        if stack.head()? == head_before {
            stack.commit_work_tree_as(commit)?;
        }
        stack.repo.cleanup_state()?;
    }
    proceed(ws, &stack, state)
}

/// `cargo xtask rebase --abort`: cargo/ goes back to the series on the pinned version.
pub fn abort(ws: &Workspace) -> Result<()> {
    let stack = open(ws)?;
    let state = State::load(&stack.repo)?.context("no rebase is in progress in cargo/")?;
    stack.repo.cleanup_state()?;
    stack.repo.reset(
        &stack.repo.find_object(state.original_head, None)?,
        ResetType::Hard,
        None,
    )?;
    State::clear(&stack.repo)?;
    step(
        "Aborted",
        "cargo/ is back to the series on the pinned upstream",
    );
    Ok(())
}

fn open(ws: &Workspace) -> Result<Stack> {
    Stack::open(&ws.fork_source())?.context("there is no cargo/: run `cargo xtask sync` first")
}

/// Picks the remaining patches; stops at a conflict, or finishes: pin, refresh.
fn proceed(ws: &Workspace, stack: &Stack, mut state: State) -> Result<()> {
    match replay(stack, &mut state.remaining, &regenerate_in_fork(ws))? {
        Replay::Conflict { subject, files } => {
            let picked = state.remaining.remove(0);
            // `replay` left HEAD where it was before the conflicting pick.
            state.stopped_at = Some((picked, stack.head()?));
            state.save(&stack.repo)?;
            bail!(
                "patch `{subject}` conflicts with {} {} in: {}\n\
                 cargo/ holds the new upstream, the patches before it, and this one with \
                 conflict markers.\n\
                 Resolve the conflicts in cargo/ (`git -C cargo diff` shows them), then \
                 `git -C cargo add` the files (or commit them with the patch's message), and \
                 run `cargo xtask rebase --continue`.\n\
                 `cargo xtask rebase --abort` puts cargo/ back as it was.",
                Pin::load(ws)?.krate,
                state.version,
                files.join(", ")
            );
        }
        Replay::Stranded { subject, files } => {
            let picked = state.remaining.remove(0);
            state.stopped_at = Some((picked, stack.head()?));
            state.save(&stack.repo)?;
            let moves: Vec<String> = files
                .iter()
                .map(|f| {
                    let name = f.file.file_name().unwrap_or_default();
                    match &f.moved_to {
                        Some(to) => format!(
                            "  git -C cargo mv {} {}",
                            f.file.display(),
                            to.join(name).display()
                        ),
                        None => format!(
                            "  git -C cargo mv {} <where that code went>",
                            f.file.display()
                        ),
                    }
                })
                .collect();
            bail!(
                "patch `{subject}` adds files in folders that {} {} no longer has: {}\n\
                 They are in cargo/ at their old paths, where no module refers to them.\n\
                 Move them, then fix their `use` paths:\n{}\n\
                 and run `cargo xtask rebase --continue` (the patch is committed with the \
                 work tree as it is). `cargo xtask rebase --abort` puts cargo/ back as it was.",
                Pin::load(ws)?.krate,
                state.version,
                files
                    .iter()
                    .map(Stranded::describe)
                    .collect::<Vec<_>>()
                    .join(", "),
                moves.join("\n")
            );
        }
        Replay::Done { dropped } => {
            for subject in dropped {
                step(
                    "Dropped",
                    format!("`{subject}`: upstream {} has it", state.version),
                );
            }
        }
    }
    State::clear(&stack.repo)?;
    let mut pin = Pin::load(ws)?;
    let old = pin.version.to_string();
    pin.version = state.version.parse()?;
    pin.sha256 = state.sha256.clone();
    pin.save(ws)?;
    step(
        "Pinned",
        format!(
            "{} {} (sha256 {}) in upstream.toml, was {old}",
            pin.krate, pin.version, pin.sha256
        ),
    );
    stack::refresh(ws)
}

/// Rewrites snapshot files of Cargo's testsuite in the source tree being rebased: runs the
/// named testsuite modules with `SNAPSHOTS=overwrite`.
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
            let modules = crate::harness::modules_of(&snapshots);
            step(
                "Regenerating",
                format!("snapshots of {} for `{subject}`", modules.join(", ")),
            );
            regenerate(&modules)
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
    fn commit_work_tree_as(&self, commit: Oid) -> Result<Option<Oid>> {
        let repo = &self.repo;
        let original = repo.find_commit(commit)?;
        let mut index = repo.index()?;
        index.update_all(["*"], None)?;
        index.write()?;
        let tree = repo.find_tree(index.write_tree()?)?;
        let head = repo.find_commit(self.head()?)?;
        if tree.id() == head.tree_id() {
            return Ok(None);
        }
        let committer = stack::signature(repo)?;
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
        let repo = &self.repo;
        let mut index = repo.index()?;
        index.update_all(["*"], None)?;
        index.write()?;
        let tree = repo.find_tree(index.write_tree()?)?;
        let head = repo.find_commit(self.head()?)?;
        head.amend(Some("HEAD"), None, None, None, None, Some(&tree))?;
        Ok(())
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

    fn conflicted_files(&self) -> Result<Vec<String>> {
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
    series: &[crate::patch_file::Patch],
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

    #[test]
    fn state_round_trips() {
        let dir = std::env::temp_dir().join(format!("xtask-rebase-state-{}", std::process::id()));
        let repo = Repository::init(&dir).unwrap();
        let a = Oid::from_str("1111111111111111111111111111111111111111").unwrap();
        let b = Oid::from_str("2222222222222222222222222222222222222222").unwrap();
        let state = State {
            version: "0.97.2".into(),
            sha256: "ab".into(),
            original_head: a,
            stopped_at: Some((b, a)),
            remaining: vec![b, a],
        };
        state.save(&repo).unwrap();
        assert_eq!(State::load(&repo).unwrap(), Some(state));
        State::clear(&repo).unwrap();
        assert_eq!(State::load(&repo).unwrap(), None);
        fs::remove_dir_all(dir).unwrap();
    }

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
