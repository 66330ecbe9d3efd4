//! The C ABI client that `benches/capi.rs` and `examples/abi_loop.rs` share: an engine on the
//! memory store with one confidential client, and requests through `o2e_engine_handle`, each
//! answer checked so that a broken path cannot pass for a fast one.

use std::ffi::c_char;
use std::ptr;

use oauth2_engine::ffi::{
    o2e_buf, o2e_buf_free, o2e_engine, o2e_engine_handle, o2e_engine_new, o2e_status,
};

const CONFIG: &str = r#"{
  "engine": {"grants": [{"type": "client_credentials"}]},
  "storage": {"type": "memory", "clients": [
    {"client_id": "svc", "client_secret": "svc-secret", "grant_types": ["client_credentials"]}
  ]}
}"#;

/// A client-credentials token request, as the host sends it.
pub const REQUEST: &str = r#"{"method":"POST","path":"/token","query":"","headers":[["Content-Type","application/x-www-form-urlencoded"]],"body":"grant_type=client_credentials&client_id=svc&client_secret=svc-secret"}"#;

/// A new engine whose client-credentials tokens live `lifetime` seconds (the engine's default,
/// an hour, for `None`). The caller frees it with `o2e_engine_free`.
pub fn engine(lifetime: Option<u64>) -> *mut o2e_engine {
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
    engine
}

/// `request` through `o2e_engine_handle` on `engine`; the response must start with `expect`, or
/// the caller measures another path than it says.
pub fn handle(engine: *mut o2e_engine, request: &str, expect: &[u8]) {
    let mut out: *mut o2e_buf = ptr::null_mut();
    // SAFETY: `engine` is live, `request` a live buffer of the given length; `out` receives a
    // buffer that is freed below.
    let st = unsafe {
        o2e_engine_handle(
            engine,
            request.as_ptr().cast::<c_char>(),
            request.len(),
            ptr::null_mut(),
            &mut out,
        )
    };
    assert_eq!(st, o2e_status::O2E_OK);
    // SAFETY: a successful call leaves a valid buffer in `out`.
    let body = unsafe { std::slice::from_raw_parts((*out).data.cast::<u8>(), (*out).len) };
    assert!(
        body.starts_with(expect),
        "the answer does not start with the expected status"
    );
    // SAFETY: `out` came from o2e_engine_handle and is freed once.
    unsafe { o2e_buf_free(out) };
}

/// A client-credentials request, answered 200.
pub fn issue(engine: *mut o2e_engine) {
    handle(engine, REQUEST, b"{\"status\":200,");
}
