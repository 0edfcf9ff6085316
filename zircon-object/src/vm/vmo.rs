//! Paged virtual memory objects.

use super::{check_aligned, range_end, VmError, VmMapping};
use crate::object::{KObjectBase, KernelObject};
use alloc::{collections::BTreeMap, sync::Arc, sync::Weak, vec::Vec};
use kernel_hal_lkm::sync::Mutex;
use kernel_hal_lkm::{PhysAddr, PhysFrame, PhysicalMemory, PAGE_SIZE};

/// Paged memory: a number of pages, each committed to a frame of the container's physical
/// memory when first written or mapped, and reading as zero before.
///
/// A copy-on-write child ([`create_cow_child`](Self::create_cow_child)) starts with the
/// parent's frames, shared; whichever side writes a shared page first gets its own copy, so
/// writes on either side stay private. Mappings cannot trap writes, so a page that is mapped
/// writable is never shared: it is copied for the child at once, and a page is made private
/// before it is mapped writable.
pub struct VmObject {
    base: KObjectBase,
    memory: Arc<dyn PhysicalMemory>,
    inner: Mutex<VmoInner>,
}

struct VmoInner {
    /// Size in pages.
    pages: usize,
    /// Committed pages by index; a frame shared with a copy-on-write relative has more than
    /// one owner.
    frames: BTreeMap<usize, Arc<PhysFrame>>,
    /// The mappings of this object, which follow its pages when their frames change.
    mappings: Vec<Weak<VmMapping>>,
}

/// How an existing mapping changes in [`VmObject::reshape_mapping`].
pub(super) enum Reshape {
    /// Its pages `vaddr..vaddr + pages * PAGE_SIZE` are unmapped.
    Unmap { vaddr: usize, pages: usize },
    /// This new mapping, with other rights, takes over part of its pages.
    Protect(Arc<VmMapping>),
}

impl VmObject {
    /// An object of `pages` pages of `memory`, none committed.
    pub fn new_paged(memory: &Arc<dyn PhysicalMemory>, pages: usize) -> Result<Arc<Self>, VmError> {
        Self::with_frames(memory, pages, BTreeMap::new())
    }

    fn with_frames(
        memory: &Arc<dyn PhysicalMemory>,
        pages: usize,
        frames: BTreeMap<usize, Arc<PhysFrame>>,
    ) -> Result<Arc<Self>, VmError> {
        pages.checked_mul(PAGE_SIZE).ok_or(VmError::OutOfRange)?;
        Ok(Arc::new(Self {
            base: KObjectBase::new(),
            memory: memory.clone(),
            inner: Mutex::new(VmoInner {
                pages,
                frames,
                mappings: Vec::new(),
            }),
        }))
    }

    /// Size in pages.
    pub fn pages(&self) -> usize {
        self.inner.lock().pages
    }

    /// Size in bytes.
    pub fn len(&self) -> usize {
        self.pages() * PAGE_SIZE
    }

    /// Whether the object has no page.
    pub fn is_empty(&self) -> bool {
        self.pages() == 0
    }

    /// Number of pages committed to frames.
    pub fn committed_pages(&self) -> usize {
        self.inner.lock().frames.len()
    }

    /// Reads `buf.len()` bytes at `offset`; uncommitted pages read as zero.
    pub fn read(&self, offset: usize, buf: &mut [u8]) -> Result<(), VmError> {
        let inner = self.inner.lock();
        check_bytes(&inner, offset, buf.len())?;
        let mut done = 0;
        for (index, in_page, chunk) in page_chunks(offset, buf.len()) {
            let part = buf.get_mut(done..done + chunk).ok_or(VmError::OutOfRange)?;
            match inner.frames.get(&index) {
                Some(frame) => self.memory.read(frame.paddr() + in_page, part)?,
                None => part.fill(0),
            }
            done += chunk;
        }
        Ok(())
    }

    /// Writes `buf` at `offset`, committing pages and copying shared ones as needed.
    pub fn write(&self, offset: usize, buf: &[u8]) -> Result<(), VmError> {
        let mut inner = self.inner.lock();
        check_bytes(&inner, offset, buf.len())?;
        let mut done = 0;
        for (index, in_page, chunk) in page_chunks(offset, buf.len()) {
            let paddr = self.commit_page(&mut inner, index, true)?;
            let part = buf.get(done..done + chunk).ok_or(VmError::OutOfRange)?;
            self.memory.write(paddr + in_page, part)?;
            done += chunk;
        }
        Ok(())
    }

    /// Changes the size to `pages` pages. Pages cut off are unmapped from every mapping and
    /// their frames freed; pages added read as zero.
    pub fn resize(&self, pages: usize) -> Result<(), VmError> {
        pages.checked_mul(PAGE_SIZE).ok_or(VmError::OutOfRange)?;
        let mut inner = self.inner.lock();
        if pages < inner.pages {
            // Unmapped before the frames go: no address may reach a freed frame.
            for mapping in live_mappings(&mut inner) {
                let first = pages.max(mapping.vmo_page());
                let end = mapping.vmo_page() + mapping.pages();
                if first < end {
                    let vaddr = mapping.addr() + (first - mapping.vmo_page()) * PAGE_SIZE;
                    mapping.page_table().lock().unmap(vaddr, end - first)?;
                }
            }
            drop(inner.frames.split_off(&pages));
        }
        inner.pages = pages;
        Ok(())
    }

    /// A copy-on-write child: `pages` pages whose contents are, until either side writes them,
    /// this object's pages from the page-aligned byte `offset` on. Pages past this object's
    /// end read as zero.
    pub fn create_cow_child(&self, offset: usize, pages: usize) -> Result<Arc<Self>, VmError> {
        check_aligned(offset)?;
        let first = offset / PAGE_SIZE;
        let end = range_end(first, pages)?;
        let mut inner = self.inner.lock();
        let writable = writably_mapped_pages(&mut inner);
        let mut frames = BTreeMap::new();
        for (&index, frame) in inner.frames.range(first..end) {
            let child_frame = if writable.contains(&index) {
                // Writes through the mapping cannot be trapped: the child gets its own copy.
                let copy = PhysFrame::alloc(&self.memory)?;
                self.memory.copy(copy.paddr(), frame.paddr(), PAGE_SIZE)?;
                Arc::new(copy)
            } else {
                frame.clone()
            };
            frames.insert(index - first, child_frame);
        }
        drop(inner);
        Self::with_frames(&self.memory, pages, frames)
    }

    /// Gives page `index` a frame this object may use as `for_write` says, and returns the
    /// frame's address. Mappings of the page follow a new frame.
    fn commit_page(
        &self,
        inner: &mut VmoInner,
        index: usize,
        for_write: bool,
    ) -> Result<PhysAddr, VmError> {
        let new_frame = match inner.frames.get_mut(&index) {
            Some(frame) if !for_write => return Ok(frame.paddr()),
            Some(frame) => match Arc::get_mut(frame) {
                Some(own) => return Ok(own.paddr()),
                None => {
                    let copy = PhysFrame::alloc(&self.memory)?;
                    self.memory.copy(copy.paddr(), frame.paddr(), PAGE_SIZE)?;
                    copy
                }
            },
            // Allocated frames read as zero: a fresh page needs no clearing.
            None => PhysFrame::alloc(&self.memory)?,
        };
        let paddr = new_frame.paddr();
        // The old frame, if any, stays alive with its other owner.
        inner.frames.insert(index, Arc::new(new_frame));
        for mapping in live_mappings(inner) {
            if let Some(vaddr) = mapping.vaddr_of_page(index) {
                let mut table = mapping.page_table().lock();
                table.unmap(vaddr, 1)?;
                table.map(vaddr, paddr, 1, mapping.flags())?;
            }
        }
        Ok(paddr)
    }

    /// Commits the pages of `mapping` and maps them, then keeps the mapping in step with them.
    pub(super) fn map_mapping(&self, mapping: &Arc<VmMapping>) -> Result<(), VmError> {
        let mut inner = self.inner.lock();
        let end = range_end(mapping.vmo_page(), mapping.pages())?;
        if end > inner.pages {
            return Err(VmError::OutOfRange);
        }
        let writable = mapping.flags().contains(kernel_hal_lkm::MmuFlags::WRITE);
        let mut frames = Vec::with_capacity(mapping.pages());
        for index in mapping.vmo_page()..end {
            frames.push(self.commit_page(&mut inner, index, writable)?);
        }
        if let Err(error) = map_runs(mapping, &frames) {
            mapping
                .page_table()
                .lock()
                .unmap(mapping.addr(), mapping.pages())?;
            return Err(error);
        }
        inner.mappings.push(Arc::downgrade(mapping));
        Ok(())
    }

    /// Unmaps all of `mapping` and forgets it.
    pub(super) fn unmap_mapping(&self, mapping: &Arc<VmMapping>) -> Result<(), VmError> {
        let mut inner = self.inner.lock();
        forget_mapping(&mut inner, mapping);
        mapping
            .page_table()
            .lock()
            .unmap(mapping.addr(), mapping.pages())?;
        Ok(())
    }

    /// Replaces `old` by `kept` (pieces of it, still mapped as they are) and the change.
    pub(super) fn reshape_mapping(
        &self,
        old: &Arc<VmMapping>,
        kept: &[Arc<VmMapping>],
        change: Reshape,
    ) -> Result<(), VmError> {
        let mut inner = self.inner.lock();
        forget_mapping(&mut inner, old);
        inner.mappings.extend(kept.iter().map(Arc::downgrade));
        match change {
            Reshape::Unmap { vaddr, pages } => {
                old.page_table().lock().unmap(vaddr, pages)?;
            }
            Reshape::Protect(piece) => {
                inner.mappings.push(Arc::downgrade(&piece));
                if piece.flags().contains(kernel_hal_lkm::MmuFlags::WRITE) {
                    // Shared pages get their own frames first; they are remapped with the
                    // new rights as the piece is registered already.
                    for index in piece.vmo_page()..piece.vmo_page() + piece.pages() {
                        if index < inner.pages {
                            self.commit_page(&mut inner, index, true)?;
                        }
                    }
                }
                piece
                    .page_table()
                    .lock()
                    .protect(piece.addr(), piece.pages(), piece.flags())?;
            }
        }
        Ok(())
    }
}

impl KernelObject for VmObject {
    fn base(&self) -> &KObjectBase {
        &self.base
    }

    fn type_name(&self) -> &'static str {
        "VmObject"
    }
}

/// Checks that `offset..offset + len` lies in the object.
fn check_bytes(inner: &VmoInner, offset: usize, len: usize) -> Result<(), VmError> {
    let end = range_end(offset, len)?;
    if end > inner.pages * PAGE_SIZE {
        return Err(VmError::OutOfRange);
    }
    Ok(())
}

/// Splits `offset..offset + len` into (page index, offset in page, length) pieces.
fn page_chunks(offset: usize, len: usize) -> impl Iterator<Item = (usize, usize, usize)> {
    let mut position = offset;
    let end = offset + len;
    core::iter::from_fn(move || {
        if position >= end {
            return None;
        }
        let in_page = position % PAGE_SIZE;
        let chunk = (PAGE_SIZE - in_page).min(end - position);
        let piece = (position / PAGE_SIZE, in_page, chunk);
        position += chunk;
        Some(piece)
    })
}

/// The live mappings; drops the records of dead ones.
fn live_mappings(inner: &mut VmoInner) -> Vec<Arc<VmMapping>> {
    inner.mappings.retain(|mapping| mapping.strong_count() > 0);
    inner.mappings.iter().filter_map(Weak::upgrade).collect()
}

/// Indices of the pages some mapping may write.
fn writably_mapped_pages(inner: &mut VmoInner) -> alloc::collections::BTreeSet<usize> {
    live_mappings(inner)
        .iter()
        .filter(|mapping| mapping.flags().contains(kernel_hal_lkm::MmuFlags::WRITE))
        .flat_map(|mapping| mapping.vmo_page()..mapping.vmo_page() + mapping.pages())
        .collect()
}

fn forget_mapping(inner: &mut VmoInner, mapping: &Arc<VmMapping>) {
    let target = Arc::downgrade(mapping);
    inner
        .mappings
        .retain(|known| !known.ptr_eq(&target) && known.strong_count() > 0);
}

/// Maps the pages of `mapping` to `frames`, one HAL call per run of contiguous frames.
fn map_runs(mapping: &VmMapping, frames: &[PhysAddr]) -> Result<(), VmError> {
    let mut table = mapping.page_table().lock();
    let mut start = 0;
    while let Some(&first) = frames.get(start) {
        let mut len = 1;
        while frames.get(start + len) == Some(&(first + len * PAGE_SIZE)) {
            len += 1;
        }
        table.map(
            mapping.addr() + start * PAGE_SIZE,
            first,
            len,
            mapping.flags(),
        )?;
        start += len;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel_hal_lkm::platform;

    fn memory(frames: usize) -> Arc<dyn PhysicalMemory> {
        platform().unwrap().new_physical_memory(frames).unwrap()
    }

    #[test]
    fn pages_are_committed_on_first_write_only() {
        let memory = memory(8);
        let vmo = VmObject::new_paged(&memory, 4).unwrap();
        let mut buf = [0xffu8; 16];
        vmo.read(PAGE_SIZE - 8, &mut buf).unwrap();
        assert_eq!(buf, [0; 16]);
        assert_eq!(vmo.committed_pages(), 0);
        assert_eq!(memory.frames_in_use(), 0);

        // Straddles pages 0 and 1.
        vmo.write(PAGE_SIZE - 3, b"abcdef").unwrap();
        assert_eq!(vmo.committed_pages(), 2);
        assert_eq!(memory.frames_in_use(), 2);
        let mut back = [0; 6];
        vmo.read(PAGE_SIZE - 3, &mut back).unwrap();
        assert_eq!(&back, b"abcdef");
    }

    #[test]
    fn accesses_past_the_end_are_refused() {
        let memory = memory(2);
        let vmo = VmObject::new_paged(&memory, 1).unwrap();
        assert_eq!(vmo.write(PAGE_SIZE - 1, b"xy"), Err(VmError::OutOfRange));
        assert_eq!(vmo.read(usize::MAX, &mut [0]), Err(VmError::OutOfRange));
        assert!(VmObject::new_paged(&memory, usize::MAX).is_err());
        assert_eq!(vmo.committed_pages(), 0);
    }

    #[test]
    fn resize_frees_cut_pages_and_grows_with_zeros() {
        let memory = memory(8);
        let vmo = VmObject::new_paged(&memory, 3).unwrap();
        vmo.write(0, &[1; 3 * PAGE_SIZE]).unwrap();
        assert_eq!(memory.frames_in_use(), 3);
        vmo.resize(1).unwrap();
        assert_eq!(vmo.len(), PAGE_SIZE);
        assert_eq!(memory.frames_in_use(), 1);
        vmo.resize(2).unwrap();
        let mut page = [0xffu8; PAGE_SIZE];
        vmo.read(PAGE_SIZE, &mut page).unwrap();
        assert!(page.iter().all(|&b| b == 0));
        vmo.read(0, &mut page).unwrap();
        assert!(page.iter().all(|&b| b == 1));
    }

    #[test]
    fn writes_to_a_cow_child_and_its_parent_stay_private() {
        let memory = memory(16);
        let parent = VmObject::new_paged(&memory, 3).unwrap();
        parent.write(0, b"parent page 0").unwrap();
        parent.write(PAGE_SIZE, b"parent page 1").unwrap();
        let child = parent.create_cow_child(0, 3).unwrap();
        // Shared until written: no frame was copied.
        assert_eq!(memory.frames_in_use(), 2);

        child.write(0, b"CHILD").unwrap();
        parent.write(PAGE_SIZE, b"PARENT").unwrap();
        assert_eq!(memory.frames_in_use(), 4);

        let mut bytes = [0; 13];
        parent.read(0, &mut bytes).unwrap();
        assert_eq!(&bytes, b"parent page 0");
        child.read(0, &mut bytes).unwrap();
        assert_eq!(&bytes, b"CHILDt page 0");
        child.read(PAGE_SIZE, &mut bytes).unwrap();
        assert_eq!(&bytes, b"parent page 1");
        parent.read(PAGE_SIZE, &mut bytes).unwrap();
        assert_eq!(&bytes, b"PARENT page 1");

        // A page the parent had not committed is zero in the child, whatever the parent
        // writes later: the child is a snapshot.
        parent.write(2 * PAGE_SIZE, b"late").unwrap();
        child.read(2 * PAGE_SIZE, &mut bytes).unwrap();
        assert_eq!(bytes, [0; 13]);

        drop(child);
        drop(parent);
        assert_eq!(memory.frames_in_use(), 0);
    }

    #[test]
    fn a_cow_child_of_a_range_sees_that_range() {
        let memory = memory(8);
        let parent = VmObject::new_paged(&memory, 4).unwrap();
        parent.write(2 * PAGE_SIZE, b"third").unwrap();
        let child = parent.create_cow_child(2 * PAGE_SIZE, 3).unwrap();
        let mut bytes = [0; 5];
        child.read(0, &mut bytes).unwrap();
        assert_eq!(&bytes, b"third");
        // Past the parent's end the child reads zero.
        child.read(2 * PAGE_SIZE, &mut bytes).unwrap();
        assert_eq!(bytes, [0; 5]);
        assert_eq!(
            parent.create_cow_child(1, 1).map(|_| ()),
            Err(VmError::Unaligned)
        );
        assert_eq!(
            parent.create_cow_child(0, usize::MAX).map(|_| ()),
            Err(VmError::OutOfRange)
        );
    }

    #[test]
    fn running_out_of_frames_is_an_error() {
        let memory = memory(1);
        let vmo = VmObject::new_paged(&memory, 2).unwrap();
        vmo.write(0, b"a").unwrap();
        assert_eq!(
            vmo.write(PAGE_SIZE, b"b"),
            Err(VmError::Hal(kernel_hal_lkm::HalError::OutOfFrames))
        );
    }
}
