//! [`ShmSegment`]: a System V shared memory segment, Linux's `ipc/shm.c`.
//!
//! Its pages are a host object ([`SharedMemory`]: in the module, an unlinked shmem file as
//! Linux's own segments are), which `shmat` maps shared into the caller with the host's
//! mapping path. The host counts the attachments: every memory area mapping the object, which
//! a `fork` copies and an `exec`, `exit`, `munmap` or `shmdt` removes — what Linux's
//! `shm_nattch` counts. `IPC_RMID` of an attached segment marks it `SHM_DEST` and makes its key
//! private; the namespace forgets it once nothing maps it (looked at by every `shm*` call, so
//! no call sees it after its last detach).

use super::{now_seconds, IpcObject, IpcPerm};
use crate::container::Pid;
use alloc::sync::Arc;
use core::any::Any;
use kernel_hal_lkm::sync::Mutex;

/// `SHMMIN`: the smallest segment.
pub const SHMMIN: usize = 1;
/// `SHMMAX`: the largest segment (`ULONG_MAX - (1 << 24)`).
pub const SHMMAX: usize = usize::MAX - (1 << 24);
/// `SHMALL`: pages of all segments at most.
pub const SHMALL: usize = usize::MAX - (1 << 24);
/// `SHMMNI`: segments in a namespace at most.
pub const SHMMNI: usize = 4096;
/// `SHM_DEST`: removed, destroyed at the last detach (a mode bit).
pub const SHM_DEST: u32 = 0o1000;
/// `SHM_LOCKED`: `SHM_LOCK`ed (a mode bit).
pub const SHM_LOCKED: u32 = 0o2000;

/// The host pages of a segment.
pub trait SharedMemory: Send + Sync {
    /// How many memory areas map it, in any process.
    fn attachments(&self) -> usize;

    /// Itself, for the host that made it.
    fn as_any(&self) -> &dyn Any;
}

struct State {
    perm: IpcPerm,
    /// Last attach, detach, change (realtime seconds).
    atime: i64,
    dtime: i64,
    ctime: i64,
    /// Creator, last attacher or detacher.
    cpid: Pid,
    lpid: Pid,
}

/// A shared memory segment.
pub struct ShmSegment {
    state: Mutex<State>,
    size: usize,
    memory: Arc<dyn SharedMemory>,
}

/// A segment's status (`struct shmid64_ds`).
#[derive(Debug, Clone, Copy)]
pub struct ShmStat {
    /// Owner and permissions (`SHM_DEST`, `SHM_LOCKED` in the mode).
    pub perm: IpcPerm,
    /// Its size in bytes.
    pub size: usize,
    /// Last attach.
    pub atime: i64,
    /// Last detach.
    pub dtime: i64,
    /// Last change.
    pub ctime: i64,
    /// Creator.
    pub cpid: Pid,
    /// Last attacher or detacher.
    pub lpid: Pid,
    /// Attachments.
    pub nattch: usize,
}

impl IpcObject for ShmSegment {
    fn perm(&self) -> IpcPerm {
        self.state.lock().perm
    }
}

impl ShmSegment {
    /// A segment of `size` bytes made by process `pid`, its pages `memory`.
    pub fn new(perm: IpcPerm, size: usize, pid: Pid, memory: Arc<dyn SharedMemory>) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                perm,
                atime: 0,
                dtime: 0,
                ctime: now_seconds(),
                cpid: pid,
                lpid: 0,
            }),
            size,
            memory,
        })
    }

    /// Its size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Its pages.
    pub fn memory(&self) -> &Arc<dyn SharedMemory> {
        &self.memory
    }

    /// Whether `IPC_RMID` removed it and nothing maps it any more: it is gone.
    pub fn is_dead(&self) -> bool {
        self.state.lock().perm.mode & SHM_DEST != 0 && self.memory.attachments() == 0
    }

    /// Its status.
    pub fn stat(&self) -> ShmStat {
        let state = self.state.lock();
        ShmStat {
            perm: state.perm,
            size: self.size,
            atime: state.atime,
            dtime: state.dtime,
            ctime: state.ctime,
            cpid: state.cpid,
            lpid: state.lpid,
            nattch: self.memory.attachments(),
        }
    }

    /// Process `pid` attached it (`shm_open`'s bookkeeping).
    pub fn attached(&self, pid: Pid) {
        let mut state = self.state.lock();
        state.atime = now_seconds();
        state.lpid = pid;
    }

    /// Process `pid` detached it (`shm_close`'s bookkeeping, for `shmdt`).
    pub fn detached(&self, pid: Pid) {
        let mut state = self.state.lock();
        state.dtime = now_seconds();
        state.lpid = pid;
    }

    /// `IPC_SET`: owner and mode bits change, and the change time.
    pub fn set_perm(&self, uid: u32, gid: u32, mode: u32) {
        let mut state = self.state.lock();
        state.perm.update(uid, gid, mode);
        state.ctime = now_seconds();
    }

    /// `SHM_LOCK` (`true`) or `SHM_UNLOCK`: the `SHM_LOCKED` mode bit.
    pub fn set_locked(&self, locked: bool) {
        let mut state = self.state.lock();
        if locked {
            state.perm.mode |= SHM_LOCKED;
        } else {
            state.perm.mode &= !SHM_LOCKED;
        }
    }

    /// `IPC_RMID` of an attached segment: `SHM_DEST`, and its key becomes `IPC_PRIVATE`.
    pub(crate) fn mark_destroyed(&self) {
        let mut state = self.state.lock();
        state.perm.mode |= SHM_DEST;
        state.perm.key = super::IPC_PRIVATE;
        state.ctime = now_seconds();
    }
}
