//! The token endpoint (RFC 6749 §3.2) and its grants, one module each.

mod authorization_code;
mod client_credentials;
mod password;
mod refresh_token;

use std::sync::Arc;

use crate::client_auth::check_secret;
use crate::engine::{Engine, Issued};
use crate::error::{ErrorCode, OAuthError};
use crate::form::Params;
use crate::http::{Request, Response};
use crate::json::JsonObject;
use crate::model::{Client, GrantType};

/// Which key order a token response uses. python-oauth2 wrote client-credentials responses
/// with `token_type` first; clients that compare bodies rely on it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyOrder {
    AccessTokenFirst,
    TokenTypeFirst,
}

/// What a grant answers with.
pub(crate) struct Granted {
    pub issued: Issued,
    pub order: BodyOrder,
    /// Include `scope` in the body.
    pub show_scope: bool,
}

impl Engine {
    pub(crate) fn token_endpoint(&self, req: &Request<'_>) -> Response {
        match self.token_grant(req) {
            Ok(g) => self.token_response(&g),
            Err(e) => self.json_error(&e),
        }
    }

    /// Parses the form body of a token or revocation request.
    pub(crate) fn token_form<'a>(&self, req: &Request<'a>) -> Result<Params<'a>, OAuthError> {
        if req.method != "POST" {
            return Err(OAuthError::invalid_request(
                "This endpoint accepts POST only",
            ));
        }
        if req.body.len() > self.s.max_body {
            return Err(OAuthError::invalid_request("Request body too large"));
        }
        if !req.has_form_body() {
            return Err(OAuthError::invalid_request(
                "Content-Type must be application/x-www-form-urlencoded",
            ));
        }
        Params::parse(req.body)
    }

    fn token_grant(&self, req: &Request<'_>) -> Result<Granted, OAuthError> {
        let form = self.token_form(req)?;
        let raw = form
            .get("grant_type")
            .ok_or_else(|| OAuthError::invalid_request("Missing grant_type parameter"))?;
        let unsupported =
            || OAuthError::new(ErrorCode::UnsupportedGrantType, "Grant type not supported");
        let grant_type = GrantType::parse(raw).ok_or_else(unsupported)?;
        // The grant's settings are looked up once here and handed on.
        let grant = match self.s.grant(grant_type) {
            Some(g) if grant_type != GrantType::Implicit => g,
            _ => return Err(unsupported()),
        };
        match grant_type {
            GrantType::AuthorizationCode => self.authorization_code_grant(req, &form, grant),
            GrantType::Password => self.password_grant(req, &form, grant),
            GrantType::ClientCredentials => self.client_credentials_grant(req, &form, grant),
            GrantType::RefreshToken => self.refresh_token_grant(req, &form, grant),
            GrantType::Implicit => Err(unsupported()),
        }
    }

    /// Authenticates the client of a token request and checks it may use `grant`.
    pub(crate) fn authenticate_client(
        &self,
        req: &Request<'_>,
        form: &Params<'_>,
        grant: Option<GrantType>,
    ) -> Result<Arc<Client>, OAuthError> {
        let creds = self.client_auth.creds(req, form)?;
        let client = self
            .storage
            .clients
            .fetch_client(&creds.client_id, req.context)
            .map_err(|e| self.host(e))?;
        let Some(client) = client else {
            let mut e = OAuthError::invalid_client("No client could be found");
            e.basic_challenge = creds.via_basic;
            return Err(e);
        };
        check_secret(&client, creds.secret.as_deref(), creds.via_basic)?;
        if let Some(g) = grant {
            if !client.allows_grant(g) {
                return Err(OAuthError::unauthorized_client(
                    "The client is not allowed to use this grant type",
                ));
            }
        }
        Ok(client)
    }

    fn token_response(&self, g: &Granted) -> Response {
        let i = &g.issued;
        let mut o = JsonObject::new(self.s.wire);
        if g.order == BodyOrder::TokenTypeFirst {
            o.str("token_type", "Bearer");
            o.str("access_token", &i.access_token);
        } else {
            o.str("access_token", &i.access_token);
            o.str("token_type", "Bearer");
        }
        if let Some(rt) = &i.refresh_token {
            o.str("refresh_token", rt);
        }
        if let Some(exp) = i.expires_in {
            o.int("expires_in", exp);
        }
        if g.show_scope && !i.scopes.is_empty() {
            o.str("scope", &self.join_scopes(&i.scopes));
        }
        Response::json(200, o.finish(), true)
    }
}
