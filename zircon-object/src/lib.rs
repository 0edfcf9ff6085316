//! rVisor's kernel objects: the zCore object model, over the HAL of `kernel-hal-lkm`.
//!
//! - [`object`]: what every object has — an id, a name, signals and async waits on them.
//! - [`task`]: [`Job`](task::Job) (a container's root), [`Process`](task::Process) and
//!   [`Thread`](task::Thread).
//! - [`vm`]: [`VmObject`](vm::VmObject) (paged memory, copy-on-write children) and
//!   [`VmAddressRegion`](vm::VmAddressRegion) (an address space and its mappings).
//! - [`futex`]: wait queues keyed by address, with wake, requeue and timeouts.
//!
//! Nothing here knows about Linux, and nothing names a HAL backend: a container's physical
//! memory and an address space's page table come from the HAL at run time.
//!
//! ```
//! use kernel_hal_lkm::{platform, MmuFlags, PAGE_SIZE};
//! use zircon_object::{task::{Job, Process}, vm::{Placement, VmObject}};
//!
//! let container = Job::root(platform().unwrap().new_physical_memory(256).unwrap());
//! let process = Process::create(&container, "init").unwrap();
//! let stack = VmObject::new_paged(container.physical_memory(), 4).unwrap();
//! let top = process
//!     .vmar()
//!     .map(Placement::Anywhere, &stack, 0, 4 * PAGE_SIZE, MmuFlags::READ | MmuFlags::WRITE)
//!     .unwrap();
//! process.vmar().write_memory(top, b"argv").unwrap();
//! ```

#![no_std]
#![deny(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod futex;
pub mod object;
pub mod task;
pub mod vm;

#[cfg(test)]
mod tests {
    use core::future::Future;
    use kernel_async::{run_user_top, UserThread};
    use std::sync::{Arc, Mutex};

    /// Runs `future` to completion on the executor, driven by the calling thread.
    pub fn block_on<T: Send + 'static>(future: impl Future<Output = T> + Send + 'static) -> T {
        let output = Arc::new(Mutex::new(None));
        let slot = output.clone();
        let thread = UserThread::new().unwrap();
        assert_eq!(
            run_user_top(&thread, async move {
                *slot.lock().unwrap() = Some(future.await);
                0
            }),
            Ok(0)
        );
        let value = output.lock().unwrap().take();
        value.unwrap()
    }
}
