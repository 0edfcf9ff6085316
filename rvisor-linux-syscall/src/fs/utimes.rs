//! `utimensat`, `utimes`, `futimesat`, `utime`: setting an object's access and modification
//! times (its change time follows, as always).
//!
//! As Linux's `vfs_utimes` and `notify_change`: setting both times to now (a null `times`,
//! or `UTIME_NOW` twice) is allowed to the owner, to `CAP_FOWNER` (here filesystem uid 0), or
//! to whoever may write the object (`EACCES` otherwise); any other change needs ownership or
//! `CAP_FOWNER` (`EPERM`). `UTIME_OMIT` twice does nothing and checks nothing, not even the
//! path. A null path with a descriptor (`dirfd` other than `AT_FDCWD`) acts on the
//! descriptor, as glibc's `futimens` asks.

use kernel_hostfs::{TimeUpdate, Timespec, PATH_MAX};
use linux_object::credentials::Access;
use linux_object::{LxError, LxResult};

use super::path::{AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use super::setattr::AttrTarget;
use crate::user::UserInPtr;
use crate::{SysResult, Syscall};

/// `tv_nsec` meaning "now".
const UTIME_NOW: i64 = (1 << 30) - 1;
/// `tv_nsec` meaning "leave it".
const UTIME_OMIT: i64 = (1 << 30) - 2;
/// Nanoseconds in a second.
const NSEC_PER_SEC: i64 = 1_000_000_000;
/// Microseconds in a second.
const USEC_PER_SEC: i64 = 1_000_000;

/// Two `(seconds, nanoseconds)` pairs as the user gave them: access, then modification.
type TimePair = [(i64, i64); 2];

/// Reads two `struct timespec` or `struct timeval` (two longs each).
fn read_pairs(times: UserInPtr<i64>) -> LxResult<TimePair> {
    let raw = times.read_array(4)?;
    let at = |index: usize| raw.get(index).copied().unwrap_or_default();
    Ok([(at(0), at(1)), (at(2), at(3))])
}

/// One time as the filesystem takes it; `EINVAL` for nanoseconds out of range.
fn time_update((sec, nsec): (i64, i64)) -> LxResult<TimeUpdate> {
    match nsec {
        UTIME_NOW => Ok(TimeUpdate::Now),
        UTIME_OMIT => Ok(TimeUpdate::Keep),
        0..NSEC_PER_SEC => Ok(TimeUpdate::At(Timespec { sec, nsec })),
        _ => Err(LxError::EINVAL),
    }
}

impl Syscall<'_> {
    /// `utimensat(dirfd, path, times, flags)`. The times are read first (`EFAULT`); two
    /// `UTIME_OMIT` return 0 at once. A null path with `dirfd != AT_FDCWD` is the descriptor
    /// itself (`EINVAL` for any flag, `EBADF` for an `O_PATH` one); otherwise `EINVAL` for a
    /// flag other than `AT_SYMLINK_NOFOLLOW` and `AT_EMPTY_PATH`, then the walk, then
    /// `EINVAL` for nanoseconds out of range, then the permission.
    pub fn sys_utimensat(
        &self,
        dirfd: i32,
        path: UserInPtr<u8>,
        times: UserInPtr<i64>,
        flags: u32,
    ) -> SysResult {
        let pairs = if times.is_null() {
            None
        } else {
            let pairs = read_pairs(times)?;
            if pairs.iter().all(|&(_, nsec)| nsec == UTIME_OMIT) {
                return Ok(0);
            }
            Some(pairs)
        };
        self.utimes_at(dirfd, path, pairs, flags)
    }

    /// `futimesat(dirfd, path, times)`: `times` is two `struct timeval`, read first, then
    /// `EINVAL` for microseconds outside `0..1_000_000`.
    pub fn sys_futimesat(
        &self,
        dirfd: i32,
        path: UserInPtr<u8>,
        times: UserInPtr<i64>,
    ) -> SysResult {
        let pairs = if times.is_null() {
            None
        } else {
            let pairs = read_pairs(times)?;
            if pairs
                .iter()
                .any(|&(_, usec)| !(0..USEC_PER_SEC).contains(&usec))
            {
                return Err(LxError::EINVAL);
            }
            Some(pairs.map(|(sec, usec)| (sec, usec * 1000)))
        };
        self.utimes_at(dirfd, path, pairs, 0)
    }

    /// `utimes(path, times)`: `futimesat` from the working directory.
    pub fn sys_utimes(&self, path: UserInPtr<u8>, times: UserInPtr<i64>) -> SysResult {
        self.sys_futimesat(AT_FDCWD, path, times)
    }

    /// `utime(path, times)`: `times` is a `struct utimbuf` (access and modification
    /// seconds).
    pub fn sys_utime(&self, path: UserInPtr<u8>, times: UserInPtr<i64>) -> SysResult {
        let pairs = if times.is_null() {
            None
        } else {
            let raw = times.read_array(2)?;
            let at = |index: usize| raw.get(index).copied().unwrap_or_default();
            Some([(at(0), 0), (at(1), 0)])
        };
        self.utimes_at(AT_FDCWD, path, pairs, 0)
    }

    /// Linux's `do_utimes`: the descriptor form for a null path and a real `dirfd`, else the
    /// path form.
    fn utimes_at(
        &self,
        dirfd: i32,
        path: UserInPtr<u8>,
        pairs: Option<TimePair>,
        flags: u32,
    ) -> SysResult {
        if path.is_null() && dirfd != AT_FDCWD {
            if flags != 0 {
                return Err(LxError::EINVAL);
            }
            return self.change_times(&self.attr_target(dirfd)?, pairs);
        }
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(LxError::EINVAL);
        }
        let path = path.read_cstring(PATH_MAX - 1)?;
        let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
        let empty_path = flags & AT_EMPTY_PATH != 0;
        let object = self.resolve_object(&mut self.walker(), dirfd, &path, follow, empty_path)?;
        self.change_times(&AttrTarget::of_object(object)?, pairs)
    }

    /// Linux's `vfs_utimes` on `target`.
    fn change_times(&self, target: &AttrTarget, pairs: Option<TimePair>) -> SysResult {
        let [atime, mtime] = match pairs {
            Some([atime, mtime]) => [time_update(atime)?, time_update(mtime)?],
            None => [TimeUpdate::Now, TimeUpdate::Now],
        };
        let metadata = self.attr_metadata(target)?;
        let credentials = self.process.credentials();
        if !credentials.owns(&metadata) {
            if pairs.is_some() && [atime, mtime] != [TimeUpdate::Now, TimeUpdate::Now] {
                return Err(LxError::EPERM);
            }
            credentials.permission(&metadata, Access::WRITE)?;
        }
        if let AttrTarget::Inode(inode) = target {
            inode.set_times(atime, mtime)?;
        }
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, int, run, Sandbox};
    use std::os::unix::fs::MetadataExt;
    use std::vec::Vec;

    const UTIME: u32 = 132;
    const UTIMES: u32 = 235;
    const FUTIMESAT: u32 = 261;
    const UTIMENSAT: u32 = 280;

    fn times_of(sandbox: &Sandbox, path: &str) -> (i64, i64, i64, i64) {
        let metadata = std::fs::symlink_metadata(sandbox.host(path)).unwrap();
        (
            metadata.atime(),
            metadata.atime_nsec(),
            metadata.mtime(),
            metadata.mtime_nsec(),
        )
    }

    fn pairs(sandbox: &Sandbox, values: [i64; 4]) -> usize {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        sandbox.user.put_bytes(&bytes)
    }

    #[test]
    fn utimensat_sets_omits_and_touches() {
        let sandbox = Sandbox::new("utimensat");
        sandbox.write("f", b"");
        let sys = sandbox.syscall();
        let (f, at_fdcwd) = (sandbox.cstr("f"), int(AT_FDCWD));
        let set = pairs(&sandbox, [1000, 5, 2000, 999_999_999]);
        assert_eq!(run(&sys, UTIMENSAT, &[at_fdcwd, f, set, 0]), 0);
        assert_eq!(times_of(&sandbox, "f"), (1000, 5, 2000, 999_999_999));
        let omit_access = pairs(&sandbox, [0, UTIME_OMIT, -7, 0]);
        assert_eq!(run(&sys, UTIMENSAT, &[at_fdcwd, f, omit_access, 0]), 0);
        assert_eq!(times_of(&sandbox, "f"), (1000, 5, -7, 0));
        assert_eq!(run(&sys, UTIMENSAT, &[at_fdcwd, f, 0, 0]), 0);
        assert!(times_of(&sandbox, "f").0 > 1_600_000_000, "touched");
        // Two UTIME_OMIT: nothing is looked at, not even a bad path or descriptor.
        let omit = pairs(&sandbox, [0, UTIME_OMIT, 0, UTIME_OMIT]);
        let bad = sandbox.user.unmapped();
        assert_eq!(run(&sys, UTIMENSAT, &[99, bad, omit, 0xff]), 0);
        let invalid = pairs(&sandbox, [0, NSEC_PER_SEC, 0, 0]);
        assert_eq!(
            run(&sys, UTIMENSAT, &[at_fdcwd, f, invalid, 0]),
            err(LxError::EINVAL)
        );
        assert_eq!(
            run(
                &sys,
                UTIMENSAT,
                &[at_fdcwd, sandbox.cstr("none"), invalid, 0]
            ),
            err(LxError::ENOENT),
            "the path is walked before the times are checked"
        );
        assert_eq!(
            run(&sys, UTIMENSAT, &[at_fdcwd, f, bad, 0]),
            err(LxError::EFAULT)
        );
        assert_eq!(
            run(&sys, UTIMENSAT, &[at_fdcwd, f, 0, 0x2]),
            err(LxError::EINVAL)
        );
    }

    #[test]
    fn strangers_may_touch_what_they_may_write_and_nothing_more() {
        let sandbox = Sandbox::new("utimensat-perm");
        sandbox.write("shared", b"");
        sandbox.chmod("shared", 0o666);
        sandbox.write("private", b"");
        let user = sandbox.syscall_as(1000, 1000);
        let at_fdcwd = int(AT_FDCWD);
        let (shared, private) = (sandbox.cstr("shared"), sandbox.cstr("private"));
        assert_eq!(run(&user, UTIMENSAT, &[at_fdcwd, shared, 0, 0]), 0);
        let now_now = pairs(&sandbox, [0, UTIME_NOW, 0, UTIME_NOW]);
        assert_eq!(run(&user, UTIMENSAT, &[at_fdcwd, shared, now_now, 0]), 0);
        let now_omit = pairs(&sandbox, [0, UTIME_NOW, 0, UTIME_OMIT]);
        assert_eq!(
            run(&user, UTIMENSAT, &[at_fdcwd, shared, now_omit, 0]),
            err(LxError::EPERM)
        );
        assert_eq!(
            run(&user, UTIMENSAT, &[at_fdcwd, private, 0, 0]),
            err(LxError::EACCES)
        );
        let explicit = pairs(&sandbox, [1, 0, 1, 0]);
        assert_eq!(
            run(&user, UTIMENSAT, &[at_fdcwd, private, explicit, 0]),
            err(LxError::EPERM)
        );
    }

    #[test]
    fn utimes_futimesat_and_utime_take_microseconds_and_seconds() {
        let sandbox = Sandbox::new("utimes");
        sandbox.write("f", b"");
        sandbox.mkdir("d");
        sandbox.write("d/g", b"");
        let sys = sandbox.syscall();
        let f = sandbox.cstr("f");
        let tv = pairs(&sandbox, [10, 3, 20, 999_999]);
        assert_eq!(run(&sys, UTIMES, &[f, tv]), 0);
        assert_eq!(times_of(&sandbox, "f"), (10, 3000, 20, 999_999_000));
        let bad_usec = pairs(&sandbox, [10, 1_000_000, 20, 0]);
        assert_eq!(
            run(&sys, UTIMES, &[sandbox.cstr("none"), bad_usec]),
            err(LxError::EINVAL)
        );
        let utimbuf = sandbox
            .user
            .put_bytes(&[30i64.to_le_bytes(), 40i64.to_le_bytes()].concat());
        assert_eq!(run(&sys, UTIME, &[f, utimbuf]), 0);
        assert_eq!(times_of(&sandbox, "f"), (30, 0, 40, 0));
        let dir = sys.resolve(AT_FDCWD, "d", true).unwrap();
        let file = linux_object::fs::File::with_path(dir.inode, Default::default(), dir.path);
        let dirfd = sys.process.files().add(file, false).unwrap() as usize;
        assert_eq!(run(&sys, FUTIMESAT, &[dirfd, sandbox.cstr("g"), tv]), 0);
        assert_eq!(times_of(&sandbox, "d/g").2, 20);
        // A null path names the descriptor itself.
        assert_eq!(run(&sys, FUTIMESAT, &[dirfd, 0, tv]), 0);
        assert_eq!(times_of(&sandbox, "d").2, 20);
        assert_eq!(run(&sys, FUTIMESAT, &[98, 0, tv]), err(LxError::EBADF));
    }
}
