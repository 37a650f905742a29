//! The product: the patch series, as files in `patches/` and as commits in `cargo/`.
//!
//! - [`patch_file`]: `patches/series` and the `.patch` files, with their headers;
//! - [`stack`]: `cargo/`, a git repository of the pristine upstream commit and one commit per
//!   patch;
//! - [`sync`]: `sync` (files to commits) and `refresh` (commits to files);
//! - [`churn`]: the rule that no patch removes or rewrites a line an earlier patch added;
//! - [`replay`] and [`rebase`]: moving the series to another upstream release.
//!
//! Nothing here builds or tests the fork: that is [`crate::toolchain`] and [`crate::checks`],
//! which stand on this module, never the other way round.

pub mod churn;
pub mod patch_file;
pub mod rebase;
pub mod replay;
pub mod stack;
pub mod sync;
