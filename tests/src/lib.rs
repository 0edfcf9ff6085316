//! rVisor's in-VM end-to-end suite.
//!
//! Each [`Case`] is a shell script run in the guest (busybox, rvisor.ko, the static `rvisor` CLI
//! and the static programs of `tests/guest/`), and a check of what the guest printed and the
//! status it exited with. `cargo xtask test-ko` boots each supported kernel once, runs every case
//! in order (the first one loads the module) and fails on any failed check or on any kernel bug
//! line in the guest log.
//!
//! Most cases are differential: a script sources [`GUEST_LIB`] and runs the same command natively
//! (`chroot /rootfs ...`) and in a container over the same root (`rvisor run --root /rootfs ...`);
//! [`Outcome::same_as_native`] then demands the same output and status from every contained run,
//! and a native output that shows the command really ran (its marker lines), so no expected
//! output is typed by hand where Linux itself can give it.

use std::path::{Path, PathBuf};

mod cases;
mod oci;
mod rootfs;

pub use cases::cases;
pub use rootfs::SUITE;

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

/// The shell helpers the cases' scripts source (`. /tests/lib.sh`).
pub const GUEST_LIB: &str = include_str!("../guest/lib.sh");

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

/// Markers `lib.sh`'s `side` prints around one run's output.
pub const SIDE_BEGIN: &str = "@@SIDE ";
pub const SIDE_END: &str = "@@SIDE-END ";

/// One run of a command inside a case, as `lib.sh`'s `side` printed it: `native`, `contained`...
#[derive(Debug, PartialEq, Eq)]
pub struct Side {
    pub name: String,
    pub status: i32,
    /// Its stdout and stderr together, byte for byte (no final newline if it printed none).
    pub output: String,
}

impl Side {
    fn describe(&self) -> String {
        format!(
            "{} (status {}):\n  {}",
            self.name,
            self.status,
            self.output.lines().collect::<Vec<_>>().join("\n  ")
        )
    }
}

impl Outcome {
    /// The runs the script printed with `side`, in order.
    pub fn sides(&self) -> Result<Vec<Side>, String> {
        let mut sides = Vec::new();
        let mut rest = self.output.as_str();
        while let Some(at) = rest.find(SIDE_BEGIN) {
            let after = &rest[at + SIDE_BEGIN.len()..];
            let (header, body) = after.split_once('\n').unwrap_or((after, ""));
            let header = header.trim_end_matches('@');
            let (name, status) = header
                .rsplit_once(' ')
                .and_then(|(n, s)| Some((n, s.parse::<i32>().ok()?)))
                .ok_or_else(|| format!("bad side header `{header}`"))?;
            let end = format!("{SIDE_END}{name}@@");
            let Some(len) = body.find(&end) else {
                return Err(format!(
                    "the output of the run `{name}` never ended:\n{}",
                    self.output
                ));
            };
            sides.push(Side {
                name: name.to_owned(),
                status,
                output: body[..len].to_owned(),
            });
            rest = &body[len + end.len()..];
        }
        Ok(sides)
    }

    /// `Ok` if the script ended with status 0, printed a `native` run whose output has every
    /// line of `markers` (so an empty or broken run cannot pass), at least one other run, and
    /// every other run printed exactly what the native one printed and exited with its status.
    /// An `Err` shows the difference.
    pub fn same_as_native(&self, markers: &[&str]) -> Result<(), String> {
        let sides = self.sides()?;
        let native = sides
            .iter()
            .find(|s| s.name == "native")
            .ok_or_else(|| format!("no native run in:\n{}", self.output))?;
        let others: Vec<&Side> = sides.iter().filter(|s| s.name != "native").collect();
        if others.is_empty() {
            return Err(format!("no contained run in:\n{}", self.output));
        }
        let missing: Vec<&&str> = markers
            .iter()
            .filter(|m| !native.output.lines().any(|l| l == **m))
            .collect();
        if native.output.trim().is_empty() || !missing.is_empty() {
            return Err(format!(
                "the native run did not get to its end (no line {missing:?}): {}",
                native.describe()
            ));
        }
        let mut wrong = Vec::new();
        for other in others {
            if other.status != native.status {
                wrong.push(format!(
                    "{}: status {} (native {})",
                    other.name, other.status, native.status
                ));
            }
            if other.output != native.output {
                wrong.push(format!(
                    "{} printed other output (- native, + {}):\n{}",
                    other.name,
                    other.name,
                    diff(&native.output, &other.output)
                ));
            }
        }
        if let Err(why) = self.status_is(0) {
            wrong.push(format!("the case's script: {why}"));
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(wrong.join("\n"))
        }
    }

    /// The whitespace-separated `key VALUE` pairs: the value after the first word `key` on the
    /// first line that has it.
    pub fn value_after(&self, key: &str) -> Option<&str> {
        self.output.lines().find_map(|line| {
            let mut words = line.split_whitespace();
            while let Some(word) = words.next() {
                if word == key {
                    return words.next();
                }
            }
            None
        })
    }
}

/// A line diff of `a` against `b`: lines only in `a` start with `-`, only in `b` with `+`, common
/// ones with a space (at most two around each change; `...` for the rest); 150 lines at most.
pub fn diff(a: &str, b: &str) -> String {
    let (x, y): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    if x == y {
        return "  (the same lines: they differ in the final newline)".into();
    }
    // Longest common subsequence, from the ends; outputs too long for it get both in full.
    if x.len().saturating_mul(y.len()) > 4_000_000 {
        return format!("- {}\n+ {}", x.join("\n- "), y.join("\n+ "));
    }
    let mut lcs = vec![vec![0u32; y.len() + 1]; x.len() + 1];
    for i in (0..x.len()).rev() {
        for j in (0..y.len()).rev() {
            lcs[i][j] = if x[i] == y[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < x.len() || j < y.len() {
        if i < x.len() && j < y.len() && x[i] == y[j] {
            ops.push((' ', x[i]));
            i += 1;
            j += 1;
        } else if i < x.len() && (j == y.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', x[i]));
            i += 1;
        } else {
            ops.push(('+', y[j]));
            j += 1;
        }
    }
    let near_change = |k: usize| {
        ops[k.saturating_sub(2)..(k + 3).min(ops.len())]
            .iter()
            .any(|(op, _)| *op != ' ')
    };
    const MAX_LINES: usize = 150;
    let mut out = Vec::new();
    let mut skipped = false;
    for (k, (op, line)) in ops.iter().enumerate() {
        if out.len() == MAX_LINES {
            let changes = ops[k..].iter().filter(|(op, _)| *op != ' ').count();
            out.push(format!("  ... ({changes} more changed lines)"));
            break;
        }
        if near_change(k) {
            out.push(format!("{op} {line}"));
            skipped = false;
        } else if !skipped {
            out.push("  ...".into());
            skipped = true;
        }
    }
    out.join("\n")
}

/// The scripts of the busybox suite under `tests_dir/suite`, installed in the container root at
/// `/suite`.
pub fn suite_scripts(tests_dir: &Path) -> Vec<PathBuf> {
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(tests_dir.join("suite"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sh"))
        .collect();
    scripts.sort();
    scripts
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

    fn outcome(output: &str, status: i32) -> Outcome {
        Outcome {
            output: output.into(),
            status,
        }
    }

    #[test]
    fn sides_are_split_by_markers_byte_for_byte() {
        let o = outcome(
            "noise\n@@SIDE native 0@@\na\nb\n@@SIDE-END native@@\n@@SIDE contained 3@@\nno newline@@SIDE-END contained@@\n@@SIDE empty 1@@\n@@SIDE-END empty@@",
            0,
        );
        let sides = o.sides().unwrap();
        let got: Vec<(&str, i32, &str)> = sides
            .iter()
            .map(|s| (s.name.as_str(), s.status, s.output.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("native", 0, "a\nb\n"),
                ("contained", 3, "no newline"),
                ("empty", 1, "")
            ]
        );
        assert!(outcome("@@SIDE native 0@@\nnever ends", 0).sides().is_err());
    }

    fn two_sides(native: (&str, i32), contained: (&str, i32)) -> Outcome {
        outcome(
            &format!(
                "@@SIDE native {}@@\n{}@@SIDE-END native@@\n@@SIDE contained {}@@\n{}@@SIDE-END contained@@",
                native.1, native.0, contained.1, contained.0
            ),
            0,
        )
    }

    #[test]
    fn same_as_native_needs_equal_runs_and_a_finished_native_one() {
        let done = ["done"];
        assert!(two_sides(("x\ndone\n", 3), ("x\ndone\n", 3))
            .same_as_native(&done)
            .is_ok());
        // Different output, different status, a missing final newline.
        let err = two_sides(("x\ndone\n", 0), ("y\ndone\n", 0))
            .same_as_native(&done)
            .unwrap_err();
        assert!(err.contains("- x") && err.contains("+ y"), "{err}");
        assert!(two_sides(("done\n", 0), ("done\n", 1))
            .same_as_native(&done)
            .is_err());
        assert!(two_sides(("done\n", 0), ("done", 0))
            .same_as_native(&done)
            .is_err());
        // Equal but empty, or without the marker: the native run did not really run.
        assert!(two_sides(("", 0), ("", 0)).same_as_native(&done).is_err());
        assert!(two_sides(("x\n", 0), ("x\n", 0))
            .same_as_native(&done)
            .is_err());
        // One side only, or a failed script.
        assert!(outcome("@@SIDE native 0@@\ndone\n@@SIDE-END native@@", 0)
            .same_as_native(&done)
            .is_err());
        let mut failed = two_sides(("done\n", 0), ("done\n", 0));
        failed.status = 1;
        assert!(failed.same_as_native(&done).is_err());
    }

    #[test]
    fn diff_marks_removed_and_added_lines_with_context() {
        let a = "1\n2\n3\n4\n5\n6\n7\n8\n";
        let b = "1\n2\n3\n4\n5\nsix\n7\n8\n";
        assert_eq!(diff(a, b), "  ...\n  4\n  5\n- 6\n+ six\n  7\n  8");
        assert!(diff("a\n", "a").contains("final newline"));
    }

    #[test]
    fn suite_scripts_have_a_case_and_print_their_marker_last() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let scripts: Vec<String> = suite_scripts(dir)
            .iter()
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .collect();
        assert_eq!(scripts, SUITE, "tests/suite/*.sh and rootfs::SUITE differ");
        let names: Vec<&str> = cases().iter().map(|c| c.name).collect();
        for name in SUITE {
            assert!(names.contains(&format!("suite-{name}").as_str()));
            let text = std::fs::read_to_string(dir.join(format!("suite/{name}.sh"))).unwrap();
            let marker = format!("echo \"suite {name}: done\"");
            let last_echo = text.lines().rfind(|l| l.starts_with("echo "));
            assert_eq!(last_echo, Some(marker.as_str()), "suite/{name}.sh");
            assert!(text.contains("mktemp -d /tmp/suite-"), "suite/{name}.sh");
        }
    }

    #[test]
    fn every_guest_program_has_a_source() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let names: Vec<String> = guest_programs(dir)
            .iter()
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .collect();
        for needed in [
            "bench", "block", "cow", "ids", "ioctl", "refuse", "signals", "orphan",
        ] {
            assert!(
                names.iter().any(|n| n == needed),
                "tests/guest/{needed}.c is missing"
            );
        }
    }
}
