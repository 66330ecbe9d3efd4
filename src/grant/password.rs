//! The resource-owner password credentials grant (RFC 6749 §4.3), `legacy` profile only.

use super::{BodyOrder, Granted};
use crate::config::Grant;
use crate::engine::{normalize_data, Engine, TokenRequest};
use crate::error::OAuthError;
use crate::form::Params;
use crate::http::Request;
use crate::model::GrantType;
use crate::site::{Authentication, PasswordLogin};

impl Engine {
    pub(crate) fn password_grant(
        &self,
        req: &Request<'_>,
        form: &Params<'_>,
        grant: &Grant,
    ) -> Result<Granted, OAuthError> {
        let client = self.authenticate_client(req, form, Some(GrantType::Password))?;
        let username = form
            .get("username")
            .ok_or_else(|| OAuthError::invalid_request("Missing username parameter"))?;
        let password = form
            .get("password")
            .ok_or_else(|| OAuthError::invalid_request("Missing password parameter"))?;
        let scopes =
            grant
                .scope
                .parse(form.get("scope"), &self.s.separator, self.s.unknown_scope)?;
        let login = PasswordLogin {
            request: req,
            client: &client,
            scopes: &scopes.scopes,
            username,
            password,
        };
        let site = self.site_for(grant)?;
        let (user_id, data) = match site
            .authenticate_password(&login)
            .map_err(|e| self.host(e))?
        {
            Authentication::Authenticated { user_id, data } => (user_id, data),
            // RFC 6749 §5.2: invalid resource-owner credentials are an invalid grant.
            Authentication::NotAuthenticated => {
                return Err(OAuthError::invalid_grant(
                    "Unable to authenticate resource owner",
                ))
            }
        };
        let issued = self.create_token(
            TokenRequest {
                client: &client,
                lifetime: grant.lifetime,
                unique: grant.unique,
                grant_type: GrantType::Password,
                scopes: scopes.scopes,
                data: normalize_data(data),
                user_id,
                family: None,
                refreshable: true,
            },
            req.context,
        )?;
        Ok(Granted {
            issued,
            order: BodyOrder::AccessTokenFirst,
            show_scope: scopes.defaulted,
        })
    }
}
