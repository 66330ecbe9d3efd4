//! A client-credentials token request through the C ABI: request JSON in, `o2e_engine_handle`,
//! response JSON out, built-in memory store. What a C host pays per request, minus its own HTTP.
//!
//!     cargo bench --bench capi -- --warm-up-time 1 --measurement-time 3

use std::ffi::c_char;
use std::ptr;

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use oauth2_engine::ffi::{
    o2e_buf, o2e_buf_free, o2e_engine, o2e_engine_free, o2e_engine_handle, o2e_engine_new,
    o2e_status,
};
use oauth2_engine::{Client, Config, Engine, GrantType, MemoryStore, Request, Storage};

const CONFIG: &str = r#"{
  "engine": {"grants": [{"type": "client_credentials"}]},
  "storage": {"type": "memory", "clients": [
    {"client_id": "svc", "client_secret": "svc-secret", "grant_types": ["client_credentials"]}
  ]}
}"#;

const REQUEST: &str = r#"{"method":"POST","path":"/token","query":"","headers":[["Content-Type","application/x-www-form-urlencoded"]],"body":"grant_type=client_credentials&client_id=svc&client_secret=svc-secret"}"#;

/// `request` through `o2e_engine_handle` on `engine`; the response must start with `expect`, or
/// the bench measures another path than it says.
fn handle(engine: *mut o2e_engine, request: &str, expect: &[u8]) {
    let mut out: *mut o2e_buf = ptr::null_mut();
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
    assert!(
        unsafe { std::slice::from_raw_parts((*out).data.cast::<u8>(), (*out).len) }
            .starts_with(expect)
    );
    unsafe { o2e_buf_free(out) };
}

/// A client-credentials request, answered 200.
fn issue(engine: *mut o2e_engine) {
    handle(engine, REQUEST, b"{\"status\":200,");
}

fn engine_from(config: &str) -> *mut o2e_engine {
    let mut engine: *mut o2e_engine = ptr::null_mut();
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

fn client_credentials(c: &mut Criterion) {
    // Every iteration issues a token that lives an hour, so the store only grows: the process
    // takes fresh pages from the kernel for each few tokens, and their page faults are part of
    // the figure (a server filling its store after a start).
    let engine = engine_from(CONFIG);
    c.bench_function("capi_client_credentials", |b| b.iter(|| issue(engine)));
    // The same ABI round trip for a path the engine answers 404 without touching the store:
    // the cost of the C ABI layer alone (JSON parse, response JSON, buffer, catch_unwind).
    const NOT_FOUND: &str = r#"{"method":"POST","path":"/elsewhere","query":"","headers":[["Content-Type","application/x-www-form-urlencoded"]],"body":"grant_type=client_credentials&client_id=svc&client_secret=svc-secret"}"#;
    c.bench_function("capi_abi_only_404", |b| {
        b.iter(|| handle(engine, NOT_FOUND, b"{\"status\":404,"))
    });
    unsafe { o2e_engine_free(engine) };
}

/// The same request on a store in its steady state: tokens live one second, so each write drops
/// expired ones and the store stays at the half-million or so tokens that a second and a half of
/// this loop issues (about what a server issuing 150 tokens a second for an hour holds). Freed
/// records are reused by the allocator, so no page faults: the request's own cost, dropping an
/// expired token included.
fn client_credentials_steady(c: &mut Criterion) {
    let config = CONFIG.replace(
        r#"{"type": "client_credentials"}"#,
        r#"{"type": "client_credentials", "expires_in": 1}"#,
    );
    let engine = engine_from(&config);
    c.bench_function("capi_client_credentials_steady", |b| {
        b.iter(|| issue(engine))
    });
    unsafe { o2e_engine_free(engine) };
}

/// The same request through the Rust API, without any JSON: the core and the memory store.
fn core_only(c: &mut Criterion) {
    let store = Arc::new(MemoryStore::new());
    store.add_client(Client {
        grant_types: Some(vec![GrantType::ClientCredentials]),
        ..Client::confidential("svc", "svc-secret", vec![])
    });
    let config: Config =
        serde_json::from_str(r#"{"grants": [{"type": "client_credentials"}]}"#).unwrap();
    let engine = Engine::builder(config)
        .storage(Storage::from_backend(store))
        .build()
        .unwrap();
    let headers = [("Content-Type", "application/x-www-form-urlencoded")];
    c.bench_function("core_client_credentials", |b| {
        b.iter(|| {
            let req = Request {
                headers: &headers,
                body: b"grant_type=client_credentials&client_id=svc&client_secret=svc-secret",
                ..Request::new("POST", "/token", "")
            };
            let r = engine.handle(&req);
            assert_eq!(r.status, 200);
            r
        })
    });
}

criterion_group!(
    benches,
    client_credentials,
    client_credentials_steady,
    core_only
);
criterion_main!(benches);
