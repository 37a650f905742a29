//! The pinned upstream package: read the pin, fetch the package through Cargo, verify it,
//! unpack it.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::process::{cargo, run_captured};
use crate::workspace::Workspace;

/// `upstream.toml`: which crates.io package our patches apply to.
#[derive(Debug, Clone, PartialEq)]
pub struct Pin {
    pub krate: String,
    pub version: semver::Version,
    /// sha256 of the `.crate` file, as crates.io's index records it.
    pub sha256: String,
}

impl Pin {
    pub fn load(ws: &Workspace) -> Result<Pin> {
        let path = ws.pin_file();
        let text = fs::read_to_string(&path)
            .with_context(|| format!("reading the upstream pin {}", path.display()))?;
        Pin::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Pin> {
        let doc: toml_edit::DocumentMut = text.parse()?;
        let field = |key: &str| -> Result<String> {
            doc.get("upstream")
                .and_then(|t| t.get(key))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
                .with_context(|| format!("`upstream.{key}` is missing or not a string"))
        };
        let version = field("version")?;
        Ok(Pin {
            krate: field("crate")?,
            version: version
                .parse()
                .with_context(|| format!("`upstream.version = \"{version}\"` is not semver"))?,
            sha256: field("sha256")?.to_ascii_lowercase(),
        })
    }

    /// `cargo-0.96.0`: the package's directory name inside the `.crate` archive.
    pub fn package_dir(&self) -> String {
        format!("{}-{}", self.krate, self.version)
    }
}

/// Gets the pinned package from crates.io through Cargo's own registry client (so the
/// user's registry configuration, proxies and cache all apply), and checks its sha256.
pub fn fetch(ws: &Workspace, pin: &Pin) -> Result<Vec<u8>> {
    let crate_file = locate_in_cargo_cache(ws, pin)?;
    let bytes = fs::read(&crate_file)
        .with_context(|| format!("reading the downloaded package {}", crate_file.display()))?;
    let actual = hex(&Sha256::digest(&bytes));
    if actual != pin.sha256 {
        bail!(
            "checksum mismatch for {} {}: upstream.toml pins sha256 {}, but {} has {}.\n\
             If upstream.toml is right, that cached file is damaged: delete it and run the \
             command again. Nothing was changed.",
            pin.krate,
            pin.version,
            pin.sha256,
            crate_file.display(),
            actual
        );
    }
    Ok(bytes)
}

/// Makes Cargo download the package (a throw-away project that depends on exactly that
/// version) and returns where Cargo keeps the `.crate` file.
fn locate_in_cargo_cache(ws: &Workspace, pin: &Pin) -> Result<PathBuf> {
    let dir = ws.scratch().join(format!("fetch-{}", pin.package_dir()));
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    fs::write(
        dir.join("Cargo.toml"),
        format!(
            "# Written by `cargo xtask sync` to make Cargo fetch the upstream package.\n\
             [package]\nname = \"xtask-fetch-upstream\"\nversion = \"0.0.0\"\n\
             edition = \"2021\"\npublish = false\n\n[lib]\npath = \"lib.rs\"\n\n\
             [dependencies]\n{} = \"={}\"\n\n[workspace]\n",
            pin.krate, pin.version
        ),
    )?;
    fs::write(dir.join("lib.rs"), "")?;

    // Offline first: a package already in Cargo's cache needs no network at all.
    let metadata = |offline: bool| {
        let mut cmd = cargo();
        cmd.current_dir(&dir)
            .args(["metadata", "--format-version", "1", "--quiet"]);
        if offline {
            cmd.arg("--offline");
        }
        run_captured(&mut cmd)
    };
    let json = match metadata(true) {
        Ok(json) => json,
        Err(_) => metadata(false).with_context(|| {
            format!(
                "fetching {} {} from crates.io through `cargo metadata` failed.\n\
                 Check that crates.io is reachable (Cargo's proxy and registry settings \
                 apply), then run the command again. Nothing was changed.",
                pin.krate, pin.version
            )
        })?,
    };
    let metadata: serde_json::Value =
        serde_json::from_str(&json).context("parsing `cargo metadata` output")?;
    let version = pin.version.to_string();
    let manifest = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == pin.krate.as_str() && p["version"] == version.as_str())
        .and_then(|p| p["manifest_path"].as_str())
        .with_context(|| format!("`cargo metadata` does not list {} {}", pin.krate, version))?;

    // Cargo keeps `<registry>/src/<index>/<name>-<version>/` unpacked and
    // `<registry>/cache/<index>/<name>-<version>.crate` as downloaded.
    let unpacked = Path::new(manifest)
        .parent()
        .context("manifest without a folder")?;
    let index = unpacked
        .parent()
        .context("package outside a registry folder")?;
    let registry = index.parent().and_then(Path::parent);
    let (Some(registry), Some(index_name)) = (registry, index.file_name()) else {
        bail!("{manifest} is not inside a Cargo registry cache");
    };
    let crate_file = registry
        .join("cache")
        .join(index_name)
        .join(format!("{}.crate", pin.package_dir()));
    if !crate_file.is_file() {
        bail!(
            "Cargo unpacked {} {} but its archive {} is missing; delete {} and run again",
            pin.krate,
            version,
            crate_file.display(),
            unpacked.display()
        );
    }
    Ok(crate_file)
}

/// Unpacks a `.crate` archive (a gzip'ed tar with one top folder) into `dest`, without that
/// top folder.
pub fn unpack(pin: &Pin, crate_bytes: &[u8], dest: &Path) -> Result<()> {
    let top = pin.package_dir();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(crate_bytes));
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let relative = path
            .strip_prefix(&top)
            .with_context(|| format!("{} is outside {top}/ in the package", path.display()))?;
        if relative.as_os_str().is_empty() {
            continue;
        }
        let out = dest.join(relative);
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent)?;
        }
        entry
            .unpack(&out)
            .with_context(|| format!("unpacking {}", relative.display()))?;
    }
    Ok(())
}

/// Lower-case hexadecimal, as sha256 sums are written.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_parses_and_names_the_package_folder() {
        let pin =
            Pin::parse("[upstream]\ncrate = \"cargo\"\nversion = \"0.96.0\"\nsha256 = \"ABCD\"\n")
                .unwrap();
        assert_eq!(pin.krate, "cargo");
        assert_eq!(pin.version, semver::Version::new(0, 96, 0));
        assert_eq!(pin.sha256, "abcd");
        assert_eq!(pin.package_dir(), "cargo-0.96.0");
    }

    #[test]
    fn pin_without_checksum_is_refused() {
        let err = Pin::parse("[upstream]\ncrate = \"cargo\"\nversion = \"0.96.0\"\n").unwrap_err();
        assert!(err.to_string().contains("upstream.sha256"), "{err}");
    }
}
