//! A container's IPC namespace: its System V semaphore sets ([`sem`]), message queues
//! ([`msg`]) and shared memory segments ([`shm`]), as Linux's `ipc/util.c` keeps them per
//! `ipc_namespace`, and its POSIX message queues ([`mqueue`]).
//!
//! Every kind has a table of its own ([`IdTable`]): a key names at most one object, an
//! object's id is `seq * 32768 + index` with the index allocated cyclically and the sequence
//! number bumped when the index wraps (Linux's `ipc_idr_alloc`), so a removed object's id is
//! not reused at once. Another container's objects, and the host's, are never reachable: the
//! namespace belongs to the [`Container`](crate::container::Container).

pub mod mqueue;
pub mod msg;
pub mod sem;
pub mod shm;

use crate::container::Pid;
use crate::credentials::Credentials;
use crate::error::{LxError, LxResult};
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use kernel_hal_lkm::sync::{Mutex, MutexGuard};

/// `IPC_PRIVATE`: the key that always makes a new object.
pub const IPC_PRIVATE: i32 = 0;
/// `IPC_CREAT`: make the object if the key names none.
pub const IPC_CREAT: u32 = 0o1000;
/// `IPC_EXCL`: with `IPC_CREAT`, `EEXIST` if the key names one.
pub const IPC_EXCL: u32 = 0o2000;
/// `IPC_NOWAIT`: `EAGAIN` (`ENOMSG` for `msgrcv`) instead of waiting.
pub const IPC_NOWAIT: u32 = 0o4000;

/// Linux's `IPCMNI`: the indexes of one kind, and the multiplier of an id's sequence number.
pub const IPCMNI: usize = 32768;
/// The highest sequence number (`ipcid_seq_max`: `INT_MAX / IPCMNI`).
const SEQ_MAX: u32 = (i32::MAX as u32) / (IPCMNI as u32);

/// An object's ownership and permissions (`struct kern_ipc_perm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpcPerm {
    /// The key it was made with (`IPC_PRIVATE` for none).
    pub key: i32,
    /// The owner's user id.
    pub uid: u32,
    /// The owner's group id.
    pub gid: u32,
    /// The creator's user id.
    pub cuid: u32,
    /// The creator's group id.
    pub cgid: u32,
    /// The permission bits (`0o777`), with a kind's own flags above them.
    pub mode: u32,
    /// The sequence number of its id.
    pub seq: u16,
}

impl IpcPerm {
    /// The permissions of an object `creds` makes with `key` and `flags` (whose low nine bits
    /// are the mode), owned by their effective ids as Linux's `ipc_addid` has it.
    fn new(key: i32, flags: u32, creds: &Credentials) -> Self {
        Self {
            key,
            uid: creds.euid,
            gid: creds.egid,
            cuid: creds.euid,
            cgid: creds.egid,
            mode: flags & 0o777,
            seq: 0,
        }
    }

    /// Linux's `ipcperms`: `EACCES` unless the class the caller is in (owner or creator, group
    /// or creating group, other) grants every bit `flag` asks for (`0o400` read, `0o200`
    /// write, in any class position), or the caller has `CAP_IPC_OWNER` (effective uid 0).
    pub fn check(&self, creds: &Credentials, flag: u32) -> LxResult {
        let requested = (flag >> 6) | (flag >> 3) | flag;
        let granted = if creds.euid == self.cuid || creds.euid == self.uid {
            self.mode >> 6
        } else if creds.in_group(self.cgid) || creds.in_group(self.gid) {
            self.mode >> 3
        } else {
            self.mode
        };
        if requested & !granted & 0o7 != 0 && creds.euid != 0 {
            return Err(LxError::EACCES);
        }
        Ok(())
    }

    /// Linux's `ipcctl_obtain_check` for `IPC_SET` and `IPC_RMID`: `EPERM` unless the caller
    /// is the owner or creator or has `CAP_SYS_ADMIN` (effective uid 0).
    pub fn check_owner(&self, creds: &Credentials) -> LxResult {
        if creds.euid == self.cuid || creds.euid == self.uid || creds.euid == 0 {
            Ok(())
        } else {
            Err(LxError::EPERM)
        }
    }

    /// `IPC_SET`'s change (`ipc_update_perm`): the owner and the permission bits.
    pub fn update(&mut self, uid: u32, gid: u32, mode: u32) {
        self.uid = uid;
        self.gid = gid;
        self.mode = (self.mode & !0o777) | (mode & 0o777);
    }
}

/// An object an [`IdTable`] holds.
pub trait IpcObject {
    /// Its permissions now.
    fn perm(&self) -> IpcPerm;
}

/// The objects of one kind in one namespace, by index and by key (Linux's `ipc_ids`).
pub struct IdTable<T> {
    slots: BTreeMap<usize, Arc<T>>,
    keys: BTreeMap<i32, usize>,
    /// The index after the last one allocated: where the cyclic search starts.
    next: usize,
    /// The last index allocated (`ids->last_idx`), to see the allocation wrap.
    last: Option<usize>,
    seq: u32,
    /// How many objects it may hold (`SEMMNI`, `MSGMNI`…).
    limit: usize,
}

/// What [`IdTable::get`] found or made.
pub enum Got {
    /// An existing object, checked: its id.
    Existing(i32),
    /// A new object to make: its id and permissions, for [`IdTable::insert`].
    New(i32, IpcPerm),
}

impl<T: IpcObject> IdTable<T> {
    /// An empty table of at most `limit` objects.
    pub const fn new(limit: usize) -> Self {
        Self {
            slots: BTreeMap::new(),
            keys: BTreeMap::new(),
            next: 0,
            last: None,
            seq: 0,
            limit,
        }
    }

    /// How many objects there are (`ids->in_use`).
    pub fn in_use(&self) -> usize {
        self.slots.len()
    }

    /// The highest index in use, or -1 (`ipc_get_maxidx`).
    pub fn max_index(&self) -> i32 {
        self.slots
            .keys()
            .next_back()
            .map_or(-1, |&index| index as i32)
    }

    /// Every object, by index.
    pub fn objects(&self) -> impl Iterator<Item = &Arc<T>> {
        self.slots.values()
    }

    /// Linux's `ipcget`: for `IPC_PRIVATE`, or a key naming nothing with `IPC_CREAT`, a new
    /// object's id and permissions (the caller makes it and [`insert`](Self::insert)s it; `ENOSPC`
    /// if the table is full); for a key naming an object, `EEXIST` with `IPC_CREAT | IPC_EXCL`,
    /// else `more_checks`' error, else `EACCES` unless `flags`' mode bits are granted; `ENOENT`
    /// for a key naming nothing without `IPC_CREAT`.
    pub fn get(
        &mut self,
        key: i32,
        flags: u32,
        creds: &Credentials,
        more_checks: impl FnOnce(&T) -> LxResult,
    ) -> LxResult<Got> {
        if key != IPC_PRIVATE {
            let found = self
                .keys
                .get(&key)
                .and_then(|&index| Some((index, self.slots.get(&index)?)));
            if let Some((index, object)) = found {
                if flags & IPC_CREAT != 0 && flags & IPC_EXCL != 0 {
                    return Err(LxError::EEXIST);
                }
                more_checks(object)?;
                let perm = object.perm();
                perm.check(creds, flags)?;
                return Ok(Got::Existing(id_of(perm.seq, index)));
            }
            if flags & IPC_CREAT == 0 {
                return Err(LxError::ENOENT);
            }
        }
        let (index, seq) = self.allocate()?;
        let mut perm = IpcPerm::new(key, flags, creds);
        perm.seq = seq;
        Ok(Got::New(id_of(seq, index), perm))
    }

    /// The next free index, cyclically, and the sequence number an object there gets (what
    /// `ipc_idr_alloc` computes; nothing is taken until [`insert`](Self::insert)).
    fn allocate(&self) -> LxResult<(usize, u16)> {
        let max = self.limit.min(IPCMNI);
        if self.slots.len() >= max {
            return Err(LxError::ENOSPC);
        }
        let free =
            |from: usize, to: usize| (from..to).find(|index| !self.slots.contains_key(index));
        let index = free(self.next.min(max), max)
            .or_else(|| free(0, max))
            .ok_or(LxError::ENOSPC)?;
        let mut seq = self.seq;
        if self.last.is_some_and(|last| index <= last) {
            seq = if seq + 1 > SEQ_MAX { 0 } else { seq + 1 };
        }
        Ok((index, seq as u16))
    }

    /// Takes the slot [`get`](Self::get) answered `Got::New(id, perm)` for, for `object`.
    pub fn insert(&mut self, id: i32, perm: &IpcPerm, object: Arc<T>) -> LxResult {
        let index = index_of(id);
        self.slots.insert(index, object);
        if perm.key != IPC_PRIVATE {
            self.keys.insert(perm.key, index);
        }
        self.next = index + 1;
        self.last = Some(index);
        self.seq = u32::from(perm.seq);
        Ok(())
    }

    /// The object of id `id` (`ipc_obtain_object_check`): `EINVAL` for a negative id, a free
    /// index or another sequence number.
    pub fn by_id(&self, id: i32) -> LxResult<Arc<T>> {
        if id < 0 {
            return Err(LxError::EINVAL);
        }
        let object = self.slots.get(&index_of(id)).ok_or(LxError::EINVAL)?;
        if id_seq(id) != object.perm().seq {
            return Err(LxError::EINVAL);
        }
        Ok(object.clone())
    }

    /// The object at index `index` whatever its sequence number (`*_STAT` take indexes).
    pub fn by_index(&self, index: i32) -> LxResult<(i32, Arc<T>)> {
        let index = usize::try_from(index).map_err(|_| LxError::EINVAL)?;
        let object = self.slots.get(&index).ok_or(LxError::EINVAL)?;
        Ok((id_of(object.perm().seq, index), object.clone()))
    }

    /// Forgets the key of the object of id `id`: the key names nothing any more, while the
    /// object stays (a segment removed while attached).
    pub fn forget_key(&mut self, id: i32) {
        let index = index_of(id);
        self.keys.retain(|_, kept| *kept != index);
    }

    /// Removes the objects `dead` says are gone (and their keys).
    pub fn remove_dead(&mut self, dead: impl Fn(&T) -> bool) {
        let gone: Vec<usize> = self
            .slots
            .iter()
            .filter(|(_, object)| dead(object))
            .map(|(&index, _)| index)
            .collect();
        for index in gone {
            self.slots.remove(&index);
            self.keys.retain(|_, kept| *kept != index);
        }
    }

    /// Removes the object of id `id` and its key, if it is still there.
    pub fn remove(&mut self, id: i32) {
        let index = index_of(id);
        if let Some(object) = self.slots.remove(&index) {
            let key = object.perm().key;
            if key != IPC_PRIVATE && self.keys.get(&key) == Some(&index) {
                self.keys.remove(&key);
            }
        }
    }
}

/// The id of index `index` with sequence number `seq`.
fn id_of(seq: u16, index: usize) -> i32 {
    (i32::from(seq) * IPCMNI as i32) + index as i32
}

/// The index part of an id.
fn index_of(id: i32) -> usize {
    (id as u32 as usize) % IPCMNI
}

/// The sequence number part of an id.
fn id_seq(id: i32) -> u16 {
    ((id as u32 as usize) / IPCMNI) as u16
}

/// A container's IPC namespace.
pub struct IpcNamespace {
    /// Its semaphore sets.
    pub sems: Mutex<IdTable<sem::SemSet>>,
    /// Its message queues.
    pub msgs: Mutex<IdTable<msg::MsgQueue>>,
    /// Its shared memory segments.
    shms: Mutex<IdTable<shm::ShmSegment>>,
    /// Its POSIX message queues.
    pub mqueues: mqueue::MqNamespace,
    /// The semaphore sets each process has `SEM_UNDO` adjustments in, to apply at its exit.
    undos: Mutex<BTreeMap<Pid, Vec<Weak<sem::SemSet>>>>,
}

impl Default for IpcNamespace {
    fn default() -> Self {
        Self::new()
    }
}

impl IpcNamespace {
    /// An empty namespace.
    pub fn new() -> Self {
        Self {
            sems: Mutex::new(IdTable::new(sem::SEMMNI)),
            msgs: Mutex::new(IdTable::new(msg::MSGMNI)),
            shms: Mutex::new(IdTable::new(shm::SHMMNI)),
            mqueues: mqueue::MqNamespace::new(),
            undos: Mutex::new(BTreeMap::new()),
        }
    }

    /// Its shared memory segments, those removed that nothing maps any more forgotten first
    /// (Linux destroys such a segment at its last detach).
    pub fn shms(&self) -> MutexGuard<'_, IdTable<shm::ShmSegment>> {
        let mut shms = self.shms.lock();
        shms.remove_dead(shm::ShmSegment::is_dead);
        shms
    }

    /// `IPC_RMID` of segment `id` (the caller checked it and the permission): destroyed now if
    /// nothing maps it, else when the last mapping goes, its key private meanwhile.
    pub fn remove_shm(&self, shms: &mut IdTable<shm::ShmSegment>, id: i32) -> LxResult {
        let segment = shms.by_id(id)?;
        if segment.memory().attachments() == 0 {
            shms.remove(id);
        } else {
            shms.forget_key(id);
            segment.mark_destroyed();
        }
        Ok(())
    }

    /// Notes that process `pid` has adjustments in `set`.
    pub(crate) fn note_undo(&self, pid: Pid, set: &Arc<sem::SemSet>) -> LxResult {
        let mut undos = self.undos.lock();
        let sets = undos.entry(pid).or_default();
        if !sets.iter().any(|kept| kept.as_ptr() == Arc::as_ptr(set)) {
            sets.try_reserve(1).map_err(|_| LxError::ENOMEM)?;
            sets.push(Arc::downgrade(set));
        }
        Ok(())
    }

    /// Process `pid` exits: its `SEM_UNDO` adjustments are applied (Linux's `exit_sem`), and
    /// its message queue notification registrations end.
    pub fn process_exited(&self, pid: Pid) {
        self.mqueues.process_exited(pid);
        let sets = self.undos.lock().remove(&pid).unwrap_or_default();
        for set in sets.iter().filter_map(Weak::upgrade) {
            set.apply_undo(pid);
        }
    }
}

/// The realtime clock's seconds, for the objects' timestamps (0 if there is no clock).
pub(crate) fn now_seconds() -> i64 {
    kernel_hal_lkm::platform()
        .map(|platform| platform.realtime_now().as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Thing(IpcPerm);
    impl IpcObject for Thing {
        fn perm(&self) -> IpcPerm {
            self.0
        }
    }

    fn make(
        table: &mut IdTable<Thing>,
        key: i32,
        flags: u32,
        creds: &Credentials,
    ) -> LxResult<i32> {
        match table.get(key, flags, creds, |_| Ok(()))? {
            Got::Existing(id) => Ok(id),
            Got::New(id, perm) => {
                table.insert(id, &perm, Arc::new(Thing(perm)))?;
                Ok(id)
            }
        }
    }

    #[test]
    fn ids_are_cyclic_and_the_sequence_moves_when_the_index_wraps() {
        let root = Credentials::default();
        let mut table = IdTable::new(3);
        assert_eq!(make(&mut table, IPC_PRIVATE, 0o600, &root), Ok(0));
        assert_eq!(make(&mut table, IPC_PRIVATE, 0o600, &root), Ok(1));
        table.remove(0);
        assert_eq!(make(&mut table, IPC_PRIVATE, 0o600, &root), Ok(2));
        // Index 0 again: below the last one, so the next sequence number.
        assert_eq!(make(&mut table, IPC_PRIVATE, 0o600, &root), Ok(32768));
        assert_eq!(
            make(&mut table, IPC_PRIVATE, 0o600, &root),
            Err(LxError::ENOSPC)
        );
        assert!(table.by_id(0).is_err());
        assert!(table.by_id(32768).is_ok());
        assert_eq!(table.max_index(), 2);
    }

    #[test]
    fn keys_name_one_object_with_linux_errors() {
        let owner = Credentials::user(1000, 1000);
        let other = Credentials::user(1001, 1001);
        let mut table = IdTable::new(10);
        assert_eq!(make(&mut table, 7, 0, &owner), Err(LxError::ENOENT));
        let id = make(&mut table, 7, IPC_CREAT | 0o600, &owner).unwrap();
        assert_eq!(make(&mut table, 7, 0o600, &owner), Ok(id));
        assert_eq!(
            make(&mut table, 7, IPC_CREAT | IPC_EXCL, &owner),
            Err(LxError::EEXIST)
        );
        assert_eq!(make(&mut table, 7, 0o400, &other), Err(LxError::EACCES));
        assert_eq!(
            make(&mut table, 7, 0, &other),
            Ok(id),
            "asking nothing is granted"
        );
        assert_eq!(make(&mut table, 7, 0o400, &Credentials::default()), Ok(id));
        table.remove(id);
        assert_eq!(make(&mut table, 7, 0, &owner), Err(LxError::ENOENT));
    }

    #[test]
    fn only_owners_creators_and_root_may_change_an_object() {
        let perm = IpcPerm::new(1, 0o644, &Credentials::user(5, 5));
        assert_eq!(perm.check_owner(&Credentials::user(5, 9)), Ok(()));
        assert_eq!(
            perm.check_owner(&Credentials::user(6, 5)),
            Err(LxError::EPERM)
        );
        assert_eq!(perm.check_owner(&Credentials::default()), Ok(()));
        assert_eq!(perm.check(&Credentials::user(6, 5), 0o040), Ok(()));
        assert_eq!(
            perm.check(&Credentials::user(6, 5), 0o020),
            Err(LxError::EACCES)
        );
    }
}
