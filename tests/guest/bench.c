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

int main(int argc, char **argv)
{
	const char *label = argc > 1 ? argv[1] : "run";
	const long n = 200000, m = 20000;
	double a, b;
	long i;
	int f;

	setvbuf(stdout, NULL, _IOLBF, 0);
	f = open("/tmp/bench-file", O_RDWR | O_CREAT, 0644);
	close(f);
	for (i = 0; i < 1000; i++) /* warm up */
		syscall(SYS_getpid);
	a = now();
	for (i = 0; i < n; i++)
		syscall(SYS_getpid);
	b = now();
	printf("BENCH %s getpid %.1f\n", label, (b - a) / n);
	a = now();
	for (i = 0; i < m; i++) {
		f = syscall(SYS_openat, AT_FDCWD, "/tmp/bench-file", O_RDONLY);
		syscall(SYS_close, f);
	}
	b = now();
	printf("BENCH %s openat_close %.1f\n", label, (b - a) / m);
	return 0;
}
