//! `open`, `openat`, `creat`, `close`, `umask`: turning a path into a descriptor, as Linux's
//! `do_sys_openat2` — flags checked first, then the path read, a descriptor reserved
//! (`EMFILE`), the path walked, the object created or checked (`may_open`), truncated.

use alloc::sync::Arc;
use kernel_hostfs::{FileType, INode, Metadata};
use linux_object::credentials::Access;
use linux_object::fs::{DescribedInode, Device, File, FileLike, OpenFlags};
use linux_object::{LxError, LxResult};

use super::path::{Last, Located, Walker, AT_FDCWD};
use crate::user::UserInPtr;
use crate::{SysResult, Syscall};

const O_ACCMODE: u32 = 0o3;
const O_WRONLY: u32 = 0o1;
const O_RDWR: u32 = 0o2;
pub(crate) const O_CREAT: u32 = 0o100;
const O_EXCL: u32 = 0o200;
const O_NOCTTY: u32 = 0o400;
const O_TRUNC: u32 = 0o1000;
const O_DSYNC: u32 = 0o10_000;
const O_LARGEFILE: u32 = 0o100_000;
const O_DIRECTORY: u32 = 0o200_000;
const O_NOFOLLOW: u32 = 0o400_000;
const O_NOATIME: u32 = 0o1_000_000;
pub(crate) const O_CLOEXEC: u32 = 0o2_000_000;
const O_SYNC_BIT: u32 = 0o4_000_000;
const O_PATH: u32 = 0o10_000_000;
const O_TMPFILE_BIT: u32 = 0o20_000_000;

/// Every flag `open` knows (Linux's `VALID_OPEN_FLAGS`); others are ignored by `open` and
/// `openat`, as Linux ignores them.
const VALID_OPEN_FLAGS: u32 = 0o37_777_703;

/// The flags an `O_PATH` open keeps.
const O_PATH_FLAGS: u32 = O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC;

/// Flags that only matter while opening and are not kept by the description.
const OPEN_ONLY_FLAGS: u32 = O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC;

/// The permission bits a new object's mode may have (`S_IALLUGO`).
const S_IALLUGO: u32 = 0o7777;
/// Set-group-ID.
const S_ISGID: u16 = 0o2000;
/// Group execute.
const S_IXGRP: u16 = 0o010;

/// Normalises `open`'s flags as Linux's `build_open_how`/`build_open_flags`, failing with
/// `EINVAL` where Linux does.
fn open_flags(raw: u32) -> LxResult<u32> {
    let mut flags = raw & VALID_OPEN_FLAGS;
    if flags & O_PATH != 0 {
        flags &= O_PATH_FLAGS;
    }
    // Linux 6.4 and later refuse the combination that used to create a regular file.
    if flags & O_DIRECTORY != 0 && flags & O_CREAT != 0 {
        return Err(LxError::EINVAL);
    }
    if flags & O_SYNC_BIT != 0 {
        flags |= O_DSYNC;
    }
    if flags & O_TMPFILE_BIT != 0 {
        if flags & (O_TMPFILE_BIT | O_DIRECTORY | O_CREAT) != O_TMPFILE_BIT | O_DIRECTORY {
            return Err(LxError::EINVAL);
        }
        if !matches!(flags & O_ACCMODE, O_WRONLY | O_RDWR) {
            return Err(LxError::EINVAL);
        }
    }
    Ok(flags)
}

/// What opening with `flags` asks permission for (`ACC_MODE` plus write for `O_TRUNC`).
fn access_for(flags: u32) -> Access {
    let mut access = match flags & O_ACCMODE {
        0 => Access::READ,
        O_WRONLY => Access::WRITE,
        _ => Access::READ | Access::WRITE,
    };
    if flags & O_TRUNC != 0 {
        access |= Access::WRITE;
    }
    access
}

/// How far [`Syscall::open_start`] got: a descriptor, or a named pipe left to open.
enum Opened {
    Fd(usize),
    Fifo {
        node: Arc<dyn INode>,
        flags: OpenFlags,
        cloexec: bool,
    },
}

impl Syscall<'_> {
    /// `openat(dirfd, path, flags, mode)`, where it does not wait: everything but an open
    /// of a named pipe that must wait for the other side (`None`: run
    /// [`sys_openat`](Self::sys_openat), which waits).
    pub fn sys_openat_now(
        &self,
        dirfd: i32,
        path: UserInPtr<u8>,
        flags: u32,
        mode: u32,
    ) -> Option<SysResult> {
        match self.open_start(dirfd, path, flags, mode) {
            Ok(Opened::Fd(fd)) => Some(Ok(fd)),
            Ok(Opened::Fifo {
                node,
                flags,
                cloexec,
            }) => {
                let opened = self
                    .container()
                    .and_then(|c| c.fifos().open_now(node, flags));
                match opened {
                    Ok(Some(pipe)) => Some(self.install(pipe, cloexec)),
                    Ok(None) => None,
                    Err(error) => Some(Err(error)),
                }
            }
            Err(error) => Some(Err(error)),
        }
    }

    /// `openat(dirfd, path, flags, mode)`; an open of a named pipe waits for the other side
    /// as Linux's `fifo_open` does.
    pub async fn sys_openat(
        &self,
        dirfd: i32,
        path: UserInPtr<u8>,
        flags: u32,
        mode: u32,
    ) -> SysResult {
        match self.open_start(dirfd, path, flags, mode)? {
            Opened::Fd(fd) => Ok(fd),
            Opened::Fifo {
                node,
                flags,
                cloexec,
            } => {
                let pipe = self.container()?.fifos().open(node, flags).await?;
                self.install(pipe, cloexec)
            }
        }
    }

    /// `open(path, flags, mode)`, where it does not wait.
    pub fn sys_open_now(&self, path: UserInPtr<u8>, flags: u32, mode: u32) -> Option<SysResult> {
        self.sys_openat_now(AT_FDCWD, path, flags, mode)
    }

    /// `open(path, flags, mode)`: `openat` from the working directory.
    pub async fn sys_open(&self, path: UserInPtr<u8>, flags: u32, mode: u32) -> SysResult {
        self.sys_openat(AT_FDCWD, path, flags, mode).await
    }

    /// `creat(path, mode)`: `open(path, O_CREAT | O_WRONLY | O_TRUNC, mode)`, which never
    /// waits (a named pipe there is opened for writing, which may wait: see `open`).
    pub fn sys_creat_now(&self, path: UserInPtr<u8>, mode: u32) -> Option<SysResult> {
        self.sys_openat_now(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode)
    }

    /// `creat(path, mode)`.
    pub async fn sys_creat(&self, path: UserInPtr<u8>, mode: u32) -> SysResult {
        self.sys_openat(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode)
            .await
    }

    /// Installs `file` as the lowest free descriptor.
    fn install(&self, file: Arc<dyn FileLike>, cloexec: bool) -> SysResult {
        Ok(self.process.files().add(file, cloexec)? as usize)
    }

    /// Everything an open does, up to a named pipe's, which it leaves to its caller.
    fn open_start(
        &self,
        dirfd: i32,
        path: UserInPtr<u8>,
        flags: u32,
        mode: u32,
    ) -> LxResult<Opened> {
        let flags = open_flags(flags)?;
        let path = path.read_path()?;
        if !self.process.files().has_free() {
            return Err(LxError::EMFILE);
        }
        let mode = if flags & (O_CREAT | O_TMPFILE_BIT) != 0 {
            (mode & S_IALLUGO & !self.process.umask()) as u16
        } else {
            0
        };
        let (node, metadata) = self.open_node(dirfd, &path, flags, mode)?;
        let cloexec = flags & O_CLOEXEC != 0;
        // Reached through `/proc/PID/fd/N`: the description is shared, as `dup` shares it
        // (Linux opens the object anew; for these kinds only the status flags differ).
        if let Some(described) = node.inode.downcast_ref::<DescribedInode>() {
            let file = described.description().clone();
            return self.install(file, cloexec).map(Opened::Fd);
        }
        let kept = if flags & O_PATH != 0 {
            flags & !O_CLOEXEC
        } else {
            (flags & !OPEN_ONLY_FLAGS) | O_LARGEFILE
        };
        let kept = OpenFlags::from_bits_retain(kept);
        let file: Arc<dyn FileLike> = match metadata {
            // A named pipe is the container's own: its readers and writers meet in rVisor.
            Some(metadata) if metadata.type_ == FileType::NamedPipe => {
                return Ok(Opened::Fifo {
                    node: node.inode,
                    flags: kept,
                    cloexec,
                })
            }
            Some(metadata) if super::tty::is_served_terminal(&metadata) => self
                .open_terminal(&metadata, flags, kept)
                .unwrap_or(Err(LxError::ENXIO))?,
            Some(metadata) => match Device::open(&metadata, kept) {
                Some(device) => device,
                None => File::open(node.inode, kept, node.path)?,
            },
            None => File::open(node.inode, kept, node.path)?,
        };
        self.install(file, cloexec).map(Opened::Fd)
    }

    /// `close(fd)`.
    pub fn sys_close(&self, fd: i32) -> SysResult {
        let file = self.process.files().close(fd)?;
        // Released outside the table's lock: closing a pipe end wakes other tasks.
        drop(file);
        Ok(0)
    }

    /// `umask(mask)`: sets the creation mask to `mask & 0o777`, returns the previous one.
    pub fn sys_umask(&self, mask: u32) -> SysResult {
        Ok(self.process.set_umask(mask) as usize)
    }

    /// Finds (or creates) the object an open names and checks it may be opened so; returns
    /// it with its metadata, except for `O_PATH`, which opens the object itself whatever it is.
    fn open_node(
        &self,
        dirfd: i32,
        path: &str,
        flags: u32,
        mode: u16,
    ) -> LxResult<(Located, Option<Metadata>)> {
        let mut walker = self.walker();
        let follow = flags & O_NOFOLLOW == 0;
        if flags & O_PATH != 0 {
            let node = self.resolve_with(&mut walker, dirfd, path, follow)?;
            if flags & O_DIRECTORY != 0 && node.inode.file_type()? != FileType::Dir {
                return Err(LxError::ENOTDIR);
            }
            return Ok((node, None));
        }
        if flags & O_TMPFILE_BIT != 0 {
            let dir = self.resolve_with(&mut walker, dirfd, path, true)?;
            let dir_metadata = dir.inode.metadata()?;
            if dir_metadata.type_ != FileType::Dir {
                return Err(LxError::ENOTDIR);
            }
            // As Linux's vfs_tmpfile: write and search permission on the directory.
            super::read_only_first(
                &*dir.inode,
                self.process
                    .credentials()
                    .permission(&dir_metadata, Access::WRITE | Access::EXEC),
            )?;
            let mode = mode & !(self.process.umask() as u16);
            let inode = dir.inode.create_unnamed(mode, flags & O_EXCL != 0)?;
            // An unnamed file has no path: it is not reachable by one until linkat names it.
            return Ok((
                Located {
                    inode,
                    path: alloc::string::String::new(),
                },
                None,
            ));
        }
        let (node, created) = if flags & O_CREAT != 0 {
            self.open_or_create(&mut walker, dirfd, path, flags, mode)?
        } else {
            (self.resolve_with(&mut walker, dirfd, path, follow)?, false)
        };
        let metadata = node.inode.metadata()?;
        if flags & O_CREAT != 0 {
            if flags & O_EXCL != 0 && !created {
                return Err(LxError::EEXIST);
            }
            if metadata.type_ == FileType::Dir {
                return Err(LxError::EISDIR);
            }
        }
        if flags & O_DIRECTORY != 0 && metadata.type_ != FileType::Dir {
            return Err(LxError::ENOTDIR);
        }
        if created {
            // A new file is opened as asked whatever its mode, and is empty already.
            return Ok((node, Some(metadata)));
        }
        let opened = may_open(&walker, &metadata, flags);
        if access_for(flags).contains(Access::WRITE)
            && matches!(metadata.type_, FileType::File | FileType::Dir)
        {
            super::read_only_first(&*node.inode, opened)?;
        } else {
            opened?;
        }
        if flags & O_TRUNC != 0 && metadata.type_ == FileType::File {
            node.inode.resize(0)?;
        }
        Ok((node, Some(metadata)))
    }

    /// The `O_CREAT` part of an open: finds the last component, following a final symbolic
    /// link (to create its target if dangling) unless `O_NOFOLLOW`/`O_EXCL`, and creates a
    /// regular file if nothing is there. Returns the object and whether it was created.
    fn open_or_create(
        &self,
        walker: &mut Walker,
        dirfd: i32,
        path: &str,
        flags: u32,
        mode: u16,
    ) -> LxResult<(Located, bool)> {
        let mut parent = self.resolve_parent_with(walker, dirfd, path)?;
        loop {
            let name = match &parent.last {
                Last::Normal(name) => name.clone(),
                // `.`, `..` and `/` are directories that exist: EEXIST or EISDIR follows.
                Last::Dot => return Ok((parent.dir, false)),
                Last::DotDot => return Ok((parent.dot_dot()?, false)),
                Last::Root => return Ok((parent.dir, false)),
            };
            if parent.trailing_slash {
                return Err(LxError::EISDIR);
            }
            match parent.lookup(&name) {
                Ok(node) => {
                    if flags & (O_NOFOLLOW | O_EXCL) == 0 {
                        if let Some(target) = walker.follow(&node)? {
                            parent = walker.walk_parent(parent.dir.clone(), &target)?;
                            continue;
                        }
                    }
                    return Ok((node, false));
                }
                Err(LxError::ENOENT) => {
                    let node =
                        self.create_node(walker, &parent.dir, &name, FileType::File, mode)?;
                    return Ok((node, true));
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Creates `name` in `dir` as Linux's `may_create` + `inode_init_owner`: `EACCES` without
    /// write and search permission on `dir`; the new object belongs to the fsuid, and to the
    /// fsgid or — in a set-group-ID directory — to the directory's group (a new directory
    /// inheriting the set-group-ID bit).
    pub(crate) fn create_node(
        &self,
        walker: &Walker,
        dir: &Located,
        name: &str,
        type_: FileType,
        mode: u16,
    ) -> LxResult<Located> {
        let credentials = walker.credentials();
        let dir_metadata = dir.inode.metadata()?;
        super::read_only_first(
            &*dir.inode,
            credentials.permission(&dir_metadata, Access::WRITE | Access::EXEC),
        )?;
        let setgid_dir = dir_metadata.mode & S_ISGID != 0;
        let gid = if setgid_dir {
            dir_metadata.gid
        } else {
            credentials.fsgid
        };
        let mut mode = mode;
        if type_ == FileType::Dir {
            if setgid_dir {
                mode |= S_ISGID;
            }
        } else if mode & (S_ISGID | S_IXGRP) == S_ISGID | S_IXGRP
            && !credentials.in_group(gid)
            && !credentials.fs_privileged()
        {
            mode &= !S_ISGID;
        }
        let inode = dir.inode.create(name, type_, mode)?;
        let node = Located {
            path: dir.child_path(name)?,
            inode,
        };
        set_owner(&node, credentials.fsuid, gid, mode)?;
        Ok(node)
    }
}

/// Gives a new object its owner and, if the change of owner cleared set-ID bits, its mode
/// back. The filesystem creates with the host's credentials, so this is where the contained
/// process becomes the owner. A host that refuses (an unprivileged host in tests) leaves the
/// host's owner, logged: refusing the creation would be worse.
fn set_owner(node: &Located, uid: u32, gid: u32, mode: u16) -> LxResult {
    let metadata: Metadata = node.inode.metadata()?;
    if metadata.uid == uid && metadata.gid == gid {
        return Ok(());
    }
    if let Err(error) = node.inode.chown(Some(uid), Some(gid)) {
        log::warn!("rvisor: cannot give {} to {uid}:{gid}: {error}", node.path);
        return Ok(());
    }
    if node.inode.metadata()?.mode != mode {
        node.inode.chmod(mode)?;
    }
    Ok(())
}

/// Linux's `may_open` for an existing object: by type first (`ELOOP` for a link,
/// `EISDIR` writing a directory, `EACCES` for a device on this `nodev` filesystem other than
/// the memory devices and the terminals rVisor serves, `ENXIO` for a socket), then permission, then
/// `O_NOATIME` ownership (`EPERM`).
fn may_open(walker: &Walker, metadata: &Metadata, flags: u32) -> LxResult {
    let access = access_for(flags);
    match metadata.type_ {
        FileType::SymLink => return Err(LxError::ELOOP),
        FileType::Dir if access.contains(Access::WRITE) => return Err(LxError::EISDIR),
        // Devices are refused, as on a `nodev` mount, but for the memory devices rVisor
        // serves itself (`/dev/null`, `/dev/zero`…).
        FileType::CharDevice if super::tty::is_served_device(metadata) => {}
        FileType::CharDevice | FileType::BlockDevice => return Err(LxError::EACCES),
        _ => {}
    }
    walker.credentials().permission(metadata, access)?;
    if flags & O_NOATIME != 0 && !walker.credentials().owns(metadata) {
        return Err(LxError::EPERM);
    }
    if metadata.type_ == FileType::Socket {
        return Err(LxError::ENXIO);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, run, Sandbox};
    use std::os::unix::fs::MetadataExt;

    const OPEN: u32 = 2;
    const CLOSE: u32 = 3;
    const OPENAT: u32 = 257;
    const UMASK: u32 = 95;

    fn flags_of(sandbox: &Sandbox, fd: isize) -> u32 {
        sandbox
            .process
            .files()
            .get(fd as i32)
            .unwrap()
            .flags()
            .bits()
    }

    #[test]
    fn creating_applies_the_umask_and_exclusive_fails_on_anything_there() {
        let sandbox = Sandbox::new("open-create");
        let sys = sandbox.syscall();
        let path = sandbox.cstr("new");
        let flags = (O_CREAT | O_EXCL | O_WRONLY) as usize;
        let fd = run(&sys, OPEN, &[path, flags, 0o666]);
        assert!(fd >= 0);
        assert_eq!(flags_of(&sandbox, fd), O_WRONLY | O_LARGEFILE);
        let mode = std::fs::metadata(sandbox.host("new")).unwrap().mode();
        assert_eq!(mode & 0o7777, 0o644);
        assert_eq!(run(&sys, OPEN, &[path, flags, 0o666]), err(LxError::EEXIST));
        assert_eq!(run(&sys, UMASK, &[0o077]), 0o022);
        assert_eq!(run(&sys, UMASK, &[0o1777]), 0o077);
        assert_eq!(run(&sys, CLOSE, &[fd as usize]), 0);
        assert_eq!(run(&sys, CLOSE, &[fd as usize]), err(LxError::EBADF));
    }

    #[test]
    fn errors_in_linux_order() {
        let sandbox = Sandbox::new("open-errors");
        sandbox.mkdir("d");
        sandbox.write("f", b"data");
        sandbox.symlink("f", "lf");
        let sys = sandbox.syscall();
        let rdonly = 0;
        let open =
            |path: &str, flags: u32| run(&sys, OPEN, &[sandbox.cstr(path), flags as usize, 0o600]);
        assert_eq!(open("nothing", rdonly), err(LxError::ENOENT));
        assert_eq!(open("d", O_WRONLY), err(LxError::EISDIR));
        assert_eq!(open("d", O_TRUNC), err(LxError::EISDIR));
        assert_eq!(open("d", O_CREAT), err(LxError::EISDIR));
        assert_eq!(open("d/.", O_CREAT | O_EXCL), err(LxError::EEXIST));
        assert_eq!(open("/", O_CREAT), err(LxError::EISDIR));
        assert_eq!(open("f/", O_CREAT), err(LxError::EISDIR));
        assert_eq!(open("f/", rdonly), err(LxError::ENOTDIR));
        assert_eq!(open("f", O_DIRECTORY), err(LxError::ENOTDIR));
        assert_eq!(open("nd", O_CREAT | O_DIRECTORY), err(LxError::EINVAL));
        assert_eq!(open("lf", O_NOFOLLOW), err(LxError::ELOOP));
        assert_eq!(open("lf", O_NOFOLLOW | O_DIRECTORY), err(LxError::ENOTDIR));
        assert_eq!(open("d", O_TMPFILE_BIT | O_DIRECTORY), err(LxError::EINVAL));
        assert_eq!(
            open("d", O_TMPFILE_BIT | O_DIRECTORY | O_RDWR),
            err(LxError::EOPNOTSUPP)
        );
        assert_eq!(run(&sys, OPEN, &[0, 0, 0]), err(LxError::EFAULT));
        // Flags are checked before the path is read.
        assert_eq!(
            run(&sys, OPEN, &[0, (O_CREAT | O_DIRECTORY) as usize, 0]),
            err(LxError::EINVAL)
        );
        let relative = sandbox.cstr("f");
        assert_eq!(
            run(&sys, OPENAT, &[77, relative, 0, 0]),
            err(LxError::EBADF)
        );
        let file_fd = open("f", rdonly) as usize;
        assert_eq!(
            run(&sys, OPENAT, &[file_fd, relative, 0, 0]),
            err(LxError::ENOTDIR)
        );
        let dir_fd = open("d", O_DIRECTORY) as usize;
        assert_eq!(
            run(&sys, OPENAT, &[dir_fd, relative, 0, 0]),
            err(LxError::ENOENT)
        );
        let absolute = sandbox.cstr("/f");
        assert!(run(&sys, OPENAT, &[77, absolute, 0, 0]) >= 0);
    }

    #[test]
    fn a_dangling_link_is_created_through_unless_exclusive() {
        let sandbox = Sandbox::new("open-dangling");
        sandbox.mkdir("d");
        sandbox.symlink("d/target", "dl");
        let sys = sandbox.syscall();
        let path = sandbox.cstr("dl");
        assert_eq!(
            run(&sys, OPEN, &[path, (O_CREAT | O_EXCL) as usize, 0o600]),
            err(LxError::EEXIST)
        );
        assert!(run(&sys, OPEN, &[path, O_CREAT as usize, 0o600]) >= 0);
        assert!(sandbox.exists("d/target"));
    }

    #[test]
    fn truncate_append_cloexec_and_path() {
        let sandbox = Sandbox::new("open-flags");
        sandbox.write("f", b"0123456789");
        let sys = sandbox.syscall();
        let path = sandbox.cstr("f");
        let fd = run(
            &sys,
            OPEN,
            &[path, (O_WRONLY | O_TRUNC | O_CLOEXEC) as usize],
        );
        assert!(sys.process.files().cloexec(fd as i32).unwrap());
        assert_eq!(flags_of(&sandbox, fd), O_WRONLY | O_LARGEFILE);
        assert_eq!(sandbox.read("f"), b"");
        let opath = run(&sys, OPEN, &[path, (O_PATH | O_RDWR | O_TRUNC) as usize]);
        assert_eq!(flags_of(&sandbox, opath), O_PATH);
        assert_eq!(sys.file(opath as i32).err(), Some(LxError::EBADF));
        let dot = sandbox.cstr(".");
        let dir = run(&sys, OPEN, &[dot, (O_PATH | O_DIRECTORY) as usize]);
        assert_eq!(flags_of(&sandbox, dir), O_PATH | O_DIRECTORY);
    }

    #[test]
    fn permissions_for_an_unprivileged_user() {
        let sandbox = Sandbox::new("open-perm");
        sandbox.write("mine", b"x");
        sandbox.chown("mine", 1000, 1000);
        sandbox.chmod("mine", 0o400);
        sandbox.write("root-only", b"x");
        sandbox.chmod("root-only", 0o600);
        sandbox.mkdir("shared");
        sandbox.chmod("shared", 0o777);
        let user = sandbox.syscall_as(1000, 1000);
        let open =
            |path: &str, flags: u32| run(&user, OPEN, &[sandbox.cstr(path), flags as usize, 0o666]);
        assert!(open("mine", 0) >= 0);
        assert_eq!(open("mine", O_WRONLY), err(LxError::EACCES));
        assert_eq!(open("mine", O_TRUNC), err(LxError::EACCES));
        assert_eq!(open("root-only", 0), err(LxError::EACCES));
        assert_eq!(open("root-only", O_NOATIME), err(LxError::EACCES));
        assert!(open("mine", O_NOATIME) >= 0, "the owner may");
        assert_eq!(open("new", O_CREAT), err(LxError::EACCES));
        assert!(open("shared/new", O_CREAT) >= 0);
        let metadata = std::fs::metadata(sandbox.host("shared/new")).unwrap();
        assert_eq!((metadata.uid(), metadata.gid()), (1000, 1000));
        sandbox.write("public", b"x");
        sandbox.chmod("public", 0o644);
        assert_eq!(open("public", O_NOATIME), err(LxError::EPERM));
    }

    #[test]
    fn a_full_table_is_emfile_before_the_path_is_walked() {
        let sandbox = Sandbox::new("open-emfile");
        let sys = sandbox.syscall();
        sys.process.files().set_limit(0).unwrap();
        let path = sandbox.cstr("nothing");
        assert_eq!(run(&sys, OPEN, &[path, 0, 0]), err(LxError::EMFILE));
    }
}
