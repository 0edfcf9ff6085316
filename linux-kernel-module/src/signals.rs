//! The calling thread's pending signals, for `signalfd`: taking one of a set
//! ([`dequeue`]), telling whether one is pending ([`pending`]), and a [`SignalWatch`] that
//! calls back when a signal is queued to the task.

use alloc::boxed::Box;
use core::ptr::NonNull;

use crate::bindings;
use crate::host_file::WatchTarget;

/// Size of `struct signalfd_siginfo`.
pub const SIGINFO_SIZE: usize = 128;

/// Takes the lowest pending signal of `mask` (bit `n - 1` for signal `n`), the thread's own
/// first, then its process's, as a `struct signalfd_siginfo`; `None` if none is pending.
pub fn dequeue(mask: u64) -> Option<[u8; SIGINFO_SIZE]> {
    let mut info = [0u8; SIGINFO_SIZE];
    // SAFETY: `info` is writable for the 128 bytes the shim writes; process context.
    let sig = unsafe { bindings::rvisor_signal_dequeue(mask, info.as_mut_ptr().cast()) };
    (sig > 0).then_some(info)
}

/// Whether a signal of `mask` is pending for the calling thread or its process.
pub fn pending(mask: u64) -> bool {
    // SAFETY: a plain call into the shim, in process context.
    unsafe { bindings::rvisor_signals_pending(mask) }
}

/// A watch of the calling task's signalfd wait queue (its signal handlers'): once armed, the
/// next signal queued to a task sharing them calls the watch's function once, in process
/// context (a workqueue).
pub struct SignalWatch {
    raw: NonNull<bindings::rvisor_file_watch>,
    target: NonNull<WatchTarget>,
}

// SAFETY: the shim serialises the watch's state; the target's function is `Send + Sync`.
unsafe impl Send for SignalWatch {}
// SAFETY: `arm` and `is_current` may run on several threads at once (atomics in the shim).
unsafe impl Sync for SignalWatch {}

impl SignalWatch {
    /// A watch of the calling task's queue calling `wake`; `None` with no memory.
    pub fn new(wake: Box<dyn Fn() + Send + Sync>) -> Option<Self> {
        let target = NonNull::from(Box::leak(Box::new(WatchTarget { wake })));
        // SAFETY: process context; `target` stays valid until `rvisor_file_watch_free` has
        // returned, after which no callback runs.
        let raw = unsafe { bindings::rvisor_signal_watch_new(target.as_ptr().cast()) };
        match NonNull::new(raw) {
            Some(raw) => Some(Self { raw, target }),
            None => {
                // SAFETY: the shim kept no pointer to it; it is ours, from `Box::leak` above.
                drop(unsafe { Box::from_raw(target.as_ptr()) });
                None
            }
        }
    }

    /// Whether the watch is on the calling task's queue (a forked child has a queue of its
    /// own, and a queue goes away with the last task using it).
    pub fn is_current(&self) -> bool {
        // SAFETY: the watch is alive; process context.
        unsafe { bindings::rvisor_signal_watch_is_current(self.raw.as_ptr()) }
    }

    /// The next wake-up of the queue calls the watch's function.
    pub fn arm(&self) {
        // SAFETY: the watch is alive.
        unsafe { bindings::rvisor_signal_watch_arm(self.raw.as_ptr()) }
    }
}

impl Drop for SignalWatch {
    fn drop(&mut self) {
        // SAFETY: the watch is ours; after this no callback runs or is pending.
        unsafe { bindings::rvisor_file_watch_free(self.raw.as_ptr()) };
        // SAFETY: leaked by `new` for the watch, which no longer uses it.
        drop(unsafe { Box::from_raw(self.target.as_ptr()) });
    }
}
