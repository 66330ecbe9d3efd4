//! The storage contract (ARCHITECTURE.md, "Storage contract"), written once and run against
//! every native backend: memory, SQLite and Redis (the real server on 127.0.0.1:6379); and
//! against the C store of tests/c/store.c driven through the engine's callback adapter, the path
//! every C host's storage takes.

#[path = "common/stores.rs"]
mod common;
#[path = "c/harness.rs"]
mod harness;
#[path = "c/loaded_store.rs"]
mod loaded_store;

use std::sync::{Arc, Barrier};

use common::{now, Fixture};
use loaded_store::CStore;
use oauth2_engine::store::{Backend, Carried, RefreshCheck};
use oauth2_engine::{
    AccessToken, AuthorizationCode, Client, Ctx, GrantType, Lookup, PkceMethod, ResponseType,
    Storage,
};
use serde_json::json;

const NONE: Ctx<'static> = Ctx::NONE;

fn code(name: &str, family: &str, expires_at: i64) -> AuthorizationCode {
    AuthorizationCode {
        code: name.into(),
        client_id: "c1".into(),
        redirect_uri: "https://a.example/cb?x=1".into(),
        redirect_uri_given: true,
        scopes: vec!["read".into(), "write".into()],
        // Nested, Unicode, big and fractional numbers: records must come back exactly.
        data: json!({"n": {"deep": [1, 2.5, null, true]}, "ü": "ß✓", "big": u64::MAX, "neg": -7}),
        user_id: Some(json!({"id": 7, "realm": "x"})),
        expires_at,
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        code_challenge_method: Some(PkceMethod::S256),
        family: family.into(),
    }
}

fn token(name: &str, refresh: Option<&str>, family: &str) -> AccessToken {
    let now = now();
    AccessToken {
        token: name.into(),
        client_id: "c1".into(),
        grant_type: GrantType::AuthorizationCode,
        scopes: vec!["read".into()],
        data: json!({"k": ["v", 1, 1.25]}),
        user_id: Some(json!("user-1")),
        expires_at: Some(now + 600),
        refresh_expires_at: refresh.map(|_| now + 3600),
        refresh_token: refresh.map(Into::into),
        family: family.into(),
    }
}

/// What the contract needs of a store under test: its [`Storage`], and the client registry,
/// which no storage trait covers (clients are the host's data, registered out of band).
trait Subject {
    fn storage(&self) -> Storage;
    fn add_client(&self, client: &Client);
    fn remove_client(&self, client_id: &str) -> bool;
}

impl Subject for Fixture {
    fn storage(&self) -> Storage {
        self.backend.storage()
    }
    fn add_client(&self, client: &Client) {
        self.backend.add_client(client).unwrap();
    }
    fn remove_client(&self, client_id: &str) -> bool {
        self.backend.remove_client(client_id).unwrap()
    }
}

impl Subject for CStore {
    fn storage(&self) -> Storage {
        CStore::storage(self)
    }
    fn add_client(&self, client: &Client) {
        self.put_client(client);
    }
    fn remove_client(&self, client_id: &str) -> bool {
        CStore::remove_client(self, client_id)
    }
}

fn store(f: &impl Subject) -> Storage {
    f.storage()
}

fn clients_round_trip(f: impl Subject) {
    let s = store(&f);
    assert_eq!(s.clients.fetch_client("nobody", NONE).unwrap(), None);
    let full = Client {
        client_id: "c1".into(),
        client_secret: Some("s3cret".into()),
        client_secret_sha256: Some("ab".repeat(32)),
        redirect_uris: vec!["https://a.example/cb".into(), "http://127.0.0.1/cb".into()],
        grant_types: Some(vec![GrantType::AuthorizationCode, GrantType::RefreshToken]),
        response_types: Some(vec![ResponseType::Code]),
    };
    f.add_client(&full);
    let public = Client::public("pub", vec!["https://p.example/cb".into()]);
    f.add_client(&public);
    assert_eq!(*s.clients.fetch_client("c1", NONE).unwrap().unwrap(), full);
    assert_eq!(
        *s.clients.fetch_client("pub", NONE).unwrap().unwrap(),
        public
    );
    // Replacing keeps one client with the new record.
    let mut changed = full.clone();
    changed.redirect_uris = vec!["https://b.example/cb".into()];
    f.add_client(&changed);
    assert_eq!(
        *s.clients.fetch_client("c1", NONE).unwrap().unwrap(),
        changed
    );
    assert!(f.remove_client("c1"));
    assert!(!f.remove_client("c1"));
    assert_eq!(s.clients.fetch_client("c1", NONE).unwrap(), None);
    assert!(s.clients.fetch_client("pub", NONE).unwrap().is_some());
}

fn code_is_consumed_once(f: impl Subject) {
    let s = store(&f);
    let c = code("code-1", "fam-1", now() + 600);
    s.codes.save_code(&c, NONE).unwrap();
    // R17: the first take gets the record exactly as saved; later ones see a replay.
    assert_eq!(
        s.codes.consume_code("code-1", NONE).unwrap(),
        Lookup::Found(c)
    );
    for _ in 0..2 {
        assert_eq!(
            s.codes.consume_code("code-1", NONE).unwrap(),
            Lookup::Used {
                family: "fam-1".into()
            }
        );
    }
    assert_eq!(
        s.codes.consume_code("never-issued", NONE).unwrap(),
        Lookup::Missing
    );
    assert_eq!(s.codes.consume_code("", NONE).unwrap(), Lookup::Missing);
}

fn expired_codes_are_purged(f: Fixture) {
    let s = store(&f);
    let t = now();
    s.codes
        .save_code(&code("old", "f-old", t - 5), NONE)
        .unwrap();
    s.codes
        .save_code(&code("new", "f-new", t + 600), NONE)
        .unwrap();
    s.codes
        .save_code(&code("used", "f-used", t - 1), NONE)
        .unwrap();
    f.backend.purge_expired(t).unwrap();
    assert_eq!(s.codes.consume_code("old", NONE).unwrap(), Lookup::Missing);
    assert_eq!(s.codes.consume_code("used", NONE).unwrap(), Lookup::Missing);
    assert!(matches!(
        s.codes.consume_code("new", NONE).unwrap(),
        Lookup::Found(c) if c.family == "f-new"
    ));
}

fn tokens_round_trip(f: impl Subject) {
    let s = store(&f);
    let t = token("at-1", Some("rt-1"), "fam-1");
    s.tokens.save_token(&t, NONE).unwrap();
    let mut no_refresh = token("at-2", None, "fam-2");
    no_refresh.expires_at = None;
    no_refresh.user_id = None;
    no_refresh.data = json!(null);
    no_refresh.grant_type = GrantType::ClientCredentials;
    s.tokens.save_token(&no_refresh, NONE).unwrap();
    assert_eq!(
        s.tokens.fetch_by_access_token("at-1", NONE).unwrap(),
        Some(t.clone())
    );
    assert_eq!(
        s.tokens.fetch_by_access_token("at-2", NONE).unwrap(),
        Some(no_refresh)
    );
    assert_eq!(
        s.tokens.fetch_by_refresh_token("rt-1", NONE).unwrap(),
        Lookup::Found(t.clone())
    );
    // Looking a refresh token up does not use it up.
    assert_eq!(
        s.tokens.fetch_by_refresh_token("rt-1", NONE).unwrap(),
        Lookup::Found(t)
    );
    assert_eq!(s.tokens.fetch_by_access_token("rt-1", NONE).unwrap(), None);
    assert_eq!(
        s.tokens.fetch_by_refresh_token("at-1", NONE).unwrap(),
        Lookup::Missing
    );
    assert_eq!(s.tokens.fetch_by_access_token("nope", NONE).unwrap(), None);
    assert_eq!(
        s.tokens.fetch_by_refresh_token("nope", NONE).unwrap(),
        Lookup::Missing
    );
}

fn refresh_token_is_consumed_once(f: impl Subject) {
    let s = store(&f);
    let t = token("at-1", Some("rt-1"), "fam-1");
    s.tokens.save_token(&t, NONE).unwrap();
    assert_eq!(
        s.tokens.consume_refresh_token("rt-1", NONE).unwrap(),
        Lookup::Found(t.clone())
    );
    let used = Lookup::Used {
        family: "fam-1".into(),
    };
    // R24: a used refresh token is recognised as a replay, both by a take and a lookup.
    assert_eq!(s.tokens.consume_refresh_token("rt-1", NONE).unwrap(), used);
    assert_eq!(s.tokens.fetch_by_refresh_token("rt-1", NONE).unwrap(), used);
    assert_eq!(
        s.tokens.consume_refresh_token("nope", NONE).unwrap(),
        Lookup::Missing
    );
    // The access token issued with it lives on until it expires or is revoked.
    assert_eq!(
        s.tokens.fetch_by_access_token("at-1", NONE).unwrap(),
        Some(t)
    );
}

/// The refresh grant's one-call lookup and use: the check sees the record, a refused record is
/// left untouched, a read without `spend` leaves the token usable, and what a spend carries
/// over comes back exactly.
fn refresh_token_is_redeemed_after_its_check(f: impl Subject) {
    let s = store(&f);
    let t = token("at-1", Some("rt-1"), "fam-1");
    s.tokens.save_token(&t, NONE).unwrap();
    let mut seen = Vec::new();
    let mut refuse = |c: &RefreshCheck<'_>| {
        seen.push((
            c.client_id.to_owned(),
            c.scopes.to_vec(),
            c.refresh_expires_at,
        ));
        false
    };
    assert_eq!(
        s.tokens
            .redeem_refresh_token("rt-1", true, &mut refuse, NONE)
            .unwrap(),
        Lookup::Missing
    );
    assert_eq!(
        seen,
        [("c1".to_owned(), t.scopes.clone(), t.refresh_expires_at)]
    );
    let carried = Carried {
        grant_type: t.grant_type,
        data: t.data.clone(),
        user_id: t.user_id.clone(),
        family: t.family.clone(),
    };
    // Refused, then read without spending: still live both times.
    let mut accept = |_: &RefreshCheck<'_>| true;
    assert_eq!(
        s.tokens
            .redeem_refresh_token("rt-1", false, &mut accept, NONE)
            .unwrap(),
        Lookup::Found(carried.clone())
    );
    assert_eq!(
        s.tokens.fetch_by_refresh_token("rt-1", NONE).unwrap(),
        Lookup::Found(t.clone())
    );
    assert_eq!(
        s.tokens
            .redeem_refresh_token("rt-1", true, &mut accept, NONE)
            .unwrap(),
        Lookup::Found(carried)
    );
    // Spent: a replay, whichever way it comes back, and the check is not asked again.
    fn used<T>() -> Lookup<T> {
        Lookup::Used {
            family: "fam-1".into(),
        }
    }
    let mut never = |_: &RefreshCheck<'_>| -> bool { panic!("a used token was checked") };
    assert_eq!(
        s.tokens
            .redeem_refresh_token("rt-1", true, &mut never, NONE)
            .unwrap(),
        used()
    );
    assert_eq!(
        s.tokens.consume_refresh_token("rt-1", NONE).unwrap(),
        used()
    );
    assert_eq!(
        s.tokens
            .redeem_refresh_token("nope", true, &mut never, NONE)
            .unwrap(),
        Lookup::Missing
    );
    // A token of a revoked family is gone.
    s.tokens
        .save_token(&token("at-2", Some("rt-2"), "fam-2"), NONE)
        .unwrap();
    s.tokens.revoke_family("fam-2", NONE).unwrap();
    assert!(!matches!(
        s.tokens
            .redeem_refresh_token("rt-2", true, &mut accept, NONE)
            .unwrap(),
        Lookup::Found(_)
    ));
}

fn revoke_by_access_or_refresh_token(f: impl Subject) {
    let s = store(&f);
    s.tokens
        .save_token(&token("at-1", Some("rt-1"), "f1"), NONE)
        .unwrap();
    s.tokens
        .save_token(&token("at-2", Some("rt-2"), "f2"), NONE)
        .unwrap();
    s.tokens
        .save_token(&token("at-3", Some("rt-3"), "f3"), NONE)
        .unwrap();
    // By access token: the whole record goes, its refresh token too.
    s.tokens.revoke_token("at-1", NONE).unwrap();
    assert_eq!(s.tokens.fetch_by_access_token("at-1", NONE).unwrap(), None);
    assert_eq!(
        s.tokens.fetch_by_refresh_token("rt-1", NONE).unwrap(),
        Lookup::Missing
    );
    // By refresh token: the same.
    s.tokens.revoke_token("rt-2", NONE).unwrap();
    assert_eq!(s.tokens.fetch_by_access_token("at-2", NONE).unwrap(), None);
    assert_eq!(
        s.tokens.fetch_by_refresh_token("rt-2", NONE).unwrap(),
        Lookup::Missing
    );
    // Unknown tokens are no error, and others are untouched.
    s.tokens.revoke_token("unknown", NONE).unwrap();
    s.tokens.revoke_token("at-1", NONE).unwrap();
    assert!(s
        .tokens
        .fetch_by_access_token("at-3", NONE)
        .unwrap()
        .is_some());
    assert!(matches!(
        s.tokens.fetch_by_refresh_token("rt-3", NONE).unwrap(),
        Lookup::Found(_)
    ));
}

fn revoke_family_kills_the_grant_but_remembers_replays(f: impl Subject) {
    let s = store(&f);
    // A grant that was refreshed once: rt-a is used, rt-b live.
    s.tokens
        .save_token(&token("at-a", Some("rt-a"), "fam"), NONE)
        .unwrap();
    assert!(matches!(
        s.tokens.consume_refresh_token("rt-a", NONE).unwrap(),
        Lookup::Found(_)
    ));
    s.tokens
        .save_token(&token("at-b", Some("rt-b"), "fam"), NONE)
        .unwrap();
    s.tokens
        .save_token(&token("at-c", None, "fam"), NONE)
        .unwrap();
    s.tokens
        .save_token(&token("at-x", Some("rt-x"), "other"), NONE)
        .unwrap();

    s.tokens.revoke_family("fam", NONE).unwrap();
    for at in ["at-a", "at-b", "at-c"] {
        assert_eq!(
            s.tokens.fetch_by_access_token(at, NONE).unwrap(),
            None,
            "{at}"
        );
    }
    assert_eq!(
        s.tokens.fetch_by_refresh_token("rt-b", NONE).unwrap(),
        Lookup::Missing
    );
    assert_eq!(
        s.tokens.consume_refresh_token("rt-b", NONE).unwrap(),
        Lookup::Missing
    );
    // The used one still reads as a replay of this family.
    assert_eq!(
        s.tokens.consume_refresh_token("rt-a", NONE).unwrap(),
        Lookup::Used {
            family: "fam".into()
        }
    );
    // Other families are untouched; revoking an unknown or emptied family is no error.
    assert!(s
        .tokens
        .fetch_by_access_token("at-x", NONE)
        .unwrap()
        .is_some());
    assert!(matches!(
        s.tokens.fetch_by_refresh_token("rt-x", NONE).unwrap(),
        Lookup::Found(_)
    ));
    s.tokens.revoke_family("fam", NONE).unwrap();
    s.tokens.revoke_family("no-such-family", NONE).unwrap();
}

/// The race of R17: the loser of a code's redemption replays it and revokes the family before
/// the winner has saved its token. The winner's token must be dead all the same.
fn token_saved_after_its_family_was_revoked_is_dead(f: impl Subject) {
    let s = store(&f);
    s.tokens.revoke_family("late", NONE).unwrap();
    s.tokens
        .save_token(&token("at-late", Some("rt-late"), "late"), NONE)
        .unwrap();
    assert_eq!(
        s.tokens.fetch_by_access_token("at-late", NONE).unwrap(),
        None
    );
    assert_eq!(
        s.tokens.fetch_by_refresh_token("rt-late", NONE).unwrap(),
        Lookup::Missing
    );
    assert_eq!(
        s.tokens.consume_refresh_token("rt-late", NONE).unwrap(),
        Lookup::Missing
    );
}

fn unique_token_lookup(f: impl Subject) {
    let s = store(&f);
    let user = json!("user-1");
    let first = token("at-1", None, "f1");
    let mut second = token("at-2", None, "f2");
    second.scopes = vec!["read".into(), "write".into()];
    s.tokens.save_token(&first, NONE).unwrap();
    s.tokens.save_token(&second, NONE).unwrap();
    let mut other_grant = token("at-3", None, "f3");
    other_grant.grant_type = GrantType::Password;
    s.tokens.save_token(&other_grant, NONE).unwrap();
    // The newest of this user, client and grant.
    assert_eq!(
        s.tokens
            .fetch_existing_token_of_user("c1", GrantType::AuthorizationCode, &user, NONE)
            .unwrap(),
        Some(second)
    );
    assert_eq!(
        s.tokens
            .fetch_existing_token_of_user("c1", GrantType::Password, &user, NONE)
            .unwrap(),
        Some(other_grant)
    );
    for (client, grant, u) in [
        ("c2", GrantType::AuthorizationCode, json!("user-1")),
        ("c1", GrantType::ClientCredentials, json!("user-1")),
        ("c1", GrantType::AuthorizationCode, json!("user-2")),
    ] {
        assert_eq!(
            s.tokens
                .fetch_existing_token_of_user(client, grant, &u, NONE)
                .unwrap(),
            None
        );
    }
    // A revoked token is never handed out again.
    s.tokens.revoke_token("at-2", NONE).unwrap();
    let after = s
        .tokens
        .fetch_existing_token_of_user("c1", GrantType::AuthorizationCode, &user, NONE)
        .unwrap();
    assert!(after.is_none_or(|t| t.token != "at-2"));
}

fn expired_tokens_are_purged(f: Fixture) {
    let s = store(&f);
    let t = now();
    let mut dead = token("at-dead", None, "f1");
    dead.expires_at = Some(t - 10);
    s.tokens.save_token(&dead, NONE).unwrap();
    // Expired access token, live refresh token: the refresh token must survive.
    let mut refreshable = token("at-old", Some("rt-live"), "f2");
    refreshable.expires_at = Some(t - 10);
    s.tokens.save_token(&refreshable, NONE).unwrap();
    let mut both_dead = token("at-gone", Some("rt-gone"), "f3");
    both_dead.expires_at = Some(t - 10);
    both_dead.refresh_expires_at = Some(t - 5);
    s.tokens.save_token(&both_dead, NONE).unwrap();
    let mut forever = token("at-forever", None, "f4");
    forever.expires_at = None;
    s.tokens.save_token(&forever, NONE).unwrap();

    f.backend.purge_expired(t).unwrap();
    assert_eq!(
        s.tokens.fetch_by_access_token("at-dead", NONE).unwrap(),
        None
    );
    assert_eq!(
        s.tokens.fetch_by_refresh_token("rt-gone", NONE).unwrap(),
        Lookup::Missing
    );
    assert_eq!(
        s.tokens.fetch_by_refresh_token("rt-live", NONE).unwrap(),
        Lookup::Found(refreshable)
    );
    assert_eq!(
        s.tokens.fetch_by_access_token("at-forever", NONE).unwrap(),
        Some(forever)
    );
}

/// 8 threads take the same value at once, 20 times over: exactly one wins each time, and every
/// loser sees a replay of the right family.
fn race<T: std::fmt::Debug + Send>(
    rounds: usize,
    setup: impl Fn(usize) -> String,
    take: impl Fn(&str) -> Lookup<T> + Sync,
    family: impl Fn(usize) -> String,
) {
    const THREADS: usize = 8;
    for round in 0..rounds {
        let value = setup(round);
        let barrier = Barrier::new(THREADS);
        let results: Vec<Lookup<T>> = std::thread::scope(|sc| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    sc.spawn(|| {
                        barrier.wait();
                        take(&value)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners = results
            .iter()
            .filter(|r| matches!(r, Lookup::Found(_)))
            .count();
        assert_eq!(winners, 1, "round {round}: {results:?}");
        for r in &results {
            if let Lookup::Used { family: f } = r {
                assert_eq!(*f, family(round));
            } else {
                assert!(matches!(r, Lookup::Found(_)), "round {round}: {r:?}");
            }
        }
    }
}

/// The same race through the refresh grant's own call, with a check that accepts.
fn eight_threads_redeem_one_refresh_token_after_its_check(f: impl Subject) {
    let s = store(&f);
    race_for_refresh_tokens(&s, "race-check", |rt| {
        let mut accept = |c: &RefreshCheck<'_>| c.client_id == "c1";
        s.tokens
            .redeem_refresh_token(rt, true, &mut accept, NONE)
            .unwrap()
    });
}

fn eight_threads_redeem_one_code(f: impl Subject) {
    let s = store(&f);
    race(
        20,
        |i| {
            let name = format!("race-code-{i}");
            s.codes
                .save_code(&code(&name, &format!("fam-{i}"), now() + 600), NONE)
                .unwrap();
            name
        },
        |c| s.codes.consume_code(c, NONE).unwrap(),
        |i| format!("fam-{i}"),
    );
}

fn eight_threads_redeem_one_refresh_token(f: impl Subject) {
    let s = store(&f);
    race_for_refresh_tokens(&s, "race", |rt| {
        s.tokens.consume_refresh_token(rt, NONE).unwrap()
    });
}

/// [`race`] over fresh refresh tokens named after `prefix`, each of its own family, taken by
/// `take`.
fn race_for_refresh_tokens<T: std::fmt::Debug + Send>(
    s: &Storage,
    prefix: &str,
    take: impl Fn(&str) -> Lookup<T> + Sync,
) {
    race(
        20,
        |i| {
            let rt = format!("{prefix}-rt-{i}");
            let family = format!("fam-{i}");
            let t = token(&format!("{prefix}-at-{i}"), Some(&rt), &family);
            s.tokens.save_token(&t, NONE).unwrap();
            rt
        },
        take,
        |i| format!("fam-{i}"),
    );
}

/// Two handles on the same data (two stores on one SQLite file, two stores on one Redis
/// prefix: what two processes have) see each other's writes and race fairly.
fn second_handle_shares_everything(a: &Backend, b: &Backend) {
    let (sa, sb) = (a.storage(), b.storage());
    a.add_client(&Client::public("shared", vec![])).unwrap();
    assert!(sb.clients.fetch_client("shared", NONE).unwrap().is_some());
    sa.codes
        .save_code(&code("shared-code", "sf", now() + 600), NONE)
        .unwrap();
    assert!(matches!(
        sb.codes.consume_code("shared-code", NONE).unwrap(),
        Lookup::Found(_)
    ));
    assert!(matches!(
        sa.codes.consume_code("shared-code", NONE).unwrap(),
        Lookup::Used { .. }
    ));
    sa.tokens
        .save_token(&token("shared-at", Some("shared-rt"), "sf"), NONE)
        .unwrap();
    assert!(matches!(
        sb.tokens.consume_refresh_token("shared-rt", NONE).unwrap(),
        Lookup::Found(_)
    ));
    assert!(matches!(
        sa.tokens.fetch_by_refresh_token("shared-rt", NONE).unwrap(),
        Lookup::Used { .. }
    ));
    sb.tokens.revoke_family("sf", NONE).unwrap();
    assert_eq!(
        sa.tokens.fetch_by_access_token("shared-at", NONE).unwrap(),
        None
    );
    // A race between the two handles still has one winner.
    let handles = [sa, sb];
    race(
        10,
        |i| {
            let name = format!("x-code-{i}");
            handles[i % 2]
                .codes
                .save_code(&code(&name, "xf", now() + 600), NONE)
                .unwrap();
            name
        },
        {
            let n = std::sync::atomic::AtomicUsize::new(0);
            let handles = Arc::new(handles.clone());
            move |c| {
                let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                handles[i % 2].codes.consume_code(c, NONE).unwrap()
            }
        },
        |_| "xf".into(),
    );
}

/// How each backend is opened on fresh ground, by the name of its test module.
mod open {
    pub use super::common::{memory, redis, sqlite};

    pub fn callbacks() -> super::CStore {
        super::CStore::new()
    }
}

macro_rules! contract {
    ($backend:ident: $($test:ident),* $(,)?) => {
        mod $backend {
            $(
                #[test]
                fn $test() {
                    super::$test(super::open::$backend());
                }
            )*
        }
    };
}

/// The whole contract for a backend, or (after `;`) the part every store keeps plus the extra
/// tests named.
macro_rules! all_contract_tests {
    ($backend:ident) => {
        all_contract_tests!($backend; expired_codes_are_purged, expired_tokens_are_purged);
    };
    ($backend:ident; $($extra:ident),* $(,)?) => {
        contract!($backend:
            clients_round_trip,
            code_is_consumed_once,
            tokens_round_trip,
            refresh_token_is_consumed_once,
            refresh_token_is_redeemed_after_its_check,
            revoke_by_access_or_refresh_token,
            revoke_family_kills_the_grant_but_remembers_replays,
            token_saved_after_its_family_was_revoked_is_dead,
            unique_token_lookup,
            eight_threads_redeem_one_code,
            eight_threads_redeem_one_refresh_token,
            eight_threads_redeem_one_refresh_token_after_its_check,
            $($extra,)*
        );
    };
}

all_contract_tests!(memory);
all_contract_tests!(sqlite);
all_contract_tests!(redis);
// Purging expired records is not part of the callback contract: the engine has no purge
// operation to call, and docs/c-api.md leaves it to the host "when convenient". A purge written
// into the C store would test that C code, not the engine, so the two purge tests do not run
// here.
all_contract_tests!(callbacks;);

#[test]
fn sqlite_two_stores_on_one_file_share_everything() {
    let path = common::sqlite_path("shared");
    let a = common::sqlite_at(&path);
    let b = common::sqlite_at(&path);
    second_handle_shares_everything(&a.backend, &b.backend);
}

#[test]
fn redis_two_stores_on_one_prefix_share_everything() {
    let a = common::redis();
    let Backend::Redis(r) = &a.backend else {
        unreachable!()
    };
    let b = common::redis_with_prefix(r.prefix());
    second_handle_shares_everything(&a.backend, &b.backend);
}

/// `storage_from_callbacks` takes the host's userdata only when it succeeds, and frees it once,
/// with the last handle on the storage.
#[test]
fn callbacks_storage_owns_userdata_only_once_built() {
    use oauth2_engine::ffi::{self, o2e_callbacks, o2e_sink, storage_from_callbacks};
    use std::ffi::{c_char, c_int, c_void};
    use std::sync::atomic::{AtomicUsize, Ordering};

    static FREED: AtomicUsize = AtomicUsize::new(0);
    static FREED_WHAT: AtomicUsize = AtomicUsize::new(0);
    const USERDATA: usize = 0x5eed;

    extern "C" fn count_free(userdata: *mut c_void) {
        FREED_WHAT.store(userdata as usize, Ordering::SeqCst);
        FREED.fetch_add(1, Ordering::SeqCst);
    }
    // Never dereferences its userdata (a plain number here): every operation fails.
    extern "C" fn fail(
        _: *mut c_void,
        _: *mut c_void,
        _: *const c_char,
        _: usize,
        _: *mut o2e_sink,
    ) -> c_int {
        ffi::O2E_CB_ERROR
    }

    // SAFETY: a zeroed struct is the documented start (NULL = not implemented); every set
    // callback is a valid, thread-safe function that ignores its userdata.
    let mut cb: o2e_callbacks = unsafe { std::mem::zeroed() };
    cb.abi_version = ffi::O2E_CALLBACKS_ABI_VERSION;
    cb.userdata = USERDATA as *mut c_void;
    cb.free_userdata = Some(count_free);
    cb.fetch_client = Some(fail);
    cb.save_code = Some(fail);
    cb.consume_code = Some(fail);
    cb.save_token = Some(fail);
    cb.fetch_by_access_token = Some(fail);
    cb.fetch_by_refresh_token = Some(fail);
    cb.consume_refresh_token = Some(fail);
    cb.fetch_existing_token_of_user = Some(fail);
    cb.revoke_token = Some(fail);

    // SAFETY (all three calls): as above.
    let Err(e) = (unsafe { storage_from_callbacks(&cb) }) else {
        panic!("accepted despite: revoke_family missing");
    };
    assert!(e.0.contains("revoke_family"), "{e}");
    cb.revoke_family = Some(fail);
    cb.abi_version = ffi::O2E_CALLBACKS_ABI_VERSION + 1;
    let Err(e) = (unsafe { storage_from_callbacks(&cb) }) else {
        panic!("accepted despite: ABI mismatch");
    };
    assert!(e.0.contains("abi_version"), "{e}");
    assert_eq!(
        FREED.load(Ordering::SeqCst),
        0,
        "a refusal took the userdata"
    );

    cb.abi_version = ffi::O2E_CALLBACKS_ABI_VERSION;
    let storage = unsafe { storage_from_callbacks(&cb) }.expect("all storage callbacks set");
    let clone = storage.clone();
    drop(storage);
    // A failing callback is a host error, not a panic or a "not found".
    assert!(clone.clients.fetch_client("app", NONE).is_err());
    assert!(clone.codes.consume_code("c", NONE).is_err());
    assert_eq!(
        FREED.load(Ordering::SeqCst),
        0,
        "freed while a handle lives"
    );
    drop(clone);
    assert_eq!(FREED.load(Ordering::SeqCst), 1);
    assert_eq!(FREED_WHAT.load(Ordering::SeqCst), USERDATA);
}
