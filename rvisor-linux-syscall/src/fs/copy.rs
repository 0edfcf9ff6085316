//! `sendfile`, `copy_file_range`: copying between descriptors inside the kernel, through the
//! [`FileLike`] interface, in bounded chunks.

use alloc::sync::Arc;
use kernel_hostfs::FileType;
use linux_object::fs::{write_file, File, FileLike, SeekFrom};
use linux_object::{LxError, LxResult};

use super::{is_stream, MAX_RW_COUNT};
use crate::user::{try_buffer, UserInOutPtr};
use crate::{SysResult, Syscall};

/// Bytes moved per kernel buffer.
const CHUNK: usize = 64 * 1024;

/// `pos + count` must stay a valid `loff_t` (Linux's `rw_verify_area`): `EINVAL` otherwise.
fn verify_area(pos: i64, count: usize) -> LxResult<u64> {
    let start = u64::try_from(pos).map_err(|_| LxError::EINVAL)?;
    let count = i64::try_from(count).map_err(|_| LxError::EINVAL)?;
    pos.checked_add(count).ok_or(LxError::EINVAL)?;
    Ok(start)
}

/// The regular file behind a description, if it is one; `EISDIR` for a directory, `EINVAL`
/// for anything else (Linux's `generic_copy_file_checks`).
/// The type of the inode behind `file`, if it is a file of the container's filesystem.
fn inode_type(file: &dyn FileLike) -> LxResult<Option<FileType>> {
    match file
        .as_any()
        .downcast_ref::<File>()
        .and_then(|file| file.inode())
    {
        Some(inode) => Ok(Some(inode.file_type()?)),
        None => Ok(None),
    }
}

/// `copy_file_range` copies between regular files only: `EISDIR` if either is a directory
/// (checked on both first, as `generic_copy_file_checks`), else `EINVAL` for any other kind.
fn both_regular(input: &dyn FileLike, output: &dyn FileLike) -> LxResult<()> {
    let types = [inode_type(input)?, inode_type(output)?];
    if types.contains(&Some(FileType::Dir)) {
        return Err(LxError::EISDIR);
    }
    if types.iter().all(|type_| *type_ == Some(FileType::File)) {
        Ok(())
    } else {
        Err(LxError::EINVAL)
    }
}

fn offset_of(file: &dyn FileLike) -> LxResult<u64> {
    file.seek(SeekFrom::Current(0))
}

/// Copies up to `count` bytes from `input` at `in_pos` (or its offset) to `output` at
/// `out_pos` (or its offset, waiting as a blocking write would); returns the count and
/// moves the offsets used.
async fn copy(
    input: &dyn FileLike,
    in_pos: Option<u64>,
    output: &dyn FileLike,
    out_pos: Option<u64>,
    count: usize,
) -> LxResult<usize> {
    let mut buf = try_buffer(count.min(CHUNK))?;
    let mut done = 0usize;
    let in_start = match in_pos {
        Some(pos) => pos,
        None => offset_of(input)?,
    };
    while done < count {
        let want = (count - done).min(CHUNK);
        let chunk = buf.get_mut(..want).ok_or(LxError::EINVAL)?;
        let at = |start: u64| start.checked_add(done as u64).ok_or(LxError::EOVERFLOW);
        let got = match input.read_at(at(in_start)?, chunk) {
            Ok(got) => got.min(want),
            Err(error) if done == 0 => return Err(error),
            Err(_) => break,
        };
        if got == 0 {
            break;
        }
        let data = chunk.get(..got).unwrap_or_default();
        let written = match out_pos {
            Some(pos) => output.write_at(at(pos)?, data),
            None => write_file(output, data).await,
        };
        match written {
            Ok(written) => {
                done += written.min(got);
                if written < got {
                    break;
                }
            }
            Err(error) if done == 0 => return Err(error),
            Err(_) => break,
        }
    }
    if in_pos.is_none() {
        let end = in_start
            .checked_add(done as u64)
            .ok_or(LxError::EOVERFLOW)?;
        input.seek(SeekFrom::Start(end))?;
    }
    Ok(done)
}

impl Syscall<'_> {
    /// `sendfile(out_fd, in_fd, offset, count)`: from a seekable file (`EINVAL` from a pipe,
    /// which has no `splice_read` path here, as Linux) to any writable description. With
    /// `offset` the input's own offset stays, and `*offset` is advanced.
    pub async fn sys_sendfile(
        &self,
        out_fd: i32,
        in_fd: i32,
        offset: UserInOutPtr<i64>,
        count: usize,
    ) -> SysResult {
        let explicit = offset.read_if_not_null()?;
        let input = self.file(in_fd)?;
        input.flags().check_readable()?;
        if explicit.is_some() && is_stream(&*input) {
            return Err(LxError::ESPIPE);
        }
        let pos = match explicit {
            Some(pos) => pos,
            None => i64::try_from(offset_of(&*input).unwrap_or(0)).map_err(|_| LxError::EINVAL)?,
        };
        let pos = verify_area(pos, count)?;
        let count = count.min(MAX_RW_COUNT);
        let output: Arc<dyn FileLike> = self.file(out_fd)?;
        output.flags().check_writable()?;
        if output.flags().contains(linux_object::fs::OpenFlags::APPEND) && !is_stream(&*output) {
            return Err(LxError::EINVAL);
        }
        // Linux splices: into a file only from a regular file (`splice_direct_to_actor`),
        // into a pipe from anything, but a pipe or a directory has no `splice_read`, which
        // only a non-empty transfer reaches.
        let input_is_stream = is_stream(&*input);
        if input_is_stream && !is_stream(&*output) {
            return Err(LxError::EINVAL);
        }
        if count == 0 {
            return Ok(0);
        }
        if input_is_stream || input.metadata()?.type_ == kernel_hostfs::FileType::Dir {
            return Err(LxError::EINVAL);
        }
        let in_pos = explicit.map(|_| pos);
        let copied = copy(&*input, in_pos, &*output, None, count).await;
        let done = self.raise_broken_pipe(copied)?;
        if explicit.is_some() {
            let end = pos.checked_add(done as u64).ok_or(LxError::EOVERFLOW)?;
            offset.write(i64::try_from(end).map_err(|_| LxError::EOVERFLOW)?)?;
        }
        Ok(done)
    }

    /// `copy_file_range(fd_in, off_in, fd_out, off_out, len, flags)`: between regular files
    /// (`EISDIR`, `EINVAL` otherwise), `flags` must be 0, overlapping ranges of one file are
    /// `EINVAL`; the count stops at the input's end.
    pub async fn sys_copy_file_range(
        &self,
        fd_in: i32,
        off_in: UserInOutPtr<i64>,
        fd_out: i32,
        off_out: UserInOutPtr<i64>,
        len: usize,
        flags: u32,
    ) -> SysResult {
        let input = self.file(fd_in)?;
        let output = self.file(fd_out)?;
        let in_explicit = off_in.read_if_not_null()?;
        let out_explicit = off_out.read_if_not_null()?;
        if flags != 0 {
            return Err(LxError::EINVAL);
        }
        both_regular(&*input, &*output)?;
        if !input.flags().readable()
            || !output.flags().writable()
            || output.flags().contains(linux_object::fs::OpenFlags::APPEND)
        {
            return Err(LxError::EBADF);
        }
        let in_pos = match in_explicit {
            Some(pos) => pos,
            None => i64::try_from(offset_of(&*input)?).map_err(|_| LxError::EINVAL)?,
        };
        let out_pos = match out_explicit {
            Some(pos) => pos,
            None => i64::try_from(offset_of(&*output)?).map_err(|_| LxError::EINVAL)?,
        };
        let in_pos = verify_area(in_pos, len)?;
        let out_pos = verify_area(out_pos, len)?;
        let in_metadata = input.metadata()?;
        let len = if in_pos >= in_metadata.size {
            0
        } else {
            let left = usize::try_from(in_metadata.size - in_pos).unwrap_or(usize::MAX);
            len.min(left).min(MAX_RW_COUNT)
        };
        let out_metadata = output.metadata()?;
        let same = (in_metadata.dev, in_metadata.inode) == (out_metadata.dev, out_metadata.inode);
        let len64 = len as u64;
        if same && out_pos + len64 > in_pos && out_pos < in_pos + len64 {
            return Err(LxError::EINVAL);
        }
        if len == 0 {
            return Ok(0);
        }
        let done = copy(&*input, Some(in_pos), &*output, Some(out_pos), len).await?;
        let advance = |start: u64| -> LxResult<i64> {
            let end = start.checked_add(done as u64).ok_or(LxError::EOVERFLOW)?;
            i64::try_from(end).map_err(|_| LxError::EOVERFLOW)
        };
        match in_explicit {
            Some(_) => off_in.write(advance(in_pos)?)?,
            None => {
                input.seek(SeekFrom::Start(in_pos + done as u64))?;
            }
        }
        match out_explicit {
            Some(_) => off_out.write(advance(out_pos)?)?,
            None => {
                output.seek(SeekFrom::Start(out_pos + done as u64))?;
            }
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, run, Sandbox};
    use linux_object::fs::{OpenFlags, Pipe};

    const SENDFILE: u32 = 40;
    const COPY_FILE_RANGE: u32 = 326;
    const OPEN: u32 = 2;

    #[test]
    fn sendfile_to_a_pipe_and_a_file() {
        let sandbox = Sandbox::new("copy-sendfile");
        sandbox.write("src", b"0123456789");
        sandbox.write("dst", b"");
        let sys = sandbox.syscall();
        let src = run(&sys, OPEN, &[sandbox.cstr("src"), 0]) as usize;
        let dst = run(&sys, OPEN, &[sandbox.cstr("dst"), 1]) as usize;
        assert_eq!(run(&sys, SENDFILE, &[dst, src, 0, 4]), 4);
        assert_eq!(sandbox.read("dst"), b"0123");
        let offset = sandbox.user.put_bytes(&2i64.to_le_bytes());
        assert_eq!(run(&sys, SENDFILE, &[dst, src, offset, 100]), 8);
        assert_eq!(sandbox.user.get_bytes(offset, 8), 10i64.to_le_bytes());
        assert_eq!(sandbox.read("dst"), b"012323456789");
        assert_eq!(
            run(&sys, SENDFILE, &[dst, src, 0, 100]),
            6,
            "own offset kept at 4"
        );
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        let pipe_in = sys.process.files().add(reader, false).unwrap() as usize;
        let pipe_out = sys.process.files().add(writer, false).unwrap() as usize;
        assert_eq!(run(&sys, SENDFILE, &[pipe_out, src, offset, 3]), 0);
        assert_eq!(
            run(&sys, SENDFILE, &[dst, pipe_in, 0, 3]),
            err(LxError::EINVAL)
        );
        assert_eq!(
            run(&sys, SENDFILE, &[dst, pipe_in, offset, 3]),
            err(LxError::ESPIPE)
        );
        assert_eq!(run(&sys, SENDFILE, &[src, dst, 0, 3]), err(LxError::EBADF));
        assert_eq!(run(&sys, SENDFILE, &[99, src, 0, 3]), err(LxError::EBADF));
    }

    #[test]
    fn copy_file_range_as_linux() {
        let sandbox = Sandbox::new("copy-range");
        sandbox.write("src", b"0123456789");
        sandbox.write("dst", b"");
        sandbox.mkdir("d");
        let sys = sandbox.syscall();
        let src = run(&sys, OPEN, &[sandbox.cstr("src"), 2]) as usize;
        let dst = run(&sys, OPEN, &[sandbox.cstr("dst"), 2]) as usize;
        assert_eq!(run(&sys, COPY_FILE_RANGE, &[src, 0, dst, 0, 100, 0]), 10);
        assert_eq!(sandbox.read("dst"), b"0123456789");
        assert_eq!(
            run(&sys, COPY_FILE_RANGE, &[src, 0, dst, 0, 100, 0]),
            0,
            "at the end"
        );
        let off = sandbox.user.put_bytes(&8i64.to_le_bytes());
        assert_eq!(run(&sys, COPY_FILE_RANGE, &[src, off, dst, 0, 100, 0]), 2);
        assert_eq!(sandbox.user.get_bytes(off, 8), 10i64.to_le_bytes());
        assert_eq!(
            run(&sys, COPY_FILE_RANGE, &[src, 0, dst, 0, 1, 1]),
            err(LxError::EINVAL)
        );
        let same = sandbox.user.put_bytes(&2i64.to_le_bytes());
        let zero = sandbox.user.put_bytes(&0i64.to_le_bytes());
        assert_eq!(
            run(&sys, COPY_FILE_RANGE, &[src, zero, src, same, 4, 0]),
            err(LxError::EINVAL)
        );
        let dir = run(&sys, OPEN, &[sandbox.cstr("d"), 0]) as usize;
        assert_eq!(
            run(&sys, COPY_FILE_RANGE, &[dir, 0, dst, 0, 1, 0]),
            err(LxError::EISDIR)
        );
        let ro = run(&sys, OPEN, &[sandbox.cstr("src"), 0]) as usize;
        assert_eq!(
            run(&sys, COPY_FILE_RANGE, &[src, zero, ro, 0, 1, 0]),
            err(LxError::EBADF)
        );
    }
}
