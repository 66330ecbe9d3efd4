//! Token generation: the random strings that codes, access tokens and refresh tokens are.
//!
//! Randomness comes from the thread-local ChaCha generator of `rand`, which the OS seeds and
//! reseeds: a cryptographically secure stream without a system call per token (R29).

use rand::RngCore;
use serde::Deserialize;

use crate::error::HostError;

/// What a generated string will be used as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    AuthorizationCode,
    AccessToken,
    RefreshToken,
}

/// Makes codes and tokens. Implementations must be unpredictable (≥ 128 bits from a CSPRNG).
pub trait TokenGenerator: Send + Sync {
    fn generate(&self, kind: TokenKind) -> Result<String, HostError>;
}

/// The built-in formats, as named in the configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TokenFormat {
    /// 32 random bytes as unpadded base64url: 43 characters, 256 bits.
    #[default]
    Random,
    /// python-oauth2's `Uuid4`: `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`, 122 random bits.
    Uuid4,
    /// python-oauth2's `URandomTokenGenerator`: `length` lowercase hex characters (32 to 128).
    Hex { length: usize },
}

impl TokenFormat {
    pub fn validate(&self) -> Result<(), String> {
        match self {
            TokenFormat::Hex { length } if !(32..=128).contains(length) => Err(format!(
                "hex token length must be 32..=128 (128 bits at least), got {length}"
            )),
            _ => Ok(()),
        }
    }
}

impl TokenGenerator for TokenFormat {
    fn generate(&self, _kind: TokenKind) -> Result<String, HostError> {
        Ok(match *self {
            TokenFormat::Random => random_token(),
            TokenFormat::Uuid4 => uuid4(),
            TokenFormat::Hex { length } => hex_token(length),
        })
    }
}

/// 256 random bits, base64url without padding.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64url(&bytes)
}

/// Unpadded base64url of `N` bytes (at most 48): what `URL_SAFE_NO_PAD.encode` gives, written
/// straight into a stack buffer and copied once into a string of the final size, rather than
/// through the general encoder (which sizes, allocates and pads in separate steps).
pub(crate) fn base64url<const N: usize>(bytes: &[u8; N]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const { assert!(N <= 48, "the buffer holds 64 characters") };
    let mut out = [0u8; 64];
    let char_of = |n: u32, k: usize| ALPHABET[(n >> (18 - 6 * k) & 63) as usize];
    // Each group of three bytes makes four characters; a last group of one or two bytes makes
    // two or three.
    let groups = bytes.chunks_exact(3);
    let rest = groups.remainder();
    let mut len = 0;
    for (group, chars) in groups.zip(out.chunks_exact_mut(4)) {
        let n = u32::from(group[0]) << 16 | u32::from(group[1]) << 8 | u32::from(group[2]);
        for (k, c) in chars.iter_mut().enumerate() {
            *c = char_of(n, k);
        }
        len += 4;
    }
    if !rest.is_empty() {
        let n = rest
            .iter()
            .enumerate()
            .fold(0u32, |n, (k, b)| n | u32::from(*b) << (16 - 8 * k));
        for k in 0..=rest.len() {
            out[len] = char_of(n, k);
            len += 1;
        }
    }
    // The alphabet is ASCII, so this never fails.
    crate::http::utf8(&out[..len])
        .unwrap_or_default()
        .to_owned()
}

/// Lowercase hexadecimal digits, for the UUID4 and hex formats.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// A random (version 4) UUID in its hyphenated lowercase form.
pub fn uuid4() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    uuid4_text(bytes)
}

/// The UUID4 text of 16 random bytes (RFC 9562 §5.4): the version nibble set to 4, the variant
/// bits to `10`, then 8-4-4-4-12 lowercase hex digits. Written into a stack buffer and copied
/// out once, which costs a third of formatting through the uuid crate.
fn uuid4_text(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    // Where each byte's two digits go; the hyphens stay where they are.
    const AT: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
    let mut out = [b'-'; 36];
    for (b, &j) in bytes.iter().zip(&AT) {
        out[j] = HEX[usize::from(b >> 4)];
        out[j + 1] = HEX[usize::from(b & 15)];
    }
    // Hex digits and hyphens are ASCII, so this never fails.
    crate::http::utf8(&out).unwrap_or_default().to_owned()
}

/// `length` lowercase hex characters of randomness (at most 128).
pub fn hex_token(length: usize) -> String {
    let length = length.min(128);
    let mut bytes = [0u8; 64];
    rand::thread_rng().fill_bytes(&mut bytes[..length.div_ceil(2)]);
    let mut out = String::with_capacity(length);
    for b in &bytes[..length.div_ceil(2)] {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
    out.truncate(length);
    out
}

/// A grant-family id: 128 random bits, never shown to clients.
pub(crate) fn family_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64url(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use std::collections::HashSet;

    #[test]
    fn r29_formats_and_lengths() {
        let t = random_token();
        assert_eq!(t.len(), 43);
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        let u = uuid4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(hex_token(40).len(), 40);
        assert_eq!(hex_token(33).len(), 33);
        assert!(TokenFormat::Hex { length: 16 }.validate().is_err());
    }

    #[test]
    fn uuid4_matches_the_uuid_crate() {
        let mut bytes = [0u8; 16];
        for round in 0..200u32 {
            for (i, b) in bytes.iter_mut().enumerate() {
                *b = (round.wrapping_mul(2_654_435_761) >> (i % 24)) as u8
                    ^ (i as u8).wrapping_mul(37);
            }
            if round == 1 {
                bytes = [0xff; 16];
            } else if round == 2 {
                bytes = [0; 16];
            }
            let ours = uuid4_text(bytes);
            let theirs = uuid::Builder::from_random_bytes(bytes)
                .into_uuid()
                .hyphenated()
                .to_string();
            assert_eq!(ours, theirs);
            let parsed = uuid::Uuid::parse_str(&ours).unwrap();
            assert_eq!(parsed.get_version_num(), 4);
            assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122);
        }
    }

    #[test]
    fn base64url_matches_the_base64_crate() {
        let mut bytes = [0u8; 48];
        for round in 0..200u32 {
            for (i, b) in bytes.iter_mut().enumerate() {
                *b = (round.wrapping_mul(2_654_435_761) >> (i % 24)) as u8 ^ i as u8;
            }
            if round == 0 {
                bytes = [0xff; 48];
            }
            // Lengths with each remainder of three, and the ones in use.
            let b = &bytes;
            assert_eq!(base64url(b), URL_SAFE_NO_PAD.encode(b));
            let b: &[u8; 32] = b.first_chunk().unwrap();
            assert_eq!(base64url(b), URL_SAFE_NO_PAD.encode(b));
            let b: &[u8; 16] = b.first_chunk().unwrap();
            assert_eq!(base64url(b), URL_SAFE_NO_PAD.encode(b));
            let b: &[u8; 1] = b.first_chunk().unwrap();
            assert_eq!(base64url(b), URL_SAFE_NO_PAD.encode(b));
            assert_eq!(base64url(&[]), "");
        }
        assert_eq!(family_id().len(), 22);
    }

    #[test]
    fn r29_statistical_sanity() {
        // 20 000 tokens: all distinct, and every base64url symbol is used at a rate near 1/64.
        let mut seen = HashSet::new();
        let mut counts = [0usize; 128];
        for _ in 0..20_000 {
            let t = random_token();
            for b in t.bytes() {
                counts[b as usize] += 1;
            }
            assert!(seen.insert(t));
        }
        let total: usize = counts.iter().sum();
        let expected = total as f64 / 64.0;
        let used: Vec<usize> = counts.iter().copied().filter(|c| *c > 0).collect();
        assert_eq!(used.len(), 64);
        // The last symbol of 43 carries only 4 bits, so allow a generous band.
        for c in used {
            assert!(
                (c as f64) > expected * 0.75 && (c as f64) < expected * 1.25,
                "{c} vs {expected}"
            );
        }
    }
}
