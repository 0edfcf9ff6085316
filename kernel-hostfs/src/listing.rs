//! [`Listing`]: a snapshot of a directory's entries, as [`INode::list`](crate::INode::list)
//! takes it: `.` and `..` first, then the entries in the order storage gives them.
//!
//! The entries are kept as the `linux_dirent64` records `getdents64` returns, back to back in
//! one buffer: a listing costs a few allocations however many entries it holds, entries are
//! read by reference, and `getdents64` copies a run of records out as they are
//! ([`Listing::dirents64`]).
//!
//! ```
//! use kernel_hostfs::{FileSystem, FileType, HostFs};
//!
//! # let dir = std::env::temp_dir().join(format!("kernel-hostfs-doc-listing-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let root = HostFs::new(&dir)?.root_inode();
//! root.create("a", FileType::File, 0o644)?;
//! let listing = root.list()?;
//! let names: Vec<&[u8]> = listing.entries_from(0).map(|entry| entry.name).collect();
//! assert_eq!(names, [&b"."[..], b"..", b"a"]);
//! assert_eq!(listing.get(2).map(|entry| entry.type_), Some(FileType::File));
//! assert_eq!(listing.get(3), None);
//! // The three records, of 24 bytes each, fit in 72 bytes.
//! assert_eq!(listing.dirents64(0, 72), (&listing.dirents64(0, 4096).0[..72], 3));
//! assert_eq!(listing.dirents64(1, 47).1, 1);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), kernel_hostfs::FsError>(())
//! ```

use alloc::vec::Vec;

use crate::backend::RawDirEntry;
use crate::error::{FsError, FsResult};
use crate::metadata::{DirEntryRef, FileType};

/// Where a `linux_dirent64` record's fields are: `d_ino` (8 bytes), `d_off` (8), `d_reclen`
/// (2), `d_type` (1), then the name, its NUL and zeros up to a multiple of 8 bytes.
const D_INO: usize = 0;
const D_OFF: usize = 8;
const D_RECLEN: usize = 16;
const D_TYPE: usize = 18;
const D_NAME: usize = 19;

/// The room a listing first makes for records and for their ends: enough for a directory of
/// 64 entries with names of up to 12 bytes, each in one kernel allocation (2 KiB and 256
/// bytes), so most directories are listed without growing either.
const FIRST_RECORD_BYTES: usize = 64 * 32;
const FIRST_RECORDS: usize = 64;

/// A directory's entries at one moment: `.` (index 0), `..` (index 1), then the entries in
/// storage order, each as the `linux_dirent64` record `getdents64` returns for it, whose
/// `d_off` is the index after it.
#[derive(Debug)]
pub struct Listing {
    /// The records, back to back. Names are UTF-8 text, which [`push`](Self::push) makes them.
    records: Vec<u8>,
    /// Where each record ends in `records` (and the next starts).
    ends: Vec<u32>,
}

impl Listing {
    /// A listing of `.` and `..` alone, both with inode number 0 until
    /// [`set_dots`](Self::set_dots); entries are [`push`](Self::push)ed after them.
    pub(crate) fn new() -> FsResult<Self> {
        let mut listing = Self {
            records: Vec::new(),
            ends: Vec::new(),
        };
        listing
            .records
            .try_reserve_exact(FIRST_RECORD_BYTES)
            .map_err(|_| FsError::NoMemory)?;
        listing
            .ends
            .try_reserve_exact(FIRST_RECORDS)
            .map_err(|_| FsError::NoMemory)?;
        listing.push_record(b".", 0, FileType::Dir)?;
        listing.push_record(b"..", 0, FileType::Dir)?;
        Ok(listing)
    }

    /// Sets the inode numbers of `.` and `..`.
    pub(crate) fn set_dots(&mut self, dot: u64, dot_dot: u64) {
        for (index, inode) in [(0, dot), (1, dot_dot)] {
            let at = self.start(index) + D_INO;
            if let Some(field) = self.records.get_mut(at..at + 8) {
                field.copy_from_slice(&inode.to_le_bytes());
            }
        }
    }

    /// Adds `entry` after the others. A name that is not UTF-8 gets U+FFFD in place of each
    /// bad sequence, as `String::from_utf8_lossy`. `ENOMEM` if it cannot be stored.
    pub(crate) fn push(&mut self, entry: RawDirEntry<'_>) -> FsResult<()> {
        // Most names are ASCII, which a word-at-a-time check finds faster than a UTF-8
        // validation.
        if entry.name.is_ascii() {
            return self.push_record(entry.name, entry.inode, entry.type_);
        }
        let mut name = Vec::new();
        for chunk in entry.name.utf8_chunks() {
            let bad: &[u8] = if chunk.invalid().is_empty() {
                b""
            } else {
                "\u{FFFD}".as_bytes()
            };
            name.try_reserve(chunk.valid().len() + bad.len())
                .map_err(|_| FsError::NoMemory)?;
            name.extend_from_slice(chunk.valid().as_bytes());
            name.extend_from_slice(bad);
        }
        self.push_record(&name, entry.inode, entry.type_)
    }

    /// Appends the record of `name` (UTF-8), doubling the room for records when it runs out.
    fn push_record(&mut self, name: &[u8], inode: u64, type_: FileType) -> FsResult<()> {
        let len = (D_NAME + name.len() + 1).next_multiple_of(8);
        let reclen = u16::try_from(len).map_err(|_| FsError::NameTooLong)?;
        let end = u32::try_from(self.records.len() + len).map_err(|_| FsError::NoMemory)?;
        if self.records.capacity() - self.records.len() < len {
            let more = self.records.capacity().max(len);
            self.records
                .try_reserve_exact(more)
                .map_err(|_| FsError::NoMemory)?;
        }
        if self.ends.len() == self.ends.capacity() {
            let more = self.ends.capacity().max(FIRST_RECORDS);
            self.ends
                .try_reserve_exact(more)
                .map_err(|_| FsError::NoMemory)?;
        }
        // `d_off`: the index after this record's.
        let next = self.ends.len() as u64 + 1;
        let mut head = [0u8; D_NAME];
        head[D_INO..D_OFF].copy_from_slice(&inode.to_le_bytes());
        head[D_OFF..D_RECLEN].copy_from_slice(&next.to_le_bytes());
        head[D_RECLEN..D_TYPE].copy_from_slice(&reclen.to_le_bytes());
        head[D_TYPE] = type_.dirent_type();
        self.records.extend_from_slice(&head);
        self.records.extend_from_slice(name);
        // The NUL and the padding.
        self.records.resize(end as usize, 0);
        self.ends.push(end);
        Ok(())
    }

    /// Where the record at `index` starts (the end of the records past the last).
    fn start(&self, index: usize) -> usize {
        match index.checked_sub(1) {
            None => 0,
            Some(previous) => self
                .ends
                .get(previous)
                .map_or(self.records.len(), |&end| end as usize),
        }
    }

    /// The entry at `index` (0 is `.`, 1 is `..`), or `None` past the last.
    pub fn get(&self, index: usize) -> Option<DirEntryRef<'_>> {
        self.entries_from(index).next()
    }

    /// The entries from `index` on (0 is `.`, 1 is `..`) to the last.
    pub fn entries_from(&self, index: usize) -> Entries<'_> {
        let rest = self.records.get(self.start(index)..).unwrap_or_default();
        Entries { rest }
    }

    /// The records from `index` on that fit whole in `max` bytes, and how many they are:
    /// what `getdents64` returns from position `index` with a buffer of `max` bytes.
    pub fn dirents64(&self, index: usize, max: usize) -> (&[u8], usize) {
        let start = self.start(index);
        let ends = self.ends.get(index..).unwrap_or_default();
        let count = ends.partition_point(|&end| end as usize - start <= max);
        let end = self.start(index + count);
        (self.records.get(start..end).unwrap_or_default(), count)
    }
}

/// The entries of a [`Listing`] from one index on, from [`Listing::entries_from`].
pub struct Entries<'a> {
    /// The records still to read.
    rest: &'a [u8],
}

impl<'a> Iterator for Entries<'a> {
    type Item = DirEntryRef<'a>;

    fn next(&mut self) -> Option<DirEntryRef<'a>> {
        let rest = self.rest;
        let field = |at: usize, len: usize| rest.get(at..at + len);
        let inode = u64::from_le_bytes(field(D_INO, 8)?.try_into().ok()?);
        let reclen = u16::from_le_bytes(field(D_RECLEN, 2)?.try_into().ok()?);
        let type_ = FileType::from_dirent_type(*rest.get(D_TYPE)?)?;
        let (record, after) = rest.split_at_checked(usize::from(reclen))?;
        // The name runs to the last byte that is not padding (names hold no NUL).
        let padded = record.get(D_NAME..)?;
        let name_len = padded.iter().rposition(|&byte| byte != 0)? + 1;
        self.rest = after;
        Some(DirEntryRef {
            name: padded.get(..name_len)?,
            inode,
            type_,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn raw(name: &[u8], inode: u64) -> RawDirEntry<'_> {
        RawDirEntry {
            name,
            inode,
            type_: FileType::File,
        }
    }

    fn names(listing: &Listing) -> Vec<&str> {
        listing
            .entries_from(0)
            .map(|entry| core::str::from_utf8(entry.name).unwrap())
            .collect()
    }

    fn listing(dot: u64, dot_dot: u64) -> Listing {
        let mut listing = Listing::new().unwrap();
        listing.set_dots(dot, dot_dot);
        listing
    }

    #[test]
    fn dots_come_first_then_the_entries_in_the_order_pushed() {
        let mut listing = listing(7, 3);
        listing.push(raw(b"b", 10)).unwrap();
        listing.push(raw(b"a", 11)).unwrap();
        listing.push(raw(b"ccc", 12)).unwrap();
        assert_eq!(names(&listing), [".", "..", "b", "a", "ccc"]);
        let inodes: Vec<u64> = (0..5).map(|i| listing.get(i).unwrap().inode).collect();
        assert_eq!(inodes, [7, 3, 10, 11, 12]);
        assert_eq!(listing.get(0).unwrap().type_, FileType::Dir);
        assert_eq!(listing.get(1).unwrap().type_, FileType::Dir);
        assert_eq!(listing.get(5), None);
        assert_eq!(listing.get(usize::MAX), None);
        for from in 0..6 {
            let rest: Vec<&[u8]> = listing.entries_from(from).map(|e| e.name).collect();
            let all: [&[u8]; 5] = [b".", b"..", b"b", b"a", b"ccc"];
            assert_eq!(rest, all[from.min(5)..], "from {from}");
        }
    }

    #[test]
    fn names_that_are_not_utf8_are_listed_lossily() {
        let mut listing = listing(1, 1);
        listing.push(raw(b"ok\xffx\xe2\x82", 2)).unwrap();
        listing.push(raw("é".as_bytes(), 3)).unwrap();
        assert_eq!(names(&listing), vec![".", "..", "ok\u{FFFD}x\u{FFFD}", "é"]);
        let owned = listing.get(2).unwrap().to_entry().unwrap();
        assert_eq!(owned.name, "ok\u{FFFD}x\u{FFFD}");
        assert_eq!(owned.inode, 2);
    }

    #[test]
    fn listings_grow_past_their_first_room() {
        let mut listing = listing(1, 1);
        let names: Vec<std::string::String> = (0..3 * FIRST_RECORDS)
            .map(|i| std::format!("{i:0>40}"))
            .collect();
        for (i, name) in names.iter().enumerate() {
            listing.push(raw(name.as_bytes(), i as u64)).unwrap();
        }
        for (i, name) in names.iter().enumerate() {
            let entry = listing.get(i + 2).unwrap();
            assert_eq!((entry.name, entry.inode), (name.as_bytes(), i as u64));
        }
        assert_eq!(listing.get(names.len() + 2), None);
    }

    #[test]
    fn an_empty_directory_lists_its_dots() {
        assert_eq!(names(&listing(1, 1)), [".", ".."]);
    }
}
