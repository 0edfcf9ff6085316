//! Virtual memory address regions and the mappings in them.

use super::{check_aligned, range_end, vmo::Reshape, VmError, VmObject};
use crate::object::{KObjectBase, KernelObject};
use alloc::{boxed::Box, collections::BTreeMap, sync::Arc, sync::Weak, vec::Vec};
use core::ptr;
use kernel_hal_lkm::sync::Mutex;
use kernel_hal_lkm::{MmuFlags, PageTable, VirtAddr, PAGE_SIZE};

/// The page table of an address space, shared by all regions and mappings in it.
type SharedPageTable = Arc<Mutex<Box<dyn PageTable>>>;

/// Where a new mapping or sub-region goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// At the lowest free range of the region that is large enough.
    Anywhere,
    /// At this address; the range must be free.
    At(VirtAddr),
}

/// A range of an address space mapped to pages of a [`VmObject`], with one set of rights.
///
/// Mappings do not change: unmapping or protecting part of one replaces it by pieces.
pub struct VmMapping {
    vaddr: VirtAddr,
    pages: usize,
    vmo: Arc<VmObject>,
    /// The object's page mapped at `vaddr`.
    vmo_page: usize,
    flags: MmuFlags,
    page_table: SharedPageTable,
}

impl VmMapping {
    /// First mapped address.
    pub fn addr(&self) -> VirtAddr {
        self.vaddr
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.pages * PAGE_SIZE
    }

    /// Whether the mapping has no page; never true of a mapping in a region.
    pub fn is_empty(&self) -> bool {
        self.pages == 0
    }

    /// The mapped object.
    pub fn vmo(&self) -> &Arc<VmObject> {
        &self.vmo
    }

    /// Offset in the object of the byte mapped at [`addr`](Self::addr).
    pub fn vmo_offset(&self) -> usize {
        self.vmo_page * PAGE_SIZE
    }

    /// Access rights.
    pub fn flags(&self) -> MmuFlags {
        self.flags
    }

    fn end(&self) -> VirtAddr {
        self.vaddr + self.len()
    }

    pub(super) fn pages(&self) -> usize {
        self.pages
    }

    pub(super) fn vmo_page(&self) -> usize {
        self.vmo_page
    }

    pub(super) fn page_table(&self) -> &SharedPageTable {
        &self.page_table
    }

    /// The address object page `index` is mapped at, if this mapping covers it.
    pub(super) fn vaddr_of_page(&self, index: usize) -> Option<VirtAddr> {
        let page = index.checked_sub(self.vmo_page)?;
        (page < self.pages).then(|| self.vaddr + page * PAGE_SIZE)
    }

    /// The piece of this mapping over `start..end` (page aligned, inside it), with `flags`.
    fn piece(&self, start: VirtAddr, end: VirtAddr, flags: MmuFlags) -> Arc<Self> {
        Arc::new(Self {
            vaddr: start,
            pages: (end - start) / PAGE_SIZE,
            vmo: self.vmo.clone(),
            vmo_page: self.vmo_page + (start - self.vaddr) / PAGE_SIZE,
            flags,
            page_table: self.page_table.clone(),
        })
    }
}

/// What a region holds.
#[derive(Clone)]
enum Child {
    Region(Arc<VmAddressRegion>),
    Mapping(Arc<VmMapping>),
}

impl Child {
    fn start(&self) -> VirtAddr {
        match self {
            Self::Region(region) => region.addr,
            Self::Mapping(mapping) => mapping.vaddr,
        }
    }

    fn end(&self) -> VirtAddr {
        match self {
            Self::Region(region) => region.addr + region.size,
            Self::Mapping(mapping) => mapping.end(),
        }
    }
}

/// A range of an address space, holding sub-regions and mappings that never overlap.
///
/// The root region of an address space covers what its page table may map. All addresses
/// are absolute. Operations on a destroyed region fail with [`VmError::Destroyed`]; a region
/// is destroyed by [`destroy`](Self::destroy), by an unmap that covers it, or by dropping it,
/// and takes its mappings and sub-regions with it.
pub struct VmAddressRegion {
    base: KObjectBase,
    addr: VirtAddr,
    size: usize,
    parent: Option<Weak<VmAddressRegion>>,
    page_table: SharedPageTable,
    /// Children by start address; `None` once destroyed.
    children: Mutex<Option<BTreeMap<VirtAddr, Child>>>,
}

impl VmAddressRegion {
    /// The root region of the address space of `page_table`.
    pub fn new_root(page_table: Box<dyn PageTable>) -> Arc<Self> {
        let region = page_table.region();
        Arc::new(Self {
            base: KObjectBase::new(),
            addr: region.start,
            size: region.end.saturating_sub(region.start),
            parent: None,
            page_table: Arc::new(Mutex::new(page_table)),
            children: Mutex::new(Some(BTreeMap::new())),
        })
    }

    /// Makes the address space this region belongs to the running one (see the HAL's
    /// `PageTable::activate`): `execve` calls it once the new program is loaded.
    pub fn activate(&self) -> Result<(), VmError> {
        self.page_table.lock().activate().map_err(VmError::Hal)
    }

    /// First address.
    pub fn addr(&self) -> VirtAddr {
        self.addr
    }

    /// Size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether the region was destroyed.
    pub fn is_destroyed(&self) -> bool {
        self.children.lock().is_none()
    }

    /// Makes a sub-region of `size` bytes.
    pub fn allocate(
        self: &Arc<Self>,
        placement: Placement,
        size: usize,
    ) -> Result<Arc<Self>, VmError> {
        let mut guard = self.children.lock();
        let children = guard.as_mut().ok_or(VmError::Destroyed)?;
        let addr = self.place(children, placement, size)?;
        let region = Arc::new(Self {
            base: KObjectBase::new(),
            addr,
            size,
            parent: Some(Arc::downgrade(self)),
            page_table: self.page_table.clone(),
            children: Mutex::new(Some(BTreeMap::new())),
        });
        children.insert(addr, Child::Region(region.clone()));
        Ok(region)
    }

    /// Maps `len` bytes of `vmo` from the page-aligned `vmo_offset` with rights `flags`, and
    /// returns the address. The object's pages are committed now: mapped pages are real.
    pub fn map(
        &self,
        placement: Placement,
        vmo: &Arc<VmObject>,
        vmo_offset: usize,
        len: usize,
        flags: MmuFlags,
    ) -> Result<VirtAddr, VmError> {
        let mut guard = self.children.lock();
        let children = guard.as_mut().ok_or(VmError::Destroyed)?;
        let vaddr = self.place(children, placement, len)?;
        self.map_at(children, vaddr, vmo, vmo_offset, len, flags)
    }

    /// Maps like [`map`](Self::map) at `addr`, first unmapping whatever mappings lie there,
    /// as `mmap(MAP_FIXED)` does. Sub-regions in the range are refused, not replaced.
    pub fn map_replacing(
        &self,
        addr: VirtAddr,
        vmo: &Arc<VmObject>,
        vmo_offset: usize,
        len: usize,
        flags: MmuFlags,
    ) -> Result<VirtAddr, VmError> {
        let mut guard = self.children.lock();
        let children = guard.as_mut().ok_or(VmError::Destroyed)?;
        let end = self.check_range(addr, len)?;
        if intersecting(children, addr, end)
            .iter()
            .any(|child| matches!(child, Child::Region(_)))
        {
            return Err(VmError::SubRegionInRange);
        }
        check_vmo_range(vmo, vmo_offset, len)?;
        Self::unmap_locked(children, addr, end)?;
        self.map_at(children, addr, vmo, vmo_offset, len, flags)
    }

    fn map_at(
        &self,
        children: &mut BTreeMap<VirtAddr, Child>,
        vaddr: VirtAddr,
        vmo: &Arc<VmObject>,
        vmo_offset: usize,
        len: usize,
        flags: MmuFlags,
    ) -> Result<VirtAddr, VmError> {
        check_vmo_range(vmo, vmo_offset, len)?;
        let mapping = Arc::new(VmMapping {
            vaddr,
            pages: len / PAGE_SIZE,
            vmo: vmo.clone(),
            vmo_page: vmo_offset / PAGE_SIZE,
            flags,
            page_table: self.page_table.clone(),
        });
        vmo.map_mapping(&mapping)?;
        children.insert(vaddr, Child::Mapping(mapping));
        Ok(vaddr)
    }

    /// Unmaps the mappings in `addr..addr + len`, cutting those that stick out, and destroys
    /// the sub-regions in it. A sub-region partly in the range is refused, before any change.
    pub fn unmap(&self, addr: VirtAddr, len: usize) -> Result<(), VmError> {
        let mut guard = self.children.lock();
        let children = guard.as_mut().ok_or(VmError::Destroyed)?;
        let end = self.check_range(addr, len)?;
        Self::unmap_locked(children, addr, end)
    }

    fn unmap_locked(
        children: &mut BTreeMap<VirtAddr, Child>,
        start: VirtAddr,
        end: VirtAddr,
    ) -> Result<(), VmError> {
        let hits = intersecting(children, start, end);
        let region_sticks_out = hits.iter().any(|child| {
            matches!(child, Child::Region(_)) && (child.start() < start || child.end() > end)
        });
        if region_sticks_out {
            return Err(VmError::SubRegionInRange);
        }
        for hit in hits {
            children.remove(&hit.start());
            match hit {
                Child::Region(region) => region.destroy_contents()?,
                Child::Mapping(mapping) => {
                    let cut_start = mapping.vaddr.max(start);
                    let cut_end = mapping.end().min(end);
                    if cut_start == mapping.vaddr && cut_end == mapping.end() {
                        mapping.vmo.unmap_mapping(&mapping)?;
                        continue;
                    }
                    let kept = outside_pieces(&mapping, cut_start, cut_end);
                    for piece in &kept {
                        children.insert(piece.vaddr, Child::Mapping(piece.clone()));
                    }
                    mapping.vmo.reshape_mapping(
                        &mapping,
                        &kept,
                        Reshape::Unmap {
                            vaddr: cut_start,
                            pages: (cut_end - cut_start) / PAGE_SIZE,
                        },
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Gives the mappings in `addr..addr + len` the rights `flags`, cutting those that stick
    /// out. The range must be mapped throughout and hold no sub-region.
    pub fn protect(&self, addr: VirtAddr, len: usize, flags: MmuFlags) -> Result<(), VmError> {
        let mut guard = self.children.lock();
        let children = guard.as_mut().ok_or(VmError::Destroyed)?;
        let end = self.check_range(addr, len)?;
        let hits = intersecting(children, addr, end);
        let mut covered_to = addr;
        for hit in &hits {
            if matches!(hit, Child::Region(_)) {
                return Err(VmError::SubRegionInRange);
            }
            if hit.start() > covered_to {
                return Err(VmError::NotMapped);
            }
            covered_to = hit.end();
        }
        if covered_to < end {
            return Err(VmError::NotMapped);
        }
        for hit in hits {
            let Child::Mapping(mapping) = hit else {
                continue;
            };
            let cut_start = mapping.vaddr.max(addr);
            let cut_end = mapping.end().min(end);
            let kept = outside_pieces(&mapping, cut_start, cut_end);
            let changed = mapping.piece(cut_start, cut_end, flags);
            children.remove(&mapping.vaddr);
            for piece in kept.iter().chain([&changed]) {
                children.insert(piece.vaddr, Child::Mapping(piece.clone()));
            }
            mapping
                .vmo
                .reshape_mapping(&mapping, &kept, Reshape::Protect(changed))?;
        }
        Ok(())
    }

    /// Destroys the region: unmaps its mappings, destroys its sub-regions and frees its range
    /// in its parent.
    pub fn destroy(&self) -> Result<(), VmError> {
        if let Some(parent) = self.parent.as_ref().and_then(Weak::upgrade) {
            if let Some(siblings) = parent.children.lock().as_mut() {
                let is_self = matches!(
                    siblings.get(&self.addr),
                    Some(Child::Region(region)) if ptr::eq(Arc::as_ptr(region), self)
                );
                if is_self {
                    siblings.remove(&self.addr);
                }
            }
        }
        self.destroy_contents()
    }

    /// Unmaps and destroys everything in the region and marks it destroyed.
    fn destroy_contents(&self) -> Result<(), VmError> {
        let Some(children) = self.children.lock().take() else {
            return Ok(());
        };
        // Everything is torn down even if one part fails; the first failure is reported.
        let mut outcome = Ok(());
        for child in children.into_values() {
            let result = match child {
                Child::Region(region) => region.destroy_contents(),
                Child::Mapping(mapping) => mapping.vmo.unmap_mapping(&mapping),
            };
            if outcome.is_ok() {
                outcome = result;
            }
        }
        outcome
    }

    /// The mapping that covers `vaddr`, in this region or its sub-regions.
    pub fn find_mapping(&self, vaddr: VirtAddr) -> Option<Arc<VmMapping>> {
        let guard = self.children.lock();
        let (_, child) = guard.as_ref()?.range(..=vaddr).next_back()?;
        if child.end() <= vaddr {
            return None;
        }
        match child {
            Child::Mapping(mapping) => Some(mapping.clone()),
            Child::Region(region) => region.find_mapping(vaddr),
        }
    }

    /// Reads `buf.len()` bytes at `vaddr` through the mappings there, which must be readable.
    pub fn read_memory(&self, vaddr: VirtAddr, buf: &mut [u8]) -> Result<(), VmError> {
        let mut done = 0;
        while done < buf.len() {
            let at = range_end(vaddr, done)?;
            let (mapping, chunk) = self.mapping_for(at, buf.len() - done, MmuFlags::READ)?;
            let part = buf.get_mut(done..done + chunk).ok_or(VmError::OutOfRange)?;
            mapping
                .vmo
                .read(mapping.vmo_offset() + (at - mapping.vaddr), part)?;
            done += chunk;
        }
        Ok(())
    }

    /// Writes `buf` at `vaddr` through the mappings there, which must be writable.
    pub fn write_memory(&self, vaddr: VirtAddr, buf: &[u8]) -> Result<(), VmError> {
        let mut done = 0;
        while done < buf.len() {
            let at = range_end(vaddr, done)?;
            let (mapping, chunk) = self.mapping_for(at, buf.len() - done, MmuFlags::WRITE)?;
            let part = buf.get(done..done + chunk).ok_or(VmError::OutOfRange)?;
            mapping
                .vmo
                .write(mapping.vmo_offset() + (at - mapping.vaddr), part)?;
            done += chunk;
        }
        Ok(())
    }

    /// The mapping at `vaddr`, which must allow `access`, and how many of `len` bytes from
    /// `vaddr` it covers.
    fn mapping_for(
        &self,
        vaddr: VirtAddr,
        len: usize,
        access: MmuFlags,
    ) -> Result<(Arc<VmMapping>, usize), VmError> {
        if self.is_destroyed() {
            return Err(VmError::Destroyed);
        }
        let mapping = self.find_mapping(vaddr).ok_or(VmError::NotMapped)?;
        if !mapping.flags.contains(access) {
            return Err(VmError::AccessDenied);
        }
        let chunk = len.min(mapping.end() - vaddr);
        Ok((mapping, chunk))
    }

    /// Checks that `addr..addr + len` is a non-empty page-aligned part of the region, and
    /// returns its end.
    fn check_range(&self, addr: VirtAddr, len: usize) -> Result<VirtAddr, VmError> {
        if len == 0 {
            return Err(VmError::ZeroLength);
        }
        check_aligned(addr)?;
        check_aligned(len)?;
        let end = range_end(addr, len)?;
        if addr < self.addr || end > self.addr + self.size {
            return Err(VmError::OutOfRange);
        }
        Ok(end)
    }

    /// Picks the address of a new child of `len` bytes.
    fn place(
        &self,
        children: &BTreeMap<VirtAddr, Child>,
        placement: Placement,
        len: usize,
    ) -> Result<VirtAddr, VmError> {
        match placement {
            Placement::At(addr) => {
                let end = self.check_range(addr, len)?;
                if intersecting(children, addr, end).is_empty() {
                    Ok(addr)
                } else {
                    Err(VmError::Overlap)
                }
            }
            Placement::Anywhere => {
                // The range is only checked for size and alignment here.
                self.check_range(self.addr, len)
                    .map_err(|error| match error {
                        VmError::OutOfRange => VmError::NoSpace,
                        other => other,
                    })?;
                let mut free_from = self.addr;
                for child in children.values() {
                    if child.start() - free_from >= len {
                        return Ok(free_from);
                    }
                    free_from = child.end();
                }
                if self.addr + self.size - free_from >= len {
                    Ok(free_from)
                } else {
                    Err(VmError::NoSpace)
                }
            }
        }
    }
}

impl KernelObject for VmAddressRegion {
    fn base(&self) -> &KObjectBase {
        &self.base
    }

    fn type_name(&self) -> &'static str {
        "VmAddressRegion"
    }
}

impl Drop for VmAddressRegion {
    fn drop(&mut self) {
        // No mapping outlives its region: a frame freed later must not stay reachable.
        if let Err(error) = self.destroy_contents() {
            log::warn!("tearing down a dropped region: {error}");
        }
    }
}

/// The children that share at least a byte with `start..end`, in address order.
fn intersecting(
    children: &BTreeMap<VirtAddr, Child>,
    start: VirtAddr,
    end: VirtAddr,
) -> Vec<Child> {
    let mut hits: Vec<Child> = children
        .range(..end)
        .rev()
        .map(|(_, child)| child)
        .take_while(|child| child.end() > start)
        .cloned()
        .collect();
    hits.reverse();
    hits
}

/// The pieces of `mapping` left and right of `cut_start..cut_end`, with its rights.
fn outside_pieces(
    mapping: &VmMapping,
    cut_start: VirtAddr,
    cut_end: VirtAddr,
) -> Vec<Arc<VmMapping>> {
    let mut pieces = Vec::new();
    if mapping.vaddr < cut_start {
        pieces.push(mapping.piece(mapping.vaddr, cut_start, mapping.flags));
    }
    if cut_end < mapping.end() {
        pieces.push(mapping.piece(cut_end, mapping.end(), mapping.flags));
    }
    pieces
}

/// Checks that `len` bytes from `vmo_offset` are whole pages inside `vmo`.
fn check_vmo_range(vmo: &VmObject, vmo_offset: usize, len: usize) -> Result<(), VmError> {
    check_aligned(vmo_offset)?;
    check_aligned(len)?;
    if range_end(vmo_offset, len)? > vmo.len() {
        return Err(VmError::OutOfRange);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{vec, vec::Vec};
    use kernel_hal_lkm::{platform, HalError, PhysicalMemory};

    fn address_space(frames: usize) -> (Arc<dyn PhysicalMemory>, Arc<VmAddressRegion>) {
        let memory = platform().unwrap().new_physical_memory(frames).unwrap();
        let root = VmAddressRegion::new_root(memory.clone().new_page_table().unwrap());
        (memory, root)
    }

    /// Reads user memory of the test process at `vaddr`, as the kernel's copy_from_user does.
    fn peek(vaddr: VirtAddr, len: usize) -> Result<Vec<u8>, HalError> {
        let mut bytes = vec![0; len];
        platform()?.copy_from_user(vaddr, &mut bytes)?;
        Ok(bytes)
    }

    /// Writes user memory of the test process at `vaddr`, as the kernel's copy_to_user does.
    fn poke(vaddr: VirtAddr, bytes: &[u8]) -> Result<(), HalError> {
        platform()?.copy_to_user(vaddr, bytes)
    }

    const RW: MmuFlags = MmuFlags::READ.union(MmuFlags::WRITE);

    #[test]
    fn a_mapped_vmo_is_read_and_written_through_its_virtual_address() {
        let (memory, root) = address_space(16);
        let vmo = VmObject::new_paged(&memory, 3).unwrap();
        vmo.write(PAGE_SIZE + 10, b"written via the vmo").unwrap();
        let addr = root
            .map(Placement::Anywhere, &vmo, 0, 3 * PAGE_SIZE, RW)
            .unwrap();
        // The pages are in this process, at `addr`.
        assert_eq!(
            peek(addr + PAGE_SIZE + 10, 19).unwrap(),
            b"written via the vmo"
        );
        poke(addr + 2 * PAGE_SIZE - 2, b"across pages").unwrap();
        let mut back = [0; 12];
        vmo.read(2 * PAGE_SIZE - 2, &mut back).unwrap();
        assert_eq!(&back, b"across pages");
        root.read_memory(addr + 2 * PAGE_SIZE - 2, &mut back)
            .unwrap();
        assert_eq!(&back, b"across pages");
        root.write_memory(addr + 5, b"through the region").unwrap();
        assert_eq!(peek(addr + 5, 18).unwrap(), b"through the region");

        let mapping = root.find_mapping(addr + PAGE_SIZE).unwrap();
        assert_eq!((mapping.addr(), mapping.len()), (addr, 3 * PAGE_SIZE));
        assert!(Arc::ptr_eq(mapping.vmo(), &vmo));
    }

    #[test]
    fn a_read_only_mapping_refuses_writes_through_its_address() {
        let (memory, root) = address_space(4);
        let vmo = VmObject::new_paged(&memory, 1).unwrap();
        let addr = root
            .map(Placement::Anywhere, &vmo, 0, PAGE_SIZE, MmuFlags::READ)
            .unwrap();
        assert_eq!(poke(addr, b"x"), Err(HalError::Fault));
        assert_eq!(root.write_memory(addr, b"x"), Err(VmError::AccessDenied));
        // Mapping committed the page, zeroed.
        assert_eq!(vmo.committed_pages(), 1);
        assert_eq!(peek(addr, 4).unwrap(), [0; 4]);
    }

    #[test]
    fn writes_through_the_addresses_of_a_cow_parent_and_child_stay_private() {
        let (memory, parent_space) = address_space(32);
        let child_space = VmAddressRegion::new_root(memory.clone().new_page_table().unwrap());
        let parent = VmObject::new_paged(&memory, 2).unwrap();
        let parent_addr = parent_space
            .map(Placement::Anywhere, &parent, 0, 2 * PAGE_SIZE, RW)
            .unwrap();
        poke(parent_addr, b"before fork").unwrap();

        // Fork: the child's memory is a copy-on-write child, mapped writable in its own space.
        let child = parent.create_cow_child(0, 2).unwrap();
        let child_addr = child_space
            .map(Placement::Anywhere, &child, 0, 2 * PAGE_SIZE, RW)
            .unwrap();
        assert_eq!(peek(child_addr, 11).unwrap(), b"before fork");

        poke(parent_addr, b"parent").unwrap();
        poke(child_addr + PAGE_SIZE, b"child").unwrap();
        assert_eq!(peek(parent_addr, 11).unwrap(), b"parent fork");
        assert_eq!(peek(child_addr, 11).unwrap(), b"before fork");
        assert_eq!(peek(child_addr + PAGE_SIZE, 5).unwrap(), b"child");
        assert_eq!(peek(parent_addr + PAGE_SIZE, 5).unwrap(), [0; 5]);
    }

    #[test]
    fn a_read_only_mapping_follows_its_page_when_a_write_copies_it() {
        let (memory, root) = address_space(16);
        let parent = VmObject::new_paged(&memory, 1).unwrap();
        parent.write(0, b"shared").unwrap();
        let addr = root
            .map(Placement::Anywhere, &parent, 0, PAGE_SIZE, MmuFlags::READ)
            .unwrap();
        let child = parent.create_cow_child(0, 1).unwrap();
        // The page is shared; the parent's write gets it a new frame, which its mapping
        // must now show.
        parent.write(0, b"parent").unwrap();
        assert_eq!(peek(addr, 6).unwrap(), b"parent");
        let mut bytes = [0; 6];
        child.read(0, &mut bytes).unwrap();
        assert_eq!(&bytes, b"shared");

        // Making the mapping writable gives the child-shared page its own frame first.
        let other = child.create_cow_child(0, 1).unwrap();
        let child_addr = root
            .map(Placement::Anywhere, &child, 0, PAGE_SIZE, MmuFlags::READ)
            .unwrap();
        root.protect(child_addr, PAGE_SIZE, RW).unwrap();
        poke(child_addr, b"CHILD!").unwrap();
        other.read(0, &mut bytes).unwrap();
        assert_eq!(&bytes, b"shared");
    }

    #[test]
    fn fixed_placements_must_be_free_and_inside() {
        let (memory, root) = address_space(8);
        let vmo = VmObject::new_paged(&memory, 4).unwrap();
        let base = root.addr();
        let addr = root
            .map(
                Placement::At(base + 4 * PAGE_SIZE),
                &vmo,
                0,
                2 * PAGE_SIZE,
                RW,
            )
            .unwrap();
        assert_eq!(addr, base + 4 * PAGE_SIZE);
        let at = |offset| Placement::At(base + offset);
        assert_eq!(
            root.map(at(5 * PAGE_SIZE), &vmo, 0, PAGE_SIZE, RW),
            Err(VmError::Overlap)
        );
        assert_eq!(
            root.map(at(3 * PAGE_SIZE), &vmo, 0, 2 * PAGE_SIZE, RW),
            Err(VmError::Overlap)
        );
        assert_eq!(
            root.map(at(PAGE_SIZE + 1), &vmo, 0, PAGE_SIZE, RW),
            Err(VmError::Unaligned)
        );
        assert_eq!(
            root.map(Placement::At(base - PAGE_SIZE), &vmo, 0, PAGE_SIZE, RW),
            Err(VmError::OutOfRange)
        );
        assert_eq!(
            root.map(at(root.size() - PAGE_SIZE), &vmo, 0, 2 * PAGE_SIZE, RW),
            Err(VmError::OutOfRange)
        );
        assert_eq!(
            root.map(Placement::Anywhere, &vmo, 0, 0, RW),
            Err(VmError::ZeroLength)
        );
        assert_eq!(
            root.map(Placement::Anywhere, &vmo, 3 * PAGE_SIZE, 2 * PAGE_SIZE, RW),
            Err(VmError::OutOfRange)
        );
        // Right after the existing mapping is free.
        assert_eq!(
            root.map(at(6 * PAGE_SIZE), &vmo, 0, PAGE_SIZE, RW),
            Ok(base + 6 * PAGE_SIZE)
        );
    }

    #[test]
    fn anywhere_takes_the_lowest_gap_that_fits() {
        let (memory, root) = address_space(8);
        let region = root.allocate(Placement::Anywhere, 8 * PAGE_SIZE).unwrap();
        assert_eq!(region.addr(), root.addr());
        let vmo = VmObject::new_paged(&memory, 3).unwrap();
        let base = region.addr();
        region
            .map(Placement::At(base + PAGE_SIZE), &vmo, 0, PAGE_SIZE, RW)
            .unwrap();
        region
            .map(Placement::At(base + 3 * PAGE_SIZE), &vmo, 0, PAGE_SIZE, RW)
            .unwrap();
        // One page fits before the first mapping, two only after the second.
        assert_eq!(
            region.map(Placement::Anywhere, &vmo, 0, PAGE_SIZE, RW),
            Ok(base)
        );
        assert_eq!(
            region.map(Placement::Anywhere, &vmo, 0, 2 * PAGE_SIZE, RW),
            Ok(base + 4 * PAGE_SIZE)
        );
        assert_eq!(
            region.map(Placement::Anywhere, &vmo, 0, 3 * PAGE_SIZE, RW),
            Err(VmError::NoSpace)
        );
        assert_eq!(
            region.map(Placement::Anywhere, &vmo, 0, 2 * PAGE_SIZE, RW),
            Ok(base + 6 * PAGE_SIZE)
        );
        assert_eq!(
            region.map(Placement::Anywhere, &vmo, 0, PAGE_SIZE, RW),
            Ok(base + 2 * PAGE_SIZE)
        );
        assert_eq!(
            region
                .allocate(Placement::Anywhere, PAGE_SIZE)
                .map(|r| r.addr()),
            Err(VmError::NoSpace)
        );
    }

    #[test]
    fn sub_regions_hold_mappings_and_follow_the_overlap_rules() {
        let (memory, root) = address_space(8);
        let base = root.addr();
        let region = root
            .allocate(Placement::At(base + 16 * PAGE_SIZE), 4 * PAGE_SIZE)
            .unwrap();
        assert_eq!(
            root.allocate(Placement::At(base + 18 * PAGE_SIZE), 4 * PAGE_SIZE)
                .map(|r| r.addr()),
            Err(VmError::Overlap)
        );
        let vmo = VmObject::new_paged(&memory, 1).unwrap();
        assert_eq!(
            root.map(Placement::At(base + 17 * PAGE_SIZE), &vmo, 0, PAGE_SIZE, RW),
            Err(VmError::Overlap)
        );
        // Addresses outside the sub-region are out of its range.
        assert_eq!(
            region.map(Placement::At(base), &vmo, 0, PAGE_SIZE, RW),
            Err(VmError::OutOfRange)
        );
        let addr = region
            .map(Placement::At(base + 17 * PAGE_SIZE), &vmo, 0, PAGE_SIZE, RW)
            .unwrap();
        poke(addr, b"nested").unwrap();
        assert_eq!(root.find_mapping(addr).unwrap().addr(), addr);
        assert_eq!(
            root.protect(addr, PAGE_SIZE, MmuFlags::READ),
            Err(VmError::SubRegionInRange)
        );
        // An unmap that covers part of the sub-region is refused and changes nothing.
        assert_eq!(
            root.unmap(base + 15 * PAGE_SIZE, 2 * PAGE_SIZE),
            Err(VmError::SubRegionInRange)
        );
        assert_eq!(peek(addr, 6).unwrap(), b"nested");
        // One that covers all of it destroys it and its mappings.
        root.unmap(base + 16 * PAGE_SIZE, 4 * PAGE_SIZE).unwrap();
        assert!(region.is_destroyed());
        assert_eq!(peek(addr, 1), Err(HalError::Fault));
        assert_eq!(
            region.map(Placement::Anywhere, &vmo, 0, PAGE_SIZE, RW),
            Err(VmError::Destroyed)
        );
        // Its range is free again.
        assert!(root
            .allocate(Placement::At(base + 16 * PAGE_SIZE), 4 * PAGE_SIZE)
            .is_ok());
    }

    #[test]
    fn unmapping_the_middle_of_a_mapping_keeps_both_sides() {
        let (memory, root) = address_space(8);
        let vmo = VmObject::new_paged(&memory, 4).unwrap();
        let addr = root
            .map(Placement::Anywhere, &vmo, 0, 4 * PAGE_SIZE, RW)
            .unwrap();
        for page in 0..4 {
            poke(addr + page * PAGE_SIZE, &[b'0' + page as u8]).unwrap();
        }
        root.unmap(addr + PAGE_SIZE, 2 * PAGE_SIZE).unwrap();
        assert_eq!(peek(addr, 1).unwrap(), b"0");
        assert_eq!(peek(addr + 3 * PAGE_SIZE, 1).unwrap(), b"3");
        assert_eq!(peek(addr + PAGE_SIZE, 1), Err(HalError::Fault));
        assert_eq!(peek(addr + 2 * PAGE_SIZE, 1), Err(HalError::Fault));
        let right = root.find_mapping(addr + 3 * PAGE_SIZE).unwrap();
        assert_eq!(
            (right.addr(), right.len(), right.vmo_offset()),
            (addr + 3 * PAGE_SIZE, PAGE_SIZE, 3 * PAGE_SIZE)
        );
        assert!(root.find_mapping(addr + PAGE_SIZE).is_none());
        // The freed middle can be mapped again; unmapping a hole is fine.
        root.unmap(addr + PAGE_SIZE, PAGE_SIZE).unwrap();
        assert_eq!(
            root.map(Placement::At(addr + PAGE_SIZE), &vmo, 0, PAGE_SIZE, RW),
            Ok(addr + PAGE_SIZE)
        );
        assert_eq!(peek(addr + PAGE_SIZE, 1).unwrap(), b"0");
    }

    #[test]
    fn protect_changes_the_rights_of_a_covered_range_only() {
        let (memory, root) = address_space(8);
        let vmo = VmObject::new_paged(&memory, 3).unwrap();
        let addr = root
            .map(Placement::Anywhere, &vmo, 0, 3 * PAGE_SIZE, RW)
            .unwrap();
        root.protect(addr + PAGE_SIZE, PAGE_SIZE, MmuFlags::READ)
            .unwrap();
        poke(addr, b"w").unwrap();
        assert_eq!(poke(addr + PAGE_SIZE, b"w"), Err(HalError::Fault));
        poke(addr + 2 * PAGE_SIZE, b"w").unwrap();
        assert_eq!(
            root.find_mapping(addr + PAGE_SIZE).unwrap().flags(),
            MmuFlags::READ
        );
        assert_eq!(root.find_mapping(addr).unwrap().flags(), RW);
        // A range with a hole is refused.
        root.unmap(addr + 2 * PAGE_SIZE, PAGE_SIZE).unwrap();
        assert_eq!(
            root.protect(addr, 3 * PAGE_SIZE, MmuFlags::READ),
            Err(VmError::NotMapped)
        );
        assert_eq!(
            root.protect(addr + 4 * PAGE_SIZE, PAGE_SIZE, MmuFlags::READ),
            Err(VmError::NotMapped)
        );
        // Across the two pieces left: both become writable.
        root.protect(addr, 2 * PAGE_SIZE, RW).unwrap();
        poke(addr + PAGE_SIZE, b"w").unwrap();
    }

    #[test]
    fn map_replacing_replaces_what_was_there() {
        let (memory, root) = address_space(8);
        let old = VmObject::new_paged(&memory, 3).unwrap();
        let new = VmObject::new_paged(&memory, 1).unwrap();
        old.write(0, &[b'o'; 3 * PAGE_SIZE]).unwrap();
        new.write(0, b"n").unwrap();
        let addr = root
            .map(Placement::Anywhere, &old, 0, 3 * PAGE_SIZE, RW)
            .unwrap();
        root.map_replacing(addr + PAGE_SIZE, &new, 0, PAGE_SIZE, RW)
            .unwrap();
        assert_eq!(peek(addr, 1).unwrap(), b"o");
        assert_eq!(peek(addr + PAGE_SIZE, 1).unwrap(), b"n");
        assert_eq!(peek(addr + 2 * PAGE_SIZE, 1).unwrap(), b"o");
    }

    #[test]
    fn shrinking_a_mapped_vmo_unmaps_the_cut_pages() {
        let (memory, root) = address_space(8);
        let vmo = VmObject::new_paged(&memory, 2).unwrap();
        let addr = root
            .map(Placement::Anywhere, &vmo, 0, 2 * PAGE_SIZE, RW)
            .unwrap();
        poke(addr + PAGE_SIZE, b"gone").unwrap();
        vmo.resize(1).unwrap();
        assert_eq!(peek(addr + PAGE_SIZE, 1), Err(HalError::Fault));
        assert_eq!(memory.frames_in_use(), 1);
        // Grown back, a write commits a fresh page, which the mapping shows again.
        vmo.resize(2).unwrap();
        vmo.write(PAGE_SIZE, b"back").unwrap();
        assert_eq!(peek(addr + PAGE_SIZE, 4).unwrap(), b"back");
    }

    #[test]
    fn destroying_a_region_unmaps_everything_and_frees_the_frames() {
        let (memory, root) = address_space(8);
        let vmo = VmObject::new_paged(&memory, 2).unwrap();
        let addr = root
            .map(Placement::Anywhere, &vmo, 0, 2 * PAGE_SIZE, RW)
            .unwrap();
        let region = root.allocate(Placement::Anywhere, 4 * PAGE_SIZE).unwrap();
        let inner = region
            .map(Placement::Anywhere, &vmo, 0, PAGE_SIZE, RW)
            .unwrap();
        root.destroy().unwrap();
        assert!(root.is_destroyed() && region.is_destroyed());
        assert_eq!(peek(addr, 1), Err(HalError::Fault));
        assert_eq!(peek(inner, 1), Err(HalError::Fault));
        assert_eq!(root.unmap(addr, PAGE_SIZE), Err(VmError::Destroyed));
        assert_eq!(root.read_memory(addr, &mut [0]), Err(VmError::Destroyed));
        drop(vmo);
        assert_eq!(memory.frames_in_use(), 0);
    }

    #[test]
    fn contiguous_frames_are_mapped_in_one_run() {
        let (memory, root) = address_space(8);
        let vmo = VmObject::new_paged(&memory, 4).unwrap();
        let addr = root
            .map(Placement::Anywhere, &vmo, 0, 4 * PAGE_SIZE, RW)
            .unwrap();
        // Pages are committed in order from a fresh memory, so their frames are contiguous
        // and the page table maps them 1:1 in order.
        let first = root.page_table.lock().query(addr).unwrap().0;
        for page in 1..4 {
            let (paddr, flags) = root
                .page_table
                .lock()
                .query(addr + page * PAGE_SIZE)
                .unwrap();
            assert_eq!((paddr, flags), (first + page * PAGE_SIZE, RW));
        }
    }
}
