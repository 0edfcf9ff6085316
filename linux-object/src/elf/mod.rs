//! The ELF loader: maps a static or dynamically linked (`PT_INTERP`) x86-64 executable and its
//! interpreter into an address space and builds the initial stack a libc expects.
//!
//! The loader writes through the [`AddressSpace`] trait, so it knows nothing of page tables:
//! the kernel implements it over a zircon `VmAddressRegion`, tests over plain memory.
//! Everything read from the file is validated first ([`parse`]): a bad magic, class, machine
//! or header size, a program header table or segment outside the file, segments that
//! overflow, leave user space or overlap, a malformed interpreter path — each is `ENOEXEC`.
//!
//! Headers are decoded with `goblin` (default features off: only its ELF64 types, read with
//! `scroll`'s bounds-checked `pread`, which returns errors rather than panicking).
//!
//! ```
//! use linux_object::elf::{parse, ElfImage};
//! use linux_object::LxError;
//!
//! assert_eq!(parse(b"#!/bin/sh\n").err(), Some(LxError::ENOEXEC));
//! ```

mod parse;
mod stack;

pub use parse::{parse, ElfImage, LoadSegment};
pub use stack::{auxv, build as build_stack, InitialStack, StackContents, MAX_ARG_STRLEN};

use crate::error::{LxError, LxResult};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use bitflags::bitflags;
use kernel_hostfs::{FileType, INode};
use parse::{file_range, page_ceil, page_floor};

/// The page size of x86-64.
pub const PAGE_SIZE: usize = 4096;

/// The end of the x86-64 user address space (Linux's `TASK_SIZE`, 47-bit, less a guard page).
pub const USER_SPACE_END: usize = 0x7fff_ffff_f000;

/// Where the stack ends (its highest address) unless [`ExecParams::stack_top`] says otherwise.
pub const DEFAULT_STACK_TOP: usize = 0x7fff_ffff_0000;

/// The stack's size: Linux's default `RLIMIT_STACK`, 8 MiB.
pub const DEFAULT_STACK_SIZE: usize = 8 << 20;

/// The largest executable the loader reads into memory.
pub const MAX_IMAGE_SIZE: usize = 1 << 30;

bitflags! {
    /// What a mapping allows.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Protection: u8 {
        /// Readable.
        const READ = 1;
        /// Writable.
        const WRITE = 2;
        /// Executable.
        const EXEC = 4;
    }
}

/// The address space a program is loaded into.
pub trait AddressSpace {
    /// Chooses a free, page-aligned range of `len` bytes for a position-independent image
    /// and returns its start; later calls do not return overlapping ranges.
    fn reserve(&self, len: usize) -> LxResult<usize>;

    /// Maps `len` bytes of zeroed memory at `vaddr` with `prot`. Both are page multiples
    /// and the range does not overlap one mapped before.
    fn map(&self, vaddr: usize, len: usize, prot: Protection) -> LxResult;

    /// Writes `data` at `vaddr`, inside what [`map`](Self::map) mapped, whatever its
    /// protection (the loader fills read-only text).
    fn write(&self, vaddr: usize, data: &[u8]) -> LxResult;

    /// Where this space wants the stack to end (its highest address, page aligned): what
    /// `execve` passes as [`ExecParams::stack_top`]. A space that is not all of user space
    /// (the host backend's page table reserves 1 GiB) puts it at its own top.
    fn stack_top(&self) -> usize {
        DEFAULT_STACK_TOP
    }

    /// Maps the executable `file` (checked as [`parse`] does) and returns where it went.
    /// [`read_and_map`] does it by reading the whole file; a space may instead map again what
    /// it loaded before from a file with the same contents.
    fn load_image(&self, file: &dyn INode) -> LxResult<MappedImage>;

    /// Maps the stack: `len` bytes of zeroed memory from `bottom` (page multiples), `contents`
    /// written at `sp` (at its top). A space may leave the pages below the contents to be
    /// backed however it likes, as long as the program finds them zeroed and writable.
    fn map_stack(&self, bottom: usize, len: usize, sp: usize, contents: &[u8]) -> LxResult {
        self.map(bottom, len, Protection::READ | Protection::WRITE)?;
        self.write(sp, contents)
    }
}

/// Reads all of `file`, checks it and maps it into `space`: [`AddressSpace::load_image`]'s
/// plain way.
pub fn read_and_map(space: &dyn AddressSpace, file: &dyn INode) -> LxResult<MappedImage> {
    let bytes = read_image(file)?;
    map_image(space, &bytes, parse(&bytes)?)
}

/// Credentials the auxiliary vector reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Credentials {
    /// Real user ID.
    pub uid: u32,
    /// Effective user ID.
    pub euid: u32,
    /// Real group ID.
    pub gid: u32,
    /// Effective group ID.
    pub egid: u32,
}

/// Everything `execve` passes to the loader besides the file.
pub struct ExecParams<'a> {
    /// The arguments.
    pub argv: &'a [&'a [u8]],
    /// The environment.
    pub envp: &'a [&'a [u8]],
    /// The path as given to `execve` (`AT_EXECFN`).
    pub exec_fn: &'a [u8],
    /// The process's credentials.
    pub credentials: Credentials,
    /// `AT_RANDOM`'s 16 bytes, from the kernel's random source.
    pub random: [u8; 16],
    /// `AT_HWCAP`: the CPU's capabilities (CPUID.1:EDX on x86-64).
    pub hwcap: u64,
    /// The stack's highest address (page aligned): the space's
    /// [`AddressSpace::stack_top`].
    pub stack_top: usize,
    /// The stack's size (page multiple); arguments may fill a quarter of it.
    pub stack_size: usize,
}

/// The resolver of a `PT_INTERP` path: the process's filesystem view.
pub type InterpreterLookup<'a> = &'a dyn Fn(&str) -> LxResult<Arc<dyn INode>>;

/// A program loaded and ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedProgram {
    /// Where the first instruction is: the interpreter's entry, or the program's.
    pub entry: usize,
    /// The initial stack pointer (at `argc`).
    pub stack_pointer: usize,
    /// The program's own entry point (`AT_ENTRY`).
    pub program_entry: usize,
    /// The program's load bias (0 for `ET_EXEC`).
    pub program_base: usize,
    /// The interpreter's load address (`AT_BASE`), if there is one.
    pub interpreter_base: Option<usize>,
    /// The interpreter's path, if there is one.
    pub interpreter: Option<String>,
    /// The first page past the program's image: where `brk` starts.
    pub brk: usize,
}

/// Reads all of a regular file; `EACCES` for anything else, as `execve` gives.
pub fn read_image(inode: &dyn INode) -> LxResult<Vec<u8>> {
    let metadata = inode.metadata()?;
    if metadata.type_ != FileType::File {
        return Err(LxError::EACCES);
    }
    let size = usize::try_from(metadata.size).map_err(|_| LxError::ENOMEM)?;
    if size > MAX_IMAGE_SIZE {
        return Err(LxError::ENOMEM);
    }
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(size).map_err(|_| LxError::ENOMEM)?;
    bytes.resize(size, 0);
    let mut filled = 0;
    while let Some(rest) = bytes.get_mut(filled..).filter(|rest| !rest.is_empty()) {
        match inode.read_at(filled, rest)? {
            0 => break,
            count => filled += count,
        }
    }
    // A file that shrank while being read is loaded as it was read.
    bytes.truncate(filled);
    Ok(bytes)
}

/// An image mapped into an address space.
#[derive(Debug, Clone)]
pub struct MappedImage {
    /// What is added to the image's addresses: 0 for `ET_EXEC`, else where the space put it.
    pub bias: usize,
    /// The image.
    pub image: ElfImage,
}

/// Where a position-independent `image` goes in `space` (its bias); 0 for a fixed one.
pub fn place_image(space: &dyn AddressSpace, image: &ElfImage) -> LxResult<usize> {
    let (first_page, end_page) = image.page_span()?;
    if !image.relocatable {
        return Ok(0);
    }
    space
        .reserve(end_page - first_page)?
        .checked_sub(first_page)
        .ok_or(LxError::ENOEXEC)
}

/// The page-granular pieces `image` maps, before the bias: `(start, end, protection)`. Two
/// segments may share a page (one ends and the next starts in it); that page gets both
/// protections, as Linux's overlapping mmaps leave it.
fn image_pieces(image: &ElfImage) -> LxResult<Vec<(usize, usize, Protection)>> {
    let mut pieces: Vec<(usize, usize, Protection)> = Vec::new();
    for segment in &image.segments {
        let mut start = page_floor(segment.vaddr);
        let end = page_ceil(segment.end())?;
        if let Some(last) = pieces.last_mut() {
            if start < last.1 {
                let prot = last.2 | segment.prot;
                last.1 = start;
                if last.0 == last.1 {
                    pieces.pop();
                }
                pieces.push((start, start + PAGE_SIZE, prot));
                start += PAGE_SIZE;
            }
        }
        if start < end {
            pieces.push((start, end, segment.prot));
        }
    }
    Ok(pieces)
}

/// Maps `image`'s segments (bytes from `file`) and returns the bias it was loaded at.
pub fn map_image(space: &dyn AddressSpace, file: &[u8], image: ElfImage) -> LxResult<MappedImage> {
    let bias = place_image(space, &image)?;
    let biased = |addr: usize| addr.checked_add(bias).ok_or(LxError::ENOEXEC);
    for (start, end, prot) in image_pieces(&image)? {
        space.map(biased(start)?, end - start, prot)?;
    }
    for segment in &image.segments {
        let data = file_range(file, segment.file_offset, segment.file_len)?;
        space.write(biased(segment.vaddr)?, data)?;
    }
    Ok(MappedImage { bias, image })
}

/// Loads the executable `file` (and its interpreter, found with `lookup_interpreter`) into
/// `space`, maps the stack and fills it. On error the address space may hold part of the
/// image: `execve` loads into a fresh one and drops it on failure.
pub fn load(
    space: &dyn AddressSpace,
    file: &dyn INode,
    lookup_interpreter: InterpreterLookup<'_>,
    params: &ExecParams<'_>,
) -> LxResult<LoadedProgram> {
    let program = space.load_image(file)?;
    let interpreter_path = program.image.interpreter.clone();
    let interpreter = match &interpreter_path {
        Some(path) => Some(space.load_image(&*lookup_interpreter(path)?)?),
        None => None,
    };

    let program_entry = program
        .image
        .entry
        .checked_add(program.bias)
        .filter(|&entry| entry < USER_SPACE_END)
        .ok_or(LxError::EINVAL)?;
    let entry = match &interpreter {
        Some(interp) => interp
            .image
            .entry
            .checked_add(interp.bias)
            .filter(|&entry| entry < USER_SPACE_END)
            .ok_or(LxError::EINVAL)?,
        None => program_entry,
    };
    let phdr = program.image.phdr_vaddr.map_or(Ok(0), |vaddr| {
        vaddr.checked_add(program.bias).ok_or(LxError::ENOEXEC)
    })?;
    let interpreter_base = interpreter.as_ref().map(|interp| interp.bias);
    let creds = params.credentials;
    let secure = creds.uid != creds.euid || creds.gid != creds.egid;
    let auxv = [
        (auxv::AT_HWCAP, params.hwcap),
        (auxv::AT_PAGESZ, PAGE_SIZE as u64),
        (auxv::AT_CLKTCK, 100),
        (auxv::AT_PHDR, phdr as u64),
        (auxv::AT_PHENT, 56),
        (auxv::AT_PHNUM, program.image.phnum as u64),
        (auxv::AT_BASE, interpreter_base.unwrap_or(0) as u64),
        (auxv::AT_FLAGS, 0),
        (auxv::AT_ENTRY, program_entry as u64),
        (auxv::AT_UID, creds.uid.into()),
        (auxv::AT_EUID, creds.euid.into()),
        (auxv::AT_GID, creds.gid.into()),
        (auxv::AT_EGID, creds.egid.into()),
        (auxv::AT_SECURE, secure.into()),
    ];
    let stack = build_stack(
        params.stack_top,
        params.stack_size / 4,
        &StackContents {
            argv: params.argv,
            envp: params.envp,
            exec_fn: params.exec_fn,
            random: params.random,
            auxv: &auxv,
        },
    )?;
    let stack_bottom = params
        .stack_top
        .checked_sub(params.stack_size)
        .ok_or(LxError::EINVAL)?;
    space.map_stack(stack_bottom, params.stack_size, stack.sp, &stack.bytes)?;

    let (_, program_end) = program.image.page_span()?;
    Ok(LoadedProgram {
        entry,
        stack_pointer: stack.sp,
        program_entry,
        program_base: program.bias,
        interpreter_base,
        interpreter: interpreter_path,
        brk: program_end
            .checked_add(program.bias)
            .ok_or(LxError::ENOEXEC)?,
    })
}

#[cfg(test)]
mod tests;
