// SPDX-License-Identifier: GPL-2.0
/* bench LABEL: cost per call of getpid and of openat+close. Under qemu -icount shift=0,sleep=off
 * one guest nanosecond is one guest instruction, so the figures are instructions per call. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static double getpid_once(long n)
{
	double a = now();
	long i;

	for (i = 0; i < n; i++)
		syscall(SYS_getpid);
	return (now() - a) / n;
}

static double openat_close_once(long n)
{
	double a = now();
	long i;

	for (i = 0; i < n; i++)
		syscall(SYS_close, syscall(SYS_openat, AT_FDCWD, "/tmp/bench-file", O_RDONLY));
	return (now() - a) / n;
}

/* The best of ROUNDS: a round that a timer tick or deferred kernel work lands in is not
 * the cost of the call. */
#define ROUNDS 3

int main(int argc, char **argv)
{
	const char *label = argc > 1 ? argv[1] : "run";
	double best_getpid = 1e18, best_open = 1e18, x;
	int round;

	setvbuf(stdout, NULL, _IOLBF, 0);
	close(open("/tmp/bench-file", O_RDWR | O_CREAT, 0644));
	getpid_once(1000); /* warm up */
	for (round = 0; round < ROUNDS; round++) {
		x = getpid_once(100000);
		best_getpid = x < best_getpid ? x : best_getpid;
		x = openat_close_once(10000);
		best_open = x < best_open ? x : best_open;
	}
	printf("BENCH %s getpid %.1f\n", label, best_getpid);
	printf("BENCH %s openat_close %.1f\n", label, best_open);
	return 0;
}
