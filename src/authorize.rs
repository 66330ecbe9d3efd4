//! The authorization endpoint (RFC 6749 §3.1, §4.1.1, §4.2.1): validates the client and its
//! redirect URI, asks the site adapter for consent, and answers with a code or (implicit) token.
//!
//! Whether an error is redirected or rendered is decided here and only here: until the client
//! and its redirect URI are validated, errors are rendered as a 400 page and never redirected
//! (R04); after that they go back to the client with `state` (R05).

use std::sync::Arc;

use crate::engine::{normalize_data, Engine, TokenRequest};
use crate::error::OAuthError;
use crate::form::Params;
use crate::http::{Request, Response};
use crate::model::{AuthorizationCode, Client, GrantType, PkceMethod, ResponseType};
use crate::pkce;
use crate::redirect::{Location, Placement};
use crate::site::{Authentication, Consent};
use crate::token::{family_id, TokenKind};

/// Where an error of a validated request goes back to.
struct Target<'a> {
    redirect_uri: &'a str,
    placement: Placement,
    state: Option<&'a str>,
}

/// The parameters the authorization endpoint reads, each from the query or else (for a POST)
/// from the form body.
#[derive(Default)]
struct AuthParams<'p> {
    client_id: Option<&'p str>,
    redirect_uri: Option<&'p str>,
    response_type: Option<&'p str>,
    state: Option<&'p str>,
    scope: Option<&'p str>,
    code_challenge: Option<&'p str>,
    code_challenge_method: Option<&'p str>,
}

impl<'p> AuthParams<'p> {
    /// Picks them out of the query, then the body: one pass over each rather than a lookup per
    /// parameter. A parameter already picked from the query keeps its value (the two were
    /// checked to agree).
    fn pick(query: &'p Params<'_>, body: Option<&'p Params<'_>>) -> Self {
        let mut p = AuthParams::default();
        for (name, value) in query.iter().chain(body.into_iter().flat_map(Params::iter)) {
            let slot = match name {
                "client_id" => &mut p.client_id,
                "redirect_uri" => &mut p.redirect_uri,
                "response_type" => &mut p.response_type,
                "state" => &mut p.state,
                "scope" => &mut p.scope,
                "code_challenge" => &mut p.code_challenge,
                "code_challenge_method" => &mut p.code_challenge_method,
                _ => continue,
            };
            slot.get_or_insert(value);
        }
        p
    }
}

impl Engine {
    pub(crate) fn authorize_endpoint(&self, req: &Request<'_>) -> Response {
        if req.method != "GET" && req.method != "POST" {
            let mut r = self.render_error(&OAuthError::invalid_request(
                "The authorization endpoint accepts GET and POST only",
            ));
            r.status = 405;
            r.set_header("Allow", "GET, POST");
            return r;
        }
        let (query, body) = match self.auth_params(req) {
            Ok(p) => p,
            Err(e) => return self.render_error(&e),
        };
        let params = AuthParams::pick(&query, body.as_ref());
        let client = match self.auth_client(&params, req) {
            Ok(c) => c,
            Err(e) => return self.render_error(&e),
        };
        let redirect_uri = match self.auth_redirect_uri(&client, params.redirect_uri) {
            Ok(u) => u,
            Err(e) => return self.render_error(&e),
        };
        let response_type = params.response_type.and_then(ResponseType::parse);
        let target = Target {
            redirect_uri,
            placement: match response_type {
                Some(ResponseType::Token) => Placement::Fragment,
                _ => Placement::Query,
            },
            state: params.state,
        };
        match self.authorize_validated(req, &params, &client, &target) {
            Ok(r) => r,
            Err(e) => self.redirect_error(&e, &target),
        }
    }

    /// The query's parameters and (for a POST with a form) the body's.
    fn auth_params<'a>(
        &self,
        req: &Request<'a>,
    ) -> Result<(Params<'a>, Option<Params<'a>>), OAuthError> {
        let query = Params::parse(req.query.as_bytes())?;
        if req.method != "POST" || !req.has_form_body() {
            return Ok((query, None));
        }
        if req.body.len() > self.s.max_body {
            return Err(OAuthError::invalid_request("Request body too large"));
        }
        let body = Params::parse(req.body)?;
        // R09 across the two: the same parameter in query and body must not disagree.
        for (name, value) in body.iter() {
            if query.get(name).is_some_and(|q| q != value) {
                return Err(OAuthError::invalid_request(format!(
                    "parameter '{name}' is repeated"
                )));
            }
        }
        Ok((query, Some(body)))
    }

    fn auth_client(
        &self,
        params: &AuthParams<'_>,
        req: &Request<'_>,
    ) -> Result<Arc<Client>, OAuthError> {
        let id = params
            .client_id
            .ok_or_else(|| OAuthError::invalid_request("Missing client_id parameter"))?;
        self.storage
            .clients
            .fetch_client(id, req.context)
            .map_err(|e| self.host(e))?
            .ok_or_else(|| OAuthError::invalid_request("Unknown client"))
    }

    /// The URI responses go to: the requested one if it matches a registration, else the only
    /// registered one.
    fn auth_redirect_uri<'u>(
        &self,
        client: &'u Client,
        requested: Option<&'u str>,
    ) -> Result<&'u str, OAuthError> {
        let policy = &self.s.redirects;
        let chosen = match requested {
            Some(uri) => {
                if !client.redirect_uris.iter().any(|r| policy.matches(r, uri)) {
                    return Err(OAuthError::invalid_request("Invalid redirect URI"));
                }
                uri
            }
            None => match client.redirect_uris.as_slice() {
                [only] => only.as_str(),
                [] => {
                    return Err(OAuthError::invalid_request(
                        "The client has no redirect URI registered",
                    ))
                }
                _ => {
                    return Err(OAuthError::invalid_request(
                        "Missing redirect_uri parameter (the client has several)",
                    ))
                }
            },
        };
        if !policy.is_acceptable(chosen) {
            return Err(OAuthError::invalid_request("Redirect URI not allowed"));
        }
        Ok(chosen)
    }

    fn authorize_validated(
        &self,
        req: &Request<'_>,
        params: &AuthParams<'_>,
        client: &Client,
        target: &Target<'_>,
    ) -> Result<Response, OAuthError> {
        let raw_type = params
            .response_type
            .ok_or_else(|| OAuthError::invalid_request("Missing response_type parameter"))?;
        let unsupported = || {
            OAuthError::new(
                crate::error::ErrorCode::UnsupportedResponseType,
                "Response type not supported",
            )
        };
        let response_type = ResponseType::parse(raw_type).ok_or_else(unsupported)?;
        let grant = self
            .s
            .grant(response_type.grant())
            .ok_or_else(unsupported)?;
        if !client.allows_response_type(response_type) || !client.allows_grant(grant.kind) {
            return Err(OAuthError::unauthorized_client(
                "The client is not allowed to use this response type",
            ));
        }
        let scopes = grant
            .scope
            .parse(params.scope, &self.s.separator, self.s.unknown_scope)?;
        let challenge = match response_type {
            ResponseType::Code => self.pkce_challenge(params, client)?,
            ResponseType::Token => None,
        };
        let consent = Consent {
            request: req,
            client,
            response_type,
            scopes: &scopes.scopes,
            redirect_uri: target.redirect_uri,
            state: target.state,
        };
        let site = self.site_for(grant)?;
        if site
            .user_has_denied_access(&consent)
            .map_err(|e| self.host(e))?
        {
            return Err(OAuthError::new(
                crate::error::ErrorCode::AccessDenied,
                "Authorization denied by user",
            ));
        }
        let (user_id, data) = match site.authenticate(&consent).map_err(|e| self.host(e))? {
            Authentication::Authenticated { user_id, data } => (user_id, data),
            Authentication::NotAuthenticated => {
                let mut page = site.render_auth_page(&consent).map_err(|e| self.host(e))?;
                harden_page(&mut page);
                return Ok(page);
            }
        };
        let mut loc = Location::new(target.redirect_uri, target.placement);
        match response_type {
            ResponseType::Code => {
                let code = self.generate(TokenKind::AuthorizationCode)?;
                // The location is written first: the code itself then goes to the store as it
                // is, without a copy.
                loc.param("code", &code);
                let code = AuthorizationCode {
                    code,
                    client_id: client.client_id.clone(),
                    redirect_uri: target.redirect_uri.to_owned(),
                    redirect_uri_given: params.redirect_uri.is_some(),
                    scopes: scopes.scopes,
                    data: normalize_data(data),
                    user_id,
                    expires_at: self.now() + self.s.code_lifetime,
                    code_challenge_method: challenge.as_ref().map(|c| c.1),
                    code_challenge: challenge.map(|c| c.0),
                    family: family_id(),
                };
                self.storage
                    .codes
                    .save_code_owned(code, req.context)
                    .map_err(|e| self.host(e))?;
            }
            ResponseType::Token => {
                let issued = self.create_token(
                    TokenRequest {
                        client,
                        lifetime: grant.lifetime,
                        unique: grant.unique,
                        grant_type: GrantType::Implicit,
                        scopes: scopes.scopes,
                        data: normalize_data(data),
                        user_id,
                        family: None,
                        refreshable: false,
                    },
                    req.context,
                )?;
                loc.param("access_token", &issued.access_token);
                loc.param("token_type", "bearer");
                if let Some(exp) = issued.expires_in {
                    loc.param("expires_in", &exp.to_string());
                }
                if scopes.defaulted {
                    loc.param("scope", &self.join_scopes(&issued.scopes));
                }
            }
        }
        if let Some(state) = target.state {
            loc.param("state", state);
        }
        if let Some(iss) = &self.s.issuer {
            loc.param("iss", iss);
        }
        Ok(Response::redirect(loc.finish()))
    }

    /// The request's PKCE challenge, checked against the policy (R11, R12, R15).
    fn pkce_challenge(
        &self,
        params: &AuthParams<'_>,
        client: &Client,
    ) -> Result<Option<(String, PkceMethod)>, OAuthError> {
        let challenge = params.code_challenge;
        let method = params.code_challenge_method;
        let Some(challenge) = challenge else {
            if method.is_some() {
                return Err(OAuthError::invalid_request(
                    "code_challenge_method without code_challenge",
                ));
            }
            // R12: public clients always need PKCE in the strict profile; the policy may demand
            // it of every client.
            let strict_public =
                self.s.profile == crate::config::Profile::OAuth21 && client.is_public();
            if self.s.pkce_required || strict_public {
                return Err(OAuthError::invalid_request("PKCE code_challenge required"));
            }
            return Ok(None);
        };
        let method = pkce::parse_method(method)
            .ok_or_else(|| OAuthError::invalid_request("Unsupported code_challenge_method"))?;
        let well_formed = match method {
            PkceMethod::Plain => {
                if !self.s.pkce_allow_plain {
                    return Err(OAuthError::invalid_request(
                        "code_challenge_method plain is not allowed; use S256",
                    ));
                }
                pkce::is_valid_verifier(challenge)
            }
            PkceMethod::S256 => pkce::is_valid_s256_challenge(challenge),
        };
        if !well_formed {
            return Err(OAuthError::invalid_request("Malformed code_challenge"));
        }
        Ok(Some((challenge.to_owned(), method)))
    }

    /// An error page (400, or 500/503 when a callback failed): the request cannot be trusted to
    /// name where the answer should go.
    pub(crate) fn render_error(&self, e: &OAuthError) -> Response {
        let mut r = Response::json(e.code.status(), self.error_body(e), true);
        harden_page(&mut r);
        r
    }

    fn redirect_error(&self, e: &OAuthError, target: &Target<'_>) -> Response {
        let mut loc = Location::new(target.redirect_uri, target.placement);
        loc.param("error", e.code.as_str());
        loc.param("error_description", &e.description);
        if let Some(state) = target.state {
            loc.param("state", state);
        }
        if let Some(iss) = &self.s.issuer {
            loc.param("iss", iss);
        }
        Response::redirect(loc.finish())
    }
}

/// The consent page must not be framed (R08) nor cached. The host's own values win.
fn harden_page(page: &mut Response) {
    for (name, value) in [
        ("X-Frame-Options", "DENY"),
        ("Content-Security-Policy", "frame-ancestors 'none'"),
        ("Cache-Control", "no-store"),
    ] {
        if page.header(name).is_none() {
            page.headers.push((name.into(), value.into()));
        }
    }
}
