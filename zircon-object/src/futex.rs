//! Futexes: wait queues keyed by the address of a 32-bit word.
//!
//! A waiter names an address and the value it expects the word there to hold. The word is
//! read under the table's lock, and wakers change the word before they wake, so a waiter
//! either sees the new value and does not sleep, or is queued before the wake looks: no wake
//! is lost. Waits are futures, with an optional deadline on the monotonic clock.
//!
//! ```
//! use core::sync::atomic::{AtomicU32, Ordering};
//! use kernel_async::{run_user_top, UserThread};
//! use std::sync::Arc;
//! use zircon_object::futex::FutexTable;
//!
//! let table = FutexTable::new();
//! let word = Arc::new(AtomicU32::new(0));
//! let load = { let word = word.clone(); move || Ok(word.load(Ordering::SeqCst)) };
//! let wait = table.wait(0x1000, 0, load, None).unwrap();
//!
//! word.store(1, Ordering::SeqCst);
//! assert_eq!(table.wake(0x1000, 1), 1);
//!
//! let thread = UserThread::new().unwrap();
//! assert_eq!(run_user_top(&thread, async move { wait.await.map_or(-1, |()| 0) }), Ok(0));
//! ```

use crate::vm::VmError;
use alloc::{collections::BTreeMap, collections::VecDeque, sync::Arc, vec::Vec};
use core::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll, Waker},
    time::Duration,
};
use kernel_async::{sleep_until, Sleep};
use kernel_hal_lkm::sync::Mutex;
use kernel_hal_lkm::{HalError, VirtAddr};

/// Errors of futexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FutexError {
    /// the futex address is not 4-byte aligned
    Unaligned,
    /// the futex word does not hold the expected value
    ValueChanged,
    /// the deadline passed before a wake
    TimedOut,
    /// reading the futex word failed
    Vm(VmError),
    /// the HAL failed
    Hal(HalError),
}

impl fmt::Display for FutexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unaligned => f.write_str("the futex address is not 4-byte aligned"),
            Self::ValueChanged => f.write_str("the futex word does not hold the expected value"),
            Self::TimedOut => f.write_str("the deadline passed before a wake"),
            Self::Vm(error) => write!(f, "reading the futex word failed: {error}"),
            Self::Hal(error) => write!(f, "the HAL failed: {error}"),
        }
    }
}

impl From<VmError> for FutexError {
    fn from(error: VmError) -> Self {
        Self::Vm(error)
    }
}

impl From<HalError> for FutexError {
    fn from(error: HalError) -> Self {
        Self::Hal(error)
    }
}

/// The futex wait queues of one address space.
pub struct FutexTable {
    state: Mutex<Queues>,
}

struct Queues {
    /// Waiter ids by address, in arrival order.
    by_addr: BTreeMap<VirtAddr, VecDeque<u64>>,
    waiters: BTreeMap<u64, Waiter>,
    next_waiter: u64,
}

struct Waiter {
    /// The queue the waiter is in; requeue moves it.
    addr: VirtAddr,
    woken: bool,
    waker: Option<Waker>,
}

impl Queues {
    /// Takes up to `count` waiters off the queue of `addr`, oldest first.
    fn take_front(&mut self, addr: VirtAddr, count: usize) -> Vec<u64> {
        let Some(queue) = self.by_addr.get_mut(&addr) else {
            return Vec::new();
        };
        let taken: Vec<u64> = queue.drain(..count.min(queue.len())).collect();
        if queue.is_empty() {
            self.by_addr.remove(&addr);
        }
        taken
    }

    /// Marks the waiters `ids` woken and returns the wakers of those already polled.
    fn wake(&mut self, ids: &[u64]) -> Vec<Waker> {
        ids.iter()
            .filter_map(|id| {
                let waiter = self.waiters.get_mut(id)?;
                waiter.woken = true;
                waiter.waker.take()
            })
            .collect()
    }

    /// Removes waiter `id` from its queue and from the table; returns whether it was woken.
    fn remove(&mut self, id: u64) -> bool {
        let Some(waiter) = self.waiters.remove(&id) else {
            return false;
        };
        if let Some(queue) = self.by_addr.get_mut(&waiter.addr) {
            queue.retain(|&queued| queued != id);
            if queue.is_empty() {
                self.by_addr.remove(&waiter.addr);
            }
        }
        waiter.woken
    }
}

fn check_futex_addr(addr: VirtAddr) -> Result<(), FutexError> {
    if addr % 4 == 0 {
        Ok(())
    } else {
        Err(FutexError::Unaligned)
    }
}

impl FutexTable {
    /// An empty table.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(Queues {
                by_addr: BTreeMap::new(),
                waiters: BTreeMap::new(),
                next_waiter: 0,
            }),
        })
    }

    /// Queues a waiter on `addr` if `load` reads `expected` there, and returns the future of
    /// its wait, which ends with a wake or with [`FutexError::TimedOut`] at `deadline`
    /// (monotonic time).
    pub fn wait(
        self: &Arc<Self>,
        addr: VirtAddr,
        expected: u32,
        load: impl FnOnce() -> Result<u32, FutexError>,
        deadline: Option<Duration>,
    ) -> Result<FutexWait, FutexError> {
        check_futex_addr(addr)?;
        let timeout = deadline.map(sleep_until).transpose()?;
        let mut state = self.state.lock();
        if load()? != expected {
            return Err(FutexError::ValueChanged);
        }
        state.next_waiter += 1;
        let id = state.next_waiter;
        state.waiters.insert(
            id,
            Waiter {
                addr,
                woken: false,
                waker: None,
            },
        );
        state.by_addr.entry(addr).or_default().push_back(id);
        Ok(FutexWait {
            table: self.clone(),
            id,
            timeout,
            finished: false,
        })
    }

    /// Wakes up to `count` waiters on `addr`, oldest first, and returns how many it woke.
    pub fn wake(&self, addr: VirtAddr, count: usize) -> usize {
        let (woken, wakers) = {
            let mut state = self.state.lock();
            let ids = state.take_front(addr, count);
            (ids.len(), state.wake(&ids))
        };
        wakers.into_iter().for_each(Waker::wake);
        woken
    }

    /// If `load` reads `expected` at `addr`: wakes up to `wake_count` waiters on `addr` and
    /// moves up to `requeue_count` of the rest to `new_addr`. Returns (woken, moved).
    pub fn requeue(
        &self,
        addr: VirtAddr,
        expected: u32,
        load: impl FnOnce() -> Result<u32, FutexError>,
        wake_count: usize,
        new_addr: VirtAddr,
        requeue_count: usize,
    ) -> Result<(usize, usize), FutexError> {
        check_futex_addr(addr)?;
        check_futex_addr(new_addr)?;
        let (woken, wakers, moved) = {
            let mut state = self.state.lock();
            if load()? != expected {
                return Err(FutexError::ValueChanged);
            }
            let woken_ids = state.take_front(addr, wake_count);
            let wakers = state.wake(&woken_ids);
            let moved_ids = state.take_front(addr, requeue_count);
            for id in &moved_ids {
                if let Some(waiter) = state.waiters.get_mut(id) {
                    waiter.addr = new_addr;
                }
            }
            let moved = moved_ids.len();
            if moved > 0 {
                state.by_addr.entry(new_addr).or_default().extend(moved_ids);
            }
            (woken_ids.len(), wakers, moved)
        };
        wakers.into_iter().for_each(Waker::wake);
        Ok((woken, moved))
    }

    /// Number of waiters queued on `addr`.
    pub fn waiters(&self, addr: VirtAddr) -> usize {
        self.state
            .lock()
            .by_addr
            .get(&addr)
            .map_or(0, VecDeque::len)
    }
}

/// The future of [`FutexTable::wait`]; dropping it leaves the queue.
#[must_use = "a futex wait does nothing unless awaited"]
pub struct FutexWait {
    table: Arc<FutexTable>,
    id: u64,
    timeout: Option<Sleep>,
    finished: bool,
}

impl Future for FutexWait {
    type Output = Result<(), FutexError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.finished {
            return Poll::Ready(Ok(()));
        }
        {
            let mut state = self.table.state.lock();
            match state.waiters.get_mut(&self.id) {
                Some(waiter) if !waiter.woken => waiter.waker = Some(cx.waker().clone()),
                _ => {
                    state.remove(self.id);
                    drop(state);
                    self.finished = true;
                    return Poll::Ready(Ok(()));
                }
            }
        }
        let timed_out = self
            .timeout
            .as_mut()
            .is_some_and(|timeout| Pin::new(timeout).poll(cx).is_ready());
        if !timed_out {
            return Poll::Pending;
        }
        // A wake that came meanwhile wins over the timeout.
        let woken = self.table.state.lock().remove(self.id);
        self.finished = true;
        Poll::Ready(if woken {
            Ok(())
        } else {
            Err(FutexError::TimedOut)
        })
    }
}

impl Drop for FutexWait {
    fn drop(&mut self) {
        if !self.finished {
            self.table.state.lock().remove(self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::block_on;
    use core::sync::atomic::{AtomicU32, Ordering};
    use futures_util::{future::join_all, FutureExt};
    use kernel_async::spawn;
    use kernel_hal_lkm::platform;
    use std::{thread, time::Instant};

    const ADDR: VirtAddr = 0x4000;
    const OTHER: VirtAddr = 0x8000;

    fn word(value: u32) -> Arc<AtomicU32> {
        Arc::new(AtomicU32::new(value))
    }

    fn loader(word: &Arc<AtomicU32>) -> impl FnOnce() -> Result<u32, FutexError> {
        let word = word.clone();
        move || Ok(word.load(Ordering::SeqCst))
    }

    #[test]
    fn a_changed_word_is_not_waited_on() {
        let table = FutexTable::new();
        let value = word(1);
        assert_eq!(
            table.wait(ADDR, 0, loader(&value), None).map(|_| ()),
            Err(FutexError::ValueChanged)
        );
        assert_eq!(
            table.wait(ADDR + 2, 1, loader(&value), None).map(|_| ()),
            Err(FutexError::Unaligned)
        );
        assert_eq!(table.waiters(ADDR), 0);
    }

    #[test]
    fn a_wake_from_another_os_thread_ends_the_wait() {
        let table = FutexTable::new();
        let value = word(0);
        let wait = table.wait(ADDR, 0, loader(&value), None).unwrap();
        let waker_thread = {
            let table = table.clone();
            let value = value.clone();
            thread::spawn(move || {
                thread::sleep(std::time::Duration::from_millis(30));
                value.store(1, Ordering::SeqCst);
                table.wake(ADDR, 1)
            })
        };
        assert_eq!(block_on(wait), Ok(()));
        assert_eq!(waker_thread.join().unwrap(), 1);
        assert_eq!(table.waiters(ADDR), 0);
    }

    #[test]
    fn wake_wakes_at_most_count_waiters_oldest_first() {
        let table = FutexTable::new();
        let value = word(7);
        let order = Arc::new(Mutex::new(Vec::new()));
        let waiters: Vec<_> = (0..3)
            .map(|index| {
                let wait = table.wait(ADDR, 7, loader(&value), None).unwrap();
                let order = order.clone();
                spawn(async move {
                    wait.await.unwrap();
                    order.lock().push(index);
                })
            })
            .collect();
        assert_eq!(table.waiters(ADDR), 3);
        assert_eq!(table.wake(ADDR, 2), 2);
        assert_eq!(table.waiters(ADDR), 1);
        assert_eq!(table.wake(ADDR, 10), 1);
        assert_eq!(table.wake(ADDR, 10), 0);
        block_on(join_all(waiters));
        let mut woken = order.lock().clone();
        woken.sort_unstable();
        assert_eq!(woken, [0, 1, 2]);
    }

    #[test]
    fn a_wait_times_out_at_its_deadline() {
        let table = FutexTable::new();
        let value = word(0);
        let deadline = platform().unwrap().monotonic_now() + Duration::from_millis(40);
        let wait = table.wait(ADDR, 0, loader(&value), Some(deadline)).unwrap();
        let start = Instant::now();
        assert_eq!(block_on(wait), Err(FutexError::TimedOut));
        assert!(start.elapsed() >= std::time::Duration::from_millis(35));
        assert_eq!(table.waiters(ADDR), 0);
    }

    #[test]
    fn a_wake_before_the_deadline_wins() {
        let table = FutexTable::new();
        let value = word(0);
        let deadline = platform().unwrap().monotonic_now() + Duration::from_secs(30);
        let wait = table.wait(ADDR, 0, loader(&value), Some(deadline)).unwrap();
        assert_eq!(table.wake(ADDR, 1), 1);
        let start = Instant::now();
        assert_eq!(block_on(wait), Ok(()));
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn requeue_wakes_some_and_moves_the_rest() {
        let table = FutexTable::new();
        let value = word(3);
        let waits: Vec<_> = (0..4)
            .map(|_| table.wait(ADDR, 3, loader(&value), None).unwrap())
            .collect();
        assert_eq!(
            table.requeue(ADDR, 4, loader(&value), 1, OTHER, 8),
            Err(FutexError::ValueChanged)
        );
        assert_eq!(
            table.requeue(ADDR, 3, loader(&value), 1, OTHER, 2),
            Ok((1, 2))
        );
        assert_eq!((table.waiters(ADDR), table.waiters(OTHER)), (1, 2));
        let mut waits = waits.into_iter();
        // The first was woken; the next two now wait on OTHER.
        assert_eq!(waits.next().unwrap().now_or_never(), Some(Ok(())));
        assert_eq!(table.wake(OTHER, 5), 2);
        assert_eq!(waits.next().unwrap().now_or_never(), Some(Ok(())));
        assert_eq!(waits.next().unwrap().now_or_never(), Some(Ok(())));
        let mut last = waits.next().unwrap();
        assert!((&mut last).now_or_never().is_none());
        drop(last);
        assert_eq!(table.waiters(ADDR), 0);
    }

    #[test]
    fn no_wake_is_lost_between_the_check_and_the_sleep() {
        // A waiter that expects 0 and a waker that stores 1 then wakes, racing each time: the
        // waiter either sees 1 and does not sleep, or is woken.
        let table = FutexTable::new();
        for _ in 0..500 {
            let value = word(0);
            let waker_thread = {
                let table = table.clone();
                let value = value.clone();
                thread::spawn(move || {
                    value.store(1, Ordering::SeqCst);
                    table.wake(ADDR, 1);
                })
            };
            match table.wait(ADDR, 0, loader(&value), None) {
                Ok(wait) => assert_eq!(block_on(wait), Ok(())),
                Err(error) => assert_eq!(error, FutexError::ValueChanged),
            }
            waker_thread.join().unwrap();
        }
    }
}
