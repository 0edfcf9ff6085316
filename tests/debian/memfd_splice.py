# SPDX-License-Identifier: GPL-2.0
# memfd_create and splice as Debian's python3 uses them (os.memfd_create, mmap, the seal
# fcntls, os.splice): printed so that the native and contained runs can be compared.
import fcntl
import mmap
import os

fd = os.memfd_create("python", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
os.ftruncate(fd, 4096)
with mmap.mmap(fd, 4096) as shared:
    shared[:5] = b"hello"
    pid = os.fork()
    if pid == 0:
        shared[5:11] = b" child"
        os._exit(0)
    os.waitpid(pid, 0)
    print("the file reads", os.pread(fd, 11, 0))
print("inheritable:", os.get_inheritable(fd), "size:", os.fstat(fd).st_size)
fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW)
print("seals:", fcntl.fcntl(fd, fcntl.F_GET_SEALS))
try:
    os.ftruncate(fd, 100)
except OSError as error:
    print("shrink:", error.strerror)

r, w = os.pipe()
print("spliced from the memfd at 6:", os.splice(fd, w, 5, offset_src=6))
print("memfd offset still", os.lseek(fd, 0, os.SEEK_CUR))
print("through the pipe:", os.read(r, 5))
os.write(w, b"to the file")
out = os.memfd_create("out")
print("spliced into another memfd:", os.splice(r, out, 100))
print("it holds", os.pread(out, 100, 0))
os.set_blocking(r, False)
try:
    os.splice(r, out, 1)
except BlockingIOError:
    print("empty non-blocking pipe: EAGAIN")
print("python memfd splice: done")
