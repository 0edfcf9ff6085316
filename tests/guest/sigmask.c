// SPDX-License-Identifier: GPL-2.0
/* sigmask: waits that install a signal mask (pselect6, ppoll) and waits that a signal handler
 * ends, printed as the kernel answers so that native and contained runs can be compared. The
 * pattern is GNU make's: SIGCHLD blocked, unblocked only inside pselect; a handler installed
 * with SA_RESTART must still end poll and select with EINTR (signal(7)). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;

static void on_signal(int sig)
{
	(void)sig;
	handled++;
}

static const char *result(int ret)
{
	static char text[32];

	if (ret < 0)
		return strerrorname_np(errno);
	snprintf(text, sizeof(text), "%d", ret);
	return text;
}

static const char *blocked_now(int sig)
{
	sigset_t now;

	sigprocmask(SIG_BLOCK, NULL, &now);
	return sigismember(&now, sig) ? "blocked" : "unblocked";
}

/* A child that sends `sig` to its parent after `ms` milliseconds. */
static pid_t signal_later(int sig, int ms)
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
		struct timespec wait = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

		nanosleep(&wait, NULL);
		kill(parent, sig);
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	int status;

	waitpid(pid, &status, 0);
}

int main(void)
{
	struct sigaction action = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	struct timespec long_wait = { .tv_sec = 20 }, short_wait = { .tv_nsec = 300000000L };
	sigset_t usr1, none;
	struct pollfd pollfd;
	fd_set readable;
	int fds[2], ret;
	char byte;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pipe(fds) < 0)
		return 1;
	sigaction(SIGUSR1, &action, NULL);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, &usr1, NULL);

	/* Blocked outside, unblocked for the wait: the signal ends it with EINTR. */
	pid = signal_later(SIGUSR1, 100);
	FD_ZERO(&readable);
	FD_SET(fds[0], &readable);
	ret = pselect(fds[0] + 1, &readable, NULL, NULL, &long_wait, &none);
	printf("pselect6 unblocking SIGUSR1: %s, handled %d, after: %s\n", result(ret),
	       (int)handled, blocked_now(SIGUSR1));
	reap(pid);

	handled = 0;
	pid = signal_later(SIGUSR1, 100);
	pollfd = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	ret = ppoll(&pollfd, 1, &long_wait, &none);
	printf("ppoll unblocking SIGUSR1: %s, handled %d, after: %s\n", result(ret),
	       (int)handled, blocked_now(SIGUSR1));
	reap(pid);

	/* Unblocked outside, blocked for the wait: the wait times out, then the signal comes. */
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);
	handled = 0;
	pid = signal_later(SIGUSR1, 50);
	ret = ppoll(&pollfd, 1, &short_wait, &usr1);
	printf("ppoll blocking SIGUSR1: %s, handled %d right after\n", result(ret), (int)handled);
	reap(pid);

	/* An SA_RESTART handler does not restart poll, select or pause. */
	handled = 0;
	pid = signal_later(SIGUSR1, 100);
	ret = poll(&pollfd, 1, 20000);
	printf("poll with an SA_RESTART handler: %s, handled %d\n", result(ret), (int)handled);
	reap(pid);
	handled = 0;
	pid = signal_later(SIGUSR1, 100);
	FD_ZERO(&readable);
	FD_SET(fds[0], &readable);
	ret = select(fds[0] + 1, &readable, NULL, NULL, NULL);
	printf("select with an SA_RESTART handler: %s, handled %d\n", result(ret), (int)handled);
	reap(pid);

	/* It does restart a read. */
	handled = 0;
	pid = signal_later(SIGUSR1, 100);
	if (fork() == 0) {
		struct timespec wait = { .tv_nsec = 400000000L };

		nanosleep(&wait, NULL);
		_exit(write(fds[1], "x", 1) != 1);
	}
	ret = read(fds[0], &byte, 1);
	printf("read with an SA_RESTART handler: %s, handled %d\n", result(ret), (int)handled);
	while (wait(NULL) > 0)
		;
	printf("sigmask: done\n");
	return 0;
}
