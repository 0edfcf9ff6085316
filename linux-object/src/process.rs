//! [`LinuxProcess`]: what Linux keeps per process beyond its address space — pid and parent,
//! process group and session, root and working directory, the executable's path, the fd
//! table, children, the exit status a zombie keeps until its parent reaps it with `wait4`,
//! its threads' ids, the program break, and the [`Completion`]s `vfork` parents wait on.
//!
//! Process groups and sessions are ids, as Linux keeps them: the container's first process
//! leads session 1 and group 1, a child starts in its creator's group and session, and
//! `setpgid`/`setsid` ([`Container::set_process_group`], [`Container::new_session`]) move a
//! process under the container's pid-table lock, so every check and change is atomic with
//! respect to the others and to pid allocation (a pid that names a group or a session is
//! not handed out again, as on Linux). Job control itself (stopped jobs, `SIGHUP` to
//! orphaned groups, controlling terminals) is not modelled.
//!
//! Threads share their process's `LinuxProcess` (fd table, cwd, children): a thread is only a
//! tid here, taken from the container's pid table like a pid, and the first thread's tid is
//! the pid. The process ends when its last thread does.

use crate::container::{Container, Pid};
use crate::credentials::Credentials;
use crate::error::{LxError, LxResult};
use crate::fd_table::FdTable;
use crate::mount::MountTable;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::future::poll_fn;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll, Waker};
use kernel_hal_lkm::sync::{Mutex, MutexGuard};
use kernel_hostfs::INode;

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It called `exit(code)`; only the low 8 bits are kept, as Linux keeps them.
    Exited(u8),
    /// A signal killed it.
    Signaled(u8),
}

impl ExitStatus {
    /// The status word `wait4` stores (`WIFEXITED`/`WEXITSTATUS`, `WIFSIGNALED`/`WTERMSIG`).
    pub fn wait_status(self) -> i32 {
        match self {
            Self::Exited(code) => i32::from(code) << 8,
            Self::Signaled(signal) => i32::from(signal & 0x7f),
        }
    }
}

/// Which children `wait4` and `waitid` wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitTarget {
    /// Any child (`wait4(-1)`, `waitid(P_ALL)`).
    Any,
    /// The child with this pid.
    Pid(Pid),
    /// The children in this process group (`wait4(0)` or `wait4(-pgid)`, `waitid(P_PGID)`);
    /// a child's group is looked at when the wait looks, as on Linux.
    Group(Pid),
}

/// How `waitid` waits (`wait4`'s waits reap exited children).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WaitOptions {
    /// Report exited children (`WEXITED`).
    pub exited: bool,
    /// Report stopped children (`WSTOPPED`, `WUNTRACED`), as the host's job control stops
    /// them (see [`ChildStops`]).
    pub stopped: bool,
    /// Report continued children (`WCONTINUED`).
    pub continued: bool,
    /// Return `None` at once if no matching child has changed state (`WNOHANG`).
    pub nohang: bool,
    /// Leave the reported child a zombie, to be waited for again (`WNOWAIT`).
    pub keep: bool,
}

/// What a wait reports of a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildState {
    /// It ended.
    Exited(ExitStatus),
    /// A signal (this one) stopped it.
    Stopped(u8),
    /// `SIGCONT` continued it after a stop.
    Continued,
}

/// A change of a child's state, as a wait reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildReport {
    /// Its pid.
    pub pid: Pid,
    /// What changed.
    pub state: ChildState,
    /// Its real user id (`si_uid`).
    pub uid: u32,
}

/// Where stops and continues of live children are known: the host, whose job control stops
/// and continues the tasks. `report(pid, options, consume)` is the stop or continue of child
/// `pid` not reported yet that `options` asks for (consumed unless `consume` is false, for
/// `WNOWAIT`), if any.
pub trait ChildStops {
    /// The report, if any.
    fn report(&self, pid: Pid, options: WaitOptions, consume: bool) -> Option<ChildState>;
}

/// No stops at all: what a wait for exits alone consults.
pub struct NoStops;

impl ChildStops for NoStops {
    fn report(&self, _pid: Pid, _options: WaitOptions, _consume: bool) -> Option<ChildState> {
        None
    }
}

/// A child's exit, as a wait reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildExit {
    /// Its pid.
    pub pid: Pid,
    /// How it ended.
    pub status: ExitStatus,
    /// Its real user id (`si_uid`).
    pub uid: u32,
}

/// A process's group and session (`getpgid`, `getsid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupIds {
    /// The process group id.
    pub pgid: Pid,
    /// The session id.
    pub sid: Pid,
}

/// The working directory: its inode and the path it was reached by (`getcwd`).
#[derive(Clone)]
pub struct WorkingDir {
    /// The directory.
    pub inode: Arc<dyn INode>,
    /// Its absolute path inside the container.
    pub path: String,
}

/// A process's root directory (`chroot`): where absolute paths start and `..` stops.
pub struct RootDir {
    /// The directory.
    pub inode: Arc<dyn INode>,
    /// Its absolute path inside the container: `/` unless the process changed its root.
    pub path: String,
    /// Its `(dev, inode)` when it is not the container's root, whose filesystem keeps `..`
    /// inside it by itself: a walk compares a directory's identity with it before `..`.
    pub identity: Option<(u64, u64)>,
}

impl RootDir {
    /// The container's root directory, `root`.
    pub fn container(root: Arc<dyn INode>) -> Self {
        Self {
            inode: root,
            path: String::from("/"),
            identity: None,
        }
    }

    /// `path` (an absolute path inside the container) as seen from this root, as Linux's
    /// `d_path` names it: relative to the root when at or below it, else unchanged (reached
    /// from outside the root, as `d_path` names what lies beyond a process's root from the
    /// top of its mount tree).
    pub fn show<'p>(&self, path: &'p str) -> &'p str {
        self.beneath(path).unwrap_or(path)
    }

    /// `path` relative to this root (`/` for the root itself), if it is at or below it.
    pub fn beneath<'p>(&self, path: &'p str) -> Option<&'p str> {
        if self.path == "/" {
            return Some(path);
        }
        match path.strip_prefix(self.path.as_str())? {
            "" => Some("/"),
            below if below.starts_with('/') => Some(below),
            _ => None,
        }
    }
}

/// A one-shot event: completed once, awaited by any number of tasks. A `vfork` parent waits
/// on its child's until the child execs or exits.
#[derive(Default)]
pub struct Completion {
    inner: Mutex<CompletionState>,
}

#[derive(Default)]
struct CompletionState {
    done: bool,
    waiters: Vec<Waker>,
}

impl Completion {
    /// A completion not completed yet.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Completes it and wakes every waiter; later calls change nothing.
    pub fn complete(&self) {
        let waiters = {
            let mut inner = self.inner.lock();
            inner.done = true;
            core::mem::take(&mut inner.waiters)
        };
        waiters.into_iter().for_each(Waker::wake);
    }

    /// Whether it was completed.
    pub fn is_complete(&self) -> bool {
        self.inner.lock().done
    }

    /// Waits until it is completed.
    pub async fn wait(&self) {
        poll_fn(|cx| {
            let mut inner = self.inner.lock();
            if inner.done {
                return Poll::Ready(());
            }
            if !inner.waiters.iter().any(|w| w.will_wake(cx.waker())) {
                inner.waiters.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}

/// The program break (`brk`): where the heap starts and where it ends now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProgramBreak {
    /// The first address of the heap: the page after the program's image (`start_brk`); the
    /// break never goes below it.
    pub start: usize,
    /// The current break, as the program set it (not page aligned).
    pub end: usize,
}

/// The live threads of a process.
struct ThreadGroup {
    tids: BTreeSet<Pid>,
    /// The first thread's `exit` code, which `wait4` reports once the last thread is gone.
    leader_code: Option<u8>,
}

struct Family {
    parent: Weak<LinuxProcess>,
    children: BTreeMap<Pid, Arc<LinuxProcess>>,
    /// Tasks waiting in `wait4` for a child to change state.
    child_waiters: Vec<Waker>,
}

/// A process of a container.
pub struct LinuxProcess {
    pid: Pid,
    container: Weak<Container>,
    /// The root directory; a child starts with its parent's.
    root: Mutex<Arc<RootDir>>,
    /// The container's mount tree, which every path walk of the process crosses.
    mounts: Arc<MountTable>,
    cwd: Mutex<WorkingDir>,
    exec_path: Mutex<String>,
    files: Mutex<FdTable>,
    family: Mutex<Family>,
    exit_status: Mutex<Option<ExitStatus>>,
    /// Who waits for the exit itself (pidfds being polled).
    exit_waiters: Mutex<Vec<Waker>>,
    threads: Mutex<ThreadGroup>,
    /// The vfork parents' completions, by the tid of the child thread they wait for.
    vforks: Mutex<BTreeMap<Pid, Arc<Completion>>>,
    brk: Mutex<ProgramBreak>,
    /// Whom the process acts as; a child starts with its parent's.
    credentials: Mutex<Credentials>,
    /// The file mode creation mask (`umask`); a child starts with its parent's.
    umask: Mutex<u32>,
    /// Process group and session; changed only under the container's pid-table lock.
    group: Mutex<GroupIds>,
    /// Whether the process has called `execve` (`setpgid` on a child then is `EACCES`).
    execed: AtomicBool,
    /// The process does not have its session's controlling terminal (it gave it up with
    /// `TIOCNOTTY`, or existed before its session leader acquired one): Linux keeps the
    /// controlling terminal per process, inherited by `fork`.
    tty_detached: AtomicBool,
}

/// The `umask` a container's first process starts with, as Linux's init.
pub const DEFAULT_UMASK: u32 = 0o022;

impl LinuxProcess {
    pub(crate) fn new(
        pid: Pid,
        container: &Arc<Container>,
        parent: Option<&Arc<LinuxProcess>>,
        cwd: WorkingDir,
        exec_path: String,
        files: FdTable,
    ) -> Arc<Self> {
        let mut tids = BTreeSet::new();
        tids.insert(pid);
        Arc::new(Self {
            pid,
            container: Arc::downgrade(container),
            root: Mutex::new(parent.map_or_else(
                || Arc::new(RootDir::container(container.root().clone())),
                |p| p.root(),
            )),
            mounts: container.mounts().clone(),
            cwd: Mutex::new(cwd),
            exec_path: Mutex::new(exec_path),
            files: Mutex::new(files),
            family: Mutex::new(Family {
                parent: parent.map_or_else(Weak::new, Arc::downgrade),
                children: BTreeMap::new(),
                child_waiters: Vec::new(),
            }),
            exit_status: Mutex::new(None),
            exit_waiters: Mutex::new(Vec::new()),
            threads: Mutex::new(ThreadGroup {
                tids,
                leader_code: None,
            }),
            vforks: Mutex::new(BTreeMap::new()),
            brk: Mutex::new(ProgramBreak::default()),
            credentials: Mutex::new(parent.map_or_else(Credentials::default, |p| p.credentials())),
            umask: Mutex::new(parent.map_or(DEFAULT_UMASK, |p| p.umask())),
            group: Mutex::new(parent.map_or(
                GroupIds {
                    pgid: pid,
                    sid: pid,
                },
                |p| p.group_ids(),
            )),
            execed: AtomicBool::new(false),
            tty_detached: AtomicBool::new(
                parent.is_some_and(|p| p.tty_detached.load(Ordering::Relaxed)),
            ),
        })
    }

    /// Whether the process lacks its session's controlling terminal (see `tty_detached`).
    pub fn tty_detached(&self) -> bool {
        self.tty_detached.load(Ordering::Relaxed)
    }

    /// Gives up (or, with `false`, takes) its session's controlling terminal.
    pub fn set_tty_detached(&self, detached: bool) {
        self.tty_detached.store(detached, Ordering::Relaxed);
    }

    /// The process group and session.
    pub fn group_ids(&self) -> GroupIds {
        *self.group.lock()
    }

    /// The process group id.
    pub fn pgid(&self) -> Pid {
        self.group_ids().pgid
    }

    /// The session id.
    pub fn sid(&self) -> Pid {
        self.group_ids().sid
    }

    /// Moves the process to another group and session; the container does it under its
    /// pid-table lock.
    pub(crate) fn set_group_ids(&self, ids: GroupIds) {
        *self.group.lock() = ids;
    }

    /// Whether the process has called `execve` since it was forked.
    pub fn has_execed(&self) -> bool {
        self.execed.load(Ordering::Acquire)
    }

    /// The container the process is in, while it exists.
    pub fn container(&self) -> Option<Arc<Container>> {
        self.container.upgrade()
    }

    /// The process id inside its container.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The parent's pid (`getppid`); 0 for the container's first process, as for a namespace's
    /// init.
    pub fn ppid(&self) -> Pid {
        self.parent().map_or(0, |parent| parent.pid)
    }

    /// The parent, if it is still there.
    pub fn parent(&self) -> Option<Arc<LinuxProcess>> {
        self.family.lock().parent.upgrade()
    }

    /// The container's mount tree.
    pub fn mounts(&self) -> &Arc<MountTable> {
        &self.mounts
    }

    /// The root directory.
    pub fn root(&self) -> Arc<RootDir> {
        self.root.lock().clone()
    }

    /// Changes the root directory (`chroot`; the caller checked it is a directory the
    /// process may search).
    pub fn set_root(&self, root: RootDir) {
        *self.root.lock() = Arc::new(root);
    }

    /// The working directory.
    pub fn cwd(&self) -> WorkingDir {
        self.cwd.lock().clone()
    }

    /// Runs `f` on the working directory in place, for a caller that needs only part of it or
    /// copies it its own way (the path walk, which wants room after the path).
    pub fn with_cwd<R>(&self, f: impl FnOnce(&WorkingDir) -> R) -> R {
        f(&self.cwd.lock())
    }

    /// Changes the working directory (`chdir`; the caller checked it is a directory).
    pub fn set_cwd(&self, cwd: WorkingDir) {
        *self.cwd.lock() = cwd;
    }

    /// The process's credentials.
    pub fn credentials(&self) -> Credentials {
        self.credentials.lock().clone()
    }

    /// Replaces the process's credentials (`setuid` and friends; the caller checked them).
    pub fn set_credentials(&self, credentials: Credentials) {
        *self.credentials.lock() = credentials;
    }

    /// The file mode creation mask.
    pub fn umask(&self) -> u32 {
        *self.umask.lock()
    }

    /// Sets the file mode creation mask to `mask & 0o777` and returns the previous one
    /// (`umask`).
    pub fn set_umask(&self, mask: u32) -> u32 {
        core::mem::replace(&mut *self.umask.lock(), mask & 0o777)
    }

    /// The path of the running executable (`/proc/self/exe`).
    pub fn exec_path(&self) -> String {
        self.exec_path.lock().clone()
    }

    /// What `execve` does to the process's own state once the new image is loaded: records
    /// the path, closes the close-on-exec descriptors, leaves the calling thread the only one
    /// (with the pid as its tid, as Linux's `de_thread`) and releases a `vfork` parent.
    pub fn did_exec(&self, path: String) {
        self.execed.store(true, Ordering::Release);
        *self.exec_path.lock() = path;
        self.files.lock().close_on_exec();
        self.release_threads(false);
        self.complete_vforks();
    }

    /// The live threads' ids, the first thread's (the pid) included while it runs.
    pub fn threads(&self) -> Vec<Pid> {
        self.threads.lock().tids.iter().copied().collect()
    }

    /// A new thread (`clone(CLONE_THREAD)`): takes a tid from the container's pid table.
    /// `ESRCH` once the process has exited, `EAGAIN` when no id is left.
    pub fn new_thread(self: &Arc<Self>) -> LxResult<Pid> {
        let container = self.container.upgrade().ok_or(LxError::ESRCH)?;
        if self.exit_status().is_some() {
            return Err(LxError::ESRCH);
        }
        let tid = container.register_thread(self)?;
        self.threads.lock().tids.insert(tid);
        Ok(tid)
    }

    /// Thread `tid` ends (`exit`, or a thread whose start failed): its tid is freed, a
    /// `vfork` parent waiting for it is released, and if it was the last thread the process
    /// exits with the first thread's code (or `code` if the first thread is the last), as
    /// Linux reports the group leader's. Returns whether the process ended.
    pub fn exit_thread(&self, tid: Pid, code: u8) -> bool {
        let last = {
            let mut threads = self.threads.lock();
            if !threads.tids.remove(&tid) {
                return false;
            }
            if tid == self.pid {
                threads.leader_code = Some(code);
            }
            threads
                .tids
                .is_empty()
                .then(|| threads.leader_code.unwrap_or(code))
        };
        if tid != self.pid {
            if let Some(container) = self.container.upgrade() {
                container.release(tid);
            }
        }
        if let Some(done) = self.vforks.lock().remove(&tid) {
            done.complete();
        }
        match last {
            Some(code) => {
                self.exit(ExitStatus::Exited(code));
                true
            }
            None => false,
        }
    }

    /// Frees every thread's tid but the pid, which stays the process's own; with `all`, the
    /// first thread is gone too.
    fn release_threads(&self, all: bool) {
        let others: Vec<Pid> = {
            let mut threads = self.threads.lock();
            let others = threads
                .tids
                .iter()
                .copied()
                .filter(|&tid| tid != self.pid)
                .collect();
            threads.tids.clear();
            if !all {
                threads.tids.insert(self.pid);
            }
            others
        };
        if let Some(container) = self.container.upgrade() {
            others.into_iter().for_each(|tid| container.release(tid));
        }
    }

    /// The completion a `vfork` parent waits on until thread `tid` of this process execs or
    /// exits. Made before the thread starts, so that neither can be missed.
    pub fn vfork_completion(&self, tid: Pid) -> Arc<Completion> {
        self.vforks.lock().entry(tid).or_default().clone()
    }

    fn complete_vforks(&self) {
        let vforks = core::mem::take(&mut *self.vforks.lock());
        vforks.into_values().for_each(|done| done.complete());
    }

    /// The program break.
    pub fn program_break(&self) -> ProgramBreak {
        *self.brk.lock()
    }

    /// Sets the program break (`execve` sets both ends to the loaded image's end, `brk`
    /// moves the end).
    pub fn set_program_break(&self, brk: ProgramBreak) {
        *self.brk.lock() = brk;
    }

    /// The fd table, locked.
    #[inline]
    pub fn files(&self) -> MutexGuard<'_, FdTable> {
        self.files.lock()
    }

    /// The pids of the children, zombies included.
    pub fn children(&self) -> Vec<Pid> {
        self.family.lock().children.keys().copied().collect()
    }

    /// How the process ended, if it has (a zombie until reaped).
    pub fn exit_status(&self) -> Option<ExitStatus> {
        *self.exit_status.lock()
    }

    /// `fork`: a child with a copy of the fd table, the same root, working directory and
    /// executable, and the next free pid (`EAGAIN` when none is left).
    pub fn fork(self: &Arc<Self>) -> LxResult<Arc<LinuxProcess>> {
        self.fork_under(self)
    }

    /// `clone(CLONE_PARENT)`: like [`fork`](Self::fork), but the child is this process's
    /// sibling: its parent is this process's parent. `EINVAL` for the container's first
    /// process (its siblings would have no parent to reap them, as Linux refuses for init).
    pub fn fork_sibling(self: &Arc<Self>) -> LxResult<Arc<LinuxProcess>> {
        let parent = self.parent().ok_or(LxError::EINVAL)?;
        if self.pid == crate::container::INIT_PID {
            return Err(LxError::EINVAL);
        }
        self.fork_under(&parent)
    }

    /// A copy of this process, a child of `parent`. What is copied (credentials, umask,
    /// group and session included) is this process's, even when `parent` is another one.
    fn fork_under(self: &Arc<Self>, parent: &Arc<Self>) -> LxResult<Arc<LinuxProcess>> {
        let container = self.container.upgrade().ok_or(LxError::ESRCH)?;
        let files = self.files.lock().clone();
        let brk = self.program_break();
        let child = container.register(|pid, container| {
            let child = LinuxProcess::new(
                pid,
                container,
                Some(parent),
                self.cwd(),
                self.exec_path(),
                files,
            );
            // Read under the pid-table lock, so no `setpgid` or `setsid` can slip between.
            child.set_group_ids(self.group_ids());
            child
        })?;
        child.set_credentials(self.credentials());
        child.set_umask(self.umask());
        child.set_tty_detached(self.tty_detached());
        child.set_program_break(brk);
        parent
            .family
            .lock()
            .children
            .insert(child.pid, child.clone());
        Ok(child)
    }

    /// Undoes a [`fork`](Self::fork) whose task could not be started: the child leaves its
    /// parent's children without becoming a zombie, its descriptors are closed and its pid
    /// is free again. Nobody has seen its pid yet, so nobody waits for it.
    pub fn abandon(&self) {
        if let Some(parent) = self.parent() {
            parent.family.lock().children.remove(&self.pid);
        }
        let files = core::mem::take(&mut *self.files.lock());
        drop(files);
        self.release_threads(true);
        if let Some(container) = self.container.upgrade() {
            container.release(self.pid);
        }
    }

    /// `exit`/`exit_group` or death by a signal: keeps `status` for the parent, closes every
    /// descriptor, gives the children to the container's first process and wakes the
    /// parent's `wait4`. A second call changes nothing.
    pub fn exit(&self, status: ExitStatus) {
        {
            let mut exit_status = self.exit_status.lock();
            if exit_status.is_some() {
                return;
            }
            *exit_status = Some(status);
        }
        // Dropping the table outside its lock: closing a pipe end wakes other tasks.
        let files = core::mem::take(&mut *self.files.lock());
        drop(files);
        // Its semaphore adjustments are undone (`SEM_UNDO`), as Linux's `exit_sem`.
        if let Some(container) = self.container.upgrade() {
            container.ipc().process_exited(self.pid);
        }
        // A session leader's exit gives its controlling terminal up: its foreground group gets
        // SIGHUP (Linux's `disassociate_ctty(1)` for a pty).
        if self.pid == self.sid() {
            if let Some(container) = self.container.upgrade() {
                if let Some(pty) = container.devpts().controlling(self.pid) {
                    pty.detach(true);
                }
            }
        }
        // Every thread ends with the process; the pid stays taken until the zombie is reaped.
        self.release_threads(true);
        self.complete_vforks();
        let (parent, orphans) = {
            let mut family = self.family.lock();
            (
                family.parent.upgrade(),
                core::mem::take(&mut family.children),
            )
        };
        if let Some(container) = self.container.upgrade() {
            container.adopt_orphans(self.pid, orphans);
            // Nobody in the container waits for a process without a parent there (one that
            // entered from outside, whose parent on the host reaps its task, or an orphan of
            // an ending container): it leaves no zombie. Pid 1's stays until the end.
            if parent.is_none() && self.pid != crate::container::INIT_PID {
                container.release(self.pid);
            }
        }
        if let Some(parent) = parent {
            parent.wake_child_waiters();
        }
        let waiters = core::mem::take(&mut *self.exit_waiters.lock());
        waiters.into_iter().for_each(Waker::wake);
    }

    /// Whether the process has exited; if not, `cx` (if any) is woken when it does. A waker is
    /// registered before the exit is looked at, so an exit in between is never missed.
    pub fn poll_exited(&self, cx: Option<&Context<'_>>) -> bool {
        if let Some(cx) = cx {
            let mut waiters = self.exit_waiters.lock();
            if !waiters.iter().any(|w| w.will_wake(cx.waker())) && waiters.try_reserve(1).is_ok() {
                waiters.push(cx.waker().clone());
            }
        }
        self.exit_status.lock().is_some()
    }

    /// This process stopped or continued (the host's job control): its parent's waits look at
    /// its children again.
    pub fn state_changed(&self) {
        if let Some(parent) = self.parent() {
            parent.wake_child_waiters();
        }
    }

    pub(crate) fn wake_child_waiters(&self) {
        let waiters = core::mem::take(&mut self.family.lock().child_waiters);
        waiters.into_iter().for_each(Waker::wake);
    }

    pub(crate) fn adopt(self: &Arc<Self>, orphans: BTreeMap<Pid, Arc<LinuxProcess>>) {
        for orphan in orphans.values() {
            orphan.family.lock().parent = Arc::downgrade(self);
        }
        self.family.lock().children.extend(orphans);
        self.wake_child_waiters();
    }

    pub(crate) fn orphan(&self) {
        self.family.lock().parent = Weak::new();
    }

    /// One wait attempt, as Linux's `do_wait` looks at the children in turn: the first
    /// matching one that exited (reaped unless `options.keep`), stopped or continued as
    /// `options` asks is reported; `ECHILD` if no child matches; otherwise `Pending` with `cx`
    /// registered (or `Ok(None)` for `WNOHANG`, `cx` being `None`).
    fn try_wait(
        &self,
        target: WaitTarget,
        options: WaitOptions,
        stops: &dyn ChildStops,
        cx: Option<&Context<'_>>,
    ) -> Poll<LxResult<Option<ChildReport>>> {
        let mut family = self.family.lock();
        let mut matching = family.children.values().filter(|child| match target {
            WaitTarget::Any => true,
            WaitTarget::Pid(pid) => child.pid == pid,
            WaitTarget::Group(pgid) => child.pgid() == pgid,
        });
        let mut any = false;
        let changed = matching.find_map(|child| {
            any = true;
            let state = match child.exit_status() {
                Some(status) => options.exited.then_some(ChildState::Exited(status))?,
                None if options.stopped || options.continued => {
                    stops.report(child.pid, options, !options.keep)?
                }
                None => return None,
            };
            Some(ChildReport {
                pid: child.pid,
                state,
                uid: child.credentials().uid,
            })
        });
        if let Some(report) = changed {
            if matches!(report.state, ChildState::Exited(_)) && !options.keep {
                family.children.remove(&report.pid);
                drop(family);
                if let Some(container) = self.container.upgrade() {
                    container.release(report.pid);
                }
            }
            return Poll::Ready(Ok(Some(report)));
        }
        if !any {
            return Poll::Ready(Err(LxError::ECHILD));
        }
        match cx {
            Some(cx) => {
                if !family.child_waiters.iter().any(|w| w.will_wake(cx.waker())) {
                    family.child_waiters.push(cx.waker().clone());
                }
                Poll::Pending
            }
            None => Poll::Ready(Ok(None)),
        }
    }

    /// `wait4`: waits until a matching child has exited and reaps it. With `nohang`
    /// (`WNOHANG`) returns `None` at once if matching children are all still running.
    pub async fn wait_child(
        &self,
        target: WaitTarget,
        nohang: bool,
    ) -> LxResult<Option<(Pid, ExitStatus)>> {
        let options = WaitOptions {
            exited: true,
            nohang,
            ..WaitOptions::default()
        };
        let exit = self.wait_child_exit(target, options).await?;
        Ok(exit.map(|exit| (exit.pid, exit.status)))
    }

    /// `waitid` of exits alone: waits as `options` say until a matching child has exited,
    /// and reports it (reaped unless `options.keep`). `ECHILD` if no child matches; `None`
    /// with `options.nohang` if none has exited yet.
    pub async fn wait_child_exit(
        &self,
        target: WaitTarget,
        options: WaitOptions,
    ) -> LxResult<Option<ChildExit>> {
        let options = WaitOptions {
            stopped: false,
            continued: false,
            ..options
        };
        let report = self.wait_child_change(target, options, &NoStops).await?;
        Ok(report.and_then(|report| match report.state {
            ChildState::Exited(status) => Some(ChildExit {
                pid: report.pid,
                status,
                uid: report.uid,
            }),
            ChildState::Stopped(_) | ChildState::Continued => None,
        }))
    }

    /// `wait4`, `waitid`: waits as `options` say until a matching child has exited, stopped
    /// or continued (as `stops` knows them), and reports it (an exited child reaped unless
    /// `options.keep`). `ECHILD` if no child matches; `None` with `options.nohang` if none
    /// has changed yet. A stop or continue wakes the wait through [`LinuxProcess::state_changed`].
    pub async fn wait_child_change(
        &self,
        target: WaitTarget,
        options: WaitOptions,
        stops: &dyn ChildStops,
    ) -> LxResult<Option<ChildReport>> {
        if options.nohang {
            return match self.try_wait(target, options, stops, None) {
                Poll::Ready(result) => result,
                Poll::Pending => Ok(None),
            };
        }
        poll_fn(|cx| self.try_wait(target, options, stops, Some(cx))).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::Container;
    use crate::fs::{FileLike, OpenFlags, Pipe};
    use crate::test_executor::{block_on, poll_once, CountingWaker};
    use kernel_hostfs::{FileSystem, HostFs};
    use std::pin::pin;

    fn init() -> (Arc<Container>, Arc<LinuxProcess>) {
        let dir = std::env::temp_dir().join(format!("linux-object-process-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let memory = kernel_hal_lkm::platform()
            .unwrap()
            .new_physical_memory(4)
            .unwrap();
        let container = Container::new(1, HostFs::new(&dir).unwrap().root_inode(), memory);
        let init = container.spawn_init("/init".into()).unwrap();
        (container, init)
    }

    #[test]
    fn threads_take_ids_from_the_pid_space_and_the_last_one_ends_the_process() {
        let (container, init) = init();
        let process = init.fork().unwrap();
        let tid = process.new_thread().unwrap();
        assert_eq!((process.pid(), tid), (2, 3));
        assert_eq!(process.threads(), [2, 3]);
        assert!(Arc::ptr_eq(&container.process(3).unwrap(), &process));
        assert_eq!(init.fork().unwrap().pid(), 4, "tids and pids are one space");

        // The first thread leaves first: the process lives on, its pid still taken.
        assert!(!process.exit_thread(2, 7));
        assert_eq!(process.threads(), [3]);
        assert_eq!(process.exit_status(), None);
        // The last thread's exit ends it, with the first thread's code.
        assert!(process.exit_thread(3, 9));
        assert_eq!(process.exit_status(), Some(ExitStatus::Exited(7)));
        assert!(container.process(3).is_none(), "the tid is free");
        assert_eq!(
            block_on(init.wait_child(WaitTarget::Pid(2), false)),
            Ok(Some((2, ExitStatus::Exited(7))))
        );
        assert!(!process.exit_thread(3, 1), "gone already");
        assert_eq!(process.new_thread(), Err(LxError::ESRCH));
    }

    #[test]
    fn exit_group_and_exec_end_the_other_threads() {
        let (container, init) = init();
        let process = init.fork().unwrap();
        let a = process.new_thread().unwrap();
        let b = process.new_thread().unwrap();
        process.did_exec("/bin/true".into());
        assert_eq!(process.threads(), [process.pid()]);
        assert!(container.process(a).is_none() && container.process(b).is_none());
        let c = process.new_thread().unwrap();
        process.exit(ExitStatus::Signaled(9));
        assert!(process.threads().is_empty());
        assert!(container.process(c).is_none());
        assert!(container.process(process.pid()).is_some(), "a zombie");
    }

    #[test]
    fn a_vfork_parent_waits_until_the_child_execs_or_exits() {
        let (_container, init) = init();
        let child = init.fork().unwrap();
        let done = child.vfork_completion(child.pid());
        let (counter, waker) = CountingWaker::new();
        let mut wait = pin!(done.wait());
        assert!(poll_once(wait.as_mut(), &waker).is_pending());
        child.did_exec("/bin/sh".into());
        assert_eq!(counter.wakes(), 1);
        assert!(poll_once(wait.as_mut(), &waker).is_ready());

        let other = init.fork().unwrap();
        let done = other.vfork_completion(other.pid());
        other.exit(ExitStatus::Exited(0));
        assert!(done.is_complete());

        // A thread started with CLONE_VFORK releases its parent when it exits.
        let process = init.fork().unwrap();
        let tid = process.new_thread().unwrap();
        let done = process.vfork_completion(tid);
        assert!(!done.is_complete());
        process.exit_thread(tid, 0);
        assert!(done.is_complete());
    }

    #[test]
    fn clone_parent_makes_a_sibling_but_not_for_init() {
        let (_container, init) = init();
        let child = init.fork().unwrap();
        let sibling = child.fork_sibling().unwrap();
        assert_eq!(sibling.ppid(), 1);
        assert!(init.children().contains(&sibling.pid()));
        assert!(child.children().is_empty());
        assert_eq!(init.fork_sibling().err(), Some(LxError::EINVAL));
    }

    #[test]
    fn an_abandoned_fork_leaves_no_trace() {
        let (container, init) = init();
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        init.files().add(writer, false).unwrap();
        let child = init.fork().unwrap();
        init.files().close(0).unwrap();
        child.abandon();
        assert!(init.children().is_empty());
        assert_eq!(container.pids(), [1]);
        assert_eq!(
            reader.read(&mut [0; 1]),
            Ok(0),
            "its descriptors are closed"
        );
        assert_eq!(
            block_on(init.wait_child(WaitTarget::Any, true)),
            Err(LxError::ECHILD)
        );
    }

    #[test]
    fn waits_by_group_and_waits_that_keep_the_zombie() {
        let (container, init) = init();
        let first = init.fork().unwrap(); // 2
        let second = init.fork().unwrap(); // 3
        container.set_process_group(&init, 3, 3).unwrap();
        second.exit(ExitStatus::Signaled(9));
        first.exit(ExitStatus::Exited(4));
        let keep = WaitOptions {
            exited: true,
            nohang: true,
            keep: true,
            ..WaitOptions::default()
        };
        let exit = block_on(init.wait_child_exit(WaitTarget::Group(3), keep));
        assert_eq!(
            exit,
            Ok(Some(ChildExit {
                pid: 3,
                status: ExitStatus::Signaled(9),
                uid: 0
            }))
        );
        assert_eq!(container.pids(), [1, 2, 3], "still a zombie");
        let only_stops = WaitOptions {
            exited: false,
            stopped: true,
            ..keep
        };
        assert_eq!(
            block_on(init.wait_child_exit(WaitTarget::Any, only_stops)),
            Ok(None),
            "exits are not what was asked for"
        );
        assert_eq!(
            block_on(init.wait_child(WaitTarget::Group(1), false)),
            Ok(Some((2, ExitStatus::Exited(4))))
        );
        assert_eq!(
            block_on(init.wait_child(WaitTarget::Group(1), true)),
            Err(LxError::ECHILD)
        );
        assert_eq!(
            block_on(init.wait_child(WaitTarget::Group(3), false)),
            Ok(Some((3, ExitStatus::Signaled(9))))
        );
        assert_eq!(container.pids(), [1]);
    }

    #[test]
    fn the_program_break_is_inherited_by_fork() {
        let (_container, init) = init();
        let brk = ProgramBreak {
            start: 0x1000,
            end: 0x2345,
        };
        init.set_program_break(brk);
        assert_eq!(init.fork().unwrap().program_break(), brk);
    }
}
