//! The syscalls of contained tasks: the routing table, and the way to rVisor's application
//! kernel (`rvisor-linux-syscall`) for the calls it serves.
//!
//! [`table`] classifies every number. A served call runs as the task's user-top future in the
//! executor, on the calling thread: most finish at their first poll; one that must wait parks
//! the thread on its wait queue until woken, and a signal ends the wait with a restart (the
//! kernel turns it into `EINTR` where the handler asks so).

mod getpid;
mod prctl;
mod sched;
mod table;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use kernel_async::{run_user_top, ExecutorError};
use linux_kernel_module::gate::{Syscall, Verdict};
use linux_kernel_module::process;
use linux_kernel_module::Error;
use rvisor_linux_syscall::Syscall as Call;

use kernel_async::UserThread;

use crate::host::{Exit, KernelTaskHost};
use crate::members::{Caller, MEMBERS};

pub use getpid::Fast;
/// Checks a passed call's arguments: `Some(errno)` refuses this use of it.
pub type Screen = fn(&Syscall<'_>) -> Option<Error>;

/// How a contained task's syscall is handled (see [`table`]).
#[derive(Clone, Copy)]
pub enum Route {
    /// rVisor answers it in the gate's callback from the caller's ids (the cheapest path: no
    /// second lookup).
    Fast(Fast),
    /// rVisor's application kernel serves it (`rvisor-linux-syscall`).
    Rvisor,
    /// The host runs it unless the screen refuses these arguments.
    Screen(Screen),
    /// The host runs it: vetted (memory, signals to self, time, futex, TLS, scheduling of self).
    Pass,
    /// `ENOSYS`, logged.
    Refuse,
}

/// Builds `ROUTES` (by number) and `NAMES` from one list of `number name => route`.
macro_rules! syscall_table {
    ($($nr:literal $name:ident => $route:expr,)*) => {
        /// One past the highest syscall number of the table.
        pub const LEN: usize = {
            let mut len = 0;
            $(if $nr + 1 > len { len = $nr + 1; })*
            len
        };

        /// Every x86-64 syscall's route; unassigned numbers are refused.
        pub static ROUTES: [Route; LEN] = {
            let mut routes = [Refuse; LEN];
            $(routes[$nr] = $route;)*
            routes
        };

        /// Every x86-64 syscall's name; "" for unassigned numbers.
        pub static NAMES: [&str; LEN] = {
            let mut names = [""; LEN];
            $(names[$nr] = stringify!($name);)*
            names
        };
    };
}
pub(crate) use syscall_table;

/// The route of x86-64 syscall `nr`.
#[inline(always)]
pub fn route(nr: usize) -> Route {
    table::ROUTES.get(nr).copied().unwrap_or(Route::Refuse)
}

/// The name of x86-64 syscall `nr`, for logs.
pub fn name(nr: usize) -> &'static str {
    match table::NAMES.get(nr) {
        Some(name) if !name.is_empty() => name,
        _ => "unknown",
    }
}

/// What the gate does with `call`; `contained` tells whether the caller is contained, and
/// `fast` answers a [`Route::Fast`] call from the caller's ids (`None` if it has none).
#[inline(always)]
pub fn decide(
    call: &Syscall<'_>,
    contained: impl FnOnce() -> bool,
    fast: impl FnOnce(Fast) -> Option<isize>,
) -> Verdict {
    let take = if call.is_compat() {
        true
    } else {
        match route(call.nr()) {
            Route::Pass => false,
            Route::Fast(answer) => match fast(answer) {
                Some(value) => return Verdict::Return(value),
                // Not registered: serve() deals with a task behind a gate.
                None => true,
            },
            Route::Screen(screen) => screen(call).is_some(),
            Route::Rvisor | Route::Refuse => true,
        }
    };
    if take && contained() {
        Verdict::Serve
    } else {
        Verdict::Pass
    }
}

/// How a served call ends.
pub enum Served {
    /// Its value for the user's `rax`.
    Value(isize),
    /// The task ends (`exit`, `exit_group`): the gate ends it once nothing is left alive.
    Exit(Exit),
}

/// Serves a call the gate took over for `caller`.
pub fn serve(caller: &Caller, call: &Syscall<'_>) -> Served {
    let result = if call.is_compat() {
        Err(refuse(caller, call))
    } else {
        match route(call.nr()) {
            Route::Rvisor => return serve_in_rvisor(caller, call),
            Route::Fast(answer) => Ok(answer.answer(caller.pid, caller.tid)),
            Route::Screen(screen) => Err(screen(call).unwrap_or(Error::ENOSYS)),
            Route::Pass | Route::Refuse => Err(refuse(caller, call)),
        }
    };
    Served::Value(result.unwrap_or_else(Error::to_syscall_return))
}

/// The caller's seat, made at its first call that waits.
fn seat_of(caller: &Caller, call: &Syscall<'_>) -> Result<Arc<UserThread>, Error> {
    if let Some(seat) = &caller.seat {
        return Ok(seat.clone());
    }
    let seat = UserThread::new().map_err(|_| Error::ENOMEM)?;
    MEMBERS.update(call.task(), |m| m.seat = Some(seat.clone()));
    Ok(seat)
}

/// Runs `call` in rVisor's application kernel on the calling thread.
fn serve_in_rvisor(caller: &Caller, call: &Syscall<'_>) -> Served {
    let host = KernelTaskHost::new(&caller.container, &caller.process);
    let served = Call {
        process: &caller.process,
        tid: caller.tid,
        host: &host,
    };
    // Numbers past u32 are not in rVisor's table: `run_now` answers ENOSYS.
    let nr = u32::try_from(call.nr()).unwrap_or(u32::MAX);
    // Most calls never wait: they run at once, without a future or the executor.
    let value = match served.run_now(nr, call.args()) {
        Some(value) => value,
        None => run_waiting(caller, call, &served, nr),
    };
    if let Some(exit) = host.into_exit() {
        return Served::Exit(exit);
    }
    // A host wait cut short by a signal: restarted as the host would, or EINTR per its handler.
    // The socket calls give the host's own restart codes, and an EINTR of theirs is final (a
    // wait with a timeout, which Linux never restarts); epoll's waits are never restarted.
    if value == Error::EINTR.to_syscall_return()
        && !NEVER_RESTARTED.contains(&nr)
        && !SOCKET_CALLS.contains(&nr)
        && process::signal_pending()
    {
        return Served::Value(Error::ERESTARTSYS.to_syscall_return());
    }
    Served::Value(value)
}

/// Runs `served`, call `nr`, which may wait, as the caller's user-top future in the executor.
/// Kept out of [`serve_in_rvisor`] so that the calls that never wait do not carry its frame.
#[inline(never)]
fn run_waiting(caller: &Caller, call: &Syscall<'_>, served: &Call<'_>, nr: u32) -> isize {
    let seat = match seat_of(caller, call) {
        Ok(seat) => seat,
        Err(error) => return error.to_syscall_return(),
    };
    match run_user_top(&seat, served.run(nr, call.args())) {
        Ok(value) => value,
        Err(ExecutorError::Interrupted) => interrupted(nr).to_syscall_return(),
        Err(error) => {
            log::warn!("container {}: executor: {error}", caller.container.id());
            Error::EIO.to_syscall_return()
        }
    }
}

/// The socket calls (`socket` … `getsockopt`, `accept4`, `recvmmsg`, `sendmmsg`).
const SOCKET_CALLS: [u32; 18] = [
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 288, 299, 307,
];

/// The waits that Linux never restarts once a signal handler ran, whatever its `SA_RESTART`
/// (signal(7)): `poll`, `select`, `msgsnd`, `msgrcv`, `pselect6`, `ppoll`. A program that
/// unblocks a signal only for such a wait (GNU make's `SIGCHLD` around `pselect`) relies on
/// seeing `EINTR`.
const NOT_RESTARTED_AFTER_A_HANDLER: [u32; 6] = [7, 23, 69, 70, 270, 271];

/// The waits that a signal always ends with `EINTR`, handler or not (signal(7), and
/// `ipc/sem.c`, which returns `EINTR` itself): `semop`, `semtimedop`, `epoll_wait`,
/// `epoll_pwait`, `epoll_pwait2`.
const NEVER_RESTARTED: [u32; 5] = [65, 220, 232, 281, 441];

/// What a wait of call `nr` that a signal ended returns: a restart the kernel turns into
/// `EINTR` as Linux would for that call.
fn interrupted(nr: u32) -> Error {
    if NEVER_RESTARTED.contains(&nr) {
        Error::EINTR
    } else if NOT_RESTARTED_AFTER_A_HANDLER.contains(&nr) {
        Error::ERESTARTNOHAND
    } else {
        Error::ERESTARTSYS
    }
}

/// How often one refused call is logged at most: a program retrying it must not flood the
/// log, nor hide another call's refusal.
const REFUSAL_LOG_INTERVAL_NS: u64 = 5_000_000_000;

/// When each x86-64 call (and, in the last slot, any i386 call) was last logged as refused.
static REFUSAL_LOGGED: [AtomicU64; table::LEN + 1] = [const { AtomicU64::new(0) }; table::LEN + 1];

/// Whether the refusal of `call` is logged now: once per call per interval.
fn log_refusal_now(call: &Syscall<'_>) -> bool {
    let slot = if call.is_compat() {
        table::LEN
    } else {
        call.nr().min(table::LEN)
    };
    let Some(last) = REFUSAL_LOGGED.get(slot) else {
        return false;
    };
    // Never 0, so that a first refusal is always logged.
    let now = linux_kernel_module::hal::monotonic_now().as_nanos() as u64 | 1;
    let before = last.load(Ordering::Relaxed);
    (before == 0 || now.saturating_sub(before) >= REFUSAL_LOG_INTERVAL_NS)
        && last
            .compare_exchange(before, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
}

fn refuse(caller: &Caller, call: &Syscall<'_>) -> Error {
    if log_refusal_now(call) {
        let (abi, name) = if call.is_compat() {
            ("i386", "")
        } else {
            ("x86-64", name(call.nr()))
        };
        log::warn!(
            "container {}: pid {} called refused {} syscall {} {}: ENOSYS",
            caller.container.id(),
            caller.pid,
            abi,
            call.nr(),
            name
        );
    }
    Error::ENOSYS
}
