//! Choosing a storage backend by configuration.
//!
//! [`BackendConfig`] is the serde form that the C ABI's configuration JSON and the Python package
//! accept (documented in docs/storage.md); [`open`] turns it into a [`Backend`], which hands out
//! the [`Storage`] an engine is built with and lets the host register clients.
//!
//! ```json
//! {"type": "sqlite", "path": "/var/lib/myapp/oauth2.db"}
//! {"type": "redis", "url": "redis://127.0.0.1:6379/0", "prefix": "myapp:oauth2:"}
//! {"type": "memory"}
//! ```

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{MemoryStore, Storage};
use crate::config::ConfigError;
use crate::error::HostError;
use crate::model::Client;

/// Which backend stores clients, codes and tokens, and how to reach it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum BackendConfig {
    /// This process's memory: lost on restart, not shared between processes.
    Memory(MemoryConfig),
    /// One SQLite database file: survives restarts, shared by the processes of one host.
    Sqlite(SqliteConfig),
    /// A Redis server: shared by every process and host that uses the same server and prefix.
    Redis(RedisConfig),
}

impl Default for BackendConfig {
    fn default() -> Self {
        BackendConfig::Memory(MemoryConfig::default())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryConfig {
    /// Clients registered when the backend is opened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<Client>,
}

/// How SQLite writes reach the disk (SQLite's `PRAGMA synchronous`, in WAL mode).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// Every commit is on disk before it returns: a consumed code stays consumed even after a
    /// power loss.
    #[default]
    Full,
    /// Commits survive a crash of the process but maybe not of the machine; faster.
    Normal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteConfig {
    /// The database file; created with its schema when missing.
    pub path: String,
    /// How long a write waits for another connection or process to finish its own.
    #[serde(default = "default_busy_timeout_ms")]
    pub busy_timeout_ms: u64,
    /// Connections this process keeps open at most (readers run in parallel in WAL mode).
    #[serde(default = "default_sqlite_pool_size")]
    pub pool_size: usize,
    #[serde(default)]
    pub synchronous: Synchronous,
    /// Clients registered (added or replaced) when the backend is opened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<Client>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://[[user]:password@]host[:port][/db]` or `redis+unix:///path/to/socket[?db=N]`.
    pub url: String,
    /// Put in front of every key, so several deployments can share one server.
    #[serde(default = "default_redis_prefix")]
    pub prefix: String,
    /// Connections this process keeps open at most.
    #[serde(default = "default_redis_pool_size")]
    pub pool_size: usize,
    /// Bound on making a connection.
    #[serde(default = "default_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Bound on each command's reply, and on waiting for a free connection.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Clients registered (added or replaced) when the backend is opened; with any listed,
    /// opening needs the server to answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<Client>,
}

fn default_busy_timeout_ms() -> u64 {
    5000
}
fn default_sqlite_pool_size() -> usize {
    8
}
fn default_redis_prefix() -> String {
    "oauth2:".into()
}
fn default_redis_pool_size() -> usize {
    16
}
fn default_timeout_ms() -> u64 {
    1000
}

impl SqliteConfig {
    /// The defaults for a database at `path`.
    pub fn new(path: impl Into<String>) -> Self {
        SqliteConfig {
            path: path.into(),
            busy_timeout_ms: default_busy_timeout_ms(),
            pool_size: default_sqlite_pool_size(),
            synchronous: Synchronous::default(),
            clients: Vec::new(),
        }
    }
}

impl RedisConfig {
    /// The defaults for the server at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        RedisConfig {
            url: url.into(),
            prefix: default_redis_prefix(),
            pool_size: default_redis_pool_size(),
            connect_timeout_ms: default_timeout_ms(),
            timeout_ms: default_timeout_ms(),
            clients: Vec::new(),
        }
    }
}

/// An opened backend.
#[derive(Clone)]
pub enum Backend {
    Memory(Arc<MemoryStore>),
    #[cfg(feature = "sqlite")]
    Sqlite(Arc<super::SqliteStore>),
    #[cfg(feature = "redis")]
    Redis(Arc<super::RedisStore>),
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Memory(_) => "Backend::Memory",
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(_) => "Backend::Sqlite",
            #[cfg(feature = "redis")]
            Backend::Redis(_) => "Backend::Redis",
        })
    }
}

impl Backend {
    /// The stores to build an engine with; all three are this backend.
    pub fn storage(&self) -> Storage {
        match self {
            Backend::Memory(s) => Storage::from_backend(s.clone()),
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(s) => Storage::from_backend(s.clone()),
            #[cfg(feature = "redis")]
            Backend::Redis(s) => Storage::from_backend(s.clone()),
        }
    }

    /// Registers a client, replacing one with the same id.
    pub fn add_client(&self, client: &Client) -> Result<(), HostError> {
        match self {
            Backend::Memory(s) => {
                s.add_client(client.clone());
                Ok(())
            }
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(s) => s.add_client(client),
            #[cfg(feature = "redis")]
            Backend::Redis(s) => s.add_client(client),
        }
    }

    /// Removes a client; `true` when it existed.
    pub fn remove_client(&self, client_id: &str) -> Result<bool, HostError> {
        match self {
            Backend::Memory(s) => Ok(s.remove_client(client_id)),
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(s) => s.remove_client(client_id),
            #[cfg(feature = "redis")]
            Backend::Redis(s) => s.remove_client(client_id),
        }
    }

    /// Removes what expired at or before `now` (epoch seconds). Redis needs no sweep (its keys
    /// expire by themselves), so this does nothing there.
    pub fn purge_expired(&self, now: i64) -> Result<(), HostError> {
        match self {
            Backend::Memory(s) => {
                s.purge_expired(now);
                Ok(())
            }
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(s) => s.purge_expired(now),
            #[cfg(feature = "redis")]
            Backend::Redis(_) => Ok(()),
        }
    }
}

impl BackendConfig {
    /// The clients the configuration registers.
    pub fn clients(&self) -> &[Client] {
        match self {
            BackendConfig::Memory(c) => &c.clients,
            BackendConfig::Sqlite(c) => &c.clients,
            BackendConfig::Redis(c) => &c.clients,
        }
    }
}

/// Opens the backend `config` names and registers its `clients`. SQLite opens (creating or
/// migrating) its file now; Redis only checks its URL and connects on first use (unless clients
/// are to be registered), so an engine can start before its Redis does.
pub fn open(config: &BackendConfig) -> Result<Backend, ConfigError> {
    let mut seen = std::collections::HashSet::new();
    for c in config.clients() {
        if c.client_id.is_empty() {
            return Err(ConfigError("storage.clients: a client_id is empty".into()));
        }
        if !seen.insert(c.client_id.as_str()) {
            return Err(ConfigError(format!(
                "storage.clients: client_id {:?} appears twice",
                c.client_id
            )));
        }
    }
    let backend = match config {
        BackendConfig::Memory(_) => Backend::Memory(Arc::new(MemoryStore::new())),
        BackendConfig::Sqlite(c) => open_sqlite(c)?,
        BackendConfig::Redis(c) => open_redis(c)?,
    };
    for c in config.clients() {
        backend.add_client(c).map_err(|e| {
            ConfigError(format!(
                "storage.clients: could not register {:?}: {}",
                c.client_id, e.message
            ))
        })?;
    }
    Ok(backend)
}

#[cfg(feature = "sqlite")]
fn open_sqlite(c: &SqliteConfig) -> Result<Backend, ConfigError> {
    super::SqliteStore::open(c)
        .map(|s| Backend::Sqlite(Arc::new(s)))
        .map_err(|e| ConfigError(format!("sqlite backend: {}", e.message)))
}

#[cfg(not(feature = "sqlite"))]
fn open_sqlite(_: &SqliteConfig) -> Result<Backend, ConfigError> {
    Err(ConfigError(
        "this build has no sqlite backend (cargo feature `sqlite`)".into(),
    ))
}

#[cfg(feature = "redis")]
fn open_redis(c: &RedisConfig) -> Result<Backend, ConfigError> {
    super::RedisStore::open(c)
        .map(|s| Backend::Redis(Arc::new(s)))
        .map_err(|e| ConfigError(format!("redis backend: {}", e.message)))
}

#[cfg(not(feature = "redis"))]
fn open_redis(_: &RedisConfig) -> Result<Backend, ConfigError> {
    Err(ConfigError(
        "this build has no redis backend (cargo feature `redis`)".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<BackendConfig, serde_json::Error> {
        serde_json::from_str(s)
    }

    #[test]
    fn documented_forms_parse_with_defaults() {
        assert_eq!(
            parse(r#"{"type":"memory"}"#).unwrap(),
            BackendConfig::default()
        );
        assert_eq!(
            parse(r#"{"type":"sqlite","path":"/tmp/x.db"}"#).unwrap(),
            BackendConfig::Sqlite(SqliteConfig::new("/tmp/x.db"))
        );
        assert_eq!(
            parse(r#"{"type":"redis","url":"redis://127.0.0.1/"}"#).unwrap(),
            BackendConfig::Redis(RedisConfig::new("redis://127.0.0.1/"))
        );
        let full = parse(
            r#"{"type":"redis","url":"redis://h:1/2","prefix":"p:","pool_size":3,
                "connect_timeout_ms":10,"timeout_ms":20}"#,
        )
        .unwrap();
        let BackendConfig::Redis(r) = full else {
            panic!("not redis: {full:?}")
        };
        assert_eq!(
            (
                r.prefix.as_str(),
                r.pool_size,
                r.connect_timeout_ms,
                r.timeout_ms
            ),
            ("p:", 3, 10, 20)
        );
        let BackendConfig::Sqlite(s) = parse(
            r#"{"type":"sqlite","path":"a","busy_timeout_ms":1,"pool_size":2,"synchronous":"normal"}"#,
        )
        .unwrap() else {
            panic!("not sqlite")
        };
        assert_eq!(
            (s.busy_timeout_ms, s.pool_size, s.synchronous),
            (1, 2, Synchronous::Normal)
        );
    }

    #[test]
    fn unknown_fields_types_and_missing_fields_are_refused() {
        for bad in [
            r#"{"type":"memory","path":"x"}"#,
            r#"{"type":"sqlite","path":"x","busy_timeout":5}"#,
            r#"{"type":"redis","url":"redis://h/","pool":3}"#,
            r#"{"type":"sqlite"}"#,
            r#"{"type":"redis"}"#,
            r#"{"type":"postgres","url":"x"}"#,
            r#"{"path":"x"}"#,
            r#"{"type":"sqlite","path":"x","synchronous":"off"}"#,
            r#"{"type":"sqlite","path":"x","pool_size":-1}"#,
        ] {
            assert!(parse(bad).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn serialized_form_is_the_parsed_form() {
        let c = BackendConfig::Redis(RedisConfig::new("redis://127.0.0.1/"));
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.starts_with(r#"{"type":"redis","url":"#), "{json}");
        assert_eq!(parse(&json).unwrap(), c);
    }

    #[test]
    fn clients_in_the_configuration_are_registered_and_checked() {
        let cfg = parse(
            r#"{"type":"memory","clients":[
                {"client_id":"a","client_secret":"s","redirect_uris":["https://a/cb"]},
                {"client_id":"b","redirect_uris":[]}]}"#,
        )
        .unwrap();
        let b = open(&cfg).unwrap();
        let s = b.storage();
        for id in ["a", "b"] {
            assert!(s
                .clients
                .fetch_client(id, crate::http::Ctx::NONE)
                .unwrap()
                .is_some());
        }
        for bad in [
            r#"{"type":"memory","clients":[{"client_id":""}]}"#,
            r#"{"type":"memory","clients":[{"client_id":"a"},{"client_id":"a"}]}"#,
        ] {
            assert!(open(&parse(bad).unwrap()).is_err(), "{bad}");
        }
        assert!(parse(r#"{"type":"memory","clients":[{"client_id":"a","x":1}]}"#).is_err());
    }

    #[test]
    fn memory_backend_registers_clients() {
        let b = open(&BackendConfig::default()).unwrap();
        b.add_client(&Client::public("c", vec!["https://a/cb".into()]))
            .unwrap();
        let got = b
            .storage()
            .clients
            .fetch_client("c", crate::http::Ctx::NONE)
            .unwrap();
        assert_eq!(got.unwrap().client_id, "c");
        assert!(b.remove_client("c").unwrap());
        assert!(!b.remove_client("c").unwrap());
    }
}
