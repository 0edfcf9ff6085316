//! Process calls through the dispatch table, on a [`TestMachine`].

use crate::host::CloneFlags;
use crate::testing::{poll_once, HostEvent, TestMachine, UserArena};
use crate::Syscall;
use alloc::sync::Arc;
use alloc::vec::Vec;
use kernel_hal_lkm::MmuFlags;
use linux_object::elf::{auxv, MAX_ARG_STRLEN};
use linux_object::fs::{OpenFlags, Pipe};
use linux_object::process::{ExitStatus, LinuxProcess};
use linux_object::LxError;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::task::Poll;

const CLONE: u32 = 56;
const FORK: u32 = 57;
const VFORK: u32 = 58;
const EXECVE: u32 = 59;
const EXIT: u32 = 60;
const WAIT4: u32 = 61;
const GETPID: u32 = 39;
const GETPPID: u32 = 110;
const GETTID: u32 = 186;
const EXIT_GROUP: u32 = 231;

fn errno(error: LxError) -> isize {
    -(error.errno() as isize)
}

fn thread_flags() -> usize {
    (CloneFlags::VM
        | CloneFlags::FS
        | CloneFlags::FILES
        | CloneFlags::SIGHAND
        | CloneFlags::THREAD
        | CloneFlags::SYSVSEM
        | CloneFlags::SETTLS
        | CloneFlags::PARENT_SETTID
        | CloneFlags::CHILD_CLEARTID)
        .bits() as usize
}

fn read_i32(arena: &UserArena, addr: usize) -> i32 {
    i32::from_le_bytes(arena.get_bytes(addr, 4).try_into().unwrap())
}

#[test]
fn fork_gives_a_new_pid_and_a_copy_of_the_fd_table() {
    let machine = TestMachine::new();
    let init = machine.init();
    let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
    init.files().add(reader, false).unwrap();
    init.files().add(writer, true).unwrap();
    assert_eq!(machine.run(&init, 1, FORK, [0; 6]), 2);
    let child = machine.process(2);
    assert_eq!(child.files().fds().collect::<Vec<_>>(), [0, 1]);
    assert_eq!(child.files().cloexec(1), Ok(true));
    assert_eq!(machine.run(&child, 2, GETPID, [0; 6]), 2);
    assert_eq!(machine.run(&child, 2, GETPPID, [0; 6]), 1);
    let started = machine.started();
    assert_eq!(started.len(), 1);
    assert_eq!((started[0].tid, started[0].caller), (2, 1));
    assert_eq!(started[0].exit_signal, 17);
    assert_eq!(started[0].flags, CloneFlags::empty());
    assert!(Arc::ptr_eq(&started[0].process, &child));
    // The tables are copies: closing in one leaves the other.
    child.files().close(0).unwrap();
    assert!(init.files().get(0).is_ok());
}

#[test]
fn a_clone_thread_shares_the_process_and_writes_its_tid() {
    let machine = TestMachine::new();
    let init = machine.init();
    let arena = UserArena::new(1);
    let (ptid, ctid) = (arena.alloc(4), arena.alloc(4));
    let args = [thread_flags(), 0x7000, ptid, ctid, 0x1234, 0];
    assert_eq!(machine.run(&init, 1, CLONE, args), 2);
    assert_eq!(read_i32(&arena, ptid), 2);
    assert_eq!(init.threads(), [1, 2]);
    let started = &machine.started()[0];
    assert!(Arc::ptr_eq(&started.process, &init));
    assert_eq!((started.stack, started.tls), (0x7000, 0x1234));
    assert_eq!(started.clear_child_tid, Some(ctid));
    assert_eq!(started.set_child_tid, None);
    assert_eq!(started.exit_signal, 0);
    assert_eq!(machine.run(&init, 2, GETTID, [0; 6]), 2);
    assert_eq!(machine.run(&init, 2, GETPID, [0; 6]), 1);
    // One fd table: what the thread opens the process has.
    let (reader, _) = Pipe::new_pair(OpenFlags::empty());
    init.files().add(reader, false).unwrap();
    assert_eq!(machine.run(&init, 2, EXIT, [4, 0, 0, 0, 0, 0]), 0);
    assert_eq!(init.threads(), [1]);
    assert_eq!(init.exit_status(), None);
    assert!(matches!(
        machine.events().last(),
        Some(HostEvent::ExitThread {
            pid: 1,
            tid: 2,
            status: ExitStatus::Exited(4)
        })
    ));
}

#[test]
fn clone_flags_are_checked_as_linux_checks_them_and_nothing_is_registered() {
    let machine = TestMachine::new();
    let init = machine.init();
    let child = machine.process(machine.run(&init, 1, FORK, [0; 6]) as u32);
    let cases = [
        (CloneFlags::THREAD | CloneFlags::VM, LxError::EINVAL),
        (CloneFlags::SIGHAND, LxError::EINVAL),
        (CloneFlags::NEWNS | CloneFlags::FS, LxError::EINVAL),
        (CloneFlags::NEWPID, LxError::EPERM),
        (CloneFlags::NEWNET, LxError::EPERM),
        (CloneFlags::NEWUSER, LxError::EPERM),
        (CloneFlags::PIDFD | CloneFlags::DETACHED, LxError::EINVAL),
        (
            CloneFlags::PIDFD | CloneFlags::PARENT_SETTID,
            LxError::EINVAL,
        ),
        // Nowhere to store the pidfd (parent_tid is null): undone.
        (CloneFlags::PIDFD, LxError::EFAULT),
        (
            CloneFlags::THREAD | CloneFlags::SIGHAND | CloneFlags::VM | CloneFlags::FS,
            LxError::EINVAL,
        ),
        (CloneFlags::FILES, LxError::EINVAL),
    ];
    for (flags, error) in cases {
        let args = [flags.bits() as usize | 17, 0, 0, 0, 0, 0];
        assert_eq!(
            machine.run(&child, 2, CLONE, args),
            errno(error),
            "{flags:?}"
        );
    }
    let parent = [CloneFlags::PARENT.bits() as usize | 17, 0, 0, 0, 0, 0];
    assert_eq!(machine.run(&init, 1, CLONE, parent), errno(LxError::EINVAL));
    assert_eq!(machine.container().pids(), [1, 2]);
    // From a child, CLONE_PARENT makes a sibling (pid 3 went to the clone undone for its
    // pidfd: pids are not given twice in a row, as on Linux).
    assert_eq!(machine.run(&child, 2, CLONE, parent), 4);
    assert_eq!(machine.process(4).ppid(), 1);
    // The high 32 bits of the legacy flags are ignored.
    assert_eq!(
        machine.run(&child, 2, CLONE, [(1 << 40) | 17, 0, 0, 0, 0, 0]),
        5
    );
}

#[test]
fn a_task_the_host_cannot_start_is_forgotten() {
    let machine = TestMachine::new();
    let init = machine.init();
    machine.fail_next_start(LxError::EAGAIN);
    assert_eq!(machine.run(&init, 1, FORK, [0; 6]), errno(LxError::EAGAIN));
    machine.fail_next_start(LxError::ENOMEM);
    let args = [thread_flags(), 0, 0, 0, 0, 0];
    assert_eq!(machine.run(&init, 1, CLONE, args), errno(LxError::ENOMEM));
    assert_eq!(machine.container().pids(), [1]);
    assert!(init.children().is_empty());
    assert_eq!(init.threads(), [1]);
    assert_eq!(
        machine.run(&init, 1, WAIT4, [usize::MAX, 0, 1, 0, 0, 0]),
        errno(LxError::ECHILD)
    );
}

#[test]
fn vfork_waits_until_the_child_exits() {
    let machine = TestMachine::new();
    let init = machine.init();
    let host = machine.task(1, 1);
    let call = Syscall {
        process: &init,
        tid: 1,
        host: &host,
    };
    let mut vfork = core::pin::pin!(call.run(VFORK, [0; 6]));
    assert!(poll_once(vfork.as_mut()).is_pending());
    let started = &machine.started()[0];
    assert_eq!(started.flags, CloneFlags::VFORK | CloneFlags::VM);
    assert!(poll_once(vfork.as_mut()).is_pending(), "still running");
    let child = machine.process(2);
    machine.run(&child, 2, EXIT_GROUP, [0; 6]);
    assert_eq!(poll_once(vfork.as_mut()), Poll::Ready(2));
}

#[test]
fn wait4_reaps_exit_codes_and_signals_once() {
    let machine = TestMachine::new();
    let init = machine.init();
    let arena = UserArena::new(1);
    let status = arena.alloc(4);
    let rusage = arena.put_bytes(&[0xff; 144]);
    let wait = |pid: isize, status: usize, options: usize, rusage: usize| {
        machine.run(
            &init,
            1,
            WAIT4,
            [pid as usize, status, options, rusage, 0, 0],
        )
    };
    assert_eq!(wait(-1, 0, 0, 0), errno(LxError::ECHILD));
    let first = machine.process(machine.run(&init, 1, FORK, [0; 6]) as u32);
    let second = machine.process(machine.run(&init, 1, FORK, [0; 6]) as u32);
    // WNOHANG with children running: 0, status untouched.
    arena.put_at_end(&[]);
    assert_eq!(wait(-1, status, 1, 0), 0);
    assert_eq!(read_i32(&arena, status), 0);
    // Options wait4 does not know (WEXITED is waitid's), and -INT_MIN.
    assert_eq!(wait(-1, status, 4, 0), errno(LxError::EINVAL));
    assert_eq!(wait(i32::MIN as isize, status, 0, 0), errno(LxError::ESRCH));
    assert_eq!(wait(2 | 2 << 32, status, 1 | 2 | 8 | 0x4000_0000, 0), 0);

    machine.run(&first, 2, EXIT_GROUP, [0x1234, 0, 0, 0, 0, 0]);
    second.exit(ExitStatus::Signaled(9));
    // A specific pid: the second first.
    assert_eq!(wait(3, status, 0, rusage), 3);
    assert_eq!(read_i32(&arena, status), 9, "WTERMSIG 9");
    assert!(
        matches!(
            machine.events().last(),
            Some(HostEvent::Reaped { pid: 1, child: 3 })
        ),
        "the host reaps the task the child ran as"
    );
    assert_eq!(arena.get_bytes(rusage, 144), [0; 144]);
    assert_eq!(wait(3, status, 0, 0), errno(LxError::ECHILD), "reaped once");
    assert_eq!(wait(0, status, 0, 0), 2);
    assert_eq!(
        read_i32(&arena, status),
        0x34 << 8,
        "WEXITSTATUS keeps the low byte"
    );
    assert_eq!(wait(-1, 0, 1, 0), errno(LxError::ECHILD));

    // A bad status pointer faults, but the child is reaped all the same.
    let third = machine.process(machine.run(&init, 1, FORK, [0; 6]) as u32);
    third.exit(ExitStatus::Exited(1));
    assert_eq!(wait(-1, arena.unmapped(), 0, 0), errno(LxError::EFAULT));
    assert_eq!(wait(-1, 0, 1, 0), errno(LxError::ECHILD));
}

#[test]
fn exit_group_ends_the_process_and_tells_the_host() {
    let machine = TestMachine::new();
    let init = machine.init();
    let child = machine.process(machine.run(&init, 1, FORK, [0; 6]) as u32);
    let args = [thread_flags(), 0, 0, 0, 0, 0];
    let tid = machine.run(&child, 2, CLONE, args) as u32;
    machine.run(&child, tid, EXIT_GROUP, [5, 0, 0, 0, 0, 0]);
    assert_eq!(child.exit_status(), Some(ExitStatus::Exited(5)));
    assert!(child.threads().is_empty());
    assert!(matches!(
        machine.events().last(),
        Some(HostEvent::ExitGroup {
            pid: 2,
            status: ExitStatus::Exited(5)
        })
    ));
    // The last thread's exit ends the process too.
    let other = machine.process(machine.run(&init, 1, FORK, [0; 6]) as u32);
    machine.run(&other, other.pid(), EXIT, [7, 0, 0, 0, 0, 0]);
    assert_eq!(other.exit_status(), Some(ExitStatus::Exited(7)));
}

// ---- execve ----

const HELLO_C: &str = r#"
#include <stdio.h>
int counter = 42;
int main(int argc, char **argv) { printf("%s %d\n", argv[0], counter); return 0; }
"#;

/// Compiles a static-PIE program to `/bin/hello` of the machine's container, or `false`.
fn install_hello(machine: &TestMachine) -> bool {
    let bin = machine.root_dir().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let source = bin.join("hello.c");
    std::fs::write(&source, HELLO_C).unwrap();
    let built = Command::new("cc")
        .args(["-static-pie", "-O1", "-o"])
        .arg(bin.join("hello"))
        .arg(&source)
        .status()
        .is_ok_and(|status| status.success());
    if !built {
        std::println!("notice: skipping: `cc -static-pie` is not available");
    }
    built
}

fn write_file(machine: &TestMachine, path: &str, bytes: &[u8], mode: u32) {
    let full = machine.root_dir().join(path.trim_start_matches('/'));
    std::fs::write(&full, bytes).unwrap();
    std::fs::set_permissions(&full, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A NULL-terminated array of C strings in `arena`.
fn strings(arena: &UserArena, items: &[&str]) -> usize {
    let mut pointers: Vec<u8> = Vec::new();
    for item in items {
        pointers.extend((arena.put_cstr(item) as u64).to_le_bytes());
    }
    pointers.extend(0u64.to_le_bytes());
    arena.put_bytes(&pointers)
}

fn execve(
    machine: &Arc<TestMachine>,
    process: &Arc<LinuxProcess>,
    path: usize,
    argv: usize,
    envp: usize,
) -> isize {
    machine.run(process, process.pid(), EXECVE, [path, argv, envp, 0, 0, 0])
}

fn user_word(addr: usize) -> u64 {
    let mut bytes = [0; 8];
    crate::user::copy_from_user(addr, &mut bytes).unwrap();
    u64::from_le_bytes(bytes)
}

fn user_cstr(addr: u64) -> Vec<u8> {
    crate::user::UserInPtr::<u8>::from(addr as usize)
        .read_cstring(4096)
        .unwrap()
}

/// argv, envp and the auxiliary vector as read back from a stack.
type StackView = (
    Vec<Vec<u8>>,
    Vec<Vec<u8>>,
    std::collections::BTreeMap<u64, u64>,
);

/// argv, envp and auxv read back from the stack at `sp` through user copies.
fn stack_args(sp: usize) -> StackView {
    let argc = user_word(sp) as usize;
    let argv = (0..argc)
        .map(|i| user_cstr(user_word(sp + 8 + 8 * i)))
        .collect();
    let mut at = sp + 16 + 8 * argc;
    let mut envp = Vec::new();
    while user_word(at) != 0 {
        envp.push(user_cstr(user_word(at)));
        at += 8;
    }
    at += 8;
    let mut aux = std::collections::BTreeMap::new();
    while user_word(at) != auxv::AT_NULL {
        aux.insert(user_word(at), user_word(at + 8));
        at += 16;
    }
    (argv, envp, aux)
}

fn installed(
    machine: &TestMachine,
) -> Vec<(linux_object::elf::LoadedProgram, alloc::string::String)> {
    machine
        .events()
        .into_iter()
        .filter_map(|event| match event {
            HostEvent::Installed { program, comm, .. } => Some((program, comm)),
            _ => None,
        })
        .collect()
}

#[test]
fn execve_loads_a_program_into_a_fresh_space_and_closes_cloexec_fds() {
    let machine = TestMachine::new();
    if !install_hello(&machine) {
        return;
    }
    let init = machine.init();
    let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
    init.files().add(reader, false).unwrap();
    init.files().add(writer, true).unwrap();
    let arena = UserArena::new(4);
    let path = arena.put_cstr("/bin/hello");
    let argv = strings(&arena, &["hello", "world"]);
    let envp = strings(&arena, &["HOME=/"]);
    assert_eq!(execve(&machine, &init, path, argv, envp), 0);

    let [(program, comm)] = &installed(&machine)[..] else {
        panic!("one install");
    };
    assert_eq!(comm, "hello");
    let space = machine.space(1);
    let text = space.vmar().find_mapping(program.entry).unwrap();
    assert_eq!(text.flags(), MmuFlags::READ | MmuFlags::EXECUTE);
    let stack = space.vmar().find_mapping(program.stack_pointer).unwrap();
    assert_eq!(stack.flags(), MmuFlags::READ | MmuFlags::WRITE);
    let (args, env, aux) = stack_args(program.stack_pointer);
    assert_eq!(args, [&b"hello"[..], b"world"]);
    assert_eq!(env, [&b"HOME=/"[..]]);
    assert_eq!(aux[&auxv::AT_ENTRY] as usize, program.program_entry);
    assert_eq!(aux[&auxv::AT_BASE], 0);
    assert_eq!(user_cstr(aux[&auxv::AT_EXECFN]), b"/bin/hello");
    let mut random = [0u8; 16];
    crate::user::copy_from_user(aux[&auxv::AT_RANDOM] as usize, &mut random).unwrap();
    assert_eq!(random[1], 1 ^ 0x5a, "from the host's random source");
    assert_eq!(aux[&auxv::AT_HWCAP], 0x178b_fbff);
    let phdr = aux[&auxv::AT_PHDR] as usize;
    assert!(space.vmar().find_mapping(phdr).is_some());

    assert_eq!(
        init.files().fds().collect::<Vec<_>>(),
        [0],
        "cloexec closed"
    );
    assert_eq!(init.exec_path(), "/bin/hello");
    let brk = init.program_break();
    assert_eq!((brk.start, brk.end), (program.brk, program.brk));
    assert_eq!(machine.run(&init, 1, 12, [0; 6]), program.brk as isize);
}

#[test]
fn execve_checks_the_callers_credentials() {
    let machine = TestMachine::new();
    let init = machine.init();
    // Owner-only execute: root may (some x bit is set), another user may not.
    write_file(&machine, "/owners", b"\x7fELF not really", 0o744);
    std::fs::create_dir(machine.root_dir().join("locked")).unwrap();
    write_file(&machine, "/locked/tool", b"\x7fELF not really", 0o755);
    std::fs::set_permissions(
        machine.root_dir().join("locked"),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    let arena = UserArena::new(8);
    let argv = strings(&arena, &["x"]);
    let owners = arena.put_cstr("/owners");
    let locked = arena.put_cstr("/locked/tool");
    // As root both are found and executable, and fail only as images.
    assert_eq!(
        execve(&machine, &init, owners, argv, 0),
        errno(LxError::ENOEXEC)
    );
    assert_eq!(
        execve(&machine, &init, locked, argv, 0),
        errno(LxError::ENOEXEC)
    );
    init.set_credentials(linux_object::credentials::Credentials::user(1000, 1000));
    assert_eq!(
        execve(&machine, &init, owners, argv, 0),
        errno(LxError::EACCES)
    );
    // No search permission on the directory.
    assert_eq!(
        execve(&machine, &init, locked, argv, 0),
        errno(LxError::EACCES)
    );
}

#[test]
fn execve_refuses_what_linux_refuses_and_leaves_the_caller_as_it_was() {
    let machine = TestMachine::new();
    let have_hello = install_hello(&machine);
    let init = machine.init();
    let (reader, _writer) = Pipe::new_pair(OpenFlags::empty());
    init.files().add(reader, true).unwrap();
    write_file(&machine, "/data", b"\x7fELF not really", 0o644);
    write_file(&machine, "/garbage", b"\x7fELF not really", 0o755);
    let arena = UserArena::new(8);
    let argv = strings(&arena, &["x"]);
    let cases = [
        ("/missing", LxError::ENOENT),
        ("/bin", LxError::EACCES),
        ("/data", LxError::EACCES),
        ("/garbage", LxError::ENOEXEC),
        ("/data/x", LxError::ENOTDIR),
    ];
    for (path, error) in cases {
        let path_ptr = arena.put_cstr(path);
        assert_eq!(
            execve(&machine, &init, path_ptr, argv, 0),
            errno(error),
            "{path}"
        );
    }
    let hello = arena.put_cstr(if have_hello { "/bin/hello" } else { "/garbage" });
    assert_eq!(
        execve(&machine, &init, arena.unmapped(), argv, 0),
        errno(LxError::EFAULT)
    );
    assert_eq!(
        execve(&machine, &init, hello, arena.unmapped(), 0),
        errno(LxError::EFAULT)
    );
    let bad_string = arena.put_bytes(&(arena.unmapped() as u64).to_le_bytes());
    arena.put_bytes(&0u64.to_le_bytes());
    assert_eq!(
        execve(&machine, &init, hello, argv, bad_string),
        errno(LxError::EFAULT)
    );
    // One argument of MAX_ARG_STRLEN bytes with its NUL is too long (the arena holds
    // exactly its bytes, and no NUL).
    let long = UserArena::new(MAX_ARG_STRLEN / 4096);
    let long_arg = long.put_at_end(&[b'a'; MAX_ARG_STRLEN]) as u64;
    let pointers = |pointer: u64, count: usize| {
        let mut array: Vec<u8> = (0..count).flat_map(|_| pointer.to_le_bytes()).collect();
        array.extend(0u64.to_le_bytes());
        arena.put_bytes(&array)
    };
    let too_long = pointers(long_arg, 1);
    assert_eq!(
        execve(&machine, &init, hello, too_long, 0),
        errno(LxError::E2BIG)
    );
    // Arguments of the longest allowed length, past a quarter of the stack in all.
    let mid = UserArena::new(MAX_ARG_STRLEN / 4096);
    let mut mid_bytes = alloc::vec![b'b'; MAX_ARG_STRLEN];
    mid_bytes[MAX_ARG_STRLEN - 1] = 0;
    let mid_arg = mid.put_at_end(&mid_bytes) as u64;
    assert_eq!(
        execve(
            &machine,
            &init,
            arena.put_cstr("/missing"),
            pointers(mid_arg, 1),
            0
        ),
        errno(LxError::ENOENT)
    );
    let too_many = pointers(mid_arg, 17);
    assert_eq!(
        execve(&machine, &init, hello, too_many, 0),
        errno(LxError::E2BIG)
    );
    assert!(installed(&machine).is_empty());
    assert_eq!(
        init.files().fds().collect::<Vec<_>>(),
        [0],
        "nothing closed"
    );
    assert_eq!(init.exec_path(), "/init");
}

#[test]
fn a_script_runs_its_interpreter_with_its_path_and_releases_a_vfork_parent() {
    let machine = TestMachine::new();
    if !install_hello(&machine) {
        return;
    }
    let init = machine.init();
    write_file(
        &machine,
        "/bin/script",
        b"#!/bin/hello -x\nignored\n",
        0o755,
    );
    write_file(&machine, "/bin/loop", b"#!/bin/loop\n", 0o755);
    let host = machine.task(1, 1);
    let call = Syscall {
        process: &init,
        tid: 1,
        host: &host,
    };
    let mut vfork = core::pin::pin!(call.run(VFORK, [0; 6]));
    assert!(poll_once(vfork.as_mut()).is_pending());
    let child = machine.process(2);

    let arena = UserArena::new(4);
    let path = arena.put_cstr("/bin/script");
    let argv = strings(&arena, &["script", "arg"]);
    assert_eq!(execve(&machine, &child, path, argv, 0), 0);
    assert_eq!(poll_once(vfork.as_mut()), Poll::Ready(2));
    let [(program, comm)] = &installed(&machine)[..] else {
        panic!("one install");
    };
    assert_eq!(comm, "script");
    let (args, _, _) = stack_args(program.stack_pointer);
    assert_eq!(args, [&b"/bin/hello"[..], b"-x", b"/bin/script", b"arg"]);
    assert_eq!(child.exec_path(), "/bin/hello");

    let looping = arena.put_cstr("/bin/loop");
    assert_eq!(
        execve(&machine, &child, looping, argv, 0),
        errno(LxError::ELOOP)
    );
}
