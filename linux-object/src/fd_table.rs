//! [`FdTable`]: a process's file descriptors, each naming an open file description and
//! carrying its own close-on-exec flag.
//!
//! Semantics follow Linux: a new descriptor is the lowest free one; at the limit
//! (`RLIMIT_NOFILE`) allocation fails with `EMFILE`; a negative, unused or out-of-range
//! descriptor is `EBADF`; `dup`, `dup2` and `dup3` share the description and clear
//! close-on-exec on the copy (`dup3(O_CLOEXEC)` sets it).
//!
//! ```
//! use linux_object::fd_table::FdTable;
//! use linux_object::fs::{OpenFlags, Pipe};
//! use linux_object::LxError;
//!
//! let mut files = FdTable::new();
//! let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
//! assert_eq!(files.add(reader, false)?, 0);
//! assert_eq!(files.add(writer, true)?, 1);
//! assert_eq!(files.dup2(1, 9)?, 9);
//! assert!(!files.cloexec(9)?); // the copy is not close-on-exec
//! files.close(0)?;
//! assert_eq!(files.dup(9)?, 0); // lowest free
//! files.close_on_exec();
//! assert_eq!(files.get(1).err(), Some(LxError::EBADF));
//! # Ok::<(), LxError>(())
//! ```

use crate::error::{LxError, LxResult};
use crate::fs::{FileLike, OpenFlags};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

/// Linux's default soft `RLIMIT_NOFILE`.
pub const DEFAULT_FD_LIMIT: usize = 1024;

/// Linux's default hard `RLIMIT_NOFILE` for the first process (`INR_OPEN_MAX`); a host
/// process joining a container may bring a higher one (see [`FdTable::set_limits`]).
pub const DEFAULT_FD_HARD_LIMIT: usize = 4096;

/// The descriptors a fresh Linux table has room for (`NR_OPEN_DEFAULT`, one word of bits).
const INITIAL_MAX_FDS: usize = 64;

/// Linux's `fs.nr_open` default: no descriptor limit may exceed this.
pub const MAX_FD_LIMIT: usize = 1 << 20;

/// A descriptor's slot in the table.
#[derive(Clone)]
struct Entry {
    file: Arc<dyn FileLike>,
    cloexec: bool,
}

/// The next [`FdTable::lock_owner`]: small numbers, never a kernel address (the host's own
/// owners, `files_struct`s and `struct file`s, and rVisor's descriptions are), never reused.
static NEXT_LOCK_OWNER: AtomicUsize = AtomicUsize::new(1);

fn new_lock_owner() -> usize {
    NEXT_LOCK_OWNER.fetch_add(1, Ordering::Relaxed)
}

/// Releases the record locks `owner` holds on `file`'s inode: Linux's `locks_remove_posix`
/// at every close of a descriptor.
fn release_locks(owner: usize, file: &Arc<dyn FileLike>) {
    if let Some(inode) = file.inode() {
        inode.release_record_locks(owner);
    }
}

/// A process's descriptors. `Clone` is what `fork` does: the copy names the same
/// descriptions, with the same close-on-exec flags (and is a new owner of record locks: a
/// child holds none of its parent's).
pub struct FdTable {
    /// The owner of the classic (process-owned) record locks taken through this table,
    /// Linux's `current->files`: closing any descriptor of a file releases its locks on
    /// that file, and so does dropping the table (exit).
    lock_owner: usize,
    /// Slot `fd` holds descriptor `fd`, as Linux's `fdtable` does: every call that names a
    /// descriptor finds it at once. As long as the highest descriptor ever installed needs.
    slots: Vec<Option<Entry>>,
    /// How many slots hold a descriptor.
    open: usize,
    /// The soft `RLIMIT_NOFILE`: descriptors are below it.
    limit: usize,
    /// The hard `RLIMIT_NOFILE`.
    hard_limit: usize,
    /// How many descriptors Linux's table would have room for now (`max_fds`): it starts at
    /// 64 and grows to the next power of two above the highest descriptor ever installed,
    /// never shrinking. `select` clamps its `nfds` to it.
    max_fds: usize,
}

impl Clone for FdTable {
    fn clone(&self) -> Self {
        Self {
            lock_owner: new_lock_owner(),
            slots: self.slots.clone(),
            open: self.open,
            limit: self.limit,
            hard_limit: self.hard_limit,
            max_fds: self.max_fds,
        }
    }
}

impl Drop for FdTable {
    /// The process exits (or its table is replaced): every descriptor closes.
    fn drop(&mut self) {
        for entry in self.slots.iter().flatten() {
            release_locks(self.lock_owner, &entry.file);
        }
    }
}

impl Default for FdTable {
    fn default() -> Self {
        Self::new()
    }
}

impl FdTable {
    /// An empty table with the default limit.
    pub fn new() -> Self {
        Self {
            lock_owner: new_lock_owner(),
            slots: Vec::new(),
            open: 0,
            limit: DEFAULT_FD_LIMIT,
            hard_limit: DEFAULT_FD_HARD_LIMIT,
            max_fds: INITIAL_MAX_FDS,
        }
    }

    /// The limit: descriptors are below it (the soft `RLIMIT_NOFILE`).
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The hard `RLIMIT_NOFILE`, the ceiling of [`limit`](Self::limit).
    pub fn hard_limit(&self) -> usize {
        self.hard_limit
    }

    /// Sets the soft limit (`setrlimit(RLIMIT_NOFILE)`), raising the hard one with it if
    /// needed; `EPERM` above [`MAX_FD_LIMIT`], as Linux refuses raising past `nr_open`. Open
    /// descriptors above a lowered limit stay open.
    pub fn set_limit(&mut self, limit: usize) -> LxResult {
        self.set_limits(limit, limit.max(self.hard_limit))
    }

    /// Sets both limits: `EINVAL` if `soft > hard`, `EPERM` if `hard` is above
    /// [`MAX_FD_LIMIT`]. Whether the caller may raise the hard limit is its business.
    pub fn set_limits(&mut self, soft: usize, hard: usize) -> LxResult {
        if soft > hard {
            return Err(LxError::EINVAL);
        }
        if hard > MAX_FD_LIMIT {
            return Err(LxError::EPERM);
        }
        self.limit = soft;
        self.hard_limit = hard;
        Ok(())
    }

    /// How many descriptors Linux's table would have room for (its `max_fds`).
    pub fn max_fds(&self) -> usize {
        self.max_fds
    }

    /// Installs `entry` at `fd`, replacing what was there (dropped after), growing
    /// [`max_fds`](Self::max_fds) as Linux grows its table (to the next power of two that
    /// holds `fd`); `ENOMEM` if the table cannot grow to hold `fd`.
    fn install(&mut self, fd: usize, entry: Entry) -> LxResult {
        let needed = fd.checked_add(1).ok_or(LxError::ENOMEM)?;
        if let Some(grow) = needed.checked_sub(self.slots.len()).filter(|&n| n > 0) {
            self.slots.try_reserve(grow).map_err(|_| LxError::ENOMEM)?;
            self.slots.resize_with(needed, || None);
        }
        // There now: the table holds `needed` slots at least.
        let slot = self.slots.get_mut(fd).ok_or(LxError::ENOMEM)?;
        match slot.replace(entry) {
            None => self.open += 1,
            Some(replaced) => release_locks(self.lock_owner, &replaced.file),
        }
        if fd >= self.max_fds {
            self.max_fds = fd
                .saturating_add(1)
                .checked_next_power_of_two()
                .unwrap_or(MAX_FD_LIMIT)
                .min(MAX_FD_LIMIT);
        }
        Ok(())
    }

    /// How many descriptors are open.
    pub fn len(&self) -> usize {
        self.open
    }

    /// Whether no descriptor is open.
    pub fn is_empty(&self) -> bool {
        self.open == 0
    }

    /// Installs `file` at the lowest free descriptor; `EMFILE` if none is below the limit.
    pub fn add(&mut self, file: Arc<dyn FileLike>, cloexec: bool) -> LxResult<i32> {
        self.add_from(file, 0, cloexec)
    }

    /// Installs `file` at the lowest free descriptor `>= min` (`fcntl(F_DUPFD)`): `EINVAL` if
    /// `min` is not below the limit, `EMFILE` if no descriptor is free up to it.
    pub fn add_from(
        &mut self,
        file: Arc<dyn FileLike>,
        min: usize,
        cloexec: bool,
    ) -> LxResult<i32> {
        if min >= self.limit {
            return Err(LxError::EINVAL);
        }
        let fd = self.lowest_free(min).ok_or(LxError::EMFILE)?;
        let raw = i32::try_from(fd).map_err(|_| LxError::EMFILE)?;
        self.install(fd, Entry { file, cloexec })?;
        Ok(raw)
    }

    /// Whether a new descriptor can be installed now (`open` reserves one before it walks the
    /// path, so a full table is `EMFILE` whatever the path).
    pub fn has_free(&self) -> bool {
        self.lowest_free(0).is_some()
    }

    /// The lowest descriptor `>= min` and below the limit that is not in use.
    fn lowest_free(&self, min: usize) -> Option<usize> {
        let mut candidate = min;
        while self.slots.get(candidate).is_some_and(Option::is_some) {
            candidate = candidate.checked_add(1)?;
        }
        (candidate < self.limit).then_some(candidate)
    }

    /// The slot of `fd`, if `fd` is open.
    fn slot_mut(&mut self, fd: i32) -> Option<&mut Option<Entry>> {
        let index = usize::try_from(fd).ok()?;
        self.slots.get_mut(index).filter(|slot| slot.is_some())
    }

    #[inline]
    fn entry(&self, fd: i32) -> LxResult<&Entry> {
        usize::try_from(fd)
            .ok()
            .and_then(|index| self.slots.get(index))
            .and_then(Option::as_ref)
            .ok_or(LxError::EBADF)
    }

    /// The open descriptors, lowest first.
    pub fn open_fds(&self) -> impl Iterator<Item = i32> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.is_some())
            .filter_map(|(fd, _)| i32::try_from(fd).ok())
    }

    /// The description `fd` names; `EBADF` if none.
    #[inline]
    pub fn get(&self, fd: i32) -> LxResult<Arc<dyn FileLike>> {
        self.entry(fd).map(|entry| entry.file.clone())
    }

    /// Closes `fd` and returns its description (released when the caller drops the last
    /// reference); `EBADF` if it was not open.
    pub fn close(&mut self, fd: i32) -> LxResult<Arc<dyn FileLike>> {
        let entry = self
            .slot_mut(fd)
            .and_then(Option::take)
            .ok_or(LxError::EBADF)?;
        self.open -= 1;
        release_locks(self.lock_owner, &entry.file);
        Ok(entry.file)
    }

    /// `dup`: a new lowest descriptor for `fd`'s description, not close-on-exec.
    pub fn dup(&mut self, fd: i32) -> LxResult<i32> {
        let file = self.get(fd)?;
        self.add(file, false)
    }

    /// `fcntl(F_DUPFD / F_DUPFD_CLOEXEC)`: as [`dup`](Self::dup) but at or above `min`.
    pub fn dup_from(&mut self, fd: i32, min: i32, cloexec: bool) -> LxResult<i32> {
        let file = self.get(fd)?;
        let min = usize::try_from(min).map_err(|_| LxError::EINVAL)?;
        self.add_from(file, min, cloexec)
    }

    /// `dup2`: makes `new` name `old`'s description, closing what `new` named first.
    /// `dup2(fd, fd)` returns `fd` if it is open (`EBADF` if not) and changes nothing, not
    /// even close-on-exec.
    pub fn dup2(&mut self, old: i32, new: i32) -> LxResult<i32> {
        if old == new {
            return self.entry(old).map(|_| new);
        }
        self.dup_onto(old, new, false)
    }

    /// `dup3`: as [`dup2`](Self::dup2), but `old == new` is `EINVAL`, and `flags` may only be
    /// `O_CLOEXEC` (else `EINVAL`), which sets close-on-exec on `new`.
    pub fn dup3(&mut self, old: i32, new: i32, flags: OpenFlags) -> LxResult<i32> {
        // Linux checks the flags, then old == new, then the descriptors (fs/file.c, ksys_dup3).
        if !(flags - OpenFlags::CLOEXEC).is_empty() {
            return Err(LxError::EINVAL);
        }
        if old == new {
            return Err(LxError::EINVAL);
        }
        self.dup_onto(old, new, flags.contains(OpenFlags::CLOEXEC))
    }

    fn dup_onto(&mut self, old: i32, new: i32, cloexec: bool) -> LxResult<i32> {
        let index = usize::try_from(new).map_err(|_| LxError::EBADF)?;
        if index >= self.limit {
            return Err(LxError::EBADF);
        }
        let file = self.get(old)?;
        // The description `new` named is released when the replaced entry drops.
        self.install(index, Entry { file, cloexec })?;
        Ok(new)
    }

    /// `fcntl(F_GETFD)`: whether `fd` is close-on-exec.
    pub fn cloexec(&self, fd: i32) -> LxResult<bool> {
        self.entry(fd).map(|entry| entry.cloexec)
    }

    /// `fcntl(F_SETFD)`: sets or clears `fd`'s close-on-exec flag.
    pub fn set_cloexec(&mut self, fd: i32, cloexec: bool) -> LxResult {
        let entry = self
            .slot_mut(fd)
            .and_then(Option::as_mut)
            .ok_or(LxError::EBADF)?;
        entry.cloexec = cloexec;
        Ok(())
    }

    /// What `execve` does: closes every close-on-exec descriptor.
    pub fn close_on_exec(&mut self) {
        for slot in &mut self.slots {
            if slot.as_ref().is_some_and(|entry| entry.cloexec) {
                if let Some(entry) = slot.take() {
                    release_locks(self.lock_owner, &entry.file);
                }
                self.open -= 1;
            }
        }
    }

    /// What `close_range(first, last, ..)` does to the open descriptors from `first` to `last`
    /// (both included): closes them, or with `cloexec` marks them close-on-exec. Returns the
    /// descriptions closed, for the caller to release once the table is unlocked.
    pub fn close_range(
        &mut self,
        first: usize,
        last: usize,
        cloexec: bool,
    ) -> Vec<Arc<dyn FileLike>> {
        let mut closed = Vec::new();
        let end = last.saturating_add(1).min(self.slots.len());
        for slot in self.slots.get_mut(first..end).into_iter().flatten() {
            if cloexec {
                if let Some(entry) = slot {
                    entry.cloexec = true;
                }
            } else if let Some(entry) = slot.take() {
                self.open -= 1;
                release_locks(self.lock_owner, &entry.file);
                // A failed reservation only means this description is released here, under
                // the lock, instead of after it.
                if closed.try_reserve(1).is_ok() {
                    closed.push(entry.file);
                }
            }
        }
        closed
    }

    /// The owner of the record locks taken through this table (see `fcntl(F_SETLK)`).
    pub fn lock_owner(&self) -> usize {
        self.lock_owner
    }

    /// The open descriptors in increasing order (for `/proc/self/fd`, `close_range`).
    pub fn fds(&self) -> impl Iterator<Item = i32> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.is_some())
            .filter_map(|(fd, _)| i32::try_from(fd).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::Pipe;
    use proptest::prelude::*;

    fn some_file() -> Arc<dyn FileLike> {
        Pipe::new_pair(OpenFlags::empty()).0
    }

    #[test]
    fn each_table_is_its_own_lock_owner() {
        let table = FdTable::new();
        let forked = table.clone();
        let replaced = FdTable::default();
        assert_ne!(table.lock_owner(), forked.lock_owner());
        assert_ne!(table.lock_owner(), replaced.lock_owner());
        assert_ne!(forked.lock_owner(), replaced.lock_owner());
    }

    fn same(a: &Arc<dyn FileLike>, b: &Arc<dyn FileLike>) -> bool {
        Arc::ptr_eq(a, b)
    }

    #[test]
    fn descriptors_are_the_lowest_free_ones() {
        let mut files = FdTable::new();
        for expected in 0..5 {
            assert_eq!(files.add(some_file(), false), Ok(expected));
        }
        files.close(1).unwrap();
        files.close(3).unwrap();
        assert_eq!(files.add(some_file(), false), Ok(1));
        assert_eq!(files.add(some_file(), false), Ok(3));
        assert_eq!(files.add(some_file(), false), Ok(5));
    }

    #[test]
    fn emfile_at_the_limit_and_einval_for_f_dupfd_past_it() {
        let mut files = FdTable::new();
        files.set_limit(3).unwrap();
        for _ in 0..3 {
            files.add(some_file(), false).unwrap();
        }
        assert_eq!(files.add(some_file(), false), Err(LxError::EMFILE));
        assert_eq!(files.dup(0), Err(LxError::EMFILE));
        assert_eq!(files.dup_from(0, 3, false), Err(LxError::EINVAL));
        assert_eq!(files.dup_from(0, -1, false), Err(LxError::EINVAL));
        assert_eq!(files.set_limit(MAX_FD_LIMIT + 1), Err(LxError::EPERM));
    }

    #[test]
    fn limits_and_the_room_linux_would_have() {
        let mut files = FdTable::new();
        assert_eq!((files.limit(), files.hard_limit()), (1024, 4096));
        assert_eq!(files.set_limits(10, 5), Err(LxError::EINVAL));
        assert_eq!(files.set_limits(5, MAX_FD_LIMIT + 1), Err(LxError::EPERM));
        files.set_limits(2000, 3000).unwrap();
        assert_eq!((files.limit(), files.hard_limit()), (2000, 3000));
        assert_eq!(files.max_fds(), 64);
        files.add(some_file(), false).unwrap();
        files.dup2(0, 63).unwrap();
        assert_eq!(files.max_fds(), 64);
        files.dup2(0, 64).unwrap();
        assert_eq!(files.max_fds(), 128);
        files.dup2(0, 1000).unwrap();
        assert_eq!(files.max_fds(), 1024);
        files.close(1000).unwrap();
        assert_eq!(files.max_fds(), 1024, "a table never shrinks");
        assert_eq!(files.clone().max_fds(), 1024);
    }

    #[test]
    fn len_counts_the_open_descriptors_wherever_they_are() {
        let mut files = FdTable::new();
        assert!(files.is_empty());
        files.add(some_file(), true).unwrap();
        files.dup2(0, 700).unwrap();
        files.dup2(0, 700).unwrap();
        files.add(some_file(), false).unwrap();
        assert_eq!(files.len(), 3);
        assert_eq!(files.fds().collect::<Vec<_>>(), [0, 1, 700]);
        files.close(700).unwrap();
        assert_eq!(files.close(700).err(), Some(LxError::EBADF));
        files.close_on_exec();
        assert_eq!(files.fds().collect::<Vec<_>>(), [1]);
        assert_eq!(files.len(), 1);
        assert_eq!(files.add(some_file(), false), Ok(0));
    }

    #[test]
    fn bad_descriptors_are_ebadf() {
        let mut files = FdTable::new();
        assert_eq!(files.get(0).err(), Some(LxError::EBADF));
        assert_eq!(files.get(-1).err(), Some(LxError::EBADF));
        assert_eq!(files.close(0).err(), Some(LxError::EBADF));
        assert_eq!(files.close(-5).err(), Some(LxError::EBADF));
        assert_eq!(files.dup(7), Err(LxError::EBADF));
        assert_eq!(files.cloexec(2), Err(LxError::EBADF));
        assert_eq!(files.set_cloexec(-1, true), Err(LxError::EBADF));
    }

    #[test]
    fn dup_shares_the_description_and_clears_cloexec() {
        let mut files = FdTable::new();
        let file = some_file();
        files.add(file.clone(), true).unwrap();
        assert_eq!(files.dup(0), Ok(1));
        assert!(same(&files.get(1).unwrap(), &file));
        assert_eq!(files.cloexec(0), Ok(true));
        assert_eq!(files.cloexec(1), Ok(false));
        assert_eq!(files.dup_from(0, 10, true), Ok(10));
        assert_eq!(files.cloexec(10), Ok(true));
    }

    #[test]
    fn dup2_as_linux() {
        let mut files = FdTable::new();
        let a = some_file();
        let b = some_file();
        files.add(a.clone(), true).unwrap();
        files.add(b, true).unwrap();
        // Onto itself: returns the fd, keeps close-on-exec.
        assert_eq!(files.dup2(0, 0), Ok(0));
        assert_eq!(files.cloexec(0), Ok(true));
        // Onto an open fd: replaces it silently, copy not close-on-exec.
        assert_eq!(files.dup2(0, 1), Ok(1));
        assert!(same(&files.get(1).unwrap(), &a));
        assert_eq!(files.cloexec(1), Ok(false));
        // Bad old fd (also when old == new), bad new fd.
        assert_eq!(files.dup2(5, 5), Err(LxError::EBADF));
        assert_eq!(files.dup2(5, 6), Err(LxError::EBADF));
        assert_eq!(files.dup2(-1, 0), Err(LxError::EBADF));
        assert_eq!(files.dup2(0, -1), Err(LxError::EBADF));
        assert_eq!(files.dup2(0, DEFAULT_FD_LIMIT as i32), Err(LxError::EBADF));
        // Far above the lowest free: fine below the limit.
        assert_eq!(files.dup2(0, 1000), Ok(1000));
    }

    #[test]
    fn dup3_as_linux() {
        let mut files = FdTable::new();
        files.add(some_file(), false).unwrap();
        assert_eq!(files.dup3(0, 0, OpenFlags::empty()), Err(LxError::EINVAL));
        assert_eq!(files.dup3(0, 4, OpenFlags::NONBLOCK), Err(LxError::EINVAL));
        // The flags are checked before the descriptors.
        assert_eq!(files.dup3(9, 4, OpenFlags::APPEND), Err(LxError::EINVAL));
        assert_eq!(files.dup3(9, 9, OpenFlags::empty()), Err(LxError::EINVAL));
        assert_eq!(files.dup3(9, 4, OpenFlags::empty()), Err(LxError::EBADF));
        assert_eq!(files.dup3(0, 4, OpenFlags::CLOEXEC), Ok(4));
        assert_eq!(files.cloexec(4), Ok(true));
    }

    #[test]
    fn closing_the_last_descriptor_releases_the_description() {
        let mut files = FdTable::new();
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        let writer_fd = files.add(writer, false).unwrap();
        files.dup2(writer_fd, 7).unwrap();
        files.close(writer_fd).unwrap();
        assert_eq!(
            reader.read(&mut [0; 1]),
            Err(LxError::EAGAIN),
            "fd 7 still writes"
        );
        files.close(7).unwrap();
        assert_eq!(reader.read(&mut [0; 1]), Ok(0), "end of file");
    }

    #[test]
    fn fork_copies_and_exec_closes_cloexec() {
        let mut parent = FdTable::new();
        parent.add(some_file(), false).unwrap();
        parent.add(some_file(), true).unwrap();
        let mut child = parent.clone();
        child.close_on_exec();
        assert_eq!(child.fds().collect::<Vec<_>>(), [0]);
        assert_eq!(parent.fds().collect::<Vec<_>>(), [0, 1]);
        assert!(same(&parent.get(0).unwrap(), &child.get(0).unwrap()));
    }

    /// Operations of the property test, on small descriptor numbers so they collide.
    #[derive(Debug, Clone)]
    enum Op {
        Open,
        Close(i32),
        Dup(i32),
        Dup2(i32, i32),
        Dup3(i32, i32, bool),
        SetCloexec(i32, bool),
        Exec,
    }

    fn op() -> impl Strategy<Value = Op> {
        let fd = -1..10i32;
        prop_oneof![
            Just(Op::Open),
            fd.clone().prop_map(Op::Close),
            fd.clone().prop_map(Op::Dup),
            (fd.clone(), fd.clone()).prop_map(|(a, b)| Op::Dup2(a, b)),
            (fd.clone(), fd.clone(), any::<bool>()).prop_map(|(a, b, c)| Op::Dup3(a, b, c)),
            (fd, any::<bool>()).prop_map(|(a, c)| Op::SetCloexec(a, c)),
            Just(Op::Exec),
        ]
    }

    /// A model of the table: a plain array of (description id, cloexec) slots.
    struct Model {
        slots: Vec<Option<(usize, bool)>>,
        next_id: usize,
    }

    impl Model {
        fn slot(&self, fd: i32) -> Option<(usize, bool)> {
            usize::try_from(fd)
                .ok()
                .and_then(|i| self.slots.get(i).copied().flatten())
        }
        fn lowest(&self) -> Option<usize> {
            self.slots.iter().position(Option::is_none)
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn table_matches_a_model(ops in proptest::collection::vec(op(), 1..60)) {
            const LIMIT: usize = 8;
            let mut table = FdTable::new();
            table.set_limit(LIMIT).unwrap();
            let mut model = Model { slots: vec![None; LIMIT], next_id: 0 };
            let mut files: Vec<Arc<dyn FileLike>> = Vec::new();
            for op in ops {
                match op {
                    Op::Open => {
                        let file = some_file();
                        let got = table.add(file.clone(), false);
                        match model.lowest() {
                            Some(fd) => {
                                prop_assert_eq!(got, Ok(fd as i32));
                                model.slots[fd] = Some((model.next_id, false));
                                model.next_id += 1;
                                files.push(file);
                            }
                            None => prop_assert_eq!(got, Err(LxError::EMFILE)),
                        }
                    }
                    Op::Close(fd) => {
                        let expected = model.slot(fd);
                        prop_assert_eq!(table.close(fd).is_ok(), expected.is_some());
                        if expected.is_some() { model.slots[fd as usize] = None; }
                    }
                    Op::Dup(fd) => {
                        let got = table.dup(fd);
                        match (model.slot(fd), model.lowest()) {
                            (None, _) => prop_assert_eq!(got, Err(LxError::EBADF)),
                            (Some(_), None) => prop_assert_eq!(got, Err(LxError::EMFILE)),
                            (Some((id, _)), Some(new)) => {
                                prop_assert_eq!(got, Ok(new as i32));
                                model.slots[new] = Some((id, false));
                            }
                        }
                    }
                    Op::Dup2(old, new) | Op::Dup3(old, new, _) => {
                        let dup3 = matches!(op, Op::Dup3(..));
                        let cloexec = matches!(op, Op::Dup3(_, _, true));
                        let got = if dup3 {
                            let flags = if cloexec { OpenFlags::CLOEXEC } else { OpenFlags::empty() };
                            table.dup3(old, new, flags)
                        } else {
                            table.dup2(old, new)
                        };
                        let new_in_range = usize::try_from(new).is_ok_and(|n| n < LIMIT);
                        let expected = match model.slot(old) {
                            _ if dup3 && old == new => Err(LxError::EINVAL),
                            Some(_) if old == new => Ok(new),
                            _ if !new_in_range => Err(LxError::EBADF),
                            None => Err(LxError::EBADF),
                            Some((id, _)) => {
                                model.slots[new as usize] = Some((id, cloexec));
                                Ok(new)
                            }
                        };
                        prop_assert_eq!(got, expected);
                    }
                    Op::SetCloexec(fd, flag) => {
                        let got = table.set_cloexec(fd, flag);
                        match model.slot(fd) {
                            Some((id, _)) => {
                                prop_assert_eq!(got, Ok(()));
                                model.slots[fd as usize] = Some((id, flag));
                            }
                            None => prop_assert_eq!(got, Err(LxError::EBADF)),
                        }
                    }
                    Op::Exec => {
                        table.close_on_exec();
                        for slot in &mut model.slots {
                            if matches!(slot, Some((_, true))) { *slot = None; }
                        }
                    }
                }
                // Every slot names the description the model says, with its flag.
                for (fd, slot) in model.slots.iter().enumerate() {
                    match slot {
                        None => prop_assert!(table.get(fd as i32).is_err()),
                        Some((id, cloexec)) => {
                            prop_assert!(same(&table.get(fd as i32).unwrap(), &files[*id]));
                            prop_assert_eq!(table.cloexec(fd as i32), Ok(*cloexec));
                        }
                    }
                }
            }
        }
    }
}
