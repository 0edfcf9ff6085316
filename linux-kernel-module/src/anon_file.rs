//! Host files whose operations are the module's ([`install`]): an anonymous-inode file
//! (`anon_inode_getfd`) whose `read`, `write`, `poll` and `ioctl` call an [`AnonFile`]. rVisor
//! hands the CLI its container's pty master this way: the CLI, outside the container, reads
//! and writes a host descriptor while the pty stays rVisor's.
//!
//! The operations never wait: where they would, they register the file's waker and say
//! `EAGAIN`; the shim then parks the caller (a blocking descriptor) on the file's wait queue,
//! which the waker wakes, and a `poll` of the file waits on the same queue.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec::Vec;
use core::ffi::{c_char, c_long, c_uint, c_ulong, c_void, CStr};
use core::task::Waker;

use crate::bindings;
use crate::error::{Error, Result};
use crate::hal::WaitQueueParker;
use crate::user_ptr::{In, Out, UserSlicePtr};

/// Bytes one `read` or `write` of such a file moves at most.
const CHUNK: usize = 4096;

/// What a module-made file does.
pub trait AnonFile: Send + Sync {
    /// Reads into `buf`; `EAGAIN` (after registering `waker`) where a read would wait.
    fn read(&self, buf: &mut [u8], waker: &Waker) -> Result<usize>;
    /// Writes from `buf`; `EAGAIN` (after registering `waker`) where a write would wait.
    fn write(&self, buf: &[u8], waker: &Waker) -> Result<usize>;
    /// The readiness (`POLL*` bits), registering `waker` to be woken when it may change.
    fn poll(&self, waker: &Waker) -> u32;
    /// `ioctl(cmd, arg)`; `arg` is the caller's (a user address for most requests).
    fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize>;
}

/// Wakes the file's waiters.
struct Wakeup(WaitQueueParker);

impl Wake for Wakeup {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// What the shim's `private_data` points to.
struct Handle {
    file: Box<dyn AnonFile>,
    wakeup: Arc<Wakeup>,
    waker: Waker,
}

/// Makes a new descriptor (`O_RDWR | O_CLOEXEC`) of the calling process for a file named
/// `name` (shown as `anon_inode:name`) whose operations are `file`'s; `file` is dropped when
/// the last descriptor of it is closed. Process context.
pub fn install(name: &'static CStr, file: Box<dyn AnonFile>) -> Result<i32> {
    let wakeup = Arc::new(Wakeup(WaitQueueParker::new()?));
    let waker = Waker::from(wakeup.clone());
    let handle = Box::into_raw(Box::new(Handle {
        file,
        wakeup,
        waker,
    }));
    // SAFETY: `name` is a static C string; `handle` is a leaked box the shim keeps as the
    // file's private data and gives back once, to `rvisor_rs_anon_release`.
    let fd = unsafe { bindings::rvisor_anon_getfd(name.as_ptr(), handle.cast()) };
    if fd < 0 {
        // SAFETY: the shim made no file, so `handle` is still ours, from `into_raw` above.
        drop(unsafe { Box::from_raw(handle) });
        return Err(Error::from_kernel(fd.into()).unwrap_or(Error::EINVAL));
    }
    Ok(fd)
}

/// The handle behind `rs`.
///
/// # Safety
///
/// `rs` must be the private data of a live file made by [`install`].
unsafe fn handle<'a>(rs: *mut c_void) -> &'a Handle {
    // SAFETY: the caller's contract: a `Handle` alive until the file's release.
    unsafe { &*rs.cast::<Handle>() }
}

/// A kernel buffer for `len` bytes of a transfer (at most [`CHUNK`]).
fn buffer(len: c_ulong) -> Result<Vec<u8>> {
    let len = usize::try_from(len).unwrap_or(CHUNK).min(CHUNK);
    let mut buf = Vec::new();
    buf.try_reserve_exact(len).map_err(|_| Error::ENOMEM)?;
    buf.resize(len, 0);
    Ok(buf)
}

fn ret(result: Result<isize>) -> c_long {
    match result {
        Ok(value) => value as c_long,
        Err(error) => error.to_syscall_return() as c_long,
    }
}

/// The parker the shim waits on for the file `rs`.
///
/// # Safety
///
/// `rs` must be the private data of a live file made by [`install`].
#[no_mangle]
pub unsafe extern "C" fn rvisor_rs_anon_parker(rs: *mut c_void) -> *mut bindings::rvisor_parker {
    // SAFETY: the caller's contract.
    unsafe { handle(rs) }.wakeup.0.as_ptr()
}

/// `read` of the file `rs` into the user buffer `buf` of `len` bytes.
///
/// # Safety
///
/// `rs` must be the private data of a live file made by [`install`]; process context.
#[no_mangle]
pub unsafe extern "C" fn rvisor_rs_anon_read(
    rs: *mut c_void,
    buf: *mut c_char,
    len: c_ulong,
) -> c_long {
    // SAFETY: the caller's contract.
    let handle = unsafe { handle(rs) };
    ret((|| {
        let mut kbuf = buffer(len)?;
        let got = handle.file.read(&mut kbuf, &handle.waker)?;
        let got = got.min(kbuf.len());
        UserSlicePtr::<u8, Out>::with_len(buf as usize, got)
            .write_slice(kbuf.get(..got).unwrap_or_default())?;
        Ok(got as isize)
    })())
}

/// `write` of the user buffer `buf` of `len` bytes to the file `rs`.
///
/// # Safety
///
/// `rs` must be the private data of a live file made by [`install`]; process context.
#[no_mangle]
pub unsafe extern "C" fn rvisor_rs_anon_write(
    rs: *mut c_void,
    buf: *const c_char,
    len: c_ulong,
) -> c_long {
    // SAFETY: the caller's contract.
    let handle = unsafe { handle(rs) };
    ret((|| {
        let mut kbuf = buffer(len)?;
        UserSlicePtr::<u8, In>::with_len(buf as usize, kbuf.len()).read_into(&mut kbuf)?;
        Ok(handle.file.write(&kbuf, &handle.waker)? as isize)
    })())
}

/// `poll` of the file `rs`: its readiness.
///
/// # Safety
///
/// `rs` must be the private data of a live file made by [`install`].
#[no_mangle]
pub unsafe extern "C" fn rvisor_rs_anon_poll(rs: *mut c_void) -> c_uint {
    // SAFETY: the caller's contract.
    let handle = unsafe { handle(rs) };
    handle.file.poll(&handle.waker)
}

/// `ioctl` of the file `rs`.
///
/// # Safety
///
/// `rs` must be the private data of a live file made by [`install`]; process context.
#[no_mangle]
pub unsafe extern "C" fn rvisor_rs_anon_ioctl(
    rs: *mut c_void,
    cmd: c_uint,
    arg: c_ulong,
) -> c_long {
    // SAFETY: the caller's contract.
    let handle = unsafe { handle(rs) };
    ret(handle.file.ioctl(cmd, arg as usize))
}

/// The last descriptor of the file `rs` is closed: its operations are dropped.
///
/// # Safety
///
/// `rs` must be the private data of a file made by [`install`], released once.
#[no_mangle]
pub unsafe extern "C" fn rvisor_rs_anon_release(rs: *mut c_void) {
    // SAFETY: the caller's contract: the box leaked by `install`, given back once.
    drop(unsafe { Box::from_raw(rs.cast::<Handle>()) });
}
