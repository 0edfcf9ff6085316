// SPDX-License-Identifier: GPL-2.0
/* stress: one container's share of a load run several at once, on several CPUs. Each round,
 * THREADS threads each fork a child that execs this program to send a known message through a
 * pipe, read it back whole and reap the child; meanwhile the first thread writes, renames,
 * checks and removes a file, and stops a child with a signal. Everything observed is checked;
 * the first difference is printed and the program fails.
 *
 *   stress ID ROUNDS    the load, in a container (its first process: pid 1)
 *   stress send ID N    the child: writes message N of container ID to fd 3 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 3
#define MESSAGE_SIZE 3000

extern char **environ;

static int id, rounds;
static volatile int failed;

static void fail(const char *what, long value)
{
	printf("stress %d: %s (%ld, %s)\n", id, what, value, strerrorname_np(errno));
	failed = 1;
}

/* Message `n` of container `who`: MESSAGE_SIZE bytes no other message has. */
static void message(int who, int n, char *out)
{
	int i;

	for (i = 0; i < MESSAGE_SIZE; i++)
		out[i] = (char)('a' + (who * 7 + n * 13 + i) % 26);
}

static int send_message(int who, int n)
{
	char buf[MESSAGE_SIZE];
	ssize_t done = 0, got;

	message(who, n, buf);
	while (done < MESSAGE_SIZE) {
		got = write(3, buf + done, MESSAGE_SIZE - done);
		if (got <= 0)
			return 2;
		done += got;
	}
	return 7;
}

/* One exchange: a child execs `stress send`, the caller reads its message and reaps it. */
static void exchange(int n)
{
	char want[MESSAGE_SIZE], got[MESSAGE_SIZE];
	int pipefd[2], status = 0;
	ssize_t done = 0, count;
	pid_t pid;

	/* Close-on-exec, so that no other exchange's child holds this pipe open. */
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return fail("pipe", -1);
	pid = fork();
	if (pid == 0) {
		char who[16], which[16];
		char *argv[] = { "stress", "send", who, which, NULL };

		snprintf(who, sizeof(who), "%d", id);
		snprintf(which, sizeof(which), "%d", n);
		if (pipefd[1] == 3)
			fcntl(3, F_SETFD, 0);
		else
			dup2(pipefd[1], 3);
		execve("/tests/stress", argv, environ);
		_exit(3);
	}
	close(pipefd[1]);
	if (pid < 0)
		return fail("fork", pid);
	while (done < MESSAGE_SIZE && (count = read(pipefd[0], got + done, MESSAGE_SIZE - done)) > 0)
		done += count;
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid", pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 7)
		return fail("child status", status);
	message(id, n, want);
	if (done != MESSAGE_SIZE || memcmp(want, got, MESSAGE_SIZE))
		return fail("message", done);
}

static void *thread_main(void *arg)
{
	long index = (long)arg;
	int round;

	for (round = 0; round < rounds && !failed; round++)
		exchange(round * THREADS + (int)index);
	return NULL;
}

/* Files: written, renamed, checked and removed, in the container's own /tmp. */
static void files(int round)
{
	char name[64], renamed[64], line[64], back[64] = "";
	struct stat st;
	int fd, len;

	snprintf(name, sizeof(name), "/tmp/stress-%d", round);
	snprintf(renamed, sizeof(renamed), "/tmp/stress-%d.done", round);
	len = snprintf(line, sizeof(line), "container %d round %d\n", id, round);
	fd = open(name, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0 || write(fd, line, len) != len || close(fd) < 0)
		return fail("write a file", fd);
	if (rename(name, renamed) < 0 || stat(name, &st) == 0)
		return fail("rename", round);
	fd = open(renamed, O_RDONLY);
	if (fd < 0 || read(fd, back, sizeof(back)) != len || strncmp(back, line, len))
		return fail("read the renamed file", fd);
	close(fd);
	if (unlink(renamed) < 0)
		return fail("unlink", round);
}

/* A child stopped by SIGTERM, and seen so. */
static void signal_child(void)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		pause();
		_exit(0);
	}
	if (pid < 0 || kill(pid, SIGTERM) < 0 || waitpid(pid, &status, 0) != pid)
		return fail("signal a child", pid);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGTERM)
		return fail("signalled child status", status);
}

int main(int argc, char **argv)
{
	pthread_t threads[THREADS];
	long i;
	int round;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "send"))
		return send_message(atoi(argv[2]), atoi(argv[3]));
	if (argc != 3)
		return 2;
	id = atoi(argv[1]);
	rounds = atoi(argv[2]);
	if (getpid() != 1)
		fail("not the container's first process", getpid());
	for (i = 0; i < THREADS; i++)
		if (pthread_create(&threads[i], NULL, thread_main, (void *)i))
			fail("pthread_create", i);
	for (round = 0; round < rounds && !failed; round++) {
		files(round);
		signal_child();
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(threads[i], NULL);
	/* Another container's processes are not this one's: nothing beyond the pids it made. */
	if (kill(THREADS * rounds * 3 + 100, 0) == 0 || errno != ESRCH)
		fail("a pid of another container answers", 0);
	if (failed)
		return 1;
	printf("stress %d: %d rounds ok\n", id, rounds);
	return 0;
}
