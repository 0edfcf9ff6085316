//! The supported kernels: Debian's cloud kernels of the 6.1 and 6.12 series.
//!
//! `setup` installs the newest headers of each series and unpacks its image into the cache;
//! the other commands use what is there.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use crate::util;

/// A kernel series rVisor supports and tests.
pub struct Series {
    /// The short name users type (`--kernel 6.1`).
    pub name: &'static str,
    /// Package name prefix and suffix around the version, e.g. `linux-headers-6.1.0-56-cloud-amd64`.
    prefix: &'static str,
    suffix: &'static str,
}

pub const SERIES: [Series; 2] = [
    Series {
        name: "6.1",
        prefix: "6.1.0-",
        suffix: "-cloud-amd64",
    },
    Series {
        name: "6.12",
        prefix: "6.12.",
        suffix: "+deb12-cloud-amd64",
    },
];

/// One kernel ready to build for and boot.
pub struct Kernel {
    pub series: &'static str,
    /// `uname -r`, e.g. `6.12.117+deb12-cloud-amd64`.
    pub release: String,
    /// The header tree (KDIR).
    pub kdir: PathBuf,
    /// The bootable image.
    pub vmlinuz: PathBuf,
    /// Its modules (`lib/modules/<release>` of the unpacked image).
    pub modules: PathBuf,
}

impl Series {
    /// True if `release` belongs to this series.
    pub fn matches(&self, release: &str) -> bool {
        release.starts_with(self.prefix)
            && release.ends_with(self.suffix)
            && release[self.prefix.len()..release.len() - self.suffix.len()]
                .split(['.', '-'])
                .next()
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    }

    /// The newest release of this series that apt offers headers for.
    pub fn newest_available(&self) -> Result<String, String> {
        let out = util::output(Command::new("apt-cache").args(["pkgnames", "linux-headers-"]))?;
        out.lines()
            .filter_map(|p| p.strip_prefix("linux-headers-"))
            .filter(|r| self.matches(r))
            .max_by_key(|r| version_key(r))
            .map(str::to_owned)
            .ok_or_else(|| {
                format!(
                    "apt offers no linux-headers for the {} series: run `apt-get update`",
                    self.name
                )
            })
    }
}

/// Numeric parts of a release, for ordering (6.12.117 > 6.12.99).
fn version_key(release: &str) -> Vec<u64> {
    release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// The newest installed, unpacked kernel of `series`.
pub fn find(series: &Series) -> Result<Kernel, String> {
    let dir = util::cache_dir().join("kernels");
    let mut best: Option<Kernel> = None;
    for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
        let release = entry.file_name().to_string_lossy().into_owned();
        if !series.matches(&release) {
            continue;
        }
        let vmlinuz = entry.path().join(format!("boot/vmlinuz-{release}"));
        let kdir = PathBuf::from(format!("/usr/src/linux-headers-{release}"));
        if !vmlinuz.is_file() || !kdir.join("Makefile").is_file() {
            continue;
        }
        if best
            .as_ref()
            .is_none_or(|b| version_key(&release) > version_key(&b.release))
        {
            best = Some(Kernel {
                series: series.name,
                modules: entry.path().join("lib/modules").join(&release),
                release,
                kdir,
                vmlinuz,
            });
        }
    }
    best.ok_or_else(|| {
        format!(
            "no {} kernel found (image under {} and headers under /usr/src): run `cargo xtask setup`",
            series.name,
            dir.display()
        )
    })
}

/// The kernels named by `--kernel` (or all supported ones).
pub fn selected(choice: Option<&str>) -> Result<Vec<Kernel>, String> {
    match choice {
        None => SERIES.iter().map(find).collect(),
        Some(name) => {
            let series = SERIES
                .iter()
                .find(|s| s.name == name)
                .ok_or_else(|| format!("unknown kernel series `{name}` (supported: 6.1, 6.12)"))?;
            Ok(vec![find(series)?])
        }
    }
}
