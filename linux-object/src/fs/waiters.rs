//! [`Waiters`]: the wakers of the tasks waiting for one object to change, as a Linux wait
//! queue holds them. An object keeps one (or one per direction) under its own lock, adds a
//! waiter when a poll finds nothing to do, and takes them all to wake once the lock is
//! released.

use alloc::vec::Vec;
use core::task::{Context, Waker};

/// The wakers waiting on one condition.
#[derive(Default)]
pub struct Waiters(Vec<Waker>);

impl Waiters {
    /// No waiter.
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// Adds `cx`'s waker unless an equivalent one waits already (a task polling again, or an
    /// epoll item re-arming, is counted once).
    pub fn register(&mut self, cx: &Context<'_>) {
        if !self.0.iter().any(|waker| waker.will_wake(cx.waker())) {
            self.0.push(cx.waker().clone());
        }
    }

    /// Takes every waiter, to be woken with [`Woken::wake`] once the object's lock is
    /// released (a woken task polling at once must not find it held).
    #[must_use = "the taken waiters must be woken"]
    pub fn take(&mut self) -> Woken {
        Woken(core::mem::take(&mut self.0))
    }

    /// Whether nobody waits.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Waiters taken from an object, to wake after its lock is released.
#[must_use = "the taken waiters must be woken"]
pub struct Woken(Vec<Waker>);

impl Woken {
    /// Nobody to wake.
    pub const fn none() -> Self {
        Self(Vec::new())
    }

    /// Wakes them all.
    pub fn wake(self) {
        self.0.into_iter().for_each(Waker::wake);
    }
}
