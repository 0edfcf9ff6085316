// SPDX-License-Identifier: GPL-2.0
/* pidfd: processes named by descriptors (pidfd_open, CLONE_PIDFD with clone and clone3),
 * polled until they exit, signalled, waited for with P_PIDFD, and a descriptor taken from
 * one (pidfd_getfd); printed as the kernel answers so that native and contained runs can be
 * compared. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#define PIDFD_NONBLOCK 04000

static const char *result(long ret)
{
	static char text[32];

	if (ret < 0)
		return strerrorname_np(errno);
	snprintf(text, sizeof(text), "%ld", ret);
	return text;
}

static int pidfd_open(pid_t pid, unsigned int flags)
{
	return syscall(SYS_pidfd_open, pid, flags);
}

static const char *readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ret = poll(&p, 1, timeout_ms);

	return ret < 0 ? strerrorname_np(errno) : ret == 0 ? "not readable" :
		     (p.revents & POLLIN) ? "readable" : "other";
}

static void waited(const char *what, int pidfd)
{
	siginfo_t info;

	memset(&info, 0, sizeof(info));
	if (waitid(P_PIDFD, pidfd, &info, WEXITED) < 0)
		printf("%s: %s\n", what, strerrorname_np(errno));
	else
		printf("%s: si_code %d, si_status %d\n", what, info.si_code, info.si_status);
}

static pid_t sleeper(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

int main(void)
{
	struct clone_args args;
	siginfo_t info;
	int pidfd = -1, fd, other;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("pidfd_open(0): %s\n", result(pidfd_open(0, 0)));
	printf("pidfd_open(bad flag): %s\n", result(pidfd_open(getpid(), 1)));
	printf("pidfd_open(missing): %s\n", result(pidfd_open(99999, 0)));

	pid = sleeper();
	fd = pidfd_open(pid, 0);
	printf("open a child: %s, close-on-exec %d\n", fd < 0 ? strerrorname_np(errno) : "ok",
	       fd < 0 ? -1 : (fcntl(fd, F_GETFD) & FD_CLOEXEC));
	printf("while it runs: %s\n", readable(fd, 100));
	printf("pidfd_send_signal(SIGKILL): %s\n",
	       result(syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0)));
	printf("once it ended: %s\n", readable(fd, 5000));
	printf("signal a zombie: %s\n", result(syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0)));
	waited("waitid(P_PIDFD)", fd);
	printf("waitid again: %s\n", result(waitid(P_PIDFD, fd, &info, WEXITED)));
	close(fd);

	pid = sleeper();
	fd = pidfd_open(pid, PIDFD_NONBLOCK);
	printf("non-blocking waitid on a running child: %s\n",
	       result(waitid(P_PIDFD, fd, &info, WEXITED)));
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	close(fd);
	printf("pidfd_send_signal(stdin): %s\n",
	       result(syscall(SYS_pidfd_send_signal, 0, SIGTERM, NULL, 0)));
	printf("waitid(P_PIDFD, stdin): %s\n", result(waitid(P_PIDFD, 0, &info, WEXITED)));

	/* A descriptor of our own, taken through our own pidfd. */
	fd = pidfd_open(getpid(), 0);
	other = syscall(SYS_pidfd_getfd, fd, 1, 0);
	printf("pidfd_getfd(stdout): %s\n", other < 0 ? strerrorname_np(errno) : "ok");
	if (other >= 0 && write(other, "written through the copy\n", 25) != 25)
		printf("write failed\n");
	printf("pidfd_getfd(bad fd): %s\n", result(syscall(SYS_pidfd_getfd, fd, 99, 0)));
	printf("pidfd_getfd(bad flag): %s\n", result(syscall(SYS_pidfd_getfd, fd, 1, 1)));
	close(fd);

	/* clone with CLONE_PIDFD: the pidfd comes back through parent_tid. */
	pid = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, NULL, &pidfd, NULL, NULL);
	if (pid == 0)
		_exit(5);
	printf("clone(CLONE_PIDFD): %s\n", pid < 0 ? strerrorname_np(errno) : "ok");
	printf("  its pidfd: %s\n", readable(pidfd, 5000));
	waited("  waited", pidfd);
	close(pidfd);
	printf("clone(CLONE_PIDFD|CLONE_PARENT_SETTID): %s\n",
	       result(syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, NULL, &pidfd,
			      NULL, NULL)));

	memset(&args, 0, sizeof(args));
	args.flags = CLONE_PIDFD;
	args.pidfd = (uintptr_t)&pidfd;
	args.exit_signal = SIGCHLD;
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0)
		_exit(6);
	printf("clone3(CLONE_PIDFD): %s\n", pid < 0 ? strerrorname_np(errno) : "ok");
	waited("  waited", pidfd);
	args.pidfd = 8;
	printf("clone3(CLONE_PIDFD) with a bad pointer: %s\n",
	       result(syscall(SYS_clone3, &args, sizeof(args))));
	printf("pidfd: done\n");
	return 0;
}
