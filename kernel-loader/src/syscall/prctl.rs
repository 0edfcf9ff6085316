//! `prctl`: passed to the host, except the seccomp operations. A contained task may not stack
//! seccomp filters (the gate must stay its top filter); it sees what a kernel built without
//! seccomp reports, `EINVAL`.

use linux_kernel_module::gate::Syscall;
use linux_kernel_module::Error;

const PR_GET_SECCOMP: usize = 21;
const PR_SET_SECCOMP: usize = 22;

/// Refuses `PR_SET_SECCOMP` and `PR_GET_SECCOMP`.
pub fn screen_prctl(call: &Syscall<'_>) -> Option<Error> {
    let [option, ..] = call.args();
    matches!(option, PR_GET_SECCOMP | PR_SET_SECCOMP).then_some(Error::EINVAL)
}
