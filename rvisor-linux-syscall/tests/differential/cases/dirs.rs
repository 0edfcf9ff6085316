//! `mkdir`, `mkdirat`, `rmdir`, `getdents64`, `getcwd`, `chdir`, `fchdir`.

use super::*;

fn mkdirat(dirfd: Fd, path: &str, mode: u32) -> Op {
    Op::Mkdirat {
        dirfd,
        path: p(path),
        mode,
    }
}
fn cwd_buf(buf: Out, size: usize) -> Op {
    Op::Getcwd { buf, size }
}
fn dents(fd: Fd, buf: Out, count: usize) -> Op {
    Op::Getdents64 { fd, buf, count }
}
fn fchdir(fd: Fd) -> Op {
    Op::Fchdir { fd }
}

pub fn cases() -> Vec<Case> {
    let ln = long_name();
    let lp = long_path();
    vec![
        // mkdir
        case(
            "mkdir/new-and-stat",
            vec![mkdir("/new", 0o777), stat("/new"), stat("/")],
        ),
        case("mkdir/mode-0750", vec![mkdir("/new", 0o750), stat("/new")]),
        case(
            "mkdir/sticky-and-setgid-bits",
            vec![mkdir("/new", 0o3777), stat("/new")],
        ),
        case(
            "mkdir/nested-relative",
            vec![
                mkdir("/d/new", 0o755),
                mkdir("d/new/deeper", 0o700),
                stat("/d"),
            ],
        ),
        case("mkdir/trailing-slash", vec![mkdir("/new/", 0o755)]),
        case("mkdir/through-symlinked-dir", vec![mkdir("/ld/new", 0o755)]),
        case("mkdir/eexist-dir", vec![mkdir("/d", 0o755)]),
        case("mkdir/eexist-file", vec![mkdir("/f", 0o755)]),
        case(
            "mkdir/eexist-symlink",
            vec![mkdir("/l", 0o755), mkdir("/dangling", 0o755)],
        ),
        case("mkdir/eexist-root", vec![mkdir("/", 0o755)]),
        case(
            "mkdir/enoent",
            vec![mkdir("/nope/new", 0o755), mkdir("", 0o755)],
        ),
        case("mkdir/enotdir", vec![mkdir("/f/new", 0o755)]),
        case("mkdir/eloop", vec![mkdir("/loop1/new", 0o755)]),
        case(
            "mkdir/enametoolong",
            vec![mkdir(&ln, 0o755), mkdir(&lp, 0o755)],
        ),
        case(
            "mkdir/efault",
            vec![Op::Mkdir {
                path: P::Bad,
                mode: 0o755,
            }],
        ),
        nobody("mkdir/eacces", vec![mkdir("/new", 0o755)]),
        nobody("mkdir/nobody-in-own-dir", vec![mkdir("/nobody/new", 0o777)]),
        // mkdirat
        case(
            "mkdirat/dirfd",
            vec![
                open("/d", O_RDONLY),
                mkdirat(h(0), "new", 0o700),
                fstatat(h(0), "new", 0),
            ],
        ),
        case("mkdirat/cwd", vec![mkdirat(Fd::Cwd, "new", 0o755)]),
        case("mkdirat/ebadf", vec![mkdirat(BADFD, "new", 0o755)]),
        case(
            "mkdirat/enotdir-dirfd-file",
            vec![open("/f", O_RDONLY), mkdirat(h(0), "new", 0o755)],
        ),
        case(
            "mkdirat/eexist",
            vec![open("/d", O_RDONLY), mkdirat(h(0), "sub", 0o755)],
        ),
        case(
            "mkdirat/efault",
            vec![Op::Mkdirat {
                dirfd: Fd::Cwd,
                path: P::Bad,
                mode: 0o755,
            }],
        ),
        nobody(
            "mkdirat/eacces",
            vec![open("/d", O_RDONLY), mkdirat(h(0), "new", 0o755)],
        ),
        // rmdir
        case("rmdir/empty", vec![rmdir("/e"), stat("/e"), stat("/")]),
        case("rmdir/trailing-slash", vec![rmdir("/e/")]),
        case("rmdir/nested", vec![rmdir("/d/sub"), stat("/d")]),
        case("rmdir/enotempty", vec![rmdir("/d")]),
        case("rmdir/enotempty-dotdot", vec![rmdir("/d/sub/..")]),
        case("rmdir/einval-dot", vec![rmdir("/e/.")]),
        case("rmdir/ebusy-root", vec![rmdir("/")]),
        case("rmdir/enotdir-file", vec![rmdir("/f")]),
        case("rmdir/enotdir-symlink-to-dir", vec![rmdir("/ld")]),
        case("rmdir/enoent", vec![rmdir("/nope"), rmdir("")]),
        case("rmdir/efault", vec![Op::Rmdir { path: P::Bad }]),
        case("rmdir/enametoolong", vec![rmdir(&ln)]),
        nobody("rmdir/eacces", vec![rmdir("/e")]),
        // getdents64
        case(
            "getdents64/dir",
            vec![
                open("/d", O_RDONLY | O_DIRECTORY),
                getdents(h(0)),
                getdents(h(0)),
            ],
        ),
        case("getdents64/root", vec![open("/", O_RDONLY), getdents(h(0))]),
        case(
            "getdents64/empty-dir",
            vec![open("/e", O_RDONLY), getdents(h(0))],
        ),
        case(
            "getdents64/after-create",
            vec![
                open("/e", O_RDONLY),
                open("/e/new", O_CREAT | O_WRONLY),
                getdents(h(0)),
            ],
        ),
        case(
            "getdents64/rewind",
            vec![
                open("/e", O_RDONLY),
                getdents(h(0)),
                lseek(h(0), 0, SEEK_SET),
                getdents(h(0)),
            ],
        ),
        case(
            "getdents64/removed-dir",
            vec![open("/e", O_RDONLY), rmdir("/e"), getdents(h(0))],
        ),
        case(
            "getdents64/removed-dir-after-reading",
            vec![
                open("/e", O_RDONLY),
                getdents(h(0)),
                rmdir("/e"),
                lseek(h(0), 0, SEEK_SET),
                getdents(h(0)),
            ],
        ),
        case(
            "getdents64/enotdir",
            vec![open("/f", O_RDONLY), getdents(h(0))],
        ),
        case("getdents64/ebadf", vec![getdents(BADFD)]),
        case(
            "getdents64/einval-tiny-buffer",
            vec![open("/d", O_RDONLY), dents(h(0), Out::Ok, 1)],
        ),
        case(
            "getdents64/efault",
            vec![open("/d", O_RDONLY), dents(h(0), Out::Bad, 4096)],
        ),
        nobody(
            "getdents64/eacces-open-unreadable-dir",
            vec![open("/locked", O_RDONLY)],
        ),
        case(
            "getdents64/position-after-the-end",
            vec![
                open("/d", O_RDONLY),
                dents(h(0), Out::Ok, 4096),
                lseek(h(0), 0, SEEK_CUR),
            ],
        ),
        // getcwd
        case("getcwd/root", vec![getcwd(), cwd_buf(Out::Ok, 2)]),
        case(
            "getcwd/after-chdir",
            vec![chdir("/d/sub"), getcwd(), chdir(".."), getcwd()],
        ),
        case("getcwd/through-symlink", vec![chdir("/ld"), getcwd()]),
        case(
            "getcwd/erange",
            vec![chdir("/d"), cwd_buf(Out::Ok, 2), cwd_buf(Out::Ok, 3)],
        ),
        case("getcwd/erange-root-size-1", vec![cwd_buf(Out::Ok, 1)]),
        case("getcwd/size-0", vec![cwd_buf(Out::Ok, 0)]),
        case("getcwd/efault", vec![cwd_buf(Out::Bad, 64)]),
        case(
            "getcwd/after-rename-of-cwd",
            vec![chdir("/d/sub"), rename("/d", "/moved"), getcwd()],
        ),
        case(
            "getcwd/enoent-cwd-removed",
            vec![mkdir("/t", 0o755), chdir("/t"), rmdir("/t"), getcwd()],
        ),
        // chdir
        case(
            "chdir/relative-after",
            vec![chdir("/d"), open("g", O_RDONLY), read(h(0), 16)],
        ),
        case(
            "chdir/dotdot-at-root",
            vec![chdir(".."), getcwd(), chdir("/.."), getcwd()],
        ),
        case("chdir/enoent", vec![chdir("/nope"), chdir("")]),
        case("chdir/enotdir", vec![chdir("/f"), chdir("/l")]),
        case("chdir/eloop", vec![chdir("/loop1")]),
        case("chdir/enametoolong", vec![chdir(&ln)]),
        case("chdir/efault", vec![Op::Chdir { path: P::Bad }]),
        nobody("chdir/eacces", vec![chdir("/locked")]),
        // chroot: the working directory stays outside the new root until a chdir; absolute
        // paths and `..` stop at the new root. (`getcwd` outside it is not compared: the
        // native side's root is itself a chroot, whose outside a container does not have.)
        case(
            "chroot/dir",
            vec![
                chroot("/d"),
                open("/g", O_RDONLY),
                open("/../../g", O_RDONLY),
                chdir("/sub/../.."),
                getcwd(),
                open("g", O_RDONLY),
                open("/f", O_RDONLY),
                chroot("sub"),
                chdir("/"),
                getcwd(),
            ],
        ),
        case(
            "chroot/cwd-outside",
            vec![chroot("/d"), open("f", O_RDONLY), open("d/g", O_RDONLY)],
        ),
        case(
            "chroot/errors",
            vec![
                chroot("/nope"),
                chroot("/f"),
                chroot("/loop1"),
                chroot(""),
                Op::Chroot { path: P::Bad },
            ],
        ),
        nobody("chroot/eacces", vec![chroot("/locked")]),
        nobody("chroot/eperm", vec![chroot("/d")]),
        // fchdir
        case(
            "fchdir/dir",
            vec![
                open("/d/sub", O_RDONLY),
                Op::Fchdir { fd: h(0) },
                getcwd(),
                open("../g", O_RDONLY),
            ],
        ),
        case("fchdir/ebadf", vec![fchdir(BADFD)]),
        case("fchdir/enotdir", vec![open("/f", O_RDONLY), fchdir(h(0))]),
        case("fchdir/pipe-enotdir", vec![pipe2(0), fchdir(h(0))]),
    ]
}

/// The old `getdents`: the same listing as `getdents64` in the old record layout.
pub fn old_getdents_cases() -> Vec<Case> {
    let getdents_old = |fd: Fd, count: usize| Op::Getdents {
        fd,
        buf: Out::Ok,
        count,
    };
    vec![
        case(
            "getdents/lists-and-ends",
            vec![
                open("/d", O_RDONLY | O_DIRECTORY),
                getdents_old(h(0), 4096),
                getdents_old(h(0), 4096),
                lseek(h(0), 0, SEEK_SET),
                getdents_old(h(0), 4096),
            ],
        ),
        case(
            "getdents/small-buffers",
            vec![
                open("/", O_RDONLY),
                getdents_old(h(0), 24),
                getdents_old(h(0), 23),
                getdents_old(h(0), 10),
                getdents_old(h(0), 4096),
            ],
        ),
        case(
            "getdents/errors",
            vec![
                getdents_old(BADFD, 4096),
                open("/f", O_RDONLY),
                getdents_old(h(0), 4096),
                open("/d", libc::O_PATH),
                getdents_old(h(1), 4096),
                open("/e", O_RDONLY),
                Op::Getdents {
                    fd: h(2),
                    buf: Out::Bad,
                    count: 4096,
                },
            ],
        ),
    ]
}
