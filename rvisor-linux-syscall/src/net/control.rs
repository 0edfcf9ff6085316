//! Control messages (`cmsghdr`) between user memory and [`ControlMessage`]s: `SCM_RIGHTS`
//! descriptors become open file descriptions on the way in and new descriptors on the way
//! out, with Linux's truncation rules (`MSG_CTRUNC`).

use alloc::vec::Vec;
use linux_object::net::unix::SCM_MAX_FD;
use linux_object::net::{ControlMessage, MsgFlags, UCred, SOL_SOCKET};
use linux_object::{LxError, LxResult};

use crate::user::copy_to_user;
use crate::Syscall;

/// `SCM_RIGHTS`.
const SCM_RIGHTS: i32 = 1;
/// `SCM_CREDENTIALS`.
const SCM_CREDENTIALS: i32 = 2;
/// `sizeof(struct cmsghdr)` on x86-64.
const CMSG_HDR: usize = 16;

/// `CMSG_ALIGN`: 8 bytes on x86-64.
fn cmsg_align(len: usize) -> usize {
    len.saturating_add(7) & !7
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    let mut raw = [0; 8];
    if let Some(from) = bytes.get(at..at + 8) {
        raw.copy_from_slice(from);
    }
    u64::from_le_bytes(raw)
}

fn read_i32(bytes: &[u8], at: usize) -> i32 {
    let mut raw = [0; 4];
    if let Some(from) = bytes.get(at..at + 4) {
        raw.copy_from_slice(from);
    }
    i32::from_le_bytes(raw)
}

/// A `cmsghdr` with its data, as bytes.
fn cmsg(level: i32, kind: i32, len: usize, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(CMSG_HDR + data.len());
    out.extend_from_slice(&(len as u64).to_le_bytes());
    out.extend_from_slice(&level.to_le_bytes());
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// Where received control messages go: the user's `msg_control` buffer.
pub(crate) struct ControlOut {
    addr: usize,
    len: usize,
    used: usize,
    /// `MSG_CTRUNC` if something did not fit.
    pub flags: MsgFlags,
}

impl ControlOut {
    pub(crate) fn new(addr: usize, len: usize) -> Self {
        Self {
            addr,
            len: if addr == 0 { 0 } else { len },
            used: 0,
            flags: MsgFlags::empty(),
        }
    }

    /// Bytes written (the new `msg_controllen`).
    pub(crate) fn used(&self) -> usize {
        self.used
    }

    /// The user address of the next control message (`EFAULT` past the address space).
    fn at(&self) -> LxResult<usize> {
        self.addr.checked_add(self.used).ok_or(LxError::EFAULT)
    }

    fn room(&self) -> usize {
        self.len.saturating_sub(self.used)
    }

    /// Linux's `put_cmsg`: the header and as much data as fits; `MSG_CTRUNC` if not all.
    fn put(&mut self, level: i32, kind: i32, data: &[u8]) -> LxResult {
        if self.room() < CMSG_HDR {
            self.flags |= MsgFlags::CTRUNC;
            return Ok(());
        }
        let mut len = CMSG_HDR + data.len();
        if self.room() < len {
            self.flags |= MsgFlags::CTRUNC;
            len = self.room();
        }
        let bytes = cmsg(
            level,
            kind,
            len,
            data.get(..len - CMSG_HDR).unwrap_or_default(),
        );
        copy_to_user(self.at()?, &bytes)?;
        self.used += cmsg_align(CMSG_HDR + data.len()).min(self.room());
        Ok(())
    }
}

impl Syscall<'_> {
    /// Decodes the control messages a sender gave (Linux's `__scm_send`): a malformed
    /// header is `EINVAL`; `SCM_RIGHTS` (unix only) takes up to 253 open descriptors, any
    /// kind, `O_PATH` too (`EBADF` for one not open); `SCM_CREDENTIALS` must name the
    /// caller (`EPERM` unless privileged); other `SOL_SOCKET` types are `EINVAL`; other
    /// levels go to the family (`unix` ignores them).
    pub(crate) fn parse_control(&self, bytes: &[u8], unix: bool) -> LxResult<Vec<ControlMessage>> {
        let mut control = Vec::new();
        let mut offset = 0usize;
        while bytes.len().saturating_sub(offset) >= CMSG_HDR {
            let len = usize::try_from(read_u64(bytes, offset)).map_err(|_| LxError::EINVAL)?;
            if len < CMSG_HDR || len > bytes.len() - offset {
                return Err(LxError::EINVAL);
            }
            let level = read_i32(bytes, offset + 8);
            let kind = read_i32(bytes, offset + 12);
            let data = bytes
                .get(offset + CMSG_HDR..offset + len)
                .unwrap_or_default();
            if level == SOL_SOCKET {
                match kind {
                    SCM_RIGHTS if unix => {
                        let count = data.len() / 4;
                        if count > 0 {
                            control.push(ControlMessage::Rights(self.rights_of(data, count)?));
                        }
                    }
                    SCM_CREDENTIALS if unix => {
                        if data.len() != 12 {
                            return Err(LxError::EINVAL);
                        }
                        let cred = UCred {
                            pid: read_i32(data, 0) as u32,
                            uid: read_i32(data, 4) as u32,
                            gid: read_i32(data, 8) as u32,
                        };
                        self.check_credentials(cred)?;
                        control.push(ControlMessage::Credentials(cred));
                    }
                    _ => return Err(LxError::EINVAL),
                }
            } else if !unix {
                control.push(ControlMessage::Other {
                    level,
                    kind,
                    data: data.to_vec(),
                });
            }
            offset = offset.saturating_add(cmsg_align(len));
        }
        Ok(control)
    }

    /// The descriptions of `count` descriptors in `data`: `EINVAL` past `SCM_MAX_FD`,
    /// `EBADF` for one not open.
    fn rights_of(
        &self,
        data: &[u8],
        count: usize,
    ) -> LxResult<Vec<alloc::sync::Arc<dyn linux_object::fs::FileLike>>> {
        if count > SCM_MAX_FD {
            return Err(LxError::EINVAL);
        }
        let mut files = Vec::new();
        files
            .try_reserve_exact(count)
            .map_err(|_| LxError::ENOMEM)?;
        let table = self.process.files();
        for index in 0..count {
            let fd = read_i32(data, index * 4);
            if fd < 0 {
                return Err(LxError::EBADF);
            }
            files.push(table.get(fd)?);
        }
        Ok(files)
    }

    /// Linux's `scm_check_creds`: the caller's own pid (or privileged), one of its user and
    /// group ids (or privileged).
    fn check_credentials(&self, cred: UCred) -> LxResult {
        let own = self.process.credentials();
        let privileged = own.euid == 0;
        let pid_ok = cred.pid == self.process.pid() || privileged;
        let uid_ok = [own.uid, own.euid, own.suid].contains(&cred.uid) || privileged;
        let gid_ok = [own.gid, own.egid, own.sgid].contains(&cred.gid) || privileged;
        if pid_ok && uid_ok && gid_ok {
            Ok(())
        } else {
            Err(LxError::EPERM)
        }
    }

    /// Writes received control messages (Linux's `scm_recv`): credentials as they come;
    /// descriptors installed while the buffer and `RLIMIT_NOFILE` allow, the rest closed
    /// with `MSG_CTRUNC`; `MSG_CMSG_CLOEXEC` makes them close-on-exec.
    pub(crate) fn write_control(
        &self,
        control: Vec<ControlMessage>,
        out: &mut ControlOut,
        cloexec: bool,
    ) -> LxResult {
        for message in control {
            match message {
                ControlMessage::Credentials(cred) => {
                    out.put(SOL_SOCKET, SCM_CREDENTIALS, &cred.to_bytes())?
                }
                ControlMessage::Other { level, kind, data } => out.put(level, kind, &data)?,
                ControlMessage::Rights(files) => {
                    let fdmax = out.room().saturating_sub(CMSG_HDR) / 4;
                    let total = files.len();
                    let mut fds: Vec<u8> = Vec::new();
                    let mut installed = 0;
                    for file in files.into_iter().take(fdmax) {
                        let Ok(fd) = self.process.files().add(file, cloexec) else {
                            break;
                        };
                        fds.extend_from_slice(&fd.to_le_bytes());
                        installed += 1;
                    }
                    if installed > 0 {
                        let len = CMSG_HDR + fds.len();
                        let bytes = cmsg(SOL_SOCKET, SCM_RIGHTS, len, &fds);
                        copy_to_user(out.at()?, &bytes)?;
                        out.used += cmsg_align(len).min(out.room());
                    }
                    if installed < total {
                        out.flags |= MsgFlags::CTRUNC;
                    }
                }
            }
        }
        Ok(())
    }
}
