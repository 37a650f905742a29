//! What each edit did, and the report of the whole replay.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::Options;

/// What one edit did.
#[derive(Default)]
pub(super) struct Row {
    pub(super) label: String,
    pub(super) read_by_build: bool,
    pub(super) dev_seconds: f64,
    pub(super) dynamic_seconds: f64,
    pub(super) outcome: Outcome,
    pub(super) differences: Vec<String>,
}

/// What `--dynamic` did with the edit.
#[derive(Default, PartialEq)]
pub(super) enum Outcome {
    /// Nothing compiled: the build reads no file the edit changed.
    #[default]
    Fresh,
    /// The edited libraries kept their metadata: their dependents were not recompiled.
    Relinked(Vec<String>),
    /// A library got new metadata, for this reason (the first one `-v` gave).
    Rebuilt(String),
    /// Compiled, and no library whose dependents could be spared was among it.
    Compiled,
    /// Neither profile could build it.
    Failed,
}

impl Row {
    pub(super) fn summary(&self) -> String {
        format!(
            "dev {:.2} s, dynamic {:.2} s: {}{}",
            self.dev_seconds,
            self.dynamic_seconds,
            self.outcome.describe(),
            if self.differences.is_empty() {
                String::new()
            } else {
                format!("; DIFFERENT: {}", self.differences.join("; "))
            }
        )
    }
}

impl Outcome {
    /// From the log of `cargo build --dynamic -v`.
    pub(super) fn of_log(log: &str, success: bool) -> Outcome {
        if !success {
            return Outcome::Failed;
        }
        // The edited library's note, not the notes of the dependents it carried along.
        let marker = "gets new metadata, and its dependents are compiled against it: ";
        let carried = "a library it depends on changed its metadata";
        let notes = || log.lines().filter(|line| line.contains(marker));
        let edited = notes().find(|line| !line.contains(carried));
        if let Some(line) = edited.or_else(|| notes().next()) {
            let library = line.split('`').nth(1).unwrap_or("?");
            let reason = line.split(marker).nth(1).unwrap_or_default();
            return Outcome::Rebuilt(format!("{library}: {reason}"));
        }
        let relinked: Vec<String> = log
            .lines()
            .filter_map(|line| line.trim_start().strip_prefix("Relinked "))
            .filter_map(|rest| rest.split(' ').next())
            .map(str::to_string)
            .collect();
        if !relinked.is_empty() {
            Outcome::Relinked(relinked)
        } else if log
            .lines()
            .any(|l| l.trim_start().starts_with("Compiling "))
        {
            Outcome::Compiled
        } else {
            Outcome::Fresh
        }
    }

    fn describe(&self) -> String {
        match self {
            Outcome::Fresh => "fresh".into(),
            Outcome::Relinked(crates) => format!("relinked {}", crates.join(", ")),
            Outcome::Rebuilt(reason) => format!("rebuilt ({reason})"),
            Outcome::Compiled => "compiled".into(),
            Outcome::Failed => "failed to build".into(),
        }
    }
}
/// The report: a row per edit, then the totals.
pub(super) fn report(stream: &Path, options: &Options, rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# `cargo xtask replay`: {}{}\n",
        stream.display(),
        if options.random > 0 {
            format!(
                ", then {} random body edits (seed {})",
                options.random, options.seed
            )
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        out,
        "| edit | dev | dynamic | ratio | `--dynamic` did | same as `dev` |"
    );
    let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- |");
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {:.2} s | {:.2} s | {:.2} | {} | {} |",
            row.label,
            row.dev_seconds,
            row.dynamic_seconds,
            row.dynamic_seconds / row.dev_seconds,
            row.outcome.describe(),
            if row.differences.is_empty() {
                "yes"
            } else {
                "**no**"
            }
        );
    }
    let (dev, dynamic): (f64, f64) = rows.iter().fold((0.0, 0.0), |(d, y), r| {
        (d + r.dev_seconds, y + r.dynamic_seconds)
    });
    let read = rows.iter().filter(|r| r.read_by_build).count();
    let relinked = rows
        .iter()
        .filter(|r| r.read_by_build && matches!(r.outcome, Outcome::Relinked(_)))
        .count();
    let differing = rows.iter().filter(|r| !r.differences.is_empty()).count();
    let _ = writeln!(
        out,
        "\n{} edits: dev {dev:.1} s, dynamic {dynamic:.1} s in all (ratio {:.2}); of the {read} \
         that change a file the build reads, {relinked} relinked without recompiling a \
         dependent; {differing} with a difference from `dev`.",
        rows.len(),
        dynamic / dev
    );
    let mut reasons: Vec<&str> = rows
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Rebuilt(reason) => Some(reason.as_str()),
            _ => None,
        })
        .collect();
    reasons.sort();
    if !reasons.is_empty() {
        let _ = writeln!(out, "\nWhy the others were rebuilt:\n");
        for reason in reasons {
            let _ = writeln!(out, "- {reason}");
        }
    }
    let _ = write!(out, "{}", per_crate(rows));
    for row in rows.iter().filter(|r| !r.differences.is_empty()) {
        let _ = writeln!(
            out,
            "\n## {}\n\n```\n{}\n```",
            row.label,
            row.differences.join("\n\n")
        );
    }
    out
}

/// Per edited library: how often `--dynamic` relinked it, and how often it gave it new
/// metadata (its dependents recompiled), with the reasons.
fn per_crate(rows: &[Row]) -> String {
    let mut crates: BTreeMap<&str, (usize, Vec<&str>)> = BTreeMap::new();
    for row in rows {
        match &row.outcome {
            Outcome::Relinked(relinked) => {
                for krate in relinked {
                    crates.entry(krate).or_default().0 += 1;
                }
            }
            Outcome::Rebuilt(reason) => {
                let krate = reason.split(':').next().unwrap_or("?");
                crates.entry(krate).or_default().1.push(reason);
            }
            _ => {}
        }
    }
    let mut out = String::new();
    if crates.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\n| library | relinked | rebuilt | share relinked |");
    let _ = writeln!(out, "| --- | --- | --- | --- |");
    for (krate, (relinked, rebuilt)) in &crates {
        let _ = writeln!(
            out,
            "| {krate} | {relinked} | {} | {:.0} % |",
            rebuilt.len(),
            100.0 * *relinked as f64 / (relinked + rebuilt.len()) as f64
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Outcome;

    #[test]
    fn the_reason_is_the_edited_librarys_not_a_dependents() {
        let log = "\
note: `gix-config` gets new metadata, and its dependents are compiled against it: a library it depends on changed its metadata (libgix_ref.rmeta)
note: `gix-ref` gets new metadata, and its dependents are compiled against it: its interface changed: `Store` in src/lib.rs #1
";
        assert!(
            Outcome::of_log(log, true)
                == Outcome::Rebuilt(
                    "gix-ref: its interface changed: `Store` in src/lib.rs #1".into()
                )
        );
    }

    #[test]
    fn relinked_libraries_are_listed() {
        let log = "   Compiling gix-date v0.9.0\n    Relinked gix-date (interface unchanged; 3 dependents not recompiled)\n";
        assert!(Outcome::of_log(log, true) == Outcome::Relinked(vec!["gix-date".into()]));
    }
}
