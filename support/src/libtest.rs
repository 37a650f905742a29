//! Reading what libtest prints: `test NAME ... ok` per test, and a
//! `test result: ok. 6 passed; 0 failed; 1 ignored; ...` line per test binary.

use std::ops::AddAssign;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Passed,
    Failed,
    Ignored,
}

/// `test NAME ... ok` (or `FAILED`, `ignored`, `ignored, <reason>`): the test and its outcome.
pub fn test_line(line: &str) -> Option<(&str, Outcome)> {
    let (name, result) = line.strip_prefix("test ")?.split_once(" ... ")?;
    let outcome = match result.trim() {
        "ok" => Outcome::Passed,
        "FAILED" => Outcome::Failed,
        r if r == "ignored" || r.starts_with("ignored, ") => Outcome::Ignored,
        _ => return None,
    };
    Some((name, outcome))
}

/// The counts of a `test result:` line, or of several added up.
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
}

impl Counts {
    /// `test result: ok. 6 passed; 0 failed; 1 ignored; 0 measured; 5 filtered out; ...`
    pub fn of_result_line(line: &str) -> Option<Counts> {
        let result = line.strip_prefix("test result: ")?;
        let mut counts = Counts::default();
        for part in result.split([';', '.']) {
            let mut words = part.split_whitespace();
            let (Some(n), Some(what)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = n.parse::<u64>() else { continue };
            match what {
                "passed" => counts.passed += n,
                "failed" => counts.failed += n,
                "ignored" => counts.ignored += n,
                _ => {}
            }
        }
        Some(counts)
    }

    /// The sum of every `test result:` line in `text`.
    pub fn of_output(text: &str) -> Counts {
        let mut total = Counts::default();
        for counts in text.lines().filter_map(Counts::of_result_line) {
            total += counts;
        }
        total
    }
}

impl AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_add_up() {
        let text = "test result: ok. 6 passed; 0 failed; 1 ignored; 0 measured; 5 filtered out; finished in 0.40s\n\
            test foo ... ok\n\
            test result: FAILED. 2 passed; 3 failed; 0 ignored; 0 measured; 0 filtered out\n";
        assert_eq!(
            Counts::of_output(text),
            Counts {
                passed: 8,
                failed: 3,
                ignored: 1
            }
        );
    }

    #[test]
    fn test_lines_give_name_and_outcome() {
        assert_eq!(
            test_line("test a::b ... ok"),
            Some(("a::b", Outcome::Passed))
        );
        assert_eq!(
            test_line("test slow ... ignored, needs a network"),
            Some(("slow", Outcome::Ignored))
        );
        assert_eq!(test_line("test x ... FAILED"), Some(("x", Outcome::Failed)));
        assert_eq!(test_line("test result: ok. 1 passed"), None);
    }
}
