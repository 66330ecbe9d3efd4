//! The token endpoint: client authentication, client credentials, password, refresh, implicit,
//! unique tokens, revocation, metadata and malformed requests.

mod common;

use base64::Engine as _;
use common::*;
use oauth2_engine::*;

fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

#[test]
fn client_credentials_with_post_and_basic() {
    let h = host(Profile::OAuth21);
    let r = h.token(&[
        ("grant_type", "client_credentials"),
        ("client_id", CONFIDENTIAL),
        ("client_secret", SECRET),
    ]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body
            .starts_with("{\"token_type\":\"Bearer\",\"access_token\":"),
        "{}",
        r.body
    );
    let v = json_body(&r);
    assert_eq!(v["expires_in"], 3600);
    assert_eq!(v["scope"], "read", "the default scope is announced");
    assert!(v.get("refresh_token").is_none(), "RFC 6749 §4.4.3");
    let auth = basic(CONFIDENTIAL, SECRET);
    let r = h.post_raw(
        "/token",
        "",
        &[FORM, ("Authorization", &auth)],
        b"grant_type=client_credentials&scope=write",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        json_body(&r).get("scope").is_none(),
        "scope as requested is not repeated"
    );
}

#[test]
fn r35_basic_failure_is_401_with_www_authenticate() {
    let h = host(Profile::OAuth21);
    let auth = basic(CONFIDENTIAL, "wrong");
    let r = h.post_raw(
        "/token",
        "",
        &[FORM, ("Authorization", &auth)],
        b"grant_type=client_credentials",
    );
    assert_eq!((r.status, error_of(&r).as_str()), (401, "invalid_client"));
    assert_eq!(r.header("WWW-Authenticate"), Some("Basic realm=\"oauth2\""));
    // The same failure in the body is a 400.
    let r = h.token(&[
        ("grant_type", "client_credentials"),
        ("client_id", CONFIDENTIAL),
        ("client_secret", "wrong"),
    ]);
    assert_eq!((r.status, error_of(&r).as_str()), (400, "invalid_client"));
    assert!(r.header("WWW-Authenticate").is_none());
}

#[test]
fn r32_basic_credentials_are_form_decoded() {
    let h = host(Profile::OAuth21);
    h.store
        .add_client(Client::confidential("a:b", "p w%", vec![REDIRECT.into()]));
    let auth = basic("a%3Ab", "p+w%25");
    let r = h.post_raw(
        "/token",
        "",
        &[FORM, ("Authorization", &auth)],
        b"grant_type=client_credentials",
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn client_authentication_failures() {
    let h = host(Profile::OAuth21);
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("client_id", "nobody"), ("client_secret", "x")],
            "invalid_client",
        ),
        (&[("client_id", CONFIDENTIAL)], "invalid_client"),
        (&[("client_secret", SECRET)], "invalid_client"),
        (&[("client_id", PUBLIC)], "unauthorized_client"),
        (
            &[("client_id", PUBLIC), ("client_secret", "guess")],
            "invalid_client",
        ),
    ];
    for (creds, expect) in cases {
        let mut p = vec![("grant_type", "client_credentials")];
        p.extend_from_slice(creds);
        assert_eq!(error_of(&h.token(&p)), *expect, "{creds:?}");
    }
}

#[test]
fn per_client_allowed_grants() {
    let h = host(Profile::OAuth21);
    let r = h.token(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", "x"),
        ("client_id", "cc-only"),
        ("client_secret", "cc-secret"),
    ]);
    assert_eq!(error_of(&r), "unauthorized_client");
}

#[test]
fn unsupported_and_missing_grant_types() {
    let h = host(Profile::OAuth21);
    let base = [("client_id", CONFIDENTIAL), ("client_secret", SECRET)];
    for (gt, expect) in [
        (Some("magic"), "unsupported_grant_type"),
        (Some("implicit"), "unsupported_grant_type"),
        (None, "invalid_request"),
    ] {
        let mut p = base.to_vec();
        if let Some(g) = gt {
            p.push(("grant_type", g));
        }
        let r = h.token(&p);
        assert_eq!((r.status, error_of(&r).as_str()), (400, expect), "{gt:?}");
    }
}

#[test]
fn r20_password_grant_refused_in_oauth21() {
    let h = host(Profile::OAuth21);
    let r = h.token(&[
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "wonderland"),
        ("client_id", CONFIDENTIAL),
        ("client_secret", SECRET),
    ]);
    assert_eq!(error_of(&r), "unsupported_grant_type");
    let mut cfg = config(Profile::OAuth21);
    cfg.grants.push(grant(GrantType::Password));
    let err = Engine::builder(cfg)
        .storage(Storage::from_backend(std::sync::Arc::new(
            MemoryStore::new(),
        )))
        .build()
        .err()
        .unwrap();
    assert!(err.0.contains("password"), "{err}");
}

#[test]
fn password_grant_in_legacy() {
    let h = host(Profile::Legacy);
    let ok = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "wonderland"),
        ("client_id", CONFIDENTIAL),
        ("client_secret", SECRET),
    ];
    let r = h.token(&ok);
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json_body(&r);
    assert!(v["refresh_token"].is_string());
    let rec = h
        .engine
        .validate_access_token(v["access_token"].as_str().unwrap(), Ctx::NONE)
        .unwrap()
        .unwrap();
    assert_eq!(rec.user_id, Some(serde_json::json!(7)));
    let mut bad = ok.to_vec();
    bad[2] = ("password", "nope");
    let r = h.token(&bad);
    assert_eq!(
        (r.status, error_of(&r).as_str()),
        (400, "invalid_grant"),
        "RFC 6749 §5.2"
    );
    let mut missing = ok.to_vec();
    missing.remove(1);
    assert_eq!(error_of(&h.token(&missing)), "invalid_request");
}

#[test]
fn r21_implicit_refused_in_oauth21_fragment_in_legacy() {
    let h = host(Profile::Legacy);
    let r = h.authorize(&[
        ("response_type", "token"),
        ("client_id", PUBLIC),
        ("state", "s s"),
    ]);
    assert_eq!(r.status, 302);
    let loc = r.header("Location").unwrap();
    assert!(
        loc.starts_with("https://client.example/cb#access_token="),
        "{loc}"
    );
    let p = redirect_params(&r);
    assert_eq!(p["token_type"], "bearer");
    assert_eq!(p["state"], "s s");
    assert_eq!(p["scope"], "read");
    assert!(!p.contains_key("refresh_token"));
    assert!(h.is_live(&p["access_token"]));
    let r = h.authorize(&[
        ("response_type", "token"),
        ("client_id", PUBLIC),
        ("deny", "yes"),
    ]);
    assert!(r
        .header("Location")
        .unwrap()
        .contains("#error=access_denied"));
}

#[test]
fn r24_rotation_and_replay_revokes_the_family() {
    let h = host(Profile::OAuth21);
    let (at1, rt1) = h.tokens();
    let r = h.refresh(&rt1, (CONFIDENTIAL, SECRET));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json_body(&r);
    let at2 = v["access_token"].as_str().unwrap().to_owned();
    let rt2 = v["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rt1, rt2);
    assert!(h.is_live(&at2));
    let replay = h.refresh(&rt1, (CONFIDENTIAL, SECRET));
    assert_eq!(error_of(&replay), "invalid_grant");
    assert!(!h.is_live(&at1));
    assert!(!h.is_live(&at2));
    assert_eq!(
        error_of(&h.refresh(&rt2, (CONFIDENTIAL, SECRET))),
        "invalid_grant"
    );
}

#[test]
fn refresh_without_rotation_keeps_the_refresh_token_for_confidential_clients() {
    let mut cfg = config(Profile::Legacy);
    for g in &mut cfg.grants {
        if g.grant == Some(GrantType::RefreshToken) {
            g.rotate = Some(false);
        }
    }
    let h = host_with(cfg);
    let (_, rt) = h.tokens();
    for _ in 0..3 {
        let r = h.refresh(&rt, (CONFIDENTIAL, SECRET));
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(json_body(&r).get("refresh_token").is_none());
    }
}

#[test]
fn r25_refresh_token_bound_to_client_and_scope_never_widens() {
    let h = host(Profile::OAuth21);
    let (_, rt) = h.tokens(); // scope "read" (default)
    let r = h.refresh(&rt, ("other", "other-secret"));
    assert_eq!(error_of(&r), "invalid_grant");
    // Another client's token reads as no token at all.
    assert_eq!(json_body(&r)["error_description"], "Invalid refresh token");
    let r = h.token(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &rt),
        ("scope", "read write"),
        ("client_id", CONFIDENTIAL),
        ("client_secret", SECRET),
    ]);
    assert_eq!(error_of(&r), "invalid_scope");
    // The failed attempts did not use the token up.
    let r = h.refresh(&rt, (CONFIDENTIAL, SECRET));
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn refresh_may_narrow_and_says_so() {
    let h = host(Profile::OAuth21);
    let r = h.authorize(&[
        ("response_type", "code"),
        ("client_id", CONFIDENTIAL),
        ("redirect_uri", REDIRECT),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("scope", "read write"),
    ]);
    let t = json_body(&h.redeem(&redirect_params(&r)["code"]));
    assert_eq!(t["scope"], "read write");
    let r = h.token(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ("scope", "write"),
        ("client_id", CONFIDENTIAL),
        ("client_secret", SECRET),
    ]);
    let v = json_body(&r);
    assert_eq!(v["scope"], "write");
    let rec = h
        .engine
        .validate_access_token(v["access_token"].as_str().unwrap(), Ctx::NONE)
        .unwrap()
        .unwrap();
    assert_eq!(rec.scopes, vec!["write".to_string()]);
    assert_eq!(
        rec.user_id,
        Some(serde_json::json!("alice")),
        "refreshed token keeps the user"
    );
}

#[test]
fn r27_refresh_token_expires() {
    let h = host(Profile::OAuth21);
    let (at, rt) = h.tokens();
    h.clock.advance(3601);
    assert!(!h.is_live(&at));
    h.clock.advance(7200);
    let r = h.refresh(&rt, (CONFIDENTIAL, SECRET));
    assert_eq!(error_of(&r), "invalid_grant");
    // The check's own reason reaches the client (the store only says "not redeemed").
    assert_eq!(
        json_body(&r)["error_description"],
        "Refresh token has expired"
    );
}

#[test]
fn refresh_errors() {
    let h = host(Profile::OAuth21);
    assert_eq!(
        error_of(&h.refresh("nope", (CONFIDENTIAL, SECRET))),
        "invalid_grant"
    );
    let r = h.token(&[
        ("grant_type", "refresh_token"),
        ("client_id", CONFIDENTIAL),
        ("client_secret", SECRET),
    ]);
    assert_eq!(error_of(&r), "invalid_request");
}

#[test]
fn refreshed_tokens_live_as_long_as_the_original_grant_says() {
    let mut cfg = config(Profile::Legacy);
    for g in &mut cfg.grants {
        match g.grant {
            Some(GrantType::AuthorizationCode) => g.expires_in = Some(120),
            Some(GrantType::RefreshToken) => g.expires_in = Some(60),
            _ => {}
        }
    }
    let h = host_with(cfg);
    let t = json_body(&h.redeem(&h.code()));
    assert_eq!(t["expires_in"], 120);
    let r = json_body(&h.refresh(t["refresh_token"].as_str().unwrap(), (CONFIDENTIAL, SECRET)));
    assert_eq!(r["expires_in"], 120);
}

#[test]
fn zero_lifetime_means_never_expires_and_no_refresh_token() {
    let mut cfg = config(Profile::Legacy);
    for g in &mut cfg.grants {
        g.expires_in = Some(0);
    }
    let h = host_with(cfg);
    let t = json_body(&h.redeem(&h.code()));
    assert!(t.get("expires_in").is_none());
    assert!(t.get("refresh_token").is_none());
    h.clock.advance(10 * 365 * 86400);
    assert!(h.is_live(t["access_token"].as_str().unwrap()));
}

#[test]
fn unique_tokens_hand_back_the_live_token() {
    let mut cfg = config(Profile::Legacy);
    for g in &mut cfg.grants {
        if matches!(
            g.grant,
            Some(GrantType::Password | GrantType::AuthorizationCode)
        ) {
            g.unique_token = true;
        }
    }
    let h = host_with(cfg);
    let login = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "wonderland"),
        ("client_id", CONFIDENTIAL),
        ("client_secret", SECRET),
    ];
    let a = json_body(&h.token(&login));
    h.clock.advance(100);
    let b = json_body(&h.token(&login));
    assert_eq!(a["access_token"], b["access_token"]);
    assert_eq!(b["expires_in"], 3500, "the remaining lifetime");
    assert_eq!(h.store.token_count(), 1);
    let mut other_scope = login.to_vec();
    other_scope.push(("scope", "write"));
    let c = json_body(&h.token(&other_scope));
    assert_ne!(a["access_token"], c["access_token"]);
}

#[test]
fn r23_token_responses_are_not_cached() {
    let h = host(Profile::OAuth21);
    let r = h.redeem(&h.code());
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
    let r = h.refresh("x", (CONFIDENTIAL, SECRET));
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
}

#[test]
fn malformed_token_requests() {
    let h = host(Profile::OAuth21);
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", CONFIDENTIAL),
        ("client_secret", SECRET),
    ]);
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<u8>);
    let cases: Vec<Case> = vec![
        ("GET", vec![FORM], body.clone().into_bytes()),
        ("POST", vec![], body.clone().into_bytes()),
        (
            "POST",
            vec![("Content-Type", "application/json")],
            br#"{"grant_type":"client_credentials"}"#.to_vec(),
        ),
        (
            "POST",
            vec![FORM],
            b"grant_type=client_credentials&client_id=%FF%FE".to_vec(),
        ),
        (
            "POST",
            vec![FORM],
            format!("{body}&grant_type=password").into_bytes(),
        ),
        ("POST", vec![FORM], vec![b'a'; 70_000]),
        ("POST", vec![FORM], b"\xff\xfe\x00=\x01".to_vec()),
    ];
    for (method, headers, body) in &cases {
        let r = h.engine.handle(&Request {
            headers,
            body,
            ..Request::new(method, "/token", "")
        });
        assert_eq!(
            (r.status, error_of(&r).as_str()),
            (400, "invalid_request"),
            "{method} {headers:?}"
        );
    }
    // Content-Type with parameters is fine.
    let r = h.post_raw(
        "/token",
        "",
        &[(
            "content-type",
            "application/x-www-form-urlencoded; charset=UTF-8",
        )],
        body.as_bytes(),
    );
    assert_eq!(r.status, 200);
}

#[test]
fn unknown_paths_are_404() {
    let h = host(Profile::OAuth21);
    assert_eq!(h.get("/nope", "").status, 404);
    assert_eq!(
        h.get("/.well-known/oauth-authorization-server", "").status,
        404,
        "no issuer, no metadata"
    );
}

#[test]
fn rfc7009_revocation() {
    let h = host(Profile::OAuth21);
    let (at, rt) = h.tokens();
    // Another client cannot revoke it, and is not told.
    let r = h.post(
        "/revoke",
        &[
            ("token", &at),
            ("client_id", "other"),
            ("client_secret", "other-secret"),
        ],
    );
    assert_eq!(r.status, 200);
    assert!(h.is_live(&at));
    let r = h.post(
        "/revoke",
        &[
            ("token", &at),
            ("client_id", CONFIDENTIAL),
            ("client_secret", SECRET),
        ],
    );
    assert_eq!(r.status, 200);
    assert!(!h.is_live(&at));
    // Unknown tokens: 200.
    let r = h.post(
        "/revoke",
        &[
            ("token", "nonsense"),
            ("client_id", CONFIDENTIAL),
            ("client_secret", SECRET),
        ],
    );
    assert_eq!(r.status, 200);
    // Revoking the refresh token ends the grant.
    let (at2, rt2) = h.tokens();
    let r = h.post(
        "/revoke",
        &[
            ("token", &rt2),
            ("token_type_hint", "refresh_token"),
            ("client_id", CONFIDENTIAL),
            ("client_secret", SECRET),
        ],
    );
    assert_eq!(r.status, 200);
    assert!(!h.is_live(&at2));
    assert_eq!(
        error_of(&h.refresh(&rt2, (CONFIDENTIAL, SECRET))),
        "invalid_grant"
    );
    // Unauthenticated callers are refused.
    let r = h.post(
        "/revoke",
        &[
            ("token", &rt),
            ("client_id", CONFIDENTIAL),
            ("client_secret", "bad"),
        ],
    );
    assert_eq!(error_of(&r), "invalid_client");
}

#[test]
fn revoke_grant_of_for_logout_r27() {
    let h = host(Profile::OAuth21);
    let (at, rt) = h.tokens();
    assert!(h.engine.revoke_grant_of(&rt, Ctx::NONE).unwrap());
    assert!(!h.is_live(&at));
    assert!(!h.engine.revoke_grant_of("unknown", Ctx::NONE).unwrap());
}

#[test]
fn r39_metadata_document() {
    let h = host_with(Config {
        issuer: Some("https://as.example".into()),
        ..config(Profile::OAuth21)
    });
    let r = h.get("/.well-known/oauth-authorization-server", "");
    assert_eq!(r.status, 200);
    let v = json_body(&r);
    assert_eq!(v["issuer"], "https://as.example");
    assert_eq!(v["token_endpoint"], "https://as.example/token");
    assert_eq!(v["revocation_endpoint"], "https://as.example/revoke");
    assert_eq!(
        v["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        v["grant_types_supported"],
        serde_json::json!(["authorization_code", "client_credentials", "refresh_token"])
    );
    assert_eq!(v["authorization_response_iss_parameter_supported"], true);
}

#[test]
fn python_wire_style_matches_json_dumps() {
    let h = host_with(Config {
        wire_style: WireStyle::Python,
        ..config(Profile::Legacy)
    });
    let r = h.token(&[
        ("grant_type", "client_credentials"),
        ("client_id", CONFIDENTIAL),
        ("client_secret", "bad"),
    ]);
    assert_eq!(
        r.body,
        r#"{"error": "invalid_client", "error_description": "Invalid client credentials"}"#
    );
}

#[test]
fn host_errors_become_server_error_and_reach_the_hook() {
    use std::sync::{Arc, Mutex};
    struct Broken;
    impl ClientStore for Broken {
        fn fetch_client(&self, _: &str, _: Ctx<'_>) -> Result<Option<Arc<Client>>, HostError> {
            Err(HostError::unavailable("db down"))
        }
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let mem = Arc::new(MemoryStore::new());
    let storage = Storage {
        clients: Arc::new(Broken),
        codes: mem.clone(),
        tokens: mem,
    };
    let engine = Engine::builder(config(Profile::OAuth21))
        .storage(storage)
        .site_adapter(Arc::new(ScriptedSite))
        .on_host_error(Arc::new(move |e: &HostError| {
            seen2.lock().unwrap().push(e.message.clone())
        }))
        .build()
        .unwrap();
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", "x"),
        ("client_secret", "y"),
    ]);
    let r = engine.handle(&Request {
        headers: &[FORM],
        body: body.as_bytes(),
        ..Request::new("POST", "/token", "")
    });
    assert_eq!(
        (r.status, error_of(&r).as_str()),
        (503, "temporarily_unavailable")
    );
    assert!(
        !r.body.contains("db down"),
        "internal messages stay internal"
    );
    assert_eq!(*seen.lock().unwrap(), vec!["db down".to_string()]);
}

#[test]
fn configuration_errors_are_clear() {
    let bad = |c: Config| {
        Engine::builder(c)
            .storage(Storage::from_backend(std::sync::Arc::new(
                MemoryStore::new(),
            )))
            .site_adapter(std::sync::Arc::new(ScriptedSite))
            .build()
            .err()
            .unwrap()
            .0
    };
    assert!(bad(Config {
        code_lifetime: 3600,
        ..Config::default()
    })
    .contains("code_lifetime"));
    assert!(bad(Config {
        token_path: "token".into(),
        ..Config::default()
    })
    .contains("token_path"));
    assert!(bad(Config {
        grants: vec![
            grant(GrantType::ClientCredentials),
            grant(GrantType::ClientCredentials)
        ],
        ..Config::default()
    })
    .contains("twice"));
    assert!(bad(Config {
        grants: vec![GrantConfig {
            unique_token: true,
            ..grant(GrantType::ClientCredentials)
        }],
        ..Config::default()
    })
    .contains("unique_token"));
    let no_site = Engine::builder(config(Profile::OAuth21))
        .storage(Storage::from_backend(std::sync::Arc::new(
            MemoryStore::new(),
        )))
        .build()
        .err()
        .unwrap()
        .0;
    assert!(no_site.contains("site adapter"));
    let parsed: Result<Config, _> = serde_json::from_str(r#"{"profile":"oauth2.1","bogus":1}"#);
    assert!(parsed.unwrap_err().to_string().contains("bogus"));
}
