// SPDX-License-Identifier: GPL-2.0
/* inet: TCP, UDP and IPv6 over loopback, printed as the kernel answers so that native and
 * contained runs can be compared (ports are never printed: they differ between runs).
 *
 *   inet                  the loopback tour (needs lo up)
 *   inet refusals         socket families and types a container may not have
 *   inet listen PORT      listen on 127.0.0.1:PORT, accept once, reply "hi", exit
 *   inet connect ADDR PORT  connect, print the outcome (and the reply)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *result(long ret)
{
	static char text[32];

	if (ret < 0)
		return strerrorname_np(errno);
	snprintf(text, sizeof(text), "%ld", ret);
	return text;
}

/* What a forked child says, kept and printed by the parent after it waited: the two
 * processes' lines would otherwise interleave differently from run to run. */
static char child_log[4096];
static size_t child_logged;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(child_log + child_logged, sizeof(child_log) - child_logged, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(child_log) - child_logged)
		child_logged += n;
}

static struct sockaddr_in loopback4(unsigned short port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static unsigned short port_of(int fd)
{
	struct sockaddr_storage a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return 0;
	if (a.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
	return ntohs(((struct sockaddr_in *)&a)->sin_port);
}

static int int_option(int fd, int level, int name)
{
	int value = -1;
	socklen_t len = sizeof(value);

	if (getsockopt(fd, level, name, &value, &len) < 0)
		return -errno;
	return value;
}

/* A listener on 127.0.0.1, any port. */
static int listener4(void)
{
	struct sockaddr_in a = loopback4(0);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0)
		return -1;
	return fd;
}

static void tcp(void)
{
	int server = socket(AF_INET, SOCK_STREAM, 0), one = 1, conn, status;
	struct sockaddr_in a = loopback4(0), peer;
	socklen_t len;
	char buf[64] = "";
	struct stat st;
	pid_t child;
	int logpipe[2];

	printf("tcp socket: %s\n", server < 0 ? strerrorname_np(errno) : "ok");
	fstat(server, &st);
	printf("fstat: socket %s\n", S_ISSOCK(st.st_mode) ? "yes" : "no");
	printf("SO_REUSEADDR before: %d\n", int_option(server, SOL_SOCKET, SO_REUSEADDR));
	printf("setsockopt SO_REUSEADDR: %s\n",
	       result(setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))));
	printf("SO_REUSEADDR after: %d\n", int_option(server, SOL_SOCKET, SO_REUSEADDR));
	printf("SO_TYPE: %d, SO_DOMAIN: %d\n", int_option(server, SOL_SOCKET, SO_TYPE),
	       int_option(server, SOL_SOCKET, SO_DOMAIN));
	{
		int v;
		socklen_t l = sizeof(v);

		printf("getsockopt bad level: %s\n", result(getsockopt(server, 9999, 1, &v, &l)));
		printf("getsockopt bad length pointer: %s\n",
		       result(getsockopt(server, SOL_SOCKET, SO_TYPE, &v, (socklen_t *)8)));
	}
	printf("bind: %s\n", result(bind(server, (struct sockaddr *)&a, sizeof(a))));
	printf("bind again: %s\n", result(bind(server, (struct sockaddr *)&a, sizeof(a))));
	printf("bind short address: %s\n", result(bind(socket(AF_INET, SOCK_STREAM, 0), (struct sockaddr *)&a, 4)));
	printf("listen: %s\n", result(listen(server, 8)));
	printf("bound port is set: %s\n", port_of(server) ? "yes" : "no");
	a.sin_port = htons(port_of(server));

	pipe(logpipe);
	child = fork();
	if (child == 0) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in name;
		socklen_t nlen = sizeof(name);

		say("child connect: %s\n", result(connect(c, (struct sockaddr *)&a, sizeof(a))));
		say("child connect again: %s\n",
		       result(connect(c, (struct sockaddr *)&a, sizeof(a))));
		say("TCP_NODELAY: %d\n", int_option(c, IPPROTO_TCP, TCP_NODELAY));
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		say("TCP_NODELAY set: %d\n", int_option(c, IPPROTO_TCP, TCP_NODELAY));
		getpeername(c, (struct sockaddr *)&name, &nlen);
		say("peer is the server: %s\n",
		       name.sin_port == a.sin_port && name.sin_addr.s_addr == a.sin_addr.s_addr ?
			       "yes" : "no");
		say("child send: %s\n", result(send(c, "hello", 5, 0)));
		say("child recv: %s", result(recv(c, buf, 5, MSG_WAITALL)));
		say(" \"%s\"\n", buf);
		say("child shutdown SHUT_WR: %s\n", result(shutdown(c, SHUT_WR)));
		say("child send after shutdown: %s\n",
		       result(send(c, "x", 1, MSG_NOSIGNAL)));
		say("child recv at end: %s\n", result(recv(c, buf, sizeof(buf), 0)));
		write(logpipe[1], child_log, child_logged);
		_exit(0);
	}
	len = sizeof(peer);
	conn = accept4(server, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
	printf("accept4: %s\n", conn < 0 ? strerrorname_np(errno) : "ok");
	printf("accepted: cloexec %s, nonblock %s, peer %s, len %u\n",
	       fcntl(conn, F_GETFD) & FD_CLOEXEC ? "yes" : "no",
	       fcntl(conn, F_GETFL) & O_NONBLOCK ? "yes" : "no",
	       peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK) ? "127.0.0.1" : "other",
	       (unsigned)len);
	{
		struct pollfd p = { .fd = conn, .events = POLLIN };
		int avail = -1;

		printf("poll for data: %s", result(poll(&p, 1, 10000)));
		printf(" revents %s\n", p.revents & POLLIN ? "POLLIN" : "none");
		usleep(100000);
		ioctl(conn, FIONREAD, &avail);
		printf("FIONREAD: %d\n", avail);
	}
	memset(buf, 0, sizeof(buf));
	printf("server read: %s", result(read(conn, buf, sizeof(buf) - 1)));
	printf(" \"%s\"\n", buf);
	printf("server recv nothing yet: %s\n", result(recv(conn, buf, sizeof(buf), 0)));
	printf("server write: %s\n", result(write(conn, "HELLO", 5)));
	{
		struct pollfd p = { .fd = conn, .events = POLLIN | POLLRDHUP };

		printf("poll after peer's SHUT_WR: %s", result(poll(&p, 1, 10000)));
		printf(" revents %s%s\n", p.revents & POLLIN ? "POLLIN " : "",
		       p.revents & POLLRDHUP ? "POLLRDHUP" : "");
	}
	printf("server read at end: %s\n", result(read(conn, buf, sizeof(buf))));
	close(conn);
	waitpid(child, &status, 0);
	close(logpipe[1]);
	{
		char log[4096];
		ssize_t n = read(logpipe[0], log, sizeof(log));

		if (n > 0)
			fwrite(log, 1, n, stdout);
	}
	close(logpipe[0]);
	printf("child exit: %d\n", WEXITSTATUS(status));
	close(server);
}

static void nonblocking_connect(void)
{
	int server = listener4(), c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), conn;
	struct sockaddr_in a = loopback4(port_of(server));
	struct pollfd p = { .fd = c, .events = POLLOUT };

	printf("nonblocking connect: %s\n", result(connect(c, (struct sockaddr *)&a, sizeof(a))));
	printf("poll POLLOUT: %s", result(poll(&p, 1, 10000)));
	printf(" revents %s\n", p.revents & POLLOUT ? "POLLOUT" : "none");
	printf("SO_ERROR: %d\n", int_option(c, SOL_SOCKET, SO_ERROR));
	printf("connect when connected: %s\n",
	       result(connect(c, (struct sockaddr *)&a, sizeof(a))));
	fcntl(server, F_SETFL, O_NONBLOCK);
	conn = accept(server, NULL, NULL);
	printf("accept: %s\n", conn < 0 ? strerrorname_np(errno) : "ok");
	printf("accept again (nonblocking): %s\n", result(accept(server, NULL, NULL)));
	close(conn);
	close(c);
	close(server);
}

static void sendfile_to_socket(void)
{
	int server = listener4(), c = socket(AF_INET, SOCK_STREAM, 0), conn, file;
	struct sockaddr_in a = loopback4(port_of(server));
	char buf[32] = "";
	off_t offset = 2;

	connect(c, (struct sockaddr *)&a, sizeof(a));
	conn = accept(server, NULL, NULL);
	file = open("/tmp/inet-sendfile", O_RDWR | O_CREAT | O_TRUNC, 0600);
	write(file, "--from a file", 13);
	printf("sendfile to a socket: %s\n", result(sendfile(c, file, &offset, 11)));
	printf("received: %s", result(recv(conn, buf, 11, MSG_WAITALL)));
	printf(" \"%s\"\n", buf);
	unlink("/tmp/inet-sendfile");
	close(file);
	close(conn);
	close(c);
	close(server);
}

static void refused(void)
{
	int server = listener4(), c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = loopback4(port_of(server));

	close(server);
	printf("connect to a closed port: %s\n",
	       result(connect(c, (struct sockaddr *)&a, sizeof(a))));
	printf("getpeername unconnected: %s\n", result(getpeername(c, NULL, NULL)));
	printf("recv unconnected: %s\n", result(recv(c, &a, 1, 0)));
	printf("listen on fd 0 (not a socket): %s\n", result(listen(0, 1)));
	printf("listen on a bad fd: %s\n", result(listen(99, 1)));
	printf("shutdown bad how: %s\n", result(shutdown(c, 7)));
	close(c);
}

static void udp(void)
{
	int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in aa = loopback4(0), ba = loopback4(0), from;
	socklen_t len = sizeof(from);
	char buf[32] = "", part1[3] = "", part2[8] = "";
	struct iovec iov[2] = { { part1, 2 }, { part2, 7 } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2, .msg_name = &from,
			      .msg_namelen = sizeof(from) };
	struct mmsghdr mm[3];
	struct iovec mmiov[3];
	char mmbuf[3][8];
	int i;

	bind(a, (struct sockaddr *)&aa, sizeof(aa));
	bind(b, (struct sockaddr *)&ba, sizeof(ba));
	aa.sin_port = htons(port_of(a));
	ba.sin_port = htons(port_of(b));
	printf("udp sendto: %s\n", result(sendto(a, "datagram", 8, 0, (struct sockaddr *)&ba,
						   sizeof(ba))));
	printf("udp recvfrom: %s", result(recvfrom(b, buf, sizeof(buf), 0,
						   (struct sockaddr *)&from, &len)));
	printf(" \"%s\" from a: %s, len %u\n", buf, from.sin_port == aa.sin_port ? "yes" : "no",
	       (unsigned)len);
	sendto(a, "scattered", 9, 0, (struct sockaddr *)&ba, sizeof(ba));
	printf("udp recvmsg: %s", result(recvmsg(b, &msg, 0)));
	printf(" \"%s\"+\"%s\" flags %s namelen %u\n", part1, part2,
	       msg.msg_flags & MSG_TRUNC ? "MSG_TRUNC" : "0", (unsigned)msg.msg_namelen);
	printf("udp recv nothing (MSG_DONTWAIT): %s\n",
	       result(recv(b, buf, sizeof(buf), MSG_DONTWAIT)));
	printf("udp send unconnected: %s\n", result(send(a, "x", 1, 0)));
	printf("udp connect: %s\n", result(connect(a, (struct sockaddr *)&ba, sizeof(ba))));
	memset(mm, 0, sizeof(mm));
	for (i = 0; i < 3; i++) {
		mmiov[i].iov_base = mmbuf[i];
		mmiov[i].iov_len = 3;
		memcpy(mmbuf[i], i == 0 ? "one" : i == 1 ? "two" : "six", 3);
		mm[i].msg_hdr.msg_iov = &mmiov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	printf("sendmmsg: %s\n", result(sendmmsg(a, mm, 3, 0)));
	printf("msg_len: %u %u %u\n", mm[0].msg_len, mm[1].msg_len, mm[2].msg_len);
	memset(mmbuf, 0, sizeof(mmbuf));
	for (i = 0; i < 3; i++)
		mmiov[i].iov_len = 8;
	printf("recvmmsg: %s\n", result(recvmmsg(b, mm, 3, MSG_DONTWAIT, NULL)));
	printf("got: %.8s %.8s %.8s\n", mmbuf[0], mmbuf[1], mmbuf[2]);
	{
		struct iovec w[2] = { { "ab", 2 }, { "cd", 2 } };
		char r1[3] = "", r2[3] = "";
		struct iovec r[2] = { { r1, 1 }, { r2, 2 } };

		printf("writev: %s\n", result(writev(a, w, 2)));
		printf("readv: %s", result(readv(b, r, 2)));
		printf(" \"%s\" \"%s\"\n", r1, r2);
	}
	close(a);
	close(b);
}

static void ipv6(void)
{
	int server = socket(AF_INET6, SOCK_STREAM, 0), c, conn, one = 1;
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	char buf[8] = "";

	printf("ipv6 socket: %s\n", server < 0 ? strerrorname_np(errno) : "ok");
	{
		/* Allowed or not by the namespace's net.ipv4.ping_group_range (default: nobody). */
		int ping = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);

		printf("ICMP datagram socket: %s\n", ping < 0 ? strerrorname_np(errno) : "ok");
		close(ping);
	}
	printf("IPV6_V6ONLY: %d\n", int_option(server, IPPROTO_IPV6, IPV6_V6ONLY));
	setsockopt(server, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	printf("IPV6_V6ONLY set: %d\n", int_option(server, IPPROTO_IPV6, IPV6_V6ONLY));
	printf("ipv6 bind ::1: %s\n", result(bind(server, (struct sockaddr *)&a, sizeof(a))));
	listen(server, 1);
	a.sin6_port = htons(port_of(server));
	c = socket(AF_INET6, SOCK_STREAM, 0);
	printf("ipv6 connect: %s\n", result(connect(c, (struct sockaddr *)&a, sizeof(a))));
	conn = accept(server, NULL, NULL);
	write(c, "six", 3);
	printf("ipv6 read: %s", result(read(conn, buf, sizeof(buf) - 1)));
	printf(" \"%s\"\n", buf);
	close(conn);
	close(c);
	close(server);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void alarm_in(long usec)
{
	struct itimerval it = { .it_value = { 0, usec } };

	setitimer(ITIMER_REAL, &it, NULL);
}

/* Waits that a signal cuts short: restarted or EINTR as Linux decides. */
static void interrupted(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct sockaddr_in a = loopback4(0);
	int u = socket(AF_INET, SOCK_DGRAM, 0), server = listener4(), status;
	struct timeval tv = { 2, 0 };
	char buf[4];
	pid_t child;

	bind(u, (struct sockaddr *)&a, sizeof(a));
	a.sin_port = htons(port_of(u));
	sigaction(SIGALRM, &sa, NULL);
	alarm_in(200000);
	printf("recv, handler without SA_RESTART: %s\n", result(recv(u, buf, 1, 0)));
	alarm_in(200000);
	printf("accept, handler without SA_RESTART: %s\n", result(accept(server, NULL, NULL)));
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	child = fork();
	if (child == 0) {
		int c = socket(AF_INET, SOCK_DGRAM, 0);

		usleep(600000);
		sendto(c, "r", 1, 0, (struct sockaddr *)&a, sizeof(a));
		_exit(0);
	}
	alarm_in(200000);
	printf("recv, handler with SA_RESTART: %s\n", result(recv(u, buf, 1, 0)));
	waitpid(child, &status, 0);
	setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	alarm_in(200000);
	printf("recv with SO_RCVTIMEO, handler with SA_RESTART: %s\n",
	       result(recv(u, buf, 1, 0)));
	alarm_in(200000);
	printf("read with SO_RCVTIMEO, handler with SA_RESTART: %s\n",
	       result(read(u, buf, 1)));
	tv.tv_sec = 0;
	tv.tv_usec = 100000;
	setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	printf("recv past SO_RCVTIMEO: %s\n", result(recv(u, buf, 1, 0)));
	signal(SIGALRM, SIG_DFL);
	close(u);
	close(server);
}

static void refusals(void)
{
	printf("AF_INET SOCK_RAW: %s\n", result(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)));
	printf("AF_INET6 SOCK_RAW: %s\n", result(socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)));
	printf("AF_PACKET: %s\n", result(socket(AF_PACKET, SOCK_RAW, htons(3))));
	printf("AF_NETLINK NETLINK_AUDIT: %s\n", result(socket(AF_NETLINK, SOCK_RAW, 9)));
	printf("AF_BLUETOOTH: %s\n", result(socket(AF_BLUETOOTH, SOCK_STREAM, 0)));
	printf("family 200: %s\n", result(socket(200, SOCK_STREAM, 0)));
	printf("type 42: %s\n", result(socket(AF_INET, 42, 0)));
	printf("bad flag: %s\n", result(socket(AF_INET, SOCK_STREAM | 0x100, 0)));
	printf("AF_NETLINK NETLINK_ROUTE: %s\n",
	       socket(AF_NETLINK, SOCK_RAW, 0) < 0 ? strerrorname_np(errno) : "ok");
	{
		int nl = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
		struct sockaddr_nl group = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
		struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
		struct nlmsghdr nlh = { .nlmsg_len = NLMSG_LENGTH(4), .nlmsg_type = RTM_GETLINK,
					.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP };
		char req[NLMSG_LENGTH(4)] = "";

		memcpy(req, &nlh, sizeof(nlh));
		printf("netlink send to a group: %s\n",
		       result(sendto(nl, req, sizeof(req), 0, (struct sockaddr *)&group,
				     sizeof(group))));
		printf("netlink connect to a group: %s\n",
		       result(connect(nl, (struct sockaddr *)&group, sizeof(group))));
		printf("netlink send to the kernel: %s\n",
		       result(sendto(nl, req, sizeof(req), 0, (struct sockaddr *)&kernel,
				     sizeof(kernel))));
		close(nl);
	}
}

static int listen_once(int port)
{
	struct sockaddr_in a = loopback4(port);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0), conn;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0) {
		perror("listen");
		return 1;
	}
	printf("listening\n");
	conn = accept(fd, NULL, NULL);
	write(conn, "hi", 2);
	close(conn);
	return 0;
}

static int connect_to(const char *addr, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char buf[8] = "";

	inet_pton(AF_INET, addr, &a.sin_addr);
	printf("connect %s: %s\n", addr, result(connect(fd, (struct sockaddr *)&a, sizeof(a))));
	if (read(fd, buf, sizeof(buf) - 1) > 0)
		printf("reply: %s\n", buf);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "refusals")) {
		refusals();
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "listen"))
		return listen_once(atoi(argv[2]));
	if (argc > 3 && !strcmp(argv[1], "connect"))
		return connect_to(argv[2], atoi(argv[3]));
	tcp();
	nonblocking_connect();
	refused();
	sendfile_to_socket();
	udp();
	ipv6();
	interrupted();
	printf("inet: done\n");
	return 0;
}
