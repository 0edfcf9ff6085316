// SPDX-License-Identifier: GPL-2.0
/* caps: a root process reads and drops its capability sets, as libcap would, and reads a
 * child's; printed as the kernel answers so that native and contained runs can be compared.
 * Run as root. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int capget_(struct __user_cap_header_struct *h, struct __user_cap_data_struct *d)
{
	return syscall(SYS_capget, h, d);
}

static int capset_(struct __user_cap_header_struct *h, struct __user_cap_data_struct *d)
{
	return syscall(SYS_capset, h, d);
}

static const char *result(int ret)
{
	return ret < 0 ? strerrorname_np(errno) : "ok";
}

static void show(const char *what, pid_t pid)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, pid };
	struct __user_cap_data_struct d[2] = { 0 };
	int ret = capget_(&h, d);

	if (ret < 0) {
		printf("%s: %s\n", what, strerrorname_np(errno));
		return;
	}
	printf("%s: effective %08x%08x permitted %08x%08x inheritable %08x%08x\n", what,
	       d[1].effective, d[0].effective, d[1].permitted, d[0].permitted, d[1].inheritable,
	       d[0].inheritable);
}

int main(void)
{
	struct __user_cap_header_struct h = { 0x12345678, 0 };
	struct __user_cap_data_struct d[2] = { 0 };
	pid_t child;
	int status;

	setvbuf(stdout, NULL, _IOLBF, 0);
	show("self", 0);
	show("self by pid", getpid());
	printf("version probe: %s, version %#x\n", result(capget_(&h, NULL)), h.version);
	h.version = 0x12345678;
	printf("bad version: %s\n", result(capget_(&h, d)));
	h = (struct __user_cap_header_struct){ _LINUX_CAPABILITY_VERSION_3, -1 };
	printf("negative pid: %s\n", result(capget_(&h, d)));
	show("missing pid", 99999);
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	show("child", child);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);

	/* Drop CAP_NET_RAW (13) from every set; taking it back is refused. */
	h = (struct __user_cap_header_struct){ _LINUX_CAPABILITY_VERSION_3, 0 };
	capget_(&h, d);
	d[0].effective &= ~(1u << CAP_NET_RAW);
	d[0].permitted &= ~(1u << CAP_NET_RAW);
	printf("drop CAP_NET_RAW: %s\n", result(capset_(&h, d)));
	show("dropped", 0);
	d[0].permitted |= 1u << CAP_NET_RAW;
	printf("take it back: %s\n", result(capset_(&h, d)));
	h.pid = getppid() > 1 ? getppid() : 99999;
	printf("capset of another: %s\n", result(capset_(&h, d)));
	if (setresuid(1000, 1000, 1000) == 0)
		show("after setresuid(1000)", 0);
	printf("caps: done\n");
	return 0;
}
