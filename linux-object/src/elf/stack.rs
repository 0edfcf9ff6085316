//! The initial stack of a new program, as the System V x86-64 ABI (§3.4.1) and Linux's
//! `create_elf_tables` lay it out, from the stack pointer up:
//!
//! ```text
//! sp ->  argc
//!        argv[0] .. argv[argc-1], NULL
//!        envp[0] .. envp[n-1], NULL
//!        auxv pairs (type, value) .., AT_NULL
//!        padding (sp is 16-byte aligned)
//!        AT_RANDOM's 16 bytes, AT_PLATFORM's string
//!        argv strings, envp strings, AT_EXECFN's string
//!        8 zero bytes
//! top
//! ```

use crate::error::{LxError, LxResult};
use alloc::vec;
use alloc::vec::Vec;

/// Auxiliary vector entry types (`<uapi/linux/auxvec.h>`, `<linux/elf.h>`).
pub mod auxv {
    /// End of the vector.
    pub const AT_NULL: u64 = 0;
    /// Address of the program headers.
    pub const AT_PHDR: u64 = 3;
    /// Size of one program header.
    pub const AT_PHENT: u64 = 4;
    /// Number of program headers.
    pub const AT_PHNUM: u64 = 5;
    /// Page size.
    pub const AT_PAGESZ: u64 = 6;
    /// Load address of the interpreter (0 without one).
    pub const AT_BASE: u64 = 7;
    /// Flags (always 0).
    pub const AT_FLAGS: u64 = 8;
    /// The program's entry point.
    pub const AT_ENTRY: u64 = 9;
    /// Real user ID.
    pub const AT_UID: u64 = 11;
    /// Effective user ID.
    pub const AT_EUID: u64 = 12;
    /// Real group ID.
    pub const AT_GID: u64 = 13;
    /// Effective group ID.
    pub const AT_EGID: u64 = 14;
    /// Address of the platform string.
    pub const AT_PLATFORM: u64 = 15;
    /// CPU capabilities (CPUID.1:EDX on x86).
    pub const AT_HWCAP: u64 = 16;
    /// Clock ticks per second (`times`).
    pub const AT_CLKTCK: u64 = 17;
    /// Whether the program runs with changed privileges.
    pub const AT_SECURE: u64 = 23;
    /// Address of 16 random bytes.
    pub const AT_RANDOM: u64 = 25;
    /// More CPU capabilities (x86: ring 3 MONITOR/MWAIT, FSGSBASE).
    pub const AT_HWCAP2: u64 = 26;
    /// The size of the kernel's `struct rseq`.
    pub const AT_RSEQ_FEATURE_SIZE: u64 = 27;
    /// The alignment `struct rseq` needs.
    pub const AT_RSEQ_ALIGN: u64 = 28;
    /// Address of the path the program was executed as.
    pub const AT_EXECFN: u64 = 31;
    /// Address of the vDSO's ELF header.
    pub const AT_SYSINFO_EHDR: u64 = 33;
    /// The smallest signal stack a signal frame fits in, on this CPU.
    pub const AT_MINSIGSTKSZ: u64 = 51;
}

/// Linux's `MAX_ARG_STRLEN`: the longest single argument or environment string (32 pages).
pub const MAX_ARG_STRLEN: usize = 32 * 4096;

/// The platform string (`AT_PLATFORM`).
const PLATFORM: &[u8] = b"x86_64\0";

/// What goes on a new program's stack.
pub struct StackContents<'a> {
    /// The arguments.
    pub argv: &'a [&'a [u8]],
    /// The environment.
    pub envp: &'a [&'a [u8]],
    /// The path the program was executed as (`AT_EXECFN`).
    pub exec_fn: &'a [u8],
    /// `AT_RANDOM`'s bytes (the libc seeds its stack protector and pointer guard with them).
    pub random: [u8; 16],
    /// The auxiliary vector without the entries that point into the stack (`AT_RANDOM`,
    /// `AT_EXECFN`, `AT_PLATFORM`) and without `AT_NULL`; those are added here.
    pub auxv: &'a [(u64, u64)],
}

/// A built stack: the bytes from `sp` to the top, to be written at `sp`.
pub struct InitialStack {
    /// The initial stack pointer, 16-byte aligned, pointing at `argc`.
    pub sp: usize,
    /// The memory from `sp` to the top.
    pub bytes: Vec<u8>,
    /// Where the argument strings lie (`mm->arg_start..arg_end`, `/proc/PID/cmdline`).
    pub args: core::ops::Range<usize>,
    /// Where the environment strings lie (`/proc/PID/environ`).
    pub env: core::ops::Range<usize>,
}

/// Writes into a stack image whose last byte is just below `top`.
struct Image {
    bottom: usize,
    bytes: Vec<u8>,
}

impl Image {
    fn put(&mut self, addr: usize, data: &[u8]) -> LxResult {
        let start = addr.checked_sub(self.bottom).ok_or(LxError::EFAULT)?;
        let end = start.checked_add(data.len()).ok_or(LxError::EFAULT)?;
        self.bytes
            .get_mut(start..end)
            .ok_or(LxError::EFAULT)?
            .copy_from_slice(data);
        Ok(())
    }

    fn put_word(&mut self, addr: usize, value: u64) -> LxResult {
        self.put(addr, &value.to_le_bytes())
    }
}

/// The strings of one vector laid out upward from `at`: their addresses and the next free
/// address. `EINVAL` for a string holding a NUL (it could not be passed as a C string).
fn string_addresses(strings: &[&[u8]], mut at: usize) -> LxResult<(Vec<usize>, usize)> {
    let mut addresses = Vec::with_capacity(strings.len());
    for s in strings {
        if s.contains(&0) {
            return Err(LxError::EINVAL);
        }
        if s.len() >= MAX_ARG_STRLEN {
            return Err(LxError::E2BIG);
        }
        addresses.push(at);
        at = at.checked_add(s.len() + 1).ok_or(LxError::E2BIG)?;
    }
    Ok((addresses, at))
}

/// Lays out `contents` under `top`, in at most `limit` bytes (`E2BIG` past it, as Linux
/// refuses arguments larger than a quarter of the stack).
pub fn build(top: usize, limit: usize, contents: &StackContents<'_>) -> LxResult<InitialStack> {
    let strings_len = contents
        .argv
        .iter()
        .chain(contents.envp)
        .chain(core::iter::once(&contents.exec_fn))
        .try_fold(0usize, |sum, s| sum.checked_add(s.len() + 1))
        .ok_or(LxError::E2BIG)?;
    let end_marker = top.checked_sub(8).ok_or(LxError::E2BIG)?;
    let strings_start = end_marker.checked_sub(strings_len).ok_or(LxError::E2BIG)?;
    let (argv_addrs, after_argv) = string_addresses(contents.argv, strings_start)?;
    let (envp_addrs, exec_fn_addr) = string_addresses(contents.envp, after_argv)?;
    if contents.exec_fn.contains(&0) {
        return Err(LxError::EINVAL);
    }
    let platform_addr = strings_start
        .checked_sub(PLATFORM.len())
        .ok_or(LxError::E2BIG)?;
    let random_addr = platform_addr.checked_sub(16).ok_or(LxError::E2BIG)?;

    let mut auxv: Vec<(u64, u64)> = contents.auxv.to_vec();
    auxv.push((auxv::AT_RANDOM, random_addr as u64));
    auxv.push((auxv::AT_EXECFN, exec_fn_addr as u64));
    auxv.push((auxv::AT_PLATFORM, platform_addr as u64));
    auxv.push((auxv::AT_NULL, 0));
    let words = 1 + (argv_addrs.len() + 1) + (envp_addrs.len() + 1) + 2 * auxv.len();
    let table_len = words.checked_mul(8).ok_or(LxError::E2BIG)?;
    let sp = random_addr.checked_sub(table_len).ok_or(LxError::E2BIG)? & !15;
    let size = top - sp;
    if size > limit {
        return Err(LxError::E2BIG);
    }

    let mut image = Image {
        bottom: sp,
        bytes: vec![0; size],
    };
    for (s, &addr) in contents
        .argv
        .iter()
        .chain(contents.envp)
        .zip(argv_addrs.iter().chain(&envp_addrs))
    {
        image.put(addr, s)?;
    }
    image.put(exec_fn_addr, contents.exec_fn)?;
    image.put(platform_addr, PLATFORM)?;
    image.put(random_addr, &contents.random)?;

    let mut at = sp;
    let mut push = |image: &mut Image, value: u64| {
        let result = image.put_word(at, value);
        at += 8;
        result
    };
    push(&mut image, argv_addrs.len() as u64)?;
    for &addr in argv_addrs.iter() {
        push(&mut image, addr as u64)?;
    }
    push(&mut image, 0)?;
    for &addr in envp_addrs.iter() {
        push(&mut image, addr as u64)?;
    }
    push(&mut image, 0)?;
    for &(key, value) in auxv.iter() {
        push(&mut image, key)?;
        push(&mut image, value)?;
    }
    Ok(InitialStack {
        sp,
        bytes: image.bytes,
        args: strings_start..after_argv,
        env: after_argv..exec_fn_addr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(stack: &InitialStack, addr: usize) -> u64 {
        let at = addr - stack.sp;
        u64::from_le_bytes(stack.bytes[at..at + 8].try_into().unwrap())
    }

    fn c_string(stack: &InitialStack, addr: u64) -> Vec<u8> {
        let at = addr as usize - stack.sp;
        stack.bytes[at..]
            .iter()
            .take_while(|&&b| b != 0)
            .copied()
            .collect()
    }

    #[test]
    fn layout_is_argc_argv_envp_auxv_and_aligned() {
        let top = 0x7fff_0000_0000;
        let stack = build(
            top,
            1 << 20,
            &StackContents {
                argv: &[b"prog", b"-x"],
                envp: &[b"HOME=/"],
                exec_fn: b"/bin/prog",
                random: [9; 16],
                auxv: &[(auxv::AT_PAGESZ, 4096)],
            },
        )
        .unwrap();
        assert_eq!(stack.sp % 16, 0);
        assert_eq!(stack.sp + stack.bytes.len(), top);
        assert_eq!(word(&stack, stack.sp), 2);
        assert_eq!(c_string(&stack, word(&stack, stack.sp + 8)), b"prog");
        assert_eq!(c_string(&stack, word(&stack, stack.sp + 16)), b"-x");
        assert_eq!(word(&stack, stack.sp + 24), 0);
        assert_eq!(c_string(&stack, word(&stack, stack.sp + 32)), b"HOME=/");
        assert_eq!(word(&stack, stack.sp + 40), 0);
        assert_eq!(word(&stack, stack.sp + 48), auxv::AT_PAGESZ);
        assert_eq!(word(&stack, stack.sp + 56), 4096);
        assert_eq!(word(&stack, stack.sp + 64), auxv::AT_RANDOM);
        let random = word(&stack, stack.sp + 72) as usize - stack.sp;
        assert_eq!(stack.bytes[random..random + 16], [9; 16]);
        assert_eq!(word(&stack, stack.sp + 80), auxv::AT_EXECFN);
        assert_eq!(c_string(&stack, word(&stack, stack.sp + 88)), b"/bin/prog");
        assert_eq!(word(&stack, stack.sp + 96), auxv::AT_PLATFORM);
        assert_eq!(c_string(&stack, word(&stack, stack.sp + 104)), b"x86_64");
        assert_eq!(word(&stack, stack.sp + 112), auxv::AT_NULL);
        assert_eq!(word(&stack, top - 8), 0, "end marker");
    }

    #[test]
    fn alignment_holds_for_every_argument_count() {
        for argc in 0..6 {
            let args: Vec<&[u8]> = (0..argc).map(|_| &b"abc"[..]).collect();
            let stack = build(
                0x1000_0000 + argc,
                1 << 20,
                &StackContents {
                    argv: &args,
                    envp: &[],
                    exec_fn: b"x",
                    random: [0; 16],
                    auxv: &[],
                },
            )
            .unwrap();
            assert_eq!(stack.sp % 16, 0, "argc {argc}");
            assert_eq!(word(&stack, stack.sp), argc as u64);
        }
    }

    #[test]
    fn oversized_or_invalid_arguments_are_refused() {
        let contents = |argv: &'static [&'static [u8]]| StackContents {
            argv,
            envp: &[],
            exec_fn: b"x",
            random: [0; 16],
            auxv: &[],
        };
        assert!(matches!(
            build(0x10000, 64, &contents(&[&[b'a'; 100]])),
            Err(LxError::E2BIG)
        ));
        assert!(matches!(
            build(0x10000, 1 << 20, &contents(&[b"a\0b"])),
            Err(LxError::EINVAL)
        ));
        assert!(matches!(
            build(40, 1 << 20, &contents(&[b"abc"])),
            Err(LxError::E2BIG)
        ));
    }
}
