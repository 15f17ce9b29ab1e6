//! Files and streams rollcall writes: an output never replaces the database or one of its files
//! (compared by identity, not by name), outputs are regular files put in place whole, a closed
//! pipe or a full disk ends a command with a message and never a panic, errors name the file and
//! the cause once, and CRM values never reach a terminal with their control characters.

mod trust_support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use trust_support::*;

fn companion(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Every command that writes a file, writing it to `dest`.
fn writing_commands(dest: &Path) -> Vec<Vec<String>> {
    let dest = dest.to_str().unwrap().to_owned();
    let with = |args: &[&str]| {
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        v.push("-o".into());
        v.push(dest.clone());
        v
    };
    vec![
        with(&["renewals", "--csv"]),
        with(&["renewals"]),
        with(&["export", "members"]),
        with(&["export", "members", "--json"]),
        with(&["export", "activities"]),
        with(&["generate", "--members", "5"]),
        with(&["subject-access", TARGET.crm_id]),
        with(&["letters", "renewal-due"]),
    ]
}

/// Runs each writing command with `-o dest` and checks the refusal: non-zero, no panic, a message
/// naming `dest` and saying it is the database's, and the database unchanged.
fn assert_each_refused(db: &Path, dest: &Path) {
    let before = std::fs::read(db).ok();
    let dump_before = before.as_ref().map(|_| dump(db));
    for args in writing_commands(dest) {
        let out = rollcall(db).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was not refused: {stderr}");
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(!stderr.contains("internal error"), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&dest.display().to_string()),
            "{args:?} names the path: {stderr}"
        );
        assert!(stderr.contains("database"), "{args:?} says why: {stderr}");
        assert_eq!(
            std::fs::read(db).ok(),
            before,
            "{args:?} changed the database file"
        );
        if let Some(dump_before) = &dump_before {
            assert_eq!(&dump(db), dump_before, "{args:?} changed the data");
        }
    }
}

// ------------------------------------------------------------------ never the database

#[test]
fn an_output_that_is_the_database_is_refused_by_every_command() {
    let s = seeded();
    assert_each_refused(&s.db, &s.db);
}

#[test]
fn an_output_that_names_the_database_another_way_is_refused() {
    let s = seeded();
    // `dir/./rollcall.db`: another spelling of the same name.
    let other_spelling = s.dir.path().join(".").join("rollcall.db");
    assert_each_refused(&s.db, &other_spelling);
}

#[test]
fn a_hard_link_or_a_symlink_to_the_database_is_refused() {
    let s = seeded();
    let hard = s.dir.path().join("list.csv");
    std::fs::hard_link(&s.db, &hard).unwrap();
    assert_each_refused(&s.db, &hard);
    let soft = s.dir.path().join("members.csv");
    std::os::unix::fs::symlink(&s.db, &soft).unwrap();
    assert_each_refused(&s.db, &soft);
}

#[test]
fn an_output_that_is_one_of_the_databases_files_is_refused() {
    let s = seeded();
    for suffix in ["-wal", "-shm", "-journal"] {
        // By name, whether the file is there or not.
        let file = companion(&s.db, suffix);
        assert_each_refused(&s.db, &file);
        // By identity: a hard link to it. Closing the database removes an empty WAL, so the
        // file is made afresh for each command.
        let link = s.dir.path().join(format!("link{suffix}.csv"));
        for args in writing_commands(&link) {
            std::fs::write(&file, b"").unwrap();
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
            std::fs::hard_link(&file, &link).unwrap();
            let out = rollcall(&s.db).args(&args).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
            assert!(
                stderr.contains("the same file as the database's"),
                "{stderr}"
            );
            let _ = std::fs::remove_file(&file);
            std::fs::remove_file(&link).unwrap();
        }
    }
}

#[test]
fn generate_cannot_write_where_the_database_will_be() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.db");
    let out = rollcall(&db)
        .args(["generate", "--members", "5", "-o"])
        .arg(&db)
        .assert()
        .failure()
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&db.display().to_string()), "{stderr}");
    assert!(stderr.contains("database"), "{stderr}");
    assert!(!db.exists(), "nothing was written there");
}

#[test]
fn a_demo_database_that_is_a_link_to_the_real_one_is_refused() {
    let s = seeded();
    let before = std::fs::read(&s.db).unwrap();
    let link = s.dir.path().join("demo.db");
    std::fs::hard_link(&s.db, &link).unwrap();
    let out = rollcall(&s.db)
        .args(["demo", "--build-only", "--members", "5", "--demo-db"])
        .arg(&link)
        .assert()
        .failure()
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&link.display().to_string()), "{stderr}");
    assert!(stderr.contains("the same file as the database"), "{stderr}");
    assert_eq!(std::fs::read(&s.db).unwrap(), before);
}

// ------------------------------------------------------------------ regular files, put in place

#[test]
fn an_output_that_is_not_a_regular_file_is_refused() {
    let s = seeded();
    for dest in [Path::new("/dev/full"), Path::new("/dev/null"), s.dir.path()] {
        for args in writing_commands(dest) {
            let out = rollcall(&s.db).args(&args).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
            assert!(
                stderr.contains(&dest.display().to_string()),
                "{args:?}: {stderr}"
            );
            assert!(
                stderr.contains("not a regular file") || stderr.contains("is a directory"),
                "{args:?}: {stderr}"
            );
        }
    }
}

#[test]
fn an_existing_output_is_replaced_whole_never_written_into() {
    let s = seeded();
    let dest = s.dir.path().join("out.csv");
    // `letters` writes no file when nobody is due a letter, as nobody in the seed is.
    for args in writing_commands(&dest)
        .into_iter()
        .filter(|a| a[0] != "letters")
    {
        std::fs::write(&dest, b"the old list\n").unwrap();
        let keep = s.dir.path().join("old-list.csv");
        // A second name for the old file: writing in place would change what it holds.
        std::fs::hard_link(&dest, &keep).unwrap();
        rollcall(&s.db).args(&args).assert().success();
        assert_eq!(
            std::fs::read(&keep).unwrap(),
            b"the old list\n",
            "{args:?} wrote into the old file instead of replacing it"
        );
        assert_ne!(std::fs::read(&dest).unwrap(), b"the old list\n", "{args:?}");
        std::fs::remove_file(&keep).unwrap();
        let left: Vec<_> = std::fs::read_dir(s.dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{args:?} left {left:?}");
    }
}

#[test]
fn an_output_through_a_symlink_replaces_the_file_it_points_to() {
    let s = seeded();
    let real = s.dir.path().join("lists/real.csv");
    std::fs::create_dir(real.parent().unwrap()).unwrap();
    std::fs::write(&real, b"old").unwrap();
    let link = s.dir.path().join("latest.csv");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    rollcall(&s.db)
        .args(["renewals", "--csv", "-o"])
        .arg(&link)
        .assert()
        .success();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is kept"
    );
    assert!(
        std::fs::read_to_string(&real)
            .unwrap()
            .contains("Contact ID")
    );
}

// ------------------------------------------------------------------ closed pipes and full disks

/// rollcall as a plain process, so its standard streams can be any file or pipe.
fn rollcall_process(db: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_rollcall"));
    for var in [
        "ROLLCALL_DB",
        "ROLLCALL_TODAY",
        "ROLLCALL_USER",
        "ROLLCALL_READ_ONLY",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", db.parent().unwrap().join("config-home"))
        .arg("--db")
        .arg(db)
        .args(["--today", TODAY, "--user", STAFF])
        .stdin(Stdio::null());
    cmd
}

/// The write end of a pipe whose reader has already gone: the first write fails with EPIPE.
fn closed_pipe() -> Stdio {
    let mut reader = std::process::Command::new("true")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let write_end = reader.stdin.take().unwrap();
    reader.wait().unwrap();
    Stdio::from(write_end)
}

fn dev_full() -> Stdio {
    Stdio::from(
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap(),
    )
}

/// Every command that prints something worth reading to standard output.
fn printing_commands() -> Vec<Vec<&'static str>> {
    vec![
        vec!["audit"],
        vec!["audit", "--json"],
        vec!["stats"],
        vec!["stats", "--json"],
        vec!["escalations", "--all"],
        vec!["escalations", "--all", "--json"],
        vec!["renewals"],
        vec!["renewals", "--json"],
        vec!["renewals", "--csv"],
        vec!["search", "Prydderch"],
        vec!["search", "Prydderch", "--json"],
        vec!["imports"],
        vec!["imports", "--json"],
        vec!["onboarding"],
        vec!["onboarding", "--json"],
        vec!["export", "members"],
        vec!["export", "members", "--json"],
        vec!["export", "activities", "--since", "2026-01-01"],
        vec!["generate", "--members", "5"],
    ]
}

use std::process::Stdio;

#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    let s = seeded();
    let before = dump(&s.db);
    for args in printing_commands() {
        let out = rollcall_process(&s.db)
            .args(&args)
            .stdout(closed_pipe())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?} is quiet");
    }
    // The activities the reader never took are not recorded as exported, nor audited.
    assert_eq!(dump(&s.db), before);
}

#[test]
fn a_full_disk_on_standard_output_is_named_and_fails() {
    let s = seeded();
    let before = dump(&s.db);
    for args in printing_commands() {
        let out = rollcall_process(&s.db)
            .args(&args)
            .stdout(dev_full())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(!stderr.contains("internal error"), "{args:?}: {stderr}");
        assert!(
            stderr.contains("standard output"),
            "{args:?} names where: {stderr}"
        );
        assert!(
            stderr.to_lowercase().contains("no space left on device"),
            "{args:?} names the cause: {stderr}"
        );
        assert_eq!(
            stderr.matches("No space left on device").count(),
            1,
            "{args:?} says it once: {stderr}"
        );
    }
    assert_eq!(
        dump(&s.db),
        before,
        "nothing recorded for output never written"
    );
}

#[test]
fn a_failing_standard_error_is_no_panic_either() {
    let s = seeded();
    for args in [
        vec!["renewals", "-o", "/dev/full"],
        vec!["audit", "--contact", "nobody"],
        vec!["export", "members", "-o", "members.csv"],
    ] {
        let out = rollcall_process(&s.db)
            .current_dir(s.dir.path())
            .args(&args)
            .stdout(Stdio::null())
            .stderr(dev_full())
            .output()
            .unwrap();
        assert_ne!(out.status.code(), Some(101), "{args:?} panicked");
    }
}

#[test]
fn generate_refuses_numbers_beyond_its_limits() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    for (args, limit) in [
        (["--advance", "999999999"], "3653"),
        (["--advance", "-1"], "3653"),
        (["--members", "99999999999"], "2000000"),
        (["--members", "0"], "2000000"),
    ] {
        let out = rollcall_process(&db)
            .arg("generate")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} wrote nothing");
        assert!(
            stderr.contains(args[0]),
            "{args:?} names the option: {stderr}"
        );
        assert!(stderr.contains(limit), "{args:?} gives the limit: {stderr}");
    }
    for args in [["--advance", "3653"], ["--members", "1"]] {
        let out = rollcall_process(&db)
            .args(["generate", "-o"])
            .arg(dir.path().join("g.csv"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?} is within the limits");
    }
}

// ------------------------------------------------------------------ control characters

/// A title-setting sequence, a colour, a screen clear and a bell, as a hostile or broken CRM
/// field could hold them.
const TITLE: &str = "\x1b]0;x\x07";
const RED: &str = "\x1b[31m";
const CLEAR: &str = "\x1b[2J";

fn hostile(text: &str) -> String {
    text.replace("Siân", &format!("Siân{TITLE}"))
        .replace("Prydderch", &format!("{RED}Prydderch"))
        .replace("Dwyfor Meirionnydd", &format!("Dwyfor{CLEAR} Meirionnydd"))
        .replace("Youth", "Youth\x07\r")
        .replace("Wales", "Wa\x1b[0mles\x7f")
}

fn assert_no_controls(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{what} printed a control character: {text:?}"
    );
}

#[test]
fn crm_values_reach_the_terminal_without_their_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    let file = dir.path().join(format!("export{RED}.csv"));
    let csv = hostile(&String::from_utf8(civicrm_sample()).unwrap());
    std::fs::write(&file, csv).unwrap();
    let out = rollcall(&db).arg("import").arg(&file).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_controls("import", &out.stdout);
    assert_no_controls("import", &out.stderr);
    // A change recorded with a CRM value in it, as the app records edits.
    {
        let store =
            rollcall::storage::Store::open(&db, rollcall::storage::OpenMode::ReadWrite).unwrap();
        rollcall::storage::audit::record(
            &store.conn,
            &clock(),
            rollcall::storage::audit::Change {
                action: "update",
                entity: "contact",
                entity_id: Some(1),
                contact_id: Some(1),
                before: Some(serde_json::json!({ "display_name": "Siân" })),
                after: Some(serde_json::json!({ "display_name": format!("Siân{TITLE}") })),
            },
        )
        .unwrap();
    }
    rollcall(&db)
        .args([
            "escalate",
            "--contact",
            TARGET.crm_id,
            "--category",
            "complaint",
        ])
        .args(["--priority", "high", "--title", "Card declined"])
        .assert()
        .success();
    for args in [
        vec!["search", "Prydderch"],
        vec!["search", "Siân"],
        vec!["renewals", "--include-set-aside", "--include-auto-renew"],
        vec!["onboarding"],
        vec!["escalations", "--all"],
        vec!["audit"],
        vec!["imports"],
        vec!["imports", "--id", "1"],
        vec!["stats"],
    ] {
        let out = rollcall(&db).args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty(), "{args:?} printed something");
        assert_no_controls(&format!("{args:?}"), &out.stdout);
        assert_no_controls(&format!("{args:?} (stderr)"), &out.stderr);
    }
    // The values are still there, only without the controls.
    let out = rollcall(&db)
        .args(["search", "Prydderch"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Siân]0;x [31mPrydderch"));
    // JSON keeps every character, escaped; CSV keeps the data as it is.
    let out = rollcall(&db)
        .args(["search", "Prydderch", "--json"])
        .output()
        .unwrap();
    assert_no_controls("search --json", &out.stdout);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json[0]["name"].as_str().unwrap().contains(TITLE));
    let out = rollcall(&db).args(["renewals", "--csv"]).output().unwrap();
    assert!(contains_bytes(&out.stdout, RED));
}

// ------------------------------------------------------------------ errors name file and cause once

#[test]
fn file_errors_name_the_file_and_the_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_folder = dir.path().join("notes.txt");
    std::fs::write(&not_a_folder, b"a file, not a folder").unwrap();
    let db_inside = not_a_folder.join("rollcall.db");
    let db = dir.path().join("rollcall.db");
    drop(rollcall::storage::Store::open(&db, rollcall::storage::OpenMode::ReadWrite).unwrap());
    let output_inside = not_a_folder.join("list.csv");
    let output_inside = output_inside.to_str().unwrap();
    for (db, args, file) in [
        (&db_inside, vec!["forget", "1", "--yes"], db_inside.clone()),
        (&db_inside, vec!["import", "x.csv"], db_inside.clone()),
        (
            &db,
            vec!["renewals", "-o", output_inside],
            PathBuf::from(output_inside),
        ),
        (
            &db,
            vec!["export", "members", "-o", output_inside],
            PathBuf::from(output_inside),
        ),
        (
            &db,
            vec!["generate", "-o", output_inside],
            PathBuf::from(output_inside),
        ),
    ] {
        let out = rollcall(db).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&file.display().to_string())
                || stderr.contains(&not_a_folder.display().to_string()),
            "{args:?} names the file: {stderr}"
        );
        assert_eq!(
            stderr.matches("Not a directory").count(),
            1,
            "{args:?} gives the cause once: {stderr}"
        );
    }
}
