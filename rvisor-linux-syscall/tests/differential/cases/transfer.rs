//! `sendfile`, `copy_file_range`, `splice`, `tee`, `vmsplice`, `fsync`, `fdatasync`, `sync`.

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
fn splice(fd_in: Fd, off_in: Off, fd_out: Fd, off_out: Off, len: usize, flags: u32) -> Op {
    Op::Splice {
        fd_in,
        off_in,
        fd_out,
        off_out,
        len,
        flags,
    }
}
fn tee(fd_in: Fd, fd_out: Fd, len: usize, flags: u32) -> Op {
    Op::Tee {
        fd_in,
        fd_out,
        len,
        flags,
    }
}
fn vmsplice(fd: Fd, segs: Vec<Seg>, flags: u32) -> Op {
    Op::Vmsplice {
        fd,
        iov: Iov::V(segs, None),
        flags,
    }
}
/// `SPLICE_F_NONBLOCK`.
const NONBLOCK: u32 = 2;
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
        // splice: a file (h0) and a new file (h1) through a pipe (h2 reads, h3 writes)
        case(
            "splice/file-pipe-file",
            with(
                src_dst(),
                vec![
                    Op::Pipe { buf: Out::Ok },
                    splice(h(0), Off::Null, h(3), Off::Null, 5, 0),
                    lseek(h(0), 0, SEEK_CUR),
                    splice(h(0), Off::At(7), h(3), Off::Null, 100, 4),
                    lseek(h(0), 0, SEEK_CUR),
                    splice(h(0), Off::At(13), h(3), Off::Null, 100, 0),
                    splice(h(2), Off::Null, h(1), Off::Null, 7, 1),
                    splice(h(2), Off::Null, h(1), Off::At(20), 100, 0),
                    lseek(h(1), 0, SEEK_CUR),
                    splice(h(2), Off::Null, h(1), Off::Null, 1, NONBLOCK),
                    read(h(1), 64),
                ],
            ),
        ),
        case(
            "splice/errors",
            with(
                src_dst(),
                vec![
                    Op::Pipe { buf: Out::Ok },
                    splice(h(0), Off::Null, h(1), Off::Null, 1, 0),
                    splice(h(2), Off::At(0), h(1), Off::Null, 1, 0),
                    splice(h(0), Off::Null, h(3), Off::At(0), 1, 0),
                    splice(h(0), Off::Null, h(3), Off::Null, 1, 0x10),
                    splice(h(0), Off::Bad, h(3), Off::Null, 1, 0),
                    splice(h(0), Off::At(-1), h(3), Off::Null, 1, 0),
                    splice(h(3), Off::Null, h(1), Off::Null, 1, 0),
                    splice(h(1), Off::Null, h(3), Off::Null, 1, 0),
                    splice(BADFD, Off::Null, h(3), Off::Null, 1, 0),
                    splice(BADFD, Off::Null, BADFD, Off::Null, 0, 0),
                    splice(h(2), Off::Null, h(3), Off::Null, 1, 0),
                ],
            ),
        ),
        case(
            "splice/append-and-directory",
            vec![
                Op::Pipe { buf: Out::Ok },
                write(h(1), "x"),
                open("/f", O_WRONLY | O_APPEND),
                splice(h(0), Off::Null, h(2), Off::Null, 1, 0),
                open("/d", O_RDONLY),
                splice(h(3), Off::Null, h(1), Off::Null, 1, 0),
            ],
        ),
        // tee: two pipes (h0/h1 and h2/h3)
        case(
            "tee/pipes",
            vec![
                Op::Pipe { buf: Out::Ok },
                Op::Pipe { buf: Out::Ok },
                write(h(1), "hello"),
                tee(h(0), h(3), 3, 0),
                read(h(2), 64),
                splice(h(0), Off::Null, h(3), Off::Null, 100, 0),
                read(h(2), 64),
                tee(h(0), h(3), 1, NONBLOCK),
                tee(h(0), h(1), 1, 0),
                tee(h(3), h(0), 1, 0),
                tee(h(0), h(3), 1, 0x10),
                tee(h(0), h(3), 0, 0),
                open("/f", O_RDONLY),
                tee(h(4), h(3), 1, 0),
            ],
        ),
        // vmsplice into a pipe and out of it
        case(
            "vmsplice/in-and-out",
            vec![
                Op::Pipe { buf: Out::Ok },
                vmsplice(
                    h(1),
                    vec![Seg::In(b"abc".to_vec()), Seg::In(b"de".to_vec())],
                    8,
                ),
                vmsplice(h(0), vec![Seg::Out(4)], 0),
                read(h(0), 64),
                vmsplice(h(0), vec![Seg::Out(4)], NONBLOCK),
                vmsplice(h(0), vec![], 0),
                vmsplice(h(0), vec![Seg::Out(4)], 0x20),
                Op::Vmsplice {
                    fd: h(1),
                    iov: Iov::Bad(1),
                    flags: 0,
                },
                vmsplice(h(1), vec![Seg::Bad(4)], 0),
                vmsplice(BADFD, vec![Seg::Out(4)], 0),
                open("/f", O_RDONLY),
                vmsplice(h(2), vec![Seg::Out(4)], 0),
            ],
        ),
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
