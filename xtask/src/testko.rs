//! `cargo xtask test-ko [--kernel SERIES] [--smp N] [--case TEXT]...`: the in-VM suite
//! (`tests` crate) on every supported kernel, or on one; with `--case`, only the cases whose
//! name contains one of the TEXTs (the module is then loaded first if `load-unload-3x` is not
//! among them). The 6.12 guest has 4 virtual CPUs and the 6.1 guest one, so the suite proves
//! both a multi-core and a single-core machine; `--smp N` gives every guest N. Every guest has
//! the Debian root at `/debian`.

use crate::guest::{self, EXIT_MARK};
use crate::util::{self, step};

/// Per-case limit inside the guest, and for the whole boot. The heaviest case (the script
/// suite natively and in two containers at once) takes under 10 s on an idle machine; TCG
/// slows with the machine's load, which must not turn into a failure.
const CASE_TIMEOUT_S: u32 = 150;
const BOOT_TIMEOUT_S: u32 = 900;

pub fn run(args: &[String]) -> Result<u8, String> {
    let mut args = args.to_vec();
    let mut filters = Vec::new();
    while let Some(filter) = util::take_option(&mut args, "--case")? {
        filters.push(filter);
    }
    let smp = util::take_option(&mut args, "--smp")?
        .map(|n| {
            n.parse::<u32>()
                .ok()
                .filter(|n| (1..=64).contains(n))
                .ok_or(format!("--smp takes a CPU count from 1 to 64, not `{n}`"))
        })
        .transpose()?;
    let (selected, object, userland) = guest::prepare(&args)?;
    let disk = crate::debian::image()?;
    let mut cases = tests::cases();
    let loads_module = cases.first().map(|c| c.name);
    if !filters.is_empty() {
        cases.retain(|c| filters.iter().any(|f| c.name.contains(f.as_str())));
        if cases.is_empty() {
            return Err(format!("no case name contains any of {filters:?}"));
        }
    }
    let load = if cases.first().map(|c| c.name) == loads_module {
        ""
    } else {
        "insmod /rvisor.ko\n"
    };
    let mut files: Vec<(String, String)> = cases
        .iter()
        .map(|c| {
            (
                format!("tests/cases/{}.sh", c.name),
                format!("{}\n", c.script),
            )
        })
        .collect();
    files.push((
        "tests/suite.sh".into(),
        tests::runner_script(&cases, CASE_TIMEOUT_S),
    ));
    files.push(("tests/lib.sh".into(), tests::GUEST_LIB.into()));
    let body = format!("{load}sh /tests/suite.sh\necho \"{EXIT_MARK}0@@\"");
    let (mut passed, mut failed) = (0usize, 0usize);
    for kernel in &selected {
        let ko = crate::build::build_ko(&object, &kernel.release, &kernel.kdir)?;
        let initrd = guest::initramfs(
            &format!("test-{}", kernel.series),
            kernel,
            &ko,
            &userland,
            &body,
            &files,
        )?;
        let machine = guest::Machine {
            cpus: smp.unwrap_or(if kernel.series == "6.12" { 4 } else { 1 }),
            icount: false,
            disk: Some(&disk),
        };
        step(&format!(
            "test-ko on {} with {} CPU(s): {} cases",
            kernel.release,
            machine.cpus,
            cases.len()
        ));
        let mut boot = guest::boot(kernel, &initrd, &machine, BOOT_TIMEOUT_S, false)?;
        if boot.crashed_without_rvisor() {
            // Once only: a second crash is reported as any other.
            println!(
                "note: the {} guest kernel crashed before rvisor.ko was loaded (an emulator \
                 fault, not rVisor's); booting it again",
                kernel.series
            );
            boot = guest::boot(kernel, &initrd, &machine, BOOT_TIMEOUT_S, false)?;
        }
        let outcomes = tests::parse_outcomes(&boot.lines);
        for case in &cases {
            let label = format!("[{}] {}", kernel.series, case.name);
            match outcomes.iter().find(|(name, _)| name == case.name) {
                None => {
                    failed += 1;
                    println!("FAIL {label}: did not finish");
                }
                Some((_, outcome)) => match (case.check)(outcome) {
                    Ok(()) => {
                        passed += 1;
                        println!("ok   {label}");
                    }
                    Err(why) => {
                        failed += 1;
                        println!("FAIL {label}: {}", why.replace('\n', "\n     "));
                    }
                },
            }
        }
        let bad = boot.bad_log_lines();
        let label = format!("[{}] guest log free of kernel bugs", kernel.series);
        if bad.is_empty() && boot.exit == Some(0) {
            passed += 1;
            println!("ok   {label}");
        } else {
            failed += 1;
            println!(
                "FAIL {label}: qemu status {:?}, guest exit {:?}",
                boot.qemu_status, boot.exit
            );
            for line in bad {
                println!("     {line}");
            }
            let tail: Vec<&String> = boot.lines.iter().rev().take(40).collect();
            for line in tail.into_iter().rev() {
                println!("     | {line}");
            }
        }
    }
    println!("test-ko: {passed} passed, {failed} failed");
    Ok(if failed == 0 { 0 } else { 1 })
}
