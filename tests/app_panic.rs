//! A panic gives the terminal back before anything is printed, and prints where it happened but
//! never what the panic said (it may hold a member's details).

use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_panic_restores_the_terminal_and_keeps_member_data_out() {
    let terminal = Shared::default();
    let messages = Shared::default();
    let (t, m) = (terminal.clone(), messages.clone());
    rollcall::app::terminal::install_panic_hook(
        Box::new(move || (Box::new(t.clone()), Box::new(m.clone()))),
        false,
    );
    let result = std::panic::catch_unwind(|| {
        let member = "Siân Prydderch <sian.p@example.org>, 12 Heol y Castell";
        panic!("could not parse the row for {member}");
    });
    let _ = std::panic::take_hook();
    assert!(result.is_err());

    let terminal = String::from_utf8(terminal.0.lock().unwrap().clone()).unwrap();
    for (what, seq) in [
        ("leaves the alternate screen", "\x1b[?1049l"),
        ("shows the cursor", "\x1b[?25h"),
        ("turns mouse capture off", "\x1b[?1000l"),
    ] {
        assert!(terminal.contains(seq), "{what}: {terminal:?}");
    }
    let messages = String::from_utf8(messages.0.lock().unwrap().clone()).unwrap();
    assert!(
        messages.contains("tests/app_panic.rs:"),
        "names the place: {messages}"
    );
    assert!(
        messages.contains("terminal has been restored"),
        "{messages}"
    );
    for secret in ["Siân", "sian.p@example.org", "Heol", "could not parse"] {
        assert!(!messages.contains(secret), "leaked {secret}: {messages}");
    }
}
