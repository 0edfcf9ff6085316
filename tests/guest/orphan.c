// SPDX-License-Identifier: GPL-2.0
/* orphan: run as the first process of a pid namespace (natively) or of a container. A child
 * forks a grandchild and exits; the grandchild, orphaned, must be reparented to pid 1, which
 * must then reap it with its exit status. Ids are compared, never printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void must(int ok, const char *what)
{
	if (!ok) {
		printf("%s failed: %s\n", what, strerror(errno));
		exit(1);
	}
}

int main(void)
{
	int to_init[2], go[2], status;
	pid_t child, grandchild, reaped;
	char token;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("init is pid 1: %s\n", getpid() == 1 ? "yes" : "no");
	must(pipe(to_init) == 0 && pipe(go) == 0, "pipe");
	child = fork();
	must(child >= 0, "fork");
	if (child == 0) {
		grandchild = fork();
		must(grandchild >= 0, "fork");
		if (grandchild == 0) {
			/* Wait until the parent is gone and reaped. */
			must(read(go[0], &token, 1) == 1, "read");
			printf("orphan's parent is pid 1: %s\n", getppid() == 1 ? "yes" : "no");
			_exit(5);
		}
		must(write(to_init[1], &grandchild, sizeof(grandchild)) == sizeof(grandchild),
		     "write");
		_exit(4);
	}
	must(read(to_init[0], &grandchild, sizeof(grandchild)) == sizeof(grandchild), "read");
	must(waitpid(child, &status, 0) == child, "waitpid");
	printf("child exited %d\n", WEXITSTATUS(status));
	must(write(go[1], "g", 1) == 1, "write");
	reaped = wait(&status);
	printf("init reaped the orphan: %s, status %d\n", reaped == grandchild ? "yes" : "no",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	reaped = wait(&status);
	printf("then no child left: %s\n", reaped < 0 && errno == ECHILD ? "ECHILD" : "a child");
	printf("orphan: done\n");
	return 0;
}
