// SPDX-License-Identifier: GPL-2.0
/* ioctl: every /dev/rvisor ioctl with good and bad input; prints each result (ok or errno). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/rvisor.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define GARBAGE ((void *)0xdead0000UL)

static int fd;

static void report(const char *what, int ret)
{
	printf("%s => %s\n", what, ret < 0 ? strerrorname_np(errno) : "ok");
}

static int create(const char *root, const char *hostname, unsigned flags, unsigned *id)
{
	struct rvisor_create c = { .root = (uintptr_t)root, .hostname = (uintptr_t)hostname, .flags = flags };
	int ret = ioctl(fd, RVISOR_IOC_CREATE, &c);

	if (id)
		*id = c.id;
	return ret;
}

static int enter(unsigned id, unsigned flags, unsigned tty, unsigned reserved)
{
	struct rvisor_enter e = { .id = id, .flags = flags, .tty = tty, .reserved = reserved };

	return ioctl(fd, RVISOR_IOC_ENTER, &e);
}

static void list(const char *what)
{
	struct rvisor_container_info info[4];
	struct rvisor_list l = { .entries = (uintptr_t)info, .capacity = 4 };
	unsigned i;

	report(what, ioctl(fd, RVISOR_IOC_LIST, &l));
	printf("count=%u\n", l.count);
	for (i = 0; i < l.count && i < 4; i++)
		printf("container hostname=%s root=%s members=%u\n", info[i].hostname, info[i].root,
		       info[i].members);
}

/* runs f in a child process and waits */
static void in_child(void (*f)(unsigned), unsigned id)
{
	pid_t pid = fork();

	if (pid == 0) {
		f(id);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

static void unprivileged(unsigned id)
{
	unsigned other;

	if (setuid(65534)) {
		perror("setuid");
		return;
	}
	report("unprivileged create", create("/", NULL, 0, &other));
	report("unprivileged remove", ioctl(fd, RVISOR_IOC_REMOVE, id));
	report("unprivileged addself", ioctl(fd, RVISOR_IOC_ADDSELF, id));
	report("unprivileged enter", enter(id, 0, 0, 0));
	report("unprivileged newpty", ioctl(fd, RVISOR_IOC_NEWPTY, id));
}

static void other_network(unsigned id)
{
	if (unshare(CLONE_NEWNET)) {
		perror("unshare");
		return;
	}
	report("addself from another network namespace", ioctl(fd, RVISOR_IOC_ADDSELF, id));
	report("enter from another network namespace", enter(id, 0, 0, 0));
}

static void contained(unsigned id)
{
	report("addself", ioctl(fd, RVISOR_IOC_ADDSELF, id));
	report("contained addself again", ioctl(fd, RVISOR_IOC_ADDSELF, id));
	report("contained list", ioctl(fd, RVISOR_IOC_LIST, NULL));
	report("contained open", open("/dev/rvisor", O_RDWR));
}

int main(void)
{
	char long_name[RVISOR_HOSTNAME_MAX + 2];
	struct rvisor_list l = { .entries = (uintptr_t)GARBAGE, .capacity = 4 };
	unsigned id = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = open("/dev/rvisor", O_RDWR | O_CLOEXEC);
	report("open", fd);
	report("create NULL", ioctl(fd, RVISOR_IOC_CREATE, NULL));
	report("create garbage pointer", ioctl(fd, RVISOR_IOC_CREATE, GARBAGE));
	report("create root garbage pointer", create(GARBAGE, NULL, 0, NULL));
	report("create root missing", create("/no/such/dir", NULL, 0, NULL));
	report("create root is a file", create("/init", NULL, 0, NULL));
	report("create root empty", create("", NULL, 0, NULL));
	report("create bad flags", create("/", NULL, 1, NULL));
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	report("create hostname too long", create("/", long_name, 0, NULL));
	report("create hostname empty", create("/", "", 0, NULL));
	report("create hostname garbage pointer", create("/", GARBAGE, 0, NULL));
	report("create", create("/tmp/../tmp", "box", 0, &id));
	printf("id>0: %s\n", id > 0 ? "yes" : "no");
	report("list NULL", ioctl(fd, RVISOR_IOC_LIST, NULL));
	report("list entries garbage pointer", ioctl(fd, RVISOR_IOC_LIST, &l));
	l.capacity = 0;
	l.entries = 0;
	report("list capacity 0", ioctl(fd, RVISOR_IOC_LIST, &l));
	printf("count=%u\n", l.count);
	list("list");
	report("addself unknown id", ioctl(fd, RVISOR_IOC_ADDSELF, 999999));
	report("remove unknown id", ioctl(fd, RVISOR_IOC_REMOVE, 999999));
	report("unknown ioctl", ioctl(fd, _IO(RVISOR_IOC_MAGIC, 99), 0));
	/* A failed ENTER leaves the caller as it was: these run in this process. */
	report("enter NULL", ioctl(fd, RVISOR_IOC_ENTER, NULL));
	report("enter unknown id", enter(999999, 0, 0, 0));
	report("enter bad flags", enter(id, 2, 0, 0));
	report("enter reserved", enter(id, 0, 0, 1));
	report("enter tty without the flag", enter(id, 0, 1, 0));
	report("enter before the first process", enter(id, 0, 0, 0));
	report("newpty before the first process", ioctl(fd, RVISOR_IOC_NEWPTY, id));
	report("newpty unknown id", ioctl(fd, RVISOR_IOC_NEWPTY, 999999));
	in_child(unprivileged, id);
	in_child(other_network, id);
	in_child(contained, id);
	report("enter after the first process ended", enter(id, 0, 0, 0));
	report("newpty after the first process ended", ioctl(fd, RVISOR_IOC_NEWPTY, id));
	report("remove", ioctl(fd, RVISOR_IOC_REMOVE, id));
	report("remove again", ioctl(fd, RVISOR_IOC_REMOVE, id));
	list("list after remove");
	return 0;
}
