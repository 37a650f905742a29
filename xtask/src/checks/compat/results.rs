//! The differences between the runs of a suite under `dev` and under `--dynamic` (each run
//! read by `test_output`).
//!
//! Each mode runs the suite several times ([`RUNS_PER_MODE`]): a test that fails one time in
//! three (seen on a suite that counts allocations) must not pass for equal. A test is a
//! difference when `--dynamic` shows an outcome `dev` never showed, or when `dev` is steady and
//! `--dynamic` is not; a test that varies under `dev` and shows nothing new under `--dynamic`
//! is flaky in both, reported apart.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::Duration;

use support::libtest::Outcome;
use support::process::tail;

use super::test_output::TestResults;

/// How many times each mode runs a suite.
pub const RUNS_PER_MODE: usize = 3;

/// How many more times each mode runs the test binary of a test that differed.
pub const RERUNS: usize = 10;

/// One mode's build and test runs of a crate.
pub struct ModeRun {
    pub build_time: Duration,
    /// The tail of the build's output, when `cargo test --no-run` failed.
    pub build_error: Option<String>,
    /// One per run of the suite; none when the build failed.
    pub runs: Vec<TestResults>,
    /// More runs of single tests that differed: (binary, test) to their outcomes.
    pub reruns: BTreeMap<(String, String), Vec<Option<Outcome>>>,
}

impl ModeRun {
    /// How many tests ended with `outcome`, in the first run.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.runs.first().map_or(0, |run| run.count(outcome))
    }

    /// The tests that failed in every run.
    pub fn always_failing(&self) -> Vec<String> {
        let Some(first) = self.runs.first() else {
            return Vec::new();
        };
        first
            .binaries
            .values()
            .flat_map(|b| b.outcomes.iter())
            .filter(|(_, o)| **o == Outcome::Failed)
            .map(|(name, _)| name.clone())
            .filter(|name| {
                self.runs.iter().all(|run| {
                    run.binaries
                        .values()
                        .any(|b| b.outcomes.get(name) == Some(&Outcome::Failed))
                })
            })
            .collect()
    }
}

/// One difference between the modes.
#[derive(Debug)]
pub struct Difference {
    /// The test binary's key (empty for the crate as a whole).
    pub binary: String,
    /// The test, for a difference in one test.
    pub test: Option<String>,
    /// What differs, with the output that explains it.
    pub text: String,
}

/// What comparing the two modes found.
#[derive(Debug, Default)]
pub struct Comparison {
    /// These fail the check.
    pub differences: Vec<Difference>,
    /// Tests whose outcome varies from run to run under `dev` as much as under `--dynamic`.
    pub flaky_in_both: Vec<String>,
}

/// What a test binary did in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum BinaryRun {
    Missing,
    /// No `test result:` line: it died, or it is a `harness = false` test.
    Unfinished,
    Finished,
}

/// How the runs of one thing (a test, a test binary) compare between the modes.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// The same in every run of both modes.
    Same,
    /// It varies under `dev`, and `--dynamic` shows nothing `dev` did not.
    FlakyInBoth,
    /// `--dynamic` shows something `dev` never did, or varies where `dev` is steady.
    Differs,
}

fn classify<T: Ord>(dev: &[T], dynamic: &[T]) -> Verdict {
    let (seen_dev, seen_dynamic): (BTreeSet<&T>, BTreeSet<&T>) =
        (dev.iter().collect(), dynamic.iter().collect());
    if seen_dev.len() == 1 && seen_dev == seen_dynamic {
        Verdict::Same
    } else if seen_dev.len() > 1 && seen_dynamic.is_subset(&seen_dev) {
        Verdict::FlakyInBoth
    } else {
        Verdict::Differs
    }
}

impl ModeRun {
    /// The outcome of `test` in each run, reruns included (`None` where it did not run).
    pub fn outcomes_of(&self, binary: &str, test: &str) -> Vec<Option<Outcome>> {
        let mut outcomes: Vec<Option<Outcome>> = self
            .runs
            .iter()
            .map(|run| run.binaries.get(binary)?.outcomes.get(test).copied())
            .collect();
        if let Some(reruns) = self.reruns.get(&(binary.to_owned(), test.to_owned())) {
            outcomes.extend(reruns);
        }
        outcomes
    }

    fn binary_runs(&self, binary: &str) -> Vec<BinaryRun> {
        self.runs
            .iter()
            .map(|run| match run.binaries.get(binary) {
                None => BinaryRun::Missing,
                Some(b) if b.finished => BinaryRun::Finished,
                Some(_) => BinaryRun::Unfinished,
            })
            .collect()
    }

    fn failure_output(&self, binary: &str, test: &str) -> Option<&String> {
        self.runs
            .iter()
            .find_map(|r| r.binaries.get(binary)?.failure_output.get(test))
    }
}

/// "passed", or "passed 2, failed 1 of 3 runs" when the runs disagree.
fn show<T: Ord + std::fmt::Debug>(runs: &[T]) -> String {
    // `Some(Passed)` reads "passed", `None` (not run) "missing".
    let name = |o: &T| match format!("{o:?}").to_lowercase().as_str() {
        "none" => "missing".to_owned(),
        other => other
            .trim_start_matches("some(")
            .trim_end_matches(')')
            .to_owned(),
    };
    let distinct: BTreeSet<&T> = runs.iter().collect();
    if distinct.len() == 1 {
        return name(&runs[0]);
    }
    let parts: Vec<String> = distinct
        .iter()
        .map(|o| format!("{} {}", name(o), runs.iter().filter(|x| x == o).count()))
        .collect();
    format!("{} of {} runs", parts.join(", "), runs.len())
}

/// Every difference between the two modes, with the output that explains it, and the tests
/// flaky in both.
pub fn compare(dev: &ModeRun, dynamic: &ModeRun) -> Comparison {
    let mut found = Comparison::default();
    let whole_crate = |text: String| Difference {
        binary: String::new(),
        test: None,
        text,
    };
    match (&dev.build_error, &dynamic.build_error) {
        (None, Some(error)) => {
            found.differences.push(whole_crate(format!(
                "builds under `dev` but not under `dynamic`:\n{error}"
            )));
            return found;
        }
        (Some(_), None) => {
            found.differences.push(whole_crate(
                "builds under `dynamic` but not under `dev`".to_owned(),
            ));
            return found;
        }
        (Some(_), Some(_)) => return found,
        (None, None) => {}
    }
    let all_runs = || dev.runs.iter().chain(&dynamic.runs);
    let binaries: BTreeSet<&String> = all_runs().flat_map(|run| run.binaries.keys()).collect();
    for key in binaries {
        let (a, b) = (dev.binary_runs(key), dynamic.binary_runs(key));
        let description = format!(
            "`{key}`: {} under `dev`, {} under `dynamic`",
            show(&a),
            show(&b)
        );
        match classify(&a, &b) {
            Verdict::Same => {}
            Verdict::FlakyInBoth => found.flaky_in_both.push(description),
            Verdict::Differs => {
                let unfinished = dynamic
                    .runs
                    .iter()
                    .filter_map(|r| r.binaries.get(key))
                    .find(|b| !b.finished)
                    .map(|b| format!("\n{}", tail(&b.output, 20)))
                    .unwrap_or_default();
                found.differences.push(Difference {
                    binary: key.clone(),
                    test: None,
                    text: description + &unfinished,
                });
            }
        }
        let tests: BTreeSet<&String> = all_runs()
            .filter_map(|run| run.binaries.get(key))
            .flat_map(|b| b.outcomes.keys())
            .collect();
        for test in tests {
            let (x, y) = (dev.outcomes_of(key, test), dynamic.outcomes_of(key, test));
            let description = format!(
                "`{key}` `{test}`: {} under `dev`, {} under `dynamic`",
                show(&x),
                show(&y)
            );
            match classify(&x, &y) {
                Verdict::Same => {}
                Verdict::FlakyInBoth => found.flaky_in_both.push(description),
                Verdict::Differs => {
                    let mut text = description;
                    for (mode, run) in [("dev", dev), ("dynamic", dynamic)] {
                        if let Some(output) = run.failure_output(key, test) {
                            write!(
                                text,
                                "\n  output under `{mode}`:\n    {}",
                                output.trim_end().replace('\n', "\n    ")
                            )
                            .unwrap();
                        }
                    }
                    found.differences.push(Difference {
                        binary: key.clone(),
                        test: Some(test.clone()),
                        text,
                    });
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::compat::test_output::target_args;
    use crate::checks::compat::test_output::tests::DEV;

    /// A mode's runs, one per text.
    fn runs(texts: &[&str]) -> ModeRun {
        ModeRun {
            build_time: Duration::ZERO,
            build_error: None,
            runs: texts.iter().map(|text| TestResults::parse(text)).collect(),
            reruns: BTreeMap::new(),
        }
    }

    fn run(text: &str) -> ModeRun {
        runs(&[text, text, text])
    }

    /// DEV with `test_u64` failing.
    fn failing_u64() -> String {
        DEV.replace("test test_u64 ... ok", "test test_u64 ... FAILED").replace(
            "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\n   Doc",
            "\nfailures:\n\n---- test_u64 stdout ----\nassertion failed: x == 1\n\nfailures:\n    test_u64\n\ntest result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\n   Doc",
        )
    }

    #[test]
    fn same_results_under_other_paths_are_no_difference() {
        let dynamic = DEV
            .replace(
                "target/debug/deps/itoa-0123456789abcdef",
                "target/dynamic/deps/itoa-99",
            )
            .replace("in 0.10s", "in 0.30s");
        let found = compare(&run(DEV), &run(&dynamic));
        assert!(found.differences.is_empty(), "{found:#?}");
        assert!(found.flaky_in_both.is_empty(), "{found:#?}");
    }

    #[test]
    fn a_test_failing_only_under_dynamic_is_shown_with_its_output() {
        let differences: Vec<String> = compare(&run(DEV), &run(&failing_u64()))
            .differences
            .into_iter()
            .map(|d| d.text)
            .collect();
        assert_eq!(differences.len(), 1, "{differences:#?}");
        assert!(differences[0].starts_with(
            "`test: tests/test.rs` `test_u64`: passed under `dev`, failed under `dynamic`"
        ));
        assert!(
            differences[0].contains("assertion failed: x == 1"),
            "{}",
            differences[0]
        );
    }

    #[test]
    fn a_binary_that_dies_under_dynamic_is_a_difference() {
        let cut = DEV.find("test test_u64").unwrap();
        let dynamic = format!(
            "{}error: test failed, to rerun pass `--test test`\n\nCaused by:\n  process didn't exit successfully (signal: 11, SIGSEGV)\n",
            &DEV[..cut]
        );
        let differences: Vec<String> = compare(&run(DEV), &run(&dynamic))
            .differences
            .into_iter()
            .map(|d| d.text)
            .collect();
        assert!(
            differences.iter().any(|d| d.starts_with(
                "`test: tests/test.rs`: finished under `dev`, unfinished under `dynamic`"
            ) && d.contains("SIGSEGV")),
            "{differences:#?}"
        );
        assert!(
            differences
                .iter()
                .any(|d| d.contains("`test_u64`: passed under `dev`, missing under `dynamic`"))
        );
    }

    #[test]
    fn a_test_failing_one_run_in_three_under_dynamic_only_is_a_difference() {
        let failing = failing_u64();
        let found = compare(&run(DEV), &runs(&[DEV, &failing, DEV]));
        assert_eq!(found.differences.len(), 1, "{found:#?}");
        let difference = &found.differences[0];
        assert!(
            difference.text.starts_with(
                "`test: tests/test.rs` `test_u64`: passed under `dev`, \
                 passed 2, failed 1 of 3 runs under `dynamic`"
            ),
            "{}",
            difference.text
        );
        assert!(difference.text.contains("assertion failed: x == 1"));
        // It names the test, to be run again alone.
        assert_eq!(difference.test.as_deref(), Some("test_u64"));
        assert_eq!(target_args(&difference.binary).unwrap(), ["--test", "test"]);
    }

    #[test]
    fn a_test_flaky_under_dev_too_is_reported_apart() {
        let failing = failing_u64();
        let found = compare(&runs(&[&failing, DEV, DEV]), &runs(&[DEV, DEV, &failing]));
        assert!(found.differences.is_empty(), "{found:#?}");
        assert_eq!(found.flaky_in_both.len(), 1, "{found:#?}");
        // Steady under `dev`: a failure under `dynamic` is the difference, flaky or not.
        let found = compare(
            &runs(&[&failing, &failing, &failing]),
            &runs(&[DEV, DEV, DEV]),
        );
        assert_eq!(found.differences.len(), 1, "{found:#?}");
    }

    #[test]
    fn a_binary_without_a_result_line_in_both_modes_is_no_difference() {
        // A `harness = false` test prints no `test result:` line, under both profiles.
        let text = "     Running tests/config_log.rs (target/debug/deps/config_log-0123)\n";
        let found = compare(&run(text), &run(text));
        assert!(found.differences.is_empty(), "{found:#?}");
    }

    #[test]
    fn reruns_that_fail_under_dev_too_make_it_flaky_in_both() {
        let failing = failing_u64();
        let dev = run(DEV);
        let mut dynamic = runs(&[DEV, &failing, DEV]);
        assert_eq!(compare(&dev, &dynamic).differences.len(), 1);
        let key = ("test: tests/test.rs".to_owned(), "test_u64".to_owned());
        let mut dev = dev;
        dev.reruns.insert(
            key.clone(),
            vec![Some(Outcome::Passed), Some(Outcome::Failed)],
        );
        dynamic.reruns.insert(key, vec![Some(Outcome::Passed); 2]);
        let found = compare(&dev, &dynamic);
        assert!(found.differences.is_empty(), "{found:#?}");
        assert_eq!(found.flaky_in_both.len(), 1);
    }
}
