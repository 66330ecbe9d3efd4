//! `application/x-www-form-urlencoded` parsing and percent-encoding.
//!
//! Parameters follow OAuth 2.1 §3.1/§3.2 (R09): an empty value counts as absent, a parameter that
//! appears twice makes the request invalid, unknown parameters are kept but never looked at.

use std::borrow::Cow;

use crate::error::OAuthError;

/// More distinct parameters than any OAuth request has; beyond this the request is refused
/// rather than letting the repeat check grow quadratic.
pub const MAX_PARAMS: usize = 128;

/// The bytes a form parser must look at: separators and the start of an encoding.
const SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b'&' as usize] = true;
    t[b'=' as usize] = true;
    t[b'+' as usize] = true;
    t[b'%' as usize] = true;
    t
};

/// The index of the first of `&`, `=`, `+` and `%` in `bytes` at or after `i`, or `bytes.len()`.
/// Eight bytes at a time (the classic SWAR test: `x` has a zero byte when `(x - 0x01..) & !x`
/// has a top bit set; the lowest one marks the first, which is all this needs), then bytes.
fn next_special(bytes: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x;
    while let Some(word) = bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let w = u64::from_le_bytes(*word);
        let hits = (zero(w ^ (ONES * u64::from(b'&')))
            | zero(w ^ (ONES * u64::from(b'=')))
            | zero(w ^ (ONES * u64::from(b'+')))
            | zero(w ^ (ONES * u64::from(b'%'))))
            & HIGH;
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < bytes.len() && !SPECIAL[usize::from(bytes[i])] {
        i += 1;
    }
    i
}

/// Pairs kept inline before any allocation: OAuth requests carry a handful of parameters.
const INLINE: usize = 6;

type Pair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// Parsed parameters of a query string or form body, in order of appearance.
#[derive(Debug, Default)]
pub struct Params<'a> {
    /// The first [`INLINE`] pairs (`len` of them are in use), so that parsing a request
    /// allocates nothing; the rest go to `more`.
    inline: [Pair<'a>; INLINE],
    len: usize,
    more: Vec<Pair<'a>>,
}

impl<'a> Params<'a> {
    /// Parses `input`; fails on a repeated name or on bytes that do not decode to UTF-8.
    pub fn parse(input: &'a [u8]) -> Result<Self, OAuthError> {
        match crate::http::utf8(input) {
            Some(text) => Self::parse_text(text),
            None => Self::parse_bytes(input),
        }
    }

    /// One pass over text known to be UTF-8: pieces without `+` or `%` are borrowed as they are,
    /// the others decoded.
    fn parse_text(text: &'a str) -> Result<Self, OAuthError> {
        let bytes = text.as_bytes();
        let mut params = Params::default();
        let mut start = 0;
        while start < bytes.len() {
            // The piece up to the next '&', split at its first '='; `coded` says which of name
            // and value hold a '+' or '%'.
            let mut eq = None;
            let mut coded = [false; 2];
            let mut end = start;
            loop {
                end = next_special(bytes, end);
                match bytes.get(end) {
                    None | Some(b'&') => break,
                    Some(b'=') if eq.is_none() => eq = Some(end),
                    Some(b'+' | b'%') => coded[usize::from(eq.is_some())] = true,
                    _ => {}
                }
                end += 1;
            }
            // Every cut is next to an ASCII byte, so on a character boundary.
            let (name, value) = match eq {
                Some(eq) => (&text[start..eq], &text[eq + 1..end]),
                None => (&text[start..end], ""),
            };
            start = end + 1;
            let name = if coded[0] {
                decode(name.as_bytes())?
            } else {
                Cow::Borrowed(name)
            };
            let value = if coded[1] {
                decode(value.as_bytes())?
            } else {
                Cow::Borrowed(value)
            };
            params.add(name, value)?;
        }
        Ok(params)
    }

    /// Input that is not UTF-8 as a whole: every piece is decoded (and fails if it is not
    /// UTF-8 once decoded).
    fn parse_bytes(input: &'a [u8]) -> Result<Self, OAuthError> {
        let mut params = Params::default();
        for piece in input.split(|b| *b == b'&') {
            let (name, value) = match piece.iter().position(|b| *b == b'=') {
                Some(i) => (&piece[..i], &piece[i + 1..]),
                None => (piece, &piece[piece.len()..]),
            };
            params.add(decode(name)?, decode(value)?)?;
        }
        Ok(params)
    }

    /// Keeps a pair: an empty name or value counts as absent, a repeated name is an error.
    fn add(&mut self, name: Cow<'a, str>, value: Cow<'a, str>) -> Result<(), OAuthError> {
        if name.is_empty() || value.is_empty() {
            return Ok(());
        }
        if self.pairs().any(|(n, _)| *n == name) {
            return Err(OAuthError::invalid_request(format!(
                "parameter '{name}' is repeated"
            )));
        }
        if self.len + self.more.len() == MAX_PARAMS {
            return Err(OAuthError::invalid_request("Too many parameters"));
        }
        if self.len < INLINE {
            self.inline[self.len] = (name, value);
            self.len += 1;
        } else {
            self.more.push((name, value));
        }
        Ok(())
    }

    fn pairs(&self) -> impl Iterator<Item = &Pair<'a>> {
        self.inline[..self.len].iter().chain(&self.more)
    }

    /// The value of `name`, if present and non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        // The inline pairs on their own first: a plain loop, cheaper than the chained iterator.
        let find = |pairs: &'_ [Pair<'a>]| -> Option<usize> {
            pairs
                .iter()
                .position(|(n, _)| n.as_bytes() == name.as_bytes())
        };
        let pair = match find(&self.inline[..self.len]) {
            Some(i) => &self.inline[i],
            None => &self.more[find(&self.more)?],
        };
        Some(&pair.1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs().map(|(n, v)| (n.as_ref(), v.as_ref()))
    }
}

/// The value of one hexadecimal digit (either case).
pub fn hex_val(b: u8) -> Option<u8> {
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
    fn text_and_byte_paths_agree() {
        // More pairs than are kept inline, coded and plain pieces, a repeat past the inline ones.
        let body: Vec<String> = (0..20).map(|i| format!("k{i}=v+{i}%21&p{i}=x")).collect();
        let body = body.join("&");
        let p = Params::parse(body.as_bytes()).unwrap();
        assert_eq!(p.iter().count(), 40);
        assert_eq!(p.get("k19"), Some("v 19!"));
        assert_eq!(p.get("p0"), Some("x"));
        let e = Params::parse(format!("{body}&p17=y").as_bytes()).unwrap_err();
        assert!(e.description.contains("'p17' is repeated"), "{e:?}");
        // Not UTF-8 as a whole: the piece that is not fails, as it did before.
        assert!(Params::parse(b"a=1&b=\xff").is_err());
        assert!(Params::parse(b"a=%41&\xff=1").is_err());
        assert!(Params::parse(b"=\xff").is_err());
    }

    #[test]
    fn one_pass_agrees_with_splitting() {
        // Random bodies over an alphabet dense in separators and escapes: the word-wise pass
        // over UTF-8 text gives what splitting and decoding every piece gives.
        let alphabet = [
            "a",
            "b",
            "=",
            "&",
            "+",
            "%",
            "%41",
            "%e9",
            "%C3%A9",
            "é",
            "0123456789",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in 0..60 {
            for _ in 0..50 {
                let mut body = String::new();
                for _ in 0..len {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    body.push_str(alphabet[(seed % alphabet.len() as u64) as usize]);
                }
                let fast = Params::parse_text(&body);
                let slow = Params::parse_bytes(body.as_bytes());
                match (fast, slow) {
                    (Ok(f), Ok(s)) => assert!(f.iter().eq(s.iter()), "{body}"),
                    (Err(f), Err(s)) => assert_eq!(f, s, "{body}"),
                    (f, s) => panic!("{body}: {f:?} vs {s:?}"),
                }
            }
        }
    }

    #[test]
    fn encodes_reserved_characters() {
        let mut s = String::new();
        encode_into(&mut s, "a b&c=d/é~");
        assert_eq!(s, "a%20b%26c%3Dd%2F%C3%A9~");
    }
}
