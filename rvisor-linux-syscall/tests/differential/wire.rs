//! The byte format the native child reports its outcomes in: hand-written, length-prefixed,
//! little-endian.

use crate::model::{Got, Outcome, StatFields};

fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u64(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Encodes `outcomes`.
pub fn encode(outcomes: &[Outcome]) -> Vec<u8> {
    let mut out = Vec::new();
    put_u64(&mut out, outcomes.len() as u64);
    for outcome in outcomes {
        match outcome.ret {
            Ok(value) => {
                out.push(0);
                put_u64(&mut out, value as u64);
            }
            Err(errno) => {
                out.push(1);
                put_u64(&mut out, errno as u64);
            }
        }
        match &outcome.got {
            Got::Nothing => out.push(0),
            Got::Bytes(bytes) => {
                out.push(1);
                put_bytes(&mut out, bytes);
            }
            Got::Stat(stat) => {
                out.push(2);
                put_u64(&mut out, stat.mode.into());
                put_u64(&mut out, stat.nlink);
                put_u64(&mut out, stat.owner.0.into());
                put_u64(&mut out, stat.owner.1.into());
                match stat.size {
                    Some(size) => {
                        out.push(1);
                        put_u64(&mut out, size as u64);
                    }
                    None => out.push(0),
                }
            }
            Got::Dirents(entries) => {
                out.push(3);
                put_u64(&mut out, entries.len() as u64);
                for (name, kind) in entries {
                    put_bytes(&mut out, name);
                    out.push(*kind);
                }
            }
            Got::Fds(r, w) => {
                out.push(4);
                put_u64(&mut out, *r as u64);
                put_u64(&mut out, *w as u64);
            }
            Got::Ints(values) => {
                out.push(5);
                put_u64(&mut out, values.len() as u64);
                values.iter().for_each(|v| put_u64(&mut out, *v as u64));
            }
        }
    }
    out
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*first)
    }

    fn u64(&mut self) -> Option<u64> {
        let bytes = self.0.get(..8)?;
        self.0 = &self.0[8..];
        Some(u64::from_le_bytes(bytes.try_into().ok()?))
    }

    fn bytes(&mut self) -> Option<Vec<u8>> {
        let len = self.u64()? as usize;
        let bytes = self.0.get(..len)?.to_vec();
        self.0 = &self.0[len..];
        Some(bytes)
    }
}

/// Decodes what [`encode`] wrote; `None` if it is malformed.
pub fn decode(raw: &[u8]) -> Option<Vec<Outcome>> {
    let mut r = Reader(raw);
    let count = r.u64()?;
    let mut outcomes = Vec::new();
    for _ in 0..count {
        let ret = match r.u8()? {
            0 => Ok(r.u64()? as i64),
            _ => Err(r.u64()? as i32),
        };
        let got = match r.u8()? {
            0 => Got::Nothing,
            1 => Got::Bytes(r.bytes()?),
            2 => Got::Stat(StatFields {
                mode: r.u64()? as u32,
                nlink: r.u64()?,
                owner: (r.u64()? as u32, r.u64()? as u32),
                size: match r.u8()? {
                    1 => Some(r.u64()? as i64),
                    _ => None,
                },
            }),
            3 => {
                let n = r.u64()?;
                let mut entries = Vec::new();
                for _ in 0..n {
                    entries.push((r.bytes()?, r.u8()?));
                }
                Got::Dirents(entries)
            }
            4 => Got::Fds(r.u64()? as i32, r.u64()? as i32),
            5 => {
                let n = r.u64()?;
                let mut values = Vec::new();
                for _ in 0..n {
                    values.push(r.u64()? as i64);
                }
                Got::Ints(values)
            }
            _ => return None,
        };
        outcomes.push(Outcome { ret, got });
    }
    Some(outcomes)
}
