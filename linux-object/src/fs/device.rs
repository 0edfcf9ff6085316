//! The memory devices rVisor serves itself: `/dev/null`, `/dev/zero`, `/dev/full`,
//! `/dev/random` and `/dev/urandom` (character devices 1:3, 1:5, 1:7, 1:8 and 1:9). A
//! container's root holds device nodes as files on a `nodev` mount; opening one of these
//! numbers gives rVisor's own device instead of the host's, and every other device stays
//! refused.

use super::{FileLike, OpenFlags, SeekFrom};
use crate::error::{LxError, LxResult};
use alloc::sync::Arc;
use core::any::Any;
use kernel_hal_lkm::sync::Mutex;
use kernel_hostfs::{FileType, Metadata};

/// Which memory device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Reads end at once; writes vanish.
    Null,
    /// Reads give zeros; writes vanish.
    Zero,
    /// Reads give zeros; writes fail with `ENOSPC`.
    Full,
    /// Reads give random bytes; writes are accepted (and mixed in nowhere).
    Random,
}

/// An open memory device.
pub struct Device {
    kind: Kind,
    /// The node's metadata, for `fstat`.
    metadata: Metadata,
    flags: Mutex<OpenFlags>,
}

impl Device {
    /// The `dev_t` of `major:minor`, as `stat` reports it (Linux's `new_encode_dev`).
    pub const fn dev_t(major: u32, minor: u32) -> u64 {
        let (major, minor) = (major as u64, minor as u64);
        (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
    }

    /// Whether `metadata` is the node of `/dev/tty` (5:0), the opener's controlling
    /// terminal, which the container gives (see `Container::terminal`).
    pub fn is_controlling_terminal(metadata: &Metadata) -> bool {
        metadata.type_ == FileType::CharDevice && metadata.rdev == Self::dev_t(5, 0)
    }

    /// Opens the device a node with `metadata` names, if it is a character device rVisor
    /// serves.
    pub fn open(metadata: &Metadata, flags: OpenFlags) -> Option<Arc<Self>> {
        if metadata.type_ != FileType::CharDevice {
            return None;
        }
        let kind = match metadata.rdev {
            rdev if rdev == Self::dev_t(1, 3) => Kind::Null,
            rdev if rdev == Self::dev_t(1, 5) => Kind::Zero,
            rdev if rdev == Self::dev_t(1, 7) => Kind::Full,
            rdev if rdev == Self::dev_t(1, 8) || rdev == Self::dev_t(1, 9) => Kind::Random,
            _ => return None,
        };
        Some(Arc::new(Self {
            kind,
            metadata: *metadata,
            flags: Mutex::new(flags - OpenFlags::CLOEXEC),
        }))
    }

    /// Whether rVisor serves the device a node with `metadata` names.
    pub fn is_served(metadata: &Metadata) -> bool {
        Self::open(metadata, OpenFlags::empty()).is_some()
    }

    fn fill(&self, buf: &mut [u8]) -> LxResult<usize> {
        match self.kind {
            Kind::Null => Ok(0),
            Kind::Zero | Kind::Full => {
                buf.fill(0);
                Ok(buf.len())
            }
            Kind::Random => {
                kernel_hal_lkm::platform()
                    .map_err(|_| LxError::EIO)?
                    .fill_random(buf);
                Ok(buf.len())
            }
        }
    }

    fn take(&self, buf: &[u8]) -> LxResult<usize> {
        match self.kind {
            Kind::Full => Err(LxError::ENOSPC),
            _ => Ok(buf.len()),
        }
    }
}

impl FileLike for Device {
    fn read(&self, buf: &mut [u8]) -> LxResult<usize> {
        self.flags().check_readable()?;
        self.fill(buf)
    }

    fn write(&self, buf: &[u8]) -> LxResult<usize> {
        self.flags().check_writable()?;
        self.take(buf)
    }

    fn read_at(&self, _offset: u64, buf: &mut [u8]) -> LxResult<usize> {
        self.read(buf)
    }

    fn write_at(&self, _offset: u64, buf: &[u8]) -> LxResult<usize> {
        self.write(buf)
    }

    /// These devices have no position: every seek lands at 0, as on Linux.
    fn seek(&self, _pos: SeekFrom) -> LxResult<u64> {
        Ok(0)
    }

    fn metadata(&self) -> LxResult<Metadata> {
        Ok(self.metadata)
    }

    fn flags(&self) -> OpenFlags {
        *self.flags.lock()
    }

    fn set_flags(&self, flags: OpenFlags) {
        OpenFlags::set_settable(&self.flags, flags);
    }

    /// Of Linux's memory devices only `/dev/random` (1:8) has a `poll` operation.
    fn pollable(&self) -> bool {
        self.metadata.rdev == Self::dev_t(1, 8)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(major: u32, minor: u32) -> Metadata {
        let never = kernel_hostfs::Timespec { sec: 0, nsec: 0 };
        Metadata {
            dev: 5,
            inode: 7,
            size: 0,
            blk_size: 4096,
            blocks: 0,
            type_: FileType::CharDevice,
            mode: 0o666,
            nlinks: 1,
            uid: 0,
            gid: 0,
            rdev: Device::dev_t(major, minor),
            atime: never,
            mtime: never,
            ctime: never,
        }
    }

    fn open(major: u32, minor: u32, flags: OpenFlags) -> Arc<Device> {
        Device::open(&node(major, minor), flags).unwrap()
    }

    #[test]
    fn only_the_memory_devices_are_served() {
        assert!(Device::is_served(&node(1, 3)));
        assert!(!Device::is_served(&node(1, 1)), "/dev/mem");
        assert!(!Device::is_served(&node(8, 0)), "a disk");
        assert!(!Device::is_served(&node(5, 0)), "/dev/tty");
        let block = Metadata {
            type_: FileType::BlockDevice,
            ..node(1, 3)
        };
        assert!(!Device::is_served(&block), "a block device numbered 1:3");
        assert_eq!(Device::dev_t(1, 3), 0x103);
        assert_eq!(Device::dev_t(259, 300), 0x11_032c);
    }

    #[test]
    fn each_memory_device_behaves_as_linux_s() {
        let mut buf = [9u8; 32];
        let null = open(1, 3, OpenFlags::RDWR);
        assert_eq!(null.read(&mut buf), Ok(0));
        assert_eq!(null.write(&buf), Ok(32));
        let full = open(1, 7, OpenFlags::RDWR);
        assert_eq!(full.read(&mut buf), Ok(32));
        assert_eq!(buf, [0; 32]);
        assert_eq!(full.write(b"x"), Err(LxError::ENOSPC));
        let random = open(1, 9, OpenFlags::empty());
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        assert_eq!(random.read(&mut a), Ok(32));
        assert_eq!(random.read(&mut b), Ok(32));
        assert_ne!(a, b, "two draws of 256 random bits differ");
        assert_eq!(random.write(b"x"), Err(LxError::EBADF), "opened read-only");
        assert_eq!(random.seek(SeekFrom::Start(100)), Ok(0));
    }
}
