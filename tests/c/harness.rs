//! Shared by the tests/capi*.rs integration tests: finds the library cargo just built and
//! compiles the C programs of tests/c/ against it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The profile directory (`target/debug` or `target/release`) this test binary was built into:
/// the test executable lives in its `deps/` subdirectory, next to nothing else we can rely on,
/// so the library is looked up from there rather than from a guessed target path.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("test exe has a directory");
    let dir = if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().expect("deps has a parent").to_path_buf()
    } else {
        deps.to_path_buf()
    };
    dir
}

/// The static library cargo built for this test run: `<profile>/liboauth2_engine.a`, or its
/// original in `deps/`.
///
/// A staticlib's file name carries no feature hash, so a build of the same profile with other
/// features (say `--no-default-features`) overwrites it, and a later build that finds its own
/// fingerprint fresh does not write it again. Rather than link a library without the C ABI and
/// fail with a page of undefined references, say so.
pub fn staticlib() -> PathBuf {
    let dir = profile_dir();
    [
        dir.join("liboauth2_engine.a"),
        dir.join("deps/liboauth2_engine.a"),
    ]
    .into_iter()
    .find(|p| exports_c_abi(p))
    .unwrap_or_else(|| {
        panic!(
            "no liboauth2_engine.a exporting the C ABI under {}. It is built with the lib \
                 target (crate-type staticlib) when the capi feature is on; if the last build of \
                 this profile had other features, rebuild it: touch src/ffi/mod.rs && cargo test",
            dir.display()
        )
    })
}

/// Whether the archive's symbol table names `o2e_engine_new`.
fn exports_c_abi(lib: &Path) -> bool {
    let Ok(bytes) = std::fs::read(lib) else {
        return false;
    };
    let needle = b"o2e_engine_new";
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'o')
        .any(|(i, _)| bytes[i..].starts_with(needle))
}

/// Where compiled C programs go (inside the target directory, never the source tree).
pub fn out_dir() -> PathBuf {
    let d = profile_dir().join("capi-c");
    std::fs::create_dir_all(&d).expect("create capi-c dir");
    d
}

fn show(out: &Output) -> String {
    format!(
        "status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Compiles `sources` (relative to the crate root) with AddressSanitizer into `name`.
pub fn compile_asan(name: &str, sources: &[&str]) -> PathBuf {
    compile(
        name,
        sources,
        &["-fsanitize=address", "-fno-omit-frame-pointer"],
        &[],
    )
}

/// Compiles C sources against the static library with the project's warning flags.
pub fn compile(name: &str, sources: &[&str], extra: &[&str], libs: &[&str]) -> PathBuf {
    let exe = out_dir().join(name);
    let root = root();
    let mut cmd = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()));
    cmd.args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-g", "-O1"])
        .args(extra)
        .arg("-I")
        .arg(root.join("include"))
        .arg("-I")
        .arg(root.join("tests/c"));
    for s in sources {
        cmd.arg(root.join(s));
    }
    cmd.arg(staticlib())
        .args(libs)
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe);
    let out = cmd.output().expect("run the C compiler (cc)");
    assert!(
        out.status.success(),
        "compiling {name} failed\n{}",
        show(&out)
    );
    exe
}

/// Runs a compiled C program and fails the test (with its output) unless it exits 0.
pub fn run(exe: &Path, envs: &[(&str, &str)]) -> String {
    let out = Command::new(exe)
        .envs(envs.iter().copied())
        // Leak checking on, and any ASan report is fatal.
        .env(
            "ASAN_OPTIONS",
            "detect_leaks=1:abort_on_error=0:halt_on_error=1",
        )
        .output()
        .expect("run the C program");
    assert!(
        out.status.success(),
        "{} failed\n{}",
        exe.display(),
        show(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
