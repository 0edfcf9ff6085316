//! `clone`, `clone3`, `fork`, `vfork`: new processes and threads.
//!
//! rVisor registers the new task first (a forked `LinuxProcess` with a new pid, or a new tid
//! of the caller's process), then asks the host to start it; if the host cannot, the
//! registration is undone and the caller sees the host's error.
//!
//! `clone3` reads its `struct clone_args` as Linux does (any size from the first version's 64
//! bytes to a page, bytes past what this kernel knows required zero) and checks it in Linux's
//! order, then goes the way `clone` goes.
//!
//! Beyond Linux's own rules, rVisor keeps one fd table and one cwd per process: a thread must
//! share both (`CLONE_FILES | CLONE_FS`, as every libc's `pthread_create` and Go do), and a new
//! process cannot share them. Those other combinations are `EINVAL`.

use crate::host::{CloneFlags, NewTask};
use crate::user::{UserInPtr, UserOutPtr};
use crate::{SysResult, Syscall};
use alloc::sync::Arc;
use linux_object::container::{Pid, INIT_PID};
use linux_object::process::LinuxProcess;
use linux_object::{LxError, LxResult};

/// The signal a forked child's exit sends its parent.
const SIGCHLD: u8 = 17;

/// The exit-signal byte of `clone`'s flags.
const CSIGNAL: u32 = 0xff;

/// `clone3`'s flags beyond the legacy 32 bits.
const CLONE_CLEAR_SIGHAND: u64 = 1 << 32;
const CLONE_INTO_CGROUP: u64 = 1 << 33;

/// `CLONE_NEWTIME`, which only `clone3` can ask for: in the legacy call it is an exit-signal bit.
const CLONE_NEWTIME: u64 = 0x80;

/// `struct clone_args`' sizes: its first version, and the one Linux knows now (with `cgroup`).
const CLONE_ARGS_SIZE_VER0: usize = 64;
const CLONE_ARGS_SIZE_VER2: usize = 88;

/// The largest `struct clone_args` Linux reads (what a page holds).
const CLONE_ARGS_MAX: usize = 4096;

/// Linux's `MAX_PID_NS_LEVEL`: the longest `set_tid` array (of `pid_t`).
const MAX_PID_NS_LEVEL: u64 = 32;

/// How deep a container's pid namespace is below the host's: `set_tid` may name a pid for
/// it and every level above.
const CONTAINER_PID_NS_LEVEL: u64 = 1;

/// Linux's default `pid_max`: a `set_tid` entry must be below it.
const PID_MAX: i32 = 1 << 22;

/// The namespace flags: a container is one set of namespaces, and rVisor makes no others.
const NAMESPACES: CloneFlags = CloneFlags::NEWNS
    .union(CloneFlags::NEWCGROUP)
    .union(CloneFlags::NEWUTS)
    .union(CloneFlags::NEWIPC)
    .union(CloneFlags::NEWUSER)
    .union(CloneFlags::NEWPID)
    .union(CloneFlags::NEWNET);

/// Checks `flags` as Linux's `copy_process` does, in its order, then rVisor's own limits.
fn check_flags(flags: CloneFlags, caller: &LinuxProcess) -> Result<(), LxError> {
    let both = |a: CloneFlags, b: CloneFlags| flags.contains(a | b);
    if both(CloneFlags::NEWNS, CloneFlags::FS) || both(CloneFlags::NEWUSER, CloneFlags::FS) {
        return Err(LxError::EINVAL);
    }
    // Threads share signal handlers, and shared handlers imply shared memory.
    if flags.contains(CloneFlags::THREAD) && !flags.contains(CloneFlags::SIGHAND) {
        return Err(LxError::EINVAL);
    }
    if flags.contains(CloneFlags::SIGHAND) && !flags.contains(CloneFlags::VM) {
        return Err(LxError::EINVAL);
    }
    // The container's init may not make siblings: nobody would reap them.
    if flags.contains(CloneFlags::PARENT) && caller.pid() == INIT_PID {
        return Err(LxError::EINVAL);
    }
    if flags.contains(CloneFlags::THREAD)
        && flags.intersects(CloneFlags::NEWUSER | CloneFlags::NEWPID)
    {
        return Err(LxError::EINVAL);
    }
    // A pidfd names a process: not for a thread (Linux 6.1's rule), nor with the legacy
    // flag its bit once was.
    if flags.contains(CloneFlags::PIDFD)
        && flags.intersects(CloneFlags::DETACHED | CloneFlags::THREAD)
    {
        return Err(LxError::EINVAL);
    }
    // What an unprivileged caller gets for a namespace (and what container runtimes give).
    if flags.intersects(NAMESPACES) {
        return Err(LxError::EPERM);
    }
    let shares_tables = flags.intersects(CloneFlags::FILES | CloneFlags::FS);
    let shares_both = flags.contains(CloneFlags::FILES | CloneFlags::FS);
    if flags.contains(CloneFlags::THREAD) != shares_both || (!shares_both && shares_tables) {
        return Err(LxError::EINVAL);
    }
    Ok(())
}

/// `struct clone_args`, read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

impl CloneArgs {
    /// Decodes the first `bytes.len()` bytes of a `struct clone_args` (whole fields, at least
    /// the first version's); the fields past them are zero.
    fn decode(bytes: &[u8]) -> Self {
        let mut fields = [0u64; CLONE_ARGS_SIZE_VER2 / 8];
        for (field, chunk) in fields.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            *field = u64::from_le_bytes(word);
        }
        let [flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup] =
            fields;
        CloneArgs {
            flags,
            pidfd,
            child_tid,
            parent_tid,
            exit_signal,
            stack,
            stack_size,
            tls,
            set_tid,
            set_tid_size,
            cgroup,
        }
    }

    /// Reads `size` bytes of a `struct clone_args` at `args`, as Linux's
    /// `copy_clone_args_from_user`: `E2BIG` past a page, `EINVAL` below the first version,
    /// `E2BIG` if bytes past the known fields are not zero, `EFAULT` if unreadable.
    fn read(args: UserInPtr<u8>, size: usize) -> LxResult<Self> {
        if size > CLONE_ARGS_MAX {
            return Err(LxError::E2BIG);
        }
        if size < CLONE_ARGS_SIZE_VER0 {
            return Err(LxError::EINVAL);
        }
        let known = size.min(CLONE_ARGS_SIZE_VER2);
        if size > known {
            let tail = args.offset(known)?.read_bytes(size - known)?;
            if tail.iter().any(|&byte| byte != 0) {
                return Err(LxError::E2BIG);
            }
        }
        let args = CloneArgs::decode(&args.read_bytes(known)?);
        // Checked in `copy_clone_args_from_user`'s order.
        let bad_set_tid = args.set_tid_size > MAX_PID_NS_LEVEL
            || (args.set_tid == 0 && args.set_tid_size > 0)
            || (args.set_tid != 0 && args.set_tid_size == 0);
        if bad_set_tid || args.exit_signal > 64 {
            return Err(LxError::EINVAL);
        }
        let into_cgroup = args.flags & CLONE_INTO_CGROUP != 0;
        if into_cgroup && (args.cgroup > i32::MAX as u64 || size < CLONE_ARGS_SIZE_VER2) {
            return Err(LxError::EINVAL);
        }
        Ok(args)
    }

    /// `clone3_args_valid`: flags `clone3` knows, not `CLONE_DETACHED` nor exit-signal bits,
    /// not both `CLONE_SIGHAND` and `CLONE_CLEAR_SIGHAND`, no exit signal for a thread or a
    /// sibling, and a stack given with its size.
    fn valid(&self) -> bool {
        let known = u64::from(u32::MAX) | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP;
        let legacy_only =
            u64::from(CloneFlags::DETACHED.bits()) | (u64::from(CSIGNAL) & !CLONE_NEWTIME);
        let sighand = u64::from(CloneFlags::SIGHAND.bits());
        let shares_parent = u64::from((CloneFlags::THREAD | CloneFlags::PARENT).bits());
        let stack_ok = if self.stack == 0 {
            self.stack_size == 0
        } else {
            self.stack_size != 0 && self.stack.checked_add(self.stack_size).is_some()
        };
        self.flags & !known == 0
            && self.flags & legacy_only == 0
            && self.flags & (sighand | CLONE_CLEAR_SIGHAND) != sighand | CLONE_CLEAR_SIGHAND
            && !(self.flags & shares_parent != 0 && self.exit_signal != 0)
            && stack_ok
    }
}

/// What a new task is asked to be, from either `clone` or `clone3`.
struct CloneRequest {
    flags: CloneFlags,
    exit_signal: u8,
    stack: usize,
    parent_tid: UserOutPtr<i32>,
    child_tid: UserOutPtr<i32>,
    tls: usize,
    clear_signal_handlers: bool,
    /// `CLONE_PIDFD`: where the child's pidfd goes (`parent_tid` for `clone`, `args.pidfd`
    /// for `clone3`).
    pidfd: UserOutPtr<i32>,
}

/// The legacy part of `clone3`'s flags (the rest was checked by [`CloneArgs::valid`]).
fn clone_flags(flags: u64) -> CloneFlags {
    // Truncation is meant: the bits above 32 are clone3's own.
    CloneFlags::from_bits_truncate(flags as u32)
}

impl CloneRequest {
    /// What `fork` and `vfork` ask: `flags`, `SIGCHLD` at exit, nothing else.
    fn fork(flags: CloneFlags) -> Self {
        CloneRequest {
            flags,
            exit_signal: SIGCHLD,
            stack: 0,
            parent_tid: UserOutPtr::from(0),
            child_tid: UserOutPtr::from(0),
            tls: 0,
            clear_signal_handlers: false,
            pidfd: UserOutPtr::from(0),
        }
    }
}

impl Syscall<'_> {
    /// `clone(flags, stack, parent_tid, child_tid, tls)`: a new process or thread; returns its
    /// tid in the container. The flags' low byte is the exit signal; their high 32 bits are
    /// ignored, as the legacy `clone` ignores them.
    pub async fn sys_clone(
        &self,
        flags: usize,
        stack: usize,
        parent_tid: UserOutPtr<i32>,
        child_tid: UserOutPtr<i32>,
        tls: usize,
    ) -> SysResult {
        // Truncation is the ABI: legacy clone takes the low 32 bits.
        let low = flags as u32;
        let exit_signal = (low & CSIGNAL) as u8;
        let flags = CloneFlags::from_bits_truncate(low & !CSIGNAL);
        // The legacy call has one pointer for both.
        if flags.contains(CloneFlags::PIDFD | CloneFlags::PARENT_SETTID) {
            return Err(LxError::EINVAL);
        }
        self.clone_task(CloneRequest {
            flags,
            exit_signal,
            stack,
            parent_tid,
            child_tid,
            tls,
            clear_signal_handlers: false,
            pidfd: parent_tid,
        })
        .await
    }

    /// `clone3(args, size)`: `clone` with its arguments in a `struct clone_args` of `size`
    /// bytes; the child's stack is `stack..stack + stack_size`.
    pub async fn sys_clone3(&self, args: UserInPtr<u8>, size: usize) -> SysResult {
        let args = CloneArgs::read(args, size)?;
        if args.set_tid != 0 {
            // Each entry must be a possible pid (`EINVAL`), and choosing one needs a privilege
            // over the container's pid namespace that no contained process has (`EPERM`).
            let entries = UserInPtr::<i32>::from(args.set_tid as usize)
                .read_array(args.set_tid_size as usize)?;
            if !args.valid() {
                return Err(LxError::EINVAL);
            }
            check_flags(clone_flags(args.flags), self.process)?;
            let too_deep = args.set_tid_size > CONTAINER_PID_NS_LEVEL + 1;
            if too_deep || entries.iter().any(|&tid| !(1..PID_MAX).contains(&tid)) {
                return Err(LxError::EINVAL);
            }
            return Err(LxError::EPERM);
        }
        if !args.valid() {
            return Err(LxError::EINVAL);
        }
        if args.flags & CLONE_INTO_CGROUP != 0 {
            // No descriptor of a contained process is a cgroup directory.
            return Err(LxError::EBADF);
        }
        if args.flags & CLONE_NEWTIME != 0 {
            return Err(LxError::EPERM);
        }
        let stack = args.stack.saturating_add(args.stack_size) as usize;
        self.clone_task(CloneRequest {
            flags: clone_flags(args.flags),
            exit_signal: args.exit_signal as u8,
            stack,
            parent_tid: UserOutPtr::from(args.parent_tid as usize),
            child_tid: UserOutPtr::from(args.child_tid as usize),
            tls: args.tls as usize,
            clear_signal_handlers: args.flags & CLONE_CLEAR_SIGHAND != 0,
            pidfd: UserOutPtr::from(args.pidfd as usize),
        })
        .await
    }

    /// `fork()`: a child process with a copy of the caller's memory and fd table.
    pub async fn sys_fork(&self) -> SysResult {
        self.clone_task(CloneRequest::fork(CloneFlags::empty()))
            .await
    }

    /// `vfork()`: a child sharing the caller's memory; the caller sleeps until the child
    /// execs or exits.
    pub async fn sys_vfork(&self) -> SysResult {
        self.clone_task(CloneRequest::fork(CloneFlags::VFORK | CloneFlags::VM))
            .await
    }

    async fn clone_task(&self, request: CloneRequest) -> SysResult {
        let CloneRequest {
            flags,
            exit_signal,
            stack,
            parent_tid,
            child_tid,
            tls,
            clear_signal_handlers,
            pidfd,
        } = request;
        check_flags(flags, self.process)?;
        let thread = flags.contains(CloneFlags::THREAD);
        let (process, tid): (Arc<LinuxProcess>, Pid) = if thread {
            (self.process.clone(), self.process.new_thread()?)
        } else {
            let child = if flags.contains(CloneFlags::PARENT) {
                self.process.fork_sibling()?
            } else {
                self.process.fork()?
            };
            let pid = child.pid();
            (child, pid)
        };
        // Made before the child can run, so its exec or exit cannot be missed.
        let vfork_done = flags
            .contains(CloneFlags::VFORK)
            .then(|| process.vfork_completion(tid));
        if flags.contains(CloneFlags::PARENT_SETTID) {
            // Written before the child runs, so a thread sees it at once; Linux ignores a
            // fault here, and so does rVisor. Tids are below PID_MAX: they fit an int.
            if let Ok(value) = i32::try_from(tid) {
                let _ = parent_tid.write(value);
            }
        }
        // The pidfd is the caller's before the child exists for anyone; a fault storing it
        // undoes the clone, as Linux's copy_process does.
        let child_pidfd = if flags.contains(CloneFlags::PIDFD) {
            let stored = self.install_pidfd(process.clone(), false).and_then(|fd| {
                pidfd.write(fd).map(|()| fd).inspect_err(|_| {
                    let _ = self.process.files().close(fd);
                })
            });
            match stored {
                Ok(fd) => Some(fd),
                Err(error) => {
                    process.abandon();
                    return Err(error);
                }
            }
        } else {
            None
        };
        let task = NewTask {
            process: &process,
            tid,
            flags,
            exit_signal: if thread { 0 } else { exit_signal },
            stack,
            tls,
            set_child_tid: flags
                .contains(CloneFlags::CHILD_SETTID)
                .then(|| child_tid.addr()),
            clear_child_tid: flags
                .contains(CloneFlags::CHILD_CLEARTID)
                .then(|| child_tid.addr()),
            clear_signal_handlers,
        };
        if let Err(error) = self.host.start_task(&task) {
            if let Some(fd) = child_pidfd {
                let _ = self.process.files().close(fd);
            }
            if thread {
                process.exit_thread(tid, 0);
            } else {
                process.abandon();
            }
            return Err(error);
        }
        if let Some(done) = vfork_done {
            done.wait().await;
        }
        Ok(tid as usize)
    }
}
