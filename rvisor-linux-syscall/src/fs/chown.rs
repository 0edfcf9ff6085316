//! `chown`, `fchown`, `lchown`, `fchownat`: changing an object's owner and group.
//!
//! As Linux's `chown_common` and `setattr_prepare`:
//!
//! - an id of `-1` leaves that id unchanged;
//! - changing the owner needs `CAP_CHOWN` (here filesystem uid 0), except "changing" it to
//!   what it is by the owner (`EPERM`);
//! - changing the group needs `CAP_CHOWN`, or the caller owns the object and the new group
//!   is its current one or one of the caller's groups (`EPERM`);
//! - on anything but a directory, the set-user-ID bit is cleared, and so is the
//!   set-group-ID bit if group-execute is set or the caller is outside the object's group
//!   without `CAP_FSETID` — even by root, and even when neither id changes; clearing them
//!   is a mode change, which only the owner or `CAP_FOWNER` may make (`EPERM`).

use kernel_hostfs::{FileType, PATH_MAX};
use linux_object::LxError;

use super::chmod::{set_mode, S_ISGID, S_ISUID};
use super::path::{AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use super::setattr::AttrTarget;
use crate::user::UserInPtr;
use crate::{SysResult, Syscall};

/// Group execute permission.
const S_IXGRP: u16 = 0o010;

/// An id argument: `-1` (as `uid_t`) leaves the id unchanged.
fn id_change(id: u32) -> Option<u32> {
    (id != u32::MAX).then_some(id)
}

impl Syscall<'_> {
    /// `fchownat(dirfd, path, owner, group, flags)`: `EINVAL` for a flag other than
    /// `AT_SYMLINK_NOFOLLOW` and `AT_EMPTY_PATH`, before the path is read.
    pub fn sys_fchownat(
        &self,
        dirfd: i32,
        path: UserInPtr<u8>,
        owner: u32,
        group: u32,
        flags: u32,
    ) -> SysResult {
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(LxError::EINVAL);
        }
        let path = path.read_cstring(PATH_MAX - 1)?;
        let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
        let empty_path = flags & AT_EMPTY_PATH != 0;
        let object = self.resolve_object(&mut self.walker(), dirfd, &path, follow, empty_path)?;
        self.change_owner(&AttrTarget::of_object(object)?, owner, group)
    }

    /// `chown(path, owner, group)`: a final symbolic link is followed.
    pub fn sys_chown(&self, path: UserInPtr<u8>, owner: u32, group: u32) -> SysResult {
        self.sys_fchownat(AT_FDCWD, path, owner, group, 0)
    }

    /// `lchown(path, owner, group)`: a final symbolic link is changed itself.
    pub fn sys_lchown(&self, path: UserInPtr<u8>, owner: u32, group: u32) -> SysResult {
        self.sys_fchownat(AT_FDCWD, path, owner, group, AT_SYMLINK_NOFOLLOW)
    }

    /// `fchown(fd, owner, group)`: `EBADF` for an `O_PATH` descriptor, as Linux.
    pub fn sys_fchown(&self, fd: i32, owner: u32, group: u32) -> SysResult {
        self.change_owner(&self.attr_target(fd)?, owner, group)
    }

    /// Changes `target`'s owner and group, checked as Linux checks them.
    fn change_owner(&self, target: &AttrTarget, owner: u32, group: u32) -> SysResult {
        let (uid, gid) = (id_change(owner), id_change(group));
        let metadata = self.attr_metadata(target)?;
        let credentials = self.process.credentials();
        let privileged = credentials.fs_privileged();
        let is_owner = credentials.fsuid == metadata.uid;
        // What `chown_common` asks `notify_change` to clear.
        let mut cleared = 0;
        if metadata.type_ != FileType::Dir {
            cleared |= metadata.mode & S_ISUID;
            let in_group = credentials.in_group(metadata.gid) || privileged;
            if metadata.mode & S_ISGID != 0 && (metadata.mode & S_IXGRP != 0 || !in_group) {
                cleared |= S_ISGID;
            }
        }
        // `setattr_prepare`: owner, then group, then the mode change.
        if uid.is_some_and(|uid| !(privileged || (is_owner && uid == metadata.uid))) {
            return Err(LxError::EPERM);
        }
        let group_ok = |gid: u32| {
            privileged || (is_owner && (gid == metadata.gid || credentials.in_group(gid)))
        };
        if gid.is_some_and(|gid| !group_ok(gid)) {
            return Err(LxError::EPERM);
        }
        if cleared != 0 && !credentials.owns(&metadata) {
            return Err(LxError::EPERM);
        }
        if let AttrTarget::Inode(inode) = target {
            inode.chown(uid, gid)?;
        }
        if cleared != 0 {
            let mut mode = metadata.mode & !cleared;
            if !(credentials.in_group(gid.unwrap_or(metadata.gid)) || privileged) {
                mode &= !S_ISGID;
            }
            set_mode(target, mode)?;
        }
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, int, run, Sandbox};
    use linux_object::credentials::Credentials;
    use std::os::unix::fs::MetadataExt;

    const CHOWN: u32 = 92;
    const FCHOWN: u32 = 93;
    const LCHOWN: u32 = 94;
    const FCHOWNAT: u32 = 260;
    const UNCHANGED: usize = u32::MAX as usize;

    fn owner_of(sandbox: &Sandbox, path: &str) -> (u32, u32, u32) {
        let metadata = std::fs::symlink_metadata(sandbox.host(path)).unwrap();
        (metadata.uid(), metadata.gid(), metadata.mode() & 0o7777)
    }

    #[test]
    fn root_gives_files_away_and_setuid_bits_go() {
        let sandbox = Sandbox::new("chown-root");
        sandbox.write("f", b"");
        sandbox.chmod("f", 0o6755);
        sandbox.mkdir("d");
        sandbox.chmod("d", 0o2775);
        let root = sandbox.syscall();
        assert_eq!(run(&root, CHOWN, &[sandbox.cstr("f"), 1000, 100]), 0);
        assert_eq!(owner_of(&sandbox, "f"), (1000, 100, 0o755));
        assert_eq!(run(&root, CHOWN, &[sandbox.cstr("d"), 1000, UNCHANGED]), 0);
        assert_eq!(
            owner_of(&sandbox, "d"),
            (1000, 0, 0o2775),
            "directories keep them"
        );
        // Neither id changing still clears the bits.
        sandbox.chmod("f", 0o4711);
        assert_eq!(
            run(&root, CHOWN, &[sandbox.cstr("f"), UNCHANGED, UNCHANGED]),
            0
        );
        assert_eq!(owner_of(&sandbox, "f"), (1000, 100, 0o711));
    }

    #[test]
    fn an_owner_may_only_change_the_group_to_one_of_its_own() {
        let sandbox = Sandbox::new("chown-user");
        sandbox.write("f", b"");
        sandbox.chown("f", 1000, 1000);
        sandbox.chmod("f", 0o2755);
        let user = sandbox.syscall_as(1000, 1000);
        let mut credentials = Credentials::user(1000, 1000);
        credentials.groups.push(50);
        user.process.set_credentials(credentials);
        let f = sandbox.cstr("f");
        assert_eq!(run(&user, CHOWN, &[f, 0, UNCHANGED]), err(LxError::EPERM));
        assert_eq!(run(&user, CHOWN, &[f, UNCHANGED, 60]), err(LxError::EPERM));
        assert_eq!(
            owner_of(&sandbox, "f"),
            (1000, 1000, 0o2755),
            "nothing changed"
        );
        // Its own uid is fine, a supplementary group too; group-execute makes setgid go.
        assert_eq!(run(&user, CHOWN, &[f, 1000, 50]), 0);
        assert_eq!(owner_of(&sandbox, "f"), (1000, 50, 0o755));
    }

    #[test]
    fn a_stranger_may_not_even_clear_a_setuid_bit() {
        let sandbox = Sandbox::new("chown-stranger");
        sandbox.write("plain", b"");
        sandbox.write("suid", b"");
        sandbox.chmod("suid", 0o4755);
        let user = sandbox.syscall_as(1000, 1000);
        let args = |path: &str| [sandbox.cstr(path), UNCHANGED, UNCHANGED];
        assert_eq!(run(&user, CHOWN, &args("plain")), 0);
        assert_eq!(run(&user, CHOWN, &args("suid")), err(LxError::EPERM));
        assert_eq!(owner_of(&sandbox, "suid"), (0, 0, 0o4755));
    }

    #[test]
    fn lchown_fchownat_and_fchown() {
        let sandbox = Sandbox::new("chown-variants");
        sandbox.write("f", b"");
        sandbox.symlink("f", "l");
        let sys = sandbox.syscall();
        assert_eq!(run(&sys, LCHOWN, &[sandbox.cstr("l"), 7, 8]), 0);
        assert_eq!(owner_of(&sandbox, "l").0, 7);
        assert_eq!(owner_of(&sandbox, "f").0, 0, "the target is untouched");
        let at_fdcwd = int(AT_FDCWD);
        assert_eq!(
            run(&sys, FCHOWNAT, &[at_fdcwd, sandbox.cstr("l"), 9, 9, 0]),
            0
        );
        assert_eq!(owner_of(&sandbox, "f").0, 9);
        assert_eq!(
            run(
                &sys,
                FCHOWNAT,
                &[at_fdcwd, sandbox.user.unmapped(), 9, 9, 0x1]
            ),
            err(LxError::EINVAL)
        );
        let node = sys.resolve(AT_FDCWD, "f", true).unwrap();
        let file = linux_object::fs::File::with_path(node.inode, Default::default(), node.path);
        let fd = sys.process.files().add(file, false).unwrap() as usize;
        assert_eq!(run(&sys, FCHOWN, &[fd, 11, UNCHANGED]), 0);
        assert_eq!(owner_of(&sandbox, "f").0, 11);
        assert_eq!(run(&sys, FCHOWN, &[55, 11, 11]), err(LxError::EBADF));
        let empty = int(AT_EMPTY_PATH as i32);
        assert_eq!(
            run(&sys, FCHOWNAT, &[fd, sandbox.cstr(""), 12, 12, empty]),
            0
        );
        assert_eq!(owner_of(&sandbox, "f"), (12, 12, 0o644));
    }
}
