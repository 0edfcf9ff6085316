//! System V IPC calls: semaphores ([`sem`]), message queues ([`msg`]) and shared memory
//! ([`shm`]), and POSIX message queues ([`mqueue`]), served from the
//! caller's container's [`IpcNamespace`](linux_object::ipc::IpcNamespace), with the
//! structures' x86-64 layouts.

mod mqueue;
mod msg;
mod sem;
mod shm;

use alloc::sync::Arc;
use linux_object::container::Container;
use linux_object::ipc::IpcPerm;
use linux_object::{LxError, LxResult};

use crate::user::{UserInPtr, UserOutPtr};
use crate::Syscall;

/// `IPC_RMID`: remove the object.
const IPC_RMID: i32 = 0;
/// `IPC_SET`: change owner, mode (and a kind's own settings).
const IPC_SET: i32 = 1;
/// `IPC_STAT`: the object's status.
const IPC_STAT: i32 = 2;
/// `IPC_INFO`: the namespace's limits.
const IPC_INFO: i32 = 3;

/// `sizeof(struct ipc64_perm)`.
const PERM_SIZE: usize = 48;

/// Writes `value`'s little-endian bytes at `offset` of `buf` (a fixed layout: always inside).
fn put(buf: &mut [u8], offset: usize, value: &[u8]) {
    if let Some(field) = buf.get_mut(offset..offset + value.len()) {
        field.copy_from_slice(value);
    }
}

/// Reads the `u32` at `offset` of `buf`.
fn get_u32(buf: &[u8], offset: usize) -> u32 {
    let mut raw = [0; 4];
    if let Some(field) = buf.get(offset..offset + 4) {
        raw.copy_from_slice(field);
    }
    u32::from_le_bytes(raw)
}

/// Reads the `u64` at `offset` of `buf`.
fn get_u64(buf: &[u8], offset: usize) -> u64 {
    let mut raw = [0; 8];
    if let Some(field) = buf.get(offset..offset + 8) {
        raw.copy_from_slice(field);
    }
    u64::from_le_bytes(raw)
}

/// Encodes `perm` as `struct ipc64_perm` at the start of `buf`.
fn put_perm(buf: &mut [u8], perm: &IpcPerm) {
    put(buf, 0, &perm.key.to_le_bytes());
    put(buf, 4, &perm.uid.to_le_bytes());
    put(buf, 8, &perm.gid.to_le_bytes());
    put(buf, 12, &perm.cuid.to_le_bytes());
    put(buf, 16, &perm.cgid.to_le_bytes());
    put(buf, 20, &perm.mode.to_le_bytes());
    put(buf, 24, &perm.seq.to_le_bytes());
}

/// What `IPC_SET` takes from a `*id64_ds`: its `ipc64_perm`'s uid, gid and mode.
struct PermSet {
    uid: u32,
    gid: u32,
    mode: u32,
}

/// Reads a `*id64_ds` of `size` bytes for `IPC_SET` (`EFAULT` if unreadable).
fn read_ds(buf: UserInPtr<u8>, size: usize) -> LxResult<(PermSet, alloc::vec::Vec<u8>)> {
    let bytes = buf.read_bytes(size)?;
    let set = PermSet {
        uid: get_u32(&bytes, 4),
        gid: get_u32(&bytes, 8),
        mode: get_u32(&bytes, 20),
    };
    Ok((set, bytes))
}

/// Writes `bytes` to the caller's buffer.
fn write_out(buf: UserOutPtr<u8>, bytes: &[u8]) -> LxResult {
    buf.write_bytes(bytes)
}

impl Syscall<'_> {
    /// The caller's container, whose IPC namespace the calls use.
    fn ipc_container(&self) -> LxResult<Arc<Container>> {
        self.process.container().ok_or(LxError::EINVAL)
    }
}

#[cfg(test)]
mod tests;
