//! Terminals: opening the terminal devices (`/dev/tty`, `/dev/console`, `/dev/ptmx`,
//! `/dev/pts/N`), the terminal ioctls on rVisor's ptys, job control (Linux's
//! `tty_check_change`: a background process group touching its controlling terminal is
//! stopped with `SIGTTIN`/`SIGTTOU`), and the non-canonical read (`VMIN`/`VTIME`).
//!
//! A process's controlling terminal is its session's — the pty whose session is the
//! caller's, or, for the first process's session, the host terminal the container was
//! started from (`Container::terminal`) — unless the process is without it
//! (`LinuxProcess::tty_detached`: it gave it up with `TIOCNOTTY`, or existed before its
//! session leader acquired it, as Linux keeps it per process). `setsid` makes a process
//! lose it, as on Linux.
//!
//! Served requests: `TCGETS`, `TCSETS`, `TCSETSW`, `TCSETSF` (and the `termios2` and
//! `termio` forms), `TIOCGWINSZ`, `TIOCSWINSZ`, `TIOCSCTTY`, `TIOCNOTTY`, `TIOCGPGRP`,
//! `TIOCSPGRP`, `TIOCGSID`, `FIONREAD`, `TIOCOUTQ`, `TCFLSH`, `TCXONC`, `TCSBRK`,
//! `TCSBRKP`, `TIOCSBRK`, `TIOCCBRK`, `TIOCGETD`, `TIOCSETD` (`N_TTY` only), `TIOCGDEV`,
//! `TIOCEXCL`, `TIOCNXCL`, `TIOCGEXCL`,
//! and on a master `TIOCGPTN`, `TIOCSPTLCK`, `TIOCGPTLCK`, `TIOCGPTPEER`, `TIOCSIG`.
//! Refused on purpose: `TIOCSTI` (`EIO`, as Linux 6.2+ without `legacy_tiocsti`),
//! `TIOCCONS` and `TIOCVHANGUP` (`EPERM`: they act on the host's console or need
//! `CAP_SYS_ADMIN` over it), packet mode `TIOCPKT`/`TIOCGPKT` (`EINVAL`, not served
//! yet); other requests are `ENOTTY`, as for a pty on Linux.

use alloc::sync::Arc;
use core::time::Duration;
use kernel_hostfs::{FileType, Metadata};
use linux_object::fs::{Device, FileLike, OpenFlags, StdioFile};
use linux_object::tty::termios::{cflag, lflag, TERMIOS2_SIZE, TERMIOS_SIZE};
use linux_object::tty::{Pty, PtyMaster, PtySlave, Termios, WinSize, PTY_SLAVE_MAJOR};
use linux_object::{LxError, LxResult};

use super::poll::{wait_until_ready, Timeout};
use super::rw::{IoVec, CHUNK};
use crate::user::{UserInPtr, UserOutPtr};
use crate::{SysResult, Syscall};

const TCGETS: u32 = 0x5401;
const TCSETS: u32 = 0x5402;
const TCSETSW: u32 = 0x5403;
const TCSETSF: u32 = 0x5404;
const TCGETA: u32 = 0x5405;
const TCSETA: u32 = 0x5406;
const TCSETAW: u32 = 0x5407;
const TCSETAF: u32 = 0x5408;
const TCSBRK: u32 = 0x5409;
const TCXONC: u32 = 0x540A;
const TCFLSH: u32 = 0x540B;
const TIOCEXCL: u32 = 0x540C;
const TIOCNXCL: u32 = 0x540D;
const TIOCSCTTY: u32 = 0x540E;
const TIOCGPGRP: u32 = 0x540F;
const TIOCSPGRP: u32 = 0x5410;
const TIOCOUTQ: u32 = 0x5411;
const TIOCSTI: u32 = 0x5412;
const TIOCGWINSZ: u32 = 0x5413;
const TIOCSWINSZ: u32 = 0x5414;
const FIONREAD: u32 = 0x541B;
const TIOCCONS: u32 = 0x541D;
const TIOCPKT: u32 = 0x5420;
const TIOCNOTTY: u32 = 0x5422;
const TIOCSETD: u32 = 0x5423;
const TIOCGETD: u32 = 0x5424;
const TCSBRKP: u32 = 0x5425;
const TIOCSBRK: u32 = 0x5427;
const TIOCCBRK: u32 = 0x5428;
const TIOCGSID: u32 = 0x5429;
const TCGETS2: u32 = 0x802C_542A;
const TCSETS2: u32 = 0x402C_542B;
const TCSETSW2: u32 = 0x402C_542C;
const TCSETSF2: u32 = 0x402C_542D;
const TIOCGPTN: u32 = 0x8004_5430;
const TIOCSPTLCK: u32 = 0x4004_5431;
const TIOCGDEV: u32 = 0x8004_5432;
const TIOCSIG: u32 = 0x4004_5436;
const TIOCVHANGUP: u32 = 0x5437;
const TIOCGPKT: u32 = 0x8004_5438;
const TIOCGPTLCK: u32 = 0x8004_5439;
const TIOCGEXCL: u32 = 0x8004_5440;
const TIOCGPTPEER: u32 = 0x5441;

pub(crate) const SIGTTIN: u32 = 21;
pub(crate) const SIGTTOU: u32 = 22;

/// `CAP_SYS_ADMIN`.
const CAP_SYS_ADMIN: u64 = 1 << 21;
/// `O_NOCTTY`.
const O_NOCTTY: u32 = 0o400;
/// `CSIZE` and `PARENB`, which a pty forces to 8 bits without parity.
const CSIZE: u32 = 0o60;
const PARENB: u32 = 0o400;
/// `CBAUDEX`, `BOTHER` (the speed is in `c_ospeed`), and where `CIBAUD` sits.
const CBAUDEX: u32 = 0o10000;
const BOTHER: u32 = 0o10000;
const IBSHIFT: u32 = 16;

/// A terminal device's `major:minor`, as Linux's `new_decode_dev` reads a `dev_t`.
fn decode_dev(rdev: u64) -> (u32, u32) {
    let major = ((rdev >> 8) & 0xfff) as u32;
    let minor = ((rdev & 0xff) | ((rdev >> 12) & 0xfff00)) as u32;
    (major, minor)
}

/// Whether a node with `metadata` is a terminal device rVisor serves: `/dev/tty`,
/// `/dev/console`, `/dev/ptmx`, a pty slave.
pub(crate) fn is_served_terminal(metadata: &Metadata) -> bool {
    if metadata.type_ != FileType::CharDevice {
        return false;
    }
    matches!(decode_dev(metadata.rdev), (5, 0..=2) | (PTY_SLAVE_MAJOR, _))
}

/// The speed a `c_cflag` baud code stands for (Linux's `baud_table`).
fn baud(code: u32) -> Option<u32> {
    const LOW: [u32; 16] = [
        0, 50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400,
    ];
    const HIGH: [u32; 15] = [
        57600, 115_200, 230_400, 460_800, 500_000, 576_000, 921_600, 1_000_000, 1_152_000,
        1_500_000, 2_000_000, 2_500_000, 3_000_000, 3_500_000, 4_000_000,
    ];
    let index = (code & 0o17) as usize;
    if code & CBAUDEX == 0 {
        LOW.get(index).copied()
    } else {
        index.checked_sub(1).and_then(|i| HIGH.get(i)).copied()
    }
}

/// What Linux's `set_termios` and `pty_set_termios` make of requested settings: speeds from
/// the baud codes (unless `BOTHER`), 8 bits, no parity, receiver on.
fn settle(mut termios: Termios) -> Termios {
    let out_code = termios.cflag & cflag::CBAUD;
    if out_code != BOTHER {
        if let Some(speed) = baud(out_code) {
            termios.ospeed = speed;
        }
    }
    let in_code = (termios.cflag >> IBSHIFT) & cflag::CBAUD;
    if in_code == 0 {
        termios.ispeed = termios.ospeed;
    } else if in_code != BOTHER {
        if let Some(speed) = baud(in_code) {
            termios.ispeed = speed;
        }
    }
    termios.cflag &= !(CSIZE | PARENB);
    termios.cflag |= cflag::CS8 | cflag::CREAD;
    termios
}

/// An rVisor pty end: its pair and whether it is the master.
fn pty_of(file: &dyn FileLike) -> Option<(&Arc<Pty>, bool)> {
    if let Some(master) = file.as_any().downcast_ref::<PtyMaster>() {
        return Some((master.pty(), true));
    }
    file.as_any()
        .downcast_ref::<PtySlave>()
        .map(|slave| (slave.pty(), false))
}

impl Syscall<'_> {
    /// The pty that is the caller's controlling terminal.
    fn controlling_pty(&self) -> Option<Arc<Pty>> {
        if self.process.tty_detached() {
            return None;
        }
        let container = self.container().ok()?;
        container.devpts().controlling(self.process.sid())
    }

    /// Whether the caller's session has a controlling terminal.
    fn has_controlling_terminal(&self) -> bool {
        if self.controlling_pty().is_some() {
            return true;
        }
        self.host_terminal_is_controlling()
    }

    /// The host terminal is the first session's controlling terminal.
    fn host_terminal_is_controlling(&self) -> bool {
        self.process.sid() == linux_object::container::INIT_PID
            && !self.process.tty_detached()
            && self
                .container()
                .is_ok_and(|container| container.terminal().is_some())
    }

    fn is_session_leader(&self) -> bool {
        self.process.sid() == self.process.pid()
    }

    fn has_sys_admin(&self) -> bool {
        self.host
            .capabilities(None)
            .is_ok_and(|caps| caps.effective & CAP_SYS_ADMIN != 0)
    }

    /// Opens the terminal device a node with `metadata` names; `None` if it names none.
    /// `flags` are `open`'s (for `O_NOCTTY`), `kept` the description's.
    pub(crate) fn open_terminal(
        &self,
        metadata: &Metadata,
        flags: u32,
        kept: OpenFlags,
    ) -> Option<LxResult<Arc<dyn FileLike>>> {
        if !is_served_terminal(metadata) {
            return None;
        }
        Some(self.open_terminal_device(metadata, flags, kept))
    }

    fn open_terminal_device(
        &self,
        metadata: &Metadata,
        flags: u32,
        kept: OpenFlags,
    ) -> LxResult<Arc<dyn FileLike>> {
        let container = self.container()?;
        match decode_dev(metadata.rdev) {
            (5, 0) => {
                // The caller's controlling terminal; ENXIO without one, as on Linux.
                if let Some(pty) = self.controlling_pty() {
                    return Ok(PtySlave::open_as(&pty, kept, *metadata)?);
                }
                if !self.host_terminal_is_controlling() {
                    return Err(LxError::ENXIO);
                }
                let terminal = container.terminal().ok_or(LxError::ENXIO)?;
                let file = StdioFile::new(terminal);
                file.set_flags(kept);
                Ok(file)
            }
            (5, 1) => {
                if let Some(console) = container.console() {
                    return Ok(PtySlave::open_as(&console, kept, *metadata)?);
                }
                let terminal = container.terminal().ok_or(LxError::ENODEV)?;
                let file = StdioFile::new(terminal);
                file.set_flags(kept);
                Ok(file)
            }
            (5, 2) => {
                let now = kernel_hal_lkm::platform()
                    .map(|platform| platform.realtime_now())
                    .unwrap_or_default();
                let now = kernel_hostfs::Timespec {
                    sec: i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
                    nsec: i64::from(now.subsec_nanos()),
                };
                let uid = self.process.credentials().fsuid;
                Ok(container.devpts().open_master(*metadata, kept, uid, now)?)
            }
            (_, index) => {
                self.may_reopen(container.devpts().get(index).as_deref())?;
                let slave =
                    container
                        .devpts()
                        .open_slave(index, kept)
                        .map_err(|error| match error {
                            LxError::ENOENT => LxError::ENXIO,
                            error => error,
                        })?;
                self.maybe_acquire(slave.pty(), flags, kept);
                Ok(slave)
            }
        }
    }

    /// Linux's `tty_reopen`: a slave in exclusive mode (`TIOCEXCL`) opens again only for
    /// `CAP_SYS_ADMIN` (`EBUSY`).
    fn may_reopen(&self, pty: Option<&Pty>) -> LxResult {
        match pty {
            Some(pty) if pty.exclusive(false) && !self.has_sys_admin() => Err(LxError::EBUSY),
            _ => Ok(()),
        }
    }

    /// Linux's `tty_open_proc_set_tty`: a session leader without a controlling terminal
    /// opening a slave for reading without `O_NOCTTY` acquires it.
    fn maybe_acquire(&self, pty: &Pty, flags: u32, kept: OpenFlags) {
        if flags & O_NOCTTY != 0
            || !self.is_session_leader()
            || self.has_controlling_terminal()
            || !kept.readable()
        {
            return;
        }
        if pty.attach(self.process.sid(), self.process.pgid(), false) {
            self.acquired();
        }
    }

    /// The caller acquired its session's controlling terminal: it is the caller's alone, as
    /// Linux's `proc_set_tty` gives it to the calling process only (its children to come
    /// inherit it); the session's other processes stay without.
    fn acquired(&self) {
        let sid = self.process.sid();
        self.process.set_tty_detached(false);
        if let Ok(container) = self.container() {
            for other in container.processes() {
                if other.sid() == sid && other.pid() != self.process.pid() {
                    other.set_tty_detached(true);
                }
            }
        }
    }

    /// Linux's `tty_check_change`: a process of a background group using its controlling
    /// terminal `pty` gets `signal` (its whole group), and the call is restarted once it is
    /// continued; an orphaned group gets `EIO`; a thread that blocks or ignores `signal`
    /// goes on (for `SIGTTIN`, `EIO`).
    pub(crate) fn tty_job_check(&self, pty: &Pty, signal: u32) -> LxResult {
        if pty.session() != Some(self.process.sid()) || self.process.tty_detached() {
            return Ok(());
        }
        let Some(foreground) = pty.pgrp() else {
            return Ok(());
        };
        let own = self.process.pgid();
        if own == foreground {
            return Ok(());
        }
        if self.host.signal_ignored_or_blocked(signal) {
            return if signal == SIGTTIN {
                Err(LxError::EIO)
            } else {
                Ok(())
            };
        }
        if self.group_orphaned(own)? {
            return Err(LxError::EIO);
        }
        let container = self.container()?;
        // From the kernel, as Linux's `kill_pgrp(pgrp, sig, 1)`.
        if !container.devpts().signal_group(own, signal) {
            for member in container.group_members(own) {
                if member.exit_status().is_none() {
                    self.host
                        .send_signal(crate::host::SignalTarget::Process(member.pid()), signal)?;
                }
            }
        }
        // The signal is pending: the gate turns this into a restart.
        Err(LxError::EINTR)
    }

    /// Whether process group `pgid` is orphaned: no member has a live parent in another
    /// group of the same session (Linux's `will_become_orphaned_pgrp`).
    fn group_orphaned(&self, pgid: linux_object::container::Pid) -> LxResult<bool> {
        let container = self.container()?;
        for member in container.group_members(pgid) {
            if member.exit_status().is_some() {
                continue;
            }
            if let Some(parent) = member.parent() {
                if parent.exit_status().is_none()
                    && parent.pgid() != pgid
                    && parent.sid() == member.sid()
                {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// The job-control check before a read of `file`, if it is a pty slave.
    pub(crate) fn tty_read_check(&self, file: &dyn FileLike) -> LxResult {
        match pty_of(file) {
            Some((pty, false)) if !pty.hung_up() => self.tty_job_check(pty, SIGTTIN),
            _ => Ok(()),
        }
    }

    /// The job-control check before a write to `file`, if it is a pty slave with `TOSTOP`.
    pub(crate) fn tty_write_check(&self, file: &dyn FileLike) -> LxResult {
        match pty_of(file) {
            Some((pty, false)) if !pty.hung_up() && pty.termios().l(lflag::TOSTOP) => {
                self.tty_job_check(pty, SIGTTOU)
            }
            _ => Ok(()),
        }
    }

    /// A read of a pty slave in non-canonical mode, as Linux's `n_tty_read` counts `VMIN`
    /// and `VTIME`: `None` if `file` is not one (the caller reads as usual).
    pub(crate) async fn read_tty_raw(
        &self,
        file: &dyn FileLike,
        segments: &[IoVec],
    ) -> Option<SysResult> {
        let slave = file.as_any().downcast_ref::<PtySlave>()?;
        let (vmin, vtime) = slave.pty().raw_read_params()?;
        Some(self.read_raw(slave, vmin, vtime, segments).await)
    }

    async fn read_raw(
        &self,
        slave: &PtySlave,
        vmin: u8,
        vtime: u8,
        segments: &[IoVec],
    ) -> SysResult {
        let total: usize = segments.iter().map(|segment| segment.len).sum();
        let want = total.min(CHUNK);
        if want == 0 {
            return Ok(0);
        }
        let pty = slave.pty().clone();
        let tenths = Duration::from_millis(100) * u32::from(vtime);
        // Nothing is taken from the terminal before the read is sure to return, so that a
        // signal ending the wait loses no input. VMIN 0: one timer for the whole read (none
        // with VTIME 0), any byte ends it; VMIN > 0: VMIN bytes (or the buffer's size) end it,
        // and with VTIME the timer runs from each byte that arrives.
        let target = if vmin > 0 {
            usize::from(vmin).min(want)
        } else {
            1
        };
        let mut timeout = if vmin > 0 {
            Timeout::Never
        } else {
            Timeout::after(tenths)?
        };
        let nonblock = slave.flags().contains(OpenFlags::NONBLOCK);
        let mut seen = 0usize;
        loop {
            let queued = match pty.slave_queued_now(None) {
                Some(queued) => queued,
                // Hung up: end of file.
                None => return Ok(0),
            };
            if queued >= target {
                break;
            }
            if vmin > 0 && vtime > 0 && queued > seen {
                // A byte came: the inter-byte timer starts again.
                timeout = Timeout::after(tenths)?;
            }
            seen = queued;
            if let Timeout::Immediately = timeout {
                break;
            }
            if nonblock {
                if queued == 0 {
                    return Err(LxError::EAGAIN);
                }
                break;
            }
            let changed = wait_until_ready(
                |cx| usize::from(pty.slave_queued_now(cx) != Some(seen)),
                &mut timeout,
            )
            .await;
            if changed == 0 {
                // The timer ran out: what is there is the answer.
                break;
            }
        }
        let mut buf = alloc::vec::Vec::new();
        buf.try_reserve_exact(want).map_err(|_| LxError::ENOMEM)?;
        buf.resize(want, 0);
        let got = match pty.slave_read(None, &mut buf) {
            Some(Ok(count)) => count,
            Some(Err(error)) => return Err(error),
            None => 0,
        };
        super::rw::copy_out(segments, buf.get(..got).unwrap_or_default())
    }

    /// Serves terminal request `request` on `file` if it is an rVisor pty end (`None`
    /// otherwise).
    pub(crate) fn tty_ioctl(
        &self,
        file: &dyn FileLike,
        request: u32,
        arg: usize,
    ) -> Option<SysResult> {
        let (pty, master) = pty_of(file)?;
        let pty = pty.clone();
        if !master && pty.hung_up() {
            // Linux's `hung_up_tty_ioctl`.
            return Some(Err(if request == TIOCSPGRP {
                LxError::ENOTTY
            } else {
                LxError::EIO
            }));
        }
        Some(self.pty_ioctl(file, &pty, master, request, arg))
    }

    fn pty_ioctl(
        &self,
        file: &dyn FileLike,
        pty: &Arc<Pty>,
        master: bool,
        request: u32,
        arg: usize,
    ) -> SysResult {
        let is_controlling =
            || pty.session() == Some(self.process.sid()) && !self.process.tty_detached();
        match request {
            TCGETS | TCGETS2 => {
                let size = if request == TCGETS {
                    TERMIOS_SIZE
                } else {
                    TERMIOS2_SIZE
                };
                let bytes = pty.termios().to_bytes();
                UserOutPtr::<u8>::from(arg).write_array(bytes.get(..size).unwrap_or_default())?;
                Ok(0)
            }
            TCSETS | TCSETSW | TCSETSF | TCSETS2 | TCSETSW2 | TCSETSF2 => {
                self.tty_job_check(pty, SIGTTOU)?;
                let size = if matches!(request, TCSETS | TCSETSW | TCSETSF) {
                    TERMIOS_SIZE
                } else {
                    TERMIOS2_SIZE
                };
                let bytes = UserInPtr::<u8>::from(arg).read_array(size)?;
                let termios = settle(Termios::from_bytes(&bytes, &pty.termios()));
                pty.set_termios(termios, matches!(request, TCSETSF | TCSETSF2));
                Ok(0)
            }
            TCGETA => {
                let termios = pty.termios();
                let mut out = [0u8; 18];
                for (at, flag) in [termios.iflag, termios.oflag, termios.cflag, termios.lflag]
                    .iter()
                    .enumerate()
                {
                    out[at * 2..at * 2 + 2].copy_from_slice(&(*flag as u16).to_le_bytes());
                }
                out[8] = termios.line;
                out[9..17].copy_from_slice(&termios.cc[..8]);
                UserOutPtr::<u8>::from(arg).write_array(&out)?;
                Ok(0)
            }
            TCSETA | TCSETAW | TCSETAF => {
                self.tty_job_check(pty, SIGTTOU)?;
                let raw = UserInPtr::<u8>::from(arg).read_array(18)?;
                let mut termios = pty.termios();
                let half = |at: usize| {
                    u32::from(u16::from_le_bytes([
                        raw.get(at).copied().unwrap_or(0),
                        raw.get(at + 1).copied().unwrap_or(0),
                    ]))
                };
                // `struct termio` replaces the low 16 bits of each flag word.
                termios.iflag = (termios.iflag & !0xffff) | half(0);
                termios.oflag = (termios.oflag & !0xffff) | half(2);
                termios.cflag = (termios.cflag & !0xffff) | half(4);
                termios.lflag = (termios.lflag & !0xffff) | half(6);
                termios.line = raw.get(8).copied().unwrap_or(0);
                for (slot, value) in termios.cc.iter_mut().zip(raw.iter().skip(9).take(8)) {
                    *slot = *value;
                }
                pty.set_termios(settle(termios), request == TCSETAF);
                Ok(0)
            }
            TIOCGWINSZ => {
                UserOutPtr::<u8>::from(arg).write_array(&pty.winsize().to_bytes())?;
                Ok(0)
            }
            TIOCSWINSZ => {
                let raw = UserInPtr::<u8>::from(arg).read_array(8)?;
                let mut bytes = [0u8; 8];
                for (slot, value) in bytes.iter_mut().zip(raw.iter()) {
                    *slot = *value;
                }
                pty.set_winsize(WinSize::from_bytes(bytes));
                Ok(0)
            }
            FIONREAD => {
                let queued = if master {
                    pty.master_queued()
                } else {
                    pty.slave_queued()
                };
                UserOutPtr::<i32>::from(arg).write(i32::try_from(queued).unwrap_or(i32::MAX))?;
                Ok(0)
            }
            TIOCOUTQ => {
                // A pty keeps no output of its own: it is in the other end's input.
                UserOutPtr::<i32>::from(arg).write(0)?;
                Ok(0)
            }
            TCFLSH => {
                self.tty_job_check(pty, SIGTTOU)?;
                let (input, output) = match arg {
                    0 => (true, false),
                    1 => (false, true),
                    2 => (true, true),
                    _ => return Err(LxError::EINVAL),
                };
                // From the master, its input is the slave's output and back.
                if master {
                    pty.flush(output, input);
                } else {
                    pty.flush(input, output);
                }
                Ok(0)
            }
            TCXONC => {
                self.tty_job_check(pty, SIGTTOU)?;
                match arg {
                    0 => pty.set_stopped(true),
                    1 => pty.set_stopped(false),
                    2 => pty.send_flow_char(true),
                    3 => pty.send_flow_char(false),
                    _ => return Err(LxError::EINVAL),
                }
                Ok(0)
            }
            TCSBRK | TCSBRKP | TIOCSBRK | TIOCCBRK => {
                // A pty has nothing to drain and no break to send.
                self.tty_job_check(pty, SIGTTOU)?;
                Ok(0)
            }
            TIOCGETD => {
                UserOutPtr::<i32>::from(arg).write(0)?;
                Ok(0)
            }
            TIOCSETD => match UserInPtr::<i32>::from(arg).read()? {
                0 => Ok(0),
                _ => Err(LxError::EINVAL),
            },
            TIOCGDEV => {
                UserOutPtr::<u32>::from(arg).write(pty.rdev() as u32)?;
                Ok(0)
            }
            TIOCSCTTY => self.tiocsctty(file, pty, arg),
            TIOCNOTTY => {
                if master || !is_controlling() {
                    return Err(LxError::ENOTTY);
                }
                if self.is_session_leader() {
                    // The whole session loses it; the foreground group is told.
                    pty.detach(false);
                } else {
                    self.process.set_tty_detached(true);
                }
                Ok(0)
            }
            TIOCGPGRP => {
                if !master && !is_controlling() {
                    return Err(LxError::ENOTTY);
                }
                UserOutPtr::<i32>::from(arg).write(pty.pgrp().unwrap_or(0) as i32)?;
                Ok(0)
            }
            TIOCGSID => {
                if !master && !is_controlling() {
                    return Err(LxError::ENOTTY);
                }
                let session = pty.session().ok_or(LxError::ENOTTY)?;
                UserOutPtr::<i32>::from(arg).write(session as i32)?;
                Ok(0)
            }
            TIOCSPGRP => self.tiocspgrp(pty, arg),
            TIOCGPTN if master => {
                UserOutPtr::<u32>::from(arg).write(pty.index())?;
                Ok(0)
            }
            TIOCSPTLCK if master => {
                let lock = UserInPtr::<i32>::from(arg).read()?;
                pty.set_locked(lock != 0);
                Ok(0)
            }
            TIOCGPTLCK if master => {
                UserOutPtr::<i32>::from(arg).write(i32::from(pty.locked()))?;
                Ok(0)
            }
            TIOCGPTPEER if master => self.open_peer(file, arg),
            TIOCSIG if master => {
                let signal = u32::try_from(arg).map_err(|_| LxError::EINVAL)?;
                if !(1..64).contains(&signal) {
                    return Err(LxError::EINVAL);
                }
                pty.signal_foreground(signal);
                Ok(0)
            }
            TIOCSTI => Err(LxError::EIO),
            TIOCCONS | TIOCVHANGUP => Err(LxError::EPERM),
            TIOCEXCL | TIOCNXCL => {
                pty.set_exclusive(master, request == TIOCEXCL);
                Ok(0)
            }
            TIOCGEXCL => {
                UserOutPtr::<i32>::from(arg).write(i32::from(pty.exclusive(master)))?;
                Ok(0)
            }
            TIOCPKT | TIOCGPKT => Err(LxError::EINVAL),
            _ => Err(LxError::ENOTTY),
        }
    }

    /// `TIOCSCTTY`, as Linux's `tiocsctty`.
    fn tiocsctty(&self, file: &dyn FileLike, pty: &Arc<Pty>, arg: usize) -> SysResult {
        let sid = self.process.sid();
        if self.is_session_leader() && pty.session() == Some(sid) {
            return Ok(0);
        }
        if !self.is_session_leader() || self.has_controlling_terminal() {
            return Err(LxError::EPERM);
        }
        let steal = pty.session().is_some();
        if steal && !(arg == 1 && self.has_sys_admin()) {
            return Err(LxError::EPERM);
        }
        if !file.flags().readable() && !self.has_sys_admin() {
            return Err(LxError::EPERM);
        }
        if steal {
            pty.forget_session();
        }
        if !pty.attach(sid, self.process.pgid(), steal) {
            return Err(LxError::EPERM);
        }
        self.acquired();
        Ok(0)
    }

    /// `TIOCSPGRP`, as Linux's `tiocspgrp`.
    fn tiocspgrp(&self, pty: &Arc<Pty>, arg: usize) -> SysResult {
        match self.tty_job_check(pty, SIGTTOU) {
            Err(LxError::EIO) => return Err(LxError::ENOTTY),
            Err(error) => return Err(error),
            Ok(()) => {}
        }
        let pgrp = UserInPtr::<i32>::from(arg).read()?;
        let pgrp = u32::try_from(pgrp).map_err(|_| LxError::EINVAL)?;
        if pty.session() != Some(self.process.sid()) || self.process.tty_detached() {
            return Err(LxError::ENOTTY);
        }
        let container = self.container()?;
        let members = container.group_members(pgrp);
        let session = match members.first() {
            Some(member) => member.sid(),
            None => container.process(pgrp).ok_or(LxError::ESRCH)?.sid(),
        };
        if session != self.process.sid() {
            return Err(LxError::EPERM);
        }
        pty.set_pgrp(pgrp);
        Ok(0)
    }

    /// `TIOCGPTPEER`: opens the master's slave with open flags `arg` as a new descriptor.
    fn open_peer(&self, file: &dyn FileLike, arg: usize) -> SysResult {
        let master = file
            .as_any()
            .downcast_ref::<PtyMaster>()
            .ok_or(LxError::EIO)?;
        let flags = u32::try_from(arg).map_err(|_| LxError::EINVAL)?;
        if !self.process.files().has_free() {
            return Err(LxError::EMFILE);
        }
        let cloexec = flags & super::open::O_CLOEXEC != 0;
        let kept = OpenFlags::from_bits_truncate(flags & !(super::open::O_CLOEXEC | O_NOCTTY))
            | OpenFlags::LARGEFILE;
        self.may_reopen(Some(master.pty()))?;
        let slave = master.open_peer(kept)?;
        self.maybe_acquire(slave.pty(), flags, kept);
        let fd = self.process.files().add(slave, cloexec)?;
        Ok(fd as usize)
    }
}

/// Whether `metadata` is a device node `open` may open (the memory devices and the
/// terminals rVisor serves).
pub(crate) fn is_served_device(metadata: &Metadata) -> bool {
    Device::is_served(metadata) || is_served_terminal(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, run, Sandbox};

    const READ: u32 = 0;
    const WRITE: u32 = 1;
    const OPEN: u32 = 2;
    const IOCTL: u32 = 16;
    const O_RDWR: usize = 2;

    fn sandbox() -> Sandbox {
        let sandbox = Sandbox::new("tty");
        sandbox.mkdir("dev");
        let container = sandbox.process.container().unwrap();
        assert!(container.mount_devfs().unwrap());
        sandbox
    }

    fn int_at(sandbox: &Sandbox, at: usize) -> i32 {
        let bytes = sandbox.user.get_bytes(at, 4);
        i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }

    #[test]
    fn ptmx_pts_and_the_controlling_terminal() {
        let sandbox = sandbox();
        let sys = sandbox.syscall();
        let out = sandbox.buf(64);
        let master = run(
            &sys,
            OPEN,
            &[sandbox.cstr("/dev/ptmx"), O_RDWR | O_NOCTTY as usize],
        );
        assert!(master >= 0, "{master}");
        let master = master as usize;
        assert_eq!(run(&sys, IOCTL, &[master, TIOCGPTN as usize, out]), 0);
        assert_eq!(int_at(&sandbox, out), 0);
        let pts = sandbox.cstr("/dev/pts/0");
        assert_eq!(run(&sys, OPEN, &[pts, O_RDWR]), err(LxError::EIO), "locked");
        let zero = sandbox.user.put_bytes(&0i32.to_le_bytes());
        assert_eq!(run(&sys, IOCTL, &[master, TIOCSPTLCK as usize, zero]), 0);
        assert_eq!(
            run(&sys, OPEN, &[sandbox.cstr("/dev/tty"), O_RDWR]),
            err(LxError::ENXIO),
            "no controlling terminal yet"
        );
        // The first process leads its session: opening the slave makes it its terminal.
        let slave = run(&sys, OPEN, &[pts, O_RDWR]) as usize;
        assert_eq!(run(&sys, IOCTL, &[slave, TIOCGSID as usize, out]), 0);
        assert_eq!(int_at(&sandbox, out), 1);
        assert!(run(&sys, OPEN, &[sandbox.cstr("/dev/tty"), O_RDWR]) >= 0);
        assert_eq!(
            run(&sys, IOCTL, &[slave, TIOCGPTN as usize, out]),
            err(LxError::ENOTTY)
        );
        assert_eq!(
            run(&sys, IOCTL, &[slave, TIOCSIG as usize, 2]),
            err(LxError::ENOTTY)
        );

        // Settings: a pty keeps 8 bits without parity, whatever is asked.
        let termios = sandbox.buf(TERMIOS_SIZE);
        assert_eq!(run(&sys, IOCTL, &[master, TCGETS as usize, termios]), 0);
        let mut bytes = sandbox.user.get_bytes(termios, TERMIOS_SIZE);
        let cflag = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        assert_eq!(cflag, 0o277);
        bytes[8..12].copy_from_slice(&((cflag & !CSIZE) | PARENB).to_le_bytes());
        let asked = sandbox.user.put_bytes(&bytes);
        assert_eq!(run(&sys, IOCTL, &[slave, TCSETS as usize, asked]), 0);
        assert_eq!(run(&sys, IOCTL, &[slave, TCGETS as usize, termios]), 0);
        let bytes = sandbox.user.get_bytes(termios, TERMIOS_SIZE);
        assert_eq!(
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]),
            0o277
        );

        // Window size through the master, seen on the slave.
        let size = sandbox.user.put_bytes(&[24, 0, 80, 0, 0, 0, 0, 0]);
        assert_eq!(run(&sys, IOCTL, &[master, TIOCSWINSZ as usize, size]), 0);
        assert_eq!(run(&sys, IOCTL, &[slave, TIOCGWINSZ as usize, out]), 0);
        assert_eq!(sandbox.user.get_bytes(out, 4), [24, 0, 80, 0]);

        // Typed input: a line for the slave, its echo for the master.
        let line = sandbox.user.put_bytes(b"hi\r");
        assert_eq!(run(&sys, WRITE, &[master, line, 3]), 3);
        assert_eq!(run(&sys, IOCTL, &[slave, FIONREAD as usize, out]), 0);
        assert_eq!(int_at(&sandbox, out), 3);
        assert_eq!(run(&sys, READ, &[slave, out, 64]), 3);
        assert_eq!(sandbox.user.get_bytes(out, 3), b"hi\n");
        assert_eq!(run(&sys, READ, &[master, out, 64]), 4);
        assert_eq!(sandbox.user.get_bytes(out, 4), b"hi\r\n");
        assert_eq!(
            run(&sys, IOCTL, &[master, TIOCSTI as usize, out]),
            err(LxError::EIO)
        );

        // Exclusive mode: the slave opens again only with CAP_SYS_ADMIN.
        assert_eq!(run(&sys, IOCTL, &[slave, TIOCEXCL as usize]), 0);
        assert_eq!(run(&sys, IOCTL, &[slave, TIOCGEXCL as usize, out]), 0);
        assert_eq!(int_at(&sandbox, out), 1);
        assert_eq!(run(&sys, IOCTL, &[master, TIOCGEXCL as usize, out]), 0);
        assert_eq!(int_at(&sandbox, out), 0, "the master's end is not");
        let caps = sys.host.capabilities(None).unwrap();
        let without = crate::host::Capabilities {
            effective: caps.effective & !CAP_SYS_ADMIN,
            ..caps
        };
        sys.host.set_own_capabilities(without).unwrap();
        assert_eq!(run(&sys, OPEN, &[pts, O_RDWR]), err(LxError::EBUSY));
        sys.host.set_own_capabilities(caps).unwrap();
        assert!(run(&sys, OPEN, &[pts, O_RDWR]) >= 0);
        assert_eq!(run(&sys, IOCTL, &[slave, TIOCNXCL as usize]), 0);
    }
}
