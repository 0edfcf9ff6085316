//! Random sequences: 1–20 ops over a small pool of names (existing files, directories and
//! links of the fixture, and names that do not exist yet) and the sequence's own descriptors,
//! run on both sides from the standard fixture. `PROPTEST_CASES` sets the number of sequences
//! (64 by default); a failing sequence shrinks to the shortest one that still differs.
//!
//! Every op is one that cannot block: pipes are made `O_NONBLOCK`, no FIFO exists.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::cases::FIX;
use crate::model::*;

const PATHS: &[&str] = &[
    "/f",
    "/d",
    "/d/g",
    "/d/sub",
    "/e",
    "/l",
    "/la",
    "/ld",
    "/dangling",
    "/ro",
    "/x",
    "/y",
    "/d/x",
    "/e/y",
    "/ld/x",
    "x",
    "d/g",
    "..",
    "/f/x",
];
const FLAGS: &[i32] = &[
    libc::O_RDONLY,
    libc::O_WRONLY,
    libc::O_RDWR,
    libc::O_CREAT | libc::O_WRONLY,
    libc::O_CREAT | libc::O_RDWR,
    libc::O_CREAT | libc::O_EXCL | libc::O_RDWR,
    libc::O_WRONLY | libc::O_TRUNC,
    libc::O_WRONLY | libc::O_APPEND,
    libc::O_RDONLY | libc::O_DIRECTORY,
    libc::O_RDONLY | libc::O_NOFOLLOW,
];
const DATA: &[&str] = &["", "a", "hello", "0123456789abcdef"];

fn path() -> impl Strategy<Value = P> {
    prop::sample::select(PATHS).prop_map(p)
}

fn fd() -> impl Strategy<Value = Fd> {
    prop_oneof![
        6 => (0usize..4).prop_map(Fd::H),
        1 => Just(Fd::Raw(NEVER_OPEN)),
    ]
}

fn dirfd() -> impl Strategy<Value = Fd> {
    prop_oneof![Just(Fd::Cwd), (0usize..4).prop_map(Fd::H)]
}

fn data() -> impl Strategy<Value = Data> {
    prop::sample::select(DATA).prop_map(d)
}

fn op() -> impl Strategy<Value = Op> {
    let mode = prop::sample::select(&[0o644u32, 0o600, 0o755, 0o777][..]);
    prop_oneof![
        4 => (path(), prop::sample::select(FLAGS), mode.clone())
            .prop_map(|(path, flags, mode)| Op::Open { path, flags, mode }),
        1 => (dirfd(), path(), prop::sample::select(FLAGS))
            .prop_map(|(dirfd, path, flags)| Op::Openat { dirfd, path, flags, mode: 0o644 }),
        2 => fd().prop_map(|fd| Op::Close { fd }),
        3 => (fd(), 0usize..40).prop_map(|(fd, count)| Op::Read { fd, buf: Out::Ok, count }),
        3 => (fd(), data()).prop_map(|(fd, data)| Op::Write { fd, data }),
        1 => (fd(), 0usize..20, 0i64..24)
            .prop_map(|(fd, count, offset)| Op::Pread64 { fd, buf: Out::Ok, count, offset }),
        1 => (fd(), data(), 0i64..24).prop_map(|(fd, data, offset)| Op::Pwrite64 { fd, data, offset }),
        // A directory's offsets are the filesystem's own cookies, which no two filesystems
        // share (only offsets getdents returned are meaningful): random seeks stay at offsets
        // that mean the same on every file, and the hand-written io cases seek files freely.
        2 => (fd(), prop_oneof![
            Just((0i64, libc::SEEK_SET as u32)),
            Just((0, libc::SEEK_CUR as u32)),
            (-4i64..30).prop_map(|offset| (offset, libc::SEEK_END as u32)),
        ]).prop_map(|(fd, (offset, whence))| Op::Lseek { fd, offset, whence }),
        1 => fd().prop_map(|fd| Op::Fstat { fd, buf: Out::Ok }),
        1 => path().prop_map(|path| Op::Stat { path, buf: Out::Ok }),
        1 => path().prop_map(|path| Op::Lstat { path, buf: Out::Ok }),
        1 => (dirfd(), path(), prop::sample::select(&[0, libc::AT_SYMLINK_NOFOLLOW][..]))
            .prop_map(|(dirfd, path, flags)| Op::Newfstatat { dirfd, path, buf: Out::Ok, flags }),
        2 => (path(), mode).prop_map(|(path, mode)| Op::Mkdir { path, mode }),
        1 => path().prop_map(|path| Op::Rmdir { path }),
        2 => path().prop_map(|path| Op::Unlink { path }),
        2 => (path(), path()).prop_map(|(old, new)| Op::Rename { old, new }),
        1 => (path(), path()).prop_map(|(old, new)| Op::Link { old, new }),
        1 => (path(), 0i64..20).prop_map(|(path, length)| Op::Truncate { path, length }),
        1 => (fd(), 0i64..20).prop_map(|(fd, length)| Op::Ftruncate { fd, length }),
        1 => fd().prop_map(|fd| Op::Getdents64 { fd, buf: Out::Ok, count: 4096 }),
        1 => path().prop_map(|path| Op::Chdir { path }),
        1 => fd().prop_map(|fd| Op::Fchdir { fd }),
        1 => Just(Op::Getcwd { buf: Out::Ok, size: 256 }),
        1 => path().prop_map(|path| Op::Readlink { path, buf: Out::Ok, size: 64 }),
        1 => (path(), 0i32..8).prop_map(|(path, mode)| Op::Access { path, mode }),
        1 => fd().prop_map(|fd| Op::Dup { fd }),
        1 => (fd(), 3i32..10).prop_map(|(old, new)| Op::Dup2 { old, new: Fd::Raw(new) }),
        1 => Just(Op::Pipe2 { buf: Out::Ok, flags: libc::O_NONBLOCK }),
        1 => (fd(), prop::sample::select(&[libc::F_GETFD, libc::F_GETFL, libc::F_DUPFD][..]))
            .prop_map(|(fd, cmd)| Op::Fcntl { fd, cmd, arg: 0 }),
        1 => fd().prop_map(|fd| Op::Fsync { fd }),
        1 => (fd(), fd(), 0usize..20)
            .prop_map(|(out_fd, in_fd, count)| Op::Sendfile { out_fd, in_fd, offset: Off::Null, count }),
        1 => (fd(), fd(), 0usize..20).prop_map(|(fd_in, fd_out, len)| Op::CopyFileRange {
            fd_in,
            off_in: Off::Null,
            fd_out,
            off_out: Off::Null,
            len,
            flags: 0,
        }),
    ]
}

/// `PROPTEST_CASES`, or `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

#[test]
fn random_sequences() {
    if !crate::is_root() {
        eprintln!("differential/random_sequences: SKIPPED, the native executor needs root");
        return;
    }
    let cases = cases(64);
    let mut runner = TestRunner::new(Config {
        cases,
        max_shrink_iters: 512,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&vec(op(), 1..=20), |ops| {
        let run = crate::run_sequence("random", FIX, ROOT, &ops);
        if let Some(report) = run.difference {
            return Err(TestCaseError::fail(report));
        }
        Ok(())
    });
    if let Err(error) = result {
        panic!("a random sequence differs between Linux and rVisor (shrunk):\n{error}");
    }
}

/// The harness itself: two native runs of the same random sequence in two fresh roots agree,
/// so everything compared (values, bytes, `stat` fields, entries, trees) is determined by the
/// sequence and a difference with rVisor is never noise.
#[test]
fn native_runs_are_deterministic() {
    if !crate::is_root() {
        return;
    }
    let mut runner = TestRunner::new(Config {
        cases: cases(32),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&vec(op(), 1..=20), |ops| {
        let scratch = crate::tree::Scratch::new();
        crate::tree::build(&scratch.a(), FIX);
        crate::tree::build(&scratch.b(), FIX);
        let first = crate::native::run(&scratch.a(), ROOT, &ops).unwrap();
        let second = crate::native::run(&scratch.b(), ROOT, &ops).unwrap();
        prop_assert_eq!(first, second);
        let trees = crate::tree::diff(
            &crate::tree::snapshot(&scratch.a()),
            &crate::tree::snapshot(&scratch.b()),
        );
        prop_assert!(trees.is_empty(), "{trees:?}");
        Ok(())
    });
    if let Err(error) = result {
        panic!("two native runs differ: the harness compares something nondeterministic:\n{error}");
    }
}
