//! pidfds: `pidfd_open`, `pidfd_send_signal`, `pidfd_getfd`, and the pidfd `clone` makes with
//! `CLONE_PIDFD` — descriptors that name a process of the container by itself rather than by
//! a pid that could be reused.

use alloc::sync::Arc;
use linux_object::fs::{FileLike, OpenFlags, PidFd};
use linux_object::process::LinuxProcess;
use linux_object::LxError;

use crate::{SysResult, Syscall};

/// `pidfd_open`'s flag: the pidfd is non-blocking (`waitid` on it gives `EAGAIN`).
const PIDFD_NONBLOCK: u32 = 0o4000;

impl Syscall<'_> {
    /// A new pidfd of `process` in the caller's table (always close-on-exec, as Linux's).
    pub(crate) fn install_pidfd(
        &self,
        process: Arc<LinuxProcess>,
        nonblock: bool,
    ) -> Result<i32, LxError> {
        let flags = if nonblock {
            OpenFlags::NONBLOCK
        } else {
            OpenFlags::empty()
        };
        self.process.files().add(PidFd::new(process, flags), true)
    }

    /// The process a pidfd names: `EBADF` if `fd` is not one.
    pub(crate) fn pidfd_process(&self, fd: i32) -> Result<(Arc<LinuxProcess>, bool), LxError> {
        let file = self.process.files().get(fd)?;
        let pidfd = file
            .as_any()
            .downcast_ref::<PidFd>()
            .ok_or(LxError::EBADF)?;
        let nonblock = pidfd.flags().contains(OpenFlags::NONBLOCK);
        Ok((pidfd.process().clone(), nonblock))
    }

    /// `pidfd_open(pid, flags)`: a pidfd of process `pid` of the container (a zombie too).
    /// `EINVAL` for an unknown flag or a pid below 1; `ESRCH` if the container has no such
    /// process.
    pub fn sys_pidfd_open(&self, pid: i32, flags: u32) -> SysResult {
        if flags & !PIDFD_NONBLOCK != 0 || pid <= 0 {
            return Err(LxError::EINVAL);
        }
        let process = self
            .container()?
            .process(pid.unsigned_abs())
            .ok_or(LxError::ESRCH)?;
        Ok(self.install_pidfd(process, flags & PIDFD_NONBLOCK != 0)? as usize)
    }

    /// `pidfd_send_signal(pidfd, signal, info, flags)`: `kill` of the process the pidfd names,
    /// with its permission checks (a zombie takes the signal and nothing happens); `ESRCH` once
    /// it has been reaped. `flags` must be 0 and `info` null (a caller-made siginfo is not
    /// supported: `EINVAL`).
    pub fn sys_pidfd_send_signal(
        &self,
        pidfd: i32,
        signal: i32,
        info: usize,
        flags: u32,
    ) -> SysResult {
        if flags != 0 || info != 0 {
            return Err(LxError::EINVAL);
        }
        let (target, _) = self.pidfd_process(pidfd)?;
        if !(0..=64).contains(&signal) {
            return Err(LxError::EINVAL);
        }
        let found = self.container()?.process(target.pid());
        let reaped = !matches!(found, Some(found) if Arc::ptr_eq(&found, &target));
        if reaped {
            return Err(LxError::ESRCH);
        }
        self.signal_process(&target, signal)?;
        Ok(0)
    }

    /// `pidfd_getfd(pidfd, targetfd, flags)`: a copy, in the caller's table (close-on-exec),
    /// of descriptor `targetfd` of the process the pidfd names. Allowed to the same real user
    /// or root in the container (Linux's ptrace-attach check on real ids); `ESRCH` once the
    /// process has exited, `EBADF` if it has no such descriptor.
    pub fn sys_pidfd_getfd(&self, pidfd: i32, targetfd: i32, flags: u32) -> SysResult {
        if flags != 0 {
            return Err(LxError::EINVAL);
        }
        let (target, _) = self.pidfd_process(pidfd)?;
        let own = self.process.credentials();
        if own.euid != 0 && own.uid != target.credentials().uid {
            return Err(LxError::EPERM);
        }
        if target.exit_status().is_some() {
            return Err(LxError::ESRCH);
        }
        let file = target.files().get(targetfd)?;
        Ok(self.process.files().add(file, true)? as usize)
    }
}
