//! The WSGI hot path: `oauth2.web.wsgi.Application` subclasses [`WsgiCore`], whose `__call__`
//! reads the environ, runs the engine with the GIL released and calls `start_response`, without
//! building any Python object but the response.

use std::sync::Mutex;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::engine::PyEngine;
use crate::host::{PyCtx, Source};
use crate::{current_generation, status_line};

struct Bound_ {
    provider: Py<PyAny>,
    request_class: Py<PyAny>,
    env_vars: Py<PyAny>,
    /// The engine and the paths it routes, as of the generation it was built at.
    engine: Option<Py<PyEngine>>,
}

#[pyclass(subclass, frozen, module = "oauth2._engine")]
pub struct WsgiCore {
    state: Mutex<Option<Bound_>>,
}

fn env_str(env: &Bound<'_, PyDict>, key: &str) -> PyResult<Option<String>> {
    match env.get_item(key)? {
        Some(v) => match v.downcast::<PyString>() {
            Ok(s) => Ok(Some(s.to_cow()?.into_owned())),
            Err(_) => Ok(None),
        },
        None => Ok(None),
    }
}

impl WsgiCore {
    /// The current engine, rebuilt through the provider when the configuration changed.
    fn engine(&self, py: Python<'_>) -> PyResult<(Py<PyEngine>, Py<PyAny>, Py<PyAny>)> {
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
                        e.clone_ref(py),
                        st.request_class.clone_ref(py),
                        st.env_vars.clone_ref(py),
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
            fresh,
            st.request_class.clone_ref(py),
            st.env_vars.clone_ref(py),
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
        *guard = Some(Bound_ {
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
        let path = env_str(env, "PATH_INFO")?.unwrap_or_default();
        if path != eng.authorize_path && path != eng.token_path {
            // python-oauth2's own 404, before any OAuth processing.
            start_response.call1((
                "404 Not Found",
                PyList::new(py, [("Content-type", "text/html")])?,
            ))?;
            return PyList::new(py, [PyBytes::new(py, b"Not Found")]);
        }
        let method = env_str(env, "REQUEST_METHOD")?.unwrap_or_default();
        let query = env_str(env, "QUERY_STRING")?.unwrap_or_default();
        let content_type = env_str(env, "CONTENT_TYPE")?;
        let authorization = env_str(env, "HTTP_AUTHORIZATION")?;
        let length = env_str(env, "CONTENT_LENGTH")?
            .and_then(|l| l.trim().parse::<usize>().ok())
            .unwrap_or(0);
        // Never read more than one byte past the limit: that is enough for the engine to refuse
        // the body, and an oversized body is not pulled into memory.
        let want = length.min(eng.max_body + 1);
        let body: Option<Bound<'py, PyBytes>> = if want > 0 {
            match env.get_item("wsgi.input")? {
                Some(input) => Some(input.call_method1("read", (want,))?.downcast_into()?),
                None => None,
            }
        } else {
            None
        };
        let body_bytes: &[u8] = body.as_ref().map(|b| b.as_bytes()).unwrap_or(&[]);
        let mut headers: Vec<(&str, &str)> = Vec::with_capacity(2);
        if let Some(ct) = &content_type {
            headers.push(("Content-Type", ct.as_str()));
        }
        if let Some(a) = &authorization {
            headers.push(("Authorization", a.as_str()));
        }
        let ctx = PyCtx {
            source: Source::Wsgi {
                environ: environ.clone().unbind(),
                body: body.as_ref().map(|b| b.clone().unbind()),
                request_class,
                env_vars,
            },
            made: Default::default(),
        };
        let resp = eng.run(py, &method, &path, &query, &headers, body_bytes, &ctx);
        let hs = PyList::empty(py);
        for (k, v) in &resp.headers {
            hs.append((k.as_ref(), v.as_str()))?;
        }
        start_response.call1((status_line(resp.status), hs))?;
        PyList::new(py, [PyBytes::new(py, resp.body.as_bytes())])
    }
}
