//! Path resolution confined to a filesystem's root: the code that makes [`HostFs`] safe.
//!
//! The walk holds a handle for every directory it stands in and only ever asks the backend
//! for *one name in one held directory*, without following symbolic links. So:
//!
//! * `..` is never asked of the backend: it moves to the node the walk came from (recorded in
//!   each node as its parent), and the root has no parent, so `..` at the root stays there.
//!   A directory moved away on the host while a walk (or a held inode) is inside it can
//!   therefore never lead `..` out of the tree: the way up is the way the walk came down.
//! * A symbolic link is read, not followed, by the backend; the walk then continues with the
//!   link's target text: from the root if it is absolute, from the link's directory if not.
//!   Both go through this same walk, so a link can no more escape than a typed path can.
//! * At most [`MAX_SYMLINK_FOLLOWS`] links are followed per resolution (`ELOOP` after that,
//!   as Linux's `MAXSYMLINKS`); names longer than `NAME_MAX` are `ENAMETOOLONG` when reached,
//!   paths longer than `PATH_MAX` and embedded NULs are refused before anything is walked.
//!
//! Nothing here depends on the backend beyond [`Backend`]'s one-name lookup and link read,
//! which is why the kernel backend inherits these guarantees unchanged.
//!
//! ```
//! use kernel_hostfs::{FileSystem, FileType, FsError, HostFs, MAX_SYMLINK_FOLLOWS};
//!
//! # let dir = std::env::temp_dir().join(format!("kernel-hostfs-doc-walk-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let root = HostFs::new(&dir)?.root_inode();
//! root.create("etc", FileType::Dir, 0o755)?;
//! root.symlink("up", "../../..")?;
//! root.symlink("hosts-etc", "/etc")?;
//! root.symlink("loop", "loop")?;
//!
//! let etc = root.lookup("etc")?.metadata()?.inode;
//! assert_eq!(root.lookup("up/etc")?.metadata()?.inode, etc); // clamped at the root
//! assert_eq!(root.lookup("hosts-etc")?.metadata()?.inode, etc); // "/" is the root
//! assert_eq!(root.lookup("loop").err(), Some(FsError::SymlinkLoop));
//! let forty_passes = "up/".repeat(MAX_SYMLINK_FOLLOWS) + "etc";
//! assert_eq!(root.lookup(&forty_passes)?.metadata()?.inode, etc);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), FsError>(())
//! ```
//!
//! [`HostFs`]: crate::HostFs
//! [`Backend`]: crate::Backend

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::backend::Backend;
use crate::error::{FsError, FsResult};
use crate::hostfs::HostINode;
use crate::metadata::FileType;
use crate::name::{check_path, Name, NAME_MAX};

/// Most symbolic links one resolution follows before failing with `ELOOP` (Linux's
/// `MAXSYMLINKS`).
pub const MAX_SYMLINK_FOLLOWS: usize = 40;

/// Resolves `path` starting at `start` (or at the root if it is absolute). The last
/// component is followed if it is a symbolic link only when `follow_last` is set; a trailing
/// `/` always follows it and requires a directory.
pub(crate) fn resolve<B: Backend>(
    start: &Arc<HostINode<B>>,
    path: &str,
    follow_last: bool,
) -> FsResult<Arc<HostINode<B>>> {
    check_path(path)?;
    let mut walk = Walk {
        current: start.clone(),
        pending: Vec::new(),
        links_followed: 0,
    };
    walk.push_path(path);
    walk.run(follow_last)
}

/// Resolves every component of `path` but the last, following symbolic links, and returns
/// the directory reached, the last component, and whether the path ended in `/`.
pub(crate) fn resolve_parent<B: Backend>(
    start: &Arc<HostINode<B>>,
    path: &str,
) -> FsResult<(Arc<HostINode<B>>, String, bool)> {
    check_path(path)?;
    let trimmed = path.trim_end_matches('/');
    let must_be_dir = trimmed.len() < path.len();
    let (dir, name) = match trimmed.rsplit_once('/') {
        // Only slashes: the path names the root itself.
        None if trimmed.is_empty() => (start.root(), "."),
        None => (start.clone(), trimmed),
        Some(("", name)) => (start.root(), name),
        Some((dir_path, name)) => (resolve(start, dir_path, true)?, name),
    };
    dir.require_dir()?;
    if name.len() > NAME_MAX {
        return Err(FsError::NameTooLong);
    }
    Ok((dir, name.to_string(), must_be_dir))
}

/// The state of one resolution.
struct Walk<B: Backend> {
    /// The node reached so far; a directory whenever another component is to be walked.
    current: Arc<HostINode<B>>,
    /// Components still to walk, the next one last. Following a link pushes its target's
    /// components on top, so they are walked before the rest of the path.
    pending: Vec<String>,
    links_followed: usize,
}

impl<B: Backend> Walk<B> {
    /// Queues `path`'s components ahead of the pending ones. An absolute path restarts from
    /// the root; a trailing `/` becomes a final `.`, which requires a directory and makes the
    /// component before it non-final, so a link there is followed (as Linux does).
    fn push_path(&mut self, path: &str) {
        if path.starts_with('/') {
            self.current = self.current.root();
        }
        if path.ends_with('/') {
            self.pending.push(".".to_string());
        }
        let components = path.split('/').filter(|component| !component.is_empty());
        self.pending.extend(components.rev().map(str::to_string));
    }

    fn run(mut self, follow_last: bool) -> FsResult<Arc<HostINode<B>>> {
        while let Some(component) = self.pending.pop() {
            let is_last = self.pending.is_empty();
            self.current.require_dir()?;
            match component.as_str() {
                "." => {}
                ".." => self.current = self.current.parent_or_self(),
                name => {
                    let child = self.current.child(Name::new(name)?)?;
                    if child.file_type() == FileType::SymLink && (follow_last || !is_last) {
                        self.follow(&child)?;
                    } else {
                        self.current = child;
                    }
                }
            }
        }
        Ok(self.current)
    }

    /// Continues the walk through the symbolic link `link`, which lives in `self.current`.
    fn follow(&mut self, link: &HostINode<B>) -> FsResult<()> {
        self.links_followed += 1;
        if self.links_followed > MAX_SYMLINK_FOLLOWS {
            return Err(FsError::SymlinkLoop);
        }
        let target = link.link_target()?;
        // The same checks as a typed path: an empty target is ENOENT, as in Linux.
        check_path(&target)?;
        self.push_path(&target);
        Ok(())
    }
}
