// SPDX-License-Identifier: GPL-2.0
/* ids [MODE]: prints the ids the kernel gives this task, straight from the syscalls.
 * MODE: (none) this task; fork2: a child and a grandchild; vfork: a vfork child;
 * threads: a second thread; exec: a forked child after execve. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *who)
{
	printf("%s: pid=%ld ppid=%ld tid=%ld\n", who, syscall(SYS_getpid), syscall(SYS_getppid),
	       syscall(SYS_gettid));
}

static void *thread_main(void *arg)
{
	show("thread");
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	pid_t child;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "execd")) {
		show("execd");
		return 0;
	}
	show("self");
	if (!strcmp(mode, "fork2")) {
		child = fork();
		if (child == 0) {
			show("child");
			if (fork() == 0) {
				show("grandchild");
				_exit(0);
			}
			wait(NULL);
			_exit(0);
		}
		waitpid(child, NULL, 0);
	} else if (!strcmp(mode, "vfork")) {
		child = vfork();
		if (child == 0) {
			char line[96];
			int n = snprintf(line, sizeof(line), "vfork child: pid=%ld ppid=%ld\n",
					 syscall(SYS_getpid), syscall(SYS_getppid));
			write(1, line, n);
			_exit(0);
		}
		waitpid(child, NULL, 0);
	} else if (!strcmp(mode, "threads")) {
		pthread_t t;

		pthread_create(&t, NULL, thread_main, NULL);
		pthread_join(t, NULL);
	} else if (!strcmp(mode, "exec")) {
		child = fork();
		if (child == 0) {
			/* The container has no /proc: the program by its path. */
			execl("/tests/ids", "ids", "execd", (char *)NULL);
			_exit(127);
		}
		waitpid(child, NULL, 0);
	}
	return 0;
}
