//! oauth2-engine: an OAuth 2.0 authorization server as a library.
//!
//! Build an [`Engine`] from a [`Config`], a [`Storage`] and (for user-facing grants) a
//! [`SiteAdapter`]; then hand every request on the authorization, token and revocation paths to
//! [`Engine::handle`]. The same engine serves C hosts through the C ABI (`src/ffi`) and Python
//! through the `oauth2` package.

pub mod client_auth;
pub mod clock;
pub mod config;
pub mod error;
#[cfg(feature = "capi")]
pub mod ffi;
pub mod form;
pub mod http;
pub mod json;
pub mod model;
pub mod pkce;
pub mod redirect;
pub mod scope;
pub mod site;
pub mod store;
pub mod token;

mod authorize;
mod engine;
mod grant;
mod metadata;
mod revoke;
mod scan;

pub use client_auth::{AuthMethods, ClientAuthentication, CredentialSource, Credentials};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Config, ConfigError, GrantConfig, PkceConfig, Profile};
pub use engine::{Engine, EngineBuilder, ErrorHook};
pub use error::{ErrorCode, HostError, HostErrorKind, OAuthError};
pub use http::{Ctx, Request, Response};
pub use json::WireStyle;
pub use model::{
    AccessToken, AuthorizationCode, Client, GrantType, Lookup, PkceMethod, ResponseType,
};
pub use scope::UnknownScope;
pub use site::{Authentication, Consent, PasswordLogin, SiteAdapter};
pub use store::{ClientStore, CodeStore, MemoryStore, Storage, TokenStore};
pub use token::{TokenFormat, TokenGenerator, TokenKind};

/// The library's version, as `MAJOR.MINOR.PATCH`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
