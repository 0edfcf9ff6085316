//! Extended attributes: `getxattr`, `setxattr`, `listxattr`, `removexattr`, each by path
//! (following a final symbolic link), by path without following it (`l*`), and by descriptor
//! (`f*`).
//!
//! The attributes are the host file's, read and written through the host's VFS with the
//! caller's credentials, so its permission checks and errors are Linux's own (`ENODATA`,
//! `ERANGE`, `EOPNOTSUPP`, `EPERM`…). The arguments are checked first as Linux's `fs/xattr.c`
//! does: a name empty or longer than 255 bytes is `ERANGE`, a value above 64 KiB `E2BIG`, a
//! buffer above 64 KiB is read as 64 KiB. One rule is rVisor's: a container may not write the
//! `security.*` and `trusted.*` namespaces (`EPERM`), whose attributes the host itself acts on
//! (file capabilities, LSM labels) — a contained root could otherwise give a host file powers
//! outside the container. Reading them is allowed, as on Linux.

use alloc::sync::Arc;
use alloc::vec::Vec;
use kernel_hostfs::{FsResult, INode};
use linux_object::fs::{File, OpenFlags};
use linux_object::{LxError, LxResult};

use super::path::located_file;
use super::AT_FDCWD;
use crate::user::{try_buffer, UserInPtr, UserOutPtr};
use crate::{SysResult, Syscall};

/// Linux's `XATTR_NAME_MAX`.
const XATTR_NAME_MAX: usize = 255;
/// Linux's `XATTR_SIZE_MAX` and `XATTR_LIST_MAX`: the largest value and name list.
const XATTR_SIZE_MAX: usize = 65536;
/// `setxattr`'s flags.
const XATTR_CREATE: u32 = 1;
const XATTR_REPLACE: u32 = 2;
/// The namespaces a container may read but not write.
const HOST_NAMESPACES: [&str; 2] = ["security.", "trusted."];

/// How a call names its object.
#[derive(Clone, Copy)]
enum Target {
    /// A path, its last symbolic link followed or not.
    Path(UserInPtr<u8>, bool),
    /// A descriptor.
    Fd(i32),
}

/// Reads an attribute name as Linux's `import_xattr_name`: `ERANGE` if empty or longer than
/// `XATTR_NAME_MAX`. A name that is not UTF-8 names nothing a container's files can hold.
fn read_name(name: UserInPtr<u8>) -> LxResult<Option<alloc::string::String>> {
    let bytes = name
        .read_cstring(XATTR_NAME_MAX)
        .map_err(|error| match error {
            LxError::ENAMETOOLONG => LxError::ERANGE,
            other => other,
        })?;
    if bytes.is_empty() {
        return Err(LxError::ERANGE);
    }
    Ok(alloc::string::String::from_utf8(bytes).ok())
}

/// What a get or list read into `buffer` (its length), copied to the caller's `size`-byte
/// buffer at `out` unless `size` is 0 (a probe of the size). A value or list too large for
/// any buffer is `E2BIG` rather than `ERANGE`, as Linux.
fn copy_out(read: FsResult<usize>, buffer: &[u8], out: UserOutPtr<u8>, size: usize) -> SysResult {
    let len = read.map_err(|error| match LxError::from(error) {
        LxError::ERANGE if size >= XATTR_SIZE_MAX => LxError::E2BIG,
        other => other,
    })?;
    if size > 0 {
        out.write_bytes(buffer.get(..len).ok_or(LxError::ERANGE)?)?;
    }
    Ok(len)
}

impl Syscall<'_> {
    /// The object a call names.
    fn xattr_object(&self, target: Target) -> LxResult<Arc<dyn INode>> {
        match target {
            Target::Path(path, follow) => {
                let path = path.read_path()?;
                Ok(self.resolve(AT_FDCWD, &path, follow)?.inode)
            }
            Target::Fd(fd) => {
                let file = self.process.files().get(fd)?;
                // An O_PATH descriptor does not act on its object (EBADF, as fdget gives).
                if file.as_any().is::<File>() && file.flags().contains(OpenFlags::PATH) {
                    return Err(LxError::EBADF);
                }
                // Pipes, terminals: objects with no attributes of their own here.
                Ok(located_file(&*file).ok_or(LxError::EOPNOTSUPP)?.inode)
            }
        }
    }

    fn get_xattr(
        &self,
        target: Target,
        name: UserInPtr<u8>,
        value: UserOutPtr<u8>,
        size: usize,
    ) -> SysResult {
        let object = self.xattr_object(target)?;
        let Some(name) = read_name(name)? else {
            return Err(LxError::ENODATA);
        };
        let mut buffer = try_buffer(size.min(XATTR_SIZE_MAX))?;
        let read = object.get_xattr(&name, &mut buffer);
        copy_out(read, &buffer, value, size)
    }

    fn list_xattr(&self, target: Target, list: UserOutPtr<u8>, size: usize) -> SysResult {
        let object = self.xattr_object(target)?;
        let mut buffer = try_buffer(size.min(XATTR_SIZE_MAX))?;
        let read = object.list_xattr(&mut buffer);
        copy_out(read, &buffer, list, size)
    }

    fn set_xattr(
        &self,
        target: Target,
        name: UserInPtr<u8>,
        value: UserInPtr<u8>,
        size: usize,
        flags: u32,
    ) -> SysResult {
        // The arguments first, then the object, as Linux's setxattr_copy and path_setxattr.
        if flags & !(XATTR_CREATE | XATTR_REPLACE) != 0 {
            return Err(LxError::EINVAL);
        }
        let name = read_name(name)?;
        if size > XATTR_SIZE_MAX {
            return Err(LxError::E2BIG);
        }
        let bytes: Vec<u8> = if size == 0 {
            Vec::new()
        } else {
            value.read_bytes(size)?
        };
        let object = self.xattr_object(target)?;
        let name = name.ok_or(LxError::EOPNOTSUPP)?;
        if HOST_NAMESPACES.iter().any(|ns| name.starts_with(ns)) {
            return Err(LxError::EPERM);
        }
        object.set_xattr(&name, &bytes, flags)?;
        Ok(0)
    }

    fn remove_xattr(&self, target: Target, name: UserInPtr<u8>) -> SysResult {
        let object = self.xattr_object(target)?;
        let Some(name) = read_name(name)? else {
            return Err(LxError::ENODATA);
        };
        if HOST_NAMESPACES.iter().any(|ns| name.starts_with(ns)) {
            return Err(LxError::EPERM);
        }
        object.remove_xattr(&name)?;
        Ok(0)
    }

    /// `getxattr(path, name, value, size)`: the value's length; with `size` 0, its size.
    pub fn sys_getxattr(
        &self,
        path: UserInPtr<u8>,
        name: UserInPtr<u8>,
        value: UserOutPtr<u8>,
        size: usize,
    ) -> SysResult {
        self.get_xattr(Target::Path(path, true), name, value, size)
    }

    /// `lgetxattr`: `getxattr` of a final symbolic link itself.
    pub fn sys_lgetxattr(
        &self,
        path: UserInPtr<u8>,
        name: UserInPtr<u8>,
        value: UserOutPtr<u8>,
        size: usize,
    ) -> SysResult {
        self.get_xattr(Target::Path(path, false), name, value, size)
    }

    /// `fgetxattr`: `getxattr` of an open descriptor's object.
    pub fn sys_fgetxattr(
        &self,
        fd: i32,
        name: UserInPtr<u8>,
        value: UserOutPtr<u8>,
        size: usize,
    ) -> SysResult {
        self.get_xattr(Target::Fd(fd), name, value, size)
    }

    /// `listxattr(path, list, size)`: the NUL-terminated names; with `size` 0, their length.
    pub fn sys_listxattr(
        &self,
        path: UserInPtr<u8>,
        list: UserOutPtr<u8>,
        size: usize,
    ) -> SysResult {
        self.list_xattr(Target::Path(path, true), list, size)
    }

    /// `llistxattr`: `listxattr` of a final symbolic link itself.
    pub fn sys_llistxattr(
        &self,
        path: UserInPtr<u8>,
        list: UserOutPtr<u8>,
        size: usize,
    ) -> SysResult {
        self.list_xattr(Target::Path(path, false), list, size)
    }

    /// `flistxattr`: `listxattr` of an open descriptor's object.
    pub fn sys_flistxattr(&self, fd: i32, list: UserOutPtr<u8>, size: usize) -> SysResult {
        self.list_xattr(Target::Fd(fd), list, size)
    }

    /// `setxattr(path, name, value, size, flags)`.
    pub fn sys_setxattr(
        &self,
        path: UserInPtr<u8>,
        name: UserInPtr<u8>,
        value: UserInPtr<u8>,
        size: usize,
        flags: u32,
    ) -> SysResult {
        self.set_xattr(Target::Path(path, true), name, value, size, flags)
    }

    /// `lsetxattr`: `setxattr` of a final symbolic link itself.
    pub fn sys_lsetxattr(
        &self,
        path: UserInPtr<u8>,
        name: UserInPtr<u8>,
        value: UserInPtr<u8>,
        size: usize,
        flags: u32,
    ) -> SysResult {
        self.set_xattr(Target::Path(path, false), name, value, size, flags)
    }

    /// `fsetxattr`: `setxattr` of an open descriptor's object.
    pub fn sys_fsetxattr(
        &self,
        fd: i32,
        name: UserInPtr<u8>,
        value: UserInPtr<u8>,
        size: usize,
        flags: u32,
    ) -> SysResult {
        self.set_xattr(Target::Fd(fd), name, value, size, flags)
    }

    /// `removexattr(path, name)`.
    pub fn sys_removexattr(&self, path: UserInPtr<u8>, name: UserInPtr<u8>) -> SysResult {
        self.remove_xattr(Target::Path(path, true), name)
    }

    /// `lremovexattr`: `removexattr` of a final symbolic link itself.
    pub fn sys_lremovexattr(&self, path: UserInPtr<u8>, name: UserInPtr<u8>) -> SysResult {
        self.remove_xattr(Target::Path(path, false), name)
    }

    /// `fremovexattr`: `removexattr` of an open descriptor's object.
    pub fn sys_fremovexattr(&self, fd: i32, name: UserInPtr<u8>) -> SysResult {
        self.remove_xattr(Target::Fd(fd), name)
    }
}
