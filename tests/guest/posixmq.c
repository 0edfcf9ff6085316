// SPDX-License-Identifier: GPL-2.0
/* posixmq: POSIX message queues — mq_open's names, flags, attributes and errors; priorities;
 * the size and access errors; O_NONBLOCK's EAGAIN through mq_setattr; absolute timeouts
 * (ETIMEDOUT); a receiver and a sender woken by another process; poll and epoll readiness;
 * mq_notify with SIGEV_SIGNAL (SI_MESGQ, the value, the sender's pid) and SIGEV_NONE, EBUSY;
 * reading a descriptor; mq_unlink; another user's EACCES/EPERM. Run in a fresh IPC namespace
 * (a container's, or unshare -i natively). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char buf[16384];

static const char *result(long ret)
{
	static char text[32];

	if (ret < 0)
		return strerrorname_np(errno);
	snprintf(text, sizeof(text), "%ld", ret);
	return text;
}

static void receive(const char *what, mqd_t q, size_t size)
{
	unsigned prio = 99;
	long ret = mq_receive(q, buf, size, &prio);

	printf("%s: %s", what, result(ret));
	if (ret >= 0)
		printf(" '%.*s' prio %u", (int)ret, buf, prio);
	printf("\n");
}

static void attr_line(const char *what, mqd_t q)
{
	struct mq_attr a;

	if (mq_getattr(q, &a) < 0) {
		printf("%s: %s\n", what, strerrorname_np(errno));
		return;
	}
	printf("%s: flags %#lx maxmsg %ld msgsize %ld curmsgs %ld\n", what, a.mq_flags, a.mq_maxmsg,
	       a.mq_msgsize, a.mq_curmsgs);
}

static struct timespec in_ms(long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += ms * 1000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	return ts;
}

static volatile sig_atomic_t notified, notified_code, notified_value, notified_pid;

static void on_notify(int sig, siginfo_t *info, void *ctx)
{
	(void)sig;
	(void)ctx;
	notified++;
	notified_code = info->si_code;
	notified_value = info->si_value.sival_int;
	notified_pid = info->si_pid;
}

static const char *events(short revents)
{
	static char text[32];

	snprintf(text, sizeof(text), "%s%s%s", revents & POLLIN ? "IN " : "",
		 revents & POLLOUT ? "OUT " : "", revents & ~(POLLIN | POLLOUT) ? "other" : "");
	return text;
}

/* Forks a child that runs what; the parent gets it after it said it starts, and a moment. */
static pid_t start_child(void (*what)(mqd_t), mqd_t q)
{
	int ready[2];
	char byte;

	if (pipe(ready))
		return -1;
	pid_t child = fork();
	if (child == 0) {
		close(ready[0]);
		write(ready[1], "r", 1);
		what(q);
		_exit(0);
	}
	close(ready[1]);
	read(ready[0], &byte, 1);
	close(ready[0]);
	usleep(300000);
	return child;
}

static void blocked_receiver(mqd_t q)
{
	receive("child: woken receiver", q, sizeof(buf));
}

static void blocked_sender(mqd_t q)
{
	printf("child: woken sender: %s\n", result(mq_send(q, "late", 4, 3)));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int status;

	printf("no slash: %s\n", result(mq_open("q", O_RDWR)));
	printf("just a slash: %s\n", result(mq_open("/", O_RDWR | O_CREAT, 0600, NULL)));
	printf("two slashes: %s\n", result(mq_open("/a/b", O_RDWR | O_CREAT, 0600, NULL)));
	char long_name[300] = "/";
	memset(long_name + 1, 'n', 280);
	printf("long name: %s\n", result(mq_open(long_name, O_RDWR | O_CREAT, 0600, NULL)));
	printf("absent: %s\n", result(mq_open("/q", O_RDWR)));
	struct mq_attr attr = { .mq_maxmsg = 0, .mq_msgsize = 16 };
	printf("maxmsg 0: %s\n", result(mq_open("/q", O_RDWR | O_CREAT, 0600, &attr)));
	attr.mq_maxmsg = 4;
	attr.mq_msgsize = -1;
	printf("msgsize -1: %s\n", result(mq_open("/q", O_RDWR | O_CREAT, 0600, &attr)));
	attr.mq_maxmsg = 70000;
	attr.mq_msgsize = 16;
	printf("maxmsg 70000: %s\n", result(mq_open("/q", O_RDWR | O_CREAT, 0600, &attr)));
	attr.mq_maxmsg = 11;
	attr.mq_msgsize = 8192;
	mqd_t big = mq_open("/big", O_RDWR | O_CREAT, 0600, &attr);
	printf("maxmsg 11 as root: %s\n", result(big));
	attr_line("its attributes", big);
	mq_close(big);
	mq_unlink("/big");

	umask(022);
	mqd_t q = mq_open("/q", O_RDWR | O_CREAT, 0666, NULL);
	printf("create: %s close-on-exec %s\n", result(q), fcntl(q, F_GETFD) & FD_CLOEXEC ? "yes" : "no");
	struct stat st;
	fstat(q, &st);
	printf("fstat: mode %o regular %s\n", st.st_mode & 07777, S_ISREG(st.st_mode) ? "yes" : "no");
	printf("excl: %s\n", result(mq_open("/q", O_RDWR | O_CREAT | O_EXCL, 0600, NULL)));
	printf("access mode 3: %s\n", result(mq_open("/q", O_RDWR | O_WRONLY)));
	attr_line("defaults", q);

	mq_send(q, "a", 1, 1);
	mq_send(q, "b", 1, 5);
	mq_send(q, "c", 1, 1);
	attr_line("with 3", q);
	int n = read(q, buf, sizeof(buf));
	printf("read: %.*s", n > 0 ? n : 0, buf);
	printf("read again: %s\n", result(read(q, buf, sizeof(buf))));
	printf("write: %s\n", result(write(q, "x", 1)));
	receive("first", q, sizeof(buf));
	receive("second", q, sizeof(buf));
	receive("third", q, sizeof(buf));
	printf("prio 32768: %s\n", result(mq_send(q, "x", 1, 32768)));
	printf("8193 bytes: %s\n", result(mq_send(q, buf, 8193, 0)));
	receive("small buffer", q, 100);
	printf("bad pointer: %s\n", result(mq_send(q, (char *)8, 1, 0)));
	printf("not a queue: %s\n", result(mq_send(1, "x", 1, 0)));
	printf("closed: %s\n", result(mq_send(99, "x", 1, 0)));
	mqd_t ro = mq_open("/q", O_RDONLY);
	mqd_t wo = mq_open("/q", O_WRONLY);
	printf("send to read-only: %s\n", result(mq_send(ro, "x", 1, 0)));
	receive("receive from write-only", wo, sizeof(buf));

	/* Timeouts. */
	struct timespec ts = in_ms(100);
	printf("timed receive: %s\n", result(mq_timedreceive(q, buf, sizeof(buf), NULL, &ts)));
	ts.tv_nsec = 1000000000;
	printf("bad timeout: %s\n", result(mq_timedreceive(q, buf, sizeof(buf), NULL, &ts)));
	ts.tv_sec = 0;
	ts.tv_nsec = 0;
	printf("past timeout: %s\n", result(mq_timedreceive(q, buf, sizeof(buf), NULL, &ts)));

	/* O_NONBLOCK. */
	struct mq_attr set = { .mq_flags = O_NONBLOCK }, old;
	printf("setattr nonblock: %s", result(mq_setattr(q, &set, &old)));
	printf(" old flags %#lx\n", old.mq_flags);
	attr_line("now", q);
	receive("empty nonblocking", q, sizeof(buf));
	for (int i = 0; i < 10; i++)
		mq_send(q, "f", 1, 0);
	printf("full nonblocking: %s\n", result(mq_send(q, "f", 1, 0)));
	set.mq_flags = 1;
	printf("setattr flag 1: %s\n", result(mq_setattr(q, &set, NULL)));
	set.mq_flags = 0;
	mq_setattr(q, &set, NULL);
	ts = in_ms(100);
	printf("timed send full: %s\n", result(mq_timedsend(q, "f", 1, 0, &ts)));

	/* poll and epoll. */
	struct pollfd pfd = { .fd = q, .events = POLLIN | POLLOUT };
	int polled = poll(&pfd, 1, 0);
	printf("poll full: %d %s\n", polled, events(pfd.revents));
	pid_t child = start_child(blocked_sender, q);
	long got = mq_receive(q, buf, sizeof(buf), NULL);
	waitpid(child, &status, 0);
	printf("made room: %s\n", result(got));
	for (int i = 0; i < 10; i++)
		mq_receive(q, buf, sizeof(buf), NULL);
	pfd.revents = 0;
	polled = poll(&pfd, 1, 0);
	printf("poll empty: %d %s\n", polled, events(pfd.revents));
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 7 };
	printf("epoll_ctl: %s\n", result(epoll_ctl(ep, EPOLL_CTL_ADD, q, &ev)));
	child = fork();
	if (child == 0) {
		usleep(200000);
		mq_send(q, "wake", 4, 2);
		_exit(0);
	}
	struct epoll_event out;
	int ready = epoll_wait(ep, &out, 1, 10000);
	printf("epoll_wait: %d data %u IN %s\n", ready, out.data.u32, out.events & EPOLLIN ? "yes" : "no");
	waitpid(child, NULL, 0);
	receive("then", q, sizeof(buf));
	child = start_child(blocked_receiver, q);
	mq_send(q, "for the child", 13, 4);
	waitpid(child, NULL, 0);

	/* mq_notify. */
	struct sigaction sa = { .sa_sigaction = on_notify, .sa_flags = SA_SIGINFO };
	sigaction(SIGUSR1, &sa, NULL);
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
	sev.sigev_value.sival_int = 42;
	printf("notify: %s\n", result(mq_notify(q, &sev)));
	child = fork();
	if (child == 0) {
		struct sigevent none = { .sigev_notify = SIGEV_NONE };
		printf("child: notify: %s\n", result(mq_notify(q, &none)));
		printf("child: remove another's: %s\n", result(mq_notify(q, NULL)));
		mq_send(q, "n1", 2, 0);
		mq_send(q, "n2", 2, 0);
		_exit(0);
	}
	waitpid(child, NULL, 0);
	for (int tries = 0; tries < 100 && !notified; tries++)
		usleep(10000);
	printf("notified %d code SI_MESGQ %s value %d pid is the child %s\n", (int)notified,
	       notified_code == SI_MESGQ ? "yes" : "no", (int)notified_value,
	       notified_pid == child ? "yes" : "no");
	mq_receive(q, buf, sizeof(buf), NULL);
	mq_receive(q, buf, sizeof(buf), NULL);
	mq_send(q, "n3", 2, 0);
	usleep(100000);
	printf("after the registration ended: notified %d\n", (int)notified);
	mq_receive(q, buf, sizeof(buf), NULL);
	sev.sigev_notify = SIGEV_NONE;
	printf("notify none: %s\n", result(mq_notify(q, &sev)));
	n = read(q, buf, sizeof(buf));
	printf("read: %.*s", n > 0 ? n : 0, buf);
	printf("notify again: %s\n", result(mq_notify(q, &sev)));
	printf("remove: %s\n", result(mq_notify(q, NULL)));
	sev.sigev_notify = 9;
	printf("bad sigev_notify: %s\n", result(mq_notify(q, &sev)));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = 65;
	printf("bad signal: %s\n", result(mq_notify(q, &sev)));
	printf("notify on a pipe: %s\n", result(mq_notify(1, NULL)));

	/* Another user. */
	mqd_t priv = mq_open("/private", O_RDWR | O_CREAT, 0600, NULL);
	child = fork();
	if (child == 0) {
		if (setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000))
			printf("child: cannot become 1000\n");
		printf("user: open 0600: %s\n", result(mq_open("/private", O_RDONLY)));
		printf("user: open 0644 read-only: %s\n", result(mq_open("/q", O_RDONLY) >= 0 ? 0 : -1));
		printf("user: open 0644 for writing: %s\n", result(mq_open("/q", O_WRONLY)));
		printf("user: unlink: %s\n", result(mq_unlink("/q")));
		attr.mq_maxmsg = 11;
		printf("user: maxmsg 11: %s\n", result(mq_open("/u", O_RDWR | O_CREAT, 0600, &attr)));
		_exit(0);
	}
	waitpid(child, NULL, 0);
	mq_close(priv);
	mq_unlink("/private");

	printf("unlink: %s\n", result(mq_unlink("/q")));
	printf("unlink again: %s\n", result(mq_unlink("/q")));
	printf("open after unlink: %s\n", result(mq_open("/q", O_RDWR)));
	printf("still usable: %s", result(mq_send(q, "kept", 4, 0)));
	receive("", q, sizeof(buf));
	printf("posixmq: done\n");
	return 0;
}
