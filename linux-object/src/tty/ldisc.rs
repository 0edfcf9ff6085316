//! [`LineDiscipline`]: Linux's `n_tty` — input editing, echo, signal characters and output
//! post-processing — as a plain state machine. It holds no lock and wakes nobody: the pty
//! ([`super::Pty`]) feeds it under its own lock and acts on the [`Effects`] it reports
//! (echoed bytes for the master, signals for the foreground process group).

use super::termios::{cc, iflag, lflag, oflag, Termios};
use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// The size of Linux's `n_tty` read buffer: input waiting to be read never exceeds it.
pub const N_TTY_BUF_SIZE: usize = 4096;

/// `SIGINT`, `SIGQUIT`, `SIGTSTP`, as the signal characters raise them.
const SIGINT: u32 = 2;
const SIGQUIT: u32 = 3;
const SIGTSTP: u32 = 20;

/// A committed canonical line in the read queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Line {
    /// Bytes left of it in the queue, its terminator (NL, EOL, EOL2) included.
    len: usize,
    /// It ended with `VEOF`, which is not in the queue and is never read.
    eof: bool,
}

/// What receiving input did besides queueing it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// Bytes echoed, output-processed, for the master to read.
    pub echo: Vec<u8>,
    /// Signals for the foreground process group, in order.
    pub signals: Vec<u32>,
    /// A signal character flushed the input queue (and the echoes not yet output).
    pub flushed: bool,
    /// Output was stopped (`VSTOP`) or restarted (`VSTART`): `Some(stopped)`.
    pub flow: Option<bool>,
}

/// The line discipline of one terminal.
pub struct LineDiscipline {
    termios: Termios,
    /// Input a reader may take: whole lines in canonical mode, bytes otherwise.
    read: VecDeque<u8>,
    /// Canonical mode: the lines in `read`, oldest first.
    lines: VecDeque<Line>,
    /// Canonical mode: the line being edited, not yet readable.
    edit: Vec<u8>,
    /// The output column (for tabs, `ONOCR` and erasing tabs).
    column: usize,
    /// The column where echo of the line being edited started.
    canon_column: usize,
    /// `VLNEXT` was typed: the next character is taken literally.
    lnext: bool,
}

impl Default for LineDiscipline {
    fn default() -> Self {
        Self::new(Termios::default())
    }
}

/// Linux's `iscntrl` (its ctype table: 0–31 and 127–159).
fn is_control(c: u8) -> bool {
    c < 32 || (127..160).contains(&c)
}

impl LineDiscipline {
    /// A line discipline with `termios` and nothing queued.
    pub fn new(termios: Termios) -> Self {
        Self {
            termios,
            read: VecDeque::new(),
            lines: VecDeque::new(),
            edit: Vec::new(),
            column: 0,
            canon_column: 0,
            lnext: false,
        }
    }

    /// The current settings.
    pub fn termios(&self) -> &Termios {
        &self.termios
    }

    fn canonical(&self) -> bool {
        self.termios.l(lflag::ICANON)
    }

    /// Changes the settings as Linux's `n_tty_set_termios`: leaving canonical mode makes
    /// everything typed readable at once; entering it with input queued makes that input one
    /// line.
    pub fn set_termios(&mut self, termios: Termios) {
        let was = self.canonical();
        self.termios = termios;
        if was == self.canonical() {
            return;
        }
        self.lnext = false;
        self.read.extend(self.edit.drain(..));
        self.lines.clear();
        if self.canonical() && !self.read.is_empty() {
            self.lines.push_back(Line {
                len: self.read.len(),
                eof: false,
            });
        }
    }

    /// Drops all input (`TCIFLUSH`, `TCSETSF`, a signal character without `NOFLSH`).
    pub fn flush_input(&mut self) {
        self.read.clear();
        self.lines.clear();
        self.edit.clear();
        self.lnext = false;
    }

    /// Bytes held, readable or being edited.
    fn held(&self) -> usize {
        self.read.len() + self.edit.len()
    }

    /// Whether another input byte can be taken now. In canonical mode with no line
    /// complete there is always room (the last byte is overwritten, as Linux does), so a
    /// full line can still be erased or ended.
    pub fn has_room(&self) -> bool {
        self.held() < N_TTY_BUF_SIZE - 1 || (self.canonical() && self.lines.is_empty())
    }

    /// Is there something for a read (a whole line in canonical mode, `min` bytes
    /// otherwise)?
    pub fn readable(&self, min: usize) -> bool {
        if self.canonical() {
            !self.lines.is_empty()
        } else {
            self.read.len() >= min.max(1)
        }
    }

    /// Bytes a read could take now (`FIONREAD`): the complete lines in canonical mode.
    pub fn queued(&self) -> usize {
        if self.canonical() {
            self.lines.iter().map(|line| line.len).sum()
        } else {
            self.read.len()
        }
    }

    /// Takes input for a read into `buf`: in canonical mode at most one line, whose
    /// `VEOF` ends it unread (a line of only `VEOF` reads as 0 bytes: end of file);
    /// otherwise what is there. `None` if nothing is readable.
    pub fn take(&mut self, buf: &mut [u8]) -> Option<usize> {
        if !self.canonical() {
            if self.read.is_empty() {
                return None;
            }
            let count = buf.len().min(self.read.len());
            for (slot, byte) in buf.iter_mut().zip(self.read.drain(..count)) {
                *slot = byte;
            }
            return Some(count);
        }
        let line = self.lines.front_mut()?;
        let count = buf.len().min(line.len);
        // The terminator of an EOF line is consumed only when the read had room past the
        // line's bytes, as Linux's `canon_copy_from_read_buf` counts it.
        let whole = if line.eof {
            buf.len() > line.len
        } else {
            count == line.len
        };
        line.len -= count;
        if whole {
            self.lines.pop_front();
        }
        for (slot, byte) in buf.iter_mut().zip(self.read.drain(..count)) {
            *slot = byte;
        }
        Some(count)
    }

    /// Receives one input byte (typed at the terminal: written to the master), as Linux's
    /// `n_tty_receive_char_special` and `n_tty_receive_char`. The caller checked
    /// [`LineDiscipline::has_room`].
    pub fn receive(&mut self, byte: u8, fx: &mut Effects) {
        let t = self.termios;
        let mut c = byte;
        if t.i(iflag::ISTRIP) {
            c &= 0x7f;
        }
        if t.i(iflag::IUCLC) && t.l(lflag::IEXTEN) {
            c = c.to_ascii_lowercase();
        }
        if self.lnext {
            self.lnext = false;
            // The `^` shown for VLNEXT is under the cursor: the echo overwrites it.
            self.put_echoed(c, fx);
            return;
        }
        if t.i(iflag::IXON) {
            if t.is(c, cc::VSTART) {
                fx.flow = Some(false);
                return;
            }
            if t.is(c, cc::VSTOP) {
                fx.flow = Some(true);
                return;
            }
        }
        if t.l(lflag::ISIG) {
            let signal = if t.is(c, cc::VINTR) {
                Some(SIGINT)
            } else if t.is(c, cc::VQUIT) {
                Some(SIGQUIT)
            } else if t.is(c, cc::VSUSP) {
                Some(SIGTSTP)
            } else {
                None
            };
            if let Some(signal) = signal {
                fx.signals.push(signal);
                if !t.l(lflag::NOFLSH) {
                    self.flush_input();
                    fx.echo.clear();
                    fx.flushed = true;
                }
                if t.i(iflag::IXON) {
                    fx.flow = Some(false);
                }
                if t.l(lflag::ECHO) {
                    self.echo_char(c, fx);
                }
                return;
            }
        }
        if t.i(iflag::IXON) && t.i(iflag::IXANY) {
            fx.flow = Some(false);
        }
        if c == b'\r' {
            if t.i(iflag::IGNCR) {
                return;
            }
            if t.i(iflag::ICRNL) {
                c = b'\n';
            }
        } else if c == b'\n' && t.i(iflag::INLCR) {
            c = b'\r';
        }
        if self.canonical() {
            if t.is(c, cc::VERASE)
                || t.is(c, cc::VKILL)
                || (t.is(c, cc::VWERASE) && t.l(lflag::IEXTEN))
            {
                self.erase(c, fx);
                return;
            }
            if t.is(c, cc::VLNEXT) && t.l(lflag::IEXTEN) {
                self.lnext = true;
                if t.l(lflag::ECHO) && t.l(lflag::ECHOCTL) {
                    self.output_raw(b'^', fx);
                    self.output_raw(b'\x08', fx);
                }
                return;
            }
            if t.is(c, cc::VREPRINT) && t.l(lflag::ECHO) && t.l(lflag::IEXTEN) {
                self.echo_char(c, fx);
                self.output_char(b'\n', fx);
                let line = core::mem::take(&mut self.edit);
                for &byte in &line {
                    self.echo_char(byte, fx);
                }
                self.edit = line;
                return;
            }
            if c == b'\n' {
                if t.l(lflag::ECHO) || t.l(lflag::ECHONL) {
                    self.output_char(b'\n', fx);
                }
                self.commit(Some(c));
                return;
            }
            if t.is(c, cc::VEOF) {
                self.commit(None);
                return;
            }
            if t.is(c, cc::VEOL) || (t.is(c, cc::VEOL2) && t.l(lflag::IEXTEN)) {
                if t.l(lflag::ECHO) {
                    if self.edit.is_empty() {
                        self.canon_column = self.column;
                    }
                    self.echo_char(c, fx);
                }
                self.commit(Some(c));
                return;
            }
        }
        self.put_echoed(c, fx);
    }

    /// Echoes (with `ECHO`) and queues an ordinary character.
    fn put_echoed(&mut self, c: u8, fx: &mut Effects) {
        if self.termios.l(lflag::ECHO) {
            if self.canonical() && self.edit.is_empty() {
                self.canon_column = self.column;
            }
            self.echo_char(c, fx);
        }
        self.put(c);
    }

    /// Queues `c`: onto the line being edited in canonical mode (overwriting its last byte
    /// when the buffer is full), readable at once otherwise.
    fn put(&mut self, c: u8) {
        if self.canonical() {
            if self.held() >= N_TTY_BUF_SIZE {
                self.edit.pop();
            }
            self.edit.push(c);
        } else if self.held() < N_TTY_BUF_SIZE {
            self.read.push_back(c);
        }
    }

    /// Ends the line being edited with `terminator` (`None`: `VEOF`, which is not queued).
    fn commit(&mut self, terminator: Option<u8>) {
        if let Some(c) = terminator {
            if self.held() >= N_TTY_BUF_SIZE {
                self.edit.pop();
            }
            self.edit.push(c);
        }
        let len = self.edit.len();
        self.read.extend(self.edit.drain(..));
        self.lines.push_back(Line {
            len,
            eof: terminator.is_none(),
        });
    }

    /// Linux's `eraser`: `VERASE` takes one character back, `VWERASE` a word, `VKILL` the
    /// line, with the echo each asks for.
    fn erase(&mut self, c: u8, fx: &mut Effects) {
        #[derive(PartialEq)]
        enum Kind {
            Erase,
            Word,
            Kill,
        }
        let t = self.termios;
        if self.edit.is_empty() {
            return;
        }
        let kind = if t.is(c, cc::VERASE) {
            Kind::Erase
        } else if t.is(c, cc::VWERASE) {
            Kind::Word
        } else {
            if !t.l(lflag::ECHO) {
                self.edit.clear();
                return;
            }
            if !t.l(lflag::ECHOK) || !t.l(lflag::ECHOKE) || !t.l(lflag::ECHOE) {
                self.edit.clear();
                self.echo_char(c, fx);
                if t.l(lflag::ECHOK) {
                    self.output_char(b'\n', fx);
                }
                return;
            }
            Kind::Kill
        };
        let utf8 = t.i(iflag::IUTF8);
        let continuation = |byte: u8| utf8 && byte & 0xc0 == 0x80;
        let mut seen_alnums = 0;
        while let Some(&last) = self.edit.last() {
            // One (possibly multibyte) character.
            let mut start = self.edit.len() - 1;
            while start > 0 && continuation(self.edit.get(start).copied().unwrap_or(0)) {
                start -= 1;
            }
            let first = self.edit.get(start).copied().unwrap_or(last);
            if continuation(first) {
                break;
            }
            if kind == Kind::Word {
                if first.is_ascii_alphanumeric() || first == b'_' {
                    seen_alnums += 1;
                } else if seen_alnums > 0 {
                    break;
                }
            }
            self.edit.truncate(start);
            if t.l(lflag::ECHO) {
                if kind == Kind::Erase && !t.l(lflag::ECHOE) {
                    self.echo_char(t.cc(cc::VERASE), fx);
                } else if first == b'\t' {
                    self.erase_tab(fx);
                } else {
                    if is_control(first) && t.l(lflag::ECHOCTL) {
                        self.rub_out(fx);
                    }
                    if !is_control(first) || t.l(lflag::ECHOCTL) {
                        self.rub_out(fx);
                    }
                }
            }
            if kind == Kind::Erase {
                break;
            }
        }
    }

    /// `\b \b`: takes one column back on the screen.
    fn rub_out(&mut self, fx: &mut Effects) {
        for byte in *b"\x08 \x08" {
            self.output_char(byte, fx);
        }
    }

    /// Moves back over an erased tab, as Linux's `ECHO_OP_ERASE_TAB` counts the columns of
    /// the characters before it.
    fn erase_tab(&mut self, fx: &mut Effects) {
        let echoctl = self.termios.l(lflag::ECHOCTL);
        let mut columns = 0usize;
        let mut after_tab = false;
        for &byte in self.edit.iter().rev() {
            if byte == b'\t' {
                after_tab = true;
                break;
            } else if is_control(byte) {
                if echoctl {
                    columns += 2;
                }
            } else {
                columns += 1;
            }
        }
        if !after_tab {
            columns += self.canon_column;
        }
        let back = (8 - (columns & 7)).min(self.column);
        self.column -= back;
        fx.echo.extend(core::iter::repeat_n(b'\x08', back));
    }

    /// Linux's `echo_char`: a control character other than tab and (in canonical mode)
    /// newline is shown as `^X` with `ECHOCTL`; anything else is output as written.
    fn echo_char(&mut self, c: u8, fx: &mut Effects) {
        if self.termios.l(lflag::ECHOCTL) && is_control(c) && c != b'\t' {
            fx.echo.push(b'^');
            fx.echo.push(c ^ 0o100);
            self.column += 2;
        } else {
            self.output_char(c, fx);
        }
    }

    /// Outputs an echo byte with output processing.
    fn output_char(&mut self, c: u8, fx: &mut Effects) {
        let mut out = Vec::new();
        self.post_process(c, &mut out);
        fx.echo.extend_from_slice(&out);
    }

    /// Outputs an echo byte as it is.
    fn output_raw(&mut self, c: u8, fx: &mut Effects) {
        fx.echo.push(c);
    }

    /// Linux's `do_output_char`: the bytes written for output byte `c` (with `OPOST`).
    fn post_process(&mut self, c: u8, out: &mut Vec<u8>) {
        let t = self.termios;
        if !t.o(oflag::OPOST) {
            out.push(c);
            return;
        }
        let mut c = c;
        match c {
            b'\n' => {
                if t.o(oflag::ONLRET) {
                    self.column = 0;
                }
                if t.o(oflag::ONLCR) {
                    self.column = 0;
                    self.canon_column = 0;
                    out.extend_from_slice(b"\r\n");
                    return;
                }
                self.canon_column = self.column;
            }
            b'\r' => {
                if t.o(oflag::ONOCR) && self.column == 0 {
                    return;
                }
                if t.o(oflag::OCRNL) {
                    c = b'\n';
                    if t.o(oflag::ONLRET) {
                        self.column = 0;
                        self.canon_column = 0;
                    }
                } else {
                    self.column = 0;
                    self.canon_column = 0;
                }
            }
            b'\t' => {
                let spaces = 8 - (self.column & 7);
                self.column += spaces;
                if t.oflag & oflag::TABDLY == oflag::XTABS {
                    out.extend(core::iter::repeat_n(b' ', spaces));
                    return;
                }
            }
            b'\x08' => self.column = self.column.saturating_sub(1),
            _ => {
                if !is_control(c) {
                    if t.o(oflag::OLCUC) {
                        c = c.to_ascii_uppercase();
                    }
                    if !(t.i(iflag::IUTF8) && c & 0xc0 == 0x80) {
                        self.column += 1;
                    }
                }
            }
        }
        out.push(c);
    }

    /// Output-processes what a program writes (to the slave), as Linux's `process_output`:
    /// takes bytes of `buf` while their output fits in `room`; returns how many it took and
    /// appends their output to `out`.
    pub fn output(&mut self, buf: &[u8], room: usize, out: &mut Vec<u8>) -> usize {
        let mut taken = 0;
        for &c in buf {
            // The widest expansion (a tab to 8 spaces) must fit, as Linux asks room for it.
            let need = match c {
                b'\n' => 2,
                b'\t' => 8,
                _ => 1,
            };
            if out.len() + need > room {
                break;
            }
            self.post_process(c, out);
            taken += 1;
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn type_in(ld: &mut LineDiscipline, text: &[u8]) -> Effects {
        let mut fx = Effects::default();
        for &c in text {
            assert!(ld.has_room());
            ld.receive(c, &mut fx);
        }
        fx
    }

    fn read_all(ld: &mut LineDiscipline, len: usize) -> Option<Vec<u8>> {
        let mut buf = alloc::vec![0u8; len];
        let count = ld.take(&mut buf)?;
        buf.truncate(count);
        Some(buf)
    }

    fn raw() -> Termios {
        let mut t = Termios::default();
        t.lflag &= !(lflag::ICANON | lflag::ECHO | lflag::ISIG | lflag::IEXTEN);
        t.iflag &= !(iflag::ICRNL | iflag::IXON);
        t.oflag &= !oflag::OPOST;
        t
    }

    #[test]
    fn canonical_input_is_read_a_line_at_a_time_with_echo() {
        let mut ld = LineDiscipline::default();
        let fx = type_in(&mut ld, b"ls -l");
        assert_eq!(fx.echo, b"ls -l");
        assert!(!ld.readable(1), "no line yet");
        assert_eq!(ld.take(&mut [0; 8]), None);
        let fx = type_in(&mut ld, b"\rpwd\n");
        assert_eq!(fx.echo, b"\r\npwd\r\n", "CR became NL; ONLCR echoes CR NL");
        assert_eq!(ld.queued(), 10);
        assert_eq!(read_all(&mut ld, 100).unwrap(), b"ls -l\n");
        assert_eq!(read_all(&mut ld, 2).unwrap(), b"pw");
        assert_eq!(read_all(&mut ld, 100).unwrap(), b"d\n");
        assert_eq!(ld.take(&mut [0; 8]), None);
    }

    #[test]
    fn erase_kill_and_word_erase_edit_the_line() {
        let mut ld = LineDiscipline::default();
        let fx = type_in(&mut ld, b"abc\x7f");
        assert_eq!(fx.echo, b"abc\x08 \x08");
        let mut ld = LineDiscipline::default();
        type_in(&mut ld, b"one two\x17three\n");
        assert_eq!(read_all(&mut ld, 100).unwrap(), b"one three\n");
        let fx = type_in(&mut ld, b"junk\x15ok\n");
        assert_eq!(
            fx.echo, b"junk\x08 \x08\x08 \x08\x08 \x08\x08 \x08ok\r\n",
            "ECHOKE erases the line character by character"
        );
        assert_eq!(read_all(&mut ld, 100).unwrap(), b"ok\n");
        // Without ECHOE: the erase character itself is echoed (as ^? with ECHOCTL).
        let mut t = Termios::default();
        t.lflag &= !(lflag::ECHOE);
        let mut ld = LineDiscipline::new(t);
        let fx = type_in(&mut ld, b"ab\x7f\x15\n");
        assert_eq!(
            fx.echo, b"ab^?^U\r\n\r\n",
            "kill without ECHOE: ^U, NL (ECHOK), then the NL typed"
        );
        assert_eq!(read_all(&mut ld, 100).unwrap(), b"\n");
        // A control character echoed as ^X takes two rub-outs.
        let mut ld = LineDiscipline::default();
        let fx = type_in(&mut ld, b"\x01\x7f");
        assert_eq!(fx.echo, b"^A\x08 \x08\x08 \x08");
        // An erase with nothing to erase does nothing.
        let fx = type_in(&mut ld, b"\x7f");
        assert_eq!(fx.echo, b"");
    }

    #[test]
    fn eof_ends_a_line_unread_and_alone_reads_as_end_of_file() {
        let mut ld = LineDiscipline::default();
        let fx = type_in(&mut ld, b"abc\x04\x04");
        assert_eq!(fx.echo, b"abc", "VEOF is not echoed");
        assert_eq!(read_all(&mut ld, 100).unwrap(), b"abc");
        assert_eq!(read_all(&mut ld, 100).unwrap(), b"", "end of file");
        assert_eq!(ld.take(&mut [0; 8]), None);
        // A read exactly the line's size leaves the VEOF for a read of 0, as Linux.
        type_in(&mut ld, b"ab\x04");
        assert_eq!(read_all(&mut ld, 2).unwrap(), b"ab");
        assert_eq!(read_all(&mut ld, 2).unwrap(), b"");
        assert_eq!(ld.take(&mut [0; 8]), None);
    }

    #[test]
    fn signal_characters_flush_and_echo() {
        let mut ld = LineDiscipline::default();
        type_in(&mut ld, b"done\npartial");
        let fx = type_in(&mut ld, b"\x03");
        assert_eq!(fx.signals, [SIGINT]);
        assert!(fx.flushed);
        assert_eq!(fx.echo, b"^C");
        assert_eq!(ld.queued(), 0, "input flushed");
        assert_eq!(type_in(&mut ld, b"\x1c").signals, [SIGQUIT]);
        assert_eq!(type_in(&mut ld, b"\x1a").signals, [SIGTSTP]);
        let mut t = Termios::default();
        t.lflag |= lflag::NOFLSH;
        t.lflag &= !lflag::ISIG;
        let mut ld = LineDiscipline::new(t);
        let fx = type_in(&mut ld, b"\x03\n");
        assert!(fx.signals.is_empty(), "without ISIG ^C is a character");
        assert_eq!(read_all(&mut ld, 8).unwrap(), b"\x03\n");
        t.lflag |= lflag::ISIG;
        let mut ld = LineDiscipline::new(t);
        type_in(&mut ld, b"kept\n");
        let fx = type_in(&mut ld, b"\x03");
        assert!(!fx.flushed, "NOFLSH");
        assert_eq!(read_all(&mut ld, 8).unwrap(), b"kept\n");
    }

    #[test]
    fn raw_mode_reads_bytes_as_they_come_and_vmin_counts() {
        let mut ld = LineDiscipline::new(raw());
        let fx = type_in(&mut ld, b"a\rb\x03");
        assert!(fx.echo.is_empty() && fx.signals.is_empty());
        assert!(ld.readable(4) && !ld.readable(5));
        assert_eq!(read_all(&mut ld, 2).unwrap(), b"a\r");
        assert_eq!(read_all(&mut ld, 9).unwrap(), b"b\x03");
        // Raw with echo: a newline echoes as ^J with ECHOCTL, as Linux's n_tty.
        let mut t = raw();
        t.lflag |= lflag::ECHO | lflag::ECHOCTL;
        let mut ld = LineDiscipline::new(t);
        assert_eq!(type_in(&mut ld, b"x\n").echo, b"x^J");
    }

    #[test]
    fn input_translations_and_echonl() {
        let mut t = Termios {
            iflag: iflag::INLCR,
            lflag: lflag::ICANON | lflag::ECHONL,
            ..Default::default()
        };
        let mut ld = LineDiscipline::new(t);
        let fx = type_in(&mut ld, b"a\nb\r");
        assert_eq!(fx.echo, b"", "INLCR: NL became CR, no line");
        t.iflag = iflag::IGNCR;
        let mut ld = LineDiscipline::new(t);
        let fx = type_in(&mut ld, b"a\rb\n");
        assert_eq!(fx.echo, b"\r\n", "ECHONL echoes only the newline");
        assert_eq!(read_all(&mut ld, 9).unwrap(), b"ab\n");
    }

    #[test]
    fn switching_modes_keeps_input_as_linux_does() {
        let mut ld = LineDiscipline::default();
        type_in(&mut ld, b"line\npart");
        ld.set_termios(raw());
        assert_eq!(read_all(&mut ld, 100).unwrap(), b"line\npart");
        type_in(&mut ld, b"xy");
        ld.set_termios(Termios::default());
        assert_eq!(read_all(&mut ld, 100).unwrap(), b"xy", "one line, pushed");
    }

    #[test]
    fn output_processing() {
        let mut ld = LineDiscipline::default();
        let mut out = Vec::new();
        assert_eq!(ld.output(b"a\nb", 100, &mut out), 3);
        assert_eq!(out, b"a\r\nb");
        out.clear();
        assert_eq!(
            ld.output(b"\n\n", 3, &mut out),
            1,
            "the second CR NL does not fit"
        );
        let mut t = Termios {
            oflag: oflag::OPOST | oflag::OCRNL | oflag::OLCUC | oflag::XTABS,
            ..Default::default()
        };
        let mut ld = LineDiscipline::new(t);
        out.clear();
        ld.output(b"ab\tc\r", 100, &mut out);
        assert_eq!(out, b"AB      C\n");
        t.oflag = oflag::OPOST | oflag::ONOCR;
        let mut ld = LineDiscipline::new(t);
        out.clear();
        ld.output(b"\rx\r", 100, &mut out);
        assert_eq!(out, b"x\r", "no CR at column 0");
        let mut ld = LineDiscipline::new(raw());
        out.clear();
        ld.output(b"a\n", 100, &mut out);
        assert_eq!(out, b"a\n", "no OPOST");
    }

    #[test]
    fn a_full_canonical_line_keeps_room_for_its_end() {
        let mut ld = LineDiscipline::default();
        let mut fx = Effects::default();
        for _ in 0..5000 {
            assert!(ld.has_room());
            ld.receive(b'x', &mut fx);
        }
        ld.receive(b'\n', &mut fx);
        let mut buf = alloc::vec![0u8; 8192];
        assert_eq!(ld.take(&mut buf), Some(N_TTY_BUF_SIZE));
        assert_eq!(buf[N_TTY_BUF_SIZE - 1], b'\n');
        // Raw input stops at the buffer's size.
        let mut ld = LineDiscipline::new(raw());
        let mut count = 0;
        while ld.has_room() {
            ld.receive(b'y', &mut fx);
            count += 1;
        }
        assert_eq!(count, N_TTY_BUF_SIZE - 1);
    }

    #[test]
    fn literal_next_and_flow_characters() {
        let mut ld = LineDiscipline::default();
        let fx = type_in(&mut ld, b"\x16\x03\n");
        assert!(fx.signals.is_empty());
        assert_eq!(fx.echo, b"^\x08^C\r\n");
        assert_eq!(read_all(&mut ld, 9).unwrap(), b"\x03\n");
        assert_eq!(type_in(&mut ld, b"\x13").flow, Some(true));
        assert_eq!(type_in(&mut ld, b"\x11").flow, Some(false));
        assert_eq!(ld.queued(), 0, "VSTOP and VSTART are not input");
    }
}
