//! `getsockname`, `getpeername`.

use crate::user::UserInOutPtr;
use crate::{SysResult, Syscall};

impl Syscall<'_> {
    /// `getsockname(fd, addr, addrlen)`: the address truncated to `*addrlen`, its full
    /// length stored there.
    pub fn sys_getsockname(&self, fd: i32, addr: usize, addrlen: UserInOutPtr<i32>) -> SysResult {
        let sock = self.socket(fd)?;
        if let Some(host) = sock.host() {
            return self.inet_name(host, addr, addrlen.addr(), false);
        }
        let address = sock.socket()?.local_address()?;
        self.address_out(&address, addr, addrlen)?;
        Ok(0)
    }

    /// `getpeername(fd, addr, addrlen)`: `ENOTCONN` without a peer.
    pub fn sys_getpeername(&self, fd: i32, addr: usize, addrlen: UserInOutPtr<i32>) -> SysResult {
        let sock = self.socket(fd)?;
        if let Some(host) = sock.host() {
            return self.inet_name(host, addr, addrlen.addr(), true);
        }
        let address = sock.socket()?.peer_address()?;
        self.address_out(&address, addr, addrlen)?;
        Ok(0)
    }
}
