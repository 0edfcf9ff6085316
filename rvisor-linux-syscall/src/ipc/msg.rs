//! `msgget`, `msgsnd`, `msgrcv`, `msgctl`: System V message queues ([`MsgQueue`]), with
//! Linux's `ipc/msg.c` checks in its order.
//!
//! A send waits for room and a receive for a message; removal ends the wait with `EIDRM`
//! and a signal with `EINTR` once a handler ran (`ERESTARTNOHAND`: never restarted after a
//! handler, as signal(7) says).

use alloc::sync::Arc;
use core::future::poll_fn;
use core::task::Poll;
use linux_object::ipc::msg::{
    Message, MsgQueue, Select, MSGMAX, MSGMNB, MSGMNI, MSG_COPY, MSG_EXCEPT,
};
use linux_object::ipc::{Got, IpcObject, IPC_NOWAIT};
use linux_object::{LxError, LxResult};

use super::{
    get_u64, put, put_perm, read_ds, write_out, IPC_INFO, IPC_RMID, IPC_SET, IPC_STAT, PERM_SIZE,
};
use crate::user::{UserInPtr, UserOutPtr};
use crate::{SysResult, Syscall};

/// `msgctl` commands of their own.
const MSG_STAT: i32 = 11;
const MSG_INFO: i32 = 12;
const MSG_STAT_ANY: i32 = 13;

/// `sizeof(struct msqid64_ds)`.
const MSQID_DS_SIZE: usize = 120;
/// `sizeof(struct msginfo)`: seven `int`s and an `unsigned short`, padded.
const MSGINFO_SIZE: usize = 32;
/// `MSGSSZ`, `MSGPOOL`, `MSGSEG` as `IPC_INFO` reports them (`MSGSEG` capped at `0xffff`,
/// as Linux defines it).
const MSGSSZ: i32 = 16;
const MSGPOOL: i32 = (MSGMNI * MSGMNB / 1024) as i32;
const MSGSEG: u16 = u16::MAX;
/// Bytes of `mtype` before the text of a user's `struct msgbuf`.
const MTYPE_SIZE: usize = 8;

impl Syscall<'_> {
    /// `msgget(key, msgflg)`.
    pub fn sys_msgget(&self, key: i32, msgflg: i32) -> SysResult {
        let container = self.ipc_container()?;
        let creds = self.process.credentials();
        let mut queues = container.ipc().msgs.lock();
        match queues.get(key, msgflg as u32, &creds, |_| Ok(()))? {
            Got::Existing(id) => Ok(id as usize),
            Got::New(id, perm) => {
                queues.insert(id, &perm, MsgQueue::new(perm))?;
                Ok(id as usize)
            }
        }
    }

    /// `msgsnd`, where it does not wait: `None` (nothing done) if it must.
    pub fn sys_msgsnd_now(
        &self,
        msqid: i32,
        msgp: UserInPtr<u8>,
        msgsz: usize,
        msgflg: i32,
    ) -> Option<SysResult> {
        let (queue, mut message) = match self.msgsnd_call(msqid, msgp, msgsz) {
            Ok(call) => call,
            Err(error) => return Some(Err(error)),
        };
        let creds = self.process.credentials();
        match queue.poll_send(
            &creds,
            self.process.pid(),
            &mut message,
            msgflg as u32,
            None,
        ) {
            Poll::Ready(result) => Some(result.map(|()| 0)),
            Poll::Pending => None,
        }
    }

    /// `msgsnd(msqid, msgp, msgsz, msgflg)`: `EINVAL` for a type below 1, a size past
    /// `MSGMAX` or a negative id; `EFAULT`; `EINVAL` for an unknown id; then as
    /// [`MsgQueue::poll_send`].
    pub async fn sys_msgsnd(
        &self,
        msqid: i32,
        msgp: UserInPtr<u8>,
        msgsz: usize,
        msgflg: i32,
    ) -> SysResult {
        let (queue, mut message) = self.msgsnd_call(msqid, msgp, msgsz)?;
        let creds = self.process.credentials();
        let pid = self.process.pid();
        poll_fn(|cx| queue.poll_send(&creds, pid, &mut message, msgflg as u32, Some(cx))).await?;
        Ok(0)
    }

    /// `msgsnd`'s message read and its queue found, in Linux's order.
    fn msgsnd_call(
        &self,
        msqid: i32,
        msgp: UserInPtr<u8>,
        msgsz: usize,
    ) -> LxResult<(Arc<MsgQueue>, Option<Message>)> {
        let mtype = UserInPtr::<i64>::from(msgp.addr()).read()?;
        if mtype < 1 {
            return Err(LxError::EINVAL);
        }
        if msgsz > MSGMAX || msqid < 0 {
            return Err(LxError::EINVAL);
        }
        let text = msgp.offset(MTYPE_SIZE)?.read_bytes(msgsz)?;
        let container = self.ipc_container()?;
        let queue = container.ipc().msgs.lock().by_id(msqid)?;
        Ok((queue, Some(Message { mtype, text })))
    }

    /// `msgrcv`, where it does not wait: `None` (nothing taken) if it must.
    pub fn sys_msgrcv_now(
        &self,
        msqid: i32,
        msgp: UserOutPtr<u8>,
        msgsz: isize,
        msgtyp: i64,
        msgflg: i32,
    ) -> Option<SysResult> {
        let (queue, size, select) = match self.msgrcv_call(msqid, msgsz, msgtyp, msgflg) {
            Ok(call) => call,
            Err(error) => return Some(Err(error)),
        };
        let creds = self.process.credentials();
        let flags = msgflg as u32;
        match queue.poll_receive(&creds, self.process.pid(), size, select, flags, None) {
            Poll::Ready(Ok(message)) => Some(deliver(msgp, &message)),
            Poll::Ready(Err(error)) => Some(Err(error)),
            Poll::Pending => None,
        }
    }

    /// `msgrcv(msqid, msgp, msgsz, msgtyp, msgflg)`: `EINVAL` for a negative id or size, and
    /// for `MSG_COPY` with `MSG_EXCEPT` or without `IPC_NOWAIT`; then as
    /// [`MsgQueue::poll_receive`]; the type and text are written to `msgp` (`EFAULT`, the
    /// message taken all the same, as on Linux). Returns the bytes of text written.
    pub async fn sys_msgrcv(
        &self,
        msqid: i32,
        msgp: UserOutPtr<u8>,
        msgsz: isize,
        msgtyp: i64,
        msgflg: i32,
    ) -> SysResult {
        let (queue, size, select) = self.msgrcv_call(msqid, msgsz, msgtyp, msgflg)?;
        let creds = self.process.credentials();
        let pid = self.process.pid();
        let flags = msgflg as u32;
        let message =
            poll_fn(|cx| queue.poll_receive(&creds, pid, size, select, flags, Some(cx))).await?;
        deliver(msgp, &message)
    }

    /// `msgrcv`'s arguments checked in Linux's order and its queue found.
    fn msgrcv_call(
        &self,
        msqid: i32,
        msgsz: isize,
        msgtyp: i64,
        msgflg: i32,
    ) -> LxResult<(Arc<MsgQueue>, usize, Select)> {
        let flags = msgflg as u32;
        let size = usize::try_from(msgsz).map_err(|_| LxError::EINVAL)?;
        if msqid < 0 {
            return Err(LxError::EINVAL);
        }
        let size = if flags & MSG_COPY != 0 {
            if flags & MSG_EXCEPT != 0 || flags & IPC_NOWAIT == 0 {
                return Err(LxError::EINVAL);
            }
            size.min(MSGMAX)
        } else {
            size
        };
        let container = self.ipc_container()?;
        let queue = container.ipc().msgs.lock().by_id(msqid)?;
        Ok((queue, size, Select::new(msgtyp, flags)))
    }

    /// `msgctl(msqid, cmd, buf)`.
    pub fn sys_msgctl(&self, msqid: i32, cmd: i32, buf: usize) -> SysResult {
        if msqid < 0 || cmd < 0 {
            return Err(LxError::EINVAL);
        }
        let container = self.ipc_container()?;
        let ipc = container.ipc();
        let creds = self.process.credentials();
        match cmd {
            IPC_INFO | MSG_INFO => {
                let queues = ipc.msgs.lock();
                let (pool, map, tql) = if cmd == MSG_INFO {
                    let (messages, bytes) = queues
                        .objects()
                        .map(|queue| queue.usage())
                        .fold((0usize, 0usize), |(m, b), (qm, qb)| (m + qm, b + qb));
                    (
                        queues.in_use() as i32,
                        messages.min(i32::MAX as usize) as i32,
                        bytes.min(i32::MAX as usize) as i32,
                    )
                } else {
                    (MSGPOOL, MSGMNB as i32, MSGMNB as i32)
                };
                let max_index = queues.max_index();
                drop(queues);
                let fields: [i32; 7] = [
                    pool,
                    map,
                    MSGMAX as i32,
                    MSGMNB as i32,
                    MSGMNI as i32,
                    MSGSSZ,
                    tql,
                ];
                let mut out = [0u8; MSGINFO_SIZE];
                for (index, value) in fields.iter().enumerate() {
                    put(&mut out, index * 4, &value.to_le_bytes());
                }
                put(&mut out, 28, &MSGSEG.to_le_bytes());
                write_out(UserOutPtr::from(buf), &out)?;
                Ok(max_index.max(0) as usize)
            }
            IPC_STAT | MSG_STAT | MSG_STAT_ANY => {
                let (id, queue) = if cmd == IPC_STAT {
                    (msqid, ipc.msgs.lock().by_id(msqid)?)
                } else {
                    ipc.msgs.lock().by_index(msqid)?
                };
                let stat = queue.stat();
                if cmd != MSG_STAT_ANY {
                    stat.perm.check(&creds, 0o444)?;
                }
                let mut out = [0u8; MSQID_DS_SIZE];
                put_perm(&mut out, &stat.perm);
                put(&mut out, PERM_SIZE, &stat.stime.to_le_bytes());
                put(&mut out, PERM_SIZE + 8, &stat.rtime.to_le_bytes());
                put(&mut out, PERM_SIZE + 16, &stat.ctime.to_le_bytes());
                put(
                    &mut out,
                    PERM_SIZE + 24,
                    &(stat.cbytes as u64).to_le_bytes(),
                );
                put(&mut out, PERM_SIZE + 32, &(stat.qnum as u64).to_le_bytes());
                put(
                    &mut out,
                    PERM_SIZE + 40,
                    &(stat.qbytes as u64).to_le_bytes(),
                );
                put(&mut out, PERM_SIZE + 48, &stat.lspid.to_le_bytes());
                put(&mut out, PERM_SIZE + 52, &stat.lrpid.to_le_bytes());
                write_out(UserOutPtr::from(buf), &out)?;
                Ok(if cmd == IPC_STAT { 0 } else { id as usize })
            }
            IPC_SET | IPC_RMID => {
                let change = if cmd == IPC_SET {
                    let (perm, raw) = read_ds(UserInPtr::from(buf), MSQID_DS_SIZE)?;
                    Some((perm, get_u64(&raw, PERM_SIZE + 40)))
                } else {
                    None
                };
                let mut queues = ipc.msgs.lock();
                let queue = queues.by_id(msqid)?;
                queue.perm().check_owner(&creds)?;
                match change {
                    Some((perm, qbytes)) => {
                        // Raising the room past MSGMNB needs CAP_SYS_RESOURCE.
                        if qbytes > MSGMNB as u64 && creds.euid != 0 {
                            return Err(LxError::EPERM);
                        }
                        let qbytes = usize::try_from(qbytes).map_err(|_| LxError::EINVAL)?;
                        queue.set(perm.uid, perm.gid, perm.mode, qbytes);
                    }
                    None => {
                        queues.remove(msqid);
                        drop(queues);
                        queue.remove();
                    }
                }
                Ok(0)
            }
            _ => Err(LxError::EINVAL),
        }
    }
}

/// Writes a received message's type and text to `msgp`; the text's length.
fn deliver(msgp: UserOutPtr<u8>, message: &Message) -> SysResult {
    UserOutPtr::<i64>::from(msgp.addr()).write(message.mtype)?;
    msgp.offset(MTYPE_SIZE)?.write_bytes(&message.text)?;
    Ok(message.text.len())
}
