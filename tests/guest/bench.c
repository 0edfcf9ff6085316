// SPDX-License-Identifier: GPL-2.0
/* bench LABEL NAME: the cost of one operation NAME (see `benches` below), natively or in a
 * container. Under qemu -icount shift=0,sleep=off one guest nanosecond is one guest instruction,
 * so the figures are guest instructions per operation (the loop's own few included).
 *
 * Prints `BENCH LABEL NAME VALUE` and exits 0, or `BENCH-FAIL LABEL NAME WHY` and exits 1 when
 * a call fails or returns something wrong. A measurement that hangs blocked is ended by SIGALRM.
 * `bench true` exits at once: the program fork_execve_wait executes. `bench list` prints the
 * names. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FILE_PATH "/tmp/bench-file"
#define READ_PATH "/tmp/bench-read"
#define WRITE_PATH "/tmp/bench-write"
#define DIR_PATH "/tmp/bench-dir"
#define DIR_ENTRIES 100
#define BLOCK 4096

static const char *self; /* this program's path, for fork_execve_wait */
static char why[256];	 /* what went wrong, for BENCH-FAIL */
static char block[BLOCK];

static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return -1;
}

/* A failed call: its name, the result and errno's name. */
static int fail_call(const char *call, long r)
{
	int e = errno;

	return fail("%s returned %ld, errno %d (%s)", call, r, e, strerrorname_np(e) ?: "?");
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* State a measurement sets up once, outside the timed loops. */
static int fd;

static int getpid_run(long n)
{
	long i;

	for (i = 0; i < n; i++)
		syscall(SYS_getpid);
	return 0;
}

static int getpid_setup(void)
{
	long r = syscall(SYS_getpid);

	return r > 0 ? 0 : fail_call("getpid", r);
}

static int openat_close_run(long n)
{
	long i, r;

	for (i = 0; i < n; i++) {
		r = syscall(SYS_openat, AT_FDCWD, FILE_PATH, O_RDONLY);
		if (r < 0)
			return fail_call("openat", r);
		if ((r = syscall(SYS_close, r)) != 0)
			return fail_call("close", r);
	}
	return 0;
}

/* Creates PATH with SIZE bytes unless it already has them (a contained run reuses what the
 * native run made, so that a measurement needs only the calls it measures). */
static int make_file(const char *path, long size)
{
	struct stat st;
	long r;
	int f;

	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == size)
		return 0;
	f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (f < 0)
		return fail_call("setup: open", f);
	if (size && (r = write(f, block, size)) != size)
		return fail_call("setup: write", r);
	close(f);
	return 0;
}

static int open_setup(const char *path, long size, int flags)
{
	if (make_file(path, size))
		return -1;
	fd = open(path, flags);
	return fd < 0 ? fail_call("setup: open", fd) : 0;
}

static int openat_close_setup(void)
{
	return make_file(FILE_PATH, 0);
}

static int read_setup(void)
{
	return open_setup(READ_PATH, BLOCK, O_RDONLY);
}

static int read_run(long n)
{
	static char buf[BLOCK];
	long i, r;

	for (i = 0; i < n; i++)
		if ((r = syscall(SYS_pread64, fd, buf, BLOCK, 0)) != BLOCK)
			return fail_call("pread64", r);
	return 0;
}

static int write_setup(void)
{
	return open_setup(WRITE_PATH, BLOCK, O_WRONLY);
}

static int write_run(long n)
{
	long i, r;

	for (i = 0; i < n; i++)
		if ((r = syscall(SYS_pwrite64, fd, block, BLOCK, 0)) != BLOCK)
			return fail_call("pwrite64", r);
	return 0;
}

static int fstat_setup(void)
{
	return open_setup(FILE_PATH, 0, O_RDONLY);
}

/* The fstat syscall itself: glibc's fstat() is newfstatat(fd, "", AT_EMPTY_PATH). */
static int fstat_run(long n)
{
	struct stat st;
	long i, r;

	for (i = 0; i < n; i++)
		if ((r = syscall(SYS_fstat, fd, &st)) != 0)
			return fail_call("fstat", r);
	return S_ISREG(st.st_mode) ? 0 : fail("fstat: st_mode %o is not a regular file", st.st_mode);
}

static int stat_run(long n)
{
	struct stat st;
	long i, r;

	for (i = 0; i < n; i++)
		if ((r = syscall(SYS_newfstatat, AT_FDCWD, FILE_PATH, &st, 0)) != 0)
			return fail_call("newfstatat", r);
	return S_ISREG(st.st_mode) ? 0 :
				     fail("newfstatat: st_mode %o is not a regular file", st.st_mode);
}

static int getdents_setup(void)
{
	char path[64];
	int i, f;

	if (mkdir(DIR_PATH, 0755) && errno != EEXIST)
		return fail_call("setup: mkdir", -1);
	for (i = 0; i < DIR_ENTRIES; i++) {
		snprintf(path, sizeof(path), DIR_PATH "/entry-%03d", i);
		if (access(path, F_OK) == 0)
			continue;
		if ((f = open(path, O_WRONLY | O_CREAT, 0644)) < 0)
			return fail_call("setup: open", f);
		close(f);
	}
	return 0;
}

/* One full listing: open, getdents64 until 0, close. Checks the first listing's count. */
static int getdents_run(long n)
{
	static char buf[8192];
	long i, r, entries, pos;
	int d;

	for (i = 0; i < n; i++) {
		d = syscall(SYS_openat, AT_FDCWD, DIR_PATH, O_RDONLY | O_DIRECTORY);
		if (d < 0)
			return fail_call("openat", d);
		entries = 0;
		while ((r = syscall(SYS_getdents64, d, buf, sizeof(buf))) > 0) {
			if (i)
				continue;
			for (pos = 0; pos < r; entries++)
				pos += *(unsigned short *)(buf + pos + 16); /* d_reclen */
		}
		if (r < 0)
			return fail_call("getdents64", r);
		if ((r = syscall(SYS_close, d)) != 0)
			return fail_call("close", r);
		if (!i && entries != DIR_ENTRIES + 2)
			return fail("getdents64 listed %ld entries, not %d", entries, DIR_ENTRIES + 2);
	}
	return 0;
}

/* pipe_roundtrip: a child echoes every byte from `there` back on `back`. */
static int there[2], back[2];
static pid_t echo_pid;

static int pipe_setup(void)
{
	char c;
	long r;

	if ((r = pipe(there)) || (r = pipe(back)))
		return fail_call("pipe", r);
	echo_pid = fork();
	if (echo_pid < 0)
		return fail_call("fork", echo_pid);
	if (echo_pid == 0) {
		close(there[1]);
		close(back[0]);
		while (read(there[0], &c, 1) == 1)
			if (write(back[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(there[0]);
	close(back[1]);
	return 0;
}

static int pipe_run(long n)
{
	char c = 'x';
	long i, r;

	for (i = 0; i < n; i++) {
		if ((r = syscall(SYS_write, there[1], &c, 1)) != 1)
			return fail_call("write", r);
		if ((r = syscall(SYS_read, back[0], &c, 1)) != 1)
			return fail_call("read", r);
	}
	return 0;
}

static int wait_ok(pid_t pid, const char *what)
{
	int status;
	long r = syscall(SYS_wait4, pid, &status, 0, NULL);

	if (r != pid)
		return fail_call("wait4", r);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return fail("%s: wait4 status %#x (%s %d)", what, status,
			    WIFEXITED(status) ? "exit" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return 0;
}

static int pipe_teardown(void)
{
	close(there[1]);
	close(back[0]);
	return wait_ok(echo_pid, "pipe echo child");
}

/* unix_roundtrip: as pipe_roundtrip, over one AF_UNIX stream socketpair. */
static int unix_setup(void)
{
	int sv[2];
	char c;
	long r;

	if ((r = socketpair(AF_UNIX, SOCK_STREAM, 0, sv)))
		return fail_call("socketpair", r);
	echo_pid = fork();
	if (echo_pid < 0)
		return fail_call("fork", echo_pid);
	if (echo_pid == 0) {
		close(sv[0]);
		while (read(sv[1], &c, 1) == 1)
			if (write(sv[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(sv[1]);
	/* pipe_run writes to there[1] and reads from back[0]: both are this end. */
	there[1] = sv[0];
	back[0] = sv[0];
	return 0;
}

static int unix_teardown(void)
{
	close(there[1]);
	return wait_ok(echo_pid, "unix echo child");
}

/* tcp_roundtrip: as pipe_roundtrip, over a TCP connection on loopback (TCP_NODELAY). */
static int tcp_fd;

/* Brings loopback up if it is down: natively the guest's may be; a container's is up (and
 * not ours to set). */
static void loopback_up(void)
{
	struct ifreq lo = { .ifr_name = "lo" };
	int probe;

	probe = socket(AF_INET, SOCK_DGRAM, 0);
	if (probe >= 0 && ioctl(probe, SIOCGIFFLAGS, &lo) == 0 && !(lo.ifr_flags & IFF_UP)) {
		lo.ifr_flags |= IFF_UP;
		ioctl(probe, SIOCSIFFLAGS, &lo);
	}
	close(probe);
}

/* A listener on 127.0.0.1 (any port, in *a), with loopback brought up if it is down. */
static int tcp_setup_listener(int *server, struct sockaddr_in *a, socklen_t *len)
{
	loopback_up();
	*server = socket(AF_INET, SOCK_STREAM, 0);
	if (*server < 0 || bind(*server, (struct sockaddr *)a, sizeof(*a)) || listen(*server, 1) ||
	    getsockname(*server, (struct sockaddr *)a, len))
		return fail("tcp listener: %s", strerror(errno));
	return 0;
}

static int tcp_setup(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int server, conn, one = 1;
	char c;

	if (tcp_setup_listener(&server, &a, &len))
		return 1;
	echo_pid = fork();
	if (echo_pid < 0)
		return fail_call("fork", echo_pid);
	if (echo_pid == 0) {
		conn = accept(server, NULL, NULL);
		setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		while (read(conn, &c, 1) == 1)
			if (write(conn, &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(server);
	tcp_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (tcp_fd < 0 || connect(tcp_fd, (struct sockaddr *)&a, sizeof(a)))
		return fail("tcp connect: %s", strerror(errno));
	setsockopt(tcp_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

static int tcp_run(long n)
{
	char c = 'x';
	long i, r;

	for (i = 0; i < n; i++) {
		if ((r = syscall(SYS_write, tcp_fd, &c, 1)) != 1)
			return fail_call("write", r);
		if ((r = syscall(SYS_read, tcp_fd, &c, 1)) != 1)
			return fail_call("read", r);
	}
	return 0;
}

static int tcp_teardown(void)
{
	close(tcp_fd);
	return wait_ok(echo_pid, "tcp echo child");
}

/* tcp_bulk: 64 KiB written per operation over a TCP connection on loopback to a child
 * that reads and drops it. */
#define BULK (64 * 1024)
static char bulk[BULK];

static int bulk_setup(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int server, conn;

	if (tcp_setup_listener(&server, &a, &len))
		return 1;
	echo_pid = fork();
	if (echo_pid < 0)
		return fail_call("fork", echo_pid);
	if (echo_pid == 0) {
		static char sink[BULK];

		conn = accept(server, NULL, NULL);
		while (read(conn, sink, sizeof(sink)) > 0)
			;
		_exit(0);
	}
	close(server);
	tcp_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (tcp_fd < 0 || connect(tcp_fd, (struct sockaddr *)&a, sizeof(a)))
		return fail("tcp connect: %s", strerror(errno));
	return 0;
}

static int bulk_run(long n)
{
	long i, r, done;

	for (i = 0; i < n; i++)
		for (done = 0; done < BULK; done += r)
			if ((r = syscall(SYS_write, tcp_fd, bulk + done, BULK - done)) <= 0)
				return fail_call("write", r);
	return 0;
}

static int fork_wait_run(long n)
{
	long i;
	pid_t pid;

	for (i = 0; i < n; i++) {
		pid = fork();
		if (pid < 0)
			return fail_call("fork", pid);
		if (pid == 0)
			_exit(0);
		if (wait_ok(pid, "child"))
			return -1;
	}
	return 0;
}

static int fork_execve_wait_run(long n)
{
	char *argv[] = { (char *)self, "true", NULL };
	char *envp[] = { NULL };
	long i;
	pid_t pid;

	for (i = 0; i < n; i++) {
		pid = fork();
		if (pid < 0)
			return fail_call("fork", pid);
		if (pid == 0) {
			execve(self, argv, envp);
			_exit(127);
		}
		if (wait_ok(pid, "child (127: execve failed)"))
			return -1;
	}
	return 0;
}

/* A start of Debian's python3 that does nothing (`python3 -c pass`): its loader, its shared
 * libraries, its interpreter's start-up and exit, as a shell would run it. */
static int python_start_run(long n)
{
	char *argv[] = { "python3", "-c", "pass", NULL };
	char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	long i;
	pid_t pid;

	for (i = 0; i < n; i++) {
		pid = fork();
		if (pid < 0)
			return fail_call("fork", pid);
		if (pid == 0) {
			execve("/usr/bin/python3", argv, envp);
			_exit(127);
		}
		if (wait_ok(pid, "python3 (127: execve failed)"))
			return -1;
	}
	return 0;
}

static void *thread_return(void *arg)
{
	return arg;
}

static int thread_create_join_run(long n)
{
	pthread_t thread;
	void *back;
	long i;
	int e;

	for (i = 0; i < n; i++) {
		e = pthread_create(&thread, NULL, thread_return, (void *)i);
		if (e)
			return fail("pthread_create: %s", strerrorname_np(e) ?: "?");
		e = pthread_join(thread, &back);
		if (e || back != (void *)i)
			return fail("pthread_join: %s", e ? strerrorname_np(e) : "wrong value");
	}
	return 0;
}

/* epoll_wait on an instance whose one item, an eventfd holding a count, is always ready. */
static int epoll_fd = -1;

static int epoll_ready_setup(void)
{
	struct epoll_event event = { .events = EPOLLIN };
	long efd = syscall(SYS_eventfd2, 1, 0);

	if (efd < 0)
		return fail_call("eventfd2", efd);
	epoll_fd = syscall(SYS_epoll_create1, 0);
	if (epoll_fd < 0)
		return fail_call("epoll_create1", epoll_fd);
	long r = syscall(SYS_epoll_ctl, epoll_fd, EPOLL_CTL_ADD, efd, &event);
	return r ? fail_call("epoll_ctl", r) : 0;
}

static int epoll_ready_run(long n)
{
	struct epoll_event event;
	long i, r;

	for (i = 0; i < n; i++) {
		r = syscall(SYS_epoll_wait, epoll_fd, &event, 1, 0);
		if (r != 1)
			return fail("epoll_wait: %ld, not 1 ready", r);
	}
	return 0;
}

/* open+read+close of /proc/self/stat: the host's procfs natively, rVisor's in a container. */
static int proc_self_stat_run(long n)
{
	static char buf[1024];
	long i, r, fd;

	for (i = 0; i < n; i++) {
		fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/stat", O_RDONLY);
		if (fd < 0)
			return fail_call("openat", fd);
		r = syscall(SYS_read, fd, buf, sizeof(buf));
		if (r <= 0 || buf[0] < '1' || buf[0] > '9')
			return fail("read: %ld, not a pid first", r);
		if ((r = syscall(SYS_close, fd)) != 0)
			return fail_call("close", r);
	}
	return 0;
}

/* tmpfs_write_4k: pwrite64 of 4 KiB to a file on tmpfs at /bench-tmpfs (natively the guest's
 * own tmpfs mount there; contained, the tmpfs `rvisor run --tmpfs` gave the container). */
#define TMPFS_PATH "/bench-tmpfs/bench-write"

static int tmpfs_write_setup(void)
{
	return open_setup(TMPFS_PATH, BLOCK, O_WRONLY);
}

/* Runs ARGV (an absolute path first) in a child whose stdout and stderr go to a pipe this
 * process drains, and waits for it. */
static int run_drained(char *const argv[], const char *what)
{
	static char sink[4096];
	char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	int out[2];
	pid_t pid;

	if (pipe(out))
		return fail_call("pipe", -1);
	pid = fork();
	if (pid < 0)
		return fail_call("fork", pid);
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(out[1], 2);
		close(out[0]);
		close(out[1]);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(out[1]);
	while (read(out[0], sink, sizeof(sink)) > 0)
		;
	close(out[0]);
	return wait_ok(pid, what);
}

/* ps_e_100: Debian's `ps -e` with 100 more processes (asleep) in its pid namespace (natively
 * a new one, with its own /proc; contained, the container's). */
#define SLEEPERS 100
static pid_t sleepers[SLEEPERS];

static int ps_setup(void)
{
	int i;

	for (i = 0; i < SLEEPERS; i++) {
		sleepers[i] = fork();
		if (sleepers[i] < 0)
			return fail_call("fork", sleepers[i]);
		if (sleepers[i] == 0) {
			pause();
			_exit(0);
		}
	}
	return 0;
}

static int ps_run(long n)
{
	char *argv[] = { "/usr/bin/ps", "-e", NULL };
	long i;

	for (i = 0; i < n; i++)
		if (run_drained(argv, "ps -e (127: execve failed)"))
			return -1;
	return 0;
}

static int ps_teardown(void)
{
	int i, status;

	for (i = 0; i < SLEEPERS; i++)
		kill(sleepers[i], SIGKILL);
	for (i = 0; i < SLEEPERS; i++)
		waitpid(sleepers[i], &status, 0);
	return 0;
}

/* redis_set_get: one request of `redis-benchmark -t set,get` (its 50 clients, half SETs and
 * half GETs) to a redis-server on loopback port 6399, both Debian's; the benchmark's start
 * and end are spread over the requests of a run. */
#define REDIS_PORT 6399
static pid_t redis_pid;

static int redis_setup(void)
{
	char *argv[] = { "/usr/bin/redis-server", "--port", "6399", "--bind", "127.0.0.1",
			 "--save", "", "--appendonly", "no", "--loglevel", "warning", NULL };
	char *envp[] = { NULL };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(REDIS_PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int tries, probe, null;

	loopback_up();
	redis_pid = fork();
	if (redis_pid < 0)
		return fail_call("fork", redis_pid);
	if (redis_pid == 0) {
		null = open("/tmp/redis-bench.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(null, 1);
		dup2(null, 2);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	for (tries = 0; tries < 3000; tries++) {
		probe = socket(AF_INET, SOCK_STREAM, 0);
		if (probe < 0)
			return fail_call("socket", probe);
		if (!connect(probe, (struct sockaddr *)&a, sizeof(a))) {
			close(probe);
			return 0;
		}
		close(probe);
		usleep(10000);
	}
	return fail("redis-server never listened on port %d", REDIS_PORT);
}

static int redis_run(long n)
{
	char requests[32];
	char *argv[] = { "/usr/bin/redis-benchmark", "-p", "6399", "-q", "-n", requests,
			 "-t", "set,get", NULL };

	snprintf(requests, sizeof(requests), "%ld", n / 2 ? n / 2 : 1);
	return run_drained(argv, "redis-benchmark (127: execve failed)");
}

static int redis_teardown(void)
{
	kill(redis_pid, SIGTERM);
	return wait_ok(redis_pid, "redis-server");
}

/* proc_pid_files: what `ps` reads of each process, for one other process (asleep):
 * open+read+close of /proc/PID/{stat,status,cmdline,environ}, reading each to its end. */
static pid_t sleeper;
static char proc_paths[4][64];

static int proc_pid_setup(void)
{
	static const char *const files[] = { "stat", "status", "cmdline", "environ" };
	int i;

	sleeper = fork();
	if (sleeper < 0)
		return fail_call("fork", sleeper);
	if (sleeper == 0) {
		pause();
		_exit(0);
	}
	for (i = 0; i < 4; i++)
		snprintf(proc_paths[i], sizeof(proc_paths[i]), "/proc/%d/%s", sleeper, files[i]);
	return 0;
}

static int proc_pid_run(long n)
{
	static char buf[4096];
	long i, r, fd;
	int f;

	for (i = 0; i < n; i++)
		for (f = 0; f < 4; f++) {
			fd = syscall(SYS_openat, AT_FDCWD, proc_paths[f], O_RDONLY);
			if (fd < 0)
				return fail_call("openat", fd);
			while ((r = syscall(SYS_read, fd, buf, sizeof(buf))) > 0)
				;
			if (r < 0)
				return fail_call("read", r);
			syscall(SYS_close, fd);
		}
	return 0;
}

static int proc_pid_teardown(void)
{
	int status;

	kill(sleeper, SIGKILL);
	waitpid(sleeper, &status, 0);
	return 0;
}

struct bench {
	const char *name;
	long n; /* operations per round */
	int (*setup)(void);
	int (*run)(long n);
	int (*teardown)(void);
};

/* The order `cargo xtask bench` prints them in is its own; keep the names in step. */
static const struct bench benches[] = {
	{ "getpid", 100000, getpid_setup, getpid_run, NULL },
	{ "openat_close", 10000, openat_close_setup, openat_close_run, NULL },
	{ "read_4k", 10000, read_setup, read_run, NULL },
	{ "write_4k", 10000, write_setup, write_run, NULL },
	{ "fstat", 10000, fstat_setup, fstat_run, NULL },
	{ "stat", 10000, openat_close_setup, stat_run, NULL },
	{ "getdents64_100", 1000, getdents_setup, getdents_run, NULL },
	{ "pipe_roundtrip", 3000, pipe_setup, pipe_run, pipe_teardown },
	{ "unix_roundtrip", 3000, unix_setup, pipe_run, unix_teardown },
	{ "tcp_roundtrip", 3000, tcp_setup, tcp_run, tcp_teardown },
	{ "tcp_bulk_64k", 300, bulk_setup, bulk_run, tcp_teardown },
	{ "fork_wait", 200, NULL, fork_wait_run, NULL },
	{ "fork_execve_wait", 100, NULL, fork_execve_wait_run, NULL },
	{ "thread_create_join", 200, NULL, thread_create_join_run, NULL },
	{ "python_start", 3, NULL, python_start_run, NULL },
	{ "proc_self_stat", 1000, NULL, proc_self_stat_run, NULL },
	{ "epoll_wait_ready", 10000, epoll_ready_setup, epoll_ready_run, NULL },
	{ "tmpfs_write_4k", 10000, tmpfs_write_setup, write_run, NULL },
	{ "ps_e_100", 3, ps_setup, ps_run, ps_teardown },
	{ "proc_pid_files", 300, proc_pid_setup, proc_pid_run, proc_pid_teardown },
	{ "redis_set_get", 20000, redis_setup, redis_run, redis_teardown },
};

/* The best of ROUNDS: a round that a timer tick or deferred kernel work lands in is not
 * the cost of the call. */
#define ROUNDS 3
/* Guest seconds before SIGALRM ends a measurement that hangs (time warps while the guest is
 * idle, so a blocked hang ends quickly; every measurement takes well under a second). */
#define LIMIT_S 30

static int measure(const struct bench *b, double *best)
{
	double t;
	int round;

	if (b->setup && b->setup())
		return -1;
	if (b->run(b->n / 100 ? b->n / 100 : 1)) /* warm up */
		return -1;
	*best = 1e18;
	for (round = 0; round < ROUNDS; round++) {
		t = now();
		if (b->run(b->n))
			return -1;
		t = (now() - t) / b->n;
		*best = t < *best ? t : *best;
	}
	return b->teardown ? b->teardown() : 0;
}

int main(int argc, char **argv)
{
	const struct bench *b;
	double best;
	size_t i;

	if (argc == 2 && !strcmp(argv[1], "true"))
		return 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "list")) {
		for (i = 0; i < sizeof(benches) / sizeof(benches[0]); i++)
			printf("%s\n", benches[i].name);
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: bench LABEL NAME | bench list | bench true\n");
		return 2;
	}
	self = argv[0];
	memset(block, 'b', sizeof(block));
	for (i = 0; i < sizeof(benches) / sizeof(benches[0]); i++) {
		b = &benches[i];
		if (strcmp(b->name, argv[2]))
			continue;
		alarm(LIMIT_S);
		if (measure(b, &best)) {
			printf("BENCH-FAIL %s %s %s\n", argv[1], b->name, why);
			return 1;
		}
		printf("BENCH %s %s %.1f\n", argv[1], b->name, best);
		return 0;
	}
	printf("BENCH-FAIL %s %s no such measurement\n", argv[1], argv[2]);
	return 1;
}
