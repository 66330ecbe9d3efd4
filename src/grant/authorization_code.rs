//! The authorization-code grant's token request (RFC 6749 §4.1.3, RFC 7636 §4.5).

use super::{BodyOrder, Granted};
use crate::config::Grant;
use crate::engine::{Engine, TokenRequest};
use crate::error::OAuthError;
use crate::form::Params;
use crate::http::Request;
use crate::model::{GrantType, Lookup};
use crate::pkce;

impl Engine {
    pub(crate) fn authorization_code_grant(
        &self,
        req: &Request<'_>,
        form: &Params<'_>,
        grant: &Grant,
    ) -> Result<Granted, OAuthError> {
        let client = self.authenticate_client(req, form, Some(GrantType::AuthorizationCode))?;
        let code = form
            .get("code")
            .ok_or_else(|| OAuthError::invalid_request("Missing code parameter"))?;
        // The code is taken before it is checked: whatever follows, it can never be used again
        // (R17), and two concurrent redemptions cannot both get here.
        let taken = self
            .storage
            .codes
            .consume_code(code, req.context)
            .map_err(|e| self.host(e))?;
        let stored = match taken {
            Lookup::Found(c) => c,
            Lookup::Used { family } => {
                // A replayed code: everything issued from it is revoked (R17).
                self.storage
                    .tokens
                    .revoke_family(&family, req.context)
                    .map_err(|e| self.host(e))?;
                return Err(OAuthError::invalid_grant("Authorization code already used"));
            }
            Lookup::Missing => return Err(OAuthError::invalid_grant("Invalid authorization code")),
        };
        if stored.client_id != client.client_id {
            // R18. The code is burnt: a client holding another's code is an attack.
            return Err(OAuthError::invalid_grant(
                "Authorization code was issued to another client",
            ));
        }
        if stored.expires_at <= self.now() {
            return Err(OAuthError::invalid_grant("Authorization code has expired"));
        }
        match form.get("redirect_uri") {
            Some(uri) if uri != stored.redirect_uri => {
                return Err(OAuthError::invalid_grant(
                    "redirect_uri does not match the authorization request",
                ));
            }
            None if stored.redirect_uri_given => {
                return Err(OAuthError::invalid_grant(
                    "redirect_uri is required because the authorization request included it",
                ));
            }
            _ => {}
        }
        let verifier = form.get("code_verifier");
        match (
            &stored.code_challenge,
            stored.code_challenge_method,
            verifier,
        ) {
            (Some(challenge), Some(method), Some(v)) => {
                if !pkce::verify(challenge, method, v) {
                    return Err(OAuthError::invalid_grant("PKCE verification failed"));
                }
            }
            (Some(_), _, None) => return Err(OAuthError::invalid_grant("Missing code_verifier")),
            // R14: a verifier for a code issued without a challenge is a downgrade attempt.
            (None, _, Some(_)) => {
                return Err(OAuthError::invalid_grant(
                    "code_verifier sent, but the authorization request had no code_challenge",
                ))
            }
            (Some(_), None, Some(_)) => {
                return Err(OAuthError::invalid_grant("PKCE verification failed"))
            }
            (None, _, None) => {}
        }
        let issued = self.create_token(
            TokenRequest {
                client: &client,
                lifetime: grant.lifetime,
                unique: grant.unique,
                grant_type: GrantType::AuthorizationCode,
                scopes: stored.scopes,
                data: stored.data,
                user_id: stored.user_id,
                family: Some(stored.family),
                refreshable: true,
            },
            req.context,
        )?;
        Ok(Granted {
            issued,
            order: BodyOrder::AccessTokenFirst,
            show_scope: true,
        })
    }
}
