//! Names and paths as the VFS accepts them, checked against Linux's limits.
//!
//! A [`Name`] is one directory entry name and nothing else: it cannot be empty, `.`, `..`,
//! contain `/` or NUL, or exceed [`NAME_MAX`] bytes. Backends only ever receive `Name`s, so a
//! backend cannot be handed a path to resolve on its own, which is what keeps the path walk
//! (and with it confinement) in this crate.
//!
//! ```
//! use kernel_hostfs::{FsError, Name};
//!
//! assert!(Name::new("passwd").is_ok());
//! assert_eq!(Name::new("a/b"), Err(FsError::InvalidArgument));
//! assert_eq!(Name::new(&"x".repeat(256)), Err(FsError::NameTooLong));
//! ```

use crate::error::{FsError, FsResult};

/// Longest name of one directory entry, in bytes (Linux's `NAME_MAX`).
pub const NAME_MAX: usize = 255;

/// Size of the buffer a path must fit in, terminating NUL included (Linux's `PATH_MAX`):
/// the longest accepted path is `PATH_MAX - 1` bytes.
pub const PATH_MAX: usize = 4096;

/// One directory entry name, checked: 1 to [`NAME_MAX`] bytes, no `/`, no NUL, not `.`/`..`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Name<'a>(&'a str);

impl<'a> Name<'a> {
    /// Checks `name`. Errors are Linux's for the same name in a path: `ENOENT` when empty,
    /// `ENAMETOOLONG` when too long, `EINVAL` for a NUL, a `/`, `.` or `..`.
    pub fn new(name: &'a str) -> FsResult<Self> {
        if name.is_empty() {
            return Err(FsError::NotFound);
        }
        if name.contains(['\0', '/']) || name == "." || name == ".." {
            return Err(FsError::InvalidArgument);
        }
        if name.len() > NAME_MAX {
            return Err(FsError::NameTooLong);
        }
        Ok(Self(name))
    }

    /// The name's text.
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

/// Checks a whole path before any of it is walked: a NUL byte is `EINVAL` (paths reach the
/// kernel as C strings, so an embedded NUL can only be a caller's mistake or an attack), an
/// empty path `ENOENT`, and one that does not fit [`PATH_MAX`] `ENAMETOOLONG`, as in Linux.
pub fn check_path(path: &str) -> FsResult<()> {
    if path.contains('\0') {
        return Err(FsError::InvalidArgument);
    }
    if path.is_empty() {
        return Err(FsError::NotFound);
    }
    if path.len() >= PATH_MAX {
        return Err(FsError::NameTooLong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    #[test]
    fn accepts_ordinary_names_up_to_name_max() {
        assert_eq!(Name::new("a").map(|n| n.as_str()), Ok("a"));
        assert!(Name::new("...").is_ok());
        assert!(Name::new(".hidden").is_ok());
        assert!(Name::new(&"n".repeat(NAME_MAX)).is_ok());
    }

    #[test]
    fn rejects_what_linux_rejects() {
        assert_eq!(Name::new(""), Err(FsError::NotFound));
        assert_eq!(Name::new("."), Err(FsError::InvalidArgument));
        assert_eq!(Name::new(".."), Err(FsError::InvalidArgument));
        assert_eq!(Name::new("a/b"), Err(FsError::InvalidArgument));
        assert_eq!(Name::new("a\0b"), Err(FsError::InvalidArgument));
        assert_eq!(
            Name::new(&"n".repeat(NAME_MAX + 1)),
            Err(FsError::NameTooLong)
        );
    }

    #[test]
    fn path_limits() {
        assert_eq!(check_path(""), Err(FsError::NotFound));
        assert_eq!(check_path("a\0"), Err(FsError::InvalidArgument));
        let longest: String = "a/".repeat((PATH_MAX - 1) / 2) + "a";
        assert_eq!(longest.len(), PATH_MAX - 1);
        assert_eq!(check_path(&longest), Ok(()));
        assert_eq!(check_path(&(longest + "a")), Err(FsError::NameTooLong));
    }
}
