//! `cargo xtask syscalls-doc [--check]`: writes `docs/SYSCALLS.md`, every x86-64 syscall and
//! what rVisor does with it, from the tables themselves:
//!
//! - the kernel module's routing table (`kernel-loader/src/syscall/table.rs`): what a
//!   contained task's call meets in the gate today;
//! - `rvisor_linux_syscall::table::SERVED`: what the application kernel serves;
//! - what covers each call: the differential harness's record
//!   (`target/differential-coverage.txt`, written by `cargo test`), the in-VM cases'
//!   `covers` lists, and the unit tests of `rvisor-linux-syscall` that call its handler (or
//!   declare its number, `const FORK: u32 = 57;`, for `Syscall::run`).
//!
//! With `--check` nothing is written: the command fails if the file is not what it would
//! write (`cargo xtask test` runs it after the host tests).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use crate::util::{self, step};

const DOC: &str = "docs/SYSCALLS.md";
const ROUTING_TABLE: &str = "kernel-loader/src/syscall/table.rs";
const COVERAGE: &str = "target/differential-coverage.txt";
const SYSCALL_CRATE_SOURCES: &str = "rvisor-linux-syscall/src";

pub fn run(args: &[String]) -> Result<u8, String> {
    let mut args = args.to_vec();
    let check = match args.iter().position(|arg| arg == "--check") {
        Some(index) => {
            args.remove(index);
            true
        }
        None => false,
    };
    util::no_more(&args)?;
    let root = util::root();
    let text = render(&root)?;
    let path = root.join(DOC);
    if check {
        step(&format!("{DOC} is up to date"));
        let current = fs::read_to_string(&path).unwrap_or_default();
        if current != text {
            return Err(format!(
                "{DOC} is out of date: run `cargo test --workspace` then `cargo xtask syscalls-doc`, and commit it"
            ));
        }
        return Ok(0);
    }
    fs::create_dir_all(root.join("docs")).map_err(|e| format!("creating docs/: {e}"))?;
    fs::write(&path, text).map_err(|e| format!("writing {DOC}: {e}"))?;
    println!("wrote {}", path.display());
    Ok(0)
}

/// One line of the module's routing table: `nr name => Route,`.
struct Routed {
    nr: u32,
    name: String,
    route: String,
}

fn routing_table(root: &Path) -> Result<Vec<Routed>, String> {
    let path = root.join(ROUTING_TABLE);
    let source =
        fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let mut rows = Vec::new();
    for line in source.lines() {
        let Some((left, right)) = line.split_once("=>") else {
            continue;
        };
        let mut words = left.split_whitespace();
        let (Some(nr), Some(name), None) = (words.next(), words.next(), words.next()) else {
            continue;
        };
        let Ok(nr) = nr.parse() else { continue };
        let route = right.trim().trim_end_matches(',');
        let route = route.split('(').next().unwrap_or(route).trim().to_string();
        rows.push(Routed {
            nr,
            name: name.to_string(),
            route,
        });
    }
    if rows.len() < 300 {
        return Err(format!(
            "{ROUTING_TABLE}: only {} routes parsed",
            rows.len()
        ));
    }
    Ok(rows)
}

fn module_route(route: &str) -> &'static str {
    match route {
        "Fast" => "served in the gate",
        "Rvisor" => "served",
        "Screen" => "passed, arguments screened",
        "Pass" => "passed",
        _ => "refused (ENOSYS)",
    }
}

/// Call name → what covers it.
fn coverage(root: &Path) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let mut covered: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    if let Ok(text) = fs::read_to_string(root.join(COVERAGE)) {
        for line in text.lines() {
            let Some((name, cases)) = line.split_once([':', '\t']) else {
                continue;
            };
            let count = cases
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|case| !case.is_empty())
                .count();
            if count > 0 {
                covered
                    .entry(name.trim().to_string())
                    .or_default()
                    .insert(format!("differential ({count})"));
            }
        }
    }
    for case in tests::cases() {
        for name in case.covers {
            covered
                .entry(name.to_string())
                .or_default()
                .insert(format!("in-VM `{}`", case.name));
        }
    }
    for (file, tests_text) in unit_test_sources(&root.join(SYSCALL_CRATE_SOURCES))? {
        for call in rvisor_linux_syscall::table::SERVED {
            // A test calls the handler, or names the call's number for `Syscall::run`.
            let number = format!("const {}: u32 = {};", call.name.to_uppercase(), call.nr);
            if tests_text.contains(&format!("sys_{}(", call.name)) || tests_text.contains(&number) {
                covered
                    .entry(call.name.to_string())
                    .or_default()
                    .insert(format!("unit `{file}`"));
            }
        }
    }
    Ok(covered)
}

/// The test modules of the crate's sources: (file relative to `src`, text from `#[cfg(test)]`).
fn unit_test_sources(dir: &Path) -> Result<Vec<(String, String)>, String> {
    let mut found = Vec::new();
    let mut pending: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let entries = fs::read_dir(&next).map_err(|e| format!("{}: {e}", next.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let text = fs::read_to_string(&path).map_err(|e| e.to_string())?;
                // A `tests.rs` is a test module from its first line.
                let whole_file = path.file_name().is_some_and(|name| name == "tests.rs");
                let start = if whole_file {
                    Some(0)
                } else {
                    text.find("#[cfg(test)]")
                };
                if let Some(start) = start {
                    let relative = path.strip_prefix(dir).unwrap_or(&path);
                    found.push((relative.display().to_string(), text[start..].to_string()));
                }
            }
        }
    }
    found.sort();
    Ok(found)
}

fn render(root: &Path) -> Result<String, String> {
    let routes = routing_table(root)?;
    let served: BTreeMap<u32, &str> = rvisor_linux_syscall::table::SERVED
        .iter()
        .map(|call| (call.nr, call.name))
        .collect();
    let covered = coverage(root)?;

    let mut by_route: BTreeMap<&str, usize> = BTreeMap::new();
    for row in &routes {
        *by_route.entry(module_route(&row.route)).or_default() += 1;
    }
    let mut out = String::new();
    out.push_str(
        "# System calls\n\n\
         Generated by `cargo xtask syscalls-doc` from the tables themselves; do not edit.\n\n\
         Every x86-64 syscall a contained task can make, and:\n\n\
         - **module**: what the call meets in the kernel module \
         (`kernel-loader/src/syscall/table.rs`): *served in the gate* (answered in the ftrace \
         callback from the caller's record), *served* (by the application kernel, in the \
         module), *passed* (the vetted list the host runs: anonymous memory, signals to self, \
         time, futexes, TLS, scheduling of self), *passed, arguments screened*, *refused \
         (ENOSYS)* (logged, rate-limited);\n\
         - **application kernel**: served by `rvisor-linux-syscall` \
         (`rvisor-linux-syscall/src/table.rs`), the same code in the module and on the host \
         HAL in `cargo test`;\n\
         - **covered by**: the differential harness against native Linux (number of cases), \
         the in-VM cases that observe it, the unit tests that call its handler.\n\n",
    );
    out.push_str("| module route | calls |\n|---|---|\n");
    for (route, count) in &by_route {
        out.push_str(&format!("| {route} | {count} |\n"));
    }
    out.push_str(&format!(
        "| served by the application kernel | {} |\n\n",
        served.len()
    ));
    out.push_str(
        "| nr | name | module | application kernel | covered by |\n|---|---|---|---|---|\n",
    );
    for row in &routes {
        let app = if served.contains_key(&row.nr) {
            "served"
        } else {
            ""
        };
        let covers = covered
            .get(&row.name)
            .map(|set| set.iter().cloned().collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} |\n",
            row.nr,
            row.name,
            module_route(&row.route),
            app,
            covers
        ));
    }
    // The module's table and rVisor's agree: a call rVisor serves is served in the module
    // (by rVisor, or from the caller's record in the gate), and the module sends rVisor only
    // calls it serves.
    for (nr, name) in &served {
        let route = routes
            .iter()
            .find(|row| row.nr == *nr)
            .map(|row| row.route.as_str());
        if !matches!(route, Some("Rvisor" | "Fast")) {
            return Err(format!(
                "rvisor-linux-syscall serves {name} ({nr}), which {ROUTING_TABLE} routes as {route:?}: make it `Rvisor`"
            ));
        }
    }
    for row in routes.iter().filter(|row| row.route == "Rvisor") {
        if !served.contains_key(&row.nr) {
            return Err(format!(
                "{ROUTING_TABLE} sends {} ({}) to rVisor, which does not serve it",
                row.name, row.nr
            ));
        }
    }
    Ok(out)
}
