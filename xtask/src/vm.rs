//! `cargo xtask vm [--kernel SERIES] [-- CMD...]`: a guest with rvisor loaded; runs CMD and exits
//! with its status, or gives an interactive shell.

use std::process::Command;

use crate::guest::{self, EXIT_MARK};
use crate::kernels;
use crate::util::{self, step};

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
    util::no_more(&args)?;
    let kernel = kernels::selected(Some(&series))?.remove(0);
    let object = crate::build::rust_object()?;
    let ko = crate::build::build_ko(&object, &kernel.release, &kernel.kdir)?;
    let userland = guest::build_userland()?;
    let load = "insmod /rvisor.ko || echo 'rvisor: insmod failed'";
    if command.is_empty() {
        let body = format!("{load}\necho 'rvisor guest: try `rvisor run -- /bin/sh`; exit to power off'\nsetsid cttyhack sh");
        let initrd = guest::initramfs("vm", &ko, &userland, &body, &[])?;
        step(&format!(
            "booting {} (interactive; Ctrl-A X quits qemu)",
            kernel.release
        ));
        let status = Command::new("qemu-system-x86_64")
            .args([
                "-accel",
                "tcg",
                "-cpu",
                "max",
                "-m",
                "1024",
                "-smp",
                "1",
                "-nographic",
                "-no-reboot",
            ])
            .args(["-nodefaults", "-serial", "mon:stdio"])
            .arg("-kernel")
            .arg(&kernel.vmlinuz)
            .arg("-initrd")
            .arg(&initrd)
            .args(["-append", "console=ttyS0 panic=-1 quiet loglevel=4"])
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
        &ko,
        &userland,
        &body,
        &[("cmd.sh".into(), format!("{script}\n"))],
    )?;
    step(&format!("booting {} under qemu", kernel.release));
    let boot = guest::boot(&kernel, &initrd, false, 600, true)?;
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
