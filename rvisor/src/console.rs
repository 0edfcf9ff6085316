//! `rvisor run -t`: relays between the user's terminal and the container's console pty,
//! whose master the module gives us as a descriptor. With `-i` the user's terminal is put in
//! raw mode while the command runs (its line editing and ^C are the container's terminal's
//! now) and restored after; window size changes (`SIGWINCH`) are passed on with
//! `TIOCSWINSZ`.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};

/// The write end of the self-pipe the signal handlers write to (-1: none).
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(signal: libc::c_int) {
    let fd = WAKE_FD.load(Ordering::Relaxed);
    let byte: u8 = if signal == libc::SIGWINCH { b'w' } else { b'c' };
    // SAFETY: write(2) is async-signal-safe; a full pipe just drops the byte (the loop
    // checks everything each time it wakes).
    unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
}

/// The user's terminal settings, restored when dropped.
struct RawMode(libc::termios);

impl RawMode {
    /// Puts stdin's terminal in raw mode, if stdin is a terminal.
    fn enter() -> Option<Self> {
        // SAFETY: tcgetattr/tcsetattr on fd 0 with live termios structs.
        unsafe {
            if libc::isatty(0) == 0 {
                return None;
            }
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut saved) < 0 {
                return None;
            }
            let mut raw = saved;
            libc::cfmakeraw(&mut raw);
            libc::tcsetattr(0, libc::TCSANOW, &raw);
            Some(Self(saved))
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restoring the settings read at `enter`.
        unsafe { libc::tcsetattr(0, libc::TCSAFLUSH, &self.0) };
    }
}

/// Copies the user's window size (stdin's or stdout's terminal) to the pty, if there is one.
pub fn pass_window_size(master: &OwnedFd) {
    for fd in [0, 1] {
        // SAFETY: TIOCGWINSZ/TIOCSWINSZ with a live winsize.
        unsafe {
            let mut size: libc::winsize = std::mem::zeroed();
            if libc::ioctl(fd, libc::TIOCGWINSZ, &mut size) == 0 {
                libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &size);
                return;
            }
        }
    }
}

/// Writes all of `buf` to `fd`.
fn write_all(fd: RawFd, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        // SAFETY: writing a live buffer.
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        buf = &buf[n as usize..];
    }
    Ok(())
}

/// Reads what `fd` has (one read); `Ok(0)` at its end (`EIO` of a master whose slave is
/// closed counts as the end).
fn read_some(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: reading into a live buffer.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EIO) => return Ok(0),
            _ => return Err(err),
        }
    }
}

/// Relays until the container's first process (`child`) has exited and the pty has nothing
/// more to say; returns the child's wait status.
pub fn relay(master: &OwnedFd, child: libc::pid_t, interactive: bool) -> Result<i32, String> {
    let mut pipe = [0; 2];
    // SAFETY: a fresh pipe into a live array.
    if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } < 0 {
        return Err(format!("pipe: {}", io::Error::last_os_error()));
    }
    WAKE_FD.store(pipe[1], Ordering::Relaxed);
    // SAFETY: installing handlers that only write to the self-pipe.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as *const () as usize;
        action.sa_flags = libc::SA_RESTART;
        libc::sigaction(libc::SIGWINCH, &action, std::ptr::null_mut());
        libc::sigaction(libc::SIGCHLD, &action, std::ptr::null_mut());
    }
    let raw = if interactive { RawMode::enter() } else { None };
    let master_fd = master.as_raw_fd();
    let mut buf = [0u8; 4096];
    let mut stdin_open = interactive;
    let mut master_open = true;
    let mut status = None;
    let result = loop {
        if status.is_none() {
            let mut wait_status = 0;
            // SAFETY: reaping our own child into a live int.
            if unsafe { libc::waitpid(child, &mut wait_status, libc::WNOHANG) } == child {
                status = Some(wait_status);
            }
        }
        if !master_open {
            if let Some(status) = status {
                break Ok(status);
            }
        }
        let mut fds = [
            libc::pollfd {
                fd: if master_open { master_fd } else { -1 },
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: if stdin_open { 0 } else { -1 },
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: pipe[0],
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // Once the child is gone only what is left in the pty is read, without waiting.
        let timeout = if status.is_some() { 100 } else { -1 };
        // SAFETY: polling a live array of pollfds.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as _, timeout) };
        if ready < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            break Err(format!("poll: {err}"));
        }
        if ready == 0 && status.is_some() {
            master_open = false;
            continue;
        }
        if fds[2].revents != 0 {
            let mut signals = [0u8; 64];
            // SAFETY: draining the self-pipe into a live buffer.
            let n = unsafe { libc::read(pipe[0], signals.as_mut_ptr().cast(), signals.len()) };
            if n > 0 && signals[..n as usize].contains(&b'w') {
                pass_window_size(master);
            }
        }
        if fds[0].revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
            match read_some(master_fd, &mut buf) {
                Ok(0) => master_open = false,
                Ok(n) => {
                    if let Err(err) = write_all(1, &buf[..n]) {
                        break Err(format!("writing the output: {err}"));
                    }
                }
                Err(err) => break Err(format!("reading the terminal: {err}")),
            }
        }
        if fds[1].revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
            match read_some(0, &mut buf) {
                Ok(0) | Err(_) => stdin_open = false,
                Ok(n) => {
                    if let Err(err) = write_all(master_fd, &buf[..n]) {
                        break Err(format!("writing to the terminal: {err}"));
                    }
                }
            }
        }
    };
    drop(raw);
    // SAFETY: back to the default dispositions; the pipe is ours.
    unsafe {
        libc::signal(libc::SIGWINCH, libc::SIG_DFL);
        libc::signal(libc::SIGCHLD, libc::SIG_DFL);
        WAKE_FD.store(-1, Ordering::Relaxed);
        libc::close(pipe[0]);
        libc::close(pipe[1]);
    }
    let status = result?;
    Ok(status)
}
