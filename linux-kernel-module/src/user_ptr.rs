//! User memory, reached only through `copy_from_user`/`copy_to_user` (section 1.4 of the rVisor
//! report): [`UserSlicePtr`] is a user address plus a length, typed by what may be done with it.
//!
//! A bad pointer is `EFAULT`; lengths are checked before any copy; a read only fills kernel memory
//! that the caller owns.

use alloc::vec::Vec;
use core::marker::PhantomData;
use core::mem::{size_of, MaybeUninit};

use crate::bindings;
use crate::error::{Error, Result};

/// The direction a user pointer may be used in.
pub trait Policy {}
/// A policy that allows reading (copy_from_user).
pub trait Read: Policy {}
/// A policy that allows writing (copy_to_user).
pub trait Write: Policy {}

/// The user buffer is only read by the kernel.
pub struct In;
/// The user buffer is only written by the kernel.
pub struct Out;
/// The user buffer is read and written.
pub struct InOut;

impl Policy for In {}
impl Policy for Out {}
impl Policy for InOut {}
impl Read for In {}
impl Read for InOut {}
impl Write for Out {}
impl Write for InOut {}

/// Types for which every bit pattern is a valid value, so they may be filled from user memory.
///
/// # Safety
///
/// The type must have no padding that matters, no invalid bit patterns (no `bool`, `char`,
/// references, enums) and no pointers the kernel would follow.
pub unsafe trait Pod: Copy {}

macro_rules! pod {
    ($($t:ty),*) => { $(
        // SAFETY: integers and arrays of them accept every bit pattern.
        unsafe impl Pod for $t {}
    )* };
}
pod!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);
// SAFETY: arrays of plain data are plain data.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}
// SAFETY: these UAPI structs contain only integers and byte arrays.
unsafe impl Pod for bindings::rvisor_create {}
// SAFETY: as above.
unsafe impl Pod for bindings::rvisor_list {}
// SAFETY: as above.
unsafe impl Pod for bindings::rvisor_container_info {}
// SAFETY: as above.
unsafe impl Pod for bindings::rvisor_utsname {}
// SAFETY: as above.
unsafe impl Pod for bindings::rvisor_mount {}
// SAFETY: as above (four u32s).
unsafe impl Pod for bindings::rvisor_enter {}

/// `len` values of `T` at user address `addr`, usable as the policy `P` allows.
pub struct UserSlicePtr<T, P: Policy> {
    addr: usize,
    len: usize,
    _marker: PhantomData<(*mut T, P)>,
}

/// A user pointer the kernel reads from.
pub type UserInPtr<T> = UserSlicePtr<T, In>;
/// A user pointer the kernel writes to.
pub type UserOutPtr<T> = UserSlicePtr<T, Out>;
/// A user pointer the kernel reads and writes.
pub type UserInOutPtr<T> = UserSlicePtr<T, InOut>;

impl<T: Pod, P: Policy> UserSlicePtr<T, P> {
    /// One `T` at `addr`.
    pub fn new(addr: usize) -> Self {
        Self::with_len(addr, 1)
    }

    /// `len` values of `T` starting at `addr`.
    pub fn with_len(addr: usize, len: usize) -> Self {
        UserSlicePtr {
            addr,
            len,
            _marker: PhantomData,
        }
    }

    /// The user address.
    pub fn addr(&self) -> usize {
        self.addr
    }

    /// True for the NULL pointer.
    pub fn is_null(&self) -> bool {
        self.addr == 0
    }

    /// The slice's length in bytes; `EFAULT` if it overflows the address space.
    fn byte_len(&self, count: usize) -> Result<usize> {
        let bytes = count.checked_mul(size_of::<T>()).ok_or(Error::EFAULT)?;
        self.addr.checked_add(bytes).ok_or(Error::EFAULT)?;
        Ok(bytes)
    }
}

impl<T: Pod, P: Read> UserSlicePtr<T, P> {
    /// Reads the first value.
    pub fn read(&self) -> Result<T> {
        if self.len == 0 {
            return Err(Error::EFAULT);
        }
        let bytes = self.byte_len(1)?;
        let mut value = MaybeUninit::<T>::uninit();
        // SAFETY: `value` is `bytes` writable bytes; the shim faults safely on a bad user address.
        let left = unsafe {
            bindings::rvisor_copy_from_user(
                value.as_mut_ptr() as *mut _,
                self.addr as _,
                bytes as _,
            )
        };
        if left != 0 {
            return Err(Error::EFAULT);
        }
        // SAFETY: all bytes were written and `T: Pod` accepts any bit pattern.
        Ok(unsafe { value.assume_init() })
    }

    /// Fills `out` from the start of the slice; `EFAULT` if `out` is longer than the slice.
    pub fn read_into(&self, out: &mut [T]) -> Result {
        if out.len() > self.len {
            return Err(Error::EFAULT);
        }
        let bytes = self.byte_len(out.len())?;
        // SAFETY: `out` is `bytes` writable bytes of a `Pod` type.
        let left = unsafe {
            bindings::rvisor_copy_from_user(out.as_mut_ptr() as *mut _, self.addr as _, bytes as _)
        };
        if left != 0 {
            return Err(Error::EFAULT);
        }
        Ok(())
    }

    /// Reads the whole slice into a new vector; `ENOMEM` if it cannot be allocated.
    pub fn read_all(&self) -> Result<Vec<T>> {
        let mut out = Vec::new();
        out.try_reserve_exact(self.len).map_err(|_| Error::ENOMEM)?;
        let bytes = self.byte_len(self.len)?;
        // SAFETY: the vector has room for `len` values = `bytes` bytes.
        let left = unsafe {
            bindings::rvisor_copy_from_user(out.as_mut_ptr() as *mut _, self.addr as _, bytes as _)
        };
        if left != 0 {
            return Err(Error::EFAULT);
        }
        // SAFETY: all `len` values were written, and `T: Pod` accepts any bit pattern.
        unsafe { out.set_len(self.len) };
        Ok(out)
    }
}

impl<T: Pod, P: Write> UserSlicePtr<T, P> {
    /// Writes `value` as the first element.
    pub fn write(&self, value: &T) -> Result {
        self.write_slice(core::slice::from_ref(value))
    }

    /// Writes `values` at the start of the slice; `EFAULT` if they do not fit.
    pub fn write_slice(&self, values: &[T]) -> Result {
        if values.len() > self.len {
            return Err(Error::EFAULT);
        }
        let bytes = self.byte_len(values.len())?;
        // SAFETY: `values` is `bytes` readable bytes; the shim faults safely on a bad user address.
        let left = unsafe {
            bindings::rvisor_copy_to_user(self.addr as _, values.as_ptr() as *const _, bytes as _)
        };
        if left != 0 {
            return Err(Error::EFAULT);
        }
        Ok(())
    }
}

/// Copies a NUL-terminated string from user address `addr` into `buf`, as the kernel's
/// `strncpy_from_user`: at most `buf.len()` bytes, stopping after the NUL. Returns the string's
/// length (the NUL not counted), or `buf.len()` if no NUL came within it; `EFAULT` if a byte
/// before that is inaccessible.
pub fn copy_user_cstr(addr: usize, buf: &mut [u8]) -> Result<usize> {
    let len = i64::try_from(buf.len()).map_err(|_| Error::EINVAL)?;
    // SAFETY: `buf` is `len` writable bytes and strncpy_from_user writes at most `len`; the
    // shim faults safely on a bad user address.
    let n =
        unsafe { bindings::rvisor_strncpy_from_user(buf.as_mut_ptr() as *mut _, addr as _, len) };
    Ok(Error::check(n as i64)? as usize)
}

/// Reads a NUL-terminated string of at most `max` bytes (NUL excluded) from user address `addr`.
/// `EFAULT` for a bad pointer, `ENAMETOOLONG` if no NUL comes within `max` bytes.
pub fn read_user_cstr(addr: usize, max: usize) -> Result<Vec<u8>> {
    let cap = max.checked_add(1).ok_or(Error::EINVAL)?;
    let mut buf: Vec<u8> = Vec::new();
    buf.try_reserve_exact(cap).map_err(|_| Error::ENOMEM)?;
    buf.resize(cap, 0);
    let n = copy_user_cstr(addr, &mut buf)?;
    if n >= cap {
        return Err(Error::ENAMETOOLONG);
    }
    buf.truncate(n);
    Ok(buf)
}
