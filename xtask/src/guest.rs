//! The guest: a busybox initramfs holding rvisor.ko, the static `rvisor` CLI, the static guest
//! test programs and a container root at `/rootfs`, booted under qemu.
//!
//! `/rootfs` is what the in-VM cases run both natively (`chroot /rootfs ...`) and contained
//! (`rvisor run --root /rootfs ...`): busybox with its applet links, the files of
//! `tests/rootfs/` (`/etc/hostname`, `/etc/passwd`, `/etc/group`, the test data under `/data`),
//! empty `/tmp` (1777), `/root` (700) and `/proc` (nothing is mounted there), `/dev` with
//! nothing but `null` (made by `/init`: busybox sh opens it as the stdin of every `&` job), the script
//! suite `tests/suite/*.sh` at `/suite`, the static test programs at `/tests`, and Debian's
//! dynamically linked `/bin/dash` with exactly the shared objects and loader `ldd` lists for it,
//! each at the path `ldd` names.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::kernels::Kernel;
use crate::util::{self, step};

/// Marks the end of the guest's command, with its status.
pub const EXIT_MARK: &str = "@@RVISOR-EXIT ";
/// Brackets the guest kernel log printed before power-off.
pub const DMESG_BEGIN: &str = "@@RVISOR-DMESG-BEGIN@@";
pub const DMESG_END: &str = "@@RVISOR-DMESG-END@@";

/// The kernel's last console line, which is not the guest command's output.
const POWER_DOWN: &str = "reboot: Power down";

/// Guest log lines that fail any run.
pub const BAD_LOG: &[&str] = &[
    "BUG:",
    "WARNING:",
    "Oops",
    "general protection",
    "KASAN",
    "refcount_t",
    "Call Trace",
];

/// Guest programs and the CLI, built once per xtask run.
pub struct Userland {
    pub rvisor: PathBuf,
    pub programs: Vec<PathBuf>,
    /// `/bin/dash` and the shared objects (loader included) `ldd` lists for it.
    pub dash: Vec<PathBuf>,
}

/// What every suite boot needs, from `[--kernel SERIES]`: the kernels, the Rust object of
/// rvisor.ko (built once for all of them) and the guest userland.
pub fn prepare(args: &[String]) -> Result<(Vec<Kernel>, PathBuf, Userland), String> {
    let mut args = args.to_vec();
    let series = util::take_option(&mut args, "--kernel")?;
    util::no_more(&args)?;
    let selected = crate::kernels::selected(series.as_deref())?;
    let object = crate::build::rust_object()?;
    Ok((selected, object, build_userland()?))
}

/// Builds the static CLI and the static C guest programs.
pub fn build_userland() -> Result<Userland, String> {
    let root = util::root();
    step("static rvisor CLI");
    let target_dir = root.join("target/guest-rust");
    util::run(
        Command::new("cargo")
            .current_dir(&root)
            .env("RUSTFLAGS", "-C target-feature=+crt-static")
            .env("CARGO_TARGET_DIR", &target_dir)
            .args([
                "build",
                "--quiet",
                "--release",
                "-p",
                "rvisor",
                "--target",
                "x86_64-unknown-linux-gnu",
            ]),
    )?;
    let rvisor = target_dir.join("x86_64-unknown-linux-gnu/release/rvisor");
    step("static guest programs");
    let out = root.join("target/guest/bin");
    fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let mut programs = Vec::new();
    for source in tests::guest_programs(&root.join("tests")) {
        let name = source
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let binary = out.join(&name);
        let fresh = fs::metadata(&binary)
            .and_then(|b| Ok(b.modified()? >= fs::metadata(&source)?.modified()?))
            .unwrap_or(false);
        let header = root.join("linux-kernel-module/include/uapi");
        if !fresh {
            util::run(
                Command::new("gcc")
                    .args(["-static", "-O2", "-Wall", "-Werror", "-pthread", "-I"])
                    .arg(&header)
                    .arg("-o")
                    .arg(&binary)
                    .arg(&source),
            )?;
        }
        programs.push(binary);
    }
    let dash = with_shared_objects(Path::new("/bin/dash"), "dash")?;
    Ok(Userland {
        rvisor,
        programs,
        dash,
    })
}

/// `program` and every shared object `ldd` lists for it, the dynamic loader included (the vDSO,
/// which has no file, excepted): what a root needs to run it.
fn with_shared_objects(program: &Path, package: &str) -> Result<Vec<PathBuf>, String> {
    if !program.is_file() {
        return Err(format!(
            "{} is missing: `apt-get install {package}`",
            program.display()
        ));
    }
    let listing = util::output(Command::new("ldd").arg(program)).map_err(|e| {
        format!("{e}\n(ldd comes with Debian's libc-bin; a static {package} cannot be used)")
    })?;
    let mut files = vec![program.to_path_buf()];
    for line in listing.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.contains("not found") {
            return Err(format!("ldd {}: {line}", program.display()));
        }
        // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)`, `/lib64/ld-linux-x86-64.so.2 (0x...)`
        // or `linux-vdso.so.1 (0x...)`.
        let path = line
            .split_once("=>")
            .map_or(line, |(_, right)| right.trim());
        let path = path.split(" (").next().unwrap_or_default().trim();
        if path.starts_with('/') {
            files.push(PathBuf::from(path));
        }
    }
    if files.len() < 3 {
        return Err(format!(
            "ldd lists no shared library and loader for {}:\n{listing}",
            program.display()
        ));
    }
    Ok(files)
}

/// The modules a guest needs to read its virtio disk, in load order, where its kernel builds
/// them as modules (6.12 has virtio and virtio_pci built in; both build ext4 in).
const DISK_MODULES: &[&str] = &[
    "drivers/virtio/virtio_ring.ko",
    "drivers/virtio/virtio.ko",
    "drivers/virtio/virtio_pci_legacy_dev.ko",
    "drivers/virtio/virtio_pci_modern_dev.ko",
    "drivers/virtio/virtio_pci.ko",
    "drivers/block/virtio_blk.ko",
];

/// Copies `kernel`'s disk modules into `dir` (decompressed: busybox's insmod reads plain
/// objects) and returns their names in load order.
fn install_disk_modules(kernel: &Kernel, dir: &Path) -> Result<Vec<String>, String> {
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut names = Vec::new();
    for module in DISK_MODULES {
        let plain = kernel.modules.join("kernel").join(module);
        let compressed = plain.with_extension("ko.xz");
        let name = plain
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if plain.is_file() {
            copy(&plain, &dir.join(&name))?;
        } else if compressed.is_file() {
            let bytes = Command::new("xz")
                .arg("-dc")
                .arg(&compressed)
                .output()
                .map_err(|e| format!("xz: {e} (`cargo xtask setup` installs xz-utils)"))?;
            if !bytes.status.success() {
                return Err(format!("xz -dc {} failed", compressed.display()));
            }
            fs::write(dir.join(&name), bytes.stdout)
                .map_err(|e| format!("{}: {e}", dir.join(&name).display()))?;
        } else {
            // Built into this kernel.
            continue;
        }
        names.push(name);
    }
    Ok(names)
}

/// On the kernel's command line when the guest has the Debian root's disk.
const DISK_FLAG: &str = "rvisor.debian";

/// The part of `/init` that mounts the Debian root's disk at `/debian`, if the guest has one,
/// and puts the scripts of `tests/debian` in it at `/rvisor-tests` (the disk is a snapshot:
/// nothing reaches the cached image).
fn mount_disk_script(modules: &[String]) -> String {
    let path = crate::debian::GUEST_PATH;
    format!(
        "for m in {modules}; do insmod /modules/$m 2>/dev/null; done\n\
         if grep -q {DISK_FLAG} /proc/cmdline; then\n\
         i=0; while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done\n\
         mkdir -p {path} && mount -t ext4 /dev/vda {path} && cp -r /debian-tests {path}/rvisor-tests \
         || echo 'rvisor guest: the Debian root could not be mounted'\n\
         fi\n",
        modules = modules.join(" ")
    )
}

/// Builds an initramfs for `kernel` whose `/init` runs `body` and powers off. `files` are
/// extra (guest path, content) pairs. Returns the image's path.
pub fn initramfs(
    name: &str,
    kernel: &Kernel,
    ko: &Path,
    userland: &Userland,
    body: &str,
    files: &[(String, String)],
) -> Result<PathBuf, String> {
    let root = util::root().join("target/guest").join(name);
    let tree = root.join("tree");
    let _ = fs::remove_dir_all(&tree);
    for dir in [
        "bin", "sbin", "proc", "sys", "dev", "tmp", "root", "tests", "rootfs",
    ] {
        fs::create_dir_all(tree.join(dir)).map_err(|e| e.to_string())?;
    }
    install_busybox(&tree)?;
    install_rootfs(&tree.join("rootfs"), userland)?;
    let modules = install_disk_modules(kernel, &tree.join("modules"))?;
    copy_tree(
        &util::root().join("tests/debian"),
        &tree.join("debian-tests"),
    )?;
    copy(ko, &tree.join("rvisor.ko"))?;
    copy(&userland.rvisor, &tree.join("bin/rvisor"))?;
    for program in &userland.programs {
        let name = program.file_name().ok_or("program without a name")?;
        copy(program, &tree.join("tests").join(name))?;
    }
    for (path, content) in files {
        write(&tree.join(path.trim_start_matches('/')), content)?;
    }
    let init = format!(
        "#!/bin/sh\nexport PATH=/bin:/sbin\n\
         mount -t proc proc /proc\nmount -t sysfs sys /sys\nmount -t devtmpfs dev /dev\nmount -t tmpfs tmp /tmp\n\
         mknod -m 666 /rootfs/dev/null c 1 3\nmknod -m 666 /rootfs/dev/tty c 5 0\n\
         {disk}{body}\n\
         echo {DMESG_BEGIN}\ndmesg\necho {DMESG_END}\npoweroff -f\n",
        disk = mount_disk_script(&modules),
    );
    write(&tree.join("init"), &init)?;
    set_executable(&tree.join("init"))?;
    let image = root.join("initramfs.cpio.gz");
    let script = format!(
        "cd {} && find . -print0 | cpio --null -o -H newc --quiet | gzip -1 > {}",
        util::shell_quote(&tree.to_string_lossy()),
        util::shell_quote(&image.to_string_lossy())
    );
    util::run(Command::new("sh").args(["-c", &script]))?;
    Ok(image)
}

/// The container root (see the module's documentation).
fn install_rootfs(dir: &Path, userland: &Userland) -> Result<(), String> {
    let tests = util::root().join("tests");
    install_busybox(dir)?;
    copy_tree(&tests.join("rootfs"), dir)?;
    for (name, mode) in [
        ("tmp", 0o1777),
        ("root", 0o700),
        ("dev", 0o755),
        ("proc", 0o755),
    ] {
        let path = dir.join(name);
        fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        set_mode(&path, mode)?;
    }
    for file in &userland.dash {
        let inside = dir.join(file.strip_prefix("/").unwrap_or(file));
        if let Some(parent) = inside.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        // A link (`/lib64/ld-linux-x86-64.so.2`) becomes a file with its target's content.
        copy(file, &inside)?;
    }
    let scripts = tests::suite_scripts(&tests);
    if scripts.is_empty() {
        return Err(format!(
            "no scripts under {}",
            tests.join("suite").display()
        ));
    }
    for script in scripts {
        let file = script.file_name().ok_or("script without a name")?;
        write_dir_then_copy(&script, &dir.join("suite").join(file))?;
    }
    for program in &userland.programs {
        let file = program.file_name().ok_or("program without a name")?;
        write_dir_then_copy(program, &dir.join("tests").join(file))?;
    }
    Ok(())
}

/// Copies the tree `from` into `to`: directories, files (with their modes) and symlinks.
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let entries = fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", from.display()))?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().map_err(|e| e.to_string())?;
        if kind.is_dir() {
            copy_tree(&source, &target)?;
        } else if kind.is_symlink() {
            let link = fs::read_link(&source).map_err(|e| e.to_string())?;
            std::os::unix::fs::symlink(&link, &target)
                .map_err(|e| format!("{}: {e}", target.display()))?;
        } else {
            copy(&source, &target)?;
        }
    }
    Ok(())
}

fn write_dir_then_copy(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    copy(from, to)
}

fn install_busybox(dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir.join("bin")).map_err(|e| e.to_string())?;
    copy(Path::new("/bin/busybox"), &dir.join("bin/busybox"))
        .map_err(|e| format!("{e} (busybox-static missing? `cargo xtask setup`)"))?;
    let list = util::output(Command::new("/bin/busybox").arg("--list"))?;
    for applet in list.lines().filter(|a| !a.is_empty() && *a != "busybox") {
        let link = dir.join("bin").join(applet);
        if !link.exists() {
            std::os::unix::fs::symlink("busybox", &link)
                .map_err(|e| format!("{}: {e}", link.display()))?;
        }
    }
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copy {} -> {}: {e}", from.display(), to.display()))
}

fn write(path: &Path, content: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    fs::write(path, content).map_err(|e| format!("{}: {e}", path.display()))
}

fn set_executable(path: &Path) -> Result<(), String> {
    set_mode(path, 0o755)
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// How a guest run went.
pub struct Boot {
    /// The serial console, line by line (CR removed).
    pub lines: Vec<String>,
    /// The guest command's status, if it got that far.
    pub exit: Option<i32>,
    /// qemu's own status: 124 for a timeout.
    pub qemu_status: Option<i32>,
}

impl Boot {
    /// Lines of the whole console (kernel messages included) that show a kernel bug.
    pub fn bad_log_lines(&self) -> Vec<&str> {
        self.lines
            .iter()
            .map(String::as_str)
            .filter(|l| BAD_LOG.iter().any(|b| l.contains(b)))
            .collect()
    }

    /// Whether the guest kernel crashed with rvisor.ko not loaded: its oops lists the loaded
    /// modules, and rvisor is not among them. That is the guest kernel failing on its own
    /// under the emulator (multi-threaded TCG has been seen to trip over an `int3` of the
    /// kernel's boot-time code patching, in `inet_init`), not anything rVisor did.
    pub fn crashed_without_rvisor(&self) -> bool {
        let mut modules = self
            .lines
            .iter()
            .filter(|l| l.contains("Modules linked in:"))
            .peekable();
        !self.bad_log_lines().is_empty()
            && modules.peek().is_some()
            && modules.all(|l| !l.contains("rvisor"))
    }
}

/// How a guest is booted besides its kernel and initramfs.
#[derive(Clone, Copy)]
pub struct Machine<'a> {
    /// Virtual CPUs: more than one run on host threads of their own (multi-threaded TCG)
    /// unless `icount`, which needs them to take turns on one.
    pub cpus: u32,
    /// Count instructions (`-icount shift=0,sleep=off`): one guest nanosecond per instruction.
    pub icount: bool,
    /// The Debian root's image, given as a virtio disk opened `snapshot=on` (never written).
    pub disk: Option<&'a Path>,
}

/// The qemu arguments common to every boot: accelerator, CPUs, memory, no display (with
/// `-nographic` SeaBIOS would write its banner and terminal resets to the serial console,
/// which is the user's terminal), the disk, and the kernel with its command line.
pub fn qemu_args(
    kernel: &Kernel,
    initrd: &Path,
    machine: &Machine<'_>,
    append: &str,
) -> Vec<String> {
    let accel = std::env::var("RVISOR_ACCEL").unwrap_or_else(|_| "tcg".into());
    let cpu = if accel == "kvm" { "host" } else { "max" };
    let accel = if accel == "tcg" && machine.cpus > 1 && !machine.icount {
        "tcg,thread=multi".to_string()
    } else {
        accel
    };
    let mut args: Vec<String> = [
        "-accel",
        &accel,
        "-cpu",
        cpu,
        "-m",
        "1024",
        "-smp",
        &machine.cpus.to_string(),
        "-display",
        "none",
        "-no-reboot",
        "-nodefaults",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    if machine.icount {
        args.extend(["-icount".into(), "shift=0,sleep=off".into()]);
    }
    let mut append = append.to_string();
    if let Some(disk) = machine.disk {
        args.push("-drive".into());
        args.push(format!(
            "file={},if=virtio,format=raw,snapshot=on",
            disk.display()
        ));
        append.push(' ');
        append.push_str(DISK_FLAG);
    }
    args.push("-kernel".into());
    args.push(kernel.vmlinuz.display().to_string());
    args.push("-initrd".into());
    args.push(initrd.display().to_string());
    args.push("-append".into());
    args.push(append);
    args
}

/// Boots `kernel` with `initrd` under TCG (set RVISOR_ACCEL=kvm on a host where KVM works).
/// With `echo`, console lines are printed as they come, markers and the final dmesg excepted.
pub fn boot(
    kernel: &Kernel,
    initrd: &Path,
    machine: &Machine<'_>,
    timeout_s: u32,
    echo: bool,
) -> Result<Boot, String> {
    let mut cmd = Command::new("timeout");
    cmd.args([
        "--foreground",
        "-k",
        "5",
        &timeout_s.to_string(),
        "qemu-system-x86_64",
    ])
    .args(["-serial", "stdio", "-monitor", "none"])
    // A soft lockup (a CPU spinning in the kernel for 20 s) panics the guest, which ends
    // qemu at once: with one CPU nothing else, not even a case's `timeout`, could run again,
    // and the boot would only end at its time limit.
    .args(qemu_args(
        kernel,
        initrd,
        machine,
        "console=ttyS0 panic=-1 quiet loglevel=4 oops=panic softlockup_panic=1",
    ))
    .stdin(Stdio::null())
    .stdout(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start qemu-system-x86_64: {e} (`cargo xtask setup`)"))?;
    let stdout = child.stdout.take().ok_or("no qemu stdout")?;
    let mut lines = Vec::new();
    let mut exit = None;
    let mut in_dmesg = false;
    let mut out = std::io::stdout();
    for line in BufReader::new(stdout).split(b'\n') {
        let line = line.map_err(|e| e.to_string())?;
        let line = String::from_utf8_lossy(&line)
            .trim_end_matches('\r')
            .to_owned();
        if let Some(rest) = line.strip_prefix(EXIT_MARK) {
            exit = rest.trim_end_matches('@').trim().parse().ok();
        } else if line.contains(DMESG_BEGIN) {
            in_dmesg = true;
        } else if line.contains(DMESG_END) {
            in_dmesg = false;
        } else if echo && !in_dmesg && !line.contains(POWER_DOWN) {
            let _ = writeln!(out, "{line}");
        }
        lines.push(line);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    Ok(Boot {
        lines,
        exit,
        qemu_status: status.code(),
    })
}

#[cfg(test)]
mod boot_checks {
    use super::Boot;

    fn boot(lines: &[&str]) -> Boot {
        Boot {
            lines: lines.iter().map(|l| l.to_string()).collect(),
            exit: None,
            qemu_status: Some(0),
        }
    }

    #[test]
    fn only_an_oops_without_rvisor_loaded_is_the_guest_kernels_own() {
        let before = boot(&[
            "Oops: int3: 0000 [#1] PREEMPT SMP NOPTI",
            "Modules linked in:",
        ]);
        assert!(before.crashed_without_rvisor());
        let after = boot(&[
            "Oops: int3: 0000 [#1]",
            "Modules linked in: rvisor(OE) virtio_blk",
        ]);
        assert!(!after.crashed_without_rvisor());
        let warning_only = boot(&["WARNING: CPU: 0 PID: 1 at kernel/x.c:1"]);
        assert!(!warning_only.crashed_without_rvisor());
        assert!(!boot(&["all fine"]).crashed_without_rvisor());
    }
}
