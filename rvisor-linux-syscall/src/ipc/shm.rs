//! `shmget`, `shmat`, `shmdt`, `shmctl`: System V shared memory ([`ShmSegment`]), with Linux's
//! `ipc/shm.c` checks in its order. A segment's pages are host pages ([`TaskHost`]'s
//! `new_shared_memory`) that `shmat` maps shared into the caller, so a `fork` shares them and
//! two processes attaching one key see each other's writes, as on Linux.
//!
//! [`TaskHost`]: crate::host::TaskHost

use linux_object::ipc::shm::{ShmSegment, SHMALL, SHMMAX, SHMMIN, SHMMNI};
use linux_object::ipc::{Got, IpcObject};
use linux_object::LxError;

use super::{put, put_perm, read_ds, write_out, IPC_INFO, IPC_RMID, IPC_SET, IPC_STAT, PERM_SIZE};
use crate::host::MmapProt;
use crate::user::{UserInPtr, UserOutPtr};
use crate::{SysResult, Syscall};

/// `shmctl` commands of their own.
const SHM_LOCK: i32 = 11;
const SHM_UNLOCK: i32 = 12;
const SHM_STAT: i32 = 13;
const SHM_INFO: i32 = 14;
const SHM_STAT_ANY: i32 = 15;

/// `shmat` flags.
const SHM_RDONLY: u32 = 0o10000;
const SHM_RND: u32 = 0o20000;
const SHM_REMAP: u32 = 0o40000;
const SHM_EXEC: u32 = 0o100000;

/// `SHMLBA` on x86-64: a page.
const PAGE_SIZE: usize = 4096;
/// `sizeof(struct shmid64_ds)`.
const SHMID_DS_SIZE: usize = 112;
/// `sizeof(struct shminfo64)`: nine `unsigned long`s.
const SHMINFO_SIZE: usize = 72;
/// `sizeof(struct shm_info)`.
const SHM_INFO_SIZE: usize = 48;

/// Pages of `size` bytes.
fn pages(size: usize) -> usize {
    size.div_ceil(PAGE_SIZE)
}

impl Syscall<'_> {
    /// `shmget(key, size, shmflg)`: a new segment needs `SHMMIN..=SHMMAX` bytes (`EINVAL`),
    /// an existing one at least `size` bytes (`EINVAL`); the rest as
    /// [`IdTable::get`](linux_object::ipc::IdTable::get).
    pub fn sys_shmget(&self, key: i32, size: usize, shmflg: i32) -> SysResult {
        let container = self.ipc_container()?;
        let creds = self.process.credentials();
        let mut shms = container.ipc().shms();
        let got = shms.get(key, shmflg as u32, &creds, |segment| {
            if segment.size() < size {
                Err(LxError::EINVAL)
            } else {
                Ok(())
            }
        })?;
        match got {
            Got::Existing(id) => Ok(id as usize),
            Got::New(id, perm) => {
                if !(SHMMIN..=SHMMAX).contains(&size) {
                    return Err(LxError::EINVAL);
                }
                let total: usize = shms.objects().map(|segment| pages(segment.size())).sum();
                if total.saturating_add(pages(size)) > SHMALL {
                    return Err(LxError::ENOSPC);
                }
                let memory = self.host.new_shared_memory(key, size)?;
                let segment = ShmSegment::new(perm, size, self.process.pid(), memory);
                shms.insert(id, &perm, segment)?;
                Ok(id as usize)
            }
        }
    }

    /// `shmat(shmid, shmaddr, shmflg)`: `EINVAL` for a negative id, an address not on a page
    /// without `SHM_RND` (which rounds it down), `SHM_REMAP` without an address, an unknown id
    /// or a range over a mapping without `SHM_REMAP`; `EACCES` without read (and, unless
    /// `SHM_RDONLY`, write; with `SHM_EXEC`, execute) permission. Returns the address.
    pub fn sys_shmat(&self, shmid: i32, shmaddr: usize, shmflg: i32) -> SysResult {
        let flags = shmflg as u32;
        if shmid < 0 {
            return Err(LxError::EINVAL);
        }
        let mut addr = shmaddr;
        if addr != 0 {
            if addr % PAGE_SIZE != 0 {
                if flags & SHM_RND == 0 {
                    return Err(LxError::EINVAL);
                }
                addr &= !(PAGE_SIZE - 1);
                if addr == 0 && flags & SHM_REMAP != 0 {
                    return Err(LxError::EINVAL);
                }
            }
        } else if flags & SHM_REMAP != 0 {
            return Err(LxError::EINVAL);
        }
        let (mut prot, mut access) = if flags & SHM_RDONLY != 0 {
            (MmapProt::READ, 0o444)
        } else {
            (MmapProt::READ | MmapProt::WRITE, 0o666)
        };
        if flags & SHM_EXEC != 0 {
            prot |= MmapProt::EXEC;
            access |= 0o111;
        }
        let container = self.ipc_container()?;
        // Held while mapping: a removed segment is not forgotten between lookup and attach.
        let shms = container.ipc().shms();
        let segment = shms.by_id(shmid)?;
        segment.perm().check(&self.process.credentials(), access)?;
        let size = segment.size();
        if addr != 0 && addr.checked_add(size).is_none() {
            return Err(LxError::EINVAL);
        }
        let len = pages(size) * PAGE_SIZE;
        let replace = flags & SHM_REMAP != 0;
        let mapped =
            self.host
                .map_shared_memory(segment.memory().as_ref(), addr, len, prot, replace)?;
        segment.attached(self.process.pid());
        drop(shms);
        Ok(mapped)
    }

    /// `shmdt(shmaddr)`: detaches the segment attached at `shmaddr`; `EINVAL` if no segment
    /// starts there.
    pub fn sys_shmdt(&self, shmaddr: usize) -> SysResult {
        if shmaddr % PAGE_SIZE != 0 {
            return Err(LxError::EINVAL);
        }
        let container = self.ipc_container()?;
        let shms = container.ipc().shms();
        let segment = shms
            .objects()
            .find(|segment| self.host.maps_start_of(segment.memory().as_ref(), shmaddr))
            .cloned()
            .ok_or(LxError::EINVAL)?;
        drop(shms);
        self.host.unmap_shared_memory(
            segment.memory().as_ref(),
            shmaddr,
            pages(segment.size()) * PAGE_SIZE,
        )?;
        segment.detached(self.process.pid());
        Ok(0)
    }

    /// `shmctl(shmid, cmd, buf)`.
    pub fn sys_shmctl(&self, shmid: i32, cmd: i32, buf: usize) -> SysResult {
        if cmd < 0 || shmid < 0 {
            return Err(LxError::EINVAL);
        }
        let container = self.ipc_container()?;
        let ipc = container.ipc();
        let creds = self.process.credentials();
        match cmd {
            IPC_INFO => {
                let max_index = ipc.shms().max_index();
                let fields: [u64; 5] = [
                    SHMMAX as u64,
                    SHMMIN as u64,
                    SHMMNI as u64,
                    SHMMNI as u64,
                    SHMALL as u64,
                ];
                let mut out = [0u8; SHMINFO_SIZE];
                for (index, value) in fields.iter().enumerate() {
                    put(&mut out, index * 8, &value.to_le_bytes());
                }
                write_out(UserOutPtr::from(buf), &out)?;
                Ok(max_index.max(0) as usize)
            }
            SHM_INFO => {
                let shms = ipc.shms();
                let used = shms.in_use() as i32;
                let total: usize = shms.objects().map(|segment| pages(segment.size())).sum();
                let max_index = shms.max_index();
                drop(shms);
                let mut out = [0u8; SHM_INFO_SIZE];
                put(&mut out, 0, &used.to_le_bytes());
                put(&mut out, 8, &(total as u64).to_le_bytes());
                write_out(UserOutPtr::from(buf), &out)?;
                Ok(max_index.max(0) as usize)
            }
            IPC_STAT | SHM_STAT | SHM_STAT_ANY => {
                let (id, segment) = if cmd == IPC_STAT {
                    (shmid, ipc.shms().by_id(shmid)?)
                } else {
                    ipc.shms().by_index(shmid)?
                };
                let stat = segment.stat();
                if cmd != SHM_STAT_ANY {
                    stat.perm.check(&creds, 0o444)?;
                }
                let mut out = [0u8; SHMID_DS_SIZE];
                put_perm(&mut out, &stat.perm);
                put(&mut out, PERM_SIZE, &(stat.size as u64).to_le_bytes());
                put(&mut out, PERM_SIZE + 8, &stat.atime.to_le_bytes());
                put(&mut out, PERM_SIZE + 16, &stat.dtime.to_le_bytes());
                put(&mut out, PERM_SIZE + 24, &stat.ctime.to_le_bytes());
                put(&mut out, PERM_SIZE + 32, &stat.cpid.to_le_bytes());
                put(&mut out, PERM_SIZE + 36, &stat.lpid.to_le_bytes());
                put(
                    &mut out,
                    PERM_SIZE + 40,
                    &(stat.nattch as u64).to_le_bytes(),
                );
                write_out(UserOutPtr::from(buf), &out)?;
                Ok(if cmd == IPC_STAT { 0 } else { id as usize })
            }
            SHM_LOCK | SHM_UNLOCK => {
                let segment = ipc.shms().by_id(shmid)?;
                // Without CAP_IPC_LOCK (effective uid 0) only the owner or creator may; the
                // pages are not pinned on the host, the segment is only marked.
                let perm = segment.perm();
                if creds.euid != 0 && creds.euid != perm.uid && creds.euid != perm.cuid {
                    return Err(LxError::EPERM);
                }
                segment.set_locked(cmd == SHM_LOCK);
                Ok(0)
            }
            IPC_SET | IPC_RMID => {
                let change = if cmd == IPC_SET {
                    Some(read_ds(UserInPtr::from(buf), SHMID_DS_SIZE)?.0)
                } else {
                    None
                };
                let mut shms = ipc.shms();
                let segment = shms.by_id(shmid)?;
                segment.perm().check_owner(&creds)?;
                match change {
                    Some(change) => segment.set_perm(change.uid, change.gid, change.mode),
                    None => ipc.remove_shm(&mut shms, shmid)?,
                }
                Ok(0)
            }
            _ => Err(LxError::EINVAL),
        }
    }
}
