//! The syscalls of contained tasks: the routing table and the calls rVisor serves itself.
//!
//! One small file per served call family; [`table`] classifies every number.

mod getpid;
mod prctl;
mod set_tid_address;
mod table;
mod uname;

use linux_kernel_module::gate::{Syscall, Verdict};
use linux_kernel_module::Error;

use crate::members::{Member, MemberTable};

/// A served call's result: a non-negative value or an errno.
pub type SysResult = Result<usize, Error>;

/// What a served call may see: the caller and the member table.
pub struct Context<'a> {
    /// The calling task's membership.
    pub caller: &'a Member,
    /// Every member, to translate other tasks' ids.
    pub members: &'a MemberTable,
}

/// A served call.
pub type Handler = fn(&Context<'_>, &Syscall<'_>) -> SysResult;
/// A served call answered in the gate's callback from the caller's record alone: atomic
/// context, so it must not sleep, fault or take another member's record.
pub type Fast = fn(&Member, &Syscall<'_>) -> isize;
/// Checks a passed call's arguments: `Some(errno)` refuses this use of it.
pub type Screen = fn(&Syscall<'_>) -> Option<Error>;

/// How a contained task's syscall is handled (see [`table`]).
#[derive(Clone, Copy)]
pub enum Route {
    /// rVisor answers it in the gate's callback (the cheapest path: no second lookup).
    Fast(Fast),
    /// rVisor serves it.
    Serve(Handler),
    /// The host runs it unless the screen refuses these arguments.
    Screen(Screen),
    /// The host runs it: vetted (memory, signals to self, time, futex, TLS, scheduling of self).
    Pass,
    /// The host runs it for now; rVisor will serve it (fd, path and pid calls).
    PassForNow,
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
/// `fast` answers a [`Route::Fast`] call from the caller's record (`None` if it has none).
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
            Route::Pass | Route::PassForNow => false,
            Route::Fast(answer) => match fast(answer) {
                Some(value) => return Verdict::Return(value),
                // Not registered: serve() deals with a task behind a gate.
                None => true,
            },
            Route::Screen(screen) => screen(call).is_some(),
            Route::Serve(_) | Route::Refuse => true,
        }
    };
    if take && contained() {
        Verdict::Serve
    } else {
        Verdict::Pass
    }
}

/// Serves a call the gate took over for `caller`.
pub fn serve(ctx: &Context<'_>, call: &Syscall<'_>) -> isize {
    let result: SysResult = if call.is_compat() {
        refuse(ctx.caller, call)
    } else {
        match route(call.nr()) {
            Route::Serve(handler) => handler(ctx, call),
            Route::Fast(answer) => Ok(answer(ctx.caller, call) as usize),
            Route::Screen(screen) => Err(screen(call).unwrap_or(Error::ENOSYS)),
            Route::Pass | Route::PassForNow | Route::Refuse => refuse(ctx.caller, call),
        }
    };
    match result {
        // Served values are pids, lengths and flags: far below isize::MAX.
        Ok(value) => value as isize,
        Err(e) => e.to_syscall_return(),
    }
}

fn refuse(caller: &Member, call: &Syscall<'_>) -> SysResult {
    if linux_kernel_module::printk::ratelimit() {
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
    Err(Error::ENOSYS)
}
