//! A small writer for the flat JSON objects the engine answers with.
//!
//! Responses are built key by key so their order is fixed (clients and the predecessor's tests
//! compare bodies), and so that the `python` wire style can reproduce `json.dumps` byte for byte
//! (`", "`/`": "` separators, non-ASCII as `\uXXXX`) for hosts migrating from python-oauth2.

use std::fmt::Write;

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
        let _ = write!(self.buf, "{value}");
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

/// Writes `s` as a JSON string literal.
pub fn write_string(out: &mut String, s: &str, style: WireStyle) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut start = 0;
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let needs =
            b < 0x20 || b == b'"' || b == b'\\' || (b >= 0x80 && style == WireStyle::Python);
        if !needs {
            continue;
        }
        if b >= 0x80 {
            // Only the first byte of a multi-byte character starts an escape; continuation bytes
            // were handled with it.
            if b & 0xC0 == 0x80 {
                continue;
            }
            out.push_str(&s[start..i]);
            let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                out.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(HEX[((*unit >> shift) & 15) as usize] as char);
                }
            }
            start = i + ch.len_utf8();
            continue;
        }
        out.push_str(&s[start..i]);
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
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
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
