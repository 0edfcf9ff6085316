// SPDX-License-Identifier: GPL-2.0
/*
 * rVisor's inotify instances on the host's fsnotify (see rvisor_notify.h): what
 * fs/notify/inotify/inotify_user.c and inotify_fsnotify.c do with a group's marks, for a
 * group whose event queue is rVisor's.
 */
#include <linux/module.h>
#include <linux/version.h>
#include <linux/fs.h>
#include <linux/fsnotify.h>
#include <linux/fsnotify_backend.h>
#include <linux/inotify.h>
#include <linux/slab.h>
#include <linux/exportfs.h>
#include <linux/cred.h>
#include <linux/user_namespace.h>
#include "rvisor_shim.h"

struct rvisor_notify_mark {
	struct fsnotify_mark fsn;
	/* The watch descriptor, fixed at creation. */
	int wd;
	/* The watched inode, held by the mark's connector while a reference to the mark is. */
	struct inode *inode;
};

static struct rvisor_notify_mark *to_mark(struct fsnotify_mark *fsn)
{
	return container_of(fsn, struct rvisor_notify_mark, fsn);
}

static struct fsnotify_group *to_group(struct rvisor_notify_group *group)
{
	return (struct fsnotify_group *)group;
}

/*
 * The tasks in the middle of an open rVisor makes for its own use: the FS_OPEN such an open
 * reports (synchronously, from the opening task) is not a contained process's. A task that
 * finds no free slot opens without one: its open is then reported, which is all it costs.
 */
#define RVISOR_QUIET_SLOTS 64
static DEFINE_SPINLOCK(quiet_lock);
static struct task_struct *quiet_tasks[RVISOR_QUIET_SLOTS];

static int quiet_slot(struct task_struct *task)
{
	int i;

	for (i = 0; i < RVISOR_QUIET_SLOTS; i++)
		if (quiet_tasks[i] == task)
			return i;
	return -1;
}

static bool opening_quietly(void)
{
	bool found;

	spin_lock(&quiet_lock);
	found = quiet_slot(current) >= 0;
	spin_unlock(&quiet_lock);
	return found;
}

struct file *rvisor_quiet_dentry_open(const struct path *path, int flags)
{
	struct file *file;
	int slot;

	spin_lock(&quiet_lock);
	slot = quiet_slot(NULL);
	if (slot >= 0)
		quiet_tasks[slot] = current;
	spin_unlock(&quiet_lock);
	file = dentry_open(path, flags, current_cred());
	if (slot >= 0) {
		spin_lock(&quiet_lock);
		quiet_tasks[slot] = NULL;
		spin_unlock(&quiet_lock);
	}
	return file;
}

/* inotify_handle_inode_event, queueing into rVisor's queue. */
static int rvisor_notify_handle(struct fsnotify_mark *fsn, u32 mask, struct inode *inode,
				struct inode *dir, const struct qstr *name, u32 cookie)
{
	struct fsnotify_group *group = fsn->group;

	if ((mask & FS_OPEN) && opening_quietly())
		return 0;
	/* inotify never reports IN_ISDIR with IN_MOVE_SELF and IN_DELETE_SELF. */
	if (mask & (FS_MOVE_SELF | FS_DELETE_SELF))
		mask &= ~FS_ISDIR;
	rvisor_rs_notify_event(group->private, to_mark(fsn)->wd, mask, cookie,
			       name ? (const char *)name->name : NULL, name ? name->len : 0);
	if (fsn->flags & FSNOTIFY_MARK_FLAG_IN_ONESHOT)
		fsnotify_destroy_mark(fsn, group);
	return 0;
}

/* The mark ends (inotify_ignored_and_remove_idr): the Rust side queues IN_IGNORED and drops
 * the reference it holds (the caller holds another). */
static void rvisor_notify_freeing(struct fsnotify_mark *fsn, struct fsnotify_group *group)
{
	struct rvisor_notify_mark *mark = to_mark(fsn);

	rvisor_rs_notify_gone(group->private, mark->wd, mark);
}

static void rvisor_notify_free_mark(struct fsnotify_mark *fsn)
{
	kfree(to_mark(fsn));
}

/* The group's last reference is gone, so are its marks: nothing calls back any more. */
static void rvisor_notify_free_group(struct fsnotify_group *group)
{
	rvisor_rs_notify_release(group->private);
	/* Taken by rvisor_notify_group_new. Should this be the last, rvisor_notify_exit waits for
	 * the caller (fsnotify's reaper, when not rvisor_notify_group_put) to return. */
	module_put(THIS_MODULE);
}

static const struct fsnotify_ops rvisor_notify_ops = {
	.handle_inode_event = rvisor_notify_handle,
	.freeing_mark = rvisor_notify_freeing,
	.free_mark = rvisor_notify_free_mark,
	.free_group_priv = rvisor_notify_free_group,
};

struct rvisor_notify_group *rvisor_notify_group_new(void *owner)
{
	struct fsnotify_group *group;

	/* A live group keeps the module: its marks call into it (a group whose descriptor is
	 * never closed, say kept in a unix socket's queue, keeps the module loaded rather than
	 * leave callbacks into freed code). */
	if (!try_module_get(THIS_MODULE))
		return NULL;
	group = fsnotify_alloc_group(&rvisor_notify_ops, FSNOTIFY_GROUP_USER);
	if (IS_ERR(group)) {
		module_put(THIS_MODULE);
		return NULL;
	}
	group->private = owner;
	return (struct rvisor_notify_group *)group;
}

void rvisor_notify_group_put(struct rvisor_notify_group *group)
{
	/* As inotify's release (fsnotify_destroy_group): the marks removed before are freed now,
	 * so the group goes with this reference, and the module may go right after. */
	fsnotify_wait_marks_destroyed();
	fsnotify_put_group(to_group(group));
}

/* inotify_arg_to_mask: every watch hears its filesystem's unmount, a directory its children. */
static u32 arg_to_mask(struct inode *inode, u32 arg)
{
	u32 mask = FS_UNMOUNT | (arg & IN_ALL_EVENTS);

	if (S_ISDIR(inode->i_mode))
		mask |= FS_EVENT_ON_CHILD;
	return mask;
}

#define RVISOR_NOTIFY_MARK_FLAGS (FSNOTIFY_MARK_FLAG_EXCL_UNLINK | FSNOTIFY_MARK_FLAG_IN_ONESHOT)

static unsigned int arg_to_flags(u32 arg)
{
	unsigned int flags = 0;

	if (arg & IN_EXCL_UNLINK)
		flags |= FSNOTIFY_MARK_FLAG_EXCL_UNLINK;
	if (arg & IN_ONESHOT)
		flags |= FSNOTIFY_MARK_FLAG_IN_ONESHOT;
	return flags;
}

/* The marks of the group that only recalculates inode masks hear nothing. */
static int rvisor_recalc_handle(struct fsnotify_mark *fsn, u32 mask, struct inode *inode,
				struct inode *dir, const struct qstr *name, u32 cookie)
{
	return 0;
}

static void rvisor_recalc_free_mark(struct fsnotify_mark *fsn)
{
	kfree(fsn);
}

static const struct fsnotify_ops rvisor_recalc_ops = {
	.handle_inode_event = rvisor_recalc_handle,
	.free_mark = rvisor_recalc_free_mark,
};

/*
 * Makes the inode's summary of its marks' masks (i_fsnotify_mask, which fsnotify() tests
 * before reaching any group) include a mark's new bits. fsnotify_recalc_mask is not exported,
 * but adding a mark with a mask recalculates it: a mark of a throw-away group is added and
 * removed at once.
 */
static int recalc_inode_mask(struct inode *inode)
{
	struct fsnotify_group *group = fsnotify_alloc_group(&rvisor_recalc_ops, 0);
	struct fsnotify_mark *fsn;
	int ret = -ENOMEM;

	if (IS_ERR(group))
		return PTR_ERR(group);
	fsn = kzalloc(sizeof(*fsn), GFP_KERNEL);
	if (fsn) {
		fsnotify_init_mark(fsn, group);
		fsn->mask = FS_UNMOUNT;
		ret = fsnotify_add_inode_mark(fsn, inode, 0);
		if (!ret)
			fsnotify_destroy_mark(fsn, group);
		fsnotify_put_mark(fsn);
	}
	fsnotify_put_group(group);
	return ret;
}

/* inotify_update_existing_watch, for a mark found on the inode. */
static int update_mark(struct fsnotify_mark *fsn, struct inode *inode, u32 arg)
{
	u32 new_mask;

	spin_lock(&fsn->lock);
	if (!(arg & IN_MASK_ADD)) {
		fsn->mask = 0;
		fsn->flags &= ~RVISOR_NOTIFY_MARK_FLAGS;
	}
	fsn->mask |= arg_to_mask(inode, arg);
	fsn->flags |= arg_to_flags(arg);
	new_mask = fsn->mask;
	spin_unlock(&fsn->lock);
	/* Bits dropped only make fsnotify() look at the mark for nothing: it filters by mask. */
	if (new_mask & ~READ_ONCE(inode->i_fsnotify_mask)) {
		int ret = recalc_inode_mask(inode);

		if (ret)
			return ret;
	}
	return to_mark(fsn)->wd;
}

int rvisor_notify_watch(struct rvisor_notify_group *g, struct rvisor_path *p, __u32 arg, int wd,
			bool create, struct rvisor_notify_mark **created)
{
	struct fsnotify_group *group = to_group(g);
	struct inode *inode = d_inode(p->path.dentry);
	struct fsnotify_mark *found;
	struct rvisor_notify_mark *mark;
	int ret;

	*created = NULL;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	found = fsnotify_find_inode_mark(inode, group);
#else
	found = fsnotify_find_mark(&inode->i_fsnotify_marks, group);
#endif
	if (found) {
		ret = (arg & IN_MASK_CREATE) ? -EEXIST : update_mark(found, inode, arg);
		fsnotify_put_mark(found);
		return ret;
	}
	if (!create)
		return -ENOSPC;
	mark = kzalloc(sizeof(*mark), GFP_KERNEL_ACCOUNT);
	if (!mark)
		return -ENOMEM;
	fsnotify_init_mark(&mark->fsn, group);
	mark->fsn.mask = arg_to_mask(inode, arg);
	mark->fsn.flags = arg_to_flags(arg);
	mark->wd = wd;
	mark->inode = inode;
	ret = fsnotify_add_inode_mark(&mark->fsn, inode, 0);
	if (ret) {
		/* Never attached: this frees it. */
		fsnotify_put_mark(&mark->fsn);
		return ret;
	}
	/* The reference fsnotify_init_mark gave is the caller's. */
	*created = mark;
	return wd;
}

void rvisor_notify_unwatch(struct rvisor_notify_mark *mark)
{
	fsnotify_destroy_mark(&mark->fsn, mark->fsn.group);
}

void rvisor_notify_mark_put(struct rvisor_notify_mark *mark)
{
	fsnotify_put_mark(&mark->fsn);
}

int rvisor_notify_mark_show(struct rvisor_notify_mark *mark, char *buf, int len)
{
	struct fsnotify_mark *fsn = &mark->fsn;
	struct inode *inode = mark->inode;
	struct {
		struct file_handle handle;
		u8 pad[MAX_HANDLE_SZ];
	} f;
	unsigned int flags;
	int at, size, type, i;
	u32 mask;

	spin_lock(&fsn->lock);
	mask = fsn->mask & IN_ALL_EVENTS;
	flags = fsn->flags;
	spin_unlock(&fsn->lock);
	/* inotify_mark_user_mask */
	if (flags & FSNOTIFY_MARK_FLAG_EXCL_UNLINK)
		mask |= IN_EXCL_UNLINK;
	if (flags & FSNOTIFY_MARK_FLAG_IN_ONESHOT)
		mask |= IN_ONESHOT;
	at = scnprintf(buf, len, "inotify wd:%x ino:%lx sdev:%x mask:%x ignored_mask:0 ", mark->wd,
		       inode->i_ino, inode->i_sb->s_dev, mask);
	/* show_mark_fhandle */
	size = sizeof(f.pad) >> 2;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	type = exportfs_encode_fid(inode, (struct fid *)f.handle.f_handle, &size);
#else
	type = exportfs_encode_inode_fh(inode, (struct fid *)f.handle.f_handle, &size, NULL);
#endif
	if (type != FILEID_INVALID && type >= 0) {
		at += scnprintf(buf + at, len - at, "fhandle-bytes:%x fhandle-type:%x f_handle:",
				size * 4, type);
		for (i = 0; i < size * 4 && i < (int)sizeof(f.pad); i++)
			at += scnprintf(buf + at, len - at, "%02x", (int)f.handle.f_handle[i]);
	}
	return at;
}

void rvisor_notify_path(struct rvisor_path *p, __u32 mask)
{
	struct dentry *dentry = p->path.dentry;

	if (d_is_dir(dentry))
		mask |= FS_ISDIR;
	fsnotify_parent(dentry, mask, &p->path, FSNOTIFY_EVENT_PATH);
}

void rvisor_file_quiet(struct file *file)
{
#ifdef FMODE_FSNOTIFY_MASK
	/* Both bits set would mean "only pre-content events suppressed". */
	file->f_mode = (file->f_mode & ~FMODE_FSNOTIFY_MASK) | FMODE_NONOTIFY;
#else
	file->f_mode |= FMODE_NONOTIFY;
#endif
}

long rvisor_notify_max_user_watches(void)
{
	return READ_ONCE(current_user_ns()->ucount_max[UCOUNT_INOTIFY_WATCHES]);
}

void rvisor_notify_exit(void)
{
	/* Marks are freed by fsnotify's reaper, which calls rvisor_notify_free_mark (and the
	 * groups' free_group_priv): it must be done before this code goes. */
	fsnotify_wait_marks_destroyed();
}
