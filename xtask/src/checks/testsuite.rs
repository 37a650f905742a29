//! Upstream Cargo's own testsuite (`tests/testsuite` of a Cargo source tree), compiled and
//! run on a patched source: which of its tests are the patch tests, running a selection, and
//! writing its generated snapshots again.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use support::libtest::Counts;
use support::process::{run, run_captured, run_line_by_line, step};
use support::workspace::remove_dir_if_exists;

use crate::series::patch_file::Patch;
use crate::toolchain;

/// Upstream testsuite modules that `--upstream` runs besides the ones our patches touch:
/// those that exercise what the patches change (profiles, compilation, the commands the
/// dynamic profile refuses, the unit graph, and every command's `--help`).
pub fn is_upstream_regression_test(name: &str) -> bool {
    let module = name.split("::").next().unwrap_or_default();
    module.starts_with("profile_")
        || [
            "build",
            "run",
            "test",
            "install",
            "package",
            "publish",
            "unit_graph",
        ]
        .contains(&module)
        || (module.starts_with("cargo_") && name.contains("::help::"))
}

/// The testsuite modules that the series adds or changes: those are the patch tests.
pub fn modules_touched_by(series: &[Patch]) -> BTreeSet<String> {
    let paths: Vec<String> = series
        .iter()
        .flat_map(|patch| patch.diff.lines())
        .filter_map(|line| line.strip_prefix("diff --git a/"))
        .filter_map(|rest| Some(rest.split(' ').next()?.to_owned()))
        .collect();
    modules_of(&paths).into_iter().collect()
}

/// The testsuite modules that files of Cargo's source belong to.
/// `tests/testsuite/version.rs` is module `version`; a file in a folder, such as
/// `tests/testsuite/cargo_build/help/stdout.term.svg`, belongs to the folder's module
/// (`cargo_build::help`), so that a changed snapshot selects only the test that reads it.
pub fn modules_of(paths: &[String]) -> Vec<String> {
    let modules: BTreeSet<String> = paths
        .iter()
        .filter_map(|path| path.strip_prefix("tests/testsuite/"))
        .filter_map(|path| {
            let module = match path.rsplit_once('/') {
                Some((dir, _)) => dir.replace('/', "::"),
                None => path.strip_suffix(".rs")?.to_owned(),
            };
            (!["main", "utils"].contains(&module.as_str())).then_some(module)
        })
        .collect();
    modules.into_iter().collect()
}

/// Runs a `cargo test`, passing its output through, and adds its `test result:` lines to
/// `counts`.
pub fn run_counted(cmd: &mut Command, counts: &mut Counts) -> Result<()> {
    run_line_by_line(cmd, |line| {
        println!("{line}");
        if let Some(result) = Counts::of_result_line(line) {
            *counts += result;
        }
    })
}

/// Runs the selected tests of the testsuite of the Cargo source in `source`, compiled into
/// `target_dir` by the cargo that `cargo` starts.
pub fn run_testsuite_of(
    source: &Path,
    target_dir: &Path,
    cargo: &dyn Fn() -> Command,
    selected: &dyn Fn(&str) -> bool,
    counts: &mut Counts,
) -> Result<()> {
    let testsuite = || testsuite_command(source, target_dir, cargo);
    step("Compiling", "Cargo's testsuite with the patches (debug)");
    let listing = run_captured(testsuite().args(["--", "--list", "--format", "terse"]))
        .context("building Cargo's testsuite failed")?;
    let names: Vec<&str> = listing
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .filter(|name| selected(name))
        .collect();
    if names.is_empty() {
        bail!("no test of Cargo's testsuite was selected: do the patches add none?");
    }
    step(
        "Testing",
        format!("{} tests of Cargo's testsuite", names.len()),
    );
    run_counted(testsuite().arg("--").arg("--exact").args(&names), counts)
        .context("patch tests in Cargo's testsuite failed (see above)")?;
    // Every test leaves its project, built, in `tmp/cit/` (3 GB for ours). They are kept when a
    // test fails, to be looked at; after a green run they only fill the disk.
    remove_dir_if_exists(&target_dir.join("tmp").join("cit"))
}

/// What running a selection of the testsuite gave.
pub enum Tested {
    NotRun,
    Pass(Counts),
    Fail(Counts),
}

impl Tested {
    pub fn from(run: Result<()>, counts: Counts) -> Tested {
        match run {
            Ok(()) => Tested::Pass(counts),
            Err(_) => Tested::Fail(counts),
        }
    }
}

impl fmt::Display for Tested {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tested::NotRun => f.write_str("-"),
            Tested::Pass(c) => write!(f, "pass ({} passed, {} ignored)", c.passed, c.ignored),
            Tested::Fail(c) => write!(f, "FAIL ({} passed, {} failed)", c.passed, c.failed),
        }
    }
}

/// The debug build of the Cargo source in `source`, as its testsuite uses it.
pub fn build_cargo(source: &Path, target_dir: &Path, cargo: &dyn Fn() -> Command) -> Result<()> {
    run(cargo()
        .current_dir(source)
        .args(["build", "--locked", "--bin", "cargo", "--target-dir"])
        .arg(target_dir)
        .args(TESTSUITE_DEBUGINFO)
        .envs(toolchain::fork_source_env()))
}

/// Full debuginfo makes Cargo's testsuite build 4.3 GB, which filled CI's disk; line tables
/// (enough for backtraces) make it 1.9 GB. `--config`, not `CARGO_PROFILE_*`: the Cargo under
/// test must not inherit it.
pub const TESTSUITE_DEBUGINFO: [&str; 2] = ["--config", "profile.dev.debug=\"line-tables-only\""];

/// `cargo test --test testsuite` of the Cargo source in `source`, compiled into `target_dir`.
pub fn testsuite_command(source: &Path, target_dir: &Path, cargo: &dyn Fn() -> Command) -> Command {
    let mut cmd = cargo();
    // From inside the source, so that its `.cargo/config.toml` applies: the snapshot tests
    // find their files through the `CARGO_RUSTC_CURRENT_DIR` it sets.
    cmd.current_dir(source)
        .args(["test", "--locked", "--test", "testsuite", "--manifest-path"])
        .arg(source.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir)
        .args(TESTSUITE_DEBUGINFO)
        .envs(toolchain::fork_source_env())
        // Cross-compilation tests need a second target installed; CI machines have none.
        .env("CFG_DISABLE_CROSS_TESTS", "1");
    cmd
}

/// Writes the snapshot files `snapshots` (paths in `source`) again from what the Cargo in
/// `source` prints: runs the testsuite modules they belong to with `SNAPSHOTS=overwrite`.
pub fn overwrite_snapshots(
    source: &Path,
    target_dir: &Path,
    cargo: &dyn Fn() -> Command,
    snapshots: &[String],
) -> Result<()> {
    let modules = modules_of(snapshots);
    let output = run_captured(
        testsuite_command(source, target_dir, cargo)
            .env("SNAPSHOTS", "overwrite")
            .arg("--")
            .args(modules.iter().map(|m| format!("{m}::"))),
    )?;
    if Counts::of_output(&output).passed == 0 {
        bail!("no test of {} ran", modules.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch_touching(paths: &[&str]) -> Patch {
        Patch {
            file_name: "0001-x.patch".into(),
            subject: "x".into(),
            fields: String::new(),
            stat: String::new(),
            diff: paths
                .iter()
                .map(|p| format!("diff --git a/{p} b/{p}\n+x\n"))
                .collect(),
        }
    }

    #[test]
    fn patch_tests_are_the_testsuite_modules_a_patch_touches() {
        let series = [patch_touching(&[
            "src/cargo/version.rs",
            "tests/testsuite/version.rs",
            "tests/testsuite/main.rs",
            "tests/testsuite/cargo_build/help/stdout.term.svg",
        ])];
        let modules: Vec<_> = modules_touched_by(&series).into_iter().collect();
        assert_eq!(modules, ["cargo_build::help", "version"]);
    }

    #[test]
    fn upstream_regression_set_covers_profiles_and_help() {
        assert!(is_upstream_regression_test("profile_custom::inherits_loop"));
        assert!(is_upstream_regression_test("cargo_build::help::case"));
        assert!(is_upstream_regression_test("install::simple"));
        assert!(!is_upstream_regression_test("cargo_add::add_basic::case"));
        assert!(!is_upstream_regression_test("testing::x"));
    }
}
