//! `fallocate`: reserving space in a regular file.
//!
//! The VFS surface rVisor has (`INode::resize`) can grow a file, not reserve blocks or punch
//! holes, so rVisor serves what tmpfs serves and nothing more: mode 0 (the file grows to
//! `offset + len` if it is shorter; the space is not reserved on the host, so a later write
//! may still meet `ENOSPC`) and `FALLOC_FL_KEEP_SIZE` (nothing to do). Punching holes,
//! zeroing, collapsing, inserting and unsharing ranges are `EOPNOTSUPP`, as on a filesystem
//! without them. The checks before come in Linux's (`vfs_fallocate`) order.

use kernel_hostfs::FileType;
use linux_object::fs::{File, FileLike};
use linux_object::LxError;

use crate::{SysResult, Syscall};

/// Keep the file's size.
const FALLOC_FL_KEEP_SIZE: u32 = 0x01;
/// Deallocate the range (with `KEEP_SIZE` only).
const FALLOC_FL_PUNCH_HOLE: u32 = 0x02;
/// Remove the range, shifting what follows.
const FALLOC_FL_COLLAPSE_RANGE: u32 = 0x08;
/// Zero the range.
const FALLOC_FL_ZERO_RANGE: u32 = 0x10;
/// Insert a hole, shifting what follows.
const FALLOC_FL_INSERT_RANGE: u32 = 0x20;
/// Unshare shared blocks.
const FALLOC_FL_UNSHARE_RANGE: u32 = 0x40;
/// Zero the range by writing zeroes (Linux 6.15+).
const FALLOC_FL_WRITE_ZEROES: u32 = 0x80;
/// The mode bits, of which at most one may be set (`FALLOC_FL_MODE_MASK`).
const FALLOC_FL_MODE_MASK: u32 = FALLOC_FL_PUNCH_HOLE
    | FALLOC_FL_COLLAPSE_RANGE
    | FALLOC_FL_ZERO_RANGE
    | FALLOC_FL_INSERT_RANGE
    | FALLOC_FL_UNSHARE_RANGE
    | FALLOC_FL_WRITE_ZEROES;

/// Linux 6.15+'s check of `mode`: one mode at most, `KEEP_SIZE` required by `PUNCH_HOLE`
/// and refused by `COLLAPSE_RANGE`, `INSERT_RANGE` and `WRITE_ZEROES`; `EOPNOTSUPP`
/// otherwise.
fn check_mode(mode: u32) -> Result<(), LxError> {
    if mode & !(FALLOC_FL_MODE_MASK | FALLOC_FL_KEEP_SIZE) != 0 {
        return Err(LxError::EOPNOTSUPP);
    }
    let keep_size = mode & FALLOC_FL_KEEP_SIZE != 0;
    let valid = match mode & FALLOC_FL_MODE_MASK {
        0 | FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_ZERO_RANGE => true,
        FALLOC_FL_PUNCH_HOLE => keep_size,
        FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE | FALLOC_FL_WRITE_ZEROES => !keep_size,
        _ => false,
    };
    if valid {
        Ok(())
    } else {
        Err(LxError::EOPNOTSUPP)
    }
}

impl Syscall<'_> {
    /// `fallocate(fd, mode, offset, len)`: `EBADF` for a descriptor not open (or `O_PATH`);
    /// `EINVAL` for a negative offset or a length below 1; `EOPNOTSUPP` for a mode Linux
    /// refuses; `EBADF` unless open for writing; `ESPIPE` for a pipe or FIFO, `EISDIR` for a
    /// directory, `ENODEV` for anything else not regular; `EFBIG` if `offset + len`
    /// overflows; then `EOPNOTSUPP` for the modes not served (see the module).
    pub fn sys_fallocate(&self, fd: i32, mode: u32, offset: i64, len: i64) -> SysResult {
        let file = self.file(fd)?;
        if offset < 0 || len <= 0 {
            return Err(LxError::EINVAL);
        }
        check_mode(mode)?;
        if !file.flags().writable() {
            return Err(LxError::EBADF);
        }
        match file.metadata()?.type_ {
            FileType::NamedPipe => return Err(LxError::ESPIPE),
            FileType::Dir => return Err(LxError::EISDIR),
            FileType::File => {}
            _ => return Err(LxError::ENODEV),
        }
        let end = offset.checked_add(len).ok_or(LxError::EFBIG)?;
        let inode = file
            .as_any()
            .downcast_ref::<File>()
            .and_then(|file| file.inode())
            .ok_or(LxError::EOPNOTSUPP)?;
        match mode {
            0 => {
                let end = u64::try_from(end).map_err(|_| LxError::EFBIG)?;
                if inode.metadata()?.size < end {
                    inode.resize(usize::try_from(end).map_err(|_| LxError::EFBIG)?)?;
                }
                Ok(0)
            }
            FALLOC_FL_KEEP_SIZE => Ok(0),
            _ => Err(LxError::EOPNOTSUPP),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, run, Sandbox};
    use crate::fs::AT_FDCWD;
    use linux_object::fs::{OpenFlags, Pipe};

    const FALLOCATE: u32 = 285;

    #[test]
    fn fallocate_grows_a_file_and_refuses_what_it_cannot_do() {
        let sandbox = Sandbox::new("fallocate");
        sandbox.write("f", b"abc");
        let sys = sandbox.syscall();
        let node = sys.resolve(AT_FDCWD, "f", true).unwrap();
        let open = |flags| {
            let file = File::with_path(node.inode.clone(), flags, node.path.clone());
            sys.process.files().add(file, false).unwrap() as usize
        };
        let (rw, ro) = (open(OpenFlags::RDWR), open(OpenFlags::empty()));
        assert_eq!(run(&sys, FALLOCATE, &[rw, 0, 10, 90]), 0);
        assert_eq!(sandbox.read("f").len(), 100);
        assert_eq!(run(&sys, FALLOCATE, &[rw, 0, 0, 5]), 0, "never shrinks");
        assert_eq!(run(&sys, FALLOCATE, &[rw, 1, 0, 1000]), 0);
        assert_eq!(sandbox.read("f")[..3], *b"abc");
        assert_eq!(sandbox.read("f").len(), 100);
        assert_eq!(
            run(&sys, FALLOCATE, &[rw, 3, 0, 10]),
            err(LxError::EOPNOTSUPP)
        );
        assert_eq!(
            run(&sys, FALLOCATE, &[rw, 0x100, 0, 10]),
            err(LxError::EOPNOTSUPP)
        );
        assert_eq!(
            run(&sys, FALLOCATE, &[rw, 0, usize::MAX, 10]),
            err(LxError::EINVAL)
        );
        assert_eq!(run(&sys, FALLOCATE, &[rw, 0, 0, 0]), err(LxError::EINVAL));
        assert_eq!(run(&sys, FALLOCATE, &[ro, 0, 0, 10]), err(LxError::EBADF));
        // The mode is checked before the access mode.
        assert_eq!(
            run(&sys, FALLOCATE, &[ro, 2, 0, 10]),
            err(LxError::EOPNOTSUPP)
        );
        assert_eq!(
            run(&sys, FALLOCATE, &[ro, 0x9, 0, 10]),
            err(LxError::EOPNOTSUPP)
        );
        assert_eq!(
            run(&sys, FALLOCATE, &[rw, 0, i64::MAX as usize, 10]),
            err(LxError::EFBIG)
        );
        assert_eq!(run(&sys, FALLOCATE, &[77, 0, 0, 10]), err(LxError::EBADF));
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        let (r, w) = {
            let mut files = sys.process.files();
            (
                files.add(reader, false).unwrap(),
                files.add(writer, false).unwrap(),
            )
        };
        assert_eq!(
            run(&sys, FALLOCATE, &[r as usize, 0, 0, 10]),
            err(LxError::EBADF)
        );
        assert_eq!(
            run(&sys, FALLOCATE, &[w as usize, 0, 0, 10]),
            err(LxError::ESPIPE)
        );
    }
}
