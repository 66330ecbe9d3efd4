//! The engine: built once from a configuration, storage and callbacks, then shared by every
//! thread that serves requests. [`Engine::handle`] routes a request to its endpoint.

use std::sync::Arc;

use serde_json::Value;

use crate::client_auth::ClientAuthentication;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ConfigError, Grant, Settings};
use crate::error::{HostError, OAuthError};
use crate::http::{Ctx, Request, Response};
use crate::json::JsonObject;
use crate::model::{AccessToken, Client, GrantType, Lookup};
use crate::site::SiteAdapter;
use crate::store::Storage;
use crate::token::{TokenGenerator, TokenKind};

/// Called with every failure a host callback reported, so hosts can log them; the client only
/// ever sees `server_error` or `temporarily_unavailable`.
pub type ErrorHook = Arc<dyn Fn(&HostError) + Send + Sync>;

/// An OAuth 2.0 authorization server. `Send + Sync`: build one, share it.
pub struct Engine {
    pub(crate) s: Settings,
    pub(crate) storage: Storage,
    pub(crate) site: Option<Arc<dyn SiteAdapter>>,
    pub(crate) generator: Arc<dyn TokenGenerator>,
    pub(crate) client_auth: ClientAuthentication,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) on_error: Option<ErrorHook>,
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
};

/// Collects what an [`Engine`] is built from.
pub struct EngineBuilder {
    config: Config,
    storage: Option<Storage>,
    site: Option<Arc<dyn SiteAdapter>>,
    generator: Option<Arc<dyn TokenGenerator>>,
    client_auth: Option<ClientAuthentication>,
    clock: Arc<dyn Clock>,
    on_error: Option<ErrorHook>,
}

impl EngineBuilder {
    pub fn storage(mut self, storage: Storage) -> Self {
        self.storage = Some(storage);
        self
    }

    /// The site adapter of every user-facing grant that has none of its own.
    pub fn site_adapter(mut self, site: Arc<dyn SiteAdapter>) -> Self {
        self.site = Some(site);
        self
    }

    /// Replaces the generator named by `config.token_format`.
    pub fn token_generator(mut self, generator: Arc<dyn TokenGenerator>) -> Self {
        self.generator = Some(generator);
        self
    }

    /// Replaces the methods named by `config.client_authentication`.
    pub fn client_authentication(mut self, auth: ClientAuthentication) -> Self {
        self.client_auth = Some(auth);
        self
    }

    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn on_host_error(mut self, hook: ErrorHook) -> Self {
        self.on_error = Some(hook);
        self
    }

    pub fn build(self) -> Result<Engine, ConfigError> {
        let s = self.config.validate()?;
        let storage = self
            .storage
            .ok_or_else(|| ConfigError("no storage was given".into()))?;
        for g in &s.grants {
            let user_facing = matches!(
                g.kind,
                GrantType::AuthorizationCode | GrantType::Implicit | GrantType::Password
            );
            if user_facing && g.site.is_none() && self.site.is_none() {
                return Err(ConfigError(format!(
                    "the {} grant needs a site adapter",
                    g.kind.as_str()
                )));
            }
        }
        let generator = self
            .generator
            .unwrap_or_else(|| Arc::new(self.config.token_format));
        let client_auth = self.client_auth.unwrap_or(ClientAuthentication::Standard(
            self.config.client_authentication,
        ));
        Ok(Engine {
            s,
            storage,
            site: self.site,
            generator,
            client_auth,
            clock: self.clock,
            on_error: self.on_error,
        })
    }
}

/// What a successful grant hands back before it is written as JSON.
pub(crate) struct Issued {
    pub access_token: String,
    pub expires_in: Option<i64>,
    pub refresh_token: Option<String>,
    pub scopes: Vec<String>,
}

/// Everything a new token is made of.
pub(crate) struct TokenRequest<'a> {
    pub client: &'a Client,
    /// Access-token lifetime in seconds; 0 = never expires.
    pub lifetime: u64,
    /// Hand back the user's live token if there is one (python-oauth2's unique tokens).
    pub unique: bool,
    /// Recorded on the token; for a refresh, the grant the family started with.
    pub grant_type: GrantType,
    pub scopes: Vec<String>,
    pub data: Value,
    pub user_id: Option<Value>,
    /// The grant family; `None` starts a new one, named after the access token (which is
    /// random and unique already, so no second random id is drawn).
    pub family: Option<String>,
    /// Issue a refresh token along (when the token expires and the client may refresh).
    pub refreshable: bool,
}

impl Engine {
    pub fn builder(config: Config) -> EngineBuilder {
        EngineBuilder {
            config,
            storage: None,
            site: None,
            generator: None,
            client_auth: None,
            clock: Arc::new(SystemClock),
            on_error: None,
        }
    }

    /// Answers one request. Never panics on any input; protocol errors are responses.
    pub fn handle(&self, req: &Request<'_>) -> Response {
        let path = req.path;
        if path == self.s.token_path {
            self.token_endpoint(req)
        } else if path == self.s.authorize_path {
            self.authorize_endpoint(req)
        } else if self.s.revocation_path.as_deref() == Some(path) {
            self.revocation_endpoint(req)
        } else if path == crate::metadata::WELL_KNOWN && self.s.issuer.is_some() {
            self.metadata_endpoint()
        } else {
            let mut r = Response::new(404);
            r.set_header("Content-Type", "text/plain");
            r.body.push_str("Not Found");
            r
        }
    }

    /// The live access token `token`, for resource servers: `None` when unknown, revoked or
    /// expired.
    pub fn validate_access_token(
        &self,
        token: &str,
        ctx: Ctx<'_>,
    ) -> Result<Option<AccessToken>, HostError> {
        let now = self.clock.now();
        Ok(self
            .storage
            .tokens
            .fetch_by_access_token(token, ctx)?
            .filter(|t| !t.is_expired(now)))
    }

    /// Revokes every code and token issued from the same grant as `token` (an access or refresh
    /// token): for logout or a password change (R27).
    pub fn revoke_grant_of(&self, token: &str, ctx: Ctx<'_>) -> Result<bool, HostError> {
        let tokens = &self.storage.tokens;
        let family = match tokens.fetch_by_access_token(token, ctx)? {
            Some(t) => Some(t.family),
            None => match tokens.fetch_by_refresh_token(token, ctx)? {
                Lookup::Found(t) => Some(t.family),
                Lookup::Used { family } => Some(family),
                Lookup::Missing => None,
            },
        };
        match family {
            Some(f) => tokens.revoke_family(&f, ctx).map(|_| true),
            None => Ok(false),
        }
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Reports a callback failure to the host's hook and turns it into a protocol error.
    pub(crate) fn host(&self, e: HostError) -> OAuthError {
        if let Some(hook) = &self.on_error {
            hook(&e);
        }
        OAuthError::from(e)
    }

    pub(crate) fn generate(&self, kind: TokenKind) -> Result<String, OAuthError> {
        let t = self.generator.generate(kind).map_err(|e| self.host(e))?;
        if t.is_empty() || t.len() > 4096 {
            return Err(self.host(HostError::failed(format!(
                "token generator returned a token of {} bytes",
                t.len()
            ))));
        }
        Ok(t)
    }

    pub(crate) fn site_for<'a>(
        &'a self,
        grant: &'a Grant,
    ) -> Result<&'a Arc<dyn SiteAdapter>, OAuthError> {
        grant
            .site
            .as_ref()
            .or(self.site.as_ref())
            .ok_or_else(OAuthError::server_error)
    }

    pub(crate) fn join_scopes(&self, scopes: &[String]) -> String {
        scopes.join(&self.s.separator)
    }

    /// Issues an access token (and maybe a refresh token), or hands back the user's live one
    /// when the grant has unique tokens. python-oauth2's `create_token`.
    pub(crate) fn create_token(
        &self,
        t: TokenRequest<'_>,
        ctx: Ctx<'_>,
    ) -> Result<Issued, OAuthError> {
        let now = self.now();
        if t.unique {
            let Some(user) = &t.user_id else {
                return Err(self.host(HostError::failed(
                    "unique tokens need a user id, but the site adapter returned none",
                )));
            };
            let existing = self
                .storage
                .tokens
                .fetch_existing_token_of_user(&t.client.client_id, t.grant_type, user, ctx)
                .map_err(|e| self.host(e))?;
            if let Some(old) = existing {
                let same_owner = old.client_id == t.client.client_id
                    && old.grant_type == t.grant_type
                    && old.user_id.as_ref() == Some(user);
                if same_owner && old.scopes == t.scopes && !old.is_expired(now) {
                    return Ok(Issued {
                        expires_in: old.expires_in(now),
                        access_token: old.token,
                        refresh_token: old.refresh_token,
                        scopes: old.scopes,
                    });
                }
            }
        }
        let access = self.generate(TokenKind::AccessToken)?;
        let expires_at = (t.lifetime > 0).then(|| now + t.lifetime as i64);
        let refresh_grant = self.s.grant(GrantType::RefreshToken);
        let refresh = match refresh_grant {
            Some(rg)
                if t.refreshable
                    && expires_at.is_some()
                    && t.client.allows_grant(GrantType::RefreshToken) =>
            {
                Some((self.generate(TokenKind::RefreshToken)?, rg.lifetime))
            }
            _ => None,
        };
        let family = t.family.unwrap_or_else(|| access.clone());
        let record = AccessToken {
            token: access,
            client_id: t.client.client_id.clone(),
            grant_type: t.grant_type,
            scopes: t.scopes,
            data: t.data,
            user_id: t.user_id,
            expires_at,
            refresh_expires_at: refresh
                .as_ref()
                .and_then(|(_, life)| (*life > 0).then(|| now + *life as i64)),
            refresh_token: refresh.map(|(rt, _)| rt),
            family,
        };
        self.storage
            .tokens
            .save_token(&record, ctx)
            .map_err(|e| self.host(e))?;
        Ok(Issued {
            expires_in: record.expires_in(now),
            access_token: record.token,
            refresh_token: record.refresh_token,
            scopes: record.scopes,
        })
    }

    /// The JSON error body of RFC 6749 §5.2.
    pub(crate) fn error_body(&self, e: &OAuthError) -> String {
        let mut o = JsonObject::new(self.s.wire);
        o.str("error", e.code.as_str());
        o.str("error_description", &e.description);
        o.finish()
    }

    /// A JSON error response for the token and revocation endpoints.
    pub(crate) fn json_error(&self, e: &OAuthError) -> Response {
        let mut r = Response::json(e.status(), self.error_body(e), true);
        if e.status() == 401 {
            r.set_header("WWW-Authenticate", "Basic realm=\"oauth2\"");
        }
        r
    }
}

/// An absent `data` is an empty object, as python-oauth2 stored it.
pub(crate) fn normalize_data(data: Value) -> Value {
    match data {
        Value::Null => Value::Object(Default::default()),
        other => other,
    }
}
