//! Running other programs, and telling the user what is going on.

use std::process::Command;

use anyhow::{Context, Result, bail};

/// Announces a step, in the way Cargo announces its own ("   Compiling ...").
pub fn step(verb: &str, what: impl std::fmt::Display) {
    eprintln!("{verb:>12} {what}");
}

/// The cargo that runs this xtask (`CARGO` is set by `cargo run`): the upstream toolchain's,
/// never the fork.
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

/// Runs a command and returns its stdout; on failure the error carries its stderr.
pub fn run_captured(cmd: &mut Command) -> Result<String> {
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
    String::from_utf8(output.stdout).with_context(|| format!("{} printed non-UTF-8", describe(cmd)))
}

pub fn describe(cmd: &Command) -> String {
    let mut words = vec![cmd.get_program().to_string_lossy().into_owned()];
    words.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    format!("`{}`", words.join(" "))
}
