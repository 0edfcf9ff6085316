use super::*;
use crate::container::Container;
use crate::procfs::view::MachineInfo;
use core::time::Duration;
use kernel_hostfs::HostFs;

/// A machine of 4 CPUs and 1 GiB whose caller is pid 1, and whose tasks all run.
struct FakeView;

impl SystemView for FakeView {
    fn machine(&self) -> MachineInfo {
        MachineInfo {
            boot_time: Duration::from_secs(100),
            loads: [2048, 1024, 0],
            mem_total: 1 << 30,
            mem_free: 1 << 29,
            mem_available: 3 << 28,
            cpus_online: 4,
            ..MachineInfo::default()
        }
    }

    fn caller(&self) -> Option<(Pid, Pid)> {
        Some((1, 1))
    }

    fn task(&self, _tid: Pid, _group: bool) -> Option<TaskStat> {
        Some(TaskStat {
            state: b'R',
            threads: 1,
            ..TaskStat::default()
        })
    }

    fn read_memory(&self, _tid: Pid, _addr: u64, _len: usize) -> Vec<u8> {
        Vec::new()
    }

    fn cpus(&self) -> Vec<crate::procfs::CpuInfo> {
        Vec::new()
    }

    fn maps(&self, _tid: Pid) -> Vec<u8> {
        b"00400000-00401000 r-xp 00000000 fe:01 12 /bin/sh\n".to_vec()
    }

    fn release(&self) -> String {
        String::from("6.12.0-test")
    }

    fn version(&self) -> String {
        String::from("#1 SMP test")
    }
}

fn container(name: &str) -> (Arc<Container>, std::path::PathBuf) {
    let dir =
        std::env::temp_dir().join(format!("linux-object-procfs-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let memory = kernel_hal_lkm::platform()
        .unwrap()
        .new_physical_memory(16)
        .unwrap();
    let container = Container::new(1, HostFs::new(&dir).unwrap().root_inode(), memory);
    container.set_view(Arc::new(FakeView));
    (container, dir)
}

fn read(node: &Arc<dyn INode>) -> String {
    let mut buf = vec![0u8; 8192];
    let len = node.read_at(0, &mut buf).unwrap();
    String::from_utf8(buf[..len].to_vec()).unwrap()
}

#[test]
fn the_root_lists_the_processes_self_and_the_system_files() {
    let (container, dir) = container("root");
    let init = container.spawn_init("/bin/sh".into()).unwrap();
    let child = init.fork().unwrap();
    let proc = ProcFs::new(&container).root_inode();
    let names: Vec<String> = proc.read_dir().map(|e| e.unwrap().name).collect();
    for name in [
        ".",
        "..",
        "1",
        "2",
        "self",
        "thread-self",
        "meminfo",
        "uptime",
        "sys",
    ] {
        assert!(
            names.iter().any(|n| n == name),
            "{name} missing from {names:?}"
        );
    }
    assert_eq!(proc.find("self").unwrap().read_link().unwrap(), "1");
    assert_eq!(
        proc.find("thread-self").unwrap().read_link().unwrap(),
        "1/task/1"
    );
    assert_eq!(proc.lookup("3").err(), Some(FsError::NotFound));
    assert_eq!(proc.lookup("01").err(), Some(FsError::NotFound));
    drop(child);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn process_files_are_in_linux_formats_with_container_ids() {
    let (container, dir) = container("pid");
    let init = container.spawn_init("/usr/bin/python3".into()).unwrap();
    let child = init.fork().unwrap();
    let proc = ProcFs::new(&container).root_inode();
    let stat = read(&proc.lookup("2/stat").unwrap());
    let fields: Vec<&str> = stat.trim_end().split(' ').collect();
    assert_eq!(&fields[..5], ["2", "(python3)", "R", "1", "1"]);
    assert_eq!(fields.len(), 52, "{stat}");
    let status = read(&proc.lookup("2/status").unwrap());
    assert!(status.contains("\nPid:\t2\nPPid:\t1\n"), "{status}");
    assert_eq!(
        proc.lookup("2/exe").unwrap().read_link().unwrap(),
        "/usr/bin/python3"
    );
    assert_eq!(read(&proc.lookup("1/comm").unwrap()), "python3\n");
    assert!(read(&proc.lookup("1/maps").unwrap()).ends_with(" /bin/sh\n"));
    let tasks: Vec<String> = proc
        .lookup("1/task")
        .unwrap()
        .read_dir()
        .map(|e| e.unwrap().name)
        .collect();
    assert_eq!(tasks, [".", "..", "1"]);
    assert_eq!(
        read(&proc.lookup("1/task/1/stat").unwrap())
            .split(' ')
            .next(),
        Some("1")
    );
    drop(child);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn system_files_show_the_container_view() {
    let (container, dir) = container("system");
    let _init = container.spawn_init("/bin/sh".into()).unwrap();
    let proc = ProcFs::new(&container).root_inode();
    assert_eq!(read(&proc.lookup("uptime").unwrap()), "0.00 0.00\n");
    assert_eq!(
        read(&proc.lookup("loadavg").unwrap()),
        "1.00 0.50 0.00 1/1 1\n"
    );
    let meminfo = read(&proc.lookup("meminfo").unwrap());
    assert!(
        meminfo.starts_with("MemTotal:        1048576 kB\nMemFree:          524288 kB\n"),
        "{meminfo}"
    );
    assert_eq!(
        read(&proc.lookup("sys/kernel/osrelease").unwrap()),
        "6.12.0-test\n"
    );
    assert_eq!(
        read(&proc.lookup("sys/kernel/hostname").unwrap()),
        "localhost\n"
    );
    let uuid = read(&proc.lookup("sys/kernel/random/uuid").unwrap());
    assert_eq!((uuid.len(), &uuid[14..15]), (37, "4"));
    let boot_id = proc.lookup("sys/kernel/random/boot_id").unwrap();
    assert_eq!(read(&boot_id), read(&boot_id));
    let kernel = proc.lookup("sys/kernel/random/..").unwrap();
    assert_eq!(
        kernel.metadata().unwrap().inode,
        proc.lookup("sys/kernel").unwrap().metadata().unwrap().inode
    );
    assert_eq!(proc.lookup("sys/..").unwrap().metadata().unwrap().inode, 1);
    assert_eq!(
        proc.find("mounts").unwrap().read_link().unwrap(),
        "self/mounts"
    );
    assert_eq!(
        proc.lookup("meminfo").unwrap().write_at(0, b"x").err(),
        Some(FsError::Io)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn namespace_links_name_the_containers_namespaces_and_lead_to_them() {
    let (container, dir) = container("ns");
    let init = container.spawn_init("/bin/sh".into()).unwrap();
    let child = init.fork().unwrap();
    let proc = ProcFs::new(&container).root_inode();
    let ns = proc.lookup("1/ns").unwrap();
    let names: Vec<String> = ns.read_dir().map(|e| e.unwrap().name).collect();
    assert_eq!(
        names,
        [
            ".",
            "..",
            "net",
            "uts",
            "ipc",
            "pid",
            "pid_for_children",
            "user",
            "mnt",
            "cgroup",
            "time",
            "time_for_children"
        ]
    );
    let link = |path: &str| proc.lookup(path).unwrap().read_link().unwrap();
    assert_eq!(link("1/ns/user"), "user:[4026531837]");
    assert_eq!(link("1/ns/pid"), link("2/ns/pid"));
    assert_eq!(link("1/ns/pid"), link("1/ns/pid_for_children"));
    assert!(link("1/ns/net").starts_with("net:[") && link("1/ns/net") != link("1/ns/uts"));

    // Another container's namespaces are others (its user namespace aside).
    let other_dir = dir.join("other");
    std::fs::create_dir_all(&other_dir).unwrap();
    let memory = kernel_hal_lkm::platform()
        .unwrap()
        .new_physical_memory(16)
        .unwrap();
    let other = Container::new(2, HostFs::new(&other_dir).unwrap().root_inode(), memory);
    other.set_view(Arc::new(FakeView));
    let other_init = other.spawn_init("/bin/sh".into()).unwrap();
    let other_proc = ProcFs::new(&other).root_inode();
    let other_link = |path: &str| other_proc.lookup(path).unwrap().read_link().unwrap();
    for name in ["net", "uts", "ipc", "pid", "mnt", "cgroup", "time"] {
        let path = format!("1/ns/{name}");
        assert_ne!(other_link(&path), link(&path), "{name}");
    }
    assert_eq!(other_link("1/ns/user"), link("1/ns/user"));

    // Followed, a link leads to the namespace: a read-only file numbered as the link says.
    let Some(Ok(MagicTarget::Object(target))) =
        magic_link_target(&*proc.lookup("1/ns/net").unwrap())
    else {
        panic!("ns/net is not a magic link to an object");
    };
    let metadata = target.metadata().unwrap();
    assert_eq!(metadata.type_, FileType::File);
    assert_eq!(metadata.mode, 0o444);
    assert_eq!(format!("net:[{}]", metadata.inode), link("1/ns/net"));
    assert_eq!(
        target.read_at(0, &mut [0u8; 8]).err(),
        Some(FsError::InvalidArgument)
    );
    drop((child, other_init));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_open_file_is_one_snapshot_from_its_first_read() {
    let (container, dir) = container("snapshot");
    let init = container.spawn_init("/bin/sh".into()).unwrap();
    let proc = ProcFs::new(&container).root_inode();
    let rest_of = |node: &Arc<dyn INode>| {
        let mut buf = vec![0u8; 8192];
        let len = node.read_at(4, &mut buf).unwrap();
        String::from_utf8(buf[..len].to_vec()).unwrap()
    };
    init.set_umask(0o022);
    let open = proc.lookup("1/status").unwrap();
    assert_eq!(open.read_at(0, &mut [0u8; 4]).unwrap(), 4);
    init.set_umask(0o077);
    // Read on from where it stopped: the text of the first read.
    assert!(rest_of(&open).contains("Umask:\t0022\n"));
    // Read again from the start, or opened again: the process as it is now.
    assert!(read(&open).contains("Umask:\t0077\n"));
    assert!(read(&proc.lookup("1/status").unwrap()).contains("Umask:\t0077\n"));
    std::fs::remove_dir_all(dir).unwrap();
}
