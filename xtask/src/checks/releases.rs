//! `cargo xtask check-upstream`: would the series move to each of the next upstream releases?
//!
//! For each version, on a scratch copy (`target/upstream-check/cargo-<version>/`): replay the
//! series onto it exactly as `cargo xtask rebase --to` would (three-way merges), build the fork
//! and run the patch tests. `cargo/`, `patches/` and the pin are never touched.

use std::fmt;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use support::libtest::Counts;
use support::pin::Pin;
use support::process::{cargo, run_captured, step};
use support::rustc::Rustc;
use support::workspace::{Workspace, remove_dir_if_exists};

use super::testsuite::{self, Tested};
use crate::series::patch_file::{self, Patch};
use crate::series::replay::{self, Replay};
use crate::upstream::{self, Downloaded, crates_io};

/// The releases checked by default: the pinned one and the next four. Cargo `0.N` ships with
/// Rust `1.(N-1)`.
pub const DEFAULT_VERSIONS: &[&str] = &["0.96.0", "0.97.2", "0.98.0", "0.99.0", "0.100.0"];

/// What happened to the series on one release; each step runs only if the one before passed.
struct Row {
    version: String,
    applies: Applies,
    builds: Builds,
    tests: Tested,
    time: Duration,
}

enum Applies {
    /// No rustc here can build the release, so the replay was not tried.
    NotTried,
    /// Every patch applied; these were dropped, upstream having the same change.
    Yes { dropped: Vec<String> },
    /// Why not: the conflicting patch and its files.
    No(String),
}

enum Builds {
    NotTried,
    /// With this rustc release.
    Yes {
        rustc: String,
    },
    No(String),
}

impl Row {
    fn passed(&self) -> bool {
        matches!(self.tests, Tested::Pass(_))
    }
}

impl fmt::Display for Applies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Applies::NotTried => f.write_str("not tried"),
            Applies::Yes { dropped } if dropped.is_empty() => f.write_str("yes"),
            Applies::Yes { dropped } => write!(f, "yes, upstream has: {}", dropped.join(", ")),
            Applies::No(why) => write!(f, "no: {why}"),
        }
    }
}

impl fmt::Display for Builds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Builds::NotTried => f.write_str("-"),
            Builds::Yes { .. } => f.write_str("yes"),
            Builds::No(why) => write!(f, "no: {why}"),
        }
    }
}

/// `cargo xtask check-upstream [VERSION...]`.
pub fn check_upstream(ws: &Workspace, versions: &[String]) -> Result<()> {
    let versions: Vec<String> = if versions.is_empty() {
        DEFAULT_VERSIONS.iter().map(|v| v.to_string()).collect()
    } else {
        versions.to_vec()
    };
    let pin = Pin::load(ws)?;
    let series = patch_file::read_series(&ws.patches())?;
    let pinned = upstream::fetch(ws, &pin)?;
    let stable = Rustc::of_toolchain()?;

    let mut rows = Vec::new();
    for (i, version) in versions.iter().enumerate() {
        step(
            "Checking",
            format!("[{}/{}] {} {version}", i + 1, versions.len(), pin.krate),
        );
        let start = Instant::now();
        let mut row = check_one(ws, &pin, &pinned, &series, &stable, version)?;
        row.time = start.elapsed();
        rows.push(row);
    }

    println!(
        "\n| cargo | applies | built with | builds | patch tests | time |\n\
         | --- | --- | --- | --- | --- | --- |"
    );
    for row in &rows {
        let built_with = match &row.builds {
            Builds::Yes { rustc } => format!("rustc {rustc}"),
            _ => "-".into(),
        };
        println!(
            "| {} | {} | {built_with} | {} | {} | {:.0} s |",
            row.version,
            row.applies,
            row.builds,
            row.tests,
            row.time.as_secs_f64()
        );
    }
    // The two build folders (stable and nightly) took 13 and 19 GB. Each release builds
    // its own Cargo in them anyway, so keeping them would save little next time.
    let root = ws.target().join("upstream-check");
    for builder in ["stable", "nightly"] {
        remove_dir_if_exists(&root.join(format!("target-{builder}")))?;
    }
    let failed: Vec<_> = rows
        .iter()
        .filter(|r| !r.passed())
        .map(|r| r.version.as_str())
        .collect();
    if !failed.is_empty() {
        bail!(
            "the series does not carry over to cargo {}",
            failed.join(", ")
        );
    }
    Ok(())
}

fn check_one(
    ws: &Workspace,
    pin: &Pin,
    pinned: &Downloaded,
    series: &[Patch],
    stable: &Rustc,
    version: &str,
) -> Result<Row> {
    let mut row = Row {
        version: version.to_owned(),
        applies: Applies::NotTried,
        builds: Builds::NotTried,
        tests: Tested::NotRun,
        time: Duration::ZERO,
    };
    let package = crates_io::fetch(ws, &pin.krate, version)?;
    let root = ws.target().join("upstream-check");
    let source = root.join(package.package_dir());

    // A release newer than the stable toolchain may need a newer rustc (its `rust-version`):
    // then it is built with the installed nightly, and its tests still drive the stable rustc.
    let needs = rust_version_of(&package)?;
    let builder = match needs {
        None => Builder::stable(stable),
        Some(needs) if stable.meets(&needs) => Builder::stable(stable),
        Some(needs) => match Builder::nightly()? {
            Some(nightly) if nightly.rustc.meets(&needs) => nightly,
            other => {
                let newest = other.map_or(stable.release.clone(), |n| n.rustc.release);
                row.builds =
                    Builds::No(format!("needs rustc {needs}, newest installed is {newest}"));
                return Ok(row);
            }
        },
    };
    // Not the fork's own build cache: the uplifted `debug/cargo` of another release there
    // would be what the fork's testsuite runs next time.
    let target_dir = root.join(format!("target-{}", builder.name));
    let regenerate = |snapshots: &[String]| {
        testsuite::overwrite_snapshots(&source, &target_dir, &|| builder.cargo(), snapshots)
    };
    row.applies = match replay::replay_on_scratch(pinned, series, &package, &source, &regenerate)? {
        Replay::Conflict { subject, files } => {
            Applies::No(format!("`{subject}` conflicts in {}", files.join(", ")))
        }
        Replay::Stranded { subject, files } => {
            let files: Vec<String> = files.iter().map(replay::Stranded::describe).collect();
            Applies::No(format!("`{subject}` adds {}", files.join(", ")))
        }
        Replay::Done { dropped } => Applies::Yes { dropped },
    };
    if !matches!(row.applies, Applies::Yes { .. }) {
        return Ok(row);
    }

    let rustc = builder.rustc.release.clone();
    step(
        "Building",
        format!("cargo {version} with the series (rustc {rustc})"),
    );
    if let Err(err) = testsuite::build_cargo(&source, &target_dir, &|| builder.cargo()) {
        row.builds = Builds::No(format!("{err}"));
        return Ok(row);
    }
    row.builds = Builds::Yes { rustc };

    let modules = testsuite::modules_touched_by(series);
    let selected = |name: &str| modules.iter().any(|m| name.starts_with(&format!("{m}::")));
    let mut counts = Counts::default();
    let tested = testsuite::run_testsuite_of(
        &source,
        &target_dir,
        &|| builder.cargo(),
        &selected,
        &mut counts,
    );
    row.tests = Tested::from(tested, counts);
    Ok(row)
}

/// How a release is compiled.
struct Builder {
    name: &'static str,
    rustc: Rustc,
    /// The toolchain's own cargo and rustc, when not the ones running the xtask.
    tools: Option<(PathBuf, PathBuf)>,
}

impl Builder {
    fn stable(rustc: &Rustc) -> Builder {
        Builder {
            name: "stable",
            rustc: rustc.clone(),
            tools: None,
        }
    }

    fn nightly() -> Result<Option<Builder>> {
        let which = |tool: &str| {
            run_captured(Command::new("rustup").args(["which", "--toolchain", "nightly", tool]))
                .map(|p| PathBuf::from(p.trim()))
        };
        let (Ok(cargo), Ok(rustc)) = (which("cargo"), which("rustc")) else {
            return Ok(None);
        };
        Ok(Some(Builder {
            name: "nightly",
            rustc: Rustc::query(|| Command::new(&rustc))?,
            tools: Some((cargo, rustc)),
        }))
    }

    /// The nightly's cargo compiles with the nightly's rustc (`RUSTC`), while
    /// `RUSTUP_TOOLCHAIN` stays the xtask's: Cargo's testsuite drops `RUSTC` and takes the
    /// compiler under test from `RUSTUP_TOOLCHAIN`, so the patch tests drive the same stable
    /// rustc as on the pinned release.
    fn cargo(&self) -> Command {
        match &self.tools {
            None => cargo(),
            Some((cargo, rustc)) => {
                let mut cmd = Command::new(cargo);
                cmd.env("RUSTC", rustc);
                cmd
            }
        }
    }
}

/// `package.rust-version` of a Cargo release, from its manifest in the archive.
fn rust_version_of(package: &Downloaded) -> Result<Option<String>> {
    let doc: toml_edit::DocumentMut = package.read_file("Cargo.toml")?.parse()?;
    Ok(doc
        .get("package")
        .and_then(|p| p.get("rust-version"))
        .and_then(|v| v.as_str())
        .map(str::to_owned))
}
