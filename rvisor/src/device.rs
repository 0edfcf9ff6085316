//! `/dev/rvisor` and its ioctls.

use std::ffi::{CStr, CString};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

use crate::uapi;

/// What went wrong talking to the module, with what to do about it.
#[derive(Debug)]
pub enum DeviceError {
    /// /dev/rvisor does not exist: the module is not loaded.
    NotLoaded,
    /// An ioctl failed.
    Ioctl { what: &'static str, err: io::Error },
}

impl std::fmt::Display for DeviceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceError::NotLoaded => write!(
                f,
                "{} not found: the rvisor kernel module is not loaded.\n  Load it with `cargo xtask load` \
                 (or `insmod rvisor.ko`) as root; see README.md.",
                uapi_path()
            ),
            DeviceError::Ioctl { what, err } => {
                write!(f, "{what}: {err}")?;
                match err.raw_os_error() {
                    Some(libc::EPERM) => write!(f, " (run as root: this needs CAP_SYS_ADMIN)"),
                    _ => Ok(()),
                }
            }
        }
    }
}

fn uapi_path() -> &'static str {
    // The header's string constant includes its NUL.
    CStr::from_bytes_with_nul(uapi::RVISOR_DEVICE_PATH)
        .ok()
        .and_then(|s| s.to_str().ok())
        .unwrap_or("/dev/rvisor")
}

/// An open `/dev/rvisor` (close-on-exec: a contained program never inherits it).
pub struct Device(File);

impl AsRawFd for Device {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.0.as_raw_fd()
    }
}

/// One container, as listed.
pub struct ContainerInfo {
    pub id: u32,
    pub members: u32,
    pub dying: bool,
    /// Its first process's host pid (0: none).
    pub init_pid: i32,
    pub hostname: String,
    pub root: String,
}

impl Device {
    pub fn open() -> Result<Device, DeviceError> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(uapi_path())
            .map(Device)
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => DeviceError::NotLoaded,
                _ => DeviceError::Ioctl {
                    what: "open /dev/rvisor",
                    err: e,
                },
            })
    }

    fn ioctl(&self, what: &'static str, cmd: u32, arg: libc::c_ulong) -> Result<(), DeviceError> {
        // SAFETY: `cmd` is one of the module's ioctls and `arg` what it expects: a pointer to a
        // live struct of the matching type, or a plain integer.
        let ret = unsafe { libc::ioctl(self.0.as_raw_fd(), cmd as _, arg) };
        if ret < 0 {
            Err(DeviceError::Ioctl {
                what,
                err: io::Error::last_os_error(),
            })
        } else {
            Ok(())
        }
    }

    /// Makes container `id`'s console pty (before its first process joins); returns the
    /// master, a descriptor of this process's.
    pub fn open_pty(&self, id: u32) -> Result<std::os::fd::OwnedFd, DeviceError> {
        self.pty_master(
            "open the container's terminal",
            uapi::RVISOR_IOC_OPENPTY,
            id,
        )
    }

    /// Makes a new pty of running container `id` for a process that is to enter it; returns
    /// the master, a descriptor of this process's.
    pub fn new_pty(&self, id: u32) -> Result<std::os::fd::OwnedFd, DeviceError> {
        self.pty_master(
            "open a terminal in the container",
            uapi::RVISOR_IOC_NEWPTY,
            id,
        )
    }

    /// OPENPTY or NEWPTY (`cmd`) of container `id`: the new master.
    fn pty_master(
        &self,
        what: &'static str,
        cmd: u32,
        id: u32,
    ) -> Result<std::os::fd::OwnedFd, DeviceError> {
        // SAFETY: OPENPTY and NEWPTY take the container id by value and return a new
        // descriptor.
        let ret = unsafe { libc::ioctl(self.0.as_raw_fd(), cmd as _, id as libc::c_ulong) };
        if ret < 0 {
            return Err(DeviceError::Ioctl {
                what,
                err: io::Error::last_os_error(),
            });
        }
        // SAFETY: the module just made this descriptor for us alone.
        Ok(unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(ret) })
    }

    /// Creates a container; returns its id.
    pub fn create(&self, root: &CStr, hostname: Option<&CStr>) -> Result<u32, DeviceError> {
        let mut args = uapi::rvisor_create {
            root: root.as_ptr() as u64,
            hostname: hostname.map_or(0, |h| h.as_ptr() as u64),
            flags: 0,
            id: 0,
        };
        self.ioctl(
            "create a container",
            uapi::RVISOR_IOC_CREATE,
            &mut args as *mut _ as _,
        )?;
        Ok(args.id)
    }

    /// Mounts the host directory `source` (or, without one, a new tmpfs configured with
    /// `options`) on the directory `target` of container `id`, with the `MS_*` `flags`.
    pub fn mount(
        &self,
        id: u32,
        source: Option<&CStr>,
        target: &CStr,
        options: Option<&CStr>,
        flags: u32,
    ) -> Result<(), DeviceError> {
        let mut args = uapi::rvisor_mount {
            id,
            flags,
            source: source.map_or(0, |s| s.as_ptr() as u64),
            target: target.as_ptr() as u64,
            options: options.map_or(0, |o| o.as_ptr() as u64),
        };
        self.ioctl(
            "mount in the container",
            uapi::RVISOR_IOC_MOUNT,
            &mut args as *mut _ as _,
        )
    }

    /// The calling process joins container `id`.
    pub fn add_self(&self, id: u32) -> Result<(), DeviceError> {
        self.ioctl("join the container", uapi::RVISOR_IOC_ADDSELF, id as _)
    }

    /// The calling process enters running container `id` as a new process; with `tty`, the
    /// container's pty of that number (see [`new_pty`](Self::new_pty)) is its terminal.
    pub fn enter(&self, id: u32, tty: Option<u32>) -> Result<(), DeviceError> {
        let mut args = uapi::rvisor_enter {
            id,
            flags: if tty.is_some() {
                uapi::RVISOR_ENTER_TTY
            } else {
                0
            },
            tty: tty.unwrap_or(0),
            reserved: 0,
        };
        self.ioctl(
            "enter the container",
            uapi::RVISOR_IOC_ENTER,
            &mut args as *mut _ as _,
        )
    }

    /// Kills what is left in container `id` and frees it.
    pub fn remove(&self, id: u32) -> Result<(), DeviceError> {
        self.ioctl("remove the container", uapi::RVISOR_IOC_REMOVE, id as _)
    }

    /// Every container.
    pub fn list(&self) -> Result<Vec<ContainerInfo>, DeviceError> {
        let mut capacity = 16u32;
        loop {
            let mut entries = vec![uapi::rvisor_container_info::default(); capacity as usize];
            let mut args = uapi::rvisor_list {
                entries: entries.as_mut_ptr() as u64,
                capacity,
                count: 0,
            };
            self.ioctl(
                "list containers",
                uapi::RVISOR_IOC_LIST,
                &mut args as *mut _ as _,
            )?;
            if args.count > capacity {
                capacity = args.count;
                continue;
            }
            entries.truncate(args.count as usize);
            return Ok(entries
                .iter()
                .map(|e| ContainerInfo {
                    id: e.id,
                    members: e.members,
                    dying: e.flags & uapi::RVISOR_CONTAINER_DYING != 0,
                    init_pid: e.init_pid,
                    hostname: c_chars(&e.hostname),
                    root: c_chars(&e.root),
                })
                .collect());
        }
    }
}

fn c_chars(field: &[libc::c_char]) -> String {
    let bytes: Vec<u8> = field
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A C string for an argument; an error naming it if it holds a NUL.
pub fn c_string(what: &str, value: &str) -> Result<CString, String> {
    CString::new(value).map_err(|_| format!("{what} contains a NUL byte"))
}
