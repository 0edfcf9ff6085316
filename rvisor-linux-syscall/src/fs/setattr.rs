//! What `chmod`, `chown` and `utimensat` and their relatives change: the object a path or a
//! descriptor names, as an [`AttrTarget`].
//!
//! A pipe has no inode of the container's filesystem: its attributes are modelled as those
//! of an object owned by the caller (Linux gives a pipe's inode its creator's ids), so every
//! permission check is made, and then nothing is kept — `fstat` of a pipe keeps reporting
//! what it always does. A file inherited from the host (stdio) belongs to the host: changing
//! its attributes is `EPERM`.

use alloc::sync::Arc;
use kernel_hostfs::{INode, Metadata};
use linux_object::fs::{FileLike, Pipe};
use linux_object::{LxError, LxResult};

use super::path::{located_file, Object};
use crate::Syscall;

/// The object whose attributes a call changes.
pub(crate) enum AttrTarget {
    /// An object of the container's filesystem.
    Inode(Arc<dyn INode>),
    /// A pipe: checked as the caller's own object, changed in nothing.
    Pipe(Metadata),
    /// A file inherited from the host.
    HostFile,
}

impl AttrTarget {
    /// The target of a description.
    fn of_file(file: &dyn FileLike) -> LxResult<Self> {
        if let Some(node) = located_file(file) {
            return Ok(Self::Inode(node.inode));
        }
        if file.as_any().is::<Pipe>() {
            return Ok(Self::Pipe(file.metadata()?));
        }
        Ok(Self::HostFile)
    }

    /// The target a resolved path (or an `AT_EMPTY_PATH` descriptor) names.
    pub fn of_object(object: Object) -> LxResult<Self> {
        match object {
            Object::Node(node) => Ok(Self::Inode(node.inode)),
            Object::File(file) => Self::of_file(&*file),
        }
    }
}

impl Syscall<'_> {
    /// The target of descriptor `fd`, for the calls that take one (`fchmod`, `fchown`,
    /// `futimens`): `EBADF` if `fd` is not open or is an `O_PATH` descriptor, as Linux's
    /// `fdget`.
    pub(crate) fn attr_target(&self, fd: i32) -> LxResult<AttrTarget> {
        AttrTarget::of_file(&*self.file(fd)?)
    }

    /// The metadata the permission checks see: the inode's, or for a pipe, its own with the
    /// caller's filesystem ids as owner. `EPERM` for a file of the host.
    pub(crate) fn attr_metadata(&self, target: &AttrTarget) -> LxResult<Metadata> {
        match target {
            AttrTarget::Inode(inode) => Ok(inode.metadata()?),
            AttrTarget::Pipe(metadata) => {
                let credentials = self.process.credentials();
                Ok(Metadata {
                    uid: credentials.fsuid,
                    gid: credentials.fsgid,
                    ..*metadata
                })
            }
            AttrTarget::HostFile => Err(LxError::EPERM),
        }
    }
}
