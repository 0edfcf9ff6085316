// SPDX-License-Identifier: GPL-2.0
/* ptydrive: drives an interactive program through a pseudo-terminal of the host, as a user at
 * a terminal would: `ptydrive CMD...` runs CMD on the slave of a new host pty (its session's
 * controlling terminal), then types lines and control characters at the master and waits for
 * what should appear. Meant for `rvisor run -t -i ... bash`: a command's output, ^C ending a
 * foreground `sleep`, ^Z stopping one and `fg` resuming it, a window size change reaching
 * `stty size`, and `exit`. Prints one line per step. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int master;
static char seen[1 << 16];
static size_t seen_len;

/* Reads the master until `text` has appeared since the last mark, or `seconds` pass. */
static int expect(const char *text, int seconds)
{
	time_t end = time(NULL) + seconds;
	static size_t mark;

	for (;;) {
		seen[seen_len] = 0;
		char *at = strstr(seen + mark, text);
		if (at) {
			mark = (size_t)(at - seen) + strlen(text);
			return 1;
		}
		int left = (int)(end - time(NULL));
		if (left <= 0)
			return 0;
		struct pollfd pfd = { .fd = master, .events = POLLIN };
		if (poll(&pfd, 1, left * 1000) <= 0)
			return 0;
		ssize_t got = read(master, seen + seen_len, sizeof(seen) - 1 - seen_len);
		if (got <= 0)
			return 0;
		seen_len += got;
	}
}

static void type(const char *text)
{
	write(master, text, strlen(text));
}

static void step(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "ok" : "MISSING");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: ptydrive CMD...\n");
		return 2;
	}
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
		perror("ptmx");
		return 1;
	}
	struct winsize ws = { .ws_row = 25, .ws_col = 80 };
	ioctl(master, TIOCSWINSZ, &ws);
	pid_t child = fork();
	if (child == 0) {
		setsid();
		int slave = open(ptsname(master), O_RDWR);
		if (slave < 0) {
			perror("slave");
			_exit(1);
		}
		ioctl(slave, TIOCSCTTY, 0);
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		close(slave);
		close(master);
		execvp(argv[1], argv + 1);
		perror("exec");
		_exit(127);
	}
	step("prompt", expect("READY$ ", 60));
	type("echo hi-$((6*7))\r");
	step("echo", expect("hi-42", 30));
	step("prompt again", expect("READY$ ", 30));
	ws.ws_row = 40;
	ws.ws_col = 120;
	ioctl(master, TIOCSWINSZ, &ws);
	usleep(300000);
	type("stty size\r");
	step("window size after a change", expect("40 120", 30));
	step("prompt after stty", expect("READY$ ", 30));
	type("sleep 100\r");
	usleep(1500000);
	type("\x03");
	step("^C ends the foreground job", expect("READY$ ", 30));
	type("echo status-$?\r");
	step("its status", expect("status-130", 30));
	step("prompt after status", expect("READY$ ", 30));
	type("sleep 100\r");
	usleep(1500000);
	type("\x1a");
	step("^Z stops it", expect("Stopped", 30));
	step("prompt after ^Z", expect("READY$ ", 30));
	type("fg\r");
	step("fg names it", expect("sleep 100", 30));
	usleep(1500000);
	type("\x03");
	step("^C ends it in the foreground", expect("READY$ ", 30));
	type("exit 3\r");
	int status = 0;
	for (int i = 0; i < 300; i++) {
		if (waitpid(child, &status, WNOHANG) == child)
			break;
		struct pollfd pfd = { .fd = master, .events = POLLIN };
		if (poll(&pfd, 1, 100) > 0) {
			char buf[4096];
			if (read(master, buf, sizeof(buf)) <= 0)
				usleep(100000);
		}
	}
	printf("exit status: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	if (getenv("PTYDRIVE_SHOW")) {
		seen[seen_len] = 0;
		fprintf(stderr, "%s\n", seen);
	}
	return 0;
}
