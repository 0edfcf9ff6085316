//! Sockets: the [`Socket`] trait every socket family implements, and the pieces that cross it
//! (flags, addresses as raw `sockaddr` bytes, messages, control messages, option values).
//!
//! A socket is an open file description like any other ([`FileLike`]: `read`, `write`,
//! `fstat`, `poll` work on it), which also answers [`FileLike::as_socket`]. The syscall layer
//! copies addresses from and to user memory with the kernel's length rules and hands a socket
//! the raw bytes; what the bytes mean is the family's business.
//!
//! The data path leaves the choice to the family ([`Socket::data_path`]): a socket served by
//! rVisor ([`unix`]) receives bytes already copied into a kernel buffer; a socket backed by a
//! host kernel socket may ask for the caller's `iovec` list instead ([`UserIoVec`]) and move
//! the bytes itself (`sock_sendmsg` on a user `iov_iter`), with no copy in between. Option
//! values come with both their user address and their first bytes, for the same reason.
//!
//! Waiting is as for pipes: `poll_*` methods take a [`Context`] whose waker the socket
//! registers where a blocking call would sleep, and return `Pending`.

pub mod unix;

use crate::error::{LxError, LxResult};
use crate::fs::FileLike;
use alloc::sync::Arc;
use alloc::vec::Vec;
use bitflags::bitflags;
use core::task::{Context, Poll};

/// `AF_UNSPEC`.
pub const AF_UNSPEC: u16 = 0;
/// `AF_UNIX` (`AF_LOCAL`).
pub const AF_UNIX: u16 = 1;
/// `AF_INET`.
pub const AF_INET: u16 = 2;
/// `AF_INET6`.
pub const AF_INET6: u16 = 10;
/// `AF_NETLINK`.
pub const AF_NETLINK: u16 = 16;
/// `AF_PACKET`.
pub const AF_PACKET: u16 = 17;

/// `SOL_SOCKET`: the level of the options every socket has.
pub const SOL_SOCKET: i32 = 1;

/// The largest address a call takes (`sizeof(struct sockaddr_storage)`).
pub const SOCKADDR_MAX: usize = 128;

/// A socket's type (`SOCK_*` without the flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketType {
    /// `SOCK_STREAM`: a byte stream.
    Stream = 1,
    /// `SOCK_DGRAM`: datagrams.
    Datagram = 2,
    /// `SOCK_RAW`.
    Raw = 3,
    /// `SOCK_RDM`.
    Rdm = 4,
    /// `SOCK_SEQPACKET`: a connection carrying messages.
    SeqPacket = 5,
    /// `SOCK_PACKET` (obsolete).
    Packet = 10,
}

impl SocketType {
    /// The type named by the low bits of `socket`'s `type` (flags removed); `EINVAL` if none.
    pub fn from_raw(raw: u32) -> LxResult<Self> {
        Ok(match raw {
            1 => Self::Stream,
            2 => Self::Datagram,
            3 => Self::Raw,
            4 => Self::Rdm,
            5 => Self::SeqPacket,
            10 => Self::Packet,
            _ => return Err(LxError::EINVAL),
        })
    }

    /// Does this type have connections (stream, seqpacket)?
    pub fn connection_oriented(self) -> bool {
        matches!(self, Self::Stream | Self::SeqPacket)
    }
}

bitflags! {
    /// The `MSG_*` flags of `send*`/`recv*` and of `msghdr.msg_flags` (x86-64 values).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct MsgFlags: u32 {
        /// Out-of-band data.
        const OOB = 0x1;
        /// Look at the data without taking it.
        const PEEK = 0x2;
        /// Do not route.
        const DONTROUTE = 0x4;
        /// Control data was cut short (output).
        const CTRUNC = 0x8;
        /// The datagram was longer than the buffer (output); on input, return its real length.
        const TRUNC = 0x20;
        /// Do not wait.
        const DONTWAIT = 0x40;
        /// End of record.
        const EOR = 0x80;
        /// Wait for the whole buffer.
        const WAITALL = 0x100;
        /// Confirm the path (ARP).
        const CONFIRM = 0x800;
        /// Read the error queue.
        const ERRQUEUE = 0x2000;
        /// No `SIGPIPE` on a broken connection.
        const NOSIGNAL = 0x4000;
        /// More data follows.
        const MORE = 0x8000;
        /// `recvmmsg`: wait for one message only.
        const WAITFORONE = 0x10000;
        /// `sendmmsg`: more messages follow (batching hint).
        const BATCH = 0x40000;
        /// Zero-copy send.
        const ZEROCOPY = 0x4000000;
        /// Fast open.
        const FASTOPEN = 0x20000000;
        /// Received descriptors are close-on-exec.
        const CMSG_CLOEXEC = 0x40000000;
    }
}

/// Which halves `shutdown` closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// `SHUT_RD`.
    Read,
    /// `SHUT_WR`.
    Write,
    /// `SHUT_RDWR`.
    Both,
}

impl Shutdown {
    /// Decodes `how`; `EINVAL` for anything but 0, 1, 2.
    pub fn from_raw(how: i32) -> LxResult<Self> {
        match how {
            0 => Ok(Self::Read),
            1 => Ok(Self::Write),
            2 => Ok(Self::Both),
            _ => Err(LxError::EINVAL),
        }
    }

    /// Does it close the receiving half?
    pub fn read(self) -> bool {
        matches!(self, Self::Read | Self::Both)
    }

    /// Does it close the sending half?
    pub fn write(self) -> bool {
        matches!(self, Self::Write | Self::Both)
    }
}

/// A user buffer of an `iovec` list (address and length, never dereferenced here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserIoVec {
    /// Its user address.
    pub base: usize,
    /// Its length.
    pub len: usize,
}

/// How a socket wants a message's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataPath {
    /// Copied between user memory and a kernel buffer by the syscall layer.
    Copied,
    /// The caller's user `iovec` list, which the socket moves itself.
    User,
}

/// The data of a message to send.
#[derive(Debug, Clone, Copy)]
pub enum SendData<'a> {
    /// Already copied from user memory ([`DataPath::Copied`]).
    Kernel(&'a [u8]),
    /// The caller's buffers ([`DataPath::User`]).
    User(&'a [UserIoVec]),
}

impl SendData<'_> {
    /// Its total length.
    pub fn len(&self) -> usize {
        match self {
            Self::Kernel(bytes) => bytes.len(),
            Self::User(iov) => iov
                .iter()
                .fold(0usize, |sum, segment| sum.saturating_add(segment.len)),
        }
    }

    /// Is it empty?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where received data goes.
#[derive(Debug)]
pub enum RecvData<'a> {
    /// A kernel buffer the syscall layer copies out ([`DataPath::Copied`]).
    Kernel(&'a mut [u8]),
    /// The caller's buffers ([`DataPath::User`]).
    User(&'a [UserIoVec]),
}

/// Credentials carried by a unix socket (`struct ucred`): container pid and ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UCred {
    /// Process id in the container (0: none).
    pub pid: u32,
    /// User id (`u32::MAX`: none).
    pub uid: u32,
    /// Group id (`u32::MAX`: none).
    pub gid: u32,
}

impl UCred {
    /// What an unconnected socket's `SO_PEERCRED` reports: no pid, ids -1.
    pub const NONE: Self = Self {
        pid: 0,
        uid: u32::MAX,
        gid: u32::MAX,
    };

    /// The 12 bytes of `struct ucred`.
    pub fn to_bytes(self) -> [u8; 12] {
        let mut out = [0; 12];
        out[..4].copy_from_slice(&self.pid.to_le_bytes());
        out[4..8].copy_from_slice(&self.uid.to_le_bytes());
        out[8..].copy_from_slice(&self.gid.to_le_bytes());
        out
    }
}

/// A control message (`cmsghdr`), decoded.
#[derive(Clone)]
pub enum ControlMessage {
    /// `SCM_RIGHTS`: open file descriptions, in flight (kept alive while queued).
    Rights(Vec<Arc<dyn FileLike>>),
    /// `SCM_CREDENTIALS`.
    Credentials(UCred),
    /// Any other: level, type and data, as they are.
    Other {
        /// `cmsg_level`.
        level: i32,
        /// `cmsg_type`.
        kind: i32,
        /// The data after the header.
        data: Vec<u8>,
    },
}

impl core::fmt::Debug for ControlMessage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Rights(files) => write!(f, "Rights({})", files.len()),
            Self::Credentials(cred) => write!(f, "Credentials({cred:?})"),
            Self::Other { level, kind, data } => write!(f, "Other({level}, {kind}, {data:?})"),
        }
    }
}

/// What the caller is, for a socket that records it (peer credentials, `SCM_CREDENTIALS`) or
/// needs to resolve names in the caller's container (unix pathnames).
pub trait SocketContext {
    /// The caller's pid and effective ids (`SO_PEERCRED` of its peer).
    fn peer_credentials(&self) -> UCred;
    /// The caller's pid and real ids (the default `SCM_CREDENTIALS` of what it sends).
    fn message_credentials(&self) -> UCred;
    /// The caller's container's unix socket names.
    fn unix_namespace(&self) -> LxResult<Arc<unix::UnixNamespace>>;
    /// Makes a socket inode at `path` for `bind` (umask applied, `EADDRINUSE` if the name is
    /// taken) and returns its identity.
    fn create_socket_node(&self, path: &[u8]) -> LxResult<unix::NodeKey>;
    /// Removes the socket inode `bind` made at `path` when the bind fails after all (as
    /// Linux's `unix_bind_bsd` unlinks it).
    fn remove_socket_node(&self, path: &[u8]);
    /// Finds the socket inode at `path` for `connect`/`sendto` (write permission needed,
    /// `ECONNREFUSED` if it is not a socket) and returns its identity.
    fn find_socket_node(&self, path: &[u8]) -> LxResult<unix::NodeKey>;
}

/// A message to send.
pub struct SendMessage<'a> {
    /// The data.
    pub data: SendData<'a>,
    /// `MSG_*` flags (`MSG_DONTWAIT` already folded in from `O_NONBLOCK` by the caller).
    pub flags: MsgFlags,
    /// The destination (`msg_name`), raw, if one was given.
    pub address: Option<&'a [u8]>,
    /// Control messages (`SCM_RIGHTS` already turned into descriptions).
    pub control: Vec<ControlMessage>,
}

/// A received message (its data already in the [`RecvData`]).
#[derive(Debug, Default)]
pub struct Received {
    /// Bytes put in the buffers.
    pub len: usize,
    /// The message's real length (what `MSG_TRUNC` makes `recv` return for a datagram).
    pub full_len: usize,
    /// The source address, raw (empty: none, `msg_namelen` 0).
    pub address: Vec<u8>,
    /// Control messages for the caller.
    pub control: Vec<ControlMessage>,
    /// `msg_flags` out (`MSG_TRUNC`, `MSG_EOR`…; `MSG_CTRUNC` is the syscall layer's).
    pub flags: MsgFlags,
}

/// An option value passed to `setsockopt`: its user address and length, and the first
/// [`OPTION_COPY`] bytes of it already copied.
#[derive(Debug, Clone, Copy)]
pub struct OptionIn<'a> {
    /// The user address (for a socket that hands it to the host).
    pub user: usize,
    /// `optlen` as given.
    pub len: usize,
    /// The first `min(len, OPTION_COPY)` bytes.
    pub bytes: &'a [u8],
}

/// Bytes of an option value the syscall layer copies for the socket.
pub const OPTION_COPY: usize = 256;

impl OptionIn<'_> {
    /// The value as an `int`: `EINVAL` if shorter than 4 bytes, as Linux's `sockptr` reads.
    pub fn int(&self) -> LxResult<i32> {
        let bytes = self.bytes.get(..4).ok_or(LxError::EINVAL)?;
        let mut raw = [0; 4];
        raw.copy_from_slice(bytes);
        Ok(i32::from_le_bytes(raw))
    }
}

/// What `getsockopt` produced.
#[derive(Debug)]
pub enum OptionOut {
    /// The value: the syscall layer copies `min(optlen, len)` bytes and stores that length.
    Value(Vec<u8>),
    /// The socket wrote the user buffer itself; this is the length to store in `optlen`.
    Written(usize),
}

/// What `accept` gives: the new socket's description and the peer's address (raw).
pub type Accepted = (Arc<dyn FileLike>, Vec<u8>);

/// A socket: the calls of `socket(2)` and its friends, over an open file description.
pub trait Socket: FileLike {
    /// The address family (`SO_DOMAIN`).
    fn domain(&self) -> u16;

    /// The type (`SO_TYPE`).
    fn socket_type(&self) -> SocketType;

    /// How this socket wants message data (default: copied).
    fn data_path(&self) -> DataPath {
        DataPath::Copied
    }

    /// `bind(addr)`.
    fn bind(&self, ctx: &dyn SocketContext, address: &[u8]) -> LxResult;

    /// `listen(backlog)`.
    fn listen(&self, ctx: &dyn SocketContext, backlog: i32) -> LxResult;

    /// `connect(addr)`: `Pending` (waker registered) while a blocking connect waits;
    /// `EINPROGRESS` for a non-blocking one that would. Called again after a wake.
    fn poll_connect(
        &self,
        cx: &mut Context<'_>,
        ctx: &dyn SocketContext,
        address: &[u8],
        nonblock: bool,
    ) -> Poll<LxResult>;

    /// `accept`: a new connected socket (as the description the new descriptor names) and
    /// its peer's address (raw), or `Pending`. `EAGAIN` when `nonblock` and nothing waits.
    fn poll_accept(&self, cx: &mut Context<'_>, nonblock: bool) -> Poll<LxResult<Accepted>>;

    /// Sends part or all of `message`; `Pending` where a blocking send waits. A stream
    /// returns the bytes it took (the caller loops for the rest); a message socket all or
    /// nothing. `EPIPE` for a broken connection (the caller raises `SIGPIPE`).
    fn poll_send(
        &self,
        cx: &mut Context<'_>,
        ctx: &dyn SocketContext,
        message: &SendMessage<'_>,
    ) -> Poll<LxResult<usize>>;

    /// Receives into `data`; `Pending` where a blocking receive waits.
    fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        data: &mut RecvData<'_>,
        flags: MsgFlags,
    ) -> Poll<LxResult<Received>>;

    /// `shutdown(how)`.
    fn shutdown(&self, how: Shutdown) -> LxResult;

    /// `getsockname`: the local address, raw.
    fn local_address(&self) -> LxResult<Vec<u8>>;

    /// `getpeername`: the peer's address, raw; `ENOTCONN` if none.
    fn peer_address(&self) -> LxResult<Vec<u8>>;

    /// `getsockopt(level, name)`; `out` is the user buffer (address, `optlen`).
    fn getsockopt(&self, level: i32, name: i32, out: UserIoVec) -> LxResult<OptionOut>;

    /// `setsockopt(level, name, value)`.
    fn setsockopt(&self, level: i32, name: i32, value: OptionIn<'_>) -> LxResult;

    /// `ioctl` requests of sockets (`FIONREAD`/`SIOCINQ`, `SIOCOUTQ`); `arg` the user
    /// argument. `ENOTTY`… as the family says; `None` to let the generic ones through.
    fn ioctl(&self, _request: u32, _arg: usize) -> Option<LxResult<i32>> {
        None
    }

    /// The timeouts (`SO_RCVTIMEO`, `SO_SNDTIMEO`) a blocking call honours, in nanoseconds
    /// (0: none).
    fn timeouts(&self) -> (u64, u64) {
        (0, 0)
    }
}
