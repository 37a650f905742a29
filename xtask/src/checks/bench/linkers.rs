//! The faster linkers measured beside rustc's default one (rust-lld, which rustc 1.90 and later
//! use on x86_64 Linux): mold and wild, and the rustc flags that select each, exactly as the
//! README tells users to write them.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use support::process::{run, run_captured, step};
use support::tools;
use support::workspace::Workspace;

/// The wild release measured (crates.io `wild-linker`; it builds on Rust 1.94 and later).
pub const WILD_VERSION: &str = "0.10.0";

/// A linker that rustc can be told to use.
pub struct Linker {
    pub name: &'static str,
    /// The rustc flags that select it, one per element.
    pub rustflags: Vec<String>,
}

/// The linkers found on this machine, and for each one that is not, why it is left out.
pub fn available(ws: &Workspace) -> (Vec<Linker>, Vec<String>) {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    match tools::find(ws, "mold") {
        // GCC 12.1 and later know `-fuse-ld=mold`; it comes after rustc's own `-fuse-ld=lld`.
        Some(_) => found.push(Linker {
            name: "mold",
            rustflags: vec!["-Clink-arg=-fuse-ld=mold".into()],
        }),
        None => missing.push("mold: not installed (Debian's `mold` package)".to_string()),
    }
    match tools::find(ws, "wild").map(|wild| wild_as_ld(ws, &wild)) {
        // GCC has no `-fuse-ld=wild`: it takes the `ld` of the folder given with `-B`, once
        // rustc stops selecting its own rust-lld.
        Some(Ok(dir)) => found.push(Linker {
            name: "wild",
            rustflags: vec![
                "-Clinker-features=-lld".into(),
                format!("-Clink-arg=-B{}", dir.display()),
            ],
        }),
        Some(Err(err)) => missing.push(format!("wild: {err:#}")),
        None => missing.push(format!(
            "wild: not installed (`cargo xtask linkers` installs wild-linker {WILD_VERSION})"
        )),
    }
    (found, missing)
}

/// `cargo xtask linkers`: installs wild from crates.io into `target/tools/`, and mold with
/// apt-get when it is missing and this runs as root (otherwise says how).
pub fn install(ws: &Workspace) -> Result<()> {
    if tools::find(ws, "wild").is_none() {
        tools::install(ws, "wild-linker", WILD_VERSION, &[])?;
    }
    if tools::find(ws, "mold").is_none() {
        let root = run_captured(Command::new("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0");
        if root {
            step("Installing", "mold (Debian's package)");
            run(Command::new("apt-get").args(["install", "-y", "mold"]))
                .context("installing mold failed; try `apt-get update` first")?;
        } else {
            step("Skipped", "mold: run `sudo apt-get install mold`");
        }
    }
    let (found, missing) = available(ws);
    for linker in found {
        step(
            "Ready",
            format!("{}: {}", linker.name, linker.rustflags.join(" ")),
        );
    }
    for reason in missing {
        step("Missing", reason);
    }
    Ok(())
}

/// A folder whose `ld` is wild, for GCC's `-B`.
fn wild_as_ld(ws: &Workspace, wild: &Path) -> Result<PathBuf> {
    let dir = ws.tools().join("ld-wild");
    std::fs::create_dir_all(&dir)?;
    let ld = dir.join("ld");
    if std::fs::read_link(&ld).ok().as_deref() != Some(wild) {
        let _ = std::fs::remove_file(&ld);
        std::os::unix::fs::symlink(wild, &ld)
            .with_context(|| format!("linking {} to {}", ld.display(), wild.display()))?;
    }
    Ok(dir)
}
