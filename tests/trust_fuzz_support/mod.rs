//! The importer fuzz harness: inputs (a corpus of real exports and mutations of them), and one
//! checked import per case — no panic, no hang, a report saying what is wrong and where, no
//! personal data in it, and a consistent database afterwards.
#![allow(dead_code)] // the short and the long fuzz tests use different parts

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use rollcall::Clock;
use rollcall::import::{DateOrder, ImportOptions, ImportReport, import_file};
use rollcall::storage::sql::Connection;
use rollcall::storage::{OpenMode, Store};
use sha2::{Digest, Sha256};

use crate::trust_support::{BYSTANDER, TARGET, civicrm_sample, clock, personal_strings};

// ------------------------------------------------------------------ corpus

pub struct Corpus {
    /// (name, bytes) of every seed file.
    pub files: Vec<(String, Vec<u8>)>,
    /// Values of name/email/phone/address columns in the seed files: never allowed in a report.
    pub personal: Vec<String>,
}

/// The seed files: the inline sample, the import fixtures in the repository, and exports from
/// `rollcall generate` when it exists.
pub fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut files = vec![("inline-civicrm.csv".to_owned(), civicrm_sample())];
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for dir in ["tests/fixtures", "assets/samples", "assets"] {
            collect_csv(&root.join(dir), &mut files);
        }
        for format in ["civicrm", "nationbuilder"] {
            if let Some(bytes) = generated(format) {
                files.push((format!("generated-{format}.csv"), bytes));
            }
        }
        let mut personal: Vec<String> = personal_strings(&TARGET)
            .into_iter()
            .chain(personal_strings(&BYSTANDER))
            .map(str::to_owned)
            .collect();
        for (_, bytes) in &files {
            personal.extend(personal_values(bytes));
        }
        // A value that is part of a seed file's header line ("Individual", a membership type
        // in one file, is in CiviCRM's "Individual Prefix") is a column name an error may quote.
        let header_lines: Vec<String> = files
            .iter()
            .map(|(_, bytes)| {
                let text = String::from_utf8_lossy(bytes);
                text.lines().next().unwrap_or("").to_lowercase()
            })
            .collect();
        personal.retain(|p| {
            let p = p.to_lowercase();
            !header_lines.iter().any(|h| h.contains(&p))
        });
        personal.sort();
        personal.dedup();
        Corpus { files, personal }
    })
}

fn collect_csv(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        // Reproducers of earlier findings are replayed by their own tests.
        if path.ends_with("fuzz-found") {
            continue;
        }
        if path.is_dir() {
            collect_csv(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv") || e.eq_ignore_ascii_case("tsv"))
        {
            let name = path
                .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .unwrap_or(&path);
            out.push((name.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
}

fn generated(format: &str) -> Option<Vec<u8>> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .args([
            "--today",
            "2026-03-02",
            "generate",
            "--members",
            "40",
            "--seed",
            "7",
        ])
        .args(["--format", format])
        .output()
        .ok()?;
    (out.status.success() && !out.stdout.is_empty()).then_some(out.stdout)
}

/// The values of columns that hold names, emails, phones and addresses, as far as a lenient
/// reading of the file can tell.
fn personal_values(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
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
        [
            "name", "email", "phone", "street", "address", "postal", "zip", "city",
        ]
        .iter()
        .any(|k| h.contains(k))
            && !h.contains("type")
            && !h.contains("party")
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
            if let Some(v) = record.get(i) {
                let v = v.trim();
                // Short values ("Jo", "Bath") would match ordinary words in a message.
                if v.chars().count() >= 6 {
                    values.push(v.to_owned());
                }
            }
        }
    }
    values
}

// ------------------------------------------------------------------ mutations

#[derive(Debug, Clone)]
pub enum Mutation {
    Truncate(f64),
    FlipByte {
        at: f64,
        xor: u8,
    },
    Insert {
        at: f64,
        bytes: Vec<u8>,
    },
    Delete {
        at: f64,
        len: usize,
    },
    /// The first line again, somewhere in the middle.
    RepeatHeader(f64),
    /// A lone quote: often an unterminated quoted field.
    Quote(f64),
    /// One line of the file repeated many times.
    RepeatLine {
        line: f64,
        times: usize,
    },
    Reencode(Encoding),
    /// Every comma becomes this byte.
    Delimiter(u8),
    /// A line ending replaced throughout.
    LineEnds(&'static [u8]),
    /// A field made very long.
    Widen {
        at: f64,
        len: usize,
    },
}

#[derive(Debug, Clone, Copy)]
pub enum Encoding {
    Utf16Le,
    Utf16BeNoBom,
    Windows1252,
    Latin1Lossy,
    StripBom,
    DoubleBom,
    NulAfterEach,
}

fn at(len: usize, frac: f64) -> usize {
    ((len as f64) * frac).floor().min(len as f64) as usize
}

impl Mutation {
    pub fn apply(&self, bytes: &mut Vec<u8>) {
        let len = bytes.len();
        match self {
            Mutation::Truncate(f) => bytes.truncate(at(len, *f)),
            Mutation::FlipByte { at: f, xor } => {
                if len > 0 {
                    let i = at(len - 1, *f);
                    bytes[i] ^= xor;
                }
            }
            Mutation::Insert { at: f, bytes: b } => {
                let i = at(len, *f);
                bytes.splice(i..i, b.iter().copied());
            }
            Mutation::Delete { at: f, len: n } => {
                let i = at(len, *f);
                let end = (i + n).min(len);
                bytes.drain(i..end);
            }
            Mutation::RepeatHeader(f) => {
                let header_end = bytes
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(len, |i| i + 1);
                let header: Vec<u8> = bytes[..header_end].to_vec();
                let i = line_start(bytes, at(len, *f));
                bytes.splice(i..i, header);
            }
            Mutation::Quote(f) => {
                let i = at(len, *f);
                bytes.insert(i, b'"');
            }
            Mutation::RepeatLine { line, times } => {
                let starts = line_starts(bytes);
                let n = at(starts.len().saturating_sub(1), *line);
                let (s, e) = (starts[n], starts.get(n + 1).copied().unwrap_or(len));
                let one = bytes[s..e].to_vec();
                let mut repeated = Vec::with_capacity(one.len() * times);
                for _ in 0..*times {
                    repeated.extend_from_slice(&one);
                }
                bytes.splice(e..e, repeated);
            }
            Mutation::Reencode(enc) => *bytes = reencode(bytes, *enc),
            Mutation::Delimiter(d) => {
                for b in bytes.iter_mut().filter(|b| **b == b',') {
                    *b = *d;
                }
            }
            Mutation::LineEnds(with) => {
                let text = std::mem::take(bytes);
                let mut out = Vec::with_capacity(text.len());
                let mut i = 0;
                while i < text.len() {
                    if text[i..].starts_with(b"\r\n") {
                        out.extend_from_slice(with);
                        i += 2;
                    } else if text[i] == b'\n' {
                        out.extend_from_slice(with);
                        i += 1;
                    } else {
                        out.push(text[i]);
                        i += 1;
                    }
                }
                *bytes = out;
            }
            Mutation::Widen { at: f, len: n } => {
                let i = at(len, *f);
                bytes.splice(i..i, std::iter::repeat_n(b'x', *n));
            }
        }
    }
}

fn line_starts(bytes: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .filter(|&i| i <= bytes.len())
        .collect()
}

fn line_start(bytes: &[u8], i: usize) -> usize {
    bytes[..i]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1)
}

fn reencode(bytes: &[u8], enc: Encoding) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    match enc {
        Encoding::Utf16Le => {
            let mut out = vec![0xFF, 0xFE];
            out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            out
        }
        Encoding::Utf16BeNoBom => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        Encoding::Windows1252 => encoding_rs::WINDOWS_1252.encode(&text).0.into_owned(),
        Encoding::Latin1Lossy => text
            .chars()
            .map(|c| if (c as u32) < 256 { c as u8 } else { b'?' })
            .collect(),
        Encoding::StripBom => bytes
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(bytes)
            .to_vec(),
        Encoding::DoubleBom => [b"\xEF\xBB\xBF".as_slice(), bytes].concat(),
        Encoding::NulAfterEach => bytes.iter().flat_map(|&b| [b, 0]).collect(),
    }
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    let frac = 0.0..1.0f64;
    prop_oneof![
        3 => frac.clone().prop_map(Mutation::Truncate),
        4 => (frac.clone(), 1..=255u8).prop_map(|(at, xor)| Mutation::FlipByte { at, xor }),
        2 => (frac.clone(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        2 => (frac.clone(), prop_oneof![
                prop::sample::select(vec![b"\"".to_vec(), b",".to_vec(), b"\r\n".to_vec(),
                    b"\n".to_vec(), b";".to_vec(), b"\t".to_vec(), b"\"\"".to_vec(),
                    b"\xEF\xBB\xBF".to_vec(), b"\0".to_vec(), b"\xFF\xFE".to_vec(),
                    b"=cmd|' /C calc'!A0".to_vec(), b"31/02/2026".to_vec(),
                    b"2026-13-45".to_vec(), b"99999999999999999999999".to_vec(),
                    b"-1".to_vec(), b"\xC3".to_vec(), b"\xE2\x80".to_vec()]),
            ]).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        2 => (frac.clone(), 1..200usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        2 => frac.clone().prop_map(Mutation::RepeatHeader),
        2 => frac.clone().prop_map(Mutation::Quote),
        1 => (frac.clone(), 2..300usize).prop_map(|(line, times)| Mutation::RepeatLine { line, times }),
        2 => prop::sample::select(vec![Encoding::Utf16Le, Encoding::Utf16BeNoBom,
                Encoding::Windows1252, Encoding::Latin1Lossy, Encoding::StripBom,
                Encoding::DoubleBom, Encoding::NulAfterEach]).prop_map(Mutation::Reencode),
        1 => prop::sample::select(vec![b';', b'\t', b'|', b'"', b'\n', 0u8])
            .prop_map(Mutation::Delimiter),
        1 => prop::sample::select(vec![b"\r".as_slice(), b"\n", b"\r\n", b"\n\r", b""])
            .prop_map(Mutation::LineEnds),
        1 => (frac, 1_000..200_000usize).prop_map(|(at, len)| Mutation::Widen { at, len }),
    ]
}

/// A seed file from the corpus with a few mutations applied.
pub fn mutated_input() -> impl Strategy<Value = (String, Vec<u8>)> {
    let n = corpus().files.len();
    (0..n, prop::collection::vec(mutation(), 1..5)).prop_map(|(i, mutations)| {
        let (name, bytes) = &corpus().files[i];
        let mut bytes = bytes.clone();
        for m in &mutations {
            m.apply(&mut bytes);
        }
        (format!("{name} {mutations:?}"), bytes)
    })
}

pub fn random_input() -> impl Strategy<Value = (String, Vec<u8>)> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..4096),
        // Random text from CSV's own alphabet finds more parser states than random bytes.
        prop::collection::vec(prop::sample::select(b"ab1 ,;\t\"\r\n-/:".to_vec()), 0..4096),
    ]
    .prop_map(|bytes| ("random bytes".to_owned(), bytes))
}

pub fn options() -> impl Strategy<Value = ImportOptions> {
    (
        prop::sample::select(vec!["auto", "civicrm", "nationbuilder", "actionnetwork"]),
        prop::option::of(prop::sample::select(vec![DateOrder::Dmy, DateOrder::Mdy])),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(profile, date_order, dry_run, strict, partial)| ImportOptions {
                profile: profile.to_owned(),
                date_order,
                dry_run,
                strict,
                partial,
                ..ImportOptions::default()
            },
        )
}

// ------------------------------------------------------------------ the checked import

/// What went wrong in one case, with where its input was saved.
#[derive(Debug)]
pub struct Finding {
    pub kind: &'static str,
    pub detail: String,
    pub saved: PathBuf,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} (input saved as {})",
            self.kind,
            self.detail,
            self.saved.display()
        )
    }
}

/// Findings already reported to the importer's owner, each with a reproducer in
/// `tests/fixtures/fuzz-found/` and a test named `found_*` in `tests/trust_fuzz.rs`, ignored while
/// the finding stands. While they stand, the fuzz counts them (and still checks the database after
/// them) instead of failing; delete the entry once the importer is fixed and the test passes.
/// Each entry: (text in the panic message / error message / inconsistency, the finding). The
/// findings of every run so far are fixed (see the README there).
const KNOWN_PANICS: &[(&str, &str)] = &[];
/// (kind of problem with a refusal's message, text in the message, the finding).
const KNOWN_LEAKS: &[(&str, &str, &str)] = &[];
const KNOWN_INCONSISTENCIES: &[(&str, &str)] = &[];

fn known_panic(message: &str) -> Option<&'static str> {
    KNOWN_PANICS
        .iter()
        .find(|(m, _)| message.contains(m))
        .map(|(_, issue)| *issue)
}

fn known_leak(kind: &str, message: &str) -> Option<&'static str> {
    KNOWN_LEAKS
        .iter()
        .find(|(k, m, _)| *k == kind && message.contains(m))
        .map(|(_, _, issue)| *issue)
}

fn known_inconsistency(detail: &str) -> Option<&'static str> {
    KNOWN_INCONSISTENCIES
        .iter()
        .find(|(d, _)| detail.contains(d))
        .map(|(_, issue)| *issue)
}

#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Cases that hit a known finding, by finding.
    pub known: BTreeMap<&'static str, u64>,
    pub cases: u64,
    pub refused: u64,
    pub imported: u64,
    pub with_rejected_rows: u64,
    pub slowest: Duration,
    /// The size of the slowest case's input, to tell a big input from a slow path.
    pub slowest_bytes: usize,
    /// Cases that went over the time limit but took next to no time when replayed on a fresh
    /// database: the machine stalled (another process's disk or CPU load), not the import.
    pub stalls: u64,
    pub longest_stall: Duration,
}

impl Tally {
    fn count_known(&mut self, issue: &'static str) {
        *self.known.entry(issue).or_default() += 1;
    }
}

/// One database that inputs are imported into, one after another.
pub struct Harness {
    /// Count known findings instead of failing on them (the fuzz runs); the tests that replay
    /// a known finding's reproducer turn this off, so they fail until it is fixed.
    pub tolerate_known: bool,
    dir: tempfile::TempDir,
    db: PathBuf,
    store: Option<Store>,
    clock: Clock,
    pub limit: Duration,
    pub tally: Tally,
    since_reset: u64,
}

/// Start each database from the sample imported once, so mutated files also exercise sync
/// against existing contacts.
const RESET_EVERY: u64 = 40;

impl Harness {
    pub fn new(limit: Duration) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("fuzz.db");
        quiet_panics_in_import_threads();
        let mut h = Harness {
            tolerate_known: true,
            dir,
            db,
            store: None,
            clock: clock(),
            limit,
            tally: Tally::default(),
            since_reset: 0,
        };
        h.reset();
        h
    }

    fn reset(&mut self) {
        self.store = None;
        for suffix in ["", "-wal", "-shm"] {
            let mut name = self.db.as_os_str().to_owned();
            name.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(name));
        }
        let mut store = Store::open(&self.db, OpenMode::ReadWrite).unwrap();
        let sample = self.dir.path().join("sample.csv");
        std::fs::write(&sample, civicrm_sample()).unwrap();
        // Without a working importer this fails, and cases start from an empty database.
        let _ = import_file(
            &mut store,
            &self.clock,
            &sample,
            &ImportOptions::default(),
            &mut |_| {},
            &AtomicBool::new(false),
        );
        self.store = Some(store);
        self.since_reset = 0;
    }

    /// Imports `bytes` and checks everything a user relies on. `label` says where the input came
    /// from (for the finding).
    pub fn check(
        &mut self,
        label: &str,
        bytes: &[u8],
        options: &ImportOptions,
    ) -> Result<(), Finding> {
        if self.since_reset >= RESET_EVERY {
            self.reset();
        }
        self.since_reset += 1;
        self.tally.cases += 1;
        let input = self.dir.path().join("export.csv");
        std::fs::write(&input, bytes).unwrap();
        let store = self.store.take().expect("store is back after each case");
        let before = dump(&store.conn);

        let (result, elapsed) = match run_with_watchdog(
            store,
            self.clock.clone(),
            &input,
            options,
            self.limit,
            HANG_AFTER_LIMITS,
        ) {
            Ok((store, result, elapsed)) => {
                self.store = Some(store);
                (result, elapsed)
            }
            Err(("panic", message)) => {
                return self.after_panic(message, before, label, bytes, options);
            }
            Err((kind, detail)) => {
                // The store is stuck in the thread: start again for the next case.
                let finding = self.finding(kind, detail, label, bytes, options);
                self.reset();
                return Err(finding);
            }
        };
        if elapsed > self.limit {
            match replay_time(bytes, options, self.limit) {
                Some(again) if again * STALL_RATIO <= self.limit => {
                    self.tally.stalls += 1;
                    self.tally.longest_stall = self.tally.longest_stall.max(elapsed);
                }
                again => {
                    let again = again.map_or("over the limit again".into(), |t| format!("{t:?}"));
                    let detail = format!(
                        "import took {elapsed:?}, over the {:?} limit; replayed on a fresh \
                         database: {again}",
                        self.limit
                    );
                    return Err(self.finding("slow import", detail, label, bytes, options));
                }
            }
        } else if elapsed > self.tally.slowest {
            self.tally.slowest = elapsed;
            self.tally.slowest_bytes = bytes.len();
        }
        let conn = &self.store.as_ref().unwrap().conn;
        if let Err(detail) = consistent(conn) {
            if let Some(issue) = known_inconsistency(&detail).filter(|_| self.tolerate_known) {
                self.tally.count_known(issue);
                // Start clean, so that the stray row does not mark every later case.
                self.reset();
                return Ok(());
            }
            return Err(self.finding("inconsistent database", detail, label, bytes, options));
        }
        let after = dump(conn);
        let problem = match &result {
            Err(message) => {
                self.tally.refused += 1;
                let problem = check_refusal(message, &before, &after);
                let known = problem.as_ref().and_then(|p| known_leak(p.0, message));
                if let Some(issue) = known.filter(|_| self.tolerate_known) {
                    self.tally.count_known(issue);
                    return Ok(());
                }
                problem
            }
            Ok(report) => {
                self.tally.imported += 1;
                if report.rejected > 0 {
                    self.tally.with_rejected_rows += 1;
                }
                check_report(report, options, bytes, &before, &after)
            }
        };
        match problem {
            None => Ok(()),
            Some((kind, detail)) => Err(self.finding(kind, detail, label, bytes, options)),
        }
    }

    /// A panic took the connection down with the thread, which rolls its transaction back: the
    /// file must hold what it held before. A known panic (already reported) then passes.
    fn after_panic(
        &mut self,
        message: String,
        before: Dump,
        label: &str,
        bytes: &[u8],
        options: &ImportOptions,
    ) -> Result<(), Finding> {
        let store = Store::open(&self.db, OpenMode::ReadWrite).unwrap();
        let damage = match consistent(&store.conn) {
            Err(detail) => Some(detail),
            Ok(()) => {
                let changed = changed_tables(&before, &dump(&store.conn));
                (!changed.is_empty()).then(|| format!("changed {changed:?}"))
            }
        };
        self.store = Some(store);
        if let Some(damage) = damage {
            let detail = format!("{message}; and the panic left the database changed: {damage}");
            return Err(self.finding("panic", detail, label, bytes, options));
        }
        let messages = take_import_panics().join("; ");
        if let Some(issue) = known_panic(&messages).filter(|_| self.tolerate_known) {
            self.tally.count_known(issue);
            return Ok(());
        }
        Err(self.finding(
            "panic",
            format!("{message}: {messages}"),
            label,
            bytes,
            options,
        ))
    }

    fn finding(
        &self,
        kind: &'static str,
        detail: String,
        label: &str,
        bytes: &[u8],
        options: &ImportOptions,
    ) -> Finding {
        let hash: String = Sha256::digest(bytes)
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-found");
        std::fs::create_dir_all(&dir).unwrap();
        let saved = dir.join(format!("{}-{hash}.csv", kind.replace(' ', "-")));
        std::fs::write(&saved, bytes).unwrap();
        std::fs::write(
            saved.with_extension("txt"),
            format!("{kind}\n{detail}\nfrom: {label}\noptions: {options:?}\n"),
        )
        .unwrap();
        Finding {
            kind,
            detail,
            saved,
        }
    }
}

type Outcome = (Store, Result<ImportReport, String>, Duration);

/// An import over the limit is waited for until this many times the limit before it counts as a
/// hang (one that never ends).
const HANG_AFTER_LIMITS: u32 = 4;
/// An import over the limit whose replay takes at most this fraction of the limit was held up
/// by the machine, not by its input.
const STALL_RATIO: u32 = 10;

/// How long importing `bytes` takes on a fresh database (None: over the limit again).
fn replay_time(bytes: &[u8], options: &ImportOptions, limit: Duration) -> Option<Duration> {
    let mut fresh = Harness::new(limit);
    let input = fresh.dir.path().join("export.csv");
    std::fs::write(&input, bytes).unwrap();
    let store = fresh.store.take().expect("a fresh store");
    match run_with_watchdog(store, fresh.clock.clone(), &input, options, limit, 1) {
        Ok((_, _, elapsed)) if elapsed <= limit => Some(elapsed),
        _ => None,
    }
}

const IMPORT_THREAD: &str = "import-under-fuzz";

/// A panic in an import under test is caught and reported as a finding; printing each one
/// (with a backtrace) would bury the run's output. The importer's own worker threads are
/// unnamed, and a panic there reaches the import thread only as "a scoped thread panicked", so
/// their messages are kept here to tell known panics from new ones. Panics in named threads
/// (the tests themselves) print as usual.
static IMPORT_PANICS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn quiet_panics_in_import_threads() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let name = std::thread::current().name().map(str::to_owned);
            if name.is_some() && name.as_deref() != Some(IMPORT_THREAD) {
                default(info);
                return;
            }
            let message = info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| {
                    info.payload()
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                })
                .unwrap_or_default();
            let at = info.location().map(|l| l.to_string()).unwrap_or_default();
            IMPORT_PANICS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(format!("{message} (at {at})"));
        }));
    });
}

/// Every panic message from import threads since the last call.
fn take_import_panics() -> Vec<String> {
    std::mem::take(&mut *IMPORT_PANICS.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Runs the import on its own thread; a panic, or an import that outlives `limit` times
/// `limits`, is a finding. (An import over `limit` that ends before that is returned, for the
/// caller to tell a slow input from a stalled machine.)
fn run_with_watchdog(
    mut store: Store,
    clock: Clock,
    input: &Path,
    options: &ImportOptions,
    limit: Duration,
    limits: u32,
) -> Result<Outcome, (&'static str, String)> {
    let limit = limit * limits;
    let (tx, rx) = mpsc::channel();
    let (input, options) = (input.to_owned(), options.clone());
    take_import_panics();
    let worker = std::thread::Builder::new()
        .name(IMPORT_THREAD.into())
        .spawn(move || {
            let started = Instant::now();
            let result = import_file(
                &mut store,
                &clock,
                &input,
                &options,
                &mut |_| {},
                &AtomicBool::new(false),
            )
            .map_err(|e| format!("{e:#}"));
            let _ = tx.send((store, result, started.elapsed()));
        })
        .unwrap();
    match rx.recv_timeout(limit) {
        Ok(outcome) => {
            worker.join().unwrap();
            Ok(outcome)
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            Err(("hang", format!("import still running after {limit:?}")))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let payload = worker.join().expect_err("the worker died without a reply");
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            Err(("panic", message))
        }
    }
}

/// Integrity, foreign keys, and no row that is only half there.
pub fn consistent(conn: &Connection) -> Result<(), String> {
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if integrity != "ok" {
        return Err(format!("integrity_check: {integrity}"));
    }
    let fk: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .map_err(|e| e.to_string())?;
    if fk != 0 {
        return Err(format!("{fk} rows break a foreign key"));
    }
    for (what, sql) in [
        (
            "an empty CRM id",
            "SELECT count(*) FROM contacts WHERE trim(crm_id) = ''",
        ),
        (
            "a header as their CRM id (a repeated header imported as a member)",
            "SELECT count(*) FROM contacts WHERE crm_id IN
               ('Contact ID', 'contact_id', 'nationbuilder_id', 'uuid', 'id', 'ID')",
        ),
    ] {
        let n: i64 = conn
            .query_row(sql, [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        if n != 0 {
            return Err(format!("{n} contacts with {what}"));
        }
    }
    Ok(())
}

type Dump = BTreeMap<String, Vec<Vec<String>>>;

pub fn dump(conn: &Connection) -> Dump {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Dump::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();

        let mut rows: Vec<Vec<String>> = stmt
            .query_map([], |r| {
                (0..r.column_count())
                    .map(|i| Ok(format!("{:?}", r.get_ref(i)?)))
                    .collect()
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

fn leaked(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    corpus()
        .personal
        .iter()
        .find(|p| lower.contains(&p.to_lowercase()))
        .map(String::as_str)
}

/// An error a person can read: longer than this is a wall of text (and usually a sign that
/// the file's contents are being echoed).
const MAX_MESSAGE: usize = 16 * 1024;

fn check_refusal(message: &str, before: &Dump, after: &Dump) -> Option<(&'static str, String)> {
    let changed = changed_tables(before, after);
    if !changed.is_empty() {
        return Some((
            "failed import changed the database",
            format!("changed {changed:?}; error: {message}"),
        ));
    }
    if message.trim().is_empty() {
        return Some(("silent refusal", "the error message is empty".into()));
    }
    if message.len() > MAX_MESSAGE {
        let start: String = message.chars().take(300).collect();
        return Some((
            "error message too long",
            format!("{} bytes, starting: {start}", message.len()),
        ));
    }
    if let Some(p) = leaked(message) {
        return Some(("personal data in error", format!("`{p}` in: {message}")));
    }
    None
}

fn check_report(
    report: &ImportReport,
    options: &ImportOptions,
    bytes: &[u8],
    before: &Dump,
    after: &Dump,
) -> Option<(&'static str, String)> {
    let changed = changed_tables(before, after);
    if options.dry_run && !changed.is_empty() {
        return Some(("dry run wrote", format!("changed {changed:?}")));
    }
    let crm_changed: Vec<&String> = changed
        .iter()
        .filter(|t| !matches!(t.as_str(), "import_runs" | "import_rejects"))
        .collect();
    if options.strict && report.rejected > 0 && !crm_changed.is_empty() {
        return Some((
            "strict import wrote despite rejected rows",
            format!("{} rejected; changed {crm_changed:?}", report.rejected),
        ));
    }
    if !options.dry_run {
        let grew = |t: &str| after[t].len() as i64 - before[t].len() as i64;
        let (contacts, memberships) = (grew("contacts"), grew("memberships"));
        if contacts != report.contacts.inserted as i64
            || memberships != report.memberships.inserted as i64
        {
            return Some((
                "report counts disagree with the database",
                format!(
                    "contacts +{contacts} (report {}), memberships +{memberships} (report {})",
                    report.contacts.inserted, report.memberships.inserted
                ),
            ));
        }
    }
    if (report.errors.len() as u64) > report.rejected {
        return Some((
            "report counts disagree",
            format!(
                "{} errors listed, {} rejected",
                report.errors.len(),
                report.rejected
            ),
        ));
    }
    let lines = bytes.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64 + 1;
    for e in &report.errors {
        if e.line == 0 || e.line > lines {
            return Some((
                "rejected row without a real line",
                format!("line {} of a {lines}-line file: {}", e.line, e.reason),
            ));
        }
        if e.reason.trim().is_empty() {
            return Some(("rejected row without a reason", format!("line {}", e.line)));
        }
        if let Some(p) = leaked(&e.reason) {
            return Some((
                "personal data in a rejected-row reason",
                format!("`{p}` in line {}: {}", e.line, e.reason),
            ));
        }
    }
    None
}

/// The per-case time limit: generous, because a debug build on a busy machine is slow, and a
/// hang is what it catches, not slowness.
pub fn case_limit() -> Duration {
    Duration::from_secs(
        std::env::var("FUZZ_CASE_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(20),
    )
}
