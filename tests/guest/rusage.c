// SPDX-License-Identifier: GPL-2.0
/* rusage: the CPU time a parent sees of its children: wait4's and waitid's rusage of the child
 * reaped (its own time and its reaped children's), getrusage(RUSAGE_CHILDREN) and times()
 * before and after the reap, getrusage(RUSAGE_SELF/RUSAGE_THREAD); each child burns at least
 * 50 ms of CPU time, so what is printed ("none", "at least 50 ms") is the same on any run. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <unistd.h>

/* The CPU time of a usage, user and system together (the kernel splits their sum, which is
 * exact, by ticks, so either alone may fall short of what was burnt). */
static long ms(const struct rusage *usage)
{
	return (usage->ru_utime.tv_sec + usage->ru_stime.tv_sec) * 1000 +
	       (usage->ru_utime.tv_usec + usage->ru_stime.tv_usec) / 1000;
}

/* "none", "at least", or "some" for a CPU time of `got` ms. */
static const char *amount(long got, long at_least)
{
	return got == 0 ? "none" : got >= at_least ? "at least" : "some";
}

/* Burns CPU time until the calling thread has `target` ms of it. */
static void burn(long target)
{
	struct rusage self;
	volatile unsigned long spin = 0;

	do {
		for (int i = 0; i < 100000; i++)
			spin++;
		getrusage(RUSAGE_THREAD, &self);
	} while (ms(&self) < target);
}

static void children_now(const char *when, long at_least)
{
	struct rusage children;
	struct tms tms;
	long tick = sysconf(_SC_CLK_TCK);

	getrusage(RUSAGE_CHILDREN, &children);
	times(&tms);
	printf("%s: RUSAGE_CHILDREN %s, times cutime+cstime %s\n", when,
	       amount(ms(&children), at_least),
	       /* Each of the two clock_t counts is truncated to a tick. */
	       amount((long)(tms.tms_cutime + tms.tms_cstime) * 1000 / tick,
		      at_least - 2 * 1000 / tick));
}

/* A child that burns 50 ms, with a grandchild that burns 50 ms too when `grandchild`. */
static pid_t burner(int grandchild)
{
	pid_t child = fork();

	if (child == 0) {
		if (grandchild) {
			pid_t inner = burner(0);

			waitpid(inner, NULL, 0);
		}
		burn(50);
		_exit(0);
	}
	return child;
}

int main(void)
{
	struct rusage usage;
	siginfo_t info;
	int status;
	pid_t child;

	setvbuf(stdout, NULL, _IOLBF, 0);
	children_now("before any child", 50);

	child = burner(0);
	/* Exited but not reaped: not the parent's yet. */
	waitid(P_PID, child, &info, WEXITED | WNOWAIT);
	children_now("exited, not reaped", 50);
	memset(&usage, 0, sizeof(usage));
	printf("wait4: %s\n", wait4(child, &status, 0, &usage) == child ? "child" : "other");
	printf("  its rusage: %s 50 ms\n", amount(ms(&usage), 50));
	children_now("reaped", 50);

	child = burner(1);
	memset(&usage, 0, sizeof(usage));
	memset(&info, 0, sizeof(info));
	printf("waitid: %ld\n", syscall(SYS_waitid, P_PID, child, &info, WEXITED, &usage));
	printf("  its rusage, grandchild included: %s 100 ms\n", amount(ms(&usage), 100));
	children_now("two more reaped", 150);

	child = burner(0);
	printf("wait4, bad rusage: %s\n",
	       wait4(child, &status, 0, (struct rusage *)8) < 0 ? strerrorname_np(errno) : "ok");
	printf("  then: %s\n", waitpid(child, &status, WNOHANG) < 0 ? strerrorname_np(errno) : "still there");

	burn(20);
	getrusage(RUSAGE_SELF, &usage);
	printf("RUSAGE_SELF: %s 20 ms\n", amount(ms(&usage), 20));
	printf("getrusage(7): %s\n", getrusage(7, &usage) < 0 ? strerrorname_np(errno) : "ok");
	printf("rusage: done\n");
	return 0;
}
