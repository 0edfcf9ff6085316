//! [`UnixSocket`]: `AF_UNIX` sockets served by rVisor — stream, datagram and seqpacket —
//! connected in pairs (`socketpair`), through a listener (`bind`/`listen`/`connect`/`accept`)
//! or, for datagrams, by name on each send.
//!
//! Every socket has a receive queue of messages (data, the sender's credentials and address,
//! descriptions in flight for `SCM_RIGHTS`). A sender puts messages in its peer's queue and
//! wakes the peer's readers; a reader takes from its own queue and wakes the senders waiting
//! for room in it. One lock per socket, never two held at once: a call locks its own socket,
//! lets go, then locks the peer. Names live in the container's [`UnixNamespace`].
//!
//! Linux's rules followed here (`net/unix/af_unix.c`): a stream reader sees end of file once
//! the peer shut down its sending half or closed, after the data already queued; a closed
//! peer that left data unread makes the next receive `ECONNRESET`; a stream send to a peer
//! gone or shut down is `EPIPE` (the syscall layer raises `SIGPIPE`), a seqpacket one `EPIPE`
//! without a signal; a datagram sent to a socket connected to someone else is `EPERM`; a
//! datagram peer that closed makes the next send `ECONNREFUSED` and then `ENOTCONN`.
//!
//! Not modelled: the garbage collection of sockets in flight inside their own queues (a
//! socket sent over itself and never received stays allocated until its container goes) and
//! out-of-band data (`MSG_OOB` is `EOPNOTSUPP`).

mod namespace;
#[cfg(test)]
mod tests;

pub use namespace::{NodeKey, UnixNamespace};

use super::{
    Accepted, ControlMessage, MsgFlags, OptionIn, OptionOut, Received, RecvData, SendData,
    SendMessage, Shutdown, Socket, SocketContext, SocketType, UCred, UserIoVec, AF_UNIX, AF_UNSPEC,
    SOL_SOCKET,
};
use crate::error::{LxError, LxResult};
use crate::fs::{FileLike, OpenFlags, PollEvents};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::{Context, Poll, Waker};
use kernel_hal_lkm::sync::Mutex;
use kernel_hostfs::{FileType, Metadata, Timespec};
use namespace::Name;

/// `sizeof(struct sockaddr_un)`.
const SOCKADDR_UN_LEN: usize = 110;
/// `offsetof(struct sockaddr_un, sun_path)`.
const SUN_PATH: usize = 2;

/// `sysctl_wmem_default`/`rmem_default`: a new socket's buffer sizes.
pub const DEFAULT_BUFFER: usize = 212_992;
/// `sysctl_wmem_max`/`rmem_max`: the most `SO_SNDBUF`/`SO_RCVBUF` set (before doubling).
const MAX_BUFFER: usize = 212_992;
/// `SOCK_MIN_SNDBUF` on x86-64.
const MIN_SNDBUF: usize = 4608;
/// `SOCK_MIN_RCVBUF` on x86-64.
const MIN_RCVBUF: usize = 2304;
/// `net.unix.max_dgram_qlen`: datagrams a socket queues from senders it is not paired with.
const MAX_DGRAM_QLEN: usize = 10;
/// `net.core.somaxconn`: the largest `listen` backlog.
const SOMAXCONN: usize = 4096;
/// `SCM_MAX_FD`: descriptors one message may carry.
pub const SCM_MAX_FD: usize = 253;

// `SOL_SOCKET` option names (x86-64).
const SO_DEBUG: i32 = 1;
const SO_REUSEADDR: i32 = 2;
const SO_TYPE: i32 = 3;
const SO_ERROR: i32 = 4;
const SO_DONTROUTE: i32 = 5;
const SO_BROADCAST: i32 = 6;
const SO_SNDBUF: i32 = 7;
const SO_RCVBUF: i32 = 8;
const SO_KEEPALIVE: i32 = 9;
const SO_OOBINLINE: i32 = 10;
const SO_PRIORITY: i32 = 12;
const SO_LINGER: i32 = 13;
const SO_REUSEPORT: i32 = 15;
const SO_PASSCRED: i32 = 16;
const SO_PEERCRED: i32 = 17;
const SO_RCVLOWAT: i32 = 18;
const SO_SNDLOWAT: i32 = 19;
const SO_RCVTIMEO_OLD: i32 = 20;
const SO_SNDTIMEO_OLD: i32 = 21;
const SO_ACCEPTCONN: i32 = 30;
const SO_SNDBUFFORCE: i32 = 32;
const SO_RCVBUFFORCE: i32 = 33;
const SO_PROTOCOL: i32 = 38;
const SO_DOMAIN: i32 = 39;

// `ioctl` requests of sockets.
const SIOCINQ: u32 = 0x541B;
const SIOCOUTQ: u32 = 0x5411;

/// Inode numbers of sockets, as sockfs hands them out.
static NEXT_SOCKET_INODE: AtomicU64 = AtomicU64::new(1);

/// One queued message.
struct Message {
    data: Vec<u8>,
    /// Bytes of `data` a stream reader already took.
    start: usize,
    /// Descriptions in flight (`SCM_RIGHTS`).
    rights: Vec<Arc<dyn FileLike>>,
    /// The sender's credentials (`SCM_CREDENTIALS`).
    cred: UCred,
    /// The sender's address when it sent.
    from: Vec<u8>,
}

impl Message {
    fn remaining(&self) -> &[u8] {
        self.data.get(self.start..).unwrap_or_default()
    }
}

/// What a socket is connected to.
enum Conn {
    /// Nothing (a new socket, or a datagram socket without a default peer).
    Unconnected,
    /// Listening, with the server ends of the connections not yet accepted.
    Listening {
        backlog: usize,
        pending: VecDeque<Arc<UnixSocket>>,
    },
    /// Connected (stream, seqpacket), or a datagram socket's default peer.
    Connected(Weak<Core>),
}

/// The state of one socket the peer and the namespace may reach.
pub(super) struct Core {
    kind: SocketType,
    state: Mutex<State>,
}

struct State {
    /// The bound address (raw `sockaddr_un`, its length Linux's); empty while unbound.
    address: Vec<u8>,
    name: Option<(Arc<UnixNamespace>, Name)>,
    conn: Conn,
    queue: VecDeque<Message>,
    /// Unread bytes in `queue`.
    queued: usize,
    /// `RCV_SHUTDOWN`: nothing more will be received.
    rcv_shutdown: bool,
    /// `SEND_SHUTDOWN`: nothing more may be sent.
    snd_shutdown: bool,
    /// `sk_err`, reported once.
    error: Option<LxError>,
    /// `SO_PEERCRED`.
    peer_cred: UCred,
    /// The credentials a connecting peer gets as its `SO_PEERCRED` (set at `listen`).
    own_cred: UCred,
    passcred: bool,
    sndbuf: usize,
    rcvbuf: usize,
    rcvtimeo: u64,
    sndtimeo: u64,
    /// Plain options kept for `getsockopt` (`SO_REUSEADDR`, `SO_KEEPALIVE`, …).
    options: BTreeMap<i32, i32>,
    linger: [u8; 8],
    /// A server end not accepted yet: its close resets the client.
    embryo: bool,
    dead: bool,
    /// Readers and acceptors waiting on this socket.
    read_wakers: Vec<Waker>,
    /// Senders waiting for room in this socket's queue, connectors for its backlog.
    write_wakers: Vec<Waker>,
}

/// Adds `cx`'s waker to `wakers` unless an equivalent one is already there.
fn register(wakers: &mut Vec<Waker>, cx: Option<&Context<'_>>) {
    if let Some(cx) = cx {
        if !wakers.iter().any(|waker| waker.will_wake(cx.waker())) {
            wakers.push(cx.waker().clone());
        }
    }
}

fn wake_all(wakers: Vec<Waker>) {
    wakers.into_iter().for_each(Waker::wake);
}

/// An `AF_UNIX` address of length 2: the family alone (an unbound socket's name).
fn unnamed() -> Vec<u8> {
    AF_UNIX.to_le_bytes().to_vec()
}

/// Linux's `unix_validate_addr`: `EINVAL` unless `address` is a `sockaddr_un` with a path.
fn validate(address: &[u8]) -> LxResult<&[u8]> {
    if address.len() <= SUN_PATH || address.len() > SOCKADDR_UN_LEN {
        return Err(LxError::EINVAL);
    }
    if family(address) != Some(AF_UNIX) {
        return Err(LxError::EINVAL);
    }
    address.get(SUN_PATH..).ok_or(LxError::EINVAL)
}

fn family(address: &[u8]) -> Option<u16> {
    let bytes = address.get(..2)?;
    Some(u16::from_le_bytes([*bytes.first()?, *bytes.get(1)?]))
}

/// The path of a pathname address: `sun_path` up to its first NUL.
fn path_of(sun_path: &[u8]) -> &[u8] {
    let end = sun_path
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(sun_path.len());
    sun_path.get(..end).unwrap_or_default()
}

/// Finds the socket `address` names, for `connect` and `sendto`.
fn resolve(ctx: &dyn SocketContext, address: &[u8]) -> LxResult<Arc<Core>> {
    let sun_path = validate(address)?;
    let name = if sun_path.first() == Some(&0) {
        Name::Abstract(sun_path.to_vec())
    } else {
        Name::Path(ctx.find_socket_node(path_of(sun_path))?)
    };
    ctx.unix_namespace()?
        .find(&name)
        .ok_or(LxError::ECONNREFUSED)
}

fn try_copy(bytes: &[u8]) -> LxResult<Vec<u8>> {
    let mut out = Vec::new();
    out.try_reserve_exact(bytes.len())
        .map_err(|_| LxError::ENOMEM)?;
    out.extend_from_slice(bytes);
    Ok(out)
}

impl Core {
    fn new(kind: SocketType, cred: UCred) -> Arc<Self> {
        Arc::new(Self {
            kind,
            state: Mutex::new(State {
                address: Vec::new(),
                name: None,
                conn: Conn::Unconnected,
                queue: VecDeque::new(),
                queued: 0,
                rcv_shutdown: false,
                snd_shutdown: false,
                error: None,
                peer_cred: UCred::NONE,
                own_cred: cred,
                passcred: false,
                sndbuf: DEFAULT_BUFFER,
                rcvbuf: DEFAULT_BUFFER,
                rcvtimeo: 0,
                sndtimeo: 0,
                options: BTreeMap::new(),
                linger: [0; 8],
                embryo: false,
                dead: false,
                read_wakers: Vec::new(),
                write_wakers: Vec::new(),
            }),
        })
    }

    /// Puts a message in this socket's queue and wakes its readers.
    fn deliver(&self, state: &mut State, message: Message) -> Vec<Waker> {
        state.queued = state.queued.saturating_add(message.remaining().len());
        state.queue.push_back(message);
        core::mem::take(&mut state.read_wakers)
    }
}

/// One `AF_UNIX` socket: an open file description.
pub struct UnixSocket {
    core: Arc<Core>,
    inode: u64,
    owner: (u32, u32),
    flags: Mutex<OpenFlags>,
}

impl UnixSocket {
    /// A new unconnected socket of `kind` (`socket(AF_UNIX, …)`), made by a process whose
    /// credentials are `cred` and whose fsuid/fsgid own the socket's inode.
    pub fn new(kind: SocketType, flags: OpenFlags, cred: UCred, owner: (u32, u32)) -> Arc<Self> {
        Self::with_core(Core::new(kind, cred), flags, owner)
    }

    fn with_core(core: Arc<Core>, flags: OpenFlags, owner: (u32, u32)) -> Arc<Self> {
        Arc::new(Self {
            core,
            inode: NEXT_SOCKET_INODE.fetch_add(1, Ordering::Relaxed),
            owner,
            flags: Mutex::new(OpenFlags::RDWR | (flags & OpenFlags::NONBLOCK)),
        })
    }

    /// Two sockets of `kind` connected to each other (`socketpair`); each has the other's
    /// credentials (`cred`, the caller's) as `SO_PEERCRED`.
    pub fn pair(
        kind: SocketType,
        flags: OpenFlags,
        cred: UCred,
        owner: (u32, u32),
    ) -> (Arc<Self>, Arc<Self>) {
        let first = Core::new(kind, cred);
        let second = Core::new(kind, cred);
        for (core, peer) in [(&first, &second), (&second, &first)] {
            let mut state = core.state.lock();
            state.conn = Conn::Connected(Arc::downgrade(peer));
            state.peer_cred = cred;
        }
        (
            Self::with_core(first, flags, owner),
            Self::with_core(second, flags, owner),
        )
    }

    fn kind(&self) -> SocketType {
        self.core.kind
    }

    fn nonblocking(&self) -> bool {
        self.flags().contains(OpenFlags::NONBLOCK)
    }

    /// `bind` with `ctx` naming things in the caller's container.
    fn bind_address(&self, ctx: &dyn SocketContext, address: &[u8]) -> LxResult {
        if address.len() == SUN_PATH && family(address) == Some(AF_UNIX) {
            return self.autobind(ctx);
        }
        let sun_path = validate(address)?;
        let namespace = ctx.unix_namespace()?;
        let bound = || !self.core.state.lock().address.is_empty();
        let abstract_name = sun_path.first() == Some(&0);
        if abstract_name && bound() {
            return Err(LxError::EINVAL);
        }
        let path = path_of(sun_path);
        let (name, stored) = if abstract_name {
            (Name::Abstract(try_copy(sun_path)?), try_copy(address)?)
        } else {
            // The node first, as Linux: a name taken is EADDRINUSE even for a bound socket.
            let key = ctx.create_socket_node(path)?;
            if bound() {
                ctx.remove_socket_node(path);
                return Err(LxError::EINVAL);
            }
            // Linux keeps the path NUL-terminated: `offsetof(sun_path) + strlen + 1` bytes.
            let mut stored = try_copy(address.get(..SUN_PATH + path.len()).unwrap_or(address))?;
            stored.try_reserve(1).map_err(|_| LxError::ENOMEM)?;
            stored.push(0);
            (Name::Path(key), stored)
        };
        if let Err(error) = namespace.bind(name.clone(), &self.core) {
            if !abstract_name {
                ctx.remove_socket_node(path);
            }
            return Err(error);
        }
        let mut state = self.core.state.lock();
        if !state.address.is_empty() {
            drop(state);
            namespace.unbind(&name, Arc::as_ptr(&self.core));
            if !abstract_name {
                ctx.remove_socket_node(path);
            }
            return Err(LxError::EINVAL);
        }
        state.address = stored;
        state.name = Some((namespace, name));
        Ok(())
    }

    /// Binds an unbound socket to a fresh abstract name (Linux's `unix_autobind`).
    fn autobind(&self, ctx: &dyn SocketContext) -> LxResult {
        if !self.core.state.lock().address.is_empty() {
            return Ok(());
        }
        let namespace = ctx.unix_namespace()?;
        let sun_path = namespace.autobind(&self.core)?;
        let name = Name::Abstract(sun_path.clone());
        let mut address = unnamed();
        address
            .try_reserve(sun_path.len())
            .map_err(|_| LxError::ENOMEM)?;
        address.extend_from_slice(&sun_path);
        let mut state = self.core.state.lock();
        if !state.address.is_empty() {
            drop(state);
            namespace.unbind(&name, Arc::as_ptr(&self.core));
            return Ok(());
        }
        state.address = address;
        state.name = Some((namespace, name));
        Ok(())
    }

    /// A socket with `SO_PASSCRED` that connects or sends unbound is autobound first, so its
    /// peer can tell who it is (Linux's `unix_autobind` calls in connect and send).
    fn autobind_for_passcred(&self, ctx: &dyn SocketContext) -> LxResult {
        let unbound_passcred = {
            let state = self.core.state.lock();
            state.passcred && state.address.is_empty()
        };
        if unbound_passcred {
            self.autobind(ctx)?;
        }
        Ok(())
    }

    /// One step of a stream or seqpacket `connect`: `None` if it must wait for room in the
    /// listener's backlog (after registering `cx`).
    fn try_connect(
        &self,
        cx: Option<&Context<'_>>,
        ctx: &dyn SocketContext,
        address: &[u8],
    ) -> Option<LxResult> {
        // Linux's order: the address, autobind, the peer, then this socket's state.
        if let Err(error) = validate(address).and_then(|_| self.autobind_for_passcred(ctx)) {
            return Some(Err(error));
        }
        let listener = match resolve(ctx, address) {
            Ok(listener) => listener,
            Err(error) => return Some(Err(error)),
        };
        if listener.kind != self.kind() {
            return Some(Err(LxError::EPROTOTYPE));
        }
        match &self.core.state.lock().conn {
            Conn::Connected(_) => return Some(Err(LxError::EISCONN)),
            Conn::Listening { .. } => return Some(Err(LxError::EINVAL)),
            Conn::Unconnected => {}
        }
        // The server end, connected to this socket; nobody else can reach it yet.
        let server_core = Core::new(self.kind(), UCred::NONE);
        {
            let mut server = server_core.state.lock();
            server.conn = Conn::Connected(Arc::downgrade(&self.core));
            server.peer_cred = ctx.peer_credentials();
            server.embryo = true;
        }
        {
            let mut state = self.core.state.lock();
            if !matches!(state.conn, Conn::Unconnected) {
                return Some(Err(LxError::EISCONN));
            }
            state.conn = Conn::Connected(Arc::downgrade(&server_core));
        }
        let server = Self::with_core(server_core.clone(), OpenFlags::empty(), self.owner);
        // One critical section on the listener: its state, its backlog and the queueing of
        // the connection cannot change between the checks and the push.
        let mut listener_state = listener.state.lock();
        let refused = listener_state.rcv_shutdown || listener_state.dead;
        let (listener_address, listener_cred) =
            (listener_state.address.clone(), listener_state.own_cred);
        let buffers = (listener_state.sndbuf, listener_state.rcvbuf);
        // An accepted socket inherits SO_PASSCRED (Linux's `unix_sock_inherit_flags`).
        let passcred = listener_state.passcred;
        let outcome = match &mut listener_state.conn {
            Conn::Listening { .. } if refused => Err(Some(LxError::ECONNREFUSED)),
            Conn::Listening { backlog, pending } if pending.len() <= *backlog => {
                {
                    // The fresh server end: no lock order to break.
                    let mut server_state = server_core.state.lock();
                    server_state.own_cred = listener_cred;
                    server_state.address = listener_address;
                    (server_state.sndbuf, server_state.rcvbuf) = buffers;
                    server_state.passcred = passcred;
                }
                pending.push_back(server.clone());
                Ok(core::mem::take(&mut listener_state.read_wakers))
            }
            Conn::Listening { .. } if cx.is_none() => Err(Some(LxError::EAGAIN)),
            Conn::Listening { .. } => {
                register(&mut listener_state.write_wakers, cx);
                Err(None)
            }
            _ => Err(Some(LxError::ECONNREFUSED)),
        };
        drop(listener_state);
        match outcome {
            Ok(wakers) => {
                self.core.state.lock().peer_cred = listener_cred;
                wake_all(wakers);
                Some(Ok(()))
            }
            Err(error) => {
                // Undone: the server end goes without resetting this socket.
                server_core.state.lock().conn = Conn::Unconnected;
                {
                    let mut state = self.core.state.lock();
                    let ours = matches!(&state.conn, Conn::Connected(peer)
                        if core::ptr::eq(peer.as_ptr(), Arc::as_ptr(&server_core)));
                    if ours {
                        state.conn = Conn::Unconnected;
                    }
                }
                drop(server);
                error.map(Err)
            }
        }
    }

    /// `connect` of a datagram socket: sets (or, with `AF_UNSPEC`, clears) its default peer.
    fn connect_datagram(&self, ctx: &dyn SocketContext, address: &[u8]) -> LxResult {
        if address.len() >= 2 && family(address) == Some(AF_UNSPEC) {
            self.core.state.lock().conn = Conn::Unconnected;
            return Ok(());
        }
        validate(address)?;
        self.autobind_for_passcred(ctx)?;
        let peer = resolve(ctx, address)?;
        if peer.kind != self.kind() {
            return Err(LxError::EPROTOTYPE);
        }
        if !may_send(&self.core, &peer) {
            return Err(LxError::EPERM);
        }
        self.core.state.lock().conn = Conn::Connected(Arc::downgrade(&peer));
        Ok(())
    }

    /// One step of `accept`: `None` if it must wait (after registering `cx`).
    fn try_accept(&self, cx: Option<&Context<'_>>) -> Option<LxResult<(Arc<Self>, Vec<u8>)>> {
        if !self.kind().connection_oriented() {
            return Some(Err(LxError::EOPNOTSUPP));
        }
        let mut state = self.core.state.lock();
        let Conn::Listening { pending, .. } = &mut state.conn else {
            return Some(Err(LxError::EINVAL));
        };
        let Some(server) = pending.pop_front() else {
            register(&mut state.read_wakers, cx);
            return None;
        };
        // Room in the backlog: wake a connector waiting for it.
        let wakers = core::mem::take(&mut state.write_wakers);
        drop(state);
        wake_all(wakers);
        let peer = {
            let mut server_state = server.core.state.lock();
            server_state.embryo = false;
            match &server_state.conn {
                Conn::Connected(peer) => peer.clone(),
                _ => Weak::new(),
            }
        };
        let address = match peer.upgrade() {
            Some(peer) => {
                let address = peer.state.lock().address.clone();
                if address.is_empty() {
                    unnamed()
                } else {
                    address
                }
            }
            None => unnamed(),
        };
        Some(Ok((server, address)))
    }

    /// One step of a send: `None` if it must wait (after registering `cx`).
    fn try_send(
        &self,
        cx: Option<&Context<'_>>,
        ctx: Option<&dyn SocketContext>,
        data: &[u8],
        message: &SendMessage<'_>,
        cred: UCred,
    ) -> Option<LxResult<usize>> {
        if message.flags.contains(MsgFlags::OOB) {
            return Some(Err(LxError::EOPNOTSUPP));
        }
        let mut rights = Vec::new();
        for control in &message.control {
            match control {
                ControlMessage::Rights(files) => {
                    if rights.try_reserve(files.len()).is_err() {
                        return Some(Err(LxError::ENOMEM));
                    }
                    rights.extend(files.iter().cloned());
                }
                ControlMessage::Credentials(_) | ControlMessage::Other { .. } => {}
            }
        }
        let cred = message
            .control
            .iter()
            .find_map(|control| match control {
                ControlMessage::Credentials(cred) => Some(*cred),
                _ => None,
            })
            .unwrap_or(cred);
        match self.kind() {
            SocketType::Stream => self.send_stream(cx, data, message, rights, cred),
            _ => self.send_message(cx, ctx, data, message, rights, cred),
        }
    }

    fn send_stream(
        &self,
        cx: Option<&Context<'_>>,
        data: &[u8],
        message: &SendMessage<'_>,
        rights: Vec<Arc<dyn FileLike>>,
        cred: UCred,
    ) -> Option<LxResult<usize>> {
        let (peer, sndbuf, from) = {
            let state = self.core.state.lock();
            if message.address.is_some() {
                let connected = matches!(state.conn, Conn::Connected(_));
                return Some(Err(if connected {
                    LxError::EISCONN
                } else {
                    LxError::EOPNOTSUPP
                }));
            }
            if state.snd_shutdown {
                return Some(Err(LxError::EPIPE));
            }
            let Conn::Connected(peer) = &state.conn else {
                return Some(Err(LxError::ENOTCONN));
            };
            (peer.upgrade(), state.sndbuf, state.address.clone())
        };
        let Some(peer) = peer else {
            return Some(Err(LxError::EPIPE));
        };
        if data.is_empty() {
            // Linux's send loop never runs: nothing is queued, descriptors included.
            return Some(Ok(0));
        }
        let mut peer_state = peer.state.lock();
        if peer_state.rcv_shutdown || peer_state.dead {
            return Some(Err(LxError::EPIPE));
        }
        if peer_state.queued >= sndbuf {
            register(&mut peer_state.write_wakers, cx);
            return None;
        }
        let chunk = data
            .len()
            .min((sndbuf / 2).saturating_sub(64).max(1))
            .min(sndbuf.saturating_sub(peer_state.queued).max(1));
        let bytes = match try_copy(data.get(..chunk).unwrap_or(data)) {
            Ok(bytes) => bytes,
            Err(error) => return Some(Err(error)),
        };
        let wakers = self.core.deliver(
            &mut peer_state,
            Message {
                data: bytes,
                start: 0,
                rights,
                cred,
                from,
            },
        );
        drop(peer_state);
        wake_all(wakers);
        Some(Ok(chunk))
    }

    fn send_message(
        &self,
        cx: Option<&Context<'_>>,
        ctx: Option<&dyn SocketContext>,
        data: &[u8],
        message: &SendMessage<'_>,
        rights: Vec<Arc<dyn FileLike>>,
        cred: UCred,
    ) -> Option<LxResult<usize>> {
        let seqpacket = self.kind() == SocketType::SeqPacket;
        let (default_peer, sndbuf, from, snd_shutdown) = {
            let state = self.core.state.lock();
            let peer = match &state.conn {
                Conn::Connected(peer) => Some(peer.clone()),
                _ => None,
            };
            (
                peer,
                state.sndbuf,
                state.address.clone(),
                state.snd_shutdown,
            )
        };
        if seqpacket && default_peer.is_none() {
            return Some(Err(LxError::ENOTCONN));
        }
        if snd_shutdown {
            return Some(Err(LxError::EPIPE));
        }
        let mut from = from;
        if let Some(ctx) = ctx {
            if let Err(error) = self.autobind_for_passcred(ctx) {
                return Some(Err(error));
            }
            from = self.core.state.lock().address.clone();
        }
        if data.len() > sndbuf.saturating_sub(32) {
            return Some(Err(LxError::EMSGSIZE));
        }
        let address = if seqpacket { None } else { message.address };
        let target = match address {
            Some(address) => {
                let Some(ctx) = ctx else {
                    return Some(Err(LxError::EINVAL));
                };
                match resolve(ctx, address) {
                    Ok(target) => target,
                    Err(error) => return Some(Err(error)),
                }
            }
            None => match default_peer.map(|peer| peer.upgrade()) {
                Some(Some(peer)) => peer,
                Some(None) if seqpacket => return Some(Err(LxError::EPIPE)),
                Some(None) => {
                    // A dead datagram peer: refused once, then the socket is unconnected.
                    self.core.state.lock().conn = Conn::Unconnected;
                    return Some(Err(LxError::ECONNREFUSED));
                }
                None => return Some(Err(LxError::ENOTCONN)),
            },
        };
        if target.kind != self.kind() {
            return Some(Err(LxError::EPROTOTYPE));
        }
        let paired = peer_is(&target, &self.core);
        if !seqpacket && !may_send(&self.core, &target) {
            return Some(Err(LxError::EPERM));
        }
        let bytes = match try_copy(data) {
            Ok(bytes) => bytes,
            Err(error) => return Some(Err(error)),
        };
        let mut target_state = target.state.lock();
        if target_state.dead {
            drop(target_state);
            if seqpacket {
                return Some(Err(LxError::EPIPE));
            }
            self.core.state.lock().conn = Conn::Unconnected;
            return Some(Err(LxError::ECONNREFUSED));
        }
        if target_state.rcv_shutdown {
            return Some(Err(LxError::EPIPE));
        }
        let full =
            target_state.queued >= sndbuf || (!paired && target_state.queue.len() > MAX_DGRAM_QLEN);
        if full {
            register(&mut target_state.write_wakers, cx);
            return None;
        }
        let len = bytes.len();
        let wakers = target.deliver(
            &mut target_state,
            Message {
                data: bytes,
                start: 0,
                rights,
                cred,
                from,
            },
        );
        drop(target_state);
        wake_all(wakers);
        Some(Ok(len))
    }

    /// One step of a receive: `None` if it must wait (after registering `cx`).
    fn try_recv(
        &self,
        cx: Option<&Context<'_>>,
        buf: &mut [u8],
        flags: MsgFlags,
    ) -> Option<LxResult<Received>> {
        if flags.contains(MsgFlags::OOB) {
            return Some(Err(LxError::EOPNOTSUPP));
        }
        let mut state = self.core.state.lock();
        match (&state.conn, self.kind()) {
            // Linux's unix_stream_read_generic: a stream never connected is EINVAL.
            (Conn::Listening { .. }, _) | (Conn::Unconnected, SocketType::Stream) => {
                return Some(Err(LxError::EINVAL))
            }
            (Conn::Unconnected, SocketType::SeqPacket) => return Some(Err(LxError::ENOTCONN)),
            _ => {}
        }
        let stream = self.kind() == SocketType::Stream;
        let waitall = stream
            && flags.contains(MsgFlags::WAITALL)
            && !flags.contains(MsgFlags::PEEK)
            && !flags.contains(MsgFlags::DONTWAIT);
        let enough = !state.queue.is_empty() && (!waitall || state.queued >= buf.len());
        if !enough {
            if !state.queue.is_empty() && (state.rcv_shutdown || state.error.is_some()) {
                // MSG_WAITALL ends early at end of file: take what is there.
            } else if state.queue.is_empty() {
                if let Some(error) = state.error.take() {
                    return Some(Err(error));
                }
                if state.rcv_shutdown || state.dead {
                    return Some(Ok(Received::default()));
                }
                register(&mut state.read_wakers, cx);
                return None;
            } else {
                register(&mut state.read_wakers, cx);
                return None;
            }
        }
        let passcred = state.passcred;
        let mut received = Received::default();
        if stream {
            self.take_stream(&mut state, buf, flags, passcred, &mut received);
        } else {
            take_message(&mut state, buf, flags, passcred, &mut received);
        }
        let wakers = if flags.contains(MsgFlags::PEEK) {
            Vec::new()
        } else {
            core::mem::take(&mut state.write_wakers)
        };
        drop(state);
        wake_all(wakers);
        Some(Ok(received))
    }

    /// Takes bytes of the stream queue into `buf`, across messages but never past a message
    /// carrying descriptors, nor across a change of sender credentials when they are passed.
    fn take_stream(
        &self,
        state: &mut State,
        buf: &mut [u8],
        flags: MsgFlags,
        passcred: bool,
        received: &mut Received,
    ) {
        let peek = flags.contains(MsgFlags::PEEK);
        let mut copied = 0;
        let mut index = 0;
        let mut first_cred = None;
        while copied < buf.len() || (buf.is_empty() && index == 0) {
            let Some(message) = state.queue.get_mut(index) else {
                break;
            };
            if let Some(cred) = first_cred {
                if (passcred && cred != message.cred) || !message.rights.is_empty() {
                    break;
                }
            } else {
                first_cred = Some(message.cred);
                received.address = message.from.clone();
                if passcred {
                    received
                        .control
                        .push(ControlMessage::Credentials(message.cred));
                }
            }
            let remaining = message.remaining();
            let count = remaining.len().min(buf.len() - copied);
            if let (Some(to), Some(from)) =
                (buf.get_mut(copied..copied + count), remaining.get(..count))
            {
                to.copy_from_slice(from);
            }
            copied += count;
            let has_rights = !message.rights.is_empty();
            if !message.rights.is_empty() {
                let rights = if peek {
                    message.rights.clone()
                } else {
                    core::mem::take(&mut message.rights)
                };
                received.control.push(ControlMessage::Rights(rights));
            }
            if peek {
                index += 1;
            } else {
                message.start += count;
                state.queued = state.queued.saturating_sub(count);
                if message.remaining().is_empty() {
                    state.queue.pop_front();
                }
            }
            if has_rights || buf.is_empty() {
                break;
            }
        }
        received.len = copied;
        received.full_len = copied;
    }

    fn readiness(&self, cx: Option<&Context<'_>>) -> PollEvents {
        let mut events = PollEvents::empty();
        let mut state = self.core.state.lock();
        register(&mut state.read_wakers, cx);
        if state.error.is_some() {
            events |= PollEvents::ERR;
        }
        if state.rcv_shutdown && state.snd_shutdown {
            events |= PollEvents::HUP;
        }
        if state.rcv_shutdown {
            events |= PollEvents::RDHUP | PollEvents::IN | PollEvents::RDNORM;
        }
        if !state.queue.is_empty() {
            events |= PollEvents::IN | PollEvents::RDNORM;
        }
        let sndbuf = state.sndbuf;
        let peer = match &state.conn {
            Conn::Listening { pending, .. } => {
                if !pending.is_empty() {
                    events |= PollEvents::IN | PollEvents::RDNORM;
                }
                return events;
            }
            Conn::Unconnected => {
                if self.kind().connection_oriented() {
                    events |= PollEvents::HUP;
                }
                None
            }
            Conn::Connected(peer) => peer.upgrade(),
        };
        drop(state);
        let writable = match peer {
            None => true,
            Some(peer) => {
                let paired = peer_is(&peer, &self.core);
                let mut peer_state = peer.state.lock();
                let room = peer_state.queued.saturating_mul(4) <= sndbuf;
                let queue_full = self.kind() == SocketType::Datagram
                    && !paired
                    && peer_state.queue.len() > MAX_DGRAM_QLEN;
                let writable = peer_state.dead || (room && !queue_full);
                if !writable {
                    register(&mut peer_state.write_wakers, cx);
                }
                writable
            }
        };
        if writable {
            events |= PollEvents::OUT | PollEvents::WRNORM | PollEvents::WRBAND;
        }
        events
    }

    /// A receive through [`FileLike`] (`read`): no flags but the description's `O_NONBLOCK`.
    fn read_step(&self, cx: Option<&Context<'_>>, buf: &mut [u8]) -> Option<LxResult<usize>> {
        let flags = if self.nonblocking() {
            MsgFlags::DONTWAIT
        } else {
            MsgFlags::empty()
        };
        self.try_recv(cx, buf, flags)
            .map(|result| result.map(|received| received.len))
    }

    /// A send through [`FileLike`] (`write`), with the credentials of the socket's creator.
    fn write_step(&self, cx: Option<&Context<'_>>, buf: &[u8]) -> Option<LxResult<usize>> {
        let message = SendMessage {
            data: SendData::Kernel(buf),
            flags: MsgFlags::empty(),
            address: None,
            control: Vec::new(),
        };
        let cred = self.core.state.lock().own_cred;
        self.try_send(cx, None, buf, &message, cred)
    }

    /// The timeouts as `struct timeval` bytes.
    fn timeval(nanos: u64) -> [u8; 16] {
        let mut out = [0; 16];
        out[..8].copy_from_slice(&(nanos / 1_000_000_000).to_le_bytes());
        out[8..].copy_from_slice(&((nanos % 1_000_000_000) / 1000).to_le_bytes());
        out
    }
}

/// Takes one message (datagram, seqpacket) into `buf`: the rest of a longer one is lost,
/// with `MSG_TRUNC` set.
fn take_message(
    state: &mut State,
    buf: &mut [u8],
    flags: MsgFlags,
    passcred: bool,
    received: &mut Received,
) {
    let peek = flags.contains(MsgFlags::PEEK);
    let message = if peek {
        match state.queue.front() {
            Some(message) => Message {
                data: message.data.clone(),
                start: message.start,
                rights: message.rights.clone(),
                cred: message.cred,
                from: message.from.clone(),
            },
            None => return,
        }
    } else {
        match state.queue.pop_front() {
            Some(message) => {
                state.queued = state.queued.saturating_sub(message.remaining().len());
                message
            }
            None => return,
        }
    };
    let data = message.remaining();
    let count = data.len().min(buf.len());
    if let (Some(to), Some(from)) = (buf.get_mut(..count), data.get(..count)) {
        to.copy_from_slice(from);
    }
    received.len = count;
    received.full_len = data.len();
    if data.len() > count {
        received.flags |= MsgFlags::TRUNC;
    }
    received.address = message.from;
    if passcred {
        received
            .control
            .push(ControlMessage::Credentials(message.cred));
    }
    if !message.rights.is_empty() {
        received
            .control
            .push(ControlMessage::Rights(message.rights));
    }
}

/// Is `core`'s peer `other`?
fn peer_is(core: &Core, other: &Arc<Core>) -> bool {
    match &core.state.lock().conn {
        Conn::Connected(peer) => core::ptr::eq(peer.as_ptr(), Arc::as_ptr(other)),
        _ => false,
    }
}

/// Linux's `unix_may_send`: a datagram may go to `target` unless it is connected to
/// another socket than `sender`.
fn may_send(sender: &Arc<Core>, target: &Arc<Core>) -> bool {
    match &target.state.lock().conn {
        Conn::Connected(peer) => core::ptr::eq(peer.as_ptr(), Arc::as_ptr(sender)),
        _ => true,
    }
}

fn int_bytes(value: i32) -> Vec<u8> {
    value.to_le_bytes().to_vec()
}

/// A buffer size as `SO_SNDBUF`/`SO_RCVBUF` set it: capped (unless forced), doubled, at
/// least `min`.
fn buffer_size(value: i32, force: bool, min: usize) -> usize {
    // Linux compares as u32: a negative value is huge, so capped.
    let value = value as u32 as usize;
    let value = if force { value } else { value.min(MAX_BUFFER) };
    value.saturating_mul(2).min(i32::MAX as usize).max(min)
}

impl Socket for UnixSocket {
    fn domain(&self) -> u16 {
        AF_UNIX
    }

    fn socket_type(&self) -> SocketType {
        self.kind()
    }

    fn bind(&self, ctx: &dyn SocketContext, address: &[u8]) -> LxResult {
        self.bind_address(ctx, address)
    }

    fn listen(&self, ctx: &dyn SocketContext, backlog: i32) -> LxResult {
        if !self.kind().connection_oriented() {
            return Err(LxError::EOPNOTSUPP);
        }
        // Linux compares as unsigned: a negative backlog is the maximum.
        let backlog = (backlog as u32 as usize).min(SOMAXCONN);
        let mut state = self.core.state.lock();
        if state.address.is_empty() {
            return Err(LxError::EINVAL);
        }
        match &mut state.conn {
            Conn::Connected(_) => return Err(LxError::EINVAL),
            Conn::Listening {
                backlog: current, ..
            } => *current = backlog,
            Conn::Unconnected => {
                state.conn = Conn::Listening {
                    backlog,
                    pending: VecDeque::new(),
                };
            }
        }
        // Linux's `init_peercred` at listen: the listener's own SO_PEERCRED is the caller's,
        // and what connecting clients get as theirs.
        state.own_cred = ctx.peer_credentials();
        state.peer_cred = state.own_cred;
        // Connectors waiting for a larger backlog may go now.
        let wakers = core::mem::take(&mut state.write_wakers);
        drop(state);
        wake_all(wakers);
        Ok(())
    }

    fn poll_connect(
        &self,
        cx: &mut Context<'_>,
        ctx: &dyn SocketContext,
        address: &[u8],
        nonblock: bool,
    ) -> Poll<LxResult> {
        if !self.kind().connection_oriented() {
            return Poll::Ready(self.connect_datagram(ctx, address));
        }
        let cx = if nonblock { None } else { Some(&*cx) };
        self.try_connect(cx, ctx, address)
            .map_or(Poll::Pending, Poll::Ready)
    }

    fn poll_accept(&self, cx: &mut Context<'_>, nonblock: bool) -> Poll<LxResult<Accepted>> {
        match self.try_accept(Some(cx)) {
            Some(result) => Poll::Ready(result.map(|(socket, address)| {
                let socket: Arc<dyn FileLike> = socket;
                (socket, address)
            })),
            None if nonblock => Poll::Ready(Err(LxError::EAGAIN)),
            None => Poll::Pending,
        }
    }

    fn poll_send(
        &self,
        cx: &mut Context<'_>,
        ctx: &dyn SocketContext,
        message: &SendMessage<'_>,
    ) -> Poll<LxResult<usize>> {
        let SendData::Kernel(data) = message.data else {
            return Poll::Ready(Err(LxError::EINVAL));
        };
        let nonblock = message.flags.contains(MsgFlags::DONTWAIT);
        let waker = if nonblock { None } else { Some(&*cx) };
        match self.try_send(waker, Some(ctx), data, message, ctx.message_credentials()) {
            Some(result) => Poll::Ready(result),
            None if nonblock => Poll::Ready(Err(LxError::EAGAIN)),
            None => Poll::Pending,
        }
    }

    fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        data: &mut RecvData<'_>,
        flags: MsgFlags,
    ) -> Poll<LxResult<Received>> {
        let RecvData::Kernel(buf) = data else {
            return Poll::Ready(Err(LxError::EINVAL));
        };
        let nonblock = flags.contains(MsgFlags::DONTWAIT);
        let waker = if nonblock { None } else { Some(&*cx) };
        match self.try_recv(waker, buf, flags) {
            Some(result) => Poll::Ready(result),
            None if nonblock => Poll::Ready(Err(LxError::EAGAIN)),
            None => Poll::Pending,
        }
    }

    fn shutdown(&self, how: Shutdown) -> LxResult {
        let mut state = self.core.state.lock();
        state.rcv_shutdown |= how.read();
        state.snd_shutdown |= how.write();
        let mut wakers = core::mem::take(&mut state.read_wakers);
        wakers.append(&mut state.write_wakers);
        let peer = match &state.conn {
            Conn::Connected(peer) if self.kind().connection_oriented() => peer.upgrade(),
            _ => None,
        };
        drop(state);
        wake_all(wakers);
        if let Some(peer) = peer {
            let mut peer_state = peer.state.lock();
            peer_state.snd_shutdown |= how.read();
            peer_state.rcv_shutdown |= how.write();
            let mut wakers = core::mem::take(&mut peer_state.read_wakers);
            wakers.append(&mut peer_state.write_wakers);
            drop(peer_state);
            wake_all(wakers);
        }
        Ok(())
    }

    fn local_address(&self) -> LxResult<Vec<u8>> {
        let address = self.core.state.lock().address.clone();
        Ok(if address.is_empty() {
            unnamed()
        } else {
            address
        })
    }

    fn peer_address(&self) -> LxResult<Vec<u8>> {
        let peer = match &self.core.state.lock().conn {
            Conn::Connected(peer) => peer.clone(),
            _ => return Err(LxError::ENOTCONN),
        };
        // A peer that is gone still names nothing: the family alone, as Linux.
        let address = peer
            .upgrade()
            .map(|peer| peer.state.lock().address.clone())
            .unwrap_or_default();
        Ok(if address.is_empty() {
            unnamed()
        } else {
            address
        })
    }

    fn getsockopt(&self, level: i32, name: i32, _out: UserIoVec) -> LxResult<OptionOut> {
        if level != SOL_SOCKET {
            return Err(LxError::EOPNOTSUPP);
        }
        let mut state = self.core.state.lock();
        let value = match name {
            SO_TYPE => int_bytes(self.kind() as i32),
            SO_DOMAIN => int_bytes(i32::from(AF_UNIX)),
            SO_PROTOCOL => int_bytes(0),
            SO_ERROR => int_bytes(state.error.take().map_or(0, |error| error.errno())),
            SO_SNDBUF => int_bytes(state.sndbuf as i32),
            SO_RCVBUF => int_bytes(state.rcvbuf as i32),
            SO_PASSCRED => int_bytes(i32::from(state.passcred)),
            SO_PEERCRED => state.peer_cred.to_bytes().to_vec(),
            SO_ACCEPTCONN => int_bytes(i32::from(matches!(state.conn, Conn::Listening { .. }))),
            SO_RCVTIMEO_OLD => Self::timeval(state.rcvtimeo).to_vec(),
            SO_SNDTIMEO_OLD => Self::timeval(state.sndtimeo).to_vec(),
            SO_LINGER => state.linger.to_vec(),
            SO_RCVLOWAT | SO_SNDLOWAT => int_bytes(*state.options.get(&name).unwrap_or(&1)),
            SO_DEBUG | SO_REUSEADDR | SO_DONTROUTE | SO_BROADCAST | SO_KEEPALIVE | SO_OOBINLINE
            | SO_PRIORITY | SO_REUSEPORT => int_bytes(*state.options.get(&name).unwrap_or(&0)),
            _ => return Err(LxError::ENOPROTOOPT),
        };
        Ok(OptionOut::Value(value))
    }

    fn setsockopt(&self, level: i32, name: i32, value: OptionIn<'_>) -> LxResult {
        if level != SOL_SOCKET {
            return Err(LxError::EOPNOTSUPP);
        }
        match name {
            SO_RCVTIMEO_OLD | SO_SNDTIMEO_OLD => {
                let bytes = value.bytes.get(..16).ok_or(LxError::EINVAL)?;
                let mut sec = [0; 8];
                let mut usec = [0; 8];
                sec.copy_from_slice(bytes.get(..8).unwrap_or(&[0; 8]));
                usec.copy_from_slice(bytes.get(8..16).unwrap_or(&[0; 8]));
                let (sec, usec) = (i64::from_le_bytes(sec), i64::from_le_bytes(usec));
                if !(0..1_000_000).contains(&usec) {
                    return Err(LxError::EDOM);
                }
                let nanos = if sec < 0 {
                    0
                } else {
                    (sec as u64)
                        .saturating_mul(1_000_000_000)
                        .saturating_add(usec as u64 * 1000)
                };
                let mut state = self.core.state.lock();
                if name == SO_RCVTIMEO_OLD {
                    state.rcvtimeo = nanos;
                } else {
                    state.sndtimeo = nanos;
                }
                return Ok(());
            }
            SO_LINGER => {
                let bytes = value.bytes.get(..8).ok_or(LxError::EINVAL)?;
                let mut linger = [0; 8];
                linger.copy_from_slice(bytes);
                // l_onoff is stored as a boolean.
                if linger[..4] != [0; 4] {
                    linger[..4].copy_from_slice(&1i32.to_le_bytes());
                }
                self.core.state.lock().linger = linger;
                return Ok(());
            }
            _ => {}
        }
        let int = value.int()?;
        let mut state = self.core.state.lock();
        match name {
            SO_SNDBUF | SO_SNDBUFFORCE => {
                state.sndbuf = buffer_size(int, name == SO_SNDBUFFORCE, MIN_SNDBUF);
                let wakers = core::mem::take(&mut state.write_wakers);
                drop(state);
                wake_all(wakers);
            }
            SO_RCVBUF | SO_RCVBUFFORCE => {
                state.rcvbuf = buffer_size(int, name == SO_RCVBUFFORCE, MIN_RCVBUF);
            }
            SO_PASSCRED => state.passcred = int != 0,
            SO_RCVLOWAT => {
                state.options.insert(name, int.max(1));
            }
            SO_PRIORITY => {
                // Priorities above 6 need CAP_NET_ADMIN, which a container has not.
                if !(0..=6).contains(&int) {
                    return Err(LxError::EPERM);
                }
                state.options.insert(name, int);
            }
            SO_DEBUG | SO_REUSEADDR | SO_DONTROUTE | SO_BROADCAST | SO_KEEPALIVE | SO_OOBINLINE
            | SO_REUSEPORT => {
                state.options.insert(name, i32::from(int != 0));
            }
            SO_TYPE | SO_DOMAIN | SO_PROTOCOL | SO_ERROR | SO_PEERCRED | SO_ACCEPTCONN => {
                return Err(LxError::ENOPROTOOPT)
            }
            _ => return Err(LxError::ENOPROTOOPT),
        }
        Ok(())
    }

    fn ioctl(&self, request: u32, _arg: usize) -> Option<LxResult<i32>> {
        let state = self.core.state.lock();
        match request {
            SIOCINQ => Some(match (&state.conn, self.kind()) {
                (Conn::Listening { .. }, _) => Err(LxError::EINVAL),
                (_, SocketType::Datagram) => Ok(state
                    .queue
                    .front()
                    .map_or(0, |message| message.remaining().len())
                    .min(i32::MAX as usize) as i32),
                _ => Ok(state.queued.min(i32::MAX as usize) as i32),
            }),
            SIOCOUTQ => {
                let peer = match &state.conn {
                    Conn::Connected(peer) => peer.upgrade(),
                    _ => None,
                };
                drop(state);
                let queued = peer.map_or(0, |peer| {
                    let peer_state = peer.state.lock();
                    peer_state.queued
                });
                Some(Ok(queued.min(i32::MAX as usize) as i32))
            }
            _ => None,
        }
    }

    fn timeouts(&self) -> (u64, u64) {
        let state = self.core.state.lock();
        (state.rcvtimeo, state.sndtimeo)
    }
}

impl FileLike for UnixSocket {
    fn read(&self, buf: &mut [u8]) -> LxResult<usize> {
        self.read_step(None, buf).unwrap_or(Err(LxError::EAGAIN))
    }

    fn write(&self, buf: &[u8]) -> LxResult<usize> {
        self.write_step(None, buf).unwrap_or(Err(LxError::EAGAIN))
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<LxResult<usize>> {
        if self.nonblocking() {
            return Poll::Ready(self.read(buf));
        }
        self.read_step(Some(cx), buf)
            .map_or(Poll::Pending, Poll::Ready)
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<LxResult<usize>> {
        if self.nonblocking() {
            return Poll::Ready(self.write(buf));
        }
        self.write_step(Some(cx), buf)
            .map_or(Poll::Pending, Poll::Ready)
    }

    /// As Linux's `unix_poll`/`unix_dgram_poll`: readable with data queued (a listener: with
    /// a connection to accept) or the receiving half shut (`RDHUP` too); hung up with both
    /// halves shut, or unconnected for a connection type; in error with `SO_ERROR` pending;
    /// writable while what this socket queued at its peer is a quarter of its send buffer
    /// or less. The waker waits with this socket's readers and, while not writable, with
    /// the peer's senders.
    fn poll_events(&self, cx: Option<&Context<'_>>) -> PollEvents {
        self.readiness(cx)
    }

    fn metadata(&self) -> LxResult<Metadata> {
        Ok(Metadata {
            dev: 0,
            inode: self.inode,
            size: 0,
            blk_size: 4096,
            blocks: 0,
            type_: FileType::Socket,
            mode: 0o777,
            nlinks: 1,
            uid: self.owner.0,
            gid: self.owner.1,
            rdev: 0,
            atime: Timespec::default(),
            mtime: Timespec::default(),
            ctime: Timespec::default(),
        })
    }

    fn flags(&self) -> OpenFlags {
        *self.flags.lock()
    }

    fn set_flags(&self, flags: OpenFlags) {
        OpenFlags::set_settable(&self.flags, flags);
    }

    fn as_socket(&self) -> Option<&dyn Socket> {
        Some(self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for UnixSocket {
    /// The last descriptor is gone (Linux's `unix_release_sock`): the name is freed, a
    /// connected peer sees both halves shut (and `ECONNRESET` if this socket left data
    /// unread or was never accepted), everyone waiting is woken, queued messages and the
    /// descriptions in flight in them are released.
    fn drop(&mut self) {
        let mut state = self.core.state.lock();
        state.dead = true;
        state.rcv_shutdown = true;
        state.snd_shutdown = true;
        let conn = core::mem::replace(&mut state.conn, Conn::Unconnected);
        let queue = core::mem::take(&mut state.queue);
        state.queued = 0;
        let name = state.name.take();
        let embryo = state.embryo;
        let mut wakers = core::mem::take(&mut state.read_wakers);
        wakers.append(&mut state.write_wakers);
        drop(state);
        wake_all(wakers);
        if let Some((namespace, name)) = name {
            namespace.unbind(&name, Arc::as_ptr(&self.core));
        }
        match conn {
            Conn::Connected(peer) if self.kind().connection_oriented() => {
                if let Some(peer) = peer.upgrade() {
                    let mut peer_state = peer.state.lock();
                    peer_state.rcv_shutdown = true;
                    peer_state.snd_shutdown = true;
                    if !queue.is_empty() || embryo {
                        peer_state.error = Some(LxError::ECONNRESET);
                    }
                    let mut wakers = core::mem::take(&mut peer_state.read_wakers);
                    wakers.append(&mut peer_state.write_wakers);
                    drop(peer_state);
                    wake_all(wakers);
                }
            }
            Conn::Listening { pending, .. } => {
                // The connections never accepted are closed too (their clients reset).
                drop(pending);
            }
            _ => {}
        }
        drop(queue);
    }
}
