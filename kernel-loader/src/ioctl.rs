//! The ioctls of `/dev/rvisor` (`include/uapi/linux/rvisor.h`).

use linux_kernel_module::allocator::try_box_zeroed;
use linux_kernel_module::path::HostDir;
use linux_kernel_module::task;
use linux_kernel_module::uapi::{
    rvisor_container_info, rvisor_create, rvisor_enter, rvisor_list, rvisor_mount,
    RVISOR_CONTAINER_DYING, RVISOR_ENTER_TTY, RVISOR_HOSTNAME_MAX, RVISOR_MOUNT_FLAGS,
    RVISOR_ROOT_MAX,
};
use linux_kernel_module::user_ptr::UserInPtr;
use linux_kernel_module::user_ptr::{read_user_cstr, UserInOutPtr, UserOutPtr};
use linux_kernel_module::{Error, Result};
use linux_object::mount::MountFlags;

use alloc::sync::Arc;

use crate::container::{Container, Hostname};
use crate::host::kernel_error;
use crate::{Joining, Rvisor};

/// The hostname of a container created without one.
const DEFAULT_HOSTNAME: &[u8] = b"rvisor";

/// How long REMOVE waits for the killed tasks of a container to exit.
const REMOVE_WAIT_MS: u32 = 5000;
const REMOVE_POLL_MS: u32 = 10;

/// CREATE: validates everything, then makes the container and writes its id back.
pub fn create(rvisor: &Rvisor, arg: usize) -> Result<isize> {
    if !task::capable_sys_admin() {
        return Err(Error::EPERM);
    }
    let ptr = UserInOutPtr::<rvisor_create>::new(arg);
    let mut args = ptr.read()?;
    if args.flags != 0 || args.id != 0 {
        return Err(Error::EINVAL);
    }
    let root = read_user_cstr(args.root as usize, RVISOR_ROOT_MAX as usize - 1)?;
    if root.is_empty() {
        return Err(Error::ENOENT);
    }
    let hostname = if args.hostname == 0 {
        Hostname::new(DEFAULT_HOSTNAME)?
    } else {
        let name =
            read_user_cstr(args.hostname as usize, RVISOR_HOSTNAME_MAX as usize).map_err(|e| {
                if e == Error::ENAMETOOLONG {
                    Error::EINVAL
                } else {
                    e
                }
            })?;
        Hostname::new(&name)?
    };
    let root = HostDir::lookup(&root)?;
    let container = rvisor
        .containers
        .create(root, hostname, task::current_euid())?;
    args.id = container.id();
    if let Err(e) = ptr.write(&args) {
        // The caller cannot learn the id: undo.
        rvisor.containers.remove(container.id());
        return Err(e);
    }
    log::info!("container {} created", container.id());
    Ok(0)
}

/// ADDSELF: the calling process, all its threads, joins container `id`.
pub fn add_self(rvisor: &Rvisor, id: usize) -> Result<isize> {
    let id = u32::try_from(id).map_err(|_| Error::ENOENT)?;
    let container = joinable(rvisor, id)?;
    rvisor.join_current(&container, Joining::First)?;
    Ok(0)
}

/// ENTER: the calling process, all its threads, enters running container `args.id` as a new
/// process.
pub fn enter(rvisor: &Rvisor, arg: usize) -> Result<isize> {
    let args = UserInPtr::<rvisor_enter>::new(arg).read()?;
    if args.flags & !RVISOR_ENTER_TTY != 0
        || args.reserved != 0
        || (args.flags & RVISOR_ENTER_TTY == 0 && args.tty != 0)
    {
        return Err(Error::EINVAL);
    }
    let container = joinable(rvisor, args.id)?;
    let tty = (args.flags & RVISOR_ENTER_TTY != 0).then_some(args.tty);
    rvisor.join_current(&container, Joining::Entering { tty })?;
    Ok(0)
}

/// Container `id` if the caller may join it: `ENOENT` unknown or dying, `EPERM` neither
/// CAP_SYS_ADMIN nor its creator's uid, `EINVAL` from another network namespace.
fn joinable(rvisor: &Rvisor, id: u32) -> Result<Arc<Container>> {
    let container = rvisor
        .containers
        .get(id)
        .filter(|c| !c.is_dying())
        .ok_or(Error::ENOENT)?;
    if !task::capable_sys_admin() && task::current_euid() != container.creator_euid() {
        return Err(Error::EPERM);
    }
    // Its sockets would be made in another network than the container's.
    if !container.network().is_current() {
        return Err(Error::EINVAL);
    }
    Ok(container)
}

/// Live container `id` for a pty request: `ENOENT` unless it exists and is not dying,
/// `EPERM` unless the caller made it or has `CAP_SYS_ADMIN`.
fn pty_container(rvisor: &Rvisor, id: usize) -> Result<Arc<Container>> {
    let id = u32::try_from(id).map_err(|_| Error::ENOENT)?;
    let container = rvisor
        .containers
        .get(id)
        .filter(|c| !c.is_dying())
        .ok_or(Error::ENOENT)?;
    if !task::capable_sys_admin() && task::current_euid() != container.creator_euid() {
        return Err(Error::EPERM);
    }
    Ok(container)
}

/// NEWPTY: a new pty of running container `id` for a process that is to enter it, its master
/// as a new descriptor of the caller.
pub fn new_pty(rvisor: &Rvisor, id: usize) -> Result<isize> {
    crate::console::new_pty(&pty_container(rvisor, id)?)
}

/// OPENPTY: the console pty of container `id`, its master as a new descriptor of the caller.
pub fn open_pty(rvisor: &Rvisor, id: usize) -> Result<isize> {
    crate::console::open_pty(&pty_container(rvisor, id)?)
}

/// REMOVE: kills what is left in container `id` and frees it once its last task is gone.
pub fn remove(rvisor: &Rvisor, id: usize) -> Result<isize> {
    if !task::capable_sys_admin() {
        return Err(Error::EPERM);
    }
    let id = u32::try_from(id).map_err(|_| Error::ENOENT)?;
    let container = rvisor.containers.get(id).ok_or(Error::ENOENT)?;
    rvisor.containers.mark_dying(&container);
    let mut waited = 0;
    while container.members().get() > 0 {
        // Kill again each round: a task may have been forked after the previous round.
        container.kill_all();
        if waited >= REMOVE_WAIT_MS {
            log::warn!(
                "container {}: {} tasks did not exit after SIGKILL",
                id,
                container.members().get()
            );
            return Err(Error::EBUSY);
        }
        task::sleep_interruptible(REMOVE_POLL_MS)?;
        waited += REMOVE_POLL_MS;
    }
    rvisor.gates.remove_container(id);
    rvisor.containers.remove(id);
    log::info!("container {} removed", id);
    Ok(0)
}

/// The longest tmpfs option string MOUNT takes.
const MOUNT_OPTIONS_MAX: usize = 256;

/// MOUNT: mounts a host directory, or a new tmpfs, on a directory of container `id`.
pub fn mount(rvisor: &Rvisor, arg: usize) -> Result<isize> {
    if !task::capable_sys_admin() {
        return Err(Error::EPERM);
    }
    let args = UserInPtr::<rvisor_mount>::new(arg).read()?;
    if args.flags & !RVISOR_MOUNT_FLAGS != 0 || (args.source != 0 && args.options != 0) {
        return Err(Error::EINVAL);
    }
    let id = args.id;
    let container = rvisor
        .containers
        .get(id)
        .filter(|c| !c.is_dying())
        .ok_or(Error::ENOENT)?;
    let target = read_user_cstr(args.target as usize, RVISOR_ROOT_MAX as usize - 1)?;
    let target = core::str::from_utf8(&target).map_err(|_| Error::EINVAL)?;
    let flags = MountFlags::from_bits_truncate(args.flags) | MountFlags::RELATIME;
    let read_only = flags.contains(MountFlags::RDONLY);
    let (dir, source) = if args.source != 0 {
        let source = read_user_cstr(args.source as usize, RVISOR_ROOT_MAX as usize - 1)?;
        let dir = HostDir::lookup(&source)?;
        // rVisor writes through the host's VFS: a mount it shows read-only must be one the
        // host refuses writes on (the caller binds it read-only first).
        if read_only && !dir.read_only() {
            return Err(Error::EINVAL);
        }
        (dir, source)
    } else {
        let options = if args.options != 0 {
            read_user_cstr(args.options as usize, MOUNT_OPTIONS_MAX)?
        } else {
            alloc::vec::Vec::new()
        };
        (HostDir::new_tmpfs(&options, read_only)?, b"tmpfs".to_vec())
    };
    let fstype = dir.fstype();
    let fs = kernel_hostfs::HostFs::in_kernel(&dir).map_err(|e| kernel_error(e.into()))?;
    container
        .linux()
        .mount_at(
            target,
            kernel_hostfs::FileSystem::root_inode(&*fs),
            &alloc::string::String::from_utf8_lossy(&source),
            &alloc::string::String::from_utf8_lossy(&fstype),
            flags,
        )
        .map_err(kernel_error)?;
    log::info!("container {id}: {target} mounted");
    Ok(0)
}

/// LIST: writes up to `capacity` containers and the total count.
pub fn list(rvisor: &Rvisor, arg: usize) -> Result<isize> {
    let ptr = UserInOutPtr::<rvisor_list>::new(arg);
    let mut args = ptr.read()?;
    let containers = rvisor.containers.all();
    let entries = UserOutPtr::<rvisor_container_info>::with_len(
        args.entries as usize,
        args.capacity as usize,
    );
    for (i, c) in containers.iter().take(args.capacity as usize).enumerate() {
        // One entry is 4 KiB: build it on the heap, not on the kernel stack.
        let mut info = try_box_zeroed::<rvisor_container_info>()?;
        info.id = c.id();
        info.members = c.members().get();
        info.flags = if c.is_dying() {
            RVISOR_CONTAINER_DYING
        } else {
            0
        };
        info.init_pid = crate::members::MEMBERS
            .find_process(c.id(), linux_object::container::INIT_PID)
            .map_or(0, |task| task.host_pid_seen_by_caller());
        copy_cstr(&mut info.hostname, c.hostname().as_bytes());
        copy_cstr(&mut info.root, c.root_name());
        let at = entries
            .addr()
            .checked_add(i * core::mem::size_of::<rvisor_container_info>())
            .ok_or(Error::EFAULT)?;
        UserOutPtr::<rvisor_container_info>::new(at).write(&info)?;
    }
    args.count = u32::try_from(containers.len()).map_err(|_| Error::EOVERFLOW)?;
    ptr.write(&args)?;
    Ok(0)
}

/// Copies `src` into a NUL-terminated C array, cut to fit.
fn copy_cstr(dst: &mut [core::ffi::c_char], src: &[u8]) {
    let n = core::cmp::min(src.len(), dst.len().saturating_sub(1));
    for (d, s) in dst.iter_mut().zip(src.iter().take(n)) {
        *d = *s as core::ffi::c_char;
    }
    if let Some(end) = dst.get_mut(n) {
        *end = 0;
    }
}
