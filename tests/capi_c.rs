//! The C host programs of tests/c/, compiled against the static library with
//! AddressSanitizer (and LeakSanitizer) and run. Each program asserts its own expectations and
//! exits non-zero on the first failure; here we check that it ran to the end.

// The C ABI exists only with the (default) `capi` feature.
#![cfg(feature = "capi")]

#[path = "c/harness.rs"]
mod harness;

use harness::{compile_asan, run};

#[test]
fn c_memory_store_code_pkce_refresh_and_client_credentials() {
    let exe = compile_asan(
        "memory_store",
        &["tests/c/memory_store.c", "tests/c/common.c"],
    );
    let out = run(&exe, &[]);
    assert!(out.contains("memory_store: all checks passed"), "{out}");
}

#[test]
fn c_every_callback_in_c_code_password_client_credentials_denial() {
    let exe = compile_asan(
        "callbacks",
        &["tests/c/callbacks.c", "tests/c/store.c", "tests/c/common.c"],
    );
    let out = run(&exe, &[]);
    assert!(out.contains("callbacks: all checks passed"), "{out}");
}

#[test]
fn c_bad_input_is_answered_never_crashes() {
    let exe = compile_asan(
        "bad_input",
        &["tests/c/bad_input.c", "tests/c/store.c", "tests/c/common.c"],
    );
    let out = run(&exe, &[]);
    assert!(out.contains("bad_input: all checks passed"), "{out}");
}

#[test]
fn c_r17_eight_threads_distinct_tokens_codes_redeemed_once() {
    let exe = compile_asan("threads", &["tests/c/threads.c", "tests/c/common.c"]);
    let out = run(&exe, &[]);
    assert!(
        out.contains("threads: 8 threads x 10000 requests, 60000 distinct tokens, 20000 codes each redeemed once"),
        "{out}"
    );
}
