//! [`LxError`]: every way a Linux object operation can fail, one enum whose variants are the
//! Linux errnos. The syscall layer returns `-(error.errno())`.
//!
//! Each variant's doc comment is its message ([`LxError::message`], `Display`) and the errno it
//! stands for is written next to it, so the table below is the only place to look.
//!
//! ```
//! use kernel_hostfs::FsError;
//! use linux_object::LxError;
//!
//! assert_eq!(LxError::EBADF.errno(), 9);
//! assert_eq!(LxError::from(FsError::NotFound), LxError::ENOENT);
//! assert_eq!(LxError::EPIPE.to_string(), "broken pipe");
//! ```

use core::fmt;
use kernel_hostfs::FsError;

/// Result of a Linux object operation.
pub type LxResult<T = ()> = Result<T, LxError>;

/// Declares [`LxError`] and its conversions from one table, so a variant, its message and its
/// errno never drift apart.
macro_rules! linux_errors {
    ($( #[doc = $message:literal] $variant:ident = $value:literal, )+) => {
        /// A Linux errno (x86-64 numbering, `<asm-generic/errno*.h>`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(i32)]
        pub enum LxError {
            $( #[doc = $message] $variant = $value, )+
        }

        impl LxError {
            /// Every error, in errno order.
            pub const ALL: &'static [LxError] = &[$( Self::$variant, )+];

            /// The positive errno.
            pub const fn errno(self) -> i32 {
                self as i32
            }

            /// The error an errno stands for, if this enum has it.
            pub const fn try_from_errno(value: i32) -> Option<Self> {
                match value {
                    $( $value => Some(Self::$variant), )+
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

linux_errors! {
    /// operation not permitted
    EPERM = 1,
    /// no such file or directory
    ENOENT = 2,
    /// no such process
    ESRCH = 3,
    /// interrupted system call
    EINTR = 4,
    /// input/output error
    EIO = 5,
    /// no such device or address
    ENXIO = 6,
    /// argument list too long
    E2BIG = 7,
    /// exec format error
    ENOEXEC = 8,
    /// bad file descriptor
    EBADF = 9,
    /// no child processes
    ECHILD = 10,
    /// resource temporarily unavailable
    EAGAIN = 11,
    /// cannot allocate memory
    ENOMEM = 12,
    /// permission denied
    EACCES = 13,
    /// bad address
    EFAULT = 14,
    /// device or resource busy
    EBUSY = 16,
    /// file exists
    EEXIST = 17,
    /// invalid cross-device link
    EXDEV = 18,
    /// no such device
    ENODEV = 19,
    /// not a directory
    ENOTDIR = 20,
    /// is a directory
    EISDIR = 21,
    /// invalid argument
    EINVAL = 22,
    /// too many open files in system
    ENFILE = 23,
    /// too many open files
    EMFILE = 24,
    /// inappropriate ioctl for device
    ENOTTY = 25,
    /// text file busy
    ETXTBSY = 26,
    /// file too large
    EFBIG = 27,
    /// no space left on device
    ENOSPC = 28,
    /// illegal seek
    ESPIPE = 29,
    /// read-only file system
    EROFS = 30,
    /// too many links
    EMLINK = 31,
    /// broken pipe
    EPIPE = 32,
    /// numerical argument out of domain
    EDOM = 33,
    /// numerical result out of range
    ERANGE = 34,
    /// resource deadlock avoided
    EDEADLK = 35,
    /// file name too long
    ENAMETOOLONG = 36,
    /// no locks available
    ENOLCK = 37,
    /// function not implemented
    ENOSYS = 38,
    /// directory not empty
    ENOTEMPTY = 39,
    /// too many levels of symbolic links
    ELOOP = 40,
    /// no message of desired type
    ENOMSG = 42,
    /// identifier removed
    EIDRM = 43,
    /// no data available (no such extended attribute)
    ENODATA = 61,
    /// protocol error
    EPROTO = 71,
    /// bad message
    EBADMSG = 74,
    /// value too large for defined data type
    EOVERFLOW = 75,
    /// socket operation on non-socket
    ENOTSOCK = 88,
    /// destination address required
    EDESTADDRREQ = 89,
    /// message too long
    EMSGSIZE = 90,
    /// protocol wrong type for socket
    EPROTOTYPE = 91,
    /// protocol not available
    ENOPROTOOPT = 92,
    /// protocol not supported
    EPROTONOSUPPORT = 93,
    /// socket type not supported
    ESOCKTNOSUPPORT = 94,
    /// operation not supported
    EOPNOTSUPP = 95,
    /// protocol family not supported
    EPFNOSUPPORT = 96,
    /// address family not supported by protocol
    EAFNOSUPPORT = 97,
    /// address already in use
    EADDRINUSE = 98,
    /// cannot assign requested address
    EADDRNOTAVAIL = 99,
    /// network is down
    ENETDOWN = 100,
    /// network is unreachable
    ENETUNREACH = 101,
    /// network dropped connection on reset
    ENETRESET = 102,
    /// software caused connection abort
    ECONNABORTED = 103,
    /// connection reset by peer
    ECONNRESET = 104,
    /// no buffer space available
    ENOBUFS = 105,
    /// transport endpoint is already connected
    EISCONN = 106,
    /// transport endpoint is not connected
    ENOTCONN = 107,
    /// cannot send after transport endpoint shutdown
    ESHUTDOWN = 108,
    /// connection timed out
    ETIMEDOUT = 110,
    /// connection refused
    ECONNREFUSED = 111,
    /// host is down
    EHOSTDOWN = 112,
    /// no route to host
    EHOSTUNREACH = 113,
    /// operation already in progress
    EALREADY = 114,
    /// operation now in progress
    EINPROGRESS = 115,
    /// stale file handle
    ESTALE = 116,
    /// disk quota exceeded
    EDQUOT = 122,
    /// operation canceled (a timerfd whose realtime clock was set)
    ECANCELED = 125,
    /// interrupted by a signal, restarted if its handler allows it (kernel-internal, never seen by a program)
    ERESTARTSYS = 512,
    /// interrupted by a signal, restarted after its handler (kernel-internal, never seen by a program)
    ERESTARTNOINTR = 513,
    /// interrupted by a signal, restarted if no handler ran (kernel-internal, never seen by a program)
    ERESTARTNOHAND = 514,
}

impl From<FsError> for LxError {
    /// Filesystem errors are errnos already; one this enum lacks (a table drift the tests
    /// catch) is reported as `EIO` rather than invented.
    fn from(error: FsError) -> Self {
        Self::try_from_errno(error.errno()).unwrap_or(Self::EIO)
    }
}

impl fmt::Display for LxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use kernel_hostfs::errno;

    #[test]
    fn errnos_round_trip_and_are_distinct() {
        for (i, error) in LxError::ALL.iter().enumerate() {
            assert_eq!(LxError::try_from_errno(error.errno()), Some(*error));
            if let Some(next) = LxError::ALL.get(i + 1) {
                assert!(error.errno() < next.errno(), "{error:?} out of order");
            }
        }
        assert_eq!(LxError::try_from_errno(0), None);
    }

    #[test]
    fn every_filesystem_errno_has_a_variant() {
        for value in 1..200 {
            if let Some(fs) = FsError::try_from_errno(value) {
                assert_eq!(LxError::from(fs).errno(), value, "{fs:?}");
            }
        }
        assert_eq!(LxError::from(FsError::SymlinkLoop).errno(), errno::ELOOP);
    }

    #[test]
    fn messages_come_from_doc_comments() {
        assert_eq!(LxError::ENOEXEC.to_string(), "exec format error");
        assert_eq!(LxError::EMFILE.message(), "too many open files");
    }
}
