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

    /// The separator, the key and the colon. Keys are the engine's own names (hence
    /// `'static`), which never need escaping (checked in debug builds), so they are copied as
    /// they are: for a key of up to sixteen bytes, with one store.
    fn key(&mut self, key: &'static str) {
        debug_assert!(
            plain_prefix(key.as_bytes()) == key.len() && key.is_ascii(),
            "JSON key {key:?} needs escaping"
        );
        let (sep, colon) = match self.style {
            WireStyle::Compact => (",", ":"),
            WireStyle::Python => (", ", ": "),
        };
        let sep = if self.empty { "" } else { sep };
        self.empty = false;
        if key.len() <= 16 {
            push_block(&mut self.buf, sep, load16(key.as_bytes()), key.len(), colon);
        } else {
            self.buf.push_str(sep);
            self.buf.push('"');
            self.buf.push_str(key);
            self.buf.push('"');
            self.buf.push_str(colon);
        }
    }

    pub fn str(&mut self, key: &'static str, value: &str) -> &mut Self {
        self.key(key);
        write_string(&mut self.buf, value, self.style);
        self
    }

    pub fn int(&mut self, key: &'static str, value: i64) -> &mut Self {
        self.key(key);
        write_int(&mut self.buf, value);
        self
    }

    pub fn bool(&mut self, key: &'static str, value: bool) -> &mut Self {
        self.key(key);
        self.buf.push_str(if value { "true" } else { "false" });
        self
    }

    /// `value` is already valid JSON (an array or object built elsewhere).
    pub fn raw(&mut self, key: &'static str, value: &str) -> &mut Self {
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
/// and sixteen for the block it writes ahead.
pub(crate) const fn escape_room(len: usize) -> usize {
    6 * len + 16
}

/// Writes `s` escaped for the inside of a JSON string (compact rules: `"`, `\` and control
/// characters; everything else, UTF-8 included, as it is) at `dst[j..]` and returns the end.
/// `dst` must have [`escape_room`]`(s.len())` bytes from `j`; what lies past the returned end is
/// scratch.
///
/// Sixteen bytes at a time: each block is stored whole, one test finds every byte in it that
/// needs an escape, and for each the escape is written and the rest of the block stored again
/// after it. A plain run costs a load, a test and a store per block, not a branch per byte.
pub(crate) fn escape_to(dst: &mut [u8], mut j: usize, s: &[u8]) -> usize {
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        let len = rest.len().min(16);
        let (lo, hi) = load16(rest);
        dst[j..j + 8].copy_from_slice(&lo.to_le_bytes());
        dst[j + 8..j + 16].copy_from_slice(&hi.to_le_bytes());
        let mut bits = escapes16(lo, hi);
        if bits == 0 {
            j += len;
            i += len;
            continue;
        }
        // The block, then spaces, so that "the rest of the block" is always sixteen bytes.
        let mut block = [b' '; 32];
        block[..8].copy_from_slice(&lo.to_le_bytes());
        block[8..16].copy_from_slice(&hi.to_le_bytes());
        // Bytes of this block already in their final place.
        let mut done = 0;
        while bits != 0 {
            let p = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            j = escape_byte(dst, j + p - done, block[p]);
            done = p + 1;
            dst[j..j + 16].copy_from_slice(&block[done..done + 16]);
        }
        j += len - done;
        i += len;
    }
    j
}

/// [`escape_to`] for the usual short header name or value: at most sixteen bytes with nothing
/// to escape take one test and one store here, without the call.
#[cfg(feature = "capi")]
#[inline(always)]
pub(crate) fn escape_short_to(dst: &mut [u8], j: usize, s: &[u8]) -> usize {
    if s.len() <= 16 {
        let (lo, hi) = load16(s);
        if escapes16(lo, hi) == 0 {
            dst[j..j + 8].copy_from_slice(&lo.to_le_bytes());
            dst[j + 8..j + 16].copy_from_slice(&hi.to_le_bytes());
            return j + s.len();
        }
    }
    escape_to(dst, j, s)
}

/// The index of the first byte of `s` that needs escaping under compact rules, or `s.len()`.
pub(crate) fn plain_prefix(s: &[u8]) -> usize {
    let mut i = 0;
    while i < s.len() {
        let (lo, hi) = load16(&s[i..]);
        let bits = escapes16(lo, hi);
        if bits != 0 {
            return i + bits.trailing_zeros() as usize;
        }
        i += 16;
    }
    s.len()
}

const SPACES: u64 = ONES * b' ' as u64;

/// The first sixteen bytes of `s` as two little-endian words; a shorter `s` is padded with
/// spaces, which need no escape, so a test never points past its end. Reads are fixed-size
/// loads, never a variable-length copy.
#[inline(always)]
fn load16(s: &[u8]) -> (u64, u64) {
    let word = |b: &[u8]| b.first_chunk::<8>().map_or(0, |w| u64::from_le_bytes(*w));
    match s.len() {
        16.. => (word(s), word(&s[8..])),
        9..=15 => {
            // The last eight bytes, shifted down over the ones the first word has.
            let shift = 8 * (16 - s.len());
            (
                word(s),
                word(&s[s.len() - 8..]) >> shift | SPACES << (64 - shift),
            )
        }
        8 => (word(s), SPACES),
        _ => (load_short(s), SPACES),
    }
}

/// Fewer than eight bytes, padded with spaces, in at most three fixed-size loads.
#[inline(always)]
fn load_short(s: &[u8]) -> u64 {
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
    // k < 8 for a short piece; a full word is never passed here.
    w | SPACES << (8 * (k & 7))
}

/// Bit `k` set when byte `k` of the sixteen (`lo` first, little-endian) needs escaping: a
/// control character, `"` or `\`.
#[inline(always)]
fn escapes16(lo: u64, hi: u64) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2 is part of the x86_64 baseline, so the target feature is always present.
        unsafe { sse2::escapes16(lo, hi) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        escapes16_portable(lo, hi)
    }
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::*;

    /// Three byte-wise comparisons and a movemask: exact, sixteen bytes in a few instructions.
    #[inline]
    #[target_feature(enable = "sse2")]
    pub(super) fn escapes16(lo: u64, hi: u64) -> u32 {
        let v = _mm_set_epi64x(hi as i64, lo as i64);
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // Unsigned v <= 0x1f: the minimum of v and 0x1f is v.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
    }
}

/// [`escapes16`] without SIMD: an exact SWAR test per word (no sum carries from one byte into
/// the next: each adds a constant below 0x80 to the low seven bits), then the top bits of the
/// bytes gathered into one per byte.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn escapes16_portable(lo: u64, hi: u64) -> u32 {
    const LOW7: u64 = !HIGH;
    fn bits(w: u64) -> u32 {
        let q = w ^ (ONES * b'"' as u64);
        let b = w ^ (ONES * b'\\' as u64);
        // A byte's top bit is set in `keep` when it is 0x20 or above, not '"' and not '\\'.
        let keep = (((w & LOW7) + ONES * 0x60) | w)
            & (((q & LOW7) + LOW7) | q)
            & (((b & LOW7) + LOW7) | b);
        let top = !keep & HIGH;
        // Bit 7 of byte k moves to bit 56 + k, then down to bit k.
        ((top >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32
    }
    bits(lo) | bits(hi) << 8
}

/// Writes `s` as a JSON string literal.
pub fn write_string(out: &mut String, s: &str, style: WireStyle) {
    if push_short(out, s, style) {
        return;
    }
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

/// Appends `s` as a JSON string with one fixed-size store, when it has at most sixteen bytes and
/// nothing to escape (nor, in the Python style, anything beyond ASCII): the shape of many
/// values. Returns false, having written nothing, for any other `s`.
fn push_short(out: &mut String, s: &str, style: WireStyle) -> bool {
    let bytes = s.as_bytes();
    if bytes.len() > 16 {
        return false;
    }
    let (lo, hi) = load16(bytes);
    if escapes16(lo, hi) != 0 || (style == WireStyle::Python && (lo | hi) & HIGH != 0) {
        return false;
    }
    push_block(out, "", (lo, hi), bytes.len(), "");
    true
}

/// Appends `pre`, a string `s` in quotes and `post` with one fixed-size store: `s` is given as
/// the `len` (at most sixteen) bytes of a whole `str` loaded by [`load16`], with nothing to
/// escape; `pre` and `post` are ASCII of at most two bytes.
#[inline(always)]
fn push_block(out: &mut String, pre: &str, (lo, hi): (u64, u64), len: usize, post: &str) {
    debug_assert!(len <= 16 && pre.len() <= 2 && post.len() <= 2);
    let mut block = [b' '; 24];
    let mut k = 0;
    for &c in pre.as_bytes() {
        block[k] = c;
        k += 1;
    }
    block[k] = b'"';
    block[k + 1..k + 9].copy_from_slice(&lo.to_le_bytes());
    block[k + 9..k + 17].copy_from_slice(&hi.to_le_bytes());
    k += 1 + len;
    block[k] = b'"';
    k += 1;
    for &c in post.as_bytes() {
        block[k] = c;
        k += 1;
    }
    // SAFETY: the block is `pre`, a quote, all of `s` (the bytes of a whole `str`), a quote,
    // `post` and then spaces: ASCII around a whole string, so valid UTF-8 as a whole and up to
    // `k`. The string holds the block and then is cut right after `post`; it is valid text at
    // every step.
    let v = unsafe { out.as_mut_vec() };
    let old = v.len();
    v.extend_from_slice(&block);
    v.truncate(old + k);
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
    fn escapes16_is_exact_per_byte() {
        let flagged = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
        for (p, q) in [(0, 1), (0, 15), (7, 8), (3, 12), (14, 15)] {
            for b1 in 0..=255u8 {
                for b2 in 0..=255u8 {
                    let mut block = *b"a\"cdefgh\\jklmnop";
                    block[p] = b1;
                    block[q] = b2;
                    let mut expected = 0u32;
                    for (k, b) in block.iter().enumerate() {
                        if flagged(*b) {
                            expected |= 1 << k;
                        }
                    }
                    let lo = u64::from_le_bytes(block[..8].try_into().unwrap());
                    let hi = u64::from_le_bytes(block[8..].try_into().unwrap());
                    assert_eq!(
                        escapes16(lo, hi),
                        expected,
                        "{b1:#x} at {p}, {b2:#x} at {q}"
                    );
                    assert_eq!(escapes16_portable(lo, hi), expected);
                }
            }
        }
    }

    #[test]
    fn load16_pads_with_spaces() {
        let text = b"0123456789abcdefXYZ";
        for len in 0..=text.len() {
            let (lo, hi) = load16(&text[..len]);
            let mut expected = [b' '; 16];
            let n = len.min(16);
            expected[..n].copy_from_slice(&text[..n]);
            let mut got = [0u8; 16];
            got[..8].copy_from_slice(&lo.to_le_bytes());
            got[8..].copy_from_slice(&hi.to_le_bytes());
            assert_eq!(got, expected, "{len}");
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
