//! What procfs and `sysinfo` read from the host: the machine's memory and load, and the state
//! and accounting of a held task.

use alloc::vec::Vec;

use crate::bindings;
use crate::task::HeldTask;

pub use bindings::rvisor_machine_info as MachineInfo;
pub use bindings::rvisor_task_stat as TaskStat;

/// The machine's boot clock, load, memory and processors now.
pub fn machine_info() -> MachineInfo {
    // SAFETY: all-zero bytes are a valid value of this plain C struct.
    let mut info: MachineInfo = unsafe { core::mem::zeroed() };
    // SAFETY: `info` is valid for writes; the shim reads only global counters.
    unsafe { bindings::rvisor_machine_info(&mut info) };
    info
}

/// `task`'s state and accounting; its whole thread group's times and faults when `group`.
/// May sleep (it takes a reference to the task's memory).
pub fn task_stat(task: &HeldTask, group: bool) -> TaskStat {
    // SAFETY: all-zero bytes are a valid value of this plain C struct.
    let mut stat: TaskStat = unsafe { core::mem::zeroed() };
    // SAFETY: the task is held alive by `task`; `stat` is valid for writes; process context.
    unsafe { bindings::rvisor_task_stat(task.as_ptr(), group, &mut stat) };
    stat
}

/// Up to `len` bytes of `task`'s memory at `addr` (`access_process_vm`); fewer where its
/// memory ends, none if it has none. May sleep.
pub fn read_task_memory(task: &HeldTask, addr: u64, len: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    if buf.try_reserve_exact(len).is_err() {
        return buf;
    }
    buf.resize(len, 0);
    // SAFETY: the task is held alive; `buf` is valid for `len` bytes of writes; process
    // context.
    let got = unsafe {
        bindings::rvisor_task_read_memory(task.as_ptr(), addr, buf.as_mut_ptr().cast(), len as _)
    };
    buf.truncate(usize::try_from(got).unwrap_or(0).min(len));
    buf
}

pub use bindings::rvisor_cpu_info as CpuInfo;

/// Processor `cpu`'s identity, topology and features; `None` if it is not online.
pub fn cpu_info(cpu: u32) -> Option<CpuInfo> {
    // SAFETY: all-zero bytes are a valid value of this plain C struct.
    let mut info: CpuInfo = unsafe { core::mem::zeroed() };
    // SAFETY: `info` is valid for writes; the shim reads per-CPU data of a CPU it checks is
    // online.
    let ret = unsafe { bindings::rvisor_cpu_info(cpu, &mut info) };
    (ret == 0).then_some(info)
}

/// One more than the highest possible processor id.
pub fn cpu_ids() -> u32 {
    // SAFETY: reads a constant set at boot.
    unsafe { bindings::rvisor_nr_cpu_ids() }
}

/// `task`'s memory map in `/proc/PID/maps`'s format, file paths shown relative to the host
/// directory `root` (the container's root); empty if it has no memory. May sleep.
pub fn task_maps(task: &HeldTask, root: &[u8]) -> crate::error::Result<Vec<u8>> {
    let mut len = 16 * 1024;
    loop {
        let mut buf = Vec::new();
        buf.try_reserve_exact(len)
            .map_err(|_| crate::error::Error::ENOMEM)?;
        buf.resize(len, 0);
        // SAFETY: the task is held alive; `root` and `buf` are valid for their lengths;
        // process context.
        let ret = unsafe {
            bindings::rvisor_task_maps(
                task.as_ptr(),
                root.as_ptr().cast(),
                root.len() as _,
                buf.as_mut_ptr().cast(),
                len as _,
            )
        };
        match crate::error::Error::check(ret) {
            Ok(used) => {
                buf.truncate(used as usize);
                return Ok(buf);
            }
            Err(crate::error::Error::ENOSPC) if len < 16 << 20 => len *= 4,
            Err(crate::error::Error::ESRCH) => return Ok(Vec::new()),
            Err(error) => return Err(error),
        }
    }
}

/// Names `task` (a thread of the caller's process) `name`: its first 15 bytes, as Linux's
/// `/proc/PID/comm` write.
pub fn set_task_comm(task: &HeldTask, name: &[u8]) {
    // SAFETY: the task is held alive; `name` is valid for its length.
    unsafe { bindings::rvisor_task_set_comm(task.as_ptr(), name.as_ptr().cast(), name.len() as _) }
}

/// `task`'s process's `oom_score_adj`.
pub fn oom_score_adj(task: &HeldTask) -> i32 {
    // SAFETY: the task is held alive.
    unsafe { bindings::rvisor_task_oom_score_adj(task.as_ptr()) }
}

/// Sets `task`'s process's `oom_score_adj` by the host's rules (`EINVAL` out of range,
/// `EACCES` below its floor without `CAP_SYS_RESOURCE`).
pub fn set_oom_score_adj(task: &HeldTask, value: i32) -> crate::error::Result {
    // SAFETY: the task is held alive; process context.
    let ret = unsafe { bindings::rvisor_task_set_oom_score_adj(task.as_ptr(), value) };
    crate::error::Error::check(ret.into()).map(drop)
}

/// `task`'s resource limits: soft and hard, by resource number.
pub fn task_limits(task: &HeldTask) -> [(u64, u64); 16] {
    let (mut soft, mut hard) = ([0u64; 16], [0u64; 16]);
    // SAFETY: the task is held alive; both arrays hold RLIM_NLIMITS (16) values.
    unsafe { bindings::rvisor_task_limits(task.as_ptr(), soft.as_mut_ptr(), hard.as_mut_ptr()) };
    core::array::from_fn(|i| (soft[i], hard[i]))
}
