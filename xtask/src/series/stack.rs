//! The patch stack in `cargo/`: a git repository whose first commit is the pristine upstream
//! package (tagged `upstream-<version>`) and whose next commits are the patches of
//! `patches/series`, one commit each.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use git2::{
    ApplyLocation, Diff, DiffFormat, DiffOptions, DiffStatsFormat, IndexAddOption, Oid, Repository,
    RepositoryInitOptions, Signature, Status, StatusOptions,
};
use sha2::{Digest, Sha256};

use support::pin::Pin;
use support::process::step;

use super::patch_file::{self, Patch};
use crate::upstream::{Downloaded, crates_io};

/// Points at the commit that `cargo/` had after the last sync or refresh: commits above it
/// are work not yet exported to `patches/`.
pub(super) const SYNCED_REF: &str = "refs/xtask/synced";
/// Beside it, in `.git/`, the digest of the series that commit was made from.
const SYNCED_SERIES_FILE: &str = "xtask-synced-series";
/// Lines of context around each change, as `git diff` and `patch` expect.
const CONTEXT_LINES: u32 = 3;

pub struct Stack {
    pub(super) repo: Repository,
}

impl Stack {
    /// Opens `cargo/`; `None` when it does not exist yet.
    pub fn open(dir: &Path) -> Result<Option<Stack>> {
        if !dir.exists() {
            return Ok(None);
        }
        let not_ours = || {
            format!(
                "{} exists but was not made by `cargo xtask sync` (no git repository with an \
                 `upstream-*` tag). Move it away, then run the command again.",
                dir.display()
            )
        };
        let repo = Repository::open(dir).with_context(not_ours)?;
        if repo.tag_names(Some("upstream-*"))?.is_empty() {
            bail!(not_ours());
        }
        Ok(Some(Stack { repo }))
    }

    /// Unpacks the upstream package into the empty folder `dir` and commits it, untouched.
    pub fn import(dir: &Path, package: &Downloaded) -> Result<Stack> {
        fs::create_dir_all(dir)?;
        let repo = Repository::init_opts(dir, RepositoryInitOptions::new().initial_head("main"))
            .with_context(|| format!("creating a git repository in {}", dir.display()))?;
        // A build inside cargo/ (`cargo test` there by hand) must not show up as a change.
        fs::write(repo.path().join("info").join("exclude"), "/target\n")?;
        let stack = Stack { repo };
        stack.commit_upstream(package, None)?;
        Ok(stack)
    }

    /// Makes the work tree exactly the upstream `package` and commits it on `parent` (none for
    /// the first commit), tagged `upstream-<version>`. The work tree must hold no changes.
    pub(crate) fn commit_upstream(&self, package: &Downloaded, parent: Option<Oid>) -> Result<Oid> {
        let repo = &self.repo;
        let workdir = repo.workdir().context("cargo/ has no work tree")?;
        let mut index = repo.index()?;
        for entry in index.iter() {
            let path = workdir.join(String::from_utf8_lossy(&entry.path).as_ref());
            if path.exists() {
                fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            }
        }
        package.unpack(workdir)?;
        index.clear()?;
        // FORCE: upstream's .gitignore ignores Cargo.lock, which the package ships and the
        // fork's `--locked` build needs. A `target/` left by a build by hand stays out.
        index.add_all(
            ["*"],
            IndexAddOption::FORCE,
            Some(&mut |path: &Path, _: &[u8]| i32::from(path.starts_with("target"))),
        )?;
        index.write()?;
        let tree = repo.find_tree(index.write_tree()?)?;
        let message = format!(
            "Import {} from crates.io\n\nThe published package, unchanged; sha256 {}.\n",
            package.package_dir(),
            package.sha256
        );
        let sig = signature(repo)?;
        let parents = parent.map(|p| repo.find_commit(p)).transpose()?;
        let commit = repo.commit(
            Some("HEAD"),
            &sig,
            &sig,
            &message,
            &tree,
            &parents.iter().collect::<Vec<_>>(),
        )?;
        repo.tag_lightweight(
            &format!("upstream-{}", package.version),
            &repo.find_object(commit, None)?,
            true,
        )?;
        Ok(commit)
    }

    /// The pristine upstream commit for `pin`, if `cargo/` was made from that version.
    pub(crate) fn upstream_commit(&self, pin: &Pin) -> Result<Option<Oid>> {
        self.tagged_upstream(&pin.version.to_string())
    }

    /// The pristine commit of upstream `version` (tag `upstream-<version>`), if there is one.
    pub(crate) fn tagged_upstream(&self, version: &str) -> Result<Option<Oid>> {
        match self
            .repo
            .revparse_single(&format!("refs/tags/upstream-{version}"))
        {
            Ok(object) => Ok(Some(object.peel_to_commit()?.id())),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) fn head(&self) -> Result<Oid> {
        Ok(self.repo.head()?.peel_to_commit()?.id())
    }

    /// Files changed in the work tree and not committed (ignored files excepted).
    pub fn uncommitted_changes(&self) -> Result<Vec<String>> {
        let mut options = StatusOptions::new();
        options.include_untracked(true).include_ignored(false);
        let statuses = self.repo.statuses(Some(&mut options))?;
        Ok(statuses
            .iter()
            .filter(|s| s.status() != Status::CURRENT)
            .filter_map(|s| s.path().map(str::to_owned))
            .collect())
    }

    pub(super) fn synced_state(&self) -> (Option<Oid>, Option<String>) {
        let head = self.repo.refname_to_id(SYNCED_REF).ok();
        let series = fs::read_to_string(self.repo.path().join(SYNCED_SERIES_FILE)).ok();
        (head, series)
    }

    pub(super) fn mark_synced(&self, series: &[Patch]) -> Result<()> {
        self.repo.reference(
            SYNCED_REF,
            self.head()?,
            true,
            "xtask: in step with patches/",
        )?;
        fs::write(
            self.repo.path().join(SYNCED_SERIES_FILE),
            series_digest(series),
        )?;
        Ok(())
    }

    /// The commits above the pristine upstream commit of `pin`, oldest first.
    pub(crate) fn patch_commits(&self, pin: &Pin) -> Result<Vec<Oid>> {
        let base = self.upstream_commit(pin)?.with_context(|| {
            format!(
                "cargo/ has no `{}` tag: it was made from another version",
                pin.tag()
            )
        })?;
        self.commits_since(base)
    }

    /// The commits from `base` (excluded) to HEAD, oldest first: a straight line.
    pub(crate) fn commits_since(&self, base: Oid) -> Result<Vec<Oid>> {
        let mut commits = Vec::new();
        let mut commit = self.repo.find_commit(self.head()?)?;
        while commit.id() != base {
            if commit.parent_count() != 1 {
                bail!(
                    "commit {} in cargo/ is not a plain commit above {base:.9}: the stack must \
                     be a straight line of commits above the upstream tag",
                    commit.id()
                );
            }
            let parent = commit.parent(0)?;
            commits.push(commit.id());
            commit = parent;
        }
        commits.reverse();
        Ok(commits)
    }

    /// The commits above upstream, oldest first, as patches.
    pub fn export(&self, pin: &Pin) -> Result<Vec<Patch>> {
        let commits = self
            .patch_commits(pin)?
            .into_iter()
            .map(|oid| self.repo.find_commit(oid))
            .collect::<Result<Vec<_>, _>>()?;
        commits
            .iter()
            .enumerate()
            .map(|(i, commit)| {
                let (subject, fields) =
                    Patch::split_commit_message(commit.message().unwrap_or_default());
                let diff = self.repo.diff_tree_to_tree(
                    Some(&commit.parent(0)?.tree()?),
                    Some(&commit.tree()?),
                    Some(
                        DiffOptions::new()
                            .context_lines(CONTEXT_LINES)
                            .show_binary(true),
                    ),
                )?;
                Ok(Patch {
                    file_name: patch_file::file_name(i + 1, &subject),
                    stat: diff_stat(&diff)?,
                    diff: diff_text(&diff)?,
                    subject,
                    fields,
                })
            })
            .collect()
    }

    /// Applies each patch as a commit on top of HEAD.
    pub(crate) fn apply(&self, patches: &[Patch]) -> Result<()> {
        let sig = signature(&self.repo)?;
        for (i, patch) in patches.iter().enumerate() {
            let diff = Diff::from_buffer(patch.diff.as_bytes())
                .with_context(|| format!("patches/{} is not a valid diff", patch.file_name))?;
            self.repo
                .apply(&diff, ApplyLocation::Both, None)
                .with_context(|| {
                    format!(
                        "patches/{} does not apply. cargo/ now holds upstream and the {i} \
                         patch(es) before it: apply the rest by hand (`git -C cargo apply -3 \
                         ../patches/{}`), resolve, commit, then `cargo xtask refresh`",
                        patch.file_name, patch.file_name
                    )
                })?;
            let mut index = self.repo.index()?;
            let tree = self.repo.find_tree(index.write_tree()?)?;
            let parent = self.repo.find_commit(self.head()?)?;
            self.repo.commit(
                Some("HEAD"),
                &sig,
                &sig,
                &patch.commit_message(),
                &tree,
                &[&parent],
            )?;
            step("Applied", &patch.file_name);
        }
        Ok(())
    }
}

pub(super) fn signature(repo: &Repository) -> Result<Signature<'static>> {
    Ok(repo
        .signature()
        .or_else(|_| Signature::now("cargo-dynamic xtask", "xtask@localhost"))?)
}

fn diff_text(diff: &Diff<'_>) -> Result<String> {
    let mut text = Vec::new();
    diff.print(DiffFormat::Patch, |_, _, line| {
        if matches!(line.origin(), '+' | '-' | ' ') {
            text.push(line.origin() as u8);
        }
        text.extend_from_slice(line.content());
        true
    })?;
    String::from_utf8(text).context("a patch touches a file that is not UTF-8")
}

fn diff_stat(diff: &Diff<'_>) -> Result<String> {
    let buf = diff.stats()?.to_buf(DiffStatsFormat::FULL, 80)?;
    Ok(buf.as_str().unwrap_or_default().trim_end().to_owned())
}

pub(super) fn series_digest(series: &[Patch]) -> String {
    let mut hasher = Sha256::new();
    for patch in series {
        hasher.update(patch.render());
    }
    crates_io::hex(&hasher.finalize())
}
