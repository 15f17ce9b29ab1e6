//! What `rollcall import` is given when it is not a tidy CSV file: a FIFO, a device or a
//! directory (refused, at once, naming what it is), text that is mostly UTF-8 with a stray byte
//! (the stray rows rejected by line and byte offset, never the rest turned into mojibake), and
//! cells too big to be a CRM field.

mod import_support;

use std::path::Path;

use import_support::*;

fn import_fails(s: &Scratch, file: &Path) -> String {
    let out = s.cmd().arg("import").arg(file).assert().failure();
    stderr_of(&out)
}

fn import_json(s: &Scratch, file: &Path) -> serde_json::Value {
    let out = s
        .cmd()
        .arg("import")
        .arg("--json")
        .arg(file)
        .assert()
        .success();
    serde_json::from_str(&stdout_of(&out)).unwrap()
}

fn no_import_recorded(s: &Scratch) {
    if s.db.exists() {
        assert_eq!(s.count("SELECT count(*) FROM import_runs"), 0);
    }
}

#[test]
fn a_fifo_is_refused_at_once_naming_what_it_is() {
    let s = Scratch::new();
    let fifo = s.path("members.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // Nobody ever writes to the FIFO: the import must return by itself.
    let stderr = import_fails(&s, &fifo);
    assert!(
        stderr.contains(&format!(
            "{}: is a FIFO (named pipe), not an export file",
            fifo.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("regular files only"), "{stderr}");
    no_import_recorded(&s);
}

#[test]
fn a_device_and_a_directory_are_refused_naming_what_they_are() {
    let s = Scratch::new();
    for (file, kind) in [
        (Path::new("/dev/null").to_owned(), "a character device"),
        (s.dir.path().to_owned(), "a directory"),
    ] {
        let stderr = import_fails(&s, &file);
        assert!(
            stderr.contains(&format!(
                "{}: is {kind}, not an export file",
                file.display()
            )),
            "{stderr}"
        );
    }
    no_import_recorded(&s);
}

/// A UTF-8 export (no byte-order mark) of `rows` members named Siân, with one Windows-1252 `é`
/// (a lone 0xE9 byte) pasted into the last name of the member on `bad_row` (1-based).
fn mostly_utf8(rows: usize, bad_row: usize) -> (Vec<u8>, u64, usize) {
    let mut bytes = b"Contact ID,First Name,Last Name,City\n".to_vec();
    let mut offset = 0;
    for i in 1..=rows {
        bytes.extend_from_slice(format!("{i},Si\u{e2}n,").as_bytes());
        if i == bad_row {
            bytes.extend_from_slice(b"Ren");
            offset = bytes.len() as u64;
            bytes.push(0xE9);
        } else {
            bytes.extend_from_slice("Prydderch".as_bytes());
        }
        bytes.extend_from_slice(",Caerdydd\n".as_bytes());
    }
    (bytes, offset, bad_row + 1)
}

fn assert_stray_byte_rejected(rows: usize, bad_row: usize) {
    let s = Scratch::new();
    let (bytes, offset, line) = mostly_utf8(rows, bad_row);
    let file = s.path("members.csv");
    std::fs::write(&file, bytes).unwrap();
    let report = import_json(&s, &file);
    assert_eq!(report["encoding"], "UTF-8", "{report}");
    assert_eq!(report["rejected"], 1, "{report}");
    let reason = report["errors"][0]["reason"].as_str().unwrap();
    assert_eq!(report["errors"][0]["line"], line as u64, "{report}");
    assert!(
        reason.contains(&format!("the byte at offset {offset} is not UTF-8")),
        "{reason}"
    );
    assert_eq!(
        s.count("SELECT count(*) FROM contacts"),
        rows as i64 - 1,
        "every other row imports"
    );
    assert_eq!(
        s.count("SELECT count(*) FROM contacts WHERE first_name <> 'Si\u{e2}n'"),
        0,
        "no name stored as mojibake"
    );
}

#[test]
fn a_small_utf8_file_with_a_stray_byte_keeps_its_names_and_rejects_that_row() {
    assert_stray_byte_rejected(5, 3);
}

#[test]
fn a_large_utf8_file_with_a_stray_byte_late_on_rejects_that_row_only() {
    assert_stray_byte_rejected(20_000, 19_990);
}

#[test]
fn a_stray_byte_on_a_later_line_of_a_quoted_value_is_named_by_its_own_line() {
    let s = Scratch::new();
    let mut bytes = "Contact ID,First Name,Street Address\r\n1,Siân,\"1 Heol Fawr\r\nCaerdydd\"\r\n2,Ffion,\"Flat 2\r\n9 Stryd "
        .as_bytes()
        .to_vec();
    let offset = bytes.len();
    bytes.extend_from_slice(b"\xE9\"\r\n3,Rhys,\"Bangor\"\r\n");
    let file = s.path("members.csv");
    std::fs::write(&file, bytes).unwrap();
    let report = import_json(&s, &file);
    assert_eq!(report["errors"][0]["line"], 4, "{report}");
    let reason = report["errors"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!(
            "the byte at offset {offset} (line 5) is not UTF-8"
        )),
        "{reason}"
    );
    assert_eq!(s.count("SELECT count(*) FROM contacts"), 2);
}

#[test]
fn a_windows_1252_file_is_still_read_as_windows_1252() {
    let s = Scratch::new();
    let mut bytes = b"Contact ID,First Name,City\n".to_vec();
    for i in 1..=30_000 {
        bytes.extend_from_slice(format!("{i},Ren\u{e9}e,Caerdydd\n").as_bytes());
    }
    // Re-encode as Windows-1252: é is the one byte 0xE9.
    let bytes: Vec<u8> = String::from_utf8(bytes)
        .unwrap()
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    let file = s.path("members.csv");
    std::fs::write(&file, bytes).unwrap();
    let report = import_json(&s, &file);
    assert_eq!(report["encoding"], "Windows-1252", "{report}");
    assert_eq!(report["rejected"], 0, "{report}");
    assert_eq!(
        s.count("SELECT count(*) FROM contacts WHERE first_name = 'Ren\u{e9}e'"),
        30_000
    );
}

#[test]
fn a_cell_over_64_kib_rejects_its_row_by_line_and_column_never_the_value() {
    let s = Scratch::new();
    let limit = 64 * 1024;
    let secret = "Flat 9 Heol Glyndwr ";
    let huge: String = secret.repeat(10 * 1024 * 1024 / secret.len());
    let at_limit: String = "x".repeat(limit);
    let over_limit: String = "y".repeat(limit + 1);
    let mut csv = String::from("Contact ID,First Name,Street Address,City\n");
    csv.push_str("1,Siân,1 Stryd Fawr,Caerdydd\n");
    csv.push_str(&format!("2,Ffion,\"{huge}\",Bangor\n"));
    csv.push_str(&format!("3,Rhys,{at_limit},Bangor\n"));
    csv.push_str(&format!("4,Aled,Bangor,{over_limit}\n"));
    csv.push_str("5,Nia,2 Stryd Fawr,Caerdydd\n");
    let file = s.path("members.csv");
    std::fs::write(&file, csv).unwrap();
    let out = s.cmd().arg("import").arg(&file).assert().success();
    let text = stdout_of(&out);
    assert!(!text.contains(secret), "the value is never shown");
    assert!(
        text.contains("line 3: Street Address: 10240 KiB, more than the 64 KiB a cell may hold"),
        "{text}"
    );
    assert!(
        text.contains("line 5: City: 65 KiB, more than the 64 KiB"),
        "{text}"
    );
    assert!(text.contains("rejected     2 row(s)"), "{text}");
    let imported: Vec<String> = s
        .conn()
        .prepare("SELECT crm_id FROM contacts ORDER BY crm_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        imported,
        ["1", "3", "5"],
        "a cell of exactly 64 KiB is fine"
    );
    let stored: String = s
        .text("SELECT group_concat(reason, '|') FROM import_rejects")
        .unwrap();
    assert!(!stored.contains(secret), "nor stored with the rejects");
}
