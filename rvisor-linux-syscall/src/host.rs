//! [`TaskHost`]: what the syscall layer asks of the machine under a contained process. The
//! kernel module implements it over the calling Linux task; tests implement it over the host
//! HAL.

/// The machine under the calling thread.
pub trait TaskHost: Sync {
    /// Records where the thread's id is cleared (and a futex woken) when it exits
    /// (`set_tid_address`, `CLONE_CHILD_CLEARTID`).
    fn set_clear_child_tid(&self, addr: usize);
}
