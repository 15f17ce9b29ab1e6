//! `rollcall letters`: PDFs a page per member with extractable Welsh text, Welsh first,
//! preferences honoured, every letter recorded, repeats asked about, bad templates refused.

mod renewals_support;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use renewals_support::*;
use rollcall::storage::{OpenMode, Store};

/// Every letter Welsh writes with a diacritic, and names the exports carry.
const WELSH_LETTERS: &str = "ŵ ŷ â ê î ô û ï ë Ŵ Ŷ Â";

struct Fixture {
    dir: tempfile::TempDir,
    db: PathBuf,
}

impl Fixture {
    /// Three members due to renew on 2026-11-23: Siân (Welsh), Łukasz, and Dai (Do Not Mail);
    /// and Nia (Welsh, No Bulk Emails).
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rollcall.db");
        let store = Store::open(&db, OpenMode::ReadWrite).unwrap();
        insert(
            &store.conn,
            &member("Siân Llŷr", "2026-12-14")
                .welsh()
                .street("Tŷ Gwyn\nHeol y Frenhines"),
        );
        insert(&store.conn, &member("Łukasz Ödön", "2026-12-01"));
        insert(&store.conn, &member("Dai Morgan", "2026-12-05").no_mail());
        insert(
            &store.conn,
            &member("Nia Wyn", "2026-12-06").welsh().no_bulk(),
        );
        store
            .conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
        Fixture { dir, db }
    }

    fn letters_dir(&self) -> PathBuf {
        self.dir.path().join("config/rollcall/letters")
    }

    fn config(&self, toml: &str) {
        let dir = self.dir.path().join("config/rollcall");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.toml"), toml).unwrap();
    }

    fn template(&self, name: &str, text: &str) {
        std::fs::create_dir_all(self.letters_dir()).unwrap();
        std::fs::write(self.letters_dir().join(name), text).unwrap();
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("rollcall").unwrap();
        for var in [
            "ROLLCALL_DB",
            "ROLLCALL_TODAY",
            "ROLLCALL_USER",
            "ROLLCALL_READ_ONLY",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .arg("--db")
            .arg(&self.db)
            .args(["--today", "2026-11-23", "--user", "ann", "letters"])
            .args(args);
        cmd
    }

    fn out(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn count(&self, sql: &str) -> i64 {
        let store = Store::open(&self.db, OpenMode::ReadOnly).unwrap();
        count(&store.conn, sql)
    }
}

fn stderr(mut cmd: Command, ok: bool) -> String {
    let assert = cmd.assert();
    let assert = if ok {
        assert.success()
    } else {
        assert.failure()
    };
    String::from_utf8(assert.get_output().stderr.clone()).unwrap()
}

fn pages(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    pdf_extract::extract_text_from_mem_by_pages(&bytes).unwrap()
}

#[cfg(unix)]
fn owner_only(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "mode {mode:o}");
}

#[test]
fn renewal_letters_a_page_each_welsh_first_and_none_for_do_not_mail() {
    let f = Fixture::new();
    f.config("[letters]\nrenew_link = \"https://example.org/renew\"\nsender_name = \"Tîm Aelodaeth\"\nsender_address = [\"1 Stryd Fawr\", \"Caerdydd\"]\n");
    f.template(
        "renewal-due.cy.txt",
        &format!("Subject: Adnewyddu\n\nAnnwyl {{first_name}},\nDaw i ben ar {{end_date}}.\n{WELSH_LETTERS}\n{{renew_link}}\n"),
    );
    let pdf = f.out("letters.pdf");
    let err = stderr(f.cmd(&["renewal-due", "-o", pdf.to_str().unwrap()]), true);
    assert!(err.contains("3 renewal-due letters"), "{err}");
    assert!(err.contains("left out: 1 Do Not Mail"), "{err}");
    let pages = pages(&pdf);
    assert_eq!(pages.len(), 3, "one page per member: {pages:?}");
    let all = pages.concat();
    assert!(
        !all.contains("Dai Morgan"),
        "a Do Not Mail member got a letter"
    );
    let sian = pages
        .iter()
        .find(|p| p.contains("Siân Llŷr"))
        .expect("Siân's letter");
    let (welsh, english) = (
        sian.find("Annwyl Siân").unwrap(),
        sian.find("Dear Siân").unwrap(),
    );
    assert!(welsh < english, "Welsh first: {sian}");
    assert!(sian.contains("14 Rhagfyr 2026"), "{sian}");
    assert!(sian.contains("14 December 2026"), "{sian}");
    assert!(sian.contains("Tŷ Gwyn"), "street lines: {sian}");
    for letter in WELSH_LETTERS.split(' ') {
        assert!(sian.contains(letter), "{letter} is not extractable: {sian}");
    }
    let lukasz = pages
        .iter()
        .find(|p| p.contains("Łukasz Ödön"))
        .expect("Łukasz's letter");
    assert!(!lukasz.contains("Annwyl"), "English only: {lukasz}");
    assert!(lukasz.contains("1 December 2026"), "{lukasz}");
    #[cfg(unix)]
    owner_only(&pdf);
    assert_eq!(
        f.count(
            "SELECT count(*) FROM contact_attempts WHERE channel = 'letter'
             AND outcome = 'left_message' AND note = 'renewal-due letter' AND staff = 'ann'"
        ),
        3
    );
    assert_eq!(
        f.count("SELECT count(*) FROM audit_log WHERE action = 'log_contact_attempt'"),
        3
    );
}

#[test]
fn welsh_only_when_the_organisation_does_not_write_bilingually() {
    let f = Fixture::new();
    f.config("[letters]\nbilingual = false\n");
    let pdf = f.out("letters.pdf");
    stderr(f.cmd(&["renewal-due", "-o", pdf.to_str().unwrap()]), true);
    let pages = pages(&pdf);
    let sian = pages.iter().find(|p| p.contains("Siân Llŷr")).unwrap();
    assert!(
        sian.contains("Annwyl Siân") && !sian.contains("Dear Siân"),
        "{sian}"
    );
}

#[test]
fn the_same_letter_twice_in_a_day_asks_and_a_script_must_say_yes() {
    let f = Fixture::new();
    let pdf = f.out("letters.pdf");
    let path = pdf.to_str().unwrap();
    stderr(f.cmd(&["renewal-due", "-o", path]), true);
    std::fs::remove_file(&pdf).unwrap();
    let err = stderr(f.cmd(&["renewal-due", "-o", path]), false);
    assert!(
        err.contains("3 of these members already had a renewal-due letter today"),
        "{err}"
    );
    assert!(err.contains("--yes"), "{err}");
    assert!(!pdf.exists(), "nothing written");
    assert_eq!(f.count("SELECT count(*) FROM contact_attempts"), 3);
    stderr(f.cmd(&["renewal-due", "-o", path, "--yes"]), true);
    assert_eq!(f.count("SELECT count(*) FROM contact_attempts"), 6);
    // Another kind, or another channel, is another letter.
    let csv = f.out("emails.csv");
    stderr(
        f.cmd(&[
            "renewal-due",
            "--channel",
            "email",
            "-o",
            csv.to_str().unwrap(),
        ]),
        true,
    );
}

#[test]
fn emails_leave_out_no_bulk_and_put_welsh_first() {
    let f = Fixture::new();
    let csv = f.out("emails.csv");
    let err = stderr(
        f.cmd(&[
            "renewal-due",
            "--channel",
            "email",
            "-o",
            csv.to_str().unwrap(),
        ]),
        true,
    );
    assert!(err.contains("left out: 1 No Bulk Emails"), "{err}");
    let bytes = std::fs::read(&csv).unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()));
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(
        reader.headers().unwrap(),
        vec!["Contact ID", "Email", "Language", "Subject", "Body"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(
        rows.len(),
        3,
        "Siân, Łukasz and Dai (Do Not Mail is no bar to email)"
    );
    assert!(!rows.iter().any(|r| r[1].starts_with("nia")));
    let sian = rows.iter().find(|r| r[1].starts_with("siân")).unwrap();
    assert_eq!(&sian[2], "cy+en");
    assert!(
        sian[3].starts_with("Mae'n amser adnewyddu"),
        "{:?}",
        &sian[3]
    );
    assert!(sian[4].starts_with("Annwyl Siân"), "{:?}", &sian[4]);
    assert!(sian[4].contains("14 Rhagfyr 2026"));
    #[cfg(unix)]
    owner_only(&csv);
    assert_eq!(
        f.count("SELECT count(*) FROM contact_attempts WHERE channel = 'email'"),
        3
    );
}

#[test]
fn a_list_of_crm_ids_and_the_lapsed_and_welcome_kinds() {
    let f = Fixture::new();
    let pdf = f.out("two.pdf");
    // 1001 is Siân, 1003 Dai (Do Not Mail), 999 nobody.
    let err = stderr(
        f.cmd(&[
            "welcome",
            "--ids",
            "1001,1003,999",
            "-o",
            pdf.to_str().unwrap(),
        ]),
        true,
    );
    assert!(err.contains("1 welcome letters"), "{err}");
    assert!(err.contains("1 Do Not Mail"), "{err}");
    assert!(err.contains("1 ids not in the database"), "{err}");
    let pages = pages(&pdf);
    assert_eq!(pages.len(), 1);
    assert!(pages[0].contains("Croeso"), "{}", pages[0]);
}

#[test]
fn a_bad_template_is_refused_with_file_line_and_column_and_nothing_is_written() {
    let f = Fixture::new();
    f.template(
        "lapsed.en.txt",
        "Subject: We miss you\n\nDear {first_name},\nYou lapsed on {end_dat}.\n",
    );
    let pdf = f.out("letters.pdf");
    let err = stderr(f.cmd(&["lapsed", "-o", pdf.to_str().unwrap()]), false);
    let file = f.letters_dir().join("lapsed.en.txt");
    assert!(
        err.contains(&format!(
            "{}:4:15: unknown field `{{end_dat}}`",
            file.display()
        )),
        "{err}"
    );
    f.template(
        "lapsed.en.txt",
        "Subject: We miss you\n\nDear {first_name\n",
    );
    let err = stderr(f.cmd(&["lapsed", "-o", pdf.to_str().unwrap()]), false);
    assert!(
        err.contains("lapsed.en.txt:3:6: `{` is never closed"),
        "{err}"
    );
    assert!(!pdf.exists());
    assert_eq!(f.count("SELECT count(*) FROM contact_attempts"), 0);
}

#[test]
fn read_only_refuses_since_every_letter_is_recorded() {
    let f = Fixture::new();
    let pdf = f.out("letters.pdf");
    let mut cmd = f.cmd(&["renewal-due", "-o", pdf.to_str().unwrap()]);
    cmd.env("ROLLCALL_READ_ONLY", "1");
    let err = stderr(cmd, false);
    assert!(err.contains("writing letters"), "{err}");
    assert!(!pdf.exists());
}

/// Undoes RFC 2047 "Q" encoded-words (as a mail reader does), for checking a subject.
fn decode_q(header: &str) -> String {
    let mut bytes = Vec::new();
    for word in header.split("\r\n ") {
        let Some(inner) = word
            .strip_prefix("=?utf-8?Q?")
            .and_then(|w| w.strip_suffix("?="))
        else {
            bytes.extend_from_slice(word.as_bytes());
            continue;
        };
        let mut chars = inner.bytes();
        while let Some(b) = chars.next() {
            match b {
                b'_' => bytes.push(b' '),
                b'=' => {
                    let hex = [chars.next().unwrap(), chars.next().unwrap()];
                    bytes.push(u8::from_str_radix(std::str::from_utf8(&hex).unwrap(), 16).unwrap());
                }
                b => bytes.push(b),
            }
        }
    }
    String::from_utf8(bytes).unwrap()
}

#[test]
fn eml_messages_one_per_member_with_a_welsh_subject_that_round_trips() {
    let f = Fixture::new();
    let dir = f.out("eml");
    let args = [
        "renewal-due",
        "--channel",
        "email",
        "--eml",
        dir.to_str().unwrap(),
    ];
    let err = stderr(f.cmd(&args), false);
    assert!(
        err.contains("[letters] from"),
        "refused without a From: {err}"
    );
    assert!(!dir.exists());
    f.config("[letters]\nfrom = \"Tîm Aelodaeth <aelodau@example.org>\"\n");
    f.template(
        "renewal-due.cy.txt",
        "Subject: Amser adnewyddu: ŵ ŷ\n\nAnnwyl {first_name},\nDaw i ben ar {end_date}.\n",
    );
    let err = stderr(f.cmd(&args), true);
    assert!(err.contains("3 renewal-due emails"), "{err}");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 3, "Siân, Łukasz and Dai (Nia: No Bulk Emails)");
    let sian = std::fs::read_to_string(dir.join("1001-renewal-due.eml")).unwrap();
    let (head, body) = sian.split_once("\r\n\r\n").unwrap();
    let header = |name: &str| -> String {
        let start = head.find(&format!("{name}: ")).unwrap() + name.len() + 2;
        let rest = &head[start..];
        let mut end = 0;
        loop {
            let Some(i) = rest[end..].find("\r\n") else {
                break rest.to_owned();
            };
            end += i;
            if !rest[end + 2..].starts_with(' ') {
                break rest[..end].to_owned();
            }
            end += 2;
        }
    };
    assert_eq!(header("To"), "siân.llŷr@example.org");
    assert_eq!(
        decode_q(&header("Subject")),
        "Amser adnewyddu: ŵ ŷ / Time to renew your membership"
    );
    assert!(header("Subject").is_ascii());
    let from = header("From");
    let (name, address) = from.split_once(" <").unwrap();
    assert_eq!(
        (decode_q(name).as_str(), address),
        ("Tîm Aelodaeth", "aelodau@example.org>")
    );
    assert_eq!(header("MIME-Version"), "1.0");
    assert_eq!(header("Content-Type"), "text/plain; charset=utf-8");
    assert_eq!(header("Content-Transfer-Encoding"), "quoted-printable");
    assert!(head.contains("\r\nDate: "), "{head}");
    assert!(body.starts_with("Annwyl Si=C3=A2n,\r\n"), "{body}");
    #[cfg(unix)]
    owner_only(&dir.join("1001-renewal-due.eml"));
    assert_eq!(
        f.count("SELECT count(*) FROM contact_attempts WHERE channel = 'email'"),
        3
    );
}
