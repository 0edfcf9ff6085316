//! `uname`: the host kernel's identity with the container's hostname.

use linux_kernel_module::gate::Syscall;
use linux_kernel_module::user_ptr::UserOutPtr;
use linux_kernel_module::uts;

use super::{Context, SysResult};

/// The domain name of a fresh UTS namespace.
const DOMAINNAME: &[u8] = b"(none)";

/// Fills `struct utsname` at the first argument; `EFAULT` for a bad pointer.
pub fn sys_uname(ctx: &Context<'_>, call: &Syscall<'_>) -> SysResult {
    let [buf, ..] = call.args();
    let mut name = uts::host_utsname();
    set_field(
        &mut name.nodename,
        ctx.caller.container.hostname().as_bytes(),
    );
    set_field(&mut name.domainname, DOMAINNAME);
    UserOutPtr::<uts::UtsName>::new(buf).write(&name)?;
    Ok(0)
}

/// Replaces a NUL-terminated field; the value is cut to fit (hostnames are at most 64 bytes,
/// the field holds 64 and the NUL).
fn set_field(field: &mut [core::ffi::c_char], value: &[u8]) {
    for (i, slot) in field.iter_mut().enumerate() {
        *slot = value.get(i).copied().unwrap_or(0) as core::ffi::c_char;
    }
    if let Some(last) = field.last_mut() {
        *last = 0;
    }
}
