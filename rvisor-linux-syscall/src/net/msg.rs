//! `sendto`, `recvfrom`, `sendmsg`, `recvmsg`, `sendmmsg`, `recvmmsg`.
//!
//! For a family that takes copied data, a stream's bytes go in bounded chunks (a blocking
//! send waits until all are taken, a non-blocking one returns what fit), a message's in one
//! buffer; a receive fills a kernel buffer and scatters it into the caller's `iovec`s.

use alloc::sync::Arc;
use alloc::vec::Vec;
use linux_object::fs::FileLike;
use linux_object::fs::{RecvCall, SendCall};
use linux_object::net::{
    ControlMessage, DataPath, MsgFlags, Received, RecvData, SendData, SendMessage, SocketType,
    UserIoVec,
};
use linux_object::{LxError, LxResult};

use super::control::ControlOut;
use super::{wait_with_timeout, Sock};
use crate::fs::{access_ok, IoVec, MAX_RW_COUNT};
use crate::user::{copy_from_user, copy_to_user, try_buffer, UserInOutPtr, UserInPtr, UserOutPtr};
use crate::{SysResult, Syscall};

/// Most `iovec`s (and `mmsghdr`s) one call takes (`UIO_MAXIOV`).
const UIO_MAXIOV: usize = 1024;
/// Bytes of a stream send copied at a time.
const SEND_CHUNK: usize = 64 * 1024;
/// The largest receive buffer used unless `MSG_WAITALL` needs the whole request.
const RECV_BUFFER: usize = 256 * 1024;
/// The largest message gathered for a message socket (larger is `EMSGSIZE` anyway).
const MESSAGE_MAX: usize = 8 * 1024 * 1024;
/// `sizeof(struct msghdr)`.
const MSGHDR: usize = 56;
/// `sizeof(struct mmsghdr)`.
const MMSGHDR: usize = 64;

/// A `struct msghdr`.
#[derive(Debug, Clone, Copy)]
struct MsgHdr {
    name: usize,
    namelen: i32,
    iov: usize,
    iovlen: usize,
    control: usize,
    controllen: usize,
}

impl MsgHdr {
    fn read(addr: usize) -> LxResult<Self> {
        let mut raw = [0u8; MSGHDR];
        copy_from_user(addr, &mut raw)?;
        let word = |at: usize| {
            let mut bytes = [0; 8];
            bytes.copy_from_slice(raw.get(at..at + 8).unwrap_or(&[0; 8]));
            u64::from_le_bytes(bytes) as usize
        };
        Ok(Self {
            name: word(0),
            namelen: word(8) as u32 as i32,
            iov: word(16),
            iovlen: word(24),
            control: word(32),
            controllen: word(40),
        })
    }
}

/// Reads and checks an `iovec` list (Linux's `import_iovec`): `EMSGSIZE` past `UIO_MAXIOV`,
/// `EINVAL` for a negative length, `EFAULT` for a range outside user space; the total is
/// capped at `MAX_RW_COUNT`.
fn import_iovec(addr: usize, count: usize) -> LxResult<Vec<UserIoVec>> {
    if count > UIO_MAXIOV {
        return Err(LxError::EMSGSIZE);
    }
    let raw = UserInPtr::<IoVec>::from(addr).read_array(count)?;
    let mut total = 0usize;
    let mut out = Vec::new();
    out.try_reserve_exact(count).map_err(|_| LxError::ENOMEM)?;
    for segment in raw {
        if isize::try_from(segment.len).is_err() {
            return Err(LxError::EINVAL);
        }
        let len = segment.len.min(MAX_RW_COUNT - total);
        access_ok(segment.base, len)?;
        total += len;
        out.push(UserIoVec {
            base: segment.base,
            len,
        });
    }
    Ok(out)
}

/// Copies `len` bytes of the `iovec`s from byte `offset` on into a kernel buffer.
fn gather(iov: &[UserIoVec], offset: usize, len: usize) -> LxResult<Vec<u8>> {
    let mut out = try_buffer(len)?;
    let mut skip = offset;
    let mut done = 0;
    for segment in iov {
        if done == len {
            break;
        }
        if skip >= segment.len {
            skip -= segment.len;
            continue;
        }
        let count = (segment.len - skip).min(len - done);
        let to = out.get_mut(done..done + count).ok_or(LxError::EFAULT)?;
        copy_from_user(segment.base + skip, to)?;
        skip = 0;
        done += count;
    }
    Ok(out)
}

/// Copies `data` into the `iovec`s.
fn scatter(iov: &[UserIoVec], data: &[u8]) -> LxResult {
    let mut done = 0;
    for segment in iov {
        if done == data.len() {
            break;
        }
        let count = segment.len.min(data.len() - done);
        copy_to_user(
            segment.base,
            data.get(done..done + count).unwrap_or_default(),
        )?;
        done += count;
    }
    Ok(())
}

/// The file layer's checked `iovec`s as the socket layer's.
fn user_iovecs(segments: &[crate::fs::IoVec]) -> LxResult<Vec<UserIoVec>> {
    let mut iov = Vec::new();
    iov.try_reserve_exact(segments.len())
        .map_err(|_| LxError::ENOMEM)?;
    iov.extend(segments.iter().map(|segment| UserIoVec {
        base: segment.base,
        len: segment.len,
    }));
    Ok(iov)
}

/// The address of `mmsghdr` number `index` of the vector at `base` (`EFAULT` on overflow;
/// its `msg_len` at `MSGHDR` further cannot overflow once the entry fits under the end of
/// user space, which the reads and writes check).
fn entry_at(base: usize, index: usize) -> LxResult<usize> {
    index
        .checked_mul(MMSGHDR)
        .and_then(|offset| base.checked_add(offset))
        .filter(|&entry| entry <= crate::user::USER_SPACE_END)
        .ok_or(LxError::EFAULT)
}

fn total(iov: &[UserIoVec]) -> usize {
    iov.iter().map(|segment| segment.len).sum()
}

impl Syscall<'_> {
    /// Sends `iov` on `sock` and returns the bytes sent; `EPIPE` on a stream also raises
    /// `SIGPIPE` unless `MSG_NOSIGNAL`.
    async fn send_on(
        &self,
        sock: &Sock,
        iov: &[UserIoVec],
        mut flags: MsgFlags,
        address: Option<&[u8]>,
        control: Vec<ControlMessage>,
    ) -> SysResult {
        if sock.nonblocking() {
            flags |= MsgFlags::DONTWAIT;
        }
        let socket = sock.socket()?;
        let stream = socket.socket_type() == SocketType::Stream;
        let result = self.send_data(sock, iov, flags, address, control).await;
        if stream && result == Err(LxError::EPIPE) && !flags.contains(MsgFlags::NOSIGNAL) {
            return self.raise_broken_pipe(result);
        }
        result
    }

    async fn send_data(
        &self,
        sock: &Sock,
        iov: &[UserIoVec],
        flags: MsgFlags,
        address: Option<&[u8]>,
        mut control: Vec<ControlMessage>,
    ) -> SysResult {
        let socket = sock.socket()?;
        let ctx = self.socket_context();
        let (_, timeout) = socket.timeouts();
        let len = total(iov);
        if socket.data_path() == DataPath::User {
            let message = SendMessage {
                data: SendData::User(iov),
                flags,
                address,
                control,
            };
            return wait_with_timeout(timeout, |cx| socket.poll_send(cx, &ctx, &message)).await;
        }
        if socket.socket_type() != SocketType::Stream {
            if len > MESSAGE_MAX {
                return Err(LxError::EMSGSIZE);
            }
            let data = gather(iov, 0, len)?;
            let message = SendMessage {
                data: SendData::Kernel(&data),
                flags,
                address,
                control,
            };
            return wait_with_timeout(timeout, |cx| socket.poll_send(cx, &ctx, &message)).await;
        }
        let mut done = 0usize;
        loop {
            let window = gather(iov, done, (len - done).min(SEND_CHUNK))?;
            let mut offset = 0;
            while offset < window.len() || (len == 0 && done == 0 && offset == 0) {
                let message = SendMessage {
                    data: SendData::Kernel(window.get(offset..).unwrap_or_default()),
                    flags,
                    address,
                    control: core::mem::take(&mut control),
                };
                let result =
                    wait_with_timeout(timeout, |cx| socket.poll_send(cx, &ctx, &message)).await;
                match result {
                    Ok(0) if len == 0 => return Ok(0),
                    Ok(sent) => {
                        offset += sent;
                        done += sent;
                    }
                    Err(error) if done == 0 => return Err(error),
                    Err(_) => return Ok(done),
                }
            }
            if done >= len {
                return Ok(done);
            }
        }
    }

    /// Receives into `iov` from `sock`.
    async fn recv_on(
        &self,
        sock: &Sock,
        iov: &[UserIoVec],
        mut flags: MsgFlags,
    ) -> LxResult<Received> {
        if sock.nonblocking() {
            flags |= MsgFlags::DONTWAIT;
        }
        let socket = sock.socket()?;
        let (timeout, _) = socket.timeouts();
        if socket.data_path() == DataPath::User {
            let mut data = RecvData::User(iov);
            return wait_with_timeout(timeout, |cx| socket.poll_recv(cx, &mut data, flags)).await;
        }
        let len = total(iov);
        let size = if flags.contains(MsgFlags::WAITALL) {
            len
        } else {
            len.min(RECV_BUFFER)
        };
        let mut buf = try_buffer(size)?;
        let received = {
            let mut data = RecvData::Kernel(&mut buf);
            wait_with_timeout(timeout, |cx| socket.poll_recv(cx, &mut data, flags)).await?
        };
        scatter(iov, buf.get(..received.len).unwrap_or_default())?;
        Ok(received)
    }

    /// The value `recv*` returns: the real length of a datagram with `MSG_TRUNC`.
    fn received_count(sock: &Sock, received: &Received, flags: MsgFlags) -> usize {
        let stream = sock
            .socket()
            .map(|socket| socket.socket_type() == SocketType::Stream)
            .unwrap_or(true);
        if flags.contains(MsgFlags::TRUNC) && !stream {
            received.full_len
        } else {
            received.len
        }
    }

    /// `write`/`writev` on a socket: a send with no flags (the caller's credentials go
    /// with the data, `SIGPIPE` only for a stream).
    pub(crate) async fn socket_write(
        &self,
        file: Arc<dyn FileLike>,
        segments: &[crate::fs::IoVec],
    ) -> SysResult {
        let iov = user_iovecs(segments)?;
        let sock = Sock(file);
        self.send_on(&sock, &iov, MsgFlags::empty(), None, Vec::new())
            .await
    }

    /// `read`/`readv` on a socket: a receive with no flags (`SO_RCVTIMEO` honoured).
    pub(crate) async fn socket_read(
        &self,
        file: Arc<dyn FileLike>,
        segments: &[crate::fs::IoVec],
    ) -> SysResult {
        let iov = user_iovecs(segments)?;
        if total(&iov) == 0 {
            return Ok(0);
        }
        let sock = Sock(file);
        let received = self.recv_on(&sock, &iov, MsgFlags::empty()).await?;
        Ok(received.len)
    }

    /// `sendto(fd, buf, len, flags, dest_addr, addrlen)`.
    pub async fn sys_sendto(
        &self,
        fd: i32,
        buf: usize,
        len: usize,
        flags: u32,
        addr: usize,
        addrlen: i32,
    ) -> SysResult {
        let len = len.min(MAX_RW_COUNT);
        access_ok(buf, len)?;
        let sock = self.socket(fd)?;
        if let Some(host) = sock.host() {
            let call = SendCall::To {
                buf,
                len,
                flags,
                addr,
                addrlen,
            };
            return self.inet_send(host, call, flags);
        }
        let address = if addr != 0 {
            self.address_in(addr, addrlen)?
        } else {
            None
        };
        let iov = [UserIoVec { base: buf, len }];
        let flags = MsgFlags::from_bits_retain(flags);
        self.send_on(&sock, &iov, flags, address.as_deref(), Vec::new())
            .await
    }

    /// `recvfrom(fd, buf, len, flags, src_addr, addrlen)`.
    pub async fn sys_recvfrom(
        &self,
        fd: i32,
        buf: usize,
        len: usize,
        flags: u32,
        addr: usize,
        addrlen: UserInOutPtr<i32>,
    ) -> SysResult {
        let len = len.min(MAX_RW_COUNT);
        access_ok(buf, len)?;
        let sock = self.socket(fd)?;
        if let Some(host) = sock.host() {
            let call = RecvCall::From {
                buf,
                len,
                flags,
                addr,
                addrlen: addrlen.addr(),
            };
            return self.inet_recv(host, call);
        }
        let iov = [UserIoVec { base: buf, len }];
        let flags = MsgFlags::from_bits_retain(flags);
        let received = self.recv_on(&sock, &iov, flags).await?;
        if addr != 0 {
            self.address_out(&received.address, addr, addrlen)?;
        }
        Ok(Self::received_count(&sock, &received, flags))
    }

    /// One `sendmsg` on an already looked-up socket.
    async fn sendmsg_on(&self, sock: &Sock, msg: usize, flags: u32) -> SysResult {
        let header = MsgHdr::read(msg)?;
        let namelen = if header.name == 0 { 0 } else { header.namelen };
        if namelen < 0 {
            return Err(LxError::EINVAL);
        }
        let address = self.address_in(header.name, namelen.min(128))?;
        let iov = import_iovec(header.iov, header.iovlen)?;
        if header.controllen > i32::MAX as usize {
            return Err(LxError::ENOBUFS);
        }
        let control_bytes = if header.controllen > 0 {
            let mut bytes = try_buffer(header.controllen)?;
            copy_from_user(header.control, &mut bytes)?;
            bytes
        } else {
            Vec::new()
        };
        let unix = sock.socket()?.domain() == linux_object::net::AF_UNIX;
        let control = self.parse_control(&control_bytes, unix)?;
        self.send_on(
            sock,
            &iov,
            MsgFlags::from_bits_retain(flags),
            address.as_deref(),
            control,
        )
        .await
    }

    /// One `recvmsg` on an already looked-up socket.
    async fn recvmsg_on(&self, sock: &Sock, msg: usize, flags: u32) -> SysResult {
        let header = MsgHdr::read(msg)?;
        let iov = import_iovec(header.iov, header.iovlen)?;
        let flags = MsgFlags::from_bits_retain(flags);
        let received = self.recv_on(sock, &iov, flags).await?;
        let count = Self::received_count(sock, &received, flags);
        let mut control = ControlOut::new(header.control, header.controllen);
        self.write_control(
            received.control,
            &mut control,
            flags.contains(MsgFlags::CMSG_CLOEXEC),
        )?;
        if header.name != 0 {
            self.address_out(&received.address, header.name, UserInOutPtr::from(msg + 8))?;
        }
        // `MSG_CMSG_CLOEXEC` as given stays in `msg_flags`, as Linux leaves it.
        let out_flags = received.flags | control.flags | (flags & MsgFlags::CMSG_CLOEXEC);
        UserOutPtr::<u32>::from(msg + 48).write(out_flags.bits())?;
        UserOutPtr::<u64>::from(msg + 40).write(control.used() as u64)?;
        Ok(count)
    }

    /// `sendmsg(fd, msg, flags)`: `msg_namelen` is clamped to 128, `EMSGSIZE` past 1024
    /// `iovec`s, `ENOBUFS` for a `msg_controllen` past `INT_MAX`, then the control
    /// messages' checks.
    pub async fn sys_sendmsg(&self, fd: i32, msg: usize, flags: u32) -> SysResult {
        let sock = self.socket(fd)?;
        if let Some(host) = sock.host() {
            return self.inet_send(host, SendCall::Msg { msg, flags }, flags);
        }
        self.sendmsg_on(&sock, msg, flags).await
    }

    /// `recvmsg(fd, msg, flags)`: `msg_namelen`, `msg_controllen` and `msg_flags` updated.
    pub async fn sys_recvmsg(&self, fd: i32, msg: usize, flags: u32) -> SysResult {
        let sock = self.socket(fd)?;
        if let Some(host) = sock.host() {
            return self.inet_recv(host, RecvCall::Msg { msg, flags });
        }
        self.recvmsg_on(&sock, msg, flags).await
    }

    /// `sendmmsg(fd, msgvec, vlen, flags)`: up to 1024 messages; each one's `msg_len` is
    /// stored; an error after some were sent ends the call with their count.
    pub async fn sys_sendmmsg(&self, fd: i32, msgvec: usize, vlen: u32, flags: u32) -> SysResult {
        let sock = self.socket(fd)?;
        if let Some(host) = sock.host() {
            let call = SendCall::Mmsg {
                vec: msgvec,
                vlen,
                flags,
            };
            return self.inet_send(host, call, flags);
        }
        let vlen = (vlen as usize).min(UIO_MAXIOV);
        let mut sent = 0;
        while sent < vlen {
            let entry = entry_at(msgvec, sent)?;
            match self.sendmsg_on(&sock, entry, flags).await {
                Ok(count) => {
                    UserOutPtr::<u32>::from(entry_at(entry, 0)? + MSGHDR).write(count as u32)?;
                    sent += 1;
                }
                Err(error) if sent == 0 => return Err(error),
                Err(_) => break,
            }
        }
        Ok(sent)
    }

    /// `recvmmsg(fd, msgvec, vlen, flags, timeout)`: up to 1024 messages; after the first,
    /// `MSG_WAITFORONE` stops waiting; the timeout (checked after each message, as Linux)
    /// ends the call once passed.
    pub async fn sys_recvmmsg(
        &self,
        fd: i32,
        msgvec: usize,
        vlen: u32,
        flags: u32,
        timeout: usize,
    ) -> SysResult {
        let deadline = if timeout != 0 {
            let spec = UserInPtr::<i64>::from(timeout).read_array(2)?;
            let (sec, nsec) = (
                spec.first().copied().unwrap_or(0),
                spec.get(1).copied().unwrap_or(0),
            );
            if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
                return Err(LxError::EINVAL);
            }
            let now = kernel_hal_lkm::platform()
                .map_err(|_| LxError::EIO)?
                .monotonic_now();
            Some(now.saturating_add(core::time::Duration::new(sec as u64, nsec as u32)))
        } else {
            None
        };
        let sock = self.socket(fd)?;
        if let Some(host) = sock.host() {
            let call = RecvCall::Mmsg {
                vec: msgvec,
                vlen,
                flags,
                timeout,
            };
            return self.inet_recv(host, call);
        }
        let vlen = (vlen as usize).min(UIO_MAXIOV);
        let mut flags = flags;
        let mut received = 0;
        while received < vlen {
            let entry = entry_at(msgvec, received)?;
            match self.recvmsg_on(&sock, entry, flags).await {
                Ok(count) => {
                    UserOutPtr::<u32>::from(entry_at(entry, 0)? + MSGHDR).write(count as u32)?;
                    received += 1;
                }
                Err(error) if received == 0 => return Err(error),
                Err(_) => break,
            }
            if flags & MsgFlags::WAITFORONE.bits() != 0 {
                flags |= MsgFlags::DONTWAIT.bits();
            }
            if let Some(deadline) = deadline {
                let now = kernel_hal_lkm::platform()
                    .map_err(|_| LxError::EIO)?
                    .monotonic_now();
                if now >= deadline {
                    break;
                }
            }
        }
        Ok(received)
    }
}
