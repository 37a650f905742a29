//! Running other programs, capturing what they print, and telling the user what is going on.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Output, Stdio};

use anyhow::{Context, Result, bail};

/// Announces a step, in the way Cargo announces its own ("   Compiling ...").
pub fn step(verb: &str, what: impl std::fmt::Display) {
    eprintln!("{verb:>12} {what}");
}

/// The cargo that runs this program (`CARGO` is set by `cargo run` and `cargo test`): the
/// upstream toolchain's, never the fork.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs a command with the terminal attached; fails unless it exits with success.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("could not start {}", describe(cmd)))?;
    if !status.success() {
        bail!("{} failed ({status})", describe(cmd));
    }
    Ok(())
}

/// Runs a command and returns its output; on failure the error carries its stderr.
pub fn output(cmd: &mut Command) -> Result<Output> {
    let output = cmd
        .output()
        .with_context(|| format!("could not start {}", describe(cmd)))?;
    if !output.status.success() {
        bail!(
            "{} failed ({}):\n{}",
            describe(cmd),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        );
    }
    Ok(output)
}

/// Runs a command and returns its stdout; on failure the error carries its stderr.
pub fn run_captured(cmd: &mut Command) -> Result<String> {
    let output = output(cmd)?;
    String::from_utf8(output.stdout).with_context(|| format!("{} printed non-UTF-8", describe(cmd)))
}

/// Runs a command and hands each line of its stdout to `line` as it comes (stderr stays on
/// the terminal); fails unless it exits with success.
pub fn run_line_by_line(cmd: &mut Command, mut line: impl FnMut(&str)) -> Result<()> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {}", describe(cmd)))?;
    for text in BufReader::new(child.stdout.take().expect("piped")).lines() {
        line(&text?);
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("{} failed ({status})", describe(cmd));
    }
    Ok(())
}

/// What a command printed on stdout and stderr together, in the order a terminal shows it.
pub struct Merged {
    pub success: bool,
    pub text: String,
}

/// Runs a command with stdout and stderr merged into one pipe: Cargo's `Running <test binary>`
/// lines (stderr) must stay in order with libtest's results (stdout). A failure is an
/// outcome here, not an error.
pub fn run_merged(mut cmd: Command) -> Result<Merged> {
    let (mut reader, writer) = std::io::pipe()?;
    cmd.stdout(writer.try_clone()?).stderr(writer);
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not start {}", describe(&cmd)))?;
    // `cmd` keeps our copies of the pipe's writing end: close them, so that the read below
    // ends when the child exits.
    drop(cmd);
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    let status = child.wait()?;
    Ok(Merged {
        success: status.success(),
        text: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// A command as a user would type it: `` `cargo build --dynamic` ``.
pub fn describe(cmd: &Command) -> String {
    let mut words = vec![cmd.get_program().to_string_lossy().into_owned()];
    words.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    format!("`{}`", words.join(" "))
}

/// An output in full, for a test's failure message.
pub fn describe_output(output: &Output) -> String {
    format!(
        "status: {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
