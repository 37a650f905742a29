//! A `--dynamic` build that dies half-way, then is run again, gives a program that runs the
//! current code: no shared object of the dead build is loaded, and no library is left
//! half-linked. Cargo's fingerprints see to it for every unit; these tests check that the
//! link units keep to it too, and so does relinking: after an edit that keeps the library's
//! metadata, its link unit is linked by its last link line, without rustc. And two builds at
//! once on one target directory both finish.
//!
//! The build is killed at a chosen unit, by a `RUSTC_WRAPPER` (before its rustc runs: the
//! outputs of the last build are still there; or right after: new outputs, no fingerprint
//! recorded yet) or by a linker that wraps `cc` (before or after the link of a link unit, by
//! rustc or by its last link line). It kills the whole process group of the build (cargo and
//! every rustc it started), as a closed terminal would.

use std::fs;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::Command;

use e2e::{Project, run_ok, stderr, stdout};

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

/// The linker: `cc`, but the first link of the shared object of `$KILL_AT_LINK` kills the
/// build's process group, before or after linking (`$KILL_WHEN`).
const LINKER: &str = r#"#!/bin/sh
case " $* " in
  *"-soname=lib$KILL_AT_LINK-"*)
    if [ ! -e "$KILL_MARKER" ]; then
      : > "$KILL_MARKER"
      if [ "$KILL_WHEN" = after ]; then cc "$@"; fi
      kill -KILL 0
    fi ;;
esac
exec cc "$@"
"#;

#[derive(Clone, Copy, Debug)]
enum When {
    /// The unit's rustc (or linker) never ran.
    Before,
    /// The unit's rustc (or linker) wrote its outputs; Cargo never recorded them.
    After,
}

/// What is edited in `base`.
#[derive(Clone, Copy, Debug)]
enum Edit {
    /// `MESSAGE`, a const: new metadata, every crate above `base` recompiled.
    Interface,
    /// The body of `message`: `base` keeps its metadata and its link unit is relinked.
    Body,
}

/// Builds `layers`, makes `edit` in `base`, builds again and kills that build at `crate_name`
/// (its compile, or with `at_link` its link), then builds a third time: the program and the
/// test suite must see the edit.
fn killed_then_rebuilt(crate_name: &str, at_link: bool, when: When, edit: Edit) {
    let fork = e2e::fork();
    let project = Project::fixture("layers");
    let dir = project.path();
    let wrapper = project.script("kill-wrapper.sh", WRAPPER);
    let linker = project.script("kill-linker.sh", LINKER);
    let marker = dir.join("killed");
    let cargo = |args: &[&str]| {
        let mut cmd = fork.cargo(dir, args);
        let (kill_at_crate, kill_at_link) = if at_link {
            ("", crate_name)
        } else {
            (crate_name, "")
        };
        cmd.env("RUSTC_WRAPPER", &wrapper)
            .env("RUSTFLAGS", format!("-Clinker={}", linker.display()))
            .env("KILL_AT_CRATE", kill_at_crate)
            .env("KILL_AT_LINK", kill_at_link)
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
    let (from, to) = match edit {
        Edit::Interface => ("\"first build\"", "\"after the edit\""),
        Edit::Body => ("    MESSAGE\n}", "    \"after the edit\"\n}"),
    };
    assert!(source.contains(from));
    fs::write(&lib, source.replacen(from, to, 1)).unwrap();
    fs::remove_file(&marker).unwrap();
    let killed = cargo(&build).output().unwrap();
    assert_eq!(
        killed.status.signal(),
        Some(9),
        "the build was not killed at `{crate_name}` ({when:?}):\n{}",
        e2e::stderr(&killed)
    );
    assert!(marker.exists(), "the wrapper never saw `{crate_name}`");

    let rebuilt = stderr(&run_ok(&mut cargo(&build)));
    // After a body edit the library keeps its metadata wherever the build was killed: its old
    // rlib stays until the new one takes its place.
    if let Edit::Body = edit {
        let both = format!("{}{rebuilt}", stderr(&killed));
        assert!(both.contains("Relinked base"), "{both}");
    }
    assert_eq!(run_app(dir), expected("after the edit"));
    // rustc keeps its temporary folder for a link unit's line to be run again: the one of a
    // link killed is gone too.
    let left: Vec<_> = fs::read_dir(dir.join("target/dynamic/deps"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("rustc"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
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
    killed_then_rebuilt("base", false, When::Before, Edit::Interface);
}

#[test]
fn killed_after_a_library_compiled() {
    killed_then_rebuilt("base", false, When::After, Edit::Interface);
}

#[test]
fn killed_before_a_link_unit_links() {
    killed_then_rebuilt("base_dylib", false, When::Before, Edit::Interface);
}

#[test]
fn killed_after_a_link_unit_linked() {
    killed_then_rebuilt("base_dylib", false, When::After, Edit::Interface);
}

#[test]
fn killed_before_a_library_that_keeps_its_metadata_compiles() {
    killed_then_rebuilt("base", false, When::Before, Edit::Body);
}

#[test]
fn killed_after_a_library_that_keeps_its_metadata_compiled() {
    killed_then_rebuilt("base", false, When::After, Edit::Body);
}

#[test]
fn killed_before_a_link_unit_is_relinked_by_its_last_link_line() {
    killed_then_rebuilt("base_dylib", true, When::Before, Edit::Body);
}

#[test]
fn killed_after_a_link_unit_was_relinked_by_its_last_link_line() {
    killed_then_rebuilt("base_dylib", true, When::After, Edit::Body);
}

#[test]
fn killed_before_a_link_unit_links_with_rustc() {
    killed_then_rebuilt("base_dylib", true, When::Before, Edit::Interface);
}

#[test]
fn killed_after_a_link_unit_linked_with_rustc() {
    killed_then_rebuilt("base_dylib", true, When::After, Edit::Interface);
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
