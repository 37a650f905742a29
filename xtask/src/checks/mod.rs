//! What tells us the fork is right, and how fast it is. Everything here builds the fork first
//! ([`crate::toolchain`]) and changes nothing of the series.
//!
//! - `cargo xtask test` (this module): the patch tests and the upstream modules they could
//!   break, the end-to-end tests, and the quick compat subset, with one closing tally;
//! - [`testsuite`]: upstream Cargo's own testsuite, run on a patched source;
//! - [`compat`]: published crates' own test suites, under `dev` and `--dynamic`;
//! - [`bench`]: `--dynamic` against `dev`, measured side by side;
//! - [`replay`]: real edits of a real workspace, then random ones, each built under both
//!   profiles and compared;
//! - [`releases`]: `check-upstream`, the series replayed onto later Cargo releases;
//! - [`prefixes`]: `check-series`, every prefix of the series built and tested on its own;
//! - [`whole_testsuite`]: `test --upstream-all`, all of Cargo's testsuite, fork against pristine.

pub mod bench;
pub mod compat;
pub mod prefixes;
pub mod releases;
pub mod replay;
pub mod testsuite;
pub mod whole_testsuite;

use anyhow::{Context, Result, bail};
use support::fork::TOOLCHAIN_VAR;
use support::libtest::Counts;
use support::pin::Pin;
use support::process::{cargo, step};
use support::workspace::Workspace;

use crate::series::stack::Stack;
use crate::series::{churn, patch_file};
use crate::toolchain;

/// `cargo xtask test`.
pub fn test(ws: &Workspace, with_upstream: bool) -> Result<()> {
    let fork = toolchain::build(ws)?;
    no_churn(ws)?;

    let series = patch_file::read_series(&ws.patches())?;
    let modules = testsuite::modules_touched_by(&series);
    let selected = |name: &str| {
        modules
            .iter()
            .any(|module| name.starts_with(&format!("{module}::")))
            || (with_upstream && testsuite::is_upstream_regression_test(name))
    };
    let mut counts = Counts::default();
    let result = testsuite::run_testsuite_of(
        &ws.fork_source(),
        &ws.fork_target(),
        &cargo,
        &selected,
        &mut counts,
    )
    .and_then(|()| {
        step(
            "Testing",
            "our crates: xtask, support and the end-to-end tests (tests/)",
        );
        testsuite::run_counted(
            cargo()
                .current_dir(ws.root())
                .args(["test", "--locked", "--workspace"])
                .env(TOOLCHAIN_VAR, fork.toolchain()),
            &mut counts,
        )
        .context("end-to-end or xtask tests failed (see above)")?;
        // The quick subset of published crates: their own suites, dev against dynamic.
        let quick = compat::list::select(&compat::list::load(ws)?, &[], true)?;
        step(
            "Testing",
            format!(
                "{} published crates under `dev` and `dynamic` (compat/crates.toml)",
                quick.len()
            ),
        );
        compat::run_entries(ws, &fork, &quick)
    });
    // One closing line over every harness, for people and for CI alike.
    println!(
        "xtask: {} passed, {} failed, {} skipped",
        counts.passed, counts.failed, counts.ignored
    );
    result
}

/// Writes snapshot files of `cargo/` again from the patched Cargo there, with the fork's build
/// cache: what `cargo xtask rebase` does with a `--help` picture a patch changes.
pub fn regenerate_in_fork(ws: &Workspace) -> impl Fn(&[String]) -> Result<()> {
    move |snapshots: &[String]| {
        testsuite::overwrite_snapshots(&ws.fork_source(), &ws.fork_target(), &cargo, snapshots)
    }
}

/// Fails when a patch of the series removes or rewrites a line that an earlier patch added
/// (see [`churn`]), on the commits `toolchain::build` just synced into `cargo/`.
pub fn no_churn(ws: &Workspace) -> Result<()> {
    step(
        "Checking",
        "that no patch removes a line an earlier patch added",
    );
    let stack = Stack::open(&ws.fork_source())?.context("cargo/ is not synced")?;
    let churned = churn::churn(&stack, &Pin::load(ws)?)?;
    if !churned.is_empty() {
        let lines: Vec<String> = churned.iter().map(|c| format!("  {c}")).collect();
        bail!(
            "{} line(s) churned between patches:\n{}\nMove each line into the patch where it \
             takes its final form (see CONTRIBUTING.md).",
            churned.len(),
            lines.join("\n")
        );
    }
    Ok(())
}
