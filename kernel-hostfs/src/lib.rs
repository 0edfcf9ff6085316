//! rVisor's VFS traits and `HostFs` (work in progress).
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;
