//! The text of procfs's files, in Linux's formats (`fs/proc/*.c`), with the container's
//! pids, ids and clock.

use super::{PidFile, SysFile, TaskStat};
use crate::container::{Container, Pid};
use crate::fs::{File, FileLike};
use crate::process::{LinuxProcess, RootDir};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::time::Duration;
use kernel_hal_lkm::platform;
use kernel_hostfs::{FileType, FsError, FsResult};

/// Clock ticks per second of the times `/proc` shows (`USER_HZ`).
const USER_HZ: u64 = 100;

/// `FSHIFT`: fractional bits of a load average.
const FSHIFT: u32 = 11;

fn ticks(time: Duration) -> u64 {
    time.as_secs() * USER_HZ
        + u64::from(time.subsec_nanos()) / (1_000_000_000 / USER_HZ as u32) as u64
}

/// `seconds.hundredths`, as `/proc/uptime` prints a time.
fn centiseconds(time: Duration) -> String {
    format!("{}.{:02}", time.as_secs(), time.subsec_millis() / 10)
}

/// A load average as `/proc/loadavg` prints it (`LOAD_INT`/`LOAD_FRAC`).
fn load(fixed: u64) -> String {
    let fixed = fixed + (1 << (FSHIFT - 1)) / 100; // Linux rounds: FIXED_1/200
    let int = fixed >> FSHIFT;
    let frac = ((fixed & ((1 << FSHIFT) - 1)) * 100) >> FSHIFT;
    format!("{int}.{frac:02}")
}

/// One `meminfo` line: the label padded to 16 columns, the value in KiB in 8.
fn meminfo_line(out: &mut String, label: &str, bytes: u64) {
    let _ = writeln!(out, "{:<16}{:>8} kB", label, bytes / 1024);
}

/// The release the container's kernel reports (`uname -r`): the host's.
pub(crate) fn os_release(container: &Container) -> String {
    String::from(container.view().release().trim_end_matches('\0'))
}

pub(super) fn system_file(container: &Container, file: SysFile) -> FsResult<Vec<u8>> {
    let view = container.view();
    let text = match file {
        SysFile::Value(text) => String::from(text),
        SysFile::OsRelease => format!("{}\n", os_release(container)),
        SysFile::Hostname => format!("{}\n", container.hostname()),
        SysFile::Uptime => {
            // rVisor does not account idle time per container: none is shown.
            format!("{} 0.00\n", centiseconds(container.uptime()))
        }
        SysFile::LoadAvg => {
            let machine = view.machine();
            let processes = container.processes();
            let threads: usize = processes.iter().map(|p| p.threads().len()).sum();
            let running = processes
                .iter()
                .filter(|p| p.exit_status().is_none())
                .filter_map(|p| view.task(p.pid(), false))
                .filter(|task| task.state == b'R')
                .count();
            format!(
                "{} {} {} {}/{} {}\n",
                load(machine.loads[0]),
                load(machine.loads[1]),
                load(machine.loads[2]),
                running,
                threads,
                container.last_pid()
            )
        }
        SysFile::MemInfo => {
            let machine = view.machine();
            let mut out = String::new();
            for (label, bytes) in [
                ("MemTotal:", machine.mem_total),
                ("MemFree:", machine.mem_free),
                ("MemAvailable:", machine.mem_available),
                ("Buffers:", machine.buffers),
                ("Cached:", machine.cached),
                ("SwapCached:", 0),
                ("SwapTotal:", 0),
                ("SwapFree:", 0),
                ("Shmem:", machine.shmem),
                ("SReclaimable:", 0),
            ] {
                meminfo_line(&mut out, label, bytes);
            }
            out
        }
        SysFile::Stat => {
            let machine = view.machine();
            let processes = container.processes();
            let mut running = 0;
            let mut blocked = 0;
            let (mut user, mut system) = (Duration::ZERO, Duration::ZERO);
            for process in processes.iter().filter(|p| p.exit_status().is_none()) {
                if let Some(task) = view.task(process.pid(), true) {
                    running += usize::from(task.state == b'R');
                    blocked += usize::from(task.state == b'D');
                    user += task.user_time;
                    system += task.system_time;
                }
            }
            // The container's own CPU time; the rest of its processors' time shows as idle.
            let cpus = u64::from(machine.cpus_online.max(1));
            let total = ticks(container.uptime()) * cpus;
            let idle = total.saturating_sub(ticks(user) + ticks(system));
            let mut out = format!(
                "cpu  {} 0 {} {} 0 0 0 0 0 0\n",
                ticks(user),
                ticks(system),
                idle
            );
            for cpu in 0..cpus {
                let _ = writeln!(out, "cpu{cpu} 0 0 0 {} 0 0 0 0 0 0", idle / cpus);
            }
            let boot = platform()
                .map(|p| p.realtime_now())
                .unwrap_or_default()
                .saturating_sub(container.uptime());
            let _ = write!(
                out,
                "intr 0\nctxt 0\nbtime {}\nprocesses {}\nprocs_running {}\nprocs_blocked {}\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
                boot.as_secs(),
                container.last_pid(),
                running.max(1),
                blocked
            );
            out
        }
        SysFile::CpuInfo => {
            let mut out = String::new();
            for cpu in view.cpus() {
                let _ = write!(
                    out,
                    "processor\t: {}\nvendor_id\t: {}\ncpu family\t: {}\nmodel\t\t: {}\nmodel name\t: {}\nstepping\t: {}\nmicrocode\t: 0x{:x}\ncpu MHz\t\t: {}.{:03}\ncache size\t: {} KB\nphysical id\t: {}\nsiblings\t: {}\ncore id\t\t: {}\ncpu cores\t: {}\napicid\t\t: {}\ninitial apicid\t: {}\nfpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: 13\nwp\t\t: yes\nflags\t\t: {}\nbogomips\t: {}.{:02}\nclflush size\t: {}\ncache_alignment\t: {}\naddress sizes\t: {} bits physical, {} bits virtual\npower management:\n\n",
                    cpu.processor,
                    cpu.vendor_id,
                    cpu.family,
                    cpu.model,
                    cpu.model_name,
                    cpu.stepping,
                    cpu.microcode,
                    cpu.khz / 1000,
                    cpu.khz % 1000,
                    cpu.cache_kb,
                    cpu.physical_id,
                    cpu.siblings,
                    cpu.core_id,
                    cpu.cores,
                    cpu.apicid,
                    cpu.apicid,
                    cpu.flags,
                    cpu.bogomips_x100 / 100,
                    cpu.bogomips_x100 % 100,
                    cpu.clflush,
                    cpu.cache_alignment,
                    cpu.phys_bits,
                    cpu.virt_bits
                );
            }
            out
        }
        SysFile::CpusOnline => {
            let online: Vec<u32> = view.cpus().iter().map(|cpu| cpu.processor).collect();
            cpu_list(&online)
        }
        SysFile::CpusPossible => {
            let possible: Vec<u32> = (0..view.machine().cpus_possible).collect();
            cpu_list(&possible)
        }
        SysFile::Version => {
            let (release, version) = (os_release(container), view.version());
            format!(
                "Linux version {release} (rVisor) {}\n",
                version.trim_end_matches('\0')
            )
        }
        SysFile::Filesystems => {
            let mut out = String::new();
            let mut seen: Vec<String> = Vec::new();
            for mount in container.mounts().snapshot().iter() {
                let fstype = String::from(mount.fstype());
                if !seen.contains(&fstype) {
                    let nodev = if mount.fstype() == "proc" {
                        "nodev"
                    } else {
                        ""
                    };
                    let _ = writeln!(out, "{nodev}\t{fstype}");
                    seen.push(fstype);
                }
            }
            out
        }
        SysFile::Uuid | SysFile::BootId => {
            let mut bytes = [0u8; 16];
            match file {
                SysFile::BootId => bytes = container.boot_id(),
                _ => {
                    if let Ok(platform) = platform() {
                        platform.fill_random(&mut bytes);
                    }
                }
            }
            // A version 4 UUID, as Linux's `generate_random_uuid`.
            bytes[6] = (bytes[6] & 0x0f) | 0x40;
            bytes[8] = (bytes[8] & 0x3f) | 0x80;
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            format!(
                "{}-{}-{}-{}-{}\n",
                &hex[0..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            )
        }
    };
    Ok(text.into_bytes())
}

/// A CPU list as sysfs prints one (`0-3,6`), with its newline.
fn cpu_list(cpus: &[u32]) -> String {
    let mut out = String::new();
    let mut rest = cpus;
    while let Some((&first, tail)) = rest.split_first() {
        let run = tail
            .iter()
            .zip(1..)
            .take_while(|(&cpu, step)| cpu == first + step)
            .count();
        if !out.is_empty() {
            out.push(',');
        }
        if run == 0 {
            let _ = write!(out, "{first}");
        } else {
            let _ = write!(out, "{first}-{}", first + run as u32);
        }
        rest = tail.get(run..).unwrap_or_default();
    }
    out.push('\n');
    out
}

/// The state letter and its name, as `status` shows them.
fn state_name(state: u8) -> &'static str {
    match state {
        b'R' => "R (running)",
        b'S' => "S (sleeping)",
        b'D' => "D (disk sleep)",
        b'T' => "T (stopped)",
        b't' => "t (tracing stop)",
        b'X' => "X (dead)",
        b'Z' => "Z (zombie)",
        b'P' => "P (parked)",
        b'I' => "I (idle)",
        _ => "S (sleeping)",
    }
}

/// The process's name as `comm` holds it: the host task's, or the program's file name.
fn comm(process: &LinuxProcess, task: Option<&TaskStat>) -> String {
    if let Some(task) = task {
        let len = task
            .comm
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(task.comm.len());
        if len > 0 {
            return String::from_utf8_lossy(task.comm.get(..len).unwrap_or_default()).into_owned();
        }
    }
    let path = process.exec_path();
    let name = path.rsplit('/').next().unwrap_or_default();
    name.chars().take(15).collect()
}

pub(super) fn process_file(
    container: &Container,
    process: &LinuxProcess,
    tid: Option<Pid>,
    file: PidFile,
) -> FsResult<Vec<u8>> {
    let view = container.view();
    let alive = process.exit_status().is_none();
    let task = if alive {
        view.task(tid.unwrap_or(process.pid()), tid.is_none())
    } else {
        None
    };
    let state = if alive {
        task.map_or(b'S', |t| t.state)
    } else {
        b'Z'
    };
    let memory = task.and_then(|t| t.memory).unwrap_or_default();
    let text = match file {
        PidFile::Comm => format!("{}\n", comm(process, task.as_ref())),
        PidFile::Stat => {
            let task = task.unwrap_or_default();
            let ids = process.group_ids();
            let start = task.start_time.saturating_sub(container.started());
            let exit_code = process.exit_status().map_or(0, |s| s.wait_status());
            let [_, _, blocked, ignored, caught] = task.signals;
            // The session's controlling pty (its device number) and its foreground group.
            let terminal = if process.tty_detached() {
                None
            } else {
                container.devpts().controlling(ids.sid)
            };
            let tty_nr = terminal.as_ref().map_or(0, |pty| pty.rdev());
            let tpgid = terminal.and_then(|pty| pty.pgrp()).map_or(-1, i64::from);
            format!(
                "{} ({}) {} {} {} {} {} {} 4194560 {} 0 {} 0 {} {} 0 0 {} {} {} 0 {} {} {} 18446744073709551615 {} {} {} 0 0 0 {} {} {} 0 0 0 17 {} {} {} 0 0 0 {} {} {} {} {} {} {} {}\n",
                tid.unwrap_or(process.pid()),
                comm(process, Some(&task)),
                state as char,
                process.ppid(),
                ids.pgid,
                ids.sid,
                tty_nr,
                tpgid,
                task.minor_faults,
                task.major_faults,
                ticks(task.user_time),
                ticks(task.system_time),
                task.priority,
                task.nice,
                task.threads.max(1),
                ticks(start),
                memory.size,
                memory.rss / 4096,
                memory.start_code,
                memory.end_code,
                memory.start_stack,
                // The signal masks fields are obsolete; Linux shows the low words.
                blocked & 0x7fff_ffff_ffff_ffff,
                ignored & 0x7fff_ffff_ffff_ffff,
                caught & 0x7fff_ffff_ffff_ffff,
                task.processor,
                task.rt_priority,
                task.policy,
                memory.start_data,
                memory.end_data,
                memory.start_brk,
                memory.arg_start,
                memory.arg_end,
                memory.env_start,
                memory.env_end,
                exit_code
            )
        }
        PidFile::Statm => {
            let page = |bytes: u64| bytes / 4096;
            format!(
                "{} {} {} {} 0 {} 0\n",
                page(memory.size),
                page(memory.rss),
                page(memory.rss_file + memory.rss_shmem),
                page(memory.text),
                page(memory.data + memory.stack)
            )
        }
        PidFile::Status => status(process, tid, state, task.as_ref()),
        PidFile::Cmdline | PidFile::Environ => {
            let (start, end) = match file {
                PidFile::Cmdline => (memory.arg_start, memory.arg_end),
                _ => (memory.env_start, memory.env_end),
            };
            let len = usize::try_from(end.saturating_sub(start)).unwrap_or(0);
            return Ok(if len == 0 {
                Vec::new()
            } else {
                view.read_memory(tid.unwrap_or(process.pid()), start, len)
            });
        }
        PidFile::Maps => return Ok(view.maps(tid.unwrap_or(process.pid()))),
        PidFile::Mounts | PidFile::MountInfo => {
            mounts(container, &process.root(), file == PidFile::MountInfo)
        }
        PidFile::Cgroup => String::from("0::/\n"),
        PidFile::OomScoreAdj => format!("{}\n", view.oom_score_adj(process.pid())),
        PidFile::Limits => limits(process, view.limits(tid.unwrap_or(process.pid()))),
        PidFile::LoginUid => String::from("4294967295\n"),
    };
    Ok(text.into_bytes())
}

fn status(process: &LinuxProcess, tid: Option<Pid>, state: u8, task: Option<&TaskStat>) -> String {
    let credentials = process.credentials();
    let files = process.files().max_fds();
    let groups: String = credentials.groups.iter().map(|g| format!("{g} ")).collect();
    let ids = process.group_ids();
    // Nothing traces a contained process: `ptrace` is refused.
    let tracer = 0;
    let pid = process.pid();
    let mut out = format!(
        "Name:\t{}\nUmask:\t{:04o}\nState:\t{}\nTgid:\t{pid}\nNgid:\t0\nPid:\t{}\nPPid:\t{}\nTracerPid:\t{tracer}\nUid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nFDSize:\t{files}\nGroups:\t{groups}\nNStgid:\t{pid}\nNSpid:\t{}\nNSpgid:\t{}\nNSsid:\t{}\n",
        comm(process, task),
        process.umask(),
        state_name(state),
        tid.unwrap_or(pid),
        process.ppid(),
        credentials.uid,
        credentials.euid,
        credentials.suid,
        credentials.fsuid,
        credentials.gid,
        credentials.egid,
        credentials.sgid,
        credentials.fsgid,
        tid.unwrap_or(pid),
        ids.pgid,
        ids.sid,
    );
    if let Some(memory) = task.and_then(|t| t.memory) {
        for (label, bytes) in [
            ("VmPeak:", memory.peak),
            ("VmSize:", memory.size),
            ("VmLck:", memory.locked),
            ("VmPin:", 0),
            ("VmHWM:", memory.rss_peak),
            ("VmRSS:", memory.rss),
            ("RssAnon:", memory.rss_anon),
            ("RssFile:", memory.rss_file),
            ("RssShmem:", memory.rss_shmem),
            ("VmData:", memory.data),
            ("VmStk:", memory.stack),
            ("VmExe:", memory.text),
            ("VmLib:", 0),
            ("VmPTE:", memory.page_tables),
            ("VmSwap:", 0),
        ] {
            // Linux's `seq_put_decimal_ull_width(m, "VmPeak:\t", …, 8)`.
            let _ = writeln!(out, "{label}\t{:>8} kB", bytes / 1024);
        }
    }
    let task = task.copied().unwrap_or_default();
    let [pending, shared, blocked, ignored, caught] = task.signals;
    let _ = write!(
        out,
        "Threads:\t{}\nSigQ:\t0/0\nSigPnd:\t{pending:016x}\nShdPnd:\t{shared:016x}\nSigBlk:\t{blocked:016x}\nSigIgn:\t{ignored:016x}\nSigCgt:\t{caught:016x}\n",
        task.threads.max(1)
    );
    let _ = write!(
        out,
        "voluntary_ctxt_switches:\t{}\nnonvoluntary_ctxt_switches:\t{}\n",
        task.voluntary_switches, task.involuntary_switches
    );
    out
}

/// `/proc/PID/limits`, as Linux's `proc_pid_limits` prints it; the open-files limit is the
/// process's fd table's.
fn limits(process: &LinuxProcess, host: Option<[(u64, u64); 16]>) -> String {
    const NAMES: [(&str, &str); 16] = [
        ("Max cpu time", "seconds"),
        ("Max file size", "bytes"),
        ("Max data size", "bytes"),
        ("Max stack size", "bytes"),
        ("Max core file size", "bytes"),
        ("Max resident set", "bytes"),
        ("Max processes", "processes"),
        ("Max open files", "files"),
        ("Max locked memory", "bytes"),
        ("Max address space", "bytes"),
        ("Max file locks", "locks"),
        ("Max pending signals", "signals"),
        ("Max msgqueue size", "bytes"),
        ("Max nice priority", ""),
        ("Max realtime priority", ""),
        ("Max realtime timeout", "us"),
    ];
    const RLIMIT_NOFILE: usize = 7;
    let mut out = format!(
        "{:<25} {:<20} {:<20} {:<10}\n",
        "Limit", "Soft Limit", "Hard Limit", "Units"
    );
    let Some(mut values) = host else {
        return out;
    };
    if let Some(nofile) = values.get_mut(RLIMIT_NOFILE) {
        let files = process.files();
        *nofile = (files.limit() as u64, files.hard_limit() as u64);
    }
    let show = |value: u64| {
        if value == u64::MAX {
            String::from("unlimited")
        } else {
            format!("{value}")
        }
    };
    for ((name, unit), (soft, hard)) in NAMES.iter().zip(values) {
        let _ = write!(out, "{:<25} {:<20} {:<20} ", name, show(soft), show(hard));
        // A limit without a unit ends after the space, as Linux prints it.
        if unit.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{unit:<10}");
        }
    }
    out
}

/// `/proc/PID/fdinfo/N`: the description's offset and flags (`O_CLOEXEC` from the
/// descriptor), the mount its file is on, its inode number.
pub(super) fn fd_info(container: &Container, process: &LinuxProcess, fd: i32) -> FsResult<Vec<u8>> {
    const O_CLOEXEC: u32 = 0o2_000_000;
    let (file, cloexec) = {
        let files = process.files();
        let file = files.get(fd).map_err(|_| FsError::NotFound)?;
        (file, files.cloexec(fd).unwrap_or(false))
    };
    let position = file.seek(crate::fs::SeekFrom::Current(0)).unwrap_or(0);
    let flags = file.flags().bits() | if cloexec { O_CLOEXEC } else { 0 };
    let inode = file.metadata().map(|m| m.inode).unwrap_or(0);
    let path = file.as_any().downcast_ref::<File>().and_then(File::path);
    let mounts = container.mounts().snapshot();
    let mount_id = path
        .and_then(|path| mounts.holding(path))
        .map_or(0, |mount| mount.id());
    let mut info =
        format!("pos:\t{position}\nflags:\t0{flags:o}\nmnt_id:\t{mount_id}\nino:\t{inode}\n")
            .into_bytes();
    if let Some(inotify) = file.as_any().downcast_ref::<crate::fs::Inotify>() {
        // Linux's inotify_fdinfo: a line per watch.
        info.extend_from_slice(&inotify.fdinfo());
    }
    Ok(info)
}

/// `/proc/PID/mounts` (as `/etc/mtab`) or `mountinfo`, as the process sees them from its
/// root: mount points relative to it, and the mounts outside it left out (Linux skips what
/// its root cannot reach).
fn mounts(container: &Container, root: &RootDir, info: bool) -> String {
    let mut out = String::new();
    for mount in container.mounts().snapshot().iter() {
        let Some(point) = root.beneath(mount.point()) else {
            continue;
        };
        let options = mount.flags().options();
        if info {
            let _ = writeln!(
                out,
                "{} {} 0:{} / {} {} - {} {} {}",
                mount.id(),
                mount.parent_id(),
                mount.id(),
                point,
                options,
                mount.fstype(),
                mount.source(),
                if mount.flags().contains(crate::mount::MountFlags::RDONLY) {
                    "ro"
                } else {
                    "rw"
                }
            );
        } else {
            let _ = writeln!(
                out,
                "{} {} {} {} 0 0",
                mount.source(),
                point,
                mount.fstype(),
                options
            );
        }
    }
    out
}

/// What `/proc/PID/fd/N` links to: the path of a file, else the kind and inode of the
/// object, as Linux's `d_path` of a pipe or socket shows it.
pub(super) fn fd_target(file: &dyn FileLike) -> FsResult<String> {
    let metadata = file.metadata().map_err(|_| FsError::Io)?;
    if let Some(path) = file.as_any().downcast_ref::<File>().and_then(File::path) {
        if !path.is_empty() {
            // As Linux's `d_path` names an unlinked file.
            let deleted = if metadata.nlinks == 0 && metadata.type_ != FileType::Dir {
                " (deleted)"
            } else {
                ""
            };
            return Ok(format!("{path}{deleted}"));
        }
    }
    if file.as_any().is::<crate::fs::Inotify>() {
        // Linux names the anonymous inode of an instance by its kind.
        return Ok(String::from("anon_inode:inotify"));
    }
    let (major, minor) = device_numbers(metadata.rdev);
    Ok(match metadata.type_ {
        FileType::NamedPipe => format!("pipe:[{}]", metadata.inode),
        FileType::Socket => format!("socket:[{}]", metadata.inode),
        // A terminal or device inherited from the host, by the name devtmpfs gives it.
        FileType::CharDevice => match (major, minor) {
            (136..=143, _) => format!("/dev/pts/{}", (major - 136) * 256 + minor),
            (5, 0) => String::from("/dev/tty"),
            (5, 1) => String::from("/dev/console"),
            (5, 2) => String::from("/dev/ptmx"),
            (4, 64..=255) => format!("/dev/ttyS{}", minor - 64),
            (4, _) => format!("/dev/tty{minor}"),
            (1, 3) => String::from("/dev/null"),
            (1, 5) => String::from("/dev/zero"),
            (1, 7) => String::from("/dev/full"),
            (1, 8) => String::from("/dev/random"),
            (1, 9) => String::from("/dev/urandom"),
            _ => format!("/dev/char/{major}:{minor}"),
        },
        _ => format!("anon_inode:[{}]", metadata.inode),
    })
}

/// A `dev_t`'s major and minor numbers (Linux's `new_decode_dev`).
fn device_numbers(rdev: u64) -> (u64, u64) {
    (
        (rdev & 0xfff00) >> 8,
        (rdev & 0xff) | ((rdev >> 12) & 0xfff00),
    )
}

#[cfg(test)]
mod tests {
    use super::cpu_list;

    #[test]
    fn cpu_lists_are_ranges_and_singles() {
        assert_eq!(cpu_list(&[0, 1, 2, 3]), "0-3\n");
        assert_eq!(cpu_list(&[0, 2, 3, 4, 7]), "0,2-4,7\n");
        assert_eq!(cpu_list(&[5]), "5\n");
        assert_eq!(cpu_list(&[]), "\n");
    }
}
