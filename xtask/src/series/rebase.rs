//! Moving the series to another upstream release in `cargo/`: `cargo xtask rebase --to
//! VERSION`, `--continue` after a conflict is resolved, `--abort`. Replaying the patches is
//! [`super::replay`]'s; this keeps the state of a rebase that stopped, and the pin.
//!
//! The new release is committed on top of the old pristine commit (and tagged
//! `upstream-<version>`), then each patch commit is cherry-picked onto it: a three-way merge
//! whose base is the patch's parent, so a patch whose context moved still applies, and a real
//! conflict is left in the work tree with markers, as `git rebase` leaves it.

use std::fs;

use anyhow::{Context, Result, bail};
use git2::{Oid, Repository, ResetType};
use support::pin::Pin;
use support::process::step;
use support::workspace::Workspace;

use super::replay::{Regenerate, Replay, Stranded, onto_new_upstream, replay};
use super::stack::Stack;
use super::sync;
use crate::upstream::crates_io;

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

/// `cargo xtask rebase --to VERSION`.
pub fn start(ws: &Workspace, version: &str, regenerate: Regenerate) -> Result<()> {
    let pin = Pin::load(ws)?;
    if pin.version.to_string() == version {
        bail!("the series is already on {} {version}", pin.krate);
    }
    // cargo/ must be exactly upstream plus the series; sync refuses to run over local work.
    sync::sync(ws)?;
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
    proceed(ws, &stack, state, regenerate)
}

/// `cargo xtask rebase --continue`: the conflict is resolved in cargo/ (committed or not).
pub fn resume(ws: &Workspace, regenerate: Regenerate) -> Result<()> {
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
    proceed(ws, &stack, state, regenerate)
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
fn proceed(ws: &Workspace, stack: &Stack, mut state: State, regenerate: Regenerate) -> Result<()> {
    match replay(stack, &mut state.remaining, regenerate)? {
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
    sync::refresh(ws)
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
}
