//! Locks that are correct in kernel context.
//!
//! [`SpinLock`] disables preemption while held, as the kernel's `spinlock_t` does: a holder is
//! never preempted by a task that then spins on it (which would hang a single CPU), and it may be
//! taken in atomic context (tracepoints, the gate's ftrace callback). Nothing may sleep under it:
//! no `GFP_KERNEL` allocation, no [`Mutex`]. [`Mutex`] is the kernel's sleeping `struct mutex`,
//! for process context only.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;

use crate::bindings;
use crate::error::{Error, Result};

/// A spin lock that disables preemption while held.
pub struct SpinLock<T> {
    inner: spin::Mutex<T>,
}

/// Access to the data of a held [`SpinLock`]; dropping it unlocks.
pub struct SpinLockGuard<'a, T> {
    // Dropped before preemption is enabled again (field drop order is declaration order).
    guard: spin::MutexGuard<'a, T>,
    _preempt: PreemptDisabled,
}

/// Preemption is disabled while this lives.
struct PreemptDisabled;

impl PreemptDisabled {
    #[inline]
    fn new() -> Self {
        // SAFETY: a plain call into the shim; balanced by `drop`.
        unsafe { bindings::rvisor_preempt_disable() };
        PreemptDisabled
    }
}

impl Drop for PreemptDisabled {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: balances the `rvisor_preempt_disable` of `new`.
        unsafe { bindings::rvisor_preempt_enable() };
    }
}

impl<T> SpinLock<T> {
    /// A new unlocked lock.
    pub const fn new(value: T) -> Self {
        SpinLock {
            inner: spin::Mutex::new(value),
        }
    }

    /// Disables preemption and takes the lock.
    #[inline]
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        let preempt = PreemptDisabled::new();
        SpinLockGuard {
            guard: self.inner.lock(),
            _preempt: preempt,
        }
    }

    /// Takes the lock where preemption is disabled already (`atomic` proves it): no call to
    /// toggle it, for the syscall gate's callback.
    pub fn lock_atomic<'a>(&'a self, _atomic: &'a AtomicContext) -> spin::MutexGuard<'a, T> {
        self.inner.lock()
    }
}

/// Proof that the code holding it runs with preemption disabled. Only this crate makes one, for
/// the callbacks the kernel runs that way.
pub struct AtomicContext(());

impl AtomicContext {
    /// # Safety
    ///
    /// Preemption must stay disabled while the value lives.
    pub(crate) unsafe fn new() -> Self {
        AtomicContext(())
    }
}

impl<T> Deref for SpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

/// The kernel's sleeping mutex around `T`, for process context.
pub struct Mutex<T> {
    raw: NonNull<bindings::rvisor_mutex>,
    data: UnsafeCell<T>,
}

// SAFETY: the kernel mutex serialises every access to `data`.
unsafe impl<T: Send> Send for Mutex<T> {}
// SAFETY: as above: `&Mutex` only gives access to `T` under the lock.
unsafe impl<T: Send> Sync for Mutex<T> {}

/// Access to the data of a held [`Mutex`]; dropping it unlocks.
pub struct MutexGuard<'a, T> {
    lock: &'a Mutex<T>,
}

impl<T> Mutex<T> {
    /// A new unlocked mutex; `ENOMEM` if the kernel object cannot be allocated.
    pub fn new(value: T) -> Result<Self> {
        // SAFETY: a plain call into the shim; it returns NULL on failure.
        let raw = NonNull::new(unsafe { bindings::rvisor_mutex_new() }).ok_or(Error::ENOMEM)?;
        Ok(Mutex {
            raw,
            data: UnsafeCell::new(value),
        })
    }

    /// Takes the lock, sleeping until it is free.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        // SAFETY: `raw` is a live, initialised mutex owned by `self`.
        unsafe { bindings::rvisor_mutex_lock(self.raw.as_ptr()) };
        MutexGuard { lock: self }
    }
}

impl<T> Drop for Mutex<T> {
    fn drop(&mut self) {
        // SAFETY: nobody holds the lock (`&mut self`); it is freed once.
        unsafe { bindings::rvisor_mutex_free(self.raw.as_ptr()) };
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the lock is held for the guard's lifetime.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the lock is held for the guard's lifetime, and the guard is borrowed mutably.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this guard holds the lock.
        unsafe { bindings::rvisor_mutex_unlock(self.lock.raw.as_ptr()) };
    }
}
