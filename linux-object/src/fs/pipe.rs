//! [`Pipe`]: the two ends of an anonymous pipe (`pipe2`).
//!
//! The ends share a bounded byte queue. A read on an empty pipe waits until a writer writes
//! or the last write end is closed (then it is end of file); a write to a full pipe waits
//! until a reader makes room; a write with no read end left fails with `EPIPE` (the syscall
//! layer also raises `SIGPIPE`). Waiting is a `Pending` poll whose waker the other side fires:
//! nothing here sleeps or spins.

use super::{FileLike, OpenFlags, PollEvents};
use crate::error::{LxError, LxResult};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::future::poll_fn;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::{Context, Poll, Waker};
use kernel_hal_lkm::sync::Mutex;
use kernel_hostfs::{FileType, INode, Metadata, Timespec};

/// Bytes a pipe holds before writers wait: Linux's default pipe size (16 pages).
pub const PIPE_CAPACITY: usize = 65536;

/// Writes up to this size are atomic (`PIPE_BUF`); `poll` reports a pipe writable once this
/// much room is free, as Linux does once one of its page-sized slots is.
pub const PIPE_BUF: usize = 4096;

/// Inode numbers for pipes, as the kernel's `pipefs` hands them out.
static NEXT_PIPE_INODE: AtomicU64 = AtomicU64::new(1);

/// The state both ends share.
struct Channel {
    inode: u64,
    state: Mutex<ChannelState>,
}

struct ChannelState {
    buffer: VecDeque<u8>,
    /// Room promised to splices that are reading their data from elsewhere (see
    /// [`Reservation`]): no other writer may take it meanwhile.
    reserved: usize,
    readers: usize,
    writers: usize,
    /// How many times a reader and a writer opened a named pipe (Linux's `r_counter` and
    /// `w_counter`): an open that waits for the other side waits for its count to move.
    reader_opens: u64,
    writer_opens: u64,
    /// Opens of a named pipe waiting for the other side.
    open_wakers: Vec<Waker>,
    /// Readers waiting for data or for the last writer to go.
    read_wakers: Vec<Waker>,
    /// Writers waiting for room or for the last reader to go.
    write_wakers: Vec<Waker>,
}

impl ChannelState {
    /// Bytes a writer may put in now.
    fn room(&self) -> usize {
        PIPE_CAPACITY
            .saturating_sub(self.buffer.len())
            .saturating_sub(self.reserved)
    }
}

/// Adds `cx`'s waker to `wakers` unless an equivalent one is already there.
fn register(wakers: &mut Vec<Waker>, cx: &Context<'_>) {
    if !wakers.iter().any(|waker| waker.will_wake(cx.waker())) {
        wakers.push(cx.waker().clone());
    }
}

/// Wakes every waker taken from the shared state (after its lock is released, so a woken
/// task that polls at once does not find it held).
fn wake_all(wakers: Vec<Waker>) {
    wakers.into_iter().for_each(Waker::wake);
}

/// Which end of the pipe a [`Pipe`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Read,
    Write,
    /// A named pipe opened `O_RDWR`: a reader and a writer at once.
    Both,
}

impl End {
    fn reads(self) -> bool {
        self != Self::Write
    }

    fn writes(self) -> bool {
        self != Self::Read
    }
}

/// One end of a pipe: an open file description, shared by `dup` and `fork`, whose drop (when
/// its last descriptor is closed) may wake the other side.
pub struct Pipe {
    channel: Arc<Channel>,
    end: End,
    flags: Mutex<OpenFlags>,
    /// The filesystem node of a named pipe, which `fstat` describes.
    node: Option<Arc<dyn INode>>,
}

impl Pipe {
    /// Creates a pipe and returns its read end and its write end, as `pipe2(flags)`. Only
    /// `O_NONBLOCK` is kept on the descriptions (`O_CLOEXEC` belongs to the fd table).
    pub fn new_pair(flags: OpenFlags) -> (Arc<Self>, Arc<Self>) {
        let channel = Arc::new(Channel {
            inode: NEXT_PIPE_INODE.fetch_add(1, Ordering::Relaxed),
            state: Mutex::new(ChannelState {
                buffer: VecDeque::new(),
                reserved: 0,
                readers: 1,
                writers: 1,
                reader_opens: 0,
                writer_opens: 0,
                open_wakers: Vec::new(),
                read_wakers: Vec::new(),
                write_wakers: Vec::new(),
            }),
        });
        let nonblock = flags & OpenFlags::NONBLOCK;
        let reader = Arc::new(Self {
            channel: channel.clone(),
            end: End::Read,
            flags: Mutex::new(nonblock),
            node: None,
        });
        let writer = Arc::new(Self {
            channel,
            end: End::Write,
            flags: Mutex::new(OpenFlags::WRONLY | nonblock),
            node: None,
        });
        (reader, writer)
    }

    /// How many bytes wait in the pipe (`FIONREAD`).
    pub fn queued(&self) -> usize {
        self.channel.state.lock().buffer.len()
    }

    fn nonblocking(&self) -> bool {
        self.flags().contains(OpenFlags::NONBLOCK)
    }

    /// Takes what is there, or says why there is nothing: `Ok(0)` at end of file, `None` if
    /// a reader has to wait (after registering `cx`, if given).
    fn try_read(&self, cx: Option<&Context<'_>>, buf: &mut [u8]) -> Option<LxResult<usize>> {
        if !self.end.reads() {
            return Some(Err(LxError::EBADF));
        }
        if buf.is_empty() {
            return Some(Ok(0));
        }
        let mut state = self.channel.state.lock();
        if state.buffer.is_empty() {
            if state.writers == 0 {
                return Some(Ok(0));
            }
            if let Some(cx) = cx {
                register(&mut state.read_wakers, cx);
            }
            return None;
        }
        let count = buf.len().min(state.buffer.len());
        for (slot, byte) in buf.iter_mut().zip(state.buffer.drain(..count)) {
            *slot = byte;
        }
        let wakers = core::mem::take(&mut state.write_wakers);
        drop(state);
        wake_all(wakers);
        Some(Ok(count))
    }

    /// Puts in what fits, or says why nothing can go in: `EPIPE` with no reader left, `None`
    /// if the writer has to wait (after registering `cx`, if given).
    fn try_write(&self, cx: Option<&Context<'_>>, buf: &[u8]) -> Option<LxResult<usize>> {
        if !self.end.writes() {
            return Some(Err(LxError::EBADF));
        }
        let mut state = self.channel.state.lock();
        if state.readers == 0 {
            return Some(Err(LxError::EPIPE));
        }
        if buf.is_empty() {
            return Some(Ok(0));
        }
        let room = state.room();
        if room == 0 {
            if let Some(cx) = cx {
                register(&mut state.write_wakers, cx);
            }
            return None;
        }
        let count = room.min(buf.len());
        state.buffer.extend(buf.iter().take(count));
        let wakers = core::mem::take(&mut state.read_wakers);
        drop(state);
        wake_all(wakers);
        Some(Ok(count))
    }
}

impl Pipe {
    /// Whether `other` is an end of the same pipe (a named pipe's opens share one).
    pub fn same_pipe(&self, other: &Pipe) -> bool {
        Arc::ptr_eq(&self.channel, &other.channel)
    }

    /// A splice's wait for data in this pipe (Linux's `ipipe_prep`): `Ok(true)` once there
    /// is some, `Ok(false)` when it is empty with no writer left, `EAGAIN` when it is empty
    /// and `nonblock`; `Pending`, with `cx` registered, otherwise.
    pub fn poll_splice_input(&self, cx: &Context<'_>, nonblock: bool) -> Poll<LxResult<bool>> {
        let mut state = self.channel.state.lock();
        if !state.buffer.is_empty() {
            return Poll::Ready(Ok(true));
        }
        if state.writers == 0 {
            return Poll::Ready(Ok(false));
        }
        if nonblock {
            return Poll::Ready(Err(LxError::EAGAIN));
        }
        register(&mut state.read_wakers, cx);
        Poll::Pending
    }

    /// A splice's wait for room in this pipe (Linux's `wait_for_space`): the room once there
    /// is some; `EPIPE` with no reader left (looked at first), `EAGAIN` when it is full and
    /// `nonblock`; `Pending`, with `cx` registered, otherwise.
    pub fn poll_splice_output(&self, cx: &Context<'_>, nonblock: bool) -> Poll<LxResult<usize>> {
        let mut state = self.channel.state.lock();
        if state.readers == 0 {
            return Poll::Ready(Err(LxError::EPIPE));
        }
        let room = state.room();
        if room > 0 {
            return Poll::Ready(Ok(room));
        }
        if nonblock {
            return Poll::Ready(Err(LxError::EAGAIN));
        }
        register(&mut state.write_wakers, cx);
        Poll::Pending
    }

    /// Moves up to `len` bytes from this pipe into `out` (`splice`), or copies them leaving
    /// this pipe as it is (`tee`, with `keep`), holding both pipes' locks: they are taken in
    /// address order, so two splices between the same pipes in opposite directions cannot
    /// deadlock. `EPIPE` if `out` has no reader; `Some(0)` at the end of the data (empty, no
    /// writer). When this pipe is empty or `out` full (a racing reader or writer came after
    /// the waits), `tee` gives `Some(0)` and `splice` `None`: its caller waits again, as
    /// Linux's `splice_pipe_to_pipe` and `link_pipe` do.
    pub fn transfer_to(&self, out: &Pipe, len: usize, keep: bool) -> LxResult<Option<usize>> {
        if self.same_pipe(out) {
            return Err(LxError::EINVAL);
        }
        if !self.end.reads() || !out.end.writes() {
            return Err(LxError::EBADF);
        }
        let (mut input, mut output) = if Arc::as_ptr(&self.channel) < Arc::as_ptr(&out.channel) {
            let input = self.channel.state.lock();
            (input, out.channel.state.lock())
        } else {
            let output = out.channel.state.lock();
            (self.channel.state.lock(), output)
        };
        if output.readers == 0 {
            return Err(LxError::EPIPE);
        }
        if input.buffer.is_empty() && input.writers == 0 {
            return Ok(Some(0));
        }
        let count = len.min(input.buffer.len()).min(output.room());
        if count == 0 {
            return Ok(if keep { Some(0) } else { None });
        }
        output
            .buffer
            .try_reserve(count)
            .map_err(|_| LxError::ENOMEM)?;
        let mut wakers = core::mem::take(&mut output.read_wakers);
        if keep {
            output.buffer.extend(input.buffer.range(..count));
        } else {
            output.buffer.extend(input.buffer.drain(..count));
            wakers.append(&mut input.write_wakers);
        }
        drop(input);
        drop(output);
        wake_all(wakers);
        Ok(Some(count))
    }

    /// Takes up to `max` bytes out without waiting (none if the pipe is empty), for a splice
    /// to a file or to user memory; what it does not deliver goes back to the front of the
    /// pipe when the [`Taken`] is dropped, as Linux only consumes what was written.
    pub fn take(&self, max: usize) -> LxResult<Taken<'_>> {
        if !self.end.reads() {
            return Err(LxError::EBADF);
        }
        let mut state = self.channel.state.lock();
        let count = max.min(state.buffer.len());
        let mut data = Vec::new();
        data.try_reserve_exact(count).map_err(|_| LxError::ENOMEM)?;
        data.extend(state.buffer.drain(..count));
        let wakers = if count > 0 {
            core::mem::take(&mut state.write_wakers)
        } else {
            Vec::new()
        };
        drop(state);
        wake_all(wakers);
        Ok(Taken {
            pipe: self,
            data,
            delivered: 0,
        })
    }

    /// Promises up to `max` bytes of this pipe's room to a splice that reads its data from
    /// a file or socket, as Linux holds the pipe's lock across that read: other writers see
    /// the room taken. `EPIPE` with no reader left; `None` if the pipe is full.
    pub fn reserve(&self, max: usize) -> LxResult<Option<Reservation>> {
        if !self.end.writes() {
            return Err(LxError::EBADF);
        }
        let mut state = self.channel.state.lock();
        if state.readers == 0 {
            return Err(LxError::EPIPE);
        }
        let len = max.min(state.room());
        if len == 0 {
            return Ok(None);
        }
        state.reserved += len;
        Ok(Some(Reservation {
            channel: self.channel.clone(),
            len,
        }))
    }
}

/// Bytes a splice took out of a pipe (see [`Pipe::take`]).
pub struct Taken<'a> {
    pipe: &'a Pipe,
    data: Vec<u8>,
    delivered: usize,
}

impl Taken<'_> {
    /// The bytes not delivered yet.
    pub fn data(&self) -> &[u8] {
        self.data.get(self.delivered..).unwrap_or_default()
    }

    /// Counts `count` more bytes as delivered: they will not go back.
    pub fn deliver(&mut self, count: usize) {
        self.delivered = self.delivered.saturating_add(count).min(self.data.len());
    }
}

impl Drop for Taken<'_> {
    /// Puts the undelivered bytes back at the front of the pipe, where they were (the pipe
    /// may hold more than its capacity for a moment if writers filled the room meanwhile).
    fn drop(&mut self) {
        let rest = self.data.get(self.delivered..).unwrap_or_default();
        if rest.is_empty() {
            return;
        }
        let mut state = self.pipe.channel.state.lock();
        for byte in rest.iter().rev() {
            state.buffer.push_front(*byte);
        }
        let wakers = core::mem::take(&mut state.read_wakers);
        drop(state);
        wake_all(wakers);
    }
}

/// Room of a pipe promised to one splice (see [`Pipe::reserve`]); dropping it unused gives
/// the room back.
pub struct Reservation {
    channel: Arc<Channel>,
    len: usize,
}

impl Reservation {
    /// How many bytes were promised.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was promised (never, for a reservation [`Pipe::reserve`] made).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Puts `data` (at most [`Reservation::len`] bytes of it) in the promised room and wakes
    /// the readers; returns the count put in.
    pub fn fill(mut self, data: &[u8]) -> LxResult<usize> {
        let data = data.get(..self.len.min(data.len())).unwrap_or_default();
        let mut state = self.channel.state.lock();
        state
            .buffer
            .try_reserve(data.len())
            .map_err(|_| LxError::ENOMEM)?;
        state.reserved = state.reserved.saturating_sub(self.len);
        self.len = 0;
        state.buffer.extend(data.iter());
        let mut wakers = core::mem::take(&mut state.write_wakers);
        if !data.is_empty() {
            wakers.append(&mut state.read_wakers);
        }
        drop(state);
        wake_all(wakers);
        Ok(data.len())
    }
}

impl Drop for Reservation {
    /// The room not filled goes back to the writers.
    fn drop(&mut self) {
        if self.len == 0 {
            return;
        }
        let mut state = self.channel.state.lock();
        state.reserved = state.reserved.saturating_sub(self.len);
        let wakers = core::mem::take(&mut state.write_wakers);
        drop(state);
        wake_all(wakers);
    }
}

/// The named pipes of a container that are open, by the identity (`st_dev`, `st_ino`) of
/// their filesystem node: every open of one node shares one channel while any end is open,
/// as Linux keeps a FIFO's pipe with its inode.
#[derive(Default)]
pub struct FifoTable {
    channels: Mutex<BTreeMap<(u64, u64), Weak<Channel>>>,
}

impl FifoTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The channel of the node `key`, made if none is open.
    fn channel(&self, key: (u64, u64)) -> LxResult<Arc<Channel>> {
        let mut channels = self.channels.lock();
        if let Some(channel) = channels.get(&key).and_then(Weak::upgrade) {
            return Ok(channel);
        }
        // Forget the channels nobody holds any more before adding one.
        channels.retain(|_, channel| channel.strong_count() > 0);
        let channel = Arc::new(Channel {
            inode: key.1,
            state: Mutex::new(ChannelState {
                buffer: VecDeque::new(),
                reserved: 0,
                readers: 0,
                writers: 0,
                reader_opens: 0,
                writer_opens: 0,
                open_wakers: Vec::new(),
                read_wakers: Vec::new(),
                write_wakers: Vec::new(),
            }),
        });
        channels.insert(key, Arc::downgrade(&channel));
        Ok(channel)
    }

    /// Opens the named pipe `node` with `flags` if that need not wait (`None` if it must:
    /// nothing is changed then). See [`FifoTable::open`].
    pub fn open_now(&self, node: Arc<dyn INode>, flags: OpenFlags) -> LxResult<Option<Arc<Pipe>>> {
        let metadata = node.metadata()?;
        let channel = self.channel((metadata.dev, metadata.inode))?;
        let end = end_for(flags);
        let nonblock = flags.contains(OpenFlags::NONBLOCK);
        {
            let state = channel.state.lock();
            let waits = match end {
                End::Read => !nonblock && state.writers == 0,
                End::Write => !nonblock && state.readers == 0,
                End::Both => false,
            };
            if waits {
                return Ok(None);
            }
        }
        let (pipe, _) = begin_open(&channel, node, flags)?;
        Ok(Some(pipe))
    }

    /// Opens the named pipe `node` with `flags`, as Linux's `fifo_open`: a reader waits for
    /// a writer and a writer for a reader unless `O_NONBLOCK` (a writer then gets `ENXIO`
    /// while there is no reader); `O_RDWR` never waits. A wait ended by a signal (the future
    /// dropped) undoes the open.
    pub async fn open(&self, node: Arc<dyn INode>, flags: OpenFlags) -> LxResult<Arc<Pipe>> {
        let metadata = node.metadata()?;
        let channel = self.channel((metadata.dev, metadata.inode))?;
        let (pipe, waits_for) = begin_open(&channel, node, flags)?;
        if let Some((other, seen)) = waits_for {
            poll_fn(|cx| {
                let mut state = channel.state.lock();
                let opens = match other {
                    End::Write => state.writer_opens,
                    _ => state.reader_opens,
                };
                if opens != seen {
                    Poll::Ready(())
                } else {
                    register(&mut state.open_wakers, cx);
                    Poll::Pending
                }
            })
            .await;
        }
        Ok(pipe)
    }
}

/// The end an open of a named pipe with `flags` is.
fn end_for(flags: OpenFlags) -> End {
    match (flags.readable(), flags.writable()) {
        (true, true) => End::Both,
        (false, true) => End::Write,
        _ => End::Read,
    }
}

/// The side an open of a named pipe waits for, and that side's open count when it began.
type AwaitedOpen = Option<(End, u64)>;

/// Counts an open of `channel` with `flags` in and makes its description; with the side it
/// must wait for if it must.
fn begin_open(
    channel: &Arc<Channel>,
    node: Arc<dyn INode>,
    flags: OpenFlags,
) -> LxResult<(Arc<Pipe>, AwaitedOpen)> {
    let nonblock = flags.contains(OpenFlags::NONBLOCK);
    let end = end_for(flags);
    let mut state = channel.state.lock();
    if end == End::Write && nonblock && state.readers == 0 {
        return Err(LxError::ENXIO);
    }
    if end.reads() {
        state.readers += 1;
        state.reader_opens += 1;
    }
    if end.writes() {
        state.writers += 1;
        state.writer_opens += 1;
    }
    let waits_for = match end {
        End::Read if !nonblock && state.writers == 0 => Some((End::Write, state.writer_opens)),
        End::Write if state.readers == 0 => Some((End::Read, state.reader_opens)),
        _ => None,
    };
    let wakers = core::mem::take(&mut state.open_wakers);
    drop(state);
    wake_all(wakers);
    let kept = flags & (OpenFlags::SETTABLE | OpenFlags::WRONLY | OpenFlags::RDWR);
    let pipe = Arc::new(Pipe {
        channel: channel.clone(),
        end,
        flags: Mutex::new(kept),
        node: Some(node),
    });
    Ok((pipe, waits_for))
}

impl FileLike for Pipe {
    fn read(&self, buf: &mut [u8]) -> LxResult<usize> {
        self.try_read(None, buf).unwrap_or(Err(LxError::EAGAIN))
    }

    fn write(&self, buf: &[u8]) -> LxResult<usize> {
        self.try_write(None, buf).unwrap_or(Err(LxError::EAGAIN))
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<LxResult<usize>> {
        if self.nonblocking() {
            return Poll::Ready(self.read(buf));
        }
        self.try_read(Some(cx), buf)
            .map_or(Poll::Pending, Poll::Ready)
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<LxResult<usize>> {
        if self.nonblocking() {
            return Poll::Ready(self.write(buf));
        }
        self.try_write(Some(cx), buf)
            .map_or(Poll::Pending, Poll::Ready)
    }

    /// As Linux's `pipe_poll`: the read end is readable with data buffered and hung up with
    /// no writer left; the write end is writable with [`PIPE_BUF`] bytes of room and in
    /// error with no reader left. The waker waits with this end's readers or writers.
    fn poll_events(&self, cx: Option<&Context<'_>>) -> PollEvents {
        let mut state = self.channel.state.lock();
        let mut events = PollEvents::empty();
        if self.end.reads() {
            if let Some(cx) = cx {
                register(&mut state.read_wakers, cx);
            }
            if !state.buffer.is_empty() {
                events |= PollEvents::IN | PollEvents::RDNORM;
            }
            if state.writers == 0 {
                events |= PollEvents::HUP;
            }
        }
        if self.end.writes() {
            if let Some(cx) = cx {
                register(&mut state.write_wakers, cx);
            }
            if state.room() >= PIPE_BUF {
                events |= PollEvents::OUT | PollEvents::WRNORM;
            }
            if state.readers == 0 {
                events |= PollEvents::ERR;
            }
        }
        events
    }

    fn metadata(&self) -> LxResult<Metadata> {
        if let Some(node) = &self.node {
            return Ok(node.metadata()?);
        }
        Ok(Metadata {
            dev: 0,
            inode: self.channel.inode,
            // Linux's pipefs inodes keep size 0 whatever is buffered (FIONREAD tells that).
            size: 0,
            blk_size: 4096,
            blocks: 0,
            type_: FileType::NamedPipe,
            mode: 0o600,
            nlinks: 1,
            uid: 0,
            gid: 0,
            rdev: 0,
            atime: Timespec::default(),
            mtime: Timespec::default(),
            ctime: Timespec::default(),
        })
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

impl Drop for Pipe {
    /// The last descriptor of this end is gone: wake the other side so it sees end of file
    /// (readers) or `EPIPE` (writers).
    fn drop(&mut self) {
        let mut state = self.channel.state.lock();
        let mut wakers = Vec::new();
        if self.end.reads() {
            state.readers = state.readers.saturating_sub(1);
            wakers.append(&mut state.write_wakers);
        }
        if self.end.writes() {
            state.writers = state.writers.saturating_sub(1);
            wakers.append(&mut state.read_wakers);
        }
        drop(state);
        wake_all(wakers);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::{read_file, write_file};
    use crate::test_executor::{block_on, poll_once, CountingWaker};
    use std::pin::pin;
    use std::thread;

    #[test]
    fn fstat_of_a_pipe_is_a_fifo_of_size_zero_whatever_is_buffered() {
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        writer.write(b"buffered").unwrap();
        let metadata = reader.metadata().unwrap();
        assert_eq!((metadata.type_, metadata.size), (FileType::NamedPipe, 0));
        assert_eq!(writer.metadata().unwrap().inode, metadata.inode);
    }

    #[test]
    fn a_read_on_an_empty_pipe_is_pending_until_a_writer_wakes_it() {
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        let (counter, waker) = CountingWaker::new();
        let mut buf = [0; 8];
        {
            let mut read = pin!(read_file(&*reader, &mut buf));
            assert!(poll_once(read.as_mut(), &waker).is_pending());
            assert!(poll_once(read.as_mut(), &waker).is_pending());
            assert_eq!(counter.wakes(), 0);
            assert_eq!(writer.write(b"hi"), Ok(2));
            assert_eq!(counter.wakes(), 1, "one waker, registered once");
            assert_eq!(poll_once(read.as_mut(), &waker), Poll::Ready(Ok(2)));
        }
        assert_eq!(&buf[..2], b"hi");
    }

    #[test]
    fn closing_the_last_writer_wakes_the_reader_with_end_of_file() {
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        let second_writer = writer.clone(); // a dup: the same description
        let (counter, waker) = CountingWaker::new();
        let mut buf = [0; 8];
        let mut read = pin!(read_file(&*reader, &mut buf));
        assert!(poll_once(read.as_mut(), &waker).is_pending());
        drop(writer);
        assert_eq!(counter.wakes(), 0, "a dup still holds the write end");
        drop(second_writer);
        assert_eq!(counter.wakes(), 1);
        assert_eq!(poll_once(read.as_mut(), &waker), Poll::Ready(Ok(0)));
    }

    #[test]
    fn data_written_before_the_writer_closes_is_read_before_end_of_file() {
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        assert_eq!(block_on(write_file(&*writer, b"last words")), Ok(10));
        drop(writer);
        let mut buf = [0; 4];
        assert_eq!(reader.read(&mut buf), Ok(4));
        assert_eq!(reader.read(&mut [0; 64]), Ok(6));
        assert_eq!(reader.read(&mut buf), Ok(0));
    }

    #[test]
    fn writing_with_no_reader_left_is_epipe_even_for_a_waiting_writer() {
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        let full = vec![7u8; PIPE_CAPACITY];
        assert_eq!(writer.write(&full), Ok(PIPE_CAPACITY));
        let (counter, waker) = CountingWaker::new();
        let mut write = pin!(write_file(&*writer, b"more"));
        assert!(poll_once(write.as_mut(), &waker).is_pending());
        drop(reader);
        assert_eq!(counter.wakes(), 1);
        assert_eq!(
            poll_once(write.as_mut(), &waker),
            Poll::Ready(Err(LxError::EPIPE))
        );
        assert_eq!(writer.write(b""), Err(LxError::EPIPE));
    }

    #[test]
    fn a_full_pipe_makes_the_writer_wait_for_room() {
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        let data: Vec<u8> = (0..PIPE_CAPACITY + 100).map(|i| i as u8).collect();
        let (counter, waker) = CountingWaker::new();
        let mut write = pin!(write_file(&*writer, &data));
        assert!(poll_once(write.as_mut(), &waker).is_pending());
        let mut head = vec![0; 1000];
        assert_eq!(reader.read(&mut head), Ok(1000));
        assert_eq!(counter.wakes(), 1);
        assert_eq!(
            poll_once(write.as_mut(), &waker),
            Poll::Ready(Ok(data.len()))
        );
        assert_eq!(head[..], data[..1000]);
    }

    #[test]
    fn nonblocking_ends_give_eagain_instead_of_waiting() {
        let (reader, writer) = Pipe::new_pair(OpenFlags::NONBLOCK);
        assert_eq!(
            block_on(read_file(&*reader, &mut [0; 4])),
            Err(LxError::EAGAIN)
        );
        assert_eq!(writer.write(&vec![0; PIPE_CAPACITY + 1]), Ok(PIPE_CAPACITY));
        assert_eq!(block_on(write_file(&*writer, b"x")), Err(LxError::EAGAIN));
        reader.set_flags(OpenFlags::empty());
        assert_eq!(reader.flags(), OpenFlags::empty());
        assert_eq!(writer.flags(), OpenFlags::WRONLY | OpenFlags::NONBLOCK);
    }

    #[test]
    fn each_end_refuses_the_other_direction_with_ebadf() {
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        assert_eq!(reader.write(b"x"), Err(LxError::EBADF));
        assert_eq!(writer.read(&mut [0; 1]), Err(LxError::EBADF));
        assert_eq!(
            reader.seek(crate::fs::SeekFrom::Start(0)),
            Err(LxError::ESPIPE)
        );
        assert_eq!(writer.read_at(0, &mut [0; 1]), Err(LxError::ESPIPE));
        let stat = reader.metadata().unwrap();
        assert_eq!(stat.type_, FileType::NamedPipe);
        assert_eq!(stat.inode, writer.metadata().unwrap().inode);
    }

    #[test]
    fn poll_events_follow_data_room_and_the_other_end() {
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        assert_eq!(reader.poll_events(None), PollEvents::empty());
        assert_eq!(
            writer.poll_events(None),
            PollEvents::OUT | PollEvents::WRNORM
        );
        let (counter, waker) = CountingWaker::new();
        let cx = Context::from_waker(&waker);
        assert!(reader.poll_events(Some(&cx)).is_empty());
        writer.write(b"x").unwrap();
        assert_eq!(counter.wakes(), 1, "the waiting poll is woken by data");
        assert_eq!(
            reader.poll_events(None),
            PollEvents::IN | PollEvents::RDNORM
        );
        // Full but for less than PIPE_BUF: not writable; a read making room wakes a poller.
        writer.write(&vec![0; PIPE_CAPACITY - PIPE_BUF]).unwrap();
        assert!(writer.poll_events(Some(&cx)).is_empty());
        reader.read(&mut [0; 1]).unwrap();
        assert_eq!(counter.wakes(), 2);
        assert_eq!(
            writer.poll_events(None),
            PollEvents::OUT | PollEvents::WRNORM
        );
        drop(writer);
        assert_eq!(
            reader.poll_events(None),
            PollEvents::IN | PollEvents::RDNORM | PollEvents::HUP
        );
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        assert!(reader.poll_events(Some(&cx)).is_empty());
        drop(writer);
        assert_eq!(counter.wakes(), 3, "the last writer's close wakes it");
        assert_eq!(reader.poll_events(None), PollEvents::HUP);
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        drop(reader);
        assert_eq!(
            writer.poll_events(None),
            PollEvents::OUT | PollEvents::WRNORM | PollEvents::ERR
        );
    }

    #[test]
    fn a_reader_thread_sleeps_until_another_thread_writes() {
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        let consumer = thread::spawn(move || {
            let mut got = Vec::new();
            let mut buf = [0; 3];
            loop {
                match block_on(read_file(&*reader, &mut buf)) {
                    Ok(0) => return got,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(error) => panic!("read failed: {error}"),
                }
            }
        });
        for chunk in [&b"hello "[..], b"from ", b"another thread"] {
            assert_eq!(block_on(write_file(&*writer, chunk)), Ok(chunk.len()));
            thread::yield_now();
        }
        drop(writer);
        assert_eq!(consumer.join().unwrap(), b"hello from another thread");
    }

    #[test]
    fn a_reservation_holds_room_until_filled_or_dropped() {
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        writer.write(&vec![0; PIPE_CAPACITY - 10]).unwrap();
        let reservation = writer.reserve(100).unwrap().unwrap();
        assert_eq!(reservation.len(), 10);
        assert_eq!(
            writer.write(b"x"),
            Err(LxError::EAGAIN),
            "the room is promised"
        );
        assert!(writer.reserve(1).unwrap().is_none());
        assert_eq!(reservation.fill(b"0123"), Ok(4));
        assert_eq!(writer.write(b"0123456789"), Ok(6), "the rest came back");
        let reservation = writer.reserve(1);
        assert!(matches!(reservation, Ok(None)));
        reader.read(&mut vec![0; PIPE_CAPACITY - 10]).unwrap();
        let reservation = writer.reserve(3).unwrap().unwrap();
        drop(reservation);
        assert_eq!(
            writer.write(&vec![1; PIPE_CAPACITY]),
            Ok(PIPE_CAPACITY - 10)
        );
        drop(reader);
        assert!(matches!(writer.reserve(1), Err(LxError::EPIPE)));
    }

    #[test]
    fn taken_bytes_not_delivered_go_back_to_the_front() {
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        writer.write(b"abcdef").unwrap();
        {
            let mut taken = reader.take(4).unwrap();
            assert_eq!(taken.data(), b"abcd");
            taken.deliver(1);
            assert_eq!(taken.data(), b"bcd");
            writer.write(b"g").unwrap();
        }
        let mut buf = [0; 8];
        assert_eq!(reader.read(&mut buf), Ok(6));
        assert_eq!(&buf[..6], b"bcdefg");
    }

    #[test]
    fn transfers_lock_both_pipes_in_either_direction() {
        let (a_reader, a_writer) = Pipe::new_pair(OpenFlags::empty());
        let (b_reader, b_writer) = Pipe::new_pair(OpenFlags::empty());
        a_writer.write(&[1; 1000]).unwrap();
        b_writer.write(&[2; 1000]).unwrap();
        let there = {
            let (a_reader, b_writer) = (a_reader.clone(), b_writer.clone());
            thread::spawn(move || {
                for _ in 0..2000 {
                    a_reader.transfer_to(&b_writer, 7, true).unwrap();
                }
            })
        };
        for _ in 0..2000 {
            b_reader.transfer_to(&a_writer, 7, true).unwrap();
        }
        there.join().unwrap();
        assert!(a_reader.queued() >= 1000 && b_reader.queued() >= 1000);
        assert_eq!(
            a_reader.transfer_to(&a_writer, 1, false),
            Err(LxError::EINVAL)
        );
        assert_eq!(
            a_writer.transfer_to(&b_writer, 1, false),
            Err(LxError::EBADF)
        );
    }
}
