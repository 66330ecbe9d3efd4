//! The checked-in header is exactly what cbindgen generates from src/ffi/, and it compiles as
//! C99 and as C++ with warnings as errors.

// The C ABI exists only with the (default) `capi` feature.
#![cfg(feature = "capi")]

#[path = "c/harness.rs"]
mod harness;

use std::process::Command;

/// build.rs writes the freshly generated header here on every build.
const GENERATED: &str = include_str!(concat!(env!("OUT_DIR"), "/oauth2_engine.h"));

#[test]
fn header_matches_cbindgen_output() {
    let path = harness::root().join("include/oauth2_engine.h");
    let checked_in = std::fs::read_to_string(&path).expect("include/oauth2_engine.h exists");
    assert!(
        checked_in == GENERATED,
        "include/oauth2_engine.h differs from what cbindgen generates from src/ffi/.\n\
         Regenerate it with:\n\n    O2E_WRITE_HEADER=1 cargo build\n\nand commit the result."
    );
}

fn compile_header_check(compiler: &str, args: &[&str]) {
    let root = harness::root();
    let obj = harness::out_dir().join(format!("header_check_{compiler}.o"));
    let out = Command::new(compiler)
        .args(args)
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic", "-c"])
        .arg("-I")
        .arg(root.join("include"))
        .arg(root.join("tests/c/header_check.c"))
        .arg("-o")
        .arg(&obj)
        .output()
        .unwrap_or_else(|e| panic!("run {compiler}: {e}"));
    assert!(
        out.status.success(),
        "{compiler} {args:?} rejected the header:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn header_compiles_as_c99() {
    compile_header_check("cc", &["-std=c99"]);
}

#[test]
fn header_compiles_as_cpp() {
    compile_header_check("c++", &["-x", "c++", "-std=c++11"]);
}

#[test]
fn header_links_and_runs_as_c99() {
    // The same program, linked against the library and run: the declarations match the symbols.
    let exe = harness::compile("header_check", &["tests/c/header_check.c"], &[], &[]);
    let status = Command::new(&exe).status().expect("run header_check");
    // Config "{}" builds; request "{}" is refused as O2E_INVALID_REQUEST (5); json_get succeeds.
    assert_eq!(status.code(), Some(0), "header_check exit status");
}
