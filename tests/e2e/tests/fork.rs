//! The fork as a toolchain: it names itself, behaves as its channel's Cargo, and builds,
//! runs and tests a plain project like the stock Cargo does.

use e2e::{Project, run_err, run_ok, stderr, stdout, upstream_version};

#[test]
fn version_names_the_fork_and_its_upstream() {
    let fork = e2e::fork();
    let dir = std::env::temp_dir();
    let version = stdout(&run_ok(&mut fork.cargo(&dir, &["-V"])));
    let expected_suffix = format!(
        "(cargo-dynamic {}, upstream cargo {})\n",
        env!("CARGO_PKG_VERSION"),
        upstream_version()
    );
    assert!(version.starts_with("cargo 1."), "{version}");
    assert!(version.ends_with(&expected_suffix), "{version}");

    let verbose = stdout(&run_ok(&mut fork.cargo(&dir, &["-Vv"])));
    assert!(
        verbose.contains(&format!(
            "\nfork: cargo-dynamic {}\n",
            env!("CARGO_PKG_VERSION")
        )),
        "{verbose}"
    );
    assert!(
        verbose.contains(&format!("\nupstream: cargo {}\n", upstream_version())),
        "{verbose}"
    );
}

#[test]
fn toolchain_links_the_active_rustc() {
    let fork = e2e::fork();
    let rustc = stdout(&run_ok(
        &mut std::process::Command::new(fork.bin("rustc")).arg("-V"),
    ));
    let toolchain_rustc = stdout(&run_ok(&mut std::process::Command::new("rustc").arg("-V")));
    assert_eq!(rustc, toolchain_rustc);
}

#[test]
fn fork_accepts_unstable_flags_only_on_nightly() {
    let fork = e2e::fork();
    let project = Project::fixture("hello");
    let rustc = stdout(&run_ok(
        &mut std::process::Command::new(fork.bin("rustc")).arg("-V"),
    ));
    let mut build = fork.cargo(project.path(), &["build", "-Zunstable-options"]);
    if rustc.contains("-nightly") {
        run_ok(&mut build);
    } else {
        let err = stderr(&run_err(&mut build));
        assert!(
            err.contains("the `-Z` flag is only accepted on the nightly channel of Cargo"),
            "{err}"
        );
    }
}

#[test]
fn fork_builds_runs_and_tests_a_project() {
    let fork = e2e::fork();
    let project = Project::fixture("hello");
    let run = run_ok(&mut fork.cargo(project.path(), &["run", "--locked"]));
    assert_eq!(stdout(&run), "hello, fixture\n");
    let test = run_ok(&mut fork.cargo(project.path(), &["test", "--locked"]));
    assert!(
        stdout(&test).contains("test tests::greets_by_name ... ok"),
        "{}",
        stdout(&test)
    );
}
