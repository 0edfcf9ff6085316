//! User pointers: every address a contained program passes in a syscall is wrapped in a
//! [`UserPtr`] and reached only through the HAL's user copies, which fail with `EFAULT` on an
//! address the calling thread cannot access. Nothing here dereferences a user address.
//!
//! The pointer's direction is part of its type: [`UserInPtr`] can only be read,
//! [`UserOutPtr`] only written, [`UserInOutPtr`] both. Values cross as bytes through
//! [`UserValue`], so no `unsafe` transmute is needed for the structures Linux exchanges.
//!
//! ```
//! use rvisor_linux_syscall::testing::UserArena;
//! use rvisor_linux_syscall::user::{UserInPtr, UserOutPtr};
//!
//! let user_memory = UserArena::new(1); // what the contained process has mapped
//! let word = user_memory.alloc(8);
//! UserOutPtr::<u64>::from(word).write(0x1234)?;
//! assert_eq!(UserInPtr::<u64>::from(word).read()?, 0x1234);
//! assert_eq!(UserInPtr::<u64>::from(0).read(), Err(linux_object::LxError::EFAULT));
//! # Ok::<(), linux_object::LxError>(())
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;
use kernel_hal_lkm::{platform, HalError};
use linux_object::{LxError, LxResult};

/// The end of the x86-64 user address space: no user range reaches past it.
pub const USER_SPACE_END: usize = linux_object::elf::USER_SPACE_END;

/// Bytes of a user string read on the stack before any allocation: room for most paths.
const SHORT_STRING: usize = 256;

/// A value that crosses the user boundary as its Linux (x86-64, little-endian) bytes.
pub trait UserValue: Sized {
    /// Its size in user memory.
    const SIZE: usize;

    /// Decodes the value from exactly [`SIZE`](Self::SIZE) bytes.
    fn from_user_bytes(bytes: &[u8]) -> Self;

    /// Encodes the value into exactly [`SIZE`](Self::SIZE) bytes.
    fn to_user_bytes(&self, out: &mut [u8]);
}

macro_rules! integer_user_values {
    ($($type:ty),*) => {$(
        impl UserValue for $type {
            const SIZE: usize = core::mem::size_of::<$type>();

            fn from_user_bytes(bytes: &[u8]) -> Self {
                let mut raw = [0; core::mem::size_of::<$type>()];
                raw.iter_mut().zip(bytes).for_each(|(to, from)| *to = *from);
                <$type>::from_le_bytes(raw)
            }

            fn to_user_bytes(&self, out: &mut [u8]) {
                out.iter_mut().zip(self.to_le_bytes()).for_each(|(to, from)| *to = from);
            }
        }
    )*};
}

integer_user_values!(u8, i8, u16, i16, u32, i32, u64, i64, usize, isize);

/// Marks a pointer that may be read.
pub trait Readable {}
/// Marks a pointer that may be written.
pub trait Writable {}

/// Direction of a pointer the kernel only reads.
#[derive(Debug, Clone, Copy)]
pub enum In {}
/// Direction of a pointer the kernel only writes.
#[derive(Debug, Clone, Copy)]
pub enum Out {}
/// Direction of a pointer the kernel reads and writes.
#[derive(Debug, Clone, Copy)]
pub enum InOut {}

impl Readable for In {}
impl Readable for InOut {}
impl Writable for Out {}
impl Writable for InOut {}

/// A user address holding a `T` (or an array of them), with a direction `P`.
pub struct UserPtr<T, P> {
    addr: usize,
    _type: PhantomData<(fn() -> T, P)>,
}

/// A pointer the kernel reads from.
pub type UserInPtr<T> = UserPtr<T, In>;
/// A pointer the kernel writes to.
pub type UserOutPtr<T> = UserPtr<T, Out>;
/// A pointer the kernel reads and writes.
pub type UserInOutPtr<T> = UserPtr<T, InOut>;

impl<T, P> Clone for UserPtr<T, P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, P> Copy for UserPtr<T, P> {}

impl<T, P> fmt::Debug for UserPtr<T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.addr)
    }
}

impl<T, P> From<usize> for UserPtr<T, P> {
    fn from(addr: usize) -> Self {
        Self {
            addr,
            _type: PhantomData,
        }
    }
}

/// The user range `[addr, addr + len)`, or `EFAULT` if it wraps or leaves user space.
fn user_range(addr: usize, len: usize) -> LxResult<usize> {
    addr.checked_add(len)
        .filter(|&end| end <= USER_SPACE_END)
        .ok_or(LxError::EFAULT)
}

fn hal_error(error: HalError) -> LxError {
    match error {
        HalError::Fault => LxError::EFAULT,
        _ => LxError::EIO,
    }
}

/// Copies `buf.len()` bytes from user memory at `addr`; `EFAULT` if any is inaccessible.
pub fn copy_from_user(addr: usize, buf: &mut [u8]) -> LxResult {
    if buf.is_empty() {
        return Ok(());
    }
    user_range(addr, buf.len())?;
    platform()
        .map_err(hal_error)?
        .copy_from_user(addr, buf)
        .map_err(hal_error)
}

/// Copies `buf` to user memory at `addr`; `EFAULT` if any of it is inaccessible.
pub fn copy_to_user(addr: usize, buf: &[u8]) -> LxResult {
    if buf.is_empty() {
        return Ok(());
    }
    user_range(addr, buf.len())?;
    platform()
        .map_err(hal_error)?
        .copy_to_user(addr, buf)
        .map_err(hal_error)
}

/// Copies a NUL-terminated string from user memory at `addr` into `buf`, stopping after its
/// NUL: its length without the NUL, or `buf.len()` if no NUL came within `buf.len()` bytes.
/// `EFAULT` if a byte before that is inaccessible, or if the string runs into the end of user
/// space before either (as Linux's `strncpy_from_user`).
fn copy_cstr_from_user(addr: usize, buf: &mut [u8]) -> LxResult<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    let room = USER_SPACE_END
        .checked_sub(addr)
        .filter(|&room| room > 0)
        .ok_or(LxError::EFAULT)?;
    let (within, _) = buf.split_at_mut(room.min(buf.len()));
    let len = platform()
        .map_err(hal_error)?
        .copy_cstr_from_user(addr, within)
        .map_err(hal_error)?;
    if len == within.len() && within.len() < buf.len() {
        return Err(LxError::EFAULT);
    }
    Ok(len)
}

/// A zeroed byte buffer of `len` bytes, or `ENOMEM` — never an allocation failure abort.
pub fn try_buffer(len: usize) -> LxResult<Vec<u8>> {
    let mut buf = Vec::new();
    buf.try_reserve_exact(len).map_err(|_| LxError::ENOMEM)?;
    buf.resize(len, 0);
    Ok(buf)
}

impl<T, P> UserPtr<T, P> {
    /// The address.
    pub fn addr(self) -> usize {
        self.addr
    }

    /// Is this the null pointer?
    pub fn is_null(self) -> bool {
        self.addr == 0
    }

    /// The pointer `count` elements of `T` further; `EFAULT` if that overflows.
    pub fn offset(self, count: usize) -> LxResult<Self>
    where
        T: UserValue,
    {
        count
            .checked_mul(T::SIZE)
            .and_then(|bytes| self.addr.checked_add(bytes))
            .map(Self::from)
            .ok_or(LxError::EFAULT)
    }
}

impl<T: UserValue, P: Readable> UserPtr<T, P> {
    /// Reads one `T`.
    #[inline]
    pub fn read(self) -> LxResult<T> {
        // A stack buffer of the value's size class: what is zeroed past the value is wasted.
        match T::SIZE {
            0..=16 => self.read_in::<16>(),
            17..=64 => self.read_in::<64>(),
            _ => {
                let mut large = try_buffer(T::SIZE)?;
                copy_from_user(self.addr, &mut large)?;
                Ok(T::from_user_bytes(&large))
            }
        }
    }

    /// [`UserPtr::read`] through a stack buffer of `N` bytes (at least `T::SIZE`).
    fn read_in<const N: usize>(self) -> LxResult<T> {
        let mut bytes = [0u8; N];
        // Always there: `read` picks `N` at least `T::SIZE`.
        let small = bytes.get_mut(..T::SIZE).ok_or(LxError::EFAULT)?;
        copy_from_user(self.addr, small)?;
        Ok(T::from_user_bytes(small))
    }

    /// Reads one `T` unless the pointer is null (Linux's optional in-parameters).
    pub fn read_if_not_null(self) -> LxResult<Option<T>> {
        if self.is_null() {
            Ok(None)
        } else {
            self.read().map(Some)
        }
    }

    /// Reads `len` consecutive `T`s.
    pub fn read_array(self, len: usize) -> LxResult<Vec<T>> {
        let bytes_len = len.checked_mul(T::SIZE).ok_or(LxError::EFAULT)?;
        let mut bytes = try_buffer(bytes_len)?;
        copy_from_user(self.addr, &mut bytes)?;
        let mut values = Vec::new();
        values.try_reserve_exact(len).map_err(|_| LxError::ENOMEM)?;
        values.extend(bytes.chunks_exact(T::SIZE.max(1)).map(T::from_user_bytes));
        Ok(values)
    }
}

impl<T: UserValue, P: Writable> UserPtr<T, P> {
    /// Writes one `T`.
    #[inline]
    pub fn write(self, value: T) -> LxResult {
        // A stack buffer of the value's size class: what is zeroed past the value is wasted.
        match T::SIZE {
            0..=16 => self.write_in::<16>(value),
            17..=64 => self.write_in::<64>(value),
            65..=160 => self.write_in::<160>(value),
            161..=256 => self.write_in::<256>(value),
            _ => {
                let mut large = try_buffer(T::SIZE)?;
                value.to_user_bytes(&mut large);
                copy_to_user(self.addr, &large)
            }
        }
    }

    /// [`UserPtr::write`] through a stack buffer of `N` bytes (at least `T::SIZE`).
    #[inline]
    fn write_in<const N: usize>(self, value: T) -> LxResult {
        let mut bytes = [0u8; N];
        // Always there: `write` picks `N` at least `T::SIZE`.
        let small = bytes.get_mut(..T::SIZE).ok_or(LxError::EFAULT)?;
        value.to_user_bytes(small);
        copy_to_user(self.addr, small)
    }

    /// Writes one `T` unless the pointer is null (Linux's optional out-parameters).
    pub fn write_if_not_null(self, value: T) -> LxResult {
        if self.is_null() {
            Ok(())
        } else {
            self.write(value)
        }
    }

    /// Writes `values` consecutively.
    pub fn write_array(self, values: &[T]) -> LxResult {
        let bytes_len = values.len().checked_mul(T::SIZE).ok_or(LxError::EFAULT)?;
        let mut bytes = try_buffer(bytes_len)?;
        for (value, out) in values.iter().zip(bytes.chunks_exact_mut(T::SIZE.max(1))) {
            value.to_user_bytes(out);
        }
        copy_to_user(self.addr, &bytes)
    }
}

/// A string read from user memory, without its NUL.
enum CString<'a> {
    /// In the caller's stack buffer.
    Short(&'a [u8]),
    /// Longer than the stack buffer.
    Long(Vec<u8>),
}

impl<P: Readable> UserPtr<u8, P> {
    /// Reads `len` bytes.
    pub fn read_bytes(self, len: usize) -> LxResult<Vec<u8>> {
        let mut bytes = try_buffer(len)?;
        copy_from_user(self.addr, &mut bytes)?;
        Ok(bytes)
    }

    /// Reads a NUL-terminated string of at most `max` bytes before the NUL; `ENAMETOOLONG`
    /// if no NUL comes within `max` bytes (Linux's `strncpy_from_user` callers give
    /// `ENAMETOOLONG` for paths and `E2BIG` for arguments: the caller maps it). The copy stops
    /// at the NUL, so a string that ends just before an unmapped page is read whole.
    ///
    /// A string shorter than 256 bytes, as most paths are, is copied to the stack first and
    /// costs one allocation of its exact length.
    pub fn read_cstring(self, max: usize) -> LxResult<Vec<u8>> {
        let mut short = [0u8; SHORT_STRING];
        match self.read_cstring_into(max, &mut short)? {
            CString::Short(bytes) => {
                let mut owned = Vec::new();
                owned
                    .try_reserve_exact(bytes.len())
                    .map_err(|_| LxError::ENOMEM)?;
                owned.extend_from_slice(bytes);
                Ok(owned)
            }
            CString::Long(bytes) => Ok(bytes),
        }
    }

    /// Reads a string as [`read_cstring`](Self::read_cstring) does and lends it to `use_it`:
    /// a string shorter than 256 bytes is not copied beyond the stack.
    pub fn with_cstring<R>(
        self,
        max: usize,
        use_it: impl FnOnce(&[u8]) -> LxResult<R>,
    ) -> LxResult<R> {
        let mut short = [0u8; SHORT_STRING];
        match self.read_cstring_into(max, &mut short)? {
            CString::Short(bytes) => use_it(bytes),
            CString::Long(bytes) => use_it(&bytes),
        }
    }

    /// The string [`read_cstring`](Self::read_cstring) reads: in `short` if it fits there,
    /// else on the heap.
    fn read_cstring_into(
        self,
        max: usize,
        short: &mut [u8; SHORT_STRING],
    ) -> LxResult<CString<'_>> {
        if self.is_null() {
            return Err(LxError::EFAULT);
        }
        // The NUL of a string of `max` bytes comes in the byte after them.
        let limit = max.saturating_add(1);
        let (first, _) = short.split_at_mut(SHORT_STRING.min(limit));
        let len = copy_cstr_from_user(self.addr, first)?;
        if len < first.len() {
            return Ok(CString::Short(first.get(..len).unwrap_or_default()));
        }
        if first.len() == limit {
            return Err(LxError::ENAMETOOLONG);
        }
        // A longer string goes on the heap, in a buffer of PATH_MAX bytes first (any path
        // fits) and then twice as large each time, up to `limit` (an argument may be longer).
        let mut bytes = Vec::new();
        bytes
            .try_reserve_exact(kernel_hostfs::PATH_MAX.min(limit))
            .map_err(|_| LxError::ENOMEM)?;
        bytes.extend_from_slice(first);
        loop {
            let start = bytes.len();
            // More than `start`: it is below `limit`, and PATH_MAX is above the stack copy.
            let size = kernel_hostfs::PATH_MAX
                .max(start.saturating_mul(2))
                .min(limit);
            bytes
                .try_reserve_exact(size - start)
                .map_err(|_| LxError::ENOMEM)?;
            bytes.resize(size, 0);
            let addr = self.addr.checked_add(start).ok_or(LxError::EFAULT)?;
            let (_, rest) = bytes.split_at_mut(start);
            let len = copy_cstr_from_user(addr, rest)?;
            if len < rest.len() {
                bytes.truncate(start + len);
                return Ok(CString::Long(bytes));
            }
            if size == limit {
                return Err(LxError::ENAMETOOLONG);
            }
        }
    }

    /// Reads a path: a NUL-terminated string shorter than `PATH_MAX` (4096 bytes with its
    /// NUL), as UTF-8. `ENOENT` for the empty path (callers that accept it, with
    /// `AT_EMPTY_PATH`, read it with [`read_cstring`](Self::read_cstring)); `ENAMETOOLONG`
    /// for a longer one; `ENOENT` for a name that is not UTF-8 (no such name can exist in the
    /// container's filesystem, see `kernel-hostfs`).
    pub fn read_path(self) -> LxResult<String> {
        self.with_path(|path| {
            let mut owned = String::new();
            owned
                .try_reserve_exact(path.len())
                .map_err(|_| LxError::ENOMEM)?;
            owned.push_str(path);
            Ok(owned)
        })
    }

    /// Reads a path as [`read_path`](Self::read_path) does and lends it to `use_it`, as
    /// [`with_cstring`](Self::with_cstring) lends a string.
    pub fn with_path<R>(self, use_it: impl FnOnce(&str) -> LxResult<R>) -> LxResult<R> {
        self.with_cstring(kernel_hostfs::PATH_MAX - 1, |bytes| {
            if bytes.is_empty() {
                return Err(LxError::ENOENT);
            }
            use_it(core::str::from_utf8(bytes).map_err(|_| LxError::ENOENT)?)
        })
    }
}

impl<P: Writable> UserPtr<u8, P> {
    /// Writes `bytes`.
    pub fn write_bytes(self, bytes: &[u8]) -> LxResult {
        copy_to_user(self.addr, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::UserArena;

    #[test]
    fn strings_are_read_up_to_their_nul_and_bounded() {
        let arena = UserArena::new(2);
        let ptr = UserInPtr::<u8>::from(arena.put_bytes(b"/etc/passwd\0trailing"));
        assert_eq!(ptr.read_cstring(64).unwrap(), b"/etc/passwd");
        assert_eq!(ptr.read_cstring(11).unwrap(), b"/etc/passwd");
        assert_eq!(ptr.read_cstring(10), Err(LxError::ENAMETOOLONG));
        assert_eq!(ptr.read_path().unwrap(), "/etc/passwd");
        let empty = UserInPtr::<u8>::from(arena.put_bytes(b"\0"));
        assert_eq!(empty.read_path(), Err(LxError::ENOENT));
    }

    #[test]
    fn strings_longer_than_the_stack_copy_are_read_whole_and_bounded() {
        let arena = UserArena::new(16);
        // Around the stack copy's 256 bytes, PATH_MAX, and a long argument past it.
        for len in [255, 256, 257, 4095, 4096, 9000] {
            let text = alloc::vec![b'a'; len];
            let ptr = UserInPtr::<u8>::from(arena.put_cstr(core::str::from_utf8(&text).unwrap()));
            assert_eq!(ptr.read_cstring(len).unwrap(), text, "{len} bytes");
            assert_eq!(
                ptr.read_cstring(len - 1),
                Err(LxError::ENAMETOOLONG),
                "{len} bytes"
            );
            assert_eq!(ptr.read_cstring(2 * len).unwrap(), text, "{len} bytes");
        }
        let long = alloc::vec![b'/'; 5000];
        let unterminated = UserInPtr::<u8>::from(arena.put_at_end(&long));
        assert_eq!(unterminated.read_cstring(4999), Err(LxError::ENAMETOOLONG));
        assert_eq!(unterminated.read_cstring(5000), Err(LxError::EFAULT));
        assert_eq!(unterminated.read_path(), Err(LxError::ENAMETOOLONG));
    }

    #[test]
    fn a_string_ending_at_the_last_mapped_byte_is_read_and_one_past_faults() {
        let arena = UserArena::new(2);
        let whole = UserInPtr::<u8>::from(arena.put_at_end(b"/bin/sh\0"));
        assert_eq!(whole.read_path().unwrap(), "/bin/sh");
        let unterminated = UserInPtr::<u8>::from(arena.put_at_end(b"/bin/sh"));
        assert_eq!(unterminated.read_path(), Err(LxError::EFAULT));
    }

    #[test]
    fn bad_addresses_fault() {
        let arena = UserArena::new(1);
        assert_eq!(UserInPtr::<u32>::from(0).read(), Err(LxError::EFAULT));
        assert_eq!(UserOutPtr::<u32>::from(8).write(1), Err(LxError::EFAULT));
        assert_eq!(
            UserInPtr::<u32>::from(arena.unmapped() - 2).read(),
            Err(LxError::EFAULT)
        );
        assert_eq!(
            UserInPtr::<u8>::from(usize::MAX - 2).read_bytes(8),
            Err(LxError::EFAULT)
        );
        assert_eq!(
            UserInPtr::<u8>::from(USER_SPACE_END).read_cstring(10),
            Err(LxError::EFAULT)
        );
        assert!(UserInPtr::<u8>::from(1).offset(usize::MAX).is_err());
    }

    #[test]
    fn values_and_arrays_round_trip() {
        let arena = UserArena::new(1);
        let word = arena.alloc(8);
        UserOutPtr::<u64>::from(word)
            .write(0x1234_5678_9abc)
            .unwrap();
        assert_eq!(UserInPtr::<u64>::from(word).read(), Ok(0x1234_5678_9abc));
        let words = arena.alloc(12);
        UserOutPtr::<i32>::from(words)
            .write_array(&[-1, 2, -3])
            .unwrap();
        let back = UserInPtr::<i32>::from(words).read_array(3).unwrap();
        assert_eq!(back, [-1, 2, -3]);
        assert_eq!(arena.get_bytes(words, 4), [0xff; 4]);
    }
}
