//! `struct termios` and `struct winsize` as the kernel's ioctls exchange them (x86-64), and
//! the flag and control-character constants the line discipline acts on.

/// Number of control characters in the kernel's `struct termios` (`NCCS`).
pub const NCCS: usize = 19;

/// Size of the kernel's `struct termios` (`TCGETS`): four flag words, `c_line`, `c_cc`.
pub const TERMIOS_SIZE: usize = 36;
/// Size of `struct termios2` (`TCGETS2`): `struct termios` and the two speeds.
pub const TERMIOS2_SIZE: usize = 44;

/// Input flags (`c_iflag`).
pub mod iflag {
    /// Strip the eighth bit.
    pub const ISTRIP: u32 = 0o40;
    /// Translate NL to CR on input.
    pub const INLCR: u32 = 0o100;
    /// Ignore CR on input.
    pub const IGNCR: u32 = 0o200;
    /// Translate CR to NL on input.
    pub const ICRNL: u32 = 0o400;
    /// Map upper case to lower case on input (with `IEXTEN`).
    pub const IUCLC: u32 = 0o1000;
    /// Start/stop output control (`VSTART`/`VSTOP`).
    pub const IXON: u32 = 0o2000;
    /// Any character restarts stopped output.
    pub const IXANY: u32 = 0o4000;
    /// Input is UTF-8 (erase a whole character).
    pub const IUTF8: u32 = 0o40000;
}

/// Output flags (`c_oflag`).
pub mod oflag {
    /// Post-process output.
    pub const OPOST: u32 = 0o1;
    /// Map lower case to upper case on output.
    pub const OLCUC: u32 = 0o2;
    /// Map NL to CR-NL on output.
    pub const ONLCR: u32 = 0o4;
    /// Map CR to NL on output.
    pub const OCRNL: u32 = 0o10;
    /// No CR output at column 0.
    pub const ONOCR: u32 = 0o20;
    /// NL performs the CR function.
    pub const ONLRET: u32 = 0o40;
    /// The horizontal tab delay mask.
    pub const TABDLY: u32 = 0o14000;
    /// Expand tabs to spaces (`TABDLY` value).
    pub const XTABS: u32 = 0o14000;
}

/// Control flags (`c_cflag`).
pub mod cflag {
    /// The baud rate mask (with `CBAUDEX`).
    pub const CBAUD: u32 = 0o10017;
    /// 38400 baud.
    pub const B38400: u32 = 0o17;
    /// Eight bits per character.
    pub const CS8: u32 = 0o60;
    /// Enable the receiver.
    pub const CREAD: u32 = 0o200;
    /// Hang up on last close.
    pub const HUPCL: u32 = 0o2000;
}

/// Local flags (`c_lflag`).
pub mod lflag {
    /// Generate signals for `VINTR`, `VQUIT`, `VSUSP`.
    pub const ISIG: u32 = 0o1;
    /// Canonical (line-by-line) input.
    pub const ICANON: u32 = 0o2;
    /// Echo input.
    pub const ECHO: u32 = 0o10;
    /// `VERASE` erases the previous character on the screen.
    pub const ECHOE: u32 = 0o20;
    /// `VKILL` is followed by a newline (unless `ECHOKE`).
    pub const ECHOK: u32 = 0o40;
    /// Echo NL even without `ECHO`.
    pub const ECHONL: u32 = 0o100;
    /// Do not flush the queues on a signal character.
    pub const NOFLSH: u32 = 0o200;
    /// Background writes raise `SIGTTOU`.
    pub const TOSTOP: u32 = 0o400;
    /// Echo control characters as `^X`.
    pub const ECHOCTL: u32 = 0o1000;
    /// Echo erased characters between `\` and `/`.
    pub const ECHOPRT: u32 = 0o2000;
    /// `VKILL` erases each character of the line on the screen.
    pub const ECHOKE: u32 = 0o4000;
    /// Extended input processing (`VWERASE`, `VLNEXT`, `VEOL2`, `IUCLC`).
    pub const IEXTEN: u32 = 0o100000;
}

/// Indices of `c_cc`.
pub mod cc {
    /// Interrupt (`SIGINT`).
    pub const VINTR: usize = 0;
    /// Quit (`SIGQUIT`).
    pub const VQUIT: usize = 1;
    /// Erase a character.
    pub const VERASE: usize = 2;
    /// Erase the line.
    pub const VKILL: usize = 3;
    /// End of file.
    pub const VEOF: usize = 4;
    /// Non-canonical read timeout, in tenths of a second.
    pub const VTIME: usize = 5;
    /// Non-canonical read minimum.
    pub const VMIN: usize = 6;
    /// Restart output.
    pub const VSTART: usize = 8;
    /// Stop output.
    pub const VSTOP: usize = 9;
    /// Suspend (`SIGTSTP`).
    pub const VSUSP: usize = 10;
    /// Another end of line.
    pub const VEOL: usize = 11;
    /// Reprint the line.
    pub const VREPRINT: usize = 12;
    /// Erase a word.
    pub const VWERASE: usize = 14;
    /// Take the next character literally.
    pub const VLNEXT: usize = 15;
    /// A third end of line.
    pub const VEOL2: usize = 16;
}

/// The kernel's `struct termios2` (a `struct termios` is its first 36 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Termios {
    /// Input flags.
    pub iflag: u32,
    /// Output flags.
    pub oflag: u32,
    /// Control flags.
    pub cflag: u32,
    /// Local flags.
    pub lflag: u32,
    /// Line discipline (0, `N_TTY`).
    pub line: u8,
    /// Control characters.
    pub cc: [u8; NCCS],
    /// Input speed.
    pub ispeed: u32,
    /// Output speed.
    pub ospeed: u32,
}

/// Linux's `INIT_C_CC`: ^C ^\ ^? ^U ^D, time 0, min 1, … ^Q ^S ^Z, …, ^R ^O ^W ^V.
const INIT_C_CC: [u8; NCCS] = [
    0o3, 0o34, 0o177, 0o25, 0o4, 0, 1, 0, 0o21, 0o23, 0o32, 0, 0o22, 0o17, 0o27, 0o26, 0, 0, 0,
];

impl Default for Termios {
    /// A pty slave's first settings (Linux's `tty_std_termios` with the pty driver's
    /// `c_cflag` `B38400 | CS8 | CREAD`).
    fn default() -> Self {
        Self {
            iflag: iflag::ICRNL | iflag::IXON,
            oflag: oflag::OPOST | oflag::ONLCR,
            cflag: cflag::B38400 | cflag::CS8 | cflag::CREAD,
            lflag: lflag::ISIG
                | lflag::ICANON
                | lflag::ECHO
                | lflag::ECHOE
                | lflag::ECHOK
                | lflag::ECHOCTL
                | lflag::ECHOKE
                | lflag::IEXTEN,
            line: 0,
            cc: INIT_C_CC,
            ispeed: 38400,
            ospeed: 38400,
        }
    }
}

/// Little-endian `u32` at `at` of `bytes` (0 past the end: callers pass whole structs).
fn word(bytes: &[u8], at: usize) -> u32 {
    let mut raw = [0u8; 4];
    if let Some(source) = bytes.get(at..at + 4) {
        raw.copy_from_slice(source);
    }
    u32::from_le_bytes(raw)
}

impl Termios {
    /// Decodes a `struct termios` (36 bytes) or `struct termios2` (44 bytes); with the
    /// short form the speeds are taken from the baud bits, as Linux's `tty_set_termios`
    /// does for the rates it knows (38400 otherwise kept from `current`).
    pub fn from_bytes(bytes: &[u8], current: &Termios) -> Self {
        let mut cc = [0u8; NCCS];
        if let Some(source) = bytes.get(17..17 + NCCS) {
            cc.copy_from_slice(source);
        }
        let long = bytes.len() >= TERMIOS2_SIZE;
        Self {
            iflag: word(bytes, 0),
            oflag: word(bytes, 4),
            cflag: word(bytes, 8),
            lflag: word(bytes, 12),
            line: bytes.get(16).copied().unwrap_or(0),
            cc,
            ispeed: if long {
                word(bytes, 36)
            } else {
                current.ispeed
            },
            ospeed: if long {
                word(bytes, 40)
            } else {
                current.ospeed
            },
        }
    }

    /// Encodes as a `struct termios2` (its first [`TERMIOS_SIZE`] bytes are a `struct
    /// termios`).
    pub fn to_bytes(&self) -> [u8; TERMIOS2_SIZE] {
        let mut out = [0u8; TERMIOS2_SIZE];
        for (at, value) in [
            (0, self.iflag),
            (4, self.oflag),
            (8, self.cflag),
            (12, self.lflag),
            (36, self.ispeed),
            (40, self.ospeed),
        ] {
            if let Some(slot) = out.get_mut(at..at + 4) {
                slot.copy_from_slice(&value.to_le_bytes());
            }
        }
        if let Some(slot) = out.get_mut(16) {
            *slot = self.line;
        }
        if let Some(slot) = out.get_mut(17..17 + NCCS) {
            slot.copy_from_slice(&self.cc);
        }
        out
    }

    /// Is local flag `flag` set?
    pub fn l(&self, flag: u32) -> bool {
        self.lflag & flag != 0
    }

    /// Is input flag `flag` set?
    pub fn i(&self, flag: u32) -> bool {
        self.iflag & flag != 0
    }

    /// Is output flag `flag` set?
    pub fn o(&self, flag: u32) -> bool {
        self.oflag & flag != 0
    }

    /// Control character `index` (`_POSIX_VDISABLE`, 0, for an index past the array).
    pub fn cc(&self, index: usize) -> u8 {
        self.cc.get(index).copied().unwrap_or(0)
    }

    /// Whether `c` is control character `index` and that character is enabled (Linux
    /// disables a control character set to `_POSIX_VDISABLE`, 0).
    pub fn is(&self, c: u8, index: usize) -> bool {
        let special = self.cc(index);
        special != 0 && special == c
    }
}

/// `struct winsize`: rows, columns, and the pixel sizes nobody uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WinSize {
    /// Rows.
    pub rows: u16,
    /// Columns.
    pub cols: u16,
    /// Width in pixels.
    pub xpixel: u16,
    /// Height in pixels.
    pub ypixel: u16,
}

impl WinSize {
    /// Decodes the 8 bytes of a `struct winsize`.
    pub fn from_bytes(bytes: [u8; 8]) -> Self {
        let half = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
        Self {
            rows: half(0),
            cols: half(2),
            xpixel: half(4),
            ypixel: half(6),
        }
    }

    /// Encodes as the 8 bytes of a `struct winsize`.
    pub fn to_bytes(self) -> [u8; 8] {
        let mut out = [0u8; 8];
        out[0..2].copy_from_slice(&self.rows.to_le_bytes());
        out[2..4].copy_from_slice(&self.cols.to_le_bytes());
        out[4..6].copy_from_slice(&self.xpixel.to_le_bytes());
        out[6..8].copy_from_slice(&self.ypixel.to_le_bytes());
        out
    }
}
