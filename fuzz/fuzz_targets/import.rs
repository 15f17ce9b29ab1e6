//! The import pipeline under coverage-guided fuzzing: bytes as an export file → encoding and
//! delimiter detection → decoding → rows → sync into a store. The first byte of an input picks
//! the options (see [`Case::from_byte`]); the rest is the file.
//!
//! Checked for every input, as `tests/trust_fuzz.rs` checks its proptest cases: no panic; the
//! database passes `integrity_check` and the foreign-key check and holds no contact without a
//! CRM id or with a header as its id; a refused file (and a dry run) changes nothing; `--strict`
//! with a rejected row writes no CRM data; the report's counts are the database's; every
//! rejected row names a real line and a reason; and no error or reason quotes a member's
//! details. A broken invariant panics, which libFuzzer records as a crash.
#![no_main]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use rollcall::Clock;
use rollcall::import::{DateOrder, ImportOptions, ImportReport, import_file};
use rollcall::storage::Store;
use rusqlite::Connection;

fuzz_target!(|data: &[u8]| {
    let Some((&options_byte, file)) = data.split_first() else {
        return;
    };
    check(&Case::from_byte(options_byte), file);
});

/// The seed exports, built in: they give the store a history to sync against, and their
/// members' details are what no message may quote.
const FIXTURES: [&[u8]; 7] = [
    include_bytes!("../../tests/fixtures/civicrm_small.csv"),
    include_bytes!("../../tests/fixtures/civicrm_later.csv"),
    include_bytes!("../../tests/fixtures/civicrm_small_excel.csv"),
    include_bytes!("../../tests/fixtures/civicrm_broken.csv"),
    include_bytes!("../../tests/fixtures/nationbuilder.csv"),
    include_bytes!("../../tests/fixtures/actionnetwork.csv"),
    include_bytes!("../../tests/fixtures/example_crm.csv"),
];
const MAPPING: &[u8] = include_bytes!("../../assets/mappings/example.toml");

struct Case {
    options: ImportOptions,
    /// Import into a database that already holds `civicrm_small.csv`, so that sync updates,
    /// flags missing memberships and records events, rather than only inserting.
    onto_existing: bool,
}

impl Case {
    /// Bits 0–2: the profile (auto, civicrm, nationbuilder, actionnetwork, the example mapping
    /// file; auto again for 5–7). Bit 3: dry run. Bit 4: strict. Bit 5: partial. Bits 6–7: no
    /// date order given, day-first, month-first, or no order given and onto an existing
    /// database.
    fn from_byte(b: u8) -> Case {
        let profile = match b & 0b111 {
            1 => "civicrm".to_owned(),
            2 => "nationbuilder".to_owned(),
            3 => "actionnetwork".to_owned(),
            4 => workdir().mapping.display().to_string(),
            _ => "auto".to_owned(),
        };
        let date_order = match b >> 6 {
            1 => Some(DateOrder::Dmy),
            2 => Some(DateOrder::Mdy),
            _ => None,
        };
        Case {
            options: ImportOptions {
                profile,
                date_order,
                dry_run: b & 0b1000 != 0,
                strict: b & 0b1_0000 != 0,
                partial: b & 0b10_0000 != 0,
                ..ImportOptions::default()
            },
            onto_existing: b >> 6 == 3,
        }
    }
}

struct Workdir {
    export: PathBuf,
    mapping: PathBuf,
    existing: PathBuf,
}

/// Files live in a directory of this process's own: libFuzzer's `-jobs` runs several.
fn workdir() -> &'static Workdir {
    static DIR: OnceLock<Workdir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("rollcall-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let w = Workdir {
            export: dir.join("export.csv"),
            mapping: dir.join("example.toml"),
            existing: dir.join("existing.csv"),
        };
        std::fs::write(&w.mapping, MAPPING).unwrap();
        std::fs::write(&w.existing, FIXTURES[0]).unwrap();
        w
    })
}

fn clock() -> Clock {
    Clock::fixed(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(), "fuzz")
}

fn import(store: &mut Store, path: &Path, options: &ImportOptions) -> Result<ImportReport, String> {
    import_file(
        store,
        &clock(),
        path,
        options,
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .map_err(|e| format!("{e:#}"))
}

fn check(case: &Case, file: &[u8]) {
    let w = workdir();
    std::fs::write(&w.export, file).unwrap();
    let mut store = Store::open_in_memory().unwrap();
    if case.onto_existing {
        import(&mut store, &w.existing, &ImportOptions::default())
            .expect("the seed fixture imports");
    }
    let before = dump(
        store
            .conn
            .sqlite()
            .expect("the fuzz store is an SQLite file"),
    );
    let result = import(&mut store, &w.export, &case.options);
    if let Err(detail) = consistent(
        store
            .conn
            .sqlite()
            .expect("the fuzz store is an SQLite file"),
    ) {
        panic!("inconsistent database after import: {detail}");
    }
    let after = dump(
        store
            .conn
            .sqlite()
            .expect("the fuzz store is an SQLite file"),
    );
    let personal = Personal::of(file);
    match result {
        Err(message) => {
            let changed = changed_tables(&before, &after);
            assert!(changed.is_empty(), "a refused import changed {changed:?}");
            assert!(!message.trim().is_empty(), "a refusal without a message");
            // A wall of text is a sign the file is being echoed.
            assert!(message.len() <= 16 * 1024, "a {}-byte error", message.len());
            personal.assert_absent("the error", &message, &w.export);
        }
        Ok(report) => check_report(&report, case, file, &before, &after, &personal),
    }
}

fn check_report(
    report: &ImportReport,
    case: &Case,
    file: &[u8],
    before: &Dump,
    after: &Dump,
    personal: &Personal,
) {
    let options = &case.options;
    let changed = changed_tables(before, after);
    if options.dry_run {
        assert!(changed.is_empty(), "a dry run changed {changed:?}");
    } else {
        let grew = |t: &str| after[t].len() as i64 - before[t].len() as i64;
        assert_eq!(
            grew("contacts"),
            report.contacts.inserted as i64,
            "contacts added vs the report"
        );
        assert_eq!(
            grew("memberships"),
            report.memberships.inserted as i64,
            "memberships added vs the report"
        );
    }
    if options.strict && report.rejected > 0 {
        let crm: Vec<&String> = changed
            .iter()
            .filter(|t| !matches!(t.as_str(), "import_runs" | "import_rejects"))
            .collect();
        assert!(
            crm.is_empty(),
            "--strict with rejected rows changed {crm:?}"
        );
    }
    assert!(
        report.errors.len() as u64 <= report.rejected,
        "{} errors listed, {} rejected",
        report.errors.len(),
        report.rejected
    );
    let lines = file.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64 + 1;
    for e in &report.errors {
        assert!(
            (1..=lines).contains(&e.line),
            "rejected row at line {} of a {lines}-line file",
            e.line
        );
        assert!(!e.reason.trim().is_empty(), "line {}: no reason", e.line);
        personal.assert_absent("a rejected row's reason", &e.reason, &workdir().export);
    }
    if let Some(why) = &report.missing_check_skipped {
        personal.assert_absent("the missing-check note", why, &workdir().export);
    }
}

// ------------------------------------------------------------------ the database

/// Integrity, foreign keys, and no contact that is only half there (the same checks as
/// `consistent` in tests/trust_fuzz_support).
fn consistent(conn: &Connection) -> Result<(), String> {
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if integrity != "ok" {
        return Err(format!("integrity_check: {integrity}"));
    }
    for (what, sql) in [
        (
            "rows breaking a foreign key",
            "SELECT count(*) FROM pragma_foreign_key_check",
        ),
        (
            "contacts with an empty CRM id",
            "SELECT count(*) FROM contacts WHERE trim(crm_id) = ''",
        ),
        (
            "contacts with a header as their CRM id",
            "SELECT count(*) FROM contacts WHERE crm_id IN
               ('Contact ID', 'contact_id', 'nationbuilder_id', 'uuid', 'id', 'ID',
                'Supporter No')",
        ),
    ] {
        let n: i64 = conn
            .query_row(sql, [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        if n != 0 {
            return Err(format!("{n} {what}"));
        }
    }
    Ok(())
}

type Dump = BTreeMap<String, Vec<Vec<String>>>;

fn dump(conn: &Connection) -> Dump {
    let mut tables = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap();
    let tables: Vec<String> = tables
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Dump::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let n = stmt.column_count();
        let mut rows: Vec<Vec<String>> = stmt
            .query_map([], |r| {
                (0..n).map(|i| Ok(format!("{:?}", r.get_ref(i)?))).collect()
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.sort();
        out.insert(table, rows);
    }
    out
}

fn changed_tables(before: &Dump, after: &Dump) -> Vec<String> {
    after
        .iter()
        .filter(|(t, rows)| before.get(*t) != Some(rows))
        .map(|(t, _)| t.clone())
        .collect()
}

// ------------------------------------------------------------------ personal data

/// Members' details that no message may quote: those of the seed fixtures, and the
/// input's own email addresses (see [`Personal::of`]).
struct Personal {
    values: Vec<String>,
}

impl Personal {
    fn of(file: &[u8]) -> Personal {
        static SEEDS: OnceLock<Vec<String>> = OnceLock::new();
        let seeds = SEEDS.get_or_init(|| {
            let headers: Vec<String> = FIXTURES.iter().map(|f| first_line(f)).collect();
            let mut values: Vec<String> = FIXTURES
                .iter()
                .flat_map(|f| values_of(f))
                .map(|v| v.to_lowercase())
                .collect();
            // A value inside a header line ("Individual" in "Individual Prefix") is a column
            // name, which an error may quote.
            values.retain(|v| !headers.iter().any(|h| h.contains(v)));
            values.sort();
            values.dedup();
            values
        });
        // Of the input's own values, only email addresses: libFuzzer learns the strings this
        // check compares with (a message's wording) and plants them in name cells, where no
        // rule can tell them from a name; no message's wording holds an address.
        let header = first_line(file);
        let own = values_of(file)
            .into_iter()
            .filter(|v| looks_like_email(v))
            .map(|v| v.to_lowercase())
            .filter(|v| !header.contains(v.as_str()));
        Personal {
            values: seeds.iter().cloned().chain(own).collect(),
        }
    }

    fn assert_absent(&self, what: &str, text: &str, path: &Path) {
        // The file's own path is named by design.
        let text = text
            .replace(&path.display().to_string(), "FILE")
            .to_lowercase();
        if let Some(v) = self.values.iter().find(|v| text.contains(v.as_str())) {
            panic!("{what} quotes a member's details `{v}`: {text}");
        }
    }
}

/// `local@domain.tld`, letters and digits around the `@` and the dot.
fn looks_like_email(v: &str) -> bool {
    let Some((local, domain)) = v.split_once('@') else {
        return false;
    };
    let Some((name, tld)) = domain.rsplit_once('.') else {
        return false;
    };
    [local, name, tld]
        .iter()
        .all(|part| part.chars().any(char::is_alphanumeric))
}

fn first_line(file: &[u8]) -> String {
    let text = String::from_utf8_lossy(file);
    text.lines().next().unwrap_or("").to_lowercase()
}

/// The values of columns that hold names, emails, phones and addresses, as far as a lenient
/// reading of the file can tell; at least six characters (shorter ones, "Jo",
/// "Bath", would match ordinary words).
fn values_of(file: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(file);
    let first = text.lines().next().unwrap_or("");
    let delimiter = [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| first.matches(*d as char).count())
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let Ok(headers) = reader.headers().cloned() else {
        return vec![];
    };
    let personal_column = |h: &str| {
        let h = h.to_lowercase();
        let kinds = [
            "name", "email", "phone", "street", "address", "postal", "zip", "city", "town",
            "surname", "forename", "mobile", "landline", "postcode",
        ];
        kinds.iter().any(|k| h.contains(k)) && !h.contains("type") && !h.contains("party")
    };
    let columns: Vec<usize> = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| personal_column(h))
        .map(|(i, _)| i)
        .collect();
    let mut values = Vec::new();
    for record in reader.records().flatten() {
        for &i in &columns {
            if let Some(v) = record.get(i).map(str::trim)
                && v.chars().count() >= 6
            {
                values.push(v.to_owned());
            }
        }
    }
    values
}
