//! The differential harness: every case runs twice — natively (a forked child chrooted into
//! scratch root A, raw `syscall(2)`) and through `rvisor-linux-syscall` (a container on a
//! `HostFs` rooted at scratch root B) — and the two runs must agree op by op (return value or
//! errno, bytes read, `stat` fields, directory entries, `getcwd` text) and in the trees they
//! leave behind.
//!
//! - [`model`]: `Op` (one variant per call), `Outcome`, fixtures, cases.
//! - [`exec`]: what both executors share (argument placement, fd handles, read-back).
//! - [`native`] and [`rvisor`]: the two executors. [`tree`]: fixtures and tree snapshots.
//! - [`cases`]: the hand-written cases, one module per call family. [`prop`]: random
//!   sequences (proptest). The `coverage` test checks, from what the cases *did* natively,
//!   that every served file/path call has a success and an error case, and writes
//!   `target/differential-coverage.txt`.
//!
//! Requires root (for `chroot` and the permission cases' `setresuid`); without it every test
//! says so and passes vacuously.

mod cases;
mod exec;
mod model;
mod native;
mod prop;
mod rvisor;
mod tree;
mod wire;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use model::{errno_name, Case, Creds, Fixture, Op, Outcome};
use rvisor_linux_syscall::table::SERVED;

/// What running a case gave.
pub struct CaseRun {
    /// The native outcomes (for coverage), if the native run worked.
    pub native: Option<Vec<Outcome>>,
    /// A readable report if the runs differ (or one could not run).
    pub difference: Option<String>,
    /// Why the rVisor side was skipped, if it was.
    pub skipped: Option<String>,
}

pub(crate) fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Runs `ops` from `fixture` as `creds` on both sides and compares.
pub fn run_sequence(name: &str, fixture: &[Fixture], creds: Creds, ops: &[Op]) -> CaseRun {
    let scratch = tree::Scratch::new();
    tree::build(&scratch.a(), fixture);
    tree::build(&scratch.b(), fixture);
    let native = native::run(&scratch.a(), creds, ops);
    let rvisor = rvisor::run(&scratch.b(), creds, ops);
    let mut report = String::new();
    let _ = writeln!(report, "case {name} (as {}:{})", creds.uid, creds.gid);
    let (native, rvisor) = match (native, rvisor) {
        (Err(error), _) => {
            let _ = writeln!(report, "  native run failed: {error}");
            return CaseRun {
                native: None,
                difference: Some(report),
                skipped: None,
            };
        }
        (Ok(native), Err(error)) if error.starts_with("SKIPPED") => {
            return CaseRun {
                native: Some(native),
                difference: None,
                skipped: Some(format!("{name}: {error}")),
            }
        }
        (Ok(native), Err(error)) => {
            let _ = writeln!(report, "  rVisor run failed: {error}");
            return CaseRun {
                native: Some(native),
                difference: Some(report),
                skipped: None,
            };
        }
        (Ok(native), Ok(rvisor)) => (native, rvisor),
    };
    let mut differs = false;
    for (index, ((op, a), b)) in ops.iter().zip(&native).zip(&rvisor).enumerate() {
        if a == b {
            let _ = writeln!(
                report,
                "     #{index} {}\n        both   {a:?}",
                model::describe(op)
            );
        } else {
            differs = true;
            let _ = writeln!(
                report,
                "  !! #{index} {}\n        native {a:?}\n        rVisor {b:?}",
                model::describe(op)
            );
        }
    }
    let tree_diff = tree::diff(&tree::snapshot(&scratch.a()), &tree::snapshot(&scratch.b()));
    if !tree_diff.is_empty() {
        differs = true;
        let _ = writeln!(report, "  !! trees differ after the sequence:");
        tree_diff.iter().for_each(|line| {
            let _ = writeln!(report, "{line}");
        });
    }
    CaseRun {
        native: Some(native),
        difference: differs.then_some(report),
        skipped: None,
    }
}

/// Runs one hand-written case.
pub fn run_case(case: &Case) -> CaseRun {
    run_sequence(&case.name, &case.fixture, case.creds, &case.ops)
}

/// Runs `cases`; fails with every difference found.
pub fn check(family: &str, cases: Vec<Case>) {
    if !is_root() {
        eprintln!(
            "differential/{family}: SKIPPED, the native executor needs root (chroot, setresuid)"
        );
        return;
    }
    let mut names = BTreeSet::new();
    let mut reports = Vec::new();
    let mut skipped = Vec::new();
    for case in &cases {
        assert!(
            names.insert(case.name.clone()),
            "duplicate case name {}",
            case.name
        );
        let run = run_case(case);
        reports.extend(run.difference);
        skipped.extend(run.skipped);
    }
    for skip in &skipped {
        eprintln!("differential {skip}");
    }
    assert!(
        reports.is_empty(),
        "differential/{family}: {} of {} cases differ between Linux and rVisor \
         ({} skipped):\n\n{}",
        reports.len(),
        cases.len(),
        skipped.len(),
        reports.join("\n")
    );
}

#[test]
fn files() {
    check("files", cases::files::cases());
}

#[test]
fn io() {
    check("io", cases::io::cases());
}

#[test]
fn stat() {
    check("stat", cases::stat::cases());
}

#[test]
fn statx() {
    check("statx", cases::statx::cases());
}

#[test]
fn attrs() {
    check("attrs", cases::attrs::cases());
}

#[test]
fn dirs() {
    check("dirs", cases::dirs::cases());
    check("getdents", cases::dirs::old_getdents_cases());
}

#[test]
fn fileops() {
    check("fileops", cases::fileops::cases());
}

#[test]
fn names() {
    check("names", cases::names::cases());
}

#[test]
fn fds() {
    check("fds", cases::fds::cases());
}

#[test]
fn transfer() {
    check("transfer", cases::transfer::cases());
}

/// The file and path calls: a served call in this list must be covered by a success case and
/// an error case. The first group is the fs work's list; the rest are the other Linux
/// file/path calls, so one served later is held to the same rule the day it lands.
const FILE_CALLS: &[&str] = &[
    "read",
    "write",
    "open",
    "openat",
    "close",
    "stat",
    "fstat",
    "lstat",
    "newfstatat",
    "lseek",
    "ioctl",
    "pread64",
    "pwrite64",
    "readv",
    "writev",
    "sendfile",
    "fcntl",
    "fsync",
    "fdatasync",
    "truncate",
    "ftruncate",
    "getdents64",
    "getcwd",
    "chdir",
    "fchdir",
    "rename",
    "renameat",
    "mkdir",
    "mkdirat",
    "rmdir",
    "link",
    "linkat",
    "unlink",
    "unlinkat",
    "readlink",
    "readlinkat",
    "access",
    "faccessat",
    "copy_file_range",
    "sync",
    "dup",
    "dup2",
    "dup3",
    "pipe",
    "pipe2",
    // Not in the first batch.
    "creat",
    "getdents",
    "symlink",
    "symlinkat",
    "chmod",
    "fchmod",
    "fchmodat",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "umask",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "mknod",
    "mknodat",
    "statfs",
    "fstatfs",
    "syncfs",
    "renameat2",
    "faccessat2",
    "statx",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "fallocate",
    "readahead",
    "splice",
    "tee",
    "vmsplice",
    "openat2",
    "close_range",
    "chroot",
    "flock",
    "fadvise64",
    "sync_file_range",
];

/// Calls that cannot fail (no error case can exist).
const NO_ERROR_PATH: &[&str] = &["sync", "umask"];

#[test]
fn coverage() {
    if !is_root() {
        eprintln!("differential/coverage: SKIPPED, the native executor needs root");
        return;
    }
    // call -> (cases where it succeeded natively, cases where it failed natively)
    let mut covered: BTreeMap<&'static str, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for case in cases::all() {
        let scratch = tree::Scratch::new();
        tree::build(&scratch.a(), &case.fixture);
        let outcomes = native::run(&scratch.a(), case.creds, &case.ops)
            .unwrap_or_else(|error| panic!("case {}: {error}", case.name));
        for (op, outcome) in case.ops.iter().zip(outcomes) {
            let entry = covered.entry(op.name()).or_default();
            let list = match outcome.ret {
                Ok(_) => &mut entry.0,
                Err(_) => &mut entry.1,
            };
            if list.last() != Some(&case.name) {
                list.push(case.name.clone());
            }
        }
    }
    let served: BTreeSet<&str> = SERVED.iter().map(|call| call.name).collect();
    // `call: case, case, …` (what `cargo xtask syscalls-doc` reads), and the same split by
    // whether the call succeeded or failed natively in the case.
    let mut text = String::new();
    let mut detail = String::new();
    for (call, (ok, err)) in &covered {
        let all: BTreeSet<&String> = ok.iter().chain(err).collect();
        let all: Vec<&str> = all.into_iter().map(String::as_str).collect();
        let _ = writeln!(text, "{call}: {}", all.join(", "));
        let _ = writeln!(
            detail,
            "{call} ({}) succeeds in: {}\n    fails in: {}",
            if served.contains(call) {
                "served"
            } else {
                "not served"
            },
            ok.join(", "),
            err.join(", ")
        );
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        std::path::PathBuf::from,
    );
    let _ = std::fs::create_dir_all(&target);
    std::fs::write(target.join("differential-coverage.txt"), &text)
        .expect("writing target/differential-coverage.txt");
    std::fs::write(target.join("differential-coverage-detail.txt"), &detail)
        .expect("writing target/differential-coverage-detail.txt");

    let mut missing = Vec::new();
    let first_batch = &FILE_CALLS[..FILE_CALLS.iter().position(|c| *c == "creat").unwrap()];
    for call in FILE_CALLS {
        if !served.contains(call) && !first_batch.contains(call) {
            continue;
        }
        let (ok, err) = covered.get(call).cloned().unwrap_or_default();
        if ok.is_empty() {
            missing.push(format!("{call}: no case where it succeeds"));
        }
        if err.is_empty() && !NO_ERROR_PATH.contains(call) {
            missing.push(format!("{call}: no case where it fails"));
        }
    }
    let unclassified: Vec<&str> = served
        .iter()
        .filter(|call| !FILE_CALLS.contains(call))
        .copied()
        .collect();
    eprintln!("differential/coverage: served calls outside the file/path list: {unclassified:?}");
    assert!(missing.is_empty(), "coverage gaps:\n{}", missing.join("\n"));
}

/// The harness itself: a native error comes back as its errno, and outcomes survive the wire.
#[test]
fn harness_reports_native_errors_and_round_trips_outcomes() {
    if !is_root() {
        return;
    }
    let scratch = tree::Scratch::new();
    let ops = [
        Op::Close {
            fd: model::Fd::Raw(model::NEVER_OPEN),
        },
        Op::Getcwd {
            buf: model::Out::Ok,
            size: 64,
        },
        Op::Pipe2 {
            buf: model::Out::Ok,
            flags: 0,
        },
    ];
    let outcomes = native::run(&scratch.a(), model::ROOT, &ops).unwrap();
    assert_eq!(outcomes[0].ret, Err(libc::EBADF));
    assert_eq!(errno_name(libc::EBADF), "EBADF");
    assert_eq!(outcomes[1].got, model::Got::Bytes(b"/".to_vec()));
    assert_eq!(
        outcomes[2].got,
        model::Got::Fds(3, 4),
        "descriptors start at 3"
    );
    assert_eq!(wire::decode(&wire::encode(&outcomes)), Some(outcomes));
}
