//! The container's first process, as `create` makes it: a child of the CLI that joins the
//! rVisor container, sets itself up as `config.json` says (limits, umask, groups, user,
//! working directory, `no_new_privs`) and then waits, before the user's program, until `start`
//! releases it — runc's `exec.fifo` pattern with a signal in place of the FIFO, because a
//! joined process opens files in the container's root only and keeps none of the host's
//! descriptors but its stdio: it blocks [`start_signal`] before joining and waits for it in
//! `sigtimedwait` (passed to the host), and only a `sigqueue` carrying the container's
//! `start_token` releases it.
//!
//! Until it waits, the child tells the CLI how its set-up went through a page of memory
//! shared before the fork (plain memory writes: no descriptor needed), so every set-up error
//! is `create`'s, with its message.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::config::ProcessPlan;
use crate::device::{c_string, Device};

/// The signal `start` sends (with `sigqueue`) to release the first process.
pub fn start_signal() -> libc::c_int {
    libc::SIGRTMAX()
}

/// How long `create` waits for the first process to be set up.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

pub(super) const READY: u32 = 1;
const FAILED: u32 = 2;

/// The page the child reports on: its state, then (when it failed) a message.
#[repr(C)]
pub(super) struct Report {
    pub(super) state: AtomicU32,
    length: AtomicU32,
    message: [u8; 4096 - 8],
}

/// A shared anonymous page holding a [`Report`], unmapped when dropped.
pub(super) struct SharedReport(*mut Report);

impl SharedReport {
    fn new() -> Result<Self, String> {
        // SAFETY: a new anonymous shared mapping; no existing memory is touched.
        let page = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                std::mem::size_of::<Report>(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if page == libc::MAP_FAILED {
            return Err(format!("mmap: {}", std::io::Error::last_os_error()));
        }
        // A new anonymous page is zeroed: state 0 (pending), no message.
        Ok(Self(page.cast()))
    }

    pub(super) fn report(&self) -> &Report {
        // SAFETY: the mapping lives as long as `self`; its fields are atomics or bytes
        // written before the state that publishes them.
        unsafe { &*self.0 }
    }

    /// In the child: the set-up failed with `message`.
    fn fail(&self, message: &str) {
        let bytes = message.as_bytes();
        // SAFETY: the parent reads the message only after it sees FAILED, stored after it.
        let length = unsafe {
            let room = &mut (*self.0).message;
            let length = bytes.len().min(room.len());
            room[..length].copy_from_slice(&bytes[..length]);
            length
        };
        self.report().length.store(length as u32, Ordering::Relaxed);
        self.report().state.store(FAILED, Ordering::Release);
    }

    fn message(&self) -> String {
        let length = self.report().length.load(Ordering::Relaxed) as usize;
        // SAFETY: the child wrote `length` bytes before publishing FAILED.
        let bytes = unsafe { &(&(*self.0).message)[..length] };
        String::from_utf8_lossy(bytes).into_owned()
    }
}

impl Drop for SharedReport {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping.
        unsafe { libc::munmap(self.0.cast(), std::mem::size_of::<Report>()) };
    }
}

/// What the child needs, made before the fork (no allocation decides anything after it).
pub(super) struct Launch {
    argv: Vec<CString>,
    env: Vec<CString>,
    cwd: CString,
    /// `PATH` of the process's environment, where a program named without `/` is looked up.
    path: String,
}

impl Launch {
    pub(super) fn new(process: &ProcessPlan) -> Result<Self, String> {
        let strings = |what, values: &[String]| -> Result<Vec<CString>, String> {
            values.iter().map(|v| c_string(what, v)).collect()
        };
        let path = process
            .env
            .iter()
            .find_map(|v| v.strip_prefix("PATH="))
            .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .to_string();
        Ok(Self {
            argv: strings("process.args", &process.args)?,
            env: strings("process.env", &process.env)?,
            cwd: c_string("process.cwd", &process.cwd)?,
            path,
        })
    }
}

/// Forks the first process of container `id`, which joins it and waits for `start`; returns
/// its host pid once it is waiting.
pub fn spawn(
    device: &Device,
    id: u32,
    process: &ProcessPlan,
    token: i32,
) -> Result<libc::pid_t, String> {
    let launch = Launch::new(process)?;
    fork_joining(device, "the container's first process", 0, |report| {
        first_process(device, id, process, &launch, token, report)
    })
}

/// Forks a child that runs `child` (with stdio, `device` and no other descriptor of ours),
/// which joins a container, sets itself up and stores [`READY`] in its report (or returns the
/// error that is reported); puts it in host process group `group` (0: its own); returns its
/// host pid once it is ready. `what` names it in errors.
pub(super) fn fork_joining(
    device: &Device,
    what: &str,
    group: libc::pid_t,
    child: impl FnOnce(&SharedReport) -> Result<std::convert::Infallible, String>,
) -> Result<libc::pid_t, String> {
    let report = SharedReport::new()?;
    // SAFETY: the CLI is single-threaded; the child runs `child`, then leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if pid == 0 {
        close_descriptors_but_stdio_and(device.as_raw_fd());
        let Err(message) = child(&report);
        report.fail(&message);
        // SAFETY: leaving the forked child without running the parent's destructors.
        unsafe { libc::_exit(1) };
    }
    // SAFETY: setpgid on our own child. As in the child (whichever runs first makes or
    // joins the group): the container's host tasks share a process group of their own (its
    // first process's), which `kill --all` signals.
    unsafe { libc::setpgid(pid, if group == 0 { pid } else { group }) };
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        match report.report().state.load(Ordering::Acquire) {
            READY => return Ok(pid),
            FAILED => {
                reap(pid);
                return Err(report.message());
            }
            _ => {}
        }
        let mut status = 0;
        // SAFETY: polling our own child into a live int.
        if unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } == pid {
            return Err(format!(
                "{what} ended before it was set up ({})",
                describe_status(status)
            ));
        }
        if Instant::now() > deadline {
            // SAFETY: killing and reaping our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            reap(pid);
            return Err(format!(
                "{what} was not set up within {} s",
                READY_TIMEOUT.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn reap(pid: libc::pid_t) {
    let mut status = 0;
    // SAFETY: reaping our own child into a live int.
    unsafe { libc::waitpid(pid, &mut status, 0) };
}

/// A wait status in words.
pub fn describe_status(status: libc::c_int) -> String {
    if libc::WIFEXITED(status) {
        format!("exit status {}", libc::WEXITSTATUS(status))
    } else {
        format!("killed by signal {}", libc::WTERMSIG(status))
    }
}

/// Releases the first process `pid` of a created container: queues [`start_signal`] with
/// `token`.
pub fn release(pid: libc::pid_t, token: i32) -> Result<(), String> {
    let value = libc::sigval {
        sival_ptr: token as isize as *mut libc::c_void,
    };
    // SAFETY: sigqueue with a plain value.
    if unsafe { libc::sigqueue(pid, start_signal(), value) } != 0 {
        return Err(format!(
            "releasing the container's first process (pid {pid}): {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// Closes every descriptor of this (forked) process but 0, 1, 2 and `kept`: rVisor's execve
/// leaves a joined process's host descriptors open on the host (unreachable from the
/// container, which has only its stdio), and the engine's pipes, sockets, log file and the
/// console's master must not be held by the container's tasks. `kept` is `/dev/rvisor`, for
/// joining (an inherited one is refused inside).
fn close_descriptors_but_stdio_and(kept: libc::c_int) {
    // SAFETY: close_range on our own descriptor table, in a forked child that uses no other.
    unsafe {
        libc::syscall(libc::SYS_close_range, 3, kept - 1, 0);
        libc::syscall(libc::SYS_close_range, kept + 1, libc::c_uint::MAX, 0);
    }
}

/// The error of the last failed libc call, naming `what`.
fn os_error(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

/// In the forked child: joins, sets up, reports READY, waits for `start`, executes the
/// program. Returns only an error (reported through `report` by the caller).
fn first_process(
    device: &Device,
    id: u32,
    process: &ProcessPlan,
    launch: &Launch,
    token: i32,
    report: &SharedReport,
) -> Result<std::convert::Infallible, String> {
    // SAFETY: plain calls on our own process with live arguments; from the join on, rVisor
    // serves them (`rt_sigprocmask` and `rt_sigtimedwait` are passed to the host).
    let program = unsafe {
        libc::setpgid(0, 0);
        let mut start: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut start);
        libc::sigaddset(&mut start, start_signal());
        // Blocked before joining: a `start` that comes early stays pending.
        libc::sigprocmask(libc::SIG_BLOCK, &start, std::ptr::null_mut());
        device.add_self(id).map_err(|e| e.to_string())?;
        let program = set_up(process, launch)?;
        report.report().state.store(READY, Ordering::Release);
        loop {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let signal = libc::sigtimedwait(&start, &mut info, std::ptr::null());
            if signal == start_signal()
                && info.si_code == libc::SI_QUEUE
                && info.si_value().sival_ptr as isize as i32 == token
            {
                break;
            }
        }
        libc::sigprocmask(libc::SIG_UNBLOCK, &start, std::ptr::null_mut());
        program
    };
    execute(launch, &program)
}

/// In a joined child: sets itself up as `process` says (limits, umask, working directory,
/// groups, user, `no_new_privs`); returns the program to execute.
pub(super) fn set_up(process: &ProcessPlan, launch: &Launch) -> Result<CString, String> {
    // SAFETY: plain calls on our own process with live arguments, served by rVisor.
    unsafe {
        for &(resource, soft, hard) in &process.rlimits {
            let limit = libc::rlimit {
                rlim_cur: soft,
                rlim_max: hard,
            };
            if libc::setrlimit(resource as _, &limit) != 0 {
                return Err(os_error(&format!("process.rlimits: resource {resource}")));
            }
        }
        if let Some(umask) = process.umask {
            libc::umask(umask as libc::mode_t);
        }
        // The working directory before the user: it may be one the user cannot search.
        if libc::chdir(launch.cwd.as_ptr()) != 0 {
            return Err(os_error(&format!(
                "process.cwd {} in the container",
                process.cwd
            )));
        }
        if libc::setgroups(
            process.additional_gids.len(),
            process.additional_gids.as_ptr(),
        ) != 0
        {
            return Err(os_error("process.user.additionalGids"));
        }
        if libc::setgid(process.gid) != 0 {
            return Err(os_error(&format!("process.user.gid {}", process.gid)));
        }
        if libc::setuid(process.uid) != 0 {
            return Err(os_error(&format!("process.user.uid {}", process.uid)));
        }
        if process.no_new_privileges && libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return Err(os_error("process.noNewPrivileges"));
        }
    }
    find_program(launch)
}

/// In a joined, set-up child: executes `program`; on failure says why on its stderr (too late
/// for the CLI to hear of it) and exits with 127, as a shell does.
pub(super) fn execute(launch: &Launch, program: &CString) -> ! {
    // SAFETY: plain calls on our own process; the argument and environment arrays end with
    // a null pointer and point into `launch`, alive until exec or exit.
    unsafe {
        // Rust's runtime ignores SIGPIPE, and an ignored signal stays ignored across exec.
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        let mut argv: Vec<*const libc::c_char> = launch.argv.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        let mut envp: Vec<*const libc::c_char> = launch.env.iter().map(|a| a.as_ptr()).collect();
        envp.push(std::ptr::null());
        libc::execve(program.as_ptr(), argv.as_ptr(), envp.as_ptr());
        let message = os_error(&format!("exec {}", program.to_string_lossy()));
        let line = format!("rvisor: {message}\n");
        libc::write(2, line.as_ptr().cast(), line.len());
        libc::_exit(127);
    }
}

/// The program `process.args[0]` names, as the container sees it: itself if it holds a `/`,
/// else the first executable regular file of that name in the process's `PATH`.
fn find_program(launch: &Launch) -> Result<CString, String> {
    let name = launch.argv[0].to_string_lossy().into_owned();
    let executable = |path: &CString| {
        // SAFETY: `stat` is plain data; all zeroes is a valid value.
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: a live C string and stat buffer.
        unsafe {
            libc::stat(path.as_ptr(), &mut stat) == 0
                && stat.st_mode & libc::S_IFMT == libc::S_IFREG
                && libc::access(path.as_ptr(), libc::X_OK) == 0
        }
    };
    if name.contains('/') {
        let path = launch.argv[0].clone();
        return if executable(&path) {
            Ok(path)
        } else {
            Err(os_error(&format!(
                "process.args[0] {name} in the container"
            )))
        };
    }
    for dir in launch.path.split(':').filter(|d| !d.is_empty()) {
        let path = c_string("PATH", &format!("{dir}/{name}"))?;
        if executable(&path) {
            return Ok(path);
        }
    }
    Err(format!(
        "process.args[0] {name}: executable file not found in the container's $PATH ({})",
        launch.path
    ))
}

/// Sends the console's pty master to the engine listening on `socket`, as runc does
/// (`SCM_RIGHTS`, the message being the master's name).
pub fn send_console(socket: &std::path::Path, master: &OwnedFd) -> Result<(), String> {
    let stream = std::os::unix::net::UnixStream::connect(socket)
        .map_err(|e| format!("--console-socket {}: {e}", socket.display()))?;
    let name = b"/dev/ptmx";
    let fd = master.as_raw_fd();
    // SAFETY: sendmsg with a live iovec and a control buffer sized by CMSG_SPACE for one fd.
    let sent = unsafe {
        let space = libc::CMSG_SPACE(std::mem::size_of::<libc::c_int>() as u32) as usize;
        let mut control = vec![0u8; space];
        let mut iov = libc::iovec {
            iov_base: name.as_ptr() as *mut libc::c_void,
            iov_len: name.len(),
        };
        let mut message: libc::msghdr = std::mem::zeroed();
        message.msg_iov = &mut iov;
        message.msg_iovlen = 1;
        message.msg_control = control.as_mut_ptr().cast();
        message.msg_controllen = space as _;
        let header = libc::CMSG_FIRSTHDR(&message);
        (*header).cmsg_level = libc::SOL_SOCKET;
        (*header).cmsg_type = libc::SCM_RIGHTS;
        (*header).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<libc::c_int>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(header).cast::<libc::c_int>(), fd);
        libc::sendmsg(stream.as_raw_fd(), &message, 0)
    };
    if sent < 0 {
        return Err(os_error(&format!(
            "sending the terminal to --console-socket {}",
            socket.display()
        )));
    }
    Ok(())
}
