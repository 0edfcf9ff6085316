//! Host kernel sockets as rVisor descriptors: [`HostSocketOps`] over
//! `linux_kernel_module::host_socket::HostSocket`, made in the calling task's network
//! namespace, which is its container's (the CLI makes or joins it before the first process
//! joins; contained processes cannot change namespaces).

use alloc::sync::Arc;
use core::task::Context;

use kernel_hostfs::lkm::metadata_of;
use kernel_hostfs::Metadata;
use linux_kernel_module::host_socket::HostSocket;
use linux_kernel_module::process;
use linux_kernel_module::Error;
use linux_object::fs::{HostSocketOps, PollEvents, RecvCall, SendCall};
use linux_object::{LxError, LxResult};

use crate::host::lx_error;

/// A host socket held by rVisor.
pub struct KernelSocket(HostSocket);

impl KernelSocket {
    /// `socket(family, ty, protocol)` in the caller's network namespace.
    pub fn open(family: i32, ty: i32, protocol: i32) -> LxResult<Arc<dyn HostSocketOps>> {
        let socket = HostSocket::open(family, ty, protocol).map_err(lx_error)?;
        Ok(Arc::new(Self(socket)))
    }
}

/// `Ok(())` for a host call's success.
fn done(result: linux_kernel_module::error::Result<usize>) -> LxResult {
    result.map(drop).map_err(lx_error)
}

/// The result of a `read`, `write`, `readv` or `writev` on a host socket. The host's `EINTR`
/// (a wait with `SO_RCVTIMEO`/`SO_SNDTIMEO` that a signal cut short) is final on Linux; the
/// gate would turn an `EINTR` of these calls into a restart (what other host files' waits
/// need), so it is handed on as `ERESTARTNOHAND`: `EINTR` once a handler ran, whatever its
/// `SA_RESTART`, as Linux gives.
fn final_eintr(result: linux_kernel_module::error::Result<usize>) -> LxResult<usize> {
    match result {
        Err(Error::EINTR) if process::signal_pending() => Err(LxError::ERESTARTNOHAND),
        other => other.map_err(lx_error),
    }
}

impl HostSocketOps for KernelSocket {
    fn family(&self) -> u16 {
        self.0.family() as u16
    }

    fn bind(&self, addr: usize, addrlen: i32) -> LxResult {
        done(self.0.bind(addr, addrlen))
    }

    fn connect(&self, addr: usize, addrlen: i32, nonblock: bool) -> LxResult {
        done(self.0.connect(addr, addrlen, nonblock))
    }

    fn listen(&self, backlog: i32) -> LxResult {
        done(self.0.listen(backlog))
    }

    fn accept(
        &self,
        addr: usize,
        addrlen: usize,
        nonblock: bool,
    ) -> LxResult<Arc<dyn HostSocketOps>> {
        let socket = self.0.accept(addr, addrlen, nonblock).map_err(lx_error)?;
        Ok(Arc::new(Self(socket)))
    }

    fn name(&self, addr: usize, addrlen: usize, peer: bool) -> LxResult {
        done(self.0.name(addr, addrlen, peer))
    }

    fn shutdown(&self, how: i32) -> LxResult {
        done(self.0.shutdown(how))
    }

    fn setsockopt(&self, level: i32, name: i32, value: usize, len: i32) -> LxResult {
        done(self.0.setsockopt(level, name, value, len))
    }

    fn getsockopt(&self, level: i32, name: i32, value: usize, len: usize) -> LxResult {
        done(self.0.getsockopt(level, name, value, len))
    }

    fn send(&self, call: SendCall, nonblock: bool) -> LxResult<usize> {
        let sent = match call {
            SendCall::Msg { msg, flags } => self.0.sendmsg(msg, flags, nonblock),
            SendCall::To {
                buf,
                len,
                flags,
                addr,
                addrlen,
            } => self.0.sendto(buf, len, flags, addr, addrlen, nonblock),
            SendCall::Mmsg { vec, vlen, flags } => self.0.sendmmsg(vec, vlen, flags, nonblock),
            SendCall::Vec { iov, iovcnt } => {
                return final_eintr(self.0.writev(iov, iovcnt, nonblock))
            }
            SendCall::Buf { buf, len } => {
                return final_eintr(self.0.write_user(buf, len, nonblock))
            }
        };
        sent.map_err(lx_error)
    }

    fn recv(&self, call: RecvCall, nonblock: bool) -> LxResult<usize> {
        let received = match call {
            RecvCall::Msg { msg, flags } => self.0.recvmsg(msg, flags, nonblock),
            RecvCall::From {
                buf,
                len,
                flags,
                addr,
                addrlen,
            } => self.0.recvfrom(buf, len, flags, addr, addrlen, nonblock),
            RecvCall::Mmsg {
                vec,
                vlen,
                flags,
                timeout,
            } => self.0.recvmmsg(vec, vlen, flags, timeout, nonblock),
            RecvCall::Vec { iov, iovcnt } => {
                return final_eintr(self.0.readv(iov, iovcnt, nonblock))
            }
            RecvCall::Buf { buf, len } => return final_eintr(self.0.read_user(buf, len, nonblock)),
        };
        received.map_err(lx_error)
    }

    fn ioctl(&self, cmd: u32, arg: usize) -> LxResult<usize> {
        self.0.ioctl(cmd, arg).map_err(lx_error)
    }

    fn read_now(&self, buf: &mut [u8]) -> LxResult<usize> {
        self.0.read(buf).map_err(lx_error)
    }

    fn write_now(&self, buf: &[u8]) -> LxResult<usize> {
        self.0.write(buf).map_err(lx_error)
    }

    fn poll_events(&self, cx: Option<&Context<'_>>) -> PollEvents {
        // EPOLL* and POLL* bits are the same; the high ones (EPOLLET…) never come from poll.
        let waker = cx.map(Context::waker);
        let atomic_safe = waker.is_some_and(kernel_async::wakes_only_a_thread);
        PollEvents::from_bits_truncate(self.0.poll(waker, atomic_safe) as u16)
    }

    fn metadata(&self) -> LxResult<Metadata> {
        let stat = self.0.stat().map_err(lx_error)?;
        Ok(metadata_of(&stat)?)
    }
}
