// SPDX-License-Identifier: GPL-2.0
/* jobs: what a shell's job control sees of its children: stops and continues reported by
 * waitpid (WUNTRACED, WCONTINUED) and waitid (WSTOPPED, WCONTINUED, WNOWAIT), once each, and a
 * blocked wait woken by a continue; printed as the kernel answers so that a native and a
 * contained run can be compared. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void describe(const char *what, pid_t got, pid_t child, int status)
{
	if (got < 0) {
		printf("%s: %s\n", what, strerrorname_np(errno));
	} else if (got == 0) {
		printf("%s: nothing\n", what);
	} else if (got != child) {
		printf("%s: another pid\n", what);
	} else if (WIFSTOPPED(status)) {
		printf("%s: stopped by %s\n", what, sigabbrev_np(WSTOPSIG(status)));
	} else if (WIFCONTINUED(status)) {
		printf("%s: continued\n", what);
	} else if (WIFSIGNALED(status)) {
		printf("%s: killed by %s\n", what, sigabbrev_np(WTERMSIG(status)));
	} else {
		printf("%s: exited %d\n", what, WEXITSTATUS(status));
	}
}

/* waitpid(child, options), then what it reported. */
static void wait_and_describe(const char *what, pid_t child, int options)
{
	int status = 0;
	pid_t got = waitpid(child, &status, options);

	describe(what, got, child, status);
}

static void describe_info(const char *what, pid_t child, const siginfo_t *info)
{
	printf("%s: si_pid %s, si_code %d, si_status %d\n", what,
	       info->si_pid == child ? "child" : info->si_pid == 0 ? "0" : "other", info->si_code,
	       info->si_status);
}

/* Waits (up to 10 s) until `child` is stopped as the host sees it, without reporting it. */
static void until_stopped(pid_t child)
{
	siginfo_t info;
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		struct timespec pause = { 0, 10000000 };

		memset(&info, 0, sizeof(info));
		if (waitid(P_PID, child, &info, WSTOPPED | WNOHANG | WNOWAIT) == 0 &&
		    info.si_pid == child)
			return;
		nanosleep(&pause, NULL);
	}
}

int main(void)
{
	int status = 0;
	siginfo_t info;
	pid_t child, helper;

	setvbuf(stdout, NULL, _IOLBF, 0);
	child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	kill(child, SIGSTOP);
	wait_and_describe("waitpid WUNTRACED", child, WUNTRACED);
	wait_and_describe("again, WNOHANG", child, WUNTRACED | WNOHANG);
	wait_and_describe("without WUNTRACED, WNOHANG", child, WNOHANG);
	kill(child, SIGCONT);
	wait_and_describe("waitpid WCONTINUED", child, WCONTINUED);
	wait_and_describe("again, WNOHANG", child, WCONTINUED | WNOHANG);

	kill(child, SIGSTOP);
	until_stopped(child);
	memset(&info, 0, sizeof(info));
	printf("waitid WSTOPPED|WNOWAIT: %d\n", waitid(P_PID, child, &info, WSTOPPED | WNOWAIT));
	describe_info("  kept", child, &info);
	memset(&info, 0, sizeof(info));
	printf("waitid WSTOPPED: %d\n", waitid(P_PID, child, &info, WSTOPPED));
	describe_info("  reported", child, &info);
	memset(&info, 0, sizeof(info));
	printf("waitid WSTOPPED|WNOHANG: %d\n", waitid(P_PID, child, &info, WSTOPPED | WNOHANG));
	describe_info("  consumed", child, &info);

	/* A wait already blocked when the child is continued is woken. */
	helper = fork();
	if (helper == 0) {
		struct timespec pause = { 0, 200000000 };

		nanosleep(&pause, NULL);
		kill(child, SIGCONT);
		_exit(0);
	}
	memset(&info, 0, sizeof(info));
	printf("blocked waitid WCONTINUED: %d\n", waitid(P_PID, child, &info, WCONTINUED));
	describe_info("  woken", child, &info);
	waitpid(helper, &status, 0);

	kill(child, SIGKILL);
	wait_and_describe("waitpid after SIGKILL", child, WUNTRACED | WCONTINUED);
	printf("jobs: done\n");
	return 0;
}
