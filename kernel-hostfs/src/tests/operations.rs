//! Every `INode` and `FileSystem` operation of `HostFs`, checked against what std sees on
//! the host directory underneath.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, DirEntryExt, FileTypeExt, MetadataExt};
use std::string::{String, ToString};
use std::time::SystemTime;
use std::vec::Vec;

use super::support::{host_ino, ino, read_all, Mounted, Scratch};
use crate::{FileSystem, FileType, FsError, HostFs, INode, Metadata, TimeUpdate, Timespec};

fn host_mode(path: impl AsRef<std::path::Path>) -> u32 {
    fs::symlink_metadata(path).unwrap().mode()
}

fn assert_same_stat(metadata: &Metadata, host: &fs::Metadata) {
    assert_eq!(metadata.dev, host.dev());
    assert_eq!(metadata.inode, host.ino());
    assert_eq!(metadata.size, host.size());
    assert_eq!(u64::from(metadata.blk_size), host.blksize());
    assert_eq!(metadata.blocks, host.blocks());
    assert_eq!(metadata.st_mode(), host.mode());
    assert_eq!(metadata.nlinks, host.nlink());
    assert_eq!((metadata.uid, metadata.gid), (host.uid(), host.gid()));
    assert_eq!(metadata.rdev, host.rdev());
    assert_eq!(
        (metadata.atime.sec, metadata.atime.nsec),
        (host.atime(), host.atime_nsec())
    );
    assert_eq!(
        (metadata.mtime.sec, metadata.mtime.nsec),
        (host.mtime(), host.mtime_nsec())
    );
    assert_eq!(
        (metadata.ctime.sec, metadata.ctime.nsec),
        (host.ctime(), host.ctime_nsec())
    );
}

#[test]
fn new_requires_an_existing_directory() {
    let scratch = Scratch::new("new");
    fs::write(scratch.join("file"), "").unwrap();
    assert_eq!(
        HostFs::new(scratch.join("file")).err(),
        Some(FsError::NotDir)
    );
    assert_eq!(
        HostFs::new(scratch.join("missing")).err(),
        Some(FsError::NotFound)
    );
}

#[test]
fn files_are_created_written_and_read_as_on_the_host() {
    let m = Mounted::new("rw");
    let root = m.root();
    let file = root.create("f", FileType::File, 0o644).unwrap();
    assert_eq!(file.write_at(0, b"hello").unwrap(), 5);
    assert_eq!(file.write_at(10, b"world").unwrap(), 5);
    assert_eq!(fs::read(m.host("f")).unwrap(), b"hello\0\0\0\0\0world");
    fs::write(m.host("f"), "from the host").unwrap();
    let again = root.lookup("f").unwrap();
    assert_eq!(read_all(&again), b"from the host");
    assert_eq!(read_all(&file), b"from the host");
    let mut buf = [0u8; 4];
    assert_eq!(file.read_at(5, &mut buf).unwrap(), 4);
    assert_eq!(&buf, b"the ");
    assert_eq!(file.read_at(100, &mut buf).unwrap(), 0);
    // Writes through one inode are seen through another for the same file.
    again.write_at(0, b"FROM").unwrap();
    assert_eq!(read_all(&file), b"FROM the host");
}

#[test]
fn create_applies_exactly_the_requested_mode() {
    let m = Mounted::new("mode");
    let root = m.root();
    root.create("f", FileType::File, 0o777).unwrap();
    root.create("d", FileType::Dir, 0o777).unwrap();
    root.create("p", FileType::NamedPipe, 0o666).unwrap();
    root.create("sticky", FileType::Dir, 0o1777).unwrap();
    assert_eq!(host_mode(m.host("f")), 0o100_777);
    assert_eq!(host_mode(m.host("d")), 0o040_777);
    assert_eq!(host_mode(m.host("p")), 0o010_666);
    assert_eq!(host_mode(m.host("sticky")), 0o041_777);
    let created = root.create("narrow", FileType::File, 0o400).unwrap();
    assert_eq!(created.metadata().unwrap().mode, 0o400);
}

#[test]
fn fifos_and_sockets_are_created_and_never_block() {
    let m = Mounted::new("fifo");
    let root = m.root();
    let fifo = root.create("fifo", FileType::NamedPipe, 0o644).unwrap();
    let socket = root.create("sock", FileType::Socket, 0o644).unwrap();
    assert!(fs::symlink_metadata(m.host("fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    assert!(fs::symlink_metadata(m.host("sock"))
        .unwrap()
        .file_type()
        .is_socket());
    // With no writer, reading an empty FIFO ends at once; with no reader, writing is ENXIO.
    assert_eq!(fifo.read_at(0, &mut [0; 8]).unwrap(), 0);
    let lonely = root.create("lonely", FileType::NamedPipe, 0o644).unwrap();
    assert_eq!(
        lonely.write_at(0, b"x").err(),
        Some(FsError::NoDeviceOrAddress)
    );
    // Once read-open, a FIFO passes bytes in order whatever the offsets say.
    assert_eq!(fifo.write_at(100, b"xy").unwrap(), 2);
    let mut buf = [0u8; 8];
    assert_eq!(fifo.read_at(7, &mut buf).unwrap(), 2);
    assert_eq!(&buf[..2], b"xy");
    assert_eq!(
        socket.read_at(0, &mut [0; 8]).err(),
        Some(FsError::NoDeviceOrAddress)
    );
    assert_eq!(fifo.resize(0).err(), Some(FsError::InvalidArgument));
}

#[test]
fn resize_grows_with_zeros_and_shrinks() {
    let m = Mounted::new("resize");
    let file = m.root().create("f", FileType::File, 0o644).unwrap();
    file.write_at(0, b"abcdef").unwrap();
    file.resize(3).unwrap();
    assert_eq!(fs::read(m.host("f")).unwrap(), b"abc");
    file.resize(6).unwrap();
    assert_eq!(fs::read(m.host("f")).unwrap(), b"abc\0\0\0");
    assert_eq!(file.metadata().unwrap().size, 6);
    assert_eq!(m.root().resize(0).err(), Some(FsError::IsDir));
}

#[test]
fn metadata_is_what_the_host_stat_says() {
    let m = Mounted::new("stat");
    let root = m.root();
    root.create("f", FileType::File, 0o640)
        .unwrap()
        .write_at(0, &[7; 5000])
        .unwrap();
    root.create("d", FileType::Dir, 0o751).unwrap();
    root.create("p", FileType::NamedPipe, 0o600).unwrap();
    root.symlink("l", "f").unwrap();
    for (name, type_) in [
        ("f", FileType::File),
        ("d", FileType::Dir),
        ("p", FileType::NamedPipe),
    ] {
        let metadata = root.lookup(name).unwrap().metadata().unwrap();
        assert_eq!(metadata.type_, type_);
        assert_same_stat(&metadata, &fs::symlink_metadata(m.host(name)).unwrap());
    }
    let link = root.lookup_follow("l", false).unwrap().metadata().unwrap();
    assert_eq!(link.type_, FileType::SymLink);
    assert_eq!(link.size, 1);
    assert_same_stat(&link, &fs::symlink_metadata(m.host("l")).unwrap());
    assert_same_stat(
        &root.metadata().unwrap(),
        &fs::metadata(m.host("")).unwrap(),
    );
}

#[test]
fn mkdir_and_rmdir_behave_as_linux() {
    let m = Mounted::new("mkdir");
    let root = m.root();
    let d = root.create("d", FileType::Dir, 0o755).unwrap();
    assert!(m.host("d").is_dir());
    d.create("inner", FileType::File, 0o644).unwrap();
    assert_eq!(root.rmdir("d").err(), Some(FsError::NotEmpty));
    assert_eq!(root.unlink("d").err(), Some(FsError::IsDir));
    assert_eq!(d.rmdir("inner").err(), Some(FsError::NotDir));
    d.unlink("inner").unwrap();
    root.rmdir("d").unwrap();
    assert!(!m.host("d").exists());
    assert_eq!(root.rmdir("d").err(), Some(FsError::NotFound));
    assert_eq!(root.rmdir(".").err(), Some(FsError::InvalidArgument));
    assert_eq!(root.rmdir("..").err(), Some(FsError::NotEmpty));
    assert_eq!(root.create("d", FileType::Dir, 0o755).map(|_| ()), Ok(()));
    assert_eq!(
        root.create("d", FileType::Dir, 0o755).err(),
        Some(FsError::AlreadyExists)
    );
    assert_eq!(
        root.create("d", FileType::File, 0o644).err(),
        Some(FsError::AlreadyExists)
    );
    assert_eq!(
        root.create(".", FileType::Dir, 0o755).err(),
        Some(FsError::AlreadyExists)
    );
    assert_eq!(
        root.create("..", FileType::File, 0o644).err(),
        Some(FsError::AlreadyExists)
    );
    assert_eq!(
        root.create("l", FileType::SymLink, 0o777).err(),
        Some(FsError::InvalidArgument)
    );
}

#[test]
fn unlink_removes_names_not_objects() {
    let m = Mounted::new("unlink");
    let root = m.root();
    let file = root.create("f", FileType::File, 0o644).unwrap();
    file.write_at(0, b"still here").unwrap();
    root.unlink("f").unwrap();
    assert!(!m.host("f").exists());
    // A held inode outlives its last name, as an open file does.
    assert_eq!(read_all(&file), b"still here");
    assert_eq!(file.metadata().unwrap().nlinks, 0);
    assert_eq!(root.unlink("f").err(), Some(FsError::NotFound));
    assert_eq!(root.unlink(".").err(), Some(FsError::IsDir));
    assert_eq!(root.unlink("..").err(), Some(FsError::IsDir));
    assert_eq!(file.unlink("x").err(), Some(FsError::NotDir));
}

#[test]
fn link_adds_a_name_to_the_same_object() {
    let m = Mounted::new("link");
    let root = m.root();
    let file = root.create("f", FileType::File, 0o644).unwrap();
    let d = root.create("d", FileType::Dir, 0o755).unwrap();
    d.link("g", &file).unwrap();
    assert_eq!(host_ino(m.host("d/g")), host_ino(m.host("f")));
    assert_eq!(fs::metadata(m.host("f")).unwrap().nlink(), 2);
    assert_eq!(file.metadata().unwrap().nlinks, 2);
    assert_eq!(d.link("g", &file).err(), Some(FsError::AlreadyExists));
    assert_eq!(root.link("d2", &d).err(), Some(FsError::NotPermitted));
    assert_eq!(root.link(".", &file).err(), Some(FsError::AlreadyExists));
    assert_eq!(file.link("x", &file).err(), Some(FsError::NotDir));
}

#[test]
fn rename_moves_and_replaces_as_linux() {
    let m = Mounted::new("rename");
    let root = m.root();
    let a = root.create("a", FileType::Dir, 0o755).unwrap();
    let b = root.create("b", FileType::Dir, 0o755).unwrap();
    a.create("f", FileType::File, 0o644)
        .unwrap()
        .write_at(0, b"f")
        .unwrap();
    b.create("g", FileType::File, 0o644)
        .unwrap()
        .write_at(0, b"g")
        .unwrap();
    let f_ino = host_ino(m.host("a/f"));
    a.move_("f", &a, "f2").unwrap();
    assert_eq!(host_ino(m.host("a/f2")), f_ino);
    a.move_("f2", &b, "g").unwrap();
    assert!(!m.host("a/f2").exists());
    assert_eq!(fs::read(m.host("b/g")).unwrap(), b"f");
    assert_eq!(host_ino(m.host("b/g")), f_ino);
    // Directories: over an empty one is fine, over a non-empty one is ENOTEMPTY.
    let empty = root.create("empty", FileType::Dir, 0o755).unwrap();
    root.move_("a", &root, "empty").unwrap();
    assert!(!m.host("a").exists());
    assert_eq!(
        root.move_("empty", &root, "b").err(),
        Some(FsError::NotEmpty)
    );
    assert_eq!(b.move_("g", &root, "empty").err(), Some(FsError::IsDir));
    assert_eq!(root.move_("empty", &b, "g").err(), Some(FsError::NotDir));
    assert_eq!(
        root.move_("b", &b, "inside").err(),
        Some(FsError::InvalidArgument)
    );
    assert_eq!(root.move_(".", &b, "x").err(), Some(FsError::Busy));
    assert_eq!(root.move_("b", &b, "..").err(), Some(FsError::Busy));
    assert_eq!(
        root.move_("missing", &b, "x").err(),
        Some(FsError::NotFound)
    );
    let file = b.find("g").unwrap();
    assert_eq!(root.move_("b", &file, "x").err(), Some(FsError::NotDir));
    drop(empty);
}

#[test]
fn directory_listing_matches_the_host() {
    let m = Mounted::new("readdir");
    let root = m.root();
    root.create("file", FileType::File, 0o644).unwrap();
    root.create("dir", FileType::Dir, 0o755).unwrap();
    root.create("fifo", FileType::NamedPipe, 0o644).unwrap();
    root.symlink("link", "dangling").unwrap();
    let listed: Vec<_> = root.read_dir().collect::<Result<_, _>>().unwrap();
    assert_eq!(
        (listed[0].name.as_str(), listed[0].inode),
        (".", ino(&root))
    );
    assert_eq!(
        (listed[1].name.as_str(), listed[1].inode),
        ("..", ino(&root))
    );
    let ours: BTreeSet<_> = listed[2..]
        .iter()
        .map(|entry| (entry.name.clone(), entry.inode, entry.type_.dirent_type()))
        .collect();
    let host: BTreeSet<_> = fs::read_dir(m.host(""))
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            let type_ = if kind.is_symlink() {
                FileType::SymLink
            } else if kind.is_dir() {
                FileType::Dir
            } else if kind.is_fifo() {
                FileType::NamedPipe
            } else {
                FileType::File
            };
            (
                entry.file_name().to_str().unwrap().to_string(),
                entry.ino(),
                type_.dirent_type(),
            )
        })
        .collect();
    assert_eq!(ours, host);
    // A listing is a snapshot: what is created later is in the next one only.
    let listing = root.list().unwrap();
    assert_eq!(listing.get(6), None);
    fs::write(m.host("late"), "").unwrap();
    assert_eq!(listing.get(6), None);
    assert_eq!(root.read_dir().count(), 7);
    let sub = root.find("dir").unwrap();
    let sub_listing = sub.list().unwrap();
    assert_eq!(sub_listing.get(0).unwrap().inode, ino(&sub));
    assert_eq!(sub_listing.get(1).unwrap().inode, ino(&root));
    assert_eq!(sub.read_dir().count(), 2);
    let file = root.find("file").unwrap();
    assert_eq!(file.list().err(), Some(FsError::NotDir));
    let mut failing = file.read_dir();
    assert_eq!(failing.next(), Some(Err(FsError::NotDir)));
    assert_eq!(failing.next(), None);
}

#[test]
fn names_that_are_not_utf8_are_listed_lossily() {
    let m = Mounted::new("non-utf8");
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9");
    fs::write(m.host("").join(name), "").unwrap();
    let root = m.root();
    let entry = root.list().unwrap().get(2).unwrap().to_entry().unwrap();
    assert_eq!(entry.name, "caf\u{fffd}");
    assert_eq!(root.lookup(&entry.name).err(), Some(FsError::NotFound));
}

#[test]
fn symlinks_are_created_and_read_back() {
    let m = Mounted::new("symlink");
    let root = m.root();
    let link = root.symlink("l", "../some/where").unwrap();
    assert_eq!(
        fs::read_link(m.host("l")).unwrap().to_str(),
        Some("../some/where")
    );
    assert_eq!(link.read_link().unwrap(), "../some/where");
    symlink("/abs/target", m.host("h")).unwrap();
    assert_eq!(
        root.lookup_follow("h", false).unwrap().read_link().unwrap(),
        "/abs/target"
    );
    assert_eq!(root.read_link().err(), Some(FsError::InvalidArgument));
    assert_eq!(root.symlink("empty", "").err(), Some(FsError::NotFound));
    assert_eq!(root.symlink("l", "x").err(), Some(FsError::AlreadyExists));
    assert_eq!(root.symlink("..", "x").err(), Some(FsError::AlreadyExists));
}

#[test]
fn lookup_follows_links_as_asked() {
    let m = Mounted::new("lookup");
    fs::create_dir_all(m.host("d/e")).unwrap();
    fs::write(m.host("d/e/f"), "f").unwrap();
    symlink("d/e", m.host("toe")).unwrap();
    symlink("toe/f", m.host("tof")).unwrap();
    let root = m.root();
    let f = host_ino(m.host("d/e/f"));
    assert_eq!(ino(&root.lookup("tof").unwrap()), f);
    assert_eq!(
        ino(&root.lookup_follow("tof", false).unwrap()),
        host_ino(m.host("tof"))
    );
    // Links before the last component are always followed; a trailing slash follows too.
    assert_eq!(ino(&root.lookup_follow("toe/f", false).unwrap()), f);
    assert_eq!(
        ino(&root.lookup_follow("toe/", false).unwrap()),
        host_ino(m.host("d/e"))
    );
    assert_eq!(root.lookup("d/e/f/").err(), Some(FsError::NotDir));
    assert_eq!(root.lookup("tof/").err(), Some(FsError::NotDir));
    assert_eq!(root.lookup("d/e/f/.").err(), Some(FsError::NotDir));
    assert_eq!(root.lookup("d/e/f/x").err(), Some(FsError::NotDir));
    assert_eq!(root.lookup("").err(), Some(FsError::NotFound));
    assert_eq!(
        ino(&root.lookup("//d///e//").unwrap()),
        host_ino(m.host("d/e"))
    );
    let e = root.lookup("d/e").unwrap();
    assert_eq!(ino(&e.find(".").unwrap()), ino(&e));
    assert_eq!(ino(&e.find("..").unwrap()), host_ino(m.host("d")));
    assert_eq!(e.find("f").unwrap().find("x").err(), Some(FsError::NotDir));
    assert_eq!(e.find("a/b").err(), Some(FsError::InvalidArgument));
    assert_eq!(e.find("").err(), Some(FsError::NotFound));
}

#[test]
fn lookup_parent_splits_off_the_last_component() {
    let m = Mounted::new("parent");
    fs::create_dir_all(m.host("a/b")).unwrap();
    fs::write(m.host("file"), "").unwrap();
    symlink("a", m.host("toa")).unwrap();
    let root = m.root();
    let cases = [
        ("a/b/c", "a/b", "c", false),
        ("c", "", "c", false),
        ("/a/c", "a", "c", false),
        ("//c", "", "c", false),
        ("a/b/", "a", "b", true),
        ("toa/b/new//", "a/b", "new", true),
        ("/", "", ".", true),
        ("a/..", "a", "..", false),
        ("a/./", "a", ".", true),
    ];
    for (path, dir, name, must_be_dir) in cases {
        let parent = root.lookup_parent(path).unwrap();
        assert_eq!(ino(&parent.dir), host_ino(m.host(dir)), "{path}");
        assert_eq!(
            (parent.name.as_str(), parent.must_be_dir),
            (name, must_be_dir),
            "{path}"
        );
    }
    assert_eq!(
        root.lookup_parent("missing/x").err(),
        Some(FsError::NotFound)
    );
    assert_eq!(root.lookup_parent("file/x").err(), Some(FsError::NotDir));
    assert_eq!(root.lookup_parent("").err(), Some(FsError::NotFound));
}

#[test]
fn chmod_chown_and_times_reach_the_host() {
    let m = Mounted::new("attrs");
    let root = m.root();
    let file = root.create("f", FileType::File, 0o644).unwrap();
    file.chmod(0o4751).unwrap();
    assert_eq!(host_mode(m.host("f")), 0o104_751);
    root.symlink("l", "f").unwrap();
    let link = root.lookup_follow("l", false).unwrap();
    let times = (
        Timespec {
            sec: 1_000_000_000,
            nsec: 123,
        },
        Timespec {
            sec: 2_000_000,
            nsec: 0,
        },
    );
    file.set_times(TimeUpdate::At(times.0), TimeUpdate::At(times.1))
        .unwrap();
    let host = fs::metadata(m.host("f")).unwrap();
    assert_eq!(
        (host.atime(), host.atime_nsec(), host.mtime()),
        (1_000_000_000, 123, 2_000_000)
    );
    file.set_times(TimeUpdate::Keep, TimeUpdate::Now).unwrap();
    let host = fs::metadata(m.host("f")).unwrap();
    assert_eq!(host.atime(), 1_000_000_000);
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(host.mtime().abs_diff(i64::try_from(now).unwrap()) < 60);
    // Times of a link are the link's own.
    link.set_times(TimeUpdate::At(times.1), TimeUpdate::At(times.1))
        .unwrap();
    assert_eq!(
        fs::symlink_metadata(m.host("l")).unwrap().mtime(),
        2_000_000
    );
    assert_eq!(fs::metadata(m.host("l")).unwrap().atime(), 1_000_000_000);
    // Ownership needs privilege on the host; check it where the tests have it.
    match file.chown(Some(1234), None) {
        Ok(()) => {
            let host = fs::metadata(m.host("f")).unwrap();
            assert_eq!(
                (host.uid(), host.gid()),
                (1234, fs::metadata(m.host("")).unwrap().gid())
            );
            file.chown(None, Some(4321)).unwrap();
            assert_eq!(fs::metadata(m.host("f")).unwrap().gid(), 4321);
            link.chown(Some(99), Some(99)).unwrap();
            assert_eq!(fs::symlink_metadata(m.host("l")).unwrap().uid(), 99);
            assert_eq!(fs::metadata(m.host("f")).unwrap().uid(), 1234);
        }
        Err(error) => assert_eq!(error, FsError::NotPermitted),
    }
}

#[test]
fn sync_and_fs_info() {
    let m = Mounted::new("sync");
    let root = m.root();
    let file = root.create("f", FileType::File, 0o644).unwrap();
    file.write_at(0, b"data").unwrap();
    file.sync_all().unwrap();
    file.sync_data().unwrap();
    root.sync_all().unwrap();
    root.sync_data().unwrap();
    m.fs.sync().unwrap();
    let info = m.fs.info().unwrap();
    assert_eq!(info.namemax, 255);
    assert!(info.bsize > 0 && info.blocks >= info.bfree && info.bfree >= info.bavail);
    assert_eq!(file.fs().info().unwrap().magic, info.magic);
    assert_eq!(file.fs_info().unwrap().magic, info.magic);
    // ST_VALID is always set in what statfs reports.
    assert_ne!(info.flags & 0x20, 0);
}

#[test]
fn birth_time_is_what_the_host_records() {
    let m = Mounted::new("btime");
    let file = m.root().create("f", FileType::File, 0o644).unwrap();
    let born = file.birth_time().unwrap();
    // The scratch directory's filesystem (tmpfs, ext4, …) records it; a later change of
    // the file leaves it alone.
    if let Some(born) = born {
        let metadata = file.metadata().unwrap();
        assert!(born <= metadata.ctime, "{born:?} {:?}", metadata.ctime);
        file.write_at(0, b"later").unwrap();
        assert_eq!(file.birth_time().unwrap(), Some(born));
    }
}

#[test]
fn data_operations_on_directories_fail_as_linux() {
    let m = Mounted::new("dir-data");
    let root = m.root();
    assert_eq!(root.read_at(0, &mut [0; 4]).err(), Some(FsError::IsDir));
    assert_eq!(root.write_at(0, b"x").err(), Some(FsError::IsDir));
    let file = root.create("f", FileType::File, 0o644).unwrap();
    assert_eq!(file.find("x").err(), Some(FsError::NotDir));
    assert_eq!(file.lookup("x").err(), Some(FsError::NotDir));
    assert_eq!(
        file.create("x", FileType::File, 0o644).err(),
        Some(FsError::NotDir)
    );
    assert_eq!(file.symlink("x", "y").err(), Some(FsError::NotDir));
    assert_eq!(file.rmdir("x").err(), Some(FsError::NotDir));
    // An absolute lookup from a file still starts at the root.
    assert_eq!(ino(&file.lookup("/").unwrap()), ino(&root));
}

#[test]
fn inodes_from_fs_belong_to_the_same_filesystem() {
    let m = Mounted::new("same-fs");
    let root = m.root();
    let file = root.create("f", FileType::File, 0o644).unwrap();
    let again = file.fs().root_inode();
    again.link("g", &file).unwrap();
    again.move_("g", &root, "h").unwrap();
    assert_eq!(host_ino(m.host("h")), host_ino(m.host("f")));
    let typed = m.fs.root();
    assert_eq!(typed.file_type(), FileType::Dir);
    let as_dyn: std::sync::Arc<dyn INode> = typed;
    assert!(as_dyn
        .downcast_ref::<crate::HostINode<crate::HostBackend>>()
        .is_some());
    let names: Vec<String> = root.read_dir().map(|entry| entry.unwrap().name).collect();
    assert_eq!(names.len(), 4, "{names:?}");
}
