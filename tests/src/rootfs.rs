//! Cases over the container root `/rootfs`: the busybox script suite, escape attempts, processes
//! (copy-on-write, blocked calls, signals, two containers at once) and a dynamically linked
//! program. Where Linux can give the expected output, the case runs the same command natively
//! (`chroot /rootfs`) and contained (`rvisor run --root /rootfs`) and compares
//! ([`Outcome::same_as_native`]); see `tests/guest/lib.sh`.

use crate::{Case, Outcome};

/// One case per script of `tests/suite/`: `differential /bin/sh /suite/NAME.sh`, whose native
/// output must end with `suite NAME: done`.
macro_rules! suite_case {
    ($name:literal, $covers:expr) => {
        Case {
            name: concat!("suite-", $name),
            covers: $covers,
            script: concat!(
                ". /tests/lib.sh\ndifferential /bin/sh /suite/",
                $name,
                ".sh"
            ),
            check: |o| o.same_as_native(&[concat!("suite ", $name, ": done")]),
        }
    };
}

/// An escape attempt: `sh -c SCRIPT` natively and contained must print the same; SCRIPT ends
/// with `echo escape: done`.
macro_rules! escape_case {
    ($name:literal, $covers:expr, $script:literal) => {
        Case {
            name: concat!("escape-", $name),
            covers: $covers,
            script: concat!(
                ". /tests/lib.sh\ndifferential /bin/sh -c '",
                $script,
                "\necho escape: done'"
            ),
            check: |o| o.same_as_native(&["escape: done"]),
        }
    };
}

/// A contained `cat` blocked reading a FIFO the script holds open gets the signal from the host;
/// it must end within 10 s (else the FIFO is closed so that the case still finishes), and
/// `rvisor run` must report 128 + the signal's number, leaving no container behind. (`rvisor run`
/// runs in the background, where the shell ignores SIGINT; the CLI gives the program SIGINT's
/// default disposition, as it documents.)
macro_rules! signal_script {
    ($sig:literal) => {
        concat!(
            r#". /tests/lib.sh
before=$(containers)
mkfifo "$SCRATCH.in"
rvisor run --root /rootfs -- /bin/sh -c 'echo ready; exec cat' <"$SCRATCH.in" >"$SCRATCH.out" 2>&1 &
r=$!
exec 3>"$SCRATCH.in"
wait_for ready "$SCRATCH.out"
sleep 1
c=$(children_of $r)
echo "cat state $(state "$c")"
kill -"#,
            $sig,
            " \"$c\"\nwait_gone 10 \"$c\" || echo \"cat still running 10 s after SIG",
            $sig,
            r#""
exec 3>&-
wait $r
echo "rvisor run status $?"
echo "containers left $(($(containers) - before))"
cat "$SCRATCH.out""#
        )
    };
}

/// The suite scripts (`tests/suite/*.sh`) by name; a unit test keeps this and the directory equal.
pub const SUITE: &[&str] = &["archive", "files", "shell", "text"];

/// Every case over the container root.
pub fn cases() -> Vec<Case> {
    vec![
        suite_case!(
            "files",
            &[
                "openat",
                "read",
                "write",
                "close",
                "getdents64",
                "newfstatat",
                "readlink",
                "symlink",
                "mkdir",
                "rmdir",
                "rename",
                "unlink",
                "chmod",
                "umask",
                "chdir",
                "getcwd",
                "sendfile",
                "clone",
                "execve",
                "wait4",
                "pipe2",
                "dup2",
            ]
        ),
        suite_case!(
            "text",
            &[
                "openat",
                "read",
                "write",
                "close",
                "lseek",
                "getdents64",
                "newfstatat",
                "rename",
                "unlink",
                "fchmod",
                "mkdir",
                "rmdir",
                "chdir",
                "clone",
                "vfork",
                "execve",
                "wait4",
                "pipe2",
                "dup2",
            ]
        ),
        suite_case!(
            "archive",
            &[
                "openat",
                "read",
                "write",
                "close",
                "getdents64",
                "newfstatat",
                "mkdir",
                "symlink",
                "readlink",
                "chmod",
                "unlink",
                "rmdir",
                "chdir",
                "clone",
                "vfork",
                "execve",
                "wait4",
                "pipe2",
                "dup2",
            ]
        ),
        suite_case!(
            "shell",
            &[
                "pipe2",
                "dup2",
                "fcntl",
                "openat",
                "read",
                "write",
                "close",
                "access",
                "clone",
                "execve",
                "wait4",
                "exit_group",
                "clock_nanosleep",
                "rt_sigaction",
                "rt_sigprocmask",
                "rt_sigsuspend",
                "chdir",
                "getcwd",
                "mkdir",
                "unlink",
            ]
        ),
        Case {
            name: "suite-two-containers",
            covers: &[
                "clone", "execve", "wait4", "openat", "mkdir", "rmdir", "unlink",
            ],
            // Both containers start, block reading one FIFO (`head`, a plain read(2): the shell's
            // `read` would poll(2) first), and are released together once `rvisor ps` lists both.
            script: r#". /tests/lib.sh
all='head -n 1; for s in /suite/*.sh; do /bin/sh "$s"; echo "$s: status $?"; done'
native native /bin/sh -c "$all"
before=$(containers)
mkfifo "$SCRATCH.gate"
rvisor run --root /rootfs -- /bin/sh -c "$all" <"$SCRATCH.gate" >"$SCRATCH.1" 2>&1 &
one=$!
rvisor run --root /rootfs -- /bin/sh -c "$all" <"$SCRATCH.gate" >"$SCRATCH.2" 2>&1 &
two=$!
exec 3>"$SCRATCH.gate"
wait_containers $((before + 2))
exec 3>&-
wait $one
s1=$?
wait $two
s2=$?
side contained-1 $s1 "$SCRATCH.1"
side contained-2 $s2 "$SCRATCH.2""#,
            check: |o| {
                o.same_as_native(&[
                    "suite archive: done",
                    "suite files: done",
                    "suite shell: done",
                    "suite text: done",
                    "/suite/shell.sh: status 3",
                ])
            },
        },
        escape_case!(
            "initial-cwd",
            &["getcwd", "openat", "getdents64"],
            "pwd; ls; ls ..; ls ../.."
        ),
        escape_case!(
            "dotdot",
            &["chdir", "getcwd", "openat", "getdents64"],
            "cd /../../..; pwd; ls
ls /..; ls /../../..; ls -d /../../*
cd /bin/../../..; pwd -P; ls
cat /../../../etc/hostname"
        ),
        escape_case!(
            "readlink-f",
            &["readlink", "newfstatat", "getcwd"],
            "readlink -f /..; readlink -f /../..; readlink -f /bin/../../etc; realpath /../../.."
        ),
        escape_case!(
            "symlink-to-root",
            &[
                "symlink",
                "readlink",
                "openat",
                "getdents64",
                "chdir",
                "getcwd"
            ],
            "d=$(mktemp -d /tmp/escape.XXXXXX); cd $d
ln -s / root; ln -s /.. rootparent; ln -s ../../../../../../.. up
ls root/; ls rootparent/; ls up/; ls up/../..; ls root/../..
cat up/etc/hostname; cat root/../etc/hostname
cd -P root/..; pwd; ls
cd /; rm -r $d"
        ),
        Case {
            name: "escape-symlink-to-host-file",
            covers: &["symlink", "openat", "newfstatat"],
            // /rvisor.ko exists on the host only: a link to it inside the root names nothing.
            script: r#"test -f /rvisor.ko && echo "the host has /rvisor.ko"
. /tests/lib.sh
differential /bin/sh -c 'd=$(mktemp -d /tmp/escape.XXXXXX); cd $d
ln -s /rvisor.ko x; ln -s ../../../../rvisor.ko y
cat x >out; echo "cat x: $?"; wc -c <out
cat y >out; echo "cat y: $?"; wc -c <out
ls -L x; ls /rvisor.ko; test -e /rvisor.ko; echo "test -e: $?"
cd /; rm -r $d
echo escape: done'"#,
            check: |o| {
                o.has_line("the host has /rvisor.ko")?;
                let native = o.sides()?.into_iter().find(|s| s.name == "native");
                if !native.is_some_and(|n| {
                    n.output
                        .lines()
                        .any(|l| l == "cat: can't open 'x': No such file or directory")
                }) {
                    return Err(format!(
                        "natively the link did not name a missing file:\n{}",
                        o.output
                    ));
                }
                o.same_as_native(&["escape: done"])
            },
        },
        escape_case!(
            "dotdot-through-symlinked-dir",
            &["symlink", "chdir", "getcwd", "openat", "getdents64"],
            "d=$(mktemp -d /tmp/escape.XXXXXX); cd $d
mkdir -p real/sub; echo in-real >real/file; ln -s real/sub rel; ln -s $d/real/sub abs
ls rel/..; cat rel/../file; ls abs/..; cat abs/../file; ls rel/../..
cd -P rel/..; ls; cd -P ../../../../../..; pwd; ls
cd /; rm -r $d"
        ),
        escape_case!(
            "absolute-symlinks",
            &["symlink", "readlink", "openat", "execve"],
            "d=$(mktemp -d /tmp/escape.XXXXXX); cd $d
ln -s /etc/hostname h; ln -s /etc e; ln -s /bin b; ln -s /tmp/../../../etc/passwd p
cat h; readlink h; cat e/hostname; ls e/; cat p
b/sh -c \"echo run through an absolute link\"
cd /; rm -r $d"
        ),
        escape_case!("sys-probes", &["openat", "getdents64"], "ls /sys"),
        // Host interfaces mounted inside the root, and a filesystem mounted inside one of
        // them, show as the directories beneath their mount points: contained with them
        // mounted, a program sees what it sees natively before they are.
        Case {
            name: "escape-host-interface-mounts",
            covers: &["newfstatat", "openat", "getdents64", "chdir"],
            script: r#". /tests/lib.sh
mkdir -p /rootfs/tmp/interfaces
probe='cd /tmp
for p in interfaces interfaces/kernel \
	interfaces/kernel/tracing/file /tmp/interfaces/kernel/tracing; do
	stat -c "%n %F %a" $p; ls -a $p
done 2>&1
echo probes done'
native native /bin/sh -c "$probe"
mount -t proc proc /rootfs/proc
mount -t sysfs sysfs /rootfs/tmp/interfaces
mount -t tmpfs tmpfs /rootfs/tmp/interfaces/kernel/tracing
touch /rootfs/tmp/interfaces/kernel/tracing/file
stat -c "mounted: %n" /rootfs/proc/1 /rootfs/tmp/interfaces/kernel/tracing/file
contained contained /bin/sh -c "$probe"
umount /rootfs/tmp/interfaces/kernel/tracing /rootfs/tmp/interfaces /rootfs/proc
rmdir /rootfs/tmp/interfaces"#,
            check: |o| o.same_as_native(&["probes done"]),
        },
        Case {
            name: "escape-host-pids",
            covers: &["getpid", "getppid", "clone", "wait4"],
            script: r#". /tests/lib.sh
echo "host pids before: $(host_pids)"
mkfifo "$SCRATCH.gate"
rvisor run --root /rootfs -- /bin/sh -c 'echo "pid $$"; echo "ppid $PPID"; sh -c "echo child \$\$ \$PPID"; echo probes printed; head -n 1; echo released' <"$SCRATCH.gate" >"$SCRATCH.out" 2>&1 &
r=$!
exec 3>"$SCRATCH.gate"
wait_for 'probes printed' "$SCRATCH.out"
echo "host pids during: $(host_pids)"
echo "contained shell on the host: $(children_of $r)"
exec 3>&-
wait $r
side contained $? "$SCRATCH.out""#,
            check: host_pids_hidden,
        },
        Case {
            name: "fork-cow",
            covers: &["clone", "mmap", "pipe2", "read", "write", "wait4"],
            script: ". /tests/lib.sh\ndifferential /tests/cow",
            check: |o| o.same_as_native(&["cow: done"]),
        },
        Case {
            name: "blocked-calls-idle",
            covers: &["read", "wait4"],
            // The parent blocks in wait4, its child in read; both must sleep (state S) and use
            // at most 2 clock ticks of CPU in 2 s; then a line ends both.
            script: r#". /tests/lib.sh
mkfifo "$SCRATCH.in"
rvisor run --root /rootfs -- /tests/block <"$SCRATCH.in" >"$SCRATCH.out" 2>&1 &
r=$!
exec 3>"$SCRATCH.in"
wait_for 'child: reading' "$SCRATCH.out" && wait_for 'parent: waiting' "$SCRATCH.out"
sleep 1
parent=$(children_of $r)
child=$(children_of "$parent")
p0=$(cpu_ticks "$parent")
c0=$(cpu_ticks "$child")
sleep 2
p1=$(cpu_ticks "$parent")
c1=$(cpu_ticks "$child")
echo "parent state $(state "$parent") ticks $((p1 - p0))"
echo "child state $(state "$child") ticks $((c1 - c0))"
echo line >&3
exec 3>&-
wait $r
echo "status $?"
cat "$SCRATCH.out""#,
            check: blocked_calls_idle,
        },
        Case {
            name: "sigint-ends-blocked-read",
            covers: &["read"],
            script: signal_script!("INT"),
            check: |o| signal_ended(o, 130),
        },
        Case {
            name: "sigkill-ends-blocked-read",
            covers: &["read"],
            script: signal_script!("KILL"),
            check: |o| signal_ended(o, 137),
        },
        Case {
            name: "stdin-from-host-dev-null",
            covers: &["read"],
            // `differential` gives both runs the host's /dev/null as stdin: reading it is EOF.
            script: ". /tests/lib.sh\ndifferential /bin/sh -c 'cat; echo \"cat: $?\"; head -n 1; echo \"head: $?\"; wc -c; echo stdin: done'",
            check: |o| o.same_as_native(&["cat: 0", "head: 0", "0", "stdin: done"]),
        },
        Case {
            name: "process-surface",
            covers: &[
                "sched_yield", "getcpu", "sched_getaffinity", "rseq", "membarrier", "prctl",
                "getpriority", "setpriority", "sched_getscheduler", "sched_setscheduler",
                "sched_getparam", "sched_setparam", "sched_rr_get_interval", "sched_getattr",
            ],
            script: ". /tests/lib.sh\ndifferential /tests/surface",
            check: |o| {
                o.same_as_native(&[
                    "getpriority raw (20 - nice) => 20",
                    "getpriority after setpriority => 5",
                    "sched_getscheduler(0) after => 3",
                    "sched_getscheduler(-1) => EINVAL",
                    "rseq cpu_id current: yes",
                    "membarrier private expedited => 0",
                    "name: surface-name-th",
                    "tid address holds the tid: yes",
                    "child subreaper: 0",
                    "parent death signal: SIGUSR1",
                    "surface: done",
                ])
            },
        },
        Case {
            name: "signals",
            covers: &["kill", "tkill", "tgkill", "getrlimit", "setrlimit", "prlimit64", "write"],
            script: ". /tests/lib.sh\ndifferential /tests/signals",
            check: |o| o.same_as_native(&["signals: done"]),
        },
        Case {
            name: "rw-partly-inaccessible-buffer",
            covers: &["read", "write", "pread64", "pwrite64", "preadv"],
            script: ". /tests/lib.sh\ndifferential /tests/rwfault",
            check: |o| o.same_as_native(&["rwfault: done"]),
        },
        // rVisor's /dev: only its own nodes, with Linux's metadata, never the host's.
        Case {
            name: "devfs-nodes",
            covers: &["openat", "getdents64", "newfstatat", "readlinkat"],
            script: r#"rvisor run --root /rootfs -- /bin/sh -c '
ls /dev | tr "\n" " "; echo
ls /dev/pts /dev/shm | tr "\n" " "; echo
for n in null zero full random urandom tty console ptmx pts/ptmx; do stat -c "%n %F %t:%T %a %U" /dev/$n; done
stat -c "%n %F %a" /dev/pts /dev/shm
for l in fd stdin stdout stderr; do readlink /dev/$l; done
head -c 4 /dev/zero | od -An -tx1
ls /dev/sda 2>&1 | sed "s/.*: //"
mount | grep /dev
stat -f -c %t /dev /dev/pts
' </dev/null"#,
            check: |o| {
                o.exactly(&[
                    "console fd full null ptmx pts random shm stderr stdin stdout tty urandom zero ",
                    "/dev/pts: ptmx  /dev/shm: ",
                    "/dev/null character special file 1:3 666 root",
                    "/dev/zero character special file 1:5 666 root",
                    "/dev/full character special file 1:7 666 root",
                    "/dev/random character special file 1:8 666 root",
                    "/dev/urandom character special file 1:9 666 root",
                    "/dev/tty character special file 5:0 666 root",
                    "/dev/console character special file 5:1 600 root",
                    "/dev/ptmx character special file 5:2 666 root",
                    "/dev/pts/ptmx character special file 5:2 666 root",
                    "/dev/pts directory 755",
                    "/dev/shm directory 1777",
                    "/proc/self/fd",
                    "/proc/self/fd/0",
                    "/proc/self/fd/1",
                    "/proc/self/fd/2",
                    " 00 00 00 00",
                    "No such file or directory",
                    "devtmpfs on /dev type devtmpfs (rw,nosuid,relatime)",
                    "devpts on /dev/pts type devpts (rw,nosuid,noexec,relatime)",
                    "1021994",
                    "1cd1",
                ])
            },
        },
        // Pseudo-terminals, natively (a devpts instance mounted in the root) and contained.
        Case {
            name: "pty-line-discipline-and-job-control",
            covers: &["openat", "ioctl", "read", "write", "poll", "setsid", "setpgid"],
            script: r#". /tests/lib.sh
mkdir -p /rootfs/dev/pts
mount -t devpts -o newinstance,gid=5,mode=620,ptmxmode=666 devpts /rootfs/dev/pts
mknod -m 666 /rootfs/dev/ptmx c 5 2
detached native chroot /rootfs /tests/pty
umount /rootfs/dev/pts; rm -f /rootfs/dev/ptmx; rmdir /rootfs/dev/pts
detached contained rvisor run --root /rootfs -- /tests/pty"#,
            check: |o| {
                o.same_as_native(&[
                    "pty: done",
                    "open while locked: EIO",
                    "canonical read: 5 \"word\\x0a\"",
                    "background write with TOSTOP: stopped by TTOU",
                    "background read: stopped by TTIN",
                    "child: got INT",
                    "child: got WINCH",
                    "child: size 24x80",
                    "child: got HUP",
                    "child: read after hangup: 0",
                    "forked before the terminal was acquired: /dev/tty ENXIO",
                    "grandchild: then /dev/tty ENXIO, TIOCGPGRP ENOTTY",
                ])
            },
        },
        // `rvisor run -t -i`: an interactive bash in the Debian root driven through a host
        // pty, as from a user's terminal: output, ^C, ^Z and fg, a window size change.
        Case {
            name: "pty-run-t-interactive-bash",
            covers: &["ioctl", "read", "write", "setpgid", "wait4"],
            script: r#"mkdir -p /dev/pts
grep -q " /dev/pts " /proc/mounts || mount -t devpts devpts /dev/pts
/tests/ptydrive rvisor run -t -i --root /debian -- env PS1='READY$ ' bash --norc --noprofile -i"#,
            check: |o| {
                o.exactly(&[
                    "prompt: ok",
                    "echo: ok",
                    "prompt again: ok",
                    "window size after a change: ok",
                    "prompt after stty: ok",
                    "^C ends the foreground job: ok",
                    "its status: ok",
                    "prompt after status: ok",
                    "^Z stops it: ok",
                    "prompt after ^Z: ok",
                    "fg names it: ok",
                    "^C ends it in the foreground: ok",
                    "exit status: 3",
                ])
            },
        },
        // Each container has its own devpts: another container's ptys never show.
        Case {
            name: "pty-devpts-per-container",
            covers: &["openat", "getdents64"],
            script: r#". /tests/lib.sh
rm -f /rootfs/tmp/pty-release
rvisor run --root /rootfs -- /tests/pty hold >"$SCRATCH.hold" 2>&1 &
h=$!
wait_for holding "$SCRATCH.hold"
cat "$SCRATCH.hold"
rvisor run --root /rootfs -- /bin/sh -c 'ls /dev/pts | tr "\n" " "; echo; ls /dev/pts/0 2>&1 | sed "s/.*: //"'
touch /rootfs/tmp/pty-release; wait $h; rm -f /rootfs/tmp/pty-release
echo held: done"#,
            check: |o| {
                o.exactly(&[
                    "holding /dev/pts/0",
                    "ptmx ",
                    "No such file or directory",
                    "held: done",
                ])
            },
        },
        Case {
            name: "dev-tty-without-a-terminal",
            covers: &["openat", "write"],
            // Neither run has a controlling terminal: /dev/tty is ENXIO for both.
            script: r#". /tests/lib.sh
cmd='echo hi >/dev/tty; echo "write status $?"; cat </dev/tty; echo "read status $?"; echo tty: done'
detached native chroot /rootfs /bin/sh -c "$cmd"
detached contained rvisor run --root /rootfs -- /bin/sh -c "$cmd""#,
            check: |o| o.same_as_native(&["write status 1", "tty: done"]),
        },
        Case {
            name: "setid",
            covers: &[
                "setuid", "setgid", "setreuid", "setresuid", "setresgid", "setfsuid", "setgroups",
                "openat",
            ],
            script: ". /tests/lib.sh\ndifferential /tests/setid",
            check: |o| o.same_as_native(&["setid: done", "open root's 0600 file: EACCES"]),
        },
        Case {
            name: "exec-large-program-execveat-etxtbsy",
            covers: &["execve", "execveat", "openat", "truncate", "personality"],
            script: ". /tests/lib.sh\ndifferential /tests/exec",
            check: |o| {
                o.same_as_native(&[
                    "exec: done",
                    "show execve: execfn /tests/exec, comm exec, big 1 2 3",
                    "open a running program for writing: ETXTBSY",
                    "AT_SYSINFO_EHDR: the vDSO",
                    "default layout: stack moved break moved mapping moved",
                    "ADDR_NO_RANDOMIZE layout: stack fixed break fixed mapping fixed",
                ])
            },
        },
        Case {
            name: "stress-four-containers",
            covers: &["clone", "execve", "wait4", "pipe2", "rename", "kill"],
            // Four containers at once, each with its own root: threads that fork, exec and
            // read whole messages through pipes, files written and renamed, children killed;
            // the module cannot go while they live, and goes cleanly after.
            script: r#". /tests/lib.sh
before=$(containers)
for i in 1 2 3 4; do
	mkdir -p /tmp/stress$i/tests /tmp/stress$i/tmp
	cp /tests/stress /tmp/stress$i/tests/
	rvisor run --root /tmp/stress$i -- /tests/stress $i 30 >/tmp/stress$i.out 2>&1 &
done
wait_containers $((before + 4))
rmmod rvisor 2>/dev/null; echo "rmmod while they run: $?"
wait
cat /tmp/stress1.out /tmp/stress2.out /tmp/stress3.out /tmp/stress4.out
echo "containers left: $(($(containers) - before))"
rmmod rvisor; echo "rmmod after: $?"
insmod /rvisor.ko; echo "reload: $?""#,
            check: |o| {
                o.exactly(&[
                    "rmmod while they run: 1",
                    "stress 1: 30 rounds ok",
                    "stress 2: 30 rounds ok",
                    "stress 3: 30 rounds ok",
                    "stress 4: 30 rounds ok",
                    "containers left: 0",
                    "rmmod after: 0",
                    "reload: 0",
                ])
            },
        },
        Case {
            name: "wait-signal-masks",
            covers: &["pselect6", "ppoll", "poll", "select", "read"],
            script: ". /tests/lib.sh\ndifferential /tests/sigmask",
            check: |o| {
                o.same_as_native(&[
                    "sigmask: done",
                    "pselect6 unblocking SIGUSR1: EINTR, handled 1, after: blocked",
                    "poll with an SA_RESTART handler: EINTR, handled 1",
                ])
            },
        },
        Case {
            name: "debian-shell-and-tools",
            covers: &[
                "execve",
                "clone",
                "wait4",
                "pipe2",
                "openat",
                "rename",
                "kill",
                "lgetxattr",
                "getxattr",
                "llistxattr",
                "listxattr",
                "flistxattr",
                "fgetxattr",
                "fsetxattr",
            ],
            script: ". /tests/lib.sh\nROOTFS=/debian\ndifferential /bin/bash /rvisor-tests/tools.sh",
            check: |o| {
                o.same_as_native(&[
                    "tools: done",
                    "sqlite3 42",
                    "lua 42",
                    "[1]+  Stopped                 sleep 2",
                ])
            },
        },
        Case {
            name: "debian-python3",
            covers: &[
                "execve",
                "clone",
                "clone3",
                "wait4",
                "pipe2",
                "mmap",
                "openat",
                "close_range",
                "sched_getaffinity",
                "sched_setaffinity",
                "setxattr",
                "getxattr",
                "fgetxattr",
                "listxattr",
                "removexattr",
            ],
            script: ". /tests/lib.sh\nROOTFS=/debian\ndifferential /usr/bin/python3 /rvisor-tests/python.py",
            check: |o| o.same_as_native(&["python: done", "pool [1, 2]", "missing program 2"]),
        },
        Case {
            name: "debian-python3-unix-sockets",
            covers: &["socketpair", "socket", "bind", "listen", "accept4", "connect", "sendmsg", "recvmsg", "getsockopt", "poll"],
            script: ". /tests/lib.sh\nROOTFS=/debian\ndifferential /usr/bin/python3 /rvisor-tests/unix.py",
            check: |o| {
                o.same_as_native(&[
                    "python unix: done",
                    "child got echo: gamma",
                    "read b'through a passed pipe'",
                    "peer cred is me True True True",
                ])
            },
        },
        Case {
            name: "xattr-host-namespaces-refused",
            covers: &["setxattr", "lsetxattr", "removexattr", "getxattr"],
            // What the host acts on (file capabilities, labels) a container may read, not
            // write; natively root may, which is why this is not compared with native.
            script: r#"rvisor run --root /debian -- /usr/bin/python3 -c '
import os
open("/tmp/labelled", "w").close()
for name in ("security.capability", "trusted.rvisor"):
    try:
        os.setxattr("/tmp/labelled", name, b"x")
        print(name, "set")
    except OSError as error:
        print(name, os.strerror(error.errno))
try:
    os.removexattr("/tmp/labelled", "trusted.rvisor")
except OSError as error:
    print("remove", os.strerror(error.errno))
print("user", os.setxattr("/tmp/labelled", "user.ok", b"1"))
'"#,
            check: |o| {
                o.exactly(&[
                    "security.capability Operation not permitted",
                    "trusted.rvisor Operation not permitted",
                    "remove Operation not permitted",
                    "user None",
                ])
            },
        },
        Case {
            name: "procfs-system-view",
            covers: &["openat", "read", "getdents64", "readlink", "sysinfo", "uname", "statfs"],
            // The container's /proc and /sys, rendered by rVisor in its own terms: its pids
            // from 1, its mounts, the machine's processors and memory, the host's release.
            script: r#"host_release=$(uname -r)
host_online=$(cat /sys/devices/system/cpu/online)
rvisor run --root /debian -- /bin/sh -c '
ps -eo pid=,ppid=,comm= | awk "NR==1 {print \$1, \$2, \$3}"
pgrep -x sh
ps -o stat= -p 1
free -m | awk "NR==1 {print \$1, \$2, \$3}; NR==2 {print \$1, (\$2 > 0)}"
[ "$(grep -c ^processor /proc/cpuinfo)" = "$(nproc)" ] && echo processors agree
uptime | grep -c "load average"
mount | sed -n 2p
df / | awk "NR==2 {print \$6}"
cat /proc/self/stat | cut -d" " -f2,4,5
grep -E "\\[stack\\]$|/usr/bin/grep$" /proc/self/maps | awk "{print \$6}" | sort -u
exec 7</dev/null; ls /proc/self/fd | tr "\n" " "; echo
python3 -c "import os; print(sorted(os.listdir(\"/proc/self/fd\")), os.cpu_count() == len(os.sched_getaffinity(0)))"
python3 -c "import os; print(os.readlink(\"/proc/self/exe\"), open(\"/proc/self/cmdline\", \"rb\").read())" x
grep -E "^(Name|Pid|PPid|Uid):" /proc/1/status | tr "\t" " "
readlink /proc/1/root
[ "$(ls /proc/1/root/)" = "$(ls /)" ] && echo root is the container root
cat /proc/sys/kernel/osrelease /proc/sys/kernel/hostname
ls /proc/999 2>&1 | sed "s/.*: //"
(echo x > /proc/meminfo) 2>&1 | sed "s/.*: //"
touch /proc/new 2>&1 | sed "s/.*: //"
echo "online $(cat /sys/devices/system/cpu/online)"
lscpu | grep -c "^CPU(s):"
mount | grep " /sys "
printf renamed > /proc/$$/comm; cat /proc/$$/comm
echo 500 > /proc/$$/oom_score_adj; cat /proc/$$/oom_score_adj
awk -v n=$(ulimit -n) "/^Max open files/ {print \$4 == n}" /proc/$$/limits
exec 9</etc/hostname; head -2 /proc/$$/fdinfo/9 | tr "\t" " "
' | sed "s/$host_release/HOST-RELEASE/; s/^online $host_online\$/online HOST-ONLINE/""#,
            check: |o| {
                o.exactly(&[
                    "1 0 sh",
                    "1",
                    "Ss",
                    "total used free",
                    "Mem: 1",
                    "processors agree",
                    "1",
                    "proc on /proc type proc (rw,nosuid,nodev,noexec,relatime)",
                    "/",
                    "(cat) 1 1",
                    "/usr/bin/grep",
                    "[stack]",
                    "0 1 2 3 7 ",
                    "['0', '1', '2', '3', '7'] True",
                    "/usr/bin/python3.11 b'python3\\x00-c\\x00import os; print(os.readlink(\"/proc/self/exe\"), open(\"/proc/self/cmdline\", \"rb\").read())\\x00x\\x00'",
                    "Name: sh",
                    "Pid: 1",
                    "PPid: 0",
                    "Uid: 0 0 0 0",
                    "/",
                    "root is the container root",
                    "HOST-RELEASE",
                    "rvisor",
                    "No such file or directory",
                    // EIO (dash names it "I/O error") and ENOENT, as Linux answers root writing a file
                    // with no write operation and creating a name procfs does not have
                    // (checked natively in the guest).
                    "I/O error",
                    "No such file or directory",
                    "online HOST-ONLINE",
                    "1",
                    "sysfs on /sys type sysfs (ro,nosuid,nodev,noexec,relatime)",
                    "renamed",
                    "500",
                    "1",
                    "pos: 0",
                    "flags: 0100000",
                ])
            },
        },
        Case {
            name: "volumes-tmpfs-read-only",
            covers: &["openat", "write", "statfs", "chdir", "setuid"],
            // `rvisor run -v`, `--tmpfs`, `--read-only`, `-w`, `-e`, `-u`: volumes write
            // through to the host, a read-only one and a read-only root refuse writes as the
            // host's VFS does (to a user without permission too: `EROFS` comes before the
            // permission bits, as in Linux), a tmpfs is bounded by its size, `..` at a mount's
            // root leads back to the root's tree.
            script: r#"mkdir -p /tmp/vol /tmp/rovol; echo host > /tmp/rovol/f; rm -f /tmp/vol/f
rvisor run --root /debian -v /tmp/vol:/mnt -v /tmp/rovol:/srv:ro --tmpfs /tmp:size=1m -w /etc -e FOO=bar -- /bin/sh -c '
pwd; echo $FOO
echo written > /mnt/f && echo volume written
cat /srv/f; (echo x > /srv/g) 2>&1 | sed "s/.*: //"
dd if=/dev/zero of=/tmp/big bs=64k count=32 2>&1 | grep -o "No space left on device"
df /tmp | awk "NR==2 {print \$2}"
stat -c %d / /tmp /mnt /dev /dev/pts /proc /sys | sort -u | wc -l
mount | grep -E " /(mnt|srv|tmp) " | cut -d" " -f3,6
cd /mnt/..; pwd'
echo "host sees: $(cat /tmp/vol/f)"
rvisor run --root /debian --read-only -- /bin/sh -c '(touch /x) 2>&1 | sed "s/.*: //"; mount | head -1 | cut -d" " -f3,6'
rvisor run --root /debian -u 1000:1000 -- /bin/sh -c 'id -u; id -g'
rvisor run --root /debian --read-only -u 1000:1000 -v /tmp/rovol:/srv:ro -- /bin/sh -c 'for c in "touch /x" "mkdir /y" "rm /etc/hostname" "mv /etc/hostname /etc/h2" "ln -s a /z" "touch /srv/n" "truncate -s0 /etc/hostname"; do ($c) 2>&1 | sed "s/.*: //"; done; cat /etc/hostname >/dev/null && echo readable'
rvisor run --root /debian -v /nonexistent:/mnt -- true; echo "exit $?"
rvisor run --root /debian -v /tmp/vol:/nonexistent -- true; echo "exit $?""#,
            check: |o| {
                o.exactly(&[
                    "/etc",
                    "bar",
                    "volume written",
                    "host",
                    "Read-only file system",
                    "No space left on device",
                    "1024",
                    "7",
                    "/mnt (rw,relatime)",
                    "/srv (ro,relatime)",
                    "/tmp (rw,relatime)",
                    "/",
                    "host sees: written",
                    "Read-only file system",
                    "/ (ro,relatime)",
                    "1000",
                    "1000",
                    "Read-only file system",
                    "Read-only file system",
                    "Read-only file system",
                    "Read-only file system",
                    "Read-only file system",
                    "Read-only file system",
                    "Read-only file system",
                    "readable",
                    "rvisor: volume /nonexistent: No such file or directory (os error 2)",
                    "exit 125",
                    "rvisor: /nonexistent: mount in the container: No such file or directory (os error 2) (the directory must exist in the container root, named without symbolic links)",
                    "exit 125",
                ])
            },
        },
        Case {
            name: "mount-inside-container",
            covers: &["mount", "umount2", "statfs"],
            // A container's root mounts tmpfs, proc and binds inside its own tree; a bind
            // of `/proc/self/root/..` is the container's root, and nothing of the host's
            // can be mounted.
            script: r#"rvisor run --root /debian -- /bin/sh -c '
mkdir -p /tmp/m /tmp/b
mount -t tmpfs -o size=100k,mode=700 scratch /tmp/m && echo tmpfs mounted
ls -ld /tmp/m | cut -c1-10
df /tmp/m | awk "NR==2 {print \$1, \$2}"
echo hello > /tmp/m/f; mount --bind /tmp/m /tmp/b; cat /tmp/b/f
umount /tmp/m; echo "umount with a bind of it: $?"
umount /tmp/b; umount /tmp/m 2>&1
mount -t proc proc /tmp/m && cat /tmp/m/sys/kernel/ostype; umount /tmp/m
mount -t ext4 /dev/vda /tmp/m 2>&1 | head -1
mount --bind /proc/self/root/.. /tmp/m && [ "$(ls /tmp/m)" = "$(ls /)" ] && echo bind of the root is the root
umount /tmp/m; grep -c " /tmp/" /proc/self/mountinfo
python3 -c "
import ctypes, os
os.setgroups([]); os.setgid(65534); os.setuid(65534)
libc = ctypes.CDLL(None, use_errno=True)
print(libc.mount(b\"t\", b\"/tmp/m\", b\"tmpfs\", 0, None), os.strerror(ctypes.get_errno()))
print(libc.umount2(b\"/proc\", 0), os.strerror(ctypes.get_errno()))"'"#,
            check: |o| {
                o.exactly(&[
                    "tmpfs mounted",
                    "drwx------",
                    "scratch 100",
                    "hello",
                    "umount with a bind of it: 0",
                    "umount: /tmp/m: not mounted.",
                    "Linux",
                    "mount: /tmp/m: unknown filesystem type 'ext4'.",
                    "bind of the root is the root",
                    "0",
                    "-1 Operation not permitted",
                    "-1 Operation not permitted",
                ])
            },
        },
        Case {
            name: "chroot",
            covers: &["chroot", "getcwd", "readlink"],
            // A root changed inside the container: absolute paths and `..` stop at it, a
            // procfs mounted inside shows paths and mounts from it — as natively.
            script: r#". /tests/lib.sh
differential /bin/sh -c '
rm -rf /tmp/jail; mkdir -p /tmp/jail/bin /tmp/jail/etc /tmp/jail/proc /tmp/jail/sub
cp /bin/busybox /tmp/jail/bin/; echo jailed > /tmp/jail/etc/name
chroot /tmp/jail /bin/busybox sh -c "
/bin/busybox cat /etc/name /../../etc/name
/bin/busybox ls /.. /sub/../..
cd /sub/../..; /bin/busybox realpath .
/bin/busybox mount -t proc proc /proc; echo mount \$?
cd /sub; for l in root cwd exe; do /bin/busybox readlink /proc/self/\$l; done
/bin/busybox cut -d\" \" -f2,3 /proc/self/mounts
cd /; /bin/busybox umount /proc; echo umount \$?"
cat /tmp/jail/etc/name; rm -rf /tmp/jail; echo chroot: done'"#,
            check: |o| o.same_as_native(&["chroot: done"]),
        },
        Case {
            name: "escape-chroot-dot-dot",
            covers: &["chroot", "fchdir"],
            // The classic way out of a chroot (a descriptor or working directory kept
            // outside, then `..` and chroot again) leads back to the container's root and
            // no further; the working directory outside a new root is "unreachable".
            script: r#"rvisor run --root /debian -- /usr/bin/python3 -c '
import os
os.makedirs("/tmp/j/k", exist_ok=True)
outside = os.open("/", os.O_RDONLY)
os.chroot("/tmp/j")
try:
    os.getcwd()
except OSError as e:
    print("getcwd:", e.strerror)
print(os.listdir("/"), os.listdir("/.."), os.listdir("/k/../.."))
os.chdir("/k")
print(os.getcwd(), os.readlink("/proc/self/cwd") if os.path.exists("/proc") else "no proc")
os.fchdir(outside)
for _ in range(20):
    os.chdir("..")
os.chroot(".")
print(os.getcwd(), os.path.exists("/etc/debian_version"), os.path.exists("/rootfs"))
'"#,
            check: |o| {
                o.exactly(&[
                    "getcwd: No such file or directory",
                    "['k'] ['k'] ['k']",
                    "/k no proc",
                    "/ True False",
                ])
            },
        },
        Case {
            name: "procfs-namespaces",
            covers: &["readlink", "newfstatat", "openat"],
            // `/proc/PID/ns/`: every process of a container names the same namespaces, a
            // link leads to a read-only nsfs file numbered as it says, another container's
            // are others (the user namespace, the host's first, aside).
            script: r#"rvisor run --root /debian -- /bin/bash -c '
ls /proc/self/ns | tr "\n" " "; echo
[ "$(readlink /proc/self/ns/pid)" = "$(readlink /proc/1/ns/pid)" ] && echo same pid namespace as pid 1
[ "$(readlink /proc/self/ns/net)" = "net:[$(stat -L -c %i /proc/self/ns/net)]" ] && echo the link names the namespace
stat -L -c "%F %a" /proc/self/ns/uts
readlink /proc/self/ns/user
exec 3</proc/self/ns/uts && echo opened; cat <&3 2>&1
readlink /proc/self/ns/mnt > /tmp/mnt-ns'
rvisor run --root /debian -- /bin/sh -c '[ "$(readlink /proc/self/ns/mnt)" != "$(cat /tmp/mnt-ns)" ] && echo another container: another namespace'"#,
            check: |o| {
                o.exactly(&[
                    "cgroup ipc mnt net pid pid_for_children time time_for_children user uts ",
                    "same pid namespace as pid 1",
                    "the link names the namespace",
                    "regular empty file 444",
                    "user:[4026531837]",
                    "opened",
                    "cat: -: Invalid argument",
                    "another container: another namespace",
                ])
            },
        },
        Case {
            name: "signal-to-a-multithreaded-process",
            covers: &["kill"],
            // A process-directed signal reaches the thread that can take it: the main thread
            // of a process whose other threads (started first, the newest last) block it.
            script: r#"rvisor run --root /debian -- /usr/bin/python3 -c '
import os, signal, threading, time
def worker():
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM, signal.SIGUSR1])
    time.sleep(60)
for _ in range(4):
    threading.Thread(target=worker, daemon=True).start()
time.sleep(0.5)
got = []
signal.signal(signal.SIGUSR1, lambda *a: got.append("SIGUSR1"))
signal.signal(signal.SIGTERM, lambda *a: got.append("SIGTERM"))
child = os.fork()
if child == 0:
    os.kill(os.getppid(), signal.SIGUSR1)
    os.kill(os.getppid(), signal.SIGTERM)
    os._exit(0)
os.waitpid(child, 0)
for _ in range(100):
    if len(got) == 2:
        break
    time.sleep(0.1)
print("main thread got", sorted(got))
'"#,
            check: |o| o.exactly(&["main thread got ['SIGTERM', 'SIGUSR1']"]),
        },
        Case {
            name: "procfs-isolated",
            covers: &["getdents64", "openat"],
            // A container's /proc lists its own processes only: not another container's
            // (running at the same time), not the host's.
            script: r#". /tests/lib.sh
rvisor run --root /debian -- /bin/sh -c 'echo ready; exec sleep 30' > "$SCRATCH.other" &
other=$!
wait_for ready "$SCRATCH.other"
rvisor run --root /debian -- /usr/bin/python3 -c '
import os
print(sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
print(os.path.exists("/proc/2"), open("/proc/1/comm").read().strip())
'
kill $other; wait $other 2>/dev/null; echo other stopped"#,
            check: |o| o.exactly(&["[1]", "False python3", "other stopped"]),
        },
        Case {
            name: "proc-fd-magic-links",
            covers: &["openat", "newfstatat", "readlink"],
            // `/proc/PID/fd/N` (and `/dev/fd/N`, `/dev/stdin` through it) goes to the object
            // itself, as Linux's magic links: bash's process substitution, a pipe on stdin,
            // an unlinked file.
            script: r#"rvisor run --root /debian -- /bin/bash -c '
diff <(echo a) <(echo a) && echo diff of two substitutions: same
cat <(echo from a substitution)
echo piped | cat /dev/stdin
stat -L -c %F /dev/stdin < <(true)
exec 5<>/tmp/gone; echo kept >&5; rm /tmp/gone; cat /proc/self/fd/5
readlink /proc/self/fd/5
readlink /proc/$$/fd/5'"#,
            check: |o| {
                o.exactly(&[
                    "diff of two substitutions: same",
                    "from a substitution",
                    "piped",
                    "fifo",
                    "kept",
                    "/tmp/gone (deleted)",
                    "/tmp/gone (deleted)",
                ])
            },
        },
        Case {
            name: "named-pipes",
            covers: &["mknod", "mknodat", "openat", "read", "write"],
            // A FIFO made in the container is rVisor's: its opens meet as Linux's
            // `fifo_open` has them (a reader waits for a writer, a non-blocking writer without
            // a reader gets ENXIO, O_RDWR never waits). Checked natively in the guest with the
            // same script (chroot /debian), which prints the same lines.
            script: r#"rvisor run --root /debian -- /bin/sh -c '
cd /tmp; rm -f f out; mkfifo f; chmod 600 f; ls -l f | cut -c1-10
cat f > out &
echo "through the fifo" > f; wait; cat out
mknod /tmp/null c 1 3 2>&1 | sed "s/.*: //"
python3 -c "
import os, errno, time, threading
try:
    os.open(\"/tmp/f\", os.O_WRONLY | os.O_NONBLOCK)
except OSError as e:
    print(\"nonblocking writer, no reader:\", errno.errorcode[e.errno])
r = os.open(\"/tmp/f\", os.O_RDONLY | os.O_NONBLOCK)
print(\"nonblocking reader, no writer: read\", os.read(r, 10))
w = os.open(\"/tmp/f\", os.O_WRONLY | os.O_NONBLOCK)
os.write(w, b\"x\"); print(\"read\", os.read(r, 10)); os.close(w); os.close(r)
rw = os.open(\"/tmp/f\", os.O_RDWR); os.write(rw, b\"rw\"); print(\"rdwr\", os.read(rw, 10)); os.close(rw)
def late_writer():
    time.sleep(0.3); fd = os.open(\"/tmp/f\", os.O_WRONLY); os.write(fd, b\"late\"); os.close(fd)
threading.Thread(target=late_writer).start()
start = time.monotonic(); fd = os.open(\"/tmp/f\", os.O_RDONLY)
print(\"blocking reader waited:\", time.monotonic() - start > 0.2, os.read(fd, 10))
print(\"fstat says fifo:\", os.fstat(fd).st_mode & 0o170000 == 0o010000)
"'"#,
            check: |o| {
                o.exactly(&[
                    "prw-------",
                    "through the fifo",
                    "Operation not permitted",
                    "nonblocking writer, no reader: ENXIO",
                    "nonblocking reader, no writer: read b''",
                    "read b'x'",
                    "rdwr b'rw'",
                    "blocking reader waited: True b'late'",
                    "fstat says fifo: True",
                ])
            },
        },
        Case {
            name: "debian-nginx",
            covers: &["fcntl", "socketpair", "epoll_wait", "accept4"],
            // nginx as it runs by default: a daemon master (F_SETOWN on its worker channels)
            // and two workers, serving a file fetched in the container; and the owner calls
            // themselves.
            script: r#"rvisor run --root /debian -- /bin/sh -c '
mkdir -p /tmp/www; echo served-by-nginx > /tmp/www/index.html
printf "daemon on; worker_processes 2; pid /tmp/nginx.pid; error_log /tmp/e.log; events {} http { access_log off; server { listen 8080; root /tmp/www; } }" > /tmp/ng.conf
nginx -c /tmp/ng.conf -p /tmp && sleep 2
wget -T 10 -qO- http://127.0.0.1:8080/index.html
echo "workers: $(ps -e -o comm= | grep -c nginx)"
kill $(cat /tmp/nginx.pid)
python3 -c "
import fcntl, os, socket, errno
a, b = socket.socketpair()
fcntl.fcntl(a, fcntl.F_SETOWN, os.getpid())
print(\"owner is me:\", fcntl.fcntl(a, fcntl.F_GETOWN) == os.getpid())
import struct
fcntl.fcntl(a, 15, struct.pack(\"ii\", 2, os.getpgid(0)))
print(\"owner is my group:\", struct.unpack(\"ii\", fcntl.fcntl(a, 16, bytes(8))) == (2, os.getpgid(0)))
try:
    fcntl.fcntl(b, fcntl.F_SETOWN, 4000)
except OSError as e:
    print(\"missing owner:\", errno.errorcode[e.errno])
fcntl.fcntl(a, fcntl.F_SETSIG, 10)
print(\"signal:\", fcntl.fcntl(a, fcntl.F_GETSIG))
"'"#,
            check: |o| {
                o.exactly(&[
                    "served-by-nginx",
                    "workers: 3",
                    "owner is me: True",
                    "owner is my group: True",
                    "missing owner: ESRCH",
                    "signal: 10",
                ])
            },
        },
        Case {
            name: "scheduling-of-others-refused",
            covers: &["getpriority", "setpriority", "sched_getscheduler", "sched_setscheduler"],
            // A named pid or user would be read as a host id, and a real-time policy outruns
            // the host's tasks; natively root may do all of it, so this is not compared.
            script: r#"rvisor run --root /debian -- /usr/bin/python3 -c '
import os
def attempt(name, call):
    try:
        print(name, call())
    except OSError as error:
        print(name, os.strerror(error.errno))
attempt("own policy", lambda: os.sched_getscheduler(0))
attempt("pid 1 policy", lambda: os.sched_getscheduler(1))
attempt("user priority", lambda: os.setpriority(os.PRIO_USER, 0, 19))
attempt("group priority", lambda: os.getpriority(os.PRIO_PGRP, 0))
attempt("fifo", lambda: os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1)))
attempt("own nice", lambda: os.nice(2))
'"#,
            check: |o| {
                o.exactly(&[
                    "own policy 0",
                    "pid 1 policy Operation not permitted",
                    "user priority Operation not permitted",
                    "group priority Operation not permitted",
                    "fifo Operation not permitted",
                    "own nice 2",
                ])
            },
        },
        Case {
            name: "debian-make-parallel-jobs",
            covers: &["pselect6", "wait4", "clone", "execve", "kill"],
            script: ". /tests/lib.sh\nROOTFS=/debian\ndifferential /bin/bash /rvisor-tests/make.sh",
            check: |o| o.same_as_native(&["make: done", "failing make status 2"]),
        },
        Case {
            name: "clone-flags",
            covers: &["clone", "clone3", "wait4"],
            // Natively as a pid namespace's init, which a container's first process is: an
            // init may not make siblings (CLONE_PARENT).
            script: ". /tests/lib.sh\nnative_init native /tests/clone\ncontained contained /tests/clone",
            check: |o| {
                o.same_as_native(&[
                    "clone: done",
                    "clone3(fork): child reaped, status 0",
                    "posix_spawn of a missing program: ENOENT",
                    "after exec from a thread: same pid yes, tid is pid yes",
                    "exec from a thread: status 0x500",
                ])
            },
        },
        Case {
            name: "clone-threads-with-tls",
            covers: &["clone", "clone3", "set_tid_address"],
            script: ". /tests/lib.sh\ndifferential /tests/clone threads 200",
            check: |o| o.same_as_native(&["200 raw clone threads: ok", "200 pthreads: ok"]),
        },
        Case {
            name: "clone-namespaces-refused",
            covers: &["clone", "clone3"],
            script: "rvisor run --root /rootfs -- /tests/clone namespaces",
            check: |o| {
                o.exactly(&[
                    "clone(CLONE_NEWNS): EPERM",
                    "clone(CLONE_NEWPID): EPERM",
                    "clone(CLONE_NEWNET): EPERM",
                    "clone(CLONE_NEWUSER): EPERM",
                    "clone3(CLONE_NEWTIME): EPERM",
                    "clone3(set_tid 300): EPERM",
                    "clone3(set_tid 0): EINVAL",
                    "clone3(set_tid_size 40): EINVAL",
                ])
            },
        },
        Case {
            name: "capabilities",
            covers: &["capget", "capset", "setresuid"],
            script: ". /tests/lib.sh\ndifferential /tests/caps",
            check: |o| o.same_as_native(&["caps: done", "take it back: EPERM", "bad version: EINVAL"]),
        },
        Case {
            name: "job-control-stops-and-continues",
            covers: &["wait4", "waitid", "kill"],
            script: ". /tests/lib.sh\ndifferential /tests/jobs",
            check: |o| {
                o.same_as_native(&[
                    "jobs: done",
                    "waitpid WUNTRACED: stopped by STOP",
                    "waitpid WCONTINUED: continued",
                    "  woken: si_pid child, si_code 6, si_status 18",
                ])
            },
        },
        Case {
            name: "wait-statuses",
            covers: &["vfork", "wait4", "exit_group", "execve", "kill"],
            script: ". /tests/lib.sh\ndifferential /tests/wait",
            check: |o| {
                o.same_as_native(&[
                    "wait: done",
                    "vfork, exit 42: status 0x2a00",
                    "vfork, exec, killed: status 0xf",
                    "vfork, killed: status 0xa",
                ])
            },
        },
        Case {
            name: "rusage-of-children",
            covers: &["wait4", "waitid", "getrusage", "times"],
            script: ". /tests/lib.sh\ndifferential /tests/rusage",
            check: |o| {
                o.same_as_native(&[
                    "rusage: done",
                    "  its rusage: at least 50 ms",
                    "  its rusage, grandchild included: at least 100 ms",
                    "two more reaped: RUSAGE_CHILDREN at least, times cutime+cstime at least",
                ])
            },
        },
        Case {
            name: "escape-core-dump-to-host-directory",
            covers: &["setrlimit", "kill"],
            // The host would write a crashed process's core file in its working directory,
            // the host's: a contained process is never dumpable on the host.
            script: r#"mkdir -p /tmp/corecheck && cd /tmp/corecheck
rvisor run --root /rootfs -- /bin/sh -c 'ulimit -c unlimited; sh -c "kill -SEGV \$\$"; echo "child status $?"'
echo "files in the host directory: $(ls -A /tmp/corecheck | wc -l)"
cd / && rm -rf /tmp/corecheck"#,
            check: |o| {
                o.exactly(&[
                    "Segmentation fault",
                    "child status 139",
                    "files in the host directory: 0",
                ])
            },
        },
        Case {
            name: "pidfds",
            covers: &["pidfd_open", "pidfd_send_signal", "pidfd_getfd", "waitid", "clone", "clone3"],
            script: ". /tests/lib.sh\ndifferential /tests/pidfd",
            check: |o| {
                o.same_as_native(&[
                    "pidfd: done",
                    "once it ended: readable",
                    "waitid(P_PIDFD): si_code 2, si_status 9",
                    "  waited: si_code 1, si_status 5",
                ])
            },
        },
        Case {
            name: "epoll-eventfd-timerfd",
            covers: &[
                "epoll_create",
                "epoll_create1",
                "epoll_ctl",
                "epoll_wait",
                "epoll_pwait",
                "epoll_pwait2",
                "eventfd",
                "eventfd2",
                "timerfd_create",
                "timerfd_settime",
                "timerfd_gettime",
            ],
            script: ". /tests/lib.sh\ndifferential /tests/epoll",
            check: |o| {
                o.same_as_native(&[
                    "epoll: done",
                    "ADD outer to inner: ELOOP",
                    "oneshot re-armed: 1 [13 0x1]",
                    "pwait with SIGUSR1 unblocked: EINTR",
                    "read after 250 ms: 8, count >= 2: yes",
                    "four threads took 500 of 500",
                ])
            },
        },
        Case {
            name: "unix-sockets",
            covers: &[
                "socket",
                "socketpair",
                "bind",
                "listen",
                "accept",
                "accept4",
                "connect",
                "sendto",
                "recvfrom",
                "sendmsg",
                "recvmsg",
                "shutdown",
                "getsockname",
                "getpeername",
                "getsockopt",
                "setsockopt",
                "sendmmsg",
                "recvmmsg",
                "ioctl",
                "poll",
                "fstat",
            ],
            script: ". /tests/lib.sh\ndifferential /tests/unix",
            check: |o| {
                o.same_as_native(&[
                    "unix: done",
                    "stream: echo 4 \"back\"",
                    "server got 20 \"hello from the child\"",
                    "child: exit 0",
                    "read through it: 23 \"through the passed pipe\"",
                ])
            },
        },
        Case {
            name: "epoll-inherited-host-pipe",
            covers: &["epoll_ctl", "epoll_wait", "poll"],
            // The program's stdin is a host pipe (the guest shell's), its stdout a file: the
            // pipe gets its line only once the program waits, and hangs up once it was read.
            script: r#". /tests/lib.sh
feed() {
	rm -f $ROOTFS/tmp/stdinpoll.ready $ROOTFS/tmp/stdinpoll.read
	until [ -e $ROOTFS/tmp/stdinpoll.ready ]; do sleep 0.05; done
	echo hi
	until [ -e $ROOTFS/tmp/stdinpoll.read ]; do sleep 0.05; done
}
feed | chroot $ROOTFS /tests/stdinpoll >$SCRATCH.out 2>&1
side native $? $SCRATCH.out
feed | rvisor run --root $ROOTFS -- /tests/stdinpoll >$SCRATCH.out 2>&1
side contained $? $SCRATCH.out"#,
            check: |o| {
                o.same_as_native(&[
                    "stdinpoll: done",
                    "before any data: 0",
                    "woken by the line: 1 [7 0x1]",
                    "the writer hung up: 1 [7 0x10]",
                ])
            },
        },
        Case {
            name: "unix-sockets-isolated",
            covers: &["connect", "bind", "listen"],
            // Listeners of the host (outside the root, and a socket file inside it made by
            // the host) and of another container are out of reach: a symbolic link or `..`
            // resolves in the container's root, a host socket file has no rVisor listener,
            // and abstract names are each container's own.
            script: r#". /tests/lib.sh
rm -f /tmp/unix-outside.sock $ROOTFS/tmp/unix-inside.sock $ROOTFS/tmp/unix-link
/tests/unix listen /tmp/unix-outside.sock 8 >$SCRATCH.outside 2>&1 &
/tests/unix listen $ROOTFS/tmp/unix-inside.sock 8 >$SCRATCH.inside 2>&1 &
/tests/unix hold rvisor-host-name 8 >$SCRATCH.host 2>&1 &
wait_for listening $SCRATCH.outside && wait_for listening $SCRATCH.inside && wait_for holding $SCRATCH.host
ln -s /tmp/unix-outside.sock $ROOTFS/tmp/unix-link
echo "host reaches its own:"
/tests/unix connect /tmp/unix-outside.sock
echo "a container:"
rvisor run --root $ROOTFS -- /tests/unix connect /tmp/unix-link /../../tmp/unix-outside.sock /tmp/../../tmp/unix-outside.sock /tmp/unix-inside.sock
rvisor run --root $ROOTFS -- /tests/unix probe rvisor-host-name
rvisor run --root $ROOTFS -- /tests/unix hold rvisor-shared 8 >$SCRATCH.held 2>&1 &
wait_for holding $SCRATCH.held
echo "another container:"
rvisor run --root $ROOTFS -- /tests/unix probe rvisor-shared
echo "the host:"
/tests/unix probe rvisor-shared
rm -f $ROOTFS/tmp/unix-link
# Every listener and container of the case ends with it.
wait"#,
            check: |o| {
                o.exactly(&[
                    "host reaches its own:",
                    "connect /tmp/unix-outside.sock: 0",
                    "a container:",
                    "connect /tmp/unix-link: ENOENT",
                    "connect /../../tmp/unix-outside.sock: ENOENT",
                    "connect /tmp/../../tmp/unix-outside.sock: ENOENT",
                    "connect /tmp/unix-inside.sock: ECONNREFUSED",
                    "connect rvisor-host-name: ECONNREFUSED",
                    "bind rvisor-host-name: 0",
                    "another container:",
                    "connect rvisor-shared: ECONNREFUSED",
                    "bind rvisor-shared: 0",
                    "the host:",
                    "connect rvisor-shared: ECONNREFUSED",
                    "bind rvisor-shared: 0",
                ])
            },
        },
        Case {
            name: "signalfd",
            covers: &["signalfd", "signalfd4"],
            script: ". /tests/lib.sh\ndifferential /tests/signalfd",
            check: |o| {
                o.same_as_native(&[
                    "signalfd: done",
                    "after kill: 128 [10 code 0 from it]",
                    "blocking read, the child's signal: 128 [10 code 0 from it]",
                    "child reads its own: 128 [12 code 0 from it]",
                ])
            },
        },
        Case {
            name: "memfd-seals",
            covers: &["memfd_create", "fcntl", "mmap", "ftruncate"],
            // memfd_create's flags and names, the file it makes (fstat, F_GETFL, its
            // /proc/self/fd link), MAP_SHARED across fork and through a reopen of
            // /proc/self/fd/N, and each seal's effect and errnos; the seals are the host
            // shmem's own. Compared with the same program run natively in the guest (MFD_EXEC
            // and MFD_NOEXEC_SEAL answer as the running kernel does).
            script: ". /tests/lib.sh\ndifferential /tests/memfd",
            check: |o| {
                o.same_as_native(&[
                    "memfd: done",
                    "after the child wrote the mapping: child!, file says child!",
                    "first mapping sees: HELLO, memfd",
                    "F_SEAL_WRITE while mapped shared writable: EBUSY",
                    "seals: 15",
                ])
            },
        },
        Case {
            name: "inotify",
            covers: &[
                "inotify_init",
                "inotify_init1",
                "inotify_add_watch",
                "inotify_rm_watch",
            ],
            // The native run reads /proc/self/fdinfo: the host's procfs inside the root (the
            // contained one reads rVisor's, which is mounted over it).
            script: ". /tests/lib.sh\nmount -t proc proc /rootfs/proc\ndifferential /tests/inotify\numount /rootfs/proc",
            check: |o| {
                o.same_as_native(&[
                    "inotify: done",
                    "  wd 1 CREATE 'a' (len 16)",
                    "  wd 1 MOVED_TO 'b' (len 16) same cookie",
                    "fdinfo: 8 fields, wd 1 mask fff ignored 0 ino of /tmp/inotify-test, sdev same handle 12 bytes type 1 (24 digits)",
                    "poll: 1 revents 0x1",
                    "FIONREAD: 0 32",
                    "blocking instance watch: 10",
                    "blocking read: 32",
                    "blocking read, a signal: EINTR, alarms 1",
                    "events 16385, overflows 1, last wd -1 mask 0x4000",
                    "more instances: 127, then EMFILE",
                ])
            },
        },
        Case {
            name: "splice-from-host-pipe",
            covers: &["splice"],
            // Standard input a pipe of the host's (`echo … | rvisor run …`): a pipe to splice,
            // through to an rVisor pipe and to the output file; the same program run natively
            // with the same pipe.
            script: r#". /tests/lib.sh
printf '0123456789 rest\n' | chroot $ROOTFS /tests/splice stdin >$SCRATCH.out 2>&1
side native $? $SCRATCH.out
printf '0123456789 rest\n' | rvisor run --root $ROOTFS -- /tests/splice stdin >$SCRATCH.out 2>&1
side contained $? $SCRATCH.out"#,
            check: |o| {
                o.same_as_native(&[
                    "splice from stdin: done",
                    "offset on the stdin pipe: ESPIPE",
                    "read back: 01234",
                    "stdin to the output file: 56789 rest",
                ])
            },
        },
        Case {
            name: "splice-tee-vmsplice",
            covers: &["splice", "tee", "vmsplice"],
            // Pipe to pipe, file and socket to pipe and back, offsets, partial counts, the
            // non-blocking forms, waits ended by data, a closing writer and a signal, and the
            // errnos; compared with the same program run natively in the guest.
            script: ". /tests/lib.sh\ndifferential /tests/splice",
            check: |o| {
                o.same_as_native(&[
                    "splice: done",
                    "b after splices: 11 \"hello world\"",
                    "positions: src 65536 dst 65541",
                    "splice waited for: 4",
                    "tee interrupted: EINTR alarms 1",
                ])
            },
        },
        Case {
            name: "inotify-host-and-unload",
            covers: &["inotify_init", "inotify_add_watch"],
            script: r#". /tests/lib.sh
mkdir -p /rootfs/tmp/inotify-host /rootfs/tmp/inotify-hold
: > /rootfs/tmp/inotify-hold/f
rvisor run --root /rootfs -- /tests/inotify host-watch >/tmp/inotify-host.out 2>&1 &
wait_for watching /tmp/inotify-host.out
echo data > /rootfs/tmp/inotify-host/from-host
wait
cat /tmp/inotify-host.out
rvisor run --root /rootfs -- /tests/inotify hold
rm -rf /rootfs/tmp/inotify-host /rootfs/tmp/inotify-hold
# A container goes once its last task's exit work ran (closing an instance waits for its
# marks to be freed): on a busy machine that may be a moment after `rvisor run` returned.
tries=100
while [ "$(containers)" -gt 0 ] && [ $tries -gt 0 ]; do sleep 0.1; tries=$((tries - 1)); done
echo "containers left: $(containers)"
[ "$(containers)" -gt 0 ] && rvisor ps
rmmod rvisor; echo "rmmod: $?"
insmod /rvisor.ko; echo "reload: $?""#,
            check: |o| {
                o.exactly(&[
                    "watch: 1",
                    "watching",
                    "read: 32",
                    "  wd 1 CREATE 'from-host' (len 16)",
                    "watch dir: 1",
                    "watch file: 2",
                    "containers left: 0",
                    "rmmod: 0",
                    "reload: 0",
                ])
            },
        },
        Case {
            name: "record-locks",
            covers: &["fcntl"],
            script: ". /tests/lib.sh\ndifferential /tests/locks",
            check: |o| {
                o.same_as_native(&[
                    "locks: done",
                    "child WRLCK [15,20): EAGAIN",
                    "child GETLK WRLCK [0,EOF): 0 WRLCK start 10 len 10 whence 0 pid parent",
                    "child GETLK end-95 len 10: 0 WRLCK start 10 len 10 whence 0 pid parent",
                    "child saw the parent's last write: yes",
                    "parent GETLK while the child holds all: 0 WRLCK start 0 len 0 whence 0 pid child",
                    "parent SETLK [0,1) after the child's exit: 0",
                    "child SETLKW interrupted: EINTR",
                    "child SETLKW across an SA_RESTART handler: 0",
                    "child's handler ran: yes",
                    "deadlock: EDEADLK for exactly one side: yes (child EDEADLK)",
                    "after closing another descriptor: 0 UNLCK",
                    "classic WRLCK [55,56) by the same process: EAGAIN",
                    "OFD lock seen by another process: 0 WRLCK start 50 len 10 whence 0 pid -1",
                    "OFD lock after the child closed its copy: 0 WRLCK start 50 len 10 whence 0 pid -1",
                    "OFD lock after the last close: 0 UNLCK",
                    "before exec: 0 WRLCK start 80 len 10 whence 0 pid parent",
                    "after exec closed a close-on-exec descriptor: 0 UNLCK",
                ])
            },
        },
        Case {
            name: "sysv-semaphores",
            covers: &["semget", "semop", "semctl", "semtimedop"],
            script: ". /tests/lib.sh\nnative_ipc native /tests/sysvsem\ncontained contained /tests/sysvsem",
            check: |o| {
                o.same_as_native(&[
                    "sysvsem: done",
                    "semget create: 0",
                    "semop both or none: EAGAIN sem1 2",
                    "GETNCNT with a waiter: 1",
                    "child: took 2: 0",
                    "after the undoing child: sem1 2 GETPID is child: yes",
                    "undo after SETVAL cleared it: sem1 7",
                    "semop interrupted: EINTR",
                    "semtimedop timeout: EAGAIN",
                    "user: GETVAL: EACCES",
                    "user: IPC_RMID: EPERM",
                    "child: waiting on a removed set: EIDRM",
                ])
            },
        },
        Case {
            name: "sysv-message-queues",
            covers: &["msgget", "msgsnd", "msgrcv", "msgctl"],
            script: ". /tests/lib.sh\nnative_ipc native /tests/sysvmsg\ncontained contained /tests/sysvmsg",
            check: |o| {
                o.same_as_native(&[
                    "sysvmsg: done",
                    "msgget create: 0",
                    "type -4: 3 type 1 text 'one'",
                    "except 3: 4 type 5 text 'five'",
                    "child: sent after waiting: 0",
                    "child: woken: 6 type 9 text 'for it'",
                    "interrupted: EINTR",
                    "IPC_SET past MSGMNB as root: 0",
                    "user: msgsnd to 0622: 0",
                    "child: waiting on a removed queue: EIDRM",
                ])
            },
        },
        Case {
            name: "sysv-shared-memory",
            covers: &["shmget", "shmat", "shmdt", "shmctl"],
            script: ". /tests/lib.sh\nnative_ipc native /tests/sysvshm\ncontained contained /tests/sysvshm",
            check: |o| {
                o.same_as_native(&[
                    "sysvshm: done",
                    "shmget create: 0",
                    "parent reads 'written by the child'",
                    "nattch with the child: 2",
                    "exec'd: reads 'written by the child' nattch 2",
                    "parent reads 'written by the exec'd process' nattch 1",
                    "writing a read-only attachment: killed by SEGV",
                    "a hole splits the attachment: nattch 1 more",
                    "shmdt around a mapping: 0 the mapping kept 'Z' nattch back yes",
                    "IPC_STAT removed: key 0 mode 1644 nattch 1",
                    "IPC_STAT after the last detach: EINVAL",
                    "nattch after an attached child's exit: 0",
                ])
            },
        },
        Case {
            name: "posix-message-queues",
            covers: &[
                "mq_open",
                "mq_unlink",
                "mq_timedsend",
                "mq_timedreceive",
                "mq_notify",
                "mq_getsetattr",
            ],
            script: ". /tests/lib.sh\nnative_ipc native /tests/posixmq\ncontained contained /tests/posixmq",
            check: |o| {
                o.same_as_native(&[
                    "posixmq: done",
                    "first: 1 'b' prio 5",
                    "timed receive: ETIMEDOUT",
                    "full nonblocking: EAGAIN",
                    "child: woken sender: 0",
                    "epoll_wait: 1 data 7 IN yes",
                    "child: woken receiver: 13 'for the child' prio 4",
                    "notified 1 code SI_MESGQ yes value 42 pid is the child yes",
                    "child: notify: EBUSY",
                ])
            },
        },
        Case {
            // Four processes contend for a SysV semaphore guarding a counter in a SysV
            // segment and pass tokens through a SysV queue: exact totals on every CPU count.
            name: "sysv-ipc-contention",
            covers: &["semop", "shmat", "msgsnd", "msgrcv"],
            script: ". /tests/lib.sh\nnative_ipc native /tests/sysvstress\ncontained contained /tests/sysvstress",
            check: |o| {
                o.same_as_native(&[
                    "sysvstress: done",
                    "workers failed: 0",
                    "counter: 4000",
                    "tokens: 100 100 100 100",
                    "semaphore: 1 nattch left: 1",
                ])
            },
        },
        Case {
            // One key in two containers and on the host: three objects that never meet.
            name: "sysv-ipc-isolated",
            covers: &["semget", "msgget", "semctl", "msgctl", "mq_open"],
            script: r#". /tests/lib.sh
mkfifo "$SCRATCH.in"
rvisor run --root /rootfs -- /tests/sysvkey hold <"$SCRATCH.in" >"$SCRATCH.hold" 2>&1 &
exec 3>"$SCRATCH.in"
wait_for holding "$SCRATCH.hold"
echo "another container:"
rvisor run --root /rootfs -- /tests/sysvkey probe
echo "the host:"
chroot /rootfs /tests/sysvkey probe
exec 3>&-
wait
cat "$SCRATCH.hold""#,
            check: |o| {
                o.exactly(&[
                    "another container:",
                    "probe: semget ENOENT msgget ENOENT mq_open ENOENT",
                    "probe: own semget 0 own msgget 0 GETVAL 0",
                    "the host:",
                    "probe: semget ENOENT msgget ENOENT mq_open ENOENT",
                    "probe: own semget 0 own msgget 0 GETVAL 0",
                    "hold: semget 0 msgget 0 SETVAL 0 mq_open 0",
                    "holding",
                    "hold: value still 42",
                ])
            },
        },
        Case {
            // A host process and a contained one lock the same file: each sees the other's
            // lock; the container sees the host's holder as pid 0 (outside its pids).
            name: "record-locks-host",
            covers: &["fcntl"],
            script: r#". /tests/lib.sh
rm -f /rootfs/tmp/locks-shared.dat
chroot /rootfs /tests/locks hold > /tmp/hold-host.out 2>&1 &
wait_for holding /tmp/hold-host.out
echo "container probes the host's lock:"
rvisor run --root /rootfs -- /tests/locks probe
wait
rvisor run --root /rootfs -- /tests/locks hold > /tmp/hold-cont.out 2>&1 &
wait_for holding /tmp/hold-cont.out
echo "host probes the container's lock:"
chroot /rootfs /tests/locks probe
wait
echo "after both: $(chroot /rootfs /tests/locks probe | head -1)""#,
            check: |o| {
                o.exactly(&[
                    "container probes the host's lock:",
                    "probe SETLK: EAGAIN",
                    "probe GETLK: 0 WRLCK start 0 len 10 pid 0",
                    "host probes the container's lock:",
                    "probe SETLK: EAGAIN",
                    "probe GETLK: 0 WRLCK start 0 len 10 pid host",
                    "after both: probe SETLK: 0",
                ])
            },
        },
        Case {
            name: "debian-sqlite-two-writers",
            covers: &["fcntl"],
            script: ". /tests/lib.sh\nROOTFS=/debian\ndifferential /bin/sh /rvisor-tests/sqlite-writers.sh",
            check: |o| {
                o.same_as_native(&[
                    "sqlite writers: done",
                    "rows 200",
                    "per writer 100 100",
                    "integrity ok",
                ])
            },
        },
        Case {
            name: "debian-python3-epoll",
            covers: &["epoll_create1", "epoll_ctl", "epoll_wait", "eventfd2"],
            script: ". /tests/lib.sh\nROOTFS=/debian\ndifferential /usr/bin/python3 /rvisor-tests/epoll.py",
            check: |o| o.same_as_native(&["python epoll: done", "woken ['pipe']"]),
        },
        Case {
            name: "debian-python3-memfd-splice",
            covers: &["memfd_create", "splice", "fcntl"],
            // Debian's python3: os.memfd_create, a shared mmap written by a forked child, the
            // seal fcntls, os.splice from a memfd at an offset and into one.
            script: ". /tests/lib.sh\nROOTFS=/debian\ndifferential /usr/bin/python3 /rvisor-tests/memfd_splice.py",
            check: |o| {
                o.same_as_native(&[
                    "python memfd splice: done",
                    "the file reads b'hello child'",
                    "through the pipe: b'child'",
                ])
            },
        },
        Case {
            name: "unnamed-files",
            covers: &["openat", "linkat", "fstat"],
            script: ". /tests/lib.sh\ndifferential /tests/tmpfile",
            check: |o| {
                o.same_as_native(&[
                    "tmpfile: done",
                    "unnamed: links 0, mode 640, size 7",
                    "read by its name: 7 \"unnamed\"",
                ])
            },
        },
        Case {
            name: "orphans-reparented-to-init",
            covers: &["clone", "wait4", "getppid", "exit_group"],
            script: ". /tests/lib.sh\nnative_init native /tests/orphan\ncontained contained /tests/orphan",
            check: |o| {
                o.same_as_native(&[
                    "init is pid 1: yes",
                    "orphan's parent is pid 1: yes",
                    "init reaped the orphan: yes, status 5",
                    "then no child left: ECHILD",
                ])
            },
        },
        Case {
            name: "init-signals",
            covers: &["kill"],
            // Natively the shell is pid 1 of a new pid namespace: what Linux does to an init
            // signalled from inside is the expected output.
            script: r#". /tests/lib.sh
script='trap "echo init got USR1" USR1
sh -c "kill -USR1 1; echo usr1 sent \$?"
sh -c "kill -TERM 1; echo term sent \$?"
sh -c "kill -KILL 1; echo kill sent \$?"
sh -c "sleep 5 & sleep 5 & kill -KILL -1; wait; echo all but init and me killed"
echo init alive'
native_init native /bin/sh -c "$script"
contained contained /bin/sh -c "$script""#,
            check: |o| {
                o.same_as_native(&[
                    "usr1 sent 0",
                    "init got USR1",
                    "term sent 0",
                    "kill sent 0",
                    "all but init and me killed",
                    "init alive",
                ])
            },
        },
        Case {
            name: "dynamic-dash",
            covers: &["execve", "openat", "read", "mmap", "mprotect", "write"],
            script: ". /tests/lib.sh\ndifferential /bin/dash -c 'echo dash $((6*7))'",
            check: |o| o.same_as_native(&["dash 42"]),
        },
        Case {
            name: "inet-loopback",
            covers: &[
                "socket", "bind", "listen", "connect", "accept", "accept4", "getsockname",
                "getpeername", "setsockopt", "getsockopt", "sendto", "recvfrom", "sendmsg",
                "recvmsg", "sendmmsg", "recvmmsg", "shutdown", "readv", "writev", "poll",
                "ioctl", "fstat", "sendfile",
            ],
            // Natively in the guest's namespace (loopback brought up here); contained in the
            // container's own (`--net none`, loopback up), so the two never meet.
            script: ". /tests/lib.sh\nip link set lo up\ndifferential /tests/inet",
            check: |o| {
                o.same_as_native(&[
                    "inet: done",
                    "accepted: cloexec yes, nonblock yes, peer 127.0.0.1, len 16",
                    "child recv: 5 \"HELLO\"",
                    "poll after peer's SHUT_WR: 1 revents POLLIN POLLRDHUP",
                    "nonblocking connect: EINPROGRESS",
                    "connect to a closed port: ECONNREFUSED",
                    "received: 11 \"from a file\"",
                    "recvmmsg: 3",
                    "ipv6 read: 3 \"six\"",
                    "recv, handler without SA_RESTART: EINTR",
                    "recv, handler with SA_RESTART: 1",
                    "recv with SO_RCVTIMEO, handler with SA_RESTART: EINTR",
                    "read with SO_RCVTIMEO, handler with SA_RESTART: EINTR",
                ])
            },
        },
        Case {
            name: "inet-refusals",
            covers: &["socket"],
            // Natively root may open raw and packet sockets: not compared with native.
            script: "rvisor run --root /rootfs -- /tests/inet refusals",
            check: |o| {
                o.exactly(&[
                    "AF_INET SOCK_RAW: EPERM",
                    "AF_INET6 SOCK_RAW: EPERM",
                    "AF_PACKET: EPERM",
                    "AF_NETLINK NETLINK_AUDIT: EPROTONOSUPPORT",
                    "AF_BLUETOOTH: EAFNOSUPPORT",
                    "family 200: EAFNOSUPPORT",
                    "type 42: EINVAL",
                    "bad flag: EINVAL",
                    "AF_NETLINK NETLINK_ROUTE: ok",
                    "netlink send to a group: EPERM",
                    "netlink connect to a group: EPERM",
                    "netlink send to the kernel: 20",
                ])
            },
        },
        Case {
            name: "net-isolation",
            covers: &["connect"],
            // A listener in the guest's own namespace: a default container (`--net none`)
            // has its own loopback and no route anywhere; `--net host` shares the guest's.
            script: r#"ip link set lo up
/tests/inet listen 7070 >/tmp/listener.out &
tries=50
until grep -q listening /tmp/listener.out 2>/dev/null || [ $tries -le 0 ]; do tries=$((tries - 1)); sleep 0.1; done
rvisor run --root /rootfs -- /tests/inet connect 127.0.0.1 7070
rvisor run --root /rootfs --net none -- /tests/inet connect 10.9.9.9 7070
rvisor run --root /rootfs --net host -- /tests/inet connect 127.0.0.1 7070
wait
rvisor run --root /rootfs --net ns:/proc/1/ns/net -- /tests/inet connect 127.0.0.1 7070
rvisor run --root /rootfs --net bogus -- true; echo "bad --net: $?"
"#,
            check: |o| {
                o.exactly(&[
                    "connect 127.0.0.1: ECONNREFUSED",
                    "connect 10.9.9.9: ENETUNREACH",
                    "connect 127.0.0.1: 0",
                    "reply: hi",
                    "connect 127.0.0.1: ECONNREFUSED",
                    "rvisor: --net takes none, host or ns:PATH, not `bogus`",
                    "bad --net: 125",
                ])
            },
        },
        Case {
            name: "servers-reached-from-outside",
            covers: &["accept4", "epoll_wait", "sendfile"],
            // Clients on the guest's own side (Debian's wget and redis tools run under a
            // plain chroot, in the guest's network namespace) reach servers in containers:
            // nginx and redis through published ports (`-p`), python's http.server with
            // `--net host`; an unpublished port of a container is not reachable.
            script: r#". /tests/lib.sh
ip link set lo up
fetch() {
	for i in $(seq 1 150); do
		out=$(chroot /debian wget -T 5 -qO- "$1" 2>/dev/null) && { echo "$out"; return; }
		sleep 0.2
	done
	echo "no answer from $1"
}
rvisor run -p 8080:8080 -p 127.0.0.1:8090:8090 --root /debian -- /bin/sh -c '
mkdir -p /tmp/www; echo served-by-nginx > /tmp/www/index.html
head -c 300000 /dev/urandom > /tmp/www/big
sha256sum /tmp/www/big > /tmp/big.sum
printf "daemon off; worker_processes 2; pid /tmp/nginx.pid; error_log /tmp/e.log; events {} http { access_log off; server { listen 8080; root /tmp/www; } }" > /tmp/ng.conf
exec nginx -c /tmp/ng.conf -p /tmp' &
ng=$!
fetch http://127.0.0.1:8080/index.html
chroot /debian wget -T 10 -qO /tmp/big.got http://127.0.0.1:8080/big
[ "$(chroot /debian sha256sum /tmp/big.got | cut -d" " -f1)" = "$(cut -d" " -f1 /debian/tmp/big.sum)" ] && echo "300000 bytes: same sha256"
chroot /debian wget -t 1 -T 5 -qO- http://127.0.0.1:8090/ >/dev/null 2>&1 || echo "published but not listening: refused"
chroot /debian wget -t 1 -T 5 -qO- http://127.0.0.1:8081/ >/dev/null 2>&1 || echo "not published: refused"
kill $(children_of $ng); wait $ng; echo "nginx: $?"
rvisor run --net host --root /debian -- python3 -m http.server 8001 --bind 127.0.0.1 --directory /etc >/dev/null 2>&1 &
py=$!
[ "$(fetch http://127.0.0.1:8001/debian_version)" = "$(cat /debian/etc/debian_version)" ] && echo "python http.server: debian_version"
kill $(children_of $py); wait $py
rvisor run -p 6390:6379 --root /debian -- redis-server --save "" --appendonly no >/dev/null &
rd=$!
for i in $(seq 1 100); do chroot /debian redis-cli -p 6390 ping 2>/dev/null | grep -q PONG && break; sleep 0.2; done
chroot /debian redis-benchmark -p 6390 -q -n 2000 -t set,get 2>&1 | tr -s "\r" "\n" | grep "requests per second" | cut -d: -f1 | tr -d " "
chroot /debian redis-cli -p 6390 shutdown nosave 2>&1; wait $rd; echo "redis: $?"
rvisor run -p 8080:80 --net host --root /rootfs -- true 2>&1; echo "publish with --net host: $?"
rvisor run -p 80 --root /rootfs -- true 2>&1; echo "bad publish: $?""#,
            check: |o| {
                o.exactly(&[
                    "served-by-nginx",
                    "300000 bytes: same sha256",
                    "published but not listening: refused",
                    "not published: refused",
                    "nginx: 0",
                    "python http.server: debian_version",
                    "SET",
                    "GET",
                    "redis: 0",
                    "rvisor: --publish relays into a network namespace of the container's: with \
                     --net host its servers are on the host's ports already",
                    "publish with --net host: 125",
                    "rvisor: --publish takes [IP:]HOST_PORT:CONTAINER_PORT[/tcp], not `80` (e.g. \
                     -p 8080:80)",
                    "bad publish: 125",
                ])
            },
        },
        Case {
            name: "debian-netlink-route",
            covers: &["socket", "bind", "sendmsg", "recvmsg", "getsockname", "setsockopt"],
            // iproute2 and glibc's if_nameindex read the container's interfaces through
            // NETLINK_ROUTE; natively the same in a new network namespace with lo up.
            script: r#". /tests/lib.sh
cmd='ip link set lo up 2>/dev/null; ip -o addr; ip -o link; ip route; ip -6 route; python3 -c "import socket; print(socket.if_nameindex())"'
unshare -n chroot /debian sh -c "$cmd" >/tmp/netlink.out 2>&1
side native $? /tmp/netlink.out
rvisor run --root /debian -- sh -c "$cmd" >/tmp/netlink.out 2>&1
side contained $? /tmp/netlink.out
"#,
            check: |o| o.same_as_native(&["[(1, 'lo')]"]),
        },
        Case {
            name: "debian-netlink-writes-refused",
            covers: &["sendmsg"],
            // A container may read its network's configuration, never change it; natively
            // root may, so this is not compared with native.
            script: r#"rvisor run --root /debian -- sh -c 'ip link set lo down; echo "link set: $?"; ip addr add 10.1.1.1/8 dev lo; echo "addr add: $?"; ip route add 10.0.0.0/8 dev lo; echo "route add: $?"; ip -o -4 addr | wc -l; ip -o link show up | wc -l' 2>&1"#,
            check: |o| {
                // What iproute2 prints for a caller without CAP_NET_ADMIN: the host's own
                // answer to each request.
                o.exactly(&[
                    "RTNETLINK answers: Operation not permitted",
                    "link set: 2",
                    "RTNETLINK answers: Operation not permitted",
                    "addr add: 2",
                    "RTNETLINK answers: Operation not permitted",
                    "route add: 2",
                    "1",
                    "1",
                ])
            },
        },
        Case {
            name: "debian-http-server",
            covers: &["socket", "bind", "listen", "accept4", "connect", "poll", "sendto"],
            // A server and its client in one container, over the container's loopback.
            script: r#"rvisor run --root /debian -- sh -c 'cd /etc && python3 -m http.server 8000 --bind 127.0.0.1 >/dev/null 2>&1 &
for i in $(seq 1 100); do wget -q -O /tmp/got http://127.0.0.1:8000/os-release && break; sleep 0.2; done
cmp /tmp/got /etc/os-release && echo "wget: same bytes"
python3 -c "
import socket
s = socket.create_connection((\"127.0.0.1\", 8000))
s.sendall(b\"HEAD /hostname HTTP/1.0\r\n\r\n\")
print(s.makefile(\"rb\").readline().split()[1].decode())
"'"#,
            check: |o| o.exactly(&["wget: same bytes", "200"]),
        },
        Case {
            name: "debian-redis",
            covers: &["socket", "accept4", "epoll_wait", "read", "write", "setsockopt"],
            // The issue's bar: a server that multiplexes its clients with epoll, and its
            // benchmark, in one container over its loopback.
            script: r#"rvisor run --root /debian -- sh -c 'redis-server --daemonize yes --save "" --appendonly no >/dev/null
for i in $(seq 1 100); do redis-cli ping 2>/dev/null | grep -q PONG && break; sleep 0.2; done
redis-benchmark -q -n 2000 -t set,get 2>&1 | tr -s "\r" "\n" | grep "requests per second" | cut -d: -f1 | tr -d " "
redis-cli set answer 42 >/dev/null; redis-cli --raw get answer
redis-cli shutdown nosave 2>&1'"#,
            check: |o| o.exactly(&["SET", "GET", "42"]),
        },
    ]
}

fn signal_ended(o: &Outcome, status: i32) -> Result<(), String> {
    let expected = format!("rvisor run status {status}");
    o.exactly(&["cat state S", &expected, "containers left 0", "ready"])
}

fn blocked_calls_idle(o: &Outcome) -> Result<(), String> {
    o.status_is(0)?;
    for who in ["parent", "child"] {
        let line = o
            .lines()
            .into_iter()
            .find(|l| l.starts_with(&format!("{who} state ")))
            .ok_or_else(|| format!("no {who} sample in:\n{}", o.output))?;
        let words: Vec<&str> = line.split_whitespace().collect();
        let ticks: Option<u64> = words.get(4).and_then(|t| t.parse().ok());
        match (words.get(2), ticks) {
            (Some(&"S"), Some(t)) if t <= 2 => {}
            _ => {
                return Err(format!(
                    "the blocked {who} was not asleep and idle (`{line}`; want state S and at most 2 ticks):\n{}",
                    o.output
                ))
            }
        }
    }
    for line in [
        "child: read 5 bytes",
        "parent: child exited 0",
        "block: done",
        "status 0",
    ] {
        o.has_line(line)?;
    }
    Ok(())
}

/// The contained shell printed its virtual ids (1, parent 0, its child 2 with parent 1), and no
/// number it printed is the pid of a host task other than those small ones.
fn host_pids_hidden(o: &Outcome) -> Result<(), String> {
    o.status_is(0)?;
    let host: Vec<u32> = ["host pids before:", "host pids during:"]
        .iter()
        .flat_map(|key| {
            o.lines()
                .into_iter()
                .filter_map(move |l| l.strip_prefix(key))
                .flat_map(|rest| rest.split_whitespace().filter_map(|p| p.parse().ok()))
                .collect::<Vec<u32>>()
        })
        .collect();
    let shell: Option<u32> = o
        .lines()
        .into_iter()
        .find_map(|l| l.strip_prefix("contained shell on the host: "))
        .and_then(|p| p.trim().parse().ok());
    match shell {
        Some(pid) if pid > 2 && host.contains(&pid) => {}
        _ => {
            return Err(format!(
                "the contained shell's host pid was not found among the host's:\n{}",
                o.output
            ))
        }
    }
    let sides = o.sides()?;
    let contained = sides
        .iter()
        .find(|s| s.name == "contained")
        .ok_or_else(|| format!("no contained run in:\n{}", o.output))?;
    let leaked: Vec<u32> = contained
        .output
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .filter(|n| *n > 2 && host.contains(n))
        .collect();
    if !leaked.is_empty() {
        return Err(format!(
            "host pids {leaked:?} show inside the container:\n{}",
            contained.output
        ));
    }
    let got: Vec<&str> = contained.output.lines().collect();
    let want = ["pid 1", "ppid 0", "child 2 1", "probes printed", "released"];
    if got != want || contained.status != 0 {
        return Err(format!(
            "expected the virtual ids {want:?} and status 0, got status {}:\n{}",
            contained.status, contained.output
        ));
    }
    Ok(())
}
