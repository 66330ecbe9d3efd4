//! Proof Key for Code Exchange (RFC 7636).

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::model::PkceMethod;

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
/// The same alphabet and length bound the `plain` challenge.
pub fn is_valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// An S256 challenge is the unpadded base64url of a SHA-256 digest: exactly 43 characters.
pub fn is_valid_s256_challenge(c: &str) -> bool {
    c.len() == 43
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

pub fn parse_method(raw: Option<&str>) -> Option<PkceMethod> {
    match raw {
        None | Some("plain") => Some(PkceMethod::Plain),
        Some("S256") => Some(PkceMethod::S256),
        Some(_) => None,
    }
}

/// The S256 challenge of `verifier`.
pub fn s256_challenge(verifier: &str) -> String {
    crate::token::base64url(&Sha256::digest(verifier.as_bytes()).into())
}

/// Checks `verifier` against the stored challenge in constant time (R13).
pub fn verify(challenge: &str, method: PkceMethod, verifier: &str) -> bool {
    if !is_valid_verifier(verifier) {
        return false;
    }
    let computed;
    let expected = match method {
        PkceMethod::S256 => {
            computed = s256_challenge(verifier);
            computed.as_bytes()
        }
        PkceMethod::Plain => verifier.as_bytes(),
    };
    expected.ct_eq(challenge.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(s256_challenge(verifier), challenge);
        assert!(is_valid_s256_challenge(challenge));
        assert!(verify(challenge, PkceMethod::S256, verifier));
        assert!(!verify(
            challenge,
            PkceMethod::S256,
            &verifier.replace('d', "e")
        ));
        assert!(!verify(challenge, PkceMethod::Plain, verifier));
    }

    #[test]
    fn verifier_syntax() {
        assert!(!is_valid_verifier("short"));
        assert!(!is_valid_verifier(&"a".repeat(129)));
        assert!(!is_valid_verifier(&format!("{}!", "a".repeat(43))));
        assert!(is_valid_verifier(&"a~".repeat(30)));
    }
}
