//! [`FsError`]: every way a filesystem operation can fail, as one enum that converts to and
//! from the Linux errno the syscall layer returns.
//!
//! Each variant's doc comment is its message ([`FsError::message`], `Display`), and the errno
//! it stands for is written next to it, so the table below is the only place to look.
//!
//! ```
//! use kernel_hostfs::{errno, FsError};
//!
//! assert_eq!(FsError::NotFound.errno(), errno::ENOENT);
//! assert_eq!(FsError::from_errno(errno::ELOOP), FsError::SymlinkLoop);
//! assert_eq!(FsError::NameTooLong.to_string(), "file name too long");
//! ```

use core::fmt;

/// Result of a filesystem operation.
pub type FsResult<T> = Result<T, FsError>;

/// Declares [`FsError`], the `errno` constants and the conversions from one table, so that a
/// variant, its message and its errno can never drift apart.
macro_rules! fs_errors {
    ($( #[doc = $message:literal] $variant:ident = $errno:ident($value:literal), )+) => {
        /// Why a filesystem operation failed; convertible to and from a Linux errno.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum FsError {
            $( #[doc = $message] $variant, )+
        }

        /// The Linux (x86-64, generic) errno numbers that [`FsError`] maps to.
        pub mod errno {
            $( #[doc = $message] pub const $errno: i32 = $value; )+
        }

        impl FsError {
            /// The positive Linux errno for this error (the syscall layer returns its negation).
            pub const fn errno(self) -> i32 {
                match self { $( Self::$variant => errno::$errno, )+ }
            }

            /// The error an errno stands for, if it is one a filesystem can report.
            pub const fn try_from_errno(value: i32) -> Option<Self> {
                match value {
                    $( errno::$errno => Some(Self::$variant), )+
                    _ => None,
                }
            }

            /// The human-readable message: the variant's doc comment.
            pub fn message(self) -> &'static str {
                match self { $( Self::$variant => $message.trim(), )+ }
            }
        }
    };
}

fs_errors! {
    /// operation not permitted
    NotPermitted = EPERM(1),
    /// no such file or directory
    NotFound = ENOENT(2),
    /// interrupted system call
    Interrupted = EINTR(4),
    /// input/output error
    Io = EIO(5),
    /// no such device or address
    NoDeviceOrAddress = ENXIO(6),
    /// argument list too long (an extended attribute larger than Linux allows)
    TooBig = E2BIG(7),
    /// bad file descriptor
    BadFileDescriptor = EBADF(9),
    /// resource temporarily unavailable
    WouldBlock = EAGAIN(11),
    /// cannot allocate memory
    NoMemory = ENOMEM(12),
    /// permission denied
    AccessDenied = EACCES(13),
    /// bad address
    BadAddress = EFAULT(14),
    /// device or resource busy
    Busy = EBUSY(16),
    /// file exists
    AlreadyExists = EEXIST(17),
    /// invalid cross-device link
    CrossDevice = EXDEV(18),
    /// not a directory
    NotDir = ENOTDIR(20),
    /// is a directory
    IsDir = EISDIR(21),
    /// invalid argument
    InvalidArgument = EINVAL(22),
    /// too many open files in system
    SystemFileTableFull = ENFILE(23),
    /// too many open files
    TooManyOpenFiles = EMFILE(24),
    /// text file busy
    TextFileBusy = ETXTBSY(26),
    /// file too large
    FileTooLarge = EFBIG(27),
    /// no space left on device
    NoSpace = ENOSPC(28),
    /// illegal seek
    IllegalSeek = ESPIPE(29),
    /// read-only file system
    ReadOnlyFs = EROFS(30),
    /// too many links
    TooManyLinks = EMLINK(31),
    /// numerical result out of range (a buffer too small for an extended attribute)
    OutOfRange = ERANGE(34),
    /// resource deadlock avoided (a record lock that would deadlock)
    Deadlock = EDEADLK(35),
    /// file name too long
    NameTooLong = ENAMETOOLONG(36),
    /// no locks available
    NoLocks = ENOLCK(37),
    /// directory not empty
    NotEmpty = ENOTEMPTY(39),
    /// too many levels of symbolic links
    SymlinkLoop = ELOOP(40),
    /// no data available (no such extended attribute)
    NoData = ENODATA(61),
    /// value too large for defined data type
    Overflow = EOVERFLOW(75),
    /// operation not supported
    NotSupported = EOPNOTSUPP(95),
    /// stale file handle
    Stale = ESTALE(116),
    /// disk quota exceeded
    QuotaExceeded = EDQUOT(122),
    /// interrupted wait, restarted or EINTR as the signal's handler says (ERESTARTSYS)
    Restart = ERESTARTSYS(512),
}

impl FsError {
    /// The error an errno from a backend stands for. An errno no filesystem operation should
    /// produce is logged and reported as [`FsError::Io`] rather than passed on unchecked.
    pub fn from_errno(value: i32) -> Self {
        Self::try_from_errno(value).unwrap_or_else(|| {
            log::warn!("kernel-hostfs: unexpected errno {value} reported as EIO");
            Self::Io
        })
    }
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeSet;
    use alloc::string::ToString;

    const ALL: [FsError; 30] = [
        FsError::NotPermitted,
        FsError::NotFound,
        FsError::Interrupted,
        FsError::Io,
        FsError::NoDeviceOrAddress,
        FsError::BadFileDescriptor,
        FsError::WouldBlock,
        FsError::NoMemory,
        FsError::AccessDenied,
        FsError::Busy,
        FsError::AlreadyExists,
        FsError::CrossDevice,
        FsError::NotDir,
        FsError::IsDir,
        FsError::InvalidArgument,
        FsError::SystemFileTableFull,
        FsError::TooManyOpenFiles,
        FsError::TextFileBusy,
        FsError::FileTooLarge,
        FsError::NoSpace,
        FsError::IllegalSeek,
        FsError::ReadOnlyFs,
        FsError::TooManyLinks,
        FsError::NameTooLong,
        FsError::NotEmpty,
        FsError::SymlinkLoop,
        FsError::Overflow,
        FsError::NotSupported,
        FsError::Stale,
        FsError::QuotaExceeded,
    ];

    #[test]
    fn every_error_round_trips_through_its_errno() {
        for error in ALL {
            assert_eq!(FsError::from_errno(error.errno()), error);
        }
    }

    #[test]
    fn errnos_and_messages_are_distinct() {
        let errnos: BTreeSet<i32> = ALL.iter().map(|e| e.errno()).collect();
        let messages: BTreeSet<&str> = ALL.iter().map(|e| e.message()).collect();
        assert_eq!(errnos.len(), ALL.len());
        assert_eq!(messages.len(), ALL.len());
    }

    #[test]
    fn errnos_match_linux() {
        // Spot checks against <asm-generic/errno-base.h> and <asm-generic/errno.h>.
        assert_eq!(errno::ENOENT, 2);
        assert_eq!(errno::ENOTEMPTY, 39);
        assert_eq!(errno::ELOOP, 40);
        assert_eq!(errno::ENAMETOOLONG, 36);
        assert_eq!(errno::EOPNOTSUPP, 95);
    }

    #[test]
    fn messages_come_from_doc_comments() {
        assert_eq!(FsError::NotEmpty.to_string(), "directory not empty");
        assert_eq!(
            FsError::SymlinkLoop.message(),
            "too many levels of symbolic links"
        );
    }

    #[test]
    fn unknown_errno_becomes_io() {
        assert_eq!(FsError::try_from_errno(9999), None);
        assert_eq!(FsError::from_errno(9999), FsError::Io);
    }
}
