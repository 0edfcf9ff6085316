//! `prctl`: passed to the host, except the seccomp operations and making the process
//! dumpable. A contained task may not stack seccomp filters (the gate must stay its top
//! filter); it sees what a kernel built without seccomp reports, `EINVAL`. A contained
//! process is never dumpable on the host (its core file would land in the host's working
//! directory, outside the container): `PR_SET_DUMPABLE` to 1 is `EPERM`, to 0 passes.

use linux_kernel_module::gate::Syscall;
use linux_kernel_module::Error;

const PR_SET_DUMPABLE: usize = 4;
const PR_GET_SECCOMP: usize = 21;
const PR_SET_SECCOMP: usize = 22;

/// Refuses `PR_SET_SECCOMP`, `PR_GET_SECCOMP` and `PR_SET_DUMPABLE` to 1.
pub fn screen_prctl(call: &Syscall<'_>) -> Option<Error> {
    let [option, arg, ..] = call.args();
    match option {
        PR_GET_SECCOMP | PR_SET_SECCOMP => Some(Error::EINVAL),
        PR_SET_DUMPABLE if arg == 1 => Some(Error::EPERM),
        _ => None,
    }
}
