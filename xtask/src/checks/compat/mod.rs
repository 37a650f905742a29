//! `cargo xtask compat`: published crates' own test suites under `dev` and under `--dynamic`,
//! compared test by test, in the spirit of crater.
//!
//! The crates and why each is there are in `compat/crates.toml`. Each is fetched from crates.io
//! through Cargo, unpacked into `target/compat/`, built `--locked` with our lock file for it
//! (`compat/locks/`, made from the package's own `Cargo.lock`), and tested with the fork,
//! three times under each profile. Any test whose results differ between the two modes, even
//! one time in three, is a difference, printed with its output; the command then fails. A
//! test as flaky under `dev` as under `--dynamic` is listed apart.

pub mod list;
pub mod results;
pub mod test_output;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use support::fork::Fork;
use support::libtest::Outcome;
use support::mode::Mode;
use support::process::{run_merged, step, tail};
use support::workspace::{Workspace, remove_dir_if_exists};

use crate::toolchain;
use crate::upstream::published::unpack_as_workspace;
use list::Entry;
use results::{Comparison, ModeRun, RERUNS, RUNS_PER_MODE, compare};
use test_output::{TestResults, target_args};

/// `cargo xtask compat`.
pub fn compat(ws: &Workspace, specs: &[String], quick: bool) -> Result<()> {
    let list = list::load(ws)?;
    let entries = list::select(&list, specs, quick)?;
    let fork = toolchain::build(ws)?;
    run_entries(ws, &fork, &entries)
}

/// Runs the entries with an already built fork, prints the table, and fails on any
/// difference.
pub fn run_entries(ws: &Workspace, fork: &Fork, entries: &[Entry]) -> Result<()> {
    let mut rows = Vec::new();
    let mut unchecked = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        step(
            "Checking",
            format!("[{}/{}] {}", i + 1, entries.len(), entry.label()),
        );
        let row = match check(ws, fork, entry) {
            Ok(row) => row,
            Err(err) => {
                // One crate that cannot be fetched or unpacked must not hide the others.
                step("Failed", format!("{}: {err:#}", entry.label()));
                unchecked.push(format!("{}: {err:#}", entry.label()));
                continue;
            }
        };
        step(
            "Compared",
            format!(
                "{}: {} tests under `dev`, {} difference(s), {} flaky in both",
                row.label,
                [Outcome::Passed, Outcome::Failed, Outcome::Ignored]
                    .map(|o| row.dev.count(o))
                    .iter()
                    .sum::<usize>(),
                row.found.differences.len(),
                row.found.flaky_in_both.len()
            ),
        );
        rows.push(row);
    }
    print!("{}", table(&rows));
    let differing: Vec<_> = rows
        .iter()
        .filter(|row| !row.found.differences.is_empty())
        .map(|row| row.label.as_str())
        .collect();
    let broken: Vec<_> = rows
        .iter()
        .filter(|row| row.dev.build_error.is_some())
        .map(|row| row.label.as_str())
        .collect();
    for failure in &unchecked {
        println!("\nnot checked: {failure}");
    }
    if !unchecked.is_empty() {
        bail!(
            "{} crate(s) could not be checked (see above)",
            unchecked.len()
        );
    }
    if !differing.is_empty() {
        bail!(
            "`dev` and `dynamic` differ on {} (see above)",
            differing.join(", ")
        );
    }
    if !broken.is_empty() {
        bail!(
            "{} did not build under `dev`, so nothing was compared (see above)",
            broken.join(", ")
        );
    }
    Ok(())
}

/// The outcome of one crate in both modes.
struct Row {
    label: String,
    dev: ModeRun,
    dynamic: ModeRun,
    found: Comparison,
}

fn check(ws: &Workspace, fork: &Fork, entry: &Entry) -> Result<Row> {
    let dir = prepare(ws, entry)?;
    // A target directory per mode, each built clean, so that build times compare; both are
    // kept until the tests that differed have been run again in both.
    let target_dir = |mode: Mode| dir.join(format!("target-{}", mode.name()));
    let cargo_test = |mode: Mode, extra: &[&str]| {
        let mut cmd = fork.cargo(&dir, &["test", "--locked"]);
        cmd.args(mode.flags())
            .args(&entry.args)
            .args(extra)
            .env("CARGO_TARGET_DIR", target_dir(mode));
        cmd
    };
    let mut modes = Vec::new();
    for mode in Mode::BOTH {
        remove_dir_if_exists(&target_dir(mode))?;
        step("Building", format!("{} (`{}`)", entry.label(), mode.name()));
        let start = Instant::now();
        let build = run_merged(cargo_test(mode, &["--no-run"]))?;
        let build_time = start.elapsed();
        let mut run = ModeRun {
            build_time,
            build_error: None,
            runs: Vec::new(),
            reruns: Default::default(),
        };
        if !build.success {
            run.build_error = Some(tail(&build.text, 30));
            modes.push(run);
            continue;
        }
        for n in 1..=RUNS_PER_MODE {
            step(
                "Testing",
                format!(
                    "{} (`{}`, run {n} of {RUNS_PER_MODE})",
                    entry.label(),
                    mode.name()
                ),
            );
            let test = run_merged(cargo_test(mode, &["--no-fail-fast"]))?;
            run.runs.push(TestResults::parse(&test.text));
        }
        modes.push(run);
    }
    let mut dynamic = modes.pop().unwrap();
    let mut dev = modes.pop().unwrap();

    // A test that differed runs again, the modes taking turns, so that one failure in three
    // tells a test that fails only under `--dynamic` from one that is flaky anyway. It runs
    // beside the other tests of its binary, as it ran when it differed: some tests fail only
    // beside their siblings (crossbeam-channel's `select2` counts every allocation of the
    // process while the other tests of `golang.rs` allocate on their threads: 5 failures in
    // 20 runs of the binary under `dev`, 3 under `--dynamic`, none in 20 runs alone in either).
    let differing: Vec<_> = compare(&dev, &dynamic)
        .differences
        .into_iter()
        .filter_map(|d| Some((target_args(&d.binary)?, d.binary, d.test?)))
        .collect();
    for (args, binary, test) in differing {
        step(
            "Rerunning",
            format!(
                "{} `{binary}` `{test}`, {RERUNS} times per mode",
                entry.label()
            ),
        );
        for _ in 0..RERUNS {
            for (mode, run) in [(Mode::Dev, &mut dev), (Mode::Dynamic, &mut dynamic)] {
                let extra: Vec<&str> = args.iter().map(String::as_str).collect();
                let output = run_merged(cargo_test(mode, &extra))?;
                let outcome = TestResults::parse(&output.text)
                    .binaries
                    .get(&binary)
                    .and_then(|b| b.outcomes.get(&test).copied());
                run.reruns
                    .entry((binary.clone(), test.clone()))
                    .or_default()
                    .push(outcome);
            }
        }
    }
    for mode in Mode::BOTH {
        remove_dir_if_exists(&target_dir(mode))?;
    }
    let found = compare(&dev, &dynamic);
    Ok(Row {
        label: entry.label(),
        dev,
        dynamic,
        found,
    })
}

/// Unpacks the entry (and its workspace members) into `target/compat/<name>-<version>/`,
/// fresh each time but for its `target/`, and makes it a workspace of its own.
fn prepare(ws: &Workspace, entry: &Entry) -> Result<PathBuf> {
    let dir = ws
        .target()
        .join("compat")
        .join(format!("{}-{}", entry.name, entry.version));
    let lock = ws.compat_list().with_file_name(entry.lock_file());
    unpack_as_workspace(
        ws,
        &dir,
        (&entry.name, &entry.version),
        &entry.members,
        &lock,
    )?;
    Ok(dir)
}

/// The table of every crate, then every difference in full.
fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "\n| crate | dev: passed / failed / ignored | dev build | dynamic: passed / failed / ignored | dynamic build | differences | flaky in both |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    let counts = |run: &ModeRun| match &run.build_error {
        Some(_) => "build failed".to_owned(),
        None => format!(
            "{} / {} / {}",
            run.count(Outcome::Passed),
            run.count(Outcome::Failed),
            run.count(Outcome::Ignored)
        ),
    };
    for row in rows {
        writeln!(
            out,
            "| {} | {} | {:.1} s | {} | {:.1} s | {} | {} |",
            row.label,
            counts(&row.dev),
            row.dev.build_time.as_secs_f64(),
            counts(&row.dynamic),
            row.dynamic.build_time.as_secs_f64(),
            row.found.differences.len(),
            row.found.flaky_in_both.len()
        )
        .unwrap();
    }
    for row in rows {
        if let Some(error) = &row.dev.build_error {
            write!(
                out,
                "\n{} does not build under `dev`:\n{error}\n",
                row.label
            )
            .unwrap();
        }
        let failing_in_dev = row.dev.always_failing();
        if !failing_in_dev.is_empty() {
            write!(
                out,
                "\n{}: fails under `dev` too (not a difference): {}\n",
                row.label,
                failing_in_dev
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
            .unwrap();
        }
        for flaky in &row.found.flaky_in_both {
            write!(
                out,
                "\n{}: flaky in both (not a difference): {flaky}\n",
                row.label
            )
            .unwrap();
        }
        for difference in &row.found.differences {
            write!(out, "\n{}: {}\n", row.label, difference.text).unwrap();
        }
    }
    out
}
