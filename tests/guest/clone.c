// SPDX-License-Identifier: GPL-2.0
/* clone: new tasks made every way Linux accepts, and refused the ways it refuses, printed as the
 * kernel answers so that a native and a contained run can be compared line by line.
 *
 *   clone          flag combinations of clone(2) and clone3(2): errnos, and what the child sees
 *   clone threads  N rounds of threads made by raw clone with their own TLS, and N by
 *                  pthread_create, each checking its TLS and id
 *   clone namespaces  what a container refuses that root on the host may do: new namespaces,
 *                  and a chosen pid (clone3's set_tid) */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

extern char **environ;

static const char *err(long ret)
{
	return ret < 0 ? strerrorname_np(errno) : "ok";
}

/* ---- raw clone threads with their own TLS ---- */

#define STACK_SIZE (64 * 1024)
#define TLS_SIZE 512

/* What a raw thread reports back: its fs base and its tid as it saw them. */
struct report {
	uintptr_t fs;
	long tid;
	uintptr_t self;
};

static struct report reports[1];
static volatile int thread_tid; /* CLONE_CHILD_CLEARTID clears it, CLONE_PARENT_SETTID sets it */

/* Runs with a TLS block the libc knows nothing of: raw system calls only. */
static int raw_thread(void *arg)
{
	struct report *r = arg;
	uintptr_t fs, self;

	syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
	__asm__ volatile("mov %%fs:0, %0" : "=r"(self));
	r->fs = fs;
	r->self = self;
	r->tid = syscall(SYS_gettid);
	return 0;
}

/* A TLS block laid out as x86-64 expects: its first word points to itself, and the stack
 * protector's canary (at %fs:0x28) is the caller's. */
static void *new_tls(void)
{
	uintptr_t *tls = aligned_alloc(64, TLS_SIZE);
	uintptr_t canary;

	memset(tls, 0, TLS_SIZE);
	__asm__ volatile("mov %%fs:0x28, %0" : "=r"(canary));
	tls[0] = (uintptr_t)tls;
	tls[5] = canary;
	return tls;
}

static void wait_cleared(volatile int *tid)
{
	while (*tid != 0)
		syscall(SYS_futex, tid, FUTEX_WAIT, *tid, NULL, NULL, 0);
}

/* One raw thread: 0 if it saw its own TLS and a tid of its own, else why not. */
static const char *raw_thread_round(void)
{
	const int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			  CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
			  CLONE_CHILD_CLEARTID;
	char *stack = malloc(STACK_SIZE);
	void *tls = new_tls();
	const char *why = NULL;
	int tid;

	memset(reports, 0, sizeof(reports));
	thread_tid = -1;
	tid = clone(raw_thread, stack + STACK_SIZE, flags, reports, &thread_tid, tls, &thread_tid);
	if (tid < 0) {
		why = strerrorname_np(errno);
	} else {
		wait_cleared(&thread_tid);
		if (reports[0].fs != (uintptr_t)tls || reports[0].self != (uintptr_t)tls)
			why = "wrong TLS";
		else if (reports[0].tid != tid || tid == getpid())
			why = "wrong tid";
	}
	free(stack);
	free(tls);
	return why;
}

static __thread int thread_local = 7;

static void *pthread_main(void *arg)
{
	int *seen = arg;

	*seen = thread_local;
	thread_local = 9;
	return (void *)(long)syscall(SYS_gettid);
}

static int threads(int rounds)
{
	int i, seen;
	void *tid;
	pthread_t t;

	for (i = 0; i < rounds; i++) {
		const char *why = raw_thread_round();

		if (why) {
			printf("raw clone thread round %d: %s\n", i, why);
			return 1;
		}
	}
	printf("%d raw clone threads: ok\n", rounds);
	for (i = 0; i < rounds; i++) {
		seen = 0;
		if (pthread_create(&t, NULL, pthread_main, &seen) || pthread_join(t, &tid)) {
			printf("pthread round %d: failed\n", i);
			return 1;
		}
		if (seen != 7 || thread_local != 7 || (long)tid == getpid()) {
			printf("pthread round %d: TLS %d/%d tid %ld\n", i, seen, thread_local,
			       (long)tid);
			return 1;
		}
	}
	printf("%d pthreads: ok\n", rounds);
	return 0;
}

/* ---- flag combinations ---- */

static int child_exit(void *arg)
{
	return (int)(long)arg;
}

/* clone(flags) of a child that exits with 3; prints the errno or how it ended. */
static void try_clone(const char *what, int flags)
{
	char *stack = malloc(STACK_SIZE);
	int status = 0;
	pid_t pid = clone(child_exit, stack + STACK_SIZE, flags, (void *)3L);

	if (pid < 0) {
		printf("clone(%s): %s\n", what, strerrorname_np(errno));
	} else {
		pid_t got = waitpid(pid, &status, __WALL);

		printf("clone(%s): child %s, status %#x\n", what, got == pid ? "reaped" : "lost",
		       status);
	}
	free(stack);
}

static long clone3(struct clone_args *args, size_t size)
{
	return syscall(SYS_clone3, args, size);
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* How a clone3 child exits: 4 if SIGUSR1 has the default action, 6 if it has a handler. */
static int handler_code(void)
{
	struct sigaction action;

	sigaction(SIGUSR1, NULL, &action);
	return action.sa_handler == SIG_DFL ? 4 : 6;
}

/* clone3 of a child that exits at once (a fork: no stack of its own) with handler_code(). */
static void try_clone3(const char *what, struct clone_args *args, size_t size)
{
	long pid = clone3(args, size);
	int status = 0;

	if (pid == 0)
		_exit(handler_code());
	if (pid < 0) {
		printf("clone3(%s): %s\n", what, strerrorname_np(errno));
		return;
	}
	printf("clone3(%s): child %s, status %#x\n", what,
	       waitpid(pid, &status, __WALL) == pid ? "reaped" : "lost", status);
}

/* The thread that execs while the main thread sleeps: the process goes on as the new program,
 * with the same pid. */
static void *exec_from_thread(void *arg)
{
	char pid[16];
	char *argv[] = { "clone", "after-exec", pid, NULL };

	(void)arg;
	snprintf(pid, sizeof(pid), "%d", getpid());
	execve("/tests/clone", argv, environ);
	printf("execve from a thread: %s\n", strerrorname_np(errno));
	_exit(1);
}

static void exec_in_threaded_process(void)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		pthread_t thread;

		pthread_create(&thread, NULL, exec_from_thread, NULL);
		for (;;)
			pause();
	}
	waitpid(pid, &status, 0);
	printf("exec from a thread: status %#x\n", status);
}

static void combinations(void)
{
	struct clone_args args;
	char big[sizeof(args) + 16];
	int status;
	pid_t pid;
	posix_spawn_file_actions_t actions;
	char *argv[] = { "true", NULL };

	try_clone("SIGCHLD", SIGCHLD);
	try_clone("CLONE_THREAD alone", CLONE_THREAD | SIGCHLD);
	try_clone("CLONE_SIGHAND without CLONE_VM", CLONE_SIGHAND | SIGCHLD);
	try_clone("CLONE_NEWNS|CLONE_FS", CLONE_NEWNS | CLONE_FS | SIGCHLD);
	try_clone("CLONE_NEWUSER|CLONE_FS", CLONE_NEWUSER | CLONE_FS | SIGCHLD);
	try_clone("CLONE_PARENT|CLONE_VM", CLONE_PARENT | CLONE_VM | SIGCHLD);
	try_clone("CLONE_VM|CLONE_VFORK", CLONE_VM | CLONE_VFORK | SIGCHLD);
	try_clone("CLONE_VM", CLONE_VM | SIGCHLD);
	try_clone("no exit signal", 0);
	try_clone("CLONE_SYSVSEM|CLONE_IO", CLONE_SYSVSEM | CLONE_IO | SIGCHLD);
	try_clone("CLONE_UNTRACED|CLONE_DETACHED", CLONE_UNTRACED | CLONE_DETACHED | SIGCHLD);
	try_clone("CLONE_PIDFD|CLONE_DETACHED", CLONE_PIDFD | CLONE_DETACHED | SIGCHLD);

	{
		char *missing[] = { "missing", NULL };
		int ret = posix_spawn(&pid, "/nonexistent", NULL, NULL, missing, environ);

		printf("posix_spawn of a missing program: %s\n", ret ? strerrorname_np(ret) : "ok");
		if (!ret)
			waitpid(pid, &status, 0);
	}
	exec_in_threaded_process();
	if (posix_spawn_file_actions_init(&actions) == 0) {
		int ret = posix_spawn(&pid, "/bin/true", &actions, NULL, argv, environ);

		printf("posix_spawn: %s", ret ? strerrorname_np(ret) : "ok");
		if (!ret && waitpid(pid, &status, 0) == pid)
			printf(", status %#x", status);
		printf("\n");
		posix_spawn_file_actions_destroy(&actions);
	}

	memset(&args, 0, sizeof(args));
	args.exit_signal = SIGCHLD;
	try_clone3("fork", &args, sizeof(args));
	try_clone3("version 0 size", &args, CLONE_ARGS_SIZE_VER0);
	try_clone3("size too small", &args, CLONE_ARGS_SIZE_VER0 - 8);
	try_clone3("size past a page", &args, 4097);
	memset(big, 0, sizeof(big));
	memcpy(big, &args, sizeof(args));
	try_clone3("larger struct, zero tail", (struct clone_args *)big, sizeof(big));
	big[sizeof(big) - 1] = 1;
	try_clone3("larger struct, non-zero tail", (struct clone_args *)big, sizeof(big));
	args.exit_signal = 65;
	try_clone3("exit signal 65", &args, sizeof(args));
	args.exit_signal = SIGCHLD;
	args.flags = 1ULL << 40;
	try_clone3("unknown flag", &args, sizeof(args));
	args.flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
	try_clone3("CLONE_THREAD with an exit signal", &args, sizeof(args));
	args.flags = 0;
	args.stack = 0x10000;
	try_clone3("stack without size", &args, sizeof(args));
	args.stack = 0;
	args.stack_size = 4096;
	try_clone3("size without stack", &args, sizeof(args));
	args.stack_size = 0;
	args.flags = CLONE_CLEAR_SIGHAND | CLONE_SIGHAND | CLONE_VM;
	try_clone3("CLONE_CLEAR_SIGHAND|CLONE_SIGHAND", &args, sizeof(args));
	signal(SIGUSR1, on_usr1);
	args.flags = 0;
	try_clone3("SIGUSR1 handled", &args, sizeof(args));
	args.flags = CLONE_CLEAR_SIGHAND;
	try_clone3("CLONE_CLEAR_SIGHAND", &args, sizeof(args));
	signal(SIGUSR1, SIG_DFL);
	args.flags = CLONE_DETACHED;
	try_clone3("CLONE_DETACHED", &args, sizeof(args));
	args.flags = 0;
	printf("clone3(NULL): %s\n", err(clone3(NULL, sizeof(args))));
	printf("clone3(bad pointer): %s\n", err(clone3((void *)8, sizeof(args))));
}

static void namespaces(void)
{
	struct clone_args args;
	pid_t tids[2] = { 300, 300 };

	try_clone("CLONE_NEWNS", CLONE_NEWNS | SIGCHLD);
	try_clone("CLONE_NEWPID", CLONE_NEWPID | SIGCHLD);
	try_clone("CLONE_NEWNET", CLONE_NEWNET | SIGCHLD);
	try_clone("CLONE_NEWUSER", CLONE_NEWUSER | SIGCHLD);
	memset(&args, 0, sizeof(args));
	args.exit_signal = SIGCHLD;
	args.flags = CLONE_NEWTIME;
	try_clone3("CLONE_NEWTIME", &args, sizeof(args));
	args.flags = 0;
	args.set_tid = (uintptr_t)tids;
	args.set_tid_size = 1;
	try_clone3("set_tid 300", &args, sizeof(args));
	tids[0] = 0;
	try_clone3("set_tid 0", &args, sizeof(args));
	args.set_tid_size = 40;
	try_clone3("set_tid_size 40", &args, sizeof(args));
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && !strcmp(argv[1], "after-exec")) {
		printf("after exec from a thread: same pid %s, tid is pid %s\n",
		       atoi(argv[2]) == getpid() ? "yes" : "no",
		       syscall(SYS_gettid) == getpid() ? "yes" : "no");
		return 5;
	}
	if (argc > 1 && !strcmp(argv[1], "namespaces")) {
		namespaces();
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "threads"))
		return threads(atoi(argv[2]));
	combinations();
	printf("clone: done\n");
	return 0;
}
