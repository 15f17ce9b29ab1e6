//! The app's letters dialog, driven by keys: from the renewals queue, `w` shows the first letter
//! in each language, `Enter` writes the PDF (a page per member, none for Do Not Mail) to the
//! letters folder and records every letter; the same letters again the same day ask first.

mod app_common;
mod renewals_support;

use app_common::{Harness, Options};
use ratatui::crossterm::event::KeyCode;
use rollcall::config::Config;
use rollcall::storage::{OpenMode, Store};

struct Fixture {
    dir: tempfile::TempDir,
    h: Harness,
}

impl Fixture {
    /// Siân (Welsh), Łukasz and Dai (Do Not Mail), all due to renew; the app on them at 100×30.
    fn new() -> Fixture {
        use renewals_support::{insert, member};
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rollcall.db");
        let store = Store::open(&db, OpenMode::ReadWrite).unwrap();
        insert(&store.conn, &member("Siân Llŷr", "2026-12-14").welsh());
        insert(&store.conn, &member("Łukasz Ödön", "2026-12-01"));
        insert(&store.conn, &member("Dai Morgan", "2026-12-05").no_mail());
        let mut config = Config::default();
        config.letters.output_dir = Some(dir.path().join("letters"));
        let h = Harness::with(
            store,
            Options {
                config,
                ..Options::default()
            },
        );
        Fixture { dir, h }
    }

    fn out(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join("letters").join(name)
    }

    fn count(&self, sql: &str) -> i64 {
        let store = Store::open(&self.dir.path().join("rollcall.db"), OpenMode::ReadOnly).unwrap();
        renewals_support::count(&store.conn, sql)
    }
}

fn pages(path: &std::path::Path) -> Vec<String> {
    pdf_extract::extract_text_from_mem_by_pages(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn three_keys_from_the_renewals_queue_to_recorded_letters() {
    let mut f = Fixture::new();
    f.h.code(KeyCode::Char('2'));
    f.h.code(KeyCode::Char('w'));
    insta::assert_snapshot!("letters_preview_english", f.h.screen());
    f.h.code(KeyCode::Tab);
    insta::assert_snapshot!("letters_preview_welsh", f.h.screen());
    f.h.code(KeyCode::Enter);
    let screen = f.h.screen();
    let pdf = f.out("renewal-due-letters-2026-11-23.pdf");
    assert!(screen.contains("Wrote letters to"), "{screen}");
    assert!(pdf.exists(), "{screen}");
    let text = pages(&pdf);
    assert_eq!(text.len(), 2, "a page per member");
    assert!(
        !text.concat().contains("Dai Morgan"),
        "a Do Not Mail member got a letter"
    );
    assert!(text.concat().contains("Annwyl Siân"));
    assert_eq!(
        f.count(
            "SELECT count(*) FROM contact_attempts WHERE channel = 'letter'
             AND note = 'renewal-due letter' AND staff = 'ann'"
        ),
        2
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&pdf).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    }

    // The same letters again today: asked first; n writes nothing, y writes a second file.
    f.h.code(KeyCode::Enter);
    f.h.code(KeyCode::Char('w'));
    f.h.code(KeyCode::Enter);
    let screen = f.h.screen();
    assert!(
        screen.contains("2 of these members already had a renewal-due letter today"),
        "{screen}"
    );
    f.h.code(KeyCode::Char('n'));
    f.h.code(KeyCode::Esc);
    assert_eq!(f.count("SELECT count(*) FROM contact_attempts"), 2);
    f.h.code(KeyCode::Char('w'));
    f.h.code(KeyCode::Enter);
    f.h.code(KeyCode::Char('y'));
    assert!(f.out("renewal-due-letters-2026-11-23-2.pdf").exists());
    assert_eq!(f.count("SELECT count(*) FROM contact_attempts"), 4);
}

#[test]
fn the_channel_key_turns_the_batch_into_emails() {
    let mut f = Fixture::new();
    f.h.code(KeyCode::Char('2'));
    f.h.code(KeyCode::Char('w'));
    f.h.code(KeyCode::Char('c'));
    f.h.resize(80, 24);
    insta::assert_snapshot!("letters_email_80x24", f.h.screen());
    let screen = f.h.screen();
    assert!(
        screen.contains("3 emails"),
        "Do Not Mail is no bar to email: {screen}"
    );
    f.h.code(KeyCode::Enter);
    assert!(f.out("renewal-due-emails-2026-11-23.csv").exists());
}
