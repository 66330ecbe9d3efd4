//! CPython entry points the hot paths call directly.
//!
//! The wheel targets the stable ABI of 3.9, which lacks the vectorcall functions and the
//! borrowed UTF-8 view of a string. Every CPython from 3.9 on exports the ones used here (they
//! are public C API since 3.9 and part of the stable ABI from 3.10 or 3.12 on), so the module
//! links against them as against any other symbol of the interpreter that loads it. The
//! alternatives through pyo3's abi3 API cost a temporary tuple (and for a method, a bound method
//! object) per call, or a temporary bytes object per string.

use std::os::raw::c_char;
use std::ptr;

use pyo3::ffi::{PyObject, Py_ssize_t};
use pyo3::prelude::*;
use pyo3::types::PyString;

extern "C" {
    fn PyUnicode_AsUTF8AndSize(unicode: *mut PyObject, size: *mut Py_ssize_t) -> *const c_char;
    fn PyObject_VectorcallMethod(
        name: *mut PyObject,
        args: *const *mut PyObject,
        nargsf: usize,
        kwnames: *mut PyObject,
    ) -> *mut PyObject;
    fn PyObject_VectorcallDict(
        callable: *mut PyObject,
        args: *const *mut PyObject,
        nargsf: usize,
        kwdict: *mut PyObject,
    ) -> *mut PyObject;
}

/// The UTF-8 text of a Python string, borrowed from it, or `None` for a string with lone
/// surrogates (e.g. from surrogateescape), which has no UTF-8 form.
pub(crate) fn utf8<'a>(s: &'a Bound<'_, PyString>) -> Option<&'a str> {
    let mut size: Py_ssize_t = 0;
    // SAFETY: `s` is a live str object (the GIL is held); on success the returned buffer is
    // owned by it, valid UTF-8 of `size` bytes, and lives as long as `s`.
    let ptr = unsafe { PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size) };
    if ptr.is_null() {
        PyErr::take(s.py());
        return None;
    }
    // SAFETY: see above. CPython encodes with the strict handler (a string it cannot encode, one
    // with lone surrogates, fails above), so the buffer is UTF-8 and needs no second check.
    let bytes = unsafe { std::slice::from_raw_parts(ptr as *const u8, size as usize) };
    debug_assert!(std::str::from_utf8(bytes).is_ok());
    Some(unsafe { std::str::from_utf8_unchecked(bytes) })
}

/// The most positional arguments a call here passes (the receiver included).
const MAX_ARGS: usize = 6;

/// `receiver.name(*args)`, looked up as `getattr` would (instance attributes, `__getattr__`,
/// descriptors) but without making the bound method or an argument tuple.
pub(crate) fn call_method<'py>(
    receiver: &Bound<'py, PyAny>,
    name: &Bound<'py, PyString>,
    args: &[&Bound<'py, PyAny>],
) -> PyResult<Bound<'py, PyAny>> {
    assert!(args.len() < MAX_ARGS, "too many arguments for call_method");
    let mut stack: [*mut PyObject; MAX_ARGS] = [ptr::null_mut(); MAX_ARGS];
    stack[0] = receiver.as_ptr();
    for (slot, arg) in stack[1..].iter_mut().zip(args) {
        *slot = arg.as_ptr();
    }
    // SAFETY: the GIL is held (the `Bound`s prove it); `stack` holds `args.len() + 1` live
    // borrowed references (the callee takes its own); no keywords. The result is a new
    // reference or NULL with an exception set.
    unsafe {
        let out = PyObject_VectorcallMethod(
            name.as_ptr(),
            stack.as_ptr(),
            args.len() + 1,
            ptr::null_mut(),
        );
        Bound::from_owned_ptr_or_err(receiver.py(), out)
    }
}

/// `callable(*args)` without an argument tuple.
pub(crate) fn call<'py>(
    callable: &Bound<'py, PyAny>,
    args: &[&Bound<'py, PyAny>],
) -> PyResult<Bound<'py, PyAny>> {
    assert!(args.len() <= MAX_ARGS, "too many arguments for call");
    let mut stack: [*mut PyObject; MAX_ARGS] = [ptr::null_mut(); MAX_ARGS];
    for (slot, arg) in stack.iter_mut().zip(args) {
        *slot = arg.as_ptr();
    }
    // SAFETY: as in `call_method`: live borrowed references, GIL held, no keyword dict.
    unsafe {
        let out = PyObject_VectorcallDict(
            callable.as_ptr(),
            stack.as_ptr(),
            args.len(),
            ptr::null_mut(),
        );
        Bound::from_owned_ptr_or_err(callable.py(), out)
    }
}
