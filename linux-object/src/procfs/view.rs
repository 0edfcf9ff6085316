//! [`SystemView`]: what procfs and `sysinfo` need from the machine under a container and from
//! the host tasks that run its threads. The kernel module implements it; a container made
//! without one sees [`NoView`]'s empty machine.

use crate::container::Pid;
use crate::error::LxResult;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

/// The machine's memory and load, as the container may see them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MachineInfo {
    /// Time since the machine booted, suspend included (`CLOCK_BOOTTIME`).
    pub boot_time: Duration,
    /// Load averages over 1, 5 and 15 minutes, fixed point with 11 fractional bits (Linux's
    /// `avenrun`, `FSHIFT`).
    pub loads: [u64; 3],
    /// Usable memory, in bytes.
    pub mem_total: u64,
    /// Memory nobody uses, in bytes.
    pub mem_free: u64,
    /// Memory available to new programs without swapping (`si_mem_available`), in bytes.
    pub mem_available: u64,
    /// Block-device buffers, in bytes.
    pub buffers: u64,
    /// The page cache without shared memory, in bytes.
    pub cached: u64,
    /// Shared memory (tmpfs, shmem), in bytes.
    pub shmem: u64,
    /// Processors online.
    pub cpus_online: u32,
    /// Processor ids possible: `0..cpus_possible` (`nr_cpu_ids`).
    pub cpus_possible: u32,
    /// Total processes (threads) on the machine: what `/proc/loadavg` would count.
    pub threads: u32,
}

/// A host task's state and accounting, for `/proc/PID/stat` and `status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskStat {
    /// The task's name (`comm`), NUL-padded.
    pub comm: [u8; 16],
    /// The state letter `ps` shows (`R`, `S`, `D`, `T`, `t`, `Z`, `X`, `I`).
    pub state: u8,
    /// User and system CPU time of the thread group (or of the thread, for `task/TID`).
    pub user_time: Duration,
    /// System CPU time.
    pub system_time: Duration,
    /// When it started, on the `boot_time` clock.
    pub start_time: Duration,
    /// Minor and major page faults.
    pub minor_faults: u64,
    /// Major page faults.
    pub major_faults: u64,
    /// Scheduling priority as `/proc/PID/stat` shows it (`prio - 100`).
    pub priority: i32,
    /// Nice value.
    pub nice: i32,
    /// Threads in the group.
    pub threads: u32,
    /// The processor it last ran on.
    pub processor: u32,
    /// Real-time priority and scheduling policy.
    pub rt_priority: u32,
    /// Scheduling policy (`SCHED_*`).
    pub policy: u32,
    /// Voluntary and involuntary context switches.
    pub voluntary_switches: u64,
    /// Involuntary context switches.
    pub involuntary_switches: u64,
    /// Its memory, if it has any (a zombie has none).
    pub memory: Option<TaskMemory>,
    /// Pending (thread and shared), blocked, ignored and caught signal masks.
    pub signals: [u64; 5],
}

/// A task's address space, sizes in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskMemory {
    /// Virtual size and its peak.
    pub size: u64,
    /// Peak virtual size.
    pub peak: u64,
    /// Resident set and its peak.
    pub rss: u64,
    /// Peak resident set.
    pub rss_peak: u64,
    /// Resident anonymous, file-backed and shared-memory pages.
    pub rss_anon: u64,
    /// Resident file pages.
    pub rss_file: u64,
    /// Resident shared memory.
    pub rss_shmem: u64,
    /// Locked and pinned memory.
    pub locked: u64,
    /// Data (private writable, not stack), stack, text and page-table sizes.
    pub data: u64,
    /// Stack size.
    pub stack: u64,
    /// Program text size.
    pub text: u64,
    /// Page tables.
    pub page_tables: u64,
    /// Program text, data, brk and stack addresses (`/proc/PID/stat` fields 26–28, 45–51).
    pub start_code: u64,
    /// End of the program text.
    pub end_code: u64,
    /// Bottom of the main stack.
    pub start_stack: u64,
    /// Start and end of the initialised data, start of the heap.
    pub start_data: u64,
    /// End of the initialised data.
    pub end_data: u64,
    /// Start of the heap.
    pub start_brk: u64,
    /// Where the arguments and the environment lie in memory.
    pub arg_start: u64,
    /// End of the arguments.
    pub arg_end: u64,
    /// Start of the environment.
    pub env_start: u64,
    /// End of the environment.
    pub env_end: u64,
}

/// One processor, as `/proc/cpuinfo` describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuInfo {
    /// Its number.
    pub processor: u32,
    /// `GenuineIntel`, `AuthenticAMD`, …
    pub vendor_id: String,
    /// The brand string.
    pub model_name: String,
    /// Family, model, stepping and microcode revision.
    pub family: u32,
    /// Model number.
    pub model: u32,
    /// Stepping.
    pub stepping: u32,
    /// Microcode revision.
    pub microcode: u32,
    /// Clock in kHz, cache size in KiB.
    pub khz: u32,
    /// Cache size in KiB.
    pub cache_kb: u32,
    /// Package, core, logical processors per package, cores per package, APIC id.
    pub physical_id: u32,
    /// Core id.
    pub core_id: u32,
    /// Logical processors in the package.
    pub siblings: u32,
    /// Cores in the package.
    pub cores: u32,
    /// Initial APIC id.
    pub apicid: u32,
    /// `clflush` line size, cache alignment, physical and virtual address bits.
    pub clflush: u32,
    /// Cache alignment.
    pub cache_alignment: u32,
    /// Physical address bits.
    pub phys_bits: u32,
    /// Virtual address bits.
    pub virt_bits: u32,
    /// BogoMIPS, in hundredths.
    pub bogomips_x100: u32,
    /// The feature names.
    pub flags: String,
}

/// What procfs asks of the machine and of a container's host tasks.
pub trait SystemView: Send + Sync {
    /// The machine's memory and load.
    fn machine(&self) -> MachineInfo;

    /// The calling task as a thread of the container: `(pid, tid)`, or `None` if the caller
    /// is not one of its threads.
    fn caller(&self) -> Option<(Pid, Pid)>;

    /// The state and accounting of the container thread `tid`; the whole thread group's
    /// times when `group`. `None` if no such thread runs.
    fn task(&self, tid: Pid, group: bool) -> Option<TaskStat>;

    /// Reads `len` bytes at `addr` of the memory of thread `tid` (for `cmdline` and
    /// `environ`); fewer where the memory ends.
    fn read_memory(&self, tid: Pid, addr: u64, len: usize) -> Vec<u8>;

    /// The processors online.
    fn cpus(&self) -> Vec<CpuInfo>;

    /// Thread `tid`'s memory map in `/proc/PID/maps`'s format, file paths in the
    /// container's terms; empty if it has no memory.
    fn maps(&self, tid: Pid) -> Vec<u8>;

    /// Names thread `tid` (of the caller's process) `name`, as a write of its `comm`.
    fn set_comm(&self, _tid: Pid, _name: &[u8]) -> LxResult {
        Ok(())
    }

    /// Thread `tid`'s process's `oom_score_adj`.
    fn oom_score_adj(&self, _tid: Pid) -> i32 {
        0
    }

    /// Sets thread `tid`'s process's `oom_score_adj` by the host's rules (`EINVAL`,
    /// `EACCES`).
    fn set_oom_score_adj(&self, _tid: Pid, _value: i32) -> LxResult {
        Ok(())
    }

    /// Thread `tid`'s resource limits, soft and hard, by resource number.
    fn limits(&self, _tid: Pid) -> Option<[(u64, u64); 16]> {
        None
    }

    /// The host kernel's release (`uname -r`), which the container's kernel reports too.
    fn release(&self) -> String;

    /// The host kernel's build (`uname -v`).
    fn version(&self) -> String;
}

/// A view of no machine: no memory, no load, no tasks (for containers made without the
/// kernel module, as in unit tests).
pub struct NoView;

impl SystemView for NoView {
    fn machine(&self) -> MachineInfo {
        MachineInfo::default()
    }

    fn caller(&self) -> Option<(Pid, Pid)> {
        None
    }

    fn task(&self, _tid: Pid, _group: bool) -> Option<TaskStat> {
        None
    }

    fn read_memory(&self, _tid: Pid, _addr: u64, _len: usize) -> Vec<u8> {
        Vec::new()
    }

    fn cpus(&self) -> Vec<CpuInfo> {
        Vec::new()
    }

    fn maps(&self, _tid: Pid) -> Vec<u8> {
        Vec::new()
    }

    fn release(&self) -> String {
        String::from("6.1.0")
    }

    fn version(&self) -> String {
        String::from("#1 SMP")
    }
}
