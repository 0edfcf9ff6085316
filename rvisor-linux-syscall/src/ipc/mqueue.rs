//! `mq_open`, `mq_unlink`, `mq_timedsend`, `mq_timedreceive`, `mq_notify`, `mq_getsetattr`:
//! POSIX message queues ([`MessageQueue`]) of the caller's container, with Linux's
//! `ipc/mqueue.c` checks in its order. A queue descriptor ([`MqFile`]) is an rVisor
//! descriptor, always close-on-exec as Linux makes it, pollable for `poll`, `select` and
//! epoll. Timeouts are absolute times of `CLOCK_REALTIME` (`ETIMEDOUT`); a signal ends a wait
//! with a restart or `EINTR` as its handler asks. `mq_notify` serves `SIGEV_SIGNAL` (a
//! `SI_MESGQ` signal with the caller's value) and `SIGEV_NONE`; `SIGEV_THREAD`, which glibc
//! runs through a netlink socket the kernel writes to, is refused with `ENOSYS`.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::future::{poll_fn, Future};
use core::pin::Pin;
use core::task::Poll;
use core::time::Duration;
use kernel_hal_lkm::platform;
use linux_object::fs::OpenFlags;
use linux_object::ipc::mqueue::{
    Create, MessageQueue, MqAttr, MqFile, Notify, Registration, MQ_PRIO_MAX,
};
use linux_object::{LxError, LxResult};

use super::{get_u32, get_u64, put};
use crate::fs::read_time;
use crate::user::{UserInPtr, UserOutPtr};
use crate::{SysResult, Syscall};

/// `O_CREAT`, `O_EXCL`, `O_NONBLOCK`.
const O_CREAT: u32 = 0o100;
const O_EXCL: u32 = 0o200;
const O_NONBLOCK: u32 = 0o4000;
/// `PATH_MAX`: the longest name `getname` reads.
const PATH_MAX: usize = 4096;
/// `sizeof(struct mq_attr)`: four longs and four reserved.
const MQ_ATTR_SIZE: usize = 64;
/// `sizeof(struct sigevent)`.
const SIGEVENT_SIZE: usize = 64;
/// `sigev_notify` values.
const SIGEV_SIGNAL: u32 = 0;
const SIGEV_NONE: u32 = 1;
const SIGEV_THREAD: u32 = 2;
/// `_NSIG`.
const NSIG: u32 = 64;
/// Nanoseconds in a second.
const NSEC_PER_SEC: i64 = 1_000_000_000;

/// The absolute `CLOCK_REALTIME` time at `ptr` (null: none): `EFAULT`, or `EINVAL` for a
/// negative second count or nanoseconds outside `0..1e9` (Linux's `prepare_timeout`).
fn read_deadline(ptr: UserInPtr<i64>) -> LxResult<Option<Duration>> {
    if ptr.is_null() {
        return Ok(None);
    }
    let (sec, nsec) = read_time(ptr)?;
    let sec = u64::try_from(sec).map_err(|_| LxError::EINVAL)?;
    if !(0..NSEC_PER_SEC).contains(&nsec) {
        return Err(LxError::EINVAL);
    }
    Ok(Some(Duration::new(sec, nsec as u32)))
}

/// When a wait gives up: a deadline of the realtime clock, as the time left when it starts.
enum Deadline {
    Never,
    /// Passed already: one try, then `ETIMEDOUT`.
    Passed,
    At(kernel_async::Sleep),
}

impl Deadline {
    /// A wait until the realtime clock reads `at` (`None`: forever).
    fn start(at: Option<Duration>) -> LxResult<Self> {
        let Some(at) = at else {
            return Ok(Self::Never);
        };
        let now = platform()
            .map(|platform| platform.realtime_now())
            .map_err(|_| LxError::EIO)?;
        match at.checked_sub(now).filter(|left| !left.is_zero()) {
            None => Ok(Self::Passed),
            Some(left) => kernel_async::sleep(left)
                .map(Self::At)
                .map_err(|_| LxError::EIO),
        }
    }

    /// Whether the deadline has passed (with `cx` woken when it does).
    fn passed(&mut self, cx: &mut core::task::Context<'_>) -> bool {
        match self {
            Self::Never => false,
            Self::Passed => true,
            Self::At(sleep) => Pin::new(sleep).poll(cx).is_ready(),
        }
    }
}

/// A checked `mq_timedsend` or `mq_timedreceive`.
struct Transfer {
    queue: Arc<MessageQueue>,
    nonblocking: bool,
    deadline: Option<Duration>,
}

impl Syscall<'_> {
    /// The queue descriptor `mqdes`: `EBADF` if it is not open or not a queue's.
    fn mq_file(&self, mqdes: i32) -> LxResult<Arc<dyn linux_object::fs::FileLike>> {
        let file = self.process.files().get(mqdes)?;
        if file.as_any().downcast_ref::<MqFile>().is_none() {
            return Err(LxError::EBADF);
        }
        Ok(file)
    }

    /// `mq_open(name, oflag, mode, attr)` (`name` without glibc's leading `/`): see
    /// [`MqNamespace::open`](linux_object::ipc::mqueue::MqNamespace::open).
    pub fn sys_mq_open(
        &self,
        name: UserInPtr<u8>,
        oflag: i32,
        mode: u32,
        attr: UserInPtr<u8>,
    ) -> SysResult {
        let oflag = oflag as u32;
        let attr = if attr.is_null() {
            None
        } else {
            let raw = attr.read_bytes(MQ_ATTR_SIZE)?;
            Some((get_u64(&raw, 8) as i64, get_u64(&raw, 16) as i64))
        };
        let name = name.read_cstring(PATH_MAX)?;
        let create = (oflag & O_CREAT != 0)
            .then(|| {
                let attr = attr
                    .map(|(maxmsg, msgsize)| {
                        Ok::<_, LxError>(MqAttr {
                            maxmsg: usize::try_from(maxmsg).map_err(|_| LxError::EINVAL)?,
                            msgsize: usize::try_from(msgsize).map_err(|_| LxError::EINVAL)?,
                        })
                    })
                    .transpose()?;
                Ok::<_, LxError>(Create {
                    mode: mode & 0o777 & !self.process.umask(),
                    attr,
                    exclusive: oflag & O_EXCL != 0,
                })
            })
            .transpose()?;
        let container = self.ipc_container()?;
        let creds = self.process.credentials();
        let access = OpenFlags::from_bits_retain(oflag & 3);
        let queue = container
            .ipc()
            .mqueues
            .open(&name, create, access, &creds, creds.euid == 0)?;
        let flags = OpenFlags::from_bits_retain(oflag & (3 | O_NONBLOCK));
        // Linux gives every queue descriptor close-on-exec.
        let fd = self.process.files().add(MqFile::new(queue, flags), true)?;
        Ok(fd as usize)
    }

    /// `mq_unlink(name)`.
    pub fn sys_mq_unlink(&self, name: UserInPtr<u8>) -> SysResult {
        let name = name.read_cstring(PATH_MAX)?;
        let container = self.ipc_container()?;
        let creds = self.process.credentials();
        container.ipc().mqueues.unlink(&name, &creds)?;
        Ok(0)
    }

    /// `mq_timedsend`'s arguments checked in Linux's order and its message read.
    fn mq_send_call(
        &self,
        mqdes: i32,
        msg_ptr: UserInPtr<u8>,
        msg_len: usize,
        msg_prio: u32,
        abs_timeout: UserInPtr<i64>,
    ) -> LxResult<(Transfer, Option<Vec<u8>>)> {
        let deadline = read_deadline(abs_timeout)?;
        if msg_prio >= MQ_PRIO_MAX {
            return Err(LxError::EINVAL);
        }
        let file = self.mq_file(mqdes)?;
        let queue = queue_of(&file)?;
        if !file.flags().writable() {
            return Err(LxError::EBADF);
        }
        if msg_len > queue.attr().msgsize {
            return Err(LxError::EMSGSIZE);
        }
        let message = Some(msg_ptr.read_bytes(msg_len)?);
        let nonblocking = file.flags().contains(OpenFlags::NONBLOCK);
        let transfer = Transfer {
            queue,
            nonblocking,
            deadline,
        };
        Ok((transfer, message))
    }

    /// Sends the notification a send made due (signal 0, which `mq_notify` accepts, sends
    /// nothing).
    fn notify(&self, registration: Option<Registration>) -> SysResult {
        if let Some(Registration {
            pid,
            notify: Notify::Signal { signal, value },
        }) = registration
        {
            if signal != 0 {
                self.host.send_queue_signal(pid, signal, value)?;
            }
        }
        Ok(0)
    }

    /// `mq_timedsend`, where it does not wait: `None` (nothing sent) if it must.
    pub fn sys_mq_timedsend_now(
        &self,
        mqdes: i32,
        msg_ptr: UserInPtr<u8>,
        msg_len: usize,
        msg_prio: u32,
        abs_timeout: UserInPtr<i64>,
    ) -> Option<SysResult> {
        let (transfer, mut message) =
            match self.mq_send_call(mqdes, msg_ptr, msg_len, msg_prio, abs_timeout) {
                Ok(call) => call,
                Err(error) => return Some(Err(error)),
            };
        match transfer.queue.poll_send(&mut message, msg_prio, None) {
            Poll::Ready(Ok(registration)) => Some(self.notify(registration)),
            Poll::Ready(Err(error)) => Some(Err(error)),
            Poll::Pending if transfer.nonblocking => Some(Err(LxError::EAGAIN)),
            Poll::Pending => None,
        }
    }

    /// `mq_timedsend(mqdes, msg_ptr, msg_len, msg_prio, abs_timeout)`: `EINVAL` for a bad
    /// timeout or a priority past `MQ_PRIO_MAX`, `EBADF` for a descriptor not open for
    /// writing, `EMSGSIZE` past the queue's message size, `EFAULT`; on a full queue `EAGAIN`
    /// with `O_NONBLOCK`, else a wait for room until the timeout (`ETIMEDOUT`).
    pub async fn sys_mq_timedsend(
        &self,
        mqdes: i32,
        msg_ptr: UserInPtr<u8>,
        msg_len: usize,
        msg_prio: u32,
        abs_timeout: UserInPtr<i64>,
    ) -> SysResult {
        let (transfer, mut message) =
            self.mq_send_call(mqdes, msg_ptr, msg_len, msg_prio, abs_timeout)?;
        let mut deadline = Deadline::start(transfer.deadline)?;
        let queue = transfer.queue;
        let registration = poll_fn(
            |cx| match queue.poll_send(&mut message, msg_prio, Some(cx)) {
                Poll::Pending if transfer.nonblocking => Poll::Ready(Err(LxError::EAGAIN)),
                Poll::Pending if deadline.passed(cx) => Poll::Ready(Err(LxError::ETIMEDOUT)),
                other => other,
            },
        )
        .await?;
        self.notify(registration)
    }

    /// `mq_timedreceive`'s arguments checked in Linux's order.
    fn mq_receive_call(
        &self,
        mqdes: i32,
        msg_len: usize,
        abs_timeout: UserInPtr<i64>,
    ) -> LxResult<Transfer> {
        let deadline = read_deadline(abs_timeout)?;
        let file = self.mq_file(mqdes)?;
        let queue = queue_of(&file)?;
        if !file.flags().readable() {
            return Err(LxError::EBADF);
        }
        if msg_len < queue.attr().msgsize {
            return Err(LxError::EMSGSIZE);
        }
        let nonblocking = file.flags().contains(OpenFlags::NONBLOCK);
        Ok(Transfer {
            queue,
            nonblocking,
            deadline,
        })
    }

    /// `mq_timedreceive`, where it does not wait: `None` (nothing taken) if it must.
    pub fn sys_mq_timedreceive_now(
        &self,
        mqdes: i32,
        msg_ptr: UserOutPtr<u8>,
        msg_len: usize,
        msg_prio: UserOutPtr<u32>,
        abs_timeout: UserInPtr<i64>,
    ) -> Option<SysResult> {
        let transfer = match self.mq_receive_call(mqdes, msg_len, abs_timeout) {
            Ok(transfer) => transfer,
            Err(error) => return Some(Err(error)),
        };
        match transfer.queue.poll_receive(None) {
            Poll::Ready(Ok((text, priority))) => Some(deliver(msg_ptr, msg_prio, &text, priority)),
            Poll::Ready(Err(error)) => Some(Err(error)),
            Poll::Pending if transfer.nonblocking => Some(Err(LxError::EAGAIN)),
            Poll::Pending => None,
        }
    }

    /// `mq_timedreceive(mqdes, msg_ptr, msg_len, msg_prio, abs_timeout)`: `EINVAL` for a bad
    /// timeout, `EBADF` for a descriptor not open for reading, `EMSGSIZE` for a buffer below
    /// the queue's message size; on an empty queue `EAGAIN` with `O_NONBLOCK`, else a wait
    /// until the timeout (`ETIMEDOUT`). Returns the message's length; its priority goes to
    /// `msg_prio` unless null (`EFAULT`, the message taken all the same, as on Linux).
    pub async fn sys_mq_timedreceive(
        &self,
        mqdes: i32,
        msg_ptr: UserOutPtr<u8>,
        msg_len: usize,
        msg_prio: UserOutPtr<u32>,
        abs_timeout: UserInPtr<i64>,
    ) -> SysResult {
        let transfer = self.mq_receive_call(mqdes, msg_len, abs_timeout)?;
        let mut deadline = Deadline::start(transfer.deadline)?;
        let queue = transfer.queue;
        if transfer.nonblocking {
            return match queue.poll_receive(None) {
                Poll::Ready(Ok((text, priority))) => deliver(msg_ptr, msg_prio, &text, priority),
                Poll::Ready(Err(error)) => Err(error),
                Poll::Pending => Err(LxError::EAGAIN),
            };
        }
        let _blocked = queue.blocked_receiver();
        let (text, priority) = poll_fn(|cx| match queue.poll_receive(Some(cx)) {
            Poll::Pending if deadline.passed(cx) => Poll::Ready(Err(LxError::ETIMEDOUT)),
            other => other,
        })
        .await?;
        deliver(msg_ptr, msg_prio, &text, priority)
    }

    /// `mq_notify(mqdes, sevp)`: `EINVAL` for an unknown `sigev_notify` or a `SIGEV_SIGNAL`
    /// signal past 64, `ENOSYS` for `SIGEV_THREAD` (not served), `EBADF`, `EBUSY` if another
    /// registration exists; a null `sevp` removes the caller's.
    pub fn sys_mq_notify(&self, mqdes: i32, sevp: UserInPtr<u8>) -> SysResult {
        let notify = if sevp.is_null() {
            None
        } else {
            let raw = sevp.read_bytes(SIGEVENT_SIZE)?;
            let value = get_u64(&raw, 0);
            let signal = get_u32(&raw, 8);
            Some(match get_u32(&raw, 12) {
                SIGEV_NONE => Notify::Nothing,
                SIGEV_SIGNAL if signal <= NSIG => Notify::Signal { signal, value },
                SIGEV_THREAD => return Err(LxError::ENOSYS),
                _ => return Err(LxError::EINVAL),
            })
        };
        let file = self.mq_file(mqdes)?;
        queue_of(&file)?.register(self.process.pid(), notify)?;
        Ok(0)
    }

    /// `mq_getsetattr(mqdes, newattr, oldattr)`: `EINVAL` for a flag other than
    /// `O_NONBLOCK`, `EBADF`; the old attributes (`mq_flags` the descriptor's `O_NONBLOCK`)
    /// are written after the change.
    pub fn sys_mq_getsetattr(
        &self,
        mqdes: i32,
        newattr: UserInPtr<u8>,
        oldattr: UserOutPtr<u8>,
    ) -> SysResult {
        let new_flags = if newattr.is_null() {
            None
        } else {
            let flags = get_u64(&newattr.read_bytes(MQ_ATTR_SIZE)?, 0);
            if flags & !u64::from(O_NONBLOCK) != 0 {
                return Err(LxError::EINVAL);
            }
            Some(flags)
        };
        let file = self.mq_file(mqdes)?;
        let queue = queue_of(&file)?;
        let flags = file.flags();
        let attr = queue.attr();
        let mut old = [0u8; MQ_ATTR_SIZE];
        put(
            &mut old,
            0,
            &u64::from(flags.bits() & O_NONBLOCK).to_le_bytes(),
        );
        put(&mut old, 8, &(attr.maxmsg as u64).to_le_bytes());
        put(&mut old, 16, &(attr.msgsize as u64).to_le_bytes());
        put(&mut old, 24, &(queue.len() as u64).to_le_bytes());
        if let Some(new_flags) = new_flags {
            let mut changed = flags - OpenFlags::NONBLOCK;
            if new_flags != 0 {
                changed |= OpenFlags::NONBLOCK;
            }
            file.set_flags(changed);
        }
        if !oldattr.is_null() {
            oldattr.write_bytes(&old)?;
        }
        Ok(0)
    }
}

/// The queue of a descriptor [`Syscall::mq_file`] checked.
fn queue_of(file: &Arc<dyn linux_object::fs::FileLike>) -> LxResult<Arc<MessageQueue>> {
    file.as_any()
        .downcast_ref::<MqFile>()
        .map(|file| file.queue().clone())
        .ok_or(LxError::EBADF)
}

/// Writes a received message's priority (unless `msg_prio` is null) and text; its length.
fn deliver(
    msg_ptr: UserOutPtr<u8>,
    msg_prio: UserOutPtr<u32>,
    text: &[u8],
    priority: u32,
) -> SysResult {
    msg_prio.write_if_not_null(priority)?;
    msg_ptr.write_bytes(text)?;
    Ok(text.len())
}
