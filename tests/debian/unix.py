# SPDX-License-Identifier: GPL-2.0
# Debian's python3 over AF_UNIX sockets: socketpair, a threaded echo server on a pathname
# socket (socketserver, which waits with poll), a client in another process, descriptors
# passed with SCM_RIGHTS, abstract names and peer credentials. Run natively (chroot /debian)
# and contained; the outputs must be the same.
import os
import socket
import socketserver
import struct
import threading

a, b = socket.socketpair()
a.sendall(b"over a socketpair")
print("socketpair", b.recv(64))
a.close()
print("after close", b.recv(64))
b.close()

a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
a.send(b"one")
a.send(b"two")
print("datagrams", b.recv(64), b.recv(64))
a.close()
b.close()

PATH = "/tmp/python-unix.sock"
if os.path.exists(PATH):
    os.unlink(PATH)


class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(b"echo: " + line)


server = socketserver.ThreadingUnixStreamServer(PATH, Echo)
thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
thread.start()
print("server bound", os.path.exists(PATH), oct(os.stat(PATH).st_mode))

pid = os.fork()
if pid == 0:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(PATH)
    stream = client.makefile("rwb")
    for word in (b"alpha", b"beta", b"gamma"):
        stream.write(word + b"\n")
        stream.flush()
        print("child got", stream.readline().strip().decode(), flush=True)
    client.close()
    os._exit(0)
_, status = os.waitpid(pid, 0)
print("child status", os.waitstatus_to_exitcode(status))
server.shutdown()
server.server_close()
thread.join()
os.unlink(PATH)

left, right = socket.socketpair()
r, w = os.pipe()
socket.send_fds(left, [b"fd"], [r])
os.close(r)
os.write(w, b"through a passed pipe")
os.close(w)
msg, fds, flags, _ = socket.recv_fds(right, 16, 4)
print("recv_fds", msg, len(fds), flags)
print("read", os.read(fds[0], 64))
creds = right.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
pid, uid, gid = struct.unpack("3i", creds)
print("peer cred is me", pid == os.getpid(), uid == os.geteuid(), gid == os.getegid())
left.close()
right.close()

listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
listener.bind("\0python-abstract")
listener.listen(1)
print("abstract name", listener.getsockname())
client = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
client.connect("\0python-abstract")
conn, addr = listener.accept()
client.send(b"record")
print("seqpacket", conn.recv(3), repr(addr))
try:
    socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).connect("/tmp/nothing-here.sock")
except OSError as error:
    print("connect missing", error.strerror)
print("python unix: done")
