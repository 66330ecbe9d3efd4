//! Test host: an engine over the memory store, a scripted site adapter, and request helpers.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use oauth2_engine::*;
use serde_json::{json, Value};

pub const CONFIDENTIAL: &str = "conf";
pub const SECRET: &str = "s3cret";
pub const PUBLIC: &str = "pub";
pub const REDIRECT: &str = "https://client.example/cb";
pub const LOOPBACK: &str = "http://127.0.0.1/cb";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub const START: i64 = 1_700_000_000;

/// Approves when the request says `confirm=yes` (query or body), denies on `deny=yes`, renders
/// a page otherwise. Passwords: alice / wonderland.
pub struct ScriptedSite;

fn param(consent: &Consent<'_>, name: &str) -> Option<String> {
    let r = consent.request;
    for src in [r.query.as_bytes(), r.body] {
        if let Ok(p) = oauth2_engine::form::Params::parse(src) {
            if let Some(v) = p.get(name) {
                return Some(v.to_owned());
            }
        }
    }
    None
}

impl SiteAdapter for ScriptedSite {
    fn user_has_denied_access(&self, c: &Consent<'_>) -> Result<bool, HostError> {
        Ok(param(c, "deny").as_deref() == Some("yes"))
    }
    fn authenticate(&self, c: &Consent<'_>) -> Result<Authentication, HostError> {
        if param(c, "explode").is_some() {
            return Err(HostError::failed("adapter blew up"));
        }
        Ok(match param(c, "confirm").as_deref() {
            Some("yes") => Authentication::Authenticated {
                user_id: Some(json!("alice")),
                data: json!({"via": "consent"}),
            },
            _ => Authentication::NotAuthenticated,
        })
    }
    fn render_auth_page(&self, c: &Consent<'_>) -> Result<Response, HostError> {
        let mut r = Response::new(200);
        r.set_header("Content-Type", "text/html");
        r.body = format!(
            "<form method=post>consent for {} scopes {:?}</form>",
            c.client.client_id, c.scopes
        );
        Ok(r)
    }
    fn authenticate_password(&self, l: &PasswordLogin<'_>) -> Result<Authentication, HostError> {
        Ok(if l.username == "alice" && l.password == "wonderland" {
            Authentication::Authenticated {
                user_id: Some(json!(7)),
                data: json!({}),
            }
        } else {
            Authentication::NotAuthenticated
        })
    }
}

pub struct Host {
    pub engine: Engine,
    pub store: Arc<MemoryStore>,
    pub clock: Arc<ManualClock>,
}

pub fn grant(kind: GrantType) -> GrantConfig {
    GrantConfig::new(kind)
}

/// Every grant the profile allows, with short lifetimes and the scopes read/write.
pub fn default_grants(profile: Profile) -> Vec<GrantConfig> {
    let mut kinds = vec![
        GrantType::AuthorizationCode,
        GrantType::ClientCredentials,
        GrantType::RefreshToken,
    ];
    if profile == Profile::Legacy {
        kinds.extend([GrantType::Implicit, GrantType::Password]);
    }
    kinds
        .into_iter()
        .map(|k| GrantConfig {
            expires_in: Some(if k == GrantType::RefreshToken {
                7200
            } else {
                3600
            }),
            scopes: vec!["read".into(), "write".into()],
            default_scope: Some("read".into()),
            ..grant(k)
        })
        .collect()
}

pub fn config(profile: Profile) -> Config {
    Config {
        profile,
        grants: default_grants(profile),
        revocation_path: Some("/revoke".into()),
        ..Config::default()
    }
}

pub fn host_with(config: Config) -> Host {
    let clock = Arc::new(ManualClock::new(START));
    let store = Arc::new(MemoryStore::with_clock(clock.clone()));
    store.add_client(Client::confidential(
        CONFIDENTIAL,
        SECRET,
        vec![REDIRECT.into(), LOOPBACK.into()],
    ));
    store.add_client(Client::public(PUBLIC, vec![REDIRECT.into()]));
    store.add_client(Client::confidential(
        "other",
        "other-secret",
        vec![REDIRECT.into()],
    ));
    store.add_client(Client {
        grant_types: Some(vec![GrantType::ClientCredentials]),
        ..Client::confidential("cc-only", "cc-secret", vec![REDIRECT.into()])
    });
    let engine = Engine::builder(config)
        .storage(Storage::from_backend(store.clone()))
        .site_adapter(Arc::new(ScriptedSite))
        .clock(clock.clone())
        .build()
        .expect("engine builds");
    Host {
        engine,
        store,
        clock,
    }
}

pub fn host(profile: Profile) -> Host {
    host_with(config(profile))
}

pub fn enc(s: &str) -> String {
    let mut out = String::new();
    oauth2_engine::form::encode_into(&mut out, s);
    out
}

/// `a=b&c=d` from pairs, each value percent-encoded.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Host {
    pub fn get(&self, path: &str, query: &str) -> Response {
        self.engine.handle(&Request::new("GET", path, query))
    }

    pub fn post_raw(
        &self,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        self.engine.handle(&Request {
            headers,
            body,
            ..Request::new("POST", path, query)
        })
    }

    pub fn post(&self, path: &str, pairs: &[(&str, &str)]) -> Response {
        let body = form(pairs);
        self.post_raw(
            path,
            "",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )
    }

    pub fn token(&self, pairs: &[(&str, &str)]) -> Response {
        self.post("/token", pairs)
    }

    /// Authorization request approved by the user; returns the redirect response.
    pub fn authorize(&self, pairs: &[(&str, &str)]) -> Response {
        let mut all: Vec<(&str, &str)> = pairs.to_vec();
        all.push(("confirm", "yes"));
        self.get("/authorize", &form(&all))
    }

    /// A code for the confidential client, with PKCE, through the approved consent.
    pub fn code(&self) -> String {
        let r = self.authorize(&[
            ("response_type", "code"),
            ("client_id", CONFIDENTIAL),
            ("redirect_uri", REDIRECT),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("state", "xyz"),
        ]);
        assert_eq!(r.status, 302, "{}", r.body);
        redirect_params(&r)["code"].clone()
    }

    pub fn redeem(&self, code: &str) -> Response {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", CONFIDENTIAL),
            ("client_secret", SECRET),
        ])
    }

    /// Access and refresh token from a full code flow.
    pub fn tokens(&self) -> (String, String) {
        let r = self.redeem(&self.code());
        assert_eq!(r.status, 200, "{}", r.body);
        let v = json_body(&r);
        (
            v["access_token"].as_str().unwrap().to_owned(),
            v["refresh_token"].as_str().unwrap().to_owned(),
        )
    }

    pub fn refresh(&self, rt: &str, client: (&str, &str)) -> Response {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", client.0),
            ("client_secret", client.1),
        ])
    }

    pub fn is_live(&self, access_token: &str) -> bool {
        self.engine
            .validate_access_token(access_token, Ctx::NONE)
            .unwrap()
            .is_some()
    }
}

pub fn json_body(r: &Response) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.body))
}

pub fn error_of(r: &Response) -> String {
    json_body(r)["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The parameters of a redirect's query or fragment, decoded.
pub fn redirect_params(r: &Response) -> HashMap<String, String> {
    let loc = r
        .header("Location")
        .unwrap_or_else(|| panic!("no Location in {r:?}"));
    let tail = match loc.split_once('#') {
        Some((_, f)) => f,
        None => loc.split_once('?').map(|(_, q)| q).unwrap_or(""),
    };
    oauth2_engine::form::Params::parse(tail.as_bytes())
        .unwrap()
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}
