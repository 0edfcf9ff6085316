//! Loader tests: hand-made ELF files for every refusal, mutated ones for "never panics", and
//! real programs compiled here with `cc` (or the host's busybox) for the layout.

use super::*;
use kernel_hostfs::{FileSystem, HostFs};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// An address space in plain memory that records each mapping.
struct TestSpace {
    mappings: Mutex<BTreeMap<usize, (Protection, Vec<u8>)>>,
    next_free: Mutex<usize>,
    /// What was mapped from the file: `(vaddr, len, offset)`.
    file_maps: Mutex<Vec<(usize, usize, usize)>>,
}

impl TestSpace {
    fn new() -> Self {
        Self {
            mappings: Mutex::new(BTreeMap::new()),
            next_free: Mutex::new(0x5555_5555_4000),
            file_maps: Mutex::new(Vec::new()),
        }
    }

    fn mapping_at(&self, addr: usize) -> Option<(usize, usize, Protection)> {
        let maps = self.mappings.lock().unwrap();
        let (&start, (prot, bytes)) = maps.range(..=addr).next_back()?;
        (addr < start + bytes.len()).then_some((start, bytes.len(), *prot))
    }

    /// `len` bytes at `addr`, across adjacent mappings.
    fn read(&self, addr: usize, len: usize) -> Vec<u8> {
        let maps = self.mappings.lock().unwrap();
        let mut out = Vec::new();
        while out.len() < len {
            let at = addr + out.len();
            let (&start, (_, bytes)) = maps.range(..=at).next_back().expect("mapped");
            let end = (at - start + len - out.len()).min(bytes.len());
            assert!(at - start < bytes.len(), "{at:#x} is not mapped");
            out.extend_from_slice(&bytes[at - start..end]);
        }
        out
    }

    fn word(&self, addr: usize) -> u64 {
        u64::from_le_bytes(self.read(addr, 8).try_into().unwrap())
    }

    fn c_string(&self, addr: u64) -> Vec<u8> {
        let mut out = Vec::new();
        while let [byte] = self.read(addr as usize + out.len(), 1)[..] {
            if byte == 0 {
                return out;
            }
            out.push(byte);
        }
        out
    }
}

impl AddressSpace for TestSpace {
    fn reserve(&self, len: usize) -> LxResult<usize> {
        let mut next = self.next_free.lock().unwrap();
        let start = *next;
        *next = start + len + 0x1000_0000;
        Ok(start)
    }

    fn map(&self, vaddr: usize, len: usize, prot: Protection) -> LxResult {
        assert_eq!(vaddr % PAGE_SIZE, 0);
        assert_eq!(len % PAGE_SIZE, 0);
        assert!(len > 0);
        // Plain memory is dense: mutated files ask for terabytes, which a VMAR would commit
        // lazily but this cannot.
        if len > 64 << 20 {
            return Err(LxError::ENOMEM);
        }
        let mut maps = self.mappings.lock().unwrap();
        if let Some((&start, (_, bytes))) = maps.range(..vaddr + len).next_back() {
            if start + bytes.len() > vaddr {
                return Err(LxError::ENOMEM);
            }
        }
        maps.insert(vaddr, (prot, vec![0; len]));
        Ok(())
    }

    fn write(&self, vaddr: usize, data: &[u8]) -> LxResult {
        let mut maps = self.mappings.lock().unwrap();
        let (&start, (_, bytes)) = maps
            .range_mut(..=vaddr)
            .next_back()
            .ok_or(LxError::EFAULT)?;
        let at = vaddr - start;
        bytes
            .get_mut(at..at + data.len())
            .ok_or(LxError::EFAULT)?
            .copy_from_slice(data);
        Ok(())
    }

    fn map_file(
        &self,
        vaddr: usize,
        len: usize,
        prot: Protection,
        file: &dyn INode,
        offset: usize,
    ) -> LxResult {
        self.map(vaddr, len, prot)?;
        let mut bytes = vec![0; len];
        let mut filled = 0;
        while filled < len {
            match file.read_at(offset + filled, &mut bytes[filled..])? {
                0 => break,
                count => filled += count,
            }
        }
        self.write(vaddr, &bytes)?;
        self.file_maps.lock().unwrap().push((vaddr, len, offset));
        Ok(())
    }
}

// ---- hand-made ELF files ----

/// One program header of a synthetic file.
#[derive(Clone, Copy)]
struct Ph {
    type_: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
}

const PF_RX: u32 = 5;
const PF_RW: u32 = 6;

/// A minimal static executable: text at 0x400000 (with the headers), data + bss at 0x401000.
fn sample_phdrs() -> Vec<Ph> {
    vec![
        Ph {
            type_: 1,
            flags: PF_RX,
            offset: 0,
            vaddr: 0x40_0000,
            filesz: 0x200,
            memsz: 0x200,
        },
        Ph {
            type_: 1,
            flags: PF_RW,
            offset: 0x200,
            vaddr: 0x40_1200,
            filesz: 0x10,
            memsz: 0x3000,
        },
    ]
}

fn elf_file(e_type: u16, phdrs: &[Ph]) -> Vec<u8> {
    let mut f = vec![0u8; 0x210];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2; // ELFCLASS64
    f[5] = 1; // little endian
    f[6] = 1; // EV_CURRENT
    f[16..18].copy_from_slice(&e_type.to_le_bytes());
    f[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[24..32].copy_from_slice(&0x40_0100u64.to_le_bytes()); // e_entry
    f[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
    f[52..54].copy_from_slice(&64u16.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&(phdrs.len() as u16).to_le_bytes());
    for (i, ph) in phdrs.iter().enumerate() {
        let at = 64 + i * 56;
        if f.len() < at + 56 {
            f.resize(at + 56, 0);
        }
        f[at..at + 4].copy_from_slice(&ph.type_.to_le_bytes());
        f[at + 4..at + 8].copy_from_slice(&ph.flags.to_le_bytes());
        f[at + 8..at + 16].copy_from_slice(&ph.offset.to_le_bytes());
        f[at + 16..at + 24].copy_from_slice(&ph.vaddr.to_le_bytes());
        f[at + 32..at + 40].copy_from_slice(&ph.filesz.to_le_bytes());
        f[at + 40..at + 48].copy_from_slice(&ph.memsz.to_le_bytes());
        f[at + 48..at + 56].copy_from_slice(&0x1000u64.to_le_bytes());
    }
    f[0x200..0x210].copy_from_slice(b"initialized data");
    f
}

#[test]
fn a_well_formed_file_parses() {
    let image = parse(&elf_file(2, &sample_phdrs())).unwrap();
    assert!(!image.relocatable);
    assert_eq!(image.entry, 0x40_0100);
    assert_eq!(image.segments.len(), 2);
    assert_eq!(image.segments[1].prot, Protection::READ | Protection::WRITE);
    assert_eq!(image.phdr_vaddr, Some(0x40_0040));
    assert_eq!(image.page_span().unwrap(), (0x40_0000, 0x40_5000));
}

#[test]
fn bad_headers_are_enoexec() {
    let good = elf_file(2, &sample_phdrs());
    let mutations: &[(&str, usize, &[u8])] = &[
        ("magic", 1, b"X"),
        ("32-bit class", 4, &[1]),
        ("big endian", 5, &[2]),
        ("version", 6, &[0]),
        ("relocatable object", 16, &[1, 0]),
        ("aarch64", 18, &[183, 0]),
        ("phentsize", 54, &[32, 0]),
        ("no program headers", 56, &[0, 0]),
        ("table past the end", 32, &[0xf0, 0x01]),
        ("table offset overflows", 32, &[0xff; 8]),
    ];
    for (what, at, bytes) in mutations {
        let mut file = good.clone();
        file[*at..*at + bytes.len()].copy_from_slice(bytes);
        assert_eq!(parse(&file).err(), Some(LxError::ENOEXEC), "{what}");
    }
    assert_eq!(
        parse(&good[..63]).err(),
        Some(LxError::ENOEXEC),
        "truncated"
    );
    assert_eq!(parse(b"").err(), Some(LxError::ENOEXEC));
}

#[test]
fn bad_segments_are_enoexec() {
    type Mutation = Box<dyn Fn(&mut Vec<Ph>)>;
    let cases: Vec<(&str, Mutation)> = vec![
        ("filesz > memsz", Box::new(|p| p[1].filesz = 0x4000)),
        ("bytes past the file", Box::new(|p| p[1].filesz = 0x20)),
        ("offset overflows", Box::new(|p| p[1].offset = u64::MAX - 4)),
        (
            "end overflows",
            Box::new(|p| p[1].memsz = u64::MAX - 0x1000),
        ),
        (
            "beyond user space",
            Box::new(|p| p[1].vaddr = USER_SPACE_END as u64),
        ),
        (
            "overlap",
            Box::new(|p| p[1].vaddr = 0x40_0100 + 0x200 - 0x300),
        ),
        ("descending", Box::new(|p| p.swap(0, 1))),
        (
            "offset and address disagree",
            Box::new(|p| p[1].vaddr = 0x40_1300),
        ),
        (
            "no loadable segment",
            Box::new(|p| p.iter_mut().for_each(|ph| ph.type_ = 4)),
        ),
        (
            "interpreter not NUL-terminated",
            Box::new(|p| {
                p.push(Ph {
                    type_: 3,
                    flags: 4,
                    offset: 0x200,
                    vaddr: 0,
                    filesz: 0x10,
                    memsz: 0,
                })
            }),
        ),
        (
            "interpreter past the end",
            Box::new(|p| {
                p.push(Ph {
                    type_: 3,
                    flags: 4,
                    offset: 0x208,
                    vaddr: 0,
                    filesz: 0x10,
                    memsz: 0,
                })
            }),
        ),
    ];
    for (what, mutate) in cases {
        let mut phdrs = sample_phdrs();
        mutate(&mut phdrs);
        assert_eq!(
            parse(&elf_file(2, &phdrs)).err(),
            Some(LxError::ENOEXEC),
            "{what}"
        );
    }
}

/// `bytes` as a file of a HostFs, named `name` in a scratch directory.
fn file_inode(name: &str, bytes: &[u8]) -> Arc<dyn INode> {
    let (dir, _) = fake_program();
    std::fs::write(dir.join(name), bytes).unwrap();
    HostFs::new(&dir)
        .unwrap()
        .root_inode()
        .lookup(name)
        .unwrap()
}

#[test]
fn segments_sharing_a_page_get_both_protections() {
    let mut phdrs = sample_phdrs();
    phdrs[1].vaddr = 0x40_0200; // data starts on the text's page
    let file = elf_file(2, &phdrs);
    let space = TestSpace::new();
    let inode = file_inode("shared-page", &file);
    map_image(&space, &*inode, parse(&file).unwrap()).unwrap();
    let rwx = Protection::READ | Protection::WRITE | Protection::EXEC;
    assert_eq!(space.mapping_at(0x40_0000), Some((0x40_0000, 0x1000, rwx)));
    let rw = Protection::READ | Protection::WRITE;
    assert_eq!(space.mapping_at(0x40_1000), Some((0x40_1000, 0x3000, rw)));
    assert_eq!(space.read(0x40_0200, 16), b"initialized data");
    assert_eq!(space.read(0x40_0210, 16), [0; 16], "bss is zero");
}

#[test]
fn whole_pages_are_mapped_from_the_file_and_bss_is_zero() {
    let phdrs = [
        Ph {
            type_: 1,
            flags: PF_RX,
            offset: 0,
            vaddr: 0x40_0000,
            filesz: 0x2100,
            memsz: 0x2100,
        },
        Ph {
            type_: 1,
            flags: PF_RW,
            offset: 0x3000,
            vaddr: 0x40_3000,
            filesz: 0x1010,
            memsz: 0x3000,
        },
    ];
    let mut file = elf_file(2, &phdrs);
    file.resize(0x4100, 0xaa);
    file[0x4000..0x4010].copy_from_slice(b"last data bytes!");
    let space = TestSpace::new();
    let inode = file_inode("mapped", &file);
    map_image(&space, &*inode, parse(&file).unwrap()).unwrap();
    // The text's pages, its last partial one included (no .bss follows), and the data's
    // whole page come from the file; the page the data shares with its .bss is copied.
    assert_eq!(
        *space.file_maps.lock().unwrap(),
        [(0x40_0000, 0x3000, 0), (0x40_3000, 0x1000, 0x3000)]
    );
    assert_eq!(space.read(0x40_4000, 16), b"last data bytes!");
    assert!(
        space.read(0x40_4010, 0x1ff0).iter().all(|&b| b == 0),
        "bss is zero, not the file's bytes past the segment"
    );
    let rw = Protection::READ | Protection::WRITE;
    assert_eq!(space.mapping_at(0x40_4000), Some((0x40_4000, 0x1000, rw)));
    assert_eq!(space.mapping_at(0x40_5000), Some((0x40_5000, 0x1000, rw)));
}

fn fake_program() -> (PathBuf, Vec<u8>) {
    let dir = std::env::temp_dir().join(format!("linux-object-elf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    (dir, elf_file(2, &sample_phdrs()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// Any corruption of the header and program headers is an error or a load, never a panic.
    #[test]
    fn mutated_files_never_panic(edits in proptest::collection::vec((0usize..0xa0, any::<u8>()), 1..8)) {
        let (_, mut file) = fake_program();
        for (at, byte) in edits {
            file[at] = byte;
        }
        if let Ok(image) = parse(&file) {
            let inode = file_inode("mutated", &file);
            let _ = map_image(&TestSpace::new(), &*inode, image);
        }
    }
}

// ---- real programs ----

const HELLO_C: &str = r#"
#include <stdio.h>
int counter = 42;
static char zeroes[8192];
int main(int argc, char **argv) { zeroes[argc] = 1; printf("%s %d\n", argv[0], counter); return 0; }
"#;

/// Compiles `HELLO_C` with `cc` and `flags` into `dir`, or `None` (with a notice) if it cannot.
fn compile(dir: &Path, name: &str, flags: &[&str]) -> Option<PathBuf> {
    let source = dir.join(format!("{name}.c"));
    std::fs::write(&source, HELLO_C).unwrap();
    let output = dir.join(name);
    let status = Command::new("cc")
        .args(flags)
        .arg("-o")
        .arg(&output)
        .arg(&source)
        .status();
    match status {
        Ok(status) if status.success() => Some(output),
        _ => {
            println!(
                "notice: skipping: `cc {}` is not available",
                flags.join(" ")
            );
            None
        }
    }
}

/// Loads the host file `path` through a HostFs rooted at its directory, interpreters
/// resolved from the host's `/`.
fn load_host_program(path: &Path, argv: &[&[u8]]) -> (TestSpace, LoadedProgram, Vec<u8>) {
    let dir = path.parent().unwrap();
    let root = HostFs::new(dir).unwrap().root_inode();
    let inode = root
        .lookup(path.file_name().unwrap().to_str().unwrap())
        .unwrap();
    let host_root = HostFs::new(Path::new("/")).unwrap().root_inode();
    let lookup = |p: &str| -> LxResult<Arc<dyn INode>> { Ok(host_root.lookup(p)?) };
    let space = TestSpace::new();
    let params = ExecParams {
        argv,
        envp: &[b"PATH=/bin", b"HOME=/root"],
        exec_fn: b"/hello",
        credentials: Credentials {
            uid: 1000,
            euid: 1000,
            gid: 100,
            egid: 100,
        },
        random: *b"0123456789abcdef",
        machine: Machine {
            hwcap: 0x178bfbff,
            hwcap2: Some(2),
            minsigstksz: Some(3632),
            vdso: Some(0x7fff_f7fc_1000),
            rseq: Some((32, 32)),
        },
        stack_top: DEFAULT_STACK_TOP,
        stack_size: DEFAULT_STACK_SIZE,
        brk_offset: 0,
    };
    let loaded = load(&space, &*inode, &lookup, &params).unwrap();
    let bytes = std::fs::read(path).unwrap();
    (space, loaded, bytes)
}

/// argv, envp and the auxiliary vector as read back from a stack.
type StackView = (Vec<Vec<u8>>, Vec<Vec<u8>>, BTreeMap<u64, u64>);

/// Reads the stack back: argc, argv, envp and the auxiliary vector.
fn read_stack(space: &TestSpace, sp: usize) -> StackView {
    assert_eq!(sp % 16, 0, "SysV: rsp is 16-byte aligned at entry");
    let argc = space.word(sp) as usize;
    let mut at = sp + 8;
    let argv: Vec<_> = (0..argc)
        .map(|i| space.c_string(space.word(at + 8 * i)))
        .collect();
    at += 8 * argc;
    assert_eq!(space.word(at), 0);
    at += 8;
    let mut envp = Vec::new();
    while space.word(at) != 0 {
        envp.push(space.c_string(space.word(at)));
        at += 8;
    }
    at += 8;
    let mut auxv = BTreeMap::new();
    loop {
        let (key, value) = (space.word(at), space.word(at + 8));
        at += 16;
        if key == auxv::AT_NULL {
            return (argv, envp, auxv);
        }
        assert!(auxv.insert(key, value).is_none(), "duplicate auxv {key}");
    }
}

/// Checks what every loaded program must show: segments with their file bytes and
/// protections, and a stack a libc can start from.
fn check_program(space: &TestSpace, loaded: &LoadedProgram, file: &[u8], argv: &[&[u8]]) {
    let image = parse(file).unwrap();
    for segment in &image.segments {
        let addr = segment.vaddr + loaded.program_base;
        let (_, _, prot) = space.mapping_at(addr).expect("segment mapped");
        assert!(prot.contains(segment.prot), "protection of {addr:#x}");
        let in_file = &file[segment.file_offset..segment.file_offset + segment.file_len];
        assert_eq!(space.read(addr, segment.file_len), in_file);
        let bss = segment.mem_len - segment.file_len;
        assert!(space
            .read(addr + segment.file_len, bss.min(4096))
            .iter()
            .all(|&b| b == 0));
    }
    assert!(image
        .segments
        .iter()
        .any(|s| s.prot == (Protection::READ | Protection::EXEC)));
    let (_, _, entry_prot) = space.mapping_at(loaded.entry).expect("entry mapped");
    assert!(entry_prot.contains(Protection::EXEC));

    let (got_argv, envp, auxv) = read_stack(space, loaded.stack_pointer);
    assert_eq!(got_argv, argv);
    assert_eq!(envp, [&b"PATH=/bin"[..], b"HOME=/root"]);
    let phdr = auxv[&auxv::AT_PHDR] as usize;
    let phoff = u64::from_le_bytes(file[32..40].try_into().unwrap()) as usize;
    assert_eq!(
        space.read(phdr, 56 * image.phnum),
        file[phoff..phoff + 56 * image.phnum]
    );
    assert_eq!(auxv[&auxv::AT_PHENT], 56);
    assert_eq!(auxv[&auxv::AT_PHNUM], image.phnum as u64);
    assert_eq!(auxv[&auxv::AT_PAGESZ], 4096);
    assert_eq!(
        auxv[&auxv::AT_ENTRY] as usize,
        image.entry + loaded.program_base
    );
    assert_eq!(
        auxv[&auxv::AT_BASE] as usize,
        loaded.interpreter_base.unwrap_or(0)
    );
    assert_eq!(auxv[&auxv::AT_FLAGS], 0);
    assert_eq!((auxv[&auxv::AT_UID], auxv[&auxv::AT_EUID]), (1000, 1000));
    assert_eq!((auxv[&auxv::AT_GID], auxv[&auxv::AT_EGID]), (100, 100));
    assert_eq!(auxv[&auxv::AT_SECURE], 0);
    assert_eq!(auxv[&auxv::AT_HWCAP], 0x178bfbff);
    assert_eq!(auxv[&auxv::AT_HWCAP2], 2);
    assert_eq!(auxv[&auxv::AT_MINSIGSTKSZ], 3632);
    assert_eq!(auxv[&auxv::AT_SYSINFO_EHDR], 0x7fff_f7fc_1000);
    assert_eq!(auxv[&auxv::AT_RSEQ_FEATURE_SIZE], 32);
    assert_eq!(auxv[&auxv::AT_RSEQ_ALIGN], 32);
    assert_eq!(auxv[&auxv::AT_CLKTCK], 100);
    assert_eq!(
        space.read(auxv[&auxv::AT_RANDOM] as usize, 16),
        b"0123456789abcdef"
    );
    assert_eq!(space.c_string(auxv[&auxv::AT_PLATFORM]), b"x86_64");
    assert_eq!(space.c_string(auxv[&auxv::AT_EXECFN]), b"/hello");
    let (stack_start, stack_len, stack_prot) = space.mapping_at(loaded.stack_pointer).unwrap();
    assert_eq!(stack_start + stack_len, DEFAULT_STACK_TOP);
    assert_eq!(stack_prot, Protection::READ | Protection::WRITE);
    assert_eq!(loaded.brk % PAGE_SIZE, 0);
    assert!(loaded.brk >= image.segments.last().unwrap().end() + loaded.program_base);
}

#[test]
fn a_static_c_program_loads_at_its_addresses() {
    let (dir, _) = fake_program();
    let Some(path) = compile(&dir, "hello-static", &["-static", "-no-pie", "-O1"]) else {
        return;
    };
    let argv: &[&[u8]] = &[b"hello", b"world"];
    let (space, loaded, file) = load_host_program(&path, argv);
    check_program(&space, &loaded, &file, argv);
    assert_eq!(loaded.program_base, 0);
    assert_eq!(loaded.interpreter_base, None);
    assert_eq!(loaded.entry, loaded.program_entry);
}

#[test]
fn a_dynamic_pie_program_loads_with_its_interpreter() {
    let (dir, _) = fake_program();
    let Some(path) = compile(&dir, "hello-dynamic", &["-pie", "-fPIE", "-O1"]) else {
        return;
    };
    let argv: &[&[u8]] = &[b"hello"];
    let (space, loaded, file) = load_host_program(&path, argv);
    check_program(&space, &loaded, &file, argv);
    assert_ne!(
        loaded.program_base, 0,
        "ET_DYN gets a base from the address space"
    );
    let interp_base = loaded.interpreter_base.expect("PT_INTERP");
    assert!(loaded
        .interpreter
        .as_deref()
        .unwrap()
        .contains("ld-linux-x86-64"));
    let (_, _, prot) = space.mapping_at(loaded.entry).unwrap();
    assert!(prot.contains(Protection::EXEC));
    assert!(loaded.entry > interp_base, "the interpreter runs first");
    assert_eq!(space.read(interp_base, 4), b"\x7fELF");
}

#[test]
fn host_busybox_loads_if_present() {
    let path = Path::new("/bin/busybox");
    if !path.exists() {
        println!("notice: skipping: no /bin/busybox");
        return;
    }
    let argv: &[&[u8]] = &[b"sh", b"-c", b"true"];
    let (space, loaded, file) = load_host_program(path, argv);
    check_program(&space, &loaded, &file, argv);
}

#[test]
fn non_regular_files_are_eacces_and_scripts_enoexec() {
    let (dir, _) = fake_program();
    let root = HostFs::new(&dir).unwrap().root_inode();
    let lookup = |_: &str| -> LxResult<Arc<dyn INode>> { Err(LxError::ENOENT) };
    let params = ExecParams {
        argv: &[],
        envp: &[],
        exec_fn: b"x",
        credentials: Credentials::default(),
        random: [0; 16],
        machine: Machine::default(),
        stack_top: DEFAULT_STACK_TOP,
        stack_size: DEFAULT_STACK_SIZE,
        brk_offset: 0,
    };
    let space = TestSpace::new();
    assert_eq!(
        load(&space, &*root, &lookup, &params).err(),
        Some(LxError::EACCES)
    );
    let script = root
        .lookup("script.sh")
        .or_else(|_| root.create("script.sh", FileType::File, 0o755))
        .unwrap();
    script.write_at(0, b"#!/bin/sh\necho hi\n").unwrap();
    assert_eq!(
        load(&space, &*script, &lookup, &params).err(),
        Some(LxError::ENOEXEC)
    );
    // A missing interpreter is the lookup's error.
    let mut phdrs = sample_phdrs();
    phdrs.push(Ph {
        type_: 3,
        flags: 4,
        offset: 0x208,
        vaddr: 0,
        filesz: 8,
        memsz: 0,
    });
    let mut file = elf_file(2, &phdrs);
    file[0x208..0x210].copy_from_slice(b"/ld.so\0\0");
    file[0x20f] = 0;
    file[0x20e] = b'x';
    let program = root
        .lookup("needs-interp")
        .or_else(|_| root.create("needs-interp", FileType::File, 0o755))
        .unwrap();
    program.write_at(0, &file).unwrap();
    assert_eq!(
        load(&TestSpace::new(), &*program, &lookup, &params).err(),
        Some(LxError::ENOENT)
    );
}
