// SPDX-License-Identifier: GPL-2.0
/* sysvsem: System V semaphores — semget's keys and errors, semctl's commands and their
 * errors, semop all-or-nothing with its errors, a wait woken by another process (GETNCNT,
 * GETZCNT), SEM_UNDO applied at exit, EIDRM for a waiter whose set is removed, EINTR after a
 * SA_RESTART handler, semtimedop's timeout, the permission checks of another user, IPC_SET,
 * IPC_INFO/SEM_INFO/SEM_STAT. Run in a fresh IPC namespace (a container's, or unshare -i
 * natively), so that ids are comparable. Pids are printed relative to the known processes. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KEY 0x5e3a

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *__buf;
};

static const char *result(long ret)
{
	static char text[32];

	if (ret < 0)
		return strerrorname_np(errno);
	snprintf(text, sizeof(text), "%ld", ret);
	return text;
}

static long ctl(int id, int num, int cmd, long arg)
{
	return syscall(SYS_semctl, id, num, cmd, arg);
}

static long op(int id, unsigned short num, short sem_op, short flg)
{
	struct sembuf sop = { .sem_num = num, .sem_op = sem_op, .sem_flg = flg };

	return semop(id, &sop, 1);
}

/* Waits (up to 10 s) until GETNCNT (or GETZCNT) of semaphore num is n. */
static long await_count(int id, int num, int cmd, long n)
{
	long count = -1;

	for (int tries = 0; tries < 1000; tries++) {
		count = ctl(id, num, cmd, 0);
		if (count == n)
			break;
		usleep(10000);
	}
	return count;
}

static void handler(int sig)
{
	(void)sig;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	pid_t self = getpid();

	printf("semget private 0 sems: %s\n", result(semget(IPC_PRIVATE, 0, 0600)));
	printf("semget private 32001 sems: %s\n", result(semget(IPC_PRIVATE, 32001, 0600)));
	printf("semget private -1 sems: %s\n", result(semget(IPC_PRIVATE, -1, 0600)));
	printf("semget absent key: %s\n", result(semget(KEY, 1, 0600)));
	int id = semget(KEY, 3, IPC_CREAT | 0600);
	printf("semget create: %s\n", result(id));
	printf("semget again: %s\n", result(semget(KEY, 2, 0600)));
	printf("semget again 0 sems: %s\n", result(semget(KEY, 0, 0)));
	printf("semget excl: %s\n", result(semget(KEY, 3, IPC_CREAT | IPC_EXCL | 0600)));
	printf("semget more sems: %s\n", result(semget(KEY, 4, 0600)));
	int priv = semget(IPC_PRIVATE, 1, 0600);
	printf("semget private: %s\n", result(priv));

	printf("GETVAL: %s\n", result(ctl(id, 0, GETVAL, 0)));
	printf("SETVAL 5: %s\n", result(ctl(id, 0, SETVAL, 5)));
	printf("GETVAL: %s\n", result(ctl(id, 0, GETVAL, 0)));
	printf("GETPID is self: %s\n", ctl(id, 0, GETPID, 0) == self ? "yes" : "no");
	printf("SETVAL 32768: %s\n", result(ctl(id, 0, SETVAL, 32768)));
	printf("SETVAL -1: %s\n", result(ctl(id, 0, SETVAL, -1)));
	printf("GETVAL sem 3: %s\n", result(ctl(id, 3, GETVAL, 0)));
	printf("GETVAL sem -1: %s\n", result(ctl(id, -1, GETVAL, 0)));
	printf("GETVAL id -1: %s\n", result(ctl(-1, 0, GETVAL, 0)));
	printf("GETVAL unknown id: %s\n", result(ctl(id + 1000, 0, GETVAL, 0)));
	printf("bad command: %s\n", result(ctl(id, 0, 99, 0)));
	unsigned short set[3] = { 1, 2, 3 }, got[3] = { 9, 9, 9 };
	printf("SETALL: %s\n", result(ctl(id, 0, SETALL, (long)set)));
	printf("GETALL: %s", result(ctl(id, 0, GETALL, (long)got)));
	printf(" %u %u %u\n", got[0], got[1], got[2]);
	printf("GETALL bad pointer: %s\n", result(ctl(id, 0, GETALL, 8)));
	unsigned short big[3] = { 1, 40000, 3 };
	printf("SETALL 40000: %s\n", result(ctl(id, 0, SETALL, (long)big)));

	printf("semop take 2 of 1 nowait: %s\n", result(op(id, 0, -2, IPC_NOWAIT)));
	struct sembuf two[2] = { { 1, -1, 0 }, { 0, -2, IPC_NOWAIT } };
	printf("semop both or none: %s", result(semop(id, two, 2)));
	printf(" sem1 %s\n", result(ctl(id, 1, GETVAL, 0)));
	printf("semop sem 3: %s\n", result(op(id, 3, 1, 0)));
	printf("semop add past SEMVMX: %s\n", result(op(id, 2, 32767, 0)));
	printf("semop no ops: %s\n", result(semop(id, two, 0)));
	static struct sembuf many[501];
	printf("semop 501 ops: %s\n", result(semop(id, many, 501)));
	printf("semop bad pointer: %s\n", result(semop(id, (struct sembuf *)8, 1)));
	printf("semop id -1: %s\n", result(op(-1, 0, 1, 0)));
	printf("semop unknown id: %s\n", result(op(id + 1000, 0, 1, 0)));
	printf("semop wait for zero nowait: %s\n", result(op(id, 0, 0, IPC_NOWAIT)));
	struct sembuf dup[2] = { { 2, -2, 0 }, { 2, -1, IPC_NOWAIT } };
	printf("semop same sem twice: %s", result(semop(id, dup, 2)));
	printf(" sem2 %s\n", result(ctl(id, 2, GETVAL, 0)));
	printf("semop give: %s", result(op(id, 2, 2, 0)));
	printf(" sem2 %s\n", result(ctl(id, 2, GETVAL, 0)));

	struct semid_ds ds;
	printf("IPC_STAT: %s", result(ctl(id, 0, IPC_STAT, (long)&ds)));
	printf(" key %#x mode %o nsems %lu uid %u cuid %u otime set %s ctime set %s\n",
	       ds.sem_perm.__key, ds.sem_perm.mode, ds.sem_nsems, ds.sem_perm.uid,
	       ds.sem_perm.cuid, ds.sem_otime ? "yes" : "no", ds.sem_ctime ? "yes" : "no");
	printf("IPC_STAT bad pointer: %s\n", result(ctl(id, 0, IPC_STAT, 8)));
	struct semid_ds ds2;
	printf("SEM_STAT index 1: %s\n", result(ctl(1, 0, SEM_STAT, (long)&ds2)));
	printf("SEM_STAT_ANY index 0: %s\n", result(ctl(0, 0, SEM_STAT_ANY, (long)&ds2)));
	printf("SEM_STAT index 7: %s\n", result(ctl(7, 0, SEM_STAT, (long)&ds2)));
	struct seminfo info;
	printf("IPC_INFO: %s", result(ctl(0, 0, IPC_INFO, (long)&info)));
	printf(" semmni %d semmsl %d semopm %d semvmx %d semmns %d semume %d semusz %d semaem %d\n",
	       info.semmni, info.semmsl, info.semopm, info.semvmx, info.semmns, info.semume,
	       info.semusz, info.semaem);
	printf("SEM_INFO: %s", result(ctl(0, 0, SEM_INFO, (long)&info)));
	printf(" semusz %d semaem %d\n", info.semusz, info.semaem);

	/* A wait for 2 on sem 0, woken by another process's semop. */
	ctl(id, 0, SETVAL, 0);
	pid_t child = fork();
	if (child == 0) {
		long ret = op(id, 0, -2, 0);
		printf("child: took 2: %s\n", result(ret));
		_exit(0);
	}
	printf("GETNCNT with a waiter: %ld\n", await_count(id, 0, GETNCNT, 1));
	printf("GETZCNT: %s\n", result(ctl(id, 0, GETZCNT, 0)));
	printf("give 1: %s\n", result(op(id, 0, 1, 0)));
	usleep(100000);
	printf("GETNCNT still: %s\n", result(ctl(id, 0, GETNCNT, 0)));
	long gave = op(id, 0, 1, 0);
	waitpid(child, NULL, 0);
	printf("gave 1 more: %s\n", result(gave));
	printf("after the child: sem0 %s", result(ctl(id, 0, GETVAL, 0)));
	printf(" GETPID is child: %s\n", ctl(id, 0, GETPID, 0) == child ? "yes" : "no");

	/* Waiting for zero. */
	ctl(id, 1, SETVAL, 1);
	child = fork();
	if (child == 0) {
		printf("child: zero: %s\n", result(op(id, 1, 0, 0)));
		_exit(0);
	}
	printf("GETZCNT with a waiter: %ld\n", await_count(id, 1, GETZCNT, 1));
	long took = op(id, 1, -1, 0);
	waitpid(child, NULL, 0);
	printf("took to zero: %s\n", result(took));

	/* SEM_UNDO: undone when the process exits, not when it forks or execs. */
	ctl(id, 1, SETVAL, 2);
	child = fork();
	if (child == 0) {
		op(id, 1, 5, SEM_UNDO);
		op(id, 1, -1, SEM_UNDO);
		printf("child: sem1 %s\n", result(ctl(id, 1, GETVAL, 0)));
		_exit(0);
	}
	waitpid(child, NULL, 0);
	printf("after the undoing child: sem1 %s", result(ctl(id, 1, GETVAL, 0)));
	printf(" GETPID is child: %s\n", ctl(id, 1, GETPID, 0) == child ? "yes" : "no");
	child = fork();
	if (child == 0) {
		op(id, 1, -2, SEM_UNDO);
		ctl(id, 1, SETVAL, 7);
		_exit(0);
	}
	waitpid(child, NULL, 0);
	printf("undo after SETVAL cleared it: sem1 %s\n", result(ctl(id, 1, GETVAL, 0)));
	ctl(id, 1, SETVAL, 0);
	op(id, 1, 32767, SEM_UNDO);
	op(id, 1, -32767, 0);
	printf("undo past -32768: %s\n", result(op(id, 1, 2, SEM_UNDO)));
	ctl(id, 1, SETVAL, 0);

	/* EINTR after an SA_RESTART handler: semop is never restarted. */
	struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_RESTART };
	sigaction(SIGALRM, &sa, NULL);
	ctl(id, 0, SETVAL, 0);
	alarm(1);
	printf("semop interrupted: %s\n", result(op(id, 0, -1, 0)));
	struct timespec ts = { 0, 100000000 };
	printf("semtimedop timeout: %s\n", result(semtimedop(id, &(struct sembuf){ 0, -1, 0 }, 1, &ts)));
	ts.tv_nsec = 1000000000;
	printf("semtimedop bad timeout: %s\n", result(semtimedop(id, &(struct sembuf){ 0, -1, 0 }, 1, &ts)));
	ts.tv_nsec = 0;
	printf("semtimedop zero timeout: %s\n", result(semtimedop(id, &(struct sembuf){ 0, -1, 0 }, 1, &ts)));

	/* Another user. */
	child = fork();
	if (child == 0) {
		if (setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000))
			printf("child: cannot become 1000\n");
		printf("user: semget asking nothing: %s\n", result(semget(KEY, 0, 0) == id ? 0 : -1));
		printf("user: semget asking read: %s\n", result(semget(KEY, 0, 0400)));
		printf("user: GETVAL: %s\n", result(ctl(id, 0, GETVAL, 0)));
		printf("user: semop: %s\n", result(op(id, 0, 1, 0)));
		printf("user: IPC_RMID: %s\n", result(ctl(id, 0, IPC_RMID, 0)));
		printf("user: IPC_STAT: %s\n", result(ctl(id, 0, IPC_STAT, (long)&ds)));
		printf("user: SEM_STAT_ANY: %s\n", result(ctl(0, 0, SEM_STAT_ANY, (long)&ds) == id ? 0 : -1));
		_exit(0);
	}
	waitpid(child, NULL, 0);
	ds.sem_perm.mode = 0644;
	ds.sem_perm.uid = 1000;
	printf("IPC_SET: %s\n", result(ctl(id, 0, IPC_SET, (long)&ds)));
	ctl(id, 0, IPC_STAT, (long)&ds);
	printf("after IPC_SET: mode %o uid %u cuid %u\n", ds.sem_perm.mode, ds.sem_perm.uid, ds.sem_perm.cuid);
	child = fork();
	if (child == 0) {
		setresgid(1000, 1000, 1000);
		setresuid(1000, 1000, 1000);
		printf("owner user: SETVAL: %s\n", result(ctl(id, 0, SETVAL, 3)));
		_exit(0);
	}
	waitpid(child, NULL, 0);

	/* EIDRM for a waiter whose set is removed. */
	ctl(id, 0, SETVAL, 0);
	child = fork();
	if (child == 0) {
		printf("child: waiting on a removed set: %s\n", result(op(id, 0, -1, 0)));
		_exit(0);
	}
	await_count(id, 0, GETNCNT, 1);
	long removed = ctl(id, 0, IPC_RMID, 0);
	waitpid(child, NULL, 0);
	printf("IPC_RMID: %s\n", result(removed));
	printf("GETVAL after IPC_RMID: %s\n", result(ctl(id, 0, GETVAL, 0)));
	printf("semget after IPC_RMID: %s\n", result(semget(KEY, 1, 0600)));
	int again = semget(KEY, 1, IPC_CREAT | 0600);
	printf("semget create again: %s\n", result(again));
	ctl(again, 0, IPC_RMID, 0);
	ctl(priv, 0, IPC_RMID, 0);
	printf("sysvsem: done\n");
	return 0;
}
