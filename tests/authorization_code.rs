//! The authorization endpoint and the authorization-code grant, through `Engine::handle`.

mod common;

use common::*;
use oauth2_engine::*;

fn code_request<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![
        ("response_type", "code"),
        ("client_id", CONFIDENTIAL),
        ("redirect_uri", REDIRECT),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    v.extend_from_slice(extra);
    v
}

#[test]
fn full_flow_with_pkce_issues_bearer_token_with_refresh() {
    let h = host(Profile::OAuth21);
    let r = h.authorize(&code_request(&[("state", "a b&c"), ("scope", "write")]));
    assert_eq!(r.status, 302);
    let loc = r.header("Location").unwrap();
    assert!(loc.starts_with("https://client.example/cb?code="), "{loc}");
    let p = redirect_params(&r);
    assert_eq!(p["state"], "a b&c");
    assert!(
        !loc.contains("code_challenge"),
        "R16: the challenge never goes back"
    );
    let t = h.redeem(&p["code"]);
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(t.header("Cache-Control"), Some("no-store"));
    assert_eq!(t.header("Pragma"), Some("no-cache"));
    let v = json_body(&t);
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    assert_eq!(v["scope"], "write");
    assert_eq!(v["access_token"].as_str().unwrap().len(), 43);
    assert!(v["refresh_token"].is_string());
    let rec = h
        .engine
        .validate_access_token(v["access_token"].as_str().unwrap(), Ctx::NONE)
        .unwrap()
        .unwrap();
    assert_eq!(rec.user_id, Some(serde_json::json!("alice")));
    assert_eq!(rec.data["via"], "consent");
    assert_eq!(rec.grant_type, GrantType::AuthorizationCode);
}

#[test]
fn consent_page_is_rendered_with_anti_framing_headers_r08() {
    let h = host(Profile::OAuth21);
    let r = h.get("/authorize", &form(&code_request(&[])));
    assert_eq!(r.status, 200);
    assert!(r.body.contains("consent for conf"));
    assert_eq!(r.header("X-Frame-Options"), Some("DENY"));
    assert_eq!(
        r.header("Content-Security-Policy"),
        Some("frame-ancestors 'none'")
    );
    assert!(
        r.header("Access-Control-Allow-Origin").is_none(),
        "R07: no CORS"
    );
}

#[test]
fn consent_form_post_confirms_and_denies() {
    let h = host(Profile::OAuth21);
    let query = form(&code_request(&[("state", "s1")]));
    let ct = [("Content-Type", "application/x-www-form-urlencoded")];
    let r = h.post_raw("/authorize", &query, &ct, b"confirm=yes");
    assert_eq!(r.status, 302, "R06: a redirect that is not 307");
    assert!(redirect_params(&r).contains_key("code"));
    let r = h.post_raw("/authorize", &query, &ct, b"deny=yes");
    let p = redirect_params(&r);
    assert_eq!(p["error"], "access_denied");
    assert_eq!(p["state"], "s1");
}

#[test]
fn a_post_takes_parameters_from_the_query_then_the_form_body() {
    let h = host(Profile::OAuth21);
    let ct = [("Content-Type", "application/x-www-form-urlencoded")];
    let all = code_request(&[("scope", "write"), ("confirm", "yes")]);
    // response_type and client_id in the query; redirect_uri, PKCE and scope in the body.
    let (q, b) = all.split_at(2);
    let query = format!("{}&state=s3", form(q));
    let r = h.post_raw("/authorize", &query, &ct, form(b).as_bytes());
    assert_eq!(r.status, 302, "{}", r.body);
    let p = redirect_params(&r);
    assert!(r.header("Location").unwrap().starts_with(REDIRECT));
    assert_eq!(p["state"], "s3");
    let t = h.redeem(&p["code"]);
    assert_eq!(t.status, 200, "the body's challenge was kept: {}", t.body);
    assert_eq!(json_body(&t)["scope"], "write");
    // A parameter in both: the same value is accepted, another one is not.
    let same = format!("{}&state=s3", form(b));
    let r = h.post_raw("/authorize", &query, &ct, same.as_bytes());
    assert_eq!(redirect_params(&r)["state"], "s3");
    let other = format!("{}&state=s4", form(b));
    let r = h.post_raw("/authorize", &query, &ct, other.as_bytes());
    assert_eq!((r.status, error_of(&r).as_str()), (400, "invalid_request"));
}

#[test]
fn r01_mismatched_redirect_uris_are_rendered_never_redirected() {
    let h = host(Profile::OAuth21);
    for bad in [
        "https://client.example/cb/x",
        "https://client.example/cb?x=1",
        "https://CLIENT.example/cb",
        "https://client.example/cb#f",
        "https://client.example.evil/cb",
        "https://evilclient.example/cb",
    ] {
        let mut q = code_request(&[("confirm", "yes")]);
        q[2] = ("redirect_uri", bad);
        let r = h.get("/authorize", &form(&q));
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.header("Location").is_none(), "{bad}");
        assert_eq!(error_of(&r), "invalid_request");
    }
}

#[test]
fn r02_loopback_redirect_accepts_any_port() {
    let h = host(Profile::OAuth21);
    let mut q = code_request(&[]);
    q[2] = ("redirect_uri", "http://127.0.0.1:49152/cb");
    let r = h.authorize(&q);
    assert_eq!(r.status, 302);
    assert!(r
        .header("Location")
        .unwrap()
        .starts_with("http://127.0.0.1:49152/cb?code="));
    let code = redirect_params(&r)["code"].clone();
    let t = h.token(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", "http://127.0.0.1:49152/cb"),
        ("code_verifier", VERIFIER),
        ("client_id", CONFIDENTIAL),
        ("client_secret", SECRET),
    ]);
    assert_eq!(t.status, 200, "{}", t.body);
}

#[test]
fn r03_plain_http_redirect_refused_in_oauth21_allowed_in_legacy() {
    for (profile, expect) in [(Profile::OAuth21, 400), (Profile::Legacy, 302)] {
        let h = host(profile);
        h.store.add_client(Client::confidential(
            "web",
            "x",
            vec!["http://localhost/callback".into()],
        ));
        let r = h.authorize(&[
            ("response_type", "code"),
            ("client_id", "web"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]);
        assert_eq!(r.status, expect, "{profile:?}: {}", r.body);
    }
}

#[test]
fn r04_missing_or_unknown_client_is_rendered() {
    let h = host(Profile::OAuth21);
    let r = h.get(
        "/authorize",
        "response_type=code&redirect_uri=https%3A%2F%2Fevil%2F",
    );
    assert_eq!((r.status, error_of(&r).as_str()), (400, "invalid_request"));
    assert!(r.header("Location").is_none());
    let r = h.get(
        "/authorize",
        "response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2Fevil%2F",
    );
    assert_eq!(r.status, 400);
    assert!(r.header("Location").is_none());
}

#[test]
fn registered_uri_is_used_when_client_has_exactly_one() {
    let h = host(Profile::OAuth21);
    let r = h.authorize(&[
        ("response_type", "code"),
        ("client_id", PUBLIC),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    assert!(r.header("Location").unwrap().starts_with(REDIRECT));
    // CONFIDENTIAL has two: it must name one.
    let r = h.authorize(&[("response_type", "code"), ("client_id", CONFIDENTIAL)]);
    assert_eq!(r.status, 400);
}

#[test]
fn r05_errors_after_validation_redirect_with_state() {
    let h = host(Profile::OAuth21);
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("response_type", "nope")], "unsupported_response_type"),
        (&[("response_type", "token")], "unsupported_response_type"),
        (
            &[("response_type", "code"), ("scope", "admin")],
            "invalid_scope",
        ),
        (&[], "invalid_request"),
    ];
    for (extra, expect) in cases {
        let mut q = vec![
            ("client_id", CONFIDENTIAL),
            ("redirect_uri", REDIRECT),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("state", "st8"),
        ];
        q.extend_from_slice(extra);
        let r = h.authorize(&q);
        assert_eq!(r.status, 302, "{expect}");
        let p = redirect_params(&r);
        assert_eq!(p["error"], *expect);
        assert_eq!(p["state"], "st8");
        assert!(p.contains_key("error_description"));
    }
}

#[test]
fn unauthorized_client_for_disallowed_response_type() {
    let h = host(Profile::OAuth21);
    let r = h.authorize(&[
        ("response_type", "code"),
        ("client_id", "cc-only"),
        ("state", "q"),
    ]);
    assert_eq!(redirect_params(&r)["error"], "unauthorized_client");
}

#[test]
fn r09_repeated_parameter_is_invalid_request() {
    let h = host(Profile::OAuth21);
    let q = format!("{}&scope=read&scope=write", form(&code_request(&[])));
    let r = h.get("/authorize", &q);
    // Which value is meant cannot be known, so the request is not trusted enough to redirect.
    assert_eq!((r.status, error_of(&r).as_str()), (400, "invalid_request"));
    assert!(r.header("Location").is_none());
    // Empty values count as absent, unknown parameters are ignored.
    let q = format!("{}&scope=&foo=bar&confirm=yes", form(&code_request(&[])));
    assert!(redirect_params(&h.get("/authorize", &q)).contains_key("code"));
}

#[test]
fn r10_iss_on_responses_when_issuer_configured() {
    let h = host_with(Config {
        issuer: Some("https://as.example".into()),
        ..config(Profile::OAuth21)
    });
    let r = h.authorize(&code_request(&[]));
    assert_eq!(redirect_params(&r)["iss"], "https://as.example");
    let r = h.get("/authorize", &form(&code_request(&[("deny", "yes")])));
    assert_eq!(redirect_params(&r)["iss"], "https://as.example");
}

#[test]
fn r12_pkce_required_in_oauth21_and_for_public_clients() {
    let h = host(Profile::OAuth21);
    let r = h.authorize(&[
        ("response_type", "code"),
        ("client_id", CONFIDENTIAL),
        ("redirect_uri", REDIRECT),
    ]);
    assert_eq!(redirect_params(&r)["error"], "invalid_request");
    // legacy: optional unless configured
    let h = host(Profile::Legacy);
    let r = h.authorize(&[
        ("response_type", "code"),
        ("client_id", CONFIDENTIAL),
        ("redirect_uri", REDIRECT),
    ]);
    assert!(redirect_params(&r).contains_key("code"));
}

#[test]
fn r13_missing_or_wrong_verifier_is_invalid_grant() {
    let h = host(Profile::OAuth21);
    for verifier in [None, Some("a".repeat(43)), Some("short".to_string())] {
        let code = h.code();
        let mut p = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("client_id", CONFIDENTIAL),
            ("client_secret", SECRET),
        ];
        if let Some(v) = &verifier {
            p.push(("code_verifier", v));
        }
        let r = h.token(&p);
        assert_eq!(
            (r.status, error_of(&r).as_str()),
            (400, "invalid_grant"),
            "{verifier:?}"
        );
    }
}

#[test]
fn r14_verifier_without_challenge_is_a_downgrade() {
    let h = host(Profile::Legacy);
    let r = h.authorize(&[
        ("response_type", "code"),
        ("client_id", CONFIDENTIAL),
        ("redirect_uri", REDIRECT),
    ]);
    let code = redirect_params(&r)["code"].clone();
    let r = h.redeem(&code);
    assert_eq!(error_of(&r), "invalid_grant");
}

#[test]
fn r15_plain_refused_by_default_and_missing_method_means_plain() {
    let h = host(Profile::OAuth21);
    let plain = "a".repeat(50);
    for q in [
        vec![
            ("code_challenge", plain.as_str()),
            ("code_challenge_method", "plain"),
        ],
        vec![("code_challenge", plain.as_str())],
        vec![
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S512"),
        ],
        vec![
            ("code_challenge", "tooshort"),
            ("code_challenge_method", "S256"),
        ],
    ] {
        let mut req = vec![
            ("response_type", "code"),
            ("client_id", CONFIDENTIAL),
            ("redirect_uri", REDIRECT),
        ];
        req.extend(q);
        let r = h.authorize(&req);
        assert_eq!(redirect_params(&r)["error"], "invalid_request", "{req:?}");
    }
}

#[test]
fn plain_pkce_works_when_configured() {
    let h = host_with(Config {
        pkce: PkceConfig {
            required: None,
            allow_plain: true,
        },
        ..config(Profile::OAuth21)
    });
    let plain = "b".repeat(60);
    let r = h.authorize(&[
        ("response_type", "code"),
        ("client_id", CONFIDENTIAL),
        ("redirect_uri", REDIRECT),
        ("code_challenge", &plain),
        ("code_challenge_method", "plain"),
    ]);
    let code = redirect_params(&r)["code"].clone();
    let t = h.token(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", &plain),
        ("client_id", CONFIDENTIAL),
        ("client_secret", SECRET),
    ]);
    assert_eq!(t.status, 200, "{}", t.body);
}

#[test]
fn r16_code_expires_after_its_lifetime() {
    let h = host_with(Config {
        code_lifetime: 60,
        ..config(Profile::OAuth21)
    });
    let code = h.code();
    h.clock.advance(61);
    let r = h.redeem(&code);
    assert_eq!(error_of(&r), "invalid_grant");
    assert!(json_body(&r)["error_description"]
        .as_str()
        .unwrap()
        .contains("expired"));
}

#[test]
fn r17_second_redemption_fails_and_revokes_tokens() {
    let h = host(Profile::OAuth21);
    let code = h.code();
    let first = h.redeem(&code);
    assert_eq!(first.status, 200);
    let v = json_body(&first);
    let at = v["access_token"].as_str().unwrap();
    let rt = v["refresh_token"].as_str().unwrap();
    assert!(h.is_live(at));
    let second = h.redeem(&code);
    assert_eq!(
        (second.status, error_of(&second).as_str()),
        (400, "invalid_grant")
    );
    assert!(
        !h.is_live(at),
        "access token of the replayed code is revoked"
    );
    assert_eq!(
        error_of(&h.refresh(rt, (CONFIDENTIAL, SECRET))),
        "invalid_grant"
    );
}

#[test]
fn r18_code_of_another_client_is_invalid_grant() {
    let h = host(Profile::OAuth21);
    let code = h.code();
    let r = h.token(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", "other"),
        ("client_secret", "other-secret"),
    ]);
    assert_eq!(error_of(&r), "invalid_grant");
}

#[test]
fn r19_redirect_uri_must_repeat_the_authorization_requests() {
    let h = host(Profile::OAuth21);
    for uri in [Some(LOOPBACK), None] {
        let code = h.code();
        let mut p = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("code_verifier", VERIFIER),
            ("client_id", CONFIDENTIAL),
            ("client_secret", SECRET),
        ];
        if let Some(u) = uri {
            p.push(("redirect_uri", u));
        }
        assert_eq!(error_of(&h.token(&p)), "invalid_grant", "{uri:?}");
    }
}

#[test]
fn public_client_redeems_with_pkce_and_no_secret() {
    let h = host(Profile::OAuth21);
    let r = h.authorize(&[
        ("response_type", "code"),
        ("client_id", PUBLIC),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    let code = redirect_params(&r)["code"].clone();
    let t = h.token(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("code_verifier", VERIFIER),
        ("client_id", PUBLIC),
    ]);
    assert_eq!(t.status, 200, "{}", t.body);
}

#[test]
fn redirect_uri_with_query_gets_ampersand_joined() {
    let h = host(Profile::Legacy);
    h.store.add_client(Client::confidential(
        "q",
        "x",
        vec!["https://c.example/cb?tenant=1".into()],
    ));
    let r = h.authorize(&[
        ("response_type", "code"),
        ("client_id", "q"),
        ("state", "z"),
    ]);
    let loc = r.header("Location").unwrap();
    assert!(
        loc.starts_with("https://c.example/cb?tenant=1&code="),
        "{loc}"
    );
    assert!(loc.ends_with("&state=z"));
}

#[test]
fn adapter_failure_after_validation_redirects_server_error() {
    let h = host(Profile::OAuth21);
    let r = h.get(
        "/authorize",
        &form(&code_request(&[("explode", "1"), ("state", "k")])),
    );
    let p = redirect_params(&r);
    assert_eq!(p["error"], "server_error");
    assert_eq!(p["state"], "k");
}

#[test]
fn other_methods_are_refused_at_authorize() {
    let h = host(Profile::OAuth21);
    let r = h.engine.handle(&Request::new(
        "PUT",
        "/authorize",
        &form(&code_request(&[])),
    ));
    assert_eq!(r.status, 405);
    assert!(r.header("Location").is_none());
}

#[test]
fn client_lookup_failure_is_rendered_as_server_error() {
    use std::sync::Arc;
    struct Down;
    impl ClientStore for Down {
        fn fetch_client(&self, _: &str, _: Ctx<'_>) -> Result<Option<Arc<Client>>, HostError> {
            Err(HostError::unavailable("store down"))
        }
    }
    let mem = Arc::new(MemoryStore::new());
    let engine = Engine::builder(config(Profile::OAuth21))
        .storage(Storage {
            clients: Arc::new(Down),
            codes: mem.clone(),
            tokens: mem,
        })
        .site_adapter(Arc::new(ScriptedSite))
        .build()
        .unwrap();
    let r = engine.handle(&Request::new(
        "GET",
        "/authorize",
        &form(&code_request(&[])),
    ));
    assert_eq!(
        (r.status, error_of(&r).as_str()),
        (503, "temporarily_unavailable")
    );
    assert!(r.header("Location").is_none());
}
