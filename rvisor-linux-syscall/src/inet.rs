//! The socket calls on host kernel sockets: `socket` for `AF_INET`, `AF_INET6` and
//! `AF_NETLINK`/`NETLINK_ROUTE`, and `bind`, `connect`, `listen`, `accept`, `accept4`,
//! `getsockname`, `getpeername`, `send*`, `recv*`, `shutdown`, `setsockopt`, `getsockopt` on
//! them.
//!
//! A host socket is made by the [`TaskHost`](crate::TaskHost) in the container's network
//! namespace and wrapped as a [`HostSocket`] description. Every call passes the caller's own
//! user addresses to the host, which copies them with its own checks and errors, exactly as
//! its syscall would; rVisor checks the descriptor (`EBADF`, `ENOTSOCK`), keeps `O_NONBLOCK`,
//! raises `SIGPIPE` itself (the host is asked for `MSG_NOSIGNAL`, so the signal carries the
//! container's pid), and decides which sockets may exist at all:
//! - `SOCK_RAW` of `AF_INET`/`AF_INET6` and every `AF_PACKET` socket are `EPERM`, what
//!   Linux answers a process without `CAP_NET_RAW`; ICMP datagram ("ping") sockets are the
//!   host's to allow (`net.ipv4.ping_group_range`);
//! - `AF_NETLINK` serves `NETLINK_ROUTE` only (other protocols `EPROTONOSUPPORT`, as for a
//!   protocol the kernel lacks), and read-only: a request that would change the network
//!   (anything but a `GET`) is `EPERM` (the host socket layer checks the bytes it sends);
//! - every other family is `EAFNOSUPPORT`, as on a kernel without it.

use linux_object::fs::{FileLike, HostSocket, RecvCall, SendCall};
use linux_object::LxError;

use crate::{SysResult, Syscall};

const AF_UNIX: i32 = 1;
const AF_INET: i32 = 2;
const AF_INET6: i32 = 10;
const AF_NETLINK: i32 = 16;
const AF_PACKET: i32 = 17;
/// `NPROTO`: families at or past it are `EAFNOSUPPORT` before anything else.
const NPROTO: i32 = 46;

const SOCK_DGRAM: i32 = 2;
const SOCK_RAW: i32 = 3;
/// `SOCK_MAX`: types at or past it are `EINVAL`.
const SOCK_MAX: i32 = 11;
const SOCK_TYPE_MASK: i32 = 0xf;
const SOCK_NONBLOCK: i32 = 0o4000;
const SOCK_CLOEXEC: i32 = 0o2_000_000;

const NETLINK_ROUTE: i32 = 0;

const MSG_NOSIGNAL: u32 = 0x4000;

/// Socket requests passed to the host: queue sizes, marks, timestamps, owner read-out and the
/// interface read-outs (`SIOCGIF*`, answered for the socket's network namespace).
const READ_REQUESTS: &[u32] = &[
    0x541B, // FIONREAD / SIOCINQ
    0x5411, // TIOCOUTQ / SIOCOUTQ
    0x894B, // SIOCOUTQNSD
    0x8903, // FIOGETOWN
    0x8904, // SIOCGPGRP
    0x8905, // SIOCATMARK
    0x8906, // SIOCGSTAMP
    0x8907, // SIOCGSTAMPNS
    0x8910, // SIOCGIFNAME
    0x8912, // SIOCGIFCONF
    0x8913, // SIOCGIFFLAGS
    0x8915, // SIOCGIFADDR
    0x8917, // SIOCGIFDSTADDR
    0x8919, // SIOCGIFBRDADDR
    0x891b, // SIOCGIFNETMASK
    0x891d, // SIOCGIFMETRIC
    0x8921, // SIOCGIFMTU
    0x8927, // SIOCGIFHWADDR
    0x8933, // SIOCGIFINDEX
    0x8942, // SIOCGIFTXQLEN
    0x8948, // SIOCGIFPFLAGS
    0x8970, // SIOCGIFMAP
];

impl Syscall<'_> {
    /// Runs `call` on the host socket `fd` names: `EBADF` if none, `ENOTSOCK` if it is not a
    /// socket.
    fn on_host_socket<T>(
        &self,
        fd: i32,
        call: impl FnOnce(&HostSocket) -> Result<T, LxError>,
    ) -> Result<T, LxError> {
        let file = self.file(fd)?;
        match file.as_any().downcast_ref::<HostSocket>() {
            Some(socket) => call(socket),
            None => Err(LxError::ENOTSOCK),
        }
    }

    /// `socket(domain, type, protocol)`: see the module's documentation for the families.
    pub fn sys_socket(&self, domain: i32, ty: i32, protocol: i32) -> SysResult {
        let flags = ty & !SOCK_TYPE_MASK;
        if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
            return Err(LxError::EINVAL);
        }
        let kind = ty & SOCK_TYPE_MASK;
        // __sock_create's order: the family's range, then the type's.
        if !(0..NPROTO).contains(&domain) {
            return Err(LxError::EAFNOSUPPORT);
        }
        if kind >= SOCK_MAX {
            return Err(LxError::EINVAL);
        }
        match domain {
            AF_INET | AF_INET6 if kind == SOCK_RAW => return Err(LxError::EPERM),
            AF_INET | AF_INET6 => {}
            AF_NETLINK if (kind == SOCK_RAW || kind == SOCK_DGRAM) && protocol != NETLINK_ROUTE => {
                return Err(LxError::EPROTONOSUPPORT)
            }
            AF_NETLINK => {}
            AF_PACKET => return Err(LxError::EPERM),
            AF_UNIX => return Err(LxError::EAFNOSUPPORT),
            _ => return Err(LxError::EAFNOSUPPORT),
        }
        let ops = self.host.open_socket(domain, kind, protocol)?;
        let socket = HostSocket::new(ops, flags & SOCK_NONBLOCK != 0);
        let fd = self
            .process
            .files()
            .add(socket, flags & SOCK_CLOEXEC != 0)?;
        Ok(fd as usize)
    }

    /// `bind(fd, addr, addrlen)`.
    pub fn sys_bind(&self, fd: i32, addr: usize, addrlen: i32) -> SysResult {
        self.on_host_socket(fd, |socket| socket.ops().bind(addr, addrlen))?;
        Ok(0)
    }

    /// `connect(fd, addr, addrlen)`: waits for the connection unless the description is
    /// non-blocking (`EINPROGRESS`); a signal restarts it as Linux does.
    pub fn sys_connect(&self, fd: i32, addr: usize, addrlen: i32) -> SysResult {
        self.on_host_socket(fd, |socket| {
            socket.ops().connect(addr, addrlen, socket.nonblock())
        })?;
        Ok(0)
    }

    /// `listen(fd, backlog)`.
    pub fn sys_listen(&self, fd: i32, backlog: i32) -> SysResult {
        self.on_host_socket(fd, |socket| socket.ops().listen(backlog))?;
        Ok(0)
    }

    /// `accept4(fd, addr, addrlen, flags)`: `SOCK_NONBLOCK` and `SOCK_CLOEXEC` are the new
    /// descriptor's (any other flag `EINVAL`, checked first as Linux).
    pub fn sys_accept4(&self, fd: i32, addr: usize, addrlen: usize, flags: i32) -> SysResult {
        if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
            return Err(LxError::EINVAL);
        }
        let ops = self.on_host_socket(fd, |socket| {
            socket.ops().accept(addr, addrlen, socket.nonblock())
        })?;
        let socket = HostSocket::new(ops, flags & SOCK_NONBLOCK != 0);
        let fd = self
            .process
            .files()
            .add(socket, flags & SOCK_CLOEXEC != 0)?;
        Ok(fd as usize)
    }

    /// `accept(fd, addr, addrlen)`.
    pub fn sys_accept(&self, fd: i32, addr: usize, addrlen: usize) -> SysResult {
        self.sys_accept4(fd, addr, addrlen, 0)
    }

    /// `getsockname(fd, addr, addrlen)`.
    pub fn sys_getsockname(&self, fd: i32, addr: usize, addrlen: usize) -> SysResult {
        self.on_host_socket(fd, |socket| socket.ops().name(addr, addrlen, false))?;
        Ok(0)
    }

    /// `getpeername(fd, addr, addrlen)`: `ENOTCONN` without a peer.
    pub fn sys_getpeername(&self, fd: i32, addr: usize, addrlen: usize) -> SysResult {
        self.on_host_socket(fd, |socket| socket.ops().name(addr, addrlen, true))?;
        Ok(0)
    }

    /// `shutdown(fd, how)`.
    pub fn sys_shutdown(&self, fd: i32, how: i32) -> SysResult {
        self.on_host_socket(fd, |socket| socket.ops().shutdown(how))?;
        Ok(0)
    }

    /// `setsockopt(fd, level, name, value, len)`: every level the host's socket has.
    pub fn sys_setsockopt(
        &self,
        fd: i32,
        level: i32,
        name: i32,
        value: usize,
        len: i32,
    ) -> SysResult {
        self.on_host_socket(fd, |socket| {
            socket.ops().setsockopt(level, name, value, len)
        })?;
        Ok(0)
    }

    /// `getsockopt(fd, level, name, value, lenp)`.
    pub fn sys_getsockopt(
        &self,
        fd: i32,
        level: i32,
        name: i32,
        value: usize,
        len: usize,
    ) -> SysResult {
        self.on_host_socket(fd, |socket| {
            socket.ops().getsockopt(level, name, value, len)
        })?;
        Ok(0)
    }

    /// Sends with `call` (its flags already carrying `MSG_NOSIGNAL` for the host); `EPIPE`
    /// raises `SIGPIPE` unless the caller's `flags` had `MSG_NOSIGNAL`.
    fn host_send(&self, fd: i32, call: SendCall, flags: u32) -> SysResult {
        let sent = self.on_host_socket(fd, |socket| socket.ops().send(call, socket.nonblock()));
        if flags & MSG_NOSIGNAL != 0 {
            sent
        } else {
            self.raise_broken_pipe(sent)
        }
    }

    /// `sendto(fd, buf, len, flags, addr, addrlen)` (`send` is `sendto` without an address).
    pub fn sys_sendto(
        &self,
        fd: i32,
        buf: usize,
        len: usize,
        flags: u32,
        addr: usize,
        addrlen: i32,
    ) -> SysResult {
        let call = SendCall::To {
            buf,
            len,
            flags: flags | MSG_NOSIGNAL,
            addr,
            addrlen,
        };
        self.host_send(fd, call, flags)
    }

    /// `sendmsg(fd, msg, flags)`.
    pub fn sys_sendmsg(&self, fd: i32, msg: usize, flags: u32) -> SysResult {
        let call = SendCall::Msg {
            msg,
            flags: flags | MSG_NOSIGNAL,
        };
        self.host_send(fd, call, flags)
    }

    /// `sendmmsg(fd, msgvec, vlen, flags)`: the count sent, or the first error if none was.
    pub fn sys_sendmmsg(&self, fd: i32, vec: usize, vlen: u32, flags: u32) -> SysResult {
        let call = SendCall::Mmsg {
            vec,
            vlen,
            flags: flags | MSG_NOSIGNAL,
        };
        self.host_send(fd, call, flags)
    }

    /// `recvfrom(fd, buf, len, flags, addr, addrlen)` (`recv` without an address).
    pub fn sys_recvfrom(
        &self,
        fd: i32,
        buf: usize,
        len: usize,
        flags: u32,
        addr: usize,
        addrlen: usize,
    ) -> SysResult {
        let call = RecvCall::From {
            buf,
            len,
            flags,
            addr,
            addrlen,
        };
        self.on_host_socket(fd, |socket| socket.ops().recv(call, socket.nonblock()))
    }

    /// `recvmsg(fd, msg, flags)`: control messages as the host gives them.
    pub fn sys_recvmsg(&self, fd: i32, msg: usize, flags: u32) -> SysResult {
        let call = RecvCall::Msg { msg, flags };
        self.on_host_socket(fd, |socket| socket.ops().recv(call, socket.nonblock()))
    }

    /// `recvmmsg(fd, msgvec, vlen, flags, timeout)`.
    pub fn sys_recvmmsg(
        &self,
        fd: i32,
        vec: usize,
        vlen: u32,
        flags: u32,
        timeout: usize,
    ) -> SysResult {
        let call = RecvCall::Mmsg {
            vec,
            vlen,
            flags,
            timeout,
        };
        self.on_host_socket(fd, |socket| socket.ops().recv(call, socket.nonblock()))
    }
}

/// `readv` on a host socket: one receive into all of the caller's buffers (a datagram is
/// spread over them, as Linux's `sock_read_iter` does), validated by the host.
pub(crate) fn host_socket_readv(file: &dyn FileLike, iov: usize, iovcnt: usize) -> Option<SysResult> {
    let socket = file.as_any().downcast_ref::<HostSocket>()?;
    Some(
        socket
            .ops()
            .recv(RecvCall::Vec { iov, iovcnt }, socket.nonblock()),
    )
}

/// `writev` on a host socket: one send of all of the caller's buffers.
pub(crate) fn host_socket_writev(file: &dyn FileLike, iov: usize, iovcnt: usize) -> Option<SysResult> {
    let socket = file.as_any().downcast_ref::<HostSocket>()?;
    Some(
        socket
            .ops()
            .send(SendCall::Vec { iov, iovcnt }, socket.nonblock()),
    )
}

/// `ioctl` on a host socket: the read-outs of [`READ_REQUESTS`] go to the host; the other
/// socket and interface requests (`0x89xx`, wireless `0x8Bxx`), which change the network
/// or name host objects, are `EPERM` (what a process without `CAP_NET_ADMIN` gets); any
/// other `ENOTTY`.
pub(crate) fn host_socket_ioctl(file: &dyn FileLike, request: u32, arg: usize) -> Option<SysResult> {
    let socket = file.as_any().downcast_ref::<HostSocket>()?;
    Some(if READ_REQUESTS.contains(&request) {
        socket.ops().ioctl(request, arg)
    } else if (0x8900..=0x8BFF).contains(&request) {
        Err(LxError::EPERM)
    } else {
        Err(LxError::ENOTTY)
    })
}
