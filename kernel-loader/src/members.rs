//! Which task belongs to which container, under which virtual ids.
//!
//! The table is read on the syscall path of every contained task (and of host tasks with their
//! own seccomp filters, for the calls rVisor serves), so a lookup is one hash and one short
//! chain under a per-bucket spin lock. Nodes are allocated by the caller before a lock is taken:
//! nothing allocates or frees a container under a bucket lock.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering};

use linux_kernel_module::sync::{AtomicContext, SpinLock};
use linux_kernel_module::task::{HeldTask, TaskId};

use kernel_async::UserThread;
use linux_object::process::LinuxProcess;

use crate::container::Container;
use crate::host::ExecImage;

/// A contained task: its container, its virtual ids there and what rVisor keeps for it.
///
/// The last references to a process, a seat or an image must not be dropped in atomic context
/// (their drops may sleep): a removed member is dropped by its own task's exit work.
pub struct Member {
    /// The container.
    pub container: Arc<Container>,
    /// The task's own virtual id (`gettid`).
    pub tid: u32,
    /// Its thread group's virtual id (`getpid`): the leader's tid.
    pub pid: u32,
    /// rVisor's process the task is a thread of.
    pub process: Arc<LinuxProcess>,
    /// The task's seat in the executor, made at its first call that waits.
    pub seat: Option<Arc<UserThread>>,
    /// The program image the task's memory maps: kept while mapped, since its unwritten
    /// pages are the image's frames.
    pub image: Option<Arc<ExecImage>>,
    /// The task this one is starting, while the host's clone runs (see `TaskHost::start_task`):
    /// the fork tracepoint registers the new task with it.
    pub spawning: Option<Spawn>,
}

/// What a served call needs of its caller's [`Member`] record, taken for the call's length:
/// the table's lock is not held while it runs.
pub struct Caller {
    /// The container.
    pub container: Arc<Container>,
    /// The task's own virtual id.
    pub tid: u32,
    /// Its thread group's virtual id.
    pub pid: u32,
    /// rVisor's process the task is a thread of.
    pub process: Arc<LinuxProcess>,
    /// The task's seat in the executor, if it has one yet.
    pub seat: Option<Arc<UserThread>>,
}

impl Caller {
    /// The part of `member` a call needs (the container and the process are shared, not
    /// copied).
    fn of(member: &Member) -> Self {
        Caller {
            container: member.container.clone(),
            tid: member.tid,
            pid: member.pid,
            process: member.process.clone(),
            seat: member.seat.clone(),
        }
    }
}

/// A task being started by a member: what it will be in the container.
pub struct Spawn {
    /// Its process: a new child, or the starter's own for a thread.
    pub process: Arc<LinuxProcess>,
    /// Its thread id in the container.
    pub tid: u32,
    /// `CLONE_CHILD_SETTID`: where it stores its tid before it first runs user code.
    pub set_child_tid: Option<usize>,
    /// `CLONE_CLEAR_SIGHAND`: it resets its signal handlers before any signal reaches it.
    pub clear_signal_handlers: bool,
}

/// One entry of a bucket's chain.
pub struct Node {
    task: TaskId,
    /// Held so that another member can find the task by its container ids and act on it
    /// (signals, limits) after the bucket lock is released.
    held: HeldTask,
    member: Member,
    next: Option<Box<Node>>,
    /// The task's entry in the index by container pid while the node is out of the table
    /// (`None` in it, or if there was no memory for one: the task is then found by a walk).
    by_pid: Option<Box<PidEntry>>,
}

impl Node {
    /// An entry for `task`, to be inserted with [`MemberTable::insert`].
    pub fn new(task: HeldTask, member: Member) -> Self {
        Node {
            task: task.id(),
            held: task,
            member,
            next: None,
            by_pid: None,
        }
    }

    /// The member this entry records.
    pub fn member(&self) -> &Member {
        &self.member
    }

    /// The node's entry in the index by container pid, to be allocated by the caller (in
    /// atomic context, atomically) and given with [`Node::set_pid_entry`].
    pub fn pid_entry(&self) -> PidEntry {
        PidEntry {
            task: self.task,
            container: self.member.container.id(),
            pid: self.member.pid,
            tid: self.member.tid,
            held: self.held.clone(),
            next: None,
        }
    }

    /// Gives the node its entry in the index by container pid.
    pub fn set_pid_entry(&mut self, entry: Box<PidEntry>) {
        self.by_pid = Some(entry);
    }
}

/// A member in the index by container ids: the calls that name another task by its pid
/// (`kill`, `/proc/PID/…`) find it in one chain rather than by walking the whole table.
pub struct PidEntry {
    task: TaskId,
    container: u32,
    pid: u32,
    tid: u32,
    held: HeldTask,
    next: Option<Box<PidEntry>>,
}

const BUCKET_BITS: u32 = 8;
const BUCKETS: usize = 1 << BUCKET_BITS;

/// Every contained task.
pub static MEMBERS: MemberTable = MemberTable::new();

/// Every contained task, keyed by [`TaskId`], and indexed by container and pid.
///
/// A change takes a task's bucket lock, then its pid bucket's lock (never the other way);
/// a look-up by ids takes only the latter.
pub struct MemberTable {
    buckets: [SpinLock<Option<Box<Node>>>; BUCKETS],
    by_pid: [SpinLock<Option<Box<PidEntry>>>; BUCKETS],
    /// How many members are not in the index (no memory for their entry): only while there
    /// are some may a task the index lacks still be a member, found by a walk.
    unindexed: AtomicUsize,
}

impl MemberTable {
    /// An empty table.
    pub const fn new() -> Self {
        MemberTable {
            buckets: [const { SpinLock::new(None) }; BUCKETS],
            by_pid: [const { SpinLock::new(None) }; BUCKETS],
            unindexed: AtomicUsize::new(0),
        }
    }

    /// Whether every member is in the index by pid.
    fn all_indexed(&self) -> bool {
        self.unindexed.load(Ordering::Acquire) == 0
    }

    fn pid_bucket(&self, container: u32, pid: u32) -> &SpinLock<Option<Box<PidEntry>>> {
        let key = (u64::from(container) << 32) | u64::from(pid);
        let hash = key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // The shift leaves BUCKET_BITS bits: always a valid index.
        &self.by_pid[(hash >> (64 - BUCKET_BITS)) as usize]
    }

    /// Thread `tid` of container `container` (of process `pid`, if given), held. Found in
    /// the index when `pid` is given or `tid` leads its process; otherwise (a thread named by
    /// its tid alone), or while some member is not indexed, by walking the whole table.
    pub fn find_thread(&self, container: u32, pid: Option<u32>, tid: u32) -> Option<HeldTask> {
        let key = pid.unwrap_or(tid);
        let indexed = find_indexed(&self.pid_bucket(container, key).lock(), |e| {
            e.container == container && e.pid == key && e.tid == tid
        });
        if indexed.is_some() || (pid.is_some() && self.all_indexed()) {
            return indexed;
        }
        self.find_in(container, |m| {
            m.tid == tid && pid.map_or(true, |pid| m.pid == pid)
        })
    }

    /// A thread of process `pid` of container `container`, held: its leader while it lives
    /// (a signal the module sends a process is queued on the thread it is given, and a
    /// program's other threads often block what its main thread handles), else another.
    pub fn find_process(&self, container: u32, pid: u32) -> Option<HeldTask> {
        let indexed = {
            let chain = self.pid_bucket(container, pid).lock();
            let of_process = |e: &PidEntry| e.container == container && e.pid == pid;
            find_indexed(&chain, |e| of_process(e) && e.tid == pid)
                .or_else(|| find_indexed(&chain, of_process))
        };
        if indexed.is_some() || self.all_indexed() {
            return indexed;
        }
        self.find_in(container, |m| m.pid == pid && m.tid == pid)
            .or_else(|| self.find_in(container, |m| m.pid == pid))
    }

    /// Makes `task`, which executed a program as its process's leader, have the process's id
    /// as its own (`de_thread`).
    pub fn became_leader(&self, task: TaskId) {
        let mut bucket = self.bucket(task).lock();
        let mut node = bucket.as_deref_mut();
        while let Some(n) = node {
            if n.task == task {
                n.member.tid = n.member.pid;
                let mut entries = self
                    .pid_bucket(n.member.container.id(), n.member.pid)
                    .lock();
                let mut entry = entries.as_deref_mut();
                while let Some(e) = entry {
                    if e.task == task {
                        e.tid = e.pid;
                        break;
                    }
                    entry = e.next.as_deref_mut();
                }
                return;
            }
            node = n.next.as_deref_mut();
        }
    }

    fn bucket(&self, task: TaskId) -> &SpinLock<Option<Box<Node>>> {
        // task_structs are cache-line aligned: drop the low bits, then Fibonacci hashing.
        let hash = ((task.as_usize() >> 6) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // The shift leaves BUCKET_BITS bits: always a valid index.
        &self.buckets[(hash >> (64 - BUCKET_BITS)) as usize]
    }

    /// True if `task` is a member.
    #[inline]
    pub fn contains(&self, task: TaskId) -> bool {
        self.with(task, |_| ()).is_some()
    }

    /// What a call of `task` needs of its record.
    pub fn caller(&self, task: TaskId) -> Option<Caller> {
        self.with(task, Caller::of)
    }

    /// Runs `f` on `task`'s record under the bucket lock: `f` must not sleep.
    pub fn with<R>(&self, task: TaskId, f: impl FnOnce(&Member) -> R) -> Option<R> {
        find(&self.bucket(task).lock(), task).map(f)
    }

    /// [`MemberTable::with`] where preemption is disabled already (the gate's callback).
    pub fn with_atomic<R>(
        &self,
        task: TaskId,
        atomic: &AtomicContext,
        f: impl FnOnce(&Member) -> R,
    ) -> Option<R> {
        find(&self.bucket(task).lock_atomic(atomic), task).map(f)
    }

    /// Changes `task`'s record under the bucket lock: `f` must not sleep.
    pub fn update<R>(&self, task: TaskId, f: impl FnOnce(&mut Member) -> R) -> Option<R> {
        let mut bucket = self.bucket(task).lock();
        let mut node = bucket.as_deref_mut();
        while let Some(n) = node {
            if n.task == task {
                return Some(f(&mut n.member));
            }
            node = n.next.as_deref_mut();
        }
        None
    }

    /// A task of container `container` whose record satisfies `matches`, held. Walks the whole
    /// table (the look-ups by ids above use the index first).
    fn find_in(&self, container: u32, matches: impl Fn(&Member) -> bool) -> Option<HeldTask> {
        self.buckets.iter().find_map(|bucket| {
            let chain = bucket.lock();
            let mut node = chain.as_deref();
            while let Some(n) = node {
                if n.member.container.id() == container && matches(&n.member) {
                    return Some(n.held.clone());
                }
                node = n.next.as_deref();
            }
            None
        })
    }

    /// The container pid of the member of container `container` whose host task is
    /// `host_tid` (a thread group's leader, for a host tgid). Walks the whole table.
    pub fn pid_of_host_task(&self, container: u32, host_tid: i32) -> Option<u32> {
        self.buckets.iter().find_map(|bucket| {
            let chain = bucket.lock();
            let mut node = chain.as_deref();
            while let Some(n) = node {
                if n.member.container.id() == container && n.held.host_tid() == host_tid {
                    return Some(n.member.pid);
                }
                node = n.next.as_deref();
            }
            None
        })
    }

    /// Adds `node` unless its task is already a member; then the node comes back unchanged.
    pub fn insert(&self, mut node: Box<Node>) -> Result<(), Box<Node>> {
        let task = node.task;
        let mut bucket = self.bucket(task).lock();
        let mut cursor = bucket.as_deref();
        while let Some(n) = cursor {
            if n.task == task {
                return Err(node);
            }
            cursor = n.next.as_deref();
        }
        match node.by_pid.take() {
            Some(mut entry) => {
                let mut entries = self.pid_bucket(entry.container, entry.pid).lock();
                entry.next = entries.take();
                *entries = Some(entry);
            }
            None => {
                self.unindexed.fetch_add(1, Ordering::AcqRel);
            }
        }
        node.next = bucket.take();
        *bucket = Some(node);
        Ok(())
    }

    /// Takes `task`'s entry out. The caller drops it after the lock is released.
    pub fn remove(&self, task: TaskId) -> Option<Box<Node>> {
        let mut bucket = self.bucket(task).lock();
        let mut link: &mut Option<Box<Node>> = &mut bucket;
        loop {
            match link {
                None => return None,
                Some(n) if n.task == task => {
                    let mut removed = link.take()?;
                    *link = removed.next.take();
                    let (container, pid) = (removed.member.container.id(), removed.member.pid);
                    removed.by_pid =
                        unlink_entry(&mut self.pid_bucket(container, pid).lock(), task);
                    if removed.by_pid.is_none() {
                        self.unindexed.fetch_sub(1, Ordering::AcqRel);
                    }
                    return Some(removed);
                }
                Some(n) => link = &mut n.next,
            }
        }
    }
}

/// Takes `task`'s entry out of an index chain (dropped with its node, out of the locks).
fn unlink_entry(chain: &mut Option<Box<PidEntry>>, task: TaskId) -> Option<Box<PidEntry>> {
    let mut link = chain;
    loop {
        match link {
            None => return None,
            Some(e) if e.task == task => {
                let mut removed = link.take()?;
                *link = removed.next.take();
                return Some(removed);
            }
            Some(e) => link = &mut e.next,
        }
    }
}

/// The first entry of an index chain that satisfies `matches`, its task held.
fn find_indexed(
    chain: &Option<Box<PidEntry>>,
    matches: impl Fn(&PidEntry) -> bool,
) -> Option<HeldTask> {
    let mut entry = chain.as_deref();
    while let Some(e) = entry {
        if matches(e) {
            return Some(e.held.clone());
        }
        entry = e.next.as_deref();
    }
    None
}

/// `task`'s record in a bucket's chain.
fn find(chain: &Option<Box<Node>>, task: TaskId) -> Option<&Member> {
    let mut node = chain.as_deref();
    while let Some(n) = node {
        if n.task == task {
            return Some(&n.member);
        }
        node = n.next.as_deref();
    }
    None
}
