// SPDX-License-Identifier: GPL-2.0
/* locks: POSIX record locks between processes — conflicts (F_SETLK's EAGAIN, F_GETLK's
 * type, range and holder), l_whence relative to the offset and the size, F_SETLKW waiting for
 * a release, a signal ending it, EDEADLK, release when the process closes ANY descriptor of
 * the file and at exit, OFD locks against classic ones and kept across another description's
 * close, threads of one process as one owner. Pids are printed relative to the known
 * processes, so that native and contained runs can be compared. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *path = "/tmp/locks.dat";

static const char *result(long ret)
{
	static char text[32];

	if (ret < 0)
		return strerrorname_np(errno);
	snprintf(text, sizeof(text), "%ld", ret);
	return text;
}

static const char *type_name(int type)
{
	return type == F_RDLCK ? "RDLCK" : type == F_WRLCK ? "WRLCK" : type == F_UNLCK ? "UNLCK" : "?";
}

static int lock(int fd, int cmd, int type, int whence, long start, long len)
{
	struct flock fl = { .l_type = type, .l_whence = whence, .l_start = start, .l_len = len };

	return fcntl(fd, cmd, &fl);
}

/* F_GETLK (or F_OFD_GETLK) printed; the holder as "parent", "self", "child" or its value. */
static void getlk(const char *what, int fd, int cmd, int type, int whence, long start, long len,
		  pid_t parent, pid_t child)
{
	struct flock fl = { .l_type = type, .l_whence = whence, .l_start = start, .l_len = len };
	int ret = fcntl(fd, cmd, &fl);
	char holder[32];

	printf("%s: %s", what, result(ret));
	if (ret < 0)
		printf("\n");
	if (ret == 0 && fl.l_type == F_UNLCK) {
		printf(" UNLCK\n");
		return;
	}
	if (ret == 0) {
		if (fl.l_pid == parent)
			snprintf(holder, sizeof(holder), "parent");
		else if (child && fl.l_pid == child)
			snprintf(holder, sizeof(holder), "child");
		else
			snprintf(holder, sizeof(holder), "%d", fl.l_pid);
		printf(" %s start %ld len %ld whence %d pid %s\n", type_name(fl.l_type),
		       (long)fl.l_start, (long)fl.l_len, fl.l_whence, holder);
	}
}

/* A child that opens the file and reports what F_GETLK sees of a write lock on [start, +len). */
static void probe(const char *what, long start, long len)
{
	pid_t parent = getpid(), child = fork();

	if (child == 0) {
		int fd = open(path, O_RDWR);

		getlk(what, fd, F_GETLK, F_WRLCK, SEEK_SET, start, len, parent, 0);
		_exit(0);
	}
	waitpid(child, NULL, 0);
}

static int status_of(pid_t child)
{
	int status;

	waitpid(child, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static volatile sig_atomic_t alarmed;

static void on_alarm(int sig)
{
	(void)sig;
	alarmed = 1;
}

static int thread_fd;
static int thread_result;

static void *thread_lock(void *arg)
{
	(void)arg;
	/* The same process: its own lock does not conflict, it is replaced. */
	thread_result = lock(thread_fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 5);
	return NULL;
}

/* `hold`: takes a write lock on [0,10) of `shared`, says so, keeps it 3 s. `probe`: what
 * F_SETLK and F_GETLK say of it (the holder as 0, or "host" for a nonzero pid). Run by the
 * host and by a container, each against the other. */
static const char *shared = "/tmp/locks-shared.dat";

static int other_side(const char *mode)
{
	int fd = open(shared, O_RDWR | O_CREAT, 0644);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10 };

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(mode, "hold") == 0) {
		printf("hold: %s\n", result(fcntl(fd, F_SETLK, &fl)));
		printf("holding\n");
		sleep(3);
		return 0;
	}
	printf("probe SETLK: %s\n", result(fcntl(fd, F_SETLK, &fl)));
	fl.l_start = 5;
	fl.l_len = 0;
	printf("probe GETLK: %s", result(fcntl(fd, F_GETLK, &fl)));
	printf(" %s start %ld len %ld pid %s\n", type_name(fl.l_type), (long)fl.l_start,
	       (long)fl.l_len, fl.l_pid == 0 ? "0" : fl.l_pid > 0 ? "host" : "negative");
	return 0;
}

int main(int argc, char **argv)
{
	char buf[100];
	int fd, fd2, ofd, ofd2, ro, sync[2], go[2];
	pid_t parent = getpid(), child;

	if (argc > 1 && strcmp(argv[1], "after-exec") == 0) {
		/* Exec'd with the lock's descriptor close-on-exec and another one open. */
		setvbuf(stdout, NULL, _IOLBF, 0);
		probe("after exec closed a close-on-exec descriptor", 80, 1);
		return 0;
	}
	if (argc > 1)
		return other_side(argv[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(buf, '.', sizeof(buf));
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, buf, sizeof(buf)) != sizeof(buf)) {
		perror("setup");
		return 1;
	}

	/* Conflicts seen by another process. */
	printf("parent WRLCK [10,20): %s\n", result(lock(fd, F_SETLK, F_WRLCK, SEEK_SET, 10, 10)));
	printf("parent RDLCK [30,40): %s\n", result(lock(fd, F_SETLK, F_RDLCK, SEEK_SET, 30, 10)));
	child = fork();
	if (child == 0) {
		int cfd = open(path, O_RDWR);

		printf("child WRLCK [15,20): %s\n", result(lock(cfd, F_SETLK, F_WRLCK, SEEK_SET, 15, 5)));
		printf("child RDLCK [0,10): %s\n", result(lock(cfd, F_SETLK, F_RDLCK, SEEK_SET, 0, 10)));
		printf("child RDLCK [30,35): %s\n", result(lock(cfd, F_SETLK, F_RDLCK, SEEK_SET, 30, 5)));
		printf("child WRLCK [30,35): %s\n", result(lock(cfd, F_SETLK, F_WRLCK, SEEK_SET, 30, 5)));
		getlk("child GETLK WRLCK [0,EOF)", cfd, F_GETLK, F_WRLCK, SEEK_SET, 0, 0, parent, 0);
		getlk("child GETLK RDLCK [0,EOF)", cfd, F_GETLK, F_RDLCK, SEEK_SET, 0, 0, parent, 0);
		getlk("child GETLK RDLCK [25,EOF)", cfd, F_GETLK, F_RDLCK, SEEK_SET, 25, 0, parent, 0);
		getlk("child GETLK end-95 len 10", cfd, F_GETLK, F_WRLCK, SEEK_END, -95, 10, parent, 0);
		lseek(cfd, 50, SEEK_SET);
		getlk("child GETLK cur-45 len 1", cfd, F_GETLK, F_WRLCK, SEEK_CUR, -45, 1, parent, 0);
		getlk("child GETLK cur-35 len -5", cfd, F_GETLK, F_WRLCK, SEEK_CUR, -35, -5, parent, 0);
		getlk("child GETLK UNLCK", cfd, F_GETLK, F_UNLCK, SEEK_SET, 0, 0, parent, 0);
		printf("child SETLK start -1: %s\n", result(lock(cfd, F_SETLK, F_RDLCK, SEEK_SET, -1, 1)));
		printf("child SETLK whence 7: %s\n", result(lock(cfd, F_SETLK, F_RDLCK, 7, 0, 1)));
		_exit(0);
	}
	status_of(child);
	getlk("parent GETLK its own", fd, F_GETLK, F_WRLCK, SEEK_SET, 0, 0, parent, 0);
	probe("after the child's exit, [0,10)", 0, 10);
	ro = open(path, O_RDONLY);
	printf("WRLCK on a read-only descriptor: %s\n",
	       result(lock(ro, F_SETLK, F_WRLCK, SEEK_SET, 0, 1)));

	/* F_SETLKW waits for the release. */
	if (pipe(sync) || pipe(go))
		return 1;
	child = fork();
	if (child == 0) {
		int cfd = open(path, O_RDWR);
		char c;

		long got;

		write(sync[1], "w", 1);
		got = lock(cfd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 0);
		/* Printed once the parent has printed its unlock (both may run at once). */
		read(go[0], &c, 1);
		printf("child SETLKW [0,EOF): %s\n", result(got));
		pread(cfd, &c, 1, 99);
		printf("child saw the parent's last write: %s\n", c == 'R' ? "yes" : "no");
		write(sync[1], "l", 1);
		sleep(1);
		_exit(0);
	}
	read(sync[0], buf, 1);
	usleep(300000);
	pwrite(fd, "R", 1, 99);
	printf("parent unlocks all: %s\n", result(lock(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0)));
	fflush(stdout);
	write(go[1], "g", 1);
	read(sync[0], buf, 1);
	getlk("parent GETLK while the child holds all", fd, F_GETLK, F_RDLCK, SEEK_SET, 0, 0, parent,
	      child);
	printf("parent SETLK [0,1): %s\n", result(lock(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 1)));
	status_of(child);
	printf("parent SETLK [0,1) after the child's exit: %s\n",
	       result(lock(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 1)));

	/* A signal ends F_SETLKW: EINTR without SA_RESTART. */
	lock(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0);
	child = fork();
	if (child == 0) {
		struct sigaction sa = { .sa_handler = on_alarm };
		int cfd = open(path, O_RDWR);

		sigaction(SIGALRM, &sa, NULL);
		alarm(1);
		printf("child SETLKW interrupted: %s\n",
		       result(lock(cfd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1)));
		_exit(0);
	}
	status_of(child);

	/* ... and, after an SA_RESTART handler, the wait goes on until the lock is free. */
	child = fork();
	if (child == 0) {
		struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
		int cfd = open(path, O_RDWR);

		sigaction(SIGALRM, &sa, NULL);
		alarm(1);
		write(sync[1], "w", 1);
		printf("child SETLKW across an SA_RESTART handler: %s\n",
		       result(lock(cfd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1)));
		printf("child's handler ran: %s\n", alarmed ? "yes" : "no");
		_exit(0);
	}
	read(sync[0], buf, 1);
	sleep(2);
	lock(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
	status_of(child);

	/* EDEADLK: the parent waits for the child's lock, the child then for the parent's. */
	lock(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
	lock(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1);
	child = fork();
	if (child == 0) {
		int cfd = open(path, O_RDWR), ret;

		lock(cfd, F_SETLK, F_WRLCK, SEEK_SET, 1, 1);
		write(sync[1], "w", 1);
		usleep(500000);
		ret = lock(cfd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
		_exit(ret < 0 && errno == EDEADLK ? 1 : ret < 0 ? 2 : 0);
	}
	read(sync[0], buf, 1);
	{
		int ret = lock(fd, F_SETLKW, F_WRLCK, SEEK_SET, 1, 1), mine = ret < 0 && errno == EDEADLK;

		if (mine)
			lock(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
		int theirs = status_of(child);

		printf("deadlock: EDEADLK for exactly one side: %s (child %s)\n",
		       (mine + (theirs == 1)) == 1 ? "yes" : "no", theirs == 1 ? "EDEADLK" : "waited");
	}
	lock(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);

	/* Closing ANY descriptor of the file releases the process's locks. */
	printf("parent WRLCK [0,10): %s\n", result(lock(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10)));
	fd2 = open(path, O_RDONLY);
	probe("before closing another descriptor", 0, 1);
	close(fd2);
	probe("after closing another descriptor", 0, 1);
	printf("parent WRLCK [0,10) again: %s\n", result(lock(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10)));
	fd2 = dup(ro);
	close(fd2);
	probe("after closing a dup of the read-only one", 0, 1);

	/* Threads of one process are one owner. */
	lock(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10);
	{
		pthread_t thread;

		thread_fd = fd;
		pthread_create(&thread, NULL, thread_lock, NULL);
		pthread_join(thread, NULL);
		printf("a thread re-locks the process's range: %s\n", result(thread_result));
	}
	probe("after the thread's lock, [5,10)", 5, 5);
	lock(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);

	/* OFD locks: owned by the description. */
	ofd = open(path, O_RDWR);
	printf("OFD WRLCK [50,60): %s\n", result(lock(ofd, F_OFD_SETLK, F_WRLCK, SEEK_SET, 50, 10)));
	printf("classic WRLCK [55,56) by the same process: %s\n",
	       result(lock(fd, F_SETLK, F_WRLCK, SEEK_SET, 55, 1)));
	probe("OFD lock seen by another process", 50, 1);
	ofd2 = open(path, O_RDWR);
	printf("another description's OFD RDLCK [55,56): %s\n",
	       result(lock(ofd2, F_OFD_SETLK, F_RDLCK, SEEK_SET, 55, 1)));
	getlk("another description's OFD GETLK", ofd2, F_OFD_GETLK, F_RDLCK, SEEK_SET, 0, 0, parent,
	      0);
	{
		struct flock fl = { .l_type = F_RDLCK, .l_pid = 1 };

		printf("OFD SETLK with l_pid: %s\n", result(fcntl(ofd2, F_OFD_SETLK, &fl)));
	}
	close(ofd2);
	close(fd2 = open(path, O_RDONLY));
	probe("OFD lock after other descriptions closed", 50, 1);
	child = fork();
	if (child == 0) {
		/* The child shares the description: its OFD lock is the child's too. */
		printf("child OFD WRLCK [50,60) on the shared description: %s\n",
		       result(lock(ofd, F_OFD_SETLK, F_WRLCK, SEEK_SET, 50, 10)));
		close(ofd);
		_exit(0);
	}
	status_of(child);
	probe("OFD lock after the child closed its copy", 50, 1);
	close(ofd);
	probe("OFD lock after the last close", 50, 1);

	/* Close-on-exec descriptors closed by execve release the process's locks too. */
	child = fork();
	if (child == 0) {
		int cfd = open(path, O_RDWR | O_CLOEXEC);

		open(path, O_RDONLY);
		lock(cfd, F_SETLK, F_WRLCK, SEEK_SET, 80, 10);
		probe("before exec", 80, 1);
		execl(argv[0], argv[0], "after-exec", (char *)NULL);
		_exit(127);
	}
	status_of(child);

	/* Locks go with the process at exit. */
	lock(fd, F_SETLK, F_WRLCK, SEEK_SET, 70, 5);
	close(ro);
	printf("locks: done\n");
	return 0;
}
