//! `statx`, `statfs`, `fstatfs`.

use super::*;

const BASIC: u32 = 0x7ff;
const RESERVED: u32 = 0x8000_0000;
const FORCE_SYNC: i32 = 0x2000;
const DONT_SYNC: i32 = 0x4000;

fn statx(dirfd: Fd, path: &str, flags: i32, mask: u32) -> Op {
    Op::Statx {
        dirfd,
        path: p(path),
        flags,
        mask,
        buf: Out::Ok,
    }
}

fn statx_p(dirfd: Fd, path: P, flags: i32, buf: Out) -> Op {
    Op::Statx {
        dirfd,
        path,
        flags,
        mask: BASIC,
        buf,
    }
}

fn statfs(path: &str) -> Op {
    Op::Statfs {
        path: p(path),
        buf: Out::Ok,
    }
}

fn fstatfs(fd: Fd) -> Op {
    Op::Fstatfs { fd, buf: Out::Ok }
}

pub fn cases() -> Vec<Case> {
    vec![
        // statx
        case(
            "statx/file-dir-root",
            vec![
                statx(Fd::Cwd, "/f", 0, BASIC),
                statx(Fd::Cwd, "/d", 0, BASIC),
                // Asking for the modification time only: the basic fields come whatever is
                // asked. (Linux 6.13+ leaves both change times out when neither is asked
                // for; rVisor answers as 6.1, whose ABI it speaks, and always fills them.)
                statx(Fd::Cwd, "/", 0, 0x40),
                statx(Fd::Cwd, "/d/g2", 0, 0xffff),
            ],
        ),
        case(
            "statx/symlinks",
            vec![
                statx(Fd::Cwd, "/l", 0, BASIC),
                statx(Fd::Cwd, "/l", AT_SYMLINK_NOFOLLOW, BASIC),
                statx(Fd::Cwd, "/ld/", AT_SYMLINK_NOFOLLOW, BASIC),
                statx(Fd::Cwd, "/dangling", 0, BASIC),
            ],
        ),
        case(
            "statx/dirfd-and-sync-flags",
            vec![
                open("/d", O_RDONLY),
                statx(h(0), "g", FORCE_SYNC, BASIC),
                statx(h(0), "sub", DONT_SYNC, BASIC),
                statx(h(0), "/f", 0x800, BASIC),
            ],
        ),
        case(
            "statx/empty-path",
            vec![
                open("/f", O_RDONLY),
                statx(h(0), "", AT_EMPTY_PATH, BASIC),
                statx_p(h(0), P::Null, AT_EMPTY_PATH, Out::Ok),
                // With a descriptor, the other flags are not looked at (Linux 6.11+).
                statx(h(0), "", AT_EMPTY_PATH | 0x1, BASIC),
                statx(Fd::Cwd, "", AT_EMPTY_PATH, BASIC),
                statx_p(Fd::Cwd, P::Null, AT_EMPTY_PATH, Out::Ok),
                pipe2(0),
                statx(h(1), "", AT_EMPTY_PATH, BASIC),
            ],
        ),
        case(
            "statx/o-path",
            vec![
                open("/d", libc::O_PATH),
                statx(h(0), "", AT_EMPTY_PATH, BASIC),
                statx(h(0), "g", 0, BASIC),
            ],
        ),
        case(
            "statx/einval",
            vec![
                statx(Fd::Cwd, "/f", 0x1, BASIC),
                statx(Fd::Cwd, "/f", 0, RESERVED),
                statx(Fd::Cwd, "/f", FORCE_SYNC | DONT_SYNC, BASIC),
                // Flags and mask are checked before the path is read.
                statx_p(Fd::Cwd, P::Bad, 0x1, Out::Ok),
                open("/f", O_RDONLY),
                Op::Statx {
                    dirfd: h(0),
                    path: p(""),
                    flags: AT_EMPTY_PATH,
                    mask: RESERVED,
                    buf: Out::Ok,
                },
            ],
        ),
        case(
            "statx/enoent",
            vec![
                statx(Fd::Cwd, "/nope", 0, BASIC),
                statx(Fd::Cwd, "", 0, BASIC),
                statx(Fd::Cwd, "/dangling", 0, BASIC),
            ],
        ),
        case(
            "statx/ebadf",
            vec![
                statx(BADFD, "f", 0, BASIC),
                statx(BADFD, "", AT_EMPTY_PATH, BASIC),
                statx(Fd::Raw(-5), "", AT_EMPTY_PATH, BASIC),
                statx(BADFD, "/f", 0, BASIC),
            ],
        ),
        case(
            "statx/enotdir-eloop-enametoolong",
            vec![
                statx(Fd::Cwd, "/f/x", 0, BASIC),
                statx(Fd::Cwd, "/loop1", 0, BASIC),
                statx(Fd::Cwd, &long_name(), 0, BASIC),
                statx(Fd::Cwd, &long_path(), 0, BASIC),
            ],
        ),
        case(
            "statx/efault",
            vec![
                statx_p(Fd::Cwd, P::Bad, 0, Out::Ok),
                statx_p(Fd::Cwd, P::Null, 0, Out::Ok),
                statx_p(Fd::Cwd, p("/f"), 0, Out::Bad),
                statx_p(Fd::Cwd, P::Bad, AT_EMPTY_PATH, Out::Ok),
            ],
        ),
        nobody(
            "statx/eacces",
            vec![
                statx(Fd::Cwd, "/locked/x", 0, BASIC),
                statx(Fd::Cwd, "/locked", 0, BASIC),
                statx(Fd::Cwd, "/nobody/private", 0, BASIC),
            ],
        ),
        // statfs
        case(
            "statfs/paths",
            vec![statfs("/"), statfs("/d/g"), statfs("/l"), statfs("/ld/sub")],
        ),
        case(
            "statfs/errors",
            vec![
                statfs("/nope"),
                statfs(""),
                statfs("/dangling"),
                statfs("/f/x"),
                statfs("/loop1"),
                statfs(&long_name()),
                Op::Statfs {
                    path: P::Bad,
                    buf: Out::Ok,
                },
                Op::Statfs {
                    path: p("/f"),
                    buf: Out::Bad,
                },
            ],
        ),
        nobody(
            "statfs/eacces",
            vec![statfs("/locked/x"), statfs("/locked")],
        ),
        // fstatfs
        case(
            "fstatfs/file-dir-o-path",
            vec![
                open("/f", O_RDONLY),
                open("/d", O_RDONLY),
                open("/l", libc::O_PATH | O_NOFOLLOW),
                fstatfs(h(0)),
                fstatfs(h(1)),
                fstatfs(h(2)),
            ],
        ),
        case("fstatfs/pipe", vec![pipe2(0), fstatfs(h(0)), fstatfs(h(1))]),
        case(
            "fstatfs/errors",
            vec![
                fstatfs(BADFD),
                fstatfs(Fd::Raw(-1)),
                open("/f", O_RDONLY),
                Op::Fstatfs {
                    fd: h(0),
                    buf: Out::Bad,
                },
            ],
        ),
    ]
}
