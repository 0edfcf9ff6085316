//! What both backends share: physical memory that is one file ([`FileMemory`], its frames
//! handed out by a buddy allocator) and the page table of an address space that maps runs of
//! that file ([`FilePageTable`], with the bookkeeping of what is mapped where).
//!
//! A backend supplies the file ([`BackingFile`]: read, write and punch at an offset) and the
//! mapping primitives of its address spaces ([`Mmu`]); everything else, the checks included,
//! is here once.

use alloc::{boxed::Box, collections::BTreeMap, sync::Arc, vec, vec::Vec};
use core::{alloc::Layout, ops::Range};

use crate::sync::Mutex;
use buddy_system_allocator::FrameAllocator;

use crate::surface::{
    check_page_aligned, pages_to_bytes, HalError, MmuFlags, PageTable, PhysAddr, PhysicalMemory,
    VirtAddr, PAGE_SIZE,
};

/// Largest run of frames the buddy allocator hands out is `1 << (BUDDY_ORDER - 1)` frames.
const BUDDY_ORDER: usize = 32;

/// The smallest numbering base of the buddy allocator's frames (see [`FileMemory`]).
const ALIGNMENT_BASE: usize = 1 << 20;

/// The file a physical memory lives in. It is created at its full size and sparse, so a frame
/// costs memory only once written.
pub trait BackingFile: Send + Sync + Sized + 'static {
    /// Fills `buf` from the file at `offset`.
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), HalError>;

    /// Writes all of `buf` at `offset`.
    fn write_all_at(&self, offset: u64, buf: &[u8]) -> Result<(), HalError>;

    /// Gives `len` bytes at `offset` back to the system: they read as zero afterwards.
    fn punch(&self, offset: u64, len: u64) -> Result<(), HalError>;

    /// The page table of a new address space whose pages are frames of `memory`.
    fn new_page_table(memory: Arc<FileMemory<Self>>) -> Result<Box<dyn PageTable>, HalError>;
}

/// The allocation state of the frames.
struct Frames {
    buddy: FrameAllocator<BUDDY_ORDER>,
    /// One bit per frame, set while allocated: frees of frames not handed out are refused
    /// instead of corrupting the buddy lists.
    allocated: Vec<u64>,
    in_use: usize,
}

impl Frames {
    fn is_allocated(&self, frame: usize) -> bool {
        self.allocated
            .get(frame / 64)
            .is_some_and(|word| word & (1 << (frame % 64)) != 0)
    }

    fn set_allocated(&mut self, frame: usize, allocated: bool) {
        if let Some(word) = self.allocated.get_mut(frame / 64) {
            if allocated {
                *word |= 1 << (frame % 64);
            } else {
                *word &= !(1 << (frame % 64));
            }
        }
    }
}

/// A container's physical memory: a file and the allocator of its frames.
///
/// Freed frames are punched out of the file, so their memory goes back to the system and they
/// read as zero when handed out again. The allocator's lock is never held across file I/O,
/// which may sleep in the kernel.
pub struct FileMemory<F> {
    file: F,
    max_frames: usize,
    /// What the buddy allocator numbers frame 0: a power of two no smaller than `max_frames`
    /// (nor than [`ALIGNMENT_BASE`], so that runs aligned beyond the memory's size still fit).
    /// `buddy_system_allocator` splits the frames it is given at the low bits of their start,
    /// so frames numbered from 0 would never form a block of more than 32; numbered from
    /// `base`, they form blocks as large as the memory.
    base: usize,
    frames: Mutex<Frames>,
}

impl<F: BackingFile> FileMemory<F> {
    /// A physical memory of at most `max_frames` frames in `file`, which is at least that
    /// long.
    pub fn with_file(file: F, max_frames: usize) -> Result<Self, HalError> {
        pages_to_bytes(max_frames)?;
        let mut words = Vec::new();
        words
            .try_reserve_exact(max_frames.div_ceil(64))
            .map_err(|_| HalError::OutOfFrames)?;
        words.resize(max_frames.div_ceil(64), 0);
        let base = max_frames
            .checked_next_power_of_two()
            .map(|base| base.max(ALIGNMENT_BASE))
            .filter(|base| base.checked_add(max_frames).is_some())
            .ok_or(HalError::OutOfRange)?;
        let mut buddy = FrameAllocator::new();
        buddy.add_frame(base, base + max_frames);
        Ok(Self {
            file,
            max_frames,
            base,
            frames: Mutex::new(Frames {
                buddy,
                allocated: words,
                in_use: 0,
            }),
        })
    }

    /// The backing file, which page tables map.
    pub fn file(&self) -> &F {
        &self.file
    }

    /// Checks that the bytes `paddr..paddr + len` lie in allocated frames.
    pub fn check_allocated(&self, paddr: PhysAddr, len: usize) -> Result<(), HalError> {
        if len == 0 {
            return Ok(());
        }
        let end = paddr.checked_add(len).ok_or(HalError::NotAllocated)?;
        let frames = self.frames.lock();
        if (paddr / PAGE_SIZE..end.div_ceil(PAGE_SIZE)).all(|frame| frames.is_allocated(frame)) {
            Ok(())
        } else {
            Err(HalError::NotAllocated)
        }
    }
}

impl<F: BackingFile> PhysicalMemory for FileMemory<F> {
    fn frame_alloc_contiguous(
        &self,
        count: usize,
        align_log2: usize,
    ) -> Result<PhysAddr, HalError> {
        if count == 0 || count > self.max_frames {
            return Err(HalError::OutOfFrames);
        }
        let align = u32::try_from(align_log2)
            .ok()
            .and_then(|shift| 1usize.checked_shl(shift))
            .ok_or(HalError::OutOfFrames)?;
        let layout = Layout::from_size_align(count, align).map_err(|_| HalError::OutOfFrames)?;
        let block = count.next_power_of_two().max(align);
        let mut frames = self.frames.lock();
        let numbered = frames
            .buddy
            .alloc_aligned(layout)
            .ok_or(HalError::OutOfFrames)?;
        // The buddy allocator hands out a power of two; the frames past `count` go back now,
        // one by one, so that every frame is freed on its own later.
        for extra in numbered + count..numbered + block {
            frames.buddy.dealloc(extra, 1);
        }
        // `base` is a power of two at least as large as any alignment that can succeed.
        let first = numbered - self.base;
        for frame in first..first + count {
            frames.set_allocated(frame, true);
        }
        frames.in_use += count;
        Ok(first * PAGE_SIZE)
    }

    fn frame_dealloc(&self, paddr: PhysAddr) -> Result<(), HalError> {
        check_page_aligned(paddr)?;
        let frame = paddr / PAGE_SIZE;
        if !self.frames.lock().is_allocated(frame) {
            return Err(HalError::NotAllocated);
        }
        // Zeroed before it can be handed out again, so frames never carry data between owners;
        // the frame is still ours meanwhile, so the punch needs no lock.
        self.file.punch(paddr as u64, PAGE_SIZE as u64)?;
        let mut frames = self.frames.lock();
        if !frames.is_allocated(frame) {
            // A concurrent free of the same frame won the race.
            return Err(HalError::NotAllocated);
        }
        frames.set_allocated(frame, false);
        frames.buddy.dealloc(frame + self.base, 1);
        frames.in_use -= 1;
        Ok(())
    }

    fn frames_in_use(&self) -> usize {
        self.frames.lock().in_use
    }

    fn read(&self, paddr: PhysAddr, buf: &mut [u8]) -> Result<(), HalError> {
        self.check_allocated(paddr, buf.len())?;
        self.file.read_exact_at(paddr as u64, buf)
    }

    fn write(&self, paddr: PhysAddr, buf: &[u8]) -> Result<(), HalError> {
        self.check_allocated(paddr, buf.len())?;
        self.file.write_all_at(paddr as u64, buf)
    }

    fn zero(&self, paddr: PhysAddr, len: usize) -> Result<(), HalError> {
        self.check_allocated(paddr, len)?;
        let zeros = [0u8; PAGE_SIZE];
        let mut done = 0;
        while done < len {
            let chunk = (len - done).min(PAGE_SIZE);
            self.file
                .write_all_at((paddr + done) as u64, &zeros[..chunk])?;
            done += chunk;
        }
        Ok(())
    }

    fn copy(&self, dst: PhysAddr, src: PhysAddr, len: usize) -> Result<(), HalError> {
        self.check_allocated(src, len)?;
        self.check_allocated(dst, len)?;
        let overlapping = src < dst.saturating_add(len) && dst < src.saturating_add(len);
        if overlapping {
            // Not in the contract, and refused rather than copied half-way.
            return Err(HalError::OutOfRange);
        }
        let mut buffer = vec![0u8; len.min(PAGE_SIZE)];
        let mut done = 0;
        while done < len {
            let chunk = (len - done).min(PAGE_SIZE);
            let part = buffer.get_mut(..chunk).ok_or(HalError::OutOfRange)?;
            self.file.read_exact_at((src + done) as u64, part)?;
            self.file.write_all_at((dst + done) as u64, part)?;
            done += chunk;
        }
        Ok(())
    }

    fn new_page_table(self: Arc<Self>) -> Result<Box<dyn PageTable>, HalError> {
        F::new_page_table(self)
    }
}

/// The mapping primitives of one address space.
pub trait Mmu: Send + Sized + 'static {
    /// The file its pages map.
    type File: BackingFile;

    /// The virtual range it may map.
    fn region(&self) -> Range<VirtAddr>;

    /// Maps `len` bytes of `file` from `offset` at `vaddr`, which holds no mapping of ours.
    fn map(
        &mut self,
        file: &Self::File,
        vaddr: VirtAddr,
        len: usize,
        offset: u64,
        flags: MmuFlags,
    ) -> Result<(), HalError>;

    /// Unmaps `vaddr..vaddr + len` (a range of the region).
    fn unmap(&mut self, vaddr: VirtAddr, len: usize) -> Result<(), HalError>;

    /// Gives the mapped run `vaddr..vaddr + len` the rights `flags`.
    fn protect(&mut self, vaddr: VirtAddr, len: usize, flags: MmuFlags) -> Result<(), HalError>;
}

/// Whether a [`FilePageTable`]'s changes reach its [`Mmu`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// Every change is made through the MMU at once.
    Live,
    /// Changes are only recorded, until [`PageTable::activate`].
    Deferred,
    /// Activated and handed over: the process owns the mappings; changes are only recorded.
    HandedOver,
}

/// The page table of an address space mapping frames of a [`FileMemory`].
pub struct FilePageTable<M: Mmu> {
    memory: Arc<FileMemory<M::File>>,
    mmu: M,
    /// The mapped pages: their frames and rights, for `query` and for `protect` to skip holes.
    pages: BTreeMap<VirtAddr, (PhysAddr, MmuFlags)>,
    mode: Mode,
}

impl<M: Mmu> FilePageTable<M> {
    /// The page table of `memory`'s frames in the address space `mmu` maps; every change
    /// reaches the MMU at once.
    pub fn with_mmu(memory: Arc<FileMemory<M::File>>, mmu: M) -> Self {
        Self {
            memory,
            mmu,
            pages: BTreeMap::new(),
            mode: Mode::Live,
        }
    }

    /// Like [`with_mmu`](Self::with_mmu), but nothing reaches the MMU before
    /// [`PageTable::activate`], which maps everything at once and hands the mappings over to
    /// the process (see there).
    pub fn deferred(memory: Arc<FileMemory<M::File>>, mmu: M) -> Self {
        Self {
            mode: Mode::Deferred,
            ..Self::with_mmu(memory, mmu)
        }
    }

    fn is_live(&self) -> bool {
        self.mode == Mode::Live
    }

    /// The runs of consecutive pages mapped to consecutive frames with the same rights.
    fn mapped_extents(&self) -> Vec<(VirtAddr, PhysAddr, usize, MmuFlags)> {
        let mut extents: Vec<(VirtAddr, PhysAddr, usize, MmuFlags)> = Vec::new();
        for (&page, &(frame, flags)) in &self.pages {
            match extents.last_mut() {
                Some((start, paddr, len, run_flags))
                    if *start + *len == page && *paddr + *len == frame && *run_flags == flags =>
                {
                    *len += PAGE_SIZE;
                }
                _ => extents.push((page, frame, PAGE_SIZE, flags)),
            }
        }
        extents
    }

    /// Checks that `pages` pages from `vaddr` are a non-empty page-aligned part of the region,
    /// and returns their length in bytes.
    fn check_range(&self, vaddr: VirtAddr, pages: usize) -> Result<usize, HalError> {
        check_page_aligned(vaddr)?;
        let len = pages_to_bytes(pages)?;
        let end = vaddr.checked_add(len).ok_or(HalError::OutOfRange)?;
        let region = self.mmu.region();
        if pages == 0 || vaddr < region.start || end > region.end {
            return Err(HalError::OutOfRange);
        }
        Ok(len)
    }

    /// The runs of consecutive mapped pages within `vaddr..vaddr + len`.
    fn mapped_runs(&self, vaddr: VirtAddr, len: usize) -> Vec<Range<VirtAddr>> {
        let mut runs: Vec<Range<VirtAddr>> = Vec::new();
        for &page in self.pages.range(vaddr..vaddr + len).map(|(page, _)| page) {
            match runs.last_mut() {
                Some(run) if run.end == page => run.end += PAGE_SIZE,
                _ => runs.push(page..page + PAGE_SIZE),
            }
        }
        runs
    }
}

impl<M: Mmu> PageTable for FilePageTable<M> {
    fn region(&self) -> Range<VirtAddr> {
        self.mmu.region()
    }

    fn map(
        &mut self,
        vaddr: VirtAddr,
        paddr: PhysAddr,
        pages: usize,
        flags: MmuFlags,
    ) -> Result<(), HalError> {
        let len = self.check_range(vaddr, pages)?;
        check_page_aligned(paddr)?;
        // Mapping past the frames handed out would reach other owners' frames.
        self.memory.check_allocated(paddr, len)?;
        if self.pages.range(vaddr..vaddr + len).next().is_some() {
            return Err(HalError::AlreadyMapped);
        }
        if self.is_live() {
            self.mmu
                .map(self.memory.file(), vaddr, len, paddr as u64, flags)?;
        }
        for index in 0..pages {
            self.pages.insert(
                vaddr + index * PAGE_SIZE,
                (paddr + index * PAGE_SIZE, flags),
            );
        }
        Ok(())
    }

    fn unmap(&mut self, vaddr: VirtAddr, pages: usize) -> Result<(), HalError> {
        let len = self.check_range(vaddr, pages)?;
        if self.is_live() {
            for run in self.mapped_runs(vaddr, len) {
                self.mmu.unmap(run.start, run.len())?;
            }
        }
        self.pages
            .retain(|&page, _| page < vaddr || page >= vaddr + len);
        Ok(())
    }

    fn protect(&mut self, vaddr: VirtAddr, pages: usize, flags: MmuFlags) -> Result<(), HalError> {
        let len = self.check_range(vaddr, pages)?;
        for run in self.mapped_runs(vaddr, len) {
            if self.is_live() {
                self.mmu.protect(run.start, run.len(), flags)?;
            }
            for (_, (_, page_flags)) in self.pages.range_mut(run) {
                *page_flags = flags;
            }
        }
        Ok(())
    }

    fn query(&self, vaddr: VirtAddr) -> Result<(PhysAddr, MmuFlags), HalError> {
        let page = vaddr - vaddr % PAGE_SIZE;
        self.pages
            .get(&page)
            .map(|&(paddr, flags)| (paddr + vaddr % PAGE_SIZE, flags))
            .ok_or(HalError::NotMapped)
    }

    fn activate(&mut self) -> Result<(), HalError> {
        if self.mode != Mode::Deferred {
            return Ok(());
        }
        for (vaddr, paddr, len, flags) in self.mapped_extents() {
            self.mmu
                .map(self.memory.file(), vaddr, len, paddr as u64, flags)?;
        }
        self.mode = Mode::HandedOver;
        Ok(())
    }
}
