//! What one `cargo test` run printed, read per test binary and per test, and the
//! differences between two runs (`dev` and `--dynamic`) of the same suite.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use support::libtest::{Outcome, test_line};
use support::process::tail;

/// One mode's build and test run of a crate.
pub struct ModeRun {
    pub build_time: Duration,
    /// The tail of the build's output, when `cargo test --no-run` failed.
    pub build_error: Option<String>,
    pub results: TestResults,
}

/// What one `cargo test` run reported: per test binary (its source, e.g. `itoa: tests/test.rs`,
/// or `doc-tests: itoa`), the outcome of each test, the output of each failed test, and whether
/// the binary finished (printed its `test result:` line).
#[derive(Debug, Default)]
pub struct TestResults {
    pub binaries: BTreeMap<String, Binary>,
}

#[derive(Debug, Default)]
pub struct Binary {
    pub outcomes: BTreeMap<String, Outcome>,
    failure_output: BTreeMap<String, String>,
    finished: bool,
    /// Everything printed while it ran, for a binary that did not finish.
    output: String,
}

impl TestResults {
    pub fn parse(text: &str) -> TestResults {
        let mut results = TestResults::default();
        let mut current: Option<String> = None;
        // Inside `---- NAME stdout ----`: the failed test's captured output.
        let mut failure: Option<(String, String)> = None;
        for line in text.lines() {
            let trimmed = line.trim_start();
            let starts_binary = binary_key(trimmed);
            if let Some(key) = starts_binary {
                current = Some(key.clone());
                failure = None;
                results.binaries.entry(key).or_default();
                continue;
            }
            let Some(binary) = current.as_ref().and_then(|k| results.binaries.get_mut(k)) else {
                continue;
            };
            binary.output.push_str(line);
            binary.output.push('\n');
            if let Some(name) = line
                .strip_prefix("---- ")
                .and_then(|l| l.strip_suffix(" stdout ----"))
            {
                if let Some((name, output)) = failure.take() {
                    binary.failure_output.insert(name, output);
                }
                failure = Some((name.to_owned(), String::new()));
                continue;
            }
            if line == "failures:" || line.starts_with("test result: ") {
                if let Some((name, output)) = failure.take() {
                    binary.failure_output.insert(name, output);
                }
            }
            if let Some((_, output)) = failure.as_mut() {
                output.push_str(line);
                output.push('\n');
                continue;
            }
            if line.starts_with("test result: ") {
                binary.finished = true;
            } else if let Some((name, outcome)) = test_line(line) {
                binary.outcomes.insert(name.to_owned(), outcome);
            }
        }
        results
    }

    pub fn count(&self, outcome: Outcome) -> usize {
        self.binaries
            .values()
            .flat_map(|b| b.outcomes.values())
            .filter(|o| **o == outcome)
            .count()
    }
}

/// `Running unittests src/lib.rs (target/debug/deps/itoa-5f3c...)` gives
/// `itoa: unittests src/lib.rs`; `Doc-tests itoa` gives `doc-tests: itoa`. The hash and the
/// profile folder differ between the modes and are left out.
fn binary_key(line: &str) -> Option<String> {
    if let Some(krate) = line.strip_prefix("Doc-tests ") {
        return Some(format!("doc-tests: {krate}"));
    }
    let (source, path) = line.strip_prefix("Running ")?.split_once(" (")?;
    let file = Path::new(path.strip_suffix(')')?).file_name()?.to_str()?;
    let stem = file.rsplit_once('-').map_or(file, |(stem, _hash)| stem);
    Some(format!("{stem}: {source}"))
}

/// Every difference between the two modes, with the output that explains it.
pub fn compare(dev: &ModeRun, dynamic: &ModeRun) -> Vec<String> {
    let mut differences = Vec::new();
    match (&dev.build_error, &dynamic.build_error) {
        (None, Some(error)) => {
            differences.push(format!(
                "builds under `dev` but not under `dynamic`:\n{error}"
            ));
            return differences;
        }
        (Some(_), None) => {
            differences.push("builds under `dynamic` but not under `dev`".to_owned());
            return differences;
        }
        (Some(_), Some(_)) => return differences,
        (None, None) => {}
    }
    let binaries: BTreeSet<&String> = dev
        .results
        .binaries
        .keys()
        .chain(dynamic.results.binaries.keys())
        .collect();
    for key in binaries {
        let (a, b) = (
            dev.results.binaries.get(key),
            dynamic.results.binaries.get(key),
        );
        let (Some(a), Some(b)) = (a, b) else {
            let missing_in = if a.is_none() { "dev" } else { "dynamic" };
            differences.push(format!(
                "test binary `{key}` did not run under `{missing_in}`"
            ));
            continue;
        };
        if a.finished != b.finished {
            let (mode, unfinished) = if a.finished {
                ("dynamic", b)
            } else {
                ("dev", a)
            };
            differences.push(format!(
                "`{key}` did not finish under `{mode}`:\n{}",
                tail(&unfinished.output, 20)
            ));
        }
        let tests: BTreeSet<&String> = a.outcomes.keys().chain(b.outcomes.keys()).collect();
        for test in tests {
            let (x, y) = (a.outcomes.get(test), b.outcomes.get(test));
            if x == y {
                continue;
            }
            let show = |o: Option<&Outcome>| {
                o.map_or("missing".to_owned(), |o| format!("{o:?}").to_lowercase())
            };
            let mut text = format!(
                "`{key}` `{test}`: {} under `dev`, {} under `dynamic`",
                show(x),
                show(y)
            );
            for (mode, binary) in [("dev", a), ("dynamic", b)] {
                if let Some(output) = binary.failure_output.get(test.as_str()) {
                    write!(
                        text,
                        "\n  output under `{mode}`:\n    {}",
                        output.trim_end().replace('\n', "\n    ")
                    )
                    .unwrap();
                }
            }
            differences.push(text);
        }
    }
    differences
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEV: &str = "\
   Compiling itoa v1.0.19
    Finished `test` profile [unoptimized + debuginfo] target(s) in 1.2s
     Running unittests src/lib.rs (target/debug/deps/itoa-0123456789abcdef)

running 2 tests
test tests::a ... ok
test tests::slow ... ignored, needs a network
test result: ok. 1 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s

     Running tests/test.rs (target/debug/deps/test-fedcba9876543210)

running 1 test
test test_u64 ... ok
test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

   Doc-tests itoa

running 1 test
test src/lib.rs - (line 21) ... ok
test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.10s
";

    #[test]
    fn parses_each_binary_and_its_outcomes() {
        let results = TestResults::parse(DEV);
        let keys: Vec<_> = results.binaries.keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "doc-tests: itoa",
                "itoa: unittests src/lib.rs",
                "test: tests/test.rs"
            ]
        );
        let lib = &results.binaries["itoa: unittests src/lib.rs"];
        assert!(lib.finished);
        assert_eq!(lib.outcomes["tests::slow"], Outcome::Ignored);
        assert_eq!(results.count(Outcome::Passed), 3);
        assert_eq!(results.count(Outcome::Ignored), 1);
    }

    fn run(text: &str) -> ModeRun {
        ModeRun {
            build_time: Duration::ZERO,
            build_error: None,
            results: TestResults::parse(text),
        }
    }

    #[test]
    fn same_results_under_other_paths_are_no_difference() {
        let dynamic = DEV
            .replace(
                "target/debug/deps/itoa-0123456789abcdef",
                "target/dynamic/deps/itoa-99",
            )
            .replace("in 0.10s", "in 0.30s");
        assert!(compare(&run(DEV), &run(&dynamic)).is_empty());
    }

    #[test]
    fn a_test_failing_only_under_dynamic_is_shown_with_its_output() {
        let dynamic = DEV.replace("test test_u64 ... ok", "test test_u64 ... FAILED").replace(
            "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\n   Doc",
            "\nfailures:\n\n---- test_u64 stdout ----\nassertion failed: x == 1\n\nfailures:\n    test_u64\n\ntest result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\n   Doc",
        );
        let differences = compare(&run(DEV), &run(&dynamic));
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
        let differences = compare(&run(DEV), &run(&dynamic));
        assert!(
            differences.iter().any(|d| d
                .starts_with("`test: tests/test.rs` did not finish under `dynamic`")
                && d.contains("SIGSEGV")),
            "{differences:#?}"
        );
        assert!(
            differences
                .iter()
                .any(|d| d.contains("`test_u64`: passed under `dev`, missing under `dynamic`"))
        );
    }
}
