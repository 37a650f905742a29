//! `cargo xtask`: the automation of cargo-dynamic, a patch set over upstream Cargo.
//!
//! - `upstream`: the pinned crates.io package (fetch, verify, unpack);
//! - `stack` and `patch_file`: `cargo/` as git commits and `patches/` as files, both ways;
//! - `toolchain`: building the fork and laying it out as a rustup toolchain;
//! - `harness`: the tests;
//! - `rebase` and `check_upstream`: moving the series to another upstream release;
//! - `bench`: `dynamic` against `dev`, measured side by side;
//! - `compat`: published crates' test suites under `dev` and `dynamic`.

mod bench;
mod check_upstream;
mod compat;
mod crates_io;
mod harness;
mod linkers;
mod mode;
mod patch_file;
mod process;
mod rebase;
mod stack;
mod toolchain;
mod upstream;
mod workspace;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Automation of the cargo-dynamic patch stack"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Make cargo/ the pinned upstream Cargo plus every patch of patches/series
    Sync,
    /// Export the commits of cargo/ above upstream to patches/
    Refresh,
    /// Sync, build the fork (release) and lay it out in target/toolchain/
    Build,
    /// Build, then link target/toolchain/ as the rustup toolchain `dynamic`
    Install,
    /// Build, then run the patch tests and the upstream testsuite modules the patches could
    /// break (Cargo's testsuite), and the end-to-end tests
    Test {
        /// Skip the upstream testsuite modules (about 3 minutes): patch and end-to-end tests only
        #[arg(long, conflicts_with = "upstream")]
        quick: bool,
        /// Run the upstream testsuite modules too (the default)
        #[arg(long)]
        upstream: bool,
    },
    /// Build the fork and show it working on the bundled example project
    Try,
    /// Move the series to another upstream Cargo release: fetch it, replay the patches with
    /// three-way merges, and on success update upstream.toml and patches/
    #[command(group(clap::ArgGroup::new("action").required(true).args(["to", "resume", "abort"])))]
    Rebase {
        /// The crates.io version of Cargo to move to
        #[arg(long, value_name = "VERSION")]
        to: Option<String>,
        /// Go on after resolving a conflict in cargo/
        #[arg(long = "continue")]
        resume: bool,
        /// Put cargo/ back as it was before the rebase
        #[arg(long)]
        abort: bool,
    },
    /// Replay the series on scratch copies of upstream releases (default: 0.96 to 0.100),
    /// build each and run the patch tests; prints a table. Leaves cargo/ and the pin alone
    CheckUpstream {
        /// Cargo versions to check (default: 0.96.0 0.97.2 0.98.0 0.99.0 0.100.0)
        versions: Vec<String>,
    },
    /// Measure `--dynamic` against `dev` on the fixtures of bench/fixtures/, side by side;
    /// writes docs/bench.json, docs/bench.svg and the table in README.md
    Bench {
        /// Rounds per scenario (each measures both modes, alternating which goes first)
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Only these fixtures (default: all)
        fixtures: Vec<String>,
    },
    /// Install the faster linkers the benchmark measures: wild from crates.io into
    /// target/tools/, mold with apt-get when running as root
    Linkers,
    /// Run published crates' own test suites under `dev` and `--dynamic` and compare them,
    /// test by test (the list and why each crate is on it: compat/crates.toml)
    Compat {
        /// Only the quick subset that `cargo xtask test` runs
        #[arg(long)]
        quick: bool,
        /// Crates to check, `NAME` from the list or any `NAME@VERSION` (default: the list)
        #[arg(value_name = "NAME[@VERSION]")]
        crates: Vec<String>,
    },
}

fn main() {
    let ws = workspace::Workspace::locate();
    let result = match Cli::parse().command {
        Cmd::Sync => stack::sync(&ws),
        Cmd::Refresh => stack::refresh(&ws),
        Cmd::Build => toolchain::build(&ws).map(drop),
        Cmd::Install => toolchain::install(&ws),
        Cmd::Test { quick, .. } => harness::test(&ws, !quick),
        Cmd::Try => harness::try_it(&ws),
        Cmd::Rebase {
            to: Some(version), ..
        } => rebase::start(&ws, &version),
        Cmd::Rebase { resume: true, .. } => rebase::resume(&ws),
        Cmd::Rebase { .. } => rebase::abort(&ws),
        Cmd::CheckUpstream { versions } => check_upstream::check_upstream(&ws, &versions),
        Cmd::Bench { rounds, fixtures } => bench::bench(&ws, rounds, &fixtures),
        Cmd::Linkers => linkers::install(&ws),
        Cmd::Compat { quick, crates } => compat::compat(&ws, &crates, quick),
    };
    if let Err(err) = result {
        // Cargo's own layout: the error, then each cause on its own line.
        eprintln!("error: {err}");
        let mut causes = err.chain().skip(1).peekable();
        if causes.peek().is_some() {
            eprintln!("\nCaused by:");
            for cause in causes {
                eprintln!("  {}", cause.to_string().replace('\n', "\n  "));
            }
        }
        std::process::exit(1);
    }
}
