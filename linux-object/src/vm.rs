//! [`VmarSpace`]: the ELF loader's [`AddressSpace`] over a zircon
//! [`VmAddressRegion`](zircon_object::vm::VmAddressRegion).
//!
//! `execve` loads a program into a *fresh* address space and installs it only once the load
//! succeeded. This is that address space: every segment (and the stack) becomes a zeroed
//! [`VmObject`] of the container's physical memory mapped at its address with the segment's
//! protection; the loader's writes go to the objects directly, so read-only text is filled
//! without ever being mapped writable.
//!
//! Where things go, as Linux lays out a new process (`mm/util.c`, `fs/binfmt_elf.c`):
//!
//! ```text
//! region start  first position-independent image (the program); brk grows above it
//!               ...
//!               later images (the interpreter), top down, below the stack's gap
//!               STACK_GAP
//! stack_top - DEFAULT_STACK_SIZE .. stack_top = the region's end: the stack
//! ```
//!
//! The region is whatever the HAL's page table may map: all of user space in the kernel, a
//! 1 GiB reservation on the host. An `ET_EXEC` program at a fixed address outside it fails
//! with `ENOMEM`, as an `mmap` out of range does.
//!
//! ```
//! use kernel_hal_lkm::{platform, MmuFlags};
//! use linux_object::elf::{AddressSpace, Protection};
//! use linux_object::vm::VmarSpace;
//! use zircon_object::vm::VmAddressRegion;
//!
//! let memory = platform().unwrap().new_physical_memory(16).unwrap();
//! let space = VmarSpace::new(
//!     VmAddressRegion::new_root(memory.clone().new_page_table().unwrap()),
//!     memory,
//! );
//! let text = space.reserve(2 * 4096)?;
//! space.map(text, 2 * 4096, Protection::READ | Protection::EXEC)?;
//! space.write(text + 10, b"code")?; // read-only for the program, not for the loader
//! let mapping = space.vmar().find_mapping(text).unwrap();
//! assert_eq!(mapping.flags(), MmuFlags::READ | MmuFlags::EXECUTE);
//! let mut back = [0; 4];
//! space.vmar().read_memory(text + 10, &mut back).unwrap();
//! assert_eq!(&back, b"code");
//! # Ok::<(), linux_object::LxError>(())
//! ```

use crate::elf::{AddressSpace, Protection, DEFAULT_STACK_SIZE, PAGE_SIZE};
use crate::error::{LxError, LxResult};
use alloc::sync::Arc;
use core::ops::Range;
use kernel_hal_lkm::sync::Mutex;
use kernel_hal_lkm::{HalError, MmuFlags, PhysicalMemory};
use zircon_object::vm::{Placement, VmAddressRegion, VmError, VmObject};

/// The gap kept free below the stack (Linux's default `stack_guard_gap`, 256 pages), so that
/// images placed top down never touch the stack.
pub const STACK_GAP: usize = 256 * PAGE_SIZE;

/// The room kept for the stack to grow between its top and the images placed high (and the
/// host's later `mmap`s): Linux's `MIN_GAP`, 128 MiB.
pub const STACK_ROOM: usize = 128 << 20;

/// How far down the stack's top may be moved at random: Linux's `STACK_RND_MASK` on x86-64,
/// 2^22 pages (16 GiB).
pub const STACK_RANDOM_PAGES: usize = 1 << 22;

/// How far the images may be moved at random: Linux's `mmap_rnd_bits` on x86-64, 2^28 pages.
pub const MMAP_RANDOM_PAGES: usize = 1 << 28;

/// Random page counts by which a new program's layout moves, as Linux's address space layout
/// randomisation moves it (`randomize_va_space` 2, the default): the stack's top down, the
/// first image up, the other images (and the host's later `mmap`s) down. Each is reduced to
/// what the region leaves room for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Randomization {
    /// Pages the stack's top moves down.
    pub stack_pages: usize,
    /// Pages the first image moves up.
    pub image_pages: usize,
    /// Pages the high images move down.
    pub mmap_pages: usize,
}

impl Randomization {
    /// The page counts made of 24 random bytes, each within Linux's range.
    pub fn from_random(bytes: [u8; 24]) -> Self {
        let word = |at: usize| {
            let mut word = [0u8; 8];
            word.copy_from_slice(bytes.get(at..at + 8).unwrap_or(&[0; 8]));
            u64::from_le_bytes(word) as usize
        };
        Randomization {
            stack_pages: word(0) % STACK_RANDOM_PAGES,
            image_pages: word(8) % MMAP_RANDOM_PAGES,
            mmap_pages: word(16) % MMAP_RANDOM_PAGES,
        }
    }
}

/// The errno a failed virtual memory operation gives the program: what Linux's `mmap`,
/// `munmap` or a user copy would give for the same trouble.
pub fn vm_error(error: VmError) -> LxError {
    match error {
        VmError::ZeroLength | VmError::Unaligned => LxError::EINVAL,
        // No room, or a range outside the address space: `mmap` says ENOMEM.
        VmError::OutOfRange | VmError::Overlap | VmError::NoSpace => LxError::ENOMEM,
        VmError::SubRegionInRange => LxError::EINVAL,
        VmError::NotMapped | VmError::AccessDenied | VmError::Destroyed => LxError::EFAULT,
        VmError::Hal(HalError::OutOfFrames) => LxError::ENOMEM,
        VmError::Hal(HalError::Fault) => LxError::EFAULT,
        VmError::Hal(_) => LxError::EIO,
    }
}

/// The MMU rights of a segment's protection.
pub fn mmu_flags(prot: Protection) -> MmuFlags {
    let mut flags = MmuFlags::empty();
    flags.set(MmuFlags::READ, prot.contains(Protection::READ));
    flags.set(MmuFlags::WRITE, prot.contains(Protection::WRITE));
    flags.set(MmuFlags::EXECUTE, prot.contains(Protection::EXEC));
    flags
}

/// Where the next images go.
struct Layout {
    /// The next free address from the bottom: only the first image is put there.
    low: usize,
    /// The end of the free range below the stack's gap: later images go right under it.
    high: usize,
    /// Whether anything was placed or mapped yet: the first image goes low, the rest high.
    used: bool,
}

/// An address space being built by `execve`: a VMAR of the container's physical memory.
///
/// Made for a fresh, empty VMAR: it places images without asking the VMAR what is mapped,
/// so mapping over something already there fails (`ENOMEM`).
pub struct VmarSpace {
    vmar: Arc<VmAddressRegion>,
    memory: Arc<dyn PhysicalMemory>,
    layout: Mutex<Layout>,
    /// The stack below its initial contents: not in the VMAR, for the installer to back with
    /// zeroed memory of its own (see [`VmarSpace::unbacked_stack`]).
    unbacked_stack: Mutex<Option<Range<usize>>>,
    /// Where the stack ends (its highest address).
    stack_top: usize,
    /// Where the images placed high start from, top down: the host's `mmap_base` after the
    /// program is installed.
    mmap_base: usize,
}

impl VmarSpace {
    /// The address space of `vmar`, whose objects take frames of `memory`.
    pub fn new(vmar: Arc<VmAddressRegion>, memory: Arc<dyn PhysicalMemory>) -> Self {
        let start = vmar.addr();
        let top = stack_top_of(&vmar);
        let high = high_end(start, top);
        Self {
            vmar,
            memory,
            layout: Mutex::new(Layout {
                low: start,
                high,
                used: false,
            }),
            unbacked_stack: Mutex::new(None),
            stack_top: top,
            mmap_base: high,
        }
    }

    /// Where the images placed high start from, top down, and where the host's `mmap`s should
    /// start from once the program runs.
    pub fn mmap_base(&self) -> usize {
        self.mmap_base
    }

    /// The same space with its layout moved by `random`, within what the region leaves room
    /// for: each move at most a quarter of the room the stack and its gap leave.
    pub fn randomized(mut self, random: Randomization) -> Self {
        let start = self.vmar.addr();
        let room = self.stack_top.saturating_sub(start) / 4 / PAGE_SIZE;
        let pages = |count: usize| (count % room.max(1)) * PAGE_SIZE;
        self.stack_top -= pages(random.stack_pages);
        self.mmap_base = high_end(start, self.stack_top).saturating_sub(pages(random.mmap_pages));
        let layout = self.layout.get_mut();
        layout.high = self.mmap_base.max(start);
        layout.low = (start + pages(random.image_pages)).min(layout.high);
        self
    }

    /// The same space with its stack ending at or below `top` (rounded down to a page), for
    /// what must stay above it (the host's vDSO); images go below the stack as ever. A `top`
    /// that leaves no room for the stack and its gap is ignored.
    pub fn with_stack_below(mut self, top: usize) -> Self {
        let top = top - top % PAGE_SIZE;
        let start = self.vmar.addr();
        let room = DEFAULT_STACK_SIZE + STACK_GAP + PAGE_SIZE;
        if top < self.stack_top && top.checked_sub(start).is_some_and(|left| left > room) {
            self.stack_top = top;
            self.mmap_base = high_end(start, top);
            self.layout.get_mut().high = self.mmap_base;
        }
        self
    }

    /// The part of the stack below its initial contents, which is not in the VMAR: the
    /// installer backs it with zeroed, private, writable memory (what Linux's stack pages are
    /// until touched), so that no frame is taken for stack the program never uses.
    pub fn unbacked_stack(&self) -> Option<Range<usize>> {
        self.unbacked_stack.lock().clone()
    }

    /// Claims `vaddr..vaddr + len` for a mapping the installer makes outside the VMAR (of a
    /// file, or zeroed memory): it must lie in the region (`ENOMEM`, as a fixed `mmap` out of
    /// range), and what is placed next goes high, as after [`AddressSpace::map`].
    pub fn reserve_range(&self, vaddr: usize, len: usize) -> LxResult {
        let end = vaddr.checked_add(len).ok_or(LxError::ENOMEM)?;
        let region_end = self.vmar.addr().saturating_add(self.vmar.size());
        if vaddr < self.vmar.addr() || end > region_end {
            return Err(LxError::ENOMEM);
        }
        self.layout.lock().used = true;
        Ok(())
    }

    /// The root region.
    pub fn vmar(&self) -> &Arc<VmAddressRegion> {
        &self.vmar
    }

    /// The physical memory the mapped objects take their frames from.
    pub fn physical_memory(&self) -> &Arc<dyn PhysicalMemory> {
        &self.memory
    }

    /// Reads `buf.len()` bytes at `vaddr` whatever the mappings' protection (a debugger's
    /// or `/proc/pid/mem`'s view); `EFAULT` where nothing is mapped.
    pub fn read(&self, vaddr: usize, buf: &mut [u8]) -> LxResult {
        let mut done = 0;
        while let Some(rest) = buf.get_mut(done..).filter(|rest| !rest.is_empty()) {
            let at = vaddr.checked_add(done).ok_or(LxError::EFAULT)?;
            let mapping = self.vmar.find_mapping(at).ok_or(LxError::EFAULT)?;
            let in_mapping = at - mapping.addr();
            let chunk = rest.len().min(mapping.len() - in_mapping);
            let part = rest.get_mut(..chunk).ok_or(LxError::EFAULT)?;
            mapping
                .vmo()
                .read(mapping.vmo_offset() + in_mapping, part)
                .map_err(vm_error)?;
            done += chunk;
        }
        Ok(())
    }

    /// Places `len` bytes top down under the previous high image; `ENOMEM` when they would
    /// cross what was placed from the bottom.
    fn place_high(layout: &mut Layout, len: usize) -> LxResult<usize> {
        let start = layout
            .high
            .checked_sub(len)
            .filter(|&start| start >= layout.low)
            .ok_or(LxError::ENOMEM)?;
        layout.high = start;
        Ok(start)
    }
}

/// Where the images placed high end: below the stack ending at `top`, with room for it to
/// grow ([`STACK_ROOM`], or an eighth of what is below it in a small region) and its gap.
fn high_end(start: usize, top: usize) -> usize {
    let room = STACK_ROOM
        .min(top.saturating_sub(start) / 8)
        .max(DEFAULT_STACK_SIZE);
    top.checked_sub(room)
        .and_then(|bottom| bottom.checked_sub(STACK_GAP))
        .unwrap_or(start)
        .max(start)
}

/// The stack's top by default: the region's end, rounded down to a page.
fn stack_top_of(vmar: &VmAddressRegion) -> usize {
    let end = vmar.addr().saturating_add(vmar.size());
    end - end % PAGE_SIZE
}

impl AddressSpace for VmarSpace {
    fn reserve(&self, len: usize) -> LxResult<usize> {
        let len = len
            .checked_next_multiple_of(PAGE_SIZE)
            .filter(|&len| len > 0)
            .ok_or(LxError::ENOMEM)?;
        let mut layout = self.layout.lock();
        if layout.used {
            return Self::place_high(&mut layout, len);
        }
        let start = layout.low;
        let end = start
            .checked_add(len)
            .filter(|&end| end <= layout.high)
            .ok_or(LxError::ENOMEM)?;
        layout.low = end;
        layout.used = true;
        Ok(start)
    }

    fn map(&self, vaddr: usize, len: usize, prot: Protection) -> LxResult {
        let vmo = VmObject::new_paged(&self.memory, len / PAGE_SIZE).map_err(vm_error)?;
        self.vmar
            .map(Placement::At(vaddr), &vmo, 0, len, mmu_flags(prot))
            .map_err(vm_error)?;
        // A program at a fixed address counts as the first image: what comes next goes high.
        self.layout.lock().used = true;
        Ok(())
    }

    fn write(&self, vaddr: usize, data: &[u8]) -> LxResult {
        let mut done = 0;
        while let Some(rest) = data.get(done..).filter(|rest| !rest.is_empty()) {
            let at = vaddr.checked_add(done).ok_or(LxError::EFAULT)?;
            let mapping = self.vmar.find_mapping(at).ok_or(LxError::EFAULT)?;
            let in_mapping = at - mapping.addr();
            let chunk = rest.len().min(mapping.len() - in_mapping);
            let part = rest.get(..chunk).ok_or(LxError::EFAULT)?;
            // Through the object, not the mapping: the loader fills read-only text too.
            mapping
                .vmo()
                .write(mapping.vmo_offset() + in_mapping, part)
                .map_err(vm_error)?;
            done += chunk;
        }
        Ok(())
    }

    fn stack_top(&self) -> usize {
        self.stack_top
    }

    fn map_stack(&self, bottom: usize, len: usize, sp: usize, contents: &[u8]) -> LxResult {
        let top = bottom.checked_add(len).ok_or(LxError::ENOMEM)?;
        let backed = sp - sp % PAGE_SIZE;
        if !(bottom..top).contains(&backed) {
            return Err(LxError::E2BIG);
        }
        self.map(backed, top - backed, Protection::READ | Protection::WRITE)?;
        self.write(sp, contents)?;
        *self.unbacked_stack.lock() = (bottom < backed).then_some(bottom..backed);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
