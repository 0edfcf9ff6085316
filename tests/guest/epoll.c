// SPDX-License-Identifier: GPL-2.0
/* epoll: epoll, eventfd and timerfd as a program sees them — level and edge triggering on a
 * pipe, one-shot items re-armed with EPOLL_CTL_MOD, hang-up when the writer closes, a closed
 * descriptor's registration going away with its file, nested instances, the errnos of every
 * call, eventfd's counter and semaphore mode, timerfd expirations, and epoll_pwait's signal
 * mask. Printed as the kernel answers, so that native and contained runs can be compared;
 * timings are asserted coarsely (a count at least, a wait at least so long). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *result(long ret)
{
	static char text[32];

	if (ret < 0)
		return strerrorname_np(errno);
	snprintf(text, sizeof(text), "%ld", ret);
	return text;
}

/* One wait with a zero timeout: "n events: data/events ..." */
static void show(const char *what, int ep, int timeout)
{
	struct epoll_event events[8];
	int n = epoll_wait(ep, events, 8, timeout), i;

	printf("%s: %s", what, result(n));
	for (i = 0; i < n; i++)
		printf(" [%lu %#x]", (unsigned long)events[i].data.u64, events[i].events);
	printf("\n");
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event event = { .events = events, .data.u64 = data };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &event);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event event = { .events = events, .data.u64 = data };

	return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &event);
}

static long long ms_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000LL + (now.tv_nsec - start->tv_nsec) / 1000000;
}

static void errnos(void)
{
	struct epoll_event event = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC), p[2], file, dir, other;

	printf("epoll_create(0): %s\n", result(epoll_create(0)));
	printf("epoll_create(-1): %s\n", result(epoll_create(-1)));
	printf("epoll_create1(1): %s\n", result(epoll_create1(1)));
	printf("EPOLL_CLOEXEC: %s\n", fcntl(ep, F_GETFD) == FD_CLOEXEC ? "yes" : "no");
	pipe(p);
	file = open("/tests/lib.sh", O_RDONLY);
	dir = open("/tests", O_RDONLY | O_DIRECTORY);
	printf("ADD: %s\n", result(add(ep, p[0], EPOLLIN, 1)));
	printf("ADD again: %s\n", result(add(ep, p[0], EPOLLIN, 1)));
	printf("MOD unregistered: %s\n", result(mod(ep, p[1], EPOLLOUT, 2)));
	printf("DEL unregistered: %s\n", result(epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL)));
	printf("ADD bad fd: %s\n", result(add(ep, 77, EPOLLIN, 0)));
	printf("bad epfd: %s\n", result(add(78, p[0], EPOLLIN, 0)));
	printf("ADD regular file: %s\n", result(add(ep, file, EPOLLIN, 0)));
	printf("ADD directory: %s\n", result(add(ep, dir, EPOLLIN, 0)));
	printf("ADD itself: %s\n", result(add(ep, ep, EPOLLIN, 0)));
	printf("epfd not an epoll: %s\n", result(add(p[0], p[1], EPOLLIN, 0)));
	printf("unknown op: %s\n", result(epoll_ctl(ep, 7, p[1], &event)));
	printf("bad event pointer: %s\n",
	       result(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], (struct epoll_event *)8)));
	printf("DEL ignores the event pointer: %s\n",
	       result(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], (struct epoll_event *)8)));
	printf("EXCLUSIVE with MOD: %s\n", result(mod(ep, p[1], EPOLLOUT | EPOLLEXCLUSIVE, 0)));
	printf("EXCLUSIVE with ONESHOT: %s\n",
	       result(add(ep, p[1], EPOLLOUT | EPOLLEXCLUSIVE | EPOLLONESHOT, 0)));
	other = epoll_create1(0);
	printf("EXCLUSIVE of an epoll: %s\n", result(add(ep, other, EPOLLIN | EPOLLEXCLUSIVE, 0)));
	printf("EXCLUSIVE ADD: %s\n", result(add(ep, p[1], EPOLLOUT | EPOLLEXCLUSIVE | EPOLLET, 3)));
	printf("MOD of an EXCLUSIVE item: %s\n", result(mod(ep, p[1], EPOLLOUT, 3)));
	show("EXCLUSIVE item reported", ep, 0);
	printf("wait maxevents 0: %s\n", result(epoll_wait(ep, &event, 0, 0)));
	printf("wait maxevents -1: %s\n", result(syscall(SYS_epoll_wait, ep, &event, -1, 0)));
	printf("wait maxevents too many: %s\n",
	       result(syscall(SYS_epoll_wait, ep, &event, INT32_MAX / 12 + 1, 0)));
	printf("wait on a pipe: %s\n", result(epoll_wait(p[0], &event, 1, 0)));
	printf("wait bad fd: %s\n", result(epoll_wait(79, &event, 1, 0)));
	printf("wait kernel buffer: %s\n",
	       result(syscall(SYS_epoll_wait, ep, 0xffff880000000000UL, 1, 0)));
	printf("wait unmapped buffer, nothing ready: %s\n",
	       result(syscall(SYS_epoll_wait, ep, 8, 1, 0)));
	write(p[1], "x", 1);
	add(ep, p[0], EPOLLIN, 4);
	printf("wait unmapped buffer, an event ready: %s\n",
	       result(syscall(SYS_epoll_wait, ep, 8, 1, 0)));
	show("level-triggered item still ready", ep, 0);
	printf("read of an epoll: %s\n", result(read(ep, &event, sizeof(event))));
	close(other);
	close(file);
	close(dir);
	close(p[0]);
	close(p[1]);
	close(ep);
}

static void triggering(void)
{
	int ep = epoll_create1(0), p[2];
	char byte;

	pipe(p);
	add(ep, p[0], EPOLLIN, 10);
	show("level, empty", ep, 0);
	write(p[1], "ab", 2);
	show("level, data", ep, 0);
	show("level, data again", ep, 0);
	mod(ep, p[0], EPOLLIN | EPOLLET, 11);
	show("edge after MOD", ep, 0);
	show("edge again", ep, 0);
	read(p[0], &byte, 1);
	show("edge after a partial read", ep, 0);
	write(p[1], "c", 1);
	show("edge after more data", ep, 0);
	show("edge again", ep, 0);
	mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 12);
	show("oneshot", ep, 0);
	show("oneshot disabled", ep, 0);
	write(p[1], "d", 1);
	show("oneshot disabled, more data", ep, 0);
	mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 13);
	show("oneshot re-armed", ep, 0);
	mod(ep, p[0], EPOLLIN | EPOLLRDHUP | EPOLLPRI, 14);
	add(ep, p[1], EPOLLOUT, 15);
	show("both ends", ep, 0);
	close(p[1]);
	show("writer closed", ep, 0);
	while (read(p[0], &byte, 1) > 0)
		;
	show("writer closed, drained", ep, 0);
	mod(ep, p[0], 0, 16);
	show("no events asked, hang-up still reported", ep, 0);
	close(p[0]);
	show("reader closed: gone", ep, 0);
	close(ep);
}

/* Three ready level-triggered items and room for two events a wait: the third comes first
 * in the next wait, then the first again. */
static void fairness(void)
{
	struct epoll_event events[2];
	int ep = epoll_create1(0), p[3][2], i, round, n;

	for (i = 0; i < 3; i++) {
		pipe(p[i]);
		write(p[i][1], "x", 1);
		add(ep, p[i][0], EPOLLIN, 80 + i);
	}
	for (round = 0; round < 3; round++) {
		n = epoll_wait(ep, events, 2, 0);
		printf("two at a time:");
		for (i = 0; i < n; i++)
			printf(" %lu", (unsigned long)events[i].data.u64);
		printf("\n");
	}
	for (i = 0; i < 3; i++) {
		close(p[i][0]);
		close(p[i][1]);
	}
	close(ep);
}

static void closing(void)
{
	int ep = epoll_create1(0), p[2], q[2], copy;

	pipe(p);
	add(ep, p[0], EPOLLIN, 20);
	write(p[1], "x", 1);
	copy = dup(p[0]);
	close(p[0]);
	show("closed but a dup holds the file", ep, 0);
	printf("DEL by the closed number: %s\n",
	       result(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL)));
	printf("DEL by the dup: %s\n", result(epoll_ctl(ep, EPOLL_CTL_DEL, copy, NULL)));
	close(copy);
	show("file released: gone", ep, 0);
	pipe(q);
	printf("new pipe at fd %s\n", q[0] == p[0] ? "reused" : "new");
	printf("ADD at the reused number: %s\n", result(add(ep, q[0], EPOLLIN, 21)));
	write(q[1], "y", 1);
	show("new registration", ep, 0);
	close(q[0]);
	close(q[1]);
	close(p[1]);
	close(ep);
}

/* Links eight instances into a chain, one to the next, from the bottom or from the top: no
 * chain may be longer than four links (EP_MAX_NESTS). */
static void chain(const char *what, int from_bottom)
{
	int e[8], i, link;

	for (i = 0; i < 8; i++)
		e[i] = epoll_create1(0);
	printf("%s:", what);
	for (link = 0; link < 7; link++) {
		i = from_bottom ? 6 - link : link;
		printf(" %s", add(e[i], e[i + 1], EPOLLIN, 0) ? strerrorname_np(errno) : "ok");
	}
	printf("\n");
	for (i = 0; i < 8; i++)
		close(e[i]);
}

static void nesting(void)
{
	int outer = epoll_create1(0), inner = epoll_create1(0), third = epoll_create1(0), p[2];
	struct pollfd pfd = { .fd = outer, .events = POLLIN };

	pipe(p);
	add(inner, p[0], EPOLLIN, 30);
	printf("ADD inner to outer: %s\n", result(add(outer, inner, EPOLLIN, 31)));
	printf("ADD outer to inner: %s\n", result(add(inner, outer, EPOLLIN, 32)));
	add(third, outer, EPOLLIN, 33);
	printf("ADD third to inner (a loop): %s\n", result(add(inner, third, EPOLLIN, 34)));
	show("outer, nothing", outer, 0);
	printf("poll outer: %s", result(poll(&pfd, 1, 0)));
	printf(" revents %#x\n", pfd.revents);
	write(p[1], "z", 1);
	show("outer", outer, 0);
	show("third", third, 0);
	printf("poll outer: %s", result(poll(&pfd, 1, 0)));
	printf(" revents %#x\n", pfd.revents);
	show("inner", inner, 0);
	close(p[0]);
	close(p[1]);
	close(third);
	close(inner);
	close(outer);
	chain("a chain built from the bottom", 1);
	chain("a chain built from the top", 0);
}

static void *late_writer(void *arg)
{
	usleep(50000);
	write(*(int *)arg, "w", 1);
	return NULL;
}

static void waking(void)
{
	int ep = epoll_create1(0), p[2], pidfd;
	struct timespec start, ts = { 0, 50000000 };
	pid_t child;
	struct epoll_event event;
	pthread_t thread;

	pipe(p);
	add(ep, p[0], EPOLLIN, 40);
	pthread_create(&thread, NULL, late_writer, &p[1]);
	show("woken by another thread", ep, -1);
	pthread_join(thread, NULL);
	epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);
	child = fork();
	if (child == 0) {
		usleep(50000);
		_exit(0);
	}
	pidfd = syscall(SYS_pidfd_open, child, 0);
	printf("ADD a pidfd: %s\n", result(add(ep, pidfd, EPOLLIN, 41)));
	show("pidfd, child running", ep, 0);
	show("pidfd, child exited", ep, -1);
	epoll_ctl(ep, EPOLL_CTL_DEL, pidfd, NULL);
	close(pidfd);
	waitpid(child, NULL, 0);
	clock_gettime(CLOCK_MONOTONIC, &start);
	show("timeout 50 ms", ep, 50);
	printf("waited 50 ms at least: %s\n", ms_since(&start) >= 49 ? "yes" : "no");
	clock_gettime(CLOCK_MONOTONIC, &start);
	printf("pwait2 50 ms: %s\n",
	       result(syscall(SYS_epoll_pwait2, ep, &event, 1, &ts, NULL, 8)));
	printf("waited 50 ms at least: %s\n", ms_since(&start) >= 49 ? "yes" : "no");
	ts.tv_nsec = 1000000000;
	printf("pwait2 bad timespec: %s\n",
	       result(syscall(SYS_epoll_pwait2, ep, &event, 1, &ts, NULL, 8)));
	printf("pwait2 bad timespec pointer: %s\n",
	       result(syscall(SYS_epoll_pwait2, ep, &event, 1, (void *)8, NULL, 8)));
	printf("pwait bad sigsetsize: %s\n",
	       result(syscall(SYS_epoll_pwait, ep, &event, 1, 0, &ts, 16)));
	close(p[0]);
	close(p[1]);
	close(ep);
}

static volatile sig_atomic_t handled;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

static void signals(void)
{
	struct sigaction action = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	int ep = epoll_create1(0), p[2];
	struct epoll_event event;
	sigset_t block, empty, now;
	pid_t parent = getpid(), child;

	pipe(p);
	add(ep, p[0], EPOLLIN, 50);
	sigaction(SIGUSR1, &action, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigemptyset(&empty);
	child = fork();
	if (child == 0) {
		usleep(100000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	printf("pwait with SIGUSR1 unblocked: %s\n", result(epoll_pwait(ep, &event, 1, -1, &empty)));
	printf("handler ran: %d\n", (int)handled);
	sigprocmask(SIG_BLOCK, NULL, &now);
	printf("SIGUSR1 blocked again: %s\n", sigismember(&now, SIGUSR1) ? "yes" : "no");
	waitpid(child, NULL, 0);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	child = fork();
	if (child == 0) {
		usleep(100000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	printf("wait with SA_RESTART handler: %s\n", result(epoll_wait(ep, &event, 1, -1)));
	printf("handler ran: %d\n", (int)handled);
	waitpid(child, NULL, 0);
	close(p[0]);
	close(p[1]);
	close(ep);
}

static void *late_adder(void *arg)
{
	uint64_t one = 1;

	usleep(50000);
	write(*(int *)arg, &one, 8);
	return NULL;
}

/* Four threads wait on one instance for one eventfd item, one-shot and re-armed by whoever
 * took it (a thread pool's pattern), while the main thread adds to the counter: every unit
 * added is taken, none twice. */
static int stress_ep, stress_efd;
static volatile int stress_stop;
static long stress_taken;
static pthread_mutex_t stress_lock = PTHREAD_MUTEX_INITIALIZER;

static void *stress_worker(void *arg)
{
	struct epoll_event event;
	uint64_t value;

	(void)arg;
	for (;;) {
		int n = epoll_wait(stress_ep, &event, 1, 50);

		if (n == 0 && stress_stop)
			return NULL;
		if (n != 1)
			continue;
		if (read(stress_efd, &value, 8) == 8) {
			pthread_mutex_lock(&stress_lock);
			stress_taken += value;
			pthread_mutex_unlock(&stress_lock);
		}
		mod(stress_ep, stress_efd, EPOLLIN | EPOLLONESHOT, 0);
	}
}

static void stress(void)
{
	pthread_t threads[4];
	uint64_t one = 1;
	long taken = 0;
	int i, tries;

	stress_ep = epoll_create1(0);
	stress_efd = eventfd(0, EFD_NONBLOCK);
	add(stress_ep, stress_efd, EPOLLIN | EPOLLONESHOT, 0);
	for (i = 0; i < 4; i++)
		pthread_create(&threads[i], NULL, stress_worker, NULL);
	for (i = 0; i < 500; i++) {
		write(stress_efd, &one, 8);
		if (i % 50 == 0)
			usleep(1000);
	}
	for (tries = 0; tries < 1000 && taken < 500; tries++) {
		usleep(10000);
		pthread_mutex_lock(&stress_lock);
		taken = stress_taken;
		pthread_mutex_unlock(&stress_lock);
	}
	stress_stop = 1;
	for (i = 0; i < 4; i++)
		pthread_join(threads[i], NULL);
	printf("four threads took %ld of 500\n", stress_taken);
	close(stress_efd);
	close(stress_ep);
}

static void eventfds(void)
{
	int efd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK), ep = epoll_create1(0), i;
	uint64_t value = 0, max = UINT64_MAX;
	pthread_t thread;
	char small[4];

	printf("eventfd2 bad flag: %s\n", result(syscall(SYS_eventfd2, 0, 8)));
	printf("F_GETFL: %#x\n", fcntl(efd, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	add(ep, efd, EPOLLIN | EPOLLOUT, 60);
	show("eventfd 3", ep, 0);
	for (i = 0; i < 4; i++) {
		long ret = read(efd, &value, 8);
		printf("semaphore read: %s value %lu\n", result(ret), ret < 0 ? 0 : (unsigned long)value);
	}
	show("eventfd 0", ep, 0);
	printf("read 4 bytes: %s\n", result(read(efd, small, 4)));
	printf("write 4 bytes: %s\n", result(write(efd, small, 4)));
	printf("write max: %s\n", result(write(efd, &max, 8)));
	value = UINT64_MAX - 1;
	printf("write max - 1: %s\n", result(write(efd, &value, 8)));
	show("eventfd full", ep, 0);
	value = 1;
	printf("write 1 more: %s\n", result(write(efd, &value, 8)));
	close(efd);
	efd = eventfd(0, 0);
	pthread_create(&thread, NULL, late_adder, &efd);
	printf("blocking read: %s", result(read(efd, &value, 8)));
	printf(" value %lu\n", (unsigned long)value);
	pthread_join(thread, NULL);
	value = 5;
	write(efd, &value, 8);
	write(efd, &value, 8);
	read(efd, &value, 8);
	printf("counter read whole: %lu\n", (unsigned long)value);
	close(efd);
	close(ep);
}

static void timerfds(void)
{
	struct itimerspec spec = { .it_interval = { 0, 100000000 }, .it_value = { 0, 100000000 } };
	struct itimerspec now;
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), ep;
	uint64_t count = 0;
	struct timespec start;
	char small[4];

	printf("timerfd_create bad clock: %s\n", result(timerfd_create(99, 0)));
	printf("timerfd_create CLOCK_PROCESS_CPUTIME_ID: %s\n",
	       result(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0)));
	printf("timerfd_create bad flag: %s\n", result(timerfd_create(CLOCK_MONOTONIC, 1)));
	printf("timerfd_create CLOCK_BOOTTIME: %s\n",
	       timerfd_create(CLOCK_BOOTTIME, 0) >= 0 ? "ok" : strerrorname_np(errno));
	printf("timerfd_create CLOCK_REALTIME_ALARM as root: %s\n",
	       timerfd_create(CLOCK_REALTIME_ALARM, 0) >= 0 ? "ok" : strerrorname_np(errno));
	printf("TFD_CLOEXEC: %s\n", fcntl(tfd, F_GETFD) == FD_CLOEXEC ? "yes" : "no");
	printf("disarmed read: %s\n", result(read(tfd, &count, 8)));
	printf("settime bad flag: %s\n", result(timerfd_settime(tfd, 4, &spec, NULL)));
	spec.it_value.tv_nsec = 1000000000;
	printf("settime bad nsec: %s\n", result(timerfd_settime(tfd, 0, &spec, NULL)));
	spec.it_value.tv_nsec = 100000000;
	printf("settime bad pointer: %s\n", result(timerfd_settime(tfd, 0, (void *)8, NULL)));
	ep = eventfd(0, 0);
	printf("settime of an eventfd: %s\n", result(timerfd_settime(ep, 0, &spec, NULL)));
	printf("gettime of an eventfd: %s\n", result(timerfd_gettime(ep, &now)));
	close(ep);
	printf("settime bad fd: %s\n", result(timerfd_settime(1000, 0, &spec, NULL)));
	printf("gettime bad fd: %s\n", result(timerfd_gettime(1000, &now)));
	printf("settime 100 ms interval: %s\n", result(timerfd_settime(tfd, 0, &spec, NULL)));
	timerfd_gettime(tfd, &now);
	printf("gettime interval %ld.%09ld, value at most 100 ms: %s\n",
	       (long)now.it_interval.tv_sec, now.it_interval.tv_nsec,
	       now.it_value.tv_sec == 0 && now.it_value.tv_nsec <= 100000000 ? "yes" : "no");
	printf("read 4 bytes: %s\n", result(read(tfd, small, 4)));
	printf("read before the first expiry: %s\n", result(read(tfd, &count, 8)));
	usleep(250000);
	printf("read after 250 ms: %s", result(read(tfd, &count, 8)));
	printf(", count >= 2: %s\n", count >= 2 ? "yes" : "no");
	printf("read at once again: %s\n", result(read(tfd, &count, 8)));
	ep = epoll_create1(0);
	add(ep, tfd, EPOLLIN, 70);
	show("epoll on the interval timer", ep, -1);
	mod(ep, tfd, EPOLLIN | EPOLLET, 71);
	show("edge-triggered interval timer", ep, -1);
	read(tfd, &count, 8);
	show("edge-triggered, the next expiry", ep, -1);
	spec.it_interval.tv_nsec = 0;
	spec.it_value.tv_nsec = 0;
	timerfd_settime(tfd, 0, &spec, &now);
	printf("disarm: old interval %ld.%09ld\n", (long)now.it_interval.tv_sec,
	       now.it_interval.tv_nsec);
	timerfd_gettime(tfd, &now);
	printf("disarmed: %ld.%09ld %ld.%09ld\n", (long)now.it_interval.tv_sec,
	       now.it_interval.tv_nsec, (long)now.it_value.tv_sec, now.it_value.tv_nsec);
	close(tfd);
	tfd = timerfd_create(CLOCK_REALTIME, 0);
	clock_gettime(CLOCK_REALTIME, &spec.it_value);
	spec.it_value.tv_nsec += 80000000;
	if (spec.it_value.tv_nsec >= 1000000000) {
		spec.it_value.tv_sec++;
		spec.it_value.tv_nsec -= 1000000000;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	printf("absolute realtime, cancel on set: %s\n",
	       result(timerfd_settime(tfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec,
				      NULL)));
	printf("blocking read: %s", result(read(tfd, &count, 8)));
	printf(" count %lu, waited: %s\n", (unsigned long)count,
	       ms_since(&start) >= 60 ? "yes" : "no");
	spec.it_value.tv_sec = 0;
	spec.it_value.tv_nsec = 1000;
	timerfd_settime(tfd, TFD_TIMER_ABSTIME, &spec, NULL);
	printf("absolute time in the past: %s", result(read(tfd, &count, 8)));
	printf(" count %lu\n", (unsigned long)count);
	close(tfd);
	close(ep);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	errnos();
	triggering();
	fairness();
	closing();
	nesting();
	waking();
	signals();
	eventfds();
	stress();
	timerfds();
	printf("epoll: done\n");
	return 0;
}
