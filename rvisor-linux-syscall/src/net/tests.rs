//! The socket calls through `Syscall::run`, on a scratch container.

use crate::fs::testing::{err, int, run, Sandbox};
use linux_object::LxError;
use std::os::unix::fs::FileTypeExt;
use std::vec;
use std::vec::Vec;

const READ: u32 = 0;
const WRITE: u32 = 1;
const CLOSE: u32 = 3;
const IOCTL: u32 = 16;
const SOCKET: u32 = 41;
const CONNECT: u32 = 42;
const ACCEPT: u32 = 43;
const SENDTO: u32 = 44;
const RECVFROM: u32 = 45;
const SENDMSG: u32 = 46;
const RECVMSG: u32 = 47;
const BIND: u32 = 49;
const LISTEN: u32 = 50;
const GETSOCKNAME: u32 = 51;
const SOCKETPAIR: u32 = 53;
const SETSOCKOPT: u32 = 54;
const GETSOCKOPT: u32 = 55;
const ACCEPT4: u32 = 288;
const PIPE2: u32 = 293;

const AF_UNIX: usize = 1;
const STREAM: usize = 1;
const DGRAM: usize = 2;

fn sockaddr_un(path: &[u8]) -> Vec<u8> {
    let mut address = vec![1, 0];
    address.extend_from_slice(path);
    address
}

fn int_at(sandbox: &Sandbox, addr: usize) -> i32 {
    i32::from_le_bytes(sandbox.user.get_bytes(addr, 4).try_into().unwrap())
}

#[test]
fn socket_checks_flags_type_protocol_and_family() {
    let sandbox = Sandbox::new("socket");
    let sys = sandbox.syscall();
    assert_eq!(run(&sys, SOCKET, &[AF_UNIX, 99, 0]), err(LxError::EINVAL));
    assert_eq!(
        run(&sys, SOCKET, &[AF_UNIX, STREAM | 0x100000, 0]),
        err(LxError::EINVAL)
    );
    assert_eq!(
        run(&sys, SOCKET, &[AF_UNIX, 0, 0]),
        err(LxError::ESOCKTNOSUPPORT)
    );
    assert_eq!(
        run(&sys, SOCKET, &[AF_UNIX, STREAM, 5]),
        err(LxError::EPROTONOSUPPORT)
    );
    assert_eq!(
        run(&sys, SOCKET, &[2, STREAM, 0]),
        err(LxError::EAFNOSUPPORT)
    );
    assert_eq!(run(&sys, SOCKET, &[17, 3, 0]), err(LxError::EPERM));
    assert_eq!(
        run(&sys, SOCKET, &[int(-1), STREAM, 0]),
        err(LxError::EAFNOSUPPORT)
    );
    let fd = run(&sys, SOCKET, &[AF_UNIX, STREAM | 0o2_000_000, 0]);
    assert!(fd >= 0);
    assert!(sys.process.files().cloexec(fd as i32).unwrap());
    let (p, _) = {
        let fds = sandbox.buf(8);
        assert_eq!(run(&sys, PIPE2, &[fds, 0]), 0);
        (int_at(&sandbox, fds) as usize, ())
    };
    assert_eq!(run(&sys, LISTEN, &[p, 1]), err(LxError::ENOTSOCK));
    assert_eq!(run(&sys, LISTEN, &[77, 1]), err(LxError::EBADF));
}

#[test]
fn a_socketpair_echoes_through_read_write_and_sendto_recvfrom() {
    let sandbox = Sandbox::new("pair");
    let sys = sandbox.syscall();
    let sv = sandbox.buf(8);
    assert_eq!(run(&sys, SOCKETPAIR, &[AF_UNIX, STREAM, 0, sv]), 0);
    let (a, b) = (
        int_at(&sandbox, sv) as usize,
        int_at(&sandbox, sv + 4) as usize,
    );
    let data = sandbox.user.put_bytes(b"ping");
    assert_eq!(run(&sys, WRITE, &[a, data, 4]), 4);
    let buf = sandbox.buf(16);
    assert_eq!(run(&sys, READ, &[b, buf, 16]), 4);
    assert_eq!(sandbox.user.get_bytes(buf, 4), b"ping");
    assert_eq!(run(&sys, SENDTO, &[b, data, 2, 0, 0, 0]), 2);
    let avail = sandbox.buf(4);
    assert_eq!(run(&sys, IOCTL, &[a, 0x541B, avail]), 0);
    assert_eq!(int_at(&sandbox, avail), 2);
    assert_eq!(run(&sys, RECVFROM, &[a, buf, 16, 0x40, 0, 0]), 2);
    assert_eq!(
        run(&sys, RECVFROM, &[a, buf, 16, 0x40, 0, 0]),
        err(LxError::EAGAIN)
    );
    assert_eq!(
        run(
            &sys,
            SOCKETPAIR,
            &[AF_UNIX, STREAM, 0, sandbox.user.unmapped()]
        ),
        err(LxError::EFAULT)
    );
    assert_eq!(sys.process.files().len(), 2, "nothing left open");
}

#[test]
fn a_pathname_socket_is_a_socket_inode_and_connects() {
    let sandbox = Sandbox::new("path");
    let sys = sandbox.syscall();
    let server = run(&sys, SOCKET, &[AF_UNIX, STREAM, 0]) as usize;
    let address = sockaddr_un(b"/srv.sock\0");
    let addr = sandbox.user.put_bytes(&address);
    assert_eq!(run(&sys, BIND, &[server, addr, 200]), err(LxError::EINVAL));
    assert_eq!(
        run(&sys, BIND, &[server, addr, int(-1)]),
        err(LxError::EINVAL)
    );
    assert_eq!(
        run(
            &sys,
            BIND,
            &[server, sandbox.user.unmapped(), address.len()]
        ),
        err(LxError::EFAULT)
    );
    assert_eq!(run(&sys, BIND, &[server, addr, address.len()]), 0);
    let meta = std::fs::symlink_metadata(sandbox.host("srv.sock")).unwrap();
    assert!(meta.file_type().is_socket());
    let name = sandbox.buf(128);
    let len = sandbox.user.put_bytes(&128i32.to_le_bytes());
    assert_eq!(run(&sys, GETSOCKNAME, &[server, name, len]), 0);
    assert_eq!(int_at(&sandbox, len), 2 + 9 + 1);
    let other = run(&sys, SOCKET, &[AF_UNIX, STREAM, 0]) as usize;
    assert_eq!(
        run(&sys, BIND, &[other, addr, address.len()]),
        err(LxError::EADDRINUSE)
    );
    assert_eq!(
        run(&sys, CONNECT, &[other, addr, address.len()]),
        err(LxError::ECONNREFUSED)
    );
    assert_eq!(run(&sys, LISTEN, &[server, 4]), 0);
    assert_eq!(run(&sys, CONNECT, &[other, addr, address.len()]), 0);
    assert_eq!(run(&sys, ACCEPT4, &[server, 0, 0, 1]), err(LxError::EINVAL));
    let peer = sandbox.buf(128);
    let peer_len = sandbox.user.put_bytes(&128i32.to_le_bytes());
    let accepted = run(&sys, ACCEPT, &[server, peer, peer_len]);
    assert!(accepted >= 0);
    assert_eq!(int_at(&sandbox, peer_len), 2, "an unbound client's name");
    // A socket file the host made has no rVisor listener.
    std::os::unix::net::UnixListener::bind(sandbox.host("host.sock")).unwrap();
    let host = sandbox.user.put_bytes(&sockaddr_un(b"/host.sock\0"));
    let third = run(&sys, SOCKET, &[AF_UNIX, STREAM, 0]) as usize;
    assert_eq!(
        run(&sys, CONNECT, &[third, host, 13]),
        err(LxError::ECONNREFUSED)
    );
    assert_eq!(run(&sys, CLOSE, &[server]), 0);
}

#[test]
fn rights_pass_a_pipe_through_sendmsg_and_recvmsg() {
    let sandbox = Sandbox::new("rights");
    let sys = sandbox.syscall();
    let sv = sandbox.buf(8);
    assert_eq!(run(&sys, SOCKETPAIR, &[AF_UNIX, DGRAM, 0, sv]), 0);
    let (a, b) = (
        int_at(&sandbox, sv) as usize,
        int_at(&sandbox, sv + 4) as usize,
    );
    let fds = sandbox.buf(8);
    assert_eq!(run(&sys, PIPE2, &[fds, 0]), 0);
    let (reader, writer) = (int_at(&sandbox, fds), int_at(&sandbox, fds + 4));
    // struct cmsghdr { len 20, SOL_SOCKET, SCM_RIGHTS } + the fd, padded.
    let mut control = Vec::new();
    control.extend_from_slice(&20u64.to_le_bytes());
    control.extend_from_slice(&1i32.to_le_bytes());
    control.extend_from_slice(&1i32.to_le_bytes());
    control.extend_from_slice(&reader.to_le_bytes());
    control.extend_from_slice(&[0; 4]);
    let control = sandbox.user.put_bytes(&control);
    let data = sandbox.user.put_bytes(b"x");
    let iov = sandbox
        .user
        .put_bytes(&[data.to_le_bytes(), 1usize.to_le_bytes()].concat());
    let msghdr = |control: usize, controllen: usize| {
        let mut raw = Vec::new();
        for word in [0usize, 0, iov, 1, control, controllen, 0] {
            raw.extend_from_slice(&word.to_le_bytes());
        }
        sandbox.user.put_bytes(&raw)
    };
    assert_eq!(run(&sys, SENDMSG, &[a, msghdr(control, 24), 0]), 1);
    assert_eq!(run(&sys, CLOSE, &[reader as usize]), 0);
    let text = sandbox.user.put_bytes(b"via passed fd");
    assert_eq!(run(&sys, WRITE, &[writer as usize, text, 13]), 13);
    let received = sandbox.buf(24);
    let header = msghdr(received, 24);
    assert_eq!(run(&sys, RECVMSG, &[b, header, 0x40000000]), 1);
    let controllen = u64::from_le_bytes(sandbox.user.get_bytes(header + 40, 8).try_into().unwrap());
    assert_eq!(controllen, 24);
    let fd = int_at(&sandbox, received + 16);
    assert!(sys.process.files().cloexec(fd).unwrap());
    let buf = sandbox.buf(16);
    assert_eq!(run(&sys, READ, &[fd as usize, buf, 16]), 13);
    // A descriptor not open in SCM_RIGHTS is EBADF.
    let mut bad = sandbox.user.get_bytes(control, 24);
    bad[16..20].copy_from_slice(&77i32.to_le_bytes());
    let bad = sandbox.user.put_bytes(&bad);
    assert_eq!(
        run(&sys, SENDMSG, &[a, msghdr(bad, 24), 0]),
        err(LxError::EBADF)
    );
}

#[test]
fn options_report_type_buffers_and_peer_credentials() {
    let sandbox = Sandbox::new("options");
    let sys = sandbox.syscall();
    let sv = sandbox.buf(8);
    assert_eq!(run(&sys, SOCKETPAIR, &[AF_UNIX, STREAM, 0, sv]), 0);
    let a = int_at(&sandbox, sv) as usize;
    let value = sandbox.buf(16);
    let len = sandbox.user.put_bytes(&16i32.to_le_bytes());
    assert_eq!(run(&sys, GETSOCKOPT, &[a, 1, 17, value, len]), 0);
    assert_eq!(int_at(&sandbox, len), 12);
    assert_eq!(int_at(&sandbox, value) as u32, sys.process.pid());
    let one = sandbox.user.put_bytes(&1i32.to_le_bytes());
    assert_eq!(run(&sys, SETSOCKOPT, &[a, 1, 7, one, 4]), 0);
    let len = sandbox.user.put_bytes(&4i32.to_le_bytes());
    assert_eq!(run(&sys, GETSOCKOPT, &[a, 1, 7, value, len]), 0);
    assert_eq!(int_at(&sandbox, value), 4608);
    assert_eq!(
        run(&sys, SETSOCKOPT, &[a, 1, 7, one, 2]),
        err(LxError::EINVAL)
    );
    assert_eq!(
        run(&sys, SETSOCKOPT, &[a, 1, 7, one, int(-1)]),
        err(LxError::EINVAL)
    );
    assert_eq!(
        run(&sys, GETSOCKOPT, &[a, 1, 999, value, len]),
        err(LxError::ENOPROTOOPT)
    );
}
