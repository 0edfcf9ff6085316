//! [`KernelTtySignals`]: how a container's terminals signal its processes — a signal
//! character typed at a pty, a window size change, a hangup — through the host tasks the
//! processes run as.

use alloc::sync::Weak;
use linux_object::container::{Container, Pid, INIT_PID};
use linux_object::tty::TtySignals;

use crate::members::MEMBERS;

/// The terminals' signals of container `id`.
pub struct KernelTtySignals {
    /// The container's id in the member table.
    pub id: u32,
    /// Its Linux state, for process groups (weak: the container owns this).
    pub linux: Weak<Container>,
}

impl TtySignals for KernelTtySignals {
    fn signal_group(&self, pgid: Pid, signal: u32) {
        let Some(linux) = self.linux.upgrade() else {
            return;
        };
        for member in linux.group_members(pgid) {
            if member.exit_status().is_none() {
                self.signal_process(member.pid(), signal);
            }
        }
    }

    fn signal_process(&self, pid: Pid, signal: u32) {
        let Some(task) = MEMBERS.find_process(self.id, pid) else {
            return;
        };
        // From the kernel (`SI_KERNEL`), as a terminal's signals come on Linux.
        if let Err(error) = task.send_kernel_signal(signal, pid == INIT_PID) {
            log::warn!("rvisor: terminal signal {signal} to pid {pid} not sent: {error:?}");
        }
    }
}
