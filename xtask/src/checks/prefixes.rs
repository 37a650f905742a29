//! `cargo xtask check-series`: every prefix of the series applies, builds and passes its own
//! tests, so that the series can be cut anywhere (bisected, proposed upstream a patch at a
//! time, or rebased one patch after another). For authors before a release, not for CI: it
//! builds Cargo and its testsuite once per patch, about a minute each on 2 cores (6 prefixes in
//! 7m21s) once the dependencies are built, which the first prefix does.
//!
//! On a scratch copy (`target/series-check/cargo/`): the pinned upstream, then each patch in
//! turn; after each, a debug build of Cargo and the testsuite modules that patch touches.
//! `cargo/` and `patches/` are never touched, nor the fork's target directory: the scratch copy
//! builds in `target/series-check/target/`. Cargo hashes a workspace's own packages by their
//! path inside the workspace, so in the fork's directory the scratch copy's crates would be the
//! fork's units, and file times would decide whose build is fresh: a prefix's Cargo could be
//! left there for the fork's next testsuite run.

use std::time::Instant;

use anyhow::{Result, bail};
use support::libtest::Counts;
use support::pin::Pin;
use support::process::{cargo, step};
use support::workspace::{Workspace, remove_dir_if_exists};

use super::testsuite::{self, Tested};
use crate::series::churn;
use crate::series::patch_file::{self, Patch};
use crate::series::stack::Stack;
use crate::upstream;

/// What one prefix gave: it ends with the patch `file_name`.
struct Row {
    file_name: String,
    applies: bool,
    builds: Option<bool>,
    tests: Tested,
    seconds: f64,
}

impl Row {
    fn passed(&self) -> bool {
        self.applies && self.builds == Some(true) && !matches!(self.tests, Tested::Fail(_))
    }
}

/// `cargo xtask check-series [--from N]`: the prefixes that end with patch N and later
/// (the earlier patches are applied, not checked).
pub fn check_series(ws: &Workspace, from: usize) -> Result<()> {
    let pin = Pin::load(ws)?;
    let series = patch_file::read_series(&ws.patches())?;
    if from == 0 || from > series.len() {
        bail!(
            "--from {from}: the series has patches 1 to {}",
            series.len()
        );
    }
    let root = ws.target().join("series-check");
    let source = root.join("cargo");
    let target_dir = root.join("target");
    remove_dir_if_exists(&source)?;
    let stack = Stack::import(&source, &upstream::fetch(ws, &pin)?)?;
    stack.apply(&series[..from - 1])?;

    let mut rows = Vec::new();
    for (i, patch) in series.iter().enumerate().skip(from - 1) {
        step(
            "Checking",
            format!(
                "[{}/{}] the series up to {}",
                i + 1,
                series.len(),
                patch.file_name
            ),
        );
        let start = Instant::now();
        let mut row = check_prefix(&stack, patch, &source, &target_dir);
        row.seconds = start.elapsed().as_secs_f64();
        let applies = row.applies;
        rows.push(row);
        if !applies {
            // No later prefix holds this one's changes: nothing more can be checked.
            break;
        }
    }

    // The rule that keeps the series the design as it stands, over the prefixes checked.
    let churned = if rows.iter().all(|r| r.applies) {
        churn::churn(&stack, &pin)?
    } else {
        Vec::new()
    };
    for line in &churned {
        step("Churn", line.to_string());
    }

    println!(
        "\n| prefix ends with | applies | builds | its tests | time |\n\
         | --- | --- | --- | --- | --- |"
    );
    for row in &rows {
        let yes_no = |ok: bool| if ok { "yes" } else { "no" };
        println!(
            "| {} | {} | {} | {} | {:.0} s |",
            row.file_name,
            yes_no(row.applies),
            row.builds.map_or("-", yes_no),
            row.tests,
            row.seconds
        );
    }
    let failed: Vec<_> = rows
        .iter()
        .filter(|r| !r.passed())
        .map(|r| r.file_name.as_str())
        .collect();
    if !failed.is_empty() {
        bail!(
            "the series cannot be cut after {} (the table above says why; \
             target/series-check/ holds the last prefix)",
            failed.join(", ")
        );
    }
    if !churned.is_empty() {
        bail!(
            "{} line(s) churned between patches (above): move each into the patch where it \
             takes its final form",
            churned.len()
        );
    }
    remove_dir_if_exists(&root)
}

/// Applies `patch` on the prefix before it, builds, and runs the testsuite modules it touches.
fn check_prefix(
    stack: &Stack,
    patch: &Patch,
    source: &std::path::Path,
    target_dir: &std::path::Path,
) -> Row {
    let mut row = Row {
        file_name: patch.file_name.clone(),
        applies: false,
        builds: None,
        tests: Tested::NotRun,
        seconds: 0.0,
    };
    if let Err(err) = stack.apply(std::slice::from_ref(patch)) {
        step("Failed", format!("{}: {err:#}", patch.file_name));
        return row;
    }
    row.applies = true;
    if let Err(err) = testsuite::build_cargo(source, target_dir, &cargo) {
        step("Failed", format!("{}: {err:#}", patch.file_name));
        row.builds = Some(false);
        return row;
    }
    row.builds = Some(true);
    let modules = testsuite::modules_touched_by(std::slice::from_ref(patch));
    if modules.is_empty() {
        // A patch without tests of its own (documentation, say): building is its check.
        return row;
    }
    let selected = |name: &str| modules.iter().any(|m| name.starts_with(&format!("{m}::")));
    let mut counts = Counts::default();
    let tested = testsuite::run_testsuite_of(source, target_dir, &cargo, &selected, &mut counts);
    row.tests = Tested::from(tested, counts);
    row
}
