//! `rvisor exec`: a new process in a running container, as runc's `exec` makes one — a child
//! of the CLI that enters the rvisor.ko container (`RVISOR_IOC_ENTER`) as its next pid, with no
//! parent there (`getppid` is 0), leading a session of its own; it sets itself up as the
//! process file or the flags say (over the container's `config.json` process) and executes
//! the program. With a terminal it gets a new pty of the container's (`RVISOR_IOC_NEWPTY`),
//! whose master goes to `--console-socket` or, in the foreground, is relayed to ours.
//! Attached, the CLI waits and exits with the program's status; with `--detach` the
//! process is left to the engine (our subreaper) to reap, as under runc.
//!
//! The containers of `rvisor run` (numbered, as `rvisor ps` lists them) can be entered too:
//! `rvisor exec [-t] [-i] ID -- CMD...`.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use super::config::{self, ProcessPlan};
use super::first_process::{self, Launch, SharedReport, READY};
use super::state::{self, StateDir, Status};
use super::Log;
use crate::device::Device;

/// `exec`'s options (runc's, and `-i` for people).
#[derive(clap::Args, Debug)]
pub struct ExecArgs {
    /// The process gets a terminal of the container's.
    #[arg(short, long)]
    tty: bool,
    /// With --tty in the foreground: what is typed goes to it.
    #[arg(short, long)]
    interactive: bool,
    /// Leave the process running and exit at once.
    #[arg(short, long)]
    detach: bool,
    /// A unix socket the terminal's pty master is sent to.
    #[arg(long)]
    console_socket: Option<PathBuf>,
    /// A file the process's host pid is written to.
    #[arg(long)]
    pid_file: Option<PathBuf>,
    /// A JSON file with the process (runtime-spec's `process`); the flags below are ignored.
    #[arg(short, long)]
    process: Option<PathBuf>,
    /// Its working directory in the container.
    #[arg(long)]
    cwd: Option<String>,
    /// NAME=VALUE added to (or replacing in) the container's environment.
    #[arg(short, long)]
    env: Vec<String>,
    /// UID[:GID] to run as.
    #[arg(short, long)]
    user: Option<String>,
    /// Descriptors beyond stdio to pass; only 0 is supported.
    #[arg(long, default_value_t = 0)]
    preserve_fds: u32,
    id: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

/// The container a process is to enter.
struct Target {
    /// Its rvisor.ko id.
    rvisor_id: u32,
    /// The host process group the process joins.
    group: libc::pid_t,
    /// The host pid of its first process, whose network namespace is the container's.
    init_pid: libc::pid_t,
    /// The bundle whose `config.json` process `exec`'s flags change (none: a default one).
    bundle: Option<PathBuf>,
}

/// The process of a container made by `rvisor run`, where flags say nothing: root in `/`.
fn default_process() -> ProcessPlan {
    ProcessPlan {
        args: Vec::new(),
        env: vec![
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
            "HOME=/root".into(),
            "TERM=xterm".into(),
        ],
        cwd: "/".into(),
        uid: 0,
        gid: 0,
        additional_gids: Vec::new(),
        umask: None,
        rlimits: Vec::new(),
        no_new_privileges: false,
        terminal: false,
        console_size: None,
    }
}

/// The container `id` names: an OCI one in `states` (created or running), else a container
/// of `rvisor run` by its number.
fn target(states: &StateDir, id: &str, device: &Device) -> Result<Target, String> {
    let loaded = states.load(id);
    let record = match loaded {
        Ok(record) => record,
        Err(error) => {
            let Ok(number) = id.parse::<u32>() else {
                return Err(error);
            };
            let listed = device.list().map_err(|e| e.to_string())?;
            let Some(found) = listed.iter().find(|c| c.id == number && !c.dying) else {
                return Err(error);
            };
            return Ok(Target {
                rvisor_id: number,
                // `rvisor run`'s tasks have no group to join: the process stays in ours, so
                // it can use the user's terminal as our child would.
                // SAFETY: getpgrp has no preconditions.
                group: unsafe { libc::getpgrp() },
                init_pid: found.init_pid,
                bundle: None,
            });
        }
    };
    if record.status() == Status::Stopped {
        return Err(format!("cannot exec in a stopped container {id}"));
    }
    Ok(Target {
        rvisor_id: record.rvisor_id,
        group: record.pid,
        init_pid: record.pid,
        bundle: Some(record.bundle),
    })
}

/// The process to run: the `--process` file's, or the flags' changes to `bundle`'s
/// `config.json` process (or, without a bundle, to a default one).
fn process_plan(args: &ExecArgs, bundle: Option<&Path>) -> Result<ProcessPlan, String> {
    if let Some(file) = &args.process {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("--process {}: {e}", file.display()))?;
        return config::plan_process_file(&text);
    }
    if args.command.is_empty() {
        return Err(
            "exec: name the program to run after the container id (or give --process FILE)".into(),
        );
    }
    let mut plan = match bundle {
        Some(bundle) => config::load(bundle)?.process,
        None => default_process(),
    };
    plan.args = args.command.clone();
    for setting in &args.env {
        let Some((name, _)) = setting.split_once('=') else {
            return Err(format!("--env {setting}: expected NAME=VALUE"));
        };
        plan.env
            .retain(|v| v.split_once('=').map(|(n, _)| n) != Some(name));
        plan.env.push(setting.clone());
    }
    if let Some(cwd) = &args.cwd {
        if !cwd.starts_with('/') {
            return Err(format!("--cwd {cwd}: must be an absolute path"));
        }
        plan.cwd = cwd.clone();
    }
    if let Some(user) = &args.user {
        let (uid, gid) = crate::parse_user(user)?;
        plan.uid = uid;
        plan.gid = gid;
        plan.additional_gids.clear();
    }
    plan.terminal = args.tty;
    plan.console_size = None;
    Ok(plan)
}

/// `exec`: runs a new process in container `args.id`; attached, its exit status (128+N if
/// killed by signal N).
pub fn exec(states: &StateDir, args: &ExecArgs, log: &mut Log) -> Result<u8, String> {
    if args.preserve_fds != 0 {
        return Err(
            "--preserve-fds: a contained process gets only its stdio from the host; use 0".into(),
        );
    }
    let device = Device::open().map_err(|e| e.to_string())?;
    let target = target(states, &args.id, &device)?;
    let plan = process_plan(args, target.bundle.as_deref())?;
    if plan.terminal && args.console_socket.is_none() && args.detach {
        return Err(
            "exec: a detached process with a terminal needs --console-socket SOCKET to receive \
             the terminal's pty master"
                .into(),
        );
    }
    if !plan.terminal && args.console_socket.is_some() {
        return Err(
            "--console-socket is given but the process has no terminal (--tty, or \
             `terminal` in the process file): drop one of them"
                .into(),
        );
    }
    let id = target.rvisor_id;
    if target.init_pid > 0 {
        // The process must be in the container's network namespace (its sockets are made
        // there), as runc's exec joins the container's namespaces.
        let path = format!("/proc/{}/ns/net", target.init_pid);
        crate::enter_network(&crate::Network::Namespace(path)).map_err(|e| {
            format!(
                "cannot exec in container {}: joining its network namespace: {e}",
                args.id
            )
        })?;
    }
    let (master, tty) = if plan.terminal {
        let master = device.new_pty(id).map_err(|e| gone(&args.id, e))?;
        if let Some(size) = plan.console_size {
            let size = libc::winsize {
                ws_row: size.height,
                ws_col: size.width,
                ws_xpixel: 0,
                ws_ypixel: 0,
            };
            // SAFETY: TIOCSWINSZ with a live winsize.
            unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &size) };
        } else if !args.detach && args.console_socket.is_none() {
            crate::console::pass_window_size(&master);
        }
        let index = pty_number(&master)?;
        (Some(master), Some(index))
    } else {
        (None, None)
    };
    let launch = Launch::new(&plan)?;
    let pid = first_process::fork_joining(&device, "the exec'd process", target.group, |report| {
        entered(&device, id, tty, target.group, &plan, &launch, report)
    })
    .map_err(|e| format!("exec in {}: {e}", args.id))?;
    log.debug(&format!("exec in {}: host pid {pid}", args.id));
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
    if args.detach {
        return Ok(0);
    }
    let status = match &master {
        Some(master) => crate::console::relay(master, pid, args.interactive)?,
        None => super::wait_passing_signals(pid),
    };
    Ok(if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status) as u8
    } else {
        128u8.wrapping_add(libc::WTERMSIG(status) as u8)
    })
}

/// The error of a module call on container `id`, saying when it is gone or has ended.
fn gone(id: &str, error: crate::device::DeviceError) -> String {
    match &error {
        crate::device::DeviceError::Ioctl { err, .. }
            if matches!(err.raw_os_error(), Some(libc::ENOENT | libc::ESRCH)) =>
        {
            format!("cannot exec in container {id}: it is not running ({error})")
        }
        _ => error.to_string(),
    }
}

/// The number of the pty whose master is `master` (`TIOCGPTN`).
fn pty_number(master: &OwnedFd) -> Result<u32, String> {
    let mut index: libc::c_uint = 0;
    // SAFETY: TIOCGPTN into a live unsigned int.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut index) } < 0 {
        return Err(format!(
            "the terminal's number: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(index)
}

/// In the forked child: joins the container's host process group (where it can), enters the
/// container, sets up, reports ready and executes the program. Returns only an error.
fn entered(
    device: &Device,
    id: u32,
    tty: Option<u32>,
    group: libc::pid_t,
    plan: &ProcessPlan,
    launch: &Launch,
    report: &SharedReport,
) -> Result<std::convert::Infallible, String> {
    // SAFETY: setpgid on ourselves; the parent does the same (whichever runs first).
    unsafe { libc::setpgid(0, group) };
    device.enter(id, tty).map_err(|e| match &e {
        crate::device::DeviceError::Ioctl { err, .. }
            if matches!(err.raw_os_error(), Some(libc::ENOENT | libc::ESRCH)) =>
        {
            format!("the container is not running ({e})")
        }
        _ => e.to_string(),
    })?;
    let program = first_process::set_up(plan, launch)?;
    report.report().state.store(READY, Ordering::Release);
    first_process::execute(launch, &program)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Exec {
        #[command(flatten)]
        args: ExecArgs,
    }

    fn parse(args: &[&str]) -> ExecArgs {
        Exec::try_parse_from(std::iter::once("exec").chain(args.iter().copied()))
            .unwrap()
            .args
    }

    #[test]
    fn flags_change_the_base_process() {
        let args = parse(&[
            "-e",
            "TERM=dumb",
            "-e",
            "X=1",
            "--cwd",
            "/srv",
            "-u",
            "7:8",
            "-t",
            "c1",
            "--",
            "sh",
            "-c",
            "true",
        ]);
        assert_eq!(args.id, "c1");
        let plan = process_plan(&args, None).unwrap();
        assert_eq!(plan.args, ["sh", "-c", "true"]);
        assert!(plan.env.contains(&"TERM=dumb".to_string()));
        assert!(!plan.env.contains(&"TERM=xterm".to_string()));
        assert!(plan.env.contains(&"X=1".to_string()));
        assert_eq!(
            (plan.cwd.as_str(), plan.uid, plan.gid, plan.terminal),
            ("/srv", 7, 8, true)
        );
        assert!(process_plan(&parse(&["c1"]), None).is_err(), "no program");
        assert!(process_plan(&parse(&["--cwd", "rel", "c1", "--", "true"]), None).is_err());
        assert!(process_plan(&parse(&["-e", "NOVALUE", "c1", "--", "true"]), None).is_err());
    }

    #[test]
    fn process_files_are_checked_as_config_json_s_process() {
        let plan = config::plan_process_file(
            r#"{"terminal": true, "consoleSize": {"height": 24, "width": 90}, "args": ["ls"],
                "env": ["A=b"], "cwd": "/tmp", "user": {"uid": 5, "gid": 6}}"#,
        )
        .unwrap();
        assert_eq!(plan.args, ["ls"]);
        assert_eq!((plan.uid, plan.gid, plan.terminal), (5, 6, true));
        assert_eq!(
            plan.console_size.map(|s| (s.height, s.width)),
            Some((24, 90))
        );
        let refused = config::plan_process_file(
            r#"{"args": ["ls"], "capabilities": {"bounding": ["CAP_KILL"]}}"#,
        )
        .unwrap_err();
        assert!(
            refused.starts_with("--process file: `process.capabilities` is set"),
            "{refused}"
        );
        assert!(config::plan_process_file(r#"{"args": []}"#).is_err());
        assert!(config::plan_process_file("not json").is_err());
    }
}
