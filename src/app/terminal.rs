//! Taking the terminal and always giving it back: on quit, on error, on panic, on SIGTERM, and
//! around a Ctrl-Z suspend.

use std::io::{self, Write};
use std::panic::PanicHookInfo;
use std::sync::Mutex;

use ratatui::crossterm::cursor::{Hide, Show};
use ratatui::crossterm::event::{DisableBracketedPaste, DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::crossterm::{execute, queue};

/// Puts the terminal in the state the app draws in: raw mode, alternate screen, cursor hidden,
/// mouse capture only when asked for (it breaks selecting text with the mouse).
pub fn enter(out: &mut impl Write, mouse: bool) -> io::Result<()> {
    enable_raw_mode()?;
    execute!(out, EnterAlternateScreen, Hide)?;
    if mouse {
        execute!(out, EnableMouseCapture)?;
    }
    Ok(())
}

/// Writes what undoes [`enter`] (whatever it turned on): mouse capture off, bracketed paste off,
/// the main screen back, the cursor shown.
pub fn write_restore_sequence(out: &mut impl Write) -> io::Result<()> {
    queue!(
        out,
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        Show
    )?;
    out.flush()
}

/// Gives the terminal back: cooked mode and the restore sequence on `out`. Safe to call twice,
/// and when the terminal was never taken.
pub fn restore(out: &mut impl Write) -> io::Result<()> {
    let raw = disable_raw_mode();
    write_restore_sequence(out)?;
    raw
}

/// Where the panic hook writes: the terminal's restore sequence, then the message.
pub type PanicSink = Box<dyn FnMut() -> (Box<dyn Write>, Box<dyn Write>) + Send>;

/// The message after a crash. Only where it happened: the panic's own message can hold a
/// member's data (an unwrapped value, a formatted row), and this goes to a screen and to logs.
pub fn panic_report(location: Option<&std::panic::Location<'_>>) -> String {
    let place = location.map_or_else(
        || "an unknown place".to_owned(),
        |l| format!("{}:{}:{}", l.file(), l.line(), l.column()),
    );
    format!(
        "rollcall stopped on an internal error at {place}.\n\
         The terminal has been restored. Changes are written in whole transactions, so the \
         database holds every change that was confirmed and none half-made.\n\
         Please report the place above (it holds no member data)."
    )
}

/// Installs a panic hook that restores the terminal first, then prints [`panic_report`], then,
/// when `exit` is set, ends the process (a panic off the UI thread must not leave the app
/// running on a terminal it no longer owns).
pub fn install_panic_hook(sink: PanicSink, exit: bool) {
    let sink = Mutex::new(sink);
    std::panic::set_hook(Box::new(move |info: &PanicHookInfo| {
        let mut sink = sink.lock().unwrap_or_else(|p| p.into_inner());
        let (mut terminal, mut messages) = (*sink)();
        let _ = restore(&mut terminal);
        let _ = writeln!(messages, "{}", panic_report(info.location()));
        let _ = messages.flush();
        if exit {
            std::process::exit(101);
        }
    }));
}

/// The hook the app runs with: restore on stdout, message on stderr, then exit.
pub fn install_default_panic_hook() {
    install_panic_hook(
        Box::new(|| (Box::new(io::stdout()), Box::new(io::stderr()))),
        true,
    );
}

/// Ctrl-Z: give the terminal back, stop the process as the shell's job control expects, and
/// take the terminal again when `fg` continues it.
#[cfg(unix)]
pub fn suspend(out: &mut impl Write, mouse: bool) -> io::Result<()> {
    restore(out)?;
    // The default action of SIGTSTP stops us here; execution continues after SIGCONT.
    signal_hook::low_level::raise(signal_hook::consts::SIGTSTP)?;
    enter(out, mouse)?;
    execute!(out, Clear(ClearType::All))
}

#[cfg(not(unix))]
pub fn suspend(_out: &mut impl Write, _mouse: bool) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_restore_sequence_undoes_everything_enter_turns_on() {
        let mut out = Vec::new();
        write_restore_sequence(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        for (what, seq) in [
            ("main screen", "\x1b[?1049l"),
            ("cursor shown", "\x1b[?25h"),
            ("mouse off", "\x1b[?1000l"),
            ("paste off", "\x1b[?2004l"),
        ] {
            assert!(text.contains(seq), "{what}: {text:?}");
        }
    }

    #[test]
    fn the_report_names_the_place_only() {
        let report = panic_report(Some(std::panic::Location::caller()));
        assert!(report.contains("src/app/terminal.rs:"), "{report}");
        assert!(report.contains("terminal has been restored"));
    }
}
