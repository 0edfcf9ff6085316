//! `select`, `pselect6`: waiting on three sets of descriptors (see [`super::poll`] for the
//! wait itself and the signal mask).
//!
//! As Linux's `core_sys_select`: `nfds` is clamped to the room the fd table has
//! ([`FdTable::max_fds`](linux_object::fd_table::FdTable::max_fds)), and only that many bits
//! of each set are read and written back; a set bit for a descriptor that is not open is
//! `EBADF`; a descriptor is readable for `POLLIN`, `POLLHUP` or `POLLERR`, writable for
//! `POLLOUT` or `POLLERR`, exceptional for `POLLPRI`; the result counts each set's bits.
//! Linux's write-back of the time left (`select`'s `timeval`, `pselect6`'s `timespec`) is
//! made, unless the timeout was zero.

use alloc::vec::Vec;
use core::task::Context;
use linux_object::fs::PollEvents;
use linux_object::{LxError, LxResult};

use super::poll::{
    read_sigmask, read_time, wait_until_ready, write_back_time, Timeout, WaitSigmask,
};
use crate::user::{UserInOutPtr, UserInPtr};
use crate::{SysResult, Syscall};

/// Microseconds in a second.
const USEC_PER_SEC: i64 = 1_000_000;
/// Bits in a word of an `fd_set`.
const WORD_BITS: usize = 64;

/// What makes a descriptor readable (`POLLIN_SET`).
const READABLE: PollEvents = PollEvents::RDNORM
    .union(PollEvents::RDBAND)
    .union(PollEvents::IN)
    .union(PollEvents::HUP)
    .union(PollEvents::ERR);
/// What makes a descriptor writable (`POLLOUT_SET`).
const WRITABLE: PollEvents = PollEvents::WRBAND
    .union(PollEvents::WRNORM)
    .union(PollEvents::OUT)
    .union(PollEvents::ERR);
/// What makes a descriptor exceptional (`POLLEX_SET`).
const EXCEPTIONAL: PollEvents = PollEvents::PRI;

/// One of the three `fd_set`s: where it is in user memory (null if not given) and its first
/// `nfds` bits, as words.
struct FdSet {
    user: UserInOutPtr<u64>,
    words: Vec<u64>,
}

impl FdSet {
    /// Reads the first `words` words of the set at `user` (zeros for a null pointer).
    fn read(user: UserInOutPtr<u64>, words: usize) -> LxResult<Self> {
        let words = if user.is_null() {
            let mut zeros = Vec::new();
            zeros
                .try_reserve_exact(words)
                .map_err(|_| LxError::ENOMEM)?;
            zeros.resize(words, 0);
            zeros
        } else {
            user.read_array(words)?
        };
        Ok(Self { user, words })
    }

    fn contains(&self, fd: usize) -> bool {
        self.words
            .get(fd / WORD_BITS)
            .is_some_and(|word| word & (1 << (fd % WORD_BITS)) != 0)
    }

    /// An empty set of the same size, for the results.
    fn empty_like(&self) -> LxResult<Vec<u64>> {
        let mut words = Vec::new();
        words
            .try_reserve_exact(self.words.len())
            .map_err(|_| LxError::ENOMEM)?;
        words.resize(self.words.len(), 0);
        Ok(words)
    }
}

/// Sets bit `fd` of `words`.
fn set_bit(words: &mut [u64], fd: usize) {
    if let Some(word) = words.get_mut(fd / WORD_BITS) {
        *word |= 1 << (fd % WORD_BITS);
    }
}

impl Syscall<'_> {
    /// One pass of Linux's `do_select` over the descriptors below `nfds` set in `sets`:
    /// fills `results` and returns how many bits it set.
    fn scan_fd_sets(
        &self,
        nfds: usize,
        sets: &[FdSet; 3],
        results: &mut [Vec<u64>; 3],
        cx: Option<&Context<'_>>,
    ) -> usize {
        let [readable, writable, exceptional] = results;
        let mut ready = 0;
        for fd in 0..nfds {
            let [in_read, in_write, in_except] = sets.each_ref().map(|set| set.contains(fd));
            if !(in_read || in_write || in_except) {
                continue;
            }
            let events = i32::try_from(fd)
                .ok()
                .and_then(|fd| self.poll_file(fd))
                .map_or(PollEvents::NVAL, |file| file.poll_events(cx));
            for (wanted, asked, result) in [
                (READABLE, in_read, &mut *readable),
                (WRITABLE, in_write, &mut *writable),
                (EXCEPTIONAL, in_except, &mut *exceptional),
            ] {
                if asked && events.intersects(wanted) {
                    set_bit(result, fd);
                    ready += 1;
                }
            }
        }
        ready
    }

    /// Linux's `core_sys_select`.
    async fn select_fds(
        &self,
        nfds: i32,
        sets: [UserInOutPtr<u64>; 3],
        timeout: &mut Timeout,
    ) -> SysResult {
        let nfds = usize::try_from(nfds).map_err(|_| LxError::EINVAL)?;
        let nfds = nfds.min(self.process.files().max_fds());
        let words = nfds.div_ceil(WORD_BITS);
        let [read, write, except] = sets;
        let sets = [
            FdSet::read(read, words)?,
            FdSet::read(write, words)?,
            FdSet::read(except, words)?,
        ];
        {
            let files = self.process.files();
            let closed = (0..nfds).any(|fd| {
                let asked = sets.iter().any(|set| set.contains(fd));
                asked && i32::try_from(fd).map_or(true, |fd| files.get(fd).is_err())
            });
            if closed {
                return Err(LxError::EBADF);
            }
        }
        let [read_result, write_result, except_result] = sets.each_ref().map(FdSet::empty_like);
        let mut results = [read_result?, write_result?, except_result?];
        let ready = wait_until_ready(
            |cx| {
                results.iter_mut().for_each(|words| words.fill(0));
                self.scan_fd_sets(nfds, &sets, &mut results, cx)
            },
            timeout,
        )
        .await;
        for (set, result) in sets.iter().zip(&results) {
            if !set.user.is_null() {
                set.user.write_array(result)?;
            }
        }
        Ok(ready)
    }

    /// `select(nfds, readfds, writefds, exceptfds, timeout)`: `timeout` is a `struct
    /// timeval` (read first, `EFAULT`; microseconds carry into seconds, then `EINVAL` for a
    /// negative time); `EINVAL` for a negative `nfds`.
    pub async fn sys_select(
        &self,
        nfds: i32,
        readfds: UserInOutPtr<u64>,
        writefds: UserInOutPtr<u64>,
        exceptfds: UserInOutPtr<u64>,
        timeout: UserInOutPtr<i64>,
    ) -> SysResult {
        let mut wait = if timeout.is_null() {
            Timeout::Never
        } else {
            let (sec, usec) = read_time(timeout)?;
            let sec = sec.saturating_add(usec / USEC_PER_SEC);
            let nsec = (usec % USEC_PER_SEC).saturating_mul(1000);
            Timeout::from_timespec(sec, nsec)?
        };
        let result = self
            .select_fds(nfds, [readfds, writefds, exceptfds], &mut wait)
            .await;
        if let Some(left) = wait.remaining() {
            write_back_time(timeout, left, true);
        }
        result
    }

    /// `pselect6(nfds, readfds, writefds, exceptfds, timeout, sigmask)`: `sigmask` points to
    /// `{ const sigset_t *ss; size_t ss_len; }` (read first, `EFAULT`), then the
    /// `struct timespec` timeout, then the mask itself (see [`super::poll`]).
    pub async fn sys_pselect6(
        &self,
        nfds: i32,
        readfds: UserInOutPtr<u64>,
        writefds: UserInOutPtr<u64>,
        exceptfds: UserInOutPtr<u64>,
        timeout: UserInOutPtr<i64>,
        sigmask: UserInPtr<u64>,
    ) -> SysResult {
        let (mask, mask_size) = if sigmask.is_null() {
            (0, 0)
        } else {
            let pack = sigmask.read_array(2)?;
            let at = |index: usize| pack.get(index).copied().unwrap_or_default();
            (at(0), at(1))
        };
        let mut wait = if timeout.is_null() {
            Timeout::Never
        } else {
            let (sec, nsec) = read_time(timeout)?;
            Timeout::from_timespec(sec, nsec)?
        };
        let mask = read_sigmask(UserInPtr::from(mask as usize), mask_size as usize)?;
        let sigmask = WaitSigmask::install(self.host, mask);
        let result = self
            .select_fds(nfds, [readfds, writefds, exceptfds], &mut wait)
            .await;
        sigmask.finish();
        if let Some(left) = wait.remaining() {
            write_back_time(timeout, left, false);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{poll_once, TestMachine, UserArena};
    use core::task::Poll;
    use linux_object::fs::{FileLike, OpenFlags, Pipe};

    const SELECT: u32 = 23;
    const PSELECT6: u32 = 270;

    fn errno(error: LxError) -> isize {
        -(error.errno() as isize)
    }

    fn set(arena: &UserArena, fds: &[usize]) -> usize {
        let mut words = [0u64; 16];
        for fd in fds {
            words[fd / 64] |= 1 << (fd % 64);
        }
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        arena.put_bytes(&bytes)
    }

    fn words(arena: &UserArena, addr: usize) -> Vec<u64> {
        arena
            .get_bytes(addr, 128)
            .chunks_exact(8)
            .map(|w| u64::from_le_bytes(w.try_into().unwrap()))
            .collect()
    }

    #[test]
    fn select_reports_each_set_and_counts_bits() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(2);
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        let (r, w) = {
            let mut files = init.files();
            (
                files.add(reader, false).unwrap(),
                files.add(writer.clone(), false).unwrap(),
            )
        };
        let (r, w) = (r as usize, w as usize);
        let readfds = set(&arena, &[r, w]);
        let writefds = set(&arena, &[r, w]);
        let exceptfds = set(&arena, &[r]);
        let zero = arena.put_bytes(&[0u8; 16]);
        let args = [2, readfds, writefds, exceptfds, zero, 0];
        // The write end is writable; nothing is readable yet.
        assert_eq!(machine.run(&init, 1, SELECT, args), 1);
        assert_eq!(words(&arena, readfds)[0], 0);
        assert_eq!(words(&arena, writefds)[0], 1 << w);
        writer.write(b"x").unwrap();
        let readfds = set(&arena, &[r]);
        let writefds = set(&arena, &[w]);
        let args = [2, readfds, writefds, 0, zero, 0];
        assert_eq!(machine.run(&init, 1, SELECT, args), 2);
        assert_eq!(
            (words(&arena, readfds)[0], words(&arena, writefds)[0]),
            (1 << r, 1 << w)
        );
        assert_eq!(
            arena.get_bytes(zero, 16),
            [0; 16],
            "a zero timeout is left alone"
        );
    }

    #[test]
    fn select_clamps_to_the_table_and_refuses_closed_descriptors() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(2);
        let (reader, _writer) = Pipe::new_pair(OpenFlags::empty());
        init.files().add(reader, false).unwrap();
        let zero = arena.put_bytes(&[0u8; 16]);
        let closed = set(&arena, &[0, 5]);
        assert_eq!(
            machine.run(&init, 1, SELECT, [6, closed, 0, 0, zero, 0]),
            errno(LxError::EBADF)
        );
        // Bit 700 is past the 64 descriptors the table has room for: never looked at, and
        // left as it was.
        let far = set(&arena, &[0, 700]);
        assert_eq!(machine.run(&init, 1, SELECT, [1024, far, 0, 0, zero, 0]), 0);
        assert_eq!(words(&arena, far)[0], 0);
        assert_eq!(words(&arena, far)[700 / 64], 1 << (700 % 64));
        assert_eq!(
            machine.run(&init, 1, SELECT, [usize::MAX, far, 0, 0, zero, 0]),
            errno(LxError::EINVAL),
            "a negative nfds"
        );
        let bad_time = arena.put_bytes(&[0i64.to_le_bytes(), (-1i64).to_le_bytes()].concat());
        assert_eq!(
            machine.run(&init, 1, SELECT, [1, far, 0, 0, bad_time, 0]),
            errno(LxError::EINVAL)
        );
        assert_eq!(
            machine.run(&init, 1, SELECT, [1, arena.unmapped(), 0, 0, zero, 0]),
            errno(LxError::EFAULT)
        );
    }

    #[test]
    fn a_blocked_select_wakes_when_the_writer_goes() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(2);
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        let r = init.files().add(reader, false).unwrap() as usize;
        let readfds = set(&arena, &[r]);
        let host = machine.task(1, 1);
        let call = crate::Syscall {
            process: &init,
            tid: 1,
            host: &host,
        };
        let mut select = core::pin::pin!(call.run(SELECT, [r + 1, readfds, 0, 0, 0, 0]));
        assert!(poll_once(select.as_mut()).is_pending());
        drop(writer);
        assert_eq!(
            poll_once(select.as_mut()),
            Poll::Ready(1),
            "end of file is readable"
        );
        assert_eq!(words(&arena, readfds)[0], 1 << r);
    }

    #[test]
    fn pselect6_reads_its_mask_pack() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(2);
        let zero = arena.put_bytes(&[0u8; 16]);
        let mask = arena.put_bytes(&[0u8; 8]);
        let pack = |size: u64| {
            arena.put_bytes(&[(mask as u64).to_le_bytes(), size.to_le_bytes()].concat())
        };
        let (good, wrong_size) = (pack(8), pack(4));
        assert_eq!(machine.run(&init, 1, PSELECT6, [0, 0, 0, 0, zero, good]), 0);
        assert_eq!(
            machine.run(&init, 1, PSELECT6, [0, 0, 0, 0, zero, wrong_size]),
            errno(LxError::EINVAL)
        );
        assert_eq!(
            machine.run(&init, 1, PSELECT6, [0, 0, 0, 0, zero, arena.unmapped()]),
            errno(LxError::EFAULT)
        );
    }
}
