//! `RequestCore.get_param` and `post_param` as vectorcall (`METH_FASTCALL`) methods.
//!
//! Site adapters call these once or twice per request. pyo3 gives methods of an abi3-3.9 module
//! the tuple-and-dict convention (the fast one is in the stable ABI only from 3.10 on), so every
//! call made an argument tuple and parsed it. CPython has accepted `METH_FASTCALL |
//! METH_KEYWORDS` methods since 3.7 whatever the ABI a module was built for, so these two are
//! defined here by hand and put on the class when the module is loaded.

use std::ffi::{c_int, CStr};

use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

use crate::ffi::utf8;
use crate::request::RequestCore;

const METH_FASTCALL: c_int = 0x0080;

type FastWithKeywords = unsafe extern "C" fn(
    *mut ffi::PyObject,
    *const *mut ffi::PyObject,
    ffi::Py_ssize_t,
    *mut ffi::PyObject,
) -> *mut ffi::PyObject;

/// The arguments of `(name, default=None)`, positional or by keyword, or the `TypeError` a
/// Python function with that signature raises.
///
/// # Safety
/// `args` holds `nargs` positional values followed by one value per name in `kwnames` (a tuple
/// of str, or NULL), as the vectorcall convention passes them; the GIL is held.
unsafe fn arguments<'py>(
    py: Python<'py>,
    method: &str,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> PyResult<(Bound<'py, PyAny>, Option<PyObject>)> {
    let nargs = nargs as usize;
    if nargs > 2 {
        return Err(PyTypeError::new_err(format!(
            "{method}() takes at most 2 arguments ({nargs} given)"
        )));
    }
    let mut slots: [Option<Bound<'py, PyAny>>; 2] = [None, None];
    for (i, slot) in slots.iter_mut().enumerate().take(nargs) {
        *slot = Some(Bound::from_borrowed_ptr(py, *args.add(i)));
    }
    if !kwnames.is_null() {
        let names = Bound::from_borrowed_ptr(py, kwnames).downcast_into_unchecked::<PyTuple>();
        for (k, key) in names.iter().enumerate() {
            let key = key.downcast_into::<PyString>()?;
            let i = match utf8(&key) {
                Some("name") => 0,
                Some("default") => 1,
                _ => {
                    return Err(PyTypeError::new_err(format!(
                        "{method}() got an unexpected keyword argument '{}'",
                        key.to_string_lossy()
                    )))
                }
            };
            if slots[i].is_some() {
                return Err(PyTypeError::new_err(format!(
                    "{method}() got multiple values for argument '{}'",
                    ["name", "default"][i]
                )));
            }
            slots[i] = Some(Bound::from_borrowed_ptr(py, *args.add(nargs + k)));
        }
    }
    let [name, default] = slots;
    let name = name.ok_or_else(|| {
        PyTypeError::new_err(format!(
            "{method}() missing 1 required positional argument: 'name'"
        ))
    })?;
    Ok((name, default.filter(|d| !d.is_none()).map(Bound::unbind)))
}

/// # Safety
/// As for `arguments`; `slf` is the receiver the method descriptor checked to be a
/// `RequestCore`.
unsafe fn param(
    py: Python<'_>,
    method: &str,
    post: bool,
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> PyResult<*mut ffi::PyObject> {
    let (name, default) = arguments(py, method, args, nargs, kwnames)?;
    let slf = Bound::from_borrowed_ptr(py, slf);
    let core = slf.downcast::<RequestCore>()?;
    let found = core.try_borrow_mut()?.lookup(py, post, &name, default)?;
    Ok(found.into_ptr())
}

/// The body of `get_param` (`POST` false) or `post_param` (true), for the trampoline.
unsafe fn param_impl<const POST: bool>(
    py: Python<'_>,
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> PyResult<*mut ffi::PyObject> {
    let method = if POST { "post_param" } else { "get_param" };
    param(py, method, POST, slf, args, nargs, kwnames)
}

/// The C entry point CPython calls for `get_param` (`POST` false) or `post_param` (true).
unsafe extern "C" fn param_method<const POST: bool>(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    pyo3::impl_::trampoline::fastcall_with_keywords(slf, args, nargs, kwnames, param_impl::<POST>)
}

/// Puts both methods on `RequestCore` (so on every subclass that does not define its own).
pub(crate) fn install(py: Python<'_>) -> PyResult<()> {
    let ty = py.get_type::<RequestCore>();
    let methods: [(&'static CStr, FastWithKeywords, &'static CStr); 2] = [
        (
            c"get_param",
            param_method::<false>,
            c"get_param($self, name, default=None)\n--\n\n\
              The first non-blank value of `name` in the query string, or `default`.",
        ),
        (
            c"post_param",
            param_method::<true>,
            c"post_param($self, name, default=None)\n--\n\n\
              The first non-blank value of `name` in the form body, or `default`.",
        ),
    ];
    for (name, meth, doc) in methods {
        // A method descriptor keeps a pointer to its definition: each is made once per
        // process (module initialisation) and lives as long as it.
        let def: &'static mut ffi::PyMethodDef = Box::leak(Box::new(ffi::PyMethodDef {
            ml_name: name.as_ptr(),
            // SAFETY: a function pointer of the `METH_FASTCALL | METH_KEYWORDS` shape, stored
            // in the union's one field this ABI names; CPython calls it by `ml_flags`.
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: unsafe {
                    std::mem::transmute::<FastWithKeywords, ffi::PyCFunction>(meth)
                },
            },
            ml_flags: METH_FASTCALL | ffi::METH_KEYWORDS,
            ml_doc: doc.as_ptr(),
        }));
        // SAFETY: GIL held; `ty` is a live type and `def` outlives the descriptor.
        let descr = unsafe {
            Bound::from_owned_ptr_or_err(py, ffi::PyDescr_NewMethod(ty.as_type_ptr(), def))?
        };
        ty.setattr(name.to_str().expect("ASCII name"), descr)?;
    }
    Ok(())
}
