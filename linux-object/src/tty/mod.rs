//! Terminals served by rVisor: the line discipline ([`ldisc`], Linux's `n_tty`), termios
//! ([`termios`]) and pseudo-terminals ([`pty`]: a container's devpts, masters and slaves).
//! The syscall layer serves the terminal ioctls and job control over these; devfs
//! (`crate::devfs`) names them as `/dev/ptmx` and `/dev/pts/N`.

pub mod ldisc;
pub mod pty;
pub mod termios;

pub use ldisc::LineDiscipline;
pub use pty::{DevPts, Pty, PtyMaster, PtySlave, TtySignals, PTY_SLAVE_MAJOR};
pub use termios::{Termios, WinSize};
