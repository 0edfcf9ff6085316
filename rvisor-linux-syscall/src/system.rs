//! `uname`, `sethostname`, `clock_gettime`: what the system says about itself.

use crate::host::CpuClock;
use crate::user::{UserInPtr, UserOutPtr};
use crate::{SysResult, Syscall};
use core::time::Duration;
use kernel_hal_lkm::platform;
use linux_object::container::HOST_NAME_MAX;
use linux_object::LxError;

/// The length of each `struct utsname` field, its NUL included (`__NEW_UTS_LEN + 1`).
const UTS_FIELD: usize = 65;

/// The NIS domain name of a fresh UTS namespace.
const UTS_DOMAINNAME: &str = "(none)";

const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 1;
const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
const CLOCK_MONOTONIC_RAW: i32 = 4;
const CLOCK_REALTIME_COARSE: i32 = 5;
const CLOCK_MONOTONIC_COARSE: i32 = 6;
const CLOCK_BOOTTIME: i32 = 7;
const CLOCK_REALTIME_ALARM: i32 = 8;
const CLOCK_BOOTTIME_ALARM: i32 = 9;
const CLOCK_TAI: i32 = 11;

impl Syscall<'_> {
    /// `uname(buf)`: fills a `struct utsname` (six 65-byte strings). The node name is the
    /// container's host name, never the host's.
    pub fn sys_uname(&self, buf: UserOutPtr<u8>) -> SysResult {
        let hostname = self
            .process
            .container()
            .map(|container| container.hostname_bytes())
            .ok_or(LxError::ESRCH)?;
        // The host's release and build: programs look for `/lib/modules/$(uname -r)` and
        // the like, and rVisor speaks the host kernel's ABI.
        let view = self.container()?.view();
        let (release, version) = (view.release(), view.version());
        let fields = [
            b"Linux".as_slice(),
            &hostname,
            release.as_bytes(),
            version.as_bytes(),
            b"x86_64",
            UTS_DOMAINNAME.as_bytes(),
        ];
        let mut bytes = [0u8; 6 * UTS_FIELD];
        for (text, out) in fields.iter().zip(bytes.chunks_exact_mut(UTS_FIELD)) {
            // At most 64 bytes, the rest of the field stays NUL.
            let len = text.len().min(UTS_FIELD - 1);
            out.iter_mut()
                .zip(text.iter().take(len))
                .for_each(|(to, from)| *to = *from);
        }
        buf.write_bytes(&bytes)?;
        Ok(0)
    }

    /// `sysinfo(info)`: the container's view of the system — its uptime (rounded up to the
    /// second, as Linux), the machine's load and memory, its own thread count, no swap.
    pub fn sys_sysinfo(&self, info: UserOutPtr<u8>) -> SysResult {
        let container = self.container()?;
        let machine = container.view().machine();
        let uptime = container.uptime();
        let uptime = uptime.as_secs() + u64::from(uptime.subsec_nanos() != 0);
        let threads: usize = container
            .processes()
            .iter()
            .map(|p| p.threads().len())
            .sum();
        // `struct sysinfo` of x86-64: 112 bytes, longs at 0..80, `procs` (u16) at 80,
        // `totalhigh`/`freehigh` at 88/96, `mem_unit` (u32) at 104.
        let mut bytes = [0u8; 112];
        let longs = [
            uptime,
            // `SI_LOAD_SHIFT` (16) fractional bits, from `FSHIFT` (11).
            machine.loads[0] << 5,
            machine.loads[1] << 5,
            machine.loads[2] << 5,
            machine.mem_total,
            machine.mem_free,
            machine.shmem,
            machine.buffers,
            0,
            0,
        ];
        for (value, out) in longs.iter().zip(bytes.chunks_exact_mut(8)) {
            out.copy_from_slice(&value.to_le_bytes());
        }
        let procs = u16::try_from(threads).unwrap_or(u16::MAX);
        bytes[80..82].copy_from_slice(&procs.to_le_bytes());
        bytes[104..108].copy_from_slice(&1u32.to_le_bytes());
        info.write_bytes(&bytes)?;
        Ok(0)
    }

    /// `sethostname(name, len)`: the container's host name becomes the `len` bytes at
    /// `name`, whatever they are. `EPERM` without `CAP_SYS_ADMIN` (effective uid 0), then
    /// `EINVAL` for a negative `len` or one above 64, then `EFAULT`.
    pub fn sys_sethostname(&self, name: UserInPtr<u8>, len: i32) -> SysResult {
        if self.process.credentials().euid != 0 {
            return Err(LxError::EPERM);
        }
        let len = usize::try_from(len)
            .ok()
            .filter(|len| *len <= HOST_NAME_MAX)
            .ok_or(LxError::EINVAL)?;
        let name = name.read_bytes(len)?;
        self.container()?.set_hostname_bytes(&name)?;
        Ok(0)
    }

    /// `clock_gettime(clock, tp)`: the time of a clock as a `struct timespec`. Suspend is not
    /// modelled, so `BOOTTIME` reads as `MONOTONIC`; `TAI` reads as `REALTIME`, as on a Linux
    /// whose TAI offset was never set. Clocks of other processes and fd clocks (negative ids)
    /// are `EINVAL`.
    pub fn sys_clock_gettime(&self, clock: i32, tp: UserOutPtr<u8>) -> SysResult {
        let time = match clock {
            CLOCK_REALTIME | CLOCK_REALTIME_COARSE | CLOCK_REALTIME_ALARM | CLOCK_TAI => {
                platform().map_err(|_| LxError::EIO)?.realtime_now()
            }
            CLOCK_MONOTONIC
            | CLOCK_MONOTONIC_RAW
            | CLOCK_MONOTONIC_COARSE
            | CLOCK_BOOTTIME
            | CLOCK_BOOTTIME_ALARM => platform().map_err(|_| LxError::EIO)?.monotonic_now(),
            CLOCK_PROCESS_CPUTIME_ID => self.host.cpu_time(CpuClock::Process),
            CLOCK_THREAD_CPUTIME_ID => self.host.cpu_time(CpuClock::Thread),
            _ => return Err(LxError::EINVAL),
        };
        tp.write_bytes(&timespec_bytes(time))?;
        Ok(0)
    }
}

/// A `struct timespec` (two longs) holding `time`.
fn timespec_bytes(time: Duration) -> [u8; 16] {
    let seconds = i64::try_from(time.as_secs()).unwrap_or(i64::MAX);
    let mut bytes = [0u8; 16];
    let (sec, nsec) = bytes.split_at_mut(8);
    sec.copy_from_slice(&seconds.to_le_bytes());
    nsec.copy_from_slice(&i64::from(time.subsec_nanos()).to_le_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestMachine, UserArena};

    const UNAME: u32 = 63;
    const CLOCK_GETTIME: u32 = 228;

    fn field(bytes: &[u8], index: usize) -> &[u8] {
        let field = &bytes[index * UTS_FIELD..(index + 1) * UTS_FIELD];
        let end = field.iter().position(|&b| b == 0).unwrap();
        &field[..end]
    }

    #[test]
    fn uname_reports_linux_and_the_containers_host_name() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        let buf = arena.put_bytes(&[0xff; 6 * UTS_FIELD]);
        machine.container().set_hostname(&"h".repeat(64)).unwrap();
        assert_eq!(machine.run(&init, 1, UNAME, [buf, 0, 0, 0, 0, 0]), 0);
        let bytes = arena.get_bytes(buf, 6 * UTS_FIELD);
        assert_eq!(field(&bytes, 0), b"Linux");
        assert_eq!(field(&bytes, 1), "h".repeat(64).as_bytes());
        let view = machine.container().view();
        assert_eq!(field(&bytes, 2), view.release().as_bytes());
        assert_eq!(field(&bytes, 3), view.version().as_bytes());
        assert_eq!(field(&bytes, 4), b"x86_64");
        assert_eq!(field(&bytes, 5), b"(none)");
        let at_end = arena.unmapped() - 6 * UTS_FIELD + 1;
        assert_eq!(
            machine.run(&init, 1, UNAME, [at_end, 0, 0, 0, 0, 0]),
            -(LxError::EFAULT.errno() as isize)
        );
    }

    #[test]
    fn sysinfo_fills_the_whole_struct_in_the_containers_terms() {
        const SYSINFO: u32 = 99;
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        let buf = arena.put_bytes(&[0xff; 112]);
        assert_eq!(machine.run(&init, 1, SYSINFO, [buf, 0, 0, 0, 0, 0]), 0);
        let bytes = arena.get_bytes(buf, 112);
        let long = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        // One thread, no swap, byte units; every byte written (no 0xff left).
        assert_eq!(u16::from_le_bytes([bytes[80], bytes[81]]), 1);
        assert_eq!((long(64), long(72)), (0, 0));
        assert_eq!(u32::from_le_bytes(bytes[104..108].try_into().unwrap()), 1);
        assert!(!bytes.contains(&0xff));
        let at_end = arena.unmapped() - 111;
        assert_eq!(
            machine.run(&init, 1, SYSINFO, [at_end, 0, 0, 0, 0, 0]),
            -(LxError::EFAULT.errno() as isize)
        );
    }

    #[test]
    fn sethostname_is_for_root_and_takes_the_bytes_it_is_given() {
        const SETHOSTNAME: u32 = 170;
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        let name = arena.put_bytes(b"box\0tail-ignored");
        assert_eq!(machine.run(&init, 1, SETHOSTNAME, [name, 3, 0, 0, 0, 0]), 0);
        assert_eq!(machine.container().hostname(), "box");
        // Any bytes, a NUL included, as Linux copies them; uname shows them as they are.
        assert_eq!(machine.run(&init, 1, SETHOSTNAME, [name, 5, 0, 0, 0, 0]), 0);
        assert_eq!(machine.container().hostname_bytes(), b"box\0t");
        let buf = arena.alloc(6 * UTS_FIELD);
        assert_eq!(machine.run(&init, 1, UNAME, [buf, 0, 0, 0, 0, 0]), 0);
        assert_eq!(arena.get_bytes(buf + UTS_FIELD, 6), b"box\0t\0");
        let einval = -(LxError::EINVAL.errno() as isize);
        assert_eq!(
            machine.run(&init, 1, SETHOSTNAME, [name, 65, 0, 0, 0, 0]),
            einval
        );
        assert_eq!(
            machine.run(&init, 1, SETHOSTNAME, [name, usize::MAX, 0, 0, 0, 0]),
            einval
        );
        assert_eq!(
            machine.run(&init, 1, SETHOSTNAME, [arena.unmapped(), 1, 0, 0, 0, 0]),
            -(LxError::EFAULT.errno() as isize)
        );
        init.set_credentials(linux_object::credentials::Credentials::user(1000, 1000));
        assert_eq!(
            machine.run(&init, 1, SETHOSTNAME, [name, 3, 0, 0, 0, 0]),
            -(LxError::EPERM.errno() as isize)
        );
        assert_eq!(machine.container().hostname_bytes(), b"box\0t");
    }

    #[test]
    fn clocks_read_from_the_platform_and_the_host() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        let tp = arena.alloc(16);
        let read = |clock: i32| {
            let result = machine.run(&init, 1, CLOCK_GETTIME, [clock as usize, tp, 0, 0, 0, 0]);
            assert_eq!(result, 0, "clock {clock}");
            let bytes = arena.get_bytes(tp, 16);
            let sec = i64::from_le_bytes(bytes[..8].try_into().unwrap());
            let nsec = i64::from_le_bytes(bytes[8..].try_into().unwrap());
            assert!((0..1_000_000_000).contains(&nsec));
            (sec, nsec)
        };
        assert!(read(CLOCK_REALTIME).0 > 1_700_000_000);
        assert!(read(CLOCK_TAI).0 > 1_700_000_000);
        let before = read(CLOCK_MONOTONIC);
        let after = read(CLOCK_BOOTTIME);
        assert!(after >= before);
        assert_eq!(read(CLOCK_PROCESS_CPUTIME_ID), (3, 500));
        assert_eq!(read(CLOCK_THREAD_CPUTIME_ID), (1, 250));
        let einval = -(LxError::EINVAL.errno() as isize);
        for clock in [10, 12, -1, -6] {
            let args = [clock as usize, tp, 0, 0, 0, 0];
            assert_eq!(machine.run(&init, 1, CLOCK_GETTIME, args), einval);
        }
        let args = [0, arena.unmapped() - 8, 0, 0, 0, 0];
        assert_eq!(
            machine.run(&init, 1, CLOCK_GETTIME, args),
            -(LxError::EFAULT.errno() as isize)
        );
    }
}
