//! The cases, in the order the guest runs them. The first loads the module.

use crate::{Case, Outcome};

/// Every case: these, then those over the container root (`rootfs.rs`), then the OCI
/// runtime commands' (`oci.rs`).
pub fn cases() -> Vec<Case> {
    let mut all = vec![
        Case {
            name: "load-unload-3x",
            covers: &[],
            script: "set -e\nfor i in 1 2 3; do insmod /rvisor.ko; test -c /dev/rvisor; rmmod rvisor; test ! -e /dev/rvisor; done\ninsmod /rvisor.ko\necho loaded",
            check: |o| o.exactly(&["loaded"]),
        },
        Case {
            name: "host-pid-untouched",
            covers: &[],
            script: "/tests/ids; echo shell=$$",
            check: host_pid_untouched,
        },
        Case {
            name: "shell-pids",
            covers: &["getpid"],
            script: r#"rvisor run -- /bin/sh -c 'echo $$; sh -c "echo \$\$"; sh -c "echo \$\$"; true'"#,
            check: |o| o.exactly(&["1", "2", "3"]),
        },
        Case {
            name: "shell-ppids",
            covers: &["getppid"],
            script: r#"rvisor run -- /bin/sh -c 'echo $PPID; sh -c "echo \$PPID"; true'"#,
            check: |o| o.exactly(&["0", "1"]),
        },
        Case {
            name: "ids-first-process",
            covers: &["getpid", "getppid", "gettid"],
            script: "rvisor run -- /tests/ids",
            check: |o| o.exactly(&["self: pid=1 ppid=0 tid=1"]),
        },
        Case {
            name: "ids-grandchild",
            covers: &["getpid", "getppid", "gettid", "fork"],
            script: "rvisor run -- /tests/ids fork2",
            check: |o| {
                o.exactly(&[
                    "self: pid=1 ppid=0 tid=1",
                    "child: pid=2 ppid=1 tid=2",
                    "grandchild: pid=3 ppid=2 tid=3",
                ])
            },
        },
        Case {
            name: "ids-vfork",
            covers: &["getpid", "getppid", "vfork"],
            script: "rvisor run -- /tests/ids vfork",
            check: |o| o.exactly(&["self: pid=1 ppid=0 tid=1", "vfork child: pid=2 ppid=1"]),
        },
        Case {
            name: "ids-thread",
            covers: &["getpid", "getppid", "gettid", "clone", "set_tid_address"],
            script: "rvisor run -- /tests/ids threads",
            check: |o| o.exactly(&["self: pid=1 ppid=0 tid=1", "thread: pid=1 ppid=0 tid=2"]),
        },
        Case {
            name: "ids-after-execve",
            covers: &["getpid", "getppid", "gettid", "execve"],
            script: "rvisor run -- /tests/ids exec",
            check: |o| o.exactly(&["self: pid=1 ppid=0 tid=1", "execd: pid=2 ppid=1 tid=2"]),
        },
        Case {
            name: "refused-calls",
            covers: &["seccomp", "prctl", "ptrace", "io_uring_setup", "bpf"],
            script: "rvisor run -- /tests/refuse",
            check: |o| {
                o.exactly(&[
                    "seccomp(SET_MODE_FILTER) => ENOSYS",
                    "prctl(PR_SET_SECCOMP) => EINVAL",
                    "prctl(PR_GET_SECCOMP) => EINVAL",
                    "ptrace(PTRACE_TRACEME) => ENOSYS",
                    "io_uring_setup => ENOSYS",
                    "bpf => ENOSYS",
                    "syscall(-1) => ENOSYS",
                    "int $0x80 getpid => -38",
                    "prctl(PR_GET_DUMPABLE) => 0",
                    "prctl(PR_SET_DUMPABLE, 1) => EPERM",
                    "prctl(PR_SET_DUMPABLE, 0) => 0",
                    "prctl(PR_SET_MM, START_BRK) => EPERM",
                    "prctl(PR_SET_MM, START_BRK, arg5) => EINVAL",
                    "prctl(PR_SET_MM, MAP_SIZE) => 0",
                    "map size 104",
                    "prctl(PR_SET_PTRACER, 1) => EINVAL",
                ])
            },
        },
        Case {
            name: "refusal-is-logged",
            covers: &["ptrace"],
            script: "rvisor run -- /tests/refuse >/dev/null; dmesg | grep -c 'called refused x86-64 syscall 101 ptrace: ENOSYS'",
            check: |o| match o.lines().last().and_then(|l| l.trim().parse::<u32>().ok()) {
                Some(n) if n >= 1 => Ok(()),
                _ => Err(format!("no log line for the refused ptrace:\n{}", o.output)),
            },
        },
        Case {
            name: "uname-hostname",
            covers: &["uname"],
            script: "rvisor run --hostname box42 -- /bin/sh -c 'uname -n; hostname; uname -r' ; uname -r",
            check: uname_hostname,
        },
        Case {
            name: "exit-status",
            covers: &["exit_group"],
            script: "rvisor run -- /bin/sh -c 'exit 7'",
            check: |o| o.status_is(7),
        },
        Case {
            name: "missing-root",
            covers: &[],
            script: "rvisor run --root /no/such/dir -- /bin/true",
            check: |o| {
                o.status_is(125)?;
                o.has_line("rvisor: container root /no/such/dir does not exist")
            },
        },
        Case {
            name: "two-containers",
            covers: &["getpid"],
            script: "rvisor run --hostname alpha -- /bin/sh -c 'sleep 2; echo alpha $$; sh -c \"echo alpha \\$\\$\"; true' > /tmp/a &\n\
                     rvisor run --hostname beta -- /bin/sh -c 'sleep 2; echo beta $$; sh -c \"echo beta \\$\\$\"; true' > /tmp/b &\n\
                     sleep 1; rvisor ps | awk 'NR > 1 { print $4 }' | sort; wait; cat /tmp/a /tmp/b",
            // `sleep` is pid 2 in each container, so each inner shell is pid 3.
            check: |o| o.exactly(&["alpha", "beta", "alpha 1", "alpha 3", "beta 1", "beta 3"]),
        },
        Case {
            name: "ioctl-abi",
            covers: &[],
            script: "/tests/ioctl",
            check: |o| {
                o.exactly(&[
                    "open => ok",
                    "create NULL => EFAULT",
                    "create garbage pointer => EFAULT",
                    "create root garbage pointer => EFAULT",
                    "create root missing => ENOENT",
                    "create root is a file => ENOTDIR",
                    "create root empty => ENOENT",
                    "create bad flags => EINVAL",
                    "create hostname too long => EINVAL",
                    "create hostname empty => EINVAL",
                    "create hostname garbage pointer => EFAULT",
                    "create => ok",
                    "id>0: yes",
                    "list NULL => EFAULT",
                    "list entries garbage pointer => EFAULT",
                    "list capacity 0 => ok",
                    "count=1",
                    "list => ok",
                    "count=1",
                    "container hostname=box root=/tmp members=0",
                    "addself unknown id => ENOENT",
                    "remove unknown id => ENOENT",
                    "unknown ioctl => ENOTTY",
                    "enter NULL => EFAULT",
                    "enter unknown id => ENOENT",
                    "enter bad flags => EINVAL",
                    "enter reserved => EINVAL",
                    "enter tty without the flag => EINVAL",
                    "enter before the first process => ESRCH",
                    "newpty before the first process => ESRCH",
                    "newpty unknown id => ENOENT",
                    "unprivileged create => EPERM",
                    "unprivileged remove => EPERM",
                    "unprivileged addself => EPERM",
                    "unprivileged enter => EPERM",
                    "unprivileged newpty => EPERM",
                    "addself from another network namespace => EINVAL",
                    "enter from another network namespace => EINVAL",
                    "addself => ok",
                    // A contained process has only its stdio of the host's descriptors,
                    // and its root (/tmp) holds no /dev/rvisor.
                    "contained addself again => EBADF",
                    "contained list => EBADF",
                    "contained open => ENOENT",
                    "enter after the first process ended => ESRCH",
                    "newpty after the first process ended => ESRCH",
                    "remove => ok",
                    "remove again => ENOENT",
                    "list after remove => ok",
                    "count=0",
                ])
            },
        },
        Case {
            name: "rm-kills-leftovers",
            covers: &[],
            script: "rvisor run -- /bin/sh -c 'sleep 100 & echo started' ; rvisor ps | awk 'NR > 1' | wc -l; ps | grep -c '[s]leep 100' || true",
            check: |o| o.exactly(&["started", "0", "0"]),
        },
        Case {
            name: "rmmod-busy-with-live-container",
            covers: &[],
            script: "rvisor run -- /bin/sleep 3 &\nsleep 1\nrmmod rvisor 2>/dev/null; echo rmmod-live=$?\nwait\nrmmod rvisor; echo rmmod-after=$?\ninsmod /rvisor.ko; echo reload=$?",
            check: |o| o.exactly(&["rmmod-live=1", "rmmod-after=0", "reload=0"]),
        },
    ];
    all.extend(crate::rootfs::cases());
    all.extend(crate::oci::cases());
    all
}

fn host_pid_untouched(o: &Outcome) -> Result<(), String> {
    o.status_is(0)?;
    let lines = o.lines();
    let (Some(ids), Some(shell)) = (lines.first(), lines.get(1)) else {
        return Err(format!("unexpected output:\n{}", o.output));
    };
    let shell_pid = shell.strip_prefix("shell=").ok_or("no shell pid")?;
    // The program is the shell's child: its ppid is the shell's real pid, and its own pid is real.
    let pid: u32 = field(ids, "pid=")?;
    let ppid: u32 = field(ids, "ppid=")?;
    if ppid.to_string() != shell_pid || pid <= 1 || field::<u32>(ids, "tid=")? != pid {
        return Err(format!("host ids look virtual: {ids} (shell {shell_pid})"));
    }
    Ok(())
}

fn uname_hostname(o: &Outcome) -> Result<(), String> {
    o.status_is(0)?;
    let lines = o.lines();
    match lines.as_slice() {
        // Inside, the release is the host kernel's, whose ABI rVisor speaks.
        [n, h, inside, outside] if *n == "box42" && *h == "box42" && inside == outside => Ok(()),
        _ => Err(format!(
            "expected box42, box42 and the host's release twice, got:\n{}",
            o.output
        )),
    }
}

/// The number after `key` in a `key=value` list.
fn field<T: std::str::FromStr>(line: &str, key: &str) -> Result<T, String> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no {key} in `{line}`"))
}
