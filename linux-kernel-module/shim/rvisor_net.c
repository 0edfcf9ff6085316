// SPDX-License-Identifier: GPL-2.0
/*
 * Host kernel sockets for rVisor (see rvisor_net.h). What net/socket.c does for a syscall on a
 * socket descriptor, done on a socket rVisor holds: the same copies of addresses and message
 * headers from user memory, the same proto_ops calls, the same write-backs. The LSM hooks that
 * net/socket.c calls around bind, connect, listen, accept, getsockname, shutdown and the
 * socket options are not exported to modules: those calls reach the protocol without them
 * (socket creation, sendmsg and recvmsg keep theirs: sock_create, sock_sendmsg and
 * sock_recvmsg make them).
 */
#include <linux/module.h>
#include <linux/version.h>
#include <linux/kprobes.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/uio.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/time64.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockptr.h>
#include <linux/cred.h>
#include <linux/capability.h>
#include <net/sock.h>
#include <net/net_namespace.h>
#include <linux/nsproxy.h>
#include "rvisor_shim.h"

#ifndef ITER_SOURCE
#define ITER_SOURCE WRITE
#define ITER_DEST READ
#endif
#ifndef MSG_INTERNAL_SENDMSG_FLAGS
#define MSG_INTERNAL_SENDMSG_FLAGS 0
#endif

static int netlink_unprivileged(struct socket *sock, const struct cred **saved,
				struct cred **reduced);
static void netlink_restore(const struct cred *saved, struct cred *reduced);

static struct socket *sock_of(struct file *f)
{
	return sock_from_file(f);
}

/* move_addr_to_kernel (not exported). */
static int addr_from_user(unsigned long uaddr, int ulen, struct sockaddr_storage *kaddr)
{
	if (ulen < 0 || ulen > sizeof(struct sockaddr_storage))
		return -EINVAL;
	if (ulen == 0)
		return 0;
	if (copy_from_user(kaddr, (void __user *)uaddr, ulen))
		return -EFAULT;
	return 0;
}

/* move_addr_to_user (not exported). */
static int addr_to_user(struct sockaddr_storage *kaddr, int klen, void __user *uaddr,
			int __user *ulen)
{
	int len;

	if (klen < 0 || klen > sizeof(struct sockaddr_storage))
		klen = sizeof(struct sockaddr_storage);
	if (get_user(len, ulen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	if (len > klen)
		len = klen;
	if (len && copy_to_user(uaddr, kaddr, len))
		return -EFAULT;
	return put_user(klen, ulen);
}

static int import_one(int dir, unsigned long ubuf, unsigned long len, struct iovec *iov,
		      struct iov_iter *iter)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
	return import_ubuf(dir, (void __user *)ubuf, len, iter);
#else
	return import_single_range(dir, (void __user *)ubuf, len, iov, iter);
#endif
}

struct file *rvisor_sock_open(int family, int type, int protocol, long *err)
{
	const struct cred *saved = NULL;
	struct cred *reduced = NULL;
	struct socket *sock;
	struct file *f = NULL;
	int ret;

	/* The file keeps the credentials it is made with (see netlink_unprivileged). */
	if (family == AF_NETLINK) {
		ret = netlink_unprivileged(NULL, &saved, &reduced);
		if (ret) {
			*err = ret;
			return NULL;
		}
	}
	/* The caller's network namespace (current->nsproxy->net_ns), as a user's socket. */
	ret = sock_create(family, type, protocol, &sock);
	if (ret < 0) {
		*err = ret;
		goto out;
	}
	/* On failure sock_alloc_file releases the socket. */
	f = sock_alloc_file(sock, 0, NULL);
	if (IS_ERR(f)) {
		*err = PTR_ERR(f);
		f = NULL;
		goto out;
	}
	*err = 0;
out:
	netlink_restore(saved, reduced);
	return f;
}

int rvisor_sock_family(struct file *f)
{
	return sock_of(f)->sk->sk_family;
}

long rvisor_sock_bind(struct file *f, unsigned long uaddr, int addrlen)
{
	struct socket *sock = sock_of(f);
	struct sockaddr_storage address;
	int err;

	err = addr_from_user(uaddr, addrlen, &address);
	if (err < 0)
		return err;
	return READ_ONCE(sock->ops)->bind(sock, (struct sockaddr *)&address, addrlen);
}

long rvisor_sock_connect(struct file *f, unsigned long uaddr, int addrlen, bool nonblock)
{
	struct socket *sock = sock_of(f);
	struct sockaddr_storage address;
	const struct cred *saved = NULL;
	struct cred *reduced;
	int err;

	err = addr_from_user(uaddr, addrlen, &address);
	if (err < 0)
		return err;
	err = netlink_unprivileged(sock, &saved, &reduced);
	if (err)
		return err;
	err = READ_ONCE(sock->ops)->connect(sock, (struct sockaddr *)&address, addrlen,
					    f->f_flags | (nonblock ? O_NONBLOCK : 0));
	netlink_restore(saved, reduced);
	return err;
}

long rvisor_sock_listen(struct file *f, int backlog)
{
	struct socket *sock = sock_of(f);
	int somaxconn = READ_ONCE(sock_net(sock->sk)->core.sysctl_somaxconn);

	if ((unsigned int)backlog > somaxconn)
		backlog = somaxconn;
	return READ_ONCE(sock->ops)->listen(sock, backlog);
}

long rvisor_sock_accept(struct file *f, unsigned long uaddr, unsigned long uaddrlen,
			bool nonblock, struct file **out)
{
	struct socket *sock = sock_of(f);
	const struct proto_ops *ops = READ_ONCE(sock->ops);
	struct sockaddr_storage address;
	struct socket *newsock;
	struct file *newfile;
	int flags = f->f_flags | (nonblock ? O_NONBLOCK : 0);
	int err, len;

	/* do_accept, without the fd (rVisor's) and the LSM hook (not exported). */
	newsock = sock_alloc();
	if (!newsock)
		return -ENFILE;
	newsock->type = sock->type;
	newsock->ops = ops;
	__module_get(ops->owner);
	newfile = sock_alloc_file(newsock, 0, sock->sk->sk_prot_creator->name);
	if (IS_ERR(newfile))
		return PTR_ERR(newfile);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
	{
		struct proto_accept_arg arg = { .flags = flags, .kern = false };

		err = ops->accept(sock, newsock, &arg);
	}
#else
	err = ops->accept(sock, newsock, flags, false);
#endif
	if (err < 0)
		goto out_fput;
	if (uaddr) {
		len = ops->getname(newsock, (struct sockaddr *)&address, 2);
		if (len < 0) {
			err = -ECONNABORTED;
			goto out_fput;
		}
		err = addr_to_user(&address, len, (void __user *)uaddr, (int __user *)uaddrlen);
		if (err < 0)
			goto out_fput;
	}
	*out = newfile;
	return 0;
out_fput:
	fput(newfile);
	return err;
}

long rvisor_sock_name(struct file *f, unsigned long uaddr, unsigned long uaddrlen, bool peer)
{
	struct socket *sock = sock_of(f);
	struct sockaddr_storage address;
	int len;

	len = READ_ONCE(sock->ops)->getname(sock, (struct sockaddr *)&address, peer ? 1 : 0);
	if (len < 0)
		return len;
	return addr_to_user(&address, len, (void __user *)uaddr, (int __user *)uaddrlen);
}

long rvisor_sock_shutdown(struct file *f, int how)
{
	struct socket *sock = sock_of(f);

	return READ_ONCE(sock->ops)->shutdown(sock, how);
}

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 9, 0)
/* net/socket.c's own (static): MPTCP takes SOL_SOCKET options itself. */
static bool sock_use_custom_sol_socket(const struct socket *sock)
{
	const struct sock *sk = sock->sk;

	return IS_ENABLED(CONFIG_MPTCP) && sk->sk_protocol == IPPROTO_MPTCP &&
	       sk->sk_type == SOCK_STREAM &&
	       (sk->sk_family == AF_INET || sk->sk_family == AF_INET6);
}
#endif

long rvisor_sock_setsockopt(struct file *f, int level, int name, unsigned long uval, int len)
{
	struct socket *sock = sock_of(f);

	if (len < 0)
		return -EINVAL;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	return do_sock_setsockopt(sock, false, level, name, USER_SOCKPTR((void __user *)uval),
				  len);
#else
	if (level == SOL_SOCKET && !sock_use_custom_sol_socket(sock))
		return sock_setsockopt(sock, level, name, USER_SOCKPTR((void __user *)uval), len);
	if (!sock->ops->setsockopt)
		return -EOPNOTSUPP;
	return sock->ops->setsockopt(sock, level, name, USER_SOCKPTR((void __user *)uval), len);
#endif
}

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 9, 0)
/*
 * sock_getsockopt is not exported before 6.9 (do_sock_getsockopt is, after). Found by its
 * symbol; these kernels have no IBT (CONFIG_X86_KERNEL_IBT came with the 6.2 series' configs
 * in Debian), so a call through the pointer is a plain call.
 */
typedef int (*sock_getsockopt_fn)(struct socket *, int, int, char __user *, int __user *);
static sock_getsockopt_fn sock_getsockopt_ptr;

static sock_getsockopt_fn find_sock_getsockopt(void)
{
	sock_getsockopt_fn fn = READ_ONCE(sock_getsockopt_ptr);
	struct kprobe kp = { .symbol_name = "sock_getsockopt" };

	if (fn)
		return fn;
	if (register_kprobe(&kp) < 0)
		return NULL;
	fn = (sock_getsockopt_fn)kp.addr;
	unregister_kprobe(&kp);
	WRITE_ONCE(sock_getsockopt_ptr, fn);
	return fn;
}
#endif

long rvisor_sock_getsockopt(struct file *f, int level, int name, unsigned long uval,
			    unsigned long ulen)
{
	struct socket *sock = sock_of(f);

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	return do_sock_getsockopt(sock, false, level, name, USER_SOCKPTR((void __user *)uval),
				  USER_SOCKPTR((void __user *)ulen));
#else
	if (level == SOL_SOCKET) {
		sock_getsockopt_fn fn = find_sock_getsockopt();

		if (!fn)
			return -ENOPROTOOPT;
		return fn(sock, level, name, (char __user *)uval, (int __user *)ulen);
	}
	if (!sock->ops->getsockopt)
		return -EOPNOTSUPP;
	return sock->ops->getsockopt(sock, level, name, (char __user *)uval, (int __user *)ulen);
#endif
}

/*
 * NETLINK_ROUTE is read-only for a container: the host sees its calls as an unprivileged
 * caller's. rtnetlink refuses every request but a GET to a sender without CAP_NET_ADMIN
 * (netlink_net_capable: the socket opener's credentials and the sender's), answering it with
 * the NLMSG_ERROR -EPERM after serving the requests before it; netlink_sendmsg and
 * netlink_connect refuse a destination other than the kernel (a multicast group or another
 * socket, which would let a container forge notifications to the namespace's listeners) with
 * -EPERM. So the socket is opened, and every send and connect made, with the caller's
 * credentials minus CAP_NET_ADMIN; the host's own checks and errors do the rest.
 */
static int netlink_unprivileged(struct socket *sock, const struct cred **saved,
				struct cred **reduced)
{
	*reduced = NULL;
	if (sock && sock->sk->sk_family != AF_NETLINK)
		return 0;
	*reduced = prepare_creds();
	if (!*reduced)
		return -ENOMEM;
	cap_lower((*reduced)->cap_effective, CAP_NET_ADMIN);
	*saved = override_creds(*reduced);
	return 0;
}

static void netlink_restore(const struct cred *saved, struct cred *reduced)
{
	if (reduced) {
		revert_creds(saved);
		put_cred(reduced);
	}
}

static int send_checked(struct socket *sock, struct msghdr *msg)
{
	const struct cred *saved = NULL;
	struct cred *reduced;
	int err;

	err = netlink_unprivileged(sock, &saved, &reduced);
	if (err)
		return err;
	err = sock_sendmsg(sock, msg);
	netlink_restore(saved, reduced);
	return err;
}

/* ___sys_sendmsg on a user msghdr; `allowed` are the msghdr flags sendmmsg keeps. */
static long send_user_msghdr(struct socket *sock, struct user_msghdr __user *umsg,
			     unsigned int flags, bool nonblock, unsigned int allowed,
			     size_t *left)
{
	struct user_msghdr m;
	struct msghdr msg = {};
	struct sockaddr_storage address;
	struct iovec iovstack[UIO_FASTIOV], *iov = iovstack;
	unsigned char ctl[sizeof(struct cmsghdr) + 20] __aligned(sizeof(__kernel_size_t));
	unsigned char *ctl_buf = ctl;
	long err;

	if (copy_from_user(&m, umsg, sizeof(m)))
		return -EFAULT;
	/* __copy_msghdr */
	msg.msg_namelen = m.msg_name ? m.msg_namelen : 0;
	if (msg.msg_namelen < 0)
		return -EINVAL;
	if (msg.msg_namelen > sizeof(struct sockaddr_storage))
		msg.msg_namelen = sizeof(struct sockaddr_storage);
	if (m.msg_name && msg.msg_namelen) {
		err = addr_from_user((unsigned long)m.msg_name, msg.msg_namelen, &address);
		if (err < 0)
			return err;
		msg.msg_name = &address;
	}
	if (m.msg_iovlen > UIO_MAXIOV)
		return -EMSGSIZE;
	err = import_iovec(ITER_SOURCE, m.msg_iov, m.msg_iovlen, UIO_FASTIOV, &iov,
			   &msg.msg_iter);
	if (err < 0)
		return err;
	/* ____sys_sendmsg */
	err = -ENOBUFS;
	if (m.msg_controllen > INT_MAX)
		goto out_iov;
	if (m.msg_controllen) {
		if (m.msg_controllen > sizeof(ctl)) {
			ctl_buf = sock_kmalloc(sock->sk, m.msg_controllen, GFP_KERNEL);
			if (!ctl_buf)
				goto out_iov;
		}
		err = -EFAULT;
		if (copy_from_user(ctl_buf, m.msg_control, m.msg_controllen))
			goto out_ctl;
		msg.msg_control = ctl_buf;
		msg.msg_control_is_user = false;
		msg.msg_controllen = m.msg_controllen;
	}
	flags &= ~MSG_INTERNAL_SENDMSG_FLAGS;
	msg.msg_flags = flags | (m.msg_flags & allowed);
	if (nonblock)
		msg.msg_flags |= MSG_DONTWAIT;
	err = send_checked(sock, &msg);
	if (left)
		*left = msg_data_left(&msg);
out_ctl:
	if (ctl_buf != ctl)
		sock_kfree_s(sock->sk, ctl_buf, m.msg_controllen);
out_iov:
	kfree(iov);
	return err;
}

/* ___sys_recvmsg on a user msghdr. */
static long recv_user_msghdr(struct socket *sock, struct user_msghdr __user *umsg,
			     unsigned int flags, bool nonblock, unsigned int *msg_flags)
{
	struct user_msghdr m;
	struct msghdr msg = {};
	struct sockaddr_storage address;
	struct iovec iovstack[UIO_FASTIOV], *iov = iovstack;
	unsigned long cmsg_ptr;
	int namelen;
	long err, len;

	if (copy_from_user(&m, umsg, sizeof(m)))
		return -EFAULT;
	namelen = m.msg_name ? m.msg_namelen : 0;
	if (namelen < 0)
		return -EINVAL;
	if (m.msg_iovlen > UIO_MAXIOV)
		return -EMSGSIZE;
	err = import_iovec(ITER_DEST, m.msg_iov, m.msg_iovlen, UIO_FASTIOV, &iov, &msg.msg_iter);
	if (err < 0)
		return err;
	msg.msg_control_is_user = true;
	msg.msg_control_user = m.msg_control;
	msg.msg_controllen = m.msg_controllen;
	cmsg_ptr = (unsigned long)m.msg_control;
	msg.msg_name = &address;
	msg.msg_namelen = 0;
	msg.msg_flags = flags & (MSG_CMSG_CLOEXEC | MSG_CMSG_COMPAT);
	if (nonblock)
		flags |= MSG_DONTWAIT;
	err = sock_recvmsg(sock, &msg, flags);
	if (err < 0)
		goto out;
	len = err;
	if (m.msg_name) {
		err = addr_to_user(&address, msg.msg_namelen, m.msg_name, &umsg->msg_namelen);
		if (err < 0)
			goto out;
	}
	err = put_user(msg.msg_flags & ~MSG_CMSG_COMPAT, &umsg->msg_flags);
	if (err)
		goto out;
	err = put_user((unsigned long)msg.msg_control_user - cmsg_ptr, &umsg->msg_controllen);
	if (err)
		goto out;
	if (msg_flags)
		*msg_flags = msg.msg_flags;
	err = len;
out:
	kfree(iov);
	return err;
}

long rvisor_sock_sendmsg(struct file *f, unsigned long umsg, unsigned int flags, bool nonblock)
{
	if (flags & MSG_CMSG_COMPAT)
		return -EINVAL;
	return send_user_msghdr(sock_of(f), (struct user_msghdr __user *)umsg, flags, nonblock, 0,
				NULL);
}

long rvisor_sock_recvmsg(struct file *f, unsigned long umsg, unsigned int flags, bool nonblock)
{
	if (flags & MSG_CMSG_COMPAT)
		return -EINVAL;
	return recv_user_msghdr(sock_of(f), (struct user_msghdr __user *)umsg, flags, nonblock,
				NULL);
}

long rvisor_sock_sendto(struct file *f, unsigned long ubuf, unsigned long len,
			unsigned int flags, unsigned long uaddr, int addrlen, bool nonblock)
{
	struct socket *sock = sock_of(f);
	struct sockaddr_storage address;
	struct msghdr msg = {};
	struct iovec iov;
	int err;

	err = import_one(ITER_SOURCE, ubuf, len, &iov, &msg.msg_iter);
	if (err)
		return err;
	if (uaddr) {
		err = addr_from_user(uaddr, addrlen, &address);
		if (err < 0)
			return err;
		msg.msg_name = &address;
		msg.msg_namelen = addrlen;
	}
	flags &= ~MSG_INTERNAL_SENDMSG_FLAGS;
	if (nonblock)
		flags |= MSG_DONTWAIT;
	msg.msg_flags = flags;
	return send_checked(sock, &msg);
}

long rvisor_sock_recvfrom(struct file *f, unsigned long ubuf, unsigned long len,
			  unsigned int flags, unsigned long uaddr, unsigned long uaddrlen,
			  bool nonblock)
{
	struct socket *sock = sock_of(f);
	struct sockaddr_storage address;
	struct msghdr msg = {};
	struct iovec iov;
	int err, err2;

	err = import_one(ITER_DEST, ubuf, len, &iov, &msg.msg_iter);
	if (err)
		return err;
	msg.msg_name = uaddr ? (struct sockaddr *)&address : NULL;
	msg.msg_namelen = 0;
	if (nonblock)
		flags |= MSG_DONTWAIT;
	err = sock_recvmsg(sock, &msg, flags);
	if (err >= 0 && uaddr) {
		err2 = addr_to_user(&address, msg.msg_namelen, (void __user *)uaddr,
				    (int __user *)uaddrlen);
		if (err2 < 0)
			err = err2;
	}
	return err;
}

long rvisor_sock_sendmmsg(struct file *f, unsigned long umsgvec, unsigned int vlen,
			  unsigned int flags, bool nonblock)
{
	struct socket *sock = sock_of(f);
	struct mmsghdr __user *entry = (struct mmsghdr __user *)umsgvec;
	unsigned int oflags = flags, datagrams = 0;
	size_t left = 0;
	long err = 0;

	if (flags & MSG_CMSG_COMPAT)
		return -EINVAL;
	if (vlen > UIO_MAXIOV)
		vlen = UIO_MAXIOV;
	flags |= MSG_BATCH;
	while (datagrams < vlen) {
		if (datagrams == vlen - 1)
			flags = oflags;
		err = send_user_msghdr(sock, (struct user_msghdr __user *)entry, flags, nonblock,
				       MSG_EOR, &left);
		if (err < 0)
			break;
		err = put_user(err, &entry->msg_len);
		++entry;
		if (err)
			break;
		++datagrams;
		if (left)
			break;
		cond_resched();
	}
	if (datagrams != 0)
		return datagrams;
	return err;
}

/* timespec64_add_safe (not exported): a sum past the representable range saturates. */
static struct timespec64 add_saturating(struct timespec64 a, struct timespec64 b)
{
	struct timespec64 sum;

	if (a.tv_sec > KTIME_SEC_MAX - b.tv_sec) {
		sum.tv_sec = TIME64_MAX;
		sum.tv_nsec = 0;
		return sum;
	}
	set_normalized_timespec64(&sum, a.tv_sec + b.tv_sec, a.tv_nsec + b.tv_nsec);
	return sum;
}

long rvisor_sock_recvmmsg(struct file *f, unsigned long umsgvec, unsigned int vlen,
			  unsigned int flags, unsigned long utimeout, bool nonblock)
{
	struct socket *sock = sock_of(f);
	struct mmsghdr __user *entry = (struct mmsghdr __user *)umsgvec;
	struct timespec64 timeout, end_time, now;
	unsigned int msg_flags = 0;
	long err = 0, datagrams = 0;

	if (flags & MSG_CMSG_COMPAT)
		return -EINVAL;
	if (utimeout) {
		if (get_timespec64(&timeout, (struct __kernel_timespec __user *)utimeout))
			return -EFAULT;
		/* poll_select_set_timeout */
		if (!timespec64_valid(&timeout))
			return -EINVAL;
		ktime_get_ts64(&now);
		end_time = add_saturating(now, timeout);
	}
	if (vlen > UIO_MAXIOV)
		vlen = UIO_MAXIOV;
	if (!(flags & MSG_ERRQUEUE)) {
		err = sock_error(sock->sk);
		if (err)
			return err;
	}
	while (datagrams < vlen) {
		err = recv_user_msghdr(sock, (struct user_msghdr __user *)entry,
				       flags & ~MSG_WAITFORONE, nonblock, &msg_flags);
		if (err < 0)
			break;
		err = put_user(err, &entry->msg_len);
		++entry;
		if (err)
			break;
		++datagrams;
		if (flags & MSG_WAITFORONE)
			flags |= MSG_DONTWAIT;
		if (utimeout) {
			ktime_get_ts64(&now);
			timeout = timespec64_sub(end_time, now);
			if (timeout.tv_sec < 0) {
				timeout.tv_sec = timeout.tv_nsec = 0;
				break;
			}
			if (timeout.tv_nsec == 0 && timeout.tv_sec == 0)
				break;
		}
		if (msg_flags & MSG_OOB)
			break;
		cond_resched();
	}
	if (err == 0)
		goto out;
	if (datagrams == 0)
		return err;
	if (err != -EAGAIN)
		WRITE_ONCE(sock->sk->sk_err, -err);
out:
	if (utimeout && datagrams > 0 &&
	    put_timespec64(&timeout, (struct __kernel_timespec __user *)utimeout))
		return -EFAULT;
	return datagrams;
}

long rvisor_sock_readv(struct file *f, unsigned long uiov, unsigned long iovcnt, bool nonblock)
{
	struct iovec iovstack[UIO_FASTIOV], *iov = iovstack;
	struct msghdr msg = {};
	long err;

	err = import_iovec(ITER_DEST, (const struct iovec __user *)uiov, iovcnt, UIO_FASTIOV,
			   &iov, &msg.msg_iter);
	if (err < 0)
		return err;
	if (iov_iter_count(&msg.msg_iter))
		err = sock_recvmsg(sock_of(f), &msg, nonblock ? MSG_DONTWAIT : 0);
	else
		err = 0;
	kfree(iov);
	return err;
}

long rvisor_sock_writev(struct file *f, unsigned long uiov, unsigned long iovcnt, bool nonblock)
{
	struct iovec iovstack[UIO_FASTIOV], *iov = iovstack;
	struct msghdr msg = {};
	long err;

	err = import_iovec(ITER_SOURCE, (const struct iovec __user *)uiov, iovcnt, UIO_FASTIOV,
			   &iov, &msg.msg_iter);
	if (err < 0)
		return err;
	msg.msg_flags = MSG_NOSIGNAL | (nonblock ? MSG_DONTWAIT : 0);
	err = send_checked(sock_of(f), &msg);
	kfree(iov);
	return err;
}

long rvisor_sock_read_user(struct file *f, unsigned long ubuf, unsigned long len, bool nonblock)
{
	struct msghdr msg = {};
	struct iovec iov;
	int err;

	err = import_one(ITER_DEST, ubuf, len, &iov, &msg.msg_iter);
	if (err)
		return err;
	if (!iov_iter_count(&msg.msg_iter))
		return 0;
	return sock_recvmsg(sock_of(f), &msg, nonblock ? MSG_DONTWAIT : 0);
}

long rvisor_sock_write_user(struct file *f, unsigned long ubuf, unsigned long len,
			    bool nonblock)
{
	struct msghdr msg = {};
	struct iovec iov;
	int err;

	err = import_one(ITER_SOURCE, ubuf, len, &iov, &msg.msg_iter);
	if (err)
		return err;
	msg.msg_flags = MSG_NOSIGNAL | (nonblock ? MSG_DONTWAIT : 0);
	return send_checked(sock_of(f), &msg);
}

long rvisor_sock_read_kernel(struct file *f, void *buf, unsigned long len)
{
	struct msghdr msg = {};
	struct kvec kv = { .iov_base = buf, .iov_len = len };

	if (!len)
		return 0;
	return kernel_recvmsg(sock_of(f), &msg, &kv, 1, len, MSG_DONTWAIT);
}

long rvisor_sock_write_kernel(struct file *f, const void *buf, unsigned long len)
{
	struct msghdr msg = {};
	struct kvec kv = { .iov_base = (void *)buf, .iov_len = len };

	msg.msg_flags = MSG_NOSIGNAL | MSG_DONTWAIT;
	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &kv, 1, len);
	return send_checked(sock_of(f), &msg);
}

long rvisor_sock_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	if (!f->f_op->unlocked_ioctl)
		return -ENOTTY;
	return f->f_op->unlocked_ioctl(f, cmd, arg);
}

/* ---------------------------------------------------------------- namespaces */

void *rvisor_net_get_current(void)
{
	struct nsproxy *ns = current->nsproxy;

	return ns ? get_net(ns->net_ns) : NULL;
}

bool rvisor_net_is_current(const void *net)
{
	struct nsproxy *ns = current->nsproxy;

	return ns && ns->net_ns == net;
}

void rvisor_net_put(void *net)
{
	put_net(net);
}

/* ---------------------------------------------------------------- readiness */

struct rvisor_sock_watch {
	struct wait_queue_entry entry;
	wait_queue_head_t *head;
	bool hooked;
	struct mutex hook_lock;
	spinlock_t lock;
	void (*wake)(void *ctx);
	void (*wake_later)(void *ctx);
	void *ctx;
	struct work_struct later;
};

static void watch_later(struct work_struct *work)
{
	struct rvisor_sock_watch *w = container_of(work, struct rvisor_sock_watch, later);

	w->wake_later(w->ctx);
}

struct watch_table {
	poll_table pt;
	struct rvisor_sock_watch *watch;
};

static int watch_wake(struct wait_queue_entry *entry, unsigned int mode, int sync, void *key)
{
	struct rvisor_sock_watch *w = container_of(entry, struct rvisor_sock_watch, entry);

	w->wake(w->ctx);
	return 0;
}

static void watch_queue(struct file *f, wait_queue_head_t *head, poll_table *pt)
{
	struct rvisor_sock_watch *w = container_of(pt, struct watch_table, pt)->watch;

	/* A socket has one wait queue; a second one (never seen) is not followed. */
	if (w->head)
		return;
	w->head = head;
	add_wait_queue(head, &w->entry);
}

struct rvisor_sock_watch *rvisor_sock_watch_new(void (*wake)(void *ctx),
					       void (*wake_later)(void *ctx), void *ctx)
{
	struct rvisor_sock_watch *w = kzalloc(sizeof(*w), GFP_KERNEL);

	if (!w)
		return NULL;
	init_waitqueue_func_entry(&w->entry, watch_wake);
	mutex_init(&w->hook_lock);
	spin_lock_init(&w->lock);
	w->wake = wake;
	w->wake_later = wake_later;
	w->ctx = ctx;
	INIT_WORK(&w->later, watch_later);
	return w;
}

void rvisor_sock_watch_free(struct rvisor_sock_watch *w)
{
	/* Takes the queue's lock: a wake in progress finishes first, none starts after. */
	if (w->head)
		remove_wait_queue(w->head, &w->entry);
	/* No wake can queue it any more; one queued or running finishes first. */
	cancel_work_sync(&w->later);
	kfree(w);
}

void rvisor_sock_watch_defer(struct rvisor_sock_watch *w)
{
	schedule_work(&w->later);
}

unsigned long rvisor_sock_watch_lock(struct rvisor_sock_watch *w)
{
	unsigned long flags;

	spin_lock_irqsave(&w->lock, flags);
	return flags;
}

void rvisor_sock_watch_unlock(struct rvisor_sock_watch *w, unsigned long flags)
{
	spin_unlock_irqrestore(&w->lock, flags);
}

unsigned int rvisor_sock_poll(struct file *f, struct rvisor_sock_watch *w)
{
	if (w && !smp_load_acquire(&w->hooked)) {
		struct watch_table table = { .watch = w };

		init_poll_funcptr(&table.pt, watch_queue);
		mutex_lock(&w->hook_lock);
		if (!w->hooked) {
			vfs_poll(f, &table.pt);
			smp_store_release(&w->hooked, true);
		}
		mutex_unlock(&w->hook_lock);
	}
	return vfs_poll(f, NULL);
}
