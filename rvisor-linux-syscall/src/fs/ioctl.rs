//! `ioctl`: the generic requests Linux serves for every file (`FIOCLEX`, `FIONCLEX`,
//! `FIONBIO`, `FIOASYNC`, `FIOQSIZE`, `FIONREAD`), the terminal requests of rVisor's ptys
//! (`super::tty`), and terminal requests forwarded to the host file an inherited descriptor
//! wraps. Anything else is `ENOTTY`, as for a regular file.

use kernel_hostfs::FileType;
use linux_object::fs::{File, FileLike, Inotify, OpenFlags, Pipe, StdioFile};
use linux_object::LxError;

use crate::user::{UserInPtr, UserOutPtr};
use crate::{SysResult, Syscall};

const FIONCLEX: u32 = 0x5450;
const FIOCLEX: u32 = 0x5451;
const FIONBIO: u32 = 0x5421;
const FIOASYNC: u32 = 0x5452;
const FIOQSIZE: u32 = 0x5460;
const FIONREAD: u32 = 0x541B;
/// `_IOW('I', 0, __u32)`: an inotify instance's next watch descriptor.
const INOTIFY_IOC_SETNEXTWD: u32 = 0x4004_4900;

impl Syscall<'_> {
    /// `ioctl(fd, request, arg)`.
    pub fn sys_ioctl(&self, fd: i32, request: u32, arg: usize) -> SysResult {
        let file = self.file(fd)?;
        match request {
            FIOCLEX | FIONCLEX => {
                self.process.files().set_cloexec(fd, request == FIOCLEX)?;
                return Ok(0);
            }
            FIONBIO | FIOASYNC => {
                let on = UserInPtr::<i32>::from(arg).read()? != 0;
                let bit = if request == FIONBIO {
                    OpenFlags::NONBLOCK
                } else {
                    OpenFlags::ASYNC
                };
                let mut flags = file.flags();
                flags.set(bit, on);
                file.set_flags(flags);
                return Ok(0);
            }
            _ => {}
        }
        if let Some(socket) = file.as_socket() {
            return match socket.ioctl(request, arg) {
                Some(value) => {
                    UserOutPtr::<i32>::from(arg).write(value?)?;
                    Ok(0)
                }
                None => Err(LxError::ENOTTY),
            };
        }
        if let Some(result) = self.tty_ioctl(&*file, request, arg) {
            return result;
        }
        if let Some(regular) = file.as_any().downcast_ref::<File>() {
            let metadata = regular.metadata()?;
            return match (request, metadata.type_) {
                (FIOQSIZE, FileType::File | FileType::Dir | FileType::SymLink) => {
                    let bytes = metadata.blocks.saturating_mul(512);
                    UserOutPtr::<u64>::from(arg).write(bytes)?;
                    Ok(0)
                }
                (FIONREAD, FileType::File) => {
                    let position = regular.seek(linux_object::fs::SeekFrom::Current(0))?;
                    // Linux stores `i_size - f_pos` as an int.
                    let left = metadata.size.wrapping_sub(position) as i32;
                    UserOutPtr::<i32>::from(arg).write(left)?;
                    Ok(0)
                }
                _ => Err(LxError::ENOTTY),
            };
        }
        if let Some(pipe) = file.as_any().downcast_ref::<Pipe>() {
            return match request {
                FIONREAD => {
                    let queued = pipe.queued();
                    UserOutPtr::<i32>::from(arg)
                        .write(i32::try_from(queued).unwrap_or(i32::MAX))?;
                    Ok(0)
                }
                _ => Err(LxError::ENOTTY),
            };
        }
        if let Some(inotify) = file.as_any().downcast_ref::<Inotify>() {
            // Linux's inotify_ioctl: the bytes of the queued events, as an int, and the next
            // watch descriptor (with CONFIG_CHECKPOINT_RESTORE, as Debian's kernels have).
            return match request {
                FIONREAD => {
                    let queued = inotify.queued_bytes();
                    UserOutPtr::<i32>::from(arg)
                        .write(i32::try_from(queued).unwrap_or(i32::MAX))?;
                    Ok(0)
                }
                INOTIFY_IOC_SETNEXTWD => inotify.set_next_wd(arg).map(|()| 0),
                _ => Err(LxError::ENOTTY),
            };
        }
        if let Some(result) = crate::inet::host_socket_ioctl(&*file, request, arg) {
            return result;
        }
        match file.as_any().downcast_ref::<StdioFile>() {
            Some(stdio) => stdio.ioctl(request, arg),
            None => Err(LxError::ENOTTY),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, run, Sandbox};

    const IOCTL: u32 = 16;
    const OPEN: u32 = 2;
    const TCGETS: usize = 0x5401;

    #[test]
    fn generic_requests() {
        let sandbox = Sandbox::new("ioctl");
        sandbox.write("f", b"0123456789");
        let sys = sandbox.syscall();
        let fd = run(&sys, OPEN, &[sandbox.cstr("f"), 0]) as usize;
        assert_eq!(run(&sys, IOCTL, &[fd, FIOCLEX as usize]), 0);
        assert!(sys.process.files().cloexec(fd as i32).unwrap());
        assert_eq!(run(&sys, IOCTL, &[fd, FIONCLEX as usize]), 0);
        assert!(!sys.process.files().cloexec(fd as i32).unwrap());
        let one = sandbox.user.put_bytes(&1i32.to_le_bytes());
        assert_eq!(run(&sys, IOCTL, &[fd, FIONBIO as usize, one]), 0);
        assert!(sys
            .file(fd as i32)
            .unwrap()
            .flags()
            .contains(OpenFlags::NONBLOCK));
        assert_eq!(
            run(&sys, IOCTL, &[fd, FIONBIO as usize, 0]),
            err(LxError::EFAULT)
        );
        let out = sandbox.buf(8);
        assert_eq!(run(&sys, IOCTL, &[fd, FIONREAD as usize, out]), 0);
        assert_eq!(sandbox.user.get_bytes(out, 4), 10i32.to_le_bytes());
        assert_eq!(run(&sys, IOCTL, &[fd, TCGETS, out]), err(LxError::ENOTTY));
        assert_eq!(run(&sys, IOCTL, &[99, TCGETS, out]), err(LxError::EBADF));
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        writer.write(b"abc").unwrap();
        let pipe = sys.process.files().add(reader, false).unwrap() as usize;
        assert_eq!(run(&sys, IOCTL, &[pipe, FIONREAD as usize, out]), 0);
        assert_eq!(sandbox.user.get_bytes(out, 4), 3i32.to_le_bytes());
    }
}
