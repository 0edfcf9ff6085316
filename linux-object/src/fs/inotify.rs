//! [`Inotify`]: an inotify instance (`inotify_init1`), Linux's `fs/notify/inotify/`.
//!
//! An instance has watches, numbered by watch descriptors (`wd`, from 1, allocated cyclically
//! as Linux's `idr_alloc_cyclic`), and a queue of events that `read` takes as `struct
//! inotify_event` records. A watch of a container file is the host's: an [`InotifyMarks`]
//! backend puts a mark on the host inode behind it, and the host's VFS reports what happens
//! there (rVisor's own calls go through it, and so do host processes changing a volume) to the
//! instance's [`InotifyQueue`]. An object of rVisor's own filesystems (procfs, devfs, pipes) has
//! no host inode: its watch is accepted and kept here, and never fires, as nothing writes such
//! files through the VFS.
//!
//! The queue is Linux's: an event identical to the last one queued (mask, watch, name) and not
//! `IN_IGNORED` is merged into it, and once [`MAX_QUEUED_EVENTS`] are queued, one
//! `IN_Q_OVERFLOW` event (watch -1) takes the place of everything that follows until it is
//! read. A watch ends with an `IN_IGNORED` event: removed, one-shot after its event, its inode
//! deleted.

use super::waiters::Waiters;
use super::{FileLike, OpenFlags, PollEvents};
use crate::error::{LxError, LxResult};
use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::task::{Context, Poll};
use kernel_hal_lkm::sync::Mutex;
use kernel_hostfs::{INode, Metadata};

/// File was accessed.
pub const IN_ACCESS: u32 = 0x1;
/// File was modified.
pub const IN_MODIFY: u32 = 0x2;
/// Metadata changed.
pub const IN_ATTRIB: u32 = 0x4;
/// A file open for writing was closed.
pub const IN_CLOSE_WRITE: u32 = 0x8;
/// A file not open for writing was closed.
pub const IN_CLOSE_NOWRITE: u32 = 0x10;
/// File was opened.
pub const IN_OPEN: u32 = 0x20;
/// File was moved out of a watched directory.
pub const IN_MOVED_FROM: u32 = 0x40;
/// File was moved into a watched directory.
pub const IN_MOVED_TO: u32 = 0x80;
/// File was created in a watched directory.
pub const IN_CREATE: u32 = 0x100;
/// File was deleted from a watched directory.
pub const IN_DELETE: u32 = 0x200;
/// The watched object was deleted.
pub const IN_DELETE_SELF: u32 = 0x400;
/// The watched object was moved.
pub const IN_MOVE_SELF: u32 = 0x800;
/// Every event a watch may ask for.
pub const IN_ALL_EVENTS: u32 = 0xfff;
/// The filesystem of the watched object was unmounted.
pub const IN_UNMOUNT: u32 = 0x2000;
/// The event queue overflowed.
pub const IN_Q_OVERFLOW: u32 = 0x4000;
/// The watch ended.
pub const IN_IGNORED: u32 = 0x8000;
/// Only watch the path if it is a directory.
pub const IN_ONLYDIR: u32 = 0x0100_0000;
/// Do not follow a final symbolic link.
pub const IN_DONT_FOLLOW: u32 = 0x0200_0000;
/// No events for children once they are unlinked.
pub const IN_EXCL_UNLINK: u32 = 0x0400_0000;
/// Only create a watch: `EEXIST` if the object has one.
pub const IN_MASK_CREATE: u32 = 0x1000_0000;
/// Add to the mask of an existing watch instead of replacing it.
pub const IN_MASK_ADD: u32 = 0x2000_0000;
/// The event's subject is a directory.
pub const IN_ISDIR: u32 = 0x4000_0000;
/// Remove the watch after its first event.
pub const IN_ONESHOT: u32 = 0x8000_0000;
/// Every bit `inotify_add_watch` accepts (Linux's `ALL_INOTIFY_BITS`).
pub const ALL_INOTIFY_BITS: u32 = IN_ALL_EVENTS
    | IN_UNMOUNT
    | IN_Q_OVERFLOW
    | IN_IGNORED
    | IN_ONLYDIR
    | IN_DONT_FOLLOW
    | IN_EXCL_UNLINK
    | IN_MASK_CREATE
    | IN_MASK_ADD
    | IN_ISDIR
    | IN_ONESHOT;

/// What a read reports of an event's mask (Linux's `inotify_mask_to_arg`).
const REPORTED_BITS: u32 = IN_ALL_EVENTS | IN_ISDIR | IN_UNMOUNT | IN_IGNORED | IN_Q_OVERFLOW;
/// `sizeof(struct inotify_event)`, without the name.
pub const EVENT_SIZE: usize = 16;
/// Linux's default `/proc/sys/fs/inotify/max_queued_events`.
pub const MAX_QUEUED_EVENTS: usize = 16384;
/// Linux's default `/proc/sys/fs/inotify/max_user_instances`.
pub const MAX_USER_INSTANCES: usize = 128;

/// A mark the host keeps on a host inode for an instance; dropping it drops the reference.
pub trait HostMark: Send + Sync {
    /// Takes the mark off its inode ([`InotifyQueue::watch_gone`] follows, unless the mark
    /// had ended already).
    fn remove(&self);

    /// What [`InotifyQueue::watch_gone`] names the mark by.
    fn id(&self) -> usize;

    /// Its `/proc/PID/fdinfo` line (`inotify wd:… ino:… sdev:… mask:… ignored_mask:0 …`),
    /// without the newline.
    fn fdinfo(&self) -> Vec<u8>;
}

/// What the host did with a watch request.
pub enum HostWatch {
    /// The inode has no host object: rVisor keeps the watch.
    NotHost,
    /// The instance had a mark on the host inode: updated; its watch descriptor.
    Updated(i32),
    /// A new mark, with the watch descriptor given.
    Created(Box<dyn HostMark>),
}

/// The host's side of one instance: its marks on host inodes, which report to the instance's
/// queue. Dropped after every mark was removed.
pub trait InotifyMarks: Send + Sync {
    /// Puts or updates the instance's mark on `inode`'s host object with an
    /// `inotify_add_watch` mask `arg`, as Linux's `inotify_update_watch` (`EEXIST` for an
    /// existing mark with `IN_MASK_CREATE`). A new mark is numbered `wd`; with `create`
    /// false none may be made (`ENOSPC`: the user is at its watch limit).
    fn watch(&self, inode: &dyn INode, arg: u32, wd: i32, create: bool) -> LxResult<HostWatch>;
}

/// The backend of a host without host inodes: every watch is rVisor's own.
pub struct NoHostMarks;

impl InotifyMarks for NoHostMarks {
    fn watch(&self, _: &dyn INode, _: u32, _: i32, _: bool) -> LxResult<HostWatch> {
        Ok(HostWatch::NotHost)
    }
}

/// The instances and watches each user has (Linux's `UCOUNT_INOTIFY_*` counts, per user
/// across containers as Linux counts them per user of the host).
static USERS: Mutex<BTreeMap<u32, UserCounts>> = Mutex::new(BTreeMap::new());

#[derive(Default, Clone, Copy)]
struct UserCounts {
    instances: usize,
    watches: usize,
}

/// Adds one to a count of `uid` if it stays within `limit`.
fn charge(uid: u32, limit: usize, count: fn(&mut UserCounts) -> &mut usize) -> bool {
    let mut users = USERS.lock();
    let entry = users.entry(uid).or_default();
    let counted = count(entry);
    if *counted >= limit {
        return false;
    }
    *counted += 1;
    true
}

/// Takes one from a count of `uid`.
fn uncharge(uid: u32, count: fn(&mut UserCounts) -> &mut usize) {
    let mut users = USERS.lock();
    if let Some(entry) = users.get_mut(&uid) {
        let counted = count(entry);
        *counted = counted.saturating_sub(1);
        if entry.instances == 0 && entry.watches == 0 {
            users.remove(&uid);
        }
    }
}

fn instances(counts: &mut UserCounts) -> &mut usize {
    &mut counts.instances
}

fn watches(counts: &mut UserCounts) -> &mut usize {
    &mut counts.watches
}

/// One queued event.
struct Event {
    wd: i32,
    mask: u32,
    cookie: u32,
    name: Box<[u8]>,
}

impl Event {
    /// The name's room in the record: with its NUL, rounded up to a whole record header.
    fn padded_name_len(&self) -> usize {
        if self.name.is_empty() {
            0
        } else {
            (self.name.len() + 1).div_ceil(EVENT_SIZE) * EVENT_SIZE
        }
    }

    /// Bytes of its `struct inotify_event` record.
    fn size(&self) -> usize {
        EVENT_SIZE + self.padded_name_len()
    }

    /// Writes its record at the start of `out`, which holds [`Event::size`] bytes.
    fn write(&self, out: &mut [u8]) {
        let padded = self.padded_name_len();
        let header = [
            self.wd.to_ne_bytes(),
            (self.mask & REPORTED_BITS).to_ne_bytes(),
            self.cookie.to_ne_bytes(),
            (padded as u32).to_ne_bytes(),
        ];
        for (chunk, field) in out.chunks_exact_mut(4).zip(header.iter()) {
            chunk.copy_from_slice(field);
        }
        if let Some(name) = out.get_mut(EVENT_SIZE..EVENT_SIZE + padded) {
            name.fill(0);
            if let Some(bytes) = name.get_mut(..self.name.len()) {
                bytes.copy_from_slice(&self.name);
            }
        }
    }
}

/// A watch of the instance.
enum Watch {
    /// Being added: the host's mark may report before it is known.
    Pending,
    /// The host's mark on a host inode.
    Host(Box<dyn HostMark>),
    /// rVisor's own, on an object without a host inode (`st_dev`, `st_ino`).
    Own(u64, u64),
}

struct State {
    events: VecDeque<Event>,
    /// Whether the `IN_Q_OVERFLOW` event is queued.
    overflowed: bool,
    readers: Waiters,
    watches: BTreeMap<i32, Watch>,
    /// The last watch descriptor given (the cyclic allocation's cursor).
    last_wd: i32,
}

impl State {
    /// Queues an event as Linux's `fsnotify_insert_event` with `inotify_merge` does.
    fn push(&mut self, event: Event) {
        if self.events.len() >= MAX_QUEUED_EVENTS || self.events.try_reserve(1).is_err() {
            self.overflow();
            return;
        }
        if let Some(last) = self.events.back() {
            if last.mask & IN_IGNORED == 0
                && last.mask == event.mask
                && last.wd == event.wd
                && last.name == event.name
            {
                return;
            }
        }
        self.events.push_back(event);
    }

    /// Queues the overflow event unless it is queued already.
    fn overflow(&mut self) {
        if !self.overflowed && self.events.try_reserve(1).is_ok() {
            self.overflowed = true;
            self.events.push_back(Event {
                wd: -1,
                mask: IN_Q_OVERFLOW,
                cookie: 0,
                name: Box::new([]),
            });
        }
    }

    /// The next free watch descriptor after the cursor (from 1, wrapping at `i32::MAX`).
    fn next_wd(&self) -> LxResult<i32> {
        let mut wd = self.last_wd;
        for _ in 0..=self.watches.len() {
            wd = if wd == i32::MAX { 1 } else { wd + 1 };
            if !self.watches.contains_key(&wd) {
                return Ok(wd);
            }
        }
        Err(LxError::ENOSPC)
    }
}

/// An instance's queue and watches: what the host's marks report to.
pub struct InotifyQueue {
    state: Mutex<State>,
    /// The user whose counts the instance and its watches are charged to.
    uid: u32,
}

impl InotifyQueue {
    /// An event on watch `wd`: fsnotify's `mask`, the rename `cookie`, the `name` of the
    /// directory entry it concerns (empty for the watched object itself). Events of a watch
    /// that ended are dropped.
    pub fn deliver(&self, wd: i32, mask: u32, cookie: u32, name: &[u8]) {
        let mut copy = Vec::new();
        if copy.try_reserve_exact(name.len()).is_err() {
            let mut state = self.state.lock();
            state.overflow();
            let woken = state.readers.take();
            drop(state);
            woken.wake();
            return;
        }
        copy.extend_from_slice(name);
        let event = Event {
            wd,
            mask,
            cookie,
            name: copy.into_boxed_slice(),
        };
        let mut state = self.state.lock();
        if !state.watches.contains_key(&wd) {
            return;
        }
        state.push(event);
        let woken = state.readers.take();
        drop(state);
        woken.wake();
    }

    /// The host's mark `mark` of watch `wd` ended: the watch goes, with an `IN_IGNORED`
    /// event. Nothing if the watch is not that mark's any more.
    pub fn watch_gone(&self, wd: i32, mark: usize) {
        let mut state = self.state.lock();
        let ours = match state.watches.get(&wd) {
            Some(Watch::Pending) => true,
            Some(Watch::Host(host)) => host.id() == mark,
            _ => false,
        };
        if !ours {
            return;
        }
        let gone = state.watches.remove(&wd);
        state.push(ignored(wd));
        let woken = state.readers.take();
        drop(state);
        woken.wake();
        uncharge(self.uid, watches);
        // The host's reference goes outside the lock (it may free the mark).
        drop(gone);
    }

    /// Bytes a read could take now (`FIONREAD`).
    pub fn queued_bytes(&self) -> usize {
        self.state.lock().events.iter().map(Event::size).sum()
    }

    /// Takes as many whole events as `buf` holds, or `None` if there is none (after
    /// registering `cx`, if given). `EINVAL` if the first does not fit.
    fn try_read(&self, cx: Option<&Context<'_>>, buf: &mut [u8]) -> Option<LxResult<usize>> {
        let mut state = self.state.lock();
        if state.events.is_empty() {
            if let Some(cx) = cx {
                state.readers.register(cx);
            }
            return None;
        }
        let mut taken = 0;
        while let Some(event) = state.events.front() {
            let size = event.size();
            let Some(out) = buf.get_mut(taken..taken + size) else {
                break;
            };
            event.write(out);
            taken += size;
            if event.mask == IN_Q_OVERFLOW && event.wd == -1 {
                state.overflowed = false;
            }
            state.events.pop_front();
        }
        Some(if taken == 0 {
            Err(LxError::EINVAL)
        } else {
            Ok(taken)
        })
    }

    fn has_events(&self, cx: Option<&Context<'_>>) -> bool {
        let mut state = self.state.lock();
        if let Some(cx) = cx {
            state.readers.register(cx);
        }
        !state.events.is_empty()
    }
}

impl Drop for InotifyQueue {
    /// The instance's count ends with its queue, which its host side may hold a little longer
    /// (as Linux's ends with its group).
    fn drop(&mut self) {
        uncharge(self.uid, instances);
    }
}

fn ignored(wd: i32) -> Event {
    Event {
        wd,
        mask: IN_IGNORED,
        cookie: 0,
        name: Box::new([]),
    }
}

/// An inotify instance's open file description.
pub struct Inotify {
    queue: Arc<InotifyQueue>,
    marks: Box<dyn InotifyMarks>,
    /// Serialises adding and removing watches (Linux's group `mark_mutex`); never taken by
    /// the host's reports.
    update: Mutex<()>,
    flags: Mutex<OpenFlags>,
    /// Linux's `max_user_watches` for the instance's user.
    max_watches: usize,
}

impl Inotify {
    /// A new queue for an instance of user `uid`, for its host backend to report to;
    /// `EMFILE` if the user has [`MAX_USER_INSTANCES`] already.
    pub fn new_queue(uid: u32) -> LxResult<Arc<InotifyQueue>> {
        if !charge(uid, MAX_USER_INSTANCES, instances) {
            return Err(LxError::EMFILE);
        }
        Ok(Arc::new(InotifyQueue {
            state: Mutex::new(State {
                events: VecDeque::new(),
                overflowed: false,
                readers: Waiters::new(),
                watches: BTreeMap::new(),
                last_wd: 0,
            }),
            uid,
        }))
    }

    /// The instance of `queue` (made by [`Inotify::new_queue`]) whose host marks `marks` makes;
    /// `flags` may hold `O_NONBLOCK`; `max_watches` is the user's watch limit.
    pub fn new(
        queue: Arc<InotifyQueue>,
        marks: Box<dyn InotifyMarks>,
        flags: OpenFlags,
        max_watches: usize,
    ) -> Arc<Self> {
        Arc::new(Self {
            queue,
            marks,
            update: Mutex::new(()),
            flags: Mutex::new(flags & OpenFlags::NONBLOCK),
            max_watches,
        })
    }

    /// `inotify_add_watch` on `inode` (whose `stat` is `metadata`) with mask `arg`, already
    /// checked: the watch descriptor of the object's watch, new or updated.
    pub fn add_watch(&self, inode: &dyn INode, metadata: &Metadata, arg: u32) -> LxResult<i32> {
        let _update = self.update.lock();
        let uid = self.queue.uid;
        let charged = charge(uid, self.max_watches, watches);
        let candidate = {
            let mut state = self.queue.state.lock();
            let candidate = state.next_wd();
            if let Ok(wd) = candidate {
                state.watches.insert(wd, Watch::Pending);
            }
            candidate
        };
        let candidate = match candidate {
            Ok(wd) => wd,
            Err(error) => {
                if charged {
                    uncharge(uid, watches);
                }
                return Err(error);
            }
        };
        let outcome = self.marks.watch(inode, arg, candidate, charged);
        let mut state = self.queue.state.lock();
        // The watch to record, or the call's result without one.
        let made = match outcome {
            Ok(HostWatch::Created(mark)) => Ok(Watch::Host(mark)),
            Ok(HostWatch::NotHost) => {
                let key = (metadata.dev, metadata.inode);
                let existing = state.watches.iter().find_map(|(&wd, watch)| {
                    matches!(watch, Watch::Own(dev, ino) if (*dev, *ino) == key).then_some(wd)
                });
                match existing {
                    Some(_) if arg & IN_MASK_CREATE != 0 => Err(Err(LxError::EEXIST)),
                    Some(wd) => Err(Ok(wd)),
                    None if charged => Ok(Watch::Own(key.0, key.1)),
                    None => Err(Err(LxError::ENOSPC)),
                }
            }
            Ok(HostWatch::Updated(wd)) => Err(Ok(wd)),
            Err(error) => Err(Err(error)),
        };
        let made = match made {
            Ok(made) => made,
            Err(result) => {
                state.watches.remove(&candidate);
                drop(state);
                if charged {
                    uncharge(uid, watches);
                }
                return result;
            }
        };
        state.last_wd = candidate;
        match state.watches.get_mut(&candidate) {
            Some(slot) => *slot = made,
            None => {
                // The mark ended (one-shot fired, inode deleted) before it was recorded: its
                // IN_IGNORED is queued and its charge returned; the reference goes unlocked.
                drop(state);
                drop(made);
            }
        }
        Ok(candidate)
    }

    /// `inotify_rm_watch`: ends watch `wd` with an `IN_IGNORED` event; `EINVAL` if there is
    /// none.
    pub fn remove_watch(&self, wd: i32) -> LxResult {
        let _update = self.update.lock();
        let watch = self
            .queue
            .state
            .lock()
            .watches
            .remove(&wd)
            .ok_or(LxError::EINVAL)?;
        if let Watch::Host(mark) = &watch {
            mark.remove();
        }
        let mut state = self.queue.state.lock();
        state.push(ignored(wd));
        let woken = state.readers.take();
        drop(state);
        woken.wake();
        uncharge(self.queue.uid, watches);
        Ok(())
    }

    /// Bytes a read could take now (`FIONREAD`).
    pub fn queued_bytes(&self) -> usize {
        self.queue.queued_bytes()
    }

    /// `INOTIFY_IOC_SETNEXTWD`: the next watch descriptor is the first free one from `wd`
    /// (1 to `i32::MAX`, else `EINVAL`), as Linux's `idr_set_cursor`.
    pub fn set_next_wd(&self, wd: usize) -> LxResult {
        let wd = i32::try_from(wd)
            .ok()
            .filter(|&wd| wd >= 1)
            .ok_or(LxError::EINVAL)?;
        let _update = self.update.lock();
        self.queue.state.lock().last_wd = wd - 1;
        Ok(())
    }

    /// The lines `/proc/PID/fdinfo` shows of the watches of host files, newest first as
    /// Linux lists its marks (rVisor's own watches have no host mark to describe).
    pub fn fdinfo(&self) -> Vec<u8> {
        let state = self.queue.state.lock();
        let mut out = Vec::new();
        for watch in state.watches.values().rev() {
            if let Watch::Host(mark) = watch {
                out.extend_from_slice(&mark.fdinfo());
                out.push(b'\n');
            }
        }
        out
    }

    fn nonblocking(&self) -> bool {
        self.flags().contains(OpenFlags::NONBLOCK)
    }
}

impl Drop for Inotify {
    fn drop(&mut self) {
        // Every watch goes, with no event: nobody can read them any more.
        let gone = core::mem::take(&mut self.queue.state.lock().watches);
        for watch in gone.into_values() {
            if let Watch::Host(mark) = &watch {
                mark.remove();
            }
            uncharge(self.queue.uid, watches);
        }
    }
}

impl FileLike for Inotify {
    fn read(&self, buf: &mut [u8]) -> LxResult<usize> {
        self.queue
            .try_read(None, buf)
            .unwrap_or(Err(LxError::EAGAIN))
    }

    fn write(&self, _buf: &[u8]) -> LxResult<usize> {
        // Linux's inotify file has no write operation.
        Err(LxError::EINVAL)
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<LxResult<usize>> {
        if self.nonblocking() {
            return Poll::Ready(self.read(buf));
        }
        self.queue
            .try_read(Some(cx), buf)
            .map_or(Poll::Pending, Poll::Ready)
    }

    /// As Linux's `inotify_poll`: readable while an event is queued.
    fn poll_events(&self, cx: Option<&Context<'_>>) -> PollEvents {
        if self.queue.has_events(cx) {
            PollEvents::IN | PollEvents::RDNORM
        } else {
            PollEvents::empty()
        }
    }

    fn metadata(&self) -> LxResult<Metadata> {
        Ok(super::anonymous_inode_metadata())
    }

    fn flags(&self) -> OpenFlags {
        *self.flags.lock()
    }

    fn set_flags(&self, flags: OpenFlags) {
        OpenFlags::set_settable(&self.flags, flags);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::read_file;
    use crate::test_executor::{poll_once, CountingWaker};
    use kernel_hostfs::{FileSystem, FileType, HostFs};
    use std::pin::pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex as StdMutex;

    /// A scratch directory with the files `names`, removed when dropped.
    struct Scratch(std::path::PathBuf, Vec<Arc<dyn INode>>);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn scratch(test: &str, names: &[&str]) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "linux-object-inotify-{}-{test}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let root = HostFs::new(&dir).unwrap().root_inode();
        let inodes = names
            .iter()
            .map(|name| root.create(name, FileType::File, 0o644).unwrap())
            .collect();
        Scratch(dir, inodes)
    }

    /// A host whose marks are recorded, to be fired or ended by the test.
    #[derive(Default)]
    struct FakeHost {
        /// (inode address, wd, mark id) of each live mark.
        marks: StdMutex<Vec<(usize, i32, usize)>>,
        removed: AtomicUsize,
        queue: StdMutex<Option<Arc<InotifyQueue>>>,
    }

    struct FakeMark(Arc<FakeHost>, usize, i32);

    impl HostMark for FakeMark {
        fn remove(&self) {
            self.0.removed.fetch_add(1, Ordering::SeqCst);
            self.0.marks.lock().unwrap().retain(|mark| mark.2 != self.1);
            let queue = self.0.queue.lock().unwrap().clone();
            if let Some(queue) = queue {
                queue.watch_gone(self.2, self.1);
            }
        }

        fn id(&self) -> usize {
            self.1
        }

        fn fdinfo(&self) -> Vec<u8> {
            format!("inotify wd:{:x}", self.2).into_bytes()
        }
    }

    struct FakeMarks(Arc<FakeHost>);

    impl InotifyMarks for FakeMarks {
        fn watch(&self, inode: &dyn INode, arg: u32, wd: i32, create: bool) -> LxResult<HostWatch> {
            let key = inode as *const dyn INode as *const () as usize;
            let mut marks = self.0.marks.lock().unwrap();
            if let Some(&(_, existing, _)) = marks.iter().find(|mark| mark.0 == key) {
                return if arg & IN_MASK_CREATE != 0 {
                    Err(LxError::EEXIST)
                } else {
                    Ok(HostWatch::Updated(existing))
                };
            }
            if !create {
                return Err(LxError::ENOSPC);
            }
            let id = 1000 + wd as usize;
            marks.push((key, wd, id));
            Ok(HostWatch::Created(Box::new(FakeMark(
                self.0.clone(),
                id,
                wd,
            ))))
        }
    }

    fn instance(uid: u32, flags: OpenFlags) -> (Arc<Inotify>, Arc<FakeHost>) {
        let host = Arc::new(FakeHost::default());
        let queue = Inotify::new_queue(uid).unwrap();
        *host.queue.lock().unwrap() = Some(queue.clone());
        let inotify = Inotify::new(queue, Box::new(FakeMarks(host.clone())), flags, 8);
        (inotify, host)
    }

    fn watch(inotify: &Inotify, inode: &Arc<dyn INode>, arg: u32) -> LxResult<i32> {
        inotify.add_watch(&**inode, &inode.metadata().unwrap(), arg)
    }

    /// The records of one read: (wd, mask, cookie, name, record length field).
    fn records(buf: &[u8]) -> Vec<(i32, u32, u32, Vec<u8>, u32)> {
        let field = |at: usize| u32::from_ne_bytes(buf[at..at + 4].try_into().unwrap());
        let mut out = Vec::new();
        let mut at = 0;
        while at < buf.len() {
            let len = field(at + 12);
            let name = &buf[at + 16..at + 16 + len as usize];
            let name = name.split(|&b| b == 0).next().unwrap_or(&[]).to_vec();
            out.push((field(at) as i32, field(at + 4), field(at + 8), name, len));
            at += 16 + len as usize;
        }
        out
    }

    fn read_all(inotify: &Inotify) -> Vec<(i32, u32, u32, Vec<u8>, u32)> {
        let mut buf = vec![0u8; 4096];
        let n = inotify.read(&mut buf).unwrap();
        records(&buf[..n])
    }

    #[test]
    fn descriptors_count_from_one_and_an_object_keeps_its_own() {
        let files = scratch("wd", &["a", "b"]);
        let (inotify, host) = instance(70_001, OpenFlags::NONBLOCK);
        assert_eq!(watch(&inotify, &files.1[0], IN_MODIFY), Ok(1));
        assert_eq!(watch(&inotify, &files.1[1], IN_MODIFY), Ok(2));
        assert_eq!(watch(&inotify, &files.1[0], IN_ATTRIB), Ok(1));
        assert_eq!(
            watch(&inotify, &files.1[0], IN_ATTRIB | IN_MASK_CREATE),
            Err(LxError::EEXIST)
        );
        assert_eq!(host.marks.lock().unwrap().len(), 2);
        assert_eq!(inotify.fdinfo(), b"inotify wd:2\ninotify wd:1\n");
        // Removed descriptors are not reused before the cursor wraps.
        assert_eq!(inotify.remove_watch(2), Ok(()));
        assert_eq!(inotify.remove_watch(2), Err(LxError::EINVAL));
        assert_eq!(watch(&inotify, &files.1[1], IN_MODIFY), Ok(3));
        assert_eq!(read_all(&inotify), vec![(2, IN_IGNORED, 0, vec![], 0)]);
    }

    #[test]
    fn the_next_descriptor_can_be_set() {
        let files = scratch("setnext", &["a", "b", "c"]);
        let (inotify, _host) = instance(70_009, OpenFlags::NONBLOCK);
        assert_eq!(inotify.set_next_wd(0), Err(LxError::EINVAL));
        assert_eq!(inotify.set_next_wd(1 << 31), Err(LxError::EINVAL));
        assert_eq!(inotify.set_next_wd(7), Ok(()));
        assert_eq!(watch(&inotify, &files.1[0], IN_MODIFY), Ok(7));
        // A taken descriptor is skipped.
        assert_eq!(inotify.set_next_wd(7), Ok(()));
        assert_eq!(watch(&inotify, &files.1[1], IN_MODIFY), Ok(8));
        assert_eq!(inotify.set_next_wd(i32::MAX as usize), Ok(()));
        assert_eq!(watch(&inotify, &files.1[2], IN_MODIFY), Ok(i32::MAX));
    }

    #[test]
    fn objects_without_a_host_inode_are_watched_by_identity() {
        let files = scratch("own", &["a", "b"]);
        let queue = Inotify::new_queue(70_002).unwrap();
        let inotify = Inotify::new(queue, Box::new(NoHostMarks), OpenFlags::NONBLOCK, 8);
        assert_eq!(watch(&inotify, &files.1[0], IN_MODIFY), Ok(1));
        assert_eq!(watch(&inotify, &files.1[0], IN_MODIFY), Ok(1));
        assert_eq!(
            watch(&inotify, &files.1[0], IN_MODIFY | IN_MASK_CREATE),
            Err(LxError::EEXIST)
        );
        assert_eq!(watch(&inotify, &files.1[1], IN_MODIFY), Ok(2));
        assert_eq!(inotify.remove_watch(1), Ok(()));
        assert_eq!(inotify.remove_watch(2), Ok(()));
        assert_eq!(inotify.remove_watch(1), Err(LxError::EINVAL));
        assert_eq!(
            read_all(&inotify),
            vec![(1, IN_IGNORED, 0, vec![], 0), (2, IN_IGNORED, 0, vec![], 0)]
        );
    }

    #[test]
    fn records_are_padded_and_identical_events_merge() {
        let files = scratch("merge", &["d"]);
        let (inotify, _host) = instance(70_003, OpenFlags::NONBLOCK);
        let wd = watch(&inotify, &files.1[0], IN_ALL_EVENTS).unwrap();
        let queue = &inotify.queue;
        queue.deliver(wd, IN_MODIFY, 0, b"name");
        queue.deliver(wd, IN_MODIFY, 0, b"name");
        queue.deliver(wd, IN_MODIFY, 0, b"other");
        queue.deliver(wd, IN_MODIFY, 0, b"name");
        // The flags inotify does not report are masked at read.
        queue.deliver(wd, IN_ATTRIB | 0x0800_0000, 0, b"");
        queue.deliver(wd, IN_MOVED_FROM, 7, b"fifteen-chars-x");
        queue.deliver(wd, IN_MOVED_TO, 7, b"sixteen-chars-xx");
        assert_eq!(inotify.queued_bytes(), 32 * 3 + 16 + 32 + 48);
        assert_eq!(
            read_all(&inotify),
            vec![
                (wd, IN_MODIFY, 0, b"name".to_vec(), 16),
                (wd, IN_MODIFY, 0, b"other".to_vec(), 16),
                (wd, IN_MODIFY, 0, b"name".to_vec(), 16),
                (wd, IN_ATTRIB, 0, vec![], 0),
                (wd, IN_MOVED_FROM, 7, b"fifteen-chars-x".to_vec(), 16),
                (wd, IN_MOVED_TO, 7, b"sixteen-chars-xx".to_vec(), 32),
            ]
        );
        assert_eq!(inotify.read(&mut [0; 64]), Err(LxError::EAGAIN));
    }

    #[test]
    fn a_buffer_too_small_for_the_first_event_is_einval() {
        let files = scratch("small", &["d"]);
        let (inotify, _host) = instance(70_004, OpenFlags::NONBLOCK);
        let wd = watch(&inotify, &files.1[0], IN_ALL_EVENTS).unwrap();
        inotify.queue.deliver(wd, IN_CREATE, 0, b"abc");
        inotify.queue.deliver(wd, IN_DELETE, 0, b"abc");
        assert_eq!(inotify.read(&mut [0; 31]), Err(LxError::EINVAL));
        // Only whole events: 40 bytes take one of the two.
        let mut buf = [0; 40];
        assert_eq!(inotify.read(&mut buf), Ok(32));
        assert_eq!(records(&buf[..32])[0].1, IN_CREATE);
        assert_eq!(inotify.queued_bytes(), 32);
    }

    #[test]
    fn a_full_queue_ends_with_one_overflow_event() {
        let files = scratch("overflow", &["d"]);
        let (inotify, _host) = instance(70_005, OpenFlags::NONBLOCK);
        let wd = watch(&inotify, &files.1[0], IN_ALL_EVENTS).unwrap();
        for i in 0..MAX_QUEUED_EVENTS + 10 {
            let mask = if i % 2 == 0 { IN_CREATE } else { IN_DELETE };
            inotify.queue.deliver(wd, mask, 0, b"");
        }
        assert_eq!(inotify.queued_bytes(), (MAX_QUEUED_EVENTS + 1) * EVENT_SIZE);
        let mut buf = vec![0u8; (MAX_QUEUED_EVENTS + 1) * EVENT_SIZE];
        assert_eq!(inotify.read(&mut buf), Ok(buf.len()));
        let last = records(&buf).pop().unwrap();
        assert_eq!(last, (-1, IN_Q_OVERFLOW, 0, vec![], 0));
        // Read, the overflow event may come again.
        inotify.queue.deliver(wd, IN_CREATE, 0, b"");
        assert_eq!(read_all(&inotify), vec![(wd, IN_CREATE, 0, vec![], 0)]);
    }

    #[test]
    fn an_ended_mark_gives_ignored_once_and_its_late_events_are_dropped() {
        let files = scratch("gone", &["f"]);
        let (inotify, host) = instance(70_006, OpenFlags::NONBLOCK);
        let wd = watch(&inotify, &files.1[0], IN_ALL_EVENTS).unwrap();
        let id = host.marks.lock().unwrap()[0].2;
        inotify.queue.deliver(wd, IN_DELETE_SELF, 0, b"");
        inotify.queue.watch_gone(wd, id + 1); // another mark's end: not this watch's
        inotify.queue.watch_gone(wd, id);
        inotify.queue.watch_gone(wd, id);
        inotify.queue.deliver(wd, IN_ATTRIB, 0, b"");
        assert_eq!(
            read_all(&inotify),
            vec![
                (wd, IN_DELETE_SELF, 0, vec![], 0),
                (wd, IN_IGNORED, 0, vec![], 0)
            ]
        );
        assert_eq!(inotify.remove_watch(wd), Err(LxError::EINVAL));
    }

    #[test]
    fn a_blocking_read_waits_for_an_event_and_poll_reports_it() {
        let files = scratch("block", &["d"]);
        let (inotify, _host) = instance(70_007, OpenFlags::empty());
        let wd = watch(&inotify, &files.1[0], IN_CREATE).unwrap();
        assert_eq!(inotify.poll_events(None), PollEvents::empty());
        let (counter, waker) = CountingWaker::new();
        let mut buf = [0; 64];
        {
            let mut read = pin!(read_file(&*inotify, &mut buf));
            assert!(poll_once(read.as_mut(), &waker).is_pending());
            inotify.queue.deliver(wd, IN_CREATE, 0, b"x");
            assert_eq!(counter.wakes(), 1);
            assert_eq!(poll_once(read.as_mut(), &waker), Poll::Ready(Ok(32)));
        }
        inotify.queue.deliver(wd, IN_CREATE, 0, b"y");
        assert_eq!(
            inotify.poll_events(None),
            PollEvents::IN | PollEvents::RDNORM
        );
    }

    #[test]
    fn limits_are_per_user_and_closing_removes_every_mark() {
        let files = scratch("limits", &["a", "b", "c", "d", "e", "f", "g", "h", "i"]);
        let uid = 70_008;
        let (inotify, host) = instance(uid, OpenFlags::NONBLOCK);
        for (i, inode) in files.1.iter().take(8).enumerate() {
            assert_eq!(watch(&inotify, inode, IN_MODIFY), Ok(i as i32 + 1));
        }
        // The user's eight watches are all it may have; updating one is still fine.
        assert_eq!(
            watch(&inotify, &files.1[8], IN_MODIFY),
            Err(LxError::ENOSPC)
        );
        assert_eq!(watch(&inotify, &files.1[0], IN_ATTRIB), Ok(1));
        assert_eq!(inotify.remove_watch(1), Ok(()));
        assert_eq!(watch(&inotify, &files.1[8], IN_MODIFY), Ok(9));
        drop(inotify);
        assert_eq!(host.removed.load(Ordering::SeqCst), 9);
        assert!(host.marks.lock().unwrap().is_empty());
        // The host side lets the queue go once its marks are freed: the instance's count ends.
        host.queue.lock().unwrap().take();
        // Instances: 128 per user.
        let held: Vec<_> = (0..MAX_USER_INSTANCES)
            .map(|_| Inotify::new_queue(uid).unwrap())
            .collect();
        assert!(matches!(Inotify::new_queue(uid), Err(LxError::EMFILE)));
        assert!(Inotify::new_queue(uid + 1).is_ok());
        drop(held);
        assert!(Inotify::new_queue(uid).is_ok());
    }
}
