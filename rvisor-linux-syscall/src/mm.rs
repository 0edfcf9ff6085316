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
                // A file's mapped range must lie within the largest file size (Linux's
                // `file_mmap_ok`, `MAX_LFS_FILESIZE`).
                let max_file = i64::MAX.unsigned_abs() as usize;
                if offset.checked_add(len).is_none_or(|end| end > max_file) {
                    return Err(LxError::EOVERFLOW);
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{HostEvent, TestMachine};
    use crate::user::{copy_from_user, copy_to_user};
    use kernel_hostfs::FileType;
    use linux_object::elf::AddressSpace;
    use linux_object::fs::{File, OpenFlags, Pipe};

    const MMAP: u32 = 9;
    const MPROTECT: u32 = 10;
    const MUNMAP: u32 = 11;
    const BRK: u32 = 12;
    const RW: usize = 3;
    const PRIVATE_ANON: usize = MAP_PRIVATE | 0x20;

    fn errno(error: LxError) -> isize {
        -(error.errno() as isize)
    }

    fn host_calls(machine: &TestMachine) -> usize {
        machine
            .events()
            .iter()
            .filter(|event| {
                matches!(
                    event,
                    HostEvent::Mmap { .. } | HostEvent::Munmap { .. } | HostEvent::Mprotect { .. }
                )
            })
            .count()
    }

    #[test]
    fn anonymous_mappings_are_validated_then_handed_on() {
        let machine = TestMachine::new();
        let init = machine.init();
        let mmap = |args: [usize; 6]| machine.run(&init, 1, MMAP, args);
        let max = usize::MAX;
        let refused = [
            ([0, 0, RW, PRIVATE_ANON, max, 0], LxError::EINVAL),
            ([0, 4096, RW, PRIVATE_ANON, max, 1], LxError::EINVAL),
            (
                [0x1001, 4096, RW, PRIVATE_ANON | 0x10, max, 0],
                LxError::EINVAL,
            ),
            (
                [0x1001, 4096, RW, PRIVATE_ANON | 0x10_0000, max, 0],
                LxError::EINVAL,
            ),
            ([0, 4096, RW, 0x20, max, 0], LxError::EINVAL),
            (
                [0, 4096, RW, MAP_SHARED_VALIDATE | 0x20, max, 0],
                LxError::EINVAL,
            ),
            (
                [0, 4096, RW, MAP_SHARED | 0x20 | 0x100, max, 0],
                LxError::EINVAL,
            ),
            ([0, max - 10, RW, PRIVATE_ANON, max, 0], LxError::ENOMEM),
            ([0, 1 << 47, RW, PRIVATE_ANON, max, 0], LxError::ENOMEM),
            (
                [USER_SPACE_END, 4096, RW, PRIVATE_ANON | 0x10, max, 0],
                LxError::ENOMEM,
            ),
            ([0, 4096, RW, MAP_PRIVATE, 99, 0], LxError::EBADF),
        ];
        for (args, error) in refused {
            assert_eq!(mmap(args), errno(error), "{args:x?}");
        }
        assert_eq!(host_calls(&machine), 0, "nothing refused reached the host");

        // Unknown protection and flag bits are dropped, the length rounded up.
        let addr = mmap([0, 5000, RW | 0x40, PRIVATE_ANON | 0x0400_0000_0000, max, 0]);
        assert!(addr > 0);
        let [HostEvent::Mmap {
            len,
            prot,
            flags,
            file_offset,
            ..
        }] = &machine.events()[..]
        else {
            panic!("one mmap");
        };
        assert_eq!((*len, *file_offset), (8192, None));
        assert_eq!(*prot, MmapProt::READ | MmapProt::WRITE);
        assert_eq!(*flags, MmapFlags::PRIVATE | MmapFlags::ANONYMOUS);
        copy_to_user(addr as usize + 8000, b"heap").unwrap();

        // MAP_FIXED_NOREPLACE over it: EEXIST from the host; MAP_FIXED replaces.
        let fixed = [addr as usize, 4096, 1, PRIVATE_ANON | 0x10_0000, max, 0];
        assert_eq!(mmap(fixed), errno(LxError::EEXIST));
        let fixed = [addr as usize, 4096, 1, PRIVATE_ANON | 0x10, max, 0];
        assert_eq!(mmap(fixed), addr);
    }

    #[test]
    fn file_mappings_need_a_mappable_file_opened_for_it() {
        let machine = TestMachine::new();
        let init = machine.init();
        let root = machine.container().root().clone();
        let inode = root.create("data", FileType::File, 0o644).unwrap();
        inode.write_at(0, &[7; 5000]).unwrap();
        let read_only = init
            .files()
            .add(File::new(inode.clone(), OpenFlags::empty()), false)
            .unwrap() as usize;
        let write_only = init
            .files()
            .add(File::new(inode.clone(), OpenFlags::WRONLY), false)
            .unwrap() as usize;
        let (reader, _writer) = Pipe::new_pair(OpenFlags::empty());
        let pipe = init.files().add(reader, false).unwrap() as usize;
        let dir = init
            .files()
            .add(File::new(root.clone(), OpenFlags::empty()), false)
            .unwrap() as usize;
        let mmap = |args: [usize; 6]| machine.run(&init, 1, MMAP, args);
        let refused = [
            ([0, 4096, 1, MAP_PRIVATE, write_only, 0], LxError::EACCES),
            ([0, 4096, RW, MAP_SHARED, read_only, 0], LxError::EACCES),
            (
                [0, 4096, 1, MAP_SHARED_VALIDATE | 0x8_0000, read_only, 0],
                LxError::EOPNOTSUPP,
            ),
            (
                [0, 4096, 1, MAP_SHARED_VALIDATE | 1 << 33, read_only, 0],
                LxError::EOPNOTSUPP,
            ),
            ([0, 4096, 1, MAP_PRIVATE, pipe, 0], LxError::ENODEV),
            ([0, 4096, 1, MAP_PRIVATE, dir, 0], LxError::ENODEV),
            ([0, 4096, 1, 0, read_only, 0], LxError::EINVAL),
            (
                [0, 4096, 1, MAP_PRIVATE | 0x100, read_only, 0],
                LxError::EINVAL,
            ),
            (
                [0, 4096, 1, MAP_PRIVATE, read_only, usize::MAX - 4095],
                LxError::EOVERFLOW,
            ),
        ];
        for (args, error) in refused {
            assert_eq!(mmap(args), errno(error), "{args:x?}");
        }
        assert_eq!(host_calls(&machine), 0);
        // Shared read-only, and MAP_SHARED ignores unknown flags.
        let addr = mmap([0, 4096, 1, MAP_SHARED | 1 << 33, read_only, 4096]);
        assert!(addr > 0, "{addr}");
        let mut bytes = [0; 4];
        copy_from_user(addr as usize + 900, &mut bytes).unwrap();
        assert_eq!(bytes, [7; 4]);
        assert!(matches!(
            machine.events().last(),
            Some(HostEvent::Mmap { file_offset: Some(4096), flags, .. }) if *flags == MmapFlags::SHARED
        ));
    }

    #[test]
    fn munmap_and_mprotect_check_their_ranges() {
        let machine = TestMachine::new();
        let init = machine.init();
        let run =
            |nr, args: [usize; 3]| machine.run(&init, 1, nr, [args[0], args[1], args[2], 0, 0, 0]);
        assert_eq!(run(MUNMAP, [0x1001, 4096, 0]), errno(LxError::EINVAL));
        assert_eq!(run(MUNMAP, [0x1000, 0, 0]), errno(LxError::EINVAL));
        assert_eq!(
            run(MUNMAP, [0x1000, USER_SPACE_END, 0]),
            errno(LxError::EINVAL)
        );
        assert_eq!(run(MPROTECT, [0x1001, 4096, 1]), errno(LxError::EINVAL));
        assert_eq!(run(MPROTECT, [0x1000, 0, 1]), 0);
        assert_eq!(run(MPROTECT, [0x1000, 4096, 0x10]), errno(LxError::EINVAL));
        assert_eq!(
            run(MPROTECT, [0x1000, 4096, 0x0300_0001]),
            errno(LxError::EINVAL)
        );
        assert_eq!(
            run(MPROTECT, [0x1000, usize::MAX - 0x1000, 1]),
            errno(LxError::ENOMEM)
        );
        assert_eq!(host_calls(&machine), 0);

        let addr = machine.run(&init, 1, MMAP, [0, 3 * 4096, RW, PRIVATE_ANON, 0, 0]) as usize;
        assert_eq!(run(MPROTECT, [addr + 4096, 100, 1]), 0);
        assert_eq!(copy_to_user(addr + 4096, b"x"), Err(LxError::EFAULT));
        copy_to_user(addr, b"x").unwrap();
        assert_eq!(run(MUNMAP, [addr, 4097, 0]), 0);
        assert!(matches!(
            machine.events().last(),
            Some(HostEvent::Munmap { len: 8192, .. })
        ));
        assert_eq!(copy_to_user(addr, b"x"), Err(LxError::EFAULT));
        assert_eq!(
            run(MPROTECT, [addr, 4096, 1]),
            errno(LxError::ENOMEM),
            "not mapped"
        );
    }

    #[test]
    fn brk_grows_and_shrinks_through_the_host_and_reports_failure_with_the_old_break() {
        let machine = TestMachine::new();
        let init = machine.init();
        let space = machine.space(1);
        let start = space.reserve(4096).unwrap() + 4096;
        init.set_program_break(ProgramBreak { start, end: start });
        let brk = |addr: usize| machine.run(&init, 1, BRK, [addr, 0, 0, 0, 0, 0]) as usize;
        assert_eq!(brk(0), start);
        assert_eq!(brk(start - 1), start, "below the heap");
        assert_eq!(brk(start + 5000), start + 5000);
        assert!(matches!(
            machine.events().last(),
            Some(HostEvent::Mmap { addr, len: 8192, flags, .. })
                if *addr == start && flags.contains(MmapFlags::FIXED_NOREPLACE)
        ));
        copy_to_user(start + 8000, b"heap").unwrap();
        // Within the same page: no host call.
        let calls = host_calls(&machine);
        assert_eq!(brk(start + 6000), start + 6000);
        assert_eq!(host_calls(&machine), calls);
        assert_eq!(brk(start + 10), start + 10);
        assert!(matches!(
            machine.events().last(),
            Some(HostEvent::Munmap { addr, len: 4096, .. }) if *addr == start + 4096
        ));
        // Something mapped above stops the growth: the old break comes back.
        let blocker = start + 3 * 4096;
        let fixed = [blocker, 4096, RW, PRIVATE_ANON | 0x10, 0, 0];
        assert_eq!(machine.run(&init, 1, MMAP, fixed), blocker as isize);
        assert_eq!(brk(start + 5 * 4096), start + 10);
        assert_eq!(brk(USER_SPACE_END + 1), start + 10);
        assert_eq!(init.program_break().end, start + 10);
    }
}
