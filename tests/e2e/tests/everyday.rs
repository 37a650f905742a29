//! What a team meets in its first week with the fork: the fork called directly, a Cargo.toml
//! shared with teammates on stock Cargo, and an editor's `cargo check` beside `--dynamic` builds.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use e2e::{Project, run_err, run_ok, shared_fixture, stderr, user_shell};

/// The lines of a build's output that say a unit was compiled or checked again.
fn rebuilt_units(output: &Output) -> Vec<String> {
    stderr(output)
        .lines()
        .filter(|line| {
            let line = line.trim_start();
            line.starts_with("Compiling ") || line.starts_with("Checking ")
        })
        .map(str::to_owned)
        .collect()
}

/// The stock Cargo of the active toolchain (through rustup's proxy, as a teammate runs it).
fn stock_cargo(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = user_shell(Command::new("cargo"));
    cmd.current_dir(dir).args(args);
    cmd
}

#[test]
fn fork_called_directly_keeps_its_toolchain_despite_a_rust_toolchain_file() {
    // A `rust-toolchain.toml` (here the project's; in the field a dependency's) names a
    // toolchain that is not installed. The fork is started by its path, as the README allows,
    // with no RUSTC and no RUSTUP_TOOLCHAIN: rustup's proxy on PATH would obey the file and
    // fail; the fork uses the rustc laid out beside it.
    let fork = e2e::fork();
    let project = Project::fixture("hello");
    fs::write(
        project.path().join("rust-toolchain.toml"),
        "[toolchain]\nchannel = \"cargo-dynamic-e2e-not-installed\"\n",
    )
    .unwrap();
    for args in [
        &["build", "--locked"][..],
        &["build", "--locked", "--dynamic"],
    ] {
        let mut cmd = fork.cargo(project.path(), args);
        cmd.env_remove("RUSTC")
            .env_remove("RUSTDOC")
            .env("RUSTUP_AUTO_INSTALL", "0");
        run_ok(&mut cmd);
    }
}

#[test]
fn a_profile_dynamic_that_inherits_dev_works_with_stock_cargo_too() {
    let fork = e2e::fork();
    let project = Project::fixture("hello");
    let manifest = project.path().join("Cargo.toml");
    let original = fs::read_to_string(&manifest).unwrap();

    // Without `inherits`, stock Cargo refuses the manifest: a teammate without the fork
    // could not build at all.
    fs::write(
        &manifest,
        format!("{original}\n[profile.dynamic]\nopt-level = 1\n"),
    )
    .unwrap();
    let refused = stderr(&run_err(&mut stock_cargo(
        project.path(),
        &["build", "--locked"],
    )));
    assert!(
        refused.contains("profile `dynamic` is missing an `inherits` directive"),
        "{refused}"
    );

    // With `inherits = "dev"`, as the README says: stock Cargo builds, and even builds the
    // profile as an ordinary custom profile; the fork takes it as its `dynamic` profile.
    fs::write(
        &manifest,
        format!("{original}\n[profile.dynamic]\ninherits = \"dev\"\nopt-level = 1\n"),
    )
    .unwrap();
    run_ok(&mut stock_cargo(project.path(), &["build", "--locked"]));
    run_ok(&mut stock_cargo(
        project.path(),
        &["build", "--locked", "--profile", "dynamic"],
    ));
    let verbose = stderr(&run_ok(
        &mut fork.cargo(project.path(), &["build", "--locked", "--dynamic", "-v"]),
    ));
    assert!(verbose.contains("-C opt-level=1"), "{verbose}");
    assert!(verbose.contains("-C prefer-dynamic"), "{verbose}");
    assert!(verbose.contains("`dynamic` profile"), "{verbose}");
}

#[test]
fn check_and_dynamic_builds_alternate_without_rebuilding() {
    // What an editor runs (`cargo check`, rust-analyzer's default) and the edit loop's
    // `cargo build --dynamic`, one after the other on a workspace with a build script and C
    // code: once both have run, neither rebuilds anything for the other.
    let fork = e2e::fork();
    let dir = shared_fixture("showcase");
    let check = ["check", "--locked", "--workspace"];
    let build = ["build", "--locked", "--workspace", "--dynamic"];
    run_ok(&mut fork.cargo(dir, &check));
    run_ok(&mut fork.cargo(dir, &build));
    for round in 0..2 {
        for args in [&check[..], &build[..]] {
            let output = run_ok(&mut fork.cargo(dir, args));
            let rebuilt = rebuilt_units(&output);
            assert!(
                rebuilt.is_empty(),
                "round {round}, `cargo {}` rebuilt: {rebuilt:?}",
                args.join(" ")
            );
        }
    }
}
