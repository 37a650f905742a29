//! `cargo xtask compat`: published crates' own test suites under `dev` and under `--dynamic`,
//! compared test by test, in the spirit of crater.
//!
//! The crates and why each is there are in `compat/crates.toml`. Each is fetched from crates.io
//! through Cargo, unpacked into `target/compat/`, built `--locked` with our lock file for it
//! (`compat/locks/`, made from the package's own `Cargo.lock`), and tested twice with the
//! fork. Any test whose result differs between the two modes is a difference, printed with
//! its output; the command then fails.

pub mod list;
pub mod results;

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
use results::{ModeRun, TestResults, compare};

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
                "{}: {} tests under `dev`, {} difference(s)",
                row.label,
                row.dev
                    .results
                    .binaries
                    .values()
                    .map(|b| b.outcomes.len())
                    .sum::<usize>(),
                row.differences.len()
            ),
        );
        rows.push(row);
    }
    print!("{}", table(&rows));
    let differing: Vec<_> = rows
        .iter()
        .filter(|row| !row.differences.is_empty())
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
    differences: Vec<String>,
}

fn check(ws: &Workspace, fork: &Fork, entry: &Entry) -> Result<Row> {
    let dir = prepare(ws, entry)?;
    let target_dir = dir.join("target");
    let mut runs = Vec::new();
    for mode in Mode::BOTH {
        // A clean build each time, so that build times compare; the downloaded sources stay in
        // Cargo's cache. Only one mode's build is on disk at a time (tokio's is 1 GB).
        remove_dir_if_exists(&target_dir)?;
        let cargo_test = |extra: &[&str]| {
            let mut cmd = fork.cargo(&dir, &["test", "--locked"]);
            cmd.args(mode.flags())
                .args(&entry.args)
                .args(extra)
                .env("CARGO_TARGET_DIR", &target_dir);
            cmd
        };
        step("Building", format!("{} (`{}`)", entry.label(), mode.name()));
        let start = Instant::now();
        let build = run_merged(cargo_test(&["--no-run"]))?;
        let build_time = start.elapsed();
        if !build.success {
            runs.push(ModeRun {
                build_time,
                build_error: Some(tail(&build.text, 30)),
                results: TestResults::default(),
            });
            continue;
        }
        step("Testing", format!("{} (`{}`)", entry.label(), mode.name()));
        let test = run_merged(cargo_test(&["--no-fail-fast"]))?;
        runs.push(ModeRun {
            build_time,
            build_error: None,
            results: TestResults::parse(&test.text),
        });
    }
    remove_dir_if_exists(&target_dir)?;
    let dynamic = runs.pop().unwrap();
    let dev = runs.pop().unwrap();
    let differences = compare(&dev, &dynamic);
    Ok(Row {
        label: entry.label(),
        dev,
        dynamic,
        differences,
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
        "\n| crate | dev: passed / failed / ignored | dev build | dynamic: passed / failed / ignored | dynamic build | differences |\n\
         | --- | --- | --- | --- | --- | --- |\n",
    );
    let counts = |run: &ModeRun| match &run.build_error {
        Some(_) => "build failed".to_owned(),
        None => format!(
            "{} / {} / {}",
            run.results.count(Outcome::Passed),
            run.results.count(Outcome::Failed),
            run.results.count(Outcome::Ignored)
        ),
    };
    for row in rows {
        writeln!(
            out,
            "| {} | {} | {:.1} s | {} | {:.1} s | {} |",
            row.label,
            counts(&row.dev),
            row.dev.build_time.as_secs_f64(),
            counts(&row.dynamic),
            row.dynamic.build_time.as_secs_f64(),
            row.differences.len()
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
        let failing_in_dev: Vec<&String> = row
            .dev
            .results
            .binaries
            .values()
            .flat_map(|b| b.outcomes.iter())
            .filter(|(_, o)| **o == Outcome::Failed)
            .map(|(name, _)| name)
            .collect();
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
        for difference in &row.differences {
            write!(out, "\n{}: {difference}\n", row.label).unwrap();
        }
    }
    out
}
