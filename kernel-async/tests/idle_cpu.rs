//! A thread waiting in `run_user_top` sleeps: it uses no CPU while it waits.
//!
//! In its own test binary so that no other test's tasks give the thread work meanwhile.

use core::{
    future::poll_fn,
    task::{Poll, Waker},
    time::Duration,
};
use kernel_async::{run_user_top, sleep, spawn, UserThread};
use std::{
    sync::{Arc, Mutex},
    thread,
    time::Instant,
};

/// CPU time the calling thread has used: the first field of its schedstat, in nanoseconds.
fn thread_cpu_time() -> Duration {
    let schedstat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    let nanos = schedstat
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    Duration::from_nanos(nanos)
}

/// How long the waiter sleeps.
const WAIT: Duration = Duration::from_secs(1);
/// CPU a sleeping thread may use for being woken once: far below what any spinning uses.
const IDLE_CPU_LIMIT: Duration = Duration::from_millis(5);

/// Runs a user-top future that waits until another thread wakes it after [`WAIT`], with a
/// kernel task asleep on a far timer meanwhile; returns the waiter's CPU time and wall time.
fn measure_parked_waiter() -> (Duration, Duration) {
    let released: Arc<Mutex<(bool, Option<Waker>)>> = Arc::default();
    let waiter = {
        let released = released.clone();
        thread::spawn(move || {
            let user = UserThread::new().unwrap();
            // A pending timer makes the thread park with a timeout rather than for ever.
            let far_timer = sleep(Duration::from_secs(3600)).unwrap();
            spawn(far_timer).detach();
            let release = poll_fn(move |cx| {
                let mut released = released.lock().unwrap();
                if released.0 {
                    Poll::Ready(11)
                } else {
                    released.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            });
            let cpu_before = thread_cpu_time();
            let start = Instant::now();
            assert_eq!(run_user_top(&user, release), Ok(11));
            (thread_cpu_time() - cpu_before, start.elapsed())
        })
    };
    thread::sleep(WAIT);
    let waker = {
        let mut released = released.lock().unwrap();
        released.0 = true;
        released.1.take()
    };
    waker.expect("the waiter registered its waker").wake();
    waiter.join().unwrap()
}

#[test]
fn a_parked_thread_uses_no_cpu() {
    let (cpu, wall) = measure_parked_waiter();
    println!(
        "parked thread: {} µs of CPU over {} ms of waiting",
        cpu.as_micros(),
        wall.as_millis()
    );
    assert!(wall >= WAIT - Duration::from_millis(50), "{wall:?}");
    assert!(cpu < IDLE_CPU_LIMIT, "a waiting thread used {cpu:?} of CPU");
}
