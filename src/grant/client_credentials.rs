//! The client-credentials grant (RFC 6749 §4.4).

use serde_json::Value;

use super::{BodyOrder, Granted};
use crate::config::Grant;
use crate::engine::{Engine, TokenRequest};
use crate::error::OAuthError;
use crate::form::Params;
use crate::http::Request;
use crate::model::GrantType;

impl Engine {
    pub(crate) fn client_credentials_grant(
        &self,
        req: &Request<'_>,
        form: &Params<'_>,
        grant: &Grant,
    ) -> Result<Granted, OAuthError> {
        let client = self.authenticate_client(req, form, Some(GrantType::ClientCredentials))?;
        if client.is_public() {
            return Err(OAuthError::unauthorized_client(
                "Public clients cannot use the client_credentials grant",
            ));
        }
        let scopes =
            grant
                .scope
                .parse(form.get("scope"), &self.s.separator, self.s.unknown_scope)?;
        let issued = self.create_token(
            TokenRequest {
                client: &client,
                lifetime: grant.lifetime,
                unique: grant.unique,
                grant_type: GrantType::ClientCredentials,
                scopes: scopes.scopes,
                data: Value::Object(Default::default()),
                user_id: None,
                family: None,
                // RFC 6749 §4.4.3: no refresh token for this grant.
                refreshable: false,
            },
            req.context,
        )?;
        Ok(Granted {
            issued,
            order: BodyOrder::TokenTypeFirst,
            show_scope: scopes.defaulted,
        })
    }
}
