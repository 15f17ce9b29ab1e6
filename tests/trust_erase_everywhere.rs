//! `rollcall forget` reaches every place rollcall keeps anything about a person: after a real
//! erasure, with an app window open on the person during it that then quits, none of their
//! details is left in the database file, its WAL, or any other file under the data directory,
//! in any spelling staff may have typed them.

mod trust_support;
mod trust_windows_support;

use std::path::{Path, PathBuf};

use rollcall::storage::sql::Connection;
use trust_support::*;
use trust_windows_support::Window;

/// What staff typed to find the person: folded, as search lets them type it.
const TYPED_QUERY: &str = "sian prydderch";

/// Every file under `dir`, at any depth.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The erased person's details as they may sit in a file: as imported, as typed (folded), and
/// their CRM id where rollcall stores it (after the source in a row or index entry, inside the
/// membership's sync key).
fn needles() -> Vec<String> {
    let mut needles: Vec<String> = personal_strings(&TARGET)
        .into_iter()
        .map(str::to_owned)
        .collect();
    needles.push(TYPED_QUERY.to_owned());
    needles.push(format!("civicrm{}", TARGET.crm_id));
    needles.push(format!("id:9{}", TARGET.crm_id));
    needles.push(target_tag());
    needles.push(target_old_street());
    needles
}

/// Where the erased person lived before, as an import's change feed recorded it.
fn target_old_street() -> String {
    format!("{} Former Street", TARGET.crm_id)
}

/// A CRM tag of the erased person's (tags are imported CRM data, erased with them).
fn target_tag() -> String {
    format!("phone bank {}", TARGET.crm_id)
}

/// `(file, needle)` for each needle found in a file under `dir`.
fn findings(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    for file in files_under(dir) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        for needle in needles() {
            if contains_bytes(&bytes, &needle) {
                found.push((file.clone(), needle));
            }
        }
    }
    found
}

#[test]
fn nothing_of_an_erased_person_survives_on_disk_even_from_a_window_open_during_forget() {
    let s = seeded();
    // Another staff member's saved search, typed without accents or punctuation.
    Connection::open(&s.db)
        .unwrap()
        .execute(
            "INSERT INTO ui_state (staff, key, value) VALUES ('bryn', 'pane.search', ?1)",
            [serde_json::json!({ "query": TYPED_QUERY, "selected": 0 }).to_string()],
        )
        .unwrap();
    Connection::open(&s.db)
        .unwrap()
        .execute(
            "INSERT INTO contact_tags (contact_id, tag)
             SELECT id, ?1 FROM contacts WHERE crm_id = ?2",
            (target_tag(), TARGET.crm_id),
        )
        .unwrap();

    Connection::open(&s.db)
        .unwrap()
        .execute(
            "INSERT INTO field_changes (contact_id, import_id, field, old_value, new_value,
                                        occurred_on)
             SELECT id, (SELECT MAX(id) FROM import_runs), 'street_address', ?1,
                    street_address, '2026-11-23'
             FROM contacts WHERE crm_id = ?2",
            (target_old_street(), TARGET.crm_id),
        )
        .unwrap();

    // A window finds them by search and stays open on them.
    let mut window = Window::open("window", &s.db, STAFF);
    window.send("1");
    window.wait_for_text("2 members");
    window.send("/");
    window.send(TYPED_QUERY);
    window.wait_for_text(TARGET.display);

    // Before the erasure every needle is somewhere: the scan below can fail.
    let before: Vec<String> = findings(s.dir.path()).into_iter().map(|f| f.1).collect();
    for needle in needles().iter().filter(|n| *n != TYPED_QUERY) {
        assert!(before.contains(needle), "the scan misses `{needle}`");
    }

    let out = rollcall(&s.db)
        .args(["forget", TARGET.crm_id, "--yes"])
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("ui_state 2"), "{stdout}");
    assert!(stdout.contains("contact_tags 1"), "{stdout}");
    assert!(stdout.contains("field_changes 1"), "{stdout}");
    window.wait_until_gone(TARGET.display);
    window.quit_with("\x03");

    assert_eq!(findings(s.dir.path()), vec![]);
    // The window kept which pane was open, nothing it typed or selected.
    let amira: Vec<(String, String)> = Connection::open(&s.db)
        .unwrap()
        .prepare("SELECT key, value FROM ui_state WHERE staff = ?1")
        .unwrap()
        .query_map([STAFF], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(amira, vec![("active_pane".to_owned(), "search".to_owned())]);
    // The bystander is all still there.
    assert!(contains_bytes(&file_bytes(&s.db), BYSTANDER.email));
}

#[test]
fn a_window_opened_after_an_erasure_saves_its_state_as_usual() {
    let s = seeded();
    rollcall(&s.db)
        .args(["forget", TARGET.crm_id, "--yes"])
        .assert()
        .success();
    let mut window = Window::open("window", &s.db, STAFF);
    window.send("1");
    window.wait_for_text("1 member");
    window.send("/");
    window.send("kowalczyk");
    window.wait_for_text(BYSTANDER.display);
    window.quit_with("\x03");
    let query: String = Connection::open(&s.db)
        .unwrap()
        .query_row(
            "SELECT value FROM ui_state WHERE staff = ?1 AND key = 'pane.search'",
            [STAFF],
            |r| r.get(0),
        )
        .unwrap();
    assert!(query.contains("kowalczyk"), "{query}");
}
