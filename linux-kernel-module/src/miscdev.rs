//! `/dev/rvisor`: a misc character device whose `open` and `ioctl` go to the module's
//! [`crate::module::KernelModule::open`] and [`crate::module::KernelModule::ioctl`].

use crate::bindings;
use crate::error::{Error, Result};

/// The registered device; dropping it removes `/dev/rvisor`.
pub struct MiscDevice(());

impl MiscDevice {
    /// Registers `/dev/rvisor` (mode 0666: every caller is checked in `ioctl`).
    pub fn register() -> Result<MiscDevice> {
        // SAFETY: process context (module init); balanced by `drop`.
        let ret = unsafe { bindings::rvisor_misc_register() };
        Error::check(ret as i64)?;
        Ok(MiscDevice(()))
    }
}

impl Drop for MiscDevice {
    fn drop(&mut self) {
        // SAFETY: the device was registered by `register`.
        unsafe { bindings::rvisor_misc_deregister() }
    }
}
