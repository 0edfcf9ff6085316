//! `getdents64`, `getdents`, `getcwd`, `chdir`, `fchdir`, `mkdir`, `mkdirat`, `rmdir`:
//! directories.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use kernel_hostfs::{DirEntryRef, FileType, INode, Metadata};
use linux_object::credentials::Access;
use linux_object::fs::{File, FileLike};
use linux_object::process::WorkingDir;
use linux_object::{LxError, LxResult};

use super::access_ok;
use super::link::may_delete;
use super::path::{Last, Located, AT_FDCWD};
use crate::user::{copy_to_user, UserInPtr, UserOutPtr};
use crate::{SysResult, Syscall};

/// Where the old `linux_dirent`'s name starts: after `d_ino` (8), `d_off` (8) and `d_reclen`
/// (2); `d_type` is the record's last byte, after the name's NUL.
const OLD_DIRENT_NAME_OFFSET: usize = 18;

/// Records are gathered in kernel memory up to this many bytes before they are copied out.
const FLUSH_AT: usize = 16 * 1024;

/// The permission bits `mkdir` keeps from its `mode` (`S_IRWXUGO | S_ISVTX`).
const MKDIR_MODE_MASK: u32 = 0o1777;

/// The size of the old record for `name`: the name, its NUL and `d_type`, padded to 8 bytes.
fn old_record_len(name: &[u8]) -> usize {
    (OLD_DIRENT_NAME_OFFSET + 2 + name.len()).div_ceil(8) * 8
}

/// Appends the old record of `entry` (whose successor is at `next`) to `out`.
fn push_old_record(out: &mut Vec<u8>, entry: DirEntryRef<'_>, next: u64) -> LxResult {
    let len = old_record_len(entry.name);
    out.try_reserve(len).map_err(|_| LxError::ENOMEM)?;
    let start = out.len();
    out.extend_from_slice(&entry.inode.to_le_bytes());
    out.extend_from_slice(&next.to_le_bytes());
    out.extend_from_slice(&(len as u16).to_le_bytes());
    out.extend_from_slice(entry.name);
    out.resize(start + len, 0);
    if let Some(d_type) = out.last_mut() {
        *d_type = entry.type_.dirent_type();
    }
    Ok(())
}

/// `file` as a directory's open description: `ENOTDIR` for anything else.
fn directory(file: &Arc<dyn FileLike>) -> LxResult<&File> {
    let dir = file
        .as_any()
        .downcast_ref::<File>()
        .ok_or(LxError::ENOTDIR)?;
    if dir.file_type()? != FileType::Dir {
        return Err(LxError::ENOTDIR);
    }
    Ok(dir)
}

impl Syscall<'_> {
    /// `getdents64(fd, dirp, count)`: as many `linux_dirent64` records as fit in `count`
    /// bytes from the directory's position, which advances past them; 0 at the end,
    /// `EINVAL` if not even the next record fits. `d_off` is the position after the record,
    /// which `lseek(fd, d_off, SEEK_SET)` accepts.
    pub fn sys_getdents64(&self, fd: i32, dirp: UserOutPtr<u8>, count: u32) -> SysResult {
        let count = count as usize;
        access_ok(dirp.addr(), count)?;
        let file = self.file(fd)?;
        directory(&file)?.read_dirents64(count, |records| copy_to_user(dirp.addr(), records))
    }

    /// `getdents(fd, dirp, count)`: as `getdents64`, with the old `linux_dirent` records
    /// (64-bit `d_ino` and `d_off` on x86-64, `d_type` in the record's last byte).
    pub fn sys_getdents(&self, fd: i32, dirp: UserOutPtr<u8>, count: u32) -> SysResult {
        let count = count as usize;
        access_ok(dirp.addr(), count)?;
        let file = self.file(fd)?;
        let dir = directory(&file)?;
        let mut pending = Vec::new();
        let mut written = 0usize;
        let mut too_small = false;
        let result = dir.read_dir(|entry, next| {
            let len = old_record_len(entry.name);
            if written + pending.len() + len > count {
                too_small = written + pending.len() == 0;
                return Ok(false);
            }
            if pending.len() + len > FLUSH_AT {
                copy_to_user(dirp.addr() + written, &pending)?;
                written += pending.len();
                pending.clear();
            }
            push_old_record(&mut pending, entry, next)?;
            Ok(true)
        });
        match result {
            Err(error) if written + pending.len() == 0 => return Err(error),
            _ if too_small => return Err(LxError::EINVAL),
            _ => {}
        }
        copy_to_user(dirp.addr() + written, &pending)?;
        Ok(written + pending.len())
    }

    /// `getcwd(buf, size)`: the working directory's path and its NUL; returns that length.
    /// `ERANGE` if it does not fit in `size` (0 included).
    pub fn sys_getcwd(&self, buf: UserOutPtr<u8>, size: usize) -> SysResult {
        let path = self.cwd_path()?;
        // From a root the process changed to; a directory outside it is "unreachable".
        let root = self.process.root();
        let (unreachable, path) = match root.beneath(&path) {
            Some(below) => ("", below),
            None => ("(unreachable)", path.as_str()),
        };
        let len = unreachable.len() + path.len() + 1;
        if size < len {
            return Err(LxError::ERANGE);
        }
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(len).map_err(|_| LxError::ENOMEM)?;
        bytes.extend_from_slice(unreachable.as_bytes());
        bytes.extend_from_slice(path.as_bytes());
        bytes.push(0);
        buf.write_bytes(&bytes)?;
        Ok(len)
    }

    /// The working directory's absolute path inside the container as it is now, as Linux's
    /// `d_path` finds it: `ENOENT` if
    /// it was removed or cannot be named. The path recorded at `chdir` is used while it still
    /// leads to the directory; after a rename of the directory or of one above it, the path
    /// is found again by climbing `..` and looking each directory up in its parent.
    fn cwd_path(&self) -> LxResult<String> {
        let cwd = self.process.cwd();
        let metadata = cwd.inode.metadata()?;
        if metadata.nlinks == 0 {
            return Err(LxError::ENOENT);
        }
        let identity = (metadata.dev, metadata.inode);
        if !cwd.path.is_empty() {
            let mut walker = self.container_walker()?;
            if let Ok(found) = walker.walk(walker.root(0)?, &cwd.path, false) {
                let found = found.inode.metadata()?;
                if (found.dev, found.inode) == identity {
                    return Ok(cwd.path);
                }
            }
        }
        let path = self.climb_to_root(&cwd.inode)?;
        self.process.set_cwd(WorkingDir {
            inode: cwd.inode,
            path: path.clone(),
        });
        Ok(path)
    }

    /// The absolute path of `dir`, found by climbing `..` to the container's root.
    fn climb_to_root(&self, dir: &Arc<dyn INode>) -> LxResult<String> {
        let container = self.process.container().ok_or(LxError::ENOENT)?;
        let root = container.root().metadata()?;
        let mut names: Vec<String> = Vec::new();
        let mut len = 0;
        let mut current = dir.clone();
        loop {
            let metadata = current.metadata()?;
            if (metadata.dev, metadata.inode) == (root.dev, root.inode) {
                break;
            }
            let parent = current.find("..")?;
            // A parent that cannot be listed cannot name the directory either.
            let listing = parent.list().map_err(|_| LxError::ENOENT)?;
            let name = listing
                .entries_from(2) // past `.` and `..`
                .find(|entry| entry.inode == metadata.inode)
                .ok_or(LxError::ENOENT)?
                .to_entry()?
                .name;
            len += name.len() + 1;
            if len >= kernel_hostfs::PATH_MAX {
                return Err(LxError::ENAMETOOLONG);
            }
            names.try_reserve(1).map_err(|_| LxError::ENOMEM)?;
            names.push(name);
            current = parent;
        }
        if names.is_empty() {
            return Ok(String::from("/"));
        }
        let mut path = String::new();
        path.try_reserve_exact(len).map_err(|_| LxError::ENOMEM)?;
        for name in names.iter().rev() {
            path.push('/');
            path.push_str(name);
        }
        Ok(path)
    }

    /// What a directory to stand in (`chdir`, `chroot`) must be: `ENOTDIR` unless a
    /// directory, `EACCES` without search permission on it; its metadata.
    pub(crate) fn searchable_dir(&self, dir: &Located) -> LxResult<Metadata> {
        let metadata = dir.inode.metadata()?;
        if metadata.type_ != FileType::Dir {
            return Err(LxError::ENOTDIR);
        }
        self.process
            .credentials()
            .permission(&metadata, Access::EXEC)?;
        Ok(metadata)
    }

    /// Makes `dir` the working directory (see [`searchable_dir`](Self::searchable_dir)).
    fn enter(&self, dir: Located) -> SysResult {
        self.searchable_dir(&dir)?;
        self.process.set_cwd(WorkingDir {
            inode: dir.inode,
            path: dir.path,
        });
        Ok(0)
    }

    /// `chdir(path)`.
    pub fn sys_chdir(&self, path: UserInPtr<u8>) -> SysResult {
        let path = path.read_path()?;
        let dir = self.resolve(AT_FDCWD, &path, true)?;
        self.enter(dir)
    }

    /// `fchdir(fd)`: `O_PATH` descriptors included, as Linux.
    pub fn sys_fchdir(&self, fd: i32) -> SysResult {
        let file = self.file_raw(fd)?;
        let dir = super::path::located_file(&*file).ok_or(LxError::ENOTDIR)?;
        self.enter(dir)
    }

    /// `mkdirat(dirfd, path, mode)`: `EEXIST` for anything there (a dangling link too, and
    /// `.`, `..`, `/`), then `EACCES` without write and search permission on the parent; the
    /// mode is `mode & 0o1777 & ~umask`.
    pub fn sys_mkdirat(&self, dirfd: i32, path: UserInPtr<u8>, mode: u32) -> SysResult {
        let path = path.read_path()?;
        let mut walker = self.walker();
        let parent = self.resolve_parent_with(&mut walker, dirfd, &path)?;
        let name = parent.name(LxError::EEXIST)?;
        match parent.lookup(name) {
            Ok(_) => return Err(LxError::EEXIST),
            Err(LxError::ENOENT) => {}
            Err(error) => return Err(error),
        }
        let mode = (mode & MKDIR_MODE_MASK & !self.process.umask()) as u16;
        self.create_node(&walker, &parent.dir, name, FileType::Dir, mode)?;
        Ok(0)
    }

    /// `mkdir(path, mode)`.
    pub fn sys_mkdir(&self, path: UserInPtr<u8>, mode: u32) -> SysResult {
        self.sys_mkdirat(AT_FDCWD, path, mode)
    }

    /// `rmdir(path)`: `EINVAL` for a last component `.`, `ENOTEMPTY` for `..`, `EBUSY` for
    /// `/`; then `ENOENT`, the deletion checks (`EACCES`, `EPERM` in a sticky directory,
    /// `ENOTDIR`), `ENOTEMPTY`.
    pub fn sys_rmdir(&self, path: UserInPtr<u8>) -> SysResult {
        let path = path.read_path()?;
        let walker = &mut self.walker();
        let parent = self.resolve_parent_with(walker, AT_FDCWD, &path)?;
        self.remove_dir(walker.credentials(), &parent)
    }

    /// The `rmdir` of a resolved parent (shared with `unlinkat(AT_REMOVEDIR)`).
    pub(crate) fn remove_dir(
        &self,
        credentials: &linux_object::credentials::Credentials,
        parent: &super::path::Parent,
    ) -> SysResult {
        let name = match &parent.last {
            Last::Normal(name) => name,
            Last::Dot => return Err(LxError::EINVAL),
            Last::DotDot => return Err(LxError::ENOTEMPTY),
            Last::Root => return Err(LxError::EBUSY),
        };
        let victim = parent.lookup(name)?;
        super::read_only_first(
            &*parent.dir.inode,
            may_delete(
                credentials,
                &parent.dir.inode.metadata()?,
                &victim.inode.metadata()?,
                true,
            ),
        )?;
        // Unheld, as in Linux's own rmdir (see `sys_unlinkat`).
        drop(victim);
        parent.dir.inode.rmdir(name)?;
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, int, run, Sandbox};
    use alloc::string::String;
    use std::format;

    const GETCWD: u32 = 79;
    const CHDIR: u32 = 80;
    const FCHDIR: u32 = 81;
    const MKDIR: u32 = 83;
    const RMDIR: u32 = 84;
    const GETDENTS64: u32 = 217;
    const GETDENTS: u32 = 78;
    const OPEN: u32 = 2;
    const LSEEK: u32 = 8;

    /// The names in a `getdents64` result.
    fn names(bytes: &[u8]) -> Vec<String> {
        let mut names = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let len = u16::from_le_bytes([bytes[at + 16], bytes[at + 17]]) as usize;
            assert_eq!(len % 8, 0);
            let name = &bytes[at + 19..at + len];
            let end = name.iter().position(|&b| b == 0).unwrap();
            names.push(String::from_utf8(name[..end].to_vec()).unwrap());
            at += len;
        }
        names
    }

    #[test]
    fn getdents64_lists_rewinds_and_refuses_small_buffers() {
        let sandbox = Sandbox::new("dir-getdents");
        sandbox.mkdir("d");
        for name in ["a", "bb", "ccc"] {
            sandbox.write(&format!("d/{name}"), b"");
        }
        let sys = sandbox.syscall();
        let fd = run(&sys, OPEN, &[sandbox.cstr("d"), 0o200000]) as usize;
        let buf = sandbox.buf(4096);
        assert_eq!(run(&sys, GETDENTS64, &[fd, buf, 10]), err(LxError::EINVAL));
        // Two records fit in 48 bytes ("." and ".." take 24 each).
        assert_eq!(run(&sys, GETDENTS64, &[fd, buf, 48]), 48);
        assert_eq!(names(&sandbox.user.get_bytes(buf, 48)), [".", ".."]);
        let n = run(&sys, GETDENTS64, &[fd, buf, 4096]) as usize;
        let mut rest = names(&sandbox.user.get_bytes(buf, n));
        rest.sort();
        assert_eq!(rest, ["a", "bb", "ccc"]);
        assert_eq!(run(&sys, GETDENTS64, &[fd, buf, 4096]), 0);
        assert_eq!(run(&sys, LSEEK, &[fd, 0, 0]), 0);
        assert_eq!(run(&sys, GETDENTS64, &[fd, buf, 4096]), n as isize + 48);
        let kernel = usize::MAX - 4095;
        assert_eq!(
            run(&sys, GETDENTS64, &[fd, kernel, 4096]),
            err(LxError::EFAULT)
        );
        assert_eq!(run(&sys, GETDENTS64, &[99, buf, 4096]), err(LxError::EBADF));
        let file = run(&sys, OPEN, &[sandbox.cstr("d/a"), 0]) as usize;
        assert_eq!(
            run(&sys, GETDENTS64, &[file, buf, 4096]),
            err(LxError::ENOTDIR)
        );
    }

    #[test]
    fn getdents64_records_carry_inode_position_and_type() {
        use std::os::unix::fs::MetadataExt;
        let sandbox = Sandbox::new("dir-getdents64-records");
        sandbox.mkdir("d");
        sandbox.mkdir("d/sub");
        sandbox.write("d/file", b"");
        sandbox.symlink("file", "d/link");
        let sys = sandbox.syscall();
        let fd = run(&sys, OPEN, &[sandbox.cstr("d"), 0o200000]) as usize;
        let buf = sandbox.buf(4096);
        let n = run(&sys, GETDENTS64, &[fd, buf, 4096]) as usize;
        let bytes = sandbox.user.get_bytes(buf, n);
        let mut at = 0;
        let mut listed = Vec::new();
        while at < n {
            let field = |from: usize| u64::from_le_bytes(bytes[from..from + 8].try_into().unwrap());
            let len = u16::from_le_bytes([bytes[at + 16], bytes[at + 17]]) as usize;
            let name = names(&bytes[at..at + len]).remove(0);
            let host = match name.as_str() {
                "." => sandbox.host("d"),
                ".." => sandbox.host(""),
                name => sandbox.host(&format!("d/{name}")),
            };
            let ino = std::fs::symlink_metadata(host).unwrap().ino();
            assert_eq!(field(at), ino, "d_ino of {name}");
            listed.push(name.clone());
            assert_eq!(field(at + 8), listed.len() as u64, "d_off of {name}");
            let d_type = match name.as_str() {
                "." | ".." | "sub" => 4,
                "file" => 8,
                _ => 10,
            };
            assert_eq!(bytes[at + 18], d_type, "d_type of {name}");
            assert!(bytes[at + 19 + name.len()..at + len]
                .iter()
                .all(|&b| b == 0));
            at += len;
        }
        assert_eq!(listed.len(), 5);
        // A `d_off` is a position to go back to: the listing taken at 0 is read on from it.
        std::fs::remove_file(sandbox.host("d/file")).unwrap();
        assert_eq!(run(&sys, LSEEK, &[fd, 3, 0]), 3);
        let rest = run(&sys, GETDENTS64, &[fd, buf, 4096]) as usize;
        assert_eq!(names(&sandbox.user.get_bytes(buf, rest)), listed[3..]);
        // From the start the directory is listed afresh.
        assert_eq!(run(&sys, LSEEK, &[fd, 0, 0]), 0);
        let again = run(&sys, GETDENTS64, &[fd, buf, 4096]) as usize;
        assert_eq!(names(&sandbox.user.get_bytes(buf, again)).len(), 4);
    }

    #[test]
    fn getdents_writes_the_old_records_with_the_type_last() {
        let sandbox = Sandbox::new("dir-getdents-old");
        sandbox.mkdir("d");
        sandbox.mkdir("d/sub");
        sandbox.write("d/file", b"");
        let sys = sandbox.syscall();
        let fd = run(&sys, OPEN, &[sandbox.cstr("d"), 0o200000]) as usize;
        let buf = sandbox.buf(4096);
        // ".": 18 + 1 + NUL + d_type = 21, padded to 24.
        assert_eq!(run(&sys, GETDENTS, &[fd, buf, 23]), err(LxError::EINVAL));
        let n = run(&sys, GETDENTS, &[fd, buf, 4096]) as usize;
        let bytes = sandbox.user.get_bytes(buf, n);
        let mut entries = Vec::new();
        let mut at = 0;
        while at < n {
            let len = u16::from_le_bytes([bytes[at + 16], bytes[at + 17]]) as usize;
            let name = &bytes[at + 18..at + len - 1];
            let end = name.iter().position(|&b| b == 0).unwrap();
            let d_off = u64::from_le_bytes(bytes[at + 8..at + 16].try_into().unwrap());
            entries.push((
                String::from_utf8(name[..end].to_vec()).unwrap(),
                bytes[at + len - 1],
            ));
            assert_eq!(
                d_off as usize,
                entries.len(),
                "the position after the record"
            );
            at += len;
        }
        entries.sort();
        let expected = [(".", 4), ("..", 4), ("file", 8), ("sub", 4)];
        let expected: Vec<(String, u8)> = expected
            .iter()
            .map(|(name, kind)| (String::from(*name), *kind))
            .collect();
        assert_eq!(entries, expected);
        assert_eq!(run(&sys, GETDENTS, &[fd, buf, 4096]), 0);
        assert_eq!(run(&sys, GETDENTS, &[99, buf, 4096]), err(LxError::EBADF));
    }

    #[test]
    fn getcwd_follows_chdir_physically() {
        let sandbox = Sandbox::new("dir-cwd");
        sandbox.mkdir("a");
        sandbox.mkdir("b");
        sandbox.mkdir("b/c");
        sandbox.symlink("b/c", "lc");
        sandbox.write("f", b"");
        let sys = sandbox.syscall();
        let buf = sandbox.buf(64);
        assert_eq!(run(&sys, GETCWD, &[buf, 64]), 2);
        assert_eq!(run(&sys, CHDIR, &[sandbox.cstr("a/../b")]), 0);
        assert_eq!(run(&sys, GETCWD, &[buf, 64]), 3);
        assert_eq!(sandbox.user.get_bytes(buf, 3), b"/b\0");
        assert_eq!(run(&sys, CHDIR, &[sandbox.cstr("/lc")]), 0);
        assert_eq!(run(&sys, GETCWD, &[buf, 64]), 5);
        assert_eq!(sandbox.user.get_bytes(buf, 5), b"/b/c\0");
        assert_eq!(run(&sys, GETCWD, &[buf, 4]), err(LxError::ERANGE));
        assert_eq!(run(&sys, GETCWD, &[buf, 0]), err(LxError::ERANGE));
        assert_eq!(run(&sys, GETCWD, &[0, 64]), err(LxError::EFAULT));
        assert_eq!(run(&sys, CHDIR, &[sandbox.cstr("..")]), 0);
        assert_eq!(run(&sys, GETCWD, &[buf, 64]), 3);
        assert_eq!(
            run(&sys, CHDIR, &[sandbox.cstr("/f")]),
            err(LxError::ENOTDIR)
        );
        assert_eq!(
            run(&sys, CHDIR, &[sandbox.cstr("/none")]),
            err(LxError::ENOENT)
        );
        let fd = run(&sys, OPEN, &[sandbox.cstr("/a"), 0o10000000]) as usize;
        assert_eq!(run(&sys, FCHDIR, &[fd]), 0);
        assert_eq!(run(&sys, GETCWD, &[buf, 64]), 3);
        assert_eq!(sandbox.user.get_bytes(buf, 3), b"/a\0");
        let file = run(&sys, OPEN, &[sandbox.cstr("/f"), 0]) as usize;
        assert_eq!(run(&sys, FCHDIR, &[file]), err(LxError::ENOTDIR));
        assert_eq!(run(&sys, FCHDIR, &[int(-1)]), err(LxError::EBADF));
        sandbox.mkdir("closed");
        sandbox.chmod("closed", 0o700);
        let user = sandbox.syscall_as(1000, 1000);
        assert_eq!(
            run(&user, CHDIR, &[sandbox.cstr("/closed")]),
            err(LxError::EACCES)
        );
    }

    #[test]
    fn mkdir_and_rmdir() {
        let sandbox = Sandbox::new("dir-mkdir");
        sandbox.write("f", b"");
        sandbox.symlink("nowhere", "dangling");
        let sys = sandbox.syscall();
        assert_eq!(run(&sys, MKDIR, &[sandbox.cstr("d/"), 0o777]), 0);
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(
                &std::fs::metadata(sandbox.host("d")).unwrap().permissions()
            ) & 0o7777,
            0o755
        );
        for existing in ["d", "f", "dangling", ".", "..", "/", "d/."] {
            assert_eq!(
                run(&sys, MKDIR, &[sandbox.cstr(existing), 0o777]),
                err(LxError::EEXIST),
                "{existing}"
            );
        }
        assert_eq!(
            run(&sys, MKDIR, &[sandbox.cstr("f/x"), 0o777]),
            err(LxError::ENOTDIR)
        );
        assert_eq!(
            run(&sys, MKDIR, &[sandbox.cstr("none/x"), 0o777]),
            err(LxError::ENOENT)
        );
        sandbox.write("d/inside", b"");
        assert_eq!(
            run(&sys, RMDIR, &[sandbox.cstr("d")]),
            err(LxError::ENOTEMPTY)
        );
        assert_eq!(
            run(&sys, RMDIR, &[sandbox.cstr("d/.")]),
            err(LxError::EINVAL)
        );
        assert_eq!(
            run(&sys, RMDIR, &[sandbox.cstr("d/..")]),
            err(LxError::ENOTEMPTY)
        );
        assert_eq!(run(&sys, RMDIR, &[sandbox.cstr("/")]), err(LxError::EBUSY));
        assert_eq!(
            run(&sys, RMDIR, &[sandbox.cstr("f")]),
            err(LxError::ENOTDIR)
        );
        assert_eq!(
            run(&sys, RMDIR, &[sandbox.cstr("none")]),
            err(LxError::ENOENT)
        );
        std::fs::remove_file(sandbox.host("d/inside")).unwrap();
        assert_eq!(run(&sys, RMDIR, &[sandbox.cstr("d/")]), 0);
        assert!(!sandbox.exists("d"));
        sandbox.mkdir("ro");
        sandbox.chmod("ro", 0o555);
        sandbox.mkdir("ro/sub");
        let user = sandbox.syscall_as(1000, 1000);
        assert_eq!(
            run(&user, MKDIR, &[sandbox.cstr("ro/sub"), 0o777]),
            err(LxError::EEXIST)
        );
        assert_eq!(
            run(&user, MKDIR, &[sandbox.cstr("ro/new"), 0o777]),
            err(LxError::EACCES)
        );
        assert_eq!(
            run(&user, RMDIR, &[sandbox.cstr("ro/sub")]),
            err(LxError::EACCES)
        );
    }
}
