//! The ioctl ABI from the one UAPI header the module is built with.

use std::env;
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let uapi = dir.join("../linux-kernel-module/include/uapi/linux/rvisor.h");
    println!("cargo:rerun-if-changed={}", uapi.display());
    let bindings = bindgen::Builder::default()
        .header(uapi.to_string_lossy())
        .clang_arg("--target=x86_64-unknown-linux-gnu")
        .layout_tests(false)
        .derive_default(true)
        .clang_macro_fallback()
        .allowlist_type("rvisor_.*")
        .allowlist_var("RVISOR_.*")
        .generate()
        .expect("bindgen failed on rvisor.h (is libclang installed? `cargo xtask setup`)");
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    bindings
        .write_to_file(out.join("uapi.rs"))
        .expect("cannot write uapi.rs");
}
