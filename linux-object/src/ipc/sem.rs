//! [`SemSet`]: a System V semaphore set, Linux's `ipc/sem.c`.
//!
//! A `semop` applies all of its operations or none. One that cannot go on now waits in the
//! set's queue; every change of the values (a `semop`, `SETVAL`, `SETALL`, an exiting
//! process's undo) retries the queue in order, and an operation that can go on is applied
//! by the changer on behalf of its waiter, who is woken with the result, as Linux's
//! `update_queue` does: a waiter never finds its chance taken by a latecomer. Removing the
//! set ends every wait with `EIDRM`.
//!
//! `SEM_UNDO` keeps, per process and set, the opposite of what its operations did
//! (`semadj`); the namespace applies it when the process exits.

use super::{now_seconds, IpcNamespace, IpcObject, IpcPerm, IPC_NOWAIT};
use crate::container::Pid;
use crate::error::{LxError, LxResult};
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::task::{Context, Waker};
use kernel_hal_lkm::sync::Mutex;

/// `SEMMSL`: semaphores in a set at most.
pub const SEMMSL: usize = 32000;
/// `SEMMNI`: sets in a namespace at most.
pub const SEMMNI: usize = 32000;
/// `SEMMNS`: semaphores in a namespace at most.
pub const SEMMNS: usize = SEMMNI * SEMMSL;
/// `SEMOPM`: operations in one `semop` at most.
pub const SEMOPM: usize = 500;
/// `SEMVMX`: the largest value of a semaphore.
pub const SEMVMX: i32 = 32767;
/// `SEMAEM`: the largest adjustment an undo may hold.
pub const SEMAEM: i32 = SEMVMX;
/// `SEM_UNDO`: the operation is undone when the process exits.
pub const SEM_UNDO: u16 = 0x1000;

/// One operation of a `semop` (`struct sembuf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SemBuf {
    /// Which semaphore.
    pub num: u16,
    /// What to add (negative: take, waiting for enough; zero: wait for zero).
    pub op: i16,
    /// `IPC_NOWAIT`, `SEM_UNDO`.
    pub flags: u16,
}

/// One semaphore.
#[derive(Debug, Clone, Copy, Default)]
struct Sem {
    value: i32,
    /// The process that last changed it (`GETPID`).
    pid: Pid,
}

/// A `semop` waiting in a set's queue.
struct Waiter {
    ticket: u64,
    pid: Pid,
    ops: Vec<SemBuf>,
    /// The operation it waits on: what `GETNCNT` and `GETZCNT` count.
    blocking: SemBuf,
    waker: Option<Waker>,
    /// Set by whoever finished the wait.
    result: Option<LxResult>,
}

struct State {
    perm: IpcPerm,
    sems: Vec<Sem>,
    /// Last `semop` (`sem_otime`), last change (`sem_ctime`), realtime seconds.
    otime: i64,
    ctime: i64,
    queue: Vec<Waiter>,
    next_ticket: u64,
    /// Each process's adjustments (`semadj`), one per semaphore.
    undos: BTreeMap<Pid, Vec<i32>>,
    removed: bool,
}

/// A semaphore set.
pub struct SemSet {
    state: Mutex<State>,
}

/// What [`SemSet::semop`] did.
pub enum SemopOutcome {
    /// Done at once.
    Done,
    /// Queued: wait with [`SemSet::poll_wait`] for this ticket.
    Queued(u64),
    /// It would have to wait, and was asked not to queue: nothing was done.
    WouldWait,
}

/// What the status fields of a set are (`struct semid64_ds`).
#[derive(Debug, Clone, Copy)]
pub struct SemStat {
    /// Owner and permissions.
    pub perm: IpcPerm,
    /// Last `semop`.
    pub otime: i64,
    /// Last change.
    pub ctime: i64,
    /// Semaphores.
    pub nsems: usize,
}

/// Why operations cannot all be applied.
enum Blocked {
    /// This one must wait.
    Wait(SemBuf),
    /// An error (`ERANGE`, `EAGAIN`).
    Fail(LxError),
}

impl IpcObject for SemSet {
    fn perm(&self) -> IpcPerm {
        self.state.lock().perm
    }
}

impl SemSet {
    /// A set of `nsems` semaphores at 0 with permissions `perm`.
    pub fn new(perm: IpcPerm, nsems: usize) -> LxResult<Arc<Self>> {
        let mut sems = Vec::new();
        sems.try_reserve_exact(nsems).map_err(|_| LxError::ENOMEM)?;
        sems.resize(nsems, Sem::default());
        Ok(Arc::new(Self {
            state: Mutex::new(State {
                perm,
                sems,
                otime: 0,
                ctime: now_seconds(),
                queue: Vec::new(),
                next_ticket: 0,
                undos: BTreeMap::new(),
                removed: false,
            }),
        }))
    }

    /// How many semaphores it has.
    pub fn len(&self) -> usize {
        self.state.lock().sems.len()
    }

    /// Whether it has none (never: `semget` refuses 0).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its status.
    pub fn stat(&self) -> SemStat {
        let state = self.state.lock();
        SemStat {
            perm: state.perm,
            otime: state.otime,
            ctime: state.ctime,
            nsems: state.sems.len(),
        }
    }

    /// `IPC_SET`: the owner and mode bits change, and the change time.
    pub fn set_perm(&self, uid: u32, gid: u32, mode: u32) {
        let mut state = self.state.lock();
        state.perm.update(uid, gid, mode);
        state.ctime = now_seconds();
    }

    /// `IPC_RMID`'s end of the set: every waiter gets `EIDRM`.
    pub fn remove(&self) {
        let wakers: Vec<Waker> = {
            let mut state = self.state.lock();
            state.removed = true;
            state.undos.clear();
            state
                .queue
                .iter_mut()
                .filter_map(|waiter| {
                    waiter.result = Some(Err(LxError::EIDRM));
                    waiter.waker.take()
                })
                .collect()
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// `semop` by process `pid` (`IPC_NOWAIT` and `SEM_UNDO` per operation; the caller
    /// checked the numbers against [`len`](Self::len) and the permissions): `EIDRM` if the set
    /// is gone, `ERANGE` past `SEMVMX` or the undo range, `EAGAIN` if it would wait with
    /// `IPC_NOWAIT`; an operation that must wait is queued if `queue`, else nothing is done.
    pub fn semop(
        self: &Arc<Self>,
        ns: &IpcNamespace,
        pid: Pid,
        ops: Vec<SemBuf>,
        queue: bool,
    ) -> LxResult<SemopOutcome> {
        let undo = ops.iter().any(|op| op.flags & SEM_UNDO != 0);
        if undo {
            ns.note_undo(pid, self)?;
        }
        let mut state = self.state.lock();
        if state.removed {
            return Err(LxError::EIDRM);
        }
        if undo && !state.undos.contains_key(&pid) {
            let mut adjustments = Vec::new();
            adjustments
                .try_reserve_exact(state.sems.len())
                .map_err(|_| LxError::ENOMEM)?;
            adjustments.resize(state.sems.len(), 0);
            state.undos.insert(pid, adjustments);
        }
        match state.try_apply(pid, &ops) {
            Ok(()) => {
                state.otime = now_seconds();
                let wakers = state.retry_queue();
                drop(state);
                wakers.into_iter().for_each(Waker::wake);
                Ok(SemopOutcome::Done)
            }
            Err(Blocked::Fail(error)) => Err(error),
            Err(Blocked::Wait(_)) if !queue => Ok(SemopOutcome::WouldWait),
            Err(Blocked::Wait(blocking)) => {
                state.queue.try_reserve(1).map_err(|_| LxError::ENOMEM)?;
                let ticket = state.next_ticket;
                state.next_ticket += 1;
                state.queue.push(Waiter {
                    ticket,
                    pid,
                    ops,
                    blocking,
                    waker: None,
                    result: None,
                });
                Ok(SemopOutcome::Queued(ticket))
            }
        }
    }

    /// The result of the wait `ticket`, or `None` (with `cx` to be woken) while it waits.
    pub fn poll_wait(&self, ticket: u64, cx: &Context<'_>) -> Option<LxResult> {
        let mut state = self.state.lock();
        let position = state.queue.iter().position(|w| w.ticket == ticket)?;
        let waiter = state.queue.get_mut(position)?;
        if let Some(result) = waiter.result {
            state.queue.remove(position);
            return Some(result);
        }
        waiter.waker = Some(cx.waker().clone());
        None
    }

    /// Ends the wait `ticket` (a timeout, a signal): its result if it has one already (the
    /// operations were applied for it), else `None` and it leaves the queue.
    pub fn cancel(&self, ticket: u64) -> Option<LxResult> {
        let mut state = self.state.lock();
        let position = state.queue.iter().position(|w| w.ticket == ticket)?;
        state.queue.remove(position).result
    }

    /// `GETVAL` of semaphore `num`.
    pub fn value(&self, num: usize) -> LxResult<i32> {
        let state = self.state.lock();
        state
            .sems
            .get(num)
            .map(|sem| sem.value)
            .ok_or(LxError::EINVAL)
    }

    /// `GETPID` of semaphore `num`.
    pub fn last_pid(&self, num: usize) -> LxResult<Pid> {
        let state = self.state.lock();
        state
            .sems
            .get(num)
            .map(|sem| sem.pid)
            .ok_or(LxError::EINVAL)
    }

    /// `GETALL`.
    pub fn values(&self) -> Vec<u16> {
        let state = self.state.lock();
        state.sems.iter().map(|sem| sem.value as u16).collect()
    }

    /// `GETNCNT` (`zero` false: waiting to take) or `GETZCNT` (waiting for zero) of semaphore
    /// `num`: the waiters whose blocking operation is on it, as Linux counts them.
    pub fn waiting(&self, num: usize, zero: bool) -> LxResult<usize> {
        let state = self.state.lock();
        if num >= state.sems.len() {
            return Err(LxError::EINVAL);
        }
        Ok(state
            .queue
            .iter()
            .filter(|w| w.result.is_none() && usize::from(w.blocking.num) == num)
            .filter(|w| {
                if zero {
                    w.blocking.op == 0
                } else {
                    w.blocking.op < 0
                }
            })
            .count())
    }

    /// `SETVAL` by process `pid` (the caller checked `0..=SEMVMX`): every process's adjustment
    /// of it is cleared, and the waiters retried.
    pub fn set_value(&self, pid: Pid, num: usize, value: i32) -> LxResult {
        let mut state = self.state.lock();
        let sem = state.sems.get_mut(num).ok_or(LxError::EINVAL)?;
        sem.value = value;
        sem.pid = pid;
        for adjustments in state.undos.values_mut() {
            if let Some(adjustment) = adjustments.get_mut(num) {
                *adjustment = 0;
            }
        }
        state.ctime = now_seconds();
        let wakers = state.retry_queue();
        drop(state);
        wakers.into_iter().for_each(Waker::wake);
        Ok(())
    }

    /// `SETALL` by process `pid`: `ERANGE` for a value above `SEMVMX` (nothing set), else as
    /// [`set_value`](Self::set_value) for every semaphore.
    pub fn set_values(&self, pid: Pid, values: &[u16]) -> LxResult {
        if values.iter().any(|&value| i32::from(value) > SEMVMX) {
            return Err(LxError::ERANGE);
        }
        let mut state = self.state.lock();
        for (sem, &value) in state.sems.iter_mut().zip(values) {
            sem.value = i32::from(value);
            sem.pid = pid;
        }
        for adjustments in state.undos.values_mut() {
            adjustments
                .iter_mut()
                .for_each(|adjustment| *adjustment = 0);
        }
        state.ctime = now_seconds();
        let wakers = state.retry_queue();
        drop(state);
        wakers.into_iter().for_each(Waker::wake);
        Ok(())
    }

    /// Applies and forgets process `pid`'s adjustments, each value kept within
    /// `0..=SEMVMX` (Linux's `exit_sem`).
    pub(crate) fn apply_undo(&self, pid: Pid) {
        let mut state = self.state.lock();
        if state.removed {
            return;
        }
        let Some(adjustments) = state.undos.remove(&pid) else {
            return;
        };
        for (sem, adjustment) in state.sems.iter_mut().zip(adjustments) {
            if adjustment != 0 {
                sem.value = (sem.value + adjustment).clamp(0, SEMVMX);
                sem.pid = pid;
            }
        }
        let wakers = state.retry_queue();
        drop(state);
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl State {
    /// Applies all of `ops` for `pid` or none, as Linux's `perform_atomic_semop`: in order,
    /// each on the values the earlier ones left.
    fn try_apply(&mut self, pid: Pid, ops: &[SemBuf]) -> Result<(), Blocked> {
        let mut values: Vec<(usize, i32)> = Vec::new();
        let mut adjust: Vec<(usize, i32)> = Vec::new();
        let current = |values: &Vec<(usize, i32)>, sems: &Vec<Sem>, num: usize| {
            values
                .iter()
                .rev()
                .find(|(n, _)| *n == num)
                .map(|(_, v)| *v)
                .or_else(|| sems.get(num).map(|sem| sem.value))
        };
        for op in ops {
            let num = usize::from(op.num);
            let value = current(&values, &self.sems, num).ok_or(Blocked::Fail(LxError::EFBIG))?;
            let op_value = i32::from(op.op);
            let wait = if op_value == 0 {
                value != 0
            } else {
                value + op_value < 0
            };
            if wait {
                return Err(if u32::from(op.flags) & IPC_NOWAIT != 0 {
                    Blocked::Fail(LxError::EAGAIN)
                } else {
                    Blocked::Wait(*op)
                });
            }
            let result = value + op_value;
            if result > SEMVMX {
                return Err(Blocked::Fail(LxError::ERANGE));
            }
            if op.flags & SEM_UNDO != 0 {
                let before = adjust
                    .iter()
                    .rev()
                    .find(|(n, _)| *n == num)
                    .map(|(_, a)| *a)
                    .or_else(|| self.undos.get(&pid).and_then(|a| a.get(num)).copied())
                    .unwrap_or(0);
                let undo = before - op_value;
                if !(-SEMAEM - 1..=SEMAEM).contains(&undo) {
                    return Err(Blocked::Fail(LxError::ERANGE));
                }
                adjust
                    .try_reserve(1)
                    .map_err(|_| Blocked::Fail(LxError::ENOMEM))?;
                adjust.push((num, undo));
            }
            values
                .try_reserve(1)
                .map_err(|_| Blocked::Fail(LxError::ENOMEM))?;
            values.push((num, result));
        }
        for (num, value) in values {
            if let Some(sem) = self.sems.get_mut(num) {
                sem.value = value;
                sem.pid = pid;
            }
        }
        if let Some(adjustments) = self.undos.get_mut(&pid) {
            for (num, undo) in adjust {
                if let Some(adjustment) = adjustments.get_mut(num) {
                    *adjustment = undo;
                }
            }
        }
        Ok(())
    }

    /// Retries the queue in order until nothing more can go on; returns whom to wake.
    fn retry_queue(&mut self) -> Vec<Waker> {
        let mut wakers = Vec::new();
        // Out of the state while it is walked, so that `try_apply` may borrow the rest.
        let mut queue = core::mem::take(&mut self.queue);
        loop {
            let mut progress = false;
            for waiter in queue.iter_mut().filter(|waiter| waiter.result.is_none()) {
                match self.try_apply(waiter.pid, &waiter.ops) {
                    Ok(()) => {
                        waiter.result = Some(Ok(()));
                        self.otime = now_seconds();
                        progress = true;
                    }
                    Err(Blocked::Fail(error)) => waiter.result = Some(Err(error)),
                    Err(Blocked::Wait(blocking)) => {
                        waiter.blocking = blocking;
                        continue;
                    }
                }
                if let Some(waker) = waiter.waker.take() {
                    if wakers.try_reserve(1).is_ok() {
                        wakers.push(waker);
                    } else {
                        // Without room to defer it, wake it now: it finds the lock held and
                        // waits for it, which is slower but correct.
                        waker.wake();
                    }
                }
            }
            if !progress {
                break;
            }
        }
        self.queue = queue;
        wakers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Credentials;
    use crate::test_executor::CountingWaker;

    fn set(nsems: usize) -> Arc<SemSet> {
        SemSet::new(IpcPerm::new(0, 0o600, &Credentials::default()), nsems).unwrap()
    }

    fn op(num: u16, op: i16, flags: u16) -> SemBuf {
        SemBuf { num, op, flags }
    }

    #[test]
    fn operations_apply_all_or_none() {
        let ns = IpcNamespace::new();
        let set = set(2);
        assert!(matches!(
            set.semop(&ns, 1, vec![op(0, 2, 0)], true),
            Ok(SemopOutcome::Done)
        ));
        let nowait = IPC_NOWAIT as u16;
        assert!(matches!(
            set.semop(&ns, 1, vec![op(0, -1, 0), op(1, -1, nowait)], true),
            Err(LxError::EAGAIN)
        ));
        assert_eq!(set.values(), vec![2, 0], "nothing of a failed semop stays");
        assert!(matches!(
            set.semop(&ns, 1, vec![op(0, 32766, 0)], true),
            Err(LxError::ERANGE)
        ));
        assert!(matches!(
            set.semop(&ns, 7, vec![op(1, 3, 0)], true),
            Ok(SemopOutcome::Done)
        ));
        assert_eq!(set.last_pid(1), Ok(7));
    }

    #[test]
    fn a_waiter_is_served_by_the_change_that_lets_it_go_on() {
        let ns = IpcNamespace::new();
        let set = set(1);
        let Ok(SemopOutcome::Queued(ticket)) = set.semop(&ns, 2, vec![op(0, -2, 0)], true) else {
            panic!("must wait");
        };
        let (counter, waker) = CountingWaker::new();
        let cx = Context::from_waker(&waker);
        assert_eq!(set.poll_wait(ticket, &cx), None);
        assert_eq!(set.waiting(0, false), Ok(1));
        assert_eq!(set.waiting(0, true), Ok(0));
        set.semop(&ns, 3, vec![op(0, 1, 0)], true).unwrap();
        assert_eq!(counter.wakes(), 0);
        set.semop(&ns, 3, vec![op(0, 1, 0)], true).unwrap();
        assert_eq!(counter.wakes(), 1);
        assert_eq!(set.values(), vec![0], "taken for the waiter");
        assert_eq!(set.last_pid(0), Ok(2));
        assert_eq!(set.poll_wait(ticket, &cx), Some(Ok(())));
    }

    #[test]
    fn removal_ends_waits_with_eidrm_and_undo_applies_at_exit() {
        let ns = IpcNamespace::new();
        let set = set(1);
        set.semop(&ns, 4, vec![op(0, 5, SEM_UNDO)], true).unwrap();
        set.semop(&ns, 4, vec![op(0, -1, SEM_UNDO)], true).unwrap();
        assert_eq!(set.values(), vec![4]);
        ns.process_exited(4);
        assert_eq!(set.values(), vec![0]);
        let Ok(SemopOutcome::Queued(ticket)) = set.semop(&ns, 2, vec![op(0, -1, 0)], true) else {
            panic!("must wait");
        };
        set.remove();
        let (_, waker) = CountingWaker::new();
        let cx = Context::from_waker(&waker);
        assert_eq!(set.poll_wait(ticket, &cx), Some(Err(LxError::EIDRM)));
    }

    #[test]
    fn setval_clears_adjustments() {
        let ns = IpcNamespace::new();
        let set = set(1);
        set.semop(&ns, 4, vec![op(0, 5, SEM_UNDO)], true).unwrap();
        set.set_value(9, 0, 1).unwrap();
        ns.process_exited(4);
        assert_eq!(set.values(), vec![1]);
        assert_eq!(set.set_values(9, &[40000]), Err(LxError::ERANGE));
    }
}
