//! A small writer for the flat JSON objects the engine answers with.
//!
//! Responses are built key by key so their order is fixed (clients and the predecessor's tests
//! compare bodies), and so that the `python` wire style can reproduce `json.dumps` byte for byte
//! (`", "`/`": "` separators, non-ASCII as `\uXXXX`) for hosts migrating from python-oauth2.

use serde::Deserialize;

/// How JSON bodies are spelled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireStyle {
    /// Compact, UTF-8: `{"a":"b","c":1}`.
    #[default]
    Compact,
    /// As Python's `json.dumps`: `{"a": "b", "c": 1}`, ASCII only.
    Python,
}

pub struct JsonObject {
    buf: String,
    style: WireStyle,
    empty: bool,
}

impl JsonObject {
    pub fn new(style: WireStyle) -> Self {
        let mut buf = String::with_capacity(192);
        buf.push('{');
        JsonObject {
            buf,
            style,
            empty: true,
        }
    }

    fn key(&mut self, key: &str) {
        if !self.empty {
            self.buf.push_str(match self.style {
                WireStyle::Compact => ",",
                WireStyle::Python => ", ",
            });
        }
        self.empty = false;
        write_string(&mut self.buf, key, self.style);
        self.buf.push_str(match self.style {
            WireStyle::Compact => ":",
            WireStyle::Python => ": ",
        });
    }

    pub fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        write_string(&mut self.buf, value, self.style);
        self
    }

    pub fn int(&mut self, key: &str, value: i64) -> &mut Self {
        self.key(key);
        write_int(&mut self.buf, value);
        self
    }

    pub fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.key(key);
        self.buf.push_str(if value { "true" } else { "false" });
        self
    }

    /// `value` is already valid JSON (an array or object built elsewhere).
    pub fn raw(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        self.buf.push_str(value);
        self
    }

    pub fn finish(mut self) -> String {
        self.buf.push('}');
        self.buf
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// A word whose top bit is set in the first byte of `w` (in memory order) that cannot stand in a
/// JSON string as it is (a control character, `"` or `\`), and zero when there is none: the
/// classic SWAR tests (`x` has a byte below `n` when `(x - n) & !x` has a top bit set, and a
/// byte equal to `c` when `x ^ c` has one below 1). A borrow only runs upward from a byte that
/// matched, so bits above the first may be wrong, and callers only ever look at the lowest.
#[inline]
fn escape_mask(w: u64) -> u64 {
    let q = w ^ (ONES * b'"' as u64);
    let b = w ^ (ONES * b'\\' as u64);
    ((w.wrapping_sub(ONES * 0x20) & !w) | (q.wrapping_sub(ONES) & !q) | (b.wrapping_sub(ONES) & !b))
        & HIGH
}

/// The letter of a two-byte escape (`\n`), or 0 where only `\u00XX` will do.
const SHORT_ESCAPE: [u8; 0x80] = {
    let mut t = [0u8; 0x80];
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[0x08] = b'b';
    t[0x0c] = b'f';
    t
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes the escape of the ASCII byte `b` (a control character, `"` or `\`) at `dst[j..]`;
/// returns the end.
#[inline(always)]
fn escape_byte(dst: &mut [u8], j: usize, b: u8) -> usize {
    let short = SHORT_ESCAPE[(b & 0x7f) as usize];
    if short != 0 {
        dst[j] = b'\\';
        dst[j + 1] = short;
        j + 2
    } else {
        dst[j..j + 4].copy_from_slice(b"\\u00");
        dst[j + 4] = HEX[(b >> 4) as usize];
        dst[j + 5] = HEX[(b & 15) as usize];
        j + 6
    }
}

/// Room [`escape_to`] needs for `len` input bytes: six output bytes per input byte at worst,
/// and eight for the word it writes ahead.
pub(crate) const fn escape_room(len: usize) -> usize {
    6 * len + 8
}

/// Writes `s` escaped for the inside of a JSON string (compact rules: `"`, `\` and control
/// characters; everything else, UTF-8 included, as it is) at `dst[j..]` and returns the end.
/// `dst` must have [`escape_room`]`(s.len())` bytes from `j`; what lies past the returned end is
/// scratch.
///
/// Eight bytes at a time: each word is stored whole, then the output advances past its plain
/// prefix; at a byte that needs it the escape is written and the next word starts right after.
/// A plain run costs a load, a test and a store per word rather than a branch per byte.
pub(crate) fn escape_to(dst: &mut [u8], mut j: usize, s: &[u8]) -> usize {
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        let w = load(rest);
        dst[j..j + 8].copy_from_slice(&w.to_le_bytes());
        let m = escape_mask(w);
        if m == 0 {
            let k = rest.len().min(8);
            i += k;
            j += k;
            continue;
        }
        let p = (m.trailing_zeros() / 8) as usize;
        j = escape_byte(dst, j + p, rest[p]);
        i += p + 1;
    }
    j
}

/// The first eight bytes of `s` as a little-endian word; a shorter `s` is padded with spaces
/// (which need no escape, so a test never points past the end), read in at most three
/// fixed-size loads rather than a variable-length copy.
#[inline(always)]
fn load(s: &[u8]) -> u64 {
    if let Some(word) = s.first_chunk::<8>() {
        return u64::from_le_bytes(*word);
    }
    let (mut w, mut k) = (0u64, 0usize);
    if s.len() & 4 != 0 {
        w = u64::from(u32::from_le_bytes([s[0], s[1], s[2], s[3]]));
        k = 4;
    }
    if s.len() & 2 != 0 {
        w |= u64::from(u16::from_le_bytes([s[k], s[k + 1]])) << (8 * k);
        k += 2;
    }
    if s.len() & 1 != 0 {
        w |= u64::from(s[k]) << (8 * k);
        k += 1;
    }
    // k < 8: eight bytes took the first branch.
    w | (ONES * u64::from(b' ')) << (8 * k)
}

/// The index of the first byte of `s` that needs escaping under compact rules, or `s.len()`.
pub(crate) fn plain_prefix(s: &[u8]) -> usize {
    let mut i = 0;
    while i < s.len() {
        let m = escape_mask(load(&s[i..]));
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    s.len()
}

/// Writes `s` as a JSON string literal.
pub fn write_string(out: &mut String, s: &str, style: WireStyle) {
    let plain = plain_prefix(s.as_bytes());
    out.reserve(s.len() + 2);
    out.push('"');
    if plain == s.len() && (style == WireStyle::Compact || s.is_ascii()) {
        // Nothing to escape: what nearly every key and value is.
        out.push_str(s);
    } else if style == WireStyle::Python && !s.is_ascii() {
        write_python_escaped(out, s);
    } else {
        // For ASCII text both styles escape the same bytes.
        out.push_str(&s[..plain]);
        escape_rest(out, &s[plain..]);
    }
    out.push('"');
}

/// Appends `s`, which starts with a byte to escape, escaped under compact rules.
fn escape_rest(out: &mut String, s: &str) {
    /// Cuts the buffer back to valid text if the escape panics half way (it writes ahead).
    struct Restore<'a>(&'a mut Vec<u8>, usize);
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            self.0.truncate(self.1);
        }
    }
    // SAFETY: `escape_to` fills `start..end` with `s` escaped, which is valid UTF-8 (escapes are
    // ASCII, and the bytes of `s` are copied whole around them); `Restore` then cuts the vector
    // to `end`, or back to `start` if the escape panicked, so the string never holds anything
    // else once this function is left.
    let v = unsafe { out.as_mut_vec() };
    let start = v.len();
    v.resize(start + escape_room(s.len()), 0);
    let mut guard = Restore(v, start);
    let end = escape_to(guard.0, start, s.as_bytes());
    guard.1 = end;
}

/// Python's `json.dumps` with `ensure_ascii`: besides the compact escapes, every non-ASCII
/// character as one or two `\uXXXX` (UTF-16) escapes.
fn write_python_escaped(out: &mut String, s: &str) {
    let mut start = 0;
    for (i, ch) in s.char_indices() {
        let c = ch as u32;
        if (0x20..0x80).contains(&c) && ch != '"' && ch != '\\' {
            continue;
        }
        out.push_str(&s[start..i]);
        start = i + ch.len_utf8();
        if c < 0x80 {
            let mut esc = [0u8; 6];
            let n = escape_byte(&mut esc, 0, c as u8);
            out.push_str(std::str::from_utf8(&esc[..n]).unwrap_or_default());
            continue;
        }
        let mut units = [0u16; 2];
        for unit in ch.encode_utf16(&mut units) {
            out.push_str("\\u");
            for shift in [12, 8, 4, 0] {
                out.push(HEX[((*unit >> shift) & 15) as usize] as char);
            }
        }
    }
    out.push_str(&s[start..]);
}

/// Appends the decimal form of `v` (what `write!` does, without the formatting machinery).
pub fn write_int(out: &mut String, v: i64) {
    let mut buf = [0u8; 20];
    let pos = format_int(&mut buf, v.unsigned_abs());
    if v < 0 {
        out.push('-');
    }
    for &d in &buf[pos..] {
        out.push(char::from(d));
    }
}

/// Writes the digits of `n` at the end of `buf`; returns where they start.
pub(crate) fn format_int(buf: &mut [u8; 20], mut n: u64) -> usize {
    let mut pos = buf.len();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return pos;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_python_styles() {
        let mut o = JsonObject::new(WireStyle::Compact);
        o.str("a", "x\"y").int("n", -3);
        assert_eq!(o.finish(), r#"{"a":"x\"y","n":-3}"#);
        let mut o = JsonObject::new(WireStyle::Python);
        o.str("a", "é😀\n").bool("b", true);
        assert_eq!(o.finish(), r#"{"a": "\u00e9\ud83d\ude00\n", "b": true}"#);
        let mut s = String::new();
        for v in [0, 7, -12, i64::MAX, i64::MIN] {
            s.clear();
            write_int(&mut s, v);
            assert_eq!(s, v.to_string());
        }
    }

    #[test]
    fn escape_mask_finds_the_first_byte_to_escape() {
        let flagged = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
        for (p, q) in [(0, 1), (0, 7), (3, 4), (6, 7), (1, 1)] {
            for b1 in 0..=255u8 {
                for b2 in 0..=255u8 {
                    let mut word = *b"abcdefgh";
                    word[p] = b1;
                    word[q] = b2;
                    let first = word.iter().position(|b| flagged(*b));
                    let m = escape_mask(u64::from_le_bytes(word));
                    let got = (m != 0).then(|| (m.trailing_zeros() / 8) as usize);
                    assert_eq!(got, first, "{b1:#x} at {p}, {b2:#x} at {q}");
                    assert_eq!(m & !HIGH, 0);
                }
            }
        }
    }

    /// Strings of every length up to 40 from an alphabet rich in what needs escaping.
    fn samples() -> Vec<String> {
        let alphabet = [
            "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{8}", "\u{c}", "\u{0}",
            "\u{1f}", "\u{7f}", "é", "€", "😀",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut out = Vec::new();
        for len in 0..=40 {
            for _ in 0..40 {
                let mut s = String::new();
                for _ in 0..len {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    // Mostly plain letters, as real text is.
                    let k = (seed % 64) as usize;
                    s.push_str(if k < alphabet.len() { alphabet[k] } else { "x" });
                }
                out.push(s);
            }
        }
        out
    }

    #[test]
    fn compact_escaping_matches_serde_json() {
        for s in samples() {
            let mut out = String::from("prefix");
            write_string(&mut out, &s, WireStyle::Compact);
            assert_eq!(
                out,
                format!("prefix{}", serde_json::to_string(&s).unwrap()),
                "{s:?}"
            );
            let mut dst = vec![0u8; escape_room(s.len())];
            let end = escape_to(&mut dst, 0, s.as_bytes());
            let quoted = serde_json::to_string(&s).unwrap();
            assert_eq!(&dst[..end], &quoted.as_bytes()[1..quoted.len() - 1]);
        }
    }

    #[test]
    fn python_escaping_is_ascii_and_round_trips() {
        for s in samples() {
            let mut out = String::new();
            write_string(&mut out, &s, WireStyle::Python);
            assert!(out.is_ascii(), "{out}");
            let back: String = serde_json::from_str(&out).unwrap();
            assert_eq!(back, s);
            if s.is_ascii() {
                assert_eq!(out, serde_json::to_string(&s).unwrap());
            }
        }
    }

    #[test]
    fn output_parses_back() {
        let nasty = "\u{1}\u{1f}\"\\/é\t";
        for style in [WireStyle::Compact, WireStyle::Python] {
            let mut o = JsonObject::new(style);
            o.str("k", nasty);
            let v: serde_json::Value = serde_json::from_str(&o.finish()).unwrap();
            assert_eq!(v["k"], nasty);
        }
    }
}
