//! Cases of the OCI runtime commands (`rvisor create/start/state/kill/delete/run/list/ps/exec`, as
//! engines call them): a bundle made in the guest from `rvisor spec`, edited with sed, its
//! root the busybox `/rootfs` (or the Debian root), and the programs it runs written into a
//! directory of the bundle that config.json binds on `/data`.

use crate::Case;

/// The helpers the OCI cases' scripts start with: `bundle DIR ROOT SCRIPT [AT]` makes a
/// bundle whose process runs `sh AT/SCRIPT` with no terminal, `DIR/data` bound read-only on
/// `AT` (default `/data`, a directory of the busybox root; the case writes the script there),
/// and `stopped ID` waits (up to 20 s) until `rvisor state` says `stopped`.
macro_rules! oci_script {
    ($body:literal) => {
        concat!(
            r#". /tests/lib.sh
bundle() {
	_at=${4:-/data}
	rm -rf "$1"; mkdir -p "$1/data"; cd "$1" || exit 1
	rvisor spec
	ln -s "$2" rootfs
	sed -i -e 's/"terminal": true/"terminal": false/' \
		-e "s|^      \"sh\"\$|      \"sh\", \"$_at/$3\"|" \
		-e "s|\"mounts\": \\[|\"mounts\": [ { \"destination\": \"$_at\", \"type\": \"bind\", \"source\": \"data\", \"options\": [\"rbind\", \"ro\"] },|" \
		config.json
}
stopped() {
	_tries=200
	until rvisor state "$1" | grep -q '"status": "stopped"'; do
		_tries=$((_tries - 1))
		if [ $_tries -le 0 ]; then echo "$1 did not stop"; return 1; fi
		sleep 0.1
	done
}
before=$(containers)
"#,
            $body
        )
    };
}

/// Every OCI case.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "oci-create-start-state-delete",
            covers: &[],
            // runc's lifecycle: `create` leaves the first process joined and waiting (its
            // pid in `state` and the pid file; on the host it holds its stdio and the device,
            // not the other descriptors `create` had), `start` lets the program run, `state` says
            // stopped once it ended, `delete` forgets it. config.json's user (uid, gid,
            // additional gids, umask), rlimits, cwd, env, hostname, read-only root, a
            // read-only bind mount and a sized tmpfs are honoured.
            script: oci_script!(
                r#"B=/tmp/oci-lifecycle
bundle $B /rootfs show.sh
cat > data/show.sh <<'EOF'
echo "$GREETING from $(hostname), pid $$"
id -u; id -g; id -G
pwd; umask; ulimit -n
cat /data/f
awk '$2 == "/" { split($4, o, ","); print "/", o[1] }' /proc/mounts
(touch /data/g) 2>&1 | sed 's/.*: //'
stat -f -c '%b blocks of %S bytes' /tmp
EOF
echo from-the-host > data/f
chmod 1777 data
sed -i -e 's/"uid": 0/"uid": 1000/' \
	-e 's/"gid": 0/"gid": 1000, "additionalGids": [5, 6], "umask": 63/' \
	-e 's|"cwd": "/"|"cwd": "/tmp"|' -e 's/"hostname": "rvisor"/"hostname": "oci-box"/' \
	-e 's/"TERM=xterm"/"TERM=xterm", "GREETING=hello"/' \
	-e 's/"hard": 1024/"hard": 512/' -e 's/"soft": 1024/"soft": 512/' \
	-e 's/"ociVersion": "1.0.2",/"ociVersion": "1.0.2", "annotations": { "org.example.key": "value" },/' \
	-e 's|"mounts": \[|"mounts": [ { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=1777", "nosuid"] },|' \
	config.json
rvisor create --bundle $B --pid-file $B/pid c1 >$B/out 2>&1 7>$B/extra; echo "create $?"
rvisor state c1 >$B/state; echo "state $?"
grep -E '"(ociVersion|id|status|bundle)"' $B/state
grep -o '"org.example.key": "value"' $B/state
pid=$(cat $B/pid)
awk '$1 == "NoNewPrivs:" { print $1, $2 }' /proc/$pid/status
echo "host descriptors: $(ls /proc/$pid/fd | wc -l), $(for f in /proc/$pid/fd/*; do readlink $f; done | sort -u | tr '\n' ' ')"
grep -q "\"pid\": $pid," $B/state && echo "state shows the pid file's pid"
test -d /proc/$pid && echo "the first process waits"
rvisor list | awk 'NR > 1 { print $1, $3, $4 }'
test "$(rvisor ps --format json c1)" = "[$pid]" && echo "ps: [pid]"
echo "output before start: $(wc -c <$B/out)"
rvisor start c1; echo "start $?"
stopped c1
rvisor start c1 2>&1 | grep -o 'it has stopped'
rvisor state c1 | grep -E '"(pid|status)"'
cat $B/out
rvisor delete c1; echo "delete $?"
test -e /run/rvisor/c1 || echo "state directory removed"
echo "containers left $(($(containers) - before))"
rvisor --debug --log $B/debug.log create --bundle $B c2 >/dev/null 2>&1; pid=$(rvisor state c2 | sed -n 's/.*"pid": \([0-9]*\),/\1/p')
rvisor delete c2; echo "delete created $?"
grep -o 'level=debug msg="container c2 created: first process pid' $B/debug.log
test -d /proc/$pid && grep -q '^State:.*Z' /proc/$pid/status 2>/dev/null || test ! -d /proc/$pid && echo "its first process is gone"
echo "containers left $(($(containers) - before))""#
            ),
            check: |o| {
                o.exactly(&[
                    "create 0",
                    "state 0",
                    r#"  "ociVersion": "1.0.2","#,
                    r#"  "id": "c1","#,
                    r#"  "status": "created","#,
                    r#"  "bundle": "/tmp/oci-lifecycle","#,
                    r#""org.example.key": "value""#,
                    "NoNewPrivs: 1",
                    "host descriptors: 4, /dev/null /dev/rvisor /tmp/oci-lifecycle/out ",
                    "state shows the pid file's pid",
                    "the first process waits",
                    "c1 created /tmp/oci-lifecycle",
                    "ps: [pid]",
                    "output before start: 0",
                    "start 0",
                    "it has stopped",
                    r#"  "pid": 0,"#,
                    r#"  "status": "stopped","#,
                    "hello from oci-box, pid 1",
                    "1000",
                    "1000",
                    "1000 5 6",
                    "/tmp",
                    "0077",
                    "512",
                    "from-the-host",
                    "/ ro",
                    "Read-only file system",
                    "256 blocks of 4096 bytes",
                    "delete 0",
                    "state directory removed",
                    "containers left 0",
                    "delete created 0",
                    r#"level=debug msg="container c2 created: first process pid"#,
                    "its first process is gone",
                    "containers left 0",
                ])
            },
        },
        Case {
            name: "oci-run-kill-delete",
            covers: &[],
            // `run --detach`, `kill` by name (the container's shell traps it) and `kill --all`
            // by number, `delete` refused while running and forced; a foreground `run` gives
            // the program's status (on a terminal too), passes on the signals it gets, and
            // deletes the container.
            script: oci_script!(
                r#"B=/tmp/oci-run
bundle $B /rootfs trap.sh
cat > data/trap.sh <<'EOF'
trap 'echo got TERM; exit 7' TERM
echo started
sleep 100 &
wait
EOF
cat > data/two.sh <<'EOF'
sleep 100 &
sleep 100 &
echo started
wait
EOF
cat > data/exit3.sh <<'EOF'
echo in the foreground
exit 3
EOF
rvisor run --detach --bundle $B k1 >$B/k1.out 2>&1; echo "run --detach $?"
wait_for started $B/k1.out
rvisor state k1 | grep '"status"'
rvisor delete k1 2>&1 | grep -o 'cannot delete container k1 that is not stopped: running'
rvisor kill k1 TERM; echo "kill $?"
stopped k1
cat $B/k1.out
rvisor kill k1 KILL 2>&1 | grep -o 'container k1 is not running'
rvisor delete k1; echo "delete $?"
sed -i 's|/data/trap.sh|/data/two.sh|' config.json
rvisor run -d --bundle $B k2 >$B/k2.out 2>&1; echo "run -d $?"
wait_for started $B/k2.out
echo "processes $(rvisor ps --format json k2 | tr ',' '\n' | wc -l)"
rvisor ps k2 | awk 'NR == 1 { print "ps header:", $1 } NR > 1 { n++ } END { print "ps lines:", n }'
rvisor kill --all k2 9; echo "kill --all $?"
stopped k2
rvisor delete --force k2; echo "delete --force $?"
sed -i 's|/data/two.sh|/data/exit3.sh|' config.json
rvisor run --bundle $B f1; echo "run $?"
rvisor state f1 >/dev/null 2>&1 || echo "f1 deleted"
sed -i 's/"terminal": false/"terminal": true/' config.json
rvisor run --bundle $B f2 >$B/f2.out 2>&1; echo "run on a terminal $?"
tr -d '\r' <$B/f2.out
sed -i 's|/data/exit3.sh|/data/trap.sh|; s/"terminal": true/"terminal": false/' config.json
rvisor run --bundle $B f3 >$B/f3.out 2>&1 &
runner=$!
wait_for started $B/f3.out
kill -TERM $runner
wait $runner; echo "run passed TERM on: $?"
cat $B/f3.out
echo "containers left $(($(containers) - before))""#
            ),
            check: |o| {
                o.exactly(&[
                    "run --detach 0",
                    r#"  "status": "running","#,
                    "cannot delete container k1 that is not stopped: running",
                    "kill 0",
                    "started",
                    "got TERM",
                    "container k1 is not running",
                    "delete 0",
                    "run -d 0",
                    "processes 3",
                    "ps header: PID",
                    "ps lines: 3",
                    "kill --all 0",
                    "delete --force 0",
                    "in the foreground",
                    "run 3",
                    "f1 deleted",
                    "run on a terminal 3",
                    "in the foreground",
                    "run passed TERM on: 7",
                    "started",
                    "got TERM",
                    "containers left 0",
                ])
            },
        },
        Case {
            name: "oci-refusals",
            covers: &[],
            // What rVisor cannot honour is refused at `create`, naming the field; errors go to
            // `--log` as runc's JSON lines (level, msg, time); nothing is left behind.
            script: oci_script!(
                r#"B=/tmp/oci-refusals
bundle $B /rootfs none.sh
msg() { sed -n 's/.*level=error msg="\(.*\)"$/\1/p'; }
cp config.json plain.json
sed -i 's/"terminal": false/"terminal": true/' config.json
rvisor create --bundle $B r1 2>&1 | msg
cp plain.json config.json
sed -i 's/"noNewPrivileges": true/"noNewPrivileges": true, "capabilities": { "bounding": ["CAP_KILL"] }/' config.json
rvisor create --bundle $B r2 2>&1 | msg
cp plain.json config.json
sed -i 's/"type": "pid"/"type": "user"/' config.json
rvisor create --bundle $B r3 2>&1 | msg
cp plain.json config.json
sed -i 's|"mounts": \[|"mounts": [ { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue" },|' config.json
rvisor --log $B/log.json --log-format json create --bundle $B r4 2>/dev/null; echo "create $?"
sed 's/"time":"[0-9T:.-]*Z"/"time":"T"/' $B/log.json
rvisor --root $B/state exec r4 -- true 2>&1 | msg
cp plain.json config.json
sed -i 's|"sh", "/data/none.sh"|"no-such-program"|' config.json
rvisor create --bundle $B r5 2>&1 | msg
cp plain.json config.json
sed -i 's|"cwd": "/"|"cwd": "/no/such/dir"|' config.json
rvisor create --bundle $B r6 2>&1 | msg
rvisor list -q | wc -l
echo "containers left $(($(containers) - before))""#
            ),
            check: |o| {
                o.exactly(&[
                    "config.json has process.terminal true: give --console-socket SOCKET to receive the terminal's pty master, or set process.terminal to false",
                    "config.json: `process.capabilities` is set, but capabilities are not mapped onto rVisor's credentials yet: remove it from the bundle's config.json",
                    "config.json: `linux.namespaces`: user namespaces are not supported by rVisor yet; remove the user namespace (and linux.uidMappings/gidMappings)",
                    "create 1",
                    r#"{"level":"error","msg":"config.json: `mounts[0]` (mqueue on /dev/mqueue): rVisor mounts proc on /proc, sysfs on /sys, devpts on /dev/pts, its devfs for a tmpfs on /dev, tmpfs anywhere and bind mounts of host directories; remove this mount from config.json","time":"T"}"#,
                    "container r4 does not exist (no /tmp/oci-refusals/state/r4/state.json; `rvisor --root /tmp/oci-refusals/state list` shows the containers)",
                    "process.args[0] no-such-program: executable file not found in the container's $PATH (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)",
                    "process.cwd /no/such/dir in the container: No such file or directory (os error 2)",
                    "0",
                    "containers left 0",
                ])
            },
        },
        Case {
            name: "oci-exec",
            covers: &[],
            // `exec` into a running container: the new process has the next pid and no
            // parent there, sees pid 1 and the others in /proc, and its status is passed
            // through (exit code, or 128+signal); flags set its environment, working
            // directory and user; a foreground `--tty` relays its terminal; `--detach
            // --pid-file` leaves it running, signalled from inside the container; it leaves
            // no zombie there; `kill` of the container ends what `exec` started; a stopped
            // or missing container is refused with a clear message; `rvisor run`'s
            // containers are entered by their number.
            script: oci_script!(
                r#"B=/tmp/oci-exec
bundle $B /rootfs loop.sh
cat > data/loop.sh <<'EOF'
echo started
sleep 60 &
wait
EOF
rvisor run -d --bundle $B e1 >$B/e1.out 2>&1; echo "run -d $?"
wait_for started $B/e1.out
rvisor exec e1 -- sh -c 'echo "pid $$ ppid $PPID"; cat /proc/1/comm; pids=$(ps); echo "$pids" | awk "NR > 1 && \$1 <= 3 { printf \"%s \", \$1 } END { print \"\" }"'; echo "exec $?"
rvisor exec e1 -- sh -c 'exit 42'; echo "exit status $?"
rvisor exec e1 -- sh -c 'kill -9 $$'; echo "killed $?"
rvisor exec --cwd /data -e GREETING=hi -u 1000:1000 e1 -- sh -c 'echo "$GREETING $(pwd) $(id -u):$(id -g)"'
rvisor exec e1 -- sh -c 'test -e /proc/3 || echo "no zombie of pid 3"'
rvisor exec -t e1 -- sh -c 'tty; exit 5' >$B/tty.out; echo "exec -t $?"
tr -d '\r' <$B/tty.out
rvisor exec -d --pid-file $B/exec.pid e1 -- sh -c 'echo "detached $$ $PPID"; exec sleep 60' >$B/d.out 2>&1; echo "exec -d $?"
wait_for detached $B/d.out
sed 's/^detached [0-9]* /detached N /' $B/d.out
host=$(cat $B/exec.pid)
test -d /proc/$host && echo "the pid file names a live process"
cpid=$(awk '{ print $2 }' $B/d.out)
rvisor exec e1 -- sh -c "ps | awk '\$1 == $cpid { print \"listed:\", \$NF }'; kill $cpid"; echo "kill from inside $?"
wait_gone 10 $host && echo "the detached process ended"
rvisor exec -d --pid-file $B/exec2.pid e1 -- sleep 60 >/dev/null 2>&1; echo "exec -d $?"
host=$(cat $B/exec2.pid)
test "$(rvisor ps --format json e1 | tr ',[]' '\n\n\n' | grep -cx "$host")" = 1 && echo "ps lists it"
rvisor kill e1 KILL; echo "kill $?"
stopped e1
wait_gone 10 $host && echo "the exec'd process died with the container"
rvisor exec e1 -- true 2>&1 | sed -n 's/.*level=error msg="\(.*\)"$/\1/p'
rvisor delete e1; echo "delete $?"
rvisor exec nosuch -- true 2>&1 | grep -o 'container nosuch does not exist'
rvisor run --root /rootfs --hostname people -- sh -c 'echo up; sleep 60; echo done' >$B/run.out 2>&1 &
runner=$!
wait_for up $B/run.out
id=$(rvisor ps | awk '$4 == "people" { print $1 }')
rvisor exec $id -- sh -c 'echo "people: pid $$ ppid $PPID, $(hostname), pid 1 is $(cat /proc/1/comm)"'; echo "exec into run $?"
rvisor rm $id; echo "rm $?"
wait $runner
echo "containers left $(($(containers) - before))""#
            ),
            check: |o| {
                o.exactly(&[
                    "run -d 0",
                    "pid 3 ppid 0",
                    "sh",
                    "1 2 3 ",
                    "exec 0",
                    "exit status 42",
                    "killed 137",
                    "hi /data 1000:1000",
                    "no zombie of pid 3",
                    "exec -t 5",
                    "/dev/pts/0",
                    "exec -d 0",
                    "detached N 0",
                    "the pid file names a live process",
                    "listed: 60",
                    "kill from inside 0",
                    "the detached process ended",
                    "exec -d 0",
                    "ps lists it",
                    "kill 0",
                    "the exec'd process died with the container",
                    "cannot exec in a stopped container e1",
                    "delete 0",
                    "container nosuch does not exist",
                    "people: pid 3 ppid 0, people, pid 1 is sh",
                    "exec into run 0",
                    "rm 0",
                    "containers left 0",
                ])
            },
        },
        Case {
            name: "oci-exec-console-socket",
            covers: &[],
            // `exec --process FILE --tty --detach --console-socket`, as containerd's shim
            // and conmon call it: the engine (Debian's python3 here) receives the pty master
            // of a new terminal of the container's, whose slave is the process's stdio and
            // controlling terminal, sized as the process file says.
            script: oci_script!(
                r#"B=/tmp/oci-exec-tty
bundle $B /rootfs loop.sh
cat > data/loop.sh <<'EOF'
echo started
exec sleep 60
EOF
cat > data/process.json <<'EOF'
{ "terminal": true, "consoleSize": { "height": 24, "width": 90 }, "user": { "uid": 0, "gid": 0 },
  "args": ["sh", "-c", "tty; stty size; echo on the exec terminal"],
  "env": ["PATH=/bin:/usr/bin"], "cwd": "/" }
EOF
rvisor run -d --bundle $B x1 >$B/x1.out 2>&1; echo "run -d $?"
wait_for started $B/x1.out
rm -f /debian/tmp/exec.sock
chroot /debian python3 -c '
import os, signal, socket
signal.alarm(20)
server = socket.socket(socket.AF_UNIX)
server.bind("/tmp/exec.sock")
server.listen(1)
print("listening", flush=True)
connection, _ = server.accept()
name, fds, _, _ = socket.recv_fds(connection, 100, 1)
print("received", name.decode(), len(fds), flush=True)
output = b""
while True:
    try:
        data = os.read(fds[0], 1000)
    except OSError:
        break
    if not data:
        break
    output += data
print(output.decode().replace("\r", ""), end="")
' >$B/engine.out 2>&1 &
engine=$!
wait_for listening $B/engine.out
rvisor exec --process $B/data/process.json --detach --console-socket /debian/tmp/exec.sock --pid-file $B/exec.pid x1; echo "exec $?"
test -s $B/exec.pid && echo "pid file written"
wait $engine
cat $B/engine.out
rvisor exec -t -d x1 -- true 2>&1 | sed -n 's/.*level=error msg="\(.*\)"$/\1/p'
rvisor kill x1 KILL
stopped x1
rvisor delete x1; echo "delete $?"
echo "containers left $(($(containers) - before))""#
            ),
            check: |o| {
                o.exactly(&[
                    "run -d 0",
                    "exec 0",
                    "pid file written",
                    "listening",
                    "received /dev/ptmx 1",
                    "/dev/pts/0",
                    "24 90",
                    "on the exec terminal",
                    "exec: a detached process with a terminal needs --console-socket SOCKET to receive the terminal's pty master",
                    "delete 0",
                    "containers left 0",
                ])
            },
        },
        Case {
            name: "oci-console-socket",
            covers: &[],
            // `process.terminal` with `--console-socket`: the engine (here Debian's python3,
            // as conmon would) receives the console's pty master by SCM_RIGHTS and reads what
            // the container's program writes on its terminal.
            script: oci_script!(
                r#"B=/tmp/oci-tty
bundle $B /debian tty.sh /mnt
sed -i 's/"terminal": false/"terminal": true, "consoleSize": { "height": 30, "width": 100 }/' config.json
cat > data/tty.sh <<'EOF'
tty
stty size
echo on the terminal
EOF
rm -f /debian/tmp/console.sock
chroot /debian python3 -c '
import os, signal, socket
signal.alarm(20)
server = socket.socket(socket.AF_UNIX)
server.bind("/tmp/console.sock")
server.listen(1)
print("listening", flush=True)
connection, _ = server.accept()
name, fds, _, _ = socket.recv_fds(connection, 100, 1)
print("received", name.decode(), len(fds), flush=True)
output = b""
while True:
    try:
        data = os.read(fds[0], 1000)
    except OSError:
        break
    if not data:
        break
    output += data
print(output.decode().replace("\r", ""), end="")
' >$B/engine.out 2>&1 &
engine=$!
wait_for listening $B/engine.out
rvisor create --bundle $B --console-socket /debian/tmp/console.sock t1; echo "create $?"
rvisor start t1; echo "start $?"
wait $engine
cat $B/engine.out
stopped t1
rvisor delete t1; echo "delete $?"
echo "containers left $(($(containers) - before))""#
            ),
            check: |o| {
                o.exactly(&[
                    "create 0",
                    "start 0",
                    "listening",
                    "received /dev/ptmx 1",
                    "/dev/pts/0",
                    "30 100",
                    "on the terminal",
                    "delete 0",
                    "containers left 0",
                ])
            },
        },
    ]
}
