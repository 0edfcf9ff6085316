//! `connect`.

use core::future::poll_fn;

use crate::{SysResult, Syscall};

impl Syscall<'_> {
    /// `connect(fd, addr, addrlen)`: waits (a blocking socket) while the family says so,
    /// `EINPROGRESS`/`EAGAIN` as the family gives for a non-blocking one.
    pub async fn sys_connect(&self, fd: i32, addr: usize, addrlen: i32) -> SysResult {
        let sock = self.socket(fd)?;
        if let Some(host) = sock.host() {
            return self.inet_connect(host, addr, addrlen);
        }
        let address = self.address_in(addr, addrlen)?.unwrap_or_default();
        let ctx = self.socket_context();
        let nonblock = sock.nonblocking();
        let socket = sock.socket()?;
        poll_fn(|cx| socket.poll_connect(cx, &ctx, &address, nonblock)).await?;
        Ok(0)
    }
}
