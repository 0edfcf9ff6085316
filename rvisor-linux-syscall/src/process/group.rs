//! `setpgid`, `getpgid`, `getpgrp`, `setsid`, `getsid`: process groups and sessions, with
//! the container's pids (the rules themselves are the container's, see
//! `linux_object::container::Container::set_process_group`).

use alloc::sync::Arc;
use linux_object::container::{Container, Pid};
use linux_object::process::{GroupIds, LinuxProcess};
use linux_object::{LxError, LxResult};

use crate::{SysResult, Syscall};

impl Syscall<'_> {
    /// The caller's container; `ESRCH` once it is gone.
    pub(crate) fn container(&self) -> LxResult<Arc<Container>> {
        self.process.container().ok_or(LxError::ESRCH)
    }

    /// `setpgid(pid, pgid)`: 0 for `pid` is the caller, 0 for `pgid` is `pid`; then
    /// `EINVAL` for a negative `pgid`, `ESRCH` for a negative `pid`, and the container's
    /// rules.
    pub fn sys_setpgid(&self, pid: i32, pgid: i32) -> SysResult {
        let pid = if pid == 0 {
            self.process.pid() as i32
        } else {
            pid
        };
        let pgid = if pgid == 0 { pid } else { pgid };
        let pgid = Pid::try_from(pgid).map_err(|_| LxError::EINVAL)?;
        let pid = Pid::try_from(pid).map_err(|_| LxError::ESRCH)?;
        self.container()?
            .set_process_group(self.process, pid, pgid)?;
        Ok(0)
    }

    /// The group and session of the process `pid` names (0: the caller; a thread's id names
    /// its process); `ESRCH` if none.
    fn group_ids_of(&self, pid: i32) -> LxResult<GroupIds> {
        if pid == 0 {
            return Ok(self.process.group_ids());
        }
        let pid = Pid::try_from(pid).map_err(|_| LxError::ESRCH)?;
        let process: Arc<LinuxProcess> = self.container()?.process(pid).ok_or(LxError::ESRCH)?;
        Ok(process.group_ids())
    }

    /// `getpgid(pid)`.
    pub fn sys_getpgid(&self, pid: i32) -> SysResult {
        Ok(self.group_ids_of(pid)?.pgid as usize)
    }

    /// `getpgrp()`: the caller's process group.
    pub fn sys_getpgrp(&self) -> SysResult {
        Ok(self.process.pgid() as usize)
    }

    /// `getsid(pid)`.
    pub fn sys_getsid(&self, pid: i32) -> SysResult {
        Ok(self.group_ids_of(pid)?.sid as usize)
    }

    /// `setsid()`: the caller leads a new session and group; returns its id.
    pub fn sys_setsid(&self) -> SysResult {
        Ok(self.container()?.new_session(self.process)? as usize)
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::TestMachine;
    use linux_object::LxError;

    const SETPGID: u32 = 109;
    const GETPGRP: u32 = 111;
    const SETSID: u32 = 112;
    const GETPGID: u32 = 121;
    const GETSID: u32 = 124;
    const FORK: u32 = 57;

    fn errno(error: LxError) -> isize {
        -(error.errno() as isize)
    }

    fn int(value: i32) -> usize {
        value as isize as usize
    }

    #[test]
    fn ids_start_at_1_and_setpgid_moves_children_and_self() {
        let machine = TestMachine::new();
        let init = machine.init();
        assert_eq!(machine.run(&init, 1, GETPGRP, [0; 6]), 1);
        assert_eq!(machine.run(&init, 1, GETSID, [0; 6]), 1);
        assert_eq!(machine.run(&init, 1, FORK, [0; 6]), 2);
        let child = machine.process(2);
        assert_eq!(machine.run(&init, 1, GETPGID, [2, 0, 0, 0, 0, 0]), 1);
        // The child makes its own group (0, 0: itself, its pid).
        assert_eq!(machine.run(&child, 2, SETPGID, [0; 6]), 0);
        assert_eq!(machine.run(&child, 2, GETPGRP, [0; 6]), 2);
        assert_eq!(machine.run(&init, 1, GETPGID, [2, 0, 0, 0, 0, 0]), 2);
        assert_eq!(machine.run(&init, 1, GETSID, [2, 0, 0, 0, 0, 0]), 1);
        // The parent moves it back into group 1.
        assert_eq!(machine.run(&init, 1, SETPGID, [2, 1, 0, 0, 0, 0]), 0);
        assert_eq!(child.pgid(), 1);
        // A thread's id names its process.
        let tid = child.new_thread().unwrap();
        assert_eq!(
            machine.run(&init, 1, GETPGID, [tid as usize, 0, 0, 0, 0, 0]),
            1
        );
        assert_eq!(
            machine.run(&init, 1, SETPGID, [tid as usize, 0, 0, 0, 0, 0]),
            errno(LxError::EINVAL)
        );
        child.did_exec("/bin/sh".into());
        assert_eq!(
            machine.run(&init, 1, SETPGID, [2, 2, 0, 0, 0, 0]),
            errno(LxError::EACCES)
        );
    }

    #[test]
    fn setpgid_and_getpgid_errors() {
        let machine = TestMachine::new();
        let init = machine.init();
        assert_eq!(machine.run(&init, 1, FORK, [0; 6]), 2);
        let setpgid =
            |pid: i32, pgid: i32| machine.run(&init, 1, SETPGID, [int(pid), int(pgid), 0, 0, 0, 0]);
        assert_eq!(setpgid(2, -1), errno(LxError::EINVAL));
        assert_eq!(
            setpgid(-1, 0),
            errno(LxError::EINVAL),
            "pgid is pid, negative"
        );
        assert_eq!(setpgid(-3, 5), errno(LxError::ESRCH));
        assert_eq!(setpgid(99, 99), errno(LxError::ESRCH));
        assert_eq!(setpgid(2, 12345), errno(LxError::EPERM));
        assert_eq!(
            setpgid(0, 0),
            errno(LxError::EPERM),
            "init leads its session"
        );
        for nr in [GETPGID, GETSID] {
            assert_eq!(
                machine.run(&init, 1, nr, [int(-1), 0, 0, 0, 0, 0]),
                errno(LxError::ESRCH)
            );
            assert_eq!(
                machine.run(&init, 1, nr, [99, 0, 0, 0, 0, 0]),
                errno(LxError::ESRCH)
            );
        }
    }

    #[test]
    fn setsid_makes_the_caller_a_leader_once() {
        let machine = TestMachine::new();
        let init = machine.init();
        assert_eq!(machine.run(&init, 1, SETSID, [0; 6]), errno(LxError::EPERM));
        assert_eq!(machine.run(&init, 1, FORK, [0; 6]), 2);
        let child = machine.process(2);
        assert_eq!(machine.run(&child, 2, SETSID, [0; 6]), 2);
        assert_eq!(machine.run(&child, 2, GETSID, [0; 6]), 2);
        assert_eq!(machine.run(&child, 2, GETPGRP, [0; 6]), 2);
        assert_eq!(
            machine.run(&child, 2, SETSID, [0; 6]),
            errno(LxError::EPERM)
        );
        // A group leader may not start a session.
        assert_eq!(machine.run(&init, 1, FORK, [0; 6]), 3);
        let other = machine.process(3);
        assert_eq!(machine.run(&other, 3, SETPGID, [0; 6]), 0);
        assert_eq!(
            machine.run(&other, 3, SETSID, [0; 6]),
            errno(LxError::EPERM)
        );
    }
}
