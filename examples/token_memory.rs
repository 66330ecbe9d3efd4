//! Resident memory per live token in the memory store: saves N tokens shaped like those of the
//! Python memory benchmark (a UUID-sized access token and refresh token, a user, an expiry) and
//! reads the process's resident size before and after. With `users`, the per-user index (built
//! the first time a unique-token grant asks for a user's token) is turned on first, so every
//! save pays for its entry there too.
//!
//!     cargo run --release --example token_memory -- 1000000 [users]

use oauth2_engine::model::{AccessToken, GrantType};
use oauth2_engine::{Ctx, MemoryStore, TokenStore};
use serde_json::{json, Value};

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// A 36-character token in the shape of a UUID, distinct for each `i` and `salt`.
fn uuid_like(i: u64, salt: u64) -> String {
    let x = (i ^ salt).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let y = x.rotate_left(29) ^ salt;
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        x >> 32,
        x & 0xffff,
        y & 0xfff,
        (y >> 12) & 0xfff,
        (y >> 24) & 0xffff_ffff_ffff
    )
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let users = match std::env::args().nth(2).as_deref() {
        None => false,
        Some("users") => true,
        Some(other) => {
            eprintln!("unknown argument {other:?}: the second argument may only be `users`");
            std::process::exit(2);
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64;
    let store = MemoryStore::new();
    if users {
        let nobody = Value::from("nobody");
        let found = store.fetch_existing_token_of_user(
            "bench-client",
            GrantType::Password,
            &nobody,
            Ctx::NONE,
        );
        assert_eq!(found.expect("memory store lookup"), None);
    }
    let before = rss_kib();
    for i in 0..n {
        let token = uuid_like(i, 0x5eed);
        let t = AccessToken {
            family: format!("py-{token}"),
            token,
            client_id: "bench-client".into(),
            grant_type: GrantType::Password,
            scopes: vec![],
            data: json!({}),
            user_id: Some(Value::String(format!("user-{i}"))),
            expires_at: Some(now + 3600),
            refresh_token: Some(uuid_like(i, 0xfeed)),
            refresh_expires_at: Some(now + 7200),
        };
        store.save_token(&t, Ctx::NONE).expect("memory store save");
    }
    let after = rss_kib();
    assert_eq!(store.token_count() as u64, n, "every token is stored");
    println!(
        "{n} tokens{}: RSS {} -> {} KiB, {} bytes per token",
        if users { " (per-user index on)" } else { "" },
        before,
        after,
        (after - before) * 1024 / n.max(1)
    );
}
