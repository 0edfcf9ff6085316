//! The host's `uname` fields.

use crate::bindings;

pub use bindings::rvisor_utsname as UtsName;

/// The host's utsname, each field NUL-terminated.
pub fn host_utsname() -> UtsName {
    let mut out = UtsName::default();
    // SAFETY: `out` is valid for writes; the shim writes NUL-terminated fields within bounds.
    unsafe { bindings::rvisor_utsname(&mut out) };
    out
}
