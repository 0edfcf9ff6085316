//! Virtual memory: objects of paged memory and the address regions they are mapped into.
//!
//! A [`VmObject`] is memory: pages committed lazily from the container's physical memory on
//! first write (or when mapped), read and written by offset, resized, and copied on write into
//! children for fork. A [`VmAddressRegion`] is a range of an address space: it holds
//! sub-regions and [`VmMapping`]s of objects, which the HAL's page table makes real. A write
//! through a mapped address is a write to the object, and the other way round.
//!
//! ```
//! use kernel_hal_lkm::{platform, MmuFlags, PAGE_SIZE};
//! use zircon_object::vm::{Placement, VmAddressRegion, VmObject};
//!
//! # fn main() -> Result<(), zircon_object::vm::VmError> {
//! let memory = platform()?.new_physical_memory(64)?;
//! let root = VmAddressRegion::new_root(memory.clone().new_page_table()?);
//! let vmo = VmObject::new_paged(&memory, 2)?;
//! vmo.write(PAGE_SIZE, b"second page")?;
//!
//! let addr = root.map(Placement::Anywhere, &vmo, 0, 2 * PAGE_SIZE, MmuFlags::READ)?;
//! let mut bytes = [0; 11];
//! root.read_memory(addr + PAGE_SIZE, &mut bytes)?;
//! assert_eq!(&bytes, b"second page");
//! root.unmap(addr, 2 * PAGE_SIZE)?;
//! # Ok(())
//! # }
//! ```

mod vmar;
mod vmo;

pub use vmar::{Placement, VmAddressRegion, VmMapping};
pub use vmo::VmObject;

use core::fmt;
use kernel_hal_lkm::{HalError, PAGE_SIZE};

/// Errors of virtual memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmError {
    /// the length is zero
    ZeroLength,
    /// the address, offset or length is not a multiple of the page size
    Unaligned,
    /// the range lies outside the region or the object, or its end overflows
    OutOfRange,
    /// the range overlaps an existing mapping or sub-region
    Overlap,
    /// no free range of that size is left in the region
    NoSpace,
    /// the range covers a sub-region, in part or (for protect) at all
    SubRegionInRange,
    /// part of the range is not mapped
    NotMapped,
    /// the mapping's rights do not allow the access
    AccessDenied,
    /// the region was destroyed
    Destroyed,
    /// the HAL failed
    Hal(HalError),
}

impl fmt::Display for VmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroLength => f.write_str("the length is zero"),
            Self::Unaligned => {
                f.write_str("the address, offset or length is not a multiple of the page size")
            }
            Self::OutOfRange => {
                f.write_str("the range lies outside the region or the object, or its end overflows")
            }
            Self::Overlap => f.write_str("the range overlaps an existing mapping or sub-region"),
            Self::NoSpace => f.write_str("no free range of that size is left in the region"),
            Self::SubRegionInRange => {
                f.write_str("the range covers a sub-region, in part or (for protect) at all")
            }
            Self::NotMapped => f.write_str("part of the range is not mapped"),
            Self::AccessDenied => f.write_str("the mapping's rights do not allow the access"),
            Self::Destroyed => f.write_str("the region was destroyed"),
            Self::Hal(error) => write!(f, "the HAL failed: {error}"),
        }
    }
}

impl From<HalError> for VmError {
    fn from(error: HalError) -> Self {
        Self::Hal(error)
    }
}

/// Checks that `value` is a multiple of the page size.
fn check_aligned(value: usize) -> Result<(), VmError> {
    if value % PAGE_SIZE == 0 {
        Ok(())
    } else {
        Err(VmError::Unaligned)
    }
}

/// The end of `start..start + len`, or [`VmError::OutOfRange`] if it overflows.
fn range_end(start: usize, len: usize) -> Result<usize, VmError> {
    start.checked_add(len).ok_or(VmError::OutOfRange)
}
