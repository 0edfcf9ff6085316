//! A container's physical memory on the host: a tmpfs file under `/dev/shm`.

use super::{io_error, HostPageTable};
use crate::surface::{
    check_page_aligned, HalError, PageTable, PhysAddr, PhysicalMemory, PAGE_SIZE,
};
use alloc::{boxed::Box, format, sync::Arc, vec, vec::Vec};
use buddy_system_allocator::FrameAllocator;
use core::{
    alloc::Layout,
    sync::atomic::{AtomicUsize, Ordering},
};
use std::{
    fs::{self, File, OpenOptions},
    io,
    os::{
        fd::AsRawFd,
        unix::fs::{FileExt, OpenOptionsExt},
    },
    path::{Path, PathBuf},
    sync::{Mutex, MutexGuard, PoisonError},
};

/// Largest run of frames the buddy allocator hands out is `1 << (BUDDY_ORDER - 1)` frames.
const BUDDY_ORDER: usize = 32;

/// Numbers the files of one test process apart.
static NEXT_FILE_NUMBER: AtomicUsize = AtomicUsize::new(0);

/// A container's physical memory: a tmpfs file, grown as frames are handed out, and the buddy
/// allocator of its frames.
///
/// Freed frames are punched out of the file, so their memory goes back to the host and they
/// read as zero when handed out again.
pub struct HostPhysicalMemory {
    file: File,
    path: PathBuf,
    max_frames: usize,
    frames: Mutex<Frames>,
}

/// The allocation state of the frames.
struct Frames {
    buddy: FrameAllocator<BUDDY_ORDER>,
    /// One bit per frame, set while allocated: frees of frames not handed out are refused
    /// instead of corrupting the buddy lists.
    allocated: Vec<u64>,
    in_use: usize,
    /// Frames the file holds now.
    file_frames: usize,
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

impl HostPhysicalMemory {
    /// Creates the backing file of a physical memory of at most `max_frames` frames.
    pub fn new(max_frames: usize) -> Result<Self, HalError> {
        // Every frame's offset must fit the file's offsets.
        max_frames
            .checked_mul(PAGE_SIZE)
            .and_then(|bytes| libc::off_t::try_from(bytes).ok())
            .ok_or(HalError::OutOfRange)?;
        let number = NEXT_FILE_NUMBER.fetch_add(1, Ordering::Relaxed);
        let path = PathBuf::from(format!(
            "/dev/shm/rvisor-pmem-{}-{number}",
            std::process::id()
        ));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(io_error)?;
        let mut buddy = FrameAllocator::new();
        buddy.add_frame(0, max_frames);
        Ok(Self {
            file,
            path,
            max_frames,
            frames: Mutex::new(Frames {
                buddy,
                allocated: vec![0; max_frames.div_ceil(64)],
                in_use: 0,
                file_frames: 0,
            }),
        })
    }

    /// Where the backing file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The backing file, which page tables map.
    pub(super) fn file(&self) -> &File {
        &self.file
    }

    fn frames(&self) -> MutexGuard<'_, Frames> {
        // The state is consistent after every statement that can panic, so a poisoned lock is
        // still usable.
        self.frames.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Checks that the bytes `paddr..paddr + len` lie in allocated frames.
    pub(super) fn check_allocated(&self, paddr: PhysAddr, len: usize) -> Result<(), HalError> {
        if len == 0 {
            return Ok(());
        }
        let end = paddr.checked_add(len).ok_or(HalError::NotAllocated)?;
        let frames = self.frames();
        if (paddr / PAGE_SIZE..end.div_ceil(PAGE_SIZE)).all(|frame| frames.is_allocated(frame)) {
            Ok(())
        } else {
            Err(HalError::NotAllocated)
        }
    }

    /// Returns `frame` to the host: it reads as zero from now on.
    fn punch_out(&self, frame: usize) -> Result<(), HalError> {
        let offset = libc::off_t::try_from(frame * PAGE_SIZE).map_err(|_| HalError::OutOfRange)?;
        // SAFETY: fallocate only changes the contents of our own file; it touches no memory of
        // this process.
        let status = unsafe {
            libc::fallocate(
                self.file.as_raw_fd(),
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                offset,
                PAGE_SIZE as libc::off_t,
            )
        };
        if status == 0 {
            return Ok(());
        }
        // A file system without hole punching still gets the frame zeroed.
        self.file
            .write_all_at(&[0; PAGE_SIZE], (frame * PAGE_SIZE) as u64)
            .map_err(io_error)
    }
}

impl PhysicalMemory for HostPhysicalMemory {
    fn frame_alloc_contiguous(
        &self,
        count: usize,
        align_log2: usize,
    ) -> Result<PhysAddr, HalError> {
        if count == 0 || count > self.max_frames {
            return Err(HalError::OutOfFrames);
        }
        let align = 1usize
            .checked_shl(align_log2 as u32)
            .ok_or(HalError::OutOfFrames)?;
        let layout = Layout::from_size_align(count, align).map_err(|_| HalError::OutOfFrames)?;
        let block = count.next_power_of_two().max(align);
        let mut frames = self.frames();
        let first = frames
            .buddy
            .alloc_aligned(layout)
            .ok_or(HalError::OutOfFrames)?;
        // The buddy allocator hands out a power of two; the frames past `count` go back now,
        // one by one, so that every frame is freed on its own later.
        for extra in first + count..first + block {
            frames.buddy.dealloc(extra, 1);
        }
        let end = first + count;
        if end > frames.file_frames {
            if let Err(error) = self.file.set_len((end * PAGE_SIZE) as u64) {
                for frame in first..end {
                    frames.buddy.dealloc(frame, 1);
                }
                return Err(io_error(error));
            }
            frames.file_frames = end;
        }
        for frame in first..end {
            frames.set_allocated(frame, true);
        }
        frames.in_use += count;
        Ok(first * PAGE_SIZE)
    }

    fn frame_dealloc(&self, paddr: PhysAddr) -> Result<(), HalError> {
        check_page_aligned(paddr)?;
        let frame = paddr / PAGE_SIZE;
        let mut frames = self.frames();
        if !frames.is_allocated(frame) {
            return Err(HalError::NotAllocated);
        }
        // Zeroed before it can be handed out again: frames never carry data between owners.
        self.punch_out(frame)?;
        frames.set_allocated(frame, false);
        frames.buddy.dealloc(frame, 1);
        frames.in_use -= 1;
        Ok(())
    }

    fn frames_in_use(&self) -> usize {
        self.frames().in_use
    }

    fn read(&self, paddr: PhysAddr, buf: &mut [u8]) -> Result<(), HalError> {
        self.check_allocated(paddr, buf.len())?;
        self.file.read_exact_at(buf, paddr as u64).map_err(io_error)
    }

    fn write(&self, paddr: PhysAddr, buf: &[u8]) -> Result<(), HalError> {
        self.check_allocated(paddr, buf.len())?;
        self.file.write_all_at(buf, paddr as u64).map_err(io_error)
    }

    fn zero(&self, paddr: PhysAddr, len: usize) -> Result<(), HalError> {
        self.check_allocated(paddr, len)?;
        let zeros = [0u8; PAGE_SIZE];
        let mut done = 0;
        while done < len {
            let chunk = (len - done).min(PAGE_SIZE);
            self.file
                .write_all_at(&zeros[..chunk], (paddr + done) as u64)
                .map_err(io_error)?;
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
            self.file
                .read_exact_at(part, (src + done) as u64)
                .map_err(io_error)?;
            self.file
                .write_all_at(part, (dst + done) as u64)
                .map_err(io_error)?;
            done += chunk;
        }
        Ok(())
    }

    fn new_page_table(self: Arc<Self>) -> Result<Box<dyn PageTable>, HalError> {
        Ok(Box::new(HostPageTable::new(self)?))
    }
}

impl Drop for HostPhysicalMemory {
    fn drop(&mut self) {
        if let Err(error) = fs::remove_file(&self.path) {
            if error.kind() != io::ErrorKind::NotFound {
                log::warn!("removing {}: {error}", self.path.display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backing_file_lives_in_dev_shm_and_is_removed_on_drop() {
        let memory = HostPhysicalMemory::new(8).unwrap();
        let path = memory.path().to_path_buf();
        assert!(path.starts_with("/dev/shm"));
        assert_eq!(fs::metadata(&path).unwrap().len(), 0);
        let paddr = memory.frame_alloc_contiguous(2, 0).unwrap();
        // Sized on demand: the file covers the frames handed out, and no more.
        assert_eq!(
            fs::metadata(&path).unwrap().len() as usize,
            paddr + 2 * PAGE_SIZE
        );
        drop(memory);
        assert!(!path.exists());
    }

    #[test]
    fn frames_run_out_and_come_back() {
        let memory = HostPhysicalMemory::new(4).unwrap();
        let frames: Vec<_> = (0..4)
            .map(|_| memory.frame_alloc_contiguous(1, 0).unwrap())
            .collect();
        assert_eq!(
            memory.frame_alloc_contiguous(1, 0),
            Err(HalError::OutOfFrames)
        );
        memory.frame_dealloc(frames[2]).unwrap();
        assert_eq!(memory.frame_alloc_contiguous(1, 0), Ok(frames[2]));
        assert_eq!(memory.frames_in_use(), 4);
    }

    #[test]
    fn contiguous_runs_are_aligned_and_their_tail_stays_free() {
        let memory = HostPhysicalMemory::new(16).unwrap();
        let run = memory.frame_alloc_contiguous(3, 3).unwrap();
        assert_eq!(run % (8 * PAGE_SIZE), 0);
        assert_eq!(memory.frames_in_use(), 3);
        // 13 frames are left although the buddy block of the run was 4 frames.
        for _ in 0..13 {
            memory.frame_alloc_contiguous(1, 0).unwrap();
        }
        assert_eq!(memory.frames_in_use(), 16);
    }

    #[test]
    fn bad_frees_are_refused() {
        let memory = HostPhysicalMemory::new(4).unwrap();
        let paddr = memory.frame_alloc_contiguous(1, 0).unwrap();
        assert_eq!(memory.frame_dealloc(paddr + 1), Err(HalError::Unaligned));
        assert_eq!(
            memory.frame_dealloc(paddr + PAGE_SIZE),
            Err(HalError::NotAllocated)
        );
        memory.frame_dealloc(paddr).unwrap();
        assert_eq!(memory.frame_dealloc(paddr), Err(HalError::NotAllocated));
        assert_eq!(memory.frame_dealloc(1 << 40), Err(HalError::NotAllocated));
        assert_eq!(
            memory.frame_alloc_contiguous(0, 0),
            Err(HalError::OutOfFrames)
        );
        assert_eq!(
            memory.frame_alloc_contiguous(1, 99),
            Err(HalError::OutOfFrames)
        );
    }

    #[test]
    fn pmem_reads_writes_zeroes_and_copies_bytes() {
        let memory = HostPhysicalMemory::new(4).unwrap();
        let run = memory.frame_alloc_contiguous(2, 0).unwrap();
        let other = memory.frame_alloc_contiguous(2, 0).unwrap();
        let pattern: Vec<u8> = (0..2 * PAGE_SIZE).map(|i| (i % 251) as u8).collect();
        memory.write(run, &pattern).unwrap();
        memory.copy(other, run, 2 * PAGE_SIZE).unwrap();
        let mut back = vec![0; 2 * PAGE_SIZE];
        memory.read(other, &mut back).unwrap();
        assert_eq!(back, pattern);

        memory.zero(other + 100, PAGE_SIZE).unwrap();
        memory.read(other, &mut back).unwrap();
        assert!(back[100..100 + PAGE_SIZE].iter().all(|&b| b == 0));
        assert_eq!(back[99], pattern[99]);
        assert_eq!(back[100 + PAGE_SIZE], pattern[100 + PAGE_SIZE]);
        assert_eq!(memory.copy(run + 8, run, 64), Err(HalError::OutOfRange));
    }

    #[test]
    fn pmem_outside_allocated_frames_is_refused() {
        let memory = HostPhysicalMemory::new(4).unwrap();
        let paddr = memory.frame_alloc_contiguous(1, 0).unwrap();
        let mut buf = [0; 8];
        assert_eq!(
            memory.read(paddr + PAGE_SIZE - 4, &mut buf),
            Err(HalError::NotAllocated)
        );
        assert_eq!(
            memory.write(usize::MAX - 2, &buf),
            Err(HalError::NotAllocated)
        );
        assert_eq!(memory.read(paddr + PAGE_SIZE - 8, &mut buf), Ok(()));
    }

    #[test]
    fn a_freed_frame_reads_as_zero_when_handed_out_again() {
        let memory = HostPhysicalMemory::new(1).unwrap();
        let paddr = memory.frame_alloc_contiguous(1, 0).unwrap();
        memory.write(paddr, &[0xaa; PAGE_SIZE]).unwrap();
        memory.frame_dealloc(paddr).unwrap();
        let again = memory.frame_alloc_contiguous(1, 0).unwrap();
        assert_eq!(again, paddr);
        let mut back = [0xffu8; PAGE_SIZE];
        memory.read(again, &mut back).unwrap();
        assert!(back.iter().all(|&b| b == 0));
    }

    #[test]
    fn two_memories_never_share_frames() {
        let first = HostPhysicalMemory::new(2).unwrap();
        let second = HostPhysicalMemory::new(2).unwrap();
        let a = first.frame_alloc_contiguous(1, 0).unwrap();
        let b = second.frame_alloc_contiguous(1, 0).unwrap();
        first.write(a, b"first").unwrap();
        second.write(b, b"secnd").unwrap();
        let mut back = [0; 5];
        first.read(a, &mut back).unwrap();
        assert_eq!(&back, b"first");
        assert_ne!(first.path(), second.path());
    }
}
