//! [`UnixNamespace`]: the names unix sockets of one container are bound to — pathname sockets
//! by the identity of their socket inode, abstract ones by their bytes. Each container has
//! its own, so abstract names never meet another container's and a socket inode made by the
//! host (or another container) has no rVisor listener behind it.

use super::Core;
use crate::error::{LxError, LxResult};
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use kernel_hal_lkm::sync::Mutex;

/// A socket inode's identity: `(st_dev, st_ino)`.
pub type NodeKey = (u64, u64);

/// A name a unix socket is bound to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Name {
    /// A socket inode in the container's filesystem.
    Path(NodeKey),
    /// An abstract name: `sun_path` from its leading NUL on.
    Abstract(Vec<u8>),
}

/// The bound unix sockets of a container.
pub struct UnixNamespace {
    names: Mutex<Names>,
}

struct Names {
    bound: BTreeMap<Name, Weak<Core>>,
    /// The next autobind name to try (Linux starts at a random one).
    next_auto: u32,
}

/// Autobind names are 5 hex digits: `0..=0xfffff`.
const AUTOBIND_NAMES: u32 = 0x10_0000;

impl UnixNamespace {
    /// An empty namespace; `seed` picks where autobind names start.
    pub fn new(seed: u32) -> Arc<Self> {
        Arc::new(Self {
            names: Mutex::new(Names {
                bound: BTreeMap::new(),
                next_auto: seed % AUTOBIND_NAMES,
            }),
        })
    }

    /// Binds `name` to `core`; `EADDRINUSE` if a live socket has it.
    pub(super) fn bind(&self, name: Name, core: &Arc<Core>) -> LxResult {
        let mut names = self.names.lock();
        if let Some(existing) = names.bound.get(&name) {
            if existing.strong_count() > 0 {
                return Err(LxError::EADDRINUSE);
            }
        }
        names.bound.insert(name, Arc::downgrade(core));
        Ok(())
    }

    /// Binds `core` to a free abstract name of 5 hex digits and returns `sun_path` for it.
    pub(super) fn autobind(&self, core: &Arc<Core>) -> LxResult<Vec<u8>> {
        let mut names = self.names.lock();
        for _ in 0..AUTOBIND_NAMES {
            let number = names.next_auto;
            names.next_auto = (number + 1) % AUTOBIND_NAMES;
            let mut path = Vec::new();
            path.try_reserve_exact(6).map_err(|_| LxError::ENOMEM)?;
            path.push(0);
            for shift in [16, 12, 8, 4, 0] {
                let digit = ((number >> shift) & 0xf) as u8;
                path.push(if digit < 10 {
                    b'0' + digit
                } else {
                    b'a' + digit - 10
                });
            }
            let name = Name::Abstract(path.clone());
            let free =
                !matches!(names.bound.get(&name), Some(existing) if existing.strong_count() > 0);
            if free {
                names.bound.insert(name, Arc::downgrade(core));
                return Ok(path);
            }
        }
        // Linux gives ENOSPC once every autobind name is in use.
        Err(LxError::ENOSPC)
    }

    /// The live socket bound to `name`, if any.
    pub(super) fn find(&self, name: &Name) -> Option<Arc<Core>> {
        self.names.lock().bound.get(name).and_then(Weak::upgrade)
    }

    /// Forgets `name` if it is still `core`'s (a closing socket).
    pub(super) fn unbind(&self, name: &Name, core: *const Core) {
        let mut names = self.names.lock();
        let mine = names
            .bound
            .get(name)
            .is_some_and(|existing| core::ptr::eq(existing.as_ptr(), core));
        if mine {
            names.bound.remove(name);
        }
    }
}
