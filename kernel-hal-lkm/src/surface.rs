//! The whole HAL surface, declared in one place.
//!
//! Everything the crates above use from the machine is listed here, and nothing else is:
//!
//! - [`PhysicalMemory`]: one per container — its own backing file and its own frame allocator,
//!   so two containers never share a frame. Frames ([`PhysFrame`]) are allocated singly or in
//!   contiguous runs, and their bytes are read, written, zeroed and copied by physical address.
//! - [`PageTable`]: one per address space, made by the container's physical memory; maps runs of
//!   contiguous frames in one call, unmaps, protects and queries.
//! - [`Platform`]: what is not per container — monotonic and realtime time, copies from and to
//!   the current thread's user memory, the executor's [`Parker`], and making a container's
//!   physical memory.
//!
//! A backend provides these objects at run time: the `host` backend ([`crate::host`]) on a
//! hosted target, the kernel backend once the module installs it with [`install_platform`].
//! Nothing above this module names a backend type, so the kernel backend slots in without a
//! change above it.
//!
//! ```
//! use kernel_hal_lkm::{platform, MmuFlags, PhysFrame, PAGE_SIZE};
//!
//! # fn main() -> Result<(), kernel_hal_lkm::HalError> {
//! let memory = platform()?.new_physical_memory(16)?;
//! let frame = PhysFrame::alloc(&memory)?;
//! memory.write(frame.paddr() + 8, b"hello")?;
//!
//! let mut table = memory.clone().new_page_table()?;
//! let vaddr = table.region().start;
//! table.map(vaddr, frame.paddr(), 1, MmuFlags::READ)?;
//! assert_eq!(table.query(vaddr + 8)?, (frame.paddr() + 8, MmuFlags::READ));
//! table.unmap(vaddr, 1)?;
//! # assert_eq!(PAGE_SIZE, 4096);
//! # Ok(())
//! # }
//! ```

use alloc::{boxed::Box, sync::Arc, vec::Vec};
use core::{fmt, ops::Range, time::Duration};

/// Size of a frame and of a page.
pub const PAGE_SIZE: usize = 4096;

/// An address in a container's physical memory: a byte offset into its backing file.
pub type PhysAddr = usize;

/// An address in an address space.
pub type VirtAddr = usize;

bitflags::bitflags! {
    /// Access rights of a mapped page.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct MmuFlags: u32 {
        /// The page can be read.
        const READ = 1 << 0;
        /// The page can be written.
        const WRITE = 1 << 1;
        /// The page can be executed.
        const EXECUTE = 1 << 2;
    }
}

/// Errors of the HAL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HalError {
    /// no free run of frames of that size is left in this physical memory
    OutOfFrames,
    /// the physical range does not lie in frames allocated from this physical memory
    NotAllocated,
    /// the address or length is not a multiple of the page size
    Unaligned,
    /// the range lies outside the page table's region, or its end overflows
    OutOfRange,
    /// part of the virtual range is already mapped
    AlreadyMapped,
    /// the virtual address is not mapped
    NotMapped,
    /// the user address range is not accessible to the current thread
    Fault,
    /// a system call of the backend failed with this errno
    Backend(i32),
    /// no HAL backend is installed yet
    NoPlatform,
    /// a HAL backend is already installed
    PlatformAlreadyInstalled,
}

impl fmt::Display for HalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfFrames => {
                f.write_str("no free run of frames of that size is left in this physical memory")
            }
            Self::NotAllocated => f.write_str(
                "the physical range does not lie in frames allocated from this physical memory",
            ),
            Self::Unaligned => {
                f.write_str("the address or length is not a multiple of the page size")
            }
            Self::OutOfRange => {
                f.write_str("the range lies outside the page table's region, or its end overflows")
            }
            Self::AlreadyMapped => f.write_str("part of the virtual range is already mapped"),
            Self::NotMapped => f.write_str("the virtual address is not mapped"),
            Self::Fault => {
                f.write_str("the user address range is not accessible to the current thread")
            }
            Self::Backend(errno) => {
                write!(f, "a system call of the backend failed with errno {errno}")
            }
            Self::NoPlatform => f.write_str("no HAL backend is installed yet"),
            Self::PlatformAlreadyInstalled => f.write_str("a HAL backend is already installed"),
        }
    }
}

/// A container's physical memory: a backing file and the allocator of its frames.
///
/// Frames handed out read as zero. A frame's bytes are reached by physical address, whether or
/// not a page table maps it: a write through a mapping is visible to [`read`](Self::read) and
/// vice versa.
pub trait PhysicalMemory: Send + Sync {
    /// Allocates `count` contiguous frames whose first frame number is a multiple of
    /// `1 << align_log2`, and returns the address of the first. Each frame of the run is freed
    /// on its own with [`frame_dealloc`](Self::frame_dealloc).
    fn frame_alloc_contiguous(&self, count: usize, align_log2: usize)
        -> Result<PhysAddr, HalError>;

    /// Frees the frame at `paddr`.
    fn frame_dealloc(&self, paddr: PhysAddr) -> Result<(), HalError>;

    /// Number of frames allocated now.
    fn frames_in_use(&self) -> usize;

    /// Reads `buf.len()` bytes at `paddr`, which must lie in allocated frames.
    fn read(&self, paddr: PhysAddr, buf: &mut [u8]) -> Result<(), HalError>;

    /// Writes `buf` at `paddr`, which must lie in allocated frames.
    fn write(&self, paddr: PhysAddr, buf: &[u8]) -> Result<(), HalError>;

    /// Sets `len` bytes at `paddr` to zero.
    fn zero(&self, paddr: PhysAddr, len: usize) -> Result<(), HalError>;

    /// Copies `len` bytes from `src` to `dst`; the two ranges must not overlap.
    fn copy(&self, dst: PhysAddr, src: PhysAddr, len: usize) -> Result<(), HalError>;

    /// Makes the page table of a new address space whose pages are frames of this memory.
    fn new_page_table(self: Arc<Self>) -> Result<Box<dyn PageTable>, HalError>;
}

/// The page table of one address space.
///
/// All addresses and page counts are in whole pages. Mapping requires the frames to be
/// allocated and the pages to be unmapped; unmapping and protecting skip the pages of the range
/// that are not mapped.
///
/// The kernel backend's page table is the memory map of the process that made it: `vm_mmap`
/// and `vm_munmap` act on the current process, so it is changed from that process's threads.
pub trait PageTable: Send {
    /// The virtual range this page table may map.
    fn region(&self) -> Range<VirtAddr>;

    /// Maps `pages` pages from `vaddr` to the contiguous frames from `paddr`, in one call.
    fn map(
        &mut self,
        vaddr: VirtAddr,
        paddr: PhysAddr,
        pages: usize,
        flags: MmuFlags,
    ) -> Result<(), HalError>;

    /// Unmaps `pages` pages from `vaddr`.
    fn unmap(&mut self, vaddr: VirtAddr, pages: usize) -> Result<(), HalError>;

    /// Gives the mapped pages among `pages` pages from `vaddr` the access rights `flags`.
    fn protect(&mut self, vaddr: VirtAddr, pages: usize, flags: MmuFlags) -> Result<(), HalError>;

    /// The physical address `vaddr` maps to, and the rights of its page.
    fn query(&self, vaddr: VirtAddr) -> Result<(PhysAddr, MmuFlags), HalError>;

    /// Makes this the running process's address space, as `execve` switches to the space it
    /// built. A page table that is always live (the host backend's) has nothing to do. The
    /// kernel backend's page table is built while the old program is still mapped: it maps
    /// nothing until activated, then maps everything at once into the current process and
    /// hands the mappings over to it — from then on the process's own `munmap`, `mprotect`
    /// and `fork` own them, and this table only keeps its frames alive.
    fn activate(&mut self) -> Result<(), HalError> {
        Ok(())
    }
}

/// How a [`Parker::park`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParkResult {
    /// [`Parker::unpark`] was called (before or during the park).
    Unparked,
    /// The timeout passed first.
    TimedOut,
    /// A signal is pending for the thread: the kernel wants it back in user mode.
    Interrupted,
}

/// The executor's sleep hook: one per OS thread, parked only by that thread.
///
/// An unpark that comes before the park is not lost: the next park returns at once. Parks may
/// also return [`ParkResult::Unparked`] spuriously, so callers re-check what they wait for.
pub trait Parker: Send + Sync {
    /// Sleeps until unparked, until `timeout` has passed, or until a signal is pending.
    fn park(&self, timeout: Option<Duration>) -> ParkResult;

    /// Wakes the parked thread, or makes its next park return at once.
    fn unpark(&self);
}

/// What the HAL provides that is not per container.
pub trait Platform: Sync {
    /// Time since an arbitrary fixed point; never goes back.
    fn monotonic_now(&self) -> Duration;

    /// Time since the Unix epoch.
    fn realtime_now(&self) -> Duration;

    /// Copies `dst.len()` bytes from the current thread's user memory at `src`.
    fn copy_from_user(&self, src: VirtAddr, dst: &mut [u8]) -> Result<(), HalError>;

    /// Copies `src` to the current thread's user memory at `dst`.
    fn copy_to_user(&self, dst: VirtAddr, src: &[u8]) -> Result<(), HalError>;

    /// Copies a NUL-terminated string from the current thread's user memory at `src` into
    /// `dst`, as Linux's `strncpy_from_user`: at most `dst.len()` bytes, stopping after the NUL.
    /// Returns the string's length without its NUL, or `dst.len()` if no NUL came within
    /// `dst.len()` bytes; [`HalError::Fault`] if a byte before that is inaccessible (the first
    /// or any later one). Bytes of `dst` past the NUL are unspecified.
    ///
    /// The default copies page by page with [`copy_from_user`](Self::copy_from_user) and stops
    /// at the page holding the NUL, so a string that ends just before an inaccessible page is
    /// read whole.
    fn copy_cstr_from_user(&self, src: VirtAddr, dst: &mut [u8]) -> Result<usize, HalError> {
        let mut copied = 0;
        let mut rest = dst;
        while !rest.is_empty() {
            let addr = src.checked_add(copied).ok_or(HalError::Fault)?;
            let chunk_len = (PAGE_SIZE - addr % PAGE_SIZE).min(rest.len());
            let (chunk, after) = rest.split_at_mut(chunk_len);
            self.copy_from_user(addr, chunk)?;
            if let Some(nul) = chunk.iter().position(|&byte| byte == 0) {
                return Ok(copied + nul);
            }
            copied += chunk_len;
            rest = after;
        }
        Ok(copied)
    }

    /// Makes a parker for the calling OS thread.
    fn new_parker(&self) -> Result<Arc<dyn Parker>, HalError>;

    /// Makes a container's physical memory of at most `max_frames` frames.
    fn new_physical_memory(&self, max_frames: usize) -> Result<Arc<dyn PhysicalMemory>, HalError>;

    /// Fills `buf` from the system's cryptographically secure random source.
    fn fill_random(&self, buf: &mut [u8]);

    /// Called by a lock waiter between attempts: gives the CPU to others if the caller may
    /// sleep here (see [`crate::sync`]). Any context.
    fn relax(&self) {
        core::hint::spin_loop();
    }
}

pub(crate) static PLATFORM: spin::Once<&'static dyn Platform> = spin::Once::new();

/// Installs the backend; done once, before anything asks for [`platform`].
pub fn install_platform(backend: &'static dyn Platform) -> Result<(), HalError> {
    let mut installed_now = false;
    PLATFORM.call_once(|| {
        installed_now = true;
        backend
    });
    if installed_now {
        Ok(())
    } else {
        Err(HalError::PlatformAlreadyInstalled)
    }
}

/// The installed backend. On a hosted target the host backend serves when none was installed.
pub fn platform() -> Result<&'static dyn Platform, HalError> {
    #[cfg(not(target_os = "none"))]
    return Ok(*PLATFORM.call_once(|| &crate::host::HostPlatform));
    #[cfg(target_os = "none")]
    return PLATFORM.get().copied().ok_or(HalError::NoPlatform);
}

/// One allocated frame, freed when dropped.
pub struct PhysFrame {
    paddr: PhysAddr,
    memory: Arc<dyn PhysicalMemory>,
}

impl PhysFrame {
    /// Allocates one frame of `memory`.
    pub fn alloc(memory: &Arc<dyn PhysicalMemory>) -> Result<Self, HalError> {
        let paddr = memory.frame_alloc_contiguous(1, 0)?;
        Ok(Self {
            paddr,
            memory: memory.clone(),
        })
    }

    /// Allocates `count` contiguous frames of `memory`, the first aligned to
    /// `1 << align_log2` frames.
    pub fn alloc_contiguous(
        memory: &Arc<dyn PhysicalMemory>,
        count: usize,
        align_log2: usize,
    ) -> Result<Vec<Self>, HalError> {
        let first = memory.frame_alloc_contiguous(count, align_log2)?;
        let mut frames = Vec::new();
        for index in 0..count {
            // Taken into a frame at once, so that every frame of the run is freed on any return.
            frames.push(Self {
                paddr: first + index * PAGE_SIZE,
                memory: memory.clone(),
            });
        }
        Ok(frames)
    }

    /// The frame's physical address.
    pub fn paddr(&self) -> PhysAddr {
        self.paddr
    }

    /// The physical memory the frame belongs to.
    pub fn memory(&self) -> &Arc<dyn PhysicalMemory> {
        &self.memory
    }
}

impl fmt::Debug for PhysFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhysFrame({:#x})", self.paddr)
    }
}

impl Drop for PhysFrame {
    fn drop(&mut self) {
        if let Err(error) = self.memory.frame_dealloc(self.paddr) {
            log::warn!("freeing frame {:#x}: {error}", self.paddr);
        }
    }
}

/// Checks that `addr` is page aligned.
pub fn check_page_aligned(addr: usize) -> Result<(), HalError> {
    if addr % PAGE_SIZE == 0 {
        Ok(())
    } else {
        Err(HalError::Unaligned)
    }
}

/// Bytes in `pages` pages, or [`HalError::OutOfRange`] if that overflows.
pub fn pages_to_bytes(pages: usize) -> Result<usize, HalError> {
    pages.checked_mul(PAGE_SIZE).ok_or(HalError::OutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_freed_when_dropped() {
        let memory = platform().unwrap().new_physical_memory(8).unwrap();
        let run = PhysFrame::alloc_contiguous(&memory, 3, 2).unwrap();
        assert_eq!(memory.frames_in_use(), 3);
        assert_eq!(run[0].paddr() % (4 * PAGE_SIZE), 0);
        assert_eq!(run[2].paddr(), run[0].paddr() + 2 * PAGE_SIZE);
        let single = PhysFrame::alloc(&memory).unwrap();
        assert_eq!(memory.frames_in_use(), 4);
        drop(run);
        assert_eq!(memory.frames_in_use(), 1);
        drop(single);
        assert_eq!(memory.frames_in_use(), 0);
    }

    /// Two readable pages of user memory with unmapped pages on either side: the memory, the
    /// frames' address, the pages' address, and the page table (kept for the mapping).
    fn two_user_pages() -> (
        Arc<dyn PhysicalMemory>,
        PhysAddr,
        VirtAddr,
        Box<dyn PageTable>,
    ) {
        let memory = platform().unwrap().new_physical_memory(2).unwrap();
        let paddr = memory.frame_alloc_contiguous(2, 0).unwrap();
        let mut table = memory.clone().new_page_table().unwrap();
        let user = table.region().start + PAGE_SIZE;
        table.map(user, paddr, 2, MmuFlags::READ).unwrap();
        (memory, paddr, user, table)
    }

    /// The default `copy_cstr_from_user` (the host backend's): up to `buf.len()` bytes.
    fn copy_cstr(addr: VirtAddr, buf: &mut [u8]) -> Result<usize, HalError> {
        platform().unwrap().copy_cstr_from_user(addr, buf)
    }

    #[test]
    fn user_strings_are_copied_up_to_their_nul_across_pages() {
        let (memory, paddr, user, _table) = two_user_pages();
        let boundary = PAGE_SIZE - 3;
        memory.write(paddr + boundary, b"abcdef\0xyz").unwrap();
        let mut buf = [0xff; 32];
        assert_eq!(copy_cstr(user + boundary, &mut buf), Ok(6));
        assert_eq!(&buf[..7], b"abcdef\0");
        // No NUL within the buffer: all of it, and its length.
        let mut short = [0; 6];
        assert_eq!(copy_cstr(user + boundary, &mut short), Ok(6));
        assert_eq!(&short, b"abcdef");
        assert_eq!(copy_cstr(user + boundary, &mut []), Ok(0));
        // Frames read as zero: the empty string.
        assert_eq!(copy_cstr(user, &mut buf), Ok(0));
    }

    #[test]
    fn a_user_string_may_end_before_an_inaccessible_page_but_not_run_into_it() {
        let (memory, paddr, user, _table) = two_user_pages();
        let last = 2 * PAGE_SIZE - 4;
        let mut buf = [0; 64];
        memory.write(paddr + last, b"end\0").unwrap();
        assert_eq!(copy_cstr(user + last, &mut buf), Ok(3));
        memory.write(paddr + last, b"endx").unwrap();
        // Partway through, as the first byte: a fault either way.
        assert_eq!(copy_cstr(user + last, &mut buf), Err(HalError::Fault));
        assert_eq!(copy_cstr(user - 1, &mut buf), Err(HalError::Fault));
        assert_eq!(
            copy_cstr(user + 2 * PAGE_SIZE, &mut buf),
            Err(HalError::Fault)
        );
        // A buffer that fills before the inaccessible page does not reach it.
        let mut four = [0; 4];
        assert_eq!(copy_cstr(user + last, &mut four), Ok(4));
        assert_eq!(copy_cstr(usize::MAX, &mut four), Err(HalError::Fault));
    }

    #[test]
    fn a_second_install_is_refused() {
        // The first `platform()` call of the test binary installs the host backend.
        let host = platform().unwrap();
        assert_eq!(
            install_platform(host),
            Err(HalError::PlatformAlreadyInstalled)
        );
    }

    #[test]
    fn page_arithmetic_checks_alignment_and_overflow() {
        assert_eq!(check_page_aligned(3 * PAGE_SIZE), Ok(()));
        assert_eq!(check_page_aligned(PAGE_SIZE + 1), Err(HalError::Unaligned));
        assert_eq!(pages_to_bytes(2), Ok(2 * PAGE_SIZE));
        assert_eq!(pages_to_bytes(usize::MAX), Err(HalError::OutOfRange));
    }
}
