//! [`EventFd`]: a 64-bit counter as a file (`eventfd2`), Linux's `fs/eventfd.c`.
//!
//! A write of 8 bytes adds their value to the counter, waiting while the sum would reach
//! `u64::MAX`; a read of at least 8 bytes takes the whole counter (or 1 of it in semaphore
//! mode), waiting while it is zero. `poll` reports it readable while the counter is not zero,
//! writable while a write of 1 would not wait, and in error if the counter is `u64::MAX`
//! (which only `eventfd_signal` overflow makes on Linux, so never here).

use super::waiters::Waiters;
use super::{FileLike, OpenFlags, PollEvents};
use crate::error::{LxError, LxResult};
use alloc::sync::Arc;
use core::any::Any;
use core::task::{Context, Poll};
use kernel_hal_lkm::sync::Mutex;
use kernel_hostfs::Metadata;

/// Bytes a read or write moves: one `u64`.
const VALUE_SIZE: usize = 8;

/// An eventfd's open file description.
pub struct EventFd {
    state: Mutex<State>,
    semaphore: bool,
    flags: Mutex<OpenFlags>,
}

struct State {
    count: u64,
    /// Readers and pollers waiting for the counter to become non-zero.
    readers: Waiters,
    /// Writers and pollers waiting for room.
    writers: Waiters,
}

impl EventFd {
    /// A counter starting at `initial`; `semaphore` is `EFD_SEMAPHORE`; `flags` may hold
    /// `O_NONBLOCK` (`EFD_NONBLOCK`).
    pub fn new(initial: u32, semaphore: bool, flags: OpenFlags) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                count: u64::from(initial),
                readers: Waiters::new(),
                writers: Waiters::new(),
            }),
            semaphore,
            flags: Mutex::new(flags & OpenFlags::NONBLOCK),
        })
    }

    /// The counter now (what `/proc/PID/fdinfo` shows as `eventfd-count`).
    pub fn count(&self) -> u64 {
        self.state.lock().count
    }

    fn nonblocking(&self) -> bool {
        self.flags().contains(OpenFlags::NONBLOCK)
    }

    /// Takes from the counter into `buf`, or `None` if a reader has to wait (after
    /// registering `cx`, if given).
    fn try_read(&self, cx: Option<&Context<'_>>, buf: &mut [u8]) -> Option<LxResult<usize>> {
        let Some(out) = buf.get_mut(..VALUE_SIZE) else {
            return Some(Err(LxError::EINVAL));
        };
        let mut state = self.state.lock();
        if state.count == 0 {
            if let Some(cx) = cx {
                state.readers.register(cx);
            }
            return None;
        }
        let taken = if self.semaphore { 1 } else { state.count };
        state.count -= taken;
        let woken = state.writers.take();
        drop(state);
        woken.wake();
        out.copy_from_slice(&taken.to_ne_bytes());
        Some(Ok(VALUE_SIZE))
    }

    /// Adds the value in `buf` to the counter, or `None` if the writer has to wait (after
    /// registering `cx`, if given).
    fn try_write(&self, cx: Option<&Context<'_>>, buf: &[u8]) -> Option<LxResult<usize>> {
        let Some(value) = buf
            .get(..VALUE_SIZE)
            .and_then(|bytes| <[u8; VALUE_SIZE]>::try_from(bytes).ok())
            .map(u64::from_ne_bytes)
        else {
            return Some(Err(LxError::EINVAL));
        };
        if value == u64::MAX {
            return Some(Err(LxError::EINVAL));
        }
        let mut state = self.state.lock();
        // Linux's test: the sum must stay below u64::MAX.
        if u64::MAX - state.count <= value {
            if let Some(cx) = cx {
                state.writers.register(cx);
            }
            return None;
        }
        state.count += value;
        let woken = if value > 0 {
            state.readers.take()
        } else {
            super::waiters::Woken::none()
        };
        drop(state);
        woken.wake();
        Some(Ok(VALUE_SIZE))
    }
}

impl FileLike for EventFd {
    fn read(&self, buf: &mut [u8]) -> LxResult<usize> {
        self.try_read(None, buf).unwrap_or(Err(LxError::EAGAIN))
    }

    fn write(&self, buf: &[u8]) -> LxResult<usize> {
        self.try_write(None, buf).unwrap_or(Err(LxError::EAGAIN))
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<LxResult<usize>> {
        if self.nonblocking() {
            return Poll::Ready(self.read(buf));
        }
        self.try_read(Some(cx), buf)
            .map_or(Poll::Pending, Poll::Ready)
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<LxResult<usize>> {
        if self.nonblocking() {
            return Poll::Ready(self.write(buf));
        }
        self.try_write(Some(cx), buf)
            .map_or(Poll::Pending, Poll::Ready)
    }

    /// As Linux's `eventfd_poll`: `IN` with a non-zero counter, `OUT` while it is below
    /// `u64::MAX - 1`, `ERR` at `u64::MAX`. The waker waits for both a read and a write.
    fn poll_events(&self, cx: Option<&Context<'_>>) -> PollEvents {
        let mut state = self.state.lock();
        if let Some(cx) = cx {
            state.readers.register(cx);
            state.writers.register(cx);
        }
        let mut events = PollEvents::empty();
        if state.count > 0 {
            events |= PollEvents::IN;
        }
        if state.count == u64::MAX {
            events |= PollEvents::ERR;
        }
        if u64::MAX - 1 > state.count {
            events |= PollEvents::OUT;
        }
        events
    }

    fn metadata(&self) -> LxResult<Metadata> {
        // Linux's eventfds are inodes of its anonymous inode filesystem, as pidfds are.
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
    use crate::fs::{read_file, write_file};
    use crate::test_executor::{poll_once, CountingWaker};
    use std::pin::pin;

    fn read_value(file: &EventFd) -> LxResult<u64> {
        let mut buf = [0; 8];
        file.read(&mut buf)?;
        Ok(u64::from_ne_bytes(buf))
    }

    #[test]
    fn a_read_takes_the_whole_counter_or_one_in_semaphore_mode() {
        let counter = EventFd::new(3, false, OpenFlags::empty());
        assert_eq!(counter.write(&5u64.to_ne_bytes()), Ok(8));
        assert_eq!(read_value(&counter), Ok(8));
        assert_eq!(read_value(&counter), Err(LxError::EAGAIN));
        let semaphore = EventFd::new(2, true, OpenFlags::empty());
        assert_eq!(read_value(&semaphore), Ok(1));
        assert_eq!(read_value(&semaphore), Ok(1));
        assert_eq!(read_value(&semaphore), Err(LxError::EAGAIN));
    }

    #[test]
    fn short_buffers_and_the_maximum_value_are_einval() {
        let file = EventFd::new(1, false, OpenFlags::empty());
        assert_eq!(file.read(&mut [0; 7]), Err(LxError::EINVAL));
        assert_eq!(file.write(&[0; 7]), Err(LxError::EINVAL));
        assert_eq!(file.write(&u64::MAX.to_ne_bytes()), Err(LxError::EINVAL));
        // Longer buffers move 8 bytes.
        assert_eq!(file.read(&mut [0; 16]), Ok(8));
    }

    #[test]
    fn a_write_that_would_reach_the_maximum_waits_for_a_read() {
        let file = EventFd::new(0, false, OpenFlags::empty());
        assert_eq!(file.write(&(u64::MAX - 2).to_ne_bytes()), Ok(8));
        assert_eq!(
            file.poll_events(None),
            PollEvents::IN | PollEvents::OUT,
            "u64::MAX - 2 is below u64::MAX - 1"
        );
        assert_eq!(file.write(&1u64.to_ne_bytes()), Ok(8));
        assert_eq!(file.poll_events(None), PollEvents::IN);
        assert_eq!(file.write(&1u64.to_ne_bytes()), Err(LxError::EAGAIN));
        let (counter, waker) = CountingWaker::new();
        let value = 1u64.to_ne_bytes();
        let mut write = pin!(write_file(&*file, &value));
        assert!(poll_once(write.as_mut(), &waker).is_pending());
        assert_eq!(read_value(&file), Ok(u64::MAX - 1));
        assert_eq!(counter.wakes(), 1);
        assert_eq!(poll_once(write.as_mut(), &waker), Poll::Ready(Ok(8)));
        assert_eq!(file.count(), 1);
    }

    #[test]
    fn a_blocked_read_is_woken_by_a_write_and_zero_writes_wake_nobody() {
        let file = EventFd::new(0, false, OpenFlags::empty());
        let (counter, waker) = CountingWaker::new();
        let mut buf = [0; 8];
        {
            let mut read = pin!(read_file(&*file, &mut buf));
            assert!(poll_once(read.as_mut(), &waker).is_pending());
            assert_eq!(file.write(&0u64.to_ne_bytes()), Ok(8));
            assert_eq!(counter.wakes(), 0);
            assert_eq!(file.write(&7u64.to_ne_bytes()), Ok(8));
            assert_eq!(counter.wakes(), 1);
            assert_eq!(poll_once(read.as_mut(), &waker), Poll::Ready(Ok(8)));
        }
        assert_eq!(u64::from_ne_bytes(buf), 7);
    }

    #[test]
    fn nonblocking_reads_give_eagain_and_flags_show_rdwr() {
        let file = EventFd::new(0, false, OpenFlags::NONBLOCK);
        assert_eq!(
            crate::test_executor::block_on(read_file(&*file, &mut [0; 8])),
            Err(LxError::EAGAIN)
        );
        assert_eq!(file.flags(), OpenFlags::RDWR | OpenFlags::NONBLOCK);
        assert_eq!(file.poll_events(None), PollEvents::OUT);
    }
}
