//! `rvisor`: run programs in containers served by rvisor.ko.
//!
//! ```text
//! rvisor run [OPTIONS] -- CMD [ARGS...]
//! rvisor ps
//! rvisor exec [-t] [-i] ID -- CMD [ARGS...]
//! rvisor rm ID
//! rvisor [GLOBAL OPTIONS] spec|create|start|state|kill|delete|run|list|ps|exec ...  (OCI)
//! ```

mod console;
mod device;
mod mounts;
mod oci;
mod publish;
mod uapi;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::ExitCode;

use device::{c_string, Device};
use mounts::MountSpec;
use publish::{PortSpec, Publisher};

const USAGE: &str = "usage:
  rvisor run [OPTIONS] -- CMD [ARGS...]
        run CMD in a new container; exits with CMD's status. OPTIONS:
        -t, --tty               CMD gets a terminal of the container's (a pty) as stdio
        -i, --interactive       with -t, what is typed goes to it (the terminal is raw
                                meanwhile)
        --root DIR              the container's / (default /)
        --hostname NAME         its host name (default rvisor)
        --read-only             its root is mounted read-only
        -v, --volume HOST:DIR[:ro]
                                mount the host directory HOST on DIR (which must exist)
        --tmpfs DIR[:OPTIONS]   mount a new tmpfs on DIR (OPTIONS: size=, nr_inodes=,
                                mode=, ro, nosuid, nodev, noexec)
        -w, --workdir DIR       run CMD in DIR of the container
        -e, --env NAME=VALUE    set a variable of CMD's environment (NAME alone: the CLI's)
        -u, --user UID[:GID]    run CMD as UID (and GID; default: UID's group is UID)
        --net none|host|ns:PATH the network: none (default), a new network namespace with
                                only loopback, up; host, this one; ns:PATH, the namespace of
                                PATH (/proc/PID/ns/net, /var/run/netns/NAME)
        -p, --publish [IP:]HOST_PORT:CONTAINER_PORT[/tcp]
                                relay connections to HOST_PORT of the host (every
                                address, or IP) to CONTAINER_PORT on the container's
                                loopback (not with --net host)
  rvisor ps          list containers
  rvisor exec [-t] [-i] [-e NAME=VALUE] [-u UID[:GID]] [--cwd DIR] ID -- CMD [ARGS...]
                     run CMD in running container ID as a new process; exits with its status
  rvisor rm ID       kill what is left in container ID and remove it
  rvisor [--root STATE_DIR] [--log FILE] [--log-format text|json] [--debug] COMMAND ...
        the OCI runtime, with runc's commands: spec, create, start, state, kill, delete,
        run ID (without `--`), list, ps ID, exec; `rvisor --root /run/rvisor help` lists them";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if oci::is_oci_command_line(&args) {
        return ExitCode::from(oci::main(&args));
    }
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

/// The network namespace a container's processes have (`--net`).
#[derive(Debug, PartialEq, Eq)]
enum Network {
    /// A new one with loopback up and nothing else.
    None,
    /// The caller's.
    Host,
    /// The one a namespace file names (as CNI plugins hand them).
    Namespace(String),
}

impl Network {
    fn parse(value: &str) -> Result<Self, String> {
        match value {
            "none" => Ok(Self::None),
            "host" => Ok(Self::Host),
            _ => match value.strip_prefix("ns:") {
                Some(path) if !path.is_empty() => Ok(Self::Namespace(path.into())),
                _ => Err(format!("--net takes none, host or ns:PATH, not `{value}`")),
            },
        }
    }
}

struct RunOptions {
    root: String,
    hostname: Option<String>,
    read_only: bool,
    mounts: Vec<MountSpec>,
    workdir: Option<String>,
    env: Vec<(String, String)>,
    user: Option<(u32, u32)>,
    net: Network,
    publish: Vec<PortSpec>,
    tty: bool,
    interactive: bool,
    command: Vec<String>,
}

/// Parses `-u UID[:GID]`.
fn parse_user(value: &str) -> Result<(u32, u32), String> {
    let bad = || format!("user `{value}`: expected numeric UID[:GID]");
    let (uid, gid) = value.split_once(':').unwrap_or((value, value));
    Ok((
        uid.parse().map_err(|_| bad())?,
        gid.parse().map_err(|_| bad())?,
    ))
}

/// Parses `-e NAME=VALUE` (or `NAME`, taking the CLI's own value; none: unset).
fn parse_env(value: &str) -> Result<Option<(String, String)>, String> {
    let (name, value) = match value.split_once('=') {
        Some((name, value)) => (name, Some(value.to_string())),
        None => (value, std::env::var(value).ok()),
    };
    if name.is_empty() || name.contains('\0') {
        return Err(format!("environment variable `{name}`: bad name"));
    }
    Ok(value.map(|value| (name.to_string(), value)))
}

fn parse_run(args: &[String]) -> Result<RunOptions, String> {
    let mut opts = RunOptions {
        root: "/".into(),
        hostname: None,
        read_only: false,
        mounts: Vec::new(),
        workdir: None,
        env: Vec::new(),
        user: None,
        net: Network::None,
        publish: Vec::new(),
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
            "--read-only" => {
                opts.read_only = true;
                i += 1;
            }
            option @ ("--root" | "--hostname" | "-v" | "--volume" | "--tmpfs" | "-w"
            | "--workdir" | "-e" | "--env" | "-u" | "--user" | "--net" | "-p"
            | "--publish") => {
                let value = args
                    .get(i + 1)
                    .ok_or_else(|| format!("{option} needs a value"))?
                    .clone();
                match option {
                    "--root" => opts.root = value,
                    "--hostname" => opts.hostname = Some(value),
                    "-v" | "--volume" => opts.mounts.push(MountSpec::volume(&value)?),
                    "--tmpfs" => opts.mounts.push(MountSpec::tmpfs(&value)?),
                    "-w" | "--workdir" => opts.workdir = Some(value),
                    "-e" | "--env" => opts.env.extend(parse_env(&value)?),
                    "--net" => opts.net = Network::parse(&value)?,
                    "-p" | "--publish" => opts.publish.push(PortSpec::parse(&value)?),
                    _ => opts.user = Some(parse_user(&value)?),
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
    if !opts.publish.is_empty() && opts.net == Network::Host {
        return Err(
            "--publish relays into a network namespace of the container's: with --net host \
             its servers are on the host's ports already"
                .into(),
        );
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
    mounts::make_read_only(&root, opts.read_only, &opts.mounts)?;
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
    // The host's ports are listened on from the host's namespace, before leaving it.
    let publisher = Publisher::listen(&opts.publish)?;
    // This process's namespace is the one its child, the container's first process, takes
    // into the container; contained processes cannot change it.
    enter_network(&opts.net)?;
    let id = device
        .create(&root, hostname.as_deref())
        .map_err(|e| e.to_string())?;
    let launch = Launch {
        argv,
        workdir: opts
            .workdir
            .as_deref()
            .map(|w| c_string("working directory", w))
            .transpose()?,
        env: environment(&opts.env)?,
        user: opts.user,
    };
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
    let status = mounts::mount_all(&device, id, &opts.mounts)
        .and_then(|()| spawn_in(&device, id, &launch, terminal, publisher));
    let removed = device.remove(id);
    let status = status?;
    removed.map_err(|e| e.to_string())?;
    Ok(status)
}

/// Moves this process into the container's network namespace (see [`Network`]).
fn enter_network(net: &Network) -> Result<(), String> {
    match net {
        Network::Host => Ok(()),
        Network::None => {
            // SAFETY: unshare has no memory-safety preconditions.
            if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                let err = std::io::Error::last_os_error();
                return Err(format!("--net none: a new network namespace: {err}"));
            }
            loopback_up().map_err(|err| format!("--net none: bringing lo up: {err}"))
        }
        Network::Namespace(path) => {
            let file =
                std::fs::File::open(path).map_err(|err| format!("--net ns:{path}: {err}"))?;
            use std::os::fd::AsRawFd;
            // SAFETY: setns on a descriptor we hold.
            if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                let err = std::io::Error::last_os_error();
                return Err(format!("--net ns:{path}: not a network namespace? {err}"));
            }
            Ok(())
        }
    }
}

/// Sets `IFF_UP` on `lo` in this process's network namespace (`ip link set lo up`).
fn loopback_up() -> std::io::Result<()> {
    // SAFETY: socket has no memory-safety preconditions.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a descriptor we just made and own.
    let socket = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    use std::os::fd::AsRawFd;
    // SAFETY: ifreq is plain data; all zeroes is a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (to, from) in request.ifr_name.iter_mut().zip(b"lo") {
        *to = *from as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS and SIOCSIFFLAGS read and write a live ifreq.
    unsafe {
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFFLAGS, &mut request) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCSIFFLAGS, &request) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// What the joined child sets up before it executes the command.
struct Launch {
    argv: Vec<CString>,
    workdir: Option<CString>,
    /// The whole environment, `NAME=VALUE` strings.
    env: Vec<CString>,
    user: Option<(u32, u32)>,
}

/// The CLI's environment with the `-e` settings applied, as `NAME=VALUE` C strings.
fn environment(settings: &[(String, String)]) -> Result<Vec<CString>, String> {
    let mut vars: Vec<(String, String)> = std::env::vars()
        .filter(|(name, _)| settings.iter().all(|(set, _)| set != name))
        .collect();
    vars.extend(settings.iter().cloned());
    vars.iter()
        .map(|(name, value)| c_string("environment variable", &format!("{name}={value}")))
        .collect()
}

fn spawn_in(
    device: &Device,
    id: u32,
    launch: &Launch,
    terminal: Option<(std::os::fd::OwnedFd, bool)>,
    publisher: Publisher,
) -> Result<u8, String> {
    let argv = &launch.argv;
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = launch.env.iter().map(|a| a.as_ptr()).collect();
    envp.push(std::ptr::null());
    // The terminal's ^C goes to the program; we wait for it and then clean up.
    // SAFETY: setting a signal disposition has no memory-safety preconditions.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGQUIT, libc::SIG_IGN);
    }
    // The container gets a process group of the host's of its own, in our session: its
    // first process's parent (us) is then in another group of the same session, so the host
    // does not take the group for orphaned and lets the stop signals of job control
    // (SIGTSTP, SIGTTIN, SIGTTOU) stop its processes, as rVisor's terminals send them. On
    // a terminal we are the foreground of, that group becomes the foreground while it runs.
    // SAFETY: plain calls on our own terminal and process group.
    let foreground = terminal.is_none()
        && unsafe { libc::isatty(0) == 1 && libc::tcgetpgrp(0) == libc::getpgrp() };
    // SAFETY: fork in a single-threaded program (the relay threads of `--publish` start in
    // the parent after it); the child only calls async-signal-safe functions (ioctl, signal,
    // execvp, write, _exit) before exec.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if pid > 0 {
        // SAFETY: as in the child; whichever runs first makes the group.
        unsafe { libc::setpgid(pid, pid) };
        // Threads only now: the child above is forked from a single-threaded process.
        publisher.start();
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
        let code = match device
            .add_self(id)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                // SAFETY: plain calls on live C strings and integers, served by rVisor now.
                unsafe { set_up_child(launch) }
            }) {
            Ok(()) => {
                // SAFETY: restoring default dispositions, then exec with a NULL-terminated argv
                // of live C strings. SIGPIPE too: Rust's runtime ignores it in this process, and
                // an ignored signal stays ignored across exec (`yes | head` would then print
                // "Broken pipe" errors instead of ending quietly).
                unsafe {
                    libc::signal(libc::SIGINT, libc::SIG_DFL);
                    libc::signal(libc::SIGQUIT, libc::SIG_DFL);
                    libc::signal(libc::SIGPIPE, libc::SIG_DFL);
                    libc::execvpe(ptrs[0], ptrs.as_ptr(), envp.as_ptr());
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
        // A SIGTERM (or SIGHUP…) sent to the CLI, as `docker stop` or a supervisor sends
        // it, goes to the command: the CLI lives on to remove the container once it ends.
        status = oci::wait_passing_signals(pid);
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

/// In the joined child, before the command: its working directory and its user.
///
/// # Safety
///
/// Called in the forked child of a single-threaded program, before exec.
unsafe fn set_up_child(launch: &Launch) -> Result<(), String> {
    if let Some(dir) = &launch.workdir {
        // SAFETY: `dir` is a live C string.
        if unsafe { libc::chdir(dir.as_ptr()) } != 0 {
            let err = std::io::Error::last_os_error();
            return Err(format!(
                "working directory {}: {err}",
                dir.to_string_lossy()
            ));
        }
    }
    if let Some((uid, gid)) = launch.user {
        // SAFETY: id changes with integer arguments and an empty group list.
        let changed = unsafe {
            libc::setgroups(0, std::ptr::null()) == 0
                && libc::setgid(gid) == 0
                && libc::setuid(uid) == 0
        };
        if !changed {
            let err = std::io::Error::last_os_error();
            return Err(format!("user {uid}:{gid}: {err}"));
        }
    }
    Ok(())
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
