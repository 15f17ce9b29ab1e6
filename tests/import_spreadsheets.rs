//! Spreadsheets imported directly, and files that are not exports named for what they are
//! (issue 18). The workbooks are built here with rust_xlsxwriter, with the dates as Excel
//! writes them: serial numbers with a date format.

mod import_support;

use import_support::*;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet};

const HEADER: [&str; 10] = [
    "Contact ID",
    "First Name",
    "Last Name",
    "Email",
    "Do Not Phone",
    "Membership Type",
    "Member Since",
    "Membership Expiration Date",
    "Membership Status",
    "Membership ID",
];

/// A CiviCRM membership export as a sheet: ids as numbers, dates as date cells, a datetime in
/// `Member Since` on the second row.
fn write_members(sheet: &mut Worksheet, first_name: &str) {
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let datetime = Format::new().set_num_format("dd/mm/yyyy hh:mm");
    for (col, h) in HEADER.iter().enumerate() {
        sheet.write_string(0, col as u16, *h).unwrap();
    }
    sheet.write_number(1, 0, 101).unwrap();
    sheet.write_string(1, 1, first_name).unwrap();
    sheet.write_string(1, 2, "Jones").unwrap();
    sheet.write_string(1, 3, "sian.jones@example.org").unwrap();
    sheet.write_boolean(1, 4, false).unwrap();
    sheet.write_string(1, 5, "Individual").unwrap();
    let since = ExcelDateTime::from_ymd(2019, 3, 1).unwrap();
    sheet
        .write_datetime_with_format(1, 6, &since, &date)
        .unwrap();
    let end = ExcelDateTime::from_ymd(2026, 11, 30).unwrap();
    sheet.write_datetime_with_format(1, 7, &end, &date).unwrap();
    sheet.write_string(1, 8, "Current").unwrap();
    sheet.write_number(1, 9, 5001).unwrap();

    sheet.write_number(2, 0, 102).unwrap();
    sheet.write_string(2, 1, "Rhys").unwrap();
    sheet.write_string(2, 2, "ap Gwilym").unwrap();
    sheet.write_string(2, 3, "rhys@example.net").unwrap();
    sheet.write_boolean(2, 4, true).unwrap();
    sheet.write_string(2, 5, "Reduced Rate").unwrap();
    let since = ExcelDateTime::from_ymd(2021, 6, 15)
        .unwrap()
        .and_hms(9, 30, 0)
        .unwrap();
    sheet
        .write_datetime_with_format(2, 6, &since, &datetime)
        .unwrap();
    let end = ExcelDateTime::from_ymd(2026, 6, 14).unwrap();
    sheet.write_datetime_with_format(2, 7, &end, &date).unwrap();
    sheet.write_string(2, 8, "Expired").unwrap();
    sheet.write_number(2, 9, 5002).unwrap();
}

fn workbook_file(s: &Scratch, name: &str, sheets: &[(&str, &str)]) -> std::path::PathBuf {
    let mut workbook = Workbook::new();
    for (sheet_name, first_name) in sheets {
        let sheet = workbook.add_worksheet();
        sheet.set_name(*sheet_name).unwrap();
        write_members(sheet, first_name);
    }
    let path = s.path(name);
    std::fs::write(&path, workbook.save_to_buffer().unwrap()).unwrap();
    path
}

fn import_json_ok(s: &Scratch, file: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let out = s
        .cmd()
        .args(["import", "--json"])
        .args(extra)
        .arg(file)
        .assert()
        .success();
    serde_json::from_str(&stdout_of(&out)).unwrap()
}

#[test]
fn an_xlsx_workbook_is_imported_with_its_dates_as_dates() {
    let s = Scratch::new();
    let file = workbook_file(&s, "members.xlsx", &[("Members", "Siân")]);
    let report = import_json_ok(&s, &file, &[]);
    assert_eq!(report["profile"], "civicrm", "{report:#}");
    assert_eq!(report["rows_read"], 2);
    assert_eq!(report["rejected"], 0, "{report:#}");
    assert_eq!(
        report["encoding"],
        "Excel workbook (.xlsx), sheet \"Members\""
    );
    assert_eq!(report["date_order"], "iso");
    assert_eq!(
        s.text("SELECT first_name || ' ' || last_name FROM contacts WHERE crm_id = '101'"),
        Some("Siân Jones".into())
    );
    assert_eq!(
        s.text("SELECT email FROM contacts WHERE crm_id = '102'"),
        Some("rhys@example.net".into())
    );
    assert_eq!(
        s.count("SELECT do_not_phone FROM contacts WHERE crm_id = '101'"),
        0
    );
    assert_eq!(
        s.count("SELECT do_not_phone FROM contacts WHERE crm_id = '102'"),
        1
    );
    let dates = |id: &str| {
        s.text(&format!(
            "SELECT join_date || ' ' || end_date || ' ' || crm_status FROM memberships \
             WHERE crm_membership_id = '{id}'"
        ))
    };
    assert_eq!(dates("5001"), Some("2019-03-01 2026-11-30 Current".into()));
    assert_eq!(dates("5002"), Some("2021-06-15 2026-06-14 Expired".into()));
}

#[test]
fn a_workbook_with_another_name_is_still_a_workbook() {
    let s = Scratch::new();
    let file = workbook_file(&s, "members.csv", &[("Sheet1", "Siân")]);
    let report = import_json_ok(&s, &file, &[]);
    assert_eq!(report["rows_read"], 2, "{report:#}");
}

#[test]
fn sheet_picks_a_sheet_by_name_and_an_unknown_one_lists_them() {
    let s = Scratch::new();
    let file = workbook_file(&s, "members.xlsx", &[("Old", "Wrong"), ("Current", "Siân")]);
    let report = import_json_ok(&s, &file, &["--sheet", "Current"]);
    assert_eq!(
        report["encoding"],
        "Excel workbook (.xlsx), sheet \"Current\""
    );
    assert_eq!(
        s.text("SELECT first_name FROM contacts WHERE crm_id = '101'"),
        Some("Siân".into())
    );
    let out = s
        .cmd()
        .args(["import", "--sheet", "Nope"])
        .arg(&file)
        .assert()
        .failure();
    let err = stderr_of(&out);
    assert!(
        err.contains(
            "--sheet Nope: no sheet of that name; the workbook's sheets are \"Old\", \"Current\""
        ),
        "{err}"
    );
}

#[test]
fn the_first_sheet_is_read_by_default() {
    let s = Scratch::new();
    let file = workbook_file(
        &s,
        "members.xlsx",
        &[("First", "Siân"), ("Second", "Wrong")],
    );
    import_json_ok(&s, &file, &[]);
    assert_eq!(
        s.text("SELECT first_name FROM contacts WHERE crm_id = '101'"),
        Some("Siân".into())
    );
}

fn refusal(s: &Scratch, name: &str, bytes: &[u8]) -> String {
    let path = s.path(name);
    std::fs::write(&path, bytes).unwrap();
    let out = s.cmd().arg("import").arg(&path).assert().failure();
    stderr_of(&out)
}

#[test]
fn files_that_are_not_exports_are_named_for_what_they_are() {
    let s = Scratch::new();
    for (name, bytes, what) in [
        (
            "members.pdf",
            &b"%PDF-1.7\n1 0 obj\n"[..],
            "is a PDF document, not an export",
        ),
        (
            "members.csv.gz",
            &b"\x1F\x8B\x08\x00\x00\x00"[..],
            "is a gzip-compressed file",
        ),
        (
            "members.png",
            &b"\x89PNG\r\n\x1a\n\0\0"[..],
            "is a PNG image",
        ),
        (
            "scan.jpg",
            &b"\xFF\xD8\xFF\xE0\0\x10JFIF"[..],
            "is a JPEG image",
        ),
    ] {
        let err = refusal(&s, name, bytes);
        assert!(err.contains(&format!("{name} {what}")), "{name}: {err}");
    }
    // A zip archive that is not a workbook.
    let err = refusal(&s, "members.zip", &empty_zip());
    assert!(
        err.contains("members.zip is a zip archive but not a spreadsheet"),
        "{err}"
    );
    assert!(!s.db.exists(), "refused imports leave no database");
}

/// A zip archive with no entries: its end-of-central-directory record alone.
fn empty_zip() -> Vec<u8> {
    let mut zip = b"PK\x05\x06".to_vec();
    zip.extend_from_slice(&[0; 18]);
    zip
}

#[test]
fn sheet_on_a_csv_file_is_refused() {
    let s = Scratch::new();
    let out = s
        .cmd()
        .args(["import", "--sheet", "Members"])
        .arg(fixture("civicrm_small.csv"))
        .assert()
        .failure();
    assert!(stderr_of(&out).contains("--sheet is for spreadsheets"));
}

/// The committed `.xls` and `.ods` fixtures (tests/fixtures/make_spreadsheet_fixtures.py wrote
/// them: xlwt's BIFF8, and OpenDocument's zip of XML) hold the sheet `write_members` builds.
fn a_committed_workbook_lands_field_by_field(name: &str, kind: &str) {
    let s = Scratch::new();
    let file = fixture(name);
    let report = import_json_ok(&s, &file, &[]);
    assert_eq!(report["profile"], "civicrm", "{report:#}");
    assert_eq!(report["rows_read"], 2, "{report:#}");
    assert_eq!(report["rejected"], 0, "{report:#}");
    assert_eq!(report["encoding"], format!("{kind}, sheet \"Members\""));
    assert_eq!(
        report["date_order"], "iso",
        "dates read as dates: {report:#}"
    );
    let contact = |id: &str| {
        s.text(&format!(
            "SELECT first_name || '|' || last_name || '|' || email || '|' || do_not_phone \
             FROM contacts WHERE crm_id = '{id}'"
        ))
    };
    assert_eq!(
        contact("101"),
        Some("Siân|Jones|sian.jones@example.org|0".into())
    );
    assert_eq!(
        contact("102"),
        Some("Rhys|ap Gwilym|rhys@example.net|1".into())
    );
    let membership = |id: &str| {
        s.text(&format!(
            "SELECT membership_type || '|' || join_date || '|' || end_date || '|' || crm_status \
             FROM memberships WHERE crm_membership_id = '{id}'"
        ))
    };
    assert_eq!(
        membership("5001"),
        Some("Individual|2019-03-01|2026-11-30|Current".into())
    );
    assert_eq!(
        membership("5002"),
        Some("Reduced Rate|2021-06-15|2026-06-14|Expired".into())
    );
}

#[test]
fn an_xls_workbook_is_imported_field_by_field_with_its_dates_as_dates() {
    a_committed_workbook_lands_field_by_field("members.xls", "Excel 97-2003 workbook (.xls)");
}

#[test]
fn an_ods_workbook_is_imported_field_by_field_with_its_dates_as_dates() {
    a_committed_workbook_lands_field_by_field("members.ods", "OpenDocument spreadsheet (.ods)");
}
