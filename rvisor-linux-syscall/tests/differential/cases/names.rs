//! `rename`, `renameat`, `link`, `linkat`, `unlink`, `unlinkat`, `readlink`, `readlinkat`,
//! `access`, `faccessat`, `faccessat2`, `symlink`, `symlinkat`, `renameat2`, `truncate`,
//! `ftruncate`.

use super::*;

fn renameat(olddir: Fd, old: &str, newdir: Fd, new: &str) -> Op {
    Op::Renameat {
        olddir,
        old: p(old),
        newdir,
        new: p(new),
    }
}
fn linkat(olddir: Fd, old: &str, newdir: Fd, new: &str, flags: i32) -> Op {
    Op::Linkat {
        olddir,
        old: p(old),
        newdir,
        new: p(new),
        flags,
    }
}
fn unlinkat(dirfd: Fd, path: &str, flags: i32) -> Op {
    Op::Unlinkat {
        dirfd,
        path: p(path),
        flags,
    }
}
fn readlinkat(dirfd: Fd, path: &str, size: usize) -> Op {
    Op::Readlinkat {
        dirfd,
        path: p(path),
        buf: Out::Ok,
        size,
    }
}
fn faccessat(dirfd: Fd, path: &str, mode: i32) -> Op {
    Op::Faccessat {
        dirfd,
        path: p(path),
        mode,
    }
}
fn faccessat2(dirfd: Fd, path: &str, mode: i32, flags: i32) -> Op {
    Op::Faccessat2 {
        dirfd,
        path: p(path),
        mode,
        flags,
    }
}
fn symlink(target: &str, path: &str) -> Op {
    Op::Symlink {
        target: p(target),
        path: p(path),
    }
}
fn symlinkat(target: &str, dirfd: Fd, path: &str) -> Op {
    Op::Symlinkat {
        target: p(target),
        dirfd,
        path: p(path),
    }
}
fn renameat2(olddir: Fd, old: &str, newdir: Fd, new: &str, flags: u32) -> Op {
    Op::Renameat2 {
        olddir,
        old: p(old),
        newdir,
        new: p(new),
        flags,
    }
}
fn ftruncate(fd: Fd, length: i64) -> Op {
    Op::Ftruncate { fd, length }
}

pub fn cases() -> Vec<Case> {
    let ln = long_name();
    vec![
        // symlink, symlinkat
        case(
            "symlink/relative",
            vec![
                symlink("f", "/s"),
                lstat("/s"),
                readlink("/s", 64),
                stat("/s"),
            ],
        ),
        case(
            "symlink/absolute-and-dangling",
            vec![
                symlink("/nowhere/x", "/d/s"),
                readlink("/d/s", 64),
                stat("/d/s"),
            ],
        ),
        case("symlink/eexist", vec![symlink("x", "/f")]),
        case(
            "symlink/eexist-dangling",
            vec![symlink("x", "/l"), symlink("y", "/l")],
        ),
        case("symlink/enoent-parent", vec![symlink("x", "/nope/s")]),
        case("symlink/enoent-empty-target", vec![symlink("", "/s")]),
        case("symlink/enotdir-parent", vec![symlink("x", "/f/s")]),
        case(
            "symlink/enametoolong",
            vec![symlink("x", &format!("/{ln}"))],
        ),
        nobody("symlink/eacces-parent", vec![symlink("x", "/s")]),
        case(
            "symlinkat/in-dirfd",
            vec![
                open("/d", O_RDONLY),
                symlinkat("g", h(0), "s"),
                stat("/d/s"),
            ],
        ),
        case(
            "symlinkat/cwd",
            vec![chdir("/e"), symlinkat("../f", Fd::Cwd, "s"), stat("/e/s")],
        ),
        case(
            "symlinkat/enotdir-dirfd",
            vec![open("/f", O_RDONLY), symlinkat("x", h(0), "s")],
        ),
        case("symlinkat/ebadf", vec![symlinkat("x", BADFD, "s")]),
        // renameat2
        case(
            "renameat2/plain",
            vec![renameat2(Fd::Cwd, "/f", Fd::Cwd, "/f2", 0), stat("/f2")],
        ),
        case(
            "renameat2/noreplace-new-name",
            vec![renameat2(
                Fd::Cwd,
                "/f",
                Fd::Cwd,
                "/f2",
                libc::RENAME_NOREPLACE,
            )],
        ),
        case(
            "renameat2/noreplace-eexist",
            vec![renameat2(
                Fd::Cwd,
                "/f",
                Fd::Cwd,
                "/ro",
                libc::RENAME_NOREPLACE,
            )],
        ),
        case(
            "renameat2/einval-exchange-and-noreplace",
            vec![renameat2(
                Fd::Cwd,
                "/f",
                Fd::Cwd,
                "/ro",
                libc::RENAME_NOREPLACE | libc::RENAME_EXCHANGE,
            )],
        ),
        case(
            "renameat2/einval-unknown-flag",
            vec![renameat2(Fd::Cwd, "/f", Fd::Cwd, "/f2", 0x80)],
        ),
        case(
            "renameat2/enoent",
            vec![renameat2(Fd::Cwd, "/nope", Fd::Cwd, "/f2", 0)],
        ),
        // faccessat2
        case(
            "faccessat2/ok",
            vec![faccessat2(Fd::Cwd, "/f", R_OK | W_OK, 0)],
        ),
        case(
            "faccessat2/eaccess-flag",
            vec![faccessat2(Fd::Cwd, "/f", R_OK, libc::AT_EACCESS)],
        ),
        case(
            "faccessat2/nofollow-dangling",
            vec![
                symlink("/nowhere", "/s"),
                faccessat2(Fd::Cwd, "/s", F_OK, libc::AT_SYMLINK_NOFOLLOW),
                faccessat2(Fd::Cwd, "/s", F_OK, 0),
            ],
        ),
        case(
            "faccessat2/empty-path",
            vec![
                open("/f", O_RDONLY),
                faccessat2(h(0), "", R_OK, libc::AT_EMPTY_PATH),
            ],
        ),
        case(
            "faccessat2/einval-flags",
            vec![faccessat2(Fd::Cwd, "/f", F_OK, 0x1)],
        ),
        case(
            "faccessat2/einval-mode",
            vec![faccessat2(Fd::Cwd, "/f", 0x10, 0)],
        ),
        case(
            "faccessat2/enoent",
            vec![faccessat2(Fd::Cwd, "/nope", F_OK, 0)],
        ),
        nobody(
            "faccessat2/eacces-as-nobody",
            vec![faccessat2(Fd::Cwd, "/ro", W_OK, 0)],
        ),
        // rename
        case(
            "rename/file",
            vec![rename("/f", "/f2"), stat("/f"), stat("/f2")],
        ),
        case("rename/replace-file", vec![rename("/f", "/ro")]),
        case("rename/into-dir", vec![rename("/f", "/d/f")]),
        case("rename/dir", vec![rename("/d", "/d2"), stat("/d2/g")]),
        case("rename/dir-over-empty-dir", vec![rename("/d", "/e")]),
        case(
            "rename/dir-to-other-parent",
            vec![rename("/d/sub", "/e/sub"), stat("/d"), stat("/e")],
        ),
        case(
            "rename/symlink-not-target",
            vec![rename("/l", "/l2"), lstat("/l2"), stat("/f")],
        ),
        case(
            "rename/same-file-hard-links",
            vec![rename("/d/g", "/d/g2"), stat("/d/g")],
        ),
        case("rename/to-itself", vec![rename("/f", "/f")]),
        case(
            "rename/open-file-survives",
            vec![open("/f", O_RDONLY), rename("/f", "/e/f"), read(h(0), 64)],
        ),
        case("rename/eisdir", vec![rename("/f", "/e")]),
        case("rename/enotdir", vec![rename("/e", "/f")]),
        case("rename/enotempty", vec![rename("/e", "/d")]),
        case(
            "rename/enoent",
            vec![
                rename("/nope", "/x"),
                rename("/f", "/nope/x"),
                rename("", "/x"),
            ],
        ),
        case(
            "rename/einval-into-own-subdir",
            vec![rename("/d", "/d/sub/x")],
        ),
        case("rename/ebusy-dot", vec![rename("/d/.", "/x")]),
        case(
            "rename/enotdir-trailing-slash-file",
            vec![rename("/f/", "/x")],
        ),
        case(
            "rename/efault",
            vec![
                Op::Rename {
                    old: P::Bad,
                    new: p("/x"),
                },
                Op::Rename {
                    old: p("/f"),
                    new: P::Bad,
                },
            ],
        ),
        case("rename/enametoolong", vec![rename("/f", &ln)]),
        nobody("rename/eacces", vec![rename("/f", "/f2")]),
        nobody(
            "rename/nobody-in-own-dir",
            vec![rename("/nobody/mine", "/nobody/yours")],
        ),
        // renameat
        case(
            "renameat/dirfds",
            vec![
                open("/d", O_RDONLY),
                open("/e", O_RDONLY),
                renameat(h(0), "g", h(1), "g"),
            ],
        ),
        case("renameat/cwd", vec![renameat(Fd::Cwd, "f", Fd::Cwd, "f2")]),
        case(
            "renameat/ebadf",
            vec![
                renameat(BADFD, "f", Fd::Cwd, "x"),
                renameat(Fd::Cwd, "f", BADFD, "x"),
            ],
        ),
        case(
            "renameat/enotdir-dirfd-file",
            vec![open("/f", O_RDONLY), renameat(h(0), "x", Fd::Cwd, "y")],
        ),
        case(
            "renameat/enoent",
            vec![open("/d", O_RDONLY), renameat(h(0), "nope", Fd::Cwd, "x")],
        ),
        // link
        case(
            "link/file",
            vec![link("/f", "/f2"), stat("/f"), stat("/f2")],
        ),
        case("link/symlink-itself", vec![link("/l", "/l2"), lstat("/l2")]),
        case("link/into-dir", vec![link("/f", "/d/f")]),
        case(
            "link/eexist",
            vec![link("/f", "/ro"), link("/f", "/dangling")],
        ),
        case(
            "link/enoent",
            vec![link("/nope", "/x"), link("/f", "/nope/x")],
        ),
        case("link/eperm-dir", vec![link("/d", "/d2")]),
        case("link/enotdir", vec![link("/f/x", "/x")]),
        case(
            "link/efault",
            vec![
                Op::Link {
                    old: P::Bad,
                    new: p("/x"),
                },
                Op::Link {
                    old: p("/f"),
                    new: P::Bad,
                },
            ],
        ),
        case("link/enametoolong", vec![link("/f", &ln)]),
        nobody("link/eacces", vec![link("/f", "/f2")]),
        // linkat
        case(
            "linkat/dirfds",
            vec![open("/d", O_RDONLY), linkat(h(0), "g", Fd::Cwd, "g3", 0)],
        ),
        case(
            "linkat/follow",
            vec![
                linkat(Fd::Cwd, "l", Fd::Cwd, "hard", AT_SYMLINK_FOLLOW),
                lstat("/hard"),
            ],
        ),
        case(
            "linkat/nofollow-default",
            vec![linkat(Fd::Cwd, "l", Fd::Cwd, "hard", 0), lstat("/hard")],
        ),
        case(
            "linkat/einval-flags",
            vec![linkat(Fd::Cwd, "f", Fd::Cwd, "x", 0x1)],
        ),
        case("linkat/ebadf", vec![linkat(BADFD, "f", Fd::Cwd, "x", 0)]),
        case(
            "linkat/enoent-follow-dangling",
            vec![linkat(Fd::Cwd, "dangling", Fd::Cwd, "x", AT_SYMLINK_FOLLOW)],
        ),
        // unlink
        case("unlink/file", vec![unlink("/f"), stat("/f")]),
        case("unlink/hard-link", vec![unlink("/d/g2"), stat("/d/g")]),
        case("unlink/symlink-not-target", vec![unlink("/l"), stat("/f")]),
        case(
            "unlink/open-file-readable",
            vec![open("/f", O_RDONLY), unlink("/f"), read(h(0), 64)],
        ),
        case("unlink/eisdir", vec![unlink("/d"), unlink("/")]),
        case("unlink/enoent", vec![unlink("/nope"), unlink("")]),
        case("unlink/enotdir", vec![unlink("/f/x"), unlink("/f/")]),
        case("unlink/efault", vec![Op::Unlink { path: P::Bad }]),
        case("unlink/enametoolong", vec![unlink(&ln)]),
        nobody("unlink/eacces", vec![unlink("/f")]),
        nobody("unlink/nobody-in-own-dir", vec![unlink("/nobody/private")]),
        // unlinkat
        case("unlinkat/file", vec![unlinkat(Fd::Cwd, "f", 0)]),
        case(
            "unlinkat/removedir",
            vec![unlinkat(Fd::Cwd, "e", AT_REMOVEDIR)],
        ),
        case(
            "unlinkat/dirfd",
            vec![
                open("/d", O_RDONLY),
                unlinkat(h(0), "g", 0),
                unlinkat(h(0), "sub", AT_REMOVEDIR),
            ],
        ),
        case("unlinkat/eisdir", vec![unlinkat(Fd::Cwd, "e", 0)]),
        case(
            "unlinkat/enotdir-removedir-file",
            vec![unlinkat(Fd::Cwd, "f", AT_REMOVEDIR)],
        ),
        case(
            "unlinkat/enotempty",
            vec![unlinkat(Fd::Cwd, "d", AT_REMOVEDIR)],
        ),
        case("unlinkat/einval-flags", vec![unlinkat(Fd::Cwd, "f", 0x1)]),
        case("unlinkat/ebadf", vec![unlinkat(BADFD, "f", 0)]),
        case(
            "unlinkat/efault",
            vec![Op::Unlinkat {
                dirfd: Fd::Cwd,
                path: P::Bad,
                flags: 0,
            }],
        ),
        // readlink
        case(
            "readlink/relative-and-absolute",
            vec![
                readlink("/l", 64),
                readlink("/la", 64),
                readlink("/dangling", 64),
            ],
        ),
        case("readlink/truncates", vec![readlink("/la", 3)]),
        case(
            "readlink/through-dir-symlink",
            vec![readlink("/ld/../l", 64)],
        ),
        case(
            "readlink/einval-not-symlink",
            vec![readlink("/f", 64), readlink("/d", 64)],
        ),
        case("readlink/einval-size-0", vec![readlink("/l", 0)]),
        case(
            "readlink/enoent",
            vec![readlink("/nope", 64), readlink("", 64)],
        ),
        case("readlink/enotdir", vec![readlink("/f/x", 64)]),
        case(
            "readlink/efault",
            vec![
                Op::Readlink {
                    path: P::Bad,
                    buf: Out::Ok,
                    size: 64,
                },
                Op::Readlink {
                    path: p("/l"),
                    buf: Out::Bad,
                    size: 64,
                },
            ],
        ),
        case("readlink/eloop-in-middle", vec![readlink("/loop1/x", 64)]),
        // readlinkat
        case("readlinkat/cwd", vec![readlinkat(Fd::Cwd, "l", 64)]),
        case(
            "readlinkat/dirfd",
            vec![open("/", O_RDONLY), readlinkat(h(0), "la", 64)],
        ),
        case("readlinkat/ebadf", vec![readlinkat(BADFD, "l", 64)]),
        case(
            "readlinkat/enotdir-dirfd-file",
            vec![open("/f", O_RDONLY), readlinkat(h(0), "l", 64)],
        ),
        case("readlinkat/einval", vec![readlinkat(Fd::Cwd, "f", 64)]),
        // access
        case(
            "access/root",
            vec![
                access("/f", F_OK),
                access("/ro", W_OK),
                access("/secret", R_OK | W_OK),
                access("/exe", X_OK),
                access("/d", X_OK),
            ],
        ),
        case("access/root-exec-needs-an-x-bit", vec![access("/f", X_OK)]),
        case(
            "access/follows-symlink",
            vec![access("/l", R_OK), access("/dangling", F_OK)],
        ),
        case("access/enoent", vec![access("/nope", F_OK)]),
        case("access/enotdir", vec![access("/f/x", F_OK)]),
        case("access/einval-mode", vec![access("/f", 8)]),
        case(
            "access/efault",
            vec![Op::Access {
                path: P::Bad,
                mode: F_OK,
            }],
        ),
        case("access/eloop", vec![access("/loop1", F_OK)]),
        nobody(
            "access/nobody",
            vec![
                access("/f", R_OK),
                access("/f", W_OK),
                access("/secret", R_OK),
                access("/ro", W_OK),
                access("/exe", X_OK),
                access("/nobody/mine", W_OK),
            ],
        ),
        nobody("access/eacces-search", vec![access("/locked/x", F_OK)]),
        // faccessat
        case(
            "faccessat/cwd-and-dirfd",
            vec![
                faccessat(Fd::Cwd, "f", R_OK),
                open("/d", O_RDONLY),
                faccessat(h(0), "g", W_OK),
            ],
        ),
        case("faccessat/ebadf", vec![faccessat(BADFD, "f", F_OK)]),
        case(
            "faccessat/enotdir-dirfd-file",
            vec![open("/f", O_RDONLY), faccessat(h(0), "x", F_OK)],
        ),
        case("faccessat/einval", vec![faccessat(Fd::Cwd, "f", 0x10)]),
        nobody("faccessat/eacces", vec![faccessat(Fd::Cwd, "secret", R_OK)]),
        // truncate
        case(
            "truncate/shrink-and-grow",
            vec![
                truncate("/f", 5),
                stat("/f"),
                truncate("/d/g", 10),
                stat("/d/g"),
            ],
        ),
        case("truncate/follows-symlink", vec![truncate("/l", 2)]),
        case("truncate/root-read-only-file", vec![truncate("/ro", 0)]),
        case("truncate/eisdir", vec![truncate("/d", 0)]),
        case("truncate/einval-negative", vec![truncate("/f", -1)]),
        case(
            "truncate/enoent",
            vec![truncate("/nope", 0), truncate("", 0)],
        ),
        case("truncate/enotdir", vec![truncate("/f/x", 0)]),
        case("truncate/eloop", vec![truncate("/loop1", 0)]),
        case(
            "truncate/efault",
            vec![Op::Truncate {
                path: P::Bad,
                length: 0,
            }],
        ),
        nobody(
            "truncate/eacces",
            vec![truncate("/ro", 0), truncate("/f", 0)],
        ),
        nobody(
            "truncate/nobody-own-file",
            vec![truncate("/nobody/mine", 1)],
        ),
        // ftruncate
        case(
            "ftruncate/shrink-grow",
            vec![
                open("/f", O_RDWR),
                ftruncate(h(0), 3),
                read(h(0), 64),
                ftruncate(h(0), 8),
                lseek(h(0), 0, SEEK_SET),
                read(h(0), 64),
            ],
        ),
        case(
            "ftruncate/einval-read-only-fd",
            vec![open("/f", O_RDONLY), ftruncate(h(0), 0)],
        ),
        case(
            "ftruncate/einval-negative",
            vec![open("/f", O_RDWR), ftruncate(h(0), -1)],
        ),
        case(
            "ftruncate/einval-dir",
            vec![open("/d", O_RDONLY), ftruncate(h(0), 0)],
        ),
        case("ftruncate/einval-pipe", vec![pipe2(0), ftruncate(h(1), 0)]),
        case("ftruncate/ebadf", vec![ftruncate(BADFD, 0)]),
    ]
}
