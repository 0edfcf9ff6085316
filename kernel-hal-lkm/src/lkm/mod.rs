//! The kernel backend: the HAL surface inside the Linux kernel, through the module's shim
//! (`linux_kernel_module::hal`). Built only for `target_os = "none"`, the kernel's target.
//!
//! | surface | kernel |
//! |---|---|
//! | physical memory | a sparse `shmem_file_setup` file per container |
//! | pmem read/write | `kernel_read`/`kernel_write` at the frame's offset |
//! | page table | the current process's memory map: `vm_mmap(MAP_PRIVATE)` of the file, all at once when activated |
//! | user copy | `copy_from_user`/`copy_to_user`, `strncpy_from_user` for strings |
//! | park | a wait queue, interruptible: a pending signal ends the park |
//!
//! Mappings are private (copy-on-write), as DESIGN.md decision 5 requires: what a process
//! writes through its mapping stays its own and a fork copies it. So, unlike the host backend,
//! a write through a mapping is not seen by [`PhysicalMemory::read`]; the kernel reads a
//! process's memory with the user copies instead.

use alloc::{boxed::Box, sync::Arc};
use core::ops::Range;
use core::time::Duration;

use linux_kernel_module::hal::{self, prot, Park, ShmemFile, WaitQueueParker};
use linux_kernel_module::user_ptr::{self, In, Out, UserSlicePtr};
use linux_kernel_module::Error;

use crate::file_backed::{BackingFile, FileMemory, FilePageTable, Mmu};
use crate::surface::{
    HalError, MmuFlags, PageTable, ParkResult, Parker, PhysicalMemory, Platform, VirtAddr,
    PAGE_SIZE,
};

/// The kernel backend's [`Platform`]; the module installs it with
/// [`install_platform`](crate::install_platform) at load.
pub struct KernelPlatform;

fn backend_error(error: Error) -> HalError {
    if error == Error::EFAULT {
        HalError::Fault
    } else {
        HalError::Backend(error.errno())
    }
}

impl Platform for KernelPlatform {
    fn fill_random(&self, buf: &mut [u8]) {
        linux_kernel_module::process::random_bytes(buf);
    }

    fn relax(&self) {
        linux_kernel_module::process::relax();
    }

    fn monotonic_now(&self) -> Duration {
        hal::monotonic_now()
    }

    fn realtime_now(&self) -> Duration {
        hal::realtime_now()
    }

    fn copy_from_user(&self, src: VirtAddr, dst: &mut [u8]) -> Result<(), HalError> {
        UserSlicePtr::<u8, In>::with_len(src, dst.len())
            .read_into(dst)
            .map_err(backend_error)
    }

    fn copy_to_user(&self, dst: VirtAddr, src: &[u8]) -> Result<(), HalError> {
        UserSlicePtr::<u8, Out>::with_len(dst, src.len())
            .write_slice(src)
            .map_err(backend_error)
    }

    fn copy_cstr_from_user(&self, src: VirtAddr, dst: &mut [u8]) -> Result<usize, HalError> {
        user_ptr::copy_user_cstr(src, dst).map_err(backend_error)
    }

    fn new_parker(&self) -> Result<Arc<dyn Parker>, HalError> {
        let parker = WaitQueueParker::new().map_err(backend_error)?;
        Ok(Arc::new(KernelParker(parker)))
    }

    fn new_physical_memory(&self, max_frames: usize) -> Result<Arc<dyn PhysicalMemory>, HalError> {
        let len = max_frames
            .checked_mul(PAGE_SIZE)
            .and_then(|len| u64::try_from(len).ok())
            .ok_or(HalError::OutOfRange)?;
        let file = ShmemFile::new(c"rvisor-pmem", len).map_err(backend_error)?;
        Ok(Arc::new(FileMemory::with_file(
            KernelFile(file),
            max_frames,
        )?))
    }
}

/// A parker on a kernel wait queue.
struct KernelParker(WaitQueueParker);

impl Parker for KernelParker {
    fn park(&self, timeout: Option<Duration>) -> ParkResult {
        match self.0.park(timeout) {
            Park::Unparked => ParkResult::Unparked,
            Park::TimedOut => ParkResult::TimedOut,
            Park::Interrupted => ParkResult::Interrupted,
        }
    }

    fn unpark(&self) {
        self.0.unpark();
    }
}

/// A container's physical memory file.
pub struct KernelFile(ShmemFile);

impl BackingFile for KernelFile {
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), HalError> {
        self.0.read_exact_at(offset, buf).map_err(backend_error)
    }

    fn write_all_at(&self, offset: u64, buf: &[u8]) -> Result<(), HalError> {
        self.0.write_all_at(offset, buf).map_err(backend_error)
    }

    fn punch(&self, offset: u64, len: u64) -> Result<(), HalError> {
        self.0.punch(offset, len).map_err(backend_error)
    }

    fn new_page_table(memory: Arc<FileMemory<Self>>) -> Result<Box<dyn PageTable>, HalError> {
        // Built by execve while the old program is still mapped: see `PageTable::activate`.
        Ok(Box::new(FilePageTable::deferred(memory, KernelMmu)))
    }
}

/// The top of the address range Linux hands out by default (`DEFAULT_MAP_WINDOW`, 47 bits).
const DEFAULT_MAP_WINDOW: VirtAddr = 0x7fff_ffff_f000;

/// The mappings of the current process. Its page tables are changed from the process's own
/// threads only (`vm_mmap` acts on the caller's memory map).
pub struct KernelMmu;

fn prot_bits(flags: MmuFlags) -> u32 {
    let mut bits = 0;
    if flags.contains(MmuFlags::READ) {
        bits |= prot::READ;
    }
    if flags.contains(MmuFlags::WRITE) {
        bits |= prot::WRITE;
    }
    if flags.contains(MmuFlags::EXECUTE) {
        bits |= prot::EXEC;
    }
    bits
}

impl Mmu for KernelMmu {
    type File = KernelFile;

    fn region(&self) -> Range<VirtAddr> {
        // The first page stays unmapped, as Linux's mmap_min_addr keeps it. Above 47 bits
        // (5-level paging) Linux maps only for programs that ask: new images stay below.
        PAGE_SIZE..hal::task_size().min(DEFAULT_MAP_WINDOW)
    }

    fn map(
        &mut self,
        file: &KernelFile,
        vaddr: VirtAddr,
        len: usize,
        offset: u64,
        flags: MmuFlags,
    ) -> Result<(), HalError> {
        file.0
            .map_into_current(vaddr, len, prot_bits(flags), offset)
            .map_err(|error| {
                if error == Error::EEXIST {
                    HalError::AlreadyMapped
                } else {
                    backend_error(error)
                }
            })
    }

    fn unmap(&mut self, vaddr: VirtAddr, len: usize) -> Result<(), HalError> {
        hal::unmap_current(vaddr, len).map_err(backend_error)
    }

    fn protect(&mut self, vaddr: VirtAddr, len: usize, flags: MmuFlags) -> Result<(), HalError> {
        hal::protect_current(vaddr, len, prot_bits(flags)).map_err(backend_error)
    }
}
