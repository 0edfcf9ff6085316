//! Real programs, compiled here with `cc`, loaded into a fresh VMAR of the host HAL and read
//! back through it.

use super::*;
use crate::elf::{
    auxv, load, parse, Credentials, ExecParams, LoadedProgram, Machine, DEFAULT_STACK_SIZE,
};
use alloc::vec;
use alloc::vec::Vec;
use kernel_hal_lkm::platform;
use kernel_hostfs::{FileSystem, HostFs, INode};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const HELLO_C: &str = r#"
#include <stdio.h>
int counter = 42;
static char zeroes[8192];
int main(int argc, char **argv) { zeroes[argc] = 1; printf("%s %d\n", argv[0], counter); return 0; }
"#;

/// A fresh address space on a physical memory large enough for a program and its stack.
fn fresh_space() -> VmarSpace {
    let memory = platform().unwrap().new_physical_memory(4096).unwrap();
    let vmar = VmAddressRegion::new_root(memory.clone().new_page_table().unwrap());
    VmarSpace::new(vmar, memory)
}

fn work_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("linux-object-vm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compiles `HELLO_C` with `flags`, or `None` (with a notice) if `cc` cannot.
fn compile(name: &str, flags: &[&str]) -> Option<PathBuf> {
    let dir = work_dir();
    let source = dir.join(format!("{name}.c"));
    std::fs::write(&source, HELLO_C).unwrap();
    let output = dir.join(name);
    let built = Command::new("cc")
        .args(flags)
        .arg("-o")
        .arg(&output)
        .arg(&source)
        .status()
        .is_ok_and(|status| status.success());
    if built {
        Some(output)
    } else {
        println!(
            "notice: skipping: `cc {}` is not available",
            flags.join(" ")
        );
        None
    }
}

fn params<'a>(argv: &'a [&'a [u8]], stack_top: usize) -> ExecParams<'a> {
    ExecParams {
        argv,
        envp: &[b"PATH=/bin", b"HOME=/"],
        exec_fn: b"/hello",
        credentials: Credentials::default(),
        random: *b"fedcba9876543210",
        machine: Machine {
            hwcap: 0x178b_fbff,
            ..Machine::default()
        },
        stack_top,
        stack_size: DEFAULT_STACK_SIZE,
        brk_offset: 0,
    }
}

/// Loads the host file `path` into `space`, interpreters resolved from the host's `/`.
fn load_into(space: &VmarSpace, path: &Path, argv: &[&[u8]]) -> LxResult<LoadedProgram> {
    let root = HostFs::new(path.parent().unwrap()).unwrap().root_inode();
    let inode = root
        .lookup(path.file_name().unwrap().to_str().unwrap())
        .unwrap();
    let host_root = HostFs::new(Path::new("/")).unwrap().root_inode();
    let lookup = |p: &str| -> LxResult<Arc<dyn INode>> { Ok(host_root.lookup(p)?) };
    load(space, &*inode, &lookup, &params(argv, space.stack_top()))
}

/// Reads through the VMAR as the program would (readable mappings only).
fn read(space: &VmarSpace, addr: usize, len: usize) -> Vec<u8> {
    let mut bytes = vec![0; len];
    space.vmar().read_memory(addr, &mut bytes).unwrap();
    bytes
}

fn word(space: &VmarSpace, addr: usize) -> u64 {
    u64::from_le_bytes(read(space, addr, 8).try_into().unwrap())
}

fn c_string(space: &VmarSpace, addr: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        match read(space, addr as usize + out.len(), 1)[0] {
            0 => return out,
            byte => out.push(byte),
        }
    }
}

/// argv, envp and the auxiliary vector as read back from a stack.
type StackView = (Vec<Vec<u8>>, Vec<Vec<u8>>, BTreeMap<u64, u64>);

/// argv, envp and the auxiliary vector, read back from the stack at `sp`.
fn read_stack(space: &VmarSpace, sp: usize) -> StackView {
    assert_eq!(sp % 16, 0);
    let argc = word(space, sp) as usize;
    let argv = (0..argc)
        .map(|i| c_string(space, word(space, sp + 8 + 8 * i)))
        .collect();
    let mut at = sp + 8 + 8 * argc;
    assert_eq!(word(space, at), 0, "argv ends with NULL");
    at += 8;
    let mut envp = Vec::new();
    while word(space, at) != 0 {
        envp.push(c_string(space, word(space, at)));
        at += 8;
    }
    at += 8;
    let mut aux = BTreeMap::new();
    loop {
        let (key, value) = (word(space, at), word(space, at + 8));
        at += 16;
        if key == auxv::AT_NULL {
            return (argv, envp, aux);
        }
        aux.insert(key, value);
    }
}

/// Segments mapped with the file's bytes and protections, the stack at the region's top with
/// argc/argv/envp/auxv a libc can start from.
fn check_loaded(space: &VmarSpace, loaded: &LoadedProgram, file: &[u8], argv: &[&[u8]]) {
    let image = parse(file).unwrap();
    for segment in &image.segments {
        let addr = segment.vaddr + loaded.program_base;
        let mapping = space.vmar().find_mapping(addr).expect("segment mapped");
        assert!(
            mapping.flags().contains(mmu_flags(segment.prot)),
            "rights of {addr:#x}"
        );
        let mut bytes = vec![0; segment.file_len];
        space.read(addr, &mut bytes).unwrap();
        assert!(
            bytes == file[segment.file_offset..segment.file_offset + segment.file_len],
            "bytes of the segment at {addr:#x}"
        );
        let mut bss = vec![1; (segment.mem_len - segment.file_len).min(4096)];
        space.read(addr + segment.file_len, &mut bss).unwrap();
        assert!(bss.iter().all(|&b| b == 0), "bss is zero");
    }
    // Text is executable and not writable, data writable and not executable.
    let text = image
        .segments
        .iter()
        .find(|s| s.prot.contains(Protection::EXEC))
        .unwrap();
    let text_flags = space
        .vmar()
        .find_mapping(text.vaddr + text.mem_len / 2 + loaded.program_base)
        .unwrap()
        .flags();
    assert_eq!(text_flags, MmuFlags::READ | MmuFlags::EXECUTE);
    assert_eq!(
        space.vmar().write_memory(loaded.entry, b"x"),
        Err(VmError::AccessDenied),
        "text is read-only for the program"
    );

    let (got_argv, envp, aux) = read_stack(space, loaded.stack_pointer);
    assert_eq!(got_argv, argv);
    assert_eq!(envp, [&b"PATH=/bin"[..], b"HOME=/"]);
    let phdr = aux[&auxv::AT_PHDR] as usize;
    let phoff = u64::from_le_bytes(file[32..40].try_into().unwrap()) as usize;
    assert_eq!(
        read(space, phdr, 56 * image.phnum),
        file[phoff..phoff + 56 * image.phnum]
    );
    assert_eq!(aux[&auxv::AT_PHNUM], image.phnum as u64);
    assert_eq!(
        aux[&auxv::AT_ENTRY] as usize,
        image.entry + loaded.program_base
    );
    assert_eq!(
        aux[&auxv::AT_BASE] as usize,
        loaded.interpreter_base.unwrap_or(0)
    );
    assert_eq!(aux[&auxv::AT_PAGESZ], 4096);
    assert_eq!(
        read(space, aux[&auxv::AT_RANDOM] as usize, 16),
        b"fedcba9876543210"
    );
    assert_eq!(c_string(space, aux[&auxv::AT_EXECFN]), b"/hello");
    assert_eq!(c_string(space, aux[&auxv::AT_PLATFORM]), b"x86_64");

    // The stack's contents are backed; the rest of its 8 MiB is left to the installer.
    let stack = space.vmar().find_mapping(loaded.stack_pointer).unwrap();
    assert_eq!(stack.addr() + stack.len(), space.stack_top());
    assert_eq!(space.stack_top(), space.vmar().addr() + space.vmar().size());
    assert_eq!(stack.addr(), loaded.stack_pointer & !(PAGE_SIZE - 1));
    assert_eq!(
        space.unbacked_stack(),
        Some(space.stack_top() - DEFAULT_STACK_SIZE..stack.addr())
    );
    assert_eq!(stack.flags(), MmuFlags::READ | MmuFlags::WRITE);
    assert_eq!(loaded.brk % PAGE_SIZE, 0);
    assert!(loaded.brk >= image.segments.last().unwrap().end() + loaded.program_base);
}

#[test]
fn a_static_pie_program_loads_at_the_bottom_of_the_region() {
    let Some(path) = compile("hello-static-pie", &["-static-pie", "-O1"]) else {
        return;
    };
    let space = fresh_space();
    let argv: &[&[u8]] = &[b"hello", b"static", b"pie"];
    let loaded = load_into(&space, &path, argv).unwrap();
    let file = std::fs::read(&path).unwrap();
    check_loaded(&space, &loaded, &file, argv);
    assert_eq!(loaded.interpreter_base, None);
    assert_eq!(loaded.entry, loaded.program_entry);
    let first_page = parse(&file).unwrap().page_span().unwrap().0;
    assert_eq!(
        loaded.program_base + first_page,
        space.vmar().addr(),
        "brk has the room above the program"
    );
}

#[test]
fn a_dynamic_pie_program_and_its_interpreter_load_apart() {
    let Some(path) = compile("hello-pie", &["-pie", "-fPIE", "-O1"]) else {
        return;
    };
    let space = fresh_space();
    let argv: &[&[u8]] = &[b"hello"];
    let loaded = load_into(&space, &path, argv).unwrap();
    let file = std::fs::read(&path).unwrap();
    check_loaded(&space, &loaded, &file, argv);
    let interp = loaded.interpreter_base.expect("PT_INTERP");
    assert_eq!(read(&space, interp, 4), b"\x7fELF");
    assert!(loaded.entry > interp, "the interpreter runs first");
    assert!(
        space.vmar().find_mapping(loaded.entry).unwrap().flags()
            == MmuFlags::READ | MmuFlags::EXECUTE
    );
    // The interpreter sits under the stack's gap, far from the program's brk.
    let stack_bottom = space.stack_top() - DEFAULT_STACK_SIZE;
    assert!(interp < stack_bottom - STACK_GAP);
    assert!(interp > loaded.brk + (256 << 20));
}

#[test]
fn a_program_at_a_fixed_address_outside_the_region_fails_cleanly() {
    let Some(path) = compile("hello-static", &["-static", "-no-pie", "-O1"]) else {
        return;
    };
    let space = fresh_space();
    assert!(
        space.vmar().addr() > 0x40_0000,
        "the host region is not where ET_EXEC programs live"
    );
    assert_eq!(
        load_into(&space, &path, &[b"hello"]).err(),
        Some(LxError::ENOMEM)
    );
}

#[test]
fn reservations_go_low_first_then_high_and_never_overlap() {
    let space = fresh_space();
    let base = space.vmar().addr();
    assert_eq!(space.reserve(3 * PAGE_SIZE + 1), Ok(base));
    let high = space.mmap_base();
    assert!(high <= space.stack_top() - DEFAULT_STACK_SIZE - STACK_GAP);
    assert_eq!(space.reserve(2 * PAGE_SIZE), Ok(high - 2 * PAGE_SIZE));
    assert_eq!(space.reserve(PAGE_SIZE), Ok(high - 3 * PAGE_SIZE));
    assert_eq!(space.reserve(1 << 30), Err(LxError::ENOMEM));
    assert_eq!(space.reserve(0), Err(LxError::ENOMEM));
    assert_eq!(space.reserve(usize::MAX), Err(LxError::ENOMEM));
}

/// The end of `space`'s region (each fresh space has a region of its own on the host).
fn region_end(space: &VmarSpace) -> usize {
    space.vmar().addr() + space.vmar().size()
}

#[test]
fn a_randomized_layout_moves_within_the_region_and_keeps_its_order() {
    let plain = fresh_space().randomized(Randomization::default());
    assert_eq!(plain.stack_top(), region_end(&plain));
    let mut offsets = std::collections::BTreeSet::new();
    for seed in 0u8..16 {
        let random = Randomization::from_random([seed.wrapping_mul(37).wrapping_add(5); 24]);
        let space = fresh_space().randomized(random);
        let region = space.vmar().addr()..region_end(&space);
        let top = space.stack_top();
        assert!(top <= region.end && top % PAGE_SIZE == 0);
        assert!(space.mmap_base() + DEFAULT_STACK_SIZE + STACK_GAP <= top);
        let low = space.reserve(PAGE_SIZE).unwrap();
        let high = space.reserve(PAGE_SIZE).unwrap();
        assert!(region.contains(&low) && low < high && high < space.mmap_base());
        offsets.insert(region.end - top);
    }
    assert!(offsets.len() > 8, "the stack moves: {offsets:x?}");
}

#[test]
fn the_stack_goes_below_what_must_stay_above_it() {
    let plain = fresh_space();
    let limit = region_end(&plain) - (64 << 20) + 123;
    let space = plain.with_stack_below(limit);
    assert_eq!(space.stack_top(), limit - 123);
    assert!(space.mmap_base() < limit - DEFAULT_STACK_SIZE);
    // No room left for a stack: ignored.
    let other = fresh_space();
    let (base, end) = (other.vmar().addr(), region_end(&other));
    assert_eq!(other.with_stack_below(base + PAGE_SIZE).stack_top(), end);
}

#[test]
fn writes_reach_read_only_mappings_and_unmapped_addresses_fault() {
    let space = fresh_space();
    let base = space.reserve(3 * PAGE_SIZE).unwrap();
    space.map(base, PAGE_SIZE, Protection::READ).unwrap();
    space
        .map(base + PAGE_SIZE, PAGE_SIZE, Protection::empty())
        .unwrap();
    // Across two mappings, one of them inaccessible to the program.
    space.write(base + PAGE_SIZE - 3, b"abcdef").unwrap();
    let mut back = [0; 6];
    space.read(base + PAGE_SIZE - 3, &mut back).unwrap();
    assert_eq!(&back, b"abcdef");
    assert_eq!(read(&space, base + PAGE_SIZE - 3, 3), b"abc");
    assert_eq!(
        space.vmar().find_mapping(base + PAGE_SIZE).unwrap().flags(),
        MmuFlags::empty()
    );
    assert_eq!(
        space.write(base + 2 * PAGE_SIZE - 1, b"xy"),
        Err(LxError::EFAULT)
    );
    assert_eq!(
        space.read(base + 2 * PAGE_SIZE, &mut back),
        Err(LxError::EFAULT)
    );
    assert_eq!(
        space.map(base, PAGE_SIZE, Protection::READ),
        Err(LxError::ENOMEM),
        "overlap"
    );
    assert_eq!(
        space.map(space.stack_top(), PAGE_SIZE, Protection::READ),
        Err(LxError::ENOMEM),
        "outside the region"
    );
}
