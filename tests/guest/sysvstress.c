// SPDX-License-Identifier: GPL-2.0
/* sysvstress: four processes increment a counter in a System V shared memory segment, each
 * read-modify-write under a System V semaphore used as a mutex (SEM_UNDO), and pass tokens
 * through a message queue; the totals must be exact and the semaphore back at 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKERS 4
#define ROUNDS 1000

struct token {
	long mtype;
	char mtext[8];
};

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int sem = semget(IPC_PRIVATE, 1, 0600);
	int shm = shmget(IPC_PRIVATE, sizeof(long), 0600);
	int msg = msgget(IPC_PRIVATE, 0600);
	volatile long *counter = shmat(shm, NULL, 0);
	struct sembuf down = { 0, -1, SEM_UNDO }, up = { 0, 1, SEM_UNDO };

	semctl(sem, 0, SETVAL, 1);
	*counter = 0;
	for (int w = 0; w < WORKERS; w++) {
		if (fork() == 0) {
			struct token t = { .mtype = w + 1 };
			for (int i = 0; i < ROUNDS; i++) {
				if (semop(sem, &down, 1) < 0)
					_exit(1);
				long seen = *counter;
				if (i % 100 == 0)
					usleep(100);
				*counter = seen + 1;
				if (semop(sem, &up, 1) < 0)
					_exit(2);
				if (i % 10 == 0 && msgsnd(msg, &t, 1, 0) < 0)
					_exit(3);
			}
			_exit(0);
		}
	}
	long tokens[WORKERS + 1] = { 0 };
	struct token t;
	for (int i = 0; i < WORKERS * ROUNDS / 10; i++) {
		if (msgrcv(msg, &t, sizeof(t.mtext), 0, 0) < 0) {
			printf("msgrcv: %s\n", strerrorname_np(errno));
			break;
		}
		if (t.mtype >= 1 && t.mtype <= WORKERS)
			tokens[t.mtype]++;
	}
	int failed = 0, status;
	while (wait(&status) > 0)
		failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	printf("workers failed: %d\n", failed);
	printf("counter: %ld\n", *counter);
	printf("tokens:");
	for (int w = 1; w <= WORKERS; w++)
		printf(" %ld", tokens[w]);
	printf("\nsemaphore: %d nattch left: ", semctl(sem, 0, GETVAL));
	struct shmid_ds ds;
	shmctl(shm, IPC_STAT, &ds);
	printf("%lu\n", ds.shm_nattch);
	semctl(sem, 0, IPC_RMID);
	shmctl(shm, IPC_RMID, NULL);
	msgctl(msg, IPC_RMID, NULL);
	printf("sysvstress: done\n");
	return 0;
}
