//! `dup`, `dup2`, `dup3`, `fcntl`, `pipe`, `pipe2`, `ioctl`.

use super::*;

fn dup2(old: Fd, new: Fd) -> Op {
    Op::Dup2 { old, new }
}
fn dup3(old: Fd, new: Fd, flags: i32) -> Op {
    Op::Dup3 { old, new, flags }
}
fn close_range(first: u32, last: u32, flags: u32) -> Op {
    Op::CloseRange { first, last, flags }
}
/// `CLOSE_RANGE_CLOEXEC`.
const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;
fn ioctl(fd: Fd, request: u64) -> Op {
    Op::Ioctl {
        fd,
        request,
        arg: Out::Ok,
    }
}

pub fn cases() -> Vec<Case> {
    vec![
        // dup
        case(
            "dup/lowest-and-shared-offset",
            vec![
                open("/f", O_RDONLY),
                dup(h(0)),
                read(h(0), 5),
                read(h(1), 5),
                lseek(h(0), 0, SEEK_CUR),
            ],
        ),
        case(
            "dup/fills-gap",
            vec![
                open("/f", O_RDONLY),
                open("/f", O_RDONLY),
                close(h(0)),
                dup(h(1)),
            ],
        ),
        case(
            "dup/clears-cloexec",
            vec![
                open("/f", O_RDONLY | O_CLOEXEC),
                dup(h(0)),
                fcntl(h(1), F_GETFD, 0),
            ],
        ),
        case("dup/ebadf", vec![dup(BADFD), dup(Fd::Raw(-1))]),
        // close_range
        case(
            "close_range/closes-open-ones-in-range",
            vec![
                open("/f", O_RDONLY),
                open("/f", O_RDONLY),
                open("/f", O_RDONLY),
                close_range(4, 4, 0),
                read(h(0), 1),
                read(h(1), 1),
                read(h(2), 1),
                close_range(0, u32::MAX, 0),
                read(h(2), 1),
            ],
        ),
        case(
            "close_range/cloexec-marks",
            vec![
                open("/f", O_RDONLY),
                open("/f", O_RDONLY),
                close_range(3, 3, CLOSE_RANGE_CLOEXEC),
                fcntl(h(0), F_GETFD, 0),
                fcntl(h(1), F_GETFD, 0),
            ],
        ),
        case(
            "close_range/einval",
            vec![
                close_range(5, 4, 0),
                close_range(3, 4, 1),
                close_range(3, 4, 1 << 3),
            ],
        ),
        // dup2
        case(
            "dup2/to-number",
            vec![
                open("/f", O_RDONLY),
                dup2(h(0), Fd::Raw(10)),
                read(Fd::Raw(10), 5),
            ],
        ),
        case(
            "dup2/replaces-open",
            vec![
                open("/f", O_RDONLY),
                open("/d/g", O_RDONLY),
                dup2(h(0), h(1)),
                read(h(1), 64),
            ],
        ),
        case("dup2/same-fd", vec![open("/f", O_RDONLY), dup2(h(0), h(0))]),
        case("dup2/ebadf-old", vec![dup2(BADFD, Fd::Raw(10))]),
        case("dup2/ebadf-same-bad", vec![dup2(BADFD, BADFD)]),
        case(
            "dup2/ebadf-new-negative",
            vec![open("/f", O_RDONLY), dup2(h(0), Fd::Raw(-1))],
        ),
        case(
            "dup2/ebadf-new-over-limit",
            vec![
                open("/f", O_RDONLY),
                dup2(h(0), Fd::Raw(1024)),
                dup2(h(0), Fd::Raw(1023)),
            ],
        ),
        // dup3
        case(
            "dup3/cloexec",
            vec![
                open("/f", O_RDONLY),
                dup3(h(0), Fd::Raw(7), O_CLOEXEC),
                fcntl(Fd::Raw(7), F_GETFD, 0),
            ],
        ),
        case(
            "dup3/no-flags",
            vec![
                open("/f", O_RDONLY),
                dup3(h(0), Fd::Raw(7), 0),
                fcntl(Fd::Raw(7), F_GETFD, 0),
            ],
        ),
        case(
            "dup3/einval-same-fd",
            vec![open("/f", O_RDONLY), dup3(h(0), h(0), 0)],
        ),
        case(
            "dup3/einval-flags",
            vec![open("/f", O_RDONLY), dup3(h(0), Fd::Raw(7), O_NONBLOCK)],
        ),
        case(
            "dup3/ebadf",
            vec![
                dup3(BADFD, Fd::Raw(7), 0),
                open("/f", O_RDONLY),
                dup3(h(0), Fd::Raw(-2), 0),
            ],
        ),
        // fcntl
        case(
            "fcntl/getfd-setfd",
            vec![
                open("/f", O_RDONLY),
                fcntl(h(0), F_GETFD, 0),
                fcntl(h(0), F_SETFD, 1),
                fcntl(h(0), F_GETFD, 0),
            ],
        ),
        case(
            "fcntl/getfl",
            vec![
                open("/f", O_RDONLY),
                fcntl(h(0), F_GETFL, 0),
                open("/f", O_WRONLY | O_APPEND),
                fcntl(h(1), F_GETFL, 0),
                open("/f", O_RDWR | O_NONBLOCK),
                fcntl(h(2), F_GETFL, 0),
            ],
        ),
        case(
            "fcntl/getfl-pipe",
            vec![
                pipe2(O_NONBLOCK),
                fcntl(h(0), F_GETFL, 0),
                fcntl(h(1), F_GETFL, 0),
            ],
        ),
        case(
            "fcntl/setfl-append",
            vec![
                open("/f", O_WRONLY),
                fcntl(h(0), F_SETFL, O_APPEND as u64),
                write(h(0), "!"),
                fcntl(h(0), F_GETFL, 0),
            ],
        ),
        case(
            "fcntl/setfl-ignores-access-mode",
            vec![
                open("/f", O_RDONLY),
                fcntl(h(0), F_SETFL, O_RDWR as u64),
                fcntl(h(0), F_GETFL, 0),
                write(h(0), "x"),
            ],
        ),
        case(
            "fcntl/dupfd-min",
            vec![
                open("/f", O_RDONLY),
                fcntl(h(0), F_DUPFD, 5),
                fcntl(h(0), F_DUPFD, 5),
                fcntl(h(2), F_GETFD, 0),
            ],
        ),
        case(
            "fcntl/dupfd-cloexec",
            vec![
                open("/f", O_RDONLY),
                fcntl(h(0), F_DUPFD_CLOEXEC, 0),
                fcntl(h(1), F_GETFD, 0),
            ],
        ),
        case(
            "fcntl/einval-dupfd-over-limit",
            vec![open("/f", O_RDONLY), fcntl(h(0), F_DUPFD, 1024)],
        ),
        case(
            "fcntl/einval-cmd",
            vec![open("/f", O_RDONLY), fcntl(h(0), 9999, 0)],
        ),
        case(
            "fcntl/ebadf",
            vec![fcntl(BADFD, F_GETFD, 0), fcntl(BADFD, F_GETFL, 0)],
        ),
        // pipe
        case(
            "pipe/through",
            vec![
                Op::Pipe { buf: Out::Ok },
                write(h(1), "ping"),
                read(h(0), 64),
                fcntl(h(0), F_GETFL, 0),
            ],
        ),
        case(
            "pipe/efault",
            vec![Op::Pipe { buf: Out::Bad }, open("/f", O_RDONLY)],
        ),
        // pipe2
        case(
            "pipe2/nonblock-cloexec",
            vec![
                pipe2(O_NONBLOCK | O_CLOEXEC),
                read(h(0), 4),
                fcntl(h(0), F_GETFD, 0),
                fcntl(h(1), F_GETFL, 0),
            ],
        ),
        case(
            "pipe2/numbers-after-close",
            vec![
                open("/f", O_RDONLY),
                open("/f", O_RDONLY),
                close(h(0)),
                pipe2(0),
            ],
        ),
        case("pipe2/einval-flags", vec![pipe2(O_APPEND)]),
        case(
            "pipe2/efault",
            vec![Op::Pipe2 {
                buf: Out::Bad,
                flags: 0,
            }],
        ),
        // ioctl
        case(
            "ioctl/fionread-file",
            vec![
                open("/f", O_RDONLY),
                read(h(0), 3),
                ioctl(h(0), libc::FIONREAD),
            ],
        ),
        case(
            "ioctl/fionread-pipe",
            vec![
                pipe2(O_NONBLOCK),
                write(h(1), "abc"),
                ioctl(h(0), libc::FIONREAD),
            ],
        ),
        case(
            "ioctl/fioclex-fionclex",
            vec![
                open("/f", O_RDONLY),
                ioctl(h(0), libc::FIOCLEX),
                fcntl(h(0), F_GETFD, 0),
                ioctl(h(0), libc::FIONCLEX),
                fcntl(h(0), F_GETFD, 0),
            ],
        ),
        case(
            "ioctl/enotty-tcgets-file",
            vec![open("/f", O_RDONLY), ioctl(h(0), libc::TCGETS)],
        ),
        case(
            "ioctl/enotty-tcgets-pipe",
            vec![pipe2(0), ioctl(h(0), libc::TCGETS)],
        ),
        case(
            "ioctl/enotty-unknown-request",
            vec![open("/f", O_RDONLY), ioctl(h(0), 0x1234_5678)],
        ),
        case("ioctl/ebadf", vec![ioctl(BADFD, libc::FIONREAD)]),
        case(
            "ioctl/efault-fionread",
            vec![
                pipe2(0),
                Op::Ioctl {
                    fd: h(0),
                    request: libc::FIONREAD,
                    arg: Out::Bad,
                },
            ],
        ),
    ]
}
