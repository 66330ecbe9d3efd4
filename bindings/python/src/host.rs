//! User Python objects behind the core's traits.
//!
//! Every wrapper calls one helper of `oauth2._support` (the "support" object), which applies
//! python-oauth2's conventions (not-found exceptions, 2-tuple returns, adapter arity) and hands
//! back JSON in the core's record format. The engine runs with the GIL released, so each call
//! takes the GIL for its own duration only. A Python exception is logged on the
//! `oauth2.application` logger with its traceback and becomes a `HostError` (so the client sees
//! `server_error`, never a traceback).

use std::sync::{Arc, Mutex, OnceLock};

use oauth2_engine::client_auth::{CredentialSource, Credentials};
use oauth2_engine::form::Params;
use oauth2_engine::{
    AccessToken, Authentication, AuthorizationCode, Client, ClientStore, CodeStore, Consent, Ctx,
    ErrorCode, GrantType, HostError, Lookup, OAuthError, PasswordLogin, Request, Response,
    SiteAdapter, TokenGenerator, TokenKind, TokenStore,
};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};

use crate::{client, ffi, request};
use serde_json::Value;

/// Prefix of the message of a `HostError` that a Python exception caused; such errors were
/// logged (with their traceback) where they happened.
pub(crate) const PY_ERROR: &str = "python: ";

/// Where the Python request object comes from, built only when a callback needs it.
pub(crate) enum Source {
    /// A WSGI request: the environ (whose `wsgi.input` the engine already read, so the body is
    /// kept here), the environ values the request object is made of (as the WSGI glue read
    /// them), the `request_class` and the `env_vars` of the application.
    Wsgi {
        environ: Py<PyAny>,
        body: Option<Py<PyBytes>>,
        read: request::EnvRead,
        request_class: Py<PyAny>,
        env_vars: Py<PyAny>,
    },
    /// `Provider.dispatch` and Tornado: the caller made both already.
    Ready,
}

/// The per-request context the engine hands to every callback.
pub(crate) struct PyCtx {
    pub source: Source,
    /// `(request, environ)` as the site adapter and authentication source see them.
    pub made: OnceLock<(Py<PyAny>, Py<PyAny>)>,
}

impl PyCtx {
    pub fn ready(request: Py<PyAny>, environ: Py<PyAny>) -> Self {
        let made = OnceLock::new();
        let _ = made.set((request, environ));
        PyCtx {
            source: Source::Ready,
            made,
        }
    }

    /// Drops the references this context holds with the GIL held (a `Py` dropped alone asks
    /// first whether the thread holds it).
    pub fn release(self, py: Python<'_>) {
        if let Source::Wsgi {
            environ,
            body,
            read,
            request_class,
            env_vars,
        } = self.source
        {
            drop(environ.into_bound(py));
            drop(body.map(|b| b.into_bound(py)));
            read.release(py);
            drop(request_class.into_bound(py));
            drop(env_vars.into_bound(py));
        }
        if let Some((r, e)) = self.made.into_inner() {
            drop(r.into_bound(py));
            drop(e.into_bound(py));
        }
    }

    fn request_and_environ<'py>(
        &self,
        py: Python<'py>,
        support: &Bound<'py, PyAny>,
    ) -> Result<(Bound<'py, PyAny>, Bound<'py, PyAny>), HostError> {
        if let Some((r, e)) = self.made.get() {
            return Ok((r.bind(py).clone(), e.bind(py).clone()));
        }
        let Source::Wsgi {
            environ,
            body,
            read,
            request_class,
            env_vars,
        } = &self.source
        else {
            return Err(HostError::failed("no request object for this call"));
        };
        let (r, e) = made_for_wsgi(py, support, environ, body, read, request_class, env_vars)
            .map_err(|e| logged(py, support, e))?;
        // Another callback of the same request may have raced us here; either value is fine.
        let _ = self.made.set((r.clone().unbind(), e.clone().unbind()));
        Ok((r, e))
    }
}

/// The request object and the adapters' `environ` of a WSGI request: made natively for the
/// default request class, by `oauth2._support.make_wsgi_request` for any other (which hands it
/// the body on a fresh `wsgi.input`, as the engine already read the original).
fn made_for_wsgi<'py>(
    py: Python<'py>,
    support: &Bound<'py, PyAny>,
    environ: &Py<PyAny>,
    body: &Option<Py<PyBytes>>,
    read: &request::EnvRead,
    request_class: &Py<PyAny>,
    env_vars: &Py<PyAny>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let environ = environ.bind(py);
    let class = request_class.bind(py);
    if let (true, Ok(env)) = (
        request::is_default_request_class(class)?,
        environ.downcast::<PyDict>(),
    ) {
        let request = request::wsgi_request(
            class.downcast::<PyType>()?,
            env,
            read,
            body.as_ref().map(|b| b.bind(py)),
        )?;
        let picked = request::picked_environ(env, env_vars.bind(py))?;
        return Ok((request, picked.into_any()));
    }
    support
        .call_method1(
            intern!(py, "make_wsgi_request"),
            (
                environ,
                body.as_ref().map(|b| b.bind(py)),
                class,
                env_vars.bind(py),
            ),
        )?
        .extract()
}

/// Logs a Python exception on `oauth2.application` and turns it into a `HostError`.
pub(crate) fn logged(py: Python<'_>, support: &Bound<'_, PyAny>, err: PyErr) -> HostError {
    let text = err.to_string();
    if support
        .call_method1("log_exception", (err.into_value(py),))
        .is_err()
    {
        // Logging itself failed (a broken handler): nothing more can be done about it here.
        PyErr::take(py);
    }
    HostError::failed(format!("{PY_ERROR}{text}"))
}

fn ctx_of<'a>(ctx: Ctx<'a>) -> Option<&'a PyCtx> {
    ctx.get::<PyCtx>()
}

fn parse_json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> Result<T, HostError> {
    serde_json::from_str(s).map_err(|e| HostError::failed(format!("bad {what} from Python: {e}")))
}

/// One support helper call, returning `Option<String>` (JSON or `None`).
fn call_opt<'py, A>(
    py: Python<'py>,
    support: &Py<PyAny>,
    name: &str,
    args: A,
) -> Result<Option<String>, HostError>
where
    A: IntoPyObject<'py, Target = PyTuple>,
{
    let support = support.bind(py);
    let out = support
        .call_method1(name, args)
        .map_err(|e| logged(py, support, e))?;
    out.extract::<Option<String>>()
        .map_err(|e| logged(py, support, e))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, HostError> {
    serde_json::to_string(v).map_err(|e| HostError::failed(e.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Stores

/// A Python object implementing python-oauth2's store interfaces (any of the three).
pub(crate) struct PyStore {
    pub support: Py<PyAny>,
    pub store: Py<PyAny>,
    /// Makes "fetch then delete" (the 1.x interface has no atomic take) one step for every
    /// thread of this process. Waited for only while the GIL is released, so it cannot deadlock.
    pub take: Mutex<()>,
}

impl PyStore {
    pub fn new(support: Py<PyAny>, store: Py<PyAny>) -> Self {
        PyStore {
            support,
            store,
            take: Mutex::new(()),
        }
    }

    fn call(&self, name: &str, arg: &str) -> Result<Option<String>, HostError> {
        Python::with_gil(|py| call_opt(py, &self.support, name, (self.store.bind(py), arg)))
    }

    fn take<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
        arg: &str,
    ) -> Result<Lookup<T>, HostError> {
        // The lock is waited for with the GIL released (the engine may hold it: it keeps the GIL
        // unless a store waits on I/O), since its holder needs the GIL to finish.
        let found = Python::with_gil(|py| {
            py.allow_threads(|| {
                let _guard = self.take.lock().unwrap_or_else(|p| p.into_inner());
                self.call(name, arg)
            })
        })?;
        Ok(match found {
            Some(j) => Lookup::Found(parse_json(&j, "record")?),
            None => Lookup::Missing,
        })
    }
}

impl ClientStore for PyStore {
    fn fetch_client(&self, client_id: &str, _: Ctx<'_>) -> Result<Option<Arc<Client>>, HostError> {
        self.call("client_fetch", client_id)?
            .map(|j| parse_json::<Client>(&j, "client").map(Arc::new))
            .transpose()
    }
}

impl CodeStore for PyStore {
    fn save_code(&self, code: &AuthorizationCode, _: Ctx<'_>) -> Result<(), HostError> {
        self.call("code_save", &to_json(code)?).map(|_| ())
    }

    fn consume_code(&self, code: &str, _: Ctx<'_>) -> Result<Lookup<AuthorizationCode>, HostError> {
        self.take("code_consume", code)
    }
}

impl TokenStore for PyStore {
    fn save_token(&self, token: &AccessToken, _: Ctx<'_>) -> Result<(), HostError> {
        self.call("token_save", &to_json(token)?).map(|_| ())
    }

    fn fetch_by_access_token(
        &self,
        token: &str,
        _: Ctx<'_>,
    ) -> Result<Option<AccessToken>, HostError> {
        self.call("token_fetch_access", token)?
            .map(|j| parse_json(&j, "token"))
            .transpose()
    }

    fn fetch_by_refresh_token(
        &self,
        rt: &str,
        _: Ctx<'_>,
    ) -> Result<Lookup<AccessToken>, HostError> {
        Ok(match self.call("token_fetch_refresh", rt)? {
            Some(j) => Lookup::Found(parse_json(&j, "token")?),
            None => Lookup::Missing,
        })
    }

    fn consume_refresh_token(
        &self,
        rt: &str,
        _: Ctx<'_>,
    ) -> Result<Lookup<AccessToken>, HostError> {
        self.take("token_consume_refresh", rt)
    }

    fn fetch_existing_token_of_user(
        &self,
        client_id: &str,
        grant_type: GrantType,
        user_id: &Value,
        _: Ctx<'_>,
    ) -> Result<Option<AccessToken>, HostError> {
        Python::with_gil(|py| {
            // The user id as `json.loads` would give it, without the text in between.
            let user =
                value_to_py(py, user_id).map_err(|e| logged(py, self.support.bind(py), e))?;
            call_opt(
                py,
                &self.support,
                "token_existing",
                (self.store.bind(py), client_id, grant_type.as_str(), user),
            )
        })?
        .map(|j| parse_json(&j, "token"))
        .transpose()
    }

    fn revoke_token(&self, token: &str, _: Ctx<'_>) -> Result<(), HostError> {
        self.call("token_revoke", token).map(|_| ())
    }

    fn revoke_family(&self, family: &str, _: Ctx<'_>) -> Result<(), HostError> {
        // python-oauth2's store interface cannot list a grant's tokens; stores that can offer
        // `revoke_family(family)` and the support helper calls it.
        self.call("token_revoke_family", family).map(|_| ())
    }
}

// ---------------------------------------------------------------------------------------------
// Site adapters

/// A site adapter object (1.x per-grant adapters, or the 0.x `oauth2.web.SiteAdapter`).
pub(crate) struct PySite {
    pub support: Py<PyAny>,
    pub adapter: Py<PyAny>,
    /// `provider.response_class`, instantiated for `render_auth_page`.
    pub response_class: Py<PyAny>,
    /// How many positional arguments the adapter's `authenticate` takes (`None`: any number),
    /// for the class it was worked out for (`oauth2._support._arity`, once per class).
    pub arity: Mutex<Option<(Py<PyType>, Option<usize>)>>,
}

/// The client of a consent as the positional pieces of `oauth2.datatype.Client`, handed to
/// Python as Python objects (a JSON round trip per callback cost a quarter of the password
/// grant's time).
type ClientArgs<'a> = (
    &'a str,
    Option<&'a str>,
    &'a [String],
    Option<Vec<&'static str>>,
    Option<Vec<&'static str>>,
);

fn client_args(c: &Client) -> ClientArgs<'_> {
    (
        &c.client_id,
        c.client_secret.as_deref(),
        &c.redirect_uris,
        c.grant_types
            .as_ref()
            .map(|g| g.iter().map(|t| t.as_str()).collect()),
        c.response_types
            .as_ref()
            .map(|r| r.iter().map(|t| t.as_str()).collect()),
    )
}

/// The Python object `json.loads` makes of a JSON value.
fn value_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(value_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, item) in map {
                dict.set_item(k, value_to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// Deeper than this, a value takes the JSON path (whose parser has its own nesting limit), so
/// a cyclic or absurdly deep structure fails exactly as it always did.
const MAX_DEPTH: usize = 64;

/// The JSON value of a Python object made of exact dicts (str keys), lists, tuples, str, int,
/// float, bool and None, or `None` for anything else: subclasses, other key types, non-finite
/// floats and integers beyond 64 bits are left to `json.dumps`, whose rules they follow.
pub(crate) fn py_to_value(obj: &Bound<'_, PyAny>, depth: usize) -> Option<Value> {
    if obj.is_none() {
        return Some(Value::Null);
    }
    if depth > MAX_DEPTH {
        return None;
    }
    if obj.is_exact_instance_of::<PyString>() {
        let s = obj.downcast::<PyString>().ok()?;
        return crate::ffi::utf8(s).map(|t| Value::String(t.to_owned()));
    }
    if obj.is_exact_instance_of::<PyBool>() {
        return Some(Value::Bool(obj.is_truthy().ok()?));
    }
    if obj.is_exact_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Some(Value::from(i));
        }
        return obj.extract::<u64>().ok().map(Value::from);
    }
    if obj.is_exact_instance_of::<PyFloat>() {
        let f = obj.extract::<f64>().ok()?;
        return serde_json::Number::from_f64(f).map(Value::Number);
    }
    if obj.is_exact_instance_of::<PyDict>() {
        let d = obj.downcast::<PyDict>().ok()?;
        let mut map = serde_json::Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            if !k.is_exact_instance_of::<PyString>() {
                return None;
            }
            let key = crate::ffi::utf8(k.downcast::<PyString>().ok()?)?.to_owned();
            map.insert(key, py_to_value(&v, depth + 1)?);
        }
        return Some(Value::Object(map));
    }
    // json.dumps writes lists and tuples alike, as arrays.
    if obj.is_exact_instance_of::<PyList>() || obj.is_exact_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for v in obj.try_iter().ok()? {
            out.push(py_to_value(&v.ok()?, depth + 1)?);
        }
        return Some(Value::Array(out));
    }
    None
}

/// An adapter's value on its way to the engine: converted directly, or the JSON text
/// `json.dumps` made of it (parsed once the GIL is released).
enum Converted {
    Value(Value),
    Json(String),
}

fn convert(support: &Bound<'_, PyAny>, obj: &Bound<'_, PyAny>) -> PyResult<Converted> {
    match py_to_value(obj, 0) {
        Some(v) => Ok(Converted::Value(v)),
        // `json.dumps` raises for what JSON cannot hold; that is logged as a user error.
        None => Ok(Converted::Json(
            support
                .call_method1(intern!(support.py(), "to_json"), (obj,))?
                .extract::<String>()?,
        )),
    }
}

fn converted(c: Converted, what: &str) -> Result<Value, HostError> {
    match c {
        Converted::Value(v) => Ok(v),
        Converted::Json(j) => parse_json(&j, what),
    }
}

/// An adapter's answer as python-oauth2 reads it: a pair is `(data, user_id)`, anything else
/// is `data` without a user.
fn authenticated<'py>(
    support: &Bound<'py, PyAny>,
    out: Bound<'py, PyAny>,
) -> PyResult<(Converted, Converted)> {
    let py = out.py();
    let pair = if out.is_exact_instance_of::<PyTuple>() {
        let t = out.downcast::<PyTuple>()?;
        (t.len() == 2).then(|| t.clone())
    } else if out.is_instance_of::<PyTuple>() && out.len()? == 2 {
        // A tuple subclass is read through its own iteration, as `tuple(result)` reads it.
        Some(
            py.get_type::<PyTuple>()
                .call1((&out,))?
                .downcast_into::<PyTuple>()?,
        )
    } else {
        None
    };
    match pair {
        Some(t) => {
            let (data, user) = (t.get_item(0)?, t.get_item(1)?);
            Ok((convert(support, &data)?, convert(support, &user)?))
        }
        None => Ok((convert(support, &out)?, Converted::Value(Value::Null))),
    }
}

fn authentication(out: Option<(Converted, Converted)>) -> Result<Authentication, HostError> {
    Ok(match out {
        None => Authentication::NotAuthenticated,
        Some((data, user)) => {
            let user = converted(user, "user_id")?;
            Authentication::Authenticated {
                data: converted(data, "data")?,
                user_id: (!user.is_null()).then_some(user),
            }
        }
    })
}

impl PySite {
    fn with_request<R>(
        &self,
        ctx: Ctx<'_>,
        f: impl for<'py> FnOnce(
            Python<'py>,
            &Bound<'py, PyAny>,
            Bound<'py, PyAny>,
            Bound<'py, PyAny>,
        ) -> PyResult<R>,
    ) -> Result<R, HostError> {
        let pctx = ctx_of(ctx).ok_or_else(|| HostError::failed("no Python request context"))?;
        Python::with_gil(|py| {
            let support = self.support.bind(py);
            let (request, environ) = pctx.request_and_environ(py, support)?;
            f(py, support, request, environ).map_err(|e| logged(py, support, e))
        })
    }

    /// `oauth2._support._arity(adapter, "authenticate")`, remembered for the adapter's class.
    fn authenticate_arity(
        &self,
        support: &Bound<'_, PyAny>,
        adapter: &Bound<'_, PyAny>,
    ) -> PyResult<Option<usize>> {
        let py = adapter.py();
        let class = adapter.get_type();
        {
            let cached = self.arity.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((c, n)) = cached.as_ref() {
                if c.bind(py).is(&class) {
                    return Ok(*n);
                }
            }
        }
        let n: Option<usize> = support
            .call_method1(
                intern!(py, "_arity"),
                (adapter, intern!(py, "authenticate")),
            )?
            .extract()?;
        *self.arity.lock().unwrap_or_else(|p| p.into_inner()) = Some((class.unbind(), n));
        Ok(n)
    }

    /// `adapter.authenticate(request, environ, scopes, client)` (as many of them as it takes,
    /// the ones it does not take not made): `None` when it raised `UserNotAuthenticated`.
    #[allow(clippy::too_many_arguments)]
    fn call_authenticate<'py>(
        &self,
        support: &Bound<'py, PyAny>,
        request: Bound<'py, PyAny>,
        environ: Bound<'py, PyAny>,
        scopes: &[String],
        client: &Client,
        redirect_uri: Option<&str>,
    ) -> PyResult<Option<(Converted, Converted)>> {
        let py = support.py();
        let adapter = self.adapter.bind(py);
        let n = self
            .authenticate_arity(support, adapter)?
            .map_or(4, |n| n.min(4));
        let scopes = match n {
            3.. => PyList::new(py, scopes)?.into_any(),
            _ => py.None().into_bound(py),
        };
        let client = match n {
            4 => client::client(py, client, redirect_uri)?,
            _ => py.None().into_bound(py),
        };
        let all = [&request, &environ, &scopes, &client];
        match ffi::call_method(adapter, intern!(py, "authenticate"), &all[..n]) {
            Ok(out) => authenticated(support, out).map(Some),
            Err(e) if e.is_instance(py, request::user_not_authenticated(py)?) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl SiteAdapter for PySite {
    fn user_has_denied_access(&self, consent: &Consent<'_>) -> Result<bool, HostError> {
        self.with_request(consent.request.context, |py, _, req, _| {
            let denied = ffi::call_method(
                self.adapter.bind(py),
                intern!(py, "user_has_denied_access"),
                &[&req],
            )?;
            // Only `True` denies, as python-oauth2 tested it.
            Ok(denied.is(&*PyBool::new(py, true)))
        })
    }

    fn authenticate(&self, consent: &Consent<'_>) -> Result<Authentication, HostError> {
        let out = self.with_request(consent.request.context, |_, s, req, env| {
            let uri = Some(consent.redirect_uri);
            self.call_authenticate(s, req, env, consent.scopes, consent.client, uri)
        })?;
        authentication(out)
    }

    fn render_auth_page(&self, consent: &Consent<'_>) -> Result<Response, HostError> {
        let (status, headers, body) =
            self.with_request(consent.request.context, |py, s, req, env| {
                s.call_method1(
                    intern!(py, "site_render"),
                    (
                        self.adapter.bind(py),
                        req,
                        env,
                        client_args(consent.client),
                        consent.redirect_uri,
                        consent.scopes,
                        self.response_class.bind(py),
                    ),
                )?
                .extract::<(u16, Vec<(String, String)>, String)>()
            })?;
        let mut r = Response::new(status);
        for (k, v) in headers {
            r.set_header(k, v);
        }
        r.body = body;
        Ok(r)
    }

    fn authenticate_password(
        &self,
        login: &PasswordLogin<'_>,
    ) -> Result<Authentication, HostError> {
        let out = self.with_request(login.request.context, |_, s, req, env| {
            self.call_authenticate(s, req, env, login.scopes, login.client, None)
        })?;
        authentication(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Token generators and client-authentication sources

/// A `TokenGenerator` subclass whose `generate()` is the user's own.
pub(crate) struct PyGenerator {
    pub support: Py<PyAny>,
    pub generator: Py<PyAny>,
}

impl TokenGenerator for PyGenerator {
    fn generate(&self, _kind: TokenKind) -> Result<String, HostError> {
        Python::with_gil(|py| {
            let support = self.support.bind(py);
            support
                .call_method1("generate", (self.generator.bind(py),))
                .and_then(|t| t.extract::<String>())
                .map_err(|e| logged(py, support, e))
        })
    }
}

/// A custom `client_authentication_source`: a callable taking `request=` and returning
/// `(client_id, client_secret)`, or raising `OAuthInvalidError`.
pub(crate) struct PyAuthSource {
    pub support: Py<PyAny>,
    pub source: Py<PyAny>,
}

fn error_code(s: &str) -> ErrorCode {
    match s {
        "invalid_client" => ErrorCode::InvalidClient,
        "invalid_grant" => ErrorCode::InvalidGrant,
        "unauthorized_client" => ErrorCode::UnauthorizedClient,
        "invalid_scope" => ErrorCode::InvalidScope,
        "access_denied" => ErrorCode::AccessDenied,
        "server_error" => ErrorCode::ServerError,
        "temporarily_unavailable" => ErrorCode::TemporarilyUnavailable,
        _ => ErrorCode::InvalidRequest,
    }
}

impl CredentialSource for PyAuthSource {
    fn credentials(
        &self,
        request: &Request<'_>,
        _form: &Params<'_>,
    ) -> Result<Credentials, OAuthError> {
        let pctx = ctx_of(request.context).ok_or_else(OAuthError::server_error)?;
        let out = Python::with_gil(|py| {
            let support = self.support.bind(py);
            let (req, _env) = pctx.request_and_environ(py, support)?;
            support
                .call_method1("credentials", (self.source.bind(py), req))
                .and_then(|t| t.extract::<(bool, String, Option<String>)>())
                .map_err(|e| logged(py, support, e))
        });
        match out {
            Ok((true, client_id, secret)) => Ok(Credentials {
                client_id,
                secret: secret.filter(|s| !s.is_empty()),
                via_basic: false,
            }),
            Ok((false, code, description)) => Err(OAuthError::new(
                error_code(&code),
                description.unwrap_or_default(),
            )),
            Err(e) => Err(OAuthError::from(e)),
        }
    }
}
