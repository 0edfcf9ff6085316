/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * rVisor user ABI: the ioctls of /dev/rvisor.
 *
 * Defined once here; the module (through bindgen in linux-kernel-module), the `rvisor` CLI
 * (through bindgen in its build script) and the C guest tests all use this header.
 *
 * All pointers are passed as __u64 so that the layout is the same for every caller.
 * Reserved fields and flags must be zero (-EINVAL otherwise) so they can be given a meaning later.
 */
#ifndef _UAPI_LINUX_RVISOR_H
#define _UAPI_LINUX_RVISOR_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define RVISOR_DEVICE_PATH "/dev/rvisor"

/* Longest container hostname, as Linux's __NEW_UTS_LEN. */
#define RVISOR_HOSTNAME_MAX 64
/* Longest container root path, NUL included, as Linux's PATH_MAX. */
#define RVISOR_ROOT_MAX 4096

/* RVISOR_IOC_CREATE: create a container. Needs CAP_SYS_ADMIN (-EPERM).
 * root: NUL-terminated host path of an existing directory (-ENOENT, -ENOTDIR, -ENAMETOOLONG);
 *       relative paths resolve against the caller's working directory.
 * hostname: NUL-terminated, 1..RVISOR_HOSTNAME_MAX bytes; 0 selects "rvisor" (-EINVAL if empty
 *       or too long).
 * id: out, the new container's id (> 0). */
struct rvisor_create {
	__u64 root;
	__u64 hostname;
	__u32 flags;
	__u32 id;
};

/* One container as reported by RVISOR_IOC_LIST. */
struct rvisor_container_info {
	__u32 id;
	__u32 members;        /* live tasks (threads included) in the container */
	__u32 flags;          /* RVISOR_CONTAINER_* */
	__s32 init_pid;       /* its first process's host pid, as the caller's pid namespace
			       * numbers it (0: none, or not visible there): where its network
			       * namespace is found (/proc/PID/ns/net) for RVISOR_IOC_ENTER */
	char hostname[RVISOR_HOSTNAME_MAX + 1];
	char root[RVISOR_ROOT_MAX];
};

/* The container is being removed: its tasks were killed and it goes away with the last one. */
#define RVISOR_CONTAINER_DYING 0x1

/* RVISOR_IOC_LIST: containers, ordered by id.
 * entries: array of `capacity` struct rvisor_container_info (may be 0 when capacity is 0).
 * count: out, how many containers exist (may exceed capacity; only `capacity` are written). */
struct rvisor_list {
	__u64 entries;
	__u32 capacity;
	__u32 count;
};

/* A filesystem mounted in a container before its first process joins: a host directory
 * (source set) or a fresh tmpfs (source 0, options as tmpfs takes them: "size=1m,mode=1777"),
 * on the existing directory `target` (an absolute path inside the container without symbolic
 * links). `flags` are MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC; a read-only host
 * directory is made read-only by the caller (a read-only bind mount in its own mount
 * namespace), since rVisor writes through the host's VFS. */
struct rvisor_mount {
	__u32 id;
	__u32 flags;
	__u64 source;
	__u64 target;
	__u64 options;
};

#define RVISOR_MOUNT_FLAGS 0xf

/* RVISOR_IOC_ENTER: the calling process (all its threads) enters the running container `id` as
 * a new process (`rvisor exec`), as a process joining a pid namespace with setns and forking:
 * the next free pid, no parent in the container (getppid() is 0; its host parent reaps it, and
 * it leaves no zombie inside), leading a session and process group of its own, at the
 * container's root with "/" as its working directory, with the caller's credentials. Its
 * descriptors 0, 1 and 2 are the caller's (as ADDSELF gives them), or, with RVISOR_ENTER_TTY,
 * the slave of the container's pty number `tty` (one RVISOR_IOC_NEWPTY made), which also becomes
 * its controlling terminal. */
struct rvisor_enter {
	__u32 id;
	__u32 flags;          /* RVISOR_ENTER_* */
	__u32 tty;            /* with RVISOR_ENTER_TTY: the pty's number (TIOCGPTN of its master) */
	__u32 reserved;
};

#define RVISOR_ENTER_TTY 0x1

#define RVISOR_IOC_MAGIC 0xb7

#define RVISOR_IOC_CREATE  _IOWR(RVISOR_IOC_MAGIC, 1, struct rvisor_create)
/* arg: the container id, by value. The calling process (all its threads) joins the container.
 * -ENOENT: no such container (or it is dying); -EPERM: the caller is already contained, or it is
 * neither CAP_SYS_ADMIN nor the creator's uid; -EBUSY: a thread of the caller could not be joined. */
#define RVISOR_IOC_ADDSELF _IO(RVISOR_IOC_MAGIC, 2)
/* arg: the container id, by value. Kills every task left in the container; the container is freed
 * when its last task is gone (at once when it has none). Needs CAP_SYS_ADMIN. -ENOENT if unknown. */
#define RVISOR_IOC_REMOVE  _IO(RVISOR_IOC_MAGIC, 3)
#define RVISOR_IOC_LIST    _IOWR(RVISOR_IOC_MAGIC, 4, struct rvisor_list)
#define RVISOR_IOC_MOUNT   _IOW(RVISOR_IOC_MAGIC, 5, struct rvisor_mount)
/* arg: the container id, by value. Makes a pseudo-terminal in the container's devpts (unlocked),
 * makes its slave the container's console, which the container's first process then gets as
 * its stdin, stdout, stderr and controlling terminal when it joins, and returns a new
 * descriptor (O_RDWR | O_CLOEXEC) of the caller's for the master: read, write, poll, and the
 * ioctls TIOCGWINSZ, TIOCSWINSZ, TIOCGPTN. Needs CAP_SYS_ADMIN or the creator's uid (-EPERM);
 * -ENOENT: no such container (or it is dying); -EBUSY: it has a console already, or a first
 * process. */
#define RVISOR_IOC_OPENPTY _IO(RVISOR_IOC_MAGIC, 6)
/* -ENOENT: no such container (or it is dying); -ESRCH: its first process has not joined or has
 * ended; -EPERM: the caller is already contained, or it is neither CAP_SYS_ADMIN nor the
 * creator's uid; -EINVAL: unknown flags, reserved not 0, a tty without RVISOR_ENTER_TTY, or a
 * network namespace other than the container's; -ENXIO: no pty `tty` (or it is hung up, or
 * another session's controlling terminal); -EFAULT: bad pointer. */
#define RVISOR_IOC_ENTER   _IOW(RVISOR_IOC_MAGIC, 7, struct rvisor_enter)
/* arg: the container id, by value. Makes a new pseudo-terminal in the running container's
 * devpts (unlocked) for a process that is to enter with RVISOR_IOC_ENTER and RVISOR_ENTER_TTY,
 * and returns a new descriptor (O_RDWR | O_CLOEXEC) of the caller's for its master, as OPENPTY
 * does (TIOCGPTN gives the number ENTER takes). Needs CAP_SYS_ADMIN or the creator's uid
 * (-EPERM); -ENOENT: no such container (or it is dying); -ESRCH: its first process has not
 * joined or has ended. */
#define RVISOR_IOC_NEWPTY  _IO(RVISOR_IOC_MAGIC, 8)

#endif /* _UAPI_LINUX_RVISOR_H */
