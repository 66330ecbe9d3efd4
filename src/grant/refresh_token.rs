//! The refresh-token grant (RFC 6749 §6), with rotation and replay detection (RFC 9700 §4.14).

use super::{BodyOrder, Granted};
use crate::config::Grant;
use crate::engine::{Engine, TokenRequest};
use crate::error::OAuthError;
use crate::form::Params;
use crate::http::Request;
use crate::model::{GrantType, Lookup};
use crate::scope;

impl Engine {
    pub(crate) fn refresh_token_grant(
        &self,
        req: &Request<'_>,
        form: &Params<'_>,
        refresh_grant: &Grant,
    ) -> Result<Granted, OAuthError> {
        let refresh_token = form
            .get("refresh_token")
            .ok_or_else(|| OAuthError::invalid_request("Missing refresh_token parameter"))?;
        let client = self.authenticate_client(req, form, Some(GrantType::RefreshToken))?;
        let tokens = &self.storage.tokens;
        let replayed = |family: &str| -> OAuthError {
            // A used refresh token came back: someone holds a copy. Revoke the whole grant (R24).
            if let Err(e) = tokens.revoke_family(family, req.context) {
                return self.host(e);
            }
            OAuthError::invalid_grant("Refresh token already used")
        };
        let old = match tokens
            .fetch_by_refresh_token(refresh_token, req.context)
            .map_err(|e| self.host(e))?
        {
            Lookup::Found(t) => t,
            Lookup::Used { family } => return Err(replayed(&family)),
            Lookup::Missing => return Err(OAuthError::invalid_grant("Invalid refresh token")),
        };
        // R25: bound to its client.
        if old.client_id != client.client_id {
            return Err(OAuthError::invalid_grant("Invalid refresh token"));
        }
        let now = self.now();
        if old.refresh_is_expired(now) {
            return Err(OAuthError::invalid_grant("Refresh token has expired"));
        }
        let scopes = scope::narrow(&old.scopes, form.get("scope"), &self.s.separator)?;
        let narrowed = scopes != old.scopes;
        // The new access token lives as long as the grant the family started with says.
        let origin = self.s.grant(old.grant_type).unwrap_or(refresh_grant);
        let rotate = refresh_grant.rotate || client.is_public();
        if rotate {
            match tokens
                .use_refresh_token(refresh_token, req.context)
                .map_err(|e| self.host(e))?
            {
                Lookup::Found(_) => {}
                // Lost a race with a concurrent use of the same token: that is a replay too.
                Lookup::Used { family } => return Err(replayed(&family)),
                Lookup::Missing => return Err(OAuthError::invalid_grant("Invalid refresh token")),
            }
        }
        let mut issued = self.create_token(
            TokenRequest {
                client: &client,
                lifetime: origin.lifetime,
                unique: false,
                grant_type: old.grant_type,
                scopes,
                data: old.data,
                user_id: old.user_id,
                family: Some(old.family),
                refreshable: rotate,
            },
            req.context,
        )?;
        if !rotate {
            // Without rotation the client keeps using the refresh token it has.
            issued.refresh_token = None;
        }
        Ok(Granted {
            issued,
            order: BodyOrder::AccessTokenFirst,
            show_scope: narrowed,
        })
    }
}
