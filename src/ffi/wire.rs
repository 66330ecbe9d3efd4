//! The request and response JSON of `o2e_engine_handle`.
//!
//! Request: `{"method", "path", "query"?, "headers"?, "body"?}`; headers either as an array of
//! `[name, value]` pairs (order and repeats kept) or as an object. Response:
//! `{"status", "headers": [[name, value], ...], "body"}`.

use std::borrow::Cow;
use std::ffi::c_void;
use std::fmt;

use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::{json_failure, o2e_status, require_object, CallCtx, Failure};
use crate::engine::Engine;
use crate::http::{Ctx, Request, Response};
use crate::json::{write_string, WireStyle};

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

/// Parses the request, runs it through the engine and writes the response JSON.
pub(crate) fn handle(
    engine: &Engine,
    json: &str,
    call_ctx: *mut c_void,
) -> Result<Vec<u8>, Failure> {
    let req: WireRequest<'_> = serde_json::from_str(json)
        .map_err(|e| json_failure(&e, "request_json", o2e_status::O2E_INVALID_REQUEST))?;
    require_object(json, "request_json", o2e_status::O2E_INVALID_REQUEST)?;
    let headers: Vec<(&str, &str)> = req
        .headers
        .0
        .iter()
        .map(|(n, v)| (n.as_ref(), v.as_ref()))
        .collect();
    let ctx = CallCtx(call_ctx);
    let request = Request {
        method: &req.method.0,
        path: &req.path.0,
        query: req.query.as_ref().map_or("", |q| &q.0),
        headers: &headers,
        body: req.body.as_ref().map_or(&[][..], |b| b.0.as_bytes()),
        context: Ctx(Some(&ctx)),
    };
    // The token generator and the error hook are called without a Ctx; they find the call's
    // context here.
    let _scope = super::callbacks::CtxScope::enter(call_ctx);
    let response = engine.handle(&request);
    Ok(response_json(&response).into_bytes())
}

/// `{"status":N,"headers":[[n,v],...],"body":"..."}`.
pub(crate) fn response_json(r: &Response) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(64 + r.body.len() + r.headers.len() * 40);
    let _ = write!(out, "{{\"status\":{},\"headers\":[", r.status);
    for (i, (name, value)) in r.headers.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        write_string(&mut out, name, WireStyle::Compact);
        out.push(',');
        write_string(&mut out, value, WireStyle::Compact);
        out.push(']');
    }
    out.push_str("],\"body\":");
    write_string(&mut out, &r.body, WireStyle::Compact);
    out.push('}');
    out
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
