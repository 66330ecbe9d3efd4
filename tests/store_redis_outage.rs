//! Redis going away: a throwaway redis-server of the test's own on another loopback port is
//! killed and started again mid-run; a server that accepts connections but never answers; a
//! port where nothing listens. Requests during an outage fail cleanly with
//! `temporarily_unavailable` (never hang), and work again once the server is back.

#[path = "common/stores.rs"]
mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use oauth2_engine::store::{open, BackendConfig, RedisConfig};
use oauth2_engine::{Ctx, Engine, HostErrorKind, Response};

/// Upper bound on anything a request may take here: the configured timeouts are 300 ms, so
/// reaching this means a hang, not a slow machine.
const HANG: Duration = Duration::from_secs(30);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A redis-server of this test's own, keeping its data in an append-only file that is synced on
/// every write, so that what was written before a kill is there after the restart.
struct Server {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Server {
    fn start(port: u16, dir: &Path) -> Server {
        std::fs::create_dir_all(dir).unwrap();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(dir)
            .args(["--daemonize", "no", "--logfile", "redis.log"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (bash scripts/services.sh)");
        let s = Server {
            port,
            dir: dir.to_owned(),
            child: Some(child),
        };
        s.wait_ready();
        s
    }

    fn wait_ready(&self) {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ok = client
                .get_connection_with_timeout(Duration::from_millis(200))
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
            if ok.is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "throwaway redis-server on port {} did not come up: {ok:?}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    fn restart(&mut self) {
        self.kill();
        *self = Server::start(self.port, &self.dir.clone());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn backend_at(url: &str) -> oauth2_engine::store::Backend {
    let mut rc = RedisConfig::new(url);
    rc.prefix = format!("o2e-outage:{}:", unique_name("p"));
    rc.timeout_ms = 300;
    rc.connect_timeout_ms = 300;
    rc.pool_size = 4;
    open(&BackendConfig::Redis(rc)).unwrap()
}

/// Runs `f` on another thread and fails the test if it has not returned within [`HANG`].
fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(HANG)
        .expect("a request hung instead of failing within its timeout")
}

fn cc(engine: &std::sync::Arc<Engine>) -> Response {
    let e = engine.clone();
    bounded(move || client_credentials(&e))
}

fn assert_unavailable(r: &Response) {
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(error_code(r), "temporarily_unavailable");
}

#[test]
fn redis_restart_mid_run_fails_cleanly_then_recovers() {
    let port = free_port();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(unique_name("redis-outage"));
    let mut server = Server::start(port, &dir);
    let backend = backend_at(&format!("redis://127.0.0.1:{port}/"));
    register_client(&backend);
    let engine = std::sync::Arc::new(engine(&backend));

    // Fill the pool with connections, then pull the server out from under them.
    let before = field(&cc(&engine), "access_token");
    let code = authorize(&engine);
    server.kill();

    // During the outage: every kind of request fails cleanly, never hangs.
    for _ in 0..3 {
        assert_unavailable(&cc(&engine));
    }
    let e = engine.clone();
    let c = code.clone();
    assert_unavailable(&bounded(move || redeem(&e, &c)));
    let e = engine.clone();
    let err = bounded(move || e.validate_access_token("any-token", Ctx::NONE));
    assert_eq!(err.unwrap_err().kind, HostErrorKind::Unavailable);

    // Back: the next requests work, and what was written before the outage is still there.
    server.restart();
    let r = cc(&engine);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(engine
        .validate_access_token(&before, Ctx::NONE)
        .unwrap()
        .is_some());
    // The code was never redeemed (its redemption failed before touching it): still good.
    let r = redeem(&engine, &code);
    assert_eq!(r.status, 200, "{}", r.body);

    // A restart nobody noticed: the pooled connections are all stale. The first request
    // after it still works (the dead connections are replaced, not handed out one by one).
    let pending = authorize(&engine);
    for _ in 0..4 {
        assert_eq!(cc(&engine).status, 200);
    }
    server.restart();
    let r = cc(&engine);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = redeem(&engine, &pending);
    assert_eq!(r.status, 200, "{}", r.body);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn redis_that_never_answers_gives_temporarily_unavailable() {
    // Accepts connections and reads nothing, like a hung server.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let backend = backend_at(&format!("redis://127.0.0.1:{port}/"));
    let engine = std::sync::Arc::new(engine(&backend));
    for _ in 0..2 {
        assert_unavailable(&cc(&engine));
    }
    let b = backend.clone();
    let err = bounded(move || b.add_client(&oauth2_engine::Client::public("x", vec![])));
    assert_eq!(err.unwrap_err().kind, HostErrorKind::Unavailable);
}

#[test]
fn redis_nobody_listening_gives_temporarily_unavailable() {
    let port = free_port();
    let backend = backend_at(&format!("redis://127.0.0.1:{port}/"));
    let engine = std::sync::Arc::new(engine(&backend));
    assert_unavailable(&cc(&engine));
    let e = engine.clone();
    let r = bounded(move || {
        e.handle(&oauth2_engine::Request::new(
            "GET",
            "/authorize",
            "response_type=code&client_id=app&code_challenge_method=S256",
        ))
    });
    // The authorization endpoint cannot look the client up: an error page, not a redirect.
    // (The core renders every such page as 400; the body names the real error.)
    assert_eq!(error_code(&r), "temporarily_unavailable", "{}", r.body);
    assert!(r.header("location").is_none());
}

#[test]
fn redis_bad_url_is_a_config_error() {
    for url in ["", "http://127.0.0.1/", "redis://"] {
        let rc = RedisConfig::new(url);
        assert!(open(&BackendConfig::Redis(rc)).is_err(), "{url:?}");
    }
    let mut rc = RedisConfig::new(REDIS_URL);
    rc.timeout_ms = 0;
    assert!(open(&BackendConfig::Redis(rc)).is_err());
}
