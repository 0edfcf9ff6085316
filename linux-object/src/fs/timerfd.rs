//! [`TimerFd`]: a timer as a file (`timerfd_create`), as Linux's `fs/timerfd.c`.
//!
//! The timer is armed with an expiry and an interval on one clock; a read gives the number
//! of expirations since the last read (a `u64`), waiting for the first. Expirations are
//! counted from the clock when the timer is looked at, so none is lost however late the
//! look; a waiter is woken at the next expiry by a timer of `kernel-async`'s executor, which
//! the threads waiting in rVisor fire (a waiter is always one of them).
//!
//! Clocks are the HAL's: `CLOCK_MONOTONIC`, `CLOCK_REALTIME` (an absolute expiry follows the
//! realtime clock; the wake-up is computed on the monotonic clock, so a clock change is seen
//! when the timer is next looked at), and `CLOCK_BOOTTIME`, counted on the monotonic clock
//! (they differ only by the time the machine was suspended). `TFD_TIMER_CANCEL_ON_SET` is
//! noticed as a jump of the realtime clock against the monotonic one (more than
//! [`SET_THRESHOLD`]) when the timer is next looked at.

use super::waiters::Waiters;
use super::{FileLike, OpenFlags, PollEvents};
use crate::error::{LxError, LxResult};
use alloc::sync::{Arc, Weak};
use alloc::task::Wake;
use core::any::Any;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;
use kernel_async::Sleep;
use kernel_hal_lkm::platform;
use kernel_hal_lkm::sync::Mutex;
use kernel_hostfs::Metadata;

/// How far the realtime clock must move against the monotonic one to count as set: two
/// readings of the clocks are not one instant, and NTP slews both alike.
pub const SET_THRESHOLD: Duration = Duration::from_millis(1);

/// The clock a timer counts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerClock {
    /// `CLOCK_REALTIME` (and `CLOCK_REALTIME_ALARM`).
    Realtime,
    /// `CLOCK_MONOTONIC`.
    Monotonic,
    /// `CLOCK_BOOTTIME` (and `CLOCK_BOOTTIME_ALARM`).
    Boottime,
}

impl TimerClock {
    /// The clock's time now; `None` without a platform.
    fn now(self) -> Option<Duration> {
        let platform = platform().ok()?;
        Some(match self {
            Self::Realtime => platform.realtime_now(),
            Self::Monotonic | Self::Boottime => platform.monotonic_now(),
        })
    }
}

/// A timer's setting: time to the next expiry (zero: disarmed) and the interval (zero:
/// one-shot), as `struct itimerspec` holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimerSpec {
    /// `it_interval`.
    pub interval: Duration,
    /// `it_value`.
    pub value: Duration,
}

struct State {
    /// The next expiry, in the clock's time; `None`: disarmed.
    next: Option<Duration>,
    interval: Duration,
    /// Expirations not read yet.
    ticks: u64,
    /// With `TFD_TIMER_CANCEL_ON_SET`, the realtime clock's offset from the monotonic one
    /// when the timer was set.
    cancel_offset: Option<i128>,
    /// The realtime clock was set since: the next read is `ECANCELED`.
    canceled: bool,
    waiters: Waiters,
    /// The executor's timer for the next expiry, polled with [`Fire`]'s waker.
    sleep: Option<Sleep>,
}

/// The realtime clock's offset from the monotonic clock, in nanoseconds.
fn realtime_offset() -> Option<i128> {
    let platform = platform().ok()?;
    Some(platform.realtime_now().as_nanos() as i128 - platform.monotonic_now().as_nanos() as i128)
}

impl State {
    /// Counts the expirations up to `now`, and notices a set realtime clock.
    fn update(&mut self, now: Duration) {
        if let (Some(offset), Some(current)) = (self.cancel_offset, realtime_offset()) {
            if (current - offset).unsigned_abs() > SET_THRESHOLD.as_nanos() {
                self.cancel_offset = None;
                self.canceled = true;
                self.ticks = self.ticks.saturating_add(1);
            }
        }
        let Some(next) = self.next.filter(|next| now >= *next) else {
            return;
        };
        if self.interval.is_zero() {
            self.ticks = self.ticks.saturating_add(1);
            self.next = None;
            return;
        }
        // In nanoseconds as u128: a 1 ns interval looked at years later still counts.
        let interval = self.interval.as_nanos();
        let periods = (now - next).as_nanos() / interval + 1;
        self.ticks = self
            .ticks
            .saturating_add(u64::try_from(periods).unwrap_or(u64::MAX));
        let following = next
            .as_nanos()
            .saturating_add(periods.saturating_mul(interval));
        // Past u64 nanoseconds (year 2554) the timer never expires again.
        self.next = u64::try_from(following).ok().map(Duration::from_nanos);
    }
}

/// The waker of the executor's timer: wakes whoever waits on the timerfd.
struct Fire(Weak<Mutex<State>>);

impl Wake for Fire {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(state) = self.0.upgrade() {
            let woken = state.lock().waiters.take();
            woken.wake();
        }
    }
}

/// A timerfd's open file description.
pub struct TimerFd {
    clock: TimerClock,
    state: Arc<Mutex<State>>,
    fire: Waker,
    flags: Mutex<OpenFlags>,
}

impl TimerFd {
    /// A disarmed timer on `clock`; `flags` may hold `O_NONBLOCK` (`TFD_NONBLOCK`).
    pub fn new(clock: TimerClock, flags: OpenFlags) -> Arc<Self> {
        let state = Arc::new(Mutex::new(State {
            next: None,
            interval: Duration::ZERO,
            ticks: 0,
            cancel_offset: None,
            canceled: false,
            waiters: Waiters::new(),
            sleep: None,
        }));
        let fire = Waker::from(Arc::new(Fire(Arc::downgrade(&state))));
        Arc::new(Self {
            clock,
            state,
            fire,
            flags: Mutex::new(flags & OpenFlags::NONBLOCK),
        })
    }

    /// The setting now: time to the next expiry (zero if disarmed) and the interval
    /// (`timerfd_gettime`).
    pub fn get(&self) -> TimerSpec {
        let now = self.clock.now().unwrap_or_default();
        let mut state = self.state.lock();
        state.update(now);
        TimerSpec {
            interval: state.interval,
            value: state
                .next
                .map_or(Duration::ZERO, |next| next.saturating_sub(now)),
        }
    }

    /// Arms (or, with a zero value, disarms) the timer and returns the previous setting
    /// (`timerfd_settime`). With `absolute`, `spec.value` is a time of the clock; with
    /// `cancel_on_set` (honoured for an absolute realtime timer only, as Linux), a later
    /// set of the realtime clock makes the next read `ECANCELED`. Unread expirations are
    /// forgotten.
    pub fn set(&self, spec: TimerSpec, absolute: bool, cancel_on_set: bool) -> TimerSpec {
        let old = self.get();
        let now = self.clock.now().unwrap_or_default();
        let woken = {
            let mut state = self.state.lock();
            state.ticks = 0;
            state.canceled = false;
            state.interval = spec.interval;
            state.cancel_offset = None;
            state.sleep = None;
            state.next = if spec.value.is_zero() {
                None
            } else if absolute {
                Some(spec.value)
            } else {
                Some(now.checked_add(spec.value).unwrap_or(Duration::MAX))
            };
            if cancel_on_set && absolute && self.clock == TimerClock::Realtime {
                state.cancel_offset = realtime_offset();
            }
            // Waiters look again: an expiry in the past counts at once.
            state.waiters.take()
        };
        woken.wake();
        old
    }

    /// Counts expirations; with `cx`, registers it and has the executor's timer wake the
    /// waiters at the next expiry.
    fn look(&self, cx: Option<&Context<'_>>) -> (u64, bool) {
        loop {
            let now = self.clock.now().unwrap_or_default();
            let mut state = self.state.lock();
            state.update(now);
            let Some(cx) = cx else {
                return (state.ticks, state.canceled);
            };
            state.waiters.register(cx);
            // Armed even with expirations unread: an edge-triggered epoll item that saw them
            // waits for the next expiry without polling again, as Linux's hrtimer wakes its
            // waiters at every expiry.
            let Some(next) = state.next else {
                return (state.ticks, state.canceled);
            };
            let Some(monotonic_now) = platform().ok().map(|p| p.monotonic_now()) else {
                return (state.ticks, state.canceled);
            };
            let deadline = monotonic_now
                .checked_add(next.saturating_sub(now))
                .unwrap_or(Duration::MAX);
            if state.sleep.as_ref().map(Sleep::deadline) != Some(deadline) {
                state.sleep = kernel_async::sleep_until(deadline).ok();
            }
            let mut fire = Context::from_waker(&self.fire);
            let due = match state.sleep.as_mut() {
                Some(sleep) => Pin::new(sleep).poll(&mut fire).is_ready(),
                None => false,
            };
            if !due {
                return (state.ticks, state.canceled);
            }
            // The deadline passed between the reads of the clocks: count it.
            state.sleep = None;
        }
    }

    /// Takes the expirations into `buf`, or `None` if a reader has to wait.
    fn try_read(&self, cx: Option<&Context<'_>>, buf: &mut [u8]) -> Option<LxResult<usize>> {
        let Some(out) = buf.get_mut(..8) else {
            return Some(Err(LxError::EINVAL));
        };
        let (ticks, _) = self.look(cx);
        if ticks == 0 {
            return None;
        }
        let mut state = self.state.lock();
        if core::mem::take(&mut state.canceled) {
            state.ticks = 0;
            return Some(Err(LxError::ECANCELED));
        }
        let ticks = core::mem::take(&mut state.ticks);
        drop(state);
        if ticks == 0 {
            return None;
        }
        out.copy_from_slice(&ticks.to_ne_bytes());
        Some(Ok(8))
    }

    fn nonblocking(&self) -> bool {
        self.flags().contains(OpenFlags::NONBLOCK)
    }
}

impl FileLike for TimerFd {
    fn read(&self, buf: &mut [u8]) -> LxResult<usize> {
        self.try_read(None, buf).unwrap_or(Err(LxError::EAGAIN))
    }

    fn write(&self, _buf: &[u8]) -> LxResult<usize> {
        Err(LxError::EINVAL)
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<LxResult<usize>> {
        if self.nonblocking() {
            return Poll::Ready(self.read(buf));
        }
        self.try_read(Some(cx), buf)
            .map_or(Poll::Pending, Poll::Ready)
    }

    /// As Linux's `timerfd_poll`: readable once it has expired since the last read.
    fn poll_events(&self, cx: Option<&Context<'_>>) -> PollEvents {
        if self.look(cx).0 > 0 {
            PollEvents::IN
        } else {
            PollEvents::empty()
        }
    }

    fn metadata(&self) -> LxResult<Metadata> {
        // Linux's timerfds are inodes of its anonymous inode filesystem.
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
    use std::time::Instant;

    fn count(timer: &TimerFd) -> LxResult<u64> {
        let mut buf = [0; 8];
        timer.read(&mut buf)?;
        Ok(u64::from_ne_bytes(buf))
    }

    fn millis(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn an_interval_timer_counts_every_expiry_and_a_read_takes_them() {
        let timer = TimerFd::new(TimerClock::Monotonic, OpenFlags::empty());
        assert_eq!(count(&timer), Err(LxError::EAGAIN), "disarmed");
        assert_eq!(timer.read(&mut [0; 7]), Err(LxError::EINVAL));
        let spec = TimerSpec {
            interval: millis(20),
            value: millis(20),
        };
        assert_eq!(timer.set(spec, false, false), TimerSpec::default());
        let got = timer.get();
        assert_eq!(got.interval, millis(20));
        assert!(got.value <= millis(20) && !got.value.is_zero(), "{got:?}");
        assert_eq!(timer.poll_events(None), PollEvents::empty());
        std::thread::sleep(millis(70));
        assert_eq!(timer.poll_events(None), PollEvents::IN);
        assert!(count(&timer).unwrap() >= 3);
        assert_eq!(count(&timer), Err(LxError::EAGAIN));
        // Disarming returns the old setting and forgets what was not read.
        let old = timer.set(TimerSpec::default(), false, false);
        assert_eq!(old.interval, millis(20));
        assert_eq!(timer.get(), TimerSpec::default());
    }

    #[test]
    fn a_one_shot_timer_in_the_past_expires_once_at_once() {
        let timer = TimerFd::new(TimerClock::Realtime, OpenFlags::empty());
        let spec = TimerSpec {
            interval: Duration::ZERO,
            value: Duration::from_nanos(1),
        };
        timer.set(spec, true, true);
        assert_eq!(count(&timer), Ok(1));
        assert_eq!(count(&timer), Err(LxError::EAGAIN));
        assert_eq!(timer.get(), TimerSpec::default());
    }

    #[test]
    fn a_blocked_read_is_woken_by_the_executors_timer() {
        let timer = TimerFd::new(TimerClock::Boottime, OpenFlags::empty());
        timer.set(
            TimerSpec {
                interval: Duration::ZERO,
                value: millis(30),
            },
            false,
            false,
        );
        let thread = kernel_async::UserThread::new().unwrap();
        let start = Instant::now();
        let result = kernel_async::run_user_top(&thread, async {
            let mut buf = [0; 8];
            match read_file(&*timer, &mut buf).await {
                Ok(_) => u64::from_ne_bytes(buf) as isize,
                Err(error) => -(error.errno() as isize),
            }
        });
        assert_eq!(result, Ok(1));
        assert!(start.elapsed() >= millis(30));
    }
}
