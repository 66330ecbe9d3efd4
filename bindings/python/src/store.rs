//! The core's in-memory store, exposed to Python. `oauth2.store.memory.ClientStore` and
//! `TokenStore` subclass it: when an engine is built on them it uses the `Arc<MemoryStore>` directly,
//! so a request never calls into Python for storage. The `_`-methods here back the predecessor's
//! Python methods (`add_client`, `save_token`, `fetch_by_code`, ...); records cross as JSON in
//! the core's serde form, which the Python side turns into `oauth2.datatype` objects.

use std::sync::Arc;

use oauth2_engine::{
    AccessToken, AuthorizationCode, Client, ClientStore, CodeStore, Ctx, GrantType, Lookup,
    MemoryStore, ResponseType, TokenStore,
};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

#[pyclass(subclass, frozen, module = "oauth2._engine")]
pub struct NativeStore {
    pub(crate) inner: Arc<MemoryStore>,
}

fn value_err(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn host_err(e: oauth2_engine::HostError) -> PyErr {
    PyRuntimeError::new_err(e.message)
}

fn to_json<T: serde::Serialize>(v: &T) -> PyResult<String> {
    serde_json::to_string(v).map_err(value_err)
}

fn lookup_json<T: serde::Serialize>(l: Lookup<T>) -> PyResult<Option<String>> {
    match l {
        Lookup::Found(t) => to_json(&t).map(Some),
        _ => Ok(None),
    }
}

#[pymethods]
impl NativeStore {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(
        _args: &Bound<'_, pyo3::types::PyTuple>,
        _kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
    ) -> Self {
        NativeStore {
            inner: Arc::new(MemoryStore::new()),
        }
    }

    #[pyo3(signature = (client_id, secret, redirect_uris, grant_types=None, response_types=None))]
    fn _add_client(
        &self,
        client_id: String,
        secret: Option<String>,
        redirect_uris: Vec<String>,
        grant_types: Option<Vec<String>>,
        response_types: Option<Vec<String>>,
    ) -> PyResult<()> {
        let grant_types = grant_types
            .map(|g| {
                g.iter()
                    .map(|s| {
                        GrantType::parse(s)
                            .ok_or_else(|| value_err(format!("unknown grant type {s:?}")))
                    })
                    .collect::<PyResult<Vec<_>>>()
            })
            .transpose()?;
        let response_types = response_types
            .map(|r| {
                r.iter()
                    .map(|s| {
                        ResponseType::parse(s)
                            .ok_or_else(|| value_err(format!("unknown response type {s:?}")))
                    })
                    .collect::<PyResult<Vec<_>>>()
            })
            .transpose()?;
        self.inner.add_client(Client {
            client_id,
            client_secret: secret.filter(|s| !s.is_empty()),
            client_secret_sha256: None,
            redirect_uris,
            grant_types,
            response_types,
        });
        Ok(())
    }

    fn _add_client_json(&self, json: &str) -> PyResult<()> {
        let c: Client = serde_json::from_str(json).map_err(value_err)?;
        self.inner.add_client(c);
        Ok(())
    }

    fn _remove_client(&self, client_id: &str) -> bool {
        self.inner.remove_client(client_id)
    }

    fn _fetch_client(&self, client_id: &str) -> PyResult<Option<String>> {
        match self
            .inner
            .fetch_client(client_id, Ctx::NONE)
            .map_err(host_err)?
        {
            Some(c) => to_json(&*c).map(Some),
            None => Ok(None),
        }
    }

    fn _save_code(&self, json: &str) -> PyResult<()> {
        let c: AuthorizationCode = serde_json::from_str(json).map_err(value_err)?;
        self.inner.save_code(&c, Ctx::NONE).map_err(host_err)
    }

    fn _peek_code(&self, code: &str) -> PyResult<Option<String>> {
        self.inner.peek_code(code).map(|c| to_json(&c)).transpose()
    }

    fn _consume_code(&self, code: &str) -> PyResult<Option<String>> {
        lookup_json(self.inner.consume_code(code, Ctx::NONE).map_err(host_err)?)
    }

    fn _save_token(&self, json: &str) -> PyResult<()> {
        let t: AccessToken = serde_json::from_str(json).map_err(value_err)?;
        self.inner.save_token(&t, Ctx::NONE).map_err(host_err)
    }

    fn _fetch_by_token(&self, token: &str) -> PyResult<Option<String>> {
        self.inner
            .fetch_by_access_token(token, Ctx::NONE)
            .map_err(host_err)?
            .map(|t| to_json(&t))
            .transpose()
    }

    fn _fetch_by_refresh_token(&self, rt: &str) -> PyResult<Option<String>> {
        lookup_json(
            self.inner
                .fetch_by_refresh_token(rt, Ctx::NONE)
                .map_err(host_err)?,
        )
    }

    fn _consume_refresh_token(&self, rt: &str) -> PyResult<Option<String>> {
        lookup_json(
            self.inner
                .consume_refresh_token(rt, Ctx::NONE)
                .map_err(host_err)?,
        )
    }

    fn _fetch_existing_token_of_user(
        &self,
        client_id: &str,
        grant_type: &str,
        user_id_json: &str,
    ) -> PyResult<Option<String>> {
        let g = GrantType::parse(grant_type)
            .ok_or_else(|| value_err(format!("unknown grant type {grant_type:?}")))?;
        let user: serde_json::Value = serde_json::from_str(user_id_json).map_err(value_err)?;
        self.inner
            .fetch_existing_token_of_user(client_id, g, &user, Ctx::NONE)
            .map_err(host_err)?
            .map(|t| to_json(&t))
            .transpose()
    }

    fn _revoke_token(&self, token: &str) -> PyResult<()> {
        self.inner.revoke_token(token, Ctx::NONE).map_err(host_err)
    }

    fn _token_count(&self) -> usize {
        self.inner.token_count()
    }

    fn _purge_expired(&self, now: i64) {
        self.inner.purge_expired(now)
    }
}
