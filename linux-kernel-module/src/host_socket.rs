//! [`HostSocket`]: a host kernel socket (AF_INET, AF_INET6, NETLINK_ROUTE) created in the
//! calling task's network namespace and held as a host `struct file`, for rVisor to wrap as a
//! descriptor of its own.
//!
//! Every operation runs on the calling task, with the caller's user addresses: the shim
//! (`rvisor_net.c`) copies addresses and message headers and hands the caller's buffers to the
//! host as user `iov_iter`s, so data moves once, between the program and the socket. A call
//! that must wait sleeps in the host, interruptibly; the host's `-ERESTARTSYS` comes back as
//! [`Error::ERESTARTSYS`] for the gate to hand to the signal code, as the real syscall would.
//!
//! Readiness: [`HostSocket::poll`] hooks one entry on the socket's wait queue (at the first
//! poll that has a waker); every host wake-up of the socket wakes the wakers registered since
//! the last one. That wake-up runs in the host's wake-up context (atomic, maybe softirq):
//! wakers the caller marks as safe there (a thread's bell: a flag and a wait-queue wake-up)
//! are woken at once; any other (an epoll item's, which takes a sleeping lock) from a
//! workqueue, in process context.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::ptr::NonNull;
use core::task::Waker;

use crate::bindings;
use crate::error::{Error, Result};
use crate::vfs::Stat;

/// The wakers waiting for a socket's readiness, guarded by its watch's interrupt-safe lock;
/// also the context the watch's wake function is given.
struct Wakers {
    /// The watch whose lock guards the lists (set once, before the watch can wake anyone).
    watch: *mut bindings::rvisor_sock_watch,
    /// Wakers that may be woken in the host's wake-up context.
    now: UnsafeCell<Vec<Waker>>,
    /// Wakers woken later, in process context.
    later: UnsafeCell<Vec<Waker>>,
}

/// A counted host socket file, with its readiness watch.
pub struct HostSocket {
    file: NonNull<bindings::file>,
    watch: NonNull<bindings::rvisor_sock_watch>,
    /// Boxed: the watch's wake function holds its address.
    wakers: Box<Wakers>,
}

// SAFETY: a counted `struct file` whose socket the host serialises (the socket lock); the
// wakers are only touched under the watch's lock.
unsafe impl Send for HostSocket {}
// SAFETY: as above: every operation through `&HostSocket` is one the host allows concurrently.
unsafe impl Sync for HostSocket {}

/// The watch's wake function (host wake-up context): wakes and forgets the wakers that may
/// be woken here, and has the others woken from process context.
extern "C" fn woken(ctx: *mut c_void) {
    // SAFETY: `ctx` is the boxed `Wakers` of a live `HostSocket`: the watch is unhooked (and
    // no wake runs any more) before the box is dropped.
    let wakers = unsafe { &*(ctx as *const Wakers) };
    let Some(watch) = NonNull::new(wakers.watch) else {
        return;
    };
    let defer = {
        let _guard = WatchGuard::lock(watch);
        // SAFETY: the lock is held.
        let now = unsafe { &mut *wakers.now.get() };
        // Drained in place: the capacity stays, so nothing is allocated here; only the
        // wakers' own references are dropped.
        for waker in now.drain(..) {
            waker.wake();
        }
        // SAFETY: the lock is held.
        !unsafe { &*wakers.later.get() }.is_empty()
    };
    if defer {
        // SAFETY: the watch is live (see above); scheduling work is allowed in any context.
        unsafe { bindings::rvisor_sock_watch_defer(watch.as_ptr()) };
    }
}

/// The watch's deferred wake (process context): wakes and forgets the other wakers.
extern "C" fn woken_later(ctx: *mut c_void) {
    // SAFETY: as for `woken`: the watch's work is cancelled before the box is dropped.
    let wakers = unsafe { &*(ctx as *const Wakers) };
    let Some(watch) = NonNull::new(wakers.watch) else {
        return;
    };
    let taken = {
        let _guard = WatchGuard::lock(watch);
        // SAFETY: the lock is held.
        core::mem::take(unsafe { &mut *wakers.later.get() })
    };
    // Outside the lock: these wakers may take locks of their own, and sleep.
    for waker in taken {
        waker.wake();
    }
}

impl HostSocket {
    /// `socket(family, ty, protocol)` (`ty` without `SOCK_NONBLOCK`/`SOCK_CLOEXEC`) in the
    /// calling task's network namespace, with the host's errors.
    pub fn open(family: i32, ty: i32, protocol: i32) -> Result<Self> {
        let mut err: core::ffi::c_long = 0;
        // SAFETY: process context; `err` is writable.
        let file = unsafe { bindings::rvisor_sock_open(family, ty, protocol, &mut err) };
        match NonNull::new(file) {
            Some(file) => Self::wrap(file),
            None => Err(Error::from_kernel(err).unwrap_or(Error::EINVAL)),
        }
    }

    /// Takes over a counted socket file (fput if this fails).
    fn wrap(file: NonNull<bindings::file>) -> Result<Self> {
        let release = |error| {
            // SAFETY: the reference handed to us.
            unsafe { bindings::rvisor_file_put(file.as_ptr()) };
            Err(error)
        };
        let mut wakers = Box::new(Wakers {
            watch: core::ptr::null_mut(),
            now: UnsafeCell::new(Vec::new()),
            later: UnsafeCell::new(Vec::new()),
        });
        let context: *const Wakers = &*wakers;
        // SAFETY: `woken` matches the callback type; `context` stays valid until the watch is
        // freed (drop frees the watch before the box).
        let watch = unsafe {
            bindings::rvisor_sock_watch_new(Some(woken), Some(woken_later), context as *mut c_void)
        };
        let Some(watch) = NonNull::new(watch) else {
            return release(Error::ENOMEM);
        };
        // No wake can run before the first poll hooks the watch.
        wakers.watch = watch.as_ptr();
        Ok(Self {
            file,
            watch,
            wakers,
        })
    }

    fn f(&self) -> *mut bindings::file {
        self.file.as_ptr()
    }

    /// The socket's family (`SO_DOMAIN`).
    pub fn family(&self) -> i32 {
        // SAFETY: the file is held and is a socket.
        unsafe { bindings::rvisor_sock_family(self.f()) }
    }

    /// `bind(addr, addrlen)`.
    pub fn bind(&self, addr: usize, addrlen: i32) -> Result<usize> {
        // SAFETY: the file is held; `addr` is the caller's, copied with the host's checks.
        check(unsafe { bindings::rvisor_sock_bind(self.f(), addr as _, addrlen) })
    }

    /// `connect(addr, addrlen)`; `nonblock`: `EINPROGRESS` instead of waiting.
    pub fn connect(&self, addr: usize, addrlen: i32, nonblock: bool) -> Result<usize> {
        // SAFETY: as `bind`; process context (may sleep).
        check(unsafe { bindings::rvisor_sock_connect(self.f(), addr as _, addrlen, nonblock) })
    }

    /// `listen(backlog)`.
    pub fn listen(&self, backlog: i32) -> Result<usize> {
        // SAFETY: the file is held.
        check(unsafe { bindings::rvisor_sock_listen(self.f(), backlog) })
    }

    /// `accept4`'s work: the new connection, its peer's address written at `addr`/`addrlen`
    /// (when `addr` is not null) as the host writes it.
    pub fn accept(&self, addr: usize, addrlen: usize, nonblock: bool) -> Result<HostSocket> {
        let mut new: *mut bindings::file = core::ptr::null_mut();
        // SAFETY: the file is held; user pointers are the caller's; `new` is writable.
        check(unsafe {
            bindings::rvisor_sock_accept(self.f(), addr as _, addrlen as _, nonblock, &mut new)
        })?;
        let new = NonNull::new(new).ok_or(Error::EIO)?;
        Self::wrap(new)
    }

    /// `getsockname` (`peer` false) or `getpeername`.
    pub fn name(&self, addr: usize, addrlen: usize, peer: bool) -> Result<usize> {
        // SAFETY: the file is held; user pointers are the caller's.
        check(unsafe { bindings::rvisor_sock_name(self.f(), addr as _, addrlen as _, peer) })
    }

    /// `shutdown(how)`.
    pub fn shutdown(&self, how: i32) -> Result<usize> {
        // SAFETY: the file is held.
        check(unsafe { bindings::rvisor_sock_shutdown(self.f(), how) })
    }

    /// `setsockopt(level, name, value, len)` with the caller's value.
    pub fn setsockopt(&self, level: i32, name: i32, value: usize, len: i32) -> Result<usize> {
        // SAFETY: the file is held; the host reads `value` through a user sockptr.
        check(unsafe { bindings::rvisor_sock_setsockopt(self.f(), level, name, value as _, len) })
    }

    /// `getsockopt(level, name, value, lenp)` with the caller's buffers.
    pub fn getsockopt(&self, level: i32, name: i32, value: usize, len: usize) -> Result<usize> {
        // SAFETY: the file is held; user pointers are the caller's.
        check(unsafe {
            bindings::rvisor_sock_getsockopt(self.f(), level, name, value as _, len as _)
        })
    }

    /// `sendmsg(msg, flags)`.
    pub fn sendmsg(&self, msg: usize, flags: u32, nonblock: bool) -> Result<usize> {
        // SAFETY: the file is held; `msg` is the caller's.
        check(unsafe { bindings::rvisor_sock_sendmsg(self.f(), msg as _, flags, nonblock) })
    }

    /// `recvmsg(msg, flags)`.
    pub fn recvmsg(&self, msg: usize, flags: u32, nonblock: bool) -> Result<usize> {
        // SAFETY: the file is held; `msg` is the caller's.
        check(unsafe { bindings::rvisor_sock_recvmsg(self.f(), msg as _, flags, nonblock) })
    }

    /// `sendto(buf, len, flags, addr, addrlen)`.
    pub fn sendto(
        &self,
        buf: usize,
        len: usize,
        flags: u32,
        addr: usize,
        addrlen: i32,
        nonblock: bool,
    ) -> Result<usize> {
        // SAFETY: the file is held; user pointers are the caller's.
        check(unsafe {
            bindings::rvisor_sock_sendto(
                self.f(),
                buf as _,
                len as _,
                flags,
                addr as _,
                addrlen,
                nonblock,
            )
        })
    }

    /// `recvfrom(buf, len, flags, addr, addrlen)`.
    pub fn recvfrom(
        &self,
        buf: usize,
        len: usize,
        flags: u32,
        addr: usize,
        addrlen: usize,
        nonblock: bool,
    ) -> Result<usize> {
        // SAFETY: the file is held; user pointers are the caller's.
        check(unsafe {
            bindings::rvisor_sock_recvfrom(
                self.f(),
                buf as _,
                len as _,
                flags,
                addr as _,
                addrlen as _,
                nonblock,
            )
        })
    }

    /// `sendmmsg(msgvec, vlen, flags)`.
    pub fn sendmmsg(&self, vec: usize, vlen: u32, flags: u32, nonblock: bool) -> Result<usize> {
        // SAFETY: the file is held; `vec` is the caller's.
        check(unsafe { bindings::rvisor_sock_sendmmsg(self.f(), vec as _, vlen, flags, nonblock) })
    }

    /// `recvmmsg(msgvec, vlen, flags, timeout)`.
    pub fn recvmmsg(
        &self,
        vec: usize,
        vlen: u32,
        flags: u32,
        timeout: usize,
        nonblock: bool,
    ) -> Result<usize> {
        // SAFETY: the file is held; user pointers are the caller's.
        check(unsafe {
            bindings::rvisor_sock_recvmmsg(self.f(), vec as _, vlen, flags, timeout as _, nonblock)
        })
    }

    /// `readv(iov, iovcnt)`.
    pub fn readv(&self, iov: usize, iovcnt: usize, nonblock: bool) -> Result<usize> {
        // SAFETY: the file is held; `iov` is the caller's.
        check(unsafe { bindings::rvisor_sock_readv(self.f(), iov as _, iovcnt as _, nonblock) })
    }

    /// `writev(iov, iovcnt)`: `EPIPE` without the host's `SIGPIPE` (rVisor raises it).
    pub fn writev(&self, iov: usize, iovcnt: usize, nonblock: bool) -> Result<usize> {
        // SAFETY: the file is held; `iov` is the caller's.
        check(unsafe { bindings::rvisor_sock_writev(self.f(), iov as _, iovcnt as _, nonblock) })
    }

    /// `read(buf, len)` into the caller's memory.
    pub fn read_user(&self, buf: usize, len: usize, nonblock: bool) -> Result<usize> {
        // SAFETY: the file is held; `buf` is the caller's.
        check(unsafe { bindings::rvisor_sock_read_user(self.f(), buf as _, len as _, nonblock) })
    }

    /// `write(buf, len)` from the caller's memory, as [`HostSocket::writev`].
    pub fn write_user(&self, buf: usize, len: usize, nonblock: bool) -> Result<usize> {
        // SAFETY: the file is held; `buf` is the caller's.
        check(unsafe { bindings::rvisor_sock_write_user(self.f(), buf as _, len as _, nonblock) })
    }

    /// Reads into a kernel buffer without waiting.
    pub fn read(&self, buf: &mut [u8]) -> Result<usize> {
        // SAFETY: `buf` is writable for its length; the file is held.
        check(unsafe {
            bindings::rvisor_sock_read_kernel(self.f(), buf.as_mut_ptr().cast(), buf.len() as _)
        })
    }

    /// Writes from a kernel buffer without waiting.
    pub fn write(&self, buf: &[u8]) -> Result<usize> {
        // SAFETY: `buf` is readable for its length; the file is held.
        check(unsafe {
            bindings::rvisor_sock_write_kernel(self.f(), buf.as_ptr().cast(), buf.len() as _)
        })
    }

    /// `ioctl(cmd, arg)` on the socket, `arg` the caller's.
    pub fn ioctl(&self, cmd: u32, arg: usize) -> Result<usize> {
        // SAFETY: the file is held; process context of the task whose pointer `arg` may be.
        check(unsafe { bindings::rvisor_sock_ioctl(self.f(), cmd, arg as _) })
    }

    /// `fstat` of the socket's file (`S_IFSOCK`, sockfs inode).
    pub fn stat(&self) -> Result<Stat> {
        let mut stat = core::mem::MaybeUninit::<Stat>::uninit();
        // SAFETY: `stat` is valid for a write; the file is held.
        let ret = unsafe { bindings::rvisor_host_file_stat(self.f(), stat.as_mut_ptr()) };
        Error::check(ret.into())?;
        // SAFETY: on success every field was written.
        Ok(unsafe { stat.assume_init() })
    }

    /// The socket's readiness (`EPOLL*` bits); with `waker`, registers it to be woken at the
    /// socket's next wake-up first, so no event between the two is lost. `atomic_safe`: the
    /// waker may be woken in the host's wake-up context (else it is woken from a workqueue).
    pub fn poll(&self, waker: Option<&Waker>, atomic_safe: bool) -> u32 {
        let watch = match waker {
            Some(waker) => {
                self.register(waker, atomic_safe);
                self.watch.as_ptr()
            }
            None => core::ptr::null_mut(),
        };
        // SAFETY: the file is held; the watch lives as long as `self`.
        unsafe { bindings::rvisor_sock_poll(self.f(), watch) }
    }

    /// Adds `waker` unless an equivalent one waits already; the list only grows outside the
    /// lock (interrupts are off under it: no allocation there).
    fn register(&self, waker: &Waker, atomic_safe: bool) {
        let cell = if atomic_safe {
            &self.wakers.now
        } else {
            &self.wakers.later
        };
        loop {
            let grow_to = {
                let _guard = WatchGuard::lock(self.watch);
                // SAFETY: the lock is held.
                let list = unsafe { &mut *cell.get() };
                if list.iter().any(|known| known.will_wake(waker)) {
                    return;
                }
                if list.len() < list.capacity() {
                    list.push(waker.clone());
                    return;
                }
                list.capacity().max(2) * 2
            };
            let mut bigger: Vec<Waker> = Vec::new();
            if bigger.try_reserve_exact(grow_to).is_err() {
                // Not registered: a poll without memory can only fail to sleep correctly;
                // the caller's next scan still sees the readiness.
                return;
            }
            {
                let _guard = WatchGuard::lock(self.watch);
                // SAFETY: the lock is held.
                let list = unsafe { &mut *cell.get() };
                if bigger.capacity() > list.capacity() {
                    bigger.append(list);
                    core::mem::swap(list, &mut bigger);
                }
            }
            // `bigger` (the old, empty list) is freed here, outside the lock.
        }
    }
}

/// The watch's lock, held with interrupts off.
struct WatchGuard {
    watch: NonNull<bindings::rvisor_sock_watch>,
    flags: core::ffi::c_ulong,
}

impl WatchGuard {
    fn lock(watch: NonNull<bindings::rvisor_sock_watch>) -> Self {
        // SAFETY: the watch is live while its socket is.
        let flags = unsafe { bindings::rvisor_sock_watch_lock(watch.as_ptr()) };
        Self { watch, flags }
    }
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        // SAFETY: taken in `lock` on this CPU.
        unsafe { bindings::rvisor_sock_watch_unlock(self.watch.as_ptr(), self.flags) };
    }
}

impl Drop for HostSocket {
    fn drop(&mut self) {
        // SAFETY: made in `wrap`; after this no wake runs, so the wakers box (dropped with
        // `self`) is no longer referenced by the host.
        unsafe { bindings::rvisor_sock_watch_free(self.watch.as_ptr()) };
        // SAFETY: releases the reference `open`/`accept` took.
        unsafe { bindings::rvisor_file_put(self.file.as_ptr()) };
    }
}

fn check(ret: core::ffi::c_long) -> Result<usize> {
    Error::check(ret).map(|value| value as usize)
}

/// A counted reference to a network namespace (a container's: the one its sockets are made
/// in).
pub struct NetNamespace(NonNull<c_void>);

// SAFETY: a counted `struct net`; only compared and released.
unsafe impl Send for NetNamespace {}
// SAFETY: as above.
unsafe impl Sync for NetNamespace {}

impl NetNamespace {
    /// The calling task's; `ESRCH` for a task without namespaces (exiting).
    pub fn current() -> Result<Self> {
        // SAFETY: process context; the reference taken is released on drop.
        let net = unsafe { bindings::rvisor_net_get_current() };
        NonNull::new(net).map(Self).ok_or(Error::ESRCH)
    }

    /// Whether the calling task is in this namespace.
    pub fn is_current(&self) -> bool {
        // SAFETY: only compares the pointer with the caller's namespace.
        unsafe { bindings::rvisor_net_is_current(self.0.as_ptr()) }
    }
}

impl Drop for NetNamespace {
    fn drop(&mut self) {
        // SAFETY: releases the reference `current` took.
        unsafe { bindings::rvisor_net_put(self.0.as_ptr()) }
    }
}
