//! rVisor's hardware abstraction layer.
//!
//! [`surface`] declares, in one place, everything `zircon-object` and `kernel-async` use from
//! the machine: a container's physical memory and its frames, the page table of an address
//! space, time, copies from and to user memory, and the executor's park hook. Its items are
//! re-exported here.
//!
//! Backends implement the surface. On a hosted target the [`host`] backend serves it from user
//! space — a tmpfs file under `/dev/shm` is a container's physical memory, and a page table maps
//! its frames into a reserved region of the calling process with `mmap(MAP_SHARED|MAP_FIXED)`
//! — so everything above can be tested with `cargo test`. The kernel backend does the same with
//! a `shmem_file_setup` file and `vm_mmap`, and is installed with [`install_platform`].
//!
//! ```
//! use kernel_hal_lkm::{platform, PhysFrame};
//!
//! # fn main() -> Result<(), kernel_hal_lkm::HalError> {
//! let memory = platform()?.new_physical_memory(4)?;
//! let frame = PhysFrame::alloc(&memory)?;
//! memory.write(frame.paddr(), b"frame")?;
//! let mut bytes = [0; 5];
//! memory.read(frame.paddr(), &mut bytes)?;
//! assert_eq!(&bytes, b"frame");
//! # Ok(())
//! # }
//! ```

#![no_std]

extern crate alloc;
#[cfg(not(target_os = "none"))]
extern crate std;

pub mod file_backed;
pub mod surface;
pub mod sync;

#[cfg(not(target_os = "none"))]
pub mod host;

#[cfg(target_os = "none")]
pub mod lkm;

pub use surface::*;
