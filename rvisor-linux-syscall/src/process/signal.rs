//! `kill`, `tkill`, `tgkill`: signals to processes and threads of the container.
//!
//! rVisor resolves the container's pids and checks each target as Linux's
//! `check_kill_permission` does — a valid signal (0..=64, else `EINVAL`), then permission:
//! the caller's own process, a process whose real or saved-set user id is the caller's real
//! or effective one, any process for `CAP_KILL` (effective uid 0), and `SIGCONT` within the
//! caller's session (else `EPERM`). Signal 0 stops there. Delivery is the host's
//! ([`TaskHost::send_signal`](crate::TaskHost::send_signal)); a zombie is signalled by doing
//! nothing, successfully, as on Linux.
//!
//! `kill`'s targets: `pid > 0` the process with that pid (a thread's id names its
//! process); 0 the caller's process group; `-1` every process of the container but pid 1
//! and the caller's own (`ESRCH` if there is none; permission failures do not count, so the
//! result is 0 even if none could be signalled, as Linux answers); `< -1` the group `-pid`
//! (`ESRCH` if empty; 0 if any member got the signal, else the last error).

use alloc::sync::Arc;
use linux_object::container::{Pid, INIT_PID};
use linux_object::process::LinuxProcess;
use linux_object::{LxError, LxResult};

use crate::host::SignalTarget;
use crate::{SysResult, Syscall};

/// `SIGPIPE`, raised in a writer of a pipe nobody reads.
const SIGPIPE: u32 = 13;
/// The highest signal number (`_NSIG`).
const NSIG: i32 = 64;
/// `SIGCONT`, which a process may send to any process of its session.
const SIGCONT: i32 = 18;

impl Syscall<'_> {
    /// Linux's `check_kill_permission` of `signal` to `target`.
    fn may_signal(&self, target: &LinuxProcess, signal: i32) -> LxResult {
        if !(0..=NSIG).contains(&signal) {
            return Err(LxError::EINVAL);
        }
        if target.pid() == self.process.pid() {
            return Ok(());
        }
        let caller = self.process.credentials();
        let other = target.credentials();
        let by_ids = [caller.euid, caller.uid]
            .iter()
            .any(|id| *id == other.suid || *id == other.uid);
        if by_ids || caller.euid == 0 {
            return Ok(());
        }
        if signal == SIGCONT && target.sid() == self.process.sid() {
            return Ok(());
        }
        Err(LxError::EPERM)
    }

    /// Checks, then sends `signal` to `target` (nothing is sent for 0 or to a zombie).
    pub(crate) fn signal_process(&self, target: &LinuxProcess, signal: i32) -> LxResult {
        self.may_signal(target, signal)?;
        if signal == 0 || target.exit_status().is_some() {
            return Ok(());
        }
        self.host
            .send_signal(SignalTarget::Process(target.pid()), signal.unsigned_abs())
    }

    /// Signals every member of `members` (a process group): 0 if any got it, else the
    /// last error; `ESRCH` if there is none.
    fn signal_group(&self, members: &[Arc<LinuxProcess>], signal: i32) -> SysResult {
        let mut result = Err(LxError::ESRCH);
        let mut delivered = false;
        for member in members {
            result = self.signal_process(member, signal);
            delivered |= result.is_ok();
        }
        if delivered {
            return Ok(0);
        }
        result.map(|()| 0)
    }

    /// Passes on a write's `result`; `EPIPE` also raises `SIGPIPE` in the caller's process,
    /// as Linux's `pipe_write` does.
    pub(crate) fn raise_broken_pipe(&self, result: SysResult) -> SysResult {
        if result == Err(LxError::EPIPE) {
            // Cannot fail but for a process with no task left, which is not the caller's.
            let _ = self
                .host
                .send_signal(SignalTarget::Process(self.process.pid()), SIGPIPE);
        }
        result
    }

    /// `kill(pid, sig)`.
    pub fn sys_kill(&self, pid: i32, signal: i32) -> SysResult {
        let container = self.container()?;
        match pid {
            pid if pid > 0 => {
                let target = container
                    .process(pid.unsigned_abs())
                    .ok_or(LxError::ESRCH)?;
                self.signal_process(&target, signal).map(|()| 0)
            }
            // -INT_MIN is no group.
            i32::MIN => Err(LxError::ESRCH),
            0 => self.signal_group(&container.group_members(self.process.pgid()), signal),
            -1 => {
                let mut result = Ok(0);
                let mut count = 0;
                for target in container.processes() {
                    if target.pid() <= INIT_PID || target.pid() == self.process.pid() {
                        continue;
                    }
                    count += 1;
                    match self.signal_process(&target, signal) {
                        Err(LxError::EPERM) => {}
                        other => result = other.map(|()| 0),
                    }
                }
                if count == 0 {
                    return Err(LxError::ESRCH);
                }
                result
            }
            pid => self.signal_group(&container.group_members(pid.unsigned_abs()), signal),
        }
    }

    /// `tkill(tid, sig)`: `EINVAL` for a `tid` below 1.
    pub fn sys_tkill(&self, tid: i32, signal: i32) -> SysResult {
        if tid <= 0 {
            return Err(LxError::EINVAL);
        }
        self.signal_thread(None, tid.unsigned_abs(), signal)
    }

    /// `tgkill(tgid, tid, sig)`: `EINVAL` for a `tgid` or `tid` below 1; `ESRCH` unless
    /// thread `tid` exists and belongs to process `tgid`.
    pub fn sys_tgkill(&self, tgid: i32, tid: i32, signal: i32) -> SysResult {
        if tid <= 0 || tgid <= 0 {
            return Err(LxError::EINVAL);
        }
        self.signal_thread(Some(tgid.unsigned_abs()), tid.unsigned_abs(), signal)
    }

    /// Linux's `do_send_specific`: the thread `tid` (of process `tgid`, if given).
    fn signal_thread(&self, tgid: Option<Pid>, tid: Pid, signal: i32) -> SysResult {
        let target = self.container()?.process(tid).ok_or(LxError::ESRCH)?;
        if tgid.is_some_and(|tgid| tgid != target.pid()) {
            return Err(LxError::ESRCH);
        }
        self.may_signal(&target, signal)?;
        // A first thread that has exited while others run is still found (a zombie
        // thread); it takes the signal and drops it.
        let live = target.threads().contains(&tid);
        if signal == 0 || !live {
            return Ok(0);
        }
        let to = SignalTarget::Thread {
            pid: target.pid(),
            tid,
        };
        self.host.send_signal(to, signal.unsigned_abs())?;
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestMachine;
    use alloc::vec::Vec;
    use linux_object::credentials::Credentials;
    use linux_object::process::ExitStatus;

    const KILL: u32 = 62;
    const TKILL: u32 = 200;
    const TGKILL: u32 = 234;
    const FORK: u32 = 57;
    const SIGTERM: usize = 15;

    fn errno(error: LxError) -> isize {
        -(error.errno() as isize)
    }

    fn int(value: i32) -> usize {
        value as isize as usize
    }

    /// init (1) and its children 2, 3, 4.
    fn family() -> (std::sync::Arc<TestMachine>, Arc<LinuxProcess>) {
        let machine = TestMachine::new();
        let init = machine.init();
        for pid in 2..=4 {
            assert_eq!(machine.run(&init, 1, FORK, [0; 6]), pid);
        }
        (machine, init)
    }

    #[test]
    fn kill_a_pid_checks_then_asks_the_host() {
        let (machine, init) = family();
        let kill = |pid: i32, signal: i32| {
            machine.run(&init, 1, KILL, [int(pid), int(signal), 0, 0, 0, 0])
        };
        assert_eq!(kill(2, 15), 0);
        assert_eq!(kill(3, 0), 0, "signal 0 only checks");
        assert_eq!(kill(99, 15), errno(LxError::ESRCH));
        assert_eq!(
            kill(99, 99),
            errno(LxError::ESRCH),
            "no target: ESRCH first"
        );
        assert_eq!(kill(2, 65), errno(LxError::EINVAL));
        assert_eq!(kill(2, -1), errno(LxError::EINVAL));
        assert_eq!(kill(i32::MIN, 0), errno(LxError::ESRCH));
        // A thread's id names its process.
        let tid = machine.process(4).new_thread().unwrap();
        assert_eq!(kill(tid as i32, 9), 0);
        // A zombie takes it silently.
        machine.process(3).exit(ExitStatus::Exited(0));
        assert_eq!(kill(3, 9), 0);
        assert_eq!(
            machine.signals(),
            [
                (SignalTarget::Process(2), 15),
                (SignalTarget::Process(4), 9)
            ]
        );
    }

    #[test]
    fn permission_follows_real_and_saved_ids_and_sigcont_in_the_session() {
        let (machine, _init) = family();
        let user = machine.process(2);
        user.set_credentials(Credentials::user(1000, 1000));
        let mut setuid = Credentials::user(2000, 2000);
        setuid.suid = 1000;
        machine.process(3).set_credentials(setuid);
        machine
            .process(4)
            .set_credentials(Credentials::user(3000, 3000));
        let kill =
            |pid: usize, signal: usize| machine.run(&user, 2, KILL, [pid, signal, 0, 0, 0, 0]);
        assert_eq!(kill(3, SIGTERM), 0, "its saved uid is the caller's");
        assert_eq!(kill(4, SIGTERM), errno(LxError::EPERM));
        assert_eq!(kill(1, SIGTERM), errno(LxError::EPERM));
        assert_eq!(
            kill(4, 0),
            errno(LxError::EPERM),
            "signal 0 checks permission too"
        );
        assert_eq!(kill(4, 18), 0, "SIGCONT within the session");
        assert_eq!(kill(2, SIGTERM), 0, "itself");
        let mut effective_root = Credentials::user(1000, 1000);
        effective_root.euid = 0;
        user.set_credentials(effective_root);
        assert_eq!(kill(4, SIGTERM), 0, "CAP_KILL");
    }

    #[test]
    fn kill_groups_and_everyone() {
        let (machine, init) = family();
        let container = machine.container();
        container.set_process_group(&init, 3, 3).unwrap();
        container.set_process_group(&init, 4, 3).unwrap();
        let kill = |caller: &Arc<LinuxProcess>, pid: i32, signal: usize| {
            machine.run(caller, caller.pid(), KILL, [int(pid), signal, 0, 0, 0, 0])
        };
        assert_eq!(kill(&init, -3, SIGTERM), 0);
        assert_eq!(kill(&init, -77, SIGTERM), errno(LxError::ESRCH));
        assert_eq!(kill(&init, -3, 99), errno(LxError::EINVAL));
        let child = machine.process(2);
        assert_eq!(kill(&child, 0, 10), 0, "its group: 1 and 2");
        assert_eq!(
            machine.signals(),
            [
                (SignalTarget::Process(3), 15),
                (SignalTarget::Process(4), 15),
                (SignalTarget::Process(1), 10),
                (SignalTarget::Process(2), 10),
            ]
        );
        // -1: everyone but init and the caller; permission failures are not errors.
        let before = machine.signals().len();
        assert_eq!(kill(&child, -1, 1), 0);
        let sent: Vec<_> = machine.signals().split_off(before);
        assert_eq!(
            sent,
            [(SignalTarget::Process(3), 1), (SignalTarget::Process(4), 1)]
        );
        child.set_credentials(Credentials::user(1000, 1000));
        assert_eq!(kill(&child, -1, 1), 0, "none permitted, still 0");
        assert_eq!(kill(&child, -1, 99), errno(LxError::EINVAL));
        let lonely = TestMachine::new();
        let only = lonely.init();
        assert_eq!(
            lonely.run(&only, 1, KILL, [int(-1), 9, 0, 0, 0, 0]),
            errno(LxError::ESRCH)
        );
    }

    #[test]
    fn tkill_and_tgkill_name_one_thread() {
        let (machine, init) = family();
        let process = machine.process(2);
        let tid = process.new_thread().unwrap() as usize;
        assert_eq!(machine.run(&init, 1, TKILL, [tid, 6, 0, 0, 0, 0]), 0);
        assert_eq!(machine.run(&init, 1, TGKILL, [2, tid, 6, 0, 0, 0]), 0);
        assert_eq!(
            machine.run(&init, 1, TGKILL, [3, tid, 6, 0, 0, 0]),
            errno(LxError::ESRCH)
        );
        assert_eq!(
            machine.run(&init, 1, TGKILL, [0, tid, 6, 0, 0, 0]),
            errno(LxError::EINVAL)
        );
        assert_eq!(
            machine.run(&init, 1, TKILL, [0, 6, 0, 0, 0, 0]),
            errno(LxError::EINVAL)
        );
        assert_eq!(
            machine.run(&init, 1, TKILL, [99, 6, 0, 0, 0, 0]),
            errno(LxError::ESRCH)
        );
        assert_eq!(
            machine.run(&init, 1, TKILL, [tid, 65, 0, 0, 0, 0]),
            errno(LxError::EINVAL)
        );
        // The first thread gone, the others running: found, and the signal dropped.
        process.exit_thread(2, 0);
        assert_eq!(machine.run(&init, 1, TGKILL, [2, 2, 6, 0, 0, 0]), 0);
        let tid = tid as Pid;
        assert_eq!(
            machine.signals(),
            [
                (SignalTarget::Thread { pid: 2, tid }, 6),
                (SignalTarget::Thread { pid: 2, tid }, 6),
            ]
        );
    }
}
