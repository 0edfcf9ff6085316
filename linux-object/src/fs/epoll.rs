//! [`Epoll`]: an epoll instance (`epoll_create1`), as Linux's `fs/eventpoll.c` makes it.
//!
//! An instance holds an *interest list* of items, each keyed by a descriptor number and the
//! open file description it named when it was added, and a *ready list*. Every item has its
//! own waker, which it registers with its file through [`FileLike::poll_events`]; when the
//! file's readiness may have changed, the file wakes it, and the waker puts the item on the
//! ready list and wakes the instance's waiters. A wait looks only at the ready list: it asks
//! each ready item's file for its events again (registering the item's waker anew), reports
//! those the item is interested in, and keeps a level-triggered item on the list while it
//! stays ready — so a wait costs what is ready, not what is registered.
//!
//! An item goes away with `EPOLL_CTL_DEL`, or by itself once its open file description is
//! released (the last descriptor naming it closed): the instance holds it weakly. An epoll
//! instance is itself pollable (readable while an item is ready), so instances nest; adding
//! one to another is refused where it would close a loop or nest too deep (`ELOOP`).

use super::waiters::{Waiters, Woken};
use super::{FileLike, OpenFlags, PollEvents};
use crate::error::{LxError, LxResult};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::task::Wake;
use alloc::vec::Vec;
use core::any::Any;
use core::task::{Context, Waker};
use kernel_hal_lkm::sync::Mutex;
use kernel_hostfs::Metadata;

bitflags::bitflags! {
    /// The `EPOLL*` bits of `struct epoll_event`'s `events` (x86-64 values): the readiness
    /// bits of [`PollEvents`] and the flags that change how an item is reported.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct EpollEvents: u32 {
        /// Readable.
        const IN = 0x1;
        /// Urgent data.
        const PRI = 0x2;
        /// Writable.
        const OUT = 0x4;
        /// Error (always reported).
        const ERR = 0x8;
        /// Hang-up (always reported).
        const HUP = 0x10;
        /// The peer closed its writing half.
        const RDHUP = 0x2000;
        /// Wake one of the instances waiting on the file, not all (`EPOLL_CTL_ADD` only).
        const EXCLUSIVE = 1 << 28;
        /// Keep the system awake while the event is pending (no effect here).
        const WAKEUP = 1 << 29;
        /// Report once, then disable the item until `EPOLL_CTL_MOD` re-arms it.
        const ONESHOT = 1 << 30;
        /// Edge-triggered: report a change once, not the state while it lasts.
        const ET = 1 << 31;
    }
}

impl EpollEvents {
    /// The flags that are not events (Linux's `EP_PRIVATE_BITS`).
    pub const PRIVATE: Self = Self::WAKEUP
        .union(Self::ONESHOT)
        .union(Self::ET)
        .union(Self::EXCLUSIVE);

    /// What may come with `EPOLLEXCLUSIVE` (Linux's `EPOLLEXCLUSIVE_OK_BITS`).
    pub const EXCLUSIVE_OK: Self = Self::IN
        .union(Self::OUT)
        .union(Self::ERR)
        .union(Self::HUP)
        .union(Self::WAKEUP)
        .union(Self::ET)
        .union(Self::EXCLUSIVE);
}

/// One reported event: what happened and the item's user data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpollEvent {
    /// The events that are ready, among those the item asked for.
    pub events: u32,
    /// The data given with `EPOLL_CTL_ADD`/`EPOLL_CTL_MOD`.
    pub data: u64,
}

/// How deep instances may nest below the one a wait is made on (Linux's `EP_MAX_NESTS`).
const MAX_NESTS: usize = 4;

/// How many wakers of deleted items are kept for re-use (see [`State::retired`]).
const RETIRED_WAKERS: usize = 64;

/// Serializes the additions of instances to instances, so that two of them racing cannot
/// close a loop that each alone would not (Linux's `epmutex`).
static NESTING: Mutex<()> = Mutex::new(());

/// An item's key: its descriptor number and the address of its open file description.
type Key = (i32, usize);

/// The address that identifies an open file description.
fn address_of(file: &Arc<dyn FileLike>) -> usize {
    Arc::as_ptr(file) as *const () as usize
}

/// A registered item.
struct Item {
    /// Held weakly: the item lives no longer than its open file description.
    file: Weak<dyn FileLike>,
    /// The interest: events (with `ERR` and `HUP`) and flags.
    events: EpollEvents,
    data: u64,
    /// The waker the item registers with its file.
    waker: Waker,
    /// Whether the item's key is on the ready list.
    queued: bool,
    /// Whether the file is an epoll instance (the nesting checks look only at those).
    nested: bool,
}

struct State {
    items: BTreeMap<Key, Item>,
    /// Keys of items that may be ready, oldest first.
    ready: VecDeque<Key>,
    /// Tasks waiting for an item to become ready: `epoll_wait` callers and whoever polls
    /// this instance (an enclosing instance's item, `poll`).
    waiters: Waiters,
    /// Wakers of recently deleted items, re-used if the same key is added again, so that a
    /// file that never wakes does not collect one stale waker per `ADD`/`DEL` cycle.
    retired: BTreeMap<Key, Waker>,
    /// The interest list's size at which items whose files are gone are swept out.
    sweep_at: usize,
}

/// What the items' wakers reach.
struct Shared {
    /// Held across a whole control operation or scan (Linux's `ep->mtx`): files are polled
    /// under it, never under `state`, which the wakers take.
    ops: Mutex<()>,
    state: Mutex<State>,
    /// The instances this one is an item of, once per item (Linux's `ep->refs`), for the
    /// depth of the instances above it.
    parents: Mutex<Vec<Weak<Shared>>>,
}

impl Shared {
    /// The longest chain of instances above this one (0 if it is in none), as Linux's
    /// `ep_get_upwards_depth_proc`; counting stops past [`MAX_NESTS`].
    fn depth_above(&self, depth: usize) -> usize {
        if depth > MAX_NESTS {
            return depth;
        }
        let parents: Vec<Arc<Shared>> = self
            .parents
            .lock()
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        parents
            .iter()
            .map(|parent| parent.depth_above(depth + 1) + 1)
            .max()
            .unwrap_or(0)
    }
}

/// An item's waker: puts the item on its instance's ready list.
struct ItemWaker {
    epoll: Weak<Shared>,
    key: Key,
}

impl Wake for ItemWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let Some(shared) = self.epoll.upgrade() else {
            return;
        };
        let woken = shared.queue(self.key);
        drop(shared);
        woken.wake();
    }
}

impl Shared {
    /// Puts item `key` on the ready list (unless it is there, gone or disabled) and takes the
    /// waiters to wake.
    fn queue(&self, key: Key) -> Woken {
        let mut state = self.state.lock();
        let state = &mut *state;
        let Some(item) = state.items.get_mut(&key) else {
            return Woken::none();
        };
        // A disabled (one-shot, fired) item ignores its file until re-armed, as Linux's.
        if item.queued || (item.events - EpollEvents::PRIVATE).is_empty() {
            return Woken::none();
        }
        if state.ready.try_reserve(1).is_err() {
            // No memory to queue it: the waiters still look, and find it on their next scan
            // of a wake that succeeds; better a late event than a lost wake-up.
            return state.waiters.take();
        }
        item.queued = true;
        state.ready.push_back(key);
        state.waiters.take()
    }
}

/// An epoll instance's open file description.
pub struct Epoll {
    shared: Arc<Shared>,
    flags: Mutex<OpenFlags>,
}

/// What a scan does with the ready items it finds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// Report them (`epoll_wait`): one-shot items are disabled, edge-triggered ones leave
    /// the list.
    Deliver,
    /// Only tell whether one is ready (polling the instance), leaving them as they are.
    Peek,
}

impl Epoll {
    /// A new, empty instance.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            shared: Arc::new(Shared {
                ops: Mutex::new(()),
                state: Mutex::new(State {
                    items: BTreeMap::new(),
                    ready: VecDeque::new(),
                    waiters: Waiters::new(),
                    retired: BTreeMap::new(),
                    sweep_at: 64,
                }),
                parents: Mutex::new(Vec::new()),
            }),
            flags: Mutex::new(OpenFlags::empty()),
        })
    }

    /// The instance `file` is, if it is one.
    pub fn of(file: &dyn FileLike) -> Option<&Self> {
        file.as_any().downcast_ref::<Self>()
    }

    /// How many items are registered (those whose files are gone included until swept).
    pub fn len(&self) -> usize {
        self.shared.state.lock().items.len()
    }

    /// Whether no item is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `EPOLL_CTL_ADD`: registers `file`, open as descriptor `fd`, for `events` with `data`.
    /// `EEXIST` if that pair is registered, `ELOOP` if `file` is an instance this one is
    /// reachable from or that nests too deep. The syscall layer has checked the rest.
    pub fn add(
        &self,
        fd: i32,
        file: &Arc<dyn FileLike>,
        events: EpollEvents,
        data: u64,
    ) -> LxResult {
        // Loops can only be closed by adding an instance: only that takes the global lock.
        let _nesting = Self::of(&**file).map(|_| NESTING.lock());
        let _ops = self.shared.ops.lock();
        let inner = Self::of(&**file);
        if let Some(inner) = inner {
            // Linux's `ep_loop_check`: no loop, and no chain of instances through the new
            // link longer than MAX_NESTS links, so that polls nest a bounded number of times.
            let below = inner.depth_below(&self.shared, 0).ok_or(LxError::ELOOP)?;
            if below + 1 + self.shared.depth_above(0) > MAX_NESTS {
                return Err(LxError::ELOOP);
            }
        }
        let key = (fd, address_of(file));
        {
            let mut state = self.shared.state.lock();
            let state = &mut *state;
            if state
                .items
                .get(&key)
                .is_some_and(|item| item.file.strong_count() > 0)
            {
                return Err(LxError::EEXIST);
            }
            if state.items.len() >= state.sweep_at {
                state.items.retain(|_, item| item.file.strong_count() > 0);
                state.sweep_at = state.items.len().saturating_mul(2).max(64);
            }
            let waker = state.retired.remove(&key).unwrap_or_else(|| {
                Waker::from(Arc::new(ItemWaker {
                    epoll: Arc::downgrade(&self.shared),
                    key,
                }))
            });
            state.items.insert(
                key,
                Item {
                    file: Arc::downgrade(file),
                    events: events | EpollEvents::ERR | EpollEvents::HUP,
                    data,
                    waker,
                    queued: false,
                    nested: inner.is_some(),
                },
            );
        }
        if let Some(inner) = inner {
            let mut parents = inner.shared.parents.lock();
            parents.retain(|parent| parent.strong_count() > 0);
            parents.push(Arc::downgrade(&self.shared));
        }
        self.arm(key, file);
        Ok(())
    }

    /// `EPOLL_CTL_MOD`: replaces the interest and data of `file` as descriptor `fd` (and
    /// re-arms a one-shot item). `ENOENT` if not registered, `EINVAL` if it was added with
    /// `EPOLLEXCLUSIVE`.
    pub fn modify(
        &self,
        fd: i32,
        file: &Arc<dyn FileLike>,
        events: EpollEvents,
        data: u64,
    ) -> LxResult {
        let _ops = self.shared.ops.lock();
        let key = (fd, address_of(file));
        {
            let mut state = self.shared.state.lock();
            let item = state
                .items
                .get_mut(&key)
                .filter(|item| item.file.strong_count() > 0)
                .ok_or(LxError::ENOENT)?;
            if item.events.contains(EpollEvents::EXCLUSIVE) {
                return Err(LxError::EINVAL);
            }
            item.events = events | EpollEvents::ERR | EpollEvents::HUP;
            item.data = data;
        }
        self.arm(key, file);
        Ok(())
    }

    /// `EPOLL_CTL_DEL`: forgets `file` as descriptor `fd`; `ENOENT` if not registered.
    pub fn delete(&self, fd: i32, file: &Arc<dyn FileLike>) -> LxResult {
        let _ops = self.shared.ops.lock();
        let key = (fd, address_of(file));
        let mut state = self.shared.state.lock();
        let state = &mut *state;
        let item = state
            .items
            .remove(&key)
            .filter(|item| item.file.strong_count() > 0)
            .ok_or(LxError::ENOENT)?;
        if item.queued {
            state.ready.retain(|queued| *queued != key);
        }
        if state.retired.len() < RETIRED_WAKERS {
            state.retired.insert(key, item.waker);
        }
        if let Some(inner) = Self::of(&**file) {
            let mut parents = inner.shared.parents.lock();
            let me = Arc::as_ptr(&self.shared);
            if let Some(index) = parents.iter().position(|parent| parent.as_ptr() == me) {
                parents.swap_remove(index);
            }
        }
        Ok(())
    }

    /// Polls the item `key` of `file` with its own waker (registering it with the file) and
    /// queues it if it is ready now, as Linux's `ep_insert` and `ep_modify` do.
    fn arm(&self, key: Key, file: &Arc<dyn FileLike>) {
        let Some((waker, interest)) = self
            .shared
            .state
            .lock()
            .items
            .get(&key)
            .map(|item| (item.waker.clone(), item.events))
        else {
            return;
        };
        let events = file.poll_events(Some(&Context::from_waker(&waker)));
        if !ready_bits(events, interest).is_empty() {
            self.shared.queue(key).wake();
        }
    }

    /// The longest chain of instances below this one, which is `depth` links below the
    /// instance being added to (Linux's `ep_loop_check_proc`); `None` if `target` is among
    /// them (a loop) or the chain is longer than [`MAX_NESTS`] links.
    fn depth_below(&self, target: &Arc<Shared>, depth: usize) -> Option<usize> {
        // Only nested instances are upgraded, and none is dropped under the lock: a file
        // whose last reference went would run its release there, which may wake an item of
        // this very instance.
        let nested: Vec<Arc<dyn FileLike>> = {
            let state = self.shared.state.lock();
            state
                .items
                .values()
                .filter(|item| item.nested)
                .filter_map(|item| item.file.upgrade())
                .collect()
        };
        let mut longest = 0;
        for file in &nested {
            let Some(inner) = Self::of(&**file) else {
                continue;
            };
            if Arc::ptr_eq(&inner.shared, target) || depth >= MAX_NESTS {
                return None;
            }
            longest = longest.max(inner.depth_below(target, depth + 1)? + 1);
        }
        Some(longest)
    }

    /// Takes the ready events, at most `max` of them, handing each to `deliver` with its
    /// index (which copies it out): `epoll_wait` without the waiting. With `cx`, its waker
    /// is first registered to be woken when an item may have become ready. Returns how many
    /// were delivered; an event `deliver` refuses is put back first in line, as Linux's
    /// `ep_send_events` does, and its error is returned if it was the first.
    pub fn collect(
        &self,
        max: usize,
        cx: Option<&Context<'_>>,
        deliver: &mut dyn FnMut(usize, EpollEvent) -> LxResult,
    ) -> LxResult<usize> {
        if let Some(cx) = cx {
            self.shared.state.lock().waiters.register(cx);
        }
        self.scan(Scan::Deliver, max, deliver)
    }

    /// One pass over the items on the ready list when it starts (items a level-triggered
    /// report puts back are not looked at twice), until `max` are delivered or, peeking, one
    /// is found ready (counted, not delivered). Items found not ready leave the list.
    fn scan(
        &self,
        mode: Scan,
        max: usize,
        deliver: &mut dyn FnMut(usize, EpollEvent) -> LxResult,
    ) -> LxResult<usize> {
        let _ops = self.shared.ops.lock();
        let mut left = self.shared.state.lock().ready.len();
        let mut delivered = 0;
        while left > 0 && delivered < max {
            left -= 1;
            // Take the next item off the list; a wake while it is polled queues it again.
            let (key, file, waker, interest, data) = {
                let mut state = self.shared.state.lock();
                let state = &mut *state;
                let Some(key) = state.ready.pop_front() else {
                    break;
                };
                let Some(item) = state.items.get_mut(&key) else {
                    continue;
                };
                item.queued = false;
                if (item.events - EpollEvents::PRIVATE).is_empty() {
                    continue;
                }
                let Some(file) = item.file.upgrade() else {
                    // Its description is released: the registration goes with it.
                    state.items.remove(&key);
                    continue;
                };
                (key, file, item.waker.clone(), item.events, item.data)
            };
            let events = file.poll_events(Some(&Context::from_waker(&waker)));
            // Dropped with no lock held: if the description was closed meanwhile, its release
            // runs here, and may wake items of this instance.
            drop(file);
            let ready = ready_bits(events, interest);
            if ready.is_empty() {
                continue;
            }
            if mode == Scan::Peek {
                // Leave it first in line for the wait that will report it.
                self.requeue_first(key);
                return Ok(1);
            }
            // Copied out with no lock but `ops` held (a control operation cannot change the
            // item meanwhile); the copy may fault in a page and sleep.
            let event = EpollEvent {
                events: ready.bits(),
                data,
            };
            if let Err(error) = deliver(delivered, event) {
                self.requeue_first(key);
                return if delivered == 0 {
                    Err(error)
                } else {
                    Ok(delivered)
                };
            }
            delivered += 1;
            let mut state = self.shared.state.lock();
            let state = &mut *state;
            let Some(item) = state.items.get_mut(&key) else {
                continue;
            };
            if item.events.contains(EpollEvents::ONESHOT) {
                item.events &= EpollEvents::PRIVATE;
            } else if !item.events.contains(EpollEvents::ET)
                && !item.queued
                && state.ready.try_reserve(1).is_ok()
            {
                item.queued = true;
                state.ready.push_back(key);
            }
        }
        Ok(delivered)
    }

    /// Puts item `key` back first on the ready list, unless it is there or gone.
    fn requeue_first(&self, key: Key) {
        let mut state = self.shared.state.lock();
        let state = &mut *state;
        if let Some(item) = state.items.get_mut(&key) {
            if !item.queued && state.ready.try_reserve(1).is_ok() {
                item.queued = true;
                state.ready.push_front(key);
            }
        }
    }
}

/// The events of `events` that an item with `interest` reports.
fn ready_bits(events: PollEvents, interest: EpollEvents) -> EpollEvents {
    EpollEvents::from_bits_retain(u32::from(events.bits())) & (interest - EpollEvents::PRIVATE)
}

impl FileLike for Epoll {
    fn read(&self, _buf: &mut [u8]) -> LxResult<usize> {
        Err(LxError::EINVAL)
    }

    fn write(&self, _buf: &[u8]) -> LxResult<usize> {
        Err(LxError::EINVAL)
    }

    /// As Linux's `ep_eventpoll_poll`: readable while one of its items is ready.
    fn poll_events(&self, cx: Option<&Context<'_>>) -> PollEvents {
        if let Some(cx) = cx {
            self.shared.state.lock().waiters.register(cx);
        }
        if self.scan(Scan::Peek, 1, &mut |_, _| Ok(())).unwrap_or(0) > 0 {
            PollEvents::IN | PollEvents::RDNORM
        } else {
            PollEvents::empty()
        }
    }

    fn metadata(&self) -> LxResult<Metadata> {
        // Linux's epoll instances are inodes of its anonymous inode filesystem.
        Ok(super::anonymous_inode_metadata())
    }

    fn flags(&self) -> OpenFlags {
        *self.flags.lock() | OpenFlags::RDWR
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
    use crate::fs::{EventFd, Pipe};
    use crate::test_executor::CountingWaker;

    const IN: EpollEvents = EpollEvents::IN;

    fn pipe() -> (Arc<dyn FileLike>, Arc<dyn FileLike>) {
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        (reader, writer)
    }

    fn ready(epoll: &Epoll) -> Vec<(u64, u32)> {
        let mut out = Vec::new();
        let count = epoll
            .collect(16, None, &mut |index, event| {
                assert_eq!(index, out.len());
                out.push((event.data, event.events));
                Ok(())
            })
            .unwrap();
        assert_eq!(count, out.len());
        out
    }

    #[test]
    fn an_event_that_cannot_be_delivered_stays_first_in_line() {
        let epoll = Epoll::new();
        let (reader, writer) = pipe();
        let (reader2, writer2) = pipe();
        epoll.add(3, &reader, IN | EpollEvents::ET, 3).unwrap();
        epoll.add(4, &reader2, IN | EpollEvents::ET, 4).unwrap();
        writer.write(b"x").unwrap();
        writer2.write(b"y").unwrap();
        let refuse = &mut |_: usize, _: EpollEvent| Err(LxError::EFAULT);
        assert_eq!(epoll.collect(16, None, refuse), Err(LxError::EFAULT));
        // The second is refused after the first went out: one delivered, the other kept.
        let mut calls = 0;
        let second_fails = &mut |_: usize, _: EpollEvent| {
            calls += 1;
            if calls == 2 {
                Err(LxError::EFAULT)
            } else {
                Ok(())
            }
        };
        assert_eq!(epoll.collect(16, None, second_fails), Ok(1));
        assert_eq!(ready(&epoll), [(4, IN.bits())]);
        assert!(ready(&epoll).is_empty(), "edge-triggered: reported once");
    }

    #[test]
    fn level_triggered_items_stay_ready_and_edge_triggered_ones_report_once() {
        let epoll = Epoll::new();
        let (reader, writer) = pipe();
        epoll.add(3, &reader, IN, 7).unwrap();
        assert_eq!(ready(&epoll), []);
        writer.write(b"ab").unwrap();
        assert_eq!(ready(&epoll), [(7, 1)]);
        assert_eq!(ready(&epoll), [(7, 1)]);
        epoll.modify(3, &reader, IN | EpollEvents::ET, 8).unwrap();
        assert_eq!(ready(&epoll), [(8, 1)]);
        assert_eq!(ready(&epoll), []);
        reader.read(&mut [0; 1]).unwrap();
        assert_eq!(ready(&epoll), [], "a read is no new edge");
        writer.write(b"c").unwrap();
        assert_eq!(ready(&epoll), [(8, 1)]);
    }

    #[test]
    fn one_shot_items_are_disabled_until_modified() {
        let epoll = Epoll::new();
        let (reader, writer) = pipe();
        writer.write(b"x").unwrap();
        epoll.add(3, &reader, IN | EpollEvents::ONESHOT, 1).unwrap();
        assert_eq!(ready(&epoll), [(1, 1)]);
        writer.write(b"y").unwrap();
        assert_eq!(ready(&epoll), []);
        epoll
            .modify(3, &reader, IN | EpollEvents::ONESHOT, 2)
            .unwrap();
        assert_eq!(ready(&epoll), [(2, 1)]);
    }

    #[test]
    fn a_wake_reaches_the_waiter_and_only_ready_items_are_polled() {
        let epoll = Epoll::new();
        let (counter, waker) = CountingWaker::new();
        let cx = Context::from_waker(&waker);
        let pipes: Vec<_> = (0..100).map(|_| pipe()).collect();
        for (fd, (reader, _)) in pipes.iter().enumerate() {
            epoll.add(fd as i32, reader, IN, fd as u64).unwrap();
        }
        assert_eq!(epoll.collect(16, Some(&cx), &mut |_, _| Ok(())), Ok(0));
        assert_eq!(epoll.shared.state.lock().ready.len(), 0);
        pipes[42].1.write(b"!").unwrap();
        assert_eq!(counter.wakes(), 1);
        assert_eq!(epoll.shared.state.lock().ready.len(), 1, "one item queued");
        assert_eq!(ready(&epoll), [(42, 1)]);
    }

    #[test]
    fn errors_of_the_interest_list() {
        let epoll = Epoll::new();
        let (reader, writer) = pipe();
        epoll.add(3, &reader, IN, 0).unwrap();
        assert_eq!(epoll.add(3, &reader, IN, 0), Err(LxError::EEXIST));
        assert_eq!(epoll.modify(4, &writer, IN, 0), Err(LxError::ENOENT));
        assert_eq!(epoll.delete(4, &writer), Err(LxError::ENOENT));
        // The same description under another number is another item.
        epoll.add(5, &reader, IN, 0).unwrap();
        epoll.delete(3, &reader).unwrap();
        assert_eq!(epoll.delete(3, &reader), Err(LxError::ENOENT));
        epoll
            .add(4, &writer, EpollEvents::OUT | EpollEvents::EXCLUSIVE, 9)
            .unwrap();
        assert_eq!(
            epoll.modify(4, &writer, EpollEvents::OUT, 9),
            Err(LxError::EINVAL)
        );
    }

    #[test]
    fn a_released_description_leaves_the_interest_list() {
        let epoll = Epoll::new();
        let (reader, writer) = pipe();
        writer.write(b"x").unwrap();
        epoll.add(3, &reader, IN, 1).unwrap();
        drop(reader);
        assert_eq!(ready(&epoll), []);
        assert_eq!(epoll.len(), 0);
        // Idle ones are swept as the list grows.
        for fd in 0..200 {
            let (reader, _writer) = pipe();
            epoll.add(fd, &reader, IN, 0).unwrap();
        }
        assert!(epoll.len() < 200, "{} items left", epoll.len());
    }

    #[test]
    fn instances_nest_and_loops_are_refused() {
        let outer = Epoll::new();
        let inner = Epoll::new();
        let (outer_file, inner_file): (Arc<dyn FileLike>, Arc<dyn FileLike>) =
            (outer.clone(), inner.clone());
        let (reader, writer) = pipe();
        inner.add(3, &reader, IN, 30).unwrap();
        outer.add(4, &inner_file, IN, 31).unwrap();
        assert_eq!(inner.add(5, &outer_file, IN, 0), Err(LxError::ELOOP));
        let (counter, waker) = CountingWaker::new();
        let cx = Context::from_waker(&waker);
        assert_eq!(outer.collect(4, Some(&cx), &mut |_, _| Ok(())), Ok(0));
        assert_eq!(outer.poll_events(None), PollEvents::empty());
        writer.write(b"z").unwrap();
        assert_eq!(counter.wakes(), 1, "the wake went through both instances");
        assert_eq!(outer.poll_events(None), PollEvents::IN | PollEvents::RDNORM);
        assert_eq!(ready(&outer), [(31, 1)]);
        assert_eq!(ready(&inner), [(30, 1)]);
        // No chain of instances longer than MAX_NESTS links, built from the bottom or from
        // the top (then the depth above counts); a deleted link no longer counts.
        let link = |chain: &[Arc<Epoll>], index: usize| {
            let below: Arc<dyn FileLike> = chain[index + 1].clone();
            chain[index].add(0, &below, IN, 0)
        };
        let chain: Vec<Arc<Epoll>> = (0..8).map(|_| Epoll::new()).collect();
        let eventfd: Arc<dyn FileLike> = EventFd::new(1, false, OpenFlags::empty());
        chain[7].add(0, &eventfd, IN, 0).unwrap();
        let results: Vec<LxResult> = (0..7).rev().map(|index| link(&chain, index)).collect();
        let ok = Ok(());
        let deep = Err(LxError::ELOOP);
        assert_eq!(results, [ok, ok, ok, ok, deep, ok, ok]);
        let chain: Vec<Arc<Epoll>> = (0..8).map(|_| Epoll::new()).collect();
        let results: Vec<LxResult> = (0..7).map(|index| link(&chain, index)).collect();
        assert_eq!(results, [ok, ok, ok, ok, deep, ok, ok]);
        let top = Epoll::new();
        let first: Arc<dyn FileLike> = chain[0].clone();
        assert_eq!(top.add(0, &first, IN, 0), deep);
        let below: Arc<dyn FileLike> = chain[1].clone();
        chain[0].delete(0, &below).unwrap();
        assert_eq!(top.add(0, &first, IN, 0), ok, "nothing below it now");
    }
}
