//! `truncate`, `ftruncate`: setting a regular file's length.

use kernel_hostfs::FileType;
use linux_object::credentials::Access;
use linux_object::fs::{File, FileLike};
use linux_object::LxError;

use super::path::AT_FDCWD;
use crate::user::UserInPtr;
use crate::{SysResult, Syscall};

/// The length as the filesystem takes it; `EINVAL` if negative, `EFBIG` past `usize`.
fn length_of(length: i64) -> Result<usize, LxError> {
    let length = u64::try_from(length).map_err(|_| LxError::EINVAL)?;
    usize::try_from(length).map_err(|_| LxError::EFBIG)
}

impl Syscall<'_> {
    /// `truncate(path, length)`: `EINVAL` for a negative length (before the path), then the
    /// walk's errors, `EISDIR` for a directory, `EINVAL` for anything else not regular,
    /// `EACCES` without write permission.
    pub fn sys_truncate(&self, path: UserInPtr<u8>, length: i64) -> SysResult {
        let length = length_of(length)?;
        let path = path.read_path()?;
        let node = self.resolve(AT_FDCWD, &path, true)?;
        let metadata = node.inode.metadata()?;
        match metadata.type_ {
            FileType::Dir => return Err(LxError::EISDIR),
            FileType::File => {}
            _ => return Err(LxError::EINVAL),
        }
        super::read_only_first(
            &*node.inode,
            self.process
                .credentials()
                .permission(&metadata, Access::WRITE),
        )?;
        node.inode.resize(length)?;
        Ok(0)
    }

    /// `ftruncate(fd, length)`: `EINVAL` for a negative length, then `EBADF`, then `EINVAL`
    /// unless a regular file open for writing.
    pub fn sys_ftruncate(&self, fd: i32, length: i64) -> SysResult {
        if length < 0 {
            return Err(LxError::EINVAL);
        }
        let file = self.file(fd)?;
        let regular = file
            .as_any()
            .downcast_ref::<File>()
            .and_then(|file| file.inode())
            .filter(|inode| matches!(inode.metadata().map(|m| m.type_), Ok(FileType::File)));
        let inode = match regular {
            Some(inode) if file.flags().writable() => inode,
            _ => return Err(LxError::EINVAL),
        };
        inode.resize(length_of(length)?)?;
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, int, run, Sandbox};

    const TRUNCATE: u32 = 76;
    const FTRUNCATE: u32 = 77;
    const OPEN: u32 = 2;

    #[test]
    fn lengths_change_as_linux() {
        let sandbox = Sandbox::new("truncate");
        sandbox.write("f", b"0123456789");
        sandbox.mkdir("d");
        let sys = sandbox.syscall();
        let c = |path: &str| sandbox.cstr(path);
        assert_eq!(run(&sys, TRUNCATE, &[c("f"), 4]), 0);
        assert_eq!(sandbox.read("f"), b"0123");
        assert_eq!(
            run(&sys, TRUNCATE, &[c("f"), int(-1)]),
            err(LxError::EINVAL)
        );
        assert_eq!(run(&sys, TRUNCATE, &[0, int(-1)]), err(LxError::EINVAL));
        assert_eq!(run(&sys, TRUNCATE, &[c("d"), 0]), err(LxError::EISDIR));
        assert_eq!(run(&sys, TRUNCATE, &[c("none"), 0]), err(LxError::ENOENT));
        let rw = run(&sys, OPEN, &[c("f"), 2]) as usize;
        assert_eq!(run(&sys, FTRUNCATE, &[rw, 6]), 0);
        assert_eq!(sandbox.read("f"), b"0123\0\0");
        let ro = run(&sys, OPEN, &[c("f"), 0]) as usize;
        assert_eq!(run(&sys, FTRUNCATE, &[ro, 0]), err(LxError::EINVAL));
        let dir = run(&sys, OPEN, &[c("d"), 0]) as usize;
        assert_eq!(run(&sys, FTRUNCATE, &[dir, 0]), err(LxError::EINVAL));
        assert_eq!(run(&sys, FTRUNCATE, &[99, 0]), err(LxError::EBADF));
        assert_eq!(run(&sys, FTRUNCATE, &[99, int(-1)]), err(LxError::EINVAL));
        sandbox.chmod("f", 0o644);
        let user = sandbox.syscall_as(1000, 1000);
        assert_eq!(run(&user, TRUNCATE, &[c("f"), 0]), err(LxError::EACCES));
    }
}
