//! `cargo xtask vm [--kernel SERIES] [--smp N] [--root debian] [-- CMD...]`: a guest with rvisor
//! loaded; runs CMD and exits with its status, or gives an interactive shell. With
//! `--root debian` the guest also has the Debian root at `/debian` (built and cached the first
//! time), for `rvisor run --root /debian -- python3 ...`.

use std::process::Command;

use crate::guest::{self, EXIT_MARK};
use crate::kernels;
use crate::util::{self, step};

/// Virtual CPUs unless `--smp` says otherwise.
const DEFAULT_CPUS: u32 = 2;

pub fn run(args: &[String]) -> Result<u8, String> {
    let mut args = args.to_vec();
    let command = match args.iter().position(|a| a == "--") {
        Some(i) => {
            let cmd = args.split_off(i + 1);
            args.pop();
            cmd
        }
        None => Vec::new(),
    };
    let series = util::take_option(&mut args, "--kernel")?.unwrap_or_else(|| "6.12".into());
    let cpus = match util::take_option(&mut args, "--smp")? {
        None => DEFAULT_CPUS,
        Some(n) => n
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=64).contains(n))
            .ok_or(format!("--smp takes a CPU count from 1 to 64, not `{n}`"))?,
    };
    let disk = match util::take_option(&mut args, "--root")?.as_deref() {
        None => None,
        Some("debian") => Some(crate::debian::image()?),
        Some(other) => {
            return Err(format!(
                "--root takes `debian` (the Debian root, mounted at {}), not `{other}`",
                crate::debian::GUEST_PATH
            ))
        }
    };
    util::no_more(&args)?;
    let kernel = kernels::selected(Some(&series))?.remove(0);
    let object = crate::build::rust_object()?;
    let ko = crate::build::build_ko(&object, &kernel.release, &kernel.kdir)?;
    let userland = guest::build_userland()?;
    let machine = guest::Machine {
        cpus,
        icount: false,
        disk: disk.as_deref(),
    };
    let load = "insmod /rvisor.ko || echo 'rvisor: insmod failed'";
    if command.is_empty() {
        let body = format!("{load}\necho 'rvisor guest: try `rvisor run -- /bin/sh`; exit to power off'\nsetsid cttyhack sh");
        let initrd = guest::initramfs("vm", &kernel, &ko, &userland, &body, &[])?;
        step(&format!(
            "booting {} with {cpus} CPU(s) (interactive; Ctrl-A X quits qemu)",
            kernel.release
        ));
        let status = Command::new("qemu-system-x86_64")
            .args(["-serial", "mon:stdio"])
            .args(guest::qemu_args(
                &kernel,
                &initrd,
                &machine,
                "console=ttyS0 panic=-1 quiet loglevel=4",
            ))
            .status()
            .map_err(|e| format!("cannot start qemu: {e}"))?;
        return Ok(if status.success() { 0 } else { 1 });
    }
    let script = command
        .iter()
        .map(|a| util::shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ");
    let body = format!("{load}\nsh /cmd.sh\necho \"{EXIT_MARK}$?@@\"");
    let initrd = guest::initramfs(
        "vm",
        &kernel,
        &ko,
        &userland,
        &body,
        &[("cmd.sh".into(), format!("{script}\n"))],
    )?;
    step(&format!(
        "booting {} with {cpus} CPU(s) under qemu",
        kernel.release
    ));
    let boot = guest::boot(&kernel, &initrd, &machine, 600, true)?;
    let bad = boot.bad_log_lines();
    if !bad.is_empty() {
        eprintln!(
            "xtask: the guest kernel log shows a bug:\n{}",
            bad.join("\n")
        );
        return Ok(1);
    }
    match boot.exit {
        Some(code) => Ok(u8::try_from(code).unwrap_or(1)),
        None => Err(format!(
            "the guest did not finish the command (qemu status {:?})",
            boot.qemu_status
        )),
    }
}
