//! The command line's panic hook: it says where rollcall stopped, never what the panic said.
//! A panic's message can hold a member's data (an unwrapped value, a formatted row), and a
//! command's stderr ends up in terminals, cron mails and CI logs. The app replaces this hook with
//! its own, which also gives the terminal back.

use std::io::Write;
use std::panic::Location;

/// Where to write the report (stderr; tests capture it).
pub type Sink = Box<dyn Fn() -> Box<dyn Write> + Send + Sync>;

/// Installs the hook, writing to stderr.
pub fn install() {
    install_with(Box::new(|| Box::new(std::io::stderr())));
}

pub fn install_with(sink: Sink) {
    std::panic::set_hook(Box::new(move |info| {
        let mut out = sink();
        let _ = writeln!(out, "{}", report(info.location()));
        let _ = out.flush();
    }));
}

/// The message: the place in rollcall's code, and that the database is whole.
pub fn report(location: Option<&Location<'_>>) -> String {
    let place = location.map_or_else(
        || "an unknown place".to_owned(),
        |l| format!("{}:{}:{}", l.file(), l.line(), l.column()),
    );
    format!(
        "rollcall: internal error at {place}; the command stopped. Changes are written in whole \
         transactions, so the database holds every change that completed and none half-made. \
         Please report the place above (it holds no member data)."
    )
}
