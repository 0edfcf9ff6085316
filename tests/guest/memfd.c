// SPDX-License-Identifier: GPL-2.0
/* memfd_create and file seals: the flags and name checks (MFD_EXEC and MFD_NOEXEC_SEAL as the
 * running kernel knows them), what the file is (fstat, F_GETFL, its /proc/self/fd link), I/O
 * and truncation, MAP_SHARED mappings seen across fork and through a reopen of
 * /proc/self/fd/N, and F_ADD_SEALS/F_GET_SEALS: each seal's effect on write, truncate,
 * fallocate and mmap, EBUSY for F_SEAL_WRITE over a writable mapping, EPERM after
 * F_SEAL_SEAL and without write access, EINVAL elsewhere. Printed as the kernel answers, so
 * that native and contained runs can be compared. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

static const char *result(long ret)
{
	static char text[32];

	if (ret < 0)
		return strerrorname_np(errno);
	snprintf(text, sizeof(text), "%ld", ret);
	return text;
}

static long memfd(const char *name, unsigned int flags)
{
	return syscall(SYS_memfd_create, name, flags);
}

static const char *map_result(void *addr)
{
	return addr == MAP_FAILED ? strerrorname_np(errno) : "mapped";
}

static void describe(const char *what, int fd)
{
	char link[64], target[300];
	struct stat st;
	long n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	target[n < 0 ? 0 : n] = 0;
	fstat(fd, &st);
	printf("%s: link %s, regular %d, mode %o, links %ld, size %ld, getfl %o, cloexec %d\n", what,
	       target, S_ISREG(st.st_mode), st.st_mode & 07777, (long)st.st_nlink,
	       (long)st.st_size, fcntl(fd, F_GETFL), fcntl(fd, F_GETFD));
}

/* The name /proc/self/maps gives the first mapping of a memfd named `name`. */
static void maps_name(const char *name)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[512], *at;

	while (maps && fgets(line, sizeof(line), maps)) {
		at = strstr(line, name);
		if (at && (at = strchr(line, '/'))) {
			printf("maps names it %s", at);
			fclose(maps);
			return;
		}
	}
	printf("maps does not name %s\n", name);
	if (maps)
		fclose(maps);
}

static void creation(void)
{
	char longest[251];
	long fd;

	memset(longest, 'n', sizeof(longest));
	longest[249] = 0;
	fd = memfd(longest, 0);
	printf("name of 249 bytes: %s\n", fd < 0 ? result(fd) : "ok");
	close(fd);
	longest[249] = 'n';
	longest[250] = 0;
	printf("name of 250 bytes: %s\n", result(memfd(longest, 0)));
	printf("null name: %s\n", result(memfd(NULL, 0)));
	printf("bad name: %s\n", result(memfd((const char *)8, 0)));
	printf("unknown flag: %s\n", result(memfd("x", 0x40)));
	printf("huge size without MFD_HUGETLB: %s\n", result(memfd("x", 1U << 26)));
	printf("unknown flag, bad name: %s\n", result(memfd((const char *)8, 0x40)));
	printf("MFD_EXEC and MFD_NOEXEC_SEAL: %s\n", result(memfd("x", MFD_EXEC | MFD_NOEXEC_SEAL)));
	fd = memfd("exec", MFD_EXEC);
	if (fd >= 0) {
		describe("MFD_EXEC", fd);
		printf("MFD_EXEC seals: %s\n", result(fcntl(fd, F_GET_SEALS)));
		close(fd);
	} else {
		printf("MFD_EXEC: %s\n", result(fd));
	}
	fd = memfd("noexec", MFD_NOEXEC_SEAL);
	if (fd >= 0) {
		describe("MFD_NOEXEC_SEAL", fd);
		printf("MFD_NOEXEC_SEAL seals: %s\n", result(fcntl(fd, F_GET_SEALS)));
		printf("chmod +x: %s\n", result(fchmod(fd, 0755)));
		close(fd);
	} else {
		printf("MFD_NOEXEC_SEAL: %s\n", result(fd));
	}
}

static void io_and_mappings(void)
{
	int fd = memfd("shared data", MFD_CLOEXEC | MFD_ALLOW_SEALING), again, status;
	char buf[32] = "", link[64];
	char *map, *other;
	pid_t child;

	describe("new", fd);
	printf("write: %s\n", result(write(fd, "hello, memfd", 12)));
	printf("pread: %s", result(pread(fd, buf, sizeof(buf) - 1, 7)));
	printf(" \"%s\"\n", buf);
	printf("ftruncate 8192: %s\n", result(ftruncate(fd, 8192)));
	printf("lseek end: %s\n", result(lseek(fd, 0, SEEK_END)));
	map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("mmap shared: %s\n", map_result(map));
	if (map == MAP_FAILED)
		return;
	printf("mapping reads: %.12s\n", map);
	maps_name("memfd:shared data");
	memcpy(map + 4096, "parent", 6);
	child = fork();
	if (child == 0) {
		memcpy(map + 4096, "child!", 6);
		_exit(0);
	}
	waitpid(child, &status, 0);
	pread(fd, buf, 6, 4096);
	buf[6] = 0;
	printf("after the child wrote the mapping: %.6s, file says %s\n", map + 4096, buf);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	again = open(link, O_RDWR);
	describe("reopened", again);
	other = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, again, 0);
	printf("mmap of the reopen: %s\n", map_result(other));
	if (other != MAP_FAILED) {
		memcpy(other, "HELLO", 5);
		printf("first mapping sees: %.12s\n", map);
		munmap(other, 8192);
	}
	printf("seals: %s\n", result(fcntl(fd, F_GET_SEALS)));
	printf("F_SEAL_WRITE while mapped shared writable: %s\n",
	       result(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE)));
	munmap(map, 8192);
	map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	printf("private writable mapping: %s\n", map_result(map));
	printf("F_SEAL_WRITE with a private mapping only: %s\n",
	       result(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE)));
	printf("write: %s\n", result(write(fd, "x", 1)));
	printf("pwrite: %s\n", result(pwrite(fd, "x", 1, 0)));
	printf("shared writable mmap: %s\n",
	       map_result(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)));
	printf("truncate still: %s\n", result(ftruncate(fd, 4096)));
	printf("F_SEAL_SHRINK: %s\n", result(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK)));
	printf("shrink: %s\n", result(ftruncate(fd, 100)));
	printf("grow: %s\n", result(ftruncate(fd, 16384)));
	printf("F_SEAL_GROW: %s\n", result(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW)));
	printf("grow: %s\n", result(ftruncate(fd, 32768)));
	printf("fallocate past the end: %s\n", result(fallocate(fd, 0, 0, 65536)));
	printf("same size: %s\n", result(ftruncate(fd, 16384)));
	printf("F_SEAL_SEAL: %s\n", result(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL)));
	printf("seals: %s\n", result(fcntl(fd, F_GET_SEALS)));
	printf("another seal: %s\n", result(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE)));
	printf("no seal at all: %s\n", result(fcntl(fd, F_ADD_SEALS, 0)));
	printf("reopen sees: %s\n", result(fcntl(again, F_GET_SEALS)));
	close(again);
	close(fd);
}

static void more_seals(void)
{
	int fd = memfd("future", MFD_ALLOW_SEALING), ro, p[2];
	char link[64], *map, *late;

	ftruncate(fd, 4096);
	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("F_SEAL_FUTURE_WRITE over a mapping: %s\n",
	       result(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE)));
	if (map != MAP_FAILED) {
		memcpy(map, "old mapping writes", 18);
		printf("the old mapping still writes: %.18s\n", map);
	}
	printf("write: %s\n", result(write(fd, "x", 1)));
	late = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("new shared writable mmap: %s\n", map_result(late));
	late = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	printf("new shared read-only mmap: %s\n", map_result(late));
	printf("unknown seal: %s\n", result(fcntl(fd, F_ADD_SEALS, 0x40)));
	printf("F_SEAL_EXEC: %s\n", result(fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC)));
	printf("seals: %s\n", result(fcntl(fd, F_GET_SEALS)));
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ro = open(link, O_RDONLY);
	printf("read-only reopen F_ADD_SEALS: %s\n", result(fcntl(ro, F_ADD_SEALS, F_SEAL_GROW)));
	printf("read-only reopen F_GET_SEALS: %s\n", result(fcntl(ro, F_GET_SEALS)));
	close(ro);
	close(fd);

	fd = memfd("sealed", 0);
	printf("without MFD_ALLOW_SEALING: seals %s", result(fcntl(fd, F_GET_SEALS)));
	printf(", add %s\n", result(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE)));
	close(fd);

	pipe(p);
	printf("pipe write end F_ADD_SEALS: %s\n", result(fcntl(p[1], F_ADD_SEALS, F_SEAL_WRITE)));
	printf("pipe read end F_ADD_SEALS: %s\n", result(fcntl(p[0], F_ADD_SEALS, F_SEAL_WRITE)));
	printf("pipe F_GET_SEALS: %s\n", result(fcntl(p[0], F_GET_SEALS)));
	close(p[0]);
	close(p[1]);
}

/* A copy of this program in a memfd, run with execveat(fd, "", AT_EMPTY_PATH) as runc runs
 * its cloned binary: sealed first, as runc seals it. */
static void exec_from_memfd(void)
{
	int fd = memfd("clone", MFD_CLOEXEC | MFD_ALLOW_SEALING), self = open("/proc/self/exe", O_RDONLY);
	char buf[65536];
	long n, status;
	pid_t child;

	while ((n = read(self, buf, sizeof(buf))) > 0)
		write(fd, buf, n);
	close(self);
	printf("sealed for exec: %s\n",
	       result(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)));
	child = fork();
	if (child == 0) {
		char *argv[] = { "memfd", "child", NULL }, *envp[] = { NULL };

		syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
		printf("execveat: %s\n", strerrorname_np(errno));
		_exit(1);
	}
	waitpid(child, (int *)&status, 0);
	printf("the copy exited with %ld\n", (status >> 8) & 0xff);
	close(fd);
	fd = memfd("noexec", MFD_NOEXEC_SEAL);
	if (fd >= 0) {
		char *argv[] = { "memfd", "child", NULL }, *envp[] = { NULL };

		write(fd, "#!/bin/sh\n", 10);
		printf("execveat of a MFD_NOEXEC_SEAL memfd: %s\n",
		       result(syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH)));
		close(fd);
	}
}

int main(int argc, char **argv)
{
	/* The native run is chrooted into a root without a proc mounted; a container has one. */
	int mounted_proc = 0;

	if (access("/proc/self/fd", F_OK) != 0) {
		mkdir("/proc", 0555);
		mounted_proc = mount("proc", "/proc", "proc", 0, NULL) == 0;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1) {
		printf("running from a memfd as %s\n", argv[1]);
		return 7;
	}
	creation();
	io_and_mappings();
	more_seals();
	exec_from_memfd();
	if (mounted_proc)
		umount("/proc");
	printf("memfd: done\n");
	return 0;
}
