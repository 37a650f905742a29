//! `cargo xtask bench`: what `--dynamic` buys, measured side by side against `dev`.
//!
//! Each fixture of `bench/fixtures/` is copied to `target/bench/<name>/` and measured with the
//! fork under both profiles in the same target directory. Every scenario runs in rounds; each
//! round measures both modes, alternating which goes first, after the same edit, so that both
//! see the same change and the same state of the machine's caches. Reported: median, min and
//! max per mode, and the ratio of the medians, dynamic / dev.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::compat;
use crate::linkers;
use crate::mode::Mode;
use crate::process::{describe, run_captured, step};
use crate::toolchain;
use crate::workspace::{
    Workspace, clear_except_build_folders, copy_without_target, remove_dir_if_exists,
};

/// How many times each variant's binary is started in a start-up scenario.
const STARTUP_RUNS: usize = 50;

/// What one measurement builds or runs: the fork under one of its profiles, or the fixture's
/// reference (the framework's own dylib mode, under `dev`).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Variant {
    Profile(Mode),
    Reference,
}

impl Variant {
    /// Where its samples go in `[dev, dynamic, reference]`.
    fn index(self) -> usize {
        match self {
            Variant::Profile(Mode::Dev) => 0,
            Variant::Profile(Mode::Dynamic) => 1,
            Variant::Reference => 2,
        }
    }

    fn name(self, fixture: &Fixture) -> &'static str {
        match (self, &fixture.reference) {
            (Variant::Profile(mode), _) => mode.name(),
            (Variant::Reference, Some(reference)) => reference.label,
            (Variant::Reference, None) => "reference",
        }
    }
}

/// The variants a fixture is measured in.
fn variants(fixture: &Fixture) -> Vec<Variant> {
    let mut all = vec![Variant::Profile(Mode::Dev), Variant::Profile(Mode::Dynamic)];
    if fixture.reference.is_some() {
        all.push(Variant::Reference);
    }
    all
}

/// Round `i` rotates which variant goes first.
fn order(round: usize, variants: &[Variant]) -> Vec<Variant> {
    let mut order = variants.to_vec();
    order.rotate_left(round % variants.len());
    order
}

/// A source edit: a real change of code, different in every round.
struct Edit {
    /// File, relative to the fixture.
    file: &'static str,
    kind: EditKind,
}

enum EditKind {
    /// Replaces the string literal `marker` by `marker (edit N)`.
    ChangeString(&'static str),
    /// Appends a new public function.
    AddFunction,
}

impl Edit {
    fn apply(&self, dir: &Path, original: &str, round: usize) -> Result<()> {
        let text = match self.kind {
            EditKind::ChangeString(marker) => {
                if !original.contains(marker) {
                    bail!("{} no longer contains {marker:?}", self.file);
                }
                original.replace(marker, &format!("{marker} (edit {round})"))
            }
            EditKind::AddFunction => format!(
                "{original}\n/// Added by `cargo xtask bench`.\npub fn bench_edit_{round}(x: u64) -> u64 {{\n    x.wrapping_mul({}) ^ {round}\n}}\n",
                round + 3
            ),
        };
        fs::write(dir.join(self.file), text)?;
        Ok(())
    }
}

/// What a scenario measures.
enum Scenario {
    /// `cargo build` after removing `target/<profile>/`.
    CleanBuild,
    /// `cargo <args>` with nothing changed.
    Noop { args: &'static [&'static str] },
    /// An edit, then `cargo <args>`.
    EditThen {
        edit: Edit,
        args: &'static [&'static str],
    },
    /// `<bin> --help`, started directly (no `cargo run`, no library path).
    Startup { runs: usize },
    /// What the user waits for after an edit: `cargo build`, then `<bin> <run>` started
    /// directly until it exits, timed as one.
    EditToRunning {
        edit: Edit,
        run: &'static [&'static str],
    },
    /// For the leaf edit: the share of the rebuild spent in the linker.
    LinkShare { edit: Edit },
    /// Bytes in `target/<profile>/`.
    TargetSize,
}

/// The sources of a fixture.
enum Source {
    /// A folder of `bench/fixtures/`, ours.
    Ours(&'static str),
    /// A published package nobody here wrote, unpacked from crates.io at one version and built
    /// with our lock file, `bench/locks/<name>-<version>.lock`.
    Published {
        name: &'static str,
        version: &'static str,
    },
}

struct Fixture {
    /// Its name in the tables, and its folder in `target/bench/`.
    name: &'static str,
    /// Where its sources come from.
    source: Source,
    /// rustc flags given to every variant (`CARGO_ENCODED_RUSTFLAGS`), such as another linker.
    rustflags: Vec<String>,
    /// The binary whose start-up is measured, in `target/<profile>/`.
    bin: &'static str,
    scenarios: Vec<(&'static str, Scenario)>,
    /// Measured beside the two profiles when set.
    reference: Option<Reference>,
}

/// A framework's own way to a faster loop, such as Bevy's `dynamic_linking` feature: the
/// fork's `dev` profile with extra arguments, without editing the fixture, in its own target
/// directory (`target-reference/`) so that its binary does not replace the `dev` one.
struct Reference {
    /// Its name in the tables.
    label: &'static str,
    args: &'static [&'static str],
}

/// The app fixture's leaf edit: a string of its binary, changed.
fn app_leaf() -> Edit {
    Edit {
        file: "src/main.rs",
        kind: EditKind::ChangeString("Analyse log files: summaries, errors, JSON"),
    }
}

fn fixtures() -> Vec<Fixture> {
    let bevy_leaf = || Edit {
        file: "src/main.rs",
        kind: EditKind::ChangeString("bouncing sprites on Bevy"),
    };
    vec![
        Fixture {
            name: "app",
            source: Source::Ours("app"),
            rustflags: Vec::new(),
            bin: "bench-app",
            scenarios: vec![
                ("clean build", Scenario::CleanBuild),
                ("no-op build", Scenario::Noop { args: &["build"] }),
                (
                    "leaf edit of the bin, build",
                    Scenario::EditThen {
                        edit: app_leaf(),
                        args: &["build"],
                    },
                ),
                (
                    "lib edit, test --no-run (8 test binaries)",
                    Scenario::EditThen {
                        edit: Edit {
                            file: "src/lib.rs",
                            kind: EditKind::AddFunction,
                        },
                        args: &["test", "--no-run"],
                    },
                ),
                (
                    "start-up (--help)",
                    Scenario::Startup { runs: STARTUP_RUNS },
                ),
                (
                    "leaf edit to running (build, then summary of 1000 lines)",
                    Scenario::EditToRunning {
                        edit: app_leaf(),
                        run: &["summary", "--lines", "1000"],
                    },
                ),
                (
                    "link share of the leaf rebuild",
                    Scenario::LinkShare { edit: app_leaf() },
                ),
                ("size of the profile's target folder", Scenario::TargetSize),
            ],
            reference: None,
        },
        Fixture {
            name: "chain",
            source: Source::Ours("chain"),
            rustflags: Vec::new(),
            bin: "app",
            scenarios: vec![
                ("clean build", Scenario::CleanBuild),
                ("no-op build", Scenario::Noop { args: &["build"] }),
                (
                    "edit in the middle (layer3 of 5), build",
                    Scenario::EditThen {
                        edit: Edit {
                            file: "layer3/src/lib.rs",
                            kind: EditKind::ChangeString("layer 3"),
                        },
                        args: &["build"],
                    },
                ),
                ("start-up", Scenario::Startup { runs: STARTUP_RUNS }),
                ("size of the profile's target folder", Scenario::TargetSize),
            ],
            reference: None,
        },
        // A command-line program whose own test suite starts its binary for nearly every test:
        // the loop of a CLI author, where start-up is paid once per test.
        Fixture {
            name: "ripgrep",
            source: Source::Published {
                name: "ripgrep",
                version: "15.2.0",
            },
            rustflags: Vec::new(),
            bin: "rg",
            scenarios: vec![
                (
                    "edit, then test (build, then the whole suite, which starts rg per test)",
                    Scenario::EditThen {
                        edit: Edit {
                            file: "crates/core/main.rs",
                            kind: EditKind::AddFunction,
                        },
                        args: &["test"],
                    },
                ),
                (
                    "test with nothing changed (the suite alone)",
                    Scenario::Noop { args: &["test"] },
                ),
                (
                    "start-up (--help)",
                    Scenario::Startup { runs: STARTUP_RUNS },
                ),
            ],
            reference: None,
        },
        // About 430 packages. No clean-build scenario: one clean build takes 4 to 5 minutes
        // per mode here, and five rounds of it would not fit in the half hour the whole
        // benchmark has. The first run's warm-up builds it from scratch once per mode.
        Fixture {
            name: "bevy",
            source: Source::Ours("bevy"),
            rustflags: Vec::new(),
            bin: "bench-bevy",
            scenarios: vec![
                ("no-op build", Scenario::Noop { args: &["build"] }),
                (
                    "leaf edit of the bin, build",
                    Scenario::EditThen {
                        edit: bevy_leaf(),
                        args: &["build"],
                    },
                ),
                (
                    "start-up (--help)",
                    Scenario::Startup { runs: STARTUP_RUNS },
                ),
                (
                    "leaf edit to running (build, then one headless frame)",
                    Scenario::EditToRunning {
                        edit: bevy_leaf(),
                        run: &["--headless", "1"],
                    },
                ),
                (
                    "link share of the leaf rebuild",
                    Scenario::LinkShare { edit: bevy_leaf() },
                ),
                ("size of the profile's target folder", Scenario::TargetSize),
            ],
            reference: Some(Reference {
                label: "Bevy's dynamic_linking",
                args: &["--features", "bevy/dynamic_linking"],
            }),
        },
    ]
}

/// The app fixture's leaf edit again, linked by each faster linker installed here, in a
/// target folder of its own (`target/bench/app-<linker>/`), for the README's advice.
fn linker_fixtures(ws: &Workspace) -> Vec<Fixture> {
    let (found, missing) = linkers::available(ws);
    for reason in missing {
        step("Skipped", format!("the app fixture with {reason}"));
    }
    found
        .into_iter()
        .map(|linker| Fixture {
            // One fixture per linker for the whole run: leaking the name is harmless.
            name: String::leak(format!("app-{}", linker.name)),
            source: Source::Ours("app"),
            rustflags: linker.rustflags,
            bin: "bench-app",
            scenarios: vec![
                (
                    "leaf edit of the bin, build",
                    Scenario::EditThen {
                        edit: app_leaf(),
                        args: &["build"],
                    },
                ),
                (
                    "link share of the leaf rebuild",
                    Scenario::LinkShare { edit: app_leaf() },
                ),
            ],
            reference: None,
        })
        .collect()
}

/// One measured scenario: the samples of each mode.
struct Measured {
    fixture: &'static str,
    scenario: &'static str,
    unit: &'static str,
    dev: Vec<f64>,
    dynamic: Vec<f64>,
    /// The fixture's reference, if it has one: its name and samples.
    reference: Option<(&'static str, Vec<f64>)>,
}

impl Measured {
    fn ratio(&self) -> f64 {
        median(&self.dynamic) / median(&self.dev)
    }

    /// dynamic / reference.
    fn reference_ratio(&self) -> Option<f64> {
        let (_, samples) = self.reference.as_ref()?;
        Some(median(&self.dynamic) / median(samples))
    }
}

/// `cargo xtask bench`.
pub fn bench(ws: &Workspace, rounds: usize, only: &[String]) -> Result<()> {
    if rounds < 1 {
        bail!("--rounds must be at least 1");
    }
    let fork = toolchain::build(ws)?;
    let started = Instant::now();
    let mut results = Vec::new();
    for fixture in fixtures().into_iter().chain(linker_fixtures(ws)) {
        if !only.is_empty() && !only.iter().any(|o| o == fixture.name) {
            continue;
        }
        results.extend(bench_fixture(ws, &fork, &fixture, rounds)?);
    }
    let minutes = started.elapsed().as_secs_f64() / 60.0;

    let machine = machine_description();
    let toolchain = format!(
        "{}; {}",
        run_captured(Command::new(fork.with_file_name("rustc")).arg("-V"))?.trim(),
        run_captured(Command::new(&fork).arg("-V"))?.trim()
    );
    let table = table(&results) + &reference_table(&results);
    println!("\n{table}");
    println!("machine: {machine}\ntoolchain: {toolchain}\n{rounds} rounds, {minutes:.1} minutes");

    let docs = ws.root().join("docs");
    fs::create_dir_all(&docs)?;
    let report = json!({
        "machine": machine,
        "toolchain": toolchain,
        "rounds": rounds,
        "minutes": minutes,
        "results": results.iter().map(|m| json!({
            "fixture": m.fixture,
            "scenario": m.scenario,
            "unit": m.unit,
            "dev": summary(&m.dev),
            "dynamic": summary(&m.dynamic),
            "ratio": m.ratio(),
            "reference": m.reference.as_ref().map(|(name, samples)| json!({
                "name": name,
                "samples": summary(samples),
                "dynamic_over_reference": m.reference_ratio(),
            })),
        })).collect::<Vec<_>>(),
    });
    fs::write(
        docs.join("bench.json"),
        serde_json::to_string_pretty(&report)? + "\n",
    )?;
    fs::write(docs.join("bench.svg"), svg(&results, &machine, &toolchain))?;
    update_readme(ws, &table, &machine, &toolchain, rounds)?;
    step(
        "Wrote",
        "docs/bench.json, docs/bench.svg and the table in README.md",
    );
    Ok(())
}

fn bench_fixture(
    ws: &Workspace,
    fork: &Path,
    fixture: &Fixture,
    rounds: usize,
) -> Result<Vec<Measured>> {
    let dir = ws.target().join("bench").join(fixture.name);
    // Fresh sources over the kept `target/`: warm caches between runs.
    match fixture.source {
        Source::Ours(folder) => {
            if dir.exists() {
                clear_except_build_folders(&dir)?;
            }
            copy_without_target(&ws.root().join("bench").join("fixtures").join(folder), &dir)?;
        }
        Source::Published { name, version } => {
            let lock = ws
                .root()
                .join("bench")
                .join("locks")
                .join(format!("{name}-{version}.lock"));
            compat::unpack_as_workspace(ws, &dir, (name, version), &[], &lock)?;
        }
    }
    let variants = variants(fixture);
    let target_dir = |variant: Variant| match variant {
        Variant::Profile(_) => dir.join("target"),
        Variant::Reference => dir.join("target-reference"),
    };
    let profile_dir = |variant: Variant| match variant {
        Variant::Profile(mode) => target_dir(variant).join(mode.dir()),
        Variant::Reference => target_dir(variant).join(Mode::Dev.dir()),
    };
    let cargo = |variant: Variant, args: &[&str]| {
        let mut cmd = toolchain::fork_cargo(fork);
        cmd.current_dir(&dir)
            .args(args)
            .arg("--locked")
            .arg("--quiet")
            .env("CARGO_TARGET_DIR", target_dir(variant));
        if !fixture.rustflags.is_empty() {
            cmd.env("CARGO_ENCODED_RUSTFLAGS", fixture.rustflags.join("\x1f"));
        }
        match variant {
            Variant::Profile(mode) => cmd.args(mode.flags()),
            Variant::Reference => cmd.args(fixture.reference.as_ref().map_or(&[][..], |r| r.args)),
        };
        cmd
    };
    // The fork's dynamic binaries carry run paths. A framework's own dylib mode does not
    // (Bevy's binary fails "while loading shared libraries" when started directly): it gets the
    // library path `cargo run` would give it.
    let reference_library_path = match fixture.reference {
        Some(_) => {
            let sysroot_libs = run_captured(
                Command::new(fork.with_file_name("rustc")).args(["--print", "target-libdir"]),
            )?;
            let deps = profile_dir(Variant::Reference).join("deps");
            Some(format!("{}:{}", deps.display(), sysroot_libs.trim()))
        }
        None => None,
    };
    let start_bin = |variant: Variant, args: &[&str]| {
        let mut cmd = Command::new(profile_dir(variant).join(fixture.bin));
        cmd.args(args).env_remove("LD_LIBRARY_PATH");
        if let (Variant::Reference, Some(path)) = (variant, &reference_library_path) {
            cmd.env("LD_LIBRARY_PATH", path);
        }
        cmd
    };
    // Warm up: every variant built and its tests compiled, so that the first round measures
    // the same thing as the last.
    for &variant in &variants {
        step(
            "Preparing",
            format!("{} (`{}`)", fixture.name, variant.name(fixture)),
        );
        quiet(&mut cargo(variant, &["test", "--no-run"]))?;
        quiet(&mut cargo(variant, &["build"]))?;
    }

    let mut results = Vec::new();
    for (n, (label, scenario)) in fixture.scenarios.iter().enumerate() {
        let progress = |round: usize, variant: Variant| {
            step(
                "Measuring",
                format!(
                    "{} [{}/{}] {label}: round {}/{rounds}, `{}`",
                    fixture.name,
                    n + 1,
                    fixture.scenarios.len(),
                    round + 1,
                    variant.name(fixture)
                ),
            )
        };
        let mut samples = [Vec::new(), Vec::new(), Vec::new()];
        let mut unit = "s";
        match scenario {
            Scenario::CleanBuild => {
                for round in 0..rounds {
                    for variant in order(round, &variants) {
                        progress(round, variant);
                        remove_dir_if_exists(&profile_dir(variant))?;
                        samples[variant.index()].push(timed(&mut cargo(variant, &["build"]))?);
                    }
                }
                // Back to the warm state the other scenarios start from.
                for &variant in &variants {
                    quiet(&mut cargo(variant, &["test", "--no-run"]))?;
                }
            }
            Scenario::Noop { args } => {
                for &variant in &variants {
                    quiet(&mut cargo(variant, args))?;
                }
                for round in 0..rounds {
                    for variant in order(round, &variants) {
                        progress(round, variant);
                        samples[variant.index()].push(timed(&mut cargo(variant, args))?);
                    }
                }
            }
            Scenario::EditThen { edit, args } => {
                // Every variant first builds what the previous scenario left.
                for &variant in &variants {
                    quiet(&mut cargo(variant, args))?;
                }
                edited_rounds(
                    &dir,
                    edit,
                    0,
                    &variants,
                    rounds,
                    &mut samples,
                    |round, variant| {
                        progress(round, variant);
                        timed(&mut cargo(variant, args))
                    },
                )?;
            }
            Scenario::Startup { runs } => {
                unit = "ms";
                for &variant in &variants {
                    quiet(&mut cargo(variant, &["build"]))?;
                }
                progress(0, variants[0]);
                for _ in 0..*runs {
                    for &variant in &variants {
                        let mut cmd = start_bin(variant, &["--help"]);
                        samples[variant.index()].push(timed(&mut cmd)? * 1000.0);
                    }
                }
            }
            Scenario::EditToRunning { edit, run } => {
                for &variant in &variants {
                    quiet(&mut cargo(variant, &["build"]))?;
                }
                edited_rounds(
                    &dir,
                    edit,
                    2000,
                    &variants,
                    rounds,
                    &mut samples,
                    |round, variant| {
                        progress(round, variant);
                        let build = timed(&mut cargo(variant, &["build"]))?;
                        let running = timed(&mut start_bin(variant, run))?;
                        Ok(build + running)
                    },
                )?;
                for &variant in &variants {
                    quiet(&mut cargo(variant, &["build"]))?;
                }
            }
            Scenario::LinkShare { edit } => {
                unit = "%";
                edited_rounds(
                    &dir,
                    edit,
                    1000,
                    &variants,
                    rounds,
                    &mut samples,
                    |round, variant| {
                        progress(round, variant);
                        Ok(link_share(&mut cargo(variant, &["build"]))? * 100.0)
                    },
                )?;
                for &variant in &variants {
                    quiet(&mut cargo(variant, &["build"]))?;
                }
            }
            Scenario::TargetSize => {
                unit = "MB";
                for &variant in &variants {
                    let bytes = dir_size(&profile_dir(variant))?;
                    samples[variant.index()].push(bytes as f64 / 1e6);
                }
            }
        }
        let [dev, dynamic, reference] = samples;
        let measured = Measured {
            fixture: fixture.name,
            scenario: label,
            unit,
            dev,
            dynamic,
            reference: fixture.reference.as_ref().map(|r| (r.label, reference)),
        };
        let against_reference = match (&measured.reference, measured.reference_ratio()) {
            (Some((name, samples)), Some(ratio)) => format!(
                ", {name} {} {unit} (dynamic / it {ratio:.2})",
                fmt_value(median(samples))
            ),
            _ => String::new(),
        };
        step(
            "Measured",
            format!(
                "{} {label}: dev {} {unit}, dynamic {} {unit}, ratio {:.2}{against_reference}",
                fixture.name,
                fmt_value(median(&measured.dev)),
                fmt_value(median(&measured.dynamic)),
                measured.ratio()
            ),
        );
        results.push(measured);
    }
    Ok(results)
}

/// The rounds of an edit scenario: before each round, `edit` is applied afresh (edit number
/// `first_edit + round`, so that no two scenarios make the same edit and no build is a no-op);
/// then every variant, in that round's order, is measured. The file is put back at the end.
fn edited_rounds(
    dir: &Path,
    edit: &Edit,
    first_edit: usize,
    variants: &[Variant],
    rounds: usize,
    samples: &mut [Vec<f64>; 3],
    mut measure: impl FnMut(usize, Variant) -> Result<f64>,
) -> Result<()> {
    let original = fs::read_to_string(dir.join(edit.file))?;
    for round in 0..rounds {
        edit.apply(dir, &original, first_edit + round)?;
        for variant in order(round, variants) {
            samples[variant.index()].push(measure(round, variant)?);
        }
    }
    fs::write(dir.join(edit.file), &original)?;
    Ok(())
}

/// Runs a preparation step, its output discarded; on failure the error carries its stderr.
fn quiet(cmd: &mut Command) -> Result<()> {
    run_captured(cmd).map(drop)
}

/// Seconds the command took; it must succeed.
fn timed(cmd: &mut Command) -> Result<f64> {
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let start = Instant::now();
    let output = cmd
        .output()
        .with_context(|| format!("could not start {}", describe(cmd)))?;
    let seconds = start.elapsed().as_secs_f64();
    if !output.status.success() {
        bail!(
            "{} failed:\n{}",
            describe(cmd),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(seconds)
}

/// The share of a build's wall time spent linking: the build runs under
/// `strace -f --seccomp-bpf -e trace=execve,exit_group`, which records when each process
/// starts and ends, and the link is the life of the `cc` processes that rustc starts (rustc
/// links through `cc`, which runs rust-lld). `--seccomp-bpf` matters: without it strace stops
/// every system call of every process to filter them itself, and the linkers, which make
/// thousands (gcc's driver alone calls `readlink` about 1,200 times per link), looked 2.4×
/// slower than they are (measured on the app fixture's leaf rebuild: 0.257 s → 0.106 s).
fn link_share(cmd: &mut Command) -> Result<f64> {
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
    let output = traced
        .output()
        .context("running the build under strace (install it: Debian's `strace` package)")?;
    let wall = start.elapsed().as_secs_f64();
    if !output.status.success() {
        bail!(
            "{} failed:\n{}",
            describe(&traced),
            String::from_utf8_lossy(&output.stderr)
        );
    }
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

fn dir_size(dir: &Path) -> Result<u64> {
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

fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn min_max(samples: &[f64]) -> (f64, f64) {
    let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
    let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}

fn summary(samples: &[f64]) -> serde_json::Value {
    let (min, max) = min_max(samples);
    json!({ "median": median(samples), "min": min, "max": max, "samples": samples })
}

fn fmt_value(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// "median unit (min–max)", or the one sample.
fn cell(samples: &[f64], unit: &str) -> String {
    let (min, max) = min_max(samples);
    if samples.len() == 1 {
        format!("{} {unit}", fmt_value(samples[0]))
    } else {
        format!(
            "{} {unit} ({}–{})",
            fmt_value(median(samples)),
            fmt_value(min),
            fmt_value(max)
        )
    }
}

/// The rows of fixtures with a reference, against it; empty when none has one.
fn reference_table(results: &[Measured]) -> String {
    let rows: Vec<_> = results.iter().filter(|m| m.reference.is_some()).collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\nAgainst the framework's own dylib mode, measured in the same rounds:\n\n\
         | fixture | scenario | reference median (min–max) | dynamic median (min–max) | dynamic / reference |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for m in rows {
        let (name, samples) = m.reference.as_ref().expect("filtered");
        writeln!(
            out,
            "| {} | {} | {name}: {} | {} | {:.2} |",
            m.fixture,
            m.scenario,
            cell(samples, m.unit),
            cell(&m.dynamic, m.unit),
            m.reference_ratio().unwrap_or(f64::NAN)
        )
        .unwrap();
    }
    out
}

fn table(results: &[Measured]) -> String {
    let mut out = String::from(
        "| fixture | scenario | dev median (min–max) | dynamic median (min–max) | dynamic / dev |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for m in results {
        writeln!(
            out,
            "| {} | {} | {} | {} | {:.2} |",
            m.fixture,
            m.scenario,
            cell(&m.dev, m.unit),
            cell(&m.dynamic, m.unit),
            m.ratio()
        )
        .unwrap();
    }
    out
}

/// Horizontal bars of the ratios, one per scenario, with the line of parity at 1.
fn svg(results: &[Measured], machine: &str, toolchain: &str) -> String {
    let (label_w, bar_w, row_h, top) = (330.0, 420.0, 26.0, 64.0);
    let max_ratio = results
        .iter()
        .map(Measured::ratio)
        .filter(|r| r.is_finite())
        .fold(1.5_f64, f64::max)
        .ceil();
    let x = |ratio: f64| label_w + bar_w * ratio / max_ratio;
    let height = top + row_h * results.len() as f64 + 40.0;
    let width = label_w + bar_w + 80.0;
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">cargo --dynamic vs dev: \
         median time (or size) ratio, lower is better</text>\n\
         <text x=\"10\" y=\"38\" fill=\"#555\">{}</text>\n\
         <text x=\"10\" y=\"54\" fill=\"#555\">{}</text>\n",
        escape(machine),
        escape(toolchain)
    );
    for (i, m) in results.iter().enumerate() {
        let y = top + row_h * i as f64;
        let ratio = m.ratio();
        let color = if ratio <= 1.0 { "#2e7d32" } else { "#c62828" };
        writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}: {}</text>\n\
             <rect x=\"{label_w}\" y=\"{}\" width=\"{:.1}\" height=\"{}\" fill=\"{color}\"/>\n\
             <text x=\"{:.1}\" y=\"{}\">{ratio:.2}</text>",
            label_w - 8.0,
            y + 16.0,
            escape(m.fixture),
            escape(m.scenario),
            y + 4.0,
            (x(ratio) - label_w).max(1.0),
            row_h - 8.0,
            x(ratio) + 4.0,
            y + 16.0
        )
        .unwrap();
    }
    let bottom = top + row_h * results.len() as f64;
    writeln!(
        out,
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"black\" stroke-dasharray=\"4 3\"/>\n\
         <text x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">1.0 = as fast as dev</text>\n</svg>",
        x(1.0),
        top - 4.0,
        bottom,
        bottom + 18.0
    )
    .unwrap();
    out
}

/// Replaces the benchmark block of README.md (between its `bench:begin` and `bench:end`
/// markers) with this run's table.
fn update_readme(
    ws: &Workspace,
    table: &str,
    machine: &str,
    toolchain: &str,
    rounds: usize,
) -> Result<()> {
    let path = ws.root().join("README.md");
    let text = fs::read_to_string(&path)?;
    let (begin, end) = ("<!-- bench:begin -->", "<!-- bench:end -->");
    let (Some(a), Some(b)) = (text.find(begin), text.find(end)) else {
        bail!("README.md has no `{begin}` ... `{end}` block for the benchmark table");
    };
    let block = format!(
        "{begin}\n![dynamic / dev per scenario](docs/bench.svg)\n\n{table}\n\
         Measured by `cargo xtask bench` ({rounds} alternated rounds per scenario; start-up: \
         {STARTUP_RUNS} runs per mode) on {machine}, with {toolchain}. Raw samples: `docs/bench.json`.\n"
    );
    fs::write(&path, format!("{}{block}{}", &text[..a], &text[b..]))?;
    Ok(())
}

fn machine_description() -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|kb| kb.trim().trim_end_matches(" kB").parse::<f64>().ok())
        })
        .map_or("? GiB".into(), |kb| {
            format!("{:.0} GiB", kb / 1024.0 / 1024.0)
        });
    format!("{cores} cores of {cpu}, {memory}, {}", std::env::consts::OS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

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
