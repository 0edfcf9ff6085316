//! The OCI runtime commands, with runc's command-line contract, so that container engines
//! (podman/conmon, containerd's runc shim, dockerd) can be given `rvisor` as their runtime:
//!
//! ```text
//! rvisor [--root STATE_DIR] [--log FILE] [--log-format text|json] [--debug] [--systemd-cgroup]
//!        spec | create | start | state | kill | delete | run | list | ps | exec ...
//! ```
//!
//! A container's state is `STATE_DIR/ID/state.json` (default `/run/rvisor`); its first process
//! is a host process joined to an rvisor.ko container (see `first_process`).

mod config;
mod exec;
mod first_process;
mod state;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use clap::{Parser, Subcommand};

use crate::device::{c_string, Device, DeviceError};
use state::{Record, StateDir, Status};

/// The OCI runtime command line (runc's).
#[derive(Parser, Debug)]
#[command(
    name = "rvisor",
    about = "rVisor as an OCI runtime, with runc's commands and options",
    disable_version_flag = true
)]
struct Cli {
    /// Where container state is kept.
    #[arg(long, default_value = "/run/rvisor")]
    root: PathBuf,
    /// Where log lines (and errors) go; stderr without it.
    #[arg(long)]
    log: Option<PathBuf>,
    /// The log lines' format.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    /// Log debug lines too.
    #[arg(long)]
    debug: bool,
    /// Accepted for engines that pass it; rVisor applies no cgroup settings yet.
    #[arg(long)]
    systemd_cgroup: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Debug)]
struct CreateArgs {
    /// The bundle: a directory with a config.json.
    #[arg(short, long, default_value = ".")]
    bundle: PathBuf,
    /// A unix socket the pty master of a `terminal` process is sent to.
    #[arg(long)]
    console_socket: Option<PathBuf>,
    /// A file the first process's host pid is written to.
    #[arg(long)]
    pid_file: Option<PathBuf>,
    /// Descriptors beyond stdio to pass; only 0 is supported.
    #[arg(long, default_value_t = 0)]
    preserve_fds: u32,
    /// Accepted: rVisor has no pivot_root to avoid.
    #[arg(long)]
    no_pivot: bool,
    /// Accepted: rVisor makes no session keyring.
    #[arg(long)]
    no_new_keyring: bool,
    id: String,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write a default config.json.
    Spec {
        #[arg(short, long, default_value = ".")]
        bundle: PathBuf,
    },
    /// Create a container whose first process waits for `start`.
    Create(CreateArgs),
    /// Let a created container's process run its program.
    Start { id: String },
    /// Print a container's state as JSON.
    State { id: String },
    /// Send a signal (default SIGTERM) to a container's first process, or with --all to all.
    Kill {
        #[arg(short, long)]
        all: bool,
        id: String,
        signal: Option<String>,
    },
    /// Remove a container (a running one only with --force).
    Delete {
        #[arg(short, long)]
        force: bool,
        id: String,
    },
    /// Create and start a container; without --detach wait for it and delete it.
    Run {
        #[command(flatten)]
        create: CreateArgs,
        #[arg(short, long)]
        detach: bool,
    },
    /// List containers.
    List {
        #[arg(short, long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
        #[arg(short, long)]
        quiet: bool,
    },
    /// Show a container's processes (`ps -ef` lines, or their pids as JSON).
    Ps {
        #[arg(short, long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
        id: String,
        /// Options for ps(1) (default -ef).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        ps_args: Vec<String>,
    },
    /// Print what this runtime supports (JSON).
    Features,
    /// Run a new process in a running container.
    Exec(exec::ExecArgs),
}

/// Where log lines go, in which format.
struct Log {
    file: Option<std::fs::File>,
    json: bool,
    debug: bool,
}

impl Log {
    fn line(&mut self, level: &str, message: &str) {
        let time = state::rfc3339_nano(SystemTime::now());
        // logrus's JSON and text formats, which engines parse.
        let line = if self.json {
            serde_json::json!({ "level": level, "msg": message, "time": time }).to_string()
        } else {
            format!(
                "time={:?} level={level} msg={}",
                time,
                serde_json::Value::String(message.into())
            )
        };
        match &mut self.file {
            Some(file) => {
                let _ = writeln!(file, "{line}");
            }
            None => eprintln!("{line}"),
        }
    }

    fn debug(&mut self, message: &str) {
        if self.debug {
            self.line("debug", message);
        }
    }

    /// An error: to the log, and to stderr too when the log is a file (as runc does).
    fn error(&mut self, message: &str) {
        self.line("error", message);
        if self.file.is_some() {
            eprintln!("rvisor: {message}");
        }
    }
}

/// Runs the OCI command line `args` (without the program name); the exit status.
pub fn main(args: &[String]) -> u8 {
    // Rust ignores SIGPIPE, which turns `rvisor state ID | grep -q ...` into a panic; end
    // quietly instead, as runc and C programs do.
    // SAFETY: setting a signal disposition has no memory-safety preconditions.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let cli = match Cli::try_parse_from(
        std::iter::once("rvisor".to_string()).chain(args.iter().cloned()),
    ) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 1 } else { 0 };
        }
    };
    let file = match &cli.log {
        Some(path) => match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            Ok(file) => Some(file),
            Err(e) => {
                eprintln!("rvisor: --log {}: {e}", path.display());
                return 1;
            }
        },
        None => None,
    };
    let mut log = Log {
        file,
        json: cli.log_format == "json",
        debug: cli.debug,
    };
    let states = StateDir(cli.root.clone());
    match run_command(cli.command, &states, &mut log) {
        Ok(code) => code,
        Err(message) => {
            log.error(&message);
            1
        }
    }
}

fn run_command(command: Command, states: &StateDir, log: &mut Log) -> Result<u8, String> {
    match command {
        Command::Spec { bundle } => spec(&bundle).map(|()| 0),
        Command::Create(args) => create(states, &args, false, log).map(|_| 0),
        Command::Start { id } => start(states, &id, log).map(|_| 0),
        Command::State { id } => {
            let record = states.load(&id)?;
            let text =
                serde_json::to_string_pretty(&record.runc_state("")).map_err(|e| e.to_string())?;
            println!("{text}");
            Ok(0)
        }
        Command::Kill { all, id, signal } => {
            kill(states, &id, signal.as_deref().unwrap_or("SIGTERM"), all).map(|()| 0)
        }
        Command::Delete { force, id } => delete(states, &id, force, log).map(|()| 0),
        Command::Run {
            create: args,
            detach,
        } => run(states, &args, detach, log),
        Command::List { format, quiet } => list(states, &format, quiet).map(|()| 0),
        Command::Ps {
            format,
            id,
            ps_args,
        } => ps(states, &id, &format, &ps_args).map(|()| 0),
        Command::Features => {
            let text = serde_json::to_string_pretty(&features()).map_err(|e| e.to_string())?;
            println!("{text}");
            Ok(0)
        }
        Command::Exec(args) => exec::exec(states, &args, log),
    }
}

/// `spec`: writes the default config.json into `bundle`.
fn spec(bundle: &Path) -> Result<(), String> {
    let path = bundle.join("config.json");
    if path.exists() {
        return Err(format!("File {} exists. Remove it first", path.display()));
    }
    let text = serde_json::to_string_pretty(&config::default_spec()).map_err(|e| e.to_string())?;
    std::fs::write(&path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
}

/// A container made by `create`, with what `run` needs of it.
struct Created {
    record: Record,
    /// The console's pty master, kept when no console socket took it.
    master: Option<std::os::fd::OwnedFd>,
}

/// `create`: makes the container and its first process, waiting; `keep_terminal` (a
/// foreground `run`) keeps the console's master instead of requiring a console socket.
fn create(
    states: &StateDir,
    args: &CreateArgs,
    keep_terminal: bool,
    log: &mut Log,
) -> Result<Created, String> {
    if args.preserve_fds != 0 {
        return Err(
            "--preserve-fds: a contained process gets only its stdio from the host; use 0".into(),
        );
    }
    let bundle = args
        .bundle
        .canonicalize()
        .map_err(|e| format!("bundle {}: {e}", args.bundle.display()))?;
    let plan = config::load(&bundle)?;
    let terminal = plan.process.terminal;
    if terminal && args.console_socket.is_none() && !keep_terminal {
        return Err(
            "config.json has process.terminal true: give --console-socket SOCKET to \
                    receive the terminal's pty master, or set process.terminal to false"
                .into(),
        );
    }
    if !terminal && args.console_socket.is_some() {
        return Err(
            "--console-socket is given but config.json has process.terminal false: \
                    drop one of them"
                .into(),
        );
    }
    states.claim(&args.id)?;
    let made = make(states, args, &bundle, plan, log);
    if made.is_err() {
        let _ = states.release(&args.id);
    }
    made
}

/// The part of `create` after its state directory is claimed; the rVisor container is removed
/// again if anything fails.
fn make(
    states: &StateDir,
    args: &CreateArgs,
    bundle: &Path,
    plan: config::Plan,
    log: &mut Log,
) -> Result<Created, String> {
    crate::mounts::make_read_only(&plan.root, plan.read_only, &plan.mounts)?;
    let root = c_string("root.path", &plan.root.to_string_lossy())?;
    let hostname = plan
        .hostname
        .as_deref()
        .map(|h| c_string("hostname", h))
        .transpose()?;
    let device = Device::open().map_err(|e| e.to_string())?;
    crate::enter_network(&plan.network)?;
    let rvisor_id = device
        .create(&root, hostname.as_deref())
        .map_err(|e| e.to_string())?;
    log.debug(&format!(
        "container {}: rvisor.ko container {rvisor_id}",
        args.id
    ));
    let made = (|| {
        let master = if plan.process.terminal {
            let master = device.open_pty(rvisor_id).map_err(|e| e.to_string())?;
            if let Some(size) = plan.process.console_size {
                let size = libc::winsize {
                    ws_row: size.height,
                    ws_col: size.width,
                    ws_xpixel: 0,
                    ws_ypixel: 0,
                };
                // SAFETY: TIOCSWINSZ with a live winsize.
                unsafe {
                    libc::ioctl(
                        std::os::fd::AsRawFd::as_raw_fd(&master),
                        libc::TIOCSWINSZ,
                        &size,
                    )
                };
            }
            Some(master)
        } else {
            None
        };
        crate::mounts::mount_all(&device, rvisor_id, &plan.mounts)?;
        let token = random_token();
        let pid = first_process::spawn(&device, rvisor_id, &plan.process, token)?;
        let record = Record {
            id: args.id.clone(),
            rvisor_id,
            pid,
            pid_start_time: state::start_time_of(pid).unwrap_or(0),
            started: false,
            start_token: token,
            bundle: bundle.to_path_buf(),
            rootfs: plan.root.clone(),
            created: state::rfc3339_nano(SystemTime::now()),
            annotations: plan.annotations.clone(),
        };
        let master = match (&args.console_socket, master) {
            (Some(socket), Some(master)) => {
                first_process::send_console(socket, &master)?;
                None
            }
            (_, master) => master,
        };
        if let Some(pid_file) = &args.pid_file {
            state::write_atomically(pid_file, pid.to_string().as_bytes())?;
        }
        states.save(&record)?;
        Ok(Created { record, master })
    })();
    if made.is_err() {
        let _ = device.remove(rvisor_id);
    }
    if let Ok(created) = &made {
        log.debug(&format!(
            "container {} created: first process pid {}",
            args.id, created.record.pid
        ));
    }
    made
}

/// A value only `start` knows to send (see `first_process`).
fn random_token() -> i32 {
    let mut token = 0i32;
    // SAFETY: getrandom into a live int.
    unsafe { libc::getrandom((&mut token as *mut i32).cast(), 4, 0) };
    token
}

/// `start`: releases a created container's first process.
fn start(states: &StateDir, id: &str, log: &mut Log) -> Result<Record, String> {
    let mut record = states.load(id)?;
    match record.status() {
        Status::Created => {}
        Status::Running => return Err(format!("container {id} is already running")),
        Status::Stopped => {
            return Err(format!(
                "cannot start container {id}: it has stopped (delete it and create it again)"
            ))
        }
    }
    first_process::release(record.pid, record.start_token)?;
    record.started = true;
    states.save(&record)?;
    log.debug(&format!("container {id} started"));
    Ok(record)
}

/// A signal by name (`TERM`, `SIGTERM`, `RTMIN+1`) or number.
fn parse_signal(text: &str) -> Result<libc::c_int, String> {
    if let Ok(number) = text.parse::<libc::c_int>() {
        if (1..=libc::SIGRTMAX()).contains(&number) {
            return Ok(number);
        }
    }
    let name = text
        .strip_prefix("SIG")
        .unwrap_or(text)
        .to_ascii_uppercase();
    let name = name.strip_prefix("SIG").unwrap_or(&name);
    const NAMES: &[(&str, libc::c_int)] = &[
        ("HUP", libc::SIGHUP),
        ("INT", libc::SIGINT),
        ("QUIT", libc::SIGQUIT),
        ("ILL", libc::SIGILL),
        ("TRAP", libc::SIGTRAP),
        ("ABRT", libc::SIGABRT),
        ("IOT", libc::SIGIOT),
        ("BUS", libc::SIGBUS),
        ("FPE", libc::SIGFPE),
        ("KILL", libc::SIGKILL),
        ("USR1", libc::SIGUSR1),
        ("SEGV", libc::SIGSEGV),
        ("USR2", libc::SIGUSR2),
        ("PIPE", libc::SIGPIPE),
        ("ALRM", libc::SIGALRM),
        ("TERM", libc::SIGTERM),
        ("STKFLT", libc::SIGSTKFLT),
        ("CHLD", libc::SIGCHLD),
        ("CONT", libc::SIGCONT),
        ("STOP", libc::SIGSTOP),
        ("TSTP", libc::SIGTSTP),
        ("TTIN", libc::SIGTTIN),
        ("TTOU", libc::SIGTTOU),
        ("URG", libc::SIGURG),
        ("XCPU", libc::SIGXCPU),
        ("XFSZ", libc::SIGXFSZ),
        ("VTALRM", libc::SIGVTALRM),
        ("PROF", libc::SIGPROF),
        ("WINCH", libc::SIGWINCH),
        ("IO", libc::SIGIO),
        ("POLL", libc::SIGPOLL),
        ("PWR", libc::SIGPWR),
        ("SYS", libc::SIGSYS),
    ];
    if let Some(&(_, number)) = NAMES.iter().find(|(n, _)| *n == name) {
        return Ok(number);
    }
    let realtime = |base: libc::c_int, offset: Option<&str>, sign: libc::c_int| {
        let offset: libc::c_int = offset.map_or(Ok(0), str::parse).ok()?;
        let number = base + sign * offset;
        (libc::SIGRTMIN()..=libc::SIGRTMAX())
            .contains(&number)
            .then_some(number)
    };
    let number = if let Some(rest) = name.strip_prefix("RTMIN") {
        realtime(
            libc::SIGRTMIN(),
            rest.strip_prefix('+').or((!rest.is_empty()).then_some("x")),
            1,
        )
    } else if let Some(rest) = name.strip_prefix("RTMAX") {
        realtime(
            libc::SIGRTMAX(),
            rest.strip_prefix('-').or((!rest.is_empty()).then_some("x")),
            -1,
        )
    } else {
        None
    };
    number.ok_or_else(|| {
        format!("unknown signal `{text}`: give a name (TERM, SIGKILL, RTMIN+1) or a number")
    })
}

/// `kill`: signals a container's first process, or every process of it.
fn kill(states: &StateDir, id: &str, signal: &str, all: bool) -> Result<(), String> {
    let signal = parse_signal(signal)?;
    let record = states.load(id)?;
    if record.status() == Status::Stopped {
        return Err(format!("container {id} is not running"));
    }
    // The container's host tasks are the process group its first process made.
    let target = if all { -record.pid } else { record.pid };
    // SAFETY: kill with plain integers.
    if unsafe { libc::kill(target, signal) } != 0 {
        return Err(format!("kill {id}: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// `delete`: removes the rVisor container (killing what is left) and forgets it.
fn delete(states: &StateDir, id: &str, force: bool, log: &mut Log) -> Result<(), String> {
    let record = states.load(id)?;
    let status = record.status();
    if status == Status::Running && !force {
        return Err(format!(
            "cannot delete container {id} that is not stopped: running (stop it with \
             `rvisor kill {id} KILL`, or use `rvisor delete --force {id}`)"
        ));
    }
    remove_from_module(&record)?;
    states.release(id)?;
    log.debug(&format!("container {id} deleted"));
    Ok(())
}

/// Removes the record's container from rvisor.ko, killing what is left in it, unless it is
/// gone already: no module, no such id, or (after the module was reloaded and its ids began
/// again) an id that is now another container's, with another root.
fn remove_from_module(record: &Record) -> Result<(), String> {
    let device = match Device::open() {
        Ok(device) => device,
        Err(DeviceError::NotLoaded) => return Ok(()),
        Err(e) => return Err(e.to_string()),
    };
    let ours = device
        .list()
        .map_err(|e| e.to_string())?
        .iter()
        .any(|c| c.id == record.rvisor_id && Path::new(&c.root) == record.rootfs);
    if !ours {
        return Ok(());
    }
    match device.remove(record.rvisor_id) {
        Err(DeviceError::Ioctl { err, .. }) if err.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        other => other.map_err(|e| e.to_string()),
    }
}

/// `run`: create and start; without `detach`, relay the terminal or share our stdio, wait,
/// delete, and exit with the program's status (128+N if killed by signal N).
fn run(states: &StateDir, args: &CreateArgs, detach: bool, log: &mut Log) -> Result<u8, String> {
    let created = create(states, args, !detach, log)?;
    let record = start(states, &args.id, log)?;
    if detach {
        return Ok(0);
    }
    let status = match &created.master {
        Some(master) => crate::console::relay(master, record.pid, true)?,
        None => wait_passing_signals(record.pid),
    };
    delete(states, &args.id, true, log)?;
    Ok(if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status) as u8
    } else {
        128u8.wrapping_add(libc::WTERMSIG(status) as u8)
    })
}

/// The signals a foreground `run` passes on to the container's first process (on a terminal
/// the pty gives them instead).
const PASSED_SIGNALS: &[libc::c_int] = &[libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// Waits for our child `pid`, passing on to it the signals this process gets, as runc's
/// foreground `run` does (the container's tasks are in a process group of their own, out of
/// reach of the terminal's ^C); returns its wait status. The signals are blocked and taken
/// with `sigtimedwait` (with `SIGCHLD` for the child's end), so none comes between a check
/// and a wait.
pub(crate) fn wait_passing_signals(pid: libc::pid_t) -> libc::c_int {
    // SAFETY: signal-mask calls on live sigsets; waitpid and kill on our own child.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &signal in PASSED_SIGNALS.iter().chain(&[libc::SIGCHLD]) {
            libc::sigaddset(&mut set, signal);
        }
        let mut saved: libc::sigset_t = std::mem::zeroed();
        libc::sigprocmask(libc::SIG_BLOCK, &set, &mut saved);
        let tick = libc::timespec {
            tv_sec: 0,
            tv_nsec: 100_000_000,
        };
        let mut status = 0;
        while libc::waitpid(pid, &mut status, libc::WNOHANG) != pid {
            let signal = libc::sigtimedwait(&set, std::ptr::null_mut(), &tick);
            if PASSED_SIGNALS.contains(&signal) {
                libc::kill(pid, signal);
            }
        }
        libc::sigprocmask(libc::SIG_SETMASK, &saved, std::ptr::null_mut());
        status
    }
}

/// `features`: what this runtime supports, in the runtime-spec's features format (fields
/// it cannot state are left out, which the format reads as unknown).
fn features() -> serde_json::Value {
    serde_json::json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": config::OCI_VERSION,
        "hooks": [],
        "mountOptions": config::MOUNT_OPTIONS,
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "uts"],
            "cgroup": { "v1": false, "v2": false, "systemd": false, "systemdUser": false },
            "seccomp": { "enabled": false },
            "apparmor": { "enabled": false },
            "selinux": { "enabled": false }
        }
    })
}

/// The user name of `uid` from /etc/passwd, else `#UID` (as runc shows owners).
fn user_name(uid: u32) -> String {
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
            passwd.lines().find_map(|line| {
                let fields: Vec<&str> = line.split(':').collect();
                (fields.len() > 2 && fields[2] == uid.to_string()).then(|| fields[0].to_string())
            })
        })
        .unwrap_or_else(|| format!("#{uid}"))
}

/// `list`: runc's table (or JSON array of states).
fn list(states: &StateDir, format: &str, quiet: bool) -> Result<(), String> {
    let records = states.all()?;
    if quiet {
        for (record, _) in &records {
            println!("{}", record.id);
        }
        return Ok(());
    }
    let runc_states: Vec<_> = records
        .iter()
        .map(|(record, uid)| record.runc_state(&user_name(*uid)))
        .collect();
    if format == "json" {
        println!(
            "{}",
            serde_json::to_string(&runc_states).map_err(|e| e.to_string())?
        );
        return Ok(());
    }
    let mut rows = vec![["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from)];
    for s in runc_states {
        rows.push([
            s.id,
            s.pid.to_string(),
            s.status.name().into(),
            s.bundle,
            s.created,
            s.owner,
        ]);
    }
    print!("{}", table(&rows));
    Ok(())
}

/// Rows in columns as Go's tabwriter makes them for runc (cells at least 12 wide, 3 spaces
/// apart; the last column unpadded).
fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let widths: Vec<usize> = (0..N)
        .map(|column| {
            rows.iter()
                .map(|row| row[column].len() + 3)
                .max()
                .unwrap_or(0)
                .max(12)
        })
        .collect();
    let mut text = String::new();
    for row in rows {
        for (column, cell) in row.iter().enumerate() {
            if column + 1 == N {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}", width = widths[column]));
            }
        }
        text.push('\n');
    }
    text
}

/// The host pids of a container: its first process's process group.
fn container_pids(record: &Record) -> Vec<i32> {
    let mut pids: Vec<i32> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    let rest = &stat[stat.rfind(')')? + 2..];
                    rest.split(' ').nth(2)?.parse::<i32>().ok()
                })
                == Some(record.pid)
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// `ps`: the container's processes, as `ps` shows them (default `ps -ef`), or their pids.
fn ps(states: &StateDir, id: &str, format: &str, ps_args: &[String]) -> Result<(), String> {
    let record = states.load(id)?;
    let pids = if record.status() == Status::Stopped {
        Vec::new()
    } else {
        container_pids(&record)
    };
    if format == "json" {
        println!(
            "{}",
            serde_json::to_string(&pids).map_err(|e| e.to_string())?
        );
        return Ok(());
    }
    let args: Vec<String> = if ps_args.is_empty() {
        vec!["-ef".into()]
    } else {
        ps_args.to_vec()
    };
    let output = std::process::Command::new("ps")
        .args(&args)
        .output()
        .map_err(|e| format!("running ps: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "ps {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let column = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or_else(|| format!("ps {}: its output has no PID column", args.join(" ")))?;
    println!("{header}");
    for line in lines {
        let pid = line
            .split_whitespace()
            .nth(column)
            .and_then(|p| p.parse().ok());
        if pid.is_some_and(|pid: i32| pids.contains(&pid)) {
            println!("{line}");
        }
    }
    Ok(())
}

/// Whether the command line `args` (without the program name) is one of the OCI commands:
/// runc's global options come first, or the command is an OCI one. `run` with `--` among its
/// arguments and `ps` alone are the CLI's own commands.
pub fn is_oci_command_line(args: &[String]) -> bool {
    match args.first().map(String::as_str) {
        Some("-h" | "--help" | "help") | None => false,
        Some(option) if option.starts_with('-') => true,
        Some(
            "spec" | "create" | "start" | "state" | "kill" | "delete" | "list" | "exec"
            | "features",
        ) => true,
        Some("run") => !args.iter().any(|a| a == "--"),
        Some("ps") => args.len() > 1,
        Some(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_two_command_lines_are_told_apart() {
        for oci in [
            &["--root", "/run/x", "run", "--bundle", "b", "id"][..],
            &["run", "-d", "--bundle", "b", "id"],
            &["run", "id"],
            &["create", "--bundle", "b", "id"],
            &["ps", "id"],
            &["--log-format", "json", "state", "id"],
        ] {
            assert!(is_oci_command_line(&strings(oci)), "{oci:?}");
        }
        for own in [
            &["run", "--root", "/rootfs", "--", "/bin/sh"][..],
            &["run", "--", "true"],
            &["ps"],
            &["rm", "3"],
            &["--help"],
        ] {
            assert!(!is_oci_command_line(&strings(own)), "{own:?}");
        }
    }

    /// The arguments containerd's runc shim and conmon pass.
    #[test]
    fn engines_command_lines_parse() {
        let cli = Cli::try_parse_from(strings(&[
            "rvisor",
            "--root",
            "/run/containerd/runc/k8s.io",
            "--log",
            "/run/x/log.json",
            "--log-format",
            "json",
            "--systemd-cgroup",
            "create",
            "--bundle",
            "/b",
            "--pid-file",
            "/b/init.pid",
            "--console-socket",
            "/tmp/c.sock",
            "abc",
        ]))
        .unwrap();
        assert_eq!(cli.root, PathBuf::from("/run/containerd/runc/k8s.io"));
        assert!(cli.systemd_cgroup);
        match cli.command {
            Command::Create(args) => {
                assert_eq!(args.id, "abc");
                assert_eq!(args.pid_file, Some(PathBuf::from("/b/init.pid")));
            }
            other => panic!("{other:?}"),
        }
        let cli = Cli::try_parse_from(strings(&["rvisor", "kill", "--all", "abc", "9"])).unwrap();
        assert!(
            matches!(cli.command, Command::Kill { all: true, ref signal, .. } if signal.as_deref() == Some("9"))
        );
        let cli = Cli::try_parse_from(strings(&["rvisor", "delete", "--force", "abc"])).unwrap();
        assert!(matches!(cli.command, Command::Delete { force: true, .. }));
        let cli =
            Cli::try_parse_from(strings(&["rvisor", "ps", "--format", "json", "abc"])).unwrap();
        assert!(matches!(cli.command, Command::Ps { ref format, .. } if format == "json"));
    }

    #[test]
    fn features_name_the_namespaces_and_mount_options() {
        let features = features();
        assert_eq!(features["ociVersionMax"], config::OCI_VERSION);
        assert!(features["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .contains(&"network".into()));
        assert!(features["mountOptions"]
            .as_array()
            .unwrap()
            .contains(&"rbind".into()));
        assert!(features["linux"].get("capabilities").is_none());
    }

    #[test]
    fn signals_by_name_and_number() {
        assert_eq!(parse_signal("9"), Ok(libc::SIGKILL));
        assert_eq!(parse_signal("KILL"), Ok(libc::SIGKILL));
        assert_eq!(parse_signal("SIGTERM"), Ok(libc::SIGTERM));
        assert_eq!(parse_signal("sigusr1"), Ok(libc::SIGUSR1));
        assert_eq!(parse_signal("RTMIN+2"), Ok(libc::SIGRTMIN() + 2));
        assert_eq!(parse_signal("SIGRTMAX-1"), Ok(libc::SIGRTMAX() - 1));
        assert_eq!(parse_signal("RTMAX"), Ok(libc::SIGRTMAX()));
        assert!(parse_signal("NOPE").is_err());
        assert!(parse_signal("0").is_err());
        assert!(parse_signal("RTMINx").is_err());
    }

    #[test]
    fn tables_as_runc_prints_them() {
        let rows = [
            ["ID", "PID", "STATUS"].map(String::from),
            ["a-long-container-id", "12", "running"].map(String::from),
        ];
        assert_eq!(
            table(&rows),
            "ID                    PID         STATUS\na-long-container-id   12          running\n"
        );
    }

    #[test]
    fn json_log_lines_have_level_msg_time() {
        let path = std::env::temp_dir().join(format!("rvisor-log-test-{}", std::process::id()));
        let mut log = Log {
            file: Some(std::fs::File::create(&path).unwrap()),
            json: true,
            debug: false,
        };
        log.debug("not shown");
        log.line("error", "container x does not exist");
        let text = std::fs::read_to_string(&path).unwrap();
        let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["level"], "error");
        assert_eq!(line["msg"], "container x does not exist");
        assert!(line["time"].as_str().unwrap().ends_with('Z'));
        assert_eq!(text.lines().count(), 1);
        std::fs::remove_file(path).unwrap();
    }
}
