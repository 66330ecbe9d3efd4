//! Runs N rounds of one grant through `Engine::handle` with the memory store, shaped like the
//! Python benchmark app (legacy profile, python wire style, uuid4 tokens, client_secret_post,
//! rotating refresh tokens), and checks each answer. `scripts/callgrind.sh GRANT` counts it at
//! two values of N: the difference, divided by the difference of N, is what one round costs the
//! engine alone (no Python, no JSON at the C boundary).
//!
//!     cargo run --release --example grant_loop -- refresh 10000
//!
//! GRANT is one of `client_credentials`, `password`, `code` (authorize and token legs) and
//! `refresh` (each round uses the refresh token the previous round received).

use std::sync::Arc;

use oauth2_engine::*;
use serde_json::json;

const ID: &str = "bench-client";
const SECRET: &str = "bench-secret-0123456789";
const CALLBACK: &str = "http%3A%2F%2F127.0.0.1%3A8080%2Fcallback";
const FORM: [(&str, &str); 1] = [("Content-Type", "application/x-www-form-urlencoded")];

/// Signs every request in as user "alice" and approves it; accepts alice/wonderland.
struct AutoApprove;

fn alice() -> Authentication {
    Authentication::Authenticated {
        user_id: Some(json!("alice")),
        data: json!({}),
    }
}

impl SiteAdapter for AutoApprove {
    fn user_has_denied_access(&self, _: &Consent<'_>) -> Result<bool, HostError> {
        Ok(false)
    }
    fn authenticate(&self, _: &Consent<'_>) -> Result<Authentication, HostError> {
        Ok(alice())
    }
    fn render_auth_page(&self, _: &Consent<'_>) -> Result<Response, HostError> {
        Ok(Response::new(200))
    }
    fn authenticate_password(&self, l: &PasswordLogin<'_>) -> Result<Authentication, HostError> {
        Ok(if l.username == "alice" && l.password == "wonderland" {
            alice()
        } else {
            Authentication::NotAuthenticated
        })
    }
}

fn engine() -> Engine {
    let store = Arc::new(MemoryStore::new());
    store.add_client(Client::confidential(
        ID,
        SECRET,
        vec!["http://127.0.0.1:8080/callback".into()],
    ));
    let mut config = Config {
        token_format: TokenFormat::Uuid4,
        wire_style: WireStyle::Python,
        client_authentication: AuthMethods::ClientSecretPost,
        ..Config::legacy()
    };
    for grant in [
        GrantType::AuthorizationCode,
        GrantType::Password,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
    ] {
        let mut g = GrantConfig::new(grant);
        g.expires_in = Some(if grant == GrantType::RefreshToken {
            86_400
        } else {
            3600
        });
        if grant == GrantType::RefreshToken {
            g.rotate = Some(true);
        }
        config.grants.push(g);
    }
    Engine::builder(config)
        .storage(Storage::from_backend(store))
        .site_adapter(Arc::new(AutoApprove))
        .build()
        .expect("the example's configuration is valid")
}

fn post(e: &Engine, body: &str) -> Response {
    let r = e.handle(&Request {
        headers: &FORM,
        body: body.as_bytes(),
        ..Request::new("POST", "/token", "")
    });
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"access_token\": \""), "{}", r.body);
    r
}

/// The value of `"field": "..."` in a python-style body, or of `field=` in a Location.
fn value_after<'a>(text: &'a str, key: &str, end: char) -> &'a str {
    let start = text.find(key).map(|i| i + key.len()).expect(key);
    let rest = &text[start..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

fn code_round(e: &Engine) -> Response {
    let query = format!("response_type=code&client_id={ID}&redirect_uri={CALLBACK}&state=xyz");
    let r = e.handle(&Request::new("GET", "/authorize", &query));
    assert_eq!(r.status, 302, "{}", r.body);
    let code = value_after(r.header("Location").expect("a Location"), "code=", '&');
    post(e, &format!(
        "grant_type=authorization_code&code={code}&redirect_uri={CALLBACK}&client_id={ID}&client_secret={SECRET}"
    ))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let grant = args.next().unwrap_or_else(|| "client_credentials".into());
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let e = engine();
    let started = std::time::Instant::now();
    match grant.as_str() {
        "client_credentials" => {
            let body =
                format!("grant_type=client_credentials&client_id={ID}&client_secret={SECRET}");
            for _ in 0..n {
                post(&e, &body);
            }
        }
        "password" => {
            let body = format!("grant_type=password&username=alice&password=wonderland&client_id={ID}&client_secret={SECRET}");
            for _ in 0..n {
                post(&e, &body);
            }
        }
        "code" => {
            for _ in 0..n {
                code_round(&e);
            }
        }
        "refresh" => {
            let first = code_round(&e);
            let mut rt = value_after(&first.body, "\"refresh_token\": \"", '"').to_owned();
            let mut body = String::new();
            for _ in 0..n {
                body.clear();
                body.push_str("grant_type=refresh_token&refresh_token=");
                body.push_str(&rt);
                body.push_str("&client_id=");
                body.push_str(ID);
                body.push_str("&client_secret=");
                body.push_str(SECRET);
                let r = post(&e, &body);
                rt.clear();
                rt.push_str(value_after(&r.body, "\"refresh_token\": \"", '"'));
            }
        }
        other => {
            eprintln!("unknown grant {other:?}: client_credentials, password, code or refresh");
            std::process::exit(2);
        }
    }
    let per = started.elapsed().as_secs_f64() * 1e6 / n.max(1) as f64;
    println!("{grant}: {n} rounds, {per:.2} us each (wall clock)");
}
