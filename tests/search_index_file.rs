//! The search index kept on disk (docs/search-index.md): written by import, used only when it
//! is the index of the store as it is now, rebuilt whenever it is missing, damaged, cut short,
//! readable by others, of another database or of an older state, and cleared of an erased
//! person by `forget` itself.

#[path = "support/pg_cluster.rs"]
mod pg_cluster;

#[path = "support/engines.rs"]
#[allow(unused_imports)] // its both-engines macro: these tests are about the file, SQLite's alone
mod engines;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use chrono::NaiveDate;
use engines::TestDb;
use rollcall::search::disk::{self, Refused};
use rollcall::storage::search_source::signature;
use serde_json::Value;

const TODAY: &str = "2026-11-23";

fn rollcall(db: &TestDb, today: &str) -> Command {
    let mut cmd = Command::cargo_bin("rollcall").unwrap();
    for var in [
        "ROLLCALL_DB",
        "ROLLCALL_TODAY",
        "ROLLCALL_USER",
        "ROLLCALL_READ_ONLY",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("XDG_DATA_HOME", db.scratch().join("xdg-data"))
        .env("XDG_CONFIG_HOME", db.scratch().join("xdg-config"))
        .env("XDG_CACHE_HOME", db.scratch().join("xdg-cache"))
        .env_remove("PGPASSWORD")
        .args(["--db", &db.url(), "--today", today, "--user", "alice"]);
    cmd
}

fn run(mut cmd: Command) -> Vec<u8> {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    out.stdout
}

/// Generates an export of `members` people (`seed` picks who) and imports it.
fn import_generated(db: &TestDb, members: u32, seed: u32) {
    import_later(db, members, seed, 0);
}

/// As [`import_generated`], the same CRM `days` later (renewals, joiners, leavers).
fn import_later(db: &TestDb, members: u32, seed: u32, days: u32) {
    let file = db.scratch().join(format!("export-{seed}-{days}.csv"));
    let mut generate = rollcall(db, TODAY);
    generate.args(["generate", "--members", &members.to_string()]);
    generate.args(["--advance", &days.to_string()]);
    generate
        .args(["--seed", &seed.to_string(), "-o"])
        .arg(&file);
    run(generate);
    let on = (today() + chrono::Days::new(u64::from(days))).to_string();
    let mut import = rollcall(db, &on);
    import.arg("import").arg(&file);
    run(import);
}

/// Every member search finds for `query`, as JSON.
fn search(db: &TestDb, today: &str, query: &str, extra: &[&str]) -> Value {
    let mut cmd = rollcall(db, today);
    cmd.args(extra)
        .args(["search", "--json", "--limit", "100000", "--", query]);
    serde_json::from_slice(&run(cmd)).unwrap()
}

/// Where the index of `db` is: beside an SQLite file, or the one file in the test's cache
/// directory for a team database (named after the database's address).
fn index_path(db: &TestDb) -> PathBuf {
    match db {
        TestDb::Sqlite { path, .. } => PathBuf::from(format!("{}.search", path.display())),
        TestDb::Postgres { .. } => panic!("a team database keeps no index file"),
    }
}

/// Whether the file at `path` is the current index of `db`, as the app would take it.
fn check(db: &TestDb, path: &Path) -> Result<(), Refused> {
    let store = db.open();
    let now = signature(&store.conn).unwrap();
    disk::read(path, &now, today()).map(|_| ())
}

fn today() -> NaiveDate {
    NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").unwrap()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A member whose name and email, as written and folded, are in nobody else's name or email:
/// so finding them in the file can only mean this member's record. `a` finds every record with
/// an `a` anywhere, so `everyone` holds every record that could hold such a name.
fn someone_unmistakable(everyone: &Value) -> Value {
    let people = everyone.as_array().unwrap();
    let fields = |p: &Value| {
        let (name, email) = (p["name"].as_str().unwrap(), p["email"].as_str().unwrap());
        [
            name.to_lowercase(),
            email.to_lowercase(),
            folded(name),
            folded(email),
        ]
    };
    people
        .iter()
        .find(|p| {
            let own = fields(p);
            own[0].contains('a')
                && !own[1].is_empty()
                && people.iter().filter(|o| *o != *p).all(|other| {
                    let theirs = fields(other);
                    own.iter()
                        .all(|mine| theirs.iter().all(|t| !t.contains(mine.as_str())))
                })
        })
        .expect("a member with a name nobody else's holds")
        .clone()
}

/// Lowercase letters and digits only: how the index folds what it searches.
fn folded(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[test]
fn import_leaves_an_owner_only_index_that_answers_as_the_database_does() {
    let db = &TestDb::sqlite();
    import_generated(db, 600, 7);
    let path = index_path(db);
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
    assert_eq!(check(db, &path), Ok(()));
    let from_file = search(db, TODAY, "jones", &[]);
    assert!(!from_file.as_array().unwrap().is_empty());
    std::fs::remove_file(&path).unwrap();
    let rebuilt = search(db, TODAY, "jones", &[]);
    assert_eq!(from_file, rebuilt);
    // The search that rebuilt it saved it again.
    assert_eq!(check(db, &path), Ok(()));
}

#[test]
fn forget_leaves_nothing_of_the_person_in_the_index_file_and_keeps_it_current() {
    let db = &TestDb::sqlite();
    import_generated(db, 600, 7);
    let everyone = search(db, TODAY, "a", &[]);
    let person = someone_unmistakable(&everyone);
    let path = index_path(db);
    let before = std::fs::read(&path).unwrap();
    let email = person["email"].as_str().unwrap();
    let name = person["name"].as_str().unwrap();
    assert!(contains(&before, email) && contains(&before, &folded(email)));
    let mut forget = rollcall(db, TODAY);
    forget.args(["forget", "--yes", person["contact_id"].as_str().unwrap()]);
    run(forget);

    let after = std::fs::read(&path).unwrap();
    for needle in [
        email.to_owned(),
        folded(email),
        name.to_owned(),
        folded(name),
    ] {
        assert!(
            !contains(&after, &needle),
            "the index still holds {needle:?}"
        );
    }
    // Patched in place, not left to be rebuilt: it is the index of the store as it is now,
    // and answers as one built afresh does.
    assert_eq!(check(db, &path), Ok(()));
    let patched = search(db, TODAY, "a", &["--read-only"]);
    std::fs::remove_file(&path).unwrap();
    let rebuilt = search(db, TODAY, "a", &["--read-only"]);
    assert_eq!(patched, rebuilt);
    assert_eq!(
        patched.as_array().unwrap().len() + 1,
        everyone.as_array().unwrap().len()
    );
}

#[test]
fn a_damaged_cut_short_exposed_stale_or_missing_index_is_rebuilt_never_believed() {
    let db = &TestDb::sqlite();
    import_generated(db, 600, 7);
    let path = index_path(db);
    let good = std::fs::read(&path).unwrap();
    let truth = search(db, TODAY, "a", &[]);

    let half = &good[..good.len() / 2];
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    for b in &mut flipped[middle..middle + 8] {
        *b ^= 0x5a;
    }
    let mut bad_header = good.clone();
    bad_header[0] ^= 0xff;
    let damages: [(&str, Option<&[u8]>); 4] = [
        ("cut short", Some(half)),
        ("bytes flipped", Some(&flipped)),
        ("not an index", Some(&bad_header)),
        ("deleted", None),
    ];
    for (damage, bytes) in damages {
        match bytes {
            Some(bytes) => {
                std::fs::write(&path, bytes).unwrap();
                assert!(check(db, &path).is_err(), "{damage}: taken as current");
            }
            None => std::fs::remove_file(&path).unwrap(),
        }
        assert_eq!(search(db, TODAY, "a", &[]), truth, "{damage}");
        assert_eq!(check(db, &path), Ok(()), "{damage}: not rebuilt");
    }

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(check(db, &path), Err(Refused::NotOwnerOnly));
        assert_eq!(search(db, TODAY, "a", &[]), truth);
        assert_eq!(mode(&path), 0o600);
    }

    // An index of this database before its latest import.
    let older = std::fs::read(&path).unwrap();
    import_later(db, 600, 7, 30);
    let newer = search(db, TODAY, "a", &[]);
    std::fs::write(&path, &older).unwrap();
    assert_eq!(check(db, &path), Err(Refused::Stale));
    assert_eq!(search(db, TODAY, "a", &[]), newer);
    assert_eq!(check(db, &path), Ok(()));
}

#[test]
fn an_index_from_another_database_is_never_used() {
    let ours = TestDb::sqlite();
    let theirs = TestDb::sqlite();
    import_generated(&ours, 400, 7);
    import_generated(&theirs, 400, 9);
    let truth = search(&ours, TODAY, "a", &[]);
    assert_ne!(truth, search(&theirs, TODAY, "a", &[]));
    std::fs::copy(index_path(&theirs), index_path(&ours)).unwrap();
    assert_eq!(check(&ours, &index_path(&ours)), Err(Refused::Stale));
    assert_eq!(search(&ours, TODAY, "a", &[]), truth);
    assert_eq!(check(&ours, &index_path(&ours)), Ok(()));
}

#[test]
fn an_index_written_on_another_day_shows_each_contacts_membership_as_of_today() {
    let db = TestDb::sqlite();
    import_generated(&db, 2000, 7);
    let later = "2028-03-01";
    let path = index_path(&db);
    // Written as of TODAY; read a year and more on, when some second memberships have lapsed.
    let from_old_file = search(&db, later, "a", &["--read-only"]);
    std::fs::remove_file(&path).unwrap();
    let built_later = search(&db, later, "a", &["--read-only"]);
    assert_eq!(from_old_file, built_later);
    let built_today = search(&db, TODAY, "a", &["--read-only"]);
    let shown = |v: &Value| -> Vec<Value> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|h| h["membership_id"].clone())
            .collect()
    };
    // Otherwise this test could not tell a wrong order from a right one.
    let mut a = shown(&built_today);
    let mut b = shown(&built_later);
    a.sort_by_key(Value::to_string);
    b.sort_by_key(Value::to_string);
    assert_ne!(a, b, "no contact shows another membership on the later day");
}

#[test]
fn read_only_searches_never_write_an_index() {
    let db = TestDb::sqlite();
    import_generated(&db, 200, 7);
    let path = index_path(&db);
    std::fs::remove_file(&path).unwrap();
    search(&db, TODAY, "a", &["--read-only"]);
    assert!(!path.exists());
    search(&db, TODAY, "a", &[]);
    assert!(path.exists());
}

/// A team database keeps no index file anywhere (docs/search-index.md): search still answers,
/// built from the server, and neither import, search nor forget leaves a file in the cache,
/// data or config directories.
#[test]
fn a_team_database_leaves_no_index_file_anywhere() {
    let db = &TestDb::postgres();
    import_generated(db, 600, 7);
    let everyone = search(db, TODAY, "a", &[]);
    assert!(!everyone.as_array().unwrap().is_empty());
    let person = someone_unmistakable(&everyone);
    let mut forget = rollcall(db, TODAY);
    forget.args(["forget", "--yes", person["contact_id"].as_str().unwrap()]);
    run(forget);
    let after = search(db, TODAY, "a", &[]);
    assert_eq!(
        after.as_array().unwrap().len() + 1,
        everyone.as_array().unwrap().len()
    );
    let written: Vec<PathBuf> = walk(&db.scratch())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("search"))
        .collect();
    assert!(written.is_empty(), "{written:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| {
            let path = e.path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}
