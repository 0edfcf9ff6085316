//! `timerfd_create`, `timerfd_settime`, `timerfd_gettime`: timers as descriptors
//! ([`TimerFd`]), with Linux's checks (`fs/timerfd.c`) in its order.

use alloc::sync::Arc;
use core::time::Duration;
use linux_object::fs::{FileLike, OpenFlags, TimerClock, TimerFd, TimerSpec};
use linux_object::LxError;

use crate::user::{UserInPtr, UserOutPtr};
use crate::{SysResult, Syscall};

const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 1;
const CLOCK_BOOTTIME: i32 = 7;
const CLOCK_REALTIME_ALARM: i32 = 8;
const CLOCK_BOOTTIME_ALARM: i32 = 9;
/// `TFD_NONBLOCK` (`O_NONBLOCK`) and `TFD_CLOEXEC` (`O_CLOEXEC`).
const TFD_NONBLOCK: u32 = 0o4000;
const TFD_CLOEXEC: u32 = 0o2_000_000;
/// `timerfd_settime` flags.
const TFD_TIMER_ABSTIME: u32 = 1;
const TFD_TIMER_CANCEL_ON_SET: u32 = 2;
/// The capability the alarm clocks need (they may wake a suspended machine).
const CAP_WAKE_ALARM: u32 = 35;
const NSEC_PER_SEC: i64 = 1_000_000_000;

/// A `struct timespec` of an `itimerspec`, checked as Linux's `timespec64_valid`.
fn duration_of(sec: i64, nsec: i64) -> Result<Duration, LxError> {
    let sec = u64::try_from(sec).map_err(|_| LxError::EINVAL)?;
    if !(0..NSEC_PER_SEC).contains(&nsec) {
        return Err(LxError::EINVAL);
    }
    Ok(Duration::new(sec, nsec as u32))
}

/// Writes `spec` as a `struct itimerspec` (`it_interval`, then `it_value`).
fn write_spec(ptr: UserOutPtr<i64>, spec: TimerSpec) -> Result<(), LxError> {
    let field = |time: Duration| {
        (
            i64::try_from(time.as_secs()).unwrap_or(i64::MAX),
            i64::from(time.subsec_nanos()),
        )
    };
    let (isec, insec) = field(spec.interval);
    let (vsec, vnsec) = field(spec.value);
    ptr.write_array(&[isec, insec, vsec, vnsec])
}

impl Syscall<'_> {
    /// `timerfd_create(clockid, flags)`: `EINVAL` for another clock or flag; the alarm
    /// clocks need `CAP_WAKE_ALARM` (`EPERM`) and count as their plain clocks (waking a
    /// suspended machine is nothing a program sees).
    pub fn sys_timerfd_create(&self, clockid: i32, flags: u32) -> SysResult {
        let clock = match clockid {
            CLOCK_REALTIME | CLOCK_REALTIME_ALARM => TimerClock::Realtime,
            CLOCK_MONOTONIC => TimerClock::Monotonic,
            CLOCK_BOOTTIME | CLOCK_BOOTTIME_ALARM => TimerClock::Boottime,
            _ => return Err(LxError::EINVAL),
        };
        if flags & !(TFD_NONBLOCK | TFD_CLOEXEC) != 0 {
            return Err(LxError::EINVAL);
        }
        if matches!(clockid, CLOCK_REALTIME_ALARM | CLOCK_BOOTTIME_ALARM) {
            let caps = self.host.capabilities(None)?;
            if caps.effective & (1 << CAP_WAKE_ALARM) == 0 {
                return Err(LxError::EPERM);
            }
        }
        let file: Arc<dyn FileLike> =
            TimerFd::new(clock, OpenFlags::from_bits_truncate(flags & TFD_NONBLOCK));
        let fd = self.process.files().add(file, flags & TFD_CLOEXEC != 0)?;
        Ok(fd as usize)
    }

    /// The timerfd open as `fd`: `EBADF`, or `EINVAL` for another kind of file.
    fn timerfd(&self, fd: i32) -> Result<Arc<dyn FileLike>, LxError> {
        let file = self.poll_file(fd).ok_or(LxError::EBADF)?;
        if file.as_any().downcast_ref::<TimerFd>().is_none() {
            return Err(LxError::EINVAL);
        }
        Ok(file)
    }

    /// `timerfd_settime(fd, flags, new_value, old_value)`: `new_value` is read first
    /// (`EFAULT`), then the flags and times are checked (`EINVAL`), then `fd`; the old
    /// setting is written after the timer is set (`EFAULT` then, as Linux).
    pub fn sys_timerfd_settime(
        &self,
        fd: i32,
        flags: u32,
        new_value: UserInPtr<i64>,
        old_value: UserOutPtr<i64>,
    ) -> SysResult {
        let raw = new_value.read_array(4)?;
        let at = |index: usize| raw.get(index).copied().unwrap_or_default();
        if flags & !(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET) != 0 {
            return Err(LxError::EINVAL);
        }
        let spec = TimerSpec {
            interval: duration_of(at(0), at(1))?,
            value: duration_of(at(2), at(3))?,
        };
        let file = self.timerfd(fd)?;
        let timer = file
            .as_any()
            .downcast_ref::<TimerFd>()
            .ok_or(LxError::EINVAL)?;
        let old = timer.set(
            spec,
            flags & TFD_TIMER_ABSTIME != 0,
            flags & TFD_TIMER_CANCEL_ON_SET != 0,
        );
        if !old_value.is_null() {
            write_spec(old_value, old)?;
        }
        Ok(0)
    }

    /// `timerfd_gettime(fd, curr_value)`: time to the next expiry and the interval.
    pub fn sys_timerfd_gettime(&self, fd: i32, curr_value: UserOutPtr<i64>) -> SysResult {
        let file = self.timerfd(fd)?;
        let timer = file
            .as_any()
            .downcast_ref::<TimerFd>()
            .ok_or(LxError::EINVAL)?;
        write_spec(curr_value, timer.get())?;
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{Capabilities, TaskHost};
    use crate::testing::{TestMachine, UserArena};
    use alloc::vec::Vec;

    const TIMERFD_CREATE: u32 = 283;
    const EVENTFD: u32 = 284;
    const TIMERFD_SETTIME: u32 = 286;
    const TIMERFD_GETTIME: u32 = 287;
    const EVENTFD2: u32 = 290;

    fn errno(error: LxError) -> isize {
        -(error.errno() as isize)
    }

    fn itimerspec(arena: &UserArena, values: [i64; 4]) -> usize {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        arena.put_bytes(&bytes)
    }

    #[test]
    fn timerfd_and_eventfd_creation_flags_clocks_and_settings() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        let run = |nr, args| machine.run(&init, 1, nr, args);
        assert_eq!(run(EVENTFD2, [0, 8, 0, 0, 0, 0]), errno(LxError::EINVAL));
        let efd = run(EVENTFD, [3, 0, 0, 0, 0, 0]);
        assert!(efd >= 0);
        assert_eq!(
            run(TIMERFD_CREATE, [99, 0, 0, 0, 0, 0]),
            errno(LxError::EINVAL)
        );
        assert_eq!(
            run(TIMERFD_CREATE, [2, 0, 0, 0, 0, 0]),
            errno(LxError::EINVAL)
        );
        assert_eq!(
            run(TIMERFD_CREATE, [1, 1, 0, 0, 0, 0]),
            errno(LxError::EINVAL)
        );
        assert!(
            run(TIMERFD_CREATE, [8, 0, 0, 0, 0, 0]) >= 0,
            "root may use alarms"
        );
        machine
            .task(1, 1)
            .set_own_capabilities(Capabilities {
                effective: 0,
                permitted: 0,
                inheritable: 0,
            })
            .unwrap();
        assert_eq!(
            run(TIMERFD_CREATE, [9, 0, 0, 0, 0, 0]),
            errno(LxError::EPERM)
        );
        let tfd = run(TIMERFD_CREATE, [1, 0o2_004_000, 0, 0, 0, 0]);
        assert!(tfd >= 0);
        assert!(init.files().cloexec(tfd as i32).unwrap());
        let (tfd, efd) = (tfd as usize, efd as usize);
        let spec = itimerspec(&arena, [1, 0, 5, 0]);
        let old = arena.put_bytes(&[0xaa; 32]);
        let bad = arena.unmapped();
        assert_eq!(
            run(TIMERFD_SETTIME, [tfd, 4, spec, 0, 0, 0]),
            errno(LxError::EINVAL)
        );
        assert_eq!(
            run(TIMERFD_SETTIME, [tfd, 0, bad, 0, 0, 0]),
            errno(LxError::EFAULT)
        );
        let negative = itimerspec(&arena, [0, 0, -1, 0]);
        assert_eq!(
            run(TIMERFD_SETTIME, [tfd, 0, negative, 0, 0, 0]),
            errno(LxError::EINVAL)
        );
        assert_eq!(
            run(TIMERFD_SETTIME, [efd, 0, spec, 0, 0, 0]),
            errno(LxError::EINVAL)
        );
        assert_eq!(
            run(TIMERFD_SETTIME, [77, 0, spec, 0, 0, 0]),
            errno(LxError::EBADF)
        );
        assert_eq!(run(TIMERFD_SETTIME, [tfd, 0, spec, old, 0, 0]), 0);
        assert_eq!(arena.get_bytes(old, 32), [0; 32], "it was disarmed");
        assert_eq!(run(TIMERFD_GETTIME, [tfd, old, 0, 0, 0, 0]), 0);
        let got = arena.get_bytes(old, 32);
        assert_eq!(got[..16], [&1i64.to_le_bytes()[..], &[0; 8]].concat()[..]);
        let value_sec = i64::from_le_bytes(got[16..24].try_into().unwrap());
        assert!((4..=5).contains(&value_sec), "{value_sec}");
        // The setting is made before the old one is written: EFAULT, but armed.
        assert_eq!(
            run(TIMERFD_SETTIME, [tfd, 0, spec, bad, 0, 0]),
            errno(LxError::EFAULT)
        );
        assert_eq!(
            run(TIMERFD_GETTIME, [efd, old, 0, 0, 0, 0]),
            errno(LxError::EINVAL)
        );
        let buf = arena.put_bytes(&[0; 8]);
        assert_eq!(run(0, [tfd, buf, 8, 0, 0, 0]), errno(LxError::EAGAIN));
        assert_eq!(run(0, [efd, buf, 8, 0, 0, 0]), 8);
        assert_eq!(arena.get_bytes(buf, 8), 3u64.to_le_bytes());
    }
}
