//! Linux error numbers.

use core::fmt;

/// A Linux errno (positive), returned to user space negated.
///
/// As Rust-for-Linux's `kernel::error::Error`: a newtype, so a syscall result can only carry a
/// real errno, and `?` carries it up.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Error(i32);

/// The result of a kernel operation.
pub type Result<T = ()> = core::result::Result<T, Error>;

macro_rules! errnos {
    ($($name:ident = $value:literal, $doc:literal;)*) => {
        impl Error {
            $(#[doc = $doc] pub const $name: Error = Error($value);)*

            /// The symbolic name, e.g. `"ENOENT"`.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($name)),)*
                    _ => None,
                }
            }
        }
    };
}

errnos! {
    EPERM = 1, "Operation not permitted";
    ENOENT = 2, "No such file or directory";
    ESRCH = 3, "No such process";
    EINTR = 4, "Interrupted system call";
    EIO = 5, "I/O error";
    E2BIG = 7, "Argument list too long";
    ENOEXEC = 8, "Exec format error";
    EBADF = 9, "Bad file number";
    ECHILD = 10, "No child processes";
    EAGAIN = 11, "Try again";
    ENOMEM = 12, "Out of memory";
    EACCES = 13, "Permission denied";
    EFAULT = 14, "Bad address";
    EBUSY = 16, "Device or resource busy";
    EEXIST = 17, "File exists";
    ENODEV = 19, "No such device";
    ENOTDIR = 20, "Not a directory";
    EISDIR = 21, "Is a directory";
    EINVAL = 22, "Invalid argument";
    EMFILE = 24, "Too many open files";
    ENOTTY = 25, "Not a typewriter";
    ENOSPC = 28, "No space left on device";
    ESPIPE = 29, "Illegal seek";
    EPIPE = 32, "Broken pipe";
    ERANGE = 34, "Math result not representable";
    ENAMETOOLONG = 36, "File name too long";
    ENOSYS = 38, "Invalid system call number";
    ENOTEMPTY = 39, "Directory not empty";
    ELOOP = 40, "Too many symbolic links encountered";
    EOVERFLOW = 75, "Value too large for defined data type";
    ERESTARTSYS = 512, "Restart the call if the signal handler allows it (never seen by user space)";
    ERESTARTNOHAND = 514, "Restart the call if no signal handler ran (never seen by user space)";
}

impl Error {
    /// The error for a kernel return value `-errno`; `None` if `ret` is not in `-4095..0`.
    #[inline]
    pub fn from_kernel(ret: i64) -> Option<Error> {
        if (-4095..0).contains(&ret) {
            // The range check makes the negation fit in i32.
            Some(Error((-ret) as i32))
        } else {
            None
        }
    }

    /// `Ok(())` for 0 or a positive value, the errno for `-errno`.
    #[inline]
    pub fn check(ret: i64) -> Result<i64> {
        match Error::from_kernel(ret) {
            Some(e) => Err(e),
            None => Ok(ret),
        }
    }

    /// The positive errno.
    pub fn errno(self) -> i32 {
        self.0
    }

    /// The value a syscall returns for this error.
    pub fn to_syscall_return(self) -> isize {
        -(self.0 as isize)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "errno {}", self.0),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
