// SPDX-License-Identifier: GPL-2.0
/* splice, tee, vmsplice: pipe to pipe, file and socket to pipe and back, with and without
 * offsets (which side's offset moves), the counts of partial transfers, end of file, the
 * non-blocking forms (SPLICE_F_NONBLOCK and O_NONBLOCK on the pipe), waits ended by data, by
 * a closing writer and by a signal (EINTR without SA_RESTART), SIGPIPE and EPIPE, and the
 * errnos of bad descriptors, flags, offsets and kinds. Printed as the kernel answers, so that
 * native and contained runs can be compared. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define CAPACITY 65536

static char page_aligned[3 * CAPACITY] __attribute__((aligned(4096)));
static volatile int sigpipes, alarms;

static const char *result(long ret)
{
	static char text[32];

	if (ret < 0)
		return strerrorname_np(errno);
	snprintf(text, sizeof(text), "%ld", ret);
	return text;
}

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* What is in the pipe now (non-blocking), printed. */
static void drain(const char *what, int fd)
{
	char buf[256];
	int flags = fcntl(fd, F_GETFL);
	long n;

	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	n = read(fd, buf, sizeof(buf) - 1);
	fcntl(fd, F_SETFL, flags);
	printf("%s: %s", what, result(n));
	if (n > 0) {
		buf[n] = 0;
		printf(" \"%s\"", buf);
	}
	printf("\n");
}

static long pos(int fd)
{
	return lseek(fd, 0, SEEK_CUR);
}

static void pipes_to_pipes(void)
{
	int a[2], b[2], fifo_r, fifo_w;
	long ret;
	loff_t off = 0;

	pipe(a);
	pipe(b);
	write(a[1], "hello world", 11);
	printf("tee 5: %s\n", result(tee(a[0], b[1], 5, 0)));
	drain("b after tee", b[0]);
	printf("splice 6: %s\n", result(splice(a[0], NULL, b[1], NULL, 6, SPLICE_F_MOVE)));
	printf("splice 100 (5 left): %s\n", result(splice(a[0], NULL, b[1], NULL, 100, 0)));
	drain("b after splices", b[0]);
	drain("a after splices", a[0]);
	printf("splice empty nonblock: %s\n",
	       result(splice(a[0], NULL, b[1], NULL, 1, SPLICE_F_NONBLOCK)));
	printf("tee empty nonblock: %s\n", result(tee(a[0], b[1], 1, SPLICE_F_NONBLOCK)));
	printf("splice to itself: %s\n", result(splice(a[0], NULL, a[1], NULL, 1, 0)));
	printf("tee to itself: %s\n", result(tee(a[0], a[1], 1, 0)));
	printf("splice offset on a pipe: %s\n", result(splice(a[0], &off, b[1], NULL, 1, 0)));
	printf("splice offset out on a pipe: %s\n",
	       result(splice(a[0], NULL, b[1], &off, 1, 0)));
	printf("splice wrong ends: %s\n", result(splice(b[1], NULL, a[0], NULL, 1, 0)));
	printf("tee wrong ends: %s\n", result(tee(b[1], a[0], 1, 0)));
	printf("splice bad flags: %s\n", result(splice(a[0], NULL, b[1], NULL, 1, 0x10)));
	printf("tee bad flags: %s\n", result(tee(a[0], b[1], 1, 0x10)));
	printf("splice len 0, bad fds: %s\n", result(splice(99, NULL, 98, NULL, 0, 0)));
	printf("tee len 0, bad fds: %s\n", result(tee(99, 98, 0, 0)));
	printf("splice bad fd: %s\n", result(splice(99, NULL, b[1], NULL, 1, 0)));
	printf("tee bad fd: %s\n", result(tee(a[0], 98, 1, 0)));

	/* O_NONBLOCK on either pipe makes the pipe-to-pipe waits EAGAIN. */
	fcntl(b[1], F_SETFL, O_NONBLOCK);
	printf("splice empty, output O_NONBLOCK: %s\n",
	       result(splice(a[0], NULL, b[1], NULL, 1, 0)));
	printf("tee empty, output O_NONBLOCK: %s\n", result(tee(a[0], b[1], 1, 0)));
	fcntl(b[1], F_SETFL, 0);

	/* A full output pipe. */
	write(b[1], page_aligned, CAPACITY);
	write(a[1], "x", 1);
	printf("splice to a full pipe nonblock: %s\n",
	       result(splice(a[0], NULL, b[1], NULL, 1, SPLICE_F_NONBLOCK)));
	printf("tee to a full pipe nonblock: %s\n", result(tee(a[0], b[1], 1, SPLICE_F_NONBLOCK)));
	close(b[0]);
	ret = splice(a[0], NULL, b[1], NULL, 1, 0);
	printf("splice, no reader: %s sigpipes %d\n", result(ret), sigpipes);
	ret = tee(a[0], b[1], 1, 0);
	printf("tee, no reader: %s sigpipes %d\n", result(ret), sigpipes);
	drain("a kept its byte", a[0]);
	close(b[1]);

	/* The end of the data: no writer left. */
	pipe(b);
	close(a[1]);
	printf("splice at the end: %s\n", result(splice(a[0], NULL, b[1], NULL, 1, 0)));
	printf("tee at the end: %s\n", result(tee(a[0], b[1], 1, 0)));
	close(a[0]);
	close(b[0]);
	close(b[1]);

	/* Two opens of one FIFO are one pipe. */
	unlink("/tmp/splice-fifo");
	mkfifo("/tmp/splice-fifo", 0600);
	fifo_r = open("/tmp/splice-fifo", O_RDWR);
	fifo_w = open("/tmp/splice-fifo", O_WRONLY);
	printf("splice between opens of one fifo: %s\n",
	       result(splice(fifo_r, NULL, fifo_w, NULL, 1, 0)));
	close(fifo_r);
	close(fifo_w);
	unlink("/tmp/splice-fifo");
}

static void files_and_pipes(void)
{
	int p[2], src, dst, ro, app, dir, efd;
	long ret;
	loff_t off;
	char got[32] = "";

	unlink("/tmp/splice-src");
	unlink("/tmp/splice-dst");
	src = open("/tmp/splice-src", O_RDWR | O_CREAT, 0600);
	write(src, "0123456789", 10);
	lseek(src, 0, SEEK_SET);
	dst = open("/tmp/splice-dst", O_WRONLY | O_CREAT, 0600);
	pipe(p);
	printf("file to pipe 4: %s pos %ld\n", result(splice(src, NULL, p[1], NULL, 4, 0)),
	       pos(src));
	off = 7;
	printf("file at 7 to pipe: %s off %lld pos %ld\n",
	       result(splice(src, &off, p[1], NULL, 100, SPLICE_F_MORE)), (long long)off, pos(src));
	printf("file at the end: %s off %lld\n", result(splice(src, &off, p[1], NULL, 100, 0)),
	       (long long)off);
	printf("pipe to file 5: %s pos %ld\n", result(splice(p[0], NULL, dst, NULL, 5, 0)),
	       pos(dst));
	off = 10;
	printf("pipe to file at 10: %s off %lld pos %ld\n",
	       result(splice(p[0], NULL, dst, &off, 100, 0)), (long long)off, pos(dst));
	ro = open("/tmp/splice-dst", O_RDONLY);
	printf("file now: %ld bytes", (long)pread(ro, got, sizeof(got), 0));
	for (int i = 0; i < 12; i++)
		printf(" %d", got[i]);
	printf("\n");
	printf("pipe empty to file nonblock: %s\n",
	       result(splice(p[0], NULL, dst, NULL, 1, SPLICE_F_NONBLOCK)));
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	printf("pipe empty (O_NONBLOCK) to file: %s\n", result(splice(p[0], NULL, dst, NULL, 1, 0)));
	fcntl(p[0], F_SETFL, 0);
	printf("file to file: %s\n", result(splice(src, NULL, dst, NULL, 1, 0)));
	off = -1;
	printf("negative offset: %s\n", result(splice(src, &off, p[1], NULL, 1, 0)));
	printf("unreadable offset: %s\n", result(splice(src, (loff_t *)8, p[1], NULL, 1, 0)));
	write(p[1], "z", 1);
	app = open("/tmp/splice-dst", O_WRONLY | O_APPEND);
	printf("pipe to O_APPEND file: %s\n", result(splice(p[0], NULL, app, NULL, 1, 0)));
	printf("pipe to read-only file: %s\n", result(splice(p[0], NULL, ro, NULL, 1, 0)));
	printf("write-only file to pipe: %s\n", result(splice(dst, NULL, p[1], NULL, 1, 0)));
	dir = open("/tmp", O_RDONLY | O_DIRECTORY);
	printf("directory to pipe: %s\n", result(splice(dir, NULL, p[1], NULL, 1, 0)));
	efd = eventfd(3, 0);
	printf("eventfd to pipe: %s\n", result(splice(efd, NULL, p[1], NULL, 8, 0)));
	printf("pipe to eventfd: %s\n", result(splice(p[0], NULL, efd, NULL, 8, 0)));
	drain("pipe kept", p[0]);

	/* Big: a pipe's worth at most per call. */
	ftruncate(src, 0);
	pwrite(src, page_aligned, 3 * CAPACITY, 0);
	lseek(src, 0, SEEK_SET);
	printf("big file to pipe: %s\n", result(splice(src, NULL, p[1], NULL, 3 * CAPACITY, 0)));
	printf("full pipe, file nonblock: %s\n",
	       result(splice(src, NULL, p[1], NULL, 1, SPLICE_F_NONBLOCK)));
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	printf("full pipe (O_NONBLOCK), file: %s\n", result(splice(src, NULL, p[1], NULL, 1, 0)));
	fcntl(p[1], F_SETFL, 0);
	printf("big pipe to file: %s\n", result(splice(p[0], NULL, dst, NULL, 3 * CAPACITY, 0)));
	printf("positions: src %ld dst %ld\n", pos(src), pos(dst));
	close(p[1]);
	printf("pipe at the end to file: %s\n", result(splice(p[0], NULL, dst, NULL, 1, 0)));
	close(p[0]);
	pipe(p);
	close(p[0]);
	ret = splice(src, NULL, p[1], NULL, 1, 0);
	printf("file to pipe, no reader: %s sigpipes %d\n", result(ret), sigpipes);
	close(p[1]);
	close(src);
	close(dst);
	close(ro);
	close(app);
	close(dir);
	close(efd);
	unlink("/tmp/splice-src");
	unlink("/tmp/splice-dst");
}

static void sockets(void)
{
	int s[2], p[2];
	loff_t off = 0;

	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	pipe(p);
	write(s[0], "over the socket", 15);
	printf("socket to pipe: %s\n", result(splice(s[1], NULL, p[1], NULL, 100, 0)));
	printf("pipe to socket: %s\n", result(splice(p[0], NULL, s[1], NULL, 100, 0)));
	drain("the other end", s[0]);
	printf("socket with an offset: %s\n", result(splice(s[1], &off, p[1], NULL, 1, 0)));
	printf("socket to socket: %s\n", result(splice(s[0], NULL, s[1], NULL, 1, 0)));
	close(s[0]);
	close(s[1]);
	close(p[0]);
	close(p[1]);
}

/* Waits: for data a child writes later, for a closing writer, and one a signal ends. */
static void waits(void)
{
	int a[2], b[2], status;
	long ret;
	pid_t child;
	struct sigaction sa = { .sa_handler = on_alarm };

	pipe(a);
	pipe(b);
	child = fork();
	if (child == 0) {
		usleep(200000);
		write(a[1], "late", 4);
		usleep(200000);
		_exit(0);
	}
	close(a[1]);
	printf("splice waited for: %s\n", result(splice(a[0], NULL, b[1], NULL, 100, 0)));
	printf("splice waited for the end: %s\n", result(splice(a[0], NULL, b[1], NULL, 100, 0)));
	waitpid(child, &status, 0);
	drain("b", b[0]);
	close(a[0]);

	sigaction(SIGALRM, &sa, NULL);
	pipe(a);
	alarm(1);
	ret = tee(a[0], b[1], 1, 0);
	printf("tee interrupted: %s alarms %d\n", result(ret), alarms);
	alarm(1);
	ret = vmsplice(a[0],
			       &(struct iovec){ .iov_base = page_aligned, .iov_len = 1 }, 1, 0);
	printf("vmsplice from an empty pipe interrupted: %s alarms %d\n", result(ret), alarms);
	write(b[1], page_aligned, CAPACITY);
	alarm(1);
	ret = vmsplice(b[1],
			       &(struct iovec){ .iov_base = page_aligned, .iov_len = 1 }, 1, 0);
	printf("vmsplice to a full pipe interrupted: %s alarms %d\n", result(ret), alarms);
	fcntl(b[1], F_SETFL, O_NONBLOCK);
	alarm(1);
	printf("vmsplice to a full O_NONBLOCK pipe: %s\n",
	       result(vmsplice(b[1],
			       &(struct iovec){ .iov_base = page_aligned, .iov_len = 1 }, 1, 0)));
	alarm(0);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

static void vmsplices(void)
{
	int p[2], fd;
	long ret;
	char out[8] = "";
	struct iovec in[2] = { { "abc", 3 }, { "defg", 4 } };
	struct iovec back = { out, 5 };

	pipe(p);
	printf("vmsplice in: %s\n", result(vmsplice(p[1], in, 2, SPLICE_F_GIFT)));
	printf("vmsplice out: %s", result(vmsplice(p[0], &back, 1, 0)));
	printf(" \"%s\"\n", out);
	drain("left", p[0]);
	printf("vmsplice empty nonblock: %s\n",
	       result(vmsplice(p[0], &back, 1, SPLICE_F_NONBLOCK)));
	printf("vmsplice no segments: %s\n", result(vmsplice(p[0], &back, 0, 0)));
	printf("vmsplice bad flags: %s\n", result(vmsplice(p[0], &back, 1, 0x20)));
	printf("vmsplice bad fd: %s\n", result(vmsplice(99, &back, 1, 0)));
	printf("vmsplice bad iovec: %s\n", result(vmsplice(p[1], (struct iovec *)8, 1, 0)));
	printf("vmsplice bad buffer: %s\n",
	       result(vmsplice(p[1], &(struct iovec){ .iov_base = (void *)8, .iov_len = 4 }, 1, 0)));
	printf("vmsplice too many segments: %s\n", result(vmsplice(p[1], in, 1025, 0)));
	fd = open("/tmp", O_RDONLY | O_DIRECTORY);
	printf("vmsplice on a directory: %s\n", result(vmsplice(fd, &back, 1, 0)));
	close(fd);
	printf("vmsplice big, aligned: %s\n",
	       result(vmsplice(p[1],
			       &(struct iovec){ .iov_base = page_aligned, .iov_len = 2 * CAPACITY },
			       1, 0)));
	printf("vmsplice full nonblock: %s\n", result(vmsplice(p[1], in, 2, SPLICE_F_NONBLOCK)));
	printf("vmsplice out, big: %s\n",
	       result(vmsplice(p[0],
			       &(struct iovec){ .iov_base = page_aligned, .iov_len = 2 * CAPACITY },
			       1, 0)));
	close(p[0]);
	ret = vmsplice(p[1], in, 2, 0);
	printf("vmsplice, no reader: %s sigpipes %d\n", result(ret), sigpipes);
	close(p[1]);
	pipe(p);
	close(p[1]);
	printf("vmsplice out at the end: %s\n", result(vmsplice(p[0], &back, 1, 0)));
	close(p[0]);
}

/* Splices from standard input, a pipe of the host's: to a pipe, to the output file, to the
 * end of the data. */
static void from_stdin(void)
{
	int p[2];
	char buf[64];
	loff_t off = 0;
	long n;

	pipe(p);
	printf("offset on the stdin pipe: %s\n", result(splice(0, &off, p[1], NULL, 5, 0)));
	printf("stdin to a pipe: %s\n", result(splice(0, NULL, p[1], NULL, 5, 0)));
	n = read(p[0], buf, sizeof(buf));
	printf("read back: %.*s\n", (int)(n > 0 ? n : 0), buf);
	printf("stdin to the output file: ");
	printf(" (%s)\n", result(splice(0, NULL, 1, NULL, 100, 0)));
	printf("stdin at the end: %s\n", result(splice(0, NULL, p[1], NULL, 5, 0)));
	printf("stdin at the end, to the output: %s\n", result(splice(0, NULL, 1, NULL, 5, 0)));
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, on_sigpipe);
	if (argc > 1) {
		setvbuf(stdout, NULL, _IONBF, 0);
		from_stdin();
		printf("splice from stdin: done\n");
		return 0;
	}
	for (int i = 0; i < (int)sizeof(page_aligned); i++)
		page_aligned[i] = 'a' + i % 26;
	setvbuf(stdout, NULL, _IONBF, 0);
	pipes_to_pipes();
	files_and_pipes();
	sockets();
	vmsplices();
	waits();
	printf("splice: done\n");
	return 0;
}
