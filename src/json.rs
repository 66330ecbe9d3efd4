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

/// Bytes that cannot stand in a JSON string as they are: controls, `"` and `\\`.
const fn escape_table(ascii_only: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i < 0x20 || i == b'"' as usize || i == b'\\' as usize || (ascii_only && i >= 0x80);
        i += 1;
    }
    t
}

const ESCAPE_UTF8: [bool; 256] = escape_table(false);
const ESCAPE_ASCII: [bool; 256] = escape_table(true);

/// Whether any of the eight bytes in `w` is a control character, `"` or `\\` (or, with
/// `ascii_only`, not ASCII). The classic SWAR tests: a byte is below `n` when `(x - n) & !x`
/// has its top bit set, and equal to `c` when `x ^ c` is below one.
fn needs_escape(w: u64, ascii_only: bool) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let control = below(w, 0x20);
    let quote = below(w ^ (ONES * b'"' as u64), 1);
    let backslash = below(w ^ (ONES * b'\\' as u64), 1);
    let high = if ascii_only { w & HIGH } else { 0 };
    control | quote | backslash | high != 0
}

/// Writes `s` as a JSON string literal.
pub fn write_string(out: &mut String, s: &str, style: WireStyle) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let table = match style {
        WireStyle::Compact => &ESCAPE_UTF8,
        WireStyle::Python => &ESCAPE_ASCII,
    };
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    let ascii_only = style == WireStyle::Python;
    while i < bytes.len() {
        // Skip eight plain bytes at a time: most of a response needs no escaping.
        while i + 8 <= bytes.len() {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[i..i + 8]);
            if needs_escape(u64::from_le_bytes(word), ascii_only) {
                break;
            }
            i += 8;
        }
        if i >= bytes.len() {
            break;
        }
        let b = bytes[i];
        if !table[b as usize] {
            i += 1;
            continue;
        }
        out.push_str(&s[start..i]);
        if b >= 0x80 {
            // Python's ensure_ascii: the whole character as UTF-16 escapes.
            let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                out.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(HEX[((*unit >> shift) & 15) as usize] as char);
                }
            }
            i += ch.len_utf8();
        } else {
            match b {
                b'"' => out.push_str("\\\""),
                b'\\' => out.push_str("\\\\"),
                b'\n' => out.push_str("\\n"),
                b'\r' => out.push_str("\\r"),
                b'\t' => out.push_str("\\t"),
                0x08 => out.push_str("\\b"),
                0x0c => out.push_str("\\f"),
                _ => {
                    out.push_str("\\u00");
                    out.push(HEX[(b >> 4) as usize] as char);
                    out.push(HEX[(b & 15) as usize] as char);
                }
            }
            i += 1;
        }
        start = i;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Appends the decimal form of `v` (what `write!` does, without the formatting machinery).
pub fn write_int(out: &mut String, v: i64) {
    let mut buf = [0u8; 20];
    let mut n = v.unsigned_abs();
    let mut pos = buf.len();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push('-');
    }
    for &d in &buf[pos..] {
        out.push(d as char);
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
    fn word_scan_agrees_with_the_table() {
        for ascii_only in [false, true] {
            let table = if ascii_only {
                &ESCAPE_ASCII
            } else {
                &ESCAPE_UTF8
            };
            for b in 0..=255u8 {
                for pos in 0..8 {
                    let mut word = *b"abcdefgh";
                    word[pos] = b;
                    let w = u64::from_le_bytes(word);
                    assert_eq!(
                        needs_escape(w, ascii_only),
                        table[b as usize],
                        "{b:#x} at {pos}"
                    );
                }
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
