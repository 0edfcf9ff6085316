//! `bind`, `listen`.

use crate::{SysResult, Syscall};

impl Syscall<'_> {
    /// `bind(fd, addr, addrlen)`: the address is copied first (`EINVAL` for a length outside
    /// `0..=128`, `EFAULT`), then the family checks it.
    pub fn sys_bind(&self, fd: i32, addr: usize, addrlen: i32) -> SysResult {
        let sock = self.socket(fd)?;
        if let Some(host) = sock.host() {
            return self.inet_bind(host, addr, addrlen);
        }
        let address = self.address_in(addr, addrlen)?.unwrap_or_default();
        sock.socket()?.bind(&self.socket_context(), &address)?;
        Ok(0)
    }

    /// `listen(fd, backlog)`.
    pub fn sys_listen(&self, fd: i32, backlog: i32) -> SysResult {
        let sock = self.socket(fd)?;
        if let Some(host) = sock.host() {
            return self.inet_listen(host, backlog);
        }
        sock.socket()?.listen(&self.socket_context(), backlog)?;
        Ok(0)
    }
}
