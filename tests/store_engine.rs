//! Whole flows through `Engine::handle` on each native backend: code + PKCE + rotating refresh,
//! replay detection (R17, R24), revocation, client credentials; SQLite across a restart; and
//! several OS processes sharing one SQLite file or one Redis server.

#[path = "common/stores.rs"]
mod common;

use common::*;
use oauth2_engine::store::{open, Backend, BackendConfig, RedisConfig};
use oauth2_engine::Ctx;

fn valid(engine: &oauth2_engine::Engine, token: &str) -> bool {
    engine
        .validate_access_token(token, Ctx::NONE)
        .unwrap()
        .is_some()
}

fn code_pkce_refresh_flow_r17_r24(f: Fixture) {
    register_client(&f.backend);
    let engine = engine(&f.backend);

    let code = authorize(&engine);
    let r = redeem(&engine, &code);
    assert_eq!(r.status, 200, "{}", r.body);
    let access = field(&r, "access_token");
    let refresh_1 = field(&r, "refresh_token");
    let t = engine
        .validate_access_token(&access, Ctx::NONE)
        .unwrap()
        .expect("issued token validates");
    assert_eq!(t.user_id, Some(serde_json::json!(42)));
    assert_eq!(t.data["name"], "Zoë");

    // Rotation: the new pair works, the old refresh token is used up.
    let r = refresh(&engine, &refresh_1);
    assert_eq!(r.status, 200, "{}", r.body);
    let access_2 = field(&r, "access_token");
    let refresh_2 = field(&r, "refresh_token");
    assert_ne!(refresh_1, refresh_2);
    assert!(valid(&engine, &access_2));

    // R24: the old refresh token comes back: refused, and the whole grant is revoked.
    let r = refresh(&engine, &refresh_1);
    assert_eq!((r.status, error_code(&r).as_str()), (400, "invalid_grant"));
    assert!(!valid(&engine, &access));
    assert!(!valid(&engine, &access_2));
    let r = refresh(&engine, &refresh_2);
    assert_eq!(error_code(&r), "invalid_grant", "{}", r.body);

    // R17: a replayed code is refused and revokes what it issued.
    let code = authorize(&engine);
    let r = redeem(&engine, &code);
    assert_eq!(r.status, 200, "{}", r.body);
    let access_3 = field(&r, "access_token");
    let refresh_3 = field(&r, "refresh_token");
    let r = redeem(&engine, &code);
    assert_eq!((r.status, error_code(&r).as_str()), (400, "invalid_grant"));
    assert!(!valid(&engine, &access_3));
    assert_eq!(error_code(&refresh(&engine, &refresh_3)), "invalid_grant");

    // Revocation endpoint (RFC 7009): revoking a refresh token ends its grant.
    let code = authorize(&engine);
    let r = redeem(&engine, &code);
    let access_4 = field(&r, "access_token");
    let refresh_4 = field(&r, "refresh_token");
    let r = post(
        &engine,
        "/revoke",
        &form(&[
            ("token", &refresh_4),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!valid(&engine, &access_4));
    assert_eq!(error_code(&refresh(&engine, &refresh_4)), "invalid_grant");

    // Client credentials.
    let r = client_credentials(&engine);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(valid(&engine, &field(&r, "access_token")));
    assert!(!valid(&engine, "not-a-token"));
}

mod memory {
    #[test]
    fn code_pkce_refresh_flow_r17_r24() {
        super::code_pkce_refresh_flow_r17_r24(super::memory());
    }
}
mod sqlite {
    #[test]
    fn code_pkce_refresh_flow_r17_r24() {
        super::code_pkce_refresh_flow_r17_r24(super::sqlite());
    }
}
mod redis {
    #[test]
    fn code_pkce_refresh_flow_r17_r24() {
        super::code_pkce_refresh_flow_r17_r24(super::redis());
    }
}

/// Stop the server, start it again on the same file: issued tokens still validate, a consumed
/// code stays consumed (and its replay still revokes), a pending code can still be redeemed.
#[test]
fn sqlite_survives_restart_r17() {
    let path = sqlite_path("restart");
    let (access, refresh_token, used_code, pending_code);
    {
        let f = sqlite_at(&path);
        register_client(&f.backend);
        let engine = engine(&f.backend);
        used_code = authorize(&engine);
        let r = redeem(&engine, &used_code);
        assert_eq!(r.status, 200, "{}", r.body);
        access = field(&r, "access_token");
        refresh_token = field(&r, "refresh_token");
        pending_code = authorize(&engine);
        // Engine and store (with every pooled connection) are dropped here.
    }
    let f = sqlite_at(&path);
    let engine = engine(&f.backend);
    assert!(valid(&engine, &access));
    let r = redeem(&engine, &pending_code);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = refresh(&engine, &refresh_token);
    assert_eq!(r.status, 200, "{}", r.body);
    let rotated = field(&r, "access_token");
    assert!(valid(&engine, &rotated));
    // The code consumed before the restart is still consumed, and its replay ends the grant.
    let r = redeem(&engine, &used_code);
    assert_eq!(error_code(&r), "invalid_grant", "{}", r.body);
    assert!(!valid(&engine, &access));
    assert!(!valid(&engine, &rotated));
}

#[test]
fn sqlite_schema_is_created_once_and_versioned() {
    let path = sqlite_path("schema");
    let a = sqlite_at(&path);
    let b = sqlite_at(&path);
    for f in [&a, &b] {
        let Backend::Sqlite(s) = &f.backend else {
            unreachable!()
        };
        assert_eq!(
            s.schema_version().unwrap(),
            oauth2_engine::store::sqlite::SCHEMA_VERSION
        );
    }
}

#[test]
fn sqlite_refuses_a_newer_schema_and_a_non_database() {
    let path = sqlite_path("newer");
    drop(sqlite_at(&path));
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE schema_version SET version = 999", [])
        .unwrap();
    drop(conn);
    let cfg = BackendConfig::Sqlite(oauth2_engine::store::SqliteConfig::new(
        path.to_str().unwrap(),
    ));
    let err = open(&cfg).unwrap_err();
    assert!(err.0.contains("newer"), "{err}");

    let junk = sqlite_path("junk");
    std::fs::write(&junk, b"this is not a database, just some bytes ....").unwrap();
    let cfg = BackendConfig::Sqlite(oauth2_engine::store::SqliteConfig::new(
        junk.to_str().unwrap(),
    ));
    assert!(open(&cfg).is_err());
    for bad in ["", ":memory:"] {
        let cfg = BackendConfig::Sqlite(oauth2_engine::store::SqliteConfig::new(bad));
        assert!(open(&cfg).is_err(), "{bad:?}");
    }
}

/// The part a child process plays in the multi-process tests below: open the backend given in
/// the environment, then redeem the code or refresh the token given there, and print the outcome.
fn child_part() -> bool {
    let Ok(config) = std::env::var("O2E_CHILD_BACKEND") else {
        return false;
    };
    let config: BackendConfig = serde_json::from_str(&config).unwrap();
    let backend = open(&config).unwrap();
    let engine = engine(&backend);
    // Line the children up so that they really run at once.
    let start: i64 = std::env::var("O2E_CHILD_START_MS")
        .unwrap()
        .parse()
        .unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    if start > now_ms {
        std::thread::sleep(std::time::Duration::from_millis((start - now_ms) as u64));
    }
    let r = if let Ok(code) = std::env::var("O2E_CHILD_CODE") {
        redeem(&engine, &code)
    } else {
        refresh(&engine, &std::env::var("O2E_CHILD_REFRESH").unwrap())
    };
    let outcome = if r.status == 200 {
        format!("won {}", field(&r, "access_token"))
    } else {
        format!("lost {}", error_code(&r))
    };
    println!("\nRESULT:{outcome}");
    true
}

/// Four processes redeem one code at once, then four refresh one token at once: one winner
/// each; the winner's token is valid in this process too; the losers' replay ended the grant.
fn processes_race(test_name: &str, f: &Fixture) {
    register_client(&f.backend);
    let engine = engine(&f.backend);
    let config = serde_json::to_string(&f.config).unwrap();
    let start = || {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        // Child start-up (a process exec and an engine) takes far less than this.
        (now_ms + 1500).to_string()
    };

    // A code issued here, redeemed over there.
    let code = authorize(&engine);
    let out = run_children(
        test_name,
        &[
            ("O2E_CHILD_BACKEND", config.clone()),
            ("O2E_CHILD_CODE", code.clone()),
            ("O2E_CHILD_START_MS", start()),
        ],
        4,
    );
    let winners: Vec<_> = out.iter().filter_map(|o| o.strip_prefix("won ")).collect();
    assert_eq!(winners.len(), 1, "{out:?}");
    assert!(
        out.iter()
            .filter(|o| !o.starts_with("won "))
            .all(|o| o == "lost invalid_grant"),
        "{out:?}"
    );
    // The losers replayed the code, which revoked the winner's grant (R17).
    assert!(!valid(&engine, winners[0]));

    // A refresh token issued here, rotated over there: one winner, dead everywhere after.
    let code = authorize(&engine);
    let r = redeem(&engine, &code);
    let refresh_token = field(&r, "refresh_token");
    let out = run_children(
        test_name,
        &[
            ("O2E_CHILD_BACKEND", config),
            ("O2E_CHILD_REFRESH", refresh_token.clone()),
            ("O2E_CHILD_START_MS", start()),
        ],
        4,
    );
    assert_eq!(
        out.iter().filter(|o| o.starts_with("won ")).count(),
        1,
        "{out:?}"
    );
    assert_eq!(
        error_code(&refresh(&engine, &refresh_token)),
        "invalid_grant"
    );
}

#[test]
fn sqlite_processes_share_one_file() {
    if child_part() {
        return;
    }
    let f = sqlite();
    processes_race("sqlite_processes_share_one_file", &f);
}

#[test]
fn redis_processes_share_one_server() {
    if child_part() {
        return;
    }
    let f = redis();
    processes_race("redis_processes_share_one_server", &f);
}

/// A code issued by one process is redeemed by another, whose token this one validates; a
/// refresh token rotated there is dead here.
#[test]
fn redis_code_issued_here_redeemed_there() {
    if child_part() {
        return;
    }
    let f = redis();
    register_client(&f.backend);
    let engine = engine(&f.backend);
    let config = serde_json::to_string(&f.config).unwrap();
    let code = authorize(&engine);
    let out = run_children(
        "redis_code_issued_here_redeemed_there",
        &[
            ("O2E_CHILD_BACKEND", config.clone()),
            ("O2E_CHILD_CODE", code.clone()),
            ("O2E_CHILD_START_MS", "0".into()),
        ],
        1,
    );
    let access = out[0].strip_prefix("won ").expect("redeemed in the child");
    assert!(valid(&engine, access));
    let r = redeem(&engine, &code);
    assert_eq!(error_code(&r), "invalid_grant");
}

#[test]
fn redis_unknown_prefix_sees_nothing() {
    let f = redis();
    register_client(&f.backend);
    let engine_a = engine(&f.backend);
    let r = client_credentials(&engine_a);
    let access = field(&r, "access_token");
    let other = redis();
    let engine_b = engine(&other.backend);
    assert!(!valid(&engine_b, &access));
    assert_eq!(error_code(&client_credentials(&engine_b)), "invalid_client");
    let BackendConfig::Redis(RedisConfig { prefix, .. }) = &other.config else {
        unreachable!()
    };
    assert!(prefix.starts_with("o2e-test:"));
}

/// The JSON form the C configuration and the Python package pass: a backend opened from it
/// registers the clients it lists, and an engine on it serves them.
#[test]
fn backends_open_from_their_json_form_with_clients() {
    let sqlite_file = sqlite_path("json");
    let redis_prefix = format!("o2e-test:{}:", unique_name("json"));
    let _cleanup = RedisCleanup {
        url: REDIS_URL.into(),
        prefix: redis_prefix.clone(),
    };
    let client = serde_json::json!({
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [REDIRECT_URI]
    });
    for json in [
        serde_json::json!({"type": "memory", "clients": [client]}),
        serde_json::json!({"type": "sqlite", "path": sqlite_file, "busy_timeout_ms": 2000,
                           "synchronous": "normal", "clients": [client]}),
        serde_json::json!({"type": "redis", "url": REDIS_URL, "prefix": redis_prefix,
                           "pool_size": 4, "timeout_ms": 500, "connect_timeout_ms": 500,
                           "clients": [client]}),
    ] {
        let config: BackendConfig = serde_json::from_value(json.clone()).unwrap();
        let backend = open(&config).unwrap_or_else(|e| panic!("{json}: {e}"));
        let engine = engine(&backend);
        let r = client_credentials(&engine);
        assert_eq!(r.status, 200, "{json}: {}", r.body);
        let code = authorize(&engine);
        assert_eq!(redeem(&engine, &code).status, 200, "{json}");
    }
}
