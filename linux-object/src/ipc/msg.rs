//! [`MsgQueue`]: a System V message queue, Linux's `ipc/msg.c`.
//!
//! A queue holds typed messages up to `msg_qbytes` bytes (and as many messages); a sender
//! waits for room and a receiver for a message of the type it asks for. Every receive wakes
//! the waiting senders and every send the waiting receivers, who look again; removing the
//! queue ends every wait with `EIDRM`.

use super::{now_seconds, IpcObject, IpcPerm, IPC_NOWAIT};
use crate::container::Pid;
use crate::credentials::Credentials;
use crate::error::{LxError, LxResult};
use crate::fs::{Waiters, Woken};
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::task::{Context, Poll};
use kernel_hal_lkm::sync::Mutex;

/// `MSGMNI`: queues in a namespace at most.
pub const MSGMNI: usize = 32000;
/// `MSGMAX`: bytes in one message at most.
pub const MSGMAX: usize = 8192;
/// `MSGMNB`: a new queue's `msg_qbytes`.
pub const MSGMNB: usize = 16384;
/// `MSG_NOERROR`: a longer message is cut to the buffer instead of `E2BIG`.
pub const MSG_NOERROR: u32 = 0o10000;
/// `MSG_EXCEPT`: a positive type means any other type.
pub const MSG_EXCEPT: u32 = 0o20000;
/// `MSG_COPY`: the message at the index given as type is copied, not taken.
pub const MSG_COPY: u32 = 0o40000;

/// One message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its type (`mtype`, positive).
    pub mtype: i64,
    /// Its text.
    pub text: Vec<u8>,
}

struct State {
    perm: IpcPerm,
    messages: VecDeque<Message>,
    /// Bytes of text queued (`msg_cbytes`).
    bytes: usize,
    /// Room (`msg_qbytes`): bytes, and messages.
    qbytes: usize,
    /// Last sender and receiver (`msg_lspid`, `msg_lrpid`).
    lspid: Pid,
    lrpid: Pid,
    /// Last send, receive, change (realtime seconds).
    stime: i64,
    rtime: i64,
    ctime: i64,
    senders: Waiters,
    receivers: Waiters,
    removed: bool,
}

/// A message queue.
pub struct MsgQueue {
    state: Mutex<State>,
}

/// A queue's status (`struct msqid64_ds`).
#[derive(Debug, Clone, Copy)]
pub struct MsgStat {
    /// Owner and permissions.
    pub perm: IpcPerm,
    /// Last send.
    pub stime: i64,
    /// Last receive.
    pub rtime: i64,
    /// Last change.
    pub ctime: i64,
    /// Bytes queued.
    pub cbytes: usize,
    /// Messages queued.
    pub qnum: usize,
    /// Room.
    pub qbytes: usize,
    /// Last sender.
    pub lspid: Pid,
    /// Last receiver.
    pub lrpid: Pid,
}

/// Which message a receive takes (Linux's `convert_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    /// The first.
    Any,
    /// The first of this type.
    Equal(i64),
    /// The first of another type.
    NotEqual(i64),
    /// The first of the lowest type up to this one.
    LessEqual(i64),
    /// The one at this index (`MSG_COPY`).
    Number(i64),
}

impl Select {
    /// What `msgrcv`'s `msgtyp` and `msgflg` ask for.
    pub fn new(msgtyp: i64, flags: u32) -> Self {
        if flags & MSG_COPY != 0 {
            Self::Number(msgtyp)
        } else if msgtyp == 0 {
            Self::Any
        } else if msgtyp < 0 {
            Self::LessEqual(msgtyp.checked_neg().unwrap_or(i64::MAX))
        } else if flags & MSG_EXCEPT != 0 {
            Self::NotEqual(msgtyp)
        } else {
            Self::Equal(msgtyp)
        }
    }

    /// The index of the message it picks (Linux's `find_msg`).
    fn find(self, messages: &VecDeque<Message>) -> Option<usize> {
        let mut types = messages.iter().map(|message| message.mtype).enumerate();
        match self {
            Self::Any => (!messages.is_empty()).then_some(0),
            Self::Equal(t) => types.find(|&(_, mtype)| mtype == t).map(|(i, _)| i),
            Self::NotEqual(t) => types.find(|&(_, mtype)| mtype != t).map(|(i, _)| i),
            Self::LessEqual(t) => types
                .filter(|&(_, mtype)| mtype <= t)
                .min_by_key(|&(index, mtype)| (mtype, index))
                .map(|(i, _)| i),
            Self::Number(n) => usize::try_from(n).ok().filter(|&n| n < messages.len()),
        }
    }
}

impl IpcObject for MsgQueue {
    fn perm(&self) -> IpcPerm {
        self.state.lock().perm
    }
}

impl MsgQueue {
    /// An empty queue with permissions `perm` and room `MSGMNB`.
    pub fn new(perm: IpcPerm) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                perm,
                messages: VecDeque::new(),
                bytes: 0,
                qbytes: MSGMNB,
                lspid: 0,
                lrpid: 0,
                stime: 0,
                rtime: 0,
                ctime: now_seconds(),
                senders: Waiters::new(),
                receivers: Waiters::new(),
                removed: false,
            }),
        })
    }

    /// Its status.
    pub fn stat(&self) -> MsgStat {
        let state = self.state.lock();
        MsgStat {
            perm: state.perm,
            stime: state.stime,
            rtime: state.rtime,
            ctime: state.ctime,
            cbytes: state.bytes,
            qnum: state.messages.len(),
            qbytes: state.qbytes,
            lspid: state.lspid,
            lrpid: state.lrpid,
        }
    }

    /// Messages and bytes queued.
    pub fn usage(&self) -> (usize, usize) {
        let state = self.state.lock();
        (state.messages.len(), state.bytes)
    }

    /// `IPC_SET`: owner, mode bits and room change (the caller checked the room against
    /// `MSGMNB` and the privilege); the waiting senders look again.
    pub fn set(&self, uid: u32, gid: u32, mode: u32, qbytes: usize) {
        let woken = {
            let mut state = self.state.lock();
            state.perm.update(uid, gid, mode);
            state.qbytes = qbytes;
            state.ctime = now_seconds();
            state.senders.take()
        };
        woken.wake();
    }

    /// `IPC_RMID`'s end of the queue: every waiter gets `EIDRM`.
    pub fn remove(&self) {
        let (senders, receivers) = {
            let mut state = self.state.lock();
            state.removed = true;
            state.messages.clear();
            state.bytes = 0;
            (state.senders.take(), state.receivers.take())
        };
        senders.wake();
        receivers.wake();
    }

    /// One try of `msgsnd` of `message` by process `pid` with `creds`, as Linux's
    /// `do_msgsnd` loop: `EACCES` without write permission, `EIDRM` once removed; if the
    /// queue has no room, `EAGAIN` with `IPC_NOWAIT`, else `Pending` (with `cx`, if given,
    /// woken by the next receive). `message` is taken when it is queued.
    pub fn poll_send(
        &self,
        creds: &Credentials,
        pid: Pid,
        message: &mut Option<Message>,
        flags: u32,
        cx: Option<&Context<'_>>,
    ) -> Poll<LxResult> {
        let mut state = self.state.lock();
        if let Err(error) = state.perm.check(creds, 0o222) {
            return Poll::Ready(Err(error));
        }
        if state.removed {
            return Poll::Ready(Err(LxError::EIDRM));
        }
        let size = message.as_ref().map_or(0, |message| message.text.len());
        let fits = size + state.bytes <= state.qbytes && state.messages.len() < state.qbytes;
        if !fits {
            if flags & IPC_NOWAIT != 0 {
                return Poll::Ready(Err(LxError::EAGAIN));
            }
            if let Some(cx) = cx {
                state.senders.register(cx);
            }
            return Poll::Pending;
        }
        if state.messages.try_reserve(1).is_err() {
            return Poll::Ready(Err(LxError::ENOMEM));
        }
        let Some(message) = message.take() else {
            return Poll::Ready(Err(LxError::EINVAL));
        };
        state.bytes += message.text.len();
        state.messages.push_back(message);
        state.lspid = pid;
        state.stime = now_seconds();
        let woken = state.receivers.take();
        drop(state);
        woken.wake();
        Poll::Ready(Ok(()))
    }

    /// One try of `msgrcv` by process `pid` with `creds` into a buffer of `size` bytes, as
    /// Linux's `do_msgrcv` loop: `EACCES` without read permission, `EIDRM` once removed,
    /// `E2BIG` for a longer message without `MSG_NOERROR` (it stays queued); with no message
    /// to take, `ENOMSG` with `IPC_NOWAIT`, else `Pending` (with `cx`, if given, woken by the
    /// next send). `MSG_COPY` copies instead of taking.
    pub fn poll_receive(
        &self,
        creds: &Credentials,
        pid: Pid,
        size: usize,
        select: Select,
        flags: u32,
        cx: Option<&Context<'_>>,
    ) -> Poll<LxResult<Message>> {
        let mut state = self.state.lock();
        if let Err(error) = state.perm.check(creds, 0o444) {
            return Poll::Ready(Err(error));
        }
        if state.removed {
            return Poll::Ready(Err(LxError::EIDRM));
        }
        let Some(index) = select.find(&state.messages) else {
            if flags & IPC_NOWAIT != 0 {
                return Poll::Ready(Err(LxError::ENOMSG));
            }
            if let Some(cx) = cx {
                state.receivers.register(cx);
            }
            return Poll::Pending;
        };
        let Some(found) = state.messages.get(index) else {
            return Poll::Ready(Err(LxError::ENOMSG));
        };
        if found.text.len() > size && flags & MSG_NOERROR == 0 {
            return Poll::Ready(Err(LxError::E2BIG));
        }
        if flags & MSG_COPY != 0 {
            let mut text = Vec::new();
            let kept = size.min(found.text.len());
            if text.try_reserve_exact(kept).is_err() {
                return Poll::Ready(Err(LxError::ENOMEM));
            }
            text.extend_from_slice(found.text.get(..kept).unwrap_or_default());
            return Poll::Ready(Ok(Message {
                mtype: found.mtype,
                text,
            }));
        }
        let Some(mut message) = state.messages.remove(index) else {
            return Poll::Ready(Err(LxError::ENOMSG));
        };
        state.bytes -= message.text.len();
        state.rtime = now_seconds();
        state.lrpid = pid;
        message.text.truncate(size);
        let woken: Woken = state.senders.take();
        drop(state);
        woken.wake();
        Poll::Ready(Ok(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_executor::CountingWaker;

    fn queue() -> Arc<MsgQueue> {
        MsgQueue::new(IpcPerm::new(0, 0o600, &Credentials::default()))
    }

    fn send(
        queue: &MsgQueue,
        mtype: i64,
        text: &[u8],
        flags: u32,
        cx: &Context<'_>,
    ) -> Poll<LxResult> {
        let mut message = Some(Message {
            mtype,
            text: text.to_vec(),
        });
        queue.poll_send(&Credentials::default(), 1, &mut message, flags, Some(cx))
    }

    fn receive(
        queue: &MsgQueue,
        size: usize,
        msgtyp: i64,
        flags: u32,
        cx: &Context<'_>,
    ) -> Poll<LxResult<Message>> {
        queue.poll_receive(
            &Credentials::default(),
            2,
            size,
            Select::new(msgtyp, flags),
            flags,
            Some(cx),
        )
    }

    fn types(queue: &MsgQueue, msgtyp: i64, flags: u32, cx: &Context<'_>) -> Vec<i64> {
        let mut got = Vec::new();
        while let Poll::Ready(Ok(message)) = receive(queue, 100, msgtyp, flags | IPC_NOWAIT, cx) {
            got.push(message.mtype);
        }
        got
    }

    #[test]
    fn receives_select_by_type_as_linux() {
        let (_, waker) = CountingWaker::new();
        let cx = Context::from_waker(&waker);
        let queue = queue();
        for mtype in [3, 1, 2, 1, 5] {
            assert!(send(&queue, mtype, b"x", 0, &cx).is_ready());
        }
        assert_eq!(types(&queue, -2, 0, &cx), vec![1, 1, 2]);
        assert_eq!(types(&queue, 3, MSG_EXCEPT, &cx), vec![5]);
        assert_eq!(types(&queue, 0, 0, &cx), vec![3]);
        assert_eq!(
            receive(&queue, 10, 0, IPC_NOWAIT, &cx),
            Poll::Ready(Err(LxError::ENOMSG))
        );
    }

    #[test]
    fn long_messages_are_e2big_unless_cut_and_copies_stay() {
        let (_, waker) = CountingWaker::new();
        let cx = Context::from_waker(&waker);
        let queue = queue();
        assert!(send(&queue, 1, b"hello", 0, &cx).is_ready());
        assert_eq!(
            receive(&queue, 2, 0, 0, &cx),
            Poll::Ready(Err(LxError::E2BIG))
        );
        let copy = receive(&queue, 10, 0, MSG_COPY | IPC_NOWAIT, &cx);
        assert_eq!(
            copy,
            Poll::Ready(Ok(Message {
                mtype: 1,
                text: b"hello".to_vec()
            }))
        );
        assert_eq!(queue.usage(), (1, 5));
        let cut = receive(&queue, 2, 0, MSG_NOERROR, &cx);
        assert_eq!(
            cut,
            Poll::Ready(Ok(Message {
                mtype: 1,
                text: b"he".to_vec()
            }))
        );
        assert_eq!(queue.stat().lrpid, 2);
    }

    #[test]
    fn a_full_queue_makes_senders_wait_for_a_receive() {
        let (counter, waker) = CountingWaker::new();
        let cx = Context::from_waker(&waker);
        let queue = queue();
        let big = vec![0u8; MSGMNB];
        assert!(send(&queue, 1, &big, 0, &cx).is_ready());
        assert_eq!(
            send(&queue, 1, b"x", IPC_NOWAIT, &cx),
            Poll::Ready(Err(LxError::EAGAIN))
        );
        assert!(send(&queue, 1, b"x", 0, &cx).is_pending());
        assert!(receive(&queue, MSGMNB, 0, 0, &cx).is_ready());
        assert_eq!(counter.wakes(), 1);
        assert!(send(&queue, 1, b"x", 0, &cx).is_ready());
        queue.remove();
        assert_eq!(
            receive(&queue, 1, 0, 0, &cx),
            Poll::Ready(Err(LxError::EIDRM))
        );
    }
}
