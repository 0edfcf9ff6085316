//! `fcntl`, `dup`, `dup2`, `dup3`: descriptor flags, status flags, duplicates and record
//! locks.
//!
//! Record locks (`F_SETLK`, `F_SETLKW`, `F_GETLK` and the `F_OFD_*` forms) are checked as
//! Linux checks them (the `struct flock`: `l_whence` relative to the description's offset or
//! the file's size, `EINVAL`/`EOVERFLOW` ranges; `EBADF` when the access mode does not allow
//! the lock type), then taken in the **host kernel's own lock table** of the host inode
//! behind a container file (`vfs_lock_file`, `vfs_test_lock`): conflicts, range splitting and
//! merging, `EDEADLK` and the waits of `F_SETLKW` are Linux's own, and the locks of host
//! processes on the same file conflict with the container's both ways.
//!
//! Owners, as Linux: a classic lock belongs to the process (its descriptor table, shared by
//! its threads; a forked child is another owner) and is released when the process closes ANY
//! descriptor of the file (`close`, `dup2` over it, close-on-exec, `close_range`) and at exit
//! (the table's end); an OFD lock belongs to the open file description and goes with its
//! last reference. `F_GETLK` reports the holder in container pids: a process of the caller's
//! container by its pid, any other process (the host's, another container's) as 0, the
//! value Linux gives for a process outside the caller's pid namespace; -1 for an OFD lock.
//! `F_SETLKW` waits interruptibly: a signal ends it with `ERESTARTSYS` (restarted after a
//! `SA_RESTART` handler, `EINTR` otherwise), as Linux.
//!
//! Files without a host inode (pipes, sockets, rVisor's procfs and the other synthesized
//! files) and host objects other than regular files and directories keep no lock table:
//! their locks are checked and granted, and `F_GETLK` reports them free. The LSM hook
//! `security_file_lock` is not exported, so it is not consulted.

use kernel_hostfs::{FsError, LockOp, RecordLock};
use linux_object::fs::{File, FileLike, OpenFlags, OwnerKind, Pipe, PIPE_CAPACITY};
use linux_object::{LxError, LxResult};

use crate::user::{UserInOutPtr, UserInPtr, UserOutPtr};
use crate::{SysResult, Syscall};
use alloc::sync::Arc;

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
const F_SETOWN: u32 = 8;
const F_GETOWN: u32 = 9;
const F_SETSIG: u32 = 10;
const F_GETSIG: u32 = 11;
const F_SETOWN_EX: u32 = 15;
const F_GETOWN_EX: u32 = 16;
const F_DUPFD_CLOEXEC: u32 = 1030;
const F_ADD_SEALS: u32 = 1033;
const F_GET_SEALS: u32 = 1034;
/// `F_OWNER_TID`, `F_OWNER_PID`, `F_OWNER_PGRP` of `struct f_owner_ex`.
const F_OWNER_TID: i32 = 0;
const F_OWNER_PID: i32 = 1;
const F_OWNER_PGRP: i32 = 2;
/// The highest signal number (`_NSIG`).
const NSIG: u32 = 64;
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
    /// past what `loff_t` holds. The absolute range and the type.
    fn check(&self, file: &dyn FileLike) -> LxResult<RecordLock> {
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
        let (start, end) = match len {
            0 => (start, i64::MAX),
            1.. => (start, start + (len - 1)),
            _ => (start + len, start - 1),
        };
        match self.l_type() {
            type_ @ (F_RDLCK | F_WRLCK | F_UNLCK) => Ok(RecordLock {
                start,
                end,
                type_,
                pid: 0,
            }),
            _ => Err(LxError::EINVAL),
        }
    }

    /// Linux's `posix_lock_to_flock`: the conflicting lock `found`, its holder `pid`.
    fn report(&mut self, found: &RecordLock, pid: i32) {
        let len = if found.end == i64::MAX {
            0
        } else {
            found.end - found.start + 1
        };
        self.bytes[0..2].copy_from_slice(&found.type_.to_le_bytes());
        self.bytes[2..4].copy_from_slice(&0i16.to_le_bytes());
        self.bytes[8..16].copy_from_slice(&found.start.to_le_bytes());
        self.bytes[16..24].copy_from_slice(&len.to_le_bytes());
        self.bytes[24..28].copy_from_slice(&pid.to_le_bytes());
    }
}

impl Syscall<'_> {
    /// A record-lock operation on `file`'s inode for the caller's process (or, with `ofd`,
    /// for the description): the lock after a test, `None` where the file keeps no lock
    /// table (the request is then granted, as before locks were enforced).
    fn record_lock(
        &self,
        file: &alloc::sync::Arc<dyn FileLike>,
        op: LockOp,
        ofd: bool,
        request: &mut RecordLock,
    ) -> LxResult<Option<RecordLock>> {
        let Some(inode) = file.inode() else {
            return Ok(None);
        };
        let owner = if ofd {
            // The description's address, as File's own lock owner (its drop releases them).
            alloc::sync::Arc::as_ptr(file).cast::<()>() as usize
        } else {
            self.process.files().lock_owner()
        };
        match inode.record_lock(op, ofd, owner, request) {
            Ok(()) => Ok(Some(*request)),
            Err(FsError::NotSupported) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// The `l_pid` `F_GETLK` reports for a lock its holder's host process `host_tgid` took:
    /// its container pid, 0 for a process outside the container (Linux's value for one
    /// outside the caller's pid namespace), -1 (an OFD lock) and remote owners as they are.
    fn lock_holder(&self, host_tgid: i32) -> i32 {
        if host_tgid <= 0 {
            return host_tgid;
        }
        self.host
            .container_pid_of_host(host_tgid)
            .and_then(|pid| i32::try_from(pid).ok())
            .unwrap_or(0)
    }

    /// Makes `kind` `id` the owner of `file` (`F_SETOWN`, `F_SETOWN_EX`): `ESRCH` if no
    /// thread, process or group of the container has that id (0 clears the owner).
    fn set_owner(&self, file: &Arc<dyn FileLike>, kind: OwnerKind, id: u32) -> SysResult {
        let container = self.container()?;
        if id != 0 {
            let exists = match kind {
                OwnerKind::Group => !container.group_members(id).is_empty(),
                OwnerKind::Thread | OwnerKind::Process => container.process(id).is_some(),
            };
            if !exists {
                return Err(LxError::ESRCH);
            }
        }
        container.file_owners().update(file, |owner| {
            owner.kind = kind;
            owner.id = id;
        });
        Ok(0)
    }

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
    /// work (`EBADF` otherwise), as Linux. The owner and signal of signal-driven I/O
    /// (`F_SETOWN`, `F_SETOWN_EX`, `F_SETSIG` and their `GET`s) are kept per description
    /// (no `SIGIO` is sent). The seals of a memfd or other host shmem file (`F_ADD_SEALS`,
    /// `F_GET_SEALS`) are the host's. Unknown commands, and the lease and notification
    /// commands this kernel does not model, are `EINVAL`.
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
                let mut lock = Flock::read(ptr)?;
                if lock.l_type() != F_RDLCK && lock.l_type() != F_WRLCK {
                    return Err(LxError::EINVAL);
                }
                let mut request = lock.check(&*file)?;
                let ofd = cmd == F_OFD_GETLK;
                if ofd && lock.l_pid() != 0 {
                    return Err(LxError::EINVAL);
                }
                let found = self.record_lock(&file, LockOp::Test, ofd, &mut request)?;
                match found {
                    Some(found) if found.type_ != F_UNLCK => {
                        let pid = self.lock_holder(found.pid);
                        lock.report(&found, pid);
                    }
                    // The range is free (or the file keeps no lock table).
                    _ => lock.bytes[0..2].copy_from_slice(&F_UNLCK.to_le_bytes()),
                }
                ptr.write_bytes(&lock.bytes)?;
                Ok(0)
            }
            F_SETLK | F_SETLKW | F_OFD_SETLK | F_OFD_SETLKW => {
                let lock = Flock::read(UserInOutPtr::from(arg))?;
                let mut request = lock.check(&*file)?;
                let flags = file.flags();
                match lock.l_type() {
                    F_RDLCK if !flags.readable() => return Err(LxError::EBADF),
                    F_WRLCK if !flags.writable() => return Err(LxError::EBADF),
                    _ => {}
                }
                let ofd = matches!(cmd, F_OFD_SETLK | F_OFD_SETLKW);
                if ofd && lock.l_pid() != 0 {
                    return Err(LxError::EINVAL);
                }
                let op = if matches!(cmd, F_SETLKW | F_OFD_SETLKW) {
                    LockOp::Wait
                } else {
                    LockOp::Set
                };
                self.record_lock(&file, op, ofd, &mut request)?;
                // Linux's close/fcntl race: a thread closed `fd` while the lock was taken,
                // so the close's release came first; the lock is undone, and `EBADF`.
                if request.type_ != F_UNLCK && !ofd {
                    let same = self.process.files().get(fd).is_ok_and(|now| {
                        alloc::sync::Arc::as_ptr(&now).cast::<()>()
                            == alloc::sync::Arc::as_ptr(&file).cast::<()>()
                    });
                    if !same {
                        request.type_ = F_UNLCK;
                        let _ = self.record_lock(&file, LockOp::Set, false, &mut request);
                        return Err(LxError::EBADF);
                    }
                }
                Ok(0)
            }
            F_SETOWN => {
                // A negative id names a process group, as Linux's `f_setown`.
                let id = arg as i32;
                let (kind, id) = if id < 0 {
                    (OwnerKind::Group, id.unsigned_abs())
                } else {
                    (OwnerKind::Process, id.unsigned_abs())
                };
                self.set_owner(&file, kind, id)
            }
            F_GETOWN => {
                let owner = self.container()?.file_owners().get(&file);
                let id = i32::try_from(owner.id).unwrap_or(0);
                let id = if owner.kind == OwnerKind::Group {
                    -id
                } else {
                    id
                };
                Ok(id as isize as usize)
            }
            F_SETOWN_EX => {
                // `struct f_owner_ex { int type; pid_t pid; }`.
                let bytes = UserInPtr::<u8>::from(arg).read_bytes(8)?;
                let field = |at: usize| {
                    bytes
                        .get(at..at + 4)
                        .and_then(|b| b.try_into().ok())
                        .map(i32::from_ne_bytes)
                        .ok_or(LxError::EFAULT)
                };
                let raw = [field(0)?, field(4)?];
                let kind = match raw[0] {
                    F_OWNER_TID => OwnerKind::Thread,
                    F_OWNER_PID => OwnerKind::Process,
                    F_OWNER_PGRP => OwnerKind::Group,
                    _ => return Err(LxError::EINVAL),
                };
                let id = u32::try_from(raw[1]).map_err(|_| LxError::EINVAL)?;
                self.set_owner(&file, kind, id)
            }
            F_GETOWN_EX => {
                let owner = self.container()?.file_owners().get(&file);
                let kind = match owner.kind {
                    OwnerKind::Thread => F_OWNER_TID,
                    OwnerKind::Process => F_OWNER_PID,
                    OwnerKind::Group => F_OWNER_PGRP,
                };
                let id = i32::try_from(owner.id).unwrap_or(0);
                let mut bytes = [0u8; 8];
                bytes[..4].copy_from_slice(&kind.to_ne_bytes());
                bytes[4..].copy_from_slice(&id.to_ne_bytes());
                UserOutPtr::<u8>::from(arg).write_bytes(&bytes)?;
                Ok(0)
            }
            F_SETSIG => {
                let signal = u32::try_from(arg)
                    .ok()
                    .filter(|s| *s <= NSIG)
                    .ok_or(LxError::EINVAL)?;
                self.container()?
                    .file_owners()
                    .update(&file, |owner| owner.signal = signal);
                Ok(0)
            }
            F_GETSIG => Ok(self.container()?.file_owners().get(&file).signal as usize),
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
            F_ADD_SEALS | F_GET_SEALS => {
                // As Linux's `memfd_fcntl`: the seal bits are the argument's low 32 bits;
                // adding needs a description open for writing (`EPERM`) before anything
                // else; a file the host cannot seal is `EINVAL`.
                let add = (cmd == F_ADD_SEALS).then_some(arg as u32);
                if add.is_some() && !file.flags().writable() {
                    return Err(LxError::EPERM);
                }
                let inode = file
                    .as_any()
                    .downcast_ref::<File>()
                    .and_then(File::inode)
                    .ok_or(LxError::EINVAL)?;
                Ok(self.host.seals(&inode, add)? as usize)
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
