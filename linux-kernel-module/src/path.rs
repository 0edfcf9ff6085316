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
    pub(crate) fn as_raw(&self) -> *mut bindings::rvisor_path {
        self.0.raw()
    }
}
