//! `pipe`, `pipe2`: anonymous pipes.

use linux_object::fs::{OpenFlags, Pipe};
use linux_object::LxError;

use super::open::O_CLOEXEC;
use crate::user::UserOutPtr;
use crate::{SysResult, Syscall};

const O_NONBLOCK: u32 = 0o4000;

impl Syscall<'_> {
    /// `pipe2(pipefd, flags)`: `O_CLOEXEC` and `O_NONBLOCK` are served; any other flag —
    /// packet mode (`O_DIRECT`) and notification pipes included, which this kernel's pipes
    /// do not implement — is `EINVAL`. If `pipefd` cannot be written, no descriptor is left
    /// open (`EFAULT`), as Linux.
    pub fn sys_pipe2(&self, pipefd: UserOutPtr<i32>, flags: u32) -> SysResult {
        if flags & !(O_CLOEXEC | O_NONBLOCK) != 0 {
            return Err(LxError::EINVAL);
        }
        let cloexec = flags & O_CLOEXEC != 0;
        let (reader, writer) = Pipe::new_pair(OpenFlags::from_bits_retain(flags & O_NONBLOCK));
        let (read_fd, write_fd) = {
            let mut files = self.process.files();
            let read_fd = files.add(reader, cloexec)?;
            match files.add(writer, cloexec) {
                Ok(write_fd) => (read_fd, write_fd),
                Err(error) => {
                    let reader = files.close(read_fd);
                    drop(files);
                    drop(reader);
                    return Err(error);
                }
            }
        };
        if let Err(error) = pipefd.write_array(&[read_fd, write_fd]) {
            let mut files = self.process.files();
            let ends = (files.close(read_fd), files.close(write_fd));
            drop(files);
            drop(ends);
            return Err(error);
        }
        Ok(0)
    }

    /// `pipe(pipefd)`.
    pub fn sys_pipe(&self, pipefd: UserOutPtr<i32>) -> SysResult {
        self.sys_pipe2(pipefd, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, run, Sandbox};

    #[test]
    fn pipes_carry_bytes_and_fail_cleanly() {
        let sandbox = Sandbox::new("pipe");
        let sys = sandbox.syscall();
        let fds = sandbox.buf(8);
        assert_eq!(run(&sys, 293, &[fds, (O_CLOEXEC | O_NONBLOCK) as usize]), 0);
        let bytes = sandbox.user.get_bytes(fds, 8);
        let read_fd = i32::from_le_bytes(bytes[..4].try_into().unwrap());
        let write_fd = i32::from_le_bytes(bytes[4..].try_into().unwrap());
        assert_eq!((read_fd, write_fd), (0, 1));
        assert!(sys.process.files().cloexec(0).unwrap());
        let data = sandbox.user.put_bytes(b"ping");
        assert_eq!(run(&sys, 1, &[1, data, 4]), 4);
        let buf = sandbox.buf(8);
        assert_eq!(run(&sys, 0, &[0, buf, 8]), 4);
        assert_eq!(run(&sys, 0, &[0, buf, 8]), err(LxError::EAGAIN));
        assert_eq!(run(&sys, 22, &[0]), err(LxError::EFAULT));
        assert_eq!(sys.process.files().len(), 2, "nothing left open");
        let packet_mode = 0o40_000;
        assert_eq!(run(&sys, 293, &[fds, packet_mode]), err(LxError::EINVAL));
        assert_eq!(run(&sys, 22, &[fds]), 0);
    }
}
