//! The storage contract (see ARCHITECTURE.md) and its in-process backends.
//!
//! Every method gets the caller's [`Ctx`] so that host callbacks can reach their per-request
//! state. Implementations must be safe to call from many threads at once; the two `consume_*`
//! methods must be atomic: of two concurrent calls for the same code or refresh token, exactly one
//! gets [`Lookup::Found`].

pub mod memory;
pub mod open;
#[cfg(any(feature = "sqlite", feature = "redis"))]
mod pool;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::sync::Arc;

use serde_json::Value;

use crate::error::HostError;
use crate::http::Ctx;
use crate::model::{AccessToken, AuthorizationCode, Client, GrantType, Lookup};

pub use memory::MemoryStore;
pub use open::{open, Backend, BackendConfig, RedisConfig, SqliteConfig, Synchronous};
#[cfg(feature = "redis")]
pub use redis::RedisStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// Registered clients.
pub trait ClientStore: Send + Sync {
    /// The client, or `None` when no client has this id.
    fn fetch_client(&self, client_id: &str, ctx: Ctx<'_>)
        -> Result<Option<Arc<Client>>, HostError>;
}

/// Authorization codes between the authorization and the token request.
pub trait CodeStore: Send + Sync {
    fn save_code(&self, code: &AuthorizationCode, ctx: Ctx<'_>) -> Result<(), HostError>;
    /// [`save_code`](Self::save_code) for a caller that has no further use for the code (the
    /// engine). A store that keeps records as they are overrides it to take this one without
    /// copying each of its fields.
    fn save_code_owned(&self, code: AuthorizationCode, ctx: Ctx<'_>) -> Result<(), HostError> {
        self.save_code(&code, ctx)
    }
    /// Atomically takes the code: the first caller gets it, later ones get
    /// [`Lookup::Used`] (while the store still remembers it) or [`Lookup::Missing`].
    fn consume_code(
        &self,
        code: &str,
        ctx: Ctx<'_>,
    ) -> Result<Lookup<AuthorizationCode>, HostError>;
}

/// Access tokens, and the refresh tokens issued with them.
pub trait TokenStore: Send + Sync {
    fn save_token(&self, token: &AccessToken, ctx: Ctx<'_>) -> Result<(), HostError>;
    fn fetch_by_access_token(
        &self,
        token: &str,
        ctx: Ctx<'_>,
    ) -> Result<Option<AccessToken>, HostError>;
    /// The record whose refresh token this is, without using it up.
    fn fetch_by_refresh_token(
        &self,
        refresh_token: &str,
        ctx: Ctx<'_>,
    ) -> Result<Lookup<AccessToken>, HostError>;
    /// Atomically uses up a refresh token (rotation): one caller wins, as for codes.
    fn consume_refresh_token(
        &self,
        refresh_token: &str,
        ctx: Ctx<'_>,
    ) -> Result<Lookup<AccessToken>, HostError>;
    /// [`consume_refresh_token`](Self::consume_refresh_token) for a caller that already holds
    /// the record (the engine fetched and checked it first): the same atomic use, answering
    /// only whether this caller won. A store that can skip rebuilding the record overrides it.
    fn use_refresh_token(
        &self,
        refresh_token: &str,
        ctx: Ctx<'_>,
    ) -> Result<Lookup<()>, HostError> {
        Ok(self.consume_refresh_token(refresh_token, ctx)?.map(|_| ()))
    }
    /// The refresh grant's lookup and use of a refresh token as one call: finds the record,
    /// hands what the grant checks to `accept`, and only when it accepts (and `spend` asks for
    /// rotation) uses the token up, as atomically as
    /// [`consume_refresh_token`](Self::consume_refresh_token). When `accept` refuses, nothing
    /// is used up and the answer is [`Lookup::Missing`] (the caller knows why). `accept` is
    /// plain computation: it never calls back into the store, so a store may run it under its
    /// own lock.
    ///
    /// The default fetches, then uses; a store that can do both with one lookup, and without
    /// copying the parts of the record the grant does not carry over, overrides it.
    fn redeem_refresh_token(
        &self,
        refresh_token: &str,
        spend: bool,
        accept: &mut dyn FnMut(&RefreshCheck<'_>) -> bool,
        ctx: Ctx<'_>,
    ) -> Result<Lookup<Carried>, HostError> {
        let old = match self.fetch_by_refresh_token(refresh_token, ctx)? {
            Lookup::Found(t) => t,
            Lookup::Used { family } => return Ok(Lookup::Used { family }),
            Lookup::Missing => return Ok(Lookup::Missing),
        };
        if !accept(&RefreshCheck::of(&old)) {
            return Ok(Lookup::Missing);
        }
        if spend {
            match self.use_refresh_token(refresh_token, ctx)? {
                Lookup::Found(()) => {}
                Lookup::Used { family } => return Ok(Lookup::Used { family }),
                Lookup::Missing => return Ok(Lookup::Missing),
            }
        }
        Ok(Lookup::Found(Carried {
            grant_type: old.grant_type,
            data: old.data,
            user_id: old.user_id,
            family: old.family,
        }))
    }
    /// The newest token of this user for this client and grant (for unique tokens).
    fn fetch_existing_token_of_user(
        &self,
        client_id: &str,
        grant_type: GrantType,
        user_id: &Value,
        ctx: Ctx<'_>,
    ) -> Result<Option<AccessToken>, HostError>;
    /// Revokes one access or refresh token (a record found by either is removed whole).
    fn revoke_token(&self, token: &str, ctx: Ctx<'_>) -> Result<(), HostError>;
    /// Revokes every token of a grant family.
    fn revoke_family(&self, family: &str, ctx: Ctx<'_>) -> Result<(), HostError>;
}

/// What the refresh grant checks of the record behind a refresh token before using it up
/// ([`TokenStore::redeem_refresh_token`]).
#[derive(Clone, Copy, Debug)]
pub struct RefreshCheck<'a> {
    pub client_id: &'a str,
    pub scopes: &'a [String],
    pub refresh_expires_at: Option<i64>,
}

impl<'a> RefreshCheck<'a> {
    pub fn of(t: &'a AccessToken) -> Self {
        RefreshCheck {
            client_id: &t.client_id,
            scopes: &t.scopes,
            refresh_expires_at: t.refresh_expires_at,
        }
    }
}

/// What a refresh carries over from the record it spends into the token it issues.
#[derive(Clone, Debug, PartialEq)]
pub struct Carried {
    pub grant_type: GrantType,
    pub data: Value,
    pub user_id: Option<Value>,
    pub family: String,
}

/// The three stores an engine uses; one backend may serve all three.
#[derive(Clone)]
pub struct Storage {
    pub clients: Arc<dyn ClientStore>,
    pub codes: Arc<dyn CodeStore>,
    pub tokens: Arc<dyn TokenStore>,
}

impl Storage {
    /// All three from one backend.
    pub fn from_backend<B: ClientStore + CodeStore + TokenStore + 'static>(
        backend: Arc<B>,
    ) -> Self {
        Storage {
            clients: backend.clone(),
            codes: backend.clone(),
            tokens: backend,
        }
    }
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Storage { .. }")
    }
}

/// The key under which a user's token for one client and grant is remembered.
pub fn unique_key(client_id: &str, grant_type: GrantType, user_id: &Value) -> String {
    let user = match user_id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    format!("{client_id}_{}_{user}", grant_type.as_str())
}
