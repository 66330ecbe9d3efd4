//! The C ABI: `o2e_` functions over an opaque engine, JSON in and JSON out.
//!
//! The wire contract (configuration, request, response, callbacks, statuses, memory rules) is
//! written down in `docs/c-api.md`; `include/oauth2_engine.h` is generated from this module by
//! cbindgen (see `build.rs`).
//!
//! Every exported function checks each pointer for NULL, validates UTF-8 and JSON before anything
//! else looks at the input, and runs its body inside `catch_unwind`, so that no panic ever unwinds
//! into C. Protocol errors are ordinary responses; only a request the engine cannot even read is
//! a failed call.

// The exported names are C names (`o2e_engine`, `O2E_OK`): they are what C programmers read.
#![allow(non_camel_case_types)]

mod callbacks;
mod config;
mod wire;

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::mem::{align_of, size_of};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

pub use callbacks::{o2e_callbacks, o2e_sink, o2e_sink_write, storage_from_callbacks};

use crate::engine::Engine;
use crate::http::Ctx;

/// Major version of the library (semantic versioning).
pub const O2E_VERSION_MAJOR: u32 = 0;
/// Minor version of the library.
pub const O2E_VERSION_MINOR: u32 = 1;
/// Patch version of the library.
pub const O2E_VERSION_PATCH: u32 = 0;

/// The `abi_version` a host built against this header puts into `o2e_callbacks`.
pub const O2E_CALLBACKS_ABI_VERSION: u32 = 1;

/// Callback return value: success.
pub const O2E_CB_OK: i32 = 0;
/// Callback return value: failure (the client gets `server_error`, HTTP 500).
pub const O2E_CB_ERROR: i32 = 1;
/// Callback return value: the backend is down or timed out (the client gets
/// `temporarily_unavailable`, HTTP 503, and may retry).
pub const O2E_CB_UNAVAILABLE: i32 = 2;

/// Log level handed to the `log` callback: a callback failed.
pub const O2E_LOG_ERROR: i32 = 3;

/// What an `o2e_` call reports. The numbering is append-only: a value, once released, keeps its
/// meaning forever, and new values are only ever added at the end.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum o2e_status {
    /// Success.
    O2E_OK = 0,
    /// A required pointer argument was NULL.
    O2E_NULL_ARGUMENT = 1,
    /// Input text was not valid UTF-8.
    O2E_INVALID_UTF8 = 2,
    /// Input text was not well-formed JSON.
    O2E_INVALID_JSON = 3,
    /// The configuration is well-formed JSON but not a configuration the engine can run with
    /// (wrong type, unknown field, inconsistent settings, missing callback).
    O2E_INVALID_CONFIG = 4,
    /// The request is well-formed JSON but not of the request shape (wrong type, missing
    /// `method`/`path`, unknown field).
    O2E_INVALID_REQUEST = 5,
    /// `o2e_callbacks.abi_version` is not one this library understands.
    O2E_ABI_MISMATCH = 6,
    /// An input or a sink write exceeded the library's size limit.
    O2E_TOO_LARGE = 7,
    /// A bug inside the library was caught before it could cross the boundary. The engine is
    /// still usable; please report it.
    O2E_PANIC = 8,
}

/// A buffer the library allocated and the host frees with `o2e_buf_free`. `data[len]` is always
/// a NUL byte (not counted in `len`), so `data` may be used as a C string.
#[repr(C)]
pub struct o2e_buf {
    pub data: *mut c_char,
    pub len: usize,
}

/// An engine: built once with `o2e_engine_new`, shared by any number of threads, freed once with
/// `o2e_engine_free`.
pub struct o2e_engine {
    engine: Engine,
}

/// Inputs above this size are refused with `O2E_TOO_LARGE` before they are parsed. Request bodies
/// are further limited by the engine's `max_body_bytes` (an OAuth error, not a failed call).
const MAX_INPUT: usize = 64 * 1024 * 1024;

thread_local! {
    /// The message of this thread's last failed call, NUL-terminated.
    static LAST_ERROR: RefCell<Vec<u8>> = RefCell::new(vec![0]);
}

fn set_last_error(msg: &str) {
    LAST_ERROR.with(|e| {
        let mut e = e.borrow_mut();
        e.clear();
        // An interior NUL would cut the C string short; it cannot carry meaning here anyway.
        e.extend(msg.bytes().map(|b| if b == 0 { b' ' } else { b }));
        e.push(0);
    });
}

fn clear_last_error() {
    LAST_ERROR.with(|e| {
        let mut e = e.borrow_mut();
        e.clear();
        e.push(0);
    });
}

/// A failed call: its status and the message `o2e_last_error` will return.
pub(crate) struct Failure(o2e_status, pub(crate) String);

impl Failure {
    pub(crate) fn new(status: o2e_status, msg: impl Into<String>) -> Self {
        Failure(status, msg.into())
    }
}

/// Runs `body`, turning a failure or a panic into a status and the thread's last error.
fn guard(name: &str, body: impl FnOnce() -> Result<(), Failure>) -> o2e_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            clear_last_error();
            o2e_status::O2E_OK
        }
        Ok(Err(Failure(status, msg))) => {
            set_last_error(&format!("{name}: {msg}"));
            status
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!("{name}: internal error (panic): {what}"));
            o2e_status::O2E_PANIC
        }
    }
}

/// Borrows `len` bytes at `ptr` as UTF-8 text.
///
/// # Safety
/// `ptr` must be NULL or point to `len` readable bytes that stay unchanged during the call.
pub(crate) unsafe fn text<'a>(
    ptr: *const c_char,
    len: usize,
    what: &str,
) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(Failure::new(
            o2e_status::O2E_NULL_ARGUMENT,
            format!("{what} is NULL"),
        ));
    }
    if len > MAX_INPUT {
        return Err(Failure::new(
            o2e_status::O2E_TOO_LARGE,
            format!("{what} is {len} bytes; the limit is {MAX_INPUT}"),
        ));
    }
    let bytes = std::slice::from_raw_parts(ptr.cast::<u8>(), len);
    if let Some(text) = crate::http::utf8(bytes) {
        return Ok(text);
    }
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::new(
            o2e_status::O2E_INVALID_UTF8,
            format!("{what} is not valid UTF-8 ({e})"),
        )
    })
}

/// Classifies a serde_json error: a syntax problem, or valid JSON of the wrong shape.
pub(crate) fn json_failure(e: &serde_json::Error, what: &str, shape: o2e_status) -> Failure {
    use serde_json::error::Category;
    let status = match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => o2e_status::O2E_INVALID_JSON,
        Category::Data => shape,
    };
    Failure::new(status, format!("{what}: {e}"))
}

/// serde accepts a JSON array for a struct (fields by position); the ABI documents objects only,
/// so a top-level document that parsed but is not an object is refused as the wrong shape.
pub(crate) fn require_object(json: &str, what: &str, shape: o2e_status) -> Result<(), Failure> {
    if json.trim_start().starts_with('{') {
        Ok(())
    } else {
        Err(Failure::new(
            shape,
            format!("{what}: expected a JSON object"),
        ))
    }
}

/// Every `o2e_buf` is a single allocation: the struct, then `len` bytes of data and a NUL. One
/// `malloc` per response instead of three (data, its shrink to size, the struct).
fn buf_layout(len: usize) -> Option<Layout> {
    let size = size_of::<o2e_buf>().checked_add(len)?.checked_add(1)?;
    Layout::from_size_align(size, align_of::<o2e_buf>()).ok()
}

/// Hands a copy of `bytes` to the host as a new `o2e_buf`.
pub(crate) fn new_buf(bytes: &[u8]) -> *mut o2e_buf {
    // Inputs are capped at MAX_INPUT and outputs follow from them, so this never fails; were
    // it to, the panic is caught at the boundary like any other.
    let layout = buf_layout(bytes.len()).expect("buffer size overflows");
    // SAFETY: the layout is never zero-sized (it holds the struct).
    let block = unsafe { alloc(layout) };
    if block.is_null() {
        handle_alloc_error(layout);
    }
    // SAFETY: `block` is a fresh allocation of `layout`, aligned for `o2e_buf`; the struct takes
    // its first `size_of::<o2e_buf>()` bytes and the data the `len + 1` after them, so every
    // write below stays inside it and initialises all of it. `o2e_buf_free` rebuilds the same
    // layout from `len`.
    unsafe {
        let data = block.add(size_of::<o2e_buf>());
        ptr::copy_nonoverlapping(bytes.as_ptr(), data, bytes.len());
        data.add(bytes.len()).write(0);
        let buf = block.cast::<o2e_buf>();
        buf.write(o2e_buf {
            data: data.cast::<c_char>(),
            len: bytes.len(),
        });
        buf
    }
}

/// The library's version, `"MAJOR.MINOR.PATCH"`: a static string, never freed.
#[no_mangle]
pub extern "C" fn o2e_version() -> *const c_char {
    const V: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => panic!("version contains a NUL"),
        };
    V.as_ptr()
}

/// A short English name for a status, e.g. `"O2E_INVALID_JSON"`; a static string, never freed.
/// Unknown values give `"O2E_UNKNOWN_STATUS"`.
#[no_mangle]
pub extern "C" fn o2e_status_name(status: c_int) -> *const c_char {
    let s: &'static CStr = match status {
        0 => c"O2E_OK",
        1 => c"O2E_NULL_ARGUMENT",
        2 => c"O2E_INVALID_UTF8",
        3 => c"O2E_INVALID_JSON",
        4 => c"O2E_INVALID_CONFIG",
        5 => c"O2E_INVALID_REQUEST",
        6 => c"O2E_ABI_MISMATCH",
        7 => c"O2E_TOO_LARGE",
        8 => c"O2E_PANIC",
        _ => c"O2E_UNKNOWN_STATUS",
    };
    s.as_ptr()
}

/// The message of the last call on this thread that did not return `O2E_OK` (an empty string
/// when the last call succeeded). The string belongs to the library and stays valid until the
/// next `o2e_` call on the same thread; copy it to keep it.
#[no_mangle]
pub extern "C" fn o2e_last_error() -> *const c_char {
    LAST_ERROR
        .try_with(|e| e.borrow().as_ptr().cast::<c_char>())
        .unwrap_or(c"".as_ptr())
}

/// Builds an engine from a JSON configuration (see docs/c-api.md) and optional host callbacks.
///
/// `callbacks` may be NULL (built-in memory store, no site adapter). The struct is copied: the
/// host may free or reuse it after the call. On success the engine owns `callbacks->userdata`
/// and calls `free_userdata` (if set) exactly once from `o2e_engine_free`; on failure nothing is
/// kept and `free_userdata` is not called. On failure `*out` is set to NULL and
/// `o2e_last_error()` says why.
///
/// # Safety
/// `config_json` must point to `len` readable bytes; `callbacks` must be NULL or point to a valid
/// `o2e_callbacks`; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn o2e_engine_new(
    config_json: *const c_char,
    len: usize,
    callbacks: *const o2e_callbacks,
    out: *mut *mut o2e_engine,
) -> o2e_status {
    guard("o2e_engine_new", || {
        if out.is_null() {
            return Err(Failure::new(o2e_status::O2E_NULL_ARGUMENT, "out is NULL"));
        }
        *out = ptr::null_mut();
        let json = text(config_json, len, "config_json")?;
        let cbs = if callbacks.is_null() {
            None
        } else {
            Some(callbacks::read_callbacks(callbacks)?)
        };
        let engine = config::build(json, cbs)?;
        *out = Box::into_raw(Box::new(o2e_engine { engine }));
        Ok(())
    })
}

/// Frees an engine and, through `free_userdata`, the host's userdata. NULL is a no-op. No other
/// thread may be using the engine.
///
/// # Safety
/// `engine` must be NULL or a pointer from `o2e_engine_new` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn o2e_engine_free(engine: *mut o2e_engine) {
    if engine.is_null() {
        return;
    }
    // A panic in a destructor (there is none to expect) must still not unwind into C.
    let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(engine))));
}

/// Answers one HTTP request given as JSON `{method, path, query, headers, body}` with a response
/// JSON `{status, headers, body}` in a new buffer `*out` (free it with `o2e_buf_free`).
///
/// OAuth errors (a bad grant, an unknown client, an oversized body, a failing callback) are
/// ordinary responses and the call returns `O2E_OK`. A non-OK status means the request JSON
/// itself could not be used; `*out` is then NULL and `o2e_last_error()` says why.
///
/// `call_ctx` is handed unchanged to every callback this request makes. Any number of threads
/// may call this at once on the same engine.
///
/// # Safety
/// `engine` must come from `o2e_engine_new` and not be freed during the call; `request_json` must
/// point to `len` readable bytes; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn o2e_engine_handle(
    engine: *const o2e_engine,
    request_json: *const c_char,
    len: usize,
    call_ctx: *mut c_void,
    out: *mut *mut o2e_buf,
) -> o2e_status {
    guard("o2e_engine_handle", || {
        if out.is_null() {
            return Err(Failure::new(o2e_status::O2E_NULL_ARGUMENT, "out is NULL"));
        }
        *out = ptr::null_mut();
        if engine.is_null() {
            return Err(Failure::new(
                o2e_status::O2E_NULL_ARGUMENT,
                "engine is NULL",
            ));
        }
        let json = text(request_json, len, "request_json")?;
        let engine = &(*engine).engine;
        *out = wire::handle(engine, json, call_ctx)?;
        Ok(())
    })
}

/// Frees a buffer returned by the library. NULL is a no-op.
///
/// # Safety
/// `buf` must be NULL or a buffer from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn o2e_buf_free(buf: *mut o2e_buf) {
    if buf.is_null() {
        return;
    }
    // SAFETY: `buf` came from `new_buf`, which allocated it with `buf_layout(len)`; that layout
    // existed then, so it exists now.
    if let Some(layout) = buf_layout((*buf).len) {
        dealloc(buf.cast::<u8>(), layout);
    }
}

/// Reads one value out of a JSON document, for hosts without a JSON library of their own.
///
/// `pointer` is a NUL-terminated JSON Pointer (RFC 6901), e.g. `"/client_id"` or
/// `"/client/redirect_uris/0"`. On success `*out` holds the value: a JSON string is returned
/// unquoted and unescaped; any other value (number, boolean, array, object) as compact JSON
/// text. A missing value or JSON `null` sets `*out` to NULL and still returns `O2E_OK`.
///
/// # Safety
/// `json` must point to `len` readable bytes; `pointer` must be NULL or a NUL-terminated string;
/// `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn o2e_json_get(
    json: *const c_char,
    len: usize,
    pointer: *const c_char,
    out: *mut *mut o2e_buf,
) -> o2e_status {
    guard("o2e_json_get", || {
        if out.is_null() {
            return Err(Failure::new(o2e_status::O2E_NULL_ARGUMENT, "out is NULL"));
        }
        *out = ptr::null_mut();
        let doc = text(json, len, "json")?;
        if pointer.is_null() {
            return Err(Failure::new(
                o2e_status::O2E_NULL_ARGUMENT,
                "pointer is NULL",
            ));
        }
        let pointer = CStr::from_ptr(pointer).to_str().map_err(|e| {
            Failure::new(
                o2e_status::O2E_INVALID_UTF8,
                format!("pointer is not valid UTF-8 ({e})"),
            )
        })?;
        let value: serde_json::Value = serde_json::from_str(doc)
            .map_err(|e| json_failure(&e, "json", o2e_status::O2E_INVALID_JSON))?;
        match value.pointer(pointer) {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::String(s)) => *out = new_buf(s.as_bytes()),
            Some(other) => *out = new_buf(other.to_string().as_bytes()),
        }
        Ok(())
    })
}

/// The pointer a host passed to `o2e_engine_handle`, as callbacks receive it through [`Ctx`].
#[derive(Clone, Copy)]
pub(crate) struct CallCtx(pub *mut c_void);

impl CallCtx {
    pub(crate) fn of(ctx: Ctx<'_>) -> *mut c_void {
        ctx.get::<CallCtx>().map_or(ptr::null_mut(), |c| c.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_macros_match_the_package() {
        let v = format!("{O2E_VERSION_MAJOR}.{O2E_VERSION_MINOR}.{O2E_VERSION_PATCH}");
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
        let c = unsafe { CStr::from_ptr(o2e_version()) };
        assert_eq!(c.to_str().unwrap(), v);
    }
}
