//! Socket calls: `socket`, `socketpair`, `bind`, `listen`, `accept`/`accept4`, `connect`,
//! the `send*`/`recv*` family, `shutdown`, `getsockname`/`getpeername`,
//! `getsockopt`/`setsockopt` — one file per family, over linux-object's
//! [`Socket`](linux_object::net::Socket) trait, so every address family plugs in the same way.
//!
//! What is done here for every family: the descriptor look-up (`EBADF`, `ENOTSOCK`), the
//! copies of addresses with the kernel's length rules (Linux's `move_addr_to_kernel` and
//! `move_addr_to_user`), `msghdr`s and control messages (descriptors of `SCM_RIGHTS` turned
//! into descriptions and back), the waits (`O_NONBLOCK`, `MSG_DONTWAIT`, `SO_RCVTIMEO`,
//! `SO_SNDTIMEO`) and `SIGPIPE`. What a socket is and what its addresses mean is the family's:
//! `AF_UNIX` is [`UnixSocket`](linux_object::net::unix::UnixSocket).

mod accept;
mod bind;
mod connect;
mod control;
mod msg;
mod name;
mod opt;
mod shutdown;
mod socket;

#[cfg(test)]
mod tests;

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::future::{poll_fn, Future};
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use kernel_hostfs::FileType;
use linux_object::credentials::Access;
use linux_object::fs::{FileLike, HostSocket};
use linux_object::net::unix::{NodeKey, UnixNamespace};
use linux_object::net::{Socket, SocketContext, UCred, SOCKADDR_MAX};
use linux_object::{LxError, LxResult};

use crate::fs::AT_FDCWD;
use crate::user::{copy_from_user, copy_to_user, UserInOutPtr};
use crate::Syscall;

/// `SOCK_NONBLOCK` (`O_NONBLOCK`) in a socket type or `accept4` flags.
pub(crate) const SOCK_NONBLOCK: u32 = 0o4000;
/// `SOCK_CLOEXEC` (`O_CLOEXEC`).
pub(crate) const SOCK_CLOEXEC: u32 = 0o2_000_000;

/// A socket descriptor: the description, which [`Sock::socket`] shows as a [`Socket`].
pub(crate) struct Sock(Arc<dyn FileLike>);

impl Sock {
    /// The host kernel socket this is, if it is one (`AF_INET`, `AF_INET6`,
    /// `NETLINK_ROUTE`): its calls go to `crate::inet` before anything here.
    pub(crate) fn host(&self) -> Option<&HostSocket> {
        self.0.as_any().downcast_ref::<HostSocket>()
    }

    /// The socket (always there: [`Syscall::socket`] checked).
    pub(crate) fn socket(&self) -> LxResult<&dyn Socket> {
        self.0.as_socket().ok_or(LxError::ENOTSOCK)
    }

    /// Is the description non-blocking?
    pub(crate) fn nonblocking(&self) -> bool {
        self.0
            .flags()
            .contains(linux_object::fs::OpenFlags::NONBLOCK)
    }
}

impl Syscall<'_> {
    /// The socket `fd` names: `EBADF` if it is not open (or an `O_PATH` descriptor),
    /// `ENOTSOCK` if it is not a socket (Linux's `sockfd_lookup_light`).
    pub(crate) fn socket(&self, fd: i32) -> LxResult<Sock> {
        let file = self.file(fd)?;
        if file.as_socket().is_none() && file.as_any().downcast_ref::<HostSocket>().is_none() {
            return Err(LxError::ENOTSOCK);
        }
        Ok(Sock(file))
    }

    /// Linux's `move_addr_to_kernel`: `EINVAL` for a length outside `0..=128`, nothing for 0,
    /// else the bytes (`EFAULT` if they cannot be read).
    pub(crate) fn address_in(&self, addr: usize, len: i32) -> LxResult<Option<Vec<u8>>> {
        let len = usize::try_from(len).map_err(|_| LxError::EINVAL)?;
        if len > SOCKADDR_MAX {
            return Err(LxError::EINVAL);
        }
        if len == 0 {
            return Ok(None);
        }
        let mut bytes = alloc::vec![0; len];
        copy_from_user(addr, &mut bytes)?;
        Ok(Some(bytes))
    }

    /// Linux's `move_addr_to_user`: reads the caller's buffer length from `len_ptr`
    /// (`EFAULT`; `EINVAL` if negative), copies as much of `address` as fits and stores the
    /// address's full length.
    pub(crate) fn address_out(
        &self,
        address: &[u8],
        addr: usize,
        len_ptr: UserInOutPtr<i32>,
    ) -> LxResult {
        let room = len_ptr.read()?;
        let room = usize::try_from(room).map_err(|_| LxError::EINVAL)?;
        let count = room.min(address.len());
        if count > 0 {
            copy_to_user(addr, address.get(..count).unwrap_or_default())?;
        }
        len_ptr.write(i32::try_from(address.len()).unwrap_or(i32::MAX))
    }

    /// What a socket needs to know of the caller.
    pub(crate) fn socket_context(&self) -> CallerContext<'_, '_> {
        CallerContext { sys: self }
    }
}

/// The calling process, as sockets see it: its credentials, its container's unix names and
/// its confined path walk.
pub(crate) struct CallerContext<'s, 'a> {
    sys: &'s Syscall<'a>,
}

impl SocketContext for CallerContext<'_, '_> {
    fn peer_credentials(&self) -> UCred {
        let credentials = self.sys.process.credentials();
        UCred {
            pid: self.sys.process.pid(),
            uid: credentials.euid,
            gid: credentials.egid,
        }
    }

    fn message_credentials(&self) -> UCred {
        let credentials = self.sys.process.credentials();
        UCred {
            pid: self.sys.process.pid(),
            uid: credentials.uid,
            gid: credentials.gid,
        }
    }

    fn unix_namespace(&self) -> LxResult<Arc<UnixNamespace>> {
        Ok(self.sys.container()?.unix_names().clone())
    }

    /// As Linux's `unix_bind_bsd`: the parent is walked in the container, the node made
    /// with mode `0777 & ~umask`; an existing name is `EADDRINUSE`.
    fn create_socket_node(&self, path: &[u8]) -> LxResult<NodeKey> {
        // A name that is not UTF-8 cannot be made here.
        let path = core::str::from_utf8(path).map_err(|_| LxError::ENOENT)?;
        let sys = self.sys;
        let mut walker = sys.walker();
        let parent = sys.resolve_parent_with(&mut walker, AT_FDCWD, path)?;
        let name = parent.name(LxError::EADDRINUSE)?;
        match parent.lookup(name) {
            Ok(_) => return Err(LxError::EADDRINUSE),
            Err(LxError::ENOENT) => {}
            Err(error) => return Err(error),
        }
        let mode = (0o777 & !sys.process.umask()) as u16;
        let node = sys
            .create_node(&walker, &parent.dir, name, FileType::Socket, mode)
            .map_err(|error| match error {
                LxError::EEXIST => LxError::EADDRINUSE,
                error => error,
            })?;
        let metadata = node.inode.metadata()?;
        Ok((metadata.dev, metadata.inode))
    }

    fn remove_socket_node(&self, path: &[u8]) {
        let Ok(path) = core::str::from_utf8(path) else {
            return;
        };
        let mut walker = self.sys.walker();
        if let Ok(parent) = self.sys.resolve_parent_with(&mut walker, AT_FDCWD, path) {
            if let Ok(name) = parent.name(LxError::EINVAL) {
                // Best effort, as Linux's: the bind fails with its own error either way.
                let _ = parent.dir.inode.unlink(name);
            }
        }
    }

    /// As Linux's `unix_find_bsd`: the path is walked in the container (links followed,
    /// never out of its root), write permission is needed, and anything but a socket is
    /// `ECONNREFUSED`.
    fn find_socket_node(&self, path: &[u8]) -> LxResult<NodeKey> {
        let path = core::str::from_utf8(path).map_err(|_| LxError::ENOENT)?;
        let mut walker = self.sys.walker();
        let node = self.sys.resolve_with(&mut walker, AT_FDCWD, path, true)?;
        let metadata = node.inode.metadata()?;
        walker.credentials().permission(&metadata, Access::WRITE)?;
        if metadata.type_ != FileType::Socket {
            return Err(LxError::ECONNREFUSED);
        }
        Ok((metadata.dev, metadata.inode))
    }
}

/// Runs `step` until it is ready, or until `timeout_ns` (0: none) passes: then `EAGAIN`, as a
/// socket timeout ends a wait in Linux.
pub(crate) async fn wait_with_timeout<T>(
    timeout_ns: u64,
    mut step: impl FnMut(&mut Context<'_>) -> Poll<LxResult<T>>,
) -> LxResult<T> {
    if timeout_ns == 0 {
        return poll_fn(step).await;
    }
    let mut sleep =
        kernel_async::sleep(Duration::from_nanos(timeout_ns)).map_err(|_| LxError::EIO)?;
    poll_fn(|cx| {
        if let Poll::Ready(result) = step(cx) {
            return Poll::Ready(result);
        }
        if Pin::new(&mut sleep).poll(cx).is_ready() {
            return Poll::Ready(Err(LxError::EAGAIN));
        }
        Poll::Pending
    })
    .await
}
