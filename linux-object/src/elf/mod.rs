//! The ELF loader: maps a static or dynamically linked (`PT_INTERP`) x86-64 executable and its
//! interpreter into an address space and builds the initial stack a libc expects.
//!
//! The loader writes through the [`AddressSpace`] trait, so it knows nothing of page tables:
//! the kernel implements it over a zircon `VmAddressRegion`, tests over plain memory.
//! Everything read from the file is validated first ([`parse`]): a bad magic, class, machine
//! or header size, a program header table or segment outside the file, segments that
//! overflow, leave user space or overlap, a malformed interpreter path — each is `ENOEXEC`.
//!
//! As Linux's `binfmt_elf`, the loader reads only the headers; a segment's whole pages of file
//! bytes are *mapped from the file* ([`AddressSpace::map_file`]: privately, so that a
//! program's writes to its data stay its own), and its `.bss` is zeroed memory. The only bytes
//! copied are those of a page a segment's file bytes share with its `.bss` or with another
//! segment (at most two pages per segment), so a 100 MiB program starts without a large
//! allocation, and two containers running the same file share its page cache.
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

pub use parse::{parse, parse_file, ElfImage, ElfSource, LoadSegment};
pub use stack::{auxv, build as build_stack, InitialStack, StackContents, MAX_ARG_STRLEN};

use crate::error::{LxError, LxResult};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use bitflags::bitflags;
use kernel_hostfs::{FileType, INode};
use parse::{page_ceil, page_floor};

/// The page size of x86-64.
pub const PAGE_SIZE: usize = 4096;

/// The end of the x86-64 user address space (Linux's `TASK_SIZE`, 47-bit, less a guard page).
pub const USER_SPACE_END: usize = 0x7fff_ffff_f000;

/// Where the stack ends (its highest address) unless [`ExecParams::stack_top`] says otherwise.
pub const DEFAULT_STACK_TOP: usize = 0x7fff_ffff_0000;

/// The stack's size: Linux's default `RLIMIT_STACK`, 8 MiB.
pub const DEFAULT_STACK_SIZE: usize = 8 << 20;

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

    /// Maps `len` bytes of `file` from `offset` at `vaddr` with `prot`, privately: the
    /// program's writes are its own, and the file's later changes may or may not show, as
    /// with `mmap(MAP_PRIVATE)`. All three are page multiples; the range does not overlap one
    /// mapped before; past the file's end the pages read as zero. The loader never writes
    /// into these pages. The default maps zeroed memory and copies the bytes in, a page at a
    /// time; a space that can map files does so instead.
    fn map_file(
        &self,
        vaddr: usize,
        len: usize,
        prot: Protection,
        file: &dyn INode,
        offset: usize,
    ) -> LxResult {
        self.map(vaddr, len, prot)?;
        let mut page = page_buffer()?;
        let mut done = 0;
        while done < len {
            let at = offset.checked_add(done).ok_or(LxError::ENOEXEC)?;
            let filled = read_up_to(file, at, &mut page)?;
            if filled == 0 {
                break;
            }
            self.write(vaddr + done, page.get(..filled).unwrap_or_default())?;
            done += PAGE_SIZE;
        }
        Ok(())
    }

    /// Maps `len` bytes of zeroed memory at `vaddr` with `prot` that the loader will never
    /// write (a `.bss`): the default is [`map`](Self::map); a space may back it however it
    /// likes, as long as the program finds it zeroed.
    fn map_zeroed(&self, vaddr: usize, len: usize, prot: Protection) -> LxResult {
        self.map(vaddr, len, prot)
    }

    /// Where this space wants the stack to end (its highest address, page aligned): what
    /// `execve` passes as [`ExecParams::stack_top`]. A space that is not all of user space
    /// (the host backend's page table reserves 1 GiB) puts it at its own top.
    fn stack_top(&self) -> usize {
        DEFAULT_STACK_TOP
    }

    /// Maps the stack: `len` bytes of zeroed memory from `bottom` (page multiples), `contents`
    /// written at `sp` (at its top). A space may leave the pages below the contents to be
    /// backed however it likes, as long as the program finds them zeroed and writable.
    fn map_stack(&self, bottom: usize, len: usize, sp: usize, contents: &[u8]) -> LxResult {
        self.map(bottom, len, Protection::READ | Protection::WRITE)?;
        self.write(sp, contents)
    }
}

/// A zeroed buffer of one page, allocated fallibly.
fn page_buffer() -> LxResult<Vec<u8>> {
    let mut page = Vec::new();
    page.try_reserve_exact(PAGE_SIZE)
        .map_err(|_| LxError::ENOMEM)?;
    page.resize(PAGE_SIZE, 0);
    Ok(page)
}

/// Fills `buf` from `file` at `offset` as far as the file goes; returns how much was read.
fn read_up_to(file: &dyn INode, offset: usize, buf: &mut [u8]) -> LxResult<usize> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..).filter(|rest| !rest.is_empty()) {
        match file.read_at(offset + filled, rest)? {
            0 => break,
            count => filled += count,
        }
    }
    Ok(filled)
}

/// An executable file as an [`ElfSource`]: its size when it was opened, its bytes read on
/// demand.
struct FileSource<'a> {
    file: &'a dyn INode,
    size: usize,
}

impl ElfSource for FileSource<'_> {
    fn size(&self) -> usize {
        self.size
    }

    fn read_exact_at(&self, offset: usize, buf: &mut [u8]) -> LxResult {
        if read_up_to(self.file, offset, buf)? == buf.len() {
            Ok(())
        } else {
            Err(LxError::ENOEXEC)
        }
    }
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

/// One entry of the auxiliary vector: its type and value.
type AuxEntry = (u64, u64);

/// What the auxiliary vector says of the machine, as the host kernel says it to its own
/// programs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Machine {
    /// `AT_HWCAP`: the CPU's capabilities (CPUID.1:EDX on x86-64).
    pub hwcap: u64,
    /// `AT_HWCAP2`, where the kernel gives it.
    pub hwcap2: Option<u64>,
    /// `AT_MINSIGSTKSZ`: the size of a signal frame on this CPU.
    pub minsigstksz: Option<u64>,
    /// `AT_SYSINFO_EHDR`: where the vDSO the process keeps across `execve` is mapped.
    pub vdso: Option<u64>,
    /// `AT_RSEQ_FEATURE_SIZE` and `AT_RSEQ_ALIGN` (Linux 6.3 and later).
    pub rseq: Option<(u64, u64)>,
}

impl Machine {
    /// Its entries of the auxiliary vector, as Linux orders them around the others: those
    /// that come first (`AT_SYSINFO_EHDR`, `AT_MINSIGSTKSZ`, `AT_HWCAP`) and those that come
    /// last.
    fn auxv(&self) -> ([Option<AuxEntry>; 3], [Option<AuxEntry>; 3]) {
        let first = [
            self.vdso.map(|vdso| (auxv::AT_SYSINFO_EHDR, vdso)),
            self.minsigstksz.map(|size| (auxv::AT_MINSIGSTKSZ, size)),
            Some((auxv::AT_HWCAP, self.hwcap)),
        ];
        let last = [
            self.hwcap2.map(|caps| (auxv::AT_HWCAP2, caps)),
            self.rseq
                .map(|(size, _)| (auxv::AT_RSEQ_FEATURE_SIZE, size)),
            self.rseq.map(|(_, align)| (auxv::AT_RSEQ_ALIGN, align)),
        ];
        (first, last)
    }
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
    /// What the auxiliary vector says of the machine.
    pub machine: Machine,
    /// The stack's highest address (page aligned): the space's
    /// [`AddressSpace::stack_top`].
    pub stack_top: usize,
    /// The stack's size (page multiple); arguments may fill a quarter of it.
    pub stack_size: usize,
    /// How far above the program's end the program break starts (a page multiple: Linux
    /// moves it up to 32 MiB at random).
    pub brk_offset: usize,
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
    /// Where the argument strings lie on the stack.
    pub args: core::ops::Range<usize>,
    /// Where the environment strings lie on the stack.
    pub env: core::ops::Range<usize>,
}

/// Checks that `file` is a regular file (`EACCES` for anything else, as `execve` gives) and
/// parses its headers.
fn parse_regular(file: &dyn INode) -> LxResult<ElfImage> {
    let metadata = file.metadata()?;
    if metadata.type_ != FileType::File {
        return Err(LxError::EACCES);
    }
    let size = usize::try_from(metadata.size).map_err(|_| LxError::ENOEXEC)?;
    parse_file(&FileSource { file, size })
}

/// Checks `file` and its interpreter (found with `lookup_interpreter`) as [`load`] does
/// before it maps anything: what `execve` may still refuse (`EACCES`, `ENOEXEC`, the
/// lookup's errors) before a point of no return that comes earlier than the load.
pub fn check(file: &dyn INode, lookup_interpreter: InterpreterLookup<'_>) -> LxResult {
    let image = parse_regular(file)?;
    if let Some(path) = &image.interpreter {
        parse_regular(&*lookup_interpreter(path)?)?;
    }
    Ok(())
}

/// Checks that `file` is a regular file (`EACCES` for anything else, as `execve` gives),
/// parses its headers, and maps it into `space`.
pub fn load_image(space: &dyn AddressSpace, file: &dyn INode) -> LxResult<MappedImage> {
    map_image(space, file, parse_regular(file)?)
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

/// How one page-granular piece of an image is backed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backing {
    /// The file's bytes from this offset, mapped.
    File(usize),
    /// Zeroed memory that the segments' file bytes are then copied into: a page that a
    /// segment's file bytes share with its `.bss` or with another segment.
    Copied,
    /// Zeroed memory and nothing else (`.bss`).
    Zeroed,
}

/// A page-granular piece of an image, before the bias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    start: usize,
    end: usize,
    prot: Protection,
    backing: Backing,
}

/// The pieces `image` maps, in address order. A page two segments share (one ends and the
/// next starts in it) is copied, with both protections, as Linux's overlapping mmaps leave it.
fn image_pieces(image: &ElfImage) -> LxResult<Vec<Piece>> {
    let mut pieces: Vec<Piece> = Vec::new();
    let push = |pieces: &mut Vec<Piece>, piece: Piece| {
        pieces.try_reserve(1).map_err(|_| LxError::ENOMEM)?;
        pieces.push(piece);
        Ok::<(), LxError>(())
    };
    for segment in &image.segments {
        let first_page = page_floor(segment.vaddr);
        let mut start = first_page;
        let file_end = segment.vaddr + segment.file_len;
        let mem_end = page_ceil(segment.end())?;
        let prot = segment.prot;
        // Segments are sorted and disjoint: at most the first page is the previous one's.
        if let Some(last) = pieces.last_mut().filter(|last| start < last.end) {
            let shared = last.prot | prot;
            last.end = start;
            if last.start == last.end {
                pieces.pop();
            }
            let page = Piece {
                start,
                end: start + PAGE_SIZE,
                prot: shared,
                backing: Backing::Copied,
            };
            push(&mut pieces, page)?;
            start += PAGE_SIZE;
        }
        // Whole pages of file bytes; the last one too when no `.bss` follows in it.
        let file_pages_end = if segment.mem_len > segment.file_len {
            page_floor(file_end)
        } else {
            page_ceil(file_end)?
        };
        if start < file_pages_end {
            let offset = segment.file_offset - segment.vaddr % PAGE_SIZE + (start - first_page);
            let mapped = Piece {
                start,
                end: file_pages_end,
                prot,
                backing: Backing::File(offset),
            };
            push(&mut pieces, mapped)?;
            start = file_pages_end;
        }
        if start < mem_end && start < file_end {
            let page = Piece {
                start,
                end: start + PAGE_SIZE,
                prot,
                backing: Backing::Copied,
            };
            push(&mut pieces, page)?;
            start += PAGE_SIZE;
        }
        if start < mem_end {
            let bss = Piece {
                start,
                end: mem_end,
                prot,
                backing: Backing::Zeroed,
            };
            push(&mut pieces, bss)?;
        }
    }
    Ok(pieces)
}

/// Copies into the copied piece `piece` (at `bias`) the file bytes of every segment that lie
/// in it. A segment's bytes are taken from its page's start (as a mapping of its file page
/// would show them), but never over an earlier segment's memory.
fn fill_copied(
    space: &dyn AddressSpace,
    file: &dyn INode,
    image: &ElfImage,
    piece: &Piece,
    bias: usize,
    page: &mut [u8],
) -> LxResult {
    let mut previous_end = 0;
    for segment in &image.segments {
        let from = page_floor(segment.vaddr).max(previous_end).max(piece.start);
        let to = (segment.vaddr + segment.file_len).min(piece.end);
        previous_end = segment.end();
        if from >= to {
            continue;
        }
        // `from` is at most a page below the segment, whose offset agrees with it in the page.
        let offset = (segment.file_offset + from)
            .checked_sub(segment.vaddr)
            .ok_or(LxError::ENOEXEC)?;
        let buf = page.get_mut(..to - from).ok_or(LxError::ENOEXEC)?;
        let filled = read_up_to(file, offset, buf)?;
        if filled != buf.len() {
            return Err(LxError::ENOEXEC);
        }
        let at = from.checked_add(bias).ok_or(LxError::ENOEXEC)?;
        space.write(at, buf)?;
    }
    Ok(())
}

/// Maps `image`'s segments (bytes from `file`) and returns the bias it was loaded at.
pub fn map_image(
    space: &dyn AddressSpace,
    file: &dyn INode,
    image: ElfImage,
) -> LxResult<MappedImage> {
    let bias = place_image(space, &image)?;
    let biased = |addr: usize| addr.checked_add(bias).ok_or(LxError::ENOEXEC);
    let pieces = image_pieces(&image)?;
    let mut page = None;
    for piece in &pieces {
        let (vaddr, len) = (biased(piece.start)?, piece.end - piece.start);
        match piece.backing {
            Backing::File(offset) => space.map_file(vaddr, len, piece.prot, file, offset)?,
            Backing::Zeroed => space.map_zeroed(vaddr, len, piece.prot)?,
            Backing::Copied => {
                space.map(vaddr, len, piece.prot)?;
                let page = match &mut page {
                    Some(page) => page,
                    None => page.insert(page_buffer()?),
                };
                fill_copied(space, file, &image, piece, bias, page)?;
            }
        }
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
    let program = load_image(space, file)?;
    let interpreter_path = program.image.interpreter.clone();
    let interpreter = match &interpreter_path {
        Some(path) => Some(load_image(space, &*lookup_interpreter(path)?)?),
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
    let (machine_first, machine_last) = params.machine.auxv();
    let common = [
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
    let mut auxv: Vec<(u64, u64)> = Vec::new();
    auxv.try_reserve_exact(machine_first.len() + common.len() + machine_last.len())
        .map_err(|_| LxError::ENOMEM)?;
    auxv.extend(machine_first.into_iter().flatten());
    auxv.extend(common);
    auxv.extend(machine_last.into_iter().flatten());
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
        args: stack.args.clone(),
        env: stack.env.clone(),
        program_entry,
        program_base: program.bias,
        interpreter_base,
        interpreter: interpreter_path,
        brk: program_end
            .checked_add(program.bias)
            .and_then(|end| end.checked_add(params.brk_offset))
            .filter(|&brk| brk < USER_SPACE_END)
            .ok_or(LxError::ENOEXEC)?,
    })
}

#[cfg(test)]
mod tests;
