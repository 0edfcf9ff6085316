//! The native executor: a forked child `chroot`s into the scratch root, takes the case's
//! credentials and makes the calls with raw `syscall(2)` (no libc wrapper in between).
//!
//! The child reports through a shared anonymous mapping made before the fork rather than a
//! pipe: it needs no descriptor (so `close_range(3, ~0)` leaves the child's table exactly as
//! a fresh process's, and descriptor numbers follow Linux's lowest-free rule from 3, as in the
//! container), and the parent cannot dead-lock on a full pipe. The child touches no lock
//! another test thread may hold: no stdio, only `malloc` (fork-safe in glibc) and raw calls,
//! and it ends with `_exit`.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::exec::{run_ops, Side};
use crate::model::{Creds, Op, Outcome};
use crate::wire;

const REPORT_SIZE: usize = 8 << 20;
/// A sequence that takes longer than this (blocked in a call) is killed.
const CHILD_SECONDS: u32 = 20;

struct NativeSide {
    buffers: Vec<Box<[u8]>>,
    bad: usize,
}

impl Side for NativeSide {
    fn put(&mut self, bytes: &[u8]) -> usize {
        // Never empty, so every buffer has its own address.
        let mut buf = bytes.to_vec();
        buf.push(0);
        let buf = buf.into_boxed_slice();
        let addr = buf.as_ptr() as usize;
        self.buffers.push(buf);
        addr
    }

    fn get(&self, addr: usize, len: usize) -> Vec<u8> {
        let buf = self
            .buffers
            .iter()
            .find(|buf| {
                let start = buf.as_ptr() as usize;
                addr >= start && addr + len <= start + buf.len()
            })
            .expect("reading back a buffer the harness placed");
        let start = addr - buf.as_ptr() as usize;
        buf[start..start + len].to_vec()
    }

    fn bad(&self) -> usize {
        self.bad
    }

    fn call(&mut self, nr: i64, a: [usize; 6]) -> Result<i64, i32> {
        // SAFETY: raw system calls whose pointer arguments are buffers this side owns (kept
        // alive in `buffers`), null, or the PROT_NONE page: the kernel checks every address.
        let ret = unsafe { libc::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
        if ret == -1 {
            // SAFETY: reading the calling thread's errno.
            Err(unsafe { *libc::__errno_location() })
        } else {
            Ok(ret)
        }
    }
}

/// Fails the child with `code` (reported by the parent as a setup step that failed).
fn die(code: i32) -> ! {
    // SAFETY: ending the forked child without running any of the parent's handlers.
    unsafe { libc::_exit(code) }
}

/// Runs `ops` natively in a child chrooted into `root` with credentials `creds`.
pub fn run(root: &Path, creds: Creds, ops: &[Op]) -> Result<Vec<Outcome>, String> {
    let root = CString::new(root.as_os_str().as_bytes()).unwrap();
    // SAFETY: a fresh shared anonymous mapping, unmapped below.
    let report = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            REPORT_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(report, libc::MAP_FAILED, "mapping the report area");
    let report = report.cast::<u8>();
    // SAFETY: fork; the child only makes raw calls, allocates, and ends with `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        child(&root, creds, ops, report);
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid, "waitpid");
    let result = if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        // SAFETY: the child wrote the length and then that many bytes in the mapping.
        let raw = unsafe {
            let len = u64::from_le_bytes(*report.cast::<[u8; 8]>()) as usize;
            std::slice::from_raw_parts(report.add(8), len.min(REPORT_SIZE - 8)).to_vec()
        };
        wire::decode(&raw).ok_or_else(|| "native child: malformed report".to_string())
    } else if libc::WIFEXITED(status) {
        Err(format!(
            "native child failed at setup step {} (chroot, credentials, …)",
            libc::WEXITSTATUS(status)
        ))
    } else {
        Err(format!(
            "native child killed by signal {} (a call blocked for {CHILD_SECONDS} s?)",
            libc::WTERMSIG(status)
        ))
    };
    // SAFETY: the mapping made above; nothing refers to it any more.
    unsafe { libc::munmap(report.cast(), REPORT_SIZE) };
    result
}

fn child(root: &CString, creds: Creds, ops: &[Op], report: *mut u8) -> ! {
    // SAFETY: raw calls in the single-threaded forked child; the strings are NUL-terminated.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        libc::alarm(CHILD_SECONDS);
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null < 0 {
            die(10);
        }
        for fd in 0..3 {
            libc::dup2(null, fd);
        }
        if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) != 0 {
            die(11);
        }
        if libc::chroot(root.as_ptr()) != 0 {
            die(12);
        }
        if libc::chdir(c"/".as_ptr()) != 0 {
            die(13);
        }
        libc::umask(0o022);
        // Linux's default soft descriptor limit, the container's too (`DEFAULT_FD_LIMIT`).
        let limit = libc::rlimit {
            rlim_cur: 1024,
            rlim_max: 1024,
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
            die(17);
        }
        if creds.uid != 0 || creds.gid != 0 {
            let (uid, gid) = (creds.uid as usize, creds.gid as usize);
            if libc::syscall(libc::SYS_setgroups, 0usize, 0usize) != 0
                || libc::syscall(libc::SYS_setresgid, gid, gid, gid) != 0
                || libc::syscall(libc::SYS_setresuid, uid, uid, uid) != 0
            {
                die(14);
            }
        }
        let bad = libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if bad == libc::MAP_FAILED {
            die(15);
        }
        let mut side = NativeSide {
            buffers: Vec::new(),
            bad: bad as usize,
        };
        let outcomes = run_ops(&mut side, ops);
        let raw = wire::encode(&outcomes);
        if raw.len() + 8 > REPORT_SIZE {
            die(16);
        }
        std::ptr::copy_nonoverlapping((raw.len() as u64).to_le_bytes().as_ptr(), report, 8);
        std::ptr::copy_nonoverlapping(raw.as_ptr(), report.add(8), raw.len());
        libc::_exit(0)
    }
}
