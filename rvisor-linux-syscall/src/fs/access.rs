//! `access`, `faccessat`, `faccessat2`: may the caller read, write or execute a file?

use kernel_hostfs::PATH_MAX;
use linux_object::credentials::Access;
use linux_object::LxError;

use super::path::{Walker, AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use crate::user::UserInPtr;
use crate::{SysResult, Syscall};

impl Syscall<'_> {
    /// `faccessat2(dirfd, path, mode, flags)`: `EINVAL` for a mode beyond `R_OK | W_OK |
    /// X_OK` or an unknown flag (before the path is read). The check — the walk included —
    /// uses the real user and group ids unless `AT_EACCESS`, as Linux.
    pub fn sys_faccessat2(
        &self,
        dirfd: i32,
        path: UserInPtr<u8>,
        mode: u32,
        flags: u32,
    ) -> SysResult {
        if mode & !0o7 != 0 {
            return Err(LxError::EINVAL);
        }
        if flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(LxError::EINVAL);
        }
        let credentials = self.process.credentials();
        let credentials = if flags & AT_EACCESS != 0 {
            credentials
        } else {
            credentials.for_access()
        };
        path.with_cstring(PATH_MAX - 1, |path| {
            let mut walker = Walker::new(
                self.process.root(),
                self.process.mounts().snapshot(),
                credentials,
            );
            let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
            let empty_path = flags & AT_EMPTY_PATH != 0;
            let metadata = self.object_metadata(&mut walker, dirfd, path, follow, empty_path)?;
            if mode == 0 {
                return Ok(0);
            }
            walker
                .credentials()
                .permission(&metadata, Access::from_bits_truncate(mode))?;
            Ok(0)
        })
    }

    /// `faccessat(dirfd, path, mode)`: `faccessat2` without flags.
    pub fn sys_faccessat(&self, dirfd: i32, path: UserInPtr<u8>, mode: u32) -> SysResult {
        self.sys_faccessat2(dirfd, path, mode, 0)
    }

    /// `access(path, mode)`.
    pub fn sys_access(&self, path: UserInPtr<u8>, mode: u32) -> SysResult {
        self.sys_faccessat2(AT_FDCWD, path, mode, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, int, run, Sandbox};
    use linux_object::credentials::Credentials;

    const ACCESS: u32 = 21;
    const FACCESSAT2: u32 = 439;

    #[test]
    fn access_checks_the_real_ids() {
        let sandbox = Sandbox::new("access");
        sandbox.write("data", b"");
        sandbox.chmod("data", 0o640);
        sandbox.write("script", b"");
        sandbox.chmod("script", 0o700);
        sandbox.symlink("nowhere", "dangling");
        let c = |path: &str| sandbox.cstr(path);
        let root = sandbox.syscall();
        assert_eq!(run(&root, ACCESS, &[c("data"), 6]), 0);
        assert_eq!(run(&root, ACCESS, &[c("data"), 1]), err(LxError::EACCES));
        assert_eq!(run(&root, ACCESS, &[c("script"), 1]), 0);
        assert_eq!(run(&root, ACCESS, &[c("none"), 0]), err(LxError::ENOENT));
        assert_eq!(run(&root, ACCESS, &[c("data"), 8]), err(LxError::EINVAL));
        let at_fdcwd = int(AT_FDCWD);
        assert_eq!(
            run(&root, FACCESSAT2, &[at_fdcwd, c("dangling"), 0, 0]),
            err(LxError::ENOENT)
        );
        assert_eq!(
            run(&root, FACCESSAT2, &[at_fdcwd, c("dangling"), 0, 0x100]),
            0
        );
        assert_eq!(
            run(&root, FACCESSAT2, &[at_fdcwd, 0, 0, 0x1]),
            err(LxError::EINVAL)
        );
        assert_eq!(run(&root, FACCESSAT2, &[at_fdcwd, c(""), 4, 0x1000]), 0);
        let user = sandbox.syscall_as(1000, 1000);
        assert_eq!(run(&user, ACCESS, &[c("data"), 4]), err(LxError::EACCES));
        assert_eq!(run(&user, ACCESS, &[c("data"), 0]), 0);
        // Effective root, real user: access answers for the user unless AT_EACCESS.
        let mut setuid = Credentials::user(1000, 1000);
        setuid.euid = 0;
        setuid.fsuid = 0;
        user.process.set_credentials(setuid);
        assert_eq!(run(&user, ACCESS, &[c("data"), 4]), err(LxError::EACCES));
        assert_eq!(run(&user, FACCESSAT2, &[at_fdcwd, c("data"), 4, 0x200]), 0);
    }
}
