//! The socket calls on host kernel sockets: `socket` for `AF_INET`, `AF_INET6` and
//! `AF_NETLINK`/`NETLINK_ROUTE`, and `bind`, `connect`, `listen`, `accept`, `accept4`,
//! `getsockname`, `getpeername`, `send*`, `recv*`, `shutdown`, `setsockopt`, `getsockopt`,
//! `readv`, `writev` and `ioctl` on them. The socket call layer (`net`) looks the descriptor
//! up and hands a host socket to the `inet_*` functions here before anything of its own: its
//! copies of addresses, headers and options are the host's business for these sockets.
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
//!   protocol the kernel lacks), and read-only: its host socket is opened without
//!   `CAP_NET_ADMIN`, so the host answers a request that would change the network (anything
//!   but a `GET`) with the `NLMSG_ERROR` `EPERM` an unprivileged process gets, and sending or
//!   connecting to a multicast group is `EPERM` as for such a process;
//! - every other family is `EAFNOSUPPORT`, as on a kernel without it.

use alloc::sync::Arc;
use linux_object::fs::{FileLike, HostSocket, OpenFlags, RecvCall, SendCall};
use linux_object::LxError;

use crate::{SysResult, Syscall};

const AF_INET: u32 = 2;
const AF_INET6: u32 = 10;
const AF_NETLINK: u32 = 16;
const AF_PACKET: u32 = 17;

const SOCK_DGRAM: u32 = 2;
const SOCK_RAW: u32 = 3;

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
    /// A socket of a family other than `AF_UNIX` (already checked for range and type), as
    /// the module's documentation says: a host socket, or the error Linux gives.
    pub(crate) fn open_host_socket(
        &self,
        family: u32,
        kind: u32,
        protocol: i32,
        flags: OpenFlags,
    ) -> Result<Arc<dyn FileLike>, LxError> {
        match family {
            AF_INET | AF_INET6 if kind == SOCK_RAW => return Err(LxError::EPERM),
            AF_INET | AF_INET6 => {}
            AF_NETLINK if (kind == SOCK_RAW || kind == SOCK_DGRAM) && protocol != NETLINK_ROUTE => {
                return Err(LxError::EPROTONOSUPPORT)
            }
            AF_NETLINK => {}
            AF_PACKET => return Err(LxError::EPERM),
            _ => return Err(LxError::EAFNOSUPPORT),
        }
        // Both are below AF_MAX and SOCK_MAX: they fit.
        let ops = self
            .host
            .open_socket(family as i32, kind as i32, protocol)?;
        Ok(HostSocket::new(ops, flags.contains(OpenFlags::NONBLOCK)))
    }

    /// `bind` on a host socket.
    pub(crate) fn inet_bind(&self, socket: &HostSocket, addr: usize, addrlen: i32) -> SysResult {
        socket.ops().bind(addr, addrlen)?;
        Ok(0)
    }

    /// `connect` on a host socket: waits for the connection unless the description is
    /// non-blocking (`EINPROGRESS`); a signal restarts it as Linux does.
    pub(crate) fn inet_connect(&self, socket: &HostSocket, addr: usize, addrlen: i32) -> SysResult {
        socket.ops().connect(addr, addrlen, socket.nonblock())?;
        Ok(0)
    }

    /// `listen` on a host socket.
    pub(crate) fn inet_listen(&self, socket: &HostSocket, backlog: i32) -> SysResult {
        socket.ops().listen(backlog)?;
        Ok(0)
    }

    /// `accept4` on a host socket (`flags` already checked): the new descriptor gets
    /// `SOCK_NONBLOCK` and `SOCK_CLOEXEC`; the host wrote the peer's address. (A table
    /// filled by another thread during the wait closes the connection, where Linux's
    /// reservation would have kept its descriptor.)
    pub(crate) fn inet_accept(
        &self,
        socket: &HostSocket,
        addr: usize,
        addrlen: usize,
        nonblock: bool,
        cloexec: bool,
    ) -> SysResult {
        // Linux reserves the descriptor first: a full table is EMFILE and leaves the
        // connection queued.
        if !self.process.files().has_free() {
            return Err(LxError::EMFILE);
        }
        let ops = socket.ops().accept(addr, addrlen, socket.nonblock())?;
        let fd = self
            .process
            .files()
            .add(HostSocket::new(ops, nonblock), cloexec)?;
        Ok(fd as usize)
    }

    /// `getsockname` (`peer` false) or `getpeername` on a host socket.
    pub(crate) fn inet_name(
        &self,
        socket: &HostSocket,
        addr: usize,
        addrlen: usize,
        peer: bool,
    ) -> SysResult {
        socket.ops().name(addr, addrlen, peer)?;
        Ok(0)
    }

    /// `shutdown` on a host socket (the host checks `how`).
    pub(crate) fn inet_shutdown(&self, socket: &HostSocket, how: i32) -> SysResult {
        socket.ops().shutdown(how)?;
        Ok(0)
    }

    /// `setsockopt` on a host socket: every level the host's socket has.
    pub(crate) fn inet_setsockopt(
        &self,
        socket: &HostSocket,
        level: i32,
        name: i32,
        value: usize,
        len: i32,
    ) -> SysResult {
        socket.ops().setsockopt(level, name, value, len)?;
        Ok(0)
    }

    /// `getsockopt` on a host socket.
    pub(crate) fn inet_getsockopt(
        &self,
        socket: &HostSocket,
        level: i32,
        name: i32,
        value: usize,
        len: usize,
    ) -> SysResult {
        socket.ops().getsockopt(level, name, value, len)?;
        Ok(0)
    }

    /// A send on a host socket: the host is asked for `MSG_NOSIGNAL`, and `EPIPE` raises
    /// `SIGPIPE` here (with the container's pid) unless the caller's `flags` had it.
    pub(crate) fn inet_send(&self, socket: &HostSocket, call: SendCall, flags: u32) -> SysResult {
        let call = match call {
            SendCall::Msg { msg, flags } => SendCall::Msg {
                msg,
                flags: flags | MSG_NOSIGNAL,
            },
            SendCall::To {
                buf,
                len,
                flags,
                addr,
                addrlen,
            } => SendCall::To {
                buf,
                len,
                flags: flags | MSG_NOSIGNAL,
                addr,
                addrlen,
            },
            SendCall::Mmsg { vec, vlen, flags } => SendCall::Mmsg {
                vec,
                vlen,
                flags: flags | MSG_NOSIGNAL,
            },
            other => other,
        };
        let sent = socket.ops().send(call, socket.nonblock());
        if flags & MSG_NOSIGNAL != 0 {
            sent
        } else {
            self.raise_broken_pipe(sent)
        }
    }

    /// A receive on a host socket: addresses, control messages and flags as the host writes
    /// them.
    pub(crate) fn inet_recv(&self, socket: &HostSocket, call: RecvCall) -> SysResult {
        socket.ops().recv(call, socket.nonblock())
    }
}

/// `readv` on a host socket: one receive into all of the caller's buffers (a datagram is
/// spread over them, as Linux's `sock_read_iter` does), validated by the host.
pub(crate) fn host_socket_readv(
    file: &dyn FileLike,
    iov: usize,
    iovcnt: usize,
) -> Option<SysResult> {
    let socket = file.as_any().downcast_ref::<HostSocket>()?;
    Some(
        socket
            .ops()
            .recv(RecvCall::Vec { iov, iovcnt }, socket.nonblock()),
    )
}

/// `writev` on a host socket: one send of all of the caller's buffers.
pub(crate) fn host_socket_writev(
    file: &dyn FileLike,
    iov: usize,
    iovcnt: usize,
) -> Option<SysResult> {
    let socket = file.as_any().downcast_ref::<HostSocket>()?;
    Some(
        socket
            .ops()
            .send(SendCall::Vec { iov, iovcnt }, socket.nonblock()),
    )
}

/// `ioctl` on a host socket: the read-outs of [`READ_REQUESTS`] go to the host; the other
/// socket and interface requests (`0x89xx`, wireless `0x8Bxx`), which change the network or
/// name host objects, are `EPERM` (what a process without `CAP_NET_ADMIN` gets); any other
/// `ENOTTY`.
pub(crate) fn host_socket_ioctl(
    file: &dyn FileLike,
    request: u32,
    arg: usize,
) -> Option<SysResult> {
    let socket = file.as_any().downcast_ref::<HostSocket>()?;
    Some(if READ_REQUESTS.contains(&request) {
        socket.ops().ioctl(request, arg)
    } else if (0x8900..=0x8BFF).contains(&request) {
        Err(LxError::EPERM)
    } else {
        Err(LxError::ENOTTY)
    })
}

#[cfg(test)]
mod tests {
    use crate::fs::testing::{err, run, Sandbox};
    use linux_object::LxError;

    const SOCKET: u32 = 41;
    const SOCKETPAIR: u32 = 53;
    const BIND: u32 = 49;

    #[test]
    fn socket_refuses_what_a_container_may_not_have_as_linux_does() {
        let sandbox = Sandbox::new("inet");
        let sys = sandbox.syscall();
        let socket =
            |family: usize, ty: usize, protocol: usize| run(&sys, SOCKET, &[family, ty, protocol]);
        assert_eq!(socket(2, 3, 1), err(LxError::EPERM), "raw IPv4");
        assert_eq!(socket(10, 3 | 0o4000, 58), err(LxError::EPERM), "raw IPv6");
        assert_eq!(socket(17, 3, 0x300), err(LxError::EPERM), "packet");
        assert_eq!(socket(16, 3, 9), err(LxError::EPROTONOSUPPORT), "audit");
        assert_eq!(socket(31, 1, 0), err(LxError::EAFNOSUPPORT), "bluetooth");
        assert_eq!(socket(200, 1, 0), err(LxError::EAFNOSUPPORT));
        assert_eq!(socket(2, 42, 0), err(LxError::EINVAL));
        assert_eq!(socket(2, 1 | 0x100, 0), err(LxError::EINVAL));
        // Allowed, then made by the host: this test host has no network.
        assert_eq!(socket(2, 1, 0), err(LxError::EAFNOSUPPORT));
        assert_eq!(socket(16, 3, 0), err(LxError::EAFNOSUPPORT));
        let sv = sandbox.buf(8);
        assert_eq!(
            run(&sys, SOCKETPAIR, &[2, 3, 0, sv]),
            err(LxError::EPERM),
            "made first, so its refusal comes first"
        );
        assert_eq!(sys.process.files().len(), 0, "nothing left open");
    }

    #[test]
    fn calls_on_what_is_not_a_socket_fail_before_the_host() {
        let sandbox = Sandbox::new("inet-notsock");
        sandbox.write("f", b"");
        let sys = sandbox.syscall();
        let path = sandbox.cstr("f");
        let fd = run(&sys, 257, &[crate::fs::testing::int(-100), path, 0]);
        assert!(fd >= 0);
        assert_eq!(
            run(&sys, BIND, &[fd as usize, 0, 0]),
            err(LxError::ENOTSOCK)
        );
        assert_eq!(run(&sys, BIND, &[99, 0, 0]), err(LxError::EBADF));
    }
}
