//! `splice`, `tee`, `vmsplice`: data into, out of and between rVisor's pipes, with the
//! waits and errors of Linux's `fs/splice.c`.
//!
//! A pipe here is a byte queue, not a ring of page references, so "splicing" copies bytes
//! (at most a pipe's capacity per call) where Linux moves pages; what a program sees is the
//! same: the counts, the waits, which side's offset moves. Two pipes are locked together in
//! address order, a pipe's room is reserved while a splice reads a file or socket into it,
//! and bytes taken out of a pipe for a file go back to its front if they could not be
//! written, so concurrent readers and writers of either side never lose or duplicate data
//! (an inherited host pipe, which rVisor only reads and writes, excepted: see
//! `through_host_pipe`).

use alloc::sync::Arc;
use core::future::poll_fn;
use linux_object::fs::{
    read_file, write_file, Epoll, EventFd, FileLike, OpenFlags, PidFd, Pipe, PollEvents, SeekFrom,
    SignalFd, StdioFile, TimerFd, PIPE_BUF, PIPE_CAPACITY,
};
use linux_object::{LxError, LxResult};

use super::rw::{copy_out, import_iovec, IoVec};
use super::{is_stream, MAX_RW_COUNT};
use crate::user::{copy_from_user, try_buffer, UserInOutPtr, UserInPtr};
use crate::{SysResult, Syscall};

/// `SPLICE_F_NONBLOCK`: the pipe operations do not wait (the other side still may).
const SPLICE_F_NONBLOCK: u32 = 0x2;
/// Every `SPLICE_F_*` flag (`MOVE`, `NONBLOCK`, `MORE`, `GIFT`); `MOVE`, `MORE` and `GIFT`
/// are hints with nothing to do for a copying pipe.
const SPLICE_F_ALL: u32 = 0xf;

/// Bytes written to a file per step when emptying a pipe into it.
const CHUNK: usize = 64 * 1024;

fn as_pipe(file: &Arc<dyn FileLike>) -> Option<&Pipe> {
    file.as_any().downcast_ref::<Pipe>()
}

/// Whether `file` is a pipe of the host's (an inherited stdio pipe): a pipe to Linux's splice,
/// whose bytes rVisor can only read and write.
fn is_host_pipe(file: &dyn FileLike) -> bool {
    file.as_any().is::<StdioFile>()
        && file
            .metadata()
            .is_ok_and(|metadata| metadata.type_ == kernel_hostfs::FileType::NamedPipe)
}

/// Whether Linux gives the kind of `file` `splice_read` and `splice_write` operations:
/// files of a filesystem but directories, sockets, terminals, devices and inherited host
/// files do; epoll, eventfd, timerfd, signalfd and pidfd descriptors do not (`EINVAL`).
fn check_splices(file: &dyn FileLike) -> LxResult<()> {
    let any = file.as_any();
    let anonymous = any.is::<Epoll>()
        || any.is::<EventFd>()
        || any.is::<TimerFd>()
        || any.is::<SignalFd>()
        || any.is::<PidFd>();
    let directory = match file.inode() {
        Some(inode) => inode.file_type()? == kernel_hostfs::FileType::Dir,
        None => false,
    };
    if anonymous || directory {
        Err(LxError::EINVAL)
    } else {
        Ok(())
    }
}

/// Linux's `rw_verify_area` for a splice at `pos` of `len` bytes: `EINVAL` for a length
/// negative as `ssize_t`, a negative position or an end past `i64::MAX`.
fn verify_area(pos: i64, len: usize) -> LxResult<u64> {
    let count = i64::try_from(len).map_err(|_| LxError::EINVAL)?;
    let start = u64::try_from(pos).map_err(|_| LxError::EINVAL)?;
    pos.checked_add(count).ok_or(LxError::EINVAL)?;
    Ok(start)
}

/// The offset a seekable side works at: `explicit` (from the caller, left for it to update)
/// or the description's own.
fn position(file: &dyn FileLike, explicit: Option<i64>) -> LxResult<i64> {
    match explicit {
        Some(pos) => Ok(pos),
        None if is_stream(file) => Ok(0),
        None => i64::try_from(file.seek(SeekFrom::Current(0))?).map_err(|_| LxError::EOVERFLOW),
    }
}

/// After a splice moved `done` bytes at `start` of a seekable side: the description's own
/// offset moves, or the new offset is returned for the caller's `off_in`/`off_out`.
fn advance(file: &dyn FileLike, explicit: bool, start: u64, done: usize) -> LxResult<i64> {
    let end = start.checked_add(done as u64).ok_or(LxError::EOVERFLOW)?;
    if !explicit && !is_stream(file) {
        file.seek(SeekFrom::Start(end))?;
    }
    i64::try_from(end).map_err(|_| LxError::EOVERFLOW)
}

/// `splice` or `tee` between two pipes (Linux's `splice_pipe_to_pipe` and `link_pipe`):
/// waits for data in `input` (the end of its data is 0) and room in `output`.
async fn pipe_to_pipe(
    input: &Pipe,
    output: &Pipe,
    len: usize,
    nonblock: bool,
    keep: bool,
) -> LxResult<usize> {
    loop {
        poll_fn(|cx| input.poll_splice_input(cx, nonblock)).await?;
        poll_fn(|cx| output.poll_splice_output(cx, nonblock)).await?;
        if let Some(done) = input.transfer_to(output, len, keep)? {
            return Ok(done);
        }
        if nonblock {
            return Err(LxError::EAGAIN);
        }
    }
}

/// `splice` from a pipe to a file or socket (Linux's `iter_file_splice_write`): waits for
/// data, then writes what the pipe holds, up to `len`, at `at` (a seekable file) or as a
/// `write` would (a stream, which may wait for room of its own).
async fn pipe_to_file(
    input: &Pipe,
    output: &dyn FileLike,
    at: Option<u64>,
    len: usize,
    nonblock: bool,
) -> LxResult<usize> {
    if !poll_fn(|cx| input.poll_splice_input(cx, nonblock)).await? {
        return Ok(0);
    }
    let mut done = 0usize;
    while done < len {
        let mut taken = input.take((len - done).min(CHUNK))?;
        let want = taken.data().len();
        if want == 0 {
            break;
        }
        let written = match at {
            Some(at) => {
                let at = at.checked_add(done as u64).ok_or(LxError::EINVAL)?;
                output.write_at(at, taken.data())
            }
            // A host pipe is a pipe: `nonblock` is for it too.
            None if nonblock && is_host_pipe(output) => output.write(taken.data()),
            None => write_file(output, taken.data()).await,
        };
        match written {
            Ok(written) => {
                let written = written.min(want);
                taken.deliver(written);
                done += written;
                if written < want {
                    break;
                }
            }
            Err(error) if done == 0 => return Err(error),
            Err(_) => break,
        }
    }
    Ok(done)
}

/// `splice` where a side is a host pipe and the other no rVisor pipe: a read of up to `len`
/// bytes (a pipe's worth at most; one `PIPE_BUF` into a host pipe that must not wait, which
/// takes that much once it polls writable), then a write of them. `nonblock` makes a host
/// pipe's read or write `EAGAIN` instead of waiting. Bytes read from a stream that the output
/// then refuses are lost (a host pipe cannot take them back).
async fn through_host_pipe(
    input: &dyn FileLike,
    in_at: Option<u64>,
    output: &dyn FileLike,
    out_at: Option<u64>,
    len: usize,
    nonblock: bool,
) -> LxResult<usize> {
    let output_waits = is_host_pipe(output) && nonblock;
    let mut want = len.min(PIPE_CAPACITY);
    if output_waits {
        if !output.poll_events(None).contains(PollEvents::OUT) {
            return Err(LxError::EAGAIN);
        }
        want = want.min(PIPE_BUF);
    }
    check_splices(input)?;
    let mut buf = try_buffer(want)?;
    let got = match in_at {
        Some(at) => input.read_at(at, &mut buf)?,
        None if nonblock && is_host_pipe(input) => input.read(&mut buf)?,
        None => read_file(input, &mut buf).await?,
    };
    let data = buf.get(..got).unwrap_or_default();
    if data.is_empty() {
        return Ok(0);
    }
    match out_at {
        Some(at) => output.write_at(at, data),
        None if output_waits => output.write(data),
        None => write_file(output, data).await,
    }
}

/// `splice` from a file or socket to a pipe (Linux's `splice_file_to_pipe`): waits for room,
/// then reads at most that much, at `at` (a seekable file) or as a `read` would (a stream,
/// which may wait for data of its own), into the room reserved for it.
async fn file_to_pipe(
    input: &dyn FileLike,
    at: Option<u64>,
    output: &Pipe,
    len: usize,
    nonblock: bool,
) -> LxResult<usize> {
    loop {
        let room = poll_fn(|cx| output.poll_splice_output(cx, nonblock)).await?;
        check_splices(input)?;
        let Some(reservation) = output.reserve(len.min(room).min(MAX_RW_COUNT))? else {
            if nonblock {
                return Err(LxError::EAGAIN);
            }
            continue;
        };
        let mut buf = try_buffer(reservation.len())?;
        let got = match at {
            Some(at) => input.read_at(at, &mut buf)?,
            // A host pipe is a pipe: `nonblock` is for it too.
            None if nonblock && is_host_pipe(input) => input.read(&mut buf)?,
            None => read_file(input, &mut buf).await?,
        };
        return reservation.fill(buf.get(..got).unwrap_or_default());
    }
}

impl Syscall<'_> {
    /// `splice(fd_in, off_in, fd_out, off_out, len, flags)`: one side at least a pipe
    /// (`EINVAL` otherwise; an inherited host pipe counts, read and written through); an
    /// offset for a pipe is `ESPIPE`, for a socket or other stream `EINVAL`; an offset given moves instead of the description's; an `O_APPEND` output is
    /// `EINVAL`. `SPLICE_F_NONBLOCK`, or `O_NONBLOCK` on the pipe, makes the pipe's waits
    /// `EAGAIN`.
    pub async fn sys_splice(
        &self,
        fd_in: i32,
        off_in: UserInOutPtr<i64>,
        fd_out: i32,
        off_out: UserInOutPtr<i64>,
        len: usize,
        flags: u32,
    ) -> SysResult {
        if len == 0 {
            return Ok(0);
        }
        if flags & !SPLICE_F_ALL != 0 {
            return Err(LxError::EINVAL);
        }
        let input = self.file(fd_in)?;
        let output = self.file(fd_out)?;
        let in_pipe = as_pipe(&input);
        let out_pipe = as_pipe(&output);
        let in_host_pipe = in_pipe.is_none() && is_host_pipe(&*input);
        let out_host_pipe = out_pipe.is_none() && is_host_pipe(&*output);
        if ((in_pipe.is_some() || in_host_pipe) && !off_in.is_null())
            || ((out_pipe.is_some() || out_host_pipe) && !off_out.is_null())
        {
            return Err(LxError::ESPIPE);
        }
        let out_explicit = off_out.read_if_not_null()?;
        let in_explicit = off_in.read_if_not_null()?;
        if !input.flags().readable() || !output.flags().writable() {
            return Err(LxError::EBADF);
        }
        let nonblock = flags & SPLICE_F_NONBLOCK != 0;
        let nonblocking = |file: &Arc<dyn FileLike>| file.flags().contains(OpenFlags::NONBLOCK);
        let result = match (in_pipe, out_pipe) {
            (Some(in_pipe), Some(out_pipe)) => {
                if in_pipe.same_pipe(out_pipe) {
                    return Err(LxError::EINVAL);
                }
                let nonblock = nonblock || nonblocking(&input) || nonblocking(&output);
                pipe_to_pipe(in_pipe, out_pipe, len, nonblock, false).await
            }
            (Some(in_pipe), None) => {
                if out_explicit.is_some() && is_stream(&*output) {
                    return Err(LxError::EINVAL);
                }
                if output.flags().contains(OpenFlags::APPEND) {
                    return Err(LxError::EINVAL);
                }
                let start = verify_area(position(&*output, out_explicit)?, len)?;
                check_splices(&*output)?;
                let nonblock = nonblock
                    || nonblocking(&input)
                    || (is_host_pipe(&*output) && nonblocking(&output));
                let at = (!is_stream(&*output)).then_some(start);
                let moved = pipe_to_file(in_pipe, &*output, at, len, nonblock).await;
                if let Ok(done) = moved {
                    let end = advance(&*output, out_explicit.is_some(), start, done)?;
                    if out_explicit.is_some() {
                        off_out.write(end)?;
                    }
                }
                moved
            }
            (None, Some(out_pipe)) => {
                if in_explicit.is_some() && is_stream(&*input) {
                    return Err(LxError::EINVAL);
                }
                let nonblock = nonblock
                    || nonblocking(&output)
                    || (is_host_pipe(&*input) && nonblocking(&input));
                let pos = position(&*input, in_explicit)?;
                // Linux caps the length at the pipe's room before `rw_verify_area`.
                let start = verify_area(pos, len.min(PIPE_CAPACITY))?;
                let at = (!is_stream(&*input)).then_some(start);
                let moved = file_to_pipe(&*input, at, out_pipe, len, nonblock).await;
                if let Ok(done) = moved {
                    let end = advance(&*input, in_explicit.is_some(), start, done)?;
                    if in_explicit.is_some() {
                        off_in.write(end)?;
                    }
                }
                moved
            }
            (None, None) if in_host_pipe || out_host_pipe => {
                if out_explicit.is_some() && is_stream(&*output)
                    || in_explicit.is_some() && is_stream(&*input)
                    || output.flags().contains(OpenFlags::APPEND) && !out_host_pipe
                {
                    return Err(LxError::EINVAL);
                }
                check_splices(&*output)?;
                let in_start = verify_area(position(&*input, in_explicit)?, len)?;
                let out_start = verify_area(position(&*output, out_explicit)?, len)?;
                let in_at = (!is_stream(&*input)).then_some(in_start);
                let out_at = (!is_stream(&*output)).then_some(out_start);
                let nonblock = nonblock
                    || (in_host_pipe && nonblocking(&input))
                    || (out_host_pipe && nonblocking(&output));
                let moved =
                    through_host_pipe(&*input, in_at, &*output, out_at, len, nonblock).await;
                if let Ok(done) = moved {
                    let in_end = advance(&*input, in_explicit.is_some(), in_start, done)?;
                    let out_end = advance(&*output, out_explicit.is_some(), out_start, done)?;
                    if out_explicit.is_some() {
                        off_out.write(out_end)?;
                    }
                    if in_explicit.is_some() {
                        off_in.write(in_end)?;
                    }
                }
                moved
            }
            (None, None) => Err(LxError::EINVAL),
        };
        self.raise_broken_pipe(result)
    }

    /// `tee(fd_in, fd_out, len, flags)`: copies up to `len` bytes from one pipe to another
    /// without consuming them; both must be pipes, and not the same one (`EINVAL`).
    pub async fn sys_tee(&self, fd_in: i32, fd_out: i32, len: usize, flags: u32) -> SysResult {
        if flags & !SPLICE_F_ALL != 0 {
            return Err(LxError::EINVAL);
        }
        if len == 0 {
            return Ok(0);
        }
        let input = self.file(fd_in)?;
        let output = self.file(fd_out)?;
        if !input.flags().readable() || !output.flags().writable() {
            return Err(LxError::EBADF);
        }
        let (Some(in_pipe), Some(out_pipe)) = (as_pipe(&input), as_pipe(&output)) else {
            return Err(LxError::EINVAL);
        };
        if in_pipe.same_pipe(out_pipe) {
            return Err(LxError::EINVAL);
        }
        let nonblock = flags & SPLICE_F_NONBLOCK != 0
            || input.flags().contains(OpenFlags::NONBLOCK)
            || output.flags().contains(OpenFlags::NONBLOCK);
        let copied = pipe_to_pipe(in_pipe, out_pipe, len, nonblock, true).await;
        self.raise_broken_pipe(copied)
    }

    /// `vmsplice(fd, iov, nr_segs, flags)`: into a pipe open for writing (what fits once
    /// there is room), or out of a pipe open only for reading into the buffers (once there is
    /// data); a descriptor that is not a pipe is `EBADF`. Only `SPLICE_F_NONBLOCK` changes
    /// anything (`SPLICE_F_GIFT` gives pages a copying pipe does not keep).
    pub async fn sys_vmsplice(
        &self,
        fd: i32,
        iov: UserInPtr<IoVec>,
        nr_segs: usize,
        flags: u32,
    ) -> SysResult {
        if flags & !SPLICE_F_ALL != 0 {
            return Err(LxError::EINVAL);
        }
        let file = self.file(fd)?;
        let writes = file.flags().writable();
        if !writes && !file.flags().readable() {
            return Err(LxError::EBADF);
        }
        let segments = import_iovec(iov, nr_segs)?;
        let total: usize = segments.iter().map(|segment| segment.len).sum();
        if total == 0 {
            return Ok(0);
        }
        let pipe = as_pipe(&file).ok_or(LxError::EBADF)?;
        let nonblock = flags & SPLICE_F_NONBLOCK != 0;
        if writes {
            let written = vmsplice_to_pipe(pipe, &segments, total, nonblock).await;
            self.raise_broken_pipe(written)
        } else {
            if !poll_fn(|cx| pipe.poll_splice_input(cx, nonblock)).await? {
                return Ok(0);
            }
            let mut taken = pipe.take(total)?;
            let copied = copy_out(&segments, taken.data())?;
            taken.deliver(copied);
            Ok(copied)
        }
    }
}

/// Copies user memory at `base` into `buf` page by page, as Linux pins a `vmsplice`'s pages,
/// stopping at the first page that cannot be read; returns the count copied.
fn copy_in_pages(base: usize, buf: &mut [u8]) -> usize {
    const PAGE: usize = 4096;
    let mut done = 0usize;
    while done < buf.len() {
        let addr = base.wrapping_add(done);
        let step = (PAGE - addr % PAGE).min(buf.len() - done);
        let Some(piece) = buf.get_mut(done..done + step) else {
            break;
        };
        if copy_from_user(addr, piece).is_err() {
            break;
        }
        done += step;
    }
    done
}

/// `vmsplice` into a pipe (Linux's `vmsplice_to_pipe`): waits for room, then copies in what
/// fits, stopping at the first fault (`EFAULT` if nothing was copied).
async fn vmsplice_to_pipe(
    pipe: &Pipe,
    segments: &[IoVec],
    total: usize,
    nonblock: bool,
) -> LxResult<usize> {
    loop {
        let room = poll_fn(|cx| pipe.poll_splice_output(cx, nonblock)).await?;
        let mut buf = try_buffer(total.min(room))?;
        let mut copied = 0usize;
        for segment in segments {
            let Some(rest) = buf.get_mut(copied..).filter(|rest| !rest.is_empty()) else {
                break;
            };
            let part = segment.len.min(rest.len());
            let chunk = rest.get_mut(..part).unwrap_or_default();
            let readable = copy_in_pages(segment.base, chunk);
            copied += readable;
            if readable < part {
                break;
            }
        }
        if copied == 0 {
            return Err(LxError::EFAULT);
        }
        let Some(reservation) = pipe.reserve(copied)? else {
            if nonblock {
                return Err(LxError::EAGAIN);
            }
            continue;
        };
        return reservation.fill(buf.get(..copied).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, run, Sandbox};
    use std::vec::Vec;

    const READ: u32 = 0;
    const WRITE: u32 = 1;
    const OPEN: u32 = 2;
    const LSEEK: u32 = 8;
    const SPLICE: u32 = 275;
    const TEE: u32 = 276;
    const VMSPLICE: u32 = 278;
    const NONBLOCK: usize = SPLICE_F_NONBLOCK as usize;

    /// A pipe's (read, write) descriptors.
    fn pipe(sys: &Syscall<'_>) -> (usize, usize) {
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        let mut files = sys.process.files();
        let read_fd = files.add(reader, false).unwrap() as usize;
        (read_fd, files.add(writer, false).unwrap() as usize)
    }

    fn put(sandbox: &Sandbox, sys: &Syscall<'_>, fd: usize, data: &[u8]) {
        let buf = sandbox.user.put_bytes(data);
        assert_eq!(run(sys, WRITE, &[fd, buf, data.len()]), data.len() as isize);
    }

    fn get(sandbox: &Sandbox, sys: &Syscall<'_>, fd: usize, len: usize) -> Vec<u8> {
        let buf = sandbox.buf(len);
        let got = run(sys, READ, &[fd, buf, len]);
        assert!(got >= 0, "read: {got}");
        sandbox.user.get_bytes(buf, got as usize)
    }

    #[test]
    fn splice_moves_between_pipes_and_tee_copies() {
        let sandbox = Sandbox::new("splice-pipes");
        let sys = sandbox.syscall();
        let (a_read, a_write) = pipe(&sys);
        let (b_read, b_write) = pipe(&sys);
        put(&sandbox, &sys, a_write, b"hello world");
        assert_eq!(run(&sys, TEE, &[a_read, b_write, 5, 0]), 5);
        assert_eq!(get(&sandbox, &sys, b_read, 64), b"hello");
        assert_eq!(run(&sys, SPLICE, &[a_read, 0, b_write, 0, 6, 0]), 6);
        assert_eq!(get(&sandbox, &sys, b_read, 64), b"hello ");
        assert_eq!(get(&sandbox, &sys, a_read, 64), b"world");
        assert_eq!(
            run(&sys, SPLICE, &[a_read, 0, b_write, 0, 6, NONBLOCK]),
            err(LxError::EAGAIN)
        );
        assert_eq!(
            run(&sys, TEE, &[a_read, b_write, 6, NONBLOCK]),
            err(LxError::EAGAIN)
        );
        assert_eq!(
            run(&sys, SPLICE, &[a_read, 0, a_write, 0, 1, 0]),
            err(LxError::EINVAL)
        );
        assert_eq!(
            run(&sys, TEE, &[a_read, a_write, 1, 0]),
            err(LxError::EINVAL)
        );
        assert_eq!(
            run(&sys, TEE, &[a_read, b_write, 1, 0x10]),
            err(LxError::EINVAL)
        );
        assert_eq!(run(&sys, TEE, &[a_read, b_write, 0, 0]), 0);
        let offset = sandbox.user.put_bytes(&0i64.to_le_bytes());
        assert_eq!(
            run(&sys, SPLICE, &[a_read, offset, b_write, 0, 1, 0]),
            err(LxError::ESPIPE)
        );
        assert_eq!(
            run(&sys, SPLICE, &[b_write, 0, a_read, 0, 1, 0]),
            err(LxError::EBADF)
        );
        assert_eq!(run(&sys, SPLICE, &[99, 0, 98, 0, 0, 0]), 0, "len 0 first");
        assert_eq!(
            run(&sys, SPLICE, &[99, 0, b_write, 0, 1, 0]),
            err(LxError::EBADF)
        );
        let mut files = sys.process.files();
        let writer = files.close(a_write as i32).unwrap();
        drop(files);
        drop(writer);
        assert_eq!(run(&sys, SPLICE, &[a_read, 0, b_write, 0, 6, 0]), 0, "end");
        assert_eq!(run(&sys, TEE, &[a_read, b_write, 6, 0]), 0);
        let reader = sys.process.files().close(b_read as i32).unwrap();
        drop(reader);
        let (c_read, c_write) = pipe(&sys);
        put(&sandbox, &sys, c_write, b"x");
        assert_eq!(
            run(&sys, SPLICE, &[c_read, 0, b_write, 0, 1, 0]),
            err(LxError::EPIPE)
        );
        assert_eq!(get(&sandbox, &sys, c_read, 8), b"x", "nothing lost");
    }

    #[test]
    fn splice_between_a_file_and_a_pipe_moves_the_right_offset() {
        let sandbox = Sandbox::new("splice-file");
        sandbox.write("src", b"0123456789");
        sandbox.write("dst", b"");
        sandbox.mkdir("d");
        let sys = sandbox.syscall();
        let src = run(&sys, OPEN, &[sandbox.cstr("src"), 0]) as usize;
        let dst = run(&sys, OPEN, &[sandbox.cstr("dst"), 1]) as usize;
        let (p_read, p_write) = pipe(&sys);
        assert_eq!(run(&sys, SPLICE, &[src, 0, p_write, 0, 4, 0]), 4);
        assert_eq!(run(&sys, LSEEK, &[src, 0, 1]), 4, "own offset moved");
        let offset = sandbox.user.put_bytes(&7i64.to_le_bytes());
        assert_eq!(run(&sys, SPLICE, &[src, offset, p_write, 0, 100, 0]), 3);
        assert_eq!(sandbox.user.get_bytes(offset, 8), 10i64.to_le_bytes());
        assert_eq!(run(&sys, LSEEK, &[src, 0, 1]), 4, "own offset kept");
        assert_eq!(
            run(&sys, SPLICE, &[src, offset, p_write, 0, 100, 0]),
            0,
            "EOF"
        );
        assert_eq!(run(&sys, SPLICE, &[p_read, 0, dst, 0, 5, 0]), 5);
        assert_eq!(sandbox.read("dst"), b"01237");
        let at = sandbox.user.put_bytes(&10i64.to_le_bytes());
        assert_eq!(run(&sys, SPLICE, &[p_read, 0, dst, at, 100, 0]), 2);
        assert_eq!(sandbox.user.get_bytes(at, 8), 12i64.to_le_bytes());
        assert_eq!(sandbox.read("dst"), b"01237\0\0\0\0\089");
        assert_eq!(run(&sys, LSEEK, &[dst, 0, 1]), 5);
        assert_eq!(
            run(&sys, SPLICE, &[p_read, 0, dst, 0, 1, NONBLOCK]),
            err(LxError::EAGAIN)
        );
        assert_eq!(
            run(&sys, SPLICE, &[src, 0, dst, 0, 1, 0]),
            err(LxError::EINVAL)
        );
        let negative = sandbox.user.put_bytes(&(-1i64).to_le_bytes());
        assert_eq!(
            run(&sys, SPLICE, &[src, negative, p_write, 0, 1, 0]),
            err(LxError::EINVAL)
        );
        assert_eq!(
            run(&sys, SPLICE, &[src, 8, p_write, 0, 1, 0]),
            err(LxError::EFAULT)
        );
        let dir = run(&sys, OPEN, &[sandbox.cstr("d"), 0]) as usize;
        assert_eq!(
            run(&sys, SPLICE, &[dir, 0, p_write, 0, 1, 0]),
            err(LxError::EINVAL)
        );
        let append = run(&sys, OPEN, &[sandbox.cstr("dst"), 0o2001]) as usize;
        put(&sandbox, &sys, p_write, b"z");
        assert_eq!(
            run(&sys, SPLICE, &[p_read, 0, append, 0, 1, 0]),
            err(LxError::EINVAL)
        );
        assert_eq!(
            run(&sys, SPLICE, &[p_read, 0, src, 0, 1, 0]),
            err(LxError::EBADF)
        );
        assert_eq!(get(&sandbox, &sys, p_read, 8), b"z");
    }

    #[test]
    fn a_full_pipe_refuses_a_nonblocking_splice_and_keeps_its_data() {
        let sandbox = Sandbox::new("splice-full");
        sandbox.write("src", b"abc");
        let sys = sandbox.syscall();
        let src = run(&sys, OPEN, &[sandbox.cstr("src"), 0]) as usize;
        let (_p_read, p_write) = pipe(&sys);
        put(&sandbox, &sys, p_write, &std::vec![1; PIPE_CAPACITY]);
        assert_eq!(
            run(&sys, SPLICE, &[src, 0, p_write, 0, 3, NONBLOCK]),
            err(LxError::EAGAIN)
        );
        assert_eq!(run(&sys, LSEEK, &[src, 0, 1]), 0);
    }

    #[test]
    fn vmsplice_fills_a_pipe_and_drains_one_into_memory() {
        let sandbox = Sandbox::new("vmsplice");
        let sys = sandbox.syscall();
        let (p_read, p_write) = pipe(&sys);
        let one = sandbox.user.put_bytes(b"abc");
        let two = sandbox.user.put_bytes(b"defg");
        let mut iov = Vec::new();
        for (base, len) in [(one, 3usize), (two, 4)] {
            iov.extend_from_slice(&base.to_le_bytes());
            iov.extend_from_slice(&len.to_le_bytes());
        }
        let iov = sandbox.user.put_bytes(&iov);
        assert_eq!(run(&sys, VMSPLICE, &[p_write, iov, 2, 0x8]), 7);
        let out = sandbox.buf(5);
        let mut back = Vec::new();
        back.extend_from_slice(&out.to_le_bytes());
        back.extend_from_slice(&5usize.to_le_bytes());
        let back = sandbox.user.put_bytes(&back);
        assert_eq!(run(&sys, VMSPLICE, &[p_read, back, 1, 0]), 5);
        assert_eq!(sandbox.user.get_bytes(out, 5), b"abcde");
        assert_eq!(get(&sandbox, &sys, p_read, 8), b"fg");
        assert_eq!(
            run(&sys, VMSPLICE, &[p_read, back, 1, NONBLOCK]),
            err(LxError::EAGAIN)
        );
        assert_eq!(run(&sys, VMSPLICE, &[p_read, back, 0, 0]), 0);
        assert_eq!(
            run(&sys, VMSPLICE, &[p_read, back, 1, 0x20]),
            err(LxError::EINVAL)
        );
        assert_eq!(run(&sys, VMSPLICE, &[99, back, 1, 0]), err(LxError::EBADF));
        assert_eq!(
            run(&sys, VMSPLICE, &[p_write, 8, 1, 0]),
            err(LxError::EFAULT)
        );
        sandbox.write("f", b"");
        let file = run(&sys, OPEN, &[sandbox.cstr("f"), 2]) as usize;
        assert_eq!(
            run(&sys, VMSPLICE, &[file, back, 1, 0]),
            err(LxError::EBADF)
        );
    }
}
