//! `cargo xtask test --upstream-all`: upstream Cargo's whole testsuite on the fork, compared
//! test by test with the same run on the pristine package. Not for CI: about 20 minutes per
//! run on 2 cores, building included, two runs.
//!
//! The published package lacks some fixture folders its tests read, so a few hundred tests fail
//! on pristine upstream too. Running both on the same machine with the same command makes
//! those known, not guessed: what matters is every test that passes on pristine upstream and
//! does not pass on the fork.
//!
//! The pristine copy is built in a target directory of its own. Cargo hashes a workspace's own
//! packages by their path inside the workspace, not by where the workspace is, so in a shared
//! target directory the pristine build and the fork's are the same units, and which one is
//! fresh is decided by file times: the fork's sources, older than the pristine build, were
//! taken as built, and the first run through this command tested pristine Cargo twice. Each
//! run also checks, from `cargo -V`, that the Cargo it built is the one it meant to test.

use std::collections::BTreeMap;
use std::process::Command;

use anyhow::{Result, bail};
use support::libtest::{Outcome, test_line};
use support::pin::Pin;
use support::process::{cargo, run_captured, run_merged, step, tail};
use support::workspace::{Workspace, remove_dir_if_exists};

use super::testsuite::testsuite_command;
use crate::series::stack::Stack;
use crate::series::sync;
use crate::upstream;

/// How `cargo -V` names the fork (patch 0001): `cargo 1.95.0 (cargo-dynamic 0.1.0, ...)`.
const FORK_NAME: &str = "(cargo-dynamic ";

/// Every test's outcome in one run of the testsuite.
type Outcomes = BTreeMap<String, Outcome>;

/// `cargo xtask test --upstream-all [FILTER]`: FILTER, as libtest takes it, narrows both runs
/// to the tests whose name contains it.
pub fn test_upstream_all(ws: &Workspace, filter: Option<&str>) -> Result<()> {
    // Cargo's testsuite builds the debug Cargo it runs: `cargo/` needs to be in step with the
    // series, not the release toolchain built.
    sync::sync(ws)?;
    // The pristine package as `cargo/` is made, a git repository, so that both run alike.
    let scratch = ws.target().join("upstream-all");
    let pristine = scratch.join("cargo");
    let pristine_target = scratch.join("target");
    remove_dir_if_exists(&scratch)?;
    let pin = Pin::load(ws)?;
    Stack::import(&pristine, &upstream::fetch(ws, &pin)?)?;

    let mut runs = Vec::new();
    for (label, source, target_dir, is_fork) in [
        ("pristine", &pristine, &pristine_target, false),
        ("the fork", &ws.fork_source(), &ws.fork_target(), true),
    ] {
        step(
            "Testing",
            format!("Cargo's whole testsuite on {label} (about 20 minutes)"),
        );
        let mut cmd = testsuite_command(source, target_dir, &cargo);
        cmd.args(["--no-fail-fast", "--"]).args(filter);
        let output = run_merged(cmd)?;
        let version = run_captured(Command::new(target_dir.join("debug").join("cargo")).arg("-V"))?;
        if version.contains(FORK_NAME) != is_fork {
            bail!(
                "the testsuite on {label} ran `{}`, which is not {label}: a stale build in {}",
                version.trim(),
                ws.display(target_dir)
            );
        }
        let outcomes: Outcomes = output
            .text
            .lines()
            .filter_map(test_line)
            .map(|(name, outcome)| (name.to_owned(), outcome))
            .collect();
        if outcomes.is_empty() {
            bail!(
                "Cargo's testsuite on {label} ran no test:\n{}",
                tail(&output.text, 30)
            );
        }
        // Every test leaves its project in `tmp/cit/`: gigabytes for the whole suite.
        remove_dir_if_exists(&target_dir.join("tmp").join("cit"))?;
        runs.push(outcomes);
    }
    let (fork, pristine_outcomes) = (runs.pop().unwrap(), runs.pop().unwrap());
    // The pristine build is gigabytes that nothing else uses.
    remove_dir_if_exists(&scratch)?;

    let count =
        |outcomes: &Outcomes, wanted: Outcome| outcomes.values().filter(|o| **o == wanted).count();
    println!("\n| testsuite on | passed | failed | ignored |\n| --- | --- | --- | --- |");
    for (label, outcomes) in [("pristine cargo", &pristine_outcomes), ("the fork", &fork)] {
        println!(
            "| {label} | {} | {} | {} |",
            count(outcomes, Outcome::Passed),
            count(outcomes, Outcome::Failed),
            count(outcomes, Outcome::Ignored)
        );
    }
    let regressions = regressions(&pristine_outcomes, &fork);
    println!(
        "\n{} test(s) pass on pristine upstream and not on the fork",
        regressions.len()
    );
    for (name, on_fork) in &regressions {
        println!("- `{name}`: {on_fork}");
    }
    if !regressions.is_empty() {
        bail!(
            "{} upstream test(s) regress on the fork (see above)",
            regressions.len()
        );
    }
    Ok(())
}

/// The tests that pass on `pristine` and do not on `fork`, with what they did there.
fn regressions(pristine: &Outcomes, fork: &Outcomes) -> Vec<(String, String)> {
    pristine
        .iter()
        .filter(|(_, outcome)| **outcome == Outcome::Passed)
        .filter_map(|(name, _)| match fork.get(name) {
            Some(Outcome::Passed) => None,
            Some(other) => Some((name.clone(), format!("{other:?}").to_lowercase())),
            None => Some((name.clone(), "missing".to_owned())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regression_passes_on_pristine_and_not_on_the_fork() {
        let outcomes = |list: &[(&str, Outcome)]| -> Outcomes {
            list.iter().map(|(n, o)| (n.to_string(), *o)).collect()
        };
        let pristine = outcomes(&[
            ("a", Outcome::Passed),
            ("b", Outcome::Passed),
            ("c", Outcome::Failed),
            ("d", Outcome::Passed),
        ]);
        let fork = outcomes(&[
            ("a", Outcome::Passed),
            ("b", Outcome::Failed),
            ("c", Outcome::Failed),
        ]);
        assert_eq!(
            regressions(&pristine, &fork),
            [
                ("b".to_owned(), "failed".to_owned()),
                ("d".to_owned(), "missing".to_owned())
            ]
        );
    }
}
