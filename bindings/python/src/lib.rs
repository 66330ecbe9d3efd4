//! `oauth2._engine`: the native half of the `oauth2` Python package.
//!
//! The pure-Python package (python-oauth2's API) turns its configuration into the core's
//! [`oauth2_engine::Config`] and builds an [`engine::PyEngine`] from it. Requests reach the engine
//! either through [`wsgi::WsgiCore`] (the WSGI hot path, which reads the environ itself and never
//! builds a Python request object unless a Python callback needs one) or through
//! `PyEngine.handle` (Tornado and `Provider.dispatch`).
//!
//! User objects (stores, site adapters, token generators, client-authentication sources) are
//! wrapped in [`host`] types that implement the core traits by calling helpers of
//! `oauth2._support`, which do the Python-side conversions and python-oauth2's call conventions.

use std::sync::atomic::{AtomicU64, Ordering};

use pyo3::prelude::*;

/// The Rust side of the module allocates with mimalloc (see Cargo.toml for why); memory handed
/// to or from Python always goes through Python's own allocator functions, so the two never mix.
#[global_allocator]
static ALLOCATOR: alloc::MiMalloc = alloc::MiMalloc;

mod alloc;
mod client;
mod engine;
mod ffi;
mod host;
mod param_methods;
mod request;
mod store;
mod wsgi;

/// Bumped by the Python package whenever anything an engine is built from may have changed
/// (a grant added, a token generator's `expires_in` written, ...). Engines remember the value
/// they were built at, so the per-request check is one atomic load.
static GENERATION: AtomicU64 = AtomicU64::new(1);

/// Marks every engine built so far as stale.
#[pyfunction]
fn bump() -> u64 {
    GENERATION.fetch_add(1, Ordering::AcqRel) + 1
}

/// The current configuration generation.
#[pyfunction]
fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

pub(crate) fn current_generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// The WSGI status line of a status code.
pub(crate) fn status_line(status: u16) -> String {
    let reason = match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    };
    format!("{status} {reason}")
}

#[pymodule]
fn _engine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("VERSION", oauth2_engine::VERSION)?;
    m.add_function(wrap_pyfunction!(bump, m)?)?;
    m.add_function(wrap_pyfunction!(generation, m)?)?;
    m.add_class::<store::NativeStore>()?;
    m.add_class::<engine::PyEngine>()?;
    m.add_class::<wsgi::WsgiCore>()?;
    m.add_class::<request::RequestCore>()?;
    param_methods::install(m.py())?;
    Ok(())
}
