//! `cargo xtask bench`: guest instructions per operation in one guest boot per kernel, under
//! `-icount shift=0,sleep=off` (one guest nanosecond = one guest instruction, so the counts
//! repeat exactly): natively before the module is loaded, natively with it loaded (the tax on
//! host tasks), and in a container. Each measurement is its own run of `tests/guest/bench.c`,
//! so one that fails (an error, a wrong result, a crash, a hang ended by its alarm) leaves a
//! `null` with the reason printed, and the others still count. Writes
//! `target/bench/latest.json` and prints a Markdown table with the ratios to native and the
//! contained/native ratio aimed for (a target, not a check).

use std::fmt::Write as _;
use std::fs;

use crate::guest::{self, DMESG_BEGIN, DMESG_END, EXIT_MARK};
use crate::util::{self, step};

/// The runs, in guest order, and the label the guest program prints for each.
const RUNS: [&str; 3] = ["native", "host_tax", "contained"];

/// The root a measurement runs in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Root {
    /// The guest's own `/` (natively) and a container rooted there.
    Guest,
    /// The Debian root at `/debian` and a container rooted there; natively chrooted into it
    /// in a new pid namespace with its own `/proc` there, as a container has.
    Debian,
    /// The guest's own `/` with a tmpfs on `/bench-tmpfs`: natively the guest's mount,
    /// contained a tmpfs the container gets with `--tmpfs`.
    GuestTmpfs,
}

/// One measurement of `tests/guest/bench.c`.
struct Call {
    /// Its name there and in the JSON.
    name: &'static str,
    /// What one operation is, for the table.
    what: &'static str,
    /// The contained/native ratio aimed for.
    target: Option<f64>,
    /// Where it runs.
    root: Root,
}

/// The measurements, in table order.
const CALLS: &[Call] = &[
    Call {
        name: "getpid",
        what: "getpid",
        target: Some(1.3),
        root: Root::Guest,
    },
    Call {
        name: "openat_close",
        what: "openat+close",
        target: Some(1.5),
        root: Root::Guest,
    },
    Call {
        name: "read_4k",
        what: "pread64 4 KiB",
        target: Some(1.5),
        root: Root::Guest,
    },
    Call {
        name: "write_4k",
        what: "pwrite64 4 KiB",
        target: Some(1.5),
        root: Root::Guest,
    },
    Call {
        name: "fstat",
        what: "fstat",
        target: Some(1.5),
        root: Root::Guest,
    },
    Call {
        name: "stat",
        what: "stat (newfstatat)",
        target: Some(1.5),
        root: Root::Guest,
    },
    Call {
        name: "getdents64_100",
        what: "open+getdents64+close, 100 entries",
        target: Some(1.5),
        root: Root::Guest,
    },
    Call {
        name: "pipe_roundtrip",
        what: "pipe round trip (2 processes)",
        target: Some(1.5),
        root: Root::Guest,
    },
    Call {
        name: "unix_roundtrip",
        what: "unix stream round trip (2 processes)",
        target: Some(1.3),
        root: Root::Guest,
    },
    Call {
        name: "tcp_roundtrip",
        what: "TCP loopback round trip (2 processes, 1 byte)",
        target: Some(1.2),
        root: Root::Guest,
    },
    Call {
        name: "tcp_bulk_64k",
        what: "TCP loopback bulk, per 64 KiB written (2 processes)",
        target: Some(1.1),
        root: Root::Guest,
    },
    Call {
        name: "fork_wait",
        what: "fork+_exit+wait4",
        target: None,
        root: Root::Guest,
    },
    Call {
        name: "fork_execve_wait",
        what: "fork+execve+wait4 (static)",
        target: Some(2.0),
        root: Root::Guest,
    },
    Call {
        name: "thread_create_join",
        what: "pthread_create+join",
        target: None,
        root: Root::Guest,
    },
    Call {
        name: "python_start",
        what: "fork+execve+wait4 of `python3 -c pass` (Debian)",
        target: Some(1.3),
        root: Root::Debian,
    },
    Call {
        name: "epoll_wait_ready",
        what: "epoll_wait on a ready eventfd",
        target: Some(1.3),
        root: Root::Guest,
    },
    Call {
        name: "proc_self_stat",
        what: "open+read+close `/proc/self/stat` (rVisor's procfs vs the host's)",
        target: Some(2.0),
        root: Root::Guest,
    },
    Call {
        name: "tmpfs_write_4k",
        what: "pwrite64 4 KiB to a tmpfs file",
        target: Some(1.2),
        root: Root::GuestTmpfs,
    },
    Call {
        name: "ps_e_100",
        what: "Debian's `ps -e` among 100 sleeping processes (fork+execve+wait4)",
        target: Some(2.0),
        root: Root::Debian,
    },
    Call {
        name: "proc_pid_files",
        what: "open+read+close of another process's `/proc/PID/{stat,status,cmdline,environ}` (all four)",
        target: Some(2.0),
        root: Root::Guest,
    },
    Call {
        name: "redis_set_get",
        what: "one request of `redis-benchmark -t set,get` to `redis-server` (Debian, loopback)",
        target: Some(1.25),
        root: Root::Debian,
    },
];

/// Seconds (host) qemu may take for one kernel's whole bench.
const TIMEOUT_S: u32 = 3000;

struct Row {
    call: &'static Call,
    kernel: String,
    values: [Option<f64>; 3],
    /// Why a value is missing, per run.
    why: [Vec<String>; 3],
}

pub fn run(args: &[String]) -> Result<u8, String> {
    let mut args = args.to_vec();
    // `--only TEXT`: the measurements whose name contains TEXT (for working on one).
    let mut filters = Vec::new();
    while let Some(filter) = util::take_option(&mut args, "--only")? {
        filters.push(filter);
    }
    let calls: Vec<&Call> = CALLS
        .iter()
        .filter(|c| filters.is_empty() || filters.iter().any(|f| c.name.contains(f.as_str())))
        .collect();
    if calls.is_empty() {
        return Err(format!("no measurement name contains any of {filters:?}"));
    }
    let (selected, object, userland) = guest::prepare(&args)?;
    let names: Vec<&str> = calls.iter().map(|c| c.name).collect();
    let names_in = |root: Root| {
        calls
            .iter()
            .filter(|c| c.root == root)
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join(" ")
    };
    // The Debian root's measurements run the program from inside it.
    let debian = crate::debian::GUEST_PATH;
    let in_debian = format!("{debian}/rvisor-tests/bench");
    let each = |run: &str, contained: bool| {
        let [guest, debian_command, tmpfs] = if contained {
            [
                "rvisor run --root / -- /tests/bench".to_string(),
                format!("rvisor run --root {debian} -- /rvisor-tests/bench"),
                "rvisor run --root / --tmpfs /bench-tmpfs -- /tests/bench".to_string(),
            ]
        } else {
            [
                "/tests/bench".to_string(),
                // (busybox's `--mount-proc` would first make the mount point a private
                // mount, which it is not.)
                format!(
                    "unshare -p -f -m sh -c 'mount -t proc proc {debian}/proc && \
                     exec chroot {debian} /rvisor-tests/bench \"$@\"' sh"
                ),
                "/tests/bench".to_string(),
            ]
        };
        [
            (Root::Guest, guest),
            (Root::Debian, debian_command),
            (Root::GuestTmpfs, tmpfs),
        ]
            .iter()
            .filter(|(root, _)| !names_in(*root).is_empty())
            .map(|(root, command)| {
                format!(
                    "for m in {}; do {command} {run} $m 2>/tmp/bench-err || \
                     {{ s=$?; echo \"BENCH-FAIL {run} $m exit $s $(tr '\\n' ' ' </tmp/bench-err)\"; }}; done\n",
                    names_in(*root)
                )
            })
            .collect::<String>()
    };
    // For its first guest seconds 6.12 keeps the single CPU busy with some work of its own:
    // measured then, getpid..fstat read twice their cost, as if sharing it half and half. Idle
    // 5 guest seconds first (free in host time with sleep=off); -icount makes it repeat exactly.
    let body = format!(
        "cp /tests/bench {in_debian}\nmkdir -p /bench-tmpfs && mount -t tmpfs tmpfs /bench-tmpfs\n\
         sleep 5\n{}if insmod /rvisor.ko; then\n{}{}else for m in {}; do \
         echo \"BENCH-FAIL host_tax $m insmod failed\"; echo \"BENCH-FAIL contained $m insmod failed\"; \
         done; fi\necho \"{EXIT_MARK}0@@\"",
        each("native", false),
        each("host_tax", false),
        each("contained", true),
        names.join(" "),
    );
    let disk = crate::debian::image()?;
    let dir = util::root().join("target/bench");
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut rows: Vec<Row> = Vec::new();
    let mut troubles = String::new();
    for kernel in &selected {
        let ko = crate::build::build_ko(&object, &kernel.release, &kernel.kdir)?;
        let initrd = guest::initramfs(
            &format!("bench-{}", kernel.series),
            kernel,
            &ko,
            &userland,
            &body,
            &[],
        )?;
        step(&format!("bench on {} (qemu -icount)", kernel.release));
        let machine = guest::Machine {
            cpus: 1,
            icount: true,
            disk: Some(&disk),
        };
        let boot = guest::boot(kernel, &initrd, &machine, TIMEOUT_S, false)?;
        let log = dir.join(format!("guest-{}.log", kernel.series));
        fs::write(&log, boot.lines.join("\n") + "\n")
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let first = rows.len();
        rows.extend(calls.iter().map(|&call| Row {
            call,
            kernel: kernel.series.to_string(),
            values: [None; 3],
            why: Default::default(),
        }));
        let rows = &mut rows[first..];
        for line in &boot.lines {
            parse(line, rows);
        }
        let finished = boot.exit == Some(0);
        if !finished {
            let _ = writeln!(
                troubles,
                "the guest on {} did not finish (exit {:?}, qemu status {:?}); console: {}",
                kernel.release,
                boot.exit,
                boot.qemu_status,
                log.display()
            );
        }
        let bad = boot.bad_log_lines();
        if !bad.is_empty() {
            let _ = writeln!(
                troubles,
                "kernel bug lines in the guest on {} (console: {}):\n  {}",
                kernel.release,
                log.display(),
                bad.join("\n  ")
            );
        }
        let mut failed = false;
        for row in rows.iter_mut() {
            for slot in 0..RUNS.len() {
                if row.values[slot].is_none() {
                    failed = true;
                    if row.why[slot].is_empty() {
                        row.why[slot].push("not reached: the guest stopped before it".into());
                    }
                }
            }
        }
        if failed {
            let module_lines = module_log(&boot.lines);
            if !module_lines.is_empty() {
                let _ = writeln!(
                    troubles,
                    "rvisor log lines on {} (last {}):\n  {}",
                    kernel.release,
                    module_lines.len(),
                    module_lines.join("\n  ")
                );
            }
        }
    }
    let path = dir.join("latest.json");
    fs::write(&path, to_json(&rows)).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("{}", table(&rows));
    let nulls = nulls(&rows);
    if !nulls.is_empty() {
        println!("null cells:\n{nulls}");
    }
    if !troubles.is_empty() {
        println!("{troubles}");
    }
    println!("written: {}", path.display());
    // Null cells are figures to report, not a failed run; a guest that died or logged a
    // kernel bug is.
    Ok(
        if troubles.contains("did not finish") || troubles.contains("kernel bug") {
            1
        } else {
            0
        },
    )
}

/// Takes one console line: `BENCH <run> <name> <instructions per operation>` or
/// `BENCH-FAIL <run> <name> <why...>`, maybe after console noise.
fn parse(line: &str, rows: &mut [Row]) {
    let (at, fail) = match (line.find("BENCH-FAIL "), line.find("BENCH ")) {
        (Some(at), _) => (at, true),
        (None, Some(at)) => (at, false),
        _ => return,
    };
    let mut words = line[at..].splitn(4, ' ');
    let (_, Some(run), Some(name), Some(rest)) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return;
    };
    let (Some(slot), Some(row)) = (
        RUNS.iter().position(|r| *r == run),
        rows.iter_mut().find(|r| r.call.name == name),
    ) else {
        return;
    };
    if !fail {
        if let Ok(value) = rest.trim().parse::<f64>() {
            row.values[slot] = Some(value);
        }
        return;
    }
    let rest = rest.trim();
    // The shell's line after the program's own: `exit N [its stderr]`.
    let Some((status, stderr)) = rest
        .strip_prefix("exit ")
        .map(|s| s.split_once(' ').unwrap_or((s, "")))
    else {
        row.why[slot].push(rest.to_string());
        return;
    };
    let stderr = stderr.trim();
    let mut why = match status.parse::<u32>() {
        Ok(142) => "killed by SIGALRM: timed out".to_string(),
        Ok(n) if n > 128 => format!("killed by signal {}", n - 128),
        Ok(_) if !row.why[slot].is_empty() && stderr.is_empty() => return,
        _ => format!("exit {status}"),
    };
    if !stderr.is_empty() {
        let _ = write!(why, " (stderr: {stderr})");
    }
    row.why[slot].push(why);
}

/// The module's lines (`rvisor: ...`) of the guest's kernel log, at most the last 30.
fn module_log(lines: &[String]) -> Vec<&str> {
    let begin = lines.iter().rposition(|l| l.contains(DMESG_BEGIN));
    let end = lines.iter().rposition(|l| l.contains(DMESG_END));
    let dmesg = match (begin, end) {
        (Some(b), Some(e)) if b < e => &lines[b + 1..e],
        _ => lines,
    };
    let all: Vec<&str> = dmesg
        .iter()
        .map(String::as_str)
        .filter(|l| l.contains("rvisor: "))
        .collect();
    all[all.len().saturating_sub(30)..].to_vec()
}

fn value(v: Option<f64>) -> String {
    v.map_or("null".into(), |v| format!("{v:.1}"))
}

fn to_json(rows: &[Row]) -> String {
    let items: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "  {{\"name\": \"{}\", \"kernel\": \"{}\", \"native\": {}, \"host_tax\": {}, \"contained\": {}, \"unit\": \"instructions\"}}",
                r.call.name,
                r.kernel,
                value(r.values[0]),
                value(r.values[1]),
                value(r.values[2])
            )
        })
        .collect();
    format!("[\n{}\n]\n", items.join(",\n"))
}

/// Instructions for the table: tenths below 1000, whole numbers above.
fn figure(v: Option<f64>) -> String {
    match v {
        None => "null".into(),
        Some(v) if v < 1000.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.0}"),
    }
}

fn ratio(v: Option<f64>, native: Option<f64>) -> String {
    match (v, native) {
        (Some(v), Some(n)) if n > 0.0 => format!("{:.2}×", v / n),
        _ => "-".into(),
    }
}

fn table(rows: &[Row]) -> String {
    let mut s = String::from(
        "| call | kernel | native | module loaded, task outside (host tax) | ratio | contained | ratio | target |\n\
         |---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.call.what,
            r.kernel,
            figure(r.values[0]),
            figure(r.values[1]),
            ratio(r.values[1], r.values[0]),
            figure(r.values[2]),
            ratio(r.values[2], r.values[0]),
            r.call
                .target
                .map_or("-".into(), |t| format!("≤ {}×", target_figure(t)))
        );
    }
    s
}

/// A target as written: `1.3`, `1.25`, `2.0`.
fn target_figure(t: f64) -> String {
    if (t * 10.0).fract().abs() < 1e-9 {
        format!("{t:.1}")
    } else {
        format!("{t:.2}")
    }
}

/// One line per null cell, with why.
fn nulls(rows: &[Row]) -> String {
    let mut s = String::new();
    for r in rows {
        for (slot, run) in RUNS.iter().enumerate() {
            if r.values[slot].is_none() {
                let _ = writeln!(
                    s,
                    "- {} {} {}: {}",
                    r.kernel,
                    r.call.name,
                    run,
                    r.why[slot].join("; ")
                );
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Row> {
        CALLS
            .iter()
            .map(|call| Row {
                call,
                kernel: "6.1".into(),
                values: [None; 3],
                why: Default::default(),
            })
            .collect()
    }

    #[test]
    fn values_and_failures() {
        let mut rows = rows();
        for line in [
            "noise BENCH native getpid 321.9",
            "BENCH contained getpid 466.5",
            "BENCH-FAIL contained stat newfstatat returned -1, errno 2 (ENOENT)",
            "BENCH-FAIL contained stat exit 1 ",
            "BENCH-FAIL contained fork_wait exit 142 ",
            "BENCH-FAIL contained fork_execve_wait exit 125 rvisor: no module ",
            "BENCH-FAIL host_tax pipe_roundtrip insmod failed",
            "BENCH unknown getpid 1.0",
            "BENCH native nothing 1.0",
        ] {
            parse(line, &mut rows);
        }
        // By name: rows are added between them over time.
        let row = |name: &str| {
            rows.iter()
                .find(|row| row.call.name == name)
                .unwrap_or_else(|| panic!("no row {name}"))
        };
        assert_eq!(row("getpid").values, [Some(321.9), None, Some(466.5)]);
        assert_eq!(
            row("stat").why[2],
            ["newfstatat returned -1, errno 2 (ENOENT)"]
        );
        assert_eq!(row("fork_wait").why[2], ["killed by SIGALRM: timed out"]);
        assert_eq!(
            row("fork_execve_wait").why[2],
            ["exit 125 (stderr: rvisor: no module)"]
        );
        assert_eq!(row("pipe_roundtrip").why[1], ["insmod failed"]);
        let json = to_json(&rows);
        assert!(json.contains(
            "{\"name\": \"getpid\", \"kernel\": \"6.1\", \"native\": 321.9, \"host_tax\": null, \"contained\": 466.5, \"unit\": \"instructions\"}"
        ));
        let table = table(&rows);
        assert!(table.contains("| getpid | 6.1 | 321.9 | null | - | 466.5 | 1.45× | ≤ 1.3× |"));
    }
}
