//! The benchmark's fixtures: where each one's sources come from, and the scenarios measured
//! on it. The numbers the README quotes come from these definitions.

use std::fs;
use std::path::Path;

use anyhow::{Result, bail};
use support::mode::Mode;
use support::process::step;
use support::workspace::Workspace;

use super::linkers;

/// How many times each variant's binary is started in a start-up scenario.
pub const STARTUP_RUNS: usize = 50;

/// What one measurement builds or runs: the fork under one of its profiles, or the fixture's
/// reference (the framework's own dylib mode, under `dev`).
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Variant {
    Profile(Mode),
    Reference,
}

/// A source edit: a real change of code, different in every round.
pub struct Edit {
    /// File, relative to the fixture.
    pub file: &'static str,
    pub kind: EditKind,
}

pub enum EditKind {
    /// Replaces the string literal `marker` by `marker (edit N)`.
    ChangeString(&'static str),
    /// Appends a new public function.
    AddFunction,
    /// Inserts comment lines at the top, one more each round: every line below moves.
    CommentAtTop,
}

impl Edit {
    pub fn apply(&self, dir: &Path, original: &str, round: usize) -> Result<()> {
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
            // One line more than the round before: every line below moves in each round,
            // not only in the first.
            EditKind::CommentAtTop => {
                format!(
                    "{}{original}",
                    "// Added by `cargo xtask bench`.\n".repeat(round + 1)
                )
            }
        };
        fs::write(dir.join(self.file), text)?;
        Ok(())
    }
}

/// What a scenario measures.
pub enum Scenario {
    /// `scenario` in at most `rounds` rounds: for a large project, where one round of a clean
    /// build takes minutes.
    AtMost {
        rounds: usize,
        scenario: Box<Scenario>,
    },
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
pub enum Source {
    /// A folder of `bench/fixtures/`, ours.
    Ours(&'static str),
    /// A published package nobody here wrote, unpacked from crates.io at one version and built
    /// with our lock file, `bench/locks/<name>-<version>.lock`. The packages of its own
    /// Cargo.lock whose names start with one of `joined` are unpacked beside it as workspace
    /// members (path packages, as in the project's own repository).
    Published {
        name: &'static str,
        version: &'static str,
        joined: &'static [&'static str],
    },
}

pub struct Fixture {
    /// Its name in the tables, and its folder in `target/bench/`.
    pub name: &'static str,
    /// Where its sources come from.
    pub source: Source,
    /// rustc flags given to every variant (`CARGO_ENCODED_RUSTFLAGS`), such as another linker.
    pub rustflags: Vec<String>,
    /// Arguments given to every `cargo` command of every variant, such as its features.
    pub cargo_args: &'static [&'static str],
    /// The binary whose start-up is measured, in `target/<profile>/`.
    pub bin: &'static str,
    pub scenarios: Vec<(&'static str, Scenario)>,
    /// Measured beside the two profiles when set.
    pub reference: Option<Reference>,
}

/// A framework's own way to a faster loop, such as Bevy's `dynamic_linking` feature: the
/// fork's `dev` profile with extra arguments, without editing the fixture, in its own target
/// directory (`target-reference/`) so that its binary does not replace the `dev` one.
pub struct Reference {
    /// Its name in the tables.
    pub label: &'static str,
    pub args: &'static [&'static str],
}

/// The app fixture's leaf edit: a string of its binary, changed.
fn app_leaf() -> Edit {
    Edit {
        file: "src/main.rs",
        kind: EditKind::ChangeString("Analyse log files: summaries, errors, JSON"),
    }
}

pub fn fixtures() -> Vec<Fixture> {
    let bevy_leaf = || Edit {
        file: "src/main.rs",
        kind: EditKind::ChangeString("bouncing sprites on Bevy"),
    };
    vec![
        Fixture {
            name: "app",
            source: Source::Ours("app"),
            rustflags: Vec::new(),
            cargo_args: &[],
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
                    "lib body edit (a plain function), test --no-run",
                    Scenario::EditThen {
                        edit: Edit {
                            file: "src/lib.rs",
                            kind: EditKind::ChangeString("bad timestamp"),
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
            cargo_args: &[],
            bin: "app",
            scenarios: vec![
                ("clean build", Scenario::CleanBuild),
                ("no-op build", Scenario::Noop { args: &["build"] }),
                (
                    "body edit in the middle (layer3 of 5), build",
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
                joined: &[],
            },
            rustflags: Vec::new(),
            cargo_args: &[],
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
        // A real workspace nobody here wrote: gitoxide's `gix` binary over 60 of the project's
        // own crates (`gitoxide-core`, `gix` and the `gix-*` crates, each published on its
        // own and joined here as the workspace members they are in its repository), 172
        // packages with its `small` features (no C code). `gix-revwalk` is a middle crate:
        // six workspace crates stand between it and the binary (gitoxide-core, gix, gix-odb,
        // gix-pack, gix-diff, gix-traverse) and a dozen depend on it.
        Fixture {
            name: "gitoxide",
            source: Source::Published {
                name: "gitoxide",
                version: "0.61.0",
                joined: &["gix", "gitoxide-core"],
            },
            rustflags: Vec::new(),
            cargo_args: &["--no-default-features", "--features", "small"],
            bin: "gix",
            scenarios: vec![
                (
                    "clean build",
                    Scenario::AtMost {
                        rounds: 2,
                        scenario: Box::new(Scenario::CleanBuild),
                    },
                ),
                ("no-op build", Scenario::Noop { args: &["build"] }),
                (
                    "edit in the middle (new pub fn in gix-revwalk), build",
                    Scenario::AtMost {
                        rounds: 3,
                        scenario: Box::new(Scenario::EditThen {
                            edit: Edit {
                                file: "members/gix-revwalk-0.38.0/src/lib.rs",
                                kind: EditKind::AddFunction,
                            },
                            args: &["build"],
                        }),
                    },
                ),
                (
                    "body edit in the middle (a plain function of gix-revwalk), build",
                    Scenario::AtMost {
                        rounds: 3,
                        scenario: Box::new(Scenario::EditThen {
                            edit: Edit {
                                file: "members/gix-revwalk-0.38.0/src/graph/commit.rs",
                                kind: EditKind::ChangeString(
                                    "An error occurred when parsing commit parents",
                                ),
                            },
                            args: &["build"],
                        }),
                    },
                ),
                (
                    "comment line at the top of gix-revwalk's lib.rs, build",
                    Scenario::AtMost {
                        rounds: 3,
                        scenario: Box::new(Scenario::EditThen {
                            edit: Edit {
                                file: "members/gix-revwalk-0.38.0/src/lib.rs",
                                kind: EditKind::CommentAtTop,
                            },
                            args: &["build"],
                        }),
                    },
                ),
                (
                    "leaf edit (the CLI's about text), build",
                    Scenario::EditThen {
                        edit: Edit {
                            file: "src/plumbing/options/mod.rs",
                            kind: EditKind::ChangeString("The git underworld"),
                        },
                        args: &["build"],
                    },
                ),
                (
                    "start-up (--help)",
                    Scenario::Startup { runs: STARTUP_RUNS },
                ),
            ],
            reference: None,
        },
        // About 430 packages. No clean-build scenario: one clean build takes 4 to 5 minutes
        // per mode here, and five rounds of it would not fit in the 45 minutes the whole
        // benchmark has. The first run's warm-up builds it from scratch once per mode.
        Fixture {
            name: "bevy",
            source: Source::Ours("bevy"),
            rustflags: Vec::new(),
            cargo_args: &[],
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
pub fn linker_fixtures(ws: &Workspace) -> Vec<Fixture> {
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
            cargo_args: &[],
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
