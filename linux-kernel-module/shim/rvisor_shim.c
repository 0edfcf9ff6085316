// SPDX-License-Identifier: GPL-2.0
/*
 * rVisor C shim: the only C in the project. It owns module init/exit, the trampolines of every
 * callback the kernel makes into rVisor, and thin wrappers over kernel APIs whose shape changes
 * between kernel versions (macros, inline functions, structure fields). Policy lives in Rust.
 */
#define pr_fmt(fmt) "rvisor: " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/version.h>
#include <linux/slab.h>
#include <linux/log2.h>
#include <linux/printk.h>
#include <linux/ratelimit.h>
#include <linux/uaccess.h>
#include <linux/delay.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/kprobes.h>
#include <linux/ftrace.h>
#include <linux/tracepoint.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#include <linux/filelock.h>
#endif
#include <linux/dirent.h>
#include <linux/file.h>
#include <linux/fdtable.h>
#include <linux/namei.h>
#include <linux/dcache.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <linux/audit.h>
#include <linux/utsname.h>
#include <linux/statfs.h>
#include <linux/shmem_fs.h>
#include <linux/memfd.h>
#include <uapi/linux/memfd.h>
#include <linux/falloc.h>
#include <linux/timekeeping.h>
#include <linux/wait.h>
#include <linux/mount.h>
#include <linux/fs_context.h>
#include <linux/xattr.h>
#include <uapi/linux/magic.h>
#include <linux/task_work.h>
#include <linux/random.h>
#include <linux/poll.h>
#include <uapi/linux/signalfd.h>
#include <linux/anon_inodes.h>
#include <linux/elf.h>
#include <linux/sched/cputime.h>
#include <linux/wait.h>
#include <uapi/linux/wait.h>
#include <linux/sched/mm.h>
#include <linux/sched/loadavg.h>
#include <linux/vmstat.h>
#include <linux/oom.h>
#include <asm/processor.h>
#include <asm/cpufeature.h>
#include <linux/topology.h>
#include <asm/syscall.h>

#include "rvisor_shim.h"
#include "uapi/linux/rvisor.h"

static_assert(sizeof(struct rvisor_pt_regs) == sizeof(struct pt_regs));
static_assert(offsetof(struct rvisor_pt_regs, r10) == offsetof(struct pt_regs, r10));
static_assert(offsetof(struct rvisor_pt_regs, ax) == offsetof(struct pt_regs, ax));
static_assert(offsetof(struct rvisor_pt_regs, di) == offsetof(struct pt_regs, di));
static_assert(offsetof(struct rvisor_pt_regs, orig_ax) == offsetof(struct pt_regs, orig_ax));
static_assert(offsetof(struct rvisor_pt_regs, ip) == offsetof(struct pt_regs, ip));
static_assert(offsetof(struct rvisor_pt_regs, ss) == offsetof(struct pt_regs, ss));
static_assert(RVISOR_UTS_LEN == __NEW_UTS_LEN + 1);

/* ---------------------------------------------------------------- memory */

/* kmalloc aligns to ARCH_KMALLOC_MINALIGN, and power-of-two sizes to their size. */
static unsigned long aligned_size(unsigned long size, unsigned long align)
{
	if (align > ARCH_KMALLOC_MINALIGN)
		return roundup_pow_of_two(max(size, align));
	return size;
}

/* __GFP_NOWARN: a size a user asked for must not print an allocation-failure warning. */
void *rvisor_kmalloc(unsigned long size, unsigned long align)
{
	return kmalloc(aligned_size(size, align), GFP_KERNEL | __GFP_NOWARN);
}

void *notrace rvisor_kmalloc_atomic(unsigned long size, unsigned long align)
{
	return kmalloc(aligned_size(size, align), GFP_ATOMIC | __GFP_NOWARN);
}

void *rvisor_krealloc(void *p, unsigned long size)
{
	return krealloc(p, size, GFP_KERNEL | __GFP_NOWARN);
}

void notrace rvisor_kfree(const void *p)
{
	kfree(p);
}

/* ---------------------------------------------------------------- logging */

void rvisor_printk(int level, const char *msg, unsigned long len)
{
	int n = (int)min_t(unsigned long, len, 1024);

	switch (level) {
	case RVISOR_LOG_ERR:
		pr_err("%.*s\n", n, msg);
		break;
	case RVISOR_LOG_WARNING:
		pr_warn("%.*s\n", n, msg);
		break;
	case RVISOR_LOG_NOTICE:
		pr_notice("%.*s\n", n, msg);
		break;
	case RVISOR_LOG_INFO:
		pr_info("%.*s\n", n, msg);
		break;
	default:
		pr_debug("%.*s\n", n, msg);
		break;
	}
}

void __noreturn rvisor_bug(const char *msg, unsigned long len)
{
	pr_emerg("%.*s\n", (int)min_t(unsigned long, len, 1024), msg);
	BUG();
}

/* ---------------------------------------------------------------- user memory */

unsigned long notrace rvisor_copy_from_user(void *dst, unsigned long src, unsigned long n)
{
	return copy_from_user(dst, (const void __user *)src, n);
}

unsigned long notrace rvisor_copy_to_user(unsigned long dst, const void *src, unsigned long n)
{
	return copy_to_user((void __user *)dst, src, n);
}

long rvisor_strncpy_from_user(char *dst, unsigned long src, long n)
{
	return strncpy_from_user(dst, (const char __user *)src, n);
}

/* ---------------------------------------------------------------- scheduling */

void notrace rvisor_preempt_disable(void)
{
	preempt_disable_notrace();
}

void notrace rvisor_preempt_enable(void)
{
	preempt_enable_notrace();
}

bool rvisor_msleep_interruptible(unsigned int ms)
{
	msleep_interruptible(ms);
	return signal_pending(current);
}

bool rvisor_fatal_signal_pending(void)
{
	return fatal_signal_pending(current);
}

struct rvisor_mutex {
	struct mutex lock;
};

struct rvisor_mutex *rvisor_mutex_new(void)
{
	struct rvisor_mutex *m = kmalloc(sizeof(*m), GFP_KERNEL);

	if (m)
		mutex_init(&m->lock);
	return m;
}

void rvisor_mutex_lock(struct rvisor_mutex *m)
{
	mutex_lock(&m->lock);
}

void rvisor_mutex_unlock(struct rvisor_mutex *m)
{
	mutex_unlock(&m->lock);
}

void rvisor_mutex_free(struct rvisor_mutex *m)
{
	mutex_destroy(&m->lock);
	kfree(m);
}

bool rvisor_module_get(void)
{
	return try_module_get(THIS_MODULE);
}

void rvisor_module_put(void)
{
	module_put(THIS_MODULE);
}

/* ---------------------------------------------------------------- tasks */

struct task_struct *notrace rvisor_current(void)
{
	return current;
}

void rvisor_kill_current(void)
{
	send_sig(SIGKILL, current, 1);
}

struct task_struct *notrace rvisor_current_real_parent(void)
{
	/* Only compared as a key: the pointer is never dereferenced after the RCU section. */
	struct task_struct *p;

	rcu_read_lock();
	p = rcu_dereference(current->real_parent);
	rcu_read_unlock();
	return p;
}

int rvisor_task_host_pid(struct task_struct *t)
{
	return task_pid_nr(t);
}

int rvisor_task_tgid_vnr(struct task_struct *t)
{
	return task_tgid_vnr(t);
}

int rvisor_task_host_tgid(struct task_struct *t)
{
	return task_tgid_nr(t);
}

bool notrace rvisor_task_is_thread_group_leader(struct task_struct *t)
{
	return thread_group_leader(t);
}

void rvisor_set_clear_child_tid(unsigned long tidptr)
{
	current->clear_child_tid = (int __user *)tidptr;
}

bool rvisor_capable_sys_admin(void)
{
	return capable(CAP_SYS_ADMIN);
}

unsigned int rvisor_current_euid(void)
{
	return from_kuid_munged(current_user_ns(), current_euid());
}

unsigned int rvisor_kill_filter_members(const void *filter)
{
	struct task_struct *p, *t;
	unsigned int n = 0;

	rcu_read_lock();
	for_each_process_thread(p, t) {
		if (READ_ONCE(t->seccomp.filter) == filter) {
			send_sig(SIGKILL, t, 1);
			n++;
		}
	}
	rcu_read_unlock();
	return n;
}

unsigned int rvisor_current_threads(struct task_struct **out, unsigned int max)
{
	struct task_struct *t;
	unsigned int n = 0;

	rcu_read_lock();
	for_each_thread(current, t) {
		if (n < max) {
			get_task_struct(t);
			out[n] = t;
		}
		n++;
	}
	rcu_read_unlock();
	return n;
}

void rvisor_put_task(struct task_struct *t)
{
	put_task_struct(t);
}

void rvisor_get_task(struct task_struct *t)
{
	get_task_struct(t);
}

int rvisor_send_sigkill(struct task_struct *t)
{
	return send_sig(SIGKILL, t, 1);
}

/* ---------------------------------------------------------------- symbols */

/*
 * The address of a kernel symbol that is not exported, from a probe that is registered and removed
 * at once. Never call a function found this way unless it keeps its ENDBR (IBT seals the others).
 */
static unsigned long symbol_address(const char *name)
{
	struct kprobe kp = { .symbol_name = name };
	unsigned long addr;

	if (register_kprobe(&kp) < 0)
		return 0;
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	return addr;
}

/* The function's entry for a call: kprobes place their address after an ENDBR64. */
static unsigned long function_entry(unsigned long addr)
{
	u32 insn;

	if (addr && !copy_from_kernel_nofault(&insn, (void *)(addr - 4), sizeof(insn)) &&
	    insn == 0xfa1e0ff3U /* endbr64 */)
		return addr - 4;
	return addr;
}

/* ---------------------------------------------------------------- the syscall gate */

static unsigned long secure_computing_addr;
/* __x64_sys_seccomp keeps its ENDBR (it is reached through the syscall dispatch). */
static long (*sys_seccomp)(const struct pt_regs *regs);
/* So does __x64_sys_mprotect: the HAL's PageTable::protect on the current process. */
static long (*sys_mprotect)(const struct pt_regs *regs);

/*
 * The process calls rVisor hands to the host once it has served their container side: they keep
 * their ENDBR (reached through the syscall dispatch) and take the user's registers.
 */
static long (*sys_clone)(const struct pt_regs *regs);
static long (*sys_exit)(const struct pt_regs *regs);
static long (*sys_exit_group)(const struct pt_regs *regs);
static long (*sys_wait4)(const struct pt_regs *regs);
static long (*sys_rt_tgsigqueueinfo)(const struct pt_regs *regs);
static long (*sys_prlimit64)(const struct pt_regs *regs);
static long (*sys_execveat)(const struct pt_regs *regs);
static long (*sys_sched_setaffinity)(const struct pt_regs *regs);
static long (*sys_capset)(const struct pt_regs *regs);

/*
 * The id calls: rVisor serves them by having the host apply them (its rules, capabilities and
 * LSM hooks included) and then mirroring the result. Indexed by enum rvisor_id_call.
 */
static const char *const id_call_names[RVISOR_ID_CALLS] = {
	[RVISOR_SETUID] = "__x64_sys_setuid",     [RVISOR_SETGID] = "__x64_sys_setgid",
	[RVISOR_SETREUID] = "__x64_sys_setreuid", [RVISOR_SETREGID] = "__x64_sys_setregid",
	[RVISOR_SETRESUID] = "__x64_sys_setresuid", [RVISOR_SETRESGID] = "__x64_sys_setresgid",
	[RVISOR_SETFSUID] = "__x64_sys_setfsuid", [RVISOR_SETFSGID] = "__x64_sys_setfsgid",
	[RVISOR_SETGROUPS] = "__x64_sys_setgroups",
};
static long (*id_calls[RVISOR_ID_CALLS])(const struct pt_regs *regs);

static int exec_stub_setup(void);
static void exec_stub_release(void);

static int resolve_process_calls(void)
{
	int i;

	sys_clone = (void *)function_entry(symbol_address("__x64_sys_clone"));
	sys_exit = (void *)function_entry(symbol_address("__x64_sys_exit"));
	sys_exit_group = (void *)function_entry(symbol_address("__x64_sys_exit_group"));
	sys_wait4 = (void *)function_entry(symbol_address("__x64_sys_wait4"));
	sys_rt_tgsigqueueinfo =
		(void *)function_entry(symbol_address("__x64_sys_rt_tgsigqueueinfo"));
	sys_prlimit64 = (void *)function_entry(symbol_address("__x64_sys_prlimit64"));
	sys_execveat = (void *)function_entry(symbol_address("__x64_sys_execveat"));
	sys_sched_setaffinity =
		(void *)function_entry(symbol_address("__x64_sys_sched_setaffinity"));
	sys_capset = (void *)function_entry(symbol_address("__x64_sys_capset"));
	if (!sys_clone || !sys_exit || !sys_exit_group || !sys_wait4 || !sys_rt_tgsigqueueinfo ||
	    !sys_prlimit64 || !sys_execveat || !sys_sched_setaffinity || !sys_capset) {
		pr_err("this kernel lacks one of the clone, exit, exit_group, wait4, rt_tgsigqueueinfo, prlimit64, execveat, sched_setaffinity and capset entries\n");
		return -ENOENT;
	}
	for (i = 0; i < RVISOR_ID_CALLS; i++) {
		id_calls[i] = (void *)function_entry(symbol_address(id_call_names[i]));
		if (!id_calls[i]) {
			pr_err("this kernel has no %s\n", id_call_names[i]);
			return -ENOENT;
		}
	}
	return 0;
}

/* Runs in place of __secure_computing for a call the gate takes over. */
static int notrace rvisor_gate_serve(const struct seccomp_data *sd)
{
	struct pt_regs *regs = task_pt_regs(current);

	regs->ax = rvisor_rs_gate_serve((struct rvisor_pt_regs *)regs, current,
					syscall_get_arch(current) == AUDIT_ARCH_I386);
	return -1; /* skip the syscall: the user sees regs->ax */
}

/* Runs in place of __secure_computing for a call the callback answered already. */
static int notrace rvisor_gate_answered(const struct seccomp_data *sd)
{
	return -1;
}

/*
 * How the callback makes the hooked call return into a replacement. Where ftrace passes
 * arguments (x86-64 since 5.11), its trampoline takes the callback's new instruction pointer
 * without saving every register first, as livepatch relies on: a third of the trampoline's
 * work saved on every gated syscall. Elsewhere the full registers are needed to change it.
 */
#if defined(CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS) && defined(ftrace_regs_set_instruction_pointer)
#define GATE_OPS_REGS 0
static __always_inline bool gate_redirect(struct ftrace_regs *fregs, void *to)
{
	ftrace_regs_set_instruction_pointer(fregs, (unsigned long)to);
	return true;
}
#elif defined(CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS) && defined(ftrace_instruction_pointer_set)
#define GATE_OPS_REGS 0
static __always_inline bool gate_redirect(struct ftrace_regs *fregs, void *to)
{
	ftrace_instruction_pointer_set(fregs, (unsigned long)to);
	return true;
}
#else
#define GATE_OPS_REGS FTRACE_OPS_FL_SAVE_REGS
static __always_inline bool gate_redirect(struct ftrace_regs *fregs, void *to)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);

	if (!regs)
		return false;
	regs->ip = (unsigned long)to;
	return true;
}
#endif

/*
 * The ftrace callback on __secure_computing: only tasks with a seccomp filter get here. Decides
 * at once and never calls the original through a pointer (its ENDBR is sealed on IBT kernels):
 * a call that is not taken over runs the original untouched.
 */
static void notrace rvisor_gate_ftrace(unsigned long ip, unsigned long parent_ip,
				       struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	struct pt_regs *user = task_pt_regs(current);
	struct rvisor_gate_decision decision;

	/* Rust takes its spin locks without toggling preemption itself on this path. */
	preempt_disable_notrace();
	decision = rvisor_rs_gate_decide((const struct rvisor_pt_regs *)user, current,
					 syscall_get_arch(current) == AUDIT_ARCH_I386);
	preempt_enable_notrace();
	switch (decision.verdict) {
	case RVISOR_GATE_SERVE:
		gate_redirect(fregs, rvisor_gate_serve);
		break;
	case RVISOR_GATE_RETURN:
		if (gate_redirect(fregs, rvisor_gate_answered))
			user->ax = decision.ret;
		break;
	default:
		break;
	}
}

/*
 * No FTRACE_OPS_FL_RECURSION: that flag makes ftrace call the callback through a helper that
 * guards against recursion (an indirect call and a per-task bit on every gated syscall). The
 * guard is not needed: the ops traces __secure_computing alone, which only the syscall entry
 * calls, and nothing the callback runs enters a syscall.
 */
static struct ftrace_ops gate_ops = {
	.func = rvisor_gate_ftrace,
	.flags = GATE_OPS_REGS | FTRACE_OPS_FL_IPMODIFY,
};

const void *notrace rvisor_task_seccomp_filter(struct task_struct *t)
{
	return READ_ONCE(t->seccomp.filter);
}

int rvisor_gate_attach(struct file **pin, const void **filter)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog;
	struct pt_regs args = {};
	struct file *listener;
	unsigned long page;
	long ret;

	if (!sys_seccomp)
		return -ENOSYS;
	/* seccomp() reads its program from user memory: lend the caller a page for it. */
	page = vm_mmap(NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(page))
		return (int)page;
	prog.len = 1;
	prog.filter = (struct sock_filter __user *)(page + 64);
	if (copy_to_user((void __user *)(page + 64), &allow, sizeof(allow)) ||
	    copy_to_user((void __user *)page, &prog, sizeof(prog))) {
		ret = -EFAULT;
		goto out;
	}
	task_set_no_new_privs(current);
	args.di = SECCOMP_SET_MODE_FILTER;
	/* every thread gets the gate; the listener's file holds the filter alive (the pin) */
	args.si = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC |
		  SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
	args.dx = page;
	ret = sys_seccomp(&args);
	if (ret < 0) {
		if (ret == -ESRCH)
			ret = -EBUSY;
		goto out;
	}
	listener = fget(ret);
	close_fd(ret);
	/* A listener's private data is its filter: this proves the file is the gate's own pin. */
	if (!listener || listener->private_data != READ_ONCE(current->seccomp.filter)) {
		if (listener)
			fput(listener);
		ret = -EBUSY;
		goto out;
	}
	*pin = listener;
	*filter = listener->private_data;
	ret = 0;
out:
	vm_munmap(page, PAGE_SIZE);
	return ret;
}

void rvisor_gate_release(struct file *pin)
{
	fput(pin);
}

/* ---------------------------------------------------------------- task lifecycle tracepoints */

static void notrace probe_fork(void *data, struct task_struct *parent, struct task_struct *child)
{
	rvisor_rs_task_fork(parent, child);
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 16, 0)
static void notrace probe_exit(void *data, struct task_struct *task, bool group_dead)
#else
static void notrace probe_exit(void *data, struct task_struct *task)
#endif
{
	rvisor_rs_task_exit(task);
}

static void notrace probe_exec(void *data, struct task_struct *task, pid_t old_pid,
			       struct linux_binprm *bprm)
{
	rvisor_rs_task_exec(task);
}

/* A SIGCHLD that reports a stop or a continue, sent by the task that stopped or continued (do_notify_parent_cldstop runs in it) to its parent. */
static void notrace probe_signal_generate(void *data, int sig, struct kernel_siginfo *info,
					  struct task_struct *task, int group, int result)
{
	if (sig != SIGCHLD || info == SEND_SIG_NOINFO || info == SEND_SIG_PRIV)
		return;
	if (info->si_code != CLD_STOPPED && info->si_code != CLD_CONTINUED)
		return;
	rvisor_rs_task_stop_report(current, task);
}

static struct {
	const char *name;
	void *probe;
	struct tracepoint *tp;
} tracepoints[] = {
	{ "sched_process_fork", probe_fork },
	{ "sched_process_exit", probe_exit },
	{ "sched_process_exec", probe_exec },
	{ "signal_generate", probe_signal_generate },
};

static void find_tracepoint(struct tracepoint *tp, void *unused)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(tracepoints); i++)
		if (!strcmp(tp->name, tracepoints[i].name))
			tracepoints[i].tp = tp;
}

static void unregister_tracepoints(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(tracepoints); i++)
		if (tracepoints[i].tp)
			tracepoint_probe_unregister(tracepoints[i].tp, tracepoints[i].probe, NULL);
	tracepoint_synchronize_unregister();
}

int rvisor_hooks_register(void)
{
	int i, ret;

	secure_computing_addr = symbol_address("__secure_computing");
	sys_seccomp = (void *)function_entry(symbol_address("__x64_sys_seccomp"));
	sys_mprotect = (void *)function_entry(symbol_address("__x64_sys_mprotect"));
	if (!secure_computing_addr || !sys_seccomp || !sys_mprotect) {
		pr_err("this kernel has no __secure_computing, seccomp() or mprotect(): CONFIG_SECCOMP_FILTER and kprobes are required\n");
		return -ENOENT;
	}
	ret = resolve_process_calls();
	if (ret)
		return ret;
	ret = exec_stub_setup();
	if (ret) {
		pr_err("the exec stub could not be made (%d)\n", ret);
		return ret;
	}
	for_each_kernel_tracepoint(find_tracepoint, NULL);
	for (i = 0; i < ARRAY_SIZE(tracepoints); i++) {
		if (!tracepoints[i].tp) {
			pr_err("tracepoint %s not found\n", tracepoints[i].name);
			ret = -ENOENT;
			goto fail;
		}
		ret = tracepoint_probe_register(tracepoints[i].tp, tracepoints[i].probe, NULL);
		if (ret) {
			pr_err("tracepoint %s: register failed (%d)\n", tracepoints[i].name, ret);
			tracepoints[i].tp = NULL;
			goto fail;
		}
	}
	ret = ftrace_set_filter_ip(&gate_ops, secure_computing_addr, 0, 0);
	if (ret) {
		pr_err("ftrace on __secure_computing refused (%d): is CONFIG_DYNAMIC_FTRACE_WITH_ARGS or _WITH_REGS set?\n", ret);
		goto fail;
	}
	ret = register_ftrace_function(&gate_ops);
	if (ret) {
		pr_err("ftrace hook refused (%d): another IPMODIFY user (livepatch?) holds __secure_computing\n", ret);
		ftrace_set_filter_ip(&gate_ops, secure_computing_addr, 1, 0);
		goto fail;
	}
	return 0;
fail:
	unregister_tracepoints();
	exec_stub_release();
	return ret;
}

void rvisor_hooks_unregister(void)
{
	unregister_ftrace_function(&gate_ops);
	ftrace_set_filter_ip(&gate_ops, secure_computing_addr, 1, 0);
	unregister_tracepoints();
	exec_stub_release();
}

/* ---------------------------------------------------------------- host paths */

/* Bindgen's view of struct rvisor_path: two pointers where the kernel has its struct path. */
static_assert(sizeof(struct path) == 2 * sizeof(void *));
static_assert(offsetof(struct rvisor_path, reader) == 2 * sizeof(void *));

/* Makes `out` the holder of `path`, a held reference it takes over. */
static void hold(struct rvisor_path *out, const struct path *path)
{
	out->path = *path;
	out->reader = NULL;
	out->writer = NULL;
}

int rvisor_path_lookup_dir(const char *name, struct rvisor_path *out)
{
	struct path path;
	int ret = kern_path(name, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &path);

	if (ret)
		return ret;
	hold(out, &path);
	return 0;
}

int rvisor_path_name(struct rvisor_path *p, char *buf, int len)
{
	char *name = d_path(&p->path, buf, len);

	if (IS_ERR(name))
		return PTR_ERR(name);
	memmove(buf, name, strlen(name) + 1);
	return 0;
}

void rvisor_path_put(struct rvisor_path *p)
{
	/* The contained processes' closes were reported as each of their descriptions ended. */
	if (p->reader) {
		rvisor_file_quiet(p->reader);
		fput(p->reader);
	}
	if (p->writer) {
		rvisor_file_quiet(p->writer);
		fput(p->writer);
	}
	path_put(&p->path);
}

/* ---------------------------------------------------------------- the HAL */

int rvisor_shmem_new(const char *name, __u64 size, struct file **out)
{
	struct file *f;

	if (size > MAX_LFS_FILESIZE)
		return -EFBIG;
	f = shmem_file_setup(name, size, VM_NORESERVE);
	if (IS_ERR(f))
		return PTR_ERR(f);
	*out = f;
	return 0;
}

void rvisor_file_put(struct file *f)
{
	fput(f);
}

long rvisor_file_read(struct file *f, __u64 offset, void *buf, unsigned long len)
{
	loff_t pos = offset;

	if (offset > LLONG_MAX)
		return -EOVERFLOW;
	return kernel_read(f, buf, len, &pos);
}

long rvisor_file_write(struct file *f, __u64 offset, const void *buf, unsigned long len)
{
	loff_t pos = offset;

	if (offset > LLONG_MAX)
		return -EOVERFLOW;
	return kernel_write(f, buf, len, &pos);
}

int rvisor_file_punch(struct file *f, __u64 offset, __u64 len)
{
	if (offset > LLONG_MAX || len > LLONG_MAX - offset)
		return -EOVERFLOW;
	return vfs_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, len);
}

int rvisor_vm_map_file(struct file *f, unsigned long addr, unsigned long len, unsigned int prot,
		       __u64 offset)
{
	unsigned long ret;

	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
		return -EINVAL;
	ret = vm_mmap(f, addr, len, prot, MAP_PRIVATE | MAP_FIXED_NOREPLACE, offset);
	if (IS_ERR_VALUE(ret))
		return (int)ret;
	if (ret != addr) { /* not possible with MAP_FIXED_NOREPLACE; never leave a stray mapping */
		vm_munmap(ret, len);
		return -ENOMEM;
	}
	return 0;
}

int rvisor_vm_unmap(unsigned long addr, unsigned long len)
{
	return vm_munmap(addr, len);
}

int rvisor_vm_protect(unsigned long addr, unsigned long len, unsigned int prot)
{
	struct pt_regs args = {};

	if (!sys_mprotect)
		return -ENOSYS;
	args.di = addr;
	args.si = len;
	args.dx = prot;
	return (int)sys_mprotect(&args);
}

int rvisor_vm_query(struct file *f, unsigned long addr, __u64 *offset, unsigned int *prot)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	int ret = -ENOENT;

	if (!mm)
		return -ENOENT;
	mmap_read_lock(mm);
	vma = find_vma(mm, addr);
	if (vma && vma->vm_start <= addr && vma->vm_file == f) {
		*offset = ((__u64)vma->vm_pgoff << PAGE_SHIFT) + (addr - vma->vm_start);
		*prot = ((vma->vm_flags & VM_READ) ? PROT_READ : 0) |
			((vma->vm_flags & VM_WRITE) ? PROT_WRITE : 0) |
			((vma->vm_flags & VM_EXEC) ? PROT_EXEC : 0);
		ret = 0;
	}
	mmap_read_unlock(mm);
	return ret;
}

long rvisor_vm_map_shared(struct file *f, unsigned long addr, unsigned long len,
			  unsigned int prot, unsigned int flags)
{
	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
		return -EINVAL;
	flags &= MAP_FIXED | MAP_FIXED_NOREPLACE;
	return (long)vm_mmap(f, addr, len, prot, MAP_SHARED | flags, 0);
}

long rvisor_vm_unmap_file_range(struct file *f, unsigned long addr, unsigned long size)
{
	enum { BATCH = 16 };
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long starts[BATCH], ends[BATCH];
	long done = 0;
	int n, i, err;

	if (!mm || addr + size < addr)
		return -EINVAL;
	do {
		/* Found under the lock, unmapped after it: vm_munmap takes it for writing. */
		n = 0;
		mmap_read_lock(mm);
		for (vma = find_vma(mm, addr); vma && vma->vm_start < addr + size && n < BATCH;
		     vma = find_vma(mm, vma->vm_end)) {
			if (vma->vm_file == f && vma->vm_start >= addr &&
			    (vma->vm_start - addr) >> PAGE_SHIFT == vma->vm_pgoff &&
			    vma->vm_end - addr <= size) {
				starts[n] = vma->vm_start;
				ends[n] = vma->vm_end;
				n++;
			}
		}
		mmap_read_unlock(mm);
		for (i = 0; i < n; i++) {
			err = vm_munmap(starts[i], ends[i] - starts[i]);
			if (err)
				return err;
			done++;
		}
	} while (n == BATCH);
	return done;
}

long rvisor_file_mappings(struct file *f)
{
	struct address_space *mapping = f->f_mapping;
	struct rb_node *node;
	long count = 0;

	/* Every shared mapping of the file is a node of the interval tree: walk it as the plain
	 * red-black tree it is (the interval iterators are not exported). */
	i_mmap_lock_read(mapping);
	for (node = rb_first_cached(&mapping->i_mmap); node; node = rb_next(node))
		count++;
	i_mmap_unlock_read(mapping);
	return count;
}

unsigned long rvisor_task_size(void)
{
	return TASK_SIZE;
}

__u64 rvisor_monotonic_ns(void)
{
	return ktime_get_ns();
}

__u64 rvisor_realtime_ns(void)
{
	return ktime_get_real_ns();
}

struct rvisor_parker {
	wait_queue_head_t wq;
	atomic_t notified;
};

struct rvisor_parker *rvisor_parker_new(void)
{
	struct rvisor_parker *p = kmalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return NULL;
	init_waitqueue_head(&p->wq);
	atomic_set(&p->notified, 0);
	return p;
}

void rvisor_parker_free(struct rvisor_parker *p)
{
	kfree(p);
}

int rvisor_parker_park(struct rvisor_parker *p, __s64 timeout_ns)
{
	long ret;

	if (timeout_ns < 0) {
		ret = wait_event_interruptible(p->wq, atomic_xchg(&p->notified, 0));
		return ret ? RVISOR_PARK_INTERRUPTED : RVISOR_PARK_UNPARKED;
	}
	ret = wait_event_interruptible_timeout(p->wq, atomic_xchg(&p->notified, 0),
					       nsecs_to_jiffies(timeout_ns));
	if (ret < 0)
		return RVISOR_PARK_INTERRUPTED;
	return ret ? RVISOR_PARK_UNPARKED : RVISOR_PARK_TIMED_OUT;
}

void rvisor_parker_unpark(struct rvisor_parker *p)
{
	atomic_set(&p->notified, 1);
	wake_up(&p->wq);
}

/* ---------------------------------------------------------------- the VFS under a root */

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define RVISOR_IDMAP(mnt) mnt_idmap(mnt)
#else
#define RVISOR_IDMAP(mnt) mnt_user_ns(mnt)
#endif

void rvisor_path_clone(struct rvisor_path *p, struct rvisor_path *out)
{
	path_get(&p->path);
	hold(out, &p->path);
}

/* Crosses the mounts stacked on `path` (a held reference, replaced in place). */
/*
 * The host kernel's own interfaces (its processes, devices, tracing, cgroups…) are not part of
 * a container's root, even when mounted inside it: their mount points show as the directories
 * beneath them. Their objects must not be reached either: /proc's magic links, for one, may only
 * be followed inside a path walk (nd_jump_link).
 */
static bool is_host_interface(const struct super_block *sb)
{
	switch (sb->s_magic) {
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case DEBUGFS_MAGIC:
	case TRACEFS_MAGIC:
	case SECURITYFS_MAGIC:
	case SELINUX_MAGIC:
	case SMACK_MAGIC:
	case CGROUP_SUPER_MAGIC:
	case CGROUP2_SUPER_MAGIC:
	case BPF_FS_MAGIC:
	case PSTOREFS_MAGIC:
	case EFIVARFS_MAGIC:
	case BINFMTFS_MAGIC:
		return true;
	default:
		return false;
	}
}

static int cross_mounts(struct path *path)
{
	struct path below = *path;
	int ret = 0;

	/* The common case: nothing is mounted here (and the object is on the directory's mount). */
	if (!d_mountpoint(path->dentry))
		return 0;
	path_get(&below);
	while (d_mountpoint(path->dentry)) {
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
		ret = follow_down(path, 0);
#else
		ret = follow_down(path);
#endif
		if (ret <= 0)
			break;
		ret = 0;
	}
	if (ret == 0 && is_host_interface(path->dentry->d_sb)) {
		path_put(path);
		*path = below;
		return 0;
	}
	path_put(&below);
	return ret;
}

/* Exported on every supported kernel; 6.1 declares it in fs/internal.h, not linux/namei.h. */
int vfs_path_lookup(struct dentry *dentry, struct vfsmount *mnt, const char *name,
		    unsigned int flags, struct path *path);

static int fill_stat(const struct path *path, struct rvisor_stat *out);

/*
 * Whether a walk that went down from `start` to `found` entered the mount of a host interface:
 * the mounts a descent enters are those from found's up to start's. Consumes `found`.
 */
static bool entered_host_interface(const struct path *start, struct path *found)
{
	bool entered = false;

	while (found->mnt != start->mnt) {
		/* The top reached without meeting start: mounts moved meanwhile; say so too. */
		if (is_host_interface(found->mnt->mnt_sb) || !follow_up(found)) {
			entered = true;
			break;
		}
	}
	path_put(found);
	return entered;
}

int rvisor_vfs_stat_beneath(struct rvisor_path *dir, const char *path, bool follow,
			    struct rvisor_stat *out)
{
	unsigned int flags = LOOKUP_NO_SYMLINKS | (follow ? LOOKUP_FOLLOW : 0);
	struct path found;
	int ret = vfs_path_lookup(dir->path.dentry, dir->path.mnt, path, flags, &found);

	/* A symbolic link on the way: the caller's walk follows it inside the root. */
	if (ret == -ELOOP)
		return 1;
	if (ret)
		return ret;
	/* Filled first, as the check lets go of the object; forgotten if the walk was not ours. */
	ret = fill_stat(&found, out);
	if (entered_host_interface(&dir->path, &found))
		return 1;
	return ret;
}

int rvisor_vfs_lookup(struct rvisor_path *dir, const char *name, int len,
		      struct rvisor_path *out, unsigned int *type)
{
	struct path found;
	struct dentry *dentry;
	int ret;

	dentry = lookup_one_unlocked(RVISOR_IDMAP(dir->path.mnt), name, dir->path.dentry, len);
	if (IS_ERR(dentry))
		return PTR_ERR(dentry);
	if (d_is_negative(dentry)) {
		dput(dentry);
		return -ENOENT;
	}
	found.mnt = mntget(dir->path.mnt);
	found.dentry = dentry;
	ret = cross_mounts(&found);
	if (ret < 0) {
		path_put(&found);
		return ret;
	}
	*type = d_inode(found.dentry)->i_mode & S_IFMT;
	hold(out, &found);
	return 0;
}

int rvisor_vfs_stat(struct rvisor_path *p, struct rvisor_stat *out)
{
	return fill_stat(&p->path, out);
}

int rvisor_vfs_ino(struct rvisor_path *p, __u64 *ino)
{
	struct kstat st;
	int ret = vfs_getattr(&p->path, &st, STATX_INO, AT_STATX_SYNC_AS_STAT);

	if (ret)
		return ret;
	*ino = st.ino;
	return 0;
}

/* fill_stat writes every byte of a struct rvisor_stat: it has no padding the compiler adds. */
static_assert(sizeof(struct rvisor_stat) == 5 * 8 + 6 * 4 + 3 * 8 + 4 * 4);

static int fill_stat(const struct path *path, struct rvisor_stat *out)
{
	/* Not zeroed on entry (auto-init of stack variables): vfs_getattr zeroes it first. */
	struct kstat st __attribute__((uninitialized));
	int ret = vfs_getattr(path, &st, STATX_BASIC_STATS, AT_STATX_SYNC_AS_STAT);

	if (ret)
		return ret;
	/* Every field, padding included: Rust reads the result without zeroing it first. */
	out->ino = st.ino;
	out->dev = new_encode_dev(st.dev);
	out->rdev = new_encode_dev(st.rdev);
	out->size = st.size;
	out->blocks = st.blocks;
	out->mode = st.mode;
	out->nlink = st.nlink;
	out->uid = from_kuid_munged(current_user_ns(), st.uid);
	out->gid = from_kgid_munged(current_user_ns(), st.gid);
	out->blksize = st.blksize;
	out->atime_sec = st.atime.tv_sec;
	out->atime_nsec = st.atime.tv_nsec;
	out->mtime_sec = st.mtime.tv_sec;
	out->mtime_nsec = st.mtime.tv_nsec;
	out->ctime_sec = st.ctime.tv_sec;
	out->ctime_nsec = st.ctime.tv_nsec;
	out->pad = 0;
	out->pad2 = 0;
	return 0;
}

int rvisor_vfs_readlink(struct rvisor_path *p, char *buf, int len)
{
	DEFINE_DELAYED_CALL(done);
	const char *target;
	int target_len;

	if (!d_is_symlink(p->path.dentry))
		return -EINVAL;
	target = vfs_get_link(p->path.dentry, &done);
	if (IS_ERR(target))
		return PTR_ERR(target);
	target_len = strlen(target);
	if (target_len > len) {
		do_delayed_call(&done);
		return -ENAMETOOLONG;
	}
	memcpy(buf, target, target_len);
	do_delayed_call(&done);
	return target_len;
}

/* The path's file opened with `flags`, opened once and kept (the first opener wins a race). */
static struct file *opened(struct rvisor_path *p, struct file **slot, int flags)
{
	struct file *file = READ_ONCE(*slot);

	if (file)
		return file;
	file = rvisor_quiet_dentry_open(&p->path, flags | O_LARGEFILE | O_NONBLOCK | O_NOATIME);
	if (IS_ERR(file))
		return file;
	if (cmpxchg(slot, NULL, file) != NULL) {
		fput(file);
		file = READ_ONCE(*slot);
	}
	return file;
}

long rvisor_vfs_read(struct rvisor_path *p, __u64 offset, void *buf, unsigned long len)
{
	struct file *file = opened(p, &p->reader, O_RDONLY);
	loff_t pos = offset;

	if (IS_ERR(file))
		return PTR_ERR(file);
	if (offset > LLONG_MAX)
		return -EOVERFLOW;
	return kernel_read(file, buf, len, &pos);
}

long rvisor_vfs_write(struct rvisor_path *p, __u64 offset, const void *buf, unsigned long len)
{
	struct file *file = opened(p, &p->writer, O_WRONLY);
	loff_t pos = offset;

	if (IS_ERR(file))
		return PTR_ERR(file);
	if (offset > LLONG_MAX)
		return -EOVERFLOW;
	return kernel_write(file, buf, len, &pos);
}

/* Reads or writes a regular file straight from or into the caller's memory, as read(2) does. */
static long transfer_user(struct rvisor_path *p, __u64 offset, unsigned long user,
			  unsigned long len, bool write)
{
	struct file *file = write ? opened(p, &p->writer, O_WRONLY) : opened(p, &p->reader, O_RDONLY);
	void __user *buf = (void __user *)user;
	struct iov_iter iter;
	loff_t pos = offset;

	if (IS_ERR(file))
		return PTR_ERR(file);
	if (offset > LLONG_MAX)
		return -EOVERFLOW;
	if (!access_ok(buf, len))
		return -EFAULT;
	iov_iter_ubuf(&iter, write ? ITER_SOURCE : ITER_DEST, buf, len);
	return write ? vfs_iter_write(file, &iter, &pos, 0) : vfs_iter_read(file, &iter, &pos, 0);
}

long rvisor_vfs_read_user(struct rvisor_path *p, __u64 offset, unsigned long user,
			  unsigned long len)
{
	return transfer_user(p, offset, user, len, false);
}

long rvisor_vfs_write_user(struct rvisor_path *p, __u64 offset, unsigned long user,
			   unsigned long len)
{
	return transfer_user(p, offset, user, len, true);
}

int rvisor_vfs_truncate(struct rvisor_path *p, __u64 len)
{
	if (len > LLONG_MAX)
		return -EINVAL;
	return vfs_truncate(&p->path, len);
}

int rvisor_vfs_fsync(struct rvisor_path *p, bool data_only)
{
	struct file *file = opened(p, &p->reader, O_RDONLY);

	if (IS_ERR(file))
		return PTR_ERR(file);
	return vfs_fsync(file, data_only);
}

/* ------------------------------------------------------------ record locks */

/* struct file_lock's common fields moved into `struct file_lock_core c` in 6.9. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
#define RV_FL(fl, field) ((fl)->c.flc_##field)
#else
#define RV_FL(fl, field) ((fl)->fl_##field)
#endif

/* A host file of the object to lock through: one already opened if there is one (the lock
 * table is the inode's, whichever file is used), else one opened for `write` or for reading
 * (the other mode as a fallback: a directory opens for reading only). */
static struct file *lock_file(struct rvisor_path *p, bool write)
{
	struct file *mine = write ? READ_ONCE(p->writer) : READ_ONCE(p->reader);
	struct file *other = write ? READ_ONCE(p->reader) : READ_ONCE(p->writer);
	struct file *file;

	if (mine)
		return mine;
	file = other;
	if (file)
		return file;
	file = write ? opened(p, &p->writer, O_WRONLY) : opened(p, &p->reader, O_RDONLY);
	if (!IS_ERR(file))
		return file;
	return write ? opened(p, &p->reader, O_RDONLY) : opened(p, &p->writer, O_WRONLY);
}

int rvisor_vfs_lock(struct rvisor_path *p, int op, bool ofd, unsigned long owner,
		    struct rvisor_lock *lk)
{
	struct file_lock fl;
	struct file *file;
	int ret;

	if (lk->type != F_RDLCK && lk->type != F_WRLCK && lk->type != F_UNLCK)
		return -EINVAL;
	if (lk->start < 0 || lk->end < lk->start)
		return -EINVAL;
	file = lock_file(p, lk->type == F_WRLCK);
	if (IS_ERR(file))
		return PTR_ERR(file);
	locks_init_lock(&fl);
	fl.fl_start = lk->start;
	fl.fl_end = lk->end;
	RV_FL(&fl, type) = lk->type;
	RV_FL(&fl, owner) = (fl_owner_t)owner;
	RV_FL(&fl, pid) = current->tgid;
	RV_FL(&fl, file) = file;
	RV_FL(&fl, flags) = FL_POSIX | (ofd ? FL_OFDLCK : 0);

	if (op == RVISOR_LOCK_TEST) {
		ret = vfs_test_lock(file, &fl);
		if (ret)
			return ret;
		lk->type = RV_FL(&fl, type);
		if (lk->type != F_UNLCK) {
			lk->start = fl.fl_start;
			lk->end = fl.fl_end;
			/* locks_translate_pid: an OFD lock has no process. */
			lk->pid = (RV_FL(&fl, flags) & FL_OFDLCK) ? -1 : RV_FL(&fl, pid);
		}
		locks_release_private(&fl);
		return 0;
	}

	/* security_file_lock (an LSM's say) is not exported: the hook is not consulted. */
	if (op == RVISOR_LOCK_WAIT)
		RV_FL(&fl, flags) |= FL_SLEEP;
	/* do_lock_file_wait: a deferred request waits until it is unblocked, then tries again. */
	for (;;) {
		ret = vfs_lock_file(file, op == RVISOR_LOCK_WAIT ? F_SETLKW : F_SETLK, &fl, NULL);
		if (ret != FILE_LOCK_DEFERRED)
			break;
		ret = wait_event_interruptible(RV_FL(&fl, wait),
					       list_empty(&RV_FL(&fl, blocked_member)));
		if (ret)
			break;
	}
	locks_delete_block(&fl);
	locks_release_private(&fl);
	return ret;
}

void rvisor_vfs_unlock_owner(struct rvisor_path *p, unsigned long owner)
{
	struct inode *inode = d_inode(p->path.dentry);
	struct file_lock_context *ctx = inode ? smp_load_acquire(&inode->i_flctx) : NULL;
	struct file *file;

	/* locks_remove_posix's own test, made before any file is opened for it. */
	if (!ctx || list_empty(&ctx->flc_posix))
		return;
	file = READ_ONCE(p->reader);
	if (!file)
		file = READ_ONCE(p->writer);
	if (!file)
		file = lock_file(p, false);
	if (IS_ERR(file))
		return;
	locks_remove_posix(file, (fl_owner_t)owner);
}

int rvisor_vfs_syncfs(struct rvisor_path *p)
{
	struct super_block *sb = p->path.dentry->d_sb;
	int ret;

	down_read(&sb->s_umount);
	ret = sync_filesystem(sb);
	up_read(&sb->s_umount);
	return ret;
}

int rvisor_vfs_statfs(struct rvisor_path *p, struct rvisor_statfs *out)
{
	struct kstatfs st;
	int ret = vfs_statfs(&p->path, &st);

	if (ret)
		return ret;
	out->type = st.f_type;
	out->bsize = st.f_bsize;
	out->blocks = st.f_blocks;
	out->bfree = st.f_bfree;
	out->bavail = st.f_bavail;
	out->files = st.f_files;
	out->ffree = st.f_ffree;
	out->namelen = st.f_namelen;
	out->frsize = st.f_frsize;
	out->flags = st.f_flags;
	return 0;
}

/*
 * The parent-locked section every entry change goes through: write access to the mount, the
 * directory's inode lock, and the (possibly negative) dentry of `name` in it.
 */
struct locked_entry {
	struct rvisor_path *dir;
	struct dentry *dentry;
};

static int lock_entry(struct rvisor_path *dir, const char *name, int len, struct locked_entry *e)
{
	int ret = mnt_want_write(dir->path.mnt);

	if (ret)
		return ret;
	inode_lock_nested(d_inode(dir->path.dentry), I_MUTEX_PARENT);
	e->dir = dir;
	e->dentry = lookup_one_len(name, dir->path.dentry, len);
	if (IS_ERR(e->dentry)) {
		ret = PTR_ERR(e->dentry);
		inode_unlock(d_inode(dir->path.dentry));
		mnt_drop_write(dir->path.mnt);
		return ret;
	}
	return 0;
}

static void unlock_entry(struct locked_entry *e)
{
	dput(e->dentry);
	inode_unlock(d_inode(e->dir->path.dentry));
	mnt_drop_write(e->dir->path.mnt);
}

/* A holder for the new object `dentry` of `dir`'s mount. */
static void hold_new(struct rvisor_path *dir, struct dentry *dentry, struct rvisor_path *out)
{
	struct path path = { .mnt = dir->path.mnt, .dentry = dentry };

	path_get(&path);
	hold(out, &path);
}

int rvisor_vfs_create(struct rvisor_path *dir, const char *name, int len, unsigned int mode,
		      struct rvisor_path *out)
{
	struct inode *dir_inode = d_inode(dir->path.dentry);
	struct locked_entry e;
	int ret = lock_entry(dir, name, len, &e);

	if (ret)
		return ret;
	if (d_really_is_positive(e.dentry)) {
		ret = -EEXIST;
		goto out;
	}
	switch (mode & S_IFMT) {
	case S_IFREG:
		ret = vfs_create(RVISOR_IDMAP(dir->path.mnt), dir_inode, e.dentry, mode, true);
		break;
	case S_IFDIR:
		ret = vfs_mkdir(RVISOR_IDMAP(dir->path.mnt), dir_inode, e.dentry, mode & 07777);
		break;
	case S_IFIFO:
	case S_IFSOCK:
		ret = vfs_mknod(RVISOR_IDMAP(dir->path.mnt), dir_inode, e.dentry, mode, 0);
		break;
	default:
		ret = -EPERM;
		break;
	}
	if (!ret && d_really_is_negative(e.dentry))
		ret = -ENOENT; /* a filesystem that left the dentry unhashed: look it up again */
	if (!ret)
		hold_new(dir, e.dentry, out);
out:
	unlock_entry(&e);
	return ret;
}

int rvisor_vfs_symlink(struct rvisor_path *dir, const char *name, int len, const char *target,
		       struct rvisor_path *out)
{
	struct locked_entry e;
	int ret = lock_entry(dir, name, len, &e);

	if (ret)
		return ret;
	if (d_really_is_positive(e.dentry))
		ret = -EEXIST;
	else
		ret = vfs_symlink(RVISOR_IDMAP(dir->path.mnt), d_inode(dir->path.dentry), e.dentry,
				  target);
	if (!ret && d_really_is_negative(e.dentry))
		ret = -ENOENT;
	if (!ret)
		hold_new(dir, e.dentry, out);
	unlock_entry(&e);
	return ret;
}

int rvisor_vfs_link(struct rvisor_path *target, struct rvisor_path *dir, const char *name,
		    int len)
{
	struct locked_entry e;
	int ret;

	if (target->path.mnt != dir->path.mnt)
		return -EXDEV;
	ret = lock_entry(dir, name, len, &e);
	if (ret)
		return ret;
	if (d_really_is_positive(e.dentry))
		ret = -EEXIST;
	else
		ret = vfs_link(target->path.dentry, RVISOR_IDMAP(dir->path.mnt),
			       d_inode(dir->path.dentry), e.dentry, NULL);
	unlock_entry(&e);
	return ret;
}

int rvisor_vfs_unlink(struct rvisor_path *dir, const char *name, int len, bool is_dir)
{
	struct locked_entry e;
	int ret = lock_entry(dir, name, len, &e);

	if (ret)
		return ret;
	if (d_really_is_negative(e.dentry))
		ret = -ENOENT;
	else if (is_dir)
		ret = d_is_dir(e.dentry) ?
			      vfs_rmdir(RVISOR_IDMAP(dir->path.mnt), d_inode(dir->path.dentry),
					e.dentry) :
			      -ENOTDIR;
	else
		ret = d_is_dir(e.dentry) ? -EISDIR :
					   vfs_unlink(RVISOR_IDMAP(dir->path.mnt),
						      d_inode(dir->path.dentry), e.dentry, NULL);
	unlock_entry(&e);
	return ret;
}

int rvisor_vfs_rename(struct rvisor_path *old_dir, const char *old_name, int old_len,
		      struct rvisor_path *new_dir, const char *new_name, int new_len)
{
	struct renamedata rd = {};
	struct dentry *trap, *old_dentry, *new_dentry;
	int ret;

	if (old_dir->path.mnt != new_dir->path.mnt)
		return -EXDEV;
	ret = mnt_want_write(old_dir->path.mnt);
	if (ret)
		return ret;
	trap = lock_rename(new_dir->path.dentry, old_dir->path.dentry);
	if (IS_ERR(trap)) { /* 6.7+: the directories changed parents under us */
		ret = PTR_ERR(trap);
		goto drop_write;
	}
	old_dentry = lookup_one_len(old_name, old_dir->path.dentry, old_len);
	if (IS_ERR(old_dentry)) {
		ret = PTR_ERR(old_dentry);
		goto unlock;
	}
	ret = -ENOENT;
	if (d_really_is_negative(old_dentry))
		goto put_old;
	/* Moving a directory into itself or below it. */
	ret = -EINVAL;
	if (old_dentry == trap)
		goto put_old;
	new_dentry = lookup_one_len(new_name, new_dir->path.dentry, new_len);
	if (IS_ERR(new_dentry)) {
		ret = PTR_ERR(new_dentry);
		goto put_old;
	}
	ret = -ENOTEMPTY;
	if (new_dentry == trap)
		goto put_new;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	rd.old_mnt_idmap = RVISOR_IDMAP(old_dir->path.mnt);
	rd.new_mnt_idmap = RVISOR_IDMAP(new_dir->path.mnt);
#else
	rd.old_mnt_userns = RVISOR_IDMAP(old_dir->path.mnt);
	rd.new_mnt_userns = RVISOR_IDMAP(new_dir->path.mnt);
#endif
	rd.old_dir = d_inode(old_dir->path.dentry);
	rd.old_dentry = old_dentry;
	rd.new_dir = d_inode(new_dir->path.dentry);
	rd.new_dentry = new_dentry;
	ret = vfs_rename(&rd);
put_new:
	dput(new_dentry);
put_old:
	dput(old_dentry);
unlock:
	if (!IS_ERR(trap))
		unlock_rename(new_dir->path.dentry, old_dir->path.dentry);
drop_write:
	mnt_drop_write(old_dir->path.mnt);
	return ret;
}

struct readdir_ctx {
	struct dir_context ctx;
	char *buf;
	unsigned long len;
	unsigned long used;
	bool full;
};

static bool fill_dirent(struct dir_context *ctx, const char *name, int name_len, loff_t offset,
			u64 ino, unsigned int d_type)
{
	struct readdir_ctx *r = container_of(ctx, struct readdir_ctx, ctx);
	unsigned long size = ALIGN(offsetof(struct linux_dirent64, d_name) + name_len + 1, 8);
	struct linux_dirent64 *d;

	if (r->used + size > r->len) {
		r->full = true;
		return false;
	}
	d = (struct linux_dirent64 *)(r->buf + r->used);
	/* Every byte of the record is written, the name's NUL and padding too (the caller reads a
	 * buffer it did not clear): the last 8 bytes (aligned, as records are) are cleared first,
	 * then the fields and the name written over them. A store, not a memset: this kernel's
	 * memset is a call even for 8 bytes. */
	*(u64 *)((char *)d + size - 8) = 0;
	d->d_ino = ino;
	d->d_off = offset;
	d->d_reclen = size;
	d->d_type = d_type;
	memcpy(d->d_name, name, name_len);
	r->used += size;
	return true;
}

long rvisor_vfs_readdir(struct rvisor_path *dir, __s64 *pos, void *buf, unsigned long len,
			bool *end)
{
	struct readdir_ctx r = { .ctx.actor = fill_dirent, .buf = buf, .len = len };
	struct file *file;
	loff_t before;
	int ret;

	*end = false;
	file = rvisor_quiet_dentry_open(&dir->path, O_RDONLY | O_DIRECTORY | O_LARGEFILE);
	if (IS_ERR(file))
		return PTR_ERR(file);
	r.ctx.pos = *pos;
	/* A filesystem may stop a round before its end with room left (FUSE lists a page per
	 * round): rounds go on until the buffer is full or one moves the position no further. */
	do {
		before = r.ctx.pos;
		file->f_pos = r.ctx.pos;
		ret = iterate_dir(file, &r.ctx);
	} while (ret >= 0 && !r.full && r.ctx.pos != before);
	*pos = r.ctx.pos;
	/* Opened for this listing only: the directory's open and close are its descriptions'. */
	rvisor_file_quiet(file);
	fput(file);
	if (ret < 0)
		return ret;
	if (r.used == 0 && r.full)
		return -EINVAL;
	*end = !r.full;
	return r.used;
}

int rvisor_vfs_setattr(struct rvisor_path *p, const struct rvisor_setattr *attr)
{
	struct dentry *dentry = p->path.dentry;
	struct iattr ia = {};
	int ret;

	if (attr->valid & RVISOR_SET_MODE) {
		ia.ia_valid |= ATTR_MODE;
		ia.ia_mode = (attr->mode & 07777) | (d_inode(dentry)->i_mode & S_IFMT);
	}
	if (attr->valid & RVISOR_SET_UID) {
		ia.ia_valid |= ATTR_UID;
		ia.ia_vfsuid = VFSUIDT_INIT(make_kuid(current_user_ns(), attr->uid));
	}
	if (attr->valid & RVISOR_SET_GID) {
		ia.ia_valid |= ATTR_GID;
		ia.ia_vfsgid = VFSGIDT_INIT(make_kgid(current_user_ns(), attr->gid));
	}
	if (attr->valid & RVISOR_SET_ATIME_NOW) {
		ia.ia_valid |= ATTR_ATIME;
	} else if (attr->valid & RVISOR_SET_ATIME) {
		ia.ia_valid |= ATTR_ATIME | ATTR_ATIME_SET;
		ia.ia_atime.tv_sec = attr->atime_sec;
		ia.ia_atime.tv_nsec = attr->atime_nsec;
	}
	if (attr->valid & RVISOR_SET_MTIME_NOW) {
		ia.ia_valid |= ATTR_MTIME;
	} else if (attr->valid & RVISOR_SET_MTIME) {
		ia.ia_valid |= ATTR_MTIME | ATTR_MTIME_SET;
		ia.ia_mtime.tv_sec = attr->mtime_sec;
		ia.ia_mtime.tv_nsec = attr->mtime_nsec;
	}
	if (ia.ia_valid & (ATTR_ATIME | ATTR_MTIME))
		ia.ia_valid |= ATTR_CTIME;
	if (!ia.ia_valid)
		return 0;
	ret = mnt_want_write(p->path.mnt);
	if (ret)
		return ret;
	inode_lock(d_inode(dentry));
	ret = notify_change(RVISOR_IDMAP(p->path.mnt), dentry, &ia, NULL);
	inode_unlock(d_inode(dentry));
	mnt_drop_write(p->path.mnt);
	return ret;
}

/* ---------------------------------------------------------------- unnamed files */

int rvisor_vfs_tmpfile(struct rvisor_path *dir, unsigned int mode, bool exclusive,
		       struct rvisor_path *out)
{
	int flags = O_RDWR | (exclusive ? O_EXCL : 0);
	struct file *file;
	int ret = mnt_want_write(dir->path.mnt);

	if (ret)
		return ret;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	file = kernel_tmpfile_open(RVISOR_IDMAP(dir->path.mnt), &dir->path, S_IFREG | mode, flags,
				   current_cred());
#else
	file = vfs_tmpfile_open(RVISOR_IDMAP(dir->path.mnt), &dir->path, S_IFREG | mode, flags,
				current_cred());
#endif
	mnt_drop_write(dir->path.mnt);
	if (IS_ERR(file))
		return PTR_ERR(file);
	/* The object is kept by its path; the file that made it goes. */
	path_get(&file->f_path);
	hold(out, &file->f_path);
	fput(file);
	return 0;
}

/* ---------------------------------------------------------------- memfd */

/* The seals Linux's memfd knows (F_ALL_SEALS of mm/memfd.c, which gained F_SEAL_EXEC in 6.3). */
#ifdef F_SEAL_EXEC
#define RVISOR_ALL_SEALS                                                                   \
	(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | \
	 F_SEAL_EXEC)
#else
#define RVISOR_ALL_SEALS \
	(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)
#endif

unsigned int rvisor_memfd_flags(void)
{
	unsigned int flags = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB;

#ifdef MFD_NOEXEC_SEAL
	flags |= MFD_EXEC | MFD_NOEXEC_SEAL;
#endif
	return flags;
}

int rvisor_memfd_new(const char *name, unsigned int flags, struct rvisor_path *root,
		     struct rvisor_path *out)
{
	struct file *file = shmem_file_setup(name, 0, VM_NORESERVE);
	struct inode *inode;
	struct path mount_root;

	if (IS_ERR(file))
		return PTR_ERR(file);
	inode = file_inode(file);
#ifdef MFD_NOEXEC_SEAL
	if (flags & MFD_NOEXEC_SEAL) {
		inode->i_mode &= ~0111;
		SHMEM_I(inode)->seals = (SHMEM_I(inode)->seals & ~F_SEAL_SEAL) | F_SEAL_EXEC;
	} else if (flags & MFD_ALLOW_SEALING) {
		SHMEM_I(inode)->seals &= ~F_SEAL_SEAL;
	}
#else
	if (flags & MFD_ALLOW_SEALING)
		SHMEM_I(inode)->seals &= ~F_SEAL_SEAL;
#endif
	mount_root.mnt = file->f_path.mnt;
	mount_root.dentry = file->f_path.mnt->mnt_root;
	path_get(&mount_root);
	hold(root, &mount_root);
	path_get(&file->f_path);
	hold(out, &file->f_path);
	/* The memfd's own file, open for reading and writing yet counted as no writer (shmem's
	 * files are made so), does the holder's I/O and mappings: a file opened for writing
	 * would count as one, and running the memfd (execveat) would be ETXTBSY. */
	out->reader = get_file(file);
	out->writer = file;
	return 0;
}

int rvisor_vfs_seals(struct rvisor_path *p, bool adding, unsigned int seals)
{
	struct inode *inode = d_inode(p->path.dentry);
	unsigned int *held;
	int ret = 0;

	if (adding && (seals & ~(unsigned int)RVISOR_ALL_SEALS))
		return -EINVAL;
	/* Where memfd_file_seals_ptr finds seals: a shmem regular file. */
	if (inode->i_sb->s_magic != TMPFS_MAGIC || !S_ISREG(inode->i_mode))
		return -EINVAL;
	held = &SHMEM_I(inode)->seals;
	if (!adding)
		return READ_ONCE(*held);
	inode_lock(inode);
	if (*held & F_SEAL_SEAL) {
		ret = -EPERM;
		goto unlock;
	}
#ifdef F_SEAL_EXEC
	/* Sealing an executable file's mode seals its contents too (W^X from then on). */
	if ((seals & F_SEAL_EXEC) && (inode->i_mode & 0111))
		seals |= F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
#endif
	/* No new writable shared mapping from now on, and none may exist now (EBUSY). Pages
	 * pinned by direct I/O are not waited for, as memfd_wait_for_pins would. */
	if ((seals & F_SEAL_WRITE) && !(*held & F_SEAL_WRITE)) {
		ret = mapping_deny_writable(inode->i_mapping);
		if (ret)
			goto unlock;
	}
	*held |= seals;
unlock:
	inode_unlock(inode);
	return ret;
}

/* ---------------------------------------------------------------- extended attributes */

/* Each with the caller's credentials, the host's permission checks (xattr_permission) and its
 * errors (ENODATA, ERANGE, EOPNOTSUPP…); name is a NUL-terminated name the caller checked. */

long rvisor_vfs_getxattr(struct rvisor_path *p, const char *name, void *value,
			 unsigned long size)
{
	return vfs_getxattr(RVISOR_IDMAP(p->path.mnt), p->path.dentry, name, value, size);
}

long rvisor_vfs_listxattr(struct rvisor_path *p, char *list, unsigned long size)
{
	return vfs_listxattr(p->path.dentry, list, size);
}

int rvisor_vfs_setxattr(struct rvisor_path *p, const char *name, const void *value,
			unsigned long size, int flags)
{
	int ret = mnt_want_write(p->path.mnt);

	if (ret)
		return ret;
	ret = vfs_setxattr(RVISOR_IDMAP(p->path.mnt), p->path.dentry, name, value, size, flags);
	mnt_drop_write(p->path.mnt);
	return ret;
}

int rvisor_vfs_removexattr(struct rvisor_path *p, const char *name)
{
	int ret = mnt_want_write(p->path.mnt);

	if (ret)
		return ret;
	ret = vfs_removexattr(RVISOR_IDMAP(p->path.mnt), p->path.dentry, name);
	mnt_drop_write(p->path.mnt);
	return ret;
}

/* ---------------------------------------------------------------- uname */

void rvisor_utsname(struct rvisor_utsname *out)
{
	/* uts_sem is not exported; the fields copied here are fixed at boot except domainname,
	 * which rVisor replaces anyway. */
	struct new_utsname *u = utsname();

	strscpy(out->sysname, u->sysname, sizeof(out->sysname));
	strscpy(out->nodename, u->nodename, sizeof(out->nodename));
	strscpy(out->release, u->release, sizeof(out->release));
	strscpy(out->version, u->version, sizeof(out->version));
	strscpy(out->machine, u->machine, sizeof(out->machine));
	strscpy(out->domainname, u->domainname, sizeof(out->domainname));
}

/* ---------------------------------------------------------------- files made by the module */

/* A host file whose operations are the module's (rVisor's pty master handed to the CLI): the
 * Rust side never waits; a blocking read or write parks on the file's parker, which the Rust
 * side unparks (through a waker) when the answer may have changed. */

static ssize_t rvisor_anon_read(struct file *f, char __user *buf, size_t len, loff_t *pos)
{
	for (;;) {
		long ret = rvisor_rs_anon_read(f->private_data, (char __force *)buf, len);

		if (ret != -EAGAIN || (f->f_flags & O_NONBLOCK))
			return ret;
		if (rvisor_parker_park(rvisor_rs_anon_parker(f->private_data), -1) ==
		    RVISOR_PARK_INTERRUPTED)
			return -ERESTARTSYS;
	}
}

static ssize_t rvisor_anon_write(struct file *f, const char __user *buf, size_t len,
				 loff_t *pos)
{
	for (;;) {
		long ret = rvisor_rs_anon_write(f->private_data, (const char __force *)buf, len);

		if (ret != -EAGAIN || (f->f_flags & O_NONBLOCK))
			return ret;
		if (rvisor_parker_park(rvisor_rs_anon_parker(f->private_data), -1) ==
		    RVISOR_PARK_INTERRUPTED)
			return -ERESTARTSYS;
	}
}

static __poll_t rvisor_anon_poll(struct file *f, poll_table *pt)
{
	struct rvisor_parker *p = rvisor_rs_anon_parker(f->private_data);

	poll_wait(f, &p->wq, pt);
	return (__poll_t)rvisor_rs_anon_poll(f->private_data);
}

static long rvisor_anon_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	return rvisor_rs_anon_ioctl(f->private_data, cmd, arg);
}

static int rvisor_anon_release(struct inode *inode, struct file *f)
{
	rvisor_rs_anon_release(f->private_data);
	return 0;
}

static const struct file_operations rvisor_anon_fops = {
	.owner = THIS_MODULE,
	.read = rvisor_anon_read,
	.write = rvisor_anon_write,
	.poll = rvisor_anon_poll,
	.unlocked_ioctl = rvisor_anon_ioctl,
	.release = rvisor_anon_release,
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
	.llseek = no_llseek,
#endif
};

int rvisor_anon_getfd(const char *name, void *rs)
{
	return anon_inode_getfd(name, &rvisor_anon_fops, rs, O_RDWR | O_CLOEXEC);
}

/* ---------------------------------------------------------------- /dev/rvisor */

static int rvisor_dev_open(struct inode *inode, struct file *file)
{
	return rvisor_rs_dev_open();
}

static long rvisor_dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return rvisor_rs_dev_ioctl(cmd, arg);
}

static const struct file_operations rvisor_dev_fops = {
	.owner = THIS_MODULE,
	.open = rvisor_dev_open,
	.unlocked_ioctl = rvisor_dev_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice rvisor_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "rvisor",
	.fops = &rvisor_dev_fops,
	.mode = 0666,
};

int rvisor_misc_register(void)
{
	return misc_register(&rvisor_dev);
}

void rvisor_misc_deregister(void)
{
	misc_deregister(&rvisor_dev);
}

/* ---------------------------------------------------------------- module */

static int __init rvisor_init(void)
{
	return rvisor_rs_init();
}

static void __exit rvisor_exit(void)
{
	rvisor_rs_exit();
	rvisor_notify_exit();
}

module_init(rvisor_init);
module_exit(rvisor_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("The rVisor developers");
MODULE_DESCRIPTION("rVisor: containers served by an application kernel in Rust");

/* ---------------------------------------------------------------- served process calls */

long rvisor_host_clone(unsigned long flags, unsigned long stack, unsigned long child_tid,
		       unsigned long tls)
{
	struct pt_regs args = {};

	/* The child's user registers are a copy of the caller's saved ones (copy_thread). */
	args.di = flags;
	args.si = stack;
	args.dx = 0;
	args.r10 = child_tid;
	args.r8 = tls;
	return sys_clone(&args);
}

void rvisor_exit_current(int code, bool group)
{
	struct pt_regs args = {};

	args.di = code;
	if (group)
		sys_exit_group(&args);
	else
		sys_exit(&args);
	BUG(); /* both end in do_exit */
}

/* wait4(host_pid, NULL, __WALL, rusage): the host writes the child's rusage at the user address
 * `rusage` (0: none), as Linux's wait4 does, after reaping it (EFAULT if it cannot). */
int rvisor_reap_host_child(int host_pid, unsigned long rusage)
{
	struct pt_regs args = {};

	args.di = host_pid;
	args.si = 0;
	args.dx = __WALL;
	args.r10 = rusage;
	return (int)sys_wait4(&args);
}

/*
 * rt_tgsigqueueinfo and prlimit64 read and write their arguments in user memory only: the caller's
 * are staged in one private page mapped for the call. Never in a task whose memory is gone.
 */
static unsigned long map_staging_page(void)
{
	if (!current->mm || (current->flags & PF_EXITING))
		return -ESRCH;
	return vm_mmap(NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0);
}

/* True if an init `t` drops `sig` (1..=_NSIG) sent from inside its namespace: its process has
 * no handler for it and `t` does not block it (a blocked signal stays pending, for sigwait or
 * a signalfd, as Linux's sig_ignored keeps it). */
static bool signal_is_default(struct task_struct *t, int sig)
{
	struct sighand_struct *sighand;
	bool dfl = true;

	if (sigismember(&t->blocked, sig) || sigismember(&t->real_blocked, sig))
		return false;
	rcu_read_lock();
	sighand = rcu_dereference(t->sighand);
	if (sighand)
		dfl = READ_ONCE(sighand->action[sig - 1].sa.sa_handler) == SIG_DFL;
	rcu_read_unlock();
	return dfl;
}

/* Sends `sig` to `t` from container pid `from_pid` as `from_uid`, with `code` and `value`;
 * an init (`to_init`) only gets a signal it has a handler for. */
static int send_signal_from(struct task_struct *t, int sig, int code, int from_pid,
			    unsigned int from_uid, __u64 value, bool to_init)
{
	struct kernel_siginfo info;

	if (!valid_signal(sig) || sig == 0)
		return -EINVAL;
	if (to_init && signal_is_default(t, sig))
		return 0;
	clear_siginfo(&info);
	info.si_signo = sig;
	info.si_errno = 0;
	info.si_code = code;
	info.si_pid = from_pid;
	info.si_uid = from_uid;
	info.si_value.sival_ptr = (void __user *)(unsigned long)value;
	return send_sig_info(sig, &info, t);
}

int rvisor_send_process_signal(struct task_struct *t, int sig, int from_pid, unsigned int from_uid,
			       bool to_init)
{
	return send_signal_from(t, sig, SI_USER, from_pid, from_uid, 0, to_init);
}

int rvisor_send_queue_signal(struct task_struct *t, int sig, int from_pid, unsigned int from_uid,
			     __u64 value, bool to_init)
{
	/* As ipc/mqueue.c's __do_notify fills it. */
	return send_signal_from(t, sig, SI_MESGQ, from_pid, from_uid, value, to_init);
}

int rvisor_send_kernel_signal(struct task_struct *t, int sig, bool to_init)
{
	if (!valid_signal(sig) || sig == 0)
		return -EINVAL;
	if (to_init && signal_is_default(t, sig))
		return 0;
	/* From the kernel (SI_KERNEL, no sender), as a terminal's kill_pgrp sends. */
	return send_sig_info(sig, SEND_SIG_PRIV, t);
}

int rvisor_signal_current_thread(int sig, int from_pid, unsigned int from_uid, bool to_init)
{
	struct pt_regs args = {};
	siginfo_t info;
	unsigned long page;
	long ret;

	if (!valid_signal(sig) || sig == 0)
		return -EINVAL;
	if (to_init && signal_is_default(current, sig))
		return 0;
	memset(&info, 0, sizeof(info));
	info.si_signo = sig;
	info.si_code = SI_TKILL;
	info.si_pid = from_pid;
	info.si_uid = from_uid;
	page = map_staging_page();
	if (IS_ERR_VALUE(page))
		return (int)page;
	ret = -EFAULT;
	if (!copy_to_user((void __user *)page, &info, sizeof(info))) {
		/* SI_TKILL with container ids is allowed because the target is the caller. */
		args.di = task_tgid_vnr(current);
		args.si = task_pid_vnr(current);
		args.dx = sig;
		args.r10 = page;
		ret = sys_rt_tgsigqueueinfo(&args);
	}
	vm_munmap(page, PAGE_SIZE);
	return (int)ret;
}

int rvisor_prlimit(struct task_struct *t, unsigned int resource,
		   const struct rvisor_rlimit *new_limit, struct rvisor_rlimit *old_limit)
{
	struct pt_regs args = {};
	unsigned long page;
	pid_t host_pid = 0;
	long ret;

	BUILD_BUG_ON(sizeof(struct rvisor_rlimit) != sizeof(struct rlimit64));
	if (t && t->group_leader != current->group_leader) {
		/* 0 once the process is reaped, which would name the caller. */
		host_pid = task_tgid_vnr(t);
		if (!host_pid)
			return -ESRCH;
	}
	page = map_staging_page();
	if (IS_ERR_VALUE(page))
		return (int)page;
	ret = -EFAULT;
	if (!new_limit || !copy_to_user((void __user *)page, new_limit, sizeof(*new_limit))) {
		args.di = host_pid;
		args.si = resource;
		args.dx = new_limit ? page : 0;
		args.r10 = page + sizeof(struct rlimit64);
		ret = sys_prlimit64(&args);
		if (!ret && copy_from_user(old_limit, (void __user *)args.r10, sizeof(*old_limit)))
			ret = -EFAULT;
	}
	vm_munmap(page, PAGE_SIZE);
	return (int)ret;
}

bool rvisor_signal_pending(void)
{
	return signal_pending(current);
}

bool rvisor_signal_ignored_or_blocked(int sig)
{
	bool ret;

	if (sig < 1 || sig > _NSIG)
		return false;
	spin_lock_irq(&current->sighand->siglock);
	ret = sigismember(&current->blocked, sig) ||
	      current->sighand->action[sig - 1].sa.sa_handler == SIG_IGN;
	spin_unlock_irq(&current->sighand->siglock);
	return ret;
}

long rvisor_task_affinity(struct task_struct *t, void *buf, unsigned long len,
			  unsigned int *cpus)
{
	unsigned int size = cpumask_size();
	cpumask_var_t mask;
	unsigned long flags;

	if (!t)
		t = current;
	if (!alloc_cpumask_var(&mask, GFP_KERNEL))
		return -ENOMEM;
	raw_spin_lock_irqsave(&t->pi_lock, flags);
	cpumask_and(mask, &t->cpus_mask, cpu_active_mask);
	raw_spin_unlock_irqrestore(&t->pi_lock, flags);
	memcpy(buf, cpumask_bits(mask), min_t(unsigned long, len, size));
	free_cpumask_var(mask);
	*cpus = nr_cpu_ids;
	return size;
}

int rvisor_task_stop_state(struct task_struct *t, bool stopped, bool continued, bool consume)
{
	struct sighand_struct *sighand;
	struct signal_struct *sig;
	unsigned long flags;
	int ret = 0;

	/* lock_task_sighand(), whose helper is not exported: a task past its exit has none. */
	rcu_read_lock();
	for (;;) {
		sighand = rcu_dereference(t->sighand);
		if (!sighand)
			break;
		spin_lock_irqsave(&sighand->siglock, flags);
		if (likely(sighand == rcu_access_pointer(t->sighand)))
			break;
		spin_unlock_irqrestore(&sighand->siglock, flags);
	}
	rcu_read_unlock();
	if (!sighand)
		return 0;
	sig = t->signal;
	if (stopped && (sig->flags & SIGNAL_STOP_STOPPED) && sig->group_exit_code) {
		ret = sig->group_exit_code & 0x7f;
		if (consume)
			sig->group_exit_code = 0;
	} else if (continued && (sig->flags & SIGNAL_STOP_CONTINUED)) {
		ret = RVISOR_CONTINUED;
		if (consume)
			sig->flags &= ~SIGNAL_STOP_CONTINUED;
	}
	spin_unlock_irqrestore(&sighand->siglock, flags);
	return ret;
}

static __u64 cap_bits(kernel_cap_t caps)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	return caps.val;
#else
	return (__u64)caps.cap[0] | ((__u64)caps.cap[1] << 32);
#endif
}

void rvisor_task_caps(struct task_struct *t, __u64 *effective, __u64 *permitted,
		      __u64 *inheritable)
{
	const struct cred *cred;

	rcu_read_lock();
	cred = __task_cred(t ? t : current);
	*effective = cap_bits(cred->cap_effective);
	*permitted = cap_bits(cred->cap_permitted);
	*inheritable = cap_bits(cred->cap_inheritable);
	rcu_read_unlock();
}

/* What capset reads from user memory, staged in one page. */
struct caps_staged {
	struct __user_cap_header_struct header;
	struct __user_cap_data_struct data[2];
};

long rvisor_set_own_caps(__u64 effective, __u64 permitted, __u64 inheritable)
{
	struct caps_staged staged = {
		.header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 },
		.data = {
			{ (__u32)effective, (__u32)permitted, (__u32)inheritable },
			{ (__u32)(effective >> 32), (__u32)(permitted >> 32),
			  (__u32)(inheritable >> 32) },
		},
	};
	struct caps_staged __user *user;
	struct pt_regs args = {};
	unsigned long page;
	long ret;

	page = map_staging_page();
	if (IS_ERR_VALUE(page))
		return (long)page;
	user = (struct caps_staged __user *)page;
	if (copy_to_user(user, &staged, sizeof(staged))) {
		ret = -EFAULT;
	} else {
		args.di = (unsigned long)&user->header;
		args.si = (unsigned long)user->data;
		ret = sys_capset(&args);
	}
	vm_munmap(page, PAGE_SIZE);
	return ret;
}

long rvisor_set_own_affinity(unsigned long len, unsigned long user_mask)
{
	struct pt_regs args = {};

	args.di = 0;
	args.si = len;
	args.dx = user_mask;
	return sys_sched_setaffinity(&args);
}

void rvisor_set_wait_sigmask(__u64 mask)
{
	sigset_t blocked;

	siginitset(&blocked, mask & ~(sigmask(SIGKILL) | sigmask(SIGSTOP)));
	set_restore_sigmask();
	current->saved_sigmask = current->blocked;
	sigprocmask(SIG_SETMASK, &blocked, NULL);
}

void rvisor_restore_wait_sigmask(bool interrupted)
{
	if (interrupted && signal_pending(current))
		return;
	if (test_and_clear_restore_sigmask())
		sigprocmask(SIG_SETMASK, &current->saved_sigmask, NULL);
}

bool rvisor_current_is_single_threaded(void)
{
	return thread_group_empty(current);
}

bool rvisor_current_alone_in_memory(void)
{
	return thread_group_empty(current) && current->mm &&
	       atomic_read(&current->mm->mm_users) <= 1;
}

/*
 * The stub the host's execve loads to give a task a fresh memory map: a static x86-64 program
 * of one page-aligned segment whose code is exit_group(127), should it ever run (execve
 * replaces it before it does).
 */
static const unsigned char exec_stub_image[] = {
	/* ELF header: ET_EXEC, x86-64, entry 0x400078, one program header at 64 */
	0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	2, 0, 62, 0, 1, 0, 0, 0, 0x78, 0, 0x40, 0, 0, 0, 0, 0,
	64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 64, 0, 56, 0, 1, 0, 0, 0, 0, 0, 0, 0,
	/* PT_LOAD, R+X, offset 0 at 0x400000, 134 bytes */
	1, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0,
	134, 0, 0, 0, 0, 0, 0, 0, 134, 0, 0, 0, 0, 0, 0, 0,
	0, 0x10, 0, 0, 0, 0, 0, 0,
	/* mov $127, %edi; mov $231, %eax (exit_group); syscall; ud2 */
	0xbf, 0x7f, 0, 0, 0, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05, 0x0f, 0x0b,
};
static_assert(sizeof(exec_stub_image) == 134);

static struct file *exec_stub;

static int exec_stub_setup(void)
{
	struct file *file = shmem_file_setup("rvisor-exec", sizeof(exec_stub_image), 0);
	loff_t pos = 0;
	ssize_t written;

	if (IS_ERR(file))
		return PTR_ERR(file);
	written = kernel_write(file, exec_stub_image, sizeof(exec_stub_image), &pos);
	if (written != sizeof(exec_stub_image)) {
		fput(file);
		return written < 0 ? (int)written : -EIO;
	}
	exec_stub = file;
	return 0;
}

static void exec_stub_release(void)
{
	if (exec_stub)
		fput(exec_stub);
	exec_stub = NULL;
}

/* What the host's execveat of the stub reads from user memory, staged in one page. */
struct exec_stub_args {
	unsigned long argv[2];
	unsigned long envp[1];
	char name[16];
	char empty[1];
};

int rvisor_exec_fresh_memory(void)
{
	struct exec_stub_args staged = { .name = "rvisor-exec" };
	struct exec_stub_args __user *user;
	struct pt_regs args = {};
	unsigned long page;
	long ret;
	int fd;

	if (!exec_stub)
		return -ENOEXEC;
	page = map_staging_page();
	if (IS_ERR_VALUE(page))
		return (int)page;
	user = (struct exec_stub_args __user *)page;
	staged.argv[0] = (unsigned long)user->name;
	if (copy_to_user(user, &staged, sizeof(staged))) {
		vm_munmap(page, PAGE_SIZE);
		return -EFAULT;
	}
	/* Closed by the exec itself (close-on-exec), or below if it fails. */
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		vm_munmap(page, PAGE_SIZE);
		return fd;
	}
	fd_install(fd, get_file(exec_stub));
	args.di = fd;
	args.si = (unsigned long)user->empty;
	args.dx = (unsigned long)user->argv;
	args.r10 = (unsigned long)user->envp;
	args.r8 = AT_EMPTY_PATH;
	ret = sys_execveat(&args);
	if (ret) {
		/* Before the point of no return: the old memory map is the caller's still. */
		close_fd(fd);
		vm_munmap(page, PAGE_SIZE);
	}
	return (int)ret;
}

void rvisor_current_disable_core_dumps(void)
{
	/* set_dumpable(), which is not exported. */
	if (current->mm)
		set_mask_bits(&current->mm->flags, MMF_DUMPABLE_MASK, SUID_DUMP_DISABLE);
}

void rvisor_current_become_subreaper(void)
{
	/* What prctl(PR_SET_CHILD_SUBREAPER, 1) does for a process with no children yet. */
	current->signal->is_child_subreaper = 1;
	current->signal->has_child_subreaper = 1;
}

/* A mapping the kernel makes itself and names (the vDSO, its data pages). */
static bool is_special_mapping(struct vm_area_struct *vma)
{
	const char *name;

	if (!vma->vm_ops || !vma->vm_ops->name)
		return false;
	name = vma->vm_ops->name(vma);
	return name && name[0] == '[';
}

long rvisor_vm_map_anon(unsigned long addr, unsigned long len, unsigned int prot,
			unsigned int flags)
{
	/* An address or, in the top page, -errno: either way the caller tells them apart. */
	return (long)vm_mmap(NULL, addr, len, prot, flags, 0);
}

int rvisor_exec_teardown(void)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long start = 0, end;
	int ret;

	if (!mm)
		return -EINVAL;
	/* One mapping at a time: vm_munmap takes the lock the walk would hold. The host's special
	 * mappings stay: the vDSO goes on serving the new program, as a new one would. */
	for (;;) {
		mmap_read_lock(mm);
		vma = find_vma(mm, start);
		while (vma && is_special_mapping(vma))
			vma = find_vma(mm, vma->vm_end);
		if (!vma) {
			mmap_read_unlock(mm);
			return 0;
		}
		start = vma->vm_start;
		end = vma->vm_end;
		mmap_read_unlock(mm);
		ret = vm_munmap(start, end - start);
		if (ret)
			return ret;
	}
}

/* flush_signal_handlers(current, 0), which is not exported: handlers back to the default but
 * for ignored signals. */
void rvisor_clear_signal_handlers(void)
{
	struct k_sigaction *ka = current->sighand->action;
	int i;

	spin_lock_irq(&current->sighand->siglock);
	for (i = _NSIG; i != 0; i--, ka++) {
		if (ka->sa.sa_handler != SIG_IGN)
			ka->sa.sa_handler = SIG_DFL;
		ka->sa.sa_flags = 0;
#ifdef __ARCH_HAS_SA_RESTORER
		ka->sa.sa_restorer = NULL;
#endif
		sigemptyset(&ka->sa.sa_mask);
	}
	spin_unlock_irq(&current->sighand->siglock);
}

/* What execve does to signal handling: the handlers cleared and the alternate stack off. */
static void reset_signal_handlers(void)
{
	rvisor_clear_signal_handlers();
	current->sas_ss_sp = 0;
	current->sas_ss_size = 0;
	current->sas_ss_flags = SS_DISABLE;
}

void rvisor_exec_start(const struct rvisor_exec_start *start)
{
	struct pt_regs *regs = task_pt_regs(current);
	struct mm_struct *mm = current->mm;

	/* A fresh memory map (the host's execve of the stub) is dumpable again. */
	rvisor_current_disable_core_dumps();
	mmap_write_lock(mm);
	mm->start_brk = start->brk;
	mm->brk = start->brk;
	mm->start_stack = start->sp;
	if (start->mmap_base)
		mm->mmap_base = start->mmap_base;
	spin_lock(&mm->arg_lock);
	mm->arg_start = start->arg_start;
	mm->arg_end = start->arg_end;
	mm->env_start = start->env_start;
	mm->env_end = start->env_end;
	spin_unlock(&mm->arg_lock);
	mmap_write_unlock(mm);
	/* Per-task user pointers into the old image: exec forgets them. */
#ifdef CONFIG_RSEQ
	current->rseq = NULL;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	current->rseq_len = 0;
#endif
	current->rseq_sig = 0;
	current->rseq_event_mask = 0;
#endif
	current->clear_child_tid = NULL;
	current->set_child_tid = NULL;
#ifdef CONFIG_FUTEX
	current->robust_list = NULL;
#ifdef CONFIG_COMPAT
	current->compat_robust_list = NULL;
#endif
#endif
	reset_signal_handlers();
	task_lock(current);
	strscpy_pad(current->comm, start->comm, sizeof(current->comm));
	task_unlock(current);
	start_thread(regs, start->entry, start->sp);
	regs->ax = regs->bx = regs->cx = regs->dx = regs->si = regs->di = regs->bp = 0;
	regs->r8 = regs->r9 = regs->r10 = regs->r11 = 0;
	regs->r12 = regs->r13 = regs->r14 = regs->r15 = 0;
}

/* A Rust closure run by a task on its way to user mode or in its exit. */
struct rvisor_work {
	struct callback_head head;
	void *data;
};

static void run_work(struct callback_head *head)
{
	struct rvisor_work *work = container_of(head, struct rvisor_work, head);
	void *data = work->data;

	kfree(work);
	rvisor_rs_run_work(data);
}

int rvisor_task_work_add(struct task_struct *task, void *data, enum rvisor_work_run when)
{
	struct rvisor_work *work = kmalloc(sizeof(*work), GFP_ATOMIC);
	enum task_work_notify_mode mode;
	int ret;

	if (!work)
		return -ENOMEM;
	switch (when) {
	case RVISOR_WORK_ON_RESUME:
		mode = TWA_RESUME;
		break;
	case RVISOR_WORK_INTERRUPTING:
		mode = TWA_SIGNAL;
		break;
	default:
		mode = TWA_NONE;
		break;
	}
	work->data = data;
	init_task_work(&work->head, run_work);
	ret = task_work_add(task, &work->head, mode);
	if (ret)
		kfree(work);
	return ret;
}

/* ---------------------------------------------------------------- inherited host files */

struct file *rvisor_fget(unsigned int fd)
{
	return fget(fd);
}

long rvisor_host_file_read(struct file *f, void *buf, unsigned long len)
{
	loff_t pos = f->f_pos;
	ssize_t ret = kernel_read(f, buf, len, &pos);

	if (ret > 0 && (f->f_mode & FMODE_LSEEK))
		f->f_pos = pos;
	return ret;
}

long rvisor_host_file_write(struct file *f, const void *buf, unsigned long len)
{
	loff_t pos = f->f_pos;
	ssize_t ret = kernel_write(f, buf, len, &pos);

	if (ret > 0 && (f->f_mode & FMODE_LSEEK))
		f->f_pos = pos;
	return ret;
}

int rvisor_host_file_stat(struct file *f, struct rvisor_stat *out)
{
	return fill_stat(&f->f_path, out);
}

unsigned int rvisor_host_file_flags(struct file *f)
{
	return f->f_flags;
}

long rvisor_host_file_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	/* What vfs_ioctl does (it is not exported); user pointers stay the caller's. */
	if (!f->f_op->unlocked_ioctl)
		return -ENOTTY;
	return f->f_op->unlocked_ioctl(f, cmd, arg);
}

bool rvisor_host_file_readable(struct file *f)
{
	return vfs_poll(f, NULL) & (EPOLLIN | EPOLLRDNORM | EPOLLHUP | EPOLLERR);
}

/* Wait queues one file's poll may hook (a pipe or a terminal hooks two, a socket one). */
#define RVISOR_WATCH_QUEUES 4

struct rvisor_watch_entry {
	wait_queue_entry_t wait;
	/* NULL once the queue's owner freed it (POLLFREE); read and cleared as epoll's whead. */
	wait_queue_head_t *head;
	struct rvisor_file_watch *watch;
};

struct rvisor_file_watch {
	struct file *file;
	poll_table pt;
	struct rvisor_watch_entry entries[RVISOR_WATCH_QUEUES];
	unsigned int count;
	/* Serialises the first armed poll (the hooking) with other polls and with the free. */
	struct mutex lock;
	bool hooked;
	/* Set by an armed poll, taken by the wake-up that schedules the callback: a file that
	 * wakes with no one waiting costs no work. */
	atomic_t armed;
	struct work_struct work;
	void *ctx;
};

static int rvisor_watch_wake(wait_queue_entry_t *wait, unsigned int mode, int sync, void *key)
{
	struct rvisor_watch_entry *entry = container_of(wait, struct rvisor_watch_entry, wait);
	struct rvisor_file_watch *w = entry->watch;

	if (key_to_poll(key) & POLLFREE) {
		/* The queue goes away (its lock is held): leave it, as ep_poll_callback does. */
		list_del_init(&wait->entry);
		smp_store_release(&entry->head, NULL);
	}
	if (atomic_xchg(&w->armed, 0))
		schedule_work(&w->work);
	return 0;
}

static void rvisor_watch_queue(struct file *f, wait_queue_head_t *head, poll_table *pt)
{
	struct rvisor_file_watch *w = container_of(pt, struct rvisor_file_watch, pt);
	struct rvisor_watch_entry *entry;

	if (w->count >= RVISOR_WATCH_QUEUES)
		return;
	entry = &w->entries[w->count++];
	init_waitqueue_func_entry(&entry->wait, rvisor_watch_wake);
	entry->watch = w;
	entry->head = head;
	add_wait_queue(head, &entry->wait);
}

static void rvisor_watch_work(struct work_struct *work)
{
	struct rvisor_file_watch *w = container_of(work, struct rvisor_file_watch, work);

	rvisor_rs_file_watch_wake(w->ctx);
}

struct rvisor_file_watch *rvisor_file_watch_new(struct file *f, void *ctx)
{
	umode_t mode = file_inode(f)->i_mode;
	struct rvisor_file_watch *w;

	if (!(S_ISFIFO(mode) || S_ISSOCK(mode) || S_ISCHR(mode)) || !file_can_poll(f))
		return NULL;
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return NULL;
	w->file = get_file(f);
	init_poll_funcptr(&w->pt, rvisor_watch_queue);
	mutex_init(&w->lock);
	atomic_set(&w->armed, 0);
	INIT_WORK(&w->work, rvisor_watch_work);
	w->ctx = ctx;
	return w;
}

unsigned int rvisor_file_watch_poll(struct rvisor_file_watch *w, bool arm)
{
	__poll_t mask;

	if (!arm)
		return vfs_poll(w->file, NULL);
	/* Armed before the readiness is read (a full barrier): a wake-up after the read calls
	 * back. */
	atomic_xchg(&w->armed, 1);
	if (!READ_ONCE(w->hooked)) {
		mutex_lock(&w->lock);
		if (!w->hooked) {
			mask = vfs_poll(w->file, &w->pt);
			WRITE_ONCE(w->hooked, true);
			mutex_unlock(&w->lock);
			return mask;
		}
		mutex_unlock(&w->lock);
	}
	return vfs_poll(w->file, NULL);
}

struct rvisor_file_watch *rvisor_signal_watch_new(void *ctx)
{
	struct rvisor_file_watch *w = kzalloc(sizeof(*w), GFP_KERNEL);
	struct rvisor_watch_entry *entry;

	if (!w)
		return NULL;
	mutex_init(&w->lock);
	atomic_set(&w->armed, 0);
	INIT_WORK(&w->work, rvisor_watch_work);
	w->ctx = ctx;
	entry = &w->entries[0];
	init_waitqueue_func_entry(&entry->wait, rvisor_watch_wake);
	entry->watch = w;
	/* The caller's own sighand cannot change under it; its free wakes us with POLLFREE. */
	entry->head = &current->sighand->signalfd_wqh;
	add_wait_queue(entry->head, &entry->wait);
	w->count = 1;
	w->hooked = true;
	return w;
}

bool rvisor_signal_watch_is_current(struct rvisor_file_watch *w)
{
	return smp_load_acquire(&w->entries[0].head) == &current->sighand->signalfd_wqh;
}

void rvisor_signal_watch_arm(struct rvisor_file_watch *w)
{
	atomic_xchg(&w->armed, 1);
}

bool rvisor_signals_pending(__u64 mask)
{
	bool pending;

	spin_lock_irq(&current->sighand->siglock);
	pending = (current->pending.signal.sig[0] | current->signal->shared_pending.signal.sig[0]) &
		  mask;
	spin_unlock_irq(&current->sighand->siglock);
	return pending;
}

/* Which fields of a siginfo hold data, as the kernel's siginfo_layout (not exported) says. */
enum rvisor_si_layout { RV_SIL_KILL, RV_SIL_TIMER, RV_SIL_POLL, RV_SIL_FAULT, RV_SIL_MCEERR,
			RV_SIL_CHLD, RV_SIL_RT, RV_SIL_SYS };

static enum rvisor_si_layout rvisor_si_layout(int sig, int code)
{
	if (code > SI_USER && code < SI_KERNEL) {
		switch (sig) {
		case SIGILL:
			return code <= NSIGILL ? RV_SIL_FAULT : RV_SIL_KILL;
		case SIGFPE:
			return code <= NSIGFPE ? RV_SIL_FAULT : RV_SIL_KILL;
		case SIGSEGV:
			return code <= NSIGSEGV ? RV_SIL_FAULT : RV_SIL_KILL;
		case SIGBUS:
			if (code >= BUS_MCEERR_AR && code <= BUS_MCEERR_AO)
				return RV_SIL_MCEERR;
			return code <= NSIGBUS ? RV_SIL_FAULT : RV_SIL_KILL;
		case SIGTRAP:
			return code <= NSIGTRAP ? RV_SIL_FAULT : RV_SIL_KILL;
		case SIGCHLD:
			return code <= NSIGCHLD ? RV_SIL_CHLD : RV_SIL_KILL;
		case SIGSYS:
			return code <= NSIGSYS ? RV_SIL_SYS : RV_SIL_KILL;
		default:
			return code <= NSIGPOLL ? RV_SIL_POLL : RV_SIL_KILL;
		}
	}
	if (code == SI_TIMER)
		return RV_SIL_TIMER;
	if (code == SI_SIGIO)
		return RV_SIL_POLL;
	return code < 0 ? RV_SIL_RT : RV_SIL_KILL;
}

int rvisor_signal_dequeue(__u64 mask, void *out)
{
	struct signalfd_siginfo *new = out;
	kernel_siginfo_t info;
	enum pid_type type;
	sigset_t blocked;
	int sig;

	/* dequeue_signal skips the signals of its mask: the complement of the wanted ones. */
	siginitset(&blocked, ~mask);
	spin_lock_irq(&current->sighand->siglock);
	/* dequeue_signal lost its task argument (always current) in 6.11. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	sig = dequeue_signal(&blocked, &info, &type);
#else
	sig = dequeue_signal(current, &blocked, &info, &type);
#endif
	spin_unlock_irq(&current->sighand->siglock);
	if (sig <= 0)
		return 0;
	/* As signalfd_copyinfo. */
	memset(new, 0, sizeof(*new));
	new->ssi_signo = info.si_signo;
	new->ssi_errno = info.si_errno;
	new->ssi_code = info.si_code;
	switch (rvisor_si_layout(info.si_signo, info.si_code)) {
	case RV_SIL_KILL:
		new->ssi_pid = info.si_pid;
		new->ssi_uid = info.si_uid;
		break;
	case RV_SIL_TIMER:
		new->ssi_tid = info.si_tid;
		new->ssi_overrun = info.si_overrun;
		new->ssi_ptr = (long)info.si_ptr;
		new->ssi_int = info.si_int;
		break;
	case RV_SIL_POLL:
		new->ssi_band = info.si_band;
		new->ssi_fd = info.si_fd;
		break;
	case RV_SIL_FAULT:
		new->ssi_addr = (long)info.si_addr;
		break;
	case RV_SIL_MCEERR:
		new->ssi_addr = (long)info.si_addr;
		new->ssi_addr_lsb = (short)info.si_addr_lsb;
		break;
	case RV_SIL_CHLD:
		new->ssi_pid = info.si_pid;
		new->ssi_uid = info.si_uid;
		new->ssi_status = info.si_status;
		new->ssi_utime = info.si_utime;
		new->ssi_stime = info.si_stime;
		break;
	case RV_SIL_RT:
		new->ssi_pid = info.si_pid;
		new->ssi_uid = info.si_uid;
		new->ssi_ptr = (long)info.si_ptr;
		new->ssi_int = info.si_int;
		break;
	case RV_SIL_SYS:
		new->ssi_call_addr = (long)info.si_call_addr;
		new->ssi_syscall = info.si_syscall;
		new->ssi_arch = info.si_arch;
		break;
	}
	return sig;
}

void rvisor_file_watch_free(struct rvisor_file_watch *w)
{
	wait_queue_head_t *head;
	unsigned int i;

	mutex_lock(&w->lock);
	for (i = 0; i < w->count; i++) {
		/* As ep_remove_wait_queue: a POLLFREE owner frees the queue after an RCU period. */
		rcu_read_lock();
		head = smp_load_acquire(&w->entries[i].head);
		if (head)
			remove_wait_queue(head, &w->entries[i].wait);
		rcu_read_unlock();
	}
	w->count = 0;
	mutex_unlock(&w->lock);
	/* No wake-up can schedule it now; one scheduled or running finishes first. */
	cancel_work_sync(&w->work);
	if (w->file)
		fput(w->file);
	kfree(w);
}

int rvisor_task_exit_code(struct task_struct *t)
{
	return READ_ONCE(t->exit_code);
}

__u64 rvisor_cpu_time_ns(bool process)
{
	struct task_struct *t;
	__u64 sum;

	if (!process)
		return current->se.sum_exec_runtime;
	/* Live threads' runtimes plus what the dead ones left in the signal struct. */
	rcu_read_lock();
	sum = READ_ONCE(current->signal->sum_sched_runtime);
	for_each_thread(current, t)
		sum += READ_ONCE(t->se.sum_exec_runtime);
	rcu_read_unlock();
	return sum;
}

void rvisor_random_bytes(void *buf, unsigned long len)
{
	get_random_bytes(buf, len);
}

#ifndef AT_RSEQ_FEATURE_SIZE
#define AT_RSEQ_FEATURE_SIZE 27
#define AT_RSEQ_ALIGN 28
#endif

unsigned int rvisor_personality(void)
{
	return current->personality;
}

void rvisor_machine(struct rvisor_machine *out)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long addr = 0;
	unsigned long *auxv;
	int i;

	memset(out, 0, sizeof(*out));
	out->hwcap = ELF_HWCAP;
	if (!mm)
		return;
	auxv = mm->saved_auxv;
	for (i = 0; i + 1 < AT_VECTOR_SIZE && auxv[i] != AT_NULL; i += 2) {
		switch (auxv[i]) {
		case AT_HWCAP2:
			out->hwcap2 = auxv[i + 1];
			out->present |= RVISOR_MACHINE_HWCAP2;
			break;
		case AT_MINSIGSTKSZ:
			out->minsigstksz = auxv[i + 1];
			out->present |= RVISOR_MACHINE_MINSIGSTKSZ;
			break;
		case AT_RSEQ_FEATURE_SIZE:
			out->rseq_feature_size = auxv[i + 1];
			out->present |= RVISOR_MACHINE_RSEQ;
			break;
		case AT_RSEQ_ALIGN:
			out->rseq_align = auxv[i + 1];
			break;
		}
	}
	mmap_read_lock(mm);
	while ((vma = find_vma(mm, addr))) {
		if (is_special_mapping(vma)) {
			if (!out->special_end)
				out->special_start = vma->vm_start;
			out->special_end = vma->vm_end;
		}
		addr = vma->vm_end;
	}
	if (mm->context.vdso && out->special_end) {
		out->vdso = (unsigned long)mm->context.vdso;
		out->present |= RVISOR_MACHINE_VDSO;
	}
	mmap_read_unlock(mm);
}

long rvisor_host_id_call(enum rvisor_id_call call, unsigned long a0, unsigned long a1,
			 unsigned long a2)
{
	struct pt_regs args = {};

	if ((unsigned int)call >= RVISOR_ID_CALLS || !id_calls[call])
		return -ENOSYS;
	args.di = a0;
	args.si = a1;
	args.dx = a2;
	return id_calls[call](&args);
}

int rvisor_current_groups(__u32 *out, int max)
{
	const struct cred *cred = current_cred();
	struct user_namespace *ns = current_user_ns();
	int i, count = cred->group_info->ngroups;

	for (i = 0; i < count && i < max; i++)
		out[i] = from_kgid_munged(ns, cred->group_info->gid[i]);
	return count;
}

void rvisor_current_ids(struct rvisor_ids *out)
{
	const struct cred *cred = current_cred();
	struct user_namespace *ns = current_user_ns();

	out->uid = from_kuid_munged(ns, cred->uid);
	out->euid = from_kuid_munged(ns, cred->euid);
	out->suid = from_kuid_munged(ns, cred->suid);
	out->fsuid = from_kuid_munged(ns, cred->fsuid);
	out->gid = from_kgid_munged(ns, cred->gid);
	out->egid = from_kgid_munged(ns, cred->egid);
	out->sgid = from_kgid_munged(ns, cred->sgid);
	out->fsgid = from_kgid_munged(ns, cred->fsgid);
}

long rvisor_vfs_mmap(struct rvisor_path *p, unsigned long addr, unsigned long len,
		     unsigned int prot, unsigned int flags, __u64 offset)
{
	/* A shared writable mapping writes the file: it needs a file open for writing too. */
	bool writes = (flags & MAP_TYPE) != MAP_PRIVATE && (prot & PROT_WRITE);
	struct file *own = READ_ONCE(p->writer);
	struct file *file;
	unsigned long ret;

	/* A memfd maps through its own file (the only holder whose writer also reads), as a
	 * native memfd does: a new writable open would make running it ETXTBSY. */
	if (own && (own->f_mode & FMODE_READ)) {
		file = get_file(own);
		ret = vm_mmap(file, addr, len, prot, flags, offset);
		fput(file);
		return (long)ret;
	}
	file = rvisor_quiet_dentry_open(&p->path, (writes ? O_RDWR : O_RDONLY) | O_LARGEFILE);
	if (IS_ERR(file))
		return PTR_ERR(file);
	ret = vm_mmap(file, addr, len, prot, flags, offset);
	/* The mapping holds its own reference. Opened for the mapping only: the file's open and
	 * close are its description's, reported by rVisor. */
	rvisor_file_quiet(file);
	fput(file);
	return (long)ret;
}

int rvisor_exec_open(struct rvisor_path *p, struct file **out)
{
	struct vfsmount *mnt = p->path.mnt;
	struct file *file;
	int err;

	if (!d_is_reg(p->path.dentry))
		return -EACCES;
	/* path_noexec(), which is not exported. */
	if ((mnt->mnt_flags & MNT_NOEXEC) || (mnt->mnt_sb->s_iflags & SB_I_NOEXEC))
		return -EACCES;
	file = rvisor_quiet_dentry_open(&p->path, O_RDONLY | O_LARGEFILE | __FMODE_EXEC);
	if (IS_ERR(file))
		return PTR_ERR(file);
	err = deny_write_access(file);
	if (err) {
		fput(file);
		return err;
	}
	*out = file;
	return 0;
}

long rvisor_exec_map(struct file *file, unsigned long addr, unsigned long len, unsigned int prot,
		     __u64 offset)
{
	unsigned long ret = vm_mmap(file, addr, len, prot, MAP_PRIVATE | MAP_FIXED, offset);

	return (long)ret;
}

void rvisor_exec_close(struct file *file)
{
	allow_write_access(file);
	fput(file);
}

int rvisor_vfs_get_write_access(struct rvisor_path *p, struct rvisor_path *out)
{
	int err = get_write_access(d_inode(p->path.dentry));

	if (err)
		return err;
	path_get(&p->path);
	hold(out, &p->path);
	return 0;
}

void rvisor_vfs_put_write_access(struct rvisor_path *p)
{
	put_write_access(d_inode(p->path.dentry));
}

void rvisor_relax(void)
{
	if (!in_atomic() && !irqs_disabled())
		cond_resched();
	else
		cpu_relax();
}

/* ---- what procfs and sysinfo show: the machine and a container's host tasks ---- */
void rvisor_machine_info(struct rvisor_machine_info *out)
{
	struct sysinfo info;
	long cached;

	memset(out, 0, sizeof(*out));
	out->boot_ns = ktime_get_boottime_ns();
	out->loads[0] = avenrun[0];
	out->loads[1] = avenrun[1];
	out->loads[2] = avenrun[2];
	si_meminfo(&info);
	out->mem_total = (__u64)info.totalram * info.mem_unit;
	out->mem_free = (__u64)info.freeram * info.mem_unit;
	out->buffers = (__u64)info.bufferram * info.mem_unit;
	out->shmem = (__u64)info.sharedram * info.mem_unit;
	out->mem_available = (__u64)si_mem_available() << PAGE_SHIFT;
	/* As /proc/meminfo's Cached: the page cache less swap cache and buffers (no swap
	 * cache counted here: si_swapinfo is not exported). */
	cached = global_node_page_state(NR_FILE_PAGES) - info.bufferram;
	out->cached = cached > 0 ? (__u64)cached << PAGE_SHIFT : 0;
	out->cpus_online = num_online_cpus();
}

static u64 rvisor_signal_bits(const sigset_t *set)
{
	return set->sig[0];
}

void rvisor_task_stat(struct task_struct *t, bool group, struct rvisor_task_stat *out)
{
	struct mm_struct *mm;
	struct task_struct *thread;
	u64 utime, stime;
	int sig;

	memset(out, 0, sizeof(*out));
	get_task_comm(out->comm, t);
	out->state = task_index_to_char(task_state_index(t));
	out->priority = t->prio - MAX_RT_PRIO;
	out->nice = task_nice(t);
	out->processor = task_cpu(t);
	out->rt_priority = t->rt_priority;
	out->policy = t->policy;
	out->start_boot_ns = t->start_boottime;

	task_cputime_adjusted(t, &utime, &stime);
	out->utime_ns = utime;
	out->stime_ns = stime;
	out->min_flt = t->min_flt;
	out->maj_flt = t->maj_flt;
	out->nvcsw = t->nvcsw;
	out->nivcsw = t->nivcsw;
	out->sig_pending = rvisor_signal_bits(&t->pending.signal);
	out->sig_blocked = rvisor_signal_bits(&t->blocked);

	rcu_read_lock();
	if (pid_alive(t)) {
		struct sighand_struct *sighand = rcu_dereference(t->sighand);

		out->threads = get_nr_threads(t);
		out->sig_shared = rvisor_signal_bits(&t->signal->shared_pending.signal);
		if (group) {
			/* The dead threads' share, then the live ones' (what
			 * thread_group_cputime_adjusted sums; it is not exported). */
			out->utime_ns = t->signal->utime;
			out->stime_ns = t->signal->stime;
			out->min_flt = t->signal->min_flt;
			out->maj_flt = t->signal->maj_flt;
			out->nvcsw = t->signal->nvcsw;
			out->nivcsw = t->signal->nivcsw;
			for_each_thread(t, thread) {
				task_cputime_adjusted(thread, &utime, &stime);
				out->utime_ns += utime;
				out->stime_ns += stime;
				out->min_flt += thread->min_flt;
				out->maj_flt += thread->maj_flt;
				out->nvcsw += thread->nvcsw;
				out->nivcsw += thread->nivcsw;
			}
		}
		/* Handlers read without the siglock, for display only (as a racing reader of
		 * /proc sees one state or the other). */
		for (sig = 1; sighand && sig <= 64 && sig <= _NSIG; sig++) {
			void __user *handler = READ_ONCE(sighand->action[sig - 1].sa.sa_handler);

			if (handler == SIG_IGN)
				out->sig_ignored |= 1ULL << (sig - 1);
			else if (handler != SIG_DFL)
				out->sig_caught |= 1ULL << (sig - 1);
		}
	}
	rcu_read_unlock();

	mm = get_task_mm(t);
	if (!mm)
		return;
	out->has_mm = 1;
	out->vm_size = mm->total_vm << PAGE_SHIFT;
	out->vm_peak = max(mm->hiwater_vm, mm->total_vm) << PAGE_SHIFT;
	out->rss_anon = get_mm_counter(mm, MM_ANONPAGES) << PAGE_SHIFT;
	out->rss_file = get_mm_counter(mm, MM_FILEPAGES) << PAGE_SHIFT;
	out->rss_shmem = get_mm_counter(mm, MM_SHMEMPAGES) << PAGE_SHIFT;
	out->rss = out->rss_anon + out->rss_file + out->rss_shmem;
	out->rss_peak = max(mm->hiwater_rss << PAGE_SHIFT, out->rss);
	out->locked = mm->locked_vm << PAGE_SHIFT;
	out->data = mm->data_vm << PAGE_SHIFT;
	out->stack = mm->stack_vm << PAGE_SHIFT;
	out->text = (PAGE_ALIGN(mm->end_code) - (mm->start_code & PAGE_MASK));
	out->page_tables = mm_pgtables_bytes(mm);
	out->start_code = mm->start_code;
	out->end_code = mm->end_code;
	out->start_stack = mm->start_stack;
	out->start_data = mm->start_data;
	out->end_data = mm->end_data;
	out->start_brk = mm->start_brk;
	spin_lock(&mm->arg_lock);
	out->arg_start = mm->arg_start;
	out->arg_end = mm->arg_end;
	out->env_start = mm->env_start;
	out->env_end = mm->env_end;
	spin_unlock(&mm->arg_lock);
	mmput(mm);
}

long rvisor_task_read_memory(struct task_struct *t, __u64 addr, void *buf, unsigned long len)
{
	int got = access_process_vm(t, addr, buf, len, FOLL_FORCE);

	return got > 0 ? got : 0;
}

/* The features /proc/cpuinfo names (x86_cap_flags is not exported): the common ones,
 * named as the kernel names them. */
static const struct {
	unsigned int bit;
	const char *name;
} rvisor_cpu_flags[] = {
	{ X86_FEATURE_FPU, "fpu" }, { X86_FEATURE_VME, "vme" }, { X86_FEATURE_DE, "de" },
	{ X86_FEATURE_PSE, "pse" }, { X86_FEATURE_TSC, "tsc" }, { X86_FEATURE_MSR, "msr" },
	{ X86_FEATURE_PAE, "pae" }, { X86_FEATURE_MCE, "mce" }, { X86_FEATURE_CX8, "cx8" },
	{ X86_FEATURE_APIC, "apic" }, { X86_FEATURE_SEP, "sep" }, { X86_FEATURE_MTRR, "mtrr" },
	{ X86_FEATURE_PGE, "pge" }, { X86_FEATURE_MCA, "mca" }, { X86_FEATURE_CMOV, "cmov" },
	{ X86_FEATURE_PAT, "pat" }, { X86_FEATURE_PSE36, "pse36" },
	{ X86_FEATURE_CLFLUSH, "clflush" }, { X86_FEATURE_MMX, "mmx" },
	{ X86_FEATURE_FXSR, "fxsr" }, { X86_FEATURE_XMM, "sse" }, { X86_FEATURE_XMM2, "sse2" },
	{ X86_FEATURE_SELFSNOOP, "ss" }, { X86_FEATURE_HT, "ht" },
	{ X86_FEATURE_SYSCALL, "syscall" }, { X86_FEATURE_NX, "nx" },
	{ X86_FEATURE_MMXEXT, "mmxext" }, { X86_FEATURE_FXSR_OPT, "fxsr_opt" },
	{ X86_FEATURE_GBPAGES, "pdpe1gb" }, { X86_FEATURE_RDTSCP, "rdtscp" },
	{ X86_FEATURE_LM, "lm" }, { X86_FEATURE_CONSTANT_TSC, "constant_tsc" },
	{ X86_FEATURE_REP_GOOD, "rep_good" }, { X86_FEATURE_NOPL, "nopl" },
	{ X86_FEATURE_XTOPOLOGY, "xtopology" }, { X86_FEATURE_NONSTOP_TSC, "nonstop_tsc" },
	{ X86_FEATURE_CPUID, "cpuid" }, { X86_FEATURE_TSC_KNOWN_FREQ, "tsc_known_freq" },
	{ X86_FEATURE_XMM3, "pni" }, { X86_FEATURE_PCLMULQDQ, "pclmulqdq" },
	{ X86_FEATURE_SSSE3, "ssse3" }, { X86_FEATURE_FMA, "fma" }, { X86_FEATURE_CX16, "cx16" },
	{ X86_FEATURE_PCID, "pcid" }, { X86_FEATURE_XMM4_1, "sse4_1" },
	{ X86_FEATURE_XMM4_2, "sse4_2" }, { X86_FEATURE_X2APIC, "x2apic" },
	{ X86_FEATURE_MOVBE, "movbe" }, { X86_FEATURE_POPCNT, "popcnt" },
	{ X86_FEATURE_TSC_DEADLINE_TIMER, "tsc_deadline_timer" }, { X86_FEATURE_AES, "aes" },
	{ X86_FEATURE_XSAVE, "xsave" }, { X86_FEATURE_AVX, "avx" }, { X86_FEATURE_F16C, "f16c" },
	{ X86_FEATURE_RDRAND, "rdrand" }, { X86_FEATURE_HYPERVISOR, "hypervisor" },
	{ X86_FEATURE_LAHF_LM, "lahf_lm" }, { X86_FEATURE_ABM, "abm" },
	{ X86_FEATURE_3DNOWPREFETCH, "3dnowprefetch" }, { X86_FEATURE_FSGSBASE, "fsgsbase" },
	{ X86_FEATURE_BMI1, "bmi1" }, { X86_FEATURE_AVX2, "avx2" }, { X86_FEATURE_SMEP, "smep" },
	{ X86_FEATURE_BMI2, "bmi2" }, { X86_FEATURE_ERMS, "erms" },
	{ X86_FEATURE_INVPCID, "invpcid" }, { X86_FEATURE_AVX512F, "avx512f" },
	{ X86_FEATURE_AVX512DQ, "avx512dq" }, { X86_FEATURE_RDSEED, "rdseed" },
	{ X86_FEATURE_ADX, "adx" }, { X86_FEATURE_SMAP, "smap" },
	{ X86_FEATURE_CLFLUSHOPT, "clflushopt" }, { X86_FEATURE_CLWB, "clwb" },
	{ X86_FEATURE_AVX512CD, "avx512cd" }, { X86_FEATURE_SHA_NI, "sha_ni" },
	{ X86_FEATURE_AVX512BW, "avx512bw" }, { X86_FEATURE_AVX512VL, "avx512vl" },
	{ X86_FEATURE_XSAVEOPT, "xsaveopt" }, { X86_FEATURE_XSAVEC, "xsavec" },
	{ X86_FEATURE_XGETBV1, "xgetbv1" }, { X86_FEATURE_XSAVES, "xsaves" },
	{ X86_FEATURE_UMIP, "umip" }, { X86_FEATURE_PKU, "pku" },
	{ X86_FEATURE_VAES, "vaes" }, { X86_FEATURE_VPCLMULQDQ, "vpclmulqdq" },
	{ X86_FEATURE_RDPID, "rdpid" }, { X86_FEATURE_FSRM, "fsrm" },
};

int rvisor_cpu_info(unsigned int cpu, struct rvisor_cpu_info *out)
{
	struct cpuinfo_x86 *c;
	size_t i, len = 0;
	unsigned int threads;

	memset(out, 0, sizeof(*out));
	if (cpu >= nr_cpu_ids || !cpu_online(cpu))
		return -ENODEV;
	c = &cpu_data(cpu);
	strscpy(out->vendor_id, c->x86_vendor_id[0] ? c->x86_vendor_id : "unknown",
		sizeof(out->vendor_id));
	strscpy(out->model_name, c->x86_model_id[0] ? c->x86_model_id : "unknown",
		sizeof(out->model_name));
	out->family = c->x86;
	out->model = c->x86_model;
	out->stepping = c->x86_stepping;
	out->microcode = c->microcode;
	out->khz = cpu_khz;
	out->cache_kb = c->x86_cache_size;
	out->physical_id = topology_physical_package_id(cpu);
	out->core_id = topology_core_id(cpu);
	out->siblings = cpumask_weight(topology_core_cpumask(cpu));
	threads = cpumask_weight(topology_sibling_cpumask(cpu));
	out->cores = threads ? out->siblings / threads : out->siblings;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	out->apicid = c->topo.apicid;
#else
	out->apicid = c->apicid;
#endif
	out->clflush = c->x86_clflush_size;
	out->cache_alignment = c->x86_cache_alignment;
	out->phys_bits = c->x86_phys_bits;
	out->virt_bits = c->x86_virt_bits;
	out->bogomips_x100 = (unsigned int)(c->loops_per_jiffy / (5000 / HZ));
	for (i = 0; i < ARRAY_SIZE(rvisor_cpu_flags); i++) {
		const char *name = rvisor_cpu_flags[i].name;
		size_t name_len = strlen(name);

		if (!cpu_has(c, rvisor_cpu_flags[i].bit))
			continue;
		if (len + name_len + 2 > sizeof(out->flags))
			break;
		if (len)
			out->flags[len++] = ' ';
		memcpy(out->flags + len, name, name_len);
		len += name_len;
	}
	return 0;
}

unsigned int rvisor_nr_cpu_ids(void)
{
	return nr_cpu_ids;
}

/* The name a file mapping shows in the container: its host path with the container root
 * cut off, or NULL outside the root. */
static const char *rvisor_container_path(struct file *file, const char *root,
					 unsigned long root_len, char *page)
{
	char *path = d_path(&file->f_path, page, PAGE_SIZE);
	size_t len;

	if (IS_ERR(path))
		return NULL;
	if (root_len == 1 && root[0] == '/')
		return path;
	len = strlen(path);
	if (len < root_len || memcmp(path, root, root_len))
		return NULL;
	if (len == root_len)
		return "/";
	if (path[root_len] != '/')
		return NULL;
	return path + root_len;
}

/* A memfd of the container's (a shmem file named "memfd:…", which rVisor's own files never
 * are), named as Linux's maps names it: "/memfd:NAME (deleted)". NULL for any other file. */
static const char *rvisor_memfd_path(struct file *file, char *page)
{
	/* A memfd's dentry is never renamed: its name is stable without the dentry's lock. */
	const char *dname = (const char *)file->f_path.dentry->d_name.name;
	char *path;

	if (file_inode(file)->i_sb->s_magic != TMPFS_MAGIC || strncmp(dname, "memfd:", 6))
		return NULL;
	path = d_path(&file->f_path, page, PAGE_SIZE);
	return IS_ERR(path) ? NULL : path;
}

/* The spaces between a maps line's header of `header` bytes and its name: the header is
 * padded to 72 columns (seq_setwidth(25 + 6 * sizeof(void *) - 1)), then one space. */
static int used_pad(int header)
{
	return header < 72 ? 72 - header + 1 : 1;
}

long rvisor_task_maps(struct task_struct *t, const char *root, unsigned long root_len,
		      char *buf, unsigned long len)
{
	struct mm_struct *mm = get_task_mm(t);
	struct vm_area_struct *vma;
	unsigned long used = 0;
	long ret = 0;
	char *page;

	if (!mm)
		return -ESRCH;
	page = (char *)__get_free_page(GFP_KERNEL);
	if (!page) {
		mmput(mm);
		return -ENOMEM;
	}
	if (mmap_read_lock_killable(mm)) {
		free_page((unsigned long)page);
		mmput(mm);
		return -EINTR;
	}
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma) {
			struct file *file = vma->vm_file;
			const char *name = NULL;
			unsigned long dev = 0, ino = 0;
			int n;

			if (file) {
				struct inode *inode = file_inode(file);

				name = rvisor_container_path(file, root, root_len, page);
				if (!name)
					name = rvisor_memfd_path(file, page);
				/* Any other file outside the root is rVisor's own (the container's
				 * physical memory): its pages are the program's anonymous
				 * memory as far as the container can tell. */
				if (name) {
					dev = inode->i_sb->s_dev;
					ino = inode->i_ino;
				} else {
					file = NULL;
				}
			}
			if (!name && !vma->vm_file && vma->vm_ops && vma->vm_ops->name)
				name = vma->vm_ops->name(vma);
			if (!name && vma->vm_start <= mm->brk && vma->vm_end >= mm->start_brk)
				name = "[heap]";
			if (!name && vma->vm_start <= mm->start_stack &&
			    vma->vm_end >= mm->start_stack)
				name = "[stack]";
			n = snprintf(buf + used, len - used, "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu ",
				     vma->vm_start, vma->vm_end,
				     vma->vm_flags & VM_READ ? 'r' : '-',
				     vma->vm_flags & VM_WRITE ? 'w' : '-',
				     vma->vm_flags & VM_EXEC ? 'x' : '-',
				     vma->vm_flags & VM_MAYSHARE ? 's' : 'p',
				     file ? (unsigned long long)vma->vm_pgoff << PAGE_SHIFT : 0ULL,
				     MAJOR(dev), MINOR(dev), ino);
			if (n < 0 || (unsigned long)n >= len - used) {
				ret = -ENOSPC;
				break;
			}
			used += n;
			if (name) {
				/* Linux pads the header to 25 + 6 pointer widths, then a space. */
				n = snprintf(buf + used, len - used, "%*s%s", used_pad(n), "", name);
				if (n < 0 || (unsigned long)n >= len - used) {
					ret = -ENOSPC;
					break;
				}
				used += n;
			}
			if (used + 1 >= len) {
				ret = -ENOSPC;
				break;
			}
			buf[used++] = '\n';
		}
	}
	mmap_read_unlock(mm);
	free_page((unsigned long)page);
	mmput(mm);
	return ret ? ret : (long)used;
}

/* ---- filesystems mounted in a container ---- */
int rvisor_tmpfs_new(const char *options, bool read_only, struct rvisor_path *out)
{
	struct file_system_type *type = get_fs_type("tmpfs");
	struct fs_context *fc;
	struct vfsmount *mnt;
	char *copy, *rest, *option;
	int ret = 0;

	if (!type)
		return -ENODEV;
	fc = fs_context_for_mount(type, read_only ? SB_RDONLY : 0);
	if (IS_ERR(fc))
		return PTR_ERR(fc);
	copy = kstrdup(options, GFP_KERNEL);
	if (!copy) {
		put_fs_context(fc);
		return -ENOMEM;
	}
	rest = copy;
	while ((option = strsep(&rest, ",")) != NULL) {
		char *value;

		if (!*option)
			continue;
		value = strchr(option, '=');
		if (value)
			*value++ = '\0';
		ret = vfs_parse_fs_string(fc, option, value, value ? strlen(value) : 0);
		if (ret)
			break;
	}
	kfree(copy);
	if (ret) {
		put_fs_context(fc);
		return ret;
	}
	mnt = fc_mount(fc);
	put_fs_context(fc);
	if (IS_ERR(mnt))
		return PTR_ERR(mnt);
	out->path.mnt = mnt;
	out->path.dentry = dget(mnt->mnt_root);
	out->reader = NULL;
	out->writer = NULL;
	return 0;
}

void rvisor_path_fstype(struct rvisor_path *p, char *buf, int len)
{
	strscpy(buf, p->path.mnt->mnt_sb->s_type->name, len);
}

bool rvisor_path_read_only(struct rvisor_path *p)
{
	return __mnt_is_readonly(p->path.mnt);
}

void rvisor_task_set_comm(struct task_struct *t, const char *name, unsigned long len)
{
	char comm[TASK_COMM_LEN];

	memset(comm, 0, sizeof(comm));
	memcpy(comm, name, min_t(unsigned long, len, sizeof(comm) - 1));
	task_lock(t);
	strscpy_pad(t->comm, comm, sizeof(t->comm));
	task_unlock(t);
}

int rvisor_task_oom_score_adj(struct task_struct *t)
{
	return READ_ONCE(t->signal->oom_score_adj);
}

int rvisor_task_set_oom_score_adj(struct task_struct *t, int value)
{
	int ret = 0;

	if (value < OOM_SCORE_ADJ_MIN || value > OOM_SCORE_ADJ_MAX)
		return -EINVAL;
	/* As __set_oom_adj, under the task's lock (its oom_adj_mutex is not exported). */
	task_lock(t);
	if (!t->signal) {
		ret = -ESRCH;
	} else if (value < t->signal->oom_score_adj_min && !capable(CAP_SYS_RESOURCE)) {
		ret = -EACCES;
	} else {
		WRITE_ONCE(t->signal->oom_score_adj, value);
		if (has_capability_noaudit(current, CAP_SYS_RESOURCE))
			t->signal->oom_score_adj_min = value;
	}
	task_unlock(t);
	return ret;
}

void rvisor_task_limits(struct task_struct *t, __u64 *soft, __u64 *hard)
{
	int i;

	task_lock(t);
	for (i = 0; i < RLIM_NLIMITS; i++) {
		soft[i] = READ_ONCE(t->signal->rlim[i].rlim_cur);
		hard[i] = READ_ONCE(t->signal->rlim[i].rlim_max);
	}
	task_unlock(t);
}
