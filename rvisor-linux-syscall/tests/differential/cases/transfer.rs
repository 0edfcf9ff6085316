//! `sendfile`, `copy_file_range`, `fsync`, `fdatasync`, `sync`.

use super::*;

fn sendfile(out_fd: Fd, in_fd: Fd, offset: Off, count: usize) -> Op {
    Op::Sendfile {
        out_fd,
        in_fd,
        offset,
        count,
    }
}
fn cfr(fd_in: Fd, off_in: Off, fd_out: Fd, off_out: Off, len: usize) -> Op {
    Op::CopyFileRange {
        fd_in,
        off_in,
        fd_out,
        off_out,
        len,
        flags: 0,
    }
}
fn fsync(fd: Fd) -> Op {
    Op::Fsync { fd }
}
fn fdatasync(fd: Fd) -> Op {
    Op::Fdatasync { fd }
}

pub fn cases() -> Vec<Case> {
    let src_dst = || vec![open("/f", O_RDONLY), open("/new", O_CREAT | O_RDWR)];
    let with = |mut ops: Vec<Op>, more: Vec<Op>| {
        ops.extend(more);
        ops
    };
    vec![
        // sendfile
        case(
            "sendfile/file-to-file",
            with(
                src_dst(),
                vec![
                    sendfile(h(1), h(0), Off::Null, 5),
                    sendfile(h(1), h(0), Off::Null, 100),
                    lseek(h(0), 0, SEEK_CUR),
                ],
            ),
        ),
        case(
            "sendfile/with-offset",
            with(
                src_dst(),
                vec![
                    sendfile(h(1), h(0), Off::At(7), 5),
                    lseek(h(0), 0, SEEK_CUR),
                ],
            ),
        ),
        case(
            "sendfile/at-eof",
            with(src_dst(), vec![sendfile(h(1), h(0), Off::At(100), 5)]),
        ),
        case(
            "sendfile/zero-count",
            with(src_dst(), vec![sendfile(h(1), h(0), Off::Null, 0)]),
        ),
        case(
            "sendfile/to-pipe",
            vec![
                open("/f", O_RDONLY),
                pipe2(O_NONBLOCK),
                sendfile(h(2), h(0), Off::Null, 64),
                read(h(1), 64),
            ],
        ),
        case(
            "sendfile/ebadf-in",
            vec![
                open("/new", O_CREAT | O_WRONLY),
                sendfile(h(0), BADFD, Off::Null, 5),
            ],
        ),
        case(
            "sendfile/ebadf-out",
            vec![open("/f", O_RDONLY), sendfile(BADFD, h(0), Off::Null, 5)],
        ),
        case(
            "sendfile/ebadf-out-read-only",
            vec![
                open("/f", O_RDONLY),
                open("/d/g", O_RDONLY),
                sendfile(h(1), h(0), Off::Null, 5),
            ],
        ),
        case(
            "sendfile/ebadf-in-write-only",
            vec![
                open("/f", O_WRONLY),
                open("/new", O_CREAT | O_WRONLY),
                sendfile(h(1), h(0), Off::Null, 5),
            ],
        ),
        case(
            "sendfile/einval-out-append",
            vec![
                open("/f", O_RDONLY),
                open("/d/g", O_WRONLY | O_APPEND),
                sendfile(h(1), h(0), Off::Null, 5),
            ],
        ),
        case(
            "sendfile/einval-negative-offset",
            with(src_dst(), vec![sendfile(h(1), h(0), Off::At(-1), 5)]),
        ),
        case(
            "sendfile/einval-in-dir",
            vec![
                open("/d", O_RDONLY),
                open("/new", O_CREAT | O_WRONLY),
                sendfile(h(1), h(0), Off::Null, 5),
            ],
        ),
        case(
            "sendfile/efault-offset",
            with(src_dst(), vec![sendfile(h(1), h(0), Off::Bad, 5)]),
        ),
        // copy_file_range
        case(
            "copy_file_range/file-offsets",
            with(
                src_dst(),
                vec![
                    cfr(h(0), Off::Null, h(1), Off::Null, 5),
                    cfr(h(0), Off::Null, h(1), Off::Null, 100),
                    lseek(h(0), 0, SEEK_CUR),
                    lseek(h(1), 0, SEEK_CUR),
                ],
            ),
        ),
        case(
            "copy_file_range/explicit-offsets",
            with(
                src_dst(),
                vec![
                    cfr(h(0), Off::At(7), h(1), Off::At(2), 5),
                    lseek(h(0), 0, SEEK_CUR),
                    lseek(h(1), 0, SEEK_CUR),
                ],
            ),
        ),
        case(
            "copy_file_range/past-eof",
            with(src_dst(), vec![cfr(h(0), Off::At(100), h(1), Off::Null, 5)]),
        ),
        case(
            "copy_file_range/same-file-disjoint",
            vec![
                open("/f", O_RDWR),
                cfr(h(0), Off::At(0), h(0), Off::At(20), 5),
            ],
        ),
        case(
            "copy_file_range/einval-overlap",
            vec![
                open("/f", O_RDWR),
                cfr(h(0), Off::At(0), h(0), Off::At(2), 5),
            ],
        ),
        case(
            "copy_file_range/einval-flags",
            with(
                src_dst(),
                vec![Op::CopyFileRange {
                    fd_in: h(0),
                    off_in: Off::Null,
                    fd_out: h(1),
                    off_out: Off::Null,
                    len: 5,
                    flags: 1,
                }],
            ),
        ),
        case(
            "copy_file_range/ebadf",
            vec![
                open("/f", O_RDONLY),
                cfr(BADFD, Off::Null, h(0), Off::Null, 5),
                cfr(h(0), Off::Null, BADFD, Off::Null, 5),
            ],
        ),
        case(
            "copy_file_range/ebadf-out-read-only",
            vec![
                open("/f", O_RDONLY),
                open("/d/g", O_RDONLY),
                cfr(h(0), Off::Null, h(1), Off::Null, 5),
            ],
        ),
        case(
            "copy_file_range/eisdir",
            vec![
                open("/d", O_RDONLY),
                open("/new", O_CREAT | O_WRONLY),
                cfr(h(0), Off::Null, h(1), Off::Null, 5),
            ],
        ),
        case(
            "copy_file_range/ebadf-out-append",
            vec![
                open("/f", O_RDONLY),
                open("/d/g", O_WRONLY | O_APPEND),
                cfr(h(0), Off::Null, h(1), Off::Null, 5),
            ],
        ),
        case(
            "copy_file_range/einval-pipe",
            vec![
                open("/f", O_RDONLY),
                pipe2(O_NONBLOCK),
                cfr(h(0), Off::Null, h(2), Off::Null, 5),
            ],
        ),
        case(
            "copy_file_range/efault-offset",
            with(src_dst(), vec![cfr(h(0), Off::Bad, h(1), Off::Null, 5)]),
        ),
        // fsync, fdatasync, sync
        case(
            "fsync/file-and-dir",
            vec![
                open("/f", O_RDONLY),
                fsync(h(0)),
                open("/d", O_RDONLY),
                fsync(h(1)),
            ],
        ),
        case("fsync/ebadf", vec![fsync(BADFD)]),
        case("fsync/einval-pipe", vec![pipe2(0), fsync(h(0))]),
        case(
            "fdatasync/file-and-dir",
            vec![
                open("/f", O_WRONLY),
                fdatasync(h(0)),
                open("/d", O_RDONLY),
                fdatasync(h(1)),
            ],
        ),
        case("fdatasync/ebadf", vec![fdatasync(BADFD)]),
        case("fdatasync/einval-pipe", vec![pipe2(0), fdatasync(h(1))]),
        case("sync/succeeds", vec![Op::Sync]),
    ]
}
