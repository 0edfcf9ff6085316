//! The escape suite: every way out of a `HostFs` root we know of, each shown to stay inside.
//!
//! Every scratch directory has this layout; the files outside `root/` hold `HOST-SECRET`, so
//! a test that ever reads that text has escaped:
//!
//! ```text
//! scratch/marker            HOST-SECRET        (outside the root)
//! scratch/etc/passwd        HOST-SECRET        (outside, where a `/etc` escape would land)
//! scratch/root/             the HostFs root
//! scratch/root/etc/passwd   container passwd
//! scratch/root/a/b/c/       deep directories
//! ```

use std::os::unix::fs::symlink;
use std::string::{String, ToString};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use std::vec::Vec;
use std::{format, fs, thread};

use super::support::{host_ino, ino, read_text, Mounted};
use crate::{FileSystem, FileType, FsError, HostFs, INode, MAX_SYMLINK_FOLLOWS, NAME_MAX};

const SECRET: &str = "HOST-SECRET";
const CONTAINER_PASSWD: &str = "container passwd";

fn jail(label: &str) -> Mounted {
    let jail = Mounted::new(label);
    fs::write(jail.scratch.join("marker"), SECRET).unwrap();
    fs::create_dir(jail.scratch.join("etc")).unwrap();
    fs::write(jail.scratch.join("etc/passwd"), SECRET).unwrap();
    fs::create_dir_all(jail.host("etc")).unwrap();
    fs::write(jail.host("etc/passwd"), CONTAINER_PASSWD).unwrap();
    fs::create_dir_all(jail.host("a/b/c")).unwrap();
    jail
}

/// `path` from `start` either does not resolve or is not a host file outside the root.
fn assert_stays_inside(start: &Arc<dyn INode>, path: &str) {
    if let Ok(node) = start.lookup(path) {
        if node.metadata().unwrap().type_ == FileType::File {
            assert_ne!(read_text(&node), SECRET, "{path} escaped the root");
        }
    }
}

fn assert_is_container_passwd(start: &Arc<dyn INode>, path: &str) {
    assert_eq!(
        read_text(&start.lookup(path).unwrap()),
        CONTAINER_PASSWD,
        "{path}"
    );
}

#[test]
fn dotdot_at_the_root_stays_at_the_root() {
    let jail = jail("dotdot-root");
    let root = jail.root();
    let root_ino = ino(&root);
    for path in [
        "..",
        "../..",
        "/..",
        "/../../..",
        "../../../../../../../../..",
        "./../.",
    ] {
        assert_eq!(ino(&root.lookup(path).unwrap()), root_ino, "{path}");
    }
    assert_eq!(ino(&root.find("..").unwrap()), root_ino);
    assert_eq!(root.list().unwrap().get(1).unwrap().inode, root_ino);
    for path in [
        "../marker",
        "../../marker",
        "/../marker",
        "../root/etc/passwd",
    ] {
        assert_eq!(root.lookup(path).err(), Some(FsError::NotFound), "{path}");
    }
    assert_is_container_passwd(&root, "../etc/passwd");
    assert_is_container_passwd(&root, "/../../etc/passwd");
}

#[test]
fn dotdot_chains_from_a_deep_directory_stop_at_the_root() {
    let jail = jail("dotdot-deep");
    let root = jail.root();
    let deep = root.lookup("a/b/c").unwrap();
    assert_eq!(ino(&deep.lookup("../../..").unwrap()), ino(&root));
    assert_eq!(
        ino(&deep.lookup("../../../../../../..").unwrap()),
        ino(&root)
    );
    assert_eq!(
        deep.lookup("../../../../marker").err(),
        Some(FsError::NotFound)
    );
    assert_eq!(
        deep.lookup("../../../../../../../marker").err(),
        Some(FsError::NotFound)
    );
    assert_is_container_passwd(&deep, "../../../../../etc/passwd");
    assert_is_container_passwd(&deep, "/etc/passwd");
    // `..` climbs one level at a time, through the real directories.
    assert_eq!(ino(&deep.lookup("..").unwrap()), host_ino(jail.host("a/b")));
    assert_eq!(
        ino(&deep.find("..").unwrap().find("..").unwrap()),
        host_ino(jail.host("a"))
    );
}

#[test]
fn absolute_symlink_to_slash_is_the_container_root() {
    let jail = jail("abs-slash");
    symlink("/", jail.host("a/toroot")).unwrap();
    let root = jail.root();
    assert_eq!(ino(&root.lookup("a/toroot").unwrap()), ino(&root));
    assert_eq!(ino(&root.lookup("a/toroot/..").unwrap()), ino(&root));
    assert_eq!(
        root.lookup("a/toroot/../marker").err(),
        Some(FsError::NotFound)
    );
    assert_is_container_passwd(&root, "a/toroot/etc/passwd");
    assert_is_container_passwd(&root, "a/toroot/../../etc/passwd");
}

#[test]
fn absolute_symlink_to_etc_is_the_container_etc() {
    let jail = jail("abs-etc");
    symlink("/etc", jail.host("a/b/etc")).unwrap();
    symlink("/etc/passwd", jail.host("passwd")).unwrap();
    let root = jail.root();
    assert_is_container_passwd(&root, "a/b/etc/passwd");
    assert_is_container_passwd(&root, "passwd");
    // The host's real /etc/passwd is never what a container sees.
    let host_passwd = host_ino("/etc/passwd");
    assert_ne!(ino(&root.lookup("passwd").unwrap()), host_passwd);
}

#[test]
fn absolute_symlink_to_a_host_path_is_read_inside_the_root() {
    let jail = jail("abs-host-path");
    let marker = jail.scratch.join("marker");
    symlink(&marker, jail.host("m")).unwrap();
    symlink(jail.scratch.path(), jail.host("scratch")).unwrap();
    let root = jail.root();
    assert_eq!(root.lookup("m").err(), Some(FsError::NotFound));
    assert_eq!(root.lookup("scratch/marker").err(), Some(FsError::NotFound));
    // Once the same path exists inside the root, that is what the link reaches.
    let inside = jail.host(marker.strip_prefix("/").unwrap().to_str().unwrap());
    fs::create_dir_all(inside.parent().unwrap()).unwrap();
    fs::write(&inside, "inside").unwrap();
    assert_eq!(read_text(&root.lookup("m").unwrap()), "inside");
}

#[test]
fn relative_symlinks_up_and_out_are_clamped() {
    let jail = jail("rel-up");
    symlink("../../../..", jail.host("a/up")).unwrap();
    symlink("../../../marker", jail.host("a/b/out")).unwrap();
    symlink("../../../../../etc/passwd", jail.host("a/b/c/passwd")).unwrap();
    let root = jail.root();
    assert_eq!(ino(&root.lookup("a/up").unwrap()), ino(&root));
    assert_eq!(root.lookup("a/up/marker").err(), Some(FsError::NotFound));
    assert_eq!(root.lookup("a/b/out").err(), Some(FsError::NotFound));
    assert_is_container_passwd(&root, "a/b/c/passwd");
    assert_is_container_passwd(&root, "a/up/etc/passwd");
}

#[test]
fn symlink_chains_stay_inside() {
    let jail = jail("chains");
    symlink("l2", jail.host("l1")).unwrap();
    symlink("a/b/l3", jail.host("l2")).unwrap();
    symlink("../../../../marker", jail.host("a/b/l3")).unwrap();
    symlink("c1", jail.host("p1")).unwrap();
    symlink("/a/../a/b/../../c2", jail.host("c1")).unwrap();
    symlink("../../etc/passwd", jail.host("c2")).unwrap();
    let root = jail.root();
    assert_eq!(root.lookup("l1").err(), Some(FsError::NotFound));
    assert_is_container_passwd(&root, "p1");
}

#[test]
fn symlink_loops_are_eloop() {
    let jail = jail("loops");
    symlink("self", jail.host("self")).unwrap();
    symlink("pong", jail.host("ping")).unwrap();
    symlink("ping", jail.host("pong")).unwrap();
    symlink("../a/dirloop/x", jail.host("a/dirloop")).unwrap();
    symlink("/", jail.host("slash")).unwrap();
    let root = jail.root();
    for path in ["self", "ping", "pong/x", "a/dirloop", "a/b/../dirloop/y"] {
        assert_eq!(
            root.lookup(path).err(),
            Some(FsError::SymlinkLoop),
            "{path}"
        );
    }
    // Not following the last link is not a loop: the link itself is found.
    let link = root.lookup_follow("ping", false).unwrap();
    assert_eq!(link.read_link().unwrap(), "pong");
    // A long path through a link to "/" counts each pass, as Linux does.
    let passes = |n: usize| "slash/".repeat(n) + "etc/passwd";
    assert_is_container_passwd(&root, &passes(MAX_SYMLINK_FOLLOWS));
    assert_eq!(
        root.lookup(&passes(MAX_SYMLINK_FOLLOWS + 1)).err(),
        Some(FsError::SymlinkLoop)
    );
}

#[test]
fn exactly_forty_links_resolve_and_forty_one_are_eloop() {
    let jail = jail("forty");
    // link_i -> link_{i+1}, last -> etc/passwd; resolving link_0 follows `count` links.
    let chain = |prefix: &str, count: usize| {
        for i in 0..count {
            let target = if i + 1 == count {
                "etc/passwd".to_string()
            } else {
                format!("{prefix}{}", i + 1)
            };
            symlink(target, jail.host(&format!("{prefix}{i}"))).unwrap();
        }
    };
    chain("ok", MAX_SYMLINK_FOLLOWS);
    chain("over", MAX_SYMLINK_FOLLOWS + 1);
    let root = jail.root();
    assert_is_container_passwd(&root, "ok0");
    assert_eq!(root.lookup("over0").err(), Some(FsError::SymlinkLoop));
}

#[test]
fn dotdot_through_a_symlinked_directory_is_the_targets_parent() {
    let jail = jail("dotdot-link");
    symlink("a/b", jail.host("link")).unwrap();
    symlink("/a/b/c", jail.host("a/abs")).unwrap();
    fs::write(jail.host("a/x"), "x in a").unwrap();
    let root = jail.root();
    // As in Linux, `..` after a followed link is the parent of the link's target.
    assert_eq!(
        ino(&root.lookup("link/..").unwrap()),
        host_ino(jail.host("a"))
    );
    assert_eq!(read_text(&root.lookup("link/../x").unwrap()), "x in a");
    assert_eq!(
        ino(&root.lookup("a/abs/..").unwrap()),
        host_ino(jail.host("a/b"))
    );
    assert_eq!(
        root.lookup("link/../../../../marker").err(),
        Some(FsError::NotFound)
    );
    assert_is_container_passwd(&root, "link/../../../etc/passwd");
    assert_is_container_passwd(&root, "a/abs/../../../../../etc/passwd");
}

#[test]
fn over_long_names_and_paths_are_enametoolong() {
    let jail = jail("too-long");
    let root = jail.root();
    let longest = "n".repeat(NAME_MAX);
    let too_long = "n".repeat(NAME_MAX + 1);
    assert!(root.create(&longest, FileType::File, 0o644).is_ok());
    assert!(root.lookup(&longest).is_ok());
    assert_eq!(root.lookup(&too_long).err(), Some(FsError::NameTooLong));
    assert_eq!(root.find(&too_long).err(), Some(FsError::NameTooLong));
    assert_eq!(
        root.lookup(&format!("{too_long}/x")).err(),
        Some(FsError::NameTooLong)
    );
    // As in Linux, a long name is only reported when the walk reaches it.
    assert_eq!(
        root.lookup(&format!("missing/{too_long}")).err(),
        Some(FsError::NotFound)
    );
    for result in [
        root.create(&too_long, FileType::File, 0o644).err(),
        root.create(&too_long, FileType::Dir, 0o755).err(),
        root.symlink(&too_long, "x").err(),
        root.lookup_parent(&format!("a/{too_long}")).err(),
    ] {
        assert_eq!(result, Some(FsError::NameTooLong));
    }
    // PATH_MAX counts the terminating NUL: 4095 bytes is the longest path.
    let path_of = |len: usize| "./".repeat(len / 2) + if len % 2 == 1 { "z" } else { "" };
    assert_eq!(root.lookup(&path_of(4095)).err(), Some(FsError::NotFound));
    assert_eq!(
        root.lookup(&path_of(4096)).err(),
        Some(FsError::NameTooLong)
    );
    assert_eq!(
        root.symlink("l", &path_of(4096)).err(),
        Some(FsError::NameTooLong)
    );
}

#[test]
fn nul_bytes_are_rejected() {
    let jail = jail("nul");
    let root = jail.root();
    assert_eq!(
        root.lookup("etc\0/passwd").err(),
        Some(FsError::InvalidArgument)
    );
    assert_eq!(
        root.lookup("etc/passwd\0").err(),
        Some(FsError::InvalidArgument)
    );
    assert_eq!(
        root.lookup_parent("etc/x\0y").err(),
        Some(FsError::InvalidArgument)
    );
    assert_eq!(root.find("a\0").err(), Some(FsError::InvalidArgument));
    assert_eq!(
        root.create("x\0y", FileType::File, 0o644).err(),
        Some(FsError::InvalidArgument)
    );
    assert_eq!(
        root.symlink("l", "/etc\0/x").err(),
        Some(FsError::InvalidArgument)
    );
    assert_eq!(root.unlink("etc\0").err(), Some(FsError::InvalidArgument));
    assert!(!jail.host("x").exists());
}

#[test]
fn creating_through_a_dangling_link_creates_nothing_outside() {
    let jail = jail("dangling");
    let outside = jail.scratch.join("created-outside");
    symlink(&outside, jail.host("dangling")).unwrap();
    symlink("../../../created-outside", jail.host("a/b/rel")).unwrap();
    let root = jail.root();
    let b = root.lookup("a/b").unwrap();
    assert_eq!(
        root.create("dangling", FileType::File, 0o644).err(),
        Some(FsError::AlreadyExists)
    );
    assert_eq!(
        root.create("dangling", FileType::Dir, 0o755).err(),
        Some(FsError::AlreadyExists)
    );
    assert_eq!(
        b.create("rel", FileType::File, 0o644).err(),
        Some(FsError::AlreadyExists)
    );
    assert_eq!(
        root.symlink("dangling", "x").err(),
        Some(FsError::AlreadyExists)
    );
    assert!(!outside.exists());
    assert!(!jail.scratch.join("a").exists());
}

#[test]
fn operations_on_a_link_act_on_the_link_not_its_target() {
    let jail = jail("link-ops");
    symlink(jail.scratch.join("marker"), jail.host("m")).unwrap();
    let root = jail.root();
    let link = root.lookup_follow("m", false).unwrap();
    assert_eq!(
        link.read_at(0, &mut [0; 8]).err(),
        Some(FsError::InvalidArgument)
    );
    assert_eq!(link.write_at(0, b"x").err(), Some(FsError::InvalidArgument));
    assert_eq!(link.chmod(0o777).err(), Some(FsError::NotSupported));
    assert_eq!(link.resize(0).err(), Some(FsError::InvalidArgument));
    // A hard link to a symbolic link is another link, not the host file.
    root.link("m2", &link).unwrap();
    assert_eq!(host_ino(jail.host("m2")), host_ino(jail.host("m")));
    root.move_("m2", &root, "m3").unwrap();
    root.unlink("m3").unwrap();
    root.unlink("m").unwrap();
    assert_eq!(
        fs::read_to_string(jail.scratch.join("marker")).unwrap(),
        SECRET
    );
    let marker_mode = fs::metadata(jail.scratch.join("marker"))
        .unwrap()
        .permissions();
    assert_ne!(
        std::os::unix::fs::PermissionsExt::mode(&marker_mode) & 0o777,
        0o777
    );
}

#[test]
fn a_held_directory_moved_outside_the_root_cannot_lead_out() {
    let jail = jail("moved-out");
    let root = jail.root();
    let b = root.lookup("a/b").unwrap();
    let c = b.find("c").unwrap();
    fs::rename(jail.host("a/b"), jail.scratch.join("b")).unwrap();
    // On the host, b's parent is now the scratch dir holding the marker; in the container,
    // `..` still leads back the way the walk came.
    assert_eq!(ino(&b.find("..").unwrap()), host_ino(jail.host("a")));
    assert_eq!(ino(&c.lookup("../..").unwrap()), host_ino(jail.host("a")));
    assert_eq!(b.lookup("../marker").err(), Some(FsError::NotFound));
    assert_eq!(c.lookup("../../marker").err(), Some(FsError::NotFound));
    assert_eq!(
        c.lookup("../../../../../marker").err(),
        Some(FsError::NotFound)
    );
    assert_is_container_passwd(&c, "/etc/passwd");
    assert_is_container_passwd(&c, "../../../etc/passwd");
    // Its own listing's `..` is the directory it was reached from, not the host's.
    assert_eq!(
        b.list().unwrap().get(1).unwrap().inode,
        host_ino(jail.host("a"))
    );
}

#[test]
fn a_directory_renamed_during_walks_never_leads_outside() {
    let jail = jail("rename-race");
    fs::create_dir_all(jail.host("d/sub/deeper")).unwrap();
    symlink("../..", jail.host("d/sub/up")).unwrap();
    fs::write(jail.scratch.join("sub-marker"), SECRET).unwrap();
    let inside = jail.host("d");
    let outside = jail.scratch.join("d");
    let stop = Arc::new(AtomicBool::new(false));
    let moves = Arc::new(AtomicUsize::new(0));
    let mover = {
        let (stop, moves) = (stop.clone(), moves.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                fs::rename(&inside, &outside).unwrap();
                fs::rename(&outside, &inside).unwrap();
                moves.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let root = jail.root();
    let paths = [
        "d/../marker",
        "d/sub/../../marker",
        "d/sub/../../../marker",
        "d/sub/deeper/../../../marker",
        "d/sub/up/marker",
        "d/sub/up/../marker",
        "d/sub/../../sub-marker",
        "d/sub/deeper/../../../etc/passwd",
    ];
    let (mut walks, mut reached_d) = (0usize, 0usize);
    let deadline = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < deadline {
        for path in paths {
            assert_stays_inside(&root, path);
            walks += 1;
        }
        // A directory held while it is away: its `..` is still the root.
        if let Ok(d) = root.lookup("d") {
            reached_d += 1;
            assert_stays_inside(&d, "../marker");
            assert_stays_inside(&d, "sub/../../marker");
            assert_eq!(ino(&d.find("..").unwrap()), ino(&root));
        }
    }
    stop.store(true, Ordering::Relaxed);
    mover.join().unwrap();
    let moves = moves.load(Ordering::Relaxed);
    assert!(
        moves > 100 && reached_d > 0 && walks > 0,
        "race too weak: {moves} moves"
    );
}

/// A small deterministic xorshift generator, enough to vary paths reproducibly.
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }
}

#[test]
fn random_paths_through_hostile_links_stay_inside() {
    let jail = jail("random");
    let links = [
        ("a/up", "../../..".to_string()),
        ("a/b/abs", "/a".to_string()),
        ("a/b/c/host", "/marker".to_string()),
        (
            "a/b/c/hostabs",
            jail.scratch.join("marker").to_str().unwrap().to_string(),
        ),
        ("slash", "/".to_string()),
        ("a/loop", "loop".to_string()),
        ("a/b/out", "../../../../marker".to_string()),
        ("a/b/c/etc", "/etc".to_string()),
    ];
    for (link, target) in &links {
        symlink(target, jail.host(link)).unwrap();
    }
    // Every object inside the root, by (dev, inode): any resolution must land on one.
    let mut inside = Vec::new();
    let mut pending = Vec::from([jail.host("")]);
    while let Some(path) = pending.pop() {
        let metadata = fs::symlink_metadata(&path).unwrap();
        inside.push((
            std::os::unix::fs::MetadataExt::dev(&metadata),
            host_ino(&path),
        ));
        if metadata.is_dir() {
            pending.extend(
                fs::read_dir(&path)
                    .unwrap()
                    .map(|entry| entry.unwrap().path()),
            );
        }
    }
    let root = jail.root();
    let starts = [
        root.clone(),
        root.lookup("a/b/c").unwrap(),
        root.lookup("a").unwrap(),
    ];
    let words = [
        ".", "..", "..", "a", "b", "c", "up", "abs", "host", "hostabs", "slash", "slash", "loop",
        "out", "etc", "passwd", "marker", "",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut resolved = 0;
    for _ in 0..4000 {
        let count = 1 + rng.below(6);
        let mut path: String = if rng.below(4) == 0 {
            "/".into()
        } else {
            String::new()
        };
        let components: Vec<&str> = (0..count).map(|_| words[rng.below(words.len())]).collect();
        path.push_str(&components.join("/"));
        let start = &starts[rng.below(starts.len())];
        if let Ok(node) = start.lookup_follow(&path, rng.below(2) == 0) {
            resolved += 1;
            let metadata = node.metadata().unwrap();
            assert!(
                inside.contains(&(metadata.dev, metadata.inode)),
                "{path} left the root"
            );
        }
    }
    assert!(
        resolved > 200,
        "too few paths resolved ({resolved}) to mean anything"
    );
}

#[test]
fn device_nodes_cannot_be_opened_or_created() {
    let jail = jail("devices");
    let root = jail.root();
    assert_eq!(
        root.create("null", FileType::CharDevice, 0o666).err(),
        Some(FsError::NotPermitted)
    );
    assert_eq!(
        root.create("sda", FileType::BlockDevice, 0o660).err(),
        Some(FsError::NotPermitted)
    );
    // A device node already in the image (made by the host, if it may) is visible but shut.
    let made = std::process::Command::new("mknod")
        .arg(jail.host("null"))
        .args(["c", "1", "3"])
        .status()
        .is_ok_and(|status| status.success());
    if made {
        let null = root.lookup("null").unwrap();
        assert_eq!(null.metadata().unwrap().type_, FileType::CharDevice);
        assert_eq!(
            null.read_at(0, &mut [0; 4]).err(),
            Some(FsError::AccessDenied)
        );
        assert_eq!(null.write_at(0, b"x").err(), Some(FsError::AccessDenied));
        assert_eq!(null.sync_all().err(), Some(FsError::InvalidArgument));
    }
}

#[test]
fn links_and_renames_across_filesystems_are_exdev() {
    let jail = jail("exdev");
    let root = jail.root();
    let other_fs = HostFs::new(jail.scratch.path()).unwrap();
    let other_root = other_fs.root_inode();
    let marker = other_root.lookup("marker").unwrap();
    assert_eq!(
        root.link("stolen", &marker).err(),
        Some(FsError::CrossDevice)
    );
    assert_eq!(
        other_root.move_("marker", &root, "stolen").err(),
        Some(FsError::CrossDevice)
    );
    // Even a second HostFs on the very same directory is another mount.
    let twin = HostFs::new(jail.host("")).unwrap().root_inode();
    let passwd = twin.lookup("etc/passwd").unwrap();
    assert_eq!(root.link("p", &passwd).err(), Some(FsError::CrossDevice));
    assert!(!jail.host("stolen").exists());
    assert_eq!(
        fs::read_to_string(jail.scratch.join("marker")).unwrap(),
        SECRET
    );
}

#[test]
fn the_root_given_by_a_host_symlink_is_followed_once_then_fixed() {
    let jail = jail("root-link");
    symlink(jail.host(""), jail.scratch.join("root-link")).unwrap();
    let fs = HostFs::new(jail.scratch.join("root-link")).unwrap();
    // Repointing the host link later changes nothing: the root is held, not named.
    fs::remove_file(jail.scratch.join("root-link")).unwrap();
    symlink("/", jail.scratch.join("root-link")).unwrap();
    assert_is_container_passwd(&fs.root_inode(), "/etc/passwd");
}
