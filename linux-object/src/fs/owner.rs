//! [`FileOwners`]: who owns an open file description for signal-driven I/O (`F_SETOWN`,
//! `F_SETOWN_EX`) and which signal it asked for (`F_SETSIG`), kept per description as Linux
//! keeps `f_owner`. rVisor records them for `F_GETOWN`/`F_GETOWN_EX`/`F_GETSIG` but sends no
//! `SIGIO` (signals are the host's; `O_ASYNC` is kept for `F_GETFL` only).

use super::FileLike;
use crate::container::Pid;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use kernel_hal_lkm::sync::Mutex;

/// Whom an owner id names (`F_OWNER_TID`, `F_OWNER_PID`, `F_OWNER_PGRP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OwnerKind {
    /// One thread.
    Thread,
    /// A process.
    #[default]
    Process,
    /// A process group.
    Group,
}

/// A description's owner and signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Owner {
    /// Whom `id` names.
    pub kind: OwnerKind,
    /// The container pid, tid or process group id (0: nobody).
    pub id: Pid,
    /// The signal `F_SETSIG` chose (0: `SIGIO`).
    pub signal: u32,
}

/// The owners of a container's descriptions that have one, by description.
#[derive(Default)]
pub struct FileOwners {
    owners: Mutex<Vec<(Weak<dyn FileLike>, Owner)>>,
}

/// Whether `weak` names `file` (the same allocation).
fn names(weak: &Weak<dyn FileLike>, file: &Arc<dyn FileLike>) -> bool {
    core::ptr::addr_eq(weak.as_ptr(), Arc::as_ptr(file))
}

impl FileOwners {
    /// No owners.
    pub fn new() -> Self {
        Self::default()
    }

    /// `file`'s owner (none: the default, nobody with `SIGIO`).
    pub fn get(&self, file: &Arc<dyn FileLike>) -> Owner {
        self.owners
            .lock()
            .iter()
            .find(|(weak, _)| names(weak, file))
            .map_or(Owner::default(), |(_, owner)| *owner)
    }

    /// Changes `file`'s owner with `change`.
    pub fn update(&self, file: &Arc<dyn FileLike>, change: impl FnOnce(&mut Owner)) {
        let mut owners = self.owners.lock();
        // Descriptions closed for good are forgotten here.
        owners.retain(|(weak, _)| weak.strong_count() > 0);
        match owners.iter_mut().find(|(weak, _)| names(weak, file)) {
            Some((_, owner)) => change(owner),
            None => {
                let mut owner = Owner::default();
                change(&mut owner);
                owners.push((Arc::downgrade(file), owner));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::{OpenFlags, Pipe};

    #[test]
    fn owners_follow_their_description_and_go_with_it() {
        let owners = FileOwners::new();
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        let (reader, writer): (Arc<dyn FileLike>, Arc<dyn FileLike>) = (reader, writer);
        assert_eq!(owners.get(&reader), Owner::default());
        owners.update(&reader, |owner| owner.id = 7);
        owners.update(&reader, |owner| owner.signal = 10);
        assert_eq!(
            owners.get(&reader),
            Owner {
                kind: OwnerKind::Process,
                id: 7,
                signal: 10
            }
        );
        assert_eq!(owners.get(&writer), Owner::default());
        drop(reader);
        owners.update(&writer, |owner| owner.kind = OwnerKind::Group);
        assert_eq!(owners.owners.lock().len(), 1);
    }
}
