//! The request and response JSON of `o2e_engine_handle`.
//!
//! Request: `{"method", "path", "query"?, "headers"?, "body"?}`; headers either as an array of
//! `[name, value]` pairs (order and repeats kept) or as an object. Response:
//! `{"status", "headers": [[name, value], ...], "body"}`.

use std::borrow::Cow;
use std::cell::RefCell;
use std::ffi::c_void;
use std::fmt;

use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::{json_failure, new_buf, o2e_buf, o2e_status, require_object, CallCtx, Failure};
use crate::engine::Engine;
use crate::http::{Ctx, Request, Response};
use crate::json::{
    escape_room, escape_short_to, escape_to, format_int, plain_prefix, write_string, WireStyle,
};

/// Header pairs borrowed from the request JSON where no unescaping was needed.
#[derive(Default)]
pub(crate) struct Headers<'a>(pub Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Headers<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Headers<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of [name, value] string pairs, or an object of strings")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(Headers::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(4).min(64));
                while let Some(pair) = seq.next_element::<Pair<'a>>()? {
                    v.push((pair.0, pair.1));
                }
                Ok(Headers(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::with_capacity(map.size_hint().unwrap_or(4).min(64));
                while let Some((k, val)) = map.next_entry::<BStr<'a>, BStr<'a>>()? {
                    v.push((k.0, val.0));
                }
                Ok(Headers(v))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A string that borrows from the input when it can.
struct BStr<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for BStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = BStr<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<BStr<'a>, E> {
                Ok(BStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<BStr<'a>, E> {
                Ok(BStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<BStr<'a>, E> {
                Ok(BStr(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// One `[name, value]` header pair.
struct Pair<'a>(Cow<'a, str>, Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Pair<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Pair<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a [name, value] pair of strings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Pair<'a>, A::Error> {
                use serde::de::Error;
                let name: BStr<'a> = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(0, &self))?;
                let value: BStr<'a> = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(1, &self))?;
                if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(A::Error::invalid_length(3, &self));
                }
                Ok(Pair(name.0, value.0))
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }
}

/// The request JSON.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireRequest<'a> {
    #[serde(borrow)]
    method: BStr<'a>,
    #[serde(borrow)]
    path: BStr<'a>,
    #[serde(borrow, default)]
    query: Option<BStr<'a>>,
    #[serde(borrow, default)]
    headers: Headers<'a>,
    #[serde(borrow, default)]
    body: Option<BStr<'a>>,
}

/// Up to this many request headers are read without allocating; a request with more takes the
/// serde path.
const FAST_HEADERS: usize = 32;

/// Parses the request, runs it through the engine and returns the response JSON in a new
/// buffer for the host.
pub(crate) fn handle(
    engine: &Engine,
    json: &str,
    call_ctx: *mut c_void,
) -> Result<*mut o2e_buf, Failure> {
    let mut headers = [("", ""); FAST_HEADERS];
    if let Some(r) = parse_fast(json, &mut headers) {
        let headers = &headers[..r.headers];
        return Ok(answer(engine, &r.with_headers(headers), call_ctx));
    }
    let req: WireRequest<'_> = serde_json::from_str(json)
        .map_err(|e| json_failure(&e, "request_json", o2e_status::O2E_INVALID_REQUEST))?;
    require_object(json, "request_json", o2e_status::O2E_INVALID_REQUEST)?;
    let headers: Vec<(&str, &str)> = req
        .headers
        .0
        .iter()
        .map(|(n, v)| (n.as_ref(), v.as_ref()))
        .collect();
    let parts = Parts {
        method: &req.method.0,
        path: &req.path.0,
        query: req.query.as_ref().map_or("", |q| &q.0),
        headers: &headers,
        body: req.body.as_ref().map_or("", |b| &b.0),
    };
    Ok(answer(engine, &parts, call_ctx))
}

/// A request as read from its JSON, before it becomes a [`Request`].
#[derive(Debug, PartialEq)]
struct Parts<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: &'a [(&'a str, &'a str)],
    body: &'a str,
}

fn answer(engine: &Engine, p: &Parts<'_>, call_ctx: *mut c_void) -> *mut o2e_buf {
    let ctx = CallCtx(call_ctx);
    let request = Request {
        method: p.method,
        path: p.path,
        query: p.query,
        headers: p.headers,
        body: p.body.as_bytes(),
        context: Ctx(Some(&ctx)),
    };
    // The token generator and the error hook are called without a Ctx; they find the call's
    // context here.
    let _scope = super::callbacks::CtxScope::enter(call_ctx);
    let response = engine.handle(&request);
    response_buf(&response)
}

/// What [`parse_fast`] read; `headers` is how many pairs it put into the caller's array.
struct FastRequest<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    body: &'a str,
    headers: usize,
}

impl<'a> FastRequest<'a> {
    fn with_headers(&self, headers: &'a [(&'a str, &'a str)]) -> Parts<'a> {
        Parts {
            method: self.method,
            path: self.path,
            query: self.query,
            headers,
            body: self.body,
        }
    }
}

/// Reads the request JSON in one pass, borrowing every string, for the shape hosts send: an
/// object of the known fields, strings without escapes, headers as pairs or as an object, at
/// most [`FAST_HEADERS`] of them. Anything else (an escape, a number, an unknown or repeated
/// field, a syntax error) gives `None`, and serde then reads the request, accepting or refusing
/// it with the same messages as ever. So this is a shortcut through the grammar serde
/// implements, never a second grammar: whatever it accepts, serde accepts with the same values
/// (checked by `fast_path_agrees_with_serde` below).
fn parse_fast<'a>(
    json: &'a str,
    headers: &mut [(&'a str, &'a str); FAST_HEADERS],
) -> Option<FastRequest<'a>> {
    let mut c = Cursor { s: json, i: 0 };
    c.eat(b'{')?;
    let (mut method, mut path) = (None, None);
    let (mut query, mut body) = (None, None);
    let mut header_count = None;
    loop {
        let field = c.field()?;
        c.eat(b':')?;
        match field {
            Field::Method if method.is_none() => method = Some(c.string()?),
            Field::Path if path.is_none() => path = Some(c.string()?),
            Field::Query if query.is_none() => query = Some(c.string_or_null()?),
            Field::Body if body.is_none() => body = Some(c.string_or_null()?),
            Field::Headers if header_count.is_none() => header_count = Some(c.headers(headers)?),
            _ => return None,
        }
        match c.next()? {
            b',' => {}
            b'}' => break,
            _ => return None,
        }
    }
    c.skip_ws();
    if c.i != json.len() {
        return None;
    }
    Some(FastRequest {
        method: method?,
        path: path?,
        query: query.flatten().unwrap_or(""),
        body: body.flatten().unwrap_or(""),
        headers: header_count.unwrap_or(0),
    })
}

/// The fields of the request JSON.
enum Field {
    Method,
    Path,
    Query,
    Headers,
    Body,
}

struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn skip_ws(&mut self) {
        let b = self.s.as_bytes();
        while let Some(&c) = b.get(self.i) {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.i += 1;
        }
    }

    /// The next byte that is not white space, without taking it.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        // Hosts mostly send compact JSON: one test settles the usual case.
        match self.s.as_bytes().get(self.i) {
            Some(&c) if c > b' ' => Some(c),
            _ => {
                self.skip_ws();
                self.s.as_bytes().get(self.i).copied()
            }
        }
    }

    #[inline]
    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }

    fn eat(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    /// A field name, spelled without escapes; `None` for any other key.
    fn field(&mut self) -> Option<Field> {
        self.eat(b'"')?;
        let rest = &self.s.as_bytes()[self.i..];
        // One comparison per key, chosen by its first letter; the closing quote is compared
        // too, so that a longer key never matches.
        let (name, field): (&[u8], Field) = match rest.first()? {
            b'm' => (b"method\"", Field::Method),
            b'p' => (b"path\"", Field::Path),
            b'q' => (b"query\"", Field::Query),
            b'h' => (b"headers\"", Field::Headers),
            b'b' => (b"body\"", Field::Body),
            _ => return None,
        };
        if !rest.starts_with(name) {
            return None;
        }
        self.i += name.len();
        Some(field)
    }

    /// A string with nothing to unescape.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        // Stops at the first quote, backslash or control character; only a quote ends the
        // string here (serde refuses raw control characters, and unescapes the rest).
        let end = start + plain_prefix(&self.s.as_bytes()[start..]);
        if self.s.as_bytes().get(end) != Some(&b'"') {
            return None;
        }
        self.i = end + 1;
        // Both ends are next to ASCII quotes, so they are character boundaries.
        self.s.get(start..end)
    }

    fn string_or_null(&mut self) -> Option<Option<&'a str>> {
        if self.peek()? == b'n' {
            let rest = &self.s.as_bytes()[self.i..];
            if !rest.starts_with(b"null") {
                return None;
            }
            self.i += 4;
            return Some(None);
        }
        self.string().map(Some)
    }

    /// `null`, `[[name, value], ...]` or `{name: value, ...}` into `out`; returns the count.
    fn headers(&mut self, out: &mut [(&'a str, &'a str)]) -> Option<usize> {
        let close = match self.peek()? {
            b'[' => b']',
            b'{' => b'}',
            _ => return self.string_or_null()?.map_or(Some(0), |_| None),
        };
        self.i += 1;
        if self.peek()? == close {
            self.i += 1;
            return Some(0);
        }
        let mut n = 0;
        loop {
            let pair = if close == b']' {
                self.eat(b'[')?;
                let name = self.string()?;
                self.eat(b',')?;
                let value = self.string()?;
                self.eat(b']')?;
                (name, value)
            } else {
                let name = self.string()?;
                self.eat(b':')?;
                (name, self.string()?)
            };
            *out.get_mut(n)? = pair;
            n += 1;
            match self.next()? {
                b',' => {}
                b if b == close => return Some(n),
                _ => return None,
            }
        }
    }
}

thread_local! {
    /// Where this thread writes response JSON before it is copied into the host's buffer, so
    /// that a response costs one allocation (the buffer itself). Its length is room, not
    /// content; it keeps the size of the largest response up to [`SCRATCH_KEEP`].
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A scratch buffer grown past this is released after use.
const SCRATCH_KEEP: usize = 1 << 20;

/// The response JSON in a new buffer for the host.
pub(crate) fn response_buf(r: &Response) -> *mut o2e_buf {
    let write = |scratch: &mut Vec<u8>| {
        let n = write_response(scratch, r);
        new_buf(&scratch[..n])
    };
    let with_scratch = |cell: &RefCell<Vec<u8>>| match cell.try_borrow_mut() {
        Ok(mut scratch) => {
            let buf = write(&mut scratch);
            if scratch.len() > SCRATCH_KEEP {
                *scratch = Vec::new();
            }
            buf
        }
        Err(_) => write(&mut Vec::new()),
    };
    SCRATCH
        .try_with(with_scratch)
        .unwrap_or_else(|_| write(&mut Vec::new()))
}

/// Writes `{"status":N,"headers":[[n,v],...],"body":"..."}` at the start of `out`, which it
/// grows to the room the escapes may need; returns the length written.
fn write_response(out: &mut Vec<u8>, r: &Response) -> usize {
    // 39 fixed bytes, 5 status digits, 8 per header around its two strings.
    let mut room = 64 + escape_room(r.body.len());
    for (n, v) in &r.headers {
        room += 8 + escape_room(n.len()) + escape_room(v.len());
    }
    if out.len() < room {
        out.resize(room, 0);
    }
    let d = &mut out[..];
    let mut j = put(d, 0, b"{\"status\":");
    let mut digits = [0u8; 20];
    let start = format_int(&mut digits, u64::from(r.status));
    j = put(d, j, &digits[start..]);
    j = put(d, j, b",\"headers\":[");
    for (i, (name, value)) in r.headers.iter().enumerate() {
        if i > 0 {
            j = put(d, j, b",");
        }
        j = put(d, j, b"[\"");
        j = escape_short_to(d, j, name.as_bytes());
        j = put(d, j, b"\",\"");
        j = escape_short_to(d, j, value.as_bytes());
        j = put(d, j, b"\"]");
    }
    j = put(d, j, b"],\"body\":\"");
    j = escape_to(d, j, r.body.as_bytes());
    put(d, j, b"\"}")
}

fn put(d: &mut [u8], j: usize, s: &[u8]) -> usize {
    d[j..j + s.len()].copy_from_slice(s);
    j + s.len()
}

/// The response JSON as text (for tests).
#[cfg(test)]
fn response_json(r: &Response) -> String {
    let mut out = Vec::new();
    let n = write_response(&mut out, r);
    out.truncate(n);
    String::from_utf8(out).expect("response JSON is UTF-8")
}

/// The request as the site-adapter callbacks see it (same shape as the request JSON; headers
/// always as pairs).
pub(crate) fn write_request(out: &mut String, r: &Request<'_>) {
    let s = WireStyle::Compact;
    out.push_str("{\"method\":");
    write_string(out, r.method, s);
    out.push_str(",\"path\":");
    write_string(out, r.path, s);
    out.push_str(",\"query\":");
    write_string(out, r.query, s);
    out.push_str(",\"headers\":[");
    for (i, (n, v)) in r.headers.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        write_string(out, n, s);
        out.push(',');
        write_string(out, v, s);
        out.push(']');
    }
    out.push_str("],\"body\":");
    write_string(out, &String::from_utf8_lossy(r.body), s);
    out.push('}');
}

/// A response written by the host (`render_auth_page`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HostResponse<'a> {
    status: u16,
    #[serde(borrow, default)]
    headers: Headers<'a>,
    #[serde(default)]
    body: String,
}

impl HostResponse<'_> {
    pub(crate) fn into_response(self) -> Result<Response, String> {
        if !(100..=599).contains(&self.status) {
            return Err(format!("status {} is not an HTTP status", self.status));
        }
        for (n, v) in &self.headers.0 {
            // A header that could split the host's HTTP response is refused, not passed on.
            let bad = |s: &str| s.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0);
            if n.is_empty() || bad(n) || bad(v) {
                return Err(format!("header {n:?} is not a valid HTTP header"));
            }
        }
        let mut r = Response::new(self.status);
        r.headers = self
            .headers
            .0
            .into_iter()
            .map(|(n, v)| (Cow::Owned(n.into_owned()), Cow::Owned(v.into_owned())))
            .collect();
        r.body = self.body;
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_as_pairs_or_object() {
        let r: WireRequest<'_> = serde_json::from_str(
            r#"{"method":"GET","path":"/a","headers":[["A","1"],["A","2\n"]]}"#,
        )
        .unwrap();
        assert_eq!(r.headers.0.len(), 2);
        assert_eq!(r.headers.0[1].1, "2\n");
        let r: WireRequest<'_> =
            serde_json::from_str(r#"{"method":"GET","path":"/a","headers":{"B":"x"}}"#).unwrap();
        assert_eq!(r.headers.0[0].0, "B");
        for bad in [
            r#"{"method":"GET","path":"/a","headers":[["A"]]}"#,
            r#"{"method":"GET","path":"/a","headers":[["A","1","2"]]}"#,
            r#"{"method":"GET","path":"/a","headers":{"B":1}}"#,
            r#"{"method":"GET","path":"/a","extra":1}"#,
            r#"{"method":1,"path":"/a"}"#,
            r#"{"path":"/a"}"#,
        ] {
            assert!(
                serde_json::from_str::<WireRequest<'_>>(bad).is_err(),
                "{bad}"
            );
        }
    }

    type Owned = (String, String, String, Vec<(String, String)>, String);

    fn owned(p: &Parts<'_>) -> Owned {
        let h = p.headers.iter();
        (
            p.method.into(),
            p.path.into(),
            p.query.into(),
            h.map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            p.body.into(),
        )
    }

    fn by_serde(json: &str) -> Option<Owned> {
        let req: WireRequest<'_> = serde_json::from_str(json).ok()?;
        require_object(json, "", o2e_status::O2E_INVALID_REQUEST).ok()?;
        let headers: Vec<(&str, &str)> = req.headers.0.iter().map(|(n, v)| (&**n, &**v)).collect();
        Some(owned(&Parts {
            method: &req.method.0,
            path: &req.path.0,
            query: req.query.as_ref().map_or("", |q| &q.0),
            headers: &headers,
            body: req.body.as_ref().map_or("", |b| &b.0),
        }))
    }

    fn by_fast(json: &str) -> Option<Owned> {
        let mut headers = [("", ""); FAST_HEADERS];
        let r = parse_fast(json, &mut headers)?;
        Some(owned(&r.with_headers(&headers[..r.headers])))
    }

    #[test]
    fn fast_path_agrees_with_serde() {
        let bases = [
            r#"{"method":"POST","path":"/token","query":"","headers":[["Content-Type","application/x-www-form-urlencoded"]],"body":"grant_type=client_credentials&client_id=svc&client_secret=svc-secret"}"#,
            r#" { "method" : "GET" , "path" : "/a" , "headers" : { "A" : "1" , "B" : "é" } } "#,
            "{\"path\":\"/a\",\n\t\"method\":\"GET\",\"query\":null,\"body\":null,\"headers\":null}\r\n",
            r#"{"method":"GET","path":"/a","headers":[],"query":"x=1"}"#,
            r#"{"method":"GET","path":"/a","headers":{}}"#,
            r#"{"method":"","path":"","headers":[["",""],["a","b"],["a","c"]]}"#,
        ];
        for b in bases {
            assert!(by_fast(b).is_some(), "the fast path reads {b}");
            assert_eq!(by_fast(b), by_serde(b), "{b}");
        }
        // Every single-character deletion and insertion of the bases: whatever the fast path
        // accepts, serde accepts with the same values.
        let extra = [
            " ", "\"", ",", ":", "\\", "{", "}", "[", "]", "n", "1", "\n", "\u{1}", "é", "x",
        ];
        let mut inputs: Vec<String> = Vec::new();
        for b in bases {
            let cuts: Vec<usize> = b.char_indices().map(|(i, _)| i).chain([b.len()]).collect();
            for w in cuts.windows(2) {
                inputs.push(format!("{}{}", &b[..w[0]], &b[w[1]..]));
            }
            for &at in &cuts {
                for e in extra {
                    inputs.push(format!("{}{e}{}", &b[..at], &b[at..]));
                }
            }
        }
        let mut fast = 0;
        for input in &inputs {
            if let Some(f) = by_fast(input) {
                fast += 1;
                assert_eq!(Some(f), by_serde(input), "{input}");
            }
        }
        assert!(fast > 100, "only {fast} variants took the fast path");
        // Beyond FAST_HEADERS the serde path takes over.
        let many: Vec<String> = (0..=FAST_HEADERS)
            .map(|i| format!("[\"h{i}\",\"v\"]"))
            .collect();
        let json = format!(
            r#"{{"method":"GET","path":"/","headers":[{}]}}"#,
            many.join(",")
        );
        assert!(by_fast(&json).is_none());
        assert_eq!(by_serde(&json).unwrap().3.len(), FAST_HEADERS + 1);
    }

    #[test]
    fn response_room_suffices_for_the_worst_escapes() {
        let mut r = Response::new(599);
        let nasty: String = "\u{1}".repeat(9);
        for _ in 0..20 {
            r.headers
                .push((Cow::Owned(nasty.clone()), Cow::Owned(nasty.clone())));
        }
        r.body = nasty.repeat(3);
        let v: serde_json::Value = serde_json::from_str(&response_json(&r)).unwrap();
        assert_eq!(v["headers"][19][1], nasty);
        assert_eq!(v["body"], nasty.repeat(3));
    }

    #[test]
    fn response_json_round_trips() {
        let mut r = Response::new(302);
        r.set_header("Location", "https://x/?a=\"b\"");
        r.body = "é\u{1}".into();
        let v: serde_json::Value = serde_json::from_str(&response_json(&r)).unwrap();
        assert_eq!(v["status"], 302);
        assert_eq!(v["headers"][0][1], "https://x/?a=\"b\"");
        assert_eq!(v["body"], "é\u{1}");
    }
}
