//! [`StdioFile`]: a file the process had open on the host when it joined the container (its
//! terminal, a pipe from the shell, a log file), wrapped as an rVisor open file description.
//!
//! The kernel backend implements [`HostStdio`] over the host's `struct file` (`kernel_read`,
//! `kernel_write`, `vfs_getattr`); this crate never touches the host itself.

use super::{FileLike, OpenFlags, PollEvents};
use crate::error::{LxError, LxResult};
use alloc::sync::Arc;
use core::any::Any;
use core::task::{Context, Poll};
use kernel_hal_lkm::sync::Mutex;
use kernel_hostfs::{FsInfo, Metadata};

/// What rVisor needs from an inherited host file. Errors are the host's errnos.
pub trait HostStdio: Send + Sync {
    /// Reads at the host file's own offset. `Pending` (with `cx` registered to be woken) where
    /// the host would block, e.g. a terminal with no input yet.
    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<LxResult<usize>>;

    /// Reads without waiting: `EAGAIN` where the host would block.
    fn read_now(&self, buf: &mut [u8]) -> LxResult<usize>;

    /// Writes at the host file's own offset (the host applies its `O_APPEND`).
    fn write(&self, buf: &[u8]) -> LxResult<usize>;

    /// What `fstat` on the host file reports.
    fn metadata(&self) -> LxResult<Metadata>;

    /// The host file's access mode and status flags.
    fn flags(&self) -> OpenFlags;

    /// Performs `ioctl(cmd, arg)` on the host file (terminal requests such as `TCGETS` or
    /// `TIOCGWINSZ`); `arg` is the caller's untouched argument, a user address for most
    /// requests, which the host dereferences with its own user-copy checks. Hosts that are not
    /// terminals keep the default, `ENOTTY`.
    fn ioctl(&self, _cmd: u32, _arg: usize) -> LxResult<usize> {
        Err(LxError::ENOTTY)
    }

    /// The host file's readiness (the kernel's `vfs_poll`); with `cx`, its waker is woken
    /// when that may change (the kernel backend hooks a wait-queue entry that wakes it).
    /// Hosts that cannot tell keep the default: always readable and writable, as a regular
    /// file is.
    fn poll_events(&self, _cx: Option<&Context<'_>>) -> PollEvents {
        PollEvents::ALWAYS
    }

    /// What `fstatfs` on the host file reports (the kernel's `vfs_statfs` on its path). Hosts
    /// that cannot tell keep the default, `ENOSYS` (what Linux gives for a filesystem without
    /// `statfs`).
    fn fs_info(&self) -> LxResult<FsInfo> {
        Err(LxError::ENOSYS)
    }
}

/// An inherited host file as an open file description.
///
/// ```
/// # use core::task::{Context, Poll};
/// # use kernel_hostfs::Metadata;
/// use linux_object::fs::{FileLike, HostStdio, OpenFlags, StdioFile};
/// use linux_object::{LxError, LxResult};
///
/// /// A write-only sink standing in for the host's stdout.
/// struct Sink;
/// impl HostStdio for Sink {
///     fn poll_read(&self, _: &mut Context<'_>, _: &mut [u8]) -> Poll<LxResult<usize>> {
///         Poll::Ready(Err(LxError::EBADF))
///     }
///     fn read_now(&self, _: &mut [u8]) -> LxResult<usize> { Err(LxError::EBADF) }
///     fn write(&self, buf: &[u8]) -> LxResult<usize> { Ok(buf.len()) }
///     fn metadata(&self) -> LxResult<Metadata> { Err(LxError::ENOSYS) }
///     fn flags(&self) -> OpenFlags { OpenFlags::WRONLY }
/// }
///
/// let stdout = StdioFile::new(std::sync::Arc::new(Sink));
/// assert_eq!(stdout.write(b"hello\n"), Ok(6));
/// assert_eq!(stdout.read(&mut [0; 1]), Err(LxError::EBADF));
/// ```
pub struct StdioFile {
    host: Arc<dyn HostStdio>,
    /// Status flags as the contained process set them; the access mode is the host's.
    flags: Mutex<OpenFlags>,
}

impl StdioFile {
    /// Wraps `host`, taking its access mode and status flags.
    pub fn new(host: Arc<dyn HostStdio>) -> Arc<Self> {
        let flags = host.flags() - OpenFlags::CLOEXEC;
        Arc::new(Self {
            host,
            flags: Mutex::new(flags),
        })
    }

    /// Forwards `ioctl(cmd, arg)` to the host file (see [`HostStdio::ioctl`]).
    pub fn ioctl(&self, cmd: u32, arg: usize) -> LxResult<usize> {
        self.host.ioctl(cmd, arg)
    }

    /// What `fstatfs` reports for the host file (see [`HostStdio::fs_info`]).
    pub fn fs_info(&self) -> LxResult<FsInfo> {
        self.host.fs_info()
    }
}

impl FileLike for StdioFile {
    fn read(&self, buf: &mut [u8]) -> LxResult<usize> {
        self.flags().check_readable()?;
        self.host.read_now(buf)
    }

    fn write(&self, buf: &[u8]) -> LxResult<usize> {
        self.flags().check_writable()?;
        self.host.write(buf)
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<LxResult<usize>> {
        if let Err(error) = self.flags().check_readable() {
            return Poll::Ready(Err(error));
        }
        if self.flags().contains(OpenFlags::NONBLOCK) {
            return Poll::Ready(self.host.read_now(buf));
        }
        self.host.poll_read(cx, buf)
    }

    fn metadata(&self) -> LxResult<Metadata> {
        self.host.metadata()
    }

    fn poll_events(&self, cx: Option<&Context<'_>>) -> PollEvents {
        self.host.poll_events(cx)
    }

    /// A regular file or directory (stdout redirected to a file) has no `poll` operation on
    /// Linux; a terminal, a pipe or a socket has.
    fn pollable(&self) -> bool {
        !matches!(
            self.host.metadata().map(|metadata| metadata.type_),
            Ok(kernel_hostfs::FileType::File | kernel_hostfs::FileType::Dir)
        )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::read_file;
    use crate::test_executor::{poll_once, CountingWaker};
    use alloc::vec::Vec;
    use core::task::Waker;
    use std::pin::pin;

    /// A host terminal: input arrives later and wakes whoever waits for it.
    #[derive(Default)]
    struct Terminal {
        input: Mutex<Vec<u8>>,
        waiter: Mutex<Option<Waker>>,
    }

    impl Terminal {
        fn type_in(&self, text: &[u8]) {
            self.input.lock().extend_from_slice(text);
            if let Some(waker) = self.waiter.lock().take() {
                waker.wake();
            }
        }
    }

    impl HostStdio for Terminal {
        fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<LxResult<usize>> {
            match self.read_now(buf) {
                Err(LxError::EAGAIN) => {
                    *self.waiter.lock() = Some(cx.waker().clone());
                    Poll::Pending
                }
                done => Poll::Ready(done),
            }
        }
        fn read_now(&self, buf: &mut [u8]) -> LxResult<usize> {
            let mut input = self.input.lock();
            if input.is_empty() {
                return Err(LxError::EAGAIN);
            }
            let count = buf.len().min(input.len());
            buf[..count].copy_from_slice(&input[..count]);
            input.drain(..count);
            Ok(count)
        }
        fn write(&self, buf: &[u8]) -> LxResult<usize> {
            Ok(buf.len())
        }
        fn metadata(&self) -> LxResult<Metadata> {
            Err(LxError::ENOSYS)
        }
        fn flags(&self) -> OpenFlags {
            OpenFlags::RDWR | OpenFlags::CLOEXEC
        }
    }

    #[test]
    fn reading_a_terminal_waits_for_input_through_the_host_waker() {
        let terminal = Arc::new(Terminal::default());
        let stdin = StdioFile::new(terminal.clone());
        assert_eq!(stdin.flags(), OpenFlags::RDWR);
        let (counter, waker) = CountingWaker::new();
        let mut buf = [0; 16];
        let mut read = pin!(read_file(&*stdin, &mut buf));
        assert!(poll_once(read.as_mut(), &waker).is_pending());
        terminal.type_in(b"ls\n");
        assert_eq!(counter.wakes(), 1);
        assert_eq!(poll_once(read.as_mut(), &waker), Poll::Ready(Ok(3)));
    }

    #[test]
    fn nonblocking_stdin_gives_eagain_and_seeking_is_espipe() {
        let stdin = StdioFile::new(Arc::new(Terminal::default()));
        stdin.set_flags(OpenFlags::NONBLOCK);
        let (_, waker) = CountingWaker::new();
        let mut buf = [0; 4];
        let mut read = pin!(read_file(&*stdin, &mut buf));
        assert_eq!(
            poll_once(read.as_mut(), &waker),
            Poll::Ready(Err(LxError::EAGAIN))
        );
        assert_eq!(
            stdin.seek(crate::fs::SeekFrom::Start(0)),
            Err(LxError::ESPIPE)
        );
    }
}
