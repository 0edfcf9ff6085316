//! What a differential case is made of: [`Op`]s (one variant per call, with its arguments),
//! their lowering to raw registers ([`Lowered`]), and what running one gives ([`Outcome`]).
//!
//! Both executors share the lowering ([`crate::exec`]): an op becomes a syscall number and up
//! to six [`Arg`]s, each placed in the executor's user memory the same way, so the only thing
//! that differs between the two runs is who serves the call.

use std::fmt;

/// A file descriptor argument.
#[derive(Clone, PartialEq, Eq)]
pub enum Fd {
    /// The `n`-th descriptor an earlier op of the sequence returned (modulo how many there are;
    /// [`NEVER_OPEN`] when there are none yet).
    H(usize),
    /// This number as is (`-1`, a never-opened number, …).
    Raw(i32),
    /// `AT_FDCWD`.
    Cwd,
}

/// A descriptor number no sequence opens: using it gives `EBADF`.
pub const NEVER_OPEN: i32 = 900;

impl fmt::Debug for Fd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::H(n) => write!(f, "h{n}"),
            Self::Raw(n) => write!(f, "{n}"),
            Self::Cwd => write!(f, "AT_FDCWD"),
        }
    }
}

/// A path argument.
#[derive(Clone, PartialEq, Eq)]
pub enum P {
    /// These bytes, NUL-terminated.
    S(Vec<u8>),
    /// A pointer to an unmapped address (`EFAULT`).
    Bad,
    /// The null pointer.
    Null,
}

impl fmt::Debug for P {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::S(bytes) if bytes.len() > 60 => write!(
                f,
                "{:?}…({} bytes)",
                String::from_utf8_lossy(&bytes[..40]),
                bytes.len()
            ),
            Self::S(bytes) => write!(f, "{:?}", String::from_utf8_lossy(bytes)),
            Self::Bad => write!(f, "BADPTR"),
            Self::Null => write!(f, "NULL"),
        }
    }
}

/// A path.
pub fn p(path: &str) -> P {
    P::S(path.as_bytes().to_vec())
}

/// An output buffer: mapped (of the call's length), unmapped, or null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Out {
    /// A mapped buffer.
    Ok,
    /// An unmapped address.
    Bad,
    /// The null pointer.
    Null,
}

/// An input buffer.
#[derive(Clone, PartialEq, Eq)]
pub enum Data {
    /// These bytes.
    B(Vec<u8>),
    /// `n` bytes at an unmapped address.
    Bad(usize),
}

impl fmt::Debug for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::B(bytes) => write!(f, "{:?}", String::from_utf8_lossy(bytes)),
            Self::Bad(n) => write!(f, "BADPTR[{n}]"),
        }
    }
}

/// Bytes to write.
pub fn d(text: &str) -> Data {
    Data::B(text.as_bytes().to_vec())
}

/// An `loff_t *` argument (`sendfile`, `copy_file_range`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Off {
    /// Null: use and move the file offset.
    Null,
    /// A pointer to this value; the value after the call is compared.
    At(i64),
    /// An unmapped address.
    Bad,
}

/// One `iovec` of `readv`/`writev`.
#[derive(Clone, PartialEq, Eq)]
pub enum Seg {
    /// `readv`: a mapped buffer of this length.
    Out(usize),
    /// `writev`: these bytes.
    In(Vec<u8>),
    /// This length at an unmapped address.
    Bad(usize),
}

impl fmt::Debug for Seg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Out(n) => write!(f, "[{n}]"),
            Self::In(bytes) => write!(f, "{:?}", String::from_utf8_lossy(bytes)),
            Self::Bad(n) => write!(f, "BADPTR[{n}]"),
        }
    }
}

/// An `iovec` array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Iov {
    /// These segments; `cnt` overrides `iovcnt` when set (negative, over `IOV_MAX`, …).
    V(Vec<Seg>, Option<i64>),
    /// The array itself at an unmapped address, with this `iovcnt`.
    Bad(i64),
}

/// The times argument of `utimensat`, `utimes`, `futimesat` and `utime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Times {
    /// The null pointer: both times to now.
    Null,
    /// An unmapped address.
    Bad,
    /// Access and modification time, each as (seconds, sub-second part): nanoseconds for
    /// `utimensat` (`UTIME_NOW`, `UTIME_OMIT` included), microseconds for `utimes` and
    /// `futimesat`; `utime` takes the seconds only.
    Set([(i64, i64); 2]),
}

/// How a [`Times`] is laid out in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimesLayout {
    /// Two `struct timespec` / `struct timeval` (two longs each).
    Pairs,
    /// One `struct utimbuf` (two longs: the seconds).
    Seconds,
}

impl Times {
    fn arg(self, layout: TimesLayout) -> Arg {
        match self {
            Times::Null => Arg::Path(P::Null),
            Times::Bad => Arg::In(Data::Bad(32)),
            Times::Set(times) => {
                let mut bytes = Vec::new();
                for (sec, sub) in times {
                    bytes.extend_from_slice(&sec.to_le_bytes());
                    if layout == TimesLayout::Pairs {
                        bytes.extend_from_slice(&sub.to_le_bytes());
                    }
                }
                Arg::In(Data::B(bytes))
            }
        }
    }
}

/// One call with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Op {
    Read {
        fd: Fd,
        buf: Out,
        count: usize,
    },
    Write {
        fd: Fd,
        data: Data,
    },
    Open {
        path: P,
        flags: i32,
        mode: u32,
    },
    Creat {
        path: P,
        mode: u32,
    },
    Umask {
        mask: u32,
    },
    Openat {
        dirfd: Fd,
        path: P,
        flags: i32,
        mode: u32,
    },
    Close {
        fd: Fd,
    },
    Stat {
        path: P,
        buf: Out,
    },
    Fstat {
        fd: Fd,
        buf: Out,
    },
    Lstat {
        path: P,
        buf: Out,
    },
    Newfstatat {
        dirfd: Fd,
        path: P,
        buf: Out,
        flags: i32,
    },
    Lseek {
        fd: Fd,
        offset: i64,
        whence: u32,
    },
    Ioctl {
        fd: Fd,
        request: u64,
        arg: Out,
    },
    Pread64 {
        fd: Fd,
        buf: Out,
        count: usize,
        offset: i64,
    },
    Pwrite64 {
        fd: Fd,
        data: Data,
        offset: i64,
    },
    Readv {
        fd: Fd,
        iov: Iov,
    },
    Writev {
        fd: Fd,
        iov: Iov,
    },
    /// `preadv` at `offset`, or `preadv2` with `flags`.
    Preadv {
        fd: Fd,
        iov: Iov,
        offset: i64,
        flags: Option<i32>,
    },
    /// `pwritev` at `offset`, or `pwritev2` with `flags`.
    Pwritev {
        fd: Fd,
        iov: Iov,
        offset: i64,
        flags: Option<i32>,
    },
    Sendfile {
        out_fd: Fd,
        in_fd: Fd,
        offset: Off,
        count: usize,
    },
    Fcntl {
        fd: Fd,
        cmd: i32,
        arg: u64,
    },
    Syncfs {
        fd: Fd,
    },
    Fsync {
        fd: Fd,
    },
    Fdatasync {
        fd: Fd,
    },
    Truncate {
        path: P,
        length: i64,
    },
    Ftruncate {
        fd: Fd,
        length: i64,
    },
    Getdents64 {
        fd: Fd,
        buf: Out,
        count: usize,
    },
    Getcwd {
        buf: Out,
        size: usize,
    },
    Chdir {
        path: P,
    },
    Fchdir {
        fd: Fd,
    },
    Chroot {
        path: P,
    },
    Rename {
        old: P,
        new: P,
    },
    Renameat {
        olddir: Fd,
        old: P,
        newdir: Fd,
        new: P,
    },
    Mkdir {
        path: P,
        mode: u32,
    },
    Mkdirat {
        dirfd: Fd,
        path: P,
        mode: u32,
    },
    Rmdir {
        path: P,
    },
    Mknod {
        path: P,
        mode: u32,
        dev: u32,
    },
    Mknodat {
        dirfd: Fd,
        path: P,
        mode: u32,
        dev: u32,
    },
    Link {
        old: P,
        new: P,
    },
    Linkat {
        olddir: Fd,
        old: P,
        newdir: Fd,
        new: P,
        flags: i32,
    },
    Unlink {
        path: P,
    },
    Unlinkat {
        dirfd: Fd,
        path: P,
        flags: i32,
    },
    Readlink {
        path: P,
        buf: Out,
        size: usize,
    },
    Readlinkat {
        dirfd: Fd,
        path: P,
        buf: Out,
        size: usize,
    },
    Access {
        path: P,
        mode: i32,
    },
    Faccessat {
        dirfd: Fd,
        path: P,
        mode: i32,
    },
    Faccessat2 {
        dirfd: Fd,
        path: P,
        mode: i32,
        flags: i32,
    },
    Symlink {
        target: P,
        path: P,
    },
    Symlinkat {
        target: P,
        dirfd: Fd,
        path: P,
    },
    Renameat2 {
        olddir: Fd,
        old: P,
        newdir: Fd,
        new: P,
        flags: u32,
    },
    CopyFileRange {
        fd_in: Fd,
        off_in: Off,
        fd_out: Fd,
        off_out: Off,
        len: usize,
        flags: u32,
    },
    Splice {
        fd_in: Fd,
        off_in: Off,
        fd_out: Fd,
        off_out: Off,
        len: usize,
        flags: u32,
    },
    Tee {
        fd_in: Fd,
        fd_out: Fd,
        len: usize,
        flags: u32,
    },
    Vmsplice {
        fd: Fd,
        iov: Iov,
        flags: u32,
    },
    Sync,
    Dup {
        fd: Fd,
    },
    Dup2 {
        old: Fd,
        new: Fd,
    },
    Dup3 {
        old: Fd,
        new: Fd,
        flags: i32,
    },
    CloseRange {
        first: u32,
        last: u32,
        flags: u32,
    },
    Pipe {
        buf: Out,
    },
    Pipe2 {
        buf: Out,
        flags: i32,
    },
    Statx {
        dirfd: Fd,
        path: P,
        flags: i32,
        mask: u32,
        buf: Out,
    },
    Statfs {
        path: P,
        buf: Out,
    },
    Fstatfs {
        fd: Fd,
        buf: Out,
    },
    Chmod {
        path: P,
        mode: u32,
    },
    Fchmod {
        fd: Fd,
        mode: u32,
    },
    Fchmodat {
        dirfd: Fd,
        path: P,
        mode: u32,
    },
    Fchmodat2 {
        dirfd: Fd,
        path: P,
        mode: u32,
        flags: i32,
    },
    Chown {
        path: P,
        uid: u32,
        gid: u32,
    },
    Lchown {
        path: P,
        uid: u32,
        gid: u32,
    },
    Fchown {
        fd: Fd,
        uid: u32,
        gid: u32,
    },
    Fchownat {
        dirfd: Fd,
        path: P,
        uid: u32,
        gid: u32,
        flags: i32,
    },
    Utimensat {
        dirfd: Fd,
        path: P,
        times: Times,
        flags: i32,
    },
    Utimes {
        path: P,
        times: Times,
    },
    Futimesat {
        dirfd: Fd,
        path: P,
        times: Times,
    },
    Utime {
        path: P,
        times: Times,
    },
    /// `newfstatat` reading back the access and modification times.
    StatTimes {
        path: P,
        flags: i32,
    },
    Getdents {
        fd: Fd,
        buf: Out,
        count: usize,
    },
    Fallocate {
        fd: Fd,
        mode: i32,
        offset: i64,
        len: i64,
    },
    Fadvise64 {
        fd: Fd,
        offset: i64,
        len: i64,
        advice: i32,
    },
    Flock {
        fd: Fd,
        op: i32,
    },
}

/// A raw argument, placed in user memory by the executor.
#[derive(Debug, Clone)]
pub enum Arg {
    /// This register value.
    Int(u64),
    /// A descriptor, resolved against the sequence's handles.
    Fd(Fd),
    /// A NUL-terminated path (or a bad/null pointer).
    Path(P),
    /// An input buffer.
    In(Data),
    /// An output buffer of this many bytes.
    Out(Out, usize),
    /// An `loff_t *`.
    Off(Off),
    /// An `iovec` array.
    Iov(Iov),
}

/// What to read back after a successful call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    /// Nothing beyond the return value.
    None,
    /// The first `ret` bytes of argument `i` (`read`, `readlink`).
    Bytes(usize),
    /// The `struct stat` at argument `i`.
    Stat(usize),
    /// The `linux_dirent64` records in the first `ret` bytes of argument `i`.
    Dirents(usize),
    /// The NUL-terminated string at argument `i` (`getcwd`).
    CStr(usize),
    /// The two `int`s at argument `i` (`pipe`); they become handles.
    Pipe(usize),
    /// The `int` at argument `i` (`ioctl(FIONREAD)`).
    Int(usize),
    /// The `iovec` buffers of argument `i`, concatenated, the first `ret` bytes (`readv`).
    Iov(usize),
    /// The `loff_t` values at these arguments after the call.
    Offsets(usize, usize),
    /// The `struct statx` at argument `i`: the fields both sides can agree on.
    Statx(usize),
    /// The `struct statfs` at argument `i`: type, sizes, name length, flags.
    StatFs(usize),
    /// The access and modification times of the `struct stat` at argument `i`.
    Times(usize),
    /// The old `linux_dirent` records in the first `ret` bytes of argument `i`.
    OldDirents(usize),
}

/// An op as a raw call.
pub struct Lowered {
    /// The x86-64 syscall number.
    pub nr: i64,
    /// Its arguments.
    pub args: Vec<Arg>,
    /// What to read back on success.
    pub capture: Capture,
    /// A successful return value is a new descriptor.
    pub returns_fd: bool,
}

fn int(value: impl TryInto<i64>) -> Arg {
    Arg::Int(value.try_into().unwrap_or(-1) as u64)
}

impl Op {
    /// The call's name, as in `<asm/unistd_64.h>` (and in the table's `SERVED`).
    pub fn name(&self) -> &'static str {
        self.lower_parts().0
    }

    fn lower_parts(&self) -> (&'static str, i64, Vec<Arg>, Capture, bool) {
        use libc::*;
        let fd = |fd: &Fd| Arg::Fd(fd.clone());
        let path = |path: &P| Arg::Path(path.clone());
        let data_len = |data: &Data| match data {
            Data::B(bytes) => bytes.len(),
            Data::Bad(n) => *n,
        };
        let none = Capture::None;
        match self {
            Op::Read { fd: f, buf, count } => (
                "read",
                SYS_read,
                vec![fd(f), Arg::Out(*buf, *count), int(*count)],
                Capture::Bytes(1),
                false,
            ),
            Op::Write { fd: f, data } => (
                "write",
                SYS_write,
                vec![fd(f), Arg::In(data.clone()), int(data_len(data))],
                none,
                false,
            ),
            Op::Open {
                path: pa,
                flags,
                mode,
            } => (
                "open",
                SYS_open,
                vec![path(pa), int(*flags), int(*mode)],
                none,
                true,
            ),
            Op::Openat {
                dirfd,
                path: pa,
                flags,
                mode,
            } => (
                "openat",
                SYS_openat,
                vec![fd(dirfd), path(pa), int(*flags), int(*mode)],
                none,
                true,
            ),
            Op::Creat { path: pa, mode } => {
                ("creat", SYS_creat, vec![path(pa), int(*mode)], none, true)
            }
            Op::Umask { mask } => ("umask", SYS_umask, vec![int(*mask)], none, false),
            Op::Close { fd: f } => ("close", SYS_close, vec![fd(f)], none, false),
            Op::Stat { path: pa, buf } => (
                "stat",
                SYS_stat,
                vec![path(pa), Arg::Out(*buf, STAT_SIZE)],
                Capture::Stat(1),
                false,
            ),
            Op::Fstat { fd: f, buf } => (
                "fstat",
                SYS_fstat,
                vec![fd(f), Arg::Out(*buf, STAT_SIZE)],
                Capture::Stat(1),
                false,
            ),
            Op::Lstat { path: pa, buf } => (
                "lstat",
                SYS_lstat,
                vec![path(pa), Arg::Out(*buf, STAT_SIZE)],
                Capture::Stat(1),
                false,
            ),
            Op::Newfstatat {
                dirfd,
                path: pa,
                buf,
                flags,
            } => (
                "newfstatat",
                SYS_newfstatat,
                vec![fd(dirfd), path(pa), Arg::Out(*buf, STAT_SIZE), int(*flags)],
                Capture::Stat(2),
                false,
            ),
            Op::Lseek {
                fd: f,
                offset,
                whence,
            } => (
                "lseek",
                SYS_lseek,
                vec![fd(f), int(*offset), int(*whence)],
                none,
                false,
            ),
            Op::Ioctl {
                fd: f,
                request,
                arg,
            } => (
                "ioctl",
                SYS_ioctl,
                vec![fd(f), Arg::Int(*request), Arg::Out(*arg, 64)],
                if *request == FIONREAD {
                    Capture::Int(2)
                } else {
                    none
                },
                false,
            ),
            Op::Pread64 {
                fd: f,
                buf,
                count,
                offset,
            } => (
                "pread64",
                SYS_pread64,
                vec![fd(f), Arg::Out(*buf, *count), int(*count), int(*offset)],
                Capture::Bytes(1),
                false,
            ),
            Op::Pwrite64 {
                fd: f,
                data,
                offset,
            } => (
                "pwrite64",
                SYS_pwrite64,
                vec![
                    fd(f),
                    Arg::In(data.clone()),
                    int(data_len(data)),
                    int(*offset),
                ],
                none,
                false,
            ),
            Op::Readv { fd: f, iov } => (
                "readv",
                SYS_readv,
                vec![fd(f), Arg::Iov(iov.clone())],
                Capture::Iov(1),
                false,
            ),
            Op::Writev { fd: f, iov } => (
                "writev",
                SYS_writev,
                vec![fd(f), Arg::Iov(iov.clone())],
                none,
                false,
            ),
            Op::Preadv {
                fd: f,
                iov,
                offset,
                flags,
            } => {
                // The count's register, filled in from the iovec array.
                let mut args = vec![fd(f), Arg::Iov(iov.clone()), int(0), int(*offset), int(0)];
                args.extend(flags.map(int));
                match flags {
                    Some(_) => ("preadv2", SYS_preadv2, args, Capture::Iov(1), false),
                    None => ("preadv", SYS_preadv, args, Capture::Iov(1), false),
                }
            }
            Op::Pwritev {
                fd: f,
                iov,
                offset,
                flags,
            } => {
                // The count's register, filled in from the iovec array.
                let mut args = vec![fd(f), Arg::Iov(iov.clone()), int(0), int(*offset), int(0)];
                args.extend(flags.map(int));
                match flags {
                    Some(_) => ("pwritev2", SYS_pwritev2, args, none, false),
                    None => ("pwritev", SYS_pwritev, args, none, false),
                }
            }
            Op::Sendfile {
                out_fd,
                in_fd,
                offset,
                count,
            } => (
                "sendfile",
                SYS_sendfile,
                vec![fd(out_fd), fd(in_fd), Arg::Off(*offset), int(*count)],
                Capture::Offsets(2, 2),
                false,
            ),
            Op::Fcntl { fd: f, cmd, arg } => (
                "fcntl",
                SYS_fcntl,
                vec![fd(f), int(*cmd), Arg::Int(*arg)],
                none,
                matches!(*cmd, F_DUPFD | F_DUPFD_CLOEXEC),
            ),
            Op::Fsync { fd: f } => ("fsync", SYS_fsync, vec![fd(f)], none, false),
            Op::Syncfs { fd: f } => ("syncfs", SYS_syncfs, vec![fd(f)], none, false),
            Op::Fdatasync { fd: f } => ("fdatasync", SYS_fdatasync, vec![fd(f)], none, false),
            Op::Truncate { path: pa, length } => (
                "truncate",
                SYS_truncate,
                vec![path(pa), int(*length)],
                none,
                false,
            ),
            Op::Ftruncate { fd: f, length } => (
                "ftruncate",
                SYS_ftruncate,
                vec![fd(f), int(*length)],
                none,
                false,
            ),
            Op::Getdents64 { fd: f, buf, count } => (
                "getdents64",
                SYS_getdents64,
                vec![fd(f), Arg::Out(*buf, *count), int(*count)],
                Capture::Dirents(1),
                false,
            ),
            Op::Getcwd { buf, size } => (
                "getcwd",
                SYS_getcwd,
                vec![Arg::Out(*buf, *size), int(*size)],
                Capture::CStr(0),
                false,
            ),
            Op::Chdir { path: pa } => ("chdir", SYS_chdir, vec![path(pa)], none, false),
            Op::Fchdir { fd: f } => ("fchdir", SYS_fchdir, vec![fd(f)], none, false),
            Op::Chroot { path: pa } => ("chroot", SYS_chroot, vec![path(pa)], none, false),
            Op::Rename { old, new } => (
                "rename",
                SYS_rename,
                vec![path(old), path(new)],
                none,
                false,
            ),
            Op::Renameat {
                olddir,
                old,
                newdir,
                new,
            } => (
                "renameat",
                SYS_renameat,
                vec![fd(olddir), path(old), fd(newdir), path(new)],
                none,
                false,
            ),
            Op::Mkdir { path: pa, mode } => {
                ("mkdir", SYS_mkdir, vec![path(pa), int(*mode)], none, false)
            }
            Op::Mkdirat {
                dirfd,
                path: pa,
                mode,
            } => (
                "mkdirat",
                SYS_mkdirat,
                vec![fd(dirfd), path(pa), int(*mode)],
                none,
                false,
            ),
            Op::Rmdir { path: pa } => ("rmdir", SYS_rmdir, vec![path(pa)], none, false),
            Op::Mknod {
                path: pa,
                mode,
                dev,
            } => (
                "mknod",
                SYS_mknod,
                vec![path(pa), int(*mode), int(*dev)],
                none,
                false,
            ),
            Op::Mknodat {
                dirfd,
                path: pa,
                mode,
                dev,
            } => (
                "mknodat",
                SYS_mknodat,
                vec![fd(dirfd), path(pa), int(*mode), int(*dev)],
                none,
                false,
            ),
            Op::Link { old, new } => ("link", SYS_link, vec![path(old), path(new)], none, false),
            Op::Linkat {
                olddir,
                old,
                newdir,
                new,
                flags,
            } => (
                "linkat",
                SYS_linkat,
                vec![fd(olddir), path(old), fd(newdir), path(new), int(*flags)],
                none,
                false,
            ),
            Op::Unlink { path: pa } => ("unlink", SYS_unlink, vec![path(pa)], none, false),
            Op::Unlinkat {
                dirfd,
                path: pa,
                flags,
            } => (
                "unlinkat",
                SYS_unlinkat,
                vec![fd(dirfd), path(pa), int(*flags)],
                none,
                false,
            ),
            Op::Readlink {
                path: pa,
                buf,
                size,
            } => (
                "readlink",
                SYS_readlink,
                vec![path(pa), Arg::Out(*buf, *size), int(*size)],
                Capture::Bytes(1),
                false,
            ),
            Op::Readlinkat {
                dirfd,
                path: pa,
                buf,
                size,
            } => (
                "readlinkat",
                SYS_readlinkat,
                vec![fd(dirfd), path(pa), Arg::Out(*buf, *size), int(*size)],
                Capture::Bytes(2),
                false,
            ),
            Op::Access { path: pa, mode } => (
                "access",
                SYS_access,
                vec![path(pa), int(*mode)],
                none,
                false,
            ),
            Op::Faccessat {
                dirfd,
                path: pa,
                mode,
            } => (
                "faccessat",
                SYS_faccessat,
                vec![fd(dirfd), path(pa), int(*mode)],
                none,
                false,
            ),
            Op::Faccessat2 {
                dirfd,
                path: pa,
                mode,
                flags,
            } => (
                "faccessat2",
                SYS_faccessat2,
                vec![fd(dirfd), path(pa), int(*mode), int(*flags)],
                none,
                false,
            ),
            Op::Symlink { target, path: pa } => (
                "symlink",
                SYS_symlink,
                vec![path(target), path(pa)],
                none,
                false,
            ),
            Op::Symlinkat {
                target,
                dirfd,
                path: pa,
            } => (
                "symlinkat",
                SYS_symlinkat,
                vec![path(target), fd(dirfd), path(pa)],
                none,
                false,
            ),
            Op::Renameat2 {
                olddir,
                old,
                newdir,
                new,
                flags,
            } => (
                "renameat2",
                SYS_renameat2,
                vec![fd(olddir), path(old), fd(newdir), path(new), int(*flags)],
                none,
                false,
            ),
            Op::CopyFileRange {
                fd_in,
                off_in,
                fd_out,
                off_out,
                len,
                flags,
            } => (
                "copy_file_range",
                SYS_copy_file_range,
                vec![
                    fd(fd_in),
                    Arg::Off(*off_in),
                    fd(fd_out),
                    Arg::Off(*off_out),
                    int(*len),
                    int(*flags),
                ],
                Capture::Offsets(1, 3),
                false,
            ),
            Op::Splice {
                fd_in,
                off_in,
                fd_out,
                off_out,
                len,
                flags,
            } => (
                "splice",
                SYS_splice,
                vec![
                    fd(fd_in),
                    Arg::Off(*off_in),
                    fd(fd_out),
                    Arg::Off(*off_out),
                    int(*len),
                    int(*flags),
                ],
                Capture::Offsets(1, 3),
                false,
            ),
            Op::Tee {
                fd_in,
                fd_out,
                len,
                flags,
            } => (
                "tee",
                SYS_tee,
                vec![fd(fd_in), fd(fd_out), int(*len), int(*flags)],
                none,
                false,
            ),
            // The count's register, filled in from the iovec array.
            Op::Vmsplice { fd: f, iov, flags } => (
                "vmsplice",
                SYS_vmsplice,
                vec![fd(f), Arg::Iov(iov.clone()), int(0), int(*flags)],
                Capture::Iov(1),
                false,
            ),
            Op::Sync => ("sync", SYS_sync, vec![], none, false),
            Op::Dup { fd: f } => ("dup", SYS_dup, vec![fd(f)], none, true),
            Op::Dup2 { old, new } => ("dup2", SYS_dup2, vec![fd(old), fd(new)], none, true),
            Op::Dup3 { old, new, flags } => (
                "dup3",
                SYS_dup3,
                vec![fd(old), fd(new), int(*flags)],
                none,
                true,
            ),
            Op::CloseRange { first, last, flags } => (
                "close_range",
                SYS_close_range,
                vec![int(*first), int(*last), int(*flags)],
                none,
                false,
            ),
            Op::Pipe { buf } => (
                "pipe",
                SYS_pipe,
                vec![Arg::Out(*buf, 8)],
                Capture::Pipe(0),
                false,
            ),
            Op::Pipe2 { buf, flags } => (
                "pipe2",
                SYS_pipe2,
                vec![Arg::Out(*buf, 8), int(*flags)],
                Capture::Pipe(0),
                false,
            ),
            Op::Statx {
                dirfd,
                path: pa,
                flags,
                mask,
                buf,
            } => (
                "statx",
                SYS_statx,
                vec![
                    fd(dirfd),
                    path(pa),
                    int(*flags),
                    int(*mask),
                    Arg::Out(*buf, STATX_STRUCT_SIZE),
                ],
                Capture::Statx(4),
                false,
            ),
            Op::Statfs { path: pa, buf } => (
                "statfs",
                SYS_statfs,
                vec![path(pa), Arg::Out(*buf, STATFS_STRUCT_SIZE)],
                Capture::StatFs(1),
                false,
            ),
            Op::Fstatfs { fd: f, buf } => (
                "fstatfs",
                SYS_fstatfs,
                vec![fd(f), Arg::Out(*buf, STATFS_STRUCT_SIZE)],
                Capture::StatFs(1),
                false,
            ),
            Op::Chmod { path: pa, mode } => {
                ("chmod", SYS_chmod, vec![path(pa), int(*mode)], none, false)
            }
            Op::Fchmod { fd: f, mode } => {
                ("fchmod", SYS_fchmod, vec![fd(f), int(*mode)], none, false)
            }
            Op::Fchmodat {
                dirfd,
                path: pa,
                mode,
            } => (
                "fchmodat",
                SYS_fchmodat,
                vec![fd(dirfd), path(pa), int(*mode)],
                none,
                false,
            ),
            Op::Fchmodat2 {
                dirfd,
                path: pa,
                mode,
                flags,
            } => (
                "fchmodat2",
                452,
                vec![fd(dirfd), path(pa), int(*mode), int(*flags)],
                none,
                false,
            ),
            Op::Chown { path: pa, uid, gid } => (
                "chown",
                SYS_chown,
                vec![path(pa), int(*uid), int(*gid)],
                none,
                false,
            ),
            Op::Lchown { path: pa, uid, gid } => (
                "lchown",
                SYS_lchown,
                vec![path(pa), int(*uid), int(*gid)],
                none,
                false,
            ),
            Op::Fchown { fd: f, uid, gid } => (
                "fchown",
                SYS_fchown,
                vec![fd(f), int(*uid), int(*gid)],
                none,
                false,
            ),
            Op::Fchownat {
                dirfd,
                path: pa,
                uid,
                gid,
                flags,
            } => (
                "fchownat",
                SYS_fchownat,
                vec![fd(dirfd), path(pa), int(*uid), int(*gid), int(*flags)],
                none,
                false,
            ),
            Op::Utimensat {
                dirfd,
                path: pa,
                times,
                flags,
            } => (
                "utimensat",
                SYS_utimensat,
                vec![
                    fd(dirfd),
                    path(pa),
                    times.arg(TimesLayout::Pairs),
                    int(*flags),
                ],
                none,
                false,
            ),
            Op::Utimes { path: pa, times } => (
                "utimes",
                SYS_utimes,
                vec![path(pa), times.arg(TimesLayout::Pairs)],
                none,
                false,
            ),
            Op::Futimesat {
                dirfd,
                path: pa,
                times,
            } => (
                "futimesat",
                SYS_futimesat,
                vec![fd(dirfd), path(pa), times.arg(TimesLayout::Pairs)],
                none,
                false,
            ),
            Op::Utime { path: pa, times } => (
                "utime",
                SYS_utime,
                vec![path(pa), times.arg(TimesLayout::Seconds)],
                none,
                false,
            ),
            Op::StatTimes { path: pa, flags } => (
                "newfstatat",
                SYS_newfstatat,
                vec![
                    Arg::Fd(Fd::Cwd),
                    path(pa),
                    Arg::Out(Out::Ok, STAT_SIZE),
                    int(*flags),
                ],
                Capture::Times(2),
                false,
            ),
            Op::Getdents { fd: f, buf, count } => (
                "getdents",
                SYS_getdents,
                vec![fd(f), Arg::Out(*buf, *count), int(*count)],
                Capture::OldDirents(1),
                false,
            ),
            Op::Fallocate {
                fd: f,
                mode,
                offset,
                len,
            } => (
                "fallocate",
                SYS_fallocate,
                vec![fd(f), int(*mode), int(*offset), int(*len)],
                none,
                false,
            ),
            Op::Fadvise64 {
                fd: f,
                offset,
                len,
                advice,
            } => (
                "fadvise64",
                SYS_fadvise64,
                vec![fd(f), int(*offset), int(*len), int(*advice)],
                none,
                false,
            ),
            Op::Flock { fd: f, op } => ("flock", SYS_flock, vec![fd(f), int(*op)], none, false),
        }
    }

    /// The op as a raw call.
    pub fn lower(&self) -> Lowered {
        let (_, nr, args, capture, returns_fd) = self.lower_parts();
        Lowered {
            nr,
            args,
            capture,
            returns_fd,
        }
    }
}

/// `sizeof(struct stat)` on x86-64.
pub const STAT_SIZE: usize = 144;
/// `sizeof(struct statx)`.
pub const STATX_STRUCT_SIZE: usize = 256;
/// `sizeof(struct statfs)` on x86-64.
pub const STATFS_STRUCT_SIZE: usize = 120;

/// The `stat` fields that must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatFields {
    /// `st_mode`: type and permission bits.
    pub mode: u32,
    /// `st_nlink`.
    pub nlink: u64,
    /// `st_uid`, `st_gid`.
    pub owner: (u32, u32),
    /// `st_size`; `None` for a directory, whose size is the filesystem's business.
    pub size: Option<i64>,
}

impl StatFields {
    /// Decodes the fields of an x86-64 `struct stat`.
    pub fn decode(raw: &[u8]) -> Self {
        let u32_at = |at: usize| u32::from_le_bytes(raw[at..at + 4].try_into().unwrap());
        let u64_at = |at: usize| u64::from_le_bytes(raw[at..at + 8].try_into().unwrap());
        let mode = u32_at(24);
        Self {
            mode,
            nlink: u64_at(16),
            owner: (u32_at(28), u32_at(32)),
            size: (mode & libc::S_IFMT != libc::S_IFDIR).then(|| u64_at(48) as i64),
        }
    }
}

/// What a call gave back beyond its return value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    /// Nothing (failure, or a call that returns only a value).
    Nothing,
    /// Bytes read.
    Bytes(Vec<u8>),
    /// `stat` fields.
    Stat(StatFields),
    /// Directory entries, `(name, d_type)`, sorted by name (the order is the filesystem's).
    Dirents(Vec<(Vec<u8>, u8)>),
    /// The two descriptors of a pipe.
    Fds(i32, i32),
    /// An integer, or two offsets.
    Ints(Vec<i64>),
}

/// What one call did: its result (value or errno) and what it gave back.
#[derive(Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The return value, or the errno.
    pub ret: Result<i64, i32>,
    /// The data it returned through memory.
    pub got: Got,
}

impl fmt::Debug for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ret {
            Ok(value) => write!(f, "Ok({value})")?,
            Err(errno) => write!(f, "Err({})", errno_name(errno))?,
        }
        match &self.got {
            Got::Nothing => Ok(()),
            Got::Bytes(bytes) => write!(f, " bytes {:?}", String::from_utf8_lossy(bytes)),
            Got::Stat(stat) => write!(
                f,
                " stat{{mode {:o}, nlink {}, owner {}:{}, size {:?}}}",
                stat.mode, stat.nlink, stat.owner.0, stat.owner.1, stat.size
            ),
            Got::Dirents(entries) => {
                let names: Vec<String> = entries
                    .iter()
                    .map(|(name, kind)| format!("{}/{kind}", String::from_utf8_lossy(name)))
                    .collect();
                write!(f, " dirents {names:?}")
            }
            Got::Fds(r, w) => write!(f, " fds [{r}, {w}]"),
            Got::Ints(values) => write!(f, " ints {values:?}"),
        }
    }
}

/// `ENOENT` and friends by name, for reports.
pub fn errno_name(errno: i32) -> String {
    let name = match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EIO => "EIO",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EXDEV => "EXDEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::EMFILE => "EMFILE",
        libc::ENOTTY => "ENOTTY",
        libc::EFBIG => "EFBIG",
        libc::ENOSPC => "ENOSPC",
        libc::ESPIPE => "ESPIPE",
        libc::EROFS => "EROFS",
        libc::EMLINK => "EMLINK",
        libc::EPIPE => "EPIPE",
        libc::ERANGE => "ERANGE",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ENOSYS => "ENOSYS",
        libc::ENOTEMPTY => "ENOTEMPTY",
        libc::ELOOP => "ELOOP",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EOVERFLOW => "EOVERFLOW",
        _ => return format!("errno {errno}"),
    };
    name.to_string()
}

/// An object created identically in both scratch roots before a case runs.
#[derive(Debug, Clone)]
pub enum Fixture {
    /// A regular file with this content and permission bits.
    File(&'static str, &'static [u8], u32),
    /// A directory with these permission bits.
    Dir(&'static str, u32),
    /// A symbolic link with this target.
    Symlink(&'static str, &'static str),
    /// A hard link to an existing fixture.
    Hardlink(&'static str, &'static str),
    /// Owner and group of an existing fixture (not following links).
    Owner(&'static str, u32, u32),
    /// Permission bits of an existing fixture, set after its owner (whose change clears the
    /// set-user-ID bit).
    Mode(&'static str, u32),
}

/// Who runs the sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Creds {
    /// Real, effective and saved uid.
    pub uid: u32,
    /// Real, effective and saved gid; no supplementary groups.
    pub gid: u32,
}

/// Root.
pub const ROOT: Creds = Creds { uid: 0, gid: 0 };
/// `nobody`: the unprivileged user of the permission cases.
pub const NOBODY: Creds = Creds {
    uid: 65534,
    gid: 65534,
};

/// A hand-written case: a fixture tree, credentials and a sequence of ops.
#[derive(Debug, Clone)]
pub struct Case {
    /// A unique name (`family/what`).
    pub name: String,
    /// The tree both roots start with.
    pub fixture: Vec<Fixture>,
    /// Who runs the ops.
    pub creds: Creds,
    /// The ops, in order.
    pub ops: Vec<Op>,
}

impl Case {
    /// A case run as root.
    pub fn new(name: &str, fixture: &[Fixture], ops: Vec<Op>) -> Self {
        Self {
            name: name.to_string(),
            fixture: fixture.to_vec(),
            creds: ROOT,
            ops,
        }
    }

    /// The same case run as `creds`.
    pub fn run_as(mut self, creds: Creds) -> Self {
        self.creds = creds;
        self
    }
}

fn bits(value: i64, names: &[(i64, &str)], zero: &str) -> String {
    let mut parts = Vec::new();
    let mut rest = value;
    for &(bit, name) in names {
        if bit != 0 && rest & bit == bit {
            parts.push(name.to_string());
            rest &= !bit;
        }
    }
    if rest != 0 || parts.is_empty() {
        if rest == 0 {
            return zero.to_string();
        }
        parts.push(format!("{rest:#x}"));
    }
    parts.join("|")
}

fn open_flags(value: i64) -> String {
    use libc::*;
    let access = match value & 3 {
        0 => "O_RDONLY",
        1 => "O_WRONLY",
        2 => "O_RDWR",
        _ => "O_ACCMODE",
    };
    let others: &[(i64, &str)] = &[
        (O_CREAT as i64, "O_CREAT"),
        (O_EXCL as i64, "O_EXCL"),
        (O_TRUNC as i64, "O_TRUNC"),
        (O_APPEND as i64, "O_APPEND"),
        (O_NONBLOCK as i64, "O_NONBLOCK"),
        (O_DIRECTORY as i64, "O_DIRECTORY"),
        (O_NOFOLLOW as i64, "O_NOFOLLOW"),
        (O_CLOEXEC as i64, "O_CLOEXEC"),
    ];
    let rest = value & !3;
    if rest == 0 {
        access.to_string()
    } else {
        format!("{access}|{}", bits(rest, others, ""))
    }
}

/// Replaces the number after `field: ` in `text` by `render(number)`.
fn rewrite(text: &str, field: &str, render: impl Fn(i64) -> String) -> String {
    let key = format!("{field}: ");
    let Some(at) = text.find(&key) else {
        return text.to_string();
    };
    let start = at + key.len();
    let len = text[start..]
        .find(|c: char| !(c.is_ascii_digit() || c == '-'))
        .unwrap_or(text.len() - start);
    match text[start..start + len].parse::<i64>() {
        Ok(value) => format!(
            "{}{}{}",
            &text[..start],
            render(value),
            &text[start + len..]
        ),
        Err(_) => text.to_string(),
    }
}

/// The op as a report shows it: flags, modes, commands by name.
pub fn describe(op: &Op) -> String {
    use libc::*;
    let text = format!("{op:?}");
    let octal = |v: i64| format!("0o{v:o}");
    let at_flags = |v: i64| {
        bits(
            v,
            &[
                (AT_SYMLINK_NOFOLLOW as i64, "AT_SYMLINK_NOFOLLOW"),
                (AT_REMOVEDIR as i64, "AT_REMOVEDIR"),
                (AT_SYMLINK_FOLLOW as i64, "AT_SYMLINK_FOLLOW"),
                (AT_EMPTY_PATH as i64, "AT_EMPTY_PATH"),
            ],
            "0",
        )
    };
    match op {
        Op::Open { .. } | Op::Openat { .. } => {
            rewrite(&rewrite(&text, "flags", open_flags), "mode", octal)
        }
        Op::Pipe2 { .. } | Op::Dup3 { .. } => rewrite(&text, "flags", |v| {
            bits(
                v,
                &[
                    (O_CLOEXEC as i64, "O_CLOEXEC"),
                    (O_NONBLOCK as i64, "O_NONBLOCK"),
                ],
                "0",
            )
        }),
        Op::Newfstatat { .. } | Op::Linkat { .. } | Op::Unlinkat { .. } => {
            rewrite(&text, "flags", at_flags)
        }
        Op::Mkdir { .. }
        | Op::Mkdirat { .. }
        | Op::Creat { .. }
        | Op::Mknod { .. }
        | Op::Mknodat { .. } => rewrite(&text, "mode", octal),
        Op::Umask { .. } => rewrite(&text, "mask", octal),
        Op::Access { .. } | Op::Faccessat { .. } | Op::Faccessat2 { .. } => {
            rewrite(&text, "mode", |v| {
                bits(
                    v,
                    &[
                        (R_OK as i64, "R_OK"),
                        (W_OK as i64, "W_OK"),
                        (X_OK as i64, "X_OK"),
                    ],
                    "F_OK",
                )
            })
        }
        Op::Lseek { .. } => rewrite(&text, "whence", |v| match v as i32 {
            SEEK_SET => "SEEK_SET".into(),
            SEEK_CUR => "SEEK_CUR".into(),
            SEEK_END => "SEEK_END".into(),
            SEEK_DATA => "SEEK_DATA".into(),
            SEEK_HOLE => "SEEK_HOLE".into(),
            other => other.to_string(),
        }),
        Op::Fcntl { .. } => rewrite(&text, "cmd", |v| match v as i32 {
            F_DUPFD => "F_DUPFD".into(),
            F_GETFD => "F_GETFD".into(),
            F_SETFD => "F_SETFD".into(),
            F_GETFL => "F_GETFL".into(),
            F_SETFL => "F_SETFL".into(),
            F_DUPFD_CLOEXEC => "F_DUPFD_CLOEXEC".into(),
            other => other.to_string(),
        }),
        Op::Ioctl { .. } => rewrite(&text, "request", |v| match v as u64 {
            FIONREAD => "FIONREAD".into(),
            FIOCLEX => "FIOCLEX".into(),
            FIONCLEX => "FIONCLEX".into(),
            TCGETS => "TCGETS".into(),
            other => format!("{other:#x}"),
        }),
        _ => text,
    }
}
