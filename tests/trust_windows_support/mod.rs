//! The real app in a pseudo-terminal: `rollcall` with no subcommand, spawned on a pty of a fixed
//! size, its output parsed by a terminal emulator (vt100) into a screen the tests read, and keys
//! written to it as a terminal would send them.
//!
//! Waits are deadline polls on the screen (generous, so a slow machine passes; a pass is usually
//! a few milliseconds). The process is killed when its [`Window`] is dropped, so a failing
//! assertion never leaves an app running.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

use crate::trust_support::TODAY;

/// The terminal every window gets: big enough for every pane's detail lines.
pub const ROWS: u16 = 30;
pub const COLS: u16 = 100;

/// How long a wait for the screen may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Words that must never reach a user's screen while several processes share the database.
pub const FORBIDDEN: [&str; 2] = ["locked", "busy"];

/// What the reader thread keeps: the emulated screen, and the first screen that showed a
/// forbidden word.
struct Seen {
    parser: vt100::Parser,
    forbidden: Option<String>,
}

/// One app window: a rollcall process on its own pseudo-terminal.
pub struct Window {
    name: String,
    child: Box<dyn Child + Send + Sync>,
    keys: Box<dyn Write + Send>,
    seen: Arc<Mutex<Seen>>,
    // Kept open for the life of the window: closing it hangs up the terminal.
    _master: Box<dyn MasterPty + Send>,
}

impl Window {
    /// Opens the app on `db` as staff member `user`, and waits for its first screen.
    pub fn open(name: &str, db: &Path, user: &str) -> Window {
        // The user's own config and keymap must not change what the test sees.
        let home = db.parent().unwrap_or(Path::new(".")).join("config-home");
        Window::open_on(name, db.as_os_str(), &home, user)
    }

    /// Opens the app on `db`, a file or a team database's URI, as staff member `user`, with
    /// `XDG_CONFIG_HOME` at `home`, and waits for its first screen.
    pub fn open_on(name: &str, db: &std::ffi::OsStr, home: &Path, user: &str) -> Window {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("opening a pseudo-terminal");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_rollcall"));
        for var in [
            "ROLLCALL_DB",
            "ROLLCALL_TODAY",
            "ROLLCALL_USER",
            "ROLLCALL_READ_ONLY",
            "NO_COLOR",
            "PGPASSWORD",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("XDG_CONFIG_HOME", home);
        cmd.env("TERM", "xterm-256color");
        cmd.arg("--db");
        cmd.arg(db);
        cmd.args(["--today", TODAY, "--user", user]);
        let child = pty
            .slave
            .spawn_command(cmd)
            .expect("starting rollcall on a pseudo-terminal");
        drop(pty.slave);
        let output = pty
            .master
            .try_clone_reader()
            .expect("the terminal's output");
        let keys = pty.master.take_writer().expect("the terminal's input");
        let seen = Arc::new(Mutex::new(Seen {
            parser: vt100::Parser::new(nonzero(ROWS), nonzero(COLS), 0),
            forbidden: None,
        }));
        read_screen(name, output, Arc::clone(&seen));
        let window = Window {
            name: name.to_owned(),
            child,
            keys,
            seen,
            _master: pty.master,
        };
        window.wait_for("the first screen", |s| s.contains("[0 Today]"));
        window
    }

    /// Types `keys` (each character is a key; `\x1b` is Esc, `\r` Enter).
    pub fn send(&mut self, keys: &str) {
        self.keys
            .write_all(keys.as_bytes())
            .and_then(|()| self.keys.flush())
            .unwrap_or_else(|e| panic!("{}: typing {keys:?}: {e}", self.name));
    }

    /// The screen as text, one line per row.
    pub fn screen(&self) -> String {
        lock(&self.seen).parser.screen().contents()
    }

    /// Polls the screen until `done` holds, and returns that screen; fails the test with the
    /// last screen after [`DEADLINE`].
    pub fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{}: waited {DEADLINE:?} for {what}; the screen:\n{screen}",
                    self.name
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the screen shows `text`.
    pub fn wait_for_text(&self, text: &str) -> String {
        self.wait_for(&format!("{text:?}"), |s| s.contains(text))
    }

    /// Waits until the screen no longer shows `text`.
    pub fn wait_until_gone(&self, text: &str) -> String {
        self.wait_for(&format!("{text:?} to go"), |s| !s.contains(text))
    }

    /// Fails the test if the screen has ever shown one of the [`FORBIDDEN`] words.
    pub fn assert_never_showed_forbidden(&self) {
        if let Some(screen) = &lock(&self.seen).forbidden {
            panic!(
                "{}: the screen showed one of {FORBIDDEN:?}:\n{screen}",
                self.name
            );
        }
    }

    /// Quits with `q` and waits for the process to end.
    pub fn quit(self) {
        self.quit_with("q");
    }

    /// Quits with `keys` (ctrl-c, `\x03`, quits from anywhere, a focused query line included)
    /// and waits for the process to end.
    pub fn quit_with(mut self, keys: &str) {
        self.send(keys);
        let deadline = Instant::now() + DEADLINE;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "{}: quit with {status:?}", self.name);
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{}: still running {DEADLINE:?} after q", self.name);
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn nonzero(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).expect("a terminal has rows and columns")
}

fn lock(seen: &Mutex<Seen>) -> std::sync::MutexGuard<'_, Seen> {
    seen.lock().unwrap_or_else(|p| p.into_inner())
}

/// Feeds the terminal's output into the emulated screen until the terminal closes, noting the
/// first screen that shows a forbidden word (checked after every chunk, so a message shown for
/// a moment is still caught).
fn read_screen(name: &str, mut output: Box<dyn Read + Send>, seen: Arc<Mutex<Seen>>) {
    std::thread::Builder::new()
        .name(format!("pty-{name}"))
        .spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = output.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut seen = lock(&seen);
                seen.parser.process(&buf[..n]);
                if seen.forbidden.is_none() {
                    let screen = seen.parser.screen().contents();
                    let lower = screen.to_lowercase();
                    if FORBIDDEN.iter().any(|w| lower.contains(w)) {
                        seen.forbidden = Some(screen);
                    }
                }
            }
        })
        .expect("spawning the screen reader");
}
