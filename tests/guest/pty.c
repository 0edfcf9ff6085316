// SPDX-License-Identifier: GPL-2.0
/* pty: pseudo-terminals as a program sees them — posix_openpt/grantpt/unlockpt/ptsname, the
 * slave locked until unlocked, termios round trips, canonical and raw reads (VMIN/VTIME),
 * echo and erase, FIONREAD and poll, ^C to the foreground group, TIOCSWINSZ and SIGWINCH,
 * SIGTTOU/SIGTTIN for a background group, the controlling terminal (acquired on open by a
 * session leader, /dev/tty, lost by setsid, TIOCSCTTY rules) and hangup when the master
 * closes. Printed without pids or pty numbers beyond the first, so that a native and a
 * contained run can be compared. `pty hold` opens a pty and keeps it until /tmp/pty-release
 * exists (for the isolation case). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static const char *err(int ret)
{
	return ret < 0 ? strerrorname_np(errno) : "ok";
}

/* Prints `what` and the bytes the master has to read (waiting up to 300 ms for more each
 * time), escaped. */
static void drain(const char *what, int master)
{
	char buf[512], out[2048];
	size_t len = 0;
	struct pollfd pfd = { .fd = master, .events = POLLIN };

	while (poll(&pfd, 1, 300) > 0 && (pfd.revents & POLLIN)) {
		ssize_t got = read(master, buf, sizeof(buf));

		if (got <= 0)
			break;
		for (ssize_t i = 0; i < got && len + 5 < sizeof(out); i++) {
			unsigned char c = buf[i];

			if (c >= 32 && c < 127 && c != '\\')
				out[len++] = c;
			else
				len += snprintf(out + len, sizeof(out) - len, "\\x%02x", c);
		}
	}
	out[len] = 0;
	printf("%s: \"%s\"\n", what, out);
}

/* Reads the slave once and prints what came, escaped. */
static void read_slave(const char *what, int slave, size_t want)
{
	char buf[256], out[1024];
	size_t len = 0;
	ssize_t got = read(slave, buf, want < sizeof(buf) ? want : sizeof(buf));

	if (got < 0) {
		printf("%s: %s\n", what, strerrorname_np(errno));
		return;
	}
	for (ssize_t i = 0; i < got; i++) {
		unsigned char c = buf[i];

		if (c >= 32 && c < 127)
			out[len++] = c;
		else
			len += snprintf(out + len, sizeof(out) - len, "\\x%02x", c);
	}
	out[len] = 0;
	printf("%s: %zd \"%s\"\n", what, got, out);
}

static void show_termios(const char *what, int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t) < 0) {
		printf("%s: %s\n", what, strerrorname_np(errno));
		return;
	}
	printf("%s: iflag %o oflag %o cflag %o lflag %o cc", what, t.c_iflag, t.c_oflag,
	       t.c_cflag, t.c_lflag);
	for (int i = 0; i < 17; i++)
		printf(" %d", t.c_cc[i]);
	printf(" speed %u/%u\n", (unsigned)cfgetispeed(&t), (unsigned)cfgetospeed(&t));
}

static int open_pair(int *slave_out, char *name, size_t size)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);

	if (master < 0)
		return -1;
	if (grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, size)) {
		close(master);
		return -1;
	}
	*slave_out = open(name, O_RDWR | O_NOCTTY);
	return master;
}

static volatile sig_atomic_t got_signal;

static void note(int sig)
{
	got_signal = sig;
}

/* Waits up to 3 s for a handler to note a signal. */
static int await_signal(void)
{
	for (int i = 0; i < 300 && !got_signal; i++)
		usleep(10000);
	return got_signal;
}

static void describe_status(const char *what, int status)
{
	if (WIFSTOPPED(status))
		printf("%s: stopped by %s\n", what, sigabbrev_np(WSTOPSIG(status)));
	else if (WIFSIGNALED(status))
		printf("%s: killed by %s\n", what, sigabbrev_np(WTERMSIG(status)));
	else
		printf("%s: exited %d\n", what, WEXITSTATUS(status));
}

static void basics(void)
{
	char name[64];
	int master = posix_openpt(O_RDWR | O_NOCTTY), lock = -1, number = -1;
	struct stat st;

	printf("posix_openpt: %s\n", err(master));
	printf("grantpt: %s\n", err(grantpt(master)));
	printf("ptsname: %s\n", ptsname_r(master, name, sizeof(name)) ? "failed" : name);
	const char *got = err(ioctl(master, TIOCGPTLCK, &lock));
	printf("TIOCGPTLCK: %s %d\n", got, lock);
	printf("open while locked: %s\n", err(open(name, O_RDWR | O_NOCTTY)));
	printf("unlockpt: %s\n", err(unlockpt(master)));
	got = err(ioctl(master, TIOCGPTN, &number));
	printf("TIOCGPTN: %s %d\n", got, number);
	int slave = open(name, O_RDWR | O_NOCTTY), queued = -1;
	printf("open slave: %s\n", err(slave));
	ioctl(slave, FIONREAD, &queued);
	printf("nothing typed yet: FIONREAD %d\n", queued);
	printf("tcflush: %s\n", err(tcflush(slave, TCIFLUSH)));
	printf("TIOCGPTN on the slave: %s\n", err(ioctl(slave, TIOCGPTN, &number)));
	int excl = -1;
	ioctl(slave, TIOCEXCL);
	ioctl(slave, TIOCGEXCL, &excl);
	int again = open(name, O_RDWR | O_NOCTTY);
	printf("TIOCEXCL: %d, reopened with CAP_SYS_ADMIN: %s\n", excl, err(again));
	close(again);
	ioctl(slave, TIOCNXCL);
	fstat(slave, &st);
	printf("slave: char %d, %u:%u, mode %o, gid %u\n", S_ISCHR(st.st_mode), major(st.st_rdev),
	       minor(st.st_rdev), st.st_mode & 07777, (unsigned)st.st_gid);
	printf("isatty: %d %d, ttyname: %s\n", isatty(master), isatty(slave),
	       ttyname(slave) ? ttyname(slave) : strerrorname_np(errno));
	int peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	printf("TIOCGPTPEER: %s\n", err(peer));
	struct stat peer_st;
	fstat(peer, &peer_st);
	printf("peer is the slave: %d\n", peer_st.st_rdev == st.st_rdev);
	close(peer);
	char second[64];
	int slave2, master2 = open_pair(&slave2, second, sizeof(second));
	printf("second pty: %s\n", master2 < 0 ? "failed" : second);
	close(slave2);
	close(master2);

	show_termios("slave termios", slave);
	show_termios("master termios", master);
	struct termios t;
	tcgetattr(slave, &t);
	cfmakeraw(&t);
	t.c_cc[VMIN] = 3;
	printf("tcsetattr raw: %s\n", err(tcsetattr(slave, TCSANOW, &t)));
	show_termios("raw termios", slave);
	t.c_cflag |= PARENB;
	t.c_cflag = (t.c_cflag & ~CSIZE) | CS7;
	cfsetospeed(&t, B9600);
	cfsetispeed(&t, B9600);
	tcsetattr(master, TCSADRAIN, &t);
	show_termios("through the master, 7 bits and parity asked", slave);

	/* Raw: bytes as they come, VMIN 3. */
	write(master, "ab", 2);
	usleep(100000);
	struct pollfd pfd = { .fd = slave, .events = POLLIN };
	printf("poll with 2 of VMIN 3: %d\n", poll(&pfd, 1, 0));
	write(master, "\rc", 2);
	read_slave("raw read, VMIN 3", slave, 100);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 2;
	tcsetattr(slave, TCSANOW, &t);
	read_slave("VMIN 0 VTIME 2, nothing typed", slave, 100);
	t.c_cc[VTIME] = 0;
	tcsetattr(slave, TCSANOW, &t);
	read_slave("VMIN 0 VTIME 0, nothing typed", slave, 100);
	t.c_cc[VMIN] = 5;
	t.c_cc[VTIME] = 3;
	tcsetattr(slave, TCSANOW, &t);
	write(master, "ab", 2);
	read_slave("VMIN 5 VTIME 3, two typed", slave, 100);
	write(master, "abcdefg", 7);
	usleep(100000);
	read_slave("VMIN 5 VTIME 3, seven typed", slave, 100);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	tcsetattr(slave, TCSANOW, &t);
	drain("raw: nothing echoed", master);

	/* Canonical with echo. */
	tcgetattr(slave, &t);
	t.c_iflag = ICRNL | IXON;
	t.c_oflag = OPOST | ONLCR;
	t.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
	tcsetattr(slave, TCSAFLUSH, &t);
	write(master, "abc", 3);
	usleep(100000);
	ioctl(slave, FIONREAD, &queued);
	pfd.revents = 0;
	printf("no line yet: FIONREAD %d, poll %d\n", queued, poll(&pfd, 1, 0));
	write(master, "\x7f" "d\x17" "word\r", 8);
	usleep(100000);
	ioctl(slave, FIONREAD, &queued);
	printf("a line: FIONREAD %d, poll %d\n", queued, poll(&pfd, 1, 0));
	read_slave("canonical read", slave, 100);
	drain("echo", master);
	write(master, "one\ntwo\n", 8);
	read_slave("first line of two", slave, 100);
	read_slave("second line", slave, 2);
	read_slave("its rest", slave, 100);
	write(master, "eof\x04\x04", 5);
	read_slave("line ended by VEOF", slave, 100);
	read_slave("VEOF alone", slave, 100);
	write(master, "x\x15y\n", 4);
	read_slave("after VKILL", slave, 100);
	drain("echo", master);
	write(slave, "out\tput\n", 8);
	drain("slave output with ONLCR", master);
	t.c_lflag &= ~ECHO;
	t.c_lflag |= ECHONL;
	tcsetattr(slave, TCSANOW, &t);
	write(master, "secret\n", 7);
	read_slave("without ECHO", slave, 100);
	drain("ECHONL echo", master);
	t.c_iflag = IGNCR;
	tcsetattr(slave, TCSANOW, &t);
	write(master, "a\rb\n", 4);
	read_slave("IGNCR", slave, 100);
	t.c_iflag = INLCR;
	t.c_lflag &= ~ICANON;
	t.c_cc[VMIN] = 1;
	tcsetattr(slave, TCSANOW, &t);
	write(master, "\n", 1);
	read_slave("INLCR raw", slave, 100);

	struct winsize ws = { 0 };
	printf("TIOCGWINSZ: %s %dx%d\n", err(ioctl(slave, TIOCGWINSZ, &ws)), ws.ws_row, ws.ws_col);
	ws.ws_row = 30;
	ws.ws_col = 100;
	printf("TIOCSWINSZ on the master: %s\n", err(ioctl(master, TIOCSWINSZ, &ws)));
	memset(&ws, 0, sizeof(ws));
	ioctl(slave, TIOCGWINSZ, &ws);
	printf("slave size: %dx%d\n", ws.ws_row, ws.ws_col);
	pid_t pgrp = -1;
	printf("TIOCGPGRP on a terminal not ours: %s\n", err(ioctl(slave, TIOCGPGRP, &pgrp)));
	got = err(ioctl(master, TIOCGPGRP, &pgrp));
	printf("TIOCGPGRP on the master: %s %d\n", got, pgrp);
	printf("TIOCGSID on the master: %s\n", err(ioctl(master, TIOCGSID, &pgrp)));
	printf("TIOCSCTTY not a session leader: %s\n", err(ioctl(slave, TIOCSCTTY, 0)));
	printf("TIOCNOTTY not ours: %s\n", err(ioctl(slave, TIOCNOTTY)));
	printf("TIOCSPGRP not ours: %s\n", err(ioctl(slave, TIOCSPGRP, &pgrp)));
	printf("open /dev/tty without one: %s\n", err(open("/dev/tty", O_RDWR)));

	write(slave, "bye", 3);
	close(slave);
	drain("after the slave closed", master);
	char c;
	printf("master read with the slave closed: %s\n", err(read(master, &c, 1)));
	pfd.fd = master;
	pfd.events = POLLIN | POLLOUT;
	poll(&pfd, 1, 0);
	printf("master poll: HUP %d\n", !!(pfd.revents & POLLHUP));
	close(master);
	printf("slave gone with its master: %s\n", err(open(name, O_RDWR | O_NOCTTY)));
}

/* A session leader with the pty as controlling terminal, in the foreground. */
static void session_child(int master, const char *name, int ready)
{
	/* The master must close in the parent alone for the hangup. */
	close(master);
	setsid();
	/* A process of the session from before the terminal was acquired does not get it. */
	int before[2];
	pipe(before);
	pid_t early = fork();
	if (early == 0) {
		char go;
		close(before[1]);
		read(before[0], &go, 1);
		printf("forked before the terminal was acquired: /dev/tty %s\n",
		       err(open("/dev/tty", O_RDWR)));
		exit(0);
	}
	close(before[0]);
	int slave = open(name, O_RDWR); /* no O_NOCTTY: becomes the controlling terminal */
	pid_t pgrp = -1, sid = -1;

	printf("child: open as session leader: %s\n", err(slave));
	printf("child: TIOCGPGRP is its group: %d\n",
	       ioctl(slave, TIOCGPGRP, &pgrp) == 0 && pgrp == getpgrp());
	printf("child: TIOCGSID is its session: %d\n",
	       ioctl(slave, TIOCGSID, &sid) == 0 && sid == getsid(0));
	int tty = open("/dev/tty", O_RDWR);
	struct stat a, b;
	fstat(tty, &a);
	fstat(slave, &b);
	printf("child: /dev/tty: %s, its node %u:%u (the slave %u)\n", err(tty),
	       major(a.st_rdev), minor(a.st_rdev), major(b.st_rdev));
	close(tty);
	printf("child: TIOCSCTTY again: %s\n", err(ioctl(slave, TIOCSCTTY, 0)));
	write(before[1], "g", 1);
	waitpid(early, NULL, 0);
	pid_t notty = fork();
	if (notty == 0) {
		int mine = open("/dev/tty", O_RDWR);
		printf("grandchild: TIOCNOTTY: %s\n", err(ioctl(mine, TIOCNOTTY)));
		printf("grandchild: then /dev/tty %s, TIOCGPGRP %s\n", err(open("/dev/tty", O_RDWR)),
		       err(ioctl(slave, TIOCGPGRP, &pgrp)));
		exit(0);
	}
	waitpid(notty, NULL, 0);
	printf("child: still has it: /dev/tty %s\n", err(open("/dev/tty", O_RDWR)));

	/* setsid loses it. */
	pid_t lost = fork();
	if (lost == 0) {
		setsid();
		printf("grandchild after setsid: /dev/tty %s\n", err(open("/dev/tty", O_RDWR)));
		exit(0);
	}
	waitpid(lost, NULL, 0);

	/* A background group: SIGTTOU with TOSTOP, SIGTTIN on read, ignored SIGTTOU lets a
	 * write through. */
	struct termios t;
	tcgetattr(slave, &t);
	t.c_lflag |= TOSTOP;
	tcsetattr(slave, TCSANOW, &t);
	for (int step = 0; step < 4; step++) {
		pid_t bg = fork();
		if (bg == 0) {
			setpgid(0, 0);
			if (step == 2)
				signal(SIGTTOU, SIG_IGN);
			if (step == 3) {
				signal(SIGTTIN, SIG_IGN);
				char c;
				printf("background read, SIGTTIN ignored: %s\n",
				       err(read(slave, &c, 1)));
				exit(0);
			}
			if (step == 1) {
				char c;
				read(slave, &c, 1);
				exit(0);
			}
			ssize_t w = write(slave, "bg\n", 3);
			if (step == 2)
				printf("background write, SIGTTOU ignored: %s\n", err(w));
			exit(0);
		}
		int status;
		waitpid(bg, &status, WUNTRACED);
		describe_status(step == 0   ? "background write with TOSTOP"
				: step == 1 ? "background read"
				: step == 2 ? "background write, ignored"
					    : "background read, ignored",
				status);
		if (WIFSTOPPED(status)) {
			kill(bg, SIGKILL);
			waitpid(bg, &status, 0);
		}
	}
	t.c_lflag &= ~TOSTOP;
	tcsetattr(slave, TCSANOW, &t);

	/* TIOCSPGRP: a group of its session. */
	pid_t other = fork();
	if (other == 0) {
		setpgid(0, 0);
		pause();
		exit(0);
	}
	setpgid(other, other);
	pid_t fg = other;
	signal(SIGTTOU, SIG_IGN);
	printf("child: TIOCSPGRP to its other group: %s\n", err(ioctl(slave, TIOCSPGRP, &fg)));
	fg = 99999;
	printf("child: TIOCSPGRP to no group: %s\n", err(ioctl(slave, TIOCSPGRP, &fg)));
	fg = -1;
	printf("child: TIOCSPGRP -1: %s\n", err(ioctl(slave, TIOCSPGRP, &fg)));
	fg = getpgrp();
	printf("child: TIOCSPGRP back: %s\n", err(ioctl(slave, TIOCSPGRP, &fg)));
	signal(SIGTTOU, SIG_DFL);
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);

	signal(SIGINT, note);
	signal(SIGWINCH, note);
	signal(SIGHUP, note);
	fflush(stdout);
	write(ready, "r", 1);
	/* ^C from the master. */
	printf("child: got %s\n", sigabbrev_np(await_signal()));
	got_signal = 0;
	fflush(stdout);
	write(ready, "r", 1);
	printf("child: got %s\n", sigabbrev_np(await_signal()));
	struct winsize ws;
	ioctl(slave, TIOCGWINSZ, &ws);
	printf("child: size %dx%d\n", ws.ws_row, ws.ws_col);
	got_signal = 0;
	fflush(stdout);
	write(ready, "r", 1);
	/* Hangup: the master closes. */
	printf("child: got %s\n", sigabbrev_np(await_signal()));
	char c;
	printf("child: read after hangup: %zd\n", read(slave, &c, 1));
	printf("child: write after hangup: %s\n", err(write(slave, "x", 1)));
	printf("child: /dev/tty after hangup: %s\n", err(open("/dev/tty", O_RDWR)));
	exit(0);
}

static void job_control(void)
{
	char name[64];
	int slave, master = open_pair(&slave, name, sizeof(name));
	int ready[2];

	close(slave);
	pipe(ready);
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		close(ready[0]);
		session_child(master, name, ready[1]);
	}
	close(ready[1]);
	char r;
	read(ready[0], &r, 1);
	write(master, "\x03", 1);
	read(ready[0], &r, 1);
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	ioctl(master, TIOCSWINSZ, &ws);
	read(ready[0], &r, 1);
	close(master);
	int status;
	waitpid(child, &status, 0);
	describe_status("session child", status);
}

static void hold(void)
{
	char name[64];
	int slave, master = open_pair(&slave, name, sizeof(name));

	printf("holding %s\n", master < 0 ? "nothing" : name);
	fflush(stdout);
	/* Until the script says so (up to 30 s). */
	for (int i = 0; i < 600 && access("/tmp/pty-release", F_OK) != 0; i++)
		usleep(50000);
	close(slave);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && strcmp(argv[1], "hold") == 0) {
		hold();
		return 0;
	}
	/* The work is done by a child, which leads no session both natively and contained (a
	 * container's first process leads its session). */
	pid_t worker = fork();
	if (worker == 0) {
		basics();
		job_control();
		printf("pty: done\n");
		exit(0);
	}
	int status;
	waitpid(worker, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
