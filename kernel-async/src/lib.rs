//! rVisor's executor: runs the zCore object model's futures on the threads that make syscalls.
//!
//! A contained thread's syscall becomes a future ([`UserThread::spawn_user_top`]);
//! [`run_user_top`] runs it, and the kernel tasks it waits for, on the calling thread until it
//! is ready. While nothing can make progress the thread sleeps in the HAL's park hook (a
//! kernel wait queue in the module, a futex on the host) and is woken by its waker; it never
//! spins. Built on `async-task` (tasks and wakers) and `futures-util`.
//!
//! ```
//! use kernel_async::{run_user_top, UserThread};
//!
//! let thread = UserThread::new().unwrap();
//! thread.spawn_user_top(async { 39 + 3 }).unwrap();
//! assert_eq!(run_user_top(&thread), Ok(42));
//! ```

#![no_std]
#![deny(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod executor;
pub mod timer;

pub use executor::{run_user_top, spawn, yield_now, ExecutorError, Task, TaskKind, UserThread};
pub use timer::{sleep, sleep_until, Sleep};
