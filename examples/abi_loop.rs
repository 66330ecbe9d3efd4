//! Sends N client-credentials requests through the C ABI (memory store) and checks each answer.
//! `scripts/callgrind.sh` runs it under callgrind at two values of N: the difference of the
//! instruction counts, divided by the difference of N, is the instructions one request costs,
//! free of the set-up, and stable on a busy machine.
//!
//! A second argument sets the tokens' lifetime in seconds (default: an hour, so the store only
//! grows); with 1 the store reaches its steady state within a couple of seconds, and the
//! process stops taking fresh pages from the kernel (docs/c-api.md, §13).
//!
//!     cargo run --release --example abi_loop -- 10000 [LIFETIME]

use std::ffi::c_char;
use std::ptr;

use oauth2_engine::ffi::{
    o2e_buf, o2e_buf_free, o2e_engine, o2e_engine_free, o2e_engine_handle, o2e_engine_new,
    o2e_status,
};

const CONFIG: &str = r#"{
  "engine": {"grants": [{"type": "client_credentials"}]},
  "storage": {"type": "memory", "clients": [
    {"client_id": "svc", "client_secret": "svc-secret", "grant_types": ["client_credentials"]}
  ]}
}"#;

const REQUEST: &str = r#"{"method":"POST","path":"/token","query":"","headers":[["Content-Type","application/x-www-form-urlencoded"]],"body":"grant_type=client_credentials&client_id=svc&client_secret=svc-secret"}"#;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let lifetime = std::env::args()
        .nth(2)
        .map(|a| a.parse::<u64>().expect("LIFETIME: a number of seconds"));
    let config = match lifetime {
        Some(lifetime) => CONFIG.replace(
            r#"{"type": "client_credentials"}"#,
            &format!(r#"{{"type": "client_credentials", "expires_in": {lifetime}}}"#),
        ),
        None => CONFIG.to_owned(),
    };
    let mut engine: *mut o2e_engine = ptr::null_mut();
    // SAFETY: `config` is a live buffer of the given length; `engine` is a valid out pointer.
    let st = unsafe {
        o2e_engine_new(
            config.as_ptr().cast::<c_char>(),
            config.len(),
            ptr::null(),
            &mut engine,
        )
    };
    assert_eq!(st, o2e_status::O2E_OK);
    let started = std::time::Instant::now();
    for _ in 0..n {
        let mut out: *mut o2e_buf = ptr::null_mut();
        // SAFETY: as above; `out` receives a buffer that is freed below.
        let st = unsafe {
            o2e_engine_handle(
                engine,
                REQUEST.as_ptr().cast::<c_char>(),
                REQUEST.len(),
                ptr::null_mut(),
                &mut out,
            )
        };
        assert_eq!(st, o2e_status::O2E_OK);
        // SAFETY: a successful call leaves a valid buffer in `out`.
        let body = unsafe { std::slice::from_raw_parts((*out).data.cast::<u8>(), (*out).len) };
        assert!(body.starts_with(b"{\"status\":200,"), "not a 200");
        // SAFETY: `out` came from o2e_engine_handle and is freed once.
        unsafe { o2e_buf_free(out) };
    }
    let per = started.elapsed().as_secs_f64() * 1e6 / n.max(1) as f64;
    println!("{n} requests, {per:.2} us each (wall clock)");
    // SAFETY: `engine` came from o2e_engine_new and is freed once.
    unsafe { o2e_engine_free(engine) };
}
