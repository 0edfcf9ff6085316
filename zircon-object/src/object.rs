//! What every kernel object has: an id, a name, signals, and waits on those signals.
//!
//! An object embeds a [`KObjectBase`] and implements [`KernelObject`] by returning it; the
//! trait's provided methods do the rest. Waiting is asynchronous: [`KernelObject::wait_signal`]
//! is a future that is ready once any of the awaited signals is set.
//!
//! ```
//! use kernel_async::{run_user_top, spawn, UserThread};
//! use std::sync::Arc;
//! use zircon_object::object::{KObjectBase, KernelObject, Signal};
//!
//! struct Event {
//!     base: KObjectBase,
//! }
//!
//! impl KernelObject for Event {
//!     fn base(&self) -> &KObjectBase {
//!         &self.base
//!     }
//!     fn type_name(&self) -> &'static str {
//!         "Event"
//!     }
//! }
//!
//! let event = Arc::new(Event { base: KObjectBase::new() });
//! let waiter = {
//!     let event = event.clone();
//!     spawn(async move { event.wait_signal(Signal::USER_0).await })
//! };
//! event.signal_set(Signal::USER_0);
//!
//! let thread = UserThread::new().unwrap();
//! let value = run_user_top(&thread, async move { waiter.await.bits() as isize });
//! assert_eq!(value, Ok(Signal::USER_0.bits() as isize));
//! ```

use alloc::{string::String, vec::Vec};
use core::{
    future::Future,
    pin::Pin,
    sync::atomic::{AtomicU64, Ordering},
    task::{Context, Poll, Waker},
};
use kernel_hal_lkm::sync::Mutex;

/// A kernel object's id, unique for the life of the kernel.
pub type Koid = u64;

/// Longest name an object keeps, in bytes.
pub const MAX_NAME_LEN: usize = 32;

/// The first id handed out; lower ids are reserved, as in Zircon.
const FIRST_KOID: Koid = 1024;

static NEXT_KOID: AtomicU64 = AtomicU64::new(FIRST_KOID);

bitflags::bitflags! {
    /// Signals of an object: conditions a waiter can wait for.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct Signal: u32 {
        /// Data can be read.
        const READABLE = 1 << 0;
        /// Data can be written.
        const WRITABLE = 1 << 1;
        /// The other end of the object was closed.
        const PEER_CLOSED = 1 << 2;
        /// The object reached its final state; for tasks: it terminated.
        const SIGNALED = 1 << 3;
        /// A job, process or thread terminated.
        const TASK_TERMINATED = Self::SIGNALED.bits();
        /// Free for users of the object.
        const USER_0 = 1 << 24;
        /// Free for users of the object.
        const USER_1 = 1 << 25;
        /// Free for users of the object.
        const USER_2 = 1 << 26;
        /// Free for users of the object.
        const USER_3 = 1 << 27;
    }
}

/// The state every kernel object embeds.
pub struct KObjectBase {
    id: Koid,
    name: Mutex<String>,
    signals: Mutex<SignalState>,
}

/// An object's signals and the waiters on them, under one lock: a waiter registers after
/// looking at the signals in the same critical section as a setter changes them, so it can
/// never miss a change.
struct SignalState {
    current: Signal,
    waiters: Vec<SignalWaiter>,
    next_waiter: u64,
}

struct SignalWaiter {
    id: u64,
    mask: Signal,
    waker: Waker,
}

impl KObjectBase {
    /// A base with a fresh id, no name and no signal set.
    pub fn new() -> Self {
        Self::with_signal(Signal::empty())
    }

    /// A base with a fresh id and the signals `signal` set.
    pub fn with_signal(signal: Signal) -> Self {
        Self {
            id: NEXT_KOID.fetch_add(1, Ordering::Relaxed),
            name: Mutex::new(String::new()),
            signals: Mutex::new(SignalState {
                current: signal,
                waiters: Vec::new(),
                next_waiter: 0,
            }),
        }
    }

    /// Clears the signals `clear`, then sets `set`, and wakes the waiters that now see a
    /// signal they wait for.
    pub fn signal_change(&self, clear: Signal, set: Signal) {
        let mut woken = Vec::new();
        {
            let mut state = self.signals.lock();
            let current = (state.current - clear) | set;
            state.current = current;
            state.waiters.retain(|waiter| {
                if waiter.mask.intersects(current) {
                    woken.push(waiter.waker.clone());
                    false
                } else {
                    true
                }
            });
        }
        // Woken outside the lock: a woken task may be polled at once and look again.
        woken.into_iter().for_each(Waker::wake);
    }
}

impl Default for KObjectBase {
    fn default() -> Self {
        Self::new()
    }
}

/// A kernel object.
pub trait KernelObject: Send + Sync {
    /// The embedded base.
    fn base(&self) -> &KObjectBase;

    /// The kind of the object, as Zircon names it.
    fn type_name(&self) -> &'static str;

    /// The object's id.
    fn id(&self) -> Koid {
        self.base().id
    }

    /// The object's name.
    fn name(&self) -> String {
        self.base().name.lock().clone()
    }

    /// Names the object; a name longer than [`MAX_NAME_LEN`] bytes is cut at a character
    /// boundary.
    fn set_name(&self, name: &str) {
        let mut end = name.len().min(MAX_NAME_LEN);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        let kept = name.get(..end).unwrap_or_default();
        *self.base().name.lock() = String::from(kept);
    }

    /// The signals set now.
    fn signal(&self) -> Signal {
        self.base().signals.lock().current
    }

    /// Sets the signals `set`.
    fn signal_set(&self, set: Signal) {
        self.base().signal_change(Signal::empty(), set);
    }

    /// Clears the signals `clear`.
    fn signal_clear(&self, clear: Signal) {
        self.base().signal_change(clear, Signal::empty());
    }

    /// Waits until any of the signals in `mask` is set; gives all signals set then.
    fn wait_signal(&self, mask: Signal) -> WaitSignal<'_> {
        WaitSignal {
            base: self.base(),
            mask,
            waiter: None,
        }
    }
}

/// The future of [`KernelObject::wait_signal`].
#[must_use = "a wait does nothing unless awaited"]
pub struct WaitSignal<'a> {
    base: &'a KObjectBase,
    mask: Signal,
    /// The registration among the object's waiters, once polled while unsatisfied.
    waiter: Option<u64>,
}

impl Future for WaitSignal<'_> {
    type Output = Signal;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Signal> {
        let mut state = self.base.signals.lock();
        if state.current.intersects(self.mask) {
            let current = state.current;
            if let Some(id) = self.waiter {
                state.waiters.retain(|waiter| waiter.id != id);
            }
            drop(state);
            self.waiter = None;
            return Poll::Ready(current);
        }
        let id = match self.waiter {
            Some(id) => id,
            None => {
                state.next_waiter += 1;
                state.next_waiter
            }
        };
        match state.waiters.iter_mut().find(|waiter| waiter.id == id) {
            Some(waiter) => waiter.waker.clone_from(cx.waker()),
            // New, or woken and taken off the list by a change that was undone since.
            None => state.waiters.push(SignalWaiter {
                id,
                mask: self.mask,
                waker: cx.waker().clone(),
            }),
        }
        drop(state);
        self.waiter = Some(id);
        Poll::Pending
    }
}

impl Drop for WaitSignal<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.waiter {
            self.base
                .signals
                .lock()
                .waiters
                .retain(|waiter| waiter.id != id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::block_on;
    use alloc::sync::Arc;
    use futures_util::FutureExt;

    struct Dummy {
        base: KObjectBase,
    }

    impl KernelObject for Dummy {
        fn base(&self) -> &KObjectBase {
            &self.base
        }
        fn type_name(&self) -> &'static str {
            "Dummy"
        }
    }

    fn dummy() -> Arc<Dummy> {
        Arc::new(Dummy {
            base: KObjectBase::new(),
        })
    }

    #[test]
    fn ids_are_unique_and_increasing() {
        let first = dummy();
        let second = dummy();
        assert!(first.id() >= FIRST_KOID);
        assert!(second.id() > first.id());
        assert_eq!(first.type_name(), "Dummy");
    }

    #[test]
    fn names_are_cut_at_a_character_boundary() {
        let object = dummy();
        assert_eq!(object.name(), "");
        object.set_name("init");
        assert_eq!(object.name(), "init");
        // 31 ASCII bytes, then a 2-byte character straddling the limit.
        let long = alloc::format!("{}é tail", "a".repeat(31));
        object.set_name(&long);
        assert_eq!(object.name(), "a".repeat(31));
    }

    #[test]
    fn a_wait_on_a_set_signal_is_ready_at_once() {
        let object = dummy();
        object.signal_set(Signal::READABLE | Signal::USER_1);
        let seen = object
            .wait_signal(Signal::USER_1)
            .now_or_never()
            .expect("ready");
        assert_eq!(seen, Signal::READABLE | Signal::USER_1);
    }

    #[test]
    fn a_waiter_is_woken_by_a_matching_signal_only() {
        let object = dummy();
        let waiter = {
            let object = object.clone();
            kernel_async::spawn(async move { object.wait_signal(Signal::WRITABLE).await })
        };
        let setter = {
            let object = object.clone();
            std::thread::spawn(move || {
                std::thread::sleep(core::time::Duration::from_millis(20));
                object.signal_set(Signal::READABLE);
                std::thread::sleep(core::time::Duration::from_millis(20));
                object.signal_clear(Signal::READABLE);
                object.signal_set(Signal::WRITABLE);
            })
        };
        let seen = block_on(waiter);
        setter.join().unwrap();
        assert_eq!(seen, Signal::WRITABLE);
    }

    #[test]
    fn a_dropped_wait_leaves_no_waiter_behind() {
        let object = dummy();
        let mut wait = object.wait_signal(Signal::USER_2);
        assert!((&mut wait).now_or_never().is_none());
        assert_eq!(object.base().signals.lock().waiters.len(), 1);
        drop(wait);
        assert!(object.base().signals.lock().waiters.is_empty());
    }
}
