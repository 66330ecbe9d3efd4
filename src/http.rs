//! The HTTP-agnostic request and response the engine works on.
//!
//! Hosts (the C ABI, the Python package, Rust servers) translate their own request objects into a
//! [`Request`] that borrows their buffers, and turn the [`Response`] back into their own. The
//! engine parses query strings, form bodies and `Authorization` headers itself, so every host
//! behaves the same.

use std::any::Any;
use std::borrow::Cow;

/// `bytes` as text if they are UTF-8. ASCII, which nearly all request text is, is recognised a
/// word at a time, several times faster than the general validation of short inputs.
pub(crate) fn utf8(bytes: &[u8]) -> Option<&str> {
    // The top bits of all bytes OR-ed together, a word at a time.
    let mut words = bytes.chunks_exact(8);
    let mut high = words.by_ref().fold(0u64, |acc, w| {
        acc | u64::from_le_bytes(w.try_into().unwrap_or_default())
    });
    for &b in words.remainder() {
        high |= u64::from(b);
    }
    if high & 0x8080_8080_8080_8080 == 0 {
        // SAFETY: ASCII is valid UTF-8.
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        std::str::from_utf8(bytes).ok()
    }
}

/// Opaque per-call context handed through to storage and site-adapter callbacks unchanged.
///
/// The C ABI puts the host's `call_ctx` pointer here; the Python package puts the request object.
#[derive(Clone, Copy, Default)]
pub struct Ctx<'a>(pub Option<&'a dyn Any>);

impl<'a> Ctx<'a> {
    pub const NONE: Ctx<'static> = Ctx(None);

    /// The host's context, if it is of type `T`.
    pub fn get<T: Any>(&self) -> Option<&'a T> {
        self.0.and_then(|c| c.downcast_ref::<T>())
    }
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Ctx(..)"
        } else {
            "Ctx(None)"
        })
    }
}

/// One HTTP request, borrowed from the host.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// Request method, e.g. `GET` (compared case-sensitively, as HTTP says).
    pub method: &'a str,
    /// Path without query string, e.g. `/token`.
    pub path: &'a str,
    /// Raw query string without the leading `?` (may be empty).
    pub query: &'a str,
    /// Header names and values; names are matched case-insensitively.
    pub headers: &'a [(&'a str, &'a str)],
    /// Raw request body.
    pub body: &'a [u8],
    /// Passed through to callbacks.
    pub context: Ctx<'a>,
}

impl<'a> Request<'a> {
    /// A request with no headers, body or context.
    pub fn new(method: &'a str, path: &'a str, query: &'a str) -> Self {
        Request {
            method,
            path,
            query,
            headers: &[],
            body: &[],
            context: Ctx(None),
        }
    }

    /// The first header with this name (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// True when the body is declared as `application/x-www-form-urlencoded` (parameters allowed).
    pub fn has_form_body(&self) -> bool {
        const FORM: &str = "application/x-www-form-urlencoded";
        self.header("content-type").is_some_and(|ct| {
            // The exact spelling first: what nearly every client sends, at the price of one
            // comparison.
            ct == FORM || {
                let mime = ct.split(';').next().unwrap_or("").trim();
                mime.eq_ignore_ascii_case(FORM)
            }
        })
    }
}

/// The engine's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(Cow<'static, str>, Cow<'static, str>)>,
    pub body: String,
}

impl Response {
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// Adds a header, replacing an earlier one of the same name.
    pub fn set_header(
        &mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<Cow<'static, str>>,
    ) {
        let name = name.into();
        let value = value.into();
        match self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some(slot) => slot.1 = value,
            None => self.headers.push((name, value)),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    /// A JSON response; `no_store` adds the RFC 6749 §5.1 cache headers.
    pub(crate) fn json(status: u16, body: String, no_store: bool) -> Self {
        let mut headers: Vec<(Cow<'static, str>, Cow<'static, str>)> = Vec::with_capacity(3);
        headers.push((
            Cow::Borrowed("Content-Type"),
            Cow::Borrowed("application/json"),
        ));
        if no_store {
            headers.push((Cow::Borrowed("Cache-Control"), Cow::Borrowed("no-store")));
            headers.push((Cow::Borrowed("Pragma"), Cow::Borrowed("no-cache")));
        }
        Response {
            status,
            headers,
            body,
        }
    }

    /// A `302 Found` to `location`.
    pub(crate) fn redirect(location: String) -> Self {
        let mut r = Response::new(302);
        r.headers
            .push((Cow::Borrowed("Location"), Cow::Owned(location)));
        r.headers
            .push((Cow::Borrowed("Cache-Control"), Cow::Borrowed("no-store")));
        r
    }
}
