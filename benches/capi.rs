//! A client-credentials token request through the C ABI: request JSON in, `o2e_engine_handle`,
//! response JSON out, built-in memory store. What a C host pays per request, minus its own HTTP.
//!
//!     cargo bench --bench capi -- --warm-up-time 1 --measurement-time 3

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use oauth2_engine::ffi::o2e_engine_free;
use oauth2_engine::{Client, Config, Engine, GrantType, MemoryStore, Request, Storage};

#[path = "support/capi_client.rs"]
mod capi_client;
use capi_client::{engine, handle, issue};

fn client_credentials(c: &mut Criterion) {
    // Every iteration issues a token that lives an hour, so the store only grows: the process
    // takes fresh pages from the kernel for each few tokens, and their page faults are part of
    // the figure (a server filling its store after a start).
    let engine = engine(None);
    c.bench_function("capi_client_credentials", |b| b.iter(|| issue(engine)));
    // The same ABI round trip for a path the engine answers 404 without touching the store:
    // the cost of the C ABI layer alone (JSON parse, response JSON, buffer, catch_unwind).
    const NOT_FOUND: &str = r#"{"method":"POST","path":"/elsewhere","query":"","headers":[["Content-Type","application/x-www-form-urlencoded"]],"body":"grant_type=client_credentials&client_id=svc&client_secret=svc-secret"}"#;
    c.bench_function("capi_abi_only_404", |b| {
        b.iter(|| handle(engine, NOT_FOUND, b"{\"status\":404,"))
    });
    // SAFETY: `engine` came from o2e_engine_new and is freed once.
    unsafe { o2e_engine_free(engine) };
}

/// The same request on a store in its steady state: tokens live one second, so each write drops
/// expired ones and the store stays at the half-million or so tokens that a second and a half of
/// this loop issues (about what a server issuing 150 tokens a second for an hour holds). Freed
/// records are reused by the allocator, so no page faults: the request's own cost, dropping an
/// expired token included.
fn client_credentials_steady(c: &mut Criterion) {
    let engine = engine(Some(1));
    c.bench_function("capi_client_credentials_steady", |b| {
        b.iter(|| issue(engine))
    });
    // SAFETY: `engine` came from o2e_engine_new and is freed once.
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
