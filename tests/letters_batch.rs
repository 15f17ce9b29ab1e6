//! The letters sequence the CLI and the app share (`export::letters::batch`), on both engines:
//! chosen from the renewals queue or from rows a list holds, left out by the rules, previewed in
//! each language, written as a new file that never replaces one, and recorded.

#[path = "support/pg_cluster.rs"]
mod pg_cluster;

#[path = "support/engines.rs"]
mod engines;

mod renewals_support;

use renewals_support::*;
use rollcall::config::{Config, LettersConfig};
use rollcall::domain::letters::{Language, LetterKind, Medium};
use rollcall::domain::renewal::{Bucket, Windows};
use rollcall::export::letters::batch::{self, Destination, Source, Writing};
use rollcall::storage::letters::Wanted;

fn pages(path: &std::path::Path) -> Vec<String> {
    pdf_extract::extract_text_from_mem_by_pages(&std::fs::read(path).unwrap()).unwrap()
}

engines::on_both_engines! {
    fn the_renewals_bucket_becomes_a_new_pdf_recorded_and_a_repeat_needs_leave(db: &TestDb) {
        let mut store = db.open();
        let sian = insert(&store.conn, &member("Siân Llŷr", "2026-12-14").welsh());
        insert(&store.conn, &member("Łukasz Ödön", "2026-12-01"));
        insert(&store.conn, &member("Dai Morgan", "2026-12-05").no_mail());
        let clock = clock("2026-11-23");
        let config = Config::default();
        let source = Source::Renewals {
            bucket: Bucket::Due,
            windows: Windows::from(&config.renewals),
            region: None,
            local_party: None,
        };
        let chosen = batch::choose(&mut store, &clock, &config, &source).unwrap();
        assert_eq!(chosen.wanted.len(), 3);
        let prepared =
            batch::prepare(&store, &clock, LetterKind::RenewalDue, Medium::Letter, chosen).unwrap();
        assert_eq!(prepared.len(), 2);
        assert_eq!(prepared.repeats, 0);
        assert_eq!(batch::left_out_text(&prepared.left_out).as_deref(), Some("1 Do Not Mail"));

        let templates = batch::templates(LetterKind::RenewalDue).unwrap();
        let letters = LettersConfig::default();
        let previews = prepared.previews(&templates, &letters);
        let languages: Vec<&[Language]> = previews.iter().map(|p| p.languages.as_slice()).collect();
        assert_eq!(
            languages,
            [&[Language::English][..], &[Language::Welsh, Language::English][..]],
            "one preview per language, in the queue's order (Łukasz ends first)"
        );
        assert!(previews[1].letter.body.starts_with("Annwyl Siân"), "{:?}", previews[1]);
        assert_eq!(previews[1].to[0], "Siân Llŷr");

        let out = db.scratch().join("letters");
        let dest = Destination::NewIn(out.clone());
        let written = batch::write(
            &mut store, &clock, &db.location(), &prepared, &Writing { templates: &templates, config: &letters, dest: &dest, repeats_allowed: false },
        )
        .unwrap();
        assert_eq!(written.path, out.join("renewal-due-letters-2026-11-23.pdf"));
        assert_eq!(written.summary.pages, Some(2));
        let text = pages(&written.path);
        assert_eq!(text.len(), 2, "a page per member");
        assert!(!text.concat().contains("Dai Morgan"), "a Do Not Mail member got a letter");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for p in [&out, &written.path] {
                let mode = std::fs::metadata(p).unwrap().permissions().mode();
                assert_eq!(mode & 0o077, 0, "{} mode {mode:o}", p.display());
            }
        }
        assert_eq!(
            count(&store.conn, "SELECT count(*) FROM contact_attempts WHERE channel = 'letter' AND note = 'renewal-due letter'"),
            2
        );

        // The same letters again today: refused unless the caller asked the officer first, and
        // then a second file beside the first, which is left as it was.
        let listed = Source::Listed(vec![Wanted { contact_id: sian.contact_id, membership_id: None }]);
        let chosen = batch::choose(&mut store, &clock, &config, &listed).unwrap();
        let again =
            batch::prepare(&store, &clock, LetterKind::RenewalDue, Medium::Letter, chosen).unwrap();
        assert_eq!((again.len(), again.repeats), (1, 1));
        let err = batch::write(
            &mut store, &clock, &db.location(), &again, &Writing { templates: &templates, config: &letters, dest: &dest, repeats_allowed: false },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("already had a renewal-due letter today"), "{err}");
        let first = std::fs::read(&written.path).unwrap();
        let second = batch::write(
            &mut store, &clock, &db.location(), &again, &Writing { templates: &templates, config: &letters, dest: &dest, repeats_allowed: true },
        )
        .unwrap();
        assert_eq!(second.path, out.join("renewal-due-letters-2026-11-23-2.pdf"));
        assert_eq!(std::fs::read(&written.path).unwrap(), first, "never replaced");
        assert_eq!(pages(&second.path).len(), 1);
        assert_eq!(count(&store.conn, "SELECT count(*) FROM contact_attempts"), 3);
    }

    fn listed_rows_leave_out_the_deceased_and_emails_go_to_a_csv(db: &TestDb) {
        let mut store = db.open();
        let a = insert(&store.conn, &member("Aled Jones", "2026-12-01"));
        let b = insert(&store.conn, &member("Bethan Hughes", "2026-12-02").deceased());
        let c = insert(&store.conn, &member("Carys Evans", "2026-12-03").no_bulk());
        let clock = clock("2026-11-23");
        let listed = Source::Listed(
            [a, b, c]
                .iter()
                .map(|t| Wanted { contact_id: t.contact_id, membership_id: Some(t.membership_id) })
                .collect(),
        );
        let chosen = batch::choose(&mut store, &clock, &Config::default(), &listed).unwrap();
        let prepared =
            batch::prepare(&store, &clock, LetterKind::Lapsed, Medium::Email, chosen).unwrap();
        assert_eq!(prepared.len(), 1);
        assert_eq!(
            batch::left_out_text(&prepared.left_out).as_deref(),
            Some("1 No Bulk Emails, 1 deceased")
        );
        let templates = batch::templates(LetterKind::Lapsed).unwrap();
        let written = batch::write(
            &mut store,
            &clock,
            &db.location(),
            &prepared, &Writing { templates: &templates, config: &LettersConfig::default(), dest: &Destination::NewIn(db.scratch()), repeats_allowed: false },
        )
        .unwrap();
        assert_eq!(written.path, db.scratch().join("lapsed-emails-2026-11-23.csv"));
        let csv = std::fs::read_to_string(&written.path).unwrap();
        assert!(csv.contains("aled.jones@example.org"), "{csv}");
        assert!(!csv.contains("bethan"), "{csv}");
        assert_eq!(count(&store.conn, "SELECT count(*) FROM contact_attempts WHERE channel = 'email'"), 1);
    }
}
