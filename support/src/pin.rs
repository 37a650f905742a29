//! `upstream.toml`: which crates.io release of Cargo the patches apply to.

use std::fs;

use anyhow::{Context, Result};

use crate::workspace::Workspace;

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

    /// `upstream-0.96.0`: the tag of the pristine upstream commit in `cargo/`.
    pub fn tag(&self) -> String {
        format!("upstream-{}", self.version)
    }
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
        assert_eq!(pin.tag(), "upstream-0.96.0");
    }

    #[test]
    fn pin_without_checksum_is_refused() {
        let err = Pin::parse("[upstream]\ncrate = \"cargo\"\nversion = \"0.96.0\"\n").unwrap_err();
        assert!(err.to_string().contains("upstream.sha256"), "{err}");
    }
}
