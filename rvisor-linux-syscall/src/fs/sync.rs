//! `sync`, `fsync`, `fdatasync`: flushing to storage.

use crate::{SysResult, Syscall};

impl Syscall<'_> {
    /// `sync()`: flushes the container's filesystem. Linux's `sync` cannot fail, so neither
    /// does this: a flush error is logged.
    pub fn sys_sync(&self) -> SysResult {
        if let Err(error) = self.process.root().inode.fs().sync() {
            log::warn!("rvisor: sync: {error}");
        }
        Ok(0)
    }

    /// `syncfs(fd)`: flushes the filesystem holding `fd`'s object (a pipe's: nothing to
    /// do). `EBADF` for a descriptor that is not open.
    pub fn sys_syncfs(&self, fd: i32) -> SysResult {
        let file = self.file_raw(fd)?;
        if let Some(inode) = file.inode() {
            inode.fs().sync()?;
        }
        Ok(0)
    }

    /// `fsync(fd)`: `EINVAL` for what cannot be flushed (a pipe), as Linux.
    pub fn sys_fsync(&self, fd: i32) -> SysResult {
        self.file(fd)?.sync(false)?;
        Ok(0)
    }

    /// `fdatasync(fd)`.
    pub fn sys_fdatasync(&self, fd: i32) -> SysResult {
        self.file(fd)?.sync(true)?;
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use crate::fs::testing::{err, run, Sandbox};
    use linux_object::fs::{OpenFlags, Pipe};
    use linux_object::LxError;

    #[test]
    fn flushes() {
        let sandbox = Sandbox::new("sync");
        sandbox.write("f", b"x");
        let sys = sandbox.syscall();
        let fd = run(&sys, 2, &[sandbox.cstr("f"), 1]) as usize;
        assert_eq!(run(&sys, 74, &[fd]), 0);
        assert_eq!(run(&sys, 75, &[fd]), 0);
        assert_eq!(run(&sys, 162, &[]), 0);
        assert_eq!(run(&sys, 74, &[99]), err(LxError::EBADF));
        let pipe = sys
            .process
            .files()
            .add(Pipe::new_pair(OpenFlags::empty()).0, false)
            .unwrap() as usize;
        assert_eq!(run(&sys, 74, &[pipe]), err(LxError::EINVAL));
    }
}
