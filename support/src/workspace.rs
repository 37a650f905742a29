//! Where things live in this repository.

use std::path::{Path, PathBuf};

/// The checkout of this repository, and the fixed places inside it.
pub struct Workspace {
    root: PathBuf,
}

impl Workspace {
    pub fn locate() -> Workspace {
        // This crate lives at `<root>/support`; the path is fixed at compile time, which is
        // what `cargo xtask` and `cargo test` build from.
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("support sits one level below the workspace root")
            .to_path_buf();
        Workspace { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The pin of the upstream package.
    pub fn pin_file(&self) -> PathBuf {
        self.root.join("upstream.toml")
    }

    /// Upstream Cargo as a git repository with our patches as commits (generated, ignored).
    pub fn fork_source(&self) -> PathBuf {
        self.root.join("cargo")
    }

    pub fn patches(&self) -> PathBuf {
        self.root.join("patches")
    }

    /// The pinned list of published crates that `cargo xtask compat` checks.
    pub fn compat_list(&self) -> PathBuf {
        self.root.join("compat").join("crates.toml")
    }

    pub fn target(&self) -> PathBuf {
        self.root.join("target")
    }

    /// Target directory of the fork's own builds. Kept outside `cargo/` so that re-creating
    /// `cargo/` (a new upstream version, say) keeps every compiled dependency.
    pub fn fork_target(&self) -> PathBuf {
        self.target().join("fork")
    }

    /// The fork laid out like a rustup toolchain.
    pub fn toolchain(&self) -> PathBuf {
        self.target().join("toolchain")
    }

    /// Programs installed from crates.io for the checks (`bin/` inside).
    pub fn tools(&self) -> PathBuf {
        self.target().join("tools")
    }

    /// Scratch space of the xtask itself.
    pub fn scratch(&self) -> PathBuf {
        self.target().join("xtask")
    }

    /// Shows a path relative to the root, as a user would type it from there.
    pub fn display(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }
}

/// Empties `dir` but for its build folders (`target/`, and `target-*/` such as the
/// benchmarks' `target-reference/`), so that a fresh copy of a project keeps its build cache.
pub fn clear_except_build_folders(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let build_folder = name == "target" || name.to_string_lossy().starts_with("target-");
        if !build_folder {
            let path = entry.path();
            if path.is_dir() {
                std::fs::remove_dir_all(path)?;
            } else {
                std::fs::remove_file(path)?;
            }
        }
    }
    Ok(())
}

/// Removes `dir` and everything in it, if it is there.
pub fn remove_dir_if_exists(dir: &Path) -> anyhow::Result<()> {
    use anyhow::Context as _;
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    Ok(())
}

/// Copies a project's sources over `to`, without its `target/` folder.
pub fn copy_without_target(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_name() == "target" {
            continue;
        }
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_without_target(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), &dest)?;
        }
    }
    Ok(())
}
