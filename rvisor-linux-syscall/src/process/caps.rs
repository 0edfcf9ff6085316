//! `capget`, `capset`: a thread's capability sets, named by its container tid.
//!
//! The sets are the host task's own: rVisor's id calls have the host change credentials, so
//! the host's capabilities follow the container's ids as Linux's would (root has them all, a
//! process that drops to another uid loses them).

use crate::host::Capabilities;
use crate::user::{UserInOutPtr, UserInPtr, UserOutPtr};
use crate::{SysResult, Syscall};
use linux_object::container::Pid;
use linux_object::LxError;

/// The header versions: one 32-bit set per struct (v1), or two (v2, v3; v2 is deprecated).
const VERSION_1: u32 = 0x1998_0330;
const VERSION_2: u32 = 0x2007_1026;
const VERSION_3: u32 = 0x2008_0522;

/// How many `struct __user_cap_data_struct` (three `u32`s) a version takes: `EINVAL` (with
/// the preferred version written back to the header) for an unknown one, as Linux's
/// `cap_validate_magic`.
fn data_structs(header: UserInOutPtr<u32>, version: u32) -> Result<usize, LxError> {
    match version {
        VERSION_1 => Ok(1),
        VERSION_2 | VERSION_3 => Ok(2),
        _ => {
            header.write(VERSION_3)?;
            Err(LxError::EINVAL)
        }
    }
}

impl Syscall<'_> {
    /// The thread a header's pid names: `None` for the caller (0 or its own tid), else a tid
    /// of the container; `EINVAL` for a negative one.
    fn capability_target(&self, pid: i32) -> Result<Option<Pid>, LxError> {
        let pid = Pid::try_from(pid).map_err(|_| LxError::EINVAL)?;
        Ok((pid != 0 && pid != self.tid).then_some(pid))
    }

    /// `capget(header, data)`: the sets of the thread the header names, as one or two
    /// structs of (effective, permitted, inheritable) 32-bit words. A null `data` only checks
    /// the version (0 even for an unknown one, whose preferred version is written back).
    pub fn sys_capget(&self, header: UserInOutPtr<u32>, data: UserOutPtr<u32>) -> SysResult {
        let [version, pid] = {
            let words = UserInPtr::<u32>::from(header.addr()).read_array(2)?;
            [
                words.first().copied().unwrap_or(0),
                words.get(1).copied().unwrap_or(0),
            ]
        };
        let structs = match data_structs(header, version) {
            Err(LxError::EINVAL) if data.is_null() => return Ok(0),
            other => other?,
        };
        if data.is_null() {
            return Ok(0);
        }
        let caps = self
            .host
            .capabilities(self.capability_target(pid as i32)?)?;
        let mut words = [0u32; 6];
        for (index, word) in words.iter_mut().enumerate().take(structs * 3) {
            let set = match index % 3 {
                0 => caps.effective,
                1 => caps.permitted,
                _ => caps.inheritable,
            };
            // Struct 0 holds the low 32 bits, struct 1 the high ones.
            *word = (set >> (32 * (index / 3))) as u32;
        }
        data.write_array(words.get(..structs * 3).unwrap_or_default())?;
        Ok(0)
    }

    /// `capset(header, data)`: the caller's own sets (another thread's is `EPERM`, as Linux
    /// has it since 2.6.24), by the host's rules.
    pub fn sys_capset(&self, header: UserInOutPtr<u32>, data: UserInPtr<u32>) -> SysResult {
        let words = UserInPtr::<u32>::from(header.addr()).read_array(2)?;
        let (version, pid) = (
            words.first().copied().unwrap_or(0),
            words.get(1).copied().unwrap_or(0),
        );
        let structs = data_structs(header, version)?;
        if self.capability_target(pid as i32)?.is_some() {
            return Err(LxError::EPERM);
        }
        let words = data.read_array(structs * 3)?;
        let set = |which: usize| {
            (0..structs).fold(0u64, |set, index| {
                let word = words.get(index * 3 + which).copied().unwrap_or(0);
                set | (u64::from(word) << (32 * index))
            })
        };
        self.host.set_own_capabilities(Capabilities {
            effective: set(0),
            permitted: set(1),
            inheritable: set(2),
        })?;
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{TestMachine, UserArena, FULL_CAPABILITIES};
    use alloc::vec::Vec;
    use linux_object::LxError;

    const CAPGET: u32 = 125;
    const CAPSET: u32 = 126;

    fn errno(error: LxError) -> isize {
        -(error.errno() as isize)
    }

    fn words(arena: &UserArena, addr: usize, count: usize) -> Vec<u32> {
        arena
            .get_bytes(addr, count * 4)
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    }

    fn put_words(arena: &UserArena, values: &[u32]) -> usize {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        arena.put_bytes(&bytes)
    }

    #[test]
    fn sets_come_in_one_or_two_structs_and_capset_follows_the_host_rules() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        let v3 = put_words(&arena, &[0x2008_0522, 0]);
        let data = put_words(&arena, &[0; 6]);
        assert_eq!(machine.run(&init, 1, CAPGET, [v3, data, 0, 0, 0, 0]), 0);
        let full_low = FULL_CAPABILITIES as u32;
        let full_high = (FULL_CAPABILITIES >> 32) as u32;
        assert_eq!(
            words(&arena, data, 6),
            [full_low, full_low, 0, full_high, full_high, 0]
        );
        let v1 = put_words(&arena, &[0x1998_0330, 1]);
        let one = put_words(&arena, &[7; 6]);
        assert_eq!(machine.run(&init, 1, CAPGET, [v1, one, 0, 0, 0, 0]), 0);
        assert_eq!(
            words(&arena, one, 6),
            [full_low, full_low, 0, 7, 7, 7],
            "one struct"
        );
        // An unknown version: the preferred one written back; 0 with a null data pointer.
        let bad = put_words(&arena, &[1, 0]);
        assert_eq!(
            machine.run(&init, 1, CAPGET, [bad, data, 0, 0, 0, 0]),
            errno(LxError::EINVAL)
        );
        assert_eq!(words(&arena, bad, 1), [0x2008_0522]);
        let bad = put_words(&arena, &[1, 0]);
        assert_eq!(machine.run(&init, 1, CAPGET, [bad, 0, 0, 0, 0, 0]), 0);
        let missing = put_words(&arena, &[0x2008_0522, 99]);
        assert_eq!(
            machine.run(&init, 1, CAPGET, [missing, data, 0, 0, 0, 0]),
            errno(LxError::ESRCH)
        );
        assert_eq!(
            machine.run(&init, 1, CAPGET, [8, data, 0, 0, 0, 0]),
            errno(LxError::EFAULT)
        );
        // Dropping a capability works; taking it back does not.
        let dropped = put_words(&arena, &[1, 1, 0, 0, 0, 0]);
        assert_eq!(machine.run(&init, 1, CAPSET, [v3, dropped, 0, 0, 0, 0]), 0);
        assert_eq!(machine.run(&init, 1, CAPGET, [v3, data, 0, 0, 0, 0]), 0);
        assert_eq!(words(&arena, data, 6), [1, 1, 0, 0, 0, 0]);
        let regain = put_words(&arena, &[3, 3, 0, 0, 0, 0]);
        assert_eq!(
            machine.run(&init, 1, CAPSET, [v3, regain, 0, 0, 0, 0]),
            errno(LxError::EPERM)
        );
        let other = put_words(&arena, &[0x2008_0522, 2]);
        assert_eq!(
            machine.run(&init, 1, CAPSET, [other, dropped, 0, 0, 0, 0]),
            errno(LxError::EPERM)
        );
    }
}
