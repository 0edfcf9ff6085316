//! The executor: kernel tasks, and the syscall each thread runs in place.
//!
//! rVisor serves a syscall on the thread that made it: [`run_user_top`] polls the syscall's
//! future where it stands, on the thread's own stack, until it is ready, and returns its value.
//! Only that thread polls it, because user copies and `vm_mmap` act on the address space of
//! the thread that runs them; nothing is allocated for it. zCore-internal work runs as kernel
//! tasks ([`spawn`]), which any thread inside [`run_user_top`] polls while its own future
//! waits.
//!
//! A thread with nothing to poll sleeps in the HAL's [`Parker`] until a waker hands it work
//! or its next timer is due: it never spins.
//!
//! ```
//! use kernel_async::{run_user_top, spawn, UserThread};
//!
//! let thread = UserThread::new().unwrap();
//! let helper = spawn(async { 40 });
//! assert_eq!(run_user_top(&thread, async move { helper.await + 2 }), Ok(42));
//! ```

use alloc::{collections::BTreeMap, collections::VecDeque, sync::Arc, vec::Vec};
use async_task::Runnable;
use core::{
    fmt,
    future::Future,
    pin::{pin, Pin},
    sync::atomic::{AtomicBool, AtomicPtr, Ordering},
    task::{Context, Poll, RawWakerVTable, Waker},
    time::Duration,
};
use futures_util::task::{waker_ref, ArcWake};
use kernel_hal_lkm::sync::Mutex;
use kernel_hal_lkm::{platform, HalError, ParkResult, Parker, Platform};

/// Errors of the executor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecutorError {
    /// a signal is pending for the thread; its syscall future was cancelled
    Interrupted,
    /// the HAL could not serve the executor
    Hal(HalError),
}

impl fmt::Display for ExecutorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Interrupted => {
                f.write_str("a signal is pending for the thread; its syscall future was cancelled")
            }
            Self::Hal(error) => write!(f, "the HAL could not serve the executor: {error}"),
        }
    }
}

impl From<HalError> for ExecutorError {
    fn from(error: HalError) -> Self {
        Self::Hal(error)
    }
}

/// A kernel task; one that has not been polled to completion is dropped.
///
/// Awaiting a [`Task`] gives the output of its future.
#[must_use = "dropping a task cancels it; call `detach` to let it run"]
pub struct Task<T> {
    handle: async_task::Task<T>,
}

impl<T> Task<T> {
    /// Whether the task's future has completed.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Lets the task run on without anyone awaiting it.
    pub fn detach(self) {
        self.handle.detach();
    }
}

impl<T> Future for Task<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.handle).poll(cx)
    }
}

/// Spawns `future` as a kernel task, polled by whichever thread of the executor is free.
pub fn spawn<F>(future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (runnable, handle) = async_task::spawn(future, |runnable| EXECUTOR.schedule_kern(runnable));
    runnable.schedule();
    Task { handle }
}

/// A user thread's seat in the executor.
///
/// Made once per OS thread that makes syscalls, and used only by that thread.
pub struct UserThread {
    bell: Arc<Bell>,
    platform: &'static dyn Platform,
}

/// How a thread's syscall future wakes its thread: the waker it is polled with.
struct Bell {
    rung: AtomicBool,
    parker: Arc<dyn Parker>,
}

impl ArcWake for Bell {
    fn wake_by_ref(bell: &Arc<Self>) {
        bell.rung.store(true, Ordering::SeqCst);
        bell.parker.unpark();
    }
}

impl UserThread {
    /// The calling OS thread's seat, sleeping in a parker of the installed HAL.
    pub fn new() -> Result<Arc<Self>, ExecutorError> {
        let platform = platform()?;
        Ok(Self::with_parker(platform, platform.new_parker()?))
    }

    /// The calling OS thread's seat, sleeping in `parker`.
    pub fn with_parker(platform: &'static dyn Platform, parker: Arc<dyn Parker>) -> Arc<Self> {
        Arc::new(Self {
            bell: Arc::new(Bell {
                rung: AtomicBool::new(false),
                parker,
            }),
            platform,
        })
    }

    /// Runs kernel tasks and timers until the syscall future's waker rings; sleeps while
    /// there is nothing to do. `Interrupted` if a signal ends a sleep.
    fn wait_for_bell(&self) -> Result<(), ExecutorError> {
        loop {
            if self.bell.rung.swap(false, Ordering::SeqCst) {
                return Ok(());
            }
            if let Some(runnable) = EXECUTOR.pop_kern() {
                runnable.run();
                continue;
            }
            let now = self.platform.monotonic_now();
            let (expired, next_deadline) = EXECUTOR.take_expired_timers(now);
            if !expired.is_empty() {
                expired.into_iter().for_each(Waker::wake);
                continue;
            }
            let timeout = next_deadline.map(|deadline| deadline.saturating_sub(now));
            if !EXECUTOR.enter_idle(&self.bell) {
                // Kernel work arrived since the look above.
                continue;
            }
            // A ring after the look above has unparked the parker already: this returns.
            let parked = self.bell.parker.park(timeout);
            EXECUTOR.leave_idle(&self.bell);
            if parked == ParkResult::Interrupted {
                return Err(ExecutorError::Interrupted);
            }
        }
    }
}

/// The vtable of the wakers that ring a thread's bell (recorded by [`run_user_top`]).
static BELL_VTABLE: AtomicPtr<RawWakerVTable> = AtomicPtr::new(core::ptr::null_mut());

/// Whether `waker` does nothing but ring a user thread's bell (set a flag and unpark the
/// thread), so that it may be woken from any context, an interrupt's included. A host object
/// whose wake-ups run in atomic context (a host socket's wait queue) wakes such wakers at
/// once and defers any other to process context. `false` for any other waker (and for all
/// before the first syscall future ran).
pub fn wakes_only_a_thread(waker: &Waker) -> bool {
    let bell = BELL_VTABLE.load(Ordering::Relaxed);
    !bell.is_null() && core::ptr::eq(waker.vtable(), bell)
}

/// Runs `future`, a syscall of the calling thread, to completion on this thread and returns
/// its value. While it waits, the thread runs kernel tasks and due timers, and sleeps when
/// there is none. A signal that ends the sleep cancels the call: the future is dropped and
/// the result is [`ExecutorError::Interrupted`].
pub fn run_user_top<F>(thread: &UserThread, future: F) -> Result<isize, ExecutorError>
where
    F: Future<Output = isize>,
{
    let mut future = pin!(future);
    // Borrowed, not counted: a future that keeps the waker clones it.
    let waker = waker_ref(&thread.bell);
    BELL_VTABLE.store(
        (waker.vtable() as *const RawWakerVTable).cast_mut(),
        Ordering::Relaxed,
    );
    let mut cx = Context::from_waker(&waker);
    thread.bell.rung.store(false, Ordering::SeqCst);
    let mut waited = false;
    let result = loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            break Ok(value);
        }
        waited = true;
        if let Err(error) = thread.wait_for_bell() {
            break Err(error);
        }
    };
    // A kernel task's wake-up may have picked this thread, which is leaving now. Only a thread
    // that waited can have been picked: it is picked from the threads asleep.
    if waited {
        EXECUTOR.pass_on_kern_work();
    }
    result
}

/// Polls once more after being woken at once: lets other tasks run in between.
pub async fn yield_now() {
    let mut yielded = false;
    core::future::poll_fn(move |cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
}

/// The executor's state shared by all threads.
///
/// Wakers are never called with the lock held: a wake takes the lock again.
pub(crate) struct Executor {
    state: Mutex<State>,
}

struct State {
    /// Woken kernel tasks, oldest first.
    kern: VecDeque<Runnable>,
    /// Threads asleep with no work; a woken kernel task wakes the last of them.
    idle: Vec<Arc<Bell>>,
    /// Wakers of sleeping tasks by deadline (monotonic time) and registration number.
    timers: BTreeMap<(Duration, u64), Waker>,
    next_timer: u64,
}

/// The one executor: every thread serving syscalls takes part in it.
pub(crate) static EXECUTOR: Executor = Executor {
    state: Mutex::new(State {
        kern: VecDeque::new(),
        idle: Vec::new(),
        timers: BTreeMap::new(),
        next_timer: 0,
    }),
};

impl Executor {
    fn schedule_kern(&self, runnable: Runnable) {
        let sleeper = {
            let mut state = self.state.lock();
            state.kern.push_back(runnable);
            state.idle.pop()
        };
        if let Some(sleeper) = sleeper {
            sleeper.parker.unpark();
        }
    }

    fn pop_kern(&self) -> Option<Runnable> {
        self.state.lock().kern.pop_front()
    }

    /// Registers `bell`'s thread as asleep, unless kernel work is waiting; both under one lock, so
    /// that a kernel task woken afterwards finds the thread to wake.
    fn enter_idle(&self, bell: &Arc<Bell>) -> bool {
        let mut state = self.state.lock();
        if !state.kern.is_empty() {
            return false;
        }
        state.idle.push(bell.clone());
        true
    }

    fn leave_idle(&self, bell: &Arc<Bell>) {
        self.state
            .lock()
            .idle
            .retain(|sleeper| !Arc::ptr_eq(sleeper, bell));
    }

    /// Wakes a sleeping thread if kernel work is waiting.
    fn pass_on_kern_work(&self) {
        let sleeper = {
            let mut state = self.state.lock();
            if state.kern.is_empty() {
                None
            } else {
                state.idle.pop()
            }
        };
        if let Some(sleeper) = sleeper {
            sleeper.parker.unpark();
        }
    }

    /// Removes the timers due at `now`, and returns their wakers and the next deadline.
    fn take_expired_timers(&self, now: Duration) -> (Vec<Waker>, Option<Duration>) {
        let mut state = self.state.lock();
        let mut expired = Vec::new();
        while let Some(entry) = state.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            expired.push(entry.remove());
        }
        let next = state
            .timers
            .first_key_value()
            .map(|((deadline, _), _)| *deadline);
        (expired, next)
    }

    /// Registers or renews the timer `id` (a fresh one if `None`) and returns its id.
    pub(crate) fn set_timer(&self, deadline: Duration, id: Option<u64>, waker: &Waker) -> u64 {
        let mut state = self.state.lock();
        let id = id.unwrap_or_else(|| {
            state.next_timer += 1;
            state.next_timer
        });
        if let Some(registered) = state.timers.get_mut(&(deadline, id)) {
            registered.clone_from(waker);
            return id;
        }
        state.timers.insert((deadline, id), waker.clone());
        // Sleepers compute their timeout from the earliest deadline: a new earliest one needs
        // one of them to look again.
        let is_earliest =
            state.timers.first_key_value().map(|(key, _)| *key) == Some((deadline, id));
        let sleeper = if is_earliest { state.idle.pop() } else { None };
        drop(state);
        if let Some(sleeper) = sleeper {
            sleeper.parker.unpark();
        }
        id
    }

    pub(crate) fn cancel_timer(&self, deadline: Duration, id: u64) {
        self.state.lock().timers.remove(&(deadline, id));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_a_thread_bell_counts_as_waking_only_a_thread() {
        let thread = UserThread::new().unwrap();
        let seen = run_user_top(
            &thread,
            core::future::poll_fn(|cx| {
                Poll::Ready(isize::from(super::wakes_only_a_thread(cx.waker())))
            }),
        );
        assert_eq!(seen, Ok(1));
        assert!(!super::wakes_only_a_thread(Waker::noop()));
    }

    use super::*;
    use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use futures_util::future::join_all;
    use std::{
        sync::mpsc,
        thread,
        time::{Duration as StdDuration, Instant},
    };

    /// A one-shot event that another OS thread sets.
    #[derive(Default)]
    struct Event {
        state: Mutex<(bool, Option<Waker>)>,
    }

    impl Event {
        fn set(&self) {
            let waker = {
                let mut state = self.state.lock();
                state.0 = true;
                state.1.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }

        async fn wait(&self) {
            core::future::poll_fn(|cx| {
                let mut state = self.state.lock();
                if state.0 {
                    Poll::Ready(())
                } else {
                    state.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            })
            .await
        }
    }

    /// Runs `body` on its own OS thread and fails the test if it does not end in time.
    fn within<T: Send + 'static>(
        limit: StdDuration,
        body: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || sender.send(body()));
        receiver
            .recv_timeout(limit)
            .expect("the executor did not finish in time: a wake-up was lost")
    }

    #[test]
    fn thousands_of_kern_tasks_run_to_completion() {
        const TASKS: usize = 10_000;
        let total = within(StdDuration::from_secs(30), || {
            let counter = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..TASKS)
                .map(|index| {
                    let counter = counter.clone();
                    spawn(async move {
                        yield_now().await;
                        counter.fetch_add(1, Ordering::Relaxed);
                        yield_now().await;
                        index
                    })
                })
                .collect();
            let thread = UserThread::new().unwrap();
            let sum = run_user_top(&thread, async move {
                let indices = join_all(tasks).await;
                indices.iter().sum::<usize>() as isize
            })
            .unwrap();
            assert_eq!(counter.load(Ordering::Relaxed), TASKS);
            sum
        });
        assert_eq!(total as usize, TASKS * (TASKS - 1) / 2);
    }

    #[test]
    fn threads_share_kern_tasks_and_each_gets_its_own_result() {
        const THREADS: usize = 4;
        const TASKS_EACH: usize = 2_500;
        let results = within(StdDuration::from_secs(30), || {
            let workers: Vec<_> = (0..THREADS)
                .map(|worker| {
                    thread::spawn(move || {
                        let tasks: Vec<_> = (0..TASKS_EACH)
                            .map(|_| {
                                spawn(async move {
                                    yield_now().await;
                                    thread::current().id()
                                })
                            })
                            .collect();
                        let user = UserThread::new().unwrap();
                        run_user_top(&user, async move {
                            assert_eq!(join_all(tasks).await.len(), TASKS_EACH);
                            worker as isize
                        })
                        .unwrap()
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|worker| worker.join().unwrap())
                .collect::<Vec<_>>()
        });
        assert_eq!(results, [0, 1, 2, 3]);
    }

    #[test]
    fn a_wake_from_another_os_thread_ends_the_sleep() {
        let event = Arc::new(Event::default());
        let setter = {
            let event = event.clone();
            thread::spawn(move || {
                thread::sleep(StdDuration::from_millis(50));
                event.set();
            })
        };
        let thread = UserThread::new().unwrap();
        let start = Instant::now();
        let value = run_user_top(&thread, async move {
            event.wait().await;
            5
        });
        assert_eq!(value, Ok(5));
        assert!(start.elapsed() >= StdDuration::from_millis(50));
        setter.join().unwrap();
    }

    #[test]
    fn an_idle_thread_is_woken_to_run_a_kern_task_spawned_elsewhere() {
        let outcome = within(StdDuration::from_secs(10), || {
            let event = Arc::new(Event::default());
            let thread = UserThread::new().unwrap();
            let waiting = event.clone();
            // The kernel task is spawned from a thread outside the executor, after the user
            // thread went to sleep; only the idle list can get it run.
            let spawner = thread::spawn(move || {
                thread::sleep(StdDuration::from_millis(30));
                spawn(async move { event.set() }).detach();
            });
            let value = run_user_top(&thread, async move {
                waiting.wait().await;
                9
            });
            spawner.join().unwrap();
            value
        });
        assert_eq!(outcome, Ok(9));
    }

    #[test]
    fn no_wake_up_is_lost_under_stress() {
        const ROUNDS: usize = 20_000;
        within(StdDuration::from_secs(40), || {
            // One notifier thread sets each round's event as soon as it gets it, racing the
            // user thread going to sleep.
            let (sender, receiver) = mpsc::channel::<Arc<Event>>();
            let notifier = thread::spawn(move || {
                for event in receiver {
                    event.set();
                }
            });
            let thread = UserThread::new().unwrap();
            for round in 0..ROUNDS {
                let event = Arc::new(Event::default());
                sender.send(event.clone()).unwrap();
                let via_kern_task = round % 2 == 1;
                let value = run_user_top(&thread, async move {
                    if via_kern_task {
                        // The wake lands on a kernel task, then reaches the user top.
                        spawn(async move { event.wait().await }).await;
                    } else {
                        event.wait().await;
                    }
                    round as isize
                });
                assert_eq!(value, Ok(round as isize));
            }
            drop(sender);
            notifier.join().unwrap();
        });
    }

    #[test]
    fn a_user_top_task_is_polled_only_by_its_own_thread() {
        let outcome = within(StdDuration::from_secs(10), || {
            let polled_elsewhere = Arc::new(AtomicBool::new(false));
            let releases: Vec<_> = (0..3).map(|_| Arc::new(Event::default())).collect();
            let users: Vec<_> = releases
                .iter()
                .map(|release| {
                    let polled_elsewhere = polled_elsewhere.clone();
                    let release = release.clone();
                    thread::spawn(move || {
                        let me = thread::current().id();
                        let user = UserThread::new().unwrap();
                        run_user_top(&user, async move {
                            for _ in 0..200 {
                                // Woken by kernel tasks, run by whichever thread is free.
                                spawn(async {}).await;
                                if thread::current().id() != me {
                                    polled_elsewhere.store(true, Ordering::Relaxed);
                                }
                            }
                            release.wait().await;
                            0
                        })
                    })
                })
                .collect();
            thread::sleep(StdDuration::from_millis(50));
            releases.iter().for_each(|release| release.set());
            let results: Vec<_> = users.into_iter().map(|user| user.join().unwrap()).collect();
            (results, polled_elsewhere.load(Ordering::Relaxed))
        });
        assert_eq!(outcome.0, [Ok(0), Ok(0), Ok(0)]);
        assert!(!outcome.1);
    }

    /// A parker that reports a pending signal once asked to.
    struct SignalledParker {
        inner: Arc<dyn Parker>,
        signal_pending: AtomicBool,
    }

    impl Parker for SignalledParker {
        fn park(&self, timeout: Option<Duration>) -> ParkResult {
            if self.signal_pending.swap(false, Ordering::SeqCst) {
                return ParkResult::Interrupted;
            }
            self.inner.park(timeout)
        }

        fn unpark(&self) {
            self.inner.unpark();
        }
    }

    struct DropFlag(Arc<AtomicBool>);

    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_pending_signal_cancels_the_syscall() {
        let platform = platform().unwrap();
        let parker = Arc::new(SignalledParker {
            inner: platform.new_parker().unwrap(),
            signal_pending: AtomicBool::new(true),
        });
        let thread = UserThread::with_parker(platform, parker);
        let dropped = Arc::new(AtomicBool::new(false));
        let guard = DropFlag(dropped.clone());
        let never = Arc::new(Event::default());
        let value = run_user_top(&thread, async move {
            let _guard = guard;
            never.wait().await;
            1
        });
        assert_eq!(value, Err(ExecutorError::Interrupted));
        assert!(dropped.load(Ordering::SeqCst), "the future was not dropped");
        // The thread serves its next syscall as usual.
        assert_eq!(run_user_top(&thread, async { 2 }), Ok(2));
    }
}
