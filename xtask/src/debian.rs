//! The Debian container root of the in-VM suite: real Debian 12 packages, installed by
//! `mmdebstrap` from Debian's mirror (never the build machine's own files), made into an ext4
//! image and cached outside the checkout under a name made of its inputs (suite, mirror,
//! packages, recipe), so a fresh clone reuses it and a change of any input builds a new one.
//!
//! The guest gets the image as a virtio disk opened `snapshot=on` (the cached file is never
//! written) and mounts it at `/debian`, beside the busybox `/rootfs`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{self, step};

/// The Debian release.
const SUITE: &str = "bookworm";
/// Where its packages come from.
const MIRROR: &str = "http://deb.debian.org/debian";
/// What is installed beyond `minbase` (which brings dash, bash, coreutils, findutils, grep,
/// sed, tar, gzip, util-linux and apt): the programs the suites run.
const PACKAGES: &[&str] = &[
    "python3",
    "sqlite3",
    "lua5.4",
    "procps",
    "iproute2",
    "redis-server",
    "redis-tools",
    "nginx-light",
    "wget",
    "make",
    "xz-utils",
    "bzip2",
];
/// Changed whenever what is done to the installed tree changes.
const RECIPE: u32 = 1;

/// Where the guest mounts the root.
pub const GUEST_PATH: &str = "/debian";

/// The image, built now if no cached one has the same inputs.
pub fn image() -> Result<PathBuf, String> {
    let dir = util::cache_dir()
        .join("debian")
        .join(format!("{SUITE}-{:016x}", inputs_key()));
    let image = dir.join("root.ext4");
    if image.is_file() {
        return Ok(image);
    }
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let tree = dir.join("tree");
    remove_tree(&tree)?;
    step(&format!(
        "Debian root: mmdebstrap {SUITE} from {MIRROR} ({} packages beyond minbase; once)",
        PACKAGES.len()
    ));
    util::run(
        Command::new("mmdebstrap")
            .args(["--quiet", "--variant=minbase", "--mode=root"])
            .arg(format!("--include={}", PACKAGES.join(",")))
            .arg(SUITE)
            .arg(&tree)
            .arg(MIRROR),
    )
    .map_err(|e| {
        format!(
            "{e}\n(the Debian root needs mmdebstrap, which `cargo xtask setup` installs, and \
             {MIRROR} reachable; as root)"
        )
    })?;
    settle(&tree)?;
    step("Debian root: ext4 image");
    let partial = dir.join("root.ext4.partial");
    let megabytes = size_mib(&tree)?;
    // Made first, so that mkfs.ext4 does not announce that it creates it.
    fs::File::create(&partial).map_err(|e| format!("{}: {e}", partial.display()))?;
    util::run(
        Command::new("mkfs.ext4")
            .args(["-q", "-F", "-L", "debian", "-d"])
            .arg(&tree)
            .arg(&partial)
            .arg(format!("{megabytes}M")),
    )
    .map_err(|e| format!("{e}\n(mkfs.ext4 comes with e2fsprogs: `cargo xtask setup`)"))?;
    fs::rename(&partial, &image).map_err(|e| format!("{}: {e}", image.display()))?;
    remove_tree(&tree)?;
    Ok(image)
}

/// FNV-1a over the inputs: stable across builds and Rust versions, unlike `std`'s hasher.
fn inputs_key() -> u64 {
    let text = format!("{SUITE}\n{MIRROR}\n{}\n{RECIPE}", PACKAGES.join(","));
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// What the tree needs to be a container's root and nothing of the build machine: its own
/// host name, no resolver settings copied from the machine, the world-writable `/tmp` and
/// `/dev/shm`.
fn settle(tree: &Path) -> Result<(), String> {
    write(&tree.join("etc/hostname"), "debian\n")?;
    let resolv = tree.join("etc/resolv.conf");
    if resolv.exists() || resolv.is_symlink() {
        fs::remove_file(&resolv).map_err(|e| format!("{}: {e}", resolv.display()))?;
    }
    for dir in ["tmp", "dev/shm"] {
        let path = tree.join(dir);
        fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        set_mode(&path, 0o1777)?;
    }
    Ok(())
}

/// The image's size: the tree's, half as much again and 256 MiB for what the suites write.
fn size_mib(tree: &Path) -> Result<u64, String> {
    let out = util::output(Command::new("du").args(["-s", "-m"]).arg(tree))?;
    let used: u64 = out
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("du of {}: {out}", tree.display()))?;
    Ok(used + used / 2 + 256)
}

fn remove_tree(tree: &Path) -> Result<(), String> {
    if tree.exists() {
        fs::remove_dir_all(tree).map_err(|e| format!("{}: {e}", tree.display()))?;
    }
    Ok(())
}

fn write(path: &Path, content: &str) -> Result<(), String> {
    fs::write(path, content).map_err(|e| format!("{}: {e}", path.display()))
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| format!("{}: {e}", path.display()))
}
