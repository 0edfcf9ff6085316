//! `fcntl`, `dup`, `dup2`, `dup3`: descriptor flags, status flags, duplicates and record
//! locks.
//!
//! Record locks (`F_SETLK`, `F_SETLKW`, `F_GETLK` and the `F_OFD_*` forms) are checked as
//! Linux checks them (the `struct flock`, the access mode a lock type needs) and then always
//! granted: no lock table is kept, so locks taken by different processes of a container do
//! not exclude each other, and `F_GETLK` always reports the range free. That is what a lone
//! sqlite or busybox needs (their own locks never conflict with themselves); programs that
//! coordinate through locks across processes are not protected from each other.

use linux_object::fs::{FileLike, OpenFlags, Pipe, PIPE_CAPACITY};
use linux_object::{LxError, LxResult};

use crate::user::UserInOutPtr;
use crate::{SysResult, Syscall};

const F_DUPFD: u32 = 0;
const F_GETFD: u32 = 1;
const F_SETFD: u32 = 2;
const F_GETFL: u32 = 3;
const F_SETFL: u32 = 4;
const F_GETLK: u32 = 5;
const F_SETLK: u32 = 6;
const F_SETLKW: u32 = 7;
const F_OFD_GETLK: u32 = 36;
const F_OFD_SETLK: u32 = 37;
const F_OFD_SETLKW: u32 = 38;
const F_DUPFD_CLOEXEC: u32 = 1030;
const F_GETPIPE_SZ: u32 = 1032;
const F_SETPIPE_SZ: u32 = 1031;

/// `FD_CLOEXEC`.
const FD_CLOEXEC: usize = 1;

const F_RDLCK: i16 = 0;
const F_WRLCK: i16 = 1;
const F_UNLCK: i16 = 2;

/// `sizeof(struct flock)` on x86-64.
const FLOCK_SIZE: usize = 32;

/// A decoded `struct flock`.
struct Flock {
    bytes: [u8; FLOCK_SIZE],
}

impl Flock {
    fn read(ptr: UserInOutPtr<u8>) -> LxResult<Self> {
        let raw = ptr.read_bytes(FLOCK_SIZE)?;
        let mut bytes = [0; FLOCK_SIZE];
        bytes.iter_mut().zip(raw).for_each(|(to, from)| *to = from);
        Ok(Self { bytes })
    }

    fn i16_at(&self, at: usize) -> i16 {
        i16::from_le_bytes([
            self.bytes[at % FLOCK_SIZE],
            self.bytes[(at + 1) % FLOCK_SIZE],
        ])
    }

    fn i64_at(&self, at: usize) -> i64 {
        let mut raw = [0; 8];
        raw.iter_mut()
            .zip(self.bytes.iter().skip(at))
            .for_each(|(to, from)| *to = *from);
        i64::from_le_bytes(raw)
    }

    fn l_type(&self) -> i16 {
        self.i16_at(0)
    }

    fn l_pid(&self) -> i32 {
        i32::from_le_bytes([
            self.bytes[24],
            self.bytes[25],
            self.bytes[26],
            self.bytes[27],
        ])
    }

    /// Linux's `flock_to_posix_lock`: `EINVAL` for a bad `l_whence`, a start before 0, a
    /// negative length reaching before 0 or an unknown `l_type`; `EOVERFLOW` for an end
    /// past what `loff_t` holds.
    fn check(&self, file: &dyn FileLike) -> LxResult {
        let base = match self.i16_at(2) {
            0 => 0,
            1 => i64::try_from(
                file.seek(linux_object::fs::SeekFrom::Current(0))
                    .unwrap_or(0),
            )
            .map_err(|_| LxError::EOVERFLOW)?,
            2 => i64::try_from(file.metadata()?.size).map_err(|_| LxError::EOVERFLOW)?,
            _ => return Err(LxError::EINVAL),
        };
        let start = base.checked_add(self.i64_at(8)).ok_or(LxError::EOVERFLOW)?;
        if start < 0 {
            return Err(LxError::EINVAL);
        }
        let len = self.i64_at(16);
        if len > 0 && (len - 1) > i64::MAX - start {
            return Err(LxError::EOVERFLOW);
        }
        if len < 0 && start + len < 0 {
            return Err(LxError::EINVAL);
        }
        match self.l_type() {
            F_RDLCK | F_WRLCK | F_UNLCK => Ok(()),
            _ => Err(LxError::EINVAL),
        }
    }
}

impl Syscall<'_> {
    /// `dup(oldfd)`.
    pub fn sys_dup(&self, oldfd: i32) -> SysResult {
        Ok(self.process.files().dup(oldfd)? as usize)
    }

    /// `dup2(oldfd, newfd)`.
    pub fn sys_dup2(&self, oldfd: i32, newfd: i32) -> SysResult {
        Ok(self.process.files().dup2(oldfd, newfd)? as usize)
    }

    /// `dup3(oldfd, newfd, flags)`: `flags` may only be `O_CLOEXEC`.
    pub fn sys_dup3(&self, oldfd: i32, newfd: i32, flags: u32) -> SysResult {
        let flags = OpenFlags::from_bits_retain(flags);
        Ok(self.process.files().dup3(oldfd, newfd, flags)? as usize)
    }

    /// `fcntl(fd, cmd, arg)`. On an `O_PATH` descriptor only the duplicate and flag queries
    /// work (`EBADF` otherwise), as Linux. Unknown commands, and the signal-ownership,
    /// lease, notification and seal commands this kernel does not model, are `EINVAL`.
    pub fn sys_fcntl(&self, fd: i32, cmd: u32, arg: usize) -> SysResult {
        let file = self.file_raw(fd)?;
        let path_ok = matches!(cmd, F_DUPFD | F_DUPFD_CLOEXEC | F_GETFD | F_SETFD | F_GETFL);
        if file.flags().contains(OpenFlags::PATH) && !path_ok {
            return Err(LxError::EBADF);
        }
        match cmd {
            F_DUPFD | F_DUPFD_CLOEXEC => {
                let min = i32::try_from(arg).map_err(|_| LxError::EINVAL)?;
                let cloexec = cmd == F_DUPFD_CLOEXEC;
                Ok(self.process.files().dup_from(fd, min, cloexec)? as usize)
            }
            F_GETFD => Ok(usize::from(self.process.files().cloexec(fd)?)),
            F_SETFD => {
                self.process
                    .files()
                    .set_cloexec(fd, arg & FD_CLOEXEC != 0)?;
                Ok(0)
            }
            F_GETFL => Ok(file.flags().bits() as usize),
            F_SETFL => {
                let flags = OpenFlags::from_bits_retain(arg as u32);
                if flags.contains(OpenFlags::NOATIME) && !file.flags().contains(OpenFlags::NOATIME)
                {
                    let metadata = file.metadata()?;
                    if !self.process.credentials().owns(&metadata) {
                        return Err(LxError::EPERM);
                    }
                }
                file.set_flags(flags);
                Ok(0)
            }
            F_GETLK | F_OFD_GETLK => {
                let ptr = UserInOutPtr::<u8>::from(arg);
                let lock = Flock::read(ptr)?;
                if lock.l_type() != F_RDLCK && lock.l_type() != F_WRLCK {
                    return Err(LxError::EINVAL);
                }
                if cmd == F_OFD_GETLK && lock.l_pid() != 0 {
                    return Err(LxError::EINVAL);
                }
                lock.check(&*file)?;
                // Nothing else holds a lock: the range is free.
                let mut bytes = lock.bytes;
                bytes[..2].copy_from_slice(&F_UNLCK.to_le_bytes());
                ptr.write_bytes(&bytes)?;
                Ok(0)
            }
            F_SETLK | F_SETLKW | F_OFD_SETLK | F_OFD_SETLKW => {
                let lock = Flock::read(UserInOutPtr::from(arg))?;
                if matches!(cmd, F_OFD_SETLK | F_OFD_SETLKW) && lock.l_pid() != 0 {
                    return Err(LxError::EINVAL);
                }
                lock.check(&*file)?;
                let flags = file.flags();
                match lock.l_type() {
                    F_RDLCK if !flags.readable() => Err(LxError::EBADF),
                    F_WRLCK if !flags.writable() => Err(LxError::EBADF),
                    _ => Ok(0),
                }
            }
            F_GETPIPE_SZ | F_SETPIPE_SZ => {
                if file.as_any().downcast_ref::<Pipe>().is_none() {
                    return Err(LxError::EBADF);
                }
                // The capacity is fixed: asking for no more than it is granted (Linux rounds
                // up to what it has), more is refused as beyond `pipe-max-size`.
                if cmd == F_SETPIPE_SZ && arg > PIPE_CAPACITY {
                    return Err(LxError::EPERM);
                }
                Ok(PIPE_CAPACITY)
            }
            _ => Err(LxError::EINVAL),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, int, run, Sandbox};

    const DUP: u32 = 32;
    const DUP2: u32 = 33;
    const DUP3: u32 = 292;
    const FCNTL: u32 = 72;
    const OPEN: u32 = 2;

    #[test]
    fn descriptor_and_status_flags() {
        let sandbox = Sandbox::new("fcntl-flags");
        sandbox.write("f", b"");
        let sys = sandbox.syscall();
        let fd = run(&sys, OPEN, &[sandbox.cstr("f"), 0o2000002]) as usize;
        assert_eq!(run(&sys, FCNTL, &[fd, F_GETFD as usize]), 1);
        assert_eq!(run(&sys, FCNTL, &[fd, F_SETFD as usize, 0]), 0);
        assert_eq!(run(&sys, FCNTL, &[fd, F_GETFD as usize]), 0);
        assert_eq!(run(&sys, FCNTL, &[fd, F_GETFL as usize]), 0o100002);
        assert_eq!(
            run(&sys, FCNTL, &[fd, F_SETFL as usize, 0o4000 | 0o2000 | 0o1]),
            0
        );
        assert_eq!(run(&sys, FCNTL, &[fd, F_GETFL as usize]), 0o106002);
        assert_eq!(run(&sys, FCNTL, &[fd, F_DUPFD as usize, 10]), 10);
        assert_eq!(run(&sys, FCNTL, &[fd, F_DUPFD_CLOEXEC as usize, 10]), 11);
        assert_eq!(run(&sys, FCNTL, &[11, F_GETFD as usize]), 1);
        assert_eq!(
            run(&sys, FCNTL, &[fd, F_DUPFD as usize, 5000]),
            err(LxError::EINVAL)
        );
        assert_eq!(run(&sys, FCNTL, &[fd, 9999]), err(LxError::EINVAL));
        assert_eq!(
            run(&sys, FCNTL, &[99, F_GETFD as usize]),
            err(LxError::EBADF)
        );
        assert_eq!(run(&sys, DUP, &[fd]), 1);
        assert_eq!(run(&sys, DUP2, &[fd, 7]), 7);
        assert_eq!(run(&sys, DUP2, &[7, 7]), 7);
        assert_eq!(run(&sys, DUP3, &[7, 7, 0]), err(LxError::EINVAL));
        assert_eq!(run(&sys, DUP3, &[fd, 8, 0o2000000]), 8);
        assert_eq!(run(&sys, DUP3, &[fd, 9, 0o4000]), err(LxError::EINVAL));
        assert_eq!(run(&sys, DUP, &[int(-1)]), err(LxError::EBADF));
        let opath = run(&sys, OPEN, &[sandbox.cstr("f"), 0o10000000]) as usize;
        assert_eq!(run(&sys, FCNTL, &[opath, F_GETFL as usize]), 0o10000000);
        assert_eq!(
            run(&sys, FCNTL, &[opath, F_SETFL as usize, 0]),
            err(LxError::EBADF)
        );
    }

    #[test]
    fn record_locks_are_checked_and_granted() {
        let sandbox = Sandbox::new("fcntl-locks");
        sandbox.write("f", b"0123456789");
        let sys = sandbox.syscall();
        let fd = run(&sys, OPEN, &[sandbox.cstr("f"), 0]) as usize;
        let lock = |l_type: i16, whence: i16, start: i64, len: i64| {
            let mut bytes = [0u8; 32];
            bytes[0..2].copy_from_slice(&l_type.to_le_bytes());
            bytes[2..4].copy_from_slice(&whence.to_le_bytes());
            bytes[8..16].copy_from_slice(&start.to_le_bytes());
            bytes[16..24].copy_from_slice(&len.to_le_bytes());
            sandbox.user.put_bytes(&bytes)
        };
        assert_eq!(
            run(&sys, FCNTL, &[fd, F_SETLK as usize, lock(F_RDLCK, 0, 0, 0)]),
            0
        );
        assert_eq!(
            run(&sys, FCNTL, &[fd, F_SETLK as usize, lock(F_WRLCK, 0, 0, 0)]),
            err(LxError::EBADF)
        );
        assert_eq!(
            run(
                &sys,
                FCNTL,
                &[fd, F_SETLKW as usize, lock(F_RDLCK, 0, -1, 0)]
            ),
            err(LxError::EINVAL)
        );
        assert_eq!(
            run(&sys, FCNTL, &[fd, F_SETLK as usize, lock(F_RDLCK, 3, 0, 0)]),
            err(LxError::EINVAL)
        );
        assert_eq!(
            run(&sys, FCNTL, &[fd, F_SETLK as usize, lock(9, 0, 0, 0)]),
            err(LxError::EINVAL)
        );
        assert_eq!(
            run(
                &sys,
                FCNTL,
                &[fd, F_SETLK as usize, lock(F_UNLCK, 2, -5, -5)]
            ),
            0
        );
        let query = lock(F_WRLCK, 0, 0, 0);
        assert_eq!(run(&sys, FCNTL, &[fd, F_GETLK as usize, query]), 0);
        assert_eq!(sandbox.user.get_bytes(query, 2), F_UNLCK.to_le_bytes());
        assert_eq!(
            run(&sys, FCNTL, &[fd, F_GETLK as usize, lock(F_UNLCK, 0, 0, 0)]),
            err(LxError::EINVAL)
        );
        assert_eq!(
            run(&sys, FCNTL, &[fd, F_GETLK as usize, 0]),
            err(LxError::EFAULT)
        );
    }
}
