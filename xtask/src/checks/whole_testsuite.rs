//! `cargo xtask test --upstream-all`: upstream Cargo's whole testsuite on the fork, compared
//! test by test with the same run on the pristine package. Not for CI: about 45 minutes per
//! run on 2 cores, two runs.
//!
//! The published package lacks some fixture folders its tests read, so a few hundred tests fail
//! on pristine upstream too. Running both on the same machine with the same command makes
//! those known, not guessed: what matters is every test that passes on pristine upstream and
//! does not pass on the fork. Both are built in the fork's target directory, as
//! `check-series` builds its prefixes: the pristine copy's crates are other packages there.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use support::libtest::{Outcome, test_line};
use support::pin::Pin;
use support::process::{cargo, run_merged, step, tail};
use support::workspace::{Workspace, remove_dir_if_exists};

use super::testsuite::testsuite_command;
use crate::series::stack::Stack;
use crate::series::sync;
use crate::upstream;

/// Every test's outcome in one run of the testsuite.
type Outcomes = BTreeMap<String, Outcome>;

/// `cargo xtask test --upstream-all [FILTER]`: FILTER, as libtest takes it, narrows both runs
/// to the tests whose name contains it.
pub fn test_upstream_all(ws: &Workspace, filter: Option<&str>) -> Result<()> {
    // Cargo's testsuite builds the debug Cargo it runs: `cargo/` needs to be in step with the
    // series, not the release toolchain built.
    sync::sync(ws)?;
    // The pristine package as `cargo/` is made, a git repository, so that both run alike.
    let pristine = ws.target().join("upstream-all").join("cargo");
    remove_dir_if_exists(&pristine)?;
    let pin = Pin::load(ws)?;
    Stack::import(&pristine, &upstream::fetch(ws, &pin)?)?;

    let mut runs = Vec::new();
    for (label, source) in [("pristine", &pristine), ("the fork", &ws.fork_source())] {
        step(
            "Testing",
            format!("Cargo's whole testsuite on {label} (about 45 minutes)"),
        );
        let mut cmd = testsuite_command(source, &ws.fork_target(), &cargo);
        cmd.args(["--no-fail-fast", "--"]).args(filter);
        let output = run_merged(cmd)?;
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
        remove_dir_if_exists(&ws.fork_target().join("tmp").join("cit"))?;
        runs.push(outcomes);
    }
    let (fork, pristine_outcomes) = (runs.pop().unwrap(), runs.pop().unwrap());
    remove_dir_if_exists(&pristine)?;

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
