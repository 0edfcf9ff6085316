// SPDX-License-Identifier: GPL-2.0
/* sysvshm: System V shared memory — shmget's keys, sizes and errors; shmat's addresses
 * (SHM_RND, SHM_REMAP, alignment), SHM_RDONLY (a write faults); memory shared with a forked
 * child and with an unrelated process (a fresh exec) attaching the key; shm_nattch counted as
 * Linux does (inherited by fork, dropped at exec, exit and shmdt); shmdt's EINVAL; IPC_RMID of
 * an attached segment (SHM_DEST, private key, alive until the last detach); another user's
 * EACCES/EPERM; SHM_LOCK; IPC_INFO/SHM_INFO/SHM_STAT. Run in a fresh IPC namespace (a
 * container's, or unshare -i natively), so that ids are comparable. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEY 0x5a3e
#define SIZE 10000

static const char *result(long ret)
{
	static char text[32];

	if (ret < 0)
		return strerrorname_np(errno);
	snprintf(text, sizeof(text), "%ld", ret);
	return text;
}

static const char *attach_result(void *addr)
{
	return addr == (void *)-1 ? strerrorname_np(errno) : "ok";
}

static long nattch(int id)
{
	struct shmid_ds ds;

	if (shmctl(id, IPC_STAT, &ds) < 0)
		return -1;
	return (long)ds.shm_nattch;
}

static void status(const char *what, int status)
{
	if (WIFSIGNALED(status))
		printf("%s: killed by %s\n", what, sigabbrev_np(WTERMSIG(status)));
	else
		printf("%s: exit %d\n", what, WEXITSTATUS(status));
}

/* The unrelated process: attaches the key itself, reads, writes, detaches. */
static int attach_by_key(void)
{
	int id = shmget(KEY, 0, 0);
	char *p = shmat(id, NULL, 0);

	if (p == (void *)-1) {
		printf("exec'd: shmat %s\n", strerrorname_np(errno));
		return 1;
	}
	printf("exec'd: reads '%s' nattch %ld\n", p, nattch(id));
	strcpy(p, "written by the exec'd process");
	printf("exec'd: shmdt %s\n", result(shmdt(p)));
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && strcmp(argv[1], "attach") == 0)
		return attach_by_key();
	pid_t self = getpid();
	int wstatus;

	printf("shmget size 0: %s\n", result(shmget(IPC_PRIVATE, 0, 0600)));
	printf("shmget absent key: %s\n", result(shmget(KEY, SIZE, 0600)));
	int id = shmget(KEY, SIZE, IPC_CREAT | 0600);
	printf("shmget create: %s\n", result(id));
	printf("shmget again smaller: %s\n", result(shmget(KEY, 100, 0600)));
	printf("shmget again size 0: %s\n", result(shmget(KEY, 0, 0)));
	printf("shmget again larger: %s\n", result(shmget(KEY, SIZE + 1, 0600)));
	printf("shmget excl: %s\n", result(shmget(KEY, SIZE, IPC_CREAT | IPC_EXCL | 0600)));
	printf("shmget huge: %s\n", result(shmget(IPC_PRIVATE, (size_t)-1, 0600)));

	struct shmid_ds ds;
	shmctl(id, IPC_STAT, &ds);
	printf("IPC_STAT new: key %#x mode %o segsz %zu nattch %lu cpid is self %s lpid %d atime %ld\n",
	       ds.shm_perm.__key, ds.shm_perm.mode, ds.shm_segsz, ds.shm_nattch,
	       ds.shm_cpid == self ? "yes" : "no", ds.shm_lpid, (long)ds.shm_atime);

	char *p = shmat(id, NULL, 0);
	printf("shmat: %s\n", attach_result(p));
	printf("fresh memory is zero: %s\n", p[0] == 0 && p[SIZE - 1] == 0 ? "yes" : "no");
	strcpy(p, "written by the parent");
	shmctl(id, IPC_STAT, &ds);
	printf("IPC_STAT attached: nattch %lu lpid is self %s atime set %s\n", ds.shm_nattch,
	       ds.shm_lpid == self ? "yes" : "no", ds.shm_atime ? "yes" : "no");

	/* A forked child shares the attachment. */
	int ready[2], go[2];
	char byte;
	pipe(ready);
	pipe(go);
	pid_t child = fork();
	if (child == 0) {
		printf("child: reads '%s'\n", p);
		strcpy(p, "written by the child");
		write(ready[1], "r", 1);
		read(go[0], &byte, 1);
		_exit(0);
	}
	read(ready[0], &byte, 1);
	printf("nattch with the child: %ld\n", nattch(id));
	printf("parent reads '%s'\n", p);
	write(go[1], "g", 1);
	waitpid(child, &wstatus, 0);
	printf("nattch after the child's exit: %ld\n", nattch(id));

	/* A fresh program in a child: exec drops the inherited attachment, it attaches by key. */
	child = fork();
	if (child == 0) {
		execl(argv[0], argv[0], "attach", (char *)NULL);
		_exit(127);
	}
	waitpid(child, &wstatus, 0);
	status("exec'd", wstatus);
	printf("parent reads '%s' nattch %ld\n", p, nattch(id));

	/* Addresses. */
	char *spot = mmap(NULL, 0x100000, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("shmat over a mapping: %s\n", attach_result(shmat(id, spot, 0)));
	char *q = shmat(id, spot, SHM_REMAP);
	printf("shmat SHM_REMAP over it: %s at it %s\n", attach_result(q), q == spot ? "yes" : "no");
	printf("reads '%s' there, nattch %ld\n", q, nattch(id));
	printf("shmdt inside: %s\n", result(shmdt(q + 4096)));
	printf("shmdt unaligned: %s\n", result(shmdt(q + 1)));
	printf("shmdt: %s\n", result(shmdt(q)));
	printf("shmdt again: %s\n", result(shmdt(q)));
	printf("shmdt of an unmapped page: %s\n", result(shmdt(spot + 0x80000)));
	printf("shmat unaligned: %s\n", attach_result(shmat(id, spot + 1, 0)));
	q = shmat(id, spot + 1, SHM_RND);
	printf("shmat SHM_RND: %s at the page %s\n", attach_result(q), q == spot ? "yes" : "no");
	shmdt(q);
	printf("shmat SHM_REMAP without address: %s\n", attach_result(shmat(id, NULL, SHM_REMAP)));
	printf("shmat id -1: %s\n", attach_result(shmat(-1, NULL, 0)));
	printf("shmat unknown id: %s\n", attach_result(shmat(id + 1000, NULL, 0)));

	/* shmdt unmaps the segment's pieces only: a mapping put in a hole of it stays. */
	q = shmat(id, NULL, 0);
	long before = nattch(id);
	munmap(q + 4096, 4096);
	printf("a hole splits the attachment: nattch %ld more\n", nattch(id) - before);
	char *filler = mmap(q + 4096, 4096, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	filler[0] = 'Z';
	printf("shmdt around a mapping: %s", result(shmdt(q)));
	printf(" the mapping kept '%c' nattch back %s\n", filler[0], nattch(id) == before - 1 ? "yes" : "no");
	munmap(filler, 4096);

	/* Read-only: a write faults. */
	char *ro = shmat(id, NULL, SHM_RDONLY);
	printf("shmat SHM_RDONLY: %s reads '%.9s'\n", attach_result(ro), ro);
	child = fork();
	if (child == 0) {
		ro[0] = 'X';
		_exit(0);
	}
	waitpid(child, &wstatus, 0);
	status("writing a read-only attachment", wstatus);
	shmdt(ro);

	/* Another user. */
	child = fork();
	if (child == 0) {
		if (setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000))
			printf("child: cannot become 1000\n");
		printf("user: shmat: %s\n", attach_result(shmat(id, NULL, 0)));
		printf("user: shmat read-only: %s\n", attach_result(shmat(id, NULL, SHM_RDONLY)));
		printf("user: IPC_STAT: %s\n", result(shmctl(id, IPC_STAT, &ds)));
		printf("user: IPC_RMID: %s\n", result(shmctl(id, IPC_RMID, NULL)));
		printf("user: SHM_LOCK: %s\n", result(shmctl(id, SHM_LOCK, NULL)));
		_exit(0);
	}
	waitpid(child, NULL, 0);
	shmctl(id, IPC_STAT, &ds);
	ds.shm_perm.mode = 0644;
	printf("IPC_SET 0644: %s\n", result(shmctl(id, IPC_SET, &ds)));
	child = fork();
	if (child == 0) {
		setresgid(1000, 1000, 1000);
		setresuid(1000, 1000, 1000);
		printf("user: shmat read-only of 0644: %s\n", attach_result(shmat(id, NULL, SHM_RDONLY)));
		printf("user: shmat of 0644: %s\n", attach_result(shmat(id, NULL, 0)));
		_exit(0);
	}
	waitpid(child, NULL, 0);
	printf("SHM_LOCK: %s", result(shmctl(id, SHM_LOCK, NULL)));
	shmctl(id, IPC_STAT, &ds);
	printf(" mode %o", ds.shm_perm.mode);
	printf(" SHM_UNLOCK: %s", result(shmctl(id, SHM_UNLOCK, NULL)));
	shmctl(id, IPC_STAT, &ds);
	printf(" mode %o\n", ds.shm_perm.mode);

	/* Limits and info. */
	struct shminfo info;
	printf("IPC_INFO: %s", result(shmctl(0, IPC_INFO, (struct shmid_ds *)&info)));
	printf(" shmmax %#lx shmmin %lu shmmni %lu shmseg %lu shmall %#lx\n", info.shmmax,
	       info.shmmin, info.shmmni, info.shmseg, info.shmall);
	struct shm_info sinfo;
	printf("SHM_INFO: %s", result(shmctl(0, SHM_INFO, (struct shmid_ds *)&sinfo)));
	printf(" used_ids %d shm_tot %lu\n", sinfo.used_ids, sinfo.shm_tot);
	printf("SHM_STAT index 0: %s\n", result(shmctl(0, SHM_STAT, &ds)));
	printf("SHM_STAT_ANY index 3: %s\n", result(shmctl(3, SHM_STAT_ANY, &ds)));
	printf("bad command: %s\n", result(shmctl(id, 99, &ds)));
	printf("IPC_STAT bad pointer: %s\n", result(shmctl(id, IPC_STAT, (void *)8)));

	/* IPC_RMID while attached: alive until the last detach, its key free at once. */
	printf("IPC_RMID attached: %s\n", result(shmctl(id, IPC_RMID, NULL)));
	shmctl(id, IPC_STAT, &ds);
	printf("IPC_STAT removed: key %#x mode %o nattch %lu\n", ds.shm_perm.__key, ds.shm_perm.mode,
	       ds.shm_nattch);
	printf("shmget of the key: %s\n", result(shmget(KEY, SIZE, 0600)));
	int again = shmget(KEY, SIZE, IPC_CREAT | 0600);
	printf("shmget create again: %s\n", result(again));
	printf("still reads '%s'\n", p);
	char *late = shmat(id, NULL, 0);
	printf("shmat of the removed segment: %s nattch %ld\n", attach_result(late), nattch(id));
	shmdt(late);
	printf("shmdt: %s\n", result(shmdt(p)));
	printf("IPC_STAT after the last detach: %s\n", result(shmctl(id, IPC_STAT, &ds)));
	printf("shmat after the last detach: %s\n", attach_result(shmat(id, NULL, 0)));

	/* Exit detaches: a child attaches and exits, the segment is then removed at once. */
	child = fork();
	if (child == 0) {
		shmat(again, NULL, 0);
		_exit(0);
	}
	waitpid(child, NULL, 0);
	printf("nattch after an attached child's exit: %ld\n", nattch(again));
	printf("IPC_RMID unattached: %s\n", result(shmctl(again, IPC_RMID, NULL)));
	printf("IPC_STAT: %s\n", result(shmctl(again, IPC_STAT, &ds)));
	printf("sysvshm: done\n");
	return 0;
}
