//! `cargo xtask bench`: instructions per syscall in one guest boot per kernel, under
//! `-icount shift=0,sleep=off` (one guest nanosecond = one guest instruction, so the counts
//! repeat exactly): natively before the module is loaded, natively with it loaded (the tax on
//! host tasks), and in a container. Writes `target/bench/latest.json`.

use std::fmt::Write as _;
use std::fs;

use crate::guest::{self, EXIT_MARK};
use crate::util::{self, step};

/// The runs, in guest order, and the label the guest program prints for each.
const RUNS: [&str; 3] = ["native", "host_tax", "contained"];

struct Row {
    name: String,
    kernel: String,
    values: [Option<f64>; 3],
}

pub fn run(args: &[String]) -> Result<u8, String> {
    let (selected, object, userland) = guest::prepare(args)?;
    let body = format!(
        "/tests/bench native\ninsmod /rvisor.ko\n/tests/bench host_tax\nrvisor run -- /tests/bench contained\necho \"{EXIT_MARK}$?@@\""
    );
    let mut rows: Vec<Row> = Vec::new();
    for kernel in &selected {
        let ko = crate::build::build_ko(&object, &kernel.release, &kernel.kdir)?;
        let initrd = guest::initramfs(
            &format!("bench-{}", kernel.series),
            &ko,
            &userland,
            &body,
            &[],
        )?;
        step(&format!("bench on {} (qemu -icount)", kernel.release));
        let boot = guest::boot(kernel, &initrd, true, 1200, false)?;
        if boot.exit != Some(0) || !boot.bad_log_lines().is_empty() {
            return Err(format!(
                "the bench guest on {} failed (exit {:?}):\n{}",
                kernel.release,
                boot.exit,
                boot.lines.join("\n")
            ));
        }
        for line in &boot.lines {
            // BENCH <run> <name> <instructions per call>, maybe after console noise.
            let Some(at) = line.find("BENCH ") else {
                continue;
            };
            let words: Vec<&str> = line[at..].split_whitespace().collect();
            let [_, run, name, value] = words.as_slice() else {
                continue;
            };
            let (Some(slot), Ok(value)) =
                (RUNS.iter().position(|r| r == run), value.parse::<f64>())
            else {
                continue;
            };
            let row = match rows
                .iter()
                .position(|r| r.name == *name && r.kernel == kernel.series)
            {
                Some(i) => &mut rows[i],
                None => {
                    rows.push(Row {
                        name: name.to_string(),
                        kernel: kernel.series.to_string(),
                        values: [None; 3],
                    });
                    rows.last_mut().ok_or("no row")?
                }
            };
            row.values[slot] = Some(value);
        }
    }
    let json = to_json(&rows);
    let dir = util::root().join("target/bench");
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join("latest.json");
    fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("{}", table(&rows));
    println!("written: {}", path.display());
    Ok(0)
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
                r.name,
                r.kernel,
                value(r.values[0]),
                value(r.values[1]),
                value(r.values[2])
            )
        })
        .collect();
    format!("[\n{}\n]\n", items.join(",\n"))
}

fn ratio(v: Option<f64>, native: Option<f64>) -> String {
    match (v, native) {
        (Some(v), Some(n)) if n > 0.0 => format!("{:.2}x", v / n),
        _ => "-".into(),
    }
}

fn table(rows: &[Row]) -> String {
    let mut s = format!(
        "{:<14} {:<6} {:>10} {:>10} {:>8} {:>10} {:>8}\n",
        "call", "kernel", "native", "host tax", "ratio", "contained", "ratio"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{:<14} {:<6} {:>10} {:>10} {:>8} {:>10} {:>8}",
            r.name,
            r.kernel,
            value(r.values[0]),
            value(r.values[1]),
            ratio(r.values[1], r.values[0]),
            value(r.values[2]),
            ratio(r.values[2], r.values[0])
        );
    }
    s
}
