//! [`Listing`]: a snapshot of a directory's entries, as [`INode::list`](crate::INode::list)
//! takes it: `.` and `..` first, then the entries in the order storage gives them.
//!
//! The entries are kept as the `linux_dirent64` records `getdents64` returns, back to back in
//! one buffer. Backends append the records Linux fills straight to that buffer
//! ([`Listing::append_dirents64`]), where most stay as they are; `getdents64` copies a run of
//! them out as they are ([`Listing::dirents64`]); other readers borrow entries
//! ([`Listing::entries_from`]). A listing costs a few allocations however many entries it
//! holds, and its entries are neither copied nor converted one by one.
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
//! // The three records, of 24 bytes each, fit in 72 bytes; 47 bytes hold one.
//! assert_eq!(listing.dirents64(0, 4096).0.len(), 72);
//! assert_eq!(listing.dirents64(1, 47).1, 1);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), kernel_hostfs::FsError>(())
//! ```

use alloc::vec::Vec;

use crate::error::{FsError, FsResult};
use crate::metadata::{DirEntryRef, FileType};

/// Where a `linux_dirent64` record's fields are: `d_ino` (8 bytes), `d_off` (8), `d_reclen`
/// (2), `d_type` (1), then the name, its NUL and zeros up to a multiple of 8 bytes.
const D_INO: usize = 0;
const D_OFF: usize = 8;
const D_RECLEN: usize = 16;
const D_TYPE: usize = 18;
const D_NAME: usize = 19;

/// The shortest record: a name of one byte.
const MIN_RECORD: usize = (D_NAME + 2).next_multiple_of(8);

/// The room a listing first makes for records and for their ends, each one kernel allocation
/// (4 KiB and 1 KiB): a page of records (what the kernel backend lists at a time) with the
/// dots, 128 entries with names of up to 12 bytes, so most directories are listed without
/// growing either.
const FIRST_RECORD_BYTES: usize = 4096;
const FIRST_RECORDS: usize = 256;

/// A directory's entries at one moment: `.` (index 0), `..` (index 1), then the entries in
/// storage order, each as the `linux_dirent64` record `getdents64` returns for it, whose
/// `d_off` is the index after it.
#[derive(Debug)]
pub struct Listing {
    /// The records, back to back. Names are UTF-8 text: records whose names are not are
    /// rewritten as they are added.
    records: Vec<u8>,
    /// Where each record ends in `records` (and the next starts).
    ends: Vec<u32>,
    /// The inode number the filesystem listed for `.`, if it listed one.
    listed_dot: Option<u64>,
}

/// One record of a run of `linux_dirent64` records.
struct Record<'a> {
    /// The whole record, padding included.
    bytes: &'a [u8],
    inode: u64,
    d_type: u8,
}

impl<'a> Record<'a> {
    /// The record at the start of `rest`: `EIO` if `rest` does not start with a whole one
    /// (whose last byte is its name's NUL or padding).
    fn at(rest: &'a [u8]) -> FsResult<Self> {
        let field = |at: usize, len: usize| rest.get(at..at + len).ok_or(FsError::Io);
        let inode = u64::from_le_bytes(field(D_INO, 8)?.try_into().map_err(|_| FsError::Io)?);
        let reclen = u16::from_le_bytes(field(D_RECLEN, 2)?.try_into().map_err(|_| FsError::Io)?);
        let d_type = *rest.get(D_TYPE).ok_or(FsError::Io)?;
        let bytes = rest
            .get(..usize::from(reclen))
            .filter(|bytes| bytes.len() >= MIN_RECORD && bytes.last() == Some(&0))
            .ok_or(FsError::Io)?;
        Ok(Self {
            bytes,
            inode,
            d_type,
        })
    }

    /// The name: up to the first NUL.
    fn name(&self) -> &'a [u8] {
        let padded = self.bytes.get(D_NAME..).unwrap_or_default();
        let len = padded
            .iter()
            .position(|&byte| byte == 0)
            .unwrap_or(padded.len());
        padded.get(..len).unwrap_or_default()
    }

    fn kind(&self) -> Kind {
        let padded_name = self.bytes.get(D_NAME..).unwrap_or_default();
        match padded_name {
            [b'.', 0, ..] => Kind::Dot,
            [b'.', b'.', 0, ..] => Kind::DotDot,
            _ if FileType::from_dirent_type(self.d_type).is_some() && padded_name.is_ascii() => {
                Kind::Plain
            }
            _ => Kind::Other,
        }
    }
}

/// What [`Listing::append_dirents64`] does with a record.
enum Kind {
    /// Kept as it is: its type is known and its name ASCII.
    Plain,
    /// `.`: its inode number is the listing's `.`'s.
    Dot,
    /// `..`: left out.
    DotDot,
    /// Anything else: an unknown type, a name to convert.
    Other,
}

impl Listing {
    /// An empty listing, which gets its `.` and `..` from the records appended or from
    /// [`set_dots`](Self::set_dots).
    pub(crate) fn new() -> FsResult<Self> {
        let mut listing = Self {
            records: Vec::new(),
            ends: Vec::new(),
            listed_dot: None,
        };
        listing.reserve(FIRST_RECORD_BYTES, FIRST_RECORDS)?;
        Ok(listing)
    }

    /// A listing made by a filesystem that has no records to append: `.` and `..` with
    /// inode numbers `dot` and `dot_dot`, then the entries [`push`](Self::push) adds.
    pub fn with_dots(dot: u64, dot_dot: u64) -> FsResult<Self> {
        let mut listing = Self::new()?;
        listing.set_dots(dot, dot_dot)?;
        Ok(listing)
    }

    /// Adds the entry `name` (neither `.` nor `..`), inode `inode`, of type `type_`, after
    /// the others.
    pub fn push(&mut self, name: &str, inode: u64, type_: FileType) -> FsResult<()> {
        self.push_record(name.as_bytes(), inode, type_)
    }

    /// The inode number the filesystem listed for `.`, if the records appended held one.
    pub(crate) fn listed_dot(&self) -> Option<u64> {
        self.listed_dot
    }

    /// Sets the inode numbers of `.` and `..`.
    pub(crate) fn set_dots(&mut self, dot: u64, dot_dot: u64) -> FsResult<()> {
        self.place_dots()?;
        for (index, inode) in [(0, dot), (1, dot_dot)] {
            let at = self.start(index) + D_INO;
            if let Some(field) = self.records.get_mut(at..at + 8) {
                field.copy_from_slice(&inode.to_le_bytes());
            }
        }
        Ok(())
    }

    /// Adds entries after the others: `fill` appends `linux_dirent64` records, as Linux's
    /// `getdents64` fills them, to the vector it is given (leaving what is there before),
    /// and they are added in their order, mostly where `fill` put them (their `d_off` is
    /// rewritten). `.` is not added but gives [`listed_dot`](Self::listed_dot); `..` is left
    /// out. An entry whose `d_type` is none this crate knows (`DT_UNKNOWN`: the filesystem
    /// does not say) gets the type `resolve` finds for its name, or is left out if `resolve`
    /// finds none (it was removed meanwhile). A name that is not UTF-8 gets U+FFFD in place of
    /// each bad sequence, as `String::from_utf8_lossy`. Returns what `fill` returns; `EIO` if
    /// it did not append whole records, `ENOMEM` if they cannot be stored. On an error the
    /// entries added before stay and the others are dropped.
    pub fn append_dirents64<T>(
        &mut self,
        fill: impl FnOnce(&mut Vec<u8>) -> FsResult<T>,
        mut resolve: impl FnMut(&[u8]) -> FsResult<Option<FileType>>,
    ) -> FsResult<T> {
        let settled = self.records.len();
        let result = match fill(&mut self.records) {
            Ok(filled) if self.records.len() >= settled => {
                self.settle(settled, &mut resolve).map(|()| filled)
            }
            Ok(_) => Err(FsError::Io),
            Err(error) => Err(error),
        };
        if result.is_err() {
            let settled = self.start(self.ends.len());
            self.records.truncate(settled);
        }
        result
    }

    /// Adds the records from `from` to the end of `records` in place: each is kept where it
    /// is, or moved down over those left out before it. From the first that needs more (an
    /// unknown type, a name to convert), the rest are taken out and added one by one.
    fn settle(
        &mut self,
        from: usize,
        resolve: &mut impl FnMut(&[u8]) -> FsResult<Option<FileType>>,
    ) -> FsResult<()> {
        self.reserve(0, (self.records.len() - from) / MIN_RECORD)?;
        let mut read = from;
        if self.ends.is_empty() {
            read = self.adopt_dots(from)?;
        }
        let mut write = read;
        while let Some(rest) = self.records.get(read..).filter(|rest| !rest.is_empty()) {
            let record = Record::at(rest)?;
            let len = record.bytes.len();
            match record.kind() {
                Kind::Plain => {
                    if write != read {
                        self.records.copy_within(read..read + len, write);
                    }
                    self.seal(write, len)?;
                    write += len;
                }
                Kind::Dot => self.listed_dot = Some(record.inode),
                Kind::DotDot => {}
                Kind::Other => {
                    let mut rest = Vec::new();
                    rest.try_reserve_exact(self.records.len() - read)
                        .map_err(|_| FsError::NoMemory)?;
                    rest.extend_from_slice(self.records.get(read..).unwrap_or_default());
                    self.records.truncate(write);
                    return self.add_one_by_one(&rest, resolve);
                }
            }
            read += len;
        }
        self.records.truncate(write);
        Ok(())
    }

    /// Makes the first records, from `at` (the start), the listing's `.` and `..` if they are
    /// a `.` and a `..`, as most filesystems list them, or puts `.` and `..` records before
    /// them; returns where the records after the dots start.
    fn adopt_dots(&mut self, at: usize) -> FsResult<usize> {
        let dots = self.records.get(at..).and_then(|rest| {
            let dot = Record::at(rest).ok()?;
            let dot_dot = Record::at(rest.get(dot.bytes.len()..)?).ok()?;
            match (dot.kind(), dot_dot.kind()) {
                (Kind::Dot, Kind::DotDot) => {
                    Some((dot.bytes.len(), dot_dot.bytes.len(), dot.inode))
                }
                _ => None,
            }
        });
        let Some((dot_len, dot_dot_len, inode)) = dots else {
            self.place_dots()?;
            return Ok(at + 2 * MIN_RECORD);
        };
        self.listed_dot = Some(inode);
        for (at, len) in [(at, dot_len), (at + dot_len, dot_dot_len)] {
            if let Some(d_type) = self.records.get_mut(at + D_TYPE) {
                *d_type = FileType::Dir.dirent_type();
            }
            self.seal(at, len)?;
        }
        Ok(at + dot_len + dot_dot_len)
    }

    /// Puts `.` and `..` records, with inode number 0, at the start if the listing has none
    /// yet.
    fn place_dots(&mut self) -> FsResult<()> {
        if !self.ends.is_empty() {
            return Ok(());
        }
        let dots = 2 * MIN_RECORD;
        self.reserve(dots, 2)?;
        self.records.resize(self.records.len() + dots, 0);
        self.records.rotate_right(dots);
        for (at, name) in [(0, &b"."[..]), (MIN_RECORD, b"..")] {
            let mut record = [0u8; MIN_RECORD];
            record[..D_NAME].copy_from_slice(&head(0, MIN_RECORD as u16, FileType::Dir));
            for (byte, &name_byte) in record[D_NAME..].iter_mut().zip(name) {
                *byte = name_byte;
            }
            self.records
                .get_mut(at..at + MIN_RECORD)
                .ok_or(FsError::Io)?
                .copy_from_slice(&record);
            self.seal(at, MIN_RECORD)?;
        }
        Ok(())
    }

    /// Adds the records of `records` one by one, each as a new record.
    fn add_one_by_one(
        &mut self,
        mut records: &[u8],
        resolve: &mut impl FnMut(&[u8]) -> FsResult<Option<FileType>>,
    ) -> FsResult<()> {
        while !records.is_empty() {
            let record = Record::at(records)?;
            records = records.get(record.bytes.len()..).unwrap_or_default();
            match record.kind() {
                Kind::Dot => self.listed_dot = Some(record.inode),
                Kind::DotDot => {}
                Kind::Plain | Kind::Other => self.add_record(&record, resolve)?,
            }
        }
        Ok(())
    }

    /// Adds `record` (neither `.` nor `..`) as a new record: its type resolved if unknown,
    /// its name converted if not UTF-8.
    fn add_record(
        &mut self,
        record: &Record<'_>,
        resolve: &mut impl FnMut(&[u8]) -> FsResult<Option<FileType>>,
    ) -> FsResult<()> {
        let name = record.name();
        let type_ = match FileType::from_dirent_type(record.d_type) {
            Some(type_) => type_,
            None => match resolve(name)? {
                Some(type_) => type_,
                None => return Ok(()),
            },
        };
        if name.is_ascii() {
            return self.push_record(name, record.inode, type_);
        }
        let mut text = Vec::new();
        for chunk in name.utf8_chunks() {
            let bad: &[u8] = if chunk.invalid().is_empty() {
                b""
            } else {
                "\u{FFFD}".as_bytes()
            };
            text.try_reserve(chunk.valid().len() + bad.len())
                .map_err(|_| FsError::NoMemory)?;
            text.extend_from_slice(chunk.valid().as_bytes());
            text.extend_from_slice(bad);
        }
        self.push_record(&text, record.inode, type_)
    }

    /// Appends the record of `name` (UTF-8).
    fn push_record(&mut self, name: &[u8], inode: u64, type_: FileType) -> FsResult<()> {
        let len = (D_NAME + name.len() + 1).next_multiple_of(8);
        let reclen = u16::try_from(len).map_err(|_| FsError::NameTooLong)?;
        self.reserve(len, 1)?;
        let at = self.records.len();
        self.records.extend_from_slice(&head(inode, reclen, type_));
        self.records.extend_from_slice(name);
        // The NUL and the padding.
        self.records.resize(at + len, 0);
        self.seal(at, len)
    }

    /// Counts the record of `len` bytes at `at` (the end of those counted) as the next
    /// entry: sets its `d_off` to the index after its own and records where it ends.
    fn seal(&mut self, at: usize, len: usize) -> FsResult<()> {
        let next = self.ends.len() as u64 + 1;
        if let Some(field) = self.records.get_mut(at + D_OFF..at + D_RECLEN) {
            field.copy_from_slice(&next.to_le_bytes());
        }
        let end = u32::try_from(at + len).map_err(|_| FsError::NoMemory)?;
        if self.ends.len() == self.ends.capacity() {
            self.reserve(0, 1)?;
        }
        self.ends.push(end);
        Ok(())
    }

    /// Makes room for `bytes` more bytes of records and `records` more records, at least
    /// doubling what runs out so that a growing listing is copied a few times only.
    fn reserve(&mut self, bytes: usize, records: usize) -> FsResult<()> {
        if self.records.capacity() - self.records.len() < bytes {
            let more = self.records.capacity().max(bytes);
            self.records
                .try_reserve_exact(more)
                .map_err(|_| FsError::NoMemory)?;
        }
        if self.ends.capacity() - self.ends.len() < records {
            let more = self.ends.capacity().max(records);
            self.ends
                .try_reserve_exact(more)
                .map_err(|_| FsError::NoMemory)?;
        }
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

/// The fields of a record before its name (`d_off` 0, set when the record is counted).
fn head(inode: u64, reclen: u16, type_: FileType) -> [u8; D_NAME] {
    let mut head = [0u8; D_NAME];
    head[D_INO..D_OFF].copy_from_slice(&inode.to_le_bytes());
    head[D_RECLEN..D_TYPE].copy_from_slice(&reclen.to_le_bytes());
    head[D_TYPE] = type_.dirent_type();
    head
}

/// The entries of a [`Listing`] from one index on, from [`Listing::entries_from`].
pub struct Entries<'a> {
    /// The records still to read.
    rest: &'a [u8],
}

impl<'a> Iterator for Entries<'a> {
    type Item = DirEntryRef<'a>;

    fn next(&mut self) -> Option<DirEntryRef<'a>> {
        let record = Record::at(self.rest).ok()?;
        self.rest = self.rest.get(record.bytes.len()..).unwrap_or_default();
        Some(DirEntryRef {
            name: record.name(),
            inode: record.inode,
            type_: FileType::from_dirent_type(record.d_type)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use std::string::String;

    /// `linux_dirent64` records of `entries` (name, inode, `d_type`), as Linux fills them.
    fn dirents(entries: &[(&[u8], u64, u8)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (at, &(name, inode, d_type)) in entries.iter().enumerate() {
            let len = (D_NAME + name.len() + 1).next_multiple_of(8);
            out.extend_from_slice(&inode.to_le_bytes());
            out.extend_from_slice(&(1000 + at as u64).to_le_bytes());
            out.extend_from_slice(&(len as u16).to_le_bytes());
            out.push(d_type);
            out.extend_from_slice(name);
            out.resize(out.len() + len - D_NAME - name.len(), 0);
        }
        out
    }

    /// Appends `records` as a backend would.
    fn append(
        listing: &mut Listing,
        records: &[u8],
        resolve: impl FnMut(&[u8]) -> FsResult<Option<FileType>>,
    ) -> FsResult<()> {
        listing.append_dirents64(
            |out| {
                out.extend_from_slice(records);
                Ok(())
            },
            resolve,
        )
    }

    fn names(listing: &Listing) -> Vec<String> {
        listing
            .entries_from(0)
            .map(|entry| String::from_utf8(entry.name.to_vec()).unwrap())
            .collect()
    }

    fn no_unknown(_: &[u8]) -> FsResult<Option<FileType>> {
        panic!("no entry should need resolving")
    }

    /// Every record's `d_off`, which must be the index after it.
    fn assert_offsets(listing: &Listing) {
        let (all, count) = listing.dirents64(0, usize::MAX);
        let mut at = 0;
        for index in 0..count {
            let d_off = u64::from_le_bytes(all[at + D_OFF..at + D_RECLEN].try_into().unwrap());
            assert_eq!(d_off, index as u64 + 1);
            at += usize::from(u16::from_le_bytes([
                all[at + D_RECLEN],
                all[at + D_RECLEN + 1],
            ]));
        }
        assert_eq!(at, all.len());
    }

    #[test]
    fn dots_come_first_then_the_entries_in_their_order() {
        let mut listing = Listing::new().unwrap();
        let records = dirents(&[
            (b".", 7, 4),
            (b"..", 99, 4),
            (b"b", 10, 8),
            (b"a", 11, 4),
            (b"ccc", 12, 10),
        ]);
        append(&mut listing, &records, no_unknown).unwrap();
        assert_eq!(listing.listed_dot(), Some(7));
        listing.set_dots(7, 3).unwrap();
        assert_eq!(names(&listing), [".", "..", "b", "a", "ccc"]);
        let entries: Vec<(u64, FileType)> = listing
            .entries_from(0)
            .map(|entry| (entry.inode, entry.type_))
            .collect();
        use FileType::{Dir, File, SymLink};
        assert_eq!(
            entries,
            [(7, Dir), (3, Dir), (10, File), (11, Dir), (12, SymLink)]
        );
        assert_eq!(listing.get(5), None);
        assert_eq!(listing.get(usize::MAX), None);
        for from in 0..6 {
            let rest: Vec<&[u8]> = listing.entries_from(from).map(|e| e.name).collect();
            let all: [&[u8]; 5] = [b".", b"..", b"b", b"a", b"ccc"];
            assert_eq!(rest, all[from.min(5)..], "from {from}");
        }
        assert_offsets(&listing);
    }

    #[test]
    fn dots_listed_elsewhere_or_not_at_all_are_put_first() {
        // `..` before `.`, both after an entry, over two runs.
        let mut listing = Listing::new().unwrap();
        append(
            &mut listing,
            &dirents(&[(b"a", 10, 8), (b"..", 99, 4)]),
            no_unknown,
        )
        .unwrap();
        append(
            &mut listing,
            &dirents(&[(b".", 7, 0), (b"b", 11, 8)]),
            no_unknown,
        )
        .unwrap();
        assert_eq!(listing.listed_dot(), Some(7));
        listing.set_dots(7, 3).unwrap();
        assert_eq!(names(&listing), [".", "..", "a", "b"]);
        let inodes: Vec<u64> = listing.entries_from(0).map(|entry| entry.inode).collect();
        assert_eq!(inodes, [7, 3, 10, 11]);
        assert_eq!(listing.get(0).unwrap().type_, FileType::Dir);
        assert_offsets(&listing);
        // No dots, no entries.
        let mut listing = Listing::new().unwrap();
        append(&mut listing, &[], no_unknown).unwrap();
        assert_eq!(listing.listed_dot(), None);
        listing.set_dots(5, 5).unwrap();
        assert_eq!(names(&listing), [".", ".."]);
        assert_offsets(&listing);
        // A `.` whose type the filesystem does not give is still a directory.
        let mut listing = Listing::new().unwrap();
        append(
            &mut listing,
            &dirents(&[(b".", 7, 0), (b"..", 1, 0)]),
            no_unknown,
        )
        .unwrap();
        listing.set_dots(7, 1).unwrap();
        assert_eq!(listing.get(0).unwrap().type_, FileType::Dir);
        assert_eq!(listing.get(1).unwrap().type_, FileType::Dir);
    }

    #[test]
    fn records_are_getdents64_records_whose_offset_is_the_next_index() {
        let mut listing = Listing::new().unwrap();
        let entries: [(&[u8], u64, u8); 4] = [
            (b".", 1, 4),
            (b"..", 9, 4),
            (b"x", 5, 8),
            (b"longer-name", 6, 4),
        ];
        append(&mut listing, &dirents(&entries), no_unknown).unwrap();
        listing.set_dots(1, 2).unwrap();
        let (all, count) = listing.dirents64(0, 4096);
        assert_eq!(count, 4);
        let mut expected = dirents(&[
            (b".", 1, 4),
            (b"..", 2, 4),
            (b"x", 5, 8),
            (b"longer-name", 6, 4),
        ]);
        for (index, at) in [0, 24, 48, 72].into_iter().enumerate() {
            expected[at + D_OFF..at + D_RECLEN].copy_from_slice(&(index as u64 + 1).to_le_bytes());
        }
        assert_eq!(all, expected);
        // Whole records only, from any index.
        assert_eq!(listing.dirents64(0, 71), (&all[..48], 2));
        assert_eq!(listing.dirents64(2, 23), (&all[..0], 0));
        assert_eq!(listing.dirents64(2, 24), (&all[48..72], 1));
        assert_eq!(listing.dirents64(3, 4096), (&all[72..], 1));
        assert_eq!(listing.dirents64(4, 4096), (&all[..0], 0));
        assert_eq!(listing.dirents64(usize::MAX, 4096), (&all[..0], 0));
    }

    #[test]
    fn unknown_types_are_resolved_and_vanished_entries_left_out() {
        let mut listing = Listing::new().unwrap();
        let records = dirents(&[
            (b".", 1, 4),
            (b"..", 1, 4),
            (b"plain", 6, 8),
            (b"f", 2, 0),
            (b"gone", 3, 0),
            (b"d", 4, 4),
            (b"odd", 5, 14),
        ]);
        let mut asked = Vec::new();
        append(&mut listing, &records, |name| {
            asked.push(name.to_vec());
            Ok(match name {
                b"gone" => None,
                _ => Some(FileType::NamedPipe),
            })
        })
        .unwrap();
        assert_eq!(asked, [&b"f"[..], b"gone", b"odd"]);
        let entries: Vec<(u64, FileType)> = listing
            .entries_from(2)
            .map(|entry| (entry.inode, entry.type_))
            .collect();
        use FileType::{Dir, File, NamedPipe};
        assert_eq!(
            entries,
            [(6, File), (2, NamedPipe), (4, Dir), (5, NamedPipe)]
        );
        assert_offsets(&listing);
        // A failure keeps the entries added before it and drops the rest of the run.
        let failing = dirents(&[(b"kept", 8, 8), (b"x", 9, 0), (b"lost", 10, 8)]);
        assert_eq!(
            append(&mut listing, &failing, |_| Err(FsError::Io)),
            Err(FsError::Io)
        );
        let names = names(&listing);
        assert_eq!(names[names.len() - 2..], ["odd", "kept"]);
        assert_offsets(&listing);
    }

    #[test]
    fn names_that_are_not_utf8_are_listed_lossily() {
        let mut listing = Listing::new().unwrap();
        let records = dirents(&[
            (b".", 1, 4),
            (b"..", 1, 4),
            (b"ok\xffx\xe2\x82", 2, 8),
            ("é".as_bytes(), 3, 8),
            (b"z", 4, 8),
            (b"later-byte-\xe9", 5, 8),
            (b"y", 6, 8),
        ]);
        append(&mut listing, &records, no_unknown).unwrap();
        assert_eq!(
            names(&listing),
            vec![
                ".",
                "..",
                "ok\u{FFFD}x\u{FFFD}",
                "é",
                "z",
                "later-byte-\u{FFFD}",
                "y"
            ]
        );
        let owned = listing.get(2).unwrap().to_entry().unwrap();
        assert_eq!(owned.name, "ok\u{FFFD}x\u{FFFD}");
        assert_eq!(owned.inode, 2);
        assert_offsets(&listing);
    }

    #[test]
    fn records_of_odd_lengths_are_kept_whole() {
        // A record Linux would pad to 32 bytes, padded to 28 only.
        let mut records = dirents(&[(b".", 1, 4), (b"..", 1, 4), (b"a-name", 2, 8)]);
        records.truncate(48 + 28);
        records[48 + D_RECLEN] = 28;
        records.extend_from_slice(&dirents(&[(b"b", 3, 8)]));
        let mut listing = Listing::new().unwrap();
        append(&mut listing, &records, no_unknown).unwrap();
        assert_eq!(names(&listing), [".", "..", "a-name", "b"]);
        assert_offsets(&listing);
    }

    #[test]
    fn records_that_are_not_whole_are_refused() {
        let records = dirents(&[(b".", 1, 4), (b"..", 1, 4), (b"a", 2, 8), (b"b", 3, 8)]);
        let mut truncated = Listing::new().unwrap();
        assert_eq!(
            append(&mut truncated, &records[..80], no_unknown),
            Err(FsError::Io)
        );
        let mut short = records.clone();
        short[48 + D_RECLEN] = 8;
        let mut unterminated = records.clone();
        unterminated[48 + D_NAME..72].fill(b'x');
        for records in [short, unterminated] {
            let mut listing = Listing::new().unwrap();
            assert_eq!(append(&mut listing, &records, no_unknown), Err(FsError::Io));
            listing.set_dots(1, 1).unwrap();
            assert_eq!(names(&listing), [".", ".."]);
        }
        // A backend that takes away what was there is refused.
        let mut listing = Listing::new().unwrap();
        append(&mut listing, &records, no_unknown).unwrap();
        let taking = listing.append_dirents64(
            |out| {
                out.clear();
                Ok(())
            },
            no_unknown,
        );
        assert_eq!(taking, Err(FsError::Io));
    }

    #[test]
    fn listings_grow_past_their_first_room() {
        let mut listing = Listing::new().unwrap();
        let names: Vec<String> = (0..3 * FIRST_RECORDS)
            .map(|i| std::format!("{i:0>40}"))
            .collect();
        for chunk in names.chunks(50) {
            let entries: Vec<(&[u8], u64, u8)> = chunk
                .iter()
                .map(|name| (name.as_bytes(), name.parse().unwrap(), 8))
                .collect();
            append(&mut listing, &dirents(&entries), no_unknown).unwrap();
        }
        listing.set_dots(1, 1).unwrap();
        for (i, name) in names.iter().enumerate() {
            let entry = listing.get(i + 2).unwrap();
            assert_eq!((entry.name, entry.inode), (name.as_bytes(), i as u64));
        }
        assert_eq!(listing.get(names.len() + 2), None);
        assert_offsets(&listing);
    }
}
