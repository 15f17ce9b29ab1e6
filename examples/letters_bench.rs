//! Times renewal letters for 10,000 members, as `rollcall letters renewal-due` makes them.
//!
//! ```sh
//! cargo run --release --example letters_bench
//! ```
//!
//! Builds a fresh database in a temporary directory with 10,000 members due to renew (one in
//! five Welsh-preferring, so bilingual; one in fifty Do Not Mail; names and streets with Welsh
//! and Polish letters), then times each stage the command runs: the queue and its order, the
//! members' details, the exclusions, rendering and laying out the PDF, writing it (owner-only,
//! renamed into place) and recording every letter as a contact attempt.

use std::time::Instant;

use chrono::{Days, NaiveDate};
use rollcall::Clock;
use rollcall::domain::letters::{self, LetterKind, Medium, Reach, Sender, address_lines};
use rollcall::domain::renewal::{self, Bucket, QueueFilter, Windows};
use rollcall::export::letters::load_templates;
use rollcall::export::letters::pdf::{LetterPdf, Letterhead, PageText};
use rollcall::export::pending_file::PendingFile;
use rollcall::storage::letters::{self as store_letters, Wanted};
use rollcall::storage::renewals::{self, Target};
use rollcall::storage::sql::params;
use rollcall::storage::{OpenMode, Store};

const MEMBERS: i64 = 10_000;
const TODAY: &str = "2026-11-23";

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("letters.db");
    let today = NaiveDate::parse_from_str(TODAY, "%Y-%m-%d")?;
    let mut store = Store::open(&db, OpenMode::ReadWrite)?;
    fill(&store, today)?;
    let clock = Clock::new(today, "bench");
    let templates = load_templates(LetterKind::RenewalDue, None)?;
    let sender = Sender {
        name: "Membership Team".into(),
        renew_link: "https://example.org/renew".into(),
    };

    let all = Instant::now();
    let t = Instant::now();
    let windows = Windows {
        due_within_days: 30,
        lapsed_within_days: 90,
    };
    let rows = renewals::queue(&store.conn, today, windows, Some(Bucket::Due))?;
    let filter = QueueFilter {
        bucket: Some(Bucket::Due),
        ..QueueFilter::default()
    };
    let arranged = renewal::arrange(&rows, &filter, today, "bench");
    let wanted: Vec<Wanted> = arranged
        .order
        .iter()
        .map(|&i| Wanted {
            contact_id: rows[i].contact_id,
            membership_id: Some(rows[i].membership_id),
        })
        .collect();
    let queue = t.elapsed();

    let t = Instant::now();
    let members = store_letters::recipients(&store.conn, &wanted)?;
    let kept: Vec<_> = members
        .iter()
        .filter(|r| {
            letters::left_out(
                Medium::Letter,
                Reach {
                    flags: &r.flags,
                    last_contact: r.last_contact.as_ref(),
                    has_postal_address: r.address.is_usable(),
                    has_email: !r.email.is_empty(),
                },
            )
            .is_none()
        })
        .collect();
    let details = t.elapsed();

    let t = Instant::now();
    let mut pdf = LetterPdf::new(Letterhead {
        sender_name: sender.name.clone(),
        sender_address: vec!["1 High Street".into(), "Cardiff".into(), "CF10 1AA".into()],
    });
    for row in &kept {
        let letter = templates.letter(&row.recipient, &sender, true);
        let address = address_lines(&row.recipient.name, &row.address);
        pdf.add(&PageText {
            address: &address,
            date: &letters::long_date(today, letters::Language::English),
            subject: &letter.subject,
            body: &letter.body,
        });
    }
    let pages = pdf.page_count();
    let bytes = pdf.finish();
    let layout = t.elapsed();

    let t = Instant::now();
    let out = dir.path().join("letters.pdf");
    let mut file = PendingFile::create(&out, &rollcall::storage::Location::File(db.clone()))?;
    file.write_all(&bytes)?;
    let targets: Vec<Target> = kept
        .iter()
        .filter_map(|r| {
            r.membership_id.map(|membership_id| Target {
                contact_id: r.contact_id,
                membership_id,
            })
        })
        .collect();
    let note = store_letters::attempt_note("renewal-due", renewal::Channel::Letter);
    store_letters::record_sent(
        &mut store,
        &clock,
        &targets,
        renewal::Channel::Letter,
        &note,
    )?;
    file.put_in_place()?;
    let write = t.elapsed();
    let total = all.elapsed();

    println!(
        "{} members due, {} letters, {pages} pages, {:.1} MB",
        wanted.len(),
        kept.len(),
        bytes.len() as f64 / 1e6
    );
    for (stage, d) in [
        ("queue and order", queue),
        ("member details and exclusions", details),
        ("render and lay out the PDF", layout),
        ("write the file and record every letter", write),
        ("total", total),
    ] {
        println!("{stage:<40} {:>8.3} s", d.as_secs_f64());
    }
    Ok(())
}

/// 10,000 members ending over the next 30 days.
fn fill(store: &Store, today: NaiveDate) -> anyhow::Result<()> {
    let tx = store.conn.unchecked_transaction()?;
    let firsts = [
        "Siân",
        "Łukasz",
        "Dafydd",
        "Ödön",
        "Gwenllïan",
        "Ann",
        "Rhodri",
        "Zoë",
    ];
    let lasts = [
        "Llŷr", "Nowak", "Jones", "Kovács", "ap Rhys", "Smith", "Ŵyn", "Evans",
    ];
    for n in 0..MEMBERS {
        let first = firsts[(n % 8) as usize];
        let last = lasts[(n / 8 % 8) as usize];
        let end = today
            .checked_add_days(Days::new((n % 30) as u64))
            .unwrap_or(today);
        tx.execute(
            "INSERT INTO contacts (source, crm_id, display_name, sort_name, first_name, last_name,
                 email, street_address, city, postcode, country, preferred_language,
                 do_not_mail, local_party, region)
             VALUES ('civicrm', ?1, ?2, ?3, ?4, ?5, ?6, ?7, 'Caerdydd', 'CF10 1AA',
                     'United Kingdom', ?8, ?9, 'Cardiff West', 'Wales')",
            params![
                (10_000 + n).to_string(),
                format!("{first} {last}"),
                format!("{last}, {first}"),
                first,
                last,
                format!("m{n}@example.org"),
                format!("{} Heol y Frenhines\nTŷ Gwyn", n % 200 + 1),
                if n % 5 == 0 { "cy_GB" } else { "en_GB" },
                n % 50 == 0,
            ],
        )?;
        let contact = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO memberships (contact_id, source, sync_key, crm_membership_id,
                 membership_type, join_date, start_date, end_date, crm_status, auto_renew)
             VALUES (?1, 'civicrm', ?2, ?2, 'Individual', '2020-01-01', '2025-12-01', ?3,
                     'Current', 0)",
            params![contact, format!("m{n}"), end.to_string()],
        )?;
    }
    tx.commit()?;
    Ok(())
}
