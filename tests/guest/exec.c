// SPDX-License-Identifier: GPL-2.0
/* exec: programs started the ways Linux starts them, printed as the kernel answers so that a
 * native and a contained run can be compared line by line: a program larger than any kernel
 * buffer (this one: 24 MiB of initialised data), ETXTBSY both ways, and execveat.
 *
 *   exec          everything below, in order
 *   exec show X   prints X, its AT_EXECFN and its task name, then the ends of its big data
 *   exec aux      prints its auxiliary vector's entries that do not vary between runs
 *   exec layout   writes where its stack, break and a new mapping are to fd 3 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG (24 << 20)

/* In the file, not in .bss: the program is 24 MiB. */
static char big[BIG] = { [0] = 1, [BIG / 2] = 2, [BIG - 1] = 3 };

extern char **environ;

static const char *err(long ret)
{
	return ret < 0 ? strerrorname_np(errno) : "ok";
}

static int show(const char *what)
{
	char comm[17] = "";

	prctl(PR_GET_NAME, comm);
	printf("show %s: execfn %s, comm %s, big %d %d %d\n", what,
	       (const char *)getauxval(AT_EXECFN), comm, big[0], big[BIG / 2], big[BIG - 1]);
	return 0;
}

static void aux_entry(const char *name, unsigned long type)
{
	unsigned long value;

	errno = 0;
	value = getauxval(type);
	if (errno)
		printf("%s: absent\n", name);
	else
		printf("%s: %#lx\n", name, value);
}

#ifndef AT_RSEQ_FEATURE_SIZE
#define AT_RSEQ_FEATURE_SIZE 27
#define AT_RSEQ_ALIGN 28
#endif

static int aux(void)
{
	const unsigned char *vdso = (const void *)getauxval(AT_SYSINFO_EHDR);

	aux_entry("AT_HWCAP", AT_HWCAP);
	aux_entry("AT_HWCAP2", AT_HWCAP2);
	aux_entry("AT_MINSIGSTKSZ", AT_MINSIGSTKSZ);
	aux_entry("AT_PAGESZ", AT_PAGESZ);
	aux_entry("AT_CLKTCK", AT_CLKTCK);
	aux_entry("AT_FLAGS", AT_FLAGS);
	aux_entry("AT_SECURE", AT_SECURE);
	aux_entry("AT_UID", AT_UID);
	aux_entry("AT_EGID", AT_EGID);
	aux_entry("AT_BASE", AT_BASE);
	aux_entry("AT_RSEQ_FEATURE_SIZE", AT_RSEQ_FEATURE_SIZE);
	aux_entry("AT_RSEQ_ALIGN", AT_RSEQ_ALIGN);
	printf("AT_PLATFORM: %s\n", (const char *)getauxval(AT_PLATFORM));
	printf("AT_SYSINFO_EHDR: %s\n",
	       vdso ? (memcmp(vdso, "\x7f" "ELF", 4) ? "not an ELF image" : "the vDSO") :
		      "absent");
	return 0;
}

static int layout(void)
{
	int local;
	void *mapped = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long where[3] = { (unsigned long)&local, (unsigned long)sbrk(0),
				   (unsigned long)mapped };

	return write(3, where, sizeof(where)) != sizeof(where);
}

/* Where two runs of `exec layout` under `persona` put their stack, break and mapping: which
 * of the three moved between them. */
static void layouts(const char *what, unsigned long persona)
{
	unsigned long where[2][3];
	const char *names[] = { "stack", "break", "mapping" };
	int run, i;

	for (run = 0; run < 2; run++) {
		int out[2], status;
		pid_t pid;

		if (pipe(out) < 0)
			return;
		pid = fork();
		if (pid == 0) {
			char *argv[] = { "exec", "layout", NULL };

			dup2(out[1], 3);
			personality(persona);
			execve("/tests/exec", argv, environ);
			_exit(123);
		}
		close(out[1]);
		if (read(out[0], where[run], sizeof(where[run])) != sizeof(where[run]))
			printf("%s: no layout\n", what);
		close(out[0]);
		waitpid(pid, &status, 0);
	}
	printf("%s:", what);
	for (i = 0; i < 3; i++)
		printf(" %s %s", names[i], where[0][i] == where[1][i] ? "fixed" : "moved");
	printf("\n");
}

/* Runs `run` in a child and prints how it ended; the child prints its own errors. */
static void in_child(const char *what, void (*run)(void))
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		run();
		_exit(120);
	}
	waitpid(pid, &status, 0);
	printf("%s: status %#x\n", what, status);
}

static int dir_fd, file_fd;

static void exec_self(void)
{
	char *argv[] = { "exec", "show", "execve", NULL };

	execve("/tests/exec", argv, environ);
	printf("execve: %s\n", strerrorname_np(errno));
}

static void exec_aux(void)
{
	char *argv[] = { "exec", "aux", NULL };

	execve("/tests/exec", argv, environ);
	printf("execve: %s\n", strerrorname_np(errno));
}

static void execveat_relative(void)
{
	char *argv[] = { "exec", "show", "execveat relative", NULL };

	syscall(SYS_execveat, dir_fd, "exec", argv, environ, 0);
	printf("execveat relative: %s\n", strerrorname_np(errno));
}

static void execveat_empty_path(void)
{
	char *argv[] = { "exec", "show", "execveat empty path", NULL };

	syscall(SYS_execveat, file_fd, "", argv, environ, AT_EMPTY_PATH);
	printf("execveat empty path: %s\n", strerrorname_np(errno));
}

static void execveat_absolute(void)
{
	char *argv[] = { "exec", "show", "execveat absolute", NULL };

	syscall(SYS_execveat, file_fd, "/tests/exec", argv, environ, 0);
	printf("execveat absolute: %s\n", strerrorname_np(errno));
}

static void execveat_errors(void)
{
	char *argv[] = { "exec", "show", "error", NULL };

	printf("execveat empty path without the flag: %s\n",
	       err(syscall(SYS_execveat, file_fd, "", argv, environ, 0)));
	printf("execveat unknown flag: %s\n",
	       err(syscall(SYS_execveat, dir_fd, "exec", argv, environ, 0x2)));
	printf("execveat nofollow on a link: %s\n",
	       err(syscall(SYS_execveat, AT_FDCWD, "/tmp/exec-link", argv, environ,
			   AT_SYMLINK_NOFOLLOW)));
	printf("execveat from a file: %s\n",
	       err(syscall(SYS_execveat, file_fd, "exec", argv, environ, 0)));
	printf("execveat of a directory: %s\n",
	       err(syscall(SYS_execveat, dir_fd, "", argv, environ, AT_EMPTY_PATH)));
	printf("execveat bad descriptor: %s\n",
	       err(syscall(SYS_execveat, 99, "exec", argv, environ, 0)));
}

static void execveat_follows_links(void)
{
	char *argv[] = { "exec", "show", "execveat through a link", NULL };

	syscall(SYS_execveat, AT_FDCWD, "/tmp/exec-link", argv, environ, 0);
	printf("execveat through a link: %s\n", strerrorname_np(errno));
}

/* A copy of this program at `path`, mode 0755. */
static int copy_self(const char *path)
{
	int in = open("/tests/exec", O_RDONLY), out;
	static char buf[65536];
	ssize_t n;

	unlink(path);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (in < 0 || out < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			return -1;
	close(in);
	close(out);
	return 0;
}

static void text_busy(void)
{
	const char *copy = "/tmp/exec-copy";
	int ready[2], go[2], status, fd;
	char byte;
	pid_t pid;

	if (copy_self(copy) < 0) {
		printf("copy: %s\n", strerrorname_np(errno));
		return;
	}
	/* A program that runs: its file cannot be opened for writing. */
	if (pipe(ready) < 0 || pipe(go) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		char *argv[] = { "exec-copy", "wait", NULL };

		close(go[1]);
		close(ready[0]);
		dup2(ready[1], 3);
		dup2(go[0], 4);
		execve(copy, argv, environ);
		_exit(121);
	}
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &byte, 1) == 1) {
		printf("open a running program for writing: %s\n", err(open(copy, O_WRONLY)));
		printf("open it for reading: %s\n", err(fd = open(copy, O_RDONLY)));
		close(fd);
		printf("truncate it: %s\n", err(truncate(copy, 0)));
	}
	close(go[1]);
	waitpid(pid, &status, 0);
	printf("waiting program: status %#x\n", status);
	fd = open(copy, O_WRONLY);
	printf("open it for writing once it ended: %s\n", err(fd));
	/* A file open for writing cannot be run. */
	pid = fork();
	if (pid == 0) {
		char *argv[] = { "exec-copy", "show", "busy", NULL };

		execve(copy, argv, environ);
		printf("execve of a file open for writing: %s\n", strerrorname_np(errno));
		_exit(122);
	}
	waitpid(pid, &status, 0);
	printf("busy exec: status %#x\n", status);
	close(fd);
	in_child("exec once closed", exec_self);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && !strcmp(argv[1], "show"))
		return show(argv[2]);
	if (argc > 1 && !strcmp(argv[1], "aux"))
		return aux();
	if (argc > 1 && !strcmp(argv[1], "layout"))
		return layout();
	if (argc > 1 && !strcmp(argv[1], "wait")) {
		char byte;

		/* Tell the parent it runs, then wait until it closes the pipe. */
		if (write(3, "r", 1) != 1)
			return 1;
		return read(4, &byte, 1) < 0;
	}
	dir_fd = open("/tests", O_RDONLY | O_DIRECTORY);
	file_fd = open("/tests/exec", O_RDONLY);
	unlink("/tmp/exec-link");
	if (dir_fd != 3 || file_fd != 4 || symlink("/tests/exec", "/tmp/exec-link") < 0) {
		printf("setup failed: %d %d %s\n", dir_fd, file_fd, strerrorname_np(errno));
		return 1;
	}
	in_child("execve", exec_self);
	in_child("auxiliary vector", exec_aux);
	layouts("default layout", PER_LINUX);
	layouts("ADDR_NO_RANDOMIZE layout", PER_LINUX | ADDR_NO_RANDOMIZE);
	printf("personality: %#x\n", personality(0xffffffff));
	in_child("execveat relative", execveat_relative);
	in_child("execveat empty path", execveat_empty_path);
	in_child("execveat absolute", execveat_absolute);
	in_child("execveat through a link", execveat_follows_links);
	execveat_errors();
	text_busy();
	printf("exec: done\n");
	return 0;
}
