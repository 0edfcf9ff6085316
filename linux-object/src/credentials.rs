//! [`Credentials`]: whom a contained process acts as, and the permission check Linux makes
//! with them on a filesystem object ([`Credentials::permission`], Linux's
//! `generic_permission`).
//!
//! Capabilities are not modelled one by one: a process whose filesystem uid is 0 has the
//! filesystem capabilities (`CAP_DAC_OVERRIDE`, `CAP_DAC_READ_SEARCH`, `CAP_FOWNER`), as a
//! root process does on Linux, where changing the fsuid away from 0 drops them.
//!
//! ```
//! use kernel_hostfs::{FileType, Metadata, Timespec};
//! use linux_object::credentials::{Access, Credentials};
//! use linux_object::LxError;
//!
//! let file = Metadata {
//!     dev: 0, inode: 1, size: 0, blk_size: 4096, blocks: 0, type_: FileType::File,
//!     mode: 0o640, nlinks: 1, uid: 1000, gid: 100, rdev: 0,
//!     atime: Timespec::default(), mtime: Timespec::default(), ctime: Timespec::default(),
//! };
//! let owner = Credentials::user(1000, 1000);
//! let group_member = Credentials::user(1001, 100);
//! let other = Credentials::user(1002, 1002);
//! assert_eq!(owner.permission(&file, Access::READ | Access::WRITE), Ok(()));
//! assert_eq!(group_member.permission(&file, Access::WRITE), Err(LxError::EACCES));
//! assert_eq!(other.permission(&file, Access::READ), Err(LxError::EACCES));
//! // Root reads and writes anything, but executes only what some x bit allows.
//! assert_eq!(Credentials::default().permission(&file, Access::WRITE), Ok(()));
//! assert_eq!(Credentials::default().permission(&file, Access::EXEC), Err(LxError::EACCES));
//! ```

use crate::error::{LxError, LxResult};
use alloc::vec::Vec;
use bitflags::bitflags;
use kernel_hostfs::{FileType, Metadata};

bitflags! {
    /// What a permission check asks for (`MAY_EXEC`, `MAY_WRITE`, `MAY_READ`: the values of
    /// `access(2)`'s `X_OK`, `W_OK`, `R_OK`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Access: u32 {
        /// Execute a file, search a directory.
        const EXEC = 1;
        /// Write.
        const WRITE = 2;
        /// Read.
        const READ = 4;
    }
}

/// A process's user and group ids, as Linux's `struct cred` keeps them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// Real user id.
    pub uid: u32,
    /// Effective user id.
    pub euid: u32,
    /// Saved set-user-id.
    pub suid: u32,
    /// Filesystem user id: whom file access is checked for, and who owns new files.
    pub fsuid: u32,
    /// Real group id.
    pub gid: u32,
    /// Effective group id.
    pub egid: u32,
    /// Saved set-group-id.
    pub sgid: u32,
    /// Filesystem group id.
    pub fsgid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
}

impl Credentials {
    /// Every user id `uid` and every group id `gid`, no supplementary group.
    pub fn user(uid: u32, gid: u32) -> Self {
        Self {
            uid,
            euid: uid,
            suid: uid,
            fsuid: uid,
            gid,
            egid: gid,
            sgid: gid,
            fsgid: gid,
            groups: Vec::new(),
        }
    }

    /// Whether the filesystem capabilities apply (fsuid 0, see the module documentation).
    pub fn fs_privileged(&self) -> bool {
        self.fsuid == 0
    }

    /// Whether `gid` is the filesystem group or a supplementary group (`in_group_p`).
    pub fn in_group(&self, gid: u32) -> bool {
        self.fsgid == gid || self.groups.contains(&gid)
    }

    /// Whether the caller owns the object or may act as its owner (`inode_owner_or_capable`:
    /// fsuid is the owner, or `CAP_FOWNER`).
    pub fn owns(&self, metadata: &Metadata) -> bool {
        self.fsuid == metadata.uid || self.fs_privileged()
    }

    /// The credentials `access`/`faccessat` check with: the real ids in place of the
    /// filesystem ones (without `AT_EACCESS`). A real uid 0 keeps the root powers, another
    /// loses them, as Linux's `access_override_creds`.
    pub fn for_access(&self) -> Self {
        Self {
            fsuid: self.uid,
            fsgid: self.gid,
            ..self.clone()
        }
    }

    /// Linux's `generic_permission`: `EACCES` unless the owner, group or other bits (the first
    /// class the caller is in) grant all of `access`. Root may read and write anything and
    /// search any directory, but execute a file only if some execute bit is set.
    pub fn permission(&self, metadata: &Metadata, access: Access) -> LxResult {
        let mode = u32::from(metadata.mode);
        let class = if self.fsuid == metadata.uid {
            mode >> 6
        } else if self.in_group(metadata.gid) {
            mode >> 3
        } else {
            mode
        };
        if access.bits() & !class & 0o7 == 0 {
            return Ok(());
        }
        if self.fs_privileged() {
            let executable = metadata.type_ == FileType::Dir || mode & 0o111 != 0;
            if !access.contains(Access::EXEC) || executable {
                return Ok(());
            }
        }
        Err(LxError::EACCES)
    }

    /// The ids the ELF loader puts in the auxiliary vector.
    pub fn aux(&self) -> crate::elf::Credentials {
        crate::elf::Credentials {
            uid: self.uid,
            euid: self.euid,
            gid: self.gid,
            egid: self.egid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel_hostfs::Timespec;

    fn object(type_: FileType, mode: u16, uid: u32, gid: u32) -> Metadata {
        Metadata {
            dev: 0,
            inode: 1,
            size: 0,
            blk_size: 4096,
            blocks: 0,
            type_,
            mode,
            nlinks: 1,
            uid,
            gid,
            rdev: 0,
            atime: Timespec::default(),
            mtime: Timespec::default(),
            ctime: Timespec::default(),
        }
    }

    #[test]
    fn the_first_matching_class_decides_even_if_a_later_one_would_allow() {
        // Owner bits ---, other bits rwx: the owner is refused (Linux does not fall through).
        let file = object(FileType::File, 0o007, 1000, 1000);
        let owner = Credentials::user(1000, 5);
        assert_eq!(owner.permission(&file, Access::READ), Err(LxError::EACCES));
        let stranger = Credentials::user(7, 7);
        assert_eq!(stranger.permission(&file, Access::READ), Ok(()));
    }

    #[test]
    fn supplementary_groups_count() {
        let file = object(FileType::File, 0o070, 0, 50);
        let mut member = Credentials::user(1000, 1000);
        assert_eq!(member.permission(&file, Access::READ), Err(LxError::EACCES));
        member.groups.push(50);
        assert_eq!(member.permission(&file, Access::READ), Ok(()));
    }

    #[test]
    fn root_searches_any_directory_but_executes_only_executables() {
        let root = Credentials::default();
        let dir = object(FileType::Dir, 0o000, 1000, 1000);
        assert_eq!(root.permission(&dir, Access::EXEC | Access::WRITE), Ok(()));
        let script = object(FileType::File, 0o001, 1000, 1000);
        assert_eq!(root.permission(&script, Access::EXEC), Ok(()));
        let data = object(FileType::File, 0o666, 1000, 1000);
        assert_eq!(root.permission(&data, Access::EXEC), Err(LxError::EACCES));
    }

    #[test]
    fn access_uses_the_real_ids() {
        let mut setuid_root = Credentials::user(1000, 1000);
        setuid_root.euid = 0;
        setuid_root.fsuid = 0;
        assert!(setuid_root.fs_privileged());
        assert!(!setuid_root.for_access().fs_privileged());
        assert_eq!(setuid_root.aux().euid, 0);
    }
}
