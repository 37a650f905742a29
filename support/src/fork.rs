//! The built fork, laid out as a toolchain in `target/toolchain/` by `cargo xtask build`, and
//! the environment it runs in: as clean as a user's shell.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::workspace::Workspace;

/// Names the toolchain folder the end-to-end tests drive (`cargo xtask test` sets it).
pub const TOOLCHAIN_VAR: &str = "CARGO_DYNAMIC_TOOLCHAIN";

/// The fork laid out as a toolchain: `bin/cargo` is the fork, the rest is the active rustc's.
pub struct Fork {
    toolchain: PathBuf,
}

impl Fork {
    pub fn at(toolchain: PathBuf) -> Fork {
        Fork { toolchain }
    }

    /// [`TOOLCHAIN_VAR`] when set, else the workspace's `target/toolchain/`; `None` when no
    /// fork is built there.
    pub fn locate(ws: &Workspace) -> Option<Fork> {
        let toolchain = std::env::var_os(TOOLCHAIN_VAR)
            .map(PathBuf::from)
            .unwrap_or_else(|| ws.toolchain());
        let fork = Fork::at(toolchain);
        fork.bin("cargo").exists().then_some(fork)
    }

    pub fn toolchain(&self) -> &Path {
        &self.toolchain
    }

    /// A program of the toolchain: `cargo` (the fork), `rustc`, `rustdoc`.
    pub fn bin(&self, tool: &str) -> PathBuf {
        self.toolchain.join("bin").join(tool)
    }

    /// The fork's `cargo <args>` in `dir`, in a user's shell (see [`user_shell`]), with rustc
    /// and rustdoc from the fork's toolchain folder.
    pub fn cargo(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = user_shell(Command::new(self.bin("cargo")));
        cmd.current_dir(dir)
            .args(args)
            .env("RUSTC", self.bin("rustc"))
            .env("RUSTDOC", self.bin("rustdoc"));
        cmd
    }
}

/// `cmd` with an environment as clean as a user's shell: nothing of the cargo running us
/// leaks in (its `CARGO*` variables, `RUSTC*`, `RUSTDOC*`, `RUSTFLAGS*`, and the toolchain
/// rustup chose for it), while the user's home, registry and network settings still apply.
pub fn user_shell(mut cmd: Command) -> Command {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let kept = [
            "CARGO_HOME",
            "CARGO_NET_",
            "CARGO_HTTP_",
            "CARGO_REGISTRIES_",
        ]
        .iter()
        .any(|prefix| key.starts_with(prefix));
        let leaked = ["CARGO", "RUSTC", "RUSTDOC", "RUSTFLAGS", "RUSTUP_TOOLCHAIN"]
            .iter()
            .any(|prefix| key.starts_with(prefix));
        if leaked && !kept {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd
}
