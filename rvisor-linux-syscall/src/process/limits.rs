//! `getrlimit`, `setrlimit`, `prlimit64`: resource limits.
//!
//! `RLIMIT_NOFILE` is rVisor's own: it is the limit of the process's fd table (the soft one
//! bounds the descriptors, as Linux's `rlimit(RLIMIT_NOFILE)`). Every other resource is the
//! host's business — the memory, CPU and process limits are enforced by the host kernel on
//! the contained tasks — and goes through
//! [`TaskHost::resource_limit`](crate::TaskHost::resource_limit) once rVisor has checked the
//! request as Linux's `do_prlimit` and `check_prlimit_permission` do.
//!
//! `CAP_SYS_RESOURCE` (raising a hard limit, changing another user's limits) is effective
//! uid 0, as the other capabilities of this kernel.

use alloc::sync::Arc;
use linux_object::container::Pid;
use linux_object::process::LinuxProcess;
use linux_object::{LxError, LxResult};

use crate::host::{LimitRequest, ResourceLimit};
use crate::user::{UserInPtr, UserOutPtr};
use crate::{SysResult, Syscall};

/// `RLIMIT_NOFILE`.
const RLIMIT_NOFILE: u32 = 7;
/// How many resources there are (`RLIM_NLIMITS`).
const RLIM_NLIMITS: u32 = 16;
/// Linux's `fs.nr_open`: no descriptor limit may exceed it.
const NR_OPEN: u64 = linux_object::fd_table::MAX_FD_LIMIT as u64;

/// Reads a `struct rlimit` / `struct rlimit64` (two 64-bit words).
fn read_limit(ptr: UserInPtr<u64>) -> LxResult<ResourceLimit> {
    let raw = ptr.read_array(2)?;
    let at = |index: usize| raw.get(index).copied().unwrap_or_default();
    Ok(ResourceLimit {
        soft: at(0),
        hard: at(1),
    })
}

/// Writes a `struct rlimit` / `struct rlimit64`.
fn write_limit(ptr: UserOutPtr<u64>, limit: ResourceLimit) -> LxResult {
    ptr.write_array(&[limit.soft, limit.hard])
}

impl Syscall<'_> {
    /// Whether the caller has `CAP_SYS_RESOURCE`.
    fn may_exceed_limits(&self) -> bool {
        self.process.credentials().euid == 0
    }

    /// Linux's `do_prlimit` on `target`: returns the limit before `new` (if any) is set.
    /// `EINVAL` for an unknown resource or a soft limit above the hard one; `EPERM` for a
    /// descriptor limit above `nr_open`, or a raised hard limit without `CAP_SYS_RESOURCE`.
    fn limit(
        &self,
        target: &LinuxProcess,
        resource: u32,
        new: Option<ResourceLimit>,
    ) -> LxResult<ResourceLimit> {
        if resource >= RLIM_NLIMITS {
            return Err(LxError::EINVAL);
        }
        if let Some(new) = new {
            if new.soft > new.hard {
                return Err(LxError::EINVAL);
            }
            if resource == RLIMIT_NOFILE && new.hard > NR_OPEN {
                return Err(LxError::EPERM);
            }
        }
        let may_raise_hard = self.may_exceed_limits();
        if resource != RLIMIT_NOFILE {
            return self.host.resource_limit(&LimitRequest {
                pid: target.pid(),
                resource,
                new,
                may_raise_hard,
            });
        }
        let mut files = target.files();
        let old = ResourceLimit {
            soft: files.limit() as u64,
            hard: files.hard_limit() as u64,
        };
        if let Some(new) = new {
            if new.hard > old.hard && !may_raise_hard {
                return Err(LxError::EPERM);
            }
            // Both are at most `NR_OPEN`, which fits.
            let soft = usize::try_from(new.soft).map_err(|_| LxError::EPERM)?;
            let hard = usize::try_from(new.hard).map_err(|_| LxError::EPERM)?;
            files.set_limits(soft, hard)?;
        }
        Ok(old)
    }

    /// `getrlimit(resource, rlim)`.
    pub fn sys_getrlimit(&self, resource: u32, rlim: UserOutPtr<u64>) -> SysResult {
        let limit = self.limit(self.process, resource, None)?;
        write_limit(rlim, limit)?;
        Ok(0)
    }

    /// `setrlimit(resource, rlim)`: the limit is read first (`EFAULT`).
    pub fn sys_setrlimit(&self, resource: u32, rlim: UserInPtr<u64>) -> SysResult {
        let new = read_limit(rlim)?;
        self.limit(self.process, resource, Some(new))?;
        Ok(0)
    }

    /// `prlimit64(pid, resource, new_limit, old_limit)`: `pid` 0 is the caller; another
    /// process of the container (`ESRCH` if none) only if all its user and group ids are the
    /// caller's real ones, or with `CAP_SYS_RESOURCE` (`EPERM`). The old limit is written
    /// after the new one is set (`EFAULT` then, the change made).
    pub fn sys_prlimit64(
        &self,
        pid: i32,
        resource: u32,
        new_limit: UserInPtr<u64>,
        old_limit: UserOutPtr<u64>,
    ) -> SysResult {
        let new = if new_limit.is_null() {
            None
        } else {
            Some(read_limit(new_limit)?)
        };
        let target: Arc<LinuxProcess> = if pid == 0 {
            self.process.clone()
        } else {
            let pid = Pid::try_from(pid).map_err(|_| LxError::ESRCH)?;
            self.container()?.process(pid).ok_or(LxError::ESRCH)?
        };
        if target.pid() != self.process.pid() {
            let caller = self.process.credentials();
            let other = target.credentials();
            let same_ids = [other.uid, other.euid, other.suid]
                .iter()
                .all(|id| *id == caller.uid)
                && [other.gid, other.egid, other.sgid]
                    .iter()
                    .all(|id| *id == caller.gid);
            if !same_ids && !self.may_exceed_limits() {
                return Err(LxError::EPERM);
            }
        }
        let old = self.limit(&target, resource, new)?;
        if !old_limit.is_null() {
            write_limit(old_limit, old)?;
        }
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{HostEvent, TestMachine, UserArena};
    use alloc::vec::Vec;
    use linux_object::credentials::Credentials;

    const GETRLIMIT: u32 = 97;
    const SETRLIMIT: u32 = 160;
    const PRLIMIT64: u32 = 302;
    const FORK: u32 = 57;
    const RLIMIT_STACK: usize = 3;
    const INFINITY: u64 = u64::MAX;

    fn errno(error: LxError) -> isize {
        -(error.errno() as isize)
    }

    fn limit_at(arena: &UserArena, addr: usize) -> (u64, u64) {
        let bytes = arena.get_bytes(addr, 16);
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        (word(0), word(8))
    }

    fn put_limit(arena: &UserArena, soft: u64, hard: u64) -> usize {
        arena.put_bytes(&[soft.to_le_bytes(), hard.to_le_bytes()].concat())
    }

    #[test]
    fn the_descriptor_limit_is_the_fd_tables() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        let out = arena.alloc(16);
        let nofile = RLIMIT_NOFILE as usize;
        assert_eq!(
            machine.run(&init, 1, GETRLIMIT, [nofile, out, 0, 0, 0, 0]),
            0
        );
        assert_eq!(limit_at(&arena, out), (1024, 4096));
        let lower = put_limit(&arena, 10, 20);
        assert_eq!(
            machine.run(&init, 1, SETRLIMIT, [nofile, lower, 0, 0, 0, 0]),
            0
        );
        let limits = |process: &LinuxProcess| {
            let files = process.files();
            (files.limit(), files.hard_limit())
        };
        assert_eq!(limits(&init), (10, 20));
        // Root may raise it again, up to nr_open.
        let higher = put_limit(&arena, 5000, NR_OPEN);
        assert_eq!(
            machine.run(&init, 1, SETRLIMIT, [nofile, higher, 0, 0, 0, 0]),
            0
        );
        let too_high = put_limit(&arena, 10, NR_OPEN + 1);
        assert_eq!(
            machine.run(&init, 1, SETRLIMIT, [nofile, too_high, 0, 0, 0, 0]),
            errno(LxError::EPERM)
        );
        let inverted = put_limit(&arena, 30, 20);
        assert_eq!(
            machine.run(&init, 1, SETRLIMIT, [nofile, inverted, 0, 0, 0, 0]),
            errno(LxError::EINVAL)
        );
        // An ordinary user may lower the hard limit, not raise it back.
        init.set_credentials(Credentials::user(1000, 1000));
        assert_eq!(
            machine.run(&init, 1, SETRLIMIT, [nofile, lower, 0, 0, 0, 0]),
            0
        );
        let raise = put_limit(&arena, 10, 30);
        assert_eq!(
            machine.run(&init, 1, SETRLIMIT, [nofile, raise, 0, 0, 0, 0]),
            errno(LxError::EPERM)
        );
        assert_eq!(limits(&init), (10, 20));
        assert!(machine
            .events()
            .iter()
            .all(|e| !matches!(e, HostEvent::Limit(_))));
    }

    #[test]
    fn other_resources_go_to_the_host() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        let out = arena.alloc(16);
        assert_eq!(
            machine.run(&init, 1, GETRLIMIT, [RLIMIT_STACK, out, 0, 0, 0, 0]),
            0
        );
        assert_eq!(limit_at(&arena, out), (8 << 20, INFINITY));
        let new = put_limit(&arena, 1 << 20, INFINITY);
        let args = [0, RLIMIT_STACK, new, out, 0, 0];
        assert_eq!(machine.run(&init, 1, PRLIMIT64, args), 0);
        assert_eq!(limit_at(&arena, out), (8 << 20, INFINITY), "the old limit");
        assert_eq!(
            machine.run(&init, 1, GETRLIMIT, [RLIMIT_STACK, out, 0, 0, 0, 0]),
            0
        );
        assert_eq!(limit_at(&arena, out), (1 << 20, INFINITY));
        let requests: Vec<LimitRequest> = machine
            .events()
            .into_iter()
            .filter_map(|event| match event {
                HostEvent::Limit(request) => Some(request),
                _ => None,
            })
            .collect();
        assert_eq!(requests.len(), 3);
        assert_eq!(
            requests[1],
            LimitRequest {
                pid: 1,
                resource: 3,
                new: Some(ResourceLimit {
                    soft: 1 << 20,
                    hard: INFINITY
                }),
                may_raise_hard: true,
            }
        );
        assert_eq!(
            machine.run(&init, 1, GETRLIMIT, [16, out, 0, 0, 0, 0]),
            errno(LxError::EINVAL)
        );
        assert_eq!(
            machine.run(
                &init,
                1,
                GETRLIMIT,
                [RLIMIT_STACK, arena.unmapped(), 0, 0, 0, 0]
            ),
            errno(LxError::EFAULT)
        );
        assert_eq!(
            machine.run(
                &init,
                1,
                SETRLIMIT,
                [RLIMIT_STACK, arena.unmapped(), 0, 0, 0, 0]
            ),
            errno(LxError::EFAULT)
        );
    }

    #[test]
    fn prlimit64_on_another_process_needs_its_ids_or_the_capability() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        let out = arena.alloc(16);
        assert_eq!(machine.run(&init, 1, FORK, [0; 6]), 2);
        let child = machine.process(2);
        let nofile = RLIMIT_NOFILE as usize;
        assert_eq!(
            machine.run(&init, 1, PRLIMIT64, [2, nofile, 0, out, 0, 0]),
            0
        );
        assert_eq!(limit_at(&arena, out), (1024, 4096));
        let new = put_limit(&arena, 100, 200);
        assert_eq!(
            machine.run(&init, 1, PRLIMIT64, [2, nofile, new, 0, 0, 0]),
            0
        );
        assert_eq!(child.files().limit(), 100);
        assert_eq!(init.files().limit(), 1024, "only the target's");
        assert_eq!(
            machine.run(&init, 1, PRLIMIT64, [99, nofile, 0, out, 0, 0]),
            errno(LxError::ESRCH)
        );
        child.set_credentials(Credentials::user(1000, 1000));
        let user = machine.process(2);
        assert_eq!(
            machine.run(&user, 2, PRLIMIT64, [1, nofile, 0, out, 0, 0]),
            errno(LxError::EPERM)
        );
        assert_eq!(
            machine.run(&user, 2, PRLIMIT64, [2, nofile, 0, out, 0, 0]),
            0
        );
        // The change is made before a bad old-limit pointer is found.
        let lower = put_limit(&arena, 50, 200);
        let args = [0, nofile, lower, arena.unmapped(), 0, 0];
        assert_eq!(
            machine.run(&user, 2, PRLIMIT64, args),
            errno(LxError::EFAULT)
        );
        assert_eq!(child.files().limit(), 50);
    }
}
