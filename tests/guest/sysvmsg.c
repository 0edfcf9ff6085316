// SPDX-License-Identifier: GPL-2.0
/* sysvmsg: System V message queues — msgget's keys and errors, msgsnd/msgrcv with the
 * types msgrcv selects by (0, >0, <0, MSG_EXCEPT), MSG_NOERROR and E2BIG, MSG_COPY, a full
 * queue's EAGAIN and a sender woken by a receive, a receiver woken by another process's send,
 * EIDRM for a waiter whose queue is removed, EINTR after an SA_RESTART handler, msgctl's
 * IPC_STAT/IPC_SET/MSG_STAT/IPC_INFO/MSG_INFO, another user's EACCES/EPERM. Run in a fresh
 * IPC namespace (a container's, or unshare -i natively), so that ids are comparable. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEY 0x3a5e

struct message {
	long mtype;
	char mtext[16400];
};

static struct message in, out;

static const char *result(long ret)
{
	static char text[32];

	if (ret < 0)
		return strerrorname_np(errno);
	snprintf(text, sizeof(text), "%ld", ret);
	return text;
}

static long send(int id, long type, const char *text, int flags)
{
	out.mtype = type;
	strcpy(out.mtext, text);
	return msgsnd(id, &out, strlen(text), flags);
}

/* msgrcv printed with what it got. */
static void receive(const char *what, int id, size_t size, long type, int flags)
{
	memset(&in, 0, sizeof(in));
	long ret = msgrcv(id, &in, size, type, flags);

	printf("%s: %s", what, result(ret));
	if (ret >= 0)
		printf(" type %ld text '%.*s'", in.mtype, ret < 16 ? (int)ret : 16, in.mtext);
	printf("\n");
}

static void stat_line(const char *what, int id)
{
	struct msqid_ds ds;
	long ret = msgctl(id, IPC_STAT, &ds);

	printf("%s: %s", what, result(ret));
	if (ret == 0)
		printf(" qnum %lu cbytes %lu qbytes %lu mode %o", ds.msg_qnum, ds.__msg_cbytes,
		       ds.msg_qbytes, ds.msg_perm.mode);
	printf("\n");
}

/* Forks a child that runs what (and exits), telling the parent through a pipe just before;
 * the parent gives it a moment more to start waiting. */
static pid_t start_child(void (*what)(int), int id)
{
	int ready[2];
	char byte;

	if (pipe(ready))
		return -1;
	pid_t child = fork();
	if (child == 0) {
		close(ready[0]);
		write(ready[1], "r", 1);
		what(id);
		_exit(0);
	}
	close(ready[1]);
	read(ready[0], &byte, 1);
	close(ready[0]);
	usleep(300000);
	return child;
}

static void late_sender(int id)
{
	out.mtype = 7;
	strcpy(out.mtext, "late");
	printf("child: sent after waiting: %s\n", result(msgsnd(id, &out, 4, 0)));
}

static void waiting_receiver(int id)
{
	receive("child: woken", id, 100, 9, 0);
}

static void removed_receiver(int id)
{
	receive("child: waiting on a removed queue", id, 100, 42, 0);
}

static void handler(int sig)
{
	(void)sig;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	pid_t self = getpid();

	printf("msgget absent key: %s\n", result(msgget(KEY, 0600)));
	int id = msgget(KEY, IPC_CREAT | 0600);
	printf("msgget create: %s\n", result(id));
	printf("msgget again: %s\n", result(msgget(KEY, 0)));
	printf("msgget excl: %s\n", result(msgget(KEY, IPC_CREAT | IPC_EXCL | 0600)));
	int priv = msgget(IPC_PRIVATE, 0600);
	printf("msgget private: %s\n", result(priv));
	stat_line("IPC_STAT new", id);

	printf("msgsnd type 0: %s\n", result(send(id, 0, "x", 0)));
	printf("msgsnd 8193 bytes: %s\n", result(msgsnd(id, &out, 8193, 0)));
	printf("msgsnd id -1: %s\n", result(send(-1, 1, "x", 0)));
	printf("msgsnd unknown id: %s\n", result(send(id + 1000, 1, "x", 0)));
	printf("msgsnd bad pointer: %s\n", result(msgsnd(id, (void *)8, 1, 0)));
	printf("msgrcv id -1: %s\n", result(msgrcv(-1, &in, 10, 0, 0)));
	printf("msgrcv size -1: %s\n", result(msgrcv(id, &in, -1, 0, 0)));
	printf("msgrcv empty nowait: %s\n", result(msgrcv(id, &in, 10, 0, IPC_NOWAIT)));
	printf("msgrcv MSG_COPY without nowait: %s\n", result(msgrcv(id, &in, 10, 0, MSG_COPY)));
	printf("msgrcv MSG_COPY with MSG_EXCEPT: %s\n",
	       result(msgrcv(id, &in, 10, 0, MSG_COPY | MSG_EXCEPT | IPC_NOWAIT)));

	send(id, 3, "three", 0);
	send(id, 1, "one", 0);
	send(id, 2, "two", 0);
	send(id, 1, "uno", 0);
	send(id, 5, "five", 0);
	stat_line("IPC_STAT with 5", id);
	struct msqid_ds ds;
	msgctl(id, IPC_STAT, &ds);
	printf("lspid is self: %s stime set %s rtime %ld\n", ds.msg_lspid == self ? "yes" : "no",
	       ds.msg_stime ? "yes" : "no", (long)ds.msg_rtime);
	receive("MSG_COPY index 1", id, 100, 1, MSG_COPY | IPC_NOWAIT);
	receive("MSG_COPY index 9", id, 100, 9, MSG_COPY | IPC_NOWAIT);
	receive("type 2 short buffer", id, 2, 2, 0);
	receive("type 2 MSG_NOERROR", id, 2, 2, MSG_NOERROR);
	receive("type -4", id, 100, -4, 0);
	receive("type 1", id, 100, 1, 0);
	receive("except 3", id, 100, 3, MSG_EXCEPT);
	receive("type 4 nowait", id, 100, 4, IPC_NOWAIT);
	receive("any", id, 100, 0, 0);
	msgctl(id, IPC_STAT, &ds);
	printf("lrpid is self: %s rtime set %s\n", ds.msg_lrpid == self ? "yes" : "no",
	       ds.msg_rtime ? "yes" : "no");
	printf("msgrcv bad pointer: %s", result(send(id, 1, "lost", 0)));
	printf(" %s\n", result(msgrcv(id, (void *)8, 100, 0, 0)));
	stat_line("IPC_STAT after", id);

	/* A full queue: EAGAIN, then a sender woken by a receive. */
	memset(out.mtext, 'a', 8192);
	out.mtype = 1;
	printf("fill: %s", result(msgsnd(id, &out, 8192, 0)));
	printf(" %s", result(msgsnd(id, &out, 8192, 0)));
	printf(" full: %s\n", result(msgsnd(id, &out, 1, IPC_NOWAIT)));
	pid_t child = start_child(late_sender, id);
	stat_line("IPC_STAT while the child waits", id);
	long room = msgrcv(id, &in, 1, 0, MSG_NOERROR);
	waitpid(child, NULL, 0);
	printf("made room: %s\n", result(room));
	receive("the child's", id, 100, 7, 0);
	receive("drain", id, 8192, 0, 0);
	stat_line("IPC_STAT drained", id);

	/* A receiver woken by another process's send. */
	child = start_child(waiting_receiver, id);
	send(id, 8, "not for it", 0);
	send(id, 9, "for it", 0);
	waitpid(child, NULL, 0);
	stat_line("IPC_STAT after the child's receive", id);
	receive("left", id, 100, 0, 0);

	/* EINTR after an SA_RESTART handler: msgrcv is never restarted after a handler. */
	struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_RESTART };
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	receive("interrupted", id, 100, 0, 0);

	/* Limits and info. */
	struct msginfo info;
	printf("IPC_INFO: %s", result(msgctl(0, IPC_INFO, (struct msqid_ds *)&info)));
	printf(" msgmax %d msgmnb %d msgmni %d msgssz %d msgpool %d msgmap %d msgtql %d msgseg %u\n",
	       info.msgmax, info.msgmnb, info.msgmni, info.msgssz, info.msgpool, info.msgmap,
	       info.msgtql, info.msgseg);
	send(id, 1, "abc", 0);
	printf("MSG_INFO: %s", result(msgctl(0, MSG_INFO, (struct msqid_ds *)&info)));
	printf(" msgpool %d msgmap %d msgtql %d\n", info.msgpool, info.msgmap, info.msgtql);
	printf("MSG_STAT index 0: %s\n", result(msgctl(0, MSG_STAT, &ds)));
	printf("MSG_STAT index 5: %s\n", result(msgctl(5, MSG_STAT, &ds)));
	printf("bad command: %s\n", result(msgctl(id, 99, &ds)));
	msgctl(id, IPC_STAT, &ds);
	ds.msg_qbytes = 100;
	printf("IPC_SET qbytes 100: %s\n", result(msgctl(id, IPC_SET, &ds)));
	stat_line("after", id);

	/* Another user. */
	child = fork();
	if (child == 0) {
		if (setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000))
			printf("child: cannot become 1000\n");
		printf("user: msgget asking write: %s\n", result(msgget(KEY, 0200)));
		printf("user: msgsnd: %s\n", result(send(id, 1, "x", 0)));
		receive("user: msgrcv", id, 100, 0, IPC_NOWAIT);
		printf("user: IPC_RMID: %s\n", result(msgctl(id, IPC_RMID, NULL)));
		printf("user: IPC_STAT: %s\n", result(msgctl(id, IPC_STAT, &ds)));
		_exit(0);
	}
	waitpid(child, NULL, 0);
	msgctl(id, IPC_STAT, &ds);
	ds.msg_perm.mode = 0622;
	ds.msg_qbytes = 100000;
	printf("IPC_SET past MSGMNB as root: %s\n", result(msgctl(id, IPC_SET, &ds)));
	stat_line("after", id);
	child = fork();
	if (child == 0) {
		setresgid(1000, 1000, 1000);
		setresuid(1000, 1000, 1000);
		printf("user: msgsnd to 0622: %s\n", result(send(id, 1, "x", 0)));
		_exit(0);
	}
	waitpid(child, NULL, 0);

	/* EIDRM for a waiter whose queue is removed. */
	child = start_child(removed_receiver, id);
	long removed = msgctl(id, IPC_RMID, NULL);
	waitpid(child, NULL, 0);
	printf("IPC_RMID: %s\n", result(removed));
	printf("msgsnd after IPC_RMID: %s\n", result(send(id, 1, "x", 0)));
	printf("msgget after IPC_RMID: %s\n", result(msgget(KEY, 0)));
	msgctl(priv, IPC_RMID, NULL);
	printf("sysvmsg: done\n");
	return 0;
}
