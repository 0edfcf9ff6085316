// SPDX-License-Identifier: GPL-2.0
/* wait: the statuses a parent's wait reports for children that end in the ways a shell's or a
 * build tool's children do: a vfork child's _exit, a vfork child's exec that exits or is
 * killed, a vfork child killed before it execs, and the same through fork; printed in hex in a
 * fixed order so that a native and a contained run can be compared. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Waits for `child` and prints the status the kernel built. */
static void report(const char *what, pid_t child)
{
	int status = 0;
	pid_t got = waitpid(child, &status, 0);

	if (got != child)
		printf("%s: waitpid %s\n", what, got < 0 ? strerrorname_np(errno) : "another pid");
	else
		printf("%s: status 0x%x\n", what, status);
}

/* What a child does once it runs. */
enum ending { EXIT_42, EXEC_EXIT_7, EXEC_KILLED, KILLED_SELF, THREAD_EXIT_5, EXEC_MISSING };

static void end(enum ending how)
{
	switch (how) {
	case EXIT_42:
		_exit(42);
	case EXEC_EXIT_7:
		execl("/bin/sh", "sh", "-c", "exit 7", (char *)0);
		break;
	case EXEC_KILLED:
		execl("/bin/sh", "sh", "-c", "kill -TERM $$", (char *)0);
		break;
	case KILLED_SELF:
		kill(getpid(), SIGUSR1);
		break;
	case THREAD_EXIT_5:
		syscall(SYS_exit, 5);
		break;
	case EXEC_MISSING:
		execl("/no/such/program", "program", (char *)0);
		break;
	}
	_exit(127);
}

static const char *const names[] = { "exit 42", "exec, exit 7", "exec, killed", "killed",
				     "thread exit 5", "exec missing" };

/* Every ending through vfork and through fork, from the calling thread. */
static void *every_ending(void *prefix)
{
	enum ending how;

	for (how = EXIT_42; how <= EXEC_MISSING; how++) {
		char what[64];
		pid_t child = vfork();

		if (child == 0)
			end(how);
		snprintf(what, sizeof(what), "%svfork, %s", (char *)prefix, names[how]);
		report(what, child);
		child = fork();
		if (child == 0)
			end(how);
		snprintf(what, sizeof(what), "%sfork, %s", (char *)prefix, names[how]);
		report(what, child);
	}
	return NULL;
}

/* posix_spawn of a shell that exits with `code`. */
static void spawn_and_report(const char *script)
{
	char *argv[] = { "sh", "-c", (char *)script, NULL };
	char what[64];
	pid_t child;
	int err = posix_spawn(&child, "/bin/sh", NULL, NULL, argv, NULL);

	snprintf(what, sizeof(what), "posix_spawn sh -c '%s'", script);
	if (err != 0)
		printf("%s: %s\n", what, strerrorname_np(err));
	else
		report(what, child);
}

int main(void)
{
	pthread_t thread;

	setvbuf(stdout, NULL, _IOLBF, 0);
	every_ending("");
	/* A second thread of the parent makes the children, the first one waiting for it. */
	if (pthread_create(&thread, NULL, every_ending, "thread: ") != 0 ||
	    pthread_join(thread, NULL) != 0)
		printf("thread: failed\n");
	spawn_and_report("exit 3");
	spawn_and_report("kill -QUIT $$");
	printf("wait: done\n");
	return 0;
}
