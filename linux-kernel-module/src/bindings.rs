//! Raw declarations of the C shim (`shim/rvisor_shim.h`) and the UAPI header, from bindgen.
//! Use the safe wrappers of this crate instead.
#![allow(
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    dead_code,
    missing_docs
)]
#![allow(clippy::all)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
