//! The data model: clients, authorization codes and access tokens.
//!
//! These records serialize with serde to the one JSON form that the C callbacks, the SQLite and
//! Redis backends and the Python binding all share. Times are integer epoch seconds.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A grant type, as registered for a client and recorded on every token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    /// Tokens issued at the authorization endpoint (`response_type=token`).
    Implicit,
    Password,
    ClientCredentials,
    RefreshToken,
}

impl GrantType {
    pub const ALL: [GrantType; 5] = [
        GrantType::AuthorizationCode,
        GrantType::Implicit,
        GrantType::Password,
        GrantType::ClientCredentials,
        GrantType::RefreshToken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::Implicit => "implicit",
            GrantType::Password => "password",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::RefreshToken => "refresh_token",
        }
    }

    pub fn parse(s: &str) -> Option<GrantType> {
        GrantType::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// A `response_type` of the authorization endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseType {
    Code,
    Token,
}

impl ResponseType {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseType::Code => "code",
            ResponseType::Token => "token",
        }
    }

    pub fn parse(s: &str) -> Option<ResponseType> {
        match s {
            "code" => Some(ResponseType::Code),
            "token" => Some(ResponseType::Token),
            _ => None,
        }
    }

    /// The grant that serves this response type.
    pub fn grant(self) -> GrantType {
        match self {
            ResponseType::Code => GrantType::AuthorizationCode,
            ResponseType::Token => GrantType::Implicit,
        }
    }
}

/// A registered client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    pub client_id: String,
    /// The secret in clear (as python-oauth2 stores kept it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Lowercase hex SHA-256 of the secret, for stores that do not keep it in clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_sha256: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Grants this client may use; `None` means every grant the engine has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<GrantType>>,
    /// Response types this client may request; `None` means every one the engine has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_types: Option<Vec<ResponseType>>,
}

impl Client {
    /// A confidential client with one secret.
    pub fn confidential(
        id: impl Into<String>,
        secret: impl Into<String>,
        redirect_uris: Vec<String>,
    ) -> Self {
        Client {
            client_id: id.into(),
            client_secret: Some(secret.into()),
            client_secret_sha256: None,
            redirect_uris,
            grant_types: None,
            response_types: None,
        }
    }

    /// A public client (no secret; RFC 6749 §2.1).
    pub fn public(id: impl Into<String>, redirect_uris: Vec<String>) -> Self {
        Client {
            client_id: id.into(),
            client_secret: None,
            client_secret_sha256: None,
            redirect_uris,
            grant_types: None,
            response_types: None,
        }
    }

    /// A client without any secret is public and never authenticated by one (R33).
    pub fn is_public(&self) -> bool {
        self.client_secret.is_none() && self.client_secret_sha256.is_none()
    }

    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.as_ref().is_none_or(|g| g.contains(&grant))
    }

    pub fn allows_response_type(&self, rt: ResponseType) -> bool {
        self.response_types.as_ref().is_none_or(|r| r.contains(&rt))
    }
}

/// The PKCE transformation a challenge was made with (RFC 7636 §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PkceMethod {
    S256,
    #[serde(rename = "plain")]
    Plain,
}

/// An authorization code between the authorization and the token request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationCode {
    pub code: String,
    pub client_id: String,
    /// The redirect URI the code was delivered to.
    pub redirect_uri: String,
    /// Whether the authorization request named `redirect_uri` itself; if so, the token request
    /// must repeat it (RFC 6749 §4.1.3).
    #[serde(default)]
    pub redirect_uri_given: bool,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Whatever the site adapter returned about the user; handed on to the token.
    #[serde(default)]
    pub data: Value,
    #[serde(default)]
    pub user_id: Option<Value>,
    pub expires_at: i64,
    #[serde(default)]
    pub code_challenge: Option<String>,
    #[serde(default)]
    pub code_challenge_method: Option<PkceMethod>,
    /// Grant family: every token issued from this code carries it.
    pub family: String,
}

/// An access token and, when one was issued with it, its refresh token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccessToken {
    pub token: String,
    pub client_id: String,
    pub grant_type: GrantType,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub data: Value,
    #[serde(default)]
    pub user_id: Option<Value>,
    /// `None`: never expires.
    #[serde(default)]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// `None`: the refresh token has no absolute expiry.
    #[serde(default)]
    pub refresh_expires_at: Option<i64>,
    pub family: String,
}

impl AccessToken {
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }

    pub fn refresh_is_expired(&self, now: i64) -> bool {
        self.refresh_expires_at.is_some_and(|t| t <= now)
    }

    /// Seconds left, for `expires_in` (never negative).
    pub fn expires_in(&self, now: i64) -> Option<i64> {
        self.expires_at.map(|t| (t - now).max(0))
    }

    /// When the record is of no more use to anyone and may be purged.
    pub fn dead_after(&self) -> Option<i64> {
        dead_after(
            self.expires_at,
            self.refresh_token.is_some(),
            self.refresh_expires_at,
        )
    }
}

/// When a token record may be purged: once its access token and, if it has one, its refresh
/// token have both expired (`None`: never, by time alone). Shared by every backend so that they
/// agree.
pub fn dead_after(
    expires_at: Option<i64>,
    has_refresh: bool,
    refresh_expires_at: Option<i64>,
) -> Option<i64> {
    match (expires_at, has_refresh, refresh_expires_at) {
        (None, _, _) => None,
        (Some(a), false, _) => Some(a),
        (Some(_), true, None) => None,
        (Some(a), true, Some(r)) => Some(a.max(r)),
    }
}

/// The outcome of looking up, or atomically taking, a single-use code or refresh token.
#[derive(Clone, Debug, PartialEq)]
pub enum Lookup<T> {
    /// Live (and, for a take, now taken by this caller alone).
    Found(T),
    /// It existed but was already used: a replay. The grant family it belonged to is returned
    /// so that everything issued from it can be revoked (RFC 9700 §4.14.2, R17, R24).
    Used { family: String },
    /// Never issued, expired and purged, or revoked.
    Missing,
}

impl<T> Lookup<T> {
    /// The same outcome with the found value passed through `f`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Lookup<U> {
        match self {
            Lookup::Found(t) => Lookup::Found(f(t)),
            Lookup::Used { family } => Lookup::Used { family },
            Lookup::Missing => Lookup::Missing,
        }
    }
}
