//! The example C server of examples/c/ (libmicrohttpd + the C ABI + a C store and consent
//! page), built, started on a free loopback port, and walked through a full authorization code
//! + PKCE + refresh flow with real HTTP requests.

// The C ABI exists only with the (default) `capi` feature.
#![cfg(feature = "capi")]

#[path = "c/harness.rs"]
mod harness;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// `demo-client:demo-secret`, base64.
const BASIC: &str = "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=";

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM first so the server frees everything and exits; SIGKILL if it does not.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(exe: &std::path::Path) -> Server {
    // A port the OS just handed out; another process could take it before the server binds, so
    // a failed start is retried on a new port.
    for _ in 0..5 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut child = Command::new(exe)
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the example server");
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let _ = out.read_line(&mut line);
        if line.contains("listening on") {
            return Server { child, port };
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("the example server did not start");
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`, so the reply ends at EOF).
fn http(port: u16, method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req =
        format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).expect("send");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read reply");
    let text = String::from_utf8(raw).expect("UTF-8 reply");
    let (head, body) = text.split_once("\r\n\r\n").expect("header/body separator");
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

#[test]
fn example_server_code_pkce_refresh_over_http() {
    let exe = harness::compile(
        "example_server",
        &["examples/c/server.c", "examples/c/store.c"],
        &[],
        &["-lmicrohttpd"],
    );
    let server = start(&exe);
    let port = server.port;
    let redirect = "http%3A%2F%2F127.0.0.1%3A8765%2Fcallback";
    let authorize = format!(
        "/authorize?response_type=code&client_id=demo-client&redirect_uri={redirect}\
         &scope=profile+email&state=st-1&code_challenge={CHALLENGE}&code_challenge_method=S256"
    );

    // 1. The consent page, hardened against framing (R08).
    let page = http(port, "GET", &authorize, &[], "");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Authorize demo-client"), "{}", page.body);
    assert!(page.body.contains("<form method=\"post\""), "{}", page.body);
    assert_eq!(page.header("X-Frame-Options"), Some("DENY"));

    // 2. Deny: access_denied back at the client with state.
    let denied = http(port, "POST", &authorize, &[FORM], "approve=no");
    assert_eq!(denied.status, 302);
    let loc = denied.header("Location").expect("Location");
    assert!(
        loc.starts_with("http://127.0.0.1:8765/callback?error=access_denied"),
        "{loc}"
    );
    assert_eq!(param(loc, "state").as_deref(), Some("st-1"));

    // 3. Allow: a code, with state and iss (RFC 9207).
    let allowed = http(port, "POST", &authorize, &[FORM], "approve=yes");
    assert_eq!(allowed.status, 302, "{}", allowed.body);
    let loc = allowed.header("Location").expect("Location").to_owned();
    assert!(
        loc.starts_with("http://127.0.0.1:8765/callback?code="),
        "{loc}"
    );
    assert_eq!(param(&loc, "state").as_deref(), Some("st-1"));
    assert!(param(&loc, "iss").is_some(), "{loc}");
    let code = param(&loc, "code").expect("code");

    // 4. Redeem with PKCE and HTTP Basic.
    let form = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={redirect}&code_verifier={VERIFIER}"
    );
    let tokens = http(
        port,
        "POST",
        "/token",
        &[FORM, ("Authorization", BASIC)],
        &form,
    );
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.header("Cache-Control"), Some("no-store"));
    assert_eq!(tokens.header("Pragma"), Some("no-cache"));
    let t = tokens.json();
    assert_eq!(
        t["token_type"]
            .as_str()
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("bearer")
    );
    assert_eq!(t["scope"], "profile email");
    let access = t["access_token"].as_str().expect("access_token").to_owned();
    let refresh = t["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_owned();

    // 5. The code is single-use (R17).
    let again = http(
        port,
        "POST",
        "/token",
        &[FORM, ("Authorization", BASIC)],
        &form,
    );
    assert_eq!(again.status, 400);
    assert_eq!(again.json()["error"], "invalid_grant");

    // 6. The replay revoked the grant: start a new one and refresh it, with rotation.
    let allowed = http(port, "POST", &authorize, &[FORM], "approve=yes");
    let code = param(allowed.header("Location").expect("Location"), "code").expect("code");
    let form = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={redirect}&code_verifier={VERIFIER}"
    );
    let t = http(
        port,
        "POST",
        "/token",
        &[FORM, ("Authorization", BASIC)],
        &form,
    )
    .json();
    let access2 = t["access_token"].as_str().expect("access_token").to_owned();
    let refresh2 = t["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_owned();
    assert_ne!(access2, access);
    assert_ne!(refresh2, refresh);
    let form = format!("grant_type=refresh_token&refresh_token={refresh2}&scope=profile");
    let refreshed = http(
        port,
        "POST",
        "/token",
        &[FORM, ("Authorization", BASIC)],
        &form,
    );
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let r = refreshed.json();
    assert_eq!(r["scope"], "profile");
    let refresh3 = r["refresh_token"]
        .as_str()
        .expect("rotated refresh_token")
        .to_owned();
    assert_ne!(refresh3, refresh2);
    assert_ne!(r["access_token"].as_str(), Some(access2.as_str()));

    // 7. The used refresh token is refused (R24) ...
    let reused = http(
        port,
        "POST",
        "/token",
        &[FORM, ("Authorization", BASIC)],
        &form,
    );
    assert_eq!(reused.status, 400);
    assert_eq!(reused.json()["error"], "invalid_grant");
    // ... and its replay ended the grant, the rotated token included.
    let form = format!("grant_type=refresh_token&refresh_token={refresh3}");
    let after = http(
        port,
        "POST",
        "/token",
        &[FORM, ("Authorization", BASIC)],
        &form,
    );
    assert_eq!(after.status, 400);

    // 8. Wrong client secret over Basic: 401 with a challenge (R35).
    let bad = http(
        port,
        "POST",
        "/token",
        &[FORM, ("Authorization", "Basic ZGVtby1jbGllbnQ6bm8=")],
        "grant_type=refresh_token&refresh_token=x",
    );
    assert_eq!(bad.status, 401);
    assert!(bad.header("WWW-Authenticate").is_some());

    // 9. The metadata document (RFC 8414).
    let meta = http(
        port,
        "GET",
        "/.well-known/oauth-authorization-server",
        &[],
        "",
    );
    assert_eq!(meta.status, 200);
    assert_eq!(meta.json()["issuer"], format!("http://127.0.0.1:{port}"));
    drop(server);
}
