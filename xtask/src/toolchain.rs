//! The fork as a toolchain: build it, lay it out like a rustup toolchain, link it into rustup.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use support::fork::Fork;
use support::process::{cargo, run, run_captured, step};
use support::rustc::Rustc;
use support::workspace::{Workspace, remove_dir_if_exists};

use crate::series::sync;

/// The rustup toolchain name the fork is linked as: `cargo +dynamic ...`.
pub const TOOLCHAIN_NAME: &str = "dynamic";

/// Environment for every compilation of the fork's source, release build and testsuite alike.
pub fn fork_source_env() -> [(&'static str, &'static str); 2] {
    [
        // `cargo -V` names the patch set's version (patch 0001 reads it).
        ("CARGO_DYNAMIC_VERSION", env!("CARGO_PKG_VERSION")),
        // Upstream's build script would take the hash of cargo/'s HEAD, a local commit that
        // changes with every sync and identifies nothing: leave it out.
        ("CFG_OMIT_GIT_HASH", "1"),
    ]
}

/// What the first release build of the fork costs, as the README says it (measured on the
/// project's 2-core machine: 6m54s to 13 minutes from a cold cache).
pub const FIRST_BUILD: &str = "7-15 minutes the first time on 2 cores";

fn minutes_and_seconds(elapsed: std::time::Duration) -> String {
    let seconds = elapsed.as_secs();
    if seconds >= 60 {
        format!("{}m {:02}s", seconds / 60, seconds % 60)
    } else {
        format!("{:.1}s", elapsed.as_secs_f64())
    }
}

/// `cargo xtask build`: sync, build the fork in release mode, lay out `target/toolchain/`.
pub fn build(ws: &Workspace) -> Result<Fork> {
    sync::sync(ws)?;
    let rustc = Rustc::of_toolchain()?;
    step(
        "Building",
        format!(
            "the fork (release, {} channel, rustc {}): {FIRST_BUILD}, seconds once built",
            rustc.channel(),
            rustc.release
        ),
    );
    let started = std::time::Instant::now();
    run(cargo()
        .current_dir(ws.fork_source())
        .args([
            "build",
            "--release",
            "--locked",
            "--bin",
            "cargo",
            "--manifest-path",
        ])
        .arg(ws.fork_source().join("Cargo.toml"))
        .arg("--target-dir")
        .arg(ws.fork_target())
        .envs(fork_source_env())
        .env("CFG_RELEASE_CHANNEL", rustc.channel()))
    .context("building the fork failed; the compiler's messages above name the patch to fix")?;

    let built = ws.fork_target().join("release").join("cargo");
    let fork = lay_out(ws, &rustc, &built)?;
    let version = run_captured(Command::new(fork.bin("cargo")).arg("-V"))?;
    step(
        "Finished",
        format!(
            "{} ({}) in {}",
            version.trim(),
            ws.display(&fork.bin("cargo")),
            minutes_and_seconds(started.elapsed())
        ),
    );
    Ok(fork)
}

/// Makes `target/toolchain/` look like a rustup toolchain: `bin/cargo` is the fork, and
/// everything else (rustc, rustdoc, `lib/`, ...) links to the active toolchain.
fn lay_out(ws: &Workspace, rustc: &Rustc, fork: &Path) -> Result<Fork> {
    let dir = ws.toolchain();
    remove_dir_if_exists(&dir)?;
    let bin = dir.join("bin");
    fs::create_dir_all(&bin)?;
    for entry in fs::read_dir(&rustc.sysroot)? {
        let entry = entry?;
        if entry.file_name() != "bin" {
            symlink(entry.path(), dir.join(entry.file_name()))?;
        }
    }
    for entry in fs::read_dir(rustc.sysroot.join("bin"))? {
        let entry = entry?;
        if entry.file_name() != "cargo" {
            symlink(entry.path(), bin.join(entry.file_name()))?;
        }
    }
    // A hard link (or a copy), not a symlink: called directly, the fork takes the `rustc`
    // beside its own executable as the system reports it, which for a symlink would be the
    // build folder's, where there is none.
    let cargo = bin.join("cargo");
    if fs::hard_link(fork, &cargo).is_err() {
        fs::copy(fork, &cargo)?;
    }
    Ok(Fork::at(dir))
}

/// `cargo xtask install`: links `target/toolchain/` into rustup as `dynamic`.
pub fn install(ws: &Workspace) -> Result<()> {
    build(ws)?;
    run(Command::new("rustup")
        .args(["toolchain", "link", TOOLCHAIN_NAME])
        .arg(ws.toolchain()))
    .context("linking the toolchain needs rustup; without it, run target/toolchain/bin/cargo")?;
    step(
        "Installed",
        format!(
            "rustup toolchain `{TOOLCHAIN_NAME}` -> {}",
            ws.toolchain().display()
        ),
    );
    eprintln!(
        "\n    Use it anywhere with `cargo +{TOOLCHAIN_NAME} ...`.\n    \
         It follows every later `cargo xtask build`.\n    \
         Undo with `rustup toolchain uninstall {TOOLCHAIN_NAME}` (removes only the link)."
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README tells a newcomer what the first build costs with the words the build prints.
    #[test]
    fn the_readme_quotes_the_first_build_time() {
        let ws = Workspace::locate();
        let readme = fs::read_to_string(ws.root().join("README.md")).unwrap();
        assert!(
            readme.contains(&format!("({FIRST_BUILD})")),
            "README.md's `cargo xtask try` line should say ({FIRST_BUILD})"
        );
    }
}
