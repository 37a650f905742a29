//! The test harnesses: Cargo's own testsuite for the patches, and our end-to-end tests.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::patch_file::{self, Patch};
use crate::process::{cargo, run, run_captured, step};
use crate::toolchain;
use crate::workspace::Workspace;

/// Upstream testsuite modules that `--upstream` runs besides the ones our patches touch:
/// those that exercise what the patches change (profiles, compilation, the commands the
/// dynamic profile refuses, the unit graph, and every command's `--help`).
fn is_upstream_regression_test(name: &str) -> bool {
    let module = name.split("::").next().unwrap_or_default();
    module.starts_with("profile_")
        || ["build", "run", "test", "install", "package", "publish", "unit_graph"]
            .contains(&module)
        || (module.starts_with("cargo_") && name.contains("::help::"))
}

/// The testsuite modules (`tests/testsuite/<module>.rs` or `<module>/`) that the series adds
/// or changes: those are the patch tests.
fn modules_touched_by(series: &[Patch]) -> BTreeSet<String> {
    series
        .iter()
        .flat_map(|patch| patch.diff.lines())
        .filter_map(|line| line.strip_prefix("diff --git a/tests/testsuite/"))
        .filter_map(|path| {
            let first = path.split(['/', ' ']).next()?;
            let module = first.strip_suffix(".rs").unwrap_or(first);
            (!["main", "utils"].contains(&module)).then(|| module.to_owned())
        })
        .collect()
}

/// `cargo xtask test`.
pub fn test(ws: &Workspace, with_upstream: bool) -> Result<()> {
    let fork = toolchain::build(ws)?;

    let series = patch_file::read_series(&ws.patches())?;
    let modules = modules_touched_by(&series);
    let selected = |name: &str| {
        let module = name.split("::").next().unwrap_or_default();
        modules.contains(module) || (with_upstream && is_upstream_regression_test(name))
    };
    run_testsuite(ws, &selected)?;

    step("Testing", "our crates: xtask and the end-to-end tests (tests/)");
    run(cargo()
        .current_dir(ws.root())
        .args(["test", "--locked", "--workspace"])
        .env("CARGO_DYNAMIC_TOOLCHAIN", fork.parent().and_then(Path::parent).unwrap()))
    .context("end-to-end or xtask tests failed (see above)")?;
    step("Finished", "every test passed");
    Ok(())
}

/// Runs the selected tests of Cargo's testsuite (`cargo/tests/testsuite`) on the fork's source.
fn run_testsuite(ws: &Workspace, selected: &dyn Fn(&str) -> bool) -> Result<()> {
    let testsuite = || {
        let mut cmd = cargo();
        cmd.args(["test", "--locked", "--test", "testsuite", "--manifest-path"])
            .arg(ws.fork_source().join("Cargo.toml"))
            .arg("--target-dir")
            .arg(ws.fork_target())
            .envs(toolchain::fork_source_env());
        cmd
    };
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
    step("Testing", format!("{} tests of Cargo's testsuite", names.len()));
    run(testsuite().arg("--").arg("--exact").args(&names))
        .context("patch tests in Cargo's testsuite failed (see above)")
}

/// `cargo xtask try`: builds the fork and shows it on the bundled example.
pub fn try_it(ws: &Workspace) -> Result<()> {
    let fork = toolchain::build(ws)?;
    let example = ws.root().join("examples").join("try");
    let target_dir = ws.target().join("try");
    let fork_cargo = |args: &[&str]| {
        let mut cmd = Command::new(&fork);
        cmd.current_dir(&example)
            .args(args)
            .arg("--target-dir")
            .arg(&target_dir)
            // The fork must pick its compiler from its own toolchain folder.
            .env("RUSTC", fork.with_file_name("rustc"))
            .env_remove("RUSTUP_TOOLCHAIN");
        cmd
    };
    step("Running", "the example with the fork: `cargo run --locked`");
    run(&mut fork_cargo(&["run", "--locked"]))?;
    step("Testing", "the example with the fork: `cargo test --locked`");
    run(&mut fork_cargo(&["test", "--locked"]))?;
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
        assert_eq!(modules, ["cargo_build", "version"]);
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
