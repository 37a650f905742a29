//! What an executable loads, links and initializes (fixtures/loads): under `--dynamic` exactly
//! the crates of its `dev` build. A dev-dependency that a test never names takes no part in
//! its type inference, runs no constructor and installs no allocator; a registry holds the
//! entries of the crates the program uses; a binary of a workspace sees only its own
//! dependencies.

use std::path::Path;
use std::process::{Command, Output};

use e2e::{Fork, run_ok, shared_fixture, stderr, stdout, test_outcomes};

fn loads() -> (Fork, &'static Path) {
    (e2e::fork(), shared_fixture("loads"))
}

/// What a `cargo test` run says about the program: each test's outcome, the lines the tests
/// print (run one at a time, uncaptured), and what the allocator of `loud_alloc` writes to
/// standard error when it serves the program.
fn test_run(fork: &Fork, dir: &Path, packages: &[&str], dynamic: bool) -> (String, Output) {
    let mut args = vec!["test", "--locked", "--no-fail-fast"];
    args.extend(packages);
    if dynamic {
        args.push("--dynamic");
    }
    args.extend(["--", "--test-threads=1", "--nocapture"]);
    let output = fork.cargo(dir, &args).output().expect("cargo starts");
    let out = stdout(&output);
    let (outcomes, counts) = test_outcomes(&out);
    let printed: Vec<&str> = out
        .lines()
        .filter(|line| line.contains('=') || line.contains(": ["))
        .collect();
    let allocator_said = stderr(&output)
        .lines()
        .filter(|line| *line == "loud_alloc allocates")
        .count();
    let summary = format!(
        "{outcomes:#?}\n{counts:?}\nprinted: {printed:#?}\nloud_alloc allocates: {allocator_said} times"
    );
    (summary, output)
}

/// Runs `packages`' tests under `dev` and `--dynamic`, asserts both succeed with the same
/// summary, and returns the `--dynamic` build's log.
fn same_tests_as_dev(packages: &[&str]) -> String {
    let (fork, dir) = loads();
    let (dev, dev_output) = test_run(&fork, dir, packages, false);
    assert!(
        dev_output.status.success(),
        "dev: {}",
        support::process::describe_output(&dev_output)
    );
    let (dynamic, dynamic_output) = test_run(&fork, dir, packages, true);
    assert!(
        dynamic_output.status.success(),
        "--dynamic: {}",
        support::process::describe_output(&dynamic_output)
    );
    assert_eq!(dynamic, dev);
    stderr(&dynamic_output)
}

/// The notes of a build about executables linked statically.
fn static_notes(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|line| line.contains("is linked statically"))
        .collect()
}

#[test]
fn tests_of_one_package_see_only_the_dev_dependencies_they_use() {
    // `-p host`: the other path packages share one link unit, `path_packages_dylib`.
    let log = same_tests_as_dev(&["-p", "host"]);
    // The test that uses no dev-dependency loads no shared object of theirs, and stays thin:
    // serde_json's `impl PartialEq<Value> for i32` and `noisy`'s constructor are not in it.
    let notes = static_notes(&log);
    assert!(
        !notes.iter().any(|n| n.contains("names_no_dev_dependency")),
        "{log}"
    );
    // The tests that use `noisy` or the registry load `path_packages_dylib`, which also holds
    // a constructor they do not use (`plugin_b`'s): linked statically, as under `dev`.
    for test in ["names_noisy", "plugins"] {
        assert!(
            notes
                .iter()
                .any(|n| n.contains(&format!("(test \"{test}\")")) && n.contains("constructors")),
            "{test}: {log}"
        );
    }
}

#[test]
fn tests_stay_thin_where_each_library_has_its_own_link_unit() {
    // Every package built has a link unit of its own: the tests load the constructors of
    // exactly the crates they use, each from its own shared object.
    let log = same_tests_as_dev(&[
        "-p", "host", "-p", "noisy", "-p", "registry", "-p", "plugin_a", "-p", "plugin_b",
    ]);
    let notes = static_notes(&log);
    assert!(notes.is_empty(), "{log}");
}

#[test]
fn an_allocator_serves_only_the_programs_that_use_its_crate() {
    // The test that names `loud_alloc` runs with its allocator, the other with the system's.
    // `loud_alloc` is in the shared object that both are linked against, where its allocator
    // would serve both, used or not: both are linked statically, as under `dev`.
    let log = same_tests_as_dev(&["-p", "allocated"]);
    let notes = static_notes(&log);
    for test in ["names_loud_alloc", "names_nothing"] {
        assert!(
            notes.iter().any(
                |n| n.contains(&format!("(test \"{test}\")")) && n.contains("global_allocator")
            ),
            "{test}: {log}"
        );
    }
}

#[test]
fn linkme_slices_hold_the_elements_of_dev() {
    same_tests_as_dev(&["-p", "sliced"]);
}

#[test]
fn each_binary_of_a_workspace_sees_only_its_own_dependencies() {
    // `bin_itoa`'s `vec![[]]` needs type inference that `serde_json`, the other binary's
    // dependency, would make ambiguous.
    let (fork, dir) = loads();
    let run = |profile: &str, bin: &str| -> String {
        stdout(&run_ok(&mut Command::new(
            dir.join("target").join(profile).join(bin),
        )))
    };
    run_ok(&mut fork.cargo(dir, &["build", "--locked"]));
    let log = stderr(&run_ok(
        &mut fork.cargo(dir, &["build", "--locked", "--dynamic"]),
    ));
    for bin in ["bin_itoa", "bin_json"] {
        let dev = run("debug", bin);
        assert!(dev.starts_with(bin), "{dev}");
        assert_eq!(run("dynamic", bin), dev);
        assert!(
            !log.contains(&format!("(bin \"{bin}\") is linked statically")),
            "{log}"
        );
    }
}
