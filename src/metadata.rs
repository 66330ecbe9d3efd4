//! Authorization-server metadata (RFC 8414), generated from what is enabled (R39).

use crate::engine::Engine;
use crate::http::Response;
use crate::json::{write_string, JsonObject};
use crate::model::GrantType;

pub const WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";

fn array(items: &[&str], style: crate::json::WireStyle) -> String {
    let mut out = String::from("[");
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(&mut out, s, style);
    }
    out.push(']');
    out
}

impl Engine {
    pub(crate) fn metadata_endpoint(&self) -> Response {
        let issuer = self.s.issuer.as_deref().unwrap_or_default();
        let style = self.s.wire;
        let grants: Vec<&str> = self
            .s
            .grants
            .iter()
            .filter(|g| g.kind != GrantType::Implicit)
            .map(|g| g.kind.as_str())
            .collect();
        let mut response_types: Vec<&str> = Vec::new();
        if self.s.grant(GrantType::AuthorizationCode).is_some() {
            response_types.push("code");
        }
        if self.s.grant(GrantType::Implicit).is_some() {
            response_types.push("token");
        }
        let mut scopes: Vec<&str> = Vec::new();
        for g in &self.s.grants {
            for s in &g.scope.available {
                if !scopes.contains(&s.as_str()) {
                    scopes.push(s);
                }
            }
        }
        let auth_methods: &[&str] = match &self.client_auth {
            crate::client_auth::ClientAuthentication::Standard(m) => match m {
                crate::client_auth::AuthMethods::Any => {
                    &["client_secret_basic", "client_secret_post", "none"]
                }
                crate::client_auth::AuthMethods::ClientSecretPost => {
                    &["client_secret_post", "none"]
                }
                crate::client_auth::AuthMethods::ClientSecretBasic => {
                    &["client_secret_basic", "none"]
                }
            },
            crate::client_auth::ClientAuthentication::Custom(_) => &[],
        };
        let pkce: &[&str] = if self.s.pkce_allow_plain {
            &["S256", "plain"]
        } else {
            &["S256"]
        };
        let mut o = JsonObject::new(style);
        o.str("issuer", issuer);
        o.str(
            "authorization_endpoint",
            &format!("{issuer}{}", self.s.authorize_path),
        );
        o.str("token_endpoint", &format!("{issuer}{}", self.s.token_path));
        if let Some(p) = &self.s.revocation_path {
            o.str("revocation_endpoint", &format!("{issuer}{p}"));
        }
        o.raw("grant_types_supported", &array(&grants, style));
        o.raw("response_types_supported", &array(&response_types, style));
        if !scopes.is_empty() {
            o.raw("scopes_supported", &array(&scopes, style));
        }
        if !auth_methods.is_empty() {
            o.raw(
                "token_endpoint_auth_methods_supported",
                &array(auth_methods, style),
            );
        }
        o.raw("code_challenge_methods_supported", &array(pkce, style));
        o.bool("authorization_response_iss_parameter_supported", true);
        let mut r = Response::json(200, o.finish(), false);
        r.set_header("Access-Control-Allow-Origin", "*");
        r
    }
}
