//! `flock`: advisory whole-file locks on the container's files.
//!
//! Locks are the container's (see `linux_object::fs::FlockTable`): they exclude each
//! other within the container, and not the host's or other containers' locks on the same
//! files. A description that is not a file of the container's filesystem (a pipe, a file
//! inherited from the host) is checked as Linux checks it and then always granted: nothing
//! else in the container can name its object to lock it.

use linux_object::fs::{File, FlockKind};
use linux_object::LxError;

use crate::{SysResult, Syscall};

/// Shared lock.
const LOCK_SH: u32 = 1;
/// Exclusive lock.
const LOCK_EX: u32 = 2;
/// Do not wait: `EWOULDBLOCK` (`EAGAIN`) instead.
const LOCK_NB: u32 = 4;
/// The removed "mandatory" locks: accepted and ignored, as Linux since 5.15.
const LOCK_MAND: u32 = 32;
/// Unlock.
const LOCK_UN: u32 = 8;

impl Syscall<'_> {
    /// `flock(fd, operation)`: `LOCK_MAND` returns 0 at once; then `EINVAL` for an
    /// operation that is not exactly one of `LOCK_SH`, `LOCK_EX`, `LOCK_UN` (with
    /// `LOCK_NB`); then `EBADF` for a descriptor not open, `O_PATH`, or (to lock) opened
    /// neither for reading nor writing; then the lock, waiting unless `LOCK_NB`
    /// (`EWOULDBLOCK`).
    pub async fn sys_flock(&self, fd: i32, operation: u32) -> SysResult {
        if operation & LOCK_MAND != 0 {
            return Ok(0);
        }
        let kind = match operation & !LOCK_NB {
            LOCK_SH => Some(FlockKind::Shared),
            LOCK_EX => Some(FlockKind::Exclusive),
            LOCK_UN => None,
            _ => return Err(LxError::EINVAL),
        };
        let file = self.file(fd)?;
        let flags = file.flags();
        if kind.is_some() && !flags.readable() && !flags.writable() {
            return Err(LxError::EBADF);
        }
        let Some(file) = file.as_any().downcast_ref::<File>() else {
            return Ok(0);
        };
        let table = self.container()?.flocks().clone();
        file.flock(&table, kind, operation & LOCK_NB != 0).await?;
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, run, Sandbox};
    use crate::fs::AT_FDCWD;
    use crate::testing::poll_once;
    use core::task::Poll;
    use linux_object::fs::{OpenFlags, Pipe};

    const FLOCK: u32 = 73;

    fn open(sandbox: &Sandbox, path: &str, flags: OpenFlags) -> usize {
        let sys = sandbox.syscall();
        let node = sys.resolve(AT_FDCWD, path, true).unwrap();
        let file = File::with_path(node.inode, flags, node.path);
        sys.process.files().add(file, false).unwrap() as usize
    }

    #[test]
    fn descriptions_exclude_each_other_and_closing_releases() {
        let sandbox = Sandbox::new("flock");
        sandbox.write("f", b"");
        let sys = sandbox.syscall();
        let (a, b) = (
            open(&sandbox, "f", OpenFlags::RDWR),
            open(&sandbox, "f", OpenFlags::empty()),
        );
        let nb = LOCK_NB as usize;
        assert_eq!(run(&sys, FLOCK, &[a, LOCK_EX as usize | nb]), 0);
        assert_eq!(
            run(&sys, FLOCK, &[b, LOCK_SH as usize | nb]),
            err(LxError::EAGAIN)
        );
        // A blocking request waits for the holder to let go.
        let host = sandbox.syscall();
        let mut wait = core::pin::pin!(host.run(FLOCK, [b, LOCK_SH as usize, 0, 0, 0, 0]));
        assert!(poll_once(wait.as_mut()).is_pending());
        sys.process.files().close(a as i32).unwrap();
        assert_eq!(poll_once(wait.as_mut()), Poll::Ready(0));
        assert_eq!(run(&sys, FLOCK, &[b, LOCK_UN as usize]), 0);
        assert_eq!(
            run(&sys, FLOCK, &[b, LOCK_UN as usize]),
            0,
            "nothing held: fine"
        );
    }

    #[test]
    fn operations_and_descriptors_are_checked_as_linux() {
        let sandbox = Sandbox::new("flock-errors");
        sandbox.write("f", b"");
        let sys = sandbox.syscall();
        let f = open(&sandbox, "f", OpenFlags::empty());
        let neither = open(&sandbox, "f", OpenFlags::WRONLY | OpenFlags::RDWR);
        let o_path = open(&sandbox, "f", OpenFlags::PATH);
        assert_eq!(run(&sys, FLOCK, &[999, LOCK_MAND as usize]), 0);
        assert_eq!(run(&sys, FLOCK, &[f, 0]), err(LxError::EINVAL));
        assert_eq!(run(&sys, FLOCK, &[f, 3]), err(LxError::EINVAL));
        assert_eq!(run(&sys, FLOCK, &[999, 99 & !32]), err(LxError::EINVAL));
        assert_eq!(run(&sys, FLOCK, &[999, 1]), err(LxError::EBADF));
        assert_eq!(run(&sys, FLOCK, &[o_path, 1]), err(LxError::EBADF));
        assert_eq!(run(&sys, FLOCK, &[neither, 1]), err(LxError::EBADF));
        assert_eq!(run(&sys, FLOCK, &[neither, LOCK_UN as usize]), 0);
        let (reader, _writer) = Pipe::new_pair(OpenFlags::empty());
        let pipe = sys.process.files().add(reader, false).unwrap() as usize;
        assert_eq!(run(&sys, FLOCK, &[pipe, LOCK_EX as usize]), 0);
    }
}
