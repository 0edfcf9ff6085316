//! `rvisor`: run programs in containers served by rvisor.ko.
//!
//! ```text
//! rvisor run [-t] [-i] [--root DIR] [--hostname NAME] -- CMD [ARGS...]
//! rvisor ps
//! rvisor rm ID
//! ```

mod console;
mod device;
mod uapi;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::ExitCode;

use device::{c_string, Device};

const USAGE: &str = "usage:
  rvisor run [-t] [-i] [--root DIR] [--hostname NAME] -- CMD [ARGS...]
        run CMD in a new container whose / is DIR (default /); exits with CMD's status
        -t, --tty          CMD gets a terminal of the container's (a pty) as stdio
        -i, --interactive  with -t, what is typed goes to it (the terminal is raw meanwhile)
  rvisor ps          list containers
  rvisor rm ID       kill what is left in container ID and remove it";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("ps") if args.len() == 1 => ps(),
        Some("rm") if args.len() == 2 => rm(&args[1]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(0)
        }
        _ => Err(format!("bad arguments\n{USAGE}")),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("rvisor: {message}");
            ExitCode::from(125)
        }
    }
}

struct RunOptions {
    root: String,
    hostname: Option<String>,
    tty: bool,
    interactive: bool,
    command: Vec<String>,
}

fn parse_run(args: &[String]) -> Result<RunOptions, String> {
    let mut opts = RunOptions {
        root: "/".into(),
        hostname: None,
        tty: false,
        interactive: false,
        command: Vec::new(),
    };
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--" => {
                opts.command = args[i + 1..].to_vec();
                break;
            }
            "--root" | "--hostname" => {
                let value = args
                    .get(i + 1)
                    .ok_or_else(|| format!("{} needs a value", args[i]))?
                    .clone();
                if args[i] == "--root" {
                    opts.root = value;
                } else {
                    opts.hostname = Some(value);
                }
                i += 2;
            }
            "-t" | "--tty" => {
                opts.tty = true;
                i += 1;
            }
            "-i" | "--interactive" => {
                opts.interactive = true;
                i += 1;
            }
            "-it" | "-ti" => {
                opts.tty = true;
                opts.interactive = true;
                i += 1;
            }
            other if other.starts_with('-') => {
                return Err(format!("unknown option `{other}`\n{USAGE}"))
            }
            _ => {
                opts.command = args[i..].to_vec();
                break;
            }
        }
    }
    if opts.command.is_empty() {
        return Err(format!("no command to run\n{USAGE}"));
    }
    Ok(opts)
}

/// Creates the container, runs the command in it from a child that joins and executes, waits,
/// removes the container and exits with the command's status (128+N if killed by signal N).
fn run(args: &[String]) -> Result<u8, String> {
    let opts = parse_run(args)?;
    let root = Path::new(&opts.root);
    if !root.exists() {
        return Err(format!("container root {} does not exist", opts.root));
    }
    if !root.is_dir() {
        return Err(format!("container root {} is not a directory", opts.root));
    }
    let root = root
        .canonicalize()
        .map_err(|e| format!("container root {}: {e}", opts.root))?;
    let root = CString::new(root.as_os_str().as_bytes())
        .map_err(|_| "root contains a NUL byte".to_string())?;
    let hostname = opts
        .hostname
        .as_deref()
        .map(|h| c_string("hostname", h))
        .transpose()?;
    let argv: Vec<CString> = opts
        .command
        .iter()
        .map(|a| c_string("argument", a))
        .collect::<Result<_, _>>()?;

    let device = Device::open().map_err(|e| e.to_string())?;
    let id = device
        .create(&root, hostname.as_deref())
        .map_err(|e| e.to_string())?;
    let terminal = if opts.tty {
        match device.open_pty(id) {
            Ok(master) => {
                console::pass_window_size(&master);
                Some((master, opts.interactive))
            }
            Err(e) => {
                let _ = device.remove(id);
                return Err(e.to_string());
            }
        }
    } else {
        None
    };
    let status = spawn_in(&device, id, &argv, terminal);
    let removed = device.remove(id);
    let status = status?;
    removed.map_err(|e| e.to_string())?;
    Ok(status)
}

fn spawn_in(
    device: &Device,
    id: u32,
    argv: &[CString],
    terminal: Option<(std::os::fd::OwnedFd, bool)>,
) -> Result<u8, String> {
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // The terminal's ^C goes to the program; we wait for it and then clean up.
    // SAFETY: setting a signal disposition has no memory-safety preconditions.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGQUIT, libc::SIG_IGN);
    }
    // SAFETY: fork in a single-threaded program; the child only calls async-signal-safe functions
    // (ioctl, signal, execvp, write, _exit) before exec.
    // The container gets a process group of the host's of its own, in our session: its
    // first process's parent (us) is then in another group of the same session, so the host
    // does not take the group for orphaned and lets the stop signals of job control
    // (SIGTSTP, SIGTTIN, SIGTTOU) stop its processes, as rVisor's terminals send them. On
    // a terminal we are the foreground of, that group becomes the foreground while it runs.
    // SAFETY: plain calls on our own terminal and process group.
    let foreground = terminal.is_none()
        && unsafe { libc::isatty(0) == 1 && libc::tcgetpgrp(0) == libc::getpgrp() };
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if pid > 0 {
        // SAFETY: as in the child; whichever runs first makes the group.
        unsafe { libc::setpgid(pid, pid) };
    }
    if pid == 0 {
        // SAFETY: our own process group; SIGTTOU ignored around tcsetpgrp, as shells do.
        unsafe {
            libc::setpgid(0, 0);
            if foreground {
                libc::signal(libc::SIGTTOU, libc::SIG_IGN);
                libc::tcsetpgrp(0, libc::getpid());
                libc::signal(libc::SIGTTOU, libc::SIG_DFL);
            }
        }
        if let Some((master, _)) = &terminal {
            // The joining process keeps no host descriptor of the master: rVisor's execve
            // does not close the host's close-on-exec descriptors.
            // SAFETY: closing our copy of the master; the parent keeps its own.
            unsafe { libc::close(std::os::fd::AsRawFd::as_raw_fd(master)) };
        }
        let code = match device.add_self(id) {
            Ok(()) => {
                // SAFETY: restoring default dispositions, then exec with a NULL-terminated argv
                // of live C strings. SIGPIPE too: Rust's runtime ignores it in this process, and
                // an ignored signal stays ignored across exec (`yes | head` would then print
                // "Broken pipe" errors instead of ending quietly).
                unsafe {
                    libc::signal(libc::SIGINT, libc::SIG_DFL);
                    libc::signal(libc::SIGQUIT, libc::SIG_DFL);
                    libc::signal(libc::SIGPIPE, libc::SIG_DFL);
                    libc::execvp(ptrs[0], ptrs.as_ptr());
                }
                let err = std::io::Error::last_os_error();
                let msg = format!("rvisor: cannot run {}: {err}\n", argv[0].to_string_lossy());
                // SAFETY: writing a live buffer to stderr.
                unsafe { libc::write(2, msg.as_ptr().cast(), msg.len()) };
                if err.raw_os_error() == Some(libc::ENOENT) {
                    127
                } else {
                    126
                }
            }
            Err(e) => {
                let msg = format!("rvisor: {e}\n");
                // SAFETY: writing a live buffer to stderr.
                unsafe { libc::write(2, msg.as_ptr().cast(), msg.len()) };
                125
            }
        };
        // SAFETY: leaving the forked child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    let relayed = match terminal {
        Some((master, interactive)) => {
            status = console::relay(&master, pid, interactive)?;
            true
        }
        None => false,
    };
    if !relayed {
        loop {
            // SAFETY: waiting for our own child into a live int.
            let r = unsafe { libc::waitpid(pid, &mut status, 0) };
            if r == pid {
                break;
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EINTR) {
                return Err(format!("waitpid: {err}"));
            }
        }
    }

    if foreground {
        // SAFETY: taking our terminal back, SIGTTOU ignored meanwhile.
        unsafe {
            libc::signal(libc::SIGTTOU, libc::SIG_IGN);
            libc::tcsetpgrp(0, libc::getpgrp());
            libc::signal(libc::SIGTTOU, libc::SIG_DFL);
        }
    }
    Ok(if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status) as u8
    } else {
        128u8.wrapping_add(libc::WTERMSIG(status) as u8)
    })
}

fn ps() -> Result<u8, String> {
    let device = Device::open().map_err(|e| e.to_string())?;
    let list = device.list().map_err(|e| e.to_string())?;
    println!(
        "{:>4}  {:>7}  {:<8}  {:<20}  ROOT",
        "ID", "MEMBERS", "STATE", "HOSTNAME"
    );
    for c in list {
        let state = if c.dying { "dying" } else { "running" };
        println!(
            "{:>4}  {:>7}  {:<8}  {:<20}  {}",
            c.id, c.members, state, c.hostname, c.root
        );
    }
    Ok(0)
}

fn rm(id: &str) -> Result<u8, String> {
    let id: u32 = id
        .parse()
        .map_err(|_| format!("`{id}` is not a container id"))?;
    let device = Device::open().map_err(|e| e.to_string())?;
    device.remove(id).map_err(|e| e.to_string())?;
    Ok(0)
}
