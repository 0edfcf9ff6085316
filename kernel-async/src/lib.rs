//! rVisor's executor: runs the zCore object model's futures on the threads that make syscalls.
//!
//! A contained thread's syscall is a future that [`run_user_top`] polls in place, on the
//! calling thread, until it is ready, running the kernel tasks it waits for meanwhile. While nothing can make progress the thread sleeps in the HAL's park hook (a
//! kernel wait queue in the module, a futex on the host) and is woken by its waker; it never
//! spins. Built on `async-task` (tasks and wakers) and `futures-util`.
//!
//! ```
//! use kernel_async::{run_user_top, UserThread};
//!
//! let thread = UserThread::new().unwrap();
//! assert_eq!(run_user_top(&thread, async { 39 + 3 }), Ok(42));
//! ```

#![no_std]
#![deny(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod executor;
pub mod timer;

pub use executor::{
    run_user_top, spawn, wakes_only_a_thread, yield_now, ExecutorError, Task, UserThread,
};
pub use timer::{sleep, sleep_until, Sleep};
