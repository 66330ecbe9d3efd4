//! Generates the C header from `src/ffi/` with cbindgen.
//!
//! The header is written into OUT_DIR on every build (a test compares it with the checked-in
//! `include/oauth2_engine.h`). The checked-in copy is rewritten only when asked, with
//! `O2E_WRITE_HEADER=1 cargo build`, so that an ordinary build never modifies the source tree.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=src/lib.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=O2E_WRITE_HEADER");

    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable and valid");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        // Only the ABI module (cbindgen follows its `mod` items): the rest of the crate has no
        // business in the header.
        .with_src(crate_dir.join("src/ffi/mod.rs"))
        .generate()
        .expect("cbindgen could not generate the header from src/ffi");
    bindings.write_to_file(out_dir.join("oauth2_engine.h"));
    if env::var_os("O2E_WRITE_HEADER").is_some_and(|v| v == "1") {
        bindings.write_to_file(crate_dir.join("include/oauth2_engine.h"));
    }
}
