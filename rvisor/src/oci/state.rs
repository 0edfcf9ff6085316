//! What the OCI commands remember of a container, in `STATE_DIR/ID/state.json` (written
//! atomically: a new file renamed over the old), and the state runc prints for it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::config::OCI_VERSION;

/// One container of the OCI commands.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Record {
    pub id: String,
    /// The container's id in rvisor.ko.
    pub rvisor_id: u32,
    /// The host pid of the container's first process.
    pub pid: i32,
    /// That process's start time (`/proc/PID/stat` field 22): a pid reused by another process
    /// after it ended does not make the container look alive.
    pub pid_start_time: u64,
    /// `start` released the first process to run the user's program.
    pub started: bool,
    /// The value `start` sends with its signal, so that no other sender releases the process.
    pub start_token: i32,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    /// RFC 3339 with nanoseconds, UTC, as runc prints it.
    pub created: String,
    pub annotations: BTreeMap<String, String>,
}

/// runc's status names.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Stopped,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Stopped => "stopped",
        }
    }
}

/// The state as `runc state` prints it (`runc list --format json` prints an array of them):
/// the same fields in the same order.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct RuncState {
    #[serde(rename = "ociVersion")]
    pub oci_version: String,
    pub id: String,
    /// 0 once stopped.
    pub pid: i32,
    pub status: Status,
    pub bundle: String,
    pub rootfs: String,
    pub created: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    pub owner: String,
}

impl Record {
    /// The container's status now.
    pub fn status(&self) -> Status {
        if !process_alive(self.pid, self.pid_start_time) {
            Status::Stopped
        } else if self.started {
            Status::Running
        } else {
            Status::Created
        }
    }

    pub fn runc_state(&self, owner: &str) -> RuncState {
        let status = self.status();
        RuncState {
            oci_version: OCI_VERSION.into(),
            id: self.id.clone(),
            pid: if status == Status::Stopped {
                0
            } else {
                self.pid
            },
            status,
            bundle: self.bundle.to_string_lossy().into_owned(),
            rootfs: self.rootfs.to_string_lossy().into_owned(),
            created: self.created.clone(),
            annotations: self.annotations.clone(),
            owner: owner.into(),
        }
    }
}

/// The state directory of the OCI commands (`--root`) and its containers' records.
pub struct StateDir(pub PathBuf);

/// What a container id may be: runc's rule (letters, digits, `_`, `+`, `-`, `.`, not
/// starting with `.`), which also keeps it one path component.
pub fn check_id(id: &str) -> Result<(), String> {
    let valid = !id.is_empty()
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-' | '.'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid container id `{id}`: use letters, digits, _, +, - and . (not first)"
        ))
    }
}

impl StateDir {
    fn dir(&self, id: &str) -> PathBuf {
        self.0.join(id)
    }

    /// Makes the directory of a new container `id`; an error if it exists.
    pub fn claim(&self, id: &str) -> Result<(), String> {
        check_id(id)?;
        std::fs::create_dir_all(&self.0)
            .map_err(|e| format!("state directory {}: {e}", self.0.display()))?;
        match std::fs::create_dir(self.dir(id)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(format!(
                "container with id exists: {id} (delete it first: rvisor delete {id})"
            )),
            Err(e) => Err(format!("state directory {}: {e}", self.dir(id).display())),
        }
    }

    /// Forgets container `id`.
    pub fn release(&self, id: &str) -> Result<(), String> {
        match std::fs::remove_dir_all(self.dir(id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!(
                "removing the state of {id} ({}): {e}",
                self.dir(id).display()
            )),
            _ => Ok(()),
        }
    }

    /// Writes `record` atomically.
    pub fn save(&self, record: &Record) -> Result<(), String> {
        let path = self.dir(&record.id).join("state.json");
        let text = serde_json::to_string(record).map_err(|e| e.to_string())?;
        write_atomically(&path, text.as_bytes())
    }

    pub fn load(&self, id: &str) -> Result<Record, String> {
        check_id(id)?;
        let path = self.dir(id).join("state.json");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(format!(
                    "container {id} does not exist (no {}; `rvisor --root {} list` shows the containers)",
                    path.display(),
                    self.0.display()
                ))
            }
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Every container's record, by id; with the uid owning its directory.
    pub fn all(&self) -> Result<Vec<(Record, u32)>, String> {
        let entries = match std::fs::read_dir(&self.0) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(format!("state directory {}: {e}", self.0.display())),
        };
        let mut records = Vec::new();
        for entry in entries.flatten() {
            let Some(id) = entry.file_name().to_str().map(String::from) else {
                continue;
            };
            // A directory whose create has not written its record yet is not a container yet.
            if let Ok(record) = self.load(&id) {
                use std::os::unix::fs::MetadataExt;
                let uid = entry.metadata().map(|m| m.uid()).unwrap_or(0);
                records.push((record, uid));
            }
        }
        records.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        Ok(records)
    }
}

/// Writes `bytes` to `path` through a temporary file renamed over it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{file_name}.{}", std::process::id()));
    std::fs::write(&temporary, bytes)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&temporary);
            format!("writing {}: {e}", path.display())
        })
}

/// Fields 3 (state) and 22 (start time) of `/proc/PID/stat`.
fn stat_of(pid: i32) -> Option<(char, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: the rest follows its last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    let start_time = fields.nth(18)?.parse().ok()?;
    Some((state, start_time))
}

/// The start time of process `pid`, if it exists.
pub fn start_time_of(pid: i32) -> Option<u64> {
    stat_of(pid).map(|(_, start)| start)
}

/// Whether `pid` is still the process that started at `start_time`, and has not ended (a
/// zombie its parent has not reaped has ended).
pub fn process_alive(pid: i32, start_time: u64) -> bool {
    pid > 0
        && matches!(stat_of(pid), Some((state, start)) if start == start_time && state != 'Z' && state != 'X')
}

/// `time` as RFC 3339 in UTC with nanoseconds, trailing zeros dropped (Go's `RFC3339Nano`,
/// which runc prints).
pub fn rfc3339_nano(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since.as_secs();
    let (days, in_day) = (seconds / 86400, seconds % 86400);
    // Howard Hinnant's days-to-civil: the proleptic Gregorian date of a day count.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let mut text = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        in_day / 3600,
        in_day / 60 % 60,
        in_day % 60
    );
    let nanos = since.subsec_nanos();
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// `runc state` output as runc prints it (`json.MarshalIndent`, two spaces).
    const RUNC_STATE: &str = r#"{
  "ociVersion": "1.0.2",
  "id": "web",
  "pid": 4422,
  "status": "running",
  "bundle": "/bundles/web",
  "rootfs": "/bundles/web/rootfs",
  "created": "2024-03-01T10:20:30.123456789Z",
  "annotations": {
    "io.kubernetes.cri.container-type": "sandbox"
  },
  "owner": ""
}"#;

    #[test]
    fn runc_state_round_trips() {
        let state: RuncState = serde_json::from_str(RUNC_STATE).unwrap();
        assert_eq!(state.status, Status::Running);
        assert_eq!(state.pid, 4422);
        assert_eq!(serde_json::to_string_pretty(&state).unwrap(), RUNC_STATE);
    }

    #[test]
    fn runc_state_without_annotations_omits_them() {
        let text = r#"{"ociVersion":"1.0.2","id":"a","pid":0,"status":"stopped","bundle":"/b","rootfs":"/b/rootfs","created":"2024-03-01T10:20:30Z","owner":"root"}"#;
        let state: RuncState = serde_json::from_str(text).unwrap();
        assert_eq!(state.status, Status::Stopped);
        assert_eq!(serde_json::to_string(&state).unwrap(), text);
    }

    #[test]
    fn a_record_of_a_gone_process_is_stopped_with_pid_0() {
        let record = Record {
            id: "a".into(),
            rvisor_id: 3,
            pid: i32::MAX,
            pid_start_time: 1,
            started: true,
            start_token: 7,
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            created: "2024-03-01T10:20:30Z".into(),
            annotations: BTreeMap::new(),
        };
        let state = record.runc_state("root");
        assert_eq!((state.status, state.pid), (Status::Stopped, 0));
        let text = serde_json::to_string(&record).unwrap();
        assert_eq!(serde_json::from_str::<Record>(&text).unwrap(), record);
    }

    #[test]
    fn this_process_is_alive_and_created_until_started() {
        let pid = std::process::id() as i32;
        let start = start_time_of(pid).unwrap();
        assert!(process_alive(pid, start));
        assert!(
            !process_alive(pid, start + 1),
            "another process with the same pid"
        );
        let mut record = Record {
            id: "a".into(),
            rvisor_id: 1,
            pid,
            pid_start_time: start,
            started: false,
            start_token: 0,
            bundle: "/b".into(),
            rootfs: "/r".into(),
            created: String::new(),
            annotations: BTreeMap::new(),
        };
        assert_eq!(record.status(), Status::Created);
        record.started = true;
        assert_eq!(record.runc_state("").pid, pid);
        assert_eq!(record.status(), Status::Running);
    }

    #[test]
    fn times_are_go_rfc3339_nano() {
        let at = |s, n| UNIX_EPOCH + Duration::new(s, n);
        assert_eq!(rfc3339_nano(at(0, 0)), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339_nano(at(1_709_288_430, 123_456_789)),
            "2024-03-01T10:20:30.123456789Z"
        );
        assert_eq!(
            rfc3339_nano(at(951_782_400, 500_000_000)),
            "2000-02-29T00:00:00.5Z"
        );
    }

    #[test]
    fn ids_are_checked() {
        assert!(check_id("web-1.a_b+c").is_ok());
        for bad in ["", ".hidden", "a/b", "..", "a b"] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }
}
