//! `socket`, `socketpair`: new sockets, by family.

use alloc::sync::Arc;
use linux_object::fs::{FileLike, OpenFlags};
use linux_object::net::unix::UnixSocket;
use linux_object::net::{SocketContext, SocketType, AF_UNIX};
use linux_object::LxError;

use super::{SOCK_CLOEXEC, SOCK_NONBLOCK};
use crate::user::UserOutPtr;
use crate::{SysResult, Syscall};

/// `SOCK_TYPE_MASK`: the type bits of `socket`'s `type`.
const SOCK_TYPE_MASK: u32 = 0xf;
/// `SOCK_MAX`: types at or above are `EINVAL`.
const SOCK_MAX: u32 = 11;
/// `AF_MAX` (`NPROTO`) of the kernels served: families at or above are `EAFNOSUPPORT`.
const AF_MAX: u32 = 46;

/// `socket`'s `type` split: the type, `O_NONBLOCK` for the description, close-on-exec.
fn split_type(raw: u32) -> Result<(u32, OpenFlags, bool), LxError> {
    let flags = raw & !SOCK_TYPE_MASK;
    if flags & !(SOCK_CLOEXEC | SOCK_NONBLOCK) != 0 {
        return Err(LxError::EINVAL);
    }
    let kind = raw & SOCK_TYPE_MASK;
    Ok((
        kind,
        OpenFlags::from_bits_retain(flags & SOCK_NONBLOCK),
        flags & SOCK_CLOEXEC != 0,
    ))
}

/// Linux's `unix_create`: protocol 0 or `PF_UNIX`; stream, seqpacket, datagram (`SOCK_RAW`
/// is a datagram socket); other types `ESOCKTNOSUPPORT`.
fn unix_type(kind: u32, protocol: i32) -> Result<SocketType, LxError> {
    if protocol != 0 && protocol != i32::from(AF_UNIX) {
        return Err(LxError::EPROTONOSUPPORT);
    }
    match SocketType::from_raw(kind) {
        Ok(SocketType::Stream) => Ok(SocketType::Stream),
        Ok(SocketType::SeqPacket) => Ok(SocketType::SeqPacket),
        Ok(SocketType::Datagram | SocketType::Raw) => Ok(SocketType::Datagram),
        _ => Err(LxError::ESOCKTNOSUPPORT),
    }
}

impl Syscall<'_> {
    /// Checks `socket`'s family and type as Linux's `__sock_create` does before the family
    /// sees them: `EAFNOSUPPORT` for a family out of range, `EINVAL` for a type out of range.
    fn check_family_and_type(family: i32, kind: u32) -> Result<u32, LxError> {
        let family = u32::try_from(family).map_err(|_| LxError::EAFNOSUPPORT)?;
        if family >= AF_MAX {
            return Err(LxError::EAFNOSUPPORT);
        }
        if kind >= SOCK_MAX {
            return Err(LxError::EINVAL);
        }
        Ok(family)
    }

    /// The caller's fsuid and fsgid, the owner of a new socket's inode.
    fn socket_owner(&self) -> (u32, u32) {
        let credentials = self.process.credentials();
        (credentials.fsuid, credentials.fsgid)
    }

    /// `socket(domain, type, protocol)`.
    pub fn sys_socket(&self, domain: i32, raw_type: u32, protocol: i32) -> SysResult {
        let (kind, flags, cloexec) = split_type(raw_type)?;
        let family = Self::check_family_and_type(domain, kind)?;
        let socket: Arc<dyn FileLike> = if family == u32::from(AF_UNIX) {
            let kind = unix_type(kind, protocol)?;
            let ctx = self.socket_context();
            UnixSocket::new(kind, flags, ctx.peer_credentials(), self.socket_owner())
        } else {
            self.open_host_socket(family, kind, protocol, flags)?
        };
        let fd = self.process.files().add(socket, cloexec)?;
        Ok(fd as usize)
    }

    /// `socketpair(domain, type, protocol, sv)`: `AF_UNIX` only; a family that cannot pair is
    /// `EOPNOTSUPP`. If `sv` cannot be written, no descriptor is left open (`EFAULT`).
    pub fn sys_socketpair(
        &self,
        domain: i32,
        raw_type: u32,
        protocol: i32,
        sv: UserOutPtr<i32>,
    ) -> SysResult {
        let (kind, flags, cloexec) = split_type(raw_type)?;
        let family = Self::check_family_and_type(domain, kind)?;
        if family != u32::from(AF_UNIX) {
            // Linux makes the socket first (its errors come first), then finds the family
            // cannot pair (`EOPNOTSUPP`: AF_INET, AF_INET6, AF_NETLINK).
            let socket = self.open_host_socket(family, kind, protocol, flags)?;
            drop(socket);
            return Err(LxError::EOPNOTSUPP);
        }
        let kind = unix_type(kind, protocol)?;
        let ctx = self.socket_context();
        let (first, second) =
            UnixSocket::pair(kind, flags, ctx.peer_credentials(), self.socket_owner());
        let (fd0, fd1) = {
            let mut files = self.process.files();
            let fd0 = files.add(first, cloexec)?;
            match files.add(second, cloexec) {
                Ok(fd1) => (fd0, fd1),
                Err(error) => {
                    let first = files.close(fd0);
                    drop(files);
                    drop(first);
                    return Err(error);
                }
            }
        };
        if let Err(error) = sv.write_array(&[fd0, fd1]) {
            let mut files = self.process.files();
            let ends = (files.close(fd0), files.close(fd1));
            drop(files);
            drop(ends);
            return Err(error);
        }
        Ok(0)
    }
}
