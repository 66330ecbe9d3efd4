//! What the persistent backends leave in their data stores, read with the stores' own clients:
//! SQLite is in WAL mode and its purge really deletes rows; Redis keys carry the records'
//! expiries (so they vanish by themselves) and a revoked family leaves only tombstones.

#[path = "common/stores.rs"]
mod common;

use common::*;
use oauth2_engine::store::Backend;
use oauth2_engine::{AccessToken, AuthorizationCode, Ctx, GrantType, Lookup};
use serde_json::json;

fn token(name: &str, refresh: Option<&str>, exp: Option<i64>, rexp: Option<i64>) -> AccessToken {
    AccessToken {
        token: name.into(),
        client_id: "c".into(),
        grant_type: GrantType::AuthorizationCode,
        scopes: vec![],
        data: json!({}),
        user_id: Some(json!("u")),
        expires_at: exp,
        refresh_token: refresh.map(Into::into),
        refresh_expires_at: rexp,
        family: format!("fam-{name}"),
    }
}

fn code(name: &str, expires_at: i64) -> AuthorizationCode {
    AuthorizationCode {
        code: name.into(),
        client_id: "c".into(),
        redirect_uri: "https://a/cb".into(),
        redirect_uri_given: false,
        scopes: vec![],
        data: json!({}),
        user_id: None,
        expires_at,
        code_challenge: None,
        code_challenge_method: None,
        family: format!("fam-{name}"),
    }
}

#[test]
fn sqlite_is_wal_and_purge_deletes_rows() {
    let path = sqlite_path("layout");
    let f = sqlite_at(&path);
    let s = f.backend.storage();
    let t = now();
    s.codes.save_code(&code("old", t - 1), Ctx::NONE).unwrap();
    s.codes.save_code(&code("new", t + 600), Ctx::NONE).unwrap();
    s.tokens
        .save_token(&token("dead", None, Some(t - 1), None), Ctx::NONE)
        .unwrap();
    s.tokens
        .save_token(
            &token("rt-never", Some("r1"), Some(t + 60), None),
            Ctx::NONE,
        )
        .unwrap();
    assert!(matches!(
        s.tokens.consume_refresh_token("r1", Ctx::NONE).unwrap(),
        Lookup::Found(_)
    ));

    let db = rusqlite::Connection::open(&path).unwrap();
    let count = |table: &str| -> i64 {
        db.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    let mode: String = db
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!((count("codes"), count("tokens")), (2, 2));
    assert_eq!(count("used_refresh_tokens"), 1);

    f.backend.purge_expired(t).unwrap();
    assert_eq!((count("codes"), count("tokens")), (1, 1));
    // The used refresh token without expiry is remembered for 30 days, then purged.
    f.backend.purge_expired(t + 31 * 24 * 3600).unwrap();
    assert_eq!(
        (
            count("codes"),
            count("tokens"),
            count("used_refresh_tokens")
        ),
        (0, 0, 0)
    );
}

fn ttl(c: &mut redis::Connection, key: &str) -> i64 {
    redis::cmd("TTL").arg(key).query(c).unwrap()
}

#[test]
fn redis_keys_carry_the_records_expiries() {
    let f = redis();
    let Backend::Redis(r) = &f.backend else {
        unreachable!()
    };
    let p = r.prefix().to_owned();
    let s = f.backend.storage();
    let t = now();
    let mut c = redis::Client::open(REDIS_URL)
        .unwrap()
        .get_connection()
        .unwrap();

    s.codes.save_code(&code("k1", t + 600), Ctx::NONE).unwrap();
    let code_ttl = ttl(&mut c, &format!("{p}code:k1"));
    assert!((500..=600).contains(&code_ttl), "{code_ttl}");
    s.codes.consume_code("k1", Ctx::NONE).unwrap();
    // The tombstone keeps the code's expiry.
    assert!(ttl(&mut c, &format!("{p}code:k1")) > 0);

    s.tokens
        .save_token(
            &token("a1", Some("r1"), Some(t + 600), Some(t + 3600)),
            Ctx::NONE,
        )
        .unwrap();
    let at = ttl(&mut c, &format!("{p}at:a1"));
    let rt = ttl(&mut c, &format!("{p}rt:r1"));
    let fam = ttl(&mut c, &format!("{p}fam:fam-a1"));
    let uq = ttl(&mut c, &format!("{p}uq:c_authorization_code_u"));
    assert!((500..=600).contains(&at), "{at}");
    assert!((3500..=3600).contains(&rt), "{rt}");
    assert!((3500..=3600).contains(&fam), "{fam}");
    assert!((500..=600).contains(&uq), "{uq}");

    // No expiry: no TTL on the token, nor on its family.
    s.tokens
        .save_token(&token("a2", Some("r2"), None, None), Ctx::NONE)
        .unwrap();
    assert_eq!(ttl(&mut c, &format!("{p}at:a2")), -1);
    assert_eq!(ttl(&mut c, &format!("{p}fam:fam-a2")), -1);
    // Used, a refresh token without expiry is remembered for 30 days.
    s.tokens.consume_refresh_token("r2", Ctx::NONE).unwrap();
    let tomb = ttl(&mut c, &format!("{p}rt:r2"));
    assert!((29 * 86400..=30 * 86400).contains(&tomb), "{tomb}");

    // A revoked family leaves only the tombstones of what was used, and a marker that refuses
    // later saves in the family for 30 days.
    s.tokens.revoke_family("fam-a1", Ctx::NONE).unwrap();
    s.tokens.revoke_family("fam-a2", Ctx::NONE).unwrap();
    let mut left = redis_keys(&mut c, &p);
    left.sort();
    assert_eq!(
        left,
        vec![
            format!("{p}code:k1"),
            format!("{p}famrev:fam-a1"),
            format!("{p}famrev:fam-a2"),
            format!("{p}rt:r2")
        ]
    );
    let marker = ttl(&mut c, &format!("{p}famrev:fam-a1"));
    assert!((29 * 86400..=30 * 86400).contains(&marker), "{marker}");

    // Already expired when saved: gone at once.
    s.tokens
        .save_token(&token("a3", None, Some(t - 1), None), Ctx::NONE)
        .unwrap();
    assert_eq!(
        s.tokens.fetch_by_access_token("a3", Ctx::NONE).unwrap(),
        None
    );
}

#[test]
fn sqlite_version_1_file_is_migrated_to_revoked_families() {
    let path = sqlite_path("migrate");
    drop(sqlite_at(&path));
    // Turn the new file back into what version 1 of the library wrote.
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch("DROP TABLE revoked_families; UPDATE schema_version SET version = 1;")
        .unwrap();
    drop(db);

    let f = sqlite_at(&path);
    let s = f.backend.storage();
    s.tokens.revoke_family("fam-m", Ctx::NONE).unwrap();
    let mut late = token("m", None, None, None);
    late.family = "fam-m".into();
    s.tokens.save_token(&late, Ctx::NONE).unwrap();
    assert_eq!(
        s.tokens.fetch_by_access_token("m", Ctx::NONE).unwrap(),
        None
    );
    let db = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = db
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);
}
