//! `statfs`, `fstatfs`: the filesystem holding an object, as the x86-64 `struct statfs`.
//!
//! A file of the container's filesystem reports its host filesystem's numbers (type, sizes,
//! free space, mount flags). A pipe reports pipefs, as on Linux. `f_fsid` is always zero: the
//! host's filesystem ids are not shown to the container.

use kernel_hostfs::FsInfo;
use linux_object::fs::{Device, FileLike, Pipe, StdioFile};
use linux_object::{LxError, LxResult};

use super::path::{located_file, AT_FDCWD};
use crate::user::{UserInPtr, UserOutPtr, UserValue};
use crate::{SysResult, Syscall};

/// `PIPEFS_MAGIC`.
const PIPEFS_MAGIC: u64 = 0x5049_5045;
/// What Linux's `simple_statfs` reports for pipefs.
const PIPEFS_INFO: FsInfo = FsInfo::simple(PIPEFS_MAGIC);

/// The x86-64 `struct statfs` (120 bytes), built from an [`FsInfo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatFs(pub FsInfo);

impl UserValue for StatFs {
    const SIZE: usize = 120;

    fn from_user_bytes(_bytes: &[u8]) -> Self {
        // The kernel only writes a `struct statfs`; tests decode the bytes themselves.
        Self(PIPEFS_INFO)
    }

    fn to_user_bytes(&self, out: &mut [u8]) {
        let info = &self.0;
        let fields = [
            info.magic,
            info.bsize,
            info.blocks,
            info.bfree,
            info.bavail,
            info.files,
            info.ffree,
            0, // f_fsid: two ints, not shown
            info.namemax,
            info.frsize,
            info.flags,
        ];
        out.iter_mut().for_each(|byte| *byte = 0);
        for (field, slot) in fields.iter().zip(out.chunks_exact_mut(8)) {
            slot.copy_from_slice(&field.to_le_bytes());
        }
    }
}

impl Syscall<'_> {
    /// The filesystem a description's object lives on. A memory device's node is taken to
    /// live on the container's root filesystem (the description does not keep which
    /// directory of it held the node).
    fn description_fs_info(&self, file: &dyn FileLike) -> LxResult<FsInfo> {
        if let Some(node) = located_file(file) {
            return Ok(node.inode.fs_info()?);
        }
        let any = file.as_any();
        if any.is::<Pipe>() {
            return Ok(PIPEFS_INFO);
        }
        if any.is::<Device>() {
            return Ok(self.process.root().inode.fs_info()?);
        }
        match any.downcast_ref::<StdioFile>() {
            Some(stdio) => stdio.fs_info(),
            None => Err(LxError::ENOSYS),
        }
    }

    /// `statfs(path, buf)`: the path is followed to its end; the walk's errors, then `EFAULT`
    /// for the buffer.
    pub fn sys_statfs(&self, path: UserInPtr<u8>, buf: UserOutPtr<StatFs>) -> SysResult {
        let path = path.read_path()?;
        let node = self.resolve(AT_FDCWD, &path, true)?;
        let mut info = node.inode.fs_info()?;
        // The flags of the mount the object is reached through (`ro`, `nosuid`…).
        if let Some(mount) = self.process.mounts().snapshot().holding(&node.path) {
            info.flags |= mount.flags().statfs_flags();
        }
        buf.write(StatFs(info))?;
        Ok(0)
    }

    /// `fstatfs(fd, buf)`: any descriptor, `O_PATH` ones included, as Linux.
    pub fn sys_fstatfs(&self, fd: i32, buf: UserOutPtr<StatFs>) -> SysResult {
        let file = self.file_raw(fd)?;
        buf.write(StatFs(self.description_fs_info(&*file)?))?;
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, run, Sandbox};
    use linux_object::fs::OpenFlags;
    use std::string::{String, ToString};
    use std::vec::Vec;

    const STATFS: u32 = 137;
    const FSTATFS: u32 = 138;

    fn word(bytes: &[u8], index: usize) -> u64 {
        u64::from_le_bytes(bytes[index * 8..index * 8 + 8].try_into().unwrap())
    }

    #[test]
    fn statfs_reports_the_host_filesystem() {
        let sandbox = Sandbox::new("statfs");
        sandbox.mkdir("d");
        let sys = sandbox.syscall();
        let buf = sandbox.buf(120);
        assert_eq!(run(&sys, STATFS, &[sandbox.cstr("d"), buf]), 0);
        let bytes = sandbox.user.get_bytes(buf, 120);
        // What coreutils' `stat -f` reads from the host: type, f_bsize, blocks, files,
        // namelen, f_frsize.
        let host = std::process::Command::new("stat")
            .args(["-f", "--format=%t %s %b %c %l %S"])
            .arg(sandbox.host("d"))
            .output()
            .unwrap();
        let host = String::from_utf8(host.stdout).unwrap();
        let host: Vec<&str> = host.split_whitespace().collect();
        assert_eq!(word(&bytes, 0), u64::from_str_radix(host[0], 16).unwrap());
        assert_eq!(word(&bytes, 1).to_string(), host[1]);
        assert_eq!(word(&bytes, 2).to_string(), host[2]);
        assert_eq!(word(&bytes, 5).to_string(), host[3]);
        assert_eq!(word(&bytes, 7), 0, "no fsid");
        assert_eq!(word(&bytes, 8).to_string(), host[4]);
        assert_eq!(word(&bytes, 9).to_string(), host[5]);
        assert_ne!(word(&bytes, 10) & 0x20, 0);
        assert_eq!(
            run(&sys, STATFS, &[sandbox.cstr("none"), buf]),
            err(LxError::ENOENT)
        );
        assert_eq!(
            run(&sys, STATFS, &[sandbox.cstr("d"), sandbox.user.unmapped()]),
            err(LxError::EFAULT)
        );
    }

    #[test]
    fn fstatfs_of_a_pipe_is_pipefs_and_of_a_bad_descriptor_ebadf() {
        let sandbox = Sandbox::new("fstatfs");
        let sys = sandbox.syscall();
        let buf = sandbox.buf(120);
        let (reader, _writer) = Pipe::new_pair(OpenFlags::empty());
        let fd = sys.process.files().add(reader, false).unwrap() as usize;
        assert_eq!(run(&sys, FSTATFS, &[fd, buf]), 0);
        let bytes = sandbox.user.get_bytes(buf, 120);
        let expected = [
            PIPEFS_MAGIC,
            4096,
            0,
            0,
            0,
            0,
            0,
            0,
            255,
            4096,
            0x20, /* ST_VALID */
        ];
        for (index, value) in expected.iter().enumerate() {
            assert_eq!(word(&bytes, index), *value, "word {index}");
        }
        assert_eq!(run(&sys, FSTATFS, &[77, buf]), err(LxError::EBADF));
        assert_eq!(
            run(&sys, FSTATFS, &[fd, sandbox.user.unmapped()]),
            err(LxError::EFAULT)
        );
    }
}
