//! `read`, `write`, `pread64`, `pwrite64`, `readv`, `writev`, `preadv`, `pwritev`,
//! `preadv2`, `pwritev2`, `lseek`.

use super::*;

fn rd(fd: Fd, buf: Out, count: usize) -> Op {
    Op::Read { fd, buf, count }
}
fn pread(fd: Fd, count: usize, offset: i64) -> Op {
    Op::Pread64 {
        fd,
        buf: Out::Ok,
        count,
        offset,
    }
}
fn pwrite(fd: Fd, text: &str, offset: i64) -> Op {
    Op::Pwrite64 {
        fd,
        data: d(text),
        offset,
    }
}
fn readv(fd: Fd, segs: Vec<Seg>) -> Op {
    Op::Readv {
        fd,
        iov: Iov::V(segs, None),
    }
}
fn writev(fd: Fd, segs: &[&str]) -> Op {
    let segs = segs
        .iter()
        .map(|s| Seg::In(s.as_bytes().to_vec()))
        .collect();
    Op::Writev {
        fd,
        iov: Iov::V(segs, None),
    }
}

fn preadv(fd: Fd, segs: Vec<Seg>, offset: i64, flags: Option<i32>) -> Op {
    Op::Preadv {
        fd,
        iov: Iov::V(segs, None),
        offset,
        flags,
    }
}
fn pwritev(fd: Fd, segs: &[&str], offset: i64, flags: Option<i32>) -> Op {
    let segs = segs
        .iter()
        .map(|s| Seg::In(s.as_bytes().to_vec()))
        .collect();
    Op::Pwritev {
        fd,
        iov: Iov::V(segs, None),
        offset,
        flags,
    }
}

/// `preadv`, `pwritev` and their `2` forms: at an offset, at the file offset (-1, the `2`
/// forms), with flags, and their errors.
fn vectored_at_cases() -> Vec<Case> {
    const RWF_HIPRI: i32 = 1;
    const RWF_APPEND: i32 = 0x10;
    const RWF_UNKNOWN: i32 = 0x1000;
    vec![
        case(
            "preadv/scatters-at-offset-leaving-the-file-offset",
            vec![
                open("/f", O_RDONLY),
                preadv(h(0), vec![Seg::Out(2), Seg::Out(3)], 1, None),
                read(h(0), 3),
            ],
        ),
        case(
            "preadv/past-end",
            vec![
                open("/f", O_RDONLY),
                preadv(h(0), vec![Seg::Out(4)], 1000, None),
            ],
        ),
        case(
            "preadv/einval-negative-offset",
            vec![
                open("/f", O_RDONLY),
                preadv(h(0), vec![Seg::Out(4)], -1, None),
            ],
        ),
        case(
            "preadv/espipe-pipe",
            vec![pipe2(0), preadv(h(0), vec![Seg::Out(4)], 0, None)],
        ),
        case(
            "preadv/ebadf-write-only",
            vec![
                open("/f", O_WRONLY),
                preadv(h(0), vec![Seg::Out(4)], 0, None),
            ],
        ),
        case(
            "preadv/efault-second-segment",
            vec![
                open("/f", O_RDONLY),
                preadv(h(0), vec![Seg::Out(2), Seg::Bad(4)], 0, None),
            ],
        ),
        case(
            "preadv2/minus-one-is-the-file-offset",
            vec![
                open("/f", O_RDONLY),
                read(h(0), 2),
                preadv(h(0), vec![Seg::Out(3)], -1, Some(0)),
                read(h(0), 2),
            ],
        ),
        case(
            "preadv2/hipri-at-offset",
            vec![
                open("/f", O_RDONLY),
                preadv(h(0), vec![Seg::Out(3)], 2, Some(RWF_HIPRI)),
            ],
        ),
        case(
            "preadv2/eopnotsupp-unknown-flag",
            vec![
                open("/f", O_RDONLY),
                preadv(h(0), vec![Seg::Out(3)], 0, Some(RWF_UNKNOWN)),
            ],
        ),
        case(
            "preadv2/einval-offset-below-minus-one",
            vec![
                open("/f", O_RDONLY),
                preadv(h(0), vec![Seg::Out(3)], -2, Some(0)),
            ],
        ),
        case(
            "pwritev/gathers-at-offset",
            vec![
                open("/f", O_RDWR),
                pwritev(h(0), &["ab", "cd"], 2, None),
                read(h(0), 64),
            ],
        ),
        case(
            "pwritev/past-end-grows",
            vec![
                open("/f", O_WRONLY),
                pwritev(h(0), &["z"], 40, None),
                fstat(h(0)),
            ],
        ),
        case(
            "pwritev/einval-negative-offset",
            vec![open("/f", O_WRONLY), pwritev(h(0), &["z"], -5, None)],
        ),
        case(
            "pwritev/ebadf-read-only",
            vec![open("/f", O_RDONLY), pwritev(h(0), &["z"], 0, None)],
        ),
        case(
            "pwritev/espipe-pipe",
            vec![pipe2(0), pwritev(h(1), &["z"], 0, None)],
        ),
        case(
            "pwritev2/minus-one-is-the-file-offset",
            vec![
                open("/f", O_RDWR),
                read(h(0), 3),
                pwritev(h(0), &["XY"], -1, Some(0)),
                read(h(0), 64),
                pread(h(0), 64, 0),
            ],
        ),
        case(
            "pwritev2/append-flag-writes-at-the-end",
            vec![
                open("/f", O_RDWR),
                pwritev(h(0), &["tail"], 0, Some(RWF_APPEND)),
                pread(h(0), 64, 0),
            ],
        ),
        case(
            "pwritev2/eopnotsupp-unknown-flag",
            vec![
                open("/f", O_WRONLY),
                pwritev(h(0), &["z"], 0, Some(RWF_UNKNOWN)),
            ],
        ),
    ]
}

pub fn cases() -> Vec<Case> {
    let rw_f = || open("/f", O_RDWR);
    vec![
        // read
        case(
            "read/in-pieces-to-eof",
            vec![
                open("/f", O_RDONLY),
                read(h(0), 5),
                read(h(0), 64),
                read(h(0), 64),
            ],
        ),
        case("read/zero-count", vec![open("/f", O_RDONLY), read(h(0), 0)]),
        case(
            "read/zero-count-bad-buffer",
            vec![open("/f", O_RDONLY), rd(h(0), Out::Bad, 0)],
        ),
        case(
            "read/pipe",
            vec![pipe2(O_NONBLOCK), write(h(1), "through"), read(h(0), 64)],
        ),
        case(
            "read/pipe-eof-after-writer-closed",
            vec![
                pipe2(0),
                write(h(1), "x"),
                close(h(1)),
                read(h(0), 64),
                read(h(0), 64),
            ],
        ),
        case(
            "read/ebadf-closed",
            vec![open("/f", O_RDONLY), close(h(0)), read(h(0), 4)],
        ),
        case("read/ebadf-never-open", vec![read(BADFD, 4)]),
        case(
            "read/ebadf-write-only",
            vec![open("/f", O_WRONLY), read(h(0), 4)],
        ),
        case(
            "read/ebadf-pipe-write-end",
            vec![pipe2(O_NONBLOCK), read(h(1), 4)],
        ),
        case("read/eisdir", vec![open("/d", O_RDONLY), read(h(0), 16)]),
        case(
            "read/efault",
            vec![open("/f", O_RDONLY), rd(h(0), Out::Bad, 16)],
        ),
        case(
            "read/efault-null",
            vec![open("/f", O_RDONLY), rd(h(0), Out::Null, 16)],
        ),
        case(
            "read/efault-at-eof",
            vec![
                open("/f", O_RDONLY),
                lseek(h(0), 0, SEEK_END),
                rd(h(0), Out::Bad, 16),
            ],
        ),
        case(
            "read/eagain-empty-nonblocking-pipe",
            vec![pipe2(O_NONBLOCK), read(h(0), 4)],
        ),
        // write
        case(
            "write/new-file",
            vec![
                open("/new", O_CREAT | O_WRONLY),
                write(h(0), "abc"),
                write(h(0), "def"),
            ],
        ),
        case(
            "write/overwrite-middle",
            vec![
                open("/f", O_WRONLY),
                lseek(h(0), 7, SEEK_SET),
                write(h(0), "there"),
            ],
        ),
        case(
            "write/past-end-leaves-hole",
            vec![
                open("/f", O_WRONLY),
                lseek(h(0), 20, SEEK_SET),
                write(h(0), "!"),
            ],
        ),
        case(
            "write/append-ignores-offset",
            vec![
                open("/f", O_WRONLY | O_APPEND),
                lseek(h(0), 0, SEEK_SET),
                write(h(0), "tail"),
                lseek(h(0), 0, SEEK_CUR),
            ],
        ),
        case(
            "write/zero-bytes",
            vec![open("/f", O_WRONLY), write(h(0), "")],
        ),
        case(
            "write/shared-offset-after-dup",
            vec![
                open("/new", O_CREAT | O_WRONLY),
                dup(h(0)),
                write(h(0), "one"),
                write(h(1), "two"),
            ],
        ),
        case(
            "write/ebadf-read-only",
            vec![open("/f", O_RDONLY), write(h(0), "x")],
        ),
        case(
            "write/ebadf-closed",
            vec![open("/f", O_WRONLY), close(h(0)), write(h(0), "x")],
        ),
        case(
            "write/ebadf-directory",
            vec![open("/d", O_RDONLY), write(h(0), "x")],
        ),
        case(
            "write/efault",
            vec![
                open("/f", O_WRONLY),
                Op::Write {
                    fd: h(0),
                    data: Data::Bad(5),
                },
            ],
        ),
        case(
            "write/epipe-no-reader",
            vec![pipe2(0), close(h(0)), write(h(1), "x")],
        ),
        // pread64
        case(
            "pread64/keeps-offset",
            vec![open("/f", O_RDONLY), pread(h(0), 5, 7), read(h(0), 5)],
        ),
        case(
            "pread64/past-eof",
            vec![open("/f", O_RDONLY), pread(h(0), 5, 100)],
        ),
        case(
            "pread64/einval-negative-offset",
            vec![open("/f", O_RDONLY), pread(h(0), 5, -1)],
        ),
        case(
            "pread64/espipe-pipe",
            vec![pipe2(O_NONBLOCK), pread(h(0), 5, 0)],
        ),
        case("pread64/ebadf", vec![pread(BADFD, 5, 0)]),
        case(
            "pread64/ebadf-write-only",
            vec![open("/f", O_WRONLY), pread(h(0), 5, 0)],
        ),
        case(
            "pread64/eisdir",
            vec![open("/d", O_RDONLY), pread(h(0), 5, 0)],
        ),
        case(
            "pread64/efault",
            vec![
                open("/f", O_RDONLY),
                Op::Pread64 {
                    fd: h(0),
                    buf: Out::Bad,
                    count: 5,
                    offset: 0,
                },
            ],
        ),
        // pwrite64
        case(
            "pwrite64/keeps-offset",
            vec![rw_f(), pwrite(h(0), "HELLO", 0), read(h(0), 64)],
        ),
        case(
            "pwrite64/past-end",
            vec![rw_f(), pwrite(h(0), "far", 30), fstat(h(0))],
        ),
        case(
            "pwrite64/append-appends",
            vec![open("/f", O_WRONLY | O_APPEND), pwrite(h(0), "X", 0)],
        ),
        case(
            "pwrite64/einval-negative-offset",
            vec![rw_f(), pwrite(h(0), "x", -3)],
        ),
        case(
            "pwrite64/espipe-pipe",
            vec![pipe2(O_NONBLOCK), pwrite(h(1), "x", 0)],
        ),
        case(
            "pwrite64/ebadf-read-only",
            vec![open("/f", O_RDONLY), pwrite(h(0), "x", 0)],
        ),
        case(
            "pwrite64/efault",
            vec![
                rw_f(),
                Op::Pwrite64 {
                    fd: h(0),
                    data: Data::Bad(3),
                    offset: 0,
                },
            ],
        ),
        // readv
        case(
            "readv/two-segments",
            vec![
                open("/f", O_RDONLY),
                readv(h(0), vec![Seg::Out(5), Seg::Out(4)]),
                read(h(0), 64),
            ],
        ),
        case(
            "readv/short-file",
            vec![
                open("/d/g", O_RDONLY),
                readv(h(0), vec![Seg::Out(2), Seg::Out(64)]),
            ],
        ),
        case(
            "readv/zero-segments",
            vec![open("/f", O_RDONLY), readv(h(0), vec![])],
        ),
        case(
            "readv/einval-negative-count",
            vec![
                open("/f", O_RDONLY),
                Op::Readv {
                    fd: h(0),
                    iov: Iov::V(vec![Seg::Out(4)], Some(-1)),
                },
            ],
        ),
        case(
            "readv/einval-count-over-iov-max",
            vec![
                open("/f", O_RDONLY),
                Op::Readv {
                    fd: h(0),
                    iov: Iov::V(vec![Seg::Out(4)], Some(1025)),
                },
            ],
        ),
        case(
            "readv/efault-array",
            vec![
                open("/f", O_RDONLY),
                Op::Readv {
                    fd: h(0),
                    iov: Iov::Bad(2),
                },
            ],
        ),
        case(
            "readv/efault-segment",
            vec![open("/f", O_RDONLY), readv(h(0), vec![Seg::Bad(4)])],
        ),
        case(
            "readv/efault-second-segment",
            vec![
                open("/f", O_RDONLY),
                readv(h(0), vec![Seg::Out(4), Seg::Bad(4)]),
            ],
        ),
        case("readv/ebadf", vec![readv(BADFD, vec![Seg::Out(4)])]),
        case(
            "readv/eisdir",
            vec![open("/d", O_RDONLY), readv(h(0), vec![Seg::Out(4)])],
        ),
        // writev
        case(
            "writev/gathers",
            vec![
                open("/new", O_CREAT | O_WRONLY),
                writev(h(0), &["ab", "", "cd"]),
                fstat(h(0)),
            ],
        ),
        case(
            "writev/zero-segments",
            vec![open("/f", O_WRONLY), writev(h(0), &[])],
        ),
        case(
            "writev/einval-negative-count",
            vec![
                open("/f", O_WRONLY),
                Op::Writev {
                    fd: h(0),
                    iov: Iov::V(vec![Seg::In(b"x".to_vec())], Some(-1)),
                },
            ],
        ),
        case(
            "writev/einval-count-over-iov-max",
            vec![
                open("/f", O_WRONLY),
                Op::Writev {
                    fd: h(0),
                    iov: Iov::V(vec![Seg::In(b"x".to_vec())], Some(1025)),
                },
            ],
        ),
        case(
            "writev/efault-array",
            vec![
                open("/f", O_WRONLY),
                Op::Writev {
                    fd: h(0),
                    iov: Iov::Bad(1),
                },
            ],
        ),
        case(
            "writev/efault-segment",
            vec![
                open("/f", O_WRONLY),
                Op::Writev {
                    fd: h(0),
                    iov: Iov::V(vec![Seg::Bad(3)], None),
                },
            ],
        ),
        case(
            "writev/ebadf-read-only",
            vec![open("/f", O_RDONLY), writev(h(0), &["x"])],
        ),
        case(
            "writev/epipe",
            vec![pipe2(0), close(h(0)), writev(h(1), &["x"])],
        ),
        // lseek
        case(
            "lseek/set-cur-end",
            vec![
                open("/f", O_RDONLY),
                lseek(h(0), 3, SEEK_SET),
                read(h(0), 2),
                lseek(h(0), 2, SEEK_CUR),
                read(h(0), 2),
                lseek(h(0), -3, SEEK_END),
                read(h(0), 64),
            ],
        ),
        case(
            "lseek/past-end",
            vec![
                open("/f", O_RDONLY),
                lseek(h(0), 1000, SEEK_SET),
                read(h(0), 4),
            ],
        ),
        case(
            "lseek/directory-rewind",
            vec![open("/d", O_RDONLY), lseek(h(0), 0, SEEK_SET)],
        ),
        case(
            "lseek/seek-data",
            vec![open("/f", O_RDONLY), lseek(h(0), 0, libc::SEEK_DATA)],
        ),
        case(
            "lseek/seek-hole",
            vec![open("/f", O_RDONLY), lseek(h(0), 0, libc::SEEK_HOLE)],
        ),
        case(
            "lseek/einval-whence",
            vec![open("/f", O_RDONLY), lseek(h(0), 0, 7)],
        ),
        case(
            "lseek/einval-negative-set",
            vec![open("/f", O_RDONLY), lseek(h(0), -1, SEEK_SET)],
        ),
        case(
            "lseek/einval-negative-result",
            vec![open("/f", O_RDONLY), lseek(h(0), -100, SEEK_END)],
        ),
        case(
            "lseek/espipe-pipe",
            vec![pipe2(O_NONBLOCK), lseek(h(0), 0, SEEK_CUR)],
        ),
        case("lseek/ebadf", vec![lseek(BADFD, 0, SEEK_SET)]),
    ]
    .into_iter()
    .chain(vectored_at_cases())
    .collect()
}
