//! A published package unpacked as a workspace of its own: how `compat` and the benchmark's
//! published fixtures get projects nobody here wrote, at a fixed version, built with our lock
//! file.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use support::process::{cargo, run_captured, step};
use support::workspace::{Workspace, clear_except_build_folders};

use super::crates_io;

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
            run_captured(cargo().current_dir(dir).args([
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

/// The packages of a published package's own Cargo.lock whose names start with one of
/// `prefixes`, as `(name, version)`: the crates of a project published as many packages (such
/// as gitoxide and its `gix-*` crates), to be joined as the workspace they were written in.
pub fn members_from_its_lock(
    ws: &Workspace,
    (name, version): (&str, &str),
    prefixes: &[&str],
) -> Result<Vec<(String, String)>> {
    let lock = crates_io::fetch(ws, name, version)?.read_file("Cargo.lock")?;
    let lock: toml_edit::DocumentMut = lock
        .parse()
        .with_context(|| format!("reading the Cargo.lock of {name}@{version}"))?;
    let mut members = Vec::new();
    for package in lock
        .get("package")
        .and_then(|p| p.as_array_of_tables())
        .into_iter()
        .flatten()
    {
        let field = |key: &str| {
            package
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
        };
        let (member, member_version) = (field("name"), field("version"));
        if member != name && prefixes.iter().any(|prefix| member.starts_with(prefix)) {
            members.push((member.to_string(), member_version.to_string()));
        }
    }
    Ok(members)
}
