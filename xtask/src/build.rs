//! `cargo xtask build-ko`: rvisor.ko from the Rust crates and the C shim.
//!
//! 1. The Rust crates build once as a staticlib for `x86_64-unknown-none`, hardened for the
//!    kernel (nightly `-Zbuild-std`, ENDBR on every function, return and indirect-branch thunks,
//!    SLS hardening, no jump tables): the same object serves every kernel. Panics abort at once
//!    (`ud2`, an Oops naming the faulting function): objtool can follow that, and a panic is a
//!    bug in any case.
//! 2. The staticlib becomes one relocatable object: LLVM bitcode sections removed,
//!    compiler-builtins' `mem*` renamed so the kernel's are used, `ld -r` from the entry points,
//!    and only relocation types the module loader knows are allowed.
//! 3. kbuild compiles the C shim against the kernel's headers and links both into rvisor.ko;
//!    any objtool or modpost warning fails the build.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::kernels;
use crate::util::{self, step};

/// The Rust functions the C shim calls: the roots of the link.
const ENTRY_SYMBOLS: &[&str] = &[
    "rvisor_rs_init",
    "rvisor_rs_exit",
    "rvisor_rs_dev_open",
    "rvisor_rs_dev_ioctl",
    "rvisor_rs_gate_decide",
    "rvisor_rs_gate_serve",
    "rvisor_rs_task_fork",
    "rvisor_rs_task_exit",
    "rvisor_rs_task_exec",
    "rvisor_rs_task_stop_report",
    "rvisor_rs_run_work",
    "rvisor_rs_file_watch_wake",
    "rvisor_rs_notify_event",
    "rvisor_rs_notify_gone",
    "rvisor_rs_notify_release",
    "rvisor_rs_anon_parker",
    "rvisor_rs_anon_read",
    "rvisor_rs_anon_write",
    "rvisor_rs_anon_poll",
    "rvisor_rs_anon_ioctl",
    "rvisor_rs_anon_release",
];

const RUSTFLAGS: &str = "-C relocation-model=static -C code-model=kernel -C relro-level=off \
    -C jump-tables=no -C target-feature=+harden-sls-ijmp,+harden-sls-ret -C force-unwind-tables=no \
    -Zunstable-options -C panic=immediate-abort \
    -Zcf-protection=branch -Zretpoline-external-thunk -Zfunction-return=thunk-extern";

const ALLOWED_RELOCATIONS: &[&str] = &[
    "R_X86_64_64",
    "R_X86_64_32",
    "R_X86_64_32S",
    "R_X86_64_PC32",
    "R_X86_64_PLT32",
    "R_X86_64_PC64",
];

pub fn run(args: &[String]) -> Result<u8, String> {
    let mut args = args.to_vec();
    let kdir = util::take_option(&mut args, "--kdir")?;
    util::no_more(&args)?;
    let object = rust_object()?;
    match kdir {
        Some(kdir) => {
            let kdir = PathBuf::from(kdir);
            let release = release_of(&kdir)?;
            let ko = build_ko(&object, &release, &kdir)?;
            println!("{}", ko.display());
        }
        None => {
            for k in kernels::selected(None)? {
                let ko = build_ko(&object, &k.release, &k.kdir)?;
                println!("{}", ko.display());
            }
        }
    }
    Ok(0)
}

/// The kernel release a header tree was made for.
fn release_of(kdir: &Path) -> Result<String, String> {
    if !kdir.join("Makefile").is_file() {
        return Err(format!(
            "{} is not a kernel header tree (no Makefile): install linux-headers-$(uname -r) or pass --kdir",
            kdir.display()
        ));
    }
    let file = kdir.join("include/config/kernel.release");
    fs::read_to_string(&file)
        .map(|s| s.trim().to_owned())
        .map_err(|e| {
            format!(
                "{}: {e} (an unconfigured tree? run `make modules_prepare` there)",
                file.display()
            )
        })
}

/// `stderr` of the kernel object's build without rustc's notice that the SLS hardening
/// features are unstable (one block per feature and crate, ending at a blank line): they are
/// what the build asks for on purpose, and no `-Z` flag spells them yet. Every other line is
/// kept.
fn without_sls_notice(stderr: &str) -> String {
    let mut kept = String::new();
    let mut skipping = false;
    for line in stderr.lines() {
        if line.starts_with(
            "warning: unknown and unstable feature specified for `-Ctarget-feature`: `harden-sls-",
        ) {
            skipping = true;
        } else if skipping && line.trim().is_empty() {
            skipping = false;
            continue;
        }
        if !skipping {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    kept
}

/// Builds the hardened Rust object once; returns its path.
pub fn rust_object() -> Result<PathBuf, String> {
    let root = util::root();
    let target_dir = root.join("target/ko-rust");
    step("Rust: kernel-loader for x86_64-unknown-none (nightly, hardened)");
    let built = Command::new("cargo")
        .current_dir(&root)
        .env("RUSTFLAGS", RUSTFLAGS)
        .env("CARGO_TARGET_DIR", &target_dir)
        .args([
            "+nightly",
            "build",
            "--quiet",
            "-p",
            "kernel-loader",
            "--profile",
            "kernel",
        ])
        .args(["--target", "x86_64-unknown-none", "-Zbuild-std=core,alloc"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    eprint!(
        "{}",
        without_sls_notice(&String::from_utf8_lossy(&built.stderr))
    );
    if !built.status.success() {
        return Err(format!(
            "cargo build of kernel-loader failed ({})\n(is the nightly toolchain with rust-src \
             installed? `cargo xtask setup`)",
            built.status
        ));
    }
    let staticlib = target_dir.join("x86_64-unknown-none/kernel/libkernel_loader.a");
    let out = root.join("target/ko/rust_part.o");
    link_object(&staticlib, &out)?;
    Ok(out)
}

fn link_object(staticlib: &Path, out: &Path) -> Result<(), String> {
    let work = out.with_extension("parts");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    util::run(
        Command::new("ar")
            .current_dir(&work)
            .arg("x")
            .arg(staticlib),
    )?;
    let mut members = Vec::new();
    for entry in fs::read_dir(&work).map_err(|e| e.to_string())?.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let mut objcopy = Command::new("objcopy");
        // modpost and binutils' LTO plugin choke on embedded LLVM bitcode.
        objcopy.args(["--remove-section=.llvmbc", "--remove-section=.llvmcmd"]);
        if name.starts_with("compiler_builtins") {
            // Keep its helpers (__udivti3...) but let mem*/strlen resolve to the kernel's.
            for sym in ["memcpy", "memmove", "memset", "memcmp", "bcmp", "strlen"] {
                objcopy.arg(format!("--redefine-sym={sym}=__rvisor_cb_{sym}"));
            }
        }
        util::run(objcopy.arg(&path))?;
        members.push(path);
    }
    let archive = work.join("all.a");
    util::run(Command::new("ar").arg("rcsD").arg(&archive).args(&members))?;
    let mut ld = Command::new("ld");
    // --gc-sections from the entry points drops what nothing calls (compiler-builtins' stack
    // probe, among others, which objtool would reject).
    ld.args(["-r", "-m", "elf_x86_64", "--gc-sections"]);
    for sym in ENTRY_SYMBOLS {
        ld.args(["-u", sym]);
    }
    util::run(ld.arg("-o").arg(out).arg(&archive))?;
    // The kernel unwinds with ORC data objtool generates; DWARF unwind tables only carry
    // references objtool rejects.
    util::run(
        Command::new("objcopy")
            .args(["--remove-section=.llvmbc", "--remove-section=.llvmcmd"])
            .args([
                "--remove-section=.eh_frame",
                "--remove-section=.rela.eh_frame",
            ])
            .arg(out),
    )?;
    let relocs = util::output(Command::new("readelf").arg("-rW").arg(out))?;
    let mut bad: Vec<&str> = relocs
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter(|t| t.starts_with("R_X86_64") && !ALLOWED_RELOCATIONS.contains(t))
        .collect();
    bad.sort();
    bad.dedup();
    if !bad.is_empty() {
        return Err(format!(
            "the Rust object has relocations the module loader rejects: {bad:?}"
        ));
    }
    let _ = fs::remove_dir_all(&work);
    Ok(())
}

/// Builds rvisor.ko for one kernel; returns its path.
pub fn build_ko(object: &Path, release: &str, kdir: &Path) -> Result<PathBuf, String> {
    let root = util::root();
    let dir = root.join("target/ko").join(release);
    step(&format!("kbuild: rvisor.ko for {release}"));
    fs::create_dir_all(dir.join("include/uapi/linux")).map_err(|e| e.to_string())?;
    let lkm = root.join("linux-kernel-module");
    copy_if_changed(&lkm.join("shim/rvisor_shim.c"), &dir.join("rvisor_shim.c"))?;
    copy_if_changed(&lkm.join("shim/rvisor_shim.h"), &dir.join("rvisor_shim.h"))?;
    copy_if_changed(&lkm.join("shim/rvisor_net.c"), &dir.join("rvisor_net.c"))?;
    copy_if_changed(&lkm.join("shim/rvisor_net.h"), &dir.join("rvisor_net.h"))?;
    copy_if_changed(
        &lkm.join("shim/rvisor_notify.c"),
        &dir.join("rvisor_notify.c"),
    )?;
    copy_if_changed(
        &lkm.join("shim/rvisor_notify.h"),
        &dir.join("rvisor_notify.h"),
    )?;
    copy_if_changed(
        &lkm.join("include/uapi/linux/rvisor.h"),
        &dir.join("include/uapi/linux/rvisor.h"),
    )?;
    copy_if_changed(object, &dir.join("rust_part.o_shipped"))?;
    write_if_changed(
        &dir.join("Kbuild"),
        "obj-m := rvisor.o\nrvisor-y := rvisor_shim.o rvisor_net.o rvisor_notify.o rust_part.o\nccflags-y := -I$(src)/include\n",
    )?;
    // modpost reads .<object>.cmd for every object; a shipped one needs an empty file.
    write_if_changed(&dir.join(".rust_part.o.cmd"), "")?;
    let log = util::output(
        Command::new("make")
            .arg("-C")
            .arg(kdir)
            .arg(format!("M={}", dir.display()))
            .args(["-j2", "modules"]),
    )?;
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.to_ascii_lowercase().contains("warning"))
        .collect();
    if !warnings.is_empty() {
        return Err(format!(
            "the {release} build printed warnings:\n{}",
            warnings.join("\n")
        ));
    }
    let ko = dir.join("rvisor.ko");
    if !ko.is_file() {
        return Err(format!(
            "kbuild finished but {} is missing:\n{log}",
            ko.display()
        ));
    }
    Ok(ko)
}

fn copy_if_changed(from: &Path, to: &Path) -> Result<(), String> {
    let data = fs::read(from).map_err(|e| format!("{}: {e}", from.display()))?;
    write_bytes_if_changed(to, &data)
}

fn write_if_changed(to: &Path, text: &str) -> Result<(), String> {
    write_bytes_if_changed(to, text.as_bytes())
}

/// Keeps timestamps of unchanged files, so kbuild rebuilds only what changed.
fn write_bytes_if_changed(to: &Path, data: &[u8]) -> Result<(), String> {
    if fs::read(to).ok().as_deref() == Some(data) {
        return Ok(());
    }
    fs::write(to, data).map_err(|e| format!("{}: {e}", to.display()))
}

#[cfg(test)]
mod tests {
    use super::without_sls_notice;

    #[test]
    fn only_the_sls_notices_are_dropped() {
        let stderr = "warning: unknown and unstable feature specified for `-Ctarget-feature`: `harden-sls-ijmp`\n  |\n  = note: it is still passed through\n\nwarning: unused variable: `x`\n --> src/lib.rs:1:5\n\nwarning: unknown and unstable feature specified for `-Ctarget-feature`: `harden-sls-ret`\n  = help: consider filing a feature request\n\nerror: aborting\n";
        assert_eq!(
            without_sls_notice(stderr),
            "warning: unused variable: `x`\n --> src/lib.rs:1:5\n\nerror: aborting\n"
        );
    }
}
