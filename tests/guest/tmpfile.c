// SPDX-License-Identifier: GPL-2.0
/* tmpfile: unnamed files (O_TMPFILE) written, given a name with linkat(AT_EMPTY_PATH), and the
 * ways Linux refuses them; printed as the kernel answers so that native and contained runs
 * can be compared. Run as root (AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *result(long ret)
{
	static char text[32];

	if (ret < 0)
		return strerrorname_np(errno);
	snprintf(text, sizeof(text), "%ld", ret);
	return text;
}

int main(void)
{
	const char *named = "/tmp/tmpfile-named";
	char back[16] = "";
	struct stat st;
	int fd, excl;

	setvbuf(stdout, NULL, _IOLBF, 0);
	unlink(named);
	umask(022);
	fd = open("/tmp", O_TMPFILE | O_RDWR, 0640);
	printf("O_TMPFILE: %s\n", fd < 0 ? strerrorname_np(errno) : "ok");
	if (fd < 0)
		return 1;
	printf("write: %s\n", result(write(fd, "unnamed", 7)));
	fstat(fd, &st);
	printf("unnamed: links %lu, mode %o, size %ld\n", (unsigned long)st.st_nlink,
	       st.st_mode & 07777, (long)st.st_size);
	printf("linkat AT_EMPTY_PATH: %s\n", result(linkat(fd, "", AT_FDCWD, named, AT_EMPTY_PATH)));
	fstat(fd, &st);
	printf("named: links %lu\n", (unsigned long)st.st_nlink);
	close(fd);
	fd = open(named, O_RDONLY);
	printf("read by its name: %s \"%s\"\n", result(read(fd, back, sizeof(back) - 1)), back);
	close(fd);
	printf("link it again: %s\n", result(linkat(AT_FDCWD, named, AT_FDCWD, named, 0)));
	unlink(named);

	excl = open("/tmp", O_TMPFILE | O_RDWR | O_EXCL, 0600);
	printf("O_TMPFILE|O_EXCL: %s\n", excl < 0 ? strerrorname_np(errno) : "ok");
	printf("  linkat: %s\n", result(linkat(excl, "", AT_FDCWD, named, AT_EMPTY_PATH)));
	close(excl);
	printf("read-only O_TMPFILE: %s\n", result(open("/tmp", O_TMPFILE | O_RDONLY, 0600)));
	printf("O_TMPFILE of a file: %s\n",
	       result(open("/tests/tmpfile", O_TMPFILE | O_RDWR, 0600)));
	printf("O_TMPFILE of a missing directory: %s\n",
	       result(open("/tmp/missing", O_TMPFILE | O_RDWR, 0600)));
	printf("tmpfile: done\n");
	return 0;
}
