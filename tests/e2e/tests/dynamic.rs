//! The `dynamic` profile on the showcase fixture (fixtures/showcase): every library in a shared
//! object, and a program that behaves exactly as its `dev` build, under Cargo and started directly.

use std::process::Command;

use e2e::{Fork, Project, host_triple, run_ok, shared_fixture, stdout, test_outcomes};

fn showcase() -> (Fork, &'static std::path::Path) {
    (e2e::fork(), shared_fixture("showcase"))
}

#[test]
fn run_output_and_exit_code_match_dev() {
    let (fork, dir) = showcase();
    let dev = stdout(&run_ok(&mut fork.cargo(dir, &["run", "--locked", "-q"])));
    let dynamic = stdout(&run_ok(
        &mut fork.cargo(dir, &["run", "--locked", "-q", "--dynamic"]),
    ));
    assert!(dev.contains("caught: division of 7 by zero"), "{dev}");
    assert_eq!(dynamic, dev);

    for profile in [&[][..], &["--dynamic"][..]] {
        let mut args = vec!["run", "--locked", "-q"];
        args.extend(profile);
        args.extend(["--", "--fail"]);
        let status = fork.cargo(dir, &args).status().unwrap();
        assert_eq!(status.code(), Some(3), "{args:?}");
    }
}

#[test]
fn test_results_match_dev() {
    let (fork, dir) = showcase();
    let dev = stdout(&run_ok(
        &mut fork.cargo(dir, &["test", "--locked", "--workspace"]),
    ));
    let dynamic = stdout(&run_ok(
        &mut fork.cargo(dir, &["test", "--locked", "--workspace", "--dynamic"]),
    ));
    let (outcomes, counts) = test_outcomes(&dev);
    // Unit tests, integration tests starting the binary, and doctests all ran and passed.
    for expected in [
        "tests::divide_by_zero_panics - should panic: Passed",
        "binary_prints_the_report: Passed",
        "core/src/lib.rs - sum (line 27): Passed",
    ] {
        assert!(
            outcomes.iter().any(|o| o == expected),
            "{expected} in {outcomes:#?}"
        );
    }
    assert_eq!(counts.failed, 0, "{dev}");
    assert_eq!(test_outcomes(&dynamic), (outcomes, counts));
}

#[test]
fn example_output_matches_dev() {
    let (fork, dir) = showcase();
    let args = ["run", "--locked", "-q", "-p", "app", "--example", "demo"];
    let dev = stdout(&run_ok(&mut fork.cargo(dir, &args)));
    let mut dynamic_args = args.to_vec();
    dynamic_args.push("--dynamic");
    let dynamic = stdout(&run_ok(&mut fork.cargo(dir, &dynamic_args)));
    assert!(dev.starts_with("example: calls: 1 then 2"), "{dev}");
    assert_eq!(dynamic, dev);
}

#[test]
fn binary_starts_directly_without_a_library_path() {
    let (fork, dir) = showcase();
    let dev = stdout(&run_ok(&mut fork.cargo(dir, &["run", "--locked", "-q"])));
    run_ok(&mut fork.cargo(dir, &["build", "--locked", "--dynamic"]));
    let direct = stdout(&run_ok(
        Command::new(dir.join("target/dynamic/app"))
            .env_remove("LD_LIBRARY_PATH")
            .current_dir(std::env::temp_dir()),
    ));
    assert_eq!(direct, dev);
}

#[test]
fn libraries_are_rlibs_linked_by_link_units_the_packages_built_each_in_their_own() {
    // A copy of its own: the other tests build the shared one with other commands, whose
    // link units would be counted here.
    let fork = e2e::fork();
    let project = Project::fixture("showcase");
    let dir = project.path();
    let deps = || -> Vec<String> {
        std::fs::read_dir(dir.join("target/dynamic/deps"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let count = |deps: &[String], prefix: &str, suffix: &str| {
        deps.iter()
            .filter(|f| f.starts_with(prefix) && f.ends_with(suffix))
            .count()
    };

    // `cargo build` at the root of the workspace builds every member.
    run_ok(&mut fork.cargo(dir, &["build", "--locked", "--dynamic"]));
    let built = deps();
    let count_built = |prefix: &str, suffix: &str| count(&built, prefix, suffix);
    // Every library is compiled as under `dev`, never as a dylib.
    for lib in [
        "core_lib",
        "left",
        "right",
        "shapes",
        "csys",
        "app",
        "serde",
        "serde_json",
    ] {
        assert_eq!(
            count_built(&format!("lib{lib}-"), ".rlib"),
            1,
            "one rlib of {lib}: {built:?}"
        );
        assert_eq!(
            count_built(&format!("lib{lib}-"), ".so"),
            0,
            "no dylib compile of {lib}: {built:?}"
        );
    }
    // The packages built, here all the path packages, are linked each by a link unit of its
    // own...
    for lib in ["core_lib", "left", "right", "shapes", "csys", "app"] {
        assert_eq!(
            count_built(&format!("lib{lib}_dylib-"), ".so"),
            1,
            "one shared object of {lib}: {built:?}"
        );
    }
    assert_eq!(
        count_built("libpath_packages_dylib-", ".so"),
        0,
        "{built:?}"
    );
    // ...and the registry dependencies, two semver-incompatible versions of one `#![no_std]`
    // crate among them, by one link unit together.
    assert_eq!(count_built("libitoa-", ".rlib"), 2, "{built:?}");
    assert_eq!(count_built("libdependencies_dylib-", ".so"), 1, "{built:?}");
    for lib in ["serde", "serde_json", "itoa"] {
        assert_eq!(
            count_built(&format!("lib{lib}_dylib-"), ".so"),
            0,
            "{built:?}"
        );
    }
    // The proc-macro stays what it is for rustc: a shared object in every profile.
    assert_eq!(count_built("libserde_derive-", ".so"), 1, "{built:?}");
    assert_eq!(count_built("libserde_derive-", ".rlib"), 0, "{built:?}");

    // `cargo run -p app` builds `app` alone: the path packages below it, the `-sys` crate
    // with its C code among them, share one link unit, and the program runs from it as under
    // `dev`.
    let dev = stdout(&run_ok(
        &mut fork.cargo(dir, &["run", "--locked", "-q", "-p", "app"]),
    ));
    let dynamic = stdout(&run_ok(
        &mut fork.cargo(dir, &["run", "--locked", "-q", "-p", "app", "--dynamic"]),
    ));
    assert_eq!(dynamic, dev);
    let ran = deps();
    assert_eq!(count(&ran, "libpath_packages_dylib-", ".so"), 1, "{ran:?}");
    assert_eq!(count(&ran, "libapp_dylib-", ".so"), 2, "{ran:?}");
    for lib in ["core_lib", "left", "right", "shapes", "csys"] {
        assert_eq!(
            count(&ran, &format!("lib{lib}_dylib-"), ".so"),
            1,
            "only the one of `cargo build` of {lib}: {ran:?}"
        );
    }
    // Going back to `cargo build` builds and links nothing.
    let again = run_ok(&mut fork.cargo(dir, &["build", "--locked", "--dynamic", "-v"]));
    let log = e2e::stderr(&again);
    assert!(!log.contains("Running `"), "{log}");
}

#[test]
fn explicit_host_target_matches_dev() {
    let (fork, dir) = showcase();
    let host = host_triple(&fork);
    let dev = stdout(&run_ok(&mut fork.cargo(dir, &["run", "--locked", "-q"])));
    let dynamic = stdout(&run_ok(&mut fork.cargo(
        dir,
        &["run", "--locked", "-q", "--dynamic", "--target", &host],
    )));
    assert_eq!(dynamic, dev);
    let direct = stdout(&run_ok(
        Command::new(dir.join("target").join(&host).join("dynamic/app"))
            .env_remove("LD_LIBRARY_PATH"),
    ));
    assert_eq!(direct, dev);
}

#[test]
fn nextest_runs_the_dynamic_build_like_dev() {
    let (fork, dir) = showcase();
    if !fork
        .cargo(dir, &["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!(
            "cargo-nextest is not installed: nothing to compare (it ships with this project's machines)"
        );
        return;
    }
    let summary = |extra: &[&str]| {
        let mut args = vec![
            "nextest",
            "run",
            "--locked",
            "--workspace",
            "--no-fail-fast",
        ];
        args.extend(extra);
        let output = run_ok(&mut fork.cargo(dir, &args));
        let stderr = e2e::stderr(&output);
        stderr
            .lines()
            .find(|l| l.trim_start().starts_with("Summary"))
            .map(|l| l.split(']').nth(1).unwrap_or(l).trim().to_owned())
            .unwrap_or_else(|| panic!("no nextest summary in:\n{stderr}"))
    };
    let dev = summary(&[]);
    assert!(dev.contains("passed"), "{dev}");
    assert_eq!(summary(&["--cargo-profile", "dynamic"]), dev);
}
