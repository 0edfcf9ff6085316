//! `cargo xtask load`: insmod rvisor.ko on this (real) machine and check `/dev/rvisor`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{self, step};

pub fn run(args: &[String]) -> Result<u8, String> {
    let mut args = args.to_vec();
    let ko = util::take_option(&mut args, "--ko")?;
    util::no_more(&args)?;
    let release = util::output(Command::new("uname").arg("-r"))?
        .trim()
        .to_owned();
    let ko = match ko {
        Some(path) => PathBuf::from(path),
        None => {
            let kdir = PathBuf::from(format!("/lib/modules/{release}/build"));
            let object = crate::build::rust_object()?;
            crate::build::build_ko(&object, &release, &kdir).map_err(|e| {
                format!("{e}\n(no header tree for the running kernel? `apt-get install linux-headers-{release}`)")
            })?
        }
    };
    if Path::new("/dev/rvisor").exists() {
        return Err(
            "/dev/rvisor exists already: rvisor is loaded (`rmmod rvisor` first to reload)".into(),
        );
    }
    step(&format!("insmod {}", ko.display()));
    let out = Command::new("insmod")
        .arg(&ko)
        .output()
        .map_err(|e| format!("cannot run insmod: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let lockdown = std::fs::read_to_string("/sys/kernel/security/lockdown").unwrap_or_default();
        let hint = if err.contains("Key was rejected")
            || err.contains("Required key not available")
            || lockdown.contains("[integrity]")
            || lockdown.contains("[confidentiality]")
        {
            "\nThe kernel refuses unsigned modules (Secure Boot lockdown). Sign rvisor.ko with a key \
             enrolled in MOK: `kmodsign sha512 MOK.priv MOK.der rvisor.ko` (or the kernel's \
             scripts/sign-file), enrol it with `mokutil --import MOK.der` and reboot; see README.md."
        } else if err.contains("Operation not permitted") {
            "\ninsmod needs root (CAP_SYS_MODULE)."
        } else if err.contains("Invalid module format") {
            "\nThe module was built for another kernel: rebuild with `cargo xtask build-ko --kdir /lib/modules/$(uname -r)/build`."
        } else {
            "\nSee `dmesg | grep rvisor` for the kernel's reason."
        };
        return Err(format!(
            "insmod {} failed: {}{hint}",
            ko.display(),
            err.trim()
        ));
    }
    if !Path::new("/dev/rvisor").exists() {
        return Err(
            "insmod succeeded but /dev/rvisor did not appear: is udev/devtmpfs running?".into(),
        );
    }
    step("rvisor loaded: /dev/rvisor ready");
    Ok(0)
}
