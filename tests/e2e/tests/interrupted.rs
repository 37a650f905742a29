//! A `--dynamic` build that dies half-way, then is run again, gives a program that runs the
//! current code: no shared object of the dead build is loaded, and no library is left
//! half-linked. Cargo's fingerprints see to it for every unit; these tests check that the
//! link units keep to it too. And two builds at once on one target directory both finish.
//!
//! The build is killed by a `RUSTC_WRAPPER` at a chosen unit: before its rustc runs (the
//! outputs of the last build are still there), or right after (new outputs, no fingerprint
//! recorded yet). It kills the whole process group of the build (cargo and every rustc it
//! started), as a closed terminal would.

use std::fs;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::Command;

use e2e::{Project, run_ok, stdout};

/// Kills the build's process group the first time it is asked to compile `$KILL_AT_CRATE`,
/// before or after running rustc (`$KILL_WHEN`); later calls just run rustc.
const WRAPPER: &str = r#"#!/bin/sh
case " $* " in
  *" --crate-name $KILL_AT_CRATE "*)
    if [ ! -e "$KILL_MARKER" ]; then
      : > "$KILL_MARKER"
      if [ "$KILL_WHEN" = after ]; then "$@"; fi
      kill -KILL 0
    fi ;;
esac
exec "$@"
"#;

#[derive(Clone, Copy, Debug)]
enum When {
    /// The unit's rustc never ran.
    Before,
    /// The unit's rustc wrote its outputs; Cargo never recorded them.
    After,
}

/// Builds `layers`, edits `base`, builds again and kills that build at `crate_name`, then
/// builds a third time: the program and the test suite must see the edit.
fn killed_then_rebuilt(crate_name: &str, when: When) {
    let fork = e2e::fork();
    let project = Project::fixture("layers");
    let dir = project.path();
    let wrapper = project.script("kill-wrapper.sh", WRAPPER);
    let marker = dir.join("killed");
    let cargo = |args: &[&str]| {
        let mut cmd = fork.cargo(dir, args);
        cmd.env("RUSTC_WRAPPER", &wrapper)
            .env("KILL_AT_CRATE", crate_name)
            .env("KILL_WHEN", format!("{when:?}").to_lowercase())
            .env("KILL_MARKER", &marker)
            // Its own process group, so that the kill reaches the build and not the tests.
            .process_group(0);
        cmd
    };
    let build = ["build", "--locked", "--dynamic"];
    // The wrapper kills only once: the first build must not ask for `crate_name`, so it is
    // done with the marker in place.
    fs::write(&marker, "").unwrap();
    run_ok(&mut cargo(&build));
    assert_eq!(run_app(dir), expected("first build"));

    let lib = dir.join("base/src/lib.rs");
    let source = fs::read_to_string(&lib).unwrap();
    fs::write(
        &lib,
        source.replace("\"first build\"", "\"after the edit\""),
    )
    .unwrap();
    fs::remove_file(&marker).unwrap();
    let killed = cargo(&build).output().unwrap();
    assert_eq!(
        killed.status.signal(),
        Some(9),
        "the build was not killed at `{crate_name}` ({when:?}):\n{}",
        e2e::stderr(&killed)
    );
    assert!(marker.exists(), "the wrapper never saw `{crate_name}`");

    run_ok(&mut cargo(&build));
    assert_eq!(run_app(dir), expected("after the edit"));
    run_ok(&mut cargo(&["test", "--locked", "--dynamic"]));
}

/// The binary started directly, as a debugger or a shell starts it.
fn run_app(dir: &Path) -> String {
    stdout(&run_ok(&mut Command::new(dir.join("target/dynamic/app"))))
}

fn expected(message: &str) -> String {
    format!("{message}\n{message} (7)\n")
}

#[test]
fn killed_before_a_library_compiles() {
    killed_then_rebuilt("base", When::Before);
}

#[test]
fn killed_after_a_library_compiled() {
    killed_then_rebuilt("base", When::After);
}

#[test]
fn killed_before_a_link_unit_links() {
    killed_then_rebuilt("base_dylib", When::Before);
}

#[test]
fn killed_after_a_link_unit_linked() {
    killed_then_rebuilt("base_dylib", When::After);
}

#[test]
fn two_builds_at_once_on_one_target_directory_both_finish() {
    let fork = e2e::fork();
    let project = Project::fixture("layers");
    let dir = project.path();
    let build = || {
        fork.cargo(dir, &["build", "--locked", "--dynamic"])
            .spawn()
            .unwrap()
    };
    let (first, second) = (build(), build());
    for mut child in [first, second] {
        assert!(child.wait().unwrap().success());
    }
    assert_eq!(run_app(dir), expected("first build"));
}
