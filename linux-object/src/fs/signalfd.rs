//! [`SignalFd`]: the calling thread's pending signals as a file (`signalfd4`), as Linux's
//! `fs/signalfd.c`.
//!
//! Signals are the host's: they are queued to the contained process's host task, and a
//! [`SignalQueue`] (the kernel backend) takes them from its pending sets. As on Linux, what a
//! signalfd reads and reports is relative to the thread using it, not to its creator: after
//! a `fork`, the child reads its own signals.

use super::{FileLike, OpenFlags, PollEvents};
use crate::error::{LxError, LxResult};
use alloc::sync::Arc;
use core::any::Any;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::{Context, Poll};
use kernel_hal_lkm::sync::Mutex;
use kernel_hostfs::Metadata;

/// Size of `struct signalfd_siginfo`, what a read returns per signal.
pub const SIGINFO_SIZE: usize = 128;

/// `SIGKILL` and `SIGSTOP`, which a signalfd never takes (bits `n - 1`).
const UNCATCHABLE: u64 = 1 << (9 - 1) | 1 << (19 - 1);

/// The calling thread's pending signals, as the host keeps them.
pub trait SignalQueue: Send + Sync {
    /// Takes the lowest pending signal of `mask` (bit `n - 1` for signal `n`), the thread's
    /// first, then its process's, as a `struct signalfd_siginfo`.
    fn dequeue(&self, mask: u64) -> Option<[u8; SIGINFO_SIZE]>;

    /// Whether a signal of `mask` is pending for the calling thread or its process; with
    /// `cx`, registers it to be woken when a signal is next queued to the caller.
    fn poll(&self, mask: u64, cx: Option<&Context<'_>>) -> bool;
}

/// A signalfd's open file description.
pub struct SignalFd {
    /// The signals it takes (never `SIGKILL` or `SIGSTOP`).
    mask: AtomicU64,
    queue: Arc<dyn SignalQueue>,
    flags: Mutex<OpenFlags>,
}

impl SignalFd {
    /// A signalfd taking the signals of `mask` from `queue`; `flags` may hold `O_NONBLOCK`.
    pub fn new(mask: u64, queue: Arc<dyn SignalQueue>, flags: OpenFlags) -> Arc<Self> {
        Arc::new(Self {
            mask: AtomicU64::new(mask & !UNCATCHABLE),
            queue,
            flags: Mutex::new(flags & OpenFlags::NONBLOCK),
        })
    }

    /// Replaces the signals it takes (`signalfd4` on an existing one).
    pub fn set_mask(&self, mask: u64) {
        self.mask.store(mask & !UNCATCHABLE, Ordering::SeqCst);
    }

    /// The signals it takes.
    pub fn mask(&self) -> u64 {
        self.mask.load(Ordering::SeqCst)
    }

    /// Takes as many signals as `buf` holds records, at least one or `None` if a reader has
    /// to wait (after registering `cx`, if given).
    fn try_read(&self, cx: Option<&Context<'_>>, buf: &mut [u8]) -> Option<LxResult<usize>> {
        if buf.len() < SIGINFO_SIZE {
            return Some(Err(LxError::EINVAL));
        }
        let mask = self.mask();
        let mut taken = 0;
        for record in buf.chunks_exact_mut(SIGINFO_SIZE) {
            let Some(info) = self.queue.dequeue(mask) else {
                break;
            };
            record.copy_from_slice(&info);
            taken += SIGINFO_SIZE;
        }
        if taken > 0 {
            return Some(Ok(taken));
        }
        if let Some(cx) = cx {
            // Registered, then looked at again: a signal queued in between is not missed.
            if self.queue.poll(mask, Some(cx)) {
                return self.try_read(None, buf);
            }
        }
        None
    }
}

impl FileLike for SignalFd {
    fn read(&self, buf: &mut [u8]) -> LxResult<usize> {
        self.try_read(None, buf).unwrap_or(Err(LxError::EAGAIN))
    }

    fn write(&self, _buf: &[u8]) -> LxResult<usize> {
        Err(LxError::EINVAL)
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<LxResult<usize>> {
        if self.flags().contains(OpenFlags::NONBLOCK) {
            return Poll::Ready(self.read(buf));
        }
        self.try_read(Some(cx), buf)
            .map_or(Poll::Pending, Poll::Ready)
    }

    /// As Linux's `signalfd_poll`: readable while a signal of its mask is pending for the
    /// polling thread.
    fn poll_events(&self, cx: Option<&Context<'_>>) -> PollEvents {
        if self.queue.poll(self.mask(), cx) {
            PollEvents::IN
        } else {
            PollEvents::empty()
        }
    }

    fn metadata(&self) -> LxResult<Metadata> {
        // Linux's signalfds are inodes of its anonymous inode filesystem.
        Ok(super::anonymous_inode_metadata())
    }

    fn flags(&self) -> OpenFlags {
        *self.flags.lock() | OpenFlags::RDWR
    }

    fn set_flags(&self, flags: OpenFlags) {
        OpenFlags::set_settable(&self.flags, flags);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::read_file;
    use crate::test_executor::{poll_once, CountingWaker};
    use alloc::vec::Vec;
    use core::task::Waker;
    use std::pin::pin;

    /// Pending signals as a list of numbers, and who waits for the next.
    #[derive(Default)]
    struct Pending(Mutex<(Vec<u32>, Vec<Waker>)>);

    impl Pending {
        fn queue(&self, sig: u32) {
            let wakers = {
                let mut state = self.0.lock();
                state.0.push(sig);
                core::mem::take(&mut state.1)
            };
            wakers.into_iter().for_each(Waker::wake);
        }
    }

    impl SignalQueue for Pending {
        fn dequeue(&self, mask: u64) -> Option<[u8; SIGINFO_SIZE]> {
            let mut state = self.0.lock();
            let index = state.0.iter().position(|sig| mask & 1 << (sig - 1) != 0)?;
            let sig = state.0.remove(index);
            let mut info = [0; SIGINFO_SIZE];
            info[..4].copy_from_slice(&sig.to_ne_bytes());
            Some(info)
        }

        fn poll(&self, mask: u64, cx: Option<&Context<'_>>) -> bool {
            let mut state = self.0.lock();
            if let Some(cx) = cx {
                state.1.push(cx.waker().clone());
            }
            state.0.iter().any(|sig| mask & 1 << (sig - 1) != 0)
        }
    }

    const SIGUSR1: u32 = 10;
    const SIGUSR2: u32 = 12;

    #[test]
    fn reads_take_the_signals_of_the_mask_as_many_as_fit() {
        let pending = Arc::new(Pending::default());
        let fd = SignalFd::new(
            1 << (SIGUSR1 - 1) | 1 << 8,
            pending.clone(),
            OpenFlags::NONBLOCK,
        );
        assert_eq!(fd.mask(), 1 << (SIGUSR1 - 1), "never SIGKILL");
        assert_eq!(fd.read(&mut [0; 127]), Err(LxError::EINVAL));
        assert_eq!(fd.read(&mut [0; 128]), Err(LxError::EAGAIN));
        pending.queue(SIGUSR2);
        pending.queue(SIGUSR1);
        pending.queue(SIGUSR1);
        assert_eq!(fd.poll_events(None), PollEvents::IN);
        let mut buf = [0; 300];
        assert_eq!(fd.read(&mut buf), Ok(256));
        assert_eq!(buf[..4], SIGUSR1.to_ne_bytes());
        assert_eq!(
            fd.poll_events(None),
            PollEvents::empty(),
            "SIGUSR2 is not taken"
        );
        fd.set_mask(1 << (SIGUSR2 - 1));
        assert_eq!(fd.read(&mut buf), Ok(128));
        assert_eq!(buf[..4], SIGUSR2.to_ne_bytes());
    }

    #[test]
    fn a_blocked_read_is_woken_by_a_signal() {
        let pending = Arc::new(Pending::default());
        let fd = SignalFd::new(1 << (SIGUSR1 - 1), pending.clone(), OpenFlags::empty());
        let (counter, waker) = CountingWaker::new();
        let mut buf = [0; 128];
        let mut read = pin!(read_file(&*fd, &mut buf));
        assert!(poll_once(read.as_mut(), &waker).is_pending());
        pending.queue(SIGUSR1);
        assert_eq!(counter.wakes(), 1);
        assert_eq!(poll_once(read.as_mut(), &waker), Poll::Ready(Ok(128)));
    }
}
