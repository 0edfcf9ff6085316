//! `chmod`, `fchmod`, `fchmodat`, `fchmodat2`, `chown`, `fchown`, `lchown`, `fchownat`,
//! `utimensat`, `utimes`, `futimesat`, `utime`: attributes and who may change them. The
//! trees after each case (modes and owners) are compared too.

use super::*;

const UTIME_NOW: i64 = (1 << 30) - 1;
const UTIME_OMIT: i64 = (1 << 30) - 2;
const KEEP: u32 = u32::MAX;

/// [`FIX`] plus set-user-ID and set-group-ID files, some owned by `nobody`.
fn fixture() -> Vec<Fixture> {
    let mut fixture = FIX.to_vec();
    fixture.extend([
        Fixture::File("/suid", b"s\n", 0o6755),
        Fixture::File("/sgid-nx", b"g\n", 0o2644),
        Fixture::Dir("/sgid-dir", 0o2775),
        Fixture::File("/nobody/suid", b"s\n", 0o644),
        Fixture::Owner("/nobody/suid", 65534, 65534),
        Fixture::Mode("/nobody/suid", 0o6755),
        Fixture::File("/nobody/sgid-root-group", b"g\n", 0o644),
        Fixture::Owner("/nobody/sgid-root-group", 65534, 0),
        Fixture::Mode("/nobody/sgid-root-group", 0o2644),
        Fixture::File("/nobody/shared", b"w\n", 0o666),
        Fixture::Owner("/nobody/shared", 0, 0),
        Fixture::Symlink("/nobody/link", "mine"),
        Fixture::Owner("/nobody/link", 65534, 65534),
    ]);
    fixture
}

fn root(name: &str, ops: Vec<Op>) -> Case {
    Case::new(name, &fixture(), ops)
}

fn as_nobody(name: &str, ops: Vec<Op>) -> Case {
    Case::new(name, &fixture(), ops).run_as(NOBODY)
}

fn chmod(path: &str, mode: u32) -> Op {
    Op::Chmod {
        path: p(path),
        mode,
    }
}
fn fchmod(fd: Fd, mode: u32) -> Op {
    Op::Fchmod { fd, mode }
}
fn fchmodat(dirfd: Fd, path: &str, mode: u32) -> Op {
    Op::Fchmodat {
        dirfd,
        path: p(path),
        mode,
    }
}
fn fchmodat2(dirfd: Fd, path: &str, mode: u32, flags: i32) -> Op {
    Op::Fchmodat2 {
        dirfd,
        path: p(path),
        mode,
        flags,
    }
}
fn chown(path: &str, uid: u32, gid: u32) -> Op {
    Op::Chown {
        path: p(path),
        uid,
        gid,
    }
}
fn lchown(path: &str, uid: u32, gid: u32) -> Op {
    Op::Lchown {
        path: p(path),
        uid,
        gid,
    }
}
fn fchown(fd: Fd, uid: u32, gid: u32) -> Op {
    Op::Fchown { fd, uid, gid }
}
fn fchownat(dirfd: Fd, path: &str, uid: u32, gid: u32, flags: i32) -> Op {
    Op::Fchownat {
        dirfd,
        path: p(path),
        uid,
        gid,
        flags,
    }
}
fn utimensat(dirfd: Fd, path: P, times: Times, flags: i32) -> Op {
    Op::Utimensat {
        dirfd,
        path,
        times,
        flags,
    }
}
fn times(path: &str) -> Op {
    Op::StatTimes {
        path: p(path),
        flags: AT_SYMLINK_NOFOLLOW,
    }
}
fn set(atime: (i64, i64), mtime: (i64, i64)) -> Times {
    Times::Set([atime, mtime])
}

pub fn cases() -> Vec<Case> {
    vec![
        // chmod
        root(
            "chmod/root-any-mode",
            vec![
                chmod("/f", 0o600),
                chmod("/d", 0o1777),
                chmod("/l", 0o4711),
                chmod("/nobody/mine", 0o7000),
                chmod("/ro", 0x1_0000 | 0o170_640),
                stat("/ro"),
            ],
        ),
        as_nobody(
            "chmod/owner-only",
            vec![
                chmod("/nobody/mine", 0o600),
                chmod("/nobody/private", 0o644),
                chmod("/f", 0o777),
            ],
        ),
        as_nobody(
            "chmod/setgid-dropped-outside-group",
            vec![
                chmod("/nobody/sgid-root-group", 0o2755),
                chmod("/nobody/mine", 0o2755),
            ],
        ),
        root(
            "chmod/errors",
            vec![
                chmod("/nope", 0o644),
                chmod("", 0o644),
                chmod("/dangling", 0o644),
                chmod("/f/x", 0o644),
                chmod("/loop1", 0o644),
                chmod(&long_name(), 0o644),
                Op::Chmod {
                    path: P::Bad,
                    mode: 0o644,
                },
            ],
        ),
        as_nobody("chmod/eacces-search", vec![chmod("/locked/x", 0o644)]),
        // fchmod
        root(
            "fchmod/file-dir-pipe",
            vec![
                open("/f", O_RDONLY),
                fchmod(h(0), 0o640),
                open("/d", O_RDONLY),
                fchmod(h(1), 0o700),
                pipe2(0),
                fchmod(h(2), 0o600),
            ],
        ),
        as_nobody(
            "fchmod/not-owner",
            vec![
                open("/f", O_RDONLY),
                fchmod(h(0), 0o666),
                open("/nobody/mine", O_RDONLY),
                fchmod(h(1), 0o600),
                pipe2(0),
                fchmod(h(2), 0o600),
            ],
        ),
        root(
            "fchmod/ebadf",
            vec![
                fchmod(BADFD, 0o644),
                open("/f", libc::O_PATH),
                fchmod(h(0), 0o600),
            ],
        ),
        // fchmodat, fchmodat2
        root(
            "fchmodat/dirfd-and-links",
            vec![
                open("/d", O_RDONLY),
                fchmodat(h(0), "g", 0o600),
                fchmodat(Fd::Cwd, "l", 0o640),
                fchmodat(BADFD, "/exe", 0o700),
            ],
        ),
        root(
            "fchmodat/errors",
            vec![
                fchmodat(BADFD, "f", 0o644),
                fchmodat(Fd::Cwd, "nope", 0o644),
                open("/f", O_RDONLY),
                fchmodat(h(0), "x", 0o644),
            ],
        ),
        root(
            "fchmodat2/flags",
            vec![
                fchmodat2(Fd::Cwd, "l", 0o600, AT_SYMLINK_NOFOLLOW),
                fchmodat2(Fd::Cwd, "f", 0o600, AT_SYMLINK_NOFOLLOW),
                fchmodat2(Fd::Cwd, "f", 0o600, 0x2),
                open("/d", O_RDONLY),
                fchmodat2(h(0), "", 0o711, AT_EMPTY_PATH),
                fchmodat2(h(0), "", 0o711, 0),
                open("/l", libc::O_PATH | O_NOFOLLOW),
                fchmodat2(h(1), "", 0o600, AT_EMPTY_PATH),
            ],
        ),
        // chown and friends
        root(
            "chown/root-gives-away-and-clears-setid",
            vec![
                chown("/suid", 65534, KEEP),
                chown("/sgid-nx", KEEP, 65534),
                chown("/sgid-dir", 65534, 65534),
                chown("/f", KEEP, KEEP),
                chown("/l", 1234, 5678),
            ],
        ),
        root(
            "chown/unchanged-ids-still-clear-setuid",
            vec![chown("/suid", KEEP, KEEP), stat("/suid")],
        ),
        as_nobody(
            "chown/owner-limits",
            vec![
                chown("/nobody/mine", 0, KEEP),
                chown("/nobody/mine", KEEP, 0),
                chown("/nobody/mine", 65534, 65534),
                chown("/nobody/mine", KEEP, KEEP),
                chown("/f", KEEP, KEEP),
                chown("/f", 65534, KEEP),
            ],
        ),
        as_nobody(
            "chown/owner-clears-setid",
            vec![
                chown("/nobody/suid", KEEP, KEEP),
                chown("/nobody/sgid-root-group", KEEP, KEEP),
                chown("/suid", KEEP, KEEP),
            ],
        ),
        root(
            "chown/errors",
            vec![
                chown("/nope", 0, 0),
                chown("", 0, 0),
                chown("/dangling", 0, 0),
                chown("/f/x", 0, 0),
                Op::Chown {
                    path: P::Bad,
                    uid: 0,
                    gid: 0,
                },
            ],
        ),
        root(
            "lchown/the-link-itself",
            vec![
                lchown("/l", 65534, 65534),
                lchown("/dangling", 7, 7),
                lchown("/f", 8, KEEP),
                lchown("/nope", 0, 0),
            ],
        ),
        as_nobody(
            "lchown/nobody",
            vec![
                lchown("/nobody/link", 65534, 65534),
                lchown("/l", KEEP, KEEP),
                lchown("/l", 65534, KEEP),
                lchown("/locked/x", 0, 0),
            ],
        ),
        root(
            "fchown/descriptors",
            vec![
                open("/f", O_RDONLY),
                fchown(h(0), 65534, 65534),
                open("/suid", O_RDONLY),
                fchown(h(1), KEEP, KEEP),
                pipe2(0),
                fchown(h(2), 1, 1),
            ],
        ),
        root(
            "fchown/ebadf",
            vec![
                fchown(BADFD, 0, 0),
                fchown(Fd::Raw(-1), 0, 0),
                open("/f", libc::O_PATH),
                fchown(h(0), 0, 0),
            ],
        ),
        as_nobody(
            "fchown/nobody",
            vec![
                open("/f", O_RDONLY),
                fchown(h(0), KEEP, 65534),
                pipe2(0),
                fchown(h(1), 0, KEEP),
                fchown(h(1), KEEP, 65534),
            ],
        ),
        root(
            "fchownat/flags",
            vec![
                fchownat(Fd::Cwd, "l", 3, 3, AT_SYMLINK_NOFOLLOW),
                fchownat(Fd::Cwd, "l", 4, 4, 0),
                fchownat(Fd::Cwd, "l", 4, 4, 0x2),
                open("/d", O_RDONLY),
                fchownat(h(0), "", 5, 5, AT_EMPTY_PATH),
                fchownat(h(0), "", 5, 5, 0),
                fchownat(h(0), "g", 6, KEEP, 0),
                fchownat(BADFD, "g", 6, KEEP, 0),
            ],
        ),
        // utimensat
        root(
            "utimensat/explicit-omit-and-symlinks",
            vec![
                utimensat(Fd::Cwd, p("/f"), set((1000, 5), (2000, 999_999_999)), 0),
                times("/f"),
                utimensat(Fd::Cwd, p("/f"), set((0, UTIME_OMIT), (-7, 0)), 0),
                times("/f"),
                utimensat(Fd::Cwd, p("/l"), set((3, 0), (4, 0)), AT_SYMLINK_NOFOLLOW),
                times("/l"),
                times("/f"),
                utimensat(Fd::Cwd, p("/l"), set((5, 0), (6, 0)), 0),
                times("/f"),
            ],
        ),
        root(
            "utimensat/both-omit-checks-nothing",
            vec![
                utimensat(BADFD, P::Bad, set((0, UTIME_OMIT), (0, UTIME_OMIT)), 0xff),
                utimensat(
                    Fd::Cwd,
                    p("/nope"),
                    set((0, UTIME_OMIT), (0, UTIME_OMIT)),
                    0,
                ),
            ],
        ),
        root(
            "utimensat/descriptor-forms",
            vec![
                open("/f", O_RDONLY),
                utimensat(h(0), P::Null, set((11, 0), (12, 0)), 0),
                times("/f"),
                utimensat(h(0), P::Null, set((11, 0), (12, 0)), AT_SYMLINK_NOFOLLOW),
                utimensat(h(0), p(""), set((13, 0), (14, 0)), AT_EMPTY_PATH),
                times("/f"),
                utimensat(BADFD, P::Null, Times::Null, 0),
                open("/d", libc::O_PATH),
                utimensat(h(1), P::Null, set((1, 0), (1, 0)), 0),
                utimensat(h(1), p(""), set((15, 0), (16, 0)), AT_EMPTY_PATH),
                times("/d"),
                pipe2(0),
                utimensat(h(2), P::Null, Times::Null, 0),
            ],
        ),
        root(
            "utimensat/errors",
            vec![
                utimensat(Fd::Cwd, p("/f"), Times::Bad, 0),
                utimensat(Fd::Cwd, p("/f"), set((0, 1_000_000_000), (0, 0)), 0),
                utimensat(Fd::Cwd, p("/f"), set((0, 0), (0, -1)), 0),
                utimensat(Fd::Cwd, p("/nope"), set((0, -1), (0, 0)), 0),
                utimensat(Fd::Cwd, p("/f"), Times::Null, 0x2),
                utimensat(Fd::Cwd, P::Null, Times::Null, 0),
                utimensat(Fd::Cwd, P::Bad, Times::Null, 0),
                utimensat(Fd::Cwd, p(""), Times::Null, 0),
                utimensat(Fd::Cwd, p("/dangling"), Times::Null, 0),
            ],
        ),
        as_nobody(
            "utimensat/permissions",
            vec![
                utimensat(Fd::Cwd, p("/nobody/shared"), Times::Null, 0),
                utimensat(
                    Fd::Cwd,
                    p("/nobody/shared"),
                    set((0, UTIME_NOW), (0, UTIME_NOW)),
                    0,
                ),
                utimensat(
                    Fd::Cwd,
                    p("/nobody/shared"),
                    set((0, UTIME_NOW), (0, UTIME_OMIT)),
                    0,
                ),
                utimensat(Fd::Cwd, p("/nobody/shared"), set((1, 0), (2, 0)), 0),
                utimensat(Fd::Cwd, p("/f"), Times::Null, 0),
                utimensat(Fd::Cwd, p("/f"), set((1, 0), (2, 0)), 0),
                utimensat(Fd::Cwd, p("/nobody/mine"), set((1, 0), (2, 0)), 0),
                times("/nobody/mine"),
                utimensat(Fd::Cwd, p("/locked/x"), Times::Null, 0),
            ],
        ),
        // utimes, futimesat, utime
        root(
            "utimes/microseconds",
            vec![
                Op::Utimes {
                    path: p("/f"),
                    times: set((10, 3), (20, 999_999)),
                },
                times("/f"),
                Op::Utimes {
                    path: p("/l"),
                    times: set((30, 0), (40, 0)),
                },
                times("/f"),
                Op::Utimes {
                    path: p("/d"),
                    times: Times::Null,
                },
            ],
        ),
        root(
            "utimes/errors",
            vec![
                Op::Utimes {
                    path: p("/nope"),
                    times: set((10, 1_000_000), (20, 0)),
                },
                Op::Utimes {
                    path: p("/f"),
                    times: set((10, -1), (20, 0)),
                },
                Op::Utimes {
                    path: p("/nope"),
                    times: Times::Null,
                },
                Op::Utimes {
                    path: p("/f"),
                    times: Times::Bad,
                },
                Op::Utimes {
                    path: P::Bad,
                    times: Times::Null,
                },
            ],
        ),
        as_nobody(
            "utimes/nobody",
            vec![
                Op::Utimes {
                    path: p("/nobody/shared"),
                    times: Times::Null,
                },
                Op::Utimes {
                    path: p("/nobody/shared"),
                    times: set((1, 0), (1, 0)),
                },
            ],
        ),
        root(
            "futimesat/dirfd-and-null-path",
            vec![
                open("/d", O_RDONLY),
                Op::Futimesat {
                    dirfd: h(0),
                    path: p("g"),
                    times: set((50, 1), (60, 2)),
                },
                times("/d/g"),
                Op::Futimesat {
                    dirfd: h(0),
                    path: P::Null,
                    times: set((70, 0), (80, 0)),
                },
                times("/d"),
                Op::Futimesat {
                    dirfd: BADFD,
                    path: P::Null,
                    times: Times::Null,
                },
                Op::Futimesat {
                    dirfd: BADFD,
                    path: p("g"),
                    times: Times::Null,
                },
                Op::Futimesat {
                    dirfd: Fd::Cwd,
                    path: P::Null,
                    times: Times::Null,
                },
            ],
        ),
        root(
            "utime/seconds",
            vec![
                Op::Utime {
                    path: p("/f"),
                    times: set((90, 0), (100, 0)),
                },
                times("/f"),
                Op::Utime {
                    path: p("/f"),
                    times: Times::Null,
                },
                Op::Utime {
                    path: p("/nope"),
                    times: Times::Null,
                },
                Op::Utime {
                    path: p("/f"),
                    times: Times::Bad,
                },
            ],
        ),
        as_nobody(
            "utime/nobody",
            vec![
                Op::Utime {
                    path: p("/nobody/shared"),
                    times: Times::Null,
                },
                Op::Utime {
                    path: p("/nobody/shared"),
                    times: set((1, 0), (1, 0)),
                },
                Op::Utime {
                    path: p("/nobody/mine"),
                    times: set((1, 0), (1, 0)),
                },
                times("/nobody/mine"),
            ],
        ),
    ]
}
