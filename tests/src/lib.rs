//! rVisor's in-VM end-to-end suite.
//!
//! Each [`Case`] is a shell script run in the guest (busybox, rvisor.ko, the static `rvisor` CLI
//! and the static programs of `tests/guest/`), and a check of what the guest printed and the
//! status it exited with. `cargo xtask test-ko` boots each supported kernel once, runs every case
//! in order (the first one loads the module) and fails on any failed check or on any kernel bug
//! line in the guest log.

use std::path::{Path, PathBuf};

mod cases;

pub use cases::cases;

/// One end-to-end test.
pub struct Case {
    /// A short unique name (also the script's file name in the guest).
    pub name: &'static str,
    /// The script, run by busybox `sh` in the guest with a time limit.
    pub script: &'static str,
    /// The x86-64 syscalls (by name) a contained program makes and the check observes; read
    /// by `cargo xtask syscalls-doc` for its "covered by" column.
    pub covers: &'static [&'static str],
    /// Judges the outcome; `Err` says what was wrong.
    pub check: fn(&Outcome) -> Result<(), String>,
}

/// What a case printed (stdout and stderr together) and its exit status.
pub struct Outcome {
    pub output: String,
    pub status: i32,
}

impl Outcome {
    /// The output's lines.
    pub fn lines(&self) -> Vec<&str> {
        self.output.lines().collect()
    }

    /// `Ok` if the status is `status`.
    pub fn status_is(&self, status: i32) -> Result<(), String> {
        if self.status == status {
            Ok(())
        } else {
            Err(format!("exit status {} (expected {status})", self.status))
        }
    }

    /// `Ok` if the output is exactly `expected` (line by line) and the status 0.
    pub fn exactly(&self, expected: &[&str]) -> Result<(), String> {
        self.status_is(0)?;
        let got = self.lines();
        if got == expected {
            Ok(())
        } else {
            Err(format!(
                "expected lines:\n  {}\ngot:\n  {}",
                expected.join("\n  "),
                got.join("\n  ")
            ))
        }
    }

    /// `Ok` if a line equals `line`.
    pub fn has_line(&self, line: &str) -> Result<(), String> {
        if self.lines().contains(&line) {
            Ok(())
        } else {
            Err(format!(
                "no line `{line}` in:\n  {}",
                self.lines().join("\n  ")
            ))
        }
    }
}

/// The C sources of the static guest programs under `tests_dir/guest`.
pub fn guest_programs(tests_dir: &Path) -> Vec<PathBuf> {
    let mut sources: Vec<PathBuf> = std::fs::read_dir(tests_dir.join("guest"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();
    sources.sort();
    sources
}

/// Markers the guest runner prints around each case.
pub const CASE_BEGIN: &str = "@@CASE ";
pub const CASE_END: &str = "@@END ";

/// The guest script that runs every case: `/tests/cases/<name>.sh`, each under `timeout`.
pub fn runner_script(cases: &[Case], timeout_s: u32) -> String {
    let mut s = String::from("cd /tmp\n");
    for case in cases {
        s.push_str(&format!(
            "echo '{CASE_BEGIN}{name}@@'\ntimeout {timeout_s} sh /tests/cases/{name}.sh 2>&1 </dev/null\necho \"{CASE_END}{name} $?@@\"\n",
            name = case.name
        ));
    }
    s
}

/// Splits a console log into each case's outcome, by the runner's markers. A case that never
/// ended (the guest died) is missing from the result.
pub fn parse_outcomes(lines: &[String]) -> Vec<(String, Outcome)> {
    let mut out = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in lines {
        // A marker may follow console noise on the same line (a kernel message without newline).
        if let Some(rest) = line.find(CASE_BEGIN).map(|i| &line[i + CASE_BEGIN.len()..]) {
            current = Some((rest.trim_end_matches('@').to_owned(), Vec::new()));
        } else if let Some(rest) = line.find(CASE_END).map(|i| &line[i + CASE_END.len()..]) {
            let rest = rest.trim_end_matches('@');
            if let (Some((name, body)), Some((end_name, status))) =
                (current.take(), rest.rsplit_once(' '))
            {
                if name == end_name {
                    let status = status.parse().unwrap_or(-1);
                    out.push((
                        name,
                        Outcome {
                            output: body.join("\n"),
                            status,
                        },
                    ));
                }
            }
        } else if let Some((_, body)) = current.as_mut() {
            body.push(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn outcomes_are_split_by_markers() {
        let log = lines("boot noise\n@@CASE a@@\none\ntwo\n@@END a 0@@\n@@CASE b@@\n@@END b 3@@\n@@CASE c@@\nhalf");
        let got = parse_outcomes(&log);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, "a");
        assert_eq!(got[0].1.output, "one\ntwo");
        assert_eq!(got[0].1.status, 0);
        assert_eq!(got[1].0, "b");
        assert_eq!(got[1].1.status, 3);
    }

    #[test]
    fn exactly_reports_the_difference() {
        let o = Outcome {
            output: "1\n2".into(),
            status: 0,
        };
        assert!(o.exactly(&["1", "2"]).is_ok());
        assert!(o.exactly(&["1", "3"]).is_err());
        let failed = Outcome {
            output: "1\n2".into(),
            status: 1,
        };
        assert!(failed.exactly(&["1", "2"]).is_err());
    }

    #[test]
    fn case_names_are_unique_and_usable_as_file_names() {
        let all = cases();
        let mut names: Vec<&str> = all.iter().map(|c| c.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len());
        assert!(all.iter().all(|c| c
            .name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')));
    }

    #[test]
    fn every_guest_program_has_a_source() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let names: Vec<String> = guest_programs(dir)
            .iter()
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .collect();
        for needed in ["bench", "ids", "ioctl", "refuse"] {
            assert!(
                names.iter().any(|n| n == needed),
                "tests/guest/{needed}.c is missing"
            );
        }
    }
}
