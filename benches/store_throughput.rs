//! Requests per second of the client-credentials and the code (+PKCE) flows on each native
//! backend, through `Engine::handle`, one thread. A quick loop, not a statistical benchmark:
//! `cargo bench --bench store_throughput` (needs Redis on 127.0.0.1:6379, see
//! scripts/services.sh). `O2E_BENCH_N` sets the requests per measurement (default 2000); each
//! measurement also stops after 5 seconds.

#[path = "../tests/common/stores.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;
use oauth2_engine::store::{open, BackendConfig, SqliteConfig, Synchronous};

fn measure(n: usize, mut one: impl FnMut()) -> (usize, f64) {
    let start = Instant::now();
    let mut done = 0;
    while done < n && start.elapsed() < Duration::from_secs(5) {
        one();
        done += 1;
    }
    (done, done as f64 / start.elapsed().as_secs_f64())
}

fn run(name: &str, f: &Fixture) {
    let n: usize = std::env::var("O2E_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    register_client(&f.backend);
    let engine = engine(&f.backend);
    let (cc_n, cc_rate) = measure(n, || {
        let r = client_credentials(&engine);
        assert_eq!(r.status, 200, "{}", r.body);
    });
    // One flow = the authorization request and the token request.
    let (code_n, code_rate) = measure(n / 2, || {
        let code = authorize(&engine);
        let r = redeem(&engine, &code);
        assert_eq!(r.status, 200, "{}", r.body);
    });
    println!(
        "{name:<22} client_credentials {cc_rate:>8.0} req/s ({cc_n} requests)   \
         code+PKCE {code_rate:>7.0} flows/s = {:>8.0} req/s ({code_n} flows)",
        code_rate * 2.0
    );
}

fn main() {
    run("memory", &memory());
    for (label, sync) in [
        ("sqlite (sync=full)", Synchronous::Full),
        ("sqlite (sync=normal)", Synchronous::Normal),
    ] {
        let path = sqlite_path("bench");
        let mut cfg = SqliteConfig::new(path.to_str().unwrap());
        cfg.synchronous = sync;
        let config = BackendConfig::Sqlite(cfg);
        let backend = open(&config).unwrap();
        run(
            label,
            &Fixture {
                backend,
                config,
                cleanup: None,
            },
        );
        let _ = std::fs::remove_file(&path);
    }
    run("redis (127.0.0.1)", &redis());
}
