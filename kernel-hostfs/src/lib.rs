//! rVisor's VFS: the [`INode`]/[`FileSystem`] traits the application kernel programs
//! against, and [`HostFs`], a host directory exposed as a filesystem *confined to that
//! directory*.
//!
//! # Layout
//!
//! * [`vfs`]: the traits ([`INode`], [`FileSystem`]) in the shape of rcore-fs.
//! * [`metadata`]: [`Metadata`], [`FileType`], [`Timespec`], [`DirEntry`], [`DirEntryRef`],
//!   [`FsInfo`].
//! * [`listing`]: [`Listing`], the snapshot of a directory's entries a listing reads.
//! * [`error`]: [`FsError`], one enum convertible to and from Linux errnos.
//! * [`name`]: [`Name`] and the `NAME_MAX`/`PATH_MAX` checks.
//! * [`walk`]: path resolution confined to the root: `..` clamping, symbolic links resolved
//!   inside the root, `ELOOP` after 40 links. Backend-independent.
//! * [`backend`]: [`Backend`], the per-object primitives a storage layer provides (look one
//!   name up in one directory without following links, read a link, stat, create, …).
//! * [`hostfs`]: [`HostFs`] and [`HostINode`], generic over the backend.
//! * `host` (not on `target_os = "none"`): [`HostBackend`], over std and libc `*at` calls.
//! * `lkm` (on `target_os = "none"`): `KernelBackend`, over the Linux VFS through the
//!   kernel module's shim.
//!
//! The traits and the walk are `no_std + alloc`, so the kernel module builds them for
//! `x86_64-unknown-none`; its backend over the Linux VFS plugs into the same [`Backend`]
//! trait and inherits the confinement of [`walk`].
//!
//! # Example
//!
//! ```
//! use kernel_hostfs::{FileSystem, FileType, FsError, HostFs};
//!
//! # let dir = std::env::temp_dir().join(format!("kernel-hostfs-doc-lib-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let fs = HostFs::new(&dir)?;
//! let root = fs.root_inode();
//! let hello = root.create("hello", FileType::File, 0o644)?;
//! hello.write_at(0, b"hello, world")?;
//!
//! // An absolute link resolves inside the root, never on the host.
//! root.symlink("self", "/hello")?;
//! let mut buf = [0u8; 5];
//! root.lookup("self")?.read_at(0, &mut buf)?;
//! assert_eq!(&buf, b"hello");
//!
//! // `..` at the root is the root.
//! assert!(root.lookup("../../etc/passwd").is_err());
//! assert_eq!(root.lookup("../..")?.metadata()?.inode, root.metadata()?.inode);
//! assert_eq!(root.lookup("a\0b").err(), Some(FsError::InvalidArgument));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), FsError>(())
//! ```
//!
//! # Divergences from Linux
//!
//! * `..` leads to the directory an object was *reached from*, not to its current parent on
//!   storage. They differ only when a directory is moved to another parent while an inode
//!   inside it is held (a process's cwd, say); the walk never asks storage for `..`, which is
//!   what keeps a directory moved out of the root from leading out of it.
//! * Names and link targets are UTF-8 text (`&str`), as in rcore-fs. A host name that is not
//!   UTF-8 is listed with U+FFFD in place of its bad bytes, and so cannot be opened.
//! * Device nodes inside the root cannot be opened (`EACCES`) or created (`EPERM`), as on a
//!   `nodev` mount.
//! * Permissions are not checked here: the backend acts with the host's (or the module's)
//!   credentials; the syscall layer checks the contained process's access.
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(any(test, not(target_os = "none")))]
extern crate std;

pub mod backend;
pub mod error;
#[cfg(not(target_os = "none"))]
pub mod host;
pub mod hostfs;
pub mod listing;
#[cfg(target_os = "none")]
pub mod lkm;
pub mod metadata;
pub mod name;
pub mod vfs;
pub mod walk;

#[cfg(all(test, not(target_os = "none")))]
mod tests;

pub use backend::{Backend, NodeKind, TimeUpdate};
pub use error::{errno, FsError, FsResult};
#[cfg(not(target_os = "none"))]
pub use host::{HostBackend, HostHandle};
pub use hostfs::{HostFs, HostINode};
pub use listing::{Entries, Listing};
#[cfg(target_os = "none")]
pub use lkm::KernelBackend;
pub use metadata::{DirEntry, DirEntryRef, FileType, FsInfo, Metadata, Timespec};
pub use name::{Name, NAME_MAX, PATH_MAX};
pub use vfs::{FileSystem, INode, LockOp, PathParent, ReadDir, RecordLock, WriteAccess};
pub use walk::MAX_SYMLINK_FOLLOWS;
