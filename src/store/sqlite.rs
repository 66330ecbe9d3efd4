//! The SQLite backend: one database file that survives restarts and is shared safely by the
//! threads and processes of one host.
//!
//! The file runs in WAL mode (readers never block the writer) with a busy timeout (a writer waits
//! for another instead of failing). Every record is kept as the core's serde JSON, next to the
//! few columns that are looked up; docs/storage.md shows the tables.
//!
//! Single use is enforced by the database, not by this process: a code is taken by one
//! `UPDATE .. WHERE used = 0 RETURNING`, a refresh token inside a `BEGIN IMMEDIATE` transaction,
//! so of any number of threads or processes exactly one gets it. A taken code or refresh token
//! leaves a tombstone with its grant family, so a replay is told apart from an unknown value
//! until the tombstone expires.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use super::open::{SqliteConfig, Synchronous};
use super::pool::{Pool, Pooled};
use super::{ClientStore, CodeStore, TokenStore};
use crate::error::HostError;
use crate::http::Ctx;
use crate::model::{AccessToken, AuthorizationCode, Client, GrantType, Lookup};

/// Expired rows are swept after this many writes by this process.
const PURGE_EVERY: usize = 256;
/// How long a used refresh token without an expiry is remembered, to recognise its replay
/// (the memory backend's figure).
const TOMBSTONE_SECS: i64 = 30 * 24 * 3600;

/// Each entry brings the schema from the version before it to its own (index + 1). Append only:
/// a database is migrated by running the entries it has not seen, in one transaction.
const MIGRATIONS: &[&str] = &[
    // 1
    "CREATE TABLE clients (
        client_id TEXT PRIMARY KEY NOT NULL,
        record    TEXT NOT NULL
    );
    CREATE TABLE codes (
        code       TEXT PRIMARY KEY NOT NULL,
        family     TEXT NOT NULL,
        record     TEXT,
        used       INTEGER NOT NULL DEFAULT 0,
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX codes_expires_at ON codes (expires_at);
    CREATE TABLE tokens (
        access_token  TEXT PRIMARY KEY NOT NULL,
        refresh_token TEXT UNIQUE,
        family        TEXT NOT NULL,
        client_id     TEXT NOT NULL,
        grant_type    TEXT NOT NULL,
        user_id       TEXT,
        record        TEXT NOT NULL,
        dead_after    INTEGER
    );
    CREATE INDEX tokens_family ON tokens (family);
    CREATE INDEX tokens_user ON tokens (client_id, grant_type, user_id)
        WHERE user_id IS NOT NULL;
    CREATE INDEX tokens_dead_after ON tokens (dead_after) WHERE dead_after IS NOT NULL;
    CREATE TABLE used_refresh_tokens (
        refresh_token TEXT PRIMARY KEY NOT NULL,
        family        TEXT NOT NULL,
        until         INTEGER NOT NULL
    );
    CREATE INDEX used_refresh_tokens_until ON used_refresh_tokens (until);",
    // 2: revoked grant families, so that a token saved after its family was revoked (the
    // winner of a race whose loser replayed the code) is refused.
    "CREATE TABLE revoked_families (
        family TEXT PRIMARY KEY NOT NULL,
        until  INTEGER NOT NULL
    );
    CREATE INDEX revoked_families_until ON revoked_families (until);",
];

/// The schema version this library writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Clients, codes and tokens in one SQLite database file.
pub struct SqliteStore {
    path: String,
    config: SqliteConfig,
    pool: Pool<Connection>,
    writes: AtomicUsize,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Busy and locked mean another writer held on longer than the busy timeout: worth a retry.
fn db_err(e: rusqlite::Error) -> HostError {
    let transient = matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    );
    if transient {
        HostError::unavailable(format!("sqlite: {e}"))
    } else {
        HostError::failed(format!("sqlite: {e}"))
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, HostError> {
    serde_json::to_string(v).map_err(|e| HostError::failed(format!("sqlite: encoding: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, HostError> {
    serde_json::from_str(s)
        .map_err(|e| HostError::failed(format!("sqlite: stored record is unreadable: {e}")))
}

/// The key a user is looked up by: the canonical JSON of their id (strings quoted), so that the
/// string "1" and the number 1 stay different users.
fn user_key(user: &Value) -> String {
    user.to_string()
}

impl SqliteStore {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(config: &SqliteConfig) -> Result<Self, HostError> {
        let path = config.path.trim();
        if path.is_empty() || path == ":memory:" || path.starts_with("file:") {
            return Err(HostError::failed(
                "path must name a database file (an in-memory database would not be shared \
                 between connections)",
            ));
        }
        if config.pool_size == 0 {
            return Err(HostError::failed("pool_size must be at least 1"));
        }
        let store = SqliteStore {
            path: path.to_owned(),
            config: config.clone(),
            pool: Pool::new(
                config.pool_size,
                Duration::from_millis(config.busy_timeout_ms),
            ),
            writes: AtomicUsize::new(0),
        };
        let mut conn = store.conn()?;
        migrate(conn.conn())?;
        drop(conn);
        Ok(store)
    }

    /// The path of the database file.
    pub fn path(&self) -> &Path {
        Path::new(&self.path)
    }

    fn connect(&self) -> Result<Connection, HostError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(db_err)?;
        conn.busy_timeout(Duration::from_millis(self.config.busy_timeout_ms))
            .map_err(db_err)?;
        // WAL: readers and one writer at a time, across processes; the setting is stored in the
        // file, so every connection agrees.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(db_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(HostError::failed(format!(
                "sqlite: the database refused WAL mode (it is in {mode} mode)"
            )));
        }
        let sync = match self.config.synchronous {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", sync)
            .map_err(db_err)?;
        Ok(conn)
    }

    fn conn(&self) -> Result<Pooled<'_, Connection>, HostError> {
        self.pool.get(|| self.connect())
    }

    /// Runs `f` on a pooled connection.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, HostError>,
    ) -> Result<T, HostError> {
        let mut c = self.conn()?;
        f(c.conn())
    }

    fn after_write(&self) {
        let n = self.writes.fetch_add(1, Ordering::Relaxed);
        if n % PURGE_EVERY == PURGE_EVERY - 1 {
            // A failed sweep is retried by a later one; the request that triggered it succeeded.
            let _ = self.purge_expired(now());
        }
    }

    /// Registers (or replaces) a client.
    pub fn add_client(&self, client: &Client) -> Result<(), HostError> {
        let record = to_json(client)?;
        self.with(|c| {
            c.prepare_cached("INSERT OR REPLACE INTO clients (client_id, record) VALUES (?1, ?2)")
                .and_then(|mut s| s.execute(params![client.client_id, record]))
                .map_err(db_err)?;
            Ok(())
        })
    }

    /// Removes a client; `true` when it existed.
    pub fn remove_client(&self, client_id: &str) -> Result<bool, HostError> {
        self.with(|c| {
            c.prepare_cached("DELETE FROM clients WHERE client_id = ?1")
                .and_then(|mut s| s.execute([client_id]))
                .map(|n| n > 0)
                .map_err(db_err)
        })
    }

    /// Deletes every code, token and tombstone that expired at or before `now` (epoch seconds).
    /// Runs by itself every few hundred writes; call it from a timer for a quiet server.
    pub fn purge_expired(&self, now: i64) -> Result<(), HostError> {
        self.with(|c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err)?;
            tx.execute("DELETE FROM codes WHERE expires_at <= ?1", [now])
                .map_err(db_err)?;
            tx.execute("DELETE FROM tokens WHERE dead_after <= ?1", [now])
                .map_err(db_err)?;
            tx.execute("DELETE FROM revoked_families WHERE until <= ?1", [now])
                .map_err(db_err)?;
            tx.execute("DELETE FROM used_refresh_tokens WHERE until <= ?1", [now])
                .map_err(db_err)?;
            tx.commit().map_err(db_err)
        })
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, HostError> {
        self.with(|c| read_version(c))
    }
}

fn read_version(c: &Connection) -> Result<i64, HostError> {
    c.query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .map_err(db_err)
}

/// Creates the schema or brings it up to [`SCHEMA_VERSION`]. Runs under the write lock, so two
/// processes opening a new file at once do not both create it.
fn migrate(c: &mut Connection) -> Result<(), HostError> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
        [],
    )
    .map_err(db_err)?;
    let current: Option<i64> = tx
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .optional()
        .map_err(db_err)?;
    let current = match current {
        Some(v) => v,
        None => {
            tx.execute("INSERT INTO schema_version (version) VALUES (0)", [])
                .map_err(db_err)?;
            0
        }
    };
    if current > SCHEMA_VERSION {
        return Err(HostError::failed(format!(
            "sqlite: the database has schema version {current}, newer than this library's \
             {SCHEMA_VERSION}; upgrade the library"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.execute_batch(sql).map_err(db_err)?;
        tx.execute("UPDATE schema_version SET version = ?1", [i as i64 + 1])
            .map_err(db_err)?;
    }
    tx.commit().map_err(db_err)
}

impl ClientStore for SqliteStore {
    fn fetch_client(
        &self,
        client_id: &str,
        _ctx: Ctx<'_>,
    ) -> Result<Option<Arc<Client>>, HostError> {
        let record: Option<String> = self.with(|c| {
            c.prepare_cached("SELECT record FROM clients WHERE client_id = ?1")
                .and_then(|mut s| s.query_row([client_id], |r| r.get(0)).optional())
                .map_err(db_err)
        })?;
        record
            .map(|r| from_json::<Client>(&r).map(Arc::new))
            .transpose()
    }
}

impl CodeStore for SqliteStore {
    fn save_code(&self, code: &AuthorizationCode, _ctx: Ctx<'_>) -> Result<(), HostError> {
        let record = to_json(code)?;
        self.with(|c| {
            c.prepare_cached(
                "INSERT OR REPLACE INTO codes (code, family, record, used, expires_at)
                 VALUES (?1, ?2, ?3, 0, ?4)",
            )
            .and_then(|mut s| s.execute(params![code.code, code.family, record, code.expires_at]))
            .map_err(db_err)
        })?;
        self.after_write();
        Ok(())
    }

    fn consume_code(
        &self,
        code: &str,
        _ctx: Ctx<'_>,
    ) -> Result<Lookup<AuthorizationCode>, HostError> {
        self.with(|c| {
            // One statement: SQLite runs it under the database's write lock, so of all the
            // connections of all processes exactly one sees `used = 0`. (RETURNING yields the
            // row as updated, so the record stays until the purge removes the expired row.)
            let taken: Option<String> = c
                .prepare_cached(
                    "UPDATE codes SET used = 1 WHERE code = ?1 AND used = 0 RETURNING record",
                )
                .and_then(|mut s| s.query_row([code], |r| r.get(0)).optional())
                .map_err(db_err)?;
            if let Some(record) = taken {
                return Ok(Lookup::Found(from_json(&record)?));
            }
            let family: Option<String> = c
                .prepare_cached("SELECT family FROM codes WHERE code = ?1")
                .and_then(|mut s| s.query_row([code], |r| r.get(0)).optional())
                .map_err(db_err)?;
            Ok(match family {
                Some(family) => Lookup::Used { family },
                None => Lookup::Missing,
            })
        })
    }
}

/// Reads a token record from its JSON column.
fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<String> {
    r.get(0)
}

impl TokenStore for SqliteStore {
    fn save_token(&self, token: &AccessToken, _ctx: Ctx<'_>) -> Result<(), HostError> {
        let record = to_json(token)?;
        let user = token.user_id.as_ref().map(user_key);
        self.with(|c| {
            c.prepare_cached(
                "INSERT OR REPLACE INTO tokens
                 (access_token, refresh_token, family, client_id, grant_type, user_id, record,
                  dead_after)
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8
                 WHERE NOT EXISTS (SELECT 1 FROM revoked_families WHERE family = ?3)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    token.token,
                    token.refresh_token,
                    token.family,
                    token.client_id,
                    token.grant_type.as_str(),
                    user,
                    record,
                    token.dead_after(),
                ])
            })
            .map_err(db_err)
        })?;
        self.after_write();
        Ok(())
    }

    fn fetch_by_access_token(
        &self,
        token: &str,
        _ctx: Ctx<'_>,
    ) -> Result<Option<AccessToken>, HostError> {
        let record: Option<String> = self.with(|c| {
            c.prepare_cached("SELECT record FROM tokens WHERE access_token = ?1")
                .and_then(|mut s| s.query_row([token], token_row).optional())
                .map_err(db_err)
        })?;
        record.map(|r| from_json(&r)).transpose()
    }

    fn fetch_by_refresh_token(
        &self,
        refresh_token: &str,
        _ctx: Ctx<'_>,
    ) -> Result<Lookup<AccessToken>, HostError> {
        self.with(|c| {
            // One read transaction, so a concurrent consume is seen either before or after.
            let tx = c.transaction().map_err(db_err)?;
            let live: Option<String> = tx
                .prepare_cached("SELECT record FROM tokens WHERE refresh_token = ?1")
                .and_then(|mut s| s.query_row([refresh_token], token_row).optional())
                .map_err(db_err)?;
            if let Some(r) = live {
                return Ok(Lookup::Found(from_json(&r)?));
            }
            let used: Option<String> = tx
                .prepare_cached("SELECT family FROM used_refresh_tokens WHERE refresh_token = ?1")
                .and_then(|mut s| s.query_row([refresh_token], |r| r.get(0)).optional())
                .map_err(db_err)?;
            Ok(match used {
                Some(family) => Lookup::Used { family },
                None => Lookup::Missing,
            })
        })
    }

    fn consume_refresh_token(
        &self,
        refresh_token: &str,
        _ctx: Ctx<'_>,
    ) -> Result<Lookup<AccessToken>, HostError> {
        let out = self.with(|c| {
            // IMMEDIATE takes the write lock before reading, so no other connection can take
            // the same token between the read and the update.
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err)?;
            let live: Option<String> = tx
                .prepare_cached("SELECT record FROM tokens WHERE refresh_token = ?1")
                .and_then(|mut s| s.query_row([refresh_token], token_row).optional())
                .map_err(db_err)?;
            let Some(record) = live else {
                let used: Option<String> = tx
                    .prepare_cached(
                        "SELECT family FROM used_refresh_tokens WHERE refresh_token = ?1",
                    )
                    .and_then(|mut s| s.query_row([refresh_token], |r| r.get(0)).optional())
                    .map_err(db_err)?;
                return Ok(match used {
                    Some(family) => Lookup::Used { family },
                    None => Lookup::Missing,
                });
            };
            let t: AccessToken = from_json(&record)?;
            let until = t
                .refresh_expires_at
                .unwrap_or_else(|| now() + TOMBSTONE_SECS);
            // The access token stays valid until it expires; the row is of no use after that.
            tx.prepare_cached(
                "UPDATE tokens SET refresh_token = NULL, dead_after = ?2 WHERE access_token = ?1",
            )
            .and_then(|mut s| s.execute(params![t.token, t.expires_at]))
            .map_err(db_err)?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO used_refresh_tokens (refresh_token, family, until)
                 VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| s.execute(params![refresh_token, t.family, until]))
            .map_err(db_err)?;
            tx.commit().map_err(db_err)?;
            Ok(Lookup::Found(t))
        })?;
        if matches!(out, Lookup::Found(_)) {
            self.after_write();
        }
        Ok(out)
    }

    fn fetch_existing_token_of_user(
        &self,
        client_id: &str,
        grant_type: GrantType,
        user_id: &Value,
        _ctx: Ctx<'_>,
    ) -> Result<Option<AccessToken>, HostError> {
        let user = user_key(user_id);
        let record: Option<String> = self.with(|c| {
            c.prepare_cached(
                "SELECT record FROM tokens
                 WHERE client_id = ?1 AND grant_type = ?2 AND user_id = ?3
                 ORDER BY rowid DESC LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![client_id, grant_type.as_str(), user], token_row)
                    .optional()
            })
            .map_err(db_err)
        })?;
        record.map(|r| from_json(&r)).transpose()
    }

    fn revoke_token(&self, token: &str, _ctx: Ctx<'_>) -> Result<(), HostError> {
        self.with(|c| {
            // An access token first, as the memory backend does; a live refresh token
            // otherwise. A used one's tombstone stays, so its replay is still recognised.
            let n = c
                .prepare_cached("DELETE FROM tokens WHERE access_token = ?1")
                .and_then(|mut s| s.execute([token]))
                .map_err(db_err)?;
            if n == 0 {
                c.prepare_cached("DELETE FROM tokens WHERE refresh_token = ?1")
                    .and_then(|mut s| s.execute([token]))
                    .map_err(db_err)?;
            }
            Ok(())
        })
    }

    fn revoke_family(&self, family: &str, _ctx: Ctx<'_>) -> Result<(), HostError> {
        self.with(|c| {
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(db_err)?;
            tx.execute(
                "INSERT OR REPLACE INTO revoked_families (family, until) VALUES (?1, ?2)",
                params![family, now() + TOMBSTONE_SECS],
            )
            .map_err(db_err)?;
            tx.execute("DELETE FROM tokens WHERE family = ?1", [family])
                .map_err(db_err)?;
            tx.commit().map_err(db_err)
        })
    }
}
