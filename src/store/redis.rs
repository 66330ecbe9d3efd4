//! The Redis backend: clients, codes and tokens shared by every process and host that talks to
//! the same Redis server with the same key prefix.
//!
//! Every write that touches more than one key, and every single-use take, is one Lua script
//! (Redis runs a script atomically), so a grant is never half written and of any number of
//! concurrent redemptions exactly one wins. Keys carry Redis expiries taken from the records'
//! own, so expired entries vanish by themselves. Commands are bounded by the configured
//! timeouts: an unreachable or hung server gives `HostError::Unavailable` (answered as
//! `temporarily_unavailable`), never a hang, and connections are made afresh once it is back.
//!
//! The key layout is in docs/storage.md. Scripts name keys they derive from a family's members,
//! so this backend needs a single Redis server (with replicas if wanted), not Redis Cluster.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::{Connection, ErrorKind, RedisError, RedisResult, Script, ServerErrorKind};
use serde_json::Value;

use super::open::RedisConfig;
use super::pool::Pool;
use super::{unique_key, ClientStore, CodeStore, TokenStore};
use crate::error::HostError;
use crate::http::Ctx;
use crate::model::{AccessToken, AuthorizationCode, Client, GrantType, Lookup};

/// How long a used refresh token without an expiry is remembered (the memory backend's figure).
const TOMBSTONE_SECS: i64 = 30 * 24 * 3600;

/// Takes a code or refresh token: the record goes, the family stays as a tombstone for as long
/// as the key lives. ARGV[1]: when a tombstone of a key without expiry dies (0: keep as is).
const TAKE: &str = r#"
local r = redis.call('HGET', KEYS[1], 'r')
if r then
  redis.call('HDEL', KEYS[1], 'r')
  if ARGV[1] ~= '0' and redis.call('TTL', KEYS[1]) < 0 then
    redis.call('EXPIREAT', KEYS[1], ARGV[1])
  end
  return {1, r}
end
local f = redis.call('HGET', KEYS[1], 'f')
if f then return {2, f} end
return {0, ''}
"#;

/// Saves a token record with its refresh token, unique-token pointer and family membership,
/// unless the family was revoked (then nothing is written and 0 is returned).
/// KEYS: access, family, refresh (or a placeholder), unique (or a placeholder), revoked marker.
/// ARGV: record, family, access expiry, refresh expiry, family expiry (0: never), now, token,
/// refresh member, unique member ('' when absent).
const SAVE_TOKEN: &str = r#"
local rec, fam, token = ARGV[1], ARGV[2], ARGV[7]
local at_exp, rt_exp, dead, now = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local rt_member, uq_member = ARGV[8], ARGV[9]
if redis.call('EXISTS', KEYS[5]) == 1 then return 0 end
local fresh = redis.call('EXISTS', KEYS[2]) == 0
redis.call('SET', KEYS[1], rec)
if at_exp > 0 then redis.call('EXPIREAT', KEYS[1], at_exp) end
redis.call('SADD', KEYS[2], 'a:' .. token)
if rt_member ~= '' then
  redis.call('DEL', KEYS[3])
  redis.call('HSET', KEYS[3], 'r', rec, 'f', fam)
  if rt_exp > 0 then redis.call('EXPIREAT', KEYS[3], rt_exp) end
  redis.call('SADD', KEYS[2], rt_member)
end
if uq_member ~= '' then
  redis.call('SET', KEYS[4], token)
  if at_exp > 0 then redis.call('EXPIREAT', KEYS[4], at_exp) end
  redis.call('SADD', KEYS[2], uq_member)
end
if dead == 0 then
  redis.call('PERSIST', KEYS[2])
elseif fresh then
  redis.call('EXPIREAT', KEYS[2], dead)
else
  local ttl = redis.call('TTL', KEYS[2])
  if ttl >= 0 and now + ttl < dead then redis.call('EXPIREAT', KEYS[2], dead) end
end
return 1
"#;

/// Removes one token record. KEYS: access, family, refresh, unique (placeholders when absent).
/// ARGV: token, has refresh, has unique, refresh member, unique member.
const REVOKE_RECORD: &str = r#"
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], 'a:' .. ARGV[1])
if ARGV[2] == '1' and redis.call('HEXISTS', KEYS[3], 'r') == 1 then
  redis.call('DEL', KEYS[3])
  redis.call('SREM', KEYS[2], ARGV[4])
end
if ARGV[3] == '1' and redis.call('GET', KEYS[4]) == ARGV[1] then
  redis.call('DEL', KEYS[4])
  redis.call('SREM', KEYS[2], ARGV[5])
end
return 1
"#;

/// Revokes a family. KEYS: family, revoked marker. ARGV: key prefix, when the marker expires.
/// Live refresh tokens die; a used one's tombstone stays, so a later replay is still recognised.
/// The marker makes later saves in the family (a race's winner) write nothing.
const REVOKE_FAMILY: &str = r#"
local members = redis.call('SMEMBERS', KEYS[1])
local tokens = {}
for _, m in ipairs(members) do
  if string.sub(m, 1, 2) == 'a:' then
    local t = string.sub(m, 3)
    tokens[t] = true
    redis.call('DEL', ARGV[1] .. 'at:' .. t)
  end
end
for _, m in ipairs(members) do
  local kind, rest = string.sub(m, 1, 2), string.sub(m, 3)
  if kind == 'r:' then
    local k = ARGV[1] .. 'rt:' .. rest
    if redis.call('HEXISTS', k, 'r') == 1 then redis.call('DEL', k) end
  elseif kind == 'u:' then
    local k = ARGV[1] .. 'uq:' .. rest
    local v = redis.call('GET', k)
    if v and tokens[v] then redis.call('DEL', k) end
  end
end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1')
redis.call('EXPIREAT', KEYS[2], ARGV[2])
return #members
"#;

struct Scripts {
    take: Script,
    save_token: Script,
    revoke_record: Script,
    revoke_family: Script,
}

/// Clients, codes and tokens in a Redis server.
pub struct RedisStore {
    client: redis::Client,
    prefix: String,
    connect_timeout: Duration,
    timeout: Duration,
    pool: Pool<Connection>,
    scripts: Arc<Scripts>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: only the address is shown.
        f.debug_struct("RedisStore")
            .field(
                "addr",
                &self.client.get_connection_info().addr().to_string(),
            )
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The connection itself failed (the server went away, or did not answer in time).
fn connection_failed(e: &RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_timeout() || e.is_connection_refusal()
}

fn host_err(e: &RedisError) -> HostError {
    let transient = connection_failed(e)
        || matches!(
            e.kind(),
            ErrorKind::Server(
                ServerErrorKind::BusyLoading
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::ClusterDown
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::ReadOnly
            )
        );
    if transient {
        HostError::unavailable(format!("redis: {e}"))
    } else {
        HostError::failed(format!("redis: {e}"))
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, HostError> {
    serde_json::to_string(v).map_err(|e| HostError::failed(format!("redis: encoding: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, HostError> {
    serde_json::from_str(s)
        .map_err(|e| HostError::failed(format!("redis: stored record is unreadable: {e}")))
}

/// What a take script answered.
fn taken<T: serde::de::DeserializeOwned>(
    (kind, payload): (i64, String),
) -> Result<Lookup<T>, HostError> {
    match kind {
        1 => Ok(Lookup::Found(from_json(&payload)?)),
        2 => Ok(Lookup::Used { family: payload }),
        _ => Ok(Lookup::Missing),
    }
}

impl RedisStore {
    /// Checks the configuration; connections are made when first needed.
    pub fn open(config: &RedisConfig) -> Result<Self, HostError> {
        let client = redis::Client::open(config.url.as_str())
            .map_err(|e| HostError::failed(format!("invalid url: {e}")))?;
        if config.pool_size == 0 {
            return Err(HostError::failed("pool_size must be at least 1"));
        }
        if config.timeout_ms == 0 || config.connect_timeout_ms == 0 {
            return Err(HostError::failed(
                "timeout_ms and connect_timeout_ms must be at least 1",
            ));
        }
        let timeout = Duration::from_millis(config.timeout_ms);
        Ok(RedisStore {
            client,
            prefix: config.prefix.clone(),
            connect_timeout: Duration::from_millis(config.connect_timeout_ms),
            timeout,
            pool: Pool::new(config.pool_size, timeout),
            scripts: Arc::new(Scripts {
                take: Script::new(TAKE),
                save_token: Script::new(SAVE_TOKEN),
                revoke_record: Script::new(REVOKE_RECORD),
                revoke_family: Script::new(REVOKE_FAMILY),
            }),
        })
    }

    /// The key prefix this store writes under.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn key(&self, kind: &str, id: &str) -> String {
        let mut k = String::with_capacity(self.prefix.len() + kind.len() + id.len());
        k.push_str(&self.prefix);
        k.push_str(kind);
        k.push_str(id);
        k
    }

    fn connect(&self) -> Result<Connection, HostError> {
        let conn = self
            .client
            .get_connection_with_timeout(self.connect_timeout)
            .map_err(|e| host_err(&e))?;
        conn.set_read_timeout(Some(self.timeout))
            .and_then(|_| conn.set_write_timeout(Some(self.timeout)))
            .map_err(|e| host_err(&e))?;
        Ok(conn)
    }

    /// Runs `f` on a pooled connection. A connection that fails is dropped with every idle one
    /// (the server restarted or went away). `retry`: `f` may run twice without harm, so a
    /// request that met a connection left over from before a restart is tried once more on a
    /// fresh one; a single-use take never is, since its first try may have taken the value.
    fn run<T>(
        &self,
        retry: bool,
        f: impl Fn(&mut Connection) -> RedisResult<T>,
    ) -> Result<T, HostError> {
        let mut first = true;
        loop {
            let mut c = self.pool.get(|| self.connect())?;
            match f(c.conn()) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    if connection_failed(&e) {
                        c.discard(true);
                        if retry && first && c.reused && !e.is_timeout() {
                            first = false;
                            continue;
                        }
                    }
                    return Err(host_err(&e));
                }
            }
        }
    }

    /// Checks that the server answers.
    pub fn ping(&self) -> Result<(), HostError> {
        self.run(true, |c| redis::cmd("PING").query::<String>(c).map(|_| ()))
    }

    /// Registers (or replaces) a client.
    pub fn add_client(&self, client: &Client) -> Result<(), HostError> {
        let key = self.key("client:", &client.client_id);
        let record = to_json(client)?;
        self.run(true, |c| {
            redis::cmd("SET").arg(&key).arg(&record).query::<()>(c)
        })
    }

    /// Removes a client; `true` when it existed.
    pub fn remove_client(&self, client_id: &str) -> Result<bool, HostError> {
        let key = self.key("client:", client_id);
        self.run(true, |c| {
            redis::cmd("DEL").arg(&key).query::<i64>(c).map(|n| n > 0)
        })
    }

    fn record_keys(&self, t: &AccessToken) -> RecordKeys {
        let unique = t
            .user_id
            .as_ref()
            .map(|u| unique_key(&t.client_id, t.grant_type, u));
        RecordKeys {
            access: self.key("at:", &t.token),
            family: self.key("fam:", &t.family),
            refresh: t.refresh_token.as_ref().map(|r| self.key("rt:", r)),
            refresh_member: t
                .refresh_token
                .as_ref()
                .map(|r| format!("r:{r}"))
                .unwrap_or_default(),
            unique: unique.as_ref().map(|u| self.key("uq:", u)),
            unique_member: unique.map(|u| format!("u:{u}")).unwrap_or_default(),
        }
    }

    fn take(&self, key: &str, tomb_until: i64) -> Result<(i64, String), HostError> {
        self.run(false, |c| {
            self.scripts
                .take
                .key(key)
                .arg(tomb_until)
                .invoke::<(i64, String)>(c)
        })
    }
}

struct RecordKeys {
    access: String,
    family: String,
    refresh: Option<String>,
    refresh_member: String,
    unique: Option<String>,
    unique_member: String,
}

impl ClientStore for RedisStore {
    fn fetch_client(
        &self,
        client_id: &str,
        _ctx: Ctx<'_>,
    ) -> Result<Option<Arc<Client>>, HostError> {
        let key = self.key("client:", client_id);
        let record: Option<String> = self.run(true, |c| redis::cmd("GET").arg(&key).query(c))?;
        record
            .map(|r| from_json::<Client>(&r).map(Arc::new))
            .transpose()
    }
}

impl CodeStore for RedisStore {
    fn save_code(&self, code: &AuthorizationCode, _ctx: Ctx<'_>) -> Result<(), HostError> {
        let key = self.key("code:", &code.code);
        let record = to_json(code)?;
        self.run(true, |c| {
            redis::pipe()
                .atomic()
                .cmd("DEL")
                .arg(&key)
                .ignore()
                .cmd("HSET")
                .arg(&key)
                .arg("r")
                .arg(&record)
                .arg("f")
                .arg(&code.family)
                .ignore()
                .cmd("EXPIREAT")
                .arg(&key)
                .arg(code.expires_at)
                .ignore()
                .query::<()>(c)
        })
    }

    fn consume_code(
        &self,
        code: &str,
        _ctx: Ctx<'_>,
    ) -> Result<Lookup<AuthorizationCode>, HostError> {
        // The tombstone keeps the code's own expiry.
        taken(self.take(&self.key("code:", code), 0)?)
    }
}

impl TokenStore for RedisStore {
    fn save_token(&self, token: &AccessToken, _ctx: Ctx<'_>) -> Result<(), HostError> {
        let record = to_json(token)?;
        let k = self.record_keys(token);
        self.run(true, |c| {
            self.scripts
                .save_token
                .key(&k.access)
                .key(&k.family)
                .key(k.refresh.as_ref().unwrap_or(&k.access))
                .key(k.unique.as_ref().unwrap_or(&k.access))
                .key(self.key("famrev:", &token.family))
                .arg(&record)
                .arg(&token.family)
                .arg(token.expires_at.unwrap_or(0))
                .arg(token.refresh_expires_at.unwrap_or(0))
                .arg(token.dead_after().unwrap_or(0))
                .arg(now())
                .arg(&token.token)
                .arg(&k.refresh_member)
                .arg(&k.unique_member)
                .invoke::<i64>(c)
                .map(|_| ())
        })
    }

    fn fetch_by_access_token(
        &self,
        token: &str,
        _ctx: Ctx<'_>,
    ) -> Result<Option<AccessToken>, HostError> {
        let key = self.key("at:", token);
        let record: Option<String> = self.run(true, |c| redis::cmd("GET").arg(&key).query(c))?;
        record.map(|r| from_json(&r)).transpose()
    }

    fn fetch_by_refresh_token(
        &self,
        refresh_token: &str,
        _ctx: Ctx<'_>,
    ) -> Result<Lookup<AccessToken>, HostError> {
        let key = self.key("rt:", refresh_token);
        let (record, family): (Option<String>, Option<String>) = self.run(true, |c| {
            redis::cmd("HMGET").arg(&key).arg("r").arg("f").query(c)
        })?;
        match (record, family) {
            (Some(r), _) => Ok(Lookup::Found(from_json(&r)?)),
            (None, Some(family)) => Ok(Lookup::Used { family }),
            (None, None) => Ok(Lookup::Missing),
        }
    }

    fn consume_refresh_token(
        &self,
        refresh_token: &str,
        _ctx: Ctx<'_>,
    ) -> Result<Lookup<AccessToken>, HostError> {
        // A refresh token with an expiry keeps it as its tombstone's; one without is
        // remembered for TOMBSTONE_SECS.
        let key = self.key("rt:", refresh_token);
        taken(self.take(&key, now() + TOMBSTONE_SECS)?)
    }

    fn fetch_existing_token_of_user(
        &self,
        client_id: &str,
        grant_type: GrantType,
        user_id: &Value,
        _ctx: Ctx<'_>,
    ) -> Result<Option<AccessToken>, HostError> {
        let key = self.key("uq:", &unique_key(client_id, grant_type, user_id));
        let token: Option<String> = self.run(true, |c| redis::cmd("GET").arg(&key).query(c))?;
        match token {
            Some(t) => self.fetch_by_access_token(&t, Ctx::NONE),
            None => Ok(None),
        }
    }

    fn revoke_token(&self, token: &str, ctx: Ctx<'_>) -> Result<(), HostError> {
        let record = match self.fetch_by_access_token(token, ctx)? {
            Some(t) => t,
            None => match self.fetch_by_refresh_token(token, ctx)? {
                Lookup::Found(t) => t,
                Lookup::Used { .. } | Lookup::Missing => return Ok(()),
            },
        };
        let k = self.record_keys(&record);
        self.run(true, |c| {
            self.scripts
                .revoke_record
                .key(&k.access)
                .key(&k.family)
                .key(k.refresh.as_ref().unwrap_or(&k.access))
                .key(k.unique.as_ref().unwrap_or(&k.access))
                .arg(&record.token)
                .arg(if k.refresh.is_some() { "1" } else { "0" })
                .arg(if k.unique.is_some() { "1" } else { "0" })
                .arg(&k.refresh_member)
                .arg(&k.unique_member)
                .invoke::<i64>(c)
                .map(|_| ())
        })
    }

    fn revoke_family(&self, family: &str, _ctx: Ctx<'_>) -> Result<(), HostError> {
        let key = self.key("fam:", family);
        let marker = self.key("famrev:", family);
        self.run(true, |c| {
            self.scripts
                .revoke_family
                .key(&key)
                .key(&marker)
                .arg(&self.prefix)
                .arg(now() + TOMBSTONE_SECS)
                .invoke::<i64>(c)
                .map(|_| ())
        })
    }
}
