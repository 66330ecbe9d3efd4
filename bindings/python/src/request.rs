//! The Python objects a site adapter is handed, made natively on the WSGI path.
//!
//! `oauth2.web.wsgi.Request` is a Python subclass of [`RequestCore`]: its `__init__` (for a
//! request made from an environ by user code) is Python, while the engine makes the default
//! class's requests here without running Python code, and `get_param`/`post_param` read the
//! query string or form body natively. They parse with python-oauth2's rule (`parse_qs`:
//! `&`-separated, `+` is a space, percent-escapes are UTF-8 with errors replaced, the first
//! non-blank value wins); a single lookup scans for the name instead of building the whole
//! dict, which is built only when `query_params`/`post_params` is read.

use std::borrow::Cow;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyBool, PyBytes, PyDict, PyString, PyTuple, PyType};

use oauth2_engine::form::unescape;

use crate::ffi::utf8;

const FORM: &str = "application/x-www-form-urlencoded";

/// `urllib.parse.unquote_plus` with its defaults: `+` is a space, `%XX` (two hex digits) a byte,
/// anything else as it is, and the bytes read as UTF-8 with errors replaced.
pub(crate) fn unquote_plus(raw: &str) -> Cow<'_, str> {
    match unescape(raw.as_bytes()) {
        Cow::Borrowed(_) => Cow::Borrowed(raw),
        Cow::Owned(bytes) => Cow::Owned(match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }),
    }
}

/// The pairs python-oauth2's parsing keeps, in order: name and value split at the first `=`,
/// pairs without a value dropped (duplicates are left to the caller: the first one wins).
fn pairs(raw: &str) -> impl Iterator<Item = (&str, &str)> {
    raw.split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(_, value)| !value.is_empty())
}

/// A piece of a form body as python-oauth2 reads it: the body is UTF-8 with errors replaced
/// before it is split and unquoted. The delimiters (`&`, `=`) are ASCII, which that decoding
/// never makes or takes apart, so decoding each piece alone gives the same text.
fn piece(raw: &[u8]) -> Cow<'_, str> {
    if !needs_decoding(raw) {
        // SAFETY: every byte is ASCII, so the bytes are UTF-8.
        return Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(raw) });
    }
    match String::from_utf8_lossy(raw) {
        Cow::Borrowed(s) => unquote_plus(s),
        Cow::Owned(s) => Cow::Owned(unquote_plus(&s).into_owned()),
    }
}

/// Whether a piece of a body decodes to something other than its bytes: only an escape (`+`,
/// `%`) or a non-ASCII byte (which may be invalid UTF-8, replaced) changes anything.
fn needs_decoding(raw: &[u8]) -> bool {
    raw.iter().any(|&c| c == b'+' || c == b'%' || !c.is_ascii())
}

/// Whether the name of a body pair (`key`, raw) is `name` once decoded.
fn key_is(key: &[u8], name: &str) -> bool {
    if key == name.as_bytes() {
        // Its own text, unless it has escapes (`name` is text, so the bytes are UTF-8).
        return !needs_decoding(key) || piece(key) == name;
    }
    // Other bytes decode to `name` only through an escape or a replaced byte.
    needs_decoding(key) && piece(key) == name
}

/// The first value of `name` in the form body `raw`, decoded: the pairs are found with
/// `memchr` and only the name candidates that need it and the value found are decoded.
fn first_body_value<'a>(raw: &'a [u8], name: &str) -> Option<Cow<'a, str>> {
    let mut rest = raw;
    loop {
        let end = memchr::memchr(b'&', rest).unwrap_or(rest.len());
        let pair = &rest[..end];
        if let Some(eq) = memchr::memchr(b'=', pair) {
            let (k, v) = (&pair[..eq], &pair[eq + 1..]);
            if !v.is_empty() && key_is(k, name) {
                return Some(piece(v));
            }
        }
        if end == rest.len() {
            return None;
        }
        rest = &rest[end + 1..];
    }
}

/// The first value of `name` in the query string `raw`, decoded.
fn first_value<'a>(raw: &'a str, name: &str) -> Option<Cow<'a, str>> {
    pairs(raw)
        .find(|(k, _)| unquote_plus(k) == name)
        .map(|(_, v)| unquote_plus(v))
}

/// Every parameter of `raw` as python-oauth2's `dict` of first values.
fn parse_dict<'py>(py: Python<'py>, raw: &str) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (k, v) in pairs(raw) {
        let k = unquote_plus(k);
        let key = PyString::new(py, &k);
        if !dict.contains(&key)? {
            dict.set_item(key, PyString::new(py, &unquote_plus(v)))?;
        }
    }
    Ok(dict)
}

/// The body as text: UTF-8 with errors replaced, as `bytes.decode("utf-8", "replace")`.
fn body_text(body: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(body)
}

/// Where a lookup reads from: a parsed (or assigned) mapping, or the raw text.
enum Params<'py> {
    Mapping(Bound<'py, PyAny>),
    Raw(Bound<'py, PyAny>),
    Empty,
}

/// python-oauth2's `_first_values`, for text Rust cannot read (lone surrogates).
fn python_parse<'py>(raw: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    static FIRST_VALUES: GILOnceCell<Py<PyAny>> = GILOnceCell::new();
    let py = raw.py();
    FIRST_VALUES
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(
                py.import("oauth2.web.wsgi")?
                    .getattr("_first_values")?
                    .unbind(),
            )
        })?
        .bind(py)
        .call1((raw,))
}

/// The native half of `oauth2.web.wsgi.Request`: `method`, `path`, `query_string`, `env_raw`,
/// the body, and the parameters parsed on first use. The fields start unset (read as `None`)
/// and are set once, by `Request.__init__` or by the engine, so making a request allocates
/// nothing to throw away.
#[pyclass(subclass, module = "oauth2._engine")]
#[derive(Default)]
pub struct RequestCore {
    method: Option<PyObject>,
    path: Option<PyObject>,
    query_string: Option<PyObject>,
    env_raw: Option<PyObject>,
    /// The body as read (POST only; `b""` otherwise).
    raw_body: Option<PyObject>,
    /// The query string as it was when the request was made: `query_params` parses this one.
    query_source: Option<PyObject>,
    /// Whether the body is a form (only then has it post parameters).
    #[pyo3(get, set, name = "_form")]
    form: bool,
    query_params: Option<PyObject>,
    post_params: Option<PyObject>,
}

fn or_none(py: Python<'_>, field: &Option<PyObject>) -> PyObject {
    match field {
        Some(v) => v.clone_ref(py),
        None => py.None(),
    }
}

impl RequestCore {
    fn params<'py>(&self, py: Python<'py>, post: bool) -> Params<'py> {
        let (cached, raw) = if post {
            if !self.form {
                return match &self.post_params {
                    Some(m) => Params::Mapping(m.bind(py).clone()),
                    None => Params::Empty,
                };
            }
            (&self.post_params, &self.raw_body)
        } else {
            (&self.query_params, &self.query_source)
        };
        match (cached, raw) {
            (Some(m), _) => Params::Mapping(m.bind(py).clone()),
            (None, Some(raw)) => Params::Raw(raw.bind(py).clone()),
            (None, None) => Params::Empty,
        }
    }

    /// The parameters as a dict, parsed now and kept (what `query_params`/`post_params` give).
    fn materialize(&mut self, py: Python<'_>, post: bool) -> PyResult<PyObject> {
        let made: Bound<'_, PyAny> = match self.params(py, post) {
            Params::Mapping(m) => return Ok(m.unbind()),
            Params::Empty => PyDict::new(py).into_any(),
            Params::Raw(raw) => parse_raw(&raw)?,
        };
        let made = made.unbind();
        if post {
            self.post_params = Some(made.clone_ref(py));
        } else {
            self.query_params = Some(made.clone_ref(py));
        }
        Ok(made)
    }

    pub(crate) fn lookup(
        &mut self,
        py: Python<'_>,
        post: bool,
        name: &Bound<'_, PyAny>,
        default: Option<PyObject>,
    ) -> PyResult<PyObject> {
        match self.params(py, post) {
            Params::Empty => return Ok(default.unwrap_or_else(|| py.None())),
            // A lookup before the dict exists scans the text for the name; the dict would give
            // the same answer (first non-blank value), and most adapters read one or two
            // parameters.
            Params::Raw(raw) => {
                if let Some(found) = scan(&raw, name) {
                    return Ok(found.unwrap_or_else(|| default.unwrap_or_else(|| py.None())));
                }
            }
            Params::Mapping(_) => {}
        }
        // `params.get(name, default)`, as python-oauth2 reads it.
        let default = default.unwrap_or_else(|| py.None());
        let mapping = self.materialize(py, post)?;
        let mapping = mapping.bind(py);
        if let Ok(d) = mapping.downcast_exact::<PyDict>() {
            return Ok(match d.get_item(name)? {
                Some(v) => v.unbind(),
                None => default,
            });
        }
        Ok(mapping
            .call_method1(intern!(py, "get"), (name, default))?
            .unbind())
    }
}

/// The first value of `name` (an exact str) in the raw query string or body, or `None` when the
/// text cannot be scanned natively (then the dict decides): `Some(None)` is "not there".
fn scan(raw: &Bound<'_, PyAny>, name: &Bound<'_, PyAny>) -> Option<Option<PyObject>> {
    let py = raw.py();
    if !name.is_exact_instance_of::<PyString>() {
        return None;
    }
    let name = utf8(name.downcast::<PyString>().ok()?)?;
    let value = if let Ok(bytes) = raw.downcast::<PyBytes>() {
        first_body_value(bytes.as_bytes(), name).map(|v| PyString::new(py, &v))
    } else {
        first_value(utf8(raw.downcast::<PyString>().ok()?)?, name).map(|v| PyString::new(py, &v))
    };
    Some(value.map(|v| v.into_any().unbind()))
}

/// A query string or body parsed into the dict of first values.
fn parse_raw<'py>(raw: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = raw.py();
    if let Ok(bytes) = raw.downcast::<PyBytes>() {
        return Ok(parse_dict(py, &body_text(bytes.as_bytes()))?.into_any());
    }
    if let Ok(s) = raw.downcast::<PyString>() {
        if let Some(text) = utf8(s) {
            return Ok(parse_dict(py, text)?.into_any());
        }
    }
    if !raw.is_truthy()? {
        return Ok(PyDict::new(py).into_any());
    }
    python_parse(raw)
}

#[pymethods]
impl RequestCore {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> Self {
        RequestCore::default()
    }

    /// The native fields, for `copy` and `pickle` (`Request.__getstate__`): parameters not parsed
    /// yet are `None`.
    fn _native_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(
            py,
            [
                or_none(py, &self.method),
                or_none(py, &self.path),
                or_none(py, &self.query_string),
                or_none(py, &self.env_raw),
                or_none(py, &self.raw_body),
                or_none(py, &self.query_source),
                PyBool::new(py, self.form).to_owned().into_any().unbind(),
                or_none(py, &self.query_params),
                or_none(py, &self.post_params),
            ],
        )
    }

    /// Restores what `_native_state` gave (`Request.__setstate__`).
    fn _restore_native(&mut self, state: &Bound<'_, PyTuple>) -> PyResult<()> {
        let field = |i: usize| -> PyResult<Option<PyObject>> {
            let v = state.get_item(i)?;
            Ok((!v.is_none()).then(|| v.unbind()))
        };
        self.method = field(0)?;
        self.path = field(1)?;
        self.query_string = field(2)?;
        self.env_raw = field(3)?;
        self.raw_body = field(4)?;
        self.query_source = field(5)?;
        self.form = state.get_item(6)?.is_truthy()?;
        self.query_params = field(7)?;
        self.post_params = field(8)?;
        Ok(())
    }

    /// Sets every field at once (`Request.__init__` calls it).
    #[allow(clippy::too_many_arguments)]
    fn _init(
        &mut self,
        method: PyObject,
        path: PyObject,
        query_string: PyObject,
        env_raw: PyObject,
        raw_body: PyObject,
        form: bool,
        py: Python<'_>,
    ) {
        self.method = Some(method);
        self.path = Some(path);
        self.query_source = Some(query_string.clone_ref(py));
        self.query_string = Some(query_string);
        self.env_raw = Some(env_raw);
        self.raw_body = Some(raw_body);
        self.form = form;
        self.query_params = None;
        self.post_params = None;
    }

    #[getter(method)]
    fn get_method(&self, py: Python<'_>) -> PyObject {
        or_none(py, &self.method)
    }

    #[setter(method)]
    fn set_method(&mut self, value: PyObject) {
        self.method = Some(value);
    }

    #[getter(path)]
    fn get_path(&self, py: Python<'_>) -> PyObject {
        or_none(py, &self.path)
    }

    #[setter(path)]
    fn set_path(&mut self, value: PyObject) {
        self.path = Some(value);
    }

    #[getter(query_string)]
    fn get_query_string(&self, py: Python<'_>) -> PyObject {
        or_none(py, &self.query_string)
    }

    #[setter(query_string)]
    fn set_query_string(&mut self, value: PyObject) {
        self.query_string = Some(value);
    }

    #[getter(env_raw)]
    fn get_env_raw(&self, py: Python<'_>) -> PyObject {
        or_none(py, &self.env_raw)
    }

    #[setter(env_raw)]
    fn set_env_raw(&mut self, value: PyObject) {
        self.env_raw = Some(value);
    }

    #[getter(_raw_body)]
    fn get_raw_body(&self, py: Python<'_>) -> PyObject {
        or_none(py, &self.raw_body)
    }

    #[setter(_raw_body)]
    fn set_raw_body(&mut self, value: PyObject) {
        self.raw_body = Some(value);
    }

    #[getter(_query_source)]
    fn get_query_source(&self, py: Python<'_>) -> PyObject {
        or_none(py, &self.query_source)
    }

    #[setter(_query_source)]
    fn set_query_source(&mut self, value: PyObject) {
        self.query_source = Some(value);
    }

    #[getter]
    fn get_query_params(&mut self, py: Python<'_>) -> PyResult<PyObject> {
        self.materialize(py, false)
    }

    #[setter]
    fn set_query_params(&mut self, value: PyObject) {
        self.query_params = Some(value);
    }

    #[getter]
    fn get_post_params(&mut self, py: Python<'_>) -> PyResult<PyObject> {
        self.materialize(py, true)
    }

    #[setter]
    fn set_post_params(&mut self, value: PyObject) {
        self.post_params = Some(value);
    }
}

/// The default request class, `oauth2.web.wsgi.Request`.
pub(crate) fn default_request_class(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static REQUEST: GILOnceCell<Py<PyType>> = GILOnceCell::new();
    REQUEST.import(py, "oauth2.web.wsgi", "Request")
}

/// The environ values a request object is made of, as the WSGI glue read them (`None`: not in
/// the environ, or, for the query string, not read), so that making the object does not look
/// them up again.
pub(crate) struct EnvRead {
    pub method: Option<Py<PyAny>>,
    pub path: Option<Py<PyAny>>,
    pub query: Option<Py<PyAny>>,
    pub content_type: Option<Py<PyAny>>,
}

impl EnvRead {
    /// Drops the references with the GIL held (see `PyCtx::release`).
    pub fn release(self, py: Python<'_>) {
        for v in [self.method, self.path, self.query, self.content_type]
            .into_iter()
            .flatten()
        {
            drop(v.into_bound(py));
        }
    }
}

/// What `Request(environ)` makes of a WSGI request whose body the engine already read: `cls`
/// is the default class, whose `__init__` (like `__new__`) would only set these fields.
pub(crate) fn wsgi_request<'py>(
    cls: &Bound<'py, PyType>,
    env: &Bound<'py, PyDict>,
    read: &EnvRead,
    body: Option<&Bound<'py, PyBytes>>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = cls.py();
    let or = |v: &Option<Py<PyAny>>, default: &Bound<'py, PyString>| -> PyObject {
        match v {
            Some(v) => v.clone_ref(py),
            None => default.clone().into_any().unbind(),
        }
    };
    let empty = intern!(py, "");
    let method = or(&read.method, intern!(py, "GET"));
    let is_str = |v: &PyObject, f: &dyn Fn(&str) -> bool| {
        v.bind(py)
            .downcast::<PyString>()
            .ok()
            .and_then(|s| utf8(s))
            .is_some_and(f)
    };
    let post = is_str(&method, &|m| m == "POST");
    let form = post
        && read
            .content_type
            .as_ref()
            .is_some_and(|ct| is_str(ct, &|ct| ct.starts_with(FORM)));
    let raw_body = match body {
        Some(b) if post => b.clone().into_any().unbind(),
        _ => PyBytes::new(py, b"").into_any().unbind(),
    };
    // The glue does not read the query string of a token request: look it up now.
    let query = match &read.query {
        Some(q) => q.clone_ref(py),
        None => env
            .get_item(intern!(py, "QUERY_STRING"))?
            .map_or_else(|| empty.clone().into_any().unbind(), Bound::unbind),
    };
    let core = RequestCore {
        method: Some(method),
        path: Some(or(&read.path, empty)),
        query_string: Some(query.clone_ref(py)),
        query_source: Some(query),
        env_raw: Some(env.clone().into_any().unbind()),
        raw_body: Some(raw_body),
        form,
        query_params: None,
        post_params: None,
    };
    // SAFETY: `cls` is the default request class, a Python subclass of `RequestCore` (checked
    // by the caller); this is what its `__new__` runs, with the fields already set.
    unsafe {
        let obj = pyo3::impl_::pymethods::tp_new_impl(py, core.into(), cls.as_type_ptr())?;
        Ok(Bound::from_owned_ptr(py, obj))
    }
}

/// The `environ` adapters get: the application's `env_vars` picked from the WSGI environ.
pub(crate) fn picked_environ<'py>(
    env: &Bound<'py, PyDict>,
    env_vars: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    let picked = PyDict::new(env.py());
    if env_vars.is_truthy()? {
        for name in env_vars.try_iter()? {
            let name = name?;
            if let Some(value) = env.get_item(&name)? {
                picked.set_item(name, value)?;
            }
        }
    }
    Ok(picked)
}

/// `UserNotAuthenticated`, which an adapter raises to refuse the user.
pub(crate) fn user_not_authenticated(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static ERROR: GILOnceCell<Py<PyType>> = GILOnceCell::new();
    ERROR.import(py, "oauth2.error", "UserNotAuthenticated")
}

/// Whether `cls` is the default request class, which the engine makes natively.
pub(crate) fn is_default_request_class(cls: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(cls.is(default_request_class(cls.py())?))
}
