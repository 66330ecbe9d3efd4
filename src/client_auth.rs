//! Client authentication at the token endpoint (RFC 6749 §2.3): reading the credentials a
//! request carries and checking them against the registered client.

use std::borrow::Cow;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::OAuthError;
use crate::form::{decode, Params};
use crate::http::Request;
use crate::model::Client;

/// What a request claims about its client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub client_id: String,
    pub secret: Option<String>,
    /// Sent with HTTP Basic: a failure answers 401 with `WWW-Authenticate`.
    pub via_basic: bool,
}

/// Reads client credentials from a request. The built-in [`AuthMethods`] cover RFC 6749; hosts
/// may plug their own (python-oauth2's `client_authentication_source`).
pub trait CredentialSource: Send + Sync {
    fn credentials(
        &self,
        request: &Request<'_>,
        form: &Params<'_>,
    ) -> Result<Credentials, OAuthError>;
}

/// Which standard methods the token endpoint accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethods {
    /// `client_secret_basic` or `client_secret_post` (and `none` for public clients).
    #[default]
    Any,
    /// Only the form body (python-oauth2's `request_body`).
    ClientSecretPost,
    /// Only HTTP Basic (python-oauth2's `http_basic_auth`).
    ClientSecretBasic,
}

/// How the engine finds a request's client credentials.
#[derive(Clone)]
pub enum ClientAuthentication {
    Standard(AuthMethods),
    Custom(Arc<dyn CredentialSource>),
}

impl Default for ClientAuthentication {
    fn default() -> Self {
        ClientAuthentication::Standard(AuthMethods::Any)
    }
}

impl std::fmt::Debug for ClientAuthentication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientAuthentication::Standard(m) => write!(f, "Standard({m:?})"),
            ClientAuthentication::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

fn basic_failure(description: &'static str) -> OAuthError {
    let mut e = OAuthError::invalid_client(description);
    e.basic_challenge = true;
    e
}

/// Credentials as the engine checks them, borrowed from the request where they can be (the
/// form body), so that authenticating a client copies nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Creds<'a> {
    pub client_id: Cow<'a, str>,
    pub secret: Option<Cow<'a, str>>,
    pub via_basic: bool,
}

impl Creds<'_> {
    fn into_owned(self) -> Credentials {
        Credentials {
            client_id: self.client_id.into_owned(),
            secret: self.secret.map(Cow::into_owned),
            via_basic: self.via_basic,
        }
    }
}

impl From<Credentials> for Creds<'_> {
    fn from(c: Credentials) -> Self {
        Creds {
            client_id: Cow::Owned(c.client_id),
            secret: c.secret.map(Cow::Owned),
            via_basic: c.via_basic,
        }
    }
}

/// Parses `Authorization: Basic ...`; `None` when the header is absent or of another scheme.
/// RFC 6749 §2.3.1: id and secret are form-encoded before they are joined with `:`.
pub fn parse_basic(request: &Request<'_>) -> Option<Result<Credentials, OAuthError>> {
    basic(request).map(|r| r.map(Creds::into_owned))
}

fn basic(request: &Request<'_>) -> Option<Result<Creds<'static>, OAuthError>> {
    let header = request.header("authorization")?.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let parsed = (|| {
        let raw = STANDARD
            .decode(rest.trim())
            .map_err(|_| basic_failure("Malformed Basic credentials"))?;
        let colon = raw
            .iter()
            .position(|b| *b == b':')
            .ok_or_else(|| basic_failure("Malformed Basic credentials"))?;
        let id = decode(&raw[..colon]).map_err(|_| basic_failure("Malformed Basic credentials"))?;
        let secret =
            decode(&raw[colon + 1..]).map_err(|_| basic_failure("Malformed Basic credentials"))?;
        if id.is_empty() {
            return Err(basic_failure("Missing client identifier"));
        }
        Ok(Creds {
            client_id: Cow::Owned(id.into_owned()),
            secret: (!secret.is_empty()).then(|| Cow::Owned(secret.into_owned())),
            via_basic: true,
        })
    })();
    Some(parsed)
}

fn from_body<'f>(form: &'f Params<'_>) -> Result<Creds<'f>, OAuthError> {
    let id = form
        .get("client_id")
        .ok_or_else(|| OAuthError::invalid_client("Missing client identifier"))?;
    Ok(Creds {
        client_id: Cow::Borrowed(id),
        secret: form.get("client_secret").map(Cow::Borrowed),
        via_basic: false,
    })
}

impl CredentialSource for AuthMethods {
    fn credentials(
        &self,
        request: &Request<'_>,
        form: &Params<'_>,
    ) -> Result<Credentials, OAuthError> {
        self.creds(request, form).map(Creds::into_owned)
    }
}

impl AuthMethods {
    fn creds<'f>(
        &self,
        request: &Request<'_>,
        form: &'f Params<'_>,
    ) -> Result<Creds<'f>, OAuthError> {
        let basic = match self {
            AuthMethods::ClientSecretPost => None,
            _ => basic(request),
        };
        match (self, basic) {
            (_, Some(Err(e))) => Err(e),
            (_, Some(Ok(creds))) => {
                // RFC 6749 §2.3: one method per request. A repeated, equal client_id is harmless.
                if form.get("client_secret").is_some() {
                    return Err(OAuthError::invalid_request(
                        "Client credentials sent by more than one method",
                    ));
                }
                if form
                    .get("client_id")
                    .is_some_and(|id| id != creds.client_id)
                {
                    return Err(OAuthError::invalid_request(
                        "client_id differs from the Basic credentials",
                    ));
                }
                Ok(creds)
            }
            (AuthMethods::ClientSecretBasic, None) => {
                // A public client has no secret to send, so it identifies itself in the body.
                let creds = from_body(form)
                    .map_err(|_| basic_failure("Authorization header is missing"))?;
                if creds.secret.is_some() {
                    return Err(basic_failure(
                        "Client secrets are accepted in the Authorization header only",
                    ));
                }
                Ok(creds)
            }
            (_, None) => from_body(form),
        }
    }
}

impl ClientAuthentication {
    pub fn credentials(
        &self,
        request: &Request<'_>,
        form: &Params<'_>,
    ) -> Result<Credentials, OAuthError> {
        self.creds(request, form).map(Creds::into_owned)
    }

    /// The credentials of a request, borrowed from its form where they were sent there.
    pub(crate) fn creds<'f>(
        &self,
        request: &Request<'_>,
        form: &'f Params<'_>,
    ) -> Result<Creds<'f>, OAuthError> {
        match self {
            ClientAuthentication::Standard(m) => m.creds(request, form),
            ClientAuthentication::Custom(c) => c.credentials(request, form).map(Creds::from),
        }
    }
}

/// Checks the presented secret against the client's in constant time (R31): the work done
/// depends on the length of what the caller sent, and the stored secret's content never shows
/// in the timing.
pub fn verify_secret(client: &Client, creds: &Credentials) -> Result<(), OAuthError> {
    check_secret(client, creds.secret.as_deref(), creds.via_basic)
}

/// [`verify_secret`] on the parts of the credentials it looks at.
pub(crate) fn check_secret(
    client: &Client,
    given: Option<&str>,
    via_basic: bool,
) -> Result<(), OAuthError> {
    let fail = |d: &'static str| {
        let mut e = OAuthError::invalid_client(d);
        e.basic_challenge = via_basic;
        e
    };
    if client.is_public() {
        return match given {
            // R33: a public client is never authenticated by a shared secret.
            Some(_) => Err(fail("Public clients must not send a client secret")),
            None => Ok(()),
        };
    }
    let Some(given) = given else {
        return Err(fail("Missing client credentials"));
    };
    let ok = if let Some(secret) = &client.client_secret {
        secret_eq(secret.as_bytes(), given.as_bytes())
    } else if let Some(hex) = &client.client_secret_sha256 {
        // The digest is compared whole, in constant time like a secret in clear; a stored value
        // that is not 64 hex digits matches nothing.
        match decode_hex32(hex) {
            Some(expected) => {
                let digest: [u8; 32] = Sha256::digest(given.as_bytes()).into();
                secret_eq(&expected, &digest)
            }
            None => false,
        }
    } else {
        false
    };
    if ok {
        Ok(())
    } else {
        Err(fail("Invalid client credentials"))
    }
}

/// Constant-time equality that walks `given` once whatever `stored` is: each byte is compared
/// with the stored byte at the same position (or a stand-in that differs, past its end), the
/// differences are OR-ed into one byte without branching, and only that byte and the length
/// comparison go through `subtle`'s optimisation barrier. (The usual constant-time loop, as in
/// the `constant_time_eq` crate; a `subtle` barrier on every byte cost ten times as much.)
fn secret_eq(stored: &[u8], given: &[u8]) -> bool {
    let mut diff = 0u8;
    for (i, g) in given.iter().enumerate() {
        // Branches on the position against the stored length only, never on a secret byte.
        let s = stored.get(i).copied().unwrap_or(!*g);
        diff |= s ^ g;
    }
    let same_len = (stored.len() as u64).ct_eq(&(given.len() as u64));
    bool::from(same_len & diff.ct_eq(&0))
}

fn decode_hex32(hex: &str) -> Option<[u8; 32]> {
    use crate::form::hex_val as nibble;
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *o = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
}

/// The lowercase hex SHA-256 of a secret, for `client_secret_sha256`.
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(headers: &'a [(&'a str, &'a str)]) -> Request<'a> {
        Request {
            headers,
            ..Request::new("POST", "/token", "")
        }
    }

    #[test]
    fn r32_basic_is_form_decoded() {
        // "a%3Ab" : "s%20c" -> id "a:b", secret "s c"
        let h = format!("Basic {}", STANDARD.encode("a%3Ab:s%20c"));
        let hs = [("Authorization", h.as_str())];
        let form = Params::parse(b"").unwrap();
        let c = AuthMethods::Any.credentials(&req(&hs), &form).unwrap();
        assert_eq!(c.client_id, "a:b");
        assert_eq!(c.secret.as_deref(), Some("s c"));
        assert!(c.via_basic);
    }

    #[test]
    fn r35_malformed_basic_is_401_invalid_client() {
        for h in ["Basic", "Basic !!!", "basic Zm9v"] {
            let hs = [("authorization", h)];
            let form = Params::parse(b"").unwrap();
            let e = AuthMethods::Any.credentials(&req(&hs), &form).unwrap_err();
            assert_eq!(
                (e.code.as_str(), e.status()),
                ("invalid_client", 401),
                "{h}"
            );
        }
    }

    #[test]
    fn two_methods_at_once_is_invalid_request() {
        let h = format!("Basic {}", STANDARD.encode("a:b"));
        let hs = [("Authorization", h.as_str())];
        let form = Params::parse(b"client_secret=b").unwrap();
        let e = AuthMethods::Any.credentials(&req(&hs), &form).unwrap_err();
        assert_eq!(e.code.as_str(), "invalid_request");
    }

    #[test]
    fn r31_r33_secret_checks() {
        let c = Client::confidential("c", "s3cret", vec![]);
        let creds = |s: Option<&str>| Credentials {
            client_id: "c".into(),
            secret: s.map(str::to_owned),
            via_basic: false,
        };
        assert!(verify_secret(&c, &creds(Some("s3cret"))).is_ok());
        assert!(verify_secret(&c, &creds(Some("s3cre"))).is_err());
        assert!(verify_secret(&c, &creds(None)).is_err());
        let hashed = Client {
            client_secret: None,
            client_secret_sha256: Some(hash_secret("s3cret")),
            ..c.clone()
        };
        assert!(verify_secret(&hashed, &creds(Some("s3cret"))).is_ok());
        assert!(verify_secret(&hashed, &creds(Some("x"))).is_err());
        let public = Client::public("c", vec![]);
        assert!(verify_secret(&public, &creds(None)).is_ok());
        assert_eq!(
            verify_secret(&public, &creds(Some("x")))
                .unwrap_err()
                .code
                .as_str(),
            "invalid_client"
        );
    }
}
