//! Hand-written cases, one module per call family, over one shared fixture tree, with short
//! builders for the ops.

#![allow(dead_code)]

pub mod attrs;
pub mod dirs;
pub mod fds;
pub mod fileops;
pub mod files;
pub mod io;
pub mod names;
pub mod nodes;
pub mod stat;
pub mod statx;
pub mod transfer;

pub use crate::model::*;
pub use libc::{
    AT_EMPTY_PATH, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, F_DUPFD, F_DUPFD_CLOEXEC,
    F_GETFD, F_GETFL, F_OK, F_SETFD, F_SETFL, O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL,
    O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, R_OK, SEEK_CUR, SEEK_END,
    SEEK_SET, W_OK, X_OK,
};

/// Every hand-written case.
pub fn all() -> Vec<Case> {
    [
        files::cases(),
        io::cases(),
        stat::cases(),
        statx::cases(),
        attrs::cases(),
        dirs::old_getdents_cases(),
        fileops::cases(),
        dirs::cases(),
        names::cases(),
        nodes::cases(),
        fds::cases(),
        transfer::cases(),
    ]
    .concat()
}

/// The tree every case starts from (both roots get it, built from the host side as root).
pub const FIX: &[Fixture] = &[
    Fixture::File("/f", b"hello, world\n", 0o644),
    Fixture::File("/ro", b"read only\n", 0o444),
    Fixture::File("/secret", b"secret\n", 0o600),
    Fixture::File("/exe", b"#!/bin/sh\n", 0o755),
    Fixture::Dir("/d", 0o755),
    Fixture::File("/d/g", b"gee\n", 0o644),
    Fixture::Hardlink("/d/g2", "/d/g"),
    Fixture::Dir("/d/sub", 0o755),
    Fixture::Dir("/e", 0o755),
    Fixture::Dir("/locked", 0o700),
    Fixture::File("/locked/x", b"x\n", 0o644),
    Fixture::Dir("/nobody", 0o755),
    Fixture::Owner("/nobody", 65534, 65534),
    Fixture::File("/nobody/mine", b"mine\n", 0o644),
    Fixture::Owner("/nobody/mine", 65534, 65534),
    Fixture::File("/nobody/private", b"private\n", 0o000),
    Fixture::Owner("/nobody/private", 65534, 65534),
    Fixture::Symlink("/l", "f"),
    Fixture::Symlink("/la", "/d/g"),
    Fixture::Symlink("/ld", "d"),
    Fixture::Symlink("/lup", "../../d"),
    Fixture::Symlink("/dangling", "nowhere"),
    Fixture::Symlink("/loop1", "loop2"),
    Fixture::Symlink("/loop2", "loop1"),
];

/// A case over [`FIX`], as root.
pub fn case(name: &str, ops: Vec<Op>) -> Case {
    Case::new(name, FIX, ops)
}

/// A case over [`FIX`], as `nobody` (65534:65534).
pub fn nobody(name: &str, ops: Vec<Op>) -> Case {
    Case::new(name, FIX, ops).run_as(NOBODY)
}

/// The `n`-th descriptor the sequence opened.
pub fn h(n: usize) -> Fd {
    Fd::H(n)
}

/// A descriptor that is not open.
pub const BADFD: Fd = Fd::Raw(NEVER_OPEN);

/// A path component longer than `NAME_MAX`.
pub fn long_name() -> String {
    format!("/{}", "n".repeat(256))
}

/// A path longer than `PATH_MAX` made of existing-looking components.
pub fn long_path() -> String {
    "/d".repeat(2100)
}

pub fn open(path: &str, flags: i32) -> Op {
    Op::Open {
        path: p(path),
        flags,
        mode: 0o644,
    }
}
pub fn open_mode(path: &str, flags: i32, mode: u32) -> Op {
    Op::Open {
        path: p(path),
        flags,
        mode,
    }
}
pub fn open_p(path: P, flags: i32) -> Op {
    Op::Open {
        path,
        flags,
        mode: 0o644,
    }
}
pub fn openat(dirfd: Fd, path: &str, flags: i32) -> Op {
    Op::Openat {
        dirfd,
        path: p(path),
        flags,
        mode: 0o644,
    }
}
pub fn close(fd: Fd) -> Op {
    Op::Close { fd }
}
pub fn read(fd: Fd, count: usize) -> Op {
    Op::Read {
        fd,
        buf: Out::Ok,
        count,
    }
}
pub fn write(fd: Fd, text: &str) -> Op {
    Op::Write { fd, data: d(text) }
}
pub fn lseek(fd: Fd, offset: i64, whence: i32) -> Op {
    Op::Lseek {
        fd,
        offset,
        whence: whence as u32,
    }
}
pub fn stat(path: &str) -> Op {
    Op::Stat {
        path: p(path),
        buf: Out::Ok,
    }
}
pub fn lstat(path: &str) -> Op {
    Op::Lstat {
        path: p(path),
        buf: Out::Ok,
    }
}
pub fn fstat(fd: Fd) -> Op {
    Op::Fstat { fd, buf: Out::Ok }
}
pub fn fstatat(dirfd: Fd, path: &str, flags: i32) -> Op {
    Op::Newfstatat {
        dirfd,
        path: p(path),
        buf: Out::Ok,
        flags,
    }
}
pub fn getcwd() -> Op {
    Op::Getcwd {
        buf: Out::Ok,
        size: 4096,
    }
}
pub fn chdir(path: &str) -> Op {
    Op::Chdir { path: p(path) }
}
pub fn chroot(path: &str) -> Op {
    Op::Chroot { path: p(path) }
}
pub fn mkdir(path: &str, mode: u32) -> Op {
    Op::Mkdir {
        path: p(path),
        mode,
    }
}
pub fn rmdir(path: &str) -> Op {
    Op::Rmdir { path: p(path) }
}
pub fn unlink(path: &str) -> Op {
    Op::Unlink { path: p(path) }
}
pub fn rename(old: &str, new: &str) -> Op {
    Op::Rename {
        old: p(old),
        new: p(new),
    }
}
pub fn link(old: &str, new: &str) -> Op {
    Op::Link {
        old: p(old),
        new: p(new),
    }
}
pub fn readlink(path: &str, size: usize) -> Op {
    Op::Readlink {
        path: p(path),
        buf: Out::Ok,
        size,
    }
}
pub fn access(path: &str, mode: i32) -> Op {
    Op::Access {
        path: p(path),
        mode,
    }
}
pub fn getdents(fd: Fd) -> Op {
    Op::Getdents64 {
        fd,
        buf: Out::Ok,
        count: 4096,
    }
}
pub fn dup(fd: Fd) -> Op {
    Op::Dup { fd }
}
pub fn fcntl(fd: Fd, cmd: i32, arg: u64) -> Op {
    Op::Fcntl { fd, cmd, arg }
}
pub fn pipe2(flags: i32) -> Op {
    Op::Pipe2 {
        buf: Out::Ok,
        flags,
    }
}
pub fn truncate(path: &str, length: i64) -> Op {
    Op::Truncate {
        path: p(path),
        length,
    }
}
