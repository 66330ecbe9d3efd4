//! The in-memory backend: the default store, thread-safe without a global lock.
//!
//! Each map is split into shards, each behind its own mutex, so concurrent requests for
//! different tokens rarely meet. Single-use tokens are taken under their shard's lock, which is
//! what makes `consume_*` atomic. Each shard keeps its entries' deadlines in a min-heap: every
//! write drops a few expired entries of the shard it touched, so expiry costs O(log n) per entry
//! and no request ever sweeps a whole shard.
//!
//! Memory: a live token is one `Record` shared by every index that finds it. A map keeps no
//! key of its own: each entry knows its key (a record its token, or its refresh token), and the
//! expiry heap names an entry by its hash alone. Client ids are interned; the per-user index is
//! keyed by a 64-bit hash and holds the record itself. A live refresh token has no deadline of
//! its own: it goes with its record. That keeps a token with a refresh token and a user at
//! about 550 bytes (docs/storage.md, "Expiry and purge").
//!
//! Grant families are not indexed (that would cost every token an entry): revoking a family
//! records its id, and records of a revoked family are treated as gone when they are next
//! looked up, and dropped by the purge. Revocations are rare security events, so the set stays
//! small, and while it is empty a lookup does not even consult it.

use std::borrow::Cow;
use std::cmp::Ordering as Order;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once, RwLock};

use foldhash::fast::RandomState;
use hashbrown::HashTable;
use serde_json::Value;

use super::{Carried, ClientStore, CodeStore, RefreshCheck, TokenStore};
use crate::clock::{Clock, SystemClock};
use crate::error::HostError;
use crate::http::Ctx;
use crate::model::{dead_after, AccessToken, AuthorizationCode, Client, GrantType, Lookup};

const SHARDS: usize = 32;
/// At most this many expired entries are dropped by one write, to bound its latency.
const EXPIRE_PER_WRITE: usize = 4;
/// How long a used refresh token without an expiry is remembered, to recognise its replay.
const TOMBSTONE_SECS: i64 = 30 * 24 * 3600;
/// Client ids are interned up to this many distinct ones; past it (only a host saving tokens
/// for ever new client ids gets there) each record keeps its own copy, so the set stays small.
const MAX_INTERNED_CLIENT_IDS: usize = 4096;

/// The maps hash with foldhash, seeded at random per map, rather than std's SipHash, which took
/// a tenth of a refresh request. Flooding a map with colliding keys needs the attacker to choose
/// what is inserted: keys here are codes and tokens this server generated, and client ids its
/// host registered; a request can only look keys up.
type Map<K, V> = HashMap<K, V, RandomState>;
type Set<K> = HashSet<K, RandomState>;

/// What a shard holds. Each entry knows its own key, so the table stores none beside it: saving
/// an entry copies no string and counts no reference, and a slot is two words.
trait Entry {
    fn key(&self) -> &str;
    /// When the entry may be forgotten (`None`: not by time).
    fn deadline(&self) -> Option<i64>;
}

/// One shard: the entries, and a heap of (deadline, hash) with the earliest on top. An entry
/// may be in the heap more than once (its deadline changed); only its current deadline counts.
///
/// Each slot keeps its key's hash, so that growing the table rehashes from the slots alone
/// (reading every key again would cost a cache miss apiece once the store is large), and so
/// that the heap can find an entry by its hash.
struct Shard<V> {
    table: HashTable<Slot<V>>,
    hasher: RandomState,
    queue: BinaryHeap<Due>,
}

struct Slot<V> {
    hash: u64,
    value: V,
}

/// An entry of a shard's expiry heap, ordered by deadline alone, the earliest greatest (the heap
/// keeps its greatest on top); entries of the same deadline, as every code or token issued in
/// the same second has, come in any order.
///
/// It names its entry by hash, not key: holding the key would cost every entry a shared string
/// and two reference counts. When it comes due, any entry of that hash whose deadline has
/// passed is taken. Two live keys of one 64-bit hash are vanishingly rare, and even then only
/// an expired entry is ever taken, each due entry takes at most one, and the other's own due
/// entry takes the one left.
struct Due {
    deadline: i64,
    hash: u64,
}

impl Ord for Due {
    fn cmp(&self, other: &Self) -> Order {
        other.deadline.cmp(&self.deadline)
    }
}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<Order> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        self.deadline == other.deadline
    }
}

impl Eq for Due {}

impl<V> Shard<V> {
    fn new() -> Self {
        Shard {
            table: HashTable::new(),
            hasher: RandomState::default(),
            queue: BinaryHeap::new(),
        }
    }

    fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    fn len(&self) -> usize {
        self.table.len()
    }
}

impl<V: Entry> Shard<V> {
    fn get(&self, key: &str) -> Option<&V> {
        let hash = self.hash(key);
        self.table.find(hash, is(hash, key)).map(|s| &s.value)
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        let hash = self.hash(key);
        let slot = self.table.find_mut(hash, is(hash, key))?;
        Some(&mut slot.value)
    }

    #[cfg(test)]
    fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    #[cfg(test)]
    fn remove(&mut self, key: &str) -> Option<V> {
        self.remove_if(key, |_| true)
    }

    /// Removes the entry of `key` if `take` says so of its value, in one probe.
    fn remove_if(&mut self, key: &str, take: impl FnOnce(&V) -> bool) -> Option<V> {
        let hash = self.hash(key);
        let entry = self.table.find_entry(hash, is(hash, key)).ok()?;
        take(&entry.get().value).then(|| entry.remove().0.value)
    }

    /// Inserts `value` under its key; returns the entry it replaced.
    fn insert(&mut self, value: V) -> Option<V> {
        let hash = self.hash(value.key());
        if let Some(deadline) = value.deadline() {
            self.queue.push(Due { deadline, hash });
        }
        // A lookup, then an insert: a miss ends at the first group with a free slot, which
        // costs less than `entry`'s up-front reserve (callgrind, refresh: 12 347 against 12 475).
        match self.table.find_mut(hash, is(hash, value.key())) {
            Some(slot) => Some(std::mem::replace(&mut slot.value, value)),
            None => {
                self.table
                    .insert_unique(hash, Slot { hash, value }, |s| s.hash);
                None
            }
        }
    }

    /// Queues `key` again after its entry's deadline changed to `deadline` (the entry queued
    /// before is skipped when its old deadline comes).
    fn reschedule(&mut self, key: &str, deadline: i64) {
        let hash = self.hash(key);
        self.queue.push(Due { deadline, hash });
    }

    /// Removes up to `limit` entries whose deadline is at or before `now`; returns them.
    fn expire(&mut self, now: i64, limit: usize) -> Vec<V> {
        let mut gone = Vec::new();
        while gone.len() < limit {
            match self.queue.peek() {
                Some(due) if due.deadline <= now => {}
                _ => break,
            }
            let Some(Due { hash, .. }) = self.queue.pop() else {
                break;
            };
            // Taken only if its deadline has passed (a rescheduled entry has another `Due`
            // further down the heap).
            let expired =
                |s: &Slot<V>| s.hash == hash && s.value.deadline().is_some_and(|d| d <= now);
            if let Ok(entry) = self.table.find_entry(hash, expired) {
                gone.push(entry.remove().0.value);
            }
        }
        gone
    }
}

/// Whether a slot holds `key`, whose hash is `hash`: the stored hash is compared first, so a
/// slot of another key is passed over without reading its entry.
fn is<V: Entry>(hash: u64, key: &str) -> impl Fn(&Slot<V>) -> bool + '_ {
    move |s| s.hash == hash && s.value.key() == key
}

struct Sharded<V> {
    shards: Box<[Mutex<Shard<V>>]>,
}

/// The shard of a key. Keys are mostly random tokens, and each shard's map hashes with its own
/// random seed, so a cheap mix of the key's first and last eight bytes (all of a shorter key)
/// spreads them well: two loads and a multiplication rather than a loop over bytes. A caller
/// who picks keys to land on one shard only makes its own requests wait.
fn shard_of(key: &str) -> usize {
    let b = key.as_bytes();
    let word = |w: &[u8; 8]| u64::from_le_bytes(*w);
    let (head, tail) = match (b.first_chunk::<8>(), b.last_chunk::<8>()) {
        (Some(head), Some(tail)) => (word(head), word(tail)),
        _ => (b.iter().fold(0, |w, x| w << 8 | u64::from(*x)), 0),
    };
    let h = (head ^ tail.rotate_left(29) ^ b.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> 32) as usize % SHARDS
}

/// A poisoned lock is safe to keep using here: every update is a single map operation, so a
/// panic while a shard was held cannot leave a half-written entry.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<V> Sharded<V> {
    fn new() -> Self {
        Sharded {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::new())).collect(),
        }
    }

    fn lock_index(&self, i: usize) -> MutexGuard<'_, Shard<V>> {
        lock(&self.shards[i])
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
    Used {
        code: Box<str>,
        family: UsedFamily,
        until: i64,
    },
}

/// A used code's grant family, remembered to revoke the family if the code is replayed. The
/// engine's family ids are 22 characters: kept inline, they let a code be used up without an
/// allocation (and its tombstone be dropped without a free).
enum UsedFamily {
    Inline { len: u8, bytes: [u8; 23] },
    Heap(Box<str>),
}

impl UsedFamily {
    fn new(family: &str) -> Self {
        let mut bytes = [0u8; 23];
        match bytes.get_mut(..family.len()) {
            Some(head) => {
                head.copy_from_slice(family.as_bytes());
                UsedFamily::Inline {
                    len: family.len() as u8,
                    bytes,
                }
            }
            None => UsedFamily::Heap(family.into()),
        }
    }

    fn family(&self) -> String {
        match self {
            // The bytes were copied whole from a `str`, so they are UTF-8.
            UsedFamily::Inline { len, bytes } => {
                String::from_utf8_lossy(&bytes[..usize::from(*len)]).into_owned()
            }
            UsedFamily::Heap(s) => s.as_ref().to_owned(),
        }
    }
}

impl Entry for CodeEntry {
    fn key(&self) -> &str {
        match self {
            CodeEntry::Live(c) => &c.code,
            CodeEntry::Used { code, .. } => code,
        }
    }

    fn deadline(&self) -> Option<i64> {
        Some(match self {
            CodeEntry::Live(c) => c.expires_at,
            CodeEntry::Used { until, .. } => *until,
        })
    }
}

/// An access token as this store keeps it: [`AccessToken`] with its strings shared.
struct Record {
    token: Arc<str>,
    refresh_token: Option<Arc<str>>,
    client_id: Arc<str>,
    /// The token's own string when the family is named after it, as new grants are.
    family: Arc<str>,
    scopes: Box<[String]>,
    data: Value,
    user_id: Option<Value>,
    expires_at: Option<i64>,
    refresh_expires_at: Option<i64>,
    grant_type: GrantType,
}

impl Record {
    fn to_model(&self) -> AccessToken {
        AccessToken {
            token: String::from(&*self.token),
            client_id: String::from(&*self.client_id),
            grant_type: self.grant_type,
            scopes: self.scopes.to_vec(),
            data: self.data.clone(),
            user_id: self.user_id.clone(),
            expires_at: self.expires_at,
            refresh_token: self.refresh_token.as_deref().map(str::to_owned),
            refresh_expires_at: self.refresh_expires_at,
            family: String::from(&*self.family),
        }
    }
}

impl Entry for Arc<Record> {
    fn key(&self) -> &str {
        &self.token
    }

    fn deadline(&self) -> Option<i64> {
        dead_after(
            self.expires_at,
            self.refresh_token.is_some(),
            self.refresh_expires_at,
        )
    }
}

/// What a used refresh token leaves behind, to recognise its replay.
struct Tomb {
    refresh_token: Arc<str>,
    family: Arc<str>,
    until: i64,
}

enum RefreshEntry {
    /// A record that has a refresh token (only those are entered).
    Live(Arc<Record>),
    /// Boxed: tombstones are the rarer entry, and this keeps every entry two words.
    Used(Box<Tomb>),
}

impl Entry for RefreshEntry {
    fn key(&self) -> &str {
        match self {
            RefreshEntry::Live(r) => r.refresh_token.as_deref().unwrap_or_default(),
            RefreshEntry::Used(tomb) => &tomb.refresh_token,
        }
    }

    fn deadline(&self) -> Option<i64> {
        match self {
            // Removed with its record (which outlives it); the engine checks its expiry.
            RefreshEntry::Live(_) => None,
            RefreshEntry::Used(tomb) => Some(tomb.until),
        }
    }
}

/// A user id as the per-user index compares it: python-oauth2 keyed users by their text, so
/// `"7"` and `7` are the same user.
fn user_text(user: &Value) -> Cow<'_, str> {
    match user {
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.to_string()),
    }
}

/// A hasher for keys that already are hashes.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ b as u64;
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

type UserShard = HashMap<u64, Arc<Record>, BuildHasherDefault<Prehashed>>;

/// The newest token of each (client, grant, user), for unique tokens. Keyed by a keyed 64-bit
/// hash of the three instead of a string built from them: every hit is checked against the
/// record, so a collision can only make two users share a slot, which costs the one whose entry
/// was replaced the reuse of their token (a new one is issued), never another user's token.
///
/// The index is off until someone first asks for a user's token (a grant with unique tokens,
/// or a host through the store API): until then no save pays for it (a password request
/// spent about a tenth of its time there). Turning it on indexes the tokens already stored
/// ([`MemoryStore::index_users`]).
struct UserIndex {
    hasher: RandomState,
    shards: Box<[Mutex<UserShard>]>,
    on: AtomicBool,
    /// Run once, by the first caller of `index_users`; the others wait for it.
    filled: Once,
}

impl UserIndex {
    fn new() -> Self {
        UserIndex {
            hasher: RandomState::default(),
            shards: (0..SHARDS)
                .map(|_| Mutex::new(UserShard::default()))
                .collect(),
            on: AtomicBool::new(false),
            filled: Once::new(),
        }
    }

    fn is_on(&self) -> bool {
        self.on.load(Ordering::Acquire)
    }

    fn key(&self, client_id: &str, grant_type: GrantType, user: &Value) -> u64 {
        self.hasher
            .hash_one((client_id, grant_type.as_str(), &*user_text(user)))
    }

    /// The shard of a key: bits the map itself uses neither for its buckets (the low ones) nor
    /// for its control bytes (the top seven).
    fn shard(&self, key: u64) -> MutexGuard<'_, UserShard> {
        lock(&self.shards[(key >> 32) as usize % SHARDS])
    }

    /// Makes `record` its user's newest token (a no-op while the index is off).
    fn insert(&self, record: &Arc<Record>) {
        if let (true, Some(user)) = (self.is_on(), &record.user_id) {
            let key = self.key(&record.client_id, record.grant_type, user);
            self.shard(key).insert(key, record.clone());
        }
    }

    /// Indexes a record found in the token map while the index is turned on: it takes its
    /// user's slot unless the slot holds a token that expires no earlier (one saved since the
    /// index went on, or a newer one found first).
    fn fill(&self, record: &Arc<Record>) {
        let Some(user) = &record.user_id else {
            return;
        };
        let key = self.key(&record.client_id, record.grant_type, user);
        let until = |r: &Record| r.expires_at.unwrap_or(i64::MAX);
        self.shard(key)
            .entry(key)
            .and_modify(|held| {
                if until(held) < until(record) {
                    *held = record.clone();
                }
            })
            .or_insert_with(|| record.clone());
    }

    fn get(&self, client_id: &str, grant_type: GrantType, user: &Value) -> Option<Arc<Record>> {
        let key = self.key(client_id, grant_type, user);
        let found = self.shard(key).get(&key).cloned()?;
        let same = found.grant_type == grant_type
            && &*found.client_id == client_id
            && found
                .user_id
                .as_ref()
                .is_some_and(|u| user_text(u) == user_text(user));
        same.then_some(found)
    }

    /// Drops the entry of `record`'s user if it still points at `record`.
    fn forget(&self, record: &Arc<Record>) {
        if let (true, Some(user)) = (self.is_on(), &record.user_id) {
            let key = self.key(&record.client_id, record.grant_type, user);
            let mut shard = self.shard(key);
            if shard.get(&key).is_some_and(|r| Arc::ptr_eq(r, record)) {
                shard.remove(&key);
            }
        }
    }
}

/// Clients, codes and tokens in this process's memory.
///
/// Where one thread holds two locks, it takes them in one order: a token shard, then a user
/// shard (`save_token`, `index_users`). The revoked families are only ever taken last (`redeem`
/// reads them under a refresh shard). Every other path holds one lock at a time.
pub struct MemoryStore {
    clients: RwLock<Map<String, Arc<Client>>>,
    codes: Sharded<CodeEntry>,
    tokens: Sharded<Arc<Record>>,
    refresh: Sharded<RefreshEntry>,
    users: UserIndex,
    client_ids: RwLock<Set<Arc<str>>>,
    revoked_families: RwLock<Set<String>>,
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
            clients: RwLock::new(Map::default()),
            codes: Sharded::new(),
            tokens: Sharded::new(),
            refresh: Sharded::new(),
            users: UserIndex::new(),
            client_ids: RwLock::new(Set::default()),
            revoked_families: RwLock::new(Set::default()),
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
            for record in dead {
                self.forget_indexes(&record);
            }
        }
    }

    /// The shared copy of a client id.
    fn intern_client_id(&self, client_id: &str) -> Arc<str> {
        let read = self.client_ids.read().unwrap_or_else(|p| p.into_inner());
        if let Some(id) = read.get(client_id) {
            return id.clone();
        }
        drop(read);
        let mut set = self.client_ids.write().unwrap_or_else(|p| p.into_inner());
        if let Some(id) = set.get(client_id) {
            return id.clone();
        }
        let id: Arc<str> = Arc::from(client_id);
        if set.len() < MAX_INTERNED_CLIENT_IDS {
            set.insert(id.clone());
        }
        id
    }

    fn record_of(&self, t: &AccessToken) -> Record {
        let token: Arc<str> = Arc::from(t.token.as_str());
        let refresh_token: Option<Arc<str>> = t.refresh_token.as_deref().map(Arc::from);
        let family = if t.family == t.token {
            token.clone()
        } else {
            match &refresh_token {
                Some(r) if **r == *t.family => r.clone(),
                _ => Arc::from(t.family.as_str()),
            }
        };
        Record {
            client_id: self.intern_client_id(&t.client_id),
            token,
            refresh_token,
            family,
            scopes: t.scopes.clone().into_boxed_slice(),
            data: t.data.clone(),
            user_id: t.user_id.clone(),
            expires_at: t.expires_at,
            refresh_expires_at: t.refresh_expires_at,
            grant_type: t.grant_type,
        }
    }

    /// Turns the per-user index on, once, indexing every token already stored. The flag goes
    /// up before the scan, and each token shard is scanned under its lock, under which a save
    /// also checks the flag and inserts: a save either comes before the scan of its shard,
    /// which then finds its record, or after it, and finds the flag up. A token removed
    /// meanwhile is either gone before the scan sees it or unindexed by its removal, which
    /// comes after the scan of its shard and so finds the flag up. (Locks nest in the order
    /// given at [`MemoryStore`].)
    fn index_users(&self) {
        self.users.filled.call_once(|| {
            self.users.on.store(true, Ordering::Release);
            for shard in self.tokens.shards.iter() {
                let shard = lock(shard);
                for record in shard.table.iter().map(|slot| &slot.value) {
                    self.users.fill(record);
                }
            }
        });
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

    /// `record` unless its family was revoked, in which case it is dropped on the way.
    fn live(&self, record: &Arc<Record>) -> Option<AccessToken> {
        if self.is_revoked(&record.family) {
            self.remove_record(record);
            return None;
        }
        Some(record.to_model())
    }

    /// Drops the refresh-token and per-user entries that point at `record`.
    fn forget_indexes(&self, record: &Arc<Record>) {
        if let Some(rt) = &record.refresh_token {
            self.refresh.lock(rt).remove_if(
                rt,
                |e| matches!(e, RefreshEntry::Live(r) if Arc::ptr_eq(r, record)),
            );
        }
        self.users.forget(record);
    }

    /// Finds a refresh token's record and lets `accept` judge it, under the shard's lock; when
    /// it accepts and `spend` is set, uses the token up atomically, leaving a tombstone to
    /// recognise its replay. A refused record is left as it was and answered `Missing`.
    fn redeem(
        &self,
        refresh_token: &str,
        spend: bool,
        accept: impl FnOnce(&Record) -> bool,
    ) -> Lookup<Arc<Record>> {
        let mut shard = self.refresh.lock(refresh_token);
        let Some(entry) = shard.get_mut(refresh_token) else {
            return Lookup::Missing;
        };
        let record = match entry {
            RefreshEntry::Used(tomb) => {
                return Lookup::Used {
                    family: String::from(&*tomb.family),
                }
            }
            RefreshEntry::Live(r) => r.clone(),
        };
        if self.is_revoked(&record.family) {
            // Dropped like any record of a revoked family; remove_record takes this shard's
            // lock again.
            drop(shard);
            self.remove_record(&record);
            return Lookup::Missing;
        }
        if !accept(&record) {
            return Lookup::Missing;
        }
        if spend {
            let until = record
                .refresh_expires_at
                .unwrap_or_else(|| self.clock.now() + TOMBSTONE_SECS);
            *entry = RefreshEntry::Used(Box::new(Tomb {
                refresh_token: record.refresh_token.clone().unwrap_or_default(),
                family: record.family.clone(),
                until,
            }));
            shard.reschedule(refresh_token, until);
        }
        Lookup::Found(record)
    }

    fn remove_record(&self, record: &Arc<Record>) {
        self.tokens
            .lock(&record.token)
            .remove_if(&record.token, |r| Arc::ptr_eq(r, record));
        self.forget_indexes(record);
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
    fn save_code(&self, code: &AuthorizationCode, ctx: Ctx<'_>) -> Result<(), HostError> {
        self.save_code_owned(code.clone(), ctx)
    }

    fn save_code_owned(&self, code: AuthorizationCode, _ctx: Ctx<'_>) -> Result<(), HostError> {
        let now = self.clock.now();
        let mut shard = self.codes.lock(&code.code);
        shard.insert(CodeEntry::Live(code));
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
                family: family.family(),
            },
            CodeEntry::Live(c) => {
                let tomb = CodeEntry::Used {
                    code: c.code.as_str().into(),
                    family: UsedFamily::new(&c.family),
                    until: c.expires_at,
                };
                match std::mem::replace(entry, tomb) {
                    CodeEntry::Live(c) => Lookup::Found(c),
                    CodeEntry::Used { family, .. } => Lookup::Used {
                        family: family.family(),
                    },
                }
            }
        })
    }
}

impl TokenStore for MemoryStore {
    fn save_token(&self, token: &AccessToken, _ctx: Ctx<'_>) -> Result<(), HostError> {
        let now = self.clock.now();
        let record = Arc::new(self.record_of(token));
        if let Some(rt) = &record.refresh_token {
            let mut shard = self.refresh.lock(rt);
            shard.insert(RefreshEntry::Live(record.clone()));
            shard.expire(now, EXPIRE_PER_WRITE);
        }
        let (replaced, dead) = {
            let mut shard = self.tokens.lock(&record.token);
            // Under the token shard's lock, which `index_users` takes to scan it: either the
            // index is on already, or the scan will find this record in the map.
            self.users.insert(&record);
            let replaced = shard.insert(record);
            (replaced, shard.expire(now, EXPIRE_PER_WRITE))
        };
        // A record saved again under the same token replaces the old one whole.
        for old in replaced.into_iter().chain(dead) {
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
        Ok(found.and_then(|r| self.live(&r)))
    }

    fn fetch_by_refresh_token(
        &self,
        refresh_token: &str,
        _ctx: Ctx<'_>,
    ) -> Result<Lookup<AccessToken>, HostError> {
        let entry = match self.refresh.lock(refresh_token).get(refresh_token) {
            Some(RefreshEntry::Live(r)) => Ok(r.clone()),
            Some(RefreshEntry::Used(tomb)) => Err(Lookup::Used {
                family: String::from(&*tomb.family),
            }),
            None => Err(Lookup::Missing),
        };
        Ok(match entry {
            Ok(r) => self.live(&r).map_or(Lookup::Missing, Lookup::Found),
            Err(lookup) => lookup,
        })
    }

    fn consume_refresh_token(
        &self,
        refresh_token: &str,
        _ctx: Ctx<'_>,
    ) -> Result<Lookup<AccessToken>, HostError> {
        Ok(self
            .redeem(refresh_token, true, |_| true)
            .map(|r| r.to_model()))
    }

    fn use_refresh_token(
        &self,
        refresh_token: &str,
        _ctx: Ctx<'_>,
    ) -> Result<Lookup<()>, HostError> {
        Ok(self.redeem(refresh_token, true, |_| true).map(|_| ()))
    }

    /// One lookup under the refresh shard's lock: the record is judged where it lies, and only
    /// what the new token carries over is copied out.
    fn redeem_refresh_token(
        &self,
        refresh_token: &str,
        spend: bool,
        accept: &mut dyn FnMut(&RefreshCheck<'_>) -> bool,
        _ctx: Ctx<'_>,
    ) -> Result<Lookup<Carried>, HostError> {
        let judge = |r: &Record| {
            accept(&RefreshCheck {
                client_id: &r.client_id,
                scopes: &r.scopes,
                refresh_expires_at: r.refresh_expires_at,
            })
        };
        Ok(self.redeem(refresh_token, spend, judge).map(|r| Carried {
            grant_type: r.grant_type,
            data: r.data.clone(),
            user_id: r.user_id.clone(),
            family: String::from(&*r.family),
        }))
    }

    fn fetch_existing_token_of_user(
        &self,
        client_id: &str,
        grant_type: GrantType,
        user_id: &Value,
        _ctx: Ctx<'_>,
    ) -> Result<Option<AccessToken>, HostError> {
        self.index_users();
        let Some(record) = self.users.get(client_id, grant_type, user_id) else {
            return Ok(None);
        };
        Ok(self.live(&record))
    }

    fn revoke_token(&self, token: &str, _ctx: Ctx<'_>) -> Result<(), HostError> {
        let by_access = self.tokens.lock(token).get(token).cloned();
        let record = by_access.or_else(|| match self.refresh.lock(token).get(token) {
            Some(RefreshEntry::Live(r)) => Some(r.clone()),
            _ => None,
        });
        if let Some(r) = record {
            self.remove_record(&r);
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

    /// A test entry: its key and its deadline.
    struct At(String, Option<i64>);
    impl Entry for At {
        fn key(&self) -> &str {
            &self.0
        }
        fn deadline(&self) -> Option<i64> {
            self.1
        }
    }

    #[test]
    fn expire_drops_due_entries_in_deadline_order_within_the_limit() {
        let mut shard = Shard::new();
        for (k, d) in [
            ("a", Some(30)),
            ("b", Some(10)),
            ("c", None),
            ("d", Some(20)),
        ] {
            shard.insert(At(k.into(), d));
        }
        assert_eq!(shard.expire(25, 1).len(), 1);
        assert!(!shard.contains_key("b") && shard.contains_key("d"));
        assert_eq!(shard.expire(25, 10).len(), 1);
        assert!(!shard.contains_key("d"));
        // A deadline moved later is honoured: the stale heap entry is skipped.
        shard.get_mut("a").unwrap().1 = Some(100);
        shard.reschedule("a", 100);
        assert!(shard.expire(50, 10).is_empty());
        assert_eq!(shard.expire(100, 10).len(), 1);
        assert!(shard.contains_key("c"), "no deadline, never expired");
    }

    #[test]
    fn a_due_entry_takes_only_an_expired_entry_of_its_hash() {
        // Two keys of one hash, as a 64-bit collision would give: the heap cannot tell them
        // apart, so each due entry takes whichever of them has expired.
        let mut shard = Shard::new();
        let hash = 42;
        for (key, deadline) in [("late", 30), ("early", 10)] {
            let at = At(key.into(), Some(deadline));
            shard
                .table
                .insert_unique(hash, Slot { hash, value: at }, |s| s.hash);
            shard.queue.push(Due { deadline, hash });
        }
        let gone = shard.expire(10, 10);
        assert_eq!(
            gone.iter().map(|a| a.0.as_str()).collect::<Vec<_>>(),
            ["early"]
        );
        assert!(shard.expire(29, 10).is_empty(), "not yet due");
        assert_eq!(shard.expire(30, 10).len(), 1);
        assert_eq!(shard.len(), 0);
    }

    #[test]
    fn a_shard_finds_replaces_and_removes_its_keys_across_growth() {
        let mut shard = Shard::new();
        let keys: Vec<String> = (0..5000).map(|i| format!("key-{i}")).collect();
        for (i, k) in keys.iter().enumerate() {
            assert!(shard.insert(At(k.clone(), Some(i as i64))).is_none());
        }
        assert_eq!(shard.len(), keys.len());
        // Replacing keeps one entry and hands back the old value.
        assert_eq!(
            shard.insert(At(keys[7].clone(), None)).map(|a| a.1),
            Some(Some(7))
        );
        assert_eq!(shard.len(), keys.len());
        for (i, k) in keys.iter().enumerate().step_by(2) {
            let want = if i == 7 { None } else { Some(i as i64) };
            assert_eq!(shard.remove(k).map(|a| a.1), Some(want));
        }
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(shard.contains_key(k), i % 2 == 1, "{k}");
        }
        assert!(shard.get("key-5000").is_none() && shard.remove("missing").is_none());
        assert_eq!(shard.len(), keys.len() / 2);
    }

    fn record(token: &str, refresh: Option<&str>, user: Option<Value>, exp: i64) -> AccessToken {
        AccessToken {
            token: token.into(),
            client_id: "c".into(),
            grant_type: GrantType::Password,
            scopes: vec!["read".into()],
            data: serde_json::json!({"k": 1}),
            user_id: user,
            expires_at: Some(exp),
            refresh_token: refresh.map(Into::into),
            refresh_expires_at: refresh.map(|_| exp + 100),
            family: format!("fam-{token}"),
        }
    }

    #[test]
    fn a_record_reads_back_as_it_was_saved_and_shares_its_strings() {
        let store = MemoryStore::new();
        let mut t = record(
            "tok",
            Some("ref"),
            Some(Value::from("alice")),
            4_000_000_000,
        );
        store.save_token(&t, Ctx::NONE).unwrap();
        let by_access = store.fetch_by_access_token("tok", Ctx::NONE).unwrap();
        assert_eq!(by_access.as_ref(), Some(&t));
        assert_eq!(
            store.fetch_by_refresh_token("ref", Ctx::NONE).unwrap(),
            Lookup::Found(t.clone())
        );
        let shared = store.tokens.lock("tok").get("tok").cloned().unwrap();
        let by_refresh = match store.refresh.lock("ref").get("ref") {
            Some(RefreshEntry::Live(r)) => r.clone(),
            _ => panic!("no live refresh entry"),
        };
        assert!(
            Arc::ptr_eq(&by_refresh, &shared),
            "both maps hold the one record"
        );
        // Family named after the token (as the engine names new grants): no copy of its own.
        t.token = "tok2".into();
        t.refresh_token = None;
        t.family = "tok2".into();
        store.save_token(&t, Ctx::NONE).unwrap();
        let second = store.tokens.lock("tok2").get("tok2").cloned().unwrap();
        assert!(Arc::ptr_eq(&second.token, &second.family));
        assert!(
            Arc::ptr_eq(&second.client_id, &shared.client_id),
            "client id interned"
        );
    }

    #[test]
    fn saving_a_token_again_replaces_its_old_refresh_and_user_entries() {
        let store = MemoryStore::new();
        let alice = Value::from("alice");
        store
            .save_token(
                &record("tok", Some("old"), Some(alice.clone()), 4_000_000_000),
                Ctx::NONE,
            )
            .unwrap();
        store
            .save_token(&record("tok", Some("new"), None, 4_000_000_000), Ctx::NONE)
            .unwrap();
        assert_eq!(
            store.fetch_by_refresh_token("old", Ctx::NONE).unwrap(),
            Lookup::Missing,
            "the replaced record's refresh token went with it"
        );
        assert!(matches!(
            store.fetch_by_refresh_token("new", Ctx::NONE).unwrap(),
            Lookup::Found(_)
        ));
        let user = store.fetch_existing_token_of_user("c", GrantType::Password, &alice, Ctx::NONE);
        assert_eq!(user.unwrap(), None);
    }

    #[test]
    fn an_expired_record_takes_its_refresh_and_user_entries_but_not_tombstones() {
        let clock = Arc::new(crate::clock::ManualClock::new(1_000));
        let store = MemoryStore::with_clock(clock.clone());
        let bob = Value::from(7);
        store
            .save_token(
                &record("a", Some("ra"), Some(bob.clone()), 1_010),
                Ctx::NONE,
            )
            .unwrap();
        store
            .save_token(&record("b", Some("rb"), None, 1_010), Ctx::NONE)
            .unwrap();
        assert!(matches!(
            store.consume_refresh_token("rb", Ctx::NONE).unwrap(),
            Lookup::Found(_)
        ));
        // "7" and 7 are one user, as python-oauth2 keyed them.
        let seven = store.fetch_existing_token_of_user(
            "c",
            GrantType::Password,
            &Value::from("7"),
            Ctx::NONE,
        );
        assert_eq!(seven.unwrap().map(|t| t.token), Some("a".to_owned()));
        // Past the refresh expiry (1 110) the records go; the tombstone of "rb" lives to 1 110.
        store.purge_expired(1_110);
        assert_eq!(store.token_count(), 0);
        assert_eq!(
            store.refresh.len(),
            0,
            "live refresh entries left with their records"
        );
        assert_eq!(
            store
                .users
                .shards
                .iter()
                .map(|s| lock(s).len())
                .sum::<usize>(),
            0
        );
        let bob_again =
            store.fetch_existing_token_of_user("c", GrantType::Password, &bob, Ctx::NONE);
        assert_eq!(bob_again.unwrap(), None);
    }

    #[test]
    fn the_user_index_is_filled_when_first_asked_with_each_users_latest_token() {
        // Far-future expiries: writes drop expired entries as they pass.
        const Y: i64 = 4_000_000_000;
        let store = MemoryStore::new();
        let (ann, ben) = (Value::from("ann"), Value::from("ben"));
        for (t, user, exp) in [
            ("a1", &ann, Y + 50),
            ("a2", &ann, Y + 70),
            ("a3", &ann, Y + 60),
            ("b1", &ben, Y + 9),
        ] {
            store
                .save_token(&record(t, None, Some(user.clone()), exp), Ctx::NONE)
                .unwrap();
        }
        assert!(
            !store.users.is_on(),
            "nothing asked yet: saves skip the index"
        );
        let found = |user: &Value| {
            store
                .fetch_existing_token_of_user("c", GrantType::Password, user, Ctx::NONE)
                .unwrap()
                .map(|t| t.token)
        };
        assert_eq!(found(&ann).as_deref(), Some("a2"), "the latest expiry wins");
        assert_eq!(found(&ben).as_deref(), Some("b1"));
        // From now on every save indexes itself, and a removal unindexes.
        store
            .save_token(&record("a4", None, Some(ann.clone()), Y + 10), Ctx::NONE)
            .unwrap();
        assert_eq!(found(&ann).as_deref(), Some("a4"));
        store.revoke_token("b1", Ctx::NONE).unwrap();
        assert_eq!(found(&ben), None);
    }

    #[test]
    fn saves_racing_the_first_lookup_are_all_indexed() {
        let store = Arc::new(MemoryStore::new());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..2_000 {
                        let user = Value::from(format!("u{t}-{i}"));
                        let token = format!("t{t}-{i}");
                        store
                            .save_token(&record(&token, None, Some(user), 4_000_000_000), Ctx::NONE)
                            .unwrap();
                        if t == 0 && i == 500 {
                            // Turns the index on while the other threads save.
                            store
                                .fetch_existing_token_of_user(
                                    "c",
                                    GrantType::Password,
                                    &Value::from("nobody"),
                                    Ctx::NONE,
                                )
                                .unwrap();
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        for t in 0..4 {
            for i in 0..2_000 {
                let user = Value::from(format!("u{t}-{i}"));
                let found = store
                    .fetch_existing_token_of_user("c", GrantType::Password, &user, Ctx::NONE)
                    .unwrap();
                assert_eq!(found.map(|r| r.token), Some(format!("t{t}-{i}")));
            }
        }
    }

    #[test]
    fn saves_redemptions_revocations_and_purges_run_together() {
        // Every path that takes more than one lock, at once on the same few shards: a lock
        // taken out of order would hang this test.
        let clock = Arc::new(crate::clock::ManualClock::new(1_000));
        let store = Arc::new(MemoryStore::with_clock(clock));
        store
            .fetch_existing_token_of_user("c", GrantType::Password, &Value::from(0), Ctx::NONE)
            .unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..3_000 {
                        let (token, refresh) = (format!("t{}", i % 64), format!("r{}", i % 64));
                        let user = Value::from(i % 7);
                        match t {
                            0 => store
                                .save_token(
                                    &record(&token, Some(&refresh), Some(user), 1_000 + i),
                                    Ctx::NONE,
                                )
                                .unwrap(),
                            1 => {
                                store.consume_refresh_token(&refresh, Ctx::NONE).unwrap();
                            }
                            2 => store.revoke_token(&token, Ctx::NONE).unwrap(),
                            _ => {
                                store.purge_expired(1_000 + i);
                                store
                                    .fetch_existing_token_of_user(
                                        "c",
                                        GrantType::Password,
                                        &user,
                                        Ctx::NONE,
                                    )
                                    .unwrap();
                            }
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // Whatever is left is consistent: each live record's refresh entry points back at it.
        for shard in store.tokens.shards.iter() {
            for slot in lock(shard).table.iter() {
                let record = &slot.value;
                let rt = record.refresh_token.as_deref().unwrap();
                match store.refresh.lock(rt).get(rt) {
                    Some(RefreshEntry::Live(r)) => assert!(Arc::ptr_eq(r, record)),
                    Some(RefreshEntry::Used(_)) | None => {}
                }
            }
        }
    }

    #[test]
    fn the_user_index_never_answers_for_another_user_on_a_hash_collision() {
        let store = MemoryStore::new();
        let carol = Arc::new(store.record_of(&record("tc", None, Some(Value::from("carol")), 5)));
        let dave = Value::from("dave");
        // Put carol's record in dave's slot, as a collision of their keys would.
        let key = store.users.key("c", GrantType::Password, &dave);
        store.users.shard(key).insert(key, carol);
        assert!(store.users.get("c", GrantType::Password, &dave).is_none());
        assert!(store
            .users
            .get("other", GrantType::Password, &Value::from("carol"))
            .is_none());
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

    #[test]
    fn a_used_code_remembers_its_family_whatever_its_length() {
        let store = MemoryStore::new();
        // Inline up to 23 bytes (a multi-byte character at the edge too), on the heap beyond.
        let families = [
            "",
            "f",
            "0123456789abcdefghijkl",
            "0123456789abcdefghijklm",
            "0123456789abcdefghijklmn",
            "0123456789abcdefghijkl\u{e9}",
            "family-\u{1f600}-of-a-host-store-with-long-ids",
        ];
        for (i, family) in families.into_iter().enumerate() {
            let code = AuthorizationCode {
                code: format!("code-{i}"),
                client_id: "c".into(),
                redirect_uri: "https://c.example/cb".into(),
                redirect_uri_given: true,
                scopes: vec!["read".into()],
                data: Value::Null,
                user_id: Some(Value::from("alice")),
                expires_at: store.clock.now() + 600,
                code_challenge: None,
                code_challenge_method: None,
                family: family.into(),
            };
            if i % 2 == 0 {
                store.save_code(&code, Ctx::NONE).unwrap();
            } else {
                store.save_code_owned(code.clone(), Ctx::NONE).unwrap();
            }
            let first = store.consume_code(&code.code, Ctx::NONE).unwrap();
            assert_eq!(first, Lookup::Found(code.clone()));
            for _ in 0..2 {
                let again = store.consume_code(&code.code, Ctx::NONE).unwrap();
                assert_eq!(
                    again,
                    Lookup::Used {
                        family: family.into()
                    }
                );
            }
        }
    }

    #[test]
    fn keys_spread_over_the_shards() {
        // Random tokens, counters at the end, short keys: each family reaches every shard.
        let families: [Vec<String>; 3] = [
            (0..2000).map(|_| crate::token::uuid4()).collect(),
            (0..2000).map(|i| format!("code-{i:010}")).collect(),
            (0..2000).map(|i| format!("{i}")).collect(),
        ];
        for keys in families {
            let mut seen = [0usize; SHARDS];
            for k in &keys {
                seen[shard_of(k)] += 1;
            }
            assert!(seen.iter().all(|n| *n > 0), "{seen:?}");
            assert!(
                seen.iter().all(|n| *n < 4 * keys.len() / SHARDS),
                "{seen:?}"
            );
        }
    }
}
