//! `cargo xtask compat`: published crates' own test suites under `dev` and under `--dynamic`,
//! compared test by test, in the spirit of crater.
//!
//! The crates and why each is there are in `compat/crates.toml`. Each is fetched from crates.io
//! through Cargo, unpacked into `target/compat/`, built `--locked` with our lock file for it
//! (`compat/locks/`, made from the package's own `Cargo.lock`), and tested twice with the
//! fork. Any test whose result differs between the two modes is a difference, printed with
//! its output; the command then fails.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::crates_io;
use crate::mode::Mode;
use crate::process::{describe, step};
use crate::toolchain;
use crate::workspace::{Workspace, clear_except_build_folders, remove_dir_if_exists};

/// One entry of `compat/crates.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub name: String,
    pub version: String,
    /// Extra `cargo test` arguments, the same in both modes (features, test targets).
    pub args: Vec<String>,
    /// Other published packages (`name@version`) unpacked beside it and joined with it into
    /// one workspace, where they replace their crates.io versions (`[patch.crates-io]`).
    pub members: Vec<(String, String)>,
    /// Part of the quick subset that `cargo xtask test` runs.
    pub quick: bool,
}

impl Entry {
    fn label(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// Our lock file for it, relative to `compat/`.
    fn lock_file(&self) -> String {
        format!("locks/{}-{}.lock", self.name, self.version)
    }
}

/// Reads the pinned list.
pub fn load_list(ws: &Workspace) -> Result<Vec<Entry>> {
    let path = ws.compat_list();
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    parse_list(&text).with_context(|| format!("in {}", path.display()))
}

fn parse_list(text: &str) -> Result<Vec<Entry>> {
    let doc: toml_edit::DocumentMut = text.parse()?;
    let tables = doc
        .get("crate")
        .and_then(|c| c.as_array_of_tables())
        .context("no `[[crate]]` entries")?;
    let mut entries = Vec::new();
    for table in tables {
        let string = |key: &str| table.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let strings = |key: &str| -> Vec<String> {
            table
                .get(key)
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        let name = string("name").context("an entry has no `name`")?;
        let version = string("version").with_context(|| format!("`{name}` has no `version`"))?;
        if string("why").is_none() {
            bail!("`{name}` does not say `why` it is on the list");
        }
        let members = strings("members")
            .iter()
            .map(|spec| parse_spec(spec))
            .collect::<Result<Vec<_>>>()?;
        let (name, version) = parse_spec(&format!("{name}@{version}"))?;
        entries.push(Entry {
            name,
            version: version.context("a version is required")?,
            args: strings("args"),
            members: members
                .into_iter()
                .map(|(n, v)| {
                    Ok((
                        n.clone(),
                        v.with_context(|| format!("member `{n}` needs @VERSION"))?,
                    ))
                })
                .collect::<Result<_>>()?,
            quick: table
                .get("quick")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
        });
    }
    Ok(entries)
}

/// `name@version` or `name`.
fn parse_spec(spec: &str) -> Result<(String, Option<String>)> {
    match spec.split_once('@') {
        Some((name, version)) => {
            semver::Version::parse(version)
                .with_context(|| format!("`{spec}`: `{version}` is not an exact version"))?;
            Ok((name.to_owned(), Some(version.to_owned())))
        }
        None if !spec.is_empty() => Ok((spec.to_owned(), None)),
        None => bail!("an empty crate name"),
    }
}

/// Which entries a command line selects: all of them, the quick subset, or those named
/// (`NAME` or `NAME@VERSION`). A `NAME@VERSION` not on the list runs with default settings.
pub fn select(list: &[Entry], specs: &[String], quick: bool) -> Result<Vec<Entry>> {
    if specs.is_empty() {
        return Ok(list.iter().filter(|e| e.quick || !quick).cloned().collect());
    }
    specs
        .iter()
        .map(|spec| {
            let (name, version) = parse_spec(spec)?;
            let listed = list
                .iter()
                .find(|e| e.name == name && version.as_ref().is_none_or(|v| *v == e.version));
            match (listed, version) {
                (Some(entry), _) => Ok(entry.clone()),
                (None, Some(version)) => Ok(Entry {
                    name,
                    version,
                    args: Vec::new(),
                    members: Vec::new(),
                    quick: false,
                }),
                (None, None) => bail!(
                    "`{name}` is not in compat/crates.toml: name a version too (`{name}@1.2.3`)"
                ),
            }
        })
        .collect()
}

/// `cargo xtask compat`.
pub fn compat(ws: &Workspace, specs: &[String], quick: bool) -> Result<()> {
    let list = load_list(ws)?;
    let entries = select(&list, specs, quick)?;
    let fork = toolchain::build(ws)?;
    run_entries(ws, &fork, &entries)
}

/// Runs the entries with an already built fork, prints the table, and fails on any
/// difference.
pub fn run_entries(ws: &Workspace, fork: &Path, entries: &[Entry]) -> Result<()> {
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

struct ModeRun {
    build_time: Duration,
    /// The tail of the build's output, when `cargo test --no-run` failed.
    build_error: Option<String>,
    results: TestResults,
}

fn check(ws: &Workspace, fork: &Path, entry: &Entry) -> Result<Row> {
    let dir = prepare(ws, entry)?;
    let target_dir = dir.join("target");
    let mut runs = Vec::new();
    for mode in Mode::BOTH {
        // A clean build each time, so that build times compare; the downloaded sources stay in
        // Cargo's cache. Only one mode's build is on disk at a time (tokio's is 1 GB).
        remove_dir_if_exists(&target_dir)?;
        let cargo_test = |extra: &[&str]| {
            let mut cmd = toolchain::fork_cargo(fork);
            cmd.current_dir(&dir)
                .args(["test", "--locked"])
                .args(mode.flags())
                .args(&entry.args)
                .args(extra)
                .env("CARGO_TARGET_DIR", &target_dir);
            cmd
        };
        step("Building", format!("{} (`{}`)", entry.label(), mode.name()));
        let start = Instant::now();
        let build = merged_output(cargo_test(&["--no-run"]))?;
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
        let test = merged_output(cargo_test(&["--no-fail-fast"]))?;
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

/// Unpacks a published package (and other published packages, joined with it as workspace
/// members) into `dir`, fresh but for its build folders, makes it a workspace of its own, and
/// gives it the lock file `lock`: made once from the package's own Cargo.lock, then kept in the
/// repository. Used by `compat` and by the benchmark's published fixtures.
pub fn unpack_as_workspace(
    ws: &Workspace,
    dir: &Path,
    (name, version): (&str, &str),
    members: &[(String, String)],
    lock: &Path,
) -> Result<()> {
    let label = format!("{name}@{version}");
    if dir.exists() {
        clear_except_build_folders(dir)?;
    }
    fs::create_dir_all(dir)?;
    crates_io::fetch(ws, name, version)?.unpack(dir)?;

    // The published manifest is normalized and has no `[workspace]`: give it one, so that it
    // never joins a workspace above it, and join the members into it.
    let mut workspace = String::from("\n# Added by `cargo xtask`.\n[workspace]\n");
    if !members.is_empty() {
        let mut patch = String::from("\n[patch.crates-io]\n");
        let mut paths = Vec::new();
        for (name, version) in members {
            let path = format!("members/{name}-{version}");
            crates_io::fetch(ws, name, version)?.unpack(&dir.join(&path))?;
            paths.push(format!("\"{path}\""));
            writeln!(patch, "{name} = {{ path = \"{path}\" }}")?;
        }
        writeln!(workspace, "members = [{}]", paths.join(", "))?;
        workspace.push_str(&patch);
    }
    let manifest = dir.join("Cargo.toml");
    let mut text = fs::read_to_string(&manifest)?;
    text.push_str(&workspace);
    fs::write(&manifest, text)?;

    // Every run builds the versions of our lock file, made once from the package's own
    // Cargo.lock (Cargo adjusts only what no longer resolves: a yanked version, say, or the
    // workspace members) and kept in the repository.
    if lock.exists() {
        fs::copy(lock, dir.join("Cargo.lock"))?;
    } else {
        step("Locking", format!("{label} into {}", ws.display(lock)));
        let resolve = || {
            crate::process::run_captured(crate::process::cargo().current_dir(dir).args([
                "metadata",
                "--format-version",
                "1",
                "--quiet",
            ]))
        };
        if let Err(err) = resolve() {
            // A published lock file can name a version that crates.io no longer serves
            // (seen: rusqlite 0.43.0 locks a jiff that is gone): resolve from scratch.
            let first = format!("{err:#}");
            fs::remove_file(dir.join("Cargo.lock"))?;
            resolve().with_context(|| {
                format!("resolving the dependencies of {label}; with its own Cargo.lock: {first}")
            })?;
            eprintln!("note: the Cargo.lock of {label} does not resolve any more; resolved anew");
        }
        fs::create_dir_all(lock.parent().unwrap())?;
        fs::copy(dir.join("Cargo.lock"), lock)?;
        eprintln!("note: wrote {}: commit it", ws.display(lock));
    }
    Ok(())
}

struct Captured {
    success: bool,
    text: String,
}

/// Runs a command with stdout and stderr merged into one pipe, as a terminal would show them:
/// Cargo's `Running <test binary>` lines (stderr) must stay in order with libtest's results
/// (stdout).
fn merged_output(mut cmd: Command) -> Result<Captured> {
    let (mut reader, writer) = std::io::pipe()?;
    cmd.stdout(writer.try_clone()?).stderr(writer);
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not start {}", describe(&cmd)))?;
    // `cmd` keeps our copies of the pipe's writing end: close them, so that the read below
    // ends when the child exits.
    drop(cmd);
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    let status = child.wait()?;
    Ok(Captured {
        success: status.success(),
        text: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Passed,
    Failed,
    Ignored,
}

/// What one `cargo test` run reported: per test binary (its source, e.g. `itoa: tests/test.rs`,
/// or `doc-tests: itoa`), the outcome of each test, the output of each failed test, and whether
/// the binary finished (printed its `test result:` line).
#[derive(Debug, Default)]
struct TestResults {
    binaries: BTreeMap<String, Binary>,
}

#[derive(Debug, Default)]
struct Binary {
    outcomes: BTreeMap<String, Outcome>,
    failure_output: BTreeMap<String, String>,
    finished: bool,
    /// Everything printed while it ran, for a binary that did not finish.
    output: String,
}

impl TestResults {
    fn parse(text: &str) -> TestResults {
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
                binary.outcomes.insert(name, outcome);
            }
        }
        results
    }

    fn count(&self, outcome: Outcome) -> usize {
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

/// `test NAME ... ok` (or `FAILED`, `ignored`, `ignored, <reason>`).
fn test_line(line: &str) -> Option<(String, Outcome)> {
    let (name, result) = line.strip_prefix("test ")?.split_once(" ... ")?;
    let outcome = match result.trim() {
        "ok" => Outcome::Passed,
        "FAILED" => Outcome::Failed,
        r if r == "ignored" || r.starts_with("ignored, ") => Outcome::Ignored,
        _ => return None,
    };
    Some((name.to_owned(), outcome))
}

/// Every difference between the two modes, with the output that explains it.
fn compare(dev: &ModeRun, dynamic: &ModeRun) -> Vec<String> {
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

    #[test]
    fn the_list_needs_a_reason_per_crate() {
        let err = parse_list("[[crate]]\nname = \"itoa\"\nversion = \"1.0.19\"\n").unwrap_err();
        assert!(err.to_string().contains("why"), "{err}");
        let list = parse_list(
            "[[crate]]\nname = \"serde_json\"\nversion = \"1.0.1\"\nwhy = \"x\"\n\
             members = [\"serde@1.0.2\"]\nquick = true\n",
        )
        .unwrap();
        assert_eq!(list[0].members, [("serde".to_owned(), "1.0.2".to_owned())]);
        assert!(list[0].quick);
    }

    #[test]
    fn names_select_entries_and_unknown_versions_run_with_defaults() {
        let list = parse_list(
            "[[crate]]\nname = \"itoa\"\nversion = \"1.0.19\"\nwhy = \"x\"\nquick = true\n\
             [[crate]]\nname = \"tokio\"\nversion = \"1.54.1\"\nwhy = \"y\"\nargs = [\"--features\", \"full\"]\n",
        )
        .unwrap();
        assert_eq!(select(&list, &[], true).unwrap().len(), 1);
        assert_eq!(select(&list, &[], false).unwrap().len(), 2);
        assert_eq!(
            select(&list, &["tokio".into()], false).unwrap()[0].args,
            ["--features", "full"]
        );
        assert!(
            select(&list, &["semver@1.0.28".into()], false).unwrap()[0]
                .args
                .is_empty()
        );
        assert!(select(&list, &["semver".into()], false).is_err());
    }
}
