// SPDX-License-Identifier: GPL-2.0
/* surface: the rest of the process surface (scheduling of self, rseq, membarrier, prctl of
 * self and the parent-death signal), printed so native and contained runs can be compared. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void report(const char *what, long ret)
{
	if (ret < 0)
		printf("%s => %s\n", what, strerrorname_np(errno));
	else
		printf("%s => %ld\n", what, ret);
}

static void scheduling(void)
{
	unsigned int cpu = ~0u, node = ~0u;
	cpu_set_t set;

	report("sched_yield", sched_yield());
	report("getcpu", syscall(SYS_getcpu, &cpu, &node, NULL));
	printf("getcpu cpu in range: %s\n", cpu < (unsigned int)sysconf(_SC_NPROCESSORS_CONF) ? "yes" : "no");
	report("sched_getaffinity(0) > 0", sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0);
	report("sched_getaffinity(unknown pid)", sched_getaffinity(99999, sizeof(set), &set));
}

/* Priority and policy of the caller: what `nice`, `chrt` and Python's os.sched_* use. */
static void priority_and_policy(void)
{
	struct sched_param param = { .sched_priority = 7 };
	unsigned char attr[56];
	struct timespec quantum;

	report("getpriority raw (20 - nice)", syscall(SYS_getpriority, PRIO_PROCESS, 0));
	errno = 0;
	report("nice(3)", nice(3));
	report("getpriority after nice", getpriority(PRIO_PROCESS, 0));
	report("setpriority(self, 5)", setpriority(PRIO_PROCESS, 0, 5));
	report("getpriority after setpriority", getpriority(PRIO_PROCESS, 0));
	report("getpriority(bad which)", getpriority(7, 0));
	report("sched_getscheduler(0)", sched_getscheduler(0));
	report("sched_getparam(0)", sched_getparam(0, &param));
	printf("priority: %d\n", param.sched_priority);
	report("sched_setscheduler(0, SCHED_BATCH)", sched_setscheduler(0, SCHED_BATCH, &param));
	report("sched_getscheduler(0) after", sched_getscheduler(0));
	report("sched_setparam(0)", sched_setparam(0, &param));
	report("sched_setscheduler(0, SCHED_OTHER)", sched_setscheduler(0, SCHED_OTHER, &param));
	report("sched_getscheduler(-1)", sched_getscheduler(-1));
	report("sched_rr_get_interval(0)", sched_rr_get_interval(0, &quantum));
	report("sched_getattr(0)", syscall(SYS_sched_getattr, 0, attr, sizeof(attr), 0));
}

/* glibc registers each thread's rseq area at start: the kernel keeps its cpu_id current. */
static void restartable_sequences(void)
{
	struct rseq *area = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);

	printf("rseq registered by libc: %s\n", __rseq_size > 0 ? "yes" : "no");
	sched_yield();
	printf("rseq cpu_id current: %s\n",
	       (int)area->cpu_id >= 0 && area->cpu_id == (unsigned int)sched_getcpu() ? "yes" : "no");
	report("rseq again (same area)", syscall(SYS_rseq, area, __rseq_size, 0, RSEQ_SIG));
}

static void memory_barriers(void)
{
	long query = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

	printf("membarrier query has private expedited: %s\n",
	       query >= 0 && (query & MEMBARRIER_CMD_PRIVATE_EXPEDITED) ? "yes" : "no");
	report("membarrier private expedited unregistered",
	       syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0));
	report("membarrier register private expedited",
	       syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0));
	report("membarrier private expedited",
	       syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0));
	report("membarrier bad command", syscall(SYS_membarrier, 1 << 30, 0, 0));
}

static void process_controls(void)
{
	char name[32] = "";
	int *tid_address = NULL;
	int signal = -1;

	report("prctl(PR_SET_NAME)", prctl(PR_SET_NAME, "surface-name-that-is-long", 0, 0, 0));
	report("prctl(PR_GET_NAME)", prctl(PR_GET_NAME, name, 0, 0, 0));
	printf("name: %s\n", name);
	report("prctl(PR_GET_PDEATHSIG)", prctl(PR_GET_PDEATHSIG, &signal, 0, 0, 0));
	printf("pdeathsig: %d\n", signal);
	report("prctl(PR_SET_PDEATHSIG, 99)", prctl(PR_SET_PDEATHSIG, 99, 0, 0, 0));
	/* Not PR_GET_NO_NEW_PRIVS here: a contained process always has it (the gate needs it, and
	 * rVisor's execve grants no set-user-ID privileges), a native one not until it asks. */
	report("prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN)", prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0));
	report("prctl(PR_CAPBSET_READ, 200)", prctl(PR_CAPBSET_READ, 200, 0, 0, 0));
	report("prctl(PR_GET_TID_ADDRESS)", prctl(PR_GET_TID_ADDRESS, &tid_address, 0, 0, 0));
	printf("tid address holds the tid: %s\n", tid_address && *tid_address == gettid() ? "yes" : "no");
	report("prctl(unknown option)", prctl(0x7fff0000, 0, 0, 0, 0));
}

/* In a child: not the container's first process, which rVisor makes the host's subreaper. */
static void child_controls(void)
{
	pid_t child = fork();
	int status;

	if (child == 0) {
		report("child prctl(PR_GET_CHILD_SUBREAPER)", prctl(PR_GET_CHILD_SUBREAPER, &status, 0, 0, 0));
		printf("child subreaper: %d\n", status);
		report("child prctl(PR_SET_NO_NEW_PRIVS, 1)", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
		report("child prctl(PR_GET_NO_NEW_PRIVS)", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
		_exit(0);
	}
	waitpid(child, &status, 0);
}

/* A grandchild asks for SIGUSR1 when its parent dies; the parent exits; the signal comes. */
static void parent_death_signal(void)
{
	int ready[2], result[2];
	pid_t middle;
	char line[64] = "";
	ssize_t got;

	if (pipe(ready) || pipe(result))
		return;
	middle = fork();
	if (middle == 0) {
		if (fork() == 0) {
			struct timespec timeout = { .tv_sec = 10 };
			sigset_t usr1;
			int sig;

			sigemptyset(&usr1);
			sigaddset(&usr1, SIGUSR1);
			sigprocmask(SIG_BLOCK, &usr1, NULL);
			prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0);
			write(ready[1], "r", 1);
			sig = sigtimedwait(&usr1, NULL, &timeout);
			dprintf(result[1], "parent death signal: %s\n",
				sig == SIGUSR1 ? "SIGUSR1" : strerrorname_np(errno));
			_exit(0);
		}
		read(ready[0], line, 1);
		_exit(0);
	}
	close(result[1]);
	waitpid(middle, NULL, 0);
	got = read(result[0], line, sizeof(line) - 1);
	printf("%s", got > 0 ? line : "parent death signal: no report\n");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	scheduling();
	priority_and_policy();
	restartable_sequences();
	memory_barriers();
	process_controls();
	child_controls();
	parent_death_signal();
	printf("surface: done\n");
	return 0;
}
