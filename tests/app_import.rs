//! `:import PATH` inside the app: the gauge, cancelling with Esc, the summary, and the messages
//! for what cannot be imported.

mod app_common;

use std::sync::{Arc, Mutex};

use app_common::*;
use ratatui::crossterm::event::KeyCode;
use rollcall::storage::Store;

fn with_importer(importer: rollcall::app::import_job::ImportRunner) -> Harness {
    Harness::with(
        Store::open_in_memory().unwrap(),
        Options {
            importer,
            ..Options::default()
        },
    )
}

fn export_file(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("nov.csv");
    std::fs::write(&path, "Contact ID,Display Name\n").unwrap();
    path.display().to_string()
}

fn command(h: &mut Harness, line: &str) {
    h.code(KeyCode::Char(':'));
    h.type_text(line);
    h.code(KeyCode::Enter);
}

#[test]
fn progress_then_summary_then_close() {
    let dir = tempfile::tempdir().unwrap();
    let release = Arc::new(Mutex::new(false));
    let mut h = with_importer(slow_importer(Arc::clone(&release)));
    command(&mut h, &format!("import {}", export_file(&dir)));
    h.pump_until(|h| h.screen().contains("4,200 rows read"));
    let screen = h.screen();
    insta::assert_snapshot!("import_gauge", screen);
    assert!(screen.contains("25%"), "{screen}");
    assert!(screen.contains("Esc cancels"), "{screen}");
    // Keys other than Esc do not reach the panes underneath while it runs.
    h.code(KeyCode::Char('2'));
    assert_eq!(h.app.active_pane(), rollcall::app::pane::PaneId::Today);
    *release.lock().unwrap() = true;
    h.pump_until(|h| h.screen().contains("Imported nov.csv"));
    let screen = h.screen();
    insta::assert_snapshot!("import_summary", screen);
    assert!(
        screen.contains("contacts: 12 new, 40 updated, 12,000 unchanged"),
        "{screen}"
    );
    assert!(screen.contains("line 77: `Membership Expiration Date` is not a date"));
    h.code(KeyCode::Enter);
    assert!(!h.screen().contains("Imported nov.csv"));
}

#[test]
fn the_summary_names_the_columns_not_read_and_the_title_lines_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let importer: rollcall::app::import_job::ImportRunner =
        Arc::new(|_path, _options, _progress, _cancel| {
            let mut report = report();
            report.title_lines_skipped = 2;
            report.columns_not_imported = vec!["Test".into(), "Campaign ID".into()];
            report.columns_not_imported_count = 2;
            Ok(report)
        });
    let mut h = with_importer(importer);
    command(&mut h, &format!("import {}", export_file(&dir)));
    h.pump_until(|h| h.screen().contains("Imported nov.csv"));
    let screen = h.screen();
    insta::assert_snapshot!("import_summary_not_read_and_title", screen);
    // The CLI report's words.
    assert!(
        screen.contains("title: 2 line(s) above the header skipped"),
        "{screen}"
    );
    assert!(
        screen.contains("not read: 2 column(s) not imported: \"Test\", \"Campaign ID\""),
        "{screen}"
    );
}

#[test]
fn esc_cancels_a_running_import() {
    let dir = tempfile::tempdir().unwrap();
    let release = Arc::new(Mutex::new(false));
    let mut h = with_importer(slow_importer(release));
    command(&mut h, &format!("import {}", export_file(&dir)));
    h.pump_until(|h| h.screen().contains("rows read"));
    // Without waiting: the import may roll back at once.
    h.app.handle(rollcall::app::event::AppEvent::Terminal(
        ratatui::crossterm::event::Event::Key(key(KeyCode::Esc)),
    ));
    assert!(h.screen().contains("cancelling"));
    h.pump_until(|h| h.screen().contains("Import failed"));
    assert!(h.screen().contains("cancelled; nothing was changed"));
    h.code(KeyCode::Esc);
    assert!(!h.screen().contains("Import failed"));
}

#[test]
fn the_real_import_error_is_shown_not_a_crash() {
    // The app's own runner: the real import_file on its own connection.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    let ctx = rollcall::cli::Ctx {
        db: rollcall::storage::Location::File(db.clone()),
        clock: clock(),
        read_only: false,
        fix_permissions: false,
    };
    let store =
        rollcall::storage::Store::open(&db, rollcall::storage::OpenMode::ReadWrite).unwrap();
    let mut h = Harness::with(
        store,
        Options {
            importer: rollcall::app::import_job::store_runner(ctx),
            ..Options::default()
        },
    );
    let garbage = dir.path().join("garbage.csv");
    std::fs::write(
        &garbage,
        b"\xff\xfe\x00not,a\x00 CRM export\n\"unterminated",
    )
    .unwrap();
    command(&mut h, &format!("import {}", garbage.display()));
    h.pump_until(|h| !h.screen().contains("Importing"));
    let screen = h.screen();
    // Whatever the importer says of this file, the app shows it and keeps running.
    assert!(
        screen.contains("Import failed: garbage.csv") || screen.contains("Imported garbage.csv"),
        "{screen}"
    );
    h.code(KeyCode::Esc);
    h.code(KeyCode::Char('2'));
    assert_eq!(h.app.active_pane(), rollcall::app::pane::PaneId::Renewals);
}

#[test]
fn a_missing_file_and_read_only_are_messages() {
    let mut h = with_importer(failing_importer("must not run"));
    command(&mut h, "import /nowhere/at/all.csv");
    assert!(h.screen().contains("no file at /nowhere/at/all.csv"));
    command(&mut h, "import");
    assert!(h.screen().contains("needs the path of an export file"));

    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::with(
        Store::open_in_memory().unwrap(),
        Options {
            read_only: true,
            importer: failing_importer("must not run"),
            ..Options::default()
        },
    );
    command(&mut h, &format!("import {}", export_file(&dir)));
    assert!(h.screen().contains(":import was refused"));
}

#[test]
fn an_older_export_is_refused_in_the_app_with_the_whole_message() {
    use rollcall::import::generate::{ExportFormat, GenerateOptions, write_export};
    use rollcall::import::{ImportOptions, import_file};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    let write = |name: &str, advance_days: u32| {
        let path = dir.path().join(name);
        let mut file = std::fs::File::create(&path).unwrap();
        let options = GenerateOptions {
            members: 500,
            seed: 1,
            format: ExportFormat::Civicrm,
            today: clock().today,
            advance_days,
            plant: false,
        };
        write_export(&mut file, &options).unwrap();
        path
    };
    let (nov, dec) = (write("nov.csv", 0), write("dec.csv", 30));
    let mut store = Store::open(&db, rollcall::storage::OpenMode::ReadWrite).unwrap();
    let no_cancel = std::sync::atomic::AtomicBool::new(false);
    for (file, today) in [
        (&nov, clock().today),
        (&dec, clock().today + chrono::Days::new(30)),
    ] {
        let clock = rollcall::Clock::fixed(today, "ann");
        import_file(
            &mut store,
            &clock,
            file,
            &ImportOptions::default(),
            &mut |_| {},
            &no_cancel,
        )
        .unwrap();
    }
    let ctx = rollcall::cli::Ctx {
        db: rollcall::storage::Location::File(db.clone()),
        clock: clock(),
        read_only: false,
        fix_permissions: false,
    };
    let mut h = Harness::with(
        store,
        Options {
            importer: rollcall::app::import_job::store_runner(ctx),
            ..Options::default()
        },
    );
    command(&mut h, &format!("import {}", nov.display()));
    h.pump_until(|h| !h.screen().contains("Importing"));
    let screen = h.screen();
    assert!(screen.contains("Import failed: nov.csv"), "{screen}");
    assert!(screen.contains("looks older than what the"), "{screen}");
    assert!(
        screen.contains("--older-export"),
        "the way on is shown: {screen}"
    );

    h.code(KeyCode::Esc);
    command(&mut h, &format!("import --older-export {}", nov.display()));
    h.pump_until(|h| !h.screen().contains("Importing"));
    assert!(h.screen().contains("Imported nov.csv"), "{}", h.screen());
}
