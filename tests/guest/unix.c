// SPDX-License-Identifier: GPL-2.0
/* unix: AF_UNIX sockets — socketpairs of the three types, pathname and abstract names,
 * listen/connect/accept across fork, SCM_RIGHTS and SCM_CREDENTIALS, SO_PEERCRED, peeking,
 * truncation, shutdown, poll readiness, options and the errnos of bad calls; printed as the
 * kernel answers so that native and contained runs can be compared (pids printed as their
 * relation to the processes, never as numbers).
 *
 * Other modes, for the isolation cases:
 *   unix hold NAME SECONDS      bind and listen on abstract NAME, print "holding", sleep
 *   unix probe NAME             try to bind abstract NAME, then connect to it
 *   unix listen PATH SECONDS    bind and listen on pathname PATH (natively, outside a root)
 *   unix connect PATH...        connect to each PATH and print the errno
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sockios.h>

/* An address nothing is mapped at (volatile: the compiler must not see through it). */
static void *volatile bad_ptr = (void *)8;

static const char *result(long ret)
{
	static char text[32];

	if (ret < 0)
		return strerrorname_np(errno);
	snprintf(text, sizeof(text), "%ld", ret);
	return text;
}

static socklen_t pathname(struct sockaddr_un *addr, const char *path)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	strncpy(addr->sun_path, path, sizeof(addr->sun_path) - 1);
	return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

static socklen_t abstract(struct sockaddr_un *addr, const char *name)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	strncpy(addr->sun_path + 1, name, sizeof(addr->sun_path) - 2);
	return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

static void echo(const char *what, int type)
{
	int sv[2];
	char buf[64] = "";
	long got;

	if (socketpair(AF_UNIX, type, 0, sv) < 0) {
		printf("%s socketpair: %s\n", what, strerrorname_np(errno));
		return;
	}
	write(sv[0], "ping", 4);
	write(sv[0], "pong", 4);
	got = read(sv[1], buf, sizeof(buf) - 1);
	buf[got > 0 ? got : 0] = 0;
	printf("%s: first read %ld \"%s\"\n", what, got, buf);
	write(sv[1], "back", 4);
	got = read(sv[0], buf, sizeof(buf) - 1);
	buf[got > 0 ? got : 0] = 0;
	printf("%s: echo %ld \"%s\"\n", what, got, buf);
	close(sv[0]);
	got = recv(sv[1], buf, sizeof(buf) - 1, type == SOCK_DGRAM ? MSG_DONTWAIT : 0);
	buf[got > 0 ? got : 0] = 0;
	printf("%s: after the peer closed %s \"%s\"\n", what, result(got), got > 0 ? buf : "");
	if (type != SOCK_DGRAM) {
		printf("%s: then %s\n", what, result(read(sv[1], buf, sizeof(buf))));
		printf("%s: write %s\n", what, result(send(sv[1], "x", 1, MSG_NOSIGNAL)));
	}
	close(sv[1]);
}

static void names(void)
{
	struct sockaddr_un addr, got;
	socklen_t len = sizeof(got);
	struct stat st;
	int s, t;

	unlink("/tmp/unix-a.sock");
	umask(022);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("getsockname unbound: %s", result(getsockname(s, (void *)&got, &len)));
	printf(" len %u family %d\n", len, got.sun_family);
	len = pathname(&addr, "/tmp/unix-a.sock");
	printf("bind path: %s\n", result(bind(s, (void *)&addr, len)));
	printf("bind again: %s\n", result(bind(s, (void *)&addr, len)));
	stat("/tmp/unix-a.sock", &st);
	printf("socket file: sock %d mode %o\n", S_ISSOCK(st.st_mode), st.st_mode & 07777);
	len = sizeof(got);
	getsockname(s, (void *)&got, &len);
	printf("getsockname: len %u \"%s\"\n", len, got.sun_path);
	len = 10;
	getsockname(s, (void *)&got, &len);
	printf("getsockname short: len %u\n", len);
	t = socket(AF_UNIX, SOCK_STREAM, 0);
	len = pathname(&addr, "/tmp/unix-a.sock");
	printf("bind taken: %s\n", result(bind(t, (void *)&addr, len)));
	printf("connect not listening: %s\n", result(connect(t, (void *)&addr, len)));
	len = pathname(&addr, "/tmp/unix-missing.sock");
	printf("connect missing: %s\n", result(connect(t, (void *)&addr, len)));
	len = pathname(&addr, "/tests/unix");
	printf("connect to a file: %s\n", result(connect(t, (void *)&addr, len)));
	len = pathname(&addr, "/tmp/no-dir/x.sock");
	printf("bind in a missing dir: %s\n", result(bind(t, (void *)&addr, len)));
	close(s);
	len = pathname(&addr, "/tmp/unix-a.sock");
	printf("connect after close: %s\n", result(connect(t, (void *)&addr, len)));
	printf("bind leftover file: %s\n", result(bind(t, (void *)&addr, len)));
	close(t);
	unlink("/tmp/unix-a.sock");

	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	len = offsetof(struct sockaddr_un, sun_path);
	addr.sun_family = AF_UNIX;
	printf("autobind: %s", result(bind(s, (void *)&addr, len)));
	len = sizeof(got);
	getsockname(s, (void *)&got, &len);
	printf(" len %u first %d hex %d\n", len, got.sun_path[0],
	       (int)strspn(got.sun_path + 1, "0123456789abcdef"));
	close(s);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	len = abstract(&addr, "rvisor-unix-test");
	printf("bind abstract: %s\n", result(bind(s, (void *)&addr, len)));
	len = sizeof(got);
	getsockname(s, (void *)&got, &len);
	printf("abstract name: len %u \"%s\"\n", len, got.sun_path + 1);
	t = socket(AF_UNIX, SOCK_STREAM, 0);
	len = abstract(&addr, "rvisor-unix-test");
	printf("bind abstract taken: %s\n", result(bind(t, (void *)&addr, len)));
	printf("connect abstract not listening: %s\n", result(connect(t, (void *)&addr, len)));
	listen(s, 5);
	printf("connect abstract: %s\n", result(connect(t, (void *)&addr, len)));
	close(t);
	close(s);
}

static void across_fork(void)
{
	struct sockaddr_un addr, peer;
	socklen_t len, peer_len;
	struct ucred cred;
	socklen_t cred_len = sizeof(cred);
	char buf[64] = "";
	int s, c, status;
	long got;
	pid_t child;

	unlink("/tmp/unix-b.sock");
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	len = pathname(&addr, "/tmp/unix-b.sock");
	bind(s, (void *)&addr, len);
	printf("listen: %s\n", result(listen(s, 4)));
	getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len);
	printf("listener's own cred: pid is me %d uid %u\n", cred.pid == getpid(), cred.uid);
	cred_len = sizeof(cred);
	child = fork();
	if (child == 0) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		struct ucred mine;
		socklen_t mine_len = sizeof(mine);

		if (connect(fd, (void *)&addr, len) < 0)
			_exit(10);
		getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &mine, &mine_len);
		if (mine.pid != getppid())
			_exit(11);
		write(fd, "hello from", 10);
		usleep(100000);
		write(fd, " the child", 10);
		got = read(fd, buf, sizeof(buf));
		_exit(got == 5 && memcmp(buf, "reply", 5) == 0 ? 0 : 12);
	}
	peer_len = sizeof(peer);
	c = accept4(s, (void *)&peer, &peer_len, SOCK_CLOEXEC);
	printf("accept4: %s, peer len %u, cloexec %d\n", c < 0 ? result(c) : "ok", peer_len,
	       fcntl(c, F_GETFD) & FD_CLOEXEC);
	getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len);
	printf("peer cred: len %u pid is child %d uid %u gid %u\n", cred_len, cred.pid == child,
	       cred.uid, cred.gid);
	len = sizeof(peer);
	getsockname(c, (void *)&peer, &len);
	printf("accepted socket's name: \"%s\"\n", peer.sun_path);
	len = sizeof(peer);
	printf("getpeername of accepted: %s", result(getpeername(c, (void *)&peer, &len)));
	printf(" len %u\n", len);
	/* The child writes its 20 bytes in two parts: MSG_WAITALL waits for both. */
	got = recv(c, buf, 20, MSG_WAITALL);
	buf[got > 0 ? got : 0] = 0;
	printf("server got %ld \"%s\"\n", got, buf);
	write(c, "reply", 5);
	waitpid(child, &status, 0);
	printf("child: exit %d\n", WEXITSTATUS(status));
	close(c);
	close(s);
	unlink("/tmp/unix-b.sock");
}

static void backlog(void)
{
	struct sockaddr_un addr;
	socklen_t len = abstract(&addr, "rvisor-backlog");
	int s = socket(AF_UNIX, SOCK_STREAM, 0), i, c[4];
	int flags;

	bind(s, (void *)&addr, len);
	listen(s, 1);
	for (i = 0; i < 4; i++) {
		c[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		printf("connect %d: %s\n", i, result(connect(c[i], (void *)&addr, len)));
	}
	flags = fcntl(s, F_GETFL);
	fcntl(s, F_SETFL, flags | O_NONBLOCK);
	for (i = 0; i < 4; i++) {
		int a = accept(s, NULL, NULL);

		printf("accept %d: %s\n", i, a < 0 ? result(a) : "ok");
		if (a >= 0)
			close(a);
	}
	for (i = 0; i < 4; i++)
		close(c[i]);
	close(s);
}

static void rights(void)
{
	int sv[2], pipefd[2], fd;
	char buf[64] = "";
	char control[CMSG_SPACE(2 * sizeof(int))];
	struct msghdr msg = { 0 };
	struct iovec iov = { .iov_base = "f", .iov_len = 1 };
	struct cmsghdr *cmsg;
	long got;

	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	pipe(pipefd);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control;
	msg.msg_controllen = CMSG_SPACE(sizeof(int));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &pipefd[0], sizeof(int));
	printf("sendmsg SCM_RIGHTS: %s\n", result(sendmsg(sv[0], &msg, 0)));
	close(pipefd[0]);
	write(pipefd[1], "through the passed pipe", 23);
	close(pipefd[1]);
	memset(control, 0, sizeof(control));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	msg.msg_controllen = sizeof(control);
	got = recvmsg(sv[1], &msg, MSG_CMSG_CLOEXEC);
	cmsg = CMSG_FIRSTHDR(&msg);
	printf("recvmsg: %s flags %#x controllen %zu type %d len %zu\n", result(got), msg.msg_flags,
	       (size_t)msg.msg_controllen, cmsg ? cmsg->cmsg_type : -1,
	       cmsg ? (size_t)cmsg->cmsg_len : 0);
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	printf("received fd cloexec %d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC);
	memset(buf, 0, sizeof(buf));
	got = read(fd, buf, sizeof(buf) - 1);
	printf("read through it: %ld \"%s\"\n", got, buf);
	close(fd);

	/* Two descriptors, room for one: the second is closed, MSG_CTRUNC. */
	pipe(pipefd);
	iov.iov_base = "g";
	iov.iov_len = 1;
	msg.msg_control = control;
	msg.msg_controllen = CMSG_SPACE(2 * sizeof(int));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(cmsg), pipefd, 2 * sizeof(int));
	printf("sendmsg two: %s\n", result(sendmsg(sv[0], &msg, 0)));
	close(pipefd[0]);
	close(pipefd[1]);
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	msg.msg_controllen = CMSG_LEN(sizeof(int));
	got = recvmsg(sv[1], &msg, 0);
	cmsg = CMSG_FIRSTHDR(&msg);
	printf("recvmsg short control: %s ctrunc %d controllen %zu len %zu\n", result(got),
	       !!(msg.msg_flags & MSG_CTRUNC), (size_t)msg.msg_controllen,
	       cmsg ? (size_t)cmsg->cmsg_len : 0);
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	printf("the one received is the read end: %s\n",
	       (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY ? "yes" : "no");
	close(fd);

	/* No room at all. */
	pipe(pipefd);
	msg.msg_control = control;
	msg.msg_controllen = CMSG_SPACE(sizeof(int));
	iov.iov_base = "h";
	iov.iov_len = 1;
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), pipefd, sizeof(int));
	sendmsg(sv[0], &msg, 0);
	close(pipefd[0]);
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	msg.msg_control = NULL;
	msg.msg_controllen = 0;
	got = recvmsg(sv[1], &msg, 0);
	printf("recvmsg without control: %s ctrunc %d\n", result(got),
	       !!(msg.msg_flags & MSG_CTRUNC));
	signal(SIGPIPE, SIG_IGN);
	printf("the dropped read end is closed: write %s\n", result(write(pipefd[1], "x", 1)));
	signal(SIGPIPE, SIG_DFL);
	close(pipefd[1]);

	/* Bad control messages. */
	msg.msg_control = control;
	msg.msg_controllen = CMSG_SPACE(sizeof(int));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	fd = 999;
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	printf("SCM_RIGHTS of a closed fd: %s\n", result(sendmsg(sv[0], &msg, 0)));
	cmsg->cmsg_len = 4;
	printf("cmsg_len too small: %s\n", result(sendmsg(sv[0], &msg, 0)));
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	cmsg->cmsg_type = 77;
	printf("unknown SOL_SOCKET type: %s\n", result(sendmsg(sv[0], &msg, 0)));
	close(sv[0]);
	close(sv[1]);
}

static void credentials(void)
{
	int sv[2], on = 1;
	char buf[16];
	char control[CMSG_SPACE(sizeof(struct ucred))];
	struct msghdr msg = { 0 };
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct cmsghdr *cmsg;
	struct ucred cred;
	pid_t child;
	int status;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	printf("SO_PASSCRED: %s\n", result(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on,
						       sizeof(on))));
	child = fork();
	if (child == 0) {
		write(sv[0], "c", 1);
		_exit(0);
	}
	waitpid(child, &status, 0);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control;
	msg.msg_controllen = sizeof(control);
	printf("recvmsg: %s", result(recvmsg(sv[1], &msg, 0)));
	cmsg = CMSG_FIRSTHDR(&msg);
	memcpy(&cred, CMSG_DATA(cmsg), sizeof(cred));
	printf(" type %d pid is the child %d uid %u gid %u\n", cmsg->cmsg_type, cred.pid == child,
	       cred.uid, cred.gid);

	cred.pid = getpid();
	cred.uid = getuid();
	cred.gid = getgid();
	msg.msg_controllen = sizeof(control);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_CREDENTIALS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(cred));
	memcpy(CMSG_DATA(cmsg), &cred, sizeof(cred));
	iov.iov_len = 1;
	printf("sendmsg own credentials: %s\n", result(sendmsg(sv[0], &msg, 0)));
	iov.iov_len = sizeof(buf);
	recvmsg(sv[1], &msg, 0);
	close(sv[0]);
	close(sv[1]);

	/* An unbound datagram socket with SO_PASSCRED is autobound when it sends. */
	{
		struct sockaddr_un to, got;
		socklen_t to_len = abstract(&to, "rvisor-passcred"), got_len = sizeof(got);
		int r = socket(AF_UNIX, SOCK_DGRAM, 0), s = socket(AF_UNIX, SOCK_DGRAM, 0);

		bind(r, (void *)&to, to_len);
		setsockopt(s, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on));
		sendto(s, "p", 1, 0, (void *)&to, to_len);
		recvfrom(r, buf, sizeof(buf), 0, (void *)&got, &got_len);
		printf("sender with SO_PASSCRED seen from an address of len %u\n", got_len);
		got_len = sizeof(got);
		getsockname(s, (void *)&got, &got_len);
		printf("and its own name has len %u\n", got_len);
		close(r);
		close(s);
	}
}

static void peek_and_trunc(void)
{
	int sv[2];
	char buf[64] = "";
	int avail = -1;

	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	send(sv[0], "a datagram", 10, 0);
	send(sv[0], "two", 3, 0);
	ioctl(sv[1], FIONREAD, &avail);
	printf("FIONREAD dgram: %d\n", avail);
	ioctl(sv[0], SIOCOUTQ, &avail);
	printf("SIOCOUTQ dgram: %d\n", avail >= 0);
	printf("peek: %s", result(recv(sv[1], buf, 4, MSG_PEEK)));
	printf(" \"%.4s\"\n", buf);
	printf("MSG_TRUNC short: %s\n", result(recv(sv[1], buf, 4, MSG_TRUNC)));
	printf("next: %s\n", result(recv(sv[1], buf, sizeof(buf), 0)));
	printf("MSG_DONTWAIT empty: %s\n", result(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT)));
	printf("sendto on a connected pair, no address: %s\n",
	       result(sendto(sv[0], "x", 1, 0, NULL, 0)));
	recv(sv[1], buf, sizeof(buf), 0);
	close(sv[0]);
	printf("send after the peer closed: %s\n", result(send(sv[1], "x", 1, 0)));
	printf("send again: %s\n", result(send(sv[1], "x", 1, 0)));
	close(sv[1]);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	send(sv[0], "streamed", 8, 0);
	ioctl(sv[1], FIONREAD, &avail);
	printf("FIONREAD stream: %d\n", avail);
	printf("stream peek: %s\n", result(recv(sv[1], buf, sizeof(buf), MSG_PEEK)));
	printf("stream read: %s\n", result(recv(sv[1], buf, 3, 0)));
	ioctl(sv[1], FIONREAD, &avail);
	printf("FIONREAD after: %d\n", avail);
	close(sv[0]);
	close(sv[1]);

	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
	send(sv[0], "record one", 10, 0);
	printf("seqpacket short read: %s\n", result(recv(sv[1], buf, 6, 0)));
	send(sv[0], "r2", 2, 0);
	printf("seqpacket next: %s\n", result(recv(sv[1], buf, sizeof(buf), 0)));
	close(sv[0]);
	close(sv[1]);
}

static int pipes;

static void on_pipe(int sig)
{
	(void)sig;
	pipes++;
}

static void shutdowns(void)
{
	int sv[2];
	char buf[16];
	struct pollfd pfd;

	signal(SIGPIPE, on_pipe);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pfd.fd = sv[0];
	pfd.events = POLLIN | POLLOUT | POLLRDHUP;
	poll(&pfd, 1, 0);
	printf("poll fresh: %#x\n", pfd.revents);
	write(sv[1], "d", 1);
	poll(&pfd, 1, 0);
	printf("poll with data: %#x\n", pfd.revents);
	read(sv[0], buf, 1);
	printf("shutdown SHUT_WR: %s\n", result(shutdown(sv[1], SHUT_WR)));
	poll(&pfd, 1, 0);
	printf("poll after the peer's SHUT_WR: %#x\n", pfd.revents);
	printf("read: %s\n", result(read(sv[0], buf, sizeof(buf))));
	printf("write on the shut half: %s", result(write(sv[1], "x", 1)));
	printf(", SIGPIPE %d\n", pipes);
	printf("send MSG_NOSIGNAL: %s", result(send(sv[1], "x", 1, MSG_NOSIGNAL)));
	printf(", SIGPIPE %d\n", pipes);
	printf("the other way still works: %s\n", result(write(sv[0], "y", 1)));
	printf("shutdown bad how: %s\n", result(shutdown(sv[0], 7)));
	close(sv[1]);
	pfd.events = POLLIN | POLLOUT | POLLRDHUP;
	poll(&pfd, 1, 0);
	printf("poll after the peer closed: %#x\n", pfd.revents);
	printf("write to a closed peer: %s", result(write(sv[0], "x", 1)));
	printf(", SIGPIPE %d\n", pipes);
	close(sv[0]);
	signal(SIGPIPE, SIG_DFL);
}

static void options(void)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0), d = socket(AF_UNIX, SOCK_DGRAM, 0);
	int value, big = 1;
	socklen_t len;
	struct timeval tv = { 0, 100000 };
	struct ucred cred;
	struct stat st;
	char buf[4];

#define GET(fd, name)                                                                          \
	do {                                                                                   \
		len = sizeof(value);                                                           \
		value = -7;                                                                    \
		printf(#name ": %s", result(getsockopt(fd, SOL_SOCKET, name, &value, &len)));  \
		printf(" value %d len %u\n", value, len);                                     \
	} while (0)
	GET(s, SO_TYPE);
	GET(d, SO_TYPE);
	GET(s, SO_DOMAIN);
	GET(s, SO_PROTOCOL);
	GET(s, SO_ERROR);
	GET(s, SO_ACCEPTCONN);
	GET(s, SO_SNDBUF);
	GET(s, SO_RCVBUF);
	GET(s, SO_PASSCRED);
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	GET(s, SO_SNDBUF);
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	GET(s, SO_RCVBUF);
	big = 10000;
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	GET(s, SO_SNDBUF);
	big = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &big, sizeof(big));
	GET(s, SO_REUSEADDR);
	len = sizeof(cred);
	getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len);
	printf("SO_PEERCRED unconnected: pid %d uid %d gid %d len %u\n", cred.pid, (int)cred.uid,
	       (int)cred.gid, len);
	len = 2;
	value = 0;
	printf("short optlen: %s", result(getsockopt(s, SOL_SOCKET, SO_TYPE, &value, &len)));
	printf(" len %u value %d\n", len, value);
	printf("unknown option: %s\n", result(getsockopt(s, SOL_SOCKET, 12345, &value, &len)));
	printf("setsockopt optlen 2: %s\n",
	       result(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &value, 2)));
	printf("setsockopt other level: %s\n",
	       result(setsockopt(s, 6 /* IPPROTO_TCP */, 1, &value, sizeof(value))));
	printf("getsockopt other level: %s\n",
	       result(getsockopt(s, 6 /* IPPROTO_TCP */, 1, &value, &len)));
	printf("SO_RCVTIMEO: %s\n",
	       result(setsockopt(d, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))));
	printf("recv with a timeout: %s\n", result(recv(d, buf, sizeof(buf), 0)));
	tv.tv_usec = 2000000;
	printf("SO_RCVTIMEO bad usec: %s\n",
	       result(setsockopt(d, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))));
	fstat(s, &st);
	printf("fstat: sock %d mode %o size %ld\n", S_ISSOCK(st.st_mode), st.st_mode & 0777,
	       (long)st.st_size);
	close(s);
	close(d);
}

static void errnos(void)
{
	struct sockaddr_un addr;
	socklen_t len = pathname(&addr, "/tmp/unix-err.sock"), out = 8;
	int s = socket(AF_UNIX, SOCK_STREAM, 0), d = socket(AF_UNIX, SOCK_DGRAM, 0), p[2], value;

	pipe(p);
	printf("socket bad type: %s\n", result(socket(AF_UNIX, 99, 0)));
	printf("socket type 0: %s\n", result(socket(AF_UNIX, 0, 0)));
	printf("socket SOCK_PACKET: %s\n", result(socket(AF_UNIX, SOCK_PACKET, 0)));
	printf("socket bad flags: %s\n", result(socket(AF_UNIX, SOCK_STREAM | 0x100000, 0)));
	printf("socket bad protocol: %s\n", result(socket(AF_UNIX, SOCK_STREAM, 5)));
	printf("socket bad family: %s\n", result(socket(200, SOCK_STREAM, 0)));
	printf("socketpair bad pointer: %s\n",
	       result(socketpair(AF_UNIX, SOCK_STREAM, 0, bad_ptr)));
	printf("bind addrlen 0: %s\n", result(bind(s, (void *)&addr, 0)));
	printf("bind addrlen 200: %s\n", result(bind(s, (void *)&addr, 200)));
	printf("bind addrlen -1: %s\n", result(bind(s, (void *)&addr, -1)));
	printf("bind bad pointer: %s\n", result(bind(s, bad_ptr, len)));
	addr.sun_family = AF_INET;
	printf("bind wrong family: %s\n", result(bind(s, (void *)&addr, len)));
	addr.sun_family = AF_UNIX;
	printf("bind a pipe: %s\n", result(bind(p[0], (void *)&addr, len)));
	printf("bind a closed fd: %s\n", result(bind(77, (void *)&addr, len)));
	printf("listen a pipe: %s\n", result(listen(p[0], 1)));
	printf("listen unbound: %s\n", result(listen(s, 1)));
	printf("listen dgram: %s\n", result(listen(d, 1)));
	printf("accept not listening: %s\n", result(accept(s, NULL, NULL)));
	printf("accept dgram: %s\n", result(accept(d, NULL, NULL)));
	printf("accept4 bad flags: %s\n", result(accept4(s, NULL, NULL, 0x1)));
	printf("getpeername unconnected: %s\n", result(getpeername(s, (void *)&addr, &out)));
	printf("getsockname bad len pointer: %s\n", result(getsockname(s, (void *)&addr, bad_ptr)));
	out = -1;
	printf("getsockname negative len: %s\n", result(getsockname(s, (void *)&addr, &out)));
	printf("send unconnected stream: %s\n", result(send(s, "x", 1, MSG_NOSIGNAL)));
	printf("send unconnected dgram: %s\n", result(send(d, "x", 1, 0)));
	printf("sendto stream with an address: %s\n",
	       result(sendto(s, "x", 1, MSG_NOSIGNAL, (void *)&addr, len)));
	printf("sendto dgram nobody: %s\n", result(sendto(d, "x", 1, 0, (void *)&addr, len)));
	printf("shutdown a pipe: %s\n", result(shutdown(p[0], SHUT_RD)));
	out = 4;
	printf("getsockopt a pipe: %s\n", result(getsockopt(p[0], SOL_SOCKET, SO_TYPE, &value, &out)));
	printf("recv a pipe: %s\n", result(recv(p[0], &value, 1, MSG_DONTWAIT)));
	printf("connect stream to dgram: ");
	bind(d, (void *)&addr, len);
	printf("%s\n", result(connect(s, (void *)&addr, len)));
	printf("open a socket file: %s\n", result(open("/tmp/unix-err.sock", O_RDWR)));
	printf("recv unconnected stream: %s\n", result(recv(s, &value, 1, MSG_DONTWAIT)));
	printf("read unconnected stream: %s\n", result(read(s, &value, 1)));
	close(d);
	d = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	printf("recv unconnected seqpacket: %s\n", result(recv(d, &value, 1, MSG_DONTWAIT)));
	printf("send unconnected seqpacket: %s\n", result(send(d, &value, 1, MSG_NOSIGNAL)));
	printf("shutdown unconnected: %s\n", result(shutdown(s, SHUT_RDWR)));
	close(s);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	len = abstract(&addr, "rvisor-errnos");
	bind(s, (void *)&addr, len);
	listen(s, 1);
	printf("recv listening: %s\n", result(recv(s, &value, 1, MSG_DONTWAIT)));
	printf("send listening: %s\n", result(send(s, &value, 1, MSG_NOSIGNAL)));
	printf("connect listening: %s\n", result(connect(s, (void *)&addr, len)));
	{
		int sv[2];

		socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
		printf("connect connected: %s\n", result(connect(sv[0], (void *)&addr, len)));
		len = abstract(&addr, "rvisor-nobody");
		printf("connect connected to nobody: %s\n",
		       result(connect(sv[0], (void *)&addr, len)));
		close(sv[0]);
		close(sv[1]);
	}
	printf("FIONREAD listening: %s\n", result(ioctl(s, FIONREAD, &value)));
	unlink("/tmp/unix-err.sock");
	close(s);
	close(d);
	close(p[0]);
	close(p[1]);
}

static void dgram_names(void)
{
	struct sockaddr_un a_addr, b_addr, from;
	socklen_t a_len = abstract(&a_addr, "rvisor-dgram-a"), b_len = abstract(&b_addr, "rvisor-dgram-b");
	socklen_t from_len = sizeof(from);
	int a = socket(AF_UNIX, SOCK_DGRAM, 0), b = socket(AF_UNIX, SOCK_DGRAM, 0);
	int c = socket(AF_UNIX, SOCK_DGRAM, 0);
	char buf[32] = "";

	bind(a, (void *)&a_addr, a_len);
	bind(b, (void *)&b_addr, b_len);
	printf("sendto by name: %s\n", result(sendto(a, "to b", 4, 0, (void *)&b_addr, b_len)));
	printf("recvfrom: %s", result(recvfrom(b, buf, sizeof(buf), 0, (void *)&from, &from_len)));
	printf(" from len %u \"%s\"\n", from_len, from.sun_path + 1);
	printf("connect b to a: %s\n", result(connect(b, (void *)&a_addr, a_len)));
	printf("c sends to b (b is connected to a): %s\n",
	       result(sendto(c, "x", 1, 0, (void *)&b_addr, b_len)));
	from_len = sizeof(from);
	send(c, "", 0, MSG_DONTWAIT);
	sendto(c, "anon", 4, 0, (void *)&a_addr, a_len);
	printf("recvfrom an unbound sender: %s", result(recvfrom(a, buf, sizeof(buf), 0,
							     (void *)&from, &from_len)));
	printf(" from len %u\n", from_len);
	close(a);
	close(b);
	close(c);
}

static void bulk(void)
{
	static char chunk[65536];
	int sv[2], status;
	long total = 0, got, sum = 0;
	pid_t child;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	child = fork();
	if (child == 0) {
		close(sv[1]);
		for (int i = 0; i < (int)sizeof(chunk); i++)
			chunk[i] = (char)i;
		for (int i = 0; i < 32; i++)
			if (write(sv[0], chunk, sizeof(chunk)) != sizeof(chunk))
				_exit(1);
		_exit(0);
	}
	close(sv[0]);
	while ((got = read(sv[1], chunk, sizeof(chunk))) > 0) {
		for (long i = 0; i < got; i++)
			sum += (unsigned char)chunk[i];
		total += got;
	}
	waitpid(child, &status, 0);
	printf("bulk: %ld bytes, sum %ld, writer exit %d\n", total, sum, WEXITSTATUS(status));
	close(sv[1]);
}

static void mmsg(void)
{
	int sv[2];
	char a[8] = "", b[8] = "", c[8] = "";
	struct iovec iov[3] = { { "m1", 2 }, { "mm2", 3 }, { "mmm3", 4 } };
	struct iovec riov[3] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
	struct mmsghdr out[3], in[3];
	int i, got;

	memset(out, 0, sizeof(out));
	memset(in, 0, sizeof(in));
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	for (i = 0; i < 3; i++) {
		out[i].msg_hdr.msg_iov = &iov[i];
		out[i].msg_hdr.msg_iovlen = 1;
		in[i].msg_hdr.msg_iov = &riov[i];
		in[i].msg_hdr.msg_iovlen = 1;
	}
	printf("sendmmsg: %s", result(sendmmsg(sv[0], out, 3, 0)));
	printf(" lens %u %u %u\n", out[0].msg_len, out[1].msg_len, out[2].msg_len);
	got = recvmmsg(sv[1], in, 3, MSG_WAITFORONE, NULL);
	printf("recvmmsg: %s lens %u %u %u \"%s\" \"%s\" \"%s\"\n", result(got), in[0].msg_len,
	       in[1].msg_len, in[2].msg_len, a, b, c);
	printf("recvmmsg empty: %s\n", result(recvmmsg(sv[1], in, 3, MSG_DONTWAIT, NULL)));
	close(sv[0]);
	close(sv[1]);
}

static void waiting_connect(void)
{
	struct sockaddr_un addr;
	socklen_t len = abstract(&addr, "rvisor-wait");
	int s = socket(AF_UNIX, SOCK_STREAM, 0), first = socket(AF_UNIX, SOCK_STREAM, 0);
	int status, a;
	pid_t child;

	bind(s, (void *)&addr, len);
	listen(s, 0);
	connect(first, (void *)&addr, len);
	child = fork();
	if (child == 0) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		/* The backlog is full: this waits until the parent accepts. */
		_exit(connect(fd, (void *)&addr, len) == 0 ? 0 : 1);
	}
	usleep(200000);
	a = accept(s, NULL, NULL);
	close(a);
	waitpid(child, &status, 0);
	printf("blocking connect waited for room: exit %d\n", WEXITSTATUS(status));
	a = accept(s, NULL, NULL);
	printf("and was accepted: %s\n", a < 0 ? result(a) : "ok");
	close(a);
	close(first);
	close(s);
}

static void rights_over_limit(void)
{
	int sv[2], pipefd[2], status;
	pid_t child;

	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	child = fork();
	if (child == 0) {
		char control[CMSG_SPACE(2 * sizeof(int))];
		char buf[4];
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
				      .msg_controllen = sizeof(control) };
		struct cmsghdr *cmsg;
		struct rlimit limit;
		int fd = dup(0), free_fds = 0;

		/* Room for exactly one more descriptor. */
		close(fd);
		limit.rlim_cur = fd + 1;
		limit.rlim_max = fd + 1;
		for (int i = 0; i <= fd; i++)
			free_fds += fcntl(i, F_GETFD) < 0;
		setrlimit(RLIMIT_NOFILE, &limit);
		printf("receiver over its limit: %s", result(recvmsg(sv[1], &msg, 0)));
		cmsg = CMSG_FIRSTHDR(&msg);
		printf(" ctrunc %d fds %zu\n", !!(msg.msg_flags & MSG_CTRUNC),
		       cmsg ? (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int) : 0);
		_exit(free_fds == 1 ? 0 : 2);
	}
	pipe(pipefd);
	{
		char control[CMSG_SPACE(2 * sizeof(int))];
		struct iovec iov = { "r", 1 };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
				      .msg_controllen = sizeof(control) };
		struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(2 * sizeof(int));
		memcpy(CMSG_DATA(cmsg), pipefd, 2 * sizeof(int));
		sendmsg(sv[0], &msg, 0);
	}
	close(pipefd[0]);
	close(pipefd[1]);
	waitpid(child, &status, 0);
	printf("receiver exit %d\n", WEXITSTATUS(status));
	close(sv[0]);
	close(sv[1]);
}

static int hold(const char *name, int seconds)
{
	struct sockaddr_un addr;
	socklen_t len = abstract(&addr, name);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	if (bind(s, (void *)&addr, len) < 0 || listen(s, 1) < 0) {
		printf("hold: %s\n", strerrorname_np(errno));
		return 1;
	}
	printf("holding\n");
	fflush(stdout);
	sleep(seconds);
	return 0;
}

static int probe(const char *name)
{
	struct sockaddr_un addr;
	socklen_t len = abstract(&addr, name);
	int s = socket(AF_UNIX, SOCK_STREAM, 0), t = socket(AF_UNIX, SOCK_STREAM, 0);

	printf("connect %s: %s\n", name, result(connect(t, (void *)&addr, len)));
	printf("bind %s: %s\n", name, result(bind(s, (void *)&addr, len)));
	return 0;
}

static int listen_path(const char *path, int seconds)
{
	struct sockaddr_un addr;
	socklen_t len = pathname(&addr, path);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	unlink(path);
	if (bind(s, (void *)&addr, len) < 0 || listen(s, 8) < 0) {
		printf("listen %s: %s\n", path, strerrorname_np(errno));
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	sleep(seconds);
	unlink(path);
	return 0;
}

static int connect_paths(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		struct sockaddr_un addr;
		socklen_t len = pathname(&addr, argv[i]);
		int s = socket(AF_UNIX, SOCK_STREAM, 0);

		printf("connect %s: %s\n", argv[i], result(connect(s, (void *)&addr, len)));
		close(s);
	}
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && strcmp(argv[1], "hold") == 0)
		return hold(argv[2], atoi(argv[3]));
	if (argc == 3 && strcmp(argv[1], "probe") == 0)
		return probe(argv[2]);
	if (argc == 4 && strcmp(argv[1], "listen") == 0)
		return listen_path(argv[2], atoi(argv[3]));
	if (argc >= 3 && strcmp(argv[1], "connect") == 0)
		return connect_paths(argc - 2, argv + 2);
	echo("stream", SOCK_STREAM);
	echo("dgram", SOCK_DGRAM);
	echo("seqpacket", SOCK_SEQPACKET);
	names();
	across_fork();
	backlog();
	rights();
	credentials();
	peek_and_trunc();
	shutdowns();
	options();
	errnos();
	dgram_names();
	bulk();
	mmsg();
	waiting_connect();
	rights_over_limit();
	printf("unix: done\n");
	return 0;
}
