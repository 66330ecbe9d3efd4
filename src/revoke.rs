//! The revocation endpoint (RFC 7009).

use crate::engine::Engine;
use crate::error::OAuthError;
use crate::http::{Request, Response};
use crate::model::Lookup;

impl Engine {
    pub(crate) fn revocation_endpoint(&self, req: &Request<'_>) -> Response {
        match self.revoke(req) {
            Ok(()) => {
                let mut r = Response::new(200);
                r.set_header("Cache-Control", "no-store");
                r
            }
            Err(e) => self.json_error(&e),
        }
    }

    fn revoke(&self, req: &Request<'_>) -> Result<(), OAuthError> {
        let form = self.token_form(req)?;
        let client = self.authenticate_client(req, &form, None)?;
        let token = form
            .get("token")
            .ok_or_else(|| OAuthError::invalid_request("Missing token parameter"))?;
        let tokens = &self.storage.tokens;
        let host = |e| self.host(e);
        // The hint only says where to look first (RFC 7009 §2.1); both kinds are tried.
        if form.get("token_type_hint") != Some("refresh_token") {
            if let Some(t) = tokens
                .fetch_by_access_token(token, req.context)
                .map_err(host)?
            {
                // A token of another client is left alone, and the answer is the same (§2.1).
                if t.client_id == client.client_id {
                    tokens.revoke_token(token, req.context).map_err(host)?;
                }
                return Ok(());
            }
        }
        if let Lookup::Found(t) = tokens
            .fetch_by_refresh_token(token, req.context)
            .map_err(host)?
        {
            // Revoking a refresh token ends its whole grant (§2.1: SHOULD).
            if t.client_id == client.client_id {
                tokens.revoke_family(&t.family, req.context).map_err(host)?;
            }
            return Ok(());
        }
        if let Some(t) = tokens
            .fetch_by_access_token(token, req.context)
            .map_err(host)?
        {
            if t.client_id == client.client_id {
                tokens.revoke_token(token, req.context).map_err(host)?;
            }
        }
        // Unknown or already invalid tokens are not an error (§2.2).
        Ok(())
    }
}
