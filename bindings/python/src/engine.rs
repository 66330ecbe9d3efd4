//! `oauth2._engine.Engine`: one core engine built from the Python package's configuration.

use std::sync::Arc;

use oauth2_engine::{
    ClientAuthentication, Config, Ctx, Engine, GrantType, Request, Response, SiteAdapter, Storage,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::host::{PyAuthSource, PyCtx, PyGenerator, PySite, PyStore, PY_ERROR};
use crate::store::NativeStore;
use oauth2_engine::store::Backend;

#[pyclass(frozen, module = "oauth2._engine", name = "Engine")]
pub struct PyEngine {
    pub(crate) engine: Engine,
    /// The configuration generation this engine was built at.
    #[pyo3(get)]
    pub(crate) generation: u64,
    pub(crate) authorize_path: String,
    pub(crate) token_path: String,
    pub(crate) max_body: usize,
    /// Whether requests run with the GIL released: only when a native store can wait (SQLite,
    /// Redis). The memory store's work is a few µs, less than handing the GIL to another thread
    /// and taking it back costs (measured: two threads served half the requests one thread did
    /// when the memory engine released it); Python stores need the GIL anyway.
    pub(crate) release_gil: bool,
}

/// Whether the store in `slot` is a native backend that can wait on I/O or on another process.
fn slot_waits(slot: &Bound<'_, PyTuple>) -> PyResult<bool> {
    let is_native: bool = slot.get_item(1)?.extract()?;
    if !is_native {
        return Ok(false);
    }
    let obj = slot.get_item(0)?;
    let store = obj.downcast::<NativeStore>()?;
    Ok(!matches!(store.get().backend, Backend::Memory(_)))
}

/// A store slot: `(object, is_native)`. A native slot contributes its backend's store.
fn store_of<T: ?Sized>(
    py: Python<'_>,
    support: &Py<PyAny>,
    slot: &Bound<'_, PyTuple>,
    native: impl Fn(&Storage) -> Arc<T>,
    python: impl Fn(PyStore) -> Arc<T>,
) -> PyResult<Arc<T>> {
    let obj = slot.get_item(0)?;
    let is_native: bool = slot.get_item(1)?.extract()?;
    if is_native {
        let n = obj.downcast::<NativeStore>()?;
        Ok(native(&n.get().storage))
    } else {
        Ok(python(PyStore::new(support.clone_ref(py), obj.unbind())))
    }
}

impl PyEngine {
    /// Runs one request, with the GIL released when a store can wait (callbacks then take it
    /// back as they need it).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run(
        &self,
        py: Python<'_>,
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        ctx: &PyCtx,
    ) -> Response {
        let run = || {
            let req = Request {
                method,
                path,
                query,
                headers,
                body,
                context: Ctx(Some(ctx)),
            };
            self.engine.handle(&req)
        };
        if self.release_gil {
            py.allow_threads(run)
        } else {
            run()
        }
    }
}

#[pymethods]
impl PyEngine {
    /// Builds an engine. `config_json` is the core's `Config`; each store slot is
    /// `(object, is_native)`; `adapters` maps grant types to site-adapter objects;
    /// `generator`/`auth_source` are `None` for the built-in ones named in the configuration.
    #[new]
    #[pyo3(signature = (config_json, support, client_store, code_store, token_store, adapters, response_class, generator=None, auth_source=None, generation=0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        config_json: &str,
        support: Py<PyAny>,
        client_store: &Bound<'_, PyTuple>,
        code_store: &Bound<'_, PyTuple>,
        token_store: &Bound<'_, PyTuple>,
        adapters: &Bound<'_, PyDict>,
        response_class: Py<PyAny>,
        generator: Option<Py<PyAny>>,
        auth_source: Option<Py<PyAny>>,
        generation: u64,
    ) -> PyResult<Self> {
        let mut config: Config = serde_json::from_str(config_json)
            .map_err(|e| PyValueError::new_err(format!("invalid engine configuration: {e}")))?;
        for (key, adapter) in adapters.iter() {
            let name: String = key.extract()?;
            let kind = GrantType::parse(&name)
                .ok_or_else(|| PyValueError::new_err(format!("unknown grant type {name:?}")))?;
            let site: Arc<dyn SiteAdapter> = Arc::new(PySite {
                support: support.clone_ref(py),
                adapter: adapter.unbind(),
                response_class: response_class.clone_ref(py),
                arity: Default::default(),
            });
            for g in config.grants.iter_mut().filter(|g| g.grant == Some(kind)) {
                g.site_adapter = Some(site.clone());
            }
        }
        let storage = Storage {
            clients: store_of(
                py,
                &support,
                client_store,
                |s| s.clients.clone(),
                |p| Arc::new(p),
            )?,
            codes: store_of(
                py,
                &support,
                code_store,
                |s| s.codes.clone(),
                |p| Arc::new(p),
            )?,
            tokens: store_of(
                py,
                &support,
                token_store,
                |s| s.tokens.clone(),
                |p| Arc::new(p),
            )?,
        };
        let release_gil =
            slot_waits(client_store)? || slot_waits(code_store)? || slot_waits(token_store)?;
        let authorize_path = config.authorize_path.clone();
        let token_path = config.token_path.clone();
        let max_body = config.max_body_bytes;
        let hook_support = support.clone_ref(py);
        let mut b = Engine::builder(config)
            .storage(storage)
            .on_host_error(Arc::new(move |e| {
                // Python exceptions were logged with their traceback where they were raised.
                if !e.message.starts_with(PY_ERROR) {
                    Python::with_gil(|py| {
                        if hook_support
                            .bind(py)
                            .call_method1("log_message", (e.message.as_str(),))
                            .is_err()
                        {
                            PyErr::take(py);
                        }
                    });
                }
            }));
        if let Some(g) = generator {
            b = b.token_generator(Arc::new(PyGenerator {
                support: support.clone_ref(py),
                generator: g,
            }));
        }
        if let Some(s) = auth_source {
            b = b.client_authentication(ClientAuthentication::Custom(Arc::new(PyAuthSource {
                support: support.clone_ref(py),
                source: s,
            })));
        }
        let engine = b
            .build()
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(PyEngine {
            engine,
            generation,
            authorize_path,
            token_path,
            max_body,
            release_gil,
        })
    }

    /// Answers one request: `(status, [(name, value)], body)`. `request` and `environ` are what
    /// site adapters and authentication sources receive.
    #[allow(clippy::too_many_arguments)]
    fn handle(
        &self,
        py: Python<'_>,
        method: &str,
        path: &str,
        query: &str,
        headers: Vec<(String, String)>,
        body: &[u8],
        request: Py<PyAny>,
        environ: Py<PyAny>,
    ) -> (u16, Vec<(String, String)>, String) {
        let hs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let ctx = PyCtx::ready(request, environ);
        let r = self.run(py, method, path, query, &hs, body, &ctx);
        (
            r.status,
            r.headers
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            r.body,
        )
    }

    #[getter]
    fn authorize_path(&self) -> &str {
        &self.authorize_path
    }

    #[getter]
    fn token_path(&self) -> &str {
        &self.token_path
    }

    /// The live access token's record as JSON, or `None` (for resource servers).
    fn validate_access_token(&self, py: Python<'_>, token: &str) -> PyResult<Option<String>> {
        let validate = || self.engine.validate_access_token(token, Ctx::NONE);
        let found = if self.release_gil {
            py.allow_threads(validate)
        } else {
            validate()
        }
        .map_err(|e| PyValueError::new_err(e.message))?;
        Ok(found.and_then(|t| serde_json::to_string(&t).ok()))
    }
}
