//! Support for the end-to-end tests: run the built fork (`target/toolchain/`, made by
//! `cargo xtask build`) on fresh copies of the fixture projects in `fixtures/`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The fork laid out as a toolchain.
pub struct Fork {
    toolchain: PathBuf,
}

impl Fork {
    /// `CARGO_DYNAMIC_TOOLCHAIN` (set by `cargo xtask test`), else `target/toolchain/`.
    pub fn locate() -> Fork {
        let toolchain = std::env::var_os("CARGO_DYNAMIC_TOOLCHAIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target").join("toolchain"));
        assert!(
            toolchain.join("bin").join("cargo").exists(),
            "no fork at {}: run the tests with `cargo xtask test`, which builds it first",
            toolchain.display()
        );
        Fork { toolchain }
    }

    pub fn bin(&self, tool: &str) -> PathBuf {
        self.toolchain.join("bin").join(tool)
    }

    /// The fork's cargo in `dir`, with an environment as clean as a user's shell (see
    /// [`user_shell`]), and the compiler from the fork's toolchain.
    pub fn cargo(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = user_shell(Command::new(self.bin("cargo")));
        cmd.current_dir(dir)
            .args(args)
            .env("RUSTC", self.bin("rustc"))
            .env("RUSTDOC", self.bin("rustdoc"));
        cmd
    }
}

/// `cmd` with an environment as clean as a user's shell: nothing of the cargo running these
/// tests leaks in (its `CARGO*` variables but the home and network settings, `RUSTC*`,
/// `RUSTDOC*`, `RUSTFLAGS*`, and the toolchain rustup chose for it).
pub fn user_shell(mut cmd: Command) -> Command {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let keep = [
            "CARGO_HOME",
            "CARGO_NET_",
            "CARGO_HTTP_",
            "CARGO_REGISTRIES_",
        ]
        .iter()
        .any(|kept| key.starts_with(kept));
        if (key.starts_with("CARGO") && !keep)
            || key.starts_with("RUSTC")
            || key.starts_with("RUSTDOC")
            || key.starts_with("RUSTFLAGS")
            || key.starts_with("RUSTUP_TOOLCHAIN")
        {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("tests/e2e sits two levels below the workspace root")
        .to_path_buf()
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
    let dir = workspace_root().join("target").join("e2e").join(name);
    if dir.exists() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_name() != "target" {
                let path = entry.path();
                if path.is_dir() {
                    fs::remove_dir_all(path).unwrap();
                } else {
                    fs::remove_file(path).unwrap();
                }
            }
        }
    } else {
        fs::create_dir_all(&dir).unwrap();
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    copy_tree(&source, &dir);
    let path: &'static Path = Box::leak(dir.into_boxed_path());
    shared.push((name.to_owned(), path));
    path
}

/// The host's target triple, from the fork's rustc.
pub fn host_triple(fork: &Fork) -> String {
    let verbose = stdout(&run_ok(Command::new(fork.bin("rustc")).arg("-vV")));
    verbose
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_owned()
}

/// The outcome of each test in libtest's output (`test NAME ... ok`), sorted, and the
/// `test result:` lines without their timings: what must be equal between two runs.
pub fn test_outcomes(stdout: &str) -> Vec<String> {
    let mut outcomes: Vec<String> = stdout
        .lines()
        .filter(|l| l.starts_with("test ") && l.contains(" ... "))
        .map(str::to_owned)
        .chain(
            stdout
                .lines()
                .filter_map(|l| l.strip_prefix("test result: "))
                .map(|l| format!("result: {}", l.split("; finished").next().unwrap())),
        )
        .collect();
    outcomes.sort();
    outcomes
}

/// A private copy of a fixture project, deleted when dropped.
pub struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    pub fn fixture(name: &str) -> Project {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name);
        let dir = tempfile::Builder::new()
            .prefix(&format!("e2e-{name}-"))
            .tempdir()
            .expect("a temporary folder");
        copy_tree(&source, dir.path());
        Project { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs `cmd`, panicking with its whole output unless it succeeds.
pub fn run_ok(cmd: &mut Command) -> Output {
    let output = cmd.output().expect("the command starts");
    assert!(
        output.status.success(),
        "{cmd:?} failed:\n{}",
        describe(&output)
    );
    output
}

/// Runs `cmd`, panicking with its whole output unless it fails.
pub fn run_err(cmd: &mut Command) -> Output {
    let output = cmd.output().expect("the command starts");
    assert!(
        !output.status.success(),
        "{cmd:?} succeeded, but must fail:\n{}",
        describe(&output)
    );
    output
}

pub fn describe(output: &Output) -> String {
    format!(
        "status: {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 stdout")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("UTF-8 stderr")
}

/// The upstream version the fork is built on, from `upstream.toml`.
pub fn upstream_version() -> String {
    let pin = fs::read_to_string(workspace_root().join("upstream.toml")).unwrap();
    pin.lines()
        .find_map(|l| l.strip_prefix("version = "))
        .map(|v| v.trim_matches('"').to_owned())
        .expect("upstream.toml has a version")
}
