//! [`HostFs`]: a directory of an underlying filesystem exposed as a whole filesystem whose
//! root it is, over any [`Backend`]; and [`HostINode`], its objects.
//!
//! Every path is resolved by [`crate::walk`], so nothing reachable through a `HostFs` lies
//! outside its root directory (see that module for how). Device nodes inside the root are
//! listed and `stat`ed but their contents are refused with `EACCES`, as on a `nodev` mount:
//! a container must not reach host devices through nodes found in its image. For the same
//! reason device nodes cannot be created (`EPERM`).
//!
//! ```
//! use kernel_hostfs::{FileType, FsError, HostFs, INode};
//!
//! # let dir = std::env::temp_dir().join(format!("kernel-hostfs-doc-hostfs-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let fs = HostFs::new(&dir)?;
//! let root = fs.root(); // the concrete `HostINode`, with its backend handle
//! assert_eq!(root.file_type(), FileType::Dir);
//! assert_eq!(root.create("null", FileType::CharDevice, 0o666).err(), Some(FsError::NotPermitted));
//!
//! // Objects of another HostFs, even on the same directory, are on another mount.
//! let file = root.create("f", FileType::File, 0o644)?;
//! let twin = HostFs::new(&dir)?.root();
//! assert_eq!(twin.link("g", &file).err(), Some(FsError::CrossDevice));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), FsError>(())
//! ```

use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;

use crate::backend::{Backend, NodeKind, TimeUpdate};
use crate::error::{FsError, FsResult};
use crate::listing::Listing;
use crate::metadata::{FileType, FsInfo, Metadata, Timespec, PERMISSION_BITS};
use crate::name::{check_path, Name};
use crate::vfs::{FileSystem, INode, PathParent};
use crate::walk;

/// What every object of one `HostFs` shares: the backend and the root directory's handle.
struct Mount<B: Backend> {
    backend: B,
    root: B::Handle,
}

/// A directory of an underlying filesystem, exposed as a filesystem with that directory as
/// its root.
pub struct HostFs<B: Backend> {
    mount: Arc<Mount<B>>,
}

impl<B: Backend> HostFs<B> {
    /// A filesystem rooted at the directory `root` of `backend`.
    pub fn with_backend(backend: B, root: B::Handle) -> FsResult<Arc<Self>> {
        if backend.metadata(&root)?.type_ != FileType::Dir {
            return Err(FsError::NotDir);
        }
        Ok(Arc::new(Self {
            mount: Arc::new(Mount { backend, root }),
        }))
    }

    /// The root directory, as its concrete type.
    pub fn root(&self) -> Arc<HostINode<B>> {
        HostINode::new_root(&self.mount)
    }

    /// An object of this filesystem that no name in it reaches (a memfd's unlinked file on
    /// the host's internal shmem mount): a node whose `..` is the root, reached only through
    /// the descriptor it is opened as.
    pub fn adopt(&self, handle: B::Handle) -> FsResult<Arc<HostINode<B>>> {
        let type_ = self.mount.backend.metadata(&handle)?.type_;
        Ok(self.root().new_child(handle, type_))
    }
}

impl<B: Backend> FileSystem for HostFs<B> {
    fn root_inode(&self) -> Arc<dyn INode> {
        self.root()
    }

    fn sync(&self) -> FsResult<()> {
        self.mount.backend.sync_fs(&self.mount.root)
    }

    fn info(&self) -> FsResult<FsInfo> {
        self.mount.backend.fs_info(&self.mount.root)
    }
}

/// One object of a [`HostFs`], reached by a path walk from its root.
pub struct HostINode<B: Backend> {
    mount: Arc<Mount<B>>,
    /// The backend's handle; `None` for the root, whose handle is the mount's (so a node is
    /// one allocation).
    handle: Option<B::Handle>,
    /// Fixed for the object's life, so it is read once when the object is found.
    type_: FileType,
    /// The directory this object was reached from: where `..` leads. `None` only for the root.
    parent: Option<Arc<HostINode<B>>>,
    /// This node itself, to make it the parent of the nodes found from it.
    this: Weak<HostINode<B>>,
}

impl<B: Backend> HostINode<B> {
    fn new_root(mount: &Arc<Mount<B>>) -> Arc<Self> {
        Self::new(mount.clone(), None, FileType::Dir, None)
    }

    fn new(
        mount: Arc<Mount<B>>,
        handle: Option<B::Handle>,
        type_: FileType,
        parent: Option<Arc<Self>>,
    ) -> Arc<Self> {
        Arc::new_cyclic(|this| Self {
            mount,
            handle,
            type_,
            parent,
            this: this.clone(),
        })
    }

    /// The backend's handle of this object, for the few calls that need the underlying file
    /// itself (file-backed `mmap`, `sendfile`).
    pub fn handle(&self) -> &B::Handle {
        self.handle.as_ref().unwrap_or(&self.mount.root)
    }

    /// The object's type.
    pub fn file_type(&self) -> FileType {
        self.type_
    }

    /// This node as an `Arc`. Nodes only ever live in an `Arc`, so the upgrade cannot fail
    /// while `self` is borrowed; `ESTALE` is reported rather than assumed.
    fn arc(&self) -> FsResult<Arc<Self>> {
        self.this.upgrade().ok_or(FsError::Stale)
    }

    /// The root of this node's filesystem.
    pub(crate) fn root(&self) -> Arc<Self> {
        Self::new_root(&self.mount)
    }

    /// Where `..` leads: the node this one was reached from, or the root itself.
    pub(crate) fn parent_or_self(self: &Arc<Self>) -> Arc<Self> {
        self.parent.clone().unwrap_or_else(|| self.clone())
    }

    pub(crate) fn require_dir(&self) -> FsResult<()> {
        match self.type_ {
            FileType::Dir => Ok(()),
            _ => Err(FsError::NotDir),
        }
    }

    /// The entry `name` of this directory, not followed if it is a symbolic link.
    pub(crate) fn child(self: &Arc<Self>, name: Name<'_>) -> FsResult<Arc<Self>> {
        self.require_dir()?;
        let (handle, type_) = self.mount.backend.lookup(self.handle(), name)?;
        Ok(self.new_child(handle, type_))
    }

    fn new_child(self: &Arc<Self>, handle: B::Handle, type_: FileType) -> Arc<Self> {
        Self::new(self.mount.clone(), Some(handle), type_, Some(self.clone()))
    }

    /// The target of this symbolic link as text. Linux targets are bytes; ones that are not
    /// UTF-8 are decoded lossily and so resolve to nothing (see the crate's divergences).
    pub(crate) fn link_target(&self) -> FsResult<String> {
        if self.type_ != FileType::SymLink {
            return Err(FsError::InvalidArgument);
        }
        let target = self.mount.backend.read_link(self.handle())?;
        Ok(text_from_bytes(target))
    }

    /// `other` as a node of this same filesystem, or `EXDEV`.
    fn same_fs<'a>(&self, other: &'a Arc<dyn INode>) -> FsResult<&'a Self> {
        let other: &dyn INode = other.as_ref();
        match other.downcast_ref::<Self>() {
            Some(node) if Arc::ptr_eq(&node.mount, &self.mount) => Ok(node),
            _ => Err(FsError::CrossDevice),
        }
    }

    /// Checks that this object's contents may be read or written.
    fn require_data(&self) -> FsResult<()> {
        match self.type_ {
            FileType::File | FileType::NamedPipe => Ok(()),
            FileType::Dir => Err(FsError::IsDir),
            FileType::SymLink => Err(FsError::InvalidArgument),
            // As on a `nodev` mount: opening a device node is refused.
            FileType::CharDevice | FileType::BlockDevice => Err(FsError::AccessDenied),
            // Opening a socket inode is ENXIO in Linux.
            FileType::Socket => Err(FsError::NoDeviceOrAddress),
        }
    }

    fn sync(&self, data_only: bool) -> FsResult<()> {
        match self.type_ {
            FileType::File | FileType::Dir => self.mount.backend.sync(self.handle(), data_only),
            _ => Err(FsError::InvalidArgument),
        }
    }
}

/// A name that, for the entry operations, may not be `.` or `..`: each operation reports
/// those with the error Linux gives it (`dot_error`).
fn entry_name(name: &str, dot_error: FsError) -> FsResult<Name<'_>> {
    if name == "." || name == ".." {
        return Err(dot_error);
    }
    Name::new(name)
}

fn text_from_bytes(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

fn offset_u64(value: usize) -> FsResult<u64> {
    u64::try_from(value).map_err(|_| FsError::Overflow)
}

impl<B: Backend> INode for HostINode<B> {
    fn read_at(&self, offset: usize, buf: &mut [u8]) -> FsResult<usize> {
        self.require_data()?;
        self.mount
            .backend
            .read_at(self.handle(), offset_u64(offset)?, buf)
    }

    fn write_at(&self, offset: usize, buf: &[u8]) -> FsResult<usize> {
        self.require_data()?;
        self.mount
            .backend
            .write_at(self.handle(), offset_u64(offset)?, buf)
    }

    fn read_at_user(&self, offset: usize, user: usize, len: usize) -> Option<FsResult<usize>> {
        if self.type_ != FileType::File {
            return None;
        }
        let offset = match offset_u64(offset) {
            Ok(offset) => offset,
            Err(error) => return Some(Err(error)),
        };
        self.mount
            .backend
            .read_to_user(self.handle(), offset, user, len)
    }

    fn write_at_user(&self, offset: usize, user: usize, len: usize) -> Option<FsResult<usize>> {
        if self.type_ != FileType::File {
            return None;
        }
        let offset = match offset_u64(offset) {
            Ok(offset) => offset,
            Err(error) => return Some(Err(error)),
        };
        self.mount
            .backend
            .write_from_user(self.handle(), offset, user, len)
    }

    fn metadata(&self) -> FsResult<Metadata> {
        self.mount.backend.metadata(self.handle())
    }

    fn create_unnamed(&self, mode: u16, exclusive: bool) -> FsResult<Arc<dyn INode>> {
        self.require_dir()?;
        let this = self.arc()?;
        let handle =
            self.mount
                .backend
                .tmpfile(self.handle(), mode & PERMISSION_BITS, exclusive)?;
        Ok(this.new_child(handle, FileType::File))
    }

    fn get_xattr(&self, name: &str, value: &mut [u8]) -> FsResult<usize> {
        self.mount.backend.get_xattr(self.handle(), name, value)
    }

    fn list_xattr(&self, list: &mut [u8]) -> FsResult<usize> {
        self.mount.backend.list_xattr(self.handle(), list)
    }

    fn set_xattr(&self, name: &str, value: &[u8], flags: u32) -> FsResult<()> {
        self.mount
            .backend
            .set_xattr(self.handle(), name, value, flags)
    }

    fn remove_xattr(&self, name: &str) -> FsResult<()> {
        self.mount.backend.remove_xattr(self.handle(), name)
    }

    fn record_lock(
        &self,
        op: crate::LockOp,
        ofd: bool,
        owner: usize,
        lock: &mut crate::RecordLock,
    ) -> FsResult<()> {
        match self.type_ {
            FileType::File | FileType::Dir => {
                self.mount
                    .backend
                    .record_lock(self.handle(), op, ofd, owner, lock)
            }
            _ => Err(FsError::NotSupported),
        }
    }

    fn release_record_locks(&self, owner: usize) {
        if matches!(self.type_, FileType::File | FileType::Dir) {
            self.mount
                .backend
                .release_record_locks(self.handle(), owner);
        }
    }

    fn notify(&self, mask: u32) {
        self.mount.backend.notify(self.handle(), mask);
    }

    fn write_access(&self) -> FsResult<Option<crate::WriteAccess>> {
        if self.file_type() != FileType::File {
            return Ok(None);
        }
        self.mount.backend.write_access(self.handle())
    }

    fn metadata_beneath(&self, path: &str, follow_last: bool) -> FsResult<Option<Metadata>> {
        self.require_dir()?;
        self.mount
            .backend
            .metadata_beneath(self.handle(), path, follow_last)
    }

    fn file_type(&self) -> FsResult<FileType> {
        Ok(self.type_)
    }

    fn birth_time(&self) -> FsResult<Option<Timespec>> {
        self.mount.backend.birth_time(self.handle())
    }

    fn chmod(&self, mode: u16) -> FsResult<()> {
        if self.type_ == FileType::SymLink {
            return Err(FsError::NotSupported);
        }
        self.mount
            .backend
            .chmod(self.handle(), mode & PERMISSION_BITS)
    }

    fn chown(&self, uid: Option<u32>, gid: Option<u32>) -> FsResult<()> {
        self.mount.backend.chown(self.handle(), uid, gid)
    }

    fn set_times(&self, atime: TimeUpdate, mtime: TimeUpdate) -> FsResult<()> {
        self.mount.backend.set_times(self.handle(), atime, mtime)
    }

    fn resize(&self, len: usize) -> FsResult<()> {
        match self.type_ {
            FileType::File => self.mount.backend.resize(self.handle(), offset_u64(len)?),
            FileType::Dir => Err(FsError::IsDir),
            _ => Err(FsError::InvalidArgument),
        }
    }

    fn sync_all(&self) -> FsResult<()> {
        self.sync(false)
    }

    fn sync_data(&self) -> FsResult<()> {
        self.sync(true)
    }

    fn find(&self, name: &str) -> FsResult<Arc<dyn INode>> {
        self.require_dir()?;
        let this = self.arc()?;
        match name {
            "." => Ok(this),
            ".." => Ok(this.parent_or_self()),
            name => Ok(this.child(Name::new(name)?)?),
        }
    }

    fn lookup_follow(&self, path: &str, follow_last: bool) -> FsResult<Arc<dyn INode>> {
        Ok(walk::resolve(&self.arc()?, path, follow_last)?)
    }

    fn lookup_parent(&self, path: &str) -> FsResult<PathParent> {
        let (dir, name, must_be_dir) = walk::resolve_parent(&self.arc()?, path)?;
        Ok(PathParent {
            dir,
            name,
            must_be_dir,
        })
    }

    fn create(&self, name: &str, type_: FileType, mode: u16) -> FsResult<Arc<dyn INode>> {
        self.require_dir()?;
        let name = entry_name(name, FsError::AlreadyExists)?;
        let kind = match type_ {
            FileType::File => NodeKind::File,
            FileType::Dir => NodeKind::Dir,
            FileType::NamedPipe => NodeKind::NamedPipe,
            FileType::Socket => NodeKind::Socket,
            FileType::SymLink => return Err(FsError::InvalidArgument),
            FileType::CharDevice | FileType::BlockDevice => return Err(FsError::NotPermitted),
        };
        let this = self.arc()?;
        let handle =
            self.mount
                .backend
                .create(self.handle(), name, kind, mode & PERMISSION_BITS)?;
        Ok(this.new_child(handle, type_))
    }

    fn symlink(&self, name: &str, target: &str) -> FsResult<Arc<dyn INode>> {
        self.require_dir()?;
        check_path(target)?;
        let name = entry_name(name, FsError::AlreadyExists)?;
        let this = self.arc()?;
        let handle = self.mount.backend.symlink(self.handle(), name, target)?;
        Ok(this.new_child(handle, FileType::SymLink))
    }

    fn read_link(&self) -> FsResult<String> {
        self.link_target()
    }

    fn link(&self, name: &str, other: &Arc<dyn INode>) -> FsResult<()> {
        self.require_dir()?;
        let other = self.same_fs(other)?;
        if other.type_ == FileType::Dir {
            return Err(FsError::NotPermitted);
        }
        let name = entry_name(name, FsError::AlreadyExists)?;
        self.mount.backend.link(other.handle(), self.handle(), name)
    }

    fn unlink(&self, name: &str) -> FsResult<()> {
        self.require_dir()?;
        let name = entry_name(name, FsError::IsDir)?;
        self.mount.backend.unlink(self.handle(), name, false)
    }

    fn rmdir(&self, name: &str) -> FsResult<()> {
        self.require_dir()?;
        let name = match name {
            "." => return Err(FsError::InvalidArgument),
            ".." => return Err(FsError::NotEmpty),
            name => Name::new(name)?,
        };
        self.mount.backend.unlink(self.handle(), name, true)
    }

    fn move_(&self, old_name: &str, target: &Arc<dyn INode>, new_name: &str) -> FsResult<()> {
        self.require_dir()?;
        let target = self.same_fs(target)?;
        target.require_dir()?;
        let old_name = entry_name(old_name, FsError::Busy)?;
        let new_name = entry_name(new_name, FsError::Busy)?;
        self.mount
            .backend
            .rename(self.handle(), old_name, target.handle(), new_name)
    }

    fn list(&self) -> FsResult<Listing> {
        self.require_dir()?;
        let mut listing = Listing::new()?;
        self.mount.backend.read_dir(self.handle(), &mut listing)?;
        let backend = &self.mount.backend;
        let dot = match listing.listed_dot() {
            Some(inode) => inode,
            // A filesystem that lists no `.`: the directory's own number, as `stat` gives it.
            None => backend.inode(self.handle())?,
        };
        // `..` is where this directory was reached from (see the crate's divergences), so its
        // number is asked of that directory, never taken from storage's `..`.
        let dot_dot = match &self.parent {
            Some(parent) => backend.inode(parent.handle())?,
            None => dot,
        };
        listing.set_dots(dot, dot_dot)?;
        Ok(listing)
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        Arc::new(HostFs {
            mount: self.mount.clone(),
        })
    }

    fn fs_info(&self) -> FsResult<FsInfo> {
        self.mount.backend.fs_info(self.handle())
    }

    fn as_any_ref(&self) -> &dyn Any {
        self
    }
}
