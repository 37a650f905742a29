//! `cargo xtask replay`: real edits, one at a time, on a fixture of published crates, built
//! under `dev` and `--dynamic` after each and compared. The programs must behave the same
//! (the `gix` binary on a small repository, and the test binaries of the crates an edit
//! touched); the report says, per edit, whether `--dynamic` relinked the edited crates or
//! recompiled their dependents (and why), with both build times, then the totals.
//!
//! Two streams: the real commits of an edit stream ([`stream`]: `../shared/edit-streams/`
//! unless `--stream` names another), then random body edits of middle crates ([`random`]).

mod random;
mod report;
mod stream;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use support::fork::Fork;
use support::libtest::test_line;
use support::mode::Mode;
use support::process::{Merged, output, run_merged, step, tail};
use support::workspace::Workspace;

use crate::toolchain;
use crate::upstream::published::{members_from_its_lock, unpack_as_workspace};
use report::{Outcome, Row, report};
use stream::Stream;

/// The stream replayed by default, beside this repository.
const DEFAULT_STREAM: &str = "../shared/edit-streams/gitoxide-0.45.0";

/// The packages of the root's own Cargo.lock joined as workspace members (gitoxide's
/// repository holds them all).
const JOINED: &[&str] = &["gix", "gitoxide-core"];

/// The build each edit is measured with: the `gix` binary with its `small` features (no C).
const BUILD_ARGS: &[&str] = &["--no-default-features", "--features", "small"];
const BIN: &str = "gix";

/// What `gix` is asked on the repository after each build; `{repo}` is its path.
const COMMANDS: &[&[&str]] = &[
    &["--help"],
    &["env"],
    &["-r", "{repo}", "log"],
    &["-r", "{repo}", "status"],
    &["-r", "{repo}", "revision", "list", "--long-hashes", "HEAD"],
    &["-r", "{repo}", "commit", "describe", "--all-refs"],
    &["-r", "{repo}", "tree", "entries", "-r", "-e", "HEAD"],
    &["-r", "{repo}", "diff", "tree", "HEAD~2", "HEAD"],
    &["-r", "{repo}", "index", "entries"],
    &["-r", "{repo}", "config"],
    &["-r", "{repo}", "merge-base", "HEAD", "HEAD~1"],
    &["-r", "{repo}", "odb", "stats"],
];

pub struct Options {
    pub stream: Option<PathBuf>,
    /// Only the first commits of the stream.
    pub limit: Option<usize>,
    /// How many random edits follow the stream.
    pub random: usize,
    pub seed: u64,
    /// Also compile and compare the test binaries of the touched crates.
    pub tests: bool,
}

/// `cargo xtask replay`.
pub fn replay(ws: &Workspace, options: &Options) -> Result<()> {
    let stream_dir = options
        .stream
        .clone()
        .unwrap_or_else(|| ws.root().join(DEFAULT_STREAM));
    let stream = Stream::read(&stream_dir)?;
    let fork = toolchain::build(ws)?;
    let root = (stream.root.0.as_str(), stream.root.1.as_str());
    let base = ws.target().join("replay");
    let dir = base.join(format!("{}-{}", root.0, root.1));
    let lock = ws
        .root()
        .join("bench")
        .join("locks")
        .join(format!("{}-{}.lock", root.0, root.1));
    step(
        "Preparing",
        format!("{}@{} in {}", root.0, root.1, ws.display(&dir)),
    );
    // A replay edits the fixture, so the target folder of an earlier replay holds builds of
    // sources that unpacking restores with their archive's older times, which Cargo would take
    // as up to date (both profiles would start from the last replay's builds, and the relink
    // decisions with them): every replay builds the fixture as published from scratch.
    let target = dir.join("target");
    if target.exists() {
        fs::remove_dir_all(&target)?;
    }
    let members = members_from_its_lock(ws, root, JOINED)?;
    unpack_as_workspace(ws, &dir, root, &members, &lock)?;
    let repository = make_repository(&base.join("repository"))?;
    let replay = Replay {
        fork,
        dir,
        repository,
        tests: options.tests,
    };
    replay.settle()?;

    let mut rows = Vec::new();
    let commits = stream
        .commits
        .iter()
        .take(options.limit.unwrap_or(usize::MAX));
    let total = commits.len();
    for (n, commit) in commits.enumerate() {
        step("Replaying", format!("[{}/{total}] {}", n + 1, commit.label));
        commit.apply(&replay.dir)?;
        let mut row = replay.measure(n, &commit.crates)?;
        row.label = commit.label.clone();
        row.read_by_build = commit.read_by_build;
        step("Replayed", row.summary());
        rows.push(row);
    }
    let mut rng = random::Rng::new(options.seed);
    for n in 0..options.random {
        let edit = random::edit(&replay.dir, &mut rng, n + 1)?;
        step(
            "Replaying",
            format!("[random {}/{}] {}", n + 1, options.random, edit.description),
        );
        let mut row = replay.measure(n, std::slice::from_ref(&edit.krate))?;
        row.label = format!("random {}: {}", n + 1, edit.description);
        row.read_by_build = true;
        step("Replayed", row.summary());
        rows.push(row);
    }

    let report = report(&stream_dir, options, &rows);
    let file = base.join("report.md");
    fs::write(&file, &report)?;
    println!("{report}");
    step("Wrote", ws.display(&file));
    let differing = rows.iter().filter(|r| !r.differences.is_empty()).count();
    if differing > 0 {
        bail!("{differing} edit(s) made `--dynamic` behave differently from `dev` (see above)");
    }
    Ok(())
}

struct Replay {
    fork: Fork,
    dir: PathBuf,
    repository: PathBuf,
    tests: bool,
}

impl Replay {
    /// The fork's `cargo <args>` on the fixture under `mode`, verbose (the relink notes).
    fn cargo(&self, mode: Mode, args: &[&str]) -> Command {
        let mut cmd = self.fork.cargo(&self.dir, args);
        cmd.args(["--locked"]).args(mode.flags());
        cmd
    }

    fn build(&self, mode: Mode) -> Result<(f64, Merged)> {
        let mut cmd = self.cargo(mode, &["build", "-v"]);
        cmd.args(BUILD_ARGS);
        let started = Instant::now();
        let merged = run_merged(cmd)?;
        Ok((started.elapsed().as_secs_f64(), merged))
    }

    /// Both profiles built from the fixture as published, before the first edit.
    fn settle(&self) -> Result<()> {
        for mode in Mode::BOTH {
            step(
                "Building",
                format!("the fixture as published (`{}`)", mode.name()),
            );
            let (_, built) = self.build(mode)?;
            if !built.success {
                bail!(
                    "the fixture does not build under `{}`:\n{}",
                    mode.name(),
                    tail(&built.text, 30)
                );
            }
        }
        Ok(())
    }

    /// Builds under both profiles (round `n` decides which goes first), then compares.
    fn measure(&self, n: usize, crates: &[String]) -> Result<Row> {
        let order = if n.is_multiple_of(2) {
            [Mode::Dev, Mode::Dynamic]
        } else {
            [Mode::Dynamic, Mode::Dev]
        };
        // Built in alternating order, so that neither profile always finds the caches warm.
        let first = self.build(order[0])?;
        let second = self.build(order[1])?;
        let ((dev_seconds, dev), (dynamic_seconds, dynamic)) = match order[0] {
            Mode::Dev => (first, second),
            Mode::Dynamic => (second, first),
        };
        let mut row = Row {
            dev_seconds,
            dynamic_seconds,
            outcome: Outcome::of_log(&dynamic.text, dynamic.success),
            ..Row::default()
        };
        if dev.success != dynamic.success {
            let ended = |success| if success { "succeeded" } else { "failed" };
            let failed = if dynamic.success { &dev } else { &dynamic };
            row.differences.push(format!(
                "the build {} under `dev` and {} under `--dynamic`:\n{}",
                ended(dev.success),
                ended(dynamic.success),
                tail(&failed.text, 20)
            ));
            return Ok(row);
        }
        if !dev.success {
            return Ok(row);
        }
        for args in COMMANDS {
            let run = |mode: Mode| self.run_bin(mode, args);
            let (dev, dynamic) = (run(Mode::Dev)?, run(Mode::Dynamic)?);
            if dev != dynamic {
                row.differences.push(format!(
                    "`gix {}`:\n--- dev\n{dev}\n--- dynamic\n{dynamic}",
                    args.join(" ")
                ));
            }
        }
        if self.tests {
            for krate in crates {
                let (dev, dynamic) = (
                    self.test(Mode::Dev, krate)?,
                    self.test(Mode::Dynamic, krate)?,
                );
                if dev != dynamic {
                    row.differences.push(format!(
                        "the tests of {krate}:\n--- dev\n{}\n--- dynamic\n{}",
                        dev.join("\n"),
                        dynamic.join("\n")
                    ));
                }
            }
        }
        Ok(row)
    }

    /// What `gix <args>` prints and how it exits, started directly.
    fn run_bin(&self, mode: Mode, args: &[&str]) -> Result<String> {
        let repository = self.repository.display().to_string();
        let mut cmd = Command::new(self.dir.join("target").join(mode.dir()).join(BIN));
        cmd.args(args.iter().map(|a| a.replace("{repo}", &repository)))
            .current_dir(&self.repository)
            .env_remove("LD_LIBRARY_PATH");
        let out = cmd
            .output()
            .with_context(|| format!("starting the `{}` build of {BIN}", mode.name()))?;
        Ok(format!(
            "{}\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            without_progress(&String::from_utf8_lossy(&out.stderr))
        ))
    }

    /// The outcome of each test of `krate`'s test binaries (its library's and its integration
    /// tests'), sorted; a build that fails is an outcome too.
    fn test(&self, mode: Mode, krate: &str) -> Result<Vec<String>> {
        let cmd = self.cargo(
            mode,
            &["test", "-p", krate, "--lib", "--tests", "--no-fail-fast"],
        );
        let merged = run_merged(cmd)?;
        let mut outcomes: Vec<String> = merged
            .text
            .lines()
            .filter_map(test_line)
            .map(|(name, outcome)| format!("{name}: {outcome:?}"))
            .collect();
        outcomes.sort();
        if outcomes.is_empty() && !merged.success {
            outcomes.push(format!("failed:\n{}", tail(&merged.text, 10)));
        }
        Ok(outcomes)
    }
}

/// A small repository for `gix` to read, the same on every run: a few commits with fixed
/// dates, a tag, a branch, a file changed in the work tree.
fn make_repository(dir: &Path) -> Result<PathBuf> {
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    fs::create_dir_all(dir.join("src"))?;
    let git = |args: &[&str]| -> Result<()> {
        output(
            Command::new("git")
                .current_dir(dir)
                .args([
                    "-c",
                    "user.name=Replay",
                    "-c",
                    "user.email=replay@example.com",
                ])
                .args([
                    "-c",
                    "init.defaultBranch=main",
                    "-c",
                    "commit.gpgsign=false",
                ])
                .args(args)
                .env("GIT_AUTHOR_DATE", "2026-01-02T03:04:05Z")
                .env("GIT_COMMITTER_DATE", "2026-01-02T03:04:05Z")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("HOME", dir),
        )
        .map(drop)
    };
    git(&["init", "--quiet"])?;
    for (n, (file, text)) in [
        ("README.md", "A repository for `cargo xtask replay`.\n"),
        ("src/lib.rs", "pub fn one() -> u32 {\n    1\n}\n"),
        (
            "src/lib.rs",
            "pub fn one() -> u32 {\n    1\n}\n\npub fn two() -> u32 {\n    2\n}\n",
        ),
        ("notes.txt", "first\nsecond\n"),
    ]
    .iter()
    .enumerate()
    {
        fs::write(dir.join(file), text)?;
        git(&["add", "."])?;
        git(&["commit", "--quiet", "-m", &format!("Change {}", n + 1)])?;
        if n == 1 {
            git(&["tag", "-a", "v1", "-m", "Version 1"])?;
            git(&["branch", "side"])?;
        }
    }
    fs::write(dir.join("notes.txt"), "first\nsecond, changed\n")?;
    Ok(dir.to_path_buf())
}

/// `gix`'s standard error without its progress lines, which say how long a step took
/// (`12:00:01 status done 3 files in 0.01s (406 files/s)`), and without the clock its log
/// lines start with: the wall clock differs from run to run, under either profile.
/// Everything else is compared as it is.
fn without_progress(stderr: &str) -> String {
    stderr
        .lines()
        .map(without_ansi_escapes)
        .filter(|line| {
            let progress = line.contains(" done ") && line.trim_end().ends_with("/s)");
            !progress && !line.trim().is_empty()
        })
        .map(|line| without_clock(&line) + "\n")
        .collect()
}

/// A log line without its leading `[2026-12-02T14:56:43Z` or `14:56:43`.
fn without_clock(line: &str) -> String {
    let is_clock = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_digit() || b"-:TZ".contains(&b))
    };
    let trimmed = line.trim_start();
    if let Some(rest) = trimmed.strip_prefix('[')
        && let Some((stamp, after)) = rest.split_once(' ')
        && stamp.len() == 20
        && is_clock(stamp)
    {
        return format!("[<clock> {after}");
    }
    if let Some((stamp, after)) = trimmed.split_once(' ')
        && stamp.len() == 8
        && is_clock(stamp)
    {
        return format!("<clock> {after}");
    }
    line.to_string()
}

/// The text of a terminal line without its colour and cursor sequences (`ESC [ ... letter`).
fn without_ansi_escapes(line: &str) -> String {
    let mut text = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            text.push(c);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::without_progress;

    #[test]
    fn progress_lines_are_left_out_and_the_rest_kept() {
        let stderr = "\u{1b}[?25l[2026-12-02T14:56:43Z INFO  prodash::tree::item] status \u{2192} \
                      done 3 files in 0.01s (406 files/s)\n \u{1b}[2;43;37m14:56:43\u{1b}[0m \
                      \u{1b}[2mstatus\u{1b}[0m \u{1b}[1;37mdone 3 files in 0.01s (406 \
                      files/s)\u{1b}[0m\n\u{1b}[?25h\u{1b}[2K\nerror: no such reference\n";
        assert_eq!(without_progress(stderr), "error: no such reference\n");
    }

    #[test]
    fn log_lines_are_compared_without_their_clock() {
        let stderr = "[2026-12-02T14:56:43Z INFO  gix] opened\n14:56:44 open repository\n";
        assert_eq!(
            without_progress(stderr),
            "[<clock> INFO  gix] opened\n<clock> open repository\n"
        );
    }
}
