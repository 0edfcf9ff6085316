//! The host side of rVisor's inotify instances: each instance is a host fsnotify group whose
//! marks on the host inodes behind container files report to the instance's queue.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use kernel_hostfs::{HostINode, INode, KernelBackend};
use linux_kernel_module::notify::{self, NotifyGroup, NotifyMark, NotifySink, Watched};
use linux_object::fs::{HostMark, HostWatch, InotifyMarks, InotifyQueue};
use linux_object::LxResult;

use crate::host::lx_error;

/// An instance's queue, as its group's sink.
struct QueueSink(Arc<InotifyQueue>);

impl NotifySink for QueueSink {
    fn event(&self, wd: i32, mask: u32, cookie: u32, name: &[u8]) {
        self.0.deliver(wd, mask, cookie, name);
    }

    fn gone(&self, wd: i32, mark: usize) {
        self.0.watch_gone(wd, mark);
    }
}

/// A mark of an instance's group.
struct KernelMark(NotifyMark);

impl HostMark for KernelMark {
    fn remove(&self) {
        self.0.remove();
    }

    fn id(&self) -> usize {
        self.0.id()
    }

    fn fdinfo(&self) -> Vec<u8> {
        self.0.fdinfo()
    }
}

/// An instance's group.
pub struct KernelInotifyMarks(NotifyGroup);

impl KernelInotifyMarks {
    /// A group reporting to `queue`, and the calling user's watch limit.
    pub fn new(queue: &Arc<InotifyQueue>) -> LxResult<(Box<dyn InotifyMarks>, usize)> {
        let group = NotifyGroup::new(Arc::new(QueueSink(queue.clone()))).map_err(lx_error)?;
        Ok((Box::new(Self(group)), notify::max_user_watches()))
    }
}

impl InotifyMarks for KernelInotifyMarks {
    fn watch(&self, inode: &dyn INode, arg: u32, wd: i32, create: bool) -> LxResult<HostWatch> {
        let Some(host) = inode.downcast_ref::<HostINode<KernelBackend>>() else {
            return Ok(HostWatch::NotHost);
        };
        Ok(
            match self
                .0
                .watch(host.handle(), arg, wd, create)
                .map_err(lx_error)?
            {
                Watched::Existing(wd) => HostWatch::Updated(wd),
                Watched::Created(mark) => HostWatch::Created(Box::new(KernelMark(mark))),
            },
        )
    }
}
