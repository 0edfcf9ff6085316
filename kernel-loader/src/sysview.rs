//! [`KernelView`]: the [`SystemView`] procfs and `sysinfo` read through, over the host
//! kernel's counters and the host tasks of one container.

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use linux_kernel_module::sysview;
use linux_kernel_module::task::TaskId;
use linux_kernel_module::uts::host_utsname;
use linux_object::container::Pid;
use linux_object::procfs::{CpuInfo, MachineInfo, SystemView, TaskMemory, TaskStat};
use linux_object::{LxError, LxResult};

use crate::host::lx_error;
use crate::members::MEMBERS;

/// The view of one container's tasks (by its id) and of the machine.
pub struct KernelView {
    container: u32,
    /// The host path of the container's root, which file mappings are shown relative to.
    root: Vec<u8>,
}

impl KernelView {
    /// The view for container `container`, whose root is the host directory `root`.
    pub fn new(container: u32, root: Vec<u8>) -> Self {
        Self { container, root }
    }
}

/// A NUL-terminated C string field as text.
fn uts_field(field: &[core::ffi::c_char]) -> String {
    let bytes: Vec<u8> = field
        .iter()
        .map(|&c| c as u8)
        .take_while(|&b| b != 0)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

impl SystemView for KernelView {
    fn machine(&self) -> MachineInfo {
        let info = sysview::machine_info();
        MachineInfo {
            boot_time: Duration::from_nanos(info.boot_ns),
            loads: info.loads,
            mem_total: info.mem_total,
            mem_free: info.mem_free,
            mem_available: info.mem_available,
            buffers: info.buffers,
            cached: info.cached,
            shmem: info.shmem,
            cpus_online: info.cpus_online,
            cpus_possible: sysview::cpu_ids(),
            threads: info.threads,
        }
    }

    fn caller(&self) -> Option<(Pid, Pid)> {
        MEMBERS
            .with(TaskId::current(), |m| {
                (m.container.id() == self.container).then_some((m.pid, m.tid))
            })
            .flatten()
    }

    fn task(&self, tid: Pid, group: bool) -> Option<TaskStat> {
        let task = MEMBERS.find_thread(self.container, None, tid)?;
        let stat = sysview::task_stat(&task, group);
        let memory = (stat.has_mm != 0).then_some(TaskMemory {
            size: stat.vm_size,
            peak: stat.vm_peak,
            rss: stat.rss,
            rss_peak: stat.rss_peak,
            rss_anon: stat.rss_anon,
            rss_file: stat.rss_file,
            rss_shmem: stat.rss_shmem,
            locked: stat.locked,
            data: stat.data,
            stack: stat.stack,
            text: stat.text,
            page_tables: stat.page_tables,
            start_code: stat.start_code,
            end_code: stat.end_code,
            start_stack: stat.start_stack,
            start_data: stat.start_data,
            end_data: stat.end_data,
            start_brk: stat.start_brk,
            arg_start: stat.arg_start,
            arg_end: stat.arg_end,
            env_start: stat.env_start,
            env_end: stat.env_end,
        });
        Some(TaskStat {
            comm: stat.comm.map(|c| c as u8),
            state: stat.state,
            user_time: Duration::from_nanos(stat.utime_ns),
            system_time: Duration::from_nanos(stat.stime_ns),
            start_time: Duration::from_nanos(stat.start_boot_ns),
            minor_faults: stat.min_flt,
            major_faults: stat.maj_flt,
            priority: stat.priority,
            nice: stat.nice,
            threads: stat.threads,
            processor: stat.processor,
            rt_priority: stat.rt_priority,
            policy: stat.policy,
            voluntary_switches: stat.nvcsw,
            involuntary_switches: stat.nivcsw,
            memory,
            signals: [
                stat.sig_pending,
                stat.sig_shared,
                stat.sig_blocked,
                stat.sig_ignored,
                stat.sig_caught,
            ],
        })
    }

    fn read_memory(&self, tid: Pid, addr: u64, len: usize) -> Vec<u8> {
        match MEMBERS.find_thread(self.container, None, tid) {
            Some(task) => sysview::read_task_memory(&task, addr, len),
            None => Vec::new(),
        }
    }

    fn cpus(&self) -> Vec<CpuInfo> {
        let text = |field: &[core::ffi::c_char]| uts_field(field);
        (0..sysview::cpu_ids())
            .filter_map(|cpu| sysview::cpu_info(cpu).map(|info| (cpu, info)))
            .map(|(processor, info)| CpuInfo {
                processor,
                vendor_id: text(&info.vendor_id),
                model_name: text(&info.model_name),
                family: info.family,
                model: info.model,
                stepping: info.stepping,
                microcode: info.microcode,
                khz: info.khz,
                cache_kb: info.cache_kb,
                physical_id: info.physical_id,
                core_id: info.core_id,
                siblings: info.siblings,
                cores: info.cores,
                apicid: info.apicid,
                clflush: info.clflush,
                cache_alignment: info.cache_alignment,
                phys_bits: info.phys_bits,
                virt_bits: info.virt_bits,
                bogomips_x100: info.bogomips_x100,
                flags: text(&info.flags),
            })
            .collect()
    }

    fn maps(&self, tid: Pid) -> Vec<u8> {
        match MEMBERS.find_thread(self.container, None, tid) {
            Some(task) => sysview::task_maps(&task, &self.root).unwrap_or_default(),
            None => Vec::new(),
        }
    }

    fn set_comm(&self, tid: Pid, name: &[u8]) -> LxResult {
        let task = MEMBERS
            .find_thread(self.container, None, tid)
            .ok_or(LxError::ESRCH)?;
        sysview::set_task_comm(&task, name);
        Ok(())
    }

    fn oom_score_adj(&self, tid: Pid) -> i32 {
        MEMBERS
            .find_thread(self.container, None, tid)
            .map_or(0, |task| sysview::oom_score_adj(&task))
    }

    fn set_oom_score_adj(&self, tid: Pid, value: i32) -> LxResult {
        let task = MEMBERS
            .find_thread(self.container, None, tid)
            .ok_or(LxError::ESRCH)?;
        sysview::set_oom_score_adj(&task, value).map_err(lx_error)
    }

    fn limits(&self, tid: Pid) -> Option<[(u64, u64); 16]> {
        MEMBERS
            .find_thread(self.container, None, tid)
            .map(|task| sysview::task_limits(&task))
    }

    fn release(&self) -> String {
        uts_field(&host_utsname().release)
    }

    fn version(&self) -> String {
        uts_field(&host_utsname().version)
    }
}
