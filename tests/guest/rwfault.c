// SPDX-License-Identifier: GPL-2.0
/* rwfault: reads and writes of a regular file whose user buffer is partly or wholly
 * inaccessible. Linux moves what it can and returns a short count, or EFAULT when not even the
 * first byte is accessible; the file offset moves by what was moved. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define PAGE 4096

static void must(int ok, const char *what)
{
	if (!ok) {
		printf("%s failed: %s\n", what, strerror(errno));
		exit(1);
	}
}

static void show(const char *what, ssize_t ret)
{
	if (ret < 0)
		printf("%s: %s\n", what, strerrorname_np(errno));
	else
		printf("%s: %zd\n", what, ret);
}

int main(void)
{
	char path[] = "/tmp/rwfault-XXXXXX";
	char *pages, *data;
	struct iovec iov[2];
	int fd, i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	data = malloc(3 * PAGE);
	must(data != NULL, "malloc");
	for (i = 0; i < 3 * PAGE; i++)
		data[i] = (char)('a' + i % 26);
	fd = mkstemp(path);
	must(fd >= 0, "mkstemp");
	must(write(fd, data, 3 * PAGE) == 3 * PAGE, "write");
	/* One readable and writable page, then a hole. */
	pages = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	must(pages != MAP_FAILED, "mmap");
	must(munmap(pages + PAGE, PAGE) == 0, "munmap");

	show("pread into a page and a hole", pread(fd, pages, 2 * PAGE, 100));
	printf("bytes read match: %s\n", memcmp(pages, data + 100, PAGE) ? "no" : "yes");
	show("pread into the hole", pread(fd, pages + PAGE, 10, 0));
	show("pread into NULL", syscall(SYS_pread64, fd, NULL, 10, 0));
	must(lseek(fd, 0, SEEK_SET) == 0, "lseek");
	show("read into a page and a hole", read(fd, pages + 10, PAGE));
	printf("offset after: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
	show("read into the hole", read(fd, pages + PAGE, 10));
	printf("offset after: %ld\n", (long)lseek(fd, 0, SEEK_CUR));

	iov[0].iov_base = pages;
	iov[0].iov_len = 16;
	iov[1].iov_base = pages + PAGE;
	iov[1].iov_len = 16;
	show("preadv with a bad second buffer", preadv(fd, iov, 2, 0));

	memset(pages, 'Z', PAGE);
	show("pwrite from a page and a hole", pwrite(fd, pages + PAGE - 8, 16, 0));
	show("pwrite from the hole", pwrite(fd, pages + PAGE, 16, 0));
	must(lseek(fd, 0, SEEK_END) == 3 * PAGE, "lseek");
	show("write from a page and a hole", write(fd, pages + PAGE - 5, 10));
	printf("size after: %ld\n", (long)lseek(fd, 0, SEEK_END));
	must(pread(fd, data, 16, 0) == 16, "pread");
	printf("head now: %.16s\n", data);

	close(fd);
	unlink(path);
	printf("rwfault: done\n");
	return 0;
}
