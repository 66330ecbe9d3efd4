//! `application/x-www-form-urlencoded` parsing and percent-encoding.
//!
//! Parameters follow OAuth 2.1 §3.1/§3.2 (R09): an empty value counts as absent, a parameter that
//! appears twice makes the request invalid, unknown parameters are kept but never looked at.

use std::borrow::Cow;

use crate::error::OAuthError;
use crate::scan::{byte_hits, find_any, mask_at, reserved16, specials_at};

/// More distinct parameters than any OAuth request has; beyond this the request is refused
/// rather than letting the repeat check grow quadratic.
pub const MAX_PARAMS: usize = 128;

/// Pairs kept inline before any allocation: OAuth requests carry a handful of parameters.
const INLINE: usize = 6;

type Pair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// Whether two names are the same. Names of up to sixteen bytes, as all but a few OAuth
/// parameter names are, are compared as at most two words each, without a call to `memcmp`.
#[inline(always)]
fn same_name(a: &[u8], b: &[u8]) -> bool {
    let word = |w: Option<&[u8; 8]>| w.map_or(0, |w| u64::from_le_bytes(*w));
    match a.len() {
        n if n != b.len() => false,
        0..=7 => short_word(a) == short_word(b),
        8..=16 => {
            word(a.first_chunk()) == word(b.first_chunk())
                && word(a.last_chunk()) == word(b.last_chunk())
        }
        _ => a == b,
    }
}

/// Fewer than eight bytes as the low bytes of a word, zero above, in at most three loads.
#[inline(always)]
fn short_word(s: &[u8]) -> u64 {
    let (mut w, mut k) = (0u64, 0usize);
    if let Some(four) = s.first_chunk::<4>() {
        w = u64::from(u32::from_le_bytes(*four));
        k = 4;
    }
    if let Some(two) = s.get(k..).and_then(<[u8]>::first_chunk::<2>) {
        w |= u64::from(u16::from_le_bytes(*two)) << (8 * k);
        k += 2;
    }
    if let Some(one) = s.get(k) {
        w |= u64::from(*one) << (8 * (k & 7));
    }
    w
}

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
    /// the others decoded. The text is looked at sixteen bytes at a time, as a mask of where its
    /// `&`, `=`, `+` and `%` are; only those positions are visited.
    fn parse_text(text: &'a str) -> Result<Self, OAuthError> {
        let bytes = text.as_bytes();
        let mut params = Params::default();
        // The piece being read: where it starts, its first '=', and whether its name and its
        // value hold a '+' or '%'.
        let mut start = 0;
        let mut eq = None;
        let mut coded = [false; 2];
        let mut base = 0;
        while base < bytes.len() {
            let mut mask = specials_at(bytes, base);
            while mask != 0 {
                let at = base + mask.trailing_zeros() as usize;
                mask &= mask - 1;
                match bytes[at] {
                    b'&' => {
                        params.add_piece(text, start, eq, coded, at)?;
                        start = at + 1;
                        eq = None;
                        coded = [false; 2];
                    }
                    b'=' => eq = eq.or(Some(at)),
                    _ => coded[usize::from(eq.is_some())] = true,
                }
            }
            base += 16;
        }
        params.add_piece(text, start, eq, coded, bytes.len())?;
        Ok(params)
    }

    /// Adds the piece `text[start..end]` whose first `=` is at `eq`, decoding the name and the
    /// value if `coded` says they need it.
    #[inline(always)]
    fn add_piece(
        &mut self,
        text: &'a str,
        start: usize,
        eq: Option<usize>,
        coded: [bool; 2],
        end: usize,
    ) -> Result<(), OAuthError> {
        // Every cut is next to an ASCII byte, so on a character boundary.
        let (name, value) = match eq {
            Some(eq) => (&text[start..eq], &text[eq + 1..end]),
            None => (&text[start..end], ""),
        };
        let name = if coded[0] {
            Cow::Owned(decode_coded(name.as_bytes())?)
        } else {
            Cow::Borrowed(name)
        };
        let value = if coded[1] {
            Cow::Owned(decode_coded(value.as_bytes())?)
        } else {
            Cow::Borrowed(value)
        };
        self.add(name, value)
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
    #[inline]
    fn add(&mut self, name: Cow<'a, str>, value: Cow<'a, str>) -> Result<(), OAuthError> {
        if name.is_empty() || value.is_empty() {
            return Ok(());
        }
        if self
            .pairs()
            .any(|(n, _)| same_name(n.as_bytes(), name.as_bytes()))
        {
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
                .position(|(n, _)| same_name(n.as_bytes(), name.as_bytes()))
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

/// The value of each byte as a hexadecimal digit (either case), or 0xff.
const HEX_VALUE: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => 0xff,
        };
        b += 1;
    }
    t
};

/// The value of one hexadecimal digit (either case).
pub fn hex_val(b: u8) -> Option<u8> {
    let v = HEX_VALUE[usize::from(b)];
    (v < 16).then_some(v)
}

/// The byte `%XX` at `i` stands for, if two hex digits follow the `%`.
fn escaped(raw: &[u8], i: usize) -> Option<u8> {
    let h = HEX_VALUE[usize::from(*raw.get(i + 1)?)];
    let l = HEX_VALUE[usize::from(*raw.get(i + 2)?)];
    // Either is 0xff when it is not a digit, which sets a bit above the low four.
    (h | l < 16).then_some(h << 4 | l)
}

/// The byte that the `+` or `%` at `i` decodes to, and how many bytes of `raw` that takes.
fn decoded_at(raw: &[u8], i: usize) -> (u8, usize) {
    match raw[i] {
        b'+' => (b' ', 1),
        _ => escaped(raw, i).map_or((b'%', 1), |b| (b, 3)),
    }
}

fn not_utf8() -> OAuthError {
    OAuthError::invalid_request("parameters must be UTF-8")
}

/// Decodes `+` and `%XX`; a `%` not followed by two hex digits stays literal (as browsers do).
pub fn decode(raw: &[u8]) -> Result<Cow<'_, str>, OAuthError> {
    if find_any(raw, 0, [b'+', b'%']) == raw.len() {
        return crate::http::utf8(raw)
            .map(Cow::Borrowed)
            .ok_or_else(not_utf8);
    }
    decode_coded(raw).map(Cow::Owned)
}

/// Inputs up to this long are decoded in a buffer on the stack.
const STACK_DECODE: usize = 128;

/// [`decode`] of bytes that hold a `+` or `%`, checked for UTF-8 once decoded. Eight bytes at a
/// time are stored (the buffer has room for a last store past the end), and the output keeps as
/// many of them as come before the next `+` or `%`: no call per run, and one copy at the end
/// into a string of the right size.
fn decode_coded(raw: &[u8]) -> Result<String, OAuthError> {
    if raw.len() > STACK_DECODE {
        return decode_long(raw);
    }
    let mut buf = [0u8; STACK_DECODE + 8];
    let (mut r, mut w) = (0, 0);
    while r < raw.len() {
        let word = match raw.get(r..).and_then(<[u8]>::first_chunk::<8>) {
            Some(word) => u64::from_le_bytes(*word),
            None => tail_word(raw, r),
        };
        buf[w..w + 8].copy_from_slice(&word.to_le_bytes());
        let hits = byte_hits(word, [b'+', b'%']);
        if hits == 0 {
            let n = (raw.len() - r).min(8);
            r += n;
            w += n;
            continue;
        }
        let n = (hits.trailing_zeros() / 8) as usize;
        let (byte, len) = decoded_at(raw, r + n);
        buf[w + n] = byte;
        r += n + len;
        w += n + 1;
    }
    crate::http::utf8(&buf[..w])
        .map(String::from)
        .ok_or_else(not_utf8)
}

/// The bytes of `raw` from `r` on, fewer than eight, as the low bytes of a word (zero above,
/// which is neither `+` nor `%`).
fn tail_word(raw: &[u8], r: usize) -> u64 {
    let left = raw.len() - r;
    match raw.last_chunk::<8>() {
        Some(last) => u64::from_le_bytes(*last) >> (8 * (8 - left)),
        None => raw[r..]
            .iter()
            .rev()
            .fold(0, |word, b| word << 8 | u64::from(*b)),
    }
}

/// [`decode_coded`] of input too long for the stack.
fn decode_long(raw: &[u8]) -> Result<String, OAuthError> {
    String::from_utf8(unescape(raw).into_owned()).map_err(|_| not_utf8())
}

/// The bytes `raw` stands for: `+` is a space, `%XX` (two hex digits) that byte, anything else
/// itself (a `%` without two digits stays literal). Borrowed when nothing needs decoding; the
/// runs between encodings are copied whole. The UTF-8 check is the caller's: the engine refuses
/// what is not, python-oauth2's reading replaces it.
pub fn unescape(raw: &[u8]) -> Cow<'_, [u8]> {
    let mut i = find_any(raw, 0, [b'+', b'%']);
    if i == raw.len() {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut run = 0;
    while i < raw.len() {
        out.extend_from_slice(&raw[run..i]);
        let (byte, len) = decoded_at(raw, i);
        out.push(byte);
        run = i + len;
        i = find_any(raw, run, [b'+', b'%']);
    }
    out.extend_from_slice(&raw[run..]);
    Cow::Owned(out)
}

/// Appends `value` percent-encoded for a query or fragment component: RFC 3986 unreserved
/// characters pass, everything else (space included) becomes `%XX`. The bytes to encode are
/// found sixteen at a time, and the runs between them copied whole.
pub fn encode_into(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = value.as_bytes();
    let mut run = 0;
    let mut base = 0;
    while base < bytes.len() {
        let mut mask = mask_at(bytes, base, reserved16);
        while mask != 0 {
            let at = base + mask.trailing_zeros() as usize;
            mask &= mask - 1;
            // A run that is not empty starts and ends next to ASCII bytes: on character
            // boundaries.
            if run < at {
                out.push_str(&value[run..at]);
            }
            let b = bytes[at];
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
            run = at + 1;
        }
        base += 16;
    }
    // Past the last encoded byte, which ended its character: a boundary.
    out.push_str(&value[run..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::tests::random_texts;
    use crate::scan::UNRESERVED;

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
        random_texts(|body| {
            let fast = Params::parse_text(body);
            let slow = Params::parse_bytes(body.as_bytes());
            match (fast, slow) {
                (Ok(f), Ok(s)) => assert!(f.iter().eq(s.iter()), "{body}"),
                (Err(f), Err(s)) => assert_eq!(f, s, "{body}"),
                (f, s) => panic!("{body}: {f:?} vs {s:?}"),
            }
        });
    }

    #[test]
    fn encodes_reserved_characters() {
        let mut s = String::new();
        encode_into(&mut s, "a b&c=d/é~");
        assert_eq!(s, "a%20b%26c%3Dd%2F%C3%A9~");
    }

    /// The byte-at-a-time decoder the run-copying one replaced.
    fn reference_decode(raw: &[u8]) -> Result<String, ()> {
        let mut out = Vec::new();
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
        String::from_utf8(out).map_err(|_| ())
    }

    #[test]
    fn decoding_agrees_with_the_byte_at_a_time_decoder() {
        random_texts(|text| {
            let got = decode(text.as_bytes()).map(Cow::into_owned).map_err(|_| ());
            assert_eq!(got, reference_decode(text.as_bytes()), "{text:?}");
            // Past the length decoded on the stack.
            let long = text.repeat(STACK_DECODE / text.len().max(1) + 1);
            let got = decode(long.as_bytes()).map(Cow::into_owned).map_err(|_| ());
            assert_eq!(got, reference_decode(long.as_bytes()), "{long:?}");
            // The same with a byte that is not UTF-8 in front: never decodes.
            let mut raw = vec![0xff];
            raw.extend_from_slice(text.as_bytes());
            assert!(decode(&raw).is_err());
            // And with one that an encoding completes ("%C3" + "\xa9" is "é").
            let mut raw = text.as_bytes().to_vec();
            raw.extend_from_slice(b"%C3\xa9");
            let got = decode(&raw).map(Cow::into_owned).map_err(|_| ());
            assert_eq!(got, reference_decode(&raw), "{text:?}");
        });
    }

    #[test]
    fn names_differing_in_any_byte_are_told_apart() {
        for len in 1..=40 {
            let base: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            for at in 0..len {
                let mut other = base.clone().into_bytes();
                other[at] = b'_';
                let other = String::from_utf8(other).unwrap();
                let body = format!("{base}=1&{other}=2");
                let p = Params::parse(body.as_bytes()).unwrap();
                assert_eq!(p.get(&base), Some("1"), "{body}");
                assert_eq!(p.get(&other), Some("2"), "{body}");
                assert_eq!(p.get(&base[..len - 1]), None, "{body}");
                assert!(Params::parse(format!("{body}&{other}=3").as_bytes()).is_err());
            }
        }
        // A name with a zero byte is not the shorter name without it.
        let p = Params::parse(b"ab%00=1").unwrap();
        assert_eq!(p.get("ab\0"), Some("1"));
        assert_eq!(p.get("ab"), None);
        assert!(Params::parse(b"ab=1&ab%00=2").is_ok());
    }

    #[test]
    fn hex_digits_of_either_case() {
        for (b, v) in (0..=255u8).map(|b| (b, hex_val(b))) {
            assert_eq!(v, (b as char).to_digit(16).map(|d| d as u8), "{b:#x}");
        }
    }

    #[test]
    fn encoding_round_trips() {
        random_texts(|text| {
            let mut s = String::from("x");
            encode_into(&mut s, text);
            // The byte-at-a-time definition.
            let mut want = String::from("x");
            for b in text.bytes() {
                if UNRESERVED[usize::from(b)] {
                    want.push(char::from(b));
                } else {
                    want.push_str(&format!("%{b:02X}"));
                }
            }
            assert_eq!(s, want);
            assert!(s[1..]
                .bytes()
                .all(|b| UNRESERVED[usize::from(b)] || b == b'%'));
            assert_eq!(decode(&s.as_bytes()[1..]).unwrap(), text);
        });
    }
}
