//! An edit stream: real commits of a project mapped onto a fixture made of its published
//! crates (`../shared/edit-streams/<root>-<version>/`). A `series` file orders the patches;
//! `index.tsv` says which crates each one touches and whether the fixture's build reads a file
//! it changes. The patches are other people's code: read from the stream's folder, never
//! copied into this repository.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use support::process::output;

/// One commit of a stream.
pub struct Commit {
    pub patch: PathBuf,
    /// `0001-ec26d3287`: the patch's file name without `.patch`.
    pub label: String,
    /// The packages whose sources it changes.
    pub crates: Vec<String>,
    /// Whether the fixture's build reads a file it changes (`small_reads_file`).
    pub read_by_build: bool,
}

pub struct Stream {
    /// The fixture it applies to: (root package, version), from the folder's name.
    pub root: (String, String),
    pub commits: Vec<Commit>,
}

impl Stream {
    pub fn read(dir: &Path) -> Result<Stream> {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .with_context(|| format!("{} is not a stream folder", dir.display()))?;
        let Some((root, version)) = name.rsplit_once('-') else {
            bail!("the stream folder `{name}` is not named `<root package>-<version>`");
        };
        let read = |file: &str| {
            fs::read_to_string(dir.join(file)).with_context(|| {
                format!(
                    "reading {} (an edit stream folder holds `series`, `index.tsv` and the \
                     patches; pass another with --stream)",
                    dir.join(file).display()
                )
            })
        };
        let index = read("index.tsv")?;
        let header: Vec<&str> = index
            .lines()
            .next()
            .unwrap_or_default()
            .split('\t')
            .collect();
        let column = |name: &str| header.iter().position(|c| c.starts_with(name));
        let (Some(crates_at), Some(reads_at)) = (column("crates"), column("small_reads_file"))
        else {
            bail!(
                "{}: no `crates` or `small_reads_file` column",
                dir.join("index.tsv").display()
            );
        };
        let mut commits = Vec::new();
        for patch in read("series")?.lines().filter(|l| !l.trim().is_empty()) {
            let row: Vec<&str> = index
                .lines()
                .find(|row| row.split('\t').next() == Some(patch))
                .with_context(|| format!("{patch} is in `series` but not in `index.tsv`"))?
                .split('\t')
                .collect();
            let crates = row
                .get(crates_at)
                .copied()
                .unwrap_or_default()
                .split(", ")
                .filter_map(|c| c.split(':').next())
                .map(str::to_string)
                .collect();
            commits.push(Commit {
                patch: dir.join(patch),
                label: patch.trim_end_matches(".patch").to_string(),
                crates,
                read_by_build: row.get(reads_at) == Some(&"yes"),
            });
        }
        Ok(Stream {
            root: (root.to_string(), version.to_string()),
            commits,
        })
    }
}

impl Commit {
    /// Applies the commit to the fixture, exactly (no fuzz).
    pub fn apply(&self, fixture: &Path) -> Result<()> {
        output(
            Command::new("patch")
                .current_dir(fixture)
                .args(["-p1", "-F0", "-s", "-i"])
                .arg(&self.patch),
        )
        .with_context(|| format!("applying {}", self.label))?;
        Ok(())
    }
}
