//! The files of `patches/`: a `series` listing the patches in order, and one `.patch` file
//! per concern, each a header in the spirit of Debian's DEP-3 followed by a git diff.
//!
//! ```text
//! Subject: Name the fork in `cargo -V`
//! Why: ...
//! How: ...
//! Tested: ...
//! Upstream: not proposed
//! Origin: cargo-dynamic; DESIGN.md D10
//! ---
//!  src/cargo/version.rs | 12 ++++++++++++
//!  1 file changed, 12 insertions(+)
//!
//! diff --git a/src/cargo/version.rs b/src/cargo/version.rs
//! ...
//! ```
//!
//! In `cargo/` a patch is a commit whose message is the subject line, an empty line and the
//! other header fields, so `git log` there reads like the series.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// The header fields every patch must have, after `Subject`.
pub const REQUIRED_FIELDS: [&str; 5] = ["Why", "How", "Tested", "Upstream", "Origin"];

#[derive(Debug, Clone, PartialEq)]
pub struct Patch {
    /// `0001-name-the-fork.patch`
    pub file_name: String,
    pub subject: String,
    /// The header after the subject line: `Why:`, `How:`, `Tested:`, `Upstream:` fields.
    pub fields: String,
    /// The diffstat, informative only: applying ignores it.
    pub stat: String,
    /// Everything from the first `diff --git` line on.
    pub diff: String,
}

impl Patch {
    pub fn parse(file_name: &str, text: &str) -> Result<Patch> {
        let (header, rest) = text
            .split_once("\n---\n")
            .with_context(|| format!("{file_name}: no `---` line ends the header"))?;
        let (subject_line, fields) = header.split_once('\n').unwrap_or((header, ""));
        let subject = subject_line
            .strip_prefix("Subject: ")
            .with_context(|| format!("{file_name}: the first line must be `Subject: ...`"))?;
        let diff_start = if rest.starts_with("diff --git ") {
            0
        } else {
            rest.find("\ndiff --git ")
                .map(|i| i + 1)
                .with_context(|| format!("{file_name}: no `diff --git` after the header"))?
        };
        Ok(Patch {
            file_name: file_name.to_owned(),
            subject: subject.trim().to_owned(),
            fields: fields.trim().to_owned(),
            stat: rest[..diff_start].trim_end().to_owned(),
            diff: rest[diff_start..].to_owned(),
        })
    }

    pub fn render(&self) -> String {
        format!(
            "Subject: {}\n{}\n---\n{}\n\n{}",
            self.subject, self.fields, self.stat, self.diff
        )
    }

    /// The commit message of this patch in `cargo/`.
    pub fn commit_message(&self) -> String {
        format!("{}\n\n{}\n", self.subject, self.fields)
    }

    /// Splits a commit message back into subject and fields.
    pub fn split_commit_message(message: &str) -> (String, String) {
        let (subject, fields) = message.split_once('\n').unwrap_or((message, ""));
        (subject.trim().to_owned(), fields.trim().to_owned())
    }

    /// The header fields this patch lacks.
    pub fn missing_fields(&self) -> Vec<&'static str> {
        REQUIRED_FIELDS
            .into_iter()
            .filter(|field| {
                !self
                    .fields
                    .lines()
                    .any(|line| line.starts_with(&format!("{field}:")))
            })
            .collect()
    }
}

/// `0003-build-library-units-as-dylibs.patch` from position 3 and the subject.
pub fn file_name(position: usize, subject: &str) -> String {
    let mut slug = String::new();
    for word in subject
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if slug.len() + word.len() > 60 {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    format!("{position:04}-{slug}.patch")
}

/// Reads `patches/series` and the patches it lists, in order.
pub fn read_series(dir: &Path) -> Result<Vec<Patch>> {
    let series = dir.join("series");
    let text = match fs::read_to_string(&series) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", series.display())),
    };
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|name| {
            let path = dir.join(name);
            let text = fs::read_to_string(&path)
                .with_context(|| format!("patches/series lists {name}, but it cannot be read"))?;
            Patch::parse(name, &text)
        })
        .collect()
}

const SERIES_HEADER: &str = "\
# The patches of the fork, applied in this order on top of upstream Cargo (upstream.toml).
# Written by `cargo xtask refresh` from the commits in cargo/: edit there, not here.
";

/// Writes the series and its patch files, and removes `.patch` files it no longer lists.
pub fn write_series(dir: &Path, patches: &[Patch]) -> Result<()> {
    fs::create_dir_all(dir)?;
    let mut series = SERIES_HEADER.to_owned();
    for patch in patches {
        fs::write(dir.join(&patch.file_name), patch.render())
            .with_context(|| format!("writing patches/{}", patch.file_name))?;
        series.push_str(&patch.file_name);
        series.push('\n');
    }
    fs::write(dir.join("series"), series).context("writing patches/series")?;
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".patch") && !patches.iter().any(|p| p.file_name == name) {
            fs::remove_file(dir.join(&name))?;
        }
    }
    Ok(())
}

/// Checks that a series is well-formed before it is written or applied.
pub fn validate(patches: &[Patch]) -> Result<()> {
    for patch in patches {
        let missing = patch.missing_fields();
        if !missing.is_empty() {
            bail!(
                "patch `{}` lacks the header field(s) {}: amend its commit message in cargo/ \
                 (`git -C cargo rebase -i upstream-<version>`, the tag `git -C cargo tag` lists, then `reword`) to have a line for each of \
                 {}",
                patch.subject,
                missing.join(", "),
                REQUIRED_FIELDS.join(", ")
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "Subject: Name the fork in `cargo -V`\n\
        Why: users must know which cargo runs.\nHow: version.rs.\n\
        Tested: version::simple.\nUpstream: not proposed\nOrigin: cargo-dynamic\n---\n \
        src/cargo/version.rs | 1 +\n 1 file changed, 1 insertion(+)\n\n\
        diff --git a/src/cargo/version.rs b/src/cargo/version.rs\n+x\n";

    #[test]
    fn patch_round_trips() {
        let patch = Patch::parse("0001-x.patch", TEXT).unwrap();
        assert_eq!(patch.subject, "Name the fork in `cargo -V`");
        assert!(patch.diff.starts_with("diff --git a/src"));
        assert_eq!(
            patch.stat,
            " src/cargo/version.rs | 1 +\n 1 file changed, 1 insertion(+)"
        );
        assert_eq!(patch.render(), TEXT);
        assert!(patch.missing_fields().is_empty());
        let (subject, fields) = Patch::split_commit_message(&patch.commit_message());
        assert_eq!(
            (subject, fields),
            (patch.subject.clone(), patch.fields.clone())
        );
    }

    #[test]
    fn missing_header_fields_are_named() {
        let patch = Patch::parse(
            "0001-x.patch",
            &TEXT.replace("Tested: version::simple.\n", ""),
        )
        .unwrap();
        assert_eq!(patch.missing_fields(), ["Tested"]);
        let err = validate(&[patch]).unwrap_err().to_string();
        assert!(err.contains("lacks the header field(s) Tested"), "{err}");
    }

    #[test]
    fn file_names_come_from_subjects() {
        assert_eq!(
            file_name(3, "Build library units of the `dynamic` profile as dylibs"),
            "0003-build-library-units-of-the-dynamic-profile-as-dylibs.patch"
        );
    }
}
