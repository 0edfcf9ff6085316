//! `getsockopt`, `setsockopt`.

use linux_object::net::{OptionIn, OptionOut, UserIoVec, OPTION_COPY, SOL_SOCKET};
use linux_object::LxError;

use crate::user::{copy_from_user, copy_to_user, UserInOutPtr};
use crate::{SysResult, Syscall};

impl Syscall<'_> {
    /// `getsockopt(fd, level, optname, optval, optlen)`: the value truncated to `*optlen`
    /// (`EINVAL` if negative), the length copied stored back.
    pub fn sys_getsockopt(
        &self,
        fd: i32,
        level: i32,
        name: i32,
        optval: usize,
        optlen: UserInOutPtr<i32>,
    ) -> SysResult {
        let sock = self.socket(fd)?;
        if let Some(host) = sock.host() {
            return self.inet_getsockopt(host, level, name, optval, optlen.addr());
        }
        let len = optlen.read()?;
        let len = usize::try_from(len).map_err(|_| LxError::EINVAL)?;
        let out = UserIoVec { base: optval, len };
        match sock.socket()?.getsockopt(level, name, out)? {
            OptionOut::Value(value) => {
                let count = len.min(value.len());
                copy_to_user(optval, value.get(..count).unwrap_or_default())?;
                optlen.write(count as i32)?;
            }
            OptionOut::Written(count) => {
                optlen.write(i32::try_from(count).unwrap_or(i32::MAX))?;
            }
        }
        Ok(0)
    }

    /// `setsockopt(fd, level, optname, optval, optlen)`: `EINVAL` for a negative `optlen`
    /// (before the descriptor), and for `SOL_SOCKET` one shorter than an `int`.
    pub fn sys_setsockopt(
        &self,
        fd: i32,
        level: i32,
        name: i32,
        optval: usize,
        optlen: i32,
    ) -> SysResult {
        let len = usize::try_from(optlen).map_err(|_| LxError::EINVAL)?;
        let sock = self.socket(fd)?;
        if let Some(host) = sock.host() {
            return self.inet_setsockopt(host, level, name, optval, optlen);
        }
        let mut copied = [0u8; OPTION_COPY];
        let count = len.min(OPTION_COPY);
        let bytes = match copied.get_mut(..count) {
            Some(bytes) if level == SOL_SOCKET => {
                if len < 4 {
                    return Err(LxError::EINVAL);
                }
                copy_from_user(optval, bytes)?;
                &*bytes
            }
            // Other levels are the family's: it reads what it needs, and a fault matters
            // only if it does.
            Some(bytes) => match copy_from_user(optval, bytes) {
                Ok(()) => &*bytes,
                Err(_) => &[],
            },
            None => &[],
        };
        let value = OptionIn {
            user: optval,
            len,
            bytes,
        };
        sock.socket()?.setsockopt(level, name, value)?;
        Ok(0)
    }
}
