//! The `oauth2.datatype.Client` a site adapter is handed with a consent.
//!
//! Every call gets a fresh object (an adapter may change it, and choosing a redirect URI on one
//! must never change another request's) whose `__dict__` holds what `Client.__init__` sets, in
//! its order, without running it. The dict is copied from a template made once per client:
//! its strings are shared (Python strings are immutable), its lists are replaced by copies
//! before the object is handed out, so no list is ever shared. Setting the six attributes one by
//! one, on strings and lists made anew, cost more than everything else the adapter call did.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use oauth2_engine::{Client, GrantType, ResponseType};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyDict, PyList, PyType};

/// A client's `__dict__` as `Client.__init__` makes it (`_redirect_uri` unset), the same with
/// the first redirect URI chosen (what the authorization request of a client with one URI
/// chooses), and the lists in them, which every copy replaces with its own.
struct Template {
    dict: Py<PyDict>,
    first_chosen: Option<Py<PyDict>>,
    redirect_uris: Py<PyList>,
    grants: Option<Py<PyList>>,
    response_types: Option<Py<PyList>>,
}

/// The templates of the clients seen lately, by client id, each with the client it was made
/// of: a client whose record changed (another secret, other redirect URIs) no longer equals it
/// and gets its template made again. Bounded: when full it starts over, which costs one making
/// per client.
///
/// The lock is held only to look up or store entries, never while Python objects are made:
/// making one can collect garbage, which can run a finalizer, which can switch threads, and
/// another thread waiting here with the GIL would deadlock.
type Cache = HashMap<String, (Client, Arc<Template>), foldhash::fast::RandomState>;
static CACHE: Mutex<Option<Cache>> = Mutex::new(None);
const MAX_CLIENTS: usize = 256;

fn lock() -> std::sync::MutexGuard<'static, Option<Cache>> {
    CACHE.lock().unwrap_or_else(|p| p.into_inner())
}

/// The names of a client's grants or response types as a list, `None` for "all of them".
fn names<T: Copy>(
    py: Python<'_>,
    items: Option<&[T]>,
    name: fn(T) -> &'static str,
) -> PyResult<Option<Py<PyList>>> {
    items
        .map(|items| PyList::new(py, items.iter().map(|t| name(*t))).map(Bound::unbind))
        .transpose()
}

fn make(py: Python<'_>, c: &Client) -> PyResult<Template> {
    let grants = names(py, c.grant_types.as_deref(), GrantType::as_str)?;
    let response_types = names(py, c.response_types.as_deref(), ResponseType::as_str)?;
    let redirect_uris = PyList::new(py, &c.redirect_uris)?;
    // The attributes `__init__` sets, in its order.
    let dict = PyDict::new(py);
    dict.set_item(intern!(py, "authorized_grants"), &grants)?;
    dict.set_item(intern!(py, "authorized_response_types"), &response_types)?;
    dict.set_item(intern!(py, "identifier"), &c.client_id)?;
    dict.set_item(intern!(py, "secret"), c.client_secret.as_deref())?;
    dict.set_item(intern!(py, "redirect_uris"), &redirect_uris)?;
    dict.set_item(intern!(py, "_redirect_uri"), py.None())?;
    let first_chosen = match redirect_uris.iter().next() {
        Some(first) => {
            let d = dict.copy()?;
            d.set_item(intern!(py, "_redirect_uri"), first)?;
            Some(d.unbind())
        }
        None => None,
    };
    Ok(Template {
        dict: dict.unbind(),
        first_chosen,
        redirect_uris: redirect_uris.unbind(),
        grants,
        response_types,
    })
}

/// The template of `c`, made now if the cache has none for it. (Shared by `Arc`: taking it out
/// of the cache costs no reference count of the Python objects in it.)
fn template(py: Python<'_>, c: &Client) -> PyResult<Arc<Template>> {
    let cached = lock()
        .as_ref()
        .and_then(|m| m.get(&c.client_id))
        .filter(|(of, _)| of == c)
        .map(|(_, t)| t.clone());
    if let Some(t) = cached {
        return Ok(t);
    }
    let made = Arc::new(make(py, c)?);
    // Entries replaced or dropped here are released after the lock (a release is a decref).
    let (_old, _cleared) = {
        let mut guard = lock();
        let map = guard.get_or_insert_with(Cache::default);
        let cleared = if map.len() >= MAX_CLIENTS {
            Some(std::mem::take(map))
        } else {
            None
        };
        (
            map.insert(c.client_id.clone(), (c.clone(), made.clone())),
            cleared,
        )
    };
    Ok(made)
}

/// A new list with the items of `template`.
fn copy<'py>(py: Python<'py>, template: &Py<PyList>) -> Bound<'py, PyList> {
    let list = template.bind(py);
    list.get_slice(0, list.len())
}

/// A new instance of the Python class `cls` with `dict` as its `__dict__`: allocated as
/// `object.__new__` allocates it (`Client` has no `__new__` and no abstract methods, so that is
/// all `object.__new__` would do besides preparing attribute storage), then given `dict` as
/// `obj.__dict__ = dict` gives it.
fn instance_with_dict<'py>(
    cls: &Bound<'py, PyType>,
    dict: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyAny>> {
    static INLINE_VALUES: GILOnceCell<bool> = GILOnceCell::new();
    let py = cls.py();
    // SAFETY: `cls` is a live heap type (GIL held), whose `tp_alloc` slot PyType_GetSlot reads
    // on every version; an allocation function returns a new reference or NULL with an error.
    let obj = unsafe {
        let slot = pyo3::ffi::PyType_GetSlot(cls.as_type_ptr(), pyo3::ffi::Py_tp_alloc);
        let alloc: pyo3::ffi::allocfunc = if slot.is_null() {
            pyo3::ffi::PyType_GenericAlloc
        } else {
            std::mem::transmute::<*mut std::ffi::c_void, pyo3::ffi::allocfunc>(slot)
        };
        Bound::from_owned_ptr_or_err(py, alloc(cls.as_type_ptr(), 0))?
    };
    // From 3.13 on a new instance keeps its attributes inline, and only the class's `__dict__`
    // descriptor hands them over to an assigned dict (`PyObject_GenericSetDict` leaves the
    // empty inline values in charge, which then hide the dict). Before, a fresh allocation has
    // no attribute storage at all and the generic setter is all the descriptor would call.
    if *INLINE_VALUES.get_or_init(py, || py.version_info() >= (3, 13)) {
        obj.setattr(intern!(py, "__dict__"), dict)?;
        return Ok(obj);
    }
    // SAFETY: GIL held, `obj` and `dict` live; PyObject_GenericSetDict takes its own reference
    // to `dict` and returns 0, or -1 with an error set.
    if unsafe {
        pyo3::ffi::PyObject_GenericSetDict(obj.as_ptr(), dict.as_ptr(), std::ptr::null_mut())
    } != 0
    {
        return Err(PyErr::fetch(py));
    }
    Ok(obj)
}

/// `oauth2.datatype.Client(identifier=..., secret=..., authorized_grants=...,
/// authorized_response_types=..., redirect_uris=...)` with `redirect_uri` chosen when it is
/// one of the client's.
pub(crate) fn client<'py>(
    py: Python<'py>,
    c: &Client,
    redirect_uri: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    static CLIENT: GILOnceCell<Py<PyType>> = GILOnceCell::new();
    let cls = CLIENT.import(py, "oauth2.datatype", "Client")?;
    let t = template(py, c)?;
    // The chosen URI is the registered one's string (the list copies hold the same object).
    let chosen = redirect_uri.and_then(|u| c.redirect_uris.iter().position(|r| r == u));
    let dict = match (chosen, &t.first_chosen) {
        (Some(0), Some(first)) => first.bind(py).copy()?,
        (Some(i), _) => {
            let d = t.dict.bind(py).copy()?;
            d.set_item(
                intern!(py, "_redirect_uri"),
                t.redirect_uris.bind(py).get_item(i)?,
            )?;
            d
        }
        (None, _) => t.dict.bind(py).copy()?,
    };
    if let Some(g) = &t.grants {
        dict.set_item(intern!(py, "authorized_grants"), copy(py, g))?;
    }
    if let Some(r) = &t.response_types {
        dict.set_item(intern!(py, "authorized_response_types"), copy(py, r))?;
    }
    dict.set_item(intern!(py, "redirect_uris"), copy(py, &t.redirect_uris))?;
    instance_with_dict(cls, &dict)
}
