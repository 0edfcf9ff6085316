//! The host's fsnotify for rVisor's inotify instances: a [`NotifyGroup`] per instance, whose
//! [`NotifyMark`]s on host inodes hand what happens to those inodes to a [`NotifySink`] (see
//! the shim's `rvisor_notify.h`), and [`notify_object`], which reports an open or a close of a
//! container file as the host's own `open` and `close` report theirs.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::ffi::c_void;
use core::ptr::NonNull;

use crate::bindings;
use crate::error::{Error, Result};
use crate::vfs::VfsObject;

/// Where a group's marks report: called in the context of whichever task changed a watched
/// file (process context; the VFS may hold that file's locks, so never take a lock that is
/// held around VFS calls).
pub trait NotifySink: Send + Sync {
    /// An event on the mark numbered `wd`: fsnotify's `mask` (`FS_*`, the `IN_*` bits), the
    /// rename `cookie`, and `name` (empty for an event on the watched object itself).
    fn event(&self, wd: i32, mask: u32, cookie: u32, name: &[u8]);

    /// The mark numbered `wd`, [`NotifyMark::id`] `mark`, ended (removed, one-shot, inode
    /// deleted, filesystem unmounted): the sink drops its [`NotifyMark`] of it.
    fn gone(&self, wd: i32, mark: usize);
}

/// One fsnotify group of rVisor's, reporting to its sink until its last mark is freed. While it
/// lives the module stays loaded.
pub struct NotifyGroup {
    raw: NonNull<bindings::rvisor_notify_group>,
}

// SAFETY: the group is fsnotify's, whose calls lock what they share; the sink it reports to
// is `Send + Sync`.
unsafe impl Send for NotifyGroup {}
// SAFETY: as above; the caller serialises `watch` calls on one group, as documented.
unsafe impl Sync for NotifyGroup {}

/// What [`NotifyGroup::watch`] did.
pub enum Watched {
    /// The group had a mark on the inode: updated; its watch descriptor.
    Existing(i32),
    /// A new mark.
    Created(NotifyMark),
}

impl NotifyGroup {
    /// A group reporting to `sink`; `ENOMEM` without memory.
    pub fn new(sink: Arc<dyn NotifySink>) -> Result<Self> {
        let owner = Box::into_raw(Box::new(sink));
        // SAFETY: process context; `owner` stays valid until the shim hands it back to
        // `rvisor_rs_notify_release`, after which the group calls nothing.
        let raw = unsafe { bindings::rvisor_notify_group_new(owner.cast()) };
        match NonNull::new(raw) {
            Some(raw) => Ok(Self { raw }),
            None => {
                // SAFETY: the shim kept no pointer to it; it is ours, from `Box::into_raw`.
                drop(unsafe { Box::from_raw(owner) });
                Err(Error::ENOMEM)
            }
        }
    }

    /// Watches `object`'s inode with an `inotify_add_watch` mask `arg`, as Linux's
    /// `inotify_update_watch`: the group's mark there is updated (`EEXIST` with
    /// `IN_MASK_CREATE`), or a new one numbered `wd` is added if `create` allows (`ENOSPC`
    /// otherwise). Calls on one group must not overlap (the caller's lock).
    pub fn watch(&self, object: &VfsObject, arg: u32, wd: i32, create: bool) -> Result<Watched> {
        let mut created = core::ptr::null_mut();
        // SAFETY: the group and the object are held; `created` is a live out-pointer;
        // process context, where the shim may sleep.
        let ret = unsafe {
            bindings::rvisor_notify_watch(
                self.raw.as_ptr(),
                object.raw(),
                arg,
                wd,
                create,
                &mut created,
            )
        };
        let wd = i32::try_from(Error::check(ret.into())?).map_err(|_| Error::EINVAL)?;
        Ok(match NonNull::new(created) {
            Some(raw) => Watched::Created(NotifyMark { raw }),
            None => Watched::Existing(wd),
        })
    }
}

impl Drop for NotifyGroup {
    /// Waits for the marks removed so far to be freed (process context), then drops the
    /// reference: with every mark removed, the group and its sink go now.
    fn drop(&mut self) {
        // SAFETY: the reference is ours; the shim frees the group with its last mark.
        unsafe { bindings::rvisor_notify_group_put(self.raw.as_ptr()) }
    }
}

/// Room for an fdinfo line: its fields and a 128-byte file handle in hexadecimal.
const FDINFO_LINE: usize = 512;

/// A counted reference to a mark of a [`NotifyGroup`].
pub struct NotifyMark {
    raw: NonNull<bindings::rvisor_notify_mark>,
}

// SAFETY: fsnotify's marks are shared by design: their state is under their own locks.
unsafe impl Send for NotifyMark {}
// SAFETY: as above.
unsafe impl Sync for NotifyMark {}

impl NotifyMark {
    /// Takes the mark off its inode; its sink's [`NotifySink::gone`] is called, unless the
    /// mark had ended already. Process context.
    pub fn remove(&self) {
        // SAFETY: the reference held keeps the mark alive.
        unsafe { bindings::rvisor_notify_unwatch(self.raw.as_ptr()) }
    }

    /// What [`NotifySink::gone`] names this mark by.
    pub fn id(&self) -> usize {
        self.raw.as_ptr() as usize
    }

    /// Linux's `/proc/PID/fdinfo` line of the mark, without its newline.
    pub fn fdinfo(&self) -> Vec<u8> {
        let mut line = vec![0u8; FDINFO_LINE];
        // SAFETY: the reference held keeps the mark (and its inode) alive; `line` is writable
        // for its length, which the shim stays within.
        let len = unsafe {
            bindings::rvisor_notify_mark_show(
                self.raw.as_ptr(),
                line.as_mut_ptr().cast(),
                FDINFO_LINE as i32,
            )
        };
        line.truncate(usize::try_from(len).unwrap_or(0).min(FDINFO_LINE));
        line
    }
}

impl Drop for NotifyMark {
    fn drop(&mut self) {
        // SAFETY: the reference is ours, dropped once.
        unsafe { bindings::rvisor_notify_mark_put(self.raw.as_ptr()) }
    }
}

/// Reports `mask` (`FS_OPEN`, `FS_CLOSE_WRITE`, `FS_CLOSE_NOWRITE`…) on `object` to its
/// watchers and its directory's, as the host's own `open` and `close` do.
pub fn notify_object(object: &VfsObject, mask: u32) {
    // SAFETY: the object is held; process context.
    unsafe { bindings::rvisor_notify_path(object.raw(), mask) }
}

/// The calling task's user's watch limit (the host's `max_user_watches`).
pub fn max_user_watches() -> usize {
    // SAFETY: a plain read of the caller's user namespace, in process context.
    let limit = unsafe { bindings::rvisor_notify_max_user_watches() };
    usize::try_from(limit).unwrap_or(0)
}

/// The sink of a group (the owner the shim passes back).
///
/// # Safety
///
/// `owner` must be the pointer [`NotifyGroup::new`] gave the shim, not yet released.
unsafe fn sink<'a>(owner: *mut c_void) -> &'a Arc<dyn NotifySink> {
    // SAFETY: the caller's contract: a live `Box<Arc<dyn NotifySink>>`.
    unsafe { &*owner.cast::<Arc<dyn NotifySink>>() }
}

/// Called by the shim for an event on a mark of a group.
///
/// # Safety
///
/// `owner` is the group's, not yet released; `name` is null or points to `name_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn rvisor_rs_notify_event(
    owner: *mut c_void,
    wd: i32,
    mask: u32,
    cookie: u32,
    name: *const core::ffi::c_char,
    name_len: u32,
) {
    let name: &[u8] = if name.is_null() {
        &[]
    } else {
        // SAFETY: the caller's contract: `name_len` readable bytes (a `struct qstr`'s).
        unsafe { core::slice::from_raw_parts(name.cast::<u8>(), name_len as usize) }
    };
    // SAFETY: the caller's contract.
    unsafe { sink(owner) }.event(wd, mask, cookie, name);
}

/// Called by the shim when a mark of a group ends.
///
/// # Safety
///
/// `owner` is the group's, not yet released.
#[no_mangle]
pub unsafe extern "C" fn rvisor_rs_notify_gone(
    owner: *mut c_void,
    wd: i32,
    mark: *mut bindings::rvisor_notify_mark,
) {
    // SAFETY: the caller's contract.
    unsafe { sink(owner) }.gone(wd, mark as usize);
}

/// Called by the shim once a group is freed: its owner goes.
///
/// # Safety
///
/// `owner` is the group's, released once, after its last callback.
#[no_mangle]
pub unsafe extern "C" fn rvisor_rs_notify_release(owner: *mut c_void) {
    // SAFETY: the caller's contract: the `Box` `NotifyGroup::new` leaked, used no more.
    drop(unsafe { Box::from_raw(owner.cast::<Arc<dyn NotifySink>>()) });
}
