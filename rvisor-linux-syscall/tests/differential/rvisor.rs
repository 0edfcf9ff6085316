//! The rVisor executor: a container on a `HostFs` rooted at the scratch root, its first
//! process with descriptors 0–2 taken (as a fresh Linux process has them), and every call
//! made through `Syscall::run` with its memory in a `UserArena`.

use std::path::Path;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use linux_object::credentials::Credentials;
use linux_object::fs::{OpenFlags, Pipe};
use linux_object::process::LinuxProcess;
use rvisor_linux_syscall::host::{Capabilities, TaskHost};
use rvisor_linux_syscall::testing::{TestMachine, UserArena};
use rvisor_linux_syscall::Syscall;

use crate::exec::{run_ops, Side};
use crate::model::{Creds, Op, Outcome};

/// The errno reported for a call that was still pending after [`BLOCK_LIMIT`].
pub const BLOCKED: i32 = 0xb10c;
const BLOCK_LIMIT: Duration = Duration::from_secs(5);
// `UserArena::new` fails above 32 pages (one contiguous buddy block of the host memory).
const ARENA_PAGES: usize = 32;

struct Unparker(Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Drives `future` on this thread; `None` if it is still pending after [`BLOCK_LIMIT`].
fn block_on<F: std::future::Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(Unparker(thread::current())));
    let deadline = Instant::now() + BLOCK_LIMIT;
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
            return Some(output);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        thread::park_timeout(deadline - now);
    }
}

struct RvisorSide<'a> {
    arena: &'a UserArena,
    syscall: Syscall<'a>,
}

impl Side for RvisorSide<'_> {
    fn put(&mut self, bytes: &[u8]) -> usize {
        let mut buf = bytes.to_vec();
        buf.push(0);
        self.arena.put_bytes(&buf)
    }

    fn get(&self, addr: usize, len: usize) -> Vec<u8> {
        self.arena.get_bytes(addr, len)
    }

    fn bad(&self) -> usize {
        self.arena.unmapped()
    }

    fn call(&mut self, nr: i64, args: [usize; 6]) -> Result<i64, i32> {
        match block_on(self.syscall.run(nr as u32, args)) {
            None => Err(BLOCKED),
            Some(ret) if (-4095..0).contains(&ret) => Err(-ret as i32),
            Some(ret) => Ok(ret as i64),
        }
    }
}

/// Makes `process` act as `creds`: every user id `uid`, every group id `gid`, no supplementary
/// group, as the native child's `setgroups(0)`/`setresgid`/`setresuid`.
fn set_credentials(process: &Arc<LinuxProcess>, creds: Creds) {
    process.set_credentials(Credentials::user(creds.uid, creds.gid));
}

/// Runs `ops` through rVisor on a container rooted at `root`, as `creds`.
pub fn run(root: &Path, creds: Creds, ops: &[Op]) -> Result<Vec<Outcome>, String> {
    let machine = TestMachine::on_root(root);
    let init = machine.init();
    {
        // 0, 1 and 2 are taken, as in a process started by a shell.
        let mut files = init.files();
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        for file in [reader, writer.clone(), writer] {
            files
                .add(file, false)
                .map_err(|e| format!("fd 0-2: {e:?}"))?;
        }
    }
    set_credentials(&init, creds);
    let arena = UserArena::new(ARENA_PAGES);
    let host = machine.task(init.pid(), init.pid());
    if creds.uid != 0 {
        // As the native child's `setresuid` from root: every capability goes.
        host.set_own_capabilities(Capabilities {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        })
        .map_err(|e| format!("dropping capabilities: {e:?}"))?;
    }
    let mut side = RvisorSide {
        arena: &arena,
        syscall: Syscall {
            process: &init,
            tid: init.pid(),
            host: &host,
        },
    };
    Ok(run_ops(&mut side, ops))
}
