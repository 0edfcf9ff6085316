//! [`PidFd`]: a descriptor that names a process (`pidfd_open`, `CLONE_PIDFD`), readable once
//! the process has exited, as Linux's pidfds are.

use alloc::sync::Arc;
use core::any::Any;
use core::task::Context;
use kernel_hal_lkm::sync::Mutex;
use kernel_hostfs::Metadata;

use super::{FileLike, OpenFlags, PollEvents};
use crate::error::{LxError, LxResult};
use crate::process::LinuxProcess;

/// A process's descriptor. It reads and writes nothing (`EINVAL`); `poll` says it is readable
/// once the process has exited (a zombie or reaped).
pub struct PidFd {
    process: Arc<LinuxProcess>,
    flags: Mutex<OpenFlags>,
}

impl PidFd {
    /// A descriptor of `process`; `flags` may hold `O_NONBLOCK` (`PIDFD_NONBLOCK`).
    pub fn new(process: Arc<LinuxProcess>, flags: OpenFlags) -> Arc<Self> {
        Arc::new(PidFd {
            process,
            flags: Mutex::new(flags & OpenFlags::NONBLOCK),
        })
    }

    /// The process it names.
    pub fn process(&self) -> &Arc<LinuxProcess> {
        &self.process
    }
}

impl FileLike for PidFd {
    fn read(&self, _buf: &mut [u8]) -> LxResult<usize> {
        Err(LxError::EINVAL)
    }

    fn write(&self, _buf: &[u8]) -> LxResult<usize> {
        Err(LxError::EINVAL)
    }

    fn metadata(&self) -> LxResult<Metadata> {
        // Linux's pidfds are inodes of its anonymous inode filesystem.
        Ok(super::anonymous_inode_metadata())
    }

    fn flags(&self) -> OpenFlags {
        *self.flags.lock() | OpenFlags::RDWR
    }

    fn set_flags(&self, flags: OpenFlags) {
        OpenFlags::set_settable(&self.flags, flags);
    }

    fn poll_events(&self, cx: Option<&Context<'_>>) -> PollEvents {
        if self.process.poll_exited(cx) {
            PollEvents::IN | PollEvents::RDNORM
        } else {
            PollEvents::empty()
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
