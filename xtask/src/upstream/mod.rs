//! Packages from crates.io: the pinned upstream Cargo (`upstream.toml`), and the published
//! crates the checks build. Everything is fetched through Cargo itself and verified against
//! the checksum crates.io's index records.
//!
//! - [`crates_io`]: fetching, verifying and reading a `.crate` archive;
//! - [`published`]: a published package unpacked as a workspace of its own, with our lock file.

pub mod crates_io;
pub mod published;

use anyhow::{Context, Result, bail};
use support::pin::Pin;
use support::process::step;
use support::workspace::Workspace;

pub use crates_io::Downloaded;

/// Gets the pinned package from crates.io and checks it against the pin's sha256.
pub fn fetch(ws: &Workspace, pin: &Pin) -> Result<Downloaded> {
    let version = pin.version.to_string();
    step(
        "Fetching",
        format!("{} {version} from crates.io", pin.krate),
    );
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
