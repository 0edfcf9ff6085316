//! Reading and validating an ELF64 x86-64 executable: its header, its program headers, its
//! `PT_LOAD` segments and its `PT_INTERP` path. Every field that the loader will trust is
//! checked here against the file's length and the user address space, with checked
//! arithmetic; anything wrong is `ENOEXEC`.
//!
//! Only the headers are read (at most 64 bytes, a 64 KiB program header table and a
//! `PATH_MAX` interpreter path), from an [`ElfSource`]: a file is never read whole, whatever
//! its size, since its segments are mapped from it afterwards.

use crate::error::{LxError, LxResult};
use alloc::string::String;
use alloc::vec::Vec;
use goblin::elf64::header::{
    Header, EI_CLASS, EI_DATA, EI_VERSION, ELFCLASS64, ELFDATA2LSB, ELFMAG, EM_X86_64, ET_DYN,
    ET_EXEC, EV_CURRENT, SELFMAG, SIZEOF_EHDR,
};
use goblin::elf64::program_header::{
    ProgramHeader, PF_R, PF_W, PF_X, PT_INTERP, PT_LOAD, PT_PHDR, SIZEOF_PHDR,
};
use scroll::{Pread, LE};

use super::{Protection, PAGE_SIZE, USER_SPACE_END};

/// Linux's bound on the program header table (`ELF_MIN_ALIGN`-sized, 64 KiB).
const MAX_PHDR_TABLE: usize = 65536;

/// Linux's bound on a `PT_INTERP` path (`PATH_MAX`).
const MAX_INTERP_LEN: usize = 4096;

/// One `PT_LOAD` segment, checked: its file bytes lie in the file, its memory range in user
/// space and after the previous segment's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadSegment {
    /// Where the segment starts, before the load bias.
    pub vaddr: usize,
    /// Its length in memory (`p_memsz`); the part past `file_len` is zero (`.bss`).
    pub mem_len: usize,
    /// Where its bytes start in the file.
    pub file_offset: usize,
    /// How many bytes come from the file (`p_filesz`).
    pub file_len: usize,
    /// Its protection.
    pub prot: Protection,
}

impl LoadSegment {
    /// The segment's end in memory (checked at parse time not to overflow).
    pub fn end(&self) -> usize {
        self.vaddr.saturating_add(self.mem_len)
    }
}

/// A validated ELF executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfImage {
    /// Position-independent (`ET_DYN`): loaded at a base the address space chooses.
    pub relocatable: bool,
    /// The entry point, before the load bias.
    pub entry: usize,
    /// The `PT_LOAD` segments, in ascending, non-overlapping address order.
    pub segments: Vec<LoadSegment>,
    /// The program interpreter (`PT_INTERP`), if any.
    pub interpreter: Option<String>,
    /// Where the program header table is in memory, before the load bias, if it is mapped.
    pub phdr_vaddr: Option<usize>,
    /// Number of program headers (`AT_PHNUM`).
    pub phnum: usize,
}

impl ElfImage {
    /// The lowest page and the end of the highest page the image covers, before the bias.
    pub fn page_span(&self) -> LxResult<(usize, usize)> {
        let first = self.segments.first().ok_or(LxError::ENOEXEC)?;
        let last = self.segments.last().ok_or(LxError::ENOEXEC)?;
        Ok((page_floor(first.vaddr), page_ceil(last.end())?))
    }
}

/// `addr` rounded down to a page boundary.
pub(crate) fn page_floor(addr: usize) -> usize {
    addr - addr % PAGE_SIZE
}

/// `addr` rounded up to a page boundary; `ENOEXEC` if that overflows.
pub(crate) fn page_ceil(addr: usize) -> LxResult<usize> {
    addr.checked_next_multiple_of(PAGE_SIZE)
        .ok_or(LxError::ENOEXEC)
}

fn to_usize(value: u64) -> LxResult<usize> {
    usize::try_from(value).map_err(|_| LxError::ENOEXEC)
}

/// Where an executable's bytes are read from: a file, or bytes already in memory.
pub trait ElfSource {
    /// The file's length in bytes.
    fn size(&self) -> usize;

    /// Fills `buf` from `offset`; `ENOEXEC` if the file ends first.
    fn read_exact_at(&self, offset: usize, buf: &mut [u8]) -> LxResult;

    /// `len` bytes from `offset` in a new buffer; `ENOEXEC` if they are not all in the file.
    fn read_vec(&self, offset: usize, len: usize) -> LxResult<Vec<u8>> {
        let end = offset.checked_add(len).ok_or(LxError::ENOEXEC)?;
        if end > self.size() {
            return Err(LxError::ENOEXEC);
        }
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(len).map_err(|_| LxError::ENOMEM)?;
        bytes.resize(len, 0);
        self.read_exact_at(offset, &mut bytes)?;
        Ok(bytes)
    }
}

impl ElfSource for &[u8] {
    fn size(&self) -> usize {
        self.len()
    }

    fn read_exact_at(&self, offset: usize, buf: &mut [u8]) -> LxResult {
        let end = offset.checked_add(buf.len()).ok_or(LxError::ENOEXEC)?;
        buf.copy_from_slice(self.get(offset..end).ok_or(LxError::ENOEXEC)?);
        Ok(())
    }
}

fn check_header(header: &Header) -> LxResult {
    let ident = &header.e_ident;
    let well_formed = ident.get(..SELFMAG) == Some(&ELFMAG[..])
        && ident.get(EI_CLASS) == Some(&ELFCLASS64)
        && ident.get(EI_DATA) == Some(&ELFDATA2LSB)
        && ident.get(EI_VERSION) == Some(&EV_CURRENT)
        && (header.e_type == ET_EXEC || header.e_type == ET_DYN)
        && header.e_machine == EM_X86_64
        && usize::from(header.e_phentsize) == SIZEOF_PHDR
        && header.e_phnum > 0
        && usize::from(header.e_phnum) * SIZEOF_PHDR <= MAX_PHDR_TABLE;
    if well_formed {
        Ok(())
    } else {
        Err(LxError::ENOEXEC)
    }
}

fn protection(flags: u32) -> Protection {
    let mut prot = Protection::empty();
    prot.set(Protection::READ, flags & PF_R != 0);
    prot.set(Protection::WRITE, flags & PF_W != 0);
    prot.set(Protection::EXEC, flags & PF_X != 0);
    prot
}

fn load_segment(ph: &ProgramHeader, file_len: usize) -> LxResult<LoadSegment> {
    let segment = LoadSegment {
        vaddr: to_usize(ph.p_vaddr)?,
        mem_len: to_usize(ph.p_memsz)?,
        file_offset: to_usize(ph.p_offset)?,
        file_len: to_usize(ph.p_filesz)?,
        prot: protection(ph.p_flags),
    };
    let file_end = segment
        .file_offset
        .checked_add(segment.file_len)
        .ok_or(LxError::ENOEXEC)?;
    let mem_end = segment
        .vaddr
        .checked_add(segment.mem_len)
        .ok_or(LxError::ENOEXEC)?;
    // A segment's file offset and address must agree within a page, as mmap needs them to.
    let congruent = segment.vaddr % PAGE_SIZE == segment.file_offset % PAGE_SIZE;
    if segment.file_len > segment.mem_len
        || file_end > file_len
        || mem_end > USER_SPACE_END
        || !congruent
    {
        return Err(LxError::ENOEXEC);
    }
    Ok(segment)
}

fn interpreter_path(file: &dyn ElfSource, ph: &ProgramHeader) -> LxResult<String> {
    let len = to_usize(ph.p_filesz)?;
    if !(2..=MAX_INTERP_LEN).contains(&len) {
        return Err(LxError::ENOEXEC);
    }
    let mut raw = file.read_vec(to_usize(ph.p_offset)?, len)?;
    // NUL-terminated, with no NUL before the end.
    if raw.pop() != Some(0) || raw.contains(&0) {
        return Err(LxError::ENOEXEC);
    }
    String::from_utf8(raw).map_err(|_| LxError::ENOEXEC)
}

/// Parses and validates `bytes`, a whole executable file.
pub fn parse(bytes: &[u8]) -> LxResult<ElfImage> {
    parse_file(&bytes)
}

/// Parses and validates the executable `file`, reading only its headers.
pub fn parse_file(file: &dyn ElfSource) -> LxResult<ElfImage> {
    let mut ehdr = [0u8; SIZEOF_EHDR];
    file.read_exact_at(0, &mut ehdr)?;
    let header: Header = ehdr.pread_with(0, LE).map_err(|_| LxError::ENOEXEC)?;
    check_header(&header)?;
    let phoff = to_usize(header.e_phoff)?;
    let phnum = usize::from(header.e_phnum);
    let table_len = phnum * SIZEOF_PHDR;
    let table = file.read_vec(phoff, table_len)?;

    let mut image = ElfImage {
        relocatable: header.e_type == ET_DYN,
        entry: to_usize(header.e_entry)?,
        segments: Vec::new(),
        interpreter: None,
        phdr_vaddr: None,
        phnum,
    };
    let mut explicit_phdr = None;
    for index in 0..phnum {
        let at = index * SIZEOF_PHDR;
        let ph: ProgramHeader = table.pread_with(at, LE).map_err(|_| LxError::ENOEXEC)?;
        match ph.p_type {
            PT_LOAD if ph.p_memsz == 0 => {}
            PT_LOAD => {
                let segment = load_segment(&ph, file.size())?;
                // The ELF spec has loadable segments sorted by address; overlapping ones
                // would make two segments claim the same bytes.
                if let Some(previous) = image.segments.last() {
                    if segment.vaddr < previous.end() {
                        return Err(LxError::ENOEXEC);
                    }
                }
                image.segments.push(segment);
            }
            // Only the first PT_INTERP counts, as on Linux.
            PT_INTERP if image.interpreter.is_none() => {
                image.interpreter = Some(interpreter_path(file, &ph)?);
            }
            PT_PHDR => explicit_phdr = Some(to_usize(ph.p_vaddr)?),
            _ => {}
        }
    }
    if image.segments.is_empty() {
        return Err(LxError::ENOEXEC);
    }
    // Where the table is in memory: in the segment whose file bytes hold it (what Linux
    // computes), else where PT_PHDR says.
    image.phdr_vaddr = image
        .segments
        .iter()
        .find(|s| s.file_offset <= phoff && phoff + table_len <= s.file_offset + s.file_len)
        .map(|s| s.vaddr + (phoff - s.file_offset))
        .or(explicit_phdr);
    Ok(image)
}
