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

use oauth2_engine::ffi::o2e_engine_free;

#[path = "../benches/support/capi_client.rs"]
mod capi_client;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let lifetime = std::env::args()
        .nth(2)
        .map(|a| a.parse::<u64>().expect("LIFETIME: a number of seconds"));
    let engine = capi_client::engine(lifetime);
    let started = std::time::Instant::now();
    for _ in 0..n {
        capi_client::issue(engine);
    }
    let per = started.elapsed().as_secs_f64() * 1e6 / n.max(1) as f64;
    println!("{n} requests, {per:.2} us each (wall clock)");
    // SAFETY: `engine` came from o2e_engine_new and is freed once.
    unsafe { o2e_engine_free(engine) };
}
