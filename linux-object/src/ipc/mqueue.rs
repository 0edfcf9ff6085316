//! POSIX message queues, Linux's `ipc/mqueue.c`: [`MqNamespace`] (a container's queue names,
//! as its own `mqueue` filesystem instance would hold them), [`MessageQueue`] and the
//! descriptor [`MqFile`] (`mq_open`'s), which polls readable while a message waits and
//! writable while there is room, so `poll`, `select` and epoll work on it.
//!
//! Messages are taken highest priority first, oldest first within a priority. A queue's
//! memory is charged to its creator's user id against `RLIMIT_MSGQUEUE`'s default (819200
//! bytes) as Linux computes it, and given back when the queue goes (unlinked and closed).

use super::now_seconds;
use crate::container::Pid;
use crate::credentials::Credentials;
use crate::error::{LxError, LxResult};
use crate::fs::{FileLike, OpenFlags, PollEvents, Waiters};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::task::{Context, Poll};
use kernel_hal_lkm::sync::Mutex;
use kernel_hostfs::{FileType, Metadata, Timespec};

/// `MQ_PRIO_MAX`: priorities are below it.
pub const MQ_PRIO_MAX: u32 = 32768;
/// `msg_default`, `msg_max`: a new queue's messages, and the most an unprivileged creator
/// may ask for.
pub const MSG_DEFAULT: usize = 10;
/// `msgsize_default`, `msgsize_max`.
pub const MSGSIZE_DEFAULT: usize = 8192;
/// `HARD_MSGMAX`, `HARD_MSGSIZEMAX`: the ceilings with `CAP_SYS_RESOURCE`.
pub const HARD_MSGMAX: usize = 65536;
/// See [`HARD_MSGMAX`].
pub const HARD_MSGSIZEMAX: usize = 16 * 1024 * 1024;
/// `queues_max`: queues in a namespace without `CAP_SYS_RESOURCE`.
pub const QUEUES_MAX: usize = 256;
/// `RLIMIT_MSGQUEUE`'s default: bytes of queues one user may have.
pub const RLIMIT_MSGQUEUE: usize = 819_200;
/// `NAME_MAX`.
const NAME_MAX: usize = 255;
/// `sizeof(struct msg_msg)` and `sizeof(struct posix_msg_tree_node)` on x86-64, which Linux
/// charges per message.
const MSG_OVERHEAD: usize = 48;
const TREE_NODE: usize = 48;

/// A queue's sizes (`mq_maxmsg`, `mq_msgsize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MqAttr {
    /// Messages at most.
    pub maxmsg: usize,
    /// Bytes of one message at most.
    pub msgsize: usize,
}

/// How a queue's registered process is told of a message arriving in it empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notify {
    /// Nothing is sent (`SIGEV_NONE`): the registration just ends.
    Nothing,
    /// A signal (`SIGEV_SIGNAL`; 0 sends none) with this value.
    Signal {
        /// The signal.
        signal: u32,
        /// `sigev_value`.
        value: u64,
    },
}

/// A registration of `mq_notify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registration {
    /// The process registered.
    pub pid: Pid,
    /// What it gets.
    pub notify: Notify,
}

/// What bytes and how many queues each user has.
#[derive(Default)]
struct Accounts {
    queues: usize,
    bytes: BTreeMap<u32, usize>,
}

/// A container's POSIX message queues by name.
pub struct MqNamespace {
    names: Mutex<BTreeMap<Vec<u8>, Arc<MessageQueue>>>,
    accounts: Arc<Mutex<Accounts>>,
}

impl Default for MqNamespace {
    fn default() -> Self {
        Self::new()
    }
}

/// What `mq_open` asks for when the name is free and `O_CREAT` is given.
pub struct Create {
    /// The mode, the umask applied.
    pub mode: u32,
    /// The sizes (`None`: the defaults).
    pub attr: Option<MqAttr>,
    /// `O_EXCL`.
    pub exclusive: bool,
}

/// Checks a name as Linux's `getname` and `lookup_one_len` do (the caller took glibc's
/// leading `/` off): `ENOENT` for an empty name, `EACCES` for `.`, `..` or one with a `/`,
/// `ENAMETOOLONG` past `NAME_MAX`.
fn check_name(name: &[u8]) -> LxResult {
    if name.is_empty() {
        return Err(LxError::ENOENT);
    }
    if name == b"." || name == b".." || name.contains(&b'/') {
        return Err(LxError::EACCES);
    }
    if name.len() > NAME_MAX {
        return Err(LxError::ENAMETOOLONG);
    }
    Ok(())
}

/// `mq_attr_ok`: `EINVAL` for sizes not positive or above the limits (the hard ones with
/// `CAP_SYS_RESOURCE`), `EOVERFLOW` if their product overflows.
fn check_attr(attr: &MqAttr, capable: bool) -> LxResult {
    if attr.maxmsg == 0 || attr.msgsize == 0 {
        return Err(LxError::EINVAL);
    }
    let (maxmsg, msgsize) = if capable {
        (HARD_MSGMAX, HARD_MSGSIZEMAX)
    } else {
        (MSG_DEFAULT, MSGSIZE_DEFAULT)
    };
    if attr.maxmsg > maxmsg || attr.msgsize > msgsize {
        return Err(LxError::EINVAL);
    }
    charge_of(attr).map(drop).ok_or(LxError::EOVERFLOW)
}

/// The bytes Linux charges for a queue (`mq_treesize` plus the messages' room).
fn charge_of(attr: &MqAttr) -> Option<usize> {
    let tree = attr.maxmsg.checked_mul(MSG_OVERHEAD)?.checked_add(
        attr.maxmsg
            .min(MQ_PRIO_MAX as usize)
            .checked_mul(TREE_NODE)?,
    )?;
    attr.maxmsg.checked_mul(attr.msgsize)?.checked_add(tree)
}

impl MqNamespace {
    /// No queue.
    pub fn new() -> Self {
        Self {
            names: Mutex::new(BTreeMap::new()),
            accounts: Arc::new(Mutex::new(Accounts::default())),
        }
    }

    /// `mq_open`'s lookup of `name` for `creds` (`capable`: `CAP_SYS_RESOURCE`), as Linux's
    /// `prepare_open`: a free name is `ENOENT` without `create`, else a new queue (`EINVAL`,
    /// `EOVERFLOW` for bad sizes, `ENOSPC` past `QUEUES_MAX` unless capable, `EMFILE` past the
    /// creator's `RLIMIT_MSGQUEUE`); a taken one is `EEXIST` with `O_EXCL`, `EINVAL` for the
    /// access mode 3, `EACCES` unless the mode grants `access`.
    pub fn open(
        &self,
        name: &[u8],
        create: Option<Create>,
        access: OpenFlags,
        creds: &Credentials,
        capable: bool,
    ) -> LxResult<Arc<MessageQueue>> {
        check_name(name)?;
        let mut names = self.names.lock();
        if let Some(queue) = names.get(name) {
            if create.as_ref().is_some_and(|create| create.exclusive) {
                return Err(LxError::EEXIST);
            }
            let bits = access.bits() & 3;
            if bits == 3 {
                return Err(LxError::EINVAL);
            }
            let wanted = match bits {
                0 => crate::credentials::Access::READ,
                1 => crate::credentials::Access::WRITE,
                _ => crate::credentials::Access::READ | crate::credentials::Access::WRITE,
            };
            creds.permission(&queue.metadata_now(), wanted)?;
            return Ok(queue.clone());
        }
        let Some(create) = create else {
            return Err(LxError::ENOENT);
        };
        let attr = create.attr.unwrap_or(MqAttr {
            maxmsg: MSG_DEFAULT,
            msgsize: MSGSIZE_DEFAULT,
        });
        if create.attr.is_some() {
            check_attr(&attr, capable)?;
        }
        let charge = charge_of(&attr).ok_or(LxError::EOVERFLOW)?;
        {
            let mut accounts = self.accounts.lock();
            if accounts.queues >= QUEUES_MAX && !capable {
                return Err(LxError::ENOSPC);
            }
            let used = accounts.bytes.get(&creds.uid).copied().unwrap_or(0);
            if used
                .checked_add(charge)
                .is_none_or(|total| total > RLIMIT_MSGQUEUE)
            {
                return Err(LxError::EMFILE);
            }
            accounts.queues += 1;
            accounts.bytes.insert(creds.uid, used + charge);
        }
        let mut key = Vec::new();
        key.try_reserve_exact(name.len())
            .map_err(|_| LxError::ENOMEM)?;
        key.extend_from_slice(name);
        let now = now_seconds();
        let queue = Arc::new(MessageQueue {
            attr,
            charged: (creds.uid, charge),
            accounts: self.accounts.clone(),
            state: Mutex::new(State {
                messages: Vec::new(),
                bytes: 0,
                mode: create.mode & 0o777,
                uid: creds.fsuid,
                gid: creds.fsgid,
                senders: Waiters::new(),
                receivers: Waiters::new(),
                blocked_receivers: 0,
                registration: None,
                times: (now, now),
            }),
        });
        names.insert(key, queue.clone());
        Ok(queue)
    }

    /// `mq_unlink`: the name goes (the queue lives on while descriptors of it are open);
    /// `ENOENT` if it names nothing, `EPERM` for another user's queue without `CAP_FOWNER`
    /// (the `mqueue` directory is sticky).
    pub fn unlink(&self, name: &[u8], creds: &Credentials) -> LxResult {
        check_name(name)?;
        let mut names = self.names.lock();
        let queue = names.get(name).ok_or(LxError::ENOENT)?;
        if creds.fsuid != queue.state.lock().uid && !creds.fs_privileged() {
            return Err(LxError::EPERM);
        }
        names.remove(name);
        Ok(())
    }

    /// Process `pid` is gone: its registrations end, as its descriptors' closing ends them.
    pub fn process_exited(&self, pid: Pid) {
        for queue in self.names.lock().values() {
            queue.unregister(pid);
        }
    }
}

struct State {
    /// By priority, highest first; oldest first within one.
    messages: Vec<(u32, Vec<u8>)>,
    /// Bytes of the messages (what `QSIZE` shows).
    bytes: usize,
    mode: u32,
    uid: u32,
    gid: u32,
    senders: Waiters,
    receivers: Waiters,
    /// Receivers blocked in `mq_timedreceive` (not pollers): a send while one waits notifies
    /// nobody, as Linux hands the message to the waiter.
    blocked_receivers: usize,
    registration: Option<Registration>,
    /// Last access and change (realtime seconds), as the queue's inode keeps them.
    times: (i64, i64),
}

/// A POSIX message queue.
pub struct MessageQueue {
    attr: MqAttr,
    /// Whose account it is charged to, and how much.
    charged: (u32, usize),
    accounts: Arc<Mutex<Accounts>>,
    state: Mutex<State>,
}

impl Drop for MessageQueue {
    fn drop(&mut self) {
        let mut accounts = self.accounts.lock();
        accounts.queues = accounts.queues.saturating_sub(1);
        let (uid, charge) = self.charged;
        if let Some(bytes) = accounts.bytes.get_mut(&uid) {
            *bytes = bytes.saturating_sub(charge);
        }
    }
}

impl MessageQueue {
    /// Its sizes.
    pub fn attr(&self) -> MqAttr {
        self.attr
    }

    /// Messages in it now.
    pub fn len(&self) -> usize {
        self.state.lock().messages.len()
    }

    /// Whether it has no message.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What its inode's `stat` shows.
    fn metadata_now(&self) -> Metadata {
        let state = self.state.lock();
        let (atime, ctime) = state.times;
        let time = |sec: i64| Timespec { sec, nsec: 0 };
        Metadata {
            dev: 0,
            inode: 0,
            size: state.bytes as u64,
            blk_size: 4096,
            blocks: 0,
            type_: FileType::File,
            mode: state.mode as u16,
            nlinks: 1,
            uid: state.uid,
            gid: state.gid,
            rdev: 0,
            atime: time(atime),
            mtime: time(atime),
            ctime: time(ctime),
        }
    }

    /// One try of a send of `message` at `priority` (the caller checked the size and the
    /// priority): `Pending` (with `cx`, if given, woken by the next receive) while the queue
    /// is full.
    /// Returns the registration to notify if the message made the queue non-empty and nobody
    /// was waiting to receive (Linux's `__do_notify`), which ends it.
    pub fn poll_send(
        &self,
        message: &mut Option<Vec<u8>>,
        priority: u32,
        cx: Option<&Context<'_>>,
    ) -> Poll<LxResult<Option<Registration>>> {
        let mut state = self.state.lock();
        if state.messages.len() >= self.attr.maxmsg {
            if let Some(cx) = cx {
                state.senders.register(cx);
            }
            return Poll::Pending;
        }
        if state.messages.try_reserve(1).is_err() {
            return Poll::Ready(Err(LxError::ENOMEM));
        }
        let Some(text) = message.take() else {
            return Poll::Ready(Err(LxError::EINVAL));
        };
        let at = state
            .messages
            .iter()
            .position(|(kept, _)| *kept < priority)
            .unwrap_or(state.messages.len());
        state.bytes += text.len();
        state.messages.insert(at, (priority, text));
        let now = now_seconds();
        state.times = (now, now);
        let notify = if state.messages.len() == 1 && state.blocked_receivers == 0 {
            state.registration.take()
        } else {
            None
        };
        let woken = state.receivers.take();
        drop(state);
        woken.wake();
        Poll::Ready(Ok(notify))
    }

    /// One try of a receive: the first message and its priority, or `Pending` (with `cx`, if
    /// given, woken by the next send) while the queue is empty.
    pub fn poll_receive(&self, cx: Option<&Context<'_>>) -> Poll<LxResult<(Vec<u8>, u32)>> {
        let mut state = self.state.lock();
        if state.messages.is_empty() {
            if let Some(cx) = cx {
                state.receivers.register(cx);
            }
            return Poll::Pending;
        }
        let (priority, text) = state.messages.remove(0);
        state.bytes -= text.len();
        let now = now_seconds();
        state.times = (now, now);
        let woken = state.senders.take();
        drop(state);
        woken.wake();
        Poll::Ready(Ok((text, priority)))
    }

    /// A receiver blocks until the guard goes (see [`State`]'s `blocked_receivers`).
    pub fn blocked_receiver(self: &Arc<Self>) -> BlockedReceiver {
        self.state.lock().blocked_receivers += 1;
        BlockedReceiver(self.clone())
    }

    /// `mq_notify` by process `pid`: `None` removes its registration (nothing if another
    /// process is registered), `Some` registers it (`EBUSY` if one is).
    pub fn register(&self, pid: Pid, notify: Option<Notify>) -> LxResult {
        let mut state = self.state.lock();
        match notify {
            None => {
                if state.registration.is_some_and(|r| r.pid == pid) {
                    state.registration = None;
                }
            }
            Some(_) if state.registration.is_some() => return Err(LxError::EBUSY),
            Some(notify) => state.registration = Some(Registration { pid, notify }),
        }
        state.times.0 = now_seconds();
        state.times.1 = state.times.0;
        Ok(())
    }

    /// Ends process `pid`'s registration, if it has one.
    fn unregister(&self, pid: Pid) {
        let mut state = self.state.lock();
        if state.registration.is_some_and(|r| r.pid == pid) {
            state.registration = None;
        }
    }

    /// What reading a descriptor shows (Linux's `mqueue_read_file`).
    fn describe(&self) -> Vec<u8> {
        let state = self.state.lock();
        let (notify, signal, pid) = match state.registration {
            None => (0, 0, 0),
            Some(Registration {
                pid,
                notify: Notify::Nothing,
            }) => (1, 0, pid),
            Some(Registration {
                pid,
                notify: Notify::Signal { signal, .. },
            }) => (0, signal, pid),
        };
        format!(
            "QSIZE:{:<10} NOTIFY:{:<5} SIGNO:{:<5} NOTIFY_PID:{:<6}\n",
            state.bytes, notify, signal, pid
        )
        .into_bytes()
    }
}

/// A receiver blocked on a queue, while it lives.
pub struct BlockedReceiver(Arc<MessageQueue>);

impl Drop for BlockedReceiver {
    fn drop(&mut self) {
        let mut state = self.0.state.lock();
        state.blocked_receivers = state.blocked_receivers.saturating_sub(1);
    }
}

/// A descriptor of a message queue (`mq_open`'s): its access mode and `O_NONBLOCK`.
pub struct MqFile {
    queue: Arc<MessageQueue>,
    flags: Mutex<OpenFlags>,
    /// Where reading the description is.
    position: Mutex<usize>,
}

impl MqFile {
    /// A descriptor of `queue` opened with `flags` (access mode, `O_NONBLOCK`).
    pub fn new(queue: Arc<MessageQueue>, flags: OpenFlags) -> Arc<Self> {
        Arc::new(Self {
            queue,
            flags: Mutex::new(flags & (OpenFlags::NONBLOCK | OpenFlags::from_bits_retain(3))),
            position: Mutex::new(0),
        })
    }

    /// Its queue.
    pub fn queue(&self) -> &Arc<MessageQueue> {
        &self.queue
    }
}

impl FileLike for MqFile {
    fn read(&self, buf: &mut [u8]) -> LxResult<usize> {
        if !self.flags().readable() {
            return Err(LxError::EBADF);
        }
        let text = self.queue.describe();
        let mut position = self.position.lock();
        let rest = text.get(*position..).unwrap_or_default();
        let count = rest.len().min(buf.len());
        buf.get_mut(..count)
            .ok_or(LxError::EFAULT)?
            .copy_from_slice(rest.get(..count).unwrap_or_default());
        *position += count;
        Ok(count)
    }

    fn write(&self, _buf: &[u8]) -> LxResult<usize> {
        // A queue's file has no write operation.
        Err(LxError::EINVAL)
    }

    /// As Linux's `mqueue_poll_file`: `IN` with a message, `OUT` with room.
    fn poll_events(&self, cx: Option<&Context<'_>>) -> PollEvents {
        let mut state = self.queue.state.lock();
        if let Some(cx) = cx {
            state.receivers.register(cx);
            state.senders.register(cx);
        }
        let mut events = PollEvents::empty();
        if !state.messages.is_empty() {
            events |= PollEvents::IN | PollEvents::RDNORM;
        }
        if state.messages.len() < self.queue.attr.maxmsg {
            events |= PollEvents::OUT | PollEvents::WRNORM;
        }
        events
    }

    fn metadata(&self) -> LxResult<Metadata> {
        Ok(self.queue.metadata_now())
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

    fn create(attr: Option<MqAttr>) -> Option<Create> {
        Some(Create {
            mode: 0o600,
            attr,
            exclusive: false,
        })
    }

    #[test]
    fn priorities_then_age_and_limits() {
        let ns = MqNamespace::new();
        let root = Credentials::default();
        let attr = MqAttr {
            maxmsg: 3,
            msgsize: 16,
        };
        let queue = ns
            .open(b"q", create(Some(attr)), OpenFlags::RDWR, &root, true)
            .unwrap();
        for (text, priority) in [(b"a", 1), (b"b", 5), (b"c", 1)] {
            let mut message = Some(text.to_vec());
            assert!(queue.poll_send(&mut message, priority, None).is_ready());
        }
        let mut extra = Some(b"d".to_vec());
        assert_eq!(queue.poll_send(&mut extra, 0, None), Poll::Pending);
        let order: Vec<(Vec<u8>, u32)> = (0..3)
            .filter_map(|_| match queue.poll_receive(None) {
                Poll::Ready(Ok(got)) => Some(got),
                _ => None,
            })
            .collect();
        assert_eq!(
            order,
            vec![(b"b".to_vec(), 5), (b"a".to_vec(), 1), (b"c".to_vec(), 1)]
        );
        let user = Credentials::user(1000, 1000);
        let big = MqAttr {
            maxmsg: 11,
            msgsize: 16,
        };
        assert_eq!(
            ns.open(b"r", create(Some(big)), OpenFlags::RDWR, &user, false)
                .err(),
            Some(LxError::EINVAL)
        );
        assert_eq!(
            ns.open(b"q", None, OpenFlags::RDWR, &user, false).err(),
            Some(LxError::EACCES)
        );
        assert_eq!(
            ns.open(b"a/b", None, OpenFlags::RDWR, &root, true).err(),
            Some(LxError::EACCES)
        );
        assert_eq!(ns.unlink(b"q", &user), Err(LxError::EPERM));
        assert_eq!(ns.unlink(b"q", &root), Ok(()));
        assert_eq!(ns.unlink(b"q", &root), Err(LxError::ENOENT));
    }

    #[test]
    fn the_creators_bytes_are_bounded_and_given_back() {
        let ns = MqNamespace::new();
        let user = Credentials::user(1000, 1000);
        // A default queue is charged 82880 bytes: nine fit in 819200.
        let queues: Vec<_> = (0..9)
            .map(|i| {
                ns.open(&[b'a' + i], create(None), OpenFlags::RDWR, &user, false)
                    .unwrap()
            })
            .collect();
        assert_eq!(
            ns.open(b"z", create(None), OpenFlags::RDWR, &user, false)
                .err(),
            Some(LxError::EMFILE)
        );
        drop(queues);
        ns.unlink(b"a", &user).unwrap();
        assert!(ns
            .open(b"z", create(None), OpenFlags::RDWR, &user, false)
            .is_ok());
    }

    #[test]
    fn a_registration_is_notified_once_when_the_queue_fills_from_empty() {
        let ns = MqNamespace::new();
        let root = Credentials::default();
        let queue = ns
            .open(b"n", create(None), OpenFlags::RDWR, &root, true)
            .unwrap();
        let notify = Notify::Signal {
            signal: 10,
            value: 7,
        };
        queue.register(4, Some(notify)).unwrap();
        assert_eq!(
            queue.register(5, Some(Notify::Nothing)),
            Err(LxError::EBUSY)
        );
        let mut message = Some(b"x".to_vec());
        assert_eq!(
            queue.poll_send(&mut message, 0, None),
            Poll::Ready(Ok(Some(Registration { pid: 4, notify })))
        );
        let mut second = Some(b"y".to_vec());
        assert_eq!(queue.poll_send(&mut second, 0, None), Poll::Ready(Ok(None)));
        let file = MqFile::new(queue, OpenFlags::RDWR);
        assert_eq!(
            file.poll_events(None),
            PollEvents::IN | PollEvents::RDNORM | PollEvents::OUT | PollEvents::WRNORM
        );
        let mut text = [0u8; 100];
        let count = file.read(&mut text).unwrap();
        assert_eq!(
            &text[..count],
            b"QSIZE:2          NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n"
        );
    }
}
