//! What `rvisor run` mounts in a container besides its root: volumes (`-v HOST:CONT[:ro]`)
//! and tmpfs instances (`--tmpfs PATH[:OPTIONS]`), and how a read-only root or volume is
//! made: a read-only bind mount in the CLI's own mount namespace, which rVisor then holds, so
//! that the host's VFS refuses every write with `EROFS` as it would under runc.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::device::{c_string, Device};

/// `MS_RDONLY`, `MS_NOSUID`, `MS_NODEV`, `MS_NOEXEC`: the flags a mount keeps.
const MS_RDONLY: u32 = 1;
pub const MS_NOSUID: u32 = 2;
pub const MS_NODEV: u32 = 4;
pub const MS_NOEXEC: u32 = 8;

/// One mount asked for on the command line (or in an OCI bundle's config.json).
#[derive(Debug)]
pub enum MountSpec {
    /// `-v HOST:CONT[:ro]`; `flags` are `MS_NOSUID`, `MS_NODEV`, `MS_NOEXEC` (an OCI bind
    /// mount's options).
    Volume {
        host: String,
        target: String,
        read_only: bool,
        flags: u32,
    },
    /// `--tmpfs PATH[:OPTIONS]`: tmpfs options (`size=`, `nr_inodes=`, `mode=`) and the
    /// flags `ro`, `nosuid`, `nodev`, `noexec`.
    Tmpfs { target: String, options: String },
}

impl MountSpec {
    /// Parses the value of `-v`.
    pub fn volume(value: &str) -> Result<Self, String> {
        let mut parts = value.split(':');
        let (Some(host), Some(target)) = (parts.next(), parts.next()) else {
            return Err(format!("volume `{value}`: expected HOST:CONTAINER[:ro]"));
        };
        let read_only = match parts.next() {
            None | Some("rw") => false,
            Some("ro") => true,
            Some(other) => return Err(format!("volume `{value}`: unknown mode `{other}`")),
        };
        if parts.next().is_some() || host.is_empty() || !target.starts_with('/') {
            return Err(format!(
                "volume `{value}`: expected HOST:CONTAINER[:ro] with an absolute CONTAINER path"
            ));
        }
        Ok(Self::Volume {
            host: host.into(),
            target: target.into(),
            read_only,
            flags: 0,
        })
    }

    /// Parses the value of `--tmpfs`.
    pub fn tmpfs(value: &str) -> Result<Self, String> {
        let (target, options) = value.split_once(':').unwrap_or((value, ""));
        if !target.starts_with('/') {
            return Err(format!("tmpfs `{value}`: the path must be absolute"));
        }
        Ok(Self::Tmpfs {
            target: target.into(),
            options: options.into(),
        })
    }
}

/// Makes the host directories that must be read-only so in a mount namespace of the CLI's
/// own (the rest of the host is untouched): `root` when `read_only_root`, and the
/// read-only volumes. Call before the container is created.
pub fn make_read_only(
    root: &Path,
    read_only_root: bool,
    specs: &[MountSpec],
) -> Result<(), String> {
    let mut paths: Vec<PathBuf> = specs
        .iter()
        .filter_map(|spec| match spec {
            MountSpec::Volume {
                host,
                read_only: true,
                ..
            } => Some(PathBuf::from(host)),
            _ => None,
        })
        .collect();
    if read_only_root {
        paths.push(root.to_path_buf());
    }
    if paths.is_empty() {
        return Ok(());
    }
    // SAFETY: unshare and mount have no memory-safety preconditions; the strings are live
    // C strings.
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0 {
            return Err(format!(
                "cannot make a mount namespace for read-only mounts: {}",
                std::io::Error::last_os_error()
            ));
        }
        let slash = c_string("path", "/")?;
        if libc::mount(
            std::ptr::null(),
            slash.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            return Err(format!(
                "cannot make the CLI's mounts private: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    for path in paths {
        let c_path = host_path(&path)?;
        // SAFETY: as above.
        let bound = unsafe {
            libc::mount(
                c_path.as_ptr(),
                c_path.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND | libc::MS_REC,
                std::ptr::null(),
            ) == 0
                && libc::mount(
                    std::ptr::null(),
                    c_path.as_ptr(),
                    std::ptr::null(),
                    libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY,
                    std::ptr::null(),
                ) == 0
        };
        if !bound {
            return Err(format!(
                "cannot make {} read-only: {}",
                path.display(),
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

/// The canonical host path of `path` as a C string: `Err` naming the problem if it is not an
/// existing directory.
fn host_path(path: &Path) -> Result<CString, String> {
    let canonical = path
        .canonicalize()
        .map_err(|e| format!("volume {}: {e}", path.display()))?;
    if !canonical.is_dir() {
        return Err(format!("volume {}: not a directory", path.display()));
    }
    CString::new(canonical.as_os_str().as_bytes())
        .map_err(|_| format!("volume {}: contains a NUL byte", path.display()))
}

/// Mounts every spec in container `id`, in order.
pub fn mount_all(device: &Device, id: u32, specs: &[MountSpec]) -> Result<(), String> {
    for spec in specs {
        let (source, target, options, flags) = match spec {
            MountSpec::Volume {
                host,
                target,
                read_only,
                flags,
            } => (
                Some(host_path(Path::new(host))?),
                target,
                None,
                if *read_only {
                    MS_RDONLY | flags
                } else {
                    *flags
                },
            ),
            MountSpec::Tmpfs { target, options } => {
                let mut flags = 0;
                let mut kept = Vec::new();
                for option in options.split(',').filter(|o| !o.is_empty()) {
                    match option {
                        "ro" => flags |= MS_RDONLY,
                        "rw" => flags &= !MS_RDONLY,
                        "nosuid" => flags |= MS_NOSUID,
                        "nodev" => flags |= MS_NODEV,
                        "noexec" => flags |= MS_NOEXEC,
                        _ => kept.push(option),
                    }
                }
                (
                    None,
                    target,
                    Some(c_string("tmpfs options", &kept.join(","))?),
                    flags,
                )
            }
        };
        let c_target = c_string("mount target", target)?;
        device
            .mount(id, source.as_deref(), &c_target, options.as_deref(), flags)
            .map_err(|e| format!("{target}: {e} (the directory must exist in the container root, named without symbolic links)"))?;
    }
    Ok(())
}
