//! The pinned upstream package: read the pin, fetch the package through Cargo and verify it.

use std::fs;

use anyhow::{Context, Result, bail};

use crate::crates_io::{self, Downloaded};
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

    /// Writes the version and checksum back to `upstream.toml`, keeping its comments.
    pub fn save(&self, ws: &Workspace) -> Result<()> {
        let path = ws.pin_file();
        let mut doc: toml_edit::DocumentMut = fs::read_to_string(&path)?.parse()?;
        doc["upstream"]["crate"] = toml_edit::value(&self.krate);
        doc["upstream"]["version"] = toml_edit::value(self.version.to_string());
        doc["upstream"]["sha256"] = toml_edit::value(&self.sha256);
        fs::write(&path, doc.to_string()).with_context(|| format!("writing {}", path.display()))
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
}

/// Gets the pinned package from crates.io and checks it against the pin's sha256.
pub fn fetch(ws: &Workspace, pin: &Pin) -> Result<Downloaded> {
    let version = pin.version.to_string();
    let downloaded = crates_io::fetch(ws, &pin.krate, &version).with_context(|| {
        format!(
            "fetching the upstream package {} {version}; nothing was changed",
            pin.krate
        )
    })?;
    if downloaded.sha256 != pin.sha256 {
        bail!(
            "checksum mismatch for {} {version}: upstream.toml pins sha256 {}, but crates.io \
             serves {}.\nIf the pin was edited by hand, correct it (`cargo xtask rebase --to \
             {version}` records the right one). Nothing was changed.",
            pin.krate,
            pin.sha256,
            downloaded.sha256
        );
    }
    Ok(downloaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_parses() {
        let pin =
            Pin::parse("[upstream]\ncrate = \"cargo\"\nversion = \"0.96.0\"\nsha256 = \"ABCD\"\n")
                .unwrap();
        assert_eq!(pin.krate, "cargo");
        assert_eq!(pin.version, semver::Version::new(0, 96, 0));
        assert_eq!(pin.sha256, "abcd");
    }

    #[test]
    fn pin_without_checksum_is_refused() {
        let err = Pin::parse("[upstream]\ncrate = \"cargo\"\nversion = \"0.96.0\"\n").unwrap_err();
        assert!(err.to_string().contains("upstream.sha256"), "{err}");
    }
}
