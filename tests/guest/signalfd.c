// SPDX-License-Identifier: GPL-2.0
/* signalfd: blocked signals read from a descriptor — its errnos, the records of kill, tgkill
 * and a child's exit, several at once, a mask replaced, readiness for poll and epoll, a
 * blocking read woken by another process's signal, and a forked child reading its own.
 * Printed as the kernel answers, so that native and contained runs can be compared. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *result(long ret)
{
	static char text[32];

	if (ret < 0)
		return strerrorname_np(errno);
	snprintf(text, sizeof(text), "%ld", ret);
	return text;
}

/* One read of up to `count` records: "N bytes: signo/code ..." */
static void take(const char *what, int fd, int count, pid_t from)
{
	struct signalfd_siginfo info[4];
	long n = read(fd, info, count * sizeof(info[0])), i;

	printf("%s: %s", what, result(n));
	for (i = 0; n > 0 && i < n / (long)sizeof(info[0]); i++) {
		printf(" [%u code %d", info[i].ssi_signo, info[i].ssi_code);
		if (from)
			printf(" from %s", info[i].ssi_pid == (uint32_t)from ? "it" : "elsewhere");
		if (info[i].ssi_signo == SIGCHLD)
			printf(" status %d", info[i].ssi_status);
		printf("]");
	}
	printf("\n");
}

int main(void)
{
	sigset_t mask, both;
	struct pollfd pfd;
	struct epoll_event event = { .events = EPOLLIN, .data.u64 = 5 };
	int sfd, blocking, ep, p[2];
	pid_t child;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigemptyset(&both);
	sigaddset(&both, SIGUSR1);
	sigaddset(&both, SIGUSR2);
	sigaddset(&both, SIGCHLD);
	sigprocmask(SIG_BLOCK, &both, NULL);
	pipe(p);
	printf("sizemask 4: %s\n", result(syscall(SYS_signalfd4, -1, &mask, 4, 0)));
	printf("bad mask pointer: %s\n", result(syscall(SYS_signalfd4, -1, 8, 8, 0)));
	printf("bad flag: %s\n", result(syscall(SYS_signalfd4, -1, &mask, 8, 1)));
	printf("fd not a signalfd: %s\n", result(signalfd(p[0], &mask, 0)));
	printf("fd not open: %s\n", result(signalfd(99, &mask, 0)));
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	printf("SFD_CLOEXEC: %s\n", fcntl(sfd, F_GETFD) == FD_CLOEXEC ? "yes" : "no");
	printf("F_GETFL: %#x\n", fcntl(sfd, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	printf("read of 12 bytes: %s\n", result(read(sfd, &event, sizeof(event))));
	take("nothing pending", sfd, 1, 0);
	pfd.fd = sfd;
	pfd.events = POLLIN;
	printf("poll, nothing pending: %s\n", result(poll(&pfd, 1, 0)));
	kill(getpid(), SIGUSR1);
	printf("poll after kill: %s", result(poll(&pfd, 1, 0)));
	printf(" revents %#x\n", pfd.revents);
	take("after kill", sfd, 1, getpid());
	raise(SIGUSR1);
	take("after raise", sfd, 1, getpid());
	printf("the same descriptor, a new mask: %s\n",
	       signalfd(sfd, &both, 0) == sfd ? "same fd" : strerrorname_np(errno));
	kill(getpid(), SIGUSR2);
	kill(getpid(), SIGUSR1);
	take("two pending", sfd, 4, getpid());
	ep = epoll_create1(0);
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &event);
	printf("epoll, nothing pending: %s\n", result(epoll_wait(ep, &event, 1, 0)));
	kill(getpid(), SIGUSR2);
	printf("epoll after kill: %s events %#x\n", result(epoll_wait(ep, &event, 1, -1)),
	       event.events);
	take("then read", sfd, 1, 0);

	blocking = signalfd(-1, &both, 0);
	child = fork();
	if (child == 0) {
		usleep(100000);
		kill(getppid(), SIGUSR1);
		usleep(100000);
		_exit(7);
	}
	take("blocking read, the child's signal", blocking, 1, child);
	take("blocking read, the child's exit", blocking, 1, 0);
	waitpid(child, NULL, 0);

	child = fork();
	if (child == 0) {
		kill(getpid(), SIGUSR2);
		take("child reads its own", sfd, 1, getpid());
		_exit(0);
	}
	waitpid(child, NULL, 0);
	take("the parent: only its child's exit", sfd, 1, 0);
	printf("signalfd: done\n");
	return 0;
}
