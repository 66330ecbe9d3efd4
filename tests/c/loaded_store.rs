//! The C store of tests/c/store.c inside this Rust test process: compiled into a shared object
//! at test time, loaded with `dlopen`, and handed to the engine's callback adapter through
//! [`oauth2_engine::ffi::storage_from_callbacks`], so that the Rust storage contract drives the
//! very adapter and C code that C hosts run.
//!
//! The shared object gets the engine's `o2e_` functions from tests/c/glue.c, bound to this
//! process's own copy of the library (see there why).

#![allow(dead_code)]

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use oauth2_engine::ffi::{self, o2e_callbacks, storage_from_callbacks};
use oauth2_engine::{Client, Storage};

use super::harness;

type StoreNew = unsafe extern "C" fn(clients_json: *const *const c_char) -> *mut c_void;
type StoreFree = unsafe extern "C" fn(store: *mut c_void);
type StoreInstall = unsafe extern "C" fn(store: *mut c_void, cb: *mut o2e_callbacks);
type StorePutClient = unsafe extern "C" fn(store: *mut c_void, json: *const c_char) -> c_int;
type StoreRemoveClient = unsafe extern "C" fn(store: *mut c_void, id: *const c_char) -> c_int;

/// `struct o2e_glue` of tests/c/glue.c: the engine's functions, field for field.
#[repr(C)]
struct Glue {
    status_name: *const c_void,
    last_error: *const c_void,
    engine_handle: *const c_void,
    buf_free: *const c_void,
    json_get: *const c_void,
    sink_write: *const c_void,
}

/// The loaded shared object's entry points. It is never unloaded: stores made from it may live
/// until the process ends.
struct Lib {
    store_new: StoreNew,
    store_free: StoreFree,
    store_install: StoreInstall,
    store_put_client: StorePutClient,
    store_remove_client: StoreRemoveClient,
}

fn lib() -> &'static Lib {
    static LIB: OnceLock<Lib> = OnceLock::new();
    LIB.get_or_init(|| {
        let path = build();
        // SAFETY: the object was just built from our own sources; its symbols have the types
        // declared in tests/c/store.h and tests/c/glue.c, mirrored above.
        unsafe { load(&path) }
    })
}

/// Compiles store.c, common.c and glue.c into a shared object under the target directory.
fn build() -> PathBuf {
    let root = harness::root();
    let dir = harness::out_dir();
    let target = dir.join("libo2e_test_store.so");
    // Written under a name of its own and renamed into place, so that two test processes
    // building at once never load a half-written file.
    let tmp = dir.join(format!("libo2e_test_store.{}.so", std::process::id()));
    let out = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-g", "-O1"])
        .args(["-fPIC", "-shared"])
        // The forwarders of glue.c, not any other o2e_ symbol in the process, serve the calls
        // from inside the object.
        .arg("-Wl,-Bsymbolic")
        .arg("-I")
        .arg(root.join("include"))
        .arg("-I")
        .arg(root.join("tests/c"))
        .args(["tests/c/glue.c", "tests/c/store.c", "tests/c/common.c"].map(|s| root.join(s)))
        .arg("-lpthread")
        .arg("-o")
        .arg(&tmp)
        .output()
        .expect("run the C compiler (cc)");
    assert!(
        out.status.success(),
        "compiling the C store failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(&tmp, &target).expect("move the C store into place");
    target
}

/// # Safety
/// `path` must be the object [`build`] made.
unsafe fn load(path: &std::path::Path) -> Lib {
    let c_path = CString::new(path.to_str().expect("UTF-8 path")).unwrap();
    let handle = libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
    if handle.is_null() {
        panic!("dlopen {}: {}", path.display(), dl_error());
    }
    let sym = |name: &str| -> *mut c_void {
        let c_name = CString::new(name).unwrap();
        let p = libc::dlsym(handle, c_name.as_ptr());
        assert!(!p.is_null(), "dlsym {name}: {}", dl_error());
        p
    };
    let bind =
        std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*const Glue)>(sym("o2e_glue_bind"));
    let glue = Glue {
        status_name: ffi::o2e_status_name as *const c_void,
        last_error: ffi::o2e_last_error as *const c_void,
        engine_handle: ffi::o2e_engine_handle as *const c_void,
        buf_free: ffi::o2e_buf_free as *const c_void,
        json_get: ffi::o2e_json_get as *const c_void,
        sink_write: ffi::o2e_sink_write as *const c_void,
    };
    bind(&glue);
    Lib {
        store_new: std::mem::transmute::<*mut c_void, StoreNew>(sym("store_new")),
        store_free: std::mem::transmute::<*mut c_void, StoreFree>(sym("store_free")),
        store_install: std::mem::transmute::<*mut c_void, StoreInstall>(sym("store_install")),
        store_put_client: std::mem::transmute::<*mut c_void, StorePutClient>(sym(
            "store_put_client",
        )),
        store_remove_client: std::mem::transmute::<*mut c_void, StoreRemoveClient>(sym(
            "store_remove_client",
        )),
    }
}

fn dl_error() -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated string valid until the next dl call.
    unsafe {
        let e = libc::dlerror();
        if e.is_null() {
            "unknown error".into()
        } else {
            CStr::from_ptr(e).to_string_lossy().into_owned()
        }
    }
}

/// An empty C store behind the engine's callback adapter.
pub struct CStore {
    /// Owns the C store: dropping the last clone of it runs `store_free` (`free_userdata`).
    storage: Storage,
    /// The store itself, for the client registry that no storage trait covers. Valid while
    /// `storage` lives, which is as long as `self`.
    raw: *mut c_void,
}

impl CStore {
    pub fn new() -> CStore {
        let lib = lib();
        let no_clients: [*const c_char; 1] = [std::ptr::null()];
        // SAFETY: store_new copies the (empty, NULL-terminated) array; the zeroed struct is the
        // documented way to start an `o2e_callbacks` (NULL callbacks are "not implemented"),
        // and store_install fills every storage callback. `storage_from_callbacks` takes the
        // store (and its free function) only when it succeeds.
        unsafe {
            let raw = (lib.store_new)(no_clients.as_ptr());
            assert!(!raw.is_null(), "store_new");
            let mut cb: o2e_callbacks = std::mem::zeroed();
            cb.abi_version = ffi::O2E_CALLBACKS_ABI_VERSION;
            (lib.store_install)(raw, &mut cb);
            cb.free_userdata = Some(lib.store_free);
            let storage = storage_from_callbacks(&cb).unwrap_or_else(|e| {
                (lib.store_free)(raw);
                panic!("storage_from_callbacks: {e}")
            });
            CStore { storage, raw }
        }
    }

    pub fn storage(&self) -> Storage {
        self.storage.clone()
    }

    /// Registers (or replaces) a client, as JSON: the format the C store keeps and serves.
    pub fn put_client(&self, client: &Client) {
        let json = CString::new(serde_json::to_string(client).unwrap()).unwrap();
        // SAFETY: `raw` is alive (see the field); the function copies the string.
        let rc = unsafe { (lib().store_put_client)(self.raw, json.as_ptr()) };
        assert_eq!(rc, 0, "store_put_client");
    }

    pub fn remove_client(&self, client_id: &str) -> bool {
        let id = CString::new(client_id).unwrap();
        // SAFETY: as in `put_client`.
        unsafe { (lib().store_remove_client)(self.raw, id.as_ptr()) == 1 }
    }
}

impl Default for CStore {
    fn default() -> Self {
        CStore::new()
    }
}
