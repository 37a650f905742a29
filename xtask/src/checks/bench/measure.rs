//! Measuring one command: its wall time, the share of it spent linking, the size of a folder.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use support::process::{describe, output, run_captured};

/// Runs a preparation step, its output discarded; on failure the error carries its stderr.
pub fn quiet(cmd: &mut Command) -> Result<()> {
    run_captured(cmd).map(drop)
}

/// Seconds the command took; it must succeed.
pub fn timed(cmd: &mut Command) -> Result<f64> {
    let start = Instant::now();
    output(cmd.stdout(Stdio::null()))?;
    Ok(start.elapsed().as_secs_f64())
}

/// The share of a build's wall time spent linking: the build runs under
/// `strace -f --seccomp-bpf -e trace=execve,exit_group`, which records when each process
/// starts and ends, and the link is the life of the `cc` processes that rustc starts (rustc
/// links through `cc`, which runs rust-lld). `--seccomp-bpf` matters: without it strace stops
/// every system call of every process to filter them itself, and the linkers, which make
/// thousands (gcc's driver alone calls `readlink` about 1,200 times per link), looked 2.4×
/// slower than they are (measured on the app fixture's leaf rebuild: 0.257 s → 0.106 s).
pub fn link_share(cmd: &mut Command) -> Result<f64> {
    let log = std::env::temp_dir().join(format!("xtask-bench-strace-{}", std::process::id()));
    let mut traced = Command::new("strace");
    traced
        .args([
            "-f",
            "--seccomp-bpf",
            "-qq",
            "-ttt",
            "-e",
            "trace=execve,exit_group",
        ])
        .args(["-e", "signal=none", "-o"])
        .arg(&log)
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .current_dir(cmd.get_current_dir().unwrap_or(Path::new(".")));
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => traced.env(key, value),
            None => traced.env_remove(key),
        };
    }
    let start = Instant::now();
    output(&mut traced)
        .context("running the build under strace (install it: Debian's `strace` package)")?;
    let wall = start.elapsed().as_secs_f64();
    let trace = fs::read_to_string(&log)?;
    fs::remove_file(&log)?;
    let link = linker_seconds(&trace);
    if link == 0.0 {
        bail!("no link was seen in the trace of {}", describe(cmd));
    }
    Ok(link / wall)
}

/// Sums the lifetimes of the processes that exec'd `cc` (the linker driver), from strace's
/// `PID TIME execve("...cc", ...)` and `PID TIME exit_group(0) = ?` lines. A `cc` started by
/// another `cc` is not counted twice.
fn linker_seconds(trace: &str) -> f64 {
    use std::collections::HashMap;
    let mut started: HashMap<&str, f64> = HashMap::new();
    let mut total = 0.0;
    for line in trace.lines() {
        // strace pads short PIDs: `5586  1795655574.804371 execve(...)`.
        let Some((pid, rest)) = line.trim_start().split_once(' ') else {
            continue;
        };
        let Some((time, rest)) = rest.trim_start().split_once(' ') else {
            continue;
        };
        let Ok(time) = time.parse::<f64>() else {
            continue;
        };
        if let Some(program) = rest
            .strip_prefix("execve(\"")
            .and_then(|r| r.split('"').next())
        {
            let linker = Path::new(program).file_name().is_some_and(|f| f == "cc");
            if linker && !rest.contains("= -1") && started.is_empty() {
                started.insert(pid, time);
            }
        } else if rest.starts_with("exit_group(") || rest.starts_with("+++ ") {
            if let Some(start) = started.remove(pid) {
                total += time - start;
            }
        }
    }
    total
}

pub fn dir_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            total += dir_size(&entry.path())?;
        } else if kind.is_file() {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linker_time_is_the_life_of_the_outer_cc() {
        let trace = "\
100 10.000 execve(\"/usr/bin/cargo\", [\"cargo\"], 0x0 /* 1 vars */) = 0
101   10.100 execve(\"/rustc\", [\"rustc\"], 0x0 /* 1 vars */) = 0
102 10.400 execve(\"/usr/local/bin/cc\", [\"cc\"], 0x0 /* 1 vars */) = -1 ENOENT (No such file or directory)
102   10.401 execve(\"/usr/bin/cc\", [\"cc\"], 0x0 /* 1 vars */) = 0
103  10.450 execve(\"/usr/lib/gcc/collect2\", [\"collect2\"], 0x0 /* 1 vars */) = 0
103 10.600 exit_group(0)   = ?
102 10.650 exit_group(0)   = ?
101 10.700 exit_group(0)   = ?
";
        let seconds = linker_seconds(trace);
        assert!((seconds - 0.249).abs() < 1e-9, "{seconds}");
    }
}
