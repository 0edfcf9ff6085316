//! Every contact between rVisor and the Linux kernel.
//!
//! The C shim (`shim/rvisor_shim.c`, the project's only C) owns module init/exit and the
//! trampolines of every callback the kernel makes; this crate declares the shim through bindgen
//! and wraps it in safe types: the kmalloc allocator, a `log` backend over printk, user memory
//! through [`user_ptr::UserSlicePtr`], locks that are correct in kernel context, task handles,
//! the seccomp gate and the `module!` macro that connects a Rust type to the shim.
//!
//! All of rVisor's `unsafe` that touches the kernel lives here; crates above it have
//! `#![deny(unsafe_code)]`.
#![no_std]

extern crate alloc;

pub mod allocator;
pub mod anon_file;
pub mod bindings;
pub mod error;
pub mod gate;
pub mod hal;
pub mod host_file;
pub mod host_socket;
pub mod miscdev;
pub mod module;
pub mod notify;
pub mod path;
pub mod printk;
pub mod process;
pub mod signals;
pub mod sync;
pub mod sysview;
pub mod task;
pub mod user_ptr;
pub mod uts;
pub mod vfs;

pub use error::{Error, Result};
pub use spin;

/// The ioctl ABI of `/dev/rvisor` (`include/uapi/linux/rvisor.h`).
pub mod uapi {
    pub use crate::bindings::{
        rvisor_container_info, rvisor_create, rvisor_enter, rvisor_list, rvisor_mount,
        RVISOR_CONTAINER_DYING, RVISOR_ENTER_TTY, RVISOR_HOSTNAME_MAX, RVISOR_IOC_ADDSELF,
        RVISOR_IOC_CREATE, RVISOR_IOC_ENTER, RVISOR_IOC_LIST, RVISOR_IOC_MOUNT, RVISOR_IOC_NEWPTY,
        RVISOR_IOC_OPENPTY, RVISOR_IOC_REMOVE, RVISOR_MOUNT_FLAGS, RVISOR_ROOT_MAX,
    };
}
