//! The patch stack in `cargo/`: a git repository whose first commit is the pristine upstream
//! package (tagged `upstream-<version>`) and whose next commits are the patches of
//! `patches/series`, one commit each.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use git2::{
    ApplyLocation, Diff, DiffFormat, DiffOptions, DiffStatsFormat, IndexAddOption, Oid, Repository,
    RepositoryInitOptions, ResetType, Signature, Status, StatusOptions,
};
use sha2::{Digest, Sha256};

use crate::crates_io::{self, Downloaded};
use crate::patch_file::{self, Patch};
use crate::process::step;
use crate::upstream::{self, Pin};
use crate::workspace::Workspace;

/// Points at the commit that `cargo/` had after the last sync or refresh: commits above it
/// are work not yet exported to `patches/`.
const SYNCED_REF: &str = "refs/xtask/synced";
/// Beside it, in `.git/`, the digest of the series that commit was made from.
const SYNCED_SERIES_FILE: &str = "xtask-synced-series";
/// Lines of context around each change, as `git diff` and `patch` expect.
const CONTEXT_LINES: u32 = 3;

pub struct Stack {
    pub(crate) repo: Repository,
}

fn upstream_tag(pin: &Pin) -> String {
    format!("upstream-{}", pin.version)
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

    fn synced_state(&self) -> (Option<Oid>, Option<String>) {
        let head = self.repo.refname_to_id(SYNCED_REF).ok();
        let series = fs::read_to_string(self.repo.path().join(SYNCED_SERIES_FILE)).ok();
        (head, series)
    }

    fn mark_synced(&self, series: &[Patch]) -> Result<()> {
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
                upstream_tag(pin)
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

pub(crate) fn signature(repo: &Repository) -> Result<Signature<'static>> {
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

fn series_digest(series: &[Patch]) -> String {
    let mut hasher = Sha256::new();
    for patch in series {
        hasher.update(patch.render());
    }
    crates_io::hex(&hasher.finalize())
}

/// Patches compare by what they do, not by their file names or diffstat.
fn same_series(a: &[Patch], b: &[Patch]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(a, b)| (&a.subject, &a.fields, &a.diff) == (&b.subject, &b.fields, &b.diff))
}

/// `cargo xtask sync`: makes `cargo/` upstream plus `patches/series`, without ever dropping
/// work that exists only in `cargo/`.
pub fn sync(ws: &Workspace) -> Result<()> {
    let pin = Pin::load(ws)?;
    let series = patch_file::read_series(&ws.patches())?;
    let dir = ws.fork_source();

    let Some(stack) = Stack::open(&dir)? else {
        return create(ws, &pin, &series, &dir);
    };
    let (changes, untouched) = local_work(&stack)?;
    let (_, synced_series) = stack.synced_state();

    if untouched && synced_series.as_deref() == Some(series_digest(&series).as_str()) {
        if stack.upstream_commit(&pin)?.is_some() {
            step("Fresh", "cargo/ is upstream plus patches/series");
            return Ok(());
        }
    }
    if let Some(base) = stack.upstream_commit(&pin)? {
        let exported = stack.export(&pin)?;
        if same_series(&exported, &series) {
            if !changes.is_empty() {
                step(
                    "Note",
                    format!(
                        "cargo/ has {} uncommitted change(s); they reach patches/ once \
                         committed there and exported with `cargo xtask refresh`",
                        changes.len()
                    ),
                );
            }
            stack.mark_synced(&series)?;
            step("Fresh", "cargo/ is upstream plus patches/series");
            return Ok(());
        }
        refuse_if_local_work(&stack, &changes, untouched)?;
        step("Resetting", format!("cargo/ to `{}`", upstream_tag(&pin)));
        let object = stack.repo.find_object(base, None)?;
        stack.repo.reset(&object, ResetType::Hard, None)?;
        stack.apply(&series)?;
        stack.mark_synced(&series)?;
        return Ok(());
    }

    // cargo/ was made from another upstream version than the pin says.
    // The new package is fetched and verified before the old cargo/ goes, so that a failure
    // leaves cargo/ as it was.
    refuse_if_local_work(&stack, &changes, untouched)?;
    let package = fetch(ws, &pin)?;
    drop(stack);
    step("Removing", "cargo/, made from another upstream version");
    fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    create_from(&pin, &series, &dir, &package)
}

/// What `cargo/` holds that `patches/` may not: its uncommitted changes, and whether its HEAD
/// is still the one the last sync or refresh left (`untouched`).
fn local_work(stack: &Stack) -> Result<(Vec<String>, bool)> {
    let changes = stack.uncommitted_changes()?;
    let (synced_head, _) = stack.synced_state();
    let untouched = changes.is_empty() && synced_head == Some(stack.head()?);
    Ok((changes, untouched))
}

fn refuse_if_local_work(stack: &Stack, changes: &[String], untouched: bool) -> Result<()> {
    if !changes.is_empty() {
        bail!(
            "cargo/ has uncommitted changes ({}{}), which syncing would lose.\n\
             Commit them in cargo/ and export them with `cargo xtask refresh`, or drop them \
             with `git -C cargo stash`; then run the command again. Nothing was changed.",
            changes
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            if changes.len() > 3 { ", ..." } else { "" }
        );
    }
    if !untouched {
        let head = stack.head()?;
        bail!(
            "cargo/ has commits that are not in patches/ (HEAD is {head:.9}), which syncing \
             would lose.\n\
             Export them with `cargo xtask refresh`, or drop them with \
             `git -C cargo reset --hard {SYNCED_REF}`; then run the command again. \
             Nothing was changed."
        );
    }
    Ok(())
}

fn fetch(ws: &Workspace, pin: &Pin) -> Result<Downloaded> {
    step(
        "Fetching",
        format!("{} {} from crates.io", pin.krate, pin.version),
    );
    upstream::fetch(ws, pin)
}

fn create(ws: &Workspace, pin: &Pin, series: &[Patch], dir: &Path) -> Result<()> {
    let package = fetch(ws, pin)?;
    create_from(pin, series, dir, &package)
}

fn create_from(pin: &Pin, series: &[Patch], dir: &Path, package: &Downloaded) -> Result<()> {
    step(
        "Unpacking",
        format!("{} {} into cargo/", pin.krate, pin.version),
    );
    let stack = Stack::import(dir, package).inspect_err(|_| {
        // A half-made cargo/ would be refused by the next sync: leave nothing behind.
        let _ = fs::remove_dir_all(dir);
    })?;
    stack.apply(series)?;
    stack.mark_synced(series)?;
    Ok(())
}

/// `cargo xtask refresh`: writes the commits of `cargo/` above upstream to `patches/`.
pub fn refresh(ws: &Workspace) -> Result<()> {
    let pin = Pin::load(ws)?;
    let stack = Stack::open(&ws.fork_source())?
        .context("there is no cargo/ to export: run `cargo xtask sync` first")?;
    let changes = stack.uncommitted_changes()?;
    if !changes.is_empty() {
        step(
            "Warning",
            format!(
                "{} uncommitted change(s) in cargo/ are not exported: commit them first",
                changes.len()
            ),
        );
    }
    let patches = stack.export(&pin)?;
    patch_file::validate(&patches)?;
    patch_file::write_series(&ws.patches(), &patches)?;
    stack.mark_synced(&patches)?;
    let size = SeriesSize::of(&patches)?;
    step(
        "Exported",
        format!(
            "{} patch(es) to patches/, changing {} line(s) of Cargo's source (+{} -{}) \
             and {} of its tests (+{} -{})",
            patches.len(),
            size.source.0 + size.source.1,
            size.source.0,
            size.source.1,
            size.tests.0 + size.tests.1,
            size.tests.0,
            size.tests.1,
        ),
    );
    Ok(())
}

/// How much of upstream Cargo a series changes: lines (added, removed) in Cargo's source
/// (everything but its tests) and in its testsuite (`tests/`, snapshots included).
#[derive(Debug, Default, PartialEq)]
pub struct SeriesSize {
    pub source: (usize, usize),
    pub tests: (usize, usize),
}

impl SeriesSize {
    pub fn of(patches: &[Patch]) -> Result<SeriesSize> {
        let mut size = SeriesSize::default();
        for patch in patches {
            let diff = Diff::from_buffer(patch.diff.as_bytes())?;
            diff.foreach(
                &mut |_, _| true,
                None,
                None,
                Some(&mut |delta, _, line| {
                    let path = delta.new_file().path().or(delta.old_file().path());
                    let bucket = match path {
                        Some(p) if p.starts_with("tests") => &mut size.tests,
                        _ => &mut size.source,
                    };
                    match line.origin() {
                        '+' => bucket.0 += 1,
                        '-' => bucket.1 += 1,
                        _ => {}
                    }
                    true
                }),
            )?;
        }
        Ok(size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stack as `sync` leaves it: the upstream commit, tagged, and marked in step.
    fn synced_stack(dir: &Path) -> Stack {
        let repo = Repository::init(dir).unwrap();
        fs::write(dir.join("lib.rs"), "pub fn upstream() {}\n").unwrap();
        commit_all(&repo, "Import upstream");
        let head = repo.head().unwrap().peel_to_commit().unwrap();
        repo.tag_lightweight("upstream-0.0.0", head.as_object(), false)
            .unwrap();
        let stack = Stack::open(dir).unwrap().unwrap();
        stack.mark_synced(&[]).unwrap();
        stack
    }

    fn commit_all(repo: &Repository, message: &str) {
        let mut index = repo.index().unwrap();
        index.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = signature(repo).unwrap();
        let parent = repo.head().ok().map(|h| h.peel_to_commit().unwrap());
        repo.commit(
            Some("HEAD"),
            &sig,
            &sig,
            message,
            &tree,
            &parent.iter().collect::<Vec<_>>(),
        )
        .unwrap();
    }

    fn refusal(stack: &Stack) -> Option<String> {
        let (changes, untouched) = local_work(stack).unwrap();
        refuse_if_local_work(stack, &changes, untouched)
            .err()
            .map(|err| err.to_string())
    }

    #[test]
    fn sync_goes_on_over_a_stack_in_step_with_the_series() {
        let dir = tempfile::tempdir().unwrap();
        let stack = synced_stack(dir.path());
        assert_eq!(refusal(&stack), None);
    }

    #[test]
    fn sync_refuses_to_lose_uncommitted_changes() {
        let dir = tempfile::tempdir().unwrap();
        let stack = synced_stack(dir.path());
        fs::write(dir.path().join("lib.rs"), "pub fn edited() {}\n").unwrap();
        fs::write(dir.path().join("new.rs"), "").unwrap();
        let refused = refusal(&stack).expect("refused");
        assert!(
            refused.starts_with("cargo/ has uncommitted changes (lib.rs, new.rs)"),
            "{refused}"
        );
        assert!(refused.ends_with("Nothing was changed."), "{refused}");
        // And nothing was: the edit is still there.
        let kept = fs::read_to_string(dir.path().join("lib.rs")).unwrap();
        assert_eq!(kept, "pub fn edited() {}\n");
    }

    #[test]
    fn sync_refuses_to_lose_commits_not_yet_exported() {
        let dir = tempfile::tempdir().unwrap();
        let stack = synced_stack(dir.path());
        fs::write(dir.path().join("lib.rs"), "pub fn patched() {}\n").unwrap();
        commit_all(&stack.repo, "A patch not yet refreshed");
        let refused = refusal(&stack).expect("refused");
        assert!(
            refused.starts_with("cargo/ has commits that are not in patches/"),
            "{refused}"
        );
        assert!(
            refused.contains("Export them with `cargo xtask refresh`"),
            "{refused}"
        );
    }
}
