//! `cargo xtask demo` and `cargo xtask test`: the two commands of the README.

use std::process::Command;

use crate::util::{self, step};

/// The crates that run in the kernel and are tested on the host: they must also build without
/// std for the kernel's target.
const NO_STD_CRATES: &[&str] = &[
    "kernel-hal-lkm",
    "kernel-async",
    "zircon-object",
    "kernel-hostfs",
    "linux-object",
    "rvisor-linux-syscall",
];

/// Sets up, then boots a guest and runs a shell in a container: its pid is 1, its child's 2.
pub fn demo(args: &[String]) -> Result<u8, String> {
    util::no_more(args)?;
    crate::setup::run(&[])?;
    // The guest's busybox rootfs: `/..` is `/` again, and only rVisor's pids are seen.
    let command = [
        "rvisor",
        "run",
        "--root",
        "/rootfs",
        "--hostname",
        "demo",
        "--",
        "/bin/sh",
        "-c",
        "ls /; ls /..; cat /etc/hostname; echo \"hello from $(hostname): my pid is $$\"; sh -c 'echo \"my child is pid $$\"'; true",
    ];
    step(&format!("running in a container: {}", command.join(" ")));
    let args: Vec<String> = ["--kernel", "6.12", "--"]
        .iter()
        .chain(command.iter())
        .map(|s| s.to_string())
        .collect();
    crate::vm::run(&args)
}

/// Sets up, then runs every test: host crates, the no_std builds, the in-VM suite on every
/// supported kernel.
pub fn test(args: &[String]) -> Result<u8, String> {
    util::no_more(args)?;
    crate::setup::run(&[])?;
    let root = util::root();
    step("cargo test --workspace");
    util::run(
        Command::new("cargo")
            .current_dir(&root)
            .args(["test", "--workspace"]),
    )?;
    step("kernel crates without std (x86_64-unknown-none)");
    let mut build = Command::new("cargo");
    build
        .current_dir(&root)
        .args(["build", "--target", "x86_64-unknown-none"]);
    for krate in NO_STD_CRATES {
        build.args(["-p", krate]);
    }
    util::run(&mut build)?;
    crate::syscalls_doc::run(&["--check".to_string()])?;
    step("in-VM suite on every supported kernel");
    crate::testko::run(&[])
}
