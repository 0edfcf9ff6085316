//! The executor's park hook on the host: a futex word.

use crate::surface::{ParkResult, Parker};
use core::{
    ptr,
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};
use std::{io, time::Instant};

/// No unpark is pending and nobody sleeps.
const EMPTY: u32 = 0;
/// An unpark is pending: the next park returns at once.
const NOTIFIED: u32 = 1;
/// The owner sleeps, or is about to, on the futex word.
const PARKED: u32 = 2;

/// A parker whose thread sleeps in `FUTEX_WAIT` on one word.
///
/// A signal handler that runs while the thread sleeps ends the park with
/// [`ParkResult::Interrupted`], as a pending signal ends the kernel backend's interruptible
/// wait.
pub struct HostParker {
    state: AtomicU32,
}

/// How one `FUTEX_WAIT` ended.
enum FutexWait {
    /// Woken, or the word no longer held `PARKED`, or a spurious return.
    Returned,
    TimedOut,
    Interrupted,
}

impl HostParker {
    /// A parker with no unpark pending.
    pub const fn new() -> Self {
        Self {
            state: AtomicU32::new(EMPTY),
        }
    }

    /// Sleeps while the word is `PARKED`, for at most `timeout`.
    fn futex_wait(&self, timeout: Option<Duration>) -> FutexWait {
        let timespec = timeout.map(|timeout| libc::timespec {
            tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
            tv_nsec: timeout.subsec_nanos().into(),
        });
        let timespec_ptr = timespec
            .as_ref()
            .map_or(ptr::null(), |timespec| timespec as *const libc::timespec);
        // SAFETY: the futex word is `self.state`, alive and aligned for the whole call, and
        // `timespec_ptr` is null or points at `timespec`, which outlives the call.
        let status = unsafe {
            libc::syscall(
                libc::SYS_futex,
                self.state.as_ptr(),
                libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                PARKED,
                timespec_ptr,
            )
        };
        if status == 0 {
            return FutexWait::Returned;
        }
        match io::Error::last_os_error().raw_os_error() {
            Some(libc::ETIMEDOUT) => FutexWait::TimedOut,
            Some(libc::EINTR) => FutexWait::Interrupted,
            // EAGAIN: the word changed before the wait began.
            _ => FutexWait::Returned,
        }
    }

    /// Leaves the parked state; an unpark that came meanwhile wins over `outcome`.
    fn finish(&self, outcome: ParkResult) -> ParkResult {
        if self.state.swap(EMPTY, Ordering::Acquire) == NOTIFIED {
            ParkResult::Unparked
        } else {
            outcome
        }
    }
}

impl Default for HostParker {
    fn default() -> Self {
        Self::new()
    }
}

impl Parker for HostParker {
    fn park(&self, timeout: Option<Duration>) -> ParkResult {
        // EMPTY -> PARKED, or NOTIFIED -> EMPTY and back at once.
        if self.state.fetch_sub(1, Ordering::Acquire) == NOTIFIED {
            return ParkResult::Unparked;
        }
        // The word went EMPTY (0) -> u32::MAX; make it PARKED, unless an unpark came between.
        if self
            .state
            .compare_exchange(u32::MAX, PARKED, Ordering::Acquire, Ordering::Acquire)
            .is_err()
        {
            return self.finish(ParkResult::Unparked);
        }
        let deadline = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
        loop {
            let remaining = match (timeout, deadline) {
                (None, _) => None,
                (Some(_), Some(deadline)) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return self.finish(ParkResult::TimedOut);
                    }
                    Some(left)
                }
                // A timeout too far to represent: sleep in the longest steps there are.
                (Some(timeout), None) => Some(timeout),
            };
            let wait = self.futex_wait(remaining);
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, Ordering::Acquire, Ordering::Acquire)
                .is_ok()
            {
                return ParkResult::Unparked;
            }
            match wait {
                FutexWait::Interrupted => return self.finish(ParkResult::Interrupted),
                FutexWait::TimedOut => return self.finish(ParkResult::TimedOut),
                FutexWait::Returned => {}
            }
        }
    }

    fn unpark(&self) {
        if self.state.swap(NOTIFIED, Ordering::Release) == PARKED {
            // SAFETY: the futex word is `self.state`, alive for the whole call; FUTEX_WAKE
            // reads no other memory.
            unsafe {
                libc::syscall(
                    libc::SYS_futex,
                    self.state.as_ptr(),
                    libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
                    1,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{sync::Arc, thread};

    #[test]
    fn an_unpark_before_the_park_is_kept() {
        let parker = HostParker::new();
        parker.unpark();
        assert_eq!(parker.park(None), ParkResult::Unparked);
        assert_eq!(
            parker.park(Some(Duration::from_millis(10))),
            ParkResult::TimedOut
        );
    }

    #[test]
    fn a_park_times_out_after_its_timeout() {
        let parker = HostParker::new();
        let start = Instant::now();
        assert_eq!(
            parker.park(Some(Duration::from_millis(30))),
            ParkResult::TimedOut
        );
        assert!(start.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn another_thread_unparks_a_sleeper() {
        let parker = Arc::new(HostParker::new());
        let sleeper = {
            let parker = parker.clone();
            thread::spawn(move || parker.park(Some(Duration::from_secs(10))))
        };
        thread::sleep(Duration::from_millis(20));
        let start = Instant::now();
        parker.unpark();
        assert_eq!(sleeper.join().unwrap(), ParkResult::Unparked);
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    extern "C" fn ignore_signal(_: libc::c_int) {}

    #[test]
    fn a_signal_handler_interrupts_a_park() {
        // SAFETY: the handler does nothing, which is async-signal-safe; without SA_RESTART the
        // interrupted FUTEX_WAIT returns EINTR. SIGUSR2 is used by nothing else in this binary.
        unsafe {
            let mut action: libc::sigaction = core::mem::zeroed();
            action.sa_sigaction = ignore_signal as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = 0;
            assert_eq!(libc::sigaction(libc::SIGUSR2, &action, ptr::null_mut()), 0);
        }
        let (sender, receiver) = std::sync::mpsc::channel();
        let sleeper = thread::spawn(move || {
            // SAFETY: pthread_self has no preconditions.
            sender.send(unsafe { libc::pthread_self() }).unwrap();
            HostParker::new().park(Some(Duration::from_secs(10)))
        });
        let sleeper_id = receiver.recv().unwrap();
        let start = Instant::now();
        // The signal may come before the sleeper parks; repeat until the park ends.
        while !sleeper.is_finished() {
            // SAFETY: the thread has not been joined, so its id is valid.
            unsafe { libc::pthread_kill(sleeper_id, libc::SIGUSR2) };
            thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(sleeper.join().unwrap(), ParkResult::Interrupted);
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}
