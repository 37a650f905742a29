//! What the xtask (`xtask/`) and the end-to-end tests (`tests/e2e/`) share, so that each
//! exists once:
//!
//! - [`workspace`]: the checkout's fixed places, and copying or clearing a project folder;
//! - [`pin`]: `upstream.toml`, the upstream Cargo release the patches apply to;
//! - [`fork`]: the built fork as a toolchain, and the clean environment it runs in;
//! - [`mode`]: the two profiles every comparison runs side by side;
//! - [`process`]: running programs and capturing what they print;
//! - [`libtest`]: reading libtest's output (`test NAME ... ok`, `test result: ...`);
//! - [`rustc`]: what `rustc -vV` says of a compiler;
//! - [`tools`]: programs installed from crates.io into `target/tools/`.

pub mod fork;
pub mod libtest;
pub mod mode;
pub mod pin;
pub mod process;
pub mod rustc;
pub mod tools;
pub mod workspace;
