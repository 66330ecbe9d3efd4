//! Host callbacks: the `o2e_callbacks` struct, the output sink, and the adapters that make the
//! callbacks a [`ClientStore`]/[`CodeStore`]/[`TokenStore`], a [`SiteAdapter`] and a
//! [`TokenGenerator`].
//!
//! Everything a callback writes is untrusted: it is checked for UTF-8, parsed as JSON into the
//! core's records, and any failure (non-zero return, nothing written, garbage, wrong shape)
//! becomes a [`HostError`], which the engine answers with `server_error` or
//! `temporarily_unavailable`.

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::wire::{write_request, HostResponse};
use super::{guard, o2e_status, CallCtx, Failure, O2E_CALLBACKS_ABI_VERSION, O2E_CB_OK};
use super::{O2E_CB_UNAVAILABLE, O2E_LOG_ERROR};
use crate::config::ConfigError;
use crate::error::HostError;
use crate::http::{Ctx, Response};
use crate::json::{write_string, WireStyle};
use crate::model::{AccessToken, AuthorizationCode, Client, GrantType, Lookup};
use crate::site::{Authentication, Consent, PasswordLogin, SiteAdapter};
use crate::store::{ClientStore, CodeStore, Storage, TokenStore};
use crate::token::{TokenGenerator, TokenKind};

/// Where a callback writes its output. Owned by the library; valid only until the callback
/// returns. Write with `o2e_sink_write` (several writes append).
pub struct o2e_sink {
    buf: Vec<u8>,
    overflow: bool,
}

/// The most a callback may write for one call.
const SINK_LIMIT: usize = 16 * 1024 * 1024;

/// Appends `len` bytes to a callback's output. `data` may be NULL when `len` is 0.
///
/// Returns `O2E_TOO_LARGE` once the output would exceed 16 MiB (the call then fails as a
/// callback failure), `O2E_NULL_ARGUMENT` for a NULL sink or data.
///
/// # Safety
/// `sink` must be the sink passed to the currently running callback; `data` must point to `len`
/// readable bytes.
#[no_mangle]
pub unsafe extern "C" fn o2e_sink_write(
    sink: *mut o2e_sink,
    data: *const c_char,
    len: usize,
) -> o2e_status {
    guard("o2e_sink_write", || {
        if sink.is_null() {
            return Err(Failure::new(o2e_status::O2E_NULL_ARGUMENT, "sink is NULL"));
        }
        if len == 0 {
            return Ok(());
        }
        if data.is_null() {
            return Err(Failure::new(o2e_status::O2E_NULL_ARGUMENT, "data is NULL"));
        }
        let sink = &mut *sink;
        if sink.buf.len().saturating_add(len) > SINK_LIMIT {
            sink.overflow = true;
            return Err(Failure::new(
                o2e_status::O2E_TOO_LARGE,
                "callback output exceeds 16 MiB",
            ));
        }
        sink.buf
            .extend_from_slice(std::slice::from_raw_parts(data.cast::<u8>(), len));
        Ok(())
    })
}

/// The signature of every operation callback.
///
/// `userdata` is `o2e_callbacks.userdata`; `call_ctx` is the pointer given to
/// `o2e_engine_handle` for the request being served; `input`/`input_len` is the operation's input
/// (always followed by a NUL byte not counted in `input_len`); `out` receives the output through
/// `o2e_sink_write`. Return `O2E_CB_OK`, `O2E_CB_UNAVAILABLE`, or any other value for failure.
pub type o2e_callback = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        call_ctx: *mut c_void,
        input: *const c_char,
        input_len: usize,
        out: *mut o2e_sink,
    ) -> c_int,
>;

/// Receives every failure a callback reported (for the host's logs; the client only sees
/// `server_error` or `temporarily_unavailable`). `message` is NUL-terminated.
pub type o2e_log_callback = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        call_ctx: *mut c_void,
        level: c_int,
        message: *const c_char,
        message_len: usize,
    ),
>;

/// Frees the host's userdata when the engine is freed.
pub type o2e_free_callback = Option<unsafe extern "C" fn(userdata: *mut c_void)>;

/// The host's callbacks. Set `abi_version` to `O2E_CALLBACKS_ABI_VERSION`; leave every operation
/// you do not implement NULL (zero-initialise the struct). docs/c-api.md gives each operation's
/// input and output JSON.
///
/// THREAD SAFETY: the engine calls these from whatever threads call `o2e_engine_handle`, so
/// callbacks may run concurrently, from many threads at once, with the same `userdata`. They must
/// be thread-safe, must not unwind (longjmp, C++ exceptions) through the library, and must not
/// call `o2e_engine_free` on the engine that calls them.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct o2e_callbacks {
    /// Must be `O2E_CALLBACKS_ABI_VERSION`.
    pub abi_version: u32,
    /// Passed as the first argument of every callback.
    pub userdata: *mut c_void,
    /// Called once with `userdata` by `o2e_engine_free`; may be NULL.
    pub free_userdata: o2e_free_callback,
    /// Storage (with `"storage": {"type": "callbacks"}`).
    pub fetch_client: o2e_callback,
    pub save_code: o2e_callback,
    pub consume_code: o2e_callback,
    pub save_token: o2e_callback,
    pub fetch_by_access_token: o2e_callback,
    pub fetch_by_refresh_token: o2e_callback,
    pub consume_refresh_token: o2e_callback,
    pub fetch_existing_token_of_user: o2e_callback,
    pub revoke_token: o2e_callback,
    pub revoke_family: o2e_callback,
    /// Site adapter (for authorization_code, implicit and password grants).
    pub user_has_denied_access: o2e_callback,
    pub authenticate: o2e_callback,
    pub render_auth_page: o2e_callback,
    pub authenticate_password: o2e_callback,
    /// Replaces the configured token format; may be NULL.
    pub generate_token: o2e_callback,
    /// Receives callback failures; may be NULL.
    pub log: o2e_log_callback,
}

thread_local! {
    /// The `call_ctx` of the request this thread is serving, for the callbacks the core calls
    /// without a [`Ctx`] (token generator, error hook).
    static CURRENT_CTX: Cell<*mut c_void> = const { Cell::new(std::ptr::null_mut()) };
}

/// Makes `ctx` the thread's current call context until the guard drops (nesting-safe).
pub(crate) struct CtxScope(*mut c_void);

impl CtxScope {
    pub(crate) fn enter(ctx: *mut c_void) -> CtxScope {
        CtxScope(CURRENT_CTX.with(|c| c.replace(ctx)))
    }
}

impl Drop for CtxScope {
    fn drop(&mut self) {
        CURRENT_CTX.with(|c| c.set(self.0));
    }
}

fn current_ctx() -> *mut c_void {
    CURRENT_CTX.with(|c| c.get())
}

/// The host's callbacks as the engine holds them: shared by the storage, site adapter and
/// generator adapters, and dropped (calling `free_userdata`) with the engine.
pub(crate) struct Host {
    cb: o2e_callbacks,
    /// Set once the engine is built: a failed `o2e_engine_new` leaves the userdata to the host.
    owns_userdata: AtomicBool,
}

// SAFETY: the callbacks struct holds plain function pointers and the host's userdata pointer.
// The header documents that callbacks run concurrently from many threads and must be
// thread-safe; the library itself never dereferences `userdata`.
unsafe impl Send for Host {}
unsafe impl Sync for Host {}

impl Drop for Host {
    fn drop(&mut self) {
        if self.owns_userdata.load(Ordering::Acquire) {
            if let Some(free) = self.cb.free_userdata {
                // SAFETY: the host gave us this function for exactly this pointer.
                unsafe { free(self.cb.userdata) };
            }
        }
    }
}

/// Copies the host's struct after checking its ABI version.
///
/// # Safety
/// `cb` must point to a valid `o2e_callbacks` (at least the fields of its `abi_version`).
pub(crate) unsafe fn read_callbacks(cb: *const o2e_callbacks) -> Result<Arc<Host>, Failure> {
    // Only the version is read first: a struct from a future, larger ABI is not copied blindly.
    let version = std::ptr::addr_of!((*cb).abi_version).read();
    if version != O2E_CALLBACKS_ABI_VERSION {
        return Err(Failure::new(
            o2e_status::O2E_ABI_MISMATCH,
            format!(
                "callbacks abi_version is {version}; this library understands {O2E_CALLBACKS_ABI_VERSION}"
            ),
        ));
    }
    Ok(Arc::new(Host {
        cb: *cb,
        owns_userdata: AtomicBool::new(false),
    }))
}

/// The host's storage callbacks as a Rust [`Storage`], without an engine around them: for Rust
/// code that drives a store written in C (the storage contract tests run this way) or builds its
/// own [`crate::Engine`] over one.
///
/// All ten storage callbacks must be set; the others (site adapter, generator, log) are ignored.
/// On success the returned storage owns `userdata`: `free_userdata` (if set) runs once, when the
/// last clone of the storage (its three `Arc`s, and any engine holding them) is dropped. On error
/// nothing is taken and `userdata` stays the caller's to free.
///
/// # Safety
/// The same promises as for `o2e_engine_new`: every set callback is a valid function that keeps
/// the contract of `docs/c-api.md`, is thread-safe (the storage is `Send + Sync` and may be
/// called from many threads at once) and never unwinds into Rust; `userdata` stays valid until
/// `free_userdata` is called (or forever, when it is NULL).
pub unsafe fn storage_from_callbacks(cb: &o2e_callbacks) -> Result<Storage, ConfigError> {
    let host = read_callbacks(cb).map_err(|f| ConfigError(f.1))?;
    let missing: Vec<&str> = host
        .storage_ops()
        .into_iter()
        .filter(|(_, f)| f.is_none())
        .map(|(name, _)| name)
        .collect();
    if !missing.is_empty() {
        // Dropping `host` here does not free the userdata: it was never taken.
        return Err(ConfigError(format!(
            "storage callbacks not set: {}",
            missing.join(", ")
        )));
    }
    host.take_ownership();
    Ok(Storage::from_backend(Arc::new(CallbackStore(host))))
}

/// The operations, by name (for messages and the docs).
#[derive(Clone, Copy)]
enum Op {
    FetchClient,
    SaveCode,
    ConsumeCode,
    SaveToken,
    FetchByAccess,
    FetchByRefresh,
    ConsumeRefresh,
    FetchExisting,
    RevokeToken,
    RevokeFamily,
    Denied,
    Authenticate,
    RenderPage,
    AuthenticatePassword,
    GenerateToken,
}

impl Host {
    pub(crate) fn take_ownership(&self) {
        self.owns_userdata.store(true, Ordering::Release);
    }

    fn fn_of(&self, op: Op) -> o2e_callback {
        let c = &self.cb;
        match op {
            Op::FetchClient => c.fetch_client,
            Op::SaveCode => c.save_code,
            Op::ConsumeCode => c.consume_code,
            Op::SaveToken => c.save_token,
            Op::FetchByAccess => c.fetch_by_access_token,
            Op::FetchByRefresh => c.fetch_by_refresh_token,
            Op::ConsumeRefresh => c.consume_refresh_token,
            Op::FetchExisting => c.fetch_existing_token_of_user,
            Op::RevokeToken => c.revoke_token,
            Op::RevokeFamily => c.revoke_family,
            Op::Denied => c.user_has_denied_access,
            Op::Authenticate => c.authenticate,
            Op::RenderPage => c.render_auth_page,
            Op::AuthenticatePassword => c.authenticate_password,
            Op::GenerateToken => c.generate_token,
        }
    }

    pub(crate) fn has_storage(&self) -> bool {
        self.storage_ops().iter().any(|(_, f)| f.is_some())
    }

    pub(crate) fn storage_ops(&self) -> [(&'static str, o2e_callback); 10] {
        let c = &self.cb;
        [
            ("fetch_client", c.fetch_client),
            ("save_code", c.save_code),
            ("consume_code", c.consume_code),
            ("save_token", c.save_token),
            ("fetch_by_access_token", c.fetch_by_access_token),
            ("fetch_by_refresh_token", c.fetch_by_refresh_token),
            ("consume_refresh_token", c.consume_refresh_token),
            (
                "fetch_existing_token_of_user",
                c.fetch_existing_token_of_user,
            ),
            ("revoke_token", c.revoke_token),
            ("revoke_family", c.revoke_family),
        ]
    }

    pub(crate) fn has_site(&self) -> bool {
        let c = &self.cb;
        c.user_has_denied_access.is_some()
            || c.authenticate.is_some()
            || c.render_auth_page.is_some()
            || c.authenticate_password.is_some()
    }

    pub(crate) fn has_authenticate(&self) -> bool {
        self.cb.authenticate.is_some()
    }

    pub(crate) fn has_authenticate_password(&self) -> bool {
        self.cb.authenticate_password.is_some()
    }

    pub(crate) fn has_generator(&self) -> bool {
        self.cb.generate_token.is_some()
    }

    pub(crate) fn has_log(&self) -> bool {
        self.cb.log.is_some()
    }

    /// Hands a callback failure to the host's `log` callback.
    pub(crate) fn log(&self, e: &HostError) {
        if let Some(log) = self.cb.log {
            let mut msg = e.message.clone().into_bytes();
            msg.push(0);
            // SAFETY: the host registered this function; the message outlives the call.
            unsafe {
                log(
                    self.cb.userdata,
                    current_ctx(),
                    O2E_LOG_ERROR,
                    msg.as_ptr().cast(),
                    msg.len() - 1,
                )
            };
        }
    }

    /// Calls one operation with `input` (NUL appended here) and returns what it wrote.
    fn call(&self, op: Op, ctx: *mut c_void, input: &[u8]) -> Result<Vec<u8>, HostError> {
        let name = op_name(op);
        let Some(f) = self.fn_of(op) else {
            return Err(HostError::failed(format!("callback {name} is not set")));
        };
        let mut owned = Vec::with_capacity(input.len() + 1);
        owned.extend_from_slice(input);
        owned.push(0);
        let mut sink = o2e_sink {
            buf: Vec::new(),
            overflow: false,
        };
        // SAFETY: the host registered `f`; the input and sink outlive the call.
        let rc = unsafe {
            f(
                self.cb.userdata,
                ctx,
                owned.as_ptr().cast(),
                input.len(),
                &mut sink,
            )
        };
        if rc != O2E_CB_OK {
            let detail = String::from_utf8_lossy(&sink.buf);
            let msg = if detail.is_empty() {
                format!("callback {name} returned {rc}")
            } else {
                format!("callback {name} returned {rc}: {detail}")
            };
            return Err(if rc == O2E_CB_UNAVAILABLE {
                HostError::unavailable(msg)
            } else {
                HostError::failed(msg)
            });
        }
        if sink.overflow {
            return Err(HostError::failed(format!(
                "callback {name} wrote more than 16 MiB"
            )));
        }
        Ok(sink.buf)
    }

    /// Calls an operation whose output is a JSON document of type `T`.
    fn query<T: DeserializeOwned>(
        &self,
        op: Op,
        ctx: *mut c_void,
        input: &[u8],
    ) -> Result<T, HostError> {
        let out = self.call(op, ctx, input)?;
        parse_output(op, &out)
    }
}

fn parse_output<T: DeserializeOwned>(op: Op, out: &[u8]) -> Result<T, HostError> {
    let name = op_name(op);
    if out.is_empty() {
        return Err(HostError::failed(format!(
            "callback {name} returned success but wrote nothing"
        )));
    }
    if std::str::from_utf8(out).is_err() {
        return Err(HostError::failed(format!(
            "callback {name} wrote invalid UTF-8"
        )));
    }
    serde_json::from_slice(out)
        .map_err(|e| HostError::failed(format!("callback {name} wrote unusable JSON: {e}")))
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::FetchClient => "fetch_client",
        Op::SaveCode => "save_code",
        Op::ConsumeCode => "consume_code",
        Op::SaveToken => "save_token",
        Op::FetchByAccess => "fetch_by_access_token",
        Op::FetchByRefresh => "fetch_by_refresh_token",
        Op::ConsumeRefresh => "consume_refresh_token",
        Op::FetchExisting => "fetch_existing_token_of_user",
        Op::RevokeToken => "revoke_token",
        Op::RevokeFamily => "revoke_family",
        Op::Denied => "user_has_denied_access",
        Op::Authenticate => "authenticate",
        Op::RenderPage => "render_auth_page",
        Op::AuthenticatePassword => "authenticate_password",
        Op::GenerateToken => "generate_token",
    }
}

/// The output of `consume_code`, `fetch_by_refresh_token` and `consume_refresh_token`.
#[derive(Deserialize)]
#[serde(tag = "status", rename_all = "lowercase", deny_unknown_fields)]
enum LookupWire<T> {
    Found { record: T },
    Used { family: String },
    // A struct variant, not a unit one: serde ignores unknown fields next to the tag of a unit
    // variant even with deny_unknown_fields.
    Missing {},
}

impl<T> From<LookupWire<T>> for Lookup<T> {
    fn from(w: LookupWire<T>) -> Self {
        match w {
            LookupWire::Found { record } => Lookup::Found(record),
            LookupWire::Used { family } => Lookup::Used { family },
            LookupWire::Missing {} => Lookup::Missing,
        }
    }
}

/// The output of `authenticate` and `authenticate_password` when the user is authenticated
/// (`null` when not).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthWire {
    #[serde(default)]
    user_id: Option<Value>,
    #[serde(default)]
    data: Value,
}

fn auth_result(w: Option<AuthWire>) -> Authentication {
    match w {
        Some(a) => Authentication::Authenticated {
            user_id: a.user_id.filter(|u| !u.is_null()),
            data: a.data,
        },
        None => Authentication::NotAuthenticated,
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, HostError> {
    serde_json::to_vec(v).map_err(|e| HostError::failed(format!("cannot serialize record: {e}")))
}

/// Storage served by the host's callbacks.
pub(crate) struct CallbackStore(pub Arc<Host>);

/// Keys come from the client (form-decoded, so `%00` is possible). A C host comparing them as C
/// strings would see only the part before a NUL and could match another record; such keys can
/// never have been issued, so they are answered as unknown without asking the host.
fn c_safe(key: &str) -> bool {
    !key.as_bytes().contains(&0)
}

impl ClientStore for CallbackStore {
    fn fetch_client(
        &self,
        client_id: &str,
        ctx: Ctx<'_>,
    ) -> Result<Option<Arc<Client>>, HostError> {
        if !c_safe(client_id) {
            return Ok(None);
        }
        let c: Option<Client> =
            self.0
                .query(Op::FetchClient, CallCtx::of(ctx), client_id.as_bytes())?;
        match c {
            // A store that answers for another id would let one client act as another.
            Some(c) if c.client_id != client_id => Err(HostError::failed(format!(
                "callback fetch_client returned client {:?} for {:?}",
                c.client_id, client_id
            ))),
            other => Ok(other.map(Arc::new)),
        }
    }
}

impl CodeStore for CallbackStore {
    fn save_code(&self, code: &AuthorizationCode, ctx: Ctx<'_>) -> Result<(), HostError> {
        self.0
            .call(Op::SaveCode, CallCtx::of(ctx), &to_json(code)?)
            .map(drop)
    }

    fn consume_code(
        &self,
        code: &str,
        ctx: Ctx<'_>,
    ) -> Result<Lookup<AuthorizationCode>, HostError> {
        if !c_safe(code) {
            return Ok(Lookup::Missing);
        }
        let w: LookupWire<AuthorizationCode> =
            self.0
                .query(Op::ConsumeCode, CallCtx::of(ctx), code.as_bytes())?;
        let l = Lookup::from(w);
        if let Lookup::Found(c) = &l {
            if c.code != code {
                return Err(HostError::failed(
                    "callback consume_code returned a different code",
                ));
            }
        }
        Ok(l)
    }
}

impl CallbackStore {
    /// A refresh-token lookup (`op` fetches or takes), checked to be about `refresh_token`.
    fn refresh_lookup(
        &self,
        op: Op,
        name: &'static str,
        refresh_token: &str,
        ctx: Ctx<'_>,
    ) -> Result<Lookup<AccessToken>, HostError> {
        if !c_safe(refresh_token) {
            return Ok(Lookup::Missing);
        }
        let w: LookupWire<AccessToken> =
            self.0
                .query(op, CallCtx::of(ctx), refresh_token.as_bytes())?;
        check_refresh(Lookup::from(w), refresh_token, name)
    }
}

impl TokenStore for CallbackStore {
    fn save_token(&self, token: &AccessToken, ctx: Ctx<'_>) -> Result<(), HostError> {
        self.0
            .call(Op::SaveToken, CallCtx::of(ctx), &to_json(token)?)
            .map(drop)
    }

    fn fetch_by_access_token(
        &self,
        token: &str,
        ctx: Ctx<'_>,
    ) -> Result<Option<AccessToken>, HostError> {
        if !c_safe(token) {
            return Ok(None);
        }
        let t: Option<AccessToken> =
            self.0
                .query(Op::FetchByAccess, CallCtx::of(ctx), token.as_bytes())?;
        match t {
            Some(t) if t.token != token => Err(HostError::failed(
                "callback fetch_by_access_token returned a different token",
            )),
            other => Ok(other),
        }
    }

    fn fetch_by_refresh_token(
        &self,
        refresh_token: &str,
        ctx: Ctx<'_>,
    ) -> Result<Lookup<AccessToken>, HostError> {
        self.refresh_lookup(
            Op::FetchByRefresh,
            "fetch_by_refresh_token",
            refresh_token,
            ctx,
        )
    }

    fn consume_refresh_token(
        &self,
        refresh_token: &str,
        ctx: Ctx<'_>,
    ) -> Result<Lookup<AccessToken>, HostError> {
        self.refresh_lookup(
            Op::ConsumeRefresh,
            "consume_refresh_token",
            refresh_token,
            ctx,
        )
    }

    fn fetch_existing_token_of_user(
        &self,
        client_id: &str,
        grant_type: GrantType,
        user_id: &Value,
        ctx: Ctx<'_>,
    ) -> Result<Option<AccessToken>, HostError> {
        let input = serde_json::json!({
            "client_id": client_id,
            "grant_type": grant_type,
            "user_id": user_id,
        });
        self.0
            .query(Op::FetchExisting, CallCtx::of(ctx), &to_json(&input)?)
    }

    fn revoke_token(&self, token: &str, ctx: Ctx<'_>) -> Result<(), HostError> {
        if !c_safe(token) {
            return Ok(());
        }
        self.0
            .call(Op::RevokeToken, CallCtx::of(ctx), token.as_bytes())
            .map(drop)
    }

    fn revoke_family(&self, family: &str, ctx: Ctx<'_>) -> Result<(), HostError> {
        self.0
            .call(Op::RevokeFamily, CallCtx::of(ctx), family.as_bytes())
            .map(drop)
    }
}

fn check_refresh(
    l: Lookup<AccessToken>,
    refresh_token: &str,
    name: &str,
) -> Result<Lookup<AccessToken>, HostError> {
    if let Lookup::Found(t) = &l {
        if t.refresh_token.as_deref() != Some(refresh_token) {
            return Err(HostError::failed(format!(
                "callback {name} returned a record of another refresh token"
            )));
        }
    }
    Ok(l)
}

/// The consent JSON handed to the site-adapter callbacks.
fn consent_json(c: &Consent<'_>) -> Result<Vec<u8>, HostError> {
    let s = WireStyle::Compact;
    let mut out = String::with_capacity(512);
    out.push_str("{\"client\":");
    out.push_str(
        &serde_json::to_string(c.client)
            .map_err(|e| HostError::failed(format!("cannot serialize client: {e}")))?,
    );
    out.push_str(",\"response_type\":");
    write_string(&mut out, c.response_type.as_str(), s);
    out.push_str(",\"scopes\":");
    push_strings(&mut out, c.scopes);
    out.push_str(",\"redirect_uri\":");
    write_string(&mut out, c.redirect_uri, s);
    out.push_str(",\"state\":");
    match c.state {
        Some(st) => write_string(&mut out, st, s),
        None => out.push_str("null"),
    }
    out.push_str(",\"request\":");
    write_request(&mut out, c.request);
    out.push('}');
    Ok(out.into_bytes())
}

fn push_strings(out: &mut String, items: &[String]) {
    out.push('[');
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, it, WireStyle::Compact);
    }
    out.push(']');
}

/// The site adapter served by the host's callbacks.
pub(crate) struct CallbackSite(pub Arc<Host>);

impl SiteAdapter for CallbackSite {
    fn user_has_denied_access(&self, consent: &Consent<'_>) -> Result<bool, HostError> {
        if self.0.cb.user_has_denied_access.is_none() {
            return Ok(false);
        }
        self.0.query(
            Op::Denied,
            CallCtx::of(consent.request.context),
            &consent_json(consent)?,
        )
    }

    fn authenticate(&self, consent: &Consent<'_>) -> Result<Authentication, HostError> {
        let w: Option<AuthWire> = self.0.query(
            Op::Authenticate,
            CallCtx::of(consent.request.context),
            &consent_json(consent)?,
        )?;
        Ok(auth_result(w))
    }

    fn render_auth_page(&self, consent: &Consent<'_>) -> Result<Response, HostError> {
        let out = self.0.call(
            Op::RenderPage,
            CallCtx::of(consent.request.context),
            &consent_json(consent)?,
        )?;
        if out.is_empty() {
            return Err(HostError::failed(
                "callback render_auth_page returned success but wrote nothing",
            ));
        }
        let r: HostResponse<'_> = serde_json::from_slice(&out).map_err(|e| {
            HostError::failed(format!(
                "callback render_auth_page wrote unusable JSON: {e}"
            ))
        })?;
        r.into_response()
            .map_err(|e| HostError::failed(format!("callback render_auth_page: {e}")))
    }

    fn authenticate_password(
        &self,
        login: &PasswordLogin<'_>,
    ) -> Result<Authentication, HostError> {
        let s = WireStyle::Compact;
        let mut input = String::with_capacity(512);
        input.push_str("{\"client\":");
        input.push_str(
            &serde_json::to_string(login.client)
                .map_err(|e| HostError::failed(format!("cannot serialize client: {e}")))?,
        );
        input.push_str(",\"scopes\":");
        push_strings(&mut input, login.scopes);
        input.push_str(",\"username\":");
        write_string(&mut input, login.username, s);
        input.push_str(",\"password\":");
        write_string(&mut input, login.password, s);
        input.push_str(",\"request\":");
        write_request(&mut input, login.request);
        input.push('}');
        let w: Option<AuthWire> = self.0.query(
            Op::AuthenticatePassword,
            CallCtx::of(login.request.context),
            input.as_bytes(),
        )?;
        Ok(auth_result(w))
    }
}

/// Token generation by the host's `generate_token`.
pub(crate) struct CallbackGenerator(pub Arc<Host>);

impl TokenGenerator for CallbackGenerator {
    fn generate(&self, kind: TokenKind) -> Result<String, HostError> {
        let name: &[u8] = match kind {
            TokenKind::AuthorizationCode => b"authorization_code",
            TokenKind::AccessToken => b"access_token",
            TokenKind::RefreshToken => b"refresh_token",
        };
        let t: String = self.0.query(Op::GenerateToken, current_ctx(), name)?;
        // Tokens travel in URLs, forms and headers: only visible ASCII is safe everywhere.
        if !t.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(HostError::failed(
                "callback generate_token returned a token with characters outside visible ASCII",
            ));
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_wire_forms() {
        let l: LookupWire<AccessToken> =
            serde_json::from_str(r#"{"status":"used","family":"f"}"#).unwrap();
        assert!(matches!(Lookup::from(l), Lookup::Used { family } if family == "f"));
        let l: LookupWire<AccessToken> = serde_json::from_str(r#"{"status":"missing"}"#).unwrap();
        assert!(matches!(Lookup::from(l), Lookup::Missing));
        assert!(
            serde_json::from_str::<LookupWire<AccessToken>>(r#"{"status":"missing","x":1}"#)
                .is_err()
        );
        assert!(serde_json::from_str::<LookupWire<AccessToken>>(
            r#"{"status":"used","family":"f","x":1}"#
        )
        .is_err());
        assert!(serde_json::from_str::<LookupWire<AccessToken>>(r#"{"status":"found"}"#).is_err());
        assert!(serde_json::from_str::<LookupWire<AccessToken>>(r#"{"status":"gone"}"#).is_err());
    }
}
