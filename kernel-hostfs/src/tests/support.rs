//! Scratch directories and small helpers shared by the tests.

use std::format;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::string::String;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::vec::Vec;

use crate::{FileSystem, HostBackend, HostFs, INode};

/// A directory under the system temp dir, unique to this test, removed on drop.
pub(crate) struct Scratch {
    path: PathBuf,
}

impl Scratch {
    pub(crate) fn new(label: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("kernel-hostfs-{label}-{}-{unique}", std::process::id());
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self { path }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn join(&self, relative: &str) -> PathBuf {
        self.path.join(relative)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A scratch directory whose `root/` is a `HostFs`; `root()` is its root inode.
pub(crate) struct Mounted {
    pub(crate) scratch: Scratch,
    pub(crate) fs: Arc<HostFs<HostBackend>>,
}

impl Mounted {
    pub(crate) fn new(label: &str) -> Self {
        let scratch = Scratch::new(label);
        std::fs::create_dir(scratch.join("root")).unwrap();
        let fs = HostFs::new(scratch.join("root")).unwrap();
        Self { scratch, fs }
    }

    pub(crate) fn root(&self) -> Arc<dyn INode> {
        self.fs.root_inode()
    }

    /// The host path of `relative` inside the root.
    pub(crate) fn host(&self, relative: &str) -> PathBuf {
        self.scratch.join("root").join(relative)
    }
}

pub(crate) fn ino(node: &Arc<dyn INode>) -> u64 {
    node.metadata().unwrap().inode
}

pub(crate) fn host_ino(path: impl AsRef<Path>) -> u64 {
    std::fs::symlink_metadata(path).unwrap().ino()
}

/// The whole content of a file inode.
pub(crate) fn read_all(node: &Arc<dyn INode>) -> Vec<u8> {
    let mut content = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = node.read_at(content.len(), &mut buf).unwrap();
        if n == 0 {
            return content;
        }
        content.extend_from_slice(&buf[..n]);
    }
}

pub(crate) fn read_text(node: &Arc<dyn INode>) -> String {
    String::from_utf8(read_all(node)).unwrap()
}
