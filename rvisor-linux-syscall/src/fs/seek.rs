//! `lseek`: moving a description's offset.

use kernel_hostfs::FileType;
use linux_object::fs::SeekFrom;
use linux_object::LxError;

use super::is_stream;
use crate::{SysResult, Syscall};

const SEEK_CUR: u32 = 1;
const SEEK_DATA: u32 = 3;
const SEEK_HOLE: u32 = 4;

impl Syscall<'_> {
    /// `lseek(fd, offset, whence)`: `EINVAL` for an unknown `whence` (checked before the
    /// kind of file), `ESPIPE` on a stream, `EINVAL` for a negative result. `SEEK_DATA` and
    /// `SEEK_HOLE` see a file without holes, as Linux's generic implementation: data at any
    /// offset below the size, the only hole at the end, `ENXIO` at or past the end. A
    /// directory seeks as on tmpfs: to an entry index, from the start or the current one.
    pub fn sys_lseek(&self, fd: i32, offset: i64, whence: u32) -> SysResult {
        let file = self.file(fd)?;
        if whence > SEEK_HOLE {
            return Err(LxError::EINVAL);
        }
        if is_stream(&*file) {
            return Err(LxError::ESPIPE);
        }
        if whence > SEEK_CUR && file.metadata()?.type_ == FileType::Dir {
            // A directory's position is an entry index, as on tmpfs and every filesystem
            // built on libfs (`dcache_dir_lseek`): it has no end, data or holes to seek to.
            return Err(LxError::EINVAL);
        }
        let position = match whence {
            SEEK_DATA | SEEK_HOLE => {
                let size = file.metadata()?.size;
                let start = u64::try_from(offset)
                    .ok()
                    .filter(|&start| start < size)
                    .ok_or(LxError::ENXIO)?;
                SeekFrom::Start(if whence == SEEK_DATA { start } else { size })
            }
            _ => SeekFrom::from_raw(offset, whence)?,
        };
        let offset = file.seek(position)?;
        usize::try_from(offset).map_err(|_| LxError::EOVERFLOW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, int, run, Sandbox};
    use linux_object::fs::{File, OpenFlags, Pipe};

    const LSEEK: u32 = 8;

    #[test]
    fn seeking_as_linux() {
        let sandbox = Sandbox::new("seek");
        sandbox.write("f", b"0123456789");
        let sys = sandbox.syscall();
        let inode = sandbox.process.root().inode.lookup("f").unwrap();
        let fd = sys
            .process
            .files()
            .add(File::new(inode, OpenFlags::empty()), false)
            .unwrap() as usize;
        assert_eq!(run(&sys, LSEEK, &[fd, 4, 0]), 4);
        assert_eq!(run(&sys, LSEEK, &[fd, 2, 1]), 6);
        assert_eq!(run(&sys, LSEEK, &[fd, int(-1), 2]), 9);
        assert_eq!(run(&sys, LSEEK, &[fd, int(-20), 1]), err(LxError::EINVAL));
        assert_eq!(run(&sys, LSEEK, &[fd, int(-1), 0]), err(LxError::EINVAL));
        assert_eq!(run(&sys, LSEEK, &[fd, 3, 3]), 3);
        assert_eq!(run(&sys, LSEEK, &[fd, 3, 4]), 10);
        assert_eq!(run(&sys, LSEEK, &[fd, 10, 3]), err(LxError::ENXIO));
        assert_eq!(run(&sys, LSEEK, &[fd, 0, 5]), err(LxError::EINVAL));
        assert_eq!(run(&sys, LSEEK, &[fd, 100, 0]), 100, "past the end is fine");
        let (reader, _writer) = Pipe::new_pair(OpenFlags::empty());
        let pipe = sys.process.files().add(reader, false).unwrap() as usize;
        assert_eq!(run(&sys, LSEEK, &[pipe, 0, 0]), err(LxError::ESPIPE));
        assert_eq!(run(&sys, LSEEK, &[pipe, 0, 7]), err(LxError::EINVAL));
        assert_eq!(run(&sys, LSEEK, &[77, 0, 0]), err(LxError::EBADF));
    }
}
