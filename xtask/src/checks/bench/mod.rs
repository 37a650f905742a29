//! `cargo xtask bench`: what `--dynamic` buys, measured side by side against `dev`.
//!
//! Each fixture ([`fixtures`]) is copied to `target/bench/<name>/` and measured with the fork
//! under both profiles in the same target directory ([`run`]). Every scenario runs in rounds;
//! each round measures both modes, alternating which goes first, after the same edit, so that
//! both see the same change and the same state of the machine's caches. Reported
//! ([`report`]): median, min and max per mode, and the ratio of the medians, dynamic / dev.

pub mod fixtures;
pub mod linkers;
mod measure;
mod report;
mod run;

use std::process::Command;
use std::time::Instant;

use anyhow::{Result, bail};
use support::process::{run_captured, step};
use support::workspace::Workspace;

use crate::toolchain;
use report::Report;

/// `cargo xtask bench`.
pub fn bench(ws: &Workspace, rounds: usize, only: &[String], scenario: Option<&str>) -> Result<()> {
    if rounds < 1 {
        bail!("--rounds must be at least 1");
    }
    let fork = toolchain::build(ws)?;
    let started = Instant::now();
    let mut results = Vec::new();
    for fixture in fixtures::fixtures()
        .into_iter()
        .chain(fixtures::linker_fixtures(ws))
    {
        if !only.is_empty() && !only.iter().any(|o| o == fixture.name) {
            continue;
        }
        results.extend(run::bench_fixture(ws, &fork, &fixture, rounds, scenario)?);
    }
    let toolchain = format!(
        "{}; {}",
        run_captured(Command::new(fork.bin("rustc")).arg("-V"))?.trim(),
        run_captured(Command::new(fork.bin("cargo")).arg("-V"))?.trim()
    );
    let report = Report {
        results,
        machine: report::machine_description(),
        toolchain,
        rounds,
        minutes: started.elapsed().as_secs_f64() / 60.0,
    };
    // The README's table is one run of every scenario, side by side: a run of some of them
    // prints its table and leaves the published one as it was.
    if only.is_empty() && scenario.is_none() {
        report.publish(ws)
    } else {
        report.print();
        step(
            "Kept",
            "docs/bench.json, docs/bench.svg and the table in README.md (a partial run)",
        );
        Ok(())
    }
}
