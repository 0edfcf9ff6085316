//! Pseudo-terminals: [`DevPts`] (one per container, numbering its ptys from 0), [`Pty`] (a
//! pair's shared state: the slave's [`LineDiscipline`], the master's output queue, window
//! size, session and foreground group), and the two open file kinds, [`PtyMaster`] and
//! [`PtySlave`].
//!
//! As Linux's `pty.c`: what the master writes is the terminal's input (it goes through the
//! line discipline, which echoes back to the master and raises signals); what the slave
//! writes is output-processed and read by the master. Closing the last master hangs the
//! slave up (its readers see end of file, its writers `EIO`, its session leader `SIGHUP`
//! and `SIGCONT`); closing the last slave makes the master's reads `EIO` and its poll
//! `POLLHUP`. Signals go out through [`TtySignals`] after every lock is released.

use super::ldisc::{Effects, LineDiscipline};
use super::termios::{cc, lflag, Termios, WinSize};
use crate::container::Pid;
use crate::devfs::DEVPTS_DEV;
use crate::error::{LxError, LxResult};
use crate::fs::{FileLike, OpenFlags, PollEvents};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::task::{Context, Poll, Waker};
use kernel_hal_lkm::sync::Mutex;
use kernel_hostfs::{FileType, Metadata, Timespec};

/// `UNIX98_PTY_SLAVE_MAJOR`: slave `N` is character device 136:N.
pub const PTY_SLAVE_MAJOR: u32 = 136;

/// How many ptys one container may have open (Linux's default `kernel.pty.max` is 4096).
pub const PTY_MAX: u32 = 4096;

/// The `tty` group, which owns slaves (devpts mounted `gid=5,mode=620`, as container
/// engines mount it).
pub const TTY_GID: u32 = 5;

/// Bytes typed at the master that wait for room in the line discipline (the slave's flip
/// buffer) before a master's write waits.
const INPUT_CAP: usize = 8192;

/// Bytes of output the master has not read before a slave's write waits.
const OUTPUT_CAP: usize = 8192;

const SIGHUP: u32 = 1;
const SIGCONT: u32 = 18;
const SIGWINCH: u32 = 28;

/// How a terminal reaches processes: implemented by the module over the container's tasks.
pub trait TtySignals: Send + Sync {
    /// Sends `signal` to every process of group `pgid`, from the kernel (as `kill_pgrp`
    /// does for a terminal: `si_code` `SI_KERNEL`).
    fn signal_group(&self, pgid: Pid, signal: u32);

    /// Sends `signal` to process `pid`, from the kernel.
    fn signal_process(&self, pid: Pid, signal: u32);
}

/// A signal a terminal raises, sent once its lock is released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Raised {
    Group(Pid, u32),
    Process(Pid, u32),
}

/// Adds `cx`'s waker to `wakers` unless an equivalent one is already there.
fn register(wakers: &mut Vec<Waker>, cx: &Context<'_>) {
    if !wakers.iter().any(|waker| waker.will_wake(cx.waker())) {
        wakers.push(cx.waker().clone());
    }
}

/// The state of a pty pair, under its lock.
struct PtyState {
    ldisc: LineDiscipline,
    /// Typed at the master, waiting for room in the line discipline.
    input: VecDeque<u8>,
    /// Written by the slave (output-processed) and echoed input, for the master to read.
    output: VecDeque<u8>,
    winsize: WinSize,
    /// The session whose controlling terminal this is.
    session: Option<Pid>,
    /// The foreground process group.
    pgrp: Option<Pid>,
    /// `TIOCSPTLCK`: the slave cannot be opened while locked (it starts locked).
    locked: bool,
    /// Open master descriptions.
    masters: usize,
    /// Open slave descriptions.
    slaves: usize,
    /// The last slave was closed (`TTY_OTHER_CLOSED` on the master).
    other_closed: bool,
    /// The master is gone: the slave is hung up.
    hung_up: bool,
    /// Output stopped by `VSTOP` or `TCOOFF`.
    stopped: bool,
    /// `TIOCEXCL` on a slave: opening it again needs `CAP_SYS_ADMIN`.
    slave_exclusive: bool,
    /// `TIOCEXCL` on the master (which nobody reopens; `TIOCGEXCL` tells it).
    master_exclusive: bool,
    /// The slave node's owner and mode (`chown`/`chmod` of `/dev/pts/N`).
    uid: u32,
    gid: u32,
    mode: u16,
    slave_readers: Vec<Waker>,
    slave_writers: Vec<Waker>,
    master_readers: Vec<Waker>,
    master_writers: Vec<Waker>,
}

impl PtyState {
    /// Feeds typed input to the line discipline while it has room; returns the signals
    /// raised and wakes into `wake`.
    fn pump(&mut self, raised: &mut Vec<Raised>, wake: &mut Vec<Waker>) {
        if self.input.is_empty() {
            return;
        }
        let mut fx = Effects::default();
        let mut took = false;
        while self.ldisc.has_room() {
            let Some(byte) = self.input.pop_front() else {
                break;
            };
            took = true;
            self.ldisc.receive(byte, &mut fx);
            // Output the master has not read stays (Linux's `pty_flush_buffer` only tells a
            // packet-mode master).
            fx.flushed = false;
            // A signal character acts at once: queued echo and input before it are gone.
            for signal in fx.signals.drain(..) {
                if let Some(pgrp) = self.pgrp {
                    raised.push(Raised::Group(pgrp, signal));
                }
            }
        }
        if let Some(stopped) = fx.flow {
            self.stopped = stopped;
            if !stopped {
                wake.append(&mut self.slave_writers);
            }
        }
        if !fx.echo.is_empty() {
            self.output.extend(fx.echo.iter());
            wake.append(&mut self.master_readers);
        }
        if took {
            wake.append(&mut self.slave_readers);
            wake.append(&mut self.master_writers);
        }
    }

    /// The foreground group and session are forgotten and the session leader told, as
    /// Linux's `tty_signal_session_leader` on a hangup.
    fn hang_up(&mut self, raised: &mut Vec<Raised>) {
        self.hung_up = true;
        if let Some(session) = self.session.take() {
            raised.push(Raised::Process(session, SIGHUP));
            raised.push(Raised::Process(session, SIGCONT));
        }
        self.pgrp = None;
    }

    fn wake_everyone(&mut self, wake: &mut Vec<Waker>) {
        wake.append(&mut self.slave_readers);
        wake.append(&mut self.slave_writers);
        wake.append(&mut self.master_readers);
        wake.append(&mut self.master_writers);
    }
}

/// A pseudo-terminal pair.
pub struct Pty {
    index: u32,
    devpts: Weak<DevPts>,
    created: Timespec,
    state: Mutex<PtyState>,
}

/// The signals raised and the wakers to wake once a pty's lock is released.
#[derive(Default)]
struct After {
    raised: Vec<Raised>,
    wake: Vec<Waker>,
}

impl Pty {
    /// Its number: the slave is `/dev/pts/N`.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The slave's device number.
    pub fn rdev(&self) -> u64 {
        crate::fs::Device::dev_t(PTY_SLAVE_MAJOR, self.index)
    }

    fn finish(&self, after: After) {
        after.wake.into_iter().for_each(Waker::wake);
        if after.raised.is_empty() {
            return;
        }
        let Some(signals) = self.devpts.upgrade().and_then(|devpts| devpts.signals()) else {
            return;
        };
        for raised in after.raised {
            match raised {
                Raised::Group(pgid, signal) => signals.signal_group(pgid, signal),
                Raised::Process(pid, signal) => signals.signal_process(pid, signal),
            }
        }
    }

    /// Runs `f` on the state under the lock, then wakes and signals what it asked for.
    fn with<R>(&self, f: impl FnOnce(&mut PtyState, &mut After) -> R) -> R {
        let mut after = After::default();
        let result = f(&mut self.state.lock(), &mut after);
        self.finish(after);
        result
    }

    /// The terminal settings (`TCGETS`).
    pub fn termios(&self) -> Termios {
        *self.state.lock().ldisc.termios()
    }

    /// Changes the settings (`TCSETS*`); `flush` drops pending input first (`TCSETSF`).
    pub fn set_termios(&self, termios: Termios, flush: bool) {
        self.with(|state, after| {
            if flush {
                state.ldisc.flush_input();
                state.input.clear();
            }
            state.ldisc.set_termios(termios);
            // Leaving canonical mode may make input readable; a new VMIN may too.
            state.pump(&mut after.raised, &mut after.wake);
            after.wake.append(&mut state.slave_readers);
            after.wake.append(&mut state.master_writers);
        });
    }

    /// `TCFLSH`: drops input (`in_`) and/or unread output (`out`).
    pub fn flush(&self, in_: bool, out: bool) {
        self.with(|state, after| {
            if in_ {
                state.ldisc.flush_input();
                state.input.clear();
                after.wake.append(&mut state.master_writers);
            }
            if out {
                state.output.clear();
                after.wake.append(&mut state.slave_writers);
            }
        });
    }

    /// `TCXONC`'s `TCOOFF`/`TCOON`: stops or restarts output.
    pub fn set_stopped(&self, stopped: bool) {
        self.with(|state, after| {
            state.stopped = stopped;
            if !stopped {
                after.wake.append(&mut state.slave_writers);
            }
        });
    }

    /// `TCXONC`'s `TCIOFF`/`TCION`: sends the `VSTOP`/`VSTART` character to the master.
    pub fn send_flow_char(&self, stop: bool) {
        self.with(|state, after| {
            let c = state
                .ldisc
                .termios()
                .cc(if stop { cc::VSTOP } else { cc::VSTART });
            if c != 0 {
                state.output.push_back(c);
                after.wake.append(&mut state.master_readers);
            }
        });
    }

    /// The window size (`TIOCGWINSZ`).
    pub fn winsize(&self) -> WinSize {
        self.state.lock().winsize
    }

    /// Sets the window size (`TIOCSWINSZ`); a change sends `SIGWINCH` to the foreground
    /// group, as Linux's `tty_do_resize`.
    pub fn set_winsize(&self, winsize: WinSize) {
        self.with(|state, after| {
            if state.winsize == winsize {
                return;
            }
            state.winsize = winsize;
            if let Some(pgrp) = state.pgrp {
                after.raised.push(Raised::Group(pgrp, SIGWINCH));
            }
        });
    }

    /// The session this is the controlling terminal of.
    pub fn session(&self) -> Option<Pid> {
        self.state.lock().session
    }

    /// The foreground process group.
    pub fn pgrp(&self) -> Option<Pid> {
        self.state.lock().pgrp
    }

    /// Makes this the controlling terminal of `session`, with `pgrp` in the foreground, if
    /// it is nobody's (or `steal`); whether it did.
    pub fn attach(&self, session: Pid, pgrp: Pid, steal: bool) -> bool {
        let mut state = self.state.lock();
        if state.hung_up || (state.session.is_some() && !steal) {
            return false;
        }
        state.session = Some(session);
        state.pgrp = Some(pgrp);
        true
    }

    /// Sets the foreground group (`TIOCSPGRP`, checked by the caller).
    pub fn set_pgrp(&self, pgrp: Pid) {
        self.state.lock().pgrp = Some(pgrp);
    }

    /// The session gives the terminal up (`TIOCNOTTY` by its leader, the leader's exit):
    /// the foreground group gets `SIGHUP` (and `SIGCONT` unless the leader exits), as
    /// Linux's `disassociate_ctty`.
    pub fn detach(&self, on_exit: bool) {
        self.with(|state, after| {
            if let Some(pgrp) = state.pgrp.take() {
                after.raised.push(Raised::Group(pgrp, SIGHUP));
                if !on_exit {
                    after.raised.push(Raised::Group(pgrp, SIGCONT));
                }
            }
            state.session = None;
        });
    }

    /// Forgets `session` without signalling (`TIOCSCTTY` stealing it away).
    pub fn forget_session(&self) {
        let mut state = self.state.lock();
        state.session = None;
        state.pgrp = None;
    }

    /// Is the slave hung up (its master closed)?
    pub fn hung_up(&self) -> bool {
        self.state.lock().hung_up
    }

    /// `TIOCGEXCL`: is the master's (`master`) or the slave's end in exclusive mode?
    pub fn exclusive(&self, master: bool) -> bool {
        let state = self.state.lock();
        if master {
            state.master_exclusive
        } else {
            state.slave_exclusive
        }
    }

    /// `TIOCEXCL`/`TIOCNXCL` on the master's (`master`) or the slave's end.
    pub fn set_exclusive(&self, master: bool, exclusive: bool) {
        let mut state = self.state.lock();
        if master {
            state.master_exclusive = exclusive;
        } else {
            state.slave_exclusive = exclusive;
        }
    }

    /// Is the slave locked (`TIOCGPTLCK`)?
    pub fn locked(&self) -> bool {
        self.state.lock().locked
    }

    /// Locks or unlocks the slave (`TIOCSPTLCK`).
    pub fn set_locked(&self, locked: bool) {
        self.state.lock().locked = locked;
    }

    /// The slave node's owner and mode.
    pub fn owner(&self) -> (u32, u32, u16) {
        let state = self.state.lock();
        (state.uid, state.gid, state.mode)
    }

    /// Changes the slave node's owner (`None`: unchanged).
    pub fn chown(&self, uid: Option<u32>, gid: Option<u32>) {
        let mut state = self.state.lock();
        state.uid = uid.unwrap_or(state.uid);
        state.gid = gid.unwrap_or(state.gid);
    }

    /// Changes the slave node's permission bits.
    pub fn chmod(&self, mode: u16) {
        self.state.lock().mode = mode & 0o7777;
    }

    /// When the pair was made (the slave node's times).
    pub fn created(&self) -> Timespec {
        self.created
    }

    /// The slave's metadata, as `stat` of `/dev/pts/N` reports it.
    pub fn slave_metadata(&self) -> Metadata {
        let (uid, gid, mode) = self.owner();
        Metadata {
            dev: DEVPTS_DEV,
            inode: u64::from(self.index) + 3,
            size: 0,
            blk_size: 1024,
            blocks: 0,
            type_: FileType::CharDevice,
            mode,
            nlinks: 1,
            uid,
            gid,
            rdev: self.rdev(),
            atime: self.created,
            mtime: self.created,
            ctime: self.created,
        }
    }

    /// Is slave input readable for a read wanting `min` bytes in non-canonical mode?
    fn slave_readable(state: &PtyState, min: usize) -> bool {
        state.ldisc.readable(min)
    }

    /// `FIONREAD` on the slave: input a read could take.
    pub fn slave_queued(&self) -> usize {
        self.state.lock().ldisc.queued()
    }

    /// `FIONREAD` on the master: output not read yet.
    pub fn master_queued(&self) -> usize {
        self.state.lock().output.len()
    }

    /// The slave's non-canonical read parameters: `None` in canonical mode, else `(VMIN,
    /// VTIME)`.
    pub fn raw_read_params(&self) -> Option<(u8, u8)> {
        let state = self.state.lock();
        let termios = state.ldisc.termios();
        if termios.l(lflag::ICANON) {
            None
        } else {
            Some((termios.cc(cc::VMIN), termios.cc(cc::VTIME)))
        }
    }

    /// One step of a slave read: takes what is readable into `buf`, `Ok(0)` hung up;
    /// `None` with nothing (after registering `cx`).
    pub fn slave_read(&self, cx: Option<&Context<'_>>, buf: &mut [u8]) -> Option<LxResult<usize>> {
        self.with(|state, after| {
            if state.hung_up {
                return Some(Ok(0));
            }
            match state.ldisc.take(buf) {
                Some(count) => {
                    // Room was made: more typed input can come in.
                    state.pump(&mut after.raised, &mut after.wake);
                    after.wake.append(&mut state.master_writers);
                    Some(Ok(count))
                }
                None => {
                    if let Some(cx) = cx {
                        register(&mut state.slave_readers, cx);
                    }
                    None
                }
            }
        })
    }

    /// Input a non-canonical slave read could take now, `None` once hung up; with `cx`, its
    /// waker is woken when that may change.
    pub fn slave_queued_now(&self, cx: Option<&Context<'_>>) -> Option<usize> {
        let mut state = self.state.lock();
        if let Some(cx) = cx {
            register(&mut state.slave_readers, cx);
        }
        (!state.hung_up).then(|| state.ldisc.queued())
    }

    /// Whether a slave read wanting `min` bytes would find them (registering `cx`).
    pub fn slave_ready(&self, cx: Option<&Context<'_>>, min: usize) -> bool {
        let mut state = self.state.lock();
        if let Some(cx) = cx {
            register(&mut state.slave_readers, cx);
        }
        state.hung_up || Self::slave_readable(&state, min)
    }

    fn slave_write(&self, cx: Option<&Context<'_>>, buf: &[u8]) -> Option<LxResult<usize>> {
        self.with(|state, after| {
            if state.hung_up {
                return Some(Err(LxError::EIO));
            }
            if buf.is_empty() {
                return Some(Ok(0));
            }
            let room = OUTPUT_CAP.saturating_sub(state.output.len());
            let mut out = Vec::new();
            let taken = if state.stopped {
                0
            } else {
                state.ldisc.output(buf, room, &mut out)
            };
            if taken == 0 {
                if let Some(cx) = cx {
                    register(&mut state.slave_writers, cx);
                }
                return None;
            }
            state.output.extend(out.iter());
            after.wake.append(&mut state.master_readers);
            Some(Ok(taken))
        })
    }

    /// One step of a master read: the output queued, `EIO` once the slave closed and
    /// nothing is left; `None` with nothing yet (after registering `cx`).
    pub fn master_read(&self, cx: Option<&Context<'_>>, buf: &mut [u8]) -> Option<LxResult<usize>> {
        self.with(|state, after| {
            if !state.output.is_empty() {
                let count = buf.len().min(state.output.len());
                for (slot, byte) in buf.iter_mut().zip(state.output.drain(..count)) {
                    *slot = byte;
                }
                after.wake.append(&mut state.slave_writers);
                return Some(Ok(count));
            }
            if state.other_closed {
                return Some(Err(LxError::EIO));
            }
            if buf.is_empty() {
                return Some(Ok(0));
            }
            if let Some(cx) = cx {
                register(&mut state.master_readers, cx);
            }
            None
        })
    }

    /// One step of a master write (typing): what fits; `None` with no room (after
    /// registering `cx`).
    pub fn master_write(&self, cx: Option<&Context<'_>>, buf: &[u8]) -> Option<LxResult<usize>> {
        self.with(|state, after| {
            // Typed input waits for a slave even before one is opened, as on Linux.
            if buf.is_empty() {
                return Some(Ok(0));
            }
            let room = INPUT_CAP.saturating_sub(state.input.len());
            if room == 0 {
                if let Some(cx) = cx {
                    register(&mut state.master_writers, cx);
                }
                return None;
            }
            let count = room.min(buf.len());
            state.input.extend(buf.iter().take(count));
            state.pump(&mut after.raised, &mut after.wake);
            Some(Ok(count))
        })
    }

    /// Typed input as if written to the master, for tests and `TIOCSTI`-like uses.
    pub fn type_in(&self, text: &[u8]) -> LxResult<usize> {
        self.master_write(None, text)
            .unwrap_or(Err(LxError::EAGAIN))
    }

    /// `TIOCSIG` on the master: `signal` to the foreground group.
    pub fn signal_foreground(&self, signal: u32) {
        self.with(|state, after| {
            if let Some(pgrp) = state.pgrp {
                after.raised.push(Raised::Group(pgrp, signal));
            }
        });
    }
}

/// A container's devpts instance: its ptys by number.
pub struct DevPts {
    ptys: Mutex<BTreeMap<u32, Weak<Pty>>>,
    signals: Mutex<Option<Arc<dyn TtySignals>>>,
    this: Weak<DevPts>,
}

impl DevPts {
    /// An instance with no pty.
    pub fn new() -> Arc<Self> {
        Arc::new_cyclic(|this| Self {
            ptys: Mutex::new(BTreeMap::new()),
            signals: Mutex::new(None),
            this: this.clone(),
        })
    }

    /// Sets how its terminals signal processes.
    pub fn set_signals(&self, signals: Arc<dyn TtySignals>) {
        *self.signals.lock() = Some(signals);
    }

    fn signals(&self) -> Option<Arc<dyn TtySignals>> {
        self.signals.lock().clone()
    }

    /// Sends `signal` to group `pgid` as its terminals do (from the kernel); `false` if no
    /// way to signal was set.
    pub fn signal_group(&self, pgid: Pid, signal: u32) -> bool {
        match self.signals() {
            Some(signals) => {
                signals.signal_group(pgid, signal);
                true
            }
            None => false,
        }
    }

    /// Opens `/dev/ptmx`: a new pair numbered with the lowest free number, its slave
    /// locked and owned by `uid` (group `tty`, mode 0620); `ENOSPC` past [`PTY_MAX`].
    /// `node` is the metadata the master's `fstat` reports.
    pub fn open_master(
        &self,
        node: Metadata,
        flags: OpenFlags,
        uid: u32,
        now: Timespec,
    ) -> LxResult<Arc<PtyMaster>> {
        let mut ptys = self.ptys.lock();
        ptys.retain(|_, pty| pty.strong_count() > 0);
        let index = (0..PTY_MAX)
            .find(|index| !ptys.contains_key(index))
            .ok_or(LxError::ENOSPC)?;
        let pty = Arc::new(Pty {
            index,
            devpts: self.this.clone(),
            created: now,
            state: Mutex::new(PtyState {
                ldisc: LineDiscipline::default(),
                input: VecDeque::new(),
                output: VecDeque::new(),
                winsize: WinSize::default(),
                session: None,
                pgrp: None,
                locked: true,
                masters: 1,
                slaves: 0,
                other_closed: false,
                hung_up: false,
                stopped: false,
                slave_exclusive: false,
                master_exclusive: false,
                uid,
                gid: TTY_GID,
                mode: 0o620,
                slave_readers: Vec::new(),
                slave_writers: Vec::new(),
                master_readers: Vec::new(),
                master_writers: Vec::new(),
            }),
        });
        ptys.insert(index, Arc::downgrade(&pty));
        Ok(Arc::new(PtyMaster {
            pty,
            node,
            flags: Mutex::new(flags - OpenFlags::CLOEXEC),
        }))
    }

    /// The live pty numbered `index` (its master open).
    pub fn get(&self, index: u32) -> Option<Arc<Pty>> {
        let pty = self.ptys.lock().get(&index)?.upgrade()?;
        (!pty.hung_up()).then_some(pty)
    }

    /// The numbers of the live ptys, in order (the entries of `/dev/pts`).
    pub fn indices(&self) -> Vec<u32> {
        let ptys = self.ptys.lock();
        ptys.iter()
            .filter(|(_, pty)| pty.upgrade().is_some_and(|pty| !pty.hung_up()))
            .map(|(index, _)| *index)
            .collect()
    }

    /// The pty that is the controlling terminal of `session`.
    pub fn controlling(&self, session: Pid) -> Option<Arc<Pty>> {
        let ptys: Vec<Arc<Pty>> = self
            .ptys
            .lock()
            .values()
            .filter_map(Weak::upgrade)
            .collect();
        ptys.into_iter().find(|pty| pty.session() == Some(session))
    }

    /// Opens slave `index`: `ENOENT` if there is no such pty, `EIO` while it is locked.
    pub fn open_slave(&self, index: u32, flags: OpenFlags) -> LxResult<Arc<PtySlave>> {
        let pty = self.get(index).ok_or(LxError::ENOENT)?;
        PtySlave::open(&pty, flags)
    }
}

/// An open master (`/dev/ptmx`).
pub struct PtyMaster {
    pty: Arc<Pty>,
    node: Metadata,
    flags: Mutex<OpenFlags>,
}

impl PtyMaster {
    /// Its pair.
    pub fn pty(&self) -> &Arc<Pty> {
        &self.pty
    }

    /// Opens its slave (`TIOCGPTPEER`).
    pub fn open_peer(&self, flags: OpenFlags) -> LxResult<Arc<PtySlave>> {
        PtySlave::open(&self.pty, flags)
    }

    fn nonblocking(&self) -> bool {
        self.flags().contains(OpenFlags::NONBLOCK)
    }
}

impl FileLike for PtyMaster {
    fn read(&self, buf: &mut [u8]) -> LxResult<usize> {
        self.flags().check_readable()?;
        self.pty
            .master_read(None, buf)
            .unwrap_or(Err(LxError::EAGAIN))
    }

    fn write(&self, buf: &[u8]) -> LxResult<usize> {
        self.flags().check_writable()?;
        self.pty
            .master_write(None, buf)
            .unwrap_or(Err(LxError::EAGAIN))
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<LxResult<usize>> {
        if let Err(error) = self.flags().check_readable() {
            return Poll::Ready(Err(error));
        }
        if self.nonblocking() {
            return Poll::Ready(self.read(buf));
        }
        self.pty
            .master_read(Some(cx), buf)
            .map_or(Poll::Pending, Poll::Ready)
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<LxResult<usize>> {
        if let Err(error) = self.flags().check_writable() {
            return Poll::Ready(Err(error));
        }
        if self.nonblocking() {
            return Poll::Ready(self.write(buf));
        }
        self.pty
            .master_write(Some(cx), buf)
            .map_or(Poll::Pending, Poll::Ready)
    }

    /// As Linux's `n_tty_poll` on a master: readable with output queued, hung up once the
    /// last slave closed, writable with room for typed input.
    fn poll_events(&self, cx: Option<&Context<'_>>) -> PollEvents {
        let mut state = self.pty.state.lock();
        if let Some(cx) = cx {
            register(&mut state.master_readers, cx);
            register(&mut state.master_writers, cx);
        }
        let mut events = PollEvents::empty();
        if !state.output.is_empty() {
            events |= PollEvents::IN | PollEvents::RDNORM;
        }
        if state.other_closed {
            events |= PollEvents::HUP;
        }
        if state.input.len() < INPUT_CAP {
            events |= PollEvents::OUT | PollEvents::WRNORM;
        }
        events
    }

    fn metadata(&self) -> LxResult<Metadata> {
        Ok(self.node)
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

impl Drop for PtyMaster {
    /// The last master closed: the slave hangs up and its number is free again.
    fn drop(&mut self) {
        let pty = self.pty.clone();
        pty.with(|state, after| {
            state.masters = state.masters.saturating_sub(1);
            if state.masters == 0 {
                state.hang_up(&mut after.raised);
                state.wake_everyone(&mut after.wake);
            }
        });
        if let Some(devpts) = pty.devpts.upgrade() {
            let mut ptys = devpts.ptys.lock();
            if ptys
                .get(&pty.index)
                .is_some_and(|entry| core::ptr::eq(entry.as_ptr(), Arc::as_ptr(&pty)))
            {
                ptys.remove(&pty.index);
            }
        }
    }
}

/// An open slave (`/dev/pts/N`, or `/dev/tty` or `/dev/console` naming it).
pub struct PtySlave {
    pty: Arc<Pty>,
    /// The node it was opened through when that is not the slave's own (`/dev/tty`):
    /// `fstat` reports that node, as Linux reports the inode of the file opened.
    node: Option<Metadata>,
    flags: Mutex<OpenFlags>,
}

impl PtySlave {
    /// Opens `pty`'s slave through a node other than its own, whose metadata `fstat` then
    /// reports: `EIO` while it is locked or hung up.
    pub fn open_as(pty: &Arc<Pty>, flags: OpenFlags, node: Metadata) -> LxResult<Arc<Self>> {
        let slave = Self::open_node(pty, flags, Some(node))?;
        Ok(slave)
    }

    fn open(pty: &Arc<Pty>, flags: OpenFlags) -> LxResult<Arc<Self>> {
        Self::open_node(pty, flags, None)
    }

    fn open_node(pty: &Arc<Pty>, flags: OpenFlags, node: Option<Metadata>) -> LxResult<Arc<Self>> {
        let mut state = pty.state.lock();
        if state.hung_up || state.locked {
            return Err(LxError::EIO);
        }
        state.slaves += 1;
        state.other_closed = false;
        drop(state);
        Ok(Arc::new(Self {
            pty: pty.clone(),
            node,
            flags: Mutex::new(flags - OpenFlags::CLOEXEC),
        }))
    }

    /// Its pair.
    pub fn pty(&self) -> &Arc<Pty> {
        &self.pty
    }
}

impl FileLike for PtySlave {
    fn read(&self, buf: &mut [u8]) -> LxResult<usize> {
        self.flags().check_readable()?;
        self.pty
            .slave_read(None, buf)
            .unwrap_or(Err(LxError::EAGAIN))
    }

    fn write(&self, buf: &[u8]) -> LxResult<usize> {
        self.flags().check_writable()?;
        self.pty
            .slave_write(None, buf)
            .unwrap_or(Err(LxError::EAGAIN))
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<LxResult<usize>> {
        if let Err(error) = self.flags().check_readable() {
            return Poll::Ready(Err(error));
        }
        if self.flags().contains(OpenFlags::NONBLOCK) {
            return Poll::Ready(self.read(buf));
        }
        self.pty
            .slave_read(Some(cx), buf)
            .map_or(Poll::Pending, Poll::Ready)
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<LxResult<usize>> {
        if let Err(error) = self.flags().check_writable() {
            return Poll::Ready(Err(error));
        }
        if self.flags().contains(OpenFlags::NONBLOCK) {
            return Poll::Ready(self.write(buf));
        }
        self.pty
            .slave_write(Some(cx), buf)
            .map_or(Poll::Pending, Poll::Ready)
    }

    /// As Linux's `n_tty_poll` on a slave (`hung_up_tty_poll` once hung up): readable with a
    /// line (canonical) or `VMIN` bytes (with `VTIME` 0) queued, writable with room and
    /// output not stopped.
    fn poll_events(&self, cx: Option<&Context<'_>>) -> PollEvents {
        let mut state = self.pty.state.lock();
        if let Some(cx) = cx {
            register(&mut state.slave_readers, cx);
            register(&mut state.slave_writers, cx);
        }
        if state.hung_up {
            return PollEvents::IN
                | PollEvents::OUT
                | PollEvents::ERR
                | PollEvents::HUP
                | PollEvents::RDNORM
                | PollEvents::WRNORM;
        }
        let termios = state.ldisc.termios();
        let min = if termios.cc(cc::VTIME) == 0 {
            usize::from(termios.cc(cc::VMIN)).max(1)
        } else {
            1
        };
        let mut events = PollEvents::empty();
        if Pty::slave_readable(&state, min) {
            events |= PollEvents::IN | PollEvents::RDNORM;
        }
        if !state.stopped && state.output.len() < OUTPUT_CAP {
            events |= PollEvents::OUT | PollEvents::WRNORM;
        }
        events
    }

    fn metadata(&self) -> LxResult<Metadata> {
        Ok(self.node.unwrap_or_else(|| self.pty.slave_metadata()))
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

impl Drop for PtySlave {
    /// The last slave closed: the master's reads end with `EIO` once drained.
    fn drop(&mut self) {
        self.pty.with(|state, after| {
            state.slaves = state.slaves.saturating_sub(1);
            if state.slaves == 0 {
                state.other_closed = true;
                after.wake.append(&mut state.master_readers);
                after.wake.append(&mut state.master_writers);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;

    #[derive(Default)]
    struct Recorder(StdMutex<Vec<(char, Pid, u32)>>);

    impl TtySignals for Recorder {
        fn signal_group(&self, pgid: Pid, signal: u32) {
            self.0.lock().unwrap().push(('g', pgid, signal));
        }
        fn signal_process(&self, pid: Pid, signal: u32) {
            self.0.lock().unwrap().push(('p', pid, signal));
        }
    }

    fn node() -> Metadata {
        let mut metadata = Pty::slave_metadata_template();
        metadata.rdev = crate::fs::Device::dev_t(5, 2);
        metadata
    }

    impl Pty {
        fn slave_metadata_template() -> Metadata {
            Metadata {
                dev: DEVPTS_DEV,
                inode: 2,
                size: 0,
                blk_size: 1024,
                blocks: 0,
                type_: FileType::CharDevice,
                mode: 0o666,
                nlinks: 1,
                uid: 0,
                gid: 0,
                rdev: 0,
                atime: Timespec::default(),
                mtime: Timespec::default(),
                ctime: Timespec::default(),
            }
        }
    }

    fn pair(devpts: &Arc<DevPts>) -> (Arc<PtyMaster>, Arc<PtySlave>) {
        let master = devpts
            .open_master(node(), OpenFlags::RDWR, 0, Timespec::default())
            .unwrap();
        let index = master.pty().index();
        assert_eq!(
            devpts.open_slave(index, OpenFlags::RDWR).err(),
            Some(LxError::EIO),
            "locked"
        );
        master.pty().set_locked(false);
        let slave = devpts.open_slave(index, OpenFlags::RDWR).unwrap();
        (master, slave)
    }

    fn read_master(master: &PtyMaster) -> Vec<u8> {
        let mut buf = [0u8; 256];
        match master.read(&mut buf) {
            Ok(count) => buf[..count].to_vec(),
            Err(LxError::EAGAIN) => Vec::new(),
            Err(error) => panic!("{error:?}"),
        }
    }

    #[test]
    fn numbers_are_per_instance_lowest_first_and_freed_on_close() {
        let devpts = DevPts::new();
        let other = DevPts::new();
        let (m0, _s0) = pair(&devpts);
        let (m1, _s1) = pair(&devpts);
        let (o0, _) = pair(&other);
        assert_eq!((m0.pty().index(), m1.pty().index()), (0, 1));
        assert_eq!(o0.pty().index(), 0, "another container counts from 0");
        assert_eq!(devpts.indices(), [0, 1]);
        drop(m0);
        assert_eq!(devpts.indices(), [1]);
        assert_eq!(
            devpts.open_slave(0, OpenFlags::RDWR).err(),
            Some(LxError::ENOENT)
        );
        let (again, _) = pair(&devpts);
        assert_eq!(again.pty().index(), 0);
    }

    #[test]
    fn typed_lines_reach_the_slave_and_output_the_master() {
        let devpts = DevPts::new();
        let (master, slave) = pair(&devpts);
        assert_eq!(master.write(b"echo hi\r"), Ok(8));
        assert_eq!(read_master(&master), b"echo hi\r\n", "echoed");
        let mut buf = [0u8; 64];
        assert_eq!(slave.read(&mut buf), Ok(8));
        assert_eq!(&buf[..8], b"echo hi\n");
        assert_eq!(slave.write(b"hi\n"), Ok(3));
        assert_eq!(read_master(&master), b"hi\r\n");
        assert_eq!(slave.read(&mut buf), Err(LxError::EAGAIN));
        assert!(master.poll_events(None).contains(PollEvents::OUT));
        assert!(!master.poll_events(None).contains(PollEvents::IN));
        master.write(b"x").unwrap();
        assert!(
            !slave.poll_events(None).contains(PollEvents::IN),
            "no line yet"
        );
        master.write(b"\n").unwrap();
        assert!(slave.poll_events(None).contains(PollEvents::IN));
    }

    #[test]
    fn signal_characters_go_to_the_foreground_group() {
        let devpts = DevPts::new();
        let recorder = Arc::new(Recorder::default());
        devpts.set_signals(recorder.clone());
        let (master, slave) = pair(&devpts);
        master.write(b"\x03").unwrap();
        assert!(
            recorder.0.lock().unwrap().is_empty(),
            "no foreground group yet"
        );
        assert!(slave.pty().attach(7, 9, false));
        assert!(!slave.pty().attach(8, 8, false), "another session's");
        assert_eq!(devpts.controlling(7).unwrap().index(), 0);
        slave.write(b"unread output").unwrap();
        master.write(b"\x03\x1a").unwrap();
        assert_eq!(*recorder.0.lock().unwrap(), [('g', 9, 2), ('g', 9, 20)]);
        assert_eq!(
            read_master(&master),
            b"^Cunread output^Z",
            "the first ^C echoed; the second flushed by the ^Z of the same write, as n_tty"
        );
        slave.pty().set_winsize(WinSize {
            rows: 24,
            cols: 80,
            ..Default::default()
        });
        slave.pty().set_winsize(WinSize {
            rows: 24,
            cols: 80,
            ..Default::default()
        });
        assert_eq!(
            recorder.0.lock().unwrap().last(),
            Some(&('g', 9, 28)),
            "one SIGWINCH for one change"
        );
        assert_eq!(recorder.0.lock().unwrap().len(), 3);
        drop(master);
        assert_eq!(
            recorder.0.lock().unwrap()[3..],
            [('p', 7, 1), ('p', 7, 18)],
            "hangup: SIGHUP and SIGCONT to the session leader"
        );
        let mut buf = [0u8; 4];
        assert_eq!(slave.read(&mut buf), Ok(0), "hung up: end of file");
        assert_eq!(slave.write(b"x"), Err(LxError::EIO));
        assert!(slave.poll_events(None).contains(PollEvents::HUP));
        assert!(devpts.controlling(7).is_none());
    }

    #[test]
    fn the_master_sees_eio_once_the_slave_closed() {
        let devpts = DevPts::new();
        let master = devpts
            .open_master(node(), OpenFlags::RDWR, 0, Timespec::default())
            .unwrap();
        assert_eq!(master.write(b"x\n"), Ok(2), "input waits for a slave");
        assert_eq!(master.read(&mut [0; 8]), Ok(3), "echoed");
        assert_eq!(
            master.read(&mut [0; 4]),
            Err(LxError::EAGAIN),
            "waits for a slave"
        );
        master.pty().set_locked(false);
        let slave = master.open_peer(OpenFlags::RDWR).unwrap();
        slave.write(b"bye").unwrap();
        drop(slave);
        assert!(master
            .poll_events(None)
            .contains(PollEvents::HUP | PollEvents::IN));
        assert_eq!(read_master(&master), b"bye");
        assert_eq!(master.read(&mut [0; 4]), Err(LxError::EIO));
    }

    #[test]
    fn a_blocked_slave_read_is_woken_by_typed_input() {
        use crate::fs::read_file;
        use crate::test_executor::{poll_once, CountingWaker};
        use std::pin::pin;
        let devpts = DevPts::new();
        let (master, slave) = pair(&devpts);
        let (counter, waker) = CountingWaker::new();
        let mut buf = [0u8; 16];
        let mut read = pin!(read_file(&*slave, &mut buf));
        assert!(poll_once(read.as_mut(), &waker).is_pending());
        master.write(b"ok\n").unwrap();
        assert!(counter.wakes() >= 1);
        assert_eq!(poll_once(read.as_mut(), &waker), Poll::Ready(Ok(3)));
    }

    #[test]
    fn stopped_output_waits_for_start() {
        let devpts = DevPts::new();
        let (master, slave) = pair(&devpts);
        master.write(b"\x13").unwrap();
        assert_eq!(slave.write(b"x"), Err(LxError::EAGAIN));
        assert!(!slave.poll_events(None).contains(PollEvents::OUT));
        master.write(b"\x11").unwrap();
        assert_eq!(slave.write(b"x"), Ok(1));
    }
}
