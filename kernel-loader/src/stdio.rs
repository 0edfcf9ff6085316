//! A joining process's stdio: the host files behind its descriptors 0, 1 and 2 become its
//! first three rVisor descriptors, so a contained shell keeps its terminal or its pipes.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::task::{Context, Poll};

use kernel_hal_lkm::sync::Mutex;
use kernel_hostfs::lkm::metadata_of;
use kernel_hostfs::{FileType, Metadata};
use linux_kernel_module::host_file::{FileWatch, HostFile};
use linux_kernel_module::Error;
use linux_object::fs::{Device, FileLike, HostStdio, OpenFlags, PollEvents, StdioFile, Waiters};
use linux_object::process::LinuxProcess;
use linux_object::{LxError, LxResult};

use crate::host::lx_error;

/// Terminal requests forwarded to a host terminal (`<asm-generic/ioctls.h>`): reading and
/// setting its modes and window size, flushing and flow control. Requests naming host process
/// groups or sessions (`TIOCGPGRP`, `TIOCSCTTY`…) are not among them: they would leak or change
/// host state.
const TERMINAL_REQUESTS: &[u32] = &[
    0x5401,      // TCGETS
    0x5402,      // TCSETS
    0x5403,      // TCSETSW
    0x5404,      // TCSETSF
    0x5409,      // TCSBRK
    0x540A,      // TCXONC
    0x540B,      // TCFLSH
    0x5413,      // TIOCGWINSZ
    0x5414,      // TIOCSWINSZ
    0x541B,      // FIONREAD
    0x5425,      // TCSBRKP
    0x802C_542A, // TCGETS2
    0x402C_542B, // TCSETS2
    0x402C_542C, // TCSETSW2
    0x402C_542D, // TCSETSF2
];

/// An inherited host file.
struct KernelStdio {
    file: HostFile,
    /// The host file's wait queues, watched once polled (FIFOs, sockets and terminals), so
    /// `poll`, `select` and epoll wait for the host file as Linux's own poll does.
    watch: Option<FileWatch>,
    /// Who waits for the host file's next wake-up.
    waiters: Arc<Mutex<Waiters>>,
}

impl KernelStdio {
    fn new(file: HostFile) -> Self {
        let waiters = Arc::new(Mutex::new(Waiters::new()));
        let woken = waiters.clone();
        // Called in process context (a workqueue), never under the host queue's lock.
        let wake = Box::new(move || woken.lock().take().wake());
        Self {
            watch: FileWatch::new(&file, wake),
            file,
            waiters,
        }
    }
}

/// The rVisor error of a host read or write: a signal's restart request becomes `EINTR`,
/// which the gate turns back into a restart while the signal is pending.
fn io_error(error: Error) -> LxError {
    if error == Error::ERESTARTSYS {
        LxError::EINTR
    } else {
        lx_error(error)
    }
}

impl HostStdio for KernelStdio {
    fn poll_read(&self, _cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<LxResult<usize>> {
        // The host's own read sleeps (interruptibly) until there is input.
        Poll::Ready(self.file.read(buf).map_err(io_error))
    }

    fn read_now(&self, buf: &mut [u8]) -> LxResult<usize> {
        if !self.file.is_readable() {
            return Err(LxError::EAGAIN);
        }
        self.file.read(buf).map_err(io_error)
    }

    fn write(&self, buf: &[u8]) -> LxResult<usize> {
        self.file.write(buf).map_err(io_error)
    }

    fn metadata(&self) -> LxResult<Metadata> {
        let stat = self.file.stat().map_err(lx_error)?;
        Ok(metadata_of(&stat)?)
    }

    fn flags(&self) -> OpenFlags {
        OpenFlags::from_bits_truncate(self.file.flags())
    }

    /// The host's `vfs_poll`; with `cx`, registered to be woken by the host file's next
    /// wake-up. Files that are not watched (regular files) are always ready, as Linux's
    /// `DEFAULT_POLLMASK`.
    fn poll_events(&self, cx: Option<&Context<'_>>) -> PollEvents {
        let Some(watch) = &self.watch else {
            return PollEvents::ALWAYS;
        };
        if let Some(cx) = cx {
            self.waiters.lock().register(cx);
        }
        // EPOLL* bits past the u16 ones (POLLFREE…) are not readiness.
        PollEvents::from_bits_truncate(watch.poll(cx.is_some()) as u16)
    }

    fn ioctl(&self, cmd: u32, arg: usize) -> LxResult<usize> {
        if !TERMINAL_REQUESTS.contains(&cmd) {
            return Err(LxError::ENOTTY);
        }
        self.file.ioctl(cmd, arg).map_err(io_error)
    }
}

/// Whether a character device `major` is a terminal: virtual consoles and serial ports (4),
/// `/dev/tty` and the console (5), pseudo-terminal ends (136–143), USB and AMBA serial ports
/// (188, 204) and hypervisor consoles (229).
fn is_terminal(metadata: &Metadata) -> bool {
    let major = (metadata.rdev >> 8) & 0xfff;
    metadata.type_ == FileType::CharDevice && matches!(major, 4 | 5 | 136..=143 | 188 | 204 | 229)
}

/// Gives `process` the calling task's descriptors 0, 1 and 2 (those it has open) at the same
/// numbers; the first that is a terminal becomes its container's controlling terminal
/// (`/dev/tty`).
pub fn inherit(process: &LinuxProcess) -> LxResult {
    for fd in 0..3u32 {
        let Ok(file) = HostFile::from_current_fd(fd) else {
            continue;
        };
        let metadata = file.stat().ok().and_then(|stat| metadata_of(&stat).ok());
        // A memory device (`< /dev/null`) is rVisor's own: the host's cannot be read from
        // the kernel (`kernel_read` refuses files with a plain `read`).
        let device = metadata.and_then(|metadata| {
            Device::open(&metadata, OpenFlags::from_bits_truncate(file.flags()))
        });
        let stdio: Arc<dyn FileLike> = match device {
            Some(device) => device,
            None => {
                let host = Arc::new(KernelStdio::new(file));
                if let Some(container) = process.container() {
                    if metadata.is_some_and(|m| is_terminal(&m)) && container.terminal().is_none() {
                        container.set_terminal(host.clone());
                    }
                }
                StdioFile::new(host)
            }
        };
        // Descriptors below `fd` are taken or absent on the host too: the lowest free one at
        // or above `fd` is `fd` itself.
        process.files().add_from(stdio, fd as usize, false)?;
    }
    Ok(())
}
