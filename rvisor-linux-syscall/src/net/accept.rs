//! `accept`, `accept4`.

use linux_object::fs::OpenFlags;
use linux_object::LxError;

use super::{wait_with_timeout, SOCK_CLOEXEC, SOCK_NONBLOCK};
use crate::user::UserInOutPtr;
use crate::{SysResult, Syscall};

impl Syscall<'_> {
    /// `accept4(fd, addr, addrlen, flags)`: `EINVAL` for flags other than `SOCK_NONBLOCK`
    /// and `SOCK_CLOEXEC` (checked first); waits for a connection unless the socket is
    /// non-blocking (`EAGAIN`). The new descriptor gets the flags; the peer's address is
    /// stored as `getpeername` would, and if that fails (`EFAULT`) the connection is closed.
    pub async fn sys_accept4(
        &self,
        fd: i32,
        addr: usize,
        addrlen: UserInOutPtr<i32>,
        flags: u32,
    ) -> SysResult {
        if flags & !(SOCK_CLOEXEC | SOCK_NONBLOCK) != 0 {
            return Err(LxError::EINVAL);
        }
        let sock = self.socket(fd)?;
        if let Some(host) = sock.host() {
            let (nonblock, cloexec) = (flags & SOCK_NONBLOCK != 0, flags & SOCK_CLOEXEC != 0);
            return self.inet_accept(host, addr, addrlen.addr(), nonblock, cloexec);
        }
        let nonblock = sock.nonblocking();
        let socket = sock.socket()?;
        let (timeout, _) = socket.timeouts();
        let (new, address) =
            wait_with_timeout(timeout, |cx| socket.poll_accept(cx, nonblock)).await?;
        if flags & SOCK_NONBLOCK != 0 {
            new.set_flags(new.flags() | OpenFlags::NONBLOCK);
        }
        let fd = self.process.files().add(new, flags & SOCK_CLOEXEC != 0)?;
        if addr != 0 {
            if let Err(error) = self.address_out(&address, addr, addrlen) {
                let closed = self.process.files().close(fd);
                drop(closed);
                return Err(error);
            }
        }
        Ok(fd as usize)
    }

    /// `accept(fd, addr, addrlen)`.
    pub async fn sys_accept(&self, fd: i32, addr: usize, addrlen: UserInOutPtr<i32>) -> SysResult {
        self.sys_accept4(fd, addr, addrlen, 0).await
    }
}
