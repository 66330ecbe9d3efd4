//! The core's storage backends (memory, SQLite, Redis), exposed to Python.
//! `oauth2.store.memory.ClientStore`/`TokenStore` and `oauth2.store.native.*` subclass
//! [`NativeStore`]: when an engine is built on them it uses the backend's Rust stores directly,
//! so a request never calls into Python for storage. The `_`-methods here back the predecessor's
//! Python methods (`add_client`, `save_token`, `fetch_by_code`, ...); records cross in the
//! core's serde form: saved ones as plain dicts where they can (converted without JSON, which
//! took most of a save), fetched ones as JSON, which the Python side turns into
//! `oauth2.datatype` objects. A saved token whose fields are all plain is read straight from
//! its object instead ([`plain_token`]), without the dict.

use oauth2_engine::store::{open, Backend, BackendConfig};
use oauth2_engine::{
    AccessToken, AuthorizationCode, Client, Ctx, GrantType, Lookup, ResponseType, Storage,
};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyInt, PyList, PyString, PyTuple};
use serde_json::Value;

#[pyclass(subclass, frozen, module = "oauth2._engine")]
pub struct NativeStore {
    pub(crate) backend: Backend,
    /// The backend's three stores (`backend.storage()`, made once).
    pub(crate) storage: Storage,
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

/// A record the Python methods hand over: the dict `_support`'s `*_to_core` made, converted
/// without JSON, or JSON text. `None` for a dict holding values that only `json.dumps` knows how
/// to write (a subclass, a non-string key, ...): the caller then sends its JSON instead, so such
/// values keep `json.dumps`'s rules and errors.
fn record<T: serde::de::DeserializeOwned>(obj: &Bound<'_, PyAny>) -> PyResult<Option<T>> {
    if let Ok(text) = obj.downcast::<pyo3::types::PyString>() {
        return serde_json::from_str(&text.to_cow()?)
            .map(Some)
            .map_err(value_err);
    }
    match crate::host::py_to_value(obj, 0) {
        Some(v) => serde_json::from_value(v).map(Some).map_err(value_err),
        None => Ok(None),
    }
}

/// `t` (an `oauth2.datatype.AccessToken`, or any object with its attributes) as the core's
/// token, by the rules of `_support.token_to_core`, when every field has the plain type those
/// rules pass through unchanged: exact str, exact int, None, a list or tuple of str, and values
/// [`crate::host::py_to_value`] takes. `None` for anything else, a missing attribute included:
/// the caller then takes that general path, with its conversions and its errors.
fn plain_token<'py>(t: &Bound<'py, PyAny>) -> Option<AccessToken> {
    fn text(v: &Bound<'_, PyAny>) -> Option<String> {
        Some(
            v.downcast_exact::<PyString>()
                .ok()?
                .to_cow()
                .ok()?
                .into_owned(),
        )
    }
    fn int(v: &Bound<'_, PyAny>) -> Option<i64> {
        v.downcast_exact::<PyInt>().ok()?.extract().ok()
    }
    /// `None` stays `None`; anything else must read as `read` says (else the general path).
    fn optional<T>(
        v: Bound<'_, PyAny>,
        read: fn(&Bound<'_, PyAny>) -> Option<T>,
    ) -> Option<Option<T>> {
        if v.is_none() {
            Some(None)
        } else {
            read(&v).map(Some)
        }
    }
    let py = t.py();
    // Interned names: a name made afresh would be allocated, decoded and hashed on every call.
    let attr = |name: &Bound<'py, PyString>| t.getattr(name).ok();
    let token = text(&attr(intern!(py, "token"))?)?;
    let grant_type = GrantType::parse(&text(&attr(intern!(py, "grant_type"))?)?)?;
    // list(t.scopes or [])
    let scopes = attr(intern!(py, "scopes"))?;
    let scopes = if scopes.is_none() {
        Vec::new()
    } else if let Ok(list) = scopes.downcast_exact::<PyList>() {
        list.iter().map(|s| text(&s)).collect::<Option<_>>()?
    } else {
        let tuple = scopes.downcast_exact::<PyTuple>().ok()?;
        tuple.iter().map(|s| text(&s)).collect::<Option<_>>()?
    };
    let user_id = match crate::host::py_to_value(&attr(intern!(py, "user_id"))?, 0)? {
        Value::Null => None,
        v => Some(v),
    };
    // int(refresh_expires_at) if refresh_expires_at else None: python-oauth2 stored 0 for
    // "no expiry".
    let refresh_expires_at =
        optional(attr(intern!(py, "refresh_expires_at"))?, int)?.filter(|&at| at != 0);
    // getattr(t, "_family", None) or "py-" + token
    let family = match attr(intern!(py, "_family")) {
        Some(f) => optional(f, text)?,
        None => None,
    };
    let family = family
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| ["py-", token.as_str()].concat());
    Some(AccessToken {
        client_id: text(&attr(intern!(py, "client_id"))?)?,
        grant_type,
        scopes,
        data: crate::host::py_to_value(&attr(intern!(py, "data"))?, 0)?,
        user_id,
        expires_at: optional(attr(intern!(py, "expires_at"))?, int)?,
        refresh_token: optional(attr(intern!(py, "refresh_token"))?, text)?,
        refresh_expires_at,
        family,
        token,
    })
}

impl NativeStore {
    /// Saves a token as one of the readers above gave it; false, having saved nothing, when
    /// the reader could not (the caller then sends it another way).
    fn save_token_read(&self, token: Option<AccessToken>) -> PyResult<bool> {
        let Some(t) = token else {
            return Ok(false);
        };
        self.storage
            .tokens
            .save_token(&t, Ctx::NONE)
            .map_err(host_err)?;
        Ok(true)
    }
}

#[pymethods]
impl NativeStore {
    /// A memory store, or the backend a `_backend` keyword names (the storage configuration of
    /// docs/storage.md, as JSON). Other arguments belong to Python subclasses.
    #[new]
    #[pyo3(signature = (*_args, _backend=None, **_kwargs))]
    fn new(
        _args: &Bound<'_, pyo3::types::PyTuple>,
        _backend: Option<&str>,
        _kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
    ) -> PyResult<Self> {
        let config: BackendConfig = match _backend {
            Some(j) => serde_json::from_str(j).map_err(value_err)?,
            None => BackendConfig::default(),
        };
        let backend = open(&config).map_err(value_err)?;
        let storage = backend.storage();
        Ok(NativeStore { backend, storage })
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
        self.backend
            .add_client(&Client {
                client_id,
                client_secret: secret.filter(|s| !s.is_empty()),
                client_secret_sha256: None,
                redirect_uris,
                grant_types,
                response_types,
            })
            .map_err(host_err)
    }

    fn _add_client_json(&self, json: &str) -> PyResult<()> {
        let c: Client = serde_json::from_str(json).map_err(value_err)?;
        self.backend.add_client(&c).map_err(host_err)
    }

    fn _remove_client(&self, client_id: &str) -> PyResult<bool> {
        self.backend.remove_client(client_id).map_err(host_err)
    }

    fn _fetch_client(&self, client_id: &str) -> PyResult<Option<String>> {
        match self
            .storage
            .clients
            .fetch_client(client_id, Ctx::NONE)
            .map_err(host_err)?
        {
            Some(c) => to_json(&*c).map(Some),
            None => Ok(None),
        }
    }

    /// Saves a code ([`record`]); false, having saved nothing, when it must come as JSON.
    fn _save_code(&self, code: &Bound<'_, PyAny>) -> PyResult<bool> {
        let Some(c) = record::<AuthorizationCode>(code)? else {
            return Ok(false);
        };
        self.storage
            .codes
            .save_code_owned(c, Ctx::NONE)
            .map_err(host_err)?;
        Ok(true)
    }

    /// Only the memory backend can look at a code without using it up.
    fn _peek_code(&self, code: &str) -> PyResult<Option<String>> {
        match &self.backend {
            Backend::Memory(m) => m.peek_code(code).map(|c| to_json(&c)).transpose(),
            _ => Err(pyo3::exceptions::PyNotImplementedError::new_err(
                "this backend cannot read a code without using it up",
            )),
        }
    }

    fn _consume_code(&self, code: &str) -> PyResult<Option<String>> {
        lookup_json(
            self.storage
                .codes
                .consume_code(code, Ctx::NONE)
                .map_err(host_err)?,
        )
    }

    /// Saves a token object read directly ([`plain_token`]); false, having saved nothing, when
    /// it must take the general path (`_support.token_to_core`, then `_save_token`).
    fn _save_token_object(&self, token: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.save_token_read(plain_token(token))
    }

    /// Saves a token ([`record`]); false, having saved nothing, when it must come as JSON.
    fn _save_token(&self, token: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.save_token_read(record::<AccessToken>(token)?)
    }

    fn _fetch_by_token(&self, token: &str) -> PyResult<Option<String>> {
        self.storage
            .tokens
            .fetch_by_access_token(token, Ctx::NONE)
            .map_err(host_err)?
            .map(|t| to_json(&t))
            .transpose()
    }

    fn _fetch_by_refresh_token(&self, rt: &str) -> PyResult<Option<String>> {
        lookup_json(
            self.storage
                .tokens
                .fetch_by_refresh_token(rt, Ctx::NONE)
                .map_err(host_err)?,
        )
    }

    fn _consume_refresh_token(&self, rt: &str) -> PyResult<Option<String>> {
        lookup_json(
            self.storage
                .tokens
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
        self.storage
            .tokens
            .fetch_existing_token_of_user(client_id, g, &user, Ctx::NONE)
            .map_err(host_err)?
            .map(|t| to_json(&t))
            .transpose()
    }

    fn _revoke_token(&self, token: &str) -> PyResult<()> {
        self.storage
            .tokens
            .revoke_token(token, Ctx::NONE)
            .map_err(host_err)
    }

    fn _purge_expired(&self, now: i64) -> PyResult<()> {
        self.backend.purge_expired(now).map_err(host_err)
    }
}
