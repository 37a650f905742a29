//! `cargo xtask try`: the fork at work on the bundled example, for a newcomer's first look.

use std::process::Stdio;

use anyhow::{Result, bail};
use support::mode::Mode;
use support::process::{run, run_captured, step};
use support::workspace::{Workspace, copy_without_target};

use crate::toolchain;

/// `cargo xtask try`: builds the fork, then shows the `dynamic` profile on the bundled example
/// (`examples/try`) next to `dev`: same output, same tests, and what it changes.
pub fn try_it(ws: &Workspace) -> Result<()> {
    let fork = toolchain::build(ws)?;
    // A copy, so that the edit below never touches the repository.
    let root = ws.target().join("try");
    let example = root.join("example");
    let target_dir = root.join("target");
    copy_without_target(&ws.root().join("examples").join("try"), &example)?;
    let fork_cargo = |mode: Mode, args: &[&str]| {
        let mut cmd = fork.cargo(&example, args);
        cmd.args(["--locked", "--quiet"])
            .args(mode.flags())
            .env("CARGO_TARGET_DIR", &target_dir);
        cmd
    };

    let mut outputs = Vec::new();
    for mode in Mode::BOTH {
        step(
            "Building",
            format!("examples/try with the fork, `{}` profile", mode.name()),
        );
        run(&mut fork_cargo(mode, &["build"]))?;
        step(
            "Running",
            format!(
                "`cargo run{}`",
                mode.flags()
                    .iter()
                    .map(|f| format!(" {f}"))
                    .collect::<String>()
            ),
        );
        let output = run_captured(&mut fork_cargo(mode, &["run"]))?;
        print!("{output}");
        outputs.push(output);
    }
    if outputs[0] != outputs[1] {
        bail!("the example printed different things under `dev` and `dynamic`");
    }
    step(
        "Testing",
        "`cargo test --dynamic` (unit, integration and doc tests)",
    );
    run(&mut fork_cargo(Mode::Dynamic, &["test"]))?;

    // What the mode changes: the libraries are linked into shared objects by link units, the
    // binary is a thin stub over them.
    let shared_objects = |dir: &str| -> Result<usize> {
        Ok(std::fs::read_dir(target_dir.join(dir).join("deps"))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".so"))
            .count())
    };
    // Proc-macros are shared objects in both profiles; only `dynamic` adds the link units.
    let link_units = shared_objects(Mode::Dynamic.dir())? - shared_objects(Mode::Dev.dir())?;
    let size =
        |mode: Mode| std::fs::metadata(target_dir.join(mode.dir()).join("app")).map(|m| m.len());
    let (dev_size, dynamic_size) = (size(Mode::Dev)?, size(Mode::Dynamic)?);

    // One edit-rebuild-run in each mode: a changed string in the binary.
    let main = example.join("app").join("src").join("main.rs");
    let source = std::fs::read_to_string(&main)?;
    let mut times = Vec::new();
    for (i, mode) in Mode::BOTH.into_iter().enumerate() {
        std::fs::write(
            &main,
            source.replace("dynamic world", &format!("edited world {i}")),
        )?;
        let start = std::time::Instant::now();
        run(fork_cargo(mode, &["run"]).stdout(Stdio::null()))?;
        times.push((mode.name(), start.elapsed()));
    }
    std::fs::write(&main, source)?;

    println!();
    println!(
        "The `dynamic` profile on examples/try (a workspace lib, a bin, crates.io dependencies):"
    );
    println!("  same output as `dev`, and its unit, integration and doc tests pass");
    println!(
        "  {link_units} shared objects linked in target/try/target/dynamic/deps: one per workspace \
         library, one for all the crates.io dependencies together"
    );
    println!(
        "  binary: {} KiB under `dev`, {} KiB under `dynamic`",
        dev_size / 1024,
        dynamic_size / 1024
    );
    for (mode, time) in times {
        println!(
            "  edit of the bin, rebuild and run under `{mode}`: {:.2} s",
            time.as_secs_f64()
        );
    }
    println!("  (one run each, not a benchmark)");
    Ok(())
}
