// SPDX-License-Identifier: GPL-2.0
/* stdinpoll: waits on its standard input, a pipe from the host side that gets a line only
 * once the program says it waits (by creating /tmp/stdinpoll.ready), then hangs up — with
 * poll and epoll, so that an inherited host file is seen to be polled through its own wait
 * queue. The writer hangs up once the line was read (/tmp/stdinpoll.read). Its standard output is a regular file, which epoll refuses. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static const char *result(long ret)
{
	static char text[32];

	if (ret < 0)
		return strerrorname_np(errno);
	snprintf(text, sizeof(text), "%ld", ret);
	return text;
}

static void wait_once(const char *what, int ep, int timeout)
{
	struct epoll_event event = { 0 };
	int n = epoll_wait(ep, &event, 1, timeout);

	printf("%s: %s", what, result(n));
	if (n > 0)
		printf(" [%lu %#x]", (unsigned long)event.data.u64, event.events);
	printf("\n");
}

int main(void)
{
	struct epoll_event event = { .events = EPOLLIN, .data.u64 = 7 };
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	int ep = epoll_create1(0), ready;
	char line[16] = "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ADD stdin (a pipe): %s\n", result(epoll_ctl(ep, EPOLL_CTL_ADD, 0, &event)));
	printf("ADD stdout (a regular file): %s\n",
	       result(epoll_ctl(ep, EPOLL_CTL_ADD, 1, &event)));
	wait_once("before any data", ep, 0);
	printf("poll before any data: %s", result(poll(&pfd, 1, 0)));
	printf(" revents %#x\n", pfd.revents);
	ready = open("/tmp/stdinpoll.ready", O_CREAT | O_WRONLY, 0600);
	close(ready);
	wait_once("woken by the line", ep, -1);
	printf("read: %s", result(read(0, line, sizeof(line) - 1)));
	printf(" \"%s\"\n", strtok(line, "\n"));
	ready = open("/tmp/stdinpoll.read", O_CREAT | O_WRONLY, 0600);
	close(ready);
	wait_once("the writer hung up", ep, -1);
	printf("poll after the hang-up: %s", result(poll(&pfd, 1, -1)));
	printf(" revents %#x\n", pfd.revents);
	printf("stdinpoll: done\n");
	return 0;
}
