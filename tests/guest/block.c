// SPDX-License-Identifier: GPL-2.0
/* block: a child that blocks reading its stdin (a pipe or FIFO the test holds open) while the
 * parent blocks in wait4 for it. The test samples both tasks' CPU time from the host while they
 * wait, then writes a line, which ends the read, the child and the wait. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	char buf[64];
	int status;
	pid_t child;

	setvbuf(stdout, NULL, _IOLBF, 0);
	child = fork();
	if (child < 0) {
		perror("fork");
		return 1;
	}
	if (child == 0) {
		ssize_t n;

		printf("child: reading\n");
		n = read(0, buf, sizeof(buf));
		printf("child: read %zd bytes\n", n);
		_exit(n > 0 ? 0 : 1);
	}
	printf("parent: waiting\n");
	if (wait4(child, &status, 0, NULL) != child) {
		perror("wait4");
		return 1;
	}
	printf("parent: child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	printf("block: done\n");
	return 0;
}
