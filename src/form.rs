//! `application/x-www-form-urlencoded` parsing and percent-encoding.
//!
//! Parameters follow OAuth 2.1 §3.1/§3.2 (R09): an empty value counts as absent, a parameter that
//! appears twice makes the request invalid, unknown parameters are kept but never looked at.

use std::borrow::Cow;

use crate::error::OAuthError;

/// More distinct parameters than any OAuth request has; beyond this the request is refused
/// rather than letting the repeat check grow quadratic.
pub const MAX_PARAMS: usize = 128;

/// Parsed parameters of a query string or form body, in order of appearance.
#[derive(Debug, Default)]
pub struct Params<'a> {
    pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> Params<'a> {
    /// Parses `input`; fails on a repeated name or on bytes that do not decode to UTF-8.
    pub fn parse(input: &'a [u8]) -> Result<Self, OAuthError> {
        let mut pairs: Vec<(Cow<'a, str>, Cow<'a, str>)> = Vec::new();
        // One validation of the whole input lets every piece without escapes be borrowed as is.
        let utf8 = std::str::from_utf8(input).is_ok();
        let decode = |raw: &'a [u8]| -> Result<Cow<'a, str>, OAuthError> {
            if utf8 && !raw.iter().any(|b| *b == b'+' || *b == b'%') {
                // Split at ASCII '&' and '=', so the piece is valid UTF-8 as well.
                return Ok(Cow::Borrowed(std::str::from_utf8(raw).unwrap_or_default()));
            }
            decode(raw)
        };
        for piece in input.split(|b| *b == b'&') {
            if piece.is_empty() {
                continue;
            }
            let (name, value) = match piece.iter().position(|b| *b == b'=') {
                Some(i) => (&piece[..i], &piece[i + 1..]),
                None => (piece, &piece[piece.len()..]),
            };
            let name = decode(name)?;
            let value = decode(value)?;
            if name.is_empty() || value.is_empty() {
                continue;
            }
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(OAuthError::invalid_request(format!(
                    "parameter '{name}' is repeated"
                )));
            }
            if pairs.len() == MAX_PARAMS {
                return Err(OAuthError::invalid_request("Too many parameters"));
            }
            pairs.push((name, value));
        }
        Ok(Params { pairs })
    }

    /// The value of `name`, if present and non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_ref())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(n, v)| (n.as_ref(), v.as_ref()))
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `+` and `%XX`; a `%` not followed by two hex digits stays literal (as browsers do).
pub fn decode(raw: &[u8]) -> Result<Cow<'_, str>, OAuthError> {
    let needs_work = raw.iter().any(|b| *b == b'+' || *b == b'%');
    if !needs_work {
        return std::str::from_utf8(raw)
            .map(Cow::Borrowed)
            .map_err(|_| OAuthError::invalid_request("parameters must be UTF-8"));
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < raw.len() => match (hex_val(raw[i + 1]), hex_val(raw[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| OAuthError::invalid_request("parameters must be UTF-8"))
}

/// Appends `value` percent-encoded for a query or fragment component: RFC 3986 unreserved
/// characters pass, everything else (space included) becomes `%XX`.
pub fn encode_into(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent() {
        assert_eq!(decode(b"a+b%20c%2Fd").unwrap(), "a b c/d");
        assert_eq!(decode(b"100%").unwrap(), "100%");
        assert_eq!(decode(b"%zz%4").unwrap(), "%zz%4");
        assert_eq!(decode(b"%C3%A9").unwrap(), "é");
        assert!(decode(b"%FF").is_err());
    }

    #[test]
    fn empty_values_are_absent_and_repeats_are_refused() {
        let p = Params::parse(b"a=1&b=&&c&d=x%3Dy").unwrap();
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), None);
        assert_eq!(p.get("c"), None);
        assert_eq!(p.get("d"), Some("x=y"));
        let e = Params::parse(b"a=1&a=2").unwrap_err();
        assert_eq!(e.code.as_str(), "invalid_request");
        // An empty repeat is not a repeat: the empty one counts as absent.
        assert!(Params::parse(b"a=1&a=").is_ok());
        let many: Vec<String> = (0..=MAX_PARAMS).map(|i| format!("p{i}=1")).collect();
        assert!(Params::parse(many.join("&").as_bytes()).is_err());
    }

    #[test]
    fn encodes_reserved_characters() {
        let mut s = String::new();
        encode_into(&mut s, "a b&c=d/é~");
        assert_eq!(s, "a%20b%26c%3Dd%2F%C3%A9~");
    }
}
