# SPDX-License-Identifier: GPL-2.0
# Debian's python3 waiting on many things: selectors.EpollSelector over a pipe and an
# eventfd, select.epoll directly (edge-triggered, one-shot, hang-up), and a thread waking a
# blocked selector. Run natively (chroot /debian) and contained; the outputs must be the same.
import os
import select
import selectors
import threading
import time

sel = selectors.EpollSelector()
r, w = os.pipe()
efd = os.eventfd(0, os.EFD_SEMAPHORE | os.EFD_NONBLOCK)
sel.register(r, selectors.EVENT_READ, "pipe")
sel.register(efd, selectors.EVENT_READ, "eventfd")
print("nothing ready", sel.select(0))
os.write(w, b"hello")
os.eventfd_write(efd, 2)
ready = sorted((key.data, mask) for key, mask in sel.select(0))
print("ready", ready)
print("pipe read", os.read(r, 16))
print("eventfd reads", os.eventfd_read(efd), os.eventfd_read(efd))
print("after reads", sel.select(0))


def later():
    time.sleep(0.1)
    os.write(w, b"x")


thread = threading.Thread(target=later)
thread.start()
print("woken", [key.data for key, _ in sel.select(5)])
thread.join()
os.read(r, 1)
sel.unregister(r)
sel.close()

ep = select.epoll()


def poll():
    return [(fd == r, events) for fd, events in ep.poll(0)]


ep.register(r, select.EPOLLIN | select.EPOLLET)
os.write(w, b"ab")
print("edge", poll(), poll())
ep.modify(r, select.EPOLLIN | select.EPOLLONESHOT)
print("oneshot", poll(), poll())
try:
    ep.register(r, select.EPOLLIN)
except FileExistsError as error:
    print("register again", error.strerror)
os.close(w)
ep.modify(r, select.EPOLLIN)
print("hang-up", poll())
ep.close()

print("python epoll: done")
