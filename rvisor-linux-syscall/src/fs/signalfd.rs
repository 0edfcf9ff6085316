//! `signalfd`, `signalfd4`: the calling thread's pending signals as a descriptor
//! ([`SignalFd`]), with Linux's checks (`fs/signalfd.c`) in its order.

use alloc::sync::Arc;
use linux_object::fs::{FileLike, OpenFlags, SignalFd};
use linux_object::LxError;

use crate::user::UserInPtr;
use crate::{SysResult, Syscall};

/// `SFD_NONBLOCK` (`O_NONBLOCK`) and `SFD_CLOEXEC` (`O_CLOEXEC`).
const SFD_NONBLOCK: u32 = 0o4000;
const SFD_CLOEXEC: u32 = 0o2_000_000;
/// `sizeof(sigset_t)` as the kernel takes it.
const SIGSET_SIZE: usize = 8;

impl Syscall<'_> {
    /// `signalfd4(fd, mask, sizemask, flags)`: `EINVAL` unless `sizemask` is 8, `EFAULT` for
    /// an unreadable mask, `EINVAL` for a flag other than `SFD_NONBLOCK`/`SFD_CLOEXEC`. With
    /// `fd` -1 a new signalfd; else `fd` must be one (`EBADF`, `EINVAL`), whose mask is
    /// replaced (its flags stay). `SIGKILL` and `SIGSTOP` are silently left out.
    pub fn sys_signalfd4(
        &self,
        fd: i32,
        mask: UserInPtr<u64>,
        sizemask: usize,
        flags: u32,
    ) -> SysResult {
        if sizemask != SIGSET_SIZE {
            return Err(LxError::EINVAL);
        }
        let mask = mask.read()?;
        if flags & !(SFD_NONBLOCK | SFD_CLOEXEC) != 0 {
            return Err(LxError::EINVAL);
        }
        if fd != -1 {
            let file = self.poll_file(fd).ok_or(LxError::EBADF)?;
            let signalfd = file
                .as_any()
                .downcast_ref::<SignalFd>()
                .ok_or(LxError::EINVAL)?;
            signalfd.set_mask(mask);
            return Ok(fd as usize);
        }
        let queue = self.host.signal_queue()?;
        let file: Arc<dyn FileLike> = SignalFd::new(
            mask,
            queue,
            OpenFlags::from_bits_truncate(flags & SFD_NONBLOCK),
        );
        let fd = self.process.files().add(file, flags & SFD_CLOEXEC != 0)?;
        Ok(fd as usize)
    }

    /// `signalfd(fd, mask, sizemask)`: `signalfd4` without flags.
    pub fn sys_signalfd(&self, fd: i32, mask: UserInPtr<u64>, sizemask: usize) -> SysResult {
        self.sys_signalfd4(fd, mask, sizemask, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestMachine, UserArena};

    const SIGNALFD4: u32 = 289;

    fn errno(error: LxError) -> isize {
        -(error.errno() as isize)
    }

    #[test]
    fn arguments_are_checked_in_linux_order() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        let mask = arena.put_bytes(&(1u64 << 9).to_le_bytes());
        let bad = arena.unmapped();
        let run = |args| machine.run(&init, 1, SIGNALFD4, args);
        let minus_one = usize::MAX;
        assert_eq!(run([minus_one, mask, 4, 0, 0, 0]), errno(LxError::EINVAL));
        assert_eq!(run([minus_one, bad, 8, 1, 0, 0]), errno(LxError::EFAULT));
        assert_eq!(run([minus_one, mask, 8, 1, 0, 0]), errno(LxError::EINVAL));
        assert_eq!(run([40, mask, 8, 0, 0, 0]), errno(LxError::EBADF));
        let (reader, _writer) = linux_object::fs::Pipe::new_pair(OpenFlags::empty());
        let fd = init.files().add(reader, false).unwrap() as usize;
        assert_eq!(run([fd, mask, 8, 0, 0, 0]), errno(LxError::EINVAL));
        // The test host has no signals to give.
        assert_eq!(run([minus_one, mask, 8, 0, 0, 0]), errno(LxError::ENOSYS));
    }
}
