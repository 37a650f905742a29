//! What a compiler says of itself.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};

use crate::process::run_captured;

/// A rustc, from `rustc -vV` and `rustc --print sysroot`.
#[derive(Clone, Debug)]
pub struct Rustc {
    /// `1.95.0`, `1.97.0-nightly`.
    pub release: String,
    /// The host target triple.
    pub host: String,
    pub sysroot: PathBuf,
}

impl Rustc {
    /// Asks the rustc that `rustc` starts.
    pub fn query(rustc: impl Fn() -> Command) -> Result<Rustc> {
        let verbose = run_captured(rustc().arg("-vV"))?;
        let field = |name: &str| {
            verbose
                .lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
                .map(str::to_owned)
                .with_context(|| format!("`rustc -vV` printed no `{name}:` line"))
        };
        let sysroot = run_captured(rustc().args(["--print", "sysroot"]))?;
        Ok(Rustc {
            release: field("release")?,
            host: field("host")?,
            sysroot: PathBuf::from(sysroot.trim()),
        })
    }

    /// The rustc of this toolchain: `RUSTC`, else `rustc` on PATH.
    pub fn of_toolchain() -> Result<Rustc> {
        Rustc::query(|| Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into())))
    }

    /// The release channel: the one Cargo of this toolchain is built for, which decides where
    /// it accepts `-Z` flags.
    pub fn channel(&self) -> &'static str {
        ["nightly", "beta", "dev"]
            .into_iter()
            .find(|c| self.release.contains(&format!("-{c}")))
            .unwrap_or("stable")
    }

    /// Whether this rustc meets `rust-version` `needed` (`1.96` or `1.96.1`).
    pub fn meets(&self, needed: &str) -> bool {
        version_at_most(needed, &self.release)
    }
}

/// Whether rust-version `needed` (`1.96` or `1.96.1`) is met by rustc release `have`
/// (`1.97.0-nightly`).
fn version_at_most(needed: &str, have: &str) -> bool {
    let numbers = |v: &str| -> Vec<u64> {
        v.split(['.', '-'])
            .take(3)
            .map(|n| n.parse().unwrap_or(0))
            .collect()
    };
    let (mut needed, have) = (numbers(needed), numbers(have));
    needed.resize(3, 0);
    needed <= have
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_versions_compare_as_numbers() {
        assert!(version_at_most("1.95", "1.95.0"));
        assert!(version_at_most("1.93", "1.95.0"));
        assert!(!version_at_most("1.96", "1.95.0"));
        assert!(version_at_most("1.97", "1.97.0-nightly"));
        assert!(!version_at_most("1.100", "1.97.0-nightly"));
        assert!(version_at_most("1.9", "1.10.0"));
    }
}
