// SPDX-License-Identifier: GPL-2.0
/* inotify: an instance's flags and errnos, the events of creating, writing, changing,
 * reading, moving (the two halves' cookies paired) and deleting files in a watched directory,
 * a watched file's own deletion and its IN_IGNORED, one-shot watches, IN_MASK_ADD and
 * IN_MASK_CREATE, IN_ONLYDIR, IN_DONT_FOLLOW, IN_EXCL_UNLINK, the merging of identical events,
 * a too-small read buffer, FIONREAD, poll and epoll readiness, a blocking read woken by
 * another process's change, and the queue's overflow. Printed as the kernel answers, so that
 * native and contained runs can be compared. With an argument, the helpers of the case that
 * watches changes made by the host and unloads the module after watches were left behind. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define DIR "/tmp/inotify-test"
#ifndef INOTIFY_IOC_SETNEXTWD
#define INOTIFY_IOC_SETNEXTWD _IOW('I', 0, __u32)
#endif

static const char *result(long ret)
{
	static char text[32];

	if (ret < 0)
		return strerrorname_np(errno);
	snprintf(text, sizeof(text), "%ld", ret);
	return text;
}

static const char *const names[] = {
	"ACCESS", "MODIFY", "ATTRIB", "CLOSE_WRITE", "CLOSE_NOWRITE", "OPEN", "MOVED_FROM",
	"MOVED_TO", "CREATE", "DELETE", "DELETE_SELF", "MOVE_SELF", "?", "UNMOUNT", "Q_OVERFLOW",
	"IGNORED",
};

static void print_mask(uint32_t mask)
{
	const char *sep = "";
	int bit;

	for (bit = 0; bit < 16; bit++) {
		if (mask & (1u << bit)) {
			printf("%s%s", sep, names[bit]);
			sep = "|";
		}
	}
	if (mask & IN_ISDIR)
		printf("%sISDIR", sep);
	if (mask & ~(0xffffu | IN_ISDIR))
		printf("%s0x%x", sep, mask & ~(0xffffu | IN_ISDIR));
}

static uint32_t last_from_cookie;
static volatile int alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* Prints the events in `buf` (`len` bytes), one a line. */
static void print_events(const char *buf, long len)
{
	const struct inotify_event *ev;
	long at;

	for (at = 0; at < len; at += sizeof(*ev) + ev->len) {
		ev = (const struct inotify_event *)(buf + at);
		printf("  wd %d ", ev->wd);
		print_mask(ev->mask);
		if (ev->len)
			printf(" '%s' (len %u)", ev->name, ev->len);
		if (ev->mask & IN_MOVED_FROM) {
			last_from_cookie = ev->cookie;
			printf(ev->cookie ? " cookie set" : " cookie 0");
		} else if (ev->mask & IN_MOVED_TO) {
			printf(ev->cookie && ev->cookie == last_from_cookie ? " same cookie"
									   : " other cookie");
		} else if (ev->cookie) {
			printf(" cookie %u", ev->cookie);
		}
		printf("\n");
	}
}

/* The watch lines of /proc/self/fdinfo/FD, their inode and device checked against `stat` of
 * the watched paths (the numbers differ between runs). */
static void show_fdinfo(int fd, const char *const *paths, int count)
{
	char path[64], line[512], handle[300];
	unsigned int wd, sdev, mask, ignored, bytes, type;
	unsigned long ino;
	struct stat st;
	FILE *info;
	int i, fields;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	info = fopen(path, "r");
	if (!info) {
		printf("fdinfo: %s\n", strerrorname_np(errno));
		return;
	}
	while (fgets(line, sizeof(line), info)) {
		if (strncmp(line, "inotify", 7) != 0)
			continue;
		fields = sscanf(line,
				"inotify wd:%x ino:%lx sdev:%x mask:%x ignored_mask:%x fhandle-bytes:%x "
				"fhandle-type:%x f_handle:%299s",
				&wd, &ino, &sdev, &mask, &ignored, &bytes, &type, handle);
		printf("fdinfo: %d fields, wd %x mask %x ignored %x", fields, wd, mask, ignored);
		for (i = 0; i < count; i++) {
			if (stat(paths[i], &st) == 0 && st.st_ino == ino)
				printf(" ino of %s, sdev %s", paths[i],
				       sdev == (major(st.st_dev) << 20 | minor(st.st_dev)) ? "same" : "other");
		}
		if (fields == 8)
			printf(" handle %u bytes type %u (%zu digits)", bytes, type, strlen(handle));
		printf("\n");
	}
	fclose(info);
}

/* Reads and prints what is queued on the non-blocking `fd`. */
static void drain(int fd, const char *what)
{
	char buf[4096] __attribute__((aligned(8)));
	long n;

	printf("%s:\n", what);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		print_events(buf, n);
	printf("  read: %s\n", result(n));
}

static void touch(const char *path, const char *data)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	if (data)
		write(fd, data, strlen(data));
	close(fd);
}

/* `host-watch`: waits for a file the host makes in /tmp/inotify-host; `hold`: leaves watches
 * on /tmp/inotify-hold and a file in it behind at exit, for the host to delete afterwards. */
static int helper(const char *mode)
{
	char buf[256] __attribute__((aligned(8)));
	int fd = inotify_init();
	long got;

	if (strcmp(mode, "noop") == 0)
		return 0;
	if (strcmp(mode, "host-watch") == 0) {
		printf("watch: %s\n", result(inotify_add_watch(fd, "/tmp/inotify-host", IN_CREATE)));
		printf("watching\n");
		got = read(fd, buf, sizeof(buf));
		printf("read: %s\n", result(got));
		print_events(buf, got);
		return 0;
	}
	printf("watch dir: %s\n", result(inotify_add_watch(fd, "/tmp/inotify-hold", IN_ALL_EVENTS)));
	printf("watch file: %s\n",
	       result(inotify_add_watch(fd, "/tmp/inotify-hold/f", IN_ALL_EVENTS)));
	_exit(0);
}

int main(int argc, char **argv)
{
	char buf[256] __attribute__((aligned(8)));
	struct pollfd pfd;
	struct epoll_event event = { .events = EPOLLIN, .data.u64 = 7 };
	int fd, blocking, wd, wd2, p[2], ep, queued, n, i;
	long got;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1)
		return helper(argv[1]);
	system("rm -rf " DIR);
	mkdir(DIR, 0755);

	printf("init1 bad flags: %s\n", result(inotify_init1(IN_NONBLOCK | 1)));
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	printf("init1: %s\n", fd >= 0 ? "ok" : result(fd));
	printf("nonblock: %d, cloexec: %d\n", !!(fcntl(fd, F_GETFL) & O_NONBLOCK),
	       !!(fcntl(fd, F_GETFD) & FD_CLOEXEC));
	printf("access mode: %d\n", fcntl(fd, F_GETFL) & O_ACCMODE);
	printf("empty read: %s\n", result(read(fd, buf, sizeof(buf))));
	printf("write: %s\n", result(write(fd, "x", 1)));

	pipe(p);
	printf("mask 0: %s\n", result(inotify_add_watch(fd, DIR, 0)));
	printf("unknown bit: %s\n", result(inotify_add_watch(fd, DIR, IN_CREATE | 0x1000)));
	printf("bad fd: %s\n", result(inotify_add_watch(99, DIR, IN_CREATE)));
	printf("add|create: %s\n",
	       result(inotify_add_watch(fd, DIR, IN_CREATE | IN_MASK_ADD | IN_MASK_CREATE)));
	printf("not inotify: %s\n", result(inotify_add_watch(p[0], DIR, IN_CREATE)));
	printf("missing: %s\n", result(inotify_add_watch(fd, DIR "/none", IN_CREATE)));
	printf("empty path: %s\n", result(inotify_add_watch(fd, "", IN_CREATE)));
	printf("bad path pointer: %s\n", result(inotify_add_watch(fd, (char *)8, IN_CREATE)));
	touch(DIR "/file", NULL);
	printf("onlydir on a file: %s\n",
	       result(inotify_add_watch(fd, DIR "/file", IN_ATTRIB | IN_ONLYDIR)));
	unlink(DIR "/file");
	printf("rm_watch bad wd: %s\n", result(inotify_rm_watch(fd, 42)));
	printf("rm_watch bad fd: %s\n", result(inotify_rm_watch(99, 1)));
	printf("rm_watch not inotify: %s\n", result(inotify_rm_watch(p[0], 1)));

	wd = inotify_add_watch(fd, DIR, IN_ALL_EVENTS | IN_ONLYDIR);
	printf("watch dir: %s\n", result(wd));
	printf("again: %s\n", result(inotify_add_watch(fd, DIR, IN_ALL_EVENTS)));
	printf("mask_create on it: %s\n",
	       result(inotify_add_watch(fd, DIR, IN_ALL_EVENTS | IN_MASK_CREATE)));

	/* Create, write twice (merged), close. */
	n = open(DIR "/a", O_CREAT | O_WRONLY, 0644);
	write(n, "hello", 5);
	write(n, "hello", 5);
	close(n);
	drain(fd, "create, write, write, close");
	chmod(DIR "/a", 0600);
	drain(fd, "chmod");
	n = open(DIR "/a", O_RDONLY);
	read(n, buf, sizeof(buf));
	close(n);
	drain(fd, "open, read, close");
	rename(DIR "/a", DIR "/b");
	drain(fd, "rename");
	unlink(DIR "/b");
	drain(fd, "unlink");
	mkdir(DIR "/sub", 0755);
	rmdir(DIR "/sub");
	drain(fd, "mkdir, rmdir");
	n = open(DIR, O_RDONLY | O_DIRECTORY);
	close(n);
	drain(fd, "open and close the directory");
	/* The file's first read comes after another event. */
	touch(DIR "/r", "data");
	n = open(DIR "/r", O_RDONLY);
	touch(DIR "/between", NULL);
	read(n, buf, sizeof(buf));
	close(n);
	unlink(DIR "/between");
	unlink(DIR "/r");
	drain(fd, "open, another file made, read, close");
	/* A listing, then another event, then more of the listing. */
	n = open(DIR, O_RDONLY | O_DIRECTORY);
	syscall(SYS_getdents64, n, buf, sizeof(buf));
	touch(DIR "/between", NULL);
	lseek(n, 0, SEEK_SET);
	syscall(SYS_getdents64, n, buf, sizeof(buf));
	close(n);
	unlink(DIR "/between");
	drain(fd, "list, make a file, list again");

	/* A watched file's own events: attrib, move, deletion, IN_IGNORED. */
	touch(DIR "/c", "x");
	drain(fd, "touch c");
	wd2 = inotify_add_watch(fd, DIR "/c", IN_ALL_EVENTS | IN_EXCL_UNLINK);
	printf("watch c: %s\n", result(wd2));
	{
		static const char *const watched[] = { DIR, DIR "/c" };

		show_fdinfo(fd, watched, 2);
	}
	rename(DIR "/c", DIR "/d");
	unlink(DIR "/d");
	drain(fd, "move and delete c");

	/* One-shot. */
	touch(DIR "/e", NULL);
	printf("rm_watch dir: %s\n", result(inotify_rm_watch(fd, wd)));
	printf("rm_watch dir again: %s\n", result(inotify_rm_watch(fd, wd)));
	wd2 = inotify_add_watch(fd, DIR "/e", IN_ATTRIB | IN_ONESHOT);
	printf("oneshot watch: %s\n", result(wd2));
	chmod(DIR "/e", 0600);
	chmod(DIR "/e", 0644);
	drain(fd, "rm_watch, then two chmods under a one-shot watch");
	printf("rm_watch of the one-shot: %s\n", result(inotify_rm_watch(fd, wd2)));

	/* IN_MASK_ADD and replacing a mask. */
	wd = inotify_add_watch(fd, DIR, IN_CREATE);
	printf("watch dir for create: %s\n", result(wd));
	printf("mask_add delete: %s\n", result(inotify_add_watch(fd, DIR, IN_DELETE | IN_MASK_ADD)));
	touch(DIR "/f", NULL);
	unlink(DIR "/f");
	drain(fd, "create and delete f");
	printf("replace with delete: %s\n", result(inotify_add_watch(fd, DIR, IN_DELETE)));
	touch(DIR "/g", NULL);
	unlink(DIR "/g");
	drain(fd, "create and delete g");

	/* IN_DONT_FOLLOW: the link's own watch. */
	touch(DIR "/target", NULL);
	symlink("target", DIR "/link");
	wd2 = inotify_add_watch(fd, DIR "/link", IN_ATTRIB | IN_DONT_FOLLOW);
	n = inotify_add_watch(fd, DIR "/link", IN_ATTRIB);
	printf("dont_follow and follow give two watches: %s\n", wd2 != n ? "yes" : "no");
	printf("onlydir on a link to a file: %s\n",
	       result(inotify_add_watch(fd, DIR "/link", IN_ATTRIB | IN_ONLYDIR)));
	chmod(DIR "/target", 0600);
	drain(fd, "chmod the target");
	inotify_rm_watch(fd, wd2);
	inotify_rm_watch(fd, n);
	drain(fd, "both removed");

	/* IN_EXCL_UNLINK: no events of an unlinked child. */
	printf("modify only: %s\n", result(inotify_add_watch(fd, DIR, IN_MODIFY | IN_EXCL_UNLINK)));
	n = open(DIR "/h", O_CREAT | O_WRONLY, 0644);
	write(n, "1", 1);
	unlink(DIR "/h");
	write(n, "2", 1);
	close(n);
	drain(fd, "write, unlink, write (excl_unlink)");
	printf("modify, without excl_unlink: %s\n", result(inotify_add_watch(fd, DIR, IN_MODIFY)));
	n = open(DIR "/h", O_CREAT | O_WRONLY, 0644);
	unlink(DIR "/h");
	write(n, "2", 1);
	close(n);
	drain(fd, "unlink, write");

	/* Read buffers, FIONREAD, poll, epoll. */
	printf("create only: %s\n", result(inotify_add_watch(fd, DIR, IN_CREATE)));
	pfd.fd = fd;
	pfd.events = POLLIN;
	printf("poll, empty: %s\n", result(poll(&pfd, 1, 0)));
	ep = epoll_create1(0);
	printf("epoll add: %s\n", result(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &event)));
	printf("epoll, empty: %s\n", result(epoll_wait(ep, &event, 1, 0)));
	touch(DIR "/abc", NULL);
	n = poll(&pfd, 1, 0);
	printf("poll: %s revents 0x%x\n", result(n), pfd.revents);
	event.data.u64 = 0;
	n = epoll_wait(ep, &event, 1, 0);
	printf("epoll: %s data %llu\n", result(n), (unsigned long long)event.data.u64);
	queued = -1;
	n = ioctl(fd, FIONREAD, &queued);
	printf("FIONREAD: %s %d\n", result(n), queued);
	printf("read 16: %s\n", result(read(fd, buf, 16)));
	printf("read 31: %s\n", result(read(fd, buf, 31)));
	got = read(fd, buf, 32);
	printf("read 32: %s\n", result(got));
	print_events(buf, got);
	touch(DIR "/x1", NULL);
	touch(DIR "/x2", NULL);
	printf("two queued, read 40: %s\n", result(got = read(fd, buf, 40)));
	print_events(buf, got);
	drain(fd, "the rest");

	/* A blocking read, woken by another process's change. */
	blocking = inotify_init();
	printf("set next wd 0: %s\n", result(ioctl(blocking, INOTIFY_IOC_SETNEXTWD, 0)));
	printf("set next wd 10: %s\n", result(ioctl(blocking, INOTIFY_IOC_SETNEXTWD, 10)));
	printf("blocking instance watch: %s\n", result(inotify_add_watch(blocking, DIR, IN_CREATE)));
	if (fork() == 0) {
		usleep(200000);
		touch(DIR "/from-child", NULL);
		_exit(0);
	}
	got = read(blocking, buf, sizeof(buf));
	printf("blocking read: %s\n", result(got));
	print_events(buf, got);
	wait(NULL);
	/* A signal ends a blocking read: EINTR without SA_RESTART. */
	{
		struct sigaction sa = { .sa_handler = on_alarm };
		struct itimerval tick = { .it_value = { .tv_usec = 100000 } };

		sigaction(SIGALRM, &sa, NULL);
		setitimer(ITIMER_REAL, &tick, NULL);
		got = read(blocking, buf, sizeof(buf));
		printf("blocking read, a signal: %s, alarms %d\n", result(got), alarms);
	}
	close(blocking);

	/* A program's execution: its open, reads, and close when its last mapping goes. */
	wd2 = inotify_add_watch(fd, "/tests/inotify", IN_OPEN | IN_ACCESS | IN_CLOSE);
	printf("watch the program: %s\n", result(wd2 > 0 ? 0 : wd2));
	if (fork() == 0) {
		execl("/tests/inotify", "inotify", "noop", (char *)NULL);
		_exit(127);
	}
	wait(&n);
	printf("exec status: %d\n", n);
	drain(fd, "exec");
	inotify_rm_watch(fd, wd2);
	drain(fd, "program watch removed");

	/* Overflow: alternating events are never merged. */
	printf("create and delete: %s\n",
	       result(inotify_add_watch(fd, DIR, IN_CREATE | IN_DELETE)));
	for (i = 0; i < 8200; i++) {
		touch(DIR "/o", NULL);
		unlink(DIR "/o");
	}
	ioctl(fd, FIONREAD, &queued);
	printf("queued bytes: %d\n", queued);
	{
		long events = 0, overflows = 0, last_mask = 0, last_wd = 0;
		const struct inotify_event *ev;

		while ((got = read(fd, buf, sizeof(buf))) > 0) {
			for (i = 0; i < got; i += sizeof(*ev) + ev->len) {
				ev = (const struct inotify_event *)(buf + i);
				events++;
				overflows += !!(ev->mask & IN_Q_OVERFLOW);
				last_mask = ev->mask;
				last_wd = ev->wd;
			}
		}
		printf("events %ld, overflows %ld, last wd %ld mask 0x%lx\n", events, overflows,
		       last_wd, last_mask);
	}
	touch(DIR "/after", NULL);
	drain(fd, "after the overflow");

	/* The user's instances: 128 (this one included), then EMFILE. */
	{
		int fds[200], made = 0;

		while (made < 200 && (fds[made] = inotify_init1(IN_CLOEXEC)) >= 0)
			made++;
		printf("more instances: %d, then %s\n", made, made < 200 ? strerrorname_np(errno) : "none");
		while (made > 0)
			close(fds[--made]);
		n = inotify_init1(0);
		printf("after closing them: %s\n", n >= 0 ? "ok" : result(n));
		close(n);
	}

	close(fd);
	system("rm -rf " DIR);
	printf("inotify: done\n");
	return 0;
}
