//! `link`, `linkat`, `symlink`, `symlinkat`, `unlink`, `unlinkat`, `rename`, `renameat`,
//! `renameat2`, `readlink`, `readlinkat`: directory entries, with Linux's checks in Linux's
//! order (`may_delete`, `may_create`, `may_linkat`, the rename traps).

use alloc::string::String;
use alloc::vec::Vec;
use kernel_hostfs::{FileType, Metadata, PATH_MAX};
use linux_object::credentials::{Access, Credentials};
use linux_object::{LxError, LxResult};

use super::path::{
    Located, Object, Parent, AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW,
};
use crate::user::{UserInPtr, UserOutPtr};
use crate::{SysResult, Syscall};

/// The sticky bit: in such a directory only owners may delete or rename entries.
const S_ISVTX: u16 = 0o1000;
const S_ISUID: u16 = 0o4000;
const S_ISGID: u16 = 0o2000;
const S_IXGRP: u16 = 0o010;

/// `renameat2`: fail if the new name exists.
const RENAME_NOREPLACE: u32 = 1;
/// `renameat2`: swap the two names.
const RENAME_EXCHANGE: u32 = 2;
/// `renameat2`: leave a whiteout (overlay filesystems).
const RENAME_WHITEOUT: u32 = 4;

/// Linux's `may_delete`: write and search permission on `dir` (`EACCES`); in a sticky
/// directory only the entry's or the directory's owner (`EPERM`); then the type the call
/// wants (`ENOTDIR` removing a non-directory as one, `EISDIR` the other way round).
pub(crate) fn may_delete(
    credentials: &Credentials,
    dir: &Metadata,
    victim: &Metadata,
    is_dir: bool,
) -> LxResult {
    credentials.permission(dir, Access::WRITE | Access::EXEC)?;
    if dir.mode & S_ISVTX != 0
        && credentials.fsuid != victim.uid
        && credentials.fsuid != dir.uid
        && !credentials.fs_privileged()
    {
        return Err(LxError::EPERM);
    }
    match (is_dir, victim.type_ == FileType::Dir) {
        (true, false) => Err(LxError::ENOTDIR),
        (false, true) => Err(LxError::EISDIR),
        _ => Ok(()),
    }
}

/// Linux's `may_linkat` with `fs.protected_hardlinks = 1` (every distribution's default):
/// the owner may link anything; others only a regular file they may read and write that is
/// neither set-user-ID nor executable set-group-ID (`EPERM`).
fn may_linkat(credentials: &Credentials, source: &Metadata) -> LxResult {
    if credentials.owns(source) {
        return Ok(());
    }
    let safe = source.type_ == FileType::File
        && source.mode & S_ISUID == 0
        && source.mode & (S_ISGID | S_IXGRP) != S_ISGID | S_IXGRP
        && credentials
            .permission(source, Access::READ | Access::WRITE)
            .is_ok();
    if safe {
        Ok(())
    } else {
        Err(LxError::EPERM)
    }
}

/// Whether `path` is `ancestor` or lies below it.
fn within(path: &str, ancestor: &str) -> bool {
    ancestor == "/"
        || path == ancestor
        || path
            .strip_prefix(ancestor)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The last component of a path that is to be created: `EEXIST` for `.`, `..` or `/`
/// (Linux's `filename_create`), `EEXIST` if something is there, `ENOENT` for a trailing
/// slash on a name that is free (only directories may be made so).
fn free_name(parent: &Parent, dir_allowed: bool) -> LxResult<&str> {
    let name = parent.name(LxError::EEXIST)?;
    match parent.lookup(name) {
        Ok(_) => Err(LxError::EEXIST),
        Err(LxError::ENOENT) if parent.trailing_slash && !dir_allowed => Err(LxError::ENOENT),
        Err(LxError::ENOENT) => Ok(name),
        Err(error) => Err(error),
    }
}

impl Syscall<'_> {
    /// `linkat(olddirfd, oldpath, newdirfd, newpath, flags)`.
    pub fn sys_linkat(
        &self,
        olddirfd: i32,
        oldpath: UserInPtr<u8>,
        newdirfd: i32,
        newpath: UserInPtr<u8>,
        flags: u32,
    ) -> SysResult {
        if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(LxError::EINVAL);
        }
        let mut walker = self.walker();
        // Linux lets only a process with CAP_DAC_READ_SEARCH name the source by descriptor.
        let empty_path = flags & AT_EMPTY_PATH != 0 && walker.credentials().fs_privileged();
        let old = oldpath.read_cstring(PATH_MAX - 1)?;
        let follow = flags & AT_SYMLINK_FOLLOW != 0;
        let source = match self.resolve_object(&mut walker, olddirfd, &old, follow, empty_path)? {
            Object::Node(node) => node,
            // A pipe has no name to give another one to.
            Object::File(_) => return Err(LxError::ENOENT),
        };
        let new = newpath.read_path()?;
        let parent = self.resolve_parent_with(&mut walker, newdirfd, &new)?;
        let name = free_name(&parent, false)?;
        let credentials = walker.credentials();
        let source_metadata = source.inode.metadata()?;
        may_linkat(credentials, &source_metadata)?;
        super::read_only_first(
            &*parent.dir.inode,
            credentials.permission(&parent.dir.inode.metadata()?, Access::WRITE | Access::EXEC),
        )?;
        if source_metadata.type_ == FileType::Dir {
            return Err(LxError::EPERM);
        }
        parent.dir.inode.link(name, &source.inode)?;
        Ok(0)
    }

    /// `link(oldpath, newpath)`.
    pub fn sys_link(&self, oldpath: UserInPtr<u8>, newpath: UserInPtr<u8>) -> SysResult {
        self.sys_linkat(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0)
    }

    /// `symlinkat(target, newdirfd, linkpath)`: the target is stored as given (`ENOENT` if
    /// empty); the link belongs to the caller.
    pub fn sys_symlinkat(
        &self,
        target: UserInPtr<u8>,
        newdirfd: i32,
        linkpath: UserInPtr<u8>,
    ) -> SysResult {
        let target = target.read_path()?;
        let path = linkpath.read_path()?;
        let mut walker = self.walker();
        let parent = self.resolve_parent_with(&mut walker, newdirfd, &path)?;
        let name = free_name(&parent, false)?;
        let credentials = walker.credentials();
        super::read_only_first(
            &*parent.dir.inode,
            credentials.permission(&parent.dir.inode.metadata()?, Access::WRITE | Access::EXEC),
        )?;
        let link = parent.dir.inode.symlink(name, &target)?;
        let metadata = link.metadata()?;
        let gid = if parent.dir.inode.metadata()?.mode & S_ISGID != 0 {
            parent.dir.inode.metadata()?.gid
        } else {
            credentials.fsgid
        };
        if (metadata.uid, metadata.gid) != (credentials.fsuid, gid) {
            if let Err(error) = link.chown(Some(credentials.fsuid), Some(gid)) {
                log::warn!(
                    "rvisor: cannot give a new link to {}: {error}",
                    credentials.fsuid
                );
            }
        }
        Ok(0)
    }

    /// `symlink(target, linkpath)`.
    pub fn sys_symlink(&self, target: UserInPtr<u8>, linkpath: UserInPtr<u8>) -> SysResult {
        self.sys_symlinkat(target, AT_FDCWD, linkpath)
    }

    /// `unlinkat(dirfd, path, flags)`: `AT_REMOVEDIR` makes it `rmdir`; other flags are
    /// `EINVAL` (checked before the path is read, as Linux).
    pub fn sys_unlinkat(&self, dirfd: i32, path: UserInPtr<u8>, flags: u32) -> SysResult {
        if flags & !AT_REMOVEDIR != 0 {
            return Err(LxError::EINVAL);
        }
        let path = path.read_path()?;
        let mut walker = self.walker();
        let parent = self.resolve_parent_with(&mut walker, dirfd, &path)?;
        if flags & AT_REMOVEDIR != 0 {
            return self.remove_dir(walker.credentials(), &parent);
        }
        let name = parent.name(LxError::EISDIR)?;
        let victim = parent.lookup(name)?;
        let victim_metadata = victim.inode.metadata()?;
        if parent.trailing_slash {
            return Err(if victim_metadata.type_ == FileType::Dir {
                LxError::EISDIR
            } else {
                LxError::ENOTDIR
            });
        }
        super::read_only_first(
            &*parent.dir.inode,
            may_delete(
                walker.credentials(),
                &parent.dir.inode.metadata()?,
                &victim_metadata,
                false,
            ),
        )?;
        // Unheld, as in Linux's own unlink: with no other reference to its dentry, the host
        // reports the object's deletion (IN_DELETE_SELF, IN_IGNORED) before its directory's.
        drop(victim);
        parent.dir.inode.unlink(name)?;
        Ok(0)
    }

    /// `unlink(path)`.
    pub fn sys_unlink(&self, path: UserInPtr<u8>) -> SysResult {
        self.sys_unlinkat(AT_FDCWD, path, 0)
    }

    /// `renameat2(olddirfd, oldpath, newdirfd, newpath, flags)`. `RENAME_NOREPLACE` is
    /// served; `RENAME_EXCHANGE` and `RENAME_WHITEOUT` get `EINVAL`, Linux's answer on a
    /// filesystem that cannot do them.
    pub fn sys_renameat2(
        &self,
        olddirfd: i32,
        oldpath: UserInPtr<u8>,
        newdirfd: i32,
        newpath: UserInPtr<u8>,
        flags: u32,
    ) -> SysResult {
        let known = RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT;
        if flags & !known != 0
            || (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT) != 0 && flags & RENAME_EXCHANGE != 0)
        {
            return Err(LxError::EINVAL);
        }
        let mut walker = self.walker();
        if flags & RENAME_WHITEOUT != 0 && !walker.credentials().fs_privileged() {
            return Err(LxError::EPERM);
        }
        let old = oldpath.read_path()?;
        let new = newpath.read_path()?;
        let old_parent = self.resolve_parent_with(&mut walker, olddirfd, &old)?;
        let new_parent = self.resolve_parent_with(&mut walker, newdirfd, &new)?;
        let old_name = old_parent.name(LxError::EBUSY)?;
        let new_name = new_parent.name(if flags & RENAME_NOREPLACE != 0 {
            LxError::EEXIST
        } else {
            LxError::EBUSY
        })?;
        if flags != 0 && flags != RENAME_NOREPLACE {
            return Err(LxError::EINVAL);
        }
        let source = old_parent.lookup(old_name)?;
        let target = match new_parent.lookup(new_name) {
            Ok(target) => Some(target),
            Err(LxError::ENOENT) => None,
            Err(error) => return Err(error),
        };
        if flags & RENAME_NOREPLACE != 0 && target.is_some() {
            return Err(LxError::EEXIST);
        }
        let source_metadata = source.inode.metadata()?;
        let is_dir = source_metadata.type_ == FileType::Dir;
        if !is_dir && (old_parent.trailing_slash || new_parent.trailing_slash) {
            return Err(LxError::ENOTDIR);
        }
        let new_path = new_parent.dir.child_path(new_name)?;
        // Linux's traps: the source may not hold the new name's directory (EINVAL), the new
        // name may not hold the source (ENOTEMPTY). Paths are physical, so ancestry is a
        // path prefix.
        let same_dir = old_parent.dir.path == new_parent.dir.path;
        if !same_dir && is_dir && within(&new_parent.dir.path, &source.path) {
            return Err(LxError::EINVAL);
        }
        if !same_dir && within(&old_parent.dir.path, &new_path) {
            return Err(LxError::ENOTEMPTY);
        }
        let credentials = walker.credentials();
        let old_dir_metadata = old_parent.dir.inode.metadata()?;
        let new_dir_metadata = new_parent.dir.inode.metadata()?;
        if let Some(target) = &target {
            let target_metadata = target.inode.metadata()?;
            if (target_metadata.dev, target_metadata.inode)
                == (source_metadata.dev, source_metadata.inode)
            {
                return Ok(0);
            }
            super::read_only_first(
                &*old_parent.dir.inode,
                may_delete(credentials, &old_dir_metadata, &source_metadata, is_dir),
            )?;
            may_delete(credentials, &new_dir_metadata, &target_metadata, is_dir)?;
        } else {
            super::read_only_first(
                &*old_parent.dir.inode,
                may_delete(credentials, &old_dir_metadata, &source_metadata, is_dir),
            )?;
            credentials.permission(&new_dir_metadata, Access::WRITE | Access::EXEC)?;
        }
        if is_dir && !same_dir {
            // The moved directory's `..` changes: Linux asks for write permission on it.
            credentials.permission(&source_metadata, Access::WRITE)?;
        }
        old_parent
            .dir
            .inode
            .move_(old_name, &new_parent.dir.inode, new_name)?;
        Ok(0)
    }

    /// `renameat(olddirfd, oldpath, newdirfd, newpath)`.
    pub fn sys_renameat(
        &self,
        olddirfd: i32,
        oldpath: UserInPtr<u8>,
        newdirfd: i32,
        newpath: UserInPtr<u8>,
    ) -> SysResult {
        self.sys_renameat2(olddirfd, oldpath, newdirfd, newpath, 0)
    }

    /// `rename(oldpath, newpath)`.
    pub fn sys_rename(&self, oldpath: UserInPtr<u8>, newpath: UserInPtr<u8>) -> SysResult {
        self.sys_renameat2(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0)
    }

    /// `readlinkat(dirfd, path, buf, bufsiz)`: the target, cut to `bufsiz` bytes, without a
    /// NUL. `EINVAL` for `bufsiz <= 0` (before anything else) and for a non-link; an empty
    /// path reads the link `dirfd` names (opened `O_PATH | O_NOFOLLOW`), `ENOENT` if that is
    /// not a link.
    pub fn sys_readlinkat(
        &self,
        dirfd: i32,
        path: UserInPtr<u8>,
        buf: UserOutPtr<u8>,
        bufsiz: i32,
    ) -> SysResult {
        let bufsiz = usize::try_from(bufsiz)
            .ok()
            .filter(|&size| size > 0)
            .ok_or(LxError::EINVAL)?;
        let path = path.read_cstring(PATH_MAX - 1)?;
        let empty = path.is_empty();
        let object = self.resolve_object(&mut self.walker(), dirfd, &path, false, true)?;
        let not_link = if empty {
            LxError::ENOENT
        } else {
            LxError::EINVAL
        };
        let node: Located = match object {
            Object::Node(node) => node,
            Object::File(_) => return Err(not_link),
        };
        let target: String = match node.inode.read_link() {
            Ok(target) => target,
            Err(kernel_hostfs::FsError::InvalidArgument) => return Err(not_link),
            Err(error) => return Err(error.into()),
        };
        let bytes: Vec<u8> = target.into_bytes();
        let len = bytes.len().min(bufsiz);
        buf.write_bytes(bytes.get(..len).unwrap_or_default())?;
        Ok(len)
    }

    /// `readlink(path, buf, bufsiz)`.
    pub fn sys_readlink(&self, path: UserInPtr<u8>, buf: UserOutPtr<u8>, bufsiz: i32) -> SysResult {
        self.sys_readlinkat(AT_FDCWD, path, buf, bufsiz)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, int, run, Sandbox};

    const RENAME: u32 = 82;
    const LINK: u32 = 86;
    const UNLINK: u32 = 87;
    const SYMLINK: u32 = 88;
    const READLINK: u32 = 89;
    const UNLINKAT: u32 = 263;
    const LINKAT: u32 = 265;
    const RENAMEAT2: u32 = 316;

    #[test]
    fn links_and_unlinks() {
        let sandbox = Sandbox::new("link-basic");
        sandbox.write("f", b"data");
        sandbox.mkdir("d");
        sandbox.symlink("f", "lf");
        let sys = sandbox.syscall();
        let c = |path: &str| sandbox.cstr(path);
        assert_eq!(run(&sys, LINK, &[c("f"), c("g")]), 0);
        assert_eq!(sandbox.read("g"), b"data");
        assert_eq!(run(&sys, LINK, &[c("f"), c("g")]), err(LxError::EEXIST));
        assert_eq!(run(&sys, LINK, &[c("f"), c("h/")]), err(LxError::ENOENT));
        assert_eq!(run(&sys, LINK, &[c("d"), c("d2")]), err(LxError::EPERM));
        assert_eq!(run(&sys, LINK, &[c("none"), c("x")]), err(LxError::ENOENT));
        let at_fdcwd = int(AT_FDCWD);
        assert_eq!(
            run(&sys, LINKAT, &[at_fdcwd, c("lf"), at_fdcwd, c("hl"), 0]),
            0
        );
        assert!(std::fs::symlink_metadata(sandbox.host("hl"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            run(&sys, LINKAT, &[at_fdcwd, c("lf"), at_fdcwd, c("hf"), 0x400]),
            0
        );
        assert!(std::fs::symlink_metadata(sandbox.host("hf"))
            .unwrap()
            .is_file());
        assert_eq!(
            run(&sys, LINKAT, &[at_fdcwd, c("f"), at_fdcwd, c("x"), 1]),
            err(LxError::EINVAL)
        );
        assert_eq!(run(&sys, UNLINK, &[c("g")]), 0);
        assert!(!sandbox.exists("g"));
        assert_eq!(run(&sys, UNLINK, &[c("g")]), err(LxError::ENOENT));
        assert_eq!(run(&sys, UNLINK, &[c("d")]), err(LxError::EISDIR));
        assert_eq!(run(&sys, UNLINK, &[c("d/")]), err(LxError::EISDIR));
        assert_eq!(run(&sys, UNLINK, &[c("f/")]), err(LxError::ENOTDIR));
        assert_eq!(run(&sys, UNLINK, &[c(".")]), err(LxError::EISDIR));
        assert_eq!(
            run(&sys, UNLINKAT, &[at_fdcwd, c("d"), 1]),
            err(LxError::EINVAL)
        );
        assert_eq!(run(&sys, UNLINKAT, &[at_fdcwd, c("d"), 0x200]), 0);
        assert!(!sandbox.exists("d"));
    }

    #[test]
    fn symlinks_and_readlink() {
        let sandbox = Sandbox::new("link-symlink");
        sandbox.write("f", b"");
        let sys = sandbox.syscall();
        let c = |path: &str| sandbox.cstr(path);
        assert_eq!(run(&sys, SYMLINK, &[c("some/target"), c("l")]), 0);
        assert_eq!(run(&sys, SYMLINK, &[c("x"), c("l")]), err(LxError::EEXIST));
        assert_eq!(run(&sys, SYMLINK, &[c(""), c("m")]), err(LxError::ENOENT));
        let buf = sandbox.buf(64);
        assert_eq!(run(&sys, READLINK, &[c("l"), buf, 64]), 11);
        assert_eq!(sandbox.user.get_bytes(buf, 11), b"some/target");
        assert_eq!(run(&sys, READLINK, &[c("l"), buf, 4]), 4);
        assert_eq!(run(&sys, READLINK, &[c("l"), buf, 0]), err(LxError::EINVAL));
        assert_eq!(
            run(&sys, READLINK, &[0, buf, int(-1)]),
            err(LxError::EINVAL)
        );
        assert_eq!(
            run(&sys, READLINK, &[c("f"), buf, 64]),
            err(LxError::EINVAL)
        );
        assert_eq!(
            run(&sys, READLINK, &[c("none"), buf, 64]),
            err(LxError::ENOENT)
        );
        assert_eq!(run(&sys, READLINK, &[c(""), buf, 64]), err(LxError::ENOENT));
        assert_eq!(run(&sys, READLINK, &[c("l"), 0, 64]), err(LxError::EFAULT));
    }

    #[test]
    fn rename_as_linux() {
        let sandbox = Sandbox::new("link-rename");
        sandbox.write("f", b"f");
        sandbox.write("g", b"g");
        sandbox.mkdir("a");
        sandbox.mkdir("a/b");
        sandbox.mkdir("e");
        sandbox.mkdir("full");
        sandbox.write("full/x", b"");
        let sys = sandbox.syscall();
        let c = |path: &str| sandbox.cstr(path);
        assert_eq!(run(&sys, RENAME, &[c("f"), c("g")]), 0);
        assert_eq!(sandbox.read("g"), b"f");
        assert_eq!(run(&sys, RENAME, &[c("g"), c("g")]), 0);
        assert_eq!(
            run(&sys, RENAME, &[c("none"), c("x")]),
            err(LxError::ENOENT)
        );
        assert_eq!(
            run(&sys, RENAME, &[c("a"), c("a/b/c")]),
            err(LxError::EINVAL)
        );
        assert_eq!(
            run(&sys, RENAME, &[c("a/b"), c("a")]),
            err(LxError::ENOTEMPTY)
        );
        assert_eq!(
            run(&sys, RENAME, &[c("e"), c("full")]),
            err(LxError::ENOTEMPTY)
        );
        assert_eq!(run(&sys, RENAME, &[c("e"), c("g")]), err(LxError::ENOTDIR));
        assert_eq!(run(&sys, RENAME, &[c("g"), c("e")]), err(LxError::EISDIR));
        assert_eq!(run(&sys, RENAME, &[c("g/"), c("h")]), err(LxError::ENOTDIR));
        assert_eq!(run(&sys, RENAME, &[c("."), c("h")]), err(LxError::EBUSY));
        assert_eq!(run(&sys, RENAME, &[c("g"), c("..")]), err(LxError::EBUSY));
        assert_eq!(run(&sys, RENAME, &[c("e/"), c("e2/")]), 0);
        assert!(sandbox.exists("e2"));
        let at_fdcwd = int(AT_FDCWD);
        sandbox.write("h", b"");
        assert_eq!(
            run(&sys, RENAMEAT2, &[at_fdcwd, c("h"), at_fdcwd, c("g"), 1]),
            err(LxError::EEXIST)
        );
        assert_eq!(
            run(&sys, RENAMEAT2, &[at_fdcwd, c("h"), at_fdcwd, c("i"), 1]),
            0
        );
        assert_eq!(
            run(&sys, RENAMEAT2, &[at_fdcwd, c("i"), at_fdcwd, c("g"), 3]),
            err(LxError::EINVAL)
        );
        assert_eq!(
            run(&sys, RENAMEAT2, &[at_fdcwd, c("i"), at_fdcwd, c("g"), 8]),
            err(LxError::EINVAL)
        );
    }

    #[test]
    fn sticky_directories_and_protected_hardlinks() {
        let sandbox = Sandbox::new("link-sticky");
        sandbox.mkdir("tmp");
        sandbox.chmod("tmp", 0o1777);
        sandbox.write("tmp/roots", b"");
        sandbox.chmod("tmp/roots", 0o644);
        let user = sandbox.syscall_as(1000, 1000);
        let c = |path: &str| sandbox.cstr(path);
        assert_eq!(run(&user, UNLINK, &[c("tmp/roots")]), err(LxError::EPERM));
        assert_eq!(
            run(&user, RENAME, &[c("tmp/roots"), c("tmp/x")]),
            err(LxError::EPERM)
        );
        assert_eq!(
            run(&user, LINK, &[c("tmp/roots"), c("tmp/mine")]),
            err(LxError::EPERM)
        );
        assert_eq!(run(&user, UNLINK, &[c("none/x")]), err(LxError::ENOENT));
        sandbox.write("tmp/theirs", b"");
        sandbox.chmod("tmp/theirs", 0o666);
        assert_eq!(run(&user, LINK, &[c("tmp/theirs"), c("tmp/mine")]), 0);
        // The new name is still root's file in a sticky directory.
        assert_eq!(run(&user, UNLINK, &[c("tmp/mine")]), err(LxError::EPERM));
    }
}
