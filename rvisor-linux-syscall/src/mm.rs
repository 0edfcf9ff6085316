//! `mmap`, `mprotect`, `munmap`, `brk`: validated and converted as Linux validates them
//! (`mm/mmap.c`, `mm/mprotect.c`, in its order of checks), then handed on to the host, which
//! maps into the task. rVisor owns what needs its objects: the fd of a file mapping becomes
//! the open file description for the host, and the program break lives in the process.

use crate::host::{MappedFile, MmapFlags, MmapProt, MmapRequest};
use crate::user::USER_SPACE_END;
use crate::{SysResult, Syscall};
use kernel_hal_lkm::PAGE_SIZE;
use kernel_hostfs::FileType;
use linux_object::process::ProgramBreak;
use linux_object::{LxError, LxResult};

/// `MAP_TYPE`: the sharing type's bits.
const MAP_TYPE: usize = 0x0f;
/// `MAP_SHARED`.
const MAP_SHARED: usize = 0x01;
/// `MAP_PRIVATE`.
const MAP_PRIVATE: usize = 0x02;
/// `MAP_SHARED_VALIDATE`: shared, and unknown flags are refused rather than ignored.
const MAP_SHARED_VALIDATE: usize = 0x03;
/// The huge page size bits (`MAP_HUGE_MASK << MAP_HUGE_SHIFT`), meaningful with `MAP_HUGETLB`.
const MAP_HUGE_SIZE_BITS: usize = 0x3f << 26;

/// The protection bits `mmap` and `mprotect` know (`PROT_SEM` has no effect on x86).
const PROT_KNOWN: usize = 0xf;

/// `addr` rounded up to a page; `None` if that overflows.
fn page_align(addr: usize) -> Option<usize> {
    addr.checked_next_multiple_of(PAGE_SIZE)
}

/// The flags Linux honours for a file mapped `MAP_SHARED` (`LEGACY_MAP_MASK`, plus what
/// `MAP_SHARED_VALIDATE` accepts): every known flag but `MAP_SYNC`, which only DAX files
/// support.
fn legacy_flags() -> MmapFlags {
    MmapFlags::all().difference(MmapFlags::SYNC)
}

/// Whether `flags` hold bits `MAP_SHARED_VALIDATE` does not know (`EOPNOTSUPP`).
fn unknown_flags(flags: usize) -> bool {
    let known = MAP_TYPE | MAP_HUGE_SIZE_BITS | MmapFlags::all().bits() as usize;
    flags & !known != 0
}

impl Syscall<'_> {
    /// `mmap(addr, len, prot, flags, fd, offset)`: maps memory and returns its address.
    pub fn sys_mmap(
        &self,
        addr: usize,
        len: usize,
        prot: usize,
        flags: usize,
        fd: usize,
        offset: usize,
    ) -> SysResult {
        if offset % PAGE_SIZE != 0 {
            return Err(LxError::EINVAL);
        }
        let known = MmapFlags::from_bits_truncate((flags & !MAP_TYPE) as u32);
        let anonymous = known.contains(MmapFlags::ANONYMOUS);
        let file = if anonymous {
            None
        } else {
            // `fd` is an unsigned int in Linux: the register's low 32 bits.
            let fd = i32::try_from(fd as u32).map_err(|_| LxError::EBADF)?;
            Some(self.process.files().get(fd)?)
        };
        if len == 0 {
            return Err(LxError::EINVAL);
        }
        let mut known = known;
        if known.contains(MmapFlags::FIXED_NOREPLACE) {
            known |= MmapFlags::FIXED;
        }
        let len = page_align(len).ok_or(LxError::ENOMEM)?;
        let pages = len / PAGE_SIZE;
        (offset / PAGE_SIZE)
            .checked_add(pages)
            .ok_or(LxError::EOVERFLOW)?;
        if len > USER_SPACE_END {
            return Err(LxError::ENOMEM);
        }
        if known.contains(MmapFlags::FIXED) {
            if addr % PAGE_SIZE != 0 {
                return Err(LxError::EINVAL);
            }
            if addr > USER_SPACE_END - len {
                return Err(LxError::ENOMEM);
            }
        }
        let sharing = flags & MAP_TYPE;
        let mut handed = known.difference(MmapFlags::SHARED | MmapFlags::PRIVATE);
        let mapped_file = match file {
            None => {
                match sharing {
                    MAP_SHARED if known.contains(MmapFlags::GROWSDOWN) => {
                        return Err(LxError::EINVAL)
                    }
                    MAP_SHARED => handed |= MmapFlags::SHARED,
                    MAP_PRIVATE => handed |= MmapFlags::PRIVATE,
                    _ => return Err(LxError::EINVAL),
                }
                None
            }
            Some(file) => {
                let open = file.flags();
                match sharing {
                    MAP_SHARED | MAP_SHARED_VALIDATE => {
                        if sharing == MAP_SHARED {
                            handed &= legacy_flags();
                        } else if unknown_flags(flags) || known.contains(MmapFlags::SYNC) {
                            // Unknown flags, and MAP_SYNC on a file that is not DAX.
                            return Err(LxError::EOPNOTSUPP);
                        }
                        if prot & MmapProt::WRITE.bits() as usize != 0 && !open.writable() {
                            return Err(LxError::EACCES);
                        }
                        handed |= MmapFlags::SHARED;
                    }
                    MAP_PRIVATE => handed |= MmapFlags::PRIVATE,
                    _ => return Err(LxError::EINVAL),
                }
                if !open.readable() {
                    return Err(LxError::EACCES);
                }
                // Kinds Linux has no `mmap` for; the host decides for the rest.
                let kind = file.metadata()?.type_;
                if matches!(
                    kind,
                    FileType::Dir | FileType::NamedPipe | FileType::Socket | FileType::SymLink
                ) {
                    return Err(LxError::ENODEV);
                }
                if known.contains(MmapFlags::GROWSDOWN) {
                    return Err(LxError::EINVAL);
                }
                Some(MappedFile {
                    file,
                    offset: offset as u64,
                })
            }
        };
        if handed.contains(MmapFlags::HUGETLB) {
            handed =
                MmapFlags::from_bits_retain(handed.bits() | (flags & MAP_HUGE_SIZE_BITS) as u32);
        }
        let request = MmapRequest {
            addr,
            len,
            // Unknown protection bits are ignored by mmap (only mprotect refuses them).
            prot: MmapProt::from_bits_truncate((prot & PROT_KNOWN) as u32),
            flags: handed,
            file: mapped_file,
        };
        self.host.mmap(&request)
    }

    /// `munmap(addr, len)`: unmaps the pages of the range; holes are fine.
    pub fn sys_munmap(&self, addr: usize, len: usize) -> SysResult {
        if addr % PAGE_SIZE != 0 || addr > USER_SPACE_END || len > USER_SPACE_END - addr {
            return Err(LxError::EINVAL);
        }
        let len = page_align(len)
            .filter(|&len| len != 0)
            .ok_or(LxError::EINVAL)?;
        self.host.munmap(addr, len)?;
        Ok(0)
    }

    /// `mprotect(addr, len, prot)`: changes the protection of mapped pages.
    pub fn sys_mprotect(&self, addr: usize, len: usize, prot: usize) -> SysResult {
        let grows_both = (MmapProt::GROWSDOWN | MmapProt::GROWSUP).bits() as usize;
        if prot & grows_both == grows_both {
            return Err(LxError::EINVAL);
        }
        if addr % PAGE_SIZE != 0 {
            return Err(LxError::EINVAL);
        }
        if len == 0 {
            return Ok(0);
        }
        let len = page_align(len).ok_or(LxError::ENOMEM)?;
        addr.checked_add(len).ok_or(LxError::ENOMEM)?;
        if prot & !(PROT_KNOWN | grows_both) != 0 {
            return Err(LxError::EINVAL);
        }
        self.host
            .mprotect(addr, len, MmapProt::from_bits_truncate(prot as u32))?;
        Ok(0)
    }

    /// `brk(addr)`: moves the program break to `addr` and returns the new break, or the old
    /// one if it cannot move (below the heap's start, no room, no memory) — `brk` never fails
    /// with an errno. `brk(0)` asks for the current break.
    pub fn sys_brk(&self, addr: usize) -> SysResult {
        let brk = self.process.program_break();
        Ok(self.move_break(brk, addr).unwrap_or(brk.end))
    }

    /// Moves the break from `brk` to `addr` through the host; the new break, or an error
    /// that makes `brk` return the old one.
    fn move_break(&self, brk: ProgramBreak, addr: usize) -> LxResult<usize> {
        if addr < brk.start || addr > USER_SPACE_END {
            return Err(LxError::ENOMEM);
        }
        let new_end = page_align(addr).ok_or(LxError::ENOMEM)?;
        let old_end = page_align(brk.end).ok_or(LxError::ENOMEM)?;
        if new_end < old_end {
            // Shrinking is always allowed.
            self.host.munmap(new_end, old_end - new_end)?;
        } else if new_end > old_end {
            let request = MmapRequest {
                addr: old_end,
                len: new_end - old_end,
                prot: MmapProt::READ | MmapProt::WRITE,
                // The heap may not replace anything mapped above it.
                flags: MmapFlags::PRIVATE | MmapFlags::ANONYMOUS | MmapFlags::FIXED_NOREPLACE,
                file: None,
            };
            if self.host.mmap(&request)? != old_end {
                return Err(LxError::ENOMEM);
            }
        }
        self.process
            .set_program_break(ProgramBreak { end: addr, ..brk });
        Ok(addr)
    }
}
