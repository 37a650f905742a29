//! Measuring one fixture: a copy of its sources in `target/bench/<name>/`, every variant
//! built there once to warm up, then each scenario in rounds that alternate which variant goes
//! first.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use anyhow::Result;
use support::fork::Fork;
use support::mode::Mode;
use support::process::{run_captured, step};
use support::workspace::{
    Workspace, clear_except_build_folders, copy_without_target, remove_dir_if_exists,
};

use super::fixtures::{Edit, Fixture, Scenario, Source, Variant};
use super::measure::{dir_size, link_share, quiet, timed};
use super::report::{Measured, Samples};
use crate::upstream::published::{members_from_its_lock, unpack_as_workspace};

/// A fixture ready to be measured: its sources in place and every variant built.
#[derive(Clone)]
struct Bench<'a> {
    fixture: &'a Fixture,
    fork: &'a Fork,
    dir: PathBuf,
    variants: Vec<Variant>,
    rounds: usize,
    /// The library path `cargo run` would give the reference's binary.
    reference_library_path: Option<String>,
}

/// Measures every scenario of `fixture`.
pub fn bench_fixture(
    ws: &Workspace,
    fork: &Fork,
    fixture: &Fixture,
    rounds: usize,
    only_scenario: Option<&str>,
) -> Result<Vec<Measured>> {
    let bench = Bench::prepare(ws, fork, fixture, rounds)?;
    let mut results = Vec::new();
    for (n, (label, scenario)) in fixture.scenarios.iter().enumerate() {
        if only_scenario.is_some_and(|only| !label.contains(only)) {
            continue;
        }
        let progress = |round: usize, rounds: usize, variant: Variant| {
            step(
                "Measuring",
                format!(
                    "{} [{}/{}] {label}: round {}/{rounds}, `{}`",
                    fixture.name,
                    n + 1,
                    fixture.scenarios.len(),
                    round + 1,
                    bench.name(variant)
                ),
            )
        };
        let (unit, samples) = bench.measure(scenario, &progress)?;
        let measured = Measured {
            fixture: fixture.name,
            scenario: label,
            unit,
            samples,
            reference: fixture.reference.as_ref().map(|r| r.label),
        };
        step("Measured", measured.summary_line());
        results.push(measured);
    }
    Ok(results)
}

impl<'a> Bench<'a> {
    /// Fresh sources over the kept build folders (warm caches between runs), then every
    /// variant built and its tests compiled, so that the first round measures the same thing
    /// as the last.
    fn prepare(
        ws: &Workspace,
        fork: &'a Fork,
        fixture: &'a Fixture,
        rounds: usize,
    ) -> Result<Bench<'a>> {
        let dir = ws.target().join("bench").join(fixture.name);
        match fixture.source {
            Source::Ours(folder) => {
                if dir.exists() {
                    clear_except_build_folders(&dir)?;
                }
                copy_without_target(&ws.root().join("bench").join("fixtures").join(folder), &dir)?;
            }
            Source::Published {
                name,
                version,
                joined,
            } => {
                let lock = ws
                    .root()
                    .join("bench")
                    .join("locks")
                    .join(format!("{name}-{version}.lock"));
                let members = members_from_its_lock(ws, (name, version), joined)?;
                unpack_as_workspace(ws, &dir, (name, version), &members, &lock)?;
            }
        }
        let mut variants = vec![Variant::Profile(Mode::Dev), Variant::Profile(Mode::Dynamic)];
        if fixture.reference.is_some() {
            variants.push(Variant::Reference);
        }
        let mut bench = Bench {
            fixture,
            fork,
            dir,
            variants,
            rounds,
            reference_library_path: None,
        };
        // The fork's dynamic binaries carry run paths. A framework's own dylib mode does not
        // (Bevy's binary fails "while loading shared libraries" when started directly): it
        // gets the library path `cargo run` would give it.
        if fixture.reference.is_some() {
            let sysroot_libs =
                run_captured(Command::new(fork.bin("rustc")).args(["--print", "target-libdir"]))?;
            let deps = bench.profile_dir(Variant::Reference).join("deps");
            bench.reference_library_path =
                Some(format!("{}:{}", deps.display(), sysroot_libs.trim()));
        }
        for &variant in &bench.variants {
            step(
                "Preparing",
                format!("{} (`{}`)", fixture.name, bench.name(variant)),
            );
            quiet(&mut bench.cargo(variant, &["test", "--no-run"]))?;
            quiet(&mut bench.cargo(variant, &["build"]))?;
        }
        Ok(bench)
    }

    fn name(&self, variant: Variant) -> &'static str {
        match (variant, &self.fixture.reference) {
            (Variant::Profile(mode), _) => mode.name(),
            (Variant::Reference, Some(reference)) => reference.label,
            (Variant::Reference, None) => "reference",
        }
    }

    /// The reference builds in `target-reference/`, so that its binary does not replace the
    /// `dev` one.
    fn target_dir(&self, variant: Variant) -> PathBuf {
        match variant {
            Variant::Profile(_) => self.dir.join("target"),
            Variant::Reference => self.dir.join("target-reference"),
        }
    }

    fn profile_dir(&self, variant: Variant) -> PathBuf {
        let mode = match variant {
            Variant::Profile(mode) => mode,
            Variant::Reference => Mode::Dev,
        };
        self.target_dir(variant).join(mode.dir())
    }

    /// The fork's `cargo <args> --locked --quiet` for `variant`.
    fn cargo(&self, variant: Variant, args: &[&str]) -> Command {
        let mut cmd = self.fork.cargo(&self.dir, args);
        cmd.args(self.fixture.cargo_args)
            .args(["--locked", "--quiet"])
            .env("CARGO_TARGET_DIR", self.target_dir(variant));
        if !self.fixture.rustflags.is_empty() {
            cmd.env(
                "CARGO_ENCODED_RUSTFLAGS",
                self.fixture.rustflags.join("\x1f"),
            );
        }
        match variant {
            Variant::Profile(mode) => cmd.args(mode.flags()),
            Variant::Reference => {
                cmd.args(self.fixture.reference.as_ref().map_or(&[][..], |r| r.args))
            }
        };
        cmd
    }

    /// Every variant runs `cargo <args>`, unmeasured: the state a scenario starts from.
    fn settle(&self, args: &[&str]) -> Result<()> {
        for &variant in &self.variants {
            quiet(&mut self.cargo(variant, args))?;
        }
        Ok(())
    }

    /// The fixture's binary of `variant`, started directly (no `cargo run`).
    fn start_bin(&self, variant: Variant, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.profile_dir(variant).join(self.fixture.bin));
        cmd.args(args).env_remove("LD_LIBRARY_PATH");
        if let (Variant::Reference, Some(path)) = (variant, &self.reference_library_path) {
            cmd.env("LD_LIBRARY_PATH", path);
        }
        cmd
    }

    /// Round `i` rotates which variant goes first.
    fn order(&self, round: usize) -> Vec<Variant> {
        let mut order = self.variants.clone();
        order.rotate_left(round % self.variants.len());
        order
    }

    /// Every round, every variant in that round's order.
    fn rounds(
        &self,
        samples: &mut Samples,
        mut measure: impl FnMut(usize, Variant) -> Result<f64>,
    ) -> Result<()> {
        for round in 0..self.rounds {
            for variant in self.order(round) {
                samples.of(variant).push(measure(round, variant)?);
            }
        }
        Ok(())
    }

    /// The rounds of an edit scenario: before each round, `edit` is applied afresh (edit
    /// number `first_edit + round`, so that no two scenarios make the same edit and no build
    /// is a no-op). The file is put back at the end.
    fn edited_rounds(
        &self,
        edit: &Edit,
        first_edit: usize,
        samples: &mut Samples,
        mut measure: impl FnMut(usize, Variant) -> Result<f64>,
    ) -> Result<()> {
        let original = fs::read_to_string(self.dir.join(edit.file))?;
        let mut edited = None;
        self.rounds(samples, |round, variant| {
            if edited != Some(round) {
                edit.apply(&self.dir, &original, first_edit + round)?;
                edited = Some(round);
            }
            measure(round, variant)
        })?;
        fs::write(self.dir.join(edit.file), &original)?;
        Ok(())
    }

    /// The unit and the samples of one scenario.
    fn measure(
        &self,
        scenario: &Scenario,
        progress: &dyn Fn(usize, usize, Variant),
    ) -> Result<(&'static str, Samples)> {
        let mut samples = Samples::default();
        let unit = match scenario {
            Scenario::AtMost { rounds, scenario } => {
                let fewer = Bench {
                    rounds: self.rounds.min(*rounds),
                    ..self.clone()
                };
                return fewer.measure(scenario, progress);
            }
            Scenario::CleanBuild => {
                self.rounds(&mut samples, |round, variant| {
                    progress(round, self.rounds, variant);
                    remove_dir_if_exists(&self.profile_dir(variant))?;
                    timed(&mut self.cargo(variant, &["build"]))
                })?;
                // Back to the warm state the other scenarios start from.
                self.settle(&["test", "--no-run"])?;
                "s"
            }
            Scenario::Noop { args } => {
                self.settle(args)?;
                self.rounds(&mut samples, |round, variant| {
                    progress(round, self.rounds, variant);
                    timed(&mut self.cargo(variant, args))
                })?;
                "s"
            }
            Scenario::EditThen { edit, args } => {
                // Every variant first builds what the previous scenario left.
                self.settle(args)?;
                self.edited_rounds(edit, 0, &mut samples, |round, variant| {
                    progress(round, self.rounds, variant);
                    timed(&mut self.cargo(variant, args))
                })?;
                "s"
            }
            Scenario::Startup { runs } => {
                self.settle(&["build"])?;
                progress(0, 1, self.variants[0]);
                for _ in 0..*runs {
                    for &variant in &self.variants {
                        let seconds = timed(&mut self.start_bin(variant, &["--help"]))?;
                        samples.of(variant).push(seconds * 1000.0);
                    }
                }
                "ms"
            }
            Scenario::EditToRunning { edit, run } => {
                self.settle(&["build"])?;
                self.edited_rounds(edit, 2000, &mut samples, |round, variant| {
                    progress(round, self.rounds, variant);
                    let build = timed(&mut self.cargo(variant, &["build"]))?;
                    let running = timed(&mut self.start_bin(variant, run))?;
                    Ok(build + running)
                })?;
                self.settle(&["build"])?;
                "s"
            }
            Scenario::LinkShare { edit } => {
                self.edited_rounds(edit, 1000, &mut samples, |round, variant| {
                    progress(round, self.rounds, variant);
                    Ok(link_share(&mut self.cargo(variant, &["build"]))? * 100.0)
                })?;
                self.settle(&["build"])?;
                "%"
            }
            Scenario::TargetSize => {
                for &variant in &self.variants {
                    let bytes = dir_size(&self.profile_dir(variant))?;
                    samples.of(variant).push(bytes as f64 / 1e6);
                }
                "MB"
            }
        };
        Ok((unit, samples))
    }
}
