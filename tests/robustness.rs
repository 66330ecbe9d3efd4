//! Bad input never panics: random and hostile requests through `Engine::handle`, each answered
//! with a well-formed response and nothing stored corrupted.

mod common;

use common::*;
use oauth2_engine::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const PIECES: &[&str] = &[
    "grant_type=",
    "authorization_code",
    "client_credentials",
    "refresh_token",
    "password",
    "implicit",
    "&",
    "=",
    "%",
    "%2",
    "%ZZ",
    "%00",
    "%FF",
    "+",
    "client_id=",
    "conf",
    "pub",
    "client_secret=",
    "s3cret",
    "code=",
    "redirect_uri=",
    "https%3A%2F%2Fclient.example%2Fcb",
    "code_verifier=",
    "scope=",
    "read",
    "write",
    "state=",
    "response_type=",
    "code",
    "token",
    "code_challenge=",
    "code_challenge_method=",
    "S256",
    "plain",
    "refresh_token=",
    "confirm=yes",
    "deny=yes",
    "username=alice",
    "password=wonderland",
    "\u{0}",
    "é",
    "\u{1F600}",
    "\r\n",
    "\"",
    "\\",
    ";",
    "#",
    "?",
    "/",
];

fn random_text(rng: &mut StdRng) -> String {
    let n = rng.gen_range(0..12);
    (0..n)
        .map(|_| PIECES[rng.gen_range(0..PIECES.len())])
        .collect()
}

fn random_bytes(rng: &mut StdRng) -> Vec<u8> {
    if rng.gen_bool(0.2) {
        (0..rng.gen_range(0..64)).map(|_| rng.gen()).collect()
    } else {
        random_text(rng).into_bytes()
    }
}

#[test]
fn random_requests_never_panic_and_always_answer_well_formed() {
    let h = host(Profile::Legacy);
    let mut rng = StdRng::seed_from_u64(0x0a17_2e5e);
    let methods = ["GET", "POST", "PUT", "", "get", "POST\0"];
    let paths = [
        "/token",
        "/authorize",
        "/revoke",
        "/",
        "",
        "/token/",
        "/.well-known/oauth-authorization-server",
    ];
    let header_names = ["Content-Type", "Authorization", "X-Other", ""];
    let header_values = [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=utf-8",
        "Basic Y29uZjpzM2NyZXQ=",
        "Basic",
        "Basic !!!!",
        "Bearer x",
        "",
        "\u{7f}",
    ];
    for i in 0..20_000 {
        let query = random_text(&mut rng);
        let body = random_bytes(&mut rng);
        let headers: Vec<(&str, &str)> = (0..rng.gen_range(0..3))
            .map(|_| {
                (
                    header_names[rng.gen_range(0..header_names.len())],
                    header_values[rng.gen_range(0..header_values.len())],
                )
            })
            .collect();
        let req = Request {
            method: methods[rng.gen_range(0..methods.len())],
            path: paths[rng.gen_range(0..paths.len())],
            query: &query,
            headers: &headers,
            body: &body,
            context: Ctx::NONE,
        };
        let r = h.engine.handle(&req);
        assert!(
            matches!(r.status, 200 | 302 | 400 | 401 | 404 | 405 | 500 | 503),
            "#{i}: {r:?}"
        );
        if r.header("Content-Type") == Some("application/json") {
            let v: serde_json::Value =
                serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("#{i}: {e} {}", r.body));
            if r.status >= 400 {
                assert!(v["error"].is_string(), "#{i}: {}", r.body);
            }
        }
        if r.status == 302 {
            let loc = r.header("Location").unwrap();
            assert!(
                loc.starts_with(REDIRECT),
                "#{i}: redirect only to a registered URI: {loc}"
            );
        }
    }
    // The store still works for ordinary requests afterwards.
    let (at, _) = h.tokens();
    assert!(h.is_live(&at));
}

#[test]
fn hostile_sizes_and_shapes() {
    let h = host(Profile::OAuth21);
    let huge_value = format!(
        "grant_type=client_credentials&client_id={}",
        "a".repeat(60_000)
    );
    let many_params: String = (0..5000).map(|i| format!("p{i}=v&")).collect();
    let deep = "%25".repeat(20_000);
    for body in [
        huge_value,
        many_params,
        deep,
        "=".repeat(50_000),
        "&".repeat(50_000),
    ] {
        let r = h.post_raw(
            "/token",
            "",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        );
        assert!(r.status == 400 || r.status == 401, "{}", r.status);
        let r = h.get("/authorize", &body);
        assert_eq!(r.status, 400);
    }
    let long_secret = "x".repeat(10_000);
    let r = h.token(&[
        ("grant_type", "client_credentials"),
        ("client_id", CONFIDENTIAL),
        ("client_secret", &long_secret),
    ]);
    assert_eq!(error_of(&r), "invalid_client");
}
