//! Shared by the storage tests: opening each backend on fresh ground, an engine with the code,
//! refresh and client-credentials grants, and HTTP-like requests to it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use oauth2_engine::store::{open, Backend, BackendConfig, RedisConfig, SqliteConfig};
use oauth2_engine::{
    Authentication, Client, Config, Consent, Engine, GrantConfig, GrantType, HostError, Request,
    Response, SiteAdapter,
};

/// The Redis server every Redis test uses: the one `scripts/services.sh` starts.
pub const REDIS_URL: &str = "redis://127.0.0.1:6379/";

pub const CLIENT_ID: &str = "app";
pub const CLIENT_SECRET: &str = "app-secret";
pub const REDIRECT_URI: &str = "https://app.example/cb";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A name no other test, run or process on this machine uses.
pub fn unique_name(what: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{what}-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh SQLite file path under cargo's scratch directory for tests.
pub fn sqlite_path(what: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("store-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{}.db", unique_name(what)))
}

/// Deletes every key under a prefix when dropped, so test runs leave the server as they found it.
pub struct RedisCleanup {
    pub url: String,
    pub prefix: String,
}

impl Drop for RedisCleanup {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(self.url.as_str()) else {
            return;
        };
        let Ok(mut c) = client.get_connection() else {
            return;
        };
        let keys: Vec<String> = redis_keys(&mut c, &self.prefix);
        for k in keys {
            let _: Result<i64, _> = redis::cmd("DEL").arg(&k).query(&mut c);
        }
    }
}

/// Every key under `prefix`, by SCAN (never KEYS, which blocks the server).
pub fn redis_keys(c: &mut redis::Connection, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query(c)
            .expect("SCAN");
        out.extend(batch);
        if next == 0 {
            return out;
        }
        cursor = next;
    }
}

/// A backend under test, with whatever cleans up after it.
pub struct Fixture {
    pub backend: Backend,
    pub config: BackendConfig,
    pub cleanup: Option<RedisCleanup>,
}

pub fn memory() -> Fixture {
    let config = BackendConfig::default();
    Fixture {
        backend: open(&config).unwrap(),
        config,
        cleanup: None,
    }
}

pub fn sqlite() -> Fixture {
    sqlite_at(&sqlite_path("contract"))
}

pub fn sqlite_at(path: &std::path::Path) -> Fixture {
    let config = BackendConfig::Sqlite(SqliteConfig::new(path.to_str().unwrap()));
    Fixture {
        backend: open(&config).expect("open sqlite"),
        config,
        cleanup: None,
    }
}

/// A Redis backend on the shared server under a prefix of its own. A missing server fails the
/// test: these tests are never skipped.
pub fn redis() -> Fixture {
    redis_with_prefix(&format!("o2e-test:{}:", unique_name("r")))
}

pub fn redis_with_prefix(prefix: &str) -> Fixture {
    let mut rc = RedisConfig::new(REDIS_URL);
    rc.prefix = prefix.to_owned();
    let config = BackendConfig::Redis(rc);
    let backend = open(&config).expect("open redis");
    if let Backend::Redis(r) = &backend {
        r.ping().unwrap_or_else(|e| {
            panic!("Redis must run on 127.0.0.1:6379 (bash scripts/services.sh): {e}")
        });
    }
    Fixture {
        backend,
        config,
        cleanup: Some(RedisCleanup {
            url: REDIS_URL.into(),
            prefix: prefix.to_owned(),
        }),
    }
}

/// Logs everybody in as user 42 with some data.
pub struct AlwaysYes;

impl SiteAdapter for AlwaysYes {
    fn user_has_denied_access(&self, _: &Consent<'_>) -> Result<bool, HostError> {
        Ok(false)
    }
    fn authenticate(&self, _: &Consent<'_>) -> Result<Authentication, HostError> {
        Ok(Authentication::Authenticated {
            user_id: Some(serde_json::json!(42)),
            data: serde_json::json!({"name": "Zoë", "roles": ["a", "b"]}),
        })
    }
    fn render_auth_page(&self, _: &Consent<'_>) -> Result<Response, HostError> {
        Ok(Response::new(200))
    }
}

/// The OAuth 2.1 profile with the code grant (600 s tokens), rotating refresh tokens and
/// client credentials.
pub fn engine_config() -> Config {
    let mut refresh = GrantConfig::new(GrantType::RefreshToken);
    refresh.expires_in = Some(3600);
    refresh.rotate = Some(true);
    let mut code = GrantConfig::new(GrantType::AuthorizationCode);
    code.expires_in = Some(600);
    let mut cc = GrantConfig::new(GrantType::ClientCredentials);
    cc.expires_in = Some(600);
    Config {
        grants: vec![code, refresh, cc],
        revocation_path: Some("/revoke".into()),
        ..Config::default()
    }
}

pub fn engine(backend: &Backend) -> Engine {
    Engine::builder(engine_config())
        .storage(backend.storage())
        .site_adapter(Arc::new(AlwaysYes))
        .build()
        .expect("engine")
}

pub fn register_client(backend: &Backend) {
    backend
        .add_client(&Client::confidential(
            CLIENT_ID,
            CLIENT_SECRET,
            vec![REDIRECT_URI.into()],
        ))
        .expect("add client");
}

fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn post(engine: &Engine, path: &str, body: &str) -> Response {
    let headers = [("Content-Type", "application/x-www-form-urlencoded")];
    engine.handle(&Request {
        method: "POST",
        path,
        query: "",
        headers: &headers,
        body: body.as_bytes(),
        context: Default::default(),
    })
}

/// The JSON body of a response as a map of its top-level string and number fields.
pub fn json(r: &Response) -> HashMap<String, serde_json::Value> {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.body))
}

pub fn error_code(r: &Response) -> String {
    json(r)["error"].as_str().unwrap_or_default().to_owned()
}

pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-long-enough-verifier";

/// Runs the authorization request and returns the code from the redirect.
pub fn authorize(engine: &Engine) -> String {
    let challenge = oauth2_engine::pkce::s256_challenge(VERIFIER);
    let query = form(&[
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT_URI),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("state", "st"),
    ]);
    let r = engine.handle(&Request::new("GET", "/authorize", &query));
    assert_eq!(r.status, 302, "authorize: {} {}", r.status, r.body);
    let loc = r
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("location"))
        .map(|(_, v)| v.clone())
        .expect("Location");
    let query = loc.split_once('?').expect("query in Location").1;
    query
        .split('&')
        .find_map(|p| p.strip_prefix("code="))
        .expect("code in Location")
        .to_owned()
}

pub fn redeem(engine: &Engine, code: &str) -> Response {
    post(
        engine,
        "/token",
        &form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ]),
    )
}

pub fn refresh(engine: &Engine, refresh_token: &str) -> Response {
    post(
        engine,
        "/token",
        &form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ]),
    )
}

pub fn client_credentials(engine: &Engine) -> Response {
    post(
        engine,
        "/token",
        &form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ]),
    )
}

pub fn field(r: &Response, name: &str) -> String {
    json(r)[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {}", r.body))
        .to_owned()
}

/// Runs this test binary again as `n` child processes executing only `test_name`, with `env`
/// set (a test checks it to play the child's part), and returns what each printed after
/// `RESULT:`. Every child must exit successfully.
pub fn run_children(test_name: &str, env: &[(&str, String)], n: usize) -> Vec<String> {
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..n)
        .map(|i| {
            let mut cmd = std::process::Command::new(&exe);
            cmd.args([test_name, "--exact", "--nocapture", "--test-threads=1"])
                .env("O2E_CHILD_INDEX", i.to_string())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            for (k, v) in env {
                cmd.env(k, v);
            }
            cmd.spawn().expect("spawn child test process")
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(
                out.status.success(),
                "child failed: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            stdout
                .lines()
                .find_map(|l| l.split_once("RESULT:").map(|(_, r)| r.trim()))
                .unwrap_or_else(|| panic!("child printed no RESULT: {stdout}"))
                .to_owned()
        })
        .collect()
}
