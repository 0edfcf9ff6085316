//! `mknod`, `mknodat`: the nodes a container may make — regular files, named pipes (which
//! rVisor serves: see `linux_object::fs::FifoTable`) and socket nodes. Device nodes are
//! refused with `EPERM`, as for a process without `CAP_MKNOD` (a container's root has the
//! host's `nodev` view of its files anyway).

use kernel_hostfs::FileType;
use linux_object::LxError;

use super::path::AT_FDCWD;
use crate::user::UserInPtr;
use crate::{SysResult, Syscall};

const S_IFMT: u32 = 0o170_000;
const S_IFSOCK: u32 = 0o140_000;
const S_IFREG: u32 = 0o100_000;
const S_IFBLK: u32 = 0o060_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFCHR: u32 = 0o020_000;
const S_IFIFO: u32 = 0o010_000;
/// The permission bits `mknod` takes, set-id and sticky bits included (`S_IALLUGO`).
const S_IALLUGO: u32 = 0o7777;

impl Syscall<'_> {
    /// `mknodat(dirfd, path, mode, dev)`, in Linux's order: the type (`EINVAL` for an unknown
    /// one, `EPERM` for a directory), then `EEXIST` for anything there, then `EACCES` without
    /// write and search permission on the parent, then `EPERM` for a device node.
    pub fn sys_mknodat(&self, dirfd: i32, path: UserInPtr<u8>, mode: u32, _dev: u64) -> SysResult {
        let type_ = match mode & S_IFMT {
            0 | S_IFREG => Some(FileType::File),
            S_IFIFO => Some(FileType::NamedPipe),
            S_IFSOCK => Some(FileType::Socket),
            S_IFCHR | S_IFBLK => None,
            S_IFDIR => return Err(LxError::EPERM),
            _ => return Err(LxError::EINVAL),
        };
        let path = path.read_path()?;
        let mut walker = self.walker();
        let parent = self.resolve_parent_with(&mut walker, dirfd, &path)?;
        let name = parent.name(LxError::EEXIST)?;
        match parent.lookup(name) {
            Ok(_) => return Err(LxError::EEXIST),
            Err(LxError::ENOENT) => {}
            Err(error) => return Err(error),
        }
        let type_ = type_.ok_or(LxError::EPERM)?;
        let mode = (mode & S_IALLUGO & !self.process.umask()) as u16;
        self.create_node(&walker, &parent.dir, name, type_, mode)?;
        Ok(0)
    }

    /// `mknod(path, mode, dev)`: `mknodat` from the working directory.
    pub fn sys_mknod(&self, path: UserInPtr<u8>, mode: u32, dev: u64) -> SysResult {
        self.sys_mknodat(AT_FDCWD, path, mode, dev)
    }
}

#[cfg(test)]
mod tests {
    use crate::fs::testing::{err, run, Sandbox};
    use linux_object::LxError;
    use std::os::unix::fs::FileTypeExt;

    const MKNOD: u32 = 133;

    #[test]
    fn fifos_sockets_and_files_are_made_devices_refused() {
        let sandbox = Sandbox::new("mknod");
        let sys = sandbox.syscall();
        assert_eq!(run(&sys, MKNOD, &[sandbox.cstr("fifo"), 0o10644, 0]), 0);
        assert!(std::fs::metadata(sandbox.host("fifo"))
            .unwrap()
            .file_type()
            .is_fifo());
        assert_eq!(run(&sys, MKNOD, &[sandbox.cstr("sock"), 0o140644, 0]), 0);
        assert!(std::fs::metadata(sandbox.host("sock"))
            .unwrap()
            .file_type()
            .is_socket());
        assert_eq!(run(&sys, MKNOD, &[sandbox.cstr("file"), 0o644, 0]), 0);
        assert!(std::fs::metadata(sandbox.host("file")).unwrap().is_file());
        assert_eq!(
            run(&sys, MKNOD, &[sandbox.cstr("fifo"), 0o10644, 0]),
            err(LxError::EEXIST)
        );
        assert_eq!(
            run(&sys, MKNOD, &[sandbox.cstr("null"), 0o20666, 0x103]),
            err(LxError::EPERM)
        );
        assert_eq!(
            run(&sys, MKNOD, &[sandbox.cstr("d"), 0o40755, 0]),
            err(LxError::EPERM)
        );
        assert_eq!(
            run(&sys, MKNOD, &[sandbox.cstr("x"), 0o170644, 0]),
            err(LxError::EINVAL)
        );
        // A device node over an existing name is EEXIST first, as Linux checks.
        assert_eq!(
            run(&sys, MKNOD, &[sandbox.cstr("file"), 0o20666, 0x103]),
            err(LxError::EEXIST)
        );
    }
}
