// SPDX-License-Identifier: GPL-2.0
/* sysvkey: what one System V key names where it runs. `sysvkey hold` makes a semaphore set
 * (value 42) and a message queue with the key, says "holding" and keeps them until its stdin
 * ends; `sysvkey probe` prints what the key names for it: each kind's lookup, then whether
 * it can make its own with IPC_EXCL. The same with a POSIX message queue named /sysvkey. Two
 * containers (and the host) must not see each other's. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <unistd.h>

#define KEY 0x15a7

static const char *result(long ret)
{
	static char text[32];

	if (ret < 0)
		return strerrorname_np(errno);
	snprintf(text, sizeof(text), "%ld", ret);
	return text;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && strcmp(argv[1], "hold") == 0) {
		int sem = semget(KEY, 1, IPC_CREAT | IPC_EXCL | 0666);
		int msg = msgget(KEY, IPC_CREAT | IPC_EXCL | 0666);
		printf("hold: semget %s", result(sem));
		printf(" msgget %s", result(msg));
		printf(" SETVAL %s", result(semctl(sem, 0, SETVAL, 42)));
		printf(" mq_open %s\n", result(mq_open("/sysvkey", O_RDWR | O_CREAT | O_EXCL, 0666, NULL) >= 0 ? 0 : -1));
		printf("holding\n");
		char buf[16];
		while (read(0, buf, sizeof(buf)) > 0)
			;
		printf("hold: value still %s\n", result(semctl(sem, 0, GETVAL)));
		semctl(sem, 0, IPC_RMID);
		msgctl(msg, IPC_RMID, NULL);
		mq_unlink("/sysvkey");
		return 0;
	}
	printf("probe: semget %s", result(semget(KEY, 0, 0)));
	printf(" msgget %s", result(msgget(KEY, 0)));
	printf(" mq_open %s\n", result(mq_open("/sysvkey", O_RDWR)));
	int sem = semget(KEY, 1, IPC_CREAT | IPC_EXCL | 0600);
	int msg = msgget(KEY, IPC_CREAT | IPC_EXCL | 0600);
	printf("probe: own semget %s", result(sem >= 0 ? 0 : -1));
	printf(" own msgget %s", result(msg >= 0 ? 0 : -1));
	printf(" GETVAL %s\n", result(semctl(sem, 0, GETVAL)));
	semctl(sem, 0, IPC_RMID);
	msgctl(msg, IPC_RMID, NULL);
	return 0;
}
