//! What `stat` reports about a file: [`Metadata`], [`FileType`], [`Timespec`], plus the
//! [`DirEntry`] and [`DirEntryRef`] a directory listing yields and the [`FsInfo`] `statfs` reports.
//!
//! ```
//! use kernel_hostfs::FileType;
//!
//! let st_mode = 0o100644; // S_IFREG | rw-r--r--
//! assert_eq!(FileType::from_mode(st_mode), Some(FileType::File));
//! assert_eq!(FileType::Dir.mode_bits() | 0o755, 0o040755);
//! ```

use alloc::string::String;

use crate::error::{FsError, FsResult};

/// The kind of a filesystem object, as encoded in the `S_IFMT` bits of `st_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileType {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    SymLink,
    /// A character device node.
    CharDevice,
    /// A block device node.
    BlockDevice,
    /// A FIFO (named pipe).
    NamedPipe,
    /// A Unix domain socket bound in the filesystem.
    Socket,
}

/// Mask of the file-type bits of `st_mode`.
pub const S_IFMT: u32 = 0o170_000;

/// Mask of the permission bits of `st_mode`, including set-user-ID, set-group-ID and sticky.
pub const PERMISSION_BITS: u16 = 0o7777;

impl FileType {
    /// The `S_IF*` bits of this type.
    pub const fn mode_bits(self) -> u32 {
        match self {
            Self::Socket => 0o140_000,
            Self::SymLink => 0o120_000,
            Self::File => 0o100_000,
            Self::BlockDevice => 0o060_000,
            Self::Dir => 0o040_000,
            Self::CharDevice => 0o020_000,
            Self::NamedPipe => 0o010_000,
        }
    }

    /// The type encoded in a full `st_mode`, or `None` for bits Linux does not define.
    pub const fn from_mode(mode: u32) -> Option<Self> {
        match mode & S_IFMT {
            0o140_000 => Some(Self::Socket),
            0o120_000 => Some(Self::SymLink),
            0o100_000 => Some(Self::File),
            0o060_000 => Some(Self::BlockDevice),
            0o040_000 => Some(Self::Dir),
            0o020_000 => Some(Self::CharDevice),
            0o010_000 => Some(Self::NamedPipe),
            _ => None,
        }
    }

    /// The `d_type` value `getdents64` reports for this type (`DT_REG`, `DT_DIR`, …).
    pub const fn dirent_type(self) -> u8 {
        match self {
            Self::Socket => 12,
            Self::SymLink => 10,
            Self::File => 8,
            Self::BlockDevice => 6,
            Self::Dir => 4,
            Self::CharDevice => 2,
            Self::NamedPipe => 1,
        }
    }

    /// The type a `getdents64` `d_type` names, or `None` for `DT_UNKNOWN` and undefined values.
    pub const fn from_dirent_type(d_type: u8) -> Option<Self> {
        match d_type {
            12 => Some(Self::Socket),
            10 => Some(Self::SymLink),
            8 => Some(Self::File),
            6 => Some(Self::BlockDevice),
            4 => Some(Self::Dir),
            2 => Some(Self::CharDevice),
            1 => Some(Self::NamedPipe),
            _ => None,
        }
    }
}

/// A point in time as `struct timespec`: seconds and nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timespec {
    /// Whole seconds (negative before 1970).
    pub sec: i64,
    /// Nanoseconds within the second, `0..1_000_000_000`.
    pub nsec: i64,
}

/// Everything `stat` reports about a filesystem object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metadata {
    /// ID of the device holding the object (`st_dev`).
    pub dev: u64,
    /// Inode number (`st_ino`).
    pub inode: u64,
    /// Size in bytes: file length, or the target length of a symbolic link (`st_size`).
    pub size: u64,
    /// Preferred I/O block size (`st_blksize`).
    pub blk_size: u32,
    /// Allocated space in 512-byte units (`st_blocks`).
    pub blocks: u64,
    /// The object's type (the `S_IFMT` part of `st_mode`).
    pub type_: FileType,
    /// Permission bits including set-user-ID, set-group-ID and sticky (`st_mode & 0o7777`).
    pub mode: u16,
    /// Number of hard links (`st_nlink`).
    pub nlinks: u64,
    /// Owner's user ID (`st_uid`).
    pub uid: u32,
    /// Owner's group ID (`st_gid`).
    pub gid: u32,
    /// Device ID of a device node (`st_rdev`), 0 otherwise.
    pub rdev: u64,
    /// Last access (`st_atim`).
    pub atime: Timespec,
    /// Last modification of the content (`st_mtim`).
    pub mtime: Timespec,
    /// Last change of the inode (`st_ctim`).
    pub ctime: Timespec,
}

impl Metadata {
    /// The full `st_mode`: type bits and permission bits.
    pub const fn st_mode(&self) -> u32 {
        self.type_.mode_bits() | self.mode as u32
    }
}

/// One entry of a directory listing, as `getdents64` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The entry's name within its directory.
    pub name: String,
    /// The inode number of the object it names (`d_ino`).
    pub inode: u64,
    /// The type of the object it names (`d_type`).
    pub type_: FileType,
}

/// One entry of a directory listing, borrowed from the [`Listing`](crate::Listing) that holds
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirEntryRef<'a> {
    /// The entry's name within its directory: UTF-8 text, kept as bytes so that it is written
    /// out without being validated again.
    pub name: &'a [u8],
    /// The inode number of the object it names (`d_ino`).
    pub inode: u64,
    /// The type of the object it names (`d_type`).
    pub type_: FileType,
}

impl DirEntryRef<'_> {
    /// The entry with its own copy of the name: `ENOMEM` if that cannot be allocated, `EIO`
    /// if the name is not UTF-8 (a [`Listing`](crate::Listing)'s always are).
    pub fn to_entry(&self) -> FsResult<DirEntry> {
        let text = core::str::from_utf8(self.name).map_err(|_| FsError::Io)?;
        let mut name = String::new();
        name.try_reserve_exact(text.len())
            .map_err(|_| FsError::NoMemory)?;
        name.push_str(text);
        Ok(DirEntry {
            name,
            inode: self.inode,
            type_: self.type_,
        })
    }
}

/// What `statfs` reports about a filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsInfo {
    /// Filesystem type magic number (`f_type`).
    pub magic: u64,
    /// Optimal transfer block size (`f_bsize`).
    pub bsize: u64,
    /// Fragment size, the unit of the block counts (`f_frsize`).
    pub frsize: u64,
    /// Total blocks (`f_blocks`).
    pub blocks: u64,
    /// Free blocks (`f_bfree`).
    pub bfree: u64,
    /// Free blocks available to unprivileged users (`f_bavail`).
    pub bavail: u64,
    /// Total inodes (`f_files`).
    pub files: u64,
    /// Free inodes (`f_ffree`).
    pub ffree: u64,
    /// Longest file name (`f_namelen`).
    pub namemax: u64,
    /// Mount flags (`f_flags`: `ST_VALID`, `ST_RDONLY`, `ST_NOSUID`, `ST_RELATIME`, …).
    pub flags: u64,
}

impl FsInfo {
    /// What Linux's `simple_statfs` reports for a pseudo filesystem of type `magic` (pipefs,
    /// procfs…): 4 KiB blocks, none counted, names of up to 255 bytes, `ST_VALID`.
    pub const fn simple(magic: u64) -> Self {
        Self {
            magic,
            bsize: 4096,
            frsize: 4096,
            blocks: 0,
            bfree: 0,
            bavail: 0,
            files: 0,
            ffree: 0,
            namemax: 255,
            // `ST_VALID`: every kernel since 2.6.36 sets it.
            flags: 0x20,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [FileType; 7] = [
        FileType::File,
        FileType::Dir,
        FileType::SymLink,
        FileType::CharDevice,
        FileType::BlockDevice,
        FileType::NamedPipe,
        FileType::Socket,
    ];

    #[test]
    fn mode_bits_round_trip() {
        for type_ in ALL {
            assert_eq!(FileType::from_mode(type_.mode_bits() | 0o755), Some(type_));
        }
        assert_eq!(FileType::from_mode(0o644), None);
    }

    #[test]
    fn dirent_types_are_the_mode_type_shifted() {
        // <dirent.h> defines DT_* as IFTODT(mode) = (mode & S_IFMT) >> 12.
        for type_ in ALL {
            assert_eq!(u32::from(type_.dirent_type()), type_.mode_bits() >> 12);
        }
    }

    #[test]
    fn dirent_types_match_linux() {
        // DT_FIFO 1, DT_CHR 2, DT_DIR 4, DT_BLK 6, DT_REG 8, DT_LNK 10, DT_SOCK 12.
        let expected = [8, 4, 10, 2, 6, 1, 12];
        for (type_, d_type) in ALL.into_iter().zip(expected) {
            assert_eq!(type_.dirent_type(), d_type);
            assert_eq!(FileType::from_dirent_type(d_type), Some(type_));
        }
        assert_eq!(FileType::from_dirent_type(0), None); // DT_UNKNOWN
    }

    #[test]
    fn st_mode_combines_type_and_permissions() {
        let metadata = Metadata {
            dev: 0,
            inode: 0,
            size: 0,
            blk_size: 4096,
            blocks: 0,
            type_: FileType::Dir,
            mode: 0o1777,
            nlinks: 2,
            uid: 0,
            gid: 0,
            rdev: 0,
            atime: Timespec::default(),
            mtime: Timespec::default(),
            ctime: Timespec::default(),
        };
        assert_eq!(metadata.st_mode(), 0o041_777);
    }
}
