//! `prctl`: passed to the host, except what would reach past the calling thread's own state:
//!
//! - the seccomp operations: a contained task may not stack seccomp filters (the gate must
//!   stay its top filter); it sees what a kernel built without seccomp reports, `EINVAL`;
//! - making the process dumpable: a contained process is never dumpable on the host (its
//!   core file would land in the host's working directory, outside the container):
//!   `PR_SET_DUMPABLE` to 1 is `EPERM`, to 0 passes;
//! - `PR_SET_MM`: with the host's `CAP_SYS_RESOURCE` (a contained root may hold it) it
//!   rewrites the host's view of the memory map (`/proc/PID/exe`, the auxiliary vector, the
//!   program break) that rVisor's loader set up. The contained task gets what an
//!   unprivileged Linux process gets: Linux's `EINVAL` for stray arguments (checked first, as
//!   `prctl_set_mm` does), the size probe `PR_SET_MM_MAP_SIZE` (it only writes a size), and
//!   `EPERM` for every change, `PR_SET_MM_MAP` included;
//! - `PR_SET_PTRACER`: its argument is a host pid, which a contained task must never name;
//!   ptrace is refused anyway, so it gets what a kernel without Yama gives, `EINVAL`.

use linux_kernel_module::gate::Syscall;
use linux_kernel_module::Error;

const PR_SET_DUMPABLE: usize = 4;
const PR_GET_SECCOMP: usize = 21;
const PR_SET_SECCOMP: usize = 22;
const PR_SET_MM: usize = 35;
const PR_SET_MM_AUXV: usize = 12;
const PR_SET_MM_MAP: usize = 14;
const PR_SET_MM_MAP_SIZE: usize = 15;
const PR_SET_PTRACER: usize = 0x5961_6d61;

/// Refuses the seccomp operations, `PR_SET_DUMPABLE` to 1, `PR_SET_MM` changes and
/// `PR_SET_PTRACER`.
pub fn screen_prctl(call: &Syscall<'_>) -> Option<Error> {
    let [option, arg2, _, arg4, arg5, _] = call.args();
    match option {
        PR_GET_SECCOMP | PR_SET_SECCOMP | PR_SET_PTRACER => Some(Error::EINVAL),
        PR_SET_DUMPABLE if arg2 == 1 => Some(Error::EPERM),
        PR_SET_MM => screen_set_mm(arg2, arg4, arg5),
        _ => None,
    }
}

/// `prctl(PR_SET_MM, operation, _, arg4, arg5)` as an unprivileged caller sees it.
fn screen_set_mm(operation: usize, arg4: usize, arg5: usize) -> Option<Error> {
    let takes_arg4 = matches!(
        operation,
        PR_SET_MM_AUXV | PR_SET_MM_MAP | PR_SET_MM_MAP_SIZE
    );
    if arg5 != 0 || (arg4 != 0 && !takes_arg4) {
        return Some(Error::EINVAL);
    }
    (operation != PR_SET_MM_MAP_SIZE).then_some(Error::EPERM)
}
