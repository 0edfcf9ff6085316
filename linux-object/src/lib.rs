//! rVisor's Linux objects: what a contained program sees as its process, its files and its
//! program image, built on the VFS of `kernel-hostfs`.
//!
//! - [`error`]: [`LxError`], the one errno enum every operation here fails with.
//! - [`credentials`]: [`Credentials`](credentials::Credentials) and Linux's permission
//!   check.
//! - [`fs`]: open file descriptions — the [`FileLike`](fs::FileLike) trait,
//!   [`File`](fs::File) over an inode, [`Pipe`](fs::Pipe), and
//!   [`StdioFile`](fs::StdioFile) for files inherited from the host.
//! - [`fd_table`]: [`FdTable`](fd_table::FdTable), a process's descriptors.
//! - [`elf`]: the ELF loader — static and `PT_INTERP` executables mapped through the
//!   [`AddressSpace`](elf::AddressSpace) trait, and the initial stack (argv, envp, auxv).
//! - [`process`]: [`LinuxProcess`](process::LinuxProcess) — pid, parent, cwd, fd table,
//!   children, exit status and `wait4`.
//! - [`container`]: [`Container`](container::Container) — id, root, physical memory, pids.
//! - [`vm`]: [`VmarSpace`](vm::VmarSpace), the loader's address space over a zircon VMAR.
//!
//! Nothing here touches the kernel: the host's files come in through the
//! [`HostStdio`](fs::HostStdio) trait, memory through the traits of the ELF loader.
//!
//! ```
//! use linux_object::fd_table::FdTable;
//! use linux_object::fs::{FileLike, OpenFlags, Pipe};
//!
//! let mut files = FdTable::new();
//! let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
//! let read_fd = files.add(reader, true)?;
//! let write_fd = files.add(writer, true)?;
//! files.get(write_fd)?.write(b"through the table")?;
//! let mut buf = [0; 17];
//! files.get(read_fd)?.read(&mut buf)?;
//! assert_eq!(&buf, b"through the table");
//! # Ok::<(), linux_object::LxError>(())
//! ```
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod container;
pub mod credentials;
pub mod devfs;
pub mod elf;
pub mod error;
pub mod fd_table;
pub mod fs;
pub mod ipc;
pub mod mount;
pub mod net;
pub mod process;
pub mod procfs;
pub mod tty;
pub mod vm;

#[cfg(test)]
mod test_executor;

pub use error::{LxError, LxResult};
