//! `execve`, `execveat`: a new program in the calling process.
//!
//! In Linux's order: the path is read and resolved in the process's root and cwd (or from a
//! directory descriptor, or the descriptor itself with `AT_EMPTY_PATH`), the file
//! must be a regular file with an execute bit (`EACCES`), then argv and envp are read from
//! user memory within Linux's limits (`E2BIG`, `EFAULT`). A `#!` script runs its interpreter
//! with the script's path as an argument, as Linux's `binfmt_script` does. The program (and
//! its `PT_INTERP` interpreter) is loaded through `linux-object`'s loader into a *fresh*
//! address space from the host; only once that succeeded is it installed, so a failed
//! `execve` returns to the old program untouched. Then the close-on-exec descriptors are
//! closed, the other threads are gone, the executable's path and the program break are
//! recorded, and a `vfork` parent is released.

use crate::user::{UserInPtr, UserValue};
use crate::{SysResult, Syscall};
use alloc::string::String;
use alloc::vec::Vec;
use kernel_hostfs::{FileType, INode};
use linux_object::credentials::{Access, Credentials as ProcessCredentials};
use linux_object::elf::{self, ExecParams, DEFAULT_STACK_SIZE, MAX_ARG_STRLEN};
use linux_object::fs::inotify::IN_OPEN;

use crate::fs::{Located, Object, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use alloc::format;
use linux_object::process::ProgramBreak;
use linux_object::vm::Randomization;
use linux_object::{LxError, LxResult};

/// Linux's `BINPRM_BUF_SIZE`: how much of a file is looked at for `#!`.
const BINPRM_BUF_SIZE: usize = 256;

/// `personality`'s flag that turns address space layout randomisation off.
const ADDR_NO_RANDOMIZE: u32 = 0x0004_0000;

/// How far up the program break may start at random: 32 MiB in pages, as Linux's
/// `arch_randomize_brk`.
const BRK_RANDOM_PAGES: usize = (32 << 20) / elf::PAGE_SIZE;

/// How many interpreters may be chained (Linux's `exec_binprm` gives up after 5).
const MAX_INTERPRETER_DEPTH: usize = 5;

/// The bytes argv, envp and their pointers may take: a quarter of the stack, as Linux
/// allows (`bprm_stack_limits`).
const ARG_LIMIT: usize = DEFAULT_STACK_SIZE / 4;

/// What the budget of [`ARG_LIMIT`] bytes has left while arguments are read.
struct ArgBudget(usize);

impl ArgBudget {
    fn take(&mut self, bytes: usize) -> LxResult {
        self.0 = self.0.checked_sub(bytes).ok_or(LxError::E2BIG)?;
        Ok(())
    }
}

/// Reads a NULL-terminated array of string pointers (`argv`, `envp`); a null array is empty.
fn read_strings(array: UserInPtr<usize>, budget: &mut ArgBudget) -> LxResult<Vec<Vec<u8>>> {
    let mut pointers: Vec<usize> = Vec::new();
    if !array.is_null() {
        loop {
            let pointer = array.offset(pointers.len())?.read()?;
            if pointer == 0 {
                break;
            }
            // Each pointer takes its place on the new stack.
            budget.take(usize::SIZE)?;
            pointers.try_reserve(1).map_err(|_| LxError::ENOMEM)?;
            pointers.push(pointer);
        }
    }
    let mut strings = Vec::new();
    strings
        .try_reserve_exact(pointers.len())
        .map_err(|_| LxError::ENOMEM)?;
    for pointer in pointers {
        // One string may not exceed MAX_ARG_STRLEN with its NUL, nor what is left.
        let max = (MAX_ARG_STRLEN - 1).min(budget.0.saturating_sub(1));
        let string =
            UserInPtr::<u8>::from(pointer)
                .read_cstring(max)
                .map_err(|error| match error {
                    LxError::ENAMETOOLONG => LxError::E2BIG,
                    other => other,
                })?;
        budget.take(string.len() + 1)?;
        strings.push(string);
    }
    Ok(strings)
}

/// Checks that `inode` may be executed by `credentials`: a regular file (`EACCES` for
/// anything else, as a directory or device gives) that `generic_permission` lets them execute
/// (root needs one execute bit anywhere).
fn check_executable(inode: &dyn INode, credentials: &ProcessCredentials) -> LxResult {
    let metadata = inode.metadata()?;
    if metadata.type_ != FileType::File {
        return Err(LxError::EACCES);
    }
    credentials.permission(&metadata, Access::EXEC)
}

/// A script's interpreter and its optional single argument.
type Shebang = (Vec<u8>, Option<Vec<u8>>);

/// The interpreter line of a `#!` script, parsed as Linux's `load_script` parses it, from
/// `head` (the file's first bytes, zero-padded to [`BINPRM_BUF_SIZE`]): the interpreter and
/// its optional single argument. `None` if the file is not a script; `ENOEXEC` for a
/// script without an interpreter, or whose interpreter name is cut off by the buffer's end.
fn parse_shebang(head: &[u8]) -> LxResult<Option<Shebang>> {
    if !head.starts_with(b"#!") {
        return Ok(None);
    }
    let spacetab = |byte: &u8| *byte == b' ' || *byte == b'\t';
    let terminator = |byte: &u8| spacetab(byte) || *byte == 0;
    let buf = head.get(..BINPRM_BUF_SIZE - 1).unwrap_or(head);
    let line = match head.iter().position(|&byte| byte == b'\n') {
        Some(end) => head.get(2..end).unwrap_or_default(),
        None => {
            // No newline: the name must end (space, tab or NUL) before the buffer does.
            let rest = buf.get(2..).unwrap_or_default();
            let name_start = rest
                .iter()
                .position(|byte| !spacetab(byte))
                .ok_or(LxError::ENOEXEC)?;
            if !rest
                .get(name_start..)
                .unwrap_or_default()
                .iter()
                .any(terminator)
            {
                return Err(LxError::ENOEXEC);
            }
            rest
        }
    };
    // A NUL ends the line as it ends a C string.
    let line = line.split(|&byte| byte == 0).next().unwrap_or_default();
    let start = line.iter().position(|byte| !spacetab(byte));
    let end = line.iter().rposition(|byte| !spacetab(byte));
    let (Some(start), Some(end)) = (start, end) else {
        return Err(LxError::ENOEXEC);
    };
    let line = line.get(start..=end).unwrap_or_default();
    let name_end = line.iter().position(terminator).unwrap_or(line.len());
    let (name, rest) = line.split_at(name_end);
    let argument = rest
        .iter()
        .position(|byte| !spacetab(byte))
        .and_then(|at| rest.get(at..))
        .map(|arg| arg.to_vec());
    Ok(Some((name.to_vec(), argument)))
}

/// The last component of `path` (what Linux names the task after).
fn basename(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|name| !name.is_empty())
        .unwrap_or(path)
}

impl Syscall<'_> {
    /// Resolves `path` from the process's root (absolute) or working directory (relative),
    /// following symbolic links, and checks the process may execute what it names.
    fn open_exec(&self, path: &str) -> LxResult<Located> {
        let located = self.resolve(AT_FDCWD, path, true)?;
        check_executable(&*located.inode, &self.process.credentials())?;
        // Reported before the headers are read, as Linux's do_open_execat reports it.
        located.inode.notify(IN_OPEN);
        Ok(located)
    }

    /// What `execveat(dirfd, path, .., flags)` runs, checked: `path` from `dirfd`, the last
    /// link not followed with `AT_SYMLINK_NOFOLLOW` (`ELOOP`), `dirfd` itself for an empty
    /// path with `AT_EMPTY_PATH`.
    fn open_exec_at(&self, dirfd: i32, path: &[u8], flags: usize) -> LxResult<Located> {
        let follow = flags & AT_SYMLINK_NOFOLLOW as usize == 0;
        let empty_path = flags & AT_EMPTY_PATH as usize != 0;
        let object = self.resolve_object(&mut self.walker(), dirfd, path, follow, empty_path)?;
        let Object::Node(located) = object else {
            // A pipe, a socket, a terminal: not a regular file.
            return Err(LxError::EACCES);
        };
        if !follow && located.inode.file_type()? == FileType::SymLink {
            // Opened with O_NOFOLLOW, as Linux's open_exec does.
            return Err(LxError::ELOOP);
        }
        check_executable(&*located.inode, &self.process.credentials())?;
        // As Linux's do_open_execat, which reports no open of a descriptor's file (`fexecve`).
        if !path.is_empty() {
            located.inode.notify(IN_OPEN);
        }
        Ok(located)
    }

    /// `execve(path, argv, envp)`: replaces the calling process's program. Returns 0 to the
    /// new program; on failure the old one continues with the error.
    pub fn sys_execve(
        &self,
        path: UserInPtr<u8>,
        argv: UserInPtr<usize>,
        envp: UserInPtr<usize>,
    ) -> SysResult {
        self.sys_execveat(AT_FDCWD as usize, path, argv, envp, 0)
    }

    /// `execveat(dirfd, path, argv, envp, flags)`: `execve` of `path` from `dirfd`, or of
    /// `dirfd` itself with `AT_EMPTY_PATH` and an empty path; `AT_SYMLINK_NOFOLLOW` refuses a
    /// final symbolic link (`ELOOP`); any other flag is `EINVAL`. The program's name
    /// (`AT_EXECFN`, and what its task is named after) is the path, or `/dev/fd/N[/path]` for
    /// a relative path from a descriptor, as Linux names it.
    pub fn sys_execveat(
        &self,
        dirfd: usize,
        path: UserInPtr<u8>,
        argv: UserInPtr<usize>,
        envp: UserInPtr<usize>,
        flags: usize,
    ) -> SysResult {
        if flags & !((AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) as usize) != 0 {
            return Err(LxError::EINVAL);
        }
        // The descriptor is an int: truncation is the ABI.
        let dirfd = dirfd as i32;
        let raw = path.read_cstring(kernel_hostfs::PATH_MAX - 1)?;
        let mut located = self.open_exec_at(dirfd, &raw, flags)?;
        let path = String::from_utf8(raw).map_err(|_| LxError::ENOENT)?;
        let by_descriptor = dirfd != AT_FDCWD && !path.starts_with('/');
        let path = if !by_descriptor {
            path
        } else if path.is_empty() {
            format!("/dev/fd/{dirfd}")
        } else {
            format!("/dev/fd/{dirfd}/{path}")
        };
        let mut budget = ArgBudget(ARG_LIMIT);
        // The path is copied onto the new stack too (AT_EXECFN).
        budget.take(path.len() + 1)?;
        let mut args = read_strings(argv, &mut budget)?;
        let env = read_strings(envp, &mut budget)?;
        if args.is_empty() {
            // Linux (5.18+) gives a program run with an empty argv an empty argv[0].
            args.try_reserve(1).map_err(|_| LxError::ENOMEM)?;
            args.push(Vec::new());
        }

        // `#!` scripts: the interpreter runs with the script's path in place of argv[0].
        let mut filename = path.clone();
        for depth in 0.. {
            let inode = &located.inode;
            let mut head = [0u8; BINPRM_BUF_SIZE];
            let mut filled = 0;
            while let Some(rest) = head.get_mut(filled..).filter(|rest| !rest.is_empty()) {
                match inode.read_at(filled, rest)? {
                    0 => break,
                    count => filled += count,
                }
            }
            let Some((interpreter, argument)) = parse_shebang(&head)? else {
                break;
            };
            if depth >= MAX_INTERPRETER_DEPTH {
                return Err(LxError::ELOOP);
            }
            let interpreter = String::from_utf8(interpreter).map_err(|_| LxError::ENOENT)?;
            let mut front = Vec::new();
            front
                .try_reserve_exact(3 + args.len())
                .map_err(|_| LxError::ENOMEM)?;
            front.push(interpreter.as_bytes().to_vec());
            front.extend(argument);
            front.push(filename.as_bytes().to_vec());
            for arg in &front {
                budget.take(arg.len() + 1 + usize::SIZE)?;
            }
            // argv[0] is replaced.
            front.extend(args.into_iter().skip(1));
            args = front;
            located = self.open_exec(&interpreter)?;
            filename = interpreter;
        }

        let mut random = [0u8; 16];
        self.host.fill_random(&mut random);
        // Address space layout randomisation, as Linux's, unless the execution domain says not.
        let randomize = self.host.personality() & ADDR_NO_RANDOMIZE == 0;
        let (random_layout, brk_offset) = if randomize {
            let mut bytes = [0u8; 32];
            self.host.fill_random(&mut bytes);
            let (layout, brk) = bytes.split_at(24);
            let mut layout_bytes = [0u8; 24];
            layout_bytes.copy_from_slice(layout);
            let mut brk_word = [0u8; 8];
            brk_word.copy_from_slice(brk);
            let brk_pages = u64::from_le_bytes(brk_word) as usize % BRK_RANDOM_PAGES;
            (
                Some(Randomization::from_random(layout_bytes)),
                brk_pages * elf::PAGE_SIZE,
            )
        } else {
            (None, 0)
        };
        let lookup = |interpreter: &str| Ok(self.open_exec(interpreter)?.inode);
        if !self.host.alone_in_memory() {
            // Other threads, or a vfork parent, run in this memory: the program gets memory of
            // its own first, which is the point of no return. What can still be refused is
            // checked before it.
            elf::check(&*located.inode, &lookup)?;
            self.host.leave_shared_memory()?;
        }
        let exec_space = self.host.new_exec_space(random_layout)?;
        let space = exec_space.space();
        let argv_refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let envp_refs: Vec<&[u8]> = env.iter().map(Vec::as_slice).collect();
        let params = ExecParams {
            argv: &argv_refs,
            envp: &envp_refs,
            exec_fn: path.as_bytes(),
            credentials: self.process.credentials().aux(),
            random,
            machine: self.host.machine(),
            stack_top: space.stack_top(),
            stack_size: DEFAULT_STACK_SIZE,
            brk_offset,
        };
        let program = elf::load(space, &*located.inode, &lookup, &params)?;
        // What `/proc/self/exe` will show: where the walk found the file, links resolved (a
        // description opened without a recorded path has none: then the name it ran by).
        let exec_path = if located.path.is_empty() {
            filename
        } else {
            located.path
        };
        // The task is named after the file, by the name its directory holds for it when the
        // path was a descriptor's (Linux 6.12; `/dev/fd/N` says nothing of the program).
        let comm = if by_descriptor && !exec_path.is_empty() {
            basename(&exec_path)
        } else {
            basename(&path)
        };
        exec_space.install(&program, comm)?;

        self.process.did_exec(exec_path);
        self.process.set_program_break(ProgramBreak {
            start: program.brk,
            end: program.brk,
        });
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shebang(text: &[u8]) -> LxResult<Option<Shebang>> {
        let mut head = [0u8; BINPRM_BUF_SIZE];
        let len = text.len().min(BINPRM_BUF_SIZE);
        head[..len].copy_from_slice(&text[..len]);
        parse_shebang(&head)
    }

    #[test]
    fn interpreter_lines_parse_as_linux_parses_them() {
        assert_eq!(
            shebang(b"#!/bin/sh\necho"),
            Ok(Some((b"/bin/sh".to_vec(), None)))
        );
        assert_eq!(
            shebang(b"#! \t/usr/bin/env  python3 -u \t\nprint()"),
            Ok(Some((
                b"/usr/bin/env".to_vec(),
                Some(b"python3 -u".to_vec())
            )))
        );
        assert_eq!(shebang(b"#!/bin/sh"), Ok(Some((b"/bin/sh".to_vec(), None))));
        assert_eq!(shebang(b"\x7fELF"), Ok(None));
        assert_eq!(shebang(b"#!   \n"), Err(LxError::ENOEXEC));
        assert_eq!(shebang(b"#!"), Err(LxError::ENOEXEC));
        // A name running to the end of the buffer may be cut off: refused.
        let mut long = b"#!/".to_vec();
        long.extend([b'a'; 300]);
        assert_eq!(shebang(&long), Err(LxError::ENOEXEC));
        // A long argument is cut at the buffer's end instead.
        let mut long_arg = b"#!/bin/sh ".to_vec();
        long_arg.extend([b'a'; 300]);
        let (name, arg) = shebang(&long_arg).unwrap().unwrap();
        assert_eq!(name, b"/bin/sh");
        assert_eq!(arg.unwrap().len(), BINPRM_BUF_SIZE - 1 - 10);
    }

    #[test]
    fn basenames() {
        assert_eq!(basename("/bin/busybox"), "busybox");
        assert_eq!(basename("sh"), "sh");
        assert_eq!(basename("/usr/bin/"), "bin");
    }
}
