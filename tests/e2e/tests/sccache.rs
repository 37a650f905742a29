//! Shared build caches keep working (DESIGN.md D14): every compilation of the mode is an rlib
//! compile, which sccache caches as it does under `dev`; only the link units, like `dev`'s
//! executables, are linked again.

use std::path::{Path, PathBuf};
use std::process::Command;

use e2e::{Fork, Project, Workspace, run_ok, stdout};
use support::tools;

/// The sccache release the test installs from crates.io when none is on PATH.
const SCCACHE_VERSION: &str = "0.19.0";

/// sccache from PATH, else from `target/tools/` (installed there from crates.io the first
/// time, without its cloud storage backends). None, with the reason, when it cannot be had.
fn sccache() -> Result<PathBuf, String> {
    let ws = Workspace::locate();
    if let Some(found) = tools::find(&ws, "sccache") {
        return Ok(found);
    }
    tools::install(&ws, "sccache", SCCACHE_VERSION, &["--no-default-features"])
        .map_err(|err| format!("{err:#}"))?;
    tools::find(&ws, "sccache").ok_or_else(|| "sccache was installed, but is not found".into())
}

/// A private sccache server: its own cache folder and port, stopped when dropped.
struct Sccache {
    program: PathBuf,
    cache: tempfile::TempDir,
    port: u16,
}

impl Sccache {
    fn start(program: PathBuf) -> Sccache {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let sccache = Sccache {
            program,
            cache: tempfile::tempdir().unwrap(),
            port,
        };
        run_ok(&mut sccache.command(&["--start-server"]));
        sccache
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(args);
        self.configure(&mut cmd);
        cmd
    }

    fn configure(&self, cmd: &mut Command) {
        cmd.env("SCCACHE_DIR", self.cache.path())
            .env("SCCACHE_SERVER_PORT", self.port.to_string())
            .env("SCCACHE_IDLE_TIMEOUT", "0");
    }

    /// Rust compilations served from the cache and compiled since the last `--zero-stats`.
    fn rust_hits_and_misses(&self) -> (u64, u64) {
        let stats = stdout(&run_ok(&mut self.command(&[
            "--show-stats",
            "--stats-format",
            "json",
        ])));
        let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
        eprintln!(
            "not cached: {} ({})",
            stats["stats"]["non_cacheable_compilations"], stats["stats"]["not_cached"]
        );
        let rust = |counter: &str| {
            stats["stats"][counter]["counts"]["Rust"]
                .as_u64()
                .unwrap_or(0)
        };
        (rust("cache_hits"), rust("cache_misses"))
    }
}

impl Drop for Sccache {
    fn drop(&mut self) {
        let _ = self.command(&["--stop-server"]).output();
    }
}

/// Builds `dir` clean through sccache twice, the second time with the statistics zeroed: the
/// Rust compilations of that second build, served from the cache and compiled again.
fn second_clean_build(fork: &Fork, sccache: &Sccache, dir: &Path, profile: &[&str]) -> (u64, u64) {
    let cargo = |args: &[&str]| {
        let mut cmd = fork.cargo(dir, args);
        cmd.args(profile)
            .env("RUSTC_WRAPPER", &sccache.program)
            // sccache never caches incremental compilations, under any profile.
            .env("CARGO_INCREMENTAL", "0");
        sccache.configure(&mut cmd);
        cmd
    };
    run_ok(&mut cargo(&["build", "--locked", "--workspace"]));
    run_ok(&mut cargo(&["clean"]));
    run_ok(&mut sccache.command(&["--zero-stats"]));
    run_ok(&mut cargo(&["build", "--locked", "--workspace"]));
    sccache.rust_hits_and_misses()
}

#[test]
fn sccache_serves_a_second_clean_dynamic_build_as_under_dev() {
    let program = match sccache() {
        Ok(program) => program,
        Err(reason) => {
            eprintln!("skipped: no sccache: {reason}");
            return;
        }
    };
    let fork = e2e::fork();
    let sccache = Sccache::start(program);
    let project = Project::fixture("showcase");

    let (dev_hits, dev_misses) = second_clean_build(&fork, &sccache, project.path(), &[]);
    let (dynamic_hits, dynamic_misses) =
        second_clean_build(&fork, &sccache, project.path(), &["--dynamic"]);

    eprintln!(
        "second clean build, Rust compilations from the cache / compiled: \
         dev {dev_hits} / {dev_misses}, --dynamic {dynamic_hits} / {dynamic_misses}"
    );
    // Every compilation sccache can cache comes from the cache, under both profiles, and the
    // mode caches exactly as many: its libraries are rlib compiles, its link units are links.
    assert!(dev_hits > 10, "dev: {dev_hits} hits");
    assert_eq!((dev_misses, dynamic_misses), (0, 0), "compiled again");
    assert_eq!(dynamic_hits, dev_hits, "cache hits, --dynamic against dev");

    // And the program still runs.
    let run = run_ok(&mut fork.cargo(project.path(), &["run", "--locked", "-q", "--dynamic"]));
    assert!(stdout(&run).contains("caught: division of 7 by zero"));
}
