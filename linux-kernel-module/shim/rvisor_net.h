/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host kernel sockets held by rVisor (rvisor_net.c): AF_INET, AF_INET6 and read-only
 * NETLINK_ROUTE sockets (opened, sent to and connected with the caller's credentials minus
 * CAP_NET_ADMIN: the host then refuses every change as an unprivileged caller's) created in the calling task's network namespace and kept as host
 * `struct file`s (sock_alloc_file), so their lifetime, wait queue and poll are the host's.
 *
 * Every call runs in the calling task's context: user pointers are the caller's and are
 * copied with the host's own checks, as the real syscalls copy them. Results are the host's:
 * a value or -errno, -ERESTARTSYS included when a signal cut a wait short (the gate hands it
 * to the signal code, which restarts the call or turns it into EINTR, as for the real call).
 * `nonblock` is the rVisor description's O_NONBLOCK: the host file itself is never
 * non-blocking, so one flag decides.
 *
 * Included by rvisor_shim.h; plain C types only.
 */
#ifndef RVISOR_NET_H
#define RVISOR_NET_H

struct file;
struct rvisor_sock_watch;

/* socket(family, type, protocol) in the caller's network namespace (type without flags). */
struct file *rvisor_sock_open(int family, int type, int protocol, long *err);
/* SO_DOMAIN of a host socket. */
int rvisor_sock_family(struct file *f);
long rvisor_sock_bind(struct file *f, unsigned long uaddr, int addrlen);
long rvisor_sock_connect(struct file *f, unsigned long uaddr, int addrlen, bool nonblock);
long rvisor_sock_listen(struct file *f, int backlog);
/* accept4: the new socket (its file in *out) and the peer's address written as accept4
 * writes it; SOCK_NONBLOCK of the new one is rVisor's description's business. */
long rvisor_sock_accept(struct file *f, unsigned long uaddr, unsigned long uaddrlen,
			bool nonblock, struct file **out);
/* getsockname (peer false) / getpeername (peer true). */
long rvisor_sock_name(struct file *f, unsigned long uaddr, unsigned long uaddrlen, bool peer);
long rvisor_sock_shutdown(struct file *f, int how);
long rvisor_sock_setsockopt(struct file *f, int level, int name, unsigned long uval, int len);
long rvisor_sock_getsockopt(struct file *f, int level, int name, unsigned long uval,
			    unsigned long ulen);
long rvisor_sock_sendmsg(struct file *f, unsigned long umsg, unsigned int flags, bool nonblock);
long rvisor_sock_recvmsg(struct file *f, unsigned long umsg, unsigned int flags, bool nonblock);
long rvisor_sock_sendto(struct file *f, unsigned long ubuf, unsigned long len,
			unsigned int flags, unsigned long uaddr, int addrlen, bool nonblock);
long rvisor_sock_recvfrom(struct file *f, unsigned long ubuf, unsigned long len,
			  unsigned int flags, unsigned long uaddr, unsigned long uaddrlen,
			  bool nonblock);
long rvisor_sock_sendmmsg(struct file *f, unsigned long umsgvec, unsigned int vlen,
			  unsigned int flags, bool nonblock);
long rvisor_sock_recvmmsg(struct file *f, unsigned long umsgvec, unsigned int vlen,
			  unsigned int flags, unsigned long utimeout, bool nonblock);
/* readv/writev (write: no SIGPIPE from the host, EPIPE returned: rVisor raises it). */
long rvisor_sock_readv(struct file *f, unsigned long uiov, unsigned long iovcnt, bool nonblock);
long rvisor_sock_writev(struct file *f, unsigned long uiov, unsigned long iovcnt, bool nonblock);
/* read/write of one user buffer (as read(2)/write(2)); same SIGPIPE rule. */
long rvisor_sock_read_user(struct file *f, unsigned long ubuf, unsigned long len, bool nonblock);
long rvisor_sock_write_user(struct file *f, unsigned long ubuf, unsigned long len,
			    bool nonblock);
/* Kernel buffers, never waiting (MSG_DONTWAIT). */
long rvisor_sock_read_kernel(struct file *f, void *buf, unsigned long len);
long rvisor_sock_write_kernel(struct file *f, const void *buf, unsigned long len);
/* ioctl on the host socket (the caller's argument untouched). */
long rvisor_sock_ioctl(struct file *f, unsigned int cmd, unsigned long arg);

/*
 * A watch: one wait-queue entry on the socket's wait queue, hooked at the first poll, whose
 * wake function calls wake(ctx) in the host's wake-up context (atomic, possibly softirq);
 * rvisor_sock_watch_defer has wake_later(ctx) called from a workqueue (process context) for
 * what must not run there. The watch's lock (taken with interrupts off) guards what the owner
 * keeps for both to use.
 */
struct rvisor_sock_watch *rvisor_sock_watch_new(void (*wake)(void *ctx),
					       void (*wake_later)(void *ctx), void *ctx);
/* Unhooks and frees: no wake() or wake_later() runs after it returns. */
void rvisor_sock_watch_free(struct rvisor_sock_watch *w);
void rvisor_sock_watch_defer(struct rvisor_sock_watch *w);
unsigned long rvisor_sock_watch_lock(struct rvisor_sock_watch *w);
void rvisor_sock_watch_unlock(struct rvisor_sock_watch *w, unsigned long flags);
/* The socket's readiness (vfs_poll); hooks the watch on its wait queue first if not yet. */
unsigned int rvisor_sock_poll(struct file *f, struct rvisor_sock_watch *w);

/* The calling task's network namespace, counted (get_net); NULL if it has none. */
void *rvisor_net_get_current(void);
/* Whether the calling task's network namespace is `net`. */
bool rvisor_net_is_current(const void *net);
void rvisor_net_put(void *net);

#endif /* RVISOR_NET_H */
