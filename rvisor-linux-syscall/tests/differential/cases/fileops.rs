//! `fallocate`, `fadvise64`, `flock`.

use super::*;

fn fallocate(fd: Fd, mode: i32, offset: i64, len: i64) -> Op {
    Op::Fallocate {
        fd,
        mode,
        offset,
        len,
    }
}

fn fadvise(fd: Fd, offset: i64, len: i64, advice: i32) -> Op {
    Op::Fadvise64 {
        fd,
        offset,
        len,
        advice,
    }
}

fn flock(fd: Fd, op: i32) -> Op {
    Op::Flock { fd, op }
}

const KEEP_SIZE: i32 = 0x1;
const PUNCH_HOLE: i32 = 0x2;
const ZERO_RANGE: i32 = 0x10;
const LOCK_SH: i32 = 1;
const LOCK_EX: i32 = 2;
const LOCK_NB: i32 = 4;
const LOCK_UN: i32 = 8;

pub fn cases() -> Vec<Case> {
    vec![
        // fallocate
        case(
            "fallocate/grows-never-shrinks",
            vec![
                open("/f", O_RDWR),
                fallocate(h(0), 0, 0, 100),
                fstat(h(0)),
                fallocate(h(0), 0, 10, 5),
                fallocate(h(0), KEEP_SIZE, 0, 1 << 20),
                fstat(h(0)),
                open("/new", O_CREAT | O_WRONLY),
                fallocate(h(1), 0, 4096, 1),
                fstat(h(1)),
            ],
        ),
        case(
            "fallocate/einval-and-modes",
            vec![
                open("/f", O_RDWR),
                fallocate(h(0), 0, -1, 10),
                fallocate(h(0), 0, 0, 0),
                fallocate(h(0), 0, 0, -5),
                fallocate(h(0), PUNCH_HOLE, 0, 10),
                fallocate(h(0), ZERO_RANGE | PUNCH_HOLE, 0, 10),
                fallocate(h(0), 0x8 | KEEP_SIZE, 0, 4096),
                fallocate(h(0), 0x400, 0, 10),
                fallocate(h(0), 0, i64::MAX, 10),
            ],
        ),
        case(
            "fallocate/descriptors",
            vec![
                fallocate(BADFD, 0, 0, 10),
                open("/f", O_RDONLY),
                fallocate(h(0), 0, 0, 10),
                fallocate(h(0), PUNCH_HOLE, 0, 10),
                open("/d", O_RDONLY),
                fallocate(h(1), 0, 0, 10),
                open("/f", libc::O_PATH),
                fallocate(h(2), 0, 0, 10),
                pipe2(0),
                fallocate(h(3), 0, 0, 10),
                fallocate(h(4), 0, 0, 10),
            ],
        ),
        // fadvise64
        case(
            "fadvise64/advice",
            vec![
                open("/f", O_RDONLY),
                fadvise(h(0), 0, 0, 0),
                fadvise(h(0), 0, 100, 3),
                fadvise(h(0), -5, 10, 4),
                fadvise(h(0), 0, 10, 5),
                open("/d", O_RDONLY),
                fadvise(h(1), 0, 10, 1),
                open("/f", 3),
                fadvise(h(2), 0, 10, 2),
            ],
        ),
        case(
            "fadvise64/errors",
            vec![
                fadvise(BADFD, 0, 0, 0),
                open("/f", O_RDONLY),
                fadvise(h(0), 0, 10, 6),
                fadvise(h(0), 0, -1, 0),
                fadvise(h(0), 0, -1, 99),
                open("/f", libc::O_PATH),
                fadvise(h(1), 0, 10, 0),
                pipe2(0),
                fadvise(h(2), 0, 10, 99),
            ],
        ),
        // flock
        case(
            "flock/descriptions-exclude-each-other",
            vec![
                open("/f", O_RDWR),
                open("/f", O_RDONLY),
                flock(h(0), LOCK_EX | LOCK_NB),
                flock(h(1), LOCK_SH | LOCK_NB),
                flock(h(0), LOCK_EX | LOCK_NB),
                dup(h(0)),
                close(h(0)),
                flock(h(1), LOCK_SH | LOCK_NB),
                close(h(2)),
                flock(h(1), LOCK_SH | LOCK_NB),
                flock(h(1), LOCK_UN),
            ],
        ),
        case(
            "flock/shared-then-upgrade",
            vec![
                open("/d/g", O_RDONLY),
                open("/d/g2", O_RDONLY),
                flock(h(0), LOCK_SH | LOCK_NB),
                flock(h(1), LOCK_SH | LOCK_NB),
                flock(h(0), LOCK_EX | LOCK_NB),
                flock(h(1), LOCK_UN),
                flock(h(0), LOCK_EX | LOCK_NB),
                flock(h(1), LOCK_SH | LOCK_NB),
                open("/d", O_RDONLY),
                flock(h(2), LOCK_EX | LOCK_NB),
            ],
        ),
        case(
            "flock/errors",
            vec![
                flock(BADFD, LOCK_SH),
                flock(BADFD, 32),
                open("/f", O_RDONLY),
                flock(h(0), 0),
                flock(h(0), LOCK_SH | LOCK_EX),
                flock(h(0), 16),
                open("/f", 3),
                flock(h(1), LOCK_SH),
                flock(h(1), LOCK_UN),
                open("/f", libc::O_PATH),
                flock(h(2), LOCK_EX),
                pipe2(0),
                flock(h(3), LOCK_EX | LOCK_NB),
            ],
        ),
    ]
}
