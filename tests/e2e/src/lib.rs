//! Support for the end-to-end tests: run the built fork (`target/toolchain/`, made by
//! `cargo xtask build`) on fresh copies of the fixture projects in `fixtures/`. What the xtask
//! needs too (the fork's environment, the repository's places, reading libtest) is the
//! `support` crate's.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use support::fork::{Fork, user_shell};
use support::libtest::{Counts, test_line};
use support::process::describe_output;
pub use support::workspace::Workspace;

/// The fork under test: `CARGO_DYNAMIC_TOOLCHAIN` (set by `cargo xtask test`), else
/// `target/toolchain/`.
pub fn fork() -> Fork {
    Fork::locate(&Workspace::locate())
        .expect("no fork is built: run the tests with `cargo xtask test`, which builds it first")
}

/// The fixture project `name`, as committed.
fn fixture_source(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// A copy of a fixture project in `target/e2e/<name>`, made once per test process and shared
/// by its tests; its own `target/` is kept between runs, so a rerun builds only what changed.
pub fn shared_fixture(name: &str) -> &'static Path {
    static SHARED: std::sync::Mutex<Vec<(String, &'static Path)>> =
        std::sync::Mutex::new(Vec::new());
    let mut shared = SHARED.lock().unwrap();
    if let Some((_, path)) = shared.iter().find(|(n, _)| n == name) {
        return path;
    }
    let dir = Workspace::locate().target().join("e2e").join(name);
    if dir.exists() {
        support::workspace::clear_except_build_folders(&dir).unwrap();
    }
    support::workspace::copy_without_target(&fixture_source(name), &dir).unwrap();
    let path: &'static Path = Box::leak(dir.into_boxed_path());
    shared.push((name.to_owned(), path));
    path
}

/// The host's target triple, from the fork's rustc.
pub fn host_triple(fork: &Fork) -> String {
    support::rustc::Rustc::query(|| Command::new(fork.bin("rustc")))
        .expect("the fork's rustc answers -vV")
        .host
}

/// The outcome of each test in libtest's output, sorted, and the sum of its `test result:`
/// lines: what must be equal between two runs.
pub fn test_outcomes(stdout: &str) -> (Vec<String>, Counts) {
    let mut outcomes: Vec<String> = stdout
        .lines()
        .filter_map(test_line)
        .map(|(name, outcome)| format!("{name}: {outcome:?}"))
        .collect();
    outcomes.sort();
    (outcomes, Counts::of_output(stdout))
}

/// A private copy of a fixture project, deleted when dropped.
pub struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    pub fn fixture(name: &str) -> Project {
        let dir = tempfile::Builder::new()
            .prefix(&format!("e2e-{name}-"))
            .tempdir()
            .expect("a temporary folder");
        support::workspace::copy_without_target(&fixture_source(name), dir.path()).unwrap();
        Project { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes the shell script `text` as `name` in the project and makes it executable (a
    /// `RUSTC_WRAPPER`, say); returns its path.
    pub fn script(&self, name: &str, text: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.path().join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }
}

/// Runs `cmd`, panicking with its whole output unless it succeeds.
pub fn run_ok(cmd: &mut Command) -> Output {
    let output = cmd.output().expect("the command starts");
    assert!(
        output.status.success(),
        "{cmd:?} failed:\n{}",
        describe_output(&output)
    );
    output
}

/// Runs `cmd`, panicking with its whole output unless it fails.
pub fn run_err(cmd: &mut Command) -> Output {
    let output = cmd.output().expect("the command starts");
    assert!(
        !output.status.success(),
        "{cmd:?} succeeded, but must fail:\n{}",
        describe_output(&output)
    );
    output
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 stdout")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("UTF-8 stderr")
}

/// The upstream version the fork is built on, from `upstream.toml`.
pub fn upstream_version() -> String {
    support::pin::Pin::load(&Workspace::locate())
        .expect("upstream.toml reads")
        .version
        .to_string()
}
