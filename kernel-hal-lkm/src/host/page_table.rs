//! An address space on the host: a reserved region of the calling process.

use super::{errno_error, HostFile, HostPhysicalMemory};
use crate::file_backed::{FilePageTable, Mmu};
use crate::surface::{HalError, MmuFlags, VirtAddr};
use alloc::sync::Arc;
use core::{ops::Range, ptr};
use std::{io, os::fd::AsRawFd};

/// Size of the region each page table reserves.
const REGION_SIZE: usize = 1 << 30;

/// The page table of a host address space.
pub type HostPageTable = FilePageTable<HostMmu>;

impl FilePageTable<HostMmu> {
    /// Reserves the region of a new address space whose pages are frames of `memory`.
    pub fn new(memory: Arc<HostPhysicalMemory>) -> Result<Self, HalError> {
        Ok(Self::with_mmu(memory, HostMmu::reserve()?))
    }
}

/// The mappings of a host address space, served by the calling process's own.
///
/// It reserves 1 GiB of address space with an inaccessible mapping; mapping frames replaces
/// part of it with a shared mapping of the physical-memory file at the frames' offset, so a
/// write through the virtual address is a write to the frame. Unmapping puts the inaccessible
/// reservation back, so nothing else of the process can land in the region.
pub struct HostMmu {
    region: Range<VirtAddr>,
}

impl HostMmu {
    /// Reserves a region and makes it user memory.
    pub(super) fn reserve() -> Result<Self, HalError> {
        // SAFETY: without MAP_FIXED the kernel picks an unused range, so no existing memory of
        // the process is affected.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                REGION_SIZE,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(last_errno());
        }
        let start = base as usize;
        super::add_user_region(start..start + REGION_SIZE);
        Ok(Self {
            region: start..start + REGION_SIZE,
        })
    }
}

/// The `mmap` protection of `flags`.
fn prot(flags: MmuFlags) -> libc::c_int {
    let mut prot = libc::PROT_NONE;
    if flags.contains(MmuFlags::READ) {
        prot |= libc::PROT_READ;
    }
    if flags.contains(MmuFlags::WRITE) {
        prot |= libc::PROT_WRITE;
    }
    if flags.contains(MmuFlags::EXECUTE) {
        prot |= libc::PROT_EXEC;
    }
    prot
}

fn last_errno() -> HalError {
    errno_error(io::Error::last_os_error().raw_os_error())
}

impl Mmu for HostMmu {
    type File = HostFile;

    fn region(&self) -> Range<VirtAddr> {
        self.region.clone()
    }

    fn map(
        &mut self,
        file: &HostFile,
        vaddr: VirtAddr,
        len: usize,
        offset: u64,
        flags: MmuFlags,
    ) -> Result<(), HalError> {
        let offset = libc::off_t::try_from(offset).map_err(|_| HalError::OutOfRange)?;
        // SAFETY: `vaddr..vaddr + len` lies in the region this page table reserved and holds
        // no mapping of ours (checked by the caller), so MAP_FIXED only replaces the
        // inaccessible reservation, never memory that Rust code uses.
        let mapped = unsafe {
            libc::mmap(
                vaddr as *mut libc::c_void,
                len,
                prot(flags),
                libc::MAP_SHARED | libc::MAP_FIXED,
                file.as_file().as_raw_fd(),
                offset,
            )
        };
        if mapped == libc::MAP_FAILED {
            return Err(last_errno());
        }
        Ok(())
    }

    fn unmap(&mut self, vaddr: VirtAddr, len: usize) -> Result<(), HalError> {
        // SAFETY: the range lies in the region this page table reserved, which holds only its
        // own mappings and the reservation; the range becomes reservation again.
        let reserved = unsafe {
            libc::mmap(
                vaddr as *mut libc::c_void,
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if reserved == libc::MAP_FAILED {
            return Err(last_errno());
        }
        Ok(())
    }

    fn protect(&mut self, vaddr: VirtAddr, len: usize, flags: MmuFlags) -> Result<(), HalError> {
        // SAFETY: the run is one of this page table's own mappings in its reserved region;
        // the reservation itself is never made accessible.
        let status = unsafe { libc::mprotect(vaddr as *mut libc::c_void, len, prot(flags)) };
        if status != 0 {
            return Err(last_errno());
        }
        Ok(())
    }
}

impl Drop for HostMmu {
    fn drop(&mut self) {
        // Given back while no user copy can reach the region.
        super::remove_user_region(&self.region, || {
            // SAFETY: the region was reserved by this page table and holds only its mappings;
            // nothing refers to them once the page table is gone.
            let status =
                unsafe { libc::munmap(self.region.start as *mut libc::c_void, REGION_SIZE) };
            if status != 0 {
                log::warn!("unmapping a page table's region: {}", last_errno());
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surface::{PageTable, PAGE_SIZE};
    use crate::{
        host::HostPlatform,
        surface::{PhysicalMemory, Platform},
    };

    fn memory_and_table(frames: usize) -> (Arc<HostPhysicalMemory>, HostPageTable) {
        let memory = Arc::new(HostPhysicalMemory::new(frames).unwrap());
        let table = HostPageTable::new(memory.clone()).unwrap();
        (memory, table)
    }

    /// Reads a byte through a virtual address of the test process.
    fn peek(vaddr: VirtAddr) -> u8 {
        let mut byte = [0];
        HostPlatform.copy_from_user(vaddr, &mut byte).unwrap();
        byte[0]
    }

    #[test]
    fn writes_through_a_mapping_reach_the_frame_and_back() {
        let (memory, mut table) = memory_and_table(4);
        let paddr = memory.frame_alloc_contiguous(2, 0).unwrap();
        let vaddr = table.region().start + 16 * PAGE_SIZE;
        table
            .map(vaddr, paddr, 2, MmuFlags::READ | MmuFlags::WRITE)
            .unwrap();

        HostPlatform
            .copy_to_user(vaddr + PAGE_SIZE + 3, b"via va")
            .unwrap();
        let mut back = [0; 6];
        memory.read(paddr + PAGE_SIZE + 3, &mut back).unwrap();
        assert_eq!(&back, b"via va");

        memory.write(paddr + 7, b"P").unwrap();
        assert_eq!(peek(vaddr + 7), b'P');
        assert_eq!(
            table.query(vaddr + PAGE_SIZE + 5).unwrap(),
            (paddr + PAGE_SIZE + 5, MmuFlags::READ | MmuFlags::WRITE)
        );
    }

    #[test]
    fn a_deferred_table_maps_nothing_until_activated_then_hands_its_mappings_over() {
        let memory = Arc::new(HostPhysicalMemory::new(4).unwrap());
        let mut table = HostPageTable::deferred(memory.clone(), HostMmu::reserve().unwrap());
        let paddr = memory.frame_alloc_contiguous(3, 0).unwrap();
        memory.write(paddr + PAGE_SIZE, b"second").unwrap();
        let vaddr = table.region().start;
        table.map(vaddr, paddr, 3, MmuFlags::READ).unwrap();
        table
            .protect(vaddr + 2 * PAGE_SIZE, 1, MmuFlags::READ | MmuFlags::WRITE)
            .unwrap();
        let mut byte = [0];
        assert_eq!(
            HostPlatform.copy_from_user(vaddr + PAGE_SIZE, &mut byte),
            Err(HalError::Fault),
            "nothing is mapped before activation"
        );

        table.activate().unwrap();
        assert_eq!(peek(vaddr + PAGE_SIZE), b's');
        HostPlatform
            .copy_to_user(vaddr + 2 * PAGE_SIZE, b"w")
            .unwrap();
        assert_eq!(
            HostPlatform.copy_to_user(vaddr, b"w"),
            Err(HalError::Fault),
            "the first run stayed read-only"
        );

        // Handed over: the table still answers queries, but no longer touches the mappings.
        table.unmap(vaddr, 3).unwrap();
        assert_eq!(table.query(vaddr), Err(HalError::NotMapped));
        assert_eq!(peek(vaddr + PAGE_SIZE), b's');
        table.activate().unwrap();
    }

    #[test]
    fn unmapped_pages_become_inaccessible_again() {
        let (memory, mut table) = memory_and_table(2);
        let paddr = memory.frame_alloc_contiguous(2, 0).unwrap();
        let vaddr = table.region().start;
        table.map(vaddr, paddr, 2, MmuFlags::READ).unwrap();
        table.unmap(vaddr, 1).unwrap();
        assert_eq!(table.query(vaddr), Err(HalError::NotMapped));
        let mut byte = [0];
        assert_eq!(
            HostPlatform.copy_from_user(vaddr, &mut byte),
            Err(HalError::Fault)
        );
        assert!(table.query(vaddr + PAGE_SIZE).is_ok());
    }

    #[test]
    fn protect_changes_the_rights_of_mapped_pages_only() {
        let (memory, mut table) = memory_and_table(4);
        let paddr = memory.frame_alloc_contiguous(1, 0).unwrap();
        let vaddr = table.region().start + PAGE_SIZE;
        table.map(vaddr, paddr, 1, MmuFlags::READ).unwrap();
        assert_eq!(HostPlatform.copy_to_user(vaddr, b"x"), Err(HalError::Fault));
        // The range spans unmapped pages on both sides: they stay inaccessible.
        table
            .protect(vaddr - PAGE_SIZE, 3, MmuFlags::READ | MmuFlags::WRITE)
            .unwrap();
        HostPlatform.copy_to_user(vaddr, b"x").unwrap();
        assert_eq!(
            HostPlatform.copy_to_user(vaddr - PAGE_SIZE, b"x"),
            Err(HalError::Fault)
        );
        assert_eq!(
            table.query(vaddr).unwrap().1,
            MmuFlags::READ | MmuFlags::WRITE
        );
    }

    #[test]
    fn bad_maps_are_refused() {
        let (memory, mut table) = memory_and_table(4);
        let paddr = memory.frame_alloc_contiguous(1, 0).unwrap();
        let start = table.region().start;
        assert_eq!(
            table.map(start + 1, paddr, 1, MmuFlags::READ),
            Err(HalError::Unaligned)
        );
        assert_eq!(
            table.map(start - PAGE_SIZE, paddr, 1, MmuFlags::READ),
            Err(HalError::OutOfRange)
        );
        assert_eq!(
            table.map(start, paddr, usize::MAX, MmuFlags::READ),
            Err(HalError::OutOfRange)
        );
        assert_eq!(
            table.map(start, paddr, 2, MmuFlags::READ),
            Err(HalError::NotAllocated)
        );
        table.map(start, paddr, 1, MmuFlags::READ).unwrap();
        assert_eq!(
            table.map(start, paddr, 1, MmuFlags::READ),
            Err(HalError::AlreadyMapped)
        );
        assert_eq!(table.unmap(start, 0), Err(HalError::OutOfRange));
    }
}
