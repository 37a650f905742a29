//! Programs the checks use besides the toolchain (sccache, the wild linker): found on PATH,
//! else installed from crates.io into `target/tools/`, never into the user's `~/.cargo/bin`.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::process::{cargo, run, step};
use crate::workspace::Workspace;

/// `program` on PATH, else in `target/tools/bin/`.
pub fn find(ws: &Workspace, program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([ws.tools().join("bin")])
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// `cargo install --locked <krate> --version <version> <args>` into `target/tools/`.
pub fn install(ws: &Workspace, krate: &str, version: &str, args: &[&str]) -> Result<()> {
    step("Installing", format!("{krate} {version} from crates.io"));
    run(cargo()
        .args(["install", "--locked", krate, "--version", version])
        .args(args)
        .arg("--root")
        .arg(ws.tools()))
    .with_context(|| format!("installing {krate} {version} from crates.io failed"))?;
    Ok(())
}
