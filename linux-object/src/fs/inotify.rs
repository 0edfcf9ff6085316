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

    /// The watch descriptors, for `/proc/PID/fdinfo`.
    pub fn watch_descriptors(&self) -> Vec<i32> {
        self.queue.state.lock().watches.keys().copied().collect()
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
        uncharge(self.queue.uid, instances);
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
        let mut kept = self.flags.lock();
        *kept = kept.with_settable(flags);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
