//! What one `cargo test` run printed, read per test binary and per test, and how to select one
//! of those binaries again.

use std::collections::BTreeMap;
use std::path::Path;

use support::libtest::{Counts, Outcome, test_line};

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
    pub(super) failure_output: BTreeMap<String, String>,
    pub(super) finished: bool,
    /// Everything printed while it ran, for a binary that did not finish.
    pub(super) output: String,
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
            let result_line = Counts::of_result_line(line).is_some();
            if line == "failures:" || result_line {
                if let Some((name, output)) = failure.take() {
                    binary.failure_output.insert(name, output);
                }
            }
            if let Some((_, output)) = failure.as_mut() {
                output.push_str(line);
                output.push('\n');
                continue;
            }
            if result_line {
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

/// The `cargo test` arguments that select one test binary, from its key: `--lib`, `--doc`,
/// `--test NAME`, `--bin NAME`. `None` for a binary that cannot be named alone.
pub fn target_args(binary: &str) -> Option<Vec<String>> {
    if binary.starts_with("doc-tests: ") {
        return Some(vec!["--doc".into()]);
    }
    let (_, source) = binary.split_once(": ")?;
    let owned = |args: &[&str]| Some(args.iter().map(|a| a.to_string()).collect());
    match source.strip_prefix("unittests ") {
        Some(path) if path.ends_with("lib.rs") => owned(&["--lib"]),
        // A binary's unit tests: the file stem is its crate name, not always its target
        // name, so every binary is selected and the test's name does the rest.
        Some(_) => owned(&["--bins"]),
        None => {
            // `tests/after.rs` or `tests/after/main.rs`: the test target `after`.
            let path = Path::new(source);
            let name = match path.file_stem()?.to_str()? {
                "main" | "mod" => path.parent()?.file_name()?.to_str()?,
                stem => stem,
            };
            path.starts_with("tests")
                .then(|| vec!["--test".into(), name.to_owned()])
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::checks::compat) const DEV: &str = "\
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

    #[test]
    fn each_kind_of_test_binary_is_selected_alone() {
        let args = |key: &str| target_args(key).map(|a| a.join(" "));
        assert_eq!(args("doc-tests: itoa").as_deref(), Some("--doc"));
        assert_eq!(args("itoa: unittests src/lib.rs").as_deref(), Some("--lib"));
        assert_eq!(
            args("after: tests/after.rs").as_deref(),
            Some("--test after")
        );
        assert_eq!(
            args("suite: tests/suite/main.rs").as_deref(),
            Some("--test suite")
        );
        assert_eq!(args("fd: unittests src/main.rs").as_deref(), Some("--bins"));
        assert_eq!(args("bench: benches/b.rs"), None);
    }
}
