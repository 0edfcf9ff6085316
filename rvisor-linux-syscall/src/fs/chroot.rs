//! `chroot`: a process moves its root directory to a directory of the container. Absolute
//! paths then start there and `..` stops there (see the path walk); what lies outside stays
//! reachable only through descriptors and a working directory already outside, as in Linux.
//! It never reaches beyond the container's own root, which the filesystem itself confines.

use super::{Located, AT_FDCWD};
use crate::user::UserInPtr;
use crate::{SysResult, Syscall};
use linux_object::process::RootDir;
use linux_object::LxError;

/// `CAP_SYS_CHROOT`.
const CAP_SYS_CHROOT: u64 = 1 << 18;

impl Syscall<'_> {
    /// `chroot(path)`: the walk's errors, `ENOTDIR` unless a directory, `EACCES` without
    /// search permission on it, then `EPERM` without `CAP_SYS_CHROOT` — Linux's order.
    pub fn sys_chroot(&self, path: UserInPtr<u8>) -> SysResult {
        let path = path.read_path()?;
        let dir: Located = self.resolve(AT_FDCWD, &path, true)?;
        if dir.path.is_empty() {
            // A directory no path names (none is opened so): no place to root walks at.
            return Err(LxError::ENOENT);
        }
        let metadata = self.searchable_dir(&dir)?;
        if self.host.capabilities(None)?.effective & CAP_SYS_CHROOT == 0 {
            return Err(LxError::EPERM);
        }
        let container_root = dir.path == "/" && {
            let container = self.process.container().ok_or(LxError::ESRCH)?;
            let root = container.root().metadata()?;
            (root.dev, root.inode) == (metadata.dev, metadata.inode)
        };
        let root = if container_root {
            RootDir::container(dir.inode)
        } else {
            RootDir {
                inode: dir.inode,
                path: dir.path,
                identity: Some((metadata.dev, metadata.inode)),
            }
        };
        self.process.set_root(root);
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::CAP_SYS_CHROOT;
    use crate::fs::testing::{err, run, Sandbox};
    use linux_object::LxError;

    const OPEN: u32 = 2;
    const READ: u32 = 0;
    const STAT: u32 = 4;
    const GETCWD: u32 = 79;
    const CHDIR: u32 = 80;
    const CHROOT: u32 = 161;

    fn read_file(sandbox: &Sandbox, sys: &crate::Syscall<'_>, path: &str) -> isize {
        let fd = run(sys, OPEN, &[sandbox.cstr(path), 0]);
        if fd < 0 {
            return fd;
        }
        let buf = sandbox.buf(64);
        run(sys, READ, &[fd as usize, buf, 64])
    }

    fn getcwd(sandbox: &Sandbox, sys: &crate::Syscall<'_>) -> std::string::String {
        let buf = sandbox.buf(256);
        let len = run(sys, GETCWD, &[buf, 256]);
        assert!(len > 0, "getcwd: {len}");
        let bytes = sandbox.user.get_bytes(buf, len as usize - 1);
        std::string::String::from_utf8(bytes).unwrap()
    }

    /// `st_ino` of what `path` names.
    fn inode(sandbox: &Sandbox, sys: &crate::Syscall<'_>, path: &str) -> u64 {
        let buf = sandbox.buf(144);
        assert_eq!(run(sys, STAT, &[sandbox.cstr(path), buf]), 0, "stat {path}");
        u64::from_ne_bytes(sandbox.user.get_bytes(buf + 8, 8).try_into().unwrap())
    }

    #[test]
    fn absolute_paths_start_at_the_new_root_and_dot_dot_stops_there() {
        let sandbox = Sandbox::new("chroot");
        sandbox.mkdir("jail");
        sandbox.mkdir("jail/sub");
        sandbox.write("jail/inside", b"inside");
        sandbox.write("outside", b"outside!");
        let sys = sandbox.syscall();
        assert_eq!(run(&sys, CHROOT, &[sandbox.cstr("/jail")]), 0);
        assert_eq!(read_file(&sandbox, &sys, "/inside"), 6);
        assert_eq!(read_file(&sandbox, &sys, "/../../inside"), 6);
        assert_eq!(read_file(&sandbox, &sys, "/outside"), err(LxError::ENOENT));
        assert_eq!(inode(&sandbox, &sys, "/.."), inode(&sandbox, &sys, "/"));
        assert_eq!(
            inode(&sandbox, &sys, "/sub/../.."),
            inode(&sandbox, &sys, "/")
        );

        // The working directory stayed outside: still usable, named as unreachable.
        assert_eq!(getcwd(&sandbox, &sys), "(unreachable)/");
        assert_eq!(read_file(&sandbox, &sys, "outside"), 8);
        assert_eq!(run(&sys, CHDIR, &[sandbox.cstr("/sub")]), 0);
        assert_eq!(getcwd(&sandbox, &sys), "/sub");
        assert_eq!(read_file(&sandbox, &sys, "../inside"), 6);

        // A child keeps its parent's root; chroot again goes deeper, relative to it.
        let child = sandbox.syscall_as(0, 0);
        assert_eq!(read_file(&sandbox, &child, "/inside"), 6);
        assert_eq!(run(&child, CHROOT, &[sandbox.cstr("/sub")]), 0);
        assert_eq!(read_file(&sandbox, &child, "/inside"), err(LxError::ENOENT));
        assert_eq!(
            read_file(&sandbox, &sys, "/inside"),
            6,
            "the parent's is its own"
        );
    }

    #[test]
    fn errors_come_in_linux_order() {
        let sandbox = Sandbox::new("chroot-errors");
        sandbox.mkdir("closed");
        sandbox.chmod("closed", 0o700);
        sandbox.write("file", b"");
        let sys = sandbox.syscall();
        assert_eq!(
            run(&sys, CHROOT, &[sandbox.cstr("/none")]),
            err(LxError::ENOENT)
        );
        assert_eq!(
            run(&sys, CHROOT, &[sandbox.cstr("/file")]),
            err(LxError::ENOTDIR)
        );
        assert_eq!(run(&sys, CHROOT, &[0]), err(LxError::EFAULT));
        let user = sandbox.syscall_as(1000, 1000);
        let caps = user.host.capabilities(None).unwrap();
        user.host
            .set_own_capabilities(crate::host::Capabilities {
                effective: caps.effective & !CAP_SYS_CHROOT,
                ..caps
            })
            .unwrap();
        assert_eq!(
            run(&user, CHROOT, &[sandbox.cstr("/closed")]),
            err(LxError::EACCES)
        );
        assert_eq!(
            run(&user, CHROOT, &[sandbox.cstr("/")]),
            err(LxError::EPERM)
        );
        user.host.set_own_capabilities(caps).unwrap();
    }
}
