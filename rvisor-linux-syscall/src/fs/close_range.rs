//! `close_range`: closing (or marking close-on-exec) every descriptor of a range at once.

use crate::{SysResult, Syscall};
use linux_object::LxError;

/// Marks the range close-on-exec instead of closing it.
const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;
/// Unshares the descriptor table first (see [`Syscall::sys_close_range`]).
const CLOSE_RANGE_UNSHARE: u32 = 1 << 1;

impl Syscall<'_> {
    /// `close_range(first, last, flags)`: closes every open descriptor from `first` to `last`,
    /// or with `CLOSE_RANGE_CLOEXEC` marks them close-on-exec; descriptors not open are
    /// skipped. `EINVAL` for an unknown flag or `first > last`, as Linux. rVisor keeps one
    /// table per process, shared by its threads (the `CLONE_FILES` every thread library asks
    /// for), so `CLOSE_RANGE_UNSHARE` has no other table to leave.
    pub fn sys_close_range(&self, first: u32, last: u32, flags: u32) -> SysResult {
        if flags & !(CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE) != 0 || first > last {
            return Err(LxError::EINVAL);
        }
        let cloexec = flags & CLOSE_RANGE_CLOEXEC != 0;
        let closed = self
            .process
            .files()
            .close_range(first as usize, last as usize, cloexec);
        // Released outside the table's lock: closing a pipe end wakes other tasks.
        drop(closed);
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::TestMachine;
    use alloc::vec::Vec;
    use linux_object::fs::{OpenFlags, Pipe};
    use linux_object::LxError;

    const CLOSE_RANGE: u32 = 436;
    const CLOSE_RANGE_CLOEXEC: usize = 1 << 2;

    fn errno(error: LxError) -> isize {
        -(error.errno() as isize)
    }

    #[test]
    fn a_range_is_closed_or_marked_and_bad_arguments_are_einval() {
        let machine = TestMachine::new();
        let init = machine.init();
        for _ in 0..4 {
            let (read, write) = Pipe::new_pair(OpenFlags::empty());
            let mut files = init.files();
            files.add(read as _, false).unwrap();
            files.add(write as _, false).unwrap();
        }
        let open = || init.files().fds().collect::<Vec<_>>();
        assert_eq!(open(), (0..8).collect::<Vec<_>>());
        assert_eq!(machine.run(&init, 1, CLOSE_RANGE, [2, 3, 0, 0, 0, 0]), 0);
        assert_eq!(open(), [0, 1, 4, 5, 6, 7]);
        assert_eq!(
            machine.run(
                &init,
                1,
                CLOSE_RANGE,
                [5, u32::MAX as usize, CLOSE_RANGE_CLOEXEC, 0, 0, 0]
            ),
            0
        );
        assert_eq!(open(), [0, 1, 4, 5, 6, 7], "marked, not closed");
        assert!(init.files().cloexec(5).unwrap() && !init.files().cloexec(4).unwrap());
        assert_eq!(
            machine.run(&init, 1, CLOSE_RANGE, [6, u32::MAX as usize, 0, 0, 0, 0]),
            0
        );
        assert_eq!(open(), [0, 1, 4, 5]);
        assert_eq!(
            machine.run(&init, 1, CLOSE_RANGE, [4, 3, 0, 0, 0, 0]),
            errno(LxError::EINVAL)
        );
        assert_eq!(
            machine.run(&init, 1, CLOSE_RANGE, [0, 9, 1, 0, 0, 0]),
            errno(LxError::EINVAL)
        );
    }
}
