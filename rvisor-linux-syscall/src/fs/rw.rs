//! `read`, `write`, `pread64`, `pwrite64`, `readv`, `writev`: bytes between a description and
//! user memory, moved in bounded kernel chunks so a huge `count` never means a huge
//! allocation.
//!
//! A read fills the user's buffers as far as the file allows: a regular file until the end
//! of file, a pipe or terminal until it has nothing more right now (only the first chunk
//! waits). A fault partway returns the bytes done so far, or `EFAULT` if none, as Linux;
//! the offset of a seekable file then only counts the bytes delivered.

use alloc::vec::Vec;
use linux_object::fs::{read_file, write_file, FileLike, SeekFrom};
use linux_object::{LxError, LxResult};

use super::{access_ok, is_stream, MAX_RW_COUNT};
use crate::user::{copy_from_user, copy_to_user, try_buffer, UserInPtr, UserOutPtr, UserValue};
use crate::{SysResult, Syscall};

/// Bytes moved per kernel buffer.
pub(crate) const CHUNK: usize = 64 * 1024;

/// Most `iovec`s one call takes (Linux's `UIO_MAXIOV`).
const UIO_MAXIOV: usize = 1024;

/// One `struct iovec`: a user buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoVec {
    /// Its address.
    pub base: usize,
    /// Its length.
    pub len: usize,
}

impl UserValue for IoVec {
    const SIZE: usize = 16;

    fn from_user_bytes(bytes: &[u8]) -> Self {
        Self {
            base: usize::from_user_bytes(bytes.get(..8).unwrap_or_default()),
            len: usize::from_user_bytes(bytes.get(8..).unwrap_or_default()),
        }
    }

    fn to_user_bytes(&self, out: &mut [u8]) {
        if let Some(base) = out.get_mut(..8) {
            self.base.to_user_bytes(base);
        }
        if let Some(len) = out.get_mut(8..) {
            self.len.to_user_bytes(len);
        }
    }
}

/// Where a transfer happens in the file.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Position {
    /// At the description's offset, which advances (`read`, `write`).
    Cursor,
    /// At this offset, leaving the description's alone (`pread64`, `pwrite64`).
    At(u64),
}

fn at(offset: u64, done: usize) -> LxResult<u64> {
    u64::try_from(done)
        .ok()
        .and_then(|done| offset.checked_add(done))
        .ok_or(LxError::EINVAL)
}

/// Moves `segments` with `transfer` (a description's `read_to_user` or `write_from_user`),
/// segment after segment, with no kernel buffer: `None` if the description cannot, else the
/// count moved, as Linux counts it (a short transfer ends the call; an error after some
/// bytes is the count so far).
fn transfer_direct(
    segments: &[IoVec],
    position: Position,
    mut transfer: impl FnMut(Option<u64>, &IoVec) -> Option<LxResult<usize>>,
) -> Option<LxResult<usize>> {
    let mut done = 0usize;
    for segment in segments.iter().filter(|segment| segment.len > 0) {
        let at = match position {
            Position::Cursor => None,
            Position::At(offset) => match at(offset, done) {
                Ok(at) => Some(at),
                Err(error) => return Some(Err(error)),
            },
        };
        match transfer(at, segment)? {
            Ok(moved) => {
                done += moved.min(segment.len);
                if moved < segment.len {
                    break;
                }
            }
            Err(error) if done == 0 => return Some(Err(error)),
            Err(_) => break,
        }
    }
    Some(Ok(done))
}

/// Reads from `file` into the user buffers `segments` (whose total is at most
/// [`MAX_RW_COUNT`]); returns the count read.
pub(crate) async fn read_to_user(
    file: &dyn FileLike,
    segments: &[IoVec],
    position: Position,
) -> LxResult<usize> {
    let total: usize = segments.iter().map(|segment| segment.len).sum();
    if total == 0 {
        // Nothing to move, but the description still says whether it can be read (a
        // directory is EISDIR); a stream with nothing in it is not an error for 0 bytes.
        return match file.read(&mut []) {
            Ok(_) | Err(LxError::EAGAIN) => Ok(0),
            Err(error) => Err(error),
        };
    }
    if let Some(done) = transfer_direct(segments, position, |at, segment| {
        file.read_to_user(at, segment.base, segment.len)
    }) {
        return done;
    }
    let mut buf = try_buffer(total.min(CHUNK))?;
    let mut done = 0usize;
    for segment in segments {
        let mut segment_done = 0;
        while segment_done < segment.len {
            let want = (segment.len - segment_done).min(CHUNK);
            let chunk = buf.get_mut(..want).ok_or(LxError::EFAULT)?;
            let result = match position {
                // Only the first chunk waits; later ones take what is there now.
                Position::Cursor if done == 0 => read_file(file, chunk).await,
                Position::Cursor => file.read(chunk),
                Position::At(offset) => file.read_at(at(offset, done)?, chunk),
            };
            let got = match result {
                Ok(got) => got.min(want),
                Err(error) if done == 0 => return Err(error),
                Err(_) => return Ok(done),
            };
            let user = segment
                .base
                .checked_add(segment_done)
                .ok_or(LxError::EFAULT)?;
            if copy_to_user(user, chunk.get(..got).unwrap_or_default()).is_err() {
                if let Position::Cursor = position {
                    // Give the undelivered bytes back to a seekable file (a stream has no
                    // way back; see the crate's divergences).
                    let undelivered = i64::try_from(got).unwrap_or(i64::MAX);
                    let _ = file.seek(SeekFrom::Current(-undelivered));
                }
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(LxError::EFAULT)
                };
            }
            done += got;
            segment_done += got;
            if got < want {
                return Ok(done);
            }
        }
    }
    Ok(done)
}

/// Writes the user buffers `segments` (total at most [`MAX_RW_COUNT`]) to `file`; returns the
/// count written.
pub(crate) async fn write_from_user(
    file: &dyn FileLike,
    segments: &[IoVec],
    position: Position,
) -> LxResult<usize> {
    let total: usize = segments.iter().map(|segment| segment.len).sum();
    if total == 0 {
        // Linux returns 0 without touching the file (a pipe without readers included),
        // once the access mode allowed writing, which the caller checked.
        return Ok(0);
    }
    if let Some(done) = transfer_direct(segments, position, |at, segment| {
        file.write_from_user(at, segment.base, segment.len)
    }) {
        return done;
    }
    let mut buf = try_buffer(total.min(CHUNK))?;
    let mut done = 0usize;
    for segment in segments {
        let mut segment_done = 0;
        while segment_done < segment.len {
            let want = (segment.len - segment_done).min(CHUNK);
            let chunk = buf.get_mut(..want).ok_or(LxError::EFAULT)?;
            let user = segment
                .base
                .checked_add(segment_done)
                .ok_or(LxError::EFAULT)?;
            if copy_from_user(user, chunk).is_err() {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(LxError::EFAULT)
                };
            }
            let result = match position {
                Position::Cursor => write_file(file, chunk).await,
                Position::At(offset) => file.write_at(at(offset, done)?, chunk),
            };
            let written = match result {
                Ok(written) => written.min(want),
                Err(error) if done == 0 => return Err(error),
                Err(_) => return Ok(done),
            };
            done += written;
            segment_done += written;
            if written < want {
                return Ok(done);
            }
        }
    }
    Ok(done)
}

/// Copies `bytes` out into the user buffers `segments`, in order; returns the count copied
/// (`EFAULT` if none could be).
pub(crate) fn copy_out(segments: &[IoVec], bytes: &[u8]) -> LxResult<usize> {
    let mut done = 0usize;
    for segment in segments {
        let rest = bytes.get(done..).unwrap_or_default();
        if rest.is_empty() {
            break;
        }
        let part = rest.get(..segment.len.min(rest.len())).unwrap_or_default();
        if copy_to_user(segment.base, part).is_err() {
            return if done > 0 {
                Ok(done)
            } else {
                Err(LxError::EFAULT)
            };
        }
        done += part.len();
    }
    Ok(done)
}

/// Checks a single buffer the way `vfs_read`/`vfs_write` do and caps it at
/// [`MAX_RW_COUNT`].
fn single(buf: usize, count: usize) -> LxResult<[IoVec; 1]> {
    access_ok(buf, count)?;
    Ok([IoVec {
        base: buf,
        len: count.min(MAX_RW_COUNT),
    }])
}

/// Reads an `iovec` array as Linux's `import_iovec`: `EINVAL` for more than `UIO_MAXIOV`
/// entries or a length that is negative as `ssize_t`, `EFAULT` for an unreadable array or a
/// buffer outside user space; lengths past [`MAX_RW_COUNT`] in total are cut.
pub(crate) fn import_iovec(iov: UserInPtr<IoVec>, count: usize) -> LxResult<Vec<IoVec>> {
    if count > UIO_MAXIOV {
        return Err(LxError::EINVAL);
    }
    let mut vectors = iov.read_array(count)?;
    if vectors
        .iter()
        .any(|vector| isize::try_from(vector.len).is_err())
    {
        return Err(LxError::EINVAL);
    }
    let mut total = 0usize;
    for vector in &mut vectors {
        access_ok(vector.base, vector.len)?;
        vector.len = vector.len.min(MAX_RW_COUNT - total);
        total += vector.len;
    }
    Ok(vectors)
}

/// A `pread64`/`pwrite64` offset: `EINVAL` if negative or if `offset + count` overflows.
fn explicit_offset(offset: i64, count: usize) -> LxResult<u64> {
    let start = u64::try_from(offset).map_err(|_| LxError::EINVAL)?;
    let count = i64::try_from(count).map_err(|_| LxError::EINVAL)?;
    offset.checked_add(count).ok_or(LxError::EINVAL)?;
    Ok(start)
}

impl Syscall<'_> {
    /// `read(fd, buf, count)`.
    pub async fn sys_read(&self, fd: i32, buf: UserOutPtr<u8>, count: usize) -> SysResult {
        let file = self.file(fd)?;
        file.flags().check_readable()?;
        let segments = single(buf.addr(), count)?;
        if file.as_socket().is_some() {
            return self.socket_read(file, &segments).await;
        }
        self.read_cursor(&*file, &segments).await
    }

    /// `write(fd, buf, count)`.
    pub async fn sys_write(&self, fd: i32, buf: UserInPtr<u8>, count: usize) -> SysResult {
        let file = self.file(fd)?;
        file.flags().check_writable()?;
        let segments = single(buf.addr(), count)?;
        if file.as_socket().is_some() {
            return self.socket_write(file, &segments).await;
        }
        self.tty_write_check(&*file)?;
        let written = write_from_user(&*file, &segments, Position::Cursor).await;
        self.raise_broken_pipe(written)
    }

    /// `pread64(fd, buf, count, offset)`: the offset is checked before the descriptor, as
    /// Linux; `ESPIPE` on a stream.
    pub async fn sys_pread64(
        &self,
        fd: i32,
        buf: UserOutPtr<u8>,
        count: usize,
        offset: i64,
    ) -> SysResult {
        if offset < 0 {
            return Err(LxError::EINVAL);
        }
        let file = self.file(fd)?;
        if is_stream(&*file) {
            return Err(LxError::ESPIPE);
        }
        file.flags().check_readable()?;
        let segments = single(buf.addr(), count)?;
        let offset = explicit_offset(offset, count)?;
        read_to_user(&*file, &segments, Position::At(offset)).await
    }

    /// `pwrite64(fd, buf, count, offset)`: as `pread64`; on an `O_APPEND` description the data
    /// goes to the end whatever `offset` says, as Linux does.
    pub async fn sys_pwrite64(
        &self,
        fd: i32,
        buf: UserInPtr<u8>,
        count: usize,
        offset: i64,
    ) -> SysResult {
        if offset < 0 {
            return Err(LxError::EINVAL);
        }
        let file = self.file(fd)?;
        if is_stream(&*file) {
            return Err(LxError::ESPIPE);
        }
        file.flags().check_writable()?;
        let segments = single(buf.addr(), count)?;
        let offset = explicit_offset(offset, count)?;
        write_from_user(&*file, &segments, Position::At(offset)).await
    }

    /// `readv(fd, iov, iovcnt)`.
    pub async fn sys_readv(&self, fd: i32, iov: UserInPtr<IoVec>, iovcnt: usize) -> SysResult {
        let file = self.file(fd)?;
        file.flags().check_readable()?;
        if let Some(read) = crate::inet::host_socket_readv(&*file, iov.addr(), iovcnt) {
            return read;
        }
        let segments = import_iovec(iov, iovcnt)?;
        if segments.is_empty() {
            return Ok(0);
        }
        if file.as_socket().is_some() {
            return self.socket_read(file, &segments).await;
        }
        self.read_cursor(&*file, &segments).await
    }

    /// A read at the description's offset: a terminal's job control first, and a pty in
    /// non-canonical mode counts `VMIN` and `VTIME`.
    async fn read_cursor(&self, file: &dyn FileLike, segments: &[IoVec]) -> SysResult {
        self.tty_read_check(file)?;
        if let Some(done) = self.read_tty_raw(file, segments).await {
            return done;
        }
        read_to_user(file, segments, Position::Cursor).await
    }

    /// `writev(fd, iov, iovcnt)`.
    pub async fn sys_writev(&self, fd: i32, iov: UserInPtr<IoVec>, iovcnt: usize) -> SysResult {
        let file = self.file(fd)?;
        file.flags().check_writable()?;
        if let Some(written) = crate::inet::host_socket_writev(&*file, iov.addr(), iovcnt) {
            return self.raise_broken_pipe(written);
        }
        let segments = import_iovec(iov, iovcnt)?;
        if file.as_socket().is_some() {
            return self.socket_write(file, &segments).await;
        }
        self.tty_write_check(&*file)?;
        let written = write_from_user(&*file, &segments, Position::Cursor).await;
        self.raise_broken_pipe(written)
    }
}

/// `preadv2`/`pwritev2` flags Linux knows (`RWF_HIPRI`, `RWF_DSYNC`, `RWF_SYNC`,
/// `RWF_NOWAIT`, `RWF_APPEND`); the others are `EOPNOTSUPP`.
const RWF_KNOWN: u32 = 0x1f;
/// `RWF_APPEND`: this write goes to the end of the file.
const RWF_APPEND: u32 = 0x10;

/// The offset `preadv`/`pwritev` build from their two halves: on x86-64 the low one holds it
/// all (Linux's `pos_from_hilo` shifts the high one out).
fn vector_offset(pos_l: u64, _pos_h: u64) -> i64 {
    pos_l as i64
}

impl Syscall<'_> {
    /// `preadv(fd, iov, iovcnt, pos_l, pos_h)`: `readv` at an offset, as `pread64` checks it.
    pub async fn sys_preadv(
        &self,
        fd: i32,
        iov: UserInPtr<IoVec>,
        iovcnt: usize,
        pos_l: u64,
        pos_h: u64,
    ) -> SysResult {
        self.read_vector(fd, iov, iovcnt, vector_offset(pos_l, pos_h))
            .await
    }

    /// `pwritev(fd, iov, iovcnt, pos_l, pos_h)`: `writev` at an offset, as `pwrite64`.
    pub async fn sys_pwritev(
        &self,
        fd: i32,
        iov: UserInPtr<IoVec>,
        iovcnt: usize,
        pos_l: u64,
        pos_h: u64,
    ) -> SysResult {
        self.write_vector(fd, iov, iovcnt, vector_offset(pos_l, pos_h), 0)
            .await
    }

    /// `preadv2(fd, iov, iovcnt, pos_l, pos_h, flags)`: `preadv`, or `readv` at the file
    /// offset for offset -1. The flags are hints here (a regular file never waits).
    pub async fn sys_preadv2(
        &self,
        fd: i32,
        iov: UserInPtr<IoVec>,
        iovcnt: usize,
        pos_l: u64,
        pos_h: u64,
        flags: u32,
    ) -> SysResult {
        if flags & !RWF_KNOWN != 0 {
            return Err(LxError::EOPNOTSUPP);
        }
        match vector_offset(pos_l, pos_h) {
            -1 => self.sys_readv(fd, iov, iovcnt).await,
            offset => self.read_vector(fd, iov, iovcnt, offset).await,
        }
    }

    /// `pwritev2(fd, iov, iovcnt, pos_l, pos_h, flags)`: `pwritev`, or `writev` at the file
    /// offset for offset -1; `RWF_APPEND` writes at the end of the file.
    pub async fn sys_pwritev2(
        &self,
        fd: i32,
        iov: UserInPtr<IoVec>,
        iovcnt: usize,
        pos_l: u64,
        pos_h: u64,
        flags: u32,
    ) -> SysResult {
        if flags & !RWF_KNOWN != 0 {
            return Err(LxError::EOPNOTSUPP);
        }
        match vector_offset(pos_l, pos_h) {
            -1 if flags & RWF_APPEND == 0 => self.sys_writev(fd, iov, iovcnt).await,
            offset => self.write_vector(fd, iov, iovcnt, offset, flags).await,
        }
    }

    /// `preadv`'s work: the offset is checked before the descriptor, a stream is `ESPIPE`.
    async fn read_vector(
        &self,
        fd: i32,
        iov: UserInPtr<IoVec>,
        iovcnt: usize,
        offset: i64,
    ) -> SysResult {
        let offset = u64::try_from(offset).map_err(|_| LxError::EINVAL)?;
        let file = self.file(fd)?;
        if is_stream(&*file) {
            return Err(LxError::ESPIPE);
        }
        file.flags().check_readable()?;
        let segments = import_iovec(iov, iovcnt)?;
        if segments.is_empty() {
            return Ok(0);
        }
        read_to_user(&*file, &segments, Position::At(offset)).await
    }

    /// `pwritev`'s work, with `RWF_APPEND` in `flags` writing at the end of the file (an
    /// offset of -1 allowed then).
    async fn write_vector(
        &self,
        fd: i32,
        iov: UserInPtr<IoVec>,
        iovcnt: usize,
        offset: i64,
        flags: u32,
    ) -> SysResult {
        let append = flags & RWF_APPEND != 0;
        if offset < 0 && !(append && offset == -1) {
            return Err(LxError::EINVAL);
        }
        let file = self.file(fd)?;
        if is_stream(&*file) {
            return Err(LxError::ESPIPE);
        }
        file.flags().check_writable()?;
        let segments = import_iovec(iov, iovcnt)?;
        let offset = if append {
            file.metadata()?.size
        } else {
            offset.unsigned_abs()
        };
        let written = write_from_user(&*file, &segments, Position::At(offset)).await;
        self.raise_broken_pipe(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, int, run, Sandbox};
    use linux_object::fs::{File, OpenFlags, Pipe};

    const READ: u32 = 0;
    const WRITE: u32 = 1;
    const PREAD64: u32 = 17;
    const PWRITE64: u32 = 18;
    const READV: u32 = 19;
    const WRITEV: u32 = 20;

    fn open(sandbox: &Sandbox, path: &str, flags: OpenFlags) -> usize {
        let sys = sandbox.syscall();
        let inode = sandbox.process.root().inode.lookup(path).unwrap();
        let fd = sys
            .process
            .files()
            .add(File::with_path(inode, flags, path.into()), false)
            .unwrap();
        fd as usize
    }

    #[test]
    fn read_and_write_move_the_offset() {
        let sandbox = Sandbox::new("rw-basic");
        sandbox.write("f", b"hello world");
        let sys = sandbox.syscall();
        let fd = open(&sandbox, "f", OpenFlags::RDWR);
        let buf = sandbox.buf(64);
        assert_eq!(run(&sys, READ, &[fd, buf, 5]), 5);
        assert_eq!(sandbox.user.get_bytes(buf, 5), b"hello");
        assert_eq!(run(&sys, READ, &[fd, buf, 64]), 6);
        assert_eq!(run(&sys, READ, &[fd, buf, 64]), 0);
        let data = sandbox.user.put_bytes(b"!!");
        assert_eq!(run(&sys, WRITE, &[fd, data, 2]), 2);
        assert_eq!(sandbox.read("f"), b"hello world!!");
        // Zero-length calls still check the descriptor and its mode.
        assert_eq!(run(&sys, READ, &[fd, 0, 0]), 0);
        assert_eq!(run(&sys, READ, &[99, buf, 0]), err(LxError::EBADF));
        assert_eq!(run(&sys, READ, &[int(-1), buf, 1]), err(LxError::EBADF));
    }

    #[test]
    fn access_mode_and_bad_buffers() {
        let sandbox = Sandbox::new("rw-errors");
        sandbox.write("f", b"data");
        let sys = sandbox.syscall();
        let read_only = open(&sandbox, "f", OpenFlags::empty());
        let buf = sandbox.buf(8);
        assert_eq!(run(&sys, WRITE, &[read_only, buf, 1]), err(LxError::EBADF));
        assert_eq!(run(&sys, WRITE, &[read_only, buf, 0]), err(LxError::EBADF));
        assert_eq!(run(&sys, READ, &[read_only, 0, 4]), err(LxError::EFAULT));
        // A count reaching past user space faults before anything is read.
        assert_eq!(
            run(&sys, READ, &[read_only, buf, usize::MAX / 2]),
            err(LxError::EFAULT)
        );
        // A buffer that faults partway returns what fit, and the offset counts only that.
        let near_end = sandbox.user.unmapped() - 2;
        assert_eq!(
            run(&sys, READ, &[read_only, near_end, 4]),
            err(LxError::EFAULT)
        );
        assert_eq!(run(&sys, READ, &[read_only, buf, 8]), 4);
        let dir = open(&sandbox, ".", OpenFlags::empty());
        assert_eq!(run(&sys, READ, &[dir, buf, 8]), err(LxError::EISDIR));
        assert_eq!(run(&sys, READ, &[dir, buf, 0]), err(LxError::EISDIR));
    }

    #[test]
    fn large_transfers_go_in_chunks() {
        let sandbox = Sandbox::new("rw-large");
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        sandbox.write("big", &data);
        let sys = sandbox.syscall();
        let fd = open(&sandbox, "big", OpenFlags::empty());
        let buf = sandbox.buf(data.len());
        assert_eq!(
            run(&sys, READ, &[fd, buf, data.len() + 10]),
            data.len() as isize
        );
        assert_eq!(sandbox.user.get_bytes(buf, data.len()), data);
    }

    #[test]
    fn pread_and_pwrite() {
        let sandbox = Sandbox::new("rw-pread");
        sandbox.write("f", b"0123456789");
        let sys = sandbox.syscall();
        let fd = open(&sandbox, "f", OpenFlags::RDWR);
        let buf = sandbox.buf(8);
        assert_eq!(run(&sys, PREAD64, &[fd, buf, 3, 4]), 3);
        assert_eq!(sandbox.user.get_bytes(buf, 3), b"456");
        assert_eq!(run(&sys, PREAD64, &[fd, buf, 3, 20]), 0);
        assert_eq!(
            run(&sys, PREAD64, &[99, buf, 3, int(-1)]),
            err(LxError::EINVAL)
        );
        assert_eq!(run(&sys, PWRITE64, &[fd, buf, 2, 0]), 2);
        assert_eq!(sandbox.read("f"), b"4523456789");
        assert_eq!(run(&sys, READ, &[fd, buf, 1]), 1, "offset untouched");
        let (reader, _writer) = Pipe::new_pair(OpenFlags::empty());
        let pipe = sys.process.files().add(reader, false).unwrap() as usize;
        assert_eq!(run(&sys, PREAD64, &[pipe, buf, 1, 0]), err(LxError::ESPIPE));
    }

    #[test]
    fn vectors() {
        let sandbox = Sandbox::new("rw-vectors");
        sandbox.write("f", b"");
        let sys = sandbox.syscall();
        let fd = open(&sandbox, "f", OpenFlags::RDWR);
        let a = sandbox.user.put_bytes(b"abc");
        let b = sandbox.user.put_bytes(b"defg");
        let iov = sandbox.buf(32);
        crate::user::UserOutPtr::<IoVec>::from(iov)
            .write_array(&[IoVec { base: a, len: 3 }, IoVec { base: b, len: 4 }])
            .unwrap();
        assert_eq!(run(&sys, WRITEV, &[fd, iov, 2]), 7);
        assert_eq!(sandbox.read("f"), b"abcdefg");
        assert_eq!(run(&sys, WRITEV, &[fd, iov, 1025]), err(LxError::EINVAL));
        assert_eq!(run(&sys, WRITEV, &[fd, iov, int(-1)]), err(LxError::EINVAL));
        assert_eq!(run(&sys, WRITEV, &[fd, 0, 1]), err(LxError::EFAULT));
        assert_eq!(run(&sys, READV, &[fd, iov, 0]), 0);
        let bad = sandbox.buf(16);
        crate::user::UserOutPtr::<IoVec>::from(bad)
            .write(IoVec {
                base: a,
                len: usize::MAX,
            })
            .unwrap();
        assert_eq!(run(&sys, READV, &[fd, bad, 1]), err(LxError::EINVAL));
        let mut sys_file = sys.file(fd as i32).unwrap();
        sys_file.seek(SeekFrom::Start(1)).unwrap();
        sys_file = sys.file(fd as i32).unwrap();
        drop(sys_file);
        assert_eq!(run(&sys, READV, &[fd, iov, 2]), 6);
        assert_eq!(sandbox.user.get_bytes(a, 3), b"bcd");
        assert_eq!(sandbox.user.get_bytes(b, 3), b"efg");
    }

    #[test]
    fn a_pipe_read_returns_what_is_there() {
        let sandbox = Sandbox::new("rw-pipe");
        let sys = sandbox.syscall();
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        writer.write(b"abc").unwrap();
        let fd = sys.process.files().add(reader, false).unwrap() as usize;
        let wfd = sys.process.files().add(writer, false).unwrap() as usize;
        let buf = sandbox.buf(1000);
        assert_eq!(run(&sys, READ, &[fd, buf, 1000]), 3);
        assert_eq!(run(&sys, WRITE, &[wfd, buf, 0]), 0);
        let big = sandbox.buf(90_000);
        assert_eq!(run(&sys, WRITE, &[wfd, big, 60_000]), 60_000);
        assert_eq!(run(&sys, READ, &[fd, big, 90_000]), 60_000);
    }

    #[test]
    fn a_write_with_no_reader_left_raises_sigpipe() {
        let sandbox = Sandbox::new("rw-epipe");
        let sys = sandbox.syscall();
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        drop(reader);
        let wfd = sys.process.files().add(writer, false).unwrap() as usize;
        let buf = sandbox.buf(8);
        assert_eq!(sandbox.machine().signals(), []);
        assert_eq!(run(&sys, WRITE, &[wfd, buf, 8]), err(LxError::EPIPE));
        let iov = sandbox.buf(16);
        crate::user::UserOutPtr::<IoVec>::from(iov)
            .write(IoVec { base: buf, len: 8 })
            .unwrap();
        assert_eq!(run(&sys, WRITEV, &[wfd, iov, 1]), err(LxError::EPIPE));
        let me = crate::host::SignalTarget::Process(sys.process.pid());
        assert_eq!(sandbox.machine().signals(), [(me, 13), (me, 13)]);
    }

    #[test]
    fn vectored_reads_and_writes_at_an_offset() {
        const PREADV: u32 = 295;
        const PWRITEV: u32 = 296;
        const PREADV2: u32 = 327;
        const PWRITEV2: u32 = 328;
        let sandbox = Sandbox::new("rw-vectored-at");
        sandbox.write("f", b"0123456789");
        let sys = sandbox.syscall();
        let fd = open(&sandbox, "f", OpenFlags::RDWR);
        let a = sandbox.user.put_bytes(b"ab");
        let b = sandbox.user.put_bytes(b"cde");
        let iov = sandbox.buf(32);
        crate::user::UserOutPtr::<IoVec>::from(iov)
            .write_array(&[IoVec { base: a, len: 2 }, IoVec { base: b, len: 3 }])
            .unwrap();
        assert_eq!(run(&sys, PWRITEV, &[fd, iov, 2, 3, 0]), 5);
        assert_eq!(sandbox.read("f"), b"012abcde89");
        // The file offset stays where it was.
        assert_eq!(run(&sys, READ, &[fd, a, 2]), 2);
        assert_eq!(sandbox.user.get_bytes(a, 2), b"01");
        assert_eq!(run(&sys, PREADV, &[fd, iov, 2, 6, 0]), 4);
        assert_eq!(sandbox.user.get_bytes(a, 2), b"de");
        assert_eq!(sandbox.user.get_bytes(b, 2), b"89");
        assert_eq!(
            run(&sys, PREADV, &[fd, iov, 2, int(-1), 0]),
            err(LxError::EINVAL)
        );
        // preadv2 at -1 reads at the file offset (2 after the read above) and moves it.
        assert_eq!(run(&sys, PREADV2, &[fd, iov, 1, int(-1), 0, 0]), 2);
        assert_eq!(sandbox.user.get_bytes(a, 2), b"2a");
        assert_eq!(run(&sys, PREADV2, &[fd, iov, 1, int(-1), 0, 0]), 2);
        assert_eq!(sandbox.user.get_bytes(a, 2), b"bc");
        assert_eq!(
            run(&sys, PREADV2, &[fd, iov, 1, 0, 0, 0x100]),
            err(LxError::EOPNOTSUPP)
        );
        // RWF_APPEND writes at the end whatever the offset says.
        assert_eq!(run(&sys, PWRITEV2, &[fd, iov, 1, 0, 0, 0x10]), 2);
        assert_eq!(sandbox.read("f"), b"012abcde89bc");
        assert_eq!(
            run(&sys, PWRITEV2, &[fd, iov, 1, int(-2), 0, 0]),
            err(LxError::EINVAL)
        );
        let (reader, _writer) = Pipe::new_pair(OpenFlags::empty());
        let pipe = sys.process.files().add(reader, false).unwrap() as usize;
        assert_eq!(
            run(&sys, PREADV, &[pipe, iov, 1, 0, 0]),
            err(LxError::ESPIPE)
        );
    }
}
