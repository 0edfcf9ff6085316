//! `chmod`, `fchmod`, `fchmodat`, `fchmodat2`: changing an object's permission bits.
//!
//! As Linux's `chmod_common` and `setattr_prepare`: only the owner (or a caller with
//! `CAP_FOWNER`, here filesystem uid 0) may change the mode (`EPERM`); the set-group-ID bit is
//! silently dropped unless the caller is in the object's group or has `CAP_FSETID`; the mode
//! of a symbolic link cannot change (`EOPNOTSUPP`, Linux 6.6+). The mode argument is a
//! `umode_t`: only its low 16 bits count, and of those the permission bits (`0o7777`).

use kernel_hostfs::{FileType, PATH_MAX};
use linux_object::{LxError, LxResult};

use super::path::{AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use super::setattr::AttrTarget;
use crate::user::UserInPtr;
use crate::{SysResult, Syscall};

/// The set-user-ID bit.
pub(crate) const S_ISUID: u16 = 0o4000;
/// The set-group-ID bit.
pub(crate) const S_ISGID: u16 = 0o2000;
/// The permission bits `chmod` sets (`S_IALLUGO`).
const S_IALLUGO: u16 = 0o7777;

impl Syscall<'_> {
    /// `fchmodat2(dirfd, path, mode, flags)`: `EINVAL` for a flag other than
    /// `AT_SYMLINK_NOFOLLOW` and `AT_EMPTY_PATH` (before the path is read); with
    /// `AT_SYMLINK_NOFOLLOW`, a final symbolic link is the object, and `EOPNOTSUPP`.
    pub fn sys_fchmodat2(
        &self,
        dirfd: i32,
        path: UserInPtr<u8>,
        mode: u32,
        flags: u32,
    ) -> SysResult {
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(LxError::EINVAL);
        }
        let path = path.read_cstring(PATH_MAX - 1)?;
        let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
        let empty_path = flags & AT_EMPTY_PATH != 0;
        let object = self.resolve_object(&mut self.walker(), dirfd, &path, follow, empty_path)?;
        self.change_mode(&AttrTarget::of_object(object)?, mode)
    }

    /// `fchmodat(dirfd, path, mode)`: the x86-64 call has no flags argument; a final
    /// symbolic link is followed.
    pub fn sys_fchmodat(&self, dirfd: i32, path: UserInPtr<u8>, mode: u32) -> SysResult {
        self.sys_fchmodat2(dirfd, path, mode, 0)
    }

    /// `chmod(path, mode)`.
    pub fn sys_chmod(&self, path: UserInPtr<u8>, mode: u32) -> SysResult {
        self.sys_fchmodat2(AT_FDCWD, path, mode, 0)
    }

    /// `fchmod(fd, mode)`: `EBADF` for an `O_PATH` descriptor, as Linux.
    pub fn sys_fchmod(&self, fd: i32, mode: u32) -> SysResult {
        self.change_mode(&self.attr_target(fd)?, mode)
    }

    /// Sets `target`'s permission bits to `mode`, checked as Linux checks them.
    fn change_mode(&self, target: &AttrTarget, mode: u32) -> SysResult {
        let metadata = self.attr_metadata(target)?;
        if metadata.type_ == FileType::SymLink {
            return Err(LxError::EOPNOTSUPP);
        }
        let credentials = self.process.credentials();
        if !credentials.owns(&metadata) {
            return Err(LxError::EPERM);
        }
        // `umode_t` is 16 bits wide.
        let mut mode = (mode as u16) & S_IALLUGO;
        if !credentials.in_group(metadata.gid) && !credentials.fs_privileged() {
            mode &= !S_ISGID;
        }
        set_mode(target, mode)?;
        Ok(0)
    }
}

/// Stores `mode` on `target` (a pipe keeps nothing).
pub(crate) fn set_mode(target: &AttrTarget, mode: u16) -> LxResult {
    match target {
        AttrTarget::Inode(inode) => Ok(inode.chmod(mode)?),
        AttrTarget::Pipe(_) => Ok(()),
        AttrTarget::HostFile => Err(LxError::EPERM),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, int, run, Sandbox};
    use linux_object::fs::{OpenFlags, Pipe};
    use std::os::unix::fs::MetadataExt;

    const CHMOD: u32 = 90;
    const FCHMOD: u32 = 91;
    const FCHMODAT: u32 = 268;
    const FCHMODAT2: u32 = 452;

    fn mode_of(sandbox: &Sandbox, path: &str) -> u32 {
        std::fs::symlink_metadata(sandbox.host(path))
            .unwrap()
            .mode()
            & 0o7777
    }

    #[test]
    fn the_owner_or_root_changes_the_mode_and_nobody_else() {
        let sandbox = Sandbox::new("chmod-owner");
        sandbox.write("mine", b"");
        sandbox.chown("mine", 1000, 1000);
        sandbox.write("root", b"");
        let root = sandbox.syscall();
        let user = sandbox.syscall_as(1000, 1000);
        assert_eq!(run(&user, CHMOD, &[sandbox.cstr("mine"), 0o600]), 0);
        assert_eq!(mode_of(&sandbox, "mine"), 0o600);
        assert_eq!(
            run(&user, CHMOD, &[sandbox.cstr("root"), 0o777]),
            err(LxError::EPERM)
        );
        assert_eq!(mode_of(&sandbox, "root"), 0o644);
        // Root may, and only the low 16 bits of the register and the permission bits count.
        assert_eq!(
            run(&root, CHMOD, &[sandbox.cstr("mine"), 0x1_0000 | 0o170_751]),
            0
        );
        assert_eq!(mode_of(&sandbox, "mine"), 0o751);
        assert_eq!(
            run(&user, CHMOD, &[sandbox.cstr("none"), 0o777]),
            err(LxError::ENOENT)
        );
    }

    #[test]
    fn setgid_is_dropped_for_a_caller_outside_the_group() {
        let sandbox = Sandbox::new("chmod-sgid");
        sandbox.write("f", b"");
        sandbox.chown("f", 1000, 50);
        let user = sandbox.syscall_as(1000, 1000);
        assert_eq!(run(&user, CHMOD, &[sandbox.cstr("f"), 0o6755]), 0);
        assert_eq!(mode_of(&sandbox, "f"), 0o4755);
        let mut member = linux_object::credentials::Credentials::user(1000, 1000);
        member.groups.push(50);
        user.process.set_credentials(member);
        assert_eq!(run(&user, CHMOD, &[sandbox.cstr("f"), 0o2750]), 0);
        assert_eq!(mode_of(&sandbox, "f"), 0o2750);
    }

    #[test]
    fn symlinks_are_followed_unless_asked_not_to_then_eopnotsupp() {
        let sandbox = Sandbox::new("chmod-link");
        sandbox.write("f", b"");
        sandbox.symlink("f", "l");
        let sys = sandbox.syscall();
        let at_fdcwd = int(AT_FDCWD);
        assert_eq!(
            run(&sys, FCHMODAT, &[at_fdcwd, sandbox.cstr("l"), 0o600]),
            0
        );
        assert_eq!(mode_of(&sandbox, "f"), 0o600);
        let nofollow = AT_SYMLINK_NOFOLLOW as usize;
        assert_eq!(
            run(
                &sys,
                FCHMODAT2,
                &[at_fdcwd, sandbox.cstr("l"), 0o644, nofollow]
            ),
            err(LxError::EOPNOTSUPP)
        );
        assert_eq!(
            run(
                &sys,
                FCHMODAT2,
                &[at_fdcwd, sandbox.cstr("f"), 0o640, nofollow]
            ),
            0
        );
        assert_eq!(mode_of(&sandbox, "f"), 0o640);
        assert_eq!(
            run(
                &sys,
                FCHMODAT2,
                &[at_fdcwd, sandbox.user.unmapped(), 0, 0x2]
            ),
            err(LxError::EINVAL)
        );
    }

    #[test]
    fn fchmod_takes_a_descriptor_but_not_an_o_path_one() {
        let sandbox = Sandbox::new("fchmod");
        sandbox.write("f", b"");
        let sys = sandbox.syscall();
        let node = sys.resolve(AT_FDCWD, "f", true).unwrap();
        let file = linux_object::fs::File::with_path(
            node.inode.clone(),
            OpenFlags::empty(),
            node.path.clone(),
        );
        let fd = sys.process.files().add(file, false).unwrap() as usize;
        assert_eq!(run(&sys, FCHMOD, &[fd, 0o700]), 0);
        assert_eq!(mode_of(&sandbox, "f"), 0o700);
        let o_path = linux_object::fs::File::with_path(node.inode, OpenFlags::PATH, node.path);
        let path_fd = sys.process.files().add(o_path, false).unwrap() as usize;
        assert_eq!(run(&sys, FCHMOD, &[path_fd, 0o600]), err(LxError::EBADF));
        assert_eq!(run(&sys, FCHMOD, &[99, 0o600]), err(LxError::EBADF));
        // A pipe is the caller's own: accepted, as on Linux.
        let (reader, _writer) = Pipe::new_pair(OpenFlags::empty());
        let pipe = sys.process.files().add(reader, false).unwrap() as usize;
        assert_eq!(run(&sys, FCHMOD, &[pipe, 0o644]), 0);
    }
}
