//! `open`, `openat`, `close`.

use super::*;

pub fn cases() -> Vec<Case> {
    let ln = long_name();
    let lp = long_path();
    vec![
        // open: success paths
        case(
            "open/read-existing",
            vec![open("/f", O_RDONLY), read(h(0), 64), close(h(0))],
        ),
        case("open/relative", vec![open("f", O_RDONLY), read(h(0), 64)]),
        case(
            "open/dotdot-clamps-at-root",
            vec![open("/../../f", O_RDONLY), read(h(0), 64)],
        ),
        case(
            "open/create-new-mode-and-umask",
            vec![
                open_mode("/new", O_CREAT | O_WRONLY, 0o666),
                write(h(0), "data"),
                fstat(h(0)),
            ],
        ),
        case(
            "open/create-mode-0640",
            vec![open_mode("/new", O_CREAT | O_RDWR, 0o640), fstat(h(0))],
        ),
        case(
            "open/create-excl-new",
            vec![open("/new", O_CREAT | O_EXCL | O_WRONLY), close(h(0))],
        ),
        case(
            "open/create-existing-keeps-content",
            vec![open("/f", O_CREAT | O_RDWR), read(h(0), 64)],
        ),
        case(
            "open/trunc",
            vec![open("/f", O_WRONLY | O_TRUNC), fstat(h(0))],
        ),
        case(
            "open/append",
            vec![
                open("/f", O_WRONLY | O_APPEND),
                write(h(0), "more\n"),
                lseek(h(0), 0, SEEK_CUR),
            ],
        ),
        case(
            "open/directory-rdonly",
            vec![open("/d", O_RDONLY), fstat(h(0))],
        ),
        case(
            "open/o-directory-on-dir",
            vec![open("/d", O_RDONLY | O_DIRECTORY)],
        ),
        case(
            "open/follows-relative-symlink",
            vec![open("/l", O_RDONLY), read(h(0), 64)],
        ),
        case(
            "open/follows-absolute-symlink",
            vec![open("/la", O_RDONLY), read(h(0), 64)],
        ),
        case(
            "open/through-dir-symlink",
            vec![open("/ld/g", O_RDONLY), read(h(0), 64)],
        ),
        case(
            "open/symlink-dotdot-above-root",
            vec![open("/lup/g", O_RDONLY), read(h(0), 64)],
        ),
        case(
            "open/creat-through-dangling-symlink",
            vec![open("/dangling", O_CREAT | O_WRONLY), write(h(0), "x")],
        ),
        case("open/trailing-slash-dir", vec![open("/d/", O_RDONLY)]),
        case(
            "open/lowest-free-descriptor",
            vec![
                open("/f", O_RDONLY),
                open("/f", O_RDONLY),
                open("/f", O_RDONLY),
                close(h(1)),
                open("/d/g", O_RDONLY),
                close(Fd::Raw(0)),
                open("/ro", O_RDONLY),
            ],
        ),
        case(
            "open/root-overrides-mode",
            vec![open("/nobody/private", O_RDWR), read(h(0), 64)],
        ),
        case(
            "open/root-writes-read-only",
            vec![open("/ro", O_WRONLY), write(h(0), "w")],
        ),
        nobody(
            "open/nobody-reads-world-readable",
            vec![open("/f", O_RDONLY), read(h(0), 64)],
        ),
        nobody(
            "open/nobody-creates-in-own-dir",
            vec![
                open_mode("/nobody/new", O_CREAT | O_WRONLY, 0o600),
                fstat(h(0)),
            ],
        ),
        nobody(
            "open/nobody-owner-opens-0000",
            vec![open("/nobody/private", O_RDONLY)],
        ),
        // open: error paths
        case("open/enoent", vec![open("/nope", O_RDONLY)]),
        case("open/enoent-empty-path", vec![open("", O_RDONLY)]),
        case("open/enoent-missing-dir", vec![open("/nope/x", O_RDONLY)]),
        case(
            "open/enoent-create-in-missing-dir",
            vec![open("/nope/x", O_CREAT | O_WRONLY)],
        ),
        case("open/enoent-dangling", vec![open("/dangling", O_RDONLY)]),
        case(
            "open/eexist-excl",
            vec![open("/f", O_CREAT | O_EXCL | O_WRONLY)],
        ),
        case(
            "open/eexist-excl-dangling-symlink",
            vec![open("/dangling", O_CREAT | O_EXCL | O_WRONLY)],
        ),
        case(
            "open/eexist-excl-dir",
            vec![open("/d", O_CREAT | O_EXCL | O_RDONLY)],
        ),
        case("open/enotdir-file-as-dir", vec![open("/f/x", O_RDONLY)]),
        case(
            "open/enotdir-o-directory",
            vec![open("/f", O_RDONLY | O_DIRECTORY)],
        ),
        case(
            "open/enotdir-trailing-slash-file",
            vec![open("/f/", O_RDONLY)],
        ),
        case("open/eisdir-wronly", vec![open("/d", O_WRONLY)]),
        case("open/eisdir-rdwr", vec![open("/d", O_RDWR)]),
        case(
            "open/eisdir-creat-dir",
            vec![open("/d", O_CREAT | O_WRONLY)],
        ),
        case(
            "open/eisdir-creat-trailing-slash",
            vec![open("/newdir/", O_CREAT | O_WRONLY)],
        ),
        case("open/eloop", vec![open("/loop1", O_RDONLY)]),
        case(
            "open/eloop-nofollow",
            vec![open("/l", O_RDONLY | O_NOFOLLOW)],
        ),
        case("open/enametoolong-component", vec![open(&ln, O_RDONLY)]),
        case("open/enametoolong-path", vec![open(&lp, O_RDONLY)]),
        case("open/efault", vec![open_p(P::Bad, O_RDONLY)]),
        case("open/efault-null", vec![open_p(P::Null, O_RDONLY)]),
        case(
            "open/einval-creat-directory",
            vec![open("/new", O_CREAT | O_DIRECTORY | O_RDWR)],
        ),
        nobody("open/eacces-read-0600", vec![open("/secret", O_RDONLY)]),
        nobody("open/eacces-write-0444", vec![open("/ro", O_WRONLY)]),
        nobody(
            "open/eacces-create-in-root-dir",
            vec![open("/new", O_CREAT | O_WRONLY)],
        ),
        nobody(
            "open/eacces-search-0700-dir",
            vec![open("/locked/x", O_RDONLY)],
        ),
        nobody(
            "open/eacces-trunc-0444",
            vec![open("/ro", O_RDONLY | O_TRUNC)],
        ),
        nobody(
            "open/eacces-owner-0000-write",
            vec![open("/nobody/private", O_WRONLY)],
        ),
        // openat
        case(
            "openat/cwd-relative",
            vec![openat(Fd::Cwd, "f", O_RDONLY), read(h(0), 64)],
        ),
        case(
            "openat/dirfd-relative",
            vec![
                open("/d", O_RDONLY | O_DIRECTORY),
                openat(h(0), "g", O_RDONLY),
                read(h(1), 64),
            ],
        ),
        case(
            "openat/dirfd-dotdot",
            vec![
                open("/d/sub", O_RDONLY | O_DIRECTORY),
                openat(h(0), "../g", O_RDONLY),
                read(h(1), 64),
            ],
        ),
        case(
            "openat/absolute-ignores-bad-dirfd",
            vec![openat(BADFD, "/f", O_RDONLY)],
        ),
        case(
            "openat/create",
            vec![
                open("/d", O_RDONLY),
                openat(h(0), "new", O_CREAT | O_WRONLY),
                write(h(1), "n"),
            ],
        ),
        case("openat/ebadf", vec![openat(BADFD, "f", O_RDONLY)]),
        case(
            "openat/ebadf-negative",
            vec![openat(Fd::Raw(-5), "f", O_RDONLY)],
        ),
        case(
            "openat/enotdir-dirfd-file",
            vec![open("/f", O_RDONLY), openat(h(0), "x", O_RDONLY)],
        ),
        case(
            "openat/enoent",
            vec![open("/d", O_RDONLY), openat(h(0), "nope", O_RDONLY)],
        ),
        case(
            "openat/eexist",
            vec![
                open("/d", O_RDONLY),
                openat(h(0), "g", O_CREAT | O_EXCL | O_RDWR),
            ],
        ),
        case("openat/eisdir", vec![openat(Fd::Cwd, "d", O_RDWR)]),
        case(
            "openat/efault",
            vec![Op::Openat {
                dirfd: Fd::Cwd,
                path: P::Bad,
                flags: O_RDONLY,
                mode: 0,
            }],
        ),
        case("openat/eloop", vec![openat(Fd::Cwd, "loop2", O_RDONLY)]),
        case(
            "openat/enametoolong",
            vec![openat(Fd::Cwd, &ln[1..], O_RDONLY)],
        ),
        nobody("openat/eacces", vec![openat(Fd::Cwd, "secret", O_RDONLY)]),
        // creat
        case(
            "creat/new",
            vec![
                Op::Creat {
                    path: p("/new"),
                    mode: 0o666,
                },
                write(h(0), "c"),
                read(h(0), 1),
                fstat(h(0)),
            ],
        ),
        case(
            "creat/truncates-existing",
            vec![
                Op::Creat {
                    path: p("/f"),
                    mode: 0o600,
                },
                fstat(h(0)),
            ],
        ),
        case(
            "creat/eisdir",
            vec![Op::Creat {
                path: p("/d"),
                mode: 0o644,
            }],
        ),
        case(
            "creat/enoent",
            vec![Op::Creat {
                path: p("/nope/x"),
                mode: 0o644,
            }],
        ),
        case(
            "creat/efault",
            vec![Op::Creat {
                path: P::Bad,
                mode: 0o644,
            }],
        ),
        nobody(
            "creat/eacces",
            vec![
                Op::Creat {
                    path: p("/new"),
                    mode: 0o644,
                },
                Op::Creat {
                    path: p("/ro"),
                    mode: 0o644,
                },
            ],
        ),
        // umask
        case(
            "umask/applies-to-creation",
            vec![
                Op::Umask { mask: 0o077 },
                Op::Umask { mask: 0o027 },
                open_mode("/new", O_CREAT | O_WRONLY, 0o777),
                mkdir("/newdir", 0o777),
            ],
        ),
        case(
            "umask/keeps-low-bits",
            vec![
                Op::Umask { mask: 0o7777 },
                Op::Umask { mask: 0 },
                open_mode("/new", O_CREAT | O_WRONLY, 0o777),
            ],
        ),
        // close
        case(
            "close/open-then-close",
            vec![open("/f", O_RDONLY), close(h(0)), read(h(0), 1)],
        ),
        case(
            "close/ebadf-twice",
            vec![open("/f", O_RDONLY), close(h(0)), close(h(0))],
        ),
        case("close/ebadf-never-open", vec![close(BADFD)]),
        case("close/ebadf-negative", vec![close(Fd::Raw(-1))]),
        case("close/ebadf-over-limit", vec![close(Fd::Raw(1 << 20))]),
        case("close/stdio", vec![close(Fd::Raw(2)), open("/f", O_RDONLY)]),
    ]
}
