//! `memfd_create`: an anonymous file in memory, which the host makes (a shmem file, as for a
//! native memfd), so its reads, writes, truncation, mappings and seals are the host's own.

use alloc::format;
use alloc::string::String;
use linux_object::fs::{File, OpenFlags};
use linux_object::LxError;

use crate::user::UserInPtr;
use crate::{SysResult, Syscall};

/// `MFD_CLOEXEC`: the descriptor is closed by `execve`.
const MFD_CLOEXEC: u32 = 0x1;
/// `MFD_ALLOW_SEALING`: seals may be added (a memfd without it is sealed with
/// `F_SEAL_SEAL`).
const MFD_ALLOW_SEALING: u32 = 0x2;
/// `MFD_HUGETLB`: huge pages (hugetlbfs), not served.
const MFD_HUGETLB: u32 = 0x4;
/// `MFD_NOEXEC_SEAL` (6.3+): not executable, and sealed so.
const MFD_NOEXEC_SEAL: u32 = 0x8;
/// `MFD_EXEC` (6.3+): executable.
const MFD_EXEC: u32 = 0x10;
/// With `MFD_HUGETLB`, a huge page size may be encoded in these bits.
const MFD_HUGE_BITS: u32 = 0x3f << 26;
/// Longest name (`NAME_MAX` less the `memfd:` prefix).
const MFD_NAME_MAX_LEN: usize = 249;

impl Syscall<'_> {
    /// `memfd_create(name, flags)`, with the checks of Linux's in its order: flags the
    /// running kernel does not know (`MFD_EXEC` and `MFD_NOEXEC_SEAL` before 6.3) or both
    /// `MFD_EXEC` and `MFD_NOEXEC_SEAL` are `EINVAL`; an unreadable name `EFAULT`, one longer
    /// than 249 bytes `EINVAL`. `MFD_HUGETLB` is `EINVAL` (hugetlbfs is not served). The file
    /// is open for reading and writing and named `/memfd:NAME (deleted)` in `/proc/PID/fd`.
    pub fn sys_memfd_create(&self, name: UserInPtr<u8>, flags: u32) -> SysResult {
        let known = self.host.memfd_flags();
        let allowed = if flags & MFD_HUGETLB != 0 {
            known | MFD_HUGE_BITS
        } else {
            known
        };
        if flags & !allowed != 0
            || flags & (MFD_EXEC | MFD_NOEXEC_SEAL) == MFD_EXEC | MFD_NOEXEC_SEAL
        {
            return Err(LxError::EINVAL);
        }
        let name = name
            .read_cstring(MFD_NAME_MAX_LEN)
            .map_err(|error| match error {
                LxError::ENAMETOOLONG => LxError::EINVAL,
                other => other,
            })?;
        if flags & MFD_HUGETLB != 0 {
            return Err(LxError::EINVAL);
        }
        let inode = self
            .host
            .new_memfd(&name, flags & (MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL))?;
        let path = format!("/memfd:{}", String::from_utf8_lossy(&name));
        let file = File::with_path(inode, OpenFlags::RDWR | OpenFlags::LARGEFILE, path);
        let fd = self.process.files().add(file, flags & MFD_CLOEXEC != 0)?;
        Ok(fd as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, run, Sandbox};
    use linux_object::fs::FileLike;

    const READ: u32 = 0;
    const WRITE: u32 = 1;
    const LSEEK: u32 = 8;
    const FCNTL: u32 = 72;
    const FTRUNCATE: u32 = 77;
    const MEMFD_CREATE: u32 = 319;
    const F_ADD_SEALS: usize = 1033;
    const F_GET_SEALS: usize = 1034;

    #[test]
    fn memfd_create_checks_flags_and_names_as_linux() {
        let sandbox = Sandbox::new("memfd-checks");
        let sys = sandbox.syscall();
        let name = sandbox.cstr("x");
        assert_eq!(run(&sys, MEMFD_CREATE, &[name, 0x20]), err(LxError::EINVAL));
        assert_eq!(
            run(
                &sys,
                MEMFD_CREATE,
                &[name, (MFD_EXEC | MFD_NOEXEC_SEAL) as usize]
            ),
            err(LxError::EINVAL),
            "unknown before 6.3"
        );
        assert_eq!(
            run(&sys, MEMFD_CREATE, &[name, (1 << 26) as usize]),
            err(LxError::EINVAL),
            "a huge page size without MFD_HUGETLB"
        );
        assert_eq!(
            run(&sys, MEMFD_CREATE, &[name, MFD_HUGETLB as usize]),
            err(LxError::EINVAL)
        );
        assert_eq!(run(&sys, MEMFD_CREATE, &[0, 0]), err(LxError::EFAULT));
        let longest = sandbox.cstr(&"n".repeat(MFD_NAME_MAX_LEN));
        let too_long = sandbox.cstr(&"n".repeat(MFD_NAME_MAX_LEN + 1));
        assert_eq!(
            run(&sys, MEMFD_CREATE, &[too_long, 0]),
            err(LxError::EINVAL)
        );
        assert!(run(&sys, MEMFD_CREATE, &[longest, 0]) >= 0);
    }

    #[test]
    fn a_memfd_is_a_readable_writable_unlinked_file() {
        let sandbox = Sandbox::new("memfd-io");
        let sys = sandbox.syscall();
        let name = sandbox.cstr("buffer");
        let fd = run(&sys, MEMFD_CREATE, &[name, MFD_CLOEXEC as usize]);
        assert!(fd >= 0);
        let fd = fd as usize;
        assert!(sys.process.files().cloexec(fd as i32).unwrap());
        let file = sys.process.files().get(fd as i32).unwrap();
        let file = file.as_any().downcast_ref::<File>().unwrap();
        assert_eq!(file.path(), Some("/memfd:buffer"));
        assert_eq!(file.flags(), OpenFlags::RDWR | OpenFlags::LARGEFILE);
        let data = sandbox.user.put_bytes(b"in memory");
        assert_eq!(run(&sys, WRITE, &[fd, data, 9]), 9);
        assert_eq!(run(&sys, FTRUNCATE, &[fd, 2]), 0);
        assert_eq!(run(&sys, LSEEK, &[fd, 0, 0]), 0);
        let buf = sandbox.buf(16);
        assert_eq!(run(&sys, READ, &[fd, buf, 16]), 2);
        assert_eq!(sandbox.user.get_bytes(buf, 2), b"in");
        assert_eq!(file.metadata().unwrap().nlinks, 0);
        // This host keeps no seals: a file that cannot be sealed.
        assert_eq!(
            run(&sys, FCNTL, &[fd, F_GET_SEALS, 0]),
            err(LxError::EINVAL)
        );
        assert_eq!(
            run(&sys, FCNTL, &[fd, F_ADD_SEALS, 1]),
            err(LxError::EINVAL)
        );
    }
}
