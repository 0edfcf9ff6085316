//! Project tasks: `cargo xtask <command>`.
//!
//! - `demo`: setup, then a container in a guest (the README's first command).
//! - `test`: setup, then every test (the README's second command, and CI's).
//! - `setup`: install what building and testing need (idempotent).
//! - `build-ko [--kdir DIR]`: build rvisor.ko (hardened nightly Rust + the C shim).
//! - `load [--ko FILE]`: insmod on this machine and check /dev/rvisor.
//! - `vm [--kernel SERIES] [--smp N] [--root debian] [-- CMD...]`: boot a guest with the module
//!   loaded (and the Debian root at /debian); run CMD.
//! - `test-ko [--kernel SERIES] [--smp N] [--case TEXT]...`: the in-VM suite, on every
//!   supported kernel.
//! - `bench [--kernel SERIES]`: instructions per operation under qemu -icount.
//! - `syscalls-doc [--check]`: write (or check) docs/SYSCALLS.md from the syscall tables.

mod all;
mod bench;
mod build;
mod debian;
mod guest;
mod kernels;
mod load;
mod setup;
mod syscalls_doc;
mod testko;
mod util;
mod vm;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>
  demo                          setup, build rvisor.ko, boot a guest, run a container
  test                          setup, then every test (host crates, no_std builds, in-VM suite)
  setup                         install packages, Rust targets, the Debian kernels (idempotent)
  build-ko [--kdir DIR]         build rvisor.ko (default: for every supported kernel)
  load [--ko FILE]              insmod rvisor.ko on this machine and check /dev/rvisor
  vm [--kernel 6.1|6.12] [--smp N] [--root debian] [-- CMD...]
                                boot a guest with rvisor loaded; run CMD (or a shell);
                                --root debian: the Debian root at /debian (built once)
  test-ko [--kernel 6.1|6.12] [--smp N] [--case TEXT]...
                                run the in-VM test suite (default: every supported kernel and
                                case, 6.12 with 4 CPUs; --case: only cases whose name
                                contains TEXT)
  bench [--kernel 6.1|6.12]     instructions per operation, native vs contained
  syscalls-doc [--check]        write (or check) docs/SYSCALLS.md from the syscall tables";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match command.as_str() {
        "demo" => all::demo(rest),
        "test" => all::test(rest),
        "setup" => setup::run(rest),
        "build-ko" => build::run(rest),
        "load" => load::run(rest),
        "vm" => vm::run(rest),
        "test-ko" => testko::run(rest),
        "bench" => bench::run(rest),
        "syscalls-doc" => syscalls_doc::run(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(0)
        }
        other => Err(format!("unknown command `{other}`\n{USAGE}")),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}
