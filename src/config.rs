//! Engine configuration: what the host asks for (deserializable from the C ABI's JSON), and its
//! validation into the settings the engine runs on.

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;

use crate::client_auth::AuthMethods;
use crate::json::WireStyle;
use crate::model::GrantType;
use crate::redirect::MatchPolicy;
use crate::scope::{ScopePolicy, UnknownScope};
use crate::site::SiteAdapter;
use crate::token::TokenFormat;

/// A security profile (ARCHITECTURE.md, "Security profiles").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum Profile {
    /// OAuth 2.1 / RFC 9700: exact redirects with the loopback-port exception, https redirects,
    /// PKCE S256 on every code flow, no implicit or password grant.
    #[default]
    #[serde(rename = "oauth2.1")]
    OAuth21,
    /// RFC 6749 as python-oauth2 offered it, with every security fix still on: PKCE enforced
    /// when a challenge was sent, `http` redirects allowed, implicit and password available.
    #[serde(rename = "legacy")]
    Legacy,
}

/// One grant the engine offers.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GrantConfig {
    #[serde(rename = "type")]
    pub grant: Option<GrantType>,
    /// Access-token lifetime in seconds (for `refresh_token`: the refresh-token lifetime).
    /// 0 means "never expires"; absent means the profile's default.
    pub expires_in: Option<u64>,
    /// Hand a user their live token again instead of minting a new one (python-oauth2's
    /// `unique_token`; authorization_code and password only).
    pub unique_token: bool,
    /// Scopes this grant offers; empty for none.
    pub scopes: Vec<String>,
    /// Scope granted when the request asks for none.
    pub default_scope: Option<String>,
    /// `refresh_token` only: issue a new refresh token on every refresh and use up the old one.
    /// Public clients are always rotated (R24).
    pub rotate: Option<bool>,
    /// The site adapter for this grant; falls back to the engine's.
    #[serde(skip)]
    pub site_adapter: Option<Arc<dyn SiteAdapter>>,
}

impl GrantConfig {
    pub fn new(grant: GrantType) -> Self {
        GrantConfig {
            grant: Some(grant),
            ..Default::default()
        }
    }
}

impl fmt::Debug for GrantConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrantConfig")
            .field("grant", &self.grant)
            .field("expires_in", &self.expires_in)
            .field("unique_token", &self.unique_token)
            .field("scopes", &self.scopes)
            .field("default_scope", &self.default_scope)
            .field("rotate", &self.rotate)
            .field("site_adapter", &self.site_adapter.is_some())
            .finish()
    }
}

/// PKCE policy; absent fields take the profile's default.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PkceConfig {
    /// Every code request must carry a challenge (`oauth2.1`: yes; `legacy`: no).
    pub required: Option<bool>,
    /// Accept `code_challenge_method=plain` (default: no, R15).
    pub allow_plain: bool,
}

/// Everything an engine is built from, apart from storage and callbacks.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub profile: Profile,
    pub authorize_path: String,
    pub token_path: String,
    /// RFC 7009 revocation endpoint; `None` turns it off.
    pub revocation_path: Option<String>,
    /// The issuer identifier (https URL). When set, authorization responses carry `iss`
    /// (RFC 9207) and the RFC 8414 metadata document is served.
    pub issuer: Option<String>,
    /// The grants, in the order they were added.
    pub grants: Vec<GrantConfig>,
    /// Authorization-code lifetime in seconds (1 to 600).
    pub code_lifetime: u64,
    pub pkce: PkceConfig,
    pub client_authentication: AuthMethods,
    pub token_format: TokenFormat,
    pub wire_style: WireStyle,
    /// Absent: `reject` in `oauth2.1`, `drop` in `legacy`.
    pub unknown_scope: Option<UnknownScope>,
    pub scope_separator: String,
    /// Give `http://localhost` the loopback port exception (RFC 8252 §8.3 discourages it).
    pub localhost_is_loopback: bool,
    /// Larger bodies are refused with `invalid_request`.
    pub max_body_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            profile: Profile::OAuth21,
            authorize_path: "/authorize".into(),
            token_path: "/token".into(),
            revocation_path: None,
            issuer: None,
            grants: Vec::new(),
            code_lifetime: 600,
            pkce: PkceConfig::default(),
            client_authentication: AuthMethods::Any,
            token_format: TokenFormat::Random,
            wire_style: WireStyle::Compact,
            unknown_scope: None,
            scope_separator: " ".into(),
            localhost_is_loopback: false,
            max_body_bytes: 64 * 1024,
        }
    }
}

/// A configuration the engine cannot run with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

/// A grant as the engine runs it.
#[derive(Clone)]
pub(crate) struct Grant {
    pub kind: GrantType,
    /// Seconds; 0 = never expires.
    pub lifetime: u64,
    pub unique: bool,
    pub scope: ScopePolicy,
    pub rotate: bool,
    pub site: Option<Arc<dyn SiteAdapter>>,
}

/// The validated configuration.
#[derive(Clone)]
pub(crate) struct Settings {
    pub profile: Profile,
    pub authorize_path: String,
    pub token_path: String,
    pub revocation_path: Option<String>,
    pub issuer: Option<String>,
    pub grants: Vec<Grant>,
    pub code_lifetime: i64,
    pub pkce_required: bool,
    pub pkce_allow_plain: bool,
    pub unknown_scope: UnknownScope,
    pub separator: String,
    pub redirects: MatchPolicy,
    pub wire: WireStyle,
    pub max_body: usize,
}

impl Settings {
    pub fn grant(&self, kind: GrantType) -> Option<&Grant> {
        self.grants.iter().find(|g| g.kind == kind)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

fn check_path(name: &str, p: &str) -> Result<(), ConfigError> {
    if !p.starts_with('/') || p.contains(['?', '#']) {
        return err(format!(
            "{name} must be a path starting with '/', got {p:?}"
        ));
    }
    Ok(())
}

impl Config {
    /// A configuration in the `legacy` profile, as python-oauth2 hosts expect.
    pub fn legacy() -> Self {
        Config {
            profile: Profile::Legacy,
            ..Config::default()
        }
    }

    pub(crate) fn validate(&self) -> Result<Settings, ConfigError> {
        let strict = self.profile == Profile::OAuth21;
        check_path("authorize_path", &self.authorize_path)?;
        check_path("token_path", &self.token_path)?;
        if self.authorize_path == self.token_path {
            return err("authorize_path and token_path must differ");
        }
        if let Some(p) = &self.revocation_path {
            check_path("revocation_path", p)?;
            if *p == self.authorize_path || *p == self.token_path {
                return err("revocation_path must differ from the other endpoints");
            }
        }
        if let Some(iss) = &self.issuer {
            // http is tolerated for a loopback issuer, so that demos and tests can run.
            let scheme_ok = iss.starts_with("https://")
                || iss.starts_with("http://127.0.0.1")
                || iss.starts_with("http://localhost");
            if !scheme_ok || iss.contains(['?', '#']) {
                return err(format!(
                    "issuer must be an https URL without query or fragment, got {iss:?}"
                ));
            }
        }
        if !(1..=600).contains(&self.code_lifetime) {
            return err("code_lifetime must be between 1 and 600 seconds (RFC 9700 recommends at most 10 minutes)");
        }
        if self.scope_separator.is_empty() {
            return err("scope_separator must not be empty");
        }
        if self.max_body_bytes == 0 {
            return err("max_body_bytes must be positive");
        }
        self.token_format.validate().map_err(ConfigError)?;
        let mut grants: Vec<Grant> = Vec::with_capacity(self.grants.len());
        for g in &self.grants {
            let Some(kind) = g.grant else {
                return err("every grant needs a \"type\"");
            };
            if grants.iter().any(|x| x.kind == kind) {
                return err(format!("grant {} is configured twice", kind.as_str()));
            }
            if strict && matches!(kind, GrantType::Password | GrantType::Implicit) {
                return err(format!(
                    "the {} grant is not available in the oauth2.1 profile (RFC 9700 §2.4, §2.1.2); use the legacy profile",
                    kind.as_str()
                ));
            }
            if g.unique_token && !matches!(kind, GrantType::AuthorizationCode | GrantType::Password)
            {
                return err(format!(
                    "unique_token applies to authorization_code and password only, not {}",
                    kind.as_str()
                ));
            }
            if g.rotate.is_some() && kind != GrantType::RefreshToken {
                return err("rotate applies to the refresh_token grant only");
            }
            if let Some(d) = &g.default_scope {
                if !g.scopes.is_empty() && !g.scopes.contains(d) {
                    return err(format!(
                        "default_scope {d:?} of {} is not among its scopes",
                        kind.as_str()
                    ));
                }
            }
            let default_lifetime = match (kind, strict) {
                (GrantType::RefreshToken, true) => 30 * 24 * 3600,
                (_, true) => 3600,
                (_, false) => 0,
            };
            grants.push(Grant {
                kind,
                lifetime: g.expires_in.unwrap_or(default_lifetime),
                unique: g.unique_token,
                scope: ScopePolicy {
                    available: g.scopes.clone(),
                    default: g.default_scope.clone(),
                },
                rotate: g.rotate.unwrap_or(strict),
                site: g.site_adapter.clone(),
            });
        }
        Ok(Settings {
            profile: self.profile,
            authorize_path: self.authorize_path.clone(),
            token_path: self.token_path.clone(),
            revocation_path: self.revocation_path.clone(),
            issuer: self.issuer.clone(),
            grants,
            code_lifetime: self.code_lifetime as i64,
            pkce_required: self.pkce.required.unwrap_or(strict),
            pkce_allow_plain: self.pkce.allow_plain,
            unknown_scope: self.unknown_scope.unwrap_or(if strict {
                UnknownScope::Reject
            } else {
                UnknownScope::Drop
            }),
            separator: self.scope_separator.clone(),
            redirects: MatchPolicy {
                require_https: strict,
                localhost_is_loopback: self.localhost_is_loopback,
            },
            wire: self.wire_style,
            max_body: self.max_body_bytes,
        })
    }
}
