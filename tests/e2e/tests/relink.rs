//! Relink, don't rebuild (fixtures/relink): an edit of `core` that leaves its interface as it
//! was relinks `core` alone, and `mid`, which depends on it, keeps its build; any other edit
//! recompiles `mid`. After every edit, the program prints under `--dynamic` exactly what it
//! prints under `dev`.

use std::fs;
use std::path::Path;
use std::process::Command;

use e2e::{Project, run_ok, stderr, stdout};

/// What an edit must do to the crates above `core` under `--dynamic`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// `core` relinked, `mid` not recompiled.
    Relink,
    /// `mid` recompiled.
    Rebuild,
}

use Expect::{Rebuild, Relink};

/// An edit: in `file`, `from` becomes `to` (`from` empty: `to` is appended).
struct Edit {
    what: &'static str,
    file: &'static str,
    from: &'static str,
    to: &'static str,
    expect: Expect,
}

const EDITS: &[Edit] = &[
    Edit {
        what: "a plain function's body",
        file: "core/src/lib.rs",
        from: "    helper(1)\n",
        to: "    helper(2)\n",
        expect: Relink,
    },
    Edit {
        what: "the signature of a private function only plain bodies call",
        file: "core/src/lib.rs",
        from: "fn helper(x: u32) -> u32 {\n    x * 10\n",
        to: "fn helper(x: u64) -> u32 {\n    x as u32 * 10\n",
        expect: Relink,
    },
    Edit {
        what: "a doc comment",
        file: "core/src/lib.rs",
        from: "/// A plain function: its body",
        to: "/// A plain function, whose body",
        expect: Relink,
    },
    Edit {
        what: "a `#[cfg(test)]` item",
        file: "core/src/lib.rs",
        from: "    9\n",
        to: "    90\n",
        expect: Relink,
    },
    Edit {
        what: "a comment below every item",
        file: "core/src/lib.rs",
        from: "",
        to: "// The end.\n",
        expect: Relink,
    },
    Edit {
        what: "a private `use`",
        file: "core/src/lib.rs",
        from: "",
        to: "#[allow(unused_imports)]\nuse std::collections::HashMap;\n",
        expect: Relink,
    },
    Edit {
        what: "a body in a file found through `#[path]` in an inline module",
        file: "core/src/paths/found/by_path.rs",
        from: "    7\n",
        to: "    70\n",
        expect: Relink,
    },
    Edit {
        what: "a line added above generic code that no dependent has compiled (positions owed)",
        file: "core/src/quiet.rs",
        from: "//! Generic code",
        to: "//! A line more.\n//! Generic code",
        expect: Relink,
    },
    Edit {
        what: "a dependent that starts compiling that code (the owed positions are paid first)",
        file: "mid/src/lib.rs",
        from: QUIET_CALL_BEFORE,
        to: QUIET_CALL_AFTER,
        expect: Rebuild,
    },
    Edit {
        what: "a line added above that code once a dependent has compiled it",
        file: "core/src/quiet.rs",
        from: "//! A line more.",
        to: "//! A line more.\n//! And another.",
        expect: Rebuild,
    },
    Edit {
        what: "a line added above generic code that a dependent compiled with no panic location",
        file: "core/src/lines.rs",
        from: "//! Generic code",
        to: "//! A line more.\n//! Generic code",
        expect: Rebuild,
    },
    Edit {
        what: "a generic function's body",
        file: "core/src/lib.rs",
        from: "format!(\"generic {t}\")",
        to: "format!(\"generic: {t}\")",
        expect: Rebuild,
    },
    Edit {
        what: "an `#[inline]` function's body",
        file: "core/src/lib.rs",
        from: "pub fn inlined() -> u32 {\n    2\n",
        to: "pub fn inlined() -> u32 {\n    22\n",
        expect: Rebuild,
    },
    Edit {
        what: "a `const fn`'s body",
        file: "core/src/lib.rs",
        from: "pub const fn constant_fn() -> u32 {\n    3\n",
        to: "pub const fn constant_fn() -> u32 {\n    33\n",
        expect: Rebuild,
    },
    Edit {
        what: "a const's value",
        file: "core/src/lib.rs",
        from: "VALUE: u32 = 4;",
        to: "VALUE: u32 = 44;",
        expect: Rebuild,
    },
    Edit {
        what: "a static's value",
        file: "core/src/lib.rs",
        from: "STATIC: u32 = 5;",
        to: "STATIC: u32 = 55;",
        expect: Rebuild,
    },
    Edit {
        what: "a trait's default method",
        file: "core/src/lib.rs",
        from: "\"hello\".to_string()",
        to: "\"hi\".to_string()",
        expect: Rebuild,
    },
    Edit {
        what: "the body of a function returning `impl Trait`",
        file: "core/src/lib.rs",
        from: "pub fn opaque() -> impl Display {\n    6\n",
        to: "pub fn opaque() -> impl Display {\n    \"six\"\n",
        expect: Rebuild,
    },
    Edit {
        what: "an `async fn`'s body",
        file: "core/src/lib.rs",
        from: "pub async fn asynchronous() -> u32 {\n    7\n",
        to: "pub async fn asynchronous() -> u32 {\n    77\n",
        expect: Rebuild,
    },
    Edit {
        what: "a `macro_rules!`",
        file: "core/src/lib.rs",
        from: "        8\n",
        to: "        88\n",
        expect: Rebuild,
    },
    Edit {
        what: "a body that adds an impl",
        file: "core/src/lib.rs",
        from: "    helper(2)\n",
        to: "    impl Item {\n        pub fn added(&self) -> u32 {\n            1\n        }\n    }\n    helper(2)\n",
        expect: Rebuild,
    },
    Edit {
        what: "a body that no longer makes shared generic instances no dependent uses (symbols owed)",
        file: "core/src/lib.rs",
        from: "    let counts = vec![Count(1)];\n",
        to: "    let counts = [Count(1)];\n",
        expect: Relink,
    },
    Edit {
        what: "a dependent that starts making one of them (the owed symbols are paid first)",
        file: "mid/src/lib.rs",
        from: COUNTED_BEFORE,
        to: COUNTED_AFTER,
        expect: Rebuild,
    },
    Edit {
        what: "a shared generic instance no longer made",
        file: "core/src/lib.rs",
        from: "    let items = vec![Item(1), Item(2)];\n",
        to: "    let items = [Item(1), Item(2)];\n",
        expect: Rebuild,
    },
    Edit {
        what: "a line moved above generic code whose panic location a dependent reports",
        file: "core/src/lib.rs",
        from: "//! Every kind of item",
        to: "//! A line more.\n//! Every kind of item",
        expect: Rebuild,
    },
    Edit {
        what: "a private type in a public field",
        file: "core/src/lib.rs",
        from: "",
        to: "#[allow(private_interfaces)]\npub struct Holder {\n    pub inner: Hidden,\n}\nstruct Hidden(u32);\n",
        expect: Rebuild,
    },
    Edit {
        what: "the private type of that field",
        file: "core/src/lib.rs",
        from: "struct Hidden(u32);",
        to: "struct Hidden(u64);",
        expect: Rebuild,
    },
    Edit {
        what: "a function's body under an attribute macro",
        file: "core/src/lib.rs",
        from: "    10\n",
        to: "    100\n",
        expect: Rebuild,
    },
    Edit {
        what: "a derived type",
        file: "core/src/lib.rs",
        from: "",
        to: "#[derive(Clone, Debug, PartialEq)]\npub struct Derived<T>(pub T);\n",
        expect: Rebuild,
    },
    Edit {
        what: "a line moved above a derive, whose code dependents compile into themselves",
        file: "core/src/lib.rs",
        from: "#[derive(Clone, Debug, PartialEq)]",
        to: "// A line more.\n#[derive(Clone, Debug, PartialEq)]",
        expect: Rebuild,
    },
    Edit {
        what: "an `env!` value",
        file: ".cargo/config.toml",
        from: "\"first\"",
        to: "\"second\"",
        expect: Rebuild,
    },
];

/// `mid` calling the generic code of `core/src/quiet.rs`, whose panic location `app` prints.
const QUIET_CALL_BEFORE: &str = "    ]\n    .join";
const QUIET_CALL_AFTER: &str = "        format!(\"quietly {}\", \
     std::panic::catch_unwind(core_lib::quiet::located_quietly::<u8>).is_err()),\n    ]\n    .join";

/// `mid` making a `Vec<core_lib::Count>`, whose code `core_lib` shares while it makes one.
const COUNTED_BEFORE: &str = "        format!(\"counted {}\", core_lib::counted()),\n";
const COUNTED_AFTER: &str = "        format!(\"counted {}\", core_lib::counted()),\n        \
     format!(\"counts {}\", vec![core_lib::Count(2)].len()),\n";

/// The first of `EDITS` that `which` picks.
fn edit_where(which: impl Fn(&Edit) -> bool) -> &'static Edit {
    EDITS
        .iter()
        .find(|edit| which(edit))
        .expect("an edit of `EDITS`")
}

fn apply(dir: &Path, edit: &Edit) {
    replace_once(&dir.join(edit.file), edit.from, edit.to, edit.what);
}

/// In the file at `path`, `from` (found once) becomes `to`; `from` empty: `to` is appended.
fn replace_once(path: &Path, from: &str, to: &str, what: &str) {
    let text = fs::read_to_string(path).unwrap();
    let edited = if from.is_empty() {
        format!("{text}{to}")
    } else {
        assert_eq!(text.matches(from).count(), 1, "{what}: {from:?}");
        text.replacen(from, to, 1)
    };
    fs::write(path, edited).unwrap();
}

/// What the fixture's `app`, built under `profile`'s folder, prints.
fn run_app(dir: &Path, profile: &str) -> String {
    stdout(&run_ok(&mut Command::new(
        dir.join("target").join(profile).join("app"),
    )))
}

/// Builds `app` under `dev` and `--dynamic`, runs both, asserts they print the same, and
/// returns the `--dynamic` build's log.
fn build_and_compare(fork: &e2e::Fork, dir: &Path, env: &[(&str, &str)]) -> String {
    let build = |extra: &[&str]| {
        let mut args = vec!["build", "--locked", "-p", "app"];
        args.extend(extra);
        let mut cmd = fork.cargo(dir, &args);
        cmd.envs(env.iter().copied());
        run_ok(&mut cmd)
    };
    build(&[]);
    let log = stderr(&build(&["--dynamic"]));
    let dev = run_app(dir, "debug");
    assert!(dev.contains("plain"), "{dev}");
    assert_eq!(run_app(dir, "dynamic"), dev, "{log}");
    log
}

#[test]
fn an_edit_relinks_or_rebuilds_by_its_interface_and_the_program_stays_as_under_dev() {
    let fork = e2e::fork();
    let project = Project::fixture("relink");
    let dir = project.path();
    build_and_compare(&fork, dir, &[]);
    let mut wrong = Vec::new();
    for edit in EDITS {
        apply(dir, edit);
        let log = build_and_compare(&fork, dir, &[]);
        let relinked = log.contains("Relinked core_lib") && !log.contains("Compiling mid");
        let rebuilt = log.contains("Compiling mid") && !log.contains("Relinked core_lib");
        let right = match edit.expect {
            Relink => relinked,
            Rebuild => rebuilt,
        };
        if !right {
            wrong.push(format!(
                "{} ({:?} expected):\n{log}",
                edit.what, edit.expect
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_library_compiled_with_optimizations_and_without_incremental_always_rebuilds_its_dependents() {
    // rustc may then inline any function across crates: no body is the library's own.
    let fork = e2e::fork();
    let project = Project::fixture("relink");
    let dir = project.path();
    let optimized = [
        ("CARGO_PROFILE_DYNAMIC_OPT_LEVEL", "1"),
        ("CARGO_PROFILE_DEV_OPT_LEVEL", "1"),
        ("CARGO_INCREMENTAL", "0"),
    ];
    build_and_compare(&fork, dir, &optimized);
    apply(dir, &EDITS[0]);
    let log = build_and_compare(&fork, dir, &optimized);
    assert!(
        log.contains("Compiling mid") && !log.contains("Relinked"),
        "{log}"
    );
}

#[test]
fn relinking_can_be_turned_off() {
    let fork = e2e::fork();
    let project = Project::fixture("relink");
    let dir = project.path();
    let off = [("CARGO_DYNAMIC_RELINK", "never")];
    build_and_compare(&fork, dir, &off);
    apply(dir, &EDITS[0]);
    let log = build_and_compare(&fork, dir, &off);
    assert!(
        log.contains("Compiling mid") && !log.contains("Relinked"),
        "{log}"
    );
}

#[test]
fn after_a_body_edit_test_recompiles_the_librarys_own_test_binary_and_no_other() {
    let fork = e2e::fork();
    let project = Project::fixture("relink");
    let dir = project.path();
    let test_no_run = |extra: &[&str]| {
        let mut args = vec!["test", "--locked", "--dynamic", "--workspace", "--no-run"];
        args.extend(extra);
        stderr(&run_ok(&mut fork.cargo(dir, &args)))
    };
    test_no_run(&[]);
    apply(dir, &EDITS[0]);
    let log = test_no_run(&["-v"]);
    // `(crate, is a test binary)` of each rustc run, link units left out.
    let mut compiled: Vec<(String, bool)> = log
        .lines()
        .filter(|line| line.trim_start().starts_with("Running `"))
        .filter_map(|line| {
            let name = line.split("--crate-name ").nth(1)?.split(' ').next()?;
            (!name.ends_with("_dylib")).then(|| (name.to_string(), line.contains(" --test ")))
        })
        .collect();
    compiled.sort();
    assert_eq!(
        compiled,
        [
            ("core_lib".to_string(), false),
            ("core_lib".to_string(), true)
        ],
        "{log}"
    );
}

/// The edits of `core/src/quiet.rs` and `mid` above, in one build: `mid` is compiled in the
/// build that moves the code, so `core_lib` may not owe the positions.
#[test]
fn a_dependent_compiled_in_the_build_that_moves_code_gets_the_new_positions() {
    let fork = e2e::fork();
    let project = Project::fixture("relink");
    let dir = project.path();
    build_and_compare(&fork, dir, &[]);
    let [moved, called] =
        ["core/src/quiet.rs", "mid/src/lib.rs"].map(|file| edit_where(|e| e.file == file));
    apply(dir, moved);
    apply(dir, called);
    let log = build_and_compare(&fork, dir, &[]);
    assert!(
        log.contains("Compiling core_lib") && log.contains("Compiling mid"),
        "{log}"
    );
}

/// Positions owed by a build that does not build the dependents (`-p core_lib`) are paid by
/// the next build that has a dependent holding positions of the moved code, though nothing
/// else makes that dependent stale.
#[test]
fn a_dependent_left_out_of_the_build_that_moves_code_gets_the_new_positions_later() {
    let fork = e2e::fork();
    let project = Project::fixture("relink");
    let dir = project.path();
    let called = edit_where(|e| e.file == "mid/src/lib.rs");
    apply(dir, called);
    build_and_compare(&fork, dir, &[]);
    let moved = edit_where(|e| e.file == "core/src/quiet.rs");
    apply(dir, moved);
    let alone = stderr(&run_ok(
        &mut fork.cargo(dir, &["build", "--locked", "--dynamic", "-p", "core_lib"]),
    ));
    assert!(alone.contains("Relinked core_lib"), "{alone}");
    let log = build_and_compare(&fork, dir, &[]);
    assert!(log.contains("Compiling mid"), "{log}");
}

/// Symbols owed by a build that does not build the dependents (`-p core_lib`) are paid by the
/// next build that has a dependent using one of them, though nothing else makes that dependent
/// stale: `core_lib`'s shared object no longer defines them.
#[test]
fn a_dependent_left_out_of_the_build_that_drops_an_instance_it_uses_is_compiled_again_later() {
    let fork = e2e::fork();
    let project = Project::fixture("relink");
    let dir = project.path();
    apply(dir, edit_where(|e| e.from == COUNTED_BEFORE));
    build_and_compare(&fork, dir, &[]);
    apply(
        dir,
        edit_where(|e| e.to == "    let counts = [Count(1)];\n"),
    );
    let alone = stderr(&run_ok(
        &mut fork.cargo(dir, &["build", "--locked", "--dynamic", "-p", "core_lib"]),
    ));
    assert!(
        alone.contains(
            "Relinked core_lib (interface unchanged but for symbols it no longer defines"
        ),
        "{alone}"
    );
    let log = build_and_compare(&fork, dir, &[]);
    assert!(log.contains("Compiling mid"), "{log}");
}

/// A source saved while the compile that may keep `core`'s metadata runs (by a wrapper, right
/// before rustc reads it): the interface was found unchanged before the compile, but rustc
/// compiles the saved version, whose `VALUE` changed, so `core` gets new metadata and `mid` is
/// compiled against it, as under `dev`. The wrapper is given to every `--dynamic` build: it
/// counts in the units' hashes.
#[test]
fn a_source_saved_during_the_compile_that_may_keep_the_metadata_gives_new_metadata() {
    let fork = e2e::fork();
    let project = Project::fixture("relink");
    let dir = project.path();
    let lib = dir.join("core/src/lib.rs");
    let saved = dir.join("saved-during-the-build.rs");
    let wrapper = project.script(
        "save-during-the-compile.sh",
        "#!/bin/sh\ncase \" $* \" in *\" --crate-name core_lib \"*)\n  \
         if [ -e \"$SAVED\" ]; then cat \"$SAVED\" > \"$LIB\" && rm \"$SAVED\"; fi;;\nesac\nexec \"$@\"\n",
    );
    let build = |dynamic: bool| {
        let mut args = vec!["build", "--locked", "-p", "app"];
        let mut cmd = if dynamic {
            args.push("--dynamic");
            let mut cmd = fork.cargo(dir, &args);
            cmd.env("RUSTC_WORKSPACE_WRAPPER", &wrapper)
                .env("SAVED", &saved)
                .env("LIB", &lib);
            cmd
        } else {
            fork.cargo(dir, &args)
        };
        stderr(&run_ok(&mut cmd))
    };
    build(true);
    apply(dir, &EDITS[0]);
    let value = edit_where(|e| e.what == "a const's value");
    let edited = fs::read_to_string(&lib).unwrap();
    fs::write(&saved, edited.replacen(value.from, value.to, 1)).unwrap();
    let log = build(true);
    assert!(!saved.exists(), "the wrapper did not save the file:\n{log}");
    build(false);
    let dev = run_app(dir, "debug");
    assert!(dev.contains("value 44"), "{dev}");
    assert_eq!(run_app(dir, "dynamic"), dev, "{log}");
    assert!(log.contains("Compiling mid"), "{log}");
}

/// A body edit that does not compile, then its fix: the compile that failed was aside and
/// left `core`'s rlib in place, so the fixed build keeps its metadata and relinks it alone.
#[test]
fn a_body_edit_that_fails_to_compile_then_its_fix_relinks() {
    let fork = e2e::fork();
    let project = Project::fixture("relink");
    let dir = project.path();
    build_and_compare(&fork, dir, &[]);
    let lib = dir.join("core/src/lib.rs");
    replace_once(&lib, "    helper(1)\n", "    helper(1) + \"one\"\n", "a type error");
    let failed = fork
        .cargo(dir, &["build", "--locked", "--dynamic", "-p", "app"])
        .output()
        .unwrap();
    assert!(!failed.status.success(), "{}", stderr(&failed));
    replace_once(&lib, "    helper(1) + \"one\"\n", "    helper(2)\n", "its fix");
    let log = build_and_compare(&fork, dir, &[]);
    assert!(log.contains("Relinked core_lib"), "{log}");
    assert!(!log.contains("Compiling mid"), "{log}");
}

/// A library compiled again only because one below it got new metadata (`mid`, after an
/// interface edit of `core`) keeps the record of its interface that its last compile wrote
/// from the same sources, without reading them again; that record decides its next edit, a
/// plain function's body, which relinks `mid`.
#[test]
fn a_library_compiled_again_for_a_library_below_keeps_the_record_of_its_interface() {
    let fork = e2e::fork();
    let project = Project::fixture("relink");
    let dir = project.path();
    build_and_compare(&fork, dir, &[]);
    let record = interface_record(dir, "mid");
    let recorded = fs::read_to_string(&record).unwrap();
    let written = fs::metadata(&record).unwrap().modified().unwrap();
    apply(dir, edit_where(|e| e.what == "a const's value"));
    let log = build_and_compare(&fork, dir, &[]);
    assert!(log.contains("Compiling mid"), "{log}");
    assert_eq!(fs::read_to_string(&record).unwrap(), recorded, "{log}");
    let now = fs::metadata(&record).unwrap().modified().unwrap();
    assert_eq!(now, written, "the record was written again:\n{log}");
    replace_once(
        &dir.join("mid/src/lib.rs"),
        "format!(\"plain {}\"",
        "format!(\"plain  {}\"",
        "mid's report",
    );
    let log = build_and_compare(&fork, dir, &[]);
    assert!(log.contains("Relinked mid"), "{log}");
}

/// The file in which the `dynamic` profile records the interface of `package`'s library.
fn interface_record(dir: &Path, package: &str) -> std::path::PathBuf {
    let fingerprints = dir.join("target/dynamic/.fingerprint");
    let prefix = format!("{package}-");
    fs::read_dir(&fingerprints)
        .unwrap()
        .map(|entry| entry.unwrap().path().join("interface"))
        .find(|record| {
            let folder = record.parent().unwrap().file_name().unwrap();
            folder.to_str().unwrap().starts_with(&prefix) && record.exists()
        })
        .unwrap_or_else(|| panic!("no interface recorded for `{package}`"))
}

/// The compile that keeps `core`'s metadata, and the one after it that does not, both reuse
/// rustc's incremental cache: rustc throws it away when a tracked argument (`--emit` among
/// them) differs from the last compile's, and both then start from scratch. rustc says so
/// under `-Zincremental-info`, given to `core_lib` alone by a wrapper (the profile's units
/// may take `-Z` flags; Cargo's own queries of rustc may not).
#[test]
fn the_compile_that_keeps_the_metadata_keeps_the_incremental_cache() {
    let fork = e2e::fork();
    let project = Project::fixture("relink");
    let dir = project.path();
    let wrapper = project.script(
        "incremental-info.sh",
        "#!/bin/sh\ncase \" $* \" in *\" --crate-name core_lib \"*) exec \"$@\" -Zincremental-info;; esac\nexec \"$@\"\n",
    );
    let build = || {
        let mut cmd = fork.cargo(dir, &["build", "--locked", "--dynamic", "-p", "app"]);
        cmd.env("RUSTC_WORKSPACE_WRAPPER", &wrapper)
            .env("CARGO_INCREMENTAL", "1");
        stderr(&run_ok(&mut cmd))
    };
    build();
    for (edit, done) in [
        (&EDITS[0], "Relinked core_lib"),
        (
            edit_where(|e| e.what == "a generic function's body"),
            "Compiling mid",
        ),
    ] {
        apply(dir, edit);
        let log = build();
        assert!(log.contains(done), "{}:\n{log}", edit.what);
        assert!(log.contains("[incremental]"), "{}:\n{log}", edit.what);
        assert!(!log.contains("ignoring cache"), "{}:\n{log}", edit.what);
    }
}

/// Every compile of a library that may relink writes into one folder with one incremental
/// cache, whether it gets new metadata or keeps its old one: rustc computes nearly all of a
/// crate again when its cache's last compile wrote into another folder, and a library compiled
/// in place for new metadata and aside to keep it found a cold cache at its first relink after
/// a rebuild (`gix` of the replayed edit stream: 8.5 s against `dev`'s 1.5 s). The new
/// metadata, written aside, still reaches the dependents (`mid` is compiled against it).
#[test]
fn a_library_is_compiled_into_one_folder_with_one_cache_whether_it_keeps_its_metadata_or_not() {
    let fork = e2e::fork();
    let project = Project::fixture("relink");
    let dir = project.path();
    let build = |extra: &[&str]| {
        let mut args = vec!["build", "--locked", "-p", "app"];
        args.extend(extra);
        let mut cmd = fork.cargo(dir, &args);
        cmd.env("CARGO_INCREMENTAL", "1");
        stderr(&run_ok(&mut cmd))
    };
    build(&[]);
    build(&["--dynamic"]);
    // The folder and the cache of `core_lib`'s compile in the log of a verbose build.
    let folder_and_cache = |log: &str| {
        let line = log
            .lines()
            .find(|line| line.contains("Running") && line.contains("--crate-name core_lib "))
            .unwrap_or_else(|| panic!("`core_lib` was not compiled:\n{log}"));
        let args: Vec<&str> = line.split_whitespace().collect();
        let out_dir = args
            .iter()
            .position(|arg| *arg == "--out-dir")
            .and_then(|at| args.get(at + 1))
            .unwrap_or_else(|| panic!("no `--out-dir`: {line}"));
        let cache = args
            .iter()
            .find(|arg| arg.starts_with("incremental="))
            .unwrap_or_else(|| panic!("no incremental cache: {line}"));
        (out_dir.to_string(), cache.to_string())
    };
    let mut compiles = Vec::new();
    for (edit, done) in [
        (
            edit_where(|e| e.what == "a generic function's body"),
            "Compiling mid",
        ),
        (&EDITS[0], "Relinked core_lib"),
    ] {
        apply(dir, edit);
        build(&[]);
        let log = build(&["--dynamic", "-v"]);
        assert!(log.contains(done), "{}:\n{log}", edit.what);
        assert_eq!(run_app(dir, "dynamic"), run_app(dir, "debug"), "{log}");
        compiles.push(folder_and_cache(&log));
    }
    assert!(compiles[0].0.ends_with("compiled-aside"), "{compiles:?}");
    assert!(compiles[0].1.ends_with("incremental-aside"), "{compiles:?}");
    assert_eq!(compiles[0], compiles[1]);
}

/// A link unit's crate hash changes with that of every crate it loads, the libraries of the
/// link units below it included (fixtures/stacked): an interface edit of `left` gives
/// `on_left`, in `edited_dependents_dylib`, new metadata; `lower_dylib`, over that group, is
/// linked again and gets a new crate hash, though `lower` is not recompiled; so `upper_dylib`,
/// over it, must be linked again too, or `top_dylib` is refused (E0460: `upper_dylib` was built
/// against a `lower_dylib` that is gone).
#[test]
fn a_link_unit_is_linked_again_when_a_library_two_link_units_below_gets_new_metadata() {
    let fork = e2e::fork();
    let project = Project::fixture("stacked");
    let dir = project.path();
    let build = |profile: &[&str]| {
        let mut args = vec!["build", "--locked"];
        args.extend(profile);
        stderr(&run_ok(&mut fork.cargo(dir, &args)))
    };
    let edit = |file: &str, from: &str, to: &str| replace_once(&dir.join(file), from, to, file);
    build(&["--dynamic"]);
    // Each in a link unit of its own from now on.
    edit("left/src/lib.rs", "    1\n", "    3\n");
    edit("right/src/lib.rs", "    2\n", "    4\n");
    build(&["--dynamic"]);
    fs::write(
        dir.join("left/src/lib.rs"),
        "pub fn value() -> u32 {\n    5\n}\n\npub fn added() -> u32 {\n    6\n}\n",
    )
    .unwrap();
    let log = build(&["--dynamic", "-v"]);
    assert!(log.contains("--crate-name upper_dylib"), "{log}");
    build(&[]);
    let dev = run_app(dir, "debug");
    assert_eq!(run_app(dir, "dynamic"), dev);
    assert_eq!(dev, "upper 42 on_left 50\n");
}
