//! `fadvise64`: advice about how a file will be read. The host's page cache is the host's
//! business, so the advice is checked as Linux checks it and then has no effect (as on
//! tmpfs, whose files Linux gives no read-ahead either).

use kernel_hostfs::FileType;
use linux_object::LxError;

use crate::{SysResult, Syscall};

/// `POSIX_FADV_NORMAL` … `POSIX_FADV_NOREUSE`: the advice Linux knows.
const POSIX_FADV_LAST: i32 = 5;

impl Syscall<'_> {
    /// `fadvise64(fd, offset, len, advice)`: `EBADF` for a descriptor not open (or
    /// `O_PATH`), `ESPIPE` for a pipe or FIFO, `EINVAL` for a length that is negative as a
    /// file offset or an unknown advice; 0 otherwise, whatever the offset.
    pub fn sys_fadvise64(&self, fd: i32, _offset: i64, len: i64, advice: i32) -> SysResult {
        let file = self.file(fd)?;
        if file.metadata()?.type_ == FileType::NamedPipe {
            return Err(LxError::ESPIPE);
        }
        if len < 0 || !(0..=POSIX_FADV_LAST).contains(&advice) {
            return Err(LxError::EINVAL);
        }
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, run, Sandbox};
    use linux_object::fs::{OpenFlags, Pipe};

    const FADVISE64: u32 = 221;

    #[test]
    fn fadvise64_checks_and_ignores() {
        let sandbox = Sandbox::new("fadvise");
        let sys = sandbox.syscall();
        let dir = sys.resolve(crate::fs::AT_FDCWD, "/", true).unwrap();
        let file = linux_object::fs::File::with_path(dir.inode, OpenFlags::empty(), dir.path);
        let fd = sys.process.files().add(file, false).unwrap() as usize;
        assert_eq!(run(&sys, FADVISE64, &[fd, 0, 10, 4]), 0);
        assert_eq!(run(&sys, FADVISE64, &[fd, usize::MAX, 10, 5]), 0);
        assert_eq!(run(&sys, FADVISE64, &[fd, 0, 10, 6]), err(LxError::EINVAL));
        assert_eq!(
            run(&sys, FADVISE64, &[fd, 0, usize::MAX, 0]),
            err(LxError::EINVAL)
        );
        assert_eq!(run(&sys, FADVISE64, &[66, 0, 10, 0]), err(LxError::EBADF));
        let (reader, _writer) = Pipe::new_pair(OpenFlags::empty());
        let pipe = sys.process.files().add(reader, false).unwrap() as usize;
        assert_eq!(
            run(&sys, FADVISE64, &[pipe, 0, 10, 99]),
            err(LxError::ESPIPE)
        );
    }
}
