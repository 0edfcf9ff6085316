//! `shutdown`.

use linux_object::net::Shutdown;

use crate::{SysResult, Syscall};

impl Syscall<'_> {
    /// `shutdown(fd, how)`: `EINVAL` for a `how` other than `SHUT_RD`, `SHUT_WR`,
    /// `SHUT_RDWR` (after the descriptor checks, as Linux).
    pub fn sys_shutdown(&self, fd: i32, how: i32) -> SysResult {
        let sock = self.socket(fd)?;
        if let Some(host) = sock.host() {
            return self.inet_shutdown(host, how);
        }
        let how = Shutdown::from_raw(how)?;
        sock.socket()?.shutdown(how)?;
        Ok(0)
    }
}
