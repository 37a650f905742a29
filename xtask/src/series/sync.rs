//! `cargo xtask sync` and `cargo xtask refresh`: keeping `cargo/` (the stack of commits) and
//! `patches/` (the files) in step, both ways, without ever losing work that exists only in
//! `cargo/`.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use git2::{Diff, ResetType};
use support::pin::Pin;
use support::process::step;
use support::workspace::Workspace;

use super::churn;
use super::patch_file::{self, Patch};
use super::stack::{SYNCED_REF, Stack, series_digest};
use crate::upstream::{self, Downloaded};

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
        step("Resetting", format!("cargo/ to `{}`", pin.tag()));
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
    let package = upstream::fetch(ws, &pin)?;
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

fn create(ws: &Workspace, pin: &Pin, series: &[Patch], dir: &Path) -> Result<()> {
    let package = upstream::fetch(ws, pin)?;
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
    for line in churn::churn(&stack, &pin)? {
        step("Churn", line.to_string());
    }
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
    use git2::{IndexAddOption, Repository};

    use crate::series::stack::signature;

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

#[cfg(test)]
mod readme {
    use super::*;

    /// `1720` as the README writes it: `1,720`.
    fn with_thousands(n: usize) -> String {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(digit);
        }
        out
    }

    /// The README's "Size of the series" is what `refresh` counts, not a number kept by hand.
    #[test]
    fn the_readme_states_the_size_of_the_series() {
        let ws = Workspace::locate();
        let series = patch_file::read_series(&ws.patches()).unwrap();
        let size = SeriesSize::of(&series).unwrap();
        let readme = fs::read_to_string(ws.root().join("README.md")).unwrap();
        let (added, removed) = size.source;
        let source = format!(
            "change {} lines of Cargo's source ({} added, {} removed;",
            with_thousands(added + removed),
            with_thousands(added),
            with_thousands(removed)
        );
        let tests = format!(
            "{} lines of its testsuite",
            with_thousands(size.tests.0 + size.tests.1)
        );
        for quoted in [source, tests] {
            assert!(
                readme.replace('\n', " ").contains(&quoted),
                "README.md's \"Size of the series\" should say `{quoted}` (from `cargo xtask refresh`)"
            );
        }
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(with_thousands(7), "7");
        assert_eq!(with_thousands(1720), "1,720");
        assert_eq!(with_thousands(123456), "123,456");
    }
}
