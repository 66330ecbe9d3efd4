//! The refresh-token grant (RFC 6749 §6), with rotation and replay detection (RFC 9700 §4.14).

use super::{BodyOrder, Granted};
use crate::config::Grant;
use crate::engine::{Engine, TokenRequest};
use crate::error::{HostError, OAuthError};
use crate::form::Params;
use crate::http::Request;
use crate::model::{GrantType, Lookup};
use crate::scope;
use crate::store::RefreshCheck;

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
        let rotate = refresh_grant.rotate || client.is_public();
        let now = self.now();
        let requested = form.get("scope");
        // What the checks decided: why the token was refused, or the new token's scopes and
        // whether they are narrower than the grant's.
        let mut verdict: Option<Result<(Vec<String>, bool), OAuthError>> = None;
        let mut accept = |old: &RefreshCheck<'_>| -> bool {
            let outcome = if old.client_id != client.client_id {
                // R25: bound to its client.
                Err(OAuthError::invalid_grant("Invalid refresh token"))
            } else if old.refresh_expires_at.is_some_and(|t| t <= now) {
                Err(OAuthError::invalid_grant("Refresh token has expired"))
            } else {
                scope::narrow(old.scopes, requested, &self.s.separator).map(|scopes| {
                    let narrowed = scopes != old.scopes;
                    (scopes, narrowed)
                })
            };
            let accepted = outcome.is_ok();
            verdict = Some(outcome);
            accepted
        };
        // Without rotation the token is only read; with it, used up in the same step, so that
        // of two concurrent uses one wins and the other is a replay.
        let old = match tokens
            .redeem_refresh_token(refresh_token, rotate, &mut accept, req.context)
            .map_err(|e| self.host(e))?
        {
            Lookup::Found(carried) => carried,
            Lookup::Used { family } => return Err(replayed(&family)),
            Lookup::Missing => {
                return Err(match verdict {
                    Some(Err(refused)) => refused,
                    _ => OAuthError::invalid_grant("Invalid refresh token"),
                })
            }
        };
        let Some(Ok((scopes, narrowed))) = verdict else {
            // A store that answered without letting the grant check the record.
            return Err(self.host(HostError::failed(
                "redeem_refresh_token found a token without checking it",
            )));
        };
        // The new access token lives as long as the grant the family started with says.
        let origin = self.s.grant(old.grant_type).unwrap_or(refresh_grant);
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
