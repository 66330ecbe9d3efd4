//! Each grant end to end through `Engine::handle` with the memory store, and token generation.
//! Every measured response is checked, so a broken path cannot look fast.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use oauth2_engine::*;
use serde_json::json;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const FORM: [(&str, &str); 1] = [("Content-Type", "application/x-www-form-urlencoded")];

/// Approves every request as user 1; accepts alice/wonderland.
struct AutoApprove;

impl SiteAdapter for AutoApprove {
    fn user_has_denied_access(&self, _: &Consent<'_>) -> Result<bool, HostError> {
        Ok(false)
    }
    fn authenticate(&self, _: &Consent<'_>) -> Result<Authentication, HostError> {
        Ok(Authentication::Authenticated {
            user_id: Some(json!(1)),
            data: json!({}),
        })
    }
    fn render_auth_page(&self, _: &Consent<'_>) -> Result<Response, HostError> {
        Ok(Response::new(200))
    }
    fn authenticate_password(&self, l: &PasswordLogin<'_>) -> Result<Authentication, HostError> {
        Ok(if l.username == "alice" && l.password == "wonderland" {
            Authentication::Authenticated {
                user_id: Some(json!(1)),
                data: json!({}),
            }
        } else {
            Authentication::NotAuthenticated
        })
    }
}

fn engine() -> Engine {
    let store = Arc::new(MemoryStore::new());
    store.add_client(Client::confidential(
        "bench",
        "secret",
        vec!["https://client.example/cb".into()],
    ));
    let grants = [
        GrantType::AuthorizationCode,
        GrantType::ClientCredentials,
        GrantType::Password,
        GrantType::RefreshToken,
    ];
    let mut config = Config {
        grants: grants.into_iter().map(GrantConfig::new).collect(),
        ..Config::legacy()
    };
    for g in &mut config.grants {
        g.expires_in = Some(3600);
        if g.grant == Some(GrantType::RefreshToken) {
            g.rotate = Some(true);
        }
    }
    config.pkce.required = Some(true);
    Engine::builder(config)
        .storage(Storage::from_backend(store))
        .site_adapter(Arc::new(AutoApprove))
        .build()
        .unwrap()
}

fn post(e: &Engine, body: &str) -> Response {
    e.handle(&Request {
        headers: &FORM,
        body: body.as_bytes(),
        ..Request::new("POST", "/token", "")
    })
}

fn token_of(r: &Response, field: &str) -> String {
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    v[field].as_str().unwrap().to_owned()
}

fn code_flow(e: &Engine) -> Response {
    let query = format!(
        "response_type=code&client_id=bench&redirect_uri=https%3A%2F%2Fclient.example%2Fcb&state=s&code_challenge={CHALLENGE}&code_challenge_method=S256"
    );
    let r = e.handle(&Request::new("GET", "/authorize", &query));
    assert_eq!(r.status, 302);
    let loc = r.header("Location").unwrap();
    let code = loc
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    post(e, &format!(
        "grant_type=authorization_code&code={code}&redirect_uri=https%3A%2F%2Fclient.example%2Fcb&code_verifier={VERIFIER}&client_id=bench&client_secret=secret"
    ))
}

fn grants(c: &mut Criterion) {
    let e = engine();
    let mut g = c.benchmark_group("grant");
    g.bench_function("client_credentials", |b| {
        b.iter(|| {
            let r = post(
                &e,
                "grant_type=client_credentials&client_id=bench&client_secret=secret",
            );
            assert_eq!(r.status, 200);
            black_box(r)
        })
    });
    g.bench_function("password", |b| {
        b.iter(|| {
            let r = post(&e, "grant_type=password&username=alice&password=wonderland&client_id=bench&client_secret=secret");
            assert_eq!(r.status, 200);
            black_box(r)
        })
    });
    g.bench_function("authorization_code_pkce", |b| {
        b.iter(|| {
            let r = code_flow(&e);
            assert_eq!(r.status, 200);
            black_box(r)
        })
    });
    // Rotation: each iteration uses the refresh token the previous one received.
    let mut rt = token_of(&code_flow(&e), "refresh_token");
    g.bench_function("refresh_rotation", |b| {
        b.iter(|| {
            let r = post(&e, &format!("grant_type=refresh_token&refresh_token={rt}&client_id=bench&client_secret=secret"));
            rt = token_of(&r, "refresh_token");
        })
    });
    g.finish();
}

fn generators(c: &mut Criterion) {
    let mut g = c.benchmark_group("token_generation");
    for (name, format) in [
        ("random_256bit", TokenFormat::Random),
        ("uuid4", TokenFormat::Uuid4),
        ("hex40", TokenFormat::Hex { length: 40 }),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| black_box(format.generate(TokenKind::AccessToken).unwrap()))
        });
    }
    g.finish();
}

criterion_group!(benches, grants, generators);
criterion_main!(benches);
