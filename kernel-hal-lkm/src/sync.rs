//! The lock of the crates above the HAL: a spin lock whose waiters give the CPU away.
//!
//! A plain spin lock is wrong in a preemptible kernel: its holder may sleep (an allocation, a
//! file read) or be preempted, and a waiter on the same CPU then spins forever, since nothing
//! makes it yield (on one CPU, a soft lockup). [`Mutex`] waits through the platform's
//! [`Platform::relax`], which in the kernel reschedules when the waiter may sleep, so the holder
//! gets to run and release it.
//!
//! ```
//! use kernel_hal_lkm::sync::Mutex;
//!
//! let counter = Mutex::new(0);
//! *counter.lock() += 1;
//! assert_eq!(*counter.lock(), 1);
//! ```

use crate::surface::PLATFORM;

/// How a [`Mutex`] waiter waits: through the installed platform, or by spinning before one is.
pub struct Relax;

impl spin::RelaxStrategy for Relax {
    #[inline]
    fn relax() {
        match PLATFORM.get() {
            Some(platform) => platform.relax(),
            None => core::hint::spin_loop(),
        }
    }
}

/// A mutual-exclusion lock whose waiters yield the CPU where they may.
pub type Mutex<T> = spin::mutex::Mutex<T, Relax>;

/// The guard of a locked [`Mutex`].
pub use spin::MutexGuard;
