//! The test harnesses: Cargo's own testsuite for the patches, and our end-to-end tests.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::compat;
use crate::patch_file::{self, Patch};
use crate::process::{cargo, run, run_captured, step};
use crate::toolchain;
use crate::workspace::{Workspace, remove_dir_if_exists};

/// Upstream testsuite modules that `--upstream` runs besides the ones our patches touch:
/// those that exercise what the patches change (profiles, compilation, the commands the
/// dynamic profile refuses, the unit graph, and every command's `--help`).
fn is_upstream_regression_test(name: &str) -> bool {
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

/// `cargo xtask test`.
pub fn test(ws: &Workspace, with_upstream: bool) -> Result<()> {
    let fork = toolchain::build(ws)?;

    let series = patch_file::read_series(&ws.patches())?;
    let modules = modules_touched_by(&series);
    let selected = |name: &str| {
        modules
            .iter()
            .any(|module| name.starts_with(&format!("{module}::")))
            || (with_upstream && is_upstream_regression_test(name))
    };
    let mut tally = Tally::default();
    let result = run_testsuite(ws, &selected, &mut tally).and_then(|()| {
        step(
            "Testing",
            "our crates: xtask and the end-to-end tests (tests/)",
        );
        tally
            .run(
                cargo()
                    .current_dir(ws.root())
                    .args(["test", "--locked", "--workspace"])
                    .env("CARGO_DYNAMIC_TOOLCHAIN", ws.toolchain()),
            )
            .context("end-to-end or xtask tests failed (see above)")?;
        // The quick subset of published crates: their own suites, dev against dynamic.
        let quick = compat::select(&compat::load_list(ws)?, &[], true)?;
        step(
            "Testing",
            format!(
                "{} published crates under `dev` and `dynamic` (compat/crates.toml)",
                quick.len()
            ),
        );
        compat::run_entries(ws, &fork, &quick)
    });
    // One closing line over every harness, for people and for CI alike.
    println!(
        "xtask: {} passed, {} failed, {} skipped",
        tally.passed, tally.failed, tally.ignored
    );
    result
}

/// Sums libtest's `test result:` lines over several runs.
#[derive(Default, Debug, PartialEq)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
}

impl Tally {
    /// Runs a `cargo test`, passing its output through and counting its results.
    fn run(&mut self, cmd: &mut Command) -> Result<()> {
        let mut child = cmd
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("could not start {}", crate::process::describe(cmd)))?;
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line?;
            println!("{line}");
            self.count(&line);
        }
        let status = child.wait()?;
        if !status.success() {
            bail!("{} failed ({status})", crate::process::describe(cmd));
        }
        Ok(())
    }

    /// `test result: ok. 6 passed; 0 failed; 1 ignored; 0 measured; 5 filtered out; ...`
    fn count(&mut self, line: &str) {
        let Some(result) = line.strip_prefix("test result: ") else {
            return;
        };
        for part in result.split([';', '.']) {
            let mut words = part.split_whitespace();
            let (Some(n), Some(what)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = n.parse::<u64>() else { continue };
            match what {
                "passed" => self.passed += n,
                "failed" => self.failed += n,
                "ignored" => self.ignored += n,
                _ => {}
            }
        }
    }
}

/// Runs the selected tests of Cargo's testsuite (`cargo/tests/testsuite`) on the fork's source.
fn run_testsuite(ws: &Workspace, selected: &dyn Fn(&str) -> bool, tally: &mut Tally) -> Result<()> {
    run_testsuite_of(
        &ws.fork_source(),
        &ws.fork_target(),
        &cargo,
        selected,
        tally,
    )
}

/// Runs the selected tests of the testsuite of the Cargo source in `source`, compiled into
/// `target_dir` by the cargo that `cargo` starts.
pub fn run_testsuite_of(
    source: &Path,
    target_dir: &Path,
    cargo: &dyn Fn() -> Command,
    selected: &dyn Fn(&str) -> bool,
    tally: &mut Tally,
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
    tally
        .run(testsuite().arg("--").arg("--exact").args(&names))
        .context("patch tests in Cargo's testsuite failed (see above)")?;
    // Every test leaves its project, built, in `tmp/cit/` (3 GB for ours). They are kept when a
    // test fails, to be looked at; after a green run they only fill the disk.
    remove_dir_if_exists(&target_dir.join("tmp").join("cit"))
}

/// Full debuginfo makes Cargo's testsuite build 4.3 GB, which filled CI's disk; line tables
/// (enough for backtraces) make it 1.9 GB. `--config`, not `CARGO_PROFILE_*`: the Cargo under
/// test must not inherit it.
pub const TESTSUITE_DEBUGINFO: [&str; 2] = ["--config", "profile.dev.debug=\"line-tables-only\""];

/// `cargo test --test testsuite` of the Cargo source in `source`, compiled into `target_dir`.
fn testsuite_command(source: &Path, target_dir: &Path, cargo: &dyn Fn() -> Command) -> Command {
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

/// Runs the given modules of the testsuite in `source` with `SNAPSHOTS=overwrite`, which
/// rewrites their snapshot files from what the Cargo in `source` prints.
pub fn overwrite_snapshots(
    source: &Path,
    target_dir: &Path,
    cargo: &dyn Fn() -> Command,
    modules: &[String],
) -> Result<()> {
    let output = run_captured(
        testsuite_command(source, target_dir, cargo)
            .env("SNAPSHOTS", "overwrite")
            .arg("--")
            .args(modules.iter().map(|m| format!("{m}::"))),
    )?;
    let mut tally = Tally::default();
    output.lines().for_each(|line| tally.count(line));
    if tally.passed == 0 {
        bail!("no test of {} ran", modules.join(", "));
    }
    Ok(())
}

/// `cargo xtask try`: builds the fork, then shows the `dynamic` profile on the bundled example
/// (`examples/try`) next to `dev`: same output, same tests, and what it changes.
pub fn try_it(ws: &Workspace) -> Result<()> {
    let fork = toolchain::build(ws)?;
    // A copy, so that the edit below never touches the repository.
    let root = ws.target().join("try");
    let example = root.join("example");
    let target_dir = root.join("target");
    crate::workspace::copy_without_target(&ws.root().join("examples").join("try"), &example)?;
    let fork_cargo = |args: &[&str]| {
        let mut cmd = toolchain::fork_cargo(&fork);
        cmd.current_dir(&example)
            .args(args)
            .env("CARGO_TARGET_DIR", &target_dir);
        cmd
    };

    let modes: [(&str, &[&str]); 2] = [("dev", &[]), ("dynamic", &["--dynamic"])];
    let mut outputs = Vec::new();
    for (mode, flag) in modes {
        step(
            "Building",
            format!("examples/try with the fork, `{mode}` profile"),
        );
        run(fork_cargo(&[&["build", "--locked"], flag].concat()).arg("--quiet"))?;
        step(
            "Running",
            format!(
                "`cargo run{}`",
                flag.iter().map(|f| format!(" {f}")).collect::<String>()
            ),
        );
        let output = run_captured(&mut fork_cargo(
            &[&["run", "--locked", "-q"], flag].concat(),
        ))?;
        print!("{output}");
        outputs.push(output);
    }
    if outputs[0] != outputs[1] {
        bail!("the example printed different things under `dev` and `dynamic`");
    }
    step(
        "Testing",
        "`cargo test --dynamic` (unit, integration and doc tests)",
    );
    run(&mut fork_cargo(&["test", "--locked", "-q", "--dynamic"]))?;

    // What the mode changes: the libraries are linked into shared objects by link units, the
    // binary is a thin stub over them.
    let shared_objects = |dir: &str| -> Result<usize> {
        Ok(std::fs::read_dir(target_dir.join(dir).join("deps"))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".so"))
            .count())
    };
    // Proc-macros are shared objects in both profiles; only `dynamic` adds the link units.
    let link_units = shared_objects("dynamic")? - shared_objects("debug")?;
    let size = |dir: &str| std::fs::metadata(target_dir.join(dir).join("app")).map(|m| m.len());
    let (dev_size, dynamic_size) = (size("debug")?, size("dynamic")?);

    // One edit-rebuild-run in each mode: a changed string in the binary.
    let main = example.join("app").join("src").join("main.rs");
    let source = std::fs::read_to_string(&main)?;
    let mut times = Vec::new();
    for (i, (mode, flag)) in modes.into_iter().enumerate() {
        std::fs::write(
            &main,
            source.replace("dynamic world", &format!("edited world {i}")),
        )?;
        let start = std::time::Instant::now();
        run(fork_cargo(&[&["run", "--locked", "-q"], flag].concat()).stdout(Stdio::null()))?;
        times.push((mode, start.elapsed()));
    }
    std::fs::write(&main, source)?;

    println!();
    println!(
        "The `dynamic` profile on examples/try (a workspace lib, a bin, crates.io dependencies):"
    );
    println!("  same output as `dev`, and its unit, integration and doc tests pass");
    println!(
        "  {link_units} shared objects linked in target/try/target/dynamic/deps: one per workspace \
         library, one for all the crates.io dependencies together"
    );
    println!(
        "  binary: {} KiB under `dev`, {} KiB under `dynamic`",
        dev_size / 1024,
        dynamic_size / 1024
    );
    for (mode, time) in times {
        println!(
            "  edit of the bin, rebuild and run under `{mode}`: {:.2} s",
            time.as_secs_f64()
        );
    }
    println!("  (one run each, not a benchmark)");
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
    fn tally_sums_libtest_result_lines() {
        let mut tally = Tally::default();
        tally.count("test result: ok. 6 passed; 0 failed; 1 ignored; 0 measured; 5 filtered out; finished in 0.40s");
        tally.count("test foo ... ok");
        tally.count(
            "test result: FAILED. 2 passed; 3 failed; 0 ignored; 0 measured; 0 filtered out",
        );
        assert_eq!(
            tally,
            Tally {
                passed: 8,
                failed: 3,
                ignored: 1
            }
        );
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
