//! Host directories held by the kernel (`struct path`).

use alloc::vec::Vec;

use crate::bindings;
use crate::error::{Error, Result};
use crate::vfs::Holder;

/// A host directory, held (it cannot be unmounted or freed while this lives).
pub struct HostDir(Holder);

impl HostDir {
    /// Resolves `path` (a NUL-free byte string; relative paths start at the caller's cwd,
    /// symlinks are followed). `ENOENT`, `ENOTDIR` if it is not a directory, or the lookup's
    /// error.
    pub fn lookup(path: &[u8]) -> Result<HostDir> {
        if path.contains(&0) {
            return Err(Error::EINVAL);
        }
        let mut c_path: Vec<u8> = Vec::new();
        c_path
            .try_reserve_exact(path.len() + 1)
            .map_err(|_| Error::ENOMEM)?;
        c_path.extend_from_slice(path);
        c_path.push(0);
        // SAFETY: `c_path` is NUL-terminated; `out` is valid for a write; process context.
        // The lookup fills `out` when it succeeds.
        let holder = unsafe {
            Holder::fill(|out| bindings::rvisor_path_lookup_dir(c_path.as_ptr().cast(), out).into())
        }?;
        Ok(HostDir(holder))
    }

    /// The directory's absolute path (bytes, not always UTF-8), as the caller's root sees it.
    pub fn name(&self) -> Result<Vec<u8>> {
        const CAP: usize = 4096;
        let mut buf: Vec<u8> = Vec::new();
        buf.try_reserve_exact(CAP).map_err(|_| Error::ENOMEM)?;
        buf.resize(CAP, 0);
        // SAFETY: `buf` has CAP writable bytes; the path is held by `self`.
        let ret = unsafe {
            bindings::rvisor_path_name(self.as_raw(), buf.as_mut_ptr() as *mut _, CAP as i32)
        };
        Error::check(ret as i64)?;
        let len = buf.iter().position(|&b| b == 0).unwrap_or(CAP);
        buf.truncate(len);
        Ok(buf)
    }
}

impl HostDir {
    /// The root of a new tmpfs instance configured with `options` (tmpfs's own:
    /// `size=`, `nr_inodes=`, `mode=`…; comma-separated, NUL-free), read-only if
    /// `read_only`, mounted in no namespace: it lives as long as something holds it.
    /// `EINVAL` for an option tmpfs refuses.
    pub fn new_tmpfs(options: &[u8], read_only: bool) -> Result<HostDir> {
        if options.contains(&0) {
            return Err(Error::EINVAL);
        }
        let mut c_options: Vec<u8> = Vec::new();
        c_options
            .try_reserve_exact(options.len() + 1)
            .map_err(|_| Error::ENOMEM)?;
        c_options.extend_from_slice(options);
        c_options.push(0);
        // SAFETY: `c_options` is NUL-terminated; `out` is valid for a write; process
        // context. The shim fills `out` when it succeeds.
        let holder = unsafe {
            Holder::fill(|out| {
                bindings::rvisor_tmpfs_new(c_options.as_ptr().cast(), read_only, out).into()
            })
        }?;
        Ok(HostDir(holder))
    }

    /// Whether writes under the directory are refused (`EROFS`): its mount or its
    /// filesystem is read-only.
    pub fn read_only(&self) -> bool {
        // SAFETY: the path is held by `self`.
        unsafe { bindings::rvisor_path_read_only(self.as_raw()) }
    }

    /// The type name of the filesystem the directory is on (`ext4`, `tmpfs`…).
    pub fn fstype(&self) -> Vec<u8> {
        let mut buf = [0u8; 32];
        // SAFETY: `buf` has 32 writable bytes; the path is held by `self`.
        unsafe { bindings::rvisor_path_fstype(self.as_raw(), buf.as_mut_ptr().cast(), 32) };
        let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        buf.get(..len).map(<[u8]>::to_vec).unwrap_or_default()
    }
}

impl HostDir {
    pub(crate) fn as_raw(&self) -> *mut bindings::rvisor_path {
        self.0.raw()
    }
}
