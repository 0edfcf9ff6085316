//! The part of running a sequence both executors share: placing an op's arguments in the
//! side's user memory, resolving descriptor handles, and reading back what the call returned.
//! A [`Side`] only provides memory and the call itself.

use crate::model::{Arg, Capture, Data, Fd, Got, Iov, Off, Op, Out, Outcome, Seg, StatFields, P};
use crate::model::{NEVER_OPEN, STATFS_STRUCT_SIZE, STATX_STRUCT_SIZE, STAT_SIZE};

/// One side of the comparison: user memory and a way to make a raw call.
pub trait Side {
    /// Places `bytes` in user memory; returns their address.
    fn put(&mut self, bytes: &[u8]) -> usize;
    /// Reads `len` bytes of user memory at `addr`.
    fn get(&self, addr: usize, len: usize) -> Vec<u8>;
    /// An address that faults.
    fn bad(&self) -> usize;
    /// Makes call `nr`: its value, or its errno.
    fn call(&mut self, nr: i64, args: [usize; 6]) -> Result<i64, i32>;
}

/// The descriptors the sequence got so far, in order: handle `n` is `fds[n % len]`.
#[derive(Default)]
pub struct Handles(Vec<i64>);

impl Handles {
    fn resolve(&self, fd: &Fd) -> i64 {
        match fd {
            Fd::H(n) if self.0.is_empty() => i64::from(NEVER_OPEN) + *n as i64 % 4,
            Fd::H(n) => self.0[n % self.0.len()],
            Fd::Raw(n) => i64::from(*n),
            Fd::Cwd => i64::from(libc::AT_FDCWD),
        }
    }
}

/// Places `arg`; returns the register value and, for memory the call fills, where it is.
fn place(side: &mut impl Side, handles: &Handles, arg: &Arg) -> (usize, Placed) {
    match arg {
        Arg::Int(value) => (*value as usize, Placed::None),
        Arg::Fd(fd) => (handles.resolve(fd) as usize, Placed::None),
        Arg::Path(P::S(bytes)) => {
            let mut with_nul = bytes.clone();
            with_nul.push(0);
            (side.put(&with_nul), Placed::None)
        }
        Arg::Path(P::Bad) | Arg::In(Data::Bad(_)) => (side.bad(), Placed::None),
        Arg::Path(P::Null) => (0, Placed::None),
        Arg::In(Data::B(bytes)) => (side.put(bytes), Placed::None),
        Arg::Out(Out::Ok, len) => {
            // A recognisable pattern, so a call that writes less than it claims shows.
            let addr = side.put(&vec![0xa5; *len]);
            (addr, Placed::Buf(addr))
        }
        Arg::Out(Out::Bad, _) | Arg::Off(Off::Bad) => (side.bad(), Placed::None),
        Arg::Out(Out::Null, _) | Arg::Off(Off::Null) => (0, Placed::None),
        Arg::Off(Off::At(value)) => {
            let addr = side.put(&value.to_le_bytes());
            (addr, Placed::Buf(addr))
        }
        Arg::Iov(Iov::Bad(cnt)) => (side.bad(), Placed::Cnt(*cnt)),
        Arg::Iov(Iov::V(segs, cnt)) => {
            let mut array = Vec::new();
            let mut outs = Vec::new();
            for seg in segs {
                let (base, len) = match seg {
                    Seg::Out(len) => {
                        let addr = side.put(&vec![0xa5; *len]);
                        outs.push((addr, *len));
                        (addr, *len)
                    }
                    Seg::In(bytes) => (side.put(bytes), bytes.len()),
                    Seg::Bad(len) => (side.bad(), *len),
                };
                array.extend_from_slice(&(base as u64).to_le_bytes());
                array.extend_from_slice(&(len as u64).to_le_bytes());
            }
            let addr = side.put(&array);
            (addr, Placed::Iov(outs, cnt.unwrap_or(segs.len() as i64)))
        }
    }
}

enum Placed {
    None,
    Buf(usize),
    Iov(Vec<(usize, usize)>, i64),
    Cnt(i64),
}

fn decode_dirents(raw: &[u8]) -> Vec<(Vec<u8>, u8)> {
    let mut entries = Vec::new();
    let mut at = 0;
    while at + 19 <= raw.len() {
        let reclen = u16::from_le_bytes([raw[at + 16], raw[at + 17]]) as usize;
        if reclen < 20 || at + reclen > raw.len() {
            entries.push((b"<malformed record>".to_vec(), 0));
            break;
        }
        let kind = raw[at + 18];
        let name = &raw[at + 19..at + reclen];
        let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
        entries.push((name.to_vec(), kind));
        at += reclen;
    }
    entries.sort();
    entries
}

/// The old `linux_dirent` records (`getdents`): `d_ino`, `d_off`, `d_reclen`, the name and
/// its NUL, and `d_type` in the record's last byte.
fn decode_old_dirents(raw: &[u8]) -> Vec<(Vec<u8>, u8)> {
    let mut entries = Vec::new();
    let mut at = 0;
    while at + 18 <= raw.len() {
        let reclen = u16::from_le_bytes([raw[at + 16], raw[at + 17]]) as usize;
        if reclen < 20 || at + reclen > raw.len() {
            entries.push((b"<malformed record>".to_vec(), 0));
            break;
        }
        let kind = raw[at + reclen - 1];
        let name = &raw[at + 18..at + reclen - 1];
        let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
        entries.push((name.to_vec(), kind));
        at += reclen;
    }
    entries.sort();
    entries
}

fn u32_at(raw: &[u8], at: usize) -> i64 {
    u32::from_le_bytes(raw[at..at + 4].try_into().unwrap()).into()
}

fn i64_at(raw: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(raw[at..at + 8].try_into().unwrap())
}

/// The `struct statx` fields both sides must agree on: the basic and birth-time bits of
/// `stx_mask`, the basic fields (size only for non-directories), the attributes, and the
/// attributes of the VFS's own in `stx_attributes_mask`.
fn decode_statx(raw: &[u8]) -> Vec<i64> {
    let mode = u32_at(raw, 28) & 0xffff;
    let is_dir = mode as u32 & libc::S_IFMT == libc::S_IFDIR;
    vec![
        u32_at(raw, 0) & 0xfff,
        mode,
        u32_at(raw, 16),
        u32_at(raw, 20),
        u32_at(raw, 24),
        if is_dir { -1 } else { i64_at(raw, 40) },
        i64_at(raw, 8),
        i64_at(raw, 56) & 0x20_3000,
    ]
}

/// The `struct statfs` fields that do not move while a case runs: type, block size, name
/// length, fragment size, flags.
fn decode_statfs(raw: &[u8]) -> Vec<i64> {
    [0, 1, 8, 9, 10]
        .iter()
        .map(|&word| i64_at(raw, word * 8))
        .collect()
}

/// Runs `ops` in order on `side`.
pub fn run_ops(side: &mut impl Side, ops: &[Op]) -> Vec<Outcome> {
    let mut handles = Handles::default();
    let mut outcomes = Vec::new();
    for op in ops {
        let lowered = op.lower();
        let mut regs = [0usize; 6];
        let mut placed = Vec::new();
        for (i, arg) in lowered.args.iter().enumerate() {
            let (reg, where_) = place(side, &handles, arg);
            regs[i] = reg;
            placed.push(where_);
        }
        // An iovec array's count is the register after it.
        for i in 0..placed.len() {
            if let Placed::Iov(_, cnt) | Placed::Cnt(cnt) = placed[i] {
                regs[i + 1] = cnt as usize;
            }
        }
        let ret = side.call(lowered.nr, regs);
        let buf_at = |i: usize| match placed.get(i) {
            Some(Placed::Buf(addr)) => Some(*addr),
            _ => None,
        };
        let got = match (ret, lowered.capture) {
            (Err(_), _) | (_, Capture::None) => Got::Nothing,
            (Ok(n), Capture::Bytes(i)) => buf_at(i).map_or(Got::Nothing, |addr| {
                Got::Bytes(side.get(addr, n.max(0) as usize))
            }),
            (Ok(_), Capture::Stat(i)) => buf_at(i).map_or(Got::Nothing, |addr| {
                Got::Stat(StatFields::decode(&side.get(addr, STAT_SIZE)))
            }),
            (Ok(n), Capture::Dirents(i)) => buf_at(i).map_or(Got::Nothing, |addr| {
                Got::Dirents(decode_dirents(&side.get(addr, n.max(0) as usize)))
            }),
            (Ok(n), Capture::CStr(i)) => buf_at(i).map_or(Got::Nothing, |addr| {
                let mut bytes = side.get(addr, n.max(0) as usize);
                if let Some(nul) = bytes.iter().position(|&b| b == 0) {
                    bytes.truncate(nul);
                }
                Got::Bytes(bytes)
            }),
            (Ok(_), Capture::Pipe(i)) => buf_at(i).map_or(Got::Nothing, |addr| {
                let raw = side.get(addr, 8);
                let r = i32::from_le_bytes(raw[..4].try_into().unwrap());
                let w = i32::from_le_bytes(raw[4..].try_into().unwrap());
                handles.0.push(r.into());
                handles.0.push(w.into());
                Got::Fds(r, w)
            }),
            (Ok(_), Capture::Int(i)) => buf_at(i).map_or(Got::Nothing, |addr| {
                let raw = side.get(addr, 4);
                Got::Ints(vec![i32::from_le_bytes(raw.try_into().unwrap()).into()])
            }),
            (Ok(n), Capture::Iov(i)) => match placed.get(i) {
                Some(Placed::Iov(outs, _)) => {
                    let mut bytes = Vec::new();
                    for (addr, len) in outs {
                        bytes.extend(side.get(*addr, *len));
                    }
                    bytes.truncate(n.max(0) as usize);
                    Got::Bytes(bytes)
                }
                _ => Got::Nothing,
            },
            (Ok(_), Capture::Statx(i)) => buf_at(i).map_or(Got::Nothing, |addr| {
                Got::Ints(decode_statx(&side.get(addr, STATX_STRUCT_SIZE)))
            }),
            (Ok(_), Capture::StatFs(i)) => buf_at(i).map_or(Got::Nothing, |addr| {
                Got::Ints(decode_statfs(&side.get(addr, STATFS_STRUCT_SIZE)))
            }),
            (Ok(_), Capture::Times(i)) => buf_at(i).map_or(Got::Nothing, |addr| {
                let raw = side.get(addr, STAT_SIZE);
                Got::Ints(
                    [72, 80, 88, 96]
                        .iter()
                        .map(|&at| i64_at(&raw, at))
                        .collect(),
                )
            }),
            (Ok(n), Capture::OldDirents(i)) => buf_at(i).map_or(Got::Nothing, |addr| {
                Got::Dirents(decode_old_dirents(&side.get(addr, n.max(0) as usize)))
            }),
            (Ok(_), Capture::Offsets(i, j)) => {
                let mut values = Vec::new();
                for k in if i == j { vec![i] } else { vec![i, j] } {
                    if let Some(addr) = buf_at(k) {
                        values.push(i64::from_le_bytes(side.get(addr, 8).try_into().unwrap()));
                    }
                }
                Got::Ints(values)
            }
        };
        if lowered.returns_fd {
            if let Ok(fd) = ret {
                handles.0.push(fd);
            }
        }
        // A directory's position is its filesystem's cookie (tmpfs's since Linux 6.6 are
        // not entry counts, ext4's are hashes; rVisor's are entry counts): beyond what
        // SEEK_SET sets, only whether the seek worked is compared.
        let ret = match (op, ret) {
            (Op::Lseek { fd, whence, .. }, Ok(_))
                if *whence != libc::SEEK_SET as u32 && is_directory(side, handles.resolve(fd)) =>
            {
                Ok(DIRECTORY_POSITION)
            }
            _ => ret,
        };
        outcomes.push(Outcome { ret, got });
    }
    outcomes
}

/// What a directory's position reads as in an outcome (see `run_ops`).
const DIRECTORY_POSITION: i64 = i64::MIN;

/// Whether `fd` is open on a directory on `side` (its `fstat` says so).
fn is_directory(side: &mut impl Side, fd: i64) -> bool {
    let buf = side.put(&[0; STAT_SIZE]);
    if side
        .call(libc::SYS_fstat, [fd as usize, buf, 0, 0, 0, 0])
        .is_err()
    {
        return false;
    }
    let raw = side.get(buf, STAT_SIZE);
    // `st_mode` is the `u32` at offset 24 of x86-64's `struct stat`.
    let mode = u32::from_le_bytes(raw[24..28].try_into().unwrap());
    mode & libc::S_IFMT == libc::S_IFDIR
}
