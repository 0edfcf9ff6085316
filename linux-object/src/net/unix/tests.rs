use super::*;
use crate::test_executor::{poll_once, CountingWaker};
use alloc::string::String;
use std::pin::pin;

const CRED: UCred = UCred {
    pid: 7,
    uid: 1000,
    gid: 100,
};

/// A context with its own namespace and no filesystem (abstract names only).
struct Abstract(Arc<UnixNamespace>);

impl SocketContext for Abstract {
    fn peer_credentials(&self) -> UCred {
        CRED
    }
    fn message_credentials(&self) -> UCred {
        CRED
    }
    fn unix_namespace(&self) -> LxResult<Arc<UnixNamespace>> {
        Ok(self.0.clone())
    }
    fn create_socket_node(&self, _path: &[u8]) -> LxResult<NodeKey> {
        Err(LxError::EROFS)
    }
    fn remove_socket_node(&self, _path: &[u8]) {}
    fn find_socket_node(&self, _path: &[u8]) -> LxResult<NodeKey> {
        Err(LxError::ENOENT)
    }
}

fn abstract_address(name: &str) -> Vec<u8> {
    let mut address = unnamed();
    address.push(0);
    address.extend_from_slice(name.as_bytes());
    address
}

fn recv(socket: &UnixSocket, len: usize, flags: MsgFlags) -> LxResult<(Vec<u8>, Received)> {
    let mut buf = alloc::vec![0; len];
    let received = socket
        .try_recv(None, &mut buf, flags)
        .unwrap_or(Err(LxError::EAGAIN))?;
    buf.truncate(received.len);
    Ok((buf, received))
}

fn pair(kind: SocketType) -> (Arc<UnixSocket>, Arc<UnixSocket>) {
    UnixSocket::pair(kind, OpenFlags::empty(), CRED, (0, 0))
}

#[test]
fn a_stream_pair_carries_bytes_both_ways_and_ends_with_eof() {
    let (a, b) = pair(SocketType::Stream);
    assert_eq!(a.write(b"hello "), Ok(6));
    assert_eq!(a.write(b"world"), Ok(5));
    let (data, _) = recv(&b, 64, MsgFlags::empty()).unwrap();
    assert_eq!(String::from_utf8(data).unwrap(), "hello world");
    assert_eq!(b.write(b"back"), Ok(4));
    assert_eq!(recv(&a, 2, MsgFlags::empty()).unwrap().0, b"ba");
    assert_eq!(recv(&a, 9, MsgFlags::PEEK).unwrap().0, b"ck");
    assert_eq!(recv(&a, 9, MsgFlags::empty()).unwrap().0, b"ck");
    assert_eq!(a.read(&mut [0; 4]), Err(LxError::EAGAIN));
    a.shutdown(Shutdown::Write).unwrap();
    assert_eq!(b.read(&mut [0; 4]), Ok(0), "peer's SHUT_WR is end of file");
    assert_eq!(a.write(b"x"), Err(LxError::EPIPE));
    drop(b);
    assert_eq!(a.read(&mut [0; 4]), Ok(0));
    assert!(a
        .poll_events(None)
        .contains(PollEvents::HUP | PollEvents::RDHUP));
}

#[test]
fn closing_with_unread_data_resets_the_peer_once() {
    let (a, b) = pair(SocketType::Stream);
    b.write(b"unread").unwrap();
    drop(a);
    assert_eq!(b.read(&mut [0; 4]), Err(LxError::ECONNRESET));
    assert_eq!(b.read(&mut [0; 4]), Ok(0));
    assert_eq!(b.write(b"x"), Err(LxError::EPIPE));
}

#[test]
fn datagrams_keep_their_boundaries_and_truncate() {
    let (a, b) = pair(SocketType::Datagram);
    a.write(b"first").unwrap();
    a.write(b"second").unwrap();
    let (data, received) = recv(&b, 3, MsgFlags::empty()).unwrap();
    assert_eq!(data, b"fir");
    assert_eq!(received.full_len, 5);
    assert!(received.flags.contains(MsgFlags::TRUNC));
    assert_eq!(recv(&b, 64, MsgFlags::empty()).unwrap().0, b"second");
    let (a, b) = pair(SocketType::SeqPacket);
    a.write(b"one").unwrap();
    a.write(b"two").unwrap();
    assert_eq!(recv(&b, 64, MsgFlags::empty()).unwrap().0, b"one");
    drop(a);
    assert_eq!(recv(&b, 64, MsgFlags::empty()).unwrap().0, b"two");
    assert_eq!(b.read(&mut [0; 4]), Ok(0));
    assert_eq!(b.write(b"x"), Err(LxError::EPIPE));
}

#[test]
fn a_blocked_reader_is_woken_by_the_writer() {
    let (a, b) = pair(SocketType::Stream);
    let (counter, waker) = CountingWaker::new();
    let mut buf = [0; 8];
    let mut read = pin!(crate::fs::read_file(&*b, &mut buf));
    assert!(poll_once(read.as_mut(), &waker).is_pending());
    a.write(b"hi").unwrap();
    assert_eq!(counter.wakes(), 1);
    assert_eq!(poll_once(read.as_mut(), &waker), Poll::Ready(Ok(2)));
}

#[test]
fn listen_connect_accept_by_abstract_name() {
    let namespace = UnixNamespace::new(0);
    let ctx = Abstract(namespace.clone());
    let listener = UnixSocket::new(SocketType::Stream, OpenFlags::empty(), CRED, (0, 0));
    let address = abstract_address("srv");
    listener.bind(&ctx, &address).unwrap();
    assert_eq!(listener.bind(&ctx, &address), Err(LxError::EINVAL));
    let other = UnixSocket::new(SocketType::Stream, OpenFlags::empty(), CRED, (0, 0));
    assert_eq!(other.bind(&ctx, &address), Err(LxError::EADDRINUSE));
    let client = UnixSocket::new(SocketType::Stream, OpenFlags::empty(), CRED, (0, 0));
    assert_eq!(
        client.try_connect(None, &ctx, &address),
        Some(Err(LxError::ECONNREFUSED))
    );
    listener.listen(&ctx, 0).unwrap();
    assert_eq!(client.try_connect(None, &ctx, &address), Some(Ok(())));
    // Backlog 0 takes one pending connection; the next waits.
    let second = UnixSocket::new(SocketType::Stream, OpenFlags::empty(), CRED, (0, 0));
    assert_eq!(
        second.try_connect(None, &ctx, &address),
        Some(Err(LxError::EAGAIN))
    );
    assert!(listener.poll_events(None).contains(PollEvents::IN));
    let (server, peer) = listener.try_accept(None).unwrap().unwrap();
    assert_eq!(peer, unnamed());
    assert_eq!(server.local_address().unwrap(), address);
    assert_eq!(client.peer_address().unwrap(), address);
    client.write(b"ping").unwrap();
    assert_eq!(recv(&server, 8, MsgFlags::empty()).unwrap().0, b"ping");
    // The refused attempt left the second socket clean: it connects once there is room.
    assert_eq!(second.try_connect(None, &ctx, &address), Some(Ok(())));
    assert_eq!(second.write(b"ok"), Ok(2));
    let (server2, _) = listener.try_accept(None).unwrap().unwrap();
    assert_eq!(recv(&server2, 8, MsgFlags::empty()).unwrap().0, b"ok");
    let wrong = UnixSocket::new(SocketType::Datagram, OpenFlags::empty(), CRED, (0, 0));
    assert_eq!(
        wrong.connect_datagram(&ctx, &address),
        Err(LxError::EPROTOTYPE)
    );
    drop(listener);
    let late = UnixSocket::new(SocketType::Stream, OpenFlags::empty(), CRED, (0, 0));
    assert_eq!(
        late.try_connect(None, &ctx, &address),
        Some(Err(LxError::ECONNREFUSED))
    );
    // Another namespace (another container) never sees the name.
    let elsewhere = Abstract(UnixNamespace::new(0));
    let rebound = UnixSocket::new(SocketType::Stream, OpenFlags::empty(), CRED, (0, 0));
    rebound.bind(&elsewhere, &address).unwrap();
}

#[test]
fn autobind_gives_five_hex_digits() {
    let ctx = Abstract(UnixNamespace::new(0xabcde));
    let socket = UnixSocket::new(SocketType::Datagram, OpenFlags::empty(), CRED, (0, 0));
    socket.bind(&ctx, &unnamed()).unwrap();
    let address = socket.local_address().unwrap();
    assert_eq!(&address[2..], b"\0abcde");
}

#[test]
fn rights_travel_with_the_message_and_keep_the_file_alive() {
    let (a, b) = pair(SocketType::Stream);
    let (reader, writer) = crate::fs::Pipe::new_pair(OpenFlags::empty());
    let message = SendMessage {
        data: SendData::Kernel(b"x"),
        flags: MsgFlags::empty(),
        address: None,
        control: alloc::vec![ControlMessage::Rights(alloc::vec![
            reader as Arc<dyn FileLike>
        ])],
    };
    assert_eq!(a.try_send(None, None, b"x", &message, CRED), Some(Ok(1)));
    writer.write(b"through").unwrap();
    let (_, received) = recv(&b, 8, MsgFlags::empty()).unwrap();
    let Some(ControlMessage::Rights(files)) = received.control.first() else {
        panic!("no rights: {:?}", received.control);
    };
    let mut buf = [0; 16];
    assert_eq!(files[0].read(&mut buf), Ok(7));
}

#[test]
fn buffer_sizes_double_with_minimums() {
    assert_eq!(buffer_size(1, false, MIN_SNDBUF), MIN_SNDBUF);
    assert_eq!(buffer_size(10_000, false, MIN_SNDBUF), 20_000);
    assert_eq!(buffer_size(-1, false, MIN_SNDBUF), MAX_BUFFER * 2);
}

#[test]
fn a_stream_carries_a_large_transfer_between_threads() {
    let (a, b) = pair(SocketType::Stream);
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let expected = data.clone();
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = [0; 7000];
        loop {
            match crate::test_executor::block_on(crate::fs::read_file(&*b, &mut buf)) {
                Ok(0) => return got,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(error) => panic!("read failed: {error}"),
            }
        }
    });
    let written = crate::test_executor::block_on(crate::fs::write_file(&*a, &data));
    assert_eq!(written, Ok(data.len()));
    drop(a);
    assert_eq!(reader.join().unwrap(), expected);
}

#[test]
fn poll_events_follow_data_shutdown_and_close() {
    let (a, b) = pair(SocketType::Stream);
    let out = PollEvents::OUT | PollEvents::WRNORM | PollEvents::WRBAND;
    assert_eq!(a.poll_events(None), out);
    let (counter, waker) = CountingWaker::new();
    let cx = Context::from_waker(&waker);
    assert_eq!(b.poll_events(Some(&cx)), out);
    a.write(b"x").unwrap();
    assert_eq!(counter.wakes(), 1, "data wakes a waiting poll");
    assert!(b.poll_events(None).contains(PollEvents::IN));
    a.shutdown(Shutdown::Write).unwrap();
    assert!(b.poll_events(None).contains(PollEvents::RDHUP));
    drop(a);
    assert!(b
        .poll_events(None)
        .contains(PollEvents::HUP | PollEvents::IN));
    let lonely = UnixSocket::new(SocketType::Stream, OpenFlags::empty(), CRED, (0, 0));
    assert_eq!(lonely.poll_events(None), out | PollEvents::HUP);
}

#[test]
fn a_passcred_sender_is_autobound_and_its_credentials_travel() {
    let ctx = Abstract(UnixNamespace::new(1));
    let receiver = UnixSocket::new(SocketType::Datagram, OpenFlags::empty(), CRED, (0, 0));
    let address = abstract_address("r");
    receiver.bind(&ctx, &address).unwrap();
    receiver
        .setsockopt(
            SOL_SOCKET,
            SO_PASSCRED,
            OptionIn {
                user: 0,
                len: 4,
                bytes: &1i32.to_le_bytes(),
            },
        )
        .unwrap();
    let sender = UnixSocket::new(SocketType::Datagram, OpenFlags::empty(), CRED, (0, 0));
    sender
        .setsockopt(
            SOL_SOCKET,
            SO_PASSCRED,
            OptionIn {
                user: 0,
                len: 4,
                bytes: &1i32.to_le_bytes(),
            },
        )
        .unwrap();
    let message = SendMessage {
        data: SendData::Kernel(b"hi"),
        flags: MsgFlags::empty(),
        address: Some(&address),
        control: Vec::new(),
    };
    assert_eq!(
        sender.try_send(None, Some(&ctx), b"hi", &message, CRED),
        Some(Ok(2))
    );
    let (_, received) = recv(&receiver, 8, MsgFlags::empty()).unwrap();
    assert_eq!(
        received.address.len(),
        8,
        "autobound: family, NUL, 5 hex digits"
    );
    assert!(
        matches!(received.control.first(), Some(ControlMessage::Credentials(cred)) if *cred == CRED)
    );
}
