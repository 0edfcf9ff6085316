/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rVisor's inotify instances on the host's fsnotify (rvisor_notify.c). Each instance is an
 * fsnotify group of rVisor's own; a watch of a container file is a mark of that group on the
 * host inode behind it, so the host's VFS (rVisor's own calls through it, and host processes
 * changing the files of a volume) reports the events, as it reports them to inotify.
 *
 * A group hands what happens to its marks to the Rust side, with the `owner` it was made with:
 * rvisor_rs_notify_event for an event (the mark's watch descriptor, the fsnotify mask, the
 * rename cookie and the name relative to a watched directory), rvisor_rs_notify_gone when a
 * mark ends (removed, one-shot fired, inode deleted or its filesystem unmounted), and
 * rvisor_rs_notify_release once the group is freed, after which nothing of it calls back.
 * Events and ends come in the context of whatever task changed the file: process context,
 * possibly with the VFS's locks of that file held (the callee may allocate, never take a lock
 * held around VFS calls).
 *
 * Included by rvisor_shim.h; plain C types only.
 */
#ifndef RVISOR_NOTIFY_H
#define RVISOR_NOTIFY_H

struct rvisor_path;
/* An fsnotify group of rVisor's (opaque). */
struct rvisor_notify_group;
/* One mark of such a group on a host inode (opaque). */
struct rvisor_notify_mark;

/* A new group calling back with `owner`; NULL without memory. */
struct rvisor_notify_group *rvisor_notify_group_new(void *owner);
/* Drops the caller's reference after waiting for the marks removed so far to be freed: the
 * group is freed (and rvisor_rs_notify_release called) once its last mark is, at once if the
 * caller removed them all. Process context (it sleeps). A group holds a module reference. */
void rvisor_notify_group_put(struct rvisor_notify_group *group);
/*
 * Watches the object of `p` with an inotify_add_watch `arg` (event bits, IN_ONESHOT,
 * IN_EXCL_UNLINK, IN_MASK_ADD, IN_MASK_CREATE), as Linux's inotify_update_watch: a mark the
 * group has on the inode already is updated (-EEXIST with IN_MASK_CREATE) and its watch
 * descriptor returned, *created NULL; else, if `create` allows (-ENOSPC: the user has all the
 * watches it may), a new mark numbered `wd` is added and returned in *created, with a
 * reference for the caller. Callers serialise their calls on one group.
 */
int rvisor_notify_watch(struct rvisor_notify_group *group, struct rvisor_path *p, __u32 arg,
			int wd, bool create, struct rvisor_notify_mark **created);
/* Removes the mark from its inode (rvisor_rs_notify_gone follows, unless it had ended). The
 * caller holds a reference. */
void rvisor_notify_unwatch(struct rvisor_notify_mark *mark);
/* Linux's /proc/PID/fdinfo line of an inotify mark (inotify_fdinfo: "inotify wd:… ino:… sdev:…
 * mask:… ignored_mask:0 " and the file handle, without the newline) into `buf` of `len` bytes
 * (NUL-terminated, cut short if need be); its length. The caller holds a reference. */
int rvisor_notify_mark_show(struct rvisor_notify_mark *mark, char *buf, int len);
/* Drops a reference to the mark. */
void rvisor_notify_mark_put(struct rvisor_notify_mark *mark);
/* Reports `mask` (FS_OPEN, FS_CLOSE_WRITE, FS_CLOSE_NOWRITE…) on the object of `p` to its
 * watchers and its parent directory's, as the host's open and close do (FS_ISDIR added for a
 * directory). */
void rvisor_notify_path(struct rvisor_path *p, __u32 mask);
/* dentry_open for rVisor's own use (its shared readers and writers, a listing, a mapping, an
 * exec): the open the host reports (6.12's vfs_open reports every open) is kept from rVisor's
 * groups, since a contained process's opens are reported by rVisor per description. */
#ifdef __KERNEL__
struct file *rvisor_quiet_dentry_open(const struct path *path, int flags);
#endif
/* Makes the host file report no more events (its close included): for the files rVisor opens
 * for its own use, whose opens and closes are not a contained process's (rVisor reports those
 * with rvisor_notify_path). Its reads and writes report through the host's VFS. */
void rvisor_file_quiet(struct file *file);
/* The calling task's user's inotify watch limit (/proc/sys/fs/inotify/max_user_watches). */
long rvisor_notify_max_user_watches(void);
/* Waits until every mark rVisor dropped is freed: called before the module goes. */
void rvisor_notify_exit(void);

/* The Rust side (see above). */
void rvisor_rs_notify_event(void *owner, int wd, __u32 mask, __u32 cookie, const char *name,
			    __u32 name_len);
void rvisor_rs_notify_gone(void *owner, int wd, struct rvisor_notify_mark *mark);
void rvisor_rs_notify_release(void *owner);

#endif /* RVISOR_NOTIFY_H */
