//! `stat`, `lstat`, `fstat`, `newfstatat`.

use super::*;

fn stat_p(path: P, buf: Out) -> Op {
    Op::Stat { path, buf }
}
fn lstat_p(path: P, buf: Out) -> Op {
    Op::Lstat { path, buf }
}

pub fn cases() -> Vec<Case> {
    let ln = long_name();
    let lp = long_path();
    vec![
        // stat
        case(
            "stat/file-dir-root",
            vec![stat("/f"), stat("/d"), stat("/"), stat("/ro"), stat("/exe")],
        ),
        case("stat/hard-linked", vec![stat("/d/g"), stat("/d/g2")]),
        case(
            "stat/follows-symlinks",
            vec![stat("/l"), stat("/la"), stat("/ld"), stat("/lup")],
        ),
        case("stat/owner", vec![stat("/nobody"), stat("/nobody/mine")]),
        case(
            "stat/dot-and-dotdot",
            vec![stat("/d/."), stat("/d/.."), stat("/d/sub/../g"), stat(".")],
        ),
        case("stat/enoent", vec![stat("/nope")]),
        case("stat/enoent-empty", vec![stat("")]),
        case("stat/enoent-dangling", vec![stat("/dangling")]),
        case("stat/enotdir", vec![stat("/f/x"), stat("/f/")]),
        case("stat/eloop", vec![stat("/loop1"), stat("/loop1/x")]),
        case("stat/enametoolong", vec![stat(&ln), stat(&lp)]),
        case("stat/efault-path", vec![stat_p(P::Bad, Out::Ok)]),
        case("stat/efault-buf", vec![stat_p(p("/f"), Out::Bad)]),
        nobody(
            "stat/eacces-search",
            vec![stat("/locked/x"), stat("/locked")],
        ),
        nobody("stat/nobody-ok", vec![stat("/secret"), stat("/f")]),
        // lstat
        case(
            "lstat/symlinks-themselves",
            vec![
                lstat("/l"),
                lstat("/la"),
                lstat("/dangling"),
                lstat("/loop1"),
            ],
        ),
        case(
            "lstat/file-and-dir",
            vec![lstat("/f"), lstat("/d"), lstat("/ld/")],
        ),
        case("lstat/through-link-dir", vec![lstat("/ld/g")]),
        case("lstat/enoent", vec![lstat("/nope"), lstat("")]),
        case("lstat/enotdir", vec![lstat("/f/x")]),
        case("lstat/eloop-in-middle", vec![lstat("/loop1/x")]),
        case(
            "lstat/efault",
            vec![lstat_p(P::Bad, Out::Ok), lstat_p(p("/f"), Out::Bad)],
        ),
        case("lstat/enametoolong", vec![lstat(&ln)]),
        // fstat
        case("fstat/file", vec![open("/f", O_RDONLY), fstat(h(0))]),
        case("fstat/dir", vec![open("/d", O_RDONLY), fstat(h(0))]),
        case("fstat/pipe", vec![pipe2(0), fstat(h(0)), fstat(h(1))]),
        case(
            "fstat/after-write",
            vec![
                open("/new", O_CREAT | O_RDWR),
                write(h(0), "12345"),
                fstat(h(0)),
            ],
        ),
        case(
            "fstat/unlinked-open-file",
            vec![open("/f", O_RDONLY), unlink("/f"), fstat(h(0))],
        ),
        case("fstat/ebadf", vec![fstat(BADFD), fstat(Fd::Raw(-1))]),
        case(
            "fstat/efault",
            vec![
                open("/f", O_RDONLY),
                Op::Fstat {
                    fd: h(0),
                    buf: Out::Bad,
                },
            ],
        ),
        // newfstatat
        case(
            "newfstatat/cwd",
            vec![fstatat(Fd::Cwd, "f", 0), fstatat(Fd::Cwd, "/d", 0)],
        ),
        case(
            "newfstatat/dirfd",
            vec![
                open("/d", O_RDONLY),
                fstatat(h(0), "g", 0),
                fstatat(h(0), "sub", 0),
            ],
        ),
        case(
            "newfstatat/nofollow",
            vec![
                fstatat(Fd::Cwd, "l", AT_SYMLINK_NOFOLLOW),
                fstatat(Fd::Cwd, "l", 0),
            ],
        ),
        case(
            "newfstatat/empty-path",
            vec![open("/f", O_RDONLY), fstatat(h(0), "", AT_EMPTY_PATH)],
        ),
        case(
            "newfstatat/empty-path-cwd",
            vec![fstatat(Fd::Cwd, "", AT_EMPTY_PATH)],
        ),
        case(
            "newfstatat/enoent-empty-without-flag",
            vec![open("/f", O_RDONLY), fstatat(h(0), "", 0)],
        ),
        case("newfstatat/einval-flags", vec![fstatat(Fd::Cwd, "f", 0x1)]),
        case("newfstatat/ebadf", vec![fstatat(BADFD, "f", 0)]),
        case(
            "newfstatat/absolute-ignores-bad-dirfd",
            vec![fstatat(BADFD, "/f", 0)],
        ),
        case(
            "newfstatat/enotdir-dirfd-file",
            vec![open("/f", O_RDONLY), fstatat(h(0), "x", 0)],
        ),
        case(
            "newfstatat/eloop",
            vec![
                fstatat(Fd::Cwd, "loop1", 0),
                fstatat(Fd::Cwd, "loop1", AT_SYMLINK_NOFOLLOW),
            ],
        ),
        case(
            "newfstatat/efault",
            vec![
                Op::Newfstatat {
                    dirfd: Fd::Cwd,
                    path: P::Bad,
                    buf: Out::Ok,
                    flags: 0,
                },
                Op::Newfstatat {
                    dirfd: Fd::Cwd,
                    path: p("f"),
                    buf: Out::Bad,
                    flags: 0,
                },
            ],
        ),
        nobody("newfstatat/eacces", vec![fstatat(Fd::Cwd, "locked/x", 0)]),
    ]
}
