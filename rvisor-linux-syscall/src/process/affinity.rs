//! `sched_getaffinity`, `sched_setaffinity`: the CPUs a thread may run on, named by its
//! container tid.

use crate::user::{UserInPtr, UserOutPtr};
use crate::{SysResult, Syscall};
use linux_object::container::Pid;
use linux_object::LxError;

impl Syscall<'_> {
    /// The thread a scheduling call names: `None` for the caller (`pid` 0 or its own tid),
    /// else a tid of the container (`ESRCH` for a negative one).
    fn scheduling_target(&self, pid: i32) -> Result<Option<Pid>, LxError> {
        let pid = Pid::try_from(pid).map_err(|_| LxError::ESRCH)?;
        Ok((pid != 0 && pid != self.tid).then_some(pid))
    }

    /// `sched_getaffinity(pid, len, mask)`: writes the thread's CPU bitmap (as many bytes as
    /// the host's bitmap has, at most `len`) and returns how many bytes it wrote. `EINVAL`
    /// unless `len` is a multiple of 8 with a bit for every CPU id, as Linux.
    pub fn sys_sched_getaffinity(&self, pid: i32, len: usize, mask: UserOutPtr<u8>) -> SysResult {
        let affinity = self.host.cpu_affinity(self.scheduling_target(pid)?)?;
        if len.saturating_mul(8) < affinity.cpus || len % 8 != 0 {
            return Err(LxError::EINVAL);
        }
        let size = len.min(affinity.mask.len());
        mask.write_bytes(affinity.mask.get(..size).unwrap_or_default())?;
        Ok(size)
    }

    /// `sched_setaffinity(pid, len, mask)`: the caller's CPUs, set by the host with its own
    /// checks. Another thread of the container is `EPERM`: the host could only set it without
    /// its cpuset's limits, which a container must not escape.
    pub fn sys_sched_setaffinity(&self, pid: i32, len: usize, mask: UserInPtr<u8>) -> SysResult {
        match self.scheduling_target(pid)? {
            None => {
                self.host.set_own_cpu_affinity(len, mask.addr())?;
                Ok(0)
            }
            Some(tid) => {
                // ESRCH for a thread the container does not have, as Linux.
                self.host.cpu_affinity(Some(tid))?;
                Err(LxError::EPERM)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{HostEvent, TestMachine, UserArena};
    use linux_object::LxError;

    const SCHED_SETAFFINITY: u32 = 203;
    const SCHED_GETAFFINITY: u32 = 204;

    fn errno(error: LxError) -> isize {
        -(error.errno() as isize)
    }

    #[test]
    fn the_bitmap_goes_to_a_buffer_large_enough_and_other_pids_are_resolved() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        let buf = arena.put_bytes(&[0xee; 16]);
        assert_eq!(
            machine.run(&init, 1, SCHED_GETAFFINITY, [0, 16, buf, 0, 0, 0]),
            8
        );
        assert_eq!(
            arena.get_bytes(buf, 16),
            [3, 0, 0, 0, 0, 0, 0, 0, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee]
        );
        assert_eq!(
            machine.run(&init, 1, SCHED_GETAFFINITY, [1, 8, buf, 0, 0, 0]),
            8,
            "its own tid"
        );
        assert_eq!(
            machine.run(&init, 1, SCHED_GETAFFINITY, [0, 4, buf, 0, 0, 0]),
            errno(LxError::EINVAL),
            "not a multiple of 8"
        );
        assert_eq!(
            machine.run(&init, 1, SCHED_GETAFFINITY, [77, 8, buf, 0, 0, 0]),
            errno(LxError::ESRCH)
        );
        assert_eq!(
            machine.run(&init, 1, SCHED_GETAFFINITY, [0, 8, 8, 0, 0, 0]),
            errno(LxError::EFAULT)
        );
        assert_eq!(
            machine.run(&init, 1, SCHED_SETAFFINITY, [0, 8, buf, 0, 0, 0]),
            0
        );
        assert!(machine
            .events()
            .iter()
            .any(|e| matches!(e, HostEvent::SetOwnCpuAffinity { len: 8, mask } if *mask == buf)));
        assert_eq!(
            machine.run(&init, 1, SCHED_SETAFFINITY, [77, 8, buf, 0, 0, 0]),
            errno(LxError::ESRCH)
        );
    }
}
