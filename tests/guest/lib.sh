# SPDX-License-Identifier: GPL-2.0
# Shell helpers for the in-VM cases, installed at /tests/lib.sh and sourced by a case's script
# (`. /tests/lib.sh`). The same command runs natively (`chroot $ROOTFS`) and contained
# (`rvisor run --root $ROOTFS`), each run's output (stdout and stderr together) and status are
# printed between markers by `side`, and the case's check (tests::Outcome::same_as_native)
# compares them on the host.

ROOTFS=/rootfs
SCRATCH=/tmp/case.$$

# side NAME STATUS FILE: FILE's content as the output of the run NAME that exited with STATUS.
side() {
	echo "@@SIDE $1 $2@@"
	cat "$3"
	echo "@@SIDE-END $1@@"
}

# native NAME CMD...: CMD run chrooted into the root (busybox chroot also changes to its /).
native() {
	_name=$1
	shift
	chroot "$ROOTFS" "$@" >"$SCRATCH.out" 2>&1 </dev/null
	side "$_name" $? "$SCRATCH.out"
}

# contained NAME CMD...: CMD run in a container whose root is the root.
contained() {
	_name=$1
	shift
	rvisor run --root "$ROOTFS" -- "$@" >"$SCRATCH.out" 2>&1 </dev/null
	side "$_name" $? "$SCRATCH.out"
}

# native_init NAME CMD...: as native, with CMD the first process (pid 1) of a new pid namespace,
# which is what a container's first process is.
native_init() {
	_name=$1
	shift
	unshare -p -f chroot "$ROOTFS" "$@" >"$SCRATCH.out" 2>&1 </dev/null
	side "$_name" $? "$SCRATCH.out"
}

# detached NAME CMD...: CMD (stdin /dev/null, output to a file) in a new session, so with no
# controlling terminal whatever the case runs under; waits (up to 30 s) for it to end.
detached() {
	_name=$1
	shift
	rm -f "$SCRATCH.done"
	setsid sh -c '"$@" >"$0.out" 2>&1 </dev/null; echo $? >"$0.done"' "$SCRATCH" "$@"
	_tries=300
	until [ -s "$SCRATCH.done" ] || [ $_tries -le 0 ]; do
		_tries=$((_tries - 1))
		sleep 0.1
	done
	side "$_name" "$(cat "$SCRATCH.done" 2>/dev/null)" "$SCRATCH.out"
}

# native_ipc NAME CMD...: as native, in a new IPC namespace (a container is one), so that the
# System V ids CMD gets are those of a fresh namespace.
native_ipc() {
	_name=$1
	shift
	unshare -i chroot "$ROOTFS" "$@" >"$SCRATCH.out" 2>&1 </dev/null
	side "$_name" $? "$SCRATCH.out"
}

# differential CMD...: CMD natively, then contained.
differential() {
	native native "$@"
	contained contained "$@"
}

# wait_for TEXT FILE: waits (up to 30 s) until FILE has a line containing TEXT.
wait_for() {
	_tries=300
	until grep -q -- "$1" "$2" 2>/dev/null; do
		_tries=$((_tries - 1))
		if [ $_tries -le 0 ]; then
			echo "timed out waiting for '$1' in $2"
			return 1
		fi
		sleep 0.1
	done
}

# containers: how many containers `rvisor ps` lists.
containers() {
	rvisor ps | awk 'NR > 1' | wc -l
}

# wait_containers N: waits (up to 30 s) until `rvisor ps` lists at least N containers.
wait_containers() {
	_tries=300
	until [ "$(containers)" -ge "$1" ]; do
		_tries=$((_tries - 1))
		if [ $_tries -le 0 ]; then
			echo "timed out waiting for $1 containers"
			return 1
		fi
		sleep 0.1
	done
}

# stat_fields PID: the fields of /proc/PID/stat after the command name, so that $1 is the state,
# $2 the ppid, $12 utime and $13 stime (in clock ticks).
stat_fields() {
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null
}

# children_of PID: the host pids whose parent is PID.
children_of() {
	for _stat in /proc/[0-9]*/stat; do
		_pid=${_stat#/proc/}
		_pid=${_pid%/stat}
		set -- "$1" $(stat_fields "$_pid")
		[ "$3" = "$1" ] && echo "$_pid"
	done
	return 0
}

# state PID: the scheduler state letter of PID (S: sleeping).
state() {
	stat_fields "$1" | awk '{ print $1 }'
}

# cpu_ticks PID: the user plus system time PID has used, in clock ticks.
cpu_ticks() {
	stat_fields "$1" | awk '{ print $12 + $13 }'
}

# wait_gone SECONDS PID: waits until PID has ended (gone, or a zombie); fails after SECONDS.
wait_gone() {
	_tries=$(($1 * 10))
	while [ -e "/proc/$2" ] && [ "$(state "$2")" != Z ]; do
		_tries=$((_tries - 1))
		[ $_tries -le 0 ] && return 1
		sleep 0.1
	done
	return 0
}

# host_pids: the pids of every host task, on one line.
host_pids() {
	ls /proc | grep '^[0-9][0-9]*$' | tr '\n' ' '
}
