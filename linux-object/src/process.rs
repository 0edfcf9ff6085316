//! [`LinuxProcess`]: what Linux keeps per process beyond its address space — pid and parent,
//! root and working directory, the executable's path, the fd table, children, and the exit
//! status a zombie keeps until its parent reaps it with `wait4`.

use crate::container::{Container, Pid};
use crate::credentials::Credentials;
use crate::error::{LxError, LxResult};
use crate::fd_table::FdTable;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::future::poll_fn;
use core::task::{Context, Poll, Waker};
use kernel_hostfs::INode;
use spin::{Mutex, MutexGuard};

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

/// Which children `wait4` waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitTarget {
    /// Any child (`pid == -1`; process groups are not modelled, so `0` and `< -1` too).
    Any,
    /// The child with this pid.
    Pid(Pid),
}

/// The working directory: its inode and the path it was reached by (`getcwd`).
#[derive(Clone)]
pub struct WorkingDir {
    /// The directory.
    pub inode: Arc<dyn INode>,
    /// Its absolute path inside the container.
    pub path: String,
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
    root: Arc<dyn INode>,
    cwd: Mutex<WorkingDir>,
    exec_path: Mutex<String>,
    files: Mutex<FdTable>,
    family: Mutex<Family>,
    exit_status: Mutex<Option<ExitStatus>>,
    /// Whom the process acts as; a child starts with its parent's.
    credentials: Mutex<Credentials>,
    /// The file mode creation mask (`umask`); a child starts with its parent's.
    umask: Mutex<u32>,
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
        Arc::new(Self {
            pid,
            container: Arc::downgrade(container),
            root: container.root().clone(),
            cwd: Mutex::new(cwd),
            exec_path: Mutex::new(exec_path),
            files: Mutex::new(files),
            family: Mutex::new(Family {
                parent: parent.map_or_else(Weak::new, Arc::downgrade),
                children: BTreeMap::new(),
                child_waiters: Vec::new(),
            }),
            exit_status: Mutex::new(None),
            credentials: Mutex::new(parent.map_or_else(Credentials::default, |p| p.credentials())),
            umask: Mutex::new(parent.map_or(DEFAULT_UMASK, |p| p.umask())),
        })
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

    /// The root directory paths resolve from.
    pub fn root(&self) -> &Arc<dyn INode> {
        &self.root
    }

    /// The working directory.
    pub fn cwd(&self) -> WorkingDir {
        self.cwd.lock().clone()
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
    /// the path and closes the close-on-exec descriptors.
    pub fn did_exec(&self, path: String) {
        *self.exec_path.lock() = path;
        self.files.lock().close_on_exec();
    }

    /// The fd table, locked.
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
        let container = self.container.upgrade().ok_or(LxError::ESRCH)?;
        let files = self.files.lock().clone();
        let child = container.register(|pid, container| {
            LinuxProcess::new(
                pid,
                container,
                Some(self),
                self.cwd(),
                self.exec_path(),
                files,
            )
        })?;
        self.family.lock().children.insert(child.pid, child.clone());
        Ok(child)
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
        let (parent, orphans) = {
            let mut family = self.family.lock();
            (
                family.parent.upgrade(),
                core::mem::take(&mut family.children),
            )
        };
        if let Some(container) = self.container.upgrade() {
            container.adopt_orphans(self.pid, orphans);
        }
        if let Some(parent) = parent {
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

    /// One `wait4` attempt: reaps a matching zombie child and returns its pid and status;
    /// `ECHILD` if no child matches; otherwise `Pending` with `cx` registered (or `Ok(None)`
    /// for `WNOHANG`, `cx` being `None`).
    fn try_wait(
        &self,
        target: WaitTarget,
        cx: Option<&Context<'_>>,
    ) -> Poll<LxResult<Option<(Pid, ExitStatus)>>> {
        let mut family = self.family.lock();
        let mut matching = family.children.values().filter(|child| match target {
            WaitTarget::Any => true,
            WaitTarget::Pid(pid) => child.pid == pid,
        });
        let mut any = false;
        let zombie = matching.find_map(|child| {
            any = true;
            child.exit_status().map(|status| (child.pid, status))
        });
        if let Some((pid, status)) = zombie {
            family.children.remove(&pid);
            drop(family);
            if let Some(container) = self.container.upgrade() {
                container.release(pid);
            }
            return Poll::Ready(Ok(Some((pid, status))));
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
        if nohang {
            return match self.try_wait(target, None) {
                Poll::Ready(result) => result,
                Poll::Pending => Ok(None),
            };
        }
        poll_fn(|cx| self.try_wait(target, Some(cx))).await
    }
}
