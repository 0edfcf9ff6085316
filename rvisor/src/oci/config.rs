//! A bundle's `config.json` (OCI runtime-spec 1.x) and what rVisor makes of it: the fields it
//! honours become a [`Plan`] for `create`; a field it cannot honour is refused with an error
//! naming it (a field left empty — `null`, `{}`, `[]`, `""`, `false` — asks for nothing and
//! is accepted).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::mounts::{MountSpec, MS_NODEV, MS_NOEXEC, MS_NOSUID};
use crate::Network;

/// The runtime-spec version `spec` writes and `state` reports.
pub const OCI_VERSION: &str = "1.0.2";

/// The fields rVisor honours, by JSON path (`[]` stands for every element of an array); any
/// other field that is not empty is refused at `create`.
const HONOURED: &[&str] = &[
    "ociVersion",
    "process",
    "process.terminal",
    "process.consoleSize",
    "process.consoleSize.height",
    "process.consoleSize.width",
    "process.user",
    "process.user.uid",
    "process.user.gid",
    "process.user.umask",
    "process.user.additionalGids",
    "process.args",
    "process.env",
    "process.cwd",
    "process.rlimits",
    "process.rlimits[].type",
    "process.rlimits[].soft",
    "process.rlimits[].hard",
    "process.noNewPrivileges",
    "root",
    "root.path",
    "root.readonly",
    "hostname",
    "mounts",
    "mounts[].destination",
    "mounts[].type",
    "mounts[].source",
    "mounts[].options",
    "linux",
    "linux.namespaces",
    "linux.namespaces[].type",
    "linux.namespaces[].path",
    "annotations",
];

/// Why a field rVisor does not honour is refused, for the fields engines commonly set.
fn refusal_reason(field: &str) -> &'static str {
    match field {
        "process.capabilities" => "capabilities are not mapped onto rVisor's credentials yet",
        "linux.resources" => "cgroup resource limits are not applied yet",
        "linux.uidMappings" | "linux.gidMappings" => "user namespaces are not supported",
        "linux.maskedPaths" | "linux.readonlyPaths" => {
            "rVisor's /proc and /sys are its own; masking host paths in them is not done yet"
        }
        "linux.seccomp" => "rVisor's gate is the only seccomp filter a container may have",
        "hooks" => "hooks are not run yet",
        "linux.sysctl" => "sysctls are not applied yet",
        "linux.devices" => "only rVisor's own /dev devices exist in a container",
        _ => "rVisor does not honour it",
    }
}

/// Whether a JSON value asks for nothing.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Number(_) | Value::Bool(true) => false,
    }
}

/// Refuses, naming it, the first non-empty field under `value` (at `path`, in the file `file`)
/// that rVisor does not honour.
fn check_fields(file: &str, path: &str, value: &Value) -> Result<(), String> {
    let child = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                let name = child(key);
                if !HONOURED.contains(&name.as_str()) {
                    if is_empty(field) {
                        continue;
                    }
                    let whose = if file == "config.json" {
                        "the bundle's "
                    } else {
                        ""
                    };
                    return Err(format!(
                        "{file}: `{name}` is set, but {}: remove it from {whose}{file}",
                        refusal_reason(&name)
                    ));
                }
                if name != "annotations" {
                    check_fields(file, &name, field)?;
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            let element = format!("{path}[]");
            items
                .iter()
                .try_for_each(|item| check_fields(file, &element, item))
        }
        _ => Ok(()),
    }
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    #[serde(default)]
    pub process: Option<Process>,
    pub root: Option<Root>,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub mounts: Vec<Mount>,
    #[serde(default)]
    pub linux: Option<Linux>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct Process {
    #[serde(default)]
    pub terminal: bool,
    pub console_size: Option<ConsoleSize>,
    #[serde(default)]
    pub user: User,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub cwd: String,
    #[serde(default)]
    pub rlimits: Vec<Rlimit>,
    #[serde(default)]
    pub no_new_privileges: bool,
}

#[derive(Deserialize, Debug, Clone, Copy)]
pub struct ConsoleSize {
    pub height: u16,
    pub width: u16,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(default)]
    pub uid: u32,
    #[serde(default)]
    pub gid: u32,
    pub umask: Option<u32>,
    #[serde(default)]
    pub additional_gids: Vec<u32>,
}

#[derive(Deserialize, Debug)]
pub struct Rlimit {
    #[serde(rename = "type")]
    pub kind: String,
    pub soft: u64,
    pub hard: u64,
}

#[derive(Deserialize, Debug)]
pub struct Root {
    pub path: String,
    #[serde(default)]
    pub readonly: bool,
}

#[derive(Deserialize, Debug)]
pub struct Mount {
    pub destination: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub options: Vec<String>,
}

#[derive(Deserialize, Debug, Default)]
pub struct Linux {
    #[serde(default)]
    pub namespaces: Vec<Namespace>,
}

#[derive(Deserialize, Debug)]
pub struct Namespace {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub path: String,
}

/// What `create` does for a bundle: everything checked, paths made absolute.
#[derive(Debug)]
pub struct Plan {
    /// The container's root, absolute.
    pub root: PathBuf,
    pub read_only: bool,
    pub hostname: Option<String>,
    /// Volumes and tmpfs instances, mounted by the module after the container is made.
    pub mounts: Vec<MountSpec>,
    pub network: Network,
    pub process: ProcessPlan,
    pub annotations: BTreeMap<String, String>,
}

/// The container's first process.
#[derive(Debug)]
pub struct ProcessPlan {
    pub args: Vec<String>,
    /// The whole environment, `NAME=VALUE`.
    pub env: Vec<String>,
    pub cwd: String,
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub umask: Option<u32>,
    /// `(RLIMIT_*, soft, hard)`.
    pub rlimits: Vec<(libc::c_int, u64, u64)>,
    pub no_new_privileges: bool,
    pub terminal: bool,
    pub console_size: Option<ConsoleSize>,
}

/// The `RLIMIT_*` resource named `name`.
fn rlimit_resource(name: &str) -> Option<libc::c_int> {
    Some(match name {
        "RLIMIT_AS" => libc::RLIMIT_AS,
        "RLIMIT_CORE" => libc::RLIMIT_CORE,
        "RLIMIT_CPU" => libc::RLIMIT_CPU,
        "RLIMIT_DATA" => libc::RLIMIT_DATA,
        "RLIMIT_FSIZE" => libc::RLIMIT_FSIZE,
        "RLIMIT_LOCKS" => libc::RLIMIT_LOCKS,
        "RLIMIT_MEMLOCK" => libc::RLIMIT_MEMLOCK,
        "RLIMIT_MSGQUEUE" => libc::RLIMIT_MSGQUEUE,
        "RLIMIT_NICE" => libc::RLIMIT_NICE,
        "RLIMIT_NOFILE" => libc::RLIMIT_NOFILE,
        "RLIMIT_NPROC" => libc::RLIMIT_NPROC,
        "RLIMIT_RSS" => libc::RLIMIT_RSS,
        "RLIMIT_RTPRIO" => libc::RLIMIT_RTPRIO,
        "RLIMIT_RTTIME" => libc::RLIMIT_RTTIME,
        "RLIMIT_SIGPENDING" => libc::RLIMIT_SIGPENDING,
        "RLIMIT_STACK" => libc::RLIMIT_STACK,
        _ => return None,
    } as libc::c_int)
}

/// Reads and checks `BUNDLE/config.json`.
pub fn load(bundle: &Path) -> Result<Plan, String> {
    let path = bundle.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e} (a bundle is a directory with a config.json; `rvisor spec` writes one)",
            path.display()
        )
    })?;
    plan(bundle, &text)
}

/// Checks the text of a `config.json` and makes the plan for it, relative paths resolved
/// against `bundle`.
pub fn plan(bundle: &Path, text: &str) -> Result<Plan, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("config.json is not valid JSON: {e}"))?;
    check_fields("config.json", "", &value)?;
    let config: Config = serde_json::from_value(value)
        .map_err(|e| format!("config.json does not follow the OCI runtime spec: {e}"))?;
    let process = config
        .process
        .ok_or("config.json: `process` is missing: a container needs a process to run")?;
    let process = plan_process("config.json", process)?;
    let root = config
        .root
        .ok_or("config.json: `root` is missing: name the container's root directory")?;
    let root_path = bundle.join(&root.path);
    let root_path = root_path.canonicalize().map_err(|e| {
        format!(
            "config.json: `root.path` {}: {e} (relative paths are the bundle's)",
            root_path.display()
        )
    })?;
    if !root_path.is_dir() {
        return Err(format!(
            "config.json: `root.path` {} is not a directory",
            root_path.display()
        ));
    }
    let mut mounts = Vec::new();
    for (index, mount) in config.mounts.iter().enumerate() {
        mounts.extend(plan_mount(bundle, index, mount)?);
    }
    let network = plan_network(config.linux.unwrap_or_default().namespaces)?;
    Ok(Plan {
        root: root_path,
        read_only: root.readonly,
        hostname: config.hostname.filter(|h| !h.is_empty()),
        mounts,
        network,
        process,
        annotations: config.annotations,
    })
}

/// The plan for `process`, from `file` (`config.json`, or `rvisor exec`'s `--process` file).
fn plan_process(file: &str, process: Process) -> Result<ProcessPlan, String> {
    if process.args.is_empty() {
        return Err(format!(
            "{file}: `process.args` is empty: name the program to run"
        ));
    }
    let cwd = if process.cwd.is_empty() {
        "/".to_string()
    } else if process.cwd.starts_with('/') {
        process.cwd
    } else {
        return Err(format!(
            "{file}: `process.cwd` ({}) must be an absolute path",
            process.cwd
        ));
    };
    let rlimits = process
        .rlimits
        .iter()
        .map(|limit| {
            let resource = rlimit_resource(&limit.kind).ok_or_else(|| {
                format!(
                    "{file}: `process.rlimits`: unknown type {} (expected RLIMIT_NOFILE, RLIMIT_CORE, ...)",
                    limit.kind
                )
            })?;
            if limit.soft > limit.hard {
                return Err(format!(
                    "{file}: `process.rlimits`: {} soft limit {} is above its hard limit {}",
                    limit.kind, limit.soft, limit.hard
                ));
            }
            Ok((resource, limit.soft, limit.hard))
        })
        .collect::<Result<_, String>>()?;
    for variable in &process.env {
        if !variable.contains('=') {
            return Err(format!(
                "{file}: `process.env` entry `{variable}` is not NAME=VALUE"
            ));
        }
    }
    Ok(ProcessPlan {
        args: process.args,
        env: process.env,
        cwd,
        uid: process.user.uid,
        gid: process.user.gid,
        additional_gids: process.user.additional_gids,
        umask: process.user.umask,
        rlimits,
        no_new_privileges: process.no_new_privileges,
        terminal: process.terminal,
        console_size: process.console_size,
    })
}

/// Checks the text of a process file (`rvisor exec --process FILE`, runtime-spec's `process`
/// object, as engines write it) and makes the plan for it.
pub fn plan_process_file(text: &str) -> Result<ProcessPlan, String> {
    let file = "--process file";
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("{file} is not valid JSON: {e}"))?;
    check_fields(file, "process", &value)?;
    let process: Process = serde_json::from_value(value)
        .map_err(|e| format!("{file} does not follow the OCI runtime spec: {e}"))?;
    plan_process(file, process)
}

/// The mount options without a value some mount accepts (`features` lists them).
pub const MOUNT_OPTIONS: &[&str] = &[
    "bind",
    "rbind",
    "ro",
    "rw",
    "nosuid",
    "nodev",
    "noexec",
    "relatime",
    "strictatime",
    "newinstance",
    "private",
    "rprivate",
    "slave",
    "rslave",
];

/// The mount options every mount may carry because rVisor does what they ask anyway:
/// every container mount is private to it (no propagation either way).
const PROPAGATION: &[&str] = &["private", "rprivate", "slave", "rslave"];

/// What `mounts[index]` becomes: `None` for a filesystem rVisor mounts by itself where the
/// root has the directory (`/proc`, `/sys`, `/dev`, `/dev/pts`), a volume or a tmpfs
/// instance, or an error naming what cannot be honoured.
fn plan_mount(bundle: &Path, index: usize, mount: &Mount) -> Result<Option<MountSpec>, String> {
    let what = format!(
        "config.json: `mounts[{index}]` ({} on {})",
        if mount.kind.is_empty() {
            "bind"
        } else {
            &mount.kind
        },
        mount.destination
    );
    if !mount.destination.starts_with('/') {
        return Err(format!("{what}: the destination must be an absolute path"));
    }
    let refuse_options = |allowed: &dyn Fn(&str) -> bool| -> Result<(), String> {
        match mount
            .options
            .iter()
            .find(|o| !allowed(o) && !PROPAGATION.contains(&o.as_str()))
        {
            Some(option) => Err(format!(
                "{what}: option `{option}` is not supported: remove it"
            )),
            None => Ok(()),
        }
    };
    let flag_option = |o: &str| matches!(o, "nosuid" | "nodev" | "noexec");
    let is_bind = mount.kind == "bind" || mount.options.iter().any(|o| o == "bind" || o == "rbind");
    match (mount.kind.as_str(), mount.destination.as_str()) {
        // rVisor's own procfs, sysfs and devpts, always nosuid,nodev,noexec (sysfs
        // read-only too).
        ("proc", "/proc") | ("sysfs", "/sys") => {
            refuse_options(&|o| flag_option(o) || o == "ro" || o == "relatime")?;
            Ok(None)
        }
        ("devpts", "/dev/pts") => {
            refuse_options(&|o| {
                flag_option(o)
                    || o == "newinstance"
                    || ["ptmxmode=", "mode=", "gid="]
                        .iter()
                        .any(|p| o.starts_with(p))
            })?;
            Ok(None)
        }
        // rVisor's devfs: the standard devices only, as runc's default device list.
        ("tmpfs", "/dev") => {
            refuse_options(&|o| {
                flag_option(o)
                    || o == "strictatime"
                    || ["mode=", "size="].iter().any(|p| o.starts_with(p))
            })?;
            Ok(None)
        }
        ("tmpfs", _) => {
            refuse_options(&|o| {
                flag_option(o)
                    || o == "ro"
                    || o == "rw"
                    || ["size=", "nr_inodes=", "nr_blocks=", "mode=", "uid=", "gid="]
                        .iter()
                        .any(|p| o.starts_with(p))
            })?;
            let options: Vec<&str> = mount
                .options
                .iter()
                .map(String::as_str)
                .filter(|o| !PROPAGATION.contains(o))
                .collect();
            Ok(Some(MountSpec::Tmpfs {
                target: mount.destination.clone(),
                options: options.join(","),
            }))
        }
        ("bind" | "none" | "", _) if is_bind => {
            refuse_options(&|o| flag_option(o) || matches!(o, "bind" | "rbind" | "ro" | "rw"))?;
            let source = bundle.join(&mount.source);
            if !source.is_dir() {
                return Err(format!(
                    "{what}: the source {} is not a directory (rVisor binds directories only)",
                    source.display()
                ));
            }
            let mut flags = 0;
            for option in &mount.options {
                match option.as_str() {
                    "nosuid" => flags |= MS_NOSUID,
                    "nodev" => flags |= MS_NODEV,
                    "noexec" => flags |= MS_NOEXEC,
                    _ => {}
                }
            }
            Ok(Some(MountSpec::Volume {
                host: source.to_string_lossy().into_owned(),
                target: mount.destination.clone(),
                read_only: mount.options.iter().any(|o| o == "ro"),
                flags,
            }))
        }
        _ => Err(format!(
            "{what}: rVisor mounts proc on /proc, sysfs on /sys, devpts on /dev/pts, its devfs \
             for a tmpfs on /dev, tmpfs anywhere and bind mounts of host directories; remove \
             this mount from config.json"
        )),
    }
}

/// The container's network namespace from `linux.namespaces`: none listed is the caller's
/// (as runc shares a namespace it is not asked to make), listed without a path a new one with
/// loopback up, with a path that one. pid, ipc, uts, mount and cgroup are rVisor's own in
/// every container.
fn plan_network(namespaces: Vec<Namespace>) -> Result<Network, String> {
    let mut network = Network::Host;
    for namespace in namespaces {
        match namespace.kind.as_str() {
            "network" if namespace.path.is_empty() => network = Network::None,
            "network" => network = Network::Namespace(namespace.path),
            "pid" | "ipc" | "uts" | "mount" | "cgroup" if namespace.path.is_empty() => {}
            "pid" | "ipc" | "uts" | "mount" | "cgroup" => {
                return Err(format!(
                    "config.json: `linux.namespaces`: the {} namespace at {}: every rVisor \
                     container has its own {} namespace, which cannot be shared; remove the path",
                    namespace.kind, namespace.path, namespace.kind
                ))
            }
            "user" => {
                return Err(
                    "config.json: `linux.namespaces`: user namespaces are not supported by \
                     rVisor yet; remove the user namespace (and linux.uidMappings/gidMappings)"
                        .into(),
                )
            }
            other => {
                return Err(format!(
                    "config.json: `linux.namespaces`: the {other} namespace is not supported; remove it"
                ))
            }
        }
    }
    Ok(network)
}

/// The `config.json` `rvisor spec` writes: runc's default without what rVisor refuses today
/// (capabilities, masked and read-only paths, the device cgroup, mqueue and cgroup mounts).
pub fn default_spec() -> Value {
    json!({
        "ociVersion": OCI_VERSION,
        "process": {
            "terminal": true,
            "user": { "uid": 0, "gid": 0 },
            "args": ["sh"],
            "env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm"
            ],
            "cwd": "/",
            "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }],
            "noNewPrivileges": true
        },
        "root": { "path": "rootfs", "readonly": true },
        "hostname": "rvisor",
        "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc" },
            {
                "destination": "/dev",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]
            },
            {
                "destination": "/dev/pts",
                "type": "devpts",
                "source": "devpts",
                "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]
            },
            {
                "destination": "/sys",
                "type": "sysfs",
                "source": "sysfs",
                "options": ["nosuid", "noexec", "nodev", "ro"]
            }
        ],
        "linux": {
            "namespaces": [
                { "type": "pid" },
                { "type": "network" },
                { "type": "ipc" },
                { "type": "uts" },
                { "type": "mount" }
            ]
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rvisor-config-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("rootfs")).unwrap();
        std::fs::create_dir_all(dir.join("data")).unwrap();
        dir
    }

    fn plan_of(config: &Value) -> Result<Plan, String> {
        plan(&bundle(), &config.to_string())
    }

    #[test]
    fn the_default_spec_is_accepted() {
        let plan = plan_of(&default_spec()).unwrap();
        assert_eq!(plan.root, bundle().join("rootfs").canonicalize().unwrap());
        assert!(plan.read_only);
        assert_eq!(plan.hostname.as_deref(), Some("rvisor"));
        assert!(
            plan.mounts.is_empty(),
            "proc, devfs, devpts and sysfs are rVisor's own"
        );
        assert_eq!(plan.network, Network::None);
        let process = plan.process;
        assert_eq!(process.args, ["sh"]);
        assert_eq!(process.cwd, "/");
        assert!(process.terminal && process.no_new_privileges);
        assert_eq!(
            process.rlimits,
            [(libc::RLIMIT_NOFILE as libc::c_int, 1024, 1024)]
        );
    }

    /// A config as runc's documentation shows one, with the fields rVisor honours.
    #[test]
    fn process_fields_are_translated() {
        let mut config = default_spec();
        config["process"] = json!({
            "terminal": false,
            "consoleSize": { "height": 24, "width": 80 },
            "user": { "uid": 1000, "gid": 100, "umask": 18, "additionalGids": [5, 6] },
            "args": ["/bin/echo", "hi"],
            "env": ["A=1"],
            "cwd": "/tmp",
            "rlimits": [{ "type": "RLIMIT_CORE", "hard": 0, "soft": 0 }],
            "noNewPrivileges": false
        });
        config["annotations"] = json!({ "org.example.key": "value" });
        let plan = plan_of(&config).unwrap();
        let p = plan.process;
        assert_eq!((p.uid, p.gid, p.umask), (1000, 100, Some(18)));
        assert_eq!(p.additional_gids, [5, 6]);
        assert_eq!(p.env, ["A=1"]);
        assert_eq!(p.cwd, "/tmp");
        assert_eq!(p.rlimits, [(libc::RLIMIT_CORE as libc::c_int, 0, 0)]);
        assert!(!p.terminal && !p.no_new_privileges);
        assert_eq!(plan.annotations["org.example.key"], "value");
    }

    #[test]
    fn mounts_become_volumes_and_tmpfs() {
        let mut config = default_spec();
        config["mounts"] = json!([
            { "destination": "/data", "type": "bind", "source": "data", "options": ["rbind", "ro", "nosuid"] },
            { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "noexec", "rprivate"] }
        ]);
        let plan = plan_of(&config).unwrap();
        match &plan.mounts[..] {
            [MountSpec::Volume {
                host,
                target,
                read_only: true,
                flags,
            }, MountSpec::Tmpfs {
                target: tmp,
                options,
            }] => {
                assert_eq!(host, &bundle().join("data").to_string_lossy());
                assert_eq!(target, "/data");
                assert_eq!(*flags, MS_NOSUID);
                assert_eq!(tmp, "/tmp");
                assert_eq!(options, "size=1m,noexec");
            }
            other => panic!("unexpected mounts {other:?}"),
        }
    }

    #[test]
    fn namespaces_pick_the_network() {
        let mut config = default_spec();
        config["linux"]["namespaces"] = json!([{ "type": "network", "path": "/run/netns/a" }]);
        assert_eq!(
            plan_of(&config).unwrap().network,
            Network::Namespace("/run/netns/a".into())
        );
        config["linux"]["namespaces"] = json!([{ "type": "pid" }]);
        assert_eq!(plan_of(&config).unwrap().network, Network::Host);
        config["linux"]["namespaces"] = json!([{ "type": "user" }]);
        let err = plan_of(&config).unwrap_err();
        assert!(err.contains("user namespaces are not supported"), "{err}");
    }

    #[test]
    fn what_is_not_honoured_is_refused_by_name() {
        let cases = [
            (
                "/process/capabilities",
                json!({ "bounding": ["CAP_KILL"] }),
                "`process.capabilities`",
            ),
            (
                "/linux/resources",
                json!({ "memory": { "limit": 1 } }),
                "`linux.resources`",
            ),
            (
                "/hooks",
                json!({ "prestart": [{ "path": "/bin/true" }] }),
                "`hooks`",
            ),
            ("/domainname", json!("example"), "`domainname`"),
        ];
        for (pointer, value, name) in cases {
            let mut config = default_spec();
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            config.pointer_mut(parent).unwrap()[key] = value;
            let err = plan_of(&config).unwrap_err();
            assert!(err.contains(name), "{err}");
        }
        let mut config = default_spec();
        config["mounts"] =
            json!([{ "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue" }]);
        let err = plan_of(&config).unwrap_err();
        assert!(err.contains("`mounts[0]` (mqueue on /dev/mqueue)"), "{err}");
        config["mounts"] =
            json!([{ "destination": "/tmp", "type": "tmpfs", "options": ["huge=always"] }]);
        let err = plan_of(&config).unwrap_err();
        assert!(err.contains("option `huge=always`"), "{err}");
    }

    #[test]
    fn every_listed_mount_option_is_accepted_somewhere() {
        let mounts = [
            ("bind", "/data", "data"),
            ("tmpfs", "/tmp", "tmpfs"),
            ("tmpfs", "/dev", "tmpfs"),
            ("proc", "/proc", "proc"),
            ("devpts", "/dev/pts", "devpts"),
        ];
        for option in MOUNT_OPTIONS {
            let accepted = mounts.iter().any(|(kind, destination, source)| {
                let mount = Mount {
                    destination: destination.to_string(),
                    kind: kind.to_string(),
                    source: source.to_string(),
                    options: vec![option.to_string()],
                };
                plan_mount(&bundle(), 0, &mount).is_ok()
            });
            assert!(accepted, "{option}");
        }
    }

    #[test]
    fn empty_fields_ask_for_nothing() {
        let mut config = default_spec();
        config["linux"]["resources"] = json!({});
        config["linux"]["maskedPaths"] = json!([]);
        config["process"]["apparmorProfile"] = json!("");
        assert!(plan_of(&config).is_ok());
    }
}
