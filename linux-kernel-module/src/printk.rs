//! A `log` backend over printk: `log::error!` is `KERN_ERR`, `warn!` `KERN_WARNING`, `info!`
//! `KERN_INFO`, `debug!`/`trace!` `KERN_DEBUG`. Every line carries the `rvisor: ` prefix.

use core::fmt::{self, Write};

use crate::bindings;

struct Printk;

static LOGGER: Printk = Printk;

/// A line is formatted on the stack: longer messages are cut, never allocated.
const LINE_MAX: usize = 256;

struct Line {
    buf: [u8; LINE_MAX],
    len: usize,
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = LINE_MAX - self.len;
        let n = core::cmp::min(room, s.len());
        if let (Some(dst), Some(src)) = (
            self.buf.get_mut(self.len..self.len + n),
            s.as_bytes().get(..n),
        ) {
            dst.copy_from_slice(src);
            self.len += n;
        }
        Ok(())
    }
}

fn level_of(level: log::Level) -> i32 {
    (match level {
        log::Level::Error => bindings::rvisor_log_level_RVISOR_LOG_ERR,
        log::Level::Warn => bindings::rvisor_log_level_RVISOR_LOG_WARNING,
        log::Level::Info => bindings::rvisor_log_level_RVISOR_LOG_INFO,
        log::Level::Debug | log::Level::Trace => bindings::rvisor_log_level_RVISOR_LOG_DEBUG,
    }) as i32
}

/// Prints one formatted line at `level`.
pub fn print(level: log::Level, args: fmt::Arguments<'_>) {
    let mut line = Line {
        buf: [0; LINE_MAX],
        len: 0,
    };
    let _ = line.write_fmt(args);
    // SAFETY: `buf[..len]` is initialised; printk copies it before returning.
    unsafe {
        bindings::rvisor_printk(
            level_of(level),
            line.buf.as_ptr() as *const _,
            line.len as _,
        )
    };
}

impl log::Log for Printk {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            print(record.level(), *record.args());
        }
    }

    fn flush(&self) {}
}

/// Routes the `log` macros to printk. Called once at module init; a second call changes nothing.
pub fn init(max_level: log::LevelFilter) {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(max_level);
}

/// A panic is a bug in rVisor: report it and `BUG()` (an Oops that ends the current task).
/// The hardened build of `cargo xtask build-ko` aborts at the panic site instead
/// (`-C panic=immediate-abort`, a `ud2` objtool can follow); this handler serves other builds.
#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut line = Line {
        buf: [0; LINE_MAX],
        len: 0,
    };
    let _ = write!(line, "BUG in rVisor: {}", info);
    // SAFETY: `buf[..len]` is initialised; rvisor_bug prints it and does not return.
    unsafe { bindings::rvisor_bug(line.buf.as_ptr() as *const _, line.len as _) }
}
