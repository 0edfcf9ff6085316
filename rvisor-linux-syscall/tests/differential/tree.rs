//! Scratch roots: building a fixture in one, and taking a snapshot of the tree a sequence left
//! (names, types, permission bits, owners, sizes, contents, link targets, link counts).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::model::Fixture;

/// A pair of fresh scratch roots, removed when dropped.
pub struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    /// Two empty roots, `a` (native) and `b` (rVisor), both mode 0755.
    pub fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        // On tmpfs, as rVisor's directories behave: a directory's offset is an entry index
        // (libfs), where ext4 would give hash cookies and LLONG_MAX for SEEK_END.
        let dir = std::path::Path::new("/dev/shm").join(format!(
            "rvisor-differential-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        for side in ["a", "b"] {
            let root = dir.join(side);
            fs::create_dir_all(&root).unwrap();
            fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
        }
        Self { dir }
    }

    /// The native root.
    pub fn a(&self) -> PathBuf {
        self.dir.join("a")
    }

    /// The rVisor root.
    pub fn b(&self) -> PathBuf {
        self.dir.join("b")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn inside(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

/// Builds `fixture` under `root`.
pub fn build(root: &Path, fixture: &[Fixture]) {
    for item in fixture {
        match item {
            Fixture::File(path, content, mode) => {
                let path = inside(root, path);
                fs::write(&path, content).unwrap();
                fs::set_permissions(&path, fs::Permissions::from_mode(*mode)).unwrap();
            }
            Fixture::Dir(path, mode) => {
                let path = inside(root, path);
                fs::create_dir_all(&path).unwrap();
                fs::set_permissions(&path, fs::Permissions::from_mode(*mode)).unwrap();
            }
            Fixture::Symlink(path, target) => {
                std::os::unix::fs::symlink(target, inside(root, path)).unwrap();
            }
            Fixture::Hardlink(path, existing) => {
                fs::hard_link(inside(root, existing), inside(root, path)).unwrap();
            }
            Fixture::Owner(path, uid, gid) => {
                std::os::unix::fs::lchown(inside(root, path), Some(*uid), Some(*gid)).unwrap();
            }
            Fixture::Mode(path, mode) => {
                let path = inside(root, path);
                fs::set_permissions(&path, fs::Permissions::from_mode(*mode)).unwrap();
            }
        }
    }
}

/// One object of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// `file`, `dir`, `symlink` or `other`.
    pub kind: &'static str,
    /// Permission bits (`mode & 0o7777`).
    pub perm: u32,
    /// Owner and group.
    pub owner: (u32, u32),
    /// Link count.
    pub nlink: u64,
    /// Size, for anything but a directory.
    pub size: Option<u64>,
    /// Contents of a file; target of a link.
    pub data: Vec<u8>,
}

/// Every object under `root` (the root itself as `/`), by path.
pub fn snapshot(root: &Path) -> BTreeMap<String, Node> {
    let mut nodes = BTreeMap::new();
    walk(root, "/", &mut nodes);
    nodes
}

fn walk(path: &Path, name: &str, nodes: &mut BTreeMap<String, Node>) {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return;
    };
    let kind = if meta.is_dir() {
        "dir"
    } else if meta.is_file() {
        "file"
    } else if meta.file_type().is_symlink() {
        "symlink"
    } else {
        "other"
    };
    let data = match kind {
        "file" => fs::read(path).unwrap_or_else(|e| format!("<unreadable: {e}>").into_bytes()),
        "symlink" => fs::read_link(path)
            .map(|target| target.into_os_string().into_encoded_bytes())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    nodes.insert(
        name.to_string(),
        Node {
            kind,
            perm: meta.mode() & 0o7777,
            owner: (meta.uid(), meta.gid()),
            nlink: meta.nlink(),
            size: (kind != "dir").then_some(meta.size()),
            data,
        },
    );
    if kind == "dir" {
        let mut children: Vec<_> = fs::read_dir(path)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name())
                    .collect()
            })
            .unwrap_or_default();
        children.sort();
        for child in children {
            let child_name = if name == "/" {
                format!("/{}", child.to_string_lossy())
            } else {
                format!("{name}/{}", child.to_string_lossy())
            };
            walk(&path.join(&child), &child_name, nodes);
        }
    }
}

/// The differences between two snapshots, one line each; empty if they are the same.
pub fn diff(native: &BTreeMap<String, Node>, rvisor: &BTreeMap<String, Node>) -> Vec<String> {
    let mut lines = Vec::new();
    let paths: std::collections::BTreeSet<&String> = native.keys().chain(rvisor.keys()).collect();
    for path in paths {
        match (native.get(path), rvisor.get(path)) {
            (Some(a), Some(b)) if a == b => {}
            (a, b) => lines.push(format!(
                "  tree {path}: native {} | rVisor {}",
                describe(a),
                describe(b)
            )),
        }
    }
    lines
}

fn describe(node: Option<&Node>) -> String {
    match node {
        None => "absent".to_string(),
        Some(node) => {
            let data = String::from_utf8_lossy(&node.data);
            let mut shown: String = data.chars().take(40).collect();
            if shown.len() < data.len() {
                shown.push('…');
            }
            format!(
                "{} {:o} {}:{} nlink {} size {:?} {:?}",
                node.kind, node.perm, node.owner.0, node.owner.1, node.nlink, node.size, shown
            )
        }
    }
}
