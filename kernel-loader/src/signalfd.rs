//! The host's pending signals of the calling thread, for rVisor's signalfds: signals are
//! queued by the host to a contained process's host tasks, and taken from there.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::task::Context;

use kernel_hal_lkm::sync::Mutex;
use linux_kernel_module::signals::{self, SignalWatch};
use linux_object::fs::{SignalQueue, Waiters, SIGINFO_SIZE};

/// One signalfd's view of the host's signals, with a watch of the signalfd wait queue of each
/// task group that waited on it (after a `fork` the child's signals wake on its own queue).
pub struct KernelSignalQueue {
    watches: Mutex<Vec<SignalWatch>>,
    waiters: Arc<Mutex<Waiters>>,
}

impl KernelSignalQueue {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            watches: Mutex::new(Vec::new()),
            waiters: Arc::new(Mutex::new(Waiters::new())),
        })
    }

    /// Arms the watch of the calling task's queue, made if there is none yet (watches of
    /// queues that went away are dropped first). `false` with no memory for it.
    fn arm_current(&self) -> bool {
        let mut watches = self.watches.lock();
        if let Some(watch) = watches.iter().find(|watch| watch.is_current()) {
            watch.arm();
            return true;
        }
        // Freed outside the lock: a free waits for a callback in progress.
        let stale: Vec<SignalWatch> = {
            let (current, stale) = core::mem::take(&mut *watches)
                .into_iter()
                .partition(|watch: &SignalWatch| watch.is_current());
            *watches = current;
            stale
        };
        let woken = self.waiters.clone();
        // Called in process context (a workqueue), never under the host queue's lock.
        let wake = Box::new(move || woken.lock().take().wake());
        let armed = match SignalWatch::new(wake) {
            Some(watch) if watches.try_reserve(1).is_ok() => {
                watch.arm();
                watches.push(watch);
                true
            }
            _ => false,
        };
        drop(watches);
        drop(stale);
        armed
    }
}

impl SignalQueue for KernelSignalQueue {
    fn dequeue(&self, mask: u64) -> Option<[u8; SIGINFO_SIZE]> {
        signals::dequeue(mask)
    }

    fn poll(&self, mask: u64, cx: Option<&Context<'_>>) -> bool {
        if let Some(cx) = cx {
            self.waiters.lock().register(cx);
            if !self.arm_current() {
                // No watch: say ready rather than sleep with nobody to wake the waiter; a
                // read then gives EAGAIN or waits in a later poll.
                return true;
            }
        }
        signals::pending(mask)
    }
}
