//! Path resolution for the file calls: where a path starts (`AT_FDCWD`, a directory
//! descriptor, the root), and a walk that checks what Linux's `link_path_walk` checks on the
//! way — search permission on every directory a name is looked up in (`EACCES`), `ENOTDIR`
//! for a non-directory in the middle, at most [`MAX_SYMLINK_FOLLOWS`] symbolic links
//! (`ELOOP`), a trailing `/` following a final link and requiring a directory.
//!
//! The walk asks the filesystem for one name at a time ([`INode::find`], which never follows
//! a link and keeps `..` confined), reads links itself and tracks the *physical* absolute path
//! of where it stands: `..` drops the last component and a link's target replaces it, so the
//! path is what Linux's `getcwd` would print for the object reached.
//!
//! A walk allocates little, as it runs for most calls: the components are taken in place from
//! the path and from the targets of the links being followed ([`Components`], Linux's stack
//! of nested links), and the path of where the walk stands grows and shrinks in place, in a
//! buffer its start made with room for the whole walk (see [`walk_room`]).

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use kernel_hostfs::{FileType, FsError, INode, Metadata, MAX_SYMLINK_FOLLOWS, NAME_MAX, PATH_MAX};
use linux_object::credentials::{Access, Credentials};
use linux_object::fs::{DescribedInode, File, FileLike};
use linux_object::mount::Mounts;
use linux_object::process::RootDir;
use linux_object::procfs::MagicTarget;
use linux_object::{LxError, LxResult};

use crate::Syscall;

/// `dirfd` meaning "the working directory".
pub(crate) const AT_FDCWD: i32 = -100;
/// Do not follow a final symbolic link.
pub(crate) const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
/// `unlinkat`: remove a directory.
pub(crate) const AT_REMOVEDIR: u32 = 0x200;
/// `faccessat2`: check with the effective ids.
pub(crate) const AT_EACCESS: u32 = 0x200;
/// `linkat`: follow a final symbolic link of the old path.
pub(crate) const AT_SYMLINK_FOLLOW: u32 = 0x400;
/// Do not trigger an automount (there are none here: accepted and ignored).
pub(crate) const AT_NO_AUTOMOUNT: u32 = 0x800;
/// An empty path names `dirfd` itself.
pub(crate) const AT_EMPTY_PATH: u32 = 0x1000;
/// `AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC`: the `statx` sync flags, which `newfstatat`
/// accepts too (both at once is `EINVAL` for `statx`).
pub(crate) const AT_STATX_SYNC_TYPE: u32 = 0x6000;

/// A filesystem object and the absolute path inside the container it was reached by.
#[derive(Clone)]
pub(crate) struct Located {
    /// The object.
    pub inode: Arc<dyn INode>,
    /// Its physical absolute path.
    pub path: String,
}

impl Located {
    /// `inode` reached by `path`, with room in its path for `room` bytes more, so that a walk
    /// from it appending that much does not reallocate.
    fn with_room(inode: Arc<dyn INode>, path: &str, room: usize) -> LxResult<Self> {
        let mut owned = String::new();
        owned
            .try_reserve_exact(path.len().saturating_add(room))
            .map_err(|_| LxError::ENOMEM)?;
        owned.push_str(path);
        Ok(Self { inode, path: owned })
    }

    /// The path of `name` inside this directory.
    pub fn child_path(&self, name: &str) -> LxResult<String> {
        let mut path = String::new();
        path.try_reserve_exact(self.path.len() + 1 + name.len())
            .map_err(|_| LxError::ENOMEM)?;
        path.push_str(&self.path);
        push_name(&mut path, name)?;
        Ok(path)
    }

    /// Steps into this directory's entry `name`, which is `inode`: the path gets `/name`, in
    /// place. A mount point is crossed to the root of what is mounted on it.
    fn enter(&mut self, name: &str, inode: Arc<dyn INode>, mounts: &Mounts) -> LxResult {
        push_name(&mut self.path, name)?;
        self.inode = match mounts.covering(&self.path) {
            Some(mount) => mount.root().clone(),
            None => inode,
        };
        Ok(())
    }

    /// Steps up to this directory's parent (`..`): from the root of a mount, the directory
    /// holding its mount point; the root's parent is the root.
    pub fn up(&mut self, mounts: &Mounts) -> LxResult {
        let covered = mounts
            .covering(&self.path)
            .and_then(|mount| mount.covered_parent().cloned());
        let parent = match covered {
            Some(parent) => parent,
            None => self.inode.find("..")?,
        };
        self.leave(parent)
    }

    /// Steps up to this directory's parent, which is `inode`: the path loses its last
    /// component, in place (the root's parent is the root, `/`).
    pub fn leave(&mut self, inode: Arc<dyn INode>) -> LxResult {
        match self.path.rfind('/') {
            Some(slash) if slash > 0 => self.path.truncate(slash),
            _ => set_root_path(&mut self.path)?,
        }
        self.inode = inode;
        Ok(())
    }

    /// Goes back to `root` (for an absolute path or link target): the path becomes the
    /// root's, in its buffer.
    fn restart_at(&mut self, root: &RootDir) -> LxResult {
        if root.path == "/" {
            set_root_path(&mut self.path)?;
        } else {
            self.path.clear();
            self.path
                .try_reserve(root.path.len())
                .map_err(|_| LxError::ENOMEM)?;
            self.path.push_str(&root.path);
        }
        self.inode = root.inode.clone();
        Ok(())
    }
}

/// Appends `/name` to `path`, or just `name` after the root's `/`.
fn push_name(path: &mut String, name: &str) -> LxResult {
    let slash = !path.ends_with('/');
    path.try_reserve(usize::from(slash) + name.len())
        .map_err(|_| LxError::ENOMEM)?;
    if slash {
        path.push('/');
    }
    path.push_str(name);
    Ok(())
}

/// Makes `path` the root's, `/`, keeping its buffer.
fn set_root_path(path: &mut String) -> LxResult {
    path.clear();
    path.try_reserve(1).map_err(|_| LxError::ENOMEM)?;
    path.push('/');
    Ok(())
}

/// The most a walk of `path` appends to the path of its start while it follows no link: `/`
/// and the name for each component, where `path` has a `/` before every component but
/// perhaps the first.
fn walk_room(path: &str) -> usize {
    path.len().saturating_add(1)
}

/// The first component of `text` and what follows it; `None` if `text` is only slashes.
fn first_component(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start_matches('/');
    if text.is_empty() {
        return None;
    }
    Some(text.split_once('/').unwrap_or((text, "")))
}

/// The components a walk has still to take, in place: what is left of the path walked and of
/// the target of each symbolic link being followed, innermost last (Linux's `nameidata`
/// stack). Nothing is copied per component; a link's target, read into a `String`, is kept
/// here until its last component is taken.
struct Components<'p> {
    /// What is left of the path walked.
    path: &'p str,
    /// The targets of the links being followed, each with the offset of what is left of it.
    links: Vec<(String, usize)>,
}

impl<'p> Components<'p> {
    /// The components of `path`.
    fn new(path: &'p str) -> Self {
        Self {
            path,
            links: Vec::new(),
        }
    }

    /// Drops the targets used up at the top of the stack: those links have been followed,
    /// the walk goes on in the text each was met in.
    fn drop_finished_links(&mut self) {
        while let Some((target, at)) = self.links.last() {
            if first_component(target.get(*at..).unwrap_or_default()).is_some() {
                break;
            }
            self.links.pop();
        }
    }

    /// Takes the next component; with it, whether it is the walk's last (no text has another).
    fn next(&mut self) -> Option<(&str, bool)> {
        self.drop_finished_links();
        let Some(((target, at), outer)) = self.links.split_last_mut() else {
            let (component, rest) = first_component(self.path)?;
            self.path = rest;
            return Some((component, first_component(rest).is_none()));
        };
        let (component, rest) = first_component(target.get(*at..).unwrap_or_default())?;
        *at = target.len() - rest.len();
        let is_last = first_component(rest).is_none()
            && outer.iter().all(|(target, at)| {
                first_component(target.get(*at..).unwrap_or_default()).is_none()
            })
            && first_component(self.path).is_none();
        Some((component, is_last))
    }

    /// Takes the components of `target`, a symbolic link's, before the ones left.
    fn follow(&mut self, target: String) -> LxResult {
        // A link that is the last component of the target it is in ends that target, so the
        // stack grows only with links nested in the middle of others (as Linux's).
        self.drop_finished_links();
        self.links.try_reserve(1).map_err(|_| LxError::ENOMEM)?;
        self.links.push((target, 0));
        Ok(())
    }
}

/// What the last component of a path is, as Linux's `last_type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Last {
    /// A name.
    Normal(String),
    /// `.`
    Dot,
    /// `..`
    DotDot,
    /// The path was only slashes.
    Root,
}

/// The directory holding a path's last component, and that component (for the calls that
/// create, remove or rename it).
pub(crate) struct Parent {
    /// The directory.
    pub dir: Located,
    /// The last component.
    pub last: Last,
    /// The path ended in `/`.
    pub trailing_slash: bool,
    /// The mounts the walk crossed, which looking the last component up crosses too.
    mounts: Mounts,
}

impl Parent {
    /// The last component's name; `err` for `.`, `..` or the root (each call decides which
    /// errno those get, as Linux).
    pub fn name(&self, err: LxError) -> LxResult<&str> {
        match &self.last {
            Last::Normal(name) => Ok(name),
            _ => Err(err),
        }
    }

    /// Looks the last (normal) component up without following it.
    pub fn lookup(&self, name: &str) -> LxResult<Located> {
        if name.len() > NAME_MAX {
            return Err(LxError::ENAMETOOLONG);
        }
        let inode = self.dir.inode.find(name)?;
        let path = self.dir.child_path(name)?;
        let inode = match self.mounts.covering(&path) {
            Some(mount) => mount.root().clone(),
            None => inode,
        };
        Ok(Located { inode, path })
    }

    /// The directory `..` names from the parent directory (for a last component `..`).
    pub fn dot_dot(self) -> LxResult<Located> {
        let mut dir = self.dir;
        dir.up(&self.mounts)?;
        Ok(dir)
    }
}

/// One path resolution: the root, the credentials permissions are checked with, and the
/// links followed so far (shared by the re-walks `open` does through a final link).
pub(crate) struct Walker {
    root: Arc<RootDir>,
    /// The container's mounts when the walk began.
    mounts: Mounts,
    credentials: Credentials,
    links: usize,
}

impl Walker {
    /// A walk from `root` across `mounts` checking permissions for `credentials`.
    pub fn new(root: Arc<RootDir>, mounts: Mounts, credentials: Credentials) -> Self {
        Self {
            root,
            mounts,
            credentials,
            links: 0,
        }
    }

    /// The credentials the walk checks with.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Whether `path`, from `start`, may be handed to the filesystem to find in one step (see
    /// [`INode::metadata_beneath`]): it is names alone (at least one, and no `.` or `..`, which
    /// the walk keeps inside the root itself), and the walker is privileged, since such a step checks the
    /// host's search permissions but not the container's.
    fn may_find_in_one_step(&self, path: &str) -> bool {
        let mut components = path.split('/').filter(|component| !component.is_empty());
        self.credentials.fs_privileged()
            && components.clone().next().is_some()
            && components.all(|component| component != "." && component != "..")
    }

    /// The root, as a place to start, with room in its path for `room` bytes more (see
    /// [`walk_room`]).
    pub fn root(&self, room: usize) -> LxResult<Located> {
        Located::with_room(self.root.inode.clone(), &self.root.path, room)
    }

    /// Whether `dir` is the root, where `..` stays (`follow_dotdot`'s `path_equal(root)`).
    /// The container's root filesystem keeps `..` at its root by itself; a root a process
    /// chose is recognised by its identity.
    fn at_root(&self, dir: &Located) -> LxResult<bool> {
        let Some(root) = self.root.identity else {
            return Ok(false);
        };
        let below_by_name = dir
            .path
            .strip_prefix(self.root.path.as_str())
            .is_some_and(|below| below.starts_with('/'));
        if below_by_name {
            return Ok(false);
        }
        // At the root by name, or reached from outside it (a working directory there, or a
        // name a rename made stale): the identity decides.
        let metadata = dir.inode.metadata()?;
        Ok((metadata.dev, metadata.inode) == root)
    }

    /// Checks that names may be looked up in `dir`: `ENOTDIR` if it is not a directory,
    /// `EACCES` without search permission (Linux's `may_lookup`). A privileged walker can
    /// search every directory, so only the type matters, which the lookup itself checks.
    fn may_lookup(&self, dir: &Located) -> LxResult {
        if self.credentials.fs_privileged() {
            return Ok(());
        }
        let metadata = dir.inode.metadata()?;
        if metadata.type_ != FileType::Dir {
            return Err(LxError::ENOTDIR);
        }
        self.credentials.permission(&metadata, Access::EXEC)
    }

    /// Counts one more link followed: `ELOOP` past [`MAX_SYMLINK_FOLLOWS`].
    fn count_link(&mut self) -> LxResult {
        self.links += 1;
        if self.links > MAX_SYMLINK_FOLLOWS {
            return Err(LxError::ELOOP);
        }
        Ok(())
    }

    /// Counts one more link followed and returns the target of `link`; `None` if `link` is not
    /// a symbolic link.
    fn link_target(&mut self, link: &dyn INode) -> LxResult<Option<String>> {
        let target = match link.read_link() {
            Ok(target) => target,
            // `read_link` refuses anything but a link without touching storage.
            Err(FsError::InvalidArgument) => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        self.count_link()?;
        if target.is_empty() {
            return Err(LxError::ENOENT);
        }
        if target.len() >= PATH_MAX {
            return Err(LxError::ENAMETOOLONG);
        }
        Ok(Some(target))
    }

    /// Resolves `path` from `start` (from the root if it is absolute). A final symbolic link
    /// is followed if `follow_last` or the path ends in `/` (which also requires a
    /// directory).
    pub fn walk(&mut self, start: Located, path: &str, follow_last: bool) -> LxResult<Located> {
        let mut current = start;
        if path.starts_with('/') {
            current.restart_at(&self.root)?;
        }
        // Links aside, the walk then appends to the path without reallocating it; a start
        // made for this path has that room already.
        current
            .path
            .try_reserve(walk_room(path))
            .map_err(|_| LxError::ENOMEM)?;
        let mut must_be_dir = path.ends_with('/');
        let mut components = Components::new(path);
        while let Some((component, is_last)) = components.next() {
            self.may_lookup(&current)?;
            match component {
                "." => {
                    // Still a lookup: a non-directory fails here as in Linux.
                    current.inode.find(".")?;
                }
                ".." => {
                    if !self.at_root(&current)? {
                        current.up(&self.mounts)?;
                    }
                }
                name => {
                    if name.len() > NAME_MAX {
                        return Err(LxError::ENAMETOOLONG);
                    }
                    let child = current.inode.find(name)?;
                    let follow = !is_last || follow_last || must_be_dir;
                    if follow {
                        // `/proc/PID/fd/N`, `/proc/PID/ns/NAME`: magic links, which go to the object itself.
                        if let Some(target) = linux_object::procfs::magic_link_target(&*child) {
                            self.count_link()?;
                            current = match target? {
                                MagicTarget::File(file) => described(file)?,
                                MagicTarget::Object(inode) => Located {
                                    inode,
                                    path: String::new(),
                                },
                            };
                            continue;
                        }
                    }
                    let target = if follow {
                        self.link_target(&*child)?
                    } else {
                        None
                    };
                    match target {
                        Some(target) => {
                            if is_last && target.ends_with('/') {
                                must_be_dir = true;
                            }
                            if target.starts_with('/') {
                                current.restart_at(&self.root)?;
                            }
                            components.follow(target)?;
                        }
                        None => current.enter(name, child, &self.mounts)?,
                    }
                }
            }
        }
        if must_be_dir && current.inode.file_type()? != FileType::Dir {
            return Err(LxError::ENOTDIR);
        }
        Ok(current)
    }

    /// Resolves all of `path` but its last component (following links) and returns the
    /// directory reached with that component. Search permission on the directory is checked
    /// here, as Linux checks it before looking the last name up.
    pub fn walk_parent(&mut self, start: Located, path: &str) -> LxResult<Parent> {
        let trimmed = path.trim_end_matches('/');
        let trailing_slash = trimmed.len() < path.len();
        let (dir, last) = match trimmed.rsplit_once('/') {
            None if trimmed.is_empty() => {
                return Ok(Parent {
                    dir: self.root(0)?,
                    last: Last::Root,
                    trailing_slash,
                    mounts: self.mounts.clone(),
                })
            }
            None => (start, trimmed),
            Some((dir_path, name)) => {
                let dir = if dir_path.is_empty() {
                    self.root(0)?
                } else {
                    self.walk(start, dir_path, true)?
                };
                (dir, name)
            }
        };
        self.may_lookup(&dir)?;
        if dir.inode.file_type()? != FileType::Dir {
            return Err(LxError::ENOTDIR);
        }
        let last = match last {
            "." => Last::Dot,
            ".." => Last::DotDot,
            name if name.len() > NAME_MAX => return Err(LxError::ENAMETOOLONG),
            name => Last::Normal(String::from(name)),
        };
        Ok(Parent {
            dir,
            last,
            trailing_slash,
            mounts: self.mounts.clone(),
        })
    }

    /// If `node` is a symbolic link, counts it and returns its target (for `open` following
    /// a final link by hand); `None` otherwise.
    pub fn follow(&mut self, node: &Located) -> LxResult<Option<String>> {
        self.link_target(&*node.inode)
    }
}

/// Where a `/proc/PID/fd/N` link leads: the file's inode at the path it was opened by, or,
/// for what no path names (a pipe, a socket, an inherited host file), the object itself.
fn described(file: Arc<dyn FileLike>) -> LxResult<Located> {
    if let Some(node) = located_file(&*file) {
        return Ok(node);
    }
    let mut path = String::new();
    path.try_reserve(1).map_err(|_| LxError::ENOMEM)?;
    Ok(Located {
        inode: Arc::new(DescribedInode::new(file)),
        path,
    })
}

/// What a path with `AT_EMPTY_PATH` may name: a descriptor's description, which need not
/// have an inode (a pipe), or an object found by a walk.
pub(crate) enum Object {
    /// A descriptor's description.
    File(Arc<dyn FileLike>),
    /// An object found by a walk.
    Node(Located),
}

impl Object {
    /// `stat` of the object.
    pub fn metadata(&self) -> LxResult<Metadata> {
        match self {
            Self::File(file) => file.metadata(),
            // Not `Ok(…?)`: that moves the metadata field by field, this as a whole.
            Self::Node(node) => node.inode.metadata().map_err(LxError::from),
        }
    }
}

impl Syscall<'_> {
    /// A walker with the process's credentials.
    pub(crate) fn walker(&self) -> Walker {
        Walker::new(
            self.process.root(),
            self.process.mounts().snapshot(),
            self.process.credentials(),
        )
    }

    /// A walker from the container's root rather than the process's (for the absolute
    /// paths rVisor records, which are the container's).
    pub(crate) fn container_walker(&self) -> LxResult<Walker> {
        let root = self.process.root();
        if root.identity.is_none() {
            return Ok(Walker::new(
                root,
                self.process.mounts().snapshot(),
                self.process.credentials(),
            ));
        }
        let container = self.process.container().ok_or(LxError::ESRCH)?;
        Ok(Walker::new(
            Arc::new(RootDir::container(container.root().clone())),
            self.process.mounts().snapshot(),
            self.process.credentials(),
        ))
    }

    /// Where a path relative to `dirfd` starts: the working directory for `AT_FDCWD`, or the
    /// directory `dirfd` names (`EBADF` if none, `ENOTDIR` if not a directory), with room in
    /// its path for `room` bytes more (see [`walk_room`]). Not called for absolute paths,
    /// which ignore `dirfd` as Linux does.
    pub(crate) fn start_at(&self, dirfd: i32, room: usize) -> LxResult<Located> {
        if dirfd == AT_FDCWD {
            // Copied from the process's record straight into a buffer with the room.
            return self
                .process
                .with_cwd(|cwd| Located::with_room(cwd.inode.clone(), &cwd.path, room));
        }
        let file = self.process.files().get(dirfd)?;
        let mut node = located_file(&*file).ok_or(LxError::ENOTDIR)?;
        if node.inode.file_type()? != FileType::Dir {
            return Err(LxError::ENOTDIR);
        }
        node.path.try_reserve(room).map_err(|_| LxError::ENOMEM)?;
        Ok(node)
    }

    /// The start for `path`: the root for an absolute path (whatever `dirfd` is), else
    /// [`start_at`](Self::start_at); with room for the walk of `path`.
    fn start_for(&self, walker: &Walker, dirfd: i32, path: &str) -> LxResult<Located> {
        let room = walk_room(path);
        if path.starts_with('/') {
            walker.root(room)
        } else {
            self.start_at(dirfd, room)
        }
    }

    /// The directory a relative path starts at, as [`start_at`](Self::start_at) finds it,
    /// without the path it was reached by.
    fn start_inode(&self, dirfd: i32) -> LxResult<Arc<dyn INode>> {
        if dirfd == AT_FDCWD {
            return Ok(self.process.with_cwd(|cwd| cwd.inode.clone()));
        }
        let file = self.process.files().get(dirfd)?;
        let inode = file
            .as_any()
            .downcast_ref::<File>()
            .and_then(File::inode)
            .ok_or(LxError::ENOTDIR)?;
        if inode.file_type()? != FileType::Dir {
            return Err(LxError::ENOTDIR);
        }
        Ok(inode)
    }

    /// What `stat` reports for the object `path` names relative to `dirfd`: the object
    /// [`resolve_with`](Self::resolve_with) finds, asked of the filesystem in one step where
    /// the walker allows it and the filesystem can, and walked otherwise.
    pub(crate) fn metadata_at(
        &self,
        walker: &mut Walker,
        dirfd: i32,
        path: &str,
        follow_last: bool,
    ) -> LxResult<Metadata> {
        if walker.may_find_in_one_step(path) {
            // A path reaching a mount point is walked, to cross it.
            let start = if path.starts_with('/') {
                Some(walker.root.inode.clone())
                    .filter(|_| !walker.mounts.may_cross(&walker.root.path, path))
            } else if walker.mounts.only_root() {
                Some(self.start_inode(dirfd)?)
            } else {
                let start = self.start_at(dirfd, 0)?;
                Some(start.inode).filter(|_| !walker.mounts.may_cross(&start.path, path))
            };
            if let Some(start) = start {
                if let Some(metadata) = start.metadata_beneath(path, follow_last)? {
                    return Ok(metadata);
                }
            }
        }
        let node = self.resolve_with(walker, dirfd, path, follow_last)?;
        node.inode.metadata().map_err(LxError::from)
    }

    /// What `stat` reports for the object [`resolve_object`](Self::resolve_object) finds.
    pub(crate) fn object_metadata(
        &self,
        walker: &mut Walker,
        dirfd: i32,
        path: &[u8],
        follow_last: bool,
        empty_path: bool,
    ) -> LxResult<Metadata> {
        if path.is_empty() {
            return self
                .resolve_object(walker, dirfd, path, follow_last, empty_path)?
                .metadata();
        }
        // As in `resolve_object`: a name that is not UTF-8 cannot exist here.
        let path = core::str::from_utf8(path).map_err(|_| LxError::ENOENT)?;
        self.metadata_at(walker, dirfd, path, follow_last)
    }

    /// Resolves `path` relative to `dirfd`.
    pub(crate) fn resolve_with(
        &self,
        walker: &mut Walker,
        dirfd: i32,
        path: &str,
        follow_last: bool,
    ) -> LxResult<Located> {
        let start = self.start_for(walker, dirfd, path)?;
        walker.walk(start, path, follow_last)
    }

    /// Resolves `path` relative to `dirfd` with the process's credentials.
    pub(crate) fn resolve(&self, dirfd: i32, path: &str, follow_last: bool) -> LxResult<Located> {
        self.resolve_with(&mut self.walker(), dirfd, path, follow_last)
    }

    /// Resolves all of `path` but its last component, relative to `dirfd`.
    pub(crate) fn resolve_parent_with(
        &self,
        walker: &mut Walker,
        dirfd: i32,
        path: &str,
    ) -> LxResult<Parent> {
        let start = self.start_for(walker, dirfd, path)?;
        walker.walk_parent(start, path)
    }

    /// [`resolve_parent_with`](Self::resolve_parent_with) the process's credentials.
    #[cfg(test)]
    pub(crate) fn resolve_parent(&self, dirfd: i32, path: &str) -> LxResult<Parent> {
        self.resolve_parent_with(&mut self.walker(), dirfd, path)
    }

    /// Resolves a user path for a call taking `AT_EMPTY_PATH`: an empty path with
    /// `empty_path` set names `dirfd` itself (the working directory for `AT_FDCWD`), any
    /// description; otherwise as [`resolve_with`](Self::resolve_with).
    pub(crate) fn resolve_object(
        &self,
        walker: &mut Walker,
        dirfd: i32,
        path: &[u8],
        follow_last: bool,
        empty_path: bool,
    ) -> LxResult<Object> {
        if path.is_empty() {
            if !empty_path {
                return Err(LxError::ENOENT);
            }
            if dirfd == AT_FDCWD {
                return Ok(Object::Node(self.start_at(dirfd, 0)?));
            }
            let file = self.process.files().get(dirfd)?;
            return Ok(match located_file(&*file) {
                Some(node) => Object::Node(node),
                None => Object::File(file),
            });
        }
        // Paths are UTF-8 in this filesystem: another name cannot exist (see `read_path`).
        let path = core::str::from_utf8(path).map_err(|_| LxError::ENOENT)?;
        Ok(Object::Node(self.resolve_with(
            walker,
            dirfd,
            path,
            follow_last,
        )?))
    }
}

/// The inode behind a description with the path it was opened by, if it is a [`File`]
/// (descriptions of other kinds have no place in the tree). A file opened without a recorded
/// path (none of this crate's) gets an empty path, which `getcwd` reports as unreachable.
pub(crate) fn located_file(file: &dyn FileLike) -> Option<Located> {
    let file = file.as_any().downcast_ref::<File>()?;
    Some(Located {
        inode: file.inode()?,
        path: String::from(file.path().unwrap_or("")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::Sandbox;

    #[test]
    fn the_walk_tracks_the_physical_path() {
        let sandbox = Sandbox::new("path-physical");
        sandbox.mkdir("a");
        sandbox.mkdir("a/b");
        sandbox.symlink("/a/b", "lb");
        sandbox.symlink("b/../b/", "a/rel");
        let sys = sandbox.syscall();
        let found = sys.resolve(AT_FDCWD, "lb/../b/./", true).unwrap();
        assert_eq!(found.path, "/a/b");
        let found = sys.resolve(AT_FDCWD, "/a/rel", true).unwrap();
        assert_eq!(found.path, "/a/b");
        let link = sys.resolve(AT_FDCWD, "a/rel", false).unwrap();
        assert_eq!(link.path, "/a/rel");
        let up = sys.resolve(AT_FDCWD, "../../..", true).unwrap();
        assert_eq!(up.path, "/");
    }

    #[test]
    fn components_are_taken_from_the_path_and_nested_link_targets() {
        let mut components = Components::new("x//y/");
        assert_eq!(components.next(), Some(("x", false)));
        components.follow(String::from("/p/q//")).unwrap();
        assert_eq!(components.next(), Some(("p", false)));
        components.follow(String::from("r")).unwrap();
        assert_eq!(components.next(), Some(("r", false)));
        assert_eq!(components.next(), Some(("q", false)));
        assert_eq!(components.next(), Some(("y", true)));
        // A link target of slashes only adds no component.
        components.follow(String::from("//")).unwrap();
        assert_eq!(components.next(), None);
        assert!(components.links.is_empty());
        assert_eq!(Components::new("///").next(), None);
        // Links that end their targets leave no text behind them.
        let mut chain = Components::new("l/f");
        assert_eq!(chain.next(), Some(("l", false)));
        for _ in 0..3 {
            chain.follow(String::from("m")).unwrap();
            assert_eq!(chain.next(), Some(("m", false)));
        }
        assert_eq!(chain.links.len(), 1);
        assert_eq!(chain.next(), Some(("f", true)));
    }

    #[test]
    fn nested_links_give_physical_paths() {
        let sandbox = Sandbox::new("path-nested");
        sandbox.mkdir("a");
        sandbox.mkdir("a/b");
        sandbox.mkdir("a/b/c");
        sandbox.write("a/b/c/f", b"x");
        sandbox.symlink("b/c", "a/to-c");
        sandbox.symlink("a/to-c/", "outer");
        sandbox.symlink("a/to-c", "mid");
        sandbox.symlink("/a/b", "abs");
        sandbox.symlink("../../../abs/c", "a/b/c/up");
        sandbox.symlink("/", "root-link");
        let sys = sandbox.syscall();
        let path = |path: &str, follow: bool| sys.resolve(AT_FDCWD, path, follow).map(|n| n.path);
        // A link through a link, with components after both.
        assert_eq!(path("outer/f", true).unwrap(), "/a/b/c/f");
        // `to-c` ends `mid`'s target but not the walk: it is followed even without follow_last.
        assert_eq!(path("mid/f", false).unwrap(), "/a/b/c/f");
        assert_eq!(path("mid", false).unwrap(), "/mid");
        assert_eq!(path("mid", true).unwrap(), "/a/b/c");
        assert_eq!(path("a/to-c", false).unwrap(), "/a/to-c");
        // `..` after a link leaves its target, not the link.
        assert_eq!(path("outer/..", true).unwrap(), "/a/b");
        assert_eq!(path("abs/../to-c/../..", true).unwrap(), "/a");
        assert_eq!(path("a/b/c/up/f", true).unwrap(), "/a/b/c/f");
        assert_eq!(path("root-link/../a", true).unwrap(), "/a");
        assert_eq!(path("root-link", true).unwrap(), "/");
        assert_eq!(path("/a/b/../../..//a/./b", true).unwrap(), "/a/b");
        // The same from a working directory below the root.
        let dir = sys.resolve(AT_FDCWD, "a/b", true).unwrap();
        sys.process.set_cwd(linux_object::process::WorkingDir {
            inode: dir.inode,
            path: dir.path,
        });
        assert_eq!(path("c/up/../c", true).unwrap(), "/a/b/c");
        assert_eq!(path("../to-c/f", true).unwrap(), "/a/b/c/f");
        assert_eq!(path(".", true).unwrap(), "/a/b");
    }

    #[test]
    fn a_trailing_slash_requires_a_directory_through_links() {
        let sandbox = Sandbox::new("path-trailing");
        sandbox.mkdir("d");
        sandbox.write("f", b"x");
        sandbox.symlink("f/", "to-f-slash");
        sandbox.symlink("to-f-slash", "to-link");
        sandbox.symlink("d/", "to-d-slash");
        sandbox.symlink("to-d-slash", "to-d-link");
        let sys = sandbox.syscall();
        let path = |path: &str, follow: bool| sys.resolve(AT_FDCWD, path, follow).map(|n| n.path);
        // A final link's target ending in `/` is followed to the end and must be a directory,
        // also when the link is the last component of another link's target.
        assert_eq!(path("to-f-slash", true), Err(LxError::ENOTDIR));
        assert_eq!(path("to-link", true), Err(LxError::ENOTDIR));
        assert_eq!(path("to-link/", false), Err(LxError::ENOTDIR));
        assert_eq!(path("to-link", false).unwrap(), "/to-link");
        assert_eq!(path("to-d-link", true).unwrap(), "/d");
        assert_eq!(path("to-d-link/", false).unwrap(), "/d");
        assert_eq!(path("d//", false).unwrap(), "/d");
        assert_eq!(path("f//", true), Err(LxError::ENOTDIR));
    }

    #[test]
    fn at_most_max_symlink_follows_links_are_followed() {
        let sandbox = Sandbox::new("path-chain");
        sandbox.mkdir("d");
        sandbox.symlink("d", &alloc::format!("l{MAX_SYMLINK_FOLLOWS}"));
        for link in 0..MAX_SYMLINK_FOLLOWS {
            sandbox.symlink(&alloc::format!("l{}", link + 1), &alloc::format!("l{link}"));
        }
        let sys = sandbox.syscall();
        assert_eq!(sys.resolve(AT_FDCWD, "l1/", false).unwrap().path, "/d");
        assert_eq!(
            sys.resolve(AT_FDCWD, "l0", true).err(),
            Some(LxError::ELOOP)
        );
    }

    #[test]
    fn walk_errors_are_linux_errors() {
        let sandbox = Sandbox::new("path-errors");
        sandbox.write("f", b"x");
        sandbox.symlink("loop", "loop");
        sandbox.symlink("f", "to-f");
        let sys = sandbox.syscall();
        assert_eq!(
            sys.resolve(AT_FDCWD, "f/x", true).err(),
            Some(LxError::ENOTDIR)
        );
        assert_eq!(
            sys.resolve(AT_FDCWD, "f/", true).err(),
            Some(LxError::ENOTDIR)
        );
        assert_eq!(
            sys.resolve(AT_FDCWD, "to-f/", false).err(),
            Some(LxError::ENOTDIR)
        );
        assert_eq!(
            sys.resolve(AT_FDCWD, "loop", true).err(),
            Some(LxError::ELOOP)
        );
        assert!(sys.resolve(AT_FDCWD, "loop", false).is_ok());
        assert_eq!(
            sys.resolve(AT_FDCWD, "nothing/x", true).err(),
            Some(LxError::ENOENT)
        );
        let long = "n".repeat(NAME_MAX + 1);
        assert_eq!(
            sys.resolve(AT_FDCWD, &long, true).err(),
            Some(LxError::ENAMETOOLONG)
        );
        assert_eq!(sys.start_at(55, 0).err(), Some(LxError::EBADF));
    }

    #[test]
    fn search_permission_is_checked_on_every_directory() {
        let sandbox = Sandbox::new("path-search");
        sandbox.mkdir("locked");
        sandbox.write("locked/f", b"x");
        sandbox.chmod("locked", 0o600);
        let user = sandbox.syscall_as(1000, 1000);
        assert_eq!(
            user.resolve(AT_FDCWD, "locked/f", true).err(),
            Some(LxError::EACCES)
        );
        // The directory itself can still be reached: its parent is searchable.
        assert!(user.resolve(AT_FDCWD, "locked", true).is_ok());
        assert_eq!(
            user.resolve_parent(AT_FDCWD, "locked/new").err(),
            Some(LxError::EACCES)
        );
        let root = sandbox.syscall();
        assert!(root.resolve(AT_FDCWD, "locked/f", true).is_ok());
    }

    #[test]
    fn parents_and_last_components() {
        let sandbox = Sandbox::new("path-parent");
        sandbox.mkdir("d");
        let sys = sandbox.syscall();
        let parent = sys.resolve_parent(AT_FDCWD, "d/new/").unwrap();
        assert_eq!(parent.dir.path, "/d");
        assert_eq!(parent.last, Last::Normal("new".into()));
        assert!(parent.trailing_slash);
        assert_eq!(sys.resolve_parent(AT_FDCWD, "//").unwrap().last, Last::Root);
        assert_eq!(
            sys.resolve_parent(AT_FDCWD, "d/..").unwrap().last,
            Last::DotDot
        );
        assert_eq!(sys.resolve_parent(AT_FDCWD, ".").unwrap().last, Last::Dot);
    }
}
