//! `mknod`, `mknodat`: regular files, FIFOs and socket nodes made; devices, directories and
//! unknown types refused in Linux's order. `syncfs` of the filesystem they are on.

use super::*;

fn mknod(path: &str, mode: u32) -> Op {
    Op::Mknod {
        path: p(path),
        mode,
        dev: 0,
    }
}

fn mknodat(dirfd: Fd, path: &str, mode: u32) -> Op {
    Op::Mknodat {
        dirfd,
        path: p(path),
        mode,
        dev: 0,
    }
}

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "mknod/fifo",
            vec![mknod("/fifo", 0o10644), fstatat(Fd::Cwd, "/fifo", 0)],
        ),
        case(
            "mknod/socket",
            vec![mknod("/sock", 0o140600), fstatat(Fd::Cwd, "/sock", 0)],
        ),
        case(
            "mknod/regular-by-default",
            vec![mknod("/plain", 0o600), fstatat(Fd::Cwd, "/plain", 0)],
        ),
        case("mknod/eexist", vec![mknod("/f", 0o10644)]),
        case("mknod/eexist-before-eperm", vec![mknod("/f", 0o20666)]),
        case("mknod/eperm-directory", vec![mknod("/newdir", 0o40755)]),
        case("mknod/einval-type", vec![mknod("/bad", 0o170644)]),
        case("mknod/enoent-parent", vec![mknod("/missing/fifo", 0o10644)]),
        case(
            "mknod/efault",
            vec![Op::Mknod {
                path: P::Bad,
                mode: 0o10644,
                dev: 0,
            }],
        ),
        nobody("mknod/eacces", vec![mknod("/fifo", 0o10644)]),
        case(
            "mknodat/dirfd",
            vec![
                open("/d", O_RDONLY),
                mknodat(h(0), "fifo", 0o10600),
                fstatat(h(0), "fifo", 0),
            ],
        ),
        case("mknodat/ebadf", vec![mknodat(BADFD, "fifo", 0o10644)]),
        case(
            "syncfs/file",
            vec![open("/f", O_RDONLY), Op::Syncfs { fd: h(0) }],
        ),
        case("syncfs/ebadf", vec![Op::Syncfs { fd: BADFD }]),
        case(
            "mknodat/enotdir-dirfd-file",
            vec![open("/f", O_RDONLY), mknodat(h(0), "fifo", 0o10644)],
        ),
    ]
}
