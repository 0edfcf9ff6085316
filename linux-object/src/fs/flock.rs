//! [`FlockTable`]: `flock(2)` locks, held by open file descriptions on inodes, as Linux's
//! `flock_lock_inode` keeps them.
//!
//! A lock belongs to an open file description, so `dup` and `fork` share it and it goes when
//! the description's last descriptor is closed ([`File`] releases it when dropped). Any
//! number of descriptions may hold a shared lock on an inode, or one an exclusive lock; a
//! request that conflicts waits (or fails with `EAGAIN` when it must not wait) until the
//! holders let go. Changing the kind of a held lock first drops it, as Linux does, so the
//! change is not atomic.
//!
//! The table is a container's: its locks exclude each other, not those the host or other
//! containers take on the same files.
//!
//! ```
//! use linux_object::fs::{FlockKind, FlockTable};
//! use linux_object::LxError;
//! # fn block_on<F: core::future::Future>(f: F) -> F::Output {
//! #     let mut f = core::pin::pin!(f);
//! #     let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
//! #     loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
//! # }
//!
//! let table = FlockTable::new();
//! let inode = (1, 42); // (dev, ino)
//! block_on(table.lock(inode, 1, FlockKind::Shared, true))?;
//! block_on(table.lock(inode, 2, FlockKind::Shared, true))?;
//! assert_eq!(block_on(table.lock(inode, 3, FlockKind::Exclusive, true)), Err(LxError::EAGAIN));
//! table.unlock(inode, 1);
//! table.unlock(inode, 2);
//! block_on(table.lock(inode, 3, FlockKind::Exclusive, true))?;
//! # Ok::<(), LxError>(())
//! ```
//!
//! [`File`]: super::File

use crate::error::{LxError, LxResult};
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::future::poll_fn;
use core::task::{Context, Poll, Waker};
use kernel_hal_lkm::sync::Mutex;

/// An inode's identity: `(dev, ino)`.
pub type InodeKey = (u64, u64);

/// Who holds a lock: an open file description, by its address (stable while it exists, and
/// it releases its locks before it goes).
pub type LockOwner = usize;

/// The kind of an `flock` lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlockKind {
    /// `LOCK_SH`: any number of holders.
    Shared,
    /// `LOCK_EX`: one holder.
    Exclusive,
}

#[derive(Default)]
struct InodeLocks {
    holders: BTreeMap<LockOwner, FlockKind>,
    /// Requests waiting for the holders to change.
    waiters: Vec<Waker>,
}

impl InodeLocks {
    /// Whether `owner` asking for `kind` conflicts with another holder.
    fn conflicts(&self, owner: LockOwner, kind: FlockKind) -> bool {
        self.holders
            .iter()
            .filter(|(holder, _)| **holder != owner)
            .any(|(_, held)| kind == FlockKind::Exclusive || *held == FlockKind::Exclusive)
    }
}

/// The `flock` locks of one container.
#[derive(Default)]
pub struct FlockTable {
    inodes: Mutex<BTreeMap<InodeKey, InodeLocks>>,
}

impl FlockTable {
    /// An empty table.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// `flock(LOCK_SH / LOCK_EX)` by `owner` on `inode`: holds `kind` once no other holder
    /// conflicts. A lock of the other kind `owner` held is dropped first; the same kind is
    /// already there. With `nonblock` (`LOCK_NB`), a conflict is `EAGAIN`; otherwise the
    /// request waits, woken when the holders change.
    pub async fn lock(
        &self,
        inode: InodeKey,
        owner: LockOwner,
        kind: FlockKind,
        nonblock: bool,
    ) -> LxResult {
        {
            let mut inodes = self.inodes.lock();
            let locks = inodes.entry(inode).or_default();
            match locks.holders.get(&owner).copied() {
                Some(held) if held == kind => return Ok(()),
                Some(_) => {
                    locks.holders.remove(&owner);
                    let waiters = core::mem::take(&mut locks.waiters);
                    drop(inodes);
                    waiters.into_iter().for_each(Waker::wake);
                }
                None => {}
            }
        }
        poll_fn(|cx| self.try_lock(inode, owner, kind, nonblock, cx)).await
    }

    fn try_lock(
        &self,
        inode: InodeKey,
        owner: LockOwner,
        kind: FlockKind,
        nonblock: bool,
        cx: &Context<'_>,
    ) -> Poll<LxResult> {
        let mut inodes = self.inodes.lock();
        let locks = inodes.entry(inode).or_default();
        if !locks.conflicts(owner, kind) {
            locks.holders.insert(owner, kind);
            return Poll::Ready(Ok(()));
        }
        if nonblock {
            if locks.holders.is_empty() && locks.waiters.is_empty() {
                inodes.remove(&inode);
            }
            return Poll::Ready(Err(LxError::EAGAIN));
        }
        if !locks.waiters.iter().any(|w| w.will_wake(cx.waker())) {
            locks.waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// `flock(LOCK_UN)` by `owner` on `inode` (nothing if it held none), or the release of
    /// its lock when the description goes; wakes the waiting requests.
    pub fn unlock(&self, inode: InodeKey, owner: LockOwner) {
        let waiters = {
            let mut inodes = self.inodes.lock();
            let Some(locks) = inodes.get_mut(&inode) else {
                return;
            };
            if locks.holders.remove(&owner).is_none() {
                return;
            }
            let waiters = core::mem::take(&mut locks.waiters);
            if locks.holders.is_empty() {
                inodes.remove(&inode);
            }
            waiters
        };
        waiters.into_iter().for_each(Waker::wake);
    }

    /// The lock `owner` holds on `inode`, if any.
    pub fn held(&self, inode: InodeKey, owner: LockOwner) -> Option<FlockKind> {
        self.inodes
            .lock()
            .get(&inode)
            .and_then(|locks| locks.holders.get(&owner).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_executor::{block_on, poll_once, CountingWaker};
    use std::pin::pin;

    const INODE: InodeKey = (7, 1234);

    #[test]
    fn shared_locks_coexist_and_exclude_an_exclusive_one() {
        let table = FlockTable::new();
        block_on(table.lock(INODE, 1, FlockKind::Shared, true)).unwrap();
        block_on(table.lock(INODE, 2, FlockKind::Shared, true)).unwrap();
        assert_eq!(
            block_on(table.lock(INODE, 3, FlockKind::Exclusive, true)),
            Err(LxError::EAGAIN)
        );
        assert_eq!(
            block_on(table.lock((7, 9), 3, FlockKind::Exclusive, true)),
            Ok(()),
            "another inode"
        );
        // Converting to exclusive drops the shared lock first, then conflicts with holder 2.
        assert_eq!(
            block_on(table.lock(INODE, 1, FlockKind::Exclusive, true)),
            Err(LxError::EAGAIN)
        );
        assert_eq!(table.held(INODE, 1), None, "the old lock is gone");
        table.unlock(INODE, 2);
        block_on(table.lock(INODE, 1, FlockKind::Exclusive, true)).unwrap();
        block_on(table.lock(INODE, 1, FlockKind::Exclusive, true)).unwrap();
        assert_eq!(table.held(INODE, 1), Some(FlockKind::Exclusive));
    }

    #[test]
    fn a_waiting_request_is_woken_by_the_unlock() {
        let table = FlockTable::new();
        block_on(table.lock(INODE, 1, FlockKind::Exclusive, false)).unwrap();
        let (counter, waker) = CountingWaker::new();
        let mut wait = pin!(table.lock(INODE, 2, FlockKind::Shared, false));
        assert!(poll_once(wait.as_mut(), &waker).is_pending());
        table.unlock(INODE, 3);
        assert_eq!(counter.wakes(), 0, "not a holder: nothing changes");
        table.unlock(INODE, 1);
        assert_eq!(counter.wakes(), 1);
        assert_eq!(poll_once(wait.as_mut(), &waker), Poll::Ready(Ok(())));
        assert_eq!(table.held(INODE, 2), Some(FlockKind::Shared));
    }
}
