//! A scratch container for the file calls' tests: a host directory exposed as the container's
//! root, a process in it, user memory, and helpers to arrange files on the host side.

use alloc::boxed::Box;
use alloc::sync::Arc;
use linux_object::credentials::Credentials;
use linux_object::process::LinuxProcess;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crate::testing::{block_on, TestMachine, TestTask, UserArena};
use crate::Syscall;

/// A container over a fresh host directory (a [`TestMachine`]'s), removed when dropped.
pub(crate) struct Sandbox {
    pub dir: PathBuf,
    pub process: Arc<LinuxProcess>,
    pub user: UserArena,
    host: TestTask,
    machine: Arc<TestMachine>,
}

impl Sandbox {
    pub fn new(_name: &str) -> Self {
        let machine = TestMachine::new();
        let dir = machine.root_dir().to_path_buf();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let process = machine.init();
        Self {
            dir,
            host: machine.task(process.pid(), process.pid()),
            process,
            user: UserArena::new(64),
            machine,
        }
    }

    /// The machine under the container: what reached the host.
    pub fn machine(&self) -> &TestMachine {
        &self.machine
    }

    /// The calls of the container's root process.
    pub fn syscall(&self) -> Syscall<'_> {
        Syscall {
            process: &self.process,
            tid: self.process.pid(),
            host: &self.host,
        }
    }

    /// The calls of a new child process acting as `uid`/`gid`.
    pub fn syscall_as(&self, uid: u32, gid: u32) -> Syscall<'_> {
        let child = self.process.fork().unwrap();
        child.set_credentials(Credentials::user(uid, gid));
        let child: &'static Arc<LinuxProcess> = Box::leak(Box::new(child));
        Syscall {
            process: child,
            tid: child.pid(),
            host: &self.host,
        }
    }

    pub fn host(&self, path: &str) -> PathBuf {
        self.dir.join(path)
    }

    pub fn mkdir(&self, path: &str) {
        std::fs::create_dir(self.host(path)).unwrap();
        self.chmod(path, 0o755);
    }

    pub fn write(&self, path: &str, data: &[u8]) {
        std::fs::write(self.host(path), data).unwrap();
        self.chmod(path, 0o644);
    }

    pub fn read(&self, path: &str) -> Vec<u8> {
        std::fs::read(self.host(path)).unwrap()
    }

    pub fn exists(&self, path: &str) -> bool {
        std::fs::symlink_metadata(self.host(path)).is_ok()
    }

    pub fn symlink(&self, target: &str, path: &str) {
        std::os::unix::fs::symlink(target, self.host(path)).unwrap();
    }

    pub fn chmod(&self, path: &str, mode: u32) {
        std::fs::set_permissions(self.host(path), std::fs::Permissions::from_mode(mode)).unwrap();
    }

    pub fn chown(&self, path: &str, uid: u32, gid: u32) {
        std::os::unix::fs::lchown(self.host(path), Some(uid), Some(gid)).unwrap();
    }

    /// A NUL-terminated string in user memory.
    pub fn cstr(&self, text: &str) -> usize {
        self.user.put_cstr(text)
    }

    /// `len` zeroed bytes of user memory.
    pub fn buf(&self, len: usize) -> usize {
        self.user.put_bytes(&std::vec![0; len])
    }
}

/// Runs call `nr` of `sys` and returns what `rax` gets.
pub(crate) fn run(sys: &Syscall<'_>, nr: u32, args: &[usize]) -> isize {
    let mut regs = [0usize; 6];
    regs.iter_mut().zip(args).for_each(|(reg, arg)| *reg = *arg);
    block_on(sys.run(nr, regs))
}

/// `-errno` as `rax` holds it.
pub(crate) fn err(error: linux_object::LxError) -> isize {
    -(error.errno() as isize)
}

/// An `int` argument as the register holds it (sign-extended, as libc passes it).
pub(crate) fn int(value: i32) -> usize {
    value as isize as usize
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chmod")
            .args(["-R", "u+rwx"])
            .arg(&self.dir)
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(crate) use std::vec::Vec;
