//! `epoll_create`, `epoll_create1`, `epoll_ctl`, `epoll_wait`, `epoll_pwait`,
//! `epoll_pwait2`: waiting on many descriptors through an epoll instance
//! ([`Epoll`], which holds the interest and ready lists).
//!
//! The checks are Linux's `do_epoll_ctl` and `do_epoll_wait`, in its order. A wait that a
//! signal ends is `EINTR`, never restarted (the gate's router knows these numbers); the
//! signal mask of `epoll_pwait`/`epoll_pwait2` is installed as `ppoll` installs its own.

use alloc::sync::Arc;
use core::future::{poll_fn, Future};
use core::pin::Pin;
use core::task::Poll;
use core::time::Duration;
use linux_object::fs::{Epoll, EpollEvent, EpollEvents, FileLike};
use linux_object::LxError;

use super::access_ok;
use super::poll::{read_sigmask, read_time, Timeout, WaitSigmask};
use crate::user::{UserInPtr, UserOutPtr};
use crate::{SysResult, Syscall};

/// `EPOLL_CLOEXEC` (`O_CLOEXEC`).
const EPOLL_CLOEXEC: u32 = 0o2_000_000;
/// `epoll_ctl` operations.
const EPOLL_CTL_ADD: i32 = 1;
const EPOLL_CTL_DEL: i32 = 2;
const EPOLL_CTL_MOD: i32 = 3;
/// `sizeof(struct epoll_event)` on x86-64, where it is packed: `u32 events; u64 data;`.
const EVENT_SIZE: usize = 12;
/// Most events one wait may ask for (Linux's `EP_MAX_EVENTS`: `INT_MAX / EVENT_SIZE`).
const MAX_EVENTS: i32 = i32::MAX / EVENT_SIZE as i32;

impl Syscall<'_> {
    /// `epoll_create1(flags)`: a new instance; `EPOLL_CLOEXEC` is the only flag.
    pub fn sys_epoll_create1(&self, flags: u32) -> SysResult {
        if flags & !EPOLL_CLOEXEC != 0 {
            return Err(LxError::EINVAL);
        }
        let epoll: Arc<dyn FileLike> = Epoll::new();
        let fd = self
            .process
            .files()
            .add(epoll, flags & EPOLL_CLOEXEC != 0)?;
        Ok(fd as usize)
    }

    /// `epoll_create(size)`: `size` is only checked (`EINVAL` unless positive).
    pub fn sys_epoll_create(&self, size: i32) -> SysResult {
        if size <= 0 {
            return Err(LxError::EINVAL);
        }
        self.sys_epoll_create1(0)
    }

    /// The open description of `fd` as `epoll_ctl` and `epoll_wait` see it (Linux's `fdget`:
    /// `EBADF` if not open or an `O_PATH` one).
    fn epoll_target(&self, fd: i32) -> Result<Arc<dyn FileLike>, LxError> {
        self.poll_file(fd).ok_or(LxError::EBADF)
    }

    /// `epoll_ctl(epfd, op, fd, event)`.
    pub fn sys_epoll_ctl(&self, epfd: i32, op: i32, fd: i32, event: UserInPtr<u8>) -> SysResult {
        let (events, data) = if op == EPOLL_CTL_DEL {
            (EpollEvents::empty(), 0)
        } else {
            let raw = event.read_bytes(EVENT_SIZE)?;
            let mut events = [0; 4];
            let mut data = [0; 8];
            events.copy_from_slice(raw.get(..4).ok_or(LxError::EFAULT)?);
            data.copy_from_slice(raw.get(4..EVENT_SIZE).ok_or(LxError::EFAULT)?);
            // EPOLLWAKEUP keeps no system awake here: dropped, as without CAP_BLOCK_SUSPEND.
            let events =
                EpollEvents::from_bits_retain(u32::from_le_bytes(events)) - EpollEvents::WAKEUP;
            (events, u64::from_le_bytes(data))
        };
        let epoll_file = self.epoll_target(epfd)?;
        let file = self.epoll_target(fd)?;
        if !file.pollable() {
            return Err(LxError::EPERM);
        }
        let epoll = match Epoll::of(&*epoll_file) {
            Some(epoll) if !Arc::ptr_eq(&epoll_file, &file) => epoll,
            _ => return Err(LxError::EINVAL),
        };
        if op != EPOLL_CTL_DEL && events.contains(EpollEvents::EXCLUSIVE) {
            let target_is_epoll = Epoll::of(&*file).is_some();
            let allowed = (events - EpollEvents::EXCLUSIVE_OK).is_empty();
            if op == EPOLL_CTL_MOD || (op == EPOLL_CTL_ADD && (target_is_epoll || !allowed)) {
                return Err(LxError::EINVAL);
            }
        }
        match op {
            EPOLL_CTL_ADD => epoll.add(fd, &file, events, data)?,
            EPOLL_CTL_DEL => epoll.delete(fd, &file)?,
            EPOLL_CTL_MOD => epoll.modify(fd, &file, events, data)?,
            _ => return Err(LxError::EINVAL),
        }
        Ok(0)
    }

    /// Linux's `do_epoll_wait`: `EINVAL` for `maxevents` out of `1..=EP_MAX_EVENTS`,
    /// `EFAULT` for a buffer outside user space, `EBADF`, `EINVAL` for a descriptor that is
    /// not an instance; then waits and copies the events out.
    async fn epoll_wait_events(
        &self,
        epfd: i32,
        events: UserOutPtr<u8>,
        maxevents: i32,
        mut timeout: Timeout,
    ) -> SysResult {
        if !(1..=MAX_EVENTS).contains(&maxevents) {
            return Err(LxError::EINVAL);
        }
        let max = maxevents as usize;
        access_ok(events.addr(), max * EVENT_SIZE)?;
        let file = self.epoll_target(epfd)?;
        let epoll = Epoll::of(&*file).ok_or(LxError::EINVAL)?;
        let deliver = &mut |index, event| copy_event(events, index, event);
        let count = match &mut timeout {
            Timeout::Immediately => epoll.collect(max, None, deliver)?,
            timeout => {
                poll_fn(|cx| {
                    match epoll.collect(max, Some(cx), deliver) {
                        Ok(0) => {}
                        result => return Poll::Ready(result),
                    }
                    if let Timeout::At(sleep) = timeout {
                        if Pin::new(sleep).poll(cx).is_ready() {
                            // One last look, as Linux makes after its timeout.
                            return Poll::Ready(epoll.collect(max, None, deliver));
                        }
                    }
                    Poll::Pending
                })
                .await?
            }
        };
        Ok(count)
    }

    /// `epoll_wait(epfd, events, maxevents, timeout)` where it does not wait: events are
    /// ready, or the timeout is 0 (`None`: [`sys_epoll_wait`](Self::sys_epoll_wait) waits).
    /// What it finds ready it takes, so the wait that may follow starts from the same state.
    pub fn sys_epoll_wait_now(
        &self,
        epfd: i32,
        events: UserOutPtr<u8>,
        maxevents: i32,
        timeout_ms: i32,
    ) -> Option<SysResult> {
        let found = (|| {
            if !(1..=MAX_EVENTS).contains(&maxevents) {
                return Err(LxError::EINVAL);
            }
            let max = maxevents as usize;
            access_ok(events.addr(), max * EVENT_SIZE)?;
            let file = self.epoll_target(epfd)?;
            let epoll = Epoll::of(&*file).ok_or(LxError::EINVAL)?;
            epoll.collect(max, None, &mut |index, event| {
                copy_event(events, index, event)
            })
        })();
        match found {
            Ok(0) if timeout_ms != 0 => None,
            found => Some(found),
        }
    }

    /// `epoll_wait(epfd, events, maxevents, timeout)`: `timeout` in milliseconds, negative
    /// for none.
    pub async fn sys_epoll_wait(
        &self,
        epfd: i32,
        events: UserOutPtr<u8>,
        maxevents: i32,
        timeout_ms: i32,
    ) -> SysResult {
        let timeout = milliseconds(timeout_ms)?;
        self.epoll_wait_events(epfd, events, maxevents, timeout)
            .await
    }

    /// `epoll_pwait(epfd, events, maxevents, timeout, sigmask, sigsetsize)`: the mask is
    /// checked and installed first (`EINVAL`, `EFAULT`), for the wait only.
    pub async fn sys_epoll_pwait(
        &self,
        epfd: i32,
        events: UserOutPtr<u8>,
        maxevents: i32,
        timeout_ms: i32,
        sigmask: UserInPtr<u8>,
        sigsetsize: usize,
    ) -> SysResult {
        let timeout = milliseconds(timeout_ms)?;
        let mask = read_sigmask(sigmask, sigsetsize)?;
        let sigmask = WaitSigmask::install(self.host, mask);
        let result = self
            .epoll_wait_events(epfd, events, maxevents, timeout)
            .await;
        sigmask.finish();
        result
    }

    /// `epoll_pwait2(epfd, events, maxevents, timeout, sigmask, sigsetsize)`: `timeout` is
    /// a `struct timespec` (`EFAULT`, `EINVAL` for a bad one; null for none), read before
    /// the mask.
    pub async fn sys_epoll_pwait2(
        &self,
        epfd: i32,
        events: UserOutPtr<u8>,
        maxevents: i32,
        timeout: UserInPtr<i64>,
        sigmask: UserInPtr<u8>,
        sigsetsize: usize,
    ) -> SysResult {
        let timeout = if timeout.is_null() {
            Timeout::Never
        } else {
            let (sec, nsec) = read_time(timeout)?;
            Timeout::from_timespec(sec, nsec)?
        };
        let mask = read_sigmask(sigmask, sigsetsize)?;
        let sigmask = WaitSigmask::install(self.host, mask);
        let result = self
            .epoll_wait_events(epfd, events, maxevents, timeout)
            .await;
        sigmask.finish();
        result
    }
}

/// An `int` timeout in milliseconds: negative for none.
fn milliseconds(timeout_ms: i32) -> Result<Timeout, LxError> {
    match u64::try_from(timeout_ms) {
        Ok(ms) => Timeout::after(Duration::from_millis(ms)),
        Err(_) => Ok(Timeout::Never),
    }
}

/// Copies `event` out as the `index`-th packed `struct epoll_event` of `events` (the range
/// was checked to be user memory; a page that cannot be written is `EFAULT`).
fn copy_event(events: UserOutPtr<u8>, index: usize, event: EpollEvent) -> Result<(), LxError> {
    let mut bytes = [0; EVENT_SIZE];
    let (mask, data) = bytes.split_at_mut(4);
    mask.copy_from_slice(&event.events.to_le_bytes());
    data.copy_from_slice(&event.data.to_le_bytes());
    UserOutPtr::<u8>::from(events.addr() + index * EVENT_SIZE).write_bytes(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{poll_once, HostEvent, TestMachine, UserArena};
    use linux_object::fs::{OpenFlags, Pipe};

    const EPOLL_CREATE: u32 = 213;
    const EPOLL_WAIT: u32 = 232;
    const EPOLL_CTL: u32 = 233;
    const EPOLL_PWAIT: u32 = 281;
    const EPOLL_CREATE1: u32 = 291;
    const EPOLL_PWAIT2: u32 = 441;

    fn errno(error: LxError) -> isize {
        -(error.errno() as isize)
    }

    fn event(arena: &UserArena, events: u32, data: u64) -> usize {
        arena.put_bytes(&[&events.to_le_bytes()[..], &data.to_le_bytes()[..]].concat())
    }

    #[test]
    fn create_ctl_and_wait_check_their_arguments_as_linux() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        let run = |nr, args| machine.run(&init, 1, nr, args);
        assert_eq!(run(EPOLL_CREATE, [0; 6]), errno(LxError::EINVAL));
        assert_eq!(
            run(EPOLL_CREATE1, [1, 0, 0, 0, 0, 0]),
            errno(LxError::EINVAL)
        );
        let ep = run(EPOLL_CREATE1, [0o2_000_000, 0, 0, 0, 0, 0]);
        assert!(ep >= 0);
        assert!(init.files().cloexec(ep as i32).unwrap());
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        let (r, w) = {
            let mut files = init.files();
            (
                files.add(reader, false).unwrap() as usize,
                files.add(writer.clone(), false).unwrap() as usize,
            )
        };
        let ep = ep as usize;
        let ev = event(&arena, 1, 77);
        let bad = arena.unmapped();
        assert_eq!(
            run(EPOLL_CTL, [ep, 1, r, bad, 0, 0]),
            errno(LxError::EFAULT)
        );
        assert_eq!(run(EPOLL_CTL, [ep, 1, 99, ev, 0, 0]), errno(LxError::EBADF));
        assert_eq!(
            run(EPOLL_CTL, [ep, 1, ep, ev, 0, 0]),
            errno(LxError::EINVAL)
        );
        assert_eq!(run(EPOLL_CTL, [r, 1, w, ev, 0, 0]), errno(LxError::EINVAL));
        assert_eq!(run(EPOLL_CTL, [ep, 9, r, ev, 0, 0]), errno(LxError::EINVAL));
        assert_eq!(run(EPOLL_CTL, [ep, 1, r, ev, 0, 0]), 0);
        assert_eq!(run(EPOLL_CTL, [ep, 1, r, ev, 0, 0]), errno(LxError::EEXIST));
        assert_eq!(
            run(EPOLL_CTL, [ep, 2, w, bad, 0, 0]),
            errno(LxError::ENOENT)
        );
        let exclusive_mod = event(&arena, 1 | 1 << 28, 0);
        assert_eq!(
            run(EPOLL_CTL, [ep, 3, r, exclusive_mod, 0, 0]),
            errno(LxError::EINVAL)
        );
        let out = arena.put_bytes(&[0; 48]);
        assert_eq!(
            run(EPOLL_WAIT, [ep, out, 0, 0, 0, 0]),
            errno(LxError::EINVAL)
        );
        assert_eq!(
            run(EPOLL_WAIT, [ep, out, (MAX_EVENTS + 1) as usize, 0, 0, 0]),
            errno(LxError::EINVAL)
        );
        assert_eq!(
            run(EPOLL_WAIT, [ep, usize::MAX - 8, 1, 0, 0, 0]),
            errno(LxError::EFAULT)
        );
        assert_eq!(
            run(EPOLL_WAIT, [r, out, 1, 0, 0, 0]),
            errno(LxError::EINVAL)
        );
        assert_eq!(run(EPOLL_WAIT, [ep, out, 4, 0, 0, 0]), 0);
        writer.write(b"x").unwrap();
        assert_eq!(
            run(EPOLL_WAIT, [ep, bad, 4, 0, 0, 0]),
            errno(LxError::EFAULT)
        );
        assert_eq!(run(EPOLL_WAIT, [ep, out, 4, 0, 0, 0]), 1);
        let bytes = arena.get_bytes(out, 12);
        assert_eq!(bytes[..4], 1u32.to_le_bytes());
        assert_eq!(bytes[4..12], 77u64.to_le_bytes());
        let timespec = arena.put_bytes(&[&0i64.to_le_bytes()[..], &(-1i64).to_le_bytes()].concat());
        assert_eq!(
            run(EPOLL_PWAIT2, [ep, out, 4, timespec, 0, 8]),
            errno(LxError::EINVAL)
        );
        assert_eq!(
            run(EPOLL_PWAIT, [ep, out, 4, 0, timespec, 16]),
            errno(LxError::EINVAL),
            "sigsetsize must be 8"
        );
    }

    #[test]
    fn a_blocked_wait_wakes_for_a_write_with_its_mask_installed() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        let ep = machine.run(&init, 1, EPOLL_CREATE1, [0; 6]) as usize;
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        let r = init.files().add(reader, false).unwrap() as usize;
        let ev = event(&arena, 1, 5);
        assert_eq!(machine.run(&init, 1, EPOLL_CTL, [ep, 1, r, ev, 0, 0]), 0);
        let out = arena.put_bytes(&[0; 12]);
        let mask = arena.put_bytes(&[0xff; 8]);
        let host = machine.task(1, 1);
        let call = crate::Syscall {
            process: &init,
            tid: 1,
            host: &host,
        };
        let before = machine.events().len();
        {
            let mut wait =
                core::pin::pin!(call.run(EPOLL_PWAIT, [ep, out, 1, usize::MAX, mask, 8]));
            assert!(poll_once(wait.as_mut()).is_pending());
            assert!(poll_once(wait.as_mut()).is_pending());
            writer.write(b"!").unwrap();
            assert_eq!(poll_once(wait.as_mut()), Poll::Ready(1));
        }
        assert_eq!(arena.get_bytes(out, 4), 1u32.to_le_bytes());
        let events = machine.events();
        assert!(matches!(
            events.get(before..),
            Some([
                HostEvent::WaitSigmaskSet(u64::MAX),
                HostEvent::WaitSigmaskRestored { interrupted: false }
            ])
        ));
    }
}
