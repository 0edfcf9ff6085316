//! The priority and scheduling-policy calls (`getpriority`, `setpriority`, `sched_getparam`,
//! `sched_setparam`, `sched_getscheduler`, `sched_setscheduler`, `sched_getattr`,
//! `sched_rr_get_interval`): passed to the host for the calling thread (`pid` 0), where its own
//! permission checks apply. What they would reach past the caller is refused:
//!
//! - a named pid, process group or user: the host would read it as a host id, which a
//!   contained task must never name, and `PRIO_USER` would reach every host process of the
//!   uid. The contained task gets `EPERM`, after Linux's own `EINVAL` for a negative pid or an
//!   unknown `which`;
//! - the real-time and deadline policies: a task holding them outruns every host task of
//!   normal policy on its CPU. The contained task gets what an unprivileged Linux task with no
//!   `RLIMIT_RTPRIO` gets, `EPERM`. (`sched_setattr`, whose policy is in user memory, stays
//!   refused with the unlisted calls.)

use linux_kernel_module::gate::Syscall;
use linux_kernel_module::Error;

const PRIO_PROCESS: usize = 0;
const PRIO_USER: usize = 2;

const SCHED_FIFO: i32 = 1;
const SCHED_RR: i32 = 2;
const SCHED_DEADLINE: i32 = 6;
/// A flag `sched_setscheduler` takes in its policy argument.
const SCHED_RESET_ON_FORK: i32 = 0x4000_0000;

/// The `pid_t` a register holds (the kernel reads its low 32 bits).
fn pid(arg: usize) -> i32 {
    arg as u32 as i32
}

/// `getpriority(which, who)` and `setpriority(which, who, nice)`: only `PRIO_PROCESS` of the
/// caller (`who` 0) passes.
pub fn screen_priority(call: &Syscall<'_>) -> Option<Error> {
    let [which, who, ..] = call.args();
    let which = which as u32 as usize;
    if which > PRIO_USER {
        Some(Error::EINVAL)
    } else if which != PRIO_PROCESS || pid(who) != 0 {
        Some(Error::EPERM)
    } else {
        None
    }
}

/// The calls whose first argument is a pid: only the caller (`pid` 0) passes.
pub fn screen_own_pid(call: &Syscall<'_>) -> Option<Error> {
    own_pid(call.args()[0])
}

/// `sched_setscheduler(pid, policy, param)`: the caller only, and no real-time or deadline
/// policy.
pub fn screen_setscheduler(call: &Syscall<'_>) -> Option<Error> {
    let [pid_arg, policy, ..] = call.args();
    if let Some(error) = own_pid(pid_arg) {
        return Some(error);
    }
    let policy = pid(policy) & !SCHED_RESET_ON_FORK;
    matches!(policy, SCHED_FIFO | SCHED_RR | SCHED_DEADLINE).then_some(Error::EPERM)
}

fn own_pid(arg: usize) -> Option<Error> {
    match pid(arg) {
        0 => None,
        negative if negative < 0 => Some(Error::EINVAL),
        _ => Some(Error::EPERM),
    }
}
