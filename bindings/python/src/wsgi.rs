//! The WSGI hot path: `oauth2.web.wsgi.Application` subclasses [`WsgiCore`], whose `__call__`
//! reads the environ, runs the engine with the GIL released and calls `start_response`, without
//! building any Python object but the response.

use std::borrow::Cow;
use std::sync::Mutex;

use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::engine::PyEngine;
use crate::ffi::{self, utf8};
use crate::host::{PyCtx, Source};
use crate::request::EnvRead;
use crate::{current_generation, status_line};

struct Binding {
    provider: Py<PyAny>,
    request_class: Py<PyAny>,
    env_vars: Py<PyAny>,
    /// The engine and the paths it routes, as of the generation it was built at.
    engine: Option<Py<PyEngine>>,
}

#[pyclass(subclass, frozen, module = "oauth2._engine")]
pub struct WsgiCore {
    state: Mutex<Option<Binding>>,
}

/// The UTF-8 text of a Python string, borrowed from it when possible.
fn text<'a>(s: &'a Bound<'_, PyString>) -> Cow<'a, str> {
    match utf8(s) {
        Some(t) => Cow::Borrowed(t),
        None => Cow::Owned(s.to_string_lossy().into_owned()),
    }
}

/// A header name or value as a Python string: the engine's fixed ones are made once.
fn known<'py>(py: Python<'py>, s: &str) -> Bound<'py, PyString> {
    match s {
        "Content-Type" => intern!(py, "Content-Type").clone(),
        "application/json" => intern!(py, "application/json").clone(),
        "Cache-Control" => intern!(py, "Cache-Control").clone(),
        "no-store" => intern!(py, "no-store").clone(),
        "Pragma" => intern!(py, "Pragma").clone(),
        "no-cache" => intern!(py, "no-cache").clone(),
        "Location" => intern!(py, "Location").clone(),
        _ => PyString::new(py, s),
    }
}

/// A response header as the `(name, value)` tuple `start_response` takes: the engine's fixed
/// pairs are made once (tuples of str are immutable, so sharing them is safe).
fn header<'py>(py: Python<'py>, name: &str, value: &str) -> PyResult<Bound<'py, PyTuple>> {
    static JSON: GILOnceCell<Py<PyTuple>> = GILOnceCell::new();
    static NO_STORE: GILOnceCell<Py<PyTuple>> = GILOnceCell::new();
    static NO_CACHE: GILOnceCell<Py<PyTuple>> = GILOnceCell::new();
    let fixed = match (name, value) {
        ("Content-Type", "application/json") => Some(&JSON),
        ("Cache-Control", "no-store") => Some(&NO_STORE),
        ("Pragma", "no-cache") => Some(&NO_CACHE),
        _ => None,
    };
    if let Some(cell) = fixed {
        let t = cell.get_or_try_init(py, || {
            PyTuple::new(py, [known(py, name), known(py, value)]).map(Bound::unbind)
        })?;
        return Ok(t.bind(py).clone());
    }
    PyTuple::new(py, [known(py, name), known(py, value)])
}

/// Bodies shorter than this have their `("Content-Length", "<n>")` pair made once.
const SHARED_LENGTHS: usize = 2048;

/// The `Content-Length` header pair of a body of `n` bytes. A token endpoint's answers have a
/// handful of lengths, so the pairs are made once and shared like the fixed headers.
fn content_length(py: Python<'_>, n: usize) -> PyResult<Bound<'_, PyTuple>> {
    static SHARED: [GILOnceCell<Py<PyTuple>>; SHARED_LENGTHS] =
        [const { GILOnceCell::new() }; SHARED_LENGTHS];
    let make = || {
        PyTuple::new(
            py,
            [
                intern!(py, "Content-Length").clone(),
                PyString::new(py, &n.to_string()),
            ],
        )
    };
    match SHARED.get(n) {
        Some(cell) => Ok(cell
            .get_or_try_init(py, || make().map(Bound::unbind))?
            .bind(py)
            .clone()),
        None => make(),
    }
}

/// A list of `n` items, each to be set once with `set_item` before Python sees the list.
fn new_list(py: Python<'_>, n: usize) -> PyResult<Bound<'_, PyAny>> {
    // SAFETY: the GIL is held; PyList_New returns a new reference or NULL with an error set.
    // Its items start NULL, which the list's deallocation accepts should an error intervene.
    unsafe { Bound::from_owned_ptr_or_err(py, pyo3::ffi::PyList_New(n as pyo3::ffi::Py_ssize_t)) }
}

/// Sets item `i` of a list from `new_list` (`i` below its length), taking `item`'s reference.
fn set_item(list: &Bound<'_, PyAny>, i: usize, item: Bound<'_, PyAny>) {
    // SAFETY: `list` is a list from `new_list` and `i` is in range, so PyList_SetItem cannot
    // fail; it steals the reference `into_ptr` hands over.
    unsafe {
        pyo3::ffi::PyList_SetItem(list.as_ptr(), i as pyo3::ffi::Py_ssize_t, item.into_ptr());
    }
}

/// The text of an environ value that is a str (the engine reads no other).
fn str_text<'a>(v: &'a Option<Bound<'_, PyAny>>) -> Option<Cow<'a, str>> {
    v.as_ref()
        .and_then(|v| v.downcast::<PyString>().ok())
        .map(text)
}

impl WsgiCore {
    /// The current engine, rebuilt through the provider when the configuration changed.
    /// (Bound references: dropping them is a plain decref, where dropping a `Py` first asks
    /// whether this thread holds the GIL.)
    #[allow(clippy::type_complexity)]
    fn engine<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyEngine>, Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let generation = current_generation();
        let provider = {
            let guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let Some(st) = guard.as_ref() else {
                return Err(PyTypeError::new_err(
                    "Application.__init__ was not called (no provider bound)",
                ));
            };
            if let Some(e) = &st.engine {
                if e.get().generation == generation {
                    return Ok((
                        e.bind(py).clone(),
                        st.request_class.bind(py).clone(),
                        st.env_vars.bind(py).clone(),
                    ));
                }
            }
            st.provider.clone_ref(py)
        };
        // Built without our lock held: building calls Python, which may switch threads.
        let fresh: Py<PyEngine> = provider
            .bind(py)
            .call_method0("_native_engine")?
            .downcast_into::<PyEngine>()?
            .unbind();
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let st = guard
            .as_mut()
            .ok_or_else(|| PyTypeError::new_err("Application lost its provider"))?;
        st.engine = Some(fresh.clone_ref(py));
        Ok((
            fresh.into_bound(py),
            st.request_class.bind(py).clone(),
            st.env_vars.bind(py).clone(),
        ))
    }
}

#[pymethods]
impl WsgiCore {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> Self {
        WsgiCore {
            state: Mutex::new(None),
        }
    }

    /// Called by `Application.__init__` (and whenever it re-binds).
    fn _bind(&self, provider: Py<PyAny>, request_class: Py<PyAny>, env_vars: Py<PyAny>) {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        *guard = Some(Binding {
            provider,
            request_class,
            env_vars,
            engine: None,
        });
    }

    fn __call__<'py>(
        &self,
        py: Python<'py>,
        environ: &Bound<'py, PyAny>,
        start_response: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let env = environ.downcast::<PyDict>()?;
        let (engine, request_class, env_vars) = self.engine(py)?;
        let eng = engine.get();
        let path_obj = env.get_item(intern!(py, "PATH_INFO"))?;
        let path = str_text(&path_obj).unwrap_or_default();
        if *path != *eng.authorize_path && *path != *eng.token_path {
            // python-oauth2's own 404, before any OAuth processing.
            start_response.call1((
                "404 Not Found",
                PyList::new(py, [("Content-type", "text/html"), ("Content-Length", "9")])?,
            ))?;
            return PyList::new(py, [PyBytes::new(py, b"Not Found")]);
        }
        let method_obj = env.get_item(intern!(py, "REQUEST_METHOD"))?;
        let method = str_text(&method_obj).unwrap_or_default();
        // Each endpoint's own reads only: the token endpoint never looks at the query string
        // (a request object made later reads it from the environ), and only it authenticates
        // clients by the Authorization header.
        let token_endpoint = *path == *eng.token_path;
        let query_obj = match token_endpoint {
            false => env.get_item(intern!(py, "QUERY_STRING"))?,
            true => None,
        };
        let query = str_text(&query_obj).unwrap_or_default();
        let ct_obj = env.get_item(intern!(py, "CONTENT_TYPE"))?;
        let auth_obj = match token_endpoint {
            true => env.get_item(intern!(py, "HTTP_AUTHORIZATION"))?,
            false => None,
        };
        let length = str_text(&env.get_item(intern!(py, "CONTENT_LENGTH"))?)
            .and_then(|l| l.trim().parse::<usize>().ok())
            .unwrap_or(0);
        // Never read more than one byte past the limit: that is enough for the engine to refuse
        // the body, and an oversized body is not pulled into memory.
        let want = length.min(eng.max_body + 1);
        let body: Option<Bound<'py, PyBytes>> = if want > 0 {
            match env.get_item(intern!(py, "wsgi.input"))? {
                Some(input) => Some(
                    ffi::call_method(
                        &input,
                        intern!(py, "read"),
                        &[&want.into_pyobject(py)?.into_any()],
                    )?
                    .downcast_into()?,
                ),
                None => None,
            }
        } else {
            None
        };
        let body_bytes: &[u8] = body.as_ref().map(|b| b.as_bytes()).unwrap_or(&[]);
        let content_type = str_text(&ct_obj);
        let authorization = str_text(&auth_obj);
        // The only request headers the engine reads (WSGI has no header list to hand over).
        let mut header_slots = [("", ""); 2];
        let mut n_headers = 0;
        for (name, value) in [
            ("Content-Type", &content_type),
            ("Authorization", &authorization),
        ] {
            if let Some(v) = value {
                header_slots[n_headers] = (name, v);
                n_headers += 1;
            }
        }
        let headers = &header_slots[..n_headers];
        let unbound = |v: &Option<Bound<'py, PyAny>>| v.as_ref().map(|v| v.clone().unbind());
        let ctx = PyCtx {
            source: Source::Wsgi {
                environ: environ.clone().unbind(),
                body: body.as_ref().map(|b| b.clone().unbind()),
                read: EnvRead {
                    method: unbound(&method_obj),
                    path: unbound(&path_obj),
                    query: unbound(&query_obj),
                    content_type: unbound(&ct_obj),
                },
                request_class: request_class.unbind(),
                env_vars: env_vars.unbind(),
            },
            made: Default::default(),
        };
        let resp = eng.run(py, &method, &path, &query, headers, body_bytes, &ctx);
        ctx.release(py);
        // The headers and, since the body is complete, its length: without it an HTTP/1.1
        // server must send the body chunked (cheroot does), which costs extra writes on every
        // response.
        let hs = new_list(py, resp.headers.len() + 1)?;
        for (i, (k, v)) in resp.headers.iter().enumerate() {
            set_item(&hs, i, header(py, k, v)?.into_any());
        }
        set_item(
            &hs,
            resp.headers.len(),
            content_length(py, resp.body.len())?.into_any(),
        );
        let status = match resp.status {
            200 => intern!(py, "200 OK").clone(),
            302 => intern!(py, "302 Found").clone(),
            400 => intern!(py, "400 Bad Request").clone(),
            401 => intern!(py, "401 Unauthorized").clone(),
            other => PyString::new(py, &status_line(other)),
        };
        ffi::call(start_response, &[&status, &hs])?;
        let out = new_list(py, 1)?;
        set_item(&out, 0, PyBytes::new(py, resp.body.as_bytes()).into_any());
        Ok(out.downcast_into()?)
    }
}
