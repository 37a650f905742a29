//! `cargo xtask`: the automation of cargo-dynamic, a patch set over upstream Cargo.
//!
//! From the bottom up, each part standing only on those below it (and on the `support` crate,
//! shared with the end-to-end tests):
//!
//! - [`upstream`]: packages from crates.io, the pinned Cargo among them (fetch, verify, unpack);
//! - [`series`]: the product, as `patches/` files and as commits in `cargo/`, both ways, and
//!   moving it to another upstream release;
//! - [`toolchain`]: building the fork and laying it out as a toolchain;
//! - [`checks`]: what says the fork is right and fast: Cargo's testsuite, compat, bench, the
//!   series on later releases and cut at every patch;
//! - [`try_it`]: a newcomer's first look.

mod checks;
mod series;
mod toolchain;
mod try_it;
mod upstream;

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
        /// Instead: upstream Cargo's whole testsuite on the fork and on the pristine package,
        /// compared test by test (about 40 minutes; not for CI)
        #[arg(long, conflicts_with_all = ["quick", "upstream"])]
        upstream_all: bool,
        /// With --upstream-all: only the tests whose name contains FILTER
        #[arg(requires = "upstream_all")]
        filter: Option<String>,
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
    /// Check that the series can be cut after any patch: each prefix applies, builds and
    /// passes the tests its last patch touches (20-25 minutes; for authors, not CI)
    CheckSeries {
        /// Start with the prefix that ends with this patch (1 is the first)
        #[arg(long, default_value_t = 1)]
        from: usize,
    },
    /// Replay the series on scratch copies of upstream releases (default: 0.96 to 0.100),
    /// build each and run the patch tests; prints a table. Leaves cargo/ and the pin alone
    CheckUpstream {
        /// Cargo versions to check (default: 0.96.0 0.97.2 0.98.0 0.99.0 0.100.0)
        versions: Vec<String>,
    },
    /// Measure `--dynamic` against `dev` on the fixtures of bench/fixtures/, side by side;
    /// a run of every scenario writes docs/bench.json, docs/bench.svg and the table in README.md
    Bench {
        /// Rounds per scenario (each measures both modes, alternating which goes first)
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Only the scenarios whose name contains this text (default: all)
        #[arg(long)]
        scenario: Option<String>,
        /// Only these fixtures (default: all)
        fixtures: Vec<String>,
    },
    /// Install the faster linkers the benchmark measures: wild from crates.io into
    /// target/tools/, mold with apt-get when running as root
    Linkers,
    /// Replay real commits (an edit stream), then random body edits, on a fixture of
    /// published crates: after each, build under `dev` and `--dynamic`, compare the programs
    /// and the touched crates' tests, and report relinked or rebuilt and both build times
    Replay {
        /// The stream's folder (default: ../shared/edit-streams/gitoxide-0.45.0)
        #[arg(long)]
        stream: Option<std::path::PathBuf>,
        /// Only the first N commits of the stream
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// How many random body edits of middle crates follow the stream
        #[arg(long, value_name = "N", default_value_t = 20)]
        random: usize,
        /// The seed of the random edits (the same seed makes the same edits)
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Do not compile and compare the test binaries of the touched crates
        #[arg(long)]
        no_tests: bool,
    },
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
    let ws = support::workspace::Workspace::locate();
    // A rebase writes the `--help` snapshots a patch changes again with Cargo's testsuite,
    // which is the checks' to run: handed down, so that the series never imports the checks.
    let regenerate = checks::regenerate_in_fork(&ws);
    let result = match Cli::parse().command {
        Cmd::Sync => series::sync::sync(&ws),
        Cmd::Refresh => series::sync::refresh(&ws),
        Cmd::Build => toolchain::build(&ws).map(drop),
        Cmd::Install => toolchain::install(&ws),
        Cmd::Test {
            upstream_all: true,
            filter,
            ..
        } => checks::whole_testsuite::test_upstream_all(&ws, filter.as_deref()),
        Cmd::Test { quick, .. } => checks::test(&ws, !quick),
        Cmd::Try => try_it::try_it(&ws),
        Cmd::Rebase {
            to: Some(version), ..
        } => series::rebase::start(&ws, &version, &regenerate),
        Cmd::Rebase { resume: true, .. } => series::rebase::resume(&ws, &regenerate),
        Cmd::Rebase { .. } => series::rebase::abort(&ws),
        Cmd::CheckSeries { from } => checks::prefixes::check_series(&ws, from),
        Cmd::CheckUpstream { versions } => checks::releases::check_upstream(&ws, &versions),
        Cmd::Bench {
            rounds,
            scenario,
            fixtures,
        } => checks::bench::bench(&ws, rounds, &fixtures, scenario.as_deref()),
        Cmd::Linkers => checks::bench::linkers::install(&ws),
        Cmd::Compat { quick, crates } => checks::compat::compat(&ws, &crates, quick),
        Cmd::Replay {
            stream,
            limit,
            random,
            seed,
            no_tests,
        } => checks::replay::replay(
            &ws,
            &checks::replay::Options {
                stream,
                limit,
                random,
                seed,
                tests: !no_tests,
            },
        ),
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
