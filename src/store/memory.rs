//! The in-memory backend: the default store, thread-safe without a global lock.
//!
//! Each map is split into shards, each behind its own mutex, so concurrent requests for
//! different tokens rarely meet. Single-use tokens are taken under their shard's lock, which is
//! what makes `consume_*` atomic. Each shard keeps its entries' deadlines in a min-heap: every
//! write drops a few expired entries of the shard it touched, so expiry costs O(log n) per entry
//! and no request ever sweeps a whole shard.
//!
//! Grant families are not indexed (that would cost every token an entry): revoking a family
//! records its id, and records of a revoked family are treated as gone when they are next
//! looked up, and dropped by the purge. Revocations are rare security events, so the set stays
//! small, and while it is empty a lookup does not even consult it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use serde_json::Value;

use super::{unique_key, ClientStore, CodeStore, TokenStore};
use crate::clock::{Clock, SystemClock};
use crate::error::HostError;
use crate::http::Ctx;
use crate::model::{AccessToken, AuthorizationCode, Client, GrantType, Lookup};

const SHARDS: usize = 32;
/// At most this many expired entries are dropped by one write, to bound its latency.
const EXPIRE_PER_WRITE: usize = 4;
/// How long a used refresh token without an expiry is remembered, to recognise its replay.
const TOMBSTONE_SECS: i64 = 30 * 24 * 3600;

/// When an entry may be forgotten (`None`: not by time).
trait Deadline {
    fn deadline(&self) -> Option<i64>;
}

/// One shard: the entries, and a heap of (deadline, key) with the earliest on top. A key may be
/// in the heap more than once (its deadline changed); only the entry's current deadline counts.
struct Shard<V> {
    map: HashMap<String, V>,
    queue: BinaryHeap<Reverse<(i64, String)>>,
}

impl<V: Deadline> Shard<V> {
    fn insert(&mut self, key: String, value: V) {
        if let Some(d) = value.deadline() {
            self.queue.push(Reverse((d, key.clone())));
        }
        self.map.insert(key, value);
    }

    /// Queues `key` again after its entry's deadline changed.
    fn reschedule(&mut self, key: &str) {
        if let Some(d) = self.map.get(key).and_then(Deadline::deadline) {
            self.queue.push(Reverse((d, key.to_owned())));
        }
    }

    /// Removes up to `limit` entries whose deadline is at or before `now`; returns them.
    fn expire(&mut self, now: i64, limit: usize) -> Vec<V> {
        let mut gone = Vec::new();
        while gone.len() < limit {
            match self.queue.peek() {
                Some(Reverse((d, _))) if *d <= now => {}
                _ => break,
            }
            let Some(Reverse((_, key))) = self.queue.pop() else {
                break;
            };
            let due = self
                .map
                .get(&key)
                .and_then(Deadline::deadline)
                .is_some_and(|d| d <= now);
            if due {
                if let Some(v) = self.map.remove(&key) {
                    gone.push(v);
                }
            }
        }
        gone
    }
}

impl<V> std::ops::Deref for Shard<V> {
    type Target = HashMap<String, V>;
    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl<V> std::ops::DerefMut for Shard<V> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.map
    }
}

struct Sharded<V> {
    shards: Box<[Mutex<Shard<V>>]>,
}

/// The shard of a key. Keys are mostly random tokens, and each shard's map hashes with its own
/// random seed, so a cheap mix of the first bytes spreads them well; a caller who picks keys to
/// land on one shard only makes its own requests wait.
fn shard_of(key: &str) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key.as_bytes().iter().take(16) {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    (h ^ (h >> 29)) as usize % SHARDS
}

impl<V> Sharded<V> {
    fn new() -> Self {
        Sharded {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        map: HashMap::new(),
                        queue: BinaryHeap::new(),
                    })
                })
                .collect(),
        }
    }

    fn lock_index(&self, i: usize) -> MutexGuard<'_, Shard<V>> {
        // A panic while a shard was held cannot leave a half-written entry (every update is a
        // single map operation), so a poisoned lock is safe to keep using.
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock(&self, key: &str) -> MutexGuard<'_, Shard<V>> {
        self.lock_index(shard_of(key))
    }

    fn len(&self) -> usize {
        (0..SHARDS).map(|i| self.lock_index(i).len()).sum()
    }
}

enum CodeEntry {
    Live(AuthorizationCode),
    Used { family: String, until: i64 },
}

impl Deadline for CodeEntry {
    fn deadline(&self) -> Option<i64> {
        Some(match self {
            CodeEntry::Live(c) => c.expires_at,
            CodeEntry::Used { until, .. } => *until,
        })
    }
}

enum RefreshEntry {
    Live(Arc<AccessToken>),
    Used { family: String, until: i64 },
}

impl Deadline for RefreshEntry {
    fn deadline(&self) -> Option<i64> {
        match self {
            RefreshEntry::Live(t) => t.refresh_expires_at,
            RefreshEntry::Used { until, .. } => Some(*until),
        }
    }
}

impl Deadline for Arc<AccessToken> {
    fn deadline(&self) -> Option<i64> {
        self.dead_after()
    }
}

/// Unique-token entries go when their token does.
impl Deadline for String {
    fn deadline(&self) -> Option<i64> {
        None
    }
}

/// Clients, codes and tokens in this process's memory.
pub struct MemoryStore {
    clients: RwLock<HashMap<String, Arc<Client>>>,
    codes: Sharded<CodeEntry>,
    tokens: Sharded<Arc<AccessToken>>,
    refresh: Sharded<RefreshEntry>,
    unique: Sharded<String>,
    revoked_families: RwLock<HashSet<String>>,
    any_revoked: AtomicBool,
    clock: Arc<dyn Clock>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// A store whose purging follows `clock` (give it the engine's).
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        MemoryStore {
            clients: RwLock::new(HashMap::new()),
            codes: Sharded::new(),
            tokens: Sharded::new(),
            refresh: Sharded::new(),
            unique: Sharded::new(),
            revoked_families: RwLock::new(HashSet::new()),
            any_revoked: AtomicBool::new(false),
            clock,
        }
    }

    /// Registers (or replaces) a client.
    pub fn add_client(&self, client: Client) {
        let mut map = self.clients.write().unwrap_or_else(|p| p.into_inner());
        map.insert(client.client_id.clone(), Arc::new(client));
    }

    /// Removes a client; returns whether it existed.
    pub fn remove_client(&self, client_id: &str) -> bool {
        let mut map = self.clients.write().unwrap_or_else(|p| p.into_inner());
        map.remove(client_id).is_some()
    }

    /// Number of live access-token records (for tests and monitoring).
    pub fn token_count(&self) -> usize {
        self.tokens.len()
    }

    /// Number of code entries, used ones included until they expire.
    pub fn code_count(&self) -> usize {
        self.codes.len()
    }

    /// The live code `code` without using it up (python-oauth2's `fetch_by_code`).
    pub fn peek_code(&self, code: &str) -> Option<AuthorizationCode> {
        match self.codes.lock(code).get(code) {
            Some(CodeEntry::Live(c)) => Some(c.clone()),
            _ => None,
        }
    }

    /// Removes everything that expired at or before `now` (epoch seconds).
    pub fn purge_expired(&self, now: i64) {
        for i in 0..SHARDS {
            self.codes.lock_index(i).expire(now, usize::MAX);
            self.refresh.lock_index(i).expire(now, usize::MAX);
            let dead = self.tokens.lock_index(i).expire(now, usize::MAX);
            for t in dead {
                self.forget_indexes(&t);
            }
        }
    }

    /// Whether `family` was revoked (cheap while nothing ever was).
    fn is_revoked(&self, family: &str) -> bool {
        self.any_revoked.load(Ordering::Acquire)
            && self
                .revoked_families
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .contains(family)
    }

    /// `t` unless its family was revoked, in which case the record is dropped on the way.
    fn live(&self, t: &Arc<AccessToken>) -> Option<AccessToken> {
        if self.is_revoked(&t.family) {
            self.remove_record(t);
            return None;
        }
        Some((**t).clone())
    }

    /// Drops the unique-token entry that points at `t`.
    fn forget_indexes(&self, t: &AccessToken) {
        if let Some(user) = &t.user_id {
            let key = unique_key(&t.client_id, t.grant_type, user);
            let mut shard = self.unique.lock(&key);
            if shard.get(&key).is_some_and(|v| *v == t.token) {
                shard.remove(&key);
            }
        }
    }

    fn remove_record(&self, t: &AccessToken) {
        self.tokens.lock(&t.token).remove(&t.token);
        if let Some(rt) = &t.refresh_token {
            let mut shard = self.refresh.lock(rt);
            if let Some(RefreshEntry::Live(live)) = shard.get(rt) {
                if live.token == t.token {
                    shard.remove(rt);
                }
            }
        }
        self.forget_indexes(t);
    }
}

impl ClientStore for MemoryStore {
    fn fetch_client(
        &self,
        client_id: &str,
        _ctx: Ctx<'_>,
    ) -> Result<Option<Arc<Client>>, HostError> {
        let map = self.clients.read().unwrap_or_else(|p| p.into_inner());
        Ok(map.get(client_id).cloned())
    }
}

impl CodeStore for MemoryStore {
    fn save_code(&self, code: &AuthorizationCode, _ctx: Ctx<'_>) -> Result<(), HostError> {
        let now = self.clock.now();
        let mut shard = self.codes.lock(&code.code);
        shard.insert(code.code.clone(), CodeEntry::Live(code.clone()));
        shard.expire(now, EXPIRE_PER_WRITE);
        Ok(())
    }

    fn consume_code(
        &self,
        code: &str,
        _ctx: Ctx<'_>,
    ) -> Result<Lookup<AuthorizationCode>, HostError> {
        let mut shard = self.codes.lock(code);
        let Some(entry) = shard.get_mut(code) else {
            return Ok(Lookup::Missing);
        };
        Ok(match entry {
            CodeEntry::Used { family, .. } => Lookup::Used {
                family: family.clone(),
            },
            CodeEntry::Live(c) => {
                let tomb = CodeEntry::Used {
                    family: c.family.clone(),
                    until: c.expires_at,
                };
                match std::mem::replace(entry, tomb) {
                    CodeEntry::Live(c) => Lookup::Found(c),
                    CodeEntry::Used { family, .. } => Lookup::Used { family },
                }
            }
        })
    }
}

impl TokenStore for MemoryStore {
    fn save_token(&self, token: &AccessToken, _ctx: Ctx<'_>) -> Result<(), HostError> {
        let now = self.clock.now();
        let t = Arc::new(token.clone());
        if let Some(rt) = &t.refresh_token {
            let mut shard = self.refresh.lock(rt);
            shard.insert(rt.clone(), RefreshEntry::Live(t.clone()));
            shard.expire(now, EXPIRE_PER_WRITE);
        }
        if let Some(user) = &t.user_id {
            let key = unique_key(&t.client_id, t.grant_type, user);
            self.unique.lock(&key).insert(key, t.token.clone());
        }
        let dead = {
            let mut shard = self.tokens.lock(&t.token);
            shard.insert(t.token.clone(), t);
            shard.expire(now, EXPIRE_PER_WRITE)
        };
        for old in dead {
            self.forget_indexes(&old);
        }
        Ok(())
    }

    fn fetch_by_access_token(
        &self,
        token: &str,
        _ctx: Ctx<'_>,
    ) -> Result<Option<AccessToken>, HostError> {
        let found = self.tokens.lock(token).get(token).cloned();
        Ok(found.and_then(|t| self.live(&t)))
    }

    fn fetch_by_refresh_token(
        &self,
        refresh_token: &str,
        _ctx: Ctx<'_>,
    ) -> Result<Lookup<AccessToken>, HostError> {
        let entry = match self.refresh.lock(refresh_token).get(refresh_token) {
            Some(RefreshEntry::Live(t)) => Ok(t.clone()),
            Some(RefreshEntry::Used { family, .. }) => Err(Lookup::Used {
                family: family.clone(),
            }),
            None => Err(Lookup::Missing),
        };
        Ok(match entry {
            Ok(t) => self.live(&t).map_or(Lookup::Missing, Lookup::Found),
            Err(lookup) => lookup,
        })
    }

    fn consume_refresh_token(
        &self,
        refresh_token: &str,
        _ctx: Ctx<'_>,
    ) -> Result<Lookup<AccessToken>, HostError> {
        let mut shard = self.refresh.lock(refresh_token);
        let Some(entry) = shard.get_mut(refresh_token) else {
            return Ok(Lookup::Missing);
        };
        Ok(match entry {
            RefreshEntry::Used { family, .. } => Lookup::Used {
                family: family.clone(),
            },
            RefreshEntry::Live(t) if self.is_revoked(&t.family) => {
                shard.remove(refresh_token);
                Lookup::Missing
            }
            RefreshEntry::Live(t) => {
                let until = t
                    .refresh_expires_at
                    .unwrap_or_else(|| self.clock.now() + TOMBSTONE_SECS);
                let tomb = RefreshEntry::Used {
                    family: t.family.clone(),
                    until,
                };
                let taken = match std::mem::replace(entry, tomb) {
                    RefreshEntry::Live(t) => Lookup::Found((*t).clone()),
                    RefreshEntry::Used { family, .. } => Lookup::Used { family },
                };
                shard.reschedule(refresh_token);
                taken
            }
        })
    }

    fn fetch_existing_token_of_user(
        &self,
        client_id: &str,
        grant_type: GrantType,
        user_id: &Value,
        _ctx: Ctx<'_>,
    ) -> Result<Option<AccessToken>, HostError> {
        let key = unique_key(client_id, grant_type, user_id);
        let Some(token) = self.unique.lock(&key).get(&key).cloned() else {
            return Ok(None);
        };
        let found = self.tokens.lock(&token).get(&token).cloned();
        Ok(found.and_then(|t| self.live(&t)))
    }

    fn revoke_token(&self, token: &str, _ctx: Ctx<'_>) -> Result<(), HostError> {
        let by_access = self.tokens.lock(token).get(token).cloned();
        let record = by_access.or_else(|| match self.refresh.lock(token).get(token) {
            Some(RefreshEntry::Live(t)) => Some(t.clone()),
            _ => None,
        });
        if let Some(t) = record {
            self.remove_record(&t);
        }
        Ok(())
    }

    fn revoke_family(&self, family: &str, _ctx: Ctx<'_>) -> Result<(), HostError> {
        self.revoked_families
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(family.to_owned());
        self.any_revoked.store(true, Ordering::Release);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct At(Option<i64>);
    impl Deadline for At {
        fn deadline(&self) -> Option<i64> {
            self.0
        }
    }

    #[test]
    fn expire_drops_due_entries_in_deadline_order_within_the_limit() {
        let mut shard = Shard {
            map: HashMap::new(),
            queue: BinaryHeap::new(),
        };
        for (k, d) in [
            ("a", Some(30)),
            ("b", Some(10)),
            ("c", None),
            ("d", Some(20)),
        ] {
            shard.insert(k.to_owned(), At(d));
        }
        assert_eq!(shard.expire(25, 1).len(), 1);
        assert!(!shard.contains_key("b") && shard.contains_key("d"));
        assert_eq!(shard.expire(25, 10).len(), 1);
        assert!(!shard.contains_key("d"));
        // A deadline moved later is honoured: the stale heap entry is skipped.
        shard.map.insert("a".into(), At(Some(100)));
        shard.reschedule("a");
        assert!(shard.expire(50, 10).is_empty());
        assert_eq!(shard.expire(100, 10).len(), 1);
        assert!(shard.contains_key("c"), "no deadline, never expired");
    }

    #[test]
    fn writes_expire_old_entries_as_they_pass() {
        let clock = Arc::new(crate::clock::ManualClock::new(1_000));
        let store = MemoryStore::with_clock(clock.clone());
        let token = |i: usize, exp: i64| AccessToken {
            token: format!("t{i}"),
            client_id: "c".into(),
            grant_type: GrantType::ClientCredentials,
            scopes: vec![],
            data: Value::Null,
            user_id: None,
            expires_at: Some(exp),
            refresh_token: None,
            refresh_expires_at: None,
            family: format!("t{i}"),
        };
        for i in 0..200 {
            store.save_token(&token(i, 1_010), Ctx::NONE).unwrap();
        }
        clock.advance(20);
        for i in 200..2_000 {
            store.save_token(&token(i, 5_000), Ctx::NONE).unwrap();
        }
        assert_eq!(
            store.token_count(),
            1_800,
            "every expired token was dropped by later writes"
        );
    }
}
