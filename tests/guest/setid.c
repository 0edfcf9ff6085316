// SPDX-License-Identifier: GPL-2.0
/* setid: a root process drops to another user and group the ways programs do, and checks what
 * the kernel then allows it: its ids as reported, files it may open, the owner of files it
 * creates, and which ways back to root remain. Run as root. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void ids(const char *when)
{
	uid_t r, e, s;
	gid_t rg, eg, sg, groups[8];
	int n, i;

	getresuid(&r, &e, &s);
	getresgid(&rg, &eg, &sg);
	n = getgroups(8, groups);
	printf("%s: uid %u %u %u gid %u %u %u groups", when, r, e, s, rg, eg, sg);
	for (i = 0; i < n; i++)
		printf(" %u", groups[i]);
	printf("\n");
}

static void result(const char *what, int ret)
{
	printf("%s: %s\n", what, ret < 0 ? strerrorname_np(errno) : "ok");
}

int main(void)
{
	const char *secret = "/tmp/setid-secret";
	const char *made = "/tmp/setid-made";
	gid_t list[] = { 7, 9 };
	struct stat st;
	int fd, status;
	pid_t child;

	setvbuf(stdout, NULL, _IOLBF, 0);
	unlink(made);
	fd = open(secret, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (fd < 0 || fchown(fd, 0, 0) < 0) {
		perror("setup");
		return 1;
	}
	close(fd);
	ids("start");
	result("setgroups(7, 9)", setgroups(2, list));
	result("setresgid(100, 100, 100)", setresgid(100, 100, 100));
	result("setresuid(1000, 1000, 0)", setresuid(1000, 1000, 0));
	ids("dropped, saved root");
	result("open root's 0600 file", open(secret, O_RDONLY));
	fd = open(made, O_CREAT | O_WRONLY, 0644);
	result("create a file", fd);
	if (fd >= 0 && fstat(fd, &st) == 0)
		printf("its owner: %u %u\n", st.st_uid, st.st_gid);
	close(fd);
	result("setgroups as a user", setgroups(1, list));
	printf("setfsuid(0) returned %d\n", setfsuid(0));
	printf("setfsuid(-1) shows %d\n", setfsuid(-1));
	printf("setfsuid(1000) returned %d\n", setfsuid(1000));
	result("seteuid(0) through the saved id", seteuid(0));
	ids("effective root again");
	result("open root's 0600 file", open(secret, O_RDONLY));
	result("setuid(1000) as effective root", setuid(1000));
	ids("all dropped");
	result("setuid(0)", setuid(0));
	result("setreuid(-1, 0)", setreuid(-1, 0));
	result("setresuid(-1, 1000, -1)", setresuid(-1, 1000, -1));
	result("setgid(100)", setgid(100));
	result("setgid(0)", setgid(0));
	child = fork();
	if (child == 0) {
		ids("child");
		_exit(0);
	}
	waitpid(child, &status, 0);
	printf("setid: done\n");
	return 0;
}
