//! Sleeping until a deadline of the HAL's monotonic clock.
//!
//! Timers are kept by the executor: a thread with nothing to do parks until the earliest
//! deadline, then wakes the tasks whose deadlines have passed.
//!
//! ```
//! use core::time::Duration;
//! use kernel_async::{run_user_top, sleep, UserThread};
//!
//! let thread = UserThread::new().unwrap();
//! let nap = sleep(Duration::from_millis(10)).unwrap();
//! assert_eq!(run_user_top(&thread, async move { nap.await; 7 }), Ok(7));
//! ```

use crate::executor::EXECUTOR;
use core::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};
use kernel_hal_lkm::{platform, HalError, Platform};

/// A future that is ready once the monotonic clock has reached its deadline.
#[must_use = "a sleep does nothing unless awaited"]
pub struct Sleep {
    deadline: Duration,
    platform: &'static dyn Platform,
    /// The executor's registration of the timer, once the future has been polled early.
    timer: Option<u64>,
}

/// Sleeps until the monotonic clock reads `deadline`.
pub fn sleep_until(deadline: Duration) -> Result<Sleep, HalError> {
    Ok(Sleep {
        deadline,
        platform: platform()?,
        timer: None,
    })
}

/// Sleeps for `duration` from now.
pub fn sleep(duration: Duration) -> Result<Sleep, HalError> {
    let platform = platform()?;
    // A deadline past the end of time is never reached, as it should be.
    let deadline = platform
        .monotonic_now()
        .checked_add(duration)
        .unwrap_or(Duration::MAX);
    Ok(Sleep {
        deadline,
        platform,
        timer: None,
    })
}

impl Sleep {
    /// The deadline, in monotonic time.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.platform.monotonic_now() >= self.deadline {
            if let Some(timer) = self.timer.take() {
                EXECUTOR.cancel_timer(self.deadline, timer);
            }
            return Poll::Ready(());
        }
        let timer = EXECUTOR.set_timer(self.deadline, self.timer, cx.waker());
        self.timer = Some(timer);
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(timer) = self.timer {
            EXECUTOR.cancel_timer(self.deadline, timer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{run_user_top, spawn, UserThread};
    use alloc::vec::Vec;
    use futures_util::future::join_all;
    use std::time::Instant;

    #[test]
    fn a_sleep_ends_at_its_deadline() {
        let thread = UserThread::new().unwrap();
        let start = Instant::now();
        let nap = sleep(Duration::from_millis(50)).unwrap();
        assert_eq!(
            run_user_top(&thread, async move {
                nap.await;
                1
            }),
            Ok(1)
        );
        let slept = start.elapsed();
        assert!(slept >= Duration::from_millis(50), "{slept:?}");
        assert!(slept < Duration::from_secs(5), "{slept:?}");
    }

    #[test]
    fn sleeps_end_in_deadline_order() {
        let thread = UserThread::new().unwrap();
        let order = std::sync::Arc::new(spin::Mutex::new(Vec::new()));
        let sleepers: Vec<_> = [30u64, 10, 20]
            .into_iter()
            .map(|millis| {
                let order = order.clone();
                let nap = sleep(Duration::from_millis(millis)).unwrap();
                spawn(async move {
                    nap.await;
                    order.lock().push(millis);
                })
            })
            .collect();
        assert_eq!(
            run_user_top(&thread, async move {
                join_all(sleepers).await;
                0
            }),
            Ok(0)
        );
        assert_eq!(*order.lock(), [10, 20, 30]);
    }

    #[test]
    fn a_passed_deadline_is_ready_at_once() {
        let thread = UserThread::new().unwrap();
        let nap = sleep_until(Duration::ZERO).unwrap();
        assert_eq!(
            run_user_top(&thread, async move {
                nap.await;
                3
            }),
            Ok(3)
        );
        assert_eq!(sleep(Duration::MAX).unwrap().deadline(), Duration::MAX);
    }
}
