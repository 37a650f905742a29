//! Published packages from crates.io, fetched through Cargo itself (so the user's registry
//! configuration, proxies and cache all apply) and checked against the index's checksum.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};

use support::process::{cargo, run_captured};
use support::workspace::Workspace;

/// A `.crate` archive as crates.io serves it.
pub struct Downloaded {
    pub name: String,
    pub version: String,
    pub bytes: Vec<u8>,
    /// sha256 of `bytes`, equal to the checksum crates.io's index records for the package.
    pub sha256: String,
}

impl Downloaded {
    /// `cargo-0.96.0`: the package's folder name inside its archive.
    pub fn package_dir(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }

    /// Walks the archive (a gzip'ed tar with one top folder), handing each entry to `visit`
    /// with its path inside that top folder, until `visit` returns `false`.
    fn walk(
        &self,
        mut visit: impl FnMut(&Path, &mut tar::Entry<'_, GzDecoder<&[u8]>>) -> Result<bool>,
    ) -> Result<()> {
        let top = self.package_dir();
        let mut archive = tar::Archive::new(GzDecoder::new(&self.bytes[..]));
        for entry in archive.entries()? {
            let mut entry = entry?;
            let path = entry.path()?.into_owned();
            let relative = path
                .strip_prefix(&top)
                .with_context(|| format!("{} is outside {top}/ in the package", path.display()))?;
            if relative.as_os_str().is_empty() {
                continue;
            }
            if !visit(relative, &mut entry)? {
                break;
            }
        }
        Ok(())
    }

    /// Unpacks the archive into `dest`, without its top folder.
    pub fn unpack(&self, dest: &Path) -> Result<()> {
        self.walk(|relative, entry| {
            let out = dest.join(relative);
            if let Some(parent) = out.parent() {
                fs::create_dir_all(parent)?;
            }
            entry
                .unpack(&out)
                .with_context(|| format!("unpacking {}", relative.display()))?;
            Ok(true)
        })
    }

    /// The text of one file of the package (`Cargo.toml`), without unpacking the rest.
    pub fn read_file(&self, file: &str) -> Result<String> {
        let mut text = None;
        self.walk(|relative, entry| {
            if relative != Path::new(file) {
                return Ok(true);
            }
            let mut contents = String::new();
            std::io::Read::read_to_string(entry, &mut contents)?;
            text = Some(contents);
            Ok(false)
        })?;
        text.with_context(|| format!("{} has no {file}", self.package_dir()))
    }
}

/// Makes Cargo download `name` at exactly `version` (a throw-away project that depends on it),
/// then reads the archive from Cargo's cache and checks it against the index's checksum,
/// which Cargo wrote into the throw-away project's lock file.
pub fn fetch(ws: &Workspace, name: &str, version: &str) -> Result<Downloaded> {
    let dir = ws.scratch().join(format!("fetch-{name}-{version}"));
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    fs::write(
        dir.join("Cargo.toml"),
        format!(
            "# Written by `cargo xtask` to make Cargo fetch a published package.\n\
             [package]\nname = \"xtask-fetch\"\nversion = \"0.0.0\"\n\
             edition = \"2021\"\npublish = false\n\n[lib]\npath = \"lib.rs\"\n\n\
             [dependencies]\n{name} = \"={version}\"\n\n[workspace]\n"
        ),
    )?;
    fs::write(dir.join("lib.rs"), "")?;

    // Offline first: a package already in Cargo's cache needs no network at all.
    // (`cargo fetch`, not `cargo metadata`: the latter leaves out a dependency without a
    // library, such as a binary-only package.)
    let fetch = |offline: bool| {
        let mut cmd = cargo();
        cmd.current_dir(&dir).args(["fetch", "--quiet"]);
        if offline {
            cmd.arg("--offline");
        }
        run_captured(&mut cmd)
    };
    if fetch(true).is_err() {
        fetch(false).with_context(|| {
            format!(
                "fetching {name} {version} from crates.io through `cargo fetch` failed.\n\
                 Check that the version exists and that crates.io is reachable (Cargo's \
                 proxy and registry settings apply), then run the command again."
            )
        })?;
    }
    let crate_file = archive_in_cache(&format!("{name}-{version}"))?;
    let bytes = fs::read(&crate_file)
        .with_context(|| format!("reading the downloaded package {}", crate_file.display()))?;

    let index_checksum = lock_checksum(&dir.join("Cargo.lock"), name, version)?;
    let sha256 = hex(&Sha256::digest(&bytes));
    if sha256 != index_checksum {
        bail!(
            "{} does not match crates.io's checksum for {name} {version} ({index_checksum}): \
             the cached file is damaged; delete it and run the command again",
            crate_file.display()
        );
    }
    Ok(Downloaded {
        name: name.to_owned(),
        version: version.to_owned(),
        bytes,
        sha256,
    })
}

/// Cargo keeps each downloaded archive as `$CARGO_HOME/registry/cache/<index>/<name>-<version>.crate`.
fn archive_in_cache(package_dir: &str) -> Result<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .context("neither CARGO_HOME nor HOME is set")?;
    let cache = cargo_home.join("registry").join("cache");
    let file_name = format!("{package_dir}.crate");
    for index in fs::read_dir(&cache).with_context(|| format!("reading {}", cache.display()))? {
        let candidate = index?.path().join(&file_name);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!(
        "Cargo fetched {package_dir}, but its archive is not in {}",
        cache.display()
    )
}

/// The `checksum` of a registry package in a lock file.
fn lock_checksum(lock_file: &Path, name: &str, version: &str) -> Result<String> {
    let text = fs::read_to_string(lock_file)
        .with_context(|| format!("reading {}", lock_file.display()))?;
    let lock: toml_edit::DocumentMut = text.parse()?;
    lock.get("package")
        .and_then(|p| p.as_array_of_tables())
        .into_iter()
        .flatten()
        .find(|p| {
            p.get("name").and_then(|v| v.as_str()) == Some(name)
                && p.get("version").and_then(|v| v.as_str()) == Some(version)
        })
        .and_then(|p| p.get("checksum")?.as_str())
        .map(str::to_ascii_lowercase)
        .with_context(|| {
            format!(
                "{} has no checksum for {name} {version}",
                lock_file.display()
            )
        })
}

/// Lower-case hexadecimal, as sha256 sums are written.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
