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

bool rvisor_log_ratelimit(void)
{
	static DEFINE_RATELIMIT_STATE(rs, DEFAULT_RATELIMIT_INTERVAL, DEFAULT_RATELIMIT_BURST);

	return __ratelimit(&rs);
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
 * The ftrace callback on __secure_computing: only tasks with a seccomp filter get here. Decides
 * at once and never calls the original through a pointer (its ENDBR is sealed on IBT kernels):
 * a call that is not taken over runs the original untouched.
 */
static void notrace rvisor_gate_ftrace(unsigned long ip, unsigned long parent_ip,
				       struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	struct pt_regs *user = task_pt_regs(current);
	struct pt_regs *regs;
	long ret = 0;
	int verdict;

	/* Rust takes its spin locks without toggling preemption itself on this path. */
	preempt_disable_notrace();
	verdict = rvisor_rs_gate_decide((const struct rvisor_pt_regs *)user, current,
					syscall_get_arch(current) == AUDIT_ARCH_I386, &ret);
	preempt_enable_notrace();
	switch (verdict) {
	case RVISOR_GATE_SERVE:
		regs = ftrace_get_regs(fregs);
		if (regs)
			regs->ip = (unsigned long)rvisor_gate_serve;
		break;
	case RVISOR_GATE_RETURN:
		regs = ftrace_get_regs(fregs);
		if (regs) {
			user->ax = ret;
			regs->ip = (unsigned long)rvisor_gate_answered;
		}
		break;
	default:
		break;
	}
}

static struct ftrace_ops gate_ops = {
	.func = rvisor_gate_ftrace,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_RECURSION | FTRACE_OPS_FL_IPMODIFY,
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

static struct {
	const char *name;
	void *probe;
	struct tracepoint *tp;
} tracepoints[] = {
	{ "sched_process_fork", probe_fork },
	{ "sched_process_exit", probe_exit },
	{ "sched_process_exec", probe_exec },
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
	if (!secure_computing_addr || !sys_seccomp) {
		pr_err("this kernel has no __secure_computing or seccomp(): CONFIG_SECCOMP_FILTER and kprobes are required\n");
		return -ENOENT;
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
		pr_err("ftrace on __secure_computing refused (%d): is CONFIG_DYNAMIC_FTRACE_WITH_REGS set?\n", ret);
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
	return ret;
}

void rvisor_hooks_unregister(void)
{
	unregister_ftrace_function(&gate_ops);
	ftrace_set_filter_ip(&gate_ops, secure_computing_addr, 1, 0);
	unregister_tracepoints();
}

/* ---------------------------------------------------------------- host paths */

struct rvisor_path {
	struct path path;
};

int rvisor_path_lookup_dir(const char *name, struct rvisor_path **out)
{
	struct rvisor_path *p = kmalloc(sizeof(*p), GFP_KERNEL);
	int ret;

	if (!p)
		return -ENOMEM;
	ret = kern_path(name, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &p->path);
	if (ret) {
		kfree(p);
		return ret;
	}
	*out = p;
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

void rvisor_path_release(struct rvisor_path *p)
{
	path_put(&p->path);
	kfree(p);
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
}

module_init(rvisor_init);
module_exit(rvisor_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("The rVisor developers");
MODULE_DESCRIPTION("rVisor: containers served by an application kernel in Rust");
