//! `rvisor run -t`: the container's console pty, whose master the CLI gets as a host file
//! ([`open_pty`], `RVISOR_IOC_OPENPTY`) and whose slave the container's first process gets as
//! its stdio and controlling terminal ([`console_stdio`]); and `rvisor exec -t`: a new pty
//! of a running container ([`new_pty`], `RVISOR_IOC_NEWPTY`) whose slave becomes the
//! entering process's ([`terminal_stdio`]).

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::task::{Context, Waker};
use kernel_hostfs::{FileType, Metadata, Timespec};
use linux_kernel_module::anon_file::{self, AnonFile};
use linux_kernel_module::user_ptr::{In, Out, UserSlicePtr};
use linux_kernel_module::{Error, Result};
use linux_object::fs::{Device, FileLike, OpenFlags};
use linux_object::process::LinuxProcess;
use linux_object::tty::{PtyMaster, WinSize};
use linux_object::LxResult;

use crate::container::Container;
use crate::host::kernel_error;

const TIOCGWINSZ: u32 = 0x5413;
const TIOCSWINSZ: u32 = 0x5414;
const TIOCGPTN: u32 = 0x8004_5430;

/// The CLI's end of the console: the pty master, outside the container.
struct HostMaster(Arc<PtyMaster>);

fn step(result: Option<LxResult<usize>>) -> Result<usize> {
    match result {
        Some(Ok(count)) => Ok(count),
        Some(Err(error)) => Err(kernel_error(error)),
        None => Err(Error::EAGAIN),
    }
}

impl AnonFile for HostMaster {
    fn read(&self, buf: &mut [u8], waker: &Waker) -> Result<usize> {
        let cx = Context::from_waker(waker);
        step(self.0.pty().master_read(Some(&cx), buf))
    }

    fn write(&self, buf: &[u8], waker: &Waker) -> Result<usize> {
        let cx = Context::from_waker(waker);
        step(self.0.pty().master_write(Some(&cx), buf))
    }

    fn poll(&self, waker: &Waker) -> u32 {
        let cx = Context::from_waker(waker);
        u32::from(self.0.poll_events(Some(&cx)).bits())
    }

    fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize> {
        let pty = self.0.pty();
        match cmd {
            TIOCGWINSZ => {
                UserSlicePtr::<[u8; 8], Out>::new(arg).write(&pty.winsize().to_bytes())?;
                Ok(0)
            }
            TIOCSWINSZ => {
                let bytes = UserSlicePtr::<[u8; 8], In>::new(arg).read()?;
                pty.set_winsize(WinSize::from_bytes(bytes));
                Ok(0)
            }
            TIOCGPTN => {
                UserSlicePtr::<u32, Out>::new(arg).write(&pty.index())?;
                Ok(0)
            }
            _ => Err(Error::ENOTTY),
        }
    }
}

/// `/dev/ptmx`'s node, as the console's master reports it.
fn ptmx_node() -> Metadata {
    let never = Timespec { sec: 0, nsec: 0 };
    Metadata {
        dev: 0x18,
        inode: 6,
        size: 0,
        blk_size: 4096,
        blocks: 0,
        type_: FileType::CharDevice,
        mode: 0o666,
        nlinks: 1,
        uid: 0,
        gid: 0,
        rdev: Device::dev_t(5, 2),
        atime: never,
        mtime: never,
        ctime: never,
    }
}

/// OPENPTY: makes the console pty of `container` and returns the caller's new descriptor of
/// its master.
pub fn open_pty(container: &Arc<Container>) -> Result<isize> {
    let linux = container.linux();
    if linux.console().is_some() || !linux.pids().is_empty() {
        return Err(Error::EBUSY);
    }
    let master = unlocked_master(container)?;
    linux.set_console(master.pty().clone());
    install_master(master)
}

/// NEWPTY: makes a new pty in running `container`'s devpts and returns the caller's new
/// descriptor of its master; `ESRCH` if its first process has not joined or has ended.
pub fn new_pty(container: &Arc<Container>) -> Result<isize> {
    let running = container
        .linux()
        .process(linux_object::container::INIT_PID)
        .is_some_and(|init| init.exit_status().is_none());
    if !running {
        return Err(Error::ESRCH);
    }
    install_master(unlocked_master(container)?)
}

/// A new pty of `container`'s, its slave unlocked.
fn unlocked_master(container: &Container) -> Result<Arc<PtyMaster>> {
    let master = container
        .linux()
        .devpts()
        .open_master(
            ptmx_node(),
            OpenFlags::RDWR,
            0,
            Timespec { sec: 0, nsec: 0 },
        )
        .map_err(kernel_error)?;
    master.pty().set_locked(false);
    Ok(master)
}

/// The caller's new descriptor of `master`, a host file.
fn install_master(master: Arc<PtyMaster>) -> Result<isize> {
    let fd = anon_file::install(c"rvisor-pty", Box::new(HostMaster(master)))?;
    Ok(fd as isize)
}

/// A process entering its container with a terminal gets the slave of the container's pty
/// `index` as its descriptors 0, 1 and 2 and as its session's controlling terminal. `ENXIO`
/// if there is no such pty (or it is hung up, or another session's controlling terminal).
pub fn terminal_stdio(process: &LinuxProcess, index: u32) -> Result {
    let container = process.container().ok_or(Error::ESRCH)?;
    let no_tty = || kernel_error(linux_object::LxError::ENXIO);
    let pty = container.devpts().get(index).ok_or_else(no_tty)?;
    let slave: Arc<dyn FileLike> = match container
        .devpts()
        .open_slave(index, OpenFlags::RDWR | OpenFlags::LARGEFILE)
    {
        Ok(slave) => slave,
        Err(linux_object::LxError::ENOENT) => return Err(no_tty()),
        Err(error) => return Err(kernel_error(error)),
    };
    if !pty.attach(process.sid(), process.pgid(), false) {
        return Err(no_tty());
    }
    let mut files = process.files();
    for fd in 0..3usize {
        files
            .add_from(slave.clone(), fd, false)
            .map_err(kernel_error)?;
    }
    Ok(())
}

/// The container's first process gets the console's slave as its descriptors 0, 1 and 2,
/// and as its session's controlling terminal; `Ok(false)` if the container has no console.
pub fn console_stdio(process: &LinuxProcess) -> LxResult<bool> {
    let Some(container) = process.container() else {
        return Ok(false);
    };
    let Some(console) = container.console() else {
        return Ok(false);
    };
    let slave: Arc<dyn FileLike> = container
        .devpts()
        .open_slave(console.index(), OpenFlags::RDWR | OpenFlags::LARGEFILE)?;
    console.attach(process.sid(), process.pgid(), false);
    let mut files = process.files();
    for fd in 0..3usize {
        files.add_from(slave.clone(), fd, false)?;
    }
    Ok(true)
}
