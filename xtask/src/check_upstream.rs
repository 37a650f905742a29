//! `cargo xtask check-upstream`: would the series move to each of the next upstream releases?
//!
//! For each version, on a scratch copy (`target/upstream-check/cargo-<version>/`): replay the
//! series onto it exactly as `cargo xtask rebase --to` would (three-way merges), build the fork
//! and run the patch tests. `cargo/`, `patches/` and the pin are never touched.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::crates_io::{self, Downloaded};
use crate::harness::{self, Tally};
use crate::patch_file;
use crate::process::{cargo, run, run_captured, step};
use crate::rebase::{self, Replay};
use crate::toolchain;
use crate::upstream::Pin;
use crate::workspace::{Workspace, remove_dir_if_exists};

/// The releases checked by default: the pinned one and the next four. Cargo `0.N` ships with
/// Rust `1.(N-1)`.
pub const DEFAULT_VERSIONS: &[&str] = &["0.96.0", "0.97.2", "0.98.0", "0.99.0", "0.100.0"];

struct Row {
    version: String,
    applies: String,
    toolchain: String,
    builds: String,
    tests: String,
    seconds: f64,
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
    let pinned = crate::upstream::fetch(ws, &pin)?;
    let stable = toolchain::Rustc::query()?;

    let mut rows = Vec::new();
    for (i, version) in versions.iter().enumerate() {
        step(
            "Checking",
            format!("[{}/{}] {} {version}", i + 1, versions.len(), pin.krate),
        );
        let start = Instant::now();
        let mut row = check_one(ws, &pin, &pinned, &series, &stable, version)?;
        row.seconds = start.elapsed().as_secs_f64();
        rows.push(row);
    }

    let mut table = String::from(
        "\n| cargo | applies | built with | builds | patch tests | time |\n\
         | --- | --- | --- | --- | --- | --- |\n",
    );
    for row in &rows {
        writeln!(
            table,
            "| {} | {} | {} | {} | {} | {:.0} s |",
            row.version, row.applies, row.toolchain, row.builds, row.tests, row.seconds
        )?;
    }
    print!("{table}");
    // The two build folders (stable and nightly) took 13 and 19 GB. Each release builds
    // its own Cargo in them anyway, so keeping them would save little next time.
    let root = ws.target().join("upstream-check");
    for builder in ["stable", "nightly"] {
        remove_dir_if_exists(&root.join(format!("target-{builder}")))?;
    }
    let failed: Vec<_> = rows
        .iter()
        .filter(|r| !r.tests.starts_with("pass"))
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
    series: &[patch_file::Patch],
    stable: &toolchain::Rustc,
    version: &str,
) -> Result<Row> {
    let mut row = Row {
        version: version.to_owned(),
        applies: String::new(),
        toolchain: "-".into(),
        builds: "-".into(),
        tests: "-".into(),
        seconds: 0.0,
    };
    let package = crates_io::fetch(ws, &pin.krate, version)?;
    let root = ws.target().join("upstream-check");
    let source = root.join(package.package_dir());

    // A release newer than the stable toolchain may need a newer rustc (its `rust-version`):
    // then it is built with the installed nightly, and its tests still drive the stable rustc.
    let needs = rust_version_of(&package)?;
    let builder = if needs
        .as_ref()
        .is_none_or(|v| version_at_most(v, &stable.release))
    {
        Builder::stable(stable)
    } else {
        match Builder::nightly()? {
            Some(nightly) if version_at_most(needs.as_deref().unwrap(), &nightly.release) => {
                nightly
            }
            other => {
                row.applies = "not tried".into();
                row.builds = format!(
                    "no: needs rustc {}, newest installed is {}",
                    needs.unwrap(),
                    other.map_or(stable.release.clone(), |n| n.release)
                );
                return Ok(row);
            }
        }
    };
    // Not the fork's own build cache: the uplifted `debug/cargo` of another release there
    // would be what the fork's testsuite runs next time.
    let target_dir = root.join(format!("target-{}", builder.name));
    let regenerate = |modules: &[String]| {
        harness::overwrite_snapshots(&source, &target_dir, &|| builder.cargo(), modules)
    };
    match rebase::replay_on_scratch(pinned, series, &package, &source, &regenerate)? {
        Replay::Conflict { subject, files } => {
            row.applies = format!("no: `{subject}` conflicts in {}", files.join(", "));
            return Ok(row);
        }
        Replay::Stranded { subject, files } => {
            let files: Vec<String> = files.iter().map(rebase::Stranded::describe).collect();
            row.applies = format!("no: `{subject}` adds {}", files.join(", "));
            return Ok(row);
        }
        Replay::Done { dropped } if dropped.is_empty() => row.applies = "yes".into(),
        Replay::Done { dropped } => {
            row.applies = format!("yes, upstream has: {}", dropped.join(", "))
        }
    }
    row.toolchain = builder.label();

    step(
        "Building",
        format!("cargo {version} with the series ({})", row.toolchain),
    );
    let built = run(builder
        .cargo()
        .current_dir(&source)
        .args(["build", "--locked", "--bin", "cargo", "--target-dir"])
        .arg(&target_dir)
        .args(harness::TESTSUITE_DEBUGINFO)
        .envs(toolchain::fork_source_env()));
    if let Err(err) = built {
        row.builds = format!("no: {err}");
        return Ok(row);
    }
    row.builds = "yes".into();

    let modules = harness::modules_touched_by(series);
    let selected = |name: &str| modules.iter().any(|m| name.starts_with(&format!("{m}::")));
    let mut tally = Tally::default();
    let tested = harness::run_testsuite_of(
        &source,
        &target_dir,
        &|| builder.cargo(),
        &selected,
        &mut tally,
    );
    row.tests = match tested {
        Ok(()) => format!("pass ({} passed, {} ignored)", tally.passed, tally.ignored),
        Err(_) => format!("FAIL ({} passed, {} failed)", tally.passed, tally.failed),
    };
    Ok(row)
}

/// How a release is compiled.
struct Builder {
    name: &'static str,
    release: String,
    /// The toolchain's own cargo and rustc, when not the ones running the xtask.
    tools: Option<(PathBuf, PathBuf)>,
}

impl Builder {
    fn stable(rustc: &toolchain::Rustc) -> Builder {
        Builder {
            name: "stable",
            release: rustc.release.clone(),
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
        let verbose = run_captured(Command::new(&rustc).arg("-vV"))?;
        let release = verbose
            .lines()
            .find_map(|l| l.strip_prefix("release: "))
            .context("`rustc -vV` printed no release")?
            .to_owned();
        Ok(Some(Builder {
            name: "nightly",
            release,
            tools: Some((cargo, rustc)),
        }))
    }

    fn label(&self) -> String {
        format!("rustc {}", self.release)
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
    let manifest = format!("{}/Cargo.toml", package.package_dir());
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&package.bytes[..]));
    for entry in archive.entries()? {
        let mut entry = entry?;
        if entry.path()?.to_str() == Some(manifest.as_str()) {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut entry, &mut text)?;
            let doc: toml_edit::DocumentMut = text.parse()?;
            return Ok(doc
                .get("package")
                .and_then(|p| p.get("rust-version"))
                .and_then(|v| v.as_str())
                .map(str::to_owned));
        }
    }
    bail!("{} has no Cargo.toml", package.package_dir())
}

/// Whether rust-version `needed` (`1.96` or `1.96.1`) is met by rustc release `have`
/// (`1.97.0-nightly`).
fn version_at_most(needed: &str, have: &str) -> bool {
    let numbers = |v: &str| -> Vec<u64> {
        v.split(['.', '-'])
            .take(3)
            .map(|n| n.parse().unwrap_or(0))
            .collect()
    };
    let (mut needed, have) = (numbers(needed), numbers(have));
    needed.resize(3, 0);
    needed <= have
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_versions_compare_as_numbers() {
        assert!(version_at_most("1.95", "1.95.0"));
        assert!(version_at_most("1.93", "1.95.0"));
        assert!(!version_at_most("1.96", "1.95.0"));
        assert!(version_at_most("1.97", "1.97.0-nightly"));
        assert!(!version_at_most("1.100", "1.97.0-nightly"));
        assert!(version_at_most("1.9", "1.10.0"));
    }
}
