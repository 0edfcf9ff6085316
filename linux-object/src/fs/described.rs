//! [`DescribedInode`]: the object an open file description names, as a path walk reaches it
//! through a `/proc/PID/fd/N` link when no path leads to it (a pipe, a socket, an inherited
//! host file). Linux's magic links jump to the object rather than follow their text; this is
//! what the walk jumps to. `stat` reports the description's object and `open` shares the
//! description; everything else is refused as it is for such objects.

use super::FileLike;
use alloc::string::String;
use alloc::sync::Arc;
use core::any::Any;
use kernel_hostfs::{
    FileSystem, FileType, FsError, FsInfo, FsResult, INode, Listing, Metadata, PathParent,
    TimeUpdate,
};

/// `PIPEFS_MAGIC` and `ANON_INODE_FS_MAGIC`: what `statfs` says of a pipe and of the rest.
const PIPEFS_MAGIC: u64 = 0x5049_5045;
const ANON_INODE_FS_MAGIC: u64 = 0x0904_1934;

/// The object of an open file description, reached by a path.
pub struct DescribedInode(Arc<dyn FileLike>);

impl DescribedInode {
    /// The object `file` describes.
    pub fn new(file: Arc<dyn FileLike>) -> Self {
        Self(file)
    }

    /// The description.
    pub fn description(&self) -> &Arc<dyn FileLike> {
        &self.0
    }
}

/// The filesystem a described object is on: pipefs for a pipe, the anonymous-inode one else.
struct DescribedFs(Arc<dyn FileLike>);

impl FileSystem for DescribedFs {
    fn root_inode(&self) -> Arc<dyn INode> {
        Arc::new(DescribedInode(self.0.clone()))
    }

    fn sync(&self) -> FsResult<()> {
        Ok(())
    }

    fn info(&self) -> FsResult<FsInfo> {
        let metadata = self
            .0
            .metadata()
            .map_err(|e| FsError::from_errno(e.errno()))?;
        Ok(FsInfo::simple(if metadata.type_ == FileType::NamedPipe {
            PIPEFS_MAGIC
        } else {
            ANON_INODE_FS_MAGIC
        }))
    }
}

impl INode for DescribedInode {
    fn read_at(&self, _offset: usize, _buf: &mut [u8]) -> FsResult<usize> {
        Err(FsError::InvalidArgument)
    }

    fn write_at(&self, _offset: usize, _buf: &[u8]) -> FsResult<usize> {
        Err(FsError::InvalidArgument)
    }

    fn metadata(&self) -> FsResult<Metadata> {
        self.0
            .metadata()
            .map_err(|e| FsError::from_errno(e.errno()))
    }

    fn chmod(&self, _mode: u16) -> FsResult<()> {
        Err(FsError::NotPermitted)
    }

    fn chown(&self, _uid: Option<u32>, _gid: Option<u32>) -> FsResult<()> {
        Err(FsError::NotPermitted)
    }

    fn set_times(&self, _atime: TimeUpdate, _mtime: TimeUpdate) -> FsResult<()> {
        Err(FsError::NotPermitted)
    }

    fn resize(&self, _len: usize) -> FsResult<()> {
        // Truncation applies to regular files only; Linux ignores it for the rest.
        Ok(())
    }

    fn sync_all(&self) -> FsResult<()> {
        Ok(())
    }

    fn sync_data(&self) -> FsResult<()> {
        Ok(())
    }

    fn find(&self, _name: &str) -> FsResult<Arc<dyn INode>> {
        Err(FsError::NotDir)
    }

    fn lookup_follow(&self, _path: &str, _follow_last: bool) -> FsResult<Arc<dyn INode>> {
        Err(FsError::NotDir)
    }

    fn lookup_parent(&self, _path: &str) -> FsResult<PathParent> {
        Err(FsError::NotDir)
    }

    fn create(&self, _name: &str, _type: FileType, _mode: u16) -> FsResult<Arc<dyn INode>> {
        Err(FsError::NotDir)
    }

    fn symlink(&self, _name: &str, _target: &str) -> FsResult<Arc<dyn INode>> {
        Err(FsError::NotDir)
    }

    fn read_link(&self) -> FsResult<String> {
        Err(FsError::InvalidArgument)
    }

    fn link(&self, _name: &str, _other: &Arc<dyn INode>) -> FsResult<()> {
        Err(FsError::NotDir)
    }

    fn unlink(&self, _name: &str) -> FsResult<()> {
        Err(FsError::NotDir)
    }

    fn rmdir(&self, _name: &str) -> FsResult<()> {
        Err(FsError::NotDir)
    }

    fn move_(&self, _old: &str, _target: &Arc<dyn INode>, _new: &str) -> FsResult<()> {
        Err(FsError::NotDir)
    }

    fn list(&self) -> FsResult<Listing> {
        Err(FsError::NotDir)
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        Arc::new(DescribedFs(self.0.clone()))
    }

    fn as_any_ref(&self) -> &dyn Any {
        self
    }
}
