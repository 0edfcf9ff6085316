//! `setuid`, `setgid`, `setreuid`, `setregid`, `setresuid`, `setresgid`, `setfsuid`,
//! `setfsgid`, `setgroups`: the host applies the change with its own rules, then rVisor takes
//! the thread's new ids for the process.
//!
//! The host decides, so that the permission checks of the two never disagree: rVisor checks
//! file access with the process's credentials, the host with the task's, and a change must
//! drop (or keep) host capabilities exactly as Linux does. The ids read back are the calling
//! thread's; rVisor keeps one set per process, which is what a program using its libc sees
//! (glibc and musl apply an id change to every thread).

use crate::host::IdChange;
use crate::{SysResult, Syscall};

/// The ids a program passes: `uid_t`/`gid_t` (-1 is `u32::MAX`, "unchanged").
fn id(value: usize) -> u32 {
    value as u32
}

impl Syscall<'_> {
    /// Has the host apply `change`, then mirrors the thread's ids in the process.
    fn change_ids(&self, change: IdChange) -> SysResult {
        let value = self.host.change_ids(change)?;
        self.process.set_credentials(self.host.credentials()?);
        Ok(value)
    }

    /// `setuid(uid)`.
    pub fn sys_setuid(&self, uid: usize) -> SysResult {
        self.change_ids(IdChange::SetUid(id(uid)))
    }

    /// `setgid(gid)`.
    pub fn sys_setgid(&self, gid: usize) -> SysResult {
        self.change_ids(IdChange::SetGid(id(gid)))
    }

    /// `setreuid(ruid, euid)`.
    pub fn sys_setreuid(&self, ruid: usize, euid: usize) -> SysResult {
        self.change_ids(IdChange::SetReUid(id(ruid), id(euid)))
    }

    /// `setregid(rgid, egid)`.
    pub fn sys_setregid(&self, rgid: usize, egid: usize) -> SysResult {
        self.change_ids(IdChange::SetReGid(id(rgid), id(egid)))
    }

    /// `setresuid(ruid, euid, suid)`.
    pub fn sys_setresuid(&self, ruid: usize, euid: usize, suid: usize) -> SysResult {
        self.change_ids(IdChange::SetResUid(id(ruid), id(euid), id(suid)))
    }

    /// `setresgid(rgid, egid, sgid)`.
    pub fn sys_setresgid(&self, rgid: usize, egid: usize, sgid: usize) -> SysResult {
        self.change_ids(IdChange::SetResGid(id(rgid), id(egid), id(sgid)))
    }

    /// `setfsuid(fsuid)`: the old fsuid, whether or not it changed.
    pub fn sys_setfsuid(&self, fsuid: usize) -> SysResult {
        self.change_ids(IdChange::SetFsUid(id(fsuid)))
    }

    /// `setfsgid(fsgid)`: the old fsgid, whether or not it changed.
    pub fn sys_setfsgid(&self, fsgid: usize) -> SysResult {
        self.change_ids(IdChange::SetFsGid(id(fsgid)))
    }

    /// `setgroups(size, list)`: the host reads the list from the caller's memory.
    pub fn sys_setgroups(&self, size: usize, list: usize) -> SysResult {
        self.change_ids(IdChange::SetGroups { size, list })
    }
}

#[cfg(test)]
mod tests {
    use crate::fs::testing::{run, Sandbox};
    use crate::host::IdChange;
    use crate::testing::HostEvent;
    use alloc::vec::Vec;

    const SETRESUID: u32 = 117;
    const SETGROUPS: u32 = 116;
    const SETFSUID: u32 = 122;

    #[test]
    fn the_host_applies_the_change_and_the_process_takes_the_new_ids() {
        let sandbox = Sandbox::new("setid");
        let sys = sandbox.syscall();
        let list = sandbox.user.put_bytes(&[7, 0, 0, 0, 9, 0, 0, 0]);
        assert_eq!(run(&sys, SETGROUPS, &[2, list]), 0);
        assert_eq!(sys.process.credentials().groups, [7, 9]);
        assert_eq!(run(&sys, SETRESUID, &[1000, 1001, u32::MAX as usize]), 0);
        let ids = sys.process.credentials();
        assert_eq!(
            (ids.uid, ids.euid, ids.suid, ids.fsuid),
            (1000, 1001, 0, 1001)
        );
        // The saved id 0 may still be the fsuid; another one is refused, silently.
        assert_eq!(run(&sys, SETFSUID, &[0]), 1001);
        assert_eq!(run(&sys, SETFSUID, &[1002]), 0);
        assert_eq!(sys.process.credentials().fsuid, 0);
        let changes: Vec<IdChange> = sandbox
            .machine()
            .events()
            .into_iter()
            .filter_map(|event| match event {
                HostEvent::IdChange { change, .. } => Some(change),
                _ => None,
            })
            .collect();
        assert_eq!(
            changes,
            [
                IdChange::SetGroups { size: 2, list },
                IdChange::SetResUid(1000, 1001, u32::MAX),
                IdChange::SetFsUid(0),
                IdChange::SetFsUid(1002)
            ]
        );
    }

    #[test]
    fn a_refused_change_leaves_the_process_as_it_was() {
        let sandbox = Sandbox::new("setid-refused");
        let sys = sandbox.syscall();
        sys.process
            .set_credentials(linux_object::credentials::Credentials::user(1000, 1000));
        let before = sys.process.credentials();
        assert_eq!(
            run(&sys, SETRESUID, &[0, 0, 0]),
            crate::fs::testing::err(linux_object::LxError::EPERM)
        );
        assert_eq!(sys.process.credentials(), before);
    }
}
