//! `semget`, `semop`, `semtimedop`, `semctl`: System V semaphore sets
//! ([`SemSet`]), with Linux's `ipc/sem.c` checks in its order.
//!
//! A `semop` that must wait sleeps in the set's queue until a change lets it go on (the
//! changer applies it), the set is removed (`EIDRM`), `semtimedop`'s timeout passes
//! (`EAGAIN`) or a signal ends it (`EINTR`, never restarted, as signal(7) says).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::future::{poll_fn, Future};
use core::pin::Pin;
use core::task::Poll;
use core::time::Duration;
use linux_object::container::Container;
use linux_object::ipc::sem::{
    SemBuf, SemSet, SemopOutcome, SEMMNI, SEMMNS, SEMMSL, SEMOPM, SEMVMX,
};
use linux_object::ipc::{Got, IpcObject};
use linux_object::{LxError, LxResult};

use super::{put, put_perm, read_ds, write_out, IPC_INFO, IPC_RMID, IPC_SET, IPC_STAT, PERM_SIZE};
use crate::fs::read_time;
use crate::user::{UserInPtr, UserOutPtr, UserPtr};
use crate::{SysResult, Syscall};

/// `semctl` commands of their own.
const GETPID: i32 = 11;
const GETVAL: i32 = 12;
const GETALL: i32 = 13;
const GETNCNT: i32 = 14;
const GETZCNT: i32 = 15;
const SETVAL: i32 = 16;
const SETALL: i32 = 17;
const SEM_STAT: i32 = 18;
const SEM_INFO: i32 = 19;
const SEM_STAT_ANY: i32 = 20;

/// `sizeof(struct semid64_ds)`.
const SEMID_DS_SIZE: usize = 104;
/// `sizeof(struct sembuf)`.
const SEMBUF_SIZE: usize = 6;
/// `sizeof(struct seminfo)`: ten `int`s.
const SEMINFO_SIZE: usize = 40;
/// `SEMUSZ`, which `IPC_INFO` reports.
const SEMUSZ: i32 = 20;

/// A checked `semtimedop`.
struct SemopCall {
    container: Arc<Container>,
    set: Arc<SemSet>,
    ops: Vec<SemBuf>,
    timeout: Option<Duration>,
}

/// Ends a queued wait that is dropped (a signal): its ticket leaves the queue.
struct Queued<'a> {
    set: &'a SemSet,
    ticket: u64,
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        let _ = self.set.cancel(self.ticket);
    }
}

impl Syscall<'_> {
    /// `semget(key, nsems, semflg)`: `EINVAL` for `nsems` outside `0..=SEMMSL`, 0 for a new
    /// set or more than an existing set has; the rest as [`IdTable::get`](linux_object::ipc::IdTable::get).
    pub fn sys_semget(&self, key: i32, nsems: i32, semflg: i32) -> SysResult {
        let nsems = usize::try_from(nsems).map_err(|_| LxError::EINVAL)?;
        if nsems > SEMMSL {
            return Err(LxError::EINVAL);
        }
        let container = self.ipc_container()?;
        let creds = self.process.credentials();
        let mut sets = container.ipc().sems.lock();
        let got = sets.get(key, semflg as u32, &creds, |set| {
            if nsems > set.len() {
                Err(LxError::EINVAL)
            } else {
                Ok(())
            }
        })?;
        match got {
            Got::Existing(id) => Ok(id as usize),
            Got::New(id, perm) => {
                if nsems == 0 {
                    return Err(LxError::EINVAL);
                }
                sets.insert(id, &perm, SemSet::new(perm, nsems)?)?;
                Ok(id as usize)
            }
        }
    }

    /// `semop(semid, sops, nsops)`, where it does not wait.
    pub fn sys_semop_now(&self, semid: i32, sops: UserInPtr<u8>, nsops: u32) -> Option<SysResult> {
        self.sys_semtimedop_now(semid, sops, nsops, UserPtr::from(0))
    }

    /// `semop(semid, sops, nsops)`: `semtimedop` without a timeout.
    pub async fn sys_semop(&self, semid: i32, sops: UserInPtr<u8>, nsops: u32) -> SysResult {
        self.sys_semtimedop(semid, sops, nsops, UserPtr::from(0))
            .await
    }

    /// `semtimedop`, where it does not wait: `None` (nothing done) if it must.
    pub fn sys_semtimedop_now(
        &self,
        semid: i32,
        sops: UserInPtr<u8>,
        nsops: u32,
        timeout: UserInPtr<i64>,
    ) -> Option<SysResult> {
        let call = match self.semop_call(semid, sops, nsops, timeout) {
            Ok(call) => call,
            Err(error) => return Some(Err(error)),
        };
        match call
            .set
            .semop(call.container.ipc(), self.process.pid(), call.ops, false)
        {
            Ok(SemopOutcome::Done) => Some(Ok(0)),
            Ok(SemopOutcome::WouldWait) => None,
            Ok(SemopOutcome::Queued(ticket)) => {
                // Not asked for; leave the queue and wait as the later half does.
                let _ = call.set.cancel(ticket);
                None
            }
            Err(error) => Some(Err(error)),
        }
    }

    /// `semtimedop(semid, sops, nsops, timeout)`: `EINVAL` for no operation or a negative id,
    /// `E2BIG` past `SEMOPM`, `EFAULT`, `EINVAL` for a bad timeout or an unknown id, `EFBIG`
    /// for a semaphore number past the set, `EACCES` (write permission to change, read to wait
    /// for zero); then all or nothing, waiting unless `IPC_NOWAIT` (`EAGAIN`).
    pub async fn sys_semtimedop(
        &self,
        semid: i32,
        sops: UserInPtr<u8>,
        nsops: u32,
        timeout: UserInPtr<i64>,
    ) -> SysResult {
        let call = self.semop_call(semid, sops, nsops, timeout)?;
        let set = call.set;
        let ticket = match set.semop(call.container.ipc(), self.process.pid(), call.ops, true)? {
            SemopOutcome::Done => return Ok(0),
            SemopOutcome::Queued(ticket) => ticket,
            SemopOutcome::WouldWait => return Err(LxError::EAGAIN),
        };
        let queued = Queued { set: &set, ticket };
        let mut sleep = match call.timeout {
            Some(duration) if duration.is_zero() => {
                return finish(&queued, Err(LxError::EAGAIN));
            }
            Some(duration) => Some(kernel_async::sleep(duration).map_err(|_| LxError::EIO)?),
            None => None,
        };
        let result = poll_fn(|cx| {
            if let Some(result) = set.poll_wait(ticket, cx) {
                return Poll::Ready(result);
            }
            if let Some(sleep) = sleep.as_mut() {
                if Pin::new(sleep).poll(cx).is_ready() {
                    return Poll::Ready(Err(LxError::EAGAIN));
                }
            }
            Poll::Pending
        })
        .await;
        finish(&queued, result)
    }

    /// `semtimedop`'s arguments read and checked, in Linux's order, and its set found.
    fn semop_call(
        &self,
        semid: i32,
        sops: UserInPtr<u8>,
        nsops: u32,
        timeout: UserInPtr<i64>,
    ) -> LxResult<SemopCall> {
        let timeout = if timeout.is_null() {
            None
        } else {
            Some(read_time(timeout)?)
        };
        if nsops < 1 || semid < 0 {
            return Err(LxError::EINVAL);
        }
        let nsops = nsops as usize;
        if nsops > SEMOPM {
            return Err(LxError::E2BIG);
        }
        let raw = sops.read_bytes(nsops * SEMBUF_SIZE)?;
        let timeout = timeout
            .map(|(sec, nsec)| {
                let sec = u64::try_from(sec).map_err(|_| LxError::EINVAL)?;
                let nsec = u32::try_from(nsec)
                    .ok()
                    .filter(|&nsec| nsec < 1_000_000_000)
                    .ok_or(LxError::EINVAL)?;
                LxResult::Ok(Duration::new(sec, nsec))
            })
            .transpose()?;
        let mut ops = alloc::vec::Vec::new();
        ops.try_reserve_exact(nsops).map_err(|_| LxError::ENOMEM)?;
        ops.extend(raw.chunks_exact(SEMBUF_SIZE).map(|op| {
            let half = |at: usize| {
                let mut pair = [0u8; 2];
                if let Some(bytes) = op.get(at..at + 2) {
                    pair.copy_from_slice(bytes);
                }
                pair
            };
            SemBuf {
                num: u16::from_le_bytes(half(0)),
                op: i16::from_le_bytes(half(2)),
                flags: u16::from_le_bytes(half(4)),
            }
        }));
        let alter = ops.iter().any(|op| op.op != 0);
        let highest = ops.iter().map(|op| usize::from(op.num)).max().unwrap_or(0);
        let container = self.ipc_container()?;
        let set = container.ipc().sems.lock().by_id(semid)?;
        if highest >= set.len() {
            return Err(LxError::EFBIG);
        }
        let creds = self.process.credentials();
        set.perm()
            .check(&creds, if alter { 0o222 } else { 0o444 })?;
        Ok(SemopCall {
            container,
            set,
            ops,
            timeout,
        })
    }

    /// `semctl(semid, semnum, cmd, arg)`, `arg` being the `union semun` in the register.
    pub fn sys_semctl(&self, semid: i32, semnum: i32, cmd: i32, arg: usize) -> SysResult {
        if semid < 0 {
            return Err(LxError::EINVAL);
        }
        let container = self.ipc_container()?;
        let ipc = container.ipc();
        let creds = self.process.credentials();
        let pid = self.process.pid();
        match cmd {
            IPC_INFO | SEM_INFO => {
                let sets = ipc.sems.lock();
                let (usz, aem) = if cmd == SEM_INFO {
                    let used: usize = sets.objects().map(|set| set.len()).sum();
                    (sets.in_use() as i32, used as i32)
                } else {
                    (SEMUSZ, SEMVMX)
                };
                let max_index = sets.max_index();
                drop(sets);
                let fields: [i32; 10] = [
                    SEMMNS as i32,
                    SEMMNI as i32,
                    SEMMNS as i32,
                    SEMMNS as i32,
                    SEMMSL as i32,
                    SEMOPM as i32,
                    SEMOPM as i32,
                    usz,
                    SEMVMX,
                    aem,
                ];
                let mut buf = [0u8; SEMINFO_SIZE];
                for (index, value) in fields.iter().enumerate() {
                    put(&mut buf, index * 4, &value.to_le_bytes());
                }
                write_out(UserOutPtr::from(arg), &buf)?;
                Ok(max_index.max(0) as usize)
            }
            IPC_STAT | SEM_STAT | SEM_STAT_ANY => {
                let (id, set) = if cmd == IPC_STAT {
                    (semid, ipc.sems.lock().by_id(semid)?)
                } else {
                    ipc.sems.lock().by_index(semid)?
                };
                let stat = set.stat();
                if cmd != SEM_STAT_ANY {
                    stat.perm.check(&creds, 0o444)?;
                }
                let mut buf = [0u8; SEMID_DS_SIZE];
                put_perm(&mut buf, &stat.perm);
                put(&mut buf, PERM_SIZE, &stat.otime.to_le_bytes());
                put(&mut buf, PERM_SIZE + 16, &stat.ctime.to_le_bytes());
                put(&mut buf, PERM_SIZE + 32, &(stat.nsems as u64).to_le_bytes());
                write_out(UserOutPtr::from(arg), &buf)?;
                Ok(if cmd == IPC_STAT { 0 } else { id as usize })
            }
            GETALL | SETALL | GETVAL | GETPID | GETNCNT | GETZCNT => {
                let set = ipc.sems.lock().by_id(semid)?;
                let access = if cmd == SETALL { 0o222 } else { 0o444 };
                set.perm().check(&creds, access)?;
                let array = UserPtr::<u16, crate::user::InOut>::from(arg);
                if cmd == GETALL {
                    array.write_array(&set.values())?;
                    return Ok(0);
                }
                if cmd == SETALL {
                    let values = array.read_array(set.len())?;
                    set.set_values(pid, &values)?;
                    return Ok(0);
                }
                let num = usize::try_from(semnum).map_err(|_| LxError::EINVAL)?;
                let value = match cmd {
                    GETVAL => set.value(num)? as usize,
                    GETPID => set.last_pid(num)? as usize,
                    GETNCNT => set.waiting(num, false)?,
                    _ => set.waiting(num, true)?,
                };
                Ok(value)
            }
            SETVAL => {
                let value = arg as u32 as i32;
                if !(0..=SEMVMX).contains(&value) {
                    return Err(LxError::ERANGE);
                }
                let set = ipc.sems.lock().by_id(semid)?;
                let num = usize::try_from(semnum)
                    .ok()
                    .filter(|&num| num < set.len())
                    .ok_or(LxError::EINVAL)?;
                set.perm().check(&creds, 0o222)?;
                set.set_value(pid, num, value)?;
                Ok(0)
            }
            IPC_SET | IPC_RMID => {
                let change = if cmd == IPC_SET {
                    Some(read_ds(UserInPtr::from(arg), SEMID_DS_SIZE)?.0)
                } else {
                    None
                };
                let mut sets = ipc.sems.lock();
                let set = sets.by_id(semid)?;
                set.perm().check_owner(&creds)?;
                match change {
                    Some(change) => set.set_perm(change.uid, change.gid, change.mode),
                    None => {
                        sets.remove(semid);
                        drop(sets);
                        set.remove();
                    }
                }
                Ok(0)
            }
            _ => Err(LxError::EINVAL),
        }
    }
}

/// The result of a queued `semop` that ended with `result`: the wait's own result if the
/// queue finished it meanwhile (its operations were applied), else `result`.
fn finish(queued: &Queued<'_>, result: LxResult) -> SysResult {
    let result = match queued.set.cancel(queued.ticket) {
        Some(done) => done,
        None => result,
    };
    result.map(|()| 0)
}
