//! `cargo xtask setup`: everything building and testing need, installed once (idempotent).

use std::fs;
use std::process::Command;

use crate::kernels::{self, SERIES};
use crate::util::{self, step};

/// Debian packages: qemu for the guest, busybox for its userland, clang for bindgen, gcc and
/// kbuild tools for the module, static libc for guest programs, mmdebstrap and e2fsprogs for
/// the Debian container root, xz for the kernels' compressed modules.
const PACKAGES: &[&str] = &[
    "qemu-system-x86",
    "busybox-static",
    "cpio",
    "gzip",
    "clang",
    "libclang-dev",
    "gcc",
    "libc6-dev",
    "make",
    "bc",
    "kmod",
    "binutils",
    "mmdebstrap",
    "e2fsprogs",
    "xz-utils",
];

pub fn run(args: &[String]) -> Result<u8, String> {
    util::no_more(args)?;
    step("apt-get update");
    util::run(Command::new("apt-get").args(["update", "-q"]))?;
    let mut wanted: Vec<String> = PACKAGES.iter().map(|p| p.to_string()).collect();
    let mut releases = Vec::new();
    for series in &SERIES {
        let release = series.newest_available()?;
        wanted.push(format!("linux-headers-{release}"));
        releases.push(release);
    }
    let missing: Vec<&String> = wanted.iter().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        step("packages: all installed");
    } else {
        step(&format!("apt-get install {} packages", missing.len()));
        util::run(
            Command::new("apt-get")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args(["install", "-y", "-q", "--no-install-recommends"])
                .args(missing.iter().map(|s| s.as_str())),
        )?;
    }
    for release in &releases {
        unpack_kernel(release)?;
    }
    step("rustup: x86_64-unknown-none, nightly with rust-src");
    util::run(Command::new("rustup").args([
        "target",
        "add",
        "x86_64-unknown-none",
        "x86_64-unknown-linux-gnu",
    ]))?;
    util::run(Command::new("rustup").args([
        "toolchain",
        "install",
        "nightly",
        "--profile",
        "minimal",
    ]))?;
    util::run(Command::new("rustup").args([
        "component",
        "add",
        "rust-src",
        "--toolchain",
        "nightly",
    ]))?;
    for series in &SERIES {
        let k = kernels::find(series)?;
        step(&format!("kernel {}: {} ready", k.series, k.release));
    }
    Ok(0)
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

/// Downloads the kernel image package and unpacks it (installing would run boot hooks).
fn unpack_kernel(release: &str) -> Result<(), String> {
    let dest = util::cache_dir().join("kernels").join(release);
    if dest.join(format!("boot/vmlinuz-{release}")).is_file() {
        step(&format!("kernel {release}: already unpacked"));
        return Ok(());
    }
    step(&format!("kernel {release}: download and unpack the image"));
    let download = util::cache_dir().join("download");
    fs::create_dir_all(&download).map_err(|e| format!("{}: {e}", download.display()))?;
    let package = format!("linux-image-{release}-unsigned");
    util::run(
        Command::new("apt-get")
            .current_dir(&download)
            .args(["download", "-q", &package]),
    )?;
    let deb = fs::read_dir(&download)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{package}_")))
        })
        .ok_or_else(|| format!("apt-get download {package} left no .deb"))?;
    fs::create_dir_all(&dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    util::run(Command::new("dpkg").arg("-x").arg(&deb).arg(&dest))?;
    fs::remove_file(&deb).map_err(|e| e.to_string())?;
    Ok(())
}
