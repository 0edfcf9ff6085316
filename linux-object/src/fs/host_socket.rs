//! [`HostSocket`]: a host kernel socket (AF_INET, AF_INET6, read-only NETLINK_ROUTE) as an
//! rVisor open file description.
//!
//! The host's network stack does the work: the kernel backend implements [`HostSocketOps`]
//! over a host socket made in the container's network namespace, and every call hands it the
//! caller's own user addresses (addresses, message headers, `iovec`s, option buffers), so the
//! host copies them with its own checks and moves the data once. rVisor keeps the descriptor,
//! its status flags (`O_NONBLOCK` is rVisor's and is passed on each call) and the policy of
//! which sockets a container may have.

use super::{FileLike, OpenFlags, PollEvents};
use crate::error::{LxError, LxResult};
use alloc::sync::Arc;
use core::any::Any;
use core::task::{Context, Poll};
use kernel_hal_lkm::sync::Mutex;
use kernel_hostfs::Metadata;

/// A send call's arguments, as the caller gave them (user addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendCall {
    /// `sendmsg(msg, flags)`.
    Msg {
        /// The caller's `struct msghdr`.
        msg: usize,
        /// `MSG_*`.
        flags: u32,
    },
    /// `sendto(buf, len, flags, addr, addrlen)` (and `send`: no address).
    To {
        /// The data.
        buf: usize,
        /// Its length.
        len: usize,
        /// `MSG_*`.
        flags: u32,
        /// The destination (0: none).
        addr: usize,
        /// Its length.
        addrlen: i32,
    },
    /// `sendmmsg(msgvec, vlen, flags)`.
    Mmsg {
        /// The caller's `struct mmsghdr` array.
        vec: usize,
        /// Its length.
        vlen: u32,
        /// `MSG_*`.
        flags: u32,
    },
    /// `writev(iov, iovcnt)`.
    Vec {
        /// The caller's `struct iovec` array.
        iov: usize,
        /// Its length.
        iovcnt: usize,
    },
    /// `write(buf, len)`.
    Buf {
        /// The data.
        buf: usize,
        /// Its length.
        len: usize,
    },
}

/// A receive call's arguments, as the caller gave them (user addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvCall {
    /// `recvmsg(msg, flags)`.
    Msg {
        /// The caller's `struct msghdr`.
        msg: usize,
        /// `MSG_*`.
        flags: u32,
    },
    /// `recvfrom(buf, len, flags, addr, addrlen)` (and `recv`).
    From {
        /// The buffer.
        buf: usize,
        /// Its length.
        len: usize,
        /// `MSG_*`.
        flags: u32,
        /// Where the source address goes (0: nowhere).
        addr: usize,
        /// The caller's `socklen_t` for it.
        addrlen: usize,
    },
    /// `recvmmsg(msgvec, vlen, flags, timeout)`.
    Mmsg {
        /// The caller's `struct mmsghdr` array.
        vec: usize,
        /// Its length.
        vlen: u32,
        /// `MSG_*`.
        flags: u32,
        /// The caller's `struct timespec` (0: none).
        timeout: usize,
    },
    /// `readv(iov, iovcnt)`.
    Vec {
        /// The caller's `struct iovec` array.
        iov: usize,
        /// Its length.
        iovcnt: usize,
    },
    /// `read(buf, len)`.
    Buf {
        /// The buffer.
        buf: usize,
        /// Its length.
        len: usize,
    },
}

/// What rVisor needs from a host socket. User addresses are the calling task's; errors are
/// the host's errnos (a signal's restart included: `ERESTARTSYS`). `nonblock` is the
/// description's `O_NONBLOCK`.
pub trait HostSocketOps: Send + Sync {
    /// The address family (`AF_*`).
    fn family(&self) -> u16;
    /// `bind(addr, addrlen)`.
    fn bind(&self, addr: usize, addrlen: i32) -> LxResult;
    /// `connect(addr, addrlen)`: waits unless `nonblock` (`EINPROGRESS`).
    fn connect(&self, addr: usize, addrlen: i32, nonblock: bool) -> LxResult;
    /// `listen(backlog)`.
    fn listen(&self, backlog: i32) -> LxResult;
    /// `accept`: the new connection; its peer's address written at `addr` (if not 0).
    fn accept(
        &self,
        addr: usize,
        addrlen: usize,
        nonblock: bool,
    ) -> LxResult<Arc<dyn HostSocketOps>>;
    /// `getsockname` (`peer` false) / `getpeername`, written at `addr`/`addrlen`.
    fn name(&self, addr: usize, addrlen: usize, peer: bool) -> LxResult;
    /// `shutdown(how)`.
    fn shutdown(&self, how: i32) -> LxResult;
    /// `setsockopt(level, name, value, len)`.
    fn setsockopt(&self, level: i32, name: i32, value: usize, len: i32) -> LxResult;
    /// `getsockopt(level, name, value, lenp)`.
    fn getsockopt(&self, level: i32, name: i32, value: usize, len: usize) -> LxResult;
    /// A send; `EPIPE` is returned without a signal (the caller raises `SIGPIPE` unless
    /// `MSG_NOSIGNAL`).
    fn send(&self, call: SendCall, nonblock: bool) -> LxResult<usize>;
    /// A receive.
    fn recv(&self, call: RecvCall, nonblock: bool) -> LxResult<usize>;
    /// `ioctl(cmd, arg)`, `arg` the caller's.
    fn ioctl(&self, cmd: u32, arg: usize) -> LxResult<usize>;
    /// Reads into a kernel buffer without waiting.
    fn read_now(&self, buf: &mut [u8]) -> LxResult<usize>;
    /// Writes from a kernel buffer without waiting.
    fn write_now(&self, buf: &[u8]) -> LxResult<usize>;
    /// Readiness; with `cx`, its waker is woken at the socket's next wake-up.
    fn poll_events(&self, cx: Option<&Context<'_>>) -> PollEvents;
    /// What `fstat` reports (`S_IFSOCK`).
    fn metadata(&self) -> LxResult<Metadata>;
}

/// A host socket as an open file description.
pub struct HostSocket {
    ops: Arc<dyn HostSocketOps>,
    /// Status flags (`O_RDWR` and what `F_SETFL` set).
    flags: Mutex<OpenFlags>,
}

impl HostSocket {
    /// Wraps `ops`; `nonblock` from `SOCK_NONBLOCK`.
    pub fn new(ops: Arc<dyn HostSocketOps>, nonblock: bool) -> Arc<Self> {
        let mut flags = OpenFlags::RDWR;
        flags.set(OpenFlags::NONBLOCK, nonblock);
        Arc::new(Self {
            ops,
            flags: Mutex::new(flags),
        })
    }

    /// The host socket's operations.
    pub fn ops(&self) -> &dyn HostSocketOps {
        &*self.ops
    }

    /// Whether calls on this description do not wait (`O_NONBLOCK`).
    pub fn nonblock(&self) -> bool {
        self.flags().contains(OpenFlags::NONBLOCK)
    }

    /// Runs `attempt` (which never waits) until it gives something other than `EAGAIN`, or
    /// registers `cx`'s waker and returns `Pending` while `wanted` is not ready; `O_NONBLOCK`
    /// gives `EAGAIN` at once.
    fn poll_io<T>(
        &self,
        cx: &mut Context<'_>,
        wanted: PollEvents,
        mut attempt: impl FnMut() -> LxResult<T>,
    ) -> Poll<LxResult<T>> {
        loop {
            match attempt() {
                Err(LxError::EAGAIN) if !self.nonblock() => {}
                done => return Poll::Ready(done),
            }
            let ready = self.ops.poll_events(Some(&*cx));
            if !(ready & (wanted | PollEvents::ERR | PollEvents::HUP)).is_empty() {
                // Ready since the attempt: try again rather than sleep.
                continue;
            }
            return Poll::Pending;
        }
    }
}

impl FileLike for HostSocket {
    fn read(&self, buf: &mut [u8]) -> LxResult<usize> {
        self.ops.read_now(buf)
    }

    fn write(&self, buf: &[u8]) -> LxResult<usize> {
        self.ops.write_now(buf)
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<LxResult<usize>> {
        self.poll_io(cx, PollEvents::IN, || self.ops.read_now(buf))
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<LxResult<usize>> {
        self.poll_io(cx, PollEvents::OUT, || self.ops.write_now(buf))
    }

    fn read_to_user(&self, at: Option<u64>, user: usize, len: usize) -> Option<LxResult<usize>> {
        if at.is_some() {
            return Some(Err(LxError::ESPIPE));
        }
        Some(
            self.ops
                .recv(RecvCall::Buf { buf: user, len }, self.nonblock()),
        )
    }

    fn write_from_user(&self, at: Option<u64>, user: usize, len: usize) -> Option<LxResult<usize>> {
        if at.is_some() {
            return Some(Err(LxError::ESPIPE));
        }
        Some(
            self.ops
                .send(SendCall::Buf { buf: user, len }, self.nonblock()),
        )
    }

    fn metadata(&self) -> LxResult<Metadata> {
        self.ops.metadata()
    }

    fn flags(&self) -> OpenFlags {
        *self.flags.lock()
    }

    fn set_flags(&self, flags: OpenFlags) {
        OpenFlags::set_settable(&self.flags, flags);
    }

    fn poll_events(&self, cx: Option<&Context<'_>>) -> PollEvents {
        self.ops.poll_events(cx)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::read_file;
    use crate::test_executor::{poll_once, CountingWaker};
    use alloc::vec::Vec;
    use core::task::Waker;
    use std::pin::pin;

    /// A host socket standing in for the kernel's: bytes arrive later and wake the waker its
    /// last poll registered, as the host's wait queue does.
    #[derive(Default)]
    struct FakeHost {
        queued: Mutex<Vec<u8>>,
        waiter: Mutex<Option<Waker>>,
    }

    impl FakeHost {
        fn arrive(&self, bytes: &[u8]) {
            self.queued.lock().extend_from_slice(bytes);
            if let Some(waker) = self.waiter.lock().take() {
                waker.wake();
            }
        }
    }

    impl HostSocketOps for FakeHost {
        fn family(&self) -> u16 {
            2
        }
        fn bind(&self, _: usize, _: i32) -> LxResult {
            Ok(())
        }
        fn connect(&self, _: usize, _: i32, nonblock: bool) -> LxResult {
            if nonblock {
                Err(LxError::EINPROGRESS)
            } else {
                Ok(())
            }
        }
        fn listen(&self, _: i32) -> LxResult {
            Ok(())
        }
        fn accept(&self, _: usize, _: usize, _: bool) -> LxResult<Arc<dyn HostSocketOps>> {
            Err(LxError::EINVAL)
        }
        fn name(&self, _: usize, _: usize, _: bool) -> LxResult {
            Err(LxError::ENOTCONN)
        }
        fn shutdown(&self, _: i32) -> LxResult {
            Ok(())
        }
        fn setsockopt(&self, _: i32, _: i32, _: usize, _: i32) -> LxResult {
            Ok(())
        }
        fn getsockopt(&self, _: i32, _: i32, _: usize, _: usize) -> LxResult {
            Ok(())
        }
        fn send(&self, _: SendCall, _: bool) -> LxResult<usize> {
            Err(LxError::EPIPE)
        }
        fn recv(&self, call: RecvCall, nonblock: bool) -> LxResult<usize> {
            match call {
                RecvCall::Buf { .. } if nonblock && self.queued.lock().is_empty() => {
                    Err(LxError::EAGAIN)
                }
                RecvCall::Buf { len, .. } => Ok(len.min(self.queued.lock().len())),
                _ => Err(LxError::EINVAL),
            }
        }
        fn ioctl(&self, _: u32, _: usize) -> LxResult<usize> {
            Err(LxError::ENOTTY)
        }
        fn read_now(&self, buf: &mut [u8]) -> LxResult<usize> {
            let mut queued = self.queued.lock();
            if queued.is_empty() {
                return Err(LxError::EAGAIN);
            }
            let count = buf.len().min(queued.len());
            buf[..count].copy_from_slice(&queued[..count]);
            queued.drain(..count);
            Ok(count)
        }
        fn write_now(&self, buf: &[u8]) -> LxResult<usize> {
            Ok(buf.len())
        }
        fn poll_events(&self, cx: Option<&Context<'_>>) -> PollEvents {
            if let Some(cx) = cx {
                *self.waiter.lock() = Some(cx.waker().clone());
            }
            if self.queued.lock().is_empty() {
                PollEvents::OUT
            } else {
                PollEvents::IN | PollEvents::OUT
            }
        }
        fn metadata(&self) -> LxResult<Metadata> {
            Err(LxError::ENOSYS)
        }
    }

    #[test]
    fn a_blocking_read_waits_for_the_host_wake_up() {
        let host = Arc::new(FakeHost::default());
        let socket = HostSocket::new(host.clone(), false);
        assert_eq!(socket.flags(), OpenFlags::RDWR);
        let (counter, waker) = CountingWaker::new();
        let mut buf = [0; 8];
        let mut read = pin!(read_file(&*socket, &mut buf));
        assert!(poll_once(read.as_mut(), &waker).is_pending());
        host.arrive(b"ping");
        assert_eq!(counter.wakes(), 1);
        assert_eq!(poll_once(read.as_mut(), &waker), Poll::Ready(Ok(4)));
    }

    #[test]
    fn nonblocking_descriptions_never_wait_and_streams_have_no_offset() {
        let host = Arc::new(FakeHost::default());
        let socket = HostSocket::new(host.clone(), true);
        assert!(socket.nonblock());
        let (_, waker) = CountingWaker::new();
        let mut buf = [0; 8];
        let mut read = pin!(read_file(&*socket, &mut buf));
        assert_eq!(
            poll_once(read.as_mut(), &waker),
            Poll::Ready(Err(LxError::EAGAIN))
        );
        assert_eq!(
            socket.read_to_user(None, 0x1000, 8),
            Some(Err(LxError::EAGAIN))
        );
        assert_eq!(
            socket.read_to_user(Some(0), 0x1000, 8),
            Some(Err(LxError::ESPIPE))
        );
        socket.set_flags(OpenFlags::empty());
        assert!(!socket.nonblock());
        assert_eq!(
            socket.ops().connect(0, 16, socket.nonblock()),
            Ok(()),
            "O_NONBLOCK is passed on each call"
        );
    }
}
