//! `clone`, `fork`, `vfork`: new processes and threads.
//!
//! rVisor registers the new task first (a forked `LinuxProcess` with a new pid, or a new tid
//! of the caller's process), then asks the host to start it; if the host cannot, the
//! registration is undone and the caller sees the host's error.
//!
//! Beyond Linux's own rules, rVisor keeps one fd table and one cwd per process: a thread must
//! share both (`CLONE_FILES | CLONE_FS`, as every libc's `pthread_create` and Go do), and a new
//! process cannot share them. Those other combinations are `EINVAL`.

use crate::host::{CloneFlags, NewTask};
use crate::user::UserOutPtr;
use crate::{SysResult, Syscall};
use alloc::sync::Arc;
use linux_object::container::{Pid, INIT_PID};
use linux_object::process::LinuxProcess;
use linux_object::LxError;

/// The signal a forked child's exit sends its parent.
const SIGCHLD: u8 = 17;

/// The exit-signal byte of `clone`'s flags.
const CSIGNAL: u32 = 0xff;

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
    // pidfds are not modelled: refused as a kernel without them would refuse the flag.
    if flags.contains(CloneFlags::PIDFD) {
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
        self.clone_task(
            CloneFlags::from_bits_truncate(low & !CSIGNAL),
            exit_signal,
            stack,
            parent_tid,
            child_tid,
            tls,
        )
        .await
    }

    /// `fork()`: a child process with a copy of the caller's memory and fd table.
    pub async fn sys_fork(&self) -> SysResult {
        let null = UserOutPtr::from(0);
        self.clone_task(CloneFlags::empty(), SIGCHLD, 0, null, null, 0)
            .await
    }

    /// `vfork()`: a child sharing the caller's memory; the caller sleeps until the child
    /// execs or exits.
    pub async fn sys_vfork(&self) -> SysResult {
        let null = UserOutPtr::from(0);
        let flags = CloneFlags::VFORK | CloneFlags::VM;
        self.clone_task(flags, SIGCHLD, 0, null, null, 0).await
    }

    async fn clone_task(
        &self,
        flags: CloneFlags,
        exit_signal: u8,
        stack: usize,
        parent_tid: UserOutPtr<i32>,
        child_tid: UserOutPtr<i32>,
        tls: usize,
    ) -> SysResult {
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
        };
        if let Err(error) = self.host.start_task(&task) {
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
