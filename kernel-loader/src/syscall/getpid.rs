//! `getpid`, `gettid`: virtual ids, answered in the gate's callback from the caller's record.

/// A call answered from the caller's ids alone, in the gate's callback (atomic context): it
/// must not sleep, fault or take another member's record. A closed set rather than a function
/// pointer, so that the callback makes no indirect call.
#[derive(Clone, Copy)]
pub enum Fast {
    /// `getpid`: the caller's process id in its container.
    Getpid,
    /// `gettid`: the caller's thread id in its container.
    Gettid,
}

impl Fast {
    /// The call's value for a caller with process id `pid` and thread id `tid`.
    #[inline(always)]
    pub fn answer(self, pid: u32, tid: u32) -> isize {
        match self {
            Fast::Getpid => pid as isize,
            Fast::Gettid => tid as isize,
        }
    }
}
