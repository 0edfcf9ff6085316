//! A container's physical memory on the host: a tmpfs file under `/dev/shm`.

use super::{io_error, HostMmu};
use crate::file_backed::{BackingFile, FileMemory, FilePageTable};
use crate::surface::{HalError, PageTable, PAGE_SIZE};
use alloc::{boxed::Box, format, sync::Arc};
use core::sync::atomic::{AtomicUsize, Ordering};
use std::{
    fs::{self, File, OpenOptions},
    io,
    os::{
        fd::AsRawFd,
        unix::fs::{FileExt, OpenOptionsExt},
    },
    path::{Path, PathBuf},
};

/// Numbers the files of one test process apart.
static NEXT_FILE_NUMBER: AtomicUsize = AtomicUsize::new(0);

/// A container's physical memory on the host.
pub type HostPhysicalMemory = FileMemory<HostFile>;

/// The backing file of a host physical memory: a sparse tmpfs file, removed on drop.
pub struct HostFile {
    file: File,
    path: PathBuf,
}

impl HostFile {
    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open file, which page tables map.
    pub(super) fn as_file(&self) -> &File {
        &self.file
    }
}

impl FileMemory<HostFile> {
    /// Creates the backing file of a physical memory of at most `max_frames` frames.
    pub fn new(max_frames: usize) -> Result<Self, HalError> {
        // Every frame's offset must fit the file's offsets.
        let len = max_frames
            .checked_mul(PAGE_SIZE)
            .filter(|&bytes| libc::off_t::try_from(bytes).is_ok())
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
        let file = HostFile { file, path };
        // Sparse: only written frames take memory.
        file.file.set_len(len as u64).map_err(io_error)?;
        Self::with_file(file, max_frames)
    }

    /// Where the backing file is.
    pub fn path(&self) -> &Path {
        self.file().path()
    }
}

impl BackingFile for HostFile {
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), HalError> {
        self.file.read_exact_at(buf, offset).map_err(io_error)
    }

    fn write_all_at(&self, offset: u64, buf: &[u8]) -> Result<(), HalError> {
        self.file.write_all_at(buf, offset).map_err(io_error)
    }

    fn punch(&self, offset: u64, len: u64) -> Result<(), HalError> {
        let start = libc::off_t::try_from(offset).map_err(|_| HalError::OutOfRange)?;
        let count = libc::off_t::try_from(len).map_err(|_| HalError::OutOfRange)?;
        // SAFETY: fallocate only changes the contents of our own file; it touches no memory of
        // this process.
        let status = unsafe {
            libc::fallocate(
                self.file.as_raw_fd(),
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                start,
                count,
            )
        };
        if status == 0 {
            return Ok(());
        }
        // A file system without hole punching still gets the bytes zeroed.
        let zeros = [0u8; PAGE_SIZE];
        let mut done = 0;
        while done < len {
            let chunk = (len - done).min(PAGE_SIZE as u64);
            self.file
                .write_all_at(&zeros[..chunk as usize], offset + done)
                .map_err(io_error)?;
            done += chunk;
        }
        Ok(())
    }

    fn new_page_table(memory: Arc<FileMemory<Self>>) -> Result<Box<dyn PageTable>, HalError> {
        Ok(Box::new(FilePageTable::with_mmu(
            memory,
            HostMmu::reserve()?,
        )))
    }
}

impl Drop for HostFile {
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
    use crate::surface::{HalError, PhysicalMemory};
    use alloc::{vec, vec::Vec};

    #[test]
    fn the_backing_file_lives_in_dev_shm_and_is_removed_on_drop() {
        let memory = HostPhysicalMemory::new(8).unwrap();
        let path = memory.path().to_path_buf();
        assert!(path.starts_with("/dev/shm"));
        // Sized for every frame but sparse: nothing is allocated before a frame is written.
        assert_eq!(fs::metadata(&path).unwrap().len() as usize, 8 * PAGE_SIZE);
        let paddr = memory.frame_alloc_contiguous(2, 0).unwrap();
        memory.write(paddr, &[1; PAGE_SIZE]).unwrap();
        assert!(std::os::unix::fs::MetadataExt::blocks(&fs::metadata(&path).unwrap()) <= 16);
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
    fn the_whole_memory_is_one_run() {
        let memory = HostPhysicalMemory::new(100).unwrap();
        assert_eq!(memory.frame_alloc_contiguous(64, 6), Ok(0));
        assert_eq!(memory.frame_alloc_contiguous(32, 0), Ok(64 * PAGE_SIZE));
        assert_eq!(memory.frame_alloc_contiguous(4, 0), Ok(96 * PAGE_SIZE));
        assert_eq!(memory.frames_in_use(), 100);
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
