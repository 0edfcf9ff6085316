//! Decoding of the `linux_dirent64` records `getdents64` fills a buffer with.
//!
//! Layout (see `getdents64(2)`): `d_ino: u64`, `d_off: i64`, `d_reclen: u16`, `d_type: u8`,
//! then the NUL-terminated name, the record padded to `d_reclen` bytes. Every field is read
//! with bounds checks: a malformed buffer ends the listing with `EIO`, it never panics.

use crate::error::{FsError, FsResult};

const INODE_AT: usize = 0;
const RECLEN_AT: usize = 16;
const TYPE_AT: usize = 18;
const NAME_AT: usize = 19;

/// One decoded record, borrowing its name from the buffer.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Dirent<'a> {
    pub(super) inode: u64,
    /// `d_type`; `DT_UNKNOWN` (0) when the filesystem does not say.
    pub(super) d_type: u8,
    pub(super) name: &'a [u8],
}

/// Iterator over the records of a filled `getdents64` buffer.
pub(super) struct Dirents<'a> {
    rest: &'a [u8],
}

impl<'a> Dirents<'a> {
    pub(super) fn new(filled: &'a [u8]) -> Self {
        Self { rest: filled }
    }

    fn decode(&mut self) -> Option<Dirent<'a>> {
        let inode = self.rest.get(INODE_AT..INODE_AT + 8)?;
        let reclen = self.rest.get(RECLEN_AT..RECLEN_AT + 2)?;
        let reclen = usize::from(u16::from_ne_bytes(reclen.try_into().ok()?));
        let d_type = *self.rest.get(TYPE_AT)?;
        let record = self.rest.get(..reclen)?;
        let padded_name = record.get(NAME_AT..)?;
        let name_len = padded_name.iter().position(|&byte| byte == 0)?;
        let name = padded_name.get(..name_len)?;
        self.rest = self.rest.get(reclen..)?;
        Some(Dirent {
            inode: u64::from_ne_bytes(inode.try_into().ok()?),
            d_type,
            name,
        })
    }
}

impl<'a> Iterator for Dirents<'a> {
    type Item = FsResult<Dirent<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let decoded = self.decode();
        if decoded.is_none() {
            // Stop here rather than misread whatever follows.
            self.rest = &[];
        }
        Some(decoded.ok_or(FsError::Io))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn record(inode: u64, d_type: u8, name: &[u8]) -> Vec<u8> {
        let reclen = (NAME_AT + name.len() + 1).next_multiple_of(8);
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&inode.to_ne_bytes());
        bytes.extend_from_slice(&0i64.to_ne_bytes());
        bytes.extend_from_slice(&u16::try_from(reclen).unwrap().to_ne_bytes());
        bytes.push(d_type);
        bytes.extend_from_slice(name);
        bytes.resize(reclen, 0);
        bytes
    }

    #[test]
    fn decodes_consecutive_records() {
        let mut buf = record(7, 8, b"file");
        buf.extend(record(9, 4, b"a-longer-directory-name"));
        let decoded: Vec<_> = Dirents::new(&buf).collect::<FsResult<_>>().unwrap();
        assert_eq!(
            decoded,
            [
                Dirent {
                    inode: 7,
                    d_type: 8,
                    name: b"file"
                },
                Dirent {
                    inode: 9,
                    d_type: 4,
                    name: b"a-longer-directory-name"
                },
            ]
        );
    }

    #[test]
    fn truncated_or_corrupt_buffers_end_with_eio() {
        let buf = record(7, 8, b"file");
        let truncated = &buf[..buf.len() - 1];
        let results: Vec<_> = Dirents::new(truncated).collect();
        assert_eq!(results, [Err(FsError::Io)]);

        let mut zero_reclen = buf.clone();
        zero_reclen[RECLEN_AT..RECLEN_AT + 2].copy_from_slice(&0u16.to_ne_bytes());
        assert_eq!(
            Dirents::new(&zero_reclen).collect::<Vec<_>>(),
            [Err(FsError::Io)]
        );

        let mut unterminated = buf;
        let len = unterminated.len();
        unterminated[NAME_AT..len].fill(b'x');
        assert_eq!(
            Dirents::new(&unterminated).collect::<Vec<_>>(),
            [Err(FsError::Io)]
        );
    }
}
