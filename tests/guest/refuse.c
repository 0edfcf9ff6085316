// SPDX-License-Identifier: GPL-2.0
/* refuse: tries what a contained program may not do and prints the errno each attempt got. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char *what, long ret)
{
	if (ret < 0)
		printf("%s => %s\n", what, strerrorname_np(errno));
	else
		printf("%s => %ld\n", what, ret);
}

static long int80_getpid(void)
{
	long ret;

	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	return ret;
}

int main(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &allow };
	struct io_uring_params params;
	unsigned int map_size = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	report("seccomp(SET_MODE_FILTER)", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog));
	report("prctl(PR_SET_SECCOMP)", prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0));
	report("prctl(PR_GET_SECCOMP)", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
	report("ptrace(PTRACE_TRACEME)", ptrace(PTRACE_TRACEME, 0, 0, 0));
	memset(&params, 0, sizeof(params));
	report("io_uring_setup", syscall(SYS_io_uring_setup, 4, &params));
	report("bpf", syscall(SYS_bpf, 0, NULL, 0));
	report("syscall(-1)", syscall(-1L));
	printf("int $0x80 getpid => %ld\n", int80_getpid());
	/* Never dumpable on the host: its core file would land outside the container. */
	report("prctl(PR_GET_DUMPABLE)", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	report("prctl(PR_SET_DUMPABLE, 1)", prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
	report("prctl(PR_SET_DUMPABLE, 0)", prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
	/* The host's view of the memory map is rVisor's loader's: changes are an unprivileged
	 * process's EPERM, stray arguments Linux's EINVAL, the size probe answers. */
	report("prctl(PR_SET_MM, START_BRK)",
	       prctl(PR_SET_MM, PR_SET_MM_START_BRK, (unsigned long)sbrk(0), 0, 0));
	report("prctl(PR_SET_MM, START_BRK, arg5)",
	       prctl(PR_SET_MM, PR_SET_MM_START_BRK, (unsigned long)sbrk(0), 0, 1));
	report("prctl(PR_SET_MM, MAP_SIZE)", prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, &map_size, 0, 0));
	printf("map size %u\n", map_size);
	/* Names a host pid: refused as a kernel without Yama does. */
	report("prctl(PR_SET_PTRACER, 1)", prctl(PR_SET_PTRACER, 1, 0, 0, 0));
	return 0;
}
