//! The site adapter: the host's login, session and consent page, as the engine sees them.

use serde_json::Value;

use crate::error::HostError;
use crate::http::{Request, Response};
use crate::model::{Client, ResponseType};

/// A user-facing authorization request, validated: the client is registered, the redirect URI
/// is one of its own, the scopes are the ones the policy allows.
#[derive(Clone, Copy, Debug)]
pub struct Consent<'a> {
    pub request: &'a Request<'a>,
    pub client: &'a Client,
    pub response_type: ResponseType,
    pub scopes: &'a [String],
    pub redirect_uri: &'a str,
    pub state: Option<&'a str>,
}

/// A resource-owner password credentials request, after the client was authenticated.
#[derive(Clone, Copy, Debug)]
pub struct PasswordLogin<'a> {
    pub request: &'a Request<'a>,
    pub client: &'a Client,
    pub scopes: &'a [String],
    pub username: &'a str,
    pub password: &'a str,
}

/// Who the user is, as far as the host knows.
#[derive(Clone, Debug, PartialEq)]
pub enum Authentication {
    /// Logged in and consenting. `data` travels with the code and token; `user_id` identifies
    /// the user to stores (and for unique tokens).
    Authenticated { user_id: Option<Value>, data: Value },
    /// Not (yet): the engine shows the consent page, or for the password grant answers
    /// `invalid_grant`.
    NotAuthenticated,
}

/// The host's side of the user-facing grants.
pub trait SiteAdapter: Send + Sync {
    /// True when the user has refused (the engine answers `access_denied`).
    fn user_has_denied_access(&self, consent: &Consent<'_>) -> Result<bool, HostError>;

    /// Whether the user is logged in and has agreed.
    fn authenticate(&self, consent: &Consent<'_>) -> Result<Authentication, HostError>;

    /// The login or consent page. The engine adds anti-framing and no-store headers (R08).
    fn render_auth_page(&self, consent: &Consent<'_>) -> Result<Response, HostError>;

    /// Checks a username and password (resource-owner password grant).
    fn authenticate_password(
        &self,
        login: &PasswordLogin<'_>,
    ) -> Result<Authentication, HostError> {
        let _ = login;
        Ok(Authentication::NotAuthenticated)
    }
}
