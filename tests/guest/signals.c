// SPDX-License-Identifier: GPL-2.0
/* signals: kill, tkill, tgkill and SIGPIPE as a program sees them, and resource limits. Every
 * line it prints is the same natively and contained: ids are never printed, only compared
 * (si_pid with the sender's getpid, the thread that ran a handler with the one signalled).
 * Steps are ordered by pipes so that the output does not depend on scheduling. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got_signo, got_code, got_pid, got_uid, got_tid;

static void must(int ok, const char *what)
{
	if (!ok) {
		printf("%s failed: %s\n", what, strerror(errno));
		exit(1);
	}
}

static void record(int signo, siginfo_t *info, void *context)
{
	(void)context;
	got_signo = signo;
	got_code = info->si_code;
	got_pid = info->si_pid;
	got_uid = info->si_uid;
	got_tid = (sig_atomic_t)syscall(SYS_gettid);
}

static void handle(int signo, int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = record;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	must(sigaction(signo, &sa, NULL) == 0, "sigaction");
}

static const char *code_name(int code)
{
	switch (code) {
	case SI_USER:
		return "SI_USER";
	case SI_TKILL:
		return "SI_TKILL";
	case SI_KERNEL:
		return "SI_KERNEL";
	default:
		return "other";
	}
}

/* Prints what the handler saw, comparing ids with the expected sender and thread. */
static void report(const char *what, pid_t sender, pid_t thread)
{
	printf("%s: signo=%d code=%s from sender=%s uid=%s on thread=%s\n", what, got_signo,
	       code_name(got_code), got_pid == sender ? "yes" : "no",
	       (uid_t)got_uid == getuid() ? "yes" : "no",
	       thread == 0 || got_tid == thread ? "yes" : "no");
	got_signo = 0;
}

static void errno_of(const char *what, int ret)
{
	printf("%s: %s\n", what, ret == 0 ? "ok" : strerrorname_np(errno));
}

/* A child that reports a SIGUSR1 from its parent, then exits 3. */
static void child_gets_kill(void)
{
	int ready[2], status, sent;
	char token;
	pid_t parent = getpid(), child;

	must(pipe(ready) == 0, "pipe");
	child = fork();
	must(child >= 0, "fork");
	if (child == 0) {
		sigset_t usr1;

		handle(SIGUSR1, 0);
		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		sigprocmask(SIG_BLOCK, &usr1, NULL);
		must(write(ready[1], "r", 1) == 1, "write");
		sigemptyset(&usr1);
		sigsuspend(&usr1);
		report("child got kill", parent, 0);
		_exit(3);
	}
	must(read(ready[0], &token, 1) == 1, "read");
	errno_of("kill(child, 0)", kill(child, 0));
	sent = kill(child, SIGUSR1);
	must(waitpid(child, &status, 0) == child, "waitpid");
	errno_of("kill(child, SIGUSR1)", sent);
	printf("child exited %d\n", WEXITSTATUS(status));
	errno_of("kill(reaped child, 0)", kill(child, 0));
	close(ready[0]);
	close(ready[1]);
}

/* A zombie still takes signal 0 and a real signal, which it drops. */
static void zombie_takes_signals(void)
{
	pid_t child = fork();
	siginfo_t info;

	must(child >= 0, "fork");
	if (child == 0)
		_exit(0);
	must(waitid(P_PID, child, &info, WEXITED | WNOWAIT) == 0, "waitid");
	errno_of("kill(zombie, 0)", kill(child, 0));
	errno_of("kill(zombie, SIGTERM)", kill(child, SIGTERM));
	must(waitpid(child, NULL, 0) == child, "waitpid");
}

/* kill(0): a child in a group of its own signals its group, itself included. */
static void own_group(void)
{
	int status;
	pid_t child = fork();

	must(child >= 0, "fork");
	if (child == 0) {
		must(setpgid(0, 0) == 0, "setpgid");
		errno_of("kill(0, SIGUSR1)", kill(0, SIGUSR1));
		report("kill own group", getpid(), 0);
		errno_of("kill(-own group, SIGUSR1)", kill(-getpgrp(), SIGUSR1));
		report("kill -group", getpid(), 0);
		_exit(0);
	}
	must(waitpid(child, &status, 0) == child && WIFEXITED(status), "own group");
}

static int wake[2];

/* Blocks in read() until a signal interrupts it or a byte comes. */
static void *reader(void *arg)
{
	char token;
	ssize_t n;

	*(pid_t *)arg = (pid_t)syscall(SYS_gettid);
	n = read(wake[0], &token, 1);
	printf("thread read: %s\n", n == 1 ? "a byte" : strerrorname_np(errno));
	return NULL;
}

/* tgkill to a thread blocked in read: its handler runs on that thread, and the read ends with
 * EINTR (no SA_RESTART) or goes on (SA_RESTART). */
static void thread_gets_tgkill(int flags, const char *what)
{
	pthread_t thread;
	pid_t tid = 0;
	sigset_t usr2;
	int sent;

	got_signo = 0;
	handle(SIGUSR2, flags);
	must(pipe(wake) == 0, "pipe");
	must(pthread_create(&thread, NULL, reader, &tid) == 0, "pthread_create");
	/* The main thread never takes it (the reader, made before, does not block it), so only a
	 * thread-directed delivery reaches the handler. */
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &usr2, NULL);
	while (!__atomic_load_n(&tid, __ATOMIC_SEQ_CST))
		usleep(1000);
	usleep(500 * 1000); /* let it block in read */
	sent = pthread_kill(thread, SIGUSR2);
	while (!got_signo)
		usleep(1000);
	/* Without SA_RESTART the read has ended already; with it, this byte ends it. */
	must(write(wake[1], "w", 1) == 1, "write");
	pthread_join(thread, NULL);
	errno_of(what, sent);
	report("thread got tgkill", getpid(), tid);
	close(wake[0]);
	close(wake[1]);
	pthread_sigmask(SIG_UNBLOCK, &usr2, NULL);
}

/* A write to a pipe nobody reads: SIGPIPE's default ends the writer; ignored, the write gives
 * EPIPE; handled, the handler sees the kernel's sender. */
static void broken_pipe(void)
{
	int fds[2], status;
	pid_t child;

	must(pipe(fds) == 0, "pipe");
	close(fds[0]);
	child = fork();
	must(child >= 0, "fork");
	if (child == 0) {
		signal(SIGPIPE, SIG_DFL);
		write(fds[1], "x", 1);
		_exit(0);
	}
	must(waitpid(child, &status, 0) == child, "waitpid");
	printf("writer to a broken pipe: %s %d\n", WIFSIGNALED(status) ? "killed by" : "exited",
	       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	signal(SIGPIPE, SIG_IGN);
	printf("ignored SIGPIPE: write gives %s\n",
	       write(fds[1], "x", 1) < 0 ? strerrorname_np(errno) : "no error");
	handle(SIGPIPE, 0);
	must(write(fds[1], "x", 1) < 0 && errno == EPIPE, "EPIPE");
	report("handled SIGPIPE", getpid(), 0);
	signal(SIGPIPE, SIG_DFL);
	close(fds[1]);
}

static void limits(void)
{
	struct rlimit old, now, set;
	int ready[2], status;
	pid_t child;
	char token;

	must(getrlimit(RLIMIT_CORE, &old) == 0, "getrlimit");
	set.rlim_cur = 4096;
	set.rlim_max = old.rlim_max;
	errno_of("setrlimit(RLIMIT_CORE, 4096)", setrlimit(RLIMIT_CORE, &set));
	must(getrlimit(RLIMIT_CORE, &now) == 0, "getrlimit");
	printf("core soft now %llu\n", (unsigned long long)now.rlim_cur);
	set.rlim_cur = 8192;
	set.rlim_max = 4096;
	errno_of("setrlimit soft above hard", setrlimit(RLIMIT_CORE, &set));
	errno_of("getrlimit(99)", getrlimit(99, &now));
	must(pipe(ready) == 0, "pipe");
	child = fork();
	must(child >= 0, "fork");
	if (child == 0) {
		must(getrlimit(RLIMIT_CORE, &now) == 0, "getrlimit");
		printf("child inherits core soft %llu\n", (unsigned long long)now.rlim_cur);
		must(write(ready[1], "r", 1) == 1, "write");
		pause();
		_exit(0);
	}
	must(read(ready[0], &token, 1) == 1, "read");
	close(ready[0]);
	close(ready[1]);
	set.rlim_cur = 1024;
	set.rlim_max = old.rlim_max;
	errno_of("prlimit(child, RLIMIT_CORE)", prlimit(child, RLIMIT_CORE, &set, &now));
	printf("child's old core soft %llu\n", (unsigned long long)now.rlim_cur);
	must(prlimit(child, RLIMIT_CORE, NULL, &now) == 0, "prlimit");
	printf("child's core soft now %llu\n", (unsigned long long)now.rlim_cur);
	must(getrlimit(RLIMIT_CORE, &now) == 0, "getrlimit");
	printf("own core soft still %llu\n", (unsigned long long)now.rlim_cur);
	kill(child, SIGKILL);
	must(waitpid(child, &status, 0) == child, "waitpid");
	printf("child killed by %d\n", WTERMSIG(status));
	setrlimit(RLIMIT_CORE, &old);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	child_gets_kill();
	zombie_takes_signals();
	errno_of("kill(self, 65)", kill(getpid(), 65));
	errno_of("tgkill(self, 0, SIGUSR1)", (int)syscall(SYS_tgkill, getpid(), 0, SIGUSR1));
	errno_of("tkill(self, -1)", (int)syscall(SYS_tkill, -1, SIGUSR1));
	handle(SIGUSR1, 0);
	errno_of("raise(SIGUSR1)", raise(SIGUSR1));
	report("raise", getpid(), (pid_t)syscall(SYS_gettid));
	errno_of("kill(self, SIGUSR1)", kill(getpid(), SIGUSR1));
	report("kill self", getpid(), 0);
	own_group();
	thread_gets_tgkill(0, "pthread_kill (no SA_RESTART)");
	thread_gets_tgkill(SA_RESTART, "pthread_kill (SA_RESTART)");
	broken_pipe();
	limits();
	printf("signals: done\n");
	return 0;
}
