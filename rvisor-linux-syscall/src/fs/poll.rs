//! `poll`, `ppoll`, and what `select` shares with them: waiting until descriptors are
//! ready ([`FileLike::poll_events`]) or a timeout of the monotonic clock passes
//! (`kernel-async`'s timers).
//!
//! A wait scans every descriptor, registering the task's waker with each; if nothing is
//! ready the task sleeps until one of them wakes it (a pipe getting data or room, or losing
//! its other end) or the timer fires, then scans again. After the timeout one last scan is
//! made, as Linux makes it.
//!
//! `ppoll` and `pselect6` take a signal mask to install during the wait, checked as Linux
//! checks it (`EINVAL` unless `sigsetsize` is 8, `EFAULT` if unreadable). Signal masks are the
//! host's: the host blocks exactly the mask's signals for the wait and keeps the thread's own;
//! a wait that a signal ends leaves it to be restored once that signal is delivered (so a
//! handler runs with the wait's mask, and `sigreturn` gives the thread its own back), any
//! other restores it at once — Linux's `set_user_sigmask` and `restore_saved_sigmask_unless`.

use alloc::vec::Vec;
use core::future::{poll_fn, Future};
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use kernel_async::Sleep;
use kernel_hal_lkm::platform;
use linux_object::fs::{FileLike, OpenFlags, PollEvents};
use linux_object::{LxError, LxResult};

use crate::host::TaskHost;
use crate::user::{Readable, UserInOutPtr, UserInPtr, UserOutPtr, UserPtr, Writable};
use crate::{SysResult, Syscall};

/// `sizeof(struct pollfd)`: `int fd; short events; short revents;`.
const POLLFD_SIZE: usize = 8;
/// `sizeof(sigset_t)` as the kernel takes it.
const SIGSET_SIZE: usize = 8;
/// Nanoseconds in a second.
const NSEC_PER_SEC: i64 = 1_000_000_000;

/// When a wait for readiness gives up.
pub(crate) enum Timeout {
    /// Never: the wait lasts until something is ready (or a signal interrupts it).
    Never,
    /// At once: one scan, nothing waited for (a zero timeout).
    Immediately,
    /// When this timer fires.
    At(Sleep),
}

impl Timeout {
    /// A timeout `duration` from now (zero: [`Timeout::Immediately`]).
    pub fn after(duration: Duration) -> LxResult<Self> {
        if duration.is_zero() {
            return Ok(Self::Immediately);
        }
        kernel_async::sleep(duration)
            .map(Self::At)
            .map_err(|_| LxError::EIO)
    }

    /// A timeout given as a `struct timespec`'s fields: `EINVAL` for a negative second count
    /// or nanoseconds outside `0..1_000_000_000` (Linux's `poll_select_set_timeout`).
    pub fn from_timespec(sec: i64, nsec: i64) -> LxResult<Self> {
        let sec = u64::try_from(sec).map_err(|_| LxError::EINVAL)?;
        if !(0..NSEC_PER_SEC).contains(&nsec) {
            return Err(LxError::EINVAL);
        }
        Self::after(Duration::new(sec, nsec as u32))
    }

    /// The time left, for the calls that write it back (`ppoll`, `select`, `pselect6`);
    /// `None` for no timeout or a zero one, which Linux leaves as they are.
    pub fn remaining(&self) -> Option<Duration> {
        match self {
            Self::At(sleep) => {
                let now = platform().map(|platform| platform.monotonic_now()).ok()?;
                Some(sleep.deadline().saturating_sub(now))
            }
            Self::Never | Self::Immediately => None,
        }
    }
}

/// Scans with `scan` (which registers the waker it is given) until it reports something
/// ready or `timeout` passes; returns what the last scan counted.
pub(crate) async fn wait_until_ready(
    mut scan: impl FnMut(Option<&Context<'_>>) -> usize,
    timeout: &mut Timeout,
) -> usize {
    if let Timeout::Immediately = timeout {
        return scan(None);
    }
    poll_fn(|cx| {
        let ready = scan(Some(cx));
        if ready > 0 {
            return Poll::Ready(ready);
        }
        if let Timeout::At(sleep) = timeout {
            if Pin::new(sleep).poll(cx).is_ready() {
                return Poll::Ready(0);
            }
        }
        Poll::Pending
    })
    .await
}

/// Reads a `struct timespec` or `struct timeval` (two longs).
pub(crate) fn read_time<P: Readable>(ptr: UserPtr<i64, P>) -> LxResult<(i64, i64)> {
    let raw = ptr.read_array(2)?;
    let at = |index: usize| raw.get(index).copied().unwrap_or_default();
    Ok((at(0), at(1)))
}

/// Writes `time` back as a `struct timespec`, or as a `struct timeval` if `micros`; a
/// failure is ignored, as Linux ignores it (the call has done its work).
pub(crate) fn write_back_time<P: Writable>(ptr: UserPtr<i64, P>, time: Duration, micros: bool) {
    let sec = i64::try_from(time.as_secs()).unwrap_or(i64::MAX);
    let sub = if micros {
        i64::from(time.subsec_micros())
    } else {
        i64::from(time.subsec_nanos())
    };
    let _ = ptr.write_array(&[sec, sub]);
}

/// Reads a signal mask argument as Linux's `set_user_sigmask`: `None` for a null one.
pub(crate) fn read_sigmask(sigmask: UserInPtr<u8>, sigsetsize: usize) -> LxResult<Option<u64>> {
    if sigmask.is_null() {
        return Ok(None);
    }
    if sigsetsize != SIGSET_SIZE {
        return Err(LxError::EINVAL);
    }
    let bytes = sigmask.read_bytes(SIGSET_SIZE)?;
    let mut word = [0u8; SIGSET_SIZE];
    word.copy_from_slice(bytes.get(..SIGSET_SIZE).ok_or(LxError::EFAULT)?);
    Ok(Some(u64::from_le_bytes(word)))
}

/// A wait's signal mask, installed while it lives (see the module's documentation): dropped
/// before [`finish`](Self::finish), as when a signal cancels the wait, it leaves the thread's
/// own mask to be restored at the signal's delivery.
pub(crate) struct WaitSigmask<'a> {
    host: Option<&'a dyn TaskHost>,
}

impl<'a> WaitSigmask<'a> {
    /// Installs `mask`, if there is one.
    pub fn install(host: &'a dyn TaskHost, mask: Option<u64>) -> Self {
        let host = mask.map(|mask| {
            host.set_wait_sigmask(mask);
            host
        });
        WaitSigmask { host }
    }

    /// The wait ended by itself: the thread's own mask comes back now.
    pub fn finish(mut self) {
        if let Some(host) = self.host.take() {
            host.restore_wait_sigmask(false);
        }
    }
}

impl Drop for WaitSigmask<'_> {
    fn drop(&mut self) {
        if let Some(host) = self.host {
            host.restore_wait_sigmask(true);
        }
    }
}

/// One `struct pollfd`.
struct PollFd {
    fd: i32,
    events: PollEvents,
    revents: PollEvents,
}

impl Syscall<'_> {
    /// What `poll` and `select` see of descriptor `fd`: its description, unless it is not
    /// open or is an `O_PATH` one (Linux's `fdget` fails, and the descriptor is `POLLNVAL`).
    pub(crate) fn poll_file(&self, fd: i32) -> Option<alloc::sync::Arc<dyn FileLike>> {
        self.process
            .files()
            .get(fd)
            .ok()
            .filter(|file| !file.flags().contains(OpenFlags::PATH))
    }

    /// One pass over `fds`, as Linux's `do_pollfd` for each: returns how many have events.
    fn scan_pollfds(&self, fds: &mut [PollFd], cx: Option<&Context<'_>>) -> usize {
        let mut ready = 0;
        for pollfd in fds.iter_mut() {
            pollfd.revents = if pollfd.fd < 0 {
                PollEvents::empty()
            } else {
                match self.poll_file(pollfd.fd) {
                    None => PollEvents::NVAL,
                    Some(file) => {
                        let wanted = pollfd.events | PollEvents::ERR | PollEvents::HUP;
                        file.poll_events(cx) & wanted
                    }
                }
            };
            if !pollfd.revents.is_empty() {
                ready += 1;
            }
        }
        ready
    }

    /// Linux's `do_sys_poll`: `EINVAL` for more descriptors than `RLIMIT_NOFILE`, `EFAULT`
    /// for an unreadable array; waits; writes each `revents` back (`EFAULT`).
    async fn poll_fds(&self, ufds: UserInPtr<u8>, nfds: u32, timeout: &mut Timeout) -> SysResult {
        let nfds = nfds as usize;
        if nfds > self.process.files().limit() {
            return Err(LxError::EINVAL);
        }
        let raw = ufds.read_bytes(nfds * POLLFD_SIZE)?;
        let mut fds = Vec::new();
        fds.try_reserve_exact(nfds).map_err(|_| LxError::ENOMEM)?;
        fds.extend(raw.chunks_exact(POLLFD_SIZE).map(|entry| {
            let [f0, f1, f2, f3, e0, e1, _, _] =
                <[u8; POLLFD_SIZE]>::try_from(entry).unwrap_or_default();
            PollFd {
                fd: i32::from_le_bytes([f0, f1, f2, f3]),
                events: PollEvents::from_bits_retain(u16::from_le_bytes([e0, e1])),
                revents: PollEvents::empty(),
            }
        }));
        let ready = wait_until_ready(|cx| self.scan_pollfds(&mut fds, cx), timeout).await;
        for (index, pollfd) in fds.iter().enumerate() {
            let revents = UserOutPtr::<u16>::from(ufds.addr() + index * POLLFD_SIZE + 6);
            revents.write(pollfd.revents.bits())?;
        }
        Ok(ready)
    }

    /// `poll(fds, nfds, timeout)`: `timeout` in milliseconds, negative for none.
    pub async fn sys_poll(&self, fds: UserInPtr<u8>, nfds: u32, timeout_ms: i32) -> SysResult {
        let mut timeout = match u64::try_from(timeout_ms) {
            Ok(ms) => Timeout::after(Duration::from_millis(ms))?,
            Err(_) => Timeout::Never,
        };
        self.poll_fds(fds, nfds, &mut timeout).await
    }

    /// `ppoll(fds, nfds, tsp, sigmask, sigsetsize)`: the timeout is read (`EFAULT`) and
    /// checked (`EINVAL`) first, then the mask; the time left is written back to `tsp` after
    /// the wait, whatever its result, unless the timeout was zero.
    pub async fn sys_ppoll(
        &self,
        fds: UserInPtr<u8>,
        nfds: u32,
        tsp: UserInOutPtr<i64>,
        sigmask: UserInPtr<u8>,
        sigsetsize: usize,
    ) -> SysResult {
        let mut timeout = if tsp.is_null() {
            Timeout::Never
        } else {
            let (sec, nsec) = read_time(tsp)?;
            Timeout::from_timespec(sec, nsec)?
        };
        let mask = read_sigmask(sigmask, sigsetsize)?;
        let sigmask = WaitSigmask::install(self.host, mask);
        let result = self.poll_fds(fds, nfds, &mut timeout).await;
        sigmask.finish();
        if let Some(left) = timeout.remaining() {
            write_back_time(tsp, left, false);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{poll_once, HostEvent, TestMachine, UserArena};
    use alloc::sync::Arc;
    use linux_object::fs::{OpenFlags, Pipe};
    use linux_object::process::LinuxProcess;
    use std::time::Instant;

    const POLL: u32 = 7;
    const PPOLL: u32 = 271;

    fn errno(error: LxError) -> isize {
        -(error.errno() as isize)
    }

    fn pollfds(arena: &UserArena, entries: &[(i32, u16)]) -> usize {
        let mut bytes = Vec::new();
        for (fd, events) in entries {
            bytes.extend_from_slice(&fd.to_le_bytes());
            bytes.extend_from_slice(&events.to_le_bytes());
            bytes.extend_from_slice(&0x5a5au16.to_le_bytes());
        }
        arena.put_bytes(&bytes)
    }

    fn revents(arena: &UserArena, addr: usize, count: usize) -> Vec<u16> {
        let bytes = arena.get_bytes(addr, count * 8);
        bytes
            .chunks_exact(8)
            .map(|entry| u16::from_le_bytes([entry[6], entry[7]]))
            .collect()
    }

    /// Runs call `nr` as pid 1 through `kernel-async`'s executor, which fires its timers.
    fn run_with_timers(
        machine: &Arc<TestMachine>,
        process: &Arc<LinuxProcess>,
        nr: u32,
        args: [usize; 6],
    ) -> isize {
        let thread = kernel_async::UserThread::new().unwrap();
        let (machine, process) = (machine.clone(), process.clone());
        kernel_async::run_user_top(&thread, async move {
            let host = machine.task(process.pid(), process.pid());
            let call = crate::Syscall {
                process: &process,
                tid: process.pid(),
                host: &host,
            };
            call.run(nr, args).await
        })
        .unwrap()
    }

    const IN: u16 = 0x1;
    const OUT: u16 = 0x4;
    const HUP: u16 = 0x10;
    const NVAL: u16 = 0x20;

    #[test]
    fn poll_reports_pipes_and_bad_descriptors_at_once() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        let (r, w) = {
            let mut files = init.files();
            (
                files.add(reader, false).unwrap(),
                files.add(writer.clone(), false).unwrap(),
            )
        };
        let fds = pollfds(&arena, &[(r, IN), (w, OUT | IN), (-1, IN), (40, IN)]);
        assert_eq!(machine.run(&init, 1, POLL, [fds, 4, 0, 0, 0, 0]), 2);
        // Only what was asked for: POLLOUT, not POLLWRNORM.
        assert_eq!(revents(&arena, fds, 4), [0, OUT, 0, NVAL]);
        writer.write(b"x").unwrap();
        init.files().close(w).unwrap();
        drop(writer);
        assert_eq!(machine.run(&init, 1, POLL, [fds, 3, 0, 0, 0, 0]), 2);
        // Only what was asked for, and HUP whatever was asked.
        assert_eq!(revents(&arena, fds, 3), [IN | HUP, NVAL, 0]);
    }

    #[test]
    fn a_blocked_poll_wakes_when_a_pipe_gets_data() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        let r = init.files().add(reader, false).unwrap();
        let fds = pollfds(&arena, &[(r, IN)]);
        let host = machine.task(1, 1);
        let call = crate::Syscall {
            process: &init,
            tid: 1,
            host: &host,
        };
        let mut poll = core::pin::pin!(call.run(POLL, [fds, 1, usize::MAX, 0, 0, 0]));
        assert!(poll_once(poll.as_mut()).is_pending());
        assert!(poll_once(poll.as_mut()).is_pending());
        writer.write(b"wake").unwrap();
        assert_eq!(poll_once(poll.as_mut()), Poll::Ready(1));
        assert_eq!(revents(&arena, fds, 1), [IN]);
    }

    #[test]
    fn a_timeout_ends_the_wait_with_nothing_ready() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        let (reader, _writer) = Pipe::new_pair(OpenFlags::empty());
        let r = init.files().add(reader, false).unwrap();
        let fds = pollfds(&arena, &[(r, IN)]);
        let start = Instant::now();
        assert_eq!(
            run_with_timers(&machine, &init, POLL, [fds, 1, 30, 0, 0, 0]),
            0
        );
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert_eq!(revents(&arena, fds, 1), [0]);
        // ppoll writes back what is left: nothing, after a timeout.
        let tsp = arena.put_bytes(&[0i64.to_le_bytes(), 20_000_000i64.to_le_bytes()].concat());
        assert_eq!(
            run_with_timers(&machine, &init, PPOLL, [fds, 1, tsp, 0, 8, 0]),
            0
        );
        assert_eq!(arena.get_bytes(tsp, 16), [0; 16]);
        // No descriptor at all: a pure sleep.
        assert_eq!(
            run_with_timers(&machine, &init, POLL, [0, 0, 10, 0, 0, 0]),
            0
        );
    }

    #[test]
    fn poll_and_ppoll_argument_errors() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        let fds = pollfds(&arena, &[(0, IN)]);
        let bad = arena.unmapped();
        assert_eq!(
            machine.run(&init, 1, POLL, [fds, 1025, 0, 0, 0, 0]),
            errno(LxError::EINVAL),
            "more than RLIMIT_NOFILE"
        );
        assert_eq!(
            machine.run(&init, 1, POLL, [bad, 1, 0, 0, 0, 0]),
            errno(LxError::EFAULT)
        );
        let negative = arena.put_bytes(&[(-1i64).to_le_bytes(), 0i64.to_le_bytes()].concat());
        assert_eq!(
            machine.run(&init, 1, PPOLL, [fds, 1, negative, 0, 8, 0]),
            errno(LxError::EINVAL)
        );
        let zero = arena.put_bytes(&[0u8; 16]);
        let mask = arena.put_bytes(&[0xff; 8]);
        assert_eq!(
            machine.run(&init, 1, PPOLL, [fds, 1, zero, mask, 16, 0]),
            errno(LxError::EINVAL),
            "sigsetsize must be 8"
        );
        assert_eq!(
            machine.run(&init, 1, PPOLL, [fds, 1, zero, bad, 8, 0]),
            errno(LxError::EFAULT)
        );
        assert_eq!(
            machine.run(&init, 1, PPOLL, [fds, 1, bad, 0, 8, 0]),
            errno(LxError::EFAULT)
        );
        // A valid mask is installed for the wait and the thread's own restored after it; fd 0
        // is not open: POLLNVAL.
        let before = machine.events().len();
        assert_eq!(machine.run(&init, 1, PPOLL, [fds, 1, zero, mask, 8, 0]), 1);
        assert_eq!(revents(&arena, fds, 1), [NVAL]);
        let events = machine.events();
        assert!(matches!(
            events.get(before..),
            Some([
                HostEvent::WaitSigmaskSet(u64::MAX),
                HostEvent::WaitSigmaskRestored { interrupted: false }
            ])
        ));
        assert_eq!(
            arena.get_bytes(zero, 16),
            [0; 16],
            "a zero timeout is left alone"
        );
    }
}
