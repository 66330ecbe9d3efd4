//! Redirect URIs: matching a requested one against the registration (R01-R03) and building the
//! location that carries a response back to the client.

use crate::form::encode_into;
use crate::scan::find_any;

/// How a client's `redirect_uri` may differ from the registered one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatchPolicy {
    /// `http` URIs must be loopback ones (RFC 9700 §2.6, R03). Off in the `legacy` profile.
    pub require_https: bool,
    /// Treat `localhost` like a loopback IP for the port exception (RFC 8252 discourages it).
    pub localhost_is_loopback: bool,
}

/// The parts of an `http://` loopback URI, split at the port.
struct Loopback<'a> {
    host: &'a str,
    rest: &'a str,
}

fn split_loopback(uri: &str, localhost_ok: bool) -> Option<Loopback<'_>> {
    let after = uri.strip_prefix("http://")?;
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(authority_end);
    if authority.contains('@') {
        return None;
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let close = v6.find(']')?;
        let host = &authority[..close + 2];
        let tail = &v6[close + 1..];
        match tail.strip_prefix(':') {
            Some(p) => (host, Some(p)),
            None if tail.is_empty() => (host, None),
            None => return None,
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    let loopback = host == "127.0.0.1" || host == "[::1]" || (localhost_ok && host == "localhost");
    loopback.then_some(Loopback { host, rest })
}

impl MatchPolicy {
    /// True when `requested` names the registered URI `registered`: exactly the same string, or
    /// a loopback IP URI that differs only in its port (R02).
    pub fn matches(&self, registered: &str, requested: &str) -> bool {
        if registered == requested {
            return true;
        }
        match (
            split_loopback(registered, self.localhost_is_loopback),
            split_loopback(requested, self.localhost_is_loopback),
        ) {
            (Some(a), Some(b)) => a.host == b.host && a.rest == b.rest,
            _ => false,
        }
    }

    /// Whether a URI may be redirected to at all: absolute, no fragment (R03), and in the
    /// strict profile not plain `http` unless it is a loopback one.
    pub fn is_acceptable(&self, uri: &str) -> bool {
        // One scan to the first ':' or '#', then one for a '#' after the ':'.
        let bytes = uri.as_bytes();
        let colon = find_any(bytes, 0, [b':', b'#']);
        if bytes.get(colon) != Some(&b':') || find_any(bytes, colon + 1, [b'#']) < bytes.len() {
            return false;
        }
        let scheme = &uri[..colon];
        let scheme_ok = !scheme.is_empty()
            && scheme.as_bytes()[0].is_ascii_alphabetic()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        if !scheme_ok {
            return false;
        }
        if self.require_https && scheme.eq_ignore_ascii_case("http") {
            return split_loopback(uri, self.localhost_is_loopback).is_some();
        }
        true
    }
}

/// Where a response goes in the redirect URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// `?a=b` (authorization code, and every error of a code request).
    Query,
    /// `#a=b` (implicit grant, RFC 6749 §4.2.2).
    Fragment,
}

/// Builds `uri` plus parameters, joining onto an existing query with `&` (never a second `?`).
pub struct Location {
    out: String,
    first: bool,
}

impl Location {
    pub fn new(uri: &str, placement: Placement) -> Self {
        let mut out = String::with_capacity(uri.len() + 96);
        out.push_str(uri);
        let first = match placement {
            Placement::Fragment => {
                out.push('#');
                true
            }
            Placement::Query => match find_any(uri.as_bytes(), 0, [b'?']) {
                i if i == uri.len() => {
                    out.push('?');
                    true
                }
                i => i + 1 == uri.len() || uri.ends_with('&'),
            },
        };
        Location { out, first }
    }

    pub fn param(&mut self, name: &str, value: &str) -> &mut Self {
        if !self.first {
            self.out.push('&');
        }
        self.first = false;
        self.out.push_str(name);
        self.out.push('=');
        encode_into(&mut self.out, value);
        self
    }

    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: MatchPolicy = MatchPolicy {
        require_https: true,
        localhost_is_loopback: false,
    };

    #[test]
    fn r01_exact_match_only() {
        let reg = "https://c.example/cb";
        assert!(STRICT.matches(reg, reg));
        for bad in [
            "https://c.example/cb/x",
            "https://c.example/cb?x=1",
            "https://C.example/cb",
            "https://c.example/cb#f",
            "https://c.example.evil/cb",
            "https://evilc.example/cb",
            "https://c.example:443/cb",
        ] {
            assert!(!STRICT.matches(reg, bad), "{bad}");
        }
    }

    #[test]
    fn r02_loopback_port_exception() {
        assert!(STRICT.matches("http://127.0.0.1/cb", "http://127.0.0.1:51004/cb"));
        assert!(STRICT.matches("http://[::1]/cb", "http://[::1]:8080/cb"));
        assert!(STRICT.matches("http://127.0.0.1:9/cb", "http://127.0.0.1:51004/cb"));
        assert!(!STRICT.matches("http://127.0.0.1/cb", "http://127.0.0.1:5/cb2"));
        assert!(!STRICT.matches("http://127.0.0.1/cb?a=1", "http://127.0.0.1:5/cb?a=2"));
        assert!(!STRICT.matches("http://127.0.0.1/cb", "http://[::1]:5/cb"));
        assert!(!STRICT.matches("http://localhost/cb", "http://localhost:5/cb"));
        assert!(!STRICT.matches("https://127.0.0.1/cb", "https://127.0.0.1:5/cb"));
        assert!(!STRICT.matches("http://127.0.0.1/cb", "http://127.0.0.1:x/cb"));
        assert!(!STRICT.matches("http://127.0.0.1/cb", "http://u@127.0.0.1:1/cb"));
        let lax = MatchPolicy {
            localhost_is_loopback: true,
            ..STRICT
        };
        assert!(lax.matches("http://localhost/cb", "http://localhost:5/cb"));
    }

    #[test]
    fn r03_http_and_fragments_refused() {
        assert!(!STRICT.is_acceptable("http://c.example/cb"));
        assert!(STRICT.is_acceptable("http://127.0.0.1:4/cb"));
        assert!(!STRICT.is_acceptable("https://c.example/cb#x"));
        assert!(STRICT.is_acceptable("com.example.app:/cb"));
        assert!(!STRICT.is_acceptable("/relative"));
        let legacy = MatchPolicy {
            require_https: false,
            localhost_is_loopback: false,
        };
        assert!(legacy.is_acceptable("http://localhost/callback"));
    }

    #[test]
    fn joins_onto_existing_query() {
        let mut l = Location::new("https://c/cb?x=1", Placement::Query);
        l.param("code", "a b").param("state", "s&t");
        assert_eq!(l.finish(), "https://c/cb?x=1&code=a%20b&state=s%26t");
        let mut l = Location::new("https://c/cb", Placement::Query);
        l.param("error", "access_denied");
        assert_eq!(l.finish(), "https://c/cb?error=access_denied");
        let mut l = Location::new("https://c/cb?", Placement::Query);
        l.param("a", "1");
        assert_eq!(l.finish(), "https://c/cb?a=1");
        let mut l = Location::new("https://c/cb?q=1", Placement::Fragment);
        l.param("access_token", "t");
        assert_eq!(l.finish(), "https://c/cb?q=1#access_token=t");
    }
}
