//! Starts the built binary, as users' integration tests do.

use std::process::Command;

#[test]
fn prints_the_greeting_it_is_given() {
    let output = Command::new(env!("CARGO_BIN_EXE_app"))
        .arg(r#"{"name":"test","times":7}"#)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "hello, test (x7)\n");
}

#[test]
fn rejects_bad_json_with_context() {
    let output = Command::new(env!("CARGO_BIN_EXE_app")).arg("not json").output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a greeting in JSON"));
}
